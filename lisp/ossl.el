;;; ossl.el --- OpenSSL secure layers for any process  -*- lexical-binding: t; -*-

;; Copyright (C) 2026 The ossl developers

;; Author: The ossl developers
;; Version: 0.1.0
;; Package-Requires: ((emacs "28.1"))
;; Keywords: comm, processes, tools
;; URL: https://example.invalid/ossl

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

;; ossl coats any Emacs process with TLS: after `ossl-ssl-handshake'
;; (or `ossl-starttls') the process filter sees cleartext and
;; `process-send-string' sends ciphertext.  The TLS engine is a dynamic
;; module over OpenSSL 3 working on memory buffers.  This file holds
;; the handshake drivers (`ossl-starttls', `ossl-ssl-handshake'), the
;; public API re-created from SXEmacs, streams and servers, and
;; requires the rest: ossl-core (options, errors, the module, the
;; connection object), ossl-context (context policy), ossl-process
;; (the glue that moves bytes between a process and the engine),
;; ossl-x509, ossl-crypto, ossl-pkey and ossl-socket.
;;
;; Data path: an open socket's records, handshake included, move
;; under its descriptor on the module's I/O thread (ossl-socket.el);
;; other processes' on the Lisp path, one direction at a time:
;;   inbound:  process (binary) -> `ossl--filter' -> `ossl--input'
;;             -> engine -> `ossl--deliver' (decode) -> user's filter
;;   outbound: `process-send-string' (advised) -> `ossl--send'
;;             (encode) -> engine -> `ossl--send-raw' -> process
;; (in ossl-process.el; the words are defined in ossl-core.el).

;;; Code:

(require 'cl-lib)
(require 'ossl-core)
(require 'ossl-context)
(require 'ossl-process)
(require 'ossl-x509)
(require 'ossl-crypto)
(require 'ossl-pkey)
(require 'ossl-socket)

(declare-function ossl--conn-new "ossl-module" (ctx hostname mode))
(declare-function ossl--shutdown "ossl-module" (conn))
(declare-function ossl--leftover "ossl-module" (conn))
(declare-function ossl--release "ossl-module" (conn))
(declare-function ossl--state "ossl-module" (conn))
(declare-function ossl--reason "ossl-module" (conn))
(declare-function ossl--peer-closed-p "ossl-module" (conn))
(declare-function ossl--step "ossl-module" (conn data &optional eof))
(declare-function ossl--protocol "ossl-module" (conn))
(declare-function ossl--cipher "ossl-module" (conn))
(declare-function ossl--cipher-names "ossl-module" (conn))
(declare-function ossl--verify-outcome "ossl-module" (conn))
(declare-function ossl--verify-code "ossl-module" (conn))
(declare-function ossl--verify-failures "ossl-module" (conn))
(declare-function ossl--conn-use-cert "ossl-module" (conn kind value))
(declare-function ossl--conn-use-key "ossl-module" (conn kind value password))
(declare-function ossl--conn-inject-ca "ossl-module" (conn kind value))
(declare-function ossl--conn-alpn "ossl-module" (conn wire))
(declare-function ossl--set-session "ossl-module" (conn der))
(declare-function ossl--session "ossl-module" (conn))
(declare-function ossl--conn-info "ossl-module" (conn))
(declare-function ossl--relay-shutdown "ossl-module" (relay))

;;;; Handshake drivers

(defun ossl--time-out (conn timeout)
  "Give up CONN's handshake: TIMEOUT seconds have passed."
  (ossl--abort conn 'ossl-timeout-error
               (format "TLS handshake with %s timed out after %s seconds"
                       (ossl--describe-peer (ossl--conn-process conn)
                                            (ossl--conn-hostname conn))
                       timeout)))

(defun ossl--wait (conn timeout)
  "Wait up to TIMEOUT seconds for CONN's handshake; signal if it fails."
  (let ((proc (ossl--conn-process conn))
        (deadline (+ (float-time) timeout))
        (peer (ossl--describe-peer (ossl--conn-process conn)
                                   (ossl--conn-hostname conn)))
        (done nil))
    (unwind-protect
        (progn
          (while (eq (ossl--conn-phase conn) 'handshaking)
            (let ((left (- deadline (float-time))))
              (cond
               ((<= left 0) (ossl--time-out conn timeout))
               ((not (process-live-p proc)) (ossl--handshake-lost conn))
               ;; Under the descriptor the process gets nothing
               ;; before the handshake is over: the channel tells.
               (t (accept-process-output
                   (if (ossl--relayed-p conn) ossl-socket--channel proc)
                   (min left 1.0))))))
          (setq done t))
      (unless done                      ; C-g, or an error in a filter
        (ossl--abort conn 'ossl-handshake-error
                     (format "TLS handshake with %s was interrupted" peer))))
    ;; A stream that failed after a finished handshake (a bad record
    ;; that followed it closely) is the connection's failure, not the
    ;; handshake's: it shows as on any open connection, and whether it
    ;; did before this returns must not depend on timing.
    (let ((err (ossl--conn-error conn)))
      (when (and err (not (eq (car err) 'ossl-protocol-error)))
        (signal (car err) (cdr err))))
    conn))

(defun ossl--default-hostname (proc)
  "The host PROC connected to, or nil."
  (and (eq (process-type proc) 'network)
       (let ((host (process-contact proc :host)))
         (and (stringp host) host))))

(defun ossl-starttls (process &rest keys)
  "Coat PROCESS with TLS and perform the handshake; return the connection.
PROCESS is any live process: a network stream, a pipe, a server's
connection.  From then on its filter receives cleartext and
`process-send-string' sends ciphertext.  When the handshake fails
\(`ossl-verify-error', `ossl-timeout-error', `ossl-handshake-error',
also quitting while waiting) PROCESS is deleted, so that nothing meant
for the peer goes out in clear, and the error is signalled (or given
to :callback).  Errors in the arguments are signalled before
anything is sent and leave PROCESS as it was.

