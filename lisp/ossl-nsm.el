;;; ossl-nsm.el --- GnuTLS-shaped peer status and NSM glue for ossl-network  -*- lexical-binding: t; -*-

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

;; The half of `ossl-network-mode' that speaks to the Network Security
;; Manager: the peer status of a coated process in the shape
;; `gnutls-peer-status' gives (`ossl-network-peer-status'), the words
;; explaining a verification failure, and the NSM check itself
;; (`ossl-network--nsm-verify').  Its names keep the ossl-network
;; prefix: they are part of ossl-network's interface.  ossl-network.el
;; requires this file.

;;; Code:

(require 'cl-lib)
(require 'subr-x)
(require 'ossl)
(require 'gnutls)
(require 'nsm)

;;;; Messages

(defun ossl-network--host-port (host service)
  "HOST:SERVICE for messages."
  (if (and (stringp host) (string-search ":" host))
      (format "[%s]:%s" host service)
    (format "%s:%s" host service)))

;;;; The peer status, in GnuTLS's shape

(defun ossl-network--gnutls-dn (rfc2253)
  "The distinguished name RFC2253 in GnuTLS's order: most general RDN first."
  (let ((rdns nil) (start 0) (i 0) (len (length rfc2253)))
    (while (< i len)
      (pcase (aref rfc2253 i)
        (?\\ (setq i (1+ i)))
        (?, (push (substring rfc2253 start i) rdns)
            (setq start (1+ i))))
      (setq i (1+ i)))
    (push (substring rfc2253 start) rdns)
    (string-join rdns ",")))

(defun ossl-network--pk-name (name)
  "Return GnuTLS's name for the public key algorithm OpenSSL names NAME."
  (pcase name
    ("EC" "EC/ECDSA")
    ("ED25519" "EdDSA (Ed25519)")
    ("ED448" "EdDSA (Ed448)")
    (_ name)))

(defconst ossl-network--security-levels
  ;; (NAME RSA/DSA/DH-BITS EC-BITS), as GnuTLS's table.
  '(("Insecure" 0 0) ("Export" 512 0) ("Very weak" 767 0) ("Weak" 1008 160)
    ("Low" 1024 160) ("Legacy" 1776 192) ("Medium" 2048 256)
    ("High" 3072 256) ("Ultra" 8192 384) ("Future" 15360 512))
  "GnuTLS's security levels and the key sizes they need.")

(defun ossl-network--security-level (algorithm bits)
  "Return GnuTLS's security level for a key of ALGORITHM with BITS bits.
ALGORITHM is OpenSSL's name."
  (let ((ec (member algorithm '("EC" "ED25519" "ED448" "SM2")))
        (level "Insecure"))
    (cl-loop for (name pk ecc) in ossl-network--security-levels
             while (<= (if ec ecc pk) (or bits 0))
             do (setq level name))
    level))

(defun ossl-network--sign-name (name)
  "GnuTLS's name of the certificate signature algorithm NAME (OpenSSL's)."
  (let ((case-fold-search nil))
    (cond ((null name) "UNKNOWN")
          ((string-match "\\`\\([a-z0-9]+\\)With\\(RSA\\|DSA\\)\\(?:Encryption\\)?\\'"
                         name)
           (format "%s-%s" (match-string 2 name) (upcase (match-string 1 name))))
          ((string-match "\\`ecdsa-with-\\(SHA[0-9]+\\)\\'" name)
           (concat "ECDSA-" (match-string 1 name)))
          ((string-match "\\`dsa_with_\\(SHA[0-9]+\\)\\'" name)
           (concat "DSA-" (match-string 1 name)))
          ((member name '("ED25519" "Ed25519")) "EdDSA-Ed25519")
          ((member name '("ED448" "Ed448")) "EdDSA-Ed448")
          ((member name '("RSASSA-PSS" "rsassaPss")) "RSA-PSS")
          (t name))))

(defconst ossl-network--sha256-key-id (>= emacs-major-version 30)
  "Whether this Emacs's GnuTLS gives certificates a :public-key-id-sha256.
Emacs 30.1 added the key to gnutls.c's certificate plist (and reads
it in nsm.el); nothing else in Lisp tells, so the version decides.")

(defun ossl-network--fingerprint (algorithm hex)
  "GnuTLS's form of the ALGORITHM (sha1, sha256) fingerprint HEX.
HEX is as `ossl-x509-info' gives fingerprints, \"AB:CD:...\"."
  (format "%s:%s" algorithm (downcase hex)))

(defun ossl-network-certificate-details (cert)
  "Describe certificate CERT (an `ossl-x509') as GnuTLS does in Emacs.
The plist has the keys the Network Security Manager reads: :version
:serial-number :issuer :valid-from :valid-to :subject
:public-key-algorithm :certificate-security-level
:signature-algorithm :public-key-id :certificate-id and :pem, and
on Emacs 30 and later :public-key-id-sha256, as this Emacs's GnuTLS
gives.  :public-key-id and :certificate-id are SHA-1 fingerprints of
the public key and of the certificate, \"sha1:ab:cd:...\", and
:public-key-id-sha256 the SHA-256 one of the public key: the same
values GnuTLS gives, so pins stored by the NSM stay valid."
  (let* ((info (ossl-x509-info cert))
         (from (ossl--x509-date (plist-get info :valid-from)))
         (to (ossl--x509-date (plist-get info :valid-to))))
    (append
     (list :version (plist-get info :version)
           :serial-number (downcase (or (plist-get info :serial-hex) ""))
           :issuer (ossl-network--gnutls-dn (plist-get info :issuer-rfc2253)))
     (and from (list :valid-from from))
     (and to (list :valid-to to))
     (list :subject (ossl-network--gnutls-dn (plist-get info :subject-rfc2253))
           :public-key-algorithm (ossl-network--pk-name
                                  (plist-get info :public-key-algorithm))
           :certificate-security-level (ossl-network--security-level
                                        (plist-get info :public-key-algorithm)
                                        (plist-get info :public-key-bits))
           :signature-algorithm (ossl-network--sign-name
                                 (plist-get info :signature-algorithm))
           :public-key-id (ossl-network--fingerprint
                           'sha1 (plist-get info :public-key-sha1)))
     (and ossl-network--sha256-key-id
          (list :public-key-id-sha256
                (ossl-network--fingerprint
                 'sha256 (plist-get info :public-key-sha256))))
     (list :certificate-id (ossl-network--fingerprint 'sha1 (plist-get info :sha1))
           :pem (ossl-x509-to-pem cert)))))

(defconst ossl-network--warning-order
  '(:self-signed :no-host-match :invalid-ocsp-status :missing-ocsp-status
    :purpose-mismatch :signer-constraints-failure
    :revocation-data-issued-in-future :revocation-data-superseded
    :signature-failure :expired :not-activated :insecure :not-ca :unknown-ca
    :revoked :invalid)
  "GnuTLS's warning symbols, in the order Emacs lists them.")

(defun ossl-network--outcome-warnings (outcome depth)
  "The GnuTLS warnings for the verify OUTCOME at DEPTH (0: the peer's own).
Most words of `ossl-x509-verify-explanation' are GnuTLS's.  GnuTLS, as
Emacs asks it, calls an issuer that is no CA a signer constraints
failure and checks no certificate's purpose but the peer's."
  (pcase outcome
    ((or 'nil 'ok) nil)
    ('no-host-match '(:no-host-match))
    ('self-signed '(:self-signed :unknown-ca :invalid))
    ((or 'untrusted-root 'untrusted) '(:unknown-ca :invalid))
    ('not-ca '(:signer-constraints-failure :invalid))
    ('purpose-mismatch (if (eql depth 0) '(:purpose-mismatch :invalid) '(:invalid)))
    (_ (let ((warning (intern (format ":%s" outcome))))
         (if (memq warning ossl-network--warning-order)
             (list warning :invalid)
           '(:invalid))))))

(defun ossl-network--warnings (status)
  "GnuTLS-style warnings for an ossl connection STATUS (`ossl-ssl-status').
Every verification failure OpenSSL saw counts; expiry of any
certificate in the chain is checked here too, as GnuTLS reports
every problem at once."
  (let ((warnings (append (apply #'append
                                 (mapcar (lambda (f)
                                           (ossl-network--outcome-warnings
                                            (nth 4 f) (nth 1 f)))
                                         (plist-get status :verify-failures)))
                          (ossl-network--outcome-warnings
                           (plist-get status :verify-outcome) 0))))
    (when (cl-set-difference warnings '(:no-host-match))
      ;; The chain failed somewhere: say what else is wrong with it.
      (let ((now (float-time)))
        (dolist (cert (plist-get status :peer-certificates))
          (let ((info (ossl-x509-info cert)))
            (when (and (plist-get info :valid-to)
                       (< (plist-get info :valid-to) now))
              (setq warnings (append warnings '(:expired :invalid))))
            (when (and (plist-get info :valid-from)
                       (> (plist-get info :valid-from) now))
              (setq warnings (append warnings '(:not-activated :invalid))))))))
    (cl-remove-if-not (lambda (w) (memq w warnings))
                      ossl-network--warning-order)))

(defun ossl-network--description-field (description field)
  "The value of FIELD (like \"Enc\") in the cipher DESCRIPTION, or nil."
  (and description
       (string-match (concat "\\_<" field "=\\([^ \t\n]+\\)") description)
       (match-string 1 description)))

(defun ossl-network--cipher-name (enc)
  "GnuTLS's name of the bulk cipher OpenSSL describes as ENC."
  (let ((case-fold-search nil))
    (cond ((null enc) "UNKNOWN")
          ((string-match "\\`AESGCM(\\([0-9]+\\))" enc)
           (format "AES-%s-GCM" (match-string 1 enc)))
          ((string-match "\\`AESCCM8(\\([0-9]+\\))" enc)
           (format "AES-%s-CCM-8" (match-string 1 enc)))
          ((string-match "\\`AESCCM(\\([0-9]+\\))" enc)
           (format "AES-%s-CCM" (match-string 1 enc)))
          ((string-match "\\`AES(\\([0-9]+\\))" enc)
           (format "AES-%s-CBC" (match-string 1 enc)))
          ((string-prefix-p "CHACHA20" enc) "CHACHA20-POLY1305")
          ((string-match "\\`CamelliaGCM(\\([0-9]+\\))" enc)
           (format "CAMELLIA-%s-GCM" (match-string 1 enc)))
          ((string-match "\\`Camellia(\\([0-9]+\\))" enc)
           (format "CAMELLIA-%s-CBC" (match-string 1 enc)))
          ((string-match "\\`ARIAGCM(\\([0-9]+\\))" enc)
           (format "ARIA-%s-GCM" (match-string 1 enc)))
          ((string-prefix-p "3DES" enc) "3DES-CBC")
          ((string-match "\\`RC4(\\([0-9]+\\))" enc)
           (format "ARCFOUR-%s" (match-string 1 enc)))
          ((string-prefix-p "None" enc) "NULL")
          (t enc))))

(defun ossl-network--mac-name (mac)
  "GnuTLS's name of the MAC OpenSSL describes as MAC."
  (pcase mac
    ('nil "UNKNOWN")
    ("None" "NULL")
    (_ mac)))

(defun ossl-network--dhe-group-p (group)
  "Non-nil if the key exchange GROUP is a finite-field Diffie-Hellman group."
  (and group (string-match-p "\\`ffdhe\\|\\`dh" group)))

(defun ossl-network--key-exchange (status description leaf-algorithm)
  "GnuTLS's name of the key exchange of STATUS with cipher DESCRIPTION.
LEAF-ALGORITHM is OpenSSL's name of the server key's algorithm."
  (let ((kx (ossl-network--description-field description "Kx"))
        (au (ossl-network--description-field description "Au"))
        (group (plist-get status :group)))
    (if (or (null kx) (equal kx "any"))
        ;; TLS 1.3: GnuTLS names it after the group, with "-RSA"
        ;; whatever the server's key, or "-PSK" when resumed.
        (let ((base (if (ossl-network--dhe-group-p group) "DHE" "ECDHE")))
          (cond ((and (plist-get status :session-reused) group)
                 (concat base "-PSK"))
                ((plist-get status :session-reused) "PSK")
                (t (concat base "-RSA"))))
      (let ((auth (pcase au
                    ("RSA" "RSA") ("ECDSA" "ECDSA") ("DSS" "DSS")
                    ((or "aNULL" "None") "ANON")
                    (_ (pcase leaf-algorithm
                         ("EC" "ECDSA") (_ (or au "RSA")))))))
        (pcase kx
          ("ECDH" (if (equal auth "ANON") "ANON-ECDH" (concat "ECDHE-" auth)))
          ("DH" (if (equal auth "ANON") "ANON-DH" (concat "DHE-" auth)))
          ("RSA" "RSA")
          (_ (concat kx "-" auth)))))))

(defun ossl-network--protocol-name (protocol)
  "GnuTLS's name of OpenSSL's PROTOCOL, like \"TLS1.3\" for \"TLSv1.3\"."
  (pcase protocol
    ('nil "UNKNOWN")
    ("TLSv1" "TLS1.0")
    ("SSLv3" "SSL3.0")
    (_ (replace-regexp-in-string "v" "" protocol t t))))

(defun ossl-network--dh-bits (group)
  "The prime size of the Diffie-Hellman GROUP.
When OpenSSL does not name the group, 1024: OpenSSL's default
security level refuses smaller primes, so the figure is a floor."
  (if (and group (string-match "\\([0-9]+\\)\\'" group))
      (string-to-number (match-string 1 group))
    1024))

(defun ossl-network--conn-certificates (conn)
  "The GnuTLS-style details of the certificates CONN's peer sent, cached."
  (let ((proc (ossl-ssl-parent conn))
        (cache nil))
    (setq cache (process-get proc 'ossl-network--certificates))
    (if (eq (car cache) conn)
        (cdr cache)
      (let ((details (mapcar #'ossl-network-certificate-details
                             (ossl-ssl-peer-cert-chain conn))))
        (process-put proc 'ossl-network--certificates (cons conn details))
        details))))

(defun ossl-network-conn-peer-status (conn)
  "The GnuTLS-shaped peer status of CONN, an open `ossl-ssl-conn'.
See `ossl-network-peer-status'."
  (let* ((status (ossl-ssl-status conn))
         (protocol (plist-get status :protocol))
         (description (ossl-ssl-cipher-description conn))
         (certs (ossl-network--conn-certificates conn))
         (leaf (car (plist-get status :peer-certificates)))
         (leaf-algorithm (and leaf (plist-get (ossl-x509-info leaf)
                                              :public-key-algorithm)))
         (warnings (ossl-network--warnings status))
         (kx (ossl-network--key-exchange status description leaf-algorithm))
         (tls13 (equal protocol "TLSv1.3")))
    (append
     (and warnings (list :warnings warnings))
     (list :certificates certs)
     (and certs (list :certificate (car certs)))
     (and (string-match-p "\\`DHE" kx)
          (list :diffie-hellman-prime-bits
                (ossl-network--dh-bits (plist-get status :group))))
     (list :key-exchange kx
           :protocol (ossl-network--protocol-name protocol)
           :cipher (ossl-network--cipher-name
                    (ossl-network--description-field description "Enc"))
           :mac (ossl-network--mac-name
                 (ossl-network--description-field description "Mac"))
           ;; OpenSSL does not tell whether encrypt-then-MAC was
           ;; negotiated; nil makes the NSM judge CBC suites strictly.
           :encrypt-then-mac nil)
     ;; OpenSSL 3 refuses servers without secure renegotiation unless
     ;; told otherwise, and ossl never tells it: always safe.
     (and (not tls13) (list :safe-renegotiation t)))))

(defun ossl-network-peer-status (process)
  "Describe the TLS peer of PROCESS as `gnutls-peer-status' does, or nil.
PROCESS is a process coated by ossl.  The plist has the shape GnuTLS
gives in Emacs: :warnings (GnuTLS warning symbols, see
`gnutls-peer-status-warning-describe', mapped from OpenSSL's
verification results; absent when there is none), :certificates
\(the peer's chain, leaf first, each as `ossl-network-certificate-details'
describes it), :certificate (the leaf), :diffie-hellman-prime-bits
\(DHE key exchanges only), :key-exchange, :protocol (\"TLS1.3\"),
:cipher (\"AES-256-GCM\"), :mac (\"AEAD\"), :encrypt-then-mac and,
before TLS 1.3, :safe-renegotiation.  Return nil when PROCESS is not
coated or its handshake is not over."
  (let* ((proc (ossl--resolve process))
         (conn (and proc (ossl-process-conn proc))))
    (and conn
         (memq (ossl-ssl-state conn) '(open closing))
         (ossl-network-conn-peer-status conn))))

;;;; Verification words

(defun ossl-network--explain (conn host)
  "Words for what failed when verifying CONN's peer, HOST; nil if nothing."
  (let* ((status (ossl-ssl-status conn))
         (failure (plist-get status :verify-failure))
         (outcome (plist-get status :verify-outcome))
         (words nil))
    (when failure
      (push (ossl-x509-verify-explanation (nth 4 failure) (nth 2 failure) host
                                          (nth 3 failure) t)
            words))
    (unless (memq outcome (list nil 'ok (nth 4 failure)))
      (push (ossl-x509-verify-explanation
             outcome (car (plist-get status :peer-certificates)) host
             (cdr (plist-get status :verify-result)) t)
            words))
    (and words (string-join (delete-dups (nreverse words)) "; "))))

(defun ossl-network--verify-flags (verify-error hostname &optional hostname-error)
  "Return the verification flags to enforce: (:trustfiles :hostname) or fewer.
VERIFY-ERROR and HOSTNAME-ERROR are as for `gnutls-boot-parameters';
a nil VERIFY-ERROR takes `gnutls-verify-error' for HOSTNAME."
  (let ((v (or verify-error
               (cond ((eq gnutls-verify-error t) t)
                     ((and (consp gnutls-verify-error) (stringp hostname))
                      (cadr (cl-find-if (lambda (x) (string-match (car x) hostname))
                                        gnutls-verify-error)))))))
    (cond ((eq v t) '(:trustfiles :hostname))
          ((consp v)
           (let ((flags (cl-intersection v '(:trustfiles :hostname))))
             (if hostname-error (cl-adjoin :hostname flags) flags)))
          (hostname-error '(:hostname)))))

(defun ossl-network--strict-problem (conn flags host)
  "Return the reason CONN's peer HOST fails the verification FLAGS, or nil."
  (let* ((warnings (plist-get (ossl-network-conn-peer-status conn) :warnings))
         (name-bad (memq :no-host-match warnings))
         (chain-bad (cl-set-difference warnings '(:no-host-match))))
    (when (or (and name-bad (memq :hostname flags))
              (and chain-bad (memq :trustfiles flags)))
      (format "TLS certificate verification of %s failed: %s"
              (ossl-network--host-port host (ossl-network--port conn))
              (or (ossl-network--explain conn host)
                  (mapconcat #'ossl-network--describe-warning warnings "; "))))))

(defun ossl-network--port (conn)
  "The port CONN's process is connected to, or \"?\"."
  (let ((proc (ossl-ssl-parent conn)))
    (or (and (eq (process-type proc) 'network)
             (process-contact proc :service))
        "?")))

;;;; The Network Security Manager

(defvar ossl-network--nsm-refusal nil
  "What the NSM said when it refused the last connection, or nil.")

(defun ossl-network--around-nsm-query (orig host port status what problems message)
  "Remember MESSAGE when ORIG, `nsm-query', refuses HOST:PORT.
STATUS, WHAT and PROBLEMS are passed on."
  (let ((ok (funcall orig host port status what problems message)))
    (unless ok
      (setq ossl-network--nsm-refusal message))
    ok))

(defun ossl-network--nsm-reasons (message)
  "The reasons listed in an NSM MESSAGE, joined, or MESSAGE itself."
  (let ((reasons (and message
                      (cl-loop for line in (split-string message "\n")
                               when (string-prefix-p "* " line)
                               collect (substring line 2)))))
    (cond (reasons (string-join reasons "; "))
          (message (string-trim (replace-regexp-in-string "\n+" " " message)))
          (t "the connection's security was not accepted"))))

(defun ossl-network--nsm-check (process host service save-fingerprint
                                        warn-unencrypted)
  "Ask the NSM about PROCESS to HOST:SERVICE; return PROCESS or nil.
As `nsm-verify-connection' with SAVE-FINGERPRINT and
WARN-UNENCRYPTED, but a connection ossl coats is judged on ossl's
own status, given to the NSM directly: a natively compiled NSM
calls `gnutls-peer-status' without seeing ossl's advice, and would
take the connection for a plain one."
  (let ((conn (ossl-process-conn process)))
    (cond
     ((not (process-live-p process)) nil)
     ((null conn)
      (nsm-verify-connection process host service save-fingerprint
                             warn-unencrypted))
     (t
      (let* ((status (ossl-network-conn-peer-status conn))
             (id (nsm-id host service))
             (result (nsm-check-tls-connection process host service status
                                               (nsm-host-settings id))))
        (when (and result save-fingerprint (null (nsm-host-settings id)))
          (nsm-save-host host service status 'fingerprint nil 'always))
        result)))))

(defun ossl-network--nsm-verify (process host service &optional save-fingerprint
                                         warn-unencrypted)
  "Let the NSM check PROCESS to HOST:SERVICE; return PROCESS or (nil . WHY).
SAVE-FINGERPRINT and WARN-UNENCRYPTED are passed to
`nsm-verify-connection'.  WHY says in words why it refused.  A
connection the NSM refuses is deleted."
  (let* ((ossl-network--nsm-refusal nil)
         (conn (ossl-process-conn process))
         (result (ossl-network--nsm-check process host service
                                          save-fingerprint warn-unencrypted)))
    (or result
        (progn
          (when (process-live-p process) (delete-process process))
          (cons nil
                (format "TLS connection to %s refused by the Network Security Manager (network-security-level %s): %s%s%s"
                        (ossl-network--host-port host service)
                        network-security-level
                        (ossl-network--nsm-reasons ossl-network--nsm-refusal)
                        (let ((why (and conn (ossl-network--explain conn host))))
                          (if why (format " (%s)" why) ""))
                        (if (or noninteractive nsm-noninteractive)
                            "; nobody could be asked, so it was refused: store an exception interactively or change `network-security-level'"
                          "")))))))

;;;; GnuTLS's words for its warnings

(defun ossl-network--describe-warning (warning)
  "Describe the GnuTLS WARNING symbol, as `gnutls-peer-status-warning-describe'."
  (pcase warning
    (:invalid "certificate could not be verified")
    (:revoked "certificate was revoked (CRL)")
    (:self-signed "certificate signer was not found (self-signed)")
    (:unknown-ca "the certificate was signed by an unknown and therefore untrusted authority")
    (:not-ca "certificate signer is not a CA")
    (:insecure "certificate was signed with an insecure algorithm")
    (:not-activated "certificate is not yet activated")
    (:expired "certificate has expired")
    (:no-host-match "certificate host does not match hostname")
    (:signature-failure "certificate signature could not be verified")
    (:revocation-data-superseded "certificate revocation data are old and have been superseded")
    (:revocation-data-issued-in-future "certificate revocation data have a future issue date")
    (:signer-constraints-failure "certificate signer constraints were violated")
    (:purpose-mismatch "certificate does not match the intended purpose")
    (:missing-ocsp-status "certificate requires the server to send a OCSP certificate status, but no status was received")
    (:invalid-ocsp-status "the received OCSP certificate status is invalid")))

(provide 'ossl-nsm)

;;; ossl-nsm.el ends here
