;;; ossl-view-chain-tests.el --- Tests of lisp/ossl-view-chain.el  -*- lexical-binding: t; -*-

;;; Commentary:

;; Judging a chain: name matching, ports, wrapping.

;;; Code:

(require 'ert)
(require 'ossl-view-chain)
(require 'ossl-test-lib)

(ert-deftest ossl-view/name-matching ()
  "Host names against DNS and IP subjectAltNames, with wildcard rules."
  (should (ossl-view--dns-match-p "*.example.org" "www.example.org"))
  (should (ossl-view--dns-match-p "*.example.org" "WWW.Example.ORG."))
  (should-not (ossl-view--dns-match-p "*.example.org" "a.b.example.org"))
  (should-not (ossl-view--dns-match-p "*.example.org" "example.org"))
  (should (ossl-view--dns-match-p "example.org" "example.org"))
  (let ((info '(:subject "/CN=x" :subject-alt-names
                         ((dns . "a.test") (dns . "*.b.test") (ip . "127.0.0.1")))))
    (should (equal (ossl-view--name-match "a.test" info) "DNS:a.test"))
    (should (equal (ossl-view--name-match "x.b.test" info) "DNS:*.b.test"))
    (should (equal (ossl-view--name-match "127.0.0.1" info) "IP:127.0.0.1"))
    (should-not (ossl-view--name-match "c.test" info))
    (should-not (ossl-view--name-match "x" info)))
  ;; No DNS SAN: the CN counts.
  (should (ossl-view--name-match "old.test" '(:subject "/CN=old.test"))))

(ert-deftest ossl-view/ports-and-wrapping ()
  "Port parsing, STARTTLS guesses and line wrapping."
  (should (eql (ossl-view--parse-port "993") 993))
  (should (equal (ossl-view--parse-port "imaps") "imaps"))
  (should (eql (ossl-view--parse-port "") 443))
  (should (eq (ossl-view--starttls-for-port 587) 'smtp))
  (should (eq (ossl-view--starttls-for-port "imap") 'imap))
  (should (eq (ossl-view--starttls-for-port 110) 'pop3))
  (should-not (ossl-view--starttls-for-port 443))
  (should-not (ossl-view--starttls-for-port 993))
  (should (equal (ossl-view--wrap "aa bb cc dd" 5) '("aa bb" "cc dd")))
  (should (equal (ossl-view--host-port "::1" 443) "[::1]:443")))

(provide 'ossl-view-chain-tests)

;;; ossl-view-chain-tests.el ends here
