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

(define-error 'ossl-crypto-error "Cryptographic operation failed" 'ossl-error)

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

(provide 'ossl-crypto)

;;; ossl-crypto.el ends here
