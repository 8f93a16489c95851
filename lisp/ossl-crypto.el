;;; ossl-crypto.el --- Digests, MACs, KDFs and ciphers for ossl  -*- lexical-binding: t; -*-

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

;; The SXEmacs OpenSSL crypto API (issue 16): digests, HMAC, random
;; bytes, key derivation and symmetric ciphers.  Public keys,
;; signatures, envelopes and PEM are in ossl-pkey.el.
;;
;; Conventions shared by both files:
;; - Algorithms are symbols or strings, case-insensitive; see
;;   `ossl--crypto-name'.
;; - Data arguments are unibyte strings (bytes), multibyte strings
;;   (encoded as UTF-8) or buffers (their contents); see
;;   `ossl--crypto-bytes'.  Results are unibyte strings.
;; - Failures signal `ossl-crypto-error' (a child of `ossl-error');
;;   wrong types signal `wrong-type-argument'.
;;
;; This file is loaded by ossl.el once the module is in.

;;; Code:

(require 'cl-lib)
(require 'ossl-core)

(declare-function ossl--crypto-version "ossl-module" ())
(declare-function ossl--crypto-names "ossl-module" (ciphers))
(declare-function ossl--digest-info "ossl-module" (name))
(declare-function ossl--cipher-info "ossl-module" (name))
(declare-function ossl--rand-bytes "ossl-module" (n))
(declare-function ossl--digest "ossl-module" (name data))
(declare-function ossl--digest-file "ossl-module" (name file))
(declare-function ossl--hmac "ossl-module" (name data key))
(declare-function ossl--bytes-to-key "ossl-module"
                  (cipher digest salt password count))
(declare-function ossl--pbkdf2 "ossl-module"
                  (digest password salt iterations length))
(declare-function ossl--hkdf "ossl-module" (digest key salt info length))
(declare-function ossl--scrypt "ossl-module" (password salt n r p length))
(declare-function ossl--crypt "ossl-module"
                  (cipher encrypt data key iv aad))

(define-error 'ossl-crypto-error "Cryptographic operation failed" 'ossl-error)

;;;; Conventions shared with ossl-pkey.el

(defun ossl--crypto-name (name)
  "Return the algorithm NAME (a symbol or string) as a string.
Signal `wrong-type-argument' for anything else, and for nil."
  (cond ((and (symbolp name) name) (symbol-name name))
        ((and (stringp name) (not (string= name ""))) name)
        (t (signal 'wrong-type-argument (list 'ossl-algorithm-p name)))))

(defun ossl--crypto-bytes (data)
  "Return DATA as a unibyte string of bytes.
A unibyte string is taken as bytes, a multibyte string is encoded as
UTF-8, a live buffer gives its contents (encoded likewise).  Anything
else signals `wrong-type-argument'."
  (cond ((stringp data)
         (if (multibyte-string-p data) (encode-coding-string data 'utf-8-unix) data))
        ((buffer-live-p data)
         (with-current-buffer data
           (ossl--crypto-bytes
            (buffer-substring-no-properties (point-min) (point-max)))))
        (t (signal 'wrong-type-argument (list 'ossl-data-p data)))))

(defun ossl--crypto-bytes-or-nil (data)
  "Return nil for nil, else DATA as bytes (see `ossl--crypto-bytes')."
  (and data (ossl--crypto-bytes data)))

(defconst ossl--crypto-name-max 64
  "No algorithm name is longer: longer ones have no near names.")

