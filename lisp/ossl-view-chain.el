;;; ossl-view-chain.el --- Judging a certificate chain, for ossl's viewer and sessions  -*- lexical-binding: t; -*-

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

;; The judgement the viewer (ossl-view.el) shows and the interactive
;; sessions (ossl-session.el) ask about: each certificate's dates,
;; names and issuer links (to the next certificate, to the trust
;; anchors of `ossl-view-ca' and the system CA bundle), combined with
;; what OpenSSL reported for the connection, into findings and one
;; verdict.  Also the viewer's options and the small helpers both
;; files use.  Its names keep the ossl-view prefix: it is the viewer's
;; judgement.

;;; Code:

(require 'cl-lib)
(require 'subr-x)
(require 'ossl)
(require 'ossl-x509)
(require 'ossl-pkey)

;;;; Options

(defgroup ossl-view nil
  "Commands to inspect TLS connections and certificates."
  :group 'ossl
  :link '(info-link "(ossl)Commands")
  :prefix "ossl-view-")

(defcustom ossl-view-ca nil
  "Certificate authorities the ossl commands trust besides the system store.
Anything the :ca keyword of `ossl-starttls' accepts: a CA file, a
hashed directory, PEM text, a certificate object or a list of these.
`ossl-view-certificate-chain', `ossl-open-tls-stream' and
`ossl-starttls-current-buffer' verify against them, and the viewer
looks for the roots of the chains it shows among them."
  :type '(choice (const :tag "None" nil)
                 (file :tag "CA file or directory")
                 (repeat (file :tag "CA file or directory")))
  :package-version '(ossl . "0.1.0"))

(defcustom ossl-view-expiry-warning-days 30
  "Days before its end of validity from which a certificate is flagged.
The viewer shows such a certificate with the face `ossl-view-expiring'
and mentions it in the verdict."
  :type 'integer
  :package-version '(ossl . "0.1.0"))

(defcustom ossl-view-system-ca-files
  '("/etc/ssl/certs/ca-certificates.crt"
    "/etc/pki/tls/certs/ca-bundle.crt"
    "/etc/ssl/ca-bundle.pem"
    "/etc/ssl/cert.pem"
    "/usr/local/etc/openssl/cert.pem")
  "CA bundle files in which the viewer looks for trust anchors.
The first readable one is used when `ossl-trust-system-store' is
non-nil and neither SSL_CERT_FILE nor SSL_CERT_DIR is set.  The
viewer reads anchors to name the root a chain leads to and to judge
certificate files; connections themselves are verified by OpenSSL
against the system store."
  :type '(repeat file)
  :package-version '(ossl . "0.1.0"))

(defcustom ossl-view-starttls-ports
  '((smtp 25 587 2525 "smtp" "submission")
    (imap 143 "imap" "imap2")
    (pop3 110 "pop3")
    (xmpp 5222 "xmpp-client")
    (ftp 21 "ftp"))
  "Ports on which `ossl-view-certificate-chain' offers STARTTLS.
Each element is (PROTOCOL PORT...): PROTOCOL is one of `smtp',
`imap', `pop3', `xmpp' and `ftp', each PORT a number or a service
name.  On these ports the command asks which STARTTLS dialog to run
in clear before the handshake, proposing PROTOCOL."
  :type '(alist :key-type (choice (const smtp) (const imap) (const pop3)
                                  (const xmpp) (const ftp))
                :value-type (repeat (choice integer string)))
  :package-version '(ossl . "0.1.0"))

;;;; Small helpers

(defun ossl-view--host-port (host port)
  "HOST and PORT as HOST:PORT, with brackets around an IPv6 address."
  (if (string-search ":" host) (format "[%s]:%s" host port)
    (format "%s:%s" host port)))

(defun ossl-view--who (index info)
  "How to refer to certificate number INDEX with INFO in a sentence."
  (if index (format "[%d] %s" index (ossl--x509-name info))
    (format "%s (from the trust store)" (ossl--x509-name info))))

