;;; ossl.el --- OpenSSL secure layers for any process  -*- lexical-binding: t; -*-

;; Copyright (C) 2026 The ossl developers

;; Author: The ossl developers
;; Version: 0.1.0
;; Package-Requires: ((emacs "28.1"))
;; Keywords: comm, processes, tools
;; URL: https://example.invalid/ossl

;; This program is free software; you can redistribute it and/or modify
;; it under the terms of the GNU General Public License as published by
;; the Free Software Foundation, either version 3 of the License, or
;; (at your option) any later version.

;; This program is distributed in the hope that it will be useful,
;; but WITHOUT ANY WARRANTY; without even the implied warranty of
;; MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
;; GNU General Public License for more details.

;; You should have received a copy of the GNU General Public License
;; along with this program.  If not, see <https://www.gnu.org/licenses/>.

;;; Commentary:

;; ossl coats any Emacs process with TLS: after `ossl-ssl-handshake'
;; (or `ossl-starttls') the process filter sees cleartext and
;; `process-send-string' sends ciphertext.  The TLS engine is a dynamic
;; module over OpenSSL 3 working on memory buffers; this file holds the
;; policy (defaults, verification decisions, timeouts), the connection
;; objects, the public API re-created from SXEmacs, and the glue that
;; moves bytes between a process and the engine.
;;
;; Data path, one direction at a time:
;;   inbound:  process (binary) -> `ossl--filter' -> `ossl--input'
;;             -> engine -> `ossl--deliver' (decode) -> user's filter
;;   outbound: `process-send-string' (advised) -> `ossl--send'
;;             (encode) -> engine -> `ossl--send-raw' -> process

;;; Code:

(require 'cl-lib)
(require 'nadvice)
(require 'ossl-build)

(defgroup ossl nil
  "OpenSSL secure layers for Emacs processes."
  :group 'comm
  :link '(info-link "(ossl)Top")
  :prefix "ossl-")

(defcustom ossl-handshake-timeout 30
  "Seconds a blocking TLS handshake may take before it is abandoned."
  :type 'number
  :package-version '(ossl . "0.1.0"))

(defcustom ossl-verify-peer t
  "Whether a client aborts a handshake when the server fails verification.
When nil, the handshake succeeds whatever the certificate and the
outcome stays available from `ossl-ssl-verify-certificate'.  A call
can decide for itself with the :verify keyword of `ossl-starttls'."
  :type 'boolean
  :package-version '(ossl . "0.1.0"))

(defcustom ossl-trust-system-store t
  "Whether clients trust the system certificate store.
The store honours the environment variables SSL_CERT_FILE and
SSL_CERT_DIR.  CAs given to a call are trusted in addition."
  :type 'boolean
  :package-version '(ossl . "0.1.0"))

(defcustom ossl-finish-timeout 1
  "Seconds `ossl-ssl-finish' waits for the peer's close_notify."
  :type 'number
  :package-version '(ossl . "0.1.0"))

;;;; Errors

(define-error 'ossl-handshake-error "TLS handshake failed" 'ossl-error)
(define-error 'ossl-verify-error "TLS certificate verification failed"
  'ossl-handshake-error)
(define-error 'ossl-timeout-error "TLS handshake timed out"
  'ossl-handshake-error)
(define-error 'ossl-closed-error "TLS connection is closed" 'ossl-error)
(define-error 'ossl-protocol-error "TLS connection failed" 'ossl-error)
(define-error 'ossl-not-supported-error "Not supported" 'ossl-error)
(define-error 'ossl-certificate-error "Cannot use certificate" 'ossl-error)
(define-error 'ossl-key-error "Cannot use private key" 'ossl-error)

(defvar ossl-ssl-last-error nil
  "The message of the last failed TLS handshake, or nil.")

;;;; The module (see ossl-build.el)

(ossl--load-module)

(declare-function ossl--ctx-new "ossl-module" (serverp))
(declare-function ossl--ctx-versions "ossl-module" (ctx min max))
(declare-function ossl--ctx-ciphers "ossl-module" (ctx ciphers suites))
(declare-function ossl--ctx-add-ca "ossl-module" (ctx kind value))
(declare-function ossl--ctx-add-ca-x509 "ossl-module" (ctx cert))
(declare-function ossl--ctx-use-cert "ossl-module" (ctx kind value))
(declare-function ossl--ctx-use-key "ossl-module" (ctx kind value password))
(declare-function ossl--conn-new "ossl-module" (ctx hostname mode))
(declare-function ossl--feed "ossl-module" (conn data))
(declare-function ossl--take "ossl-module" (conn))
(declare-function ossl--write "ossl-module" (conn string))
(declare-function ossl--shutdown "ossl-module" (conn))
(declare-function ossl--leftover "ossl-module" (conn))
(declare-function ossl--release "ossl-module" (conn))
(declare-function ossl--state "ossl-module" (conn))
(declare-function ossl--reason "ossl-module" (conn))
(declare-function ossl--peer-closed-p "ossl-module" (conn))
(declare-function ossl--protocol "ossl-module" (conn))
(declare-function ossl--cipher "ossl-module" (conn))
(declare-function ossl--cipher-names "ossl-module" (conn))
(declare-function ossl--verify-result "ossl-module" (conn))
(declare-function ossl--verify-failures "ossl-module" (conn))
(declare-function ossl--ctx-add-sni "ossl-module" (ctx name sni-ctx))
(declare-function ossl--ctx-pause-for-sni "ossl-module" (ctx))
(declare-function ossl--sni-request "ossl-module" (conn))
(declare-function ossl--sni-choose "ossl-module" (conn sni-ctx))
(declare-function ossl--conn-use-cert "ossl-module" (conn kind value))
(declare-function ossl--conn-use-key "ossl-module" (conn kind value password))
(declare-function ossl--conn-inject-ca "ossl-module" (conn kind value))
(declare-function ossl--conn-alpn "ossl-module" (conn wire))
(declare-function ossl--set-session "ossl-module" (conn der))
(declare-function ossl--session "ossl-module" (conn))
(declare-function ossl--conn-info "ossl-module" (conn))
(declare-function ossl-x509-p "ossl-x509" (object))
(declare-function ossl-x509-to-pem "ossl-x509" (cert))
(declare-function ossl-ssl-peer-cert-chain "ossl-x509" (ssl-conn))
(declare-function ossl-x509-handle "ossl-x509" (cert))
(declare-function ossl-x509-info "ossl-x509" (cert))
(declare-function ossl--x509-wrap "ossl-x509" (handle))
(declare-function ossl-socket--maybe-relay "ossl-socket" (conn))
(declare-function ossl-socket--unrelay "ossl-socket" (conn))
(declare-function ossl-socket--send "ossl-socket" (conn string))
(declare-function ossl-socket--phase "ossl-socket" (conn))
(declare-function ossl--relay-shutdown "ossl-module" (relay))

;;;; Connection objects

(cl-defstruct (ossl-ssl-conn
               (:constructor ossl--make-conn)
               (:copier nil)
               (:predicate ossl-ssl-conn-p))
  "A TLS layer coating an Emacs process."
  process             ; the parent process
  handle              ; the module's connection
  serverp
  hostname            ; the name verified, or nil
  (linked t)          ; proselytised: the process I/O goes through TLS
  filter              ; the user's filter, receiving cleartext
  coding              ; the user's (DECODING . ENCODING)
  filter-multibyte    ; the process's own setting, restored at the end
  carry               ; undecoded bytes held back: an incomplete character
  queue               ; cleartext sent before the handshake ended, reversed
  sending             ; a raw send is in progress
  outq                ; ciphertext waiting for that send, reversed
  verify              ; abort on verification failure
  verify-function     ; caller's decision, or nil
  callback            ; called once the handshake ends (non-blocking)
  sni-function        ; server: chooses a certificate for a name
  timer               ; the non-blocking handshake's timeout
  plain-on-failure    ; a failed handshake leaves the process open, plain
  error               ; why the connection failed, or nil
  dead                ; finished: the layer is gone
  relay)              ; nil: not tried, `lisp', or the descriptor relay
                      ; (see ossl-socket.el)

(defun ossl--check-conn (conn)
  "Signal unless CONN is a live TLS connection; return its handle."
  (unless (ossl-ssl-conn-p conn)
    (signal 'wrong-type-argument (list 'ossl-ssl-conn-p conn)))
  (when (ossl-ssl-conn-dead conn)
    (signal 'ossl-closed-error (list "TLS connection is finished" conn)))
  (ossl-ssl-conn-handle conn))

(defun ossl--check-host (host)
  "Signal unless HOST may be given to `make-network-process'; return it.
A unibyte host name with non-ASCII bytes is no host name, and Emacs
28 crashes formatting its \"Name or service not known\" error.  A
name with a NUL or another control character in it is none either:
the system would look up, and OpenSSL check, only a part of it."
  (when (and (stringp host)
             (or (string-match-p "[\0-\37\177]" host)
                 (and (not (multibyte-string-p host))
                      (string-match-p "[^\0-\177]" host))))
    (signal 'wrong-type-argument (list 'ossl-host-name-p host)))
  host)

