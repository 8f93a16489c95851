;;; ossl-pkey-tests.el --- tests of keys, signatures, envelopes, PEM  -*- lexical-binding: t; -*-

;;; Commentary:

;; Issue 16, items 6-9: key objects, signatures, key agreement,
;; envelopes, PEM and DER.  Everything ossl makes is checked by the
;; openssl command (pkeyutl, pkey, dgst, enc), and everything openssl
;; makes is checked by ossl; Ed25519 and X25519 against the RFC 8032
;; and RFC 7748 vectors.  Then bad input: wrong types, unknown
;; algorithms, private-key operations on public keys, malformed
;; signatures, tampered envelopes, and no secret in any error.

;;; Code:

(require 'ert)
(require 'cl-lib)
(require 'subr-x)
(require 'ossl)
(require 'ossl-test-lib)

(declare-function ossl-rel--sanitizer "ossl-reliability-tests" ())
(declare-function ossl-rel--build-freecheck "ossl-reliability-tests" ())

;;;; Helpers

(defvar ossl-pkey-tests--dir nil "Scratch directory of the current test.")

(defmacro ossl-pkey-tests--with-dir (&rest body)
  "Run BODY with `ossl-pkey-tests--dir' a fresh directory, deleted after."
  (declare (indent 0) (debug t))
  `(let ((ossl-pkey-tests--dir (file-name-as-directory
                                (make-temp-file "ossl-pkey-test-" t))))
     (unwind-protect (progn ,@body)
       (delete-directory ossl-pkey-tests--dir t))))

(defun ossl-pkey-tests--file (name)
  "NAME in the scratch directory."
  (expand-file-name name ossl-pkey-tests--dir))

(defun ossl-pkey-tests--openssl (&rest args)
  "Run openssl with ARGS in the scratch directory; its output, a string."
  (apply #'ossl-test--run-openssl ossl-pkey-tests--dir args))

(defun ossl-pkey-tests--write (name bytes)
  "Write BYTES (a unibyte string) to the scratch file NAME; return its name."
  (let ((coding-system-for-write 'binary)
        (file (ossl-pkey-tests--file name)))
    (write-region bytes nil file nil 'silent)
    file))

(defun ossl-pkey-tests--read (name)
  "The bytes of the scratch file NAME, a unibyte string."
  (with-temp-buffer
    (set-buffer-multibyte nil)
    (insert-file-contents-literally (ossl-pkey-tests--file name))
    (buffer-string)))

(defun ossl-pkey-tests--hex (hex)
  "The bytes HEX stands for."
  (apply #'unibyte-string
         (cl-loop for i from 0 below (length hex) by 2
                  collect (string-to-number (substring hex i (+ i 2)) 16))))

(defun ossl-pkey-tests--to-hex (bytes)
  "BYTES in lower-case hex."
  (mapconcat (lambda (b) (format "%02x" b)) bytes ""))

(defun ossl-pkey-tests--verifies-p (&rest args)
  "Non-nil if `openssl ARGS' exits 0 (and so prints \"Verified OK\")."
  (condition-case nil
      (progn (apply #'ossl-pkey-tests--openssl args) t)
    (error nil)))

(defun ossl-pkey-tests--print (key)
  "KEY as `cl-prin1' prints it."
  (cl-prin1-to-string key))

(defmacro ossl-pkey-tests--error-data (form)
  "The data of the `ossl-crypto-error' FORM signals, as one string."
  `(let ((err (should-error ,form :type 'ossl-crypto-error)))
     (format "%S" (cdr err))))

(defconst ossl-pkey-tests--message "I owe you a beer\n\344\275\240"
  "A message with a non-ASCII byte or two, to sign and seal.")

;;;; Key objects

(ert-deftest ossl-pkey/objects ()
  "Keys print as SXEmacs printed them, never with secrets; predicates and sizes."
  (let* ((rsa (ossl-rsa-generate-key 2048))
         (rsapub (ossl-pkey-get-public rsa))
         (ec (ossl-ec-generate-key))
         (ecpub (ossl-pkey-get-public ec))
         (ed (ossl-ed25519-generate-key))
         (x (ossl-x25519-generate-key))
         (dsa (ossl-dsa-generate-key 2048)))
    (should (equal (ossl-pkey-tests--print rsa)
                   "#<OpenSSL RSA private/public key, size 2048>"))
    (should (equal (ossl-pkey-tests--print rsapub)
                   "#<OpenSSL RSA public key, size 2048>"))
    (should (equal (ossl-pkey-tests--print ecpub)
                   "#<OpenSSL EC public key, size 256>"))
    (should (equal (ossl-pkey-tests--print ed)
                   "#<OpenSSL ED25519 private/public key, size 256>"))
    (should (equal (ossl-pkey-tests--print x)
                   "#<OpenSSL X25519 private/public key, size 253>"))
    ;; prin1 shows the record, with the same words and no key bytes.
    (should (string-match-p "\\`#s(ossl-pkey \"OpenSSL EC public key, size 256\" #<user-ptr"
                            (prin1-to-string ecpub)))
    (should (equal (mapcar #'ossl-pkey-type (list rsa ec ed x dsa))
                   '(rsa ec ed25519 x25519 dsa)))
    (should (equal (mapcar #'ossl-pkey-size (list rsa ec dsa)) '(2048 256 2048)))
    (should (equal (ossl-pkey-size (ossl-ec-generate-key 'secp384r1)) 384))
    (should (equal (ossl-pkey-size (ossl-ec-generate-key "P-521")) 521))
    (should (equal (mapcar #'ossl-pkey-private-p (list rsa rsapub ec ecpub ed x dsa 'x nil))
                   '(t nil t nil t t t nil nil)))
    (should (equal (mapcar #'ossl-pkey-p (list rsa ecpub "key" nil)) '(t t nil nil)))
    (should (equal (mapcar #'ossl-rsa-pkey-p (list rsa rsapub ec 3)) '(t t nil nil)))
    (should (equal (mapcar #'ossl-ec-pkey-p (list ec ecpub ed rsa)) '(t t nil nil)))
    (should (equal (mapcar #'ossl-dsa-pkey-p (list dsa rsa)) '(t nil)))
    (should (equal (mapcar #'ossl-dh-pkey-p (list dsa rsa ec)) '(nil nil nil)))
    (should (ossl-rsa-subkey-p rsapub rsa))
    (should (ossl-rsa-subkey-p rsa rsa))
    (should-not (ossl-rsa-subkey-p rsa rsapub))
    (should-not (ossl-rsa-subkey-p rsapub (ossl-rsa-generate-key 1024)))
    (should (ossl-dsa-subkey-p (ossl-pkey-get-public dsa) dsa))
    (should (ossl-pkey-subkey-p ecpub ec))
    (should-not (ossl-pkey-subkey-p ecpub ed))
    (should-error (ossl-rsa-subkey-p ecpub ec) :type 'wrong-type-argument)
    (should (equal (ossl-pkey-type (ossl-rsa-generate-key 1024 3)) 'rsa))
    (should (memq 'prime256v1 (ossl-available-curves)))
    (should (memq 'secp384r1 (ossl-ec-available-curves)))))

(ert-deftest ossl-pkey/dh-keys ()
  "DH keys read from openssl are recognised and agree on secrets."
  (ossl-pkey-tests--with-dir
    (ossl-pkey-tests--openssl "genpkey" "-genparam" "-algorithm" "DH"
                              "-pkeyopt" "group:ffdhe2048" "-out" "p.pem")
    (ossl-pkey-tests--openssl "genpkey" "-paramfile" "p.pem" "-out" "a.pem")
    (ossl-pkey-tests--openssl "genpkey" "-paramfile" "p.pem" "-out" "b.pem")
    (let ((a (ossl-pem-read-key (ossl-pkey-tests--file "a.pem")))
          (b (ossl-pem-read-key (ossl-pkey-tests--file "b.pem"))))
      (should (ossl-dh-pkey-p a))
      (should (ossl-pkey-private-p a))
      (should (equal (ossl-derive a (ossl-pkey-get-public b)) (ossl-derive b a))))))

;;;; Signatures, both ways with openssl dgst and pkeyutl

(defun ossl-pkey-tests--dgst-both-ways (key digest &rest sigopts)
  "Check KEY's signatures under DIGEST with openssl dgst, both ways.
SIGOPTS are openssl -sigopt values; they mean PSS padding."
  (let* ((pss (and sigopts 'pss))
         (msg ossl-pkey-tests--message)
         (opts (apply #'append (mapcar (lambda (o) (list "-sigopt" o)) sigopts)))
         (dgst (concat "-" (symbol-name digest))))
    (ossl-pem-write-key (ossl-pkey-tests--file "key.pem") key)
    (ossl-pem-write-public-key (ossl-pkey-tests--file "pub.pem") key)
    (ossl-pkey-tests--write "msg" (encode-coding-string msg 'utf-8))
    ;; ossl signs, openssl verifies.
    (ossl-pkey-tests--write "sig" (ossl-sign digest msg key :padding pss))
    (should (apply #'ossl-pkey-tests--verifies-p "dgst" dgst "-verify" "pub.pem"
                   "-signature" "sig" (append opts '("msg"))))
    ;; A tampered message fails with openssl too (the check can fail).
    (ossl-pkey-tests--write "msg2" "I owe you 10 beers")
    (should-not (apply #'ossl-pkey-tests--verifies-p "dgst" dgst "-verify" "pub.pem"
                       "-signature" "sig" (append opts '("msg2"))))
    ;; openssl signs, ossl verifies with the public half.
    (apply #'ossl-pkey-tests--openssl "dgst" dgst "-sign" "key.pem" "-out" "sig2"
           (append opts '("msg")))
    (let ((sig (ossl-pkey-tests--read "sig2"))
          (pub (ossl-pem-read-public-key (ossl-pkey-tests--file "pub.pem"))))
      (should (eq (ossl-verify digest msg sig pub :padding pss) t))
      (should-not (ossl-verify digest "I owe you 10 beers" sig pub :padding pss))
      sig)))

(ert-deftest ossl-pkey/rsa-pkcs1-interop ()
  "RSA PKCS#1 v1.5 signatures, both ways with openssl dgst; deterministic."
  (ossl-pkey-tests--with-dir
    (let* ((key (ossl-rsa-generate-key 2048))
           (sig (ossl-pkey-tests--dgst-both-ways key 'sha256)))
      ;; PKCS#1 v1.5 is deterministic: openssl's signature is ossl's.
      (should (equal sig (ossl-sign 'sha256 ossl-pkey-tests--message key)))
      (should (equal (length sig) 256))
      ;; And a key openssl generated signs for openssl.
      (ossl-pkey-tests--openssl "genpkey" "-algorithm" "RSA" "-pkeyopt"
                                "rsa_keygen_bits:2048" "-out" "gen.pem")
      (ossl-pkey-tests--openssl "pkey" "-in" "gen.pem" "-pubout" "-out" "genpub.pem")
      (let ((k (ossl-pem-read-key (ossl-pkey-tests--file "gen.pem"))))
        (ossl-pkey-tests--write "s" (ossl-sign 'sha512 "data" k))
        (ossl-pkey-tests--write "d" "data")
        (should (ossl-pkey-tests--verifies-p "dgst" "-sha512" "-verify" "genpub.pem"
                                             "-signature" "s" "d"))))))

(ert-deftest ossl-pkey/rsa-pss-interop ()
  "RSA-PSS signatures, both ways with openssl dgst -sigopt rsa_padding_mode:pss."
  (ossl-pkey-tests--with-dir
    (let ((key (ossl-rsa-generate-key 2048)))
      ;; openssl signing with the digest's length as salt, as ossl does.
      (ossl-pkey-tests--dgst-both-ways key 'sha256 "rsa_padding_mode:pss"
                                       "rsa_pss_saltlen:digest")
      ;; openssl signing with the longest salt (auto): ossl accepts any length.
      (ossl-pkey-tests--dgst-both-ways key 'sha384 "rsa_padding_mode:pss"
                                       "rsa_pss_saltlen:auto")
      ;; PSS is randomised, and a PSS signature is no PKCS#1 one.
      (let ((a (ossl-sign 'sha256 "m" key :padding 'pss))
            (b (ossl-sign 'sha256 "m" key :padding 'pss)))
        (should-not (equal a b))
        (should (ossl-verify 'sha256 "m" a key :padding 'pss))
        (should-not (ossl-verify 'sha256 "m" a key))))))

(ert-deftest ossl-pkey/ecdsa-interop ()
  "ECDSA signatures are DER, as openssl dgst writes them, both ways."
  (ossl-pkey-tests--with-dir
    (dolist (curve '(prime256v1 secp384r1))
      (let* ((key (ossl-ec-generate-key curve))
             (sig (ossl-pkey-tests--dgst-both-ways key 'sha256)))
        ;; A DER SEQUENCE of two INTEGERs.
        (should (eq (aref sig 0) #x30))
        (should (eq (aref sig 1) (- (length sig) 2)))))
    ;; DSA too.
    (ossl-pkey-tests--dgst-both-ways (ossl-dsa-generate-key 2048) 'sha256)))

(ert-deftest ossl-pkey/ed25519-interop ()
  "Ed25519 signatures, both ways with openssl pkeyutl -rawin."
  (ossl-pkey-tests--with-dir
    (let ((key (ossl-ed25519-generate-key))
          (msg "sign me"))
      (ossl-pem-write-key (ossl-pkey-tests--file "key.pem") key)
      (ossl-pem-write-public-key (ossl-pkey-tests--file "pub.pem") key)
      (ossl-pkey-tests--write "msg" msg)
      (ossl-pkey-tests--write "sig" (ossl-sign nil msg key))
      (should (ossl-pkey-tests--verifies-p "pkeyutl" "-verify" "-rawin" "-pubin"
                                           "-inkey" "pub.pem" "-in" "msg"
                                           "-sigfile" "sig"))
      (ossl-pkey-tests--write "msg2" "sign you")
      (should-not (ossl-pkey-tests--verifies-p "pkeyutl" "-verify" "-rawin" "-pubin"
                                               "-inkey" "pub.pem" "-in" "msg2"
                                               "-sigfile" "sig"))
      (ossl-pkey-tests--openssl "pkeyutl" "-sign" "-rawin" "-inkey" "key.pem"
                                "-in" "msg" "-out" "sig2")
      (let ((sig (ossl-pkey-tests--read "sig2")))
        ;; Ed25519 is deterministic.
        (should (equal sig (ossl-sign nil msg key)))
        (should (ossl-verify nil msg sig (ossl-pem-read-public-key
                                          (ossl-pkey-tests--file "pub.pem"))))))))

(defconst ossl-pkey-tests--rfc8032
  '(("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
     ""
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
    ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"
     "72"
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00")
    ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7"
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025"
     "af82"
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"))
  "RFC 8032 section 7.1, tests 1-3: (SECRET PUBLIC MESSAGE SIGNATURE) in hex.")

(ert-deftest ossl-pkey/ed25519-rfc8032 ()
  "Ed25519 keys, signatures and verification match RFC 8032's vectors."
  (pcase-dolist (`(,secret ,public ,msg ,sig) ossl-pkey-tests--rfc8032)
    (let* ((key (ossl-pkey-from-der
                 (ossl-pkey-tests--hex
                  (concat "302e020100300506032b657004220420" secret))))
           (pub (ossl-pkey-get-public key)))
      (should (equal (ossl-pkey-tests--to-hex (ossl-pkey-to-der pub))
                     (concat "302a300506032b6570032100" public)))
      (should (equal (ossl-pkey-tests--to-hex
                      (ossl-sign nil (ossl-pkey-tests--hex msg) key))
                     sig))
      (should (ossl-verify nil (ossl-pkey-tests--hex msg) (ossl-pkey-tests--hex sig) pub))
      ;; One bit flipped in the signature: no.
      (let ((bad (ossl-pkey-tests--hex sig)))
        (aset bad 10 (logxor (aref bad 10) 1))
        (should-not (ossl-verify nil (ossl-pkey-tests--hex msg) bad pub))))))

;;;; Key agreement

(ert-deftest ossl-pkey/x25519-rfc7748 ()
  "X25519 agrees on RFC 7748's shared secret (section 6.1)."
  (let* ((der (lambda (hex)
                (ossl-pkey-from-der
                 (ossl-pkey-tests--hex (concat "302e020100300506032b656e04220420" hex)))))
         (alice (funcall der "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"))
         (bob (funcall der "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"))
         (k "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"))
    (should (equal (ossl-pkey-tests--to-hex (ossl-derive alice (ossl-pkey-get-public bob))) k))
    (should (equal (ossl-pkey-tests--to-hex (ossl-derive bob (ossl-pkey-get-public alice))) k))))

(ert-deftest ossl-pkey/derive-interop ()
  "X25519 and ECDH secrets equal what openssl pkeyutl -derive computes."
  (ossl-pkey-tests--with-dir
    (dolist (make (list #'ossl-x25519-generate-key
                        (lambda () (ossl-ec-generate-key 'prime256v1))))
      (let ((ours (funcall make)))
        (ossl-pem-write-key (ossl-pkey-tests--file "ours.pem") ours)
        (ossl-pem-write-public-key (ossl-pkey-tests--file "ourpub.pem") ours)
        (if (ossl-ec-pkey-p ours)
            (ossl-pkey-tests--openssl "genpkey" "-algorithm" "EC" "-pkeyopt"
                                      "ec_paramgen_curve:P-256" "-out" "theirs.pem")
          (ossl-pkey-tests--openssl "genpkey" "-algorithm" "X25519" "-out" "theirs.pem"))
        (ossl-pkey-tests--openssl "pkey" "-in" "theirs.pem" "-pubout" "-out" "theirpub.pem")
        (ossl-pkey-tests--openssl "pkeyutl" "-derive" "-inkey" "theirs.pem"
                                  "-peerkey" "ourpub.pem" "-out" "s1")
        (ossl-pkey-tests--openssl "pkeyutl" "-derive" "-inkey" "ours.pem"
                                  "-peerkey" "theirpub.pem" "-out" "s2")
        (let ((secret (ossl-derive ours (ossl-pem-read-public-key
                                         (ossl-pkey-tests--file "theirpub.pem")))))
          (should (= (length secret) 32))
          (should (equal secret (ossl-pkey-tests--read "s1")))
          (should (equal secret (ossl-pkey-tests--read "s2"))))))))

;;;; Envelopes

(ert-deftest ossl-pkey/envelope-interop ()
  "Envelopes open with openssl pkeyutl -decrypt and enc -d, and the reverse."
  (ossl-pkey-tests--with-dir
    (let* ((a (ossl-rsa-generate-key 2048))
           (b (ossl-rsa-generate-key 3072))
           (msg ossl-pkey-tests--message)
           (env (ossl-seal 'aes-256-cbc msg (list (ossl-pkey-get-public a) b))))
      (should (= (length (nth 1 env)) 2))
      (should (= (length (nth 2 env)) 16))
      ;; Each recipient opens it, in Emacs...
      (should (equal (ossl-open 'aes-256-cbc (nth 0 env) a (nth 0 (nth 1 env)) (nth 2 env))
                     (encode-coding-string msg 'utf-8)))
      (should (equal (ossl-open "AES-256-CBC" (nth 0 env) b (nth 1 (nth 1 env)) (nth 2 env))
                     (encode-coding-string msg 'utf-8)))
      ;; ... and with the openssl command.
      (ossl-pem-write-key (ossl-pkey-tests--file "b.pem") b)
      (ossl-pkey-tests--write "ek" (nth 1 (nth 1 env)))
      (ossl-pkey-tests--write "ct" (nth 0 env))
      (ossl-pkey-tests--openssl "pkeyutl" "-decrypt" "-inkey" "b.pem" "-in" "ek"
                                "-out" "key")
      (ossl-pkey-tests--openssl "enc" "-d" "-aes-256-cbc"
                                "-K" (ossl-pkey-tests--to-hex (ossl-pkey-tests--read "key"))
                                "-iv" (ossl-pkey-tests--to-hex (nth 2 env))
                                "-in" "ct" "-out" "pt")
      (should (equal (ossl-pkey-tests--read "pt") (encode-coding-string msg 'utf-8)))
      ;; openssl seals by hand, ossl opens.
      (ossl-pem-write-public-key (ossl-pkey-tests--file "apub.pem") a)
      (ossl-pkey-tests--openssl "rand" "-out" "k2" "32")
      (ossl-pkey-tests--openssl "pkeyutl" "-encrypt" "-pubin" "-inkey" "apub.pem"
                                "-in" "k2" "-out" "ek2")
      (ossl-pkey-tests--write "pt2" "from the openssl command")
      (ossl-pkey-tests--openssl "enc" "-aes-256-cbc"
                                "-K" (ossl-pkey-tests--to-hex (ossl-pkey-tests--read "k2"))
                                "-iv" "000102030405060708090a0b0c0d0e0f"
                                "-in" "pt2" "-out" "ct2")
      (should (equal (ossl-open 'aes-256-cbc (ossl-pkey-tests--read "ct2") a
                                (ossl-pkey-tests--read "ek2")
                                (ossl-pkey-tests--hex "000102030405060708090a0b0c0d0e0f"))
                     "from the openssl command")))))

(ert-deftest ossl-pkey/envelope-aead-tamper ()
  "AEAD envelopes carry their tag: any tampering is an error, never plaintext."
  (let* ((key (ossl-rsa-generate-key 2048))
         (env (ossl-seal 'aes-256-gcm "attack at dawn" key))
         (ct (nth 0 env)) (ek (nth 1 env)) (iv (nth 2 env)))
    (should (= (length iv) 12))
    (should (= (length ct) (+ 14 16)))
    (should (equal (ossl-open 'aes-256-gcm ct key ek iv) "attack at dawn"))
    (dotimes (i (length ct))
      (let ((bad (copy-sequence ct)))
        (aset bad i (logxor (aref bad i) #x80))
        (should-error (ossl-open 'aes-256-gcm bad key ek iv) :type 'ossl-crypto-error)))
    (let ((bad (copy-sequence iv)))
      (aset bad 0 (logxor (aref bad 0) 1))
      (should-error (ossl-open 'aes-256-gcm ct key ek bad) :type 'ossl-crypto-error))
    (let ((bad (copy-sequence ek)))
      (aset bad 5 (logxor (aref bad 5) 1))
      (should-error (ossl-open 'aes-256-gcm ct key bad iv) :type 'ossl-crypto-error))
    ;; Another recipient's key cannot open it.
    (should-error (ossl-open 'aes-256-gcm ct (ossl-rsa-generate-key 2048) ek iv)
                  :type 'ossl-crypto-error)
    (should (equal (ossl-open 'chacha20-poly1305
                              (car (setq env (ossl-seal 'chacha20-poly1305 "x" key)))
                              key (nth 1 env) (nth 2 env))
                   "x"))))

;;;; PEM and DER

(ert-deftest ossl-pkey/pem-interop ()
  "Keys written by ossl are read by openssl pkey, and the reverse."
  (ossl-pkey-tests--with-dir
    (let* ((key (ossl-ec-generate-key))
           (f (ossl-pkey-tests--file "enc.pem")))
      ;; Encrypted PKCS#8, with a password function.
      (should (equal (ossl-pem-write-key f key 'aes-128-cbc (lambda () "pw 1")) f))
      (should (string-prefix-p "-----BEGIN ENCRYPTED PRIVATE KEY-----"
                               (ossl-pkey-tests--read "enc.pem")))
      (ossl-pkey-tests--openssl "pkey" "-in" "enc.pem" "-passin" "pass:pw 1"
                                "-pubout" "-out" "pub.pem")
      (should (equal (ossl-pkey-tests--read "pub.pem")
                     (ossl-pem-public-key key)))
      (should (ossl-pkey-subkey-p (ossl-pem-read-public-key (ossl-pkey-tests--file "pub.pem"))
                                  (ossl-pem-read-key f "pw 1")))
      ;; A public key is written as one, whatever else is asked (as SXEmacs).
      (ossl-pem-write-key f (ossl-pkey-get-public key) 'aes-256-cbc "pw")
      (should (string-prefix-p "-----BEGIN PUBLIC KEY-----"
                               (ossl-pkey-tests--read "enc.pem")))
      ;; A password given alone encrypts with AES-256-CBC.
      (ossl-pem-write-key f key nil "pw 2")
      (ossl-pkey-tests--openssl "pkey" "-in" "enc.pem" "-passin" "pass:pw 2"
                                "-noout")
      ;; Keys openssl wrote, in every format, with and without passwords.
      (ossl-pkey-tests--openssl "genpkey" "-algorithm" "RSA" "-pkeyopt"
                                "rsa_keygen_bits:1024" "-out" "rsa.pem")
      (ossl-pkey-tests--openssl "pkey" "-in" "rsa.pem" "-traditional" "-out" "trad.pem")
      (ossl-pkey-tests--openssl "pkcs8" "-topk8" "-nocrypt" "-in" "rsa.pem"
                                "-outform" "DER" "-out" "rsa.der")
      (ossl-pkey-tests--openssl "pkey" "-in" "rsa.pem" "-aes256" "-passout" "pass:s3"
                                "-out" "rsaenc.pem")
      (ossl-pkey-tests--openssl "pkey" "-in" "rsa.pem" "-pubout" "-outform" "DER"
                                "-out" "rsapub.der")
      (let ((k (ossl-pem-read-key (ossl-pkey-tests--file "rsa.pem"))))
        (should (ossl-pkey-private-p k))
        (dolist (f '("trad.pem" "rsa.der"))
          (should (ossl-pkey-subkey-p k (ossl-pem-read-key (ossl-pkey-tests--file f)))))
        (should (equal (ossl-pkey-to-der k) (ossl-pkey-tests--read "rsa.der")))
        (should (equal (ossl-pkey-to-pem k) (ossl-pkey-tests--read "rsa.pem")))
        (should (ossl-pkey-subkey-p (ossl-pem-read-key (ossl-pkey-tests--file "rsapub.der")) k))
        (should-not (ossl-pkey-private-p
                     (ossl-pem-read-key (ossl-pkey-tests--file "rsapub.der"))))
        (should (ossl-pkey-subkey-p (ossl-pkey-from-der (ossl-pkey-to-der k "aes-256-cbc" "x") "x")
                                    k))
        ;; The password function is called only for an encrypted key.
        (let ((calls 0))
          (ossl-pem-read-key (ossl-pkey-tests--file "rsa.pem")
                             (lambda () (cl-incf calls) "s3"))
          (should (= calls 0))
          (should (ossl-pkey-subkey-p
                   k (ossl-pem-read-key (ossl-pkey-tests--file "rsaenc.pem")
                                        (lambda () (cl-incf calls) "s3"))))
          (should (>= calls 1)))
        ;; The public half of a private key file, and of a certificate.
        (should-not (ossl-pkey-private-p
                     (ossl-pem-read-public-key (ossl-pkey-tests--file "rsa.pem"))))
        (let ((server (ossl-pem-read-public-key (ossl-test-file "server.pem"))))
          (should (ossl-pkey-subkey-p server (ossl-pem-read-key (ossl-test-file "server.key"))))
          (should (ossl-pkey-subkey-p
                   server (ossl-pem-read-key (ossl-test-file "encrypted.key")
                                             ossl-test-key-password))))))))

(ert-deftest ossl-pkey/private-file-mode ()
  "Private keys are written with mode 0600 from the start; public ones by umask."
  (ossl-pkey-tests--with-dir
    (let ((f (ossl-pkey-tests--file "k.pem"))
          (key (ossl-ed25519-generate-key)))
      ;; An existing world-readable file is replaced, not reused.
      (with-temp-file f (insert "old"))
      (set-file-modes f #o644)
      (ossl-pem-write-key f key)
      (should (= (file-modes f) #o600))
      (should (ossl-pkey-subkey-p key (ossl-pem-read-key f)))
      ;; No temporary file is left behind.
      (should (equal (directory-files ossl-pkey-tests--dir nil "\\`[^.]") '("k.pem")))
      (with-file-modes #o644
        (ossl-pem-write-public-key (ossl-pkey-tests--file "p.pem") key))
      (should (= (file-modes (ossl-pkey-tests--file "p.pem")) #o644))
      ;; An unwritable place is an error naming the file.
      (should (string-match-p "nope/k.pem"
                              (ossl-pkey-tests--error-data
                               (ossl-pem-write-key (ossl-pkey-tests--file "nope/k.pem")
                                                   key)))))))

;;;; Certificates

(ert-deftest ossl-pkey/x509 ()
  "Certificates give their keys, and signatures are checked with keys."
  (let ((server (car (ossl-x509-read-file (ossl-test-file "server.pem"))))
        (int (car (ossl-x509-read-file (ossl-test-file "int.pem"))))
        (root (car (ossl-x509-read-file (ossl-test-file "root.pem"))))
        (unknown (car (ossl-x509-read-file (ossl-test-file "unknown-root.pem")))))
    (should (ossl-pkey-subkey-p (ossl-x509-get-pubkey server)
                                (ossl-pem-read-key (ossl-test-file "server.key"))))
    (should-not (ossl-pkey-private-p (ossl-x509-get-pubkey server)))
    (should (eq (ossl-x509-verify-signature server int) t))
    (should (eq (ossl-x509-verify-signature int root) t))
    (should (eq (ossl-x509-verify-signature root root) t))
    (should (eq (ossl-x509-verify-signature int (ossl-x509-get-pubkey root)) t))
    (should-not (ossl-x509-verify-signature server root))
    (should-not (ossl-x509-verify-signature int unknown))
    (should-not (ossl-x509-verify-signature int (ossl-ed25519-generate-key)))
    (should-error (ossl-x509-verify-signature "cert" root) :type 'wrong-type-argument)
    (should-error (ossl-x509-verify-signature int "root") :type 'wrong-type-argument)
    (should-error (ossl-x509-get-pubkey nil) :type 'wrong-type-argument)))

;;;; The SXEmacs manual's examples, as written

(ert-deftest ossl-pkey/sxemacs-examples ()
  "The examples of the SXEmacs manual's PKEY section work as written."
  (ossl-pkey-tests--with-dir
    (let (rsaexmpl rsapub dsaexmpl dsapub ecexmpl ecpub str key iv sig)
      (setq rsaexmpl (ossl-rsa-generate-key 2048 3))
      (should (ossl-rsa-pkey-p rsaexmpl))
      (should (ossl-pkey-private-p rsaexmpl))
      (setq rsapub (ossl-pkey-get-public rsaexmpl))
      (should-not (ossl-pkey-private-p rsapub))
      (should (ossl-rsa-subkey-p rsapub rsaexmpl))
      (setq dsaexmpl (ossl-dsa-generate-key 1024))
      (should (equal (ossl-pkey-tests--print dsaexmpl)
                     "#<OpenSSL DSA private/public key, size 1024>"))
      (setq dsapub (ossl-pkey-get-public dsaexmpl))
      (should (ossl-dsa-subkey-p dsapub dsaexmpl))
      (setq ecexmpl (ossl-ec-generate-key 'secp224r1))
      (should (ossl-ec-pkey-p ecexmpl))
      (setq ecpub (ossl-pkey-get-public ecexmpl))
      (should-not (ossl-pkey-private-p ecpub))
      (dolist (k (list rsaexmpl rsapub))
        (let ((envl (ossl-seal 'AES-256-CBC "I do not want to tell" k)))
          (setq str (car envl) key (nth 1 envl) iv (nth 2 envl))
          (should (= (length (mapcar #'base64-encode-string envl)) 3))
          (should (equal (ossl-open 'AES-256-CBC str rsaexmpl key iv)
                         "I do not want to tell"))))
      (should (equal (cadr (should-error (ossl-open 'AES-256-CBC str rsapub key iv)
                                         :type 'ossl-crypto-error))
                     "cannot open, key has no private key data: #<OpenSSL RSA public key, size 2048>"))
      ;; ECB takes no IV: any IV is fine.
      (let ((enc (ossl-seal 'AES-256-ECB "a tight secret" rsaexmpl)))
        (should (equal (ossl-open 'AES-256-ECB (car enc) rsaexmpl (cadr enc) "some other iv!!!")
                       "a tight secret")))
      ;; The signature names of SXEmacs's openssl.c examples.
      (should (ossl-verify 'SHA1 "m" (ossl-sign 'DSA-SHA1 "m" dsaexmpl) dsapub))
      (should (ossl-verify 'RSA-SHA256 "m" (ossl-sign 'sha256 "m" rsaexmpl) rsapub))
      (should (ossl-verify 'ecdsa-with-SHA1 "m" (ossl-sign 'SHA1 "m" ecexmpl) ecpub))
      (should (equal (ossl-sign 'RSA-MD5 "m" rsaexmpl) (ossl-sign 'md5 "m" rsaexmpl)))
      (setq sig (ossl-sign 'SHA1 "I owe you a beer" dsaexmpl))
      (should (eq (ossl-verify 'SHA1 "I owe you a beer" sig dsapub) t))
      (should-not (ossl-verify 'SHA1 "I owe you 10 beer" sig dsapub))
      (let ((default-directory ossl-pkey-tests--dir))
        (ossl-pem-write-key "mykey.pem" dsaexmpl)
        (let ((stored (ossl-pem-read-key "mykey.pem")))
          (should (eq (ossl-verify 'SHA1 "I owe you a beer" sig stored) t))))
      (should (string-prefix-p "-----BEGIN PUBLIC KEY-----\n" (ossl-pem-public-key rsapub)))
      (should (equal (ossl-pem-public-key rsapub) (ossl-pem-public-key rsaexmpl)))
      (should (string-prefix-p "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
                               (ossl-pem-key rsaexmpl 'AES-256-CBC "foobar"))))))

;;;; Bad input

(ert-deftest ossl-pkey/wrong-types ()
  "Every function refuses arguments of the wrong type."
  (let ((k (ossl-ec-generate-key))
        (ed (ossl-ed25519-generate-key)))
    (dolist (form `((ossl-pkey-size "k") (ossl-pkey-type nil) (ossl-pkey-get-public 1)
                    (ossl-pkey-subkey-p ,k "k") (ossl-rsa-generate-key "2048")
                    (ossl-rsa-generate-key 2048 "3") (ossl-dsa-generate-key nil)
                    (ossl-dsa-generate-key 1024 5) (ossl-ec-generate-key 5)
                    (ossl-sign 'sha256 "m" "key") (ossl-sign 'sha256 5 ,k)
                    (ossl-sign 'sha256 "m" ,k :padding 'rsa) (ossl-sign 5 "m" ,k)
                    (ossl-sign 'sha256 "m" ,k :pad 'pss) (ossl-sign 'sha256 "m" ,k :padding)
                    (ossl-verify 'sha256 "m" "s" ,k :salt 3)
                    (ossl-verify 'sha256 "m" nil ,k) (ossl-verify 'sha256 "m" "s" nil)
                    (ossl-verify 'sha256 '(1) "s" ,k)
                    (ossl-derive ,k "peer") (ossl-derive "k" ,k)
                    (ossl-seal 'aes-256-gcm "m" nil) (ossl-seal 'aes-256-gcm "m" '(,k . "x"))
                    (ossl-seal 'aes-256-gcm "m" '("k")) (ossl-seal 'aes-256-gcm 3 ,k)
                    (ossl-open 'aes-256-gcm "c" ,k nil) (ossl-open 'aes-256-gcm 1 ,k "e")
                    (ossl-open 'aes-256-gcm "c" ,k "e" 7) (ossl-open 'aes-256-gcm "c" nil "e")
                    (ossl-pem-read-key nil) (ossl-pem-read-key "/x" 5)
                    (ossl-pem-read-public-key 3) (ossl-pkey-from-pem nil)
                    (ossl-pkey-from-der 1) (ossl-pkey-to-pem "k") (ossl-pkey-to-der nil)
                    (ossl-pkey-to-pem ,ed nil 3) (ossl-pem-write-key "/tmp/x" "k")
                    (ossl-pem-write-key nil ,ed) (ossl-pem-write-public-key "/tmp/x" nil)
                    (ossl-pem-public-key 1) (ossl-x509-get-pubkey ,k)))
      (should-error (eval form t) :type 'wrong-type-argument))
    (should-error (ossl-rsa-generate-key 100) :type 'args-out-of-range)
    (should-error (ossl-rsa-generate-key 2048 4) :type 'args-out-of-range)
    (should-error (ossl-rsa-generate-key 100000) :type 'args-out-of-range)))

(ert-deftest ossl-pkey/unknown-algorithms ()
  "Unknown digests, ciphers and curves are errors that list near names."
  (let ((k (ossl-ec-generate-key))
        (r (ossl-rsa-generate-key 1024)))
    (should (string-match-p "sha256" (ossl-pkey-tests--error-data
                                      (ossl-sign 'sha265 "m" k))))
    (should (string-match-p "sha256" (ossl-pkey-tests--error-data
                                      (ossl-verify 'sha265 "m" "s" k))))
    (should (string-match-p "aes-256-gcm" (ossl-pkey-tests--error-data
                                           (ossl-seal 'aes-256-gmc "m" r))))
    (should (string-match-p "aes-256-cbc" (ossl-pkey-tests--error-data
                                           (ossl-pem-write-key "/tmp/never" r
                                                               'aes-256-cbd "pw"))))
    (should (string-match-p "secp384r1" (ossl-pkey-tests--error-data
                                         (ossl-ec-generate-key 'secp384k1))))))

(ert-deftest ossl-pkey/misuse ()
  "Private-key operations on public keys, wrong key types, malformed signatures."
  (let* ((ec (ossl-ec-generate-key))
         (ecpub (ossl-pkey-get-public ec))
         (ed (ossl-ed25519-generate-key))
         (x (ossl-x25519-generate-key))
         (r (ossl-rsa-generate-key 1024))
         (sig (ossl-sign 'sha256 "m" ec)))
    ;; A private-key operation on a public key.
    (should (string-match-p "cannot sign, key has no private key data"
                            (ossl-pkey-tests--error-data (ossl-sign 'sha256 "m" ecpub))))
    (should (string-match-p "cannot derive"
                            (ossl-pkey-tests--error-data
                             (ossl-derive (ossl-pkey-get-public x) x))))
    ;; Wrong key types.
    (should-error (ossl-sign 'sha256 "m" x) :type 'ossl-crypto-error)
    (should-error (ossl-verify 'sha256 "m" sig x) :type 'ossl-crypto-error)
    (should-error (ossl-sign 'sha256 "m" ed) :type 'ossl-crypto-error)
    (should-error (ossl-sign nil "m" ec) :type 'ossl-crypto-error)
    (should-error (ossl-sign 'sha256 "m" ec :padding 'pss) :type 'ossl-crypto-error)
    (should-error (ossl-seal 'aes-256-gcm "m" ec) :type 'ossl-crypto-error)
    (should-error (ossl-derive ec x) :type 'ossl-crypto-error)
    (should-error (ossl-derive ec (ossl-ec-generate-key 'secp384r1)) :type 'ossl-crypto-error)
    (should-error (ossl-derive ed ed) :type 'ossl-crypto-error)
    ;; Malformed signatures are simply not valid.
    (should (ossl-verify 'sha256 "m" sig ecpub))
    (dolist (bad (list "" "0" (make-string 300 ?x) (substring sig 0 -1)
                       (concat sig "\0") (ossl-sign 'sha256 "m" r)))
      (should-not (ossl-verify 'sha256 "m" bad ecpub)))
    (should-not (ossl-verify nil "m" "short" ed))
    (should-not (ossl-verify 'sha256 "m" "" r))
    ;; Garbage is not a key.
    (should-error (ossl-pkey-from-pem "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
                  :type 'ossl-crypto-error)
    (should-error (ossl-pkey-from-der "\x30\x03\x02\x01\x00") :type 'ossl-crypto-error)
    (should-error (ossl-pem-read-key "/nonexistent/key.pem") :type 'ossl-crypto-error)
    ;; File names that are not UTF-8 are named in the error all the same.
    (should (string-search "/nonexistent/\377\376.pem"
                           (cadr (should-error
                                  (ossl-pem-read-key "/nonexistent/\377\376.pem")
                                  :type 'ossl-crypto-error))))
    (should-error (ossl-pem-write-key "/nonexistent/caf\303\251\377.pem" ec)
                  :type 'ossl-crypto-error)
    (should-error (ossl-pem-read-public-key (ossl-test-file "server.key.does-not-exist"))
                  :type 'error)))

(ert-deftest ossl-pkey/no-secrets-in-errors ()
  "Errors carry neither passwords nor key bytes."
  (let* ((r (ossl-rsa-generate-key 1024))
         (pem (ossl-pkey-to-pem r 'aes-256-cbc "hunter2-password"))
         (der (ossl-pkey-to-der r))
         (data (list (ossl-pkey-tests--error-data (ossl-pkey-from-pem pem "wrong-password-xyz"))
                     (ossl-pkey-tests--error-data (ossl-pkey-from-pem pem))
                     (ossl-pkey-tests--error-data
                      (ossl-pkey-from-der (substring der 0 -3)))
                     (ossl-pkey-tests--error-data
                      (ossl-pkey-from-pem pem (lambda () "wrong-password-xyz"))))))
    (dolist (d data)
      (should-not (string-match-p "hunter2\\|wrong-password-xyz" d))
      (should-not (string-search (substring der 10 30) d))
      (should-not (string-search (substring pem 40 60) d)))
    ;; A password function that signals: the signal goes through.
    (should-error (ossl-pkey-from-pem pem (lambda () (error "User quit")))
                  :type 'error)
    (should (ossl-pkey-subkey-p (ossl-pkey-from-pem pem "hunter2-password") r))))

(ert-deftest ossl-pkey/secrets-wiped-from-freed-memory ()
  "No block the module frees still holds a key password, a private key's
bytes or an envelope's plaintext, and no block libcrypto frees holds a
password or plaintext.  libcrypto 3.0 itself frees copies of an
Ed25519 key's bytes unwiped while it decodes PKCS#8 (the octet string
of ossl_ecx_key_from_pkcs8, once per X25519/X448/Ed25519/Ed448
decoder it tries): those are OpenSSL's, and allowed here.  The free
checker of ossl-rel/secrets-wiped-from-freed-memory runs in a child
Emacs; a control needle, hashed as plain data, which is not wiped,
proves it sees the module's frees."
  (unless (fboundp 'ossl-rel--build-freecheck)
    (ert-skip "needs ossl-reliability-tests.el loaded"))
  (when (equal (ossl-rel--sanitizer) "asan")
    (ert-skip "the free checker and ASan's allocator do not mix"))
  (let ((so (ossl-rel--build-freecheck)))
    (unless so (ert-skip "no C compiler for freecheck.c"))
    (let* ((log (make-temp-file "ossl-freecheck-" nil ".log"))
           (dir (make-temp-file "ossl-pkey-wipe-" t))
           (password "pkey-password-4711")
           ;; An Ed25519 private key whose 32 secret bytes are ASCII.
           (seed "ed25519-seed-ascii-0123456789abc")
           (der (concat (ossl-pkey-tests--hex "302e020100300506032b657004220420") seed))
           (plain "pkey-envelope-plaintext")
           (control "pkey-control-needle-not-secret")
           (lisp-dir (file-name-directory (locate-library "ossl")))
           (form
            `(progn
               (require 'ossl)
               (dotimes (i 3)
                 (let* ((k (ossl-pkey-from-der ,der))
                        (pem (ossl-pkey-to-pem k 'aes-256-cbc ,password))
                        (r (ossl-rsa-generate-key 1024))
                        (e (ossl-seal 'aes-256-gcm ,plain r)))
                   (ossl-pkey-from-pem pem ,password)
                   (ossl-pkey-from-pem pem (lambda () ,password))
                   (ignore-errors (ossl-pkey-from-pem pem "wrong password"))
                   (ossl-pem-write-key (format "%s/k%d.pem" ,dir i) k 'aes-128-cbc ,password)
                   (ossl-pem-read-key (format "%s/k%d.pem" ,dir i) ,password)
                   (ossl-sign nil "message" k)
                   (ossl-open 'aes-256-gcm (car e) r (nth 1 e) (nth 2 e))
                   (ossl-digest 'sha256 ,control)
                   (garbage-collect)))))
           (process-environment
            (append (list (concat "LD_PRELOAD=" so)
                          (concat "FREECHECK_LOG=" log)
                          (concat "FREECHECK_NEEDLES="
                                  (string-join (list password seed plain control) ":")))
                    process-environment)))
      (unwind-protect
          (let* ((status (call-process (expand-file-name invocation-name
                                                         invocation-directory)
                                       nil nil nil "-Q" "--batch" "-L" lisp-dir
                                       "--eval"
                                       ;; No NUL or raw byte on the command line.
                                       (let ((print-escape-control-characters t)
                                             (print-escape-nonascii t))
                                         (prin1-to-string form))))
                 (lines (with-temp-buffer (insert-file-contents log)
                                          (split-string (buffer-string) "\n" t)))
                 (hits (cl-remove-if-not (lambda (l) (string-prefix-p "HIT" l)) lines)))
            (should (eq status 0))
            ;; Needle 3 is the control: it must be seen, and only it,
            ;; but for libcrypto's own copies of the key (needle 1).
            (should (cl-some (lambda (l) (string-prefix-p "HIT 3 " l)) hits))
            (should-not (cl-remove-if (lambda (l)
                                        (or (string-prefix-p "HIT 3 " l)
                                            (string-match-p "\\`HIT 1 .*/libcrypto\\.so" l)))
                                      hits)))
        (delete-file log)
        (delete-file so)
        (delete-directory dir t)))))

(provide 'ossl-pkey-tests)

;;; ossl-pkey-tests.el ends here
