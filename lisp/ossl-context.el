;;; ossl-context.el --- TLS context policy for ossl  -*- lexical-binding: t; -*-

;; Copyright (C) 2026 The ossl developers

;; Author: The ossl developers

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

;; The policy of a TLS context, made once and shared by connections:
;; protocol versions, ciphers, trusted CAs (the system store unless
;; disabled), the local certificate and key, SNI certificates, ALPN.
;; `ossl--context' turns the keywords of `ossl-starttls' into a
;; module context, cached by its arguments.

;;; Code:

(require 'cl-lib)
(require 'ossl-core)
(require 'ossl-x509)

(declare-function ossl--ctx-new "ossl-module" (serverp))
(declare-function ossl--ctx-versions "ossl-module" (ctx min max))
(declare-function ossl--ctx-ciphers "ossl-module" (ctx ciphers suites))
(declare-function ossl--ctx-add-ca "ossl-module" (ctx kind value))
(declare-function ossl--ctx-add-ca-x509 "ossl-module" (ctx cert))
(declare-function ossl--ctx-use-cert "ossl-module" (ctx kind value))
(declare-function ossl--ctx-use-key "ossl-module" (ctx kind value password))
(declare-function ossl--ctx-add-sni "ossl-module" (ctx name sni-ctx))
(declare-function ossl--ctx-pause-for-sni "ossl-module" (ctx))

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
        ((ossl-x509-p ca) (list (cons 'x509 (ossl--x509-obj-handle ca))))
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
           ;; Not `cl-some': see `ossl--sni-password-p'.
           (catch 'raw
             (mapc (lambda (c) (when (>= c #x3fff80) (throw 'raw t))) x)
             nil))))

(defun ossl--refuse-secret (predicate value)
  "Signal `wrong-type-argument' for VALUE, which may hold key material.
The error data names PREDICATE and the type of VALUE, never VALUE:
a key, a password or an :sni entry with them must not reach error
data, where messages and backtraces would show it."
  (signal 'wrong-type-argument (list predicate (type-of value))))

(defun ossl--key-source (x what)
  "The (KIND . VALUE) of key material X (file name or data), for WHAT.
WHAT is `key' or `cert'.  Data goes to OpenSSL as it is, which reads
PEM and DER.  The error for a missing key file names it only when it
is an absolute file name: a relative one may be key data, and key
data never goes into error data."
  (cond ((not (stringp x)) (ossl--refuse-secret 'stringp x))
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
  ;; No `cl-some': it lives in cl-extra, not loaded with cl-lib, and
  ;; loading cl-extra (and seq, which it requires) defines generic
  ;; methods, whose dispatchers Emacs 28 byte-compiles: the first
  ;; coating would load the byte compiler, a bigger live heap that
  ;; slows every later GC.  Nor `cl-find-if' (cl-seq).
  (let ((found nil))
    (while (and sni (not found))
      (let ((entry (pop sni)))
        (setq found (and (consp entry)
                         (plist-get (cdr entry) :password)))))
    found))

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
    (unless (or (null password) (stringp password) (functionp password))
      (ossl--refuse-secret 'stringp password))
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
              (ossl--refuse-secret 'consp entry))
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

(provide 'ossl-context)

;;; ossl-context.el ends here
