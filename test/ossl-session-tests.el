;;; ossl-session-tests.el --- Tests of lisp/ossl-session.el  -*- lexical-binding: t; -*-

;;; Commentary:

;; Interactive TLS sessions and STARTTLS by hand.

;;; Code:

(require 'ert)
(require 'ossl-session)
(require 'ossl-test-lib)

(ert-deftest ossl-view/open-tls-stream ()
  "`ossl-open-tls-stream': lines typed go out with CRLF, replies come back."
  (ossl-test-with-peer (peer (ossl-test-python-peer "echo"))
    (let ((ossl-view-ca (ossl-test-root)))
      (ossl-test-with-buffer
          (buf (ossl-open-tls-stream "localhost" (plist-get peer :port)))
        (let ((proc (get-buffer-process buf)))
          (unwind-protect
              (progn
                (should (eq major-mode 'ossl-tls-stream-mode))
                (should (ossl-process-conn proc))
                (should (eq (key-binding (kbd "C-c C-v")) 'ossl-describe-connection))
                (goto-char (point-max))
                (insert "hello über")
                (comint-send-input)
                (ossl-test-wait-for
                 (lambda () (string-match-p "hello über\nhello über\n"
                                            (buffer-string))))
                (should-not (string-search "\r" (buffer-string))))
            (delete-process proc)))))))

(ert-deftest ossl-view/open-tls-stream-refuses-bad-certificate ()
  "In batch, a session whose certificate fails is refused, with the reason."
  (ossl-test-with-peer (peer (ossl-test-pki-server "expired.pem" "expired.key"
                                                      "int.pem"))
    (let* ((ossl-view-ca (ossl-test-root))
           (name (format "*ossl 127.0.0.1:%d*" (plist-get peer :port)))
           (err (should-error (ossl-open-tls-stream "127.0.0.1"
                                                    (plist-get peer :port))
                              :type 'ossl-verify-error)))
      (unwind-protect
          (progn
            (should (string-match-p "refused: NOT TRUSTED: \\[0\\] localhost expired on 2021-01-01"
                                    (cadr err)))
            (should-not (get-buffer-process name)))
        (when (get-buffer name) (kill-buffer name))))))

(ert-deftest ossl-view/starttls-current-buffer ()
  "A plain session, STARTTLS typed by hand, then the buffer's process coated."
  (ossl-test-with-peer (peer (ossl-test-python-peer "starttls"))
    (let ((ossl-view-ca (ossl-test-root)))
      (ossl-test-with-buffer
          (buf (ossl-open-tls-stream "localhost" (plist-get peer :port) t))
        (let ((proc (get-buffer-process buf))
              (type (lambda (line)
                      (goto-char (point-max))
                      (insert line)
                      (comint-send-input))))
          (unwind-protect
              (progn
                (should-not (ossl-process-conn proc))
                (ossl-test-wait-for
                 (lambda () (string-search "220 localhost ESMTP test\n"
                                           (buffer-string))))
                (funcall type "STARTTLS")
                (ossl-test-wait-for
                 (lambda () (string-search "220 2.0.0 Ready to start TLS\n"
                                           (buffer-string))))
                (let ((conn (ossl-starttls-current-buffer)))
                  (should (ossl-ssl-conn-p conn))
                  (should (equal (ossl-ssl-verify-certificate conn) '(0 . "ok"))))
                (should-error (ossl-starttls-current-buffer) :type 'user-error)
                (funcall type "EHLO me")
                (ossl-test-wait-for
                 (lambda () (string-search "250-localhost secure\n250 AUTH PLAIN\n"
                                           (buffer-string))))
                (ossl-test-peer-wait-output peer "^LINE EHLO me$"))
            (delete-process proc)))))))

(provide 'ossl-session-tests)

;;; ossl-session-tests.el ends here
