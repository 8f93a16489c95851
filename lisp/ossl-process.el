;;; ossl-process.el --- The process glue of ossl: coat, advice, filter, send  -*- lexical-binding: t; -*-

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

;; What makes a coated process look like a plain one.  The data path,
;; one direction at a time:
;;
;;   inbound:  process (binary) -> `ossl--filter' -> `ossl--input'
;;             -> engine (one `ossl--step': cleartext, the answer to
;;             send, events) -> `ossl--deliver' (decode)
;;             -> the user's filter
;;   outbound: `process-send-string' (advised) -> `ossl--send'
;;             (encode) -> engine (`ossl--write') -> `ossl--flush'
;;             -> `ossl--send-raw' -> process
;;
;; The advice on the process primitives, installed the first time a
;; process takes this path (an open socket goes under its descriptor,
;; ossl-socket.el, and needs none); the sentinel; and the end of a
;; handshake, which the inbound path finds, or the relay's channel
;; (`ossl--handshake-ended': verify, then go on or fail).  The handshake drivers that start and wait are in ossl.el.
;; Vocabulary: see ossl-core.el.

;;; Code:

(require 'cl-lib)
(require 'nadvice)
(require 'ossl-core)
(require 'ossl-x509)
(require 'ossl-context)

(declare-function ossl--step "ossl-module" (conn data &optional eof))
(declare-function ossl--take "ossl-module" (conn))
(declare-function ossl--write "ossl-module" (conn string))
(declare-function ossl--shutdown "ossl-module" (conn))
(declare-function ossl--state "ossl-module" (conn))
(declare-function ossl--reason "ossl-module" (conn))
(declare-function ossl--peer-closed-p "ossl-module" (conn))
(declare-function ossl--verify-code "ossl-module" (conn))
(declare-function ossl--verify-failures "ossl-module" (conn))
(declare-function ossl--sni-choose "ossl-module" (conn sni-ctx))
(declare-function ossl--relay-shutdown "ossl-module" (relay))
(declare-function ossl-socket--maybe-relay "ossl-socket" (conn))
(declare-function ossl-socket--send "ossl-socket" (conn string))
(declare-function ossl-socket--resume "ossl-socket" (conn))
(declare-function ossl-socket--drop-hold "ossl-socket" (conn))

;;;; Moving bytes: the process glue

(defun ossl--linked-conn (process)
  "The TLS connection that PROCESS's I/O passes through, or nil."
  (let ((conn (ossl--conn-of process)))
    (and conn (ossl--conn-linked conn)
         ;; Under the descriptor, Emacs's own process code does it,
         ;; until the connection failed.
         (or (memq (ossl--conn-relay conn) '(nil lisp))
             (ossl--conn-error conn))
         conn)))

(defun ossl--send-raw (conn bytes)
  "Send BYTES to CONN's process as they are.
A send that starts while another one is blocked waits for it, so
that TLS records never interleave."
  (if (ossl--conn-sending conn)
      (push bytes (ossl--conn-outq conn))
    (let ((proc (ossl--conn-process conn))
          (send (ossl--orig 'process-send-string)))
      (setf (ossl--conn-sending conn) t)
      (unwind-protect
          (condition-case err
              (progn
                (funcall send proc bytes)
                (while (ossl--conn-outq conn)
                  (let ((more (apply #'concat
                                     (nreverse (ossl--conn-outq conn)))))
                    (setf (ossl--conn-outq conn) nil)
                    (funcall send proc more))))
            ;; The connection went away under us.
            (error (signal 'ossl-closed-error
                           (list (format "Cannot send to %s: %s"
                                         (process-name proc)
                                         (error-message-string err))
                                 proc))))
        (setf (ossl--conn-sending conn) nil)))))

(defun ossl--flush (conn &optional quiet)
  "Send whatever ciphertext CONN's engine has for the network.
When QUIET, a transport that went away is left to the process's
sentinel instead of signalling: the engine's own answers (handshake
flights, alerts, close_notify) go out from the filter, where an
error would reach no caller, and the cleartext that came with them
must still be delivered."
  (ossl--send-out conn (ossl--take (ossl--conn-handle conn)) quiet))

(defun ossl--send-out (conn out &optional quiet)
  "Send ciphertext OUT (a string or nil) from CONN's engine to the network.
QUIET as for `ossl--flush'."
  (when (and out (process-live-p (ossl--conn-process conn)))
    (if quiet
        (condition-case nil (ossl--send-raw conn out) (ossl-closed-error nil))
      (ossl--send-raw conn out))))

(defun ossl--encode (conn string)
  "STRING as bytes for CONN, encoded the way `process-send-string' would."
  (let ((coding (cdr (ossl--conn-coding conn))))
    (cond ((multibyte-string-p string)
           (encode-coding-string string (or coding 'utf-8-unix) t))
          ((memq (coding-system-eol-type (or coding 'binary)) '(1 2))
           (encode-coding-string
            string (coding-system-change-eol-conversion
                    'raw-text (coding-system-eol-type coding))
            t))
          (t string))))

(defun ossl--held-tail (text)
  "How many trailing raw bytes of decoded TEXT may start a character."
  (let ((n 0) (len (length text)))
    (while (and (< n 4) (< n len)
                (>= (aref text (- len n 1)) #x3FFF80)) ; a raw byte
      (setq n (1+ n)))
    n))

(defun ossl--decode (conn bytes &optional final)
  "Decode cleartext BYTES for CONN's user.
An incomplete multibyte character at the end, or a CR that may start
a CRLF, is held back until the rest arrives, unless FINAL."
  (let* ((coding (or (car (ossl--conn-coding conn)) 'binary))
         (carry (ossl--conn-carry conn))
         (bytes (if carry (concat carry bytes) bytes)))
    (setf (ossl--conn-carry conn) nil)
    (if (eq (coding-system-base coding) 'no-conversion)
        bytes
      (let* ((text (decode-coding-string bytes coding t))
             (held (cond (final 0)
                         ((> (ossl--held-tail text) 0) (ossl--held-tail text))
                         ((and (eq (coding-system-eol-type coding) 1)
                               (string-suffix-p "\r" text))
                          1)
                         (t 0))))
        ;; Each held character stands for exactly one byte.
        (when (> held 0)
          (setf (ossl--conn-carry conn) (substring bytes (- held))
                text (substring text 0 (- held))))
        text))))

(defun ossl--deliver (conn bytes &optional final)
  "Hand cleartext BYTES to CONN's user, decoded; FINAL flushes held bytes."
  (let ((text (ossl--decode conn bytes final))
        (filter (ossl--conn-filter conn)))
    (when (and (> (length text) 0) (functionp filter))
      (funcall filter (ossl--conn-process conn) text))))

(defun ossl--filter (proc bytes)
  "The filter of a process coated with TLS: ciphertext BYTES from PROC."
  (let ((conn (process-get proc 'ossl--conn)))
    (when conn
      (ossl--input conn bytes)
      (unless (ossl--conn-relay conn)
        (ossl-socket--maybe-relay conn)))))

(defun ossl--input (conn bytes &optional eof)
  "Feed ciphertext BYTES to CONN; deliver cleartext and answer the peer.
With EOF non-nil, tell CONN's engine instead that the transport
ended.  One module call: the engine returns the cleartext, the
ciphertext to send back and what happened (see `ossl--step').
Return the cleartext bytes."
  (let* ((step (ossl--step (ossl--conn-handle conn) bytes eof))
         (clear (car step))
         (events (cddr step)))
    (ossl--send-out conn (cadr step) t)
    (when events
      (when (and (plist-get events :sni) (ossl--conn-sni-function conn)
                 (ossl--choose-sni conn (plist-get events :sni)))
        (ossl--input conn ""))
      (when (plist-get events :handshake)
        (if (plist-get events :eof)
            (ossl--handshake-lost conn)
          (ossl--handshake-ended conn (plist-get events :handshake)))))
    (when (and (> (length clear) 0) (null (ossl--conn-error conn))
               (ossl--conn-linked conn))
      (ossl--deliver conn clear))
    (when (and events (ossl--conn-linked conn))
      (cond ((and (plist-get events :failed) (not (plist-get events :handshake)))
             (ossl--fatal conn (plist-get events :failed)))
            ((and (or (plist-get events :close-notify) (plist-get events :eof))
                  (ossl--conn-carry conn))
             (ossl--deliver conn "" t))))
    clear))

(defun ossl--choose-sni (conn name)
  "Choose a certificate for NAME, which CONN's server handshake waits for.
The connection's SNI function gets the name the client asked for
\(\"\" when none) and returns nil for the default certificate, or
the keys of a context: (:cert CERT :key KEY ...).  Return non-nil
if the handshake may go on (the caller makes it: `ossl--input' on
the Lisp path, the relay under the descriptor); when the function
failed, the handshake has failed."
  (condition-case err
      (let* ((fn (ossl--conn-sni-function conn))
             (keys (and fn (funcall fn name))))
        (ossl--sni-choose (ossl--conn-handle conn)
                          (and keys (ossl--context t keys))))
    (error
     (ossl--abort conn 'ossl-handshake-error
                  (format "TLS handshake with %s failed: SNI function: %s"
                          (process-name (ossl--conn-process conn))
                          (error-message-string err)))))
  (not (ossl--conn-error conn)))

(defun ossl--fatal (conn reason)
  "CONN's TLS stream broke after the handshake for REASON: report it, close it."
  (let ((msg (format "TLS connection %s failed: %s"
                     (process-name (ossl--conn-process conn))
                     reason)))
    (setf (ossl--conn-error conn) (list 'ossl-protocol-error msg))
    (message "ossl: %s" msg)
    (funcall (ossl--orig 'delete-process) (ossl--conn-process conn))))

(defun ossl--send (conn string)
  "Send STRING through CONN: encrypted, or queued until the handshake ends."
  (let ((h (ossl--conn-handle conn)))
    (pcase (ossl--conn-phase conn)
      ;; Under the descriptor, the relay holds it until the handshake
      ;; is over and accepted.
      ((and (or 'handshaking 'open) (guard (ossl--relayed-p conn)))
       (ossl-socket--send conn string))
      ('handshaking (push (ossl--encode conn string) (ossl--conn-queue conn)))
      ('open (ossl--write h (ossl--encode conn string)) (ossl--flush conn))
      (_ (signal 'ossl-closed-error
                 (list (or (cadr (ossl--conn-error conn))
                           "TLS connection is closed for writing")
                       (ossl--conn-process conn)))))
    nil))

;;;;; Advice: what makes a coated process look like a plain one

(defvar ossl--pending-function nil
  "A function telling whether a TLS layer is on its way to a process, or nil.
It is called with the PROCESS argument of a send primitive and
returns the process when that process is to be coated but is not
yet (ossl-network's :nowait connections), nil otherwise.  A send to
such a process waits for the layer (`ossl--await-function'), then
goes through it: nothing goes out in clear meanwhile.")

(defvar ossl--await-function nil
  "With `ossl--pending-function', a function that waits for a process's layer.
It is called with the process and returns once the process is
coated, or signals.")

(defun ossl--pending-layer (process)
  "PROCESS's process if a TLS layer is on its way to it, else nil.
See `ossl--pending-function'."
  (and ossl--pending-function (funcall ossl--pending-function process)))

(defun ossl--around-send-string (orig process string)
  "Encrypt STRING when PROCESS is coated; else call ORIG.
When PROCESS's layer is on its way, wait for it first."
  (let* ((conn (ossl--linked-conn process))
         (pending (and (not conn) (ossl--pending-layer process))))
    (cond (conn (ossl--send conn string))
          (pending (funcall ossl--await-function pending)
                   (process-send-string pending string))
          (t (funcall orig process string)))))

(defun ossl--around-send-region (orig process start end)
  "Encrypt the region START..END when PROCESS is coated; else call ORIG.
When PROCESS's layer is on its way, wait for it first."
  (let* ((conn (ossl--linked-conn process))
         (pending (and (not conn) (ossl--pending-layer process))))
    (cond (conn (ossl--send conn (buffer-substring-no-properties start end)))
          (pending (let ((text (buffer-substring-no-properties start end)))
                     (funcall ossl--await-function pending)
                     (process-send-string pending text)))
          (t (funcall orig process start end)))))

(defun ossl--around-send-eof (orig &optional process)
  "Send close_notify before ORIG's end of file when PROCESS is coated.
When PROCESS's layer is on its way, wait for it first."
  (let* ((conn (ossl--linked-conn process))
         (pending (and (not conn) (ossl--pending-layer process))))
    (if pending
        (progn (funcall ossl--await-function pending)
               (process-send-eof pending))
      (when (and conn (eq (ossl--conn-phase conn) 'open))
        (ossl--shutdown (ossl--conn-handle conn))
        (ossl--flush conn))
      (funcall orig process))))

(defun ossl--around-delete-process (orig &optional process)
  "Say close_notify, best effort, before ORIG deletes a coated PROCESS."
  (let ((conn (ossl--conn-of process)))
    (when conn
      (condition-case nil
          (when (and (memq (ossl--conn-phase conn) '(open))
                     (not (ossl--relayed-p conn)) ; the relay says it
                     (process-live-p (ossl--conn-process conn)))
            (ossl--shutdown (ossl--conn-handle conn))
            (ossl--flush conn))
        (error nil))))
  (funcall orig process))

(defun ossl--around-set-filter (orig process filter)
  "Give FILTER the cleartext when PROCESS is coated; else call ORIG."
  (let ((conn (ossl--linked-conn process)))
    (if (not conn)
        (funcall orig process filter)
      (setf (ossl--conn-filter conn)
            (or filter #'internal-default-process-filter))
      filter)))

(defun ossl--around-filter (orig process)
  "The cleartext filter when PROCESS is coated; else call ORIG."
  (let ((conn (ossl--linked-conn process)))
    (if conn (ossl--conn-filter conn) (funcall orig process))))

(defun ossl--around-set-coding (orig &optional process decoding encoding)
  "Use DECODING/ENCODING for cleartext when PROCESS is coated; else ORIG."
  (let ((conn (ossl--linked-conn process)))
    (if (not conn)
        (funcall orig process decoding encoding)
      (setf (ossl--conn-coding conn)
            (cons (check-coding-system decoding)
                  (check-coding-system encoding)))
      nil)))

(defun ossl--around-coding (orig process)
  "The cleartext coding systems when PROCESS is coated; else call ORIG."
  (let ((conn (ossl--linked-conn process)))
    (if conn (ossl--conn-coding conn) (funcall orig process))))

(defconst ossl--advice
  '((process-send-string . ossl--around-send-string)
    (process-send-region . ossl--around-send-region)
    (process-send-eof . ossl--around-send-eof)
    (delete-process . ossl--around-delete-process)
    (set-process-filter . ossl--around-set-filter)
    (process-filter . ossl--around-filter)
    (set-process-coding-system . ossl--around-set-coding)
    (process-coding-system . ossl--around-coding))
  "The process primitives ossl advises, and how.
This is the only advice on process primitives: ossl-network's
:nowait connections use the send advice through
`ossl--pending-function'.")

(defvar ossl--originals
  ;; Taken when this file is loaded, before ossl advises anything
  ;; (a `defvar', so that loading the file again keeps them): the
  ;; primitives themselves, or what another package made of them.
  (mapcar (lambda (a) (cons (car a) (symbol-function (car a)))) ossl--advice)
  "Alist of (PRIMITIVE . its definition before ossl advised it).")

(defun ossl--orig (primitive)
  "Return PRIMITIVE as it was before ossl advised it, for ossl's own use."
  (cdr (assq primitive ossl--originals)))

(defvar ossl--advice-installed nil
  "Non-nil once `ossl--install-advice' has advised every primitive.")

(defun ossl--install-advice ()
  "Advise the process primitives, once, the first time a process is coated."
  (unless ossl--advice-installed
    (ossl--install-advice-1)
    (setq ossl--advice-installed t)))

(defun ossl--install-advice-1 ()
  "Advise each process primitive that is not advised yet.
Signal `ossl-not-supported-error' when the advice of one of them
would not be seen by natively compiled callers."
  (dolist (a ossl--advice)
    (unless (advice-member-p (cdr a) (car a))
      (condition-case err
          (advice-add (car a) :around (cdr a))
        (error
         (ossl--advice-refused
          (car a) (format "cannot compile a trampoline for it (%s): \
put the C compiler and assembler Emacs uses on PATH, and make the eln \
cache directory writable" (error-message-string err))))))
    (let ((why (ossl--advice-ineffective (car a))))
      (when why (ossl--advice-refused (car a) why)))))

(defun ossl--trampolines-variable ()
  "The variable that enables native-comp trampolines in this Emacs."
  (if (boundp 'native-comp-enable-subr-trampolines)
      'native-comp-enable-subr-trampolines ; Emacs 29 and later
    'comp-enable-subr-trampolines))

(defun ossl--advice-ineffective (primitive)
  "Why natively compiled callers of PRIMITIVE bypass its advice, or nil.
Native code calls a primitive directly, and sees its advice only
through a compiled trampoline that advising installs.  Without
native compilation there is nothing to bypass."
  (when (featurep 'native-compile)
    (let ((var (ossl--trampolines-variable)))
      (cond
       ((and (boundp 'comp-installed-trampolines-h)
             (gethash primitive (symbol-value 'comp-installed-trampolines-h)))
        nil)
       ((not (and (boundp var) (symbol-value var)))
        (format "`%s' is nil, so no trampoline is installed: set it to t" var))
       ((and (boundp 'native-comp-never-optimize-functions)
             (memq primitive (symbol-value 'native-comp-never-optimize-functions)))
        "it is in `native-comp-never-optimize-functions': remove it")
       ((not (native-comp-available-p))
        "this Emacs cannot compile trampolines (libgccjit is missing): \
install it")
       (t "no trampoline is installed for it (it was advised while \
trampolines were off, or it is not a primitive any more): restart Emacs \
with trampolines on")))))

(defun ossl--advice-refused (primitive why)
  "Undo ossl's advice of PRIMITIVE and refuse to coat, saying WHY."
  (advice-remove primitive (cdr (assq primitive ossl--advice)))
  (signal 'ossl-not-supported-error
          (list (format "Natively compiled callers of %s would bypass TLS \
and send or read in clear, so ossl refuses to coat: %s" primitive why))))

(defun ossl-unload-function ()
  "Remove ossl's advice when the feature is unloaded."
  (setq ossl--advice-installed nil)
  (dolist (a ossl--advice)
    (advice-remove (car a) (cdr a)))
  nil)

(defun ossl--set-filter-multibyte (proc flag)
  "Set PROC's filter multibyteness to FLAG where Emacs still has it.
Emacs 30 removed it: a filter of a binary process gets unibyte text."
  (when (fboundp 'set-process-filter-multibyte)
    (with-no-warnings (set-process-filter-multibyte proc flag))))

(defun ossl--link (conn)
  "Route CONN's process I/O through TLS."
  (let ((proc (ossl--conn-process conn)))
    (ossl--install-advice)
    (process-put proc 'ossl--conn conn)
    (funcall (ossl--orig 'set-process-coding-system) proc 'binary 'binary)
    (ossl--set-filter-multibyte proc nil)
    (funcall (ossl--orig 'set-process-filter) proc #'ossl--filter)
    (setf (ossl--conn-linked conn) t)))

(defun ossl--unlink (conn)
  "Give CONN's process back its user's filter; TLS records pass through."
  (let ((proc (ossl--conn-process conn)))
    (setf (ossl--conn-linked conn) nil)
    (funcall (ossl--orig 'set-process-filter) proc
             (ossl--conn-filter conn))))

(defun ossl--uncoat (conn)
  "Make CONN's process a plain process again.
A handshake held under the descriptor never touched the process's
filter or coding: its socket goes back in place, nothing more."
  (let ((proc (ossl--conn-process conn))
        (coding (ossl--conn-coding conn))
        (held (ossl--conn-held conn)))
    (if held
        (ossl-socket--drop-hold conn)
      (ossl--unlink conn))
    (remove-function (process-sentinel proc) #'ossl--sentinel)
    (process-put proc 'ossl--conn nil)
    (unless held
      (funcall (ossl--orig 'set-process-coding-system) proc
               (car coding) (cdr coding))
      (ossl--set-filter-multibyte proc (ossl--conn-filter-multibyte conn)))))

(defun ossl--new-conn (proc handle &rest slots)
  "A connection object for PROC and the engine connection HANDLE.
SLOTS initialise the object.  The caller routes PROC's I/O through
it (`ossl--link', or a relay under the descriptor), then `ossl--coat's it."
  (apply #'ossl--make-conn
         :process proc :handle handle
         :filter (funcall (ossl--orig 'process-filter) proc)
         :coding (funcall (ossl--orig 'process-coding-system) proc)
         :filter-multibyte
         (and (fboundp 'process-filter-multibyte-p)
              (with-no-warnings (process-filter-multibyte-p proc)))
         slots))

(defun ossl--coat (conn)
  "Coat CONN's process with CONN, whose I/O is routed already; return CONN.
Its sentinel then ends a handshake that the process's end cuts short."
  (let ((proc (ossl--conn-process conn)))
    (process-put proc 'ossl--conn conn)
    (add-function :before (process-sentinel proc) #'ossl--sentinel)
    conn))

;;;; Handshakes

(defun ossl--sentinel (proc _event)
  "Before PROC's own sentinel: end a coated connection that is gone.
A handshake in progress fails; cleartext held back (the start of a
character) reaches the filter, as a plain process's would at EOF."
  (let ((conn (process-get proc 'ossl--conn)))
    (when (and conn (not (process-live-p proc)))
      (cond ((ossl--relayed-p conn)     ; the relay saw the end itself
             (when (eq (ossl--conn-phase conn) 'handshaking)
               (ossl--handshake-lost conn)))
            ;; The engine tells a handshake cut short, and a clean end
            ;; from a truncated one.
            ((memq (ossl--conn-phase conn) '(handshaking open closing))
             (ossl--input conn nil t))
            ((and (ossl--conn-carry conn) (ossl--conn-linked conn))
             (ossl--deliver conn "" t))))))

(defun ossl--handshake-lost (conn)
  "CONN's connection closed during its handshake."
  (let ((proc (ossl--conn-process conn)))
    (ossl--abort conn 'ossl-handshake-error
                 (format "TLS handshake with %s failed: the connection closed during the handshake (%s)"
                         (ossl--describe-peer proc (ossl--conn-hostname conn))
                         (process-status proc)))))

(defun ossl--describe-peer (proc hostname)
  "A short name for the peer of PROC, for messages; HOSTNAME if known."
  ;; `process-contact' would wait for a connecting process to be set
  ;; up: NO-BLOCK then.  (ossl-network makes `process-status' say
  ;; `connect' for an open process until its handshake ends.)
  (let ((contact (and (eq (process-type proc) 'network)
                      (process-contact proc nil (eq (process-status proc)
                                                    'connect)))))
    (cond ((and hostname (consp contact) (cadr contact))
           (format "%s:%s" hostname (cadr contact)))
          (hostname hostname)
          (t (process-name proc)))))

(defun ossl--verify-message (conn)
  "Words for why CONN's peer failed verification."
  (let* ((h (ossl--conn-handle conn))
         (failure (car (ossl--verify-failures h))))
    (if failure
        (ossl-x509-verify-explanation
         (nth 4 failure) (and (nth 2 failure) (ossl--x509-wrap (nth 2 failure)))
         (ossl--conn-hostname conn) (nth 3 failure) t)
      (cdr (ossl--verify-code h)))))

(defun ossl--handshake-ended (conn state)
  "CONN's engine finished its handshake in STATE: decide, then go on or fail."
  (let* ((h (ossl--conn-handle conn))
         (proc (ossl--conn-process conn))
         (peer (ossl--describe-peer proc (ossl--conn-hostname conn)))
         (refusal (and (not (eq state 'failed))
                       (ossl--conn-verify-function conn)
                       (ossl--verify-function-refusal conn))))
    (cond
     ((eq state 'failed)
      (setf (ossl--conn-error conn)
            (if (and (ossl--verify-failures h) (ossl--conn-verify conn))
                (list 'ossl-verify-error
                      (format "TLS handshake with %s failed: %s" peer
                              (ossl--verify-message conn)))
              (list 'ossl-handshake-error
                    (format "TLS handshake with %s failed: %s" peer
                            (or (ossl--reason h) "unknown reason"))))))
     (refusal
      (if (ossl--relayed-p conn)
          (ossl--relay-shutdown (ossl--conn-relay conn))
        (ossl--shutdown h)
        (ossl--flush conn t))
      (setf (ossl--conn-error conn)
            (list 'ossl-verify-error
                  (format "TLS handshake with %s failed: %s" peer refusal))))
     ((ossl--relayed-p conn)
      ;; Open: the relay encrypts what Emacs sent meanwhile, and gives
      ;; Emacs what came with the last flight.
      (ossl-socket--resume conn))
     (t
      ;; Open: what was sent meanwhile goes out now, encrypted.
      (let ((queued (ossl--conn-queue conn)))
        (setf (ossl--conn-queue conn) nil)
        (when queued
          (ossl--write h (apply #'concat (nreverse queued)))
          (ossl--flush conn t)))))
    (ossl--finish-handshake conn)))

(defun ossl--verify-function-refusal (conn)
  "Ask CONN's verify function about its peer; return why it refuses, or nil.
Only t accepts: any other value, an error or a quit refuses, and
the reason says which."
  (let* ((fn (ossl--conn-verify-function conn))
         ;; A closure is not printed: it may hold anything.
         (name (if (symbolp fn) (format "the verify function %s" fn)
                 "the verify function"))
         (answer (condition-case err
                     (funcall fn conn (ossl--verify-code
                                       (ossl--conn-handle conn)))
                   ((error quit) (list 'ossl--signalled err)))))
    (cond ((eq answer t) nil)
          ((eq (car-safe answer) 'ossl--signalled)
           (format "%s signalled: %s" name (error-message-string (cadr answer))))
          (t (format "rejected by %s (it returned %s, not t): %s" name
                     (if (or (symbolp answer) (numberp answer))
                         answer
                       (format "a %s" (type-of answer)))
                     (ossl--verify-message conn))))))

(defun ossl--finish-handshake (conn)
  "Tidy up after CONN's handshake ended, and tell the waiting callback.
A failed handshake closes the process, so that nothing the
application sends next goes out in clear, unless the caller asked
for a plain process back (:plain-on-failure)."
  (when (ossl--conn-timer conn)
    (cancel-timer (ossl--conn-timer conn))
    (setf (ossl--conn-timer conn) nil))
  (let ((err (ossl--conn-error conn))
        (cb (ossl--conn-callback conn)))
    (when err
      (setf (ossl--conn-queue conn) nil)
      (setq ossl-ssl-last-error (cadr err))
      (ossl--uncoat conn)
      (unless (ossl--conn-plain-on-failure conn)
        (delete-process (ossl--conn-process conn))))
    (when cb
      (setf (ossl--conn-callback conn) nil)
      (funcall cb (if err (cons (car err) (cdr err)) conn)))))

(defun ossl--abort (conn error-symbol message)
  "Give up CONN's handshake with ERROR-SYMBOL and MESSAGE."
  (unless (ossl--conn-error conn)
    (setf (ossl--conn-error conn) (list error-symbol message))
    (ossl--finish-handshake conn)))

(provide 'ossl-process)

;;; ossl-process.el ends here
