;;; ossl-tests.el --- tests of coating processes with TLS  -*- lexical-binding: t; -*-

;;; Commentary:

;; Tests of lisp/ossl.el: the handshake drivers and the SXEmacs API,
;; against real peers on loopback (openssl s_server, gnutls-serv,
;; Python's ssl) and against ossl itself in the same Emacs.  The process
;; glue's tests are in ossl-process-tests.el, context policy's in
;; ossl-context-tests.el.

;;; Code:

(require 'ert)
(require 'ossl)
(require 'ossl-test-lib)

;;;; Handshakes against real peers

(ert-deftest ossl/openssl-server-tls13 ()
  "A client handshake with s_server, TLS 1.3, and an echo through the filter."
  (ossl-test-with-peer (peer (ossl-test-openssl-server :extra-args '("-rev")))
    (ossl-test-with-proc (p (ossl-test-connect peer "localhost"))
      (let* ((c (ossl-ssl-handshake p 'tls1.3 (ossl-test-root)))
             (col (ossl-test-collector)))
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
    (ossl-test-with-proc (p (ossl-test-connect peer))
      (let ((c (ossl-ssl-handshake p 'tls1.2 (ossl-test-root))))
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
    (ossl-test-with-proc (p (ossl-test-connect peer))
      (let ((c (ossl-starttls p :ca (ossl-test-root))))
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
          (let ((col (ossl-test-collector)))
            (set-process-filter p (car col))
            (let ((c (ossl-starttls p :ca (ossl-test-root)
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
    (ossl-test-with-proc (p (ossl-test-connect peer))
      (let ((col (ossl-test-collector)))
        (set-process-filter p (car col))
        (ossl-test-wait-for (lambda () (string-search "220 " (funcall (cdr col)))))
        (process-send-string p "STARTTLS\r\n")
        (ossl-test-wait-for (lambda () (string-search "Ready to start TLS"
                                                      (funcall (cdr col)))))
        (let ((m (ossl-ssl-handshake p nil (ossl-test-root))))
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
    (ossl-test-with-proc (p (ossl-test-connect peer "localhost"))
      (let ((buf (process-buffer p)))
        (ossl-test-wait-for (lambda () (with-current-buffer buf
                                         (string-search "220 " (buffer-string)))))
        (process-send-string p "STARTTLS\r\n")
        (ossl-test-wait-for (lambda () (with-current-buffer buf
                                         (string-search "Ready" (buffer-string)))))
        (should (ossl-ssl-handshake p nil (ossl-test-root)))
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
    (ossl-test-with-proc (p (ossl-test-connect peer))
      (let ((seen "") (conn nil))
        (set-process-filter
         p (lambda (proc s)
             (setq seen (concat seen s))
             (when (string-search "Ready to start TLS" s)
               (setq conn (ossl-ssl-handshake proc nil (ossl-test-root))))))
        (process-send-string p "STARTTLS\r\n")
        (ossl-test-wait-for (lambda () conn))
        (process-send-string p "EHLO x\r\n")
        (ossl-test-wait-for (lambda () (string-search "secure" seen)))
        (should (ossl-ssl-conn-p conn))))))

(ert-deftest ossl/sxemacs-unproselytise-read-write ()
  "After unproselytising, the filter sees raw records; ossl-ssl-write and
ossl-ssl-read talk through the layer."
  (ossl-test-with-peer (peer (ossl-test-python-peer "starttls"))
    (ossl-test-with-proc (p (ossl-test-connect peer))
      (let ((col (ossl-test-collector)))
        (set-process-filter p (car col))
        (ossl-test-wait-for (lambda () (string-search "220 " (funcall (cdr col)))))
        (process-send-string p "STARTTLS\r\n")
        (ossl-test-wait-for (lambda () (string-search "Ready" (funcall (cdr col)))))
        (let* ((sock (ossl-ssl-handshake p nil (ossl-test-root)))
               (raw (ossl-test-collector)))
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
          (let ((col2 (ossl-test-collector)))
            (set-process-filter p (car col2))
            (process-send-string p "QUIT\r\n")
            (ossl-test-wait-for (lambda () (string-search "221"
                                                          (funcall (cdr col2)))))))))))

;;;; Methods and bad input

(ert-deftest ossl/dead-process ()
  "A dead process cannot be coated."
  (ossl-test-with-peer (peer (ossl-test-python-peer "echo"))
    (let ((p (ossl-test-connect peer)))
      (delete-process p)
      (should-error (ossl-ssl-handshake p) :type 'ossl-closed-error))))

(ert-deftest ossl/peer-not-tls ()
  "A plain HTTP server: the handshake fails with OpenSSL's reason."
  (ossl-test-with-peer (peer (ossl-test-python-peer "http"))
    (ossl-test-with-proc (p (ossl-test-connect peer))
      (let ((err (should-error (ossl-starttls p :verify nil)
                               :type 'ossl-handshake-error)))
        (should (string-match-p "wrong version number\\|packet length\\|closed"
                                (cadr err)))))))

(ert-deftest ossl/peer-closes-mid-handshake ()
  "A peer that closes after the ClientHello: a handshake error, no hang."
  (ossl-test-with-peer (peer (ossl-test-python-peer "close-early"))
    (ossl-test-with-proc (p (ossl-test-connect peer))
      (let ((err (should-error (ossl-starttls p :verify nil :timeout 10)
                               :type 'ossl-handshake-error)))
        (should (string-match-p "closed" (cadr err)))))))

(ert-deftest ossl/peer-never-answers ()
  "A silent peer: `ossl-timeout-error' after :timeout seconds; closed."
  (ossl-test-with-peer (peer (ossl-test-python-peer "silent" :count 2))
    (ossl-test-with-proc (p (ossl-test-connect peer))
      (let* ((start (float-time))
             (err (should-error (ossl-starttls p :verify nil :timeout 1)
                                :type 'ossl-timeout-error)))
        (should (< (- (float-time) start) 5))
        (should (string-match-p "timed out after 1 seconds" (cadr err)))
        (should (null (ossl-process-conn p)))
        (should-not (process-live-p p))))
    (ossl-test-with-proc (p (ossl-test-connect peer))
      (let ((ossl-handshake-timeout 0.5)
            (ossl-verify-peer nil)
            (inhibit-message t))
        (should-not (ossl-ssl-handshake p))
        (should-not (process-live-p p))))))

(ert-deftest ossl/quit-aborts-handshake ()
  "C-g during a blocking handshake aborts it cleanly: the process is
closed, nothing was sent in clear, and Emacs goes on."
  (ossl-test-with-peer (peer (ossl-test-python-peer "silent"))
    (ossl-test-with-proc (p (ossl-test-connect peer))
      (let ((col (ossl-test-collector)))
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
        (ossl-test-with-proc (p (ossl-test-connect peer))
          (ossl-starttls p :ca (ossl-test-root))
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

(provide 'ossl-tests)
;;; ossl-tests.el ends here
