/* bind-pkey.c -- Lisp primitives for public keys, signatures,
   envelopes and PEM/DER (issue 16).  */

#include "bindings.h"

void
ossl_pkey_init (emacs_env *env)
{
  (void) env;
}
