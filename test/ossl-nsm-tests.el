;;; ossl-nsm-tests.el --- Tests of lisp/ossl-nsm.el  -*- lexical-binding: t; -*-

;;; Commentary:

;; The peer status in GnuTLS's shape and the Network Security Manager.

;;; Code:

(require 'ert)
(require 'ossl-network)
(require 'ossl-test-lib)

(ert-deftest ossl-network/peer-status-equals-gnutls ()
  "`gnutls-peer-status' of an ossl connection equals GnuTLS's, key for key.
Fingerprints, dates, names, algorithms, security levels and the
warnings for expired, not yet valid, wrong-name, self-signed and
untrusted certificates, for one issued by a certificate that is no CA
and for one with an unknown critical extension, under TLS 1.3 and
TLS 1.2."
  (skip-unless ossl-test-native-gnutls)
  (ossl-test-weak-file "by-leaf.pem")
  (ossl-test--concat-files (ossl-test-pki-directory) "by-leaf-full-chain.pem"
                           "by-leaf-chain.pem" "int.pem")
  (dolist (spec '(("server-chain.pem" "server.key")
                  ("server-rsa-chain.pem" "server-rsa.key"
                   "--priority=NORMAL:-VERS-ALL:+VERS-TLS1.2")
                  ("wrongname-chain.pem" "wrongname.key")
                  ("expired-chain.pem" "expired.key")
                  ("notyet-chain.pem" "notyet.key")
                  ("selfsigned-chain.pem" "selfsigned.key")
                  ("unknown-chain.pem" "unknown.key")
                  ("by-leaf-full-chain.pem" "by-leaf.key")
                  ("critical-ext-chain.pem" "critical-ext.key")))
    (ossl-test-with-peer (peer (ossl-test-gnutls-server
                                :cert (expand-file-name (nth 0 spec)
                                                        (ossl-test-pki-directory))
                                :key (expand-file-name (nth 1 spec)
                                                       (ossl-test-pki-directory))
                                :extra-args (nthcdr 2 spec)))
      (let* ((network-security-level 'low)
             (gnutls-trustfiles (list (ossl-test-file "root.pem")))
             (open (lambda ()
                     (let ((p (open-network-stream
                               "ossl-status" nil "localhost" (plist-get peer :port)
                               :type 'tls)))
                       (prog1 (list (gnutls-peer-status p) (ossl-process-conn p))
                         (delete-process p)))))
             (gnutls (funcall open))
             (ossl (ossl-test-with-network-mode
                     (let ((network-security-level 'low))
                       (funcall open)))))
        (should-not (nth 1 gnutls))
        (should (nth 1 ossl))
        (should (equal (car ossl) (car gnutls)))))))

(ert-deftest ossl-network/nsm-levels-and-exceptions ()
  "At `medium' a wrong-name host is refused in batch; an exception or `low' let it in."
  (ossl-test-with-peer (peer (ossl-test-gnutls-server
                              :cert (ossl-test-file "wrongname-chain.pem")
                              :key (ossl-test-file "wrongname.key")))
    (ossl-test-with-network-mode
      (let* ((port (plist-get peer :port))
             (open (lambda ()
                     (open-network-stream "ossl-nsm" nil "localhost" port
                                          :type 'tls :return-list t)))
             (refused (funcall open)))
        ;; Refused, and the reason says who, what and why.
        (should-not (car refused))
        (let ((why (plist-get (cdr refused) :error)))
          (should (string-match-p (format "localhost:%d" port) why))
          (should (string-match-p "Network Security Manager" why))
          (should (string-match-p "certificate host does not match hostname" why))
          (should (string-match-p "DNS:wrong\\.example, DNS:other\\.example" why)))
        ;; `low' lets it through.
        (let* ((network-security-level 'low)
               (r (funcall open))
               (status (gnutls-peer-status (car r))))
          (should (processp (car r)))
          (should (equal (plist-get status :warnings) '(:no-host-match)))
          (delete-process (car r))
          ;; The user answers "always": NSM stores an exception.
          (nsm-save-host "localhost" port status 'conditions
                         '(:no-host-match :verify-cert) 'always))
        (should (file-exists-p nsm-settings-file))
        (with-temp-buffer
          (insert-file-contents nsm-settings-file)
          (should (string-search (plist-get (plist-get (ossl-network-tests--status-of port)
                                                       :certificate)
                                            :public-key-id)
                                 (buffer-string))))
        ;; Accepted at `medium' from now on.
        (let ((r (funcall open)))
          (should (processp (car r)))
          (should (ossl-process-conn (car r)))
          (delete-process (car r)))))))

(defun ossl-network-tests--status-of (port)
  "The peer status of a `low' connection to PORT on localhost."
  (let* ((network-security-level 'low)
         (p (open-network-stream "ossl-nsm-status" nil "localhost" port :type 'tls)))
    (prog1 (gnutls-peer-status p) (delete-process p))))

(ert-deftest ossl-network/strict-verification ()
  "`gnutls-verify-error' makes the handshake itself refuse, with reasons."
  (ossl-test-with-peer (peer (ossl-test-gnutls-server
                              :cert (ossl-test-file "expired-chain.pem")
                              :key (ossl-test-file "expired.key")))
    (ossl-test-with-network-mode
      (let* ((port (plist-get peer :port))
             (gnutls-verify-error t)
             (before (length (process-list)))
             (err (should-error (open-network-stream "ossl-strict" nil "localhost" port
                                                     :type 'tls)
                                :type 'ossl-network-verify-error)))
        ;; Also a `gnutls-error', for code written for GnuTLS.
        (should (memq 'gnutls-error (get (car err) 'error-conditions)))
        (should (memq 'ossl-verify-error (get (car err) 'error-conditions)))
        (should (string-match-p (format "localhost:%d" port) (cadr err)))
        (should (string-match-p "expired on 2021-01-01" (cadr err)))
        (should (= before (length (process-list))))
        ;; Only the host name is enforced: an expired cert passes the
        ;; handshake, and `low' lets it through the NSM.
        (let* ((gnutls-verify-error '((".*" :hostname)))
               (network-security-level 'low)
               (p (open-network-stream "ossl-strict" nil "localhost" port :type 'tls)))
          (should (memq :expired (plist-get (gnutls-peer-status p) :warnings)))
          (delete-process p))
        ;; Directly through gnutls-negotiate, as url does.
        (let ((p (make-network-process :name "ossl-strict" :host "localhost"
                                       :service port)))
          (should-error (gnutls-negotiate :process p :hostname "localhost"
                                          :verify-error t)
                        :type 'gnutls-error)
          (should-not (process-live-p p)))))))

(provide 'ossl-nsm-tests)

;;; ossl-nsm-tests.el ends here
