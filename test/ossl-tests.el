;;; ossl-tests.el --- tests of coating processes with TLS  -*- lexical-binding: t; -*-

;;; Commentary:

;; Issue 2: the engine, the bindings and the process glue, against real
;; peers on loopback (openssl s_server, gnutls-serv, Python's ssl) and
;; against ossl itself in the same Emacs.

;;; Code:

(require 'ert)
(require 'ossl)
(require 'ossl-test-lib)

(defun ossl-tests--connect (peer &optional host)
  "A plain network process to PEER's port on HOST (default 127.0.0.1)."
  (open-network-stream "ossl-test" (generate-new-buffer " *ossl-test*")
                       (or host "127.0.0.1") (plist-get peer :port)))

(defun ossl-tests--collector ()
  "A filter that appends to a string; return (FILTER . GETTER)."
  (let ((acc nil))
    (cons (lambda (_p s) (push s acc))
          (lambda () (apply #'concat (reverse acc))))))

(defun ossl-tests--root ()
  "The test root CA file."
  (ossl-test-file "root.pem"))

;;;; Handshakes against real peers

(ert-deftest ossl/openssl-server-tls13 ()
  "A client handshake with s_server, TLS 1.3, and an echo through the filter."
  (ossl-test-with-peer (peer (ossl-test-openssl-server :extra-args '("-rev")))
    (ossl-test-with-proc (p (ossl-tests--connect peer "localhost"))
      (let* ((c (ossl-ssl-handshake p 'tls1.3 (ossl-tests--root)))
             (col (ossl-tests--collector)))
        (should (ossl-ssl-conn-p c))
        (should (eq (ossl-ssl-cipher-version c) 'TLSv1.3))
        (should (string-prefix-p "TLS_" (ossl-ssl-cipher-name c)))
        (should (memq (ossl-ssl-cipher-bits c) '(128 256)))
        (should (string-match-p "TLSv1.3" (ossl-ssl-cipher-description c)))
        (should (member (ossl-ssl-cipher-name c) (ossl-ssl-cipher-names c)))
        (should (equal (ossl-ssl-verify-certificate c) '(0 . "ok")))
        (should (eq (ossl-ssl-parent c) p))
        (should (equal (cl-prin1-to-string c)
                       (format "#<OpenSSL socket layer: TLSv1.3 on top of %s>"
                               (cl-prin1-to-string p))))
        (set-process-filter p (car col))
        (process-send-string p "hello world\n")
        (ossl-test-wait-for (lambda () (string-search "\n" (funcall (cdr col)))))
        (should (equal (funcall (cdr col)) "dlrow olleh\n"))))))

(ert-deftest ossl/openssl-server-tls12 ()
  "TLS 1.2 pinned by METHOD, with the RSA certificate."
  (ossl-test-with-peer (peer (ossl-test-openssl-server
                              :cert (ossl-test-file "server-rsa.pem")
                              :key (ossl-test-file "server-rsa.key")
                              :extra-args '("-rev")))
    (ossl-test-with-proc (p (ossl-tests--connect peer))
      (let ((c (ossl-ssl-handshake p 'tls1.2 (ossl-tests--root))))
        (should c)
        (should (eq (ossl-ssl-cipher-version c) 'TLSv1.2))
        (should (string-match-p "ECDHE-RSA" (ossl-ssl-cipher-name c)))
        (should (string-match-p "TLSv1.2" (ossl-ssl-cipher-description c)))
        (process-send-string p "abc\n")
        (ossl-test-wait-for
         (lambda () (with-current-buffer (process-buffer p)
                      (string-search "cba" (buffer-string)))))))))

(ert-deftest ossl/gnutls-server-echo ()
  "gnutls-serv in echo mode; default filter inserts cleartext at the mark."
  (ossl-test-with-peer (peer (ossl-test-gnutls-server))
    (ossl-test-with-proc (p (ossl-tests--connect peer))
      (let ((c (ossl-starttls p :ca (ossl-tests--root))))
        (should (memq (ossl-ssl-cipher-version c) '(TLSv1.2 TLSv1.3)))
        (with-current-buffer (process-buffer p)
          (insert "before:")
          (set-marker (process-mark p) (point)))
        (process-send-string p "ping gnutls\n")
        (ossl-test-wait-for
         (lambda () (with-current-buffer (process-buffer p)
                      (string-search "ping gnutls\n" (buffer-string)))))
        (with-current-buffer (process-buffer p)
          (should (equal (buffer-string) "before:ping gnutls\n"))
          (should (= (marker-position (process-mark p)) (point-max))))))))

(ert-deftest ossl/python-echo-filters-and-coding ()
  "Filters and coding systems act on the cleartext of a coated process."
  (ossl-test-with-peer (peer (ossl-test-python-peer "echo"))
    (ossl-test-with-proc (p (ossl-tests--connect peer "localhost"))
      (let ((col (ossl-tests--collector))
            (c (ossl-starttls p :ca (ossl-tests--root))))
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
      (ossl-test-with-proc (p (ossl-tests--connect peer))
        (let ((col (ossl-tests--collector)))
          (ossl-starttls p :ca (ossl-tests--root))
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
    (ossl-test-with-proc (p (ossl-tests--connect peer))
      (let ((col (ossl-tests--collector)))
        (set-process-coding-system p 'utf-8 'utf-8)
        (set-process-filter p (car col))
        (ossl-starttls p :ca (ossl-tests--root))
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
      (ossl-test-with-proc (p (ossl-tests--connect peer))
        (let ((chunks nil) (got 0))
          (set-process-coding-system p 'binary 'binary)
          (set-process-filter p (lambda (_p s) (push s chunks)
                                  (setq got (+ got (length s)))))
          (ossl-starttls p :ca (ossl-tests--root))
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
      (ossl-test-with-proc (p (ossl-tests--connect peer))
        (let* ((col (ossl-tests--collector))
               (block (apply #'unibyte-string
                             (mapcar (lambda (i) (% (* i 7) 256))
                                     (number-sequence 0 65535))))
               (sent 0))
          (set-process-filter p (car col))
          (ossl-starttls p :ca (ossl-tests--root))
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
    (ossl-test-with-proc (p (ossl-tests--connect peer))
      (let* ((col (ossl-tests--collector))
             (result nil)
             (c (ossl-starttls p :ca (ossl-tests--root)
                               :callback (lambda (x) (setq result x)))))
        (set-process-filter p (car col))
        (should (eq (ossl-ssl-state c) 'handshaking))
        (process-send-string p "early bird\n")
        (ossl-test-wait-for (lambda () result))
        (should (eq result c))
        (ossl-test-wait-for (lambda () (string-search "\n" (funcall (cdr col)))))
        (should (equal (funcall (cdr col)) "early bird\n"))))))

;;;; ossl on both ends, in one Emacs

(defun ossl-tests--server (keys &optional on-accept)
  "A listener on 127.0.0.1 coating each connection as a TLS server.
KEYS go to `ossl-starttls'; the handshake does not block.  ON-ACCEPT
is called with each connection's process right after coating starts.
Return (LISTENER . PORT)."
  (let ((l (make-network-process
            :name "ossl-test-listener" :server t :host "127.0.0.1"
            :service t :noquery t
            :log (lambda (_server client _msg)
                   (apply #'ossl-starttls client :server t :callback #'ignore
                          keys)
                   (when on-accept (funcall on-accept client))))))
    (cons l (process-contact l :service))))

(ert-deftest ossl/in-emacs-pair-last-flight-and-early-data ()
  "Server data sent before its handshake ended is queued, then reaches
the client with the server's last flight (TLS 1.2); a blocking client
handshake completes against a server in this same Emacs."
  (let ((srv (ossl-tests--server
              (list :cert (ossl-test-file "server-chain.pem")
                    :key (ossl-test-file "server.key") :method 'tls1.2)
              (lambda (client) (process-send-string client "greeting\n")))))
    (unwind-protect
        (ossl-test-with-proc (p (open-network-stream
                                   "ossl-pair" nil "127.0.0.1" (cdr srv)))
          (let ((col (ossl-tests--collector)))
            (set-process-filter p (car col))
            (let ((c (ossl-starttls p :ca (ossl-tests--root)
                                    :hostname "localhost")))
              (should (eq (ossl-ssl-cipher-version c) 'TLSv1.2))
              (ossl-test-wait-for
               (lambda () (string-search "\n" (funcall (cdr col)))))
              (should (equal (funcall (cdr col)) "greeting\n")))))
      (delete-process (car srv)))))

;;;; The SXEmacs examples

(ert-deftest ossl/sxemacs-coat-then-finish ()
  "Coat a connection, finish it: the process stays a plain open process."
  (ossl-test-with-peer (peer (ossl-test-python-peer "starttls" :endtls t))
    (ossl-test-with-proc (p (ossl-tests--connect peer))
      (let ((col (ossl-tests--collector)))
        (set-process-filter p (car col))
        (ossl-test-wait-for (lambda () (string-search "220 " (funcall (cdr col)))))
        (process-send-string p "STARTTLS\r\n")
        (ossl-test-wait-for (lambda () (string-search "Ready to start TLS"
                                                      (funcall (cdr col)))))
        (let ((m (ossl-ssl-handshake p nil (ossl-tests--root))))
          (should m)
          (should (eq (process-get p 'ossl--conn) m))
          (process-send-string p "ENDTLS\r\n")
          (ossl-test-wait-for (lambda () (string-search "back to clear"
                                                        (funcall (cdr col)))))
          (should (eq (ossl-ssl-finish m) m))
          (should (equal (cl-prin1-to-string m) "#<OpenSSL socket layer: dead>"))
          (should (process-live-p p))
          (should (eq (process-filter p) (car col)))
          (should-not (ossl-process-conn p))
          ;; The protocol goes on in clear.
          (process-send-string p "NOOP\r\n")
          (ossl-test-wait-for (lambda () (string-search "250 clear"
                                                        (funcall (cdr col)))))
          (should-error (ossl-ssl-cipher-name m) :type 'ossl-closed-error)
          (should-error (ossl-ssl-write m "x") :type 'ossl-closed-error))))))

(ert-deftest ossl/sxemacs-starttls-flow ()
  "Plain greeting, STARTTLS, 220, handshake, then commands through the
unchanged filter; the process buffer shows the whole dialogue."
  (ossl-test-with-peer (peer (ossl-test-python-peer "starttls"))
    (ossl-test-with-proc (p (ossl-tests--connect peer "localhost"))
      (let ((buf (process-buffer p)))
        (ossl-test-wait-for (lambda () (with-current-buffer buf
                                         (string-search "220 " (buffer-string)))))
        (process-send-string p "STARTTLS\r\n")
        (ossl-test-wait-for (lambda () (with-current-buffer buf
                                         (string-search "Ready" (buffer-string)))))
        (should (ossl-ssl-handshake p nil (ossl-tests--root)))
        (process-send-string p "EHLO x\r\n")
        (process-send-string p "QUIT\r\n")
        (ossl-test-wait-for (lambda () (with-current-buffer buf
                                         (string-search "221 " (buffer-string)))))
        (with-current-buffer buf
          (should (string-match-p
                   "\\`220 .*\r\n220 2.0.0 Ready to start TLS\r\n250-localhost secure\r\n250 AUTH PLAIN\r\n221 2.0.0 Bye\r\n"
                   (buffer-string))))))))

(ert-deftest ossl/starttls-from-the-filter ()
  "A blocking handshake started by the process's own filter, on seeing the
server's go-ahead, completes; the same filter then gets cleartext."
  (ossl-test-with-peer (peer (ossl-test-python-peer "starttls"))
    (ossl-test-with-proc (p (ossl-tests--connect peer))
      (let ((seen "") (conn nil))
        (set-process-filter
         p (lambda (proc s)
             (setq seen (concat seen s))
             (when (string-search "Ready to start TLS" s)
               (setq conn (ossl-ssl-handshake proc nil (ossl-tests--root))))))
        (process-send-string p "STARTTLS\r\n")
        (ossl-test-wait-for (lambda () conn))
        (process-send-string p "EHLO x\r\n")
        (ossl-test-wait-for (lambda () (string-search "secure" seen)))
        (should (ossl-ssl-conn-p conn))))))

(ert-deftest ossl/sxemacs-unproselytise-read-write ()
  "After unproselytising, the filter sees raw records; ossl-ssl-write and
ossl-ssl-read talk through the layer."
  (ossl-test-with-peer (peer (ossl-test-python-peer "starttls"))
    (ossl-test-with-proc (p (ossl-tests--connect peer))
      (let ((col (ossl-tests--collector)))
        (set-process-filter p (car col))
        (ossl-test-wait-for (lambda () (string-search "220 " (funcall (cdr col)))))
        (process-send-string p "STARTTLS\r\n")
        (ossl-test-wait-for (lambda () (string-search "Ready" (funcall (cdr col)))))
        (let* ((sock (ossl-ssl-handshake p nil (ossl-tests--root)))
               (raw (ossl-tests--collector)))
          (ossl-ssl-unproselytise-process sock)
          (set-process-filter p (car raw))
          (should (eq (process-filter p) (car raw)))
          (ossl-ssl-write sock "NOOP\r\n")
          (let ((clear "") (fed 0))
            (ossl-test-wait-for
             (lambda ()
               (let ((records (funcall (cdr raw))))
                 ;; Raw records are not cleartext.
                 (should-not (string-search "250" records))
                 (setq clear (concat clear (ossl-ssl-read
                                            sock (substring records fed)))
                       fed (length records))
                 (string-search "250 2.0.0 OK" clear)))))
          ;; Proselytise again: back to transparent I/O.
          (ossl-ssl-proselytise-process sock)
          (let ((col2 (ossl-tests--collector)))
            (set-process-filter p (car col2))
            (process-send-string p "QUIT\r\n")
            (ossl-test-wait-for (lambda () (string-search "221"
                                                          (funcall (cdr col2)))))))))))

;;;; Methods and bad input

(ert-deftest ossl/methods ()
  "ssl2/ssl3 are refused; a pinned version the peer lacks fails with a reason."
  (ossl-test-with-peer (peer (ossl-test-openssl-server :extra-args '("-tls1_3")))
    (ossl-test-with-proc (p (ossl-tests--connect peer))
      (should-error (ossl-ssl-handshake p 'ssl3) :type 'ossl-not-supported-error)
      (should-error (ossl-ssl-handshake p 'ssl2) :type 'ossl-not-supported-error)
      (should-error (ossl-ssl-handshake p 42) :type 'wrong-type-argument)
      (should-not (ossl-ssl-handshake p 'tls1.2 (ossl-tests--root)))
      (should (string-match-p "localhost\\|127.0.0.1" ossl-ssl-last-error))
      (should (string-match-p "version\\|protocol" ossl-ssl-last-error))
      ;; The failed handshake closed the process.
      (should-not (ossl-process-conn p))
      (should-not (process-live-p p)))))

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

(ert-deftest ossl/dead-process ()
  "A dead process cannot be coated."
  (ossl-test-with-peer (peer (ossl-test-python-peer "echo"))
    (let ((p (ossl-tests--connect peer)))
      (delete-process p)
      (should-error (ossl-ssl-handshake p) :type 'ossl-closed-error))))

(ert-deftest ossl/peer-not-tls ()
  "A plain HTTP server: the handshake fails with OpenSSL's reason."
  (ossl-test-with-peer (peer (ossl-test-python-peer "http"))
    (ossl-test-with-proc (p (ossl-tests--connect peer))
      (let ((err (should-error (ossl-starttls p :verify nil)
                               :type 'ossl-handshake-error)))
        (should (string-match-p "wrong version number\\|packet length\\|closed"
                                (cadr err)))))))

(ert-deftest ossl/peer-closes-mid-handshake ()
  "A peer that closes after the ClientHello: a handshake error, no hang."
  (ossl-test-with-peer (peer (ossl-test-python-peer "close-early"))
    (ossl-test-with-proc (p (ossl-tests--connect peer))
      (let ((err (should-error (ossl-starttls p :verify nil :timeout 10)
                               :type 'ossl-handshake-error)))
        (should (string-match-p "closed" (cadr err)))))))

(ert-deftest ossl/peer-never-answers ()
  "A silent peer: `ossl-timeout-error' after :timeout seconds; closed."
  (ossl-test-with-peer (peer (ossl-test-python-peer "silent" :count 2))
    (ossl-test-with-proc (p (ossl-tests--connect peer))
      (let* ((start (float-time))
             (err (should-error (ossl-starttls p :verify nil :timeout 1)
                                :type 'ossl-timeout-error)))
        (should (< (- (float-time) start) 5))
        (should (string-match-p "timed out after 1 seconds" (cadr err)))
        (should (null (ossl-process-conn p)))
        (should-not (process-live-p p))))
    (ossl-test-with-proc (p (ossl-tests--connect peer))
      (let ((ossl-handshake-timeout 0.5)
            (ossl-verify-peer nil)
            (inhibit-message t))
        (should-not (ossl-ssl-handshake p))
        (should-not (process-live-p p))))))

(ert-deftest ossl/quit-aborts-handshake ()
  "C-g during a blocking handshake aborts it cleanly: the process is
closed, nothing was sent in clear, and Emacs goes on."
  (ossl-test-with-peer (peer (ossl-test-python-peer "silent"))
    (ossl-test-with-proc (p (ossl-tests--connect peer))
      (let ((col (ossl-tests--collector)))
        (set-process-filter p (car col))
        (run-at-time 0.3 nil (lambda () (setq quit-flag t)))
        (should (eq (condition-case nil
                        (progn (ossl-starttls p :verify nil :timeout 20) 'done)
                      (quit 'quit))
                    'quit))
        (should-not (ossl-process-conn p))
        (should-not (process-live-p p))
        (should (eq (process-filter p) (car col)))
        (should (equal ossl-ssl-last-error
                       (format "TLS handshake with %s was interrupted"
                               (format "127.0.0.1:%d" (plist-get peer :port)))))))))

(ert-deftest ossl/garbage-after-handshake ()
  "Non-TLS bytes after the handshake: the connection fails cleanly."
  (ossl-test-with-peer (peer (ossl-test-python-peer "garbage-after"))
    (ossl-test-with-proc (p (ossl-tests--connect peer))
      (let ((c (ossl-starttls p :ca (ossl-tests--root)))
            (inhibit-message t))
        (ossl-test-wait-for (lambda () (eq (ossl-ssl-state c) 'failed)))
        (should (string-match-p "failed" (ossl-ssl-error c)))
        (should-error (process-send-string p "more") :type 'error)))))

(defconst ossl-tests--resetting-peer "
import socket, ssl, struct, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
srv = socket.socket()
srv.bind(('127.0.0.1', 0)); srv.listen(1)
print('READY', srv.getsockname()[1], flush=True)
c, _ = srv.accept()
t = ctx.wrap_socket(c, server_side=True)
t.recv(10)
t.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
t.close()
print('RESET', flush=True)
"
  "A TLS server that resets the connection after the first bytes.")

(ert-deftest ossl/peer-resets-connection ()
  "Sending to a peer that reset the connection is an error, never the
end of Emacs (SIGPIPE), also for the close_notify of `delete-process'."
  (let ((peer (ossl-test-start-process
               "resetter" "/usr/bin/python3"
               (list "-c" ossl-tests--resetting-peer
                     (ossl-test-file "server-chain.pem") (ossl-test-file "server.key"))
               :ready-regexp "READY \\([0-9]+\\)"
               :port-regexp "READY \\([0-9]+\\)")))
    (unwind-protect
        (ossl-test-with-proc (p (ossl-tests--connect peer))
          (ossl-starttls p :ca (ossl-tests--root))
          (process-send-string p "first")
          (ossl-test-peer-wait-output peer "RESET")
          (let ((inhibit-message t))
            (should (condition-case nil
                        (progn (dotimes (_ 50)
                                 (process-send-string p (make-string 65536 ?x))
                                 (accept-process-output nil 0.01))
                               'survived)
                      (error 'signalled))))
          (delete-process p))
      (ossl-test-stop-peer peer))))

(ert-deftest ossl/password-function-only-when-needed ()
  "A password function is called for an encrypted key only."
  (let ((calls 0))
    (ossl-test-with-peer (peer (ossl-test-openssl-server))
      (ossl-test-with-proc (p (ossl-tests--connect peer))
        (ossl-starttls p :ca (ossl-tests--root)
                       :cert (ossl-test-file "client.pem")
                       :key (ossl-test-file "client.key")
                       :password (lambda () (cl-incf calls) "unused"))
        (should (= calls 0))))
    (ossl-test-with-peer (peer (ossl-test-openssl-server))
      (ossl-test-with-proc (p (ossl-tests--connect peer))
        (ossl-starttls p :ca (ossl-tests--root)
                       :cert (ossl-test-file "server.pem")
                       :key (ossl-test-file "encrypted.key")
                       :password (lambda () (cl-incf calls) "secret-pass"))
        (should (= calls 1))))
    ;; A function that signals: its error comes through, nothing crashes.
    (ossl-test-with-peer (peer (ossl-test-openssl-server))
      (ossl-test-with-proc (p (ossl-tests--connect peer))
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

(provide 'ossl-tests)
;;; ossl-tests.el ends here
