;;; ossl-crypto-tests.el --- tests of digests, MACs, KDFs and ciphers  -*- lexical-binding: t; -*-

;;; Commentary:

;; Issue 16, items 1-5: the SXEmacs crypto API of ossl-crypto.el.
;; - Published vectors: FIPS 180 (SHA-2), FIPS 202 (SHA-3), RFC 4231
;;   (HMAC), RFC 6070 (PBKDF2), RFC 5869 (HKDF), RFC 7914 (scrypt), the
;;   GCM specification's test cases (AES-GCM), RFC 8439 (ChaCha20-Poly1305).
;; - Interoperability, both ways where there are two ways: the openssl
;;   command (dgst, dgst -hmac, kdf, enc), Python's hashlib, hmac and
;;   cryptography (AES-GCM, ChaCha20-Poly1305, HKDF), and Emacs's own
;;   `secure-hash', `gnutls-hash-digest', `gnutls-hash-mac' and
;;   `gnutls-symmetric-encrypt'/`-decrypt'.
;; - Bad input: wrong types, unknown algorithms (the error lists near
;;   names), empty keys, wrong lengths (the error names the right one),
;;   tampered ciphertext, tag or AAD (an error, never plaintext), and no
;;   key bytes in error data.
;; - The SXEmacs manual's examples, with the results it printed.

;;; Code:

