;;; ossl-core-tests.el --- Tests of lisp/ossl-core.el  -*- lexical-binding: t; -*-

;;; Commentary:

;; The core: argument checks of the API and of the module's primitives.

;;; Code:

(require 'ert)
(require 'ossl)
(require 'ossl-test-lib)

(ert-deftest ossl/bad-arguments ()
  "Wrong types signal wrong-type-argument; nothing crashes."
  (should-error (ossl-ssl-handshake "no such process") :type 'wrong-type-argument)
  (should-error (ossl-ssl-handshake 42) :type 'wrong-type-argument)
  (should-error (ossl-starttls nil) :type 'wrong-type-argument)
  (dolist (f '(ossl-ssl-finish ossl-ssl-cipher-name ossl-ssl-cipher-names
               ossl-ssl-cipher-bits ossl-ssl-cipher-version
               ossl-ssl-cipher-description ossl-ssl-verify-certificate
               ossl-ssl-parent ossl-ssl-proselytise-process
               ossl-ssl-unproselytise-process ossl-ssl-state))
    (dolist (arg (list nil 1 "str" (current-buffer) (make-symbol "x")))
      (should-error (funcall f arg) :type 'wrong-type-argument)))
  (should-error (ossl-ssl-read 'x "y") :type 'wrong-type-argument)
  (should-error (ossl-ssl-write 'x "y") :type 'wrong-type-argument)
  ;; The primitives check their user pointers' kinds.
  (let ((ctx (ossl--ctx-new nil)))
    (should-error (ossl--feed ctx "x") :type 'wrong-type-argument)
    (should-error (ossl--feed "str" "x") :type 'wrong-type-argument)
    (should-error (ossl--state 12) :type 'wrong-type-argument)
    (should-error (ossl--conn-new ctx 5 'none) :type 'wrong-type-argument)
    ;; Verify modes are words; numbers and other words are refused.
    (dolist (mode '(0 1 2 nil t junk "none" :none (none) 2.0))
      (should (equal (should-error (ossl--conn-new ctx nil mode)
                                   :type 'wrong-type-argument)
                     (list 'wrong-type-argument 'ossl--verify-mode-p mode))))
    (dolist (mode '(none request require))
      (should (eq (ossl--state (ossl--conn-new ctx nil mode)) 'handshaking)))
    (should-error (ossl--ctx-add-ca ctx 'bogus "x") :type 'wrong-type-argument)
    (should-error (ossl--ctx-versions ctx "x" 0) :type 'wrong-type-argument)
    (let ((conn (ossl--conn-new ctx nil 'none)))
      (should-error (ossl--feed conn 17) :type 'wrong-type-argument)
      (should-error (ossl--write conn "early") :type 'ossl-closed-error)
      (ossl--release conn)
      (should-error (ossl--feed conn "x") :type 'ossl-closed-error)
      (should (eq (ossl--state conn) 'closed)))))

(ert-deftest ossl/require-loads-no-compiler ()
  "Loading ossl loads neither the byte compiler nor cl-print, and the
SXEmacs printed forms still come once `cl-prin1' loads cl-print.
Regression (issue 15): on Emacs 30, whose `cl-print-object' is
preloaded, the methods of `ossl-ssl-conn', `ossl-x509' and
`ossl-pkey', defined at load time, byte-compiled a dispatcher and so
loaded the byte compiler with ossl.  In a fresh child of this Emacs."
  (let* ((out (ossl-test-child-emacs
               `(progn
                  (require 'ossl)
                  (let ((features (list :bytecomp (featurep 'bytecomp)
                                        :cl-print (featurep 'cl-print))))
                    (prin1 (append
                            features
                            (list :printed
                                  (list (cl-prin1-to-string
                                         (car (ossl-x509-read-file
                                               ,(ossl-test-file "root.pem"))))
                                        (cl-prin1-to-string
                                         (ossl-pkey-from-pem
                                          (with-temp-buffer
                                            (insert-file-contents
                                             ,(ossl-test-file "server.key"))
                                            (buffer-string))))))))
                    (terpri)))))
         (result (ossl-test-child-result out))
         (printed (plist-get result :printed)))
    (should (equal (list (plist-get result :bytecomp)
                         (plist-get result :cl-print))
                   '(nil nil)))
    (should (string-prefix-p "#<OpenSSL X509 Certificate sub:" (nth 0 printed)))
    (should (string-match-p "\\`#<OpenSSL .* private/public key, size [0-9]+>\\'"
                            (nth 1 printed)))))

(provide 'ossl-core-tests)

;;; ossl-core-tests.el ends here
