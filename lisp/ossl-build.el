;;; ossl-build.el --- Build and load the ossl dynamic module  -*- lexical-binding: t; -*-

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

;; ossl's TLS engine is a dynamic module, ossl-module.so, built by make
;; from the C sources and the Makefile that come with ossl: in a
;; checkout, make at the top builds lisp/ossl-module.so; in an
;; installed package, the module is built inside the package
;; directory, beside the Lisp.  ossl.el loads it with
;; `ossl--load-module', which offers to build it when it is missing and
;; refuses one built from another version of ossl (it cannot be
;; unloaded once in, so it is checked before loading).  M-x
;; `ossl-module-compile' builds it in a `compilation-mode' buffer.
;;
;; The version of ossl is the Version header of ossl.el; the Makefile
;; compiles the same header into the module, which reports it through
;; `ossl-module-version'.
;;
;; This file loads without the module, so that the command works when
;; the module is missing or stale.

;;; Code:

(require 'cl-lib)
(require 'subr-x)

(define-error 'ossl-error "TLS error")
(define-error 'ossl-module-error "The ossl module cannot be used" 'ossl-error)

(defcustom ossl-always-compile-module nil
  "If non-nil, build a missing or stale module without asking."
  :type 'boolean
  :group 'ossl
  :package-version '(ossl . "0.1.0"))

(defconst ossl-package-version
  (eval-when-compile
    (with-temp-buffer
      (insert-file-contents
       (expand-file-name "ossl.el" (file-name-directory
                                    (or (macroexp-file-name) buffer-file-name))))
      (and (re-search-forward "^;; Version: *\\([^ \t\n]+\\)" nil t)
           (match-string-no-properties 1))))
  "The version of ossl: the Version header of ossl.el.
The module must be built from the same version; see
`ossl-module-version'.")

(defconst ossl--lisp-directory
  (file-name-directory (or load-file-name buffer-file-name default-directory))
  "The directory this file was loaded from.")

(declare-function ossl--module-version "ossl-module" ())

(defun ossl--module-file ()
  "The file name of the dynamic module."
  (expand-file-name (concat "ossl-module" module-file-suffix)
                    ossl--lisp-directory))

(defun ossl--module-source-directory ()
  "The directory with ossl's Makefile and module/ sources, or nil.
That is the top of a checkout, above lisp/, or the package directory."
  (cl-find-if (lambda (dir)
                (and (file-exists-p (expand-file-name "Makefile" dir))
                     (file-exists-p (expand-file-name "module/module.c" dir))))
              (list ossl--lisp-directory
                    (file-name-directory
                     (directory-file-name ossl--lisp-directory)))))

(defun ossl--module-file-version (file)
  "The version of ossl the module FILE was built from, or nil if it does not say."
  (with-temp-buffer
    (set-buffer-multibyte nil)
    (insert-file-contents-literally file)
    (and (re-search-forward "ossl-module-version:\\([!-~]+\\)\0" nil t)
         (match-string 1))))

