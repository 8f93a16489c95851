;;; ossl-bench.el --- One benchmark measurement for make bench  -*- lexical-binding: t; -*-

;;; Commentary:

;; `make bench' runs bench/run-bench.el, which starts one fresh
;; `emacs -Q --batch' per measurement and calls `ossl-bench-child'
;; there with a plist:
;;
;;   :bench      dl (download), up (upload), hs (sequential handshakes),
;;               conc (concurrent handshakes), mem (idle connections),
;;               resume (full vs resumed handshakes, ossl only)
;;   :contender  ossl (under the descriptor, the default), ossl-lisp
;;               (`ossl-socket-data-path' lisp), gnutls (Emacs's built-in GnuTLS through
;;               `open-network-stream' :type tls), plain (TCP, ossl not
;;               loaded), plain+ossl (TCP with ossl loaded and one
;;               coated connection open), plain+comp (TCP with comp.el
;;               loaded, which the first coating loads)
;;   :pki        directory of the test PKI (test/ossl-test-lib.el)
;;   :peer       the bench/peer binary
;;   :bytes :rpom :count  sizes
;;   :gc-threshold  a `gc-cons-threshold' for the run (default: Emacs's)
;;
;; The child starts its own bench/peer (a C OpenSSL or plain TCP
;; server, one thread per connection) so that the peer's CPU time
;; belongs to this one measurement, and prints one line
;;   RESULT (:value V :unit U :wall W :cpu C :peer-cpu P ...)
;; that run-bench.el reads.  Every contender gets unibyte binary
;; data in its filter, a filter that only counts bytes, and the same
;; peer; only the TLS layer differs.

;;; Code:

(require 'cl-lib)
(require 'subr-x)

(defvar gnutls-trustfiles)
(defvar gnutls-verify-error)
(declare-function ossl-open-stream "ossl" (name buffer host service &rest keys))
(declare-function ossl-process-conn "ossl" (process))
(declare-function ossl-ssl-status "ossl" (ssl-conn))
(declare-function ossl-ssl-session "ossl" (ssl-conn))
(declare-function gnutls-peer-status "gnutls.c" (proc))

(defvar ossl-bench--host "127.0.0.1")
(defvar ossl-bench--pki nil)
(defvar ossl-bench--buffer nil)

(defun ossl-bench--pki (name)
  "The PKI file NAME."
  (expand-file-name name ossl-bench--pki))

(defun ossl-bench--cpu ()
  "CPU seconds (user + system) this Emacs has used."
  (float-time (get-internal-run-time)))

(defun ossl-bench--main-cpu ()
  "CPU seconds Emacs's main thread has used (Linux), or nil.
`get-internal-run-time' counts every thread, ossl's I/O thread too."
  (let ((f (format "/proc/self/task/%d/stat" (emacs-pid))))
    (when (file-readable-p f)
      (with-temp-buffer
        (insert-file-contents f)
        ;; Fields after the command name: utime and stime are the 12th
        ;; and 13th, in clock ticks (100 a second on Linux).
        (goto-char (point-max))
        (search-backward ")")
        (let ((fields (split-string (buffer-substring (1+ (point)) (point-max)))))
          (/ (+ (string-to-number (nth 11 fields))
                (string-to-number (nth 12 fields)))
             100.0))))))

(defun ossl-bench--rss-kb ()
  "VmRSS of this Emacs, in kB."
  (with-temp-buffer
    (insert-file-contents "/proc/self/status")
    (re-search-forward "^VmRSS:[ \t]*\\([0-9]+\\) kB")
    (string-to-number (match-string 1))))

(defun ossl-bench--wait (pred timeout what &optional proc step)
  "Process output until PRED holds; error after TIMEOUT seconds (WHAT).
Wait for output from PROC (any process if nil), STEP seconds at most
at a time (default 0.5)."
  (let ((deadline (+ (float-time) timeout)))
    (while (not (funcall pred))
      (when (> (float-time) deadline)
        (error "bench: timed out waiting for %s" what))
      (accept-process-output proc (or step 0.5)))))

