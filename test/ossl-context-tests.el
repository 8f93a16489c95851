;;; ossl-context-tests.el --- Tests of lisp/ossl-context.el  -*- lexical-binding: t; -*-

;;; Commentary:

;; Context policy: methods and versions, keys and their passwords.
;; (Trusted CAs in every form and cipher control are in the
;; verification suite, ossl-verify-tests.el.)

;;; Code:

(require 'ert)
(require 'ossl)
(require 'ossl-test-lib)

(ert-deftest ossl/contexts-load-no-compiler ()
  "Making contexts, as every coating does first, loads no library.
Regression (issue 15): `cl-some' in `ossl--sni-password-p' and
`ossl--key-data-p' autoloaded cl-extra, whose loading (with seq)
defines generic methods, and Emacs 28 byte-compiles their
dispatchers: the first coating loaded the byte compiler, which grew
the live heap by some 700 kB and slowed every later GC.  In a fresh
child of this same Emacs: client and server contexts, with an :sni
entry and file names as multibyte strings (the raw-byte scan of
`ossl--key-data-p' runs over them)."
  (let* ((cert (ossl-test-file "server-chain.pem"))
         (key (ossl-test-file "server.key"))
         (out (ossl-test-child-emacs
               `(progn
                  (require 'ossl)
                  (let ((loaded nil))
                    (add-hook 'after-load-functions
                              (lambda (file) (push (file-name-base file) loaded)))
                    (ossl--context nil (list :ca ,(ossl-test-file "root.pem")))
                    (ossl--context
                     t (list :cert (string-to-multibyte ,cert)
                             :key (string-to-multibyte ,key)
                             :sni (list (list "other.example"
                                              :cert ,cert :key ,key))))
                    (prin1 (list :loaded loaded
                                 :bytecomp (featurep 'bytecomp)
                                 :cl-extra (featurep 'cl-extra)))
                    (terpri)))))
         (result (ossl-test-child-result out)))
    (should (equal result '(:loaded nil :bytecomp nil :cl-extra nil)))))

(ert-deftest ossl/methods ()
  "ssl2/ssl3 are refused; a pinned version the peer lacks fails with a reason."
  (ossl-test-with-peer (peer (ossl-test-openssl-server :extra-args '("-tls1_3")))
    (ossl-test-with-proc (p (ossl-test-connect peer))
      (should-error (ossl-ssl-handshake p 'ssl3) :type 'ossl-not-supported-error)
      (should-error (ossl-ssl-handshake p 'ssl2) :type 'ossl-not-supported-error)
      (should-error (ossl-ssl-handshake p 42) :type 'wrong-type-argument)
      (should-not (ossl-ssl-handshake p 'tls1.2 (ossl-test-root)))
      (should (string-match-p "localhost\\|127.0.0.1" ossl-ssl-last-error))
      (should (string-match-p "version\\|protocol" ossl-ssl-last-error))
      ;; The failed handshake closed the process.
      (should-not (ossl-process-conn p))
      (should-not (process-live-p p)))))

(ert-deftest ossl/password-function-only-when-needed ()
  "A password function is called for an encrypted key only."
  (let ((calls 0))
    (ossl-test-with-peer (peer (ossl-test-openssl-server))
      (ossl-test-with-proc (p (ossl-test-connect peer))
        (ossl-starttls p :ca (ossl-test-root)
                       :cert (ossl-test-file "client.pem")
                       :key (ossl-test-file "client.key")
                       :password (lambda () (cl-incf calls) "unused"))
        (should (= calls 0))))
    (ossl-test-with-peer (peer (ossl-test-openssl-server))
      (ossl-test-with-proc (p (ossl-test-connect peer))
        (ossl-starttls p :ca (ossl-test-root)
                       :cert (ossl-test-file "server.pem")
                       :key (ossl-test-file "encrypted.key")
                       :password (lambda () (cl-incf calls) "secret-pass"))
        (should (= calls 1))))
    ;; A function that signals: its error comes through, nothing crashes.
    (ossl-test-with-peer (peer (ossl-test-openssl-server))
      (ossl-test-with-proc (p (ossl-test-connect peer))
        (should-error (ossl-starttls p :cert (ossl-test-file "server.pem")
                                     :key (ossl-test-file "encrypted.key")
                                     :password (lambda () (error "Cancelled")))
                      :type 'error)
        (should-error (ossl-starttls p :cert (ossl-test-file "server.pem")
                                     :key (ossl-test-file "encrypted.key")
                                     :password (lambda () 42))
                      :type 'wrong-type-argument)
        (should-error (ossl-starttls p :cert (ossl-test-file "server.pem")
                                     :key (ossl-test-file "encrypted.key")
                                     :password 42)
                      :type 'wrong-type-argument)))))

(ert-deftest ossl/malformed-keys-not-in-error-data ()
  "A malformed :key, :password or :sni entry is refused without showing it.
Such values may hold key material or a password: the error names the
expected type and the value's type only."
  (let* ((needle "-----BEGIN PRIVATE KEY-----needle-secret")
         (pem (with-temp-buffer
                (insert-file-contents (ossl-test-file "server.key"))
                (buffer-string)))
         (cases
          `((:cert ,(ossl-test-file "server.pem") :key (,needle))
            (:cert ,(ossl-test-file "server.pem") :key ,(ossl-test-file "server.key")
                   :password (,needle))
            (:cert ,(ossl-test-file "server.pem") :key ,(ossl-test-file "server.key")
                   :sni ((localhost :key ,needle)))
            (:cert ,(ossl-test-file "server.pem") :key ,(ossl-test-file "server.key")
                   :sni (,needle))
            (:cert ,(ossl-test-file "server.pem") :key ,(ossl-test-file "server.key")
                   :sni (("other.example" :cert ,(ossl-test-file "server.pem")
                          :key [,pem]))))))
    (dolist (keys cases)
      (let ((err (should-error (ossl--context t keys) :type 'wrong-type-argument)))
        (should-not (string-search "needle-secret" (format "%S" err)))
        (should-not (string-search "PRIVATE KEY" (format "%S" err)))
        (should (symbolp (nth 2 err)))))))

(provide 'ossl-context-tests)

;;; ossl-context-tests.el ends here
