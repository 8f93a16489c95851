;;; ossl-view.el --- Certificate chain viewer and TLS commands for ossl  -*- lexical-binding: t; -*-

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

;; Interactive commands on top of ossl:
;;
;;  M-x ossl-view-certificate-chain   connect to HOST:PORT (optionally
;;                                    after a STARTTLS dialog in clear)
;;                                    and show the whole chain the server
;;                                    sends, with what is wrong with it;
;;  M-x ossl-describe-connection      the same view for a live coated process;
;;  M-x ossl-view-certificate-file    the same view for a PEM or DER file
;;                                    (also on the file at point in Dired);
;;  M-x ossl-open-tls-stream          an interactive TLS session, like telnet,
;;  M-x ossl-starttls-current-buffer  and STARTTLS by hand, are in
;;                                    ossl-session.el.
;;
;; The viewer (`ossl-view-mode') shows one section per certificate,
;; leaf first.  TAB or RET expands a section into the full text dump,
;; `w' saves the chain as PEM, `c' copies a fingerprint, `g' connects
;; again and refreshes, `q' quits.
;;
;; The verification outcome of each certificate combines what OpenSSL
;; reported for the connection (its first failure, with its depth)
;; with checks made here: validity dates, issuer links between the
;; certificates and to the trust anchors of `ossl-view-ca' and the
;; system CA bundle (a certificate's issuer is the one whose key
;; verifies its signature, `ossl-x509-verify-signature', not merely
;; the one its issuer name names), and the host name against
;; subjectAltName.

;;; Code:

(require 'cl-lib)
(require 'subr-x)
(require 'comint)
(require 'ossl-view-chain)

(declare-function dired-get-filename "dired"
                  (&optional localp no-error-if-not-filep))

;;;; Faces

(defface ossl-view-heading '((t :inherit bold))
  "Face of the title and of certificate headings in `ossl-view-mode'."
  :group 'ossl-view
  :package-version '(ossl . "0.1.0"))

(defface ossl-view-label '((t :inherit font-lock-constant-face))
  "Face of field names in `ossl-view-mode'."
  :group 'ossl-view
  :package-version '(ossl . "0.1.0"))

(defface ossl-view-ok '((t :inherit success))
  "Face of a verification that succeeded, in `ossl-view-mode'."
  :group 'ossl-view
  :package-version '(ossl . "0.1.0"))

(defface ossl-view-bad '((t :inherit error))
  "Face of a verification that failed, in `ossl-view-mode'."
  :group 'ossl-view
  :package-version '(ossl . "0.1.0"))

(defface ossl-view-expired '((t :inherit error))
  "Face of the validity of an expired certificate, in `ossl-view-mode'."
  :group 'ossl-view
  :package-version '(ossl . "0.1.0"))

(defface ossl-view-not-yet-valid '((t :inherit error :underline t))
  "Face of the validity of a certificate not valid yet, in `ossl-view-mode'."
  :group 'ossl-view
  :package-version '(ossl . "0.1.0"))

(defface ossl-view-expiring '((t :inherit warning))
  "Face of a certificate that expires soon, and of warnings, in `ossl-view-mode'.
Soon means within `ossl-view-expiry-warning-days' days."
  :group 'ossl-view
  :package-version '(ossl . "0.1.0"))

;;;; Collecting what to show

(defvar-local ossl-view--source nil
  "What the viewer buffer shows.
\(connect HOST PORT STARTTLS), (process PROCESS) or (file FILE).")

(defvar-local ossl-view--data nil
  "The data the viewer buffer shows.
A plist with the keys :title, :header, :verdict, :entries and :error.")

(defvar-local ossl-view--dump-markers nil
  "A vector: for each certificate, where its full text goes when expanded.")

(defvar-local ossl-view--heading-markers nil
  "A vector: for each certificate, the start of its section.")

(defun ossl-view--status-header (status via)
  "Header lines (LABEL . VALUE) for a connection with STATUS.
VIA, when non-nil, says how TLS was started (STARTTLS)."
  (let ((result (plist-get status :verify-result)))
    (delq nil
          (list
           (cons "Protocol" (concat (or (plist-get status :protocol) "none")
                                    (if via (format " (%s)" via) "")))
           (and (plist-get status :cipher)
                (cons "Cipher" (format "%s, %s bits" (plist-get status :cipher)
                                       (plist-get status :cipher-bits))))
           (and (plist-get status :group)
                (cons "Key exchange"
                      (concat (plist-get status :group)
                              (if (plist-get status :signature-algorithm)
                                  (format ", signed with %s"
                                          (plist-get status :signature-algorithm))
                                ""))))
           (and (plist-get status :alpn)
                (cons "ALPN" (format "%s" (plist-get status :alpn))))
           (and (plist-get status :session-reused)
                (cons "Session" "resumed"))
           (cons "Name checked" (or (plist-get status :hostname) "none"))
           (and result
                (cons "Verify code" (format "%s (%s)" (car result) (cdr result))))))))

(defun ossl-view--connection-data (title status role via)
  "Viewer data for a connection: TITLE, its STATUS, our ROLE, VIA (or nil)."
  (let* ((certs (plist-get status :peer-certificates))
         (entries (ossl-view--analyse certs status)))
    (list :title title
          :header (ossl-view--status-header status via)
          :entries entries
          :verdict (ossl-view--verdict entries status role))))

(defun ossl-view--connect (host port)
  "A plain network process to HOST on PORT, with a filter collecting input.
What arrives is kept as the process property `ossl-view--input'."
  (let ((proc (condition-case err
                   (make-network-process
                    :name (format "ossl-view %s" (ossl-view--host-port host port))
                    :host (ossl--check-host host) :service port
                    :coding 'binary :noquery t
                    :filter (lambda (p s)
                              (process-put p 'ossl-view--input
                                           (concat (process-get p 'ossl-view--input)
                                                   s)))
                    :sentinel #'ignore)
                 (file-error
                  (signal 'ossl-error
                          (list (format "Cannot connect to %s: %s"
                                        (ossl-view--host-port host port)
                                        (or (nth 2 err) (nth 1 err)))))))))
    (process-put proc 'ossl-view--input "")
    proc))

(defun ossl-view--expect (proc regexp what)
  "Wait for REGEXP in the clear text PROC sent; return that text up to the match.
The text is consumed.  WHAT names what is awaited, for errors."
  (let ((deadline (+ (float-time) ossl-handshake-timeout))
        (case-fold-search t))
    (while (not (string-match regexp (process-get proc 'ossl-view--input)))
      (cond ((not (process-live-p proc))
             (signal 'ossl-error
                     (list (format "The server closed the connection while ossl waited for %s"
                                   what))))
            ((> (float-time) deadline)
             (signal 'ossl-timeout-error
                     (list (format "No %s after %s seconds" what
                                   ossl-handshake-timeout)))))
      (accept-process-output proc 0.1))
    (let* ((input (process-get proc 'ossl-view--input))
           (end (match-end 0)))
      (process-put proc 'ossl-view--input (substring input end))
      (substring input 0 end))))

(defun ossl-view--last-line (text)
  "The last non-empty line of TEXT."
  (car (last (split-string text "[\r\n]+" t))))

(defun ossl-view--reply (proc code what)
  "Read a three-digit reply (SMTP, FTP) from PROC; signal unless it is CODE.
WHAT names the reply, for errors.  Return the whole reply."
  (let* ((reply (ossl-view--expect proc "^[0-9][0-9][0-9]\\(?:[ \r][^\n]*\\)?\n" what))
         (last (ossl-view--last-line reply)))
    (unless (string-prefix-p (number-to-string code) last)
      (signal 'ossl-error (list (format "Unexpected %s: %s" what last))))
    reply))

(defun ossl-view--starttls-dialog (proc protocol)
  "Run PROTOCOL's STARTTLS dialog on PROC in clear, up to the go-ahead.
PROTOCOL is one of `smtp', `imap', `pop3', `xmpp' and `ftp'."
  (let ((case-fold-search t)
        (send (lambda (s) (process-send-string proc s))))
    (pcase protocol
      ('smtp
       (ossl-view--reply proc 220 "SMTP greeting")
       (funcall send (format "EHLO %s\r\n" (system-name)))
       (unless (string-match-p "^250[- ]STARTTLS"
                               (ossl-view--reply proc 250 "SMTP reply to EHLO"))
         (signal 'ossl-not-supported-error
                 (list "The SMTP server does not offer STARTTLS")))
       (funcall send "STARTTLS\r\n")
       (ossl-view--reply proc 220 "SMTP reply to STARTTLS"))
      ('imap
       (let ((greeting (ossl-view--expect proc "^\\* [^\n]*\n" "IMAP greeting")))
         (unless (string-match-p "^\\* \\(OK\\|PREAUTH\\)" greeting)
           (signal 'ossl-error (list (format "Unexpected IMAP greeting: %s"
                                             (ossl-view--last-line greeting))))))
       (funcall send "ossl1 STARTTLS\r\n")
       (let ((reply (ossl-view--expect proc "^ossl1 [^\n]*\n" "IMAP reply to STARTTLS")))
         (unless (string-match-p "^ossl1 OK" (ossl-view--last-line reply))
           (signal 'ossl-error (list (format "Unexpected IMAP reply to STARTTLS: %s"
                                             (ossl-view--last-line reply)))))))
      ('pop3
       (let ((greeting (ossl-view--expect proc "^[-+][^\n]*\n" "POP3 greeting")))
         (unless (string-prefix-p "+OK" (ossl-view--last-line greeting))
           (signal 'ossl-error (list (format "Unexpected POP3 greeting: %s"
                                             (ossl-view--last-line greeting))))))
       (funcall send "STLS\r\n")
       (let ((reply (ossl-view--expect proc "^[-+][^\n]*\n" "POP3 reply to STLS")))
         (unless (string-prefix-p "+OK" (ossl-view--last-line reply))
           (signal 'ossl-error (list (format "Unexpected POP3 reply to STLS: %s"
                                             (ossl-view--last-line reply)))))))
      ('xmpp
       (funcall send
                (format "<?xml version='1.0'?><stream:stream to='%s' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
                        (plist-get (process-get proc 'ossl-view--target) :host)))
       (unless (string-match-p
                "urn:ietf:params:xml:ns:xmpp-tls"
                (ossl-view--expect proc "</stream:features>\\|<stream:features/>"
                                   "XMPP stream features"))
         (signal 'ossl-not-supported-error
                 (list "The XMPP server does not offer STARTTLS")))
       (funcall send "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
       (let ((reply (ossl-view--expect proc "<proceed[^>]*>\\|<failure[^>]*>"
                                       "XMPP reply to starttls")))
         (unless (string-match-p "<proceed" reply)
           (signal 'ossl-error (list "The XMPP server refused STARTTLS")))))
      ('ftp
       (ossl-view--reply proc 220 "FTP greeting")
       (funcall send "AUTH TLS\r\n")
       (ossl-view--reply proc 234 "FTP reply to AUTH TLS"))
      (_ (signal 'wrong-type-argument (list 'ossl-view-starttls-protocol protocol))))))

(defun ossl-view--collect-connect (host port starttls)
  "Viewer data for a new connection to HOST on PORT, after STARTTLS if non-nil."
  (let ((proc (ossl-view--connect host port)))
    (unwind-protect
        (progn
          (process-put proc 'ossl-view--target (list :host host :port port))
          (when starttls (ossl-view--starttls-dialog proc starttls))
          (let ((conn (ossl-starttls proc :verify nil :hostname host
                                     :ca ossl-view-ca)))
            (ossl-view--connection-data
             (format "TLS connection to %s" (ossl-view--host-port host port))
             (ossl-ssl-status conn) 'client
             (and starttls (format "after STARTTLS, %s" starttls)))))
      (delete-process proc))))

(defun ossl-view--process-title (proc)
  "A title for the view of the coated process PROC."
  (let ((contact (and (eq (process-type proc) 'network)
                      (not (process-contact proc :server))
                      (process-contact proc))))
    (format "TLS connection %s%s" (process-name proc)
            (if (and (consp contact) (stringp (car contact)))
                (format " to %s" (ossl-view--host-port (car contact)
                                                       (cadr contact)))
              ""))))

(defun ossl-view--collect-process (proc)
  "Viewer data for the live TLS connection of process PROC."
  (let ((conn (ossl-process-conn proc)))
    (unless (process-live-p proc)
      (signal 'ossl-closed-error
              (list (format "Process %s is no longer running (%s)"
                            (process-name proc) (process-status proc)))))
    (unless conn
      (signal 'ossl-error (list (format "Process %s is not coated with TLS"
                                        (process-name proc)))))
    (let ((role (if (ossl--conn-serverp conn) 'server 'client))
          (status (ossl-ssl-status conn)))
      (ossl-view--connection-data
       (ossl-view--process-title proc)
       status role
       (format "%s, %s" (plist-get status :state)
               (if (eq role 'server) "we are the server" "we are the client"))))))

(defun ossl-view--collect-file (file)
  "Viewer data for the certificates in FILE."
  (let* ((certs (ossl-x509-read-file file))
         (entries (ossl-view--analyse certs nil)))
    (list :title (format "Certificate file %s" (abbreviate-file-name file))
          :header (list (cons "Contains" (format "%d certificate%s"
                                                 (length certs)
                                                 (if (cdr certs) "s" "")))
                        (cons "Trust store"
                              (if (ossl-view--anchors)
                                  (format "%d anchors (names and key identifiers compared)"
                                          (length (ossl-view--anchors)))
                                "none found")))
          :entries entries
          :verdict (ossl-view--verdict entries nil nil))))

(defun ossl-view--collect (source)
  "Viewer data for SOURCE (see `ossl-view--source')."
  (pcase source
    (`(connect ,host ,port ,starttls) (ossl-view--collect-connect host port starttls))
    (`(process ,proc) (ossl-view--collect-process proc))
    (`(file ,file) (ossl-view--collect-file file))
    (_ (error "Nothing to show"))))

(defun ossl-view--source-title (source)
  "A title for SOURCE when it could not be read."
  (pcase source
    (`(connect ,host ,port ,_) (format "TLS connection to %s"
                                       (ossl-view--host-port host port)))
    (`(process ,proc) (format "TLS connection %s" (process-name proc)))
    (`(file ,file) (format "Certificate file %s" (abbreviate-file-name file)))
    (_ "ossl")))

;;;; Drawing

(defconst ossl-view--label-width 14
  "Columns taken by field names.")

(defconst ossl-view--text-width 62
  "Columns for field values, so that sections fit in 80 columns.")

(defun ossl-view--field (indent label value &optional face)
  "Insert LABEL and VALUE (wrapped) at INDENT, VALUE in FACE."
  (let* ((lines (or (ossl-view--wrap value ossl-view--text-width) (list "")))
         (pad (make-string (+ indent ossl-view--label-width) ?\s)))
    (insert (make-string indent ?\s)
            (propertize (concat label ":") 'face 'ossl-view-label)
            (make-string (max 1 (- ossl-view--label-width (length label) 1)) ?\s)
            (if face (propertize (car lines) 'face face) (car lines))
            "\n")
    (dolist (line (cdr lines))
      (insert pad (if face (propertize line 'face face) line) "\n"))))

(defun ossl-view--continuation (indent text &optional face)
  "Insert TEXT (wrapped) under the values of fields at INDENT, in FACE."
  (let ((pad (make-string (+ indent ossl-view--label-width) ?\s)))
    (dolist (line (ossl-view--wrap text ossl-view--text-width))
      (insert pad (if face (propertize line 'face face) line) "\n"))))

(defun ossl-view--role-name (entry count connp)
  "What ENTRY is, among COUNT certificates; CONNP for a connection's chain."
  (let ((info (plist-get entry :info))
        (index (plist-get entry :index)))
    (cond ((and (= index 0) connp) "Peer certificate")
          ((and (plist-get info :ca-p) (plist-get info :self-signed-p)) "Root CA")
          ((plist-get info :ca-p) "Intermediate CA")
          ((and (= index 0) (plist-get info :self-signed-p))
           "Self-signed certificate")
          ((= index 0) (if (> count 1) "Leaf certificate" "Certificate"))
          (t "Certificate"))))

(defun ossl-view--validity-text (entry)
  "The validity line of ENTRY and its face: (TEXT . FACE)."
  (let* ((info (plist-get entry :info))
         (range (format "%s to %s"
                        (ossl--x509-date (plist-get info :valid-from) "?")
                        (ossl--x509-date (plist-get info :valid-to) "?"))))
    (pcase (plist-get entry :validity)
      (`(expired ,days)
       (cons (format "%s: EXPIRED %d days ago" range days) 'ossl-view-expired))
      (`(not-yet-valid ,days)
       (cons (format "%s: NOT YET VALID, starts in %d days" range days)
             'ossl-view-not-yet-valid))
      (`(expiring ,days)
       (cons (format "%s: expires in %d day%s" range days (if (= days 1) "" "s"))
             'ossl-view-expiring))
      (`(valid ,days) (cons (format "%s: %d days left" range days) nil))
      (_ (cons range nil)))))

(defun ossl-view--insert-entry (entry count connp)
  "Insert the section of ENTRY among COUNT certificates; CONNP for connections.
Return (HEADING-MARKER . DUMP-MARKER)."
  (let* ((start (point))
         (index (plist-get entry :index))
         (info (plist-get entry :info))
         (findings (plist-get entry :findings))
         (failure (plist-get entry :failure))
         (sha256 (or (plist-get info :sha256) "?"))
         (validity (ossl-view--validity-text entry)))
    (insert (propertize (format "[%d] %s: %s" index
                                (ossl-view--role-name entry count connp)
                                (ossl--x509-name info))
                        'face 'ossl-view-heading)
            "\n")
    (ossl-view--field 4 "Subject" (or (plist-get info :subject-rfc2253) ""))
    (ossl-view--field 4 "Issuer" (or (plist-get info :issuer-rfc2253) ""))
    (ossl-view--field 4 "Serial" (or (plist-get info :serial-hex) ""))
    (ossl-view--field 4 "Valid" (car validity) (cdr validity))
    (ossl-view--field 4 "Names" (if (plist-get info :subject-alt-names)
                                    (ossl--x509-san-string
                                     (plist-get info :subject-alt-names))
                                  "none (no subjectAltName)"))
    (ossl-view--field 4 "Key" (format "%s, %s bits%s"
                                      (plist-get info :public-key-algorithm)
                                      (plist-get info :public-key-bits)
                                      (if (plist-get info :ca-p) "; a CA" "")))
    (ossl-view--field 4 "Signature" (format "%s" (plist-get info :signature-algorithm)))
    ;; 16 bytes of fingerprint per line: fits 80 columns.
    (if (> (length sha256) 48)
        (progn (ossl-view--field 4 "SHA-256" (substring sha256 0 48))
               (ossl-view--continuation 4 (substring sha256 48)))
      (ossl-view--field 4 "SHA-256" sha256))
    (let ((worst (cond ((assq 'error findings) 'error)
                       ((assq 'warning findings) 'warning)
                       (t 'ok))))
      (ossl-view--field 4 "Verification"
                        (cond (failure (format "FAILED (OpenSSL: %s)" (nth 1 failure)))
                              ((eq worst 'error) "PROBLEM")
                              ((eq worst 'warning) "ok, with a warning")
                              (t "ok"))
                        (pcase worst
                          ('error 'ossl-view-bad)
                          ('warning 'ossl-view-expiring)
                          (_ 'ossl-view-ok)))
      (dolist (f findings)
        (ossl-view--continuation 4 (nth 2 f)
                                 (pcase (car f)
                                   ('error 'ossl-view-bad)
                                   ('warning 'ossl-view-expiring)))))
    (put-text-property start (point) 'ossl-view-index index)
    (cons (copy-marker start) (copy-marker (point)))))

(defun ossl-view--render ()
  "Draw the current buffer from `ossl-view--data'."
  (let* ((inhibit-read-only t)
         (data ossl-view--data)
         (entries (plist-get data :entries))
         (connp (not (eq (car ossl-view--source) 'file)))
         (verdict (plist-get data :verdict))
         (line (line-number-at-pos))
         (markers nil))
    (erase-buffer)
    (insert (propertize (plist-get data :title) 'face 'ossl-view-heading) "\n")
    (dolist (h (plist-get data :header))
      (ossl-view--field 0 (car h) (cdr h)))
    (if (plist-get data :error)
        (ossl-view--field 0 "Verdict" (format "FAILED: %s" (plist-get data :error))
                          'ossl-view-bad)
      (ossl-view--field 0 "Verdict" (cdr verdict)
                        (pcase (car verdict)
                          ('ok 'ossl-view-ok)
                          ('warning 'ossl-view-expiring)
                          (_ 'ossl-view-bad))))
    (insert "\n")
    (dolist (entry entries)
      (push (ossl-view--insert-entry entry (length entries) connp) markers)
      (insert "\n"))
    (insert (propertize (substitute-command-keys
                         "\\<ossl-view-mode-map>TAB/RET: full text  \\[ossl-view-save-pem]: save as PEM  \\[ossl-view-copy-fingerprint]: copy SHA-256  \\[revert-buffer]: refresh  \\[quit-window]: quit")
                        'face 'shadow)
            "\n")
    (setq markers (nreverse markers))
    (setq ossl-view--heading-markers (vconcat (mapcar #'car markers))
          ossl-view--dump-markers (vconcat (mapcar #'cdr markers)))
    (goto-char (point-min))
    (forward-line (1- line))))

(defun ossl-view--error-text (err)
  "The message of the error condition ERR, without quotes around it."
  (if (stringp (cadr err)) (cadr err) (error-message-string err)))

(defun ossl-view--refresh ()
  "Collect the data of `ossl-view--source' again and redraw."
  (setq ossl-view--data
        (condition-case err
            (ossl-view--collect ossl-view--source)
          (error
           (message "ossl: %s" (ossl-view--error-text err))
           (list :title (ossl-view--source-title ossl-view--source)
                 :error (ossl-view--error-text err)))))
  (ossl-view--render))

(defun ossl-view--revert (&optional _ignore-auto _noconfirm)
  "Connect or read again, and redraw: the `revert-buffer-function' of the viewer."
  (ossl-view--refresh)
  (message "%s" (cdr (plist-get ossl-view--data :verdict))))

;;;; The mode and its commands

(defvar ossl-view-mode-map
  (let ((map (make-sparse-keymap)))
    (define-key map (kbd "TAB") #'ossl-view-toggle-section)
    (define-key map (kbd "RET") #'ossl-view-toggle-section)
    (define-key map (kbd "w") #'ossl-view-save-pem)
    (define-key map (kbd "c") #'ossl-view-copy-fingerprint)
    (define-key map (kbd "n") #'ossl-view-next-section)
    (define-key map (kbd "p") #'ossl-view-previous-section)
    map)
  "Keymap of `ossl-view-mode'.")

(define-derived-mode ossl-view-mode special-mode "ossl-view"
  "Major mode of the ossl certificate viewer.
The buffer shows a TLS connection or a certificate file: a header
with the protocol, the cipher, the name checked and the verdict in
plain words, then one section per certificate, leaf first, with its
verification outcome.

\\{ossl-view-mode-map}"
  (setq-local revert-buffer-function #'ossl-view--revert)
  (setq-local truncate-lines nil)
  (buffer-disable-undo))

(defun ossl-view--section-at (pos)
  "The index of the certificate section at POS (or just before it), or nil."
  (or (get-text-property pos 'ossl-view-index)
      (and (> pos (point-min)) (get-text-property (1- pos) 'ossl-view-index))))

(defun ossl-view--entry (index)
  "The entry of certificate INDEX in the current viewer buffer."
  (nth index (plist-get ossl-view--data :entries)))

(defun ossl-view-toggle-section (&optional index)
  "Show or hide the full text of the certificate at point.
From Lisp, INDEX chooses the certificate (0 is the leaf).  The text
is what `ossl-x509-text' gives, like `openssl x509 -text'."
  (interactive nil ossl-view-mode)
  (let* ((index (or index (ossl-view--section-at (point))
                    (user-error "No certificate here")))
         (marker (aref ossl-view--dump-markers index))
         (inhibit-read-only t))
    (if (get-text-property marker 'ossl-view-dump)
        (delete-region marker (next-single-property-change
                               marker 'ossl-view-dump nil (point-max)))
      (save-excursion
        (goto-char marker)
        (let ((text (ossl-x509-text (plist-get (ossl-view--entry index) :cert))))
          (insert (propertize
                   (replace-regexp-in-string
                    "^" "      " (string-trim-right text) t t)
                   'ossl-view-dump t 'ossl-view-index index)
                  (propertize "\n" 'ossl-view-dump t 'ossl-view-index index)))))))

(defun ossl-view-next-section ()
  "Move to the next certificate."
  (interactive nil ossl-view-mode)
  (let ((next (cl-find-if (lambda (m) (> m (point))) ossl-view--heading-markers)))
    (if next (goto-char next) (user-error "No next certificate"))))

(defun ossl-view-previous-section ()
  "Move to the previous certificate."
  (interactive nil ossl-view-mode)
  (let ((prev (cl-find-if (lambda (m) (< m (point))) ossl-view--heading-markers
                          :from-end t)))
    (if prev (goto-char prev) (user-error "No previous certificate"))))

(defun ossl-view--certs ()
  "The certificates shown in the current viewer buffer, leaf first."
  (mapcar (lambda (e) (plist-get e :cert)) (plist-get ossl-view--data :entries)))

(defun ossl-view--default-pem-name ()
  "A file name for the chain shown in the current buffer."
  (pcase ossl-view--source
    (`(connect ,host ,port ,_)
     (format "%s-%s-chain.pem" (replace-regexp-in-string "[^A-Za-z0-9.-]" "_" host)
             port))
    (`(file ,file) (concat (file-name-base file) "-chain.pem"))
    (_ "chain.pem")))

(defun ossl-view-save-pem (file)
  "Save the certificates shown, leaf first, in PEM form to FILE.
Interactively, ask for FILE, and confirm before overwriting one.
Return FILE."
  (interactive
   (list (let ((f (read-file-name "Save the certificates as PEM: " nil nil nil
                                  (ossl-view--default-pem-name))))
           (when (file-directory-p f)
             (setq f (expand-file-name (ossl-view--default-pem-name) f)))
           (when (and (file-exists-p f)
                      (not (y-or-n-p (format "Overwrite %s? " f))))
             (user-error "Not saved"))
           f))
   ossl-view-mode)
  (let ((certs (ossl-view--certs)))
    (unless certs (user-error "No certificates to save"))
    (let ((coding-system-for-write 'us-ascii-unix))
      (write-region (mapconcat #'ossl-x509-to-pem certs "") nil file nil 'silent))
    (message "Saved %d certificate%s to %s" (length certs)
             (if (cdr certs) "s" "") file)
    file))

(defun ossl-view-copy-fingerprint (&optional sha1)
  "Copy the SHA-256 fingerprint of the certificate at point to the kill ring.
Outside any section, copy the first certificate's.  With a prefix
argument SHA1, copy the SHA-1 fingerprint.  Return the fingerprint."
  (interactive "P" ossl-view-mode)
  (let* ((index (or (ossl-view--section-at (point)) 0))
         (entry (or (ossl-view--entry index) (user-error "No certificate here")))
         (info (plist-get entry :info))
         (fp (plist-get info (if sha1 :sha1 :sha256))))
    (kill-new fp)
    (message "Copied the %s fingerprint of %s: %s" (if sha1 "SHA-1" "SHA-256")
             (ossl-view--who index info) fp)
    fp))

(defun ossl-view--show (buffer-name source)
  "Show SOURCE (see `ossl-view--source') in the viewer buffer BUFFER-NAME.
Return the buffer."
  (let ((buffer (get-buffer-create buffer-name)))
    (with-current-buffer buffer
      (ossl-view-mode)
      (setq ossl-view--source source)
      (ossl-view--refresh)
      (goto-char (point-min)))
    (pop-to-buffer buffer)
    (message "%s" (or (cdr (plist-get (buffer-local-value 'ossl-view--data buffer)
                                      :verdict))
                      (plist-get (buffer-local-value 'ossl-view--data buffer)
                                 :error)))
    buffer))

(defun ossl-view--read-starttls (port always)
  "Ask which STARTTLS dialog to run on PORT; nil for none.
Ask only on a port of `ossl-view-starttls-ports', or if ALWAYS."
  (let ((guess (ossl-view--starttls-for-port port)))
    (when (or guess always)
      (let* ((default (if guess (symbol-name guess) "none"))
             (answer (completing-read (format-prompt "STARTTLS dialog first" default)
                                      '("none" "smtp" "imap" "pop3" "xmpp" "ftp")
                                      nil t nil nil default)))
        (and (not (member answer '("" "none"))) (intern answer))))))

;;;###autoload
(defun ossl-view-certificate-chain (host port &optional starttls)
  "Connect to HOST on PORT and show the certificate chain it sends.
STARTTLS, when non-nil, is the dialog to run in clear first: `smtp',
`imap', `pop3', `xmpp' or `ftp'.  Interactively, the command asks for
it on the ports of `ossl-view-starttls-ports', and with a prefix
argument on any port.  The handshake goes on whatever the outcome of
verification (against the system store and `ossl-view-ca'), so that
the buffer can show what is wrong; the connection is closed as soon
as the certificates are read, and \\<ossl-view-mode-map>\\[revert-buffer] connects again.
Return the viewer buffer."
  (interactive
   (let ((target (ossl-view--read-host-port)))
     (append target (list (ossl-view--read-starttls (cadr target)
                                                    current-prefix-arg)))))
  (ossl-view--show (format "*ossl-view %s*" (ossl-view--host-port host port))
                   (list 'connect host port starttls)))

(defun ossl-view--coated-processes ()
  "The live processes coated with TLS."
  (cl-remove-if-not (lambda (p) (and (process-live-p p) (ossl-process-conn p)))
                    (process-list)))

(defun ossl-view--read-coated-process ()
  "The current buffer's coated process, or one the user picks."
  (let ((own (get-buffer-process (current-buffer))))
    (if (and own (ossl-process-conn own))
        own
      (let ((procs (ossl-view--coated-processes)))
        (unless procs (user-error "No process is coated with TLS"))
        (get-process
         (completing-read "Describe the TLS connection of process: "
                          (mapcar #'process-name procs) nil t nil nil
                          (process-name (car procs))))))))

;;;###autoload
(defun ossl-describe-connection (process)
  "Show the TLS connection of PROCESS and the certificates of its peer.
Interactively, PROCESS is the current buffer's process when it is
coated with TLS, else one picked among the coated processes.  The view
is that of `ossl-view-certificate-chain', from the live connection;
\\<ossl-view-mode-map>\\[revert-buffer] reads it again.  Return the viewer buffer."
  (interactive (list (ossl-view--read-coated-process)))
  (let ((proc (cond ((processp process) process)
                    ((ossl-ssl-conn-p process) (ossl-ssl-parent process))
                    (t (or (get-process process)
                           (signal 'wrong-type-argument
                                   (list 'processp process)))))))
    (ossl-view--show (format "*ossl-view %s*" (process-name proc))
                     (list 'process proc))))

(defun ossl-view--read-certificate-file ()
  "The file at point in Dired, or a certificate file the user names."
  (or (and (derived-mode-p 'dired-mode) (not current-prefix-arg)
           (let ((f (dired-get-filename nil t)))
             (and f (not (file-directory-p f)) f)))
      (read-file-name "Certificate file (PEM or DER): " nil
                      (and buffer-file-name
                           (string-match-p "\\.\\(pem\\|crt\\|cer\\|der\\)\\'"
                                           buffer-file-name)
                           buffer-file-name)
                      t)))

;;;###autoload
(defun ossl-view-certificate-file (file)
  "Show the certificates in FILE (PEM, every certificate in it, or DER).
Check a certificate or a chain before installing it: dates, names,
how the certificates link up, and whether the last one's issuer is a
trust anchor (`ossl-view-ca' and the system bundle; names and key
identifiers are compared, signatures are not checked).  In Dired,
interactively, FILE is the file at point (with a prefix argument, ask).
Return the viewer buffer."
  (interactive (list (ossl-view--read-certificate-file)))
  (let ((file (expand-file-name file)))
    (ossl-view--show (format "*ossl-view %s*" (file-name-nondirectory file))
                     (list 'file file))))

(provide 'ossl-view)

;;; ossl-view.el ends here
