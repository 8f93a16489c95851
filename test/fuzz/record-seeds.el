;;; record-seeds.el --- record real handshakes as engine fuzzer seeds  -*- lexical-binding: t; -*-

;;; Commentary:

;; test/fuzz/fuzz-engine.sh runs this to add handshakes with other TLS
;; stacks to the seeds the engine fuzzer makes itself:
;;
;;   emacs -Q --batch -L LISPDIR -L test -l test/fuzz/record-seeds.el \
;;     -f ossl-record-seeds CLIENT-DIR SERVER-DIR
;;
;; ossl talks to openssl s_server (TLS 1.2 and 1.3), gnutls-serv and
;; Python's ssl as a client, and to openssl s_client as a server, while
;; `ossl--step' is watched: every block of ciphertext the engine gets is
;; one chunk of a seed (a flags byte 0, then 2-byte big-endian lengths
;; and the bytes), in the format of test/fuzz/fuzz_engine.c.  These
;; handshakes do not replay to the end in the fuzzer (their randomness
;; is not the fuzzer's), but they bring other stacks' messages:
;; GnuTLS's extensions, RSA certificates, chains, tickets.

;;; Code:

(require 'cl-lib)
(require 'ossl)
(require 'ossl-test-lib)

(defvar ossl-record--chunks nil "Alist handle -> chunks received, reversed.")

(defun ossl-record--feed (orig h data &optional eof)
  "Record DATA fed to handle H, then call ORIG (with EOF)."
  (when (> (length data) 0)
    (push data (alist-get h ossl-record--chunks nil nil #'eq)))
  (funcall orig h data eof))

(defun ossl-record--write (dir name chunks)
  "Write CHUNKS (oldest first) as the seed NAME in DIR."
  (let ((coding-system-for-write 'binary))
    (with-temp-file (expand-file-name name dir)
      (set-buffer-multibyte nil)
      (insert 0)
      (dolist (c chunks)
        (while (> (length c) 0)
          (let ((n (min 65535 (length c))))
            (insert (ash n -8) (logand n 255) (substring c 0 n))
            (setq c (substring c n))))))))

(defun ossl-record--client (dir name peer-form &rest keys)
  "Record an ossl client's session with the peer PEER-FORM starts."
  (condition-case err
      (ossl-test-with-peer (peer (eval peer-form t))
        (let* ((ossl-record--chunks nil)
               (p (open-network-stream "rec" nil "127.0.0.1" (plist-get peer :port)))
               (c (apply #'ossl-starttls p :ca (ossl-test-file "root.pem")
                         :hostname "localhost" keys)))
          (process-send-string p "GET / HTTP/1.0\r\n\r\n")
          (accept-process-output p 0.5)
          (ossl-ssl-finish c)
          (delete-process p)
          (ossl-record--write dir name
                              (reverse (cdr (assq (ossl--conn-handle c)
                                                  ossl-record--chunks))))
          (message "recorded %s" name)))
    (error (message "record-seeds: %s skipped: %s" name (error-message-string err)))))

(defun ossl-record--server (dir name &rest client-args)
  "Record an ossl server's session with openssl s_client CLIENT-ARGS."
  (condition-case err
      (let* ((ossl-record--chunks nil)
             (conn nil)
             (srv (ossl-open-server "rec-srv" nil "127.0.0.1" t
                                    :cert (ossl-test-file "server-chain.pem")
                                    :key (ossl-test-file "server.key")
                                    :acceptor (lambda (p) (setq conn (ossl-process-conn p))
                                                (process-send-string p "hello\n")))))
        (unwind-protect
            (ossl-test-with-peer (peer (apply #'ossl-test-openssl-client
                                              (process-contact srv :service)
                                              :extra-args client-args nil))
              (ossl-test-wait-for (lambda () conn) 10)
              (process-send-string (plist-get peer :process) "client data\n")
              (accept-process-output nil 0.5)
              (ossl-record--write dir name
                                  (reverse (cdr (assq (ossl--conn-handle conn)
                                                      ossl-record--chunks))))
              (message "recorded %s" name))
          (delete-process srv)))
    (error (message "record-seeds: %s skipped: %s" name (error-message-string err)))))

(defun ossl-record-seeds ()
  "Record into the client and server seed directories from the command line."
  (let ((client-dir (nth 0 command-line-args-left))
        (server-dir (nth 1 command-line-args-left))
        (inhibit-message nil))
    (setq command-line-args-left nil)
    ;; The handshake passes `ossl--step' only on the Lisp path: under
    ;; the descriptor the module's I/O thread feeds the engine.
    (setq ossl-socket-data-path 'lisp)
    (make-directory client-dir t)
    (make-directory server-dir t)
    (advice-add 'ossl--step :around #'ossl-record--feed)
    (ossl-record--client client-dir "real-openssl-tls13"
                         '(ossl-test-openssl-server :extra-args '("-tls1_3")))
    (ossl-record--client client-dir "real-openssl-tls12"
                         '(ossl-test-openssl-server :extra-args '("-tls1_2")))
    (ossl-record--client client-dir "real-openssl-rsa-tls12"
                         '(ossl-test-openssl-server
                           :cert (ossl-test-file "server-rsa.pem")
                           :key (ossl-test-file "server-rsa.key")
                           :extra-args '("-tls1_2" "-cipher" "ECDHE-RSA-AES128-GCM-SHA256")))
    (ossl-record--client client-dir "real-gnutls"
                         '(ossl-test-gnutls-server :mode 'http))
    (ossl-record--client client-dir "real-gnutls-tls12"
                         '(ossl-test-gnutls-server
                           :mode 'http
                           :extra-args '("--priority=NORMAL:-VERS-ALL:+VERS-TLS1.2")))
    (ossl-record--client client-dir "real-python"
                         '(ossl-test-python-peer "echo"))
    (ossl-record--server server-dir "real-s-client-tls13" "-tls1_3")
    (ossl-record--server server-dir "real-s-client-tls12" "-tls1_2")
    (ossl-record--server server-dir "real-s-client-alpn" "-alpn" "h2,http/1.1")
    (kill-emacs 0)))

(provide 'record-seeds)
;;; record-seeds.el ends here
