;;; ossl-x509-tests.el --- tests of certificate objects  -*- lexical-binding: t; -*-

;;; Commentary:

;; Issue 3, parts 1-3: certificate objects and their accessors.  Every
;; value is compared with what the openssl command line prints for the
;; same file.  The certificates are generated at test time, with the
;; openssl CLI, in a fresh directory: EC, RSA, RSA-PSS, Ed25519, Ed448
;; and DSA keys, a CA and a leaf with every kind of extension, 20-byte,
;; negative and zero serials, a UTF-8 name and a GeneralizedTime date.
;; When test/ossl-test-lib.el is there, its PKI is checked as well, and
;; the certificates of real TLS connections.

;;; Code:

(require 'ert)
(require 'cl-lib)
(require 'subr-x)

(defconst ossl-x509-tests--lisp-dir
  (expand-file-name "../lisp/"
                    (file-name-directory (or load-file-name buffer-file-name
                                             default-directory)))
  "The lisp directory of this checkout.")

(if (file-exists-p (expand-file-name "ossl.el" ossl-x509-tests--lisp-dir))
    (require 'ossl)
  (unless (featurep 'ossl-module)
    (module-load (expand-file-name "ossl-module.so" ossl-x509-tests--lisp-dir)))
  (unless (get 'ossl-error 'error-conditions)
    (define-error 'ossl-error "TLS error")
    (define-error 'ossl-closed-error "TLS connection is closed" 'ossl-error)
    (define-error 'ossl-certificate-error "Cannot use certificate"
      'ossl-error)))
(require 'ossl-x509)
(require 'ossl-test-lib nil t)

(declare-function ossl-test-file "ossl-test-lib" (name))
(declare-function ossl-starttls "ossl" (process &rest keys))
(declare-function ossl--x509-handle-p "ossl-module" (object))
(declare-function ossl--ctx-new "ossl-module" (serverp))
(declare-function ossl--state "ossl-module" (conn))
(declare-function ossl--x509-pubkey "ossl-module" (h))
(declare-function ossl-test-openssl-server "ossl-test-lib" (&rest keys))
(declare-function ossl-test-wait-for "ossl-test-lib" (predicate &optional timeout))
(declare-function ossl-ssl-finish "ossl" (ssl-conn))
(declare-function ossl-ssl-handshake "ossl"
                  (process &optional method ca cert key serverp))
(declare-function ossl--conn-handle "ossl-core" (conn))
(declare-function ossl--conn-process "ossl-core" (conn))
(defvar ossl-test-serial20)

;;;; Fixtures

(defvar ossl-x509-tests--dir nil
  "The directory of this session's generated certificates.")

(defun ossl-x509-tests--run (program &rest args)
  "Run PROGRAM with ARGS; return its output as bytes, or fail the test."
  (with-temp-buffer
    (set-buffer-multibyte nil)
    (let* ((coding-system-for-read 'binary)
           (err (make-temp-file "ossl-x509-err"))
           (rc (apply #'call-process program nil (list t err) nil args)))
      (unwind-protect
          (unless (eq rc 0)
            (error "%s %s failed: %s" program (string-join args " ")
                   (with-temp-buffer
                     (insert-file-contents err)
                     (buffer-string))))
        (delete-file err))
      (buffer-string))))

(defun ossl-x509-tests--openssl (&rest args)
  "The output of `openssl ARGS' as text."
  (decode-coding-string (apply #'ossl-x509-tests--run "openssl" args) 'utf-8))

(defconst ossl-x509-tests--config "\
[req]
distinguished_name = dn
prompt = no
utf8 = yes
string_mask = utf8only
[dn]
CN = unused
[root]
basicConstraints = critical,CA:TRUE,pathlen:1
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth,clientAuth,codeSigning,1.2.3.4.5
subjectAltName = DNS:localhost,DNS:*.example.test,IP:127.0.0.1,IP:::1,\
IP:2001:db8::5,email:test@example.test,URI:https://example.test/x
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[plain]
subjectKeyIdentifier = hash
"
  "The openssl configuration the fixtures are made with.")

(defconst ossl-x509-tests--big-serial
  #x7FAB0123456789ABCDEF0123456789ABCDEF0102
  "The leaf's serial: 20 bytes, the most RFC 5280 allows.")

(defun ossl-x509-tests--key (file algorithm)
  "Generate a key of ALGORITHM (ec, rsa, rsa-pss, ed25519, ed448, dsa) in FILE."
  (pcase algorithm
    ('ec (ossl-x509-tests--openssl "genpkey" "-algorithm" "EC" "-pkeyopt"
                                   "ec_paramgen_curve:P-256" "-out" file))
    ('rsa (ossl-x509-tests--openssl "genpkey" "-algorithm" "RSA" "-pkeyopt"
                                    "rsa_keygen_bits:2048" "-out" file))
    ('rsa-pss (ossl-x509-tests--openssl "genpkey" "-algorithm" "RSA-PSS"
                                        "-pkeyopt" "rsa_keygen_bits:2048"
                                        "-out" file))
    ('dsa (let ((params (concat file ".params")))
            (ossl-x509-tests--openssl "genpkey" "-genparam" "-algorithm" "DSA"
                                      "-pkeyopt" "pbits:2048" "-out" params)
            (ossl-x509-tests--openssl "genpkey" "-paramfile" params
                                      "-out" file)))
    (_ (ossl-x509-tests--openssl "genpkey" "-algorithm"
                                 (upcase (symbol-name algorithm))
                                 "-out" file))))

(defun ossl-x509-tests--self-signed (name algorithm subject &rest args)
  "Make NAME.pem, self-signed with a new ALGORITHM key, for SUBJECT.
ARGS are more arguments to `openssl req'."
  (let ((key (expand-file-name (concat name ".key") ossl-x509-tests--dir))
        (cert (expand-file-name (concat name ".pem") ossl-x509-tests--dir)))
    (ossl-x509-tests--key key algorithm)
    (apply #'ossl-x509-tests--openssl "req" "-x509" "-new" "-config"
           (expand-file-name "openssl.cnf" ossl-x509-tests--dir)
           "-key" key "-subj" subject "-out" cert args)
    cert))

(defun ossl-x509-tests--make-fixtures ()
  "Generate this session's certificates."
  (let ((dir (make-temp-file "ossl-x509-tests" t)))
    (setq ossl-x509-tests--dir dir)
    (add-hook 'kill-emacs-hook
              (lambda () (delete-directory dir t)))
    (with-temp-file (expand-file-name "openssl.cnf" dir)
      (insert ossl-x509-tests--config))
    (let ((default-directory (file-name-as-directory dir)))
      (ossl-x509-tests--self-signed
       "root" 'ec "/C=DE/ST=Berlin/O=ossl tests/CN=ossl Test Root"
       "-extensions" "root" "-days" "30" "-set_serial" "1")
      (ossl-x509-tests--key "leaf.key" 'ec)
      (ossl-x509-tests--openssl "req" "-new" "-config" "openssl.cnf"
                                "-key" "leaf.key" "-out" "leaf.csr" "-subj"
                                "/C=DE/ST=Berlin/O=ossl tests/CN=localhost")
      (ossl-x509-tests--openssl "x509" "-req" "-in" "leaf.csr"
                                "-CA" "root.pem" "-CAkey" "root.key"
                                "-set_serial"
                                (format "0x%X" ossl-x509-tests--big-serial)
                                "-days" "10" "-extfile" "openssl.cnf"
                                "-extensions" "leaf" "-out" "leaf.pem")
      (ossl-x509-tests--self-signed "rsa" 'rsa "/C=US/O=RSA Inc./CN=rsa.test"
                                    "-extensions" "plain" "-days" "5")
      (ossl-x509-tests--self-signed "pss" 'rsa-pss "/CN=pss.test"
                                    "-extensions" "plain" "-days" "5")
      (ossl-x509-tests--self-signed "ed25519" 'ed25519 "/CN=ed25519.test"
                                    "-extensions" "plain" "-days" "5"
                                    "-set_serial" "-42")
      ;; Past 2049 the dates are GeneralizedTime.
      (ossl-x509-tests--self-signed "ed448" 'ed448
                                    "/O=Straße+OU=Grüße/CN=Ünïcödé 名前"
                                    "-extensions" "plain" "-days" "20000"
                                    "-set_serial" "0")
      (ossl-x509-tests--self-signed "dsa" 'dsa "/CN=dsa.test"
                                    "-extensions" "plain" "-days" "5")
      ;; Files that are not what their name says.
      (ossl-x509-tests--openssl "x509" "-in" "leaf.pem" "-outform" "DER"
                                "-out" "leaf.der")
      (copy-file "leaf.der" "der-named.pem")
      (with-temp-file "bundle.pem"
        (insert "Some text before.\n")
        (insert-file-contents "root.pem")
        (goto-char (point-max))
        (insert-file-contents "leaf.key")
        (goto-char (point-max))
        (insert-file-contents "leaf.pem")
        (goto-char (point-max))
        (insert "Some text after.\n"))
      (with-temp-file "garbage.pem"
        (insert "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n"
                "-----END CERTIFICATE-----\n"))
      (with-temp-file "bad-asn1.pem"
        (insert "-----BEGIN CERTIFICATE-----\n"
                (base64-encode-string "this is no certificate") "\n"
                "-----END CERTIFICATE-----\n"))
      (with-temp-file "truncated.pem"
        (insert-file-contents "leaf.pem")
        (goto-char (/ (point-max) 2))
        (delete-region (point) (point-max)))
      (with-temp-file "text.txt" (insert "Just some text.\n"))
      (with-temp-file "empty.pem"))))

(defun ossl-x509-tests--file (name)
  "The generated fixture NAME, generating the set on first use."
  (unless (and ossl-x509-tests--dir (file-directory-p ossl-x509-tests--dir))
    (ossl-x509-tests--make-fixtures))
  (expand-file-name name ossl-x509-tests--dir))

(defun ossl-x509-tests--cert (name)
  "The first certificate in fixture NAME."
  (car (ossl-x509-read-file (ossl-x509-tests--file name))))

(defconst ossl-x509-tests--cert-files
  '("root.pem" "leaf.pem" "rsa.pem" "pss.pem" "ed25519.pem" "ed448.pem"
    "dsa.pem")
  "The generated certificates checked field by field against openssl.")

(defconst ossl-x509-tests--lib-files
  '("root.pem" "int.pem" "server.pem" "server-rsa.pem" "client.pem"
    "serial20.pem" "selfsigned.pem" "expired.pem")
  "Certificates of the shared test PKI checked as well, when it is there.")

(defun ossl-x509-tests--all-files ()
  "Every certificate file to compare with openssl."
  (append (mapcar #'ossl-x509-tests--file ossl-x509-tests--cert-files)
          (and (fboundp 'ossl-test-file)
               (cl-loop for name in ossl-x509-tests--lib-files
                        for f = (ignore-errors (ossl-test-file name))
                        when (and f (file-readable-p f)) collect f))))

;;;; What openssl says

(defun ossl-x509-tests--field (file &rest args)
  "The value openssl x509 prints for FILE with ARGS, after its \"=\"."
  (let ((out (string-trim
              (apply #'ossl-x509-tests--openssl "x509" "-noout" "-in" file
                     args))))
    (substring out (1+ (string-search "=" out)))))

(defun ossl-x509-tests--rdns-openssl (s)
  "The set of RDNs in openssl's default name form S: (\"C=DE\" ...).
Multi-valued RDNs (\"O = x + OU = y\") are split."
  (sort (mapcar (lambda (rdn) (replace-regexp-in-string " = " "=" rdn))
                (split-string s "\\(, \\| \\+ \\)" t))
        #'string<))

(defun ossl-x509-tests--unescape (s)
  "S with its \\xHH escapes decoded, as UTF-8."
  (let ((bytes nil) (i 0))
    (while (< i (length s))
      (if (and (eq (string-match "\\\\x\\([0-9A-F][0-9A-F]\\)" s i) i))
          (progn (push (string-to-number (match-string 1 s) 16) bytes)
                 (setq i (match-end 0)))
        (push (aref s i) bytes)
        (setq i (1+ i))))
    (decode-coding-string (apply #'unibyte-string (nreverse bytes)) 'utf-8)))

(defun ossl-x509-tests--rdns-oneline (s)
  "The set of RDNs in the one-line name form S, \"/C=DE/CN=x\".
Multi-valued RDNs (\"/O=x+OU=y\") are split, as openssl's default
form does; \\xHH escapes are decoded as UTF-8."
  (sort (mapcar #'ossl-x509-tests--unescape (split-string s "[/+]" t))
        #'string<))

(defun ossl-x509-tests--iso-time (s)
  "The integer time of openssl's ISO 8601 date S, \"2026-11-22 06:39:11Z\"."
  (string-match (concat "\\([0-9]+\\)-\\([0-9]+\\)-\\([0-9]+\\) "
                        "\\([0-9]+\\):\\([0-9]+\\):\\([0-9]+\\)Z")
                s)
  (let ((n (lambda (i) (string-to-number (match-string i s)))))
    (time-convert (encode-time (list (funcall n 6) (funcall n 5) (funcall n 4)
                                     (funcall n 3) (funcall n 2) (funcall n 1)
                                     nil nil t))
                  'integer)))

(defun ossl-x509-tests--asn1-iso (s)
  "ASN.1 time S, \"261122063911Z\" or \"20261122063911Z\", as ISO 8601."
  (let ((s (if (= (length s) 13)
               (concat (if (< (string-to-number (substring s 0 2)) 50)
                           "20" "19")
                       s)
             s)))
    (format "%s-%s-%s %s:%s:%sZ" (substring s 0 4) (substring s 4 6)
            (substring s 6 8) (substring s 8 10) (substring s 10 12)
            (substring s 12 14))))

(defun ossl-x509-tests--expand-ip (ip)
  "IP in a canonical form: IPv6 as eight lower-case hex groups."
  (if (not (string-search ":" ip))
      ip
    (let* ((halves (split-string ip "::"))
           (head (split-string (car halves) ":" t))
           (tail (and (cdr halves) (split-string (cadr halves) ":" t)))
           (zeros (make-list (- 8 (length head) (length tail)) "0")))
      (mapconcat (lambda (g) (format "%x" (string-to-number g 16)))
                 (append head (and (cdr halves) zeros) tail) ":"))))

(defun ossl-x509-tests--sans-openssl (file)
  "The subjectAltNames openssl prints for FILE, as ((TYPE . VALUE) ...)."
  (let* ((out (ossl-x509-tests--openssl "x509" "-noout" "-in" file
                                        "-ext" "subjectAltName"))
         (lines (cdr (split-string out "\n" t "[ \t]+"))))
    (and lines
         (mapcar (lambda (item)
                   (let ((i (string-search ":" item)))
                     (cons (pcase (substring item 0 i)
                             ("DNS" 'dns) ("IP Address" 'ip) ("email" 'email)
                             ("URI" 'uri) (other (intern other)))
                           (substring item (1+ i)))))
                 (split-string (car lines) ", " t)))))

(defun ossl-x509-tests--normal-sans (sans)
  "SANS with IP addresses in canonical form."
  (mapcar (lambda (san)
            (if (eq (car san) 'ip)
                (cons 'ip (ossl-x509-tests--expand-ip (cdr san)))
              san))
          sans))

(defun ossl-x509-tests--text-field (text regexp)
  "Group 1 of the first match of REGEXP in TEXT."
  (and (string-match regexp text) (match-string 1 text)))

;;;; Parsing

(ert-deftest ossl-x509/read-file-pem ()
  "A PEM file gives its certificate, as an `ossl-x509' object."
  (let ((certs (ossl-x509-read-file (ossl-x509-tests--file "leaf.pem"))))
    (should (= (length certs) 1))
    (should (ossl-x509-p (car certs)))
    (should (equal (ossl-x509-subject (car certs))
                   "/C=DE/ST=Berlin/O=ossl tests/CN=localhost"))))

(ert-deftest ossl-x509/read-file-bundle ()
  "Every certificate of a bundle comes back, in order; keys and text are skipped."
  (let ((certs (ossl-x509-read-file (ossl-x509-tests--file "bundle.pem"))))
    (should (= (length certs) 2))
    (should (ossl-x509-equal (nth 0 certs) (ossl-x509-tests--cert "root.pem")))
    (should (ossl-x509-equal (nth 1 certs) (ossl-x509-tests--cert "leaf.pem")))))

(ert-deftest ossl-x509/read-file-der ()
  "A DER file is read whatever its name says."
  (dolist (name '("leaf.der" "der-named.pem"))
    (let ((certs (ossl-x509-read-file (ossl-x509-tests--file name))))
      (should (= (length certs) 1))
      (should (ossl-x509-equal (car certs) (ossl-x509-tests--cert "leaf.pem"))))))

(ert-deftest ossl-x509/read-file-relative-name ()
  "A relative file name is expanded in `default-directory'."
  (let ((default-directory (file-name-as-directory
                            (file-name-directory
                             (ossl-x509-tests--file "leaf.pem")))))
    (should (= 1 (length (ossl-x509-read-file "leaf.pem"))))))

(ert-deftest ossl-x509/system-bundle ()
  "Every certificate of the system's CA bundle reads and describes."
  (let ((file (cl-find-if #'file-readable-p
                          '("/etc/ssl/certs/ca-certificates.crt"
                            "/etc/pki/tls/certs/ca-bundle.crt"))))
    (skip-unless file)
    (let ((certs (ossl-x509-read-file file))
          (expected (with-temp-buffer
                      (insert-file-contents file)
                      (how-many "^-----BEGIN CERTIFICATE-----$"
                                (point-min) (point-max)))))
      (should (= (length certs) expected))
      (dolist (c certs)
        (let ((info (ossl-x509-info c)))
          (should (plist-get info :ca-p))
          (should (integerp (plist-get info :serial)))
          (should (stringp (ossl-x509-text c))))))))

;;;; Fields against openssl

(ert-deftest ossl-x509/names-match-openssl ()
  "Subject and issuer, in both forms, are what openssl prints."
  (dolist (file (ossl-x509-tests--all-files))
    (let ((c (car (ossl-x509-read-file file))))
      (ert-info ((format "%s" file))
        (dolist (what '(subject issuer))
          (let ((ours (if (eq what 'subject) (ossl-x509-subject c)
                        (ossl-x509-issuer c)))
                (flag (format "-%s" what)))
            (should (equal (ossl-x509-tests--rdns-oneline ours)
                           (ossl-x509-tests--rdns-openssl
                            (ossl-x509-tests--field
                             file flag "-nameopt" "oneline,-esc_msb,utf8"))))
            (should (equal ours (ossl-x509-tests--field file flag "-nameopt"
                                                        "compat")))
            (should (equal (if (eq what 'subject)
                               (ossl-x509-subject c 'rfc2253)
                             (ossl-x509-issuer c 'rfc2253))
                           (ossl-x509-tests--field file flag "-nameopt"
                                                   "RFC2253")))))
        (let ((info (ossl-x509-info c)))
          (should (equal (plist-get info :subject) (ossl-x509-subject c)))
          (should (equal (plist-get info :issuer) (ossl-x509-issuer c)))
          (should (equal (plist-get info :subject-rfc2253)
                         (ossl-x509-subject c 'rfc2253)))
          (should (equal (plist-get info :issuer-rfc2253)
                         (ossl-x509-issuer c 'rfc2253))))))))

(ert-deftest ossl-x509/serial-matches-openssl ()
  "The serial is the exact integer openssl prints in hex."
  (dolist (file (ossl-x509-tests--all-files))
    (let* ((c (car (ossl-x509-read-file file)))
           (hex (ossl-x509-tests--field file "-serial"))
           (n (if (string-prefix-p "-" hex)
                  (- (string-to-number (substring hex 1) 16))
                (string-to-number hex 16)))
           (info (ossl-x509-info c)))
      (ert-info ((format "%s" file))
        (should (integerp (ossl-x509-serial c)))
        (should (= (ossl-x509-serial c) n))
        (should (eql (plist-get info :serial) (ossl-x509-serial c)))
        (should (equal (replace-regexp-in-string ":" "" (plist-get info :serial-hex))
                       (if (= (length hex) 0) "00"
                         (if (cl-oddp (length (string-remove-prefix "-" hex)))
                             (replace-regexp-in-string "^-?" "\\&0" hex)
                           hex))))))))

(ert-deftest ossl-x509/serial-bignum ()
  "A 20-byte serial comes back exactly, as a bignum; negative and zero too."
  (let ((c (ossl-x509-tests--cert "leaf.pem")))
    (should (bignump (ossl-x509-serial c)))
    (should (= (ossl-x509-serial c) ossl-x509-tests--big-serial))
    (should (equal (plist-get (ossl-x509-info c) :serial-hex)
                   "7F:AB:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:02")))
  (let ((c (ossl-x509-tests--cert "ed25519.pem")))
    (should (eql (ossl-x509-serial c) -42))
    (should (equal (plist-get (ossl-x509-info c) :serial-hex) "-2A")))
  (let ((c (ossl-x509-tests--cert "ed448.pem")))
    (should (eql (ossl-x509-serial c) 0))
    (should (equal (plist-get (ossl-x509-info c) :serial-hex) "00")))
  (should (eql (ossl-x509-serial (ossl-x509-tests--cert "root.pem")) 1)))

(ert-deftest ossl-x509/dates-match-openssl ()
  "Validity strings and times are those openssl prints."
  (dolist (file (ossl-x509-tests--all-files))
    (let* ((c (car (ossl-x509-read-file file)))
           (info (ossl-x509-info c))
           (start (ossl-x509-tests--field file "-startdate" "-dateopt"
                                          "iso_8601"))
           (end (ossl-x509-tests--field file "-enddate" "-dateopt"
                                        "iso_8601")))
      (ert-info ((format "%s" file))
        (should (string-match-p "\\`\\([0-9][0-9]\\)?[0-9]\\{12\\}Z\\'"
                                (ossl-x509-not-before c)))
        (should (equal (ossl-x509-tests--asn1-iso (ossl-x509-not-before c))
                       start))
        (should (equal (ossl-x509-tests--asn1-iso (ossl-x509-not-after c))
                       end))
        (should (equal (plist-get info :not-before) (ossl-x509-not-before c)))
        (should (equal (plist-get info :not-after) (ossl-x509-not-after c)))
        (should (eql (plist-get info :valid-from)
                     (ossl-x509-tests--iso-time start)))
        (should (eql (plist-get info :valid-to)
                     (ossl-x509-tests--iso-time end)))))))

(ert-deftest ossl-x509/dates-forms ()
  "UTCTime and GeneralizedTime come back as stored; times are usable."
  (let ((c (ossl-x509-tests--cert "leaf.pem")))
    (should (= (length (ossl-x509-not-after c)) 13))
    (let ((info (ossl-x509-info c)))
      (should (time-less-p (plist-get info :valid-from) (current-time)))
      (should (time-less-p (current-time) (plist-get info :valid-to)))
      (should (< (abs (- (time-convert (time-add nil (* 10 86400)) 'integer)
                         (plist-get info :valid-to)))
                 3600))))
  (let* ((c (ossl-x509-tests--cert "ed448.pem"))
         (after (ossl-x509-not-after c)))
    (should (= (length after) 15))
    (should (> (string-to-number (substring after 0 4)) 2049))
    (should (equal (format-time-string "%Y%m%d%H%M%SZ"
                                       (plist-get (ossl-x509-info c) :valid-to)
                                       t)
                   after))))

(ert-deftest ossl-x509/fingerprints-match-openssl ()
  "SHA-256 and SHA-1 fingerprints are what openssl prints."
  (dolist (file (ossl-x509-tests--all-files))
    (let ((info (ossl-x509-info (car (ossl-x509-read-file file)))))
      (ert-info ((format "%s" file))
        (should (equal (plist-get info :sha256)
                       (ossl-x509-tests--field file "-fingerprint" "-sha256")))
        (should (equal (plist-get info :sha1)
                       (ossl-x509-tests--field file "-fingerprint" "-sha1")))))))

(defun ossl-x509-tests--spki-digest (file digest)
  "DIGEST of FILE's SubjectPublicKeyInfo as openssl computes it, colon hex.
`openssl x509 -pubkey | openssl pkey -pubin -outform DER | openssl DIGEST'."
  (let* ((out (ossl-x509-tests--run
              "sh" "-c"
              (format "openssl x509 -in %s -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -%s -r"
                      (shell-quote-argument file) digest)))
         hex)
    (should (string-match "\\`\\([0-9a-f]+\\) " out))
    (setq hex (upcase (match-string 1 out)))
    (mapconcat (lambda (i) (substring hex i (+ i 2)))
               (number-sequence 0 (- (length hex) 2) 2) ":")))

(ert-deftest ossl-x509/public-key-fingerprints-match-openssl ()
  "The SubjectPublicKeyInfo's SHA-256 and SHA-1 are openssl's, whatever
the key type (EC, RSA, RSA-PSS, Ed25519, Ed448, DSA)."
  (dolist (file (ossl-x509-tests--all-files))
    (let ((info (ossl-x509-info (car (ossl-x509-read-file file)))))
      (ert-info ((format "%s" file))
        (should (equal (plist-get info :public-key-sha256)
                       (ossl-x509-tests--spki-digest file "sha256")))
        (should (equal (plist-get info :public-key-sha1)
                       (ossl-x509-tests--spki-digest file "sha1")))
        ;; Not the fingerprint of the whole certificate.
        (should-not (equal (plist-get info :public-key-sha256)
                           (plist-get info :sha256)))))))

(ert-deftest ossl-x509/alt-names-match-openssl ()
  "subjectAltNames are those openssl prints."
  (dolist (file (ossl-x509-tests--all-files))
    (let ((info (ossl-x509-info (car (ossl-x509-read-file file)))))
      (ert-info ((format "%s" file))
        (should (equal (ossl-x509-tests--normal-sans
                        (plist-get info :subject-alt-names))
                       (ossl-x509-tests--normal-sans
                        (ossl-x509-tests--sans-openssl file)))))))
  (should (equal (plist-get (ossl-x509-info (ossl-x509-tests--cert "leaf.pem"))
                            :subject-alt-names)
                 '((dns . "localhost") (dns . "*.example.test")
                   (ip . "127.0.0.1") (ip . "::1") (ip . "2001:db8::5")
                   (email . "test@example.test")
                   (uri . "https://example.test/x")))))

(ert-deftest ossl-x509/keys-and-algorithms-match-openssl ()
  "Key algorithm and size, and the signature algorithm, agree with openssl."
  (dolist (file (ossl-x509-tests--all-files))
    (let* ((c (car (ossl-x509-read-file file)))
           (info (ossl-x509-info c))
           (text (ossl-x509-tests--openssl "x509" "-noout" "-text" "-in"
                                           file))
           (bits (ossl-x509-tests--text-field text "Public-Key: (\\([0-9]+\\) bit"))
           (sig (ossl-x509-tests--text-field
                 text "Signature Algorithm: \\([^ \n]+\\)")))
      (ert-info ((format "%s" file))
        (should (equal (plist-get info :signature-algorithm) sig))
        (when bits
          (should (eql (plist-get info :public-key-bits)
                       (string-to-number bits))))
        (should (equal (plist-get info :version)
                       (string-to-number
                        (ossl-x509-tests--text-field
                         text "Version: \\([0-9]+\\)"))))))))

(ert-deftest ossl-x509/signature-types ()
  "The signature type names the key type that signed."
  (pcase-dolist (`(,name ,type ,alg ,bits ,sigalg)
                 '(("root.pem" ec "EC" 256 "ecdsa-with-SHA256")
                   ("leaf.pem" ec "EC" 256 "ecdsa-with-SHA256")
                   ("rsa.pem" rsa "RSA" 2048 "sha256WithRSAEncryption")
                   ("pss.pem" rsa-pss "RSA-PSS" 2048 "rsassaPss")
                   ("ed25519.pem" ed25519 "ED25519" nil "ED25519")
                   ("ed448.pem" ed448 "ED448" nil "ED448")
                   ("dsa.pem" dsa "DSA" 2048 "dsa_with_SHA256")))
    (let* ((c (ossl-x509-tests--cert name))
           (info (ossl-x509-info c)))
      (ert-info (name)
        (should (eq (ossl-x509-signature-type c) type))
        (should (eq (plist-get info :signature-type) type))
        (should (equal (plist-get info :public-key-algorithm) alg))
        (when bits
          (should (eql (plist-get info :public-key-bits) bits)))
        (should (natnump (plist-get info :public-key-bits)))
        (should (equal (plist-get info :signature-algorithm) sigalg))))))

(ert-deftest ossl-x509/extensions ()
  "Key usage, extended key usage, CA flags, key ids, self-signedness."
  (let ((root (ossl-x509-info (ossl-x509-tests--cert "root.pem")))
        (leaf (ossl-x509-info (ossl-x509-tests--cert "leaf.pem")))
        (rsa (ossl-x509-info (ossl-x509-tests--cert "rsa.pem"))))
    (should (eq (plist-get root :ca-p) t))
    (should (eql (plist-get root :path-length) 1))
    (should (equal (plist-get root :key-usage) '(key-cert-sign crl-sign)))
    (should (null (plist-get root :extended-key-usage)))
    (should (eq (plist-get root :self-signed-p) t))
    (should (equal (plist-get root :version) 3))
    (should (null (plist-get leaf :ca-p)))
    (should (null (plist-get leaf :path-length)))
    (should (null (plist-get leaf :self-signed-p)))
    (should (equal (plist-get leaf :key-usage)
                   '(digital-signature key-encipherment)))
    (should (equal (plist-get leaf :extended-key-usage)
                   '(server-auth client-auth code-signing 1.2.3.4.5)))
    (should (stringp (plist-get root :subject-key-id)))
    (should (equal (plist-get leaf :authority-key-id)
                   (plist-get root :subject-key-id)))
    (should (equal (plist-get root :subject-key-id)
                   (upcase (string-trim
                            (cadr (split-string
                                   (ossl-x509-tests--openssl
                                    "x509" "-noout" "-in"
                                    (ossl-x509-tests--file "root.pem")
                                    "-ext" "subjectKeyIdentifier")
                                   "\n" t))))))
    ;; A self-signed certificate with no extensions about its use.
    (should (eq (plist-get rsa :self-signed-p) t))
    (should (null (plist-get rsa :key-usage)))
    (should (null (plist-get rsa :subject-alt-names)))))

(ert-deftest ossl-x509/info-shape ()
  "The info plist has every documented key, with values of the right type."
  (let ((info (ossl-x509-info (ossl-x509-tests--cert "leaf.pem"))))
    (should (cl-evenp (length info)))
    (dolist (key '(:version :subject :issuer :subject-rfc2253 :issuer-rfc2253
                   :serial :serial-hex :not-before :not-after :valid-from
                   :valid-to :signature-algorithm :signature-type
                   :public-key-algorithm :public-key-bits :sha256 :sha1
                   :subject-alt-names :ca-p :path-length :key-usage
                   :extended-key-usage :subject-key-id :authority-key-id
                   :self-signed-p))
      (should (plist-member info key)))
    (dolist (key '(:subject :issuer :subject-rfc2253 :issuer-rfc2253
                   :serial-hex :not-before :not-after :signature-algorithm
                   :public-key-algorithm :sha256 :sha1))
      (should (stringp (plist-get info key))))
    (dolist (key '(:serial :valid-from :valid-to :public-key-bits :version))
      (should (integerp (plist-get info key))))
    (should (string-match-p "\\`\\([0-9A-F][0-9A-F]:\\)\\{31\\}[0-9A-F][0-9A-F]\\'"
                            (plist-get info :sha256)))))

(ert-deftest ossl-x509/utf8-names ()
  "Non-ASCII names: escaped in the one-line form, as openssl does."
  (let ((c (ossl-x509-tests--cert "ed448.pem")))
    (should (string-match-p "\\\\xC3\\\\x9C" (ossl-x509-subject c)))
    (should (member "CN=Ünïcödé 名前"
                    (ossl-x509-tests--rdns-oneline (ossl-x509-subject c))))
    (should (string-search "OU = Grüße, CN = Ünïcödé 名前" (ossl-x509-text c)))))

(ert-deftest ossl-x509/text-matches-openssl ()
  "The text dump is what `openssl x509 -text -noout' prints."
  (dolist (file (ossl-x509-tests--all-files))
    (ert-info ((format "%s" file))
      (should (equal (ossl-x509-text (car (ossl-x509-read-file file)))
                     (ossl-x509-tests--openssl "x509" "-noout" "-text"
                                               "-nameopt" "oneline,-esc_msb,utf8"
                                               "-in" file))))))

(ert-deftest ossl-x509/printed-form ()
  "Certificates print as SXEmacs printed them, subject first."
  (should (equal (cl-prin1-to-string (ossl-x509-tests--cert "leaf.pem"))
                 (concat "#<OpenSSL X509 Certificate "
                         "sub:/C=DE/ST=Berlin/O=ossl tests/CN=localhost "
                         "iss:/C=DE/ST=Berlin/O=ossl tests/CN=ossl Test Root; "
                         "EC public key, size 256>")))
  (should (equal (cl-prin1-to-string (ossl-x509-tests--cert "rsa.pem"))
                 (concat "#<OpenSSL X509 Certificate "
                         "sub:/C=US/O=RSA Inc./CN=rsa.test "
                         "iss:/C=US/O=RSA Inc./CN=rsa.test; "
                         "RSA public key, size 2048>")))
  (should (equal (cl-prin1-to-string (list (ossl--x509-wrap 42)))
                 "(#<OpenSSL X509 Certificate invalid>)")))

;;;; Encodings

(ert-deftest ossl-x509/pem-round-trip ()
  "PEM out is openssl's PEM; PEM in gives the same certificate back."
  (dolist (name ossl-x509-tests--cert-files)
    (let* ((file (ossl-x509-tests--file name))
           (c (car (ossl-x509-read-file file)))
           (pem (ossl-x509-to-pem c)))
      (ert-info (name)
        (should (equal pem (ossl-x509-tests--openssl "x509" "-in" file
                                                     "-outform" "PEM")))
        (let ((back (ossl-x509-from-pem pem)))
          (should (= (length back) 1))
          (should (ossl-x509-equal (car back) c))
          (should (equal (ossl-x509-info (car back)) (ossl-x509-info c)))))))
  (let* ((certs (ossl-x509-read-file (ossl-x509-tests--file "bundle.pem")))
         (back (ossl-x509-from-pem (mapconcat #'ossl-x509-to-pem certs ""))))
    (should (= (length back) 2))
    (should (cl-every #'ossl-x509-equal certs back))))

(ert-deftest ossl-x509/der ()
  "DER out is openssl's DER, unibyte; DER in gives the same certificate."
  (dolist (name ossl-x509-tests--cert-files)
    (let* ((file (ossl-x509-tests--file name))
           (c (car (ossl-x509-read-file file)))
           (der (ossl-x509-to-der c)))
      (ert-info (name)
        (should-not (multibyte-string-p der))
        (should (equal der (ossl-x509-tests--run "openssl" "x509" "-in" file
                                                 "-outform" "DER")))
        (should (ossl-x509-equal (ossl-x509-from-der der) c))
        ;; A multibyte string of raw bytes is bytes too.
        (should (ossl-x509-equal
                 (ossl-x509-from-der (string-to-multibyte der)) c))))))

;;;; Bad input

(defmacro ossl-x509-tests--should-error (form symbol &optional regexp)
  "FORM signals SYMBOL, with a message matching REGEXP if given."
  `(let ((err (should-error ,form :type ',symbol)))
     (should (eq (car err) ',symbol))
     ,@(and regexp
            `((should (string-match-p ,regexp (error-message-string err)))))))

(ert-deftest ossl-x509/bad-files ()
  "Files that hold no certificate signal `ossl-certificate-error', naming the file."
  (let ((missing (ossl-x509-tests--file "no-such-file.pem")))
    (ossl-x509-tests--should-error (ossl-x509-read-file missing)
                                   ossl-certificate-error
                                   (concat (regexp-quote missing)
                                           ".*No such file")))
  (dolist (name '("garbage.pem" "bad-asn1.pem" "truncated.pem" "text.txt"
                  "empty.pem"))
    (let ((file (ossl-x509-tests--file name)))
      (ert-info (name)
        (ossl-x509-tests--should-error (ossl-x509-read-file file)
                                       ossl-certificate-error
                                       (regexp-quote file)))))
  (ossl-x509-tests--should-error
   (ossl-x509-read-file (ossl-x509-tests--file "garbage.pem"))
   ossl-certificate-error "base64")
  (ossl-x509-tests--should-error
   (ossl-x509-read-file ossl-x509-tests--dir) ossl-certificate-error
   "directory")
  (should (eq (car (should-error (ossl-x509-read-file 42)
                                 :type 'wrong-type-argument))
              'wrong-type-argument)))

(ert-deftest ossl-x509/bad-data ()
  "Strings that hold no certificate signal `ossl-certificate-error'."
  (dolist (s (list "" "hello" "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n"
                   (with-temp-buffer
                     (insert-file-contents (ossl-x509-tests--file "leaf.key"))
                     (buffer-string))))
    (ert-info ((format "%S" s))
      (ossl-x509-tests--should-error (ossl-x509-from-pem s)
                                     ossl-certificate-error)))
  (let ((der (ossl-x509-to-der (ossl-x509-tests--cert "leaf.pem"))))
    (dolist (s (list "" "hello" (substring der 0 100) (concat der "x")
                     (ossl-x509-to-pem (ossl-x509-tests--cert "leaf.pem"))))
      (ert-info ((format "%S" s))
        (ossl-x509-tests--should-error (ossl-x509-from-der s)
                                       ossl-certificate-error))))
  (ossl-x509-tests--should-error (ossl-x509-from-der "日本") ossl-certificate-error)
  (should-error (ossl-x509-from-pem nil) :type 'wrong-type-argument)
  (should-error (ossl-x509-from-der 'x) :type 'wrong-type-argument))

(defconst ossl-x509-tests--accessors
  '(ossl-x509-subject ossl-x509-issuer ossl-x509-serial ossl-x509-not-before
    ossl-x509-not-after ossl-x509-signature-type ossl-x509-info ossl-x509-text
    ossl-x509-to-pem ossl-x509-to-der)
  "Public functions that take one certificate.")

(ert-deftest ossl-x509/wrong-type ()
  "A non-certificate where a certificate belongs: (wrong-type-argument ossl-x509-p X)."
  (let ((buf (generate-new-buffer " *ossl-x509*"))
        (handle (ossl--x509-obj-handle (ossl-x509-tests--cert "leaf.pem"))))
    (unwind-protect
        (dolist (fn ossl-x509-tests--accessors)
          (dolist (bad (list "string" 42 nil buf handle 'cert (list 1 2)
                             (make-bool-vector 3 nil) 1.5))
            (ert-info ((format "%s %S" fn bad))
              (should (equal (should-error (funcall fn bad)
                                           :type 'wrong-type-argument)
                             (list 'wrong-type-argument 'ossl-x509-p bad))))))
      (kill-buffer buf))
    (should (equal (should-error (ossl-x509-equal 1 (ossl-x509-tests--cert
                                                     "leaf.pem"))
                                 :type 'wrong-type-argument)
                   '(wrong-type-argument ossl-x509-p 1)))))

(ert-deftest ossl-x509/bad-format ()
  "An unknown name format is an error; `oneline' and nil are the default."
  (let ((c (ossl-x509-tests--cert "leaf.pem")))
    (should (equal (ossl-x509-subject c 'oneline) (ossl-x509-subject c)))
    (should (equal (ossl-x509-issuer c nil) (ossl-x509-issuer c)))
    (should-error (ossl-x509-subject c 'ldap) :type 'args-out-of-range)
    (should-error (ossl-x509-issuer c "rfc2253") :type 'args-out-of-range)))

(ert-deftest ossl-x509/primitives-never-crash ()
  "The module primitives check their arguments: no crash on any value."
  (let ((c (ossl-x509-tests--cert "leaf.pem"))
        (ctx (ossl--ctx-new nil)))
    (dolist (fn '(ossl--x509-to-pem ossl--x509-to-der ossl--x509-subject
                  ossl--x509-issuer ossl--x509-serial ossl--x509-not-before
                  ossl--x509-not-after ossl--x509-signature-type
                  ossl--x509-pubkey ossl--x509-text ossl--x509-info))
      (dolist (bad (list nil 0 "x" c ctx (make-symbol "x")))
        (ert-info ((format "%s %S" fn bad))
          (should (equal (should-error (funcall fn bad)
                                       :type 'wrong-type-argument)
                         (list 'wrong-type-argument 'ossl--x509-handle-p
                               bad))))))
    (dolist (fn '(ossl--own-cert ossl--peer-cert ossl--peer-chain))
      (dolist (bad (list nil 0 "x" (ossl--x509-obj-handle c) ctx))
        (ert-info ((format "%s %S" fn bad))
          (should-error (funcall fn bad) :type 'wrong-type-argument))))
    ;; A struct around something else fails cleanly.
    (should-error (ossl-x509-subject (ossl--x509-wrap "junk"))
                  :type 'wrong-type-argument)
    (should (eq (ossl--x509-handle-p (ossl--x509-obj-handle c)) t))
    (should (eq (ossl--x509-handle-p ctx) nil))
    (should (eq (ossl--x509-handle-p c) nil))))

(ert-deftest ossl-x509/garbage-collection ()
  "Many certificates come and go without trouble."
  (let ((file (ossl-x509-tests--file "bundle.pem")))
    (dotimes (_ 200)
      (ossl-x509-info (car (ossl-x509-read-file file))))
    (garbage-collect)
    (should (= 2 (length (ossl-x509-read-file file))))))

;;;; Certificates of TLS connections

(defun ossl-x509-tests--tls-ready ()
  "Non-nil when the connection tests can run."
  (and (fboundp 'ossl-starttls) (fboundp 'ossl-test-file)
       (fboundp 'ossl-test-openssl-server)))

(ert-deftest ossl-x509/connection-wrong-type ()
  "Connection functions want a connection object."
  (skip-unless (fboundp 'ossl-ssl-conn-p))
  (dolist (fn '(ossl-ssl-cert ossl-ssl-peer-cert ossl-ssl-peer-cert-chain))
    (dolist (bad (list nil 42 "conn" (ossl-x509-tests--cert "leaf.pem")))
      (ert-info ((format "%s %S" fn bad))
        (should (equal (should-error (funcall fn bad)
                                     :type 'wrong-type-argument)
                       (list 'wrong-type-argument 'ossl-ssl-conn-p bad)))))))

;; These need ossl.el's handshakes and ossl-test-lib.el's PKI and peers.

(defun ossl-x509-tests--pki (name)
  "The certificates of the shared test PKI's file NAME."
  (ossl-x509-read-file (ossl-test-file name)))

(defun ossl-x509-tests--same-certs (a b)
  "Non-nil when lists of certificates A and B are equal, in order."
  (and (= (length a) (length b)) (cl-every #'ossl-x509-equal a b)))

(defmacro ossl-x509-tests--with-client (spec &rest body)
  "Bind (VAR PEER . KEYS): a TLS client connection to PEER, then BODY.
KEYS go to `ossl-starttls'; the process goes away afterwards."
  (declare (indent 1))
  (let ((proc (make-symbol "proc")))
    `(let ((,proc (open-network-stream "ossl-x509-test" nil "127.0.0.1"
                                        (plist-get ,(nth 1 spec) :port))))
       (unwind-protect
           (let ((,(car spec) (ossl-starttls ,proc :ca (ossl-test-file "root.pem")
                                             :hostname "localhost"
                                             ,@(nthcdr 2 spec))))
             ,@body)
         (delete-process ,proc)))))

(ert-deftest ossl-x509/connection-client-side ()
  "A client sees the server's leaf, its chain in wire order, and no own cert."
  (skip-unless (ossl-x509-tests--tls-ready))
  (let (kept)
    (ossl-test-with-peer (peer (ossl-test-openssl-server))
      (ossl-x509-tests--with-client (c peer)
        (let ((leaf (ossl-ssl-peer-cert c))
              (chain (ossl-ssl-peer-cert-chain c)))
          (should (ossl-x509-p leaf))
          (should (ossl-x509-equal leaf (car (ossl-x509-tests--pki "server.pem"))))
          ;; s_server sends server.pem then int.pem: leaf first.
          (should (ossl-x509-tests--same-certs
                   chain (ossl-x509-tests--pki "server-chain.pem")))
          (should (null (ossl-ssl-cert c)))
          (should (equal (ossl-x509-subject leaf) "/CN=localhost"))
          (should (equal (ossl-x509-issuer leaf)
                         (ossl-x509-subject (nth 1 chain))))
          (should (string-prefix-p "#<OpenSSL X509 Certificate sub:/CN=localhost iss:"
                                   (cl-prin1-to-string leaf)))
          (setq kept leaf))))
    ;; A certificate outlives its connection.
    (garbage-collect)
    (should (equal (plist-get (ossl-x509-info kept) :subject-alt-names)
                   '((dns . "localhost") (ip . "127.0.0.1") (ip . "::1"))))))

(ert-deftest ossl-x509/connection-own-cert ()
  "A client that presents a certificate gets it back from `ossl-ssl-cert'."
  (skip-unless (ossl-x509-tests--tls-ready))
  (ossl-test-with-peer (peer (ossl-test-openssl-server
                              :cert (ossl-test-file "server-rsa.pem")
                              :key (ossl-test-file "server-rsa.key")
                              :extra-args
                              (list "-Verify" "2" "-CAfile"
                                    (ossl-test-file "root.pem"))))
    (ossl-x509-tests--with-client (c peer
                                     :cert (ossl-test-file "client-chain.pem")
                                     :key (ossl-test-file "client.key"))
      (should (ossl-x509-equal (ossl-ssl-cert c)
                               (car (ossl-x509-tests--pki "client.pem"))))
      (should (eq (ossl-x509-signature-type (ossl-ssl-peer-cert c)) 'ec))
      (should (equal (cdr (ossl--x509-pubkey
                           (ossl--x509-obj-handle (ossl-ssl-peer-cert c))))
                     2048))
      (should (string-suffix-p "; RSA public key, size 2048>"
                               (cl-prin1-to-string (ossl-ssl-peer-cert c)))))))

(ert-deftest ossl-x509/connection-server-side ()
  "A server sees its own leaf, and the client's chain with the leaf first."
  (skip-unless (ossl-x509-tests--tls-ready))
  (let* ((server-conn nil)
         (listener
          (make-network-process
           :name "ossl-x509-listener" :server t :host "127.0.0.1"
           :service t :noquery t
           :log (lambda (_server client _msg)
                  (setq server-conn
                        (ossl-starttls client :server t :callback #'ignore
                                       :cert (ossl-test-file "server-chain.pem")
                                       :key (ossl-test-file "server.key")
                                       :ca (ossl-test-file "root.pem")
                                       :verify-client 'require))))))
    (unwind-protect
        (ossl-x509-tests--with-client
            (c (list :port (process-contact listener :service))
               :cert (ossl-test-file "client-chain.pem")
               :key (ossl-test-file "client.key"))
          (ossl-test-wait-for
           (lambda () (and server-conn
                           (eq (ossl--state (ossl--conn-handle server-conn))
                               'open))))
          ;; The server's view.
          (should (ossl-x509-equal (ossl-ssl-cert server-conn)
                                   (car (ossl-x509-tests--pki "server.pem"))))
          (should (ossl-x509-equal (ossl-ssl-peer-cert server-conn)
                                   (car (ossl-x509-tests--pki "client.pem"))))
          (should (ossl-x509-tests--same-certs
                   (ossl-ssl-peer-cert-chain server-conn)
                   (ossl-x509-tests--pki "client-chain.pem")))
          ;; The client's view.
          (should (ossl-x509-equal (ossl-ssl-cert c)
                                   (car (ossl-x509-tests--pki "client.pem"))))
          (should (ossl-x509-tests--same-certs
                   (ossl-ssl-peer-cert-chain c)
                   (ossl-x509-tests--pki "server-chain.pem")))
          (should (equal (plist-get (ossl-x509-info (ossl-ssl-cert c))
                                    :extended-key-usage)
                         '(client-auth))))
      (delete-process listener)
      (when server-conn
        (delete-process (ossl--conn-process server-conn))))))

(ert-deftest ossl-x509/connection-sxemacs-example ()
  "The SXEmacs example: the peer certificate's fields, after `ossl-ssl-handshake'."
  (skip-unless (ossl-x509-tests--tls-ready))
  (ossl-test-with-peer (peer (ossl-test-openssl-server
                              :cert (ossl-test-file "serial20.pem")
                              :key (ossl-test-file "serial20.key")))
    (let ((p (open-network-stream "ossl-x509-sx" nil "localhost"
                                  (plist-get peer :port))))
      (unwind-protect
          (let* ((s (ossl-ssl-handshake p 'tls1 (ossl-test-file "root.pem")))
                 (c (ossl-ssl-peer-cert s)))
            (should (equal (ossl-x509-subject c) "/CN=localhost"))
            (should (equal (ossl-x509-issuer c)
                           "/C=DE/O=ossl tests/CN=ossl Test Intermediate CA"))
            (should (= (ossl-x509-serial c)
                       (string-to-number ossl-test-serial20 16)))
            (should (string-match-p "\\`[0-9]\\{12\\}Z\\'" (ossl-x509-not-before c)))
            (should (string-match-p "\\`[0-9]\\{12\\}Z\\'" (ossl-x509-not-after c)))
            (should (eq (ossl-x509-signature-type c) 'ec))
            (ossl-ssl-finish s)
            ;; A finished layer has no certificates to give.
            (should-error (ossl-ssl-peer-cert s) :type 'ossl-closed-error)
            (should-error (ossl-ssl-cert s) :type 'ossl-closed-error)
            (should-error (ossl-ssl-peer-cert-chain s) :type 'ossl-closed-error)
            ;; What was taken before stays usable.
            (should (equal (ossl-x509-subject c) "/CN=localhost")))
        (delete-process p)))))

(provide 'ossl-x509-tests)

;;; ossl-x509-tests.el ends here
