;;; ossl-package-tests.el --- Tests for ossl as a package: autoloads, tarball, module  -*- lexical-binding: t; -*-

;;; Commentary:

;; Issue 12.  Each test runs the Emacs that runs the tests (28 or 30)
;; as a child, so that nothing is loaded yet, in a temporary HOME:
;;
;; - the autoloads that `make' writes offer every command, with nothing
;;   else loaded, and the viewer's own commands only in its buffers;
;; - `make package' writes a tarball that `package-install-file'
;;   installs; a fresh Emacs then has the commands and the manual,
;;   builds the module inside the package directory on first use, and
;;   coats a connection to a local TLS peer from a command;
;; - a module built from another version, or before modules recorded
;;   theirs, is refused before it is loaded, or rebuilt when
;;   `ossl-always-compile-module' is non-nil;
;; - a build without a C compiler or without the OpenSSL headers stops
;;   with one line that names what is missing and its package.

;;; Code:

(require 'ert)
(require 'cl-lib)
(require 'subr-x)
(require 'ossl)
(require 'ossl-test-lib)

(defconst ossl-package-tests--root
  (expand-file-name "../" ossl-test-directory)
  "The top of the checkout.")

(defconst ossl-package-tests--commands
  '(ossl-view-certificate-chain ossl-describe-connection
    ossl-view-certificate-file ossl-open-tls-stream
    ossl-starttls-current-buffer ossl-network-mode ossl-module-compile)
  "The commands M-x offers as soon as the autoloads are loaded.")

(defconst ossl-package-tests--mode-commands
  '(ossl-view-toggle-section ossl-view-next-section ossl-view-previous-section
    ossl-view-save-pem ossl-view-copy-fingerprint)
  "Commands of the viewer's buffers, not offered elsewhere.")

(defun ossl-package-tests--environment (&rest variables)
  "`process-environment' with VARIABLES (\"NAME=VALUE\"), as a user's shell has it.
Without LD_PRELOAD: the children (Emacs, make, the compiler) use a
module that make builds, not a sanitized one, so they get no sanitizer
runtime (under which a child Emacs hangs compiling a trampoline).
Without MAKEFLAGS, MFLAGS and MAKELEVEL: a make the tests start is not
a sub-make of the `make test' that runs them."
  (append variables
          (cl-remove-if (lambda (v)
                          (string-match-p "\\`\\(LD_PRELOAD\\|MAKEFLAGS\\|MFLAGS\\|MAKELEVEL\\)=" v))
                        process-environment)))

(defun ossl-package-tests--emacs (dir &rest args)
  "Run this Emacs in batch with ARGS, HOME being DIR; return (STATUS . OUTPUT)."
  (let ((process-environment (ossl-package-tests--environment (concat "HOME=" dir))))
    (with-temp-buffer
      (let ((status (apply #'call-process
                           (expand-file-name invocation-name invocation-directory)
                           nil t nil "-Q" "--batch" args)))
        (cons status (buffer-string))))))