(defun ossl--crypto-near (name candidates)
  "Those of CANDIDATES (strings) that look like NAME, closest first.
At most five: names within a few edits of NAME, names that begin
with it first.  None for a NAME longer than `ossl--crypto-name-max'
\(Emacs 28's `string-distance' overflows its stack on a long first
argument)."
  (let* ((n (downcase name))
         (limit (max 2 (/ (length n) 3)))
         (scored nil))
    (dolist (c (and (<= (length n) ossl--crypto-name-max)
                    (delete-dups (mapcar #'downcase candidates))))
      (let ((d (if (string-prefix-p n c) 1 (string-distance n c))))
        (when (<= d limit)
          (push (cons d c) scored))))
    (setq scored (sort scored (lambda (a b) (< (car a) (car b)))))
    ;; `cl-loop', a macro: `cl-subseq' would load cl-extra (and bytecomp).
    (cl-loop for x in scored repeat 5 collect (cdr x))))

(defun ossl--crypto-unknown (kind name candidates)
  "Signal `ossl-crypto-error': NAME is no KIND (\"digest\", \"cipher\"...).
CANDIDATES are the names there are; the message lists those near NAME."
  (let ((near (ossl--crypto-near name candidates)))
    (signal 'ossl-crypto-error
            (list (format "Unknown %s %s%s" kind
                          (if (> (length name) ossl--crypto-name-max)
                              (concat (substring name 0 ossl--crypto-name-max) "...")
                            name)
                          (if near
                              (concat "; did you mean "
                                      (mapconcat #'identity near ", ") "?")
                            (format "; see `ossl-available-%ss'" kind)))))))

(defvar ossl--crypto-known (make-hash-table :test #'equal)
  "Algorithms looked up: (KIND . DOWNCASED-NAME) -> what the module said.")

(defun ossl--crypto-lookup (kind name)
  "Facts about algorithm NAME (a symbol or string) of KIND, cached.
KIND is `digest' or `cipher'.  Return (NAME-STRING . INFO): NAME as
a string, spelled as given (messages use it), and INFO as
`ossl--digest-info' or `ossl--cipher-info' give it.  Signal
`ossl-crypto-error' listing near names when there is no such algorithm."
  (let* ((s (ossl--crypto-name name))
         (key (cons kind (downcase s))))
    (cons s (or (gethash key ossl--crypto-known)
                (let ((info (if (eq kind 'digest) (ossl--digest-info s)
                              (ossl--cipher-info s))))
                  (unless info
                    (ossl--crypto-unknown (symbol-name kind) s
                                          (ossl--crypto-names (eq kind 'cipher))))
                  (puthash key info ossl--crypto-known))))))

(defun ossl--crypto-digest (digest)
  "DIGEST (a symbol or string) as the name of a digest OpenSSL has.
Signal `ossl-crypto-error' listing near names when there is none.
Names are matched without regard to case."
  (car (ossl--crypto-lookup 'digest digest)))

(defun ossl--crypto-cipher (cipher)
  "CIPHER (a symbol or string) as the name of a cipher OpenSSL has.
Signal `ossl-crypto-error' listing near names when there is none."
  (car (ossl--crypto-lookup 'cipher cipher)))

;;;; General

(defun ossl-version ()
  "Return the version text of the OpenSSL in use.
It is what `openssl version' prints, \"OpenSSL 3.0.17 1 Jul 2025\"."
  (ossl--crypto-version))

(defun ossl--crypto-available (ciphers)
  "The names OpenSSL has for digests, or ciphers if CIPHERS: sorted symbols."
  (mapcar #'intern
          (sort (delete-dups (mapcar #'downcase (ossl--crypto-names ciphers)))
                #'string<)))

(defun ossl-available-digests ()
  "Return the digests the OpenSSL in use provides, a list of symbols.
Every name and alias is there, in lower case: `sha256', `sha2-256',
`sha3-256', `md5'...  Any of them, in any case, may be given where a
digest is asked for."
  (ossl--crypto-available nil))

(defun ossl-available-ciphers ()
  "Return the ciphers the OpenSSL in use provides, a list of symbols.
Every name and alias is there, in lower case: `aes-256-gcm',
`chacha20-poly1305', `aes-128-cbc'...  Any of them, in any case, may
be given where a cipher is asked for."
  (ossl--crypto-available t))

(defun ossl-digest-size (digest)
  "Return the length in bytes of what DIGEST (a symbol or string) outputs."
  (nth 1 (ossl--crypto-lookup 'digest digest)))

(defun ossl-digest-bits (digest)
  "Return the length in bits of what DIGEST (a symbol or string) outputs."
  (* 8 (ossl-digest-size digest)))

(defun ossl-digest-block-size (digest)
  "Return the block size of DIGEST in bytes (what HMAC pads keys to)."
  (nth 2 (ossl--crypto-lookup 'digest digest)))

(defun ossl-cipher-key-length (cipher)
  "Return the key length of CIPHER (a symbol or string) in bytes."
  (nth 1 (ossl--crypto-lookup 'cipher cipher)))

(defun ossl-cipher-bits (cipher)
  "Return the key length of CIPHER (a symbol or string) in bits."
  (* 8 (ossl-cipher-key-length cipher)))

(defun ossl-cipher-iv-length (cipher)
  "Return the IV length of CIPHER in bytes; 0 if it takes no IV."
  (nth 2 (ossl--crypto-lookup 'cipher cipher)))

(defun ossl-cipher-block-size (cipher)
  "Return the block size of CIPHER in bytes; 1 for stream ciphers and modes."
  (nth 3 (ossl--crypto-lookup 'cipher cipher)))

(defun ossl-cipher-mode (cipher)
  "Return the mode of CIPHER, a symbol.
One of `ecb', `cbc', `cfb', `ofb', `ctr', `gcm', `ccm', `ocb', `xts',
`wrap', `siv', `stream' or `other'."
  (nth 4 (ossl--crypto-lookup 'cipher cipher)))

(defun ossl-cipher-aead-p (cipher)
  "Return t if CIPHER authenticates: GCM, CCM, OCB, SIV, ChaCha20-Poly1305.
`ossl-encrypt' appends a 16-byte tag to what such a cipher encrypts,
and `ossl-decrypt' refuses data whose tag does not match."
  (nth 5 (ossl--crypto-lookup 'cipher cipher)))

;;;; Random bytes

(defun ossl-rand-bytes (count)
  "Return COUNT random bytes, a unibyte string.
They come from OpenSSL's random generator, seeded by the system: fit
for keys, IVs, salts and nonces, unlike `random'."
  (ossl--rand-bytes count))

;;;; Digests and MACs

(defun ossl-digest (digest data)
  "Return the digest of DATA computed by DIGEST, a unibyte string.
DIGEST is a symbol or string naming one of `ossl-available-digests'
in any case: \\='sha256, \\='SHA256, \"SHA2-256\".  DATA is a unibyte
string (its bytes), a multibyte string (its UTF-8 encoding) or a
buffer (its contents, likewise).  `encode-hex-string' or
`base64-encode-string' make the result printable."
  (ossl--digest (ossl--crypto-digest digest) (ossl--crypto-bytes data)))

(defun ossl-digest-file (digest file)
  "Return the digest of the contents of FILE computed by DIGEST.
FILE is read in pieces, so it may be of any size; its bytes are
hashed as they are on disk.  DIGEST is as for `ossl-digest'.  A
remote FILE is copied here first.  FILE must be a regular file:
devices and pipes may never end, and the call cannot be interrupted."
  (let* ((name (ossl--crypto-digest digest))
         (file (expand-file-name file))
         (local (file-local-copy file)))
    (unwind-protect
        (let ((f (or local file)))
          (unless (file-exists-p f)
            (signal 'file-missing (list "Opening input file"
                                        "No such file or directory" file)))
          (ossl--digest-file name (encode-coding-string
                                   f (or file-name-coding-system
                                         default-file-name-coding-system))))
      (when local (delete-file local)))))

(defun ossl-hmac (digest data key)
  "Return the HMAC of DATA under KEY with the hash function DIGEST.
The message authentication code is a unibyte string of
`ossl-digest-size' bytes.  DIGEST is as for `ossl-digest'; DATA and
KEY are strings or buffers as there.  An empty KEY is an error."
  (ossl--hmac (ossl--crypto-digest digest) (ossl--crypto-bytes data)
              (ossl--crypto-bytes key)))

;;;; Key derivation

(defun ossl-bytes-to-key (cipher digest salt password count)
  "Derive a key and an IV for CIPHER from PASSWORD: return (KEY . IV).
This is OpenSSL's EVP_BytesToKey, as `openssl enc' without -pbkdf2
uses it: COUNT rounds of DIGEST over PASSWORD and SALT.  SALT is nil
or at most 8 bytes, padded with zeros to 8 as `openssl enc -S' pads
it.  IV is nil for ciphers without one.  The pair may be given as the
KEY of `ossl-encrypt' and `ossl-decrypt'.  For new code
`ossl-pbkdf2', `ossl-scrypt' or `ossl-hkdf' derive keys better."
  (let ((salt (ossl--crypto-bytes-or-nil salt)))
    (when (and salt (> (length salt) 8))
      (signal 'ossl-crypto-error
              (list (format "The salt must be at most 8 bytes, not %d"
                            (length salt)))))
    (ossl--bytes-to-key (ossl--crypto-cipher cipher)
                        (ossl--crypto-digest digest)
                        (and salt (concat salt (make-string (- 8 (length salt)) 0)))
                        (ossl--crypto-bytes password) count)))

(defun ossl-pbkdf2 (digest password salt iterations length)
  "Return LENGTH bytes derived from PASSWORD and SALT by PBKDF2.
This is PKCS #5 PBKDF2 with HMAC over DIGEST and ITERATIONS rounds
\(RFC 8018): what `openssl kdf PBKDF2' and Python's
`hashlib.pbkdf2_hmac' compute.  PASSWORD and SALT are strings or
buffers as for `ossl-digest'."
  (ossl--pbkdf2 (ossl--crypto-digest digest) (ossl--crypto-bytes password)
                (ossl--crypto-bytes salt) iterations length))

(defun ossl-hkdf (digest key salt info length)
  "Return LENGTH bytes derived from the input key KEY by HKDF-DIGEST.
HKDF (RFC 5869) extracts with SALT (nil for none) then expands with
INFO (nil for none).  KEY must not be empty.  LENGTH is at most 255
times `ossl-digest-size' of DIGEST."
  (ossl--hkdf (ossl--crypto-digest digest) (ossl--crypto-bytes key)
              (ossl--crypto-bytes-or-nil salt) (ossl--crypto-bytes-or-nil info)
              length))

(defun ossl-scrypt (password salt n r p length)
  "Return LENGTH bytes derived from PASSWORD and SALT by scrypt.
N (a power of 2), R and P are scrypt's cost parameters (RFC 7914);
N = 2^15, R = 8, P = 1 is a common choice for interactive logins.
The work may use up to 1 GiB of memory (128 * N * R bytes)."
  (ossl--scrypt (ossl--crypto-bytes password) (ossl--crypto-bytes salt)
                n r p length))

;;;; Symmetric ciphers

(defun ossl--crypto-cipher-run (encrypt cipher data key iv aad)
  "Encrypt (ENCRYPT non-nil) or decrypt DATA with CIPHER, KEY, IV, AAD.
See `ossl-encrypt'."
  (let ((name (ossl--crypto-cipher cipher)))
    (when (consp key)
      (setq iv (or iv (cdr key))
            key (car key)))
    (ossl--crypt name encrypt (ossl--crypto-bytes data)
                  (ossl--crypto-bytes key) (ossl--crypto-bytes-or-nil iv)
                  (ossl--crypto-bytes-or-nil aad))))

(defun ossl-encrypt (cipher data key &optional iv aad)
  "Return DATA encrypted by CIPHER under KEY, a unibyte string.
CIPHER is a symbol or string naming one of `ossl-available-ciphers'
in any case.  DATA, KEY, IV and AAD are strings or buffers as for
`ossl-digest'.  KEY must have `ossl-cipher-key-length' bytes and IV
`ossl-cipher-iv-length' (nil when that is 0); anything else is an
error naming the length, never padded or cut.  KEY may also be the
\(KEY . IV) pair of `ossl-bytes-to-key', whose IV is used when IV is
nil.  Block modes (CBC, ECB) pad as OpenSSL does (PKCS #7).

AEAD ciphers (`ossl-cipher-aead-p': GCM, CCM, OCB, ChaCha20-Poly1305)
authenticate DATA and the additional data AAD, which is not
encrypted, and append their 16-byte tag to the result; SIV, which
takes no IV, puts it first as RFC 5297 does.  Never use an
IV twice with the same key: `ossl-rand-bytes' makes fresh ones."
  (ossl--crypto-cipher-run t cipher data key iv aad))

(defun ossl-decrypt (cipher data key &optional iv aad)
  "Return DATA decrypted by CIPHER under KEY, a unibyte string.
The arguments are those of `ossl-encrypt'.  For AEAD ciphers DATA
ends with the 16-byte tag, which must match KEY, IV, AAD and DATA:
when it does not, `ossl-crypto-error' is signalled and no plaintext
is returned.  A wrong key or IV for a block mode usually shows as bad
padding, an `ossl-crypto-error' too; other modes cannot tell."
  (ossl--crypto-cipher-run nil cipher data key iv aad))

(provide 'ossl-crypto)

;;; ossl-crypto.el ends here
