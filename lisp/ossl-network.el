;;; ossl-network.el --- Emacs networking over ossl: open-network-stream, STARTTLS, NSM  -*- lexical-binding: t; -*-

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

;; `ossl-network-mode' makes Emacs's own networking libraries speak TLS
;; through ossl instead of GnuTLS: smtpmail and Gnus (STARTTLS through
;; `open-network-stream'), url (https, and CONNECT tunnels through
;; `gnutls-negotiate'), erc (`:nowait' TLS), package.el, and anything
;; else that calls `open-network-stream', `open-gnutls-stream',
;; `gnutls-negotiate' or `make-network-process' with :tls-parameters.
;; It works on an Emacs built with or without GnuTLS.
;;
;;   (require 'ossl-network)
;;   (ossl-network-mode 1)
;;
;; While the mode is on:
;;
;; - `open-network-stream' with :type `tls', `ssl', `starttls', or
;;   `network'/nil with opportunistic STARTTLS opens its TLS layer with
;;   ossl.  Verification is left to the Network Security Manager, as
;;   Emacs does with GnuTLS: the handshake itself does not abort on a
;;   bad certificate, then `nsm-verify-connection' decides (it may ask
;;   the user, remembers exceptions, and honours
;;   `network-security-level').  A caller that asks for strict checks
;;   through `gnutls-verify-error' (or :verify-error) gets them from
;;   ossl during the handshake.
;; - Processes coated by ossl answer `gnutls-peer-status' with a plist
;;   of the same shape as GnuTLS's (see `ossl-network-peer-status'), so
;;   the NSM, url and everything else reading it work unchanged.
;; - Failures say which host, which step (connect, handshake,
;;   verification, NSM) and why, in words.
;; - Client certificates: :client-certificate (KEY CERT) or t (looked
;;   up with auth-source), as network-stream does; an encrypted KEY is
;;   unlocked with a passphrase from auth-source or `read-passwd'.
;; - STARTTLS is safe: whatever the server sent after its "go ahead"
;;   reply is discarded, never shown as protected data; when TLS was
;;   required and cannot be had, no plaintext connection stays open.
;;
;; Turning the mode off removes every piece of advice and every
;; definition it made, which restores Emacs's own behaviour.

;;; Code:

(require 'cl-lib)
(require 'subr-x)
(require 'nadvice)
(require 'ossl)
(require 'ossl-nsm)
(require 'gnutls)
(require 'network-stream)
(require 'nsm)
(require 'auth-source)
(require 'puny)

(defvar gnutls-log-level)               ; gnutls.c, only with GnuTLS

;;;; Customization

(defgroup ossl-network nil
  "Emacs's networking libraries over ossl."
  :group 'ossl
  :link '(info-link "(ossl)Emacs Networking")
  :prefix "ossl-network-")

(defcustom ossl-network-extra-ca nil
  "Certificate authorities trusted by connections `ossl-network-mode' opens.
