/* bind-pkey.c -- the ossl-- primitives for public keys, signatures,
   key agreement, envelopes and PEM/DER (issue 16).

   Argument checks and Lisp conversions only; the work is in pkey.c.
   A key handle is a user pointer holding one EVP_PKEY; the Lisp layer
   wraps it in an `ossl-pkey' struct.  Algorithm names come from Lisp
   already checked and spelled as strings.  Passwords copied into C
   are wiped; key bytes never reach an error message.  */

#include <stdlib.h>
#include <string.h>

#include "bindings.h"
#include "crypto.h"
#include "pkey.h"

#define DEFUN(name)                                                     \
  static emacs_value name (emacs_env *env, ptrdiff_t nargs,             \
                           emacs_value *args, void *data) EMACS_NOEXCEPT
#define UNUSED_ARGS (void) nargs; (void) data
#define FAILED(env) \
  ((env)->non_local_exit_check (env) != emacs_funcall_exit_return)
#define ERROR "ossl-crypto-error"

void
ossl_pkey_fin (void *p) EMACS_NOEXCEPT
{
  EVP_PKEY_free (p);
}

static EVP_PKEY *
bind_pkey (emacs_env *env, emacs_value v)
{
  return em_user_ptr (env, v, ossl_pkey_fin, "ossl--pkey-handle-p");
}

/* A handle owning K, or NULL after signalling ERR (K NULL) or
   failing; K is freed then.  */
static emacs_value
make_pkey (emacs_env *env, EVP_PKEY *k, const char *err)
{
  emacs_value v;

  if (!k)
    {
      em_signal (env, ERROR, err);
      return NULL;
    }
  v = env->make_user_ptr (env, ossl_pkey_fin, k);
  if (FAILED (env))
    {
      EVP_PKEY_free (k);
      return NULL;
    }
  return v;
}

/* A unibyte string of OUT (LEN bytes), which is wiped and freed.  */
static emacs_value
take_bytes (emacs_env *env, unsigned char *out, size_t len)
{
  emacs_value v = em_unibyte (env, (const char *) out, len);
  OPENSSL_clear_free (out, len);
  return v;
}

/* Bytes of the unibyte string V (em_string); NULL after signalling.  */
static unsigned char *
bytes (emacs_env *env, emacs_value v, size_t *len)
{
  ptrdiff_t n;
  char *s = em_string (env, v, &n);
  *len = s ? (size_t) n : 0;
  return (unsigned char *) s;
}

/* The digest called V (a string), or NULL with *NONE set when V is
   nil; NULL after signalling otherwise.  */
static EVP_MD *
digest (emacs_env *env, emacs_value v, bool *none)
{
  char *name;
  EVP_MD *md;

  *none = em_nilp (env, v);
  if (*none)
    return NULL;
  if (!(name = em_string (env, v, NULL)))
    return NULL;
  if (!(md = ossl_crypto_md (name)))
    {
      char msg[300];
      snprintf (msg, sizeof msg, "unknown digest %.200s", name);
      em_signal (env, ERROR, msg);
    }
  free (name);
  return md;
}

/* Keys.  */

DEFUN (Fhandle_p)
{
  UNUSED_ARGS;
  return em_user_ptr_p (env, args[0], ossl_pkey_fin) ? em_t : em_nil;
}

DEFUN (Finfo)
{
  EVP_PKEY *k = bind_pkey (env, args[0]);
  struct ossl_pkey_info info;
  emacs_value items[3];
  UNUSED_ARGS;

  if (!k)
    return NULL;
  ossl_pkey_info (k, &info);
  items[0] = em_str (env, info.type);
  items[1] = env->make_integer (env, info.bits);
  items[2] = info.private_p ? em_t : em_nil;
  return em_list (env, items, 3);
}