(defun ossl-view--wrap (text width)
  "TEXT cut at spaces into lines of at most WIDTH columns; a list."
  (let (lines line)
    (dolist (word (split-string text " " t))
      (if (and line (> (+ (string-width line) 1 (string-width word)) width))
          (progn (push line lines) (setq line word))
        (setq line (if line (concat line " " word) word))))
    (when line (push line lines))
    (nreverse lines)))

(defun ossl-view--parse-port (port)
  "PORT as typed: a number when it is all digits, else a service name."
  (cond ((numberp port) port)
        ((string-match-p "\\`[0-9]+\\'" port) (string-to-number port))
        ((string-empty-p port) 443)
        (t port)))

(defun ossl-view--starttls-for-port (port)
  "The STARTTLS protocol usual on PORT, per `ossl-view-starttls-ports'."
  (car (cl-find-if (lambda (entry) (member port (cdr entry)))
                   ossl-view-starttls-ports)))

(defvar ossl-view--host-history nil "Hosts given to the ossl commands.")
(defvar ossl-view--port-history nil "Ports given to the ossl commands.")

(defun ossl-view--read-host-port (&optional default-port)
  "Read a host and a port (DEFAULT-PORT, or 443); return (HOST PORT)."
  (let* ((host (string-trim (read-string "Host: " nil 'ossl-view--host-history)))
         (default (format "%s" (or default-port 443)))
         (port (read-string (format-prompt "Port" default) nil
                            'ossl-view--port-history default)))
    (when (string-empty-p host) (user-error "No host given"))
    (list host (ossl-view--parse-port (string-trim port)))))

;;;; Trust anchors, read only to explain chains

(defvar ossl-view--anchor-cache nil
  "(KEY . ANCHORS): the trust anchors last read, and what they came from.")

(defun ossl-view--read-ca (ca)
  "The certificates in CA (a file, directory, PEM text, object or list)."
  (cond ((null ca) nil)
        ((ossl-x509-p ca) (list ca))
        ((and (consp ca) (not (functionp ca)))
         (apply #'append (mapcar #'ossl-view--read-ca ca)))
        ((not (stringp ca)) nil)
        ((string-match-p "-----BEGIN" ca) (ignore-errors (ossl-x509-from-pem ca)))
        ((file-directory-p ca)
         (apply #'append
                (mapcar (lambda (f) (ignore-errors (ossl-x509-read-file f)))
                        ;; The names OpenSSL looks up in a CA directory.
                        (directory-files ca t "\\`[0-9a-f]\\{8\\}\\.[0-9]+\\'"))))
        ((file-readable-p ca) (ignore-errors (ossl-x509-read-file ca)))))

(defun ossl-view--system-ca ()
  "Where the system's trust anchors are: a list of files and directories."
  (when ossl-trust-system-store
    (let ((file (getenv "SSL_CERT_FILE"))
          (dir (getenv "SSL_CERT_DIR")))
      (if (or file dir)
          (delq nil (list file dir))
        (let ((bundle (cl-find-if #'file-readable-p ossl-view-system-ca-files)))
          (and bundle (list bundle)))))))

(defun ossl-view--anchors ()
  "Trust anchors as a list of (CERT . INFO), from `ossl-view-ca' and the system."
  (let* ((system (ossl-view--system-ca))
         (key (list ossl-view-ca
                    (mapcar (lambda (f)
                              (cons f (file-attribute-modification-time
                                       (file-attributes f))))
                            system))))
    (unless (equal key (car ossl-view--anchor-cache))
      (let ((seen (make-hash-table :test #'equal))
            (anchors nil))
        (dolist (cert (ossl-view--read-ca (append (ossl-view--read-ca ossl-view-ca)
                                                  system)))
          (let ((info (ossl-x509-info cert)))
            (unless (gethash (plist-get info :sha256) seen)
              (puthash (plist-get info :sha256) t seen)
              (push (cons cert info) anchors))))
        (setq ossl-view--anchor-cache (cons key (nreverse anchors)))))
    (cdr ossl-view--anchor-cache)))

(defun ossl-view--names-issuer-p (info issuer)
  "Non-nil if the certificate with INFO names the one with ISSUER as issuer."
  (equal (plist-get info :issuer-rfc2253) (plist-get issuer :subject-rfc2253)))

(defun ossl-view--issued-by-p (cert issuer)
  "Non-nil if ISSUER issued CERT; both are (CERTIFICATE . INFO).
CERT must name ISSUER as its issuer, and ISSUER's key must verify
CERT's signature: names alone prove nothing."
  (and (ossl-view--names-issuer-p (cdr cert) (cdr issuer))
       (ossl-x509-verify-signature (car cert) (car issuer))))

(defun ossl-view--anchor-p (info anchors)
  "Non-nil if the certificate with INFO is one of ANCHORS."
  (cl-find (plist-get info :sha256) anchors
           :key (lambda (a) (plist-get (cdr a) :sha256)) :test #'equal))

;;;; Judging a chain

(defun ossl-view--validity (info now)
  "The validity of the certificate with INFO at NOW: (STATE DAYS).
STATE is `not-yet-valid' (DAYS until it is), `expired' (DAYS since),
`expiring' or `valid' (DAYS left), or `unknown'."
  (let ((from (plist-get info :valid-from))
        (to (plist-get info :valid-to)))
    (cond ((not (and from to)) (list 'unknown nil))
          ((< now from) (list 'not-yet-valid (ceiling (- from now) 86400)))
          ((> now to) (list 'expired (floor (- now to) 86400)))
          (t (let ((left (floor (- to now) 86400)))
               (list (if (< left ossl-view-expiry-warning-days) 'expiring 'valid)
                     left))))))

(defun ossl-view--ip-address-p (host)
  "Non-nil if HOST is an IPv4 or IPv6 address literal."
  (or (string-match-p "\\`[0-9]+\\(\\.[0-9]+\\)\\{3\\}\\'" host)
      (string-search ":" host)))

(defun ossl-view--dns-match-p (pattern host)
  "Non-nil if the DNS name PATTERN, maybe a \"*.\" wildcard, matches HOST."
  (let ((p (downcase pattern))
        (h (downcase (string-remove-suffix "." host))))
    (if (string-prefix-p "*." p)
        (let ((suffix (substring p 1)))
          (and (string-suffix-p suffix h)
               (let ((label (substring h 0 (- (length h) (length suffix)))))
                 (and (> (length label) 0) (not (string-search "." label))))))
      (string= p h))))

(defun ossl-view--name-match (host info)
  "The subjectAltName (or CN) of the certificate with INFO matching HOST, or nil.
A string such as \"DNS:*.example.org\"."
  (let* ((sans (plist-get info :subject-alt-names))
         (ip (ossl-view--ip-address-p host))
         (san (cl-find-if
               (lambda (san)
                 (if ip
                     (and (eq (car san) 'ip)
                          (string= (downcase (cdr san)) (downcase host)))
                   (and (eq (car san) 'dns)
                        (ossl-view--dns-match-p (cdr san) host))))
               sans)))
    (cond (san (ossl--x509-san-string (list san)))
          ((and (not ip) (not (assq 'dns sans))
                (ossl-view--dns-match-p (ossl--x509-name info) host))
           (format "CN=%s" (ossl--x509-name info))))))

(defun ossl-view--failure-kind (outcome)
  "What the verify OUTCOME is about: `dates', `issuer', `name' or `other'."
  (pcase outcome
    ((or 'not-activated 'expired) 'dates)
    ((or 'unknown-ca 'self-signed 'untrusted-root) 'issuer)
    ('no-host-match 'name)
    (_ 'other)))

(defun ossl-view--issuer-finding (cert certs anchors trusted connp)
  "How CERT links up, among CERTS, to ANCHORS; all are (CERTIFICATE . INFO).
TRUSTED is non-nil when OpenSSL verified the whole chain; CONNP when
the certificates came from a connection.  An issuer is one whose
key verifies the signature.  A finding (LEVEL KIND TEXT)."
  (let* ((info (cdr cert))
         (others (remq cert certs))
         (k (cl-position-if (lambda (other) (ossl-view--issued-by-p cert other))
                            others)))
    (when k
      (setq k (cl-position (nth k others) certs)))
    (cond
     (k (list 'ok 'issuer
              (format "was issued by %s%s"
                      (ossl-view--who k (cdr (nth k certs)))
                      (if (= k (1+ (cl-position cert certs))) ""
                        " (sent out of order)"))))
     ((plist-get info :self-signed-p)
      (cond ((ossl-view--anchor-p info anchors)
             (list 'ok 'issuer "is a self-signed root in the trust store"))
            (trusted (list 'ok 'issuer "is a self-signed root, trusted"))
            (t (list 'error 'issuer "is self-signed and not in the trust store"))))
     (t
      (let ((anchor (cl-find-if (lambda (a) (ossl-view--issued-by-p cert a))
                                anchors))
            (impostor (cl-find-if (lambda (c)
                                    (ossl-view--names-issuer-p info (cdr c)))
                                  (append others anchors))))
        (cond
         (anchor (list 'ok 'issuer
                       (format "was issued by %s, in the trust store"
                               (ossl--x509-name (cdr anchor)))))
         (trusted (list 'ok 'issuer
                        (format "was issued by %s, trusted"
                                (plist-get info :issuer-rfc2253))))
         (impostor
          (list 'error 'issuer
                (format "names %s as its issuer, but the signature does not verify with that certificate's key"
                        (plist-get info :issuer-rfc2253))))
         (t (list 'error 'issuer
                  (format "was issued by %s, which is neither %s nor in the trust store"
                          (plist-get info :issuer-rfc2253)
                          (if connp "sent by the peer" "in the file"))))))))))

(defun ossl-view--analyse (certs status)
  "Judge CERTS, leaf first; STATUS is their connection's `ossl-ssl-status', or nil.
Return a list of entries, one per certificate, each a plist:
:index, :cert, :info, :validity (see `ossl-view--validity'),
:failure (OpenSSL's failure at this certificate: (CODE STRING), or
nil) and :findings, a list of (LEVEL KIND TEXT) where LEVEL is `ok',
`warning' or `error' and TEXT follows the certificate's name."
  (let* ((now (float-time))
         (infos (mapcar #'ossl-x509-info certs))
         (pairs (cl-mapcar #'cons certs infos))
         (anchors (ossl-view--anchors))
         (host (plist-get status :hostname))
         (trusted (eq (plist-get status :verify-outcome) 'ok))
         (failure (plist-get status :verify-failure))
         (fail-info (and (nth 2 failure) (ossl-x509-info (nth 2 failure))))
         (fail-index (and fail-info
                          (cl-position (plist-get fail-info :sha256) infos
                                       :key (lambda (i) (plist-get i :sha256))
                                       :test #'equal)))
         (n (length certs))
         (entries nil))
    (dotimes (i n)
      (let* ((info (nth i infos))
             (validity (ossl-view--validity info now))
             (here (and fail-index (= fail-index i)))
             (kind (and here (ossl-view--failure-kind (nth 4 failure))))
             (findings nil))
        (when here
          (push (list 'error kind
                      (ossl-x509-verify-explanation (nth 4 failure) (nth i certs)
                                                    host (nth 3 failure)))
                findings))
        (unless (eq kind 'dates)
          (pcase validity
            (`(expired ,days)
             (push (list 'error 'dates
                         (format "expired on %s (%d days ago)"
                                 (ossl--x509-date (plist-get info :valid-to) "?")
                                 days))
                   findings))
            (`(not-yet-valid ,days)
             (push (list 'error 'dates
                         (format "is not valid before %s (in %d days)"
                                 (ossl--x509-date (plist-get info :valid-from)
                                                  "?")
                                 days))
                   findings))
            (`(expiring ,days)
             (push (list 'warning 'dates
                         (format "expires in %d day%s, on %s" days
                                 (if (= days 1) "" "s")
                                 (ossl--x509-date (plist-get info :valid-to) "?")))
                   findings))))
        (unless (eq kind 'issuer)
          (push (ossl-view--issuer-finding (nth i pairs) pairs anchors trusted
                                           status)
                findings))
        (when (and (> i 0)
                   (not (cl-some (lambda (other)
                                   (and (not (eq other (nth i pairs)))
                                        (ossl-view--issued-by-p other (nth i pairs))))
                                 pairs)))
          (push (list 'warning 'chain
                      "issued none of the other certificates (not needed)")
                findings))
        (when (and (= i 0) host (not (eq kind 'name)))
          (let ((match (ossl-view--name-match host info)))
            (push (cond (match (list 'ok 'name
                                     (format "matches the name %s (%s)" host match)))
                        (trusted (list 'ok 'name
                                       (format "matches the name %s" host)))
                        (t (list 'error 'name
                                 (format "does not match the name %s: it is for %s"
                                         host (ossl--x509-names info)))))
                  findings)))
        (push (list :index i :cert (nth i certs) :info info :validity validity
                    :failure (and here (list (nth 0 failure) (nth 3 failure)))
                    :findings (nreverse findings))
              entries)))
    (nreverse entries)))

(defun ossl-view--first-finding (entries level)
  "The first finding of LEVEL in ENTRIES, as a sentence, or nil."
  (cl-some (lambda (e)
             (let ((f (cl-find level (plist-get e :findings) :key #'car)))
               (and f (format "%s %s" (ossl-view--who (plist-get e :index)
                                                      (plist-get e :info))
                              (nth 2 f)))))
           entries))

(defun ossl-view--verdict (entries status role)
  "The overall verdict on ENTRIES: (LEVEL . TEXT) in plain words.
STATUS is the connection's `ossl-ssl-status', or nil for a file;
ROLE is `client' or `server' for connections (our end's role)."
  (let ((err (ossl-view--first-finding entries 'error))
        (warn (ossl-view--first-finding entries 'warning))
        (host (plist-get status :hostname)))
    (cond
     ((and (null entries) (eq role 'server))
      (cons 'warning "No client certificate: the client did not present one."))
     ((null entries)
      (cons 'error (if status "NOT TRUSTED: the peer sent no certificate."
                     "No certificate found.")))
     (status
      (let* ((result (plist-get status :verify-result))
             (ok (eq (plist-get status :verify-outcome) 'ok))
             (failure (plist-get status :verify-failure)))
        (cond
         ((and ok (not err) (not warn))
          (cons 'ok (format "Trusted: the chain verifies up to a trusted root%s."
                            (if host (format ", and the certificate is valid for %s"
                                             host)
                              ""))))
         (ok
          (cons 'warning (format "Trusted, but %s." (or err warn))))
         (failure
          (let ((fail-entry (cl-find-if (lambda (e) (plist-get e :failure))
                                        entries)))
            (cons 'error
                  (format "NOT TRUSTED: %s %s."
                          (ossl-view--who (plist-get fail-entry :index)
                                          (if fail-entry (plist-get fail-entry :info)
                                            (ossl-x509-info (nth 2 failure))))
                          (ossl-x509-verify-explanation
                           (nth 4 failure) (nth 2 failure) host
                           (nth 3 failure))))))
         (t (cons 'error (format "NOT TRUSTED: %s." (or (cdr result) err)))))))
     (err (cons 'error (format "PROBLEM: %s." err)))
     (warn (cons 'warning (format "Usable, but %s." warn)))
     (t
      (let* ((top (car (last entries)))
             (issuer (cl-find 'issuer (plist-get top :findings) :key #'cadr)))
        (cons 'ok
              (format "Looks valid: the dates are right, the signatures verify, and %s %s."
                      (ossl-view--who (plist-get top :index) (plist-get top :info))
                      (nth 2 issuer))))))))

(defun ossl-view--verdict-of (conn)
  "The verdict on CONN's peer, as (LEVEL . TEXT)."
  (let ((status (ossl-ssl-status conn)))
    (ossl-view--verdict (ossl-view--analyse (plist-get status :peer-certificates)
                                            status)
                        status 'client)))

(provide 'ossl-view-chain)

;;; ossl-view-chain.el ends here