A list of CA files, hashed CA directories or PEM strings, trusted in
addition to the system store (see `ossl-trust-system-store').  CA
files the user added to `gnutls-trustfiles' are trusted as well,
and so are the :trustfiles given to `gnutls-negotiate'."
  :type '(repeat (choice (file :tag "CA file or directory")
                         (string :tag "PEM text")))
  :package-version '(ossl . "0.1.0"))

(defcustom ossl-network-passphrase-function #'ossl-network-read-passphrase
  "Function returning the passphrase of an encrypted client key.
It is called with the key file, the host and the service, and
returns a string, or nil to try without one."
  :type 'function
  :package-version '(ossl . "0.1.0"))

;;;; Errors

;; The errors signalled on behalf of gnutls.el's entry points are both
;; ossl errors and `gnutls-error's, so that callers written for GnuTLS
;; (network-stream, url) catch them.
(define-error 'ossl-network-error "TLS connection failed"
  '(ossl-error gnutls-error))
(define-error 'ossl-network-handshake-error "TLS handshake failed"
  '(ossl-handshake-error ossl-network-error))
(define-error 'ossl-network-verify-error "TLS certificate verification failed"
  '(ossl-verify-error ossl-network-handshake-error))
(define-error 'ossl-network-timeout-error "TLS handshake timed out"
  '(ossl-timeout-error ossl-network-handshake-error))

(defconst ossl-network--reason-hints
  '(("unsupported protocol\\|alert protocol version"
     . "the server offered only a TLS version older than 1.2, which ossl refuses")
    ("wrong version number\\|packet length too long\\|record layer failure"
     . "the server did not answer in TLS: this port may expect plain text or STARTTLS")
    ("no shared cipher\\|handshake failure"
     . "the server refused the handshake: it may speak only TLS older than 1.2, which ossl refuses, share no cipher suite with ossl, or want a client certificate")
    ("certificate required\\|alert certificate required"
     . "the server requires a client certificate (see :client-certificate)")
    ("unknown ca\\|bad certificate"
     . "the server rejected the client certificate"))
  "OpenSSL reasons, as regexps, and what they mean for a user.")

(defun ossl-network--explain-reason (message)
  "MESSAGE with a plain-words hint appended when it has a known reason."
  (setq message (replace-regexp-in-string
                 "failed: TLS handshake failed: " "failed: " message t t))
  (let ((hint (cl-loop for (re . words) in ossl-network--reason-hints
                       when (let ((case-fold-search t))
                              (string-match-p re message))
                       return words)))
    (if (and hint (not (string-search hint message)))
        (format "%s (%s)" message hint)
      message)))

(defun ossl-network--resignal (err)
  "Signal ERR, an ossl error, as the matching `ossl-network-error'."
  (let ((symbol (car err)))
    (signal (cond ((memq 'ossl-verify-error (get symbol 'error-conditions))
                   'ossl-network-verify-error)
                  ((memq 'ossl-timeout-error (get symbol 'error-conditions))
                   'ossl-network-timeout-error)
                  ((memq 'ossl-handshake-error (get symbol 'error-conditions))
                   'ossl-network-handshake-error)
                  (t 'ossl-network-error))
            (list (ossl-network--explain-reason
                   (cond ((memq symbol '(ossl-verify-error ossl-timeout-error
                                                           ossl-handshake-error))
                          (format "%s" (cadr err)))
                         ((stringp (cadr err))
                          (format "%s: %s" (get symbol 'error-message) (cadr err)))
                         (t (error-message-string err))))))))

;;;; Processes: small helpers

(defvar ossl-network--bypass nil
  "Non-nil while ossl-network wants the real answers of advised primitives.")

;;;; Building the TLS keys of a connection

(defun ossl-network--trusted-cas (&optional trustfiles)
  "The CAs to trust beyond the system store: TRUSTFILES and the user's."
  (let ((standard (ignore-errors
                    (eval (car (get 'gnutls-trustfiles 'standard-value)) t))))
    (delete-dups
     (append ossl-network-extra-ca
             ;; CAs the user added to `gnutls-trustfiles'.
             (and (not (equal gnutls-trustfiles standard))
                  (ignore-errors (gnutls-trustfiles)))
             trustfiles))))

(defun ossl-network-read-passphrase (key host service)
  "Return the passphrase of the encrypted client key file KEY.
Used for connections to HOST on SERVICE.  The passphrase is looked
up with auth-source first: an entry whose host is the key file's
absolute name (netrc: \"machine /path/to/client.key password
PASSPHRASE\"), or the entry of HOST and SERVICE when it names this
key (\"key /path/to/client.key\") and has a \"passphrase\" field.
Otherwise it is read with `read-passwd'."
  (let* ((file (expand-file-name key))
         (secret (lambda (entry field)
                   (let ((v (plist-get entry field)))
                     (if (functionp v) (funcall v) v))))
         (by-file (car (ignore-errors
                         (auth-source-search :max 1 :host file))))
         (by-host (car (ignore-errors
                         (auth-source-search :max 1 :host host
                                             :port (format "%s" service)))))
         (pass (or (funcall secret by-file :secret)
                   (and by-host
                        (plist-get by-host :key)
                        (equal (expand-file-name (plist-get by-host :key)) file)
                        (funcall secret by-host :passphrase)))))
    (or pass
        (read-passwd (format "Passphrase for the TLS client key %s (for %s): "
                             (abbreviate-file-name file)
                             (ossl-network--host-port host service))))))

(defun ossl-network--tls-keys (host service keylist trustfiles)
  "The keys of `ossl-starttls' for a client connection to HOST:SERVICE.
KEYLIST is GnuTLS's ((KEY CERT)); only its first pair is used.
TRUSTFILES are CA files to trust too.  Verification does not abort
the handshake: the caller decides, or the NSM does."
  (let* ((pair (car keylist))
         (key (and pair (expand-file-name (nth 0 pair))))
         (cert (and pair (expand-file-name (nth 1 pair))))
         (ca (ossl-network--trusted-cas trustfiles)))
    (append (list :hostname (if (stringp host) (puny-encode-domain host) host)
                  :verify nil)
            (and ca (list :ca ca))
            (and cert (list :cert cert :key key))
            ;; Called only if the key turns out to be encrypted.
            (and key (list :password
                           (lambda ()
                             (funcall ossl-network-passphrase-function
                                      key host service)))))))

(defun ossl-network--explicit-trustfiles (trustfiles)
  "TRUSTFILES, unless they are only GnuTLS's default trust files."
  (and trustfiles
       (not (equal trustfiles (ignore-errors (gnutls-trustfiles))))
       trustfiles))

;;;; Blocking handshakes

(defun ossl-network--negotiate (process host service &rest options)
  "Coat PROCESS, connected to HOST on SERVICE, with TLS; return PROCESS.
OPTIONS: :keylist ((KEY CERT)), :trustfiles (CA files), :flags (the
checks that must pass, a subset of (:trustfiles :hostname); nil
leaves the decision to the caller or the NSM).  On any failure,
PROCESS is deleted and an `ossl-network-error' is signalled."
  (let ((flags (plist-get options :flags))
        (done nil))
    (unwind-protect
        (progn
          (condition-case err
              (apply #'ossl-starttls process
                     (ossl-network--tls-keys host service
                                             (plist-get options :keylist)
                                             (plist-get options :trustfiles)))
            (ossl-error (ossl-network--resignal err)))
          (let ((problem (and flags
                              (ossl-network--strict-problem
                               (ossl-process-conn process) flags host))))
            (when problem
              (signal 'ossl-network-verify-error (list problem))))
          (setq done t)
          process)
      (unless done
        ;; Never leave a plaintext connection behind a failed TLS one.
        (when (process-live-p process)
          (delete-process process))))))

(defun ossl-network--connect (name buffer host service parameters &optional nowait)
  "Open the TCP connection of `open-network-stream' PARAMETERS.
NAME, BUFFER, HOST and SERVICE are as for `open-network-stream';
NOWAIT as for `make-network-process'.  A failure says what failed."
  (condition-case err
      (make-network-process :name name :buffer buffer
                            :host (puny-encode-domain host) :service service
                            :nowait nowait
                            :coding (plist-get parameters :coding))
    (file-error
     (signal (car err)
             (list (format "Connecting to %s failed"
                           (ossl-network--host-port host service))
                   (or (nth 2 err) (nth 1 err)))))))

;;;; Non-blocking TLS connections

;; A :nowait TLS connection behaves as with GnuTLS: its status stays
;; `connect' and its sentinel hears "open" only once the handshake is
;; over and the NSM accepted the peer.  Until then ossl-network holds
;; the user's sentinel; data sent before the TCP connection is up
;; waits, then goes out encrypted.

(defun ossl-network--pending-p (proc)
  "Non-nil if PROC is a :nowait TLS connection not yet ready."
  (process-get proc 'ossl-network--pending))

(defun ossl-network--open-nowait (proc host service keylist trustfiles flags)
  "Make PROC, a :nowait connection to HOST:SERVICE, a TLS connection.
KEYLIST, TRUSTFILES and FLAGS are as for `ossl-network--negotiate'.
Return PROC."
  ;; Sends wait for the layer through ossl's advice: install it now.
  ;; Where ossl cannot work (see `ossl--install-advice'), the
  ;; connection is refused here rather than when it is coated.
  (condition-case err
      (ossl--install-advice)
    (ossl-not-supported-error (delete-process proc)
                              (signal (car err) (cdr err))))
  (let ((keys (ossl-network--tls-keys host service keylist trustfiles))
        (ossl-network--bypass t))
    (process-put proc 'ossl-network--pending
                 (list :host host :service service :keys keys :flags flags))
    (process-put proc 'ossl-network--sentinel (process-sentinel proc))
    (set-process-sentinel proc #'ossl-network--pending-sentinel)
    (when (eq (process-status proc) 'open)
      (ossl-network--start-pending proc))
    proc))

(defun ossl-network--user-sentinel (proc)
  "The sentinel PROC's user set."
  (or (process-get proc 'ossl-network--sentinel)
      #'internal-default-process-sentinel))

(defun ossl-network--settle (proc)
  "PROC is no longer pending: give it back its user's sentinel."
  (let ((sentinel (process-get proc 'ossl-network--sentinel))
        (ossl-network--bypass t))
    (process-put proc 'ossl-network--pending nil)
    (process-put proc 'ossl-network--sentinel nil)
    (set-process-sentinel proc sentinel)))

(defvar ossl-network--verifying nil
  "The process whose peer the NSM is checking, or nil.")

(defun ossl-network--pending-sentinel (proc event)
  "The sentinel of PROC while its TLS handshake is pending; EVENT as usual."
  (cond ((not (ossl-network--pending-p proc))
         (funcall (ossl-network--user-sentinel proc) proc event))
        ((string-prefix-p "open" event)
         (unless (ossl-process-conn proc)
           (ossl-network--start-pending proc)))
        ;; The NSM refused and deleted PROC: the end of the handshake
        ;; reports it.
        ((eq proc ossl-network--verifying))
        ((ossl-process-conn proc)
         ;; The connection died during the handshake.
         (let ((pending (process-get proc 'ossl-network--pending)))
           (ossl-network--pending-done
            proc (list 'ossl-network-handshake-error
                       (format "TLS handshake with %s failed: the connection closed (%s)"
                               (ossl-network--host-port (plist-get pending :host)
                                                        (plist-get pending :service))
                               (string-trim event))))))
        ;; The failed handshake closed PROC: its callback reports it.
        ((process-get proc 'ossl-network--started))
        (t
         ;; The TCP connection failed: as without TLS.
         (let ((sentinel (ossl-network--user-sentinel proc)))
           (ossl-network--settle proc)
           (funcall sentinel proc event)))))

(defun ossl-network--start-pending (proc)
  "Start the TLS handshake of PROC, a pending :nowait connection."
  (let* ((pending (process-get proc 'ossl-network--pending))
         (ossl-network--bypass t))
    (process-put proc 'ossl-network--started t)
    (condition-case err
        (apply #'ossl-starttls proc
               :callback (lambda (result) (ossl-network--pending-done proc result))
               :verify-function #'ossl-network--pending-verify
               (plist-get pending :keys))
      ;; C-g at the passphrase prompt too: the connection is refused.
      ((error quit)
       (ossl-network--pending-done
        proc (list (car err) (error-message-string err)))))))

(defun ossl-network--pending-verify (conn _result)
  "Decide whether the pending connection of CONN may go on.
Runs when the handshake is over, before any queued data is sent:
enforce the checks the caller asked for, then ask the NSM."
  (let* ((proc (ossl-ssl-parent conn))
         (pending (process-get proc 'ossl-network--pending))
         (host (plist-get pending :host))
         (service (plist-get pending :service))
         (problem (ossl-network--strict-problem conn (plist-get pending :flags)
                                                host)))
    (cond
     (problem (process-put proc 'ossl-network--refusal problem) nil)
     (t (let ((result (let ((ossl-network--verifying proc))
                         (ossl-network--nsm-verify proc host service))))
          (if (processp result)
              t
            (process-put proc 'ossl-network--refusal (cdr result))
            nil))))))

(defun ossl-network--pending-done (proc result)
  "The handshake of PROC ended with RESULT: a connection or (ERROR MESSAGE)."
  (cond
   ((not (ossl-network--pending-p proc)))  ; already reported
   ((ossl-ssl-conn-p result)
    (let ((sentinel (ossl-network--user-sentinel proc)))
      (ossl-network--settle proc)
      (funcall sentinel proc "open\n")))
   (t
    (let ((msg (ossl-network--explain-reason
                (or (process-get proc 'ossl-network--refusal)
                    (format "%s" (cadr result)))))
          (sentinel (ossl-network--user-sentinel proc)))
      (message "ossl: %s" msg)
      (ossl-network--settle proc)
      ;; As with GnuTLS, the status becomes `failed' and the sentinel
      ;; says why; the deletion itself is not reported.
      (process-put proc 'ossl-network--failed msg)
      (set-process-sentinel proc #'ignore)
      (delete-process proc)
      (funcall sentinel proc (format "failed with code %s\n" msg))))))

(defun ossl-network-process-error (process)
  "Why the TLS connection of PROCESS failed, a string, or nil."
  (let ((proc (ossl--resolve process)))
    (and proc (process-get proc 'ossl-network--failed))))

(defun ossl-network--wait-coated (proc)
  "Wait until pending PROC is coated, settled or dead."
  (let ((deadline (+ (float-time) ossl-handshake-timeout)))
    (while (and (ossl-network--pending-p proc)
                (not (ossl-process-conn proc))
                (process-live-p proc)
                (< (float-time) deadline))
      (accept-process-output proc 0.05))))

(defun ossl-network--check-sendable (proc)
  "Signal unless PROC, a pending connection waited for, may now be written to."
  (cond ((process-get proc 'ossl-network--failed)
         (signal 'ossl-network-error
                 (list (process-get proc 'ossl-network--failed))))
        ((ossl-network--uncoated-pending proc)
         (signal 'ossl-network-error
                 (list (format "TLS connection %s is not ready after %s seconds"
                               (process-name proc) ossl-handshake-timeout))))))

;;;;; Advice that makes pending connections look like GnuTLS's

(defun ossl-network--around-process-status (orig process)
  "`connect' while PROCESS's TLS handshake is pending; else call ORIG."
  (let ((p (and (not ossl-network--bypass) (ossl--resolve process))))
    (cond ((null p) (funcall orig process))
          ((process-get p 'ossl-network--failed) 'failed)
          ((ossl-network--pending-p p)
           (let ((real (funcall orig process)))
             (if (eq real 'open) 'connect real)))
          (t (funcall orig process)))))

(defun ossl-network--around-set-sentinel (orig process sentinel)
  "Hold SENTINEL until PROCESS's TLS handshake is over; else call ORIG."
  (if (and (not ossl-network--bypass) (processp process)
           (ossl-network--pending-p process))
      (progn (process-put process 'ossl-network--sentinel sentinel)
             sentinel)
    (funcall orig process sentinel)))

(defun ossl-network--around-sentinel (orig process)
  "The user's sentinel while PROCESS's TLS handshake is pending; else ORIG."
  (if (and (not ossl-network--bypass) (processp process)
           (ossl-network--pending-p process))
      (process-get process 'ossl-network--sentinel)
    (funcall orig process)))

(defun ossl-network--uncoated-pending (process)
  "PROCESS's process if it is a pending TLS connection not coated yet."
  (let ((p (and (not ossl-network--bypass) (ossl--resolve process))))
    (and p (ossl-network--pending-p p) (not (ossl-process-conn p)) p)))

(defun ossl-network--await-layer (process)
  "Wait for the TLS layer of PROCESS, a pending connection, before a send.
Signal when it will not come.  ossl's send advice calls this (see
`ossl--await-function')."
  (ossl-network--wait-coated process)
  (ossl-network--check-sendable process))

;;;; gnutls.el's entry points

(defun ossl-network--gnutls-negotiate (&rest spec)
  "Negotiate TLS on a process with ossl, as `gnutls-negotiate' does.
SPEC is the keyword list of `gnutls-negotiate': :process, :hostname,
:keylist, :trustfiles, :verify-error and :verify-hostname-error are
honoured (:priority-string, :crlfiles, :min-prime-bits and
:verify-flags are GnuTLS's and ignored).  Return the process; signal
an `ossl-network-error', which is also a `gnutls-error', on failure,
after deleting the process."
  (let* ((process (plist-get spec :process))
         (hostname (plist-get spec :hostname))
         (contact (and (processp process) (eq (process-type process) 'network)
                       (process-contact process t))))
    (when (eq (plist-get spec :type) 'gnutls-anon)
      (signal 'ossl-network-error
              (list "Anonymous TLS (gnutls-anon) is not supported by ossl")))
    (ossl-network--negotiate
     process hostname (or (plist-get contact :service) "?")
     :keylist (plist-get spec :keylist)
     :trustfiles (ossl-network--explicit-trustfiles (plist-get spec :trustfiles))
     :flags (ossl-network--verify-flags (plist-get spec :verify-error) hostname
                                        (plist-get spec :verify-hostname-error)))))

(defun ossl-network--around-make-network-process (orig &rest args)
  "Run the TLS of `make-network-process' ARGS over ossl, ORIG for the socket.
Only calls with :tls-parameters are concerned (`open-gnutls-stream'
makes them for :nowait connections); they behave as with GnuTLS:
the NSM checks the peer once the handshake is over."
  (let ((tls (plist-get args :tls-parameters)))
    (if (or (null tls) (plist-get args :server))
        (apply orig args)
      (let* ((params (cdr tls))
             (host (or (plist-get params :hostname) (plist-get args :host)))
             (service (plist-get args :service))
             (flags (ossl-network--verify-flags (plist-get params :verify-error)
                                                host))
             (keylist (plist-get params :keylist))
             (trustfiles (ossl-network--explicit-trustfiles
                          (plist-get params :trustfiles)))
             (proc (apply orig (ossl--plist-without args :tls-parameters))))
        (when (eq (car tls) 'gnutls-anon)
          (delete-process proc)
          (signal 'ossl-network-error
                  (list "Anonymous TLS (gnutls-anon) is not supported by ossl")))
        (if (plist-get args :nowait)
            (ossl-network--open-nowait proc host service keylist trustfiles flags)
          (ossl-network--negotiate proc host service :keylist keylist
                                   :trustfiles trustfiles :flags flags)
          (let ((result (ossl-network--nsm-verify proc host service)))
            (unless (processp result)
              (message "ossl: %s" (cdr result))
              (process-put proc 'ossl-network--failed (cdr result))))
          proc)))))

(defun ossl-network--around-peer-status (orig proc)
  "The peer status of PROC if ossl coats it; else call ORIG."
  (if (and (processp proc) (ossl-process-conn proc))
      (ossl-network-peer-status proc)
    (and orig (funcall orig proc))))

(defun ossl-network--around-available-p (orig)
  "Return the value of ORIG (`gnutls-available-p'), or `(ossl)' for nil."
  (or (funcall orig) (list 'ossl)))

;;;; network-stream's TLS and STARTTLS

(defun ossl-network--open-tls (name buffer host service parameters)
  "`network-stream-open-tls' over ossl.
NAME, BUFFER, HOST, SERVICE and PARAMETERS are as for it; return
\(STREAM GREETING CAPABILITIES TYPE ERROR)."
  (with-current-buffer buffer
    (let* ((start (point-max))
           (cert (network-stream-certificate host service parameters))
           (keylist (and cert (list cert)))
           (flags (ossl-network--verify-flags nil host))
           (eoc (plist-get parameters :end-of-command)))
      (if (plist-get parameters :nowait)
          (list (ossl-network--open-nowait
                 (ossl-network--connect name buffer host service parameters t)
                 host service keylist nil flags)
                nil nil 'tls)
        (let* ((stream (ossl-network--connect name buffer host service parameters))
               (verified (progn
                           (ossl-network--negotiate stream host service
                                                    :keylist keylist :flags flags)
                           (ossl-network--nsm-verify stream host service))))
          (if (not (processp verified))
              (progn (message "ossl: %s" (cdr verified))
                     (list nil nil nil 'plain (cdr verified)))
            (let* ((greeting (network-stream-get-response stream start eoc))
                   (capabilities
                    (network-stream-command
                     stream
                     (network-stream--capability-command
                      (plist-get parameters :capability-command) greeting)
                     (or (plist-get parameters :end-of-capability) eoc))))
              (list stream greeting capabilities 'tls))))))))

(defun ossl-network--starttls-command (stream command eoc)
  "Send STREAM the STARTTLS COMMAND; return the reply, up to EOC.
Whatever the server sent after its reply is deleted from the
buffer: it came in clear, so nothing may take it for protected data."
  (let* ((buffer (process-buffer stream))
         (start (with-current-buffer buffer (point-max))))
    (process-send-string stream command)
    (let ((response (network-stream-get-response stream start eoc)))
      (with-current-buffer buffer
        (let ((end (+ start (length response))))
          (when (< end (point-max))
            (message "ossl: discarded %d characters that %s sent in clear after its STARTTLS reply"
                     (- (point-max) end)
                     (process-contact stream :host))
            (let ((inhibit-read-only t))
              (delete-region end (point-max))))))
      response)))

(defun ossl-network--open-starttls (name buffer host service parameters)
  "`network-stream-open-starttls' over ossl.
NAME, BUFFER, HOST, SERVICE and PARAMETERS are as for it; return
\(STREAM GREETING CAPABILITIES TYPE ERROR)."
  (let* ((start (with-current-buffer buffer (point)))
         (type (plist-get parameters :type))
         (require-tls (eq type 'starttls))
         (starttls-function (plist-get parameters :starttls-function))
         (success-string (plist-get parameters :success))
         (capability-command (plist-get parameters :capability-command))
         (eoc (plist-get parameters :end-of-command))
         (eo-capa (or (plist-get parameters :end-of-capability) eoc))
         (where (ossl-network--host-port host service))
         (stream (ossl-network--connect name buffer host service parameters))
         (greeting (and (not (plist-get parameters :nogreeting))
                        (network-stream-get-response stream start eoc)))
         (capabilities (network-stream-command
                        stream
                        (network-stream--capability-command capability-command
                                                            greeting)
                        eo-capa))
         (resulting-type 'plain)
         starttls-command why error)
    (when (and capabilities success-string starttls-function)
      (setq starttls-command (funcall starttls-function capabilities)))
    (when (and starttls-command (not (eq type 'plain)))
      (let ((response (ossl-network--starttls-command stream starttls-command eoc)))
        (if (not (and response (string-match success-string response)))
            (setq why (format "%s refused STARTTLS: %s" where
                                (string-trim (or response "no reply"))))
          (let ((cert (network-stream-certificate host service parameters)))
            (condition-case err
                (progn
                  (ossl-network--negotiate
                   stream host service
                   :keylist (and cert (list cert))
                   :flags (ossl-network--verify-flags nil host))
                  (setq resulting-type 'tls))
              (error
               (when (process-live-p stream) (delete-process stream))
               (when require-tls
                 (signal (car err) (cdr err)))
               ;; Opportunistic: go on in clear, as Emacs does.
               (message "ossl: STARTTLS with %s failed, going on unencrypted: %s"
                        where (error-message-string err))
               (setq stream (ossl-network--connect name buffer host service
                                                   parameters))
               (network-stream-get-response stream start eoc))))))
      ;; Re-get the capabilities, which may have now changed.
      (setq capabilities
            (network-stream-command
             stream
             (network-stream--capability-command capability-command greeting)
             eo-capa)))
    ;; If TLS is mandatory, close the connection if it's unencrypted.
    (when (and require-tls (eq resulting-type 'plain))
      (setq error (or why (format "%s does not offer STARTTLS" where)))
      (message "ossl: %s" error)
      (delete-process stream)
      (setq stream nil))
    ;; Check certificate validity etc.
    (when stream
      (let ((verified (ossl-network--nsm-verify
                       stream host service (eq resulting-type 'tls)
                       (plist-get parameters :warn-unless-encrypted))))
        (if (processp verified)
            (setq stream verified)
          (setq stream nil
                error (cdr verified))
          (message "ossl: %s" error))))
    (list stream greeting capabilities resulting-type error)))

;;;; The mode

(defconst ossl-network--advice
  '((network-stream-open-tls :override ossl-network--open-tls)
    (network-stream-open-starttls :override ossl-network--open-starttls)
    (gnutls-negotiate :override ossl-network--gnutls-negotiate)
    (make-network-process :around ossl-network--around-make-network-process)
    (gnutls-available-p :around ossl-network--around-available-p)
    (nsm-query :around ossl-network--around-nsm-query)
    (process-status :around ossl-network--around-process-status)
    (set-process-sentinel :around ossl-network--around-set-sentinel)
    (process-sentinel :around ossl-network--around-sentinel))
  "The functions `ossl-network-mode' advises: (FUNCTION HOW ADVICE).
Not the send primitives: ossl's own advice on them (ossl-process.el)
waits for the layer of a pending connection, through
`ossl--pending-function'.")

(defvar ossl-network--defined nil
  "Functions and variables `ossl-network-mode' defined because Emacs lacked them.
Each element is (function . SYMBOL) or (variable . SYMBOL).")

(defun ossl-network--format-certificate (pem)
  "A human-readable description of the PEM certificate."
  (ossl-x509-text (car (ossl-x509-from-pem pem))))

(defun ossl-network--gnutls-errorp (error)
  "Non-nil if ERROR is a GnuTLS error code, as `gnutls-errorp'."
  (not (or (null error) (eq error t) (eq error 0))))

(defun ossl-network--peer-status-fallback (proc)
  "`gnutls-peer-status' for an Emacs without GnuTLS: PROC's ossl status."
  (ossl-network--around-peer-status nil proc))

(defconst ossl-network--fallbacks
  '((gnutls-peer-status . ossl-network--peer-status-fallback)
    (gnutls-peer-status-warning-describe . ossl-network--describe-warning)
    (gnutls-format-certificate . ossl-network--format-certificate)
    (gnutls-errorp . ossl-network--gnutls-errorp))
  "What stands in for GnuTLS's primitives on an Emacs without GnuTLS.")

(defun ossl-network--enable ()
  "Install the advice and definitions of `ossl-network-mode'."
  (dolist (f ossl-network--fallbacks)
    (cond ((not (fboundp (car f)))
           ;; This Emacs has no GnuTLS: stand in for its primitive.
           (defalias (car f) (cdr f))
           (push (cons 'function (car f)) ossl-network--defined))
          ((eq (car f) 'gnutls-peer-status)
           (advice-add 'gnutls-peer-status :around
                       #'ossl-network--around-peer-status))))
  (unless (boundp 'gnutls-log-level)
    (setq gnutls-log-level 0)
    (push (cons 'variable 'gnutls-log-level) ossl-network--defined))
  (dolist (a ossl-network--advice)
    (advice-add (nth 0 a) (nth 1 a) (nth 2 a)))
  (setq ossl--pending-function #'ossl-network--uncoated-pending
        ossl--await-function #'ossl-network--await-layer))

(defun ossl-network--disable ()
  "Remove everything `ossl-network--enable' installed."
  (setq ossl--pending-function nil
        ossl--await-function nil)
  (dolist (a ossl-network--advice)
    (advice-remove (nth 0 a) (nth 2 a)))
  (advice-remove 'gnutls-peer-status #'ossl-network--around-peer-status)
  (dolist (d ossl-network--defined)
    (pcase (car d)
      ('function (fmakunbound (cdr d)))
      ('variable (makunbound (cdr d)))))
  (setq ossl-network--defined nil))

;;;###autoload
(define-minor-mode ossl-network-mode
  "Run Emacs's TLS connections over ossl (OpenSSL) instead of GnuTLS.
While this global mode is on, `open-network-stream' (:type `tls',
`ssl', `starttls', or `network' with opportunistic STARTTLS),
`open-gnutls-stream', `gnutls-negotiate' and :nowait TLS
connections use ossl, whether or not this Emacs has GnuTLS; smtpmail,
Gnus, url, erc and package.el work over it unchanged.

Connections opened through `open-network-stream' are checked by the
Network Security Manager (`network-security-level'), which sees
through `gnutls-peer-status' what GnuTLS would show it.  Strict
checks asked for with `gnutls-verify-error' are enforced during the
handshake.  CAs in `ossl-network-extra-ca' are trusted in addition to
the system store.  Failures name the host, the step and the reason.
Encrypted client keys are unlocked with
`ossl-network-passphrase-function'.

Turning the mode off gives Emacs its own behaviour back."
  :global t
  :group 'ossl-network
  :lighter nil
  (if ossl-network-mode
      (progn (ossl-network--disable) (ossl-network--enable))
    (ossl-network--disable)))

(defun ossl-network-unload-function ()
  "Turn `ossl-network-mode' off before the feature is unloaded."
  (ossl-network-mode -1)
  nil)

(provide 'ossl-network)

;;; ossl-network.el ends here