DEFUN (Fgenerate)
{
  char err[OSSL_ERRLEN];
  char *type, *curve = NULL;
  long bits = 0, exponent = 0;
  bool failed = false;
  EVP_PKEY *k;
  UNUSED_ARGS;

  if (!(type = em_string (env, args[0], NULL)))
    return NULL;
  if ((!em_nilp (env, args[1]) && !em_int (env, args[1], 0, 16384, &bits))
      || (!em_nilp (env, args[2])
          && !em_int (env, args[2], 0, 0x7fffffffL, &exponent))
      || (curve = em_string_or_nil (env, args[3], &failed), failed))
    {
      free (type);
      return NULL;
    }
  k = ossl_pkey_generate (type, (int) bits, (unsigned long) exponent,
                          curve, err, sizeof err);
  free (type);
  free (curve);
  return make_pkey (env, k, err);
}

static void
push_name (const char *name, void *arg)
{
  void **a = arg;
  emacs_env *env = a[0];
  if (name && !FAILED (env))
    a[1] = em_cons (env, em_str (env, name), a[1]);
}

DEFUN (Fcurves)
{
  void *a[2] = { env, em_nil };
  UNUSED_ARGS;
  (void) args;
  ossl_pkey_curves (push_name, a);
  return FAILED (env) ? NULL : a[1];
}

DEFUN (Fpublic)
{
  char err[OSSL_ERRLEN];
  EVP_PKEY *k = bind_pkey (env, args[0]);
  UNUSED_ARGS;

  if (!k)
    return NULL;
  return make_pkey (env, ossl_pkey_public (k, err, sizeof err), err);
}

DEFUN (Fsame_public)
{
  EVP_PKEY *a = bind_pkey (env, args[0]), *b;
  UNUSED_ARGS;

  if (!a || !(b = bind_pkey (env, args[1])))
    return NULL;
  return ossl_pkey_same_public (a, b) ? em_t : em_nil;
}

/* Signatures.  */

/* The padding symbol V: nil or `pss'.  */
static bool
padding (emacs_env *env, emacs_value v, enum ossl_padding *pad)
{
  *pad = OSSL_PAD_DEFAULT;
  if (em_nilp (env, v))
    return true;
  if (env->eq (env, v, env->intern (env, "pss")))
    {
      *pad = OSSL_PAD_PSS;
      return true;
    }
  em_wrong_type (env, "ossl-padding-p", v);
  return false;
}

/* args: KEY DIGEST DATA [SIGNATURE] PADDING.  */
static emacs_value
sign_or_verify (emacs_env *env, emacs_value *args, int verify)
{
  char err[OSSL_ERRLEN];
  EVP_PKEY *k = bind_pkey (env, args[0]);
  enum ossl_padding pad;
  unsigned char *msg = NULL, *sig = NULL;
  size_t len = 0, siglen = 0;
  EVP_MD *md = NULL;
  emacs_value v = NULL;
  bool none;
  int rc;

  if (!k || !padding (env, args[verify ? 4 : 3], &pad))
    return NULL;
  md = digest (env, args[1], &none);
  if ((!md && !none) || !(msg = bytes (env, args[2], &len))
      || (verify && !(sig = bytes (env, args[3], &siglen))))
    goto out;
  if (verify)
    {
      rc = ossl_pkey_verify (k, md, pad, msg, len, sig, siglen,
                             err, sizeof err);
      v = rc < 0 ? (em_signal (env, ERROR, err), NULL) : rc ? em_t : em_nil;
    }
  else if (ossl_pkey_sign (k, md, pad, msg, len, &sig, &siglen,
                           err, sizeof err))
    em_signal (env, ERROR, err);
  else
    v = em_unibyte (env, (const char *) sig, siglen);
 out:
  EVP_MD_free (md);
  em_free_secret ((char *) msg, len);
  free (sig);
  return v;
}

DEFUN (Fsign)
{
  UNUSED_ARGS;
  return sign_or_verify (env, args, 0);
}

DEFUN (Fverify)
{
  UNUSED_ARGS;
  return sign_or_verify (env, args, 1);
}

/* Key agreement and envelopes.  */

