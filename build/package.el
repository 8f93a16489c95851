;;; package.el --- Autoloads and package descriptor for the ossl build  -*- lexical-binding: t; -*-

;;; Commentary:

;; Used by the Makefile, with the Emacs that builds:
;;
;;   emacs -Q --batch -l build/package.el -f ossl-build-autoloads DIR
;;     writes DIR/ossl-autoloads.el from the ;;;###autoload cookies of
;;     DIR/*.el (`make autoloads', part of `make');
;;
;;   emacs -Q --batch -l build/package.el -f ossl-build-descriptor MAIN DIR
;;     writes DIR/ossl-pkg.el from the headers of MAIN, ossl.el (its
;;     Version, Package-Requires, URL, Keywords...), for `make package'.

;;; Code:

(require 'package)

(defun ossl-build-autoloads ()
  "Write ossl-autoloads.el in the directory given on the command line."
  (let* ((dir (file-name-as-directory (expand-file-name (pop command-line-args-left))))
         (file (expand-file-name "ossl-autoloads.el" dir))
         (backup-inhibited t))
    (when (file-exists-p file) (delete-file file))
    (if (fboundp 'loaddefs-generate)
        ;; Emacs 29 and later.
        (loaddefs-generate dir file (list file))
      ;; Emacs 28.
      (with-no-warnings (make-directory-autoloads dir file)))
    (unless (file-exists-p file)
      (error "No autoloads written to %s" file))))

(defun ossl-build-descriptor ()
  "Write ossl-pkg.el from the main file, both given on the command line."
  (let* ((main (expand-file-name (pop command-line-args-left)))
         (file (expand-file-name "ossl-pkg.el" (pop command-line-args-left)))
         (desc (with-temp-buffer
                 (insert-file-contents main)
                 (package-buffer-info))))
    (package-generate-description-file desc file)
    ;; Emacs 30 warns about a file without lexical-binding, even one it
    ;; does not compile; Emacs 28's generator writes none.
    (with-temp-file file
      (insert-file-contents file)
      (unless (re-search-forward "lexical-binding" (line-end-position) t)
        (when (re-search-forward "-\\*- *" (line-end-position) t)
          (insert "lexical-binding: t; "))))))

;;; package.el ends here