(defun ossl--check-hostname (name)
  "NAME, a host name to verify, checked as `ossl--check-host' does.
Return nil for nil and for \"\", which name no host."
  (unless (or (null name) (stringp name))
    (signal 'wrong-type-argument (list 'stringp name)))
  (and name (not (string-empty-p (ossl--check-host name))) name))

(cl-defmethod cl-print-object ((conn ossl-ssl-conn) stream)
  "Print CONN the way SXEmacs did, on STREAM."
  (if (ossl-ssl-conn-dead conn)
      (princ "#<OpenSSL socket layer: dead>" stream)
    (princ (format "#<OpenSSL socket layer: %s on top of "
                   (or (ossl--protocol (ossl-ssl-conn-handle conn))
                       "handshaking"))
           stream)
    (prin1 (ossl-ssl-conn-process conn) stream)
    (princ ">" stream)))

(defun ossl--conn-phase (conn)
  "Where CONN stands, seen from Lisp: the engine's state, or `failed'."
  (cond ((ossl-ssl-conn-dead conn) 'closed)
        ((ossl-ssl-conn-error conn) 'failed)
        ((ossl--relayed-p conn) (ossl-socket--phase conn))
        (t (ossl--state (ossl-ssl-conn-handle conn)))))

;;;; Contexts

(defconst ossl--versions
  '((tls1.0 . #x0301) (tls1.1 . #x0302) (tls1.2 . #x0303) (tls1.3 . #x0304))
  "Protocol version symbols and their TLS codes.")

(defun ossl--method-versions (method)
  "The (MIN . MAX) protocol versions METHOD stands for."
  (pcase method
    ((or 'nil 'tls1 'ssl23 'tls 'tls1.2+) '(#x0303 . 0))
    ((or 'ssl2 'ssl3 'sslv2 'sslv3)
     (signal 'ossl-not-supported-error
             (list (format "%s is broken and not supported; use TLS 1.2 or later"
                           method))))
    ((pred symbolp)
     (let ((v (cdr (assq method ossl--versions))))
       (unless v
         (signal 'ossl-not-supported-error
                 (list (format "Unknown TLS method %s" method))))
       (cons v v)))
    (_ (signal 'wrong-type-argument (list 'symbolp method)))))

(defun ossl--version-code (v)
  "The TLS code of version V, a symbol like `tls1.2', or nil."
  (cond ((null v) nil)
        ((assq v ossl--versions) (cdr (assq v ossl--versions)))
        (t (signal 'ossl-not-supported-error
                   (list (format "Unknown TLS version %s" v))))))

(defun ossl--add-ca (ctx ca)
  "Trust CA in CTX: a file, a directory, PEM text, a certificate or a list."
  (dolist (src (ossl--ca-sources ca))
    (if (eq (car src) 'x509)
        (ossl--ctx-add-ca-x509 ctx (cdr src))
      (ossl--ctx-add-ca ctx (car src) (cdr src)))))

(defun ossl--ca-sources (ca)
  "CA (a file, directory, PEM text, certificate or list) as (KIND . VALUE)s."
  (cond ((null ca) nil)
        ((and (consp ca) (not (functionp ca))) (mapcan #'ossl--ca-sources ca))
        ((ossl-x509-p ca) (list (cons 'x509 (ossl-x509-handle ca))))
        ((not (stringp ca)) (signal 'wrong-type-argument (list 'stringp ca)))
        ((string-match-p "-----BEGIN" ca) (list (cons 'pem ca)))
        ((file-directory-p ca) (list (cons 'dir (expand-file-name ca))))
        ((file-readable-p ca) (list (cons 'file (expand-file-name ca))))
        (t (signal 'ossl-certificate-error
                   (list (format "CA file %s does not exist or is not readable"
                                 ca))))))

(defun ossl--add-system-store (ctx)
  "Trust the system store in CTX, honouring SSL_CERT_FILE and SSL_CERT_DIR."
  (let ((file (getenv "SSL_CERT_FILE"))
        (dir (getenv "SSL_CERT_DIR")))
    (if (or file dir)
        (progn
          (when (and file (file-readable-p file))
            (ossl--ctx-add-ca ctx 'file file))
          (when (and dir (file-directory-p dir))
            (ossl--ctx-add-ca ctx 'dir dir)))
      (ossl--ctx-add-ca ctx 'system nil))))

(defun ossl--key-data-p (x)
  "Non-nil if the string X is key or certificate data, not a file name.
PEM text, PEM without its BEGIN line, DER bytes: anything with a
line break, a control character or a raw byte is data."
  (or (string-match-p "-----BEGIN" x)
      (string-match-p "[\0-\37\177]" x)
      (and (not (multibyte-string-p x))
           (string-match-p "[\200-\377]" x))
      (and (multibyte-string-p x)
           (cl-some (lambda (c) (>= c #x3fff80)) x))))

(defun ossl--key-source (x what)
  "The (KIND . VALUE) of key material X (file name or data), for WHAT.
WHAT is `key' or `cert'.  Data goes to OpenSSL as it is, which reads
PEM and DER.  The error for a missing key file names it only when it
is an absolute file name: a relative one may be key data, and key
data never goes into error data."
  (cond ((not (stringp x)) (signal 'wrong-type-argument (list 'stringp x)))
        ((ossl--key-data-p x) (cons 'pem x))
        ((file-readable-p x) (cons 'file (expand-file-name x)))
        ((eq what 'key)
         (signal 'ossl-key-error
                 (list (if (string-match-p "\\`[/~]" x)
                           (format "Key file %s does not exist or is not readable" x)
                         "The key is neither a readable file nor PEM or DER data \
\(the value is not shown: it may be key material)"))))
        (t (signal 'ossl-certificate-error
                   (list (format "Certificate file %s does not exist or is not readable"
                                 x))))))

(defvar ossl--context-cache (make-hash-table :test #'equal :weakness 'value)
  "Contexts by their settings, so that handshakes share trust stores.")

(defvar ossl--context-recent nil
  "The contexts used last, most recent first, at most four.
Strong references: without them a garbage collection while no
connection is open empties the weak cache, and the next handshake
loads the trust store again (some 20 ms for the system store).")

(defun ossl--context-keep (ctx)
  "Remember CTX as the most recently used context; return it."
  (unless (eq ctx (car ossl--context-recent))
    (setq ossl--context-recent
          (cons ctx (delq ctx ossl--context-recent)))
    (when (nthcdr 4 ossl--context-recent)
      (setcdr (nthcdr 3 ossl--context-recent) nil)))
  ctx)

(defun ossl--cache-form (x)
  "X with each string in it replaced by its SHA-256, for a cache key.
So PEM text and key data given as strings never sit in
`ossl--context-cache' itself."
  (cond ((stringp x)
         (secure-hash 'sha256 (if (multibyte-string-p x)
                                  (encode-coding-string x 'utf-8-emacs t)
                                x)))
        ((consp x) (cons (ossl--cache-form (car x)) (ossl--cache-form (cdr x))))
        (t x)))

(defun ossl--sni-password-p (sni)
  "Non-nil if an entry of SNI (an alist of (NAME . KEYS)) has a :password.
A context with a password is not cached: a digest of a password can
be guessed."
  (cl-some (lambda (entry) (and (consp entry) (plist-get (cdr entry) :password)))
           sni))

(defun ossl--context (serverp keys)
  "A TLS context for a server if SERVERP, else a client, set up from KEYS.
KEYS are those of `ossl-starttls' that belong to a context: :method
:min-version :max-version :ca :client-ca :cert :key :password
:ciphers :ciphersuites :sni.  Contexts without a password are cached,
so that handshakes with the same settings share one trust store."
  (let* ((versions (ossl--method-versions (plist-get keys :method)))
         (min (or (ossl--version-code (plist-get keys :min-version))
                  (car versions)))
         (max (or (ossl--version-code (plist-get keys :max-version))
                  (cdr versions)))
         (ca (if serverp (or (plist-get keys :client-ca) (plist-get keys :ca))
               (plist-get keys :ca)))
         (cert (plist-get keys :cert))
         (key (plist-get keys :key))
         (password (plist-get keys :password))
         (ciphers (plist-get keys :ciphers))
         (suites (plist-get keys :ciphersuites))
         (sni (plist-get keys :sni))
         (sni-function (plist-get keys :sni-function))
         (trust-system (and (not serverp) ossl-trust-system-store))
         (cache-key (and (null password)
                         (not (ossl--sni-password-p sni))
                         (ossl--cache-form
                          (list serverp min max ca cert key ciphers suites sni
                                (and sni-function t)
                                trust-system (getenv "SSL_CERT_FILE")
                                (getenv "SSL_CERT_DIR")))))
         (ctx (and cache-key (gethash cache-key ossl--context-cache))))
    (when (and serverp (null cert))
      (signal 'ossl-certificate-error
              (list "A server handshake needs a certificate and a key")))
    (or (and ctx (ossl--context-keep ctx))
        (let ((ctx (ossl--ctx-new serverp)))
          (ossl--ctx-versions ctx min max)
          (when (or ciphers suites) (ossl--ctx-ciphers ctx ciphers suites))
          (when trust-system (ossl--add-system-store ctx))
          (ossl--add-ca ctx ca)
          (when cert
            (let ((src (ossl--key-source cert 'cert)))
              (ossl--ctx-use-cert ctx (car src) (cdr src)))
            (let ((src (ossl--key-source (or key cert) 'key)))
              (ossl--ctx-use-key ctx (car src) (cdr src) password)))
          ;; Server: other names, each with its own certificate.
          (dolist (entry sni)
            (unless (and (consp entry) (stringp (car entry)))
              (signal 'wrong-type-argument (list 'consp entry)))
            (ossl--ctx-add-sni ctx (car entry)
                               (ossl--context t (append (cdr entry)
                                                        (ossl--plist-without
                                                         keys :sni)))))
          (when (and serverp sni-function) (ossl--ctx-pause-for-sni ctx))
          (when cache-key
            (puthash cache-key ctx ossl--context-cache)
            (ossl--context-keep ctx))
          ctx))))

(defun ossl--alpn-wire (protocols)
  "PROTOCOLS, a list of strings, in the length-prefixed ALPN wire form."
  (apply #'concat
         (mapcar (lambda (p)
                   (unless (and (stringp p) (< 0 (string-bytes p) 256))
                     (signal 'wrong-type-argument (list 'stringp p)))
                   (concat (unibyte-string (string-bytes p))
                           (encode-coding-string p 'utf-8)))
                 protocols)))

;;;; Moving bytes: the process glue

(defvar ossl--originals nil
  "Alist of (SYMBOL . the primitive before ossl advised it).")

(defun ossl--orig (symbol)
  "The unadvised primitive SYMBOL."
  (or (cdr (assq symbol ossl--originals))
      (advice--cd*r (symbol-function symbol))))

(defun ossl--resolve (process)
  "The process PROCESS designates, as the process primitives understand it."
  (cond ((processp process) process)
        ((null process) (get-buffer-process (current-buffer)))
        ((bufferp process) (get-buffer-process process))
        ((stringp process)
         (or (get-process process)
             (let ((b (get-buffer process))) (and b (get-buffer-process b)))))))

(defun ossl--conn-of (process)
  "The TLS connection coating PROCESS, or nil."
  (let ((p (ossl--resolve process)))
    (and p (process-get p 'ossl--conn))))

(defun ossl--linked-conn (process)
  "The TLS connection that PROCESS's I/O passes through, or nil."
  (let ((conn (ossl--conn-of process)))
    (and conn (ossl-ssl-conn-linked conn)
         ;; Under the descriptor, Emacs's own process code does it,
         ;; until the connection failed.
         (or (memq (ossl-ssl-conn-relay conn) '(nil lisp))
             (ossl-ssl-conn-error conn))
         conn)))

(defun ossl--send-raw (conn bytes)
  "Send BYTES to CONN's process as they are.
A send that starts while another one is blocked waits for it, so
that TLS records never interleave."
  (if (ossl-ssl-conn-sending conn)
      (push bytes (ossl-ssl-conn-outq conn))
    (let ((proc (ossl-ssl-conn-process conn))
          (send (ossl--orig 'process-send-string)))
      (setf (ossl-ssl-conn-sending conn) t)
      (unwind-protect
          (condition-case err
              (progn
                (funcall send proc bytes)
                (while (ossl-ssl-conn-outq conn)
                  (let ((more (apply #'concat
                                     (nreverse (ossl-ssl-conn-outq conn)))))
                    (setf (ossl-ssl-conn-outq conn) nil)
                    (funcall send proc more))))
            ;; The connection went away under us.
            (error (signal 'ossl-closed-error
                           (list (format "Cannot send to %s: %s"
                                         (process-name proc)
                                         (error-message-string err))
                                 proc))))
        (setf (ossl-ssl-conn-sending conn) nil)))))

(defun ossl--flush (conn &optional quiet)
  "Send whatever ciphertext CONN's engine has for the network.
When QUIET, a transport that went away is left to the process's
sentinel instead of signalling: the engine's own answers (handshake
flights, alerts, close_notify) go out from the filter, where an
error would reach no caller, and the cleartext that came with them
must still be delivered."
  (let ((out (ossl--take (ossl-ssl-conn-handle conn))))
    (when (and out (process-live-p (ossl-ssl-conn-process conn)))
      (if quiet
          (condition-case nil (ossl--send-raw conn out) (ossl-closed-error nil))
        (ossl--send-raw conn out)))))

(defun ossl--encode (conn string)
  "STRING as bytes for CONN, encoded the way `process-send-string' would."
  (let ((coding (cdr (ossl-ssl-conn-coding conn))))
    (cond ((multibyte-string-p string)
           (encode-coding-string string (or coding 'utf-8-unix) t))
          ((memq (coding-system-eol-type (or coding 'binary)) '(1 2))
           (encode-coding-string
            string (coding-system-change-eol-conversion
                    'raw-text (coding-system-eol-type coding))
            t))
          (t string))))

(defun ossl--held-tail (text)
  "How many trailing raw bytes of decoded TEXT may start a character."
  (let ((n 0) (len (length text)))
    (while (and (< n 4) (< n len)
                (>= (aref text (- len n 1)) #x3FFF80)) ; a raw byte
      (setq n (1+ n)))
    n))

(defun ossl--decode (conn bytes &optional final)
  "Decode cleartext BYTES for CONN's user.
An incomplete multibyte character at the end, or a CR that may start
a CRLF, is held back until the rest arrives, unless FINAL."
  (let* ((coding (or (car (ossl-ssl-conn-coding conn)) 'binary))
         (carry (ossl-ssl-conn-carry conn))
         (bytes (if carry (concat carry bytes) bytes)))
    (setf (ossl-ssl-conn-carry conn) nil)
    (if (eq (coding-system-base coding) 'no-conversion)
        bytes
      (let* ((text (decode-coding-string bytes coding t))
             (held (cond (final 0)
                         ((> (ossl--held-tail text) 0) (ossl--held-tail text))
                         ((and (eq (coding-system-eol-type coding) 1)
                               (string-suffix-p "\r" text))
                          1)
                         (t 0))))
        ;; Each held character stands for exactly one byte.
        (when (> held 0)
          (setf (ossl-ssl-conn-carry conn) (substring bytes (- held))
                text (substring text 0 (- held))))
        text))))

(defun ossl--deliver (conn bytes &optional final)
  "Hand cleartext BYTES to CONN's user, decoded; FINAL flushes held bytes."
  (let ((text (ossl--decode conn bytes final))
        (filter (ossl-ssl-conn-filter conn)))
    (when (and (> (length text) 0) (functionp filter))
      (funcall filter (ossl-ssl-conn-process conn) text))))

(defun ossl--relayed-p (conn)
  "Return non-nil if CONN's data go under its socket's descriptor."
  (not (memq (ossl-ssl-conn-relay conn) '(nil lisp))))

(defun ossl--filter (proc bytes)
  "The filter of a process coated with TLS: ciphertext BYTES from PROC."
  (let ((conn (process-get proc 'ossl--conn)))
    (when conn
      (ossl--input conn bytes)
      (unless (ossl-ssl-conn-relay conn)
        (ossl-socket--maybe-relay conn)))))

(defun ossl--input (conn bytes)
  "Feed ciphertext BYTES to CONN; deliver cleartext and answer the peer.
Return the cleartext bytes."
  (let* ((h (ossl-ssl-conn-handle conn))
         (was (ossl--state h))
         (clear (ossl--feed h bytes))
         (now (ossl--state h)))
    (ossl--flush conn t)
    (when (and (eq now 'handshaking) (ossl-ssl-conn-sni-function conn))
      (ossl--choose-sni conn))
    (when (and (eq was 'handshaking) (not (eq now 'handshaking)))
      (ossl--handshake-ended conn))
    (when (and (> (length clear) 0) (null (ossl-ssl-conn-error conn))
               (ossl-ssl-conn-linked conn))
      (ossl--deliver conn clear))
    (when (ossl-ssl-conn-linked conn)
      (cond ((and (eq now 'failed) (not (eq was 'failed))
                  (not (eq was 'handshaking)))
             (ossl--fatal conn))
            ((and (ossl--peer-closed-p h) (ossl-ssl-conn-carry conn))
             (ossl--deliver conn "" t))))
    clear))

(defun ossl--choose-sni (conn)
  "If CONN's server handshake waits for a certificate choice, make it.
The connection's SNI function gets the name the client asked for
\(\"\" when none) and returns nil for the default certificate, or
the keys of a context: (:cert CERT :key KEY ...)."
  (let* ((h (ossl-ssl-conn-handle conn))
         (name (ossl--sni-request h)))
    (when name
      (condition-case err
          (let ((keys (funcall (ossl-ssl-conn-sni-function conn) name)))
            (ossl--sni-choose h (and keys (ossl--context t keys))))
        (error
         (ossl--abort conn 'ossl-handshake-error
                      (format "TLS handshake with %s failed: SNI function: %s"
                              (process-name (ossl-ssl-conn-process conn))
                              (error-message-string err)))))
      (unless (ossl-ssl-conn-error conn)
        (ossl--input conn "")))))

(defun ossl--fatal (conn)
  "CONN's TLS stream broke after the handshake: report it, close it."
  (let ((msg (format "TLS connection %s failed: %s"
                     (process-name (ossl-ssl-conn-process conn))
                     (ossl--reason (ossl-ssl-conn-handle conn)))))
    (setf (ossl-ssl-conn-error conn) (list 'ossl-protocol-error msg))
    (message "ossl: %s" msg)
    (funcall (ossl--orig 'delete-process) (ossl-ssl-conn-process conn))))

(defun ossl--send (conn string)
  "Send STRING through CONN: encrypted, or queued until the handshake ends."
  (let ((bytes (ossl--encode conn string))
        (h (ossl-ssl-conn-handle conn)))
    (pcase (ossl--conn-phase conn)
      ('handshaking (push bytes (ossl-ssl-conn-queue conn)))
      ((and 'open (guard (ossl--relayed-p conn))) (ossl-socket--send conn string))
      ('open (ossl--write h bytes) (ossl--flush conn))
      (_ (signal 'ossl-closed-error
                 (list (or (cadr (ossl-ssl-conn-error conn))
                           "TLS connection is closed for writing")
                       (ossl-ssl-conn-process conn)))))
    nil))

;;;;; Advice: what makes a coated process look like a plain one

(defun ossl--around-send-string (orig process string)
  "Encrypt STRING when PROCESS is coated; else call ORIG."
  (let ((conn (ossl--linked-conn process)))
    (if conn (ossl--send conn string) (funcall orig process string))))

(defun ossl--around-send-region (orig process start end)
  "Encrypt the region START..END when PROCESS is coated; else call ORIG."
  (let ((conn (ossl--linked-conn process)))
    (if conn
        (ossl--send conn (buffer-substring-no-properties start end))
      (funcall orig process start end))))

(defun ossl--around-send-eof (orig &optional process)
  "Send close_notify before ORIG's end of file when PROCESS is coated."
  (let ((conn (ossl--linked-conn process)))
    (when (and conn (eq (ossl--conn-phase conn) 'open))
      (ossl--shutdown (ossl-ssl-conn-handle conn))
      (ossl--flush conn))
    (funcall orig process)))

(defun ossl--around-delete-process (orig &optional process)
  "Say close_notify, best effort, before ORIG deletes a coated PROCESS."
  (let ((conn (ossl--conn-of process)))
    (when conn
      (condition-case nil
          (when (and (memq (ossl--conn-phase conn) '(open))
                     (not (ossl--relayed-p conn)) ; the relay says it
                     (process-live-p (ossl-ssl-conn-process conn)))
            (ossl--shutdown (ossl-ssl-conn-handle conn))
            (ossl--flush conn))
        (error nil))))
  (funcall orig process))

(defun ossl--around-set-filter (orig process filter)
  "Give FILTER the cleartext when PROCESS is coated; else call ORIG."
  (let ((conn (ossl--linked-conn process)))
    (if (not conn)
        (funcall orig process filter)
      (setf (ossl-ssl-conn-filter conn)
            (or filter #'internal-default-process-filter))
      filter)))

(defun ossl--around-filter (orig process)
  "The cleartext filter when PROCESS is coated; else call ORIG."
  (let ((conn (ossl--linked-conn process)))
    (if conn (ossl-ssl-conn-filter conn) (funcall orig process))))

(defun ossl--around-set-coding (orig &optional process decoding encoding)
  "Use DECODING/ENCODING for cleartext when PROCESS is coated; else ORIG."
  (let ((conn (ossl--linked-conn process)))
    (if (not conn)
        (funcall orig process decoding encoding)
      (setf (ossl-ssl-conn-coding conn)
            (cons (check-coding-system decoding)
                  (check-coding-system encoding)))
      nil)))

(defun ossl--around-coding (orig process)
  "The cleartext coding systems when PROCESS is coated; else call ORIG."
  (let ((conn (ossl--linked-conn process)))
    (if conn (ossl-ssl-conn-coding conn) (funcall orig process))))

(defconst ossl--advice
  '((process-send-string . ossl--around-send-string)
    (process-send-region . ossl--around-send-region)
    (process-send-eof . ossl--around-send-eof)
    (delete-process . ossl--around-delete-process)
    (set-process-filter . ossl--around-set-filter)
    (process-filter . ossl--around-filter)
    (set-process-coding-system . ossl--around-set-coding)
    (process-coding-system . ossl--around-coding))
  "The process primitives ossl advises, and how.")

(defvar ossl--advice-installed nil
  "Non-nil once `ossl--install-advice' has advised every primitive.")

(defun ossl--install-advice ()
  "Advise the process primitives, once, the first time a process is coated."
  (unless ossl--advice-installed
    (ossl--install-advice-1)
    (setq ossl--advice-installed t)))

(defun ossl--install-advice-1 ()
  "Advise each process primitive that is not advised yet.
Signal `ossl-not-supported-error' when the advice of one of them
would not be seen by natively compiled callers."
  (dolist (a ossl--advice)
    (unless (assq (car a) ossl--originals)
      (push (cons (car a) (advice--cd*r (symbol-function (car a))))
            ossl--originals))
    (unless (advice-member-p (cdr a) (car a))
      (condition-case err
          (advice-add (car a) :around (cdr a))
        (error
         (ossl--advice-refused
          (car a) (format "cannot compile a trampoline for it (%s): \
put the C compiler and assembler Emacs uses on PATH, and make the eln \
cache directory writable" (error-message-string err))))))
    (let ((why (ossl--advice-ineffective (car a))))
      (when why (ossl--advice-refused (car a) why)))))

(defun ossl--trampolines-variable ()
  "The variable that enables native-comp trampolines in this Emacs."
  (if (boundp 'native-comp-enable-subr-trampolines)
      'native-comp-enable-subr-trampolines ; Emacs 29 and later
    'comp-enable-subr-trampolines))

(defun ossl--advice-ineffective (primitive)
  "Why natively compiled callers of PRIMITIVE bypass its advice, or nil.
Native code calls a primitive directly, and sees its advice only
through a compiled trampoline that advising installs.  Without
native compilation there is nothing to bypass."
  (when (featurep 'native-compile)
    (let ((var (ossl--trampolines-variable)))
      (cond
       ((and (boundp 'comp-installed-trampolines-h)
             (gethash primitive (symbol-value 'comp-installed-trampolines-h)))
        nil)
       ((not (and (boundp var) (symbol-value var)))
        (format "`%s' is nil, so no trampoline is installed: set it to t" var))
       ((and (boundp 'native-comp-never-optimize-functions)
             (memq primitive (symbol-value 'native-comp-never-optimize-functions)))
        "it is in `native-comp-never-optimize-functions': remove it")
       ((not (native-comp-available-p))
        "this Emacs cannot compile trampolines (libgccjit is missing): \
install it")
       (t "no trampoline is installed for it (it was advised while \
trampolines were off, or it is not a primitive any more): restart Emacs \
with trampolines on")))))

(defun ossl--advice-refused (primitive why)
  "Undo ossl's advice of PRIMITIVE and refuse to coat, saying WHY."
  (advice-remove primitive (cdr (assq primitive ossl--advice)))
  (signal 'ossl-not-supported-error
          (list (format "Natively compiled callers of %s would bypass TLS \
and send or read in clear, so ossl refuses to coat: %s" primitive why))))

(defun ossl-unload-function ()
  "Remove ossl's advice when the feature is unloaded."
  (setq ossl--advice-installed nil)
  (dolist (a ossl--advice)
    (advice-remove (car a) (cdr a)))
  nil)

(defun ossl--set-filter-multibyte (proc flag)
  "Set PROC's filter multibyteness to FLAG where Emacs still has it.
Emacs 30 removed it: a filter of a binary process gets unibyte text."
  (when (fboundp 'set-process-filter-multibyte)
    (with-no-warnings (set-process-filter-multibyte proc flag))))

(defun ossl--link (conn)
  "Route CONN's process I/O through TLS."
  (let ((proc (ossl-ssl-conn-process conn)))
    (ossl--install-advice)
    (process-put proc 'ossl--conn conn)
    (funcall (ossl--orig 'set-process-coding-system) proc 'binary 'binary)
    (ossl--set-filter-multibyte proc nil)
    (funcall (ossl--orig 'set-process-filter) proc #'ossl--filter)
    (setf (ossl-ssl-conn-linked conn) t)))

(defun ossl--unlink (conn)
  "Give CONN's process back its user's filter; TLS records pass through."
  (let ((proc (ossl-ssl-conn-process conn)))
    (setf (ossl-ssl-conn-linked conn) nil)
    (funcall (ossl--orig 'set-process-filter) proc
             (ossl-ssl-conn-filter conn))))

(defun ossl--uncoat (conn)
  "Make CONN's process a plain process again."
  (let ((proc (ossl-ssl-conn-process conn))
        (coding (ossl-ssl-conn-coding conn)))
    (ossl--unlink conn)
    (remove-function (process-sentinel proc) #'ossl--sentinel)
    (process-put proc 'ossl--conn nil)
    (funcall (ossl--orig 'set-process-coding-system) proc
             (car coding) (cdr coding))
    (ossl--set-filter-multibyte proc (ossl-ssl-conn-filter-multibyte conn))))

(defun ossl--coat (proc handle &rest slots)
  "Coat PROC with the engine connection HANDLE; SLOTS initialise the object."
  (let* ((coding (funcall (ossl--orig 'process-coding-system) proc))
         (conn (apply #'ossl--make-conn
                      :process proc :handle handle
                      :filter (funcall (ossl--orig 'process-filter) proc)
                      :coding coding
                      :filter-multibyte
                      (and (fboundp 'process-filter-multibyte-p)
                           (with-no-warnings (process-filter-multibyte-p proc)))
                      slots)))
    (ossl--link conn)
    (add-function :before (process-sentinel proc) #'ossl--sentinel)
    conn))

;;;; Handshakes

(defun ossl--sentinel (proc _event)
  "Before PROC's own sentinel: end a coated connection that is gone.
A handshake in progress fails; cleartext held back (the start of a
character) reaches the filter, as a plain process's would at EOF."
  (let ((conn (process-get proc 'ossl--conn)))
    (when (and conn (not (process-live-p proc)))
      (if (eq (ossl--conn-phase conn) 'handshaking)
          (ossl--handshake-lost conn)
        (when (and (ossl-ssl-conn-carry conn) (ossl-ssl-conn-linked conn))
          (ossl--deliver conn "" t))))))

(defun ossl--handshake-lost (conn)
  "CONN's connection closed during its handshake."
  (let ((proc (ossl-ssl-conn-process conn)))
    (ossl--abort conn 'ossl-handshake-error
                 (format "TLS handshake with %s failed: the connection closed during the handshake (%s)"
                         (ossl--describe-peer proc (ossl-ssl-conn-hostname conn))
                         (process-status proc)))))

(defun ossl--describe-peer (proc hostname)
  "A short name for the peer of PROC, for messages; HOSTNAME if known."
  ;; `process-contact' would wait for a connecting process to connect.
  (let ((contact (and (eq (process-type proc) 'network)
                      (not (eq (process-status proc) 'connect))
                      (process-contact proc))))
    (cond ((and hostname (consp contact) (cadr contact))
           (format "%s:%s" hostname (cadr contact)))
          (hostname hostname)
          (t (process-name proc)))))

(defun ossl--cert-name (info)
  "The name a certificate with INFO (see `ossl-x509-info') is known by."
  (let ((subject (plist-get info :subject)))
    (or (ossl--x509-subject-cn subject)
        (cdar (plist-get info :subject-alt-names)) subject "?")))

(defun ossl--verify-failure (handle)
  "(CODE DEPTH CERT STRING) of the first verification failure of HANDLE."
  (car (ossl--verify-failures handle)))

(defun ossl--explain-verify-failure (failure host)
  "Words a user can act on for verify FAILURE, connecting to HOST.
FAILURE is (CODE DEPTH CERT STRING) from `ossl--verify-failure'."
  (let* ((code (nth 0 failure))
         (cert (nth 2 failure))
         (info (and cert (ossl-x509-info (ossl--x509-wrap cert)))))
    (pcase (ossl--verify-code-symbol code)
      ((guard (null info)) (nth 3 failure))
      ('cert-has-expired
       (format "certificate for %s expired on %s" (ossl--cert-name info)
               (ossl--x509-date (plist-get info :valid-to))))
      ('cert-not-yet-valid
       (format "certificate for %s is not valid before %s" (ossl--cert-name info)
               (ossl--x509-date (plist-get info :valid-from))))
      ((or 'hostname-mismatch 'ip-address-mismatch)
       (format "name mismatch: certificate is for %s; connected to %s"
               (mapconcat #'cdr (or (plist-get info :subject-alt-names)
                                    (list (cons nil (ossl--cert-name info))))
                          ", ")
               host))
      ('depth-zero-self-signed-cert
       (format "self-signed certificate for %s is not trusted"
               (ossl--cert-name info)))
      ((or 'unable-to-get-issuer-cert 'self-signed-cert-in-chain
           'unable-to-get-issuer-cert-locally 'unable-to-verify-leaf-signature)
       (format "unknown issuer %s" (plist-get info :issuer-rfc2253)))
      (_ (format "%s (certificate %s)" (nth 3 failure)
                 (plist-get info :subject))))))

(defun ossl--verify-message (conn)
  "Words for why CONN's peer failed verification."
  (let* ((h (ossl-ssl-conn-handle conn))
         (failure (ossl--verify-failure h))
         (result (ossl--verify-result h)))
    (if failure
        (ossl--explain-verify-failure failure (ossl-ssl-conn-hostname conn))
      (cdr result))))

(defun ossl--handshake-ended (conn)
  "CONN's engine finished its handshake: decide, then go on or fail."
  (let* ((h (ossl-ssl-conn-handle conn))
         (proc (ossl-ssl-conn-process conn))
         (peer (ossl--describe-peer proc (ossl-ssl-conn-hostname conn)))
         (refusal (and (not (eq (ossl--state h) 'failed))
                       (ossl-ssl-conn-verify-function conn)
                       (ossl--verify-function-refusal conn))))
    (cond
     ((eq (ossl--state h) 'failed)
      (setf (ossl-ssl-conn-error conn)
            (if (and (ossl--verify-failure h) (ossl-ssl-conn-verify conn))
                (list 'ossl-verify-error
                      (format "TLS handshake with %s failed: %s" peer
                              (ossl--verify-message conn)))
              (list 'ossl-handshake-error
                    (format "TLS handshake with %s failed: %s" peer
                            (or (ossl--reason h) "unknown reason"))))))
     (refusal
      (ossl--shutdown h)
      (ossl--flush conn t)
      (setf (ossl-ssl-conn-error conn)
            (list 'ossl-verify-error
                  (format "TLS handshake with %s failed: %s" peer refusal))))
     (t
      ;; Open: what was sent meanwhile goes out now, encrypted.
      (let ((queued (ossl-ssl-conn-queue conn)))
        (setf (ossl-ssl-conn-queue conn) nil)
        (when queued
          (ossl--write h (apply #'concat (nreverse queued)))
          (ossl--flush conn t)))))
    (ossl--finish-handshake conn)))

(defun ossl--verify-function-refusal (conn)
  "Ask CONN's verify function about its peer; return why it refuses, or nil.
Only t accepts: any other value, an error or a quit refuses, and
the reason says which."
  (let* ((fn (ossl-ssl-conn-verify-function conn))
         ;; A closure is not printed: it may hold anything.
         (name (if (symbolp fn) (format "the verify function %s" fn)
                 "the verify function"))
         (answer (condition-case err
                     (funcall fn conn (ossl--verify-result
                                       (ossl-ssl-conn-handle conn)))
                   ((error quit) (list 'ossl--signalled err)))))
    (cond ((eq answer t) nil)
          ((eq (car-safe answer) 'ossl--signalled)
           (format "%s signalled: %s" name (error-message-string (cadr answer))))
          (t (format "rejected by %s (it returned %s, not t): %s" name
                     (if (or (symbolp answer) (numberp answer))
                         answer
                       (format "a %s" (type-of answer)))
                     (ossl--verify-message conn))))))

(defun ossl--finish-handshake (conn)
  "Tidy up after CONN's handshake ended, and tell the waiting callback.
A failed handshake closes the process, so that nothing the
application sends next goes out in clear, unless the caller asked
for a plain process back (:plain-on-failure)."
  (when (ossl-ssl-conn-timer conn)
    (cancel-timer (ossl-ssl-conn-timer conn))
    (setf (ossl-ssl-conn-timer conn) nil))
  (let ((err (ossl-ssl-conn-error conn))
        (cb (ossl-ssl-conn-callback conn)))
    (when err
      (setf (ossl-ssl-conn-queue conn) nil)
      (setq ossl-ssl-last-error (cadr err))
      (ossl--uncoat conn)
      (unless (ossl-ssl-conn-plain-on-failure conn)
        (delete-process (ossl-ssl-conn-process conn))))
    (when cb
      (setf (ossl-ssl-conn-callback conn) nil)
      (funcall cb (if err (cons (car err) (cdr err)) conn)))))

(defun ossl--abort (conn error-symbol message)
  "Give up CONN's handshake with ERROR-SYMBOL and MESSAGE."
  (unless (ossl-ssl-conn-error conn)
    (setf (ossl-ssl-conn-error conn) (list error-symbol message))
    (ossl--finish-handshake conn)))

(defun ossl--time-out (conn timeout)
  "Give up CONN's handshake: TIMEOUT seconds have passed."
  (ossl--abort conn 'ossl-timeout-error
               (format "TLS handshake with %s timed out after %s seconds"
                       (ossl--describe-peer (ossl-ssl-conn-process conn)
                                            (ossl-ssl-conn-hostname conn))
                       timeout)))

(defun ossl--wait (conn timeout)
  "Wait up to TIMEOUT seconds for CONN's handshake; signal if it fails."
  (let ((proc (ossl-ssl-conn-process conn))
        (deadline (+ (float-time) timeout))
        (peer (ossl--describe-peer (ossl-ssl-conn-process conn)
                                   (ossl-ssl-conn-hostname conn)))
        (done nil))
    (unwind-protect
        (progn
          (while (eq (ossl--conn-phase conn) 'handshaking)
            (let ((left (- deadline (float-time))))
              (cond
               ((<= left 0) (ossl--time-out conn timeout))
               ((not (process-live-p proc)) (ossl--handshake-lost conn))
               (t (accept-process-output proc (min left 1.0))))))
          (setq done t))
      (unless done                      ; C-g, or an error in a filter
        (ossl--abort conn 'ossl-handshake-error
                     (format "TLS handshake with %s was interrupted" peer))))
    ;; A stream that failed after a finished handshake (a bad record
    ;; that followed it closely) is the connection's failure, not the
    ;; handshake's: it shows as on any open connection, and whether it
    ;; did before this returns must not depend on timing.
    (let ((err (ossl-ssl-conn-error conn)))
      (when (and err (not (eq (car err) 'ossl-protocol-error)))
        (signal (car err) (cdr err))))
    conn))

(defun ossl--default-hostname (proc)
  "The host PROC connected to, or nil."
  (and (eq (process-type proc) 'network)
       (let ((host (process-contact proc :host)))
         (and (stringp host) host))))

(defun ossl-starttls (process &rest keys)
  "Coat PROCESS with TLS and perform the handshake; return the connection.
PROCESS is any live process: a network stream, a pipe, a server's
connection.  From then on its filter receives cleartext and
`process-send-string' sends ciphertext.  When the handshake fails
\(`ossl-verify-error', `ossl-timeout-error', `ossl-handshake-error',
also quitting while waiting) PROCESS is deleted, so that nothing meant
for the peer goes out in clear, and the error is signalled (or given
to :callback).  Errors in the arguments are signalled before
anything is sent and leave PROCESS as it was.

KEYS:
 :method    nil, `tls', `tls1' or `ssl23' for TLS 1.2 or later;
            `tls1.2' or `tls1.3' to pin a version (`tls1.0', `tls1.1'
            only when named; certificate checks stay as strict);
            `ssl2' and `ssl3' signal.
 :min-version, :max-version  bounds, as symbols like `tls1.2'.
 :ca        trusted CAs: a file, a hashed directory, PEM text, a
            certificate object or a list of these, in addition to
            the system store (see `ossl-trust-system-store').
 :cert, :key  own certificate chain and key: files or PEM text;
            the key defaults to the certificate file.
 :password  the key's password: a string or a function returning one.
 :hostname  the name to verify and send as SNI (default: the host
            PROCESS connected to).
 :verify    whether a verification failure aborts the handshake
            (default `ossl-verify-peer').
 :verify-function  called with the connection and the verify result
            (CODE . STRING) once the handshake is done; only t
            accepts: any other value, or an error, fails the handshake.
 :plain-on-failure  non-nil: a failed handshake leaves PROCESS open,
            as a plain process.  A downgrade: whatever is sent next
            goes out in clear, to a peer that was not verified.
 :ciphers, :ciphersuites  OpenSSL cipher lists for TLS 1.2 and 1.3.
 :alpn      protocols to offer (client) or accept (server), strings.
 :session   a session from `ossl-ssl-session' to resume (client).
 :server    perform a server handshake (:cert is then mandatory);
 :verify-client  nil, `request' or `require' a client certificate,
            verified against :client-ca (or :ca).
 :sni       server: an alist (NAME :cert CERT :key KEY) of other
            names to serve with their own certificates (\"*.example\"
            matches one label).
 :sni-function  server: called with the name the client asks for (\"\"
            when none) during the handshake; returns nil to serve :cert,
            or (:cert CERT :key KEY ...) to serve that instead.
 :timeout   seconds to wait (default `ossl-handshake-timeout').
 :callback  do not wait: return at once and call this function with
            the connection once open, or with the error (a list
            (ERROR-SYMBOL MESSAGE)) when the handshake failed."
  (let* ((proc (or (ossl--resolve process)
                   (signal 'wrong-type-argument (list 'processp process))))
         (serverp (plist-get keys :server))
         (verify (if (plist-member keys :verify) (plist-get keys :verify)
                   ossl-verify-peer))
         (verify-function (plist-get keys :verify-function))
         (timeout (or (plist-get keys :timeout) ossl-handshake-timeout))
         (callback (plist-get keys :callback))
         (alpn (plist-get keys :alpn))
         (session (plist-get keys :session))
         (hostname (if (plist-member keys :hostname) (plist-get keys :hostname)
                     (and (not serverp) (ossl--default-hostname proc)))))
    (unless (memq (process-status proc) '(open run connect))
      (signal 'ossl-closed-error
              (list (format "Process %s is not running" (process-name proc))
                    proc)))
    (when (process-get proc 'ossl--conn)
      (signal 'ossl-error (list "Process is already coated with TLS" proc)))
    (setq hostname (ossl--check-hostname hostname))
    (unless (numberp timeout)
      (signal 'wrong-type-argument (list 'numberp timeout)))
    (unless (or (null callback) (functionp callback))
      (signal 'wrong-type-argument (list 'functionp callback)))
    (unless (or (null session) (stringp session))
      (signal 'wrong-type-argument (list 'stringp session)))
    (when (and (not serverp) verify (null hostname) (null verify-function))
      (signal 'ossl-error
              (list "No host name to verify: give :hostname, or :verify nil"
                    proc)))
    (let* ((ctx (or (plist-get keys :context) (ossl--context serverp keys)))
           (mode (if serverp
                     (pcase (plist-get keys :verify-client)
                       ('nil 0) ('request 1) ('require 2)
                       (v (signal 'wrong-type-argument (list 'symbolp v))))
                   (if (and verify (null verify-function)) 2 0)))
           (h (ossl--conn-new ctx hostname mode)))
      (when alpn (ossl--conn-alpn h (ossl--alpn-wire alpn)))
      (when session (ossl--set-session h session))
      (let ((conn (ossl--coat proc h
                              :serverp serverp :hostname hostname
                              :verify verify :verify-function verify-function
                              :plain-on-failure (plist-get keys :plain-on-failure)
                              :sni-function (and serverp
                                                 (plist-get keys :sni-function))
                              :callback callback)))
        (when callback
          (setf (ossl-ssl-conn-timer conn)
                (run-at-time timeout nil #'ossl--time-out conn timeout)))
        (condition-case err
            (if (eq (process-status proc) 'connect)
                (ossl--start-when-connected conn)
              ;; A client speaks first.
              (ossl--input conn ""))
          (ossl-closed-error
           (ossl--abort conn 'ossl-handshake-error
                        (format "TLS handshake with %s failed: %s"
                                (ossl--describe-peer proc hostname)
                                (cadr err)))))
        (if callback conn (ossl--wait conn timeout))))))

(defun ossl--start-when-connected (conn)
  "Start CONN's handshake once its process has finished connecting."
  (let ((proc (ossl-ssl-conn-process conn))
        (timer nil))
    (setq timer
          (run-at-time
           0.01 0.01
           (lambda ()
             (pcase (process-status proc)
               ('connect nil)
               ('open (cancel-timer timer)
                      (when (eq (ossl--conn-phase conn) 'handshaking)
                        (ossl--input conn "")))
               (_ (cancel-timer timer)
                  (ossl--abort conn 'ossl-handshake-error
                               (format "Connecting to %s failed: %s"
                                       (ossl--describe-peer
                                        proc (ossl-ssl-conn-hostname conn))
                                       (string-trim
                                        (format "%s" (process-status proc))))))))))))

(defun ossl-ssl-handshake (process &optional method ca cert key serverp)
  "Perform a TLS handshake on PROCESS; return an ssl-conn, or nil on failure.
This is the SXEmacs function; `ossl-starttls' is its keyword form.
METHOD: nil, `tls1', `ssl23' or `tls' for TLS 1.2 or later, `tls1.2'
or `tls1.3' to pin one; `ssl2' and `ssl3' signal an error.
CA is a CA file, a directory or PEM text to trust in addition to the
system store.  CERT and KEY are the local certificate and key files.
SERVERP non-nil performs the server side (CERT is then mandatory).
Unlike SXEmacs, a client verifies the server's certificate and name
unless `ossl-verify-peer' is nil.  When the handshake fails PROCESS
is deleted, so that nothing goes out in clear, and the reason is in
`ossl-ssl-last-error' and in *Messages*; to go on in clear after a
failure, use `ossl-starttls' with :plain-on-failure."
  (condition-case err
      (ossl-starttls process :method method :ca ca :cert cert :key key
                     :server serverp)
    (ossl-handshake-error
     (setq ossl-ssl-last-error (cadr err))
     (message "ossl: %s" ossl-ssl-last-error)
     nil)))

;;;; The SXEmacs API on connections

(defun ossl-ssl-finish (ssl-conn)
  "Finish the TLS layer SSL-CONN: send close_notify, go back to plain I/O.
Wait up to `ossl-finish-timeout' seconds for the peer's close_notify,
so that a protocol can go on in clear afterwards; the process itself
stays open (the peer may close it).  Return SSL-CONN, now dead."
  (let* ((h (ossl--check-conn ssl-conn))
         (proc (ossl-ssl-conn-process ssl-conn)))
    (when (and (memq (ossl--conn-phase ssl-conn) '(open closing))
               (process-live-p proc))
      (if (ossl--relayed-p ssl-conn)
          (ossl--relay-shutdown (ossl-ssl-conn-relay ssl-conn))
        (ossl--shutdown h)
        (ossl--flush ssl-conn))
      (let ((deadline (+ (float-time) ossl-finish-timeout)))
        (while (and (not (ossl--peer-closed-p h))
                    (eq (ossl--state h) 'closing)
                    (process-live-p proc)
                    (< (float-time) deadline))
          (accept-process-output proc 0.05))))
    ;; The socket back in place, the rest goes as on the Lisp path.
    (when (ossl--relayed-p ssl-conn)
      (ossl-socket--unrelay ssl-conn))
    (let ((carry (ossl-ssl-conn-carry ssl-conn))
          (leftover (ossl--leftover h)))
      (when carry (ossl--deliver ssl-conn "" t))
      (ossl--uncoat ssl-conn)
      (ossl--release h)
      (setf (ossl-ssl-conn-dead ssl-conn) t)
      ;; What followed the peer's close_notify is plain text.
      (when (and leftover (functionp (ossl-ssl-conn-filter ssl-conn)))
        (funcall (ossl-ssl-conn-filter ssl-conn) proc
                 (decode-coding-string
                  leftover (or (car (ossl-ssl-conn-coding ssl-conn)) 'binary)))))
    ssl-conn))

(defun ossl-ssl-proselytise-process (ssl-conn)
  "Route the I/O of SSL-CONN's process through TLS again.
Its filter sees cleartext and `process-send-string' encrypts."
  (ossl--check-conn ssl-conn)
  (unless (ossl-ssl-conn-linked ssl-conn)
    (setf (ossl-ssl-conn-filter ssl-conn)
          (funcall (ossl--orig 'process-filter)
                   (ossl-ssl-conn-process ssl-conn)))
    (ossl--link ssl-conn))
  ssl-conn)

(defun ossl-ssl-unproselytise-process (ssl-conn)
  "Unlink SSL-CONN from its process: the process's filter sees raw TLS records.
Use `ossl-ssl-read' and `ossl-ssl-write' to talk through the layer."
  (ossl--check-conn ssl-conn)
  (when (ossl--relayed-p ssl-conn)
    (ossl-socket--unrelay ssl-conn))
  (when (ossl-ssl-conn-linked ssl-conn)
    (ossl--unlink ssl-conn))
  ssl-conn)

(defun ossl-ssl-read (ssl-conn string)
  "Return the cleartext of STRING, a block of TLS records from SSL-CONN's peer."
  (let ((h (ossl--check-conn ssl-conn)))
    (unless (stringp string)
      (signal 'wrong-type-argument (list 'stringp string)))
    (when (ossl--relayed-p ssl-conn)
      (ossl-socket--unrelay ssl-conn))
    (let ((clear (ossl--input ssl-conn (if (multibyte-string-p string)
                                           (encode-coding-string string 'raw-text)
                                         string))))
      (when (eq (ossl--state h) 'failed)
        (signal 'ossl-protocol-error (list (ossl--reason h))))
      (ossl--decode ssl-conn clear))))

(defun ossl-ssl-write (ssl-conn string)
  "Send STRING encrypted through SSL-CONN, to its process."
  (ossl--check-conn ssl-conn)
  (unless (stringp string)
    (signal 'wrong-type-argument (list 'stringp string)))
  (ossl--send ssl-conn string))

(defun ossl-ssl-parent (ssl-conn)
  "Return the process underneath SSL-CONN."
  (unless (ossl-ssl-conn-p ssl-conn)
    (signal 'wrong-type-argument (list 'ossl-ssl-conn-p ssl-conn)))
  (ossl-ssl-conn-process ssl-conn))

(defun ossl-ssl-cipher-version (ssl-conn)
  "Return the protocol SSL-CONN negotiated, as a symbol like `TLSv1.3'."
  (let ((p (ossl--protocol (ossl--check-conn ssl-conn))))
    (and p (intern p))))

(defun ossl-ssl-cipher-name (ssl-conn)
  "Return the name of the cipher protecting SSL-CONN."
  (nth 0 (ossl--cipher (ossl--check-conn ssl-conn))))

(defun ossl-ssl-cipher-bits (ssl-conn)
  "Return the number of secret bits of the cipher protecting SSL-CONN."
  (nth 1 (ossl--cipher (ossl--check-conn ssl-conn))))

(defun ossl-ssl-cipher-description (ssl-conn)
  "Return a one-line description of the cipher protecting SSL-CONN."
  (nth 2 (ossl--cipher (ossl--check-conn ssl-conn))))

(defun ossl-ssl-cipher-names (ssl-conn)
  "Return the names of the ciphers SSL-CONN may use, in preference order."
  (ossl--cipher-names (ossl--check-conn ssl-conn)))

(defun ossl-ssl-verify-certificate (ssl-conn)
  "Return the outcome of verifying SSL-CONN's peer as (CODE . STRING).
0 means the chain verified, for instance (0 . \"ok\"); a peer without
a certificate is not ok."
  (ossl--verify-result (ossl--check-conn ssl-conn)))

(defun ossl-ssl-state (ssl-conn)
  "Return SSL-CONN's state: `handshaking', `open', `closing', `closed' or `failed'."
  (unless (ossl-ssl-conn-p ssl-conn)
    (signal 'wrong-type-argument (list 'ossl-ssl-conn-p ssl-conn)))
  (ossl--conn-phase ssl-conn))

(defun ossl-ssl-error (ssl-conn)
  "Return why SSL-CONN failed, as a string, or nil."
  (unless (ossl-ssl-conn-p ssl-conn)
    (signal 'wrong-type-argument (list 'ossl-ssl-conn-p ssl-conn)))
  (cadr (ossl-ssl-conn-error ssl-conn)))

(defun ossl-process-conn (process)
  "Return the TLS connection coating PROCESS, or nil."
  (ossl--conn-of process))

(defun ossl--truncated-p (conn)
  "Non-nil if CONN's transport ended without the peer's close_notify."
  (and (not (ossl--peer-closed-p (ossl-ssl-conn-handle conn)))
       (memq (ossl--conn-phase conn) '(open closing))
       (not (process-live-p (ossl-ssl-conn-process conn)))))

(defun ossl-ssl-status (ssl-conn)
  "Return a plist describing SSL-CONN.
Keys: :state (see `ossl-ssl-state'), :protocol, :cipher,
:cipher-bits, :group (the key exchange group), :signature-algorithm
\(the peer's handshake signature), :server-name (SNI), :alpn,
:session-reused, :secure-renegotiation, :peer-tmp-key-bits (the size
of the peer's ephemeral key), :verify-result (CODE . STRING),
:verify-failure (CODE DEPTH CERT STRING) of the first failure or nil,
:verify-failures (all of them, up to 8),
:peer-certificates (leaf first), :hostname (the name verified) and
:truncated (the transport ended without the peer's close_notify)."
  (unless (ossl-ssl-conn-p ssl-conn)
    (signal 'wrong-type-argument (list 'ossl-ssl-conn-p ssl-conn)))
  (if (ossl-ssl-conn-dead ssl-conn)
      (list :state 'closed)
    (let* ((h (ossl-ssl-conn-handle ssl-conn))
           (failures (mapcar (lambda (f)
                               (list (nth 0 f) (nth 1 f)
                                     (and (nth 2 f) (ossl--x509-wrap (nth 2 f)))
                                     (nth 3 f)))
                             (ossl--verify-failures h))))
      (append
       (list :state (ossl--conn-phase ssl-conn))
       (ossl--conn-info h)
       (list :verify-result (ossl--verify-result h)
             :verify-failure (car failures)
             :verify-failures failures
             :peer-certificates (ossl-ssl-peer-cert-chain ssl-conn)
             :hostname (ossl-ssl-conn-hostname ssl-conn)
             :truncated (and (ossl--truncated-p ssl-conn) t))))))

(defun ossl-ssl-session (ssl-conn)
  "Return SSL-CONN's session as a unibyte string, or nil if it cannot resume.
Save it anywhere; give it as :session to `ossl-starttls' to resume.
It carries the host name and the peer's chain it was verified with:
it resumes only for the same host name, if the peer was verified and
the new connection's trust accepts that chain again; otherwise a full
handshake with full verification takes place.
With TLS 1.3 the server sends tickets after the handshake: the session
is there once some data was read.  It holds secrets: keep it private."
  (ossl--session (ossl--check-conn ssl-conn)))

(defun ossl-ssl-inject-ca (ssl-conn ca)
  "Trust CA on SSL-CONN, also after the handshake; return t.
CA is a file, a hashed directory, PEM text, a certificate object or a
list of these.  After the handshake the peer's chain is verified
again and `ossl-ssl-verify-certificate' gives the new outcome: this
verifies the peer's identity with hindsight.  Other connections are
not affected."
  (let ((h (ossl--check-conn ssl-conn)))
    (dolist (src (ossl--ca-sources ca))
      (ossl--conn-inject-ca h (car src) (cdr src)))
    t))

(defun ossl-ssl-inject-cert (ssl-conn cert &optional key)
  "Use CERT and KEY as SSL-CONN's own certificate, before its handshake.
CERT is a certificate file (PEM, with the chain after the leaf), PEM
text or a certificate object; KEY a key file or PEM text, by default
CERT's file.  Return t; signal when the key does not match."
  (let ((h (ossl--check-conn ssl-conn))
        (src (if (ossl-x509-p cert) (cons 'pem (ossl-x509-to-pem cert))
               (ossl--key-source cert 'cert))))
    (unless (or key (eq (car src) 'file))
      (signal 'ossl-key-error (list "No key given for the certificate")))
    (ossl--conn-use-cert h (car src) (cdr src))
    (let ((ksrc (if key (ossl--key-source key 'key) src)))
      (ossl--conn-use-key h (car ksrc) (cdr ksrc) nil))
    t))

;;;; Opening streams and servers

(defun ossl--plist-without (plist &rest keys)
  "PLIST without KEYS."
  (let (out)
    (while plist
      (unless (memq (car plist) keys)
        (setq out (cons (cadr plist) (cons (car plist) out))))
      (setq plist (cddr plist)))
    (nreverse out)))

(defun ossl-open-stream (name buffer host service &rest keys)
  "Open a TLS connection to HOST on SERVICE; return its process.
NAME and BUFFER are as for `make-network-process'.  KEYS are those
of `ossl-starttls' (the name verified defaults to HOST), plus
:nowait: when non-nil neither the connection nor the handshake
blocks; data sent meanwhile is queued and sent encrypted once the
handshake is over, and a failed handshake deletes the process (its
sentinel sees it) after calling :callback with the error, if any."
  (let* ((nowait (plist-get keys :nowait))
         (proc (make-network-process :name name :buffer buffer
                                     :host (ossl--check-host host)
                                     :service service :nowait nowait))
         (callback (plist-get keys :callback))
         (keys (ossl--plist-without keys :nowait :callback))
         (keys (if (plist-member keys :hostname) keys
                 (append (list :hostname host) keys))))
    (condition-case err
        (if (not (or nowait callback))
            (apply #'ossl-starttls proc keys)
          (apply #'ossl-starttls proc
                 :callback (lambda (result)
                             (when callback (funcall callback result))
                             (unless (ossl-ssl-conn-p result)
                               (message "ossl: %s" (cadr result))
                               (delete-process proc)))
                 keys))
      (error (delete-process proc)
             (signal (car err) (cdr err))))
    proc))

(defun ossl-open-server (name buffer host service &rest keys)
  "Listen on HOST and SERVICE for TLS clients; return the server process.
NAME and BUFFER are as for `make-network-process' (with :server t).
Every connection is coated as a TLS server without blocking Emacs,
then handed to the function :acceptor, if any, as a coated process.
KEYS are those of `ossl-starttls' for the server side: :cert and :key
\(mandatory), :password, :verify-client, :client-ca, :alpn, :sni,
:method, :timeout...  One TLS context serves every connection.  A
client whose handshake fails or stalls is disconnected; the server
goes on.  :filter and :sentinel are given to each connection."
  (let* ((ctx (ossl--context t (ossl--plist-without keys :acceptor :filter
                                                     :sentinel))))
    (make-network-process
     :name name :buffer buffer :host (ossl--check-host host) :service service
     :server 256                        ; the queue: bursts of clients
     :noquery t
     :filter (plist-get keys :filter) :sentinel (plist-get keys :sentinel)
     :log (ossl--server-log name ctx (plist-get keys :acceptor)
                            (ossl--plist-without
                             keys :acceptor :filter :sentinel
                             ;; In the context already: the key and its
                             ;; password are not kept reachable.
                             :cert :key :password :ca :client-ca :sni
                             :ciphers :ciphersuites :method :min-version
                             :max-version)))))

(defun ossl--server-log (name ctx acceptor conn-keys)
  "The :log function of the server NAME: coat each client with CTX.
ACCEPTOR gets each client once its handshake is done; CONN-KEYS are
the keys of `ossl-starttls' that are not in CTX."
  (lambda (_server client _message)
    (condition-case err
        (apply #'ossl-starttls client :server t :context ctx
               :callback
               (lambda (result)
                 (if (ossl-ssl-conn-p result)
                     (when acceptor (funcall acceptor client))
                   (message "ossl: %s: %s" name (cadr result))
                   (delete-process client)))
               conn-keys)
      (error (message "ossl: %s: %s" name (error-message-string err))
             (delete-process client)))))

(provide 'ossl)

(require 'ossl-x509)
(require 'ossl-crypto)
(require 'ossl-pkey)
(require 'ossl-socket)

;;; ossl.el ends here
