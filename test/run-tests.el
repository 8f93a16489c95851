;;; run-tests.el --- Batch ERT runner for the ossl test suite  -*- lexical-binding: t; -*-

;;; Commentary:

;; Usage:
;;
;;   emacs -Q --batch -L lisp -L test -l test/run-tests.el
;;
;; Loads every test/*-tests.el, runs the tests selected by the ERT
;; selector regexp in the environment variable OSSL_TEST_SELECTOR (all
;; tests when unset or empty), and prints as the very last line
;;
;;   N passed, N failed, N skipped
;;
;; then exits with status 0 when no test had an unexpected result (and
;; every test file loaded), 1 otherwise.  A test file that fails to
;; load counts as one failure.

;;; Code:

(require 'ert)
(require 'cl-lib)
(require 'subr-x)

(defvar ossl-run-tests-directory
  (file-name-directory (or load-file-name buffer-file-name))
  "The test directory.")

(defun ossl-run-tests--main ()
  "Load the test files, run the tests, print the summary and exit."
  (let ((load-failures 0)
        (selector (let ((s (getenv "OSSL_TEST_SELECTOR")))
                    (if (and s (not (string-empty-p s))) s t)))
        stats)
    (add-to-list 'load-path ossl-run-tests-directory)
    (dolist (file (directory-files ossl-run-tests-directory t "-tests\\.el\\'"))
      (unless (equal (file-name-nondirectory file) "run-tests.el")
        (condition-case err
            (load file nil t)
          (error
           (cl-incf load-failures)
           (message "ERROR loading %s: %s"
                    (file-name-nondirectory file) (error-message-string err))))))
    ;; Capture the stats object as soon as the run starts, so that the
    ;; summary is right even when the run is aborted.  No
    ;; `condition-case' around the run: ERT relies on its debugger being
    ;; called for errors, and an enclosing `error' handler would stop
    ;; that, turning every failure into an aborted run.
    (let ((capture (lambda (orig sel &optional listener &rest more)
                     (apply orig sel
                            (lambda (event &rest args)
                              (when (eq event 'run-started)
                                (setq stats (car args)))
                              (when listener (apply listener event args)))
                            more))))
      (advice-add 'ert-run-tests :around capture)
      (unwind-protect
          (ert-run-tests-batch selector)
        (advice-remove 'ert-run-tests capture)
        (ossl-run-tests--summary stats load-failures)))))

(defun ossl-run-tests--summary (stats load-failures)
  "Print the summary line for STATS and LOAD-FAILURES, then exit."
  (let* ((passed (if stats (ert-stats-completed-expected stats) 0))
         (skipped (if stats (ert-stats-skipped stats) 0))
         (not-run (if stats
                      (- (ert-stats-total stats) (ert-stats-completed stats))
                    0))
         (failed (+ (if stats (ert-stats-completed-unexpected stats) 1)
                    not-run
                    load-failures)))
    (when (> not-run 0)
      (message "%d test(s) aborted or not run, counted as failed" not-run))
    (message "%d passed, %d failed, %d skipped" passed failed skipped)
    (kill-emacs (if (zerop failed) 0 1))))

(ossl-run-tests--main)

;;; run-tests.el ends here
