;;; ossl-session.el --- Interactive TLS sessions for ossl  -*- lexical-binding: t; -*-

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

;; An interactive TLS session, like telnet (`ossl-open-tls-stream', in
;; `ossl-tls-stream-mode', a comint mode), and STARTTLS by hand: type
;; the protocol's STARTTLS command, then `ossl-starttls-current-buffer'
;; coats the buffer's plain process.  A peer that fails verification is
;; explained with the viewer's verdict (ossl-view.el) and the user
;; decides.  The scripted STARTTLS dialogs of the viewer are in
;; ossl-view.el.

;;; Code:

(require 'subr-x)
(require 'comint)
(require 'ossl)
(require 'ossl-view)

;;;; Options

(defcustom ossl-tls-stream-coding-system 'utf-8-dos
  "Coding system of the sessions of `ossl-open-tls-stream'.
The default sends lines ending in CRLF, as SMTP, IMAP, POP3 and HTTP
expect, and shows replies without their carriage returns.  Use
`utf-8-unix' for protocols whose lines end in a bare newline."
  :type 'coding-system
  :group 'ossl-view
  :package-version '(ossl . "0.1.0"))

;;;; Interactive TLS sessions

(defvar ossl-tls-stream-mode-map
  (let ((map (make-sparse-keymap)))
    (define-key map (kbd "C-c C-t") #'ossl-starttls-current-buffer)
    (define-key map (kbd "C-c C-v") #'ossl-describe-connection)
    map)
  "Keymap of `ossl-tls-stream-mode'.")

(define-derived-mode ossl-tls-stream-mode comint-mode "TLS-stream"
  "Major mode of the interactive sessions of `ossl-open-tls-stream'.
Type a line and RET to send it; replies appear as they come.  Lines
are sent and shown with `ossl-tls-stream-coding-system' (CRLF by
default).  \\<ossl-tls-stream-mode-map>\\[ossl-starttls-current-buffer] coats a plain session with TLS after you
typed the protocol's STARTTLS command; \\[ossl-describe-connection] shows the connection
and its certificates.

\\{ossl-tls-stream-mode-map}"
  (setq-local comint-prompt-regexp "^")
  (setq-local comint-process-echoes nil))

(defmacro ossl-session--closing-on-quit (proc &rest body)
  "Run BODY, a question deciding PROC's fate; a quit (or an error) deletes PROC."
  (declare (indent 1) (debug t))
  (let ((done (make-symbol "done")))
    `(let ((,done nil))
       (unwind-protect
           (prog1 (progn ,@body) (setq ,done t))
         (unless ,done (delete-process ,proc))))))

(defun ossl-session--coat (proc hostname)
  "Coat PROC with TLS as a client checking HOSTNAME, for an interactive command.
The handshake does not abort on a verification failure, but nothing
is sent before the user, asked, accepts the peer; when `ossl-verify-peer'
is nil nobody is asked.  In batch, or when the user declines, delete
PROC and signal `ossl-verify-error'; quitting at the question deletes PROC
too.  Return the connection."
  (let* ((conn (ossl-starttls proc :verify nil :hostname hostname
                              :ca ossl-view-ca))
         (result (ossl-ssl-verify-certificate conn)))
    (unless (or (eql (car result) 0) (not ossl-verify-peer))
      (let ((why (cdr (ossl-view--verdict-of conn))))
        (unless (and (not noninteractive)
                     (ossl-session--closing-on-quit proc
                       (yes-or-no-p (format "%s Use this connection anyway? "
                                            why))))
          (delete-process proc)
          (signal 'ossl-verify-error
                  (list (format "TLS connection to %s refused: %s"
                                (or hostname (process-name proc)) why))))))
    conn))

(defun ossl-session--announce (conn)
  "Say in the echo area what CONN negotiated."
  (message "TLS is on: %s, %s; %s" (ossl-ssl-cipher-version conn)
           (ossl-ssl-cipher-name conn)
           (cdr (ossl-ssl-verify-certificate conn))))

;;;###autoload
(defun ossl-open-tls-stream (host port &optional plain)
  "Open an interactive TLS session with HOST on PORT, like \\[telnet].
Type lines and RET to send them; replies show in the buffer (see
`ossl-tls-stream-mode').  The server's certificate is verified
against the system store and `ossl-view-ca'; when it fails, you are
told why and asked whether to go on.  With a prefix argument PLAIN,
the session starts in clear: type the protocol's STARTTLS command,
then \\<ossl-tls-stream-mode-map>\\[ossl-starttls-current-buffer].  Return the session's buffer."
  (interactive (append (ossl-view--read-host-port) (list current-prefix-arg)))
  (let* ((name (format "ossl %s" (ossl-view--host-port host port)))
         (buffer (get-buffer-create (format "*%s*" name))))
    (unless (comint-check-proc buffer)
      (with-current-buffer buffer
        (ossl-tls-stream-mode)
        (comint-exec buffer name (cons host port) nil nil)
        (let ((proc (get-buffer-process buffer)))
          (set-process-coding-system proc ossl-tls-stream-coding-system
                                     ossl-tls-stream-coding-system)
          (unless plain
            (ossl-session--announce (ossl-session--coat proc host))))))
    (pop-to-buffer buffer)
    buffer))

;;;###autoload
(defun ossl-starttls-current-buffer (&optional hostname)
  "Coat the current buffer's plain process with TLS, as a client.
Use it after typing a protocol's STARTTLS command by hand and reading
the server's go-ahead.  The name verified is HOSTNAME, by default the
host the process connected to (interactively, asked when there is
none).  On a verification failure you are told why and asked whether
to go on.  Return the connection."
  (interactive)
  (let ((proc (get-buffer-process (current-buffer))))
    (unless proc (user-error "No process in buffer %s" (buffer-name)))
    (when (ossl-process-conn proc)
      (user-error "Process %s is already coated with TLS" (process-name proc)))
    (let* ((hostname (or hostname
                         (and (eq (process-type proc) 'network)
                              (let ((h (process-contact proc :host)))
                                (and (stringp h) h)))
                         (and (called-interactively-p 'any)
                              (let ((h (ossl-session--closing-on-quit proc
                                         (read-string
                                          "Host name to verify (empty: none): "))))
                                (and (not (string-empty-p h)) h)))))
           (conn (ossl-session--coat proc hostname)))
      (ossl-session--announce conn)
      conn)))

(provide 'ossl-session)

;;; ossl-session.el ends here
