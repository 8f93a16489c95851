/* bindings.h -- what the Emacs-facing files share.  */

#ifndef OSSL_BINDINGS_H
#define OSSL_BINDINGS_H

#include "em.h"
#include "engine.h"

/* Handles (handles.c).  Finalizers double as type tags: a user
   pointer is a context, a connection, a certificate or a key exactly when
   its finalizer is ours.  They free memory only and never call into
   Emacs.  */
void ossl_ctx_fin (void *p) EMACS_NOEXCEPT;
void ossl_conn_fin (void *p) EMACS_NOEXCEPT;
void ossl_x509_fin (void *p) EMACS_NOEXCEPT;
void ossl_pkey_fin (void *p) EMACS_NOEXCEPT;

/* The connection in V, live or released, or NULL after signalling
   wrong-type-argument.  */
struct ossl_conn *ossl_bind_any_conn (emacs_env *env, emacs_value v);
/* The live connection in V, or NULL after signalling
   wrong-type-argument or ossl-closed-error.  */
struct ossl_conn *ossl_bind_conn (emacs_env *env, emacs_value v);
/* The context in V, or NULL after signalling.  */
struct ossl_ctx *ossl_bind_ctx (emacs_env *env, emacs_value v);
/* The certificate in V, or NULL after signalling.  */
struct x509_st *ossl_bind_x509 (emacs_env *env, emacs_value v);
/* A new Lisp certificate object holding its own reference to X.  */
emacs_value ossl_make_x509 (emacs_env *env, struct x509_st *x);
/* The key in V, or NULL after signalling.  */
struct evp_pkey_st;
struct evp_pkey_st *ossl_bind_pkey (emacs_env *env, emacs_value v);
/* A new Lisp key object owning K, or NULL after signalling
   ossl-crypto-error with ERR (K NULL) or failing; K is freed then.  */
emacs_value ossl_make_pkey (emacs_env *env, struct evp_pkey_st *k,
                            const char *err);

/* The verify mode (enum ossl_verify) named by the symbol V: `none',
   `request' or `require'; else false after signalling
   wrong-type-argument.  */
bool ossl_bind_verify_mode (emacs_env *env, emacs_value v, int *mode);

#endif /* OSSL_BINDINGS_H */
