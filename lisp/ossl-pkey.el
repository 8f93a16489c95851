;;; ossl-pkey.el --- Public keys, signatures, envelopes and PEM for ossl  -*- lexical-binding: t; -*-

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

;; The SXEmacs OpenSSL public-key API (issue 16): key objects, key
;; generation, signatures, key agreement, envelopes, PEM and DER.
;; Shares the conventions of ossl-crypto.el.
;;
;; A key is an `ossl-pkey' object around a module handle: the key
;; material stays in OpenSSL's memory, which is wiped when the handle
;; is garbage-collected, and the object prints (with `cl-prin1', in
;; IELM and backtraces) as SXEmacs printed it, never with a secret:
;;
;;   #<OpenSSL EC public key, size 256>
;;   #<OpenSSL RSA private/public key, size 2048>
;;
;; `prin1' (M-:, `format' with %S) shows the record instead:
;; #s(ossl-pkey "OpenSSL EC public key, size 256" #<user-ptr ...>).
;;
;; This file is loaded by ossl.el once the module is in.

;;; Code:

(require 'cl-lib)
(require 'ossl-crypto)
(require 'ossl-x509)

(declare-function ossl--pkey-info "ossl-module" (h))
(declare-function ossl--pkey-generate "ossl-module" (type bits exponent curve))
(declare-function ossl--pkey-curves "ossl-module" ())
(declare-function ossl--pkey-public "ossl-module" (h))
(declare-function ossl--pkey-same-public "ossl-module" (a b))
(declare-function ossl--pkey-sign "ossl-module" (h digest data padding))
(declare-function ossl--pkey-verify "ossl-module" (h digest data sig padding))
(declare-function ossl--pkey-derive "ossl-module" (h peer))
(declare-function ossl--pkey-seal "ossl-module" (cipher data keys))
(declare-function ossl--pkey-open "ossl-module" (cipher ciphertext h ek iv))
(declare-function ossl--pkey-read "ossl-module" (kind value public-only password))
(declare-function ossl--pkey-encode "ossl-module" (h private pem cipher password))
(declare-function ossl--pkey-write-file "ossl-module" (file h private cipher password))
(declare-function ossl--x509-get-pubkey "ossl-module" (x))
(declare-function ossl--x509-signed-by "ossl-module" (x k))

;;;; Key objects

(cl-defstruct (ossl-pkey
               (:constructor ossl--pkey-make (description handle))
               (:copier nil)
               (:predicate ossl-pkey-p)
               (:conc-name ossl--pkey-))
  "A public key, or a key pair: RSA, EC, Ed25519, X25519, DSA, DH...
DESCRIPTION is what it prints as; HANDLE is the module's key, whose
material OpenSSL wipes when the object is garbage-collected."
  description handle)

(defun ossl--pkey-wrap (handle)
  "A key object for the module's key HANDLE."
  (pcase-let ((`(,type ,bits ,private) (ossl--pkey-info handle)))
    (ossl--pkey-make (format "OpenSSL %s %s key, size %d" type
                             (if private "private/public" "public") bits)
                     handle)))

;; Defined once cl-print is loaded: see ossl-core.el.
(with-eval-after-load 'cl-print
  (cl-defmethod cl-print-object ((key ossl-pkey) stream)
    "Print KEY on STREAM as SXEmacs did: type, public or private, size."
    (princ (format "#<%s>" (ossl--pkey-description key)) stream)))

(defun ossl--pkey (key)
  "The module handle of KEY; signal unless KEY is a key object."
  (unless (ossl-pkey-p key)
    (signal 'wrong-type-argument (list 'ossl-pkey-p key)))
  (ossl--pkey-handle key))

(defun ossl--pkey-info-of (key)
  "(TYPE BITS PRIVATE-P) of KEY, TYPE a lower-case symbol."
  (pcase-let ((`(,type ,bits ,private) (ossl--pkey-info (ossl--pkey key))))
    (list (intern (downcase type)) bits private)))

(defun ossl-pkey-size (pkey)
  "Return the size of PKEY in bits.
The modulus for RSA and DSA, the order of the curve for EC keys (256
for P-256), 256 for Ed25519 and 253 for X25519."
  (nth 1 (ossl--pkey-info-of pkey)))

(defun ossl-pkey-type (pkey)
  "Return the type of PKEY, a symbol.
One of `rsa', `rsa-pss', `ec', `ed25519', `x25519', `ed448', `x448',
`dsa', `dh', `dhx', or another lower-case OpenSSL key type name."
  (car (ossl--pkey-info-of pkey)))

(defun ossl-pkey-private-p (pkey)
  "Return t if PKEY is a key object holding its private half, else nil."
  (and (ossl-pkey-p pkey) (nth 2 (ossl--pkey-info-of pkey)) t))

(defun ossl-pkey-get-public (pkey)
  "Return a new key object holding only the public half of PKEY."
  (ossl--pkey-wrap (ossl--pkey-public (ossl--pkey pkey))))

(defun ossl--pkey-type-p (object &rest types)
  "Non-nil if OBJECT is a key object of one of TYPES (symbols)."
  (and (ossl-pkey-p object) (memq (ossl-pkey-type object) types) t))

(defun ossl-rsa-pkey-p (object)
  "Return t if OBJECT is an RSA key (RSA-PSS keys included), else nil."
  (ossl--pkey-type-p object 'rsa 'rsa-pss))

(defun ossl-dsa-pkey-p (object)
  "Return t if OBJECT is a DSA key, else nil."
  (ossl--pkey-type-p object 'dsa))

(defun ossl-ec-pkey-p (object)
  "Return t if OBJECT is an elliptic-curve (EC) key, else nil.
Ed25519 and X25519 keys are not EC keys in OpenSSL's sense."
  (ossl--pkey-type-p object 'ec))

(defun ossl-dh-pkey-p (object)
  "Return t if OBJECT is a Diffie-Hellman key, else nil."
  (ossl--pkey-type-p object 'dh 'dhx))

(defun ossl-pkey-subkey-p (pkey1 pkey2)
  "Return t if PKEY1 is a subkey of PKEY2, else nil.
That is: PKEY1 has the same public key as PKEY2, and PKEY2 holds
its private half."
  (and (ossl--pkey-same-public (ossl--pkey pkey1) (ossl--pkey pkey2))
       (ossl-pkey-private-p pkey2)))

(defun ossl--pkey-subkey-of-type (predicate pkey1 pkey2)
  "`ossl-pkey-subkey-p' for PKEY1 and PKEY2, which must satisfy PREDICATE."
  (dolist (k (list pkey1 pkey2))
    (unless (funcall predicate k)
      (signal 'wrong-type-argument (list predicate k))))
  (ossl-pkey-subkey-p pkey1 pkey2))

(defun ossl-rsa-subkey-p (pkey1 pkey2)
  "Return t if the RSA key PKEY1 is a subkey of the RSA key PKEY2.
See `ossl-pkey-subkey-p'."
  (ossl--pkey-subkey-of-type #'ossl-rsa-pkey-p pkey1 pkey2))

(defun ossl-dsa-subkey-p (pkey1 pkey2)
  "Return t if the DSA key PKEY1 is a subkey of the DSA key PKEY2.
See `ossl-pkey-subkey-p'."
  (ossl--pkey-subkey-of-type #'ossl-dsa-pkey-p pkey1 pkey2))

(defun ossl--pkey-need-private (key what)
  "Signal `ossl-crypto-error' for WHAT unless KEY has a private half."
  (unless (ossl-pkey-private-p (progn (ossl--pkey key) key))
    (signal 'ossl-crypto-error
            (list (format "cannot %s, key has no private key data: %s"
                          what (cl-prin1-to-string key))))))

;;;; Generating keys

(defun ossl--pkey-new (type &optional bits exponent curve)
  "A new key of TYPE (a string) with BITS, EXPONENT or CURVE."
  (ossl--pkey-wrap (ossl--pkey-generate type bits exponent curve)))

(defun ossl--pkey-check-bits (bits min max)
  "Signal unless BITS is an integer from MIN to MAX."
  (unless (integerp bits)
    (signal 'wrong-type-argument (list 'integerp bits)))
  (unless (<= min bits max)
    (signal 'args-out-of-range (list bits min max))))

(defun ossl-rsa-generate-key (bits &optional exponent)
  "Return a new RSA key pair of BITS bits with public EXPONENT.
EXPONENT defaults to 65537 and must be odd.  BITS from 1024 to
16384; 2048 or more for keys meant to last."
  (ossl--pkey-check-bits bits 1024 16384)
  (let ((e (or exponent 65537)))
    (unless (integerp e)
      (signal 'wrong-type-argument (list 'integerp e)))
    (unless (and (> e 1) (< e #x7fffffff) (cl-oddp e))
      (signal 'args-out-of-range (list e)))
    (ossl--pkey-new "RSA" bits e)))

(defun ossl-available-curves ()
  "Return the named elliptic curves OpenSSL has, a list of symbols."
  (mapcar #'intern (ossl--pkey-curves)))

(defalias 'ossl-ec-available-curves #'ossl-available-curves
  "Return the named elliptic curves OpenSSL has (the SXEmacs name).")

(defconst ossl--pkey-nist-curves '("P-192" "P-224" "P-256" "P-384" "P-521")
  "The NIST names of curves OpenSSL also knows by another name.")

(defun ossl-ec-generate-key (&optional curve)
  "Return a new elliptic-curve key pair on CURVE (default P-256).
CURVE is a symbol or string from `ossl-available-curves', such as
`prime256v1', `secp384r1' or `secp256k1', or a NIST name `P-256',
`P-384', `P-521'; case does not matter."
  (let* ((name (ossl--crypto-name (or curve 'prime256v1)))
         (known (append ossl--pkey-nist-curves (ossl--pkey-curves))))
    (unless (member-ignore-case name known)
      (ossl--crypto-unknown "curve" name known))
    (ossl--pkey-new "EC" nil nil (car (member-ignore-case name known)))))

(defun ossl-ed25519-generate-key ()
  "Return a new Ed25519 key pair, for signatures."
  (ossl--pkey-new "ED25519"))

(defun ossl-x25519-generate-key ()
  "Return a new X25519 key pair, for key agreement with `ossl-derive'."
  (ossl--pkey-new "X25519"))

(defun ossl-dsa-generate-key (bits &optional seed)
  "Return a new DSA key pair of BITS bits (1024, 2048 or 3072).
SEED (a string, or nil) is accepted as SXEmacs did, and ignored:
OpenSSL draws the parameters' seed itself."
  (ossl--pkey-check-bits bits 1024 3072)
  (unless (or (null seed) (stringp seed))
    (signal 'wrong-type-argument (list 'stringp seed)))
  (ossl--pkey-new "DSA" bits))

;;;; Signatures

(defun ossl--pkey-digest-name (digest)
  "DIGEST without the key type of SXEmacs's signature names.
SXEmacs signed with `RSA-SHA1', `DSA-SHA1', `ecdsa-with-SHA1' and the
like, OpenSSL 1.0's names of a digest for a key type; OpenSSL 3
knows the digest alone, and the key gives the type."
  (let ((name (ossl--crypto-name digest)))
    (if (string-match "\\`\\(?:rsa-\\|dsa-\\|ecdsa-with-\\)\\(.+\\)\\'"
                      (downcase name))
        (substring name (match-beginning 1))
      digest)))

(defun ossl--pkey-sign-args (digest pkey padding)
  "Check DIGEST and PADDING for PKEY; return the digest's name or nil."
  (unless (memq padding '(nil pss))
    (signal 'wrong-type-argument (list 'ossl-padding-p padding)))
  (let ((type (ossl-pkey-type pkey)))
    (cond ((memq type '(ed25519 ed448))
           (when digest
             (signal 'ossl-crypto-error
                     (list (format "%s keys sign the message itself: DIGEST must be nil"
                                   (upcase (symbol-name type))))))
           nil)
          ((null digest)
           (signal 'ossl-crypto-error
                   (list (format "%s keys need a DIGEST, such as sha256"
                                 (upcase (symbol-name type))))))
          (t (when (and padding (not (memq type '(rsa rsa-pss))))
               (signal 'ossl-crypto-error
                       (list "PSS padding is for RSA keys")))
             (ossl--crypto-digest (ossl--pkey-digest-name digest))))))

(defun ossl--pkey-padding (keys)
  "The :padding of the keyword list KEYS, the only keyword there may be."
  (let ((rest keys))
    (while rest
      (unless (and (eq (car rest) :padding) (cdr rest))
        (signal 'wrong-type-argument (list 'ossl-sign-keywords-p keys)))
      (setq rest (cddr rest))))
  (plist-get keys :padding))

(defun ossl-sign (digest data pkey &rest keys)
  "Return the signature of DATA under DIGEST with the private key PKEY.
DATA is a string or a buffer (see the manual's Cryptography
chapter); the signature is a unibyte string.  DIGEST is a symbol or
string such as `sha256'; nil for Ed25519 and Ed448 keys, which sign
the message itself.  RSA signatures are PKCS#1 v1.5, or PSS with
PADDING `pss' (MGF1 with DIGEST, salt as long as the digest); ECDSA
and DSA signatures are DER, as `openssl dgst -sign' writes them.

\(fn DIGEST DATA PKEY &key PADDING)"
  (ossl--pkey-need-private pkey "sign")
  (let ((padding (ossl--pkey-padding keys)))
    (ossl--pkey-sign (ossl--pkey pkey) (ossl--pkey-sign-args digest pkey padding)
                     (ossl--crypto-bytes data) padding)))

(defun ossl-verify (digest data signature pkey &rest keys)
  "Return t if SIGNATURE is PKEY's signature of DATA under DIGEST, else nil.
PKEY may be a public key or a key pair; DIGEST and PADDING are as
for `ossl-sign' (PSS signatures of any salt length are accepted).  A
malformed SIGNATURE gives nil; a key that cannot verify signatures
or a digest it cannot use is an error.

\(fn DIGEST DATA SIGNATURE PKEY &key PADDING)"
  (unless (stringp signature)
    (signal 'wrong-type-argument (list 'stringp signature)))
  (let ((h (ossl--pkey pkey))
        (padding (ossl--pkey-padding keys)))
    (ossl--pkey-verify h (ossl--pkey-sign-args digest pkey padding)
                       (ossl--crypto-bytes data) (ossl--crypto-bytes signature)
                       padding)))

;;;; Key agreement

(defun ossl-derive (private peer-public)
  "Return the secret the key pair PRIVATE shares with PEER-PUBLIC.
ECDH for EC keys (both on the same curve), X25519, X448 or DH: both
sides get the same unibyte string.  Hash it (see `ossl-hkdf') before
using it as a key."
  (ossl--pkey-need-private private "derive")
  (ossl--pkey-derive (ossl--pkey private) (ossl--pkey peer-public)))

;;;; Envelopes

(defun ossl-seal (cipher data public-keys)
  "Seal DATA in an envelope with CIPHER for PUBLIC-KEYS.
CIPHER is a symbol or string from `ossl-available-ciphers'; a fresh
random key and IV encrypt DATA, and each RSA key of PUBLIC-KEYS (one
key object or a list of them) encrypts that key (PKCS#1 v1.5, as
OpenSSL's EVP_SealInit does).  Return (CIPHERTEXT ENCRYPTED-KEYS IV):
ENCRYPTED-KEYS is a string for a single key, else a list in the order
of PUBLIC-KEYS.  AEAD ciphers such as aes-256-gcm append their tag to
CIPHERTEXT, as `ossl-encrypt' does."
  (let* ((single (ossl-pkey-p public-keys))
         (keys (if single (list public-keys) public-keys)))
    (unless (and (consp keys) (proper-list-p keys))
      (signal 'wrong-type-argument (list 'ossl-pkey-p public-keys)))
    (let ((e (ossl--pkey-seal (ossl--crypto-cipher cipher) (ossl--crypto-bytes data)
                              (mapcar #'ossl--pkey keys))))
      (if single (list (nth 0 e) (car (nth 1 e)) (nth 2 e)) e))))

(defun ossl-open (cipher ciphertext private-key encrypted-key &optional iv)
  "Open the envelope CIPHERTEXT made by `ossl-seal' with CIPHER.
PRIVATE-KEY is the key pair whose public half ENCRYPTED-KEY was made
for, IV the envelope's IV (ignored for ciphers without one).  Return
the plaintext, a unibyte string.  A wrong key, or a tampered
envelope under an AEAD cipher, signals `ossl-crypto-error'."
  (ossl--pkey-need-private private-key "open")
  (dolist (s (list ciphertext encrypted-key))
    (unless (stringp s) (signal 'wrong-type-argument (list 'stringp s))))
  (unless (or (null iv) (stringp iv))
    (signal 'wrong-type-argument (list 'stringp iv)))
  (ossl--pkey-open (ossl--crypto-cipher cipher) (ossl--crypto-bytes ciphertext)
                   (ossl--pkey private-key) (ossl--crypto-bytes encrypted-key)
                   (and iv (ossl--crypto-bytes iv))))

;;;; PEM and DER

(defun ossl--pkey-check-password (password)
  "Signal unless PASSWORD is nil, a string or a function."
  (unless (or (null password) (stringp password) (functionp password))
    (signal 'wrong-type-argument (list 'stringp password))))

(defun ossl--pkey-file (file)
  "FILE, expanded and encoded for the module; signal for remote files."
  (unless (stringp file)
    (signal 'wrong-type-argument (list 'stringp file)))
  (let ((file (expand-file-name file)))
    (when (file-remote-p file)
      (signal 'ossl-crypto-error
              (list (format "Keys are read and written on this machine only, not %s"
                            file))))
    (encode-coding-string file (or file-name-coding-system
                                   default-file-name-coding-system 'utf-8))))

(defun ossl--pkey-naming (file fn &rest args)
  "Apply FN to ARGS; its errors about \"the file\" name FILE (if non-nil)."
  (condition-case err
      (apply fn args)
    (ossl-crypto-error
     (signal 'ossl-crypto-error
             (if file
                 (list (replace-regexp-in-string "the file" file (cadr err) t t))
               (cdr err))))))

(defun ossl--pkey-load (kind value public-only password &optional file)
  "Return a key object read from KIND (`file' or `data') VALUE.
PUBLIC-ONLY reads a public key; PASSWORD decrypts; FILE names VALUE
in errors."
  (ossl--pkey-check-password password)
  (ossl--pkey-wrap (ossl--pkey-naming file #'ossl--pkey-read
                                      kind value public-only password)))

(defun ossl-pem-read-key (file &optional password)
  "Return the key in FILE, PEM or DER, a key pair if there is one.
PKCS#8 (maybe encrypted), traditional (\"BEGIN RSA PRIVATE KEY\"...)
and public-key files are read.  PASSWORD, for an encrypted key, is a
string or a function returning one, called only if the key is
encrypted."
  (ossl--pkey-load 'file (ossl--pkey-file file) nil password file))

(defun ossl-pem-read-public-key (file)
  "Return the public key in FILE, PEM or DER.
FILE may hold a public key, a certificate (its key is returned) or
an unencrypted private key (its public half is returned)."
  (ossl--pkey-load 'file (ossl--pkey-file file) t nil file))

(defun ossl-pkey-from-pem (string &optional password)
  "Return the key in the PEM text STRING, a key pair if there is one.
PASSWORD is as for `ossl-pem-read-key'."
  (unless (stringp string)
    (signal 'wrong-type-argument (list 'stringp string)))
  (ossl--pkey-load 'data (ossl--crypto-bytes string) nil password))

(defun ossl-pkey-from-der (string &optional password)
  "Return the key in STRING, DER bytes of a private or public key.
PASSWORD is as for `ossl-pem-read-key'."
  (unless (stringp string)
    (signal 'wrong-type-argument (list 'stringp string)))
  (ossl--pkey-load 'data (ossl--crypto-bytes string) nil password))

(defun ossl--pkey-encrypt-args (pkey cipher password)
  "(PRIVATE CIPHER-NAME PASSWORD) to encode PKEY with CIPHER and PASSWORD."
  (ossl--pkey-check-password password)
  (let ((private (ossl-pkey-private-p (progn (ossl--pkey pkey) pkey))))
    (when (and private cipher (null password))
      (signal 'ossl-crypto-error (list "Encrypting a key needs a PASSWORD")))
    (list private
          (and private password (ossl--crypto-cipher (or cipher 'aes-256-cbc)))
          password)))

(defun ossl--pkey-export (pkey pem cipher password)
  "Return PKEY in PEM (PEM non-nil) or DER, with CIPHER and PASSWORD.
See `ossl-pkey-to-pem'."
  (pcase-let ((`(,private ,cipher ,password)
               (ossl--pkey-encrypt-args pkey cipher password)))
    (ossl--pkey-encode (ossl--pkey pkey) private pem cipher password)))

(defun ossl-pkey-to-pem (pkey &optional cipher password)
  "Return PKEY as PEM text, a string.
A key pair gives its private key (PKCS#8), encrypted when PASSWORD
\(a string or a function returning one) is given, with CIPHER
\(default `aes-256-cbc'); a public key gives \"BEGIN PUBLIC KEY\".
Use `ossl-pkey-get-public' first for the public half of a key pair."
  (ossl--pkey-export pkey t cipher password))

(defalias 'ossl-pem-key #'ossl-pkey-to-pem
  "Return PKEY as PEM text (the SXEmacs name of `ossl-pkey-to-pem').")

(defun ossl-pem-public-key (pkey)
  "Return the public half of PKEY as PEM text, \"BEGIN PUBLIC KEY\"."
  (ossl--pkey-export (ossl-pkey-get-public pkey) t nil nil))

(defun ossl-pkey-to-der (pkey &optional cipher password)
  "Return PKEY in DER, a unibyte string.
CIPHER and PASSWORD are as for `ossl-pkey-to-pem'."
  (ossl--pkey-export pkey nil cipher password))

(defun ossl-pem-write-key (file pkey &optional cipher password)
  "Write PKEY to FILE as PEM, and return FILE.
A key pair is written as its private key (PKCS#8), encrypted when
PASSWORD (a string or a function returning one) is given, with
CIPHER (default `aes-256-cbc'); the file gets mode 0600 from the
start, whatever it was before.  A public key is written as
`ossl-pem-write-public-key' does."
  (pcase-let ((`(,private ,cipher ,password)
               (ossl--pkey-encrypt-args pkey cipher password)))
    (ossl--pkey-naming file #'ossl--pkey-write-file (ossl--pkey-file file)
                       (ossl--pkey pkey) private cipher password)
    file))

(defun ossl-pem-write-public-key (file pkey)
  "Write the public half of PKEY to FILE as PEM, and return FILE."
  (ossl--pkey-naming file #'ossl--pkey-write-file (ossl--pkey-file file)
                     (ossl--pkey pkey) nil nil nil)
  file)

;;;; Certificates

(defun ossl-x509-get-pubkey (cert)
  "Return the public key of the certificate CERT, a key object."
  (ossl--pkey-wrap (ossl--x509-get-pubkey (ossl--x509-handle cert))))

(defun ossl-x509-verify-signature (cert issuer)
  "Return t if ISSUER's key made the signature on certificate CERT, else nil.
ISSUER is a certificate or a key object.  Only the signature is
checked: not names, dates or extensions."
  (ossl--x509-signed-by (ossl--x509-handle cert)
                        (if (ossl-x509-p issuer)
                            (ossl--x509-get-pubkey (ossl--x509-handle issuer))
                          (ossl--pkey issuer))))

(provide 'ossl-pkey)

;;; ossl-pkey.el ends here