DEFUN (Fderive)
{
  char err[OSSL_ERRLEN];
  EVP_PKEY *k = bind_pkey (env, args[0]), *peer;
  unsigned char *out;
  size_t len;
  UNUSED_ARGS;

  if (!k || !(peer = bind_pkey (env, args[1])))
    return NULL;
  if (ossl_pkey_derive (k, peer, &out, &len, err, sizeof err))
    {
      em_signal (env, ERROR, err);
      return NULL;
    }
  return take_bytes (env, out, len);
}

/* (ossl--pkey-seal CIPHER DATA KEYS): (CIPHERTEXT (EK...) IV).  */
DEFUN (Fseal)
{
  char err[OSSL_ERRLEN];
  struct ossl_envelope e;
  EVP_PKEY **keys = NULL;
  emacs_value v = NULL, rest = args[2], items[3], *eks = NULL;
  unsigned char *msg = NULL;
  char *cipher;
  size_t len = 0, n = 0, i;
  UNUSED_ARGS;

  if (!(cipher = em_string (env, args[0], NULL)))
    return NULL;
  /* The keys, a non-empty list of handles.  */
  while (!em_nilp (env, rest))
    {
      EVP_PKEY **more = realloc (keys, (n + 1) * sizeof *keys);
      emacs_value car;
      if (!more)
        {
          em_signal (env, "ossl-error", "out of memory");
          goto out;
        }
      keys = more;
      car = env->funcall (env, env->intern (env, "car-safe"), 1, &rest);
      if (FAILED (env) || !(keys[n++] = bind_pkey (env, car)))
        goto out;
      rest = env->funcall (env, env->intern (env, "cdr-safe"), 1, &rest);
      if (FAILED (env))
        goto out;
    }
  if (n == 0)
    {
      em_wrong_type (env, "consp", args[2]);
      goto out;
    }
  if (!(msg = bytes (env, args[1], &len)))
    goto out;
  if (ossl_pkey_seal (cipher, keys, n, msg, len, &e, err, sizeof err))
    {
      em_signal (env, ERROR, err);
      goto out;
    }
  if ((eks = malloc (n * sizeof *eks)))
    {
      for (i = 0; i < n; i++)
        eks[i] = em_unibyte (env, (const char *) e.keys[i], e.keylens[i]);
      items[0] = em_unibyte (env, (const char *) e.data, e.len);
      items[1] = em_list (env, eks, (ptrdiff_t) n);
      items[2] = em_unibyte (env, (const char *) e.iv, (size_t) e.ivlen);
      if (!FAILED (env))
        v = em_list (env, items, 3);
    }
  else
    em_signal (env, "ossl-error", "out of memory");
  ossl_envelope_free (&e);
 out:
  free (eks);
  free (keys);
  free (cipher);
  em_free_secret ((char *) msg, len);
  return v;
}

/* (ossl--pkey-open CIPHER CIPHERTEXT KEY EK IV).  */
DEFUN (Fopen)
{
  char err[OSSL_ERRLEN];
  EVP_PKEY *k;
  char *cipher;
  unsigned char *ct = NULL, *ek = NULL, *iv = NULL, *out;
  size_t ctlen, eklen, ivlen = 0, outlen;
  emacs_value v = NULL;
  UNUSED_ARGS;

  if (!(cipher = em_string (env, args[0], NULL)))
    return NULL;
  if (!(k = bind_pkey (env, args[2])) || !(ct = bytes (env, args[1], &ctlen))
      || !(ek = bytes (env, args[3], &eklen))
      || (!em_nilp (env, args[4]) && !(iv = bytes (env, args[4], &ivlen))))
    goto out;
  if (ossl_pkey_open (cipher, k, ek, eklen, iv, ivlen, ct, ctlen, &out,
                      &outlen, err, sizeof err))
    em_signal (env, ERROR, err);
  else
    v = take_bytes (env, out, outlen);
 out:
  free (cipher);
  free (ct);
  free (ek);
  free (iv);
  return v;
}

/* PEM and DER.  */