(defun ossl-module-version ()
  "The version of ossl the loaded module was built from, a string.
Nil when no module is loaded, or when it is a module too old to say.
ossl loads a module only when its version is `ossl-package-version'."
  (and (fboundp 'ossl--module-version) (ossl--module-version)))

(defun ossl--how-to-build ()
  "How to build the module, in words."
  (format "M-x ossl-module-compile, or make in %s"
          (abbreviate-file-name (or (ossl--module-source-directory)
                                    ossl--lisp-directory))))

(defun ossl--module-problem (file)
  "Why the module FILE cannot be loaded, as a sentence; nil when it can."
  (if (not (file-exists-p file))
      (format "The ossl module %s is not built" (abbreviate-file-name file))
    (let ((version (ossl--module-file-version file)))
      (unless (equal version ossl-package-version)
        (format "The ossl module %s is stale: built from %s, but the Lisp is ossl %s"
                (abbreviate-file-name file)
                (if version (concat "ossl " version) "an ossl that did not record its version")
                ossl-package-version)))))

(defun ossl--make-failure (output)
  "The line of make's OUTPUT explaining why it failed."
  (let ((line (car (last (split-string output "\n" t "[ \t]+")))))
    (cond ((null line) "make printed nothing")
          ((string-match "\\*\\*\\* \\(.*?\\)\\.?  Stop\\.\\'" line)
           (match-string 1 line))
          (t line))))

;;;###autoload
(defun ossl-module-compile ()
  "Build the ossl dynamic module, showing the compiler's output.
Run make in the directory holding ossl's Makefile and C sources (the
top of the checkout, or the installed package) in the
`compilation-mode' buffer *ossl-module-compile*.  When the build fails,
signal `ossl-module-error' with the line that says why, for instance
the missing compiler or header and the package that provides it.  A
module already loaded stays in use until Emacs restarts."
  (interactive)
  (let* ((dir (or (ossl--module-source-directory)
                  (signal 'ossl-module-error
                          (list (format "No Makefile and C sources near %s: install ossl with package-vc or from its tarball (make package)"
                                        (abbreviate-file-name ossl--lisp-directory))))))
         (make (or (executable-find "make")
                   (signal 'ossl-module-error
                           '("Building the ossl module needs make: install make (Debian: make; Fedora: make; Homebrew: make)"))))
         (buffer (get-buffer-create "*ossl-module-compile*")))
    (with-current-buffer buffer
      (let ((inhibit-read-only t))
        (erase-buffer)
        (compilation-mode)
        (setq default-directory dir)
        (insert (format "make -C %s module\n" dir))
        (unless noninteractive
          (display-buffer buffer)
          (redisplay))
        (let* ((start (point))
               ;; Not a sub-make of whatever make started this Emacs.
               (process-environment
                (cl-remove-if (lambda (v) (string-match-p "\\`\\(MAKEFLAGS\\|MFLAGS\\|MAKELEVEL\\)=" v))
                              process-environment))
               (status (call-process make nil t t "module"
                                     (concat "MODULE_SUFFIX=" module-file-suffix)))
               (output (buffer-substring-no-properties start (point))))
          (insert (format "\nmake %s\n" (if (eql status 0) "finished"
                                          (format "failed (%s)" status))))
          (unless (eql status 0)
            (unless noninteractive (display-buffer buffer))
            (signal 'ossl-module-error
                    (list (format "Building the ossl module failed: %s (see %s)"
                                  (ossl--make-failure output) (buffer-name buffer))))))))
    (message "Built %s%s" (abbreviate-file-name (ossl--module-file))
             (if (featurep 'ossl-module) "; restart Emacs to use it" ""))))

(defvar ossl--declined nil
  "Non-nil once the user declined to build the module while ossl was compiled.")

(defun ossl--ask-to-build-p (problem)
  "Whether to build the module, whose PROBLEM is a sentence.
Ask, unless `ossl-always-compile-module' says yes or Emacs runs in
batch.  While ossl's own files are byte-compiled (package.el compiles
them when it installs ossl, and each loads ossl.el), ask only once."
  (or ossl-always-compile-module
      (and (not noninteractive)
           (let ((compiling (let ((file (bound-and-true-p byte-compile-current-file)))
                              (and (stringp file)
                                   (file-in-directory-p file ossl--lisp-directory)))))
             (unless (and compiling ossl--declined)
               (or (y-or-n-p (format "%s.  Build it now? " problem))
                   (progn (setq ossl--declined compiling) nil)))))))

(defun ossl--module-fail (message)
  "Forget that ossl is loaded, so that it is loaded again, and signal MESSAGE."
  (setq features (delq 'ossl features))
  (signal 'ossl-module-error (list message)))

(defun ossl--load-module ()
  "Load the dynamic module, building it first when it is missing or stale.
Ask before building, unless `ossl-always-compile-module' is non-nil;
in batch, signal instead of asking.  Signal `ossl-module-error' when
no good module can be loaded."
  (unless module-file-suffix
    (ossl--module-fail "This Emacs was built without dynamic module support"))
  (let* ((file (ossl--module-file))
         (problem (ossl--module-problem file)))
    (cond
     ((featurep 'ossl-module)
      (unless (equal (ossl-module-version) ossl-package-version)
        (when (and problem ossl-always-compile-module)
          (ossl-module-compile)
          (setq problem (ossl--module-problem file)))
        (ossl--module-fail
         (format "The ossl module loaded in this Emacs is stale: built from %s, but the Lisp is ossl %s; %s"
                 (if (ossl-module-version) (concat "ossl " (ossl-module-version))
                   "an ossl that did not record its version")
                 ossl-package-version
                 (if problem
                     (format "rebuild it with %s, then restart Emacs" (ossl--how-to-build))
                   "restart Emacs to load the new one")))))
     (t
      (when problem
        (if (ossl--ask-to-build-p problem)
            (progn (ossl-module-compile)
                   (setq problem (ossl--module-problem file))
                   (when problem
                     (ossl--module-fail (format "%s, even after building it" problem))))
          (ossl--module-fail (format "%s: build it with %s" problem
                                     (ossl--how-to-build)))))
      (module-load file)
      (unless (equal (ossl-module-version) ossl-package-version)
        (ossl--module-fail
         (format "The ossl module %s says it is version %s, but the Lisp is ossl %s; rebuild it with %s, then restart Emacs"
                 (abbreviate-file-name file) (ossl-module-version)
                 ossl-package-version (ossl--how-to-build))))))))

(provide 'ossl-build)

;;; ossl-build.el ends here
