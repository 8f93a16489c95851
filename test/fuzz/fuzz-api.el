;;; fuzz-api.el --- fuzz every ossl function from Lisp  -*- lexical-binding: t; -*-

;;; Commentary:

;; `make fuzz-api' runs the driver:
;;
;;   emacs -Q --batch -L lisp -L test -l test/fuzz/fuzz-api.el \
;;     -f ossl-fuzz-api-driver SEED CALLS MODULE.so...
;;
;; For each module build given (the plain one, then the ASan+UBSan one
;; when it is given and the ASan runtime exists), the driver copies the
;; Lisp files and that module into a private directory and runs a child
;; Emacs on them (the ASan child with the runtime preloaded and
;; -module-assertions), so that a crash of the child is seen, not
;; suffered.  The child calls every public `ossl-' and private `ossl--'
;; function, CALLS times in all, with random argument lists drawn with
;; SEED: wrong types, nil, huge and empty strings, multibyte strings
;; with raw bytes, keyword lists, live, finished, failed and
;; mid-handshake connections, certificates of freed connections, dead
;; processes, and functions that call back into ossl from process
;; filters (re-entrant calls).
;;
;; What must hold: the child never dies, and every error a module
;; primitive or a public function signals is `wrong-type-argument',
;; `args-out-of-range', `wrong-number-of-arguments' (the fuzzer also
;; tries wrong argument counts) or an `ossl-error' child.  Errors of
;; other kinds from private Lisp helpers (which trust their callers)
;; are listed but do not fail the run.  Before every call the child
;; writes it to a trace file, so a crash names the call that did it.
;;
;; OSSL_FUZZ_ONLY, a regexp, limits the functions to those it matches
;; (OSSL_FUZZ_ONLY='crypto\\|digest\\|hmac\\|cipher\\|crypt\\|kdf\\|rand\\|pbkdf\\|scrypt\\|bytes-to-key\\|version'
;; for the functions of issue 16).  Crypto functions get plausible
;; arguments half the time: valid algorithms, keys and IVs of the right
;; length, ciphertexts made by `ossl-encrypt' and then altered.
;; Excluded: `ossl-module-compile' (it runs make in the checkout), and
;; `ossl--load-module' and `ossl--module-fail', which load ossl anew.
;; Guarded: two crashes of Emacs 28.2 itself, which the child turns into
;; errors: `network-lookup-address-info' given a non-string, and `error'
;; formatting a string with a byte #xF8..#xFF (a process name, a host:
;; Emacs 28.2 reads it as the head of a 6-byte character and corrupts
;; its heap), so Lisp helpers get no such bytes, and strings over 200
;; characters go only to module primitives and to the functions that
;; take data.
;; User errors (`user-error') from interactive commands are allowed, and
;; so are the transport's own errors (DNS, connection refused) from the
;; functions that open connections, as `open-network-stream' has them.
;; Prompts (`read-passwd', `y-or-n-p'...) answer with random values.

;;; Code:

(require 'cl-lib)
(require 'subr-x)

(defvar ossl-handshake-timeout)
(defvar ossl-finish-timeout)
(defvar nsm-settings-file)
(defvar ossl-fuzz--transport-error)
(declare-function ossl--orig "ossl-process" (primitive))
(declare-function ossl-ssl-conn-p "ossl" (object))
(declare-function ossl--conn-handle "ossl-core" (conn))
(declare-function ossl--conn-dead "ossl-core" (conn))
(declare-function ossl--state "ossl-module" (handle))
(declare-function ossl--cipher-info "ossl-module" (name))
(declare-function ossl-encrypt "ossl-crypto" (cipher data key &optional iv aad))
(declare-function ossl--conn-process "ossl-core" (conn))

(defconst ossl-fuzz--dir
  (file-name-directory (or load-file-name buffer-file-name))
  "test/fuzz/.")

;;;; The driver: one child Emacs per module build

(defun ossl-fuzz--copy-tree (module)
  "A fresh directory with the Lisp files and MODULE as ossl-module.so."
  (let ((dir (make-temp-file "ossl-fuzz-" t))
        (lisp (expand-file-name "../../lisp/" ossl-fuzz--dir)))
    (dolist (f (directory-files lisp t "\\`ossl.*\\.el\\'"))
      (copy-file f (expand-file-name (file-name-nondirectory f) dir)))
    (copy-file module (expand-file-name "ossl-module.so" dir))
    dir))

(defun ossl-fuzz--asan-runtime ()
  "The ASan runtime of the compiler that built the ASan module, or nil."
  (let ((f (string-trim
            (shell-command-to-string
             (concat (or (getenv "ASAN_CC") "gcc") " -print-file-name=libasan.so")))))
    (and (file-name-absolute-p f) (file-exists-p f) f)))

(defun ossl-fuzz--module-reports (logdir)
  "Sanitizer reports in LOGDIR with a frame in the module: a list of strings."
  (let (ours)
    (dolist (f (and (file-directory-p logdir)
                    (directory-files logdir t "\\`\\(asan\\|ubsan\\)")))
      (with-temp-buffer
        (insert-file-contents f)
        (dolist (rec (split-string (buffer-string) "\n\n+" t))
          (when (and (string-match-p "leak of\\|ERROR:\\|runtime error" rec)
                     (string-match-p "ossl-module\\|libssl\\.so\\|libcrypto\\.so\\|module/[a-z0-9-]+\\.c"
                                     rec))
            (push rec ours)))))
    (nreverse ours)))

(defun ossl-fuzz-api-driver ()
  "Run the fuzzer in child Emacsen.
Arguments SEED CALLS MODULE... come from the command line."
  (let* ((args command-line-args-left)
         (seed (string-to-number (nth 0 args)))
         (calls (string-to-number (nth 1 args)))
         (modules (nthcdr 2 args))
         (emacs (expand-file-name invocation-name invocation-directory))
         (test-dir (expand-file-name "../" ossl-fuzz--dir))
         (failed nil))
    (setq command-line-args-left nil)
    (message "ossl-fuzz-api: seed %d, %d calls per module build" seed calls)
    (dolist (module modules)
      (let* ((asan (string-match-p "asan" module))
             (runtime (and asan (ossl-fuzz--asan-runtime)))
             (name (if asan "asan" "plain")))
        (cond
         ((not (file-exists-p module))
          (message "ossl-fuzz-api: %s: no module %s, skipped" name module))
         ((and asan (not runtime))
          (message "ossl-fuzz-api: %s: no ASan runtime, skipped" name))
         (t
          (let* ((dir (ossl-fuzz--copy-tree module))
                 (trace (expand-file-name "trace" dir))
                 (logdir (expand-file-name "log" dir))
                 (process-environment
                  (if asan
                      (append
                       (list (concat "LD_PRELOAD=" runtime)
                             (format "ASAN_OPTIONS=detect_leaks=1:log_path=%s/asan:allocator_may_return_null=1:suppressions=%s"
                                     logdir (expand-file-name "../../build/asan.supp"
                                                              ossl-fuzz--dir))
                             (format "LSAN_OPTIONS=exitcode=0:suppressions=%s"
                                     (expand-file-name "../../build/lsan.supp"
                                                       ossl-fuzz--dir))
                             (format "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=%s/ubsan"
                                     logdir))
                       process-environment)
                    process-environment))
                 ;; The child runs in its own directory: files it is
                 ;; told to write, under junk names, land there.
                 (default-directory (file-name-as-directory dir))
                 (start (float-time))
                 status output)
            (make-directory logdir t)
            (with-temp-buffer
              (setq status
                    (apply #'call-process
                           (or (executable-find "timeout") emacs) nil t nil
                           (append
                            (and (executable-find "timeout")
                                 (list "-k" "10" "1800" emacs))
                            (list "-Q" "--batch")
                            (and asan (list "-module-assertions"))
                            (list "-L" dir "-L" test-dir
                                  "-l" (expand-file-name "fuzz-api.el" ossl-fuzz--dir)
                                  "-f" "ossl-fuzz-api-child"
                                  (number-to-string seed) (number-to-string calls)
                                  trace))))
              (setq output (buffer-string)))
            (princ output)
            (unless (string-suffix-p "\n" output) (terpri))
            (let ((reports (ossl-fuzz--module-reports logdir))
                  (secs (- (float-time) start)))
              (message "ossl-fuzz-api: %s: child exit %s after %.0f s, %d sanitizer reports from the module"
                       name status secs (length reports))
              (dolist (r reports) (message "%s\n" r))
              (unless (and (eq status 0) (null reports))
                (setq failed t)
                (when (file-exists-p trace)
                  (message "ossl-fuzz-api: %s: the last call was:\n%s" name
                           (with-temp-buffer (insert-file-contents trace)
                                             (buffer-string)))))
              (unless failed (delete-directory dir t)))))))
      (garbage-collect))
    (message "ossl-fuzz-api: %s" (if failed "FAILED" "passed"))
    (kill-emacs (if failed 1 0))))

;;;; The child: random calls

(defvar ossl-fuzz--rs nil "The random state.")
(defvar ossl-fuzz--pool nil "Objects to call with: a plist of kind -> list.")
(defvar ossl-fuzz--functions nil "The functions fuzzed: (SYMBOL . CLASS).")
(defvar ossl-fuzz--stats nil "Hash table of counters.")
(defvar ossl-fuzz--unexpected nil "Hash table (FN . ERROR) -> (COUNT . EXAMPLE).")
(defvar ossl-fuzz--depth 0 "Nesting of fuzz calls (re-entrant calls from filters).")
(defvar ossl-fuzz--trace nil "The trace file.")
(defvar ossl-fuzz--calls 0 "Calls made so far, nested ones included.")
(defvar ossl-fuzz--world nil "Servers and files the pool is made from: a plist.")

(define-error 'ossl-fuzz-callback-error "A fuzz callback signalled on purpose")

(defun ossl-fuzz--rand (n)
  "A random integer in [0, N)."
  (cl-random n ossl-fuzz--rs))

(defun ossl-fuzz--chance (p)
  "Non-nil with probability P."
  (< (cl-random 1.0 ossl-fuzz--rs) p))

(defun ossl-fuzz--pick (seq)
  "A random element of SEQ, or nil when it is empty."
  (and (> (length seq) 0) (elt seq (ossl-fuzz--rand (length seq)))))

(defun ossl-fuzz--count (key &optional n)
  "Add N (default 1) to the counter KEY."
  (puthash key (+ (or n 1) (gethash key ossl-fuzz--stats 0)) ossl-fuzz--stats))

(defun ossl-fuzz--bytes (n)
  "N random bytes, a unibyte string."
  (let ((s (make-string n 0)))
    (dotimes (i n) (aset s i (ossl-fuzz--rand 256)))
    s))

(defun ossl-fuzz--file-string (file)
  "The bytes of FILE."
  (with-temp-buffer
    (set-buffer-multibyte nil)
    (insert-file-contents-literally file)
    (buffer-string)))

;;;;; The world: servers, files, and a pool of live and dead objects

(defun ossl-fuzz--setup-world ()
  "Start the servers and read the files the pool is made from."
  (require 'ossl-test-lib)
  (let* ((f (lambda (n) (funcall (intern "ossl-test-file") n)))
         (echo (ossl-open-server "fuzz-echo" nil "127.0.0.1" t
                                 :cert (funcall f "server-chain.pem")
                                 :key (funcall f "server.key")
                                 :filter #'ossl-fuzz--echo-filter))
         (stall (make-network-process :name "fuzz-stall" :server t
                                      :host "127.0.0.1" :service t :noquery t
                                      :coding 'binary :filter #'ignore)))
    (setq ossl-fuzz--world
          (list :echo echo :echo-port (process-contact echo :service)
                :stall stall :stall-port (process-contact stall :service)
                :files (mapcar f '("root.pem" "server.pem" "server-chain.pem"
                                   "server.key" "encrypted.key" "server.der"
                                   "client.pem" "client.key" "ca-bundle.pem"
                                   "serial20.pem" "expired.pem"))
                :pem (ossl-fuzz--file-string (funcall f "server-chain.pem"))
                :key (ossl-fuzz--file-string (funcall f "server.key"))
                :enc-key (ossl-fuzz--file-string (funcall f "encrypted.key"))
                :der (ossl-fuzz--file-string (funcall f "server.der"))
                :root (funcall f "root.pem")
                :cert (funcall f "server-chain.pem")
                :keyfile (funcall f "server.key")
                :dir (file-name-directory (funcall f "root.pem"))
                :huge (make-string (* 1024 1024) ?A)
                :huge-mb (string-to-multibyte (concat (make-string 100000 ?\xe9)
                                                      (ossl-fuzz--bytes 1000)))))))

(defun ossl-fuzz--echo-filter (proc string)
  "The echo server's filter: send STRING back, maybe fuzz from inside."
  (when (process-live-p proc)
    (ignore-errors (process-send-string proc string)))
  (ossl-fuzz--reenter))

(defun ossl-fuzz--reenter ()
  "From a filter or callback: a few random calls, one level deep at most."
  (when (and (< ossl-fuzz--depth 2) ossl-fuzz--functions (ossl-fuzz--chance 0.8))
    (ossl-fuzz--count 'reentrant)
    (dotimes (_ (1+ (ossl-fuzz--rand 3)))
      (ossl-fuzz--one-call))))

(defun ossl-fuzz--world-get (key)
  "KEY of the world plist."
  (plist-get ossl-fuzz--world key))

(defun ossl-fuzz--ctx (kind)
  "A context of KIND: client, server, sni, bare."
  (ignore-errors
    (pcase kind
      ('client (let ((c (ossl--ctx-new nil)))
                 (ossl--ctx-add-ca c 'file (ossl-fuzz--world-get :root)) c))
      ('server (let ((c (ossl--ctx-new t)))
                 (ossl--ctx-use-cert c 'file (ossl-fuzz--world-get :cert))
                 (ossl--ctx-use-key c 'file (ossl-fuzz--world-get :keyfile) nil)
                 c))
      ('sni (let ((c (ossl-fuzz--ctx 'server)))
              (ossl--ctx-pause-for-sni c) c))
      (_ (ossl--ctx-new (ossl-fuzz--chance 0.5))))))

(defun ossl-fuzz--pump (a b)
  "Move ciphertext between handles A and B for a few rounds."
  (dotimes (_ 6)
    (ignore-errors
      (let ((x (ossl--take a))) (when x (ossl--feed b x))))
    (ignore-errors
      (let ((x (ossl--take b))) (when x (ossl--feed a x))))))

(defun ossl-fuzz--handles ()
  "Engine handles in every state."
  (let* ((cctx (ossl-fuzz--ctx 'client))
         (sctx (ossl-fuzz--ctx 'server))
         (fresh-c (ignore-errors (ossl--conn-new cctx "localhost" (ossl-fuzz--pick '(none request require)))))
         (fresh-s (ignore-errors (ossl--conn-new sctx nil (ossl-fuzz--pick '(none request require)))))
         (c (ignore-errors (ossl--conn-new cctx "localhost" 'none)))
         (s (ignore-errors (ossl--conn-new sctx nil 'none)))
         (mid (ignore-errors (ossl--conn-new cctx "localhost" 'require)))
         (failed (ignore-errors (ossl--conn-new sctx nil 'none)))
         (released (ignore-errors (ossl--conn-new cctx "localhost" 'none)))
         (paused (ignore-errors (ossl--conn-new (ossl-fuzz--ctx 'sni) nil 'none)))
         (asker (ignore-errors (ossl--conn-new cctx "localhost" 'none))))
    (ignore-errors (ossl--feed c "") (ossl-fuzz--pump c s))
    (ignore-errors (ossl--feed mid ""))
    (ignore-errors (ossl--feed failed "not a ClientHello at all"))
    (ignore-errors (ossl--feed released "") (ossl--release released))
    (ignore-errors (ossl--feed asker "") (ossl--feed paused (ossl--take asker)))
    (delq nil (list fresh-c fresh-s c s mid failed released paused))))

(defun ossl-fuzz--certs ()
  "Certificate objects and handles, some from connections freed since."
  (let* ((pair-c (ignore-errors (ossl--conn-new (ossl-fuzz--ctx 'client) "localhost" 'none)))
         (pair-s (ignore-errors (ossl--conn-new (ossl-fuzz--ctx 'server) nil 'none)))
         (orphans (progn
                    (ignore-errors (ossl--feed pair-c "") (ossl-fuzz--pump pair-c pair-s))
                    (prog1 (ignore-errors (ossl--peer-chain pair-c))
                      (ignore-errors (ossl--release pair-c))
                      (ignore-errors (ossl--release pair-s))))))
    (append orphans
            (mapcar #'ossl--x509-wrap orphans)
            (ignore-errors (ossl-x509-read-file (ossl-fuzz--world-get :cert)))
            (ignore-errors (ossl--x509-from-pem (ossl-fuzz--world-get :pem))))))

(defun ossl-fuzz--coated (kind)
  "A process coated with TLS, as its ssl-conn, in the state KIND."
  (let ((inhibit-message t))
    (ignore-errors
      (pcase kind
        ('open
         (let ((p (ossl-open-stream "fuzz-c" nil "127.0.0.1"
                                    (ossl-fuzz--world-get :echo-port)
                                    :hostname "localhost" :timeout 2
                                    :ca (ossl-fuzz--world-get :root))))
           (set-process-filter p (lambda (_p _s) (ossl-fuzz--reenter)))
           (ossl-process-conn p)))
        ('handshaking
         (let ((p (ossl-open-stream "fuzz-mid" nil "127.0.0.1"
                                    (ossl-fuzz--world-get :stall-port)
                                    :nowait t :hostname "localhost" :timeout 600
                                    :callback #'ignore)))
           (ossl-process-conn p)))
        ('dead
         (let ((c (ossl-fuzz--coated 'open)))
           (ossl-ssl-finish c)
           c))
        ('failed
         (let* ((p (open-network-stream "fuzz-f" nil "127.0.0.1"
                                        (ossl-fuzz--world-get :stall-port)))
                (c (ossl-starttls p :hostname "localhost" :timeout 0.01
                                  :callback #'ignore)))
           (accept-process-output nil 0.05)
           c))))))

(defun ossl-fuzz--refresh-pool ()
  "Drop the old pool (processes deleted, objects left to the collector).
Every process but the two servers goes, whoever made it; a server that
a random call deleted is started again."
  (setq debug-on-error nil debug-on-signal nil debug-on-quit nil)
  (unless (and (process-live-p (ossl-fuzz--world-get :echo))
               (process-live-p (ossl-fuzz--world-get :stall)))
    (ossl-fuzz--count 'world-restarts)
    (dolist (k '(:echo :stall))
      (ignore-errors (delete-process (ossl-fuzz--world-get k))))
    (ossl-fuzz--setup-world))
  (dolist (p (process-list))
    (unless (memq p (list (ossl-fuzz--world-get :echo) (ossl-fuzz--world-get :stall)))
      (ignore-errors (delete-process p))))
  (let* ((conns (delq nil (mapcar #'ossl-fuzz--coated
                                  '(open open handshaking dead failed))))
         (dead (make-pipe-process :name "fuzz-dead" :noquery t))
         (plain (ignore-errors
                  (open-network-stream "fuzz-plain" nil "127.0.0.1"
                                       (ossl-fuzz--world-get :stall-port))))
         (pipe (make-pipe-process :name "fuzz-pipe" :noquery t))
         (buf (generate-new-buffer " *fuzz*"))
         (dead-buf (generate-new-buffer " *fuzz-dead*")))
    (delete-process dead)
    (kill-buffer dead-buf)
    (setq ossl-fuzz--pool
          (list :handles (ossl-fuzz--handles)
                :ctxs (delq nil (mapcar #'ossl-fuzz--ctx '(client server sni bare)))
                :conns conns
                :certs (ossl-fuzz--certs)
                :processes (delq nil (append (list dead plain pipe
                                                   (ossl-fuzz--world-get :echo))
                                             (mapcar (lambda (c)
                                                       (ignore-errors
                                                         (ossl--conn-process c)))
                                                     conns)))
                :buffers (list buf dead-buf)))
    (dolist (b (buffer-list))
      (when (and (string-prefix-p " *fuzz" (buffer-name b)) (not (eq b buf)))
        (kill-buffer b)))))

;;;;; Random values

(defconst ossl-fuzz--symbols
  '(system file dir pem x509 der oneline rfc2253 tls tls1 ssl23 tls1.0 tls1.1
    tls1.2 tls1.3 ssl2 ssl3 sslv2 tls1.2+ none request require binary utf-8
    utf-8-unix no-conversion raw-text latin-1 undecided open closed failed
    handshaking foo nil t
    ;; Algorithms (issue 16), some unknown, some that no MAC or KDF takes.
    sha256 SHA512 sha3-256 md5 shake128 null blake2b512 sha257 aes-256-gcm
    aes-128-cbc aes-128-ccm chacha20-poly1305 aes-256-ecb aes-128-siv
    aes-256-xts aes-128-wrap-pad chacha20 aes-256-gmc))

(defconst ossl-fuzz--keywords
  '(:method :min-version :max-version :ca :client-ca :cert :key :password
    :hostname :verify :verify-function :ciphers :ciphersuites :alpn :session
    :server :verify-client :sni :sni-function :timeout :callback :context
    :nowait :acceptor :filter :sentinel :type :host :service :coding))

(defun ossl-fuzz--string ()
  "A random string: empty, huge, multibyte with raw bytes, PEM, DER, file names..."
  (pcase (ossl-fuzz--rand 24)
    (0 "")
    (1 (ossl-fuzz--bytes (ossl-fuzz--rand 64)))
    (2 (ossl-fuzz--bytes (ossl-fuzz--rand 4096)))
    (3 (if (ossl-fuzz--chance 0.2) (ossl-fuzz--world-get :huge) (make-string 300 ?x)))
    (4 (ossl-fuzz--world-get :huge-mb))
    (5 (string-to-multibyte (ossl-fuzz--bytes (ossl-fuzz--rand 32))))
    (6 "日本語のテキスト \u00e9\U0001F600")
    (7 (concat "caf\u00e9" (string-to-multibyte "\377\200\300")))
    (8 "\0\0\0nul")
    (9 (ossl-fuzz--world-get :pem))
    (10 (ossl-fuzz--world-get :key))
    (11 (ossl-fuzz--world-get :enc-key))
    (12 (ossl-fuzz--world-get :der))
    (13 (let ((s (copy-sequence (ossl-fuzz--world-get :der))))
          (dotimes (_ 4) (aset s (ossl-fuzz--rand (length s)) (ossl-fuzz--rand 256)))
          s))
    (14 (let ((pem (ossl-fuzz--world-get :pem)))
          (substring pem 0 (ossl-fuzz--rand (length pem)))))
    (15 (ossl-fuzz--pick (ossl-fuzz--world-get :files)))
    (16 (ossl-fuzz--pick (list "/dev/null" "/nonexistent/file" "/" "/etc/passwd"
                               (ossl-fuzz--world-get :dir) "~" "" "/proc/self/status")))
    (17 (ossl-fuzz--pick '("localhost" "127.0.0.1" "::1" "*.test.example"
                           "wrong.example" "a..b" "-" ".")))
    (18 (ossl-fuzz--pick '("DEFAULT" "ALL:!aNULL" "NONSENSE" "TLS_AES_128_GCM_SHA256"
                           "" "h2" "http/1.1")))
    (19 (ossl-fuzz--pick (list "\x02h2" "\x08http/1.1\x02h2" "\x05h2" "\0" "\xff")))
    (20 (concat (unibyte-string 22 3 1 0 (ossl-fuzz--rand 256))
                (ossl-fuzz--bytes (ossl-fuzz--rand 300))))
    (21 (concat (unibyte-string 23 3 3 #x48 1) (make-string 100 ?B)))
    (22 "secret-pass")
    (_ (format "%s" (ossl-fuzz--rand 100000)))))

(defun ossl-fuzz--number ()
  "A random number, often at an edge."
  (ossl-fuzz--pick (list 0 1 2 -1 3 255 256 65535 65536 #x0303 #x0304 #x0301
                         most-positive-fixnum most-negative-fixnum
                         (1+ most-positive-fixnum) (- (expt 2 70))
                         0.0 -0.0 0.01 1.5 1.0e+INF -1.0e+INF 0.0e+NaN
                         (ossl-fuzz--rand 1000))))

(defun ossl-fuzz--function ()
  "A function to give as a callback, filter or password."
  (ossl-fuzz--pick
   (list #'ignore #'identity
         (lambda (&rest _) t)
         (lambda (&rest _) (ossl-fuzz--value 1))
         (lambda (&rest _) (ossl-fuzz--reenter) nil)
         (lambda (&rest _) (signal 'ossl-fuzz-callback-error nil))
         (lambda () "secret-pass")
         'car 'no-such-function-at-all)))

(defun ossl-fuzz--from-pool (kind)
  "A random object of KIND from the pool."
  (ossl-fuzz--pick (plist-get ossl-fuzz--pool kind)))

(defun ossl-fuzz--plist (depth)
  "A random keyword list, nested at most DEPTH."
  (let (out)
    (dotimes (_ (ossl-fuzz--rand 5))
      (setq out (append out (list (ossl-fuzz--pick ossl-fuzz--keywords)
                                  (ossl-fuzz--value depth)))))
    out))

(defun ossl-fuzz--value (&optional depth)
  "A random argument; lists nest at most DEPTH (default 2) deep."
  (let ((depth (or depth 2)))
    (pcase (ossl-fuzz--rand 20)
      ((or 0 1 2) (ossl-fuzz--from-pool
                   (ossl-fuzz--pick '(:handles :handles :conns :conns :ctxs :certs
                                      :processes))))
      (3 (ossl-fuzz--from-pool :conns))
      (4 (ossl-fuzz--from-pool :certs))
      (5 nil)
      (6 t)
      ((or 7 8 9) (ossl-fuzz--string))
      (10 (ossl-fuzz--pick ossl-fuzz--symbols))
      (11 (ossl-fuzz--number))
      (12 (ossl-fuzz--function))
      (13 (ossl-fuzz--pick ossl-fuzz--keywords))
      (14 (if (> depth 0) (ossl-fuzz--plist (1- depth)) nil))
      (15 (if (> depth 0)
              (cl-loop repeat (ossl-fuzz--rand 4) collect (ossl-fuzz--value (1- depth)))
            nil))
      (16 (ossl-fuzz--from-pool :buffers))
      (17 (ossl-fuzz--pick (list [1 2 3] (make-bool-vector 3 t) (make-marker)
                                 (make-hash-table) ?a '(a . b)
                                 (record 'ossl-ssl-conn 1 2)
                                 (record 'ossl-x509 "not a handle")
                                 (cons "name" (list :cert "x")))))
      (18 (ossl-fuzz--from-pool :processes))
      (_ (ossl-fuzz--pick (list (ossl-fuzz--world-get :root)
                                (ossl-fuzz--world-get :cert)
                                (ossl-fuzz--world-get :pem)))))))

;;;;; Calls

(defun ossl-fuzz--collect-functions ()
  "Every ossl- function: (SYMBOL . CLASS), CLASS one of module, public, private."
  (let (fns)
    (mapatoms
     (lambda (s)
       (let ((name (symbol-name s)))
         (when (and (fboundp s)
                    (string-prefix-p "ossl-" name)
                    (not (string-match-p "\\`ossl-\\(test\\|rel\\|fuzz\\|run-tests\\)"
                                         name))
                    (not (memq s '(ossl-module-compile ossl--load-module ossl--module-fail)))
                    (string-match-p (or (getenv "OSSL_FUZZ_ONLY") "") name)
                    (not (macrop s))
                    (not (special-form-p s)))
           (push (cons s (cond ((module-function-p (indirect-function s)) 'module)
                               ((string-match-p "--" name) 'private)
                               (t 'public)))
                 fns)))))
    (sort fns (lambda (a b) (string< (car a) (car b))))))

(defconst ossl-fuzz--digests
  '(sha256 sha1 "SHA2-384" sha3-512 md5 blake2b512 shake128 null sha257 "")
  "Digests for plausible calls: usual, odd, unusable and unknown ones.")

(defconst ossl-fuzz--ciphers
  '(aes-256-gcm aes-128-gcm aes-128-ccm aes-256-ocb chacha20-poly1305
    aes-128-siv aes-256-cbc aes-128-ecb aes-192-ctr aes-128-cfb1 chacha20
    aes-256-xts aes-128-wrap aes-128-wrap-pad camellia-128-cbc aria-256-ccm
    des-ede3-cbc sm4-cbc aes-256-gmc)
  "Ciphers for plausible calls: every mode OpenSSL has, and an unknown one.")

(defun ossl-fuzz--sized (n)
  "Random bytes, N long most of the time, else a little off, empty or nil."
  (pcase (ossl-fuzz--rand 10)
    (0 nil)
    (1 "")
    (2 (ossl-fuzz--bytes (max 0 (+ (or n 0) (ossl-fuzz--pick '(-1 1 8 -8))))))
    (_ (ossl-fuzz--bytes (or n (ossl-fuzz--rand 40))))))

(defun ossl-fuzz--crypto-args (fn)
  "Plausible arguments for the crypto function FN, or nil if FN is none.
Valid algorithms with keys and IVs of the right length (mostly), so
that calls reach the cipher and KDF code instead of the first check;
then one argument in four is replaced by a random value."
  (let* ((module (string-prefix-p "ossl--" (symbol-name fn)))
         (name (lambda (a) (if (and module (symbolp a)) (symbol-name a) a)))
         (digest (funcall name (ossl-fuzz--pick ossl-fuzz--digests)))
         (cipher (funcall name (ossl-fuzz--pick ossl-fuzz--ciphers)))
         (info (and (fboundp 'ossl--cipher-info) (stringp (funcall name cipher))
                    (ossl--cipher-info (funcall name cipher))))
         (key (ossl-fuzz--sized (nth 0 info)))
         (iv (ossl-fuzz--sized (and info (> (nth 1 info) 0) (nth 1 info))))
         (data (if (ossl-fuzz--chance 0.5) (ossl-fuzz--bytes (ossl-fuzz--rand 100))
                 (ossl-fuzz--string)))
         (small (lambda () (ossl-fuzz--pick '(0 1 2 3 16 20 32 64 100 1024 -1))))
         (args
          (pcase fn
            ((or 'ossl-digest 'ossl--digest) (list digest data))
            ((or 'ossl-digest-file 'ossl--digest-file)
             (list digest (ossl-fuzz--pick (append (ossl-fuzz--world-get :files)
                                                   '("/dev/null" "/" "/nonexistent")))))
            ((or 'ossl-hmac 'ossl--hmac) (list digest data key))
            ((or 'ossl-pbkdf2 'ossl--pbkdf2)
             (list digest key iv (funcall small) (funcall small)))
            ((or 'ossl-hkdf 'ossl--hkdf) (list digest key iv data (funcall small)))
            ((or 'ossl-scrypt 'ossl--scrypt)
             (list key iv (ossl-fuzz--pick '(2 4 16 1024 3 0)) (funcall small)
                   (funcall small) (funcall small)))
            ((or 'ossl-bytes-to-key 'ossl--bytes-to-key)
             (list cipher digest (ossl-fuzz--sized 8) key (funcall small)))
            ((or 'ossl-encrypt 'ossl-decrypt)
             (let ((aad (and (ossl-fuzz--chance 0.5) (ossl-fuzz--sized nil))))
               (if (and (eq fn 'ossl-decrypt) (ossl-fuzz--chance 0.7))
                   (let ((ct (ignore-errors (ossl-encrypt cipher data key iv aad))))
                     (when (and ct (> (length ct) 0) (ossl-fuzz--chance 0.5))
                       (aset ct (ossl-fuzz--rand (length ct)) (ossl-fuzz--rand 256)))
                     (list cipher (or ct data) key iv aad))
                 (list cipher data key iv aad))))
            ('ossl--crypt (list cipher (ossl-fuzz--chance 0.5) data key iv
                                 (ossl-fuzz--sized nil)))
            ((or 'ossl-digest-size 'ossl-digest-bits 'ossl-digest-block-size
                 'ossl--digest-info)
             (list digest))
            ((or 'ossl-cipher-key-length 'ossl-cipher-bits 'ossl-cipher-iv-length
                 'ossl-cipher-block-size 'ossl-cipher-mode 'ossl-cipher-aead-p
                 'ossl--cipher-info)
             (list cipher))
            ((or 'ossl-rand-bytes 'ossl--rand-bytes) (list (funcall small))))))
    (when (and args (ossl-fuzz--chance 0.25))
      (setf (nth (ossl-fuzz--rand (length args)) args) (ossl-fuzz--value)))
    args))

(defun ossl-fuzz--args (fn)
  "A random argument list for FN: mostly a count it accepts, sometimes not.
Crypto functions get plausible arguments half the time."
  (or (and (ossl-fuzz--chance 0.5) (ossl-fuzz--crypto-args fn))
      (ossl-fuzz--args-any fn)))

(defun ossl-fuzz--args-any (fn)
  "A random argument list for FN, whatever FN is."
  (let* ((arity (func-arity fn))
         (min (car arity))
         (max (if (numberp (cdr arity)) (cdr arity) (+ min 6)))
         (n (if (ossl-fuzz--chance 0.03)
                (max 0 (+ min (- (ossl-fuzz--rand 4) 2) (if (ossl-fuzz--chance 0.5) 0 (- max min))))
              (+ min (ossl-fuzz--rand (1+ (- max min))))))
         (args (cl-loop repeat n collect (ossl-fuzz--value))))
    ;; A function with &rest keys: keyword pairs after the fixed ones.
    (when (and (not (numberp (cdr arity))) (ossl-fuzz--chance 0.7))
      (setq args (append (cl-subseq args 0 (min n (max min 1)))
                         (ossl-fuzz--plist 1))))
    args))

(defconst ossl-fuzz--data-functions
  '(ossl-ssl-write ossl-ssl-read ossl-x509-from-pem ossl-x509-from-der
    ossl--x509-parse-data ossl--send ossl--input ossl--decode ossl--encode
    ossl--deliver ossl--alpn-wire
    ossl-digest ossl-hmac ossl-encrypt ossl-decrypt ossl-pbkdf2 ossl-hkdf
    ossl-scrypt ossl-bytes-to-key ossl--crypto-bytes ossl--crypto-bytes-or-nil
    ossl--crypto-cipher-run)
  "Lisp functions that take data, and get huge strings like the module does.")

(defconst ossl-fuzz--costly-functions
  '(ossl-pbkdf2 ossl--pbkdf2 ossl-scrypt ossl--scrypt ossl-bytes-to-key
    ossl--bytes-to-key ossl-hkdf ossl--hkdf)
  "Functions whose work grows with their integer arguments.
A module call cannot be interrupted: integers they get that they would
accept but that could take minutes (PBKDF2 with 65536 rounds of a
65536-byte key, scrypt with N = 1024, R = 64, P = 1024) are cut to at
most 64.")

(defun ossl-fuzz--defang (s)
  "S with the bytes #xF8..#xFF replaced by #xF7.
Emacs 28.2's `error' formats its %s arguments as multibyte text, and
a byte #xF8..#xFF there announces a 5- or 6-byte character: it reads
and writes past the string.  (make-network-process :name \"x\" :host
\"\\xfcP\\x0c\" :service 443) kills Emacs 28.2 by itself."
  (if (multibyte-string-p s)
      (if (string-match-p "[\x3FFFF8-\x3FFFFF]" s)
          (concat (mapcar (lambda (c) (if (>= c #x3FFFF8) #x3FFFF7 c)) s))
        s)
    (if (string-match-p "[\xf8-\xff]" s)
        (apply #'unibyte-string (mapcar (lambda (c) (min c #xf7)) s))
      s)))

(defconst ossl-fuzz--name-max 200
  "The longest string Lisp helpers get, and names and hosts may be.
Longer ones reach a C `error' that Emacs 28 formats into a corrupt heap.")

(defun ossl-fuzz--tame (fn class args)
  "ARGS for FN of CLASS, with long strings cut for Lisp code.
Strings over `ossl-fuzz--name-max' characters are cut.
Emacs 28 corrupts its heap when a C `error' formats a long string
\(\"No such buffer %s\", \"Process %s does not exist\"...), which Lisp
helpers reach by passing names on; module primitives and the
functions that take data get the huge strings whole."
  (when (memq fn ossl-fuzz--costly-functions)
    (setq args (mapcar (lambda (a) (if (and (integerp a) (> a 64) (< a (expt 2 31)))
                                       (1+ (% a 64))
                                     a))
                       args)))
  (if (or (eq class 'module) (memq fn ossl-fuzz--data-functions))
      args
    (let ((cut (lambda (a) (if (stringp a)
                               (ossl-fuzz--defang (if (> (length a) ossl-fuzz--name-max)
                                                      (substring a 0 ossl-fuzz--name-max)
                                                    a))
                             a))))
      (mapcar (lambda (a)
                (if (and (consp a) (proper-list-p a)) (mapcar cut a) (funcall cut a)))
              args))))

(defun ossl-fuzz--describe (fn args)
  "A short printed form of the call of FN with ARGS.
With OSSL_FUZZ_FULL_TRACE set, the whole of it, to reproduce a crash."
  (if (getenv "OSSL_FUZZ_FULL_TRACE")
      (let ((print-escape-newlines t) (print-escape-control-characters t)
            (print-escape-nonascii t) (print-length nil) (print-level nil))
        (condition-case nil (prin1-to-string (cons fn args))
          (error (format "(%s #<unprintable>)" fn))))
    (ossl-fuzz--describe-short fn args)))

(defun ossl-fuzz--describe-short (fn args)
  "A short printed form of the call of FN with ARGS."
  (let ((print-length 6) (print-level 3) (print-escape-newlines t))
    (format "(%s%s)" fn
            (mapconcat (lambda (a)
                         (let ((s (condition-case nil (prin1-to-string a)
                                    (error "#<unprintable>"))))
                           (concat " " (if (> (length s) 120)
                                           (concat (substring s 0 117) "...")
                                         s))))
                       args ""))))

(defun ossl-fuzz--allowed-error-p (err fn)
  "Non-nil if ERR is an error a caller of FN may get from the API.
A command may also say `user-error', as commands do."
  (let ((conds (get (car err) 'error-conditions)))
    (or (memq (car err) '(wrong-type-argument args-out-of-range
                          wrong-number-of-arguments ossl-fuzz-callback-error))
        (memq 'ossl-error conds)
        (and (eq (car err) 'user-error) (commandp fn))
        ;; The transport's own failures, as `open-network-stream' has them.
        (memq 'file-error conds)
        (and ossl-fuzz--transport-error
             (eq (cdr err) (cdr ossl-fuzz--transport-error))))))

(defvar ossl-fuzz--transport-error nil
  "The last error `make-network-process' signalled.")

(defun ossl-fuzz--one-call ()
  "Call a random function with random arguments and classify the outcome."
  (let* ((entry (ossl-fuzz--pick ossl-fuzz--functions))
         (fn (car entry))
         (class (cdr entry))
         (args (ossl-fuzz--tame fn class (ossl-fuzz--args fn)))
         (ossl-fuzz--depth (1+ ossl-fuzz--depth))
         (inhibit-message t)
         (message-log-max nil)
         (timers nil))
    (cl-incf ossl-fuzz--calls)
    (ossl-fuzz--count 'calls)
    (ossl-fuzz--count (cons 'fn fn))
    (let ((coding-system-for-write 'utf-8-emacs-unix))
      (write-region (format "%d %s\n" ossl-fuzz--calls (ossl-fuzz--describe fn args))
                    nil ossl-fuzz--trace nil 'silent))
    (setq debug-on-error nil debug-on-signal nil debug-on-quit nil)
    (when (eq class 'private)
      (setq timers (copy-sequence timer-list)))
    (condition-case err
        (progn
          (with-timeout (2 (ossl-fuzz--count 'timeouts))
            (apply fn args))
          (ossl-fuzz--count 'returned)
          (when (or debug-on-error debug-on-signal)
            (ossl-fuzz--count (cons 'set-debugger fn))))
      (error
       (ossl-fuzz--count 'errors)
       (ossl-fuzz--count (cons 'error (car err)))
       (unless (ossl-fuzz--allowed-error-p err fn)
         (let* ((key (list class fn (car err)))
                (old (gethash key ossl-fuzz--unexpected)))
           (puthash key (cons (1+ (or (car old) 0))
                              (or (cdr old)
                                  (format "%s => %S" (ossl-fuzz--describe fn args)
                                          (let ((print-length 5) (print-level 3))
                                            (condition-case nil (prin1-to-string err)
                                              (error "?"))))))
                    ossl-fuzz--unexpected)))))
    (when (eq class 'private)
      (ossl-fuzz--repair timers))))

(defun ossl-fuzz--repair (timers)
  "Undo the junk a private helper may have left behind; TIMERS were there before.
Private helpers trust their callers: given a string for a filter, or a
struct with a process for a handle, they store it.  In batch mode an
error in a filter or sentinel kills Emacs 28, which would end the run
for no fault of ossl's.  So: new timers are cancelled, filters and
sentinels that are not functions are reset, and `ossl--conn' properties
that are not connections with a live handle are removed.  After module
and public functions nothing is repaired: junk they leave is theirs."
  (dolist (tm timer-list)
    (unless (memq tm timers)
      (ossl-fuzz--count 'repaired-timers)
      (cancel-timer tm)))
  (let ((set-filter (ossl--orig 'set-process-filter))
        (get-filter (ossl--orig 'process-filter)))
    (dolist (p (process-list))
      (let ((conn (process-get p 'ossl--conn)))
        (when (and conn (not (and (ossl-ssl-conn-p conn)
                                  (or (ossl--conn-dead conn)
                                      (condition-case nil
                                          (ossl--state (ossl--conn-handle conn))
                                        (error nil)))
                                  (eq (ossl--conn-process conn) p))))
          (ossl-fuzz--count 'repaired-conns)
          (process-put p 'ossl--conn nil)
          (funcall set-filter p #'internal-default-process-filter))
        ;; The slot by its offset: ossl is not loaded when this file is.
        (let ((filter (cl-struct-slot-offset 'ossl-ssl-conn 'filter)))
          (when (and conn (ossl-ssl-conn-p conn)
                     (not (functionp (aref conn filter))))
            (aset conn filter #'internal-default-process-filter))))
      (unless (functionp (funcall get-filter p))
        (ossl-fuzz--count 'repaired-filters)
        (funcall set-filter p #'internal-default-process-filter))
      (unless (functionp (process-sentinel p))
        (ossl-fuzz--count 'repaired-sentinels)
        (set-process-sentinel p #'internal-default-process-sentinel)))))

(defun ossl-fuzz-api-child ()
  "The child: SEED CALLS TRACE-FILE from the command line."
  (let* ((args command-line-args-left)
         (seed (string-to-number (nth 0 args)))
         (calls (string-to-number (nth 1 args)))
         (start (float-time)))
    (setq command-line-args-left nil)
    (setq ossl-fuzz--trace (nth 2 args)
          ossl-fuzz--rs (cl-make-random-state seed)
          ossl-fuzz--stats (make-hash-table :test #'equal)
          ossl-fuzz--unexpected (make-hash-table :test #'equal))
    (require 'ossl)
    (require 'ossl-x509)
    (dolist (f '(ossl-network ossl-view ossl-session))
      (condition-case err (require f)
        (error (message "ossl-fuzz-api: cannot load %s: %s" f
                        (error-message-string err)))))
    ;; Emacs 28's own crash, not ossl's: `network-lookup-address-info'
    ;; does not check that its argument is a string (nsm-verify-connection
    ;; reaches it with any HOST).  Guard it so the fuzzer finds ossl's.
    (advice-add 'network-lookup-address-info :before
                (lambda (name &rest _)
                  (unless (stringp name)
                    (signal 'wrong-type-argument (list 'stringp name)))))
    ;; Emacs 28's own crash, not ossl's: `error' with a long process
    ;; name corrupts the heap, (process-type (make-string 20000 ?A))
    ;; kills Emacs 28.2 alone.  The primitives that name a missing
    ;; process in an error refuse long strings here.
    (dolist (f '(delete-process process-status process-type process-send-string
                 process-send-region process-send-eof process-live-p
                 interrupt-process kill-process quit-process stop-process
                 continue-process signal-process process-running-child-p
                 process-exit-status process-contact process-buffer
                 process-filter process-sentinel process-coding-system
                 set-process-filter set-process-sentinel set-process-coding-system
                 process-get process-put process-plist process-name))
      (advice-add f :before
                  (lambda (&optional p &rest _)
                    (when (and (stringp p) (> (string-bytes p) ossl-fuzz--name-max))
                      (signal 'wrong-type-argument (list 'processp "long name"))))
                  '((depth . 100))))
    ;; The same `error' with a long host name in `make-network-process'.
    ;; Its own errors (DNS, refused...) are remembered: they are the
    ;; transport's, which callers get as from `open-network-stream'.
    (advice-add 'make-network-process :around
                (lambda (orig &rest args)
                  (let ((host (plist-get args :host)))
                    (when (and (stringp host) (> (string-bytes host) ossl-fuzz--name-max))
                      (signal 'wrong-type-argument (list 'stringp "long host"))))
                  (condition-case err (apply orig args)
                    (error (setq ossl-fuzz--transport-error err)
                           (signal (car err) (cdr err)))))
                '((depth . 100)))
    ;; ossl's own process filter and sentinel must never signal: an
    ;; error there is \"error in process filter\" for a user, and kills
    ;; a batch Emacs.  Catch it here, count it as a failure of the API,
    ;; and go on.  Only calls the way a process makes them (a process
    ;; and a string) count: the fuzzer also calls these two directly
    ;; with junk, and those errors are a private helper's.
    (dolist (f '(ossl--filter ossl--handshake-sentinel))
      (when (fboundp f)
        (advice-add f :around
                    (lambda (orig &rest args)
                      (if (not (and (= (length args) 2) (processp (car args))
                                    (stringp (cadr args))))
                          (apply orig args)
                      (condition-case err (apply orig args)
                        (error
                         (ossl-fuzz--count 'escaped)
                         (let* ((key (list 'public f (car err)))
                                (old (gethash key ossl-fuzz--unexpected)))
                           (puthash key (cons (1+ (or (car old) 0))
                                              (or (cdr old)
                                                  (format "error escaped %s: %S" f err)))
                                    ossl-fuzz--unexpected)))))))))
    ;; Prompts answer at random instead of reading stdin.
    (dolist (f '(read-passwd read-string read-from-minibuffer completing-read
                 y-or-n-p yes-or-no-p read-number))
      (advice-add f :override (lambda (&rest _) (ossl-fuzz--value 0))))
    ;; What the NSM stores stays in the child's own directory.
    (setq nsm-settings-file (expand-file-name "network-security.data"))
    (setq ossl-handshake-timeout 0.5
          ossl-finish-timeout 0.05)
    (ossl-fuzz--setup-world)
    (setq ossl-fuzz--functions (ossl-fuzz--collect-functions))
    (message "ossl-fuzz-api: seed %d, %d calls, %d functions (%d module, %d public, %d private)"
             seed calls (length ossl-fuzz--functions)
             (cl-count 'module ossl-fuzz--functions :key #'cdr)
             (cl-count 'public ossl-fuzz--functions :key #'cdr)
             (cl-count 'private ossl-fuzz--functions :key #'cdr))
    (ossl-fuzz--refresh-pool)
    (while (< ossl-fuzz--calls calls)
      (ossl-fuzz--one-call)
      ;; Traffic on a live connection: its filters (and the echo
      ;; server's) call back into ossl while its input is handled.
      (when (= (% ossl-fuzz--calls 40) 0)
        (let ((c (ossl-fuzz--pick (plist-get ossl-fuzz--pool :conns))))
          (ignore-errors
            (when (process-live-p (ossl--conn-process c))
              (process-send-string (ossl--conn-process c) "ping\n"))))
        (accept-process-output nil 0.002))
      (when (= (% ossl-fuzz--calls 1000) 0)
        ;; Random calls to private helpers can leave the world odd (a
        ;; struct with a process for a handle on a server...): the
        ;; upkeep's own errors are counted, not fatal.
        (condition-case err (ossl-fuzz--refresh-pool)
          (error (ossl-fuzz--count 'upkeep-errors)
                 (message "ossl-fuzz-api: upkeep error at call %d: %S"
                          ossl-fuzz--calls err)))
        (garbage-collect))
      (when (= (% ossl-fuzz--calls 10000) 0)
        (message "ossl-fuzz-api: %d calls, %.0f s" ossl-fuzz--calls
                 (- (float-time) start))))
    (ossl-fuzz--refresh-pool)
    (garbage-collect)
    (let ((secs (- (float-time) start))
          (bad 0) (notes 0) (never nil))
      (message "ossl-fuzz-api: seed %d: %d calls (%d re-entrant from filters and callbacks) in %.0f s"
               seed (gethash 'calls ossl-fuzz--stats 0)
               (gethash 'reentrant ossl-fuzz--stats 0) secs)
      ;; The pool's open connections, and the echo server's, are coated
      ;; under the descriptor (the default path): say how many were.
      (message "ossl-fuzz-api: %d sockets relayed under the descriptor (%s)"
               (if (boundp 'ossl-socket--next-id) ossl-socket--next-id 0)
               (if (boundp 'ossl-socket-data-path) ossl-socket-data-path "no ossl-socket"))
      (message "ossl-fuzz-api: %d returned, %d signalled, %d timed out"
               (gethash 'returned ossl-fuzz--stats 0) (gethash 'errors ossl-fuzz--stats 0)
               (gethash 'timeouts ossl-fuzz--stats 0))
      (let (kinds)
        (maphash (lambda (k v) (when (eq (car-safe k) 'error) (push (cons (cdr k) v) kinds)))
                 ossl-fuzz--stats)
        (message "ossl-fuzz-api: errors by kind: %s"
                 (mapconcat (lambda (kv) (format "%s %d" (car kv) (cdr kv)))
                            (sort kinds (lambda (a b) (> (cdr a) (cdr b)))) ", ")))
      (dolist (f ossl-fuzz--functions)
        (unless (gethash (cons 'fn (car f)) ossl-fuzz--stats)
          (push (car f) never)))
      (when never
        (message "ossl-fuzz-api: never called: %s" never))
      (maphash (lambda (k v)
                 (when (eq (car-safe k) 'set-debugger)
                   (message "ossl-fuzz-api: note %s turned the debugger on (x%d)"
                            (cdr k) v)))
               ossl-fuzz--stats)
      (message "ossl-fuzz-api: upkeep errors: %d, world restarts: %d, repairs after private helpers: %d timers, %d conns, %d filters, %d sentinels"
               (gethash 'upkeep-errors ossl-fuzz--stats 0)
               (gethash 'world-restarts ossl-fuzz--stats 0)
               (gethash 'repaired-timers ossl-fuzz--stats 0)
               (gethash 'repaired-conns ossl-fuzz--stats 0)
               (gethash 'repaired-filters ossl-fuzz--stats 0)
               (gethash 'repaired-sentinels ossl-fuzz--stats 0))
      (maphash (lambda (k v)
                 (if (eq (car k) 'private)
                     (cl-incf notes)
                   (cl-incf bad))
                 (message "ossl-fuzz-api: %s %s: %s x%d, e.g. %s"
                          (if (eq (car k) 'private) "note" "UNEXPECTED")
                          (nth 1 k) (nth 2 k) (car v)
                          (let ((e (replace-regexp-in-string "\n" "\\\\n" (cdr v))))
                            (if (> (length e) 300) (concat (substring e 0 300) "...") e))))
               ossl-fuzz--unexpected)
      (message "ossl-fuzz-api: RESULT %s: %d calls, %d unexpected error kinds from module or public functions, %d from private helpers, %.0f s"
               (if (> bad 0) "FAILED" "ok") ossl-fuzz--calls bad notes secs)
      (kill-emacs (if (> bad 0) 3 0)))))

;;;; Public keys (issue 16, items 6-9): values and guards

;; The pkey functions are fuzzed like every ossl- function; this block
;; gives them keys, key handles and algorithm names to work with, and
;; keeps their file writes inside a scratch directory (the fuzzer's
;; strings include /etc/passwd and the test PKI's own files).

(declare-function ossl-rsa-generate-key "ossl-pkey" (bits &optional exponent))
(declare-function ossl-ec-generate-key "ossl-pkey" (&optional curve))
(declare-function ossl-ed25519-generate-key "ossl-pkey" ())
(declare-function ossl-x25519-generate-key "ossl-pkey" ())
(declare-function ossl-pem-read-key "ossl-pkey" (file &optional password))
(declare-function ossl-pkey-get-public "ossl-pkey" (pkey))
(declare-function ossl-pkey-p "ossl-pkey" (object))
(declare-function ossl-pkey-to-pem "ossl-pkey" (pkey &optional cipher password))
(declare-function ossl--pkey-handle "ossl-pkey" (key))

(defvar ossl-fuzz--pkey-pool nil
  "Keys to call with: key objects, raw handles, forged objects.")

(defvar ossl-fuzz--pkey-dir nil
  "Scratch directory the pkey functions write their files in.")

(defconst ossl-fuzz--pkey-names
  '(sha256 SHA1 sha3-512 "SHA2-384" md5 sha265 aes-256-gcm aes-128-cbc
    AES-256-ECB chacha20-poly1305 aes-256-ccm des-ede3-cbc rc4 pss pkcs1
    prime256v1 secp384r1 P-521 secp224r1 sect163k1 file data)
  "Algorithm names, good and bad, the pkey functions take.")

(defconst ossl-fuzz--pkey-writers
  '(ossl-pem-write-key ossl-pem-write-public-key ossl--pkey-write-file)
  "Functions whose first argument is a file written.")

(defun ossl-fuzz--pkey-keys ()
  "A fresh pool of keys of every type, public and private, and fakes."
  (let* ((keys (delq nil (list (ignore-errors (ossl-rsa-generate-key 1024))
                               (ignore-errors (ossl-ec-generate-key))
                               (ignore-errors (ossl-ed25519-generate-key))
                               (ignore-errors (ossl-x25519-generate-key))
                               (ignore-errors (ossl-pem-read-key
                                               (ossl-fuzz--world-get :keyfile))))))
         (pubs (delq nil (mapcar (lambda (k) (ignore-errors (ossl-pkey-get-public k)))
                                 keys))))
    (append keys pubs
            (delq nil (mapcar (lambda (k) (ignore-errors (ossl--pkey-handle k))) keys))
            (list (record 'ossl-pkey "OpenSSL fake key" "not a handle")
                  (record 'ossl-pkey "OpenSSL fake key" (car (ossl-fuzz--certs)))))))

(defun ossl-fuzz--pkey-value (orig &rest args)
  "Around `ossl-fuzz--value' (ORIG with ARGS): now and then a key or a name."
  (pcase (ossl-fuzz--rand 12)
    (0 (unless (and ossl-fuzz--pkey-pool (ossl-fuzz--chance 0.99))
         (setq ossl-fuzz--pkey-pool (ossl-fuzz--pkey-keys)))
       (ossl-fuzz--pick ossl-fuzz--pkey-pool))
    (1 (ossl-fuzz--pick ossl-fuzz--pkey-names))
    (2 (let ((k (ossl-fuzz--pick ossl-fuzz--pkey-pool)))
         (and (ossl-pkey-p k) (ignore-errors
                                (ossl-pkey-to-pem k (ossl-fuzz--pick '(nil aes-256-cbc))
                                                  (ossl-fuzz--pick '(nil "pw")))))))
    (_ (apply orig args))))

(defun ossl-fuzz--pkey-confine (args)
  "ARGS of a file-writing function, its file moved into the scratch directory."
  (unless ossl-fuzz--pkey-dir
    (setq ossl-fuzz--pkey-dir (make-temp-file "ossl-fuzz-pkey-" t))
    (add-hook 'kill-emacs-hook
              (lambda () (ignore-errors (delete-directory ossl-fuzz--pkey-dir t)))))
  (if (stringp (car args))
      (cons (expand-file-name (format "k%d.pem" (ossl-fuzz--rand 3)) ossl-fuzz--pkey-dir)
            (cdr args))
    args))

(defun ossl-fuzz--pkey-key (&optional private)
  "A key object of the pool (a key pair when PRIVATE), refreshing it at times."
  (unless (and ossl-fuzz--pkey-pool (ossl-fuzz--chance 0.99))
    (setq ossl-fuzz--pkey-pool (ossl-fuzz--pkey-keys)))
  (ossl-fuzz--pick (cl-remove-if-not (lambda (k)
                                       (ignore-errors
                                         (if private (ossl-pkey-private-p k) (ossl-pkey-p k))))
                                     ossl-fuzz--pkey-pool)))

(defun ossl-fuzz--pkey-damage (s)
  "S, a string, with a random byte changed now and then."
  (when (and (stringp s) (> (length s) 0) (ossl-fuzz--chance 0.5))
    (setq s (copy-sequence s))
    (aset s (ossl-fuzz--rand (length s)) (ossl-fuzz--rand 256)))
  s)

(defun ossl-fuzz--pkey-args (orig fn)
  "Around `ossl-fuzz--crypto-args' (ORIG): plausible arguments for pkey FN.
Keys of every type (so that most calls pass the type checks and reach
OpenSSL), real signatures, envelopes and PEM, then damaged."
  (or (funcall orig fn)
      (ignore-errors (ossl-fuzz--pkey-plausible fn))))

(defun ossl-fuzz--pkey-plausible (fn)
  "Plausible arguments for the pkey function FN, or nil if FN is none."
  (let* ((key (ossl-fuzz--pkey-key))
         (pair (ossl-fuzz--pkey-key t))
         (digest (ossl-fuzz--pick '(nil sha256 sha1 sha512 sha3-256 md5 shake128 sha265)))
         (cipher (ossl-fuzz--pick '(aes-256-gcm aes-128-cbc aes-256-ecb chacha20-poly1305
                                        aes-128-ccm aes-256-xts rc4 des-ede3-cbc aes-256-gmc)))
         (data (ossl-fuzz--pick (list "" "m" (ossl-fuzz--bytes (ossl-fuzz--rand 200)))))
         (pad (and (ossl-fuzz--chance 0.3) (list :padding (ossl-fuzz--pick '(pss nil x)))))
         (args
          (pcase fn
            ('ossl-sign `(,digest ,data ,pair ,@pad))
            ('ossl-verify
             (let ((sig (ignore-errors (apply #'ossl-sign digest data pair pad))))
               `(,digest ,data ,(ossl-fuzz--pkey-damage (or sig data))
                         ,(if (ossl-fuzz--chance 0.5) pair key) ,@pad)))
            ('ossl-derive (list pair key))
            ('ossl-seal (list cipher data (if (ossl-fuzz--chance 0.5) key (list key pair))))
            ('ossl-open
             (let ((e (ignore-errors (ossl-seal cipher data pair))))
               (list cipher (ossl-fuzz--pkey-damage (or (nth 0 e) data)) pair
                     (ossl-fuzz--pkey-damage (or (nth 1 e) data))
                     (ossl-fuzz--pkey-damage (nth 2 e)))))
            ((or 'ossl-pkey-from-pem 'ossl-pkey-from-der)
             (let ((pw (ossl-fuzz--pick '(nil "pw" "bad"))))
               (list (ossl-fuzz--pkey-damage
                      (ignore-errors
                        (funcall (if (eq fn 'ossl-pkey-from-pem) #'ossl-pkey-to-pem
                                   #'ossl-pkey-to-der)
                                 key (and pw cipher) (and pw "pw"))))
                     (if (ossl-fuzz--chance 0.3) (lambda () "pw") pw))))
            ((or 'ossl-pkey-to-pem 'ossl-pkey-to-der 'ossl-pem-write-key)
             (append (and (eq fn 'ossl-pem-write-key) (list "f"))
                     (list key cipher (ossl-fuzz--pick (list nil "pw" (lambda () "pw"))))))
            ('ossl-x509-verify-signature
             (list (ossl-fuzz--from-pool :certs)
                   (if (ossl-fuzz--chance 0.5) key (ossl-fuzz--from-pool :certs))))
            ('ossl-ec-generate-key
             (list (ossl-fuzz--pick '(nil prime256v1 secp384r1 P-521 sect163k1
                                          Oakley-EC2N-3 SM2 secp256r2))))
            ((or 'ossl-pkey-subkey-p 'ossl-rsa-subkey-p) (list key pair)))))
    (when (and args (ossl-fuzz--chance 0.2))
      (setf (nth (ossl-fuzz--rand (length args)) args) (ossl-fuzz--value)))
    args))

(declare-function ossl-sign "ossl-pkey" (digest data pkey &rest keys))
(declare-function ossl-seal "ossl-pkey" (cipher data public-keys))
(declare-function ossl-pkey-private-p "ossl-pkey" (pkey))
(declare-function ossl-pkey-to-der "ossl-pkey" (pkey &optional cipher password))

(advice-add 'ossl-fuzz--value :around #'ossl-fuzz--pkey-value)
(advice-add 'ossl-fuzz--crypto-args :around #'ossl-fuzz--pkey-args)
(dolist (f ossl-fuzz--pkey-writers)
  (advice-add f :filter-args #'ossl-fuzz--pkey-confine))

(provide 'fuzz-api)
;;; fuzz-api.el ends here