(defun ossl-package-tests--child (dir program &rest args)
  "Evaluate PROGRAM in a child Emacs (HOME is DIR, ARGS before it).
PROGRAM prints its result with `prin1' on a line starting with
\"RESULT: \", with `print-escape-newlines' non-nil.  Return that result; fail the test with the child's
output when there is none."
  (let* ((run (apply #'ossl-package-tests--emacs dir
                     (append args (list "--eval"
                                        (prin1-to-string
                                         `(let ((print-escape-newlines t))
                                            ,program))))))
         (output (cdr run)))
    (if (string-match "^RESULT: \\(.*\\)$" output)
        (car (read-from-string (match-string 1 output)))
      (ert-fail (list "child Emacs printed no result" (car run) output)))))

(defmacro ossl-package-tests--with-directory (var &rest body)
  "Bind VAR to a fresh temporary directory while BODY runs, then delete it."
  (declare (indent 1))
  `(let ((,var (file-name-as-directory (make-temp-file "ossl-package-" t))))
     (unwind-protect (progn ,@body)
       (delete-directory ,var t))))

(defun ossl-package-tests--copy-sources (dir)
  "Copy the Makefile, module/ and lisp/*.el of the checkout into DIR.
Return DIR's lisp/ directory.  Nothing built comes along."
  (let ((root ossl-package-tests--root))
    (make-directory (expand-file-name "module" dir) t)
    (make-directory (expand-file-name "lisp" dir) t)
    (copy-file (expand-file-name "Makefile" root) dir)
    (dolist (f (directory-files (expand-file-name "module" root) t "\\.[ch]\\'"))
      (copy-file f (expand-file-name "module/" dir)))
    (dolist (f (directory-files (expand-file-name "lisp" root) t "\\`ossl.*\\.el\\'"))
      (unless (string-suffix-p "-autoloads.el" f)
        (copy-file f (expand-file-name "lisp/" dir))))
    (expand-file-name "lisp/" dir)))

(defun ossl-package-tests--make (dir &rest args)
  "Run make in DIR with ARGS; return (STATUS . OUTPUT)."
  (with-temp-buffer
    (let* ((default-directory dir)
           (process-environment (ossl-package-tests--environment))
           (status (apply #'call-process "make" nil t nil args)))
      (cons status (buffer-string)))))

;;;; Autoloads

(ert-deftest ossl-package/autoloads-offer-every-command ()
  "With lisp/ on `load-path' and ossl-autoloads loaded, M-x offers each command.
Nothing of ossl is loaded by that; the viewer's commands are offered
only in a viewer buffer once `read-extended-command-predicate' says so."
  (let ((autoloads (expand-file-name "lisp/ossl-autoloads.el"
                                     ossl-package-tests--root)))
    (should (file-exists-p autoloads))
    (ossl-package-tests--with-directory home
      (let ((result
             (ossl-package-tests--child
              home
              `(progn
                 (require 'cl-lib)
                 (require 'ossl-autoloads)
                 (let* ((commands ',ossl-package-tests--commands)
                        (offered (all-completions "ossl-" obarray #'commandp))
                        (before
                         (list :autoloaded
                               (cl-every (lambda (c) (autoloadp (symbol-function c)))
                                         commands)
                               :offered (cl-every (lambda (c) (member (symbol-name c) offered))
                                                  commands)
                               :loaded (cl-some #'featurep
                                                '(ossl ossl-view ossl-network ossl-module)))))
                   (require 'ossl-view)
                   (let ((elsewhere
                          (with-temp-buffer
                            (cl-remove-if-not
                             (lambda (c) (command-completion-default-include-p c (current-buffer)))
                             ',ossl-package-tests--mode-commands)))
                         (in-viewer
                          (with-temp-buffer
                            (ossl-view-mode)
                            (cl-remove-if-not
                             (lambda (c) (command-completion-default-include-p c (current-buffer)))
                             ',ossl-package-tests--mode-commands))))
                     (princ (format "RESULT: %S\n"
                                    (append before (list :elsewhere elsewhere
                                                         :in-viewer in-viewer)))))))
              "-L" (expand-file-name "lisp" ossl-package-tests--root))))
        (should (eq (plist-get result :autoloaded) t))
        (should (eq (plist-get result :offered) t))
        (should-not (plist-get result :loaded))
        (should-not (plist-get result :elsewhere))
        (should (equal (plist-get result :in-viewer)
                       ossl-package-tests--mode-commands))))))

;;;; The package tarball

(ert-deftest ossl-package/tarball-installs-and-works ()
  "`make package' writes a tarball that `package-install-file' installs.
In a temporary HOME, with `ossl-always-compile-module' non-nil: the
tarball holds the Lisp, the C sources, the Makefile and the manual with
its dir entry, but no tests and nothing built; installing it builds
the module inside the package directory (compiling the files that
load ossl.el is its first use) and byte-compiles every file.  Without
the module, a fresh Emacs has the commands autoloaded and the manual
in Info, builds the module again on first use, and a command coats a
connection to openssl s_server."
  (ossl-package-tests--with-directory dir
    (let* ((dist (expand-file-name "dist" dir))
           (make (ossl-package-tests--make
                  ossl-package-tests--root "package"
                  (concat "DISTDIR=" dist)
                  (concat "EMACS=" (expand-file-name invocation-name
                                                     invocation-directory))))
           (name (concat "ossl-" ossl-package-version))
           (tarball (expand-file-name (concat name ".tar") dist)))
      (unless (eql (car make) 0) (ert-fail (list "make package failed" make)))
      (should (file-exists-p tarball))
      (let ((members (split-string (with-temp-buffer
                                     (call-process "tar" nil t nil "-tf" tarball)
                                     (buffer-string))
                                   "\n" t)))
        (should (equal (car members) (concat name "/")))
        (dolist (f '("ossl.el" "ossl-pkg.el" "ossl-view.el" "ossl-network.el"
                     "ossl-build.el" "Makefile" "module/module.c" "module/engine.h"
                     "ossl.info" "dir"))
          (should (member (concat name "/" f) members)))
        (should-not (cl-some (lambda (m) (string-match-p
                                          "/test/\\|/bench/\\|\\.elc\\'\\|\\.o\\'\\|\\.so\\'\\|-autoloads\\.el\\'"
                                          m))
                             members)))
      (let* ((home (expand-file-name "home/" dir))
             (pkgdir (expand-file-name (concat ".emacs.d/elpa/" name "/") home))
             (installed
              (progn
                (make-directory home)
                (ossl-package-tests--child
                 home
                 `(progn
                    (setq package-archives nil ossl-always-compile-module t)
                    (package-initialize)
                    (package-install-file ,tarball)
                    (princ (format "RESULT: %S\n"
                                   (list :installed (package-installed-p 'ossl)
                                         :module-loaded (featurep 'ossl-module))))))))
             (elcs (mapcar (lambda (f) (concat f "c"))
                           (directory-files pkgdir nil "\\`ossl\\(-[a-z0-9]+\\)?\\.el\\'"))))
        (should (plist-get installed :installed))
        (should (plist-get installed :module-loaded))
        ;; Every file byte-compiled (the descriptor and autoloads are not).
        (dolist (elc elcs)
          (unless (member elc '("ossl-pkg.elc" "ossl-autoloads.elc"))
            (should (file-exists-p (expand-file-name elc pkgdir)))))
        (delete-file (expand-file-name "ossl-module.so" pkgdir))
        (ossl-test-with-peer (peer (ossl-test-openssl-server))
          (let ((used
                 (ossl-package-tests--child
                  home
                  `(progn
                     (setq package-archives nil ossl-always-compile-module t)
                     (package-initialize)
                     (require 'info)
                     (info-initialize)
                     (let ((before (list :autoloaded
                                         (autoloadp (symbol-function
                                                     'ossl-view-certificate-chain))
                                         :loaded (featurep 'ossl)
                                         :info (Info-find-file "ossl" t))))
                       (setq ossl-view-ca ,(ossl-test-file "root.pem"))
                       (let ((buffer (ossl-view-certificate-chain
                                      "localhost" ,(plist-get peer :port))))
                         (princ
                          (format "RESULT: %S\n"
                                  (append before
                                          (list :text (with-current-buffer buffer
                                                        (buffer-substring-no-properties
                                                         (point-min) (point-max)))
                                                :module (ossl--module-file)
                                                :module-version (ossl-module-version)))))))))))
            (should (plist-get used :autoloaded))
            (should-not (plist-get used :loaded))
            (should (equal (plist-get used :info) (expand-file-name "ossl" pkgdir)))
            (should (with-temp-buffer
                      (insert-file-contents (expand-file-name "dir" pkgdir))
                      (search-forward "* ossl: (ossl)." nil t)))
            (should (equal (plist-get used :module)
                           (expand-file-name "ossl-module.so" pkgdir)))
            (should (file-exists-p (expand-file-name "ossl-module.so" pkgdir)))
            (should (equal (plist-get used :module-version) ossl-package-version))
            (let ((text (plist-get used :text)))
              (should (string-match-p "TLSv1\\.[23]" text))
              (should (string-match-p "CN=localhost" text))
              (should (string-match-p "ossl Test Intermediate CA" text)))))))))

;;;; package-vc

(ert-deftest ossl-package/package-vc-install ()
  "`package-vc-install' of the repository, with README's spec, works (Emacs 30).
The repository is made from the checkout's tracked files as they are
now.  The tests and benchmarks are not compiled (.elpaignore); the
manual is in Info; the module is built in the package's lisp/ on
first use and a command works."
  (skip-unless (fboundp 'package-vc-install))
  (skip-unless (executable-find "git"))
  (ossl-package-tests--with-directory dir
    (let* ((root ossl-package-tests--root)
           (repo (expand-file-name "repo/" dir))
           (home (expand-file-name "home/" dir))
           (files (with-temp-buffer
                    (let ((default-directory root))
                      (skip-unless (eql 0 (call-process "git" nil t nil "ls-files" "-z")))
                      (split-string (buffer-string) "\0" t))))
           (process-environment
            (ossl-package-tests--environment
             "GIT_AUTHOR_NAME=ossl" "GIT_AUTHOR_EMAIL=ossl@example.invalid"
             "GIT_COMMITTER_NAME=ossl" "GIT_COMMITTER_EMAIL=ossl@example.invalid")))
      (dolist (f files)
        (let ((target (expand-file-name f repo)))
          (when (file-exists-p (expand-file-name f root))
            (make-directory (file-name-directory target) t)
            (copy-file (expand-file-name f root) target))))
      (make-directory home)
      (let ((default-directory repo))
        (should (eql 0 (call-process "git" nil nil nil "init" "-q")))
        (should (eql 0 (call-process "git" nil nil nil "add" "-A")))
        (should (eql 0 (call-process "git" nil nil nil "commit" "-q" "-m" "ossl"))))
      (let* ((result
              (ossl-package-tests--child
               home
               `(progn
                  (setq package-archives nil ossl-always-compile-module t)
                  (package-initialize)
                  (package-vc-install
                   '(ossl :url ,repo :lisp-dir "lisp" :doc "doc/ossl.texi"))
                  (require 'info)
                  (info-initialize)
                  (let ((text (with-current-buffer
                                  (ossl-view-certificate-file ,(ossl-test-file "server.pem"))
                                (buffer-substring-no-properties (point-min) (point-max)))))
                    (princ (format "RESULT: %S\n"
                                   (list :text text
                                         :module (ossl--module-file)
                                         :version (ossl-module-version)
                                         :info (Info-find-file "ossl" t))))))))
             (pkgdir (expand-file-name ".emacs.d/elpa/ossl/" home)))
        (should (string-match-p "CN=localhost" (plist-get result :text)))
        (should (equal (plist-get result :module)
                       (expand-file-name "lisp/ossl-module.so" pkgdir)))
        (should (equal (plist-get result :version) ossl-package-version))
        (should (plist-get result :info))
        (should (file-exists-p (expand-file-name "lisp/ossl.elc" pkgdir)))
        (should-not (directory-files (expand-file-name "test" pkgdir) nil "\\.elc\\'"))
        (should-not (directory-files (expand-file-name "bench" pkgdir) nil "\\.elc\\'"))))))

;;;; Stale modules

(defconst ossl-package-tests--versionless-module
  "#include <emacs-module.h>
int plugin_is_GPL_compatible;
int
emacs_module_init (struct emacs_runtime *rt)
{
  emacs_env *env = rt->get_environment (rt);
  emacs_value feature = env->intern (env, \"ossl-module\");
  env->funcall (env, env->intern (env, \"provide\"), 1, &feature);
  return 0;
}
"
  "A module as those built before modules recorded their version.")

(defun ossl-package-tests--require-ossl (home lisp &optional first)
  "In a child Emacs (HOME), with LISP on `load-path', require ossl.
FIRST is a form evaluated before.  Return (:error MESSAGE :module
LOADED-P :version MODULE-VERSION)."
  (ossl-package-tests--child
   home
   `(progn
      ,first
      (let ((err (condition-case err (progn (require 'ossl) nil)
                   (ossl-module-error (cadr err)))))
        (princ (format "RESULT: %S\n"
                       (list :error err :module (featurep 'ossl-module)
                             :version (ossl-module-version))))))
   "-L" lisp))

(ert-deftest ossl-package/stale-module-refused ()
  "A module from another version is refused before it is loaded.
One built by make from version 0.0.1, and one that does not record
its version (as before this check), each get an `ossl-module-error'
saying it is stale and how to rebuild it, and are not loaded.  A
stale module already loaded is refused too (restart Emacs).  With
`ossl-always-compile-module', the stale module is rebuilt and loads."
  (ossl-package-tests--with-directory dir
    (let* ((lisp (ossl-package-tests--copy-sources dir))
           (module (expand-file-name "ossl-module.so" lisp))
           (built (ossl-package-tests--make dir "module" "VERSION=0.0.1")))
      (unless (eql (car built) 0) (ert-fail (list "make failed" built)))
      (should (file-exists-p module))
      (let ((r (ossl-package-tests--require-ossl dir lisp)))
        (should-not (plist-get r :module))
        (should (string-match-p
                 (format "ossl module .* is stale: built from ossl 0\\.0\\.1, but the Lisp is ossl %s: build it with M-x ossl-module-compile"
                         (regexp-quote ossl-package-version))
                 (plist-get r :error))))
      ;; A module that does not say its version.
      (let ((source (expand-file-name "old.c" dir)))
        (with-temp-file source (insert ossl-package-tests--versionless-module))
        (should (eql 0 (let ((process-environment (ossl-package-tests--environment)))
                         (call-process "cc" nil nil nil "-shared" "-fPIC" "-o" module source)))))
      (let ((r (ossl-package-tests--require-ossl dir lisp)))
        (should-not (plist-get r :module))
        (should (string-match-p "is stale: built from an ossl that did not record its version"
                                (plist-get r :error))))
      ;; The same module, already loaded.
      (let ((r (ossl-package-tests--require-ossl dir lisp `(module-load ,module))))
        (should (plist-get r :module))
        (should-not (plist-get r :version))
        (should (string-match-p "loaded in this Emacs is stale.*then restart Emacs"
                                (plist-get r :error))))
      ;; Rebuilt without asking.
      (let ((r (ossl-package-tests--require-ossl
                dir lisp '(setq ossl-always-compile-module t))))
        (should-not (plist-get r :error))
        (should (plist-get r :module))
        (should (equal (plist-get r :version) ossl-package-version))
        (should (equal (ossl--module-file-version module) ossl-package-version))))))

;;;; Missing tools

(ert-deftest ossl-package/missing-tool-one-line ()
  "A build without a C compiler, or without OpenSSL's headers, stops in one line.
The line names what is missing and the package that provides it on
Debian, Fedora and Homebrew; `ossl-module-compile' signals
`ossl-module-error' with it, and its buffer is in `compilation-mode'."
  (ossl-package-tests--with-directory dir
    (let* ((lisp (ossl-package-tests--copy-sources dir))
           (make (ossl-package-tests--make dir "module" "CC=ossl-no-such-cc")))
      (should-not (eql (car make) 0))
      (should (string-match-p
               "\\`[^\n]*no C compiler (ossl-no-such-cc): install gcc (Debian: gcc; Fedora: gcc; Homebrew: gcc)[^\n]*\n?\\'"
               (cdr make)))
      (let ((make (ossl-package-tests--make dir "module" "PKG_CONFIG=false"
                                            "CFLAGS=-nostdinc")))
        (should-not (eql (car make) 0))
        (should (string-match-p
                 "\\`[^\n]*no OpenSSL 3 headers [^\n]*libssl-dev (Debian); openssl-devel (Fedora); openssl@3 (Homebrew)[^\n]*\n?\\'"
                 (cdr make))))
      ;; The command, on the copy.
      (let* ((ossl--lisp-directory lisp)
             (process-environment (ossl-package-tests--environment "CC=ossl-no-such-cc"))
             (err (should-error (ossl-module-compile) :type 'ossl-module-error))
             (message (cadr err)))
        (should-not (string-search "\n" message))
        (should (string-match-p
                 "\\`Building the ossl module failed: ossl: no C compiler (ossl-no-such-cc): install gcc (Debian: gcc; Fedora: gcc; Homebrew: gcc) or set CC (see \\*ossl-module-compile\\*)\\'"
                 message))
        (with-current-buffer "*ossl-module-compile*"
          (should (derived-mode-p 'compilation-mode))
          (should (equal default-directory (file-name-directory
                                            (directory-file-name lisp)))))
        (should-not (file-exists-p (expand-file-name "ossl-module.so" lisp)))))))

(provide 'ossl-package-tests)

;;; ossl-package-tests.el ends here
