/* bind-pkey.c -- the ossl-- primitives for public keys, signatures,
   key agreement, envelopes and PEM/DER (issue 16).

   Argument checks and Lisp conversions only; the work is in pkey.c.
   A key handle (handles.c) holds one EVP_PKEY; the Lisp layer
   wraps it in an `ossl-pkey' struct.  Algorithm names come from Lisp
   already checked and spelled as strings.  Passwords copied into C
   are wiped; key bytes never reach an error message.  */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bindings.h"
#include "crypto.h"
#include "pkey.h"

#define FAILED(env) \
  ((env)->non_local_exit_check (env) != emacs_funcall_exit_return)
#define ERROR "ossl-crypto-error"

/* A unibyte string of OUT (LEN bytes), which is wiped and freed.  */
static emacs_value
take_bytes (emacs_env *env, unsigned char *out, size_t len)
{
  emacs_value v = em_unibyte (env, (const char *) out, len);
  ossl_crypto_cleanse (out, len);
  free (out);
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
static struct evp_md_st *
digest (emacs_env *env, emacs_value v, bool *none)
{
  char *name;
  struct evp_md_st *md;

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

EM_DEFUN (Fhandle_p, "ossl--pkey-handle-p", 1, 1,
          (emacs_env *env, emacs_value _object),
          "Return t if OBJECT is a key handle.\n\n(fn OBJECT)")
{
  return em_user_ptr_p (env, _object, ossl_pkey_fin) ? em_t : em_nil;
}

EM_DEFUN (Finfo, "ossl--pkey-info", 1, 1,
          (emacs_env *env, emacs_value _h),
          "Return (TYPE BITS PRIVATE-P) of key H, TYPE an upper-case "
          "string.\n\n(fn H)")
{
  struct evp_pkey_st *k = ossl_bind_pkey (env, _h);
  struct ossl_pkey_info info;
  emacs_value items[3];

  if (!k)
    return NULL;
  ossl_pkey_info (k, &info);
  items[0] = em_str (env, info.type);
  items[1] = env->make_integer (env, info.bits);
  items[2] = info.private_p ? em_t : em_nil;
  return em_list (env, items, 3);
}

EM_DEFUN (Fgenerate, "ossl--pkey-generate", 4, 4,
          (emacs_env *env, emacs_value _type, emacs_value _bits,
           emacs_value _exponent, emacs_value _curve),
          "Return a new key of TYPE (\"RSA\", \"EC\", \"ED25519\", "
          "\"X25519\", \"DSA\"...).\nBITS and EXPONENT for RSA, BITS for "
          "DSA, CURVE (a string) for EC.\n\n(fn TYPE BITS EXPONENT CURVE)")
{
  char err[OSSL_ERRLEN];
  char *type, *curve = NULL;
  long bits = 0, exponent = 0;
  bool failed = false;
  struct evp_pkey_st *k;

  if (!(type = em_string (env, _type, NULL)))
    return NULL;
  if ((!em_nilp (env, _bits) && !em_int (env, _bits, 0, 16384, &bits))
      || (!em_nilp (env, _exponent)
          && !em_int (env, _exponent, 0, 0x7fffffffL, &exponent))
      || (curve = em_string_or_nil (env, _curve, &failed), failed))
    {
      free (type);
      return NULL;
    }
  k = ossl_pkey_generate (type, (int) bits, (unsigned long) exponent,
                          curve, err, sizeof err);
  free (type);
  free (curve);
  return ossl_make_pkey (env, k, err);
}

static void
push_name (const char *name, void *arg)
{
  void **a = arg;
  emacs_env *env = a[0];
  if (name && !FAILED (env))
    a[1] = em_cons (env, em_str (env, name), a[1]);
}

EM_DEFUN (Fcurves, "ossl--pkey-curves", 0, 0,
          (emacs_env *env),
          "Return the names of OpenSSL's named curves.\n\n(fn)")
{
  void *a[2] = { env, em_nil };
  ossl_pkey_curves (push_name, a);
  return FAILED (env) ? NULL : a[1];
}

EM_DEFUN (Fpublic, "ossl--pkey-public", 1, 1,
          (emacs_env *env, emacs_value _h),
          "Return a new key with the public half of key H.\n\n(fn H)")
{
  char err[OSSL_ERRLEN];
  struct evp_pkey_st *k = ossl_bind_pkey (env, _h);

  if (!k)
    return NULL;
  return ossl_make_pkey (env, ossl_pkey_public (k, err, sizeof err), err);
}

EM_DEFUN (Fsame_public, "ossl--pkey-same-public", 2, 2,
          (emacs_env *env, emacs_value _a, emacs_value _b),
          "Return t if keys A and B have the same public key.\n\n(fn A B)")
{
  struct evp_pkey_st *a = ossl_bind_pkey (env, _a), *b;

  if (!a || !(b = ossl_bind_pkey (env, _b)))
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

/* Sign DATA with key H and DIGEST, or verify signature SIG of it.  */
static emacs_value
sign_or_verify (emacs_env *env, emacs_value _h, emacs_value _digest,
                emacs_value _data, emacs_value _sig, emacs_value _padding,
                int verify)
{
  char err[OSSL_ERRLEN];
  struct evp_pkey_st *k = ossl_bind_pkey (env, _h);
  enum ossl_padding pad;
  unsigned char *msg = NULL, *sig = NULL;
  size_t len = 0, siglen = 0;
  struct evp_md_st *md = NULL;
  emacs_value v = NULL;
  bool none;
  int rc;

  if (!k || !padding (env, _padding, &pad))
    return NULL;
  md = digest (env, _digest, &none);
  if ((!md && !none) || !(msg = bytes (env, _data, &len))
      || (verify && !(sig = bytes (env, _sig, &siglen))))
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
  ossl_crypto_md_free (md);
  em_free_secret ((char *) msg, len);
  free (sig);
  return v;
}

EM_DEFUN (Fsign, "ossl--pkey-sign", 4, 4,
          (emacs_env *env, emacs_value _h, emacs_value _digest,
           emacs_value _data, emacs_value _padding),
          "Sign unibyte DATA with key H and DIGEST (a string, or nil).\n"
          "PADDING is nil or `pss'.\n\n(fn H DIGEST DATA PADDING)")
{
  return sign_or_verify (env, _h, _digest, _data, NULL, _padding, 0);
}

EM_DEFUN (Fverify, "ossl--pkey-verify", 5, 5,
          (emacs_env *env, emacs_value _h, emacs_value _digest,
           emacs_value _data, emacs_value _sig, emacs_value _padding),
          "Return t if SIG is key H's signature of DATA with DIGEST.\n\n"
          "(fn H DIGEST DATA SIG PADDING)")
{
  return sign_or_verify (env, _h, _digest, _data, _sig, _padding, 1);
}

/* Key agreement and envelopes.  */

EM_DEFUN (Fderive, "ossl--pkey-derive", 2, 2,
          (emacs_env *env, emacs_value _h, emacs_value _peer),
          "Return the secret private key H shares with public key PEER."
          "\n\n(fn H PEER)")
{
  char err[OSSL_ERRLEN];
  struct evp_pkey_st *k = ossl_bind_pkey (env, _h), *peer;
  unsigned char *out;
  size_t len;

  if (!k || !(peer = ossl_bind_pkey (env, _peer)))
    return NULL;
  if (ossl_pkey_derive (k, peer, &out, &len, err, sizeof err))
    {
      em_signal (env, ERROR, err);
      return NULL;
    }
  return take_bytes (env, out, len);
}

/* (ossl--pkey-seal CIPHER DATA KEYS): (CIPHERTEXT (EK...) IV).  */
EM_DEFUN (Fseal, "ossl--pkey-seal", 3, 3,
          (emacs_env *env, emacs_value _cipher, emacs_value _data,
           emacs_value _keys),
          "Seal unibyte DATA with CIPHER (a string) for the key handles "
          "KEYS.\nReturn (CIPHERTEXT ENCRYPTED-KEYS IV).\n\n"
          "(fn CIPHER DATA KEYS)")
{
  char err[OSSL_ERRLEN];
  struct ossl_envelope e;
  struct evp_pkey_st **keys = NULL;
  emacs_value v = NULL, rest = _keys, items[3], *eks = NULL;
  unsigned char *msg = NULL;
  char *cipher;
  size_t len = 0, n = 0, i;

  if (!(cipher = em_string (env, _cipher, NULL)))
    return NULL;
  /* The keys, a non-empty list of handles.  */
  while (!em_nilp (env, rest))
    {
      struct evp_pkey_st **more = realloc (keys, (n + 1) * sizeof *keys);
      emacs_value car;
      if (!more)
        {
          em_signal (env, "ossl-error", "out of memory");
          goto out;
        }
      keys = more;
      car = env->funcall (env, env->intern (env, "car-safe"), 1, &rest);
      if (FAILED (env) || !(keys[n++] = ossl_bind_pkey (env, car)))
        goto out;
      rest = env->funcall (env, env->intern (env, "cdr-safe"), 1, &rest);
      if (FAILED (env))
        goto out;
    }
  if (n == 0)
    {
      em_wrong_type (env, "consp", _keys);
      goto out;
    }
  if (!(msg = bytes (env, _data, &len)))
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
EM_DEFUN (Fopen, "ossl--pkey-open", 5, 5,
          (emacs_env *env, emacs_value _cipher, emacs_value _ciphertext,
           emacs_value _h, emacs_value _encrypted_key, emacs_value _iv),
          "Open the envelope CIPHERTEXT sealed with CIPHER with key H.\n\n"
          "(fn CIPHER CIPHERTEXT H ENCRYPTED-KEY IV)")
{
  char err[OSSL_ERRLEN];
  struct evp_pkey_st *k;
  char *cipher;
  unsigned char *ct = NULL, *ek = NULL, *iv = NULL, *out;
  size_t ctlen, eklen, ivlen = 0, outlen;
  emacs_value v = NULL;

  if (!(cipher = em_string (env, _cipher, NULL)))
    return NULL;
  if (!(k = ossl_bind_pkey (env, _h)) || !(ct = bytes (env, _ciphertext, &ctlen))
      || !(ek = bytes (env, _encrypted_key, &eklen))
      || (!em_nilp (env, _iv) && !(iv = bytes (env, _iv, &ivlen))))
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
EM_DEFUN (Fread, "ossl--pkey-read", 4, 4,
          (emacs_env *env, emacs_value _kind, emacs_value _value,
           emacs_value _public_only, emacs_value _password),
          "Return a key read from KIND (`file' or `data') VALUE.\n"
          "PUBLIC-ONLY reads its public half; PASSWORD is nil, a string "
          "or a function.\n\n(fn KIND VALUE PUBLIC-ONLY PASSWORD)")
{
  char err[OSSL_ERRLEN];
  struct em_password pw;
  bool is_file = env->eq (env, _kind, env->intern (env, "file"));
  char *value;
  ptrdiff_t len;
  struct evp_pkey_st *k;

  if (!em_password (env, _password, &pw))
    return NULL;
  if (!(value = em_string (env, _value, &len)))
    {
      em_password_free (&pw);
      return NULL;
    }
  k = ossl_pkey_read (value, (size_t) len, is_file,
                      !em_nilp (env, _public_only),
                      em_password_p (&pw) ? em_password_cb : NULL, &pw,
                      err, sizeof err);
  em_free_secret (value, len);
  em_password_free (&pw);
  if (FAILED (env))             /* the password function signalled */
    {
      ossl_pkey_free (k);
      return NULL;
    }
  return ossl_make_pkey (env, k, err);
}

/* Encode key H (its PRIVATE part or not, PEM or DER, encrypted with
   CIPHER and PASSWORD); *OUT is malloc'd.  */
static bool
encode (emacs_env *env, emacs_value _h, emacs_value _private,
        emacs_value _pem, emacs_value _cipher, emacs_value _password,
        char **out, size_t *len)
{
  char err[OSSL_ERRLEN];
  struct evp_pkey_st *k = ossl_bind_pkey (env, _h);
  struct em_password pw;
  bool failed = false;
  char *cipher;
  int rc;

  if (!k)
    return false;
  cipher = em_string_or_nil (env, _cipher, &failed);
  if (failed)
    return false;
  if (!em_password (env, _password, &pw))
    {
      free (cipher);
      return false;
    }
  rc = ossl_pkey_encode (k, !em_nilp (env, _private), !em_nilp (env, _pem),
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

EM_DEFUN (Fencode, "ossl--pkey-encode", 5, 5,
          (emacs_env *env, emacs_value _h, emacs_value _private,
           emacs_value _pem, emacs_value _cipher, emacs_value _password),
          "Return key H in PEM (PEM non-nil) or DER, a unibyte string.\n"
          "PRIVATE gives PKCS#8, encrypted with CIPHER and PASSWORD when "
          "CIPHER\nis non-nil; else SubjectPublicKeyInfo.\n\n"
          "(fn H PRIVATE PEM CIPHER PASSWORD)")
{
  char *out;
  size_t len;
  emacs_value v;

  if (!encode (env, _h, _private, _pem, _cipher, _password, &out, &len))
    return NULL;
  v = em_unibyte (env, out, len);
  em_free_secret (out, (ptrdiff_t) len);
  return v;
}

/* (ossl--pkey-write-file FILE KEY PRIVATE CIPHER PASSWORD): always
   PEM.  The encoding never leaves C.  */
EM_DEFUN (Fwrite_file, "ossl--pkey-write-file", 5, 5,
          (emacs_env *env, emacs_value _file, emacs_value _h,
           emacs_value _private, emacs_value _cipher, emacs_value _password),
          "Write key H to FILE (an encoded name) in PEM.\n"
          "PRIVATE as for `ossl--pkey-encode'; the file then has mode "
          "0600.\n\n(fn FILE H PRIVATE CIPHER PASSWORD)")
{
  char err[OSSL_ERRLEN];
  char *file, *out;
  size_t len;
  int rc;

  if (!(file = em_string (env, _file, NULL)))
    return NULL;
  if (!encode (env, _h, _private, em_t, _cipher, _password, &out, &len))
    {
      free (file);
      return NULL;
    }
  rc = ossl_pkey_write_file (file, out, len, !em_nilp (env, _private),
                             err, sizeof err);
  em_free_secret (out, (ptrdiff_t) len);
  free (file);
  return em_status (env, rc, ERROR, err);
}

/* Certificates.  */

EM_DEFUN (Fx509_pubkey, "ossl--x509-get-pubkey", 1, 1,
          (emacs_env *env, emacs_value _x),
          "Return a key handle for certificate handle X's public key.\n\n"
          "(fn X)")
{
  char err[OSSL_ERRLEN];
  struct x509_st *x = ossl_bind_x509 (env, _x);

  if (!x)
    return NULL;
  return ossl_make_pkey (env, ossl_pkey_of_x509 (x, err, sizeof err), err);
}

EM_DEFUN (Fx509_signed_by, "ossl--x509-signed-by", 2, 2,
          (emacs_env *env, emacs_value _x, emacs_value _k),
          "Return t if key handle K verifies certificate handle X's "
          "signature.\n\n(fn X K)")
{
  struct x509_st *x = ossl_bind_x509 (env, _x);
  struct evp_pkey_st *k;

  if (!x || !(k = ossl_bind_pkey (env, _k)))
    return NULL;
  return ossl_pkey_x509_signed_by (x, k) ? em_t : em_nil;
}