/* (ossl--pkey-read KIND VALUE PUBLIC-ONLY PASSWORD): KIND `file' or
   `data'.  */
DEFUN (Fread)
{
  char err[OSSL_ERRLEN];
  struct em_password pw;
  bool is_file = env->eq (env, args[0], env->intern (env, "file"));
  char *value;
  ptrdiff_t len;
  EVP_PKEY *k;
  UNUSED_ARGS;

  if (!em_password (env, args[3], &pw))
    return NULL;
  if (!(value = em_string (env, args[1], &len)))
    {
      em_password_free (&pw);
      return NULL;
    }
  k = ossl_pkey_read (value, (size_t) len, is_file, !em_nilp (env, args[2]),
                      em_password_p (&pw) ? em_password_cb : NULL, &pw,
                      err, sizeof err);
  em_free_secret (value, len);
  em_password_free (&pw);
  if (FAILED (env))             /* the password function signalled */
    {
      EVP_PKEY_free (k);
      return NULL;
    }
  return make_pkey (env, k, err);
}

/* Encode args: KEY PRIVATE PEM CIPHER PASSWORD; *OUT is malloc'd.  */
static bool
encode (emacs_env *env, emacs_value *args, char **out, size_t *len)
{
  char err[OSSL_ERRLEN];
  EVP_PKEY *k = bind_pkey (env, args[0]);
  struct em_password pw;
  bool failed = false;
  char *cipher;
  int rc;

  if (!k)
    return false;
  cipher = em_string_or_nil (env, args[3], &failed);
  if (failed)
    return false;
  if (!em_password (env, args[4], &pw))
    {
      free (cipher);
      return false;
    }
  rc = ossl_pkey_encode (k, !em_nilp (env, args[1]), !em_nilp (env, args[2]),
                         cipher, em_password_cb, &pw, out, len,
                         err, sizeof err);
  em_password_free (&pw);
  free (cipher);
  if (FAILED (env))
    {
      if (rc == 0)
        em_free_secret (*out, (ptrdiff_t) *len);
      return false;
    }
  if (rc)
    em_signal (env, ERROR, err);
  return rc == 0;
}

DEFUN (Fencode)
{
  char *out;
  size_t len;
  emacs_value v;
  UNUSED_ARGS;

  if (!encode (env, args, &out, &len))
    return NULL;
  v = em_unibyte (env, out, len);
  em_free_secret (out, (ptrdiff_t) len);
  return v;
}

/* (ossl--pkey-write-file FILE KEY PRIVATE CIPHER PASSWORD): always
   PEM.  The encoding never leaves C.  */
DEFUN (Fwrite_file)
{
  char err[OSSL_ERRLEN];
  emacs_value eargs[5] = { args[1], args[2], em_t, args[3], args[4] };
  char *file, *out;
  size_t len;
  int rc;
  UNUSED_ARGS;

  if (!(file = em_string (env, args[0], NULL)))
    return NULL;
  if (!encode (env, eargs, &out, &len))
    {
      free (file);
      return NULL;
    }
  rc = ossl_pkey_write_file (file, out, len, !em_nilp (env, args[2]),
                             err, sizeof err);
  em_free_secret (out, (ptrdiff_t) len);
  free (file);
  return em_status (env, rc, ERROR, err);
}

/* Certificates.  */

DEFUN (Fx509_pubkey)
{
  char err[OSSL_ERRLEN];
  X509 *x = ossl_bind_x509 (env, args[0]);
  UNUSED_ARGS;

  if (!x)
    return NULL;
  return make_pkey (env, ossl_pkey_of_x509 (x, err, sizeof err), err);
}

DEFUN (Fx509_signed_by)
{
  X509 *x = ossl_bind_x509 (env, args[0]);
  EVP_PKEY *k;
  UNUSED_ARGS;

  if (!x || !(k = bind_pkey (env, args[1])))
    return NULL;
  return ossl_pkey_x509_signed_by (x, k) ? em_t : em_nil;
}

