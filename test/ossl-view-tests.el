;;; ossl-view-tests.el --- Tests of the certificate viewer and the M-x commands  -*- lexical-binding: t; -*-

;;; Commentary:

;; Issue 6: `ossl-view-certificate-chain' against openssl s_server and
;; Python peers serving a good chain, an expired leaf, a leaf without
;; its intermediate, a self-signed certificate...; the keys of the
;; viewer; STARTTLS dialogs against the Python SMTP peer and against
;; in-Emacs IMAP, POP3, XMPP and FTP servers; `ossl-describe-connection',
;; `ossl-view-certificate-file' (also from dired); and the viewer as a
;; person sees it in `emacs -nw' driven through tmux.  The sessions
;; (`ossl-open-tls-stream', `ossl-starttls-current-buffer') are tested in
;; ossl-session-tests.el, the judgement's pure functions in
;; ossl-view-chain-tests.el.

;;; Code:

(require 'ert)
(require 'cl-lib)
(require 'dired)
(require 'ossl-view)
(require 'ossl-session)
(require 'ossl-test-lib)

;;;; Helpers

(defun ossl-view-tests--view (peer &optional host starttls)
  "View the chain of PEER reached as HOST (default 127.0.0.1), after STARTTLS."
  (let ((ossl-view-ca (ossl-test-root)))
    (ossl-view-certificate-chain (or host "127.0.0.1") (plist-get peer :port)
                                 starttls)))

(defun ossl-view-tests--face-at (regexp)
  "The face at the start of the first match of REGEXP in the current buffer."
  (save-excursion
    (goto-char (point-min))
    (should (re-search-forward regexp nil t))
    (get-text-property (match-beginning 0) 'face)))

(defun ossl-view-tests--verdict ()
  "The verdict text of the current viewer buffer, unwrapped."
  (save-excursion
    (goto-char (point-min))
    (should (re-search-forward "^Verdict: +" nil t))
    (let ((start (point)))
      (re-search-forward "\n\n")
      (replace-regexp-in-string "\n +" " "
                                (buffer-substring-no-properties
                                 start (match-beginning 0))))))

(defun ossl-view-tests--sha256 (file &optional index)
  "The SHA-256 fingerprint of certificate INDEX (default 0) of PKI FILE."
  (plist-get (ossl-x509-info (nth (or index 0)
                                  (ossl-x509-read-file (ossl-test-file file))))
             :sha256))

(defun ossl-view-tests--has (string)
  "Non-nil if the current buffer contains STRING."
  (save-excursion
    (goto-char (point-min))
    (search-forward string nil t)))

;;;; Chains from real peers

(ert-deftest ossl-view/good-chain ()
  "A leaf and its intermediate, trusted: every field and the verdict."
  (ossl-test-with-peer (peer (ossl-test-pki-server "server.pem" "server.key"
                                                      "int.pem"))
    (ossl-test-with-buffer (buf (ossl-view-tests--view peer "localhost"))
      (should (eq major-mode 'ossl-view-mode))
      (should buffer-read-only)
      (should (string-prefix-p "TLS connection to localhost:" (buffer-string)))
      (should (string-prefix-p "Trusted: the chain verifies up to a trusted root, and the certificate is valid for localhost"
                               (ossl-view-tests--verdict)))
      (should (eq (ossl-view-tests--face-at "^Verdict: +\\(T\\)") 'ossl-view-label))
      (should (eq (ossl-view-tests--face-at "Trusted: the chain") 'ossl-view-ok))
      (should (string-match-p "^Protocol: +TLSv1\\.[23]$" (buffer-string)))
      (should (string-match-p "^Cipher: +[A-Z0-9_-]+, [0-9]+ bits$" (buffer-string)))
      (should (string-match-p "^Name checked: localhost$" (buffer-string)))
      (should (string-match-p "^Verify code: +0 (ok)$" (buffer-string)))
      ;; One section per certificate, leaf first.
      (should (string-match-p "^\\[0\\] Peer certificate: localhost\n    Subject: +CN=localhost\n    Issuer: +CN=ossl Test Intermediate CA,O=ossl tests,C=DE$"
                              (buffer-string)))
      (should (string-match-p "^\\[1\\] Intermediate CA: ossl Test Intermediate CA$"
                              (buffer-string)))
      (should-not (ossl-view-tests--has "[2]"))
      (should (string-match-p "^    Valid: +[0-9-]+ to [0-9-]+: 36[45] days left$"
                              (buffer-string)))
      (should (string-match-p "^    Names: +DNS:localhost, IP:127\\.0\\.0\\.1, IP:::1$"
                              (buffer-string)))
      (should (string-match-p "^    Key: +EC, 256 bits$" (buffer-string)))
      (should (string-match-p "^    Signature: +ecdsa-with-SHA256$" (buffer-string)))
      (let ((fp (ossl-view-tests--sha256 "server.pem")))
        (should (ossl-view-tests--has (concat "SHA-256:      " (substring fp 0 48))))
        (should (ossl-view-tests--has (substring fp 48))))
      (should (string-match-p "Verification: ok\n +was issued by \\[1\\] ossl Test Intermediate CA\n +matches the name localhost (DNS:localhost)"
                              (buffer-string)))
      (should (string-match-p "Verification: ok\n +was issued by ossl Test Root CA, in the trust store"
                              (buffer-string)))
      (should (eq (ossl-view-tests--face-at "Verification: \\(ok\\)") 'ossl-view-label))
      (save-excursion
        (goto-char (point-min))
        (re-search-forward "Verification: +")
        (should (eq (get-text-property (point) 'face) 'ossl-view-ok)))
      ;; The keys of the issue.
      (should (eq (key-binding (kbd "TAB")) 'ossl-view-toggle-section))
      (should (eq (key-binding (kbd "RET")) 'ossl-view-toggle-section))
      (should (eq (key-binding "w") 'ossl-view-save-pem))
      (should (eq (key-binding "c") 'ossl-view-copy-fingerprint))
      (should (eq (key-binding "g") 'revert-buffer))
      (should (eq (key-binding "q") 'quit-window)))))

(ert-deftest ossl-view/expired-leaf ()
  "An expired leaf: the verdict says when, the validity is in the expired face."
  (ossl-test-with-peer (peer (ossl-test-pki-server "expired.pem" "expired.key"
                                                      "int.pem"))
    (ossl-test-with-buffer (buf (ossl-view-tests--view peer))
      (should (equal (ossl-view-tests--verdict)
                     "NOT TRUSTED: [0] localhost expired on 2021-01-01."))
      (should (eq (ossl-view-tests--face-at "NOT TRUSTED") 'ossl-view-bad))
      (should (string-match-p "^Verify code: +10 (certificate has expired)$"
                              (buffer-string)))
      (should (string-match-p "^    Valid: +2020-01-01 to 2021-01-01: EXPIRED [0-9]+ days ago$"
                              (buffer-string)))
      (should (eq (ossl-view-tests--face-at "2020-01-01 to 2021-01-01")
                  'ossl-view-expired))
      (should (string-match-p "Verification: FAILED (OpenSSL: certificate has expired)\n +expired on 2021-01-01\n +was issued by \\[1\\] ossl Test Intermediate CA\n +matches the name 127\\.0\\.0\\.1 (IP:127\\.0\\.0\\.1)"
                              (buffer-string)))
      (should (eq (ossl-view-tests--face-at "FAILED (OpenSSL") 'ossl-view-bad))
      ;; The intermediate itself is fine.
      (should (string-match-p "^\\[1\\] Intermediate CA: .*\n\\(?:    .*\n\\)*    Verification: ok$"
                              (buffer-string))))))

(ert-deftest ossl-view/missing-intermediate ()
  "The server sends only its leaf: an incomplete chain, in words."
  (ossl-test-with-peer (peer (ossl-test-pki-server "server.pem" "server.key"))
    (ossl-test-with-buffer (buf (ossl-view-tests--view peer))
      (should (equal (ossl-view-tests--verdict)
                     "NOT TRUSTED: [0] localhost was issued by CN=ossl Test Intermediate CA,O=ossl tests,C=DE, which the peer did not send and the trust store does not have (unknown issuer, or an incomplete chain)."))
      (should (string-match-p "^Verify code: +21 " (buffer-string)))
      (should-not (ossl-view-tests--has "[1]"))
      (should (string-match-p "Verification: FAILED (OpenSSL: unable to get local issuer certificate)"
                              (buffer-string))))))

(ert-deftest ossl-view/self-signed ()
  "A self-signed certificate not in the trust store."
  (ossl-test-with-peer (peer (ossl-test-pki-server "selfsigned.pem"
                                                      "selfsigned.key"))
    (ossl-test-with-buffer (buf (ossl-view-tests--view peer))
      (should (equal (ossl-view-tests--verdict)
                     "NOT TRUSTED: [0] localhost is self-signed and not in the trust store."))
      (should (string-match-p "^Verify code: +18 (self-signed certificate)$"
                              (buffer-string)))
      (should (string-match-p "^    Issuer: +CN=localhost$" (buffer-string)))
      (should (string-match-p "Verification: FAILED (OpenSSL: self-signed certificate)\n +is self-signed and not in the trust store"
                              (buffer-string))))))

(ert-deftest ossl-view/not-yet-valid-and-wrong-name ()
  "A leaf valid only from 2040, and one for other names."
  (ossl-test-with-peer (peer (ossl-test-pki-server "notyet.pem" "notyet.key"
                                                      "int.pem"))
    (ossl-test-with-buffer (buf (ossl-view-tests--view peer))
      (should (equal (ossl-view-tests--verdict)
                     "NOT TRUSTED: [0] localhost is not valid before 2040-01-01."))
      (should (string-match-p "2040-01-01 to 2041-01-01: NOT YET VALID, starts in [0-9]+ days"
                              (buffer-string)))
      (should (eq (ossl-view-tests--face-at "2040-01-01 to")
                  'ossl-view-not-yet-valid))))
  (ossl-test-with-peer (peer (ossl-test-pki-server "wrongname.pem" "wrongname.key"
                                                      "int.pem"))
    (ossl-test-with-buffer (buf (ossl-view-tests--view peer "localhost"))
      (should (equal (ossl-view-tests--verdict)
                     "NOT TRUSTED: [0] wrong.example does not match the name localhost: it is for DNS:wrong.example, DNS:other.example.")))))

(ert-deftest ossl-view/expiring-soon ()
  "A certificate within `ossl-view-expiry-warning-days' of its end: a warning."
  (ossl-test-with-peer (peer (ossl-test-pki-server "server.pem" "server.key"
                                                      "int.pem"))
    (let ((ossl-view-expiry-warning-days 400))
      (ossl-test-with-buffer (buf (ossl-view-tests--view peer "localhost"))
        (should (string-match-p "\\`Trusted, but \\[0\\] localhost expires in 36[45] days, on [0-9-]+\\.\\'"
                                (ossl-view-tests--verdict)))
        (should (eq (ossl-view-tests--face-at "Trusted, but") 'ossl-view-expiring))
        (should (eq (ossl-view-tests--face-at "[0-9-]+ to [0-9-]+: expires in 36[45] days")
                    'ossl-view-expiring))
        (should (string-match-p "expires in 36[45] days$" (buffer-string)))
        (should (ossl-view-tests--has "Verification: ok, with a warning"))))))

(ert-deftest ossl-view/untrusted-root ()
  "Without the test root trusted, the intermediate's issuer is unknown."
  (ossl-test-with-peer (peer (ossl-test-pki-server "server.pem" "server.key"
                                                      "int.pem"))
    (ossl-test-with-buffer
        (buf (let ((ossl-view-ca nil))
               (ossl-view-certificate-chain "127.0.0.1" (plist-get peer :port))))
      (should (equal (ossl-view-tests--verdict)
                     "NOT TRUSTED: [1] ossl Test Intermediate CA was issued by CN=ossl Test Root CA,O=ossl tests,ST=Berlin,C=DE, which is not in the trust store (unknown issuer)."))
      (should (string-match-p "^\\[0\\] .*\n\\(?:    .*\n\\)*    Verification: ok$"
                              (buffer-string))))))

;;;; Keys

(ert-deftest ossl-view/key-tab-expands ()
  "TAB and RET show and hide a certificate's full text."
  (ossl-test-with-peer (peer (ossl-test-pki-server "server.pem" "server.key"
                                                      "int.pem"))
    (ossl-test-with-buffer (buf (ossl-view-tests--view peer))
      (let ((summary (buffer-string)))
        (goto-char (point-min))
        (re-search-forward "^\\[1\\] ")
        (call-interactively (key-binding (kbd "TAB")))
        (should (ossl-view-tests--has "Subject Public Key Info"))
        (should (string-match-p "^\\[1\\] Intermediate CA\\(?:.*\n\\)*? +Verification: ok\n.*\n +Certificate:\n +Data:\n"
                                (buffer-string)))
        ;; Expanded under [1], not under [0].
        (should (< (save-excursion (goto-char (point-min))
                                   (search-forward "[1] Intermediate"))
                   (save-excursion (goto-char (point-min))
                                   (search-forward "Subject Public Key Info"))))
        (should (ossl-view-tests--has "CA:TRUE"))
        (call-interactively (key-binding (kbd "RET")))
        (should (equal (buffer-string) summary))
        ;; n / p move between sections; TAB on [0] expands [0].
        (goto-char (point-min))
        (ossl-view-next-section)
        (should (looking-at "\\[0\\] "))
        (call-interactively (key-binding (kbd "TAB")))
        (should (ossl-view-tests--has "X509v3 Subject Alternative Name"))
        (should (< (save-excursion (goto-char (point-min))
                                   (search-forward "Subject Public Key Info"))
                   (save-excursion (goto-char (point-min))
                                   (search-forward "[1] Intermediate"))))
        (ossl-view-next-section)
        (should (looking-at "\\[1\\] "))
        (ossl-view-previous-section)
        (should (looking-at "\\[0\\] "))
        (ossl-view-toggle-section)
        (should (equal (buffer-string) summary))
        (goto-char (point-min))
        (should-error (ossl-view-toggle-section) :type 'user-error)))))

(ert-deftest ossl-view/key-w-saves-pem ()
  "`w' writes the chain, leaf first, as PEM."
  (ossl-test-with-peer (peer (ossl-test-pki-server "server.pem" "server.key"
                                                      "int.pem"))
    (ossl-test-with-buffer (buf (ossl-view-tests--view peer))
      (let ((file (make-temp-file "ossl-view-chain-" nil ".pem")))
        (unwind-protect
            (progn
              (should (equal (ossl-view-save-pem file) file))
              (let ((saved (ossl-x509-read-file file))
                    (expected (ossl-x509-read-file
                               (ossl-test-file "server-chain.pem"))))
                (should (= (length saved) 2))
                (should (ossl-x509-equal (nth 0 saved) (nth 0 expected)))
                (should (ossl-x509-equal (nth 1 saved) (nth 1 expected))))
              ;; Through the key, answering the prompt.
              (delete-file file)
              (cl-letf (((symbol-function 'read-file-name)
                         (lambda (&rest _) file)))
                (call-interactively (key-binding "w")))
              (should (= (length (ossl-x509-read-file file)) 2)))
          (delete-file file))))))

(ert-deftest ossl-view/key-c-copies-fingerprint ()
  "`c' copies the SHA-256 fingerprint of the certificate at point."
  (ossl-test-with-peer (peer (ossl-test-pki-server "server.pem" "server.key"
                                                      "int.pem"))
    (ossl-test-with-buffer (buf (ossl-view-tests--view peer))
      (let ((kill-ring nil))
        (goto-char (point-min))
        (re-search-forward "^\\[1\\] ")
        (call-interactively (key-binding "c"))
        (should (equal (current-kill 0) (ossl-view-tests--sha256 "int.pem")))
        (re-search-backward "^\\[0\\] ")
        (forward-line 3)
        (call-interactively (key-binding "c"))
        (should (equal (current-kill 0) (ossl-view-tests--sha256 "server.pem")))
        (should (equal (ossl-view-copy-fingerprint t)
                       (plist-get (ossl-x509-info
                                   (car (ossl-x509-read-file
                                         (ossl-test-file "server.pem"))))
                                  :sha1)))))))

(ert-deftest ossl-view/key-g-reconnects ()
  "`g' connects again and redraws; when the server is gone, it says so."
  (let ((ossl-view-ca (ossl-test-root)))
    (ossl-test-with-peer (peer (ossl-test-python-peer "echo" :count 2))
      (ossl-test-with-buffer
          (buf (ossl-view-certificate-chain "localhost" (plist-get peer :port)))
        (should (string-prefix-p "Trusted" (ossl-view-tests--verdict)))
        (ossl-test-peer-wait-output peer "^ACCEPTED 1$")
        (ossl-view-toggle-section 0)
        (goto-char (point-min))
        (call-interactively (key-binding "g"))
        (ossl-test-peer-wait-output peer "^ACCEPTED 2$")
        (should (string-prefix-p "Trusted" (ossl-view-tests--verdict)))
        ;; Redrawn: the expanded text is gone.
        (should-not (ossl-view-tests--has "Subject Public Key Info"))
        (ossl-test-peer-wait-output peer "^DONE$")
        (ossl-test-wait-for
         (lambda () (not (process-live-p (plist-get peer :process)))))
        (revert-buffer)
        (should (string-match-p "\\`FAILED: .*\\(refused\\|failed\\)"
                                (ossl-view-tests--verdict)))
        (should (eq (ossl-view-tests--face-at "FAILED: ") 'ossl-view-bad))
        (should-not (ossl-view-tests--has "[0]"))))))

;;;; STARTTLS

(ert-deftest ossl-view/starttls-smtp ()
  "The SMTP dialog in clear, then the chain of the upgraded connection."
  (ossl-test-with-peer (peer (ossl-test-python-peer "starttls"))
    (ossl-test-with-buffer (buf (ossl-view-tests--view peer "localhost" 'smtp))
      (should (string-prefix-p "Trusted" (ossl-view-tests--verdict)))
      (should (string-match-p "^Protocol: +TLSv1\\.[23] (after STARTTLS, smtp)$"
                              (buffer-string)))
      (should (ossl-view-tests--has "[1] Intermediate CA"))
      (ossl-test-peer-wait-output peer "^LINE STARTTLS$")
      (should (string-match-p "^LINE EHLO " (ossl-test-peer-output peer))))))

(defun ossl-view-tests--fake-server (protocol &optional no-starttls)
  "An in-Emacs plain server speaking PROTOCOL's STARTTLS dialog, then TLS.
With NO-STARTTLS it does not offer STARTTLS.  Return the server process;
its port is (process-contact SERVER :service)."
  (let* ((cert (ossl-test-file "server-chain.pem"))
         (key (ossl-test-file "server.key"))
         (greeting (pcase protocol
                     ('imap "* OK IMAP4rev1 ready\r\n")
                     ('pop3 "+OK POP3 ready\r\n")
                     ('ftp "220 FTP ready\r\n")
                     ('smtp "220 fake ESMTP\r\n")
                     ('xmpp nil)))
         (upgrade (lambda (client reply)
                    (process-send-string client reply)
                    (ossl-starttls client :server t :cert cert :key key
                                   :callback #'ignore)))
         (filter
          (lambda (client string)
            (let ((input (concat (process-get client 'input) string)))
              (process-put client 'input input)
              (pcase protocol
                ('imap (when (string-match "^\\(\\S-+\\) STARTTLS\r\n" input)
                         (funcall upgrade client
                                  (format "%s OK Begin TLS now\r\n"
                                          (match-string 1 input)))))
                ('pop3 (when (string-match-p "^STLS\r\n" input)
                         (funcall upgrade client "+OK Begin TLS\r\n")))
                ('ftp (when (string-match-p "^AUTH TLS\r\n" input)
                        (funcall upgrade client "234 AUTH TLS OK\r\n")))
                ('smtp (cond ((string-match-p "STARTTLS\r\n" input)
                              (funcall upgrade client "220 Go ahead\r\n"))
                             ((string-match-p "^EHLO .*\r\n" input)
                              (process-put client 'input "")
                              (process-send-string
                               client (if no-starttls "250-fake\r\n250 SIZE 1000\r\n"
                                        "250-fake\r\n250 STARTTLS\r\n")))))
                ('xmpp (cond ((string-match-p "<starttls " input)
                              (funcall upgrade client
                                       "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"))
                             ((string-match-p "<stream:stream " input)
                              (process-put client 'input "")
                              (process-send-string
                               client
                               "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='1' from='localhost' version='1.0'><stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>")))))))))
    (make-network-process
     :name (format "ossl-view-fake-%s" protocol) :server t :host "127.0.0.1"
     :service t :coding 'binary :noquery t
     :filter filter
     :log (lambda (_server client _message)
            (process-put client 'input "")
            (when greeting (process-send-string client greeting))))))

(ert-deftest ossl-view/starttls-imap-pop3-xmpp-ftp ()
  "Each STARTTLS dialog against an in-Emacs server."
  (dolist (protocol '(imap pop3 xmpp ftp smtp))
    (let ((server (ossl-view-tests--fake-server protocol)))
      (unwind-protect
          (ossl-test-with-buffer
              (buf (let ((ossl-view-ca (ossl-test-root)))
                     (ossl-view-certificate-chain
                      "localhost" (process-contact server :service) protocol)))
            (should (string-prefix-p "Trusted" (ossl-view-tests--verdict)))
            (should (string-match-p (format "(after STARTTLS, %s)$" protocol)
                                    (buffer-string))))
        (delete-process server)))))

(ert-deftest ossl-view/starttls-not-offered ()
  "An SMTP server without STARTTLS: the view says so."
  (let ((server (ossl-view-tests--fake-server 'smtp t)))
    (unwind-protect
        (ossl-test-with-buffer
            (buf (ossl-view-certificate-chain
                  "localhost" (process-contact server :service) 'smtp))
          (should (equal (ossl-view-tests--verdict)
                         "FAILED: The SMTP server does not offer STARTTLS")))
      (delete-process server))))

;;;; Other commands

(ert-deftest ossl-view/describe-connection ()
  "`ossl-describe-connection' shows a live coated process."
  (ossl-test-with-peer (peer (ossl-test-pki-server "server.pem" "server.key"
                                                      "int.pem"))
    (let ((proc (ossl-open-stream "ossl-view-describe"
                                  (generate-new-buffer " *ossl-view-describe*")
                                  "localhost" (plist-get peer :port)
                                  :ca (ossl-test-root))))
      (unwind-protect
          (progn
            ;; From the process's buffer, interactively.
            (ossl-test-with-buffer
                (buf (with-current-buffer (process-buffer proc)
                       (call-interactively #'ossl-describe-connection)))
              (should (string-match-p "\\`TLS connection ossl-view-describe to localhost:[0-9]+\n"
                                      (buffer-string)))
              (should (string-match-p "^Protocol: +TLSv1\\.[23] (open, we are the client)$"
                                      (buffer-string)))
              (should (string-prefix-p "Trusted: the chain verifies up to a trusted root, and the certificate is valid for localhost"
                                       (ossl-view-tests--verdict)))
              (should (ossl-view-tests--has "[1] Intermediate CA")))
            ;; From elsewhere, by completion among coated processes.
            (with-temp-buffer
              (cl-letf (((symbol-function 'completing-read)
                         (lambda (_prompt collection &rest _)
                           (should (member "ossl-view-describe" collection))
                           "ossl-view-describe")))
                (ossl-test-with-buffer
                    (buf (call-interactively #'ossl-describe-connection))
                  (should (string-prefix-p "Trusted" (ossl-view-tests--verdict))))))
            ;; By connection object.
            (ossl-test-with-buffer
                (buf (ossl-describe-connection (ossl-process-conn proc)))
              (should (string-prefix-p "Trusted" (ossl-view-tests--verdict))))
            ;; `g' reads the live connection again; once it is gone, says so.
            (ossl-test-with-buffer (buf (ossl-describe-connection proc))
              (delete-process proc)
              (revert-buffer)
              (should (string-match-p "\\`FAILED: Process ossl-view-describe is no longer running"
                                      (ossl-view-tests--verdict)))))
        (let ((b (process-buffer proc)))
          (delete-process proc)
          (kill-buffer b))))))

;; Issue 16: issuers are proved by signatures, not by names.
(ert-deftest ossl-view/forged-issuer ()
  "A certificate naming the trusted root as issuer, signed by another key."
  (let ((dir (make-temp-file "ossl-view-forged-" t))
        (ossl-view-ca (ossl-test-root))
        (root (car (ossl-x509-read-file (ossl-test-root)))))
    (unwind-protect
        (let ((default-directory (file-name-as-directory dir))
              (process-environment (cons "OPENSSL_CONF=/dev/null" process-environment)))
          ;; An impostor root with the very subject of the test root, and
          ;; a leaf it signs without an authorityKeyIdentifier.
          (dolist (args `(("req" "-x509" "-newkey" "ec" "-pkeyopt" "ec_paramgen_curve:P-256"
                           "-nodes" "-keyout" "fake.key" "-out" "fake.pem" "-days" "30"
                           "-subj" ,(ossl-x509-subject root))
                          ("req" "-new" "-newkey" "ec" "-pkeyopt" "ec_paramgen_curve:P-256"
                           "-nodes" "-keyout" "leaf.key" "-out" "leaf.csr"
                           "-subj" "/CN=localhost")
                          ("x509" "-req" "-in" "leaf.csr" "-CA" "fake.pem" "-CAkey" "fake.key"
                           "-set_serial" "7" "-days" "30" "-out" "leaf.pem")))
            (should (eql 0 (apply #'call-process "openssl" nil nil nil args))))
          (let ((leaf (car (ossl-x509-read-file "leaf.pem"))))
            (should (equal (ossl-x509-issuer leaf) (ossl-x509-subject root)))
            (should-not (ossl-x509-verify-signature leaf root)))
          (ossl-test-with-buffer
              (buf (ossl-view-certificate-file (expand-file-name "leaf.pem" dir)))
            (should (equal (ossl-view-tests--verdict)
                           (format "PROBLEM: [0] localhost names %s as its issuer, but the signature does not verify with that certificate's key."
                                   (ossl-x509-issuer (car (ossl-x509-read-file "leaf.pem"))
                                                     'rfc2253)))))
          ;; With the impostor itself in the file, the link verifies, and
          ;; the impostor is no trust anchor: it is self-signed, untrusted.
          (ossl-test--concat-files dir "both.pem" "leaf.pem" "fake.pem")
          (ossl-test-with-buffer
              (buf (ossl-view-certificate-file (expand-file-name "both.pem" dir)))
            (should (equal (ossl-view-tests--verdict)
                           "PROBLEM: [1] ossl Test Root CA is self-signed and not in the trust store."))))
      (delete-directory dir t))))

(ert-deftest ossl-view/certificate-file ()
  "PEM chains, DER files, and files picked in dired."
  (let ((ossl-view-ca (ossl-test-root)))
    (ossl-test-with-buffer
        (buf (ossl-view-certificate-file (ossl-test-file "server-chain.pem")))
      (should (string-match-p "\\`Certificate file .*server-chain\\.pem\nContains: +2 certificates$"
                              (buffer-string)))
      (should (string-prefix-p "Looks valid: the dates are right, the signatures verify, and [1] ossl Test Intermediate CA was issued by ossl Test Root CA, in the trust store"
                               (ossl-view-tests--verdict)))
      (should (ossl-view-tests--has "[0] Leaf certificate: localhost"))
      (should (ossl-view-tests--has (substring (ossl-view-tests--sha256 "server.pem")
                                               0 48))))
    (ossl-test-with-buffer
        (buf (ossl-view-certificate-file (ossl-test-file "server.der")))
      (should (ossl-view-tests--has "Contains:     1 certificate\n"))
      (should (equal (ossl-view-tests--verdict)
                     "PROBLEM: [0] localhost was issued by CN=ossl Test Intermediate CA,O=ossl tests,C=DE, which is neither in the file nor in the trust store.")))
    (ossl-test-with-buffer
        (buf (ossl-view-certificate-file (ossl-test-file "root.pem")))
      (should (ossl-view-tests--has "[0] Root CA: ossl Test Root CA"))
      (should (string-prefix-p "Looks valid" (ossl-view-tests--verdict)))
      (should (ossl-view-tests--has "is a self-signed root in the trust store")))
    (ossl-test-with-buffer
        (buf (ossl-view-certificate-file (ossl-test-file "selfsigned.pem")))
      (should (equal (ossl-view-tests--verdict)
                     "PROBLEM: [0] localhost is self-signed and not in the trust store.")))
    (ossl-test-with-buffer
        (buf (ossl-view-certificate-file (ossl-test-file "server.key")))
      (should (string-match-p "\\`FAILED: " (ossl-view-tests--verdict))))
    ;; From dired, on the file at point.
    (let ((dired (dired-noselect (file-name-directory (ossl-test-file "root.pem")))))
      (unwind-protect
          (with-current-buffer dired
            (dired-goto-file (ossl-test-file "expired-chain.pem"))
            (ossl-test-with-buffer
                (buf (call-interactively #'ossl-view-certificate-file))
              (should (string-match-p "\\`Certificate file .*expired-chain\\.pem$"
                                      (car (split-string (buffer-string) "\n"))))
              (should (string-match-p
                       "\\`PROBLEM: \\[0\\] localhost expired on 2021-01-01 ([0-9]+ days ago)\\.\\'"
                       (ossl-view-tests--verdict)))))
        (kill-buffer dired)))))

;;;; The documentation check

(defvar check-doc-no-main)
(declare-function check-doc-problems "check-doc" (&optional root))

(ert-deftest ossl-view/check-doc-finds-gaps ()
  "build/check-doc.el reports missing docstrings, entries, and stale entries."
  (let ((check-doc-no-main t))
    (load (expand-file-name "../build/check-doc.el" ossl-test-directory) nil t))
  (let ((root (make-temp-file "ossl-check-doc-" t)))
    (unwind-protect
        (progn
          (make-directory (expand-file-name "lisp" root))
          (make-directory (expand-file-name "doc" root))
          (with-temp-file (expand-file-name "lisp/ossl-demo.el" root)
            (insert ";;; ossl-demo.el --- demo  -*- lexical-binding: t; -*-\n"
                    "(defun ossl-demo-good (x) \"Return X.\" x)\n"
                    "(defun ossl-demo-bare (x) x)\n"
                    "(defun ossl-demo--private (x) x)\n"
                    "(defun ossl-demo-cmd () \"Do it.\" (interactive) 1)\n"
                    "(defcustom ossl-demo-option 1 \"An option.\" :type 'integer)\n"
                    "(defvar ossl-demo-undocumented 1)\n"
                    "(defvar ossl-demo-declared)\n"
                    "(defface ossl-demo-face '((t)) \"A face.\")\n"
                    "(define-error 'ossl-demo-error \"Demo\")\n"
                    "(with-eval-after-load 'x (defun ossl-demo-late () \"Late.\" 2))\n"
                    "(define-derived-mode ossl-demo-mode special-mode \"D\" \"Demo mode.\")\n"
                    "(cl-defstruct (ossl-demo (:predicate ossl-demo-p)) \"A demo.\" a)\n"))
          (with-temp-file (expand-file-name "doc/ossl.texi" root)
            (insert "\\input texinfo\n@setfilename ossl.info\n@settitle demo\n"
                    "@node Top\n@top demo\n\n"
                    "@defun ossl-demo-good x\nx\n@end defun\n"
                    "@defun ossl-demo-cmd\nx\n@end defun\n"
                    "@defopt ossl-demo-option\nx\n@end defopt\n"
                    "@deffn Face ossl-demo-face\nx\n@end deffn\n"
                    "@deffn Condition ossl-demo-error\nx\n@end deffn\n"
                    "@deffn Command ossl-demo-mode\nx\n@end deffn\n"
                    "@defvar ossl-demo-mode-map\nx\n@end defvar\n"
                    "@defun ossl-demo-p object\nx\n@end defun\n"
                    "@defun ossl-demo-gone\nx\n@end defun\n@bye\n"))
          (let ((problems (check-doc-problems root)))
            (should (equal
                     (sort (mapcar (lambda (p) (replace-regexp-in-string
                                                "\\`lisp/ossl-demo.el: " "" p))
                                   problems)
                           #'string<)
                     (sort (list
                            "ossl-demo-bare (function) has no docstring"
                            "ossl-demo-bare (function) has no @defun/@defmac entry in doc/ossl.texi"
                            "ossl-demo-cmd (command) has no @deffn Command entry in doc/ossl.texi"
                            "ossl-demo-undocumented (variable) has no docstring"
                            "ossl-demo-undocumented (variable) has no @defopt/@defvar entry in doc/ossl.texi"
                            "ossl-demo-late (function) has no @defun/@defmac entry in doc/ossl.texi"
                            ;; A structure's accessors are public names too.
                            "ossl-demo-a (function) has no @defun/@defmac entry in doc/ossl.texi"
                            "doc/ossl.texi: ossl-demo-gone has an entry but no lisp/*.el defines it")
                           #'string<)))))
      (delete-directory root t))))

;;;; As a person sees it

(ert-deftest ossl-view/tmux-terminal ()
  "The viewer in `emacs -nw' under tmux: verdict line, colours, TAB."
  (skip-unless (executable-find "tmux"))
  (ossl-test-with-peer (peer (ossl-test-pki-server "expired.pem" "expired.key"
                                                      "int.pem"))
    (let ((init (make-temp-file "ossl-view-tmux-" nil ".el"))
          (script (expand-file-name "ossl-view-tmux-test.sh" ossl-test-directory))
          ;; Where this Emacs loaded ossl from (check-asan runs a copy
          ;; with the sanitized module; lisp/ may not even be built).
          (lisp (file-name-directory (locate-library "ossl"))))
      (unwind-protect
          (progn
            (with-temp-file init
              (prin1 `(progn (setq load-path (cons ,lisp load-path))
                             (require 'ossl-view)
                             (setq ossl-view-ca ,(ossl-test-root)))
                     (current-buffer)))
            (with-temp-buffer
              (let ((status (call-process
                             "sh" nil t nil script
                             (expand-file-name invocation-name invocation-directory)
                             init "127.0.0.1"
                             (number-to-string (plist-get peer :port))
                             "NOT TRUSTED: \\[0\\] localhost expired on 2021-01-01")))
                (unless (eql status 0)
                  (ert-fail (list "tmux check failed" status (buffer-string)))))))
        (delete-file init)))))

(provide 'ossl-view-tests)

;;; ossl-view-tests.el ends here
