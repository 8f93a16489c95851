;;; ossl-engine-security-tests.el --- engine and policy findings of issue 13  -*- lexical-binding: t; -*-

;;; Commentary:

;; Issue 13, findings 3, 6, 7, 8 and the context cache of 9: session
;; resumption, host names, input after close_notify, key strength,
;; signatures, ciphers and versions.  Every test talks to a real peer
;; on loopback (openssl s_server, the Python peers, ossl itself) and
;; fails without its fix.

;;; Code:

(require 'ert)
(require 'cl-lib)
(require 'subr-x)
(require 'ossl)
(require 'ossl-test-lib)

;;;; Helpers

(defun ossl-esec--open (port &rest keys)
  "A blocking ossl client of 127.0.0.1:PORT with KEYS; return its process.
KEYS default to trusting root.pem and verifying \"localhost\"."
  (apply #'ossl-open-stream "ossl-esec" nil "127.0.0.1" port
         (append keys (list :ca (ossl-test-file "root.pem")
                            :hostname "localhost"))))

(defun ossl-esec--status (proc key)
  "KEY of the status of PROC's TLS connection."
  (plist-get (ossl-ssl-status (ossl-process-conn proc)) key))

(defun ossl-esec--session (proc)
  "PROC's saved session, once the server sent one (TLS 1.3: a ticket)."
  (ossl-test-wait-for (lambda () (ossl-ssl-session (ossl-process-conn proc)))))

(defun ossl-esec--server (name &rest extra-args)
  "An s_server with the weak or PKI certificate NAME and its chain file.
EXTRA-ARGS go to s_server; it runs at security level 0, so that it
serves whatever it is given."
  (ossl-test-openssl-server
   :cert (ossl-test--pki-or-weak (concat name ".pem"))
   :key (ossl-test--pki-or-weak (concat name ".key"))
   :chain nil
   :extra-args (append (list "-cert_chain"
                             (ossl-test--pki-or-weak (concat name "-chain.pem")))
                       extra-args)))

(defun ossl-test--pki-or-weak (file)
  "FILE of the test PKI, or else of its weak certificates."
  (if (member file ossl-test-pki-files)
      (ossl-test-file file)
    (ossl-test-weak-file file)))

;;;; Finding 3: session resumption

(ert-deftest ossl-esec/session-only-for-its-host-name ()
  "A session verified for one host name is not resumed for another: a
full handshake checks the new name (TLS 1.2 and 1.3)."
  (dolist (version '("-tls1_2" "-tls1_3"))
    (ossl-test-with-peer (peer (ossl-esec--server "wrongname" version))
      (let* ((port (ossl-test-peer-port peer))
             (p1 (ossl-esec--open port :hostname "wrong.example"))
             (session (ossl-esec--session p1)))
        (delete-process p1)
        ;; Same name: resumed (the control).
        (let ((p2 (ossl-esec--open port :hostname "wrong.example"
                                   :session session)))
          (should (ossl-esec--status p2 :session-reused))
          (should (equal (ossl-ssl-verify-certificate (ossl-process-conn p2))
                         '(0 . "ok")))
          (delete-process p2))
        ;; Another name the certificate also covers: verified afresh.
        (let ((p3 (ossl-esec--open port :hostname "other.example"
                                   :session session)))
          (should-not (ossl-esec--status p3 :session-reused))
          (delete-process p3))
        ;; A name it does not cover: the full handshake fails.
        (let ((err (should-error (ossl-esec--open port :hostname "localhost"
                                                  :session session)
                                 :type 'ossl-verify-error)))
          (should (string-match-p "does not match the name localhost" (cadr err))))))))

(ert-deftest ossl-esec/session-only-for-its-trust ()
  "A session verified with a CA is not resumed by a connection that
does not trust that CA (TLS 1.2 and 1.3)."
  (dolist (version '("-tls1_2" "-tls1_3"))
    (ossl-test-with-peer (peer (ossl-esec--server "server" version))
      (let* ((port (ossl-test-peer-port peer))
             (p1 (ossl-esec--open port))
             (session (ossl-esec--session p1)))
        (delete-process p1)
        (should-error (ossl-open-stream "ossl-esec" nil "127.0.0.1" port
                                        :hostname "localhost" :session session)
                      :type 'ossl-verify-error)))))

(ert-deftest ossl-esec/unverified-session-never-resumed-by-verifier ()
  "A session made with :verify nil is not resumed by a verifying
connection, which verifies in full (TLS 1.2 and 1.3)."
  (dolist (version '("-tls1_2" "-tls1_3"))
    (ossl-test-with-peer (peer (ossl-esec--server "selfsigned" version))
      (let* ((port (ossl-test-peer-port peer))
             (p1 (ossl-esec--open port :verify nil))
             (session (ossl-esec--session p1)))
        (delete-process p1)
        (should-error (ossl-esec--open port :session session)
                      :type 'ossl-verify-error)
        ;; Even once the certificate is trusted, the unverified session
        ;; is not offered: a full handshake verifies it.
        (let ((p2 (ossl-esec--open port :session session
                                   :ca (ossl-test-file "selfsigned.pem"))))
          (should-not (ossl-esec--status p2 :session-reused))
          (delete-process p2))))))

(ert-deftest ossl-esec/session-data-checked ()
  "What is not a saved session signals; a bare OpenSSL session is not one."
  (ossl-test-with-peer (peer (ossl-esec--server "server" "-tls1_2"))
    (dolist (bad (list "" "ossl-session-1" (make-string 100 ?x)
                       (concat "ossl-session-1\1" (make-string 40 255))))
      (should-error (ossl-esec--open (ossl-test-peer-port peer) :session bad)
                    :type 'ossl-error))))

;;;; Finding 6: host names

(ert-deftest ossl-esec/empty-host-name-is-none ()
  "`:hostname \"\"' is no host name: a verifying client refuses it."
  (ossl-test-with-peer (peer (ossl-esec--server "wrongname"))
    (let ((err (should-error (ossl-esec--open (ossl-test-peer-port peer)
                                              :hostname "")
                             :type 'ossl-error)))
      (should (string-match-p "No host name to verify" (cadr err))))))

(ert-deftest ossl-esec/host-name-with-control-bytes-refused ()
  "A host name with a NUL or another control byte is no host name."
  (ossl-test-with-peer (peer (ossl-esec--server "wrongname"))
    (dolist (name '("wrong.example\0.evil.example" "wrong.example\n"
                    "\0" "wrong.exam\177ple"))
      (should-error (ossl-esec--open (ossl-test-peer-port peer) :hostname name)
                    :type 'wrong-type-argument)
      ;; The same as the host to connect to.
      (should-error (ossl-open-stream "ossl-esec" nil name
                                      (ossl-test-peer-port peer))
                    :type 'wrong-type-argument))
    ;; The module refuses it too, whatever Lisp lets through.
    (let ((ctx (ossl-test-engine-ctx nil)))
      (should-error (ossl--conn-new ctx "wrong.example\0x" 'require)
                    :type 'wrong-type-argument)
      (should-error (ossl--conn-new ctx "a\tb" 'require) :type 'wrong-type-argument))))

(defconst ossl-esec--relay "
import os, select, socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
while True:
    r, _, _ = select.select([0, s], [], [], 30)
    if not r:
        break
    if 0 in r:
        d = os.read(0, 65536)
        if not d:
            break
        s.sendall(d)
    if s in r:
        d = s.recv(65536)
        if not d:
            break
        os.write(1, d)
"
  "A relay between its stdin/stdout and 127.0.0.1:PORT: a pipe to a peer.")

(ert-deftest ossl-esec/verify-result-says-no-name-was-checked ()
  "On a pipe without a host name, the verify function is not told ok:
the result says that no name was checked."
  (ossl-test-with-peer (peer (ossl-esec--server "server"))
    (let* ((pipe (make-process :name "ossl-esec-pipe" :connection-type 'pipe
                               :command (list ossl-test-python-program "-c"
                                              ossl-esec--relay
                                              (number-to-string
                                               (ossl-test-peer-port peer)))
                               :noquery t :coding 'binary))
           (seen nil))
      (unwind-protect
          (let ((conn (ossl-starttls pipe :ca (ossl-test-file "root.pem")
                                     :verify-function
                                     (lambda (_conn result)
                                       (setq seen result)
                                       t))))
            (should (consp seen))
            (should-not (eql (car seen) 0))
            (should (string-match-p "no host name was checked" (cdr seen)))
            (should (equal (ossl-ssl-verify-certificate conn) seen)))
        (delete-process pipe)))))

;;;; Finding 7: bounded input after close_notify

(ert-deftest ossl-esec/flood-after-close-notify ()
  "A peer that floods 400 MB after its close_notify: the connection is
closed and Emacs grows by less than 50 MB."
  (ossl-test-with-peer (peer (ossl-test-python-peer 'flood-after-close
                                                    :message "bye"
                                                    :close-timeout 60))
    (garbage-collect)
    (let* ((before (ossl-test-rss-kb))
           (got "")
           (proc (ossl-esec--open (ossl-test-peer-port peer)))
           (conn (ossl-process-conn proc)))
      (set-process-filter proc (lambda (_p s) (setq got (concat got s))))
      (let ((flood (ossl-test-peer-wait-output
                    peer "^FLOOD \\([0-9]+\\) \\(done\\|stopped\\)" 120)))
        (ossl-test-wait-for (lambda () (not (process-live-p proc))) 30)
        (garbage-collect)
        (let ((growth (- (ossl-test-rss-kb) before)))
          (message "ossl-esec: flood of %s bytes after close_notify, RSS %d kB -> +%d kB"
                   flood before growth)
          (should (equal got "bye"))
          (should (< (string-to-number flood) (* 400 1024 1024)))
          (should (eq (ossl-ssl-state conn) 'failed))
          (should (string-match-p "after its close_notify" (ossl-ssl-error conn)))
          (unless (ossl-test-sanitizer)
            (should (< growth (* 50 1024)))))))))

(ert-deftest ossl-esec/engine-bounds-bytes-after-close-notify ()
  "The engine keeps at most 64 KiB after the peer's close_notify, however
much more is fed (ossl itself as the peer)."
  (let* ((pair (ossl-test-engine-pair))
         (c (car pair)) (s (cdr pair))
         (chunk (make-string (* 4 1024 1024) ?x)))
    (ossl--shutdown s)
    (should (equal (ossl--feed c (ossl--take s)) ""))
    (should (eq (ossl--state c) 'closed))
    ;; Up to the limit, kept for a protocol that goes on in clear.
    (ossl--feed c (make-string 1000 ?a))
    (should (eq (ossl--state c) 'closed))
    (garbage-collect)
    (let ((before (ossl-test-rss-kb)))
      (dotimes (_ 100) (ossl--feed c chunk))
      (garbage-collect)
      (unless (ossl-test-sanitizer)
        (should (< (- (ossl-test-rss-kb) before) (* 50 1024)))))
    (should (eq (ossl--state c) 'failed))
    (should (string-match-p "after its close_notify" (ossl--reason c)))
    (should (<= (length (ossl--leftover c)) 65536))))

(ert-deftest ossl-esec/engine-bounds-handshake-input ()
  "A handshake paused for an SNI choice keeps at most 1 MiB of what the
client sends meanwhile; more fails it."
  (let* ((sctx (ossl-test-engine-ctx t))
         (s (progn (ossl--ctx-pause-for-sni sctx) (ossl--conn-new sctx nil 'none)))
         (c (ossl--conn-new (ossl-test-engine-ctx nil) "localhost" 'require)))
    (ossl--feed c "")
    (ossl--feed s (ossl--take c))
    (should (equal (ossl--sni-request s) "localhost"))
    (ossl--feed s (make-string (* 512 1024) ?x))
    (should (eq (ossl--state s) 'handshaking))
    (ossl--feed s (make-string (* 1024 1024) ?x))
    (should (eq (ossl--state s) 'failed))
    (should (string-match-p "more than 1048576 bytes" (ossl--reason s)))))

;;;; Finding 8: key strength, signatures, versions, ciphers

(defconst ossl-esec--weak
  '(("weak-rsa1024" . "EE certificate key too weak")
    ("weak-sha1" . "digest algorithm too weak")
    ("weak-md5" . "digest algorithm too weak")
    ("weak-ca-p192" . "CA certificate key too weak")
    ("weak-ca-dsa1024" . "CA certificate key too weak"))
  "Weak chains and the words of their verification failure.")

(ert-deftest ossl-esec/weak-chains-refused-on-every-version ()
  "RSA and DSA keys under 2048 bits, EC under 224, SHA-1 and MD5
signatures are refused over TLS 1.3, 1.2 and 1.0, with or without a
lowered version floor."
  (dolist (weak ossl-esec--weak)
    (dolist (case '(("-tls1_3" nil (:min-version tls1.0))
                    ("-tls1_2" nil (:min-version tls1.0) (:method tls1.2))
                    ("-tls1" (:method tls1.0) (:min-version tls1.0))))
      (ossl-test-with-peer (peer (ossl-esec--server
                                  (car weak) (car case)
                                  "-cipher" "DEFAULT@SECLEVEL=0"))
        (dolist (keys (cdr case))
          (let ((err (should-error (apply #'ossl-esec--open
                                          (ossl-test-peer-port peer) keys)
                                   :type 'ossl-verify-error)))
            (should (string-match-p (cdr weak) (cadr err)))))))))

(ert-deftest ossl-esec/lowered-floor-reaches-old-servers ()
  "With the floor lowered, a TLS 1.0-only or 1.1-only s_server is reached
with a forward-secret suite, and its certificate is verified as ever."
  (dolist (case '(("-tls1" "TLSv1" tls1.0) ("-tls1_1" "TLSv1.1" tls1.1)))
    (dolist (name '("server" "server-rsa"))
      (ossl-test-with-peer (peer (ossl-esec--server
                                  name (car case) "-cipher" "DEFAULT@SECLEVEL=0"))
        (let* ((port (ossl-test-peer-port peer))
               (p (ossl-esec--open port :min-version 'tls1.0))
               (conn (ossl-process-conn p)))
          (should (equal (format "%s" (ossl-ssl-cipher-version conn)) (nth 1 case)))
          (should (string-match-p "\\`ECDHE-\\(ECDSA\\|RSA\\)-AES\\(128\\|256\\)-SHA\\'"
                                  (ossl-ssl-cipher-name conn)))
          (should (equal (ossl-ssl-verify-certificate conn) '(0 . "ok")))
          (delete-process p)
          ;; Pinned to that version too.
          (delete-process (ossl-esec--open port :method (nth 2 case)))
          ;; Not without asking.
          (should-error (ossl-esec--open port) :type 'ossl-handshake-error))))))

(defun ossl-esec--manual-ciphers ()
  "The TLS 1.2 cipher names the manual lists as the default."
  (with-temp-buffer
    (insert-file-contents (expand-file-name "../doc/ossl.texi"
                                            ossl-test-directory))
    (re-search-forward "^@c ossl-default-ciphers-begin$")
    (let ((end (save-excursion
                 (re-search-forward "^@c ossl-default-ciphers-end$")))
          (names nil))
      (while (re-search-forward "^@item @code{\\([A-Z0-9-]+\\)}" end t)
        (push (match-string 1) names))
      (nreverse names))))

(ert-deftest ossl-esec/default-ciphers-are-the-manuals ()
  "The TLS 1.2 ciphers a default client offers are exactly those the
manual lists, all forward-secret AEAD."
  (let ((listed (ossl-esec--manual-ciphers)))
    (should (= (length listed) 9))
    (ossl-test-with-peer (peer (ossl-esec--server "server"))
      (let* ((p (ossl-esec--open (ossl-test-peer-port peer)
                                 :max-version 'tls1.2))
             (names (ossl-ssl-cipher-names (ossl-process-conn p))))
        (should (equal (cl-remove-if (lambda (n) (string-prefix-p "TLS_" n))
                                     names)
                       listed))
        (dolist (n listed)
          (should (string-match-p "\\`E?C?DHE-.*\\(GCM\\|CHACHA20\\)" n)))
        (delete-process p)))))

(ert-deftest ossl-esec/tls12-refuses-non-aead-suites ()
  "A TLS 1.2 server that only offers CBC suites (forward-secret or not) is
refused by default, also with a lowered floor; AEAD suites are
accepted, and ciphers the caller names are honoured."
  (dolist (cipher '("AES128-SHA" "ECDHE-RSA-AES128-SHA" "AES128-GCM-SHA256"))
    (ossl-test-with-peer (peer (ossl-esec--server
                                "server-rsa" "-tls1_2" "-cipher" cipher))
      (should-error (ossl-esec--open (ossl-test-peer-port peer))
                    :type 'ossl-handshake-error)
      (should-error (ossl-esec--open (ossl-test-peer-port peer)
                                     :min-version 'tls1.0)
                    :type 'ossl-handshake-error)
      (let ((p (ossl-esec--open (ossl-test-peer-port peer) :ciphers cipher)))
        (should (equal (ossl-ssl-cipher-name (ossl-process-conn p)) cipher))
        (delete-process p))))
  (dolist (cipher '("ECDHE-RSA-AES256-GCM-SHA384" "ECDHE-RSA-CHACHA20-POLY1305"
                    "DHE-RSA-AES128-GCM-SHA256"))
    (ossl-test-with-peer (peer (ossl-esec--server
                                "server-rsa" "-tls1_2" "-cipher" cipher))
      (let ((p (ossl-esec--open (ossl-test-peer-port peer) :min-version 'tls1.0)))
        (should (equal (ossl-ssl-cipher-name (ossl-process-conn p)) cipher))
        (delete-process p)))))

;;;; Finding 9: no key material in the context cache

(defun ossl-esec--strings (x)
  "Every string in X, a tree of conses."
  (cond ((stringp x) (list x))
        ((consp x) (append (ossl-esec--strings (car x))
                           (ossl-esec--strings (cdr x))))))

(ert-deftest ossl-esec/no-key-material-in-context-cache ()
  "A key given as PEM text serves, and no line of it is in a cache key."
  (let* ((key (with-temp-buffer
                (insert-file-contents (ossl-test-file "server.key"))
                (buffer-string)))
         (cert (with-temp-buffer
                 (insert-file-contents (ossl-test-file "server-chain.pem"))
                 (buffer-string)))
         (body (cl-remove-if (lambda (l) (or (string-prefix-p "-----" l)
                                             (< (length l) 20)))
                             (split-string key "\n" t)))
         (server (ossl-open-server "ossl-esec-server" nil "127.0.0.1" t
                                   :cert cert :key key
                                   :acceptor #'ignore)))
    (unwind-protect
        (let ((p (ossl-esec--open (process-contact server :service))))
          (should (eq (ossl-ssl-state (ossl-process-conn p)) 'open))
          (delete-process p)
          (should body)
          (let ((strings nil))
            (maphash (lambda (k _v) (setq strings (append (ossl-esec--strings k)
                                                          strings)))
                     ossl--context-cache)
            (should strings)
            (dolist (line body)
              (should-not (cl-some (lambda (s) (string-search line s)) strings)))))
      (delete-process server))))

(ert-deftest ossl-esec/no-password-digest-in-context-cache ()
  "A context whose SNI entry has a password is not cached: a digest of a
password could be guessed."
  (let* ((password ossl-test-key-password)
         (server (ossl-open-server
                  "ossl-esec-server" nil "127.0.0.1" t
                  :cert (ossl-test-file "server-chain.pem")
                  :key (ossl-test-file "server.key")
                  :sni `(("other.example" :cert ,(ossl-test-file "server-chain.pem")
                          :key ,(ossl-test-file "encrypted.key")
                          :password ,password))
                  :acceptor #'ignore)))
    (unwind-protect
        (let ((p (ossl-esec--open (process-contact server :service))))
          (should (eq (ossl-ssl-state (ossl-process-conn p)) 'open))
          (delete-process p)
          (let ((strings nil))
            (maphash (lambda (k _v) (setq strings (append (ossl-esec--strings k)
                                                          strings)))
                     ossl--context-cache)
            (should-not (member password strings))
            (should-not (member (secure-hash 'sha256 password) strings))))
      (delete-process server))))

(provide 'ossl-engine-security-tests)
;;; ossl-engine-security-tests.el ends here
