/* bind-x509.c -- the ossl-- primitives for certificates.  */

#include "bindings.h"

void
ossl_x509_fin (void *p) EMACS_NOEXCEPT
{
  X509_free (p);
}

X509 *
ossl_bind_x509 (emacs_env *env, emacs_value v)
{
  return em_user_ptr (env, v, ossl_x509_fin, "ossl--x509-handle-p");
}

emacs_value
ossl_make_x509 (emacs_env *env, X509 *x)
{
  if (!X509_up_ref (x))
    {
      em_signal (env, "ossl-error", "cannot reference certificate");
      return NULL;
    }
  return env->make_user_ptr (env, ossl_x509_fin, x);
}

void
ossl_x509_init (emacs_env *env)
{
  (void) env;
}
