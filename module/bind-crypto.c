/* bind-crypto.c -- Lisp primitives for digests, MACs, random bytes,
   key derivation and symmetric ciphers (issue 16).  */

#include "bindings.h"

void
ossl_crypto_init (emacs_env *env)
{
  (void) env;
}
