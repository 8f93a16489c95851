;;; ossl-test-lib-tests.el --- Tests of the ossl test library and peers  -*- lexical-binding: t; -*-

;;; Commentary:

;; Proves that ossl-test-lib's PKI and peers behave as documented,
;; without the ossl package: clients are Emacs's built-in GnuTLS
;; support, openssl s_client and small Python snippets.

;;; Code:

(require 'ert)
(require 'cl-lib)
(require 'gnutls)
(require 'nsm)
(require 'ossl-test-lib)

;;;; Helpers

(defun ossl-test-lib-tests--openssl (&rest args)
  "Run openssl with ARGS; return (STATUS . OUTPUT) with stderr merged."
  (with-temp-buffer
    (let ((status (apply #'call-process ossl-test-openssl-program nil t nil args)))
      (cons status (buffer-string)))))

(defun ossl-test-lib-tests--verify (leaf &rest extra)
  "Verify PKI file LEAF against root.pem with int.pem untrusted."
  (apply #'ossl-test-lib-tests--openssl
         "verify" "-CAfile" (ossl-test-file "root.pem")
         "-untrusted" (ossl-test-file "int.pem")
         (append extra (list (ossl-test-file leaf)))))

(defun ossl-test-lib-tests--connect (port &optional host)
  "Open a plain TCP connection to HOST (default 127.0.0.1) PORT.
The process writes undecoded bytes into a fresh unibyte buffer."
  (let* ((buffer (generate-new-buffer " *ossl-lib-test-client*"))
         (proc (progn
                 (with-current-buffer buffer (set-buffer-multibyte nil))
                 (make-network-process :name "ossl-lib-test-client"
                                       :buffer buffer
                                       :host (or host "127.0.0.1")
                                       :service port
                                       :coding 'binary
                                       :noquery t
                                       :sentinel #'ignore))))
    proc))

(cl-defun ossl-test-lib-tests--starttls (proc &key (hostname "localhost") keylist
                                              (trustfile "root.pem"))
  "Run a GnuTLS client handshake on PROC, verifying HOSTNAME against TRUSTFILE."
  (let ((network-security-level 'low))
    (gnutls-negotiate :process proc
                      :hostname hostname
                      :trustfiles (list (ossl-test-file trustfile))
                      :keylist keylist
                      :verify-error t)))

(defun ossl-test-lib-tests--tls-connect (port &rest args)
  "Connect to 127.0.0.1 PORT and run a verified GnuTLS handshake.
ARGS go to `ossl-test-lib-tests--starttls'."
  (let ((proc (ossl-test-lib-tests--connect port)))
    (condition-case err
        (apply #'ossl-test-lib-tests--starttls proc args)
      (error (ossl-test-lib-tests--close proc)
             (signal (car err) (cdr err))))
    proc))

(defun ossl-test-lib-tests--close (proc)
  "Delete PROC and its buffer."
  (let ((buffer (process-buffer proc)))
    (delete-process proc)
    (when (buffer-live-p buffer) (kill-buffer buffer))))

(defmacro ossl-test-lib-tests--with-client (spec &rest body)
  "SPEC is (VAR FORM): bind VAR to the client process, run BODY, close it."
  (declare (indent 1) (debug ((symbolp form) body)))
  `(let ((,(car spec) ,(cadr spec)))
     (unwind-protect (progn ,@body)
       (ossl-test-lib-tests--close ,(car spec)))))

(defun ossl-test-lib-tests--output (proc)
  "What PROC received so far."
  (let ((buffer (process-buffer proc)))
    (if (buffer-live-p buffer)
        (with-current-buffer buffer (buffer-string))
      "")))

(defun ossl-test-lib-tests--wait-output (proc regexp &optional timeout)
  "Wait until PROC's received data matches REGEXP; return the data."
  (ossl-test-wait-for
   (lambda ()
     (let ((out (ossl-test-lib-tests--output proc)))
       (and (string-match-p regexp out) out)))
   timeout))

(defun ossl-test-lib-tests--wait-closed (proc &optional timeout)
  "Wait until PROC is no longer live (the peer closed)."
  (ossl-test-wait-for (lambda () (not (process-live-p proc))) timeout))

;;;; PKI

(ert-deftest ossl-test-lib/pki-files ()
  (dolist (name ossl-test-pki-files)
    (let ((file (ossl-test-file name)))
      (should (file-name-absolute-p file))
      (should (file-readable-p file))))
  (should (memq #'ossl-test--delete-pki kill-emacs-hook))
  (should-error (ossl-test-file "no-such-file.pem"))
  ;; Generated once: the same directory every time.
  (should (equal (ossl-test-pki-directory) (ossl-test-pki-directory))))

(ert-deftest ossl-test-lib/pki-verify-good ()
  (dolist (leaf '("server.pem" "server-rsa.pem" "wildcard.pem" "wrongname.pem"
                  "serial20.pem"))
    (let ((res (ossl-test-lib-tests--verify leaf "-purpose" "sslserver")))
      (should (equal (car res) 0))
      (should (string-match-p ": OK" (cdr res)))))
  (let ((res (ossl-test-lib-tests--verify "client.pem" "-purpose" "sslclient")))
    (should (equal (car res) 0)))
  ;; The chain files carry the intermediate.
  (let ((res (ossl-test-lib-tests--openssl
              "verify" "-CAfile" (ossl-test-file "root.pem")
              "-untrusted" (ossl-test-file "server-chain.pem")
              (ossl-test-file "server.pem"))))
    (should (equal (car res) 0)))
  (let ((res (ossl-test-lib-tests--openssl
              "verify" "-CAfile" (ossl-test-file "ca-bundle.pem")
              (ossl-test-file "server.pem"))))
    (should (equal (car res) 0)))
  ;; Self-signed: fails against root.pem, OK when trusted itself.
  (should (equal 0 (car (ossl-test-lib-tests--openssl
                         "verify" "-CAfile" (ossl-test-file "selfsigned.pem")
                         (ossl-test-file "selfsigned.pem"))))))

(ert-deftest ossl-test-lib/pki-verify-bad ()
  (let ((res (ossl-test-lib-tests--verify "expired.pem")))
    (should-not (equal (car res) 0))
    (should (string-match-p "certificate has expired" (cdr res))))
  (let ((res (ossl-test-lib-tests--verify "notyet.pem")))
    (should-not (equal (car res) 0))
    (should (string-match-p "certificate is not yet valid" (cdr res))))
  (let ((res (ossl-test-lib-tests--verify "unknown.pem")))
    (should-not (equal (car res) 0))
    (should (string-match-p "unable to get local issuer certificate" (cdr res))))
  (let ((res (ossl-test-lib-tests--verify "selfsigned.pem")))
    (should-not (equal (car res) 0))
    (should (string-match-p "self-signed certificate" (cdr res))))
  (let ((res (ossl-test-lib-tests--verify "wrongname.pem" "-verify_hostname" "localhost")))
    (should-not (equal (car res) 0))
    (should (string-match-p "hostname mismatch" (cdr res))))
  ;; The client certificate is not for servers.
  (should-not (equal 0 (car (ossl-test-lib-tests--verify "client.pem"
                                                         "-purpose" "sslserver")))))

(ert-deftest ossl-test-lib/pki-details ()
  (let ((out (cdr (ossl-test-lib-tests--openssl
                   "x509" "-in" (ossl-test-file "root.pem") "-noout" "-subject"))))
    (should (string-match-p "C = DE, ST = Berlin, O = ossl tests, CN = ossl Test Root CA"
                            out)))
  (let ((out (cdr (ossl-test-lib-tests--openssl
                   "x509" "-in" (ossl-test-file "int.pem") "-noout" "-text"))))
    (should (string-match-p "CN = ossl Test Intermediate CA" out))
    (should (string-match-p "CA:TRUE, pathlen:0" out))
    (should (string-match-p "prime256v1\\|P-256" out)))
  (let ((out (cdr (ossl-test-lib-tests--openssl
                   "x509" "-in" (ossl-test-file "server.pem") "-noout" "-text"))))
    (should (string-match-p "Subject: CN = localhost" out))
    (should (string-match-p "DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"
                            out))
    (should (string-match-p "TLS Web Server Authentication" out)))
  (let ((out (cdr (ossl-test-lib-tests--openssl
                   "x509" "-in" (ossl-test-file "wildcard.pem") "-noout" "-text"))))
    (should (string-match-p "DNS:\\*\\.test\\.example" out)))
  (let ((out (cdr (ossl-test-lib-tests--openssl
                   "x509" "-in" (ossl-test-file "unknown.pem") "-noout" "-issuer"))))
    (should (string-match-p "CN = ossl Unknown Root CA" out)))
  (let ((out (cdr (ossl-test-lib-tests--openssl
                   "x509" "-in" (ossl-test-file "serial20.pem") "-noout" "-serial"))))
    (should (string-match-p (concat "serial=" ossl-test-serial20) out)))
  (let ((out (cdr (ossl-test-lib-tests--openssl
                   "x509" "-in" (ossl-test-file "expired.pem") "-noout" "-dates"))))
    (should (string-match-p "notBefore=Jan  1 00:00:00 2020 GMT" out))
    (should (string-match-p "notAfter=Jan  1 00:00:00 2021 GMT" out)))
  (let ((out (cdr (ossl-test-lib-tests--openssl
                   "pkey" "-in" (ossl-test-file "server-rsa.key") "-noout" "-text"))))
    (should (string-match-p "2048 bit" out)))
  ;; DER form of server.pem.
  (should (equal (ossl-test-lib-tests--openssl
                  "x509" "-inform" "DER" "-in" (ossl-test-file "server.der")
                  "-noout" "-fingerprint" "-sha256")
                 (ossl-test-lib-tests--openssl
                  "x509" "-in" (ossl-test-file "server.pem")
                  "-noout" "-fingerprint" "-sha256")))
  ;; Encrypted key: needs the password, and is the server key.
  (with-temp-buffer
    (insert-file-contents (ossl-test-file "encrypted.key"))
    (should (string-match-p "BEGIN ENCRYPTED PRIVATE KEY" (buffer-string))))
  (should-not (equal 0 (car (ossl-test-lib-tests--openssl
                             "pkey" "-in" (ossl-test-file "encrypted.key")
                             "-passin" "pass:wrong" "-noout"))))
  (should (equal (ossl-test-lib-tests--openssl
                  "pkey" "-in" (ossl-test-file "encrypted.key")
                  "-passin" (concat "pass:" ossl-test-key-password) "-pubout")
                 (ossl-test-lib-tests--openssl
                  "pkey" "-in" (ossl-test-file "server.key") "-pubout"))))

;;;; Generic process helpers

(ert-deftest ossl-test-lib/start-process ()
  (ossl-test-with-peer
   (peer (ossl-test-start-process
          "sh" "/bin/sh" '("-c" "echo starting; echo 'listening port=4711'; exec sleep 30")
          :ready-regexp "listening" :port-regexp "port=\\([0-9]+\\)"))
   (should (equal (ossl-test-peer-port peer) 4711))
   (should (process-live-p (ossl-test-peer-process peer)))
   (should (string-match-p "starting" (ossl-test-peer-output peer)))
   (should (equal (ossl-test-peer-wait-output peer "port=\\([0-9]+\\)") "4711"))
   (ossl-test-stop-peer peer)
   (should-not (process-live-p (ossl-test-peer-process peer)))
   (should-not (buffer-live-p (plist-get peer :buffer)))
   (should (equal (ossl-test-peer-output peer) ""))))

(ert-deftest ossl-test-lib/start-process-failures ()
  ;; Dies before being ready: error with its output.
  (let ((err (should-error (ossl-test-start-process
                            "sh" "/bin/sh" '("-c" "echo doomed-peer; exit 3")
                            :ready-regexp "never")
                           :type 'ossl-test-peer-error)))
    (should (string-match-p "doomed-peer" (cadr err)))
    (should (string-match-p "exited" (cadr err))))
  ;; Never ready: times out.
  (let ((err (should-error (ossl-test-start-process
                            "sh" "/bin/sh" '("-c" "echo sleepy; exec sleep 30")
                            :ready-regexp "never" :timeout 0.3)
                           :type 'ossl-test-peer-error)))
    (should (string-match-p "not ready" (cadr err))))
  ;; Error regexp.
  (should-error (ossl-test-start-process
                 "sh" "/bin/sh" '("-c" "echo bind failed; exec sleep 30")
                 :ready-regexp "never" :error-regexp "bind failed")
                :type 'ossl-test-peer-error))

(ert-deftest ossl-test-lib/wait-for ()
  (should (equal (ossl-test-wait-for (lambda () 42)) 42))
  (let ((start (float-time)))
    (should-error (ossl-test-wait-for #'ignore 0.2) :type 'ert-test-failed)
    (should (< (- (float-time) start) 2))))

(ert-deftest ossl-test-lib/hash-helpers ()
  (should (equal (ossl-test-sha256 "abc")
                 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
  (should (equal (ossl-test-sha256 "\u00e9")
                 (secure-hash 'sha256 (unibyte-string #xc3 #xa9))))
  (should (equal (ossl-test-sha256-file-or-string (ossl-test-file "server.der"))
                 (ossl-test-sha256-file (ossl-test-file "server.der"))))
  (should (equal (length (ossl-test-deterministic-bytes 100)) 100))
  (should-not (multibyte-string-p (ossl-test-deterministic-bytes 10)))
  (should (> (string-bytes ossl-test-utf8-text) 10000)))

;;;; openssl s_server, s_client, gnutls-serv

(ert-deftest ossl-test-lib/openssl-server ()
  (ossl-test-with-peer (peer (ossl-test-openssl-server))
		       (should (integerp (ossl-test-peer-port peer)))
		       (should (> (ossl-test-peer-port peer) 0))
		       (ossl-test-lib-tests--with-client
			(client (ossl-test-lib-tests--tls-connect (ossl-test-peer-port peer)))
			(process-send-string client "hello from emacs\n")
			(ossl-test-peer-wait-output peer "hello from emacs")
			(process-send-string (ossl-test-peer-process peer) "hello from s_server\n")
			(ossl-test-lib-tests--wait-output client "hello from s_server\n"))))

(ert-deftest ossl-test-lib/openssl-server-options ()
  ;; -rev, TLS 1.3 only, RSA certificate, IPv6.
  (ossl-test-with-peer
   (peer (ossl-test-openssl-server :cert (ossl-test-file "server-rsa.pem")
                                   :key (ossl-test-file "server-rsa.key")
                                   :extra-args '("-rev" "-tls1_3")))
   (ossl-test-lib-tests--with-client
    (client (ossl-test-lib-tests--tls-connect (ossl-test-peer-port peer)))
    (should (equal (plist-get (gnutls-peer-status client) :protocol) "TLS1.3"))
    (process-send-string client "abcdef\n")
    (ossl-test-lib-tests--wait-output client "fedcba")))
  (ossl-test-with-peer (peer (ossl-test-openssl-server :host "::1"))
		       (should (string-match-p "ACCEPT \\[::1\\]:" (ossl-test-peer-output peer)))
		       (ossl-test-lib-tests--with-client
			(client (let ((proc (ossl-test-lib-tests--connect
					     (ossl-test-peer-port peer) "::1")))
				  (ossl-test-lib-tests--starttls proc)
				  proc))
			(process-send-string client "over ipv6\n")
			(ossl-test-peer-wait-output peer "over ipv6"))))

(ert-deftest ossl-test-lib/openssl-client ()
  (ossl-test-with-peer (server (ossl-test-python-peer 'echo))
		       (ossl-test-with-peer (client (ossl-test-openssl-client
						     (ossl-test-peer-port server)))
					    (should (string-match-p "Verify return code: 0 (ok)"
								    (ossl-test-peer-output client)))
					    (process-send-string (ossl-test-peer-process client) "echo me please\n")
					    ;; Once sent and once echoed back into s_client's output.
					    (ossl-test-peer-wait-output client "echo me please")
					    (ossl-test-peer-wait-output server "^HANDSHAKE TLSv1.3 "))))

(ert-deftest ossl-test-lib/openssl-client-tls12 ()
  "Under TLS 1.2 s_client prints the verify code indented; still ready."
  (ossl-test-with-peer (server (ossl-test-python-peer 'echo))
    (ossl-test-with-peer (client (ossl-test-openssl-client
                                  (ossl-test-peer-port server)
                                  :extra-args '("-tls1_2")))
      (should (string-match-p "Verify return code: 0 (ok)"
                              (ossl-test-peer-output client)))
      (ossl-test-peer-wait-output server "^HANDSHAKE TLSv1.2 "))))

(ert-deftest ossl-test-lib/gnutls-server ()
  (ossl-test-with-peer (peer (ossl-test-gnutls-server))
		       (should (> (ossl-test-peer-port peer) 0))
		       (ossl-test-lib-tests--with-client
			(client (ossl-test-lib-tests--tls-connect (ossl-test-peer-port peer)))
			(process-send-string client "ping gnutls\n")
			(ossl-test-lib-tests--wait-output client "\\`ping gnutls\n\\'"))))

(ert-deftest ossl-test-lib/peer-self-timeout ()
  ;; External peers are wrapped in timeout(1).
  (let ((ossl-test-peer-timeout 1))
    (ossl-test-with-peer (peer (ossl-test-openssl-server))
			 (ossl-test-wait-for
			  (lambda () (not (process-live-p (ossl-test-peer-process peer)))) 8)))
  ;; The Python peer times out by itself.
  (ossl-test-with-peer (peer (ossl-test-python-peer 'silent :peer-timeout 0.5))
		       (ossl-test-peer-wait-output peer "^TIMEOUT$" 5)
		       (ossl-test-wait-for
			(lambda () (not (process-live-p (ossl-test-peer-process peer)))) 5)))

(defun ossl-test-lib-tests--children (pid)
  "PIDs of the live (non-zombie) children of PID, from /proc."
  (let (children)
    (dolist (dir (directory-files "/proc" nil "\\`[0-9]+\\'"))
      (let ((stat (ignore-errors
                    (with-temp-buffer
                      (insert-file-contents (format "/proc/%s/stat" dir))
                      (buffer-string)))))
        ;; pid (comm) state ppid ...
        (when (and stat
                   (string-match ") \\([A-Z]\\) \\([0-9]+\\) " stat)
                   (not (equal (match-string 1 stat) "Z"))
                   (equal (string-to-number (match-string 2 stat)) pid))
          (push (string-to-number dir) children))))
    children))

(ert-deftest ossl-test-lib/stop-peer-kills-everything ()
  (skip-unless (and ossl-test-timeout-program (file-directory-p "/proc/self")))
  (let* ((peer (ossl-test-openssl-server))
         (pid (process-id (ossl-test-peer-process peer)))
         (children (ossl-test-lib-tests--children pid)))
    ;; timeout(1) runs openssl as its child.
    (should children)
    (ossl-test-stop-peer peer)
    (ossl-test-wait-for
     (lambda ()
       (cl-notany (lambda (child)
                    (let ((stat (ignore-errors
                                  (with-temp-buffer
                                    (insert-file-contents
                                     (format "/proc/%d/stat" child))
                                    (buffer-string)))))
                      (and stat (not (string-match-p ") Z " stat)))))
                  children))
     5)))

;;;; Python peer

(ert-deftest ossl-test-lib/python-echo ()
  (ossl-test-with-peer (peer (ossl-test-python-peer 'echo :count 2))
		       ;; A client that fails the handshake does not kill the server.
		       (let ((bad (ossl-test-lib-tests--connect (ossl-test-peer-port peer))))
			 (process-send-string bad "this is not a ClientHello\r\n\r\n")
			 (ossl-test-peer-wait-output peer "^HANDSHAKE-FAILED ")
			 (ossl-test-lib-tests--close bad))
		       (ossl-test-lib-tests--with-client
			(client (ossl-test-lib-tests--tls-connect (ossl-test-peer-port peer)))
			(ossl-test-peer-wait-output peer "^SNI localhost$")
			(ossl-test-peer-wait-output peer "^HANDSHAKE TLSv1.3 ")
			(process-send-string client "echo this\n")
			(ossl-test-lib-tests--wait-output client "\\`echo this\n\\'")
			(process-send-string client "and that")
			(ossl-test-lib-tests--wait-output client "\\`echo this\nand that\\'"))
		       (ossl-test-peer-wait-output peer "^RECEIVED 18$")
		       (ossl-test-peer-wait-output peer "^PEER-CLOSE ")
		       (ossl-test-peer-wait-output peer "^DONE$")))

(ert-deftest ossl-test-lib/python-echo-ipv6-tls12-client-cert ()
  (ossl-test-with-peer
   (peer (ossl-test-python-peer "echo" :host "::1" :tls-version "1.2"
                                :client-ca (ossl-test-file "root.pem")
                                :verify-client "required"
                                :cert (ossl-test-file "server-rsa-chain.pem")
                                :key (ossl-test-file "server-rsa.key")))
   (ossl-test-lib-tests--with-client
    (client (let ((proc (ossl-test-lib-tests--connect
                         (ossl-test-peer-port peer) "::1")))
              (ossl-test-lib-tests--starttls
               proc :keylist (list (list (ossl-test-file "client.key")
                                         (ossl-test-file "client-chain.pem"))))
              proc))
    (should (equal (plist-get (gnutls-peer-status client) :protocol) "TLS1.2"))
    (ossl-test-peer-wait-output peer "^HANDSHAKE TLSv1.2 ")
    (ossl-test-peer-wait-output peer "^CLIENT-CERT commonName=ossl test client$")
    (process-send-string client "v6")
    (ossl-test-lib-tests--wait-output client "\\`v6\\'"))))

(ert-deftest ossl-test-lib/python-verification-failures ()
  ;; Built-in GnuTLS refuses the bad certificates.
  (dolist (name '("expired" "unknown" "wrongname" "selfsigned"))
    (ossl-test-with-peer
     (peer (ossl-test-python-peer 'echo
                                  :cert (ossl-test-file (concat name "-chain.pem"))
                                  :key (ossl-test-file (concat name ".key"))))
     (should-error (ossl-test-lib-tests--close
                    (ossl-test-lib-tests--tls-connect (ossl-test-peer-port peer)))))))

(ert-deftest ossl-test-lib/python-sink ()
  (let ((data (ossl-test-deterministic-bytes 50000)))
    (ossl-test-with-peer (peer (ossl-test-python-peer 'sink :bytes 50000))
			 (ossl-test-lib-tests--with-client
			  (client (ossl-test-lib-tests--tls-connect (ossl-test-peer-port peer)))
			  (process-send-string client data)
			  (let ((out (ossl-test-lib-tests--wait-output client "\n")))
			    (should (equal out (concat (ossl-test-sha256 data) "\n"))))
			  (should (equal (ossl-test-peer-sha256 peer) (ossl-test-sha256 data)))
			  (ossl-test-peer-wait-output peer "^RECEIVED 50000$")))))

(ert-deftest ossl-test-lib/python-source ()
  (ossl-test-with-peer (peer (ossl-test-python-peer 'source :bytes 200000))
		       (ossl-test-lib-tests--with-client
			(client (ossl-test-lib-tests--tls-connect (ossl-test-peer-port peer)))
			(ossl-test-lib-tests--wait-closed client)
			(let ((out (ossl-test-lib-tests--output client)))
			  (should (equal (length out) 200000))
			  (should (equal (ossl-test-sha256 out) (ossl-test-peer-sha256 peer)))
			  (should (equal out (ossl-test-deterministic-bytes 200000)))))))

(ert-deftest ossl-test-lib/python-split-utf8 ()
  (ossl-test-with-peer (peer (ossl-test-python-peer 'split-utf8))
		       (ossl-test-lib-tests--with-client
			(client (ossl-test-lib-tests--tls-connect (ossl-test-peer-port peer)))
			(ossl-test-lib-tests--wait-closed client)
			(let ((out (ossl-test-lib-tests--output client)))
			  (should (equal (ossl-test-sha256 out) (ossl-test-peer-sha256 peer)))
			  (should (equal (decode-coding-string out 'utf-8-unix) ossl-test-utf8-text)))))
  ;; A custom text.
  (ossl-test-with-peer (peer (ossl-test-python-peer 'split-utf8 :text "\u65e5\u672c\U0001F600"))
		       (ossl-test-lib-tests--with-client
			(client (ossl-test-lib-tests--tls-connect (ossl-test-peer-port peer)))
			(ossl-test-lib-tests--wait-closed client)
			(should (equal (decode-coding-string (ossl-test-lib-tests--output client) 'utf-8)
				       "\u65e5\u672c\U0001F600")))))

(ert-deftest ossl-test-lib/python-starttls ()
  (ossl-test-with-peer (peer (ossl-test-python-peer 'starttls))
		       (ossl-test-lib-tests--with-client
			(client (ossl-test-lib-tests--connect (ossl-test-peer-port peer)))
			(ossl-test-lib-tests--wait-output client "\\`220 localhost ESMTP test\r\n\\'")
			(process-send-string client "EHLO me\r\n")
			(ossl-test-lib-tests--wait-output client "250 STARTTLS\r\n\\'")
			(process-send-string client "BOGUS\r\n")
			(ossl-test-lib-tests--wait-output client "500 unknown\r\n\\'")
			(process-send-string client "STARTTLS\r\n")
			(ossl-test-lib-tests--wait-output client "220 2.0.0 Ready to start TLS\r\n\\'")
			(with-current-buffer (process-buffer client) (erase-buffer))
			(ossl-test-lib-tests--starttls client)
			(process-send-string client "EHLO me\r\n")
			(ossl-test-lib-tests--wait-output
			 client "\\`250-localhost secure\r\n250 AUTH PLAIN\r\n\\'")
			(process-send-string client "NOOP\r\n")
			(ossl-test-lib-tests--wait-output client "250 2.0.0 OK\r\n\\'")
			(process-send-string client "QUIT\r\n")
			(ossl-test-lib-tests--wait-output client "221 2.0.0 Bye\r\n\\'")
			(ossl-test-lib-tests--wait-closed client)
			(ossl-test-peer-wait-output peer "^DONE$"))))

(defconst ossl-test-lib-tests--endtls-client "\
import socket, ssl, sys
port, cafile = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(('127.0.0.1', port))
f = s.makefile('rb', buffering=0)
def line():
    b = b''
    while not b.endswith(b'\\n'):
        c = s.recv(1)
        if not c: break
        b += c
    return b.decode()
def cmd(c):
    s.sendall(c.encode() + b'\\r\\n')
out = [line()]
cmd('STARTTLS'); out.append(line())
ctx = ssl.create_default_context(cafile=cafile)
t = ctx.wrap_socket(s, server_hostname='localhost')
t.sendall(b'NOOP\\r\\n'); out.append(t.recv(100).decode())
t.sendall(b'ENDTLS\\r\\n'); out.append(t.recv(100).decode())
s = t.unwrap()
cmd('NOOP'); out.append(line())
cmd('QUIT'); out.append(line())
sys.stdout.write(''.join(out))
"
  "A Python client exercising the starttls peer's ENDTLS.")

(ert-deftest ossl-test-lib/python-starttls-endtls ()
  (ossl-test-with-peer (peer (ossl-test-python-peer 'starttls :endtls t))
		       (with-temp-buffer
			 (should (equal 0 (call-process ossl-test-python-program nil t nil
							"-c" ossl-test-lib-tests--endtls-client
							(number-to-string (ossl-test-peer-port peer))
							(ossl-test-file "root.pem"))))
			 (should (equal (buffer-string)
					(concat "220 localhost ESMTP test\r\n"
						"220 2.0.0 Ready to start TLS\r\n"
						"250 2.0.0 OK\r\n"
						"220 back to clear\r\n"
						"250 clear\r\n"
						"221 2.0.0 Bye\r\n"))))
		       (ossl-test-peer-wait-output peer "^UNWRAP ok$")))

(ert-deftest ossl-test-lib/python-plain-modes ()
  ;; http: plain HTTP 400, then close.
  (ossl-test-with-peer (peer (ossl-test-python-peer 'http))
		       (ossl-test-lib-tests--with-client
			(client (ossl-test-lib-tests--connect (ossl-test-peer-port peer)))
			(process-send-string client "GET / HTTP/1.0\r\n\r\n")
			(ossl-test-lib-tests--wait-closed client)
			(should (string-prefix-p "HTTP/1.0 400 Bad Request\r\n"
						 (ossl-test-lib-tests--output client)))))
  ;; A TLS handshake against it fails.
  (ossl-test-with-peer (peer (ossl-test-python-peer 'http))
		       (should-error (ossl-test-lib-tests--close
				      (ossl-test-lib-tests--tls-connect (ossl-test-peer-port peer)))))
  ;; close-early: TLS handshake fails.
  (ossl-test-with-peer (peer (ossl-test-python-peer 'close-early))
		       (should-error (ossl-test-lib-tests--close
				      (ossl-test-lib-tests--tls-connect (ossl-test-peer-port peer))))
		       (ossl-test-peer-wait-output peer "^RECEIVED [1-9]"))
  ;; silent: accepts and says nothing.
  (ossl-test-with-peer (peer (ossl-test-python-peer 'silent))
		       (ossl-test-lib-tests--with-client
			(client (ossl-test-lib-tests--connect (ossl-test-peer-port peer)))
			(ossl-test-peer-wait-output peer "^ACCEPTED 1$")
			(process-send-string client "hello?")
			(accept-process-output client 0.3)
			(should (process-live-p client))
			(should (equal (ossl-test-lib-tests--output client) "")))
		       (ossl-test-peer-wait-output peer "^RECEIVED 6$")))

(ert-deftest ossl-test-lib/python-garbage-after ()
  (ossl-test-with-peer (peer (ossl-test-python-peer 'garbage-after :message "before"))
		       (ossl-test-lib-tests--with-client
			(client (ossl-test-lib-tests--tls-connect (ossl-test-peer-port peer)))
			(ossl-test-peer-wait-output peer "^GARBAGE 100$")
			;; GnuTLS gets the TLS data, then fails on the garbage and closes.
			(ossl-test-lib-tests--wait-closed client)
			(should (equal (ossl-test-lib-tests--output client) "before")))))

(provide 'ossl-test-lib-tests)
;;; ossl-test-lib-tests.el ends here
