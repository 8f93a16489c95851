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
(declare-function ossl--cipher "ossl-module"
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

(defun ossl--crypto-near (name candidates)
  "Those of CANDIDATES (strings) that look like NAME, closest first.
At most five: names within a few edits of NAME, names that begin
with it first."
  (let* ((n (downcase name))
         (limit (max 2 (/ (length n) 3)))
         (scored nil))
    (dolist (c (delete-dups (mapcar #'downcase candidates)))
      (let ((d (if (string-prefix-p n c) 1 (string-distance n c))))
        (when (<= d limit)
          (push (cons d c) scored))))
    (setq scored (sort scored (lambda (a b) (< (car a) (car b)))))
    (mapcar #'cdr (cl-subseq scored 0 (min 5 (length scored))))))

(defun ossl--crypto-unknown (kind name candidates)
  "Signal `ossl-crypto-error': NAME is no KIND (\"digest\", \"cipher\"...).
CANDIDATES are the names there are; the message lists those near NAME."
  (let ((near (ossl--crypto-near name candidates)))
    (signal 'ossl-crypto-error
            (list (format "Unknown %s %s%s" kind name
                          (if near
                              (concat "; did you mean "
                                      (mapconcat #'identity near ", ") "?")
                            (format "; see `ossl-available-%ss'" kind)))))))

(defvar ossl--crypto-known (make-hash-table :test #'equal)
  "Algorithms looked up: (KIND . NAME) -> what the module said.")

(defun ossl--crypto-lookup (kind name)
  "Facts about algorithm NAME (a symbol or string) of KIND, cached.
KIND is `digest' or `cipher'.  Return (NAME-STRING . INFO), INFO as
`ossl--digest-info' or `ossl--cipher-info' give it; signal
`ossl-crypto-error' listing near names when there is no such algorithm."
  (let* ((s (ossl--crypto-name name))
         (key (cons kind (downcase s))))
    (or (gethash key ossl--crypto-known)
        (let ((info (if (eq kind 'digest) (ossl--digest-info s)
                      (ossl--cipher-info s))))
          (unless info
            (ossl--crypto-unknown (symbol-name kind) s
                                  (ossl--crypto-names (eq kind 'cipher))))
          (puthash key (cons s info) ossl--crypto-known)))))

(defun ossl--crypto-digest (digest)
  "DIGEST (a symbol or string) as the name of a digest OpenSSL has.
Signal `ossl-crypto-error' listing near names when there is none.
Names are matched without regard to case."
  (car (ossl--crypto-lookup 'digest digest)))

(defun ossl--crypto-cipher (cipher)
  "CIPHER (a symbol or string) as the name of a cipher OpenSSL has.
Signal `ossl-crypto-error' listing near names when there is none."
  (car (ossl--crypto-lookup 'cipher cipher)))

(provide 'ossl-crypto)

;;; ossl-crypto.el ends here
