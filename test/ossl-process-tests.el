;;; ossl-process-tests.el --- Tests of lisp/ossl-process.el  -*- lexical-binding: t; -*-

;;; Commentary:

;; The process glue: filters and coding systems, sends from compiled
;; code, records split anywhere, large transfers, data sent before the
;; handshake ends, a peer breaking the stream, the advice.

;;; Code:

(require 'ert)
(require 'ossl)
(require 'ossl-network)
(require 'ossl-test-lib)

(ert-deftest ossl/python-echo-filters-and-coding ()
  "Filters and coding systems act on the cleartext of a coated process."
  (ossl-test-with-peer (peer (ossl-test-python-peer "echo"))
    (ossl-test-with-proc (p (ossl-test-connect peer "localhost"))
      (let ((col (ossl-test-collector))
            (c (ossl-starttls p :ca (ossl-test-root))))
        (should (eq (process-filter p) #'internal-default-process-filter))
        (set-process-filter p (car col))
        (should (eq (process-filter p) (car col)))
        (set-process-coding-system p 'utf-8-unix 'utf-8-unix)
        (should (equal (process-coding-system p) '(utf-8-unix . utf-8-unix)))
        (process-send-string p "Grüße, 日本語 😀\n")
        (ossl-test-wait-for (lambda () (string-search "\n" (funcall (cdr col)))))
        (should (equal (funcall (cdr col)) "Grüße, 日本語 😀\n"))
        ;; process-send-region goes through TLS too.
        (with-temp-buffer
          (insert "région\n")
          (process-send-region p (point-min) (point-max)))
        (ossl-test-wait-for (lambda () (string-search "région"
                                                      (funcall (cdr col)))))
        (should (ossl-ssl-conn-p c))))))

(defun ossl-tests--compiled-sender (native)
  "A compiled function calling `process-send-string'; NATIVE for native code."
  (let* ((dir (make-temp-file "ossl-nc" t))
         (file (expand-file-name "ossl-sender.el" dir)))
    (with-temp-file file
      (insert ";;; -*- lexical-binding: t -*-\n"
              (format "(defun %s (p s) (process-send-string p s))\n"
                      (if native "ossl-tests-native-send" "ossl-tests-byte-send"))))
    (if native
        (let ((native-comp-eln-load-path (list (expand-file-name "eln/" dir))))
          (load (native-compile file) nil t t))
      (byte-compile-file file)
      (load (concat file "c") nil t t))
    (if native 'ossl-tests-native-send 'ossl-tests-byte-send)))

(ert-deftest ossl/send-from-compiled-code ()
  "`process-send-string' from byte-compiled and native code is encrypted."
  (let ((byte (ossl-tests--compiled-sender nil))
        (native (and (native-comp-available-p)
                     (ossl-tests--compiled-sender t))))
    (should (byte-code-function-p (symbol-function byte)))
    (when native (should (subr-native-elisp-p (symbol-function native))))
    (ossl-test-with-peer (peer (ossl-test-python-peer "echo"))
      (ossl-test-with-proc (p (ossl-test-connect peer))
        (let ((col (ossl-test-collector)))
          (ossl-starttls p :ca (ossl-test-root))
          (set-process-filter p (car col))
          (funcall byte p "from byte code\n")
          (when native (funcall native p "from native code\n"))
          (ossl-test-wait-for
           (lambda () (string-search (if native "native code\n" "byte code\n")
                                     (funcall (cdr col)))))
          (should (string-search "from byte code\n" (funcall (cdr col))))
          (when native
            (should (string-search "from native code\n" (funcall (cdr col))))))))))

(ert-deftest ossl/multibyte-split-across-records ()
  "A UTF-8 text whose characters straddle TLS records arrives whole."
  (ossl-test-with-peer (peer (ossl-test-python-peer "split-utf8"))
    (ossl-test-with-proc (p (ossl-test-connect peer))
      (let ((col (ossl-test-collector)))
        (set-process-coding-system p 'utf-8 'utf-8)
        (set-process-filter p (car col))
        (ossl-starttls p :ca (ossl-test-root))
        (ossl-test-wait-for
         (lambda () (string-match "SHA256 \\([0-9a-f]+\\)"
                                  (ossl-test-peer-output peer))))
        (ossl-test-wait-for (lambda () (not (process-live-p p))))
        (let* ((text (funcall (cdr col)))
               (expected (progn (string-match "SHA256 \\([0-9a-f]+\\)"
                                              (ossl-test-peer-output peer))
                                (match-string 1 (ossl-test-peer-output peer)))))
          (should (multibyte-string-p text))
          ;; No raw bytes: every character decoded whole.
          (should-not (cl-find-if (lambda (ch) (>= ch #x3FFF80)) text))
          (should (string-search "日本語" text))
          (should (equal (secure-hash 'sha256 (encode-coding-string text 'utf-8))
                         expected)))))))

(ert-deftest ossl/large-download-and-upload ()
  "20 MB each way, checked by SHA-256."
  (let ((n (* 20 1024 1024)))
    (ossl-test-with-peer (peer (ossl-test-python-peer "source" :bytes n))
      (ossl-test-with-proc (p (ossl-test-connect peer))
        (let ((chunks nil) (got 0))
          (set-process-coding-system p 'binary 'binary)
          (set-process-filter p (lambda (_p s) (push s chunks)
                                  (setq got (+ got (length s)))))
          (ossl-starttls p :ca (ossl-test-root))
          (ossl-test-wait-for (lambda () (>= got n)) 60)
          (ossl-test-wait-for
           (lambda () (string-match "SHA256 \\([0-9a-f]+\\)"
                                    (ossl-test-peer-output peer))))
          (let ((data (apply #'concat (nreverse chunks))))
            (should (= (length data) n))
            (should-not (multibyte-string-p data))
            (should (equal (secure-hash 'sha256 data)
                           (match-string 1 (ossl-test-peer-output peer))))))))
    (ossl-test-with-peer (peer (ossl-test-python-peer "sink" :bytes n))
      (ossl-test-with-proc (p (ossl-test-connect peer))
        (let* ((col (ossl-test-collector))
               (block (apply #'unibyte-string
                             (mapcar (lambda (i) (% (* i 7) 256))
                                     (number-sequence 0 65535))))
               (sent 0))
          (set-process-filter p (car col))
          (ossl-starttls p :ca (ossl-test-root))
          (while (< sent n)
            (process-send-string p block)
            (setq sent (+ sent (length block))))
          (ossl-test-wait-for (lambda () (string-search "\n" (funcall (cdr col))))
                              60)
          (should (equal (string-trim (funcall (cdr col)))
                         (secure-hash 'sha256
                                      (apply #'concat
                                             (make-list (/ n 65536) block))))))))))

(ert-deftest ossl/send-before-handshake-ends ()
  "Data sent while a non-blocking handshake runs is queued, then encrypted."
  (ossl-test-with-peer (peer (ossl-test-python-peer "echo"))
    (ossl-test-with-proc (p (ossl-test-connect peer))
      (let* ((col (ossl-test-collector))
             (result nil)
             (c (ossl-starttls p :ca (ossl-test-root)
                               :callback (lambda (x) (setq result x)))))
        (set-process-filter p (car col))
        (should (eq (ossl-ssl-state c) 'handshaking))
        (process-send-string p "early bird\n")
        (ossl-test-wait-for (lambda () result))
        (should (eq result c))
        (ossl-test-wait-for (lambda () (string-search "\n" (funcall (cdr col)))))
        (should (equal (funcall (cdr col)) "early bird\n"))))))

(ert-deftest ossl/garbage-after-handshake ()
  "Non-TLS bytes after the handshake: the connection fails cleanly."
  (ossl-test-with-peer (peer (ossl-test-python-peer "garbage-after"))
    (ossl-test-with-proc (p (ossl-test-connect peer))
      (let ((c (ossl-starttls p :ca (ossl-test-root)))
            (inhibit-message t))
        (ossl-test-wait-for (lambda () (eq (ossl-ssl-state c) 'failed)))
        (should (string-match-p "failed" (ossl-ssl-error c)))
        (should-error (process-send-string p "more") :type 'error)))))

(ert-deftest ossl-network/send-primitives-advised-once ()
  "The send primitives carry one piece of advice, ossl's, mode on or off.
ossl-network's :nowait connections go through it (the pending-layer
functions are set while the mode is on, and only then); ossl keeps
the primitives it advised itself, unadvised."
  (ossl--install-advice)
  (let ((ossl-advice (lambda (primitive)
                       (let (found)
                         (advice-mapc (lambda (f _props)
                                        (when (and (symbolp f)
                                                   (string-prefix-p "ossl" (symbol-name f)))
                                          (push f found)))
                                      primitive)
                         found))))
    (ossl-test-with-network-mode
      (should (eq ossl--pending-function #'ossl-network--uncoated-pending))
      (dolist (p '(process-send-string process-send-region process-send-eof))
        (should (equal (funcall ossl-advice p)
                       (list (alist-get p ossl--advice))))))
    (should-not ossl--pending-function)
    (should-not ossl--await-function)
    (dolist (a ossl--advice)
      (should (equal (funcall ossl-advice (car a)) (list (cdr a))))
      (should (subrp (ossl--orig (car a)))))))

(provide 'ossl-process-tests)

;;; ossl-process-tests.el ends here
