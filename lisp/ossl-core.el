;;; ossl-core.el --- The core of ossl: options, errors, module, connections  -*- lexical-binding: t; -*-

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

;; The core of ossl, below every other file: the options, the error
;; hierarchy, the module (loaded here), the connection object with its
;; checks, and the helpers the other files share.  See ossl.el for
;; the package's description.
;;
;; Layers (each file requires only the ones below it; a lower file's
;; private `ossl--' helpers are the internal interface of the files
;; above it, never of its siblings):
;;
;;   ossl-core     options, errors, module, the connection object
;;   ossl-x509, ossl-crypto, ossl-pkey    certificates, digests, keys
;;   ossl-context  context policy: versions, CAs, keys, SNI, ALPN
;;   ossl-process  the process glue: coat, advice, filter, send, the
;;                 end of a handshake
;;   ossl-socket   the descriptor relay of a coated socket
;;   ossl          handshake drivers, the SXEmacs API, streams, servers
;;   ossl-nsm, ossl-network, ossl-view, ossl-session    the front ends
;;
;; Vocabulary (the words the code and its comments use):
;;
;;  - coat: put a TLS layer on a live process (`ossl--coat'): its
;;    filter then sees cleartext and `process-send-string' sends
;;    ciphertext.  uncoat: take the layer off, the process is plain
;;    again (`ossl--uncoat').
;;  - link / unlink: route the coated process's I/O through the layer,
;;    or let the TLS records pass through untouched (`ossl--link',
;;    `ossl--unlink').  SXEmacs called these proselytise and
;;    unproselytise: those words appear only in the SXEmacs API
;;    (`ossl-ssl-proselytise-process', `ossl-ssl-unproselytise-process').
;;  - connection: the Lisp object, an `ossl-ssl-conn' (SXEmacs's
;;    "ssl-conn"); handle: the engine's connection inside it.
;;  - state: the engine's own state of a handle (`ossl--state'):
;;    `handshaking', `open', `closing', `closed' or `failed'.
;;  - phase: where a connection stands seen from Lisp (`ossl--conn-phase'):
;;    `closed' once the layer is gone, `failed' once Lisp gave up on it,
;;    else the state of the engine (or of the descriptor relay).  The
;;    SXEmacs `ossl-ssl-state' returns the phase.
;;  - feed / take: ciphertext from the peer is fed to the engine,
;;    which returns cleartext; the ciphertext the engine wrote for the
;;    peer is pending until Lisp takes it (`ossl--take') and sends it
;;    raw (`ossl--send-raw').  The C engine says the same:
;;    `ossl_conn_pending', then `ossl_conn_taken'.
;;  - step: one engine call per chunk received (`ossl--step', in C
;;    `ossl_conn_step'): feed it, take the answer, and learn what
;;    happened (end of handshake, failure, close_notify, SNI choice
;;    wanted, end of the transport: clean or truncated).
;;  - deliver: hand decoded cleartext to the user's filter (`ossl--deliver').
;;  - under the descriptor / Lisp path: the two ways records move
;;    (ossl-socket.el; ossl-process.el).  held: a relay under the
;;    descriptor that runs the handshake and holds the data both ways
;;    until Lisp has decided at its end (`ossl--conn-held').

;;; Code:

(require 'cl-lib)
(require 'subr-x)
(require 'ossl-build)

(defgroup ossl nil
  "OpenSSL secure layers for Emacs processes."
  :group 'comm
  :link '(info-link "(ossl)Top")
  :prefix "ossl-")

(defcustom ossl-handshake-timeout 30
  "Seconds a blocking TLS handshake may take before it is abandoned."
  :type 'number
  :package-version '(ossl . "0.1.0"))

(defcustom ossl-verify-peer t
  "Whether a client aborts a handshake when the server fails verification.
When nil, the handshake succeeds whatever the certificate and the
outcome stays available from `ossl-ssl-verify-certificate'.  A call
can decide for itself with the :verify keyword of `ossl-starttls'."
  :type 'boolean
  :package-version '(ossl . "0.1.0"))

(defcustom ossl-trust-system-store t
  "Whether clients trust the system certificate store.
The store honours the environment variables SSL_CERT_FILE and
SSL_CERT_DIR.  CAs given to a call are trusted in addition."
  :type 'boolean
  :package-version '(ossl . "0.1.0"))

(defcustom ossl-finish-timeout 1
  "Seconds `ossl-ssl-finish' waits for the peer's close_notify."
  :type 'number
  :package-version '(ossl . "0.1.0"))

;;;; Errors

(define-error 'ossl-handshake-error "TLS handshake failed" 'ossl-error)
(define-error 'ossl-verify-error "TLS certificate verification failed"
  'ossl-handshake-error)
(define-error 'ossl-timeout-error "TLS handshake timed out"
  'ossl-handshake-error)
(define-error 'ossl-closed-error "TLS connection is closed" 'ossl-error)
(define-error 'ossl-protocol-error "TLS connection failed" 'ossl-error)
(define-error 'ossl-not-supported-error "Not supported" 'ossl-error)
(define-error 'ossl-certificate-error "Cannot use certificate" 'ossl-error)
(define-error 'ossl-key-error "Cannot use private key" 'ossl-error)

(defvar ossl-ssl-last-error nil
  "The message of the last failed TLS handshake, or nil.")

;;;; The module (see ossl-build.el)

(ossl--load-module)

(declare-function ossl--state "ossl-module" (conn))
(declare-function ossl--protocol "ossl-module" (conn))
(declare-function ossl-socket--phase "ossl-socket" (conn))

;;;; Connection objects

(cl-defstruct (ossl-ssl-conn
               (:constructor ossl--make-conn)
               (:copier nil)
               (:predicate ossl-ssl-conn-p)
               (:conc-name ossl--conn-))
  "A TLS layer coating an Emacs process."
  process             ; the parent process
  handle              ; the module's connection
  serverp
  hostname            ; the name verified, or nil
  (linked t)          ; proselytised: the process I/O goes through TLS
  filter              ; the user's filter, receiving cleartext
  coding              ; the user's (DECODING . ENCODING)
  filter-multibyte    ; the process's own setting, restored at the end
  carry               ; undecoded bytes held back: an incomplete character
  queue               ; cleartext sent before the handshake ended, reversed
  sending             ; a raw send is in progress
  outq                ; ciphertext waiting for that send, reversed
  verify              ; abort on verification failure
  verify-function     ; caller's decision, or nil
  callback            ; called once the handshake ends (non-blocking)
  sni-function        ; server: chooses a certificate for a name
  timer               ; the non-blocking handshake's timeout
  plain-on-failure    ; a failed handshake leaves the process open, plain
  error               ; why the connection failed, or nil
  dead                ; finished: the layer is gone
  relay               ; nil: not tried, `lisp', or the descriptor relay
                      ; (see ossl-socket.el)
  held)               ; the relay runs the handshake and holds the data:
                      ; t, `deciding' once it ended, nil once released

(defun ossl--check-conn (conn)
  "Signal unless CONN is a live TLS connection; return its handle."
  (unless (ossl-ssl-conn-p conn)
    (signal 'wrong-type-argument (list 'ossl-ssl-conn-p conn)))
  (when (ossl--conn-dead conn)
    (signal 'ossl-closed-error (list "TLS connection is finished" conn)))
  (ossl--conn-handle conn))

(defun ossl--check-host (host)
  "Signal unless HOST may be given to `make-network-process'; return it.
A unibyte host name with non-ASCII bytes is no host name, and Emacs
28 crashes formatting its \"Name or service not known\" error.  A
name with a NUL or another control character in it is none either:
the system would look up, and OpenSSL check, only a part of it."
  (when (and (stringp host)
             (or (string-match-p "[\0-\37\177]" host)
                 (and (not (multibyte-string-p host))
                      (string-match-p "[^\0-\177]" host))))
    (signal 'wrong-type-argument (list 'ossl-host-name-p host)))
  host)

(defun ossl--check-hostname (name)
  "NAME, a host name to verify, checked as `ossl--check-host' does.
Return nil for nil and for \"\", which name no host."
  (unless (or (null name) (stringp name))
    (signal 'wrong-type-argument (list 'stringp name)))
  (and name (not (string-empty-p (ossl--check-host name))) name))

;; The printed forms are defined once cl-print is loaded: only
;; `cl-prin1' uses them, and it loads cl-print first.  A method added
;; to Emacs 30's preloaded `cl-print-object' byte-compiles a new
;; dispatcher, which would load the byte compiler with ossl (a bigger
;; live heap, slower GCs) in an Emacs that may never print one.
(with-eval-after-load 'cl-print
  (cl-defmethod cl-print-object ((conn ossl-ssl-conn) stream)
    "Print CONN the way SXEmacs did, on STREAM."
    (if (ossl--conn-dead conn)
        (princ "#<OpenSSL socket layer: dead>" stream)
      (princ (format "#<OpenSSL socket layer: %s on top of "
                     (or (ossl--protocol (ossl--conn-handle conn))
                         "handshaking"))
             stream)
      (prin1 (ossl--conn-process conn) stream)
      (princ ">" stream))))

(defun ossl--conn-phase (conn)
  "Where CONN stands, seen from Lisp: the engine's state, or `failed'."
  (cond ((ossl--conn-dead conn) 'closed)
        ((ossl--conn-error conn) 'failed)
        ;; Until Lisp heard that the relay's handshake ended.
        ((eq (ossl--conn-held conn) t) 'handshaking)
        ((ossl--relayed-p conn) (ossl-socket--phase conn))
        (t (ossl--state (ossl--conn-handle conn)))))

(defun ossl--relayed-p (conn)
  "Return non-nil if CONN's data go under its socket's descriptor."
  (not (memq (ossl--conn-relay conn) '(nil lisp))))

;;;; Shared helpers

(defun ossl--resolve (process)
  "The process PROCESS designates, as the process primitives understand it."
  (cond ((processp process) process)
        ((null process) (get-buffer-process (current-buffer)))
        ((bufferp process) (get-buffer-process process))
        ((stringp process)
         (or (get-process process)
             (let ((b (get-buffer process))) (and b (get-buffer-process b)))))))

(defun ossl--conn-of (process)
  "The TLS connection coating PROCESS, or nil."
  (let ((p (ossl--resolve process)))
    (and p (process-get p 'ossl--conn))))

(defun ossl--plist-without (plist &rest keys)
  "PLIST without KEYS."
  (let (out)
    (while plist
      (unless (memq (car plist) keys)
        (setq out (cons (cadr plist) (cons (car plist) out))))
      (setq plist (cddr plist)))
    (nreverse out)))

(defun ossl--x509-subject-cn (subject)
  "The common name in the one-line SUBJECT string, or nil."
  (and subject (string-match "/CN=\\([^/]+\\)" subject)
       (match-string 1 subject)))

(defun ossl--x509-date (time &optional default)
  "TIME, in seconds, as an ISO date in UTC; DEFAULT when TIME is nil."
  (if time (format-time-string "%Y-%m-%d" time t) default))

(defun ossl--x509-name (info)
  "The name a certificate with INFO (see `ossl-x509-info') is known by.
Its common name, else its first subjectAltName, else its subject."
  (let ((subject (plist-get info :subject)))
    (or (ossl--x509-subject-cn subject)
        (cdar (plist-get info :subject-alt-names))
        (and subject (not (string-empty-p subject)) subject)
        "(no name)")))

(defun ossl--x509-san-string (sans)
  "The subjectAltNames SANS as \"DNS:a, IP:1.2.3.4\"."
  (mapconcat (lambda (san) (format "%s:%s" (upcase (symbol-name (car san)))
                                   (cdr san)))
             sans ", "))

(defun ossl--x509-names (info)
  "The names the certificate with INFO is for: \"DNS:a, IP:1.2.3.4\".
Its subjectAltNames, or \"CN=x\" when it has none."
  (let ((sans (plist-get info :subject-alt-names)))
    (if sans (ossl--x509-san-string sans)
      (format "CN=%s" (ossl--x509-name info)))))

(provide 'ossl-core)

;;; ossl-core.el ends here