void
ossl_pkey_init (emacs_env *env)
{
  em_defun (env, "ossl--pkey-handle-p", 1, 1, Fhandle_p,
            "Return t if OBJECT is a key handle.\n\n(fn OBJECT)");
  em_defun (env, "ossl--pkey-info", 1, 1, Finfo,
            "Return (TYPE BITS PRIVATE-P) of key H, TYPE an upper-case "
            "string.\n\n(fn H)");
  em_defun (env, "ossl--pkey-generate", 4, 4, Fgenerate,
            "Return a new key of TYPE (\"RSA\", \"EC\", \"ED25519\", "
            "\"X25519\", \"DSA\"...).\nBITS and EXPONENT for RSA, BITS for "
            "DSA, CURVE (a string) for EC.\n\n(fn TYPE BITS EXPONENT CURVE)");
  em_defun (env, "ossl--pkey-curves", 0, 0, Fcurves,
            "Return the names of OpenSSL's named curves.\n\n(fn)");
  em_defun (env, "ossl--pkey-public", 1, 1, Fpublic,
            "Return a new key with the public half of key H.\n\n(fn H)");
  em_defun (env, "ossl--pkey-same-public", 2, 2, Fsame_public,
            "Return t if keys A and B have the same public key.\n\n(fn A B)");
  em_defun (env, "ossl--pkey-sign", 4, 4, Fsign,
            "Sign unibyte DATA with key H and DIGEST (a string, or nil).\n"
            "PADDING is nil or `pss'.\n\n(fn H DIGEST DATA PADDING)");
  em_defun (env, "ossl--pkey-verify", 5, 5, Fverify,
            "Return t if SIG is key H's signature of DATA with DIGEST.\n\n"
            "(fn H DIGEST DATA SIG PADDING)");
  em_defun (env, "ossl--pkey-derive", 2, 2, Fderive,
            "Return the secret private key H shares with public key PEER."
            "\n\n(fn H PEER)");
  em_defun (env, "ossl--pkey-seal", 3, 3, Fseal,
            "Seal unibyte DATA with CIPHER (a string) for the key handles "
            "KEYS.\nReturn (CIPHERTEXT ENCRYPTED-KEYS IV).\n\n"
            "(fn CIPHER DATA KEYS)");
  em_defun (env, "ossl--pkey-open", 5, 5, Fopen,
            "Open the envelope CIPHERTEXT sealed with CIPHER with key H.\n\n"
            "(fn CIPHER CIPHERTEXT H ENCRYPTED-KEY IV)");
  em_defun (env, "ossl--pkey-read", 4, 4, Fread,
            "Return a key read from KIND (`file' or `data') VALUE.\n"
            "PUBLIC-ONLY reads its public half; PASSWORD is nil, a string "
            "or a function.\n\n(fn KIND VALUE PUBLIC-ONLY PASSWORD)");
  em_defun (env, "ossl--pkey-encode", 5, 5, Fencode,
            "Return key H in PEM (PEM non-nil) or DER, a unibyte string.\n"
            "PRIVATE gives PKCS#8, encrypted with CIPHER and PASSWORD when "
            "CIPHER\nis non-nil; else SubjectPublicKeyInfo.\n\n"
            "(fn H PRIVATE PEM CIPHER PASSWORD)");
  em_defun (env, "ossl--pkey-write-file", 5, 5, Fwrite_file,
            "Write key H to FILE (an encoded name) in PEM.\n"
            "PRIVATE as for `ossl--pkey-encode'; the file then has mode "
            "0600.\n\n(fn FILE H PRIVATE CIPHER PASSWORD)");
  em_defun (env, "ossl--x509-get-pubkey", 1, 1, Fx509_pubkey,
            "Return a key handle for certificate handle X's public key.\n\n"
            "(fn X)");
  em_defun (env, "ossl--x509-signed-by", 2, 2, Fx509_signed_by,
            "Return t if key handle K verifies certificate handle X's "
            "signature.\n\n(fn X K)");
}
