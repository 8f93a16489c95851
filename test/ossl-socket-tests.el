;;; ossl-socket-tests.el --- tests of TLS under the descriptor  -*- lexical-binding: t; -*-

;;; Commentary:

;; Issue 15: once a coated socket's handshake is over, the module puts
;; a socketpair in place of its descriptor and runs TLS on its I/O
;; thread (module/relay.c, lisp/ossl-socket.el).  Against real peers:
;; openssl s_server, Python's ssl module, ossl itself in this Emacs.
;; The ways the swap can go wrong each have a test: Emacs deleting the
;; process mid-transfer (its descriptor closed under the thread), the
;; peer resetting, a full socketpair, 200 concurrent coated sockets,
;; coating and finishing 1000 times.  Last, a representative set of
;; the other files' tests runs again with `ossl-socket-data-path' set
;; to the path that is not its default.

;;; Code:

(require 'ert)
(require 'ossl)
(require 'ossl-socket)
(require 'ossl-test-lib)

(declare-function ossl--relay-count "ossl-module" (&optional all))
(declare-function ossl--relay-resume "ossl-module" (relay))
(declare-function ossl--sni-pending "ossl-module" (conn))
(declare-function ossl--sni-choose "ossl-module" (conn sni-ctx))

(defmacro ossl-sock--with-descriptor (&rest body)
  "Run BODY with sockets coated under the descriptor."
  (declare (indent 0))
  `(let ((ossl-socket-data-path 'descriptor))
     ,@body))

(defun ossl-sock--connect (peer &optional host)
  "A plain network process to PEER's port on HOST (default 127.0.0.1)."
  (make-network-process :name "ossl-sock" :buffer nil
                        :host (or host "127.0.0.1")
                        :service (plist-get peer :port)))

(defun ossl-sock--collector ()
  "A filter that collects what it gets; return (FILTER . GETTER)."
  (let ((acc nil))
    (cons (lambda (_p s) (push s acc))
          (lambda () (apply #'concat (reverse acc))))))

(defun ossl-sock--root ()
  "The test root CA file."
  (ossl-test-file "root.pem"))

(defun ossl-sock--server-keys ()
  "The keys of an ossl TLS server in this Emacs."
  (list :cert (ossl-test-file "server-chain.pem")
        :key (ossl-test-file "server.key")))

(defun ossl-sock--relays-settle (baseline &optional all)
  "Wait until no more than BASELINE relays serve; return the count.
With ALL, until no more than BASELINE relays are left unfreed."
  (ossl-test-wait-for
   (lambda () (garbage-collect) (<= (ossl--relay-count all) baseline)) 20)
  (ossl--relay-count all))

(defun ossl-sock--baseline ()
  "The relays serving once those of earlier tests have wound down.
Processes deleted by an earlier test end their relays a moment later
\(and the connections a server accepted, once Emacs has read their end):
wait while the count goes down, 5 seconds at most."
  (let ((n (ossl--relay-count))
        (end (+ (float-time) 5)))
    (while (and (> n 0) (< (float-time) end)
                (progn (accept-process-output nil 0.2)
                       (< (ossl--relay-count) n)))
      (setq n (ossl--relay-count)))
    (ossl--relay-count)))

(defun ossl-sock--bytes (n)
  "N deterministic bytes, as a unibyte string."
  (ossl-test-deterministic-bytes n))

;;;; The swap itself

(ert-deftest ossl-sock/client-relayed-echo ()
  "A client coated under the descriptor: the user's filter gets
cleartext decoded by the process's own coding, the SXEmacs queries and
the status work, `accept-process-output' with JUST-THIS-ONE works."
  (ossl-sock--with-descriptor
    (ossl-test-with-peer (peer (ossl-test-openssl-server :extra-args '("-rev")))
      (let ((p (ossl-sock--connect peer "localhost")))
        (unwind-protect
            (let ((c (ossl-ssl-handshake p 'tls1.3 (ossl-sock--root)))
                  (col (ossl-sock--collector)))
              (should (ossl-ssl-conn-p c))
              (should (ossl--relayed-p c))
              ;; A descriptor that is no socket is refused, and so is a
              ;; second relay of one connection.
              (dolist (fd '(0 1))
                (should-error (ossl--relay-start fd (ossl--conn-handle c) 999)
                              :type 'ossl-error))
              (let* ((q (ossl-sock--connect peer "localhost"))
                     (fd (ossl--relay-find (process-contact q :local)
                                           (process-contact q :remote))))
                (should (integerp fd))
                (should (equal (should-error
                                (ossl--relay-start fd (ossl--conn-handle c) 999)
                                :type 'ossl-error)
                               '(ossl-error "the connection is relayed already")))
                (delete-process q))
              (should (eq (ossl-ssl-cipher-version c) 'TLSv1.3))
              (should (equal (ossl-ssl-verify-certificate c) '(0 . "ok")))
              (should (eq (plist-get (ossl-ssl-status c) :state) 'open))
              (should (ossl-ssl-peer-cert c))
              ;; No ossl filter, no binary coding: Emacs's own I/O.
              (should (eq (process-filter p) #'internal-default-process-filter))
              (set-process-filter p (car col))
              (should (eq (process-filter p) (car col)))
              (process-send-string p "hello world\n")
              (ossl-test-wait-for
               (lambda ()
                 (accept-process-output p 0.1 nil t)
                 (string-search "\n" (funcall (cdr col)))))
              (should (equal (funcall (cdr col)) "dlrow olleh\n"))
              (should (equal (process-contact p :remote)
                             (vector 127 0 0 1 (plist-get peer :port)))))
          (delete-process p))))
    ;; The process's own coding decodes what the relay delivers.
    (ossl-test-with-peer (peer (ossl-test-python-peer "echo"))
      (let ((p (ossl-sock--connect peer))
            (col (ossl-sock--collector)))
        (unwind-protect
            (progn
              (set-process-filter p (car col))
              (should (ossl--relayed-p
                       (ossl-starttls p :ca (ossl-sock--root)
                                      :hostname "localhost")))
              (set-process-coding-system p 'utf-8 'utf-8)
              (process-send-string p "h\u00e9llo w\u00f6rld \u65e5\u672c\n")
              (ossl-test-wait-for
               (lambda () (string-search "\n" (funcall (cdr col)))))
              (should (equal (funcall (cdr col))
                             "h\u00e9llo w\u00f6rld \u65e5\u672c\n")))
          (delete-process p))))))

(ert-deftest ossl-sock/fallback-without-a-socket ()
  "A pipe process has no socket: it stays on the Lisp path; so does a
socket coated with the option off.  Unknown addresses find nothing."
  (should-not (ossl--relay-find [127 0 0 1 1] [127 0 0 1 2]))
  (should-error (ossl--relay-find [127 0 0 1] [127 0 0 1 2])
                :type 'wrong-type-argument)
  (should-error (ossl--relay-find 'x [127 0 0 1 2])
                :type 'wrong-type-argument)
  (should-error (ossl--relay-find (make-string 200 ?x) "")
                :type 'wrong-type-argument)
  ;; Families differ: nothing.
  (should-not (ossl--relay-find "x" [127 0 0 1 2]))
  (let ((srv (ossl-open-server "ossl-sock-srv" nil "127.0.0.1" t
                               :cert (ossl-test-file "server-chain.pem")
                               :key (ossl-test-file "server.key"))))
    (unwind-protect
        (let* ((ossl-socket-data-path 'lisp)
               (p (ossl-open-stream "ossl-sock" nil "127.0.0.1"
                                    (process-contact srv :service)
                                    :ca (ossl-sock--root) :hostname "localhost")))
          (unwind-protect
              (should-not (ossl--relayed-p (ossl-process-conn p)))
            (delete-process p)))
      (delete-process srv)))
  ;; A pipe: records in Lisp, whatever the option says.
  (ossl-sock--with-descriptor
    (let* ((srv (ossl-open-server "ossl-sock-srv" nil "127.0.0.1" t
                                  :cert (ossl-test-file "server-chain.pem")
                                  :key (ossl-test-file "server.key")))
           (port (process-contact srv :service))
           (pipe (make-process :name "ossl-sock-nc" :noquery t
                               :connection-type 'pipe
                               :command (list "python3" "-c" "
import socket, sys, threading
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
def up():
    while True:
        d = sys.stdin.buffer.read1(65536)
        if not d: break
        s.sendall(d)
threading.Thread(target=up, daemon=True).start()
while True:
    d = s.recv(65536)
    if not d: break
    sys.stdout.buffer.write(d); sys.stdout.buffer.flush()
" (number-to-string port)))))
      (unwind-protect
          (let ((c (ossl-starttls pipe :ca (ossl-sock--root)
                                  :hostname "localhost")))
            (should (eq (ossl-ssl-state c) 'open))
            (should-not (ossl--relayed-p c)))
        (delete-process pipe)
        (delete-process srv)))))

(ert-deftest ossl-sock/password-function-leaves-the-relay-running ()
  "A password function runs inside a module call, under the module
lock; while it waits (for the user, say) relayed connections go on:
here it makes an echo round trip through a relay while a download
runs on another one, and both get all their bytes."
  (ossl-sock--with-descriptor
    (ossl-test-with-peer (echo (ossl-test-python-peer "echo"))
      (ossl-test-with-peer (source (ossl-test-python-peer
                                    "source" :bytes 20000000))
        (let* ((p (ossl-sock--connect echo))
               (col (ossl-sock--collector))
               (c (ossl-starttls p :ca (ossl-sock--root) :hostname "localhost"))
               (d (ossl-sock--connect source))
               (got 0)
               (round-trip nil))
          (unwind-protect
              (progn
                (set-process-filter p (car col))
                (set-process-coding-system d 'binary 'binary)
                (set-process-filter d (lambda (_p s) (setq got (+ got (length s)))))
                (should (ossl--relayed-p c))
                (should (ossl--relayed-p (ossl-starttls d :ca (ossl-sock--root)
                                                        :hostname "localhost")))
                (should (ossl-pem-read-key
                         (ossl-test-file "encrypted.key")
                         (lambda ()
                           ;; Waits as a prompt would, but for a reply
                           ;; that needs the relay thread: it must not be
                           ;; stuck on the lock this call holds.
                           (process-send-string p "ping\n")
                           (let ((end (+ (float-time) 10)))
                             (while (and (not (string-search "\n" (funcall (cdr col))))
                                         (< (float-time) end))
                               (accept-process-output p 0.1 nil t)))
                           (setq round-trip (funcall (cdr col)))
                           ossl-test-key-password)))
                (should (equal round-trip "ping\n"))
                (ossl-test-wait-for (lambda () (>= got 20000000)) 60)
                (should (= got 20000000)))
            (delete-process p)
            (delete-process d)))))))

;;;; The handshake under the descriptor: a held relay

;; An open socket's handshake runs on the relay's thread; the relay
;; holds Emacs's data until Lisp has decided at the end of the
;; handshake (events 16 and 32 on the channel).  Each test checks that
;; the relay ran the handshake: the process got a relay before the
;; handshake ended (`ossl--relay-id'; the Lisp path relays only after
;; a handshake that succeeded).

(defconst ossl-sock--secret "EARLY-SECRET-0f3a9c"
  "Sent before the handshake ends: never on the wire in clear.")

(defun ossl-sock--held-p (proc)
  "Non-nil if PROC's handshake runs under the descriptor, held."
  (let ((c (ossl-process-conn proc)))
    (and c (ossl--conn-held c) (ossl--relayed-p c)
         (process-get proc 'ossl--relay-id) t)))

(defun ossl-sock--mitm (&rest args)
  "A `record' peer with a certificate for wrong.example; ARGS more keywords."
  (apply #'ossl-test-python-peer "record"
         :cert (ossl-test-file "wrongname-chain.pem")
         :key (ossl-test-file "wrongname.key")
         args))

(defun ossl-sock--advised ()
  "The process primitives that carry advice now."
  (cl-remove-if-not (lambda (f) (advice--p (symbol-function f)))
                    (mapcar #'car ossl--advice)))

(ert-deftest ossl-sock/held-no-advice-no-native-compiler ()
  "In a fresh Emacs, sockets coated as a client and as a server (both
ends in that Emacs, and a client of an outside peer) carry data both
ways with no advice on any process primitive and without loading the
native compiler: nothing of ossl's Lisp is on the data path, not even
for the handshake."
  (ossl-test-with-peer (peer (ossl-test-python-peer "echo"))
    (let* ((out (ossl-test-child-emacs
                 `(progn
                    (require 'ossl)
                    (require 'cl-lib)
                    (let* ((comp-at-load (featurep 'comp))
                           (got "") (got2 "") (accepted nil)
                           (wait (lambda (pred)
                                   (let ((end (+ (float-time) 20)))
                                     (while (and (not (funcall pred))
                                                 (< (float-time) end))
                                       (accept-process-output nil 0.05)))))
                           (p (make-network-process
                               :name "c" :host "127.0.0.1"
                               :service ,(plist-get peer :port)
                               :filter (lambda (_p s) (setq got (concat got s)))))
                           (c (ossl-starttls p :hostname "localhost"
                                             :ca ,(ossl-sock--root)))
                           (srv (ossl-open-server
                                 "s" nil "127.0.0.1" t
                                 :cert ,(ossl-test-file "server-chain.pem")
                                 :key ,(ossl-test-file "server.key")
                                 :acceptor (lambda (x) (setq accepted x))
                                 :filter (lambda (x s)
                                           (process-send-string x (upcase s)))))
                           (q (ossl-open-stream "q" nil "127.0.0.1"
                                                (process-contact srv :service)
                                                :ca ,(ossl-sock--root)
                                                :hostname "localhost")))
                      (set-process-filter q (lambda (_p s) (setq got2 (concat got2 s))))
                      (process-send-string p "hello\n")
                      (process-send-string q "abc\n")
                      (funcall wait (lambda () (and (string-search "\n" got)
                                                    (string-search "\n" got2)
                                                    accepted)))
                      (prin1 (list :echo got :upcased got2
                                   :relayed (list (ossl--relayed-p c)
                                                  (ossl--relayed-p (ossl-process-conn q))
                                                  (and accepted
                                                       (ossl--relayed-p
                                                        (ossl-process-conn accepted))))
                                   :comp-at-load comp-at-load
                                   :comp (featurep 'comp)
                                   :advised (cl-remove-if-not
                                             (lambda (f) (advice--p (symbol-function f)))
                                             (mapcar #'car ossl--advice))
                                   :installed ossl--advice-installed))
                      (terpri)))))
           (r (ossl-test-child-result out)))
      (unless r (ert-fail (list "child Emacs failed" out)))
      (should (equal (plist-get r :echo) "hello\n"))
      (should (equal (plist-get r :upcased) "ABC\n"))
      (should (equal (plist-get r :relayed) '(t t t)))
      (should-not (plist-get r :comp-at-load))
      (should-not (plist-get r :advised))
      (should-not (plist-get r :installed))
      (should-not (plist-get r :comp)))))

(ert-deftest ossl-sock/held-data-waits-then-goes-encrypted ()
  "What the application sends before the handshake ends, right after
`ossl-starttls' returns and from the verify function, waits in the
socketpair: a peer recording the raw bytes never sees it in clear,
and it arrives, in order, once the verify function accepted.  The
process keeps its own filter throughout."
  (ossl-sock--with-descriptor
    (ossl-test-with-peer (peer (ossl-test-python-peer "record"))
      (ossl-test-with-proc (p (ossl-sock--connect peer))
        (let* ((col (ossl-sock--collector))
               (result nil) (in-verify nil))
          (set-process-filter p (car col))
          (ossl-starttls p :hostname "localhost" :ca (ossl-sock--root)
                         :verify-function
                         (lambda (c _r)
                           (setq in-verify (list (ossl--conn-held c)
                                                 (ossl-ssl-state c)
                                                 (process-filter p)))
                           (process-send-string p (concat ossl-sock--secret "-2\n"))
                           ;; The peer has had time to see it, if it went.
                           (call-process "sleep" nil nil nil "0.3")
                           t)
                         :callback (lambda (r) (setq result r)))
          (should (ossl-sock--held-p p))
          (process-send-string p (concat ossl-sock--secret "-1\n"))
          (ossl-test-wait-for (lambda () result))
          (should (ossl-ssl-conn-p result))
          (should (equal in-verify (list 'deciding 'open (car col))))
          (should-not (ossl--conn-held result))
          (ossl-test-wait-for
           (lambda () (string-search "-2\n" (ossl-test-peer-clear peer))))
          (should (equal (ossl-test-peer-clear peer)
                         (format "%s-1\n%s-2\n" ossl-sock--secret ossl-sock--secret)))
          ;; The peer echoes: the process's own filter gets it.
          (ossl-test-wait-for (lambda () (string-search "-2\n" (funcall (cdr col)))))
          (should (equal (funcall (cdr col)) (ossl-test-peer-clear peer)))
          (should-not (string-search ossl-sock--secret (ossl-test-peer-raw peer))))))))

(ert-deftest ossl-sock/held-blocking-wait-hears-the-channel ()
  "A blocking handshake under the descriptor returns as soon as the
channel says it ended: the process itself gets no output during the
handshake, and waiting on it would sleep for a whole second."
  (ossl-sock--with-descriptor
    (ossl-test-with-peer (peer (ossl-test-python-peer "echo" :count 3))
      (dotimes (_ 3)
        (ossl-test-with-proc (p (ossl-sock--connect peer))
          (let* ((start (float-time))
                 (held nil)
                 (c (ossl-starttls p :hostname "localhost" :ca (ossl-sock--root)
                                   :verify-function
                                   (lambda (c r)
                                     (setq held (ossl--conn-held c))
                                     (equal r '(0 . "ok"))))))
            (should (< (- (float-time) start) 0.8))
            (should (eq held 'deciding))
            (should (eq (ossl-ssl-state c) 'open))))))))

(ert-deftest ossl-sock/held-sni-function ()
  "A server's SNI function runs while the relay holds the handshake
\(it waits on the thread for the choice), and the certificate it
chooses is served; an SNI function that signals fails that handshake
only."
  (ossl-sock--with-descriptor
    (let* ((asked nil)
           (srv (apply #'ossl-open-server "ossl-sock-sni" nil "127.0.0.1" t
                       :sni-function
                       (lambda (name)
                         (push (list name
                                     (cl-some (lambda (proc)
                                                (ossl-sock--held-p proc))
                                              (process-list)))
                               asked)
                         (cond ((equal name "bad.test.example") (error "No such name"))
                               ((string-suffix-p ".test.example" name)
                                (list :cert (ossl-test-file "wildcard-chain.pem")
                                      :key (ossl-test-file "wildcard.key")))))
                       (ossl-sock--server-keys)))
           (port (process-contact srv :service))
           (inhibit-message t))
      (unwind-protect
          (progn
            (let ((p (ossl-open-stream "ossl-sock-sni1" nil "127.0.0.1" port
                                       :ca (ossl-sock--root)
                                       :hostname "imap.test.example")))
              (should (ossl--relayed-p (ossl-process-conn p)))
              (should (equal (ossl-x509-subject
                              (ossl-ssl-peer-cert (ossl-process-conn p)))
                             "/CN=*.test.example"))
              (delete-process p))
            (let ((p (ossl-open-stream "ossl-sock-sni2" nil "127.0.0.1" port
                                       :ca (ossl-sock--root) :hostname "localhost")))
              (should (equal (ossl-x509-subject
                              (ossl-ssl-peer-cert (ossl-process-conn p)))
                             "/CN=localhost"))
              (delete-process p))
            (should-error (ossl-open-stream "ossl-sock-sni3" nil "127.0.0.1" port
                                            :ca (ossl-sock--root)
                                            :hostname "bad.test.example" :timeout 5)
                          :type 'ossl-handshake-error)
            (should (equal (reverse asked)
                           '(("imap.test.example" t) ("localhost" t)
                             ("bad.test.example" t)))))
        (delete-process srv)))))

(ert-deftest ossl-sock/held-verify-function-refusal ()
  "A verify function that refuses, under the descriptor: the blocking
form signals with its reason; the relay says close_notify; what was
sent during the handshake never reaches the peer, neither in clear
nor encrypted."
  (ossl-sock--with-descriptor
    (ossl-test-with-peer (peer (ossl-test-python-peer "record" :count 2))
      (ossl-test-with-proc (p (ossl-sock--connect peer))
        (let ((err (should-error
                    (ossl-starttls p :hostname "localhost" :ca (ossl-sock--root)
                                   :verify-function (lambda (_c _r) 'maybe))
                    :type 'ossl-verify-error)))
          (should (string-search "returned maybe, not t" (cadr err)))
          (should (equal ossl-ssl-last-error (cadr err)))
          (should (process-get p 'ossl--relay-id))
          (should-not (process-live-p p))
          (ossl-test-peer-wait-output peer "PEER-CLOSE close_notify")))
      (ossl-test-with-proc (p (ossl-sock--connect peer))
        (let ((result nil))
          (ossl-starttls p :hostname "localhost" :ca (ossl-sock--root)
                         :verify-function (lambda (_c _r) (error "Pin mismatch"))
                         :callback (lambda (r) (setq result r)))
          (should (ossl-sock--held-p p))
          (process-send-string p (concat ossl-sock--secret "\n"))
          (ossl-test-wait-for (lambda () result))
          (should (eq (car result) 'ossl-verify-error))
          (should (string-search "signalled: Pin mismatch" (cadr result)))
          (should-not (process-live-p p))
          (accept-process-output nil 0.3)
          (should-not (string-search ossl-sock--secret (ossl-test-peer-raw peer)))
          (should-not (string-search ossl-sock--secret
                                     (ossl-test-peer-clear peer))))))))

(ert-deftest ossl-sock/held-timeout ()
  "A silent peer, under the descriptor: the blocking form times out
after :timeout, the non-blocking one calls back with the timeout;
the processes are deleted and their relays end."
  (ossl-sock--with-descriptor
    (let ((baseline (ossl-sock--baseline)))
      (ossl-test-with-peer (peer (ossl-test-python-peer "silent" :count 2))
        (ossl-test-with-proc (p (ossl-sock--connect peer))
          (let* ((start (float-time))
                 (err (should-error (ossl-starttls p :verify nil :timeout 1)
                                    :type 'ossl-timeout-error)))
            (should (< (- (float-time) start) 5))
            (should (string-match-p "timed out after 1 seconds" (cadr err)))
            (should (process-get p 'ossl--relay-id))
            (should-not (ossl-process-conn p))
            (should-not (process-live-p p))))
        (ossl-test-with-proc (p (ossl-sock--connect peer))
          (let ((result nil))
            (ossl-starttls p :verify nil :timeout 0.5
                           :callback (lambda (r) (setq result r)))
            (should (ossl-sock--held-p p))
            (ossl-test-wait-for (lambda () result))
            (should (eq (car result) 'ossl-timeout-error))
            (should-not (process-live-p p)))))
      (should (<= (ossl-sock--relays-settle baseline) baseline)))))

(ert-deftest ossl-sock/held-plain-on-failure ()
  "With :plain-on-failure, a held handshake that fails gives the socket
back: the process stays open with its own filter and coding, what was
sent during the handshake is dropped (never sent in clear), what is
sent after goes out in clear, as the caller asked."
  (ossl-sock--with-descriptor
    (ossl-test-with-peer (peer (ossl-sock--mitm :extra-args '("--record-after-failure")))
      (ossl-test-with-proc (p (ossl-sock--connect peer))
        (let ((result nil)
              (col (ossl-sock--collector)))
          (set-process-filter p (car col))
          (set-process-coding-system p 'utf-8-dos 'utf-8-dos)
          (ossl-starttls p :hostname "localhost" :plain-on-failure t
                         :ca (ossl-sock--root)
                         :callback (lambda (r) (setq result r)))
          (should (ossl-sock--held-p p))
          (process-send-string p (concat ossl-sock--secret "\n"))
          (ossl-test-wait-for (lambda () result))
          (should (eq (car result) 'ossl-verify-error))
          (should (string-match-p "wrong\\.example" (cadr result)))
          (should (process-live-p p))
          (should-not (ossl-process-conn p))
          (should (eq (process-filter p) (car col)))
          (should (equal (process-coding-system p) '(utf-8-dos . utf-8-dos)))
          (process-send-string p "downgraded\n")
          (ossl-test-wait-for
           (lambda () (string-search "downgraded\r\n" (ossl-test-peer-raw peer))))
          (should-not (string-search ossl-sock--secret (ossl-test-peer-raw peer))))))))

(ert-deftest ossl-sock/held-bad-certificate ()
  "A server whose certificate is for another name, under the
descriptor: the blocking form signals `ossl-verify-error' naming it
and deletes the process; the connection of the non-blocking form
keeps the failure for `ossl-ssl-status' and `ossl-ssl-error'."
  (ossl-sock--with-descriptor
    (ossl-test-with-peer (peer (ossl-sock--mitm :count 2))
      (ossl-test-with-proc (p (ossl-sock--connect peer))
        (let ((err (should-error (ossl-starttls p :hostname "localhost"
                                                :ca (ossl-sock--root))
                                 :type 'ossl-verify-error)))
          (should (string-match-p "wrong\\.example" (cadr err)))
          (should (equal ossl-ssl-last-error (cadr err)))
          (should (process-get p 'ossl--relay-id))
          (should-not (process-live-p p))))
      (ossl-test-with-proc (p (ossl-sock--connect peer))
        (let* ((result nil)
               (c (progn (ossl-starttls p :hostname "localhost" :ca (ossl-sock--root)
                                        :callback (lambda (r) (setq result r)))
                         (ossl-process-conn p))))
          (should (ossl-sock--held-p p))
          (process-send-string p (concat ossl-sock--secret "\n"))
          (ossl-test-wait-for (lambda () result))
          (should (eq (car result) 'ossl-verify-error))
          (should (eq (ossl-ssl-state c) 'failed))
          (should (equal (ossl-ssl-error c) (cadr result)))
          (should (plist-get (ossl-ssl-status c) :verify-failure))
          (should-not (process-live-p p))))
      (accept-process-output nil 0.3)
      (should-not (string-search ossl-sock--secret (ossl-test-peer-raw peer))))))

;; Python: accept one client, close_notify right after the handshake
;; (with the argument "abrupt": none), then close the socket.
(defconst ossl-sock--close-at-once "
import socket, ssl, sys, time
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
s = socket.socket()
s.bind(('127.0.0.1', 0)); s.listen(1)
print('READY', s.getsockname()[1], flush=True)
c = ctx.wrap_socket(s.accept()[0], server_side=True)
c.settimeout(10)
try:
    if sys.argv[3] != 'abrupt':
        c = c.unwrap()
    print('CLOSING', flush=True)
except Exception as e:
    print('ERROR', e, flush=True)
c.close()
time.sleep(5)
"
  "A TLS server that closes as soon as the handshake is over.")

(ert-deftest ossl-sock/held-peer-closes-before-lisp-decides ()
  "The peer closes right after its last flight, with close_notify or
without, while Lisp is still deciding (a slow verify function): once
accepted, the connection is released all the same, and Emacs sees the
end, clean or truncated."
  (ossl-sock--with-descriptor
    (dolist (how '("clean" "abrupt"))
      (ossl-test-with-peer (peer (ossl-test-start-process
                                  "close-at-once" "/usr/bin/python3"
                                  (list "-c" ossl-sock--close-at-once
                                        (ossl-test-file "server-chain.pem")
                                        (ossl-test-file "server.key") how)
                                  :ready-regexp "READY \\([0-9]+\\)"
                                  :port-regexp "READY \\([0-9]+\\)"))
        (ossl-test-with-proc (p (ossl-sock--connect peer))
          (let* ((result nil)
                 (c (ossl-starttls p :hostname "localhost" :ca (ossl-sock--root)
                                   :callback (lambda (r) (setq result r))
                                   :verify-function
                                   (lambda (c r)
                                     (should (eq (ossl--conn-held c) 'deciding))
                                     ;; The relay reads the end meanwhile.
                                     (ossl-test-peer-wait-output peer "^CLOSING")
                                     (call-process "sleep" nil nil nil "0.3")
                                     (equal r '(0 . "ok"))))))
            (ossl-test-wait-for (lambda () result))
            (should (eq result c))
            ;; Not `ossl-ssl-state' meanwhile: asking serves the relay.
            (ossl-test-wait-for (lambda () (not (process-live-p p))) 5)
            (should (eq (and (plist-get (ossl-ssl-status c) :truncated) t)
                        (equal how "abrupt")))))))))

;;;; Local sockets

(defun ossl-sock--local-name ()
  "A fresh absolute name for a local socket."
  (expand-file-name (make-temp-name "ossl-sock-") temporary-file-directory))

(ert-deftest ossl-sock/local-socket-client ()
  "A client on a local (Unix-domain) socket to openssl s_server -unix is
relayed: the socket is found by its peer's name, a second connection
to the same name too (the first one's real socket is the relay's and
does not count), and the data go through TLS both ways."
  (ossl-sock--with-descriptor
    (let ((name (ossl-sock--local-name)))
      (ossl-test-with-peer
          (peer (ossl-test-start-process
                 "s_server-unix" ossl-test-openssl-program
                 (list "s_server" "-unix" name "-rev"
                       "-cert" (ossl-test-file "server.pem")
                       "-key" (ossl-test-file "server.key")
                       "-cert_chain" (ossl-test-file "int.pem"))
                 :ready-regexp "^ACCEPT"))
        (unwind-protect
            (let (first)
              (dotimes (i 2)
                (let* ((p (make-network-process :name "ossl-sock-local"
                                                :family 'local :service name))
                       (col (ossl-sock--collector))
                       (c (ossl-starttls p :ca (ossl-sock--root)
                                         :hostname "localhost")))
                  (should (ossl--relayed-p c))
                  (should (equal (process-contact p :remote) name))
                  (set-process-filter p (car col))
                  (process-send-string p (format "hello %d\n" i))
                  (ossl-test-wait-for
                   (lambda () (string-search "\n" (funcall (cdr col)))))
                  (should (equal (funcall (cdr col))
                                 (format "%d olleh\n" i)))
                  ;; s_server serves one client at a time: the first
                  ;; is closed before the second comes.
                  (if first
                      (delete-process p)
                    (setq first p)
                    (process-send-eof p)
                    (ossl-test-wait-for (lambda () (not (process-live-p p))))
                    (delete-process p)))))
          (when (file-exists-p name) (delete-file name)))))))

(ert-deftest ossl-sock/local-socket-server-and-ambiguity ()
  "Connections a local server accepted share its name and have none for
their peer: the socket is found only while it is the only one so;
with two, the coating stays on the Lisp path (never a guess).  An
ossl server coat on a local socket, against openssl s_client -unix."
  (ossl-sock--with-descriptor
    (let* ((name (ossl-sock--local-name))
           (accepted nil)
           (conn nil)
           (coat nil)
           (srv (make-network-process
                 :name "ossl-sock-local-srv" :family 'local :service name
                 :server t :noquery t
                 :log (lambda (_s c _m)
                        (setq accepted (append accepted (list c)))
                        (when coat
                          (apply #'ossl-starttls c :server t
                                 :callback (lambda (r) (setq conn r))
                                 (ossl-sock--server-keys)))))))
      (unwind-protect
          (progn
            ;; Two plain clients: their accepted ends are ambiguous.
            (let ((a (make-network-process :name "a" :family 'local :service name))
                  (b (make-network-process :name "b" :family 'local :service name)))
              (ossl-test-wait-for (lambda () (= (length accepted) 2)))
              (should (equal (process-contact (car accepted) :remote) ""))
              (should (eq (ossl--relay-find name "") 'ambiguous))
              (should-not (ossl-socket--descriptor (car accepted)))
              ;; From the clients' side too.
              (should (eq (ossl--relay-find "" name) 'ambiguous))
              (should-not (ossl-socket--descriptor a))
              (delete-process a)
              (delete-process b)
              (mapc #'delete-process accepted)
              (setq accepted nil))
            ;; One TLS client: found, relayed, data both ways.
            (let ((col (ossl-sock--collector)))
              (set-process-filter srv (car col))
              (setq coat t)
              (ossl-test-with-peer
                  (client (ossl-test-start-process
                           "s_client-unix" ossl-test-openssl-program
                           (list "s_client" "-unix" name "-servername" "localhost"
                                 "-CAfile" (ossl-sock--root))
                           :ready-regexp "^ *Verify return code: "))
                (ossl-test-wait-for (lambda () accepted))
                (ossl-test-wait-for (lambda () conn))
                (should (ossl--relayed-p conn))
                (process-send-string (plist-get client :process) "from client\n")
                (ossl-test-wait-for
                 (lambda () (string-search "from client\n" (funcall (cdr col)))))
                (process-send-string (car accepted) "from server\n")
                (ossl-test-peer-wait-output client "from server"))))
        (mapc #'delete-process accepted)
        (delete-process srv)
        (when (file-exists-p name) (delete-file name))))))

;;;; Both ends in this Emacs

(defun ossl-sock--pair (&optional server-filter)
  "An ossl server and a blocking client in this Emacs, both relayed.
SERVER-FILTER is given to the server's connections.  Return (CLIENT
SERVER-CONN LISTENER)."
  (let* ((accepted nil)
         (srv (apply #'ossl-open-server "ossl-sock-srv" nil "127.0.0.1" t
                     :acceptor (lambda (proc) (setq accepted proc))
                     :filter server-filter
                     (ossl-sock--server-keys)))
         (p (ossl-open-stream "ossl-sock" nil "127.0.0.1"
                              (process-contact srv :service)
                              :ca (ossl-sock--root) :hostname "localhost")))
    (ossl-test-wait-for (lambda () accepted))
    (list p accepted srv)))

(ert-deftest ossl-sock/in-emacs-pair-large-both-ways ()
  "8 MB each way between two relayed ends in one Emacs, checked by
SHA-256: backpressure, nothing lost, nothing reordered."
  (ossl-sock--with-descriptor
    (let* ((got-server nil) (got-client nil)
           (pair (ossl-sock--pair (lambda (_p s) (push s got-server))))
           (p (nth 0 pair)) (s (nth 1 pair))
           (n (* 8 1024 1024))
           (data (ossl-sock--bytes n)))
      (unwind-protect
          (progn
            (should (ossl--relayed-p (ossl-process-conn p)))
            (should (ossl--relayed-p (ossl-process-conn s)))
            (set-process-coding-system p 'binary 'binary)
            (set-process-coding-system s 'binary 'binary)
            (set-process-filter p (lambda (_p str) (push str got-client)))
            (process-send-string p data)
            (process-send-string s data)
            (ossl-test-wait-for
             (lambda () (and (>= (apply #'+ (mapcar #'length got-server)) n)
                             (>= (apply #'+ (mapcar #'length got-client)) n)))
             60)
            (should (equal (secure-hash 'sha256 (apply #'concat (reverse got-server)))
                           (secure-hash 'sha256 data)))
            (should (equal (secure-hash 'sha256 (apply #'concat (reverse got-client)))
                           (secure-hash 'sha256 data))))
        (delete-process p) (delete-process s) (delete-process (nth 2 pair))))))

(ert-deftest ossl-sock/finish-puts-the-socket-back ()
  "`ossl-ssl-finish' on both relayed ends: close_notify both ways, then
the same socket carries cleartext; coat it again and finish again."
  (ossl-sock--with-descriptor
    (let* ((col-s (ossl-sock--collector))
           (pair (ossl-sock--pair (car col-s)))
           (p (nth 0 pair)) (s (nth 1 pair))
           (col-c (ossl-sock--collector)))
      (unwind-protect
          (let ((c (ossl-process-conn p)) (sc (ossl-process-conn s)))
            (set-process-filter p (car col-c))
            (process-send-string p "secret\n")
            (ossl-test-wait-for (lambda () (string-search "secret\n" (funcall (cdr col-s)))))
            (should (eq (ossl-ssl-finish c) c))
            (should (ossl--conn-dead c))
            ;; The server saw the close_notify; it finishes too.
            (ossl-test-wait-for (lambda () (eq (ossl-ssl-state sc) 'closed)))
            (ossl-ssl-finish sc)
            (should-not (ossl-process-conn p))
            (should (process-live-p p))
            (should (process-live-p s))
            (should (eq (process-filter p) (car col-c)))
            (process-send-string p "in clear\n")
            (process-send-string s "also in clear\n")
            (ossl-test-wait-for
             (lambda () (and (string-search "in clear\n" (funcall (cdr col-s)))
                             (string-search "also in clear\n" (funcall (cdr col-c))))))
            (should (equal (funcall (cdr col-s)) "secret\nin clear\n"))
            (should (equal (funcall (cdr col-c)) "also in clear\n")))
        (delete-process p) (delete-process s) (delete-process (nth 2 pair))))))

(ert-deftest ossl-sock/coat-and-finish-1000-times ()
  "Coat one socket pair and finish it 1000 times in a row (STARTTLS
again each time): every round's data arrives, no relay is left."
  (ossl-sock--with-descriptor
    (let* ((baseline (ossl-sock--baseline))
           (baseline-all (ossl--relay-count t))
           (accepted nil)
           (srv (make-network-process
                 :name "ossl-sock-l" :server t :host "127.0.0.1" :service t
                 :noquery t :log (lambda (_s c _m) (setq accepted c))))
           (p (make-network-process :name "ossl-sock" :host "127.0.0.1"
                                    :service (process-contact srv :service)))
           (rounds (max 50 (round (* 1000 (string-to-number
                                           (or (getenv "OSSL_REL_SCALE") "1")))))))
      (unwind-protect
          (progn
            (ossl-test-wait-for (lambda () accepted))
            (let ((got "") (relayed 0))
              (set-process-filter accepted (lambda (_p s) (setq got (concat got s))))
              (dotimes (i rounds)
                (let* ((sc (ossl-starttls accepted :server t :callback #'ignore
                                          :cert (ossl-test-file "server-chain.pem")
                                          :key (ossl-test-file "server.key")))
                       (c (ossl-starttls p :ca (ossl-sock--root)
                                         :hostname "localhost"))
                       (msg (format "round %d\n" i)))
                  (ossl-test-wait-for (lambda () (eq (ossl-ssl-state sc) 'open)))
                  (when (and (ossl--relayed-p c) (ossl--relayed-p sc))
                    (setq relayed (1+ relayed)))
                  (process-send-string p msg)
                  (ossl-test-wait-for (lambda () (string-suffix-p msg got)))
                  (ossl-ssl-finish c)
                  (ossl-test-wait-for
                   (lambda () (memq (ossl-ssl-state sc) '(closed closing))))
                  (ossl-ssl-finish sc)))
              (should (= relayed rounds))
              (process-send-string p "clear at last\n")
              (ossl-test-wait-for (lambda () (string-suffix-p "clear at last\n" got)))
              (should (= (length (split-string got "\n" t)) (1+ rounds)))
              (should (<= (ossl-sock--relays-settle baseline) baseline))
              ;; Finished relays are freed once Lisp drops them.
              (should (<= (ossl-sock--relays-settle (+ baseline-all 10) t)
                          (+ baseline-all 10)))))
        (delete-process p)
        (when accepted (delete-process accepted))
        (delete-process srv)))))

(ert-deftest ossl-sock/two-hundred-concurrent ()
  "200 relayed sockets at once, each with its own echo through one
I/O thread; deleting them leaves no relay behind."
  (ossl-sock--with-descriptor
    (let* ((baseline (ossl-sock--baseline))
           (peer (ossl-test-threaded-echo-peer))
           (n 200) (clients nil) (results (make-hash-table)))
      (unwind-protect
          (progn
            (dotimes (i n)
              (let* ((i i)
                     (p (ossl-sock--connect peer)))
                (set-process-filter
                 p (lambda (_p s)
                     (puthash i (concat (gethash i results "") s) results)))
                (ossl-starttls p :ca (ossl-sock--root) :hostname "localhost")
                (push p clients)))
            (should (cl-every (lambda (p) (ossl--relayed-p (ossl-process-conn p)))
                              clients))
            (should (>= (ossl--relay-count) (+ baseline n)))
            ;; All at once: every client sends, then every echo comes.
            (let ((i n))
              (dolist (p clients)
                (setq i (1- i))
                (process-send-string p (format "client %d %s\n" i
                                               (make-string (* 100 i) ?x)))))
            (ossl-test-wait-for
             (lambda ()
               (cl-loop for i below n
                        always (equal (gethash i results)
                                      (format "client %d %s\n" i
                                              (make-string (* 100 i) ?x)))))
             60))
        (mapc #'delete-process clients)
        (ossl-test-stop-peer peer))
      (should (<= (ossl-sock--relays-settle baseline) baseline)))))

;;;; Idle relays

(declare-function ossl--heap-in-use "ossl-module" ())

(ert-deftest ossl-sock/idle-relays-keep-no-buffers ()
  "50 relayed sockets, idle after a 40 kB echo each, keep no buffer for
the data that passed: the relay frees its buffers once empty, the
engine OpenSSL's record buffers and its memory BIOs grown past 16 kB
\(see `ossl-rel/idle-connections-keep-no-buffers').  Before the fix
\(issue 15) each kept about 270 kB; about 30 kB is the connection."
  (ossl-sock--with-descriptor
    (let ((per (ossl-test-heap-per-idle-connection
                50 40000
                (lambda (p)
                  (should (ossl--relayed-p
                           (ossl-starttls p :ca (ossl-sock--root)
                                          :hostname "localhost")))))))
      (skip-unless per)
      (message "ossl-sock: C heap per idle relayed connection: %.0f bytes" per)
      (should (< per 40000)))))

;;;; Closing

(ert-deftest ossl-sock/send-eof-and-delete-say-close-notify ()
  "`process-send-eof' on a relayed socket sends close_notify, and the
peer's close_notify reaches Emacs as a clean end of file (not
truncated); `delete-process' sends close_notify too."
  (ossl-sock--with-descriptor
    (ossl-test-with-peer (peer (ossl-test-python-peer "echo"))
      (let* ((p (ossl-sock--connect peer))
             (col (ossl-sock--collector))
             (c (ossl-starttls p :ca (ossl-sock--root) :hostname "localhost")))
        (should (ossl--relayed-p c))
        (set-process-filter p (car col))
        (process-send-string p "ping\n")
        (ossl-test-wait-for (lambda () (equal (funcall (cdr col)) "ping\n")))
        (process-send-eof p)
        (ossl-test-peer-wait-output peer "PEER-CLOSE close_notify")
        (ossl-test-wait-for (lambda () (not (process-live-p p))))
        (should (eq (ossl-ssl-state c) 'closed))
        (should-not (plist-get (ossl-ssl-status c) :truncated))
        (delete-process p)))
    (ossl-test-with-peer (peer (ossl-test-python-peer "echo"))
      (let* ((p (ossl-sock--connect peer))
             (c (ossl-starttls p :ca (ossl-sock--root) :hostname "localhost")))
        (should (ossl--relayed-p c))
        (delete-process p)
        (ossl-test-peer-wait-output peer "PEER-CLOSE close_notify")))))

(ert-deftest ossl-sock/ends-wake-nobody ()
  "A relay that ends because Emacs deleted its process, or because the
peer closed, writes nothing on the channel: that output would end an
`accept-process-output' waiting for another process (found by
`ossl-sec/network-mode-native-nsm-without-trampolines': a connection
the NSM refused right after its handshake ended the wait for the
next connection's handshake after some milliseconds).  The peer still
gets close_notify and its socket closes."
  (ossl-sock--with-descriptor
    (let* ((lines 0)
           (count (lambda (_channel string)
                    (setq lines (+ lines (cl-count ?\n string))))))
      (advice-add 'ossl-socket--events :before count)
      (unwind-protect
          (ossl-test-with-peer (peer (ossl-test-python-peer "echo" :count 2))
            ;; Emacs deletes the process right after the handshake.
            (let* ((baseline (ossl-sock--baseline))
                   (p (ossl-sock--connect peer))
                   (c (ossl-starttls p :ca (ossl-sock--root)
                                     :hostname "localhost")))
              (should (ossl--relayed-p c))
              (accept-process-output nil 0.1)
              (setq lines 0)
              (delete-process p)
              (ossl-test-peer-wait-output peer "PEER-CLOSE close_notify")
              (should (= (ossl-sock--relays-settle baseline) baseline))
              (should-not (accept-process-output ossl-socket--channel 0.3 nil t))
              (should (= lines 0))
              ;; The peer closes: Emacs sees the end on its descriptor.
              (let* ((p (ossl-sock--connect peer))
                     (c (ossl-starttls p :ca (ossl-sock--root)
                                       :hostname "localhost")))
                (should (ossl--relayed-p c))
                (accept-process-output nil 0.1)
                (setq lines 0)
                (process-send-eof p)
                (ossl-test-wait-for (lambda () (not (process-live-p p))))
                (should (= (ossl-sock--relays-settle baseline) baseline))
                (should-not (accept-process-output ossl-socket--channel 0.3 nil t))
                (should (= lines 0))
                (delete-process p))))
        (advice-remove 'ossl-socket--events count)))))

(defconst ossl-sock--answer-then-garbage "
import os, socket, ssl, sys, time
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen(1)
print('READY', s.getsockname()[1], flush=True)
c = ctx.wrap_socket(s.accept()[0], server_side=True)
c.recv(100)
c.sendall(b'before\\n')
os.write(c.fileno(), b'GARBAGE-NOT-TLS-' * 8)
time.sleep(5)
"
  "A TLS server that answers a line with one, then sends bytes that are no TLS.")

(ert-deftest ossl-sock/failure-delivers-what-came-before ()
  "Cleartext the relay deciphered before the stream failed reaches the
filter, as on the Lisp path, also when Emacs had not read it from the
socketpair yet when the failure was noticed (the process is deleted
then)."
  (ossl-sock--with-descriptor
    (ossl-test-with-peer (peer (ossl-test-start-process
                                "answer-then-garbage" "/usr/bin/python3"
                                (list "-c" ossl-sock--answer-then-garbage
                                      (ossl-test-file "server-chain.pem")
                                      (ossl-test-file "server.key"))
                                :ready-regexp "READY \\([0-9]+\\)"
                                :port-regexp "READY \\([0-9]+\\)"))
      (let* ((p (ossl-sock--connect peer))
             (col (ossl-sock--collector))
             (inhibit-message t)
             (c (ossl-starttls p :ca (ossl-sock--root) :hostname "localhost")))
        (should (ossl--relayed-p c))
        (set-process-filter p (car col))
        (process-send-string p "go\n")
        ;; Emacs reads nothing meanwhile: the relay takes the answer and
        ;; the garbage, and fails.
        (call-process "sleep" nil nil nil "0.5")
        (should (eq (ossl-ssl-state c) 'failed))
        (should (equal (funcall (cdr col)) "before\n"))
        (should-not (process-live-p p))
        (should (string-match-p "failed" (ossl-ssl-error c)))))))

(ert-deftest ossl-sock/truncation-is-recorded ()
  "A peer that closes TCP without close_notify: Emacs sees its end of
file, the status says truncated; with close_notify it does not."
  (ossl-sock--with-descriptor
    (ossl-test-with-peer (peer (ossl-test-python-peer "garbage-after"
                                                      :message "last words\n"))
      ;; garbage-after sends the message, then junk: the stream fails.
      (let* ((p (ossl-sock--connect peer))
             (col (ossl-sock--collector))
             (inhibit-message t)
             (c (ossl-starttls p :ca (ossl-sock--root) :hostname "localhost")))
        (set-process-filter p (car col))
        (ossl-test-wait-for (lambda () (eq (ossl-ssl-state c) 'failed)))
        (should (string-match-p "failed" (ossl-ssl-error c)))
        (ossl-test-wait-for (lambda () (not (process-live-p p))))
        (should (string-search "last words" (funcall (cdr col))))
        (delete-process p)))
    (ossl-test-with-peer (peer (ossl-test-python-peer "source" :bytes 100000))
      (let* ((p (ossl-sock--connect peer))
             (got 0)
             (c (progn
                  (set-process-coding-system p 'binary 'binary)
                  (set-process-filter p (lambda (_p s) (setq got (+ got (length s)))))
                  (ossl-starttls p :ca (ossl-sock--root) :hostname "localhost"))))
        (ossl-test-wait-for (lambda () (not (process-live-p p))))
        (should (= got 100000))
        (should (eq (ossl-ssl-state c) 'closed))
        (should-not (plist-get (ossl-ssl-status c) :truncated))
        (delete-process p)))))

;;;; The ways the swap can go wrong

(ert-deftest ossl-sock/delete-mid-transfer ()
  "Emacs deletes relayed processes in the middle of a download and of
an upload (the descriptor closes under the thread): no crash, the
relays go away, the next connection works."
  (ossl-sock--with-descriptor
    (let ((baseline (ossl-sock--baseline)))
      (ossl-test-with-peer (peer (ossl-test-python-peer "source" :bytes (* 64 1024 1024)))
        (let* ((p (ossl-sock--connect peer))
               (got 0))
          (set-process-filter p (lambda (_p s) (setq got (+ got (length s)))))
          (ossl-starttls p :ca (ossl-sock--root) :hostname "localhost")
          (ossl-test-wait-for (lambda () (> got (* 1024 1024))) 30)
          (delete-process p)))
      (ossl-test-with-peer (peer (ossl-test-python-peer "sink"))
        (let ((p (ossl-sock--connect peer)))
          (ossl-starttls p :ca (ossl-sock--root) :hostname "localhost")
          (dotimes (_ 20)
            (process-send-string p (make-string 65536 ?u)))
          (delete-process p)
          (ossl-test-peer-wait-output peer "PEER-CLOSE")))
      (should (<= (ossl-sock--relays-settle baseline) baseline))
      (ossl-test-with-peer (peer (ossl-test-python-peer "echo"))
        (let* ((p (ossl-sock--connect peer))
               (col (ossl-sock--collector)))
          (set-process-filter p (car col))
          (ossl-starttls p :ca (ossl-sock--root) :hostname "localhost")
          (process-send-string p "still fine\n")
          (ossl-test-wait-for (lambda () (equal (funcall (cdr col)) "still fine\n")))
          (delete-process p))))))

(ert-deftest ossl-sock/collected-while-relayed ()
  "Processes deleted and their connections garbage-collected at once,
while their relays still have work: the relay frees the connection
itself when done; no crash, no relay left."
  (ossl-sock--with-descriptor
    (let ((baseline (ossl-sock--baseline)))
      (ossl-test-with-peer (peer (ossl-test-python-peer "echo" :count 20))
        (dotimes (_ 20)
          (let ((p (ossl-sock--connect peer)))
            (ossl-starttls p :ca (ossl-sock--root) :hostname "localhost")
            (process-send-string p (make-string 200000 ?g))
            (delete-process p)
            (process-put p 'ossl--conn nil))
          (garbage-collect)))
      (should (<= (ossl-sock--relays-settle baseline) baseline)))))

(defvar ossl-tests--resetting-peer)

(defun ossl-sock--resetting-peer ()
  "`ossl-tests--resetting-peer' sending a megabyte before it reads."
  ;; Not required at load time: Emacs 30's ERT refuses a test file
  ;; loaded twice, and the runner loads every file itself.
  (unless (boundp 'ossl-tests--resetting-peer)
    (require 'ossl-tests))
  (replace-regexp-in-string "^t\\.recv(10)$"
                            "t.sendall(b'x' * 1000000)\nt.recv(10)"
                            ossl-tests--resetting-peer t t))

(ert-deftest ossl-sock/peer-resets ()
  "The peer resets a relayed connection while data flows both ways:
Emacs sees the end, sending fails with an error, never a crash."
  (ossl-sock--with-descriptor
    (let ((peer (ossl-test-start-process
                 "resetter" "/usr/bin/python3"
                 (list "-c" (ossl-sock--resetting-peer)
                       (ossl-test-file "server-chain.pem")
                       (ossl-test-file "server.key"))
                 :ready-regexp "READY \\([0-9]+\\)"
                 :port-regexp "READY \\([0-9]+\\)")))
      (unwind-protect
          (let* ((p (ossl-sock--connect peer))
                 (c (ossl-starttls p :ca (ossl-sock--root) :hostname "localhost"))
                 (inhibit-message t))
            (should (ossl--relayed-p c))
            (process-send-string p "first")
            (ossl-test-peer-wait-output peer "RESET")
            (should (condition-case nil
                        (progn (dotimes (_ 50)
                                 (process-send-string p (make-string 65536 ?x))
                                 (accept-process-output nil 0.01))
                               'survived)
                      (error 'signalled)))
            (ossl-test-wait-for (lambda () (not (process-live-p p))))
            (delete-process p))
        (ossl-test-stop-peer peer)))))

(ert-deftest ossl-sock/full-socketpair ()
  "Emacs stops reading a relayed download (`stop-process') while the
peer sends 32 MB: the socketpair and then the socket fill up, the
relay's buffers stay bounded; once Emacs reads again every byte comes,
in order."
  (ossl-sock--with-descriptor
    (let ((n (* 32 1024 1024)))
      (ossl-test-with-peer (peer (ossl-test-python-peer "source" :bytes n))
        (let* ((p (ossl-sock--connect peer))
               (chunks nil) (got 0))
          (set-process-coding-system p 'binary 'binary)
          (set-process-filter p (lambda (_p s) (push s chunks)
                                  (setq got (+ got (length s)))))
          (ossl-starttls p :ca (ossl-sock--root) :hostname "localhost")
          (stop-process p)
          (let ((before got))
            (sleep-for 1.5)
            (should (= got before)))
          ;; The peer cannot have sent everything: backpressure.
          (should-not (string-search "SENT" (ossl-test-peer-output peer)))
          (continue-process p)
          (ossl-test-wait-for (lambda () (>= got n)) 60)
          (ossl-test-wait-for
           (lambda () (string-match "SHA256 \\([0-9a-f]+\\)"
                                    (ossl-test-peer-output peer))))
          (should (equal (secure-hash 'sha256 (apply #'concat (nreverse chunks)))
                         (match-string 1 (ossl-test-peer-output peer))))
          (delete-process p))))))

(ert-deftest ossl-sock/unproselytise-goes-back-to-lisp ()
  "Unproselytising a relayed connection puts the socket back: the filter
sees raw records, `ossl-ssl-read'/`ossl-ssl-write' talk through the
layer, and proselytising again keeps the Lisp path."
  (ossl-sock--with-descriptor
    (ossl-test-with-peer (peer (ossl-test-python-peer "echo"))
      (let* ((p (ossl-sock--connect peer))
             (sock (ossl-starttls p :ca (ossl-sock--root) :hostname "localhost"))
             (raw (ossl-sock--collector)))
        (should (ossl--relayed-p sock))
        (ossl-ssl-unproselytise-process sock)
        (should-not (ossl--relayed-p sock))
        (set-process-filter p (car raw))
        (ossl-ssl-write sock "NOOP\r\n")
        (let ((clear "") (fed 0))
          (ossl-test-wait-for
           (lambda ()
             (let ((records (funcall (cdr raw))))
               (should-not (string-search "NOOP" records))
               (setq clear (concat clear (ossl-ssl-read
                                          sock (substring records fed)))
                     fed (length records))
               (string-search "NOOP\r\n" clear)))))
        (ossl-ssl-proselytise-process sock)
        (let ((col (ossl-sock--collector)))
          (set-process-filter p (car col))
          (process-send-string p "again\n")
          (ossl-test-wait-for (lambda () (equal (funcall (cdr col)) "again\n"))))
        (delete-process p)))))

;;;; Held relays: the handshake on the I/O thread

(defun ossl-sock--held (p hostname)
  "Start a held relay running a new client handshake on P for HOSTNAME.
The relay is not registered with ossl-socket.el: the test reads its
events itself.  Return (CONN-HANDLE . RELAY)."
  (let* ((ctx (ossl--context nil (list :ca (ossl-sock--root))))
         (h (ossl--conn-new ctx hostname 'require))
         (fd (ossl-socket--descriptor p)))
    (should (integerp fd))
    (ossl-socket--ensure-channel)
    (cons h (ossl--relay-start fd h 999999))))

(defun ossl-sock--await (relay bit &optional seen)
  "Wait for RELAY's event BIT; return the events seen, with SEEN's."
  (let ((seen (or seen 0)))
    (ossl-test-wait-for
     (lambda ()
       (accept-process-output nil 0.05)
       (setq seen (logior seen (ossl--relay-events relay)))
       (/= 0 (logand seen bit))))
    seen))

(ert-deftest ossl-sock/held-relay-runs-the-handshake ()
  "A relay started on a handshaking client runs the handshake on the I/O
thread and reports its end on the channel; what Emacs sends meanwhile
waits, neither in clear nor encrypted, until the relay is resumed,
then reaches the peer encrypted."
  (ossl-test-with-peer (peer (ossl-test-python-peer "record"))
    (let* ((p (ossl-sock--connect peer))
           (col (ossl-sock--collector))
           (secret "early secret, never in clear\n"))
      (set-process-filter p (car col))
      (unwind-protect
          (pcase-let ((`(,h . ,r) (ossl-sock--held p "localhost")))
            (process-send-string p secret)
            (should (/= 0 (logand 16 (ossl-sock--await r 16))))
            (should (eq (ossl--state h) 'open))
            (should (equal (car (ossl--verify-code h)) 0))
            ;; Held: the peer gets nothing more, Emacs nothing at all.
            (accept-process-output p 0.3)
            (should (equal (funcall (cdr col)) ""))
            (should (equal (ossl-test-peer-clear peer) ""))
            (ossl--relay-resume r)
            (ossl-test-wait-for (lambda () (equal (funcall (cdr col)) secret)))
            (should (equal (ossl-test-peer-clear peer) secret))
            (should-not (string-search "early secret" (ossl-test-peer-raw peer)))
            (should (eq (process-status p) 'open)))
        (delete-process p)))))

(ert-deftest ossl-sock/held-relay-gives-emacs-nothing-before-resume ()
  "Cleartext that comes with the handshake's last flight, and the peer's
end after it, wait in a held relay; once resumed, every byte reaches
the filter, then the end of file."
  (ossl-test-with-peer (peer (ossl-test-python-peer "source" :bytes 100000))
    (let* ((p (ossl-sock--connect peer))
           (col (ossl-sock--collector)))
      (set-process-coding-system p 'binary 'binary)
      (set-process-filter p (car col))
      (unwind-protect
          (pcase-let ((`(,_h . ,r) (ossl-sock--held p "localhost")))
            (ossl-sock--await r 16)
            (ossl-test-peer-wait-output peer "^SENT")
            (accept-process-output p 0.3)
            (should (equal (funcall (cdr col)) ""))
            (should (process-live-p p))
            (ossl--relay-resume r)
            (ossl-test-wait-for (lambda () (not (process-live-p p))))
            (should (equal (ossl-test-sha256 (funcall (cdr col)))
                           (ossl-test-peer-sha256 peer))))
        (delete-process p)))))

(ert-deftest ossl-sock/held-relay-waits-for-the-sni-choice ()
  "A held server relay whose context pauses for SNI reports the name the
client asks for, and goes on once a context is chosen and it is resumed."
  (let* ((ctx (ossl--context t (append (list :sni-function #'ignore)
                                      (ossl-sock--server-keys))))
         (relays nil)
         (server (make-network-process
                  :name "ossl-sock-sni" :server t :host "127.0.0.1" :service t
                  :log (lambda (_s client _m)
                         (let ((h (ossl--conn-new ctx nil 'none)))
                           (push (cons h (ossl--relay-start
                                          (ossl-socket--descriptor client)
                                          h 999998))
                                 relays))))))
    (ossl-socket--ensure-channel)
    (unwind-protect
        (ossl-test-with-peer (client (ossl-test-openssl-client
                                      (process-contact server :service)
                                      :servername "other.example"
                                      ;; It waits for the choice below.
                                      :ready-regexp nil))
          (ossl-test-wait-for (lambda () (accept-process-output nil 0.05) relays))
          (pcase-let ((`(,h . ,r) (car relays)))
            (ossl-sock--await r 32)
            (should (equal (ossl--sni-pending h) "other.example"))
            (should (eq (ossl--state h) 'handshaking))
            (ossl--sni-choose h nil)
            (should-not (ossl--sni-pending h))
            (ossl--relay-resume r)
            (ossl-sock--await r 16)
            (should (eq (ossl--state h) 'open))
            (ossl-test-peer-wait-output client "Verify return code: 0")))
      (delete-process server))))

(ert-deftest ossl-sock/held-relay-failure-keeps-the-socket ()
  "A handshake that fails in a held relay (the name does not match) is
reported on the channel; the socket stays open, Emacs is given no end
of file, and the socket can be taken back."
  (ossl-test-with-peer (peer (ossl-test-python-peer "record"))
    (let ((p (ossl-sock--connect peer))
          (baseline (ossl-sock--baseline)))
      (unwind-protect
          (pcase-let ((`(,h . ,r) (ossl-sock--held p "wrong.example")))
            (ossl-sock--await r 16)
            (should (eq (ossl--state h) 'failed))
            (should (string-match-p "verif\\|hostname\\|mismatch"
                                    (ossl--reason h)))
            (ossl-test-peer-wait-output peer "HANDSHAKE-FAILED")
            (accept-process-output p 0.3)
            (should (eq (process-status p) 'open))
            (should (nth 3 (ossl--relay-stop r t)))
            (should (<= (ossl-sock--relays-settle baseline) baseline)))
        (delete-process p)))))

(ert-deftest ossl-sock/held-relay-deleted-mid-handshake ()
  "Emacs deletes a process whose held relay waits for a silent peer: the
relay ends, nothing is left."
  (ossl-test-with-peer (peer (ossl-test-python-peer "silent"))
    (let ((p (ossl-sock--connect peer))
          (baseline (ossl-sock--baseline)))
      (ossl-sock--held p "localhost")
      (should (> (ossl--relay-count) baseline))
      (delete-process p)
      (should (<= (ossl-sock--relays-settle baseline) baseline)))))

;;;; Other files' tests, on the other path

(defconst ossl-sock--representative
  '(ossl/openssl-server-tls13 ossl/openssl-server-tls12 ossl/gnutls-server-echo
    ossl/python-echo-filters-and-coding ossl/send-from-compiled-code
    ossl/multibyte-split-across-records ossl/large-download-and-upload
    ossl/send-before-handshake-ends ossl/in-emacs-pair-last-flight-and-early-data
    ossl/sxemacs-coat-then-finish ossl/sxemacs-starttls-flow
    ossl/starttls-from-the-filter ossl/sxemacs-unproselytise-read-write
    ossl/garbage-after-handshake ossl/peer-resets-connection
    ossl-server/openssl-client-tls12-and-tls13 ossl-server/python-client
    ossl-server/in-emacs-blocking-and-nonblocking ossl-server/fifty-concurrent-clients
    ossl-server/half-close ossl-server/delete-process-says-close-notify
    ossl-server/clean-eof-and-truncation ossl-server/resumption-between-ossl-connections
    ossl-server/alpn ossl-server/sni-function
    ossl-verify/status ossl-verify/inject-ca-with-hindsight
    ossl-rel/fault-reset-in-transfer ossl-rel/fault-bad-records-after-handshake
    ossl-rel/fault-truncation ossl-rel/fault-client-resets-after-close-notify
    ossl-network/url-https ossl-network/smtpmail-starttls-and-smtps)
  "Tests of other files that run again on the path that is not the default.")

(defun ossl-sock--other-path ()
  "The value of `ossl-socket-data-path' that is not its default."
  (if (eq (default-value 'ossl-socket-data-path) 'descriptor) 'lisp 'descriptor))

(dolist (name ossl-sock--representative)
  (let* ((name name)
         (test (intern (format "ossl-sock/other-path--%s"
                               (replace-regexp-in-string
                                "/" "--" (symbol-name name))))))
    (ert-set-test
     test
     (make-ert-test
      :name test
      :documentation (format "`%s' on the path that is not the default: a relay\
 starts under the descriptor, none in Lisp." name)
      :body (lambda ()
              (unless (ert-test-boundp name)
                (require (intern (concat (car (split-string (symbol-name name) "/"))
                                         "-tests"))))
              (let ((before ossl-socket--next-id)
                    (ossl-socket-data-path (ossl-sock--other-path)))
                (funcall (ert-test-body (ert-get-test name)))
                (if (eq ossl-socket-data-path 'descriptor)
                    (should (> ossl-socket--next-id before))
                  (should (= ossl-socket--next-id before)))))))))

(provide 'ossl-socket-tests)
;;; ossl-socket-tests.el ends here
