;;; count-calls.el --- Count module calls per chunk during a TLS download  -*- lexical-binding: t; -*-

;;; Commentary:

;; How many times does the Lisp layer call into the module for each
;; chunk of ciphertext it receives?  Run (after `make' and `make
;; bench/peer'):
;;
;;   emacs -Q --batch -L lisp -L test -L bench -l bench/count-calls.el \
;;     -f ossl-count-calls-main
;;
;; Environment: COUNT_MB (megabytes to download, default 20),
;; COUNT_TRANSPORT (`pipe', the default: a pipe process whose other
;; end a small Python relay connects to the peer; or `socket': a
;; network process on the Lisp data path).
;;
;; It starts bench/peer (a C OpenSSL server), coats the process with
;; `ossl-starttls', then wraps every module function (`ossl--*'
;; functions that are module functions) and `ossl--filter' with a
;; counter, downloads COUNT_MB megabytes and prints the calls per
;; received chunk (one `ossl--filter' call: what Emacs read), per
;; chunk delivered to the user's filter, and per function.

;;; Code:

(require 'cl-lib)
(require 'ossl-test-lib)
(require 'ossl)

(defvar ossl-socket-data-path)

(defconst ossl-count-calls--relay
  "import os, select, socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
open_in = True
while True:
    r, _, _ = select.select([0, s] if open_in else [s], [], [])
    if 0 in r:
        d = os.read(0, 65536)
        if d:
            s.sendall(d)
        else:
            open_in = False
            s.shutdown(socket.SHUT_WR)
    if s in r:
        d = s.recv(65536)
        if not d:
            break
        while d:
            d = d[os.write(1, d):]
"
  "Python: relay stdin/stdout to the TCP port given as argument.")

(defvar ossl-count-calls--counts (make-hash-table :test #'eq)
  "Symbol -> number of calls since the counters were reset.")

(defun ossl-count-calls--module-functions ()
  "The `ossl--' functions that are module functions."
  (let (fns)
    (mapatoms (lambda (s)
                (when (and (fboundp s)
                           (string-prefix-p "ossl--" (symbol-name s))
                           (module-function-p (symbol-function s)))
                  (push s fns))))
    fns))

(defun ossl-count-calls--wrap (sym)
  "Make SYM count its calls in `ossl-count-calls--counts'."
  (let ((orig (symbol-function sym)))
    (fset sym (lambda (&rest args)
                (cl-incf (gethash sym ossl-count-calls--counts 0))
                (apply orig args)))))

(defun ossl-count-calls--total (syms)
  "The calls counted for SYMS."
  (apply #'+ (mapcar (lambda (s) (gethash s ossl-count-calls--counts 0)) syms)))

(defun ossl-count-calls--open (transport pki port)
  "A process coated with TLS to PORT over TRANSPORT, trusting PKI's root."
  (let ((ca (expand-file-name "root.pem" pki)))
    (pcase transport
      ('pipe
       (let ((p (make-process :name "count-calls" :buffer nil :noquery t
                              :connection-type 'pipe :coding 'binary
                              :command (list "python3" "-c" ossl-count-calls--relay
                                             (number-to-string port)))))
         (ossl-starttls p :hostname "127.0.0.1" :ca ca)
         p))
      ('socket
       (let ((ossl-socket-data-path 'lisp))
         (let ((p (ossl-open-stream "count-calls" nil "127.0.0.1" port :ca ca)))
           (set-process-coding-system p 'binary 'binary)
           p)))
      (_ (error "COUNT_TRANSPORT: pipe or socket, not %s" transport)))))

(defun ossl-count-calls (bytes transport)
  "Download BYTES over TRANSPORT counting module calls; return a plist."
  (let* ((pki (file-name-as-directory (make-temp-file "ossl-count-pki-" t)))
         (peer-program (expand-file-name
                        "peer" (file-name-directory
                                (or load-file-name (locate-library "count-calls")))))
         (peer nil) (p nil))
    (unwind-protect
        (progn
          (ossl-test--generate-pki pki)
          (setq peer (ossl-test-start-process
                      "bench-peer" peer-program
                      (list "--accept" "1" "--tls"
                            (expand-file-name "server-chain.pem" pki)
                            (expand-file-name "server.key" pki))
                      :ready-regexp "^READY [0-9]+$"
                      :port-regexp "^READY \\([0-9]+\\)$"))
          (setq p (ossl-count-calls--open transport pki (plist-get peer :port)))
          (let ((module (ossl-count-calls--module-functions))
                (n 0) (delivered 0))
            (set-process-filter p (lambda (_p s)
                                    (setq n (+ n (length s))
                                          delivered (1+ delivered))))
            (mapc #'ossl-count-calls--wrap (cons 'ossl--filter module))
            (clrhash ossl-count-calls--counts)
            (process-send-string p (format "D %d\n" bytes))
            (let ((deadline (+ (float-time) 300)))
              (while (< n bytes)
                (when (> (float-time) deadline)
                  (error "Timed out after %d of %d bytes" n bytes))
                (accept-process-output p 0.5)))
            (let ((calls (ossl-count-calls--total module))
                  (received (gethash 'ossl--filter ossl-count-calls--counts 0))
                  (per nil))
              (maphash (lambda (k v) (unless (eq k 'ossl--filter) (push (cons k v) per)))
                       ossl-count-calls--counts)
              (list :transport transport :bytes n :module-calls calls
                    :received-chunks received :delivered-chunks delivered
                    :calls-per-received (/ calls (float received))
                    :calls-per-delivered (/ calls (float delivered))
                    :per-function (sort per (lambda (a b) (> (cdr a) (cdr b))))))))
      (when (and p (process-live-p p)) (delete-process p))
      (ossl-test-stop-peer peer)
      (delete-directory pki t))))

(defun ossl-count-calls-main ()
  "Entry point for batch use; see the Commentary."
  (let* ((mb (string-to-number (or (getenv "COUNT_MB") "20")))
         (transport (intern (or (getenv "COUNT_TRANSPORT") "pipe")))
         (r (ossl-count-calls (* mb 1024 1024) transport)))
    (princ (format "%s, %d MB: %d module calls, %d chunks received (%.2f calls each), %d delivered to the filter (%.2f calls each)\n"
                   transport mb (plist-get r :module-calls)
                   (plist-get r :received-chunks) (plist-get r :calls-per-received)
                   (plist-get r :delivered-chunks) (plist-get r :calls-per-delivered)))
    (dolist (f (plist-get r :per-function))
      (princ (format "  %-28s %d\n" (car f) (cdr f))))))

(provide 'count-calls)

;;; count-calls.el ends here
