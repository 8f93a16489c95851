;;; ossl-network-tests.el --- Tests of ossl-network-mode  -*- lexical-binding: t; -*-

;;; Commentary:

;; Issue 5: Emacs's networking libraries over ossl.  Real servers on
;; loopback, started and stopped here: gnutls-serv, aiosmtpd (SMTP with
;; STARTTLS required, and SMTPS), dovecot (IMAP with STARTTLS, IMAPS),
;; an https server and an HTTP CONNECT proxy (test/peers/net_peers.py),
;; and a scripted SMTP server for STARTTLS edge cases.  Every test turns
;; `ossl-network-mode' on and off again, and trusts the test root
;; through `ossl-network-extra-ca'.  The peer status and the NSM are
;; tested in ossl-nsm-tests.el.

;;; Code:

(require 'ert)
(require 'cl-lib)
(require 'subr-x)
(require 'ossl)
(require 'ossl-network)
(require 'ossl-test-lib)
(require 'url)
(require 'url-http)
(require 'smtpmail)
(require 'sendmail)
(require 'rfc2047)

(defvar nnimap-object)
(defvar url-http-process)
(defvar erc-modules)
(defvar erc-autojoin-channels-alist)
(defvar erc-prompt-for-password)
(defvar erc-server-auto-reconnect)
(defvar nntp-server-buffer)
(declare-function nnimap-open-server "nnimap" (server &optional defs no-reconnect))
(declare-function nnimap-request-list "nnimap" (&optional server))
(declare-function nnimap-close-server "nnimap" (&optional server defs))
(declare-function nnimap-buffer "nnimap" ())
(declare-function nnimap-process "nnimap" (cl-x))
(declare-function nnimap-stream-type "nnimap" (cl-x))
(declare-function nnheader-init-server-buffer "nnheader" ())
(declare-function erc-tls "erc" (&rest r))
(declare-function erc-cmd-QUIT "erc" (reason))

(defconst ossl-network-tests--script
  (expand-file-name "peers/net_peers.py" ossl-test-directory)
  "The script of the SMTP, HTTPS, proxy and fake-SMTP peers.")

;;;; Helpers

(defun ossl-network-tests--peer (mode &rest args)
  "Start net_peers.py in MODE with ARGS; return the peer plist."
  (ossl-test-start-process
   (concat "net-" mode) ossl-test-python-program
   (append (list "-u" ossl-network-tests--script "--mode" mode
                 "--timeout" (number-to-string ossl-test-peer-timeout)
                 "--cert" (ossl-test-file "server-chain.pem")
                 "--key" (ossl-test-file "server.key"))
           args)
   :ready-regexp "^READY [0-9]+$" :port-regexp "^READY \\([0-9]+\\)$"
   :timeout 20))

(defun ossl-network-tests--kill (&rest processes)
  "Delete PROCESSES and kill their buffers."
  (dolist (p processes)
    (when (processp p)
      (let ((b (process-buffer p)))
        (delete-process p)
        (when (buffer-live-p b) (kill-buffer b))))))

(defun ossl-network-tests--issuer-o (status)
  "Return the second RDN of the issuer of STATUS's leaf, split as Emacs does."
  (let ((issuer (plist-get (plist-get status :certificate) :issuer)))
    (should (stringp issuer))
    (nth 1 (split-string issuer ","))))

(defun ossl-network-tests--netrc (dir &rest lines)
  "Write LINES to a netrc file in DIR; return its name."
  (let ((file (expand-file-name "authinfo" dir)))
    (with-temp-file file
      (dolist (l lines) (insert l "\n")))
    file))

(defun ossl-network-tests--smtp-open (port type &rest more)
  "Open an SMTP-like stream to PORT as smtpmail does, :type TYPE, :return-list.
MORE are more parameters."
  (apply #'open-network-stream "ossl-smtp" (generate-new-buffer " *ossl-smtp*")
         "localhost" port
         :type type :return-list t
         :capability-command "EHLO test.example\r\n"
         :end-of-command "^[0-9]+ .*\r\n" :success "^2.*\n"
         :always-query-capabilities t
         :starttls-function (lambda (c) (and (string-match "[ -]STARTTLS" c)
                                             "STARTTLS\r\n"))
         more))

(defun ossl-network-tests--wait-status (proc)
  "Wait while PROC connects, as Emacs's own suite does; return its status."
  (ossl-test-wait-for (lambda () (not (eq (process-status proc) 'connect))) 10)
  (process-status proc))

;;;; The switch

(ert-deftest ossl-network/mode-on-and-off ()
  "The mode advises while on; off, Emacs's functions are as they were."
  (let ((before (mapcar (lambda (a) (symbol-function (car a)))
                        ossl-network--advice))
        (peer-status (and (fboundp 'gnutls-peer-status)
                          (symbol-function 'gnutls-peer-status))))
    (should-not ossl-network-mode)
    (ossl-test-with-network-mode
      (should ossl-network-mode)
      (dolist (a ossl-network--advice)
        (should (advice-member-p (nth 2 a) (nth 0 a))))
      (should (gnutls-available-p))
      (should (fboundp 'gnutls-peer-status-warning-describe)))
    (should-not ossl-network-mode)
    (dolist (a ossl-network--advice)
      (should-not (advice-member-p (nth 2 a) (nth 0 a))))
    (should (equal before (mapcar (lambda (a) (symbol-function (car a)))
                                  ossl-network--advice)))
    (should (equal peer-status (and (fboundp 'gnutls-peer-status)
                                    (symbol-function 'gnutls-peer-status))))))

(ert-deftest ossl-network/off-means-gnutls ()
  "With the mode off Emacs uses GnuTLS; on, the same call uses ossl."
  (skip-unless ossl-test-native-gnutls)
  (ossl-test-with-peer (peer (ossl-test-gnutls-server))
    (let* ((port (plist-get peer :port))
           (network-security-level 'low)
           (p (open-gnutls-stream "ossl-off" nil "localhost" port)))
      (unwind-protect
          (progn (should-not (ossl-process-conn p))
                 (should (consp (gnutls-peer-status p))))
        (ossl-network-tests--kill p))
      (ossl-test-with-network-mode
        (setq p (open-gnutls-stream "ossl-on" nil "localhost" port))
        (unwind-protect
            (progn (should (ossl-process-conn p))
                   (should (consp (gnutls-peer-status p))))
          (ossl-network-tests--kill p))))))

;;;; Emacs's own network-stream TLS tests, against gnutls-serv

(ert-deftest ossl-network/emacs-network-stream-tests ()
  "The TLS checks of Emacs's network-stream-tests.el hold over ossl.
Waiting and :nowait connections, IPv4 and IPv6, `open-network-stream'
and both argument forms of `open-gnutls-stream'; each has a peer
status whose leaf was issued by the test CA, and runs over ossl."
  (ossl-test-with-peer (peer (ossl-test-gnutls-server))
    (ossl-test-with-network-mode
      (let ((port (plist-get peer :port))
            (network-security-level 'low))
        (cl-flet ((check (proc &optional nowait)
                    (unwind-protect
                        (progn
                          (should proc)
                          (when nowait
                            (should (memq (ossl-network-tests--wait-status proc)
                                          '(open run))))
                          (should (ossl-process-conn proc))
                          (let ((status (gnutls-peer-status proc)))
                            (should (consp status))
                            (should (equal (ossl-network-tests--issuer-o status)
                                           "O=ossl tests"))))
                      (ossl-network-tests--kill proc))))
          ;; connect-to-tls-ipv4-wait
          (let ((p (make-network-process :name "bar" :buffer (generate-new-buffer "*foo*")
                                         :host "localhost" :service port)))
            (gnutls-negotiate :process p :type 'gnutls-x509pki :hostname "localhost")
            (check p))
          ;; connect-to-tls-ipv4-nowait, connect-to-tls-ipv6-nowait
          (dolist (fam '((ipv4 . "localhost") (ipv6 . "::1")))
            (check (make-network-process
                    :name "bar" :buffer (generate-new-buffer "*foo*")
                    :nowait t :family (car fam)
                    :tls-parameters (cons 'gnutls-x509pki
                                          (gnutls-boot-parameters :hostname "localhost"))
                    :host (cdr fam) :service port)
                   t))
          ;; open-network-stream-tls-wait, -nowait, plain, -nocert
          (check (open-network-stream "bar" (generate-new-buffer "*foo*") "localhost" port
                                      :type 'tls :nowait nil))
          (check (open-network-stream "bar" (generate-new-buffer "*foo*") "localhost" port
                                      :type 'tls :nowait t)
                 t)
          (check (open-network-stream "bar" (generate-new-buffer "*foo*") "localhost" port
                                      :type 'tls))
          (check (open-network-stream "bar" (generate-new-buffer "*foo*") "localhost" port
                                      :type 'tls :client-certificate nil))
          ;; IPv6, waiting.
          (check (open-network-stream "bar" (generate-new-buffer "*foo*") "::1" port
                                      :type 'tls))
          ;; open-gnutls-stream: new API default, wait, nowait; old API.
          (check (open-gnutls-stream "bar" (generate-new-buffer "*foo*") "localhost" port))
          (check (open-gnutls-stream "bar" (generate-new-buffer "*foo*") "localhost" port
                                     (list :nowait nil)))
          (check (open-gnutls-stream "bar" (generate-new-buffer "*foo*") "localhost" port
                                     (list :nowait t))
                 t)
          (let ((nowait nil))
            (check (open-gnutls-stream "bar" (generate-new-buffer "*foo*") "localhost"
                                       port nowait)))
          (let ((nowait t))
            (check (open-gnutls-stream "bar" (generate-new-buffer "*foo*") "localhost"
                                       port nowait)
                   t))
          ;; open-gnutls-stream-new-api-errors
          (should-error (open-gnutls-stream "bar" (generate-new-buffer "*foo*")
                                            "localhost" port (list t)))
          (should-error (open-gnutls-stream "bar" (generate-new-buffer "*foo*")
                                            "localhost" port (vector :nowait t))))))))

;;;; :nowait connections

(ert-deftest ossl-network/nowait-like-gnutls ()
  "A :nowait TLS stream: `connect' until ready, one \"open\", early data kept."
  (ossl-test-with-peer (peer (ossl-test-gnutls-server))
    (ossl-test-with-network-mode
      (let* ((events nil)
             (p (open-network-stream "ossl-nowait" (generate-new-buffer " *nowait*")
                                     "localhost" (plist-get peer :port)
                                     :type 'tls :nowait t)))
        (unwind-protect
            (progn
              (should (eq (process-status p) 'connect))
              (set-process-sentinel
               p (lambda (proc event)
                   (push (list event (process-status proc)
                               (consp (gnutls-peer-status proc)))
                         events)))
              ;; Sent before the connection is even up: waits, then
              ;; goes out encrypted.
              (process-send-string p "early bird\n")
              (ossl-test-wait-for
               (lambda () (with-current-buffer (process-buffer p)
                            (string-search "early bird\n" (buffer-string)))))
              (ossl-test-wait-for (lambda () events))
              (should (equal events '(("open\n" open t))))
              (should (ossl-process-conn p)))
          (ossl-network-tests--kill p))))))

(ert-deftest ossl-network/nowait-refused-by-nsm ()
  "A :nowait stream to a wrong-name host fails as GnuTLS's does, saying why.
Nothing queued is sent to the refused host."
  (ossl-test-with-peer (peer (ossl-test-python-peer
                              "echo" :cert (ossl-test-file "wrongname-chain.pem")
                              :key (ossl-test-file "wrongname.key")))
    (ossl-test-with-network-mode
      (let* ((events nil)
             (p (open-network-stream "ossl-nowait-bad" nil "localhost"
                                     (plist-get peer :port) :type 'tls :nowait t)))
        (set-process-sentinel p (lambda (_p e) (push e events)))
        ;; Sending waits for the connection, then says why it failed.
        (let ((err (should-error (process-send-string p "secret\n")
                                 :type 'ossl-network-error)))
          (should (string-match-p "wrong\\.example" (cadr err))))
        (ossl-test-wait-for (lambda () events))
        (should (eq (process-status p) 'failed))
        (should (string-prefix-p "failed with code " (car events)))
        (should (string-match-p "Network Security Manager" (car events)))
        (should (string-match-p "wrong\\.example" (car events)))
        (should (string-match-p "localhost" (ossl-network-process-error p)))
        (sleep-for 0.2)
        (should (= (length events) 1))
        (should-not (string-match-p "^RECEIVED [1-9]" (ossl-test-peer-output peer)))))))

(ert-deftest ossl-network/nowait-peer-hangs-up ()
  "A :nowait stream whose server hangs up during the handshake fails at once."
  (ossl-test-with-peer (peer (ossl-test-python-peer "close-early"))
    (ossl-test-with-network-mode
      (let* ((events nil)
             (start (float-time))
             (p (open-network-stream "ossl-nowait-hup" nil "localhost"
                                     (plist-get peer :port) :type 'tls :nowait t)))
        (set-process-sentinel p (lambda (_p e) (push e events)))
        (ossl-test-wait-for (lambda () events))
        (should (< (- (float-time) start) 5))
        (should (eq (process-status p) 'failed))
        (should (string-match-p
                 (format "failed with code TLS handshake with localhost:%d failed"
                         (plist-get peer :port))
                 (car events)))))))

;;;; Errors a user can act on

(ert-deftest ossl-network/errors-name-host-step-reason ()
  "Connect, handshake, protocol and timeout failures say where and why."
  (ossl-test-with-network-mode
    ;; Connect.
    (let* ((probe (make-network-process :name "ossl-probe" :server t :host "127.0.0.1"
                                        :service t :noquery t))
           (port (process-contact probe :service)))
      (delete-process probe)
      (let ((err (should-error (open-network-stream "ossl-err" nil "127.0.0.1" port
                                                    :type 'tls)
                               :type 'file-error)))
        (should (equal (error-message-string err)
                       (format "Connecting to 127.0.0.1:%d failed: Connection refused"
                               port)))))
    ;; Handshake: a server that offers only TLS 1.1.
    (ossl-test-with-peer (peer (ossl-test-gnutls-server
                                :extra-args '("--priority=NORMAL:-VERS-ALL:+VERS-TLS1.1")))
      (let ((err (should-error (open-network-stream "ossl-err" nil "localhost"
                                                    (plist-get peer :port) :type 'tls)
                               :type 'ossl-network-handshake-error)))
        (should (string-match-p (format "localhost:%d" (plist-get peer :port))
                                (cadr err)))
        (should (string-match-p "older than 1\\.2" (cadr err)))))
    ;; TLS to a port that speaks plain text (a STARTTLS port).
    (ossl-test-with-peer (peer (ossl-network-tests--peer "fake-smtp" "--behaviour" "absent"))
      (let ((err (should-error (open-network-stream "ossl-err" nil "localhost"
                                                    (plist-get peer :port) :type 'tls)
                               :type 'ossl-network-handshake-error)))
        (should (string-match-p (format "localhost:%d" (plist-get peer :port))
                                (cadr err)))
        (should (string-match-p "did not answer in TLS.*STARTTLS" (cadr err)))))
    ;; Timeout: a server that never answers.
    (ossl-test-with-peer (peer (ossl-test-python-peer "silent"))
      (let* ((ossl-handshake-timeout 1)
             (err (should-error (open-network-stream "ossl-err" nil "localhost"
                                                     (plist-get peer :port) :type 'tls)
                                :type 'ossl-network-timeout-error)))
        (should (string-match-p "timed out after 1 seconds" (cadr err)))
        (should (string-match-p (format "localhost:%d" (plist-get peer :port))
                                (cadr err)))))))

;;;; Client certificates

(ert-deftest ossl-network/client-certificates ()
  "Client certificates: a (KEY CERT) pair, t via auth-source, encrypted keys."
  (ossl-test-with-peer (peer (ossl-test-gnutls-server :client-auth 'require))
    (ossl-test-with-network-mode
      (let* ((port (plist-get peer :port))
             (key (ossl-test-file "client.key"))
             (cert (ossl-test-file "client.pem"))
             (enc (expand-file-name "client-enc.key" ossl-test--network-dir))
             (echo (lambda (p)
                     (process-send-string p "hello client cert\n")
                     (ossl-test-wait-for
                      (lambda () (with-current-buffer (process-buffer p)
                                   (string-search "hello client cert"
                                                  (buffer-string)))))
                     (ossl-network-tests--kill p))))
        (ossl-test--run-openssl ossl-test--network-dir "pkey" "-in" key "-aes256"
                                "-passout" "pass:secret-pass" "-out" enc)
        ;; Without a certificate the server refuses, and we say so.
        (ossl-test-with-peer (tls12 (ossl-test-gnutls-server
                                     :client-auth 'require
                                     :extra-args '("--priority=NORMAL:-VERS-ALL:+VERS-TLS1.2")))
          (let ((err (should-error (open-network-stream "ossl-cc" nil "localhost"
                                                        (plist-get tls12 :port)
                                                        :type 'tls)
                                   :type 'ossl-network-handshake-error)))
            (should (string-match-p (format "localhost:%d" (plist-get tls12 :port))
                                    (cadr err)))
            (should (string-match-p "TLS handshake with localhost" (cadr err)))))
        ;; (KEY CERT)
        (funcall echo (open-network-stream "ossl-cc" (generate-new-buffer " *cc*")
                                           "localhost" port :type 'tls
                                           :client-certificate (list key cert)))
        ;; t: auth-source names the key and certificate.
        (let ((auth-sources (list (ossl-network-tests--netrc
                                   ossl-test--network-dir
                                   (format "machine localhost port %d key %s cert %s"
                                           port key cert)))))
          (funcall echo (open-network-stream "ossl-cc" (generate-new-buffer " *cc*")
                                             "localhost" port :type 'tls
                                             :client-certificate t)))
        ;; An encrypted key, passphrase from auth-source.
        (let ((auth-sources (list (ossl-network-tests--netrc
                                   ossl-test--network-dir
                                   (format "machine %s password secret-pass" enc))))
              (read-passwd-called nil))
          (cl-letf (((symbol-function 'read-passwd)
                     (lambda (&rest _) (setq read-passwd-called t) nil)))
            (funcall echo (open-network-stream "ossl-cc" (generate-new-buffer " *cc*")
                                               "localhost" port :type 'tls
                                               :client-certificate (list enc cert))))
          (should-not read-passwd-called))
        ;; An encrypted key, passphrase typed by the user.
        (let ((prompt nil))
          (cl-letf (((symbol-function 'read-passwd)
                     (lambda (p &rest _) (setq prompt p) "secret-pass")))
            (funcall echo (open-network-stream "ossl-cc" (generate-new-buffer " *cc*")
                                               "localhost" port :type 'tls
                                               :client-certificate (list enc cert))))
          (should (string-match-p "client-enc\\.key" prompt)))
        ;; A wrong passphrase: an error about the key, no connection left.
        (cl-letf (((symbol-function 'read-passwd) (lambda (&rest _) "wrong")))
          (let ((n (length (process-list))))
            (should-error (open-network-stream "ossl-cc" nil "localhost" port
                                               :type 'tls
                                               :client-certificate (list enc cert))
                          :type 'ossl-error)
            (should (= n (length (process-list))))))))))

;;;; STARTTLS safety

(ert-deftest ossl-network/starttls-discards-injected-plaintext ()
  "Plaintext sent after the server's \"go ahead\" never reaches the caller."
  (ossl-test-with-peer (peer (ossl-network-tests--peer "fake-smtp" "--behaviour" "inject"))
    (ossl-test-with-network-mode
      (let* ((r (ossl-network-tests--smtp-open (plist-get peer :port) 'starttls))
             (p (car r)))
        (unwind-protect
            (progn
              (should (processp p))
              (should (eq (plist-get (cdr r) :type) 'tls))
              (should (ossl-process-conn p))
              (should (string-match-p "secured" (plist-get (cdr r) :capabilities)))
              (should-not (string-search "INJECTED" (plist-get (cdr r) :capabilities)))
              (with-current-buffer (process-buffer p)
                (should-not (string-search "INJECTED" (buffer-string))))
              (ossl-test-peer-wait-output peer "^LINE 1 EHLO"))
          (ossl-network-tests--kill p))))))

(ert-deftest ossl-network/starttls-required-but-refused ()
  "TLS required: a refusal or a missing STARTTLS leaves no open connection.
Opportunistic STARTTLS goes on in clear, as Emacs does."
  (ossl-test-with-network-mode
    (dolist (case '(("refuse" "refused STARTTLS: 454 4.7.0 TLS not available")
                    ("absent" "does not offer STARTTLS")))
      (ossl-test-with-peer (peer (ossl-network-tests--peer "fake-smtp" "--behaviour"
                                                           (car case)))
        (let* ((port (plist-get peer :port))
               (live (lambda () (cl-count-if
                                 (lambda (p) (and (string-prefix-p "ossl-smtp" (process-name p))
                                                  (process-live-p p)))
                                 (process-list))))
               (before (funcall live))
               (r (ossl-network-tests--smtp-open port 'starttls)))
          (should-not (car r))
          (should (equal (plist-get (cdr r) :error)
                         (if (equal (car case) "refuse")
                             (format "localhost:%d %s" port (cadr case))
                           (format "localhost:%d %s" port (cadr case)))))
          (should (= before (funcall live)))
          ;; Opportunistic: plain, as with GnuTLS.
          (let ((r (ossl-network-tests--smtp-open port 'network)))
            (should (processp (car r)))
            (should (eq (plist-get (cdr r) :type) 'plain))
            (should-not (ossl-process-conn (car r)))
            (ossl-network-tests--kill (car r))))))
    ;; A handshake that fails when TLS is required: an error, no
    ;; connection left.
    (ossl-test-with-peer (peer (ossl-network-tests--peer "fake-smtp" "--behaviour" "inject"))
      (let ((gnutls-verify-error t)
            (ossl-network-extra-ca nil)
            (n (length (process-list))))
        (should-error (ossl-network-tests--smtp-open (plist-get peer :port) 'starttls)
                      :type 'ossl-network-verify-error)
        (should (= n (length (process-list))))))))

;;;; Real servers: SMTP

(defun ossl-network-tests--send-mail (port type subject body)
  "Send a mail with SUBJECT and BODY with `smtpmail-send-it' to PORT over TYPE."
  (let ((smtpmail-smtp-server "localhost")
        (smtpmail-smtp-service port)
        (smtpmail-stream-type type)
        (smtpmail-smtp-user "ossl-user")
        (smtpmail-servers-requiring-authorization ".")
        (smtpmail-queue-mail nil)
        (smtpmail-debug-info nil)
        (user-mail-address "sender@example.org")
        (mail-specify-envelope-from nil)
        (smtpmail-code-conv-from 'utf-8))
    (with-temp-buffer
      (insert "From: Sender <sender@example.org>\n"
              "To: rcpt@example.org\n"
              "Subject: " subject "\n"
              "MIME-Version: 1.0\n"
              "Content-Type: text/plain; charset=utf-8\n"
              "Content-Transfer-Encoding: 8bit\n"
              mail-header-separator "\n"
              body)
      (set-buffer-file-coding-system 'utf-8-unix)
      (smtpmail-send-it))))

(defun ossl-network-tests--received (file)
  "The subject and body of the mail in FILE, decoded as UTF-8."
  (with-temp-buffer
    (insert (decode-coding-string
             (with-temp-buffer
               (set-buffer-multibyte nil)
               (insert-file-contents-literally file)
               (buffer-string))
             'utf-8-dos))
    (goto-char (point-min))
    (let ((subject (and (re-search-forward "^Subject: \\(.*\\)$" nil t)
                        (rfc2047-decode-string (match-string 1)))))
      (re-search-forward "^$")
      (list subject (buffer-substring (1+ (point)) (point-max))))))

(ert-deftest ossl-network/smtpmail-starttls-and-smtps ()
  "Smtpmail delivers a multibyte mail over STARTTLS and SMTPS; AUTH never in clear."
  (ossl-test-with-network-mode
    (let* ((outdir ossl-test--network-dir)
           (subject "Grüße — 日本語のテスト ✓")
           (body (concat "Hällo wörld, ça va? 😀\n" ossl-test-utf8-unit
                         "Ünïcödé line two.\n")))
      (ossl-test-with-peer (peer (ossl-network-tests--peer "smtp" "--outdir" outdir))
        (let* ((port (plist-get peer :port))
               (smtps (string-to-number
                       (ossl-test-peer-wait-output peer "^SMTPS \\([0-9]+\\)$")))
               (auth-sources (list (ossl-network-tests--netrc
                                    outdir
                                    (format "machine localhost port %d login ossl-user password ossl-pass"
                                            port)
                                    (format "machine localhost port %d login ossl-user password ossl-pass"
                                            smtps)))))
          (ossl-network-tests--send-mail port 'starttls subject body)
          (ossl-network-tests--send-mail smtps 'ssl subject body)
          (let* ((out (ossl-test-peer-output peer))
                 (files (let ((pos 0) fs)
                          (while (string-match "^MESSAGE \\(.*\\)$" out pos)
                            (push (match-string 1 out) fs)
                            (setq pos (match-end 0)))
                          (nreverse fs))))
            (should (= (length files) 2))
            (dolist (f files)
              (let ((got (ossl-network-tests--received f)))
                (should (equal (car got) subject))
                (should (equal (cadr got) body))))
            ;; Authentication happened, and only under TLS.
            (should (string-match-p "^AUTH smtp 1 PLAIN ossl-user ok$" out))
            (should (string-match-p "^AUTH smtps 1 PLAIN ossl-user ok$" out))
            (should-not (string-match-p "^AUTH [a-z]+ 0" out))
            (should-not (string-match-p "^CMD smtp 0 \\(AUTH\\|MAIL\\|RCPT\\|DATA\\)" out))
            (should (string-match-p "^CMD smtp 0 STARTTLS$" out))
            ;; What crossed in clear holds neither the command nor the
            ;; credentials, raw or base64.
            (let ((clear (let ((pos 0) (acc ""))
                           (while (string-match "^RAW smtp 0 \\(.*\\)$" out pos)
                             (setq acc (concat acc (base64-decode-string
                                                    (match-string 1 out)))
                                   pos (match-end 0)))
                           acc)))
              (should (string-search "STARTTLS" clear))
              (dolist (secret (list "AUTH" "ossl-pass"
                                    (base64-encode-string "\0ossl-user\0ossl-pass")))
                (should-not (string-search secret clear))))))))))

;;;; Real servers: IMAP (dovecot)

(defun ossl-network-tests--free-port ()
  "A TCP port on 127.0.0.1 that was free a moment ago."
  (let* ((probe (make-network-process :name "ossl-probe" :server t :host "127.0.0.1"
                                      :service t :noquery t))
         (port (process-contact probe :service)))
    (delete-process probe)
    port))

(defun ossl-network-tests--start-dovecot (dir)
  "Start dovecot with its own configuration in DIR; return the peer plist.
The plist has :imap and :imaps ports.  As root, dovecot's own users
run its services and `nobody' owns the mail; otherwise everything
runs as the current user."
  (let* ((root (= (user-uid) 0))
         (user (user-login-name))
         (imap (ossl-network-tests--free-port))
         (imaps (ossl-network-tests--free-port))
         (home (expand-file-name "home" dir))
         (conf (expand-file-name "dovecot.conf" dir)))
    (make-directory (expand-file-name "run" dir) t)
    (make-directory (expand-file-name "ossl-user/Maildir/.ossl-archive/cur" home) t)
    (when root
      (set-file-modes dir #o755)
      (call-process "chown" nil nil nil "-R" "nobody:nogroup" home))
    (with-temp-file conf
      (insert (format "base_dir = %s/run
state_dir = %s/run
instance_name = ossl-test
listen = 127.0.0.1
protocols = imap
log_path = /dev/stderr
info_log_path = /dev/stderr
ssl = yes
ssl_cert = <%s
ssl_key = <%s
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login
default_internal_user = %s
default_login_user = %s
passdb {
  driver = static
  args = password=imap-secret
}
userdb {
  driver = static
  args = uid=%s gid=%s home=%s/%%u
}
mail_location = maildir:~/Maildir
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = %d
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = %d
    ssl = yes
  }
}
service anvil {
  chroot =
}
"
                      dir dir (ossl-test-file "server-chain.pem")
                      (ossl-test-file "server.key")
                      (if root "dovecot" user) (if root "dovenull" user)
                      (if root "nobody" user) (if root "nogroup" (user-real-login-name))
                      home imap imaps)))
    (let ((peer (ossl-test-start-process
                 "dovecot" (or (executable-find "dovecot") "/usr/sbin/dovecot")
                 (list "-F" "-c" conf)
                 :ready-regexp "starting up" :timeout 15)))
      ;; Wait until both ports accept connections.
      (dolist (port (list imap imaps))
        (ossl-test-wait-for
         (lambda ()
           (ignore-errors
             (delete-process (make-network-process :name "ossl-probe"
                                                   :host "127.0.0.1" :service port))
             t))
         10))
      (append peer (list :imap imap :imaps imaps)))))

(defun ossl-network-tests--stop-dovecot (peer)
  "Stop the dovecot of PEER cleanly, so that its children go too."
  (let ((proc (plist-get peer :process)))
    (when (process-live-p proc)
      (signal-process proc 'TERM)
      (ossl-test-wait-for (lambda () (not (process-live-p proc))) 10)))
  (ossl-test-stop-peer peer))

(ert-deftest ossl-network/imap-dovecot-nnimap ()
  "Gnus's nnimap logs in to dovecot over STARTTLS and IMAPS and lists mailboxes."
  (skip-unless (or (executable-find "dovecot") (file-executable-p "/usr/sbin/dovecot")))
  (require 'nnimap)
  (nnheader-init-server-buffer)
  (ossl-test-with-network-mode
    (let ((peer (ossl-network-tests--start-dovecot ossl-test--network-dir)))
      (unwind-protect
          (let ((auth-sources (list (ossl-network-tests--netrc
                                     ossl-test--network-dir
                                     (format "machine localhost port %d login ossl-user password imap-secret"
                                             (plist-get peer :imap))
                                     (format "machine localhost port %d login ossl-user password imap-secret"
                                             (plist-get peer :imaps))))))
            (dolist (spec (list (list 'starttls (plist-get peer :imap))
                                (list 'ssl (plist-get peer :imaps))))
              (let ((server (format "ossl-%s" (car spec))))
                (should (nnimap-open-server
                         server `((nnimap-address "localhost")
                                  (nnimap-server-port ,(cadr spec))
                                  (nnimap-stream ,(car spec))
                                  (nnimap-user "ossl-user"))))
                (unwind-protect
                    (progn
                      (with-current-buffer (nnimap-buffer)
                        (should (ossl-process-conn (nnimap-process nnimap-object)))
                        (should (eq (nnimap-stream-type nnimap-object) 'tls)))
                      (should (nnimap-request-list server))
                      (with-current-buffer nntp-server-buffer
                        (should (string-match-p "^\"?INBOX\"? " (buffer-string)))
                        (should (string-match-p "ossl-archive" (buffer-string)))))
                  (nnimap-close-server server))))
            ;; dovecot saw both logins, both under TLS.
            (let ((out (ossl-test-peer-output peer)))
              (should (= 2 (cl-count-if (lambda (l) (string-match-p "Login: user=<ossl-user>.*TLS" l))
                                        (split-string out "\n"))))
              (should-not (string-match-p "Login: user=<ossl-user>, method=[A-Z]+, rip=[0-9.]+, lip=[0-9.]+, mpid=[0-9]+, session" out))))
        (ossl-network-tests--stop-dovecot peer)))))

;;;; Real servers: HTTPS with url

(ert-deftest ossl-network/url-https ()
  "The url library fetches a page and 10 MB over https, directly and via a proxy."
  (ossl-test-with-network-mode
    (let ((www (expand-file-name "www" ossl-test--network-dir))
          (url-http-open-connections (make-hash-table :test #'equal))
          (url-automatic-caching nil)
          (url-cookie-storage nil))
      (make-directory www)
      (with-temp-file (expand-file-name "index.html" www)
        (insert "<html><body>hello from ossl</body></html>\n"))
      (ossl-test-with-peer (peer (ossl-network-tests--peer "https" "--dir" www
                                                           "--big" "10485760"))
        (let ((port (plist-get peer :port))
              (sha (ossl-test-peer-wait-output peer "^SHA256 big.bin \\([0-9a-f]+\\)$")))
          (cl-flet ((body (buf)
                      (with-current-buffer buf
                        (goto-char (point-min))
                        (should (looking-at "HTTP/1\\.1 200"))
                        (re-search-forward "\r?\n\r?\n")
                        (prog1 (buffer-substring-no-properties (point) (point-max))
                          (should (ossl-process-conn url-http-process))
                          (kill-buffer buf)))))
            ;; Through a CONNECT proxy: url's tunnel goes through
            ;; `gnutls-negotiate', called from a process filter.
            (ossl-test-with-peer (proxy (ossl-network-tests--peer "proxy"))
              (let ((url-proxy-services `(("https" . ,(format "127.0.0.1:%d"
                                                              (plist-get proxy :port))))))
                (should (string-search "hello from ossl"
                                       (body (url-retrieve-synchronously
                                              (format "https://localhost:%d/index.html" port)
                                              t t 20))))
                (should (string-match-p (format "^CONNECT localhost:%d$" port)
                                        (ossl-test-peer-output proxy)))))
            (clrhash url-http-open-connections)
            ;; Directly, waiting.
            (should (string-search "hello from ossl"
                                   (body (url-retrieve-synchronously
                                          (format "https://localhost:%d/index.html" port)
                                          t t 20))))
            (let ((data (body (url-retrieve-synchronously
                               (format "https://localhost:%d/big.bin" port) t t 60))))
              (should (= (length data) 10485760))
              (should (equal (secure-hash 'sha256 data) sha)))
            ;; Asynchronously: a :nowait connection.
            (let ((done nil))
              (url-retrieve (format "https://localhost:%d/index.html" port)
                            (lambda (status)
                              (setq done (list status (current-buffer))))
                            nil t t)
              (ossl-test-wait-for (lambda () done) 20)
              (should-not (plist-get (car done) :error))
              (should (consp (plist-get (car done) :peer)))
              (should (string-search "hello from ossl" (body (cadr done)))))))))))

;;;; erc: :nowait TLS

(ert-deftest ossl-network/erc-tls ()
  "`erc-tls' connects without blocking, logs in once the TLS layer is up."
  (require 'erc)
  (ossl-test-with-network-mode
    (ossl-test-with-peer (peer (ossl-network-tests--peer "irc"))
      (let* ((erc-modules nil)
             (erc-autojoin-channels-alist nil)
             (erc-prompt-for-password nil)
             (erc-server-auto-reconnect nil)
             (buf (erc-tls :server "localhost" :port (plist-get peer :port)
                           :nick "osslbot" :full-name "ossl test"))
             (proc (get-buffer-process buf)))
        (unwind-protect
            (progn
              (should (eq (process-status proc) 'connect))
              (ossl-test-wait-for
               (lambda () (with-current-buffer buf
                            (string-search "Welcome to the ossl test network"
                                           (buffer-string)))))
              (should (ossl-process-conn proc))
              (should (consp (gnutls-peer-status proc)))
              (with-current-buffer buf (erc-cmd-QUIT "bye"))
              (ossl-test-peer-wait-output peer "^IRC QUIT :bye")
              ;; Logged in exactly once.
              (should (= 1 (cl-count-if (lambda (l) (string-prefix-p "IRC NICK" l))
                                        (split-string (ossl-test-peer-output peer)
                                                      "\n")))))
          (ossl-network-tests--kill proc)
          (when (buffer-live-p buf)
            (let ((kill-buffer-query-functions nil)) (kill-buffer buf))))))))

;;;; An Emacs without GnuTLS

(ert-deftest ossl-network/without-gnutls ()
  "On an Emacs without GnuTLS the mode gives TLS, STARTTLS and the NSM.
A child Emacs has GnuTLS's primitives removed before loading ossl.
Its eln load path leaves out the user's eln cache, and the test runs
twice: with the NSM and network-stream byte-compiled, and natively
compiled (where `fmakunbound' does not reach their calls to the
primitives), so that the outcome does not depend on what this
machine compiled before.  Not under a memory checker: the child
compiles trampolines, and libgccjit hangs under the ASan runtime it
inherits; the plain runs on each Emacs cover it."
  (skip-unless (not (ossl-test-sanitizer)))
  (dolist (native (if (ossl-test-native-libraries) '(nil t) '(nil)))
    (ossl-network-tests--without-gnutls native)))

(defun ossl-network-tests--without-gnutls (native)
  "The body of `ossl-network/without-gnutls'; NATIVE for a native NSM."
  (ossl-test-with-peer (gnutls (ossl-test-gnutls-server))
    (ossl-test-with-peer (bad (ossl-test-gnutls-server
                               :cert (ossl-test-file "wrongname-chain.pem")
                               :key (ossl-test-file "wrongname.key")))
      (ossl-test-with-peer (smtp (ossl-network-tests--peer "fake-smtp" "--behaviour" "inject"))
        (let* ((nsm-file (make-temp-file "ossl-nsm-child-"))
               (libs (ossl-test-native-libraries))
               (program
                `(progn
                   ,@(and native
                          `((load ,(plist-get libs :nsm) nil t t)
                            (load ,(plist-get libs :network-stream) nil t t)))
                   (dolist (f '(gnutls-boot gnutls-peer-status gnutls-peer-status-warning-describe
                                            gnutls-format-certificate gnutls-errorp gnutls-error-string
                                            gnutls-deinit gnutls-bye gnutls-get-initstage))
                     (fmakunbound f))
                   (makunbound 'gnutls-log-level)
                   (fset 'gnutls-available-p #'ignore)
                   (require 'ossl-network)
                   (setq nsm-settings-file ,nsm-file
                         ossl-network-extra-ca (list ,(ossl-test-file "root.pem")))
                   (ossl-network-mode 1)
                   (let* ((p (open-network-stream "tls" nil "localhost" ,(plist-get gnutls :port)
                                                  :type 'tls))
                          (r (open-network-stream
                              "smtp" (generate-new-buffer "smtp") "localhost"
                              ,(plist-get smtp :port)
                              :type 'starttls :return-list t
                              :capability-command "EHLO x\r\n" :end-of-command "^[0-9]+ .*\r\n"
                              :success "^2.*\n" :always-query-capabilities t
                              :starttls-function (lambda (_) "STARTTLS\r\n")))
                          (bad (open-network-stream "bad" nil "localhost" ,(plist-get bad :port)
                                                    :type 'tls :return-list t)))
                     (prin1 (list :native (subr-native-elisp-p
                                           (symbol-function 'nsm-check-tls-connection))
                                  :available (and (gnutls-available-p) t)
                                  :tls (and (ossl-process-conn p) t)
                                  :issuer (plist-get (plist-get (gnutls-peer-status p) :certificate)
                                                     :issuer)
                                  :starttls (plist-get (cdr r) :type)
                                  :bad (car bad)
                                  :bad-error (plist-get (cdr bad) :error)))
                     (terpri)
                     (ossl-network-mode -1)
                     (prin1 (list :off-peer-status (fboundp 'gnutls-peer-status)
                                  :off-available (gnutls-available-p)))
                     (terpri))))
               (out (ossl-test-child-emacs program))
               (_ (delete-file nsm-file))
               (lines (cl-remove-if-not (lambda (l) (string-prefix-p "(" l))
                                        (split-string out "\n")))
               (on (ignore-errors (car (read-from-string (nth 0 lines)))))
               (off (ignore-errors (car (read-from-string (nth 1 lines))))))
          (unless (and on (plist-get on :available) (plist-get on :tls))
            (ert-fail (list "child Emacs failed" out)))
          (should (eq (plist-get on :native) native))
          (should (equal (plist-get on :issuer)
                         "C=DE,O=ossl tests,CN=ossl Test Intermediate CA"))
          (should (eq (plist-get on :starttls) 'tls))
          (should-not (plist-get on :bad))
          (should (string-match-p "wrong\\.example" (plist-get on :bad-error)))
          (should (equal off '(:off-peer-status nil :off-available nil))))))))

(provide 'ossl-network-tests)

;;; ossl-network-tests.el ends here
