/* module.c -- entry point of the ossl dynamic module.  */

#include <signal.h>

#include "bindings.h"

#define OSSL_EXPORT __attribute__ ((visibility ("default")))

#ifndef OSSL_VERSION
# error "OSSL_VERSION is undefined: build with make, which takes it from ossl.el"
#endif

OSSL_EXPORT int plugin_is_GPL_compatible;

/* The version of ossl this module is built from, behind a marker: the
   Lisp loader reads it from the file before loading it, because a
   module from another version cannot be unloaded once it is in.  */
#define VERSION_MARKER "ossl-module-version:"
static const char version_marker[] = VERSION_MARKER OSSL_VERSION;

static emacs_value
Fmodule_version (emacs_env *env, ptrdiff_t nargs, emacs_value *args,
                 void *data) EMACS_NOEXCEPT
{
  (void) nargs;
  (void) args;
  (void) data;
  return em_str (env, version_marker + sizeof VERSION_MARKER - 1);
}

OSSL_EXPORT int
emacs_module_init (struct emacs_runtime *ert)
{
  emacs_env *env;

  if ((size_t) ert->size < sizeof *ert)
    return 1;
  env = ert->get_environment (ert);
  if ((size_t) env->size < sizeof (struct emacs_env_28))
    {
      /* Too old: say so in words, not just with a failed load.  */
      if ((size_t) env->size >= sizeof (struct emacs_env_25))
        em_signal (env, "error", "ossl needs Emacs 28 or later");
      return 2;
    }
  if (!ossl_openssl_ok ())
    {
      em_signal (env, "error", "ossl needs OpenSSL 3.0 or later");
      return 3;
    }
  if (!em_init (env))
    return 4;
  /* Writing to a connection the peer has reset raises SIGPIPE, which
     kills a batch Emacs (an interactive one ignores it).  Emacs checks
     its writes' errors, and gives its children default handlers.  */
  {
    struct sigaction old;
    if (sigaction (SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL)
      signal (SIGPIPE, SIG_IGN);
  }
  em_defun (env, "ossl--module-version", 0, 0, Fmodule_version,
            "Return the version of ossl this module was built from.\n\n"
            "(fn)");
  em_defun_all (env);
  if (env->non_local_exit_check (env) != emacs_funcall_exit_return)
    return 5;
  {
    emacs_value feature = env->intern (env, "ossl-module");
    env->funcall (env, env->intern (env, "provide"), 1, &feature);
  }
  return env->non_local_exit_check (env) == emacs_funcall_exit_return ? 0 : 6;
}
