;;; ossl-x509.el --- X.509 certificates for ossl  -*- lexical-binding: t; -*-

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

;; Certificate objects: read them from files or PEM/DER strings, or
;; take them from a TLS connection, then ask for their fields.  The
;; SXEmacs functions `ossl-x509-subject', `ossl-x509-issuer',
;; `ossl-x509-serial', `ossl-x509-not-before', `ossl-x509-not-after',
;; `ossl-x509-signature-type', `ossl-ssl-cert', `ossl-ssl-peer-cert'
;; and `ossl-ssl-peer-cert-chain' keep their names and arguments, with
;; SXEmacs's bugs fixed: serials are exact integers however long, and
;; the signature type names the signing key's type.  `ossl-x509-info'
;; gives everything at once as a plist.
;;
;; This file is loaded by ossl.el once the module is in; it does not
;; load ossl.el itself.

;;; Code:

(require 'cl-lib)
(require 'ossl-core)

(declare-function ossl--x509-read-file "ossl-module" (file))
(declare-function ossl--x509-from-pem "ossl-module" (string))
(declare-function ossl--x509-from-der "ossl-module" (string))
(declare-function ossl--x509-to-pem "ossl-module" (h))
(declare-function ossl--x509-to-der "ossl-module" (h))
(declare-function ossl--x509-subject "ossl-module" (h &optional format))
(declare-function ossl--x509-issuer "ossl-module" (h &optional format))
(declare-function ossl--x509-serial "ossl-module" (h &optional hex))
(declare-function ossl--x509-not-before "ossl-module" (h &optional seconds))
(declare-function ossl--x509-not-after "ossl-module" (h &optional seconds))
(declare-function ossl--x509-signature-type "ossl-module" (h))
(declare-function ossl--x509-pubkey "ossl-module" (h))
(declare-function ossl--x509-text "ossl-module" (h))
(declare-function ossl--x509-info "ossl-module" (h))
(declare-function ossl--own-cert "ossl-module" (conn))
(declare-function ossl--peer-cert "ossl-module" (conn))
(declare-function ossl--peer-chain "ossl-module" (conn))

;;;; Certificate objects

(cl-defstruct (ossl-x509
               (:constructor ossl--x509-wrap (handle))
               (:copier nil)
               (:predicate ossl-x509-p)
               (:conc-name ossl--x509-obj-))
  "An X.509 certificate.
HANDLE is the module's certificate, which holds its own reference to
OpenSSL's copy; it goes away with the object."
  handle)

(defun ossl--x509-handle (cert)
  "The module handle of CERT; signal unless CERT is a certificate."
  (unless (ossl-x509-p cert)
    (signal 'wrong-type-argument (list 'ossl-x509-p cert)))
  (ossl--x509-obj-handle cert))

(defun ossl--x509-wrap-all (handles)
  "Certificate objects for HANDLES."
  (mapcar #'ossl--x509-wrap handles))

(defun ossl--x509-describe (cert)
  "The printed form of CERT's contents, SXEmacs style."
  (or (ignore-errors
        (let* ((h (ossl--x509-obj-handle cert))
               (key (ossl--x509-pubkey h)))
          (format "sub:%s iss:%s; %s public key, size %d"
                  (ossl--x509-subject h) (ossl--x509-issuer h)
                  (car key) (cdr key))))
      "invalid"))

;; Defined once cl-print is loaded: see ossl-core.el.
(with-eval-after-load 'cl-print
  (cl-defmethod cl-print-object ((cert ossl-x509) stream)
    "Print CERT on STREAM as SXEmacs did, subject first."
    (princ (format "#<OpenSSL X509 Certificate %s>" (ossl--x509-describe cert))
           stream)))

;;;; Reading and writing

(defun ossl--x509-parse-data (data)
  "Certificate handles from DATA, PEM (every certificate) or one DER."
  (if (string-match-p "-----BEGIN" data)
      (ossl--x509-from-pem data)
    (list (ossl--x509-from-der data))))

(defun ossl-x509-read-file (file)
  "Return the certificates in FILE, a list of `ossl-x509' objects.
A PEM file gives every certificate in it, in order, and may hold
other blocks such as keys; any other file must hold exactly one DER
certificate.  Signal `ossl-certificate-error' when FILE cannot be
read or holds no certificate."
  (unless (stringp file)
    (signal 'wrong-type-argument (list 'stringp file)))
  (let ((file (expand-file-name file)))
    (ossl--x509-wrap-all
     (if (file-remote-p file)
         (ossl--x509-parse-data
          (condition-case err
              (with-temp-buffer
                (set-buffer-multibyte nil)
                (insert-file-contents-literally file)
                (buffer-string))
            (file-error
             (signal 'ossl-certificate-error
                     (list (format "cannot read certificates from %s: %s"
                                   file (error-message-string err)))))))
       (ossl--x509-read-file
        (encode-coding-string file (or file-name-coding-system
                                       default-file-name-coding-system
                                       'utf-8)))))))

(defun ossl-x509-from-pem (string)
  "Return the certificates in PEM STRING, a list of `ossl-x509' objects.
Other PEM blocks, such as keys, are skipped.  Signal
`ossl-certificate-error' when STRING holds no certificate or a
damaged one."
  (unless (stringp string)
    (signal 'wrong-type-argument (list 'stringp string)))
  (ossl--x509-wrap-all (ossl--x509-from-pem string)))

(defun ossl-x509-from-der (string)
  "Return the certificate in STRING, one DER-encoded certificate.
STRING holds bytes: a unibyte string, or a multibyte one of ASCII
and raw bytes.  Signal `ossl-certificate-error' when it is not a
DER certificate."
  (unless (stringp string)
    (signal 'wrong-type-argument (list 'stringp string)))
  (when (multibyte-string-p string)
    (setq string
          (condition-case nil
              (string-to-unibyte string)
            (error (signal 'ossl-certificate-error
                           (list "DER data must be bytes, not characters"))))))
  (ossl--x509-wrap (ossl--x509-from-der string)))

(defun ossl-x509-to-pem (cert)
  "Return certificate CERT in PEM form, a string."
  (ossl--x509-to-pem (ossl--x509-handle cert)))

(defun ossl-x509-to-der (cert)
  "Return certificate CERT in DER form, a unibyte string."
  (ossl--x509-to-der (ossl--x509-handle cert)))

(defun ossl-x509-equal (a b)
  "Return t if certificates A and B are the same certificate."
  (string= (ossl-x509-to-der a) (ossl-x509-to-der b)))

;;;; Fields

(defun ossl-x509-subject (cert &optional format)
  "Return the subject of certificate CERT, a string.
By default in the one-line form \"/C=DE/ST=Berlin/CN=example.org\";
with FORMAT `rfc2253' as \"CN=example.org,ST=Berlin,C=DE\"."
  (ossl--x509-subject (ossl--x509-handle cert) format))

(defun ossl-x509-issuer (cert &optional format)
  "Return the issuer of certificate CERT, who signed it, a string.
By default in the one-line form \"/C=DE/ST=Berlin/CN=Some CA\"; with
FORMAT `rfc2253' as \"CN=Some CA,ST=Berlin,C=DE\"."
  (ossl--x509-issuer (ossl--x509-handle cert) format))

(defun ossl-x509-serial (cert)
  "Return the serial number of certificate CERT, an exact integer.
Serials of up to 20 bytes are common; they come as bignums."
  (ossl--x509-serial (ossl--x509-handle cert)))

(defun ossl-x509-not-before (cert)
  "Return the time CERT becomes valid, as stored in it.
A UTCTime string like \"020802062727Z\", or a GeneralizedTime like
\"20500101000000Z\".  `ossl-x509-info' gives it as a Lisp time."
  (ossl--x509-not-before (ossl--x509-handle cert)))

(defun ossl-x509-not-after (cert)
  "Return the time CERT stops being valid, as stored in it.
A UTCTime string like \"030802062727Z\", or a GeneralizedTime like
\"20500101000000Z\".  `ossl-x509-info' gives it as a Lisp time."
  (ossl--x509-not-after (ossl--x509-handle cert)))

(defun ossl-x509-signature-type (cert)
  "Return the type of the key that signed CERT, a symbol.
One of `rsa', `rsa-pss', `ec', `ed25519', `ed448', `dsa', or
another lower-case algorithm name."
  (ossl--x509-signature-type (ossl--x509-handle cert)))

(defun ossl-x509-text (cert)
  "Return the human-readable dump of CERT, as `openssl x509 -text' prints it."
  (ossl--x509-text (ossl--x509-handle cert)))

(defun ossl-x509-info (cert)
  "Return a plist describing certificate CERT.
Its keys:
 :version              1, 2 or 3
 :subject :issuer      one-line names, \"/C=DE/CN=example.org\"
 :subject-rfc2253 :issuer-rfc2253
                       RFC 2253 names, \"CN=example.org,C=DE\"
 :serial               the serial, an exact integer
 :serial-hex           the same as \"7F:AB:01\" (\"-\" first if negative)
 :not-before :not-after
                       validity as stored, \"020802062727Z\"
 :valid-from :valid-to validity as Lisp times (integer seconds), or nil
 :signature-algorithm  \"ecdsa-with-SHA256\", \"sha256WithRSAEncryption\"...
 :signature-type       the signing key's type, as `ossl-x509-signature-type'
 :public-key-algorithm \"EC\", \"RSA\", \"ED25519\", \"RSA-PSS\"...
 :public-key-bits      the key size in bits
 :sha256 :sha1         fingerprints, \"AB:CD:...\", as openssl prints them
 :public-key-sha256 :public-key-sha1
                       the same of the SubjectPublicKeyInfo (key pins)
 :subject-alt-names    ((dns . \"example.org\") (ip . \"127.0.0.1\")
                        (email . \"a@b\") (uri . \"https://...\") ...);
                       also dirname, rid, othername (\"OID:VALUE\")
 :ca-p                 t if basicConstraints says CA:TRUE
 :path-length          the CA's pathlen constraint, or nil
 :key-usage            (digital-signature key-cert-sign crl-sign ...)
                       or nil when the extension is absent
 :extended-key-usage   (server-auth client-auth code-signing
                        email-protection time-stamping ocsp-signing any
                        or OpenSSL's lower-cased short name or the OID)
 :subject-key-id :authority-key-id
                       key identifiers as colon hex, or nil
 :self-signed-p        t if issuer = subject and CERT's own key
                       verifies its signature"
  (ossl--x509-info (ossl--x509-handle cert)))

;;;; Verify outcomes in words

(defun ossl-x509-verify-explanation (outcome cert &optional host text sentence)
  "Words a user can act on for the verify OUTCOME about certificate CERT.
OUTCOME is a word as `ossl-ssl-status' gives them (:verify-outcome,
the last element of a :verify-failures entry): `expired',
`not-activated', `self-signed', `unknown-ca', `no-host-match'...
CERT is the certificate the outcome is about, or nil; HOST the name
that was checked; TEXT OpenSSL's text for the outcome, used where
ossl has no words of its own.
The words follow the certificate's name: \"expired on 2021-01-01\".
With SENTENCE non-nil they are a whole clause, \"certificate for
example.org expired on 2021-01-01\", or TEXT when CERT is nil."
  (let* ((info (and cert (ossl-x509-info cert)))
         (issuer (plist-get info :issuer-rfc2253))
         (words
          (pcase outcome
            ((guard (null info)) (format "fails verification: %s" text))
            ('expired
             (format "expired on %s"
                     (ossl--x509-date (plist-get info :valid-to) "?")))
            ('not-activated
             (format "is not valid before %s"
                     (ossl--x509-date (plist-get info :valid-from) "?")))
            ('self-signed "is self-signed and not in the trust store")
            ('untrusted-root
             "is a self-signed root that is not in the trust store")
            ('unknown-ca
             (if (plist-get info :ca-p)
                 (format "was issued by %s, which is not in the trust store (unknown issuer)"
                         issuer)
               (format "was issued by %s, which the peer did not send and the trust store does not have (unknown issuer, or an incomplete chain)"
                       issuer)))
            ('no-host-match
             (format "does not match the name %s: it is for %s" host
                     (ossl--x509-names info)))
            ('not-ca "is not a CA certificate, yet it issued another certificate")
            ('purpose-mismatch
             "may not be used for this purpose (its key usage forbids it)")
            ('signature-failure "has a signature that does not verify")
            ('revoked "was revoked by its issuer")
            ('insecure (format "is too weak: %s" text))
            (_ (format "fails verification: %s" text)))))
    (cond ((not sentence) words)
          (info (format "certificate for %s %s" (ossl--x509-name info) words))
          (t text))))

;;;; Certificates of a TLS connection

(defun ossl-ssl-cert (ssl-conn)
  "Return the local certificate of SSL-CONN if present, nil otherwise."
  (let ((h (ossl--own-cert (ossl--check-conn ssl-conn))))
    (and h (ossl--x509-wrap h))))

(defun ossl-ssl-peer-cert (ssl-conn)
  "Return the remote peer's certificate of SSL-CONN if present, nil otherwise."
  (let ((h (ossl--peer-cert (ossl--check-conn ssl-conn))))
    (and h (ossl--x509-wrap h))))

(defun ossl-ssl-peer-cert-chain (ssl-conn)
  "Return the certificates SSL-CONN's peer sent, a list, leaf first.
The order is the one on the wire; the list is empty when the peer
sent no certificate."
  (ossl--x509-wrap-all (ossl--peer-chain (ossl--check-conn ssl-conn))))

(provide 'ossl-x509)

;;; ossl-x509.el ends here
