/* bindings.h -- what the Emacs-facing files share.  */

#ifndef OSSL_BINDINGS_H
#define OSSL_BINDINGS_H

#include "em.h"
#include "engine.h"

/* Finalizers double as type tags: a user pointer is a context, a
   connection or a certificate exactly when its finalizer is ours.
   They free memory only and never call into Emacs.  */
void ossl_ctx_fin (void *p) EMACS_NOEXCEPT;
void ossl_conn_fin (void *p) EMACS_NOEXCEPT;
void ossl_x509_fin (void *p) EMACS_NOEXCEPT;
void ossl_pkey_fin (void *p) EMACS_NOEXCEPT;

/* The live connection in V, or NULL after signalling
   wrong-type-argument or ossl-closed-error.  */
struct ossl_conn *ossl_bind_conn (emacs_env *env, emacs_value v);
/* The context in V, or NULL after signalling.  */
struct ossl_ctx *ossl_bind_ctx (emacs_env *env, emacs_value v);
/* The certificate in V, or NULL after signalling.  */
X509 *ossl_bind_x509 (emacs_env *env, emacs_value v);
/* A new Lisp certificate object holding its own reference to X.  */
emacs_value ossl_make_x509 (emacs_env *env, X509 *x);

/* The verify mode (enum ossl_verify) named by the symbol V: `none',
   `request' or `require'; else false after signalling
   wrong-type-argument.  */
bool ossl_bind_verify_mode (emacs_env *env, emacs_value v, int *mode);

/* Register the primitives of each area.  */
void ossl_tls_init (emacs_env *env);
void ossl_x509_init (emacs_env *env);
void ossl_crypto_init (emacs_env *env);
void ossl_pkey_init (emacs_env *env);
void ossl_relay_init (emacs_env *env);

#endif /* OSSL_BINDINGS_H */