KEYS:
 :method    nil, `tls', `tls1' or `ssl23' for TLS 1.2 or later;
            `tls1.2' or `tls1.3' to pin a version (`tls1.0', `tls1.1'
            only when named; certificate checks stay as strict);
            `ssl2' and `ssl3' signal.
 :min-version, :max-version  bounds, as symbols like `tls1.2'.
 :ca        trusted CAs: a file, a hashed directory, PEM text, a
            certificate object or a list of these, in addition to
            the system store (see `ossl-trust-system-store').
 :cert, :key  own certificate chain and key: files or PEM text;
            the key defaults to the certificate file.
 :password  the key's password: a string or a function returning one.
 :hostname  the name to verify and send as SNI (default: the host
            PROCESS connected to).
 :verify    whether a verification failure aborts the handshake
            (default `ossl-verify-peer').
 :verify-function  called with the connection and the verify result
            (CODE . STRING) once the handshake is done; only t
            accepts: any other value, or an error, fails the handshake.
 :plain-on-failure  non-nil: a failed handshake leaves PROCESS open,
            as a plain process.  A downgrade: whatever is sent next
            goes out in clear, to a peer that was not verified.
 :ciphers, :ciphersuites  OpenSSL cipher lists for TLS 1.2 and 1.3.
 :alpn      protocols to offer (client) or accept (server), strings.
 :session   a session from `ossl-ssl-session' to resume (client).
 :server    perform a server handshake (:cert is then mandatory);
 :verify-client  nil, `request' or `require' a client certificate,
            verified against :client-ca (or :ca).
 :sni       server: an alist (NAME :cert CERT :key KEY) of other
            names to serve with their own certificates (\"*.example\"
            matches one label).
 :sni-function  server: called with the name the client asks for (\"\"
            when none) during the handshake; returns nil to serve :cert,
            or (:cert CERT :key KEY ...) to serve that instead.
 :timeout   seconds to wait (default `ossl-handshake-timeout').
 :callback  do not wait: return at once and call this function with
            the connection once open, or with the error (a list
            (ERROR-SYMBOL MESSAGE)) when the handshake failed."
  (let* ((proc (or (ossl--resolve process)
                   (signal 'wrong-type-argument (list 'processp process))))
         (serverp (plist-get keys :server))
         (verify (if (plist-member keys :verify) (plist-get keys :verify)
                   ossl-verify-peer))
         (verify-function (plist-get keys :verify-function))
         (timeout (or (plist-get keys :timeout) ossl-handshake-timeout))
         (callback (plist-get keys :callback))
         (alpn (plist-get keys :alpn))
         (session (plist-get keys :session))
         (hostname (if (plist-member keys :hostname) (plist-get keys :hostname)
                     (and (not serverp) (ossl--default-hostname proc)))))
    (unless (memq (process-status proc) '(open run connect))
      (signal 'ossl-closed-error
              (list (format "Process %s is not running" (process-name proc))
                    proc)))
    (when (process-get proc 'ossl--conn)
      (signal 'ossl-error (list "Process is already coated with TLS" proc)))
    (setq hostname (ossl--check-hostname hostname))
    (unless (numberp timeout)
      (signal 'wrong-type-argument (list 'numberp timeout)))
    (unless (or (null callback) (functionp callback))
      (signal 'wrong-type-argument (list 'functionp callback)))
    (unless (or (null session) (stringp session))
      (signal 'wrong-type-argument (list 'stringp session)))
    (when (and (not serverp) verify (null hostname) (null verify-function))
      (signal 'ossl-error
              (list "No host name to verify: give :hostname, or :verify nil"
                    proc)))
    (let* ((ctx (or (plist-get keys :context) (ossl--context serverp keys)))
           (mode (if serverp
                     (pcase (plist-get keys :verify-client)
                       ('nil 'none) ('request 'request) ('require 'require)
                       (v (signal 'wrong-type-argument (list 'symbolp v))))
                   (if (and verify (null verify-function)) 'require 'none)))
           (h (ossl--conn-new ctx hostname mode)))
      (when alpn (ossl--conn-alpn h (ossl--alpn-wire alpn)))
      (when session (ossl--set-session h session))
      (let ((conn (ossl--new-conn proc h
                                  :serverp serverp :hostname hostname
                                  :verify verify :verify-function verify-function
                                  :plain-on-failure (plist-get keys :plain-on-failure)
                                  :sni-function (and serverp
                                                     (plist-get keys :sni-function))
                                  :callback callback)))
        ;; An open socket: the handshake runs under its descriptor, on
        ;; the relay's thread (a client's first flight goes at once),
        ;; and its end comes through the channel.  Anything else (or a
        ;; socket the module cannot take): on the Lisp path.
        (unless (and (eq (process-status proc) 'open)
                     (ossl-socket--hold conn))
          (ossl--link conn))
        (ossl--coat conn)
        (when callback
          (setf (ossl--conn-timer conn)
                (run-at-time timeout nil #'ossl--time-out conn timeout)))
        (condition-case err
            (cond ((ossl--relayed-p conn))
                  ((eq (process-status proc) 'connect)
                   (ossl--start-when-connected conn))
                  ;; A client speaks first.
                  (t (ossl--input conn "")))
          (ossl-closed-error
           (ossl--abort conn 'ossl-handshake-error
                        (format "TLS handshake with %s failed: %s"
                                (ossl--describe-peer proc hostname)
                                (cadr err)))))
        (if callback conn (ossl--wait conn timeout))))))

(defun ossl--start-when-connected (conn)
  "Start CONN's handshake once its process has finished connecting."
  (let ((proc (ossl--conn-process conn))
        (timer nil))
    (setq timer
          (run-at-time
           0.01 0.01
           (lambda ()
             (pcase (process-status proc)
               ('connect nil)
               ('open (cancel-timer timer)
                      (when (eq (ossl--conn-phase conn) 'handshaking)
                        (ossl--input conn "")))
               (_ (cancel-timer timer)
                  (ossl--abort conn 'ossl-handshake-error
                               (format "Connecting to %s failed: %s"
                                       (ossl--describe-peer
                                        proc (ossl--conn-hostname conn))
                                       (string-trim
                                        (format "%s" (process-status proc))))))))))))

(defun ossl-ssl-handshake (process &optional method ca cert key serverp)
  "Perform a TLS handshake on PROCESS; return an ssl-conn, or nil on failure.
This is the SXEmacs function; `ossl-starttls' is its keyword form.
METHOD: nil, `tls1', `ssl23' or `tls' for TLS 1.2 or later, `tls1.2'
or `tls1.3' to pin one; `ssl2' and `ssl3' signal an error.
CA is a CA file, a directory or PEM text to trust in addition to the
system store.  CERT and KEY are the local certificate and key files.
SERVERP non-nil performs the server side (CERT is then mandatory).
Unlike SXEmacs, a client verifies the server's certificate and name
unless `ossl-verify-peer' is nil.  When the handshake fails PROCESS
is deleted, so that nothing goes out in clear, and the reason is in
`ossl-ssl-last-error' and in *Messages*; to go on in clear after a
failure, use `ossl-starttls' with :plain-on-failure."
  (condition-case err
      (ossl-starttls process :method method :ca ca :cert cert :key key
                     :server serverp)
    (ossl-handshake-error
     (setq ossl-ssl-last-error (cadr err))
     (message "ossl: %s" ossl-ssl-last-error)
     nil)))

;;;; The SXEmacs API on connections

(defun ossl-ssl-finish (ssl-conn)
  "Finish the TLS layer SSL-CONN: send close_notify, go back to plain I/O.
Wait up to `ossl-finish-timeout' seconds for the peer's close_notify,
so that a protocol can go on in clear afterwards; the process itself
stays open (the peer may close it).  Return SSL-CONN, now dead."
  (let* ((h (ossl--check-conn ssl-conn))
         (proc (ossl--conn-process ssl-conn)))
    (when (and (memq (ossl--conn-phase ssl-conn) '(open closing))
               (process-live-p proc))
      (if (ossl--relayed-p ssl-conn)
          (ossl--relay-shutdown (ossl--conn-relay ssl-conn))
        (ossl--shutdown h)
        (ossl--flush ssl-conn))
      (let ((deadline (+ (float-time) ossl-finish-timeout)))
        (while (and (not (ossl--peer-closed-p h))
                    (eq (ossl--state h) 'closing)
                    (process-live-p proc)
                    (< (float-time) deadline))
          (accept-process-output proc 0.05))))
    ;; The socket back in place, the rest goes as on the Lisp path.
    (when (ossl--relayed-p ssl-conn)
      (ossl-socket--unrelay ssl-conn t))
    (let ((carry (ossl--conn-carry ssl-conn))
          (leftover (ossl--leftover h)))
      (when carry (ossl--deliver ssl-conn "" t))
      (ossl--uncoat ssl-conn)
      (ossl--release h)
      (setf (ossl--conn-dead ssl-conn) t)
      ;; What followed the peer's close_notify is plain text.
      (when (and leftover (functionp (ossl--conn-filter ssl-conn)))
        (funcall (ossl--conn-filter ssl-conn) proc
                 (decode-coding-string
                  leftover (or (car (ossl--conn-coding ssl-conn)) 'binary)))))
    ssl-conn))

(defun ossl-ssl-proselytise-process (ssl-conn)
  "Route the I/O of SSL-CONN's process through TLS again.
Its filter sees cleartext and `process-send-string' encrypts."
  (ossl--check-conn ssl-conn)
  (unless (ossl--conn-linked ssl-conn)
    (setf (ossl--conn-filter ssl-conn)
          (funcall (ossl--orig 'process-filter)
                   (ossl--conn-process ssl-conn)))
    (ossl--link ssl-conn))
  ssl-conn)

(defun ossl-ssl-unproselytise-process (ssl-conn)
  "Unlink SSL-CONN from its process: the process's filter sees raw TLS records.
Use `ossl-ssl-read' and `ossl-ssl-write' to talk through the layer."
  (ossl--check-conn ssl-conn)
  (when (ossl--relayed-p ssl-conn)
    (ossl-socket--unrelay ssl-conn))
  (when (ossl--conn-linked ssl-conn)
    (ossl--unlink ssl-conn))
  ssl-conn)

(defun ossl-ssl-read (ssl-conn string)
  "Return the cleartext of STRING, a block of TLS records from SSL-CONN's peer."
  (let ((h (ossl--check-conn ssl-conn)))
    (unless (stringp string)
      (signal 'wrong-type-argument (list 'stringp string)))
    (when (ossl--relayed-p ssl-conn)
      (ossl-socket--unrelay ssl-conn))
    (let ((clear (ossl--input ssl-conn (if (multibyte-string-p string)
                                           (encode-coding-string string 'raw-text)
                                         string))))
      (when (eq (ossl--state h) 'failed)
        (signal 'ossl-protocol-error (list (ossl--reason h))))
      (ossl--decode ssl-conn clear))))

(defun ossl-ssl-write (ssl-conn string)
  "Send STRING encrypted through SSL-CONN, to its process."
  (ossl--check-conn ssl-conn)
  (unless (stringp string)
    (signal 'wrong-type-argument (list 'stringp string)))
  (ossl--send ssl-conn string))

(defun ossl-ssl-parent (ssl-conn)
  "Return the process underneath SSL-CONN."
  (unless (ossl-ssl-conn-p ssl-conn)
    (signal 'wrong-type-argument (list 'ossl-ssl-conn-p ssl-conn)))
  (ossl--conn-process ssl-conn))

(defun ossl-ssl-cipher-version (ssl-conn)
  "Return the protocol SSL-CONN negotiated, as a symbol like `TLSv1.3'."
  (let ((p (ossl--protocol (ossl--check-conn ssl-conn))))
    (and p (intern p))))

(defun ossl-ssl-cipher-name (ssl-conn)
  "Return the name of the cipher protecting SSL-CONN."
  (nth 0 (ossl--cipher (ossl--check-conn ssl-conn))))

(defun ossl-ssl-cipher-bits (ssl-conn)
  "Return the number of secret bits of the cipher protecting SSL-CONN."
  (nth 1 (ossl--cipher (ossl--check-conn ssl-conn))))

(defun ossl-ssl-cipher-description (ssl-conn)
  "Return a one-line description of the cipher protecting SSL-CONN."
  (nth 2 (ossl--cipher (ossl--check-conn ssl-conn))))

(defun ossl-ssl-cipher-names (ssl-conn)
  "Return the names of the ciphers SSL-CONN may use, in preference order."
  (ossl--cipher-names (ossl--check-conn ssl-conn)))

(defun ossl-ssl-verify-certificate (ssl-conn)
  "Return the outcome of verifying SSL-CONN's peer as (CODE . STRING).
0 means the chain verified, for instance (0 . \"ok\"); a peer without
a certificate is not ok."
  (ossl--verify-code (ossl--check-conn ssl-conn)))

(defun ossl-ssl-state (ssl-conn)
  "Return SSL-CONN's state: `handshaking', `open', `closing', `closed' or `failed'."
  (unless (ossl-ssl-conn-p ssl-conn)
    (signal 'wrong-type-argument (list 'ossl-ssl-conn-p ssl-conn)))
  (ossl--conn-phase ssl-conn))

(defun ossl-ssl-error (ssl-conn)
  "Return why SSL-CONN failed, as a string, or nil."
  (unless (ossl-ssl-conn-p ssl-conn)
    (signal 'wrong-type-argument (list 'ossl-ssl-conn-p ssl-conn)))
  (cadr (ossl--conn-error ssl-conn)))

(defun ossl-process-conn (process)
  "Return the TLS connection coating PROCESS, or nil."
  (ossl--conn-of process))

(defun ossl--truncated-p (conn)
  "Non-nil if CONN's transport ended without the peer's close_notify.
On the Lisp path the engine tells, once told that the transport
ended (telling it again changes nothing)."
  (let ((h (ossl--conn-handle conn)))
    (and (memq (ossl--conn-phase conn) '(open closing))
         (not (process-live-p (ossl--conn-process conn)))
         (if (ossl--relayed-p conn)
             (not (ossl--peer-closed-p h))
           (eq (plist-get (cddr (ossl--step h nil t)) :eof) 'truncated)))))

(defun ossl-ssl-status (ssl-conn)
  "Return a plist describing SSL-CONN.
Keys: :state (see `ossl-ssl-state'), :protocol, :cipher,
:cipher-bits, :group (the key exchange group), :signature-algorithm
\(the peer's handshake signature), :server-name (SNI), :alpn,
:session-reused, :secure-renegotiation, :peer-tmp-key-bits (the size
of the peer's ephemeral key), :verify-result (CODE . STRING) as
`ossl-ssl-verify-certificate', :verify-outcome (the same as a word:
`ok', `expired', `unknown-ca'...; see `ossl-x509-verify-explanation'),
:verify-failure (CODE DEPTH CERT STRING WORD) of the first failure or
nil, :verify-failures (all of them, up to 8),
:peer-certificates (leaf first), :hostname (the name verified) and
:truncated (the transport ended without the peer's close_notify)."
  (unless (ossl-ssl-conn-p ssl-conn)
    (signal 'wrong-type-argument (list 'ossl-ssl-conn-p ssl-conn)))
  (if (ossl--conn-dead ssl-conn)
      (list :state 'closed)
    (let* ((h (ossl--conn-handle ssl-conn))
           (failures (mapcar (lambda (f)
                               (list (nth 0 f) (nth 1 f)
                                     (and (nth 2 f) (ossl--x509-wrap (nth 2 f)))
                                     (nth 3 f) (nth 4 f)))
                             (ossl--verify-failures h))))
      (append
       (list :state (ossl--conn-phase ssl-conn))
       (ossl--conn-info h)
       (list :verify-result (ossl--verify-code h)
             :verify-outcome (ossl--verify-outcome h)
             :verify-failure (car failures)
             :verify-failures failures
             :peer-certificates (ossl-ssl-peer-cert-chain ssl-conn)
             :hostname (ossl--conn-hostname ssl-conn)
             :truncated (and (ossl--truncated-p ssl-conn) t))))))

(defun ossl-ssl-session (ssl-conn)
  "Return SSL-CONN's session as a unibyte string, or nil if it cannot resume.
Save it anywhere; give it as :session to `ossl-starttls' to resume.
It carries the host name and the peer's chain it was verified with:
it resumes only for the same host name, if the peer was verified and
the new connection's trust accepts that chain again; otherwise a full
handshake with full verification takes place.
With TLS 1.3 the server sends tickets after the handshake: the session
is there once some data was read.  It holds secrets: keep it private."
  (ossl--session (ossl--check-conn ssl-conn)))

(defun ossl-ssl-inject-ca (ssl-conn ca)
  "Trust CA on SSL-CONN, also after the handshake; return t.
CA is a file, a hashed directory, PEM text, a certificate object or a
list of these.  After the handshake the peer's chain is verified
again and `ossl-ssl-verify-certificate' gives the new outcome: this
verifies the peer's identity with hindsight.  Other connections are
not affected."
  (let ((h (ossl--check-conn ssl-conn)))
    (dolist (src (ossl--ca-sources ca))
      (ossl--conn-inject-ca h (car src) (cdr src)))
    t))

(defun ossl-ssl-inject-cert (ssl-conn cert &optional key)
  "Use CERT and KEY as SSL-CONN's own certificate, before its handshake.
CERT is a certificate file (PEM, with the chain after the leaf), PEM
text or a certificate object; KEY a key file or PEM text, by default
CERT's file.  Return t; signal when the key does not match."
  (let ((h (ossl--check-conn ssl-conn))
        (src (if (ossl-x509-p cert) (cons 'pem (ossl-x509-to-pem cert))
               (ossl--key-source cert 'cert))))
    (unless (or key (eq (car src) 'file))
      (signal 'ossl-key-error (list "No key given for the certificate")))
    (ossl--conn-use-cert h (car src) (cdr src))
    (let ((ksrc (if key (ossl--key-source key 'key) src)))
      (ossl--conn-use-key h (car ksrc) (cdr ksrc) nil))
    t))

(defun ossl-open-stream (name buffer host service &rest keys)
  "Open a TLS connection to HOST on SERVICE; return its process.
NAME and BUFFER are as for `make-network-process'.  KEYS are those
of `ossl-starttls' (the name verified defaults to HOST), plus
:nowait: when non-nil neither the connection nor the handshake
blocks; data sent meanwhile is queued and sent encrypted once the
handshake is over, and a failed handshake deletes the process (its
sentinel sees it) after calling :callback with the error, if any."
  (let* ((nowait (plist-get keys :nowait))
         (proc (make-network-process :name name :buffer buffer
                                     :host (ossl--check-host host)
                                     :service service :nowait nowait))
         (callback (plist-get keys :callback))
         (keys (ossl--plist-without keys :nowait :callback))
         (keys (if (plist-member keys :hostname) keys
                 (append (list :hostname host) keys))))
    (condition-case err
        (if (not (or nowait callback))
            (apply #'ossl-starttls proc keys)
          (apply #'ossl-starttls proc
                 :callback (lambda (result)
                             (when callback (funcall callback result))
                             (unless (ossl-ssl-conn-p result)
                               (message "ossl: %s" (cadr result))
                               (delete-process proc)))
                 keys))
      (error (delete-process proc)
             (signal (car err) (cdr err))))
    proc))

(defun ossl-open-server (name buffer host service &rest keys)
  "Listen on HOST and SERVICE for TLS clients; return the server process.
NAME and BUFFER are as for `make-network-process' (with :server t).
Every connection is coated as a TLS server without blocking Emacs,
then handed to the function :acceptor, if any, as a coated process.
KEYS are those of `ossl-starttls' for the server side: :cert and :key
\(mandatory), :password, :verify-client, :client-ca, :alpn, :sni,
:method, :timeout...  One TLS context serves every connection.  A
client whose handshake fails or stalls is disconnected; the server
goes on.  :filter and :sentinel are given to each connection."
  (let* ((ctx (ossl--context t (ossl--plist-without keys :acceptor :filter
                                                     :sentinel))))
    (make-network-process
     :name name :buffer buffer :host (ossl--check-host host) :service service
     :server 256                        ; the queue: bursts of clients
     :noquery t
     :filter (plist-get keys :filter) :sentinel (plist-get keys :sentinel)
     :log (ossl--server-log name ctx (plist-get keys :acceptor)
                            (ossl--plist-without
                             keys :acceptor :filter :sentinel
                             ;; In the context already: the key and its
                             ;; password are not kept reachable.
                             :cert :key :password :ca :client-ca :sni
                             :ciphers :ciphersuites :method :min-version
                             :max-version)))))

(defun ossl--server-log (name ctx acceptor conn-keys)
  "The :log function of the server NAME: coat each client with CTX.
ACCEPTOR gets each client once its handshake is done; CONN-KEYS are
the keys of `ossl-starttls' that are not in CTX."
  (lambda (_server client _message)
    (condition-case err
        (apply #'ossl-starttls client :server t :context ctx
               :callback
               (lambda (result)
                 (if (ossl-ssl-conn-p result)
                     (when acceptor (funcall acceptor client))
                   (message "ossl: %s: %s" name (cadr result))
                   (delete-process client)))
               conn-keys)
      (error (message "ossl: %s: %s" name (error-message-string err))
             (delete-process client)))))

(provide 'ossl)

;;; ossl.el ends here
