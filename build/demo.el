;;; demo.el --- make demo: coat a plain connection with TLS  -*- lexical-binding: t; -*-

;;; Commentary:

;; Starts `openssl s_server' on 127.0.0.1 with a throwaway certificate,
;; opens a plain Emacs network process to it, coats it with
;; `ossl-ssl-handshake', talks through the ordinary filter and
;; `process-send-string', and prints what was negotiated.  No internet.

;;; Code:

(require 'ossl)

(defun ossl-demo--run (program &rest args)
  "Run PROGRAM with ARGS; signal with its output when it fails."
  (with-temp-buffer
    (unless (eq 0 (apply #'call-process program nil t nil args))
      (error "%s failed: %s" program (buffer-string)))))

(defun ossl-demo--free-port ()
  "A TCP port on 127.0.0.1 that is free right now."
  (let* ((p (make-network-process :name "port" :server t :host "127.0.0.1"
                                  :service t :noquery t))
         (port (process-contact p :service)))
    (delete-process p)
    port))

(let* ((dir (make-temp-file "ossl-demo" t))
       (cert (expand-file-name "cert.pem" dir))
       (key (expand-file-name "key.pem" dir))
       (port (ossl-demo--free-port))
       (server nil) (proc nil) (received ""))
  (unwind-protect
      (progn
        (ossl-demo--run "openssl" "req" "-x509" "-newkey" "ec"
                        "-pkeyopt" "ec_paramgen_curve:P-256" "-nodes"
                        "-keyout" key "-out" cert "-days" "1"
                        "-subj" "/C=DE/ST=Berlin/O=ossl demo/CN=localhost"
                        "-addext" "subjectAltName=DNS:localhost,IP:127.0.0.1")
        (setq server (make-process
                      :name "s_server" :buffer " *s_server*" :noquery t
                      :command (list "openssl" "s_server" "-quiet" "-rev"
                                     "-accept" (format "127.0.0.1:%d" port)
                                     "-cert" cert "-key" key "-naccept" "1")))
        ;; Wait until it listens.
        (let ((deadline (+ (float-time) 10)))
          (while (and (null proc) (< (float-time) deadline))
            (setq proc (ignore-errors
                         (open-network-stream "demo" nil "localhost" port)))
            (unless proc (sleep-for 0.1))))
        (unless proc (error "The local TLS peer did not start"))
        (message "Plain connection: %S" proc)
        (set-process-filter proc (lambda (_p s) (setq received (concat received s))))
        (let ((conn (ossl-ssl-handshake proc nil cert)))
          (unless conn (error "Handshake failed: %s" ossl-ssl-last-error))
          (message "Coated:           %s" (cl-prin1-to-string conn))
          (process-send-string proc "Hello from Emacs over TLS\n")
          (let ((deadline (+ (float-time) 10)))
            (while (and (not (string-search "\n" received))
                        (< (float-time) deadline))
              (accept-process-output proc 0.1)))
          (message "Sent:             %S" "Hello from Emacs over TLS")
          (message "Peer answered:    %S (s_server -rev reverses lines)"
                   (string-trim received))
          (message "Protocol:         %s" (ossl-ssl-cipher-version conn))
          (message "Cipher:           %s (%d bits)" (ossl-ssl-cipher-name conn)
                   (ossl-ssl-cipher-bits conn))
          (message "Verify result:    %S" (ossl-ssl-verify-certificate conn))
          (message "Peer certificate: %s"
                   (ossl-x509-subject (ossl-ssl-peer-cert conn)))
          (ossl-ssl-finish conn)
          (message "Finished:         %s" (cl-prin1-to-string conn))))
    (when proc (delete-process proc))
    (when server (delete-process server))
    (delete-directory dir t)))

;;; demo.el ends here
