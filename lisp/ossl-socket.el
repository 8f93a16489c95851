;;; ossl-socket.el --- TLS under a socket's descriptor  -*- lexical-binding: t; -*-

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

;; The descriptor path for network processes.  When an open socket is
;; coated, the module finds the process's socket by its addresses,
;; puts one end of a socketpair in its place and runs TLS between the
;; other end and the real socket on its I/O thread (module/relay.c).
;; Emacs reads and writes cleartext through its own process code: the
;; user's filter, coding systems, `accept-process-output' and sends
;; work unchanged and ossl's Lisp stays out of the data path.  No
;; advice is installed: an Emacs that coats only open sockets never
;; loads the native compiler for ossl.
;;
;; The handshake runs on the thread too, the relay *held*
;; (`ossl-socket--hold'): what Emacs sends meanwhile waits in the
;; socketpair, Emacs gets nothing.  The thread tells Lisp, through a
;; pipe process, the channel, what Lisp must decide: the end of the
;; handshake, where the Lisp path's own code decides
;; (`ossl--handshake-ended': verification, the verify function, the
;; callback), then releases the hold (`ossl-socket--resume') or stops
;; the relay and puts the socket back (`ossl-socket--drop-hold');
;; an SNI choice (`ossl--choose-sni'); a failure of the stream.  Other
;; ends Emacs sees on its own descriptor.
;;
;; What stays on the Lisp path: processes without a socket (pipes,
;; ptys, serial ports), since only a socket can be swapped; sockets
;; still connecting when coated (:nowait), which have no addresses
;; to find them by yet: their handshake runs in Lisp, then
;; `ossl-socket--maybe-relay' moves them here; sockets the module
;; cannot find for certain or relay.  `ossl-ssl-finish' and
;; `ossl-ssl-unproselytise-process' put the real socket back.

;;; Code:

(require 'cl-lib)
(require 'ossl-process)

(declare-function ossl--relay-find "ossl-module" (local remote))
(declare-function ossl--relay-channel "ossl-module" (pipe-process))
(declare-function ossl--relay-start "ossl-module" (fd conn id))
(declare-function ossl--relay-events "ossl-module" (relay))
(declare-function ossl--relay-shutdown "ossl-module" (relay))
(declare-function ossl--relay-pump "ossl-module" (relay))
(declare-function ossl--relay-stop "ossl-module" (relay restore))
(declare-function ossl--relay-resume "ossl-module" (relay))
(declare-function ossl--sni-pending "ossl-module" (conn))

(defcustom ossl-socket-data-path 'descriptor
  "How the TLS records of a coated network process move.
`descriptor' (the default): the module runs TLS under the socket's
descriptor on its own thread, the handshake included, and Emacs
reads and writes cleartext with its own process code (faster, no
Lisp in the data path, no advice on process primitives); Lisp only
decides at the end of the handshake (verification, verify function,
callback).  `lisp': ossl's filter and advice move every record.
Processes without a socket, and sockets the module cannot find for
certain, always take the Lisp path.  The choice is made when an open
socket is coated; a socket still connecting does its handshake in
Lisp and moves under the descriptor when it ends."
  :type '(choice (const :tag "Under the socket's descriptor" descriptor)
                 (const :tag "In Lisp" lisp))
  :group 'ossl
  :package-version '(ossl . "0.1.0"))

(defvar ossl-socket--channel nil
  "The pipe process the relay thread writes its events to.")

(defvar ossl-socket--conns (make-hash-table :test #'eql :weakness 'value)
  "Relayed connections by the relay's id.")

(defvar ossl-socket--next-id 0
  "The id of the last relay started.")

(defvar ossl-socket--partial ""
  "The start of an event line not read whole yet.")

(defun ossl-socket--relay (conn)
  "Return CONN's relay if its data go under the descriptor, else nil."
  (let ((r (ossl--conn-relay conn)))
    (and r (not (eq r 'lisp)) r)))

(defun ossl-socket--ensure-channel ()
  "Start the event channel unless it is running."
  (unless (process-live-p ossl-socket--channel)
    (setq ossl-socket--partial "")
    (setq ossl-socket--channel
          ;; No read delays: a poke on the channel must end the 20 ms
          ;; an Emacs waits when a send found the socketpair full.
          (let ((process-adaptive-read-buffering nil))
            (make-pipe-process :name " *ossl-relay*" :buffer nil
                               :coding 'binary :noquery t
                               :filter #'ossl-socket--events
                               :sentinel #'ignore)))
    (ossl--relay-channel ossl-socket--channel)))

(defun ossl-socket--events (_channel string)
  "Handle the relay events in STRING: lines with a relay's id."
  (let ((lines (split-string (concat ossl-socket--partial string) "\n")))
    (setq ossl-socket--partial (car (last lines)))
    (dolist (line (butlast lines))
      (let ((conn (gethash (string-to-number line) ossl-socket--conns)))
        (when (and conn (ossl-socket--relay conn))
          (ossl-socket--event conn))))))

(defun ossl-socket--event (conn)
  "Act on what CONN's relay reports.
The channel carries what Lisp must decide or know: an SNI choice
wanted, the end of the handshake (Lisp decides: verify, then resume
or fail), a failure of the stream.  A relay that ends otherwise
\(Emacs closed its end, the peer closed) says nothing, since Emacs
sees that on its own descriptor and a line on the channel would end
an `accept-process-output' waiting for something else.  Relays that
ended leave `ossl-socket--conns' with their connection, the table
being weak."
  (let ((events (ossl--relay-events (ossl-socket--relay conn)))
        (proc (ossl--conn-process conn)))
    (when (eq (ossl--conn-held conn) t)
      (cond ((/= 0 (logand events 16)) (ossl-socket--handshake-ended conn))
            ((/= 0 (logand events 32)) (ossl-socket--choose-sni conn))))
    ;; A failure the thread told while Lisp was deciding (the event
    ;; was taken then) shows in the engine's state at the next event.
    (when (and (null (ossl--conn-error conn)) (ossl-socket--relay conn)
               (not (ossl--conn-held conn))
               (or (/= 0 (logand events 1))
                   (eq (ossl--state (ossl--conn-handle conn)) 'failed)))
      ;; The stream broke: as `ossl--fatal' on the Lisp path, which
      ;; delivers the cleartext that came before the failure first.
      ;; Emacs may not have read it yet: take it from the relay and
      ;; from Emacs's end of the socketpair, for the process's filter.
      (let ((msg (format "TLS connection %s failed: %s" (process-name proc)
                         (ossl--reason (ossl--conn-handle conn))))
            (before (car (ossl--relay-stop (ossl-socket--relay conn) nil))))
        (setf (ossl--conn-relay conn) 'lisp)
        (remhash (process-get proc 'ossl--relay-id) ossl-socket--conns)
        (when (and (> (length before) 0) (process-live-p proc))
          (let ((filter (funcall (ossl--orig 'process-filter) proc))
                (coding (car (funcall (ossl--orig 'process-coding-system) proc))))
            (funcall (or filter #'internal-default-process-filter) proc
                     (decode-coding-string before (or coding 'binary)))))
        (setf (ossl--conn-error conn) (list 'ossl-protocol-error msg))
        (message "ossl: %s" msg)
        (funcall (ossl--orig 'delete-process) proc)))))

(defun ossl-socket--descriptor (proc)
  "The descriptor of network process PROC's socket, or nil if not certain."
  (when (and (eq (process-type proc) 'network)
             (eq (process-status proc) 'open))
    (let ((local (process-contact proc :local))
          (remote (process-contact proc :remote)))
      ;; IPv4 or IPv6 vectors; or the names of a local socket, one of
      ;; them named: the client's peer, or the server's own name.
      (when (or (and (vectorp local) (vectorp remote)
                     (memq (length local) '(5 9))
                     (= (length local) (length remote)))
                (and (stringp local) (stringp remote)
                     (not (equal local remote))))
        (let ((fd (ossl--relay-find local remote)))
          (and (integerp fd) fd))))))

(defun ossl-socket--restore-process (conn)
  "Give CONN's process its user's filter and coding systems back."
  (let ((proc (ossl--conn-process conn))
        (coding (ossl--conn-coding conn)))
    (funcall (ossl--orig 'set-process-filter) proc (ossl--conn-filter conn))
    (funcall (ossl--orig 'set-process-coding-system) proc
             (car coding) (cdr coding))
    (ossl--set-filter-multibyte proc (ossl--conn-filter-multibyte conn))))

(defun ossl-socket--start (conn fd)
  "Start CONN's relay on descriptor FD; return it, or nil if refused.
A refusal (descriptors short, say) leaves the socket as it was."
  (ossl-socket--ensure-channel)
  (let* ((proc (ossl--conn-process conn))
         (id (setq ossl-socket--next-id (1+ ossl-socket--next-id)))
         (relay (condition-case err
                    (ossl--relay-start fd (ossl--conn-handle conn) id)
                  (ossl-error (process-put proc 'ossl--relay-refused
                                           (cadr err))
                              nil))))
    (when relay
      (puthash id conn ossl-socket--conns)
      (process-put proc 'ossl--relay-id id)
      (setf (ossl--conn-relay conn) relay))))

(defun ossl-socket--hold (conn)
  "Run CONN's handshake under its socket's descriptor, if it may go there.
The relay runs the handshake on its thread and holds the data: what
Emacs sends meanwhile waits in the socketpair, and Emacs gets
nothing, until Lisp has decided at the end of the handshake
\(`ossl-socket--handshake-ended').  The process's filter and coding
are never touched.  Return non-nil if the relay started; nil leaves
CONN for the Lisp path."
  (when (eq ossl-socket-data-path 'descriptor)
    (let ((fd (ossl-socket--descriptor (ossl--conn-process conn))))
      (when (and fd (ossl-socket--start conn fd))
        (setf (ossl--conn-held conn) t)
        t))))

(defun ossl-socket--choose-sni (conn)
  "The held handshake of CONN waits for an SNI choice: choose, go on."
  (let ((name (ossl--sni-pending (ossl--conn-handle conn))))
    (when (and name (ossl--choose-sni conn name))
      (ossl--relay-resume (ossl-socket--relay conn)))))

(defun ossl-socket--handshake-ended (conn)
  "The held handshake of CONN ended: decide as on the Lisp path.
While Lisp decides (the verify function, say), the connection's
state is the engine's, as on the Lisp path; the data stay held."
  (let ((state (ossl--state (ossl--conn-handle conn))))
    (unless (eq state 'handshaking)
      (setf (ossl--conn-held conn) 'deciding)
      (ossl--handshake-ended conn state))))

(defun ossl-socket--resume (conn)
  "Release CONN's held relay: its handshake is over and accepted.
What Emacs sent meanwhile is encrypted and sent, the cleartext that
came with the last flight reaches Emacs."
  (setf (ossl--conn-held conn) nil)
  (ossl--relay-resume (ossl-socket--relay conn)))

(defun ossl-socket--send-bytes (proc bytes)
  "Send BYTES to PROC as they are, whatever its coding's end of line."
  (let ((coding (funcall (ossl--orig 'process-coding-system) proc)))
    (if (not (memq (coding-system-eol-type (or (cdr coding) 'binary)) '(1 2)))
        (funcall (ossl--orig 'process-send-string) proc bytes)
      (funcall (ossl--orig 'set-process-coding-system) proc (car coding) 'binary)
      (unwind-protect
          (funcall (ossl--orig 'process-send-string) proc bytes)
        (funcall (ossl--orig 'set-process-coding-system) proc
                 (car coding) (cdr coding))))))

(defun ossl-socket--drop-hold (conn)
  "CONN's held handshake failed or was given up: stop its relay.
The socket goes back in place (a live process stays plain, for
:plain-on-failure); what Emacs sent meanwhile is dropped, never sent
in clear; the records the relay had not sent yet (an alert,
close_notify) go out."
  (let* ((proc (ossl--conn-process conn))
         (relay (ossl-socket--relay conn))
         (live (process-live-p proc)))
    (setf (ossl--conn-held conn) nil
          (ossl--conn-relay conn) 'lisp)
    (remhash (process-get proc 'ossl--relay-id) ossl-socket--conns)
    (when relay
      (pcase-let ((`(,_to-emacs ,_from-emacs ,to-net ,restored)
                   (ossl--relay-stop relay live)))
        (when (and restored (> (length to-net) 0))
          (condition-case nil (ossl-socket--send-bytes proc to-net)
            (error nil)))))))

(defun ossl-socket--maybe-relay (conn)
  "Move CONN's data under its socket's descriptor, if it may go there.
Only an open connection on the Lisp path whose process is a network
stream with nothing in flight moves: no send under way, no cleartext
queued or held back.  Return non-nil if it moved."
  (when (and (eq ossl-socket-data-path 'descriptor)
             (null (ossl--conn-relay conn))
             (ossl--conn-linked conn)
             (null (ossl--conn-dead conn))
             (eq (ossl--conn-phase conn) 'open)
             (not (ossl--conn-sending conn))
             (null (ossl--conn-outq conn))
             (null (ossl--conn-queue conn))
             (null (ossl--conn-carry conn)))
    ;; One try: a socket not found now will not be found later.
    (setf (ossl--conn-relay conn) 'lisp)
    (let ((fd (ossl-socket--descriptor (ossl--conn-process conn))))
      (when (and fd (ossl-socket--start conn fd))
        (ossl-socket--restore-process conn)
        t))))

(defun ossl-socket--phase (conn)
  "The engine's state of relayed CONN, once what Emacs did reached it.
What Emacs sent or shut is served first, so the state follows
`process-send-eof' at once, as on the Lisp path.  When the stream
failed, the connection's error is set and its process deleted at
once, even before the channel is read."
  (let ((h (ossl--conn-handle conn)))
    (ossl--relay-pump (ossl--conn-relay conn))
    (let ((state (ossl--state h)))
      (when (eq state 'failed)
        (ossl-socket--event conn))
      state)))

(defun ossl-socket--unrelay (conn &optional finishing)
  "Put CONN's socket back in place and move CONN to the Lisp path.
The cleartext the relay had for Emacs reaches the filter, what
Emacs sent and was not encrypted yet is encrypted and sent.  With
FINISHING, the layer is about to come off (`ossl-ssl-finish'): CONN
is not linked, so that finishing needs no advice."
  (let* ((relay (ossl-socket--relay conn))
         (proc (ossl--conn-process conn))
         (live (process-live-p proc))
         (filter (funcall (ossl--orig 'process-filter) proc))
         (coding (funcall (ossl--orig 'process-coding-system) proc)))
    (when relay
      (pcase-let ((`(,to-emacs ,from-emacs ,to-net ,restored)
                   (ossl--relay-stop relay live)))
        (remhash (process-get proc 'ossl--relay-id) ossl-socket--conns)
        (setf (ossl--conn-relay conn) 'lisp
              (ossl--conn-filter conn) filter
              (ossl--conn-coding conn) coding)
        (when (fboundp 'process-filter-multibyte-p)
          (setf (ossl--conn-filter-multibyte conn)
                (with-no-warnings (process-filter-multibyte-p proc))))
        (unless finishing
          (ossl--link conn))
        (when (and restored (> (length to-net) 0))
          (if finishing
              (ossl-socket--send-bytes proc to-net)
            (ossl--send-raw conn to-net)))
        (when (> (length to-emacs) 0)
          (ossl--deliver conn to-emacs t))
        (when (and restored (> (length from-emacs) 0) (not finishing)
                   (eq (ossl--conn-phase conn) 'open))
          (ossl--write (ossl--conn-handle conn) from-emacs)
          (ossl--flush conn))))))

(defun ossl-socket--send (conn string)
  "Send STRING through relayed CONN: the relay encrypts it."
  (funcall (ossl--orig 'process-send-string) (ossl--conn-process conn)
           string))

(provide 'ossl-socket)

;;; ossl-socket.el ends here
