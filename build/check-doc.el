;;; check-doc.el --- Check that every public definition is documented  -*- lexical-binding: t; -*-

;;; Commentary:

;; Usage (what `make check-doc' runs):
;;
;;   emacs -Q --batch -l build/check-doc.el
;;
;; Reads every lisp/*.el without loading it (no module needed) and
;; collects the public definitions: names starting with "ossl-" and
;; without "--" (ossl--x and ossl-view--x are private), made by defun, defmacro, cl-defun, cl-defmacro, defsubst,
;; cl-defgeneric, defalias, defcustom, defvar, defvar-local, defconst,
;; defface, define-minor-mode, define-globalized-minor-mode,
;; define-derived-mode, define-error, and the predicates and slot
;; accessors of cl-defstruct.  Then it fails, listing each problem, when
;;
;;  - a definition has no docstring (errors need none: their message
;;    is their documentation);
;;  - doc/ossl.texi has no reference entry for it: @deffn Command for
;;    commands (anything interactive, major and minor modes), @defun,
;;    @defmac or @deffn Command for functions and macros, @defopt,
;;    @defvar or @deffn {User Option} for variables, @deffn Face for
;;    faces, @deffn Condition for errors;
;;  - the manual has an entry for an ossl- name that no file defines;
;;  - makeinfo (when installed) cannot build the manual.
;;
;; The exit status is 0 when all is well, 1 otherwise.

;;; Code:

(require 'cl-lib)
(require 'subr-x)

(defvar check-doc-root
  (file-name-directory
   (directory-file-name
    (file-name-directory (or load-file-name buffer-file-name default-directory))))
  "The top directory of the checkout.")

(defconst check-doc-wrappers
  '(progn eval-and-compile eval-when-compile with-eval-after-load when unless
          if with-no-warnings cl-eval-when prog1 prog2 save-current-buffer)
  "Forms whose insides may hold top-level definitions.")

(defun check-doc--public-p (symbol)
  "Non-nil if SYMBOL is a public ossl name."
  (and (symbolp symbol)
       (let ((name (symbol-name symbol)))
         ;; ossl--x and ossl-view--x are private.
         (and (string-prefix-p "ossl-" name)
              (not (string-search "--" name))))))

(defun check-doc--unquote (form)
  "The symbol FORM quotes, or FORM."
  (if (and (consp form) (memq (car form) '(quote function))) (cadr form) form))

(defun check-doc--interactive-p (body)
  "Non-nil if the function BODY (after the arglist) has an interactive spec."
  (cl-some (lambda (f) (and (consp f) (eq (car f) 'interactive)))
           (cl-subseq body 0 (min 4 (length body)))))

(defun check-doc--doc (candidate)
  "CANDIDATE if it is a non-empty docstring, else nil."
  (and (stringp candidate) (not (string-empty-p (string-trim candidate)))
       candidate))

(defun check-doc--definitions (form)
  "The definitions FORM makes: a list of (NAME KIND DOC), DOC t when not needed."
  (when (consp form)
    (let ((head (car form)))
      (cond
       ((memq head check-doc-wrappers)
        (apply #'append (mapcar #'check-doc--definitions (cdr form))))
       ((memq head '(defun defmacro cl-defun cl-defmacro defsubst cl-defsubst
                           define-inline))
        (let ((body (nthcdr 3 form)))
          (list (list (nth 1 form)
                      (if (check-doc--interactive-p body) 'command 'function)
                      (and (cdr body) (check-doc--doc (car body)))))))
       ((eq head 'cl-defgeneric)
        (list (list (nth 1 form) 'function
                    (cl-find-if #'check-doc--doc (nthcdr 3 form)))))
       ((eq head 'defalias)
        (list (list (check-doc--unquote (nth 1 form)) 'function
                    (or (check-doc--doc (nth 3 form)) t))))
       ((eq head 'defcustom)
        (list (list (nth 1 form) 'variable (check-doc--doc (nth 3 form)))))
       ((memq head '(defvar defvar-local defconst))
        (and (cddr form)                ; (defvar x) only declares
             (list (list (nth 1 form) 'variable (check-doc--doc (nth 3 form))))))
       ((eq head 'defface)
        (list (list (nth 1 form) 'face (check-doc--doc (nth 3 form)))))
       ((eq head 'define-minor-mode)
        (list (list (nth 1 form) 'command (check-doc--doc (nth 2 form)))))
       ((eq head 'define-globalized-minor-mode)
        (list (list (nth 1 form) 'command (check-doc--doc (nth 4 form)))))
       ((eq head 'define-derived-mode)
        (list (list (nth 1 form) 'command (check-doc--doc (nth 4 form)))))
       ((eq head 'define-error)
        (list (list (check-doc--unquote (nth 1 form)) 'condition t)))
       ((eq head 'cl-defstruct)
        (let* ((spec (nth 1 form))
               (name (if (consp spec) (car spec) spec))
               (options (and (consp spec) (cdr spec)))
               (doc (check-doc--doc (nth 2 form)))
               (option (lambda (key)
                         (cl-find-if (lambda (o) (and (consp o) (eq (car o) key)))
                                     options)))
               (pred (funcall option :predicate))
               (conc (funcall option :conc-name))
               (prefix (if conc (format "%s" (or (cadr conc) ""))
                         (format "%s-" name)))
               (slots (if (stringp (nth 2 form)) (nthcdr 3 form) (nthcdr 2 form))))
          ;; The accessors are public names too, unless the conc-name
          ;; makes them private; they need a manual entry, not a
          ;; docstring of their own.
          (cons (list (if pred (cadr pred) (intern (format "%s-p" name)))
                      'function doc)
                (mapcar (lambda (slot)
                          (list (intern (format "%s%s" prefix
                                                (if (consp slot) (car slot) slot)))
                                'function t))
                        slots))))))))

(defun check-doc--implied (definition)
  "Names that DEFINITION makes without spelling them out (mode hooks, maps)."
  (pcase definition
    (`(,name command . ,_)
     (mapcar (lambda (suffix) (intern (format "%s%s" name suffix)))
             '("-hook" "-map" "-syntax-table" "-abbrev-table")))))

(defun check-doc--read-file (file)
  "The definitions in FILE: a list of (NAME KIND DOC FILE)."
  (with-temp-buffer
    (insert-file-contents file)
    (goto-char (point-min))
    (let ((defs nil))
      (condition-case nil
          (while t
            (dolist (d (check-doc--definitions (read (current-buffer))))
              (push (append d (list file)) defs)))
        (end-of-file nil))
      (nreverse defs))))

(defun check-doc--manual-entries (texi)
  "The reference entries of TEXI: an alist (NAME . KINDS)."
  (let ((entries nil))
    (with-temp-buffer
      (insert-file-contents texi)
      (goto-char (point-min))
      (while (re-search-forward
              "^@\\(def[a-z]+\\)x? +\\(?:{\\([^}]*\\)}\\|\\([^ \n]+\\)\\)\\(?: +\\([^ \n]+\\)\\)?"
              nil t)
        (let* ((command (match-string 1))
               (command (string-remove-suffix "x" command))
               (first (or (match-string 2) (match-string 3)))
               (second (match-string 4))
               (categorised (member command '("deffn" "defvr" "deftp")))
               (category (and categorised first))
               (name (if categorised second first))
               (kind (pcase command
                       ((or "defun" "defmac" "defspec" "defsubst") 'function)
                       ((or "defvar" "defopt") 'variable)
                       ((or "deffn" "defvr")
                        (pcase (downcase (or category ""))
                          ("command" 'command)
                          ((or "function" "macro" "special form") 'function)
                          ((or "user option" "variable" "constant") 'variable)
                          ("face" 'face)
                          ((or "condition" "error") 'condition))))))
          (when (and name kind)
            (push kind (alist-get (intern name) entries))))))
    entries))

(defun check-doc--entry-ok-p (kind kinds)
  "Non-nil if manual entries of KINDS document a definition of KIND."
  (pcase kind
    ('command (memq 'command kinds))
    ('function (or (memq 'function kinds) (memq 'command kinds)))
    (_ (memq kind kinds))))

(defun check-doc--makeinfo (texi)
  "Build TEXI with makeinfo into a temporary file; a problem string or nil."
  (let ((makeinfo (executable-find "makeinfo")))
    (if (not makeinfo)
        (progn (message "check-doc: makeinfo not found, the manual was not built")
               nil)
      (let ((out (make-temp-file "ossl-check-doc-" nil ".info")))
        (unwind-protect
            (with-temp-buffer
              (let ((status (call-process makeinfo nil t nil "--no-split"
                                          "-o" out texi)))
                (unless (eql status 0)
                  (format "makeinfo %s failed:\n%s" texi (buffer-string)))))
          (delete-file out))))))

(defun check-doc-problems (&optional root)
  "The documentation problems of the checkout at ROOT, a list of strings.
ROOT defaults to `check-doc-root'."
  (let* ((root (file-name-as-directory (or root check-doc-root)))
         (default-directory root)
         (texi (expand-file-name "doc/ossl.texi"))
         (files (directory-files (expand-file-name "lisp") t "\\`[^.].*\\.el\\'"))
         (files (cl-remove-if (lambda (f) (string-match-p "-autoloads\\.el\\'\\|-pkg\\.el\\'" f))
                              files))
         (all (apply #'append (mapcar #'check-doc--read-file files)))
         (public (cl-remove-if-not (lambda (d) (check-doc--public-p (car d))) all))
         (entries (if (file-exists-p texi) (check-doc--manual-entries texi)
                    nil))
         (problems nil))
    (unless (file-exists-p texi)
      (push (format "%s does not exist" texi) problems))
    (dolist (d public)
      (cl-destructuring-bind (name kind doc file) d
        (let ((where (file-relative-name file root)))
          (unless doc
            (push (format "%s: %s (%s) has no docstring" where name kind) problems))
          (unless (check-doc--entry-ok-p kind (alist-get name entries))
            (push (format "%s: %s (%s) has no %s entry in doc/ossl.texi"
                          where name kind
                          (pcase kind
                            ('command "@deffn Command")
                            ('function "@defun/@defmac")
                            ('variable "@defopt/@defvar")
                            ('face "@deffn Face")
                            ('condition "@deffn Condition")))
                  problems)))))
    (let ((defined (append (mapcar #'car all)
                           (apply #'append (mapcar #'check-doc--implied all)))))
      (dolist (e entries)
        (when (and (check-doc--public-p (car e)) (not (memq (car e) defined)))
          (push (format "doc/ossl.texi: %s has an entry but no lisp/*.el defines it"
                        (car e))
                problems))))
    (when (file-exists-p texi)
      (let ((p (check-doc--makeinfo texi)))
        (when p (push p problems))))
    (nreverse problems)))

(defun check-doc-main ()
  "Check the documentation of the checkout; print the problems and exit."
  (let ((problems (check-doc-problems)))
    (if problems
        (progn
          (dolist (p problems) (message "check-doc: %s" p))
          (message "check-doc: %d problem%s" (length problems)
                   (if (cdr problems) "s" ""))
          (kill-emacs 1))
      (message "check-doc: every public definition of lisp/*.el has a docstring and a manual entry")
      (kill-emacs 0))))

(defvar check-doc-no-main nil
  "Non-nil to load this file without running the check.")

(when (and noninteractive (not check-doc-no-main))
  (check-doc-main))

;;; check-doc.el ends here
