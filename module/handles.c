/* handles.c -- the Lisp objects that hold engine objects.

   A context, a connection, a certificate or a key reaches Lisp as a user
   pointer whose finalizer is the one below for its kind: finalizers
   double as type tags (after emacs-zmq), so a user pointer is of a
   kind exactly when its finalizer is ours.  They free memory only
   and never call into Emacs.  Every bind-*.c file takes its
   arguments through the ossl_bind_* functions here, so the bind
   files never call each other.  */

#include "bindings.h"
#include "pkey.h"
#include "relay.h"

void
ossl_ctx_fin (void *p) EMACS_NOEXCEPT
{
  ossl_ctx_free (p);
}

void
ossl_conn_fin (void *p) EMACS_NOEXCEPT
{
  /* A relay still serving the connection frees it when done.  */
  ossl_lock ();
  if (!ossl_relay_adopt (p))
    ossl_conn_free (p);
  ossl_unlock ();
}

struct ossl_ctx *
ossl_bind_ctx (emacs_env *env, emacs_value v)
{
  return em_user_ptr (env, v, ossl_ctx_fin, "ossl--context-p");
}

struct ossl_conn *
ossl_bind_any_conn (emacs_env *env, emacs_value v)
{
  return em_user_ptr (env, v, ossl_conn_fin, "ossl--connection-p");
}

struct ossl_conn *
ossl_bind_conn (emacs_env *env, emacs_value v)
{
  struct ossl_conn *conn = ossl_bind_any_conn (env, v);
  if (conn && ossl_conn_released (conn))
    {
      em_signal (env, "ossl-closed-error", "TLS connection is finished");
      return NULL;
    }
  return conn;
}

void
ossl_x509_fin (void *p) EMACS_NOEXCEPT
{
  ossl_cert_free (p);
}

struct x509_st *
ossl_bind_x509 (emacs_env *env, emacs_value v)
{
  return em_user_ptr (env, v, ossl_x509_fin, "ossl--x509-handle-p");
}

emacs_value
ossl_make_x509 (emacs_env *env, struct x509_st *x)
{
  if (!ossl_cert_up_ref (x))
    {
      em_signal (env, "ossl-error", "cannot reference certificate");
      return NULL;
    }
  return env->make_user_ptr (env, ossl_x509_fin, x);
}

void
ossl_pkey_fin (void *p) EMACS_NOEXCEPT
{
  ossl_pkey_free (p);
}

struct evp_pkey_st *
ossl_bind_pkey (emacs_env *env, emacs_value v)
{
  return em_user_ptr (env, v, ossl_pkey_fin, "ossl--pkey-handle-p");
}

emacs_value
ossl_make_pkey (emacs_env *env, struct evp_pkey_st *k, const char *err)
{
  emacs_value v;

  if (!k)
    {
      em_signal (env, "ossl-crypto-error", err);
      return NULL;
    }
  v = env->make_user_ptr (env, ossl_pkey_fin, k);
  if (env->non_local_exit_check (env) != emacs_funcall_exit_return)
    {
      ossl_pkey_free (k);
      return NULL;
    }
  return v;
}