(require 'ert)
(require 'cl-lib)
(require 'hex-util)
(require 'ossl)
(require 'ossl-test-lib)

;; From ossl-reliability-tests.el, which the runner loads too (requiring
;; it here would load it twice, an error for Emacs 30's ERT).
(declare-function ossl-rel--freecheck-run "ossl-reliability-tests" (form needles))

;;;; Helpers

(defun ossl-crypto-tests--hex (s)
  "S in lower-case hex."
  (encode-hex-string s))

(defun ossl-crypto-tests--unhex (hex)
  "The bytes of HEX (spaces allowed), a unibyte string."
  (decode-hex-string (replace-regexp-in-string "[ \n]" "" hex)))

(defun ossl-crypto-tests--run (input program &rest args)
  "Run PROGRAM with ARGS, INPUT (bytes) on stdin; return its stdout bytes.
Signal an error when it exits non-zero."
  (let ((coding-system-for-read 'binary)
        (coding-system-for-write 'binary)
        (process-environment (cons "OPENSSL_CONF=/dev/null" process-environment)))
    (with-temp-buffer
      (set-buffer-multibyte nil)
      (insert input)
      (let ((status (apply #'call-process-region (point-min) (point-max)
                           program t '(t nil) nil args)))
        (unless (eql status 0)
          (error "%s %S exited with %s: %s" program args status (buffer-string)))
        (buffer-string)))))

(defun ossl-crypto-tests--openssl (input &rest args)
  "Run the openssl command with ARGS and INPUT; its stdout bytes."
  (apply #'ossl-crypto-tests--run input ossl-test-openssl-program args))

(defun ossl-crypto-tests--python (input script &rest args)
  "Run the Python SCRIPT (sys, hashlib, hmac, binascii imported) with ARGS.
INPUT goes to its stdin; return its stdout bytes."
  (apply #'ossl-crypto-tests--run input ossl-test-python-program "-c"
         (concat "import sys, hashlib, hmac, binascii\n"
                 "inp = sys.stdin.buffer.read()\n"
                 "out = sys.stdout.buffer.write\n"
                 "h = binascii.unhexlify\n"
                 script)
         args))

(defun ossl-crypto-tests--python-has (module)
  "Non-nil if Python can import MODULE."
  (eql 0 (call-process ossl-test-python-program nil nil nil "-c"
                       (concat "import " module))))

(defconst ossl-crypto-tests--data
  (concat (ossl-test-deterministic-bytes 100003) "\0\xff")
  "Test data: 100 KB of bytes, not a multiple of any block size.")

(defconst ossl-crypto-tests--text "Grüße, 世界 — ossl\n"
  "Multibyte text, hashed as its UTF-8 bytes.")

(defun ossl-crypto-tests--brief (s)
  "S, or for a long string its length and SHA-256: what a failure shows."
  (if (and (stringp s) (> (length s) 64))
      (format "%d bytes, SHA-256 %s" (length s) (secure-hash 'sha256 s))
    s))

(defmacro ossl-crypto-tests--same (a b)
  "A and B must be equal; a failure shows long strings briefly."
  `(should (equal (ossl-crypto-tests--brief ,a) (ossl-crypto-tests--brief ,b))))

(defmacro ossl-crypto-tests--should-error (form regexp)
  "FORM must signal `ossl-crypto-error' whose message matches REGEXP."
  `(let ((err (should-error ,form :type 'ossl-crypto-error)))
     (should (string-match-p ,regexp (error-message-string err)))
     err))

;;;; General

(ert-deftest ossl-crypto/version ()
  "`ossl-version' is what `openssl version' says of the library in use."
  (let ((v (ossl-version)))
    (should (string-match-p "\\`OpenSSL 3\\.[0-9]+\\.[0-9]+" v))
    ;; "OpenSSL 3.0.19 27 Jan 2026 (Library: OpenSSL 3.0.19 27 Jan 2026)"
    (should (string-search (concat "Library: " v)
                           (ossl-crypto-tests--openssl "" "version")))))

(ert-deftest ossl-crypto/available ()
  "Available digests and ciphers: sorted lower-case symbols, aliases included."
  (let ((digests (ossl-available-digests))
        (ciphers (ossl-available-ciphers)))
    (dolist (d '(md5 sha1 sha256 sha2-256 sha-256 sha512 sha3-256 shake256
                 blake2b512))
      (should (memq d digests)))
    (dolist (c '(aes-128-cbc aes-256-gcm aes-256-ccm aes-128-ocb chacha20
                 chacha20-poly1305 aes-256-ctr camellia-256-cbc))
      (should (memq c ciphers)))
    (should (equal digests (sort (copy-sequence digests) #'string<)))
    (let ((case-fold-search nil))
      (should-not (cl-some (lambda (s) (string-match-p "[A-Z]\\|\\`[0-9]"
                                                       (symbol-name s)))
                           (append digests ciphers))))
    ;; Every name listed is usable, in any case.
    (dolist (d digests)
      (should (ossl-digest-size d))
      (should (ossl-digest-size (upcase (symbol-name d)))))
    (dolist (c ciphers)
      (should (ossl-cipher-key-length c)))))

(ert-deftest ossl-crypto/sizes ()
  "Sizes of digests and ciphers, as OpenSSL and the SXEmacs manual give them."
  (should (= (ossl-digest-size 'MD5) 16))
  (should (= (ossl-digest-size 'SHA512) 64))
  (should (= (ossl-digest-bits 'sha256) 256))
  (should (= (ossl-digest-bits "SHA3-384") 384))
  (should (= (ossl-digest-block-size 'MD5) 64))
  (should (= (ossl-digest-block-size 'SHA512) 128))
  (should (= (ossl-cipher-key-length 'CAMELLIA-256-CBC) 32))
  (should (= (ossl-cipher-bits 'aes-128-gcm) 128))
  (should (= (ossl-cipher-bits 'chacha20-poly1305) 256))
  (should (= (ossl-cipher-iv-length 'aes-256-cbc) 16))
  (should (= (ossl-cipher-iv-length 'aes-256-gcm) 12))
  (should (= (ossl-cipher-iv-length 'aes-256-ecb) 0))
  (should (= (ossl-cipher-block-size 'aes-256-cbc) 16))
  (should (= (ossl-cipher-block-size 'aes-256-ctr) 1))
  (should (eq (ossl-cipher-mode 'aes-192-ofb) 'ofb))
  (should (eq (ossl-cipher-mode 'aes-128-gcm) 'gcm))
  (should (eq (ossl-cipher-mode 'chacha20) 'stream))
  (dolist (c '(aes-128-gcm aes-256-ccm aes-128-ocb chacha20-poly1305))
    (should (eq (ossl-cipher-aead-p c) t)))
  (dolist (c '(aes-128-cbc aes-256-ctr chacha20 aes-128-ecb))
    (should-not (ossl-cipher-aead-p c))))

;;;; Random bytes

(ert-deftest ossl-crypto/rand-bytes ()
  "Random bytes: unibyte, the length asked for, different each time."
  (should (equal (ossl-rand-bytes 0) ""))
  (let ((a (ossl-rand-bytes 32)) (b (ossl-rand-bytes 32)))
    (should (= (length a) 32))
    (should-not (multibyte-string-p a))
    (should-not (equal a b)))
  (let ((big (ossl-rand-bytes 100000)))
    (should (= (length big) 100000))
    ;; All 256 byte values show up in 100 000 random bytes.
    (should (= (length (delete-dups (append big nil))) 256)))
  (should-error (ossl-rand-bytes -1) :type 'args-out-of-range)
  ;; Bignums too large for C are out of range, not an overflow.
  (should-error (ossl-rand-bytes (expt 2 70)) :type 'args-out-of-range)
  (should-error (ossl-rand-bytes (- (expt 2 70))) :type 'args-out-of-range)
  (should-error (ossl-rand-bytes 'ten) :type 'wrong-type-argument)
  (should-error (ossl-rand-bytes 1.5) :type 'wrong-type-argument))

;;;; Digests

(ert-deftest ossl-crypto/digest-vectors ()
  "FIPS 180-4 and FIPS 202 test vectors."
  (let ((abc "abc")
        (two "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))
    (dolist (v `((sha224 ,abc "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7")
                 (sha256 ,abc "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
                 (sha256 ,two "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
                 (sha256 "" "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
                 (sha384 ,abc "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7")
                 (sha512 ,abc "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
                 (sha3-256 ,abc "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532")
                 (sha3-256 "" "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a")
                 (sha3-512 ,abc "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e10e116e9192af3c91a7ec57647e3934057340b4cf408d5a56592f8274eec53f0")
                 (SHA-1 ,abc "a9993e364706816aba3e25717850c26c9cd0d89d")
                 ("SHA2-256" ,abc "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")))
      (should (equal (ossl-crypto-tests--hex (ossl-digest (nth 0 v) (nth 1 v)))
                     (nth 2 v))))
    ;; One million "a" (FIPS 180-2 appendix B.3).
    (should (equal (ossl-crypto-tests--hex (ossl-digest 'sha256 (make-string 1000000 ?a)))
                   "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"))))

(ert-deftest ossl-crypto/digest-data-kinds ()
  "Unibyte strings are bytes, multibyte ones UTF-8, buffers their contents."
  (let ((utf8 (encode-coding-string ossl-crypto-tests--text 'utf-8)))
    (should (equal (ossl-digest 'sha256 ossl-crypto-tests--text)
                   (ossl-digest 'sha256 utf8)))
    (should (equal (ossl-crypto-tests--hex (ossl-digest 'sha256 ossl-crypto-tests--text))
                   (secure-hash 'sha256 utf8)))
    (with-temp-buffer
      (insert ossl-crypto-tests--text)
      (should (equal (ossl-digest 'sha256 (current-buffer))
                     (ossl-digest 'sha256 utf8)))
      (should (equal (ossl-digest 'sha256 (current-buffer))
                     (secure-hash 'sha256 (current-buffer) nil nil t))))
    (should-not (multibyte-string-p (ossl-digest 'md5 ossl-crypto-tests--text)))))

(ert-deftest ossl-crypto/digest-interop ()
  "Digests agree with openssl dgst, Python's hashlib, `secure-hash', GnuTLS."
  (let ((data ossl-crypto-tests--data))
    (dolist (d '(md5 sha1 sha224 sha256 sha384 sha512 sha3-256 sha3-512 blake2b512))
      (let ((ours (ossl-digest d data))
            (py (pcase d ('blake2b512 "blake2b") ('sha3-256 "sha3_256")
                       ('sha3-512 "sha3_512") (_ (symbol-name d)))))
        (ossl-crypto-tests--same ours (ossl-crypto-tests--openssl
                             data "dgst" (concat "-" (symbol-name d)) "-binary"))
        (ossl-crypto-tests--same ours (ossl-crypto-tests--python
                             data "out(hashlib.new(sys.argv[1], inp).digest())" py))
        (when (memq d '(md5 sha1 sha224 sha256 sha384 sha512))
          (ossl-crypto-tests--same ours (secure-hash d data nil nil t)))
        (when (and (fboundp 'gnutls-hash-digest)
                   (memq d '(md5 sha1 sha224 sha256 sha384 sha512)))
          (ossl-crypto-tests--same ours (gnutls-hash-digest (upcase (symbol-name d)) data)))))))

(ert-deftest ossl-crypto/digest-file ()
  "A file's digest, streamed, equals openssl's, sha256sum's and the data's."
  (let ((file (make-temp-file "ossl-crypto-")))
    (unwind-protect
        (let ((data (apply #'concat (make-list 30 ossl-crypto-tests--data))))
          ;; 3 MB: many reads of the streaming loop.
          (let ((coding-system-for-write 'binary))
            (write-region data nil file nil 'silent))
          (should (equal (ossl-digest-file 'sha256 file) (ossl-digest 'sha256 data)))
          (should (equal (ossl-digest-file "SHA512" file)
                         (ossl-crypto-tests--openssl "" "dgst" "-sha512" "-binary" file)))
          (should (equal (ossl-crypto-tests--hex (ossl-digest-file 'sha256 file))
                         (car (split-string (ossl-crypto-tests--run "" "sha256sum" file)))))
          (should (equal (ossl-digest-file 'md5 (abbreviate-file-name file))
                         (ossl-digest 'md5 data)))
          ;; Empty file.
          (write-region "" nil file nil 'silent)
          (should (equal (ossl-crypto-tests--hex (ossl-digest-file 'sha256 file))
                         "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")))
      (delete-file file))
    (should-error (ossl-digest-file 'sha256 file) :type 'file-missing)
    (ossl-crypto-tests--should-error (ossl-digest-file 'sha256 temporary-file-directory)
                                     "not a regular file")
    ;; Devices and pipes could be read for ever, uninterruptibly.
    (ossl-crypto-tests--should-error (ossl-digest-file 'sha256 "/dev/zero")
                                     "/dev/zero is not a regular file")
    (should-error (ossl-digest-file 'sha256 nil) :type 'wrong-type-argument)))

;;;; HMAC

(defconst ossl-crypto-tests--rfc4231
  ;; (KEY DATA SHA-224 SHA-256 SHA-384 SHA-512), hex except DATA strings.
  `(("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b" "Hi There"
     "896fb1128abbdf196832107cd49df33f47b4b1169912ba4f53684b22"
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
     "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6"
     "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854")
    ("4a656665" "what do ya want for nothing?"
     "a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44"
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
     "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649"
     "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737")
    (,(make-string 40 ?a) ,(ossl-crypto-tests--unhex (make-string 100 ?d))
     "7fb3cb3588c6c1f6ffa9694d7d6ad2649365b0c1f65d69d1ec8333ea"
     "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"
     "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b2a5ab39dc13814b94e3ab6e101a34f27"
     "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb")
    (,(make-string 262 ?a)
     "Test Using Larger Than Block-Size Key - Hash Key First"
     "95e9a0db962095adaebe9b2d6f0dbce2d499f112f2d2b7273fa6870e"
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
     "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952"
     "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"))
  "RFC 4231 test cases 1, 2, 3 and 6.")

(ert-deftest ossl-crypto/hmac-vectors ()
  "RFC 4231: HMAC-SHA-224/256/384/512."
  (dolist (case ossl-crypto-tests--rfc4231)
    (let ((key (ossl-crypto-tests--unhex (nth 0 case))))
      (cl-loop for d in '(sha224 sha256 sha384 sha512)
               for want in (nthcdr 2 case)
               do (should (equal (ossl-crypto-tests--hex (ossl-hmac d (nth 1 case) key))
                                 want)))))
  ;; Test case 5: truncated to 128 bits.
  (should (string-prefix-p
           "a3b6167473100ee06e0c796c2955552b"
           (ossl-crypto-tests--hex
            (ossl-hmac 'sha256 "Test With Truncation"
                       (ossl-crypto-tests--unhex (apply #'concat (make-list 20 "0c"))))))))

(ert-deftest ossl-crypto/hmac-interop ()
  "HMAC agrees with openssl dgst -hmac, Python's hmac and `gnutls-hash-mac'."
  (let ((data ossl-crypto-tests--data)
        (key "a key, not too secret"))
    (dolist (d '(sha1 sha256 sha384 sha512 sha3-256))
      (let ((ours (ossl-hmac d data key)))
        (should (= (length ours) (ossl-digest-size d)))
        (ossl-crypto-tests--same ours (ossl-crypto-tests--openssl
                             data "dgst" (concat "-" (symbol-name d)) "-hmac" key
                             "-binary"))
        (ossl-crypto-tests--same ours (ossl-crypto-tests--python
                             data "out(hmac.new(sys.argv[1].encode(), inp, sys.argv[2]).digest())"
                             key (replace-regexp-in-string "-" "_" (symbol-name d))))
        (when (and (fboundp 'gnutls-hash-mac) (not (eq d 'sha3-256)))
          ;; GnuTLS wipes the key string it is given: a copy.
          (ossl-crypto-tests--same ours (gnutls-hash-mac (upcase (symbol-name d))
                                               (copy-sequence key) data)))))
    ;; A binary key, longer than the block, through -macopt hexkey.
    (let ((key (ossl-test-deterministic-bytes 200)))
      (should (equal (ossl-hmac 'sha256 data key)
                     (ossl-crypto-tests--openssl
                      data "dgst" "-sha256" "-mac" "HMAC" "-macopt"
                      (concat "hexkey:" (ossl-crypto-tests--hex key)) "-binary"))))
    ;; Multibyte key and data are UTF-8.
    (should (equal (ossl-hmac 'sha256 ossl-crypto-tests--text "clé")
                   (ossl-crypto-tests--python
                    (encode-coding-string ossl-crypto-tests--text 'utf-8)
                    "out(hmac.new('clé'.encode(), inp, 'sha256').digest())")))))

;;;; Key derivation

(ert-deftest ossl-crypto/pbkdf2-vectors ()
  "RFC 6070 PBKDF2-HMAC-SHA1 (all but the 16 777 216-round case), and SHA-256."
  (dolist (v '(("password" "salt" 1 20 "0c60c80f961f0e71f3a9b524af6012062fe037a6")
               ("password" "salt" 2 20 "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957")
               ("password" "salt" 4096 20 "4b007901b765489abead49d926f721d065a429c1")
               ("passwordPASSWORDpassword" "saltSALTsaltSALTsaltSALTsaltSALTsalt" 4096 25
                "3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038")
               ("pass\0word" "sa\0lt" 4096 16 "56fa6aa75548099dcc37d7f03425e0c3")))
    (should (equal (ossl-crypto-tests--hex
                    (apply #'ossl-pbkdf2 'sha1 (cl-subseq v 0 4)))
                   (nth 4 v))))
  ;; PBKDF2-HMAC-SHA256, from RFC 7914 section 11.
  (should (equal (ossl-crypto-tests--hex (ossl-pbkdf2 'sha256 "passwd" "salt" 1 64))
                 "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783")))

(ert-deftest ossl-crypto/hkdf-vectors ()
  "RFC 5869 test cases 1 to 3 (SHA-256)."
  (let ((u #'ossl-crypto-tests--unhex))
    (should (equal (ossl-crypto-tests--hex
                    (ossl-hkdf 'sha256 (funcall u (apply #'concat (make-list 22 "0b")))
                               (funcall u "000102030405060708090a0b0c")
                               (funcall u "f0f1f2f3f4f5f6f7f8f9") 42))
                   "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"))
    (should (equal (ossl-crypto-tests--hex
                    (ossl-hkdf 'sha256
                               (apply #'unibyte-string (number-sequence 0 #x4f))
                               (apply #'unibyte-string (number-sequence #x60 #xaf))
                               (apply #'unibyte-string (number-sequence #xb0 #xff))
                               82))
                   "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87"))
    ;; No salt, no info.
    (should (equal (ossl-crypto-tests--hex
                    (ossl-hkdf 'sha256 (funcall u (apply #'concat (make-list 22 "0b"))) nil nil 42))
                   "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"))
    (should (equal (ossl-hkdf 'sha256 (funcall u (apply #'concat (make-list 22 "0b"))) "" "" 42)
                   (ossl-hkdf 'sha256 (funcall u (apply #'concat (make-list 22 "0b"))) nil nil 42)))
    ;; At most 255 hash lengths.
    (should (= (length (ossl-hkdf 'sha256 "k" nil nil (* 255 32))) (* 255 32)))
    (should-error (ossl-hkdf 'sha256 "k" nil nil (1+ (* 255 32)))
                  :type 'ossl-crypto-error)))

(ert-deftest ossl-crypto/scrypt-vectors ()
  "RFC 7914 section 12, the two quick cases."
  (should (equal (ossl-crypto-tests--hex (ossl-scrypt "" "" 16 1 1 64))
                 "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906"))
  (should (equal (ossl-crypto-tests--hex (ossl-scrypt "password" "NaCl" 1024 8 16 64))
                 "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"))
  (ossl-crypto-tests--should-error (ossl-scrypt "p" "s" 1000 8 1 32) "power of 2")
  ;; Over the memory ceiling: an error, not an allocation.
  (ossl-crypto-tests--should-error (ossl-scrypt "p" "s" (expt 2 24) 64 1 32) "scrypt"))

(ert-deftest ossl-crypto/kdf-interop ()
  "PBKDF2, HKDF and scrypt agree with openssl kdf and Python."
  (let ((pass "correct horse battery staple")
        (salt (ossl-test-deterministic-bytes 16)))
    ;; PBKDF2
    (let ((ours (ossl-pbkdf2 'sha256 pass salt 1000 48)))
      (ossl-crypto-tests--same ours (ossl-crypto-tests--openssl
                           "" "kdf" "-binary" "-keylen" "48" "-kdfopt" "digest:SHA256"
                           "-kdfopt" (concat "pass:" pass)
                           "-kdfopt" (concat "hexsalt:" (ossl-crypto-tests--hex salt))
                           "-kdfopt" "iter:1000" "PBKDF2"))
      (ossl-crypto-tests--same ours (ossl-crypto-tests--python
                           "" "out(hashlib.pbkdf2_hmac('sha256', sys.argv[1].encode(), h(sys.argv[2]), 1000, 48))"
                           pass (ossl-crypto-tests--hex salt))))
    ;; HKDF
    (let* ((ikm (ossl-test-deterministic-bytes 32))
           (ours (ossl-hkdf 'sha384 ikm salt "context" 100)))
      (ossl-crypto-tests--same ours (ossl-crypto-tests--openssl
                           "" "kdf" "-binary" "-keylen" "100" "-kdfopt" "digest:SHA384"
                           "-kdfopt" (concat "hexkey:" (ossl-crypto-tests--hex ikm))
                           "-kdfopt" (concat "hexsalt:" (ossl-crypto-tests--hex salt))
                           "-kdfopt" "info:context" "HKDF"))
      (when (ossl-crypto-tests--python-has "cryptography")
        (ossl-crypto-tests--same ours (ossl-crypto-tests--python
                             "" "from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
out(HKDF(hashes.SHA384(), 100, h(sys.argv[2]), b'context').derive(h(sys.argv[1])))"
                             (ossl-crypto-tests--hex ikm) (ossl-crypto-tests--hex salt)))))
    ;; scrypt
    (let ((ours (ossl-scrypt pass salt 2048 8 2 32)))
      (ossl-crypto-tests--same ours (ossl-crypto-tests--openssl
                           "" "kdf" "-binary" "-keylen" "32"
                           "-kdfopt" (concat "pass:" pass)
                           "-kdfopt" (concat "hexsalt:" (ossl-crypto-tests--hex salt))
                           "-kdfopt" "n:2048" "-kdfopt" "r:8" "-kdfopt" "p:2" "SCRYPT"))
      (ossl-crypto-tests--same ours (ossl-crypto-tests--python
                           "" "out(hashlib.scrypt(sys.argv[1].encode(), salt=h(sys.argv[2]), n=2048, r=8, p=2, dklen=32))"
                           pass (ossl-crypto-tests--hex salt))))))

(ert-deftest ossl-crypto/bytes-to-key ()
  "EVP_BytesToKey as `openssl enc -P' prints it; SALT nil is SXEmacs's key."
  (let ((pair (ossl-bytes-to-key 'aes-256-cbc 'sha256 "\1\2\3\4\5\6\7\10" "secret" 1))
        (printed (ossl-crypto-tests--openssl
                  "" "enc" "-aes-256-cbc" "-md" "sha256" "-k" "secret"
                  "-S" "0102030405060708" "-P")))
    (should (string-match "key=\\([0-9A-F]+\\)" printed))
    (should (equal (upcase (ossl-crypto-tests--hex (car pair))) (match-string 1 printed)))
    (should (string-match "iv *=\\([0-9A-F]+\\)" printed))
    (should (equal (upcase (ossl-crypto-tests--hex (cdr pair))) (match-string 1 printed))))
  ;; A short salt is padded with zeros, as `openssl enc -S' pads it.
  (should (equal (ossl-bytes-to-key 'aes-128-cbc 'md5 "salt" "pw" 3)
                 (ossl-bytes-to-key 'aes-128-cbc 'md5 "salt\0\0\0\0" "pw" 3)))
  (ossl-crypto-tests--should-error
   (ossl-bytes-to-key 'aes-128-cbc 'md5 "ninebytes" "pw" 1) "at most 8 bytes")
  ;; No IV for ECB.
  (should (null (cdr (ossl-bytes-to-key 'aes-128-ecb 'sha256 nil "pw" 1))))
  (should-error (ossl-bytes-to-key 'aes-128-cbc 'md5 nil "pw" 0)
                :type 'args-out-of-range))

(ert-deftest ossl-crypto/kdf-bad-input ()
  "KDFs refuse empty keys, bad digests, bad lengths."
  (ossl-crypto-tests--should-error (ossl-hkdf 'sha256 "" "salt" "info" 32) "empty")
  (ossl-crypto-tests--should-error (ossl-pbkdf2 'null "pw" "salt" 1 32) "cannot key")
  (ossl-crypto-tests--should-error (ossl-hkdf 'shake128 "k" nil nil 32) "cannot key")
  (ossl-crypto-tests--should-error (ossl-bytes-to-key 'aes-128-cbc 'null nil "pw" 1)
                                   "cannot key")
  (should-error (ossl-pbkdf2 'sha256 "pw" "salt" 0 32) :type 'args-out-of-range)
  (should-error (ossl-pbkdf2 'sha256 "pw" "salt" 1 0) :type 'args-out-of-range)
  (should-error (ossl-pbkdf2 'sha256 "pw" "salt" 1 (expt 2 40)) :type 'args-out-of-range)
  (should-error (ossl-pbkdf2 'sha256 'pw "salt" 1 32) :type 'wrong-type-argument)
  (should-error (ossl-hkdf 'sha256 "k" 5 nil 32) :type 'wrong-type-argument)
  (should-error (ossl-scrypt "p" "s" 16 0 1 32) :type 'args-out-of-range)
  (should-error (ossl-scrypt "p" nil 16 1 1 32) :type 'wrong-type-argument))

;;;; Symmetric ciphers

(ert-deftest ossl-crypto/gcm-vectors ()
  "The GCM specification's test cases 2, 3, 4 (AES-128) and 16 (AES-256)."
  (let* ((u #'ossl-crypto-tests--unhex)
         (k128 (funcall u "feffe9928665731c6d6a8f9467308308"))
         (k256 (concat k128 k128))
         (iv (funcall u "cafebabefacedbaddecaf888"))
         (p (funcall u "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255"))
         (aad (funcall u "feedfacedeadbeeffeedfacedeadbeefabaddad2"))
         (cases
          `((aes-128-gcm ,(make-string 16 0) ,(make-string 12 0) ,(make-string 16 0) nil
                         "0388dace60b6a392f328c2b971b2fe78" "ab6e47d42cec13bdf53a67b21257bddf")
            (aes-128-gcm ,k128 ,iv ,p nil
                         "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985"
                         "4d5c2af327cd64a62cf35abd2ba6fab4")
            (aes-128-gcm ,k128 ,iv ,(substring p 0 60) ,aad
                         "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
                         "5bc94fbc3221a5db94fae95ae7121a47")
            (aes-256-gcm ,k256 ,iv ,(substring p 0 60) ,aad
                         "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
                         "76fc6ece0f4e1768cddf8853bb2d551b"))))
    (pcase-dolist (`(,c ,key ,iv ,plain ,aad ,ct ,tag) cases)
      (let ((out (ossl-encrypt c plain key iv aad)))
        (should (equal (ossl-crypto-tests--hex out) (concat ct tag)))
        (should (equal (ossl-decrypt c out key iv aad) plain))))))

(defconst ossl-crypto-tests--rfc8439
  (list (ossl-crypto-tests--unhex "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
        (ossl-crypto-tests--unhex "070000004041424344454647")
        (ossl-crypto-tests--unhex "50515253c0c1c2c3c4c5c6c7")
        "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it."
        (concat "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
                "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
                "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
                "3ff4def08e4b7a9de576d26586cec64b6116"
                "1ae10b594f09e26a7e902ecbd0600691"))
  "RFC 8439 section 2.8.2: key, nonce, AAD, plaintext, ciphertext and tag.")

(ert-deftest ossl-crypto/chacha20-poly1305-vector ()
  "RFC 8439 section 2.8.2."
  (pcase-let ((`(,key ,nonce ,aad ,plain ,want) ossl-crypto-tests--rfc8439))
    (let ((out (ossl-encrypt 'chacha20-poly1305 plain key nonce aad)))
      (should (equal (ossl-crypto-tests--hex out) want))
      (should (equal (ossl-decrypt 'ChaCha20-Poly1305 out key nonce aad) plain)))))

(ert-deftest ossl-crypto/round-trips ()
  "Every mode round-trips, on empty, short, odd and 100 KB data."
  (dolist (c '(aes-128-cbc aes-256-cbc aes-256-ecb aes-128-ctr aes-256-cfb aes-256-ofb
               camellia-128-cbc chacha20 aes-128-gcm aes-256-gcm aes-128-ccm aes-256-ocb
               chacha20-poly1305 aria-256-gcm))
    (let ((key (ossl-rand-bytes (ossl-cipher-key-length c)))
          (iv (and (> (ossl-cipher-iv-length c) 0)
                   (ossl-rand-bytes (ossl-cipher-iv-length c))))
          (aad (and (ossl-cipher-aead-p c) "header")))
      (dolist (data (list "" "x" "exactly 16 bytes" ossl-crypto-tests--data))
        (let ((ct (ossl-encrypt c data key iv aad)))
          (should-not (multibyte-string-p ct))
          (should (= (length ct)
                     (cond ((ossl-cipher-aead-p c) (+ (length data) 16))
                           ((> (ossl-cipher-block-size c) 1)
                            (* 16 (1+ (/ (length data) 16))))
                           (t (length data)))))
          (ossl-crypto-tests--same (ossl-decrypt c ct key iv aad) data))))))

(ert-deftest ossl-crypto/enc-interop ()
  "ossl-encrypt and openssl enc decrypt each other (CBC pads alike)."
  (let ((data ossl-crypto-tests--data))
    (dolist (c '(aes-256-cbc aes-128-cbc aes-192-ctr camellia-256-cbc aes-256-ofb
                 chacha20 aes-128-ecb))
      (let* ((key (ossl-rand-bytes (ossl-cipher-key-length c)))
             (ivlen (ossl-cipher-iv-length c))
             (iv (and (> ivlen 0) (ossl-rand-bytes ivlen)))
             (args (append (list "enc" (concat "-" (symbol-name c)) "-K"
                                 (ossl-crypto-tests--hex key))
                           (and iv (list "-iv" (ossl-crypto-tests--hex iv)))))
             (ours (ossl-encrypt c data key iv)))
        (ossl-crypto-tests--same ours (apply #'ossl-crypto-tests--openssl data args))
        (ossl-crypto-tests--same (apply #'ossl-crypto-tests--openssl ours (append args '("-d"))) data)
        (ossl-crypto-tests--same (ossl-decrypt c (apply #'ossl-crypto-tests--openssl data args)
                                     key iv) data)))
    ;; A password-encrypted file of `openssl enc -md sha256 -S' decrypts
    ;; with the pair `ossl-bytes-to-key' derives.
    (let ((ct (ossl-crypto-tests--openssl data "enc" "-aes-256-cbc" "-md" "sha256"
                                          "-k" "pw" "-S" "0011223344556677")))
      ;; OpenSSL 3 writes no "Salted__" header for a salt given with -S.
      (ossl-crypto-tests--same (ossl-decrypt 'aes-256-cbc ct
                                   (ossl-bytes-to-key 'aes-256-cbc 'sha256
                                                      (ossl-crypto-tests--unhex "0011223344556677")
                                                      "pw" 1)) data))))

(ert-deftest ossl-crypto/aead-interop-python ()
  "AES-GCM, AES-CCM, ChaCha20-Poly1305, AES-SIV against Python's cryptography, both ways."
  (skip-unless (ossl-crypto-tests--python-has "cryptography"))
  (let ((data ossl-crypto-tests--data) (aad "associated data"))
    (dolist (spec '((aes-256-gcm "AESGCM") (aes-128-gcm "AESGCM")
                    (aes-128-ccm "AESCCM") (chacha20-poly1305 "ChaCha20Poly1305")))
      (let* ((c (car spec))
             (key (ossl-rand-bytes (ossl-cipher-key-length c)))
             (iv (ossl-rand-bytes (ossl-cipher-iv-length c)))
             (ours (ossl-encrypt c data key iv aad))
             (script (format "from cryptography.hazmat.primitives.ciphers.aead import %s as C
c = C(h(sys.argv[1]))
if sys.argv[3] == 'e': out(c.encrypt(h(sys.argv[2]), inp, b'associated data'))
else: out(c.decrypt(h(sys.argv[2]), inp, b'associated data'))" (cadr spec)))
             (args (list (ossl-crypto-tests--hex key) (ossl-crypto-tests--hex iv))))
        (ossl-crypto-tests--same ours (apply #'ossl-crypto-tests--python data script
                                   (append args '("e"))))
        (ossl-crypto-tests--same (apply #'ossl-crypto-tests--python ours script (append args '("d"))) data)))
    ;; AES-SIV: no nonce, the tag (synthetic IV) first, as RFC 5297 has it.
    (dolist (c '(aes-128-siv aes-256-siv))
      (let* ((key (ossl-rand-bytes (ossl-cipher-key-length c)))
             (ours (ossl-encrypt c data key nil aad))
             (script "from cryptography.hazmat.primitives.ciphers.aead import AESSIV
c = AESSIV(h(sys.argv[1]))
if sys.argv[2] == 'e': out(c.encrypt(inp, [b'associated data']))
else: out(c.decrypt(inp, [b'associated data']))"))
        (ossl-crypto-tests--same ours (ossl-crypto-tests--python
                                       data script (ossl-crypto-tests--hex key) "e"))
        (ossl-crypto-tests--same (ossl-crypto-tests--python
                                  ours script (ossl-crypto-tests--hex key) "d")
                                 data)))))

(ert-deftest ossl-crypto/aead-interop-gnutls ()
  "AES-GCM and ChaCha20-Poly1305 against `gnutls-symmetric-encrypt', both ways.
GnuTLS's Emacs API returns (OUTPUT IV), appends the 16-byte tag as
ossl does, wipes the key string it is given, and wants the plaintext
to be a multiple of the block size."
  (skip-unless (and (fboundp 'gnutls-symmetric-encrypt)
                    (assq 'AES-256-GCM (gnutls-ciphers))))
  (let ((data (substring ossl-crypto-tests--data 0 (* 16 6000)))
        (aad "associated data"))
    (dolist (c '(AES-256-GCM AES-128-GCM CHACHA20-POLY1305))
      (let* ((key (ossl-rand-bytes (ossl-cipher-key-length c)))
             (iv (ossl-rand-bytes (ossl-cipher-iv-length c)))
             (ours (ossl-encrypt c data key iv aad))
             (theirs (gnutls-symmetric-encrypt c (copy-sequence key) iv data aad)))
        (should (equal (cadr theirs) iv))
        (ossl-crypto-tests--same ours (car theirs))
        (ossl-crypto-tests--same (car (gnutls-symmetric-decrypt c (copy-sequence key) iv ours aad)) data)
        (ossl-crypto-tests--same (ossl-decrypt c (car theirs) key iv aad) data)))))

(ert-deftest ossl-crypto/aead-tampering ()
  "A changed ciphertext byte, tag byte, AAD, key or IV: an error, no plaintext."
  (dolist (c '(aes-256-gcm aes-128-ccm aes-128-ocb chacha20-poly1305 aes-128-siv))
    (let* ((plain "The eagle lands at midnight; bring the codes.")
           (key (ossl-rand-bytes (ossl-cipher-key-length c)))
           (iv (and (> (ossl-cipher-iv-length c) 0)
                    (ossl-rand-bytes (ossl-cipher-iv-length c))))
           (ct (ossl-encrypt c plain key iv "aad"))
           (flip (lambda (s i) (let ((s (copy-sequence s)))
                                 (aset s i (logxor (aref s i) 1)) s)))
           (attempts
            (list (list (funcall flip ct 0) key iv "aad")
                  (list (funcall flip ct (1- (length ct))) key iv "aad")
                  (list ct key iv "aaX")
                  (list ct key iv nil)
                  (list ct (funcall flip key 3) iv "aad")
                  (and iv (list ct key (funcall flip iv 0) "aad"))
                  (list (substring ct 0 -1) key iv "aad")
                  (list (concat ct "x") key iv "aad"))))
      (should (equal (ossl-decrypt c ct key iv "aad") plain))
      (dolist (a (delq nil attempts))
        (let ((err (should-error (apply #'ossl-decrypt c a) :type 'ossl-crypto-error)))
          (should-not (string-search "eagle" (prin1-to-string err)))
          (should-not (string-search key (prin1-to-string err)))))
      (ossl-crypto-tests--should-error (ossl-decrypt c (substring ct 0 15) key iv "aad")
                                       "shorter than its 16-byte tag"))))

(ert-deftest ossl-crypto/cipher-lengths ()
  "Wrong key and IV lengths are errors naming the expected length."
  (let ((k32 (make-string 32 ?k)) (iv12 (make-string 12 ?i)))
    (ossl-crypto-tests--should-error (ossl-encrypt 'aes-256-gcm "x" (make-string 16 ?k) iv12)
                                     "needs a 32-byte key, not 16 bytes")
    (ossl-crypto-tests--should-error (ossl-encrypt 'aes-256-gcm "x" (make-string 33 ?k) iv12)
                                     "needs a 32-byte key, not 33 bytes")
    (ossl-crypto-tests--should-error (ossl-encrypt 'aes-256-gcm "x" "" iv12)
                                     "empty key.*32-byte")
    (ossl-crypto-tests--should-error (ossl-encrypt 'aes-256-gcm "x" k32)
                                     "needs a 12-byte IV")
    (ossl-crypto-tests--should-error (ossl-encrypt 'aes-256-gcm "x" k32 (make-string 16 ?i))
                                     "needs a 12-byte IV, not 16 bytes")
    (ossl-crypto-tests--should-error (ossl-decrypt 'aes-256-cbc (make-string 16 0) k32 iv12)
                                     "needs a 16-byte IV, not 12 bytes")
    (ossl-crypto-tests--should-error (ossl-encrypt 'aes-256-ecb "x" k32 iv12) "takes no IV")
    (ossl-crypto-tests--should-error (ossl-encrypt 'aes-256-cbc "x" k32 (make-string 16 0) "aad")
                                     "not an AEAD cipher")
    ;; CBC with the wrong key: bad padding, an error (most of the time,
    ;; a 1 in 256 chance of a valid-looking pad: a fixed key here).
    (let ((ct (ossl-encrypt 'aes-256-cbc "attack at dawn" k32 (make-string 16 0))))
      (ossl-crypto-tests--should-error
       (ossl-decrypt 'aes-256-cbc ct (make-string 32 ?K) (make-string 16 0))
       "cannot decrypt")
      (ossl-crypto-tests--should-error
       (ossl-decrypt 'aes-256-cbc (substring ct 0 10) k32 (make-string 16 0))
       "cannot decrypt"))))

(ert-deftest ossl-crypto/unknown-algorithms ()
  "Unknown names are `ossl-crypto-error's that list the near ones."
  (let ((e (ossl-crypto-tests--should-error (ossl-digest 'sha257 "x")
                                            "Unknown digest sha257")))
    (should (string-match-p "sha256" (cadr e))))
  (ossl-crypto-tests--should-error (ossl-hmac "SHA-2566" "x" "k") "did you mean.*sha-256")
  (ossl-crypto-tests--should-error (ossl-encrypt 'aes-256-gmc "x" "k" "i")
                                   "Unknown cipher aes-256-gmc; did you mean.*aes-256-gcm")
  (ossl-crypto-tests--should-error (ossl-cipher-iv-length 'chacha20-poly1350)
                                   "chacha20-poly1305")
  (ossl-crypto-tests--should-error (ossl-digest 'no-such-thing-at-all "x")
                                   "see `ossl-available-digests'")
  (ossl-crypto-tests--should-error (ossl-pbkdf2 'shaa1 "p" "s" 1 20) "sha1")
  (ossl-crypto-tests--should-error (ossl-bytes-to-key 'aes-256-cbd 'sha256 nil "p" 1)
                                   "aes-256-cbc")
  ;; A megabyte of name: no near names (Emacs 28's `string-distance'
  ;; crashes on it, found by fuzz-api), and a short message.
  (let ((e (should-error (ossl-encrypt (make-string (* 1024 1024) ?A) "x" "k")
                         :type 'ossl-crypto-error)))
    (should (< (length (cadr e)) 200))))

(ert-deftest ossl-crypto/wrong-types ()
  "Every function refuses wrong types with `wrong-type-argument'."
  (let ((k (make-string 32 ?k)) (iv (make-string 12 ?i)))
    (dolist (form `((ossl-digest nil "x") (ossl-digest 42 "x") (ossl-digest "" "x")
                    (ossl-digest 'sha256 42) (ossl-digest 'sha256 nil)
                    (ossl-digest 'sha256 'data) (ossl-digest-size 7)
                    (ossl-digest-file 'sha256 42) (ossl-hmac 'sha256 "x" nil)
                    (ossl-hmac 'sha256 [1 2] "k") (ossl-hmac '(sha256) "x" "k")
                    (ossl-pbkdf2 'sha256 "p" "s" "1" 20) (ossl-pbkdf2 'sha256 "p" "s" 1 2.0)
                    (ossl-hkdf 'sha256 nil nil nil 32) (ossl-scrypt "p" "s" "16" 1 1 32)
                    (ossl-bytes-to-key 'aes-128-cbc 'md5 42 "p" 1)
                    (ossl-encrypt 'aes-256-gcm 42 ,k ,iv) (ossl-encrypt 'aes-256-gcm "x" 42 ,iv)
                    (ossl-encrypt 'aes-256-gcm "x" ,k 42) (ossl-encrypt 'aes-256-gcm "x" ,k ,iv 42)
                    (ossl-decrypt 'aes-256-gcm nil ,k ,iv) (ossl-encrypt nil "x" ,k ,iv)
                    (ossl-cipher-bits 3.5) (ossl-rand-bytes "8")))
      (should-error (eval form t) :type 'wrong-type-argument))
    ;; A killed buffer is no data.
    (let ((b (generate-new-buffer " dead")))
      (kill-buffer b)
      (should-error (ossl-digest 'sha256 b) :type 'wrong-type-argument))))

(ert-deftest ossl-crypto/hmac-bad-input ()
  "HMAC refuses empty keys and digests that cannot key it."
  (ossl-crypto-tests--should-error (ossl-hmac 'sha256 "x" "") "empty HMAC key")
  (ossl-crypto-tests--should-error (ossl-hmac 'null "x" "k") "cannot key")
  (ossl-crypto-tests--should-error (ossl-hmac 'shake256 "x" "k") "cannot key"))

(ert-deftest ossl-crypto/no-secrets-in-errors ()
  "Errors never carry key, IV, password or plaintext bytes."
  (let* ((key "KEYKEYKEYKEYKEYKEYKEYKEYKEYKEY!!") ; 32 bytes
         (iv "IVIVIVIVIVIV")
         (errs (list (should-error (ossl-encrypt 'aes-256-gcm "PLAIN" (concat key "x") iv))
                     (should-error (ossl-encrypt 'aes-256-gcm "PLAIN" key (concat iv "x")))
                     (should-error (ossl-decrypt 'aes-256-gcm "PLAINPLAINPLAINPLAIN" key iv))
                     (should-error (ossl-encrypt 'aes-256-gmc "PLAIN" key iv))
                     (should-error (ossl-hmac 'sha257 "PLAIN" key))
                     (should-error (ossl-pbkdf2 'sha256 key "salt" 0 32))
                     (should-error (ossl-hkdf 'sha256 key nil nil 100000))
                     (should-error (ossl-bytes-to-key 'aes-256-cbc 'sha256 "123456789" key 1)))))
    (dolist (e errs)
      (let ((printed (prin1-to-string e)))
        (should-not (string-search "KEYKEY" printed))
        (should-not (string-search "IVIV" printed))
        (should-not (string-search "PLAIN" printed))))))

(ert-deftest ossl-crypto/module-names-unique ()
  "No two C files of the module define the same Lisp name.
The second `EM_DEFUN' or `em_defun' would silently replace the
first (an early `ossl--cipher' of the crypto code did that to the
TLS one)."
  (let ((names nil))
    (dolist (f (directory-files (expand-file-name "../module/" ossl-test-directory)
                                t "\\.c\\'"))
      (with-temp-buffer
        (insert-file-contents f)
        (while (re-search-forward
                "\\(?:em_defun (env,\\|EM_DEFUN ([A-Za-z0-9_]+,\\) \"\\([^\"]+\\)\""
                nil t)
          (push (match-string 1) names))))
    (should (> (length names) 50))
    (should (equal (length names) (length (delete-dups (copy-sequence names)))))
    ;; And the TLS primitive is the one loaded.
    (should (equal (func-arity 'ossl--cipher) '(1 . 1)))))

(ert-deftest ossl-crypto/names-as-given ()
  "Messages name an algorithm as the caller spelled it, whatever came before."
  (let ((k (make-string 32 ?k)) (iv (make-string 12 ?i)))
    (dolist (c '(AES-256-GCM aes-256-gcm "Aes-256-Gcm"))
      (let ((e (should-error (ossl-encrypt c "x" k) :type 'ossl-crypto-error)))
        (should (string-prefix-p (format "%s needs a 12-byte IV" c) (cadr e)))))
    (should (equal (ossl-decrypt 'aes-256-gcm (ossl-encrypt "AES-256-GCM" "x" k iv) k iv)
                   "x"))))

(ert-deftest ossl-crypto/primitives-wrong-types ()
  "Each module primitive, given a wrong type in each place, signals cleanly.
\(The fuzzer found a free of an uninitialized pointer this way.)"
  (let ((k (make-string 32 ?k)) (iv (make-string 12 ?i)))
    (dolist (call `((ossl--digest "sha256" "x") (ossl--digest-file "sha256" ,(ossl-test-file "root.pem"))
                    (ossl--hmac "sha256" "x" "k") (ossl--digest-info "sha256")
                    (ossl--cipher-info "aes-128-gcm") (ossl--rand-bytes 3)
                    (ossl--bytes-to-key "aes-128-cbc" "sha256" "12345678" "pw" 1)
                    (ossl--pbkdf2 "sha256" "pw" "salt" 1 16)
                    (ossl--hkdf "sha256" "key" "salt" "info" 16)
                    (ossl--scrypt "pw" "salt" 16 1 1 16)
                    (ossl--crypt "aes-256-gcm" t "data" ,k ,iv "aad")))
      (apply (car call) (cdr call))
      (dotimes (i (length (cdr call)))
        (dolist (junk '(undecided [1] 2.5))
          (let ((args (copy-sequence (cdr call))))
            (setf (nth i args) junk)
            (unless (and (eq (car call) 'ossl--crypt) (= i 1))
              (should-error (apply (car call) args) :type 'wrong-type-argument))))))))

(ert-deftest ossl-crypto/secrets-wiped-from-freed-memory ()
  "No block the module or libcrypto frees still holds a key, an IV, a
password or decrypted plaintext (that of a failed authentication too).
The free checker of ossl-rel/secrets-wiped-from-freed-memory runs in
a child Emacs; a control needle, hashed as plain data, which is not
wiped, proves it sees the module's frees."
  (unless (fboundp 'ossl-rel--freecheck-run)
    (ert-skip "needs ossl-reliability-tests.el loaded"))
  (let* ((key "crypto-key-0123456789abcdefghijk")
         (iv "crypto-iv-12")
         (password "crypto-password-4711")
         (plain "decrypted-plaintext-abc")
         (control "control-needle-not-secret")
         (form
          `(progn
             (require 'ossl)
             (dotimes (_ 3)
               (ossl-hmac 'sha256 "data" ,key)
               (ossl-hkdf 'sha256 ,key "salt" "info" 32)
               (ossl-pbkdf2 'sha256 ,password "salt" 10 32)
               (ossl-scrypt ,password "salt" 16 1 1 32)
               (ossl-bytes-to-key 'aes-256-cbc 'sha256 nil ,password 1)
               (dolist (c '(aes-256-gcm chacha20-poly1305 aes-256-ccm))
                 (let ((ct (ossl-encrypt c ,plain ,key ,iv "aad")))
                   (ossl-decrypt c ct ,key ,iv "aad")
                   (ignore-errors (ossl-decrypt c ct ,key ,iv "other aad"))))
               (ignore-errors (ossl-encrypt 'aes-256-gcm ,plain ,key "short iv"))
               (ossl-digest 'sha256 ,control)
               (garbage-collect)))))
    (pcase-let ((`(,status ,_checked ,hits)
                 (ossl-rel--freecheck-run form (list key iv password plain control))))
      (should (eq status 0))
      ;; Needle 4 is the control: it must be seen, and only it.
      (should (cl-some (lambda (l) (string-prefix-p "HIT 4 " l)) hits))
      (should-not (cl-remove-if (lambda (l) (string-prefix-p "HIT 4 " l)) hits)))))

;;;; The SXEmacs manual's examples

(ert-deftest ossl-crypto/sxemacs-examples ()
  "The results the SXEmacs manual printed, from the same calls.
SXEmacs ignored SALT in `ossl-bytes-to-key': its keys are ours with SALT nil."
  (should (equal (encode-hex-string (ossl-digest 'md5 "hash me"))
                 "17b31dce96b9d6c6d0a6ba95f47796fb"))
  (should (equal (encode-hex-string (ossl-digest 'SHA1 "hash me"))
                 "43f932e4f7c6ecd136a695b7008694bb69d517bd"))
  (should (equal (encode-hex-string (ossl-hmac 'SHA512 "string to hash" "secret"))
                 "62351dfae2030fb28058a2aeba6ce3597d803575c120109ed6cfee240d750e71ffff1d8dfc8d52e666549dcb6ba95fb4d550bdc9f31178c19fecb430ddb7b565"))
  (should (equal (encode-hex-string (ossl-hmac 'SHA512 "string to hash" "false"))
                 "44afb8f67ea7f66693e891e79b7295569163e3e6faebd47d2a63e564778c72221cbb4cdff01ff1052ea98d2058f33c1ecf48f0c45bb64e526a81d8f389436ab0"))
  (let ((pair (ossl-bytes-to-key 'AES-256-OFB 'SHA512 nil "secret" 1)))
    (should (equal (encode-hex-string (car pair))
                   "bd2b1aaf7ef4f09be9f52ce2d8d599674d81aa9d6a4421696dc4d93dd0619d68"))
    (should (equal (encode-hex-string (cdr pair)) "2ce56b4d64a9ef097761ced99e0f6726")))
  (should (equal (encode-hex-string
                  (car (ossl-bytes-to-key 'AES-256-OFB 'SHA512 nil "retsec" 1)))
                 "38515c1868bcab470075ec32bc79b0ed1aa945de95d2261991ea840921e7747b"))
  (let ((key (ossl-bytes-to-key 'AES-256-OFB 'SHA512 nil "secret" 10)))
    (should (equal (encode-hex-string (ossl-encrypt 'AES-256-OFB "Very secret text." key))
                   "bbedc78c88eddea29c8653f551da391091"))
    (should (equal (ossl-decrypt 'AES-256-OFB
                                 (decode-hex-string "bbedc78c88eddea29c8653f551da391091")
                                 key)
                   "Very secret text.")))
  ;; With the salt, which ossl uses, the key differs.
  (should-not (equal (ossl-bytes-to-key 'AES-256-OFB 'SHA512 "somesalt" "secret" 1)
                     (ossl-bytes-to-key 'AES-256-OFB 'SHA512 "diffsalt" "secret" 1))))

;;;; The manual's examples

(defconst ossl-crypto-tests--manual
  (expand-file-name "../doc/ossl.texi" ossl-test-directory)
  "The manual.")

(defun ossl-crypto-tests--texi-examples (chapter)
  "The @example blocks of CHAPTER in the manual, as Lisp text.
Each is (CHECKED . TEXT): TEXT with Texinfo markup undone and
\"@result{}\" as \"=>\"; CHECKED is nil for blocks marked
\"@c unchecked\" (results that depend on the machine)."
  (with-temp-buffer
    (insert-file-contents ossl-crypto-tests--manual)
    (goto-char (point-min))
    (re-search-forward (concat "^@chapter " (regexp-quote chapter) "$"))
    (let ((end (save-excursion (if (re-search-forward "^@chapter " nil t)
                                   (point) (point-max))))
          blocks)
      (while (re-search-forward "^@example\n" end t)
        (let* ((start (point))
               (stop (progn (re-search-forward "^@end example$") (match-beginning 0)))
               (text (buffer-substring-no-properties start stop))
               (checked (not (string-match-p "^@c unchecked$" text))))
          (dolist (rule '(("^@c .*\n" . "") ("^@\\(end \\)?group\n" . "")
                          ("@result{}" . "=>") ("@dots{}" . "...")
                          ("@{" . "{") ("@}" . "}") ("@@" . "@")))
            (setq text (replace-regexp-in-string (car rule) (cdr rule) text t t)))
          (push (cons checked text) blocks)))
      (nreverse blocks))))

(ert-deftest ossl-crypto/manual-examples ()
  "Every example of the manual's Cryptography chapter gives the result shown.
Forms are evaluated in order; a form followed by \"=> VALUE\" must
return something `equal' to VALUE."
  (let ((blocks (ossl-crypto-tests--texi-examples "Cryptography"))
        (checked 0))
    (should (> (length blocks) 10))
    (dolist (block blocks)
      (let ((text (cdr block)) (pos 0))
        (while (string-match "\\`[ \t\n]*[^ \t\n]" (substring text pos))
          (pcase-let* ((`(,form . ,next) (read-from-string text pos))
                       (value (eval form t)))
            (setq pos next)
            (when (string-match "\\`[ \t\n]*=>" (substring text pos))
              (pcase-let ((`(,want . ,after)
                           (read-from-string text (+ pos (match-end 0)))))
                (setq pos after)
                (when (car block)
                  (cl-incf checked)
                  (should (equal (list form value) (list form want))))))))))
    ;; The examples with results, all of them (39 when written).
    (should (> checked 35))))

(provide 'ossl-crypto-tests)
;;; ossl-crypto-tests.el ends here
