;;; ossl-security-tests.el --- Regression tests of issue 13's Lisp findings  -*- lexical-binding: t; -*-

;;; Commentary:

;; Issue 13: no cleartext and no unverified peer on any path.  Each
;; test stands for a finding of the adversarial review and fails
;; without its fix.  Where the question is what went out in clear, the
;; peer is a `record' peer (test/peers/tls_peer.py): a TLS echo server
;; that logs every byte it reads off the wire, also after a failed
;; handshake, as a man in the middle would see them.  Where the
;; question is natively compiled code, a child Emacs runs with natively
;; compiled callers (`ossl-test-native-libraries') and an eln load path
;; that leaves out the user's eln cache.
;;
;; The findings of the engine side (session resumption, host names,
;; bounded buffering, security level) are tested in
;; test/ossl-engine-security-tests.el.

;;; Code:

(require 'ert)
(require 'cl-lib)
(require 'subr-x)
(require 'ossl)
(require 'ossl-view)
(require 'ossl-session)
(require 'ossl-network)
(require 'ossl-test-lib)

(defconst ossl-sec--secret "AUTH PLAIN c2VjcmV0LXVzZXIAc2VjcmV0LXBhc3M="
  "What an application sends right after TLS: it must never go out in clear.")

(defun ossl-sec--connect (peer &optional host)
  "A plain network process to PEER's port on 127.0.0.1."
  (make-network-process :name "ossl-sec" :buffer (generate-new-buffer " *ossl-sec*")
                        :host (or host "127.0.0.1")
                        :service (plist-get peer :port)))

(defun ossl-sec--mitm (&rest args)
  "A `record' peer with a certificate for wrong.example, trusted by root.pem.
It stands for a man in the middle; ARGS are more keywords of
`ossl-test-python-peer'."
  (apply #'ossl-test-python-peer "record"
         :cert (ossl-test-file "wrongname-chain.pem")
         :key (ossl-test-file "wrongname.key")
         args))

(defun ossl-sec--try-send (proc)
  "Send `ossl-sec--secret' to PROC as a careless application would."
  (ignore-errors (process-send-string proc (concat ossl-sec--secret "\r\n")))
  (accept-process-output nil 0.2))

(defun ossl-sec--leaked-p (peer)
  "Non-nil if PEER read `ossl-sec--secret' off the wire in clear."
  (accept-process-output nil 0.3)
  (string-search ossl-sec--secret (ossl-test-peer-raw peer)))

;;;; Finding 1: native callers and trampolines

(defun ossl-sec--trampolines-variable ()
  "The trampoline switch of this Emacs, as the child must set it."
  (if (boundp 'native-comp-enable-subr-trampolines)
      'native-comp-enable-subr-trampolines
    'comp-enable-subr-trampolines))

(defun ossl-sec--native-send-child (peer setup &optional path)
  "In a child Emacs, coat a connection to PEER and send from native code.
SETUP is a form run before ossl is loaded; PATH, if non-nil, the
child's PATH.  Return the child's result: `sent', or the error of
`ossl-starttls'."
  (let* ((libs (ossl-test-native-libraries))
         (process-environment (if path
                                  (cons (concat "PATH=" path) process-environment)
                                process-environment))
         (out (ossl-test-child-emacs
               `(progn
                  (load ,(plist-get libs :sender) nil t t)
                  ,setup
                  (require 'ossl)
                  (let ((p (make-network-process :name "c" :host "127.0.0.1"
                                                 :service ,(plist-get peer :port))))
                    (prin1 (list :native (subr-native-elisp-p
                                          (symbol-function 'ossl-test-native-send))
                                 :result
                                 (condition-case err
                                     (progn
                                       (ossl-starttls p :hostname "localhost"
                                                      :ca ,(ossl-test-file "root.pem"))
                                       (ossl-test-native-send
                                        p ,(concat ossl-sec--secret "\r\n"))
                                       (accept-process-output nil 0.3)
                                       'sent)
                                   (error err))))
                    (terpri)))))
         (result (ossl-test-child-result out)))
    (unless (plist-get result :native)
      (ert-fail (list "child Emacs failed or its sender is not native" out)))
    (plist-get result :result)))

(ert-deftest ossl-sec/native-callers-need-trampolines ()
  "Finding 1: coating refuses when native code would bypass the send advice.
With trampolines on, a natively compiled `process-send-string' is
encrypted (the control); with `native-comp-enable-subr-trampolines'
\(`comp-enable-subr-trampolines' on Emacs 28) nil, or with no
assembler to build the trampolines, `ossl-starttls' signals an
`ossl-not-supported-error' that names the cause and the fix, and
the peer never reads the secret in clear.  These refusals are the
Lisp path's (`ossl-socket-data-path' `lisp'): under the descriptor
nothing is advised, and a native sender with trampolines off is
encrypted like any other."
  (skip-unless (ossl-test-native-libraries))
  (let ((var (ossl-sec--trampolines-variable)))
    ;; Control: trampolines on, the native sender is encrypted.
    (ossl-test-with-peer (peer (ossl-test-python-peer "record"))
      (should (eq (ossl-sec--native-send-child
                   peer '(setq ossl-socket-data-path 'lisp))
                  'sent))
      (ossl-test-peer-wait-output peer "^CLEAR ")
      (should (string-search ossl-sec--secret (ossl-test-peer-clear peer)))
      (should-not (ossl-sec--leaked-p peer)))
    ;; Under the descriptor, trampolines off: encrypted all the same.
    (ossl-test-with-peer (peer (ossl-test-python-peer "record"))
      (should (eq (ossl-sec--native-send-child
                   peer `(setq ,var nil ossl-socket-data-path 'descriptor))
                  'sent))
      (ossl-test-peer-wait-output peer "^CLEAR ")
      (should (string-search ossl-sec--secret (ossl-test-peer-clear peer)))
      (should-not (ossl-sec--leaked-p peer)))
    ;; Trampolines off.
    (ossl-test-with-peer (peer (ossl-test-python-peer "record"))
      (let ((err (ossl-sec--native-send-child
                  peer `(setq ,var nil ossl-socket-data-path 'lisp))))
        (should (eq (car-safe err) 'ossl-not-supported-error))
        (should (string-search (format "`%s' is nil" var) (cadr err)))
        (should (string-search "set it to t" (cadr err))))
      (should-not (ossl-sec--leaked-p peer)))
    ;; No assembler: the trampoline cannot be built.
    (ossl-test-with-peer (peer (ossl-test-python-peer "record"))
      (let ((err (ossl-sec--native-send-child
                  peer `(setq native-comp-eln-load-path
                              (cons ,(make-temp-file "ossl-sec-eln-" t)
                                    (last native-comp-eln-load-path))
                              ossl-socket-data-path 'lisp)
                  "/nonexistent")))
        (should (eq (car-safe err) 'ossl-not-supported-error))
        (should (string-search "cannot compile a trampoline" (cadr err)))
        (should (string-search "on PATH" (cadr err))))
      (should-not (ossl-sec--leaked-p peer)))))

;;;; Finding 2: a failed handshake leaves nothing to send in clear

(ert-deftest ossl-sec/failed-handshake-closes-sxemacs-form ()
  "Finding 2: `ossl-ssl-handshake' returns nil and the process is closed.
A man in the middle (a certificate for another name) reads nothing
the application sends next."
  (ossl-test-with-peer (peer (ossl-sec--mitm :extra-args '("--record-after-failure")))
    (ossl-test-with-proc (p (ossl-sec--connect peer))
      (let ((inhibit-message t))
        (should-not (ossl-ssl-handshake p nil (ossl-test-file "root.pem"))))
      (should-not (process-live-p p))
      (should (string-match-p "wrong\\.example" ossl-ssl-last-error))
      (ossl-sec--try-send p)
      (should-not (ossl-sec--leaked-p peer)))))

(ert-deftest ossl-sec/failed-handshake-closes-keyword-forms ()
  "Finding 2: `ossl-starttls', blocking or with :callback, closes on failure.
Data sent while the non-blocking handshake runs, and by a callback
that ignores the result, never reaches the man in the middle."
  (ossl-test-with-peer (peer (ossl-sec--mitm :count 2))
    ;; Blocking.
    (ossl-test-with-proc (p (ossl-sec--connect peer))
      (should-error (ossl-starttls p :hostname "localhost"
                                   :ca (ossl-test-file "root.pem"))
                    :type 'ossl-verify-error)
      (should-not (process-live-p p))
      (ossl-sec--try-send p))
    ;; Non-blocking, with a careless callback.
    (ossl-test-with-proc (p (ossl-sec--connect peer))
      (let ((result nil))
        (ossl-starttls p :hostname "localhost" :ca (ossl-test-file "root.pem")
                       :callback (lambda (r)
                                   (setq result r)
                                   (ossl-sec--try-send p)))
        (process-send-string p (concat ossl-sec--secret " queued\r\n"))
        (ossl-test-wait-for (lambda () result))
        (should (eq (car result) 'ossl-verify-error))
        (should-not (process-live-p p))
        (ossl-sec--try-send p)))
    (should-not (ossl-sec--leaked-p peer))
    (should (string-empty-p (ossl-test-peer-clear peer)))))

(ert-deftest ossl-sec/starttls-by-hand-example ()
  "Finding 2: the manual's \"STARTTLS by hand\", against a man in the middle.
The handshake after the server's go-ahead fails; EHLO and AUTH PLAIN
sent next do not reach the peer in clear."
  (ossl-test-with-peer (peer (ossl-test-python-peer
                              "starttls" :cert (ossl-test-file "wrongname-chain.pem")
                              :key (ossl-test-file "wrongname.key")
                              :extra-args '("--record-after-failure")))
    (ossl-test-with-proc (proc (ossl-sec--connect peer))
      (let ((buf (process-buffer proc))
            (inhibit-message t))
        (ossl-test-wait-for (lambda () (with-current-buffer buf
                                         (string-search "220 " (buffer-string)))))
        (process-send-string proc "STARTTLS\r\n")
        (ossl-test-wait-for (lambda () (with-current-buffer buf
                                         (string-search "Ready" (buffer-string)))))
        ;; The example, minus its `error': a caller that forgets to check.
        (ossl-ssl-handshake proc nil (ossl-test-file "root.pem"))
        (ignore-errors (process-send-string proc "EHLO client.example\r\n"))
        (ossl-sec--try-send proc)
        (should-not (process-live-p proc))
        (ossl-test-peer-wait-output peer "^HANDSHAKE-FAILED")
        (should-not (ossl-sec--leaked-p peer))
        (should-not (string-search "EHLO" (ossl-test-peer-raw peer)))))))

(ert-deftest ossl-sec/plain-on-failure-is-an-explicit-downgrade ()
  "Finding 2: with :plain-on-failure the process stays open, plain.
The caller asked for it: what it sends next goes out in clear."
  (ossl-test-with-peer (peer (ossl-sec--mitm :extra-args '("--record-after-failure")))
    (ossl-test-with-proc (p (ossl-sec--connect peer))
      (should-error (ossl-starttls p :hostname "localhost" :plain-on-failure t
                                   :ca (ossl-test-file "root.pem"))
                    :type 'ossl-verify-error)
      (should (process-live-p p))
      (should-not (ossl-process-conn p))
      (process-send-string p "downgraded\r\n")
      (ossl-test-wait-for
       (lambda () (string-search "downgraded" (ossl-test-peer-raw peer)))))))

;;;; Finding 4: the verify function decides, and only t accepts

(ert-deftest ossl-sec/verify-function-must-accept ()
  "Finding 4: a verify function that signals or does not return t refuses.
Blocking: the handshake fails with the function's error in the
reason.  Non-blocking: what was sent meanwhile never reaches the peer."
  (ossl-test-with-peer (peer (ossl-test-python-peer "record" :count 4))
    (let ((root (ossl-test-file "root.pem")))
      ;; Signals.
      (ossl-test-with-proc (p (ossl-sec--connect peer))
        (let ((err (should-error
                    (ossl-starttls p :hostname "localhost" :ca root
                                   :verify-function (lambda (_c _r) (error "Pin mismatch 42")))
                    :type 'ossl-verify-error)))
          (should (string-search "signalled: Pin mismatch 42" (cadr err)))
          (should-not (process-live-p p))))
      ;; Returns something that is not t.
      (ossl-test-with-proc (p (ossl-sec--connect peer))
        (let ((err (should-error
                    (ossl-starttls p :hostname "localhost" :ca root
                                   :verify-function (lambda (_c _r) 'maybe))
                    :type 'ossl-verify-error)))
          (should (string-search "returned maybe, not t" (cadr err)))))
      ;; Non-blocking: the secret was queued before the verdict.
      (ossl-test-with-proc (p (ossl-sec--connect peer))
        (let ((result nil))
          (ossl-starttls p :hostname "localhost" :ca root
                         :verify-function (lambda (_c _r) (error "No"))
                         :callback (lambda (r) (setq result r)))
          (process-send-string p (concat ossl-sec--secret "\r\n"))
          (ossl-test-wait-for (lambda () result))
          (should (eq (car result) 'ossl-verify-error))
          (should (string-search "signalled: No" (cadr result)))))
      ;; Control: t accepts.
      (ossl-test-with-proc (p (ossl-sec--connect peer))
        (should (ossl-starttls p :hostname "localhost" :ca root
                               :verify-function (lambda (_c r) (equal r '(0 . "ok")))))
        (process-send-string p "accepted\r\n")
        (ossl-test-wait-for
         (lambda () (string-search "accepted" (ossl-test-peer-clear peer)))))
      (should-not (string-search ossl-sec--secret (ossl-test-peer-clear peer)))
      (should-not (ossl-sec--leaked-p peer)))))

;;;; Finding 5: C-g at a prompt closes the connection it decides

(ert-deftest ossl-sec/quit-at-trust-prompt-closes ()
  "Finding 5: C-g at the trust question of `ossl-open-tls-stream' closes.
Nothing typed afterwards reaches the unverified peer."
  (ossl-test-with-peer (peer (ossl-test-python-peer
                              "record" :cert (ossl-test-file "selfsigned-chain.pem")
                              :key (ossl-test-file "selfsigned.key")))
    (let ((asked nil)
          (buffer nil)
          (ossl-verify-peer t))
      (unwind-protect
          (progn
            (should
             (eq 'quit
                 (condition-case nil
                     (let ((noninteractive nil))
                       (cl-letf (((symbol-function 'yes-or-no-p)
                                  (lambda (prompt)
                                    (setq asked prompt)
                                    (setq buffer (current-buffer))
                                    (signal 'quit nil))))
                         (ossl-open-tls-stream "localhost" (plist-get peer :port))))
                   (quit 'quit))))
            (should (string-match-p "self-signed" asked))
            (let ((proc (get-buffer-process buffer)))
              (should-not (and proc (process-live-p proc))))
            (with-current-buffer buffer
              (ignore-errors (comint-send-string (current-buffer) "typed text\n")))
            (accept-process-output nil 0.3)
            (should (string-empty-p (ossl-test-peer-clear peer))))
        (when (buffer-live-p buffer)
          (let ((kill-buffer-query-functions nil)) (kill-buffer buffer)))))))

;; The passphrase of a client key in ossl-network-mode.
(ert-deftest ossl-sec/quit-at-passphrase-prompt-closes ()
  "Finding 5: C-g at the passphrase of a client key leaves no connection.
Blocking, the quit reaches the caller; with :nowait, the connection
fails (its status is `failed') instead of the quit escaping from a
sentinel and the connection staying pending."
  (ossl-test-with-peer (peer (ossl-test-python-peer "echo" :count 2))
    (let* ((dir (make-temp-file "ossl-sec-nsm-" t))
           (nsm-settings-file (expand-file-name "network-security.data" dir))
           (nsm-permanent-host-settings nil)
           (nsm-temporary-host-settings nil)
           (network-security-level 'medium)
           (gnutls-verify-error nil)
           (ossl-network-extra-ca (list (ossl-test-file "root.pem")))
           (ossl-network-passphrase-function (lambda (&rest _) (signal 'quit nil)))
           (pair (list (ossl-test-file "encrypted.key") (ossl-test-file "server.pem")))
           (before (length (process-list))))
      (unwind-protect
          (progn
            (ossl-network-mode 1)
            (should (eq 'quit (condition-case nil
                                  (open-network-stream "ossl-sec-pw" nil "localhost"
                                                       (plist-get peer :port)
                                                       :type 'tls :client-certificate pair)
                                (quit 'quit))))
            (should (= before (length (process-list))))
            (let ((p (open-network-stream "ossl-sec-pw" nil "localhost"
                                          (plist-get peer :port) :type 'tls
                                          :nowait t :client-certificate pair)))
              (ossl-test-wait-for (lambda () (not (eq (process-status p) 'connect))))
              (should (eq (process-status p) 'failed))
              (should-not (process-live-p p))))
        (ossl-network-mode -1)
        (delete-directory dir t)))))

;;;; Finding 9: no secret in error data, nor kept reachable

(defun ossl-sec--key-body (file)
  "The base64 body of the PEM key FILE, without BEGIN and END lines."
  (with-temp-buffer
    (insert-file-contents file)
    (string-join (cl-remove-if (lambda (l) (or (string-prefix-p "-----" l)
                                               (string-empty-p l)))
                               (split-string (buffer-string) "\n"))
                 "\n")))

(defun ossl-sec--der-key (file)
  "The DER bytes of the PEM key FILE."
  (with-temp-buffer
    (set-buffer-multibyte nil)
    (let ((coding-system-for-read 'binary))
      (call-process ossl-test-openssl-program nil t nil
                    "pkey" "-in" file "-outform" "DER"))
    (buffer-string)))

(defun ossl-sec--contains-p (object secret &optional seen)
  "Non-nil if SECRET occurs in a string reachable from OBJECT.
Walks conses, vectors, records, closures, hash tables, and from a
process its contact, plist, filter and sentinel.  SEEN is the hash
table of objects already visited."
  (let ((seen (or seen (make-hash-table :test #'eq)))
        (stack (list object))
        (found nil))
    (while (and stack (not found))
      (let ((x (pop stack)))
        (unless (or (null x) (symbolp x) (numberp x) (gethash x seen))
          (puthash x t seen)
          (cond
           ((stringp x) (setq found (string-search secret x)))
           ((consp x) (push (car x) stack) (push (cdr x) stack))
           ((hash-table-p x)
            (maphash (lambda (k v) (push k stack) (push v stack)) x))
           ((processp x)
            (push (process-contact x t) stack)
            (push (process-plist x) stack)
            (push (process-filter x) stack)
            (push (process-sentinel x) stack))
           ((or (vectorp x) (recordp x) (byte-code-function-p x)
                (and (fboundp 'closurep) (funcall 'closurep x)))
            (let ((i 0))
              (while (condition-case nil (progn (push (aref x i) stack) t)
                       (error nil))
                (setq i (1+ i)))))))))
    found))

(ert-deftest ossl-sec/no-key-material-in-errors ()
  "Finding 9: key data that is not PEM is never taken for a file and echoed.
PEM text without its BEGIN line and a wrong password stay out of the
error data, `ossl-ssl-last-error' and *Messages*; DER bytes are read
as a key."
  (let* ((body (ossl-sec--key-body (ossl-test-file "server.key")))
         (line (car (split-string body "\n")))
         (password "wrong-pw-7f3a9c1e")
         (errors nil))
    (should (> (length line) 40))
    (dolist (call (list (lambda () (ossl-open-server "ossl-sec-key" nil "127.0.0.1" t
                                                     :cert (ossl-test-file "server.pem")
                                                     :key body))
                        (lambda () (ossl-open-server "ossl-sec-key" nil "127.0.0.1" t
                                                     :cert (ossl-test-file "server.pem")
                                                     :key (string-replace "\n" "" body)))
                        (lambda () (ossl-open-server "ossl-sec-key" nil "127.0.0.1" t
                                                     :cert (ossl-test-file "server.pem")
                                                     :key (ossl-test-file "encrypted.key")
                                                     :password password))))
      (push (should-error (funcall call) :type 'ossl-key-error) errors))
    (dolist (err errors)
      (let ((printed (prin1-to-string err)))
        (should-not (string-search (substring line 0 24) printed))
        (should-not (string-search password printed))))
    (with-current-buffer (messages-buffer)
      (should-not (string-search (substring line 0 24) (buffer-string)))
      (should-not (string-search password (buffer-string))))
    (should-not (and ossl-ssl-last-error
                     (string-search password ossl-ssl-last-error)))
    ;; DER bytes are key data: the server starts.
    (let ((server (ossl-open-server "ossl-sec-der" nil "127.0.0.1" t
                                    :cert (ossl-test-file "server.pem")
                                    :key (ossl-sec--der-key (ossl-test-file "server.key")))))
      (should (process-live-p server))
      (delete-process server))))

(defvar ossl-sec--accepted nil
  "The last connection `ossl-sec--accept' was given.")

(defun ossl-sec--accept (process)
  "Remember PROCESS, a connection a test server accepted."
  (setq ossl-sec--accepted process))

(ert-deftest ossl-sec/server-keeps-no-password ()
  "Finding 9: `ossl-open-server' loads the key once and keeps no password.
Nothing reachable from the server process, nor from a connection it
accepted, holds the password or the key's PEM text."
  (let* ((password ossl-test-key-password)
         (key-pem (with-temp-buffer
                    (insert-file-contents (ossl-test-file "encrypted.key"))
                    (buffer-string)))
         (key-line (nth 1 (split-string key-pem "\n")))
         (server (progn
                   (setq ossl-sec--accepted nil)
                   ;; A named acceptor: a closure made here would hold
                   ;; the password itself, when this file is interpreted.
                   (ossl-open-server "ossl-sec-srv" nil "127.0.0.1" t
                                     :cert (ossl-test-file "server-chain.pem")
                                     :key key-pem :password password
                                     :acceptor #'ossl-sec--accept)))
         (accepted nil))
    (unwind-protect
        (progn
          (should (> (length key-line) 40))
          (should-not (ossl-sec--contains-p server password))
          (should-not (ossl-sec--contains-p server key-line))
          (ossl-test-with-peer (client (ossl-test-openssl-client
                                        (process-contact server :service)))
            (ossl-test-wait-for (lambda () ossl-sec--accepted))
            (setq accepted ossl-sec--accepted)
            (should-not (ossl-sec--contains-p accepted password))
            (should-not (ossl-sec--contains-p (ossl-process-conn accepted) password))
            (should-not (ossl-sec--contains-p accepted key-line))
            (should-not (ossl-sec--contains-p server password))))
      (delete-process server)
      (when (processp accepted) (delete-process accepted)))))

;;;; Finding 10: ossl-network-mode and a natively compiled NSM

(defun ossl-sec--network-child (good bad &rest setup)
  "In a child Emacs with a natively compiled NSM, open TLS streams.
GOOD and BAD are peers, BAD with a certificate for another name.
SETUP forms run after ossl's send advice is installed and before
`ossl-network-mode' is turned on.  Return the child's result plist."
  (let* ((libs (ossl-test-native-libraries))
         (out (ossl-test-child-emacs
               `(progn
                  (load ,(plist-get libs :nsm) nil t t)
                  (load ,(plist-get libs :network-stream) nil t t)
                  (require 'ossl-network)
                  (ossl--install-advice)
                  ,@setup
                  (setq nsm-settings-file ,(make-temp-file "ossl-sec-nsm-")
                        ossl-network-extra-ca (list ,(ossl-test-file "root.pem")))
                  (ossl-network-mode 1)
                  (let* ((good (open-network-stream "good" nil "localhost"
                                                    ,(plist-get good :port)
                                                    :type 'tls :return-list t))
                         (bad (open-network-stream "bad" nil "localhost"
                                                   ,(plist-get bad :port)
                                                   :type 'tls :return-list t))
                         (bad-nowait (open-network-stream "bad-nowait" nil "localhost"
                                                          ,(plist-get bad :port)
                                                          :type 'tls :nowait t)))
                    (accept-process-output nil 1)
                    (prin1 (list :nsm-native (subr-native-elisp-p
                                              (symbol-function 'nsm-verify-connection))
                                 :peer-status-trampoline
                                 (and (boundp 'comp-installed-trampolines-h)
                                      (gethash 'gnutls-peer-status
                                               comp-installed-trampolines-h)
                                      t)
                                 :good (and (processp (car good))
                                            (process-live-p (car good)))
                                 :bad (and (car bad) (process-live-p (car bad)))
                                 :bad-error (plist-get (cdr bad) :error)
                                 :bad-nowait (process-status bad-nowait)))
                    (terpri)))))
         (result (ossl-test-child-result out)))
    (unless (plist-member result :nsm-native)
      (ert-fail (list "child Emacs failed" out)))
    result))

(ert-deftest ossl-sec/network-mode-native-nsm-without-trampolines ()
  "Finding 10: a natively compiled NSM refuses a wrong name, trampolines off.
`gnutls-peer-status' is advised without a trampoline, so native code
calling it gets GnuTLS's answer for a plain connection; ossl-network
gives the NSM ossl's own status instead, and the wrong-name server is
refused, blocking and :nowait."
  (skip-unless (ossl-test-native-libraries))
  (ossl-test-with-peer (good (ossl-test-python-peer "echo"))
    (ossl-test-with-peer (bad (ossl-test-python-peer
                               "echo" :count 2
                               :cert (ossl-test-file "wrongname-chain.pem")
                               :key (ossl-test-file "wrongname.key")))
      (let ((r (ossl-sec--network-child
                good bad `(setq ,(ossl-sec--trampolines-variable) nil))))
        (should (plist-get r :nsm-native))
        (should-not (plist-get r :peer-status-trampoline))
        (should (plist-get r :good))
        (should-not (plist-get r :bad))
        (should (string-match-p "wrong\\.example" (plist-get r :bad-error)))
        (should (memq (plist-get r :bad-nowait) '(failed closed)))))))

(provide 'ossl-security-tests)

;;; ossl-security-tests.el ends here
