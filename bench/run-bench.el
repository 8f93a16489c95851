;;; run-bench.el --- make bench: ossl vs built-in GnuTLS vs plain TCP  -*- lexical-binding: t; -*-

;;; Commentary:

;; Run as `make bench' (emacs -Q --batch -L lisp -L test -L bench -l
;; bench/run-bench.el -f ossl-bench-main).  Every measurement runs in
;; a fresh `emacs -Q --batch' (see bench/ossl-bench.el) against its own
;; bench/peer, so that contenders never share a heap, a GC history or
;; a peer.  The contenders of one benchmark run one after the other,
;; in an order that rotates with each repetition; the report gives
;; medians over the repetitions with the spread, and the ratios
;; ossl/GnuTLS and ossl/plain of the medians.
;;
;; Environment:
;;   BENCH_QUICK=1   a smoke run: one repetition, small sizes
;;   BENCH_REPS=N    repetitions (default 5)
;;   BENCH_MB=N      megabytes per transfer (default 200)
;;   BENCH_ONLY=a,b  only these benchmarks (labels below); the crypto
;;                   ones alone: BENCH_ONLY=digest,digest-file,hmac,gcm,gcm-dec
;;                   (`make bench-crypto')
;;   BENCH_CRYPTO_MB=N  megabytes per crypto call (default 100)
;;   BENCH_OUT=FILE  where to write the Markdown report
;;                   (default bench/last-run.md)

;;; Code:

(require 'cl-lib)
(require 'subr-x)
(require 'ossl-test-lib)

(defconst ossl-bench-directory
  (file-name-directory (or load-file-name buffer-file-name))
  "The bench/ directory.")

(defconst ossl-bench-root
  (file-name-directory (directory-file-name ossl-bench-directory))
  "The checkout.")

(defun ossl-bench--env-number (name default)
  (let ((v (getenv name)))
    (if (and v (string-match-p "\\`[0-9]+\\'" v)) (string-to-number v) default)))

(defvar ossl-bench-quick (member (getenv "BENCH_QUICK") '("1" "yes" "t")))

(defvar ossl-bench-reps
  (ossl-bench--env-number "BENCH_REPS" (if ossl-bench-quick 1 5)))

(defvar ossl-bench-bytes
  (* 1024 1024 (ossl-bench--env-number "BENCH_MB" (if ossl-bench-quick 20 200))))

(defun ossl-bench--tasks ()
  "The benchmarks: (LABEL TITLE SPEC CONTENDERS)."
  (let* ((q ossl-bench-quick)
         (mb (/ ossl-bench-bytes 1048576))
         (cmb (ossl-bench--env-number "BENCH_CRYPTO_MB" (if q 10 100))))
    `((dl4k ,(format "Download %d MB, read-process-output-max 4096" mb)
            (:bench dl :bytes ,ossl-bench-bytes :rpom 4096)
            (ossl ossl-lisp gnutls plain))
      (dl64k ,(format "Download %d MB, read-process-output-max 65536" mb)
             (:bench dl :bytes ,ossl-bench-bytes :rpom 65536)
             (ossl ossl-lisp gnutls plain plain+ossl plain+comp))
      (up ,(format "Upload %d MB, process-send-string of 64 KiB pieces" mb)
          (:bench up :bytes ,ossl-bench-bytes)
          (ossl ossl-lisp gnutls plain plain+ossl))
      (dl64k-gc ,(format "Download %d MB, read-process-output-max 65536, gc-cons-threshold 64 MB" mb)
                (:bench dl :bytes ,ossl-bench-bytes :rpom 65536
                        :gc-threshold ,(* 64 1024 1024))
                (ossl gnutls plain))
      (up-gc ,(format "Upload %d MB, 64 KiB pieces, gc-cons-threshold 64 MB" mb)
             (:bench up :bytes ,ossl-bench-bytes :gc-threshold ,(* 64 1024 1024))
             (ossl gnutls plain))
      (hs ,(format "%d sequential client handshakes, full verification, ms each"
                   (if q 20 200))
          (:bench hs :count ,(if q 20 200))
          (ossl ossl-lisp gnutls plain))
      (conc ,(format "%d concurrent handshakes, total ms" (if q 20 100))
            (:bench conc :count ,(if q 20 100))
            (ossl gnutls plain))
;; 200: one Emacs relays about 250 sockets at most (each takes
      ;; three of the descriptors below FD_SETSIZE Emacs keeps to
      ;; itself), and the sockets past that take the Lisp path, whose
      ;; first coating loads the native compiler: more would measure
      ;; that, not a connection.
      (mem ,(format "Resident size growth per idle connection, %d connections, kB"
                    (if q 50 200))
           (:bench mem :count ,(if q 50 200))
           (ossl ossl-lisp gnutls plain))
      (resume ,(format "Resumed vs full ossl handshakes, %d each, alternating"
                       (if q 10 100))
              (:bench resume :count ,(if q 10 100))
              (ossl))
      ;; Crypto (issue 16): BENCH_ONLY=digest,digest-file,hmac,gcm,gcm-dec for these alone.
      (digest ,(format "SHA-256 of %d MB in one call, MB/s" cmb)
              (:bench crypto :op digest :bytes ,(* cmb 1048576))
              (ossl secure-hash gnutls))
      (digest-file ,(format "SHA-256 of a %d MB file (others read it into a string first), MB/s" cmb)
                   (:bench crypto :op digest-file :bytes ,(* cmb 1048576))
                   (ossl secure-hash gnutls))
      (hmac ,(format "HMAC-SHA-256 of %d MB in one call, MB/s" cmb)
            (:bench crypto :op hmac :bytes ,(* cmb 1048576))
            (ossl gnutls))
      (gcm ,(format "AES-256-GCM encryption of %d MB in one call, MB/s" cmb)
           (:bench crypto :op gcm :bytes ,(* cmb 1048576))
           (ossl gnutls))
      (gcm-dec ,(format "AES-256-GCM decryption of %d MB in one call, MB/s" cmb)
               (:bench crypto :op gcm-dec :bytes ,(* cmb 1048576))
               (ossl gnutls)))))

;;;; Running children

(defun ossl-bench--emacs ()
  (expand-file-name invocation-name invocation-directory))

(defun ossl-bench--run-child (spec &optional tree)
  "Run one measurement SPEC in a fresh Emacs; return its result plist.
TREE is the checkout whose lisp/ is measured (default this one)."
  (let ((default-directory (file-name-as-directory (or tree ossl-bench-root))))
    (with-temp-buffer
      (let ((status (call-process
                     (ossl-bench--emacs) nil t nil
                     "-Q" "--batch" "-L" "lisp" "-L" ossl-bench-directory
                     "-l" "ossl-bench"
                     "--eval" (format "(ossl-bench-child '%S)" spec))))
        (goto-char (point-min))
        (if (and (eql status 0) (re-search-forward "^RESULT \\(.*\\)$" nil t))
            (car (read-from-string (match-string 1)))
          (message "bench: %S failed (%s):\n%s" spec status
                   (buffer-string))
          nil)))))

(defun ossl-bench--rotate (list n)
  (let ((n (mod n (length list))))
    (append (nthcdr n list) (cl-subseq list 0 n))))

;;;; Statistics and the report

(defun ossl-bench--median (xs)
  (let* ((v (sort (copy-sequence (delq nil xs)) #'<))
         (n (length v)))
    (cond ((= n 0) nil)
          ((cl-oddp n) (nth (/ n 2) v))
          (t (/ (+ (nth (1- (/ n 2)) v) (nth (/ n 2) v)) 2.0)))))

(defun ossl-bench--fmt (x &optional digits)
  (cond ((null x) "–")
        ((integerp x) (format "%d" x))
        ((>= (abs x) 100) (format "%.0f" x))
        ((>= (abs x) 10) (format "%.1f" x))
        (t (format (format "%%.%df" (or digits 2)) x))))

(defun ossl-bench--shell (command)
  (string-trim (shell-command-to-string command)))

(defvar ossl-bench--load-before nil
  "/proc/loadavg when the run started.")

(defun ossl-bench--machine ()
  "A Markdown description of this machine and the software measured."
  (let ((cpu (ossl-bench--shell
              "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"))
        (flags (ossl-bench--shell
                "grep -m1 -o -w -E 'aes|vaes|avx2|sha_ni' /proc/cpuinfo | sort -u | tr '\\n' ' '")))
    (concat
     (format "- date: %s\n" (format-time-string "%Y-%m-%d %H:%M %Z"))
     (format "- machine: %s cores (`nproc`), %s (%s), %s, %s\n"
             (ossl-bench--shell "nproc") cpu (string-trim flags)
             (ossl-bench--shell "free -g | awk '/Mem:/{print $2 \" GB RAM\"}'")
             (ossl-bench--shell "uname -sr"))
     (format "- Emacs %s (%s), `emacs -Q --batch`, default `gc-cons-threshold` %d\n"
             emacs-version (ossl-bench--emacs) gc-cons-threshold)
     (format "- OpenSSL: %s; GnuTLS in Emacs: %s (libgnutls-version %s)\n"
             (ossl-bench--shell "openssl version")
             (ossl-bench--shell "gnutls-cli --version 2>/dev/null | head -1")
             (bound-and-true-p libgnutls-version))
     (format "- peer: bench/peer (C, OpenSSL, one thread per connection), \
TLS 1.3, EC P-256 leaf + intermediate, client trusts the test root\n")
     (format "- load average (1, 5, 15 min) before the run: %s\n"
             ossl-bench--load-before))))

(defun ossl-bench--report (results started)
  "Markdown for RESULTS, a hash table (LABEL . CONTENDER) -> list of plists."
  (let ((out (list (format "# make bench, %s run: %d repetition%s, %.0f s\n\n%s"
                           (if ossl-bench-quick "quick (BENCH_QUICK=1)" "full")
                           ossl-bench-reps (if (= ossl-bench-reps 1) "" "s")
                           (- (float-time) started)
                           (ossl-bench--machine)))))
    (push (format "- load average (1, 5, 15 min) after the run: %s\n\n"
                  (ossl-bench--shell "cut -d' ' -f1-3 /proc/loadavg"))
          out)
    (push "Medians over the repetitions; [min–max] in brackets.  \"Emacs CPU\" \
and \"peer CPU\" are seconds of CPU time over the measured span (the peer's \
over its whole life).  GCs: garbage collections during the span.\n\n" out)
    (dolist (task (ossl-bench--tasks))
      (cl-destructuring-bind (label title _spec contenders) task
        (when (cl-some (lambda (c) (gethash (cons label c) results)) contenders)
          (push (format "## %s: %s\n\n" label title) out)
          (if (eq label 'resume)
              (let* ((rs (gethash (cons label 'ossl) results))
                     (get (lambda (k) (ossl-bench--median
                                       (mapcar (lambda (r) (plist-get r k)) rs)))))
                (push (format "| full ms | resumed ms | resumed/full | Emacs CPU ms full | resumed | reused | peer CPU s |\n|---|---|---|---|---|---|---|\n| %s | %s | %s | %s | %s | %s/%s | %s |\n\n"
                              (ossl-bench--fmt (funcall get :full-ms))
                              (ossl-bench--fmt (funcall get :resumed-ms))
                              (ossl-bench--fmt (funcall get :value))
                              (ossl-bench--fmt (funcall get :full-cpu-ms))
                              (ossl-bench--fmt (funcall get :resumed-cpu-ms))
                              (ossl-bench--fmt (funcall get :reused))
                              (ossl-bench--fmt (funcall get :count))
                              (ossl-bench--fmt (funcall get :peer-cpu)))
                      out)
                (push "Built-in GnuTLS: Emacs has no session resumption API (n/a).\n\n"
                      out))
            (push "| contender | median | [min–max] | Emacs CPU s | peer CPU s | GCs | GC s | notes |\n|---|---|---|---|---|---|---|---|\n"
                  out)
            (let ((medians nil))
              (dolist (c contenders)
                (let* ((rs (gethash (cons label c) results))
                       (vals (mapcar (lambda (r) (plist-get r :value)) rs))
                       (get (lambda (k) (ossl-bench--median
                                         (mapcar (lambda (r) (plist-get r k)) rs))))
                       (med (ossl-bench--median vals))
                       (unit (plist-get (car rs) :unit)))
                  (push (cons c med) medians)
                  (push (format "| %s | %s %s | [%s–%s] | %s | %s | %s | %s | %s |\n"
                                c (ossl-bench--fmt med) (or unit "")
                                (ossl-bench--fmt (and vals (apply #'min (delq nil vals))))
                                (ossl-bench--fmt (and vals (apply #'max (delq nil vals))))
                                (ossl-bench--fmt (funcall get :cpu))
                                (ossl-bench--fmt (funcall get :peer-cpu))
                                (ossl-bench--fmt (funcall get :gcs))
                                (ossl-bench--fmt (funcall get :gc-time))
                                (string-join
                                 (delq nil
                                       (list (cl-some (lambda (r) (plist-get r :info))
                                                      rs)
                                             (and (cl-some (lambda (r)
                                                             (> (or (plist-get r :stalled) 0) 0))
                                                           rs)
                                                  (format "stalled handshakes per run: %s"
                                                          (mapconcat (lambda (r) (format "%s" (plist-get r :stalled)))
                                                                     (reverse rs) ", ")))
                                             (let ((f (funcall get :failures)))
                                               (and f (> f 0) (format "%s failures" f)))
                                             (let ((cm (funcall get :cpu-ms)))
                                               (and cm (format "Emacs CPU %s ms each"
                                                               (ossl-bench--fmt cm))))
                                             (let ((mm (funcall get :main-cpu-ms)))
                                               (and mm (format "main thread %s ms each"
                                                               (ossl-bench--fmt mm))))
                                             (let ((mc (funcall get :main-cpu-per-mb)))
                                               (and mc (format "main thread %s ms CPU/MB"
                                                               (ossl-bench--fmt (* 1000 mc)))))
                                             (let ((fc (funcall get :filter-calls)))
                                               (and fc (format "%s filter calls"
                                                               (ossl-bench--fmt fc))))))
                                 "; "))
                        out)))
              (let ((o (cdr (assq 'ossl medians)))
                    (g (cdr (assq 'gnutls medians)))
                    (p (cdr (assq 'plain medians)))
                    (sh (cdr (assq 'secure-hash medians)))
                    (po (cdr (assq 'plain+ossl medians))))
                (push (concat
                       "\n"
                       (if (and o g (> g 0)) (format "ossl/GnuTLS = **%.2f**" (/ o g)) "")
                       (if (and o sh (> sh 0))
                           (format "; ossl/secure-hash = **%.2f**" (/ o sh)) "")
                       (if (and o p (> p 0) (memq label '(dl4k dl64k up dl64k-gc up-gc)))
                           (format "; ossl/plain = **%.2f**" (/ o p)) "")
                       (if (and po p (> p 0))
                           (format "; plain with ossl loaded and a coated connection open / plain without ossl = **%.2f**" (/ po p))
                         "")
                       (let ((pc (cdr (assq 'plain+comp medians))))
                         (if (and pc p (> p 0))
                             (format "; plain with only the native compiler (comp.el) loaded / plain = **%.2f**" (/ pc p))
                           ""))
                       "\n\n")
                      out)))))))
    (apply #'concat (nreverse out))))

;;;; Main

(defun ossl-bench-main ()
  "Run every benchmark, write the report, print it."
  (setq ossl-bench--load-before
        (ossl-bench--shell "cut -d' ' -f1-3 /proc/loadavg"))
  (let* ((started (float-time))
         (only (let ((o (getenv "BENCH_ONLY")))
                 (and o (mapcar #'intern (split-string o "," t)))))
         (pki (file-name-as-directory (make-temp-file "ossl-bench-pki-" t)))
         (peer (expand-file-name "peer" ossl-bench-directory))
         (out (or (getenv "BENCH_OUT")
                  (expand-file-name "last-run.md" ossl-bench-directory)))
         (results (make-hash-table :test #'equal))
         (tasks (cl-remove-if-not (lambda (task) (or (null only)
                                                     (memq (car task) only)))
                                  (ossl-bench--tasks))))
    (unless (file-executable-p peer)
      (error "bench/peer is missing: run make bench"))
    (unwind-protect
        (progn
          (ossl-test--generate-pki pki)
          (dotimes (rep ossl-bench-reps)
            (dolist (task tasks)
              (cl-destructuring-bind (label _title spec contenders) task
                (dolist (c (ossl-bench--rotate contenders rep))
                  (let* ((full (append (list :contender c :pki pki :peer peer)
                                       spec))
                         (r (ossl-bench--run-child full)))
                    (message "rep %d/%d %-8s %-10s %s %s" (1+ rep) ossl-bench-reps
                             label c
                             (ossl-bench--fmt (plist-get r :value))
                             (or (plist-get r :unit) "FAILED"))
                    (when r
                      (push r (gethash (cons label c) results))))))))
          (let ((report (ossl-bench--report results started)))
            (with-temp-file out (insert report))
            (princ report)
            (message "bench: report written to %s" out)))
      (delete-directory pki t))))

;;;; A/B: the same measurement on two checkouts

(defun ossl-bench-ab ()
  "Compare two built checkouts on one measurement, alternating.
Environment: BENCH_A and BENCH_B (checkout directories, each built
with make), BENCH_SPEC (a plist such as \"(:bench dl :contender ossl
:bytes 209715200 :rpom 65536)\"), BENCH_REPS (default 7).  Prints
the median and spread of the value for each, and B/A."
  (let* ((a (getenv "BENCH_A")) (b (getenv "BENCH_B"))
         (spec (car (read-from-string (getenv "BENCH_SPEC"))))
         (reps (ossl-bench--env-number "BENCH_REPS" 7))
         (pki (file-name-as-directory (make-temp-file "ossl-bench-pki-" t)))
         (peer (expand-file-name "peer" ossl-bench-directory))
         (vals (list (cons a nil) (cons b nil))))
    (unwind-protect
        (progn
          (ossl-test--generate-pki pki)
          (dotimes (rep reps)
            (dolist (tree (if (cl-evenp rep) (list a b) (list b a)))
              (let ((r (ossl-bench--run-child
                        (append (list :pki pki :peer peer) spec) tree)))
                (message "rep %d %s: %s %s %S" (1+ rep) tree
                         (ossl-bench--fmt (plist-get r :value))
                         (plist-get r :unit)
                         (cl-loop for (k v) on r by #'cddr
                                  unless (memq k '(:value :unit :info))
                                  append (list k (if (floatp v)
                                                     (read (ossl-bench--fmt v))
                                                   v))))
                (push (plist-get r :value) (cdr (assoc tree vals)))))))
      (delete-directory pki t))
    (let ((ma (ossl-bench--median (cdr (assoc a vals))))
          (mb (ossl-bench--median (cdr (assoc b vals)))))
      (princ (format "A %s: median %s [%s]\nB %s: median %s [%s]\nB/A = %.3f\n"
                     a (ossl-bench--fmt ma)
                     (mapconcat #'ossl-bench--fmt (cdr (assoc a vals)) " ")
                     b (ossl-bench--fmt mb)
                     (mapconcat #'ossl-bench--fmt (cdr (assoc b vals)) " ")
                     (/ mb ma))))))

(provide 'run-bench)
;;; run-bench.el ends here
