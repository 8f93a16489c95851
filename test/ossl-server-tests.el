;;; ossl-server-tests.el --- server role, mutual TLS, async, closing, sessions  -*- lexical-binding: t; -*-

;;; Commentary:

;; Issue 4, against openssl s_client, gnutls-cli, a Python ssl client
;; and ossl itself in the same Emacs.

;;; Code:

(require 'ert)
(require 'ossl)
(require 'ossl-test-lib)

(defun ossl-server-tests--upcase-echo (proc)
  "Acceptor: answer every line PROC sends in upper case."
  (set-process-filter proc (lambda (p s) (process-send-string p (upcase s)))))

(defmacro ossl-server-tests--with-server (spec &rest body)
  "SPEC is (VAR &rest KEYS): an `ossl-open-server' on 127.0.0.1 as VAR.
KEYS default to the PKI's server chain and key and an upcasing echo."
  (declare (indent 1))
  `(let ((,(car spec)
          (apply #'ossl-open-server "ossl-test-server" nil "127.0.0.1" t
                 (append (list ,@(cdr spec))
                         (list :cert (ossl-test-file "server-chain.pem")
                               :key (ossl-test-file "server.key")
                               :acceptor #'ossl-server-tests--upcase-echo)))))
     (unwind-protect (progn ,@body)
       (delete-process ,(car spec)))))

(defun ossl-server-tests--port (server)
  "The port SERVER listens on."
  (process-contact server :service))

(defun ossl-server-tests--client (server &rest keys)
  "A blocking ossl client of SERVER with KEYS; return its process."
  (apply #'ossl-open-stream "ossl-test-client" nil "127.0.0.1"
         (ossl-server-tests--port server)
         (append keys (list :ca (ossl-test-file "root.pem")
                            :hostname "localhost"))))

(defun ossl-server-tests--exchange (proc line)
  "Send LINE to PROC and return the reply line."
  (let ((reply ""))
    (set-process-filter proc (lambda (_p s) (setq reply (concat reply s))))
    (process-send-string proc (concat line "\n"))
    (ossl-test-wait-for (lambda () (string-search "\n" reply)))
    (string-trim-right reply)))

(defconst ossl-server-tests--python-client "
import socket, ssl, sys
host, port, ca, cert, key, line = sys.argv[1:7]
ctx = ssl.create_default_context(cafile=ca)
if cert != '-':
    ctx.load_cert_chain(cert, key)
try:
    with socket.create_connection((host, int(port)), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname='localhost') as t:
            print('VERSION', t.version(), flush=True)
            t.sendall(line.encode() + b'\\n')
            data = b''
            while not data.endswith(b'\\n'):
                chunk = t.recv(4096)
                if not chunk:
                    break
                data += chunk
            print('REPLY', data.decode().strip(), flush=True)
except Exception as e:
    print('FAILED', type(e).__name__, e, flush=True)
print('END', flush=True)
"
  "A Python ssl client: one line out, one line back.")

(defun ossl-server-tests--python (server line &optional cert key)
  "Run the Python client against SERVER with LINE; return its output."
  (let ((peer (ossl-test-start-process
               "py-client" "/usr/bin/python3"
               (list "-c" ossl-server-tests--python-client "127.0.0.1"
                     (number-to-string (ossl-server-tests--port server))
                     (ossl-test-file "root.pem") (or cert "-") (or key "-")
                     line))))
    (unwind-protect
        (progn (ossl-test-peer-wait-output peer "^END")
               (ossl-test-peer-output peer))
      (ossl-test-stop-peer peer))))

;;;; Server role against real clients

(ert-deftest ossl-server/openssl-client-tls12-and-tls13 ()
  "s_client with TLS 1.2 and 1.3 talks to an `ossl-open-server'."
  (ossl-server-tests--with-server (srv)
    (dolist (version '("-tls1_2" "-tls1_3"))
      (let ((peer (ossl-test-openssl-client (ossl-server-tests--port srv)
                                            :extra-args (list version)
                                            :ready-regexp "Verify return code: ")))
        (unwind-protect
            (progn
              (should (string-match-p "Verify return code: 0 (ok)"
                                      (ossl-test-peer-output peer)))
              (should (string-match-p (if (equal version "-tls1_2")
                                          "TLSv1.2" "TLSv1.3")
                                      (ossl-test-peer-output peer)))
              (process-send-string (plist-get peer :process) "hello s_client\n")
              (ossl-test-peer-wait-output peer "HELLO S_CLIENT"))
          (ossl-test-stop-peer peer))))))

(ert-deftest ossl-server/gnutls-client ()
  "gnutls-cli verifies our server and exchanges data."
  (ossl-server-tests--with-server (srv)
    (let ((peer (ossl-test-start-process
                 "gnutls-cli" "gnutls-cli"
                 (list "--x509cafile" (ossl-test-file "root.pem")
                       "-p" (number-to-string (ossl-server-tests--port srv))
                       "localhost")
                 :ready-regexp "Handshake was completed")))
      (unwind-protect
          (progn
            (process-send-string (plist-get peer :process) "from gnutls\n")
            (ossl-test-peer-wait-output peer "FROM GNUTLS"))
        (ossl-test-stop-peer peer)))))

(ert-deftest ossl-server/python-client ()
  (ossl-server-tests--with-server (srv)
    (let ((out (ossl-server-tests--python srv "from python")))
      (should (string-match-p "VERSION TLSv1.3" out))
      (should (string-match-p "REPLY FROM PYTHON" out)))))

(ert-deftest ossl-server/plain-and-tls-side-by-side ()
  "A plain listener and a TLS one share one handler in one Emacs."
  (let* ((handler (lambda (p s) (process-send-string p (concat "seen " s))))
         (plain (make-network-process :name "plain" :server t :host "127.0.0.1"
                                      :service t :noquery t :filter handler)))
    (unwind-protect
        (ossl-server-tests--with-server (srv :acceptor nil :filter handler)
          (let ((a (open-network-stream "a" nil "127.0.0.1"
                                        (process-contact plain :service)))
                (b (ossl-server-tests--client srv)))
            (unwind-protect
                (progn
                  (should (equal (ossl-server-tests--exchange a "one") "seen one"))
                  (should (equal (ossl-server-tests--exchange b "two") "seen two")))
              (delete-process a)
              (delete-process b))))
      (delete-process plain))))

;;;; Mutual TLS: the seed 000 agents

(ert-deftest ossl-server/mutual-tls-agents ()
  "Only clients whose certificate chains to the agents' CA are served."
  (let (server-side)
    (ossl-server-tests--with-server
        (srv :verify-client 'require :client-ca (ossl-test-file "ca-bundle.pem")
             :acceptor (lambda (p)
                         (setq server-side (ossl-process-conn p))
                         (ossl-server-tests--upcase-echo p)))
      ;; An agent with a good certificate, from Python and from ossl.
      (should (string-match-p "REPLY AGENT"
                              (ossl-server-tests--python
                               srv "agent" (ossl-test-file "client.pem")
                               (ossl-test-file "client.key"))))
      (let ((p (ossl-server-tests--client srv :cert (ossl-test-file "client.pem")
                                          :key (ossl-test-file "client.key"))))
        (unwind-protect
            (progn
              (should (equal (ossl-server-tests--exchange p "ossl agent")
                             "OSSL AGENT"))
              (should (string-match-p "ossl test client"
                                      (ossl-x509-subject
                                       (ossl-ssl-peer-cert server-side))))
              (should (equal (ossl-ssl-verify-certificate server-side)
                             '(0 . "ok"))))
          (delete-process p)))
      ;; No certificate, or one from another CA: refused in the handshake.
      (should (string-match-p "FAILED\\|REPLY $\\|REPLY\n"
                              (ossl-server-tests--python srv "intruder")))
      (should-not (string-match-p "INTRUDER"
                                  (ossl-server-tests--python
                                   srv "intruder" (ossl-test-file "unknown.pem")
                                   (ossl-test-file "unknown.key"))))
      (let ((inhibit-message t))
        (should-error
         (let ((p (ossl-server-tests--client srv :cert (ossl-test-file "unknown.pem")
                                             :key (ossl-test-file "unknown.key"))))
           (unwind-protect (ossl-server-tests--exchange p "x")
             (delete-process p))))))))

(ert-deftest ossl-server/request-client-cert ()
  ":verify-client request: served without a certificate, result says so."
  (let (server-side)
    (ossl-server-tests--with-server
        (srv :verify-client 'request :client-ca (ossl-test-file "root.pem")
             :acceptor (lambda (p) (setq server-side (ossl-process-conn p))
                         (ossl-server-tests--upcase-echo p)))
      (let ((p (ossl-server-tests--client srv)))
        (unwind-protect
            (progn
              (should (equal (ossl-server-tests--exchange p "anon") "ANON"))
              (should (null (ossl-ssl-peer-cert server-side)))
              (should-not (equal (car (ossl-ssl-verify-certificate server-side)) 0)))
          (delete-process p))))))

;;;; Client and server in one Emacs

(ert-deftest ossl-server/in-emacs-blocking-and-nonblocking ()
  "Every combination of blocking and non-blocking ends completes."
  (dolist (server-blocks '(nil t))
    (let* ((cert (ossl-test-file "server-chain.pem"))
           (key (ossl-test-file "server.key"))
           (srv (make-network-process
                 :name "pair-server" :server t :host "127.0.0.1" :service t
                 :noquery t
                 :log (lambda (_s client _m)
                        ;; The filter first: the client's first data may
                        ;; come with its last handshake flight.
                        (ossl-server-tests--upcase-echo client)
                        (if server-blocks
                            ;; The SXEmacs acceptor: a blocking handshake.
                            (ossl-ssl-handshake client 'ssl23 nil cert key t)
                          (ossl-starttls client :server t :cert cert :key key
                                         :callback #'ignore)))))
           (port (process-contact srv :service)))
      (unwind-protect
          (progn
            ;; Blocking client.
            (let ((p (ossl-open-stream "c1" nil "127.0.0.1" port
                                       :ca (ossl-test-file "root.pem")
                                       :hostname "localhost")))
              (should (equal (ossl-server-tests--exchange p "blocking") "BLOCKING"))
              (delete-process p))
            ;; Non-blocking client: nothing waits, data is queued.
            (let* ((result nil)
                   (p (ossl-open-stream "c2" nil "127.0.0.1" port :nowait t
                                        :ca (ossl-test-file "root.pem")
                                        :hostname "localhost"
                                        :callback (lambda (r) (setq result r)))))
              (should (equal (ossl-server-tests--exchange p "async") "ASYNC"))
              (should (ossl-ssl-conn-p result))
              (delete-process p)))
        (delete-process srv)))))

(ert-deftest ossl-server/blocking-client-from-a-filter ()
  "A blocking client handshake started inside another process's filter."
  (ossl-server-tests--with-server (srv)
    (let* ((reply nil)
           (trigger (make-process :name "trigger" :command '("echo" "go")
                                  :noquery t
                                  :filter (lambda (_p _s)
                                            (let ((c (ossl-server-tests--client srv)))
                                              (setq reply (ossl-server-tests--exchange
                                                           c "nested"))
                                              (delete-process c))))))
      (ossl-test-wait-for (lambda () reply))
      (should (equal reply "NESTED"))
      (delete-process trigger))))

(ert-deftest ossl-server/fifty-concurrent-clients ()
  "50 non-blocking clients against one server, all answered correctly."
  (ossl-server-tests--with-server (srv)
    (let* ((n 50) (replies (make-vector n nil)) (procs nil))
      (dotimes (i n)
        (let ((i i) (acc ""))
          (push (ossl-open-stream
                 (format "c%d" i) nil "127.0.0.1" (ossl-server-tests--port srv)
                 :nowait t :ca (ossl-test-file "root.pem") :hostname "localhost")
                procs)
          (set-process-filter (car procs)
                              (lambda (_p s) (setq acc (concat acc s))
                                (aset replies i acc)))
          (process-send-string (car procs) (format "client %d\n" i))))
      (unwind-protect
          (progn
            (ossl-test-wait-for (lambda () (cl-every (lambda (r) (and r (string-search "\n" r)))
                                                     replies))
                                30)
            (dotimes (i n)
              (should (equal (aref replies i) (format "CLIENT %d\n" i)))))
        (mapc #'delete-process procs)))))

;;;; Closing

(ert-deftest ossl-server/half-close ()
  "process-send-eof sends close_notify and half-closes; the peer reads EOF
and still sends its reply, which arrives."
  (ossl-test-with-peer (peer (ossl-test-python-peer "sink"))
    (let* ((p (ossl-open-stream "hc" nil "127.0.0.1" (plist-get peer :port)
                                :ca (ossl-test-file "root.pem")))
           (reply ""))
      (unwind-protect
          (progn
            (set-process-filter p (lambda (_p s) (setq reply (concat reply s))))
            (process-send-string p "half-closed payload")
            (process-send-eof p)
            (should (memq (ossl-ssl-state (ossl-process-conn p)) '(closing closed)))
            (ossl-test-wait-for (lambda () (string-search "\n" reply)))
            (should (equal (string-trim reply)
                           (secure-hash 'sha256 "half-closed payload")))
            (ossl-test-peer-wait-output peer "PEER-CLOSE close_notify")
            (should-error (process-send-string p "more") :type 'error))
        (delete-process p)))))

(ert-deftest ossl-server/half-close-openssl ()
  "Against s_server: our close_notify ends its session (it prints DONE and
answers with its own close_notify, which we read as a clean end)."
  (ossl-test-with-peer (peer (ossl-test-openssl-server))
    (let* ((p (ossl-open-stream "hc2" nil "127.0.0.1" (plist-get peer :port)
                                :ca (ossl-test-file "root.pem")))
           (c (ossl-process-conn p)))
      (unwind-protect
          (progn
            (process-send-string p "before eof\n")
            (ossl-test-peer-wait-output peer "before eof")
            (process-send-eof p)
            (ossl-test-peer-wait-output peer "^DONE")
            (ossl-test-wait-for (lambda () (eq (ossl-ssl-state c) 'closed)))
            (should-not (plist-get (ossl-ssl-status c) :truncated)))
        (delete-process p)))))

(ert-deftest ossl-server/delete-process-says-close-notify ()
  (ossl-test-with-peer (peer (ossl-test-python-peer "echo"))
    (let ((p (ossl-open-stream "dp" nil "127.0.0.1" (plist-get peer :port)
                               :ca (ossl-test-file "root.pem"))))
      (should (equal (ossl-server-tests--exchange p "x") "x"))
      (delete-process p)
      (ossl-test-peer-wait-output peer "PEER-CLOSE close_notify"))))

(ert-deftest ossl-server/clean-eof-and-truncation ()
  "A peer's close_notify is a clean end; a bare EOF is a truncation."
  (ossl-test-with-peer (peer (ossl-test-python-peer "source" :bytes 1000))
    (let* ((p (ossl-open-stream "eof" nil "127.0.0.1" (plist-get peer :port)
                                :ca (ossl-test-file "root.pem")))
           (c (ossl-process-conn p)))
      (ossl-test-wait-for (lambda () (not (process-live-p p))))
      (should (eq (ossl-ssl-state c) 'closed))
      (should-not (plist-get (ossl-ssl-status c) :truncated))))
  (ossl-test-with-peer (peer (ossl-test-python-peer "echo"))
    (let* ((p (ossl-open-stream "trunc" nil "127.0.0.1" (plist-get peer :port)
                                :ca (ossl-test-file "root.pem")))
           (c (ossl-process-conn p)))
      (should (equal (ossl-server-tests--exchange p "y") "y"))
      (ossl-test-stop-peer peer)         ; killed: no close_notify
      (ossl-test-wait-for (lambda () (not (process-live-p p))))
      (should (plist-get (ossl-ssl-status c) :truncated)))))

;;;; Sessions, ALPN, SNI

(ert-deftest ossl-server/resumption-between-ossl-connections ()
  "A saved session resumes, TLS 1.2 and 1.3, against s_server and ossl."
  (dolist (version '(tls1.2 tls1.3))
    (ossl-server-tests--with-server (srv)
      (let* ((p1 (ossl-server-tests--client srv :method version))
             (c1 (ossl-process-conn p1)))
        (should (equal (ossl-server-tests--exchange p1 "first") "FIRST"))
        (should-not (plist-get (ossl-ssl-status c1) :session-reused))
        (let ((session (ossl-test-wait-for (lambda () (ossl-ssl-session c1)))))
          (should (stringp session))
          (delete-process p1)
          (let* ((p2 (ossl-server-tests--client srv :method version
                                                :session session))
                 (c2 (ossl-process-conn p2)))
            (should (plist-get (ossl-ssl-status c2) :session-reused))
            (should (equal (ossl-server-tests--exchange p2 "second") "SECOND"))
            (delete-process p2)))))))

(ert-deftest ossl-server/resumption-seen-by-openssl ()
  "s_client -reconnect resumes its session with our server."
  (ossl-server-tests--with-server (srv)
    (let ((peer (ossl-test-openssl-client
                 (ossl-server-tests--port srv)
                 :extra-args '("-reconnect" "-tls1_2")
                 :ready-regexp "^Reused, ")))
      (should (string-match-p "^Reused, TLSv1.2" (ossl-test-peer-output peer)))
      (ossl-test-stop-peer peer))))

(ert-deftest ossl-server/alpn ()
  "ALPN on both sides; the choice shows in the status."
  (ossl-test-with-peer (peer (ossl-test-python-peer "echo" :alpn "http/1.1"))
    (let ((p (ossl-open-stream "alpn" nil "127.0.0.1" (plist-get peer :port)
                               :ca (ossl-test-file "root.pem")
                               :alpn '("h2" "http/1.1"))))
      (should (equal (plist-get (ossl-ssl-status (ossl-process-conn p)) :alpn)
                     "http/1.1"))
      (delete-process p)))
  (ossl-server-tests--with-server (srv :alpn '("imap" "smtp"))
    (let ((p (ossl-server-tests--client srv :alpn '("smtp"))))
      (should (equal (plist-get (ossl-ssl-status (ossl-process-conn p)) :alpn)
                     "smtp"))
      (delete-process p))
    (let ((peer (ossl-test-openssl-client (ossl-server-tests--port srv)
                                          :extra-args '("-alpn" "imap"))))
      (unwind-protect
          (should (string-match-p "ALPN protocol: imap" (ossl-test-peer-output peer)))
        (ossl-test-stop-peer peer)))))

(ert-deftest ossl-server/sni-table ()
  "One listener serves several names, each with its certificate."
  (ossl-server-tests--with-server
      (srv :sni `(("*.test.example" :cert ,(ossl-test-file "wildcard-chain.pem")
                   :key ,(ossl-test-file "wildcard.key"))))
    (let ((p (ossl-server-tests--client srv)))
      (should (equal (ossl-x509-subject (ossl-ssl-peer-cert (ossl-process-conn p)))
                     "/CN=localhost"))
      (delete-process p))
    (let ((p (ossl-open-stream "sni" nil "127.0.0.1" (ossl-server-tests--port srv)
                               :ca (ossl-test-file "root.pem")
                               :hostname "mail.test.example")))
      (should (equal (ossl-x509-subject (ossl-ssl-peer-cert (ossl-process-conn p)))
                     "/CN=*.test.example"))
      (should (equal (ossl-server-tests--exchange p "wild") "WILD"))
      (delete-process p))))

;;;; Bad input

(ert-deftest ossl-server/sni-function ()
  "An SNI function picks the certificate for each name during the handshake."
  (let ((asked nil))
    (ossl-server-tests--with-server
        (srv :sni-function
             (lambda (name)
               (push name asked)
               (when (string-suffix-p ".test.example" name)
                 (list :cert (ossl-test-file "wildcard-chain.pem")
                       :key (ossl-test-file "wildcard.key")))))
      (let ((p (ossl-open-stream "sf1" nil "127.0.0.1" (ossl-server-tests--port srv)
                                 :ca (ossl-test-file "root.pem")
                                 :hostname "imap.test.example")))
        (should (equal (ossl-x509-subject (ossl-ssl-peer-cert (ossl-process-conn p)))
                       "/CN=*.test.example"))
        (should (equal (ossl-server-tests--exchange p "sni") "SNI"))
        (delete-process p))
      (let ((p (ossl-server-tests--client srv)))
        (should (equal (ossl-x509-subject (ossl-ssl-peer-cert (ossl-process-conn p)))
                       "/CN=localhost"))
        (delete-process p))
      (should (equal (reverse asked) '("imap.test.example" "localhost"))))))

(ert-deftest ossl-server/handshake-without-key ()
  (ossl-test-with-peer (peer (ossl-test-python-peer "silent"))
    (let ((p (open-network-stream "nokey" nil "127.0.0.1" (plist-get peer :port))))
      (unwind-protect
          (progn
            (should-error (ossl-ssl-handshake p nil nil nil nil t)
                          :type 'ossl-certificate-error)
            (should-error (ossl-ssl-handshake p nil nil (ossl-test-file "server.pem")
                                              nil t)
                          :type 'ossl-key-error)
            (should-error (ossl-open-server "x" nil "127.0.0.1" t)
                          :type 'ossl-certificate-error))
        (delete-process p)))))

(ert-deftest ossl-server/bad-clients-do-not-stop-the-server ()
  "Garbage instead of a ClientHello, a stalled client and one that leaves
mid-handshake: the listener keeps serving, nothing is left behind."
  (ossl-server-tests--with-server (srv :timeout 1)
    (let* ((port (ossl-server-tests--port srv))
           (before (length (process-list)))
           (inhibit-message t)
           (garbage (open-network-stream "garbage" nil "127.0.0.1" port))
           (stall (open-network-stream "stall" nil "127.0.0.1" port))
           (leaver (open-network-stream "leaver" nil "127.0.0.1" port)))
      (process-send-string garbage "GET / HTTP/1.0\r\n\r\n")
      (process-send-string leaver "\x16\x03\x01\x00\x05")
      (delete-process leaver)
      ;; A good client is served meanwhile.
      (let ((p (ossl-server-tests--client srv)))
        (should (equal (ossl-server-tests--exchange p "still here") "STILL HERE"))
        (delete-process p))
      ;; The server drops the garbage and the stalled client.
      (ossl-test-wait-for (lambda () (not (process-live-p garbage))))
      (ossl-test-wait-for (lambda () (not (process-live-p stall))) 5)
      (delete-process garbage)
      (delete-process stall)
      ;; Only the server's own connections remain: none.
      (ossl-test-wait-for (lambda () (<= (length (process-list)) (- before 0))))
      (should (process-live-p srv)))))

(ert-deftest ossl-server/client-leaving-mid-handshake-is-noticed ()
  "A client gone mid-handshake is dropped at once, not at the timeout."
  (ossl-server-tests--with-server (srv :timeout 30)
    (let ((inhibit-message t)
          (leaver (open-network-stream "leaver" nil "127.0.0.1"
                                       (ossl-server-tests--port srv))))
      (process-send-string leaver "\x16\x03\x01\x00\x05")
      (ossl-test-wait-for (lambda () (cl-some #'ossl-process-conn (process-list))))
      (delete-process leaver)
      (ossl-test-wait-for (lambda () (not (cl-some #'ossl-process-conn
                                                  (process-list))))
                          3))))

(provide 'ossl-server-tests)
;;; ossl-server-tests.el ends here
