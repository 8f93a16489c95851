;;; lint.el --- package-lint and checkdoc on ossl's Lisp  -*- lexical-binding: t; -*-

;;; Commentary:

;; Usage (what `make lint', part of `make test', runs):
;;
;;   emacs -Q --batch -l build/lint.el lisp/*.el
;;
;; Runs package-lint (Debian's elpa-package-lint, or one installed with
;; package.el) with ossl.el as the main file, and checkdoc, on each
;; file given; checks that every user option says which ossl version
;; introduced it (:package-version).  Prints each problem as
;; FILE:LINE: MESSAGE, then a count, and exits with status 1 when there
;; is any problem, 0 otherwise.
;;
;; One adjustment: package-lint 0.16 (Debian 12's) predates Emacs 28's
;; release and warns that requiring Emacs 28 "makes the package
;; uninstallable in all released Emacs versions".  An Emacs version no
;; newer than the one running this check is released, so that warning
;; is dropped for it; any other requirement is still checked.  And
;; one exception: `with-eval-after-load' is accepted for cl-print only
;; (see `ossl-lint--cl-print-deferral-p').

;;; Code:

(require 'cl-lib)
(require 'checkdoc)

(defvar package-lint-main-file)
(declare-function package-lint-buffer "package-lint" (&optional buffer))

(defconst ossl-lint-package-lint-dirs
  '("/usr/share/emacs/site-lisp/elpa-src/" "/usr/share/emacs/site-lisp/elpa/")
  "Where Debian installs elpa-package-lint.")

(defun ossl-lint--load-package-lint ()
  "Load package-lint, from `load-path', package.el or Debian's directories."
  (unless (require 'package-lint nil t)
    (package-initialize)
    (unless (require 'package-lint nil t)
      (dolist (dir ossl-lint-package-lint-dirs)
        (dolist (d (and (file-directory-p dir)
                        (directory-files dir t "\\`package-lint-[0-9.]+\\'")))
          (add-to-list 'load-path d)))
      (unless (require 'package-lint nil t)
        (error "lint: package-lint not found: install elpa-package-lint (Debian) or M-x package-install package-lint")))))

(defun ossl-lint--released-emacs (orig valid-deps)
  "Call ORIG on VALID-DEPS without the Emacs versions no newer than this one."
  (funcall orig (cl-remove-if
                 (lambda (dep)
                   (and (eq (car dep) 'emacs)
                        (version-list-<= (cadr dep) (version-to-list emacs-version))))
                 valid-deps)))

(defun ossl-lint--cl-print-deferral-p (line)
  "Non-nil if LINE of the current buffer opens `(with-eval-after-load \='cl-print'.
The printed forms of ossl's objects are `cl-print-object' methods
defined once cl-print loads: only `cl-prin1' uses them, and defining
them at load time makes Emacs 30 byte-compile a dispatcher, loading
the byte compiler with ossl.  package-lint warns about every
`with-eval-after-load'; that one is meant."
  (save-excursion
    (goto-char (point-min))
    (forward-line (1- line))
    (looking-at-p "[ \t]*(with-eval-after-load 'cl-print\\_>")))

(defun ossl-lint--package-lint (file main)
  "Problems package-lint finds in FILE, whose package's main file is MAIN."
  (with-temp-buffer
    (insert-file-contents file t)
    (emacs-lisp-mode)
    (let ((package-lint-main-file main))
      (delq nil
            (mapcar (pcase-lambda (`(,line ,_col ,type ,message))
                      (unless (and (string-match-p "`with-eval-after-load'" message)
                                   (ossl-lint--cl-print-deferral-p line))
                        (format "%s:%d: package-lint %s: %s"
                                (file-name-nondirectory file) line type message)))
                    (package-lint-buffer))))))

(defun ossl-lint--checkdoc (file)
  "Problems checkdoc finds in FILE."
  (let ((found nil))
    (with-current-buffer (find-file-noselect file)
      (let ((checkdoc-create-error-function
             (lambda (text start _end &optional _unfixable)
               (push (format "%s:%d: checkdoc: %s" (file-name-nondirectory file)
                             (line-number-at-pos (or start (point-min))) text)
                     found)
               nil))
            (checkdoc-autofix-flag nil)
            (checkdoc-generate-compile-warnings-flag nil)
            (checkdoc-diagnostic-buffer (generate-new-buffer " *checkdoc*")))
        (unwind-protect
            (save-excursion (checkdoc-current-buffer t))
          (kill-buffer checkdoc-diagnostic-buffer))))
    (nreverse found)))

(defun ossl-lint--options (file)
  "The user options of FILE without :package-version, as problems."
  (let ((found nil))
    (with-temp-buffer
      (insert-file-contents file)
      (goto-char (point-min))
      (condition-case nil
          (while t
            (forward-comment (buffer-size))
            (let* ((line (line-number-at-pos))
                   (form (read (current-buffer))))
              (when (and (eq (car-safe form) 'defcustom)
                         (not (plist-member (nthcdr 4 form) :package-version)))
                (push (format "%s:%d: %s has no :package-version"
                              (file-name-nondirectory file) line (nth 1 form))
                      found))))
        (end-of-file nil)))
    (nreverse found)))

(defun ossl-lint-main ()
  "Lint the files on the command line; print the problems and exit."
  (ossl-lint--load-package-lint)
  (advice-add 'package-lint--check-emacs-version :around #'ossl-lint--released-emacs)
  (let* ((files (mapcar #'expand-file-name command-line-args-left))
         (main (or (cl-find "ossl.el" files :key #'file-name-nondirectory
                            :test #'equal)
                   (error "lint: ossl.el is not among the files")))
         (lint (cl-mapcan (lambda (f) (ossl-lint--package-lint f main)) files))
         (doc (cl-mapcan #'ossl-lint--checkdoc files))
         (options (cl-mapcan #'ossl-lint--options files))
         (problems (append lint doc options)))
    (setq command-line-args-left nil)
    (dolist (p problems) (message "%s" p))
    (message "lint: %d file%s: package-lint %d, checkdoc %d, options %d"
             (length files) (if (cdr files) "s" "")
             (length lint) (length doc) (length options))
    (kill-emacs (if problems 1 0))))

(when noninteractive
  (ossl-lint-main))

;;; lint.el ends here
