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
    (should-error (ossl--conn-new ctx 5 0) :type 'wrong-type-argument)
    (should-error (ossl--conn-new ctx nil 7) :type 'args-out-of-range)
    (should-error (ossl--ctx-add-ca ctx 'bogus "x") :type 'wrong-type-argument)
    (should-error (ossl--ctx-versions ctx "x" 0) :type 'wrong-type-argument)
    (let ((conn (ossl--conn-new ctx nil 0)))
      (should-error (ossl--feed conn 17) :type 'wrong-type-argument)
      (should-error (ossl--write conn "early") :type 'ossl-closed-error)
      (ossl--release conn)
      (should-error (ossl--feed conn "x") :type 'ossl-closed-error)
      (should (eq (ossl--state conn) 'closed)))))

(provide 'ossl-core-tests)

;;; ossl-core-tests.el ends here
