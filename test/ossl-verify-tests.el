;;; ossl-verify-tests.el --- trust, identity and verification  -*- lexical-binding: t; -*-

;;; Commentary:

;; Issue 3: verification by default, messages a user can act on,
;; opting out, CA forms, own certificates and keys, inject-ca with
;; hindsight, cipher control and the status plist.  Peers are
;; openssl s_server and Python's ssl module on loopback.

;;; Code:

(require 'ert)
(require 'ossl)
(require 'ossl-test-lib)

(defun ossl-verify-tests--server (leaf &rest args)
  "s_server presenting LEAF.pem (with the intermediate unless :chain nil)."
  (apply #'ossl-test-openssl-server
         :cert (ossl-test-file (concat leaf ".pem"))
         :key (ossl-test-file (concat leaf ".key"))
         args))

(defmacro ossl-verify-tests--with (spec &rest body)
  "SPEC is (PROC PEER-FORM &optional HOST): connect PROC to the peer, run BODY."
  (declare (indent 1))
  (let ((peer (make-symbol "peer")))
    `(ossl-test-with-peer (,peer ,(nth 1 spec))
       (let ((,(car spec) (open-network-stream
                           "ossl-verify" nil ,(or (nth 2 spec) "localhost")
                           (plist-get ,peer :port))))
         (unwind-protect (progn ,@body)
           (delete-process ,(car spec)))))))

(defun ossl-verify-tests--error (proc &rest keys)
  "The message of the `ossl-verify-error' that coating PROC with KEYS signals."
  (cadr (should-error (apply #'ossl-starttls proc :timeout 10 keys)
                      :type 'ossl-verify-error)))

(ert-deftest ossl-verify/good-chain ()
  "A good chain verifies by default; the chain comes leaf first."
  (ossl-verify-tests--with (p (ossl-verify-tests--server "server"))
    (let ((c (ossl-starttls p :ca (ossl-test-root))))
      (should (equal (ossl-ssl-verify-certificate c) '(0 . "ok")))
      (should (equal (mapcar #'ossl-x509-subject (ossl-ssl-peer-cert-chain c))
                     (mapcar #'ossl-x509-subject
                             (ossl-x509-read-file
                              (ossl-test-file "server-chain.pem"))))))))

(ert-deftest ossl-verify/missing-intermediate ()
  "Without the intermediate the issuer is unknown; giving it as a CA helps."
  (ossl-verify-tests--with (p (ossl-verify-tests--server "server" :chain nil))
    (should (string-match-p
             "failed: certificate for localhost was issued by CN=ossl Test Intermediate CA,O=ossl tests,C=DE, which the peer did not send and the trust store does not have"
             (ossl-verify-tests--error p :ca (ossl-test-root)))))
  (ossl-verify-tests--with (p (ossl-verify-tests--server "server" :chain nil))
    (should (ossl-starttls p :ca (list (ossl-test-root)
                                       (ossl-test-file "int.pem"))))))

(ert-deftest ossl-verify/expired ()
  (ossl-verify-tests--with (p (ossl-verify-tests--server "expired"))
    (should (string-match-p "certificate for localhost expired on 2021-01-01"
                            (ossl-verify-tests--error
                             p :ca (ossl-test-root))))))

(ert-deftest ossl-verify/not-yet-valid ()
  (ossl-verify-tests--with (p (ossl-verify-tests--server "notyet"))
    (should (string-match-p
             "certificate for localhost is not valid before 2040-01-01"
             (ossl-verify-tests--error p :ca (ossl-test-root))))))

(ert-deftest ossl-verify/wrong-name ()
  (ossl-verify-tests--with (p (ossl-verify-tests--server "wrongname"))
    (should (string-match-p
             "certificate for wrong.example does not match the name localhost: it is for DNS:wrong.example, DNS:other.example"
             (ossl-verify-tests--error p :ca (ossl-test-root))))))

(ert-deftest ossl-verify/self-signed ()
  (ossl-verify-tests--with (p (ossl-verify-tests--server "selfsigned" :chain nil))
    (should (string-match-p "certificate for localhost is self-signed and not in the trust store"
                            (ossl-verify-tests--error p)))))

(ert-deftest ossl-verify/unknown-root ()
  (ossl-verify-tests--with (p (ossl-verify-tests--server "unknown" :chain nil))
    (should (string-match-p "certificate for localhost was issued by CN=ossl Unknown Root CA"
                            (ossl-verify-tests--error
                             p :ca (ossl-test-root))))))

(ert-deftest ossl-verify/ip-literal-and-sni ()
  "IP literals are checked against IP SANs and get no SNI; names get SNI."
  (ossl-test-with-peer (peer (ossl-test-python-peer "echo" :count 2))
    (let ((p (open-network-stream "ip" nil "127.0.0.1" (plist-get peer :port))))
      (unwind-protect
          (let ((c (ossl-starttls p :ca (ossl-test-root))))
            (should (equal (ossl-ssl-verify-certificate c) '(0 . "ok")))
            (should (null (plist-get (ossl-ssl-status c) :server-name))))
        (delete-process p)))
    (ossl-test-peer-wait-output peer "SNI none")
    (let ((p (open-network-stream "dns" nil "localhost" (plist-get peer :port))))
      (unwind-protect
          (let ((c (ossl-starttls p :ca (ossl-test-root))))
            (should (equal (plist-get (ossl-ssl-status c) :server-name)
                           "localhost")))
        (delete-process p)))
    (ossl-test-peer-wait-output peer "SNI localhost")))

(ert-deftest ossl-verify/wildcards ()
  "A wildcard matches one label, no more, no less; :hostname overrides."
  (dolist (case '(("a.test.example" . t) ("a.b.test.example" . nil)
                  ("test.example" . nil)))
    (ossl-verify-tests--with (p (ossl-verify-tests--server "wildcard") "127.0.0.1")
      (if (cdr case)
          (should (ossl-starttls p :ca (ossl-test-root)
                                 :hostname (car case)))
        (should (string-match-p
                 (concat "does not match the name " (regexp-quote (car case))
                         ": it is for DNS:\\*.test.example")
                 (ossl-verify-tests--error p :ca (ossl-test-root)
                                           :hostname (car case))))))))

(ert-deftest ossl-verify/opt-out ()
  "`:verify nil' and `ossl-verify-peer' let the handshake through; the
outcome stays available, also through the positional form."
  (ossl-verify-tests--with (p (ossl-verify-tests--server "expired"))
    (let ((c (ossl-starttls p :ca (ossl-test-root) :verify nil)))
      (should (equal (car (ossl-ssl-verify-certificate c)) 10))
      (should (equal (cdr (ossl-ssl-verify-certificate c))
                     "certificate has expired"))))
  (ossl-verify-tests--with (p (ossl-verify-tests--server "wrongname"))
    (let ((inhibit-message t))
      (should-not (ossl-ssl-handshake p nil (ossl-test-root))))
    (should (string-match-p "does not match the name localhost" ossl-ssl-last-error)))
  (ossl-verify-tests--with (p (ossl-verify-tests--server "wrongname"))
    (let* ((ossl-verify-peer nil)
           (c (ossl-ssl-handshake p nil (ossl-test-root))))
      (should c)
      (should (equal (car (ossl-ssl-verify-certificate c)) 62)))))

(ert-deftest ossl-verify/every-failure ()
  "With verification off, every failure is recorded, first first."
  (ossl-verify-tests--with (p (ossl-verify-tests--server "expired"))
    (let* ((c (ossl-starttls p :ca (ossl-test-root) :verify nil
                             :hostname "elsewhere.example"))
           (failures (plist-get (ossl-ssl-status c) :verify-failures)))
      (should (equal (sort (mapcar #'car failures) #'<) '(10 62)))
      (should (equal (car (car failures))
                     (car (plist-get (ossl-ssl-status c) :verify-failure))))
      (should (equal (ossl-x509-subject (nth 2 (car failures))) "/CN=localhost")))))

(ert-deftest ossl-verify/verify-function ()
  "A :verify-function decides: it sees the result and may accept or reject."
  (let (seen)
    (ossl-verify-tests--with (p (ossl-verify-tests--server "expired"))
      (should (ossl-starttls p :ca (ossl-test-root)
                             :verify-function (lambda (conn result)
                                                (setq seen (list conn result))
                                                t)))
      (should (ossl-ssl-conn-p (car seen)))
      (should (equal (car (cadr seen)) 10)))
    (ossl-verify-tests--with (p (ossl-verify-tests--server "server"))
      (should (string-match-p "rejected"
                              (ossl-verify-tests--error
                               p :ca (ossl-test-root)
                               :verify-function #'ignore))))))

(ert-deftest ossl-verify/inject-ca-with-hindsight ()
  "Injecting the missing root after the handshake flips 20 to 0."
  (ossl-verify-tests--with (p (ossl-verify-tests--server "server"))
    (let ((c (ossl-starttls p :verify nil)))
      (should (equal (car (ossl-ssl-verify-certificate c)) 20))
      (should (eq (ossl-ssl-inject-ca c (ossl-test-root)) t))
      (should (equal (ossl-ssl-verify-certificate c) '(0 . "ok")))))
  ;; A lone leaf: 21 ("unable to verify the first certificate") to 0.
  (ossl-verify-tests--with (p (ossl-verify-tests--server "unknown" :chain nil))
    (let ((c (ossl-starttls p :verify nil)))
      (should (equal (car (ossl-ssl-verify-certificate c)) 21))
      (should (eq (ossl-ssl-inject-ca c (ossl-test-file "unknown-root.pem")) t))
      (should (equal (ossl-ssl-verify-certificate c) '(0 . "ok")))
      (should-error (ossl-ssl-inject-ca c "/nonexistent/ca.pem")
                    :type 'ossl-certificate-error)
      (should-error (ossl-ssl-inject-ca c 42) :type 'wrong-type-argument)))
  ;; Other connections do not see the injected CA.
  (ossl-verify-tests--with (p (ossl-verify-tests--server "unknown" :chain nil))
    (should (equal (car (ossl-ssl-verify-certificate
                         (ossl-starttls p :verify nil)))
                   21))))

(ert-deftest ossl-verify/ca-forms ()
  "CAs as a hashed directory, PEM text, a certificate object, a list, and
through SSL_CERT_FILE."
  (let ((dir (make-temp-file "ossl-cadir" t)))
    (unwind-protect
        (progn
          (copy-file (ossl-test-root) (expand-file-name "root.pem" dir))
          (should (eq 0 (call-process "openssl" nil nil nil "rehash" dir)))
          (dolist (ca (list dir
                            (with-temp-buffer
                              (insert-file-contents (ossl-test-root))
                              (buffer-string))
                            (car (ossl-x509-read-file (ossl-test-root)))
                            (list (ossl-test-file "int.pem")
                                  (ossl-test-root))))
            (ossl-verify-tests--with (p (ossl-verify-tests--server "server"))
              (should (equal (ossl-ssl-verify-certificate (ossl-starttls p :ca ca))
                             '(0 . "ok"))))))
      (delete-directory dir t)))
  (let ((process-environment (cons (concat "SSL_CERT_FILE="
                                           (ossl-test-root))
                                   process-environment)))
    (ossl-verify-tests--with (p (ossl-verify-tests--server "server"))
      (should (ossl-starttls p)))))

(ert-deftest ossl-verify/client-certificates-and-keys ()
  "Own certificate and key as files, PEM text, an encrypted key with a
password string or function; errors for wrong ones."
  (let ((client (ossl-test-file "client.pem"))
        (key (ossl-test-file "client.key")))
    (dolist (forms (list (list :cert client :key key)
                         (list :cert (with-temp-buffer
                                       (insert-file-contents client)
                                       (buffer-string))
                               :key (with-temp-buffer
                                      (insert-file-contents key)
                                      (buffer-string)))))
      (ossl-test-with-peer (peer (ossl-verify-tests--server
                                  "server" :extra-args
                                  (list "-Verify" "1" "-CAfile"
                                        (ossl-test-file "ca-bundle.pem"))))
        (let ((p (open-network-stream "cc" nil "localhost" (plist-get peer :port))))
          (unwind-protect
              (let ((c (apply #'ossl-starttls p :ca (ossl-test-root)
                              forms)))
                (should (string-match-p "ossl test client"
                                        (ossl-x509-subject (ossl-ssl-cert c))))
                (process-send-string p "hello\n")
                (ossl-test-peer-wait-output peer "hello"))
            (delete-process p))
          (should (string-match-p "CN *= *ossl test client"
                                  (ossl-test-peer-output peer)))))))
  ;; An encrypted key: password string, password function, wrong one.
  (let ((cert (ossl-test-file "server.pem"))
        (key (ossl-test-file "encrypted.key")))
    (ossl-verify-tests--with (p (ossl-verify-tests--server "server"))
      (should (ossl-starttls p :ca (ossl-test-root) :cert cert :key key
                             :password "secret-pass")))
    (ossl-verify-tests--with (p (ossl-verify-tests--server "server"))
      (should (ossl-starttls p :ca (ossl-test-root) :cert cert :key key
                             :password (lambda () "secret-pass"))))
    (ossl-verify-tests--with (p (ossl-verify-tests--server "server"))
      (let ((err (should-error (ossl-starttls p :cert cert :key key
                                              :password "wrong-pass-123")
                               :type 'ossl-key-error)))
        (should (string-match-p "wrong password" (cadr err)))
        (should-not (string-search "wrong-pass-123" (format "%S" err))))
      (should-error (ossl-starttls p :cert cert :key key) :type 'ossl-key-error)
      (should-error (ossl-starttls p :cert cert :key (ossl-test-file "client.key"))
                    :type 'ossl-key-error))))

(ert-deftest ossl-verify/inject-cert ()
  "A client certificate injected before the server asks for it is sent;
a key that does not match, or an injection after the handshake, is an error.
On the Lisp path: under the descriptor the handshake runs on the I/O
thread at once, and may be over before the next form (see the manual)."
  (ossl-test-with-peer (peer (ossl-verify-tests--server
                              "server" :extra-args
                              (list "-Verify" "1" "-CAfile"
                                    (ossl-test-file "ca-bundle.pem"))))
    (let* ((ossl-socket-data-path 'lisp)
           (p (open-network-stream "ic" nil "localhost" (plist-get peer :port)))
           (done nil)
           (c (ossl-starttls p :ca (ossl-test-root)
                             :callback (lambda (r) (setq done r)))))
      (unwind-protect
          (progn
            (should-error (ossl-ssl-inject-cert c (ossl-test-file "client.pem")
                                                (ossl-test-file "server.key"))
                          :type 'ossl-key-error)
            (should (eq (ossl-ssl-inject-cert
                         c (car (ossl-x509-read-file (ossl-test-file "client.pem")))
                         (ossl-test-file "client.key"))
                        t))
            (ossl-test-wait-for (lambda () done))
            (should (eq done c))
            (should (string-match-p "ossl test client"
                                    (ossl-x509-subject (ossl-ssl-cert c))))
            (process-send-string p "x\n")
            (ossl-test-peer-wait-output peer "CN *= *ossl test client")
            (should-error (ossl-ssl-inject-cert c (ossl-test-file "client.pem")
                                                (ossl-test-file "client.key"))
                          :type 'ossl-error))
        (delete-process p)))))

(ert-deftest ossl-verify/bad-input ()
  "Missing files, garbage, DER named .pem, non-certificates: clear errors."
  (let ((garbage (make-temp-file "ossl-garbage" nil ".pem"
                                 "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n"))
        (der-as-pem (make-temp-file "ossl-der" nil ".pem")))
    (unwind-protect
        (progn
          (copy-file (ossl-test-file "server.der") der-as-pem t)
          (ossl-verify-tests--with (p (ossl-verify-tests--server "server"))
            (should-error (ossl-starttls p :ca "/nonexistent/root.pem")
                          :type 'ossl-certificate-error)
            (should-error (ossl-starttls p :ca garbage)
                          :type 'ossl-certificate-error)
            (should-error (ossl-starttls p :ca 42) :type 'wrong-type-argument)
            (should-error (ossl-starttls p :cert "/nonexistent/c.pem")
                          :type 'ossl-certificate-error)
            (should-error (ossl-starttls p :cert garbage :key garbage)
                          :type 'ossl-certificate-error)
            ;; A DER certificate is read whatever its file name says.
            (should (ossl-starttls p :ca (ossl-test-root)
                                   :cert der-as-pem
                                   :key (ossl-test-file "server.key")))))
      (delete-file garbage)
      (delete-file der-as-pem))))

(ert-deftest ossl-verify/cipher-control ()
  ":ciphers, :ciphersuites and version bounds are honoured and visible."
  (ossl-verify-tests--with (p (ossl-verify-tests--server "server"))
    (let ((c (ossl-starttls p :ca (ossl-test-root)
                            :max-version 'tls1.2
                            :ciphers "ECDHE-ECDSA-AES128-GCM-SHA256")))
      (should (eq (ossl-ssl-cipher-version c) 'TLSv1.2))
      (should (equal (ossl-ssl-cipher-name c) "ECDHE-ECDSA-AES128-GCM-SHA256"))
      (should (equal (ossl-ssl-cipher-names c) '("ECDHE-ECDSA-AES128-GCM-SHA256")))))
  (ossl-verify-tests--with (p (ossl-verify-tests--server "server"))
    (let ((c (ossl-starttls p :ca (ossl-test-root)
                            :ciphersuites "TLS_CHACHA20_POLY1305_SHA256")))
      (should (equal (ossl-ssl-cipher-name c) "TLS_CHACHA20_POLY1305_SHA256"))
      (should (member "TLS_CHACHA20_POLY1305_SHA256" (ossl-ssl-cipher-names c)))
      (should-not (member "TLS_AES_256_GCM_SHA384" (ossl-ssl-cipher-names c)))))
  (ossl-verify-tests--with (p (ossl-verify-tests--server "server"
                                                        :extra-args '("-tls1_3")))
    (should-error (ossl-starttls p :ca (ossl-test-root)
                                 :max-version 'tls1.2)
                  :type 'ossl-handshake-error))
  (ossl-verify-tests--with (p (ossl-verify-tests--server "server"))
    (should-error (ossl-starttls p :ciphers "NO-SUCH-CIPHER")
                  :type 'ossl-error)))

(ert-deftest ossl-verify/status ()
  "The status plist says what was negotiated and verified."
  (ossl-verify-tests--with (p (ossl-verify-tests--server "server"))
    (let* ((c (ossl-starttls p :ca (ossl-test-root)))
           (s (ossl-ssl-status c)))
      (should (eq (plist-get s :state) 'open))
      (should (equal (plist-get s :protocol) "TLSv1.3"))
      (should (equal (plist-get s :cipher) (ossl-ssl-cipher-name c)))
      (should (integerp (plist-get s :cipher-bits)))
      (should (stringp (plist-get s :group)))
      (should (string-match-p "ECDSA" (plist-get s :signature-algorithm)))
      (should (equal (plist-get s :server-name) "localhost"))
      (should (equal (plist-get s :hostname) "localhost"))
      (should (equal (plist-get s :verify-result) '(0 . "ok")))
      (should (null (plist-get s :verify-failure)))
      (should (= (length (plist-get s :peer-certificates)) 2))
      (should-not (plist-get s :session-reused))
      (should-not (plist-get s :truncated))
      (ossl-ssl-finish c)
      (should (equal (ossl-ssl-status c) '(:state closed))))))

;;;; Outcomes as words

(ert-deftest ossl-verify/outcome-words ()
  "Each outcome a real chain gives reaches Lisp as its word: in the
status, in the failure at the certificate that failed, and in the
explanation; the SXEmacs code is OpenSSL's.
A case is (LEAF SERVER-ARGS CA WORD CODES WORDS): s_server presents
LEAF (of the PKI) or SERVER-ARGS; CA is trusted."
  (let ((root (list (ossl-test-root)))
        (both (list (ossl-test-root) (ossl-test-file "int.pem"))))
    (dolist (case `(("server" nil ,root ok (0) nil)
                    ("expired" nil ,root expired (10) "expired on 2021-01-01")
                    ("notyet" nil ,root not-activated (9)
                     "is not valid before 2040-01-01")
                    ("wrongname" nil ,root no-host-match (62)
                     "does not match the name localhost: it is for DNS:wrong.example, DNS:other.example")
                    ("selfsigned" (:chain nil) ,root self-signed (18)
                     "is self-signed and not in the trust store")
                    ("server" (:chain nil) ,root unknown-ca (20 21)
                     "was issued by CN=ossl Test Intermediate CA,O=ossl tests,C=DE, which the peer did not send")
                    ("unknown" (:chain nil) ,root unknown-ca (20 21)
                     "was issued by CN=ossl Unknown Root CA,O=ossl tests,ST=Berlin,C=DE, which the peer did not send and the trust store does not have")
                    ("server" (:chain ,(ossl-test-file "ca-bundle.pem")) nil
                     untrusted-root (19)
                     "is a self-signed root that is not in the trust store")
                    (nil (:cert ,(ossl-test-weak-file "by-leaf.pem")
                          :key ,(ossl-test-weak-file "by-leaf.key")
                          :chain ,(ossl-test-weak-file "by-leaf-chain.pem"))
                         ,both not-ca (79 32)
                         "is not a CA certificate, yet it issued another certificate")
                    (nil (:cert ,(ossl-test-weak-file "weak-rsa1024.pem")
                          :key ,(ossl-test-weak-file "weak-rsa1024.key")
                          :extra-args ("-cipher" "DEFAULT@SECLEVEL=0"))
                         ,root insecure (66) "is too weak: EE certificate key too weak")
                    (nil (:cert ,(ossl-test-weak-file "critical-ext.pem")
                          :key ,(ossl-test-weak-file "critical-ext.key"))
                         ,root unhandled-critical-extension (34)
                         "fails verification: unhandled critical extension")))
      (ert-info ((format "%S" case))
        (pcase-let ((`(,leaf ,args ,ca ,word ,codes ,words) case))
          (ossl-verify-tests--with
              (p (if leaf (apply #'ossl-verify-tests--server leaf args)
                   (apply #'ossl-test-openssl-server args)))
            (let* ((c (ossl-starttls p :verify nil :ca ca))
                   (s (ossl-ssl-status c))
                   (failure (plist-get s :verify-failure)))
              (should (eq (plist-get s :verify-outcome) word))
              (should (memq (car (ossl-ssl-verify-certificate c)) codes))
              (should (equal (plist-get s :verify-result)
                             (ossl-ssl-verify-certificate c)))
              (if (eq word 'ok)
                  (should-not failure)
                (should (eq (nth 4 failure) word))
                (should (memq (nth 0 failure) codes))
                (should (string-search
                         words (ossl-x509-verify-explanation
                                word (nth 2 failure) "localhost"
                                (nth 3 failure))))))))))))

(ert-deftest ossl-verify/outcome-words-without-a-chain ()
  "A client that checked no name, and a server whose client sent no
certificate, are not ok; their words have the SXEmacs code 50."
  (let ((c (ossl--conn-new (ossl-test-engine-ctx nil) nil 'none))
        (s (ossl--conn-new (ossl-test-engine-ctx t) nil 'none)))
    (ossl--feed c "")
    (ossl-test-engine-pump c s)
    (should (eq (ossl--state c) 'open))
    (should (eq (ossl--verify-outcome c) 'host-not-checked))
    (should (equal (ossl--verify-code c)
                   '(50 . "certificate chain ok, but no host name was checked")))
    (should (eq (ossl--verify-outcome s) 'no-certificate))
    (should (equal (ossl--verify-code s) '(50 . "peer presented no certificate")))))

(ert-deftest ossl-verify/every-word-documented ()
  "Every word a verify outcome can be is in the manual's table and has
words of its own or OpenSSL's text."
  (let ((manual (with-temp-buffer
                  (insert-file-contents
                   (expand-file-name "../doc/ossl.texi" ossl-test-directory))
                  (buffer-string)))
        (cert (car (ossl-x509-read-file (ossl-test-file "server.pem")))))
    (should (memq 'other (ossl--verify-words)))
    (dolist (word (ossl--verify-words))
      (should (string-match-p (format "^@itemx? %s$" word) manual))
      (should (stringp (ossl-x509-verify-explanation word cert "localhost"
                                                     "OpenSSL's text"))))
    (should (equal (ossl-x509-verify-explanation 'no-certificate nil nil
                                                 "peer presented no certificate" t)
                   "peer presented no certificate"))
    (should (equal (ossl-x509-verify-explanation 'other cert nil "odd" t)
                   "certificate for localhost fails verification: odd"))))

(provide 'ossl-verify-tests)
;;; ossl-verify-tests.el ends here