;;;; The peer

(defun ossl-bench--start-peer (program tls accept)
  "Start PROGRAM (bench/peer), TLS or plain, serving ACCEPT connections.
Return (PROCESS . PORT)."
  (let* ((buf (generate-new-buffer " *bench-peer*"))
         (proc (make-process
                :name "bench-peer" :buffer buf :noquery t
                :connection-type 'pipe :coding 'binary
                :command (append (list program "--accept"
                                       (number-to-string accept))
                                 (and tls
                                      (list "--tls"
                                            (ossl-bench--pki "server-chain.pem")
                                            (ossl-bench--pki "server.key"))))
                :sentinel #'ignore))
         (port nil))
    (ossl-bench--wait
     (lambda ()
       (with-current-buffer buf
         (goto-char (point-min))
         (when (re-search-forward "^READY \\([0-9]+\\)$" nil t)
           (setq port (string-to-number (match-string 1))))))
     10 "the peer to listen" proc)
    (cons proc port)))

(defun ossl-bench--peer-cpu (peer)
  "Wait for PEER to exit; return (USER SYS CONNS HANDSHAKE-FAILURES)."
  (let ((buf (process-buffer (car peer)))
        (result nil))
    (condition-case nil
        (ossl-bench--wait
         (lambda ()
           (with-current-buffer buf
             (goto-char (point-min))
             (when (re-search-forward
                    "^CPU \\([0-9.]+\\) \\([0-9.]+\\) \\([0-9]+\\) \\([0-9]+\\)$"
                    nil t)
               (setq result (mapcar (lambda (i) (string-to-number
                                                 (match-string i)))
                                    '(1 2 3 4))))))
         15 "the peer's CPU report" (car peer))
      (error
       ;; It did not see every connection close: ask it to report.
       (signal-process (car peer) 'term)
       (accept-process-output (car peer) 1)
       (with-current-buffer buf
         (goto-char (point-min))
         (when (re-search-forward "^CPU \\([0-9.]+\\) \\([0-9.]+\\) \\([0-9]+\\) \\([0-9]+\\)$" nil t)
           (setq result (mapcar (lambda (i) (string-to-number (match-string i)))
                                '(1 2 3 4)))))))
    (when (process-live-p (car peer)) (delete-process (car peer)))
    result))

;;;; Opening connections, per contender

(defun ossl-bench--tls-p (contender)
  (memq contender '(ossl ossl-lisp gnutls)))

(defvar ossl-bench--counter 0)

(defun ossl-bench--name ()
  (format "bench-%d" (cl-incf ossl-bench--counter)))

(defun ossl-bench--open (contender port &optional session)
  "Open a connection to PORT for CONTENDER, blocking until usable.
SESSION: an ossl session to resume."
  (pcase contender
    ((or 'plain 'plain+ossl 'plain+comp)
     (make-network-process :name (ossl-bench--name) :buffer nil
                           :host ossl-bench--host :service port
                           :coding 'binary :noquery t))
    ((or 'ossl 'ossl-lisp)
     (let ((p (apply #'ossl-open-stream (ossl-bench--name) nil
                     ossl-bench--host port
                     :ca (ossl-bench--pki "root.pem")
                     (and session (list :session session)))))
       (set-process-query-on-exit-flag p nil)
       (set-process-coding-system p 'binary 'binary)
       p))
    ('gnutls
     (let ((p (open-network-stream (ossl-bench--name) ossl-bench--buffer
                                   ossl-bench--host port
                                   :type 'tls :coding 'binary)))
       (set-process-query-on-exit-flag p nil)
       p))))

(defun ossl-bench--open-async (contender port done)
  "Start a connection to PORT for CONTENDER; call DONE with t or nil."
  (pcase contender
    ('plain
     (make-network-process
      :name (ossl-bench--name) :buffer nil :host ossl-bench--host
      :service port :coding 'binary :noquery t :nowait t
      :sentinel (lambda (_p event)
                  (funcall done (string-prefix-p "open" event)))))
    ((or 'ossl 'ossl-lisp)
     (ossl-open-stream (ossl-bench--name) nil ossl-bench--host port
                       :ca (ossl-bench--pki "root.pem") :nowait t
                       :callback (lambda (r) (funcall done (not (consp r))))))
    ('gnutls
     (let ((p (open-network-stream (ossl-bench--name) ossl-bench--buffer
                                   ossl-bench--host port
                                   :type 'tls :coding 'binary :nowait t)))
       (set-process-query-on-exit-flag p nil)
       (set-process-sentinel p (lambda (_p event)
                                 (funcall done (string-prefix-p "open" event))))
       p))))

(defun ossl-bench--unibyte-filter (p)
  "Make P's filter see unibyte strings, as ossl's user filter does."
  (when (fboundp 'set-process-filter-multibyte)
    (with-no-warnings (set-process-filter-multibyte p nil))))

(defun ossl-bench--describe (contender p)
  "Protocol and cipher of P, for the report."
  (pcase contender
    ((or 'ossl 'ossl-lisp)
     (let ((s (ossl-ssl-status (ossl-process-conn p))))
       (format "%s %s%s" (plist-get s :protocol) (plist-get s :cipher)
               (if (funcall 'ossl--relayed-p (ossl-process-conn p))
                   " under the descriptor" ""))))
    ('gnutls (let ((s (gnutls-peer-status p)))
               (format "%s %s" (plist-get s :protocol) (plist-get s :cipher))))
    (_ "TCP")))

(defun ossl-bench--payload (n)
  "A unibyte string of N varied bytes."
  (let ((s (make-string n 0)))
    (dotimes (i n) (aset s i (logand (ash (* i 2654435761) -13) 255)))
    (string-to-unibyte s)))

(defun ossl-bench--coat-one (port)
  "Open one coated (ossl) connection to PORT and leave it idle."
  (ossl-bench--open 'ossl port))

;;;; Benchmarks

(defun ossl-bench--dl (contender peer-program bytes rpom)
  "Download BYTES with `read-process-output-max' RPOM."
  (let* ((tls (ossl-bench--tls-p contender))
         (peer (ossl-bench--start-peer peer-program tls 1))
         (extra (and (eq contender 'plain+ossl)
                     (ossl-bench--start-peer peer-program t 1)))
         (coated (and extra (ossl-bench--coat-one (cdr extra))))
         (read-process-output-max rpom)
         (p (ossl-bench--open contender (cdr peer)))
         (n 0) (calls 0)
         (info (ossl-bench--describe contender p)))
    (ossl-bench--unibyte-filter p)
    (set-process-filter p (lambda (_p s) (setq n (+ n (length s))
                                             calls (1+ calls))))
    (garbage-collect)
    (let ((t0 (float-time)) (c0 (ossl-bench--cpu)) (m0 (ossl-bench--main-cpu))
          (g0 gcs-done) (ge0 gc-elapsed))
      (process-send-string p (format "D %d\n" bytes))
      (ossl-bench--wait (lambda () (>= n bytes)) 300 "the download" p)
      (let ((wall (- (float-time) t0)) (cpu (- (ossl-bench--cpu) c0))
            (main (and m0 (- (ossl-bench--main-cpu) m0)))
            (gcs (- gcs-done g0)) (gct (- gc-elapsed ge0)))
        (delete-process p)
        (when coated (delete-process coated))
        (let ((pc (ossl-bench--peer-cpu peer)))
          (when extra (ossl-bench--peer-cpu extra))
          (list :value (/ bytes wall 1e6) :unit "MB/s" :wall wall :cpu cpu
                :main-cpu-per-mb (and main (/ main (/ bytes 1048576.0)))
                :peer-cpu (+ (nth 0 pc) (nth 1 pc)) :gcs gcs :gc-time gct
                :filter-calls calls :info info))))))

(defun ossl-bench--up (contender peer-program bytes piece)
  "Upload BYTES through `process-send-string' in PIECE-byte strings."
  (let* ((tls (ossl-bench--tls-p contender))
         (peer (ossl-bench--start-peer peer-program tls 1))
         (extra (and (eq contender 'plain+ossl)
                     (ossl-bench--start-peer peer-program t 1)))
         (coated (and extra (ossl-bench--coat-one (cdr extra))))
         (p (ossl-bench--open contender (cdr peer)))
         (chunk (ossl-bench--payload piece))
         (pieces (/ bytes piece))
         (ok nil)
         (info (ossl-bench--describe contender p)))
    (ossl-bench--unibyte-filter p)
    (set-process-filter p (lambda (_p s) (when (string-match-p "OK" s)
                                           (setq ok t))))
    (garbage-collect)
    (let ((t0 (float-time)) (c0 (ossl-bench--cpu))
          (g0 gcs-done) (ge0 gc-elapsed))
      (process-send-string p (format "U %d\n" (* pieces piece)))
      (dotimes (_ pieces) (process-send-string p chunk))
      (ossl-bench--wait (lambda () ok) 300 "the upload's OK" p)
      (let ((wall (- (float-time) t0)) (cpu (- (ossl-bench--cpu) c0))
            (gcs (- gcs-done g0)) (gct (- gc-elapsed ge0)))
        (delete-process p)
        (when coated (delete-process coated))
        (let ((pc (ossl-bench--peer-cpu peer)))
          (when extra (ossl-bench--peer-cpu extra))
          (list :value (/ (* pieces piece) wall 1e6) :unit "MB/s"
                :wall wall :cpu cpu :peer-cpu (+ (nth 0 pc) (nth 1 pc))
                :gcs gcs :gc-time gct :info info))))))

(defun ossl-bench--hs (contender peer-program count)
  "COUNT sequential connections with full verification, each closed."
  (let* ((tls (ossl-bench--tls-p contender))
         (warm 3)
         (peer (ossl-bench--start-peer peer-program tls (+ count warm)))
         (info nil))
    ;; Warm up: contexts, trust stores, libraries.
    (dotimes (_ warm)
      (let ((p (ossl-bench--open contender (cdr peer))))
        (setq info (ossl-bench--describe contender p))
        (delete-process p)))
    (garbage-collect)
    (let ((t0 (float-time)) (c0 (ossl-bench--cpu)) (m0 (ossl-bench--main-cpu)))
      (dotimes (_ count)
        (delete-process (ossl-bench--open contender (cdr peer))))
      (let ((wall (- (float-time) t0)) (cpu (- (ossl-bench--cpu) c0))
            (main (and m0 (- (ossl-bench--main-cpu) m0)))
            (pc (ossl-bench--peer-cpu peer)))
        (list :value (/ (* 1000 wall) count) :unit "ms" :wall wall
              :cpu-ms (/ (* 1000 cpu) count) :cpu cpu
              :main-cpu-ms (and main (/ (* 1000 main) count))
              :peer-cpu (+ (nth 0 pc) (nth 1 pc))
              :failures (nth 3 pc) :info info)))))

(defun ossl-bench--conc (contender peer-program count)
  "COUNT connections handshaking at once; total time until all are open.
A connection whose handshake neither ends nor fails within 30 s is
counted as stalled; the time is then that of the last one to end."
  (let* ((tls (ossl-bench--tls-p contender))
         (peer (ossl-bench--start-peer peer-program tls (+ count 1)))
         (done 0) (failed 0) (procs nil) (t-last nil) (t0 nil))
    (delete-process (ossl-bench--open contender (cdr peer))) ; warm up
    (garbage-collect)
    (setq t0 (float-time))
    (let ((c0 (ossl-bench--cpu)))
      (dotimes (_ count)
        (let ((seen nil))
          (push (ossl-bench--open-async contender (cdr peer)
                                        (lambda (ok)
                                          (unless seen
                                            (setq seen t
                                                  t-last (float-time))
                                            (if ok (cl-incf done)
                                              (cl-incf failed)))))
                procs)))
      ;; Sentinels are not output: `accept-process-output' would sleep
      ;; its whole timeout, so poll in 10 ms steps.
      (condition-case nil
          (ossl-bench--wait (lambda () (>= (+ done failed) count)) 30
                            "the concurrent handshakes" nil 0.01)
        (error nil))
      (let* ((cpu (- (ossl-bench--cpu) c0))
             (stalled (- count done failed))
             (failed failed)
             (value (and t-last (* 1000 (- t-last t0))))
             (statuses (and (> stalled 0)
                            (delete-dups
                             (mapcar (lambda (p) (format "%s" (process-status p)))
                                     procs)))))
        (mapc #'delete-process procs)
        (let ((pc (ossl-bench--peer-cpu peer)))
          (list :value value :unit "ms"
                :cpu cpu :peer-cpu (+ (nth 0 pc) (nth 1 pc))
                :failures failed :stalled stalled
                :info (and statuses
                           (format "%d of %d stalled for 30 s (statuses %s)"
                                   stalled count
                                   (string-join statuses ",")))))))))

(defun ossl-bench--mem (contender peer-program count)
  "Resident size growth per idle open connection, over COUNT of them."
  (let* ((tls (ossl-bench--tls-p contender))
         (warm 5)
         (peer (ossl-bench--start-peer peer-program tls (+ count warm)))
         (procs nil))
    (dotimes (_ warm)
      (delete-process (ossl-bench--open contender (cdr peer))))
    (accept-process-output nil 0.2)
    (garbage-collect)
    (let ((rss0 (ossl-bench--rss-kb)) (t0 (float-time)))
      (dotimes (_ count)
        (push (ossl-bench--open contender (cdr peer)) procs))
      ;; Let every connection take what the peer sends after its
      ;; handshake (TLS 1.3 session tickets), as an idle one would.
      (let ((deadline (+ (float-time) 1.0)))
        (while (< (float-time) deadline) (accept-process-output nil 0.1)))
      (garbage-collect)
      (let* ((rss1 (ossl-bench--rss-kb))
             (wall (- (float-time) t0)))
        (mapc #'delete-process procs)
        (let ((pc (ossl-bench--peer-cpu peer)))
          (list :value (/ (* 1.0 (- rss1 rss0)) count) :unit "kB"
                :rss0 rss0 :rss1 rss1 :wall wall
                :peer-cpu (+ (nth 0 pc) (nth 1 pc))))))))

(defun ossl-bench--resume (peer-program count)
  "COUNT full and COUNT resumed ossl handshakes, alternating."
  (let* ((peer (ossl-bench--start-peer peer-program t (+ 1 (* 2 count) 2)))
         (p (ossl-bench--open 'ossl (cdr peer)))
         (conn (ossl-process-conn p))
         (session nil) (full 0.0) (resumed 0.0) (reused 0)
         (full-cpu 0.0) (resumed-cpu 0.0))
    (ossl-bench--wait (lambda () (setq session (ossl-ssl-session conn)))
                      10 "a session ticket" p)
    (delete-process p)
    ;; One warm-up of each.
    (delete-process (ossl-bench--open 'ossl (cdr peer)))
    (delete-process (ossl-bench--open 'ossl (cdr peer) session))
    (garbage-collect)
    (dotimes (_ count)
      (let* ((t0 (float-time)) (c0 (ossl-bench--cpu))
             (q (ossl-bench--open 'ossl (cdr peer))))
        (cl-incf full (- (float-time) t0))
        (cl-incf full-cpu (- (ossl-bench--cpu) c0))
        (delete-process q))
      (let* ((t0 (float-time)) (c0 (ossl-bench--cpu))
             (q (ossl-bench--open 'ossl (cdr peer) session)))
        (cl-incf resumed (- (float-time) t0))
        (cl-incf resumed-cpu (- (ossl-bench--cpu) c0))
        (when (plist-get (ossl-ssl-status (ossl-process-conn q))
                         :session-reused)
          (cl-incf reused))
        (delete-process q)))
    (let ((pc (ossl-bench--peer-cpu peer)))
      (list :value (/ resumed full) :unit "x"
            :full-ms (/ (* 1000 full) count)
            :resumed-ms (/ (* 1000 resumed) count)
            :full-cpu-ms (/ (* 1000 full-cpu) count)
            :resumed-cpu-ms (/ (* 1000 resumed-cpu) count)
            :reused reused :count count
            :peer-cpu (+ (nth 0 pc) (nth 1 pc))))))

;;;; Crypto (issue 16): one call over BYTES of data, in MB/s

(declare-function ossl-digest "ossl-crypto" (digest data))
(declare-function ossl-hmac "ossl-crypto" (digest data key))
(declare-function ossl-encrypt "ossl-crypto" (cipher data key &optional iv aad))
(declare-function ossl-decrypt "ossl-crypto" (cipher data key &optional iv aad))
(declare-function gnutls-hash-digest "gnutls.c" (digest-method input))
(declare-function gnutls-hash-mac "gnutls.c" (hash-method key input))
(declare-function gnutls-symmetric-encrypt "gnutls.c" (cipher key iv input &optional aead-auth))
(declare-function gnutls-symmetric-decrypt "gnutls.c" (cipher key iv input &optional aead-auth))

(defun ossl-bench--crypto-op (contender op data)
  "A function doing OP on DATA the way CONTENDER does, and its input.
GnuTLS wipes the key strings it is given: each call gets a copy."
  (let ((key (make-string 32 ?k)) (iv (make-string 12 ?i)))
    (pcase (list op contender)
      ('(digest ossl) (lambda () (ossl-digest 'sha256 data)))
      ('(digest secure-hash) (lambda () (secure-hash 'sha256 data nil nil t)))
      ('(digest gnutls) (lambda () (gnutls-hash-digest 'SHA256 data)))
      ('(hmac ossl) (lambda () (ossl-hmac 'sha256 data key)))
      ('(hmac gnutls) (lambda () (gnutls-hash-mac 'SHA256 (copy-sequence key) data)))
      ('(gcm ossl) (lambda () (ossl-encrypt 'aes-256-gcm data key iv)))
      ('(gcm gnutls)
       (lambda () (car (gnutls-symmetric-encrypt 'AES-256-GCM (copy-sequence key) iv data))))
      ('(gcm-dec ossl)
       (let ((ct (ossl-encrypt 'aes-256-gcm data key iv)))
         (lambda () (ossl-decrypt 'aes-256-gcm ct key iv))))
      ('(gcm-dec gnutls)
       (let ((ct (car (gnutls-symmetric-encrypt 'AES-256-GCM (copy-sequence key) iv data))))
         (lambda () (car (gnutls-symmetric-decrypt 'AES-256-GCM (copy-sequence key) iv ct))))))))

(declare-function ossl-digest-file "ossl-crypto" (digest file))

(defun ossl-bench--file-op (contender file)
  "A function hashing FILE with SHA-256 the way CONTENDER can."
  (let ((read (lambda (f) (with-temp-buffer
                            (set-buffer-multibyte nil)
                            (insert-file-contents-literally f)
                            (buffer-string)))))
    (pcase contender
      ('ossl (lambda () (ossl-digest-file 'sha256 file)))
      ('secure-hash (lambda () (secure-hash 'sha256 (funcall read file) nil nil t)))
      ('gnutls (lambda () (gnutls-hash-digest 'SHA256 (funcall read file)))))))

(defun ossl-bench--crypto (contender op bytes)
  "Time OP over BYTES bytes by CONTENDER: the best of three calls, in MB/s.
The data is a multiple of 16 bytes, as GnuTLS's Emacs API wants for GCM.
OP `digest-file' hashes a file of that size (read into a string first
by the contenders that cannot stream it)."
  (let* ((data (ossl-bench--payload-fast (* 16 (/ bytes 16))))
         (file (and (eq op 'digest-file)
                    (let ((f (make-temp-file "ossl-bench-"))
                          (coding-system-for-write 'binary))
                      (write-region data nil f nil 'silent)
                      f)))
         (f (if file (ossl-bench--file-op contender file)
              (ossl-bench--crypto-op contender op data)))
         (ref nil) (best nil) (gcs gcs-done) (gc-time gc-elapsed)
         (cpu0 (ossl-bench--cpu)))
    (unless file
      (funcall (ossl-bench--crypto-op contender op (substring data 0 (* 1024 1024)))))
    (setq data nil)
    (unwind-protect
        (dotimes (_ 3)
          (let* ((t0 (float-time))
                 (out (funcall f))
                 (secs (- (float-time) t0)))
            (if ref (unless (equal out ref) (error "Results differ")) (setq ref out))
            (setq best (if best (min best secs) secs))))
      (when file (delete-file file)))
    (list :value (/ (/ bytes 1048576.0) best) :unit "MB/s"
          :cpu (- (ossl-bench--cpu) cpu0) :gcs (- gcs-done gcs)
          :gc-time (- gc-elapsed gc-time)
          :info (format "best of 3: %.3f s" best))))

(defun ossl-bench--payload-fast (n)
  "A unibyte string of N varied bytes, made quickly for large N."
  (let* ((piece (ossl-bench--payload 65536))
         (s (apply #'concat (make-list (1+ (/ n 65536)) piece))))
    (substring s 0 n)))

;;;; Entry point

(defun ossl-bench-child (spec)
  "Run the one measurement SPEC describes and print its RESULT line."
  (let* ((contender (plist-get spec :contender))
         (bench (plist-get spec :bench))
         (peer (plist-get spec :peer)))
    (setq ossl-bench--pki (plist-get spec :pki))
    (when (plist-get spec :gc-threshold)
      (setq gc-cons-threshold (plist-get spec :gc-threshold)))
    (when (memq contender '(ossl ossl-lisp plain+ossl))
      (require 'ossl))
    ;; ossl with its records moved in Lisp, not under the descriptor.
    (when (eq contender 'ossl-lisp)
      (set 'ossl-socket-data-path 'lisp))
    ;; What the first coating loads in a native-compiling Emacs 28:
    ;; advising a primitive installs a trampoline through comp.el.
    (when (eq contender 'plain+comp)
      (require 'comp))
    (when (eq contender 'gnutls)
      (require 'gnutls)
      (setq gnutls-trustfiles (list (ossl-bench--pki "root.pem"))
            gnutls-verify-error t)
      (setq ossl-bench--buffer (get-buffer-create " *bench-gnutls*")))
    (let ((result
           (pcase bench
             ('dl (ossl-bench--dl contender peer (plist-get spec :bytes)
                                  (plist-get spec :rpom)))
             ('up (ossl-bench--up contender peer (plist-get spec :bytes) 65536))
             ('hs (ossl-bench--hs contender peer (plist-get spec :count)))
             ('conc (ossl-bench--conc contender peer (plist-get spec :count)))
             ('mem (ossl-bench--mem contender peer (plist-get spec :count)))
             ('resume (ossl-bench--resume peer (plist-get spec :count)))
             ('crypto (ossl-bench--crypto contender (plist-get spec :op)
                                          (plist-get spec :bytes))))))
      (princ (format "RESULT %S\n" result)))))

(provide 'ossl-bench)
;;; ossl-bench.el ends here
