/* pkey.c -- public keys over OpenSSL's EVP_PKEY (issue 16).  */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/encoder.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "crypto.h"
#include "pkey.h"

/* Keys.  */

/* 1 when K has the parameter NAME (a BIGNUM when BN, else an octet
   string) in a buffer of SIZE bytes (none when 0: most providers then
   only say how long it is).  The buffer is wiped.  */
static int
get_param (EVP_PKEY *k, const char *name, int bn, size_t size)
{
  unsigned char *buf = size ? malloc (size) : NULL;
  OSSL_PARAM p[2];
  int ok;

  if (size && !buf)
    return 0;
  p[0] = bn ? OSSL_PARAM_construct_BN (name, buf, size)
    : OSSL_PARAM_construct_octet_string (name, buf, size);
  p[1] = OSSL_PARAM_construct_end ();
  ok = EVP_PKEY_get_params (k, p) && OSSL_PARAM_modified (p)
    && p[0].return_size > 0;
  ERR_clear_error ();
  if (buf)
    OPENSSL_clear_free (buf, size);
  return ok;
}

/* 1 when K holds the secret parameter NAME.  Some providers (EC in
   OpenSSL 3.0) insist on copying it: then into a buffer large enough
   for any key, wiped at once.  */
static int
has_param (EVP_PKEY *k, const char *name, int bn)
{
  return get_param (k, name, bn, 0) || get_param (k, name, bn, 8192);
}

void
ossl_pkey_free (EVP_PKEY *k)
{
  EVP_PKEY_free (k);
}

void
ossl_pkey_info (EVP_PKEY *k, struct ossl_pkey_info *info)
{
  const char *name = EVP_PKEY_get0_type_name (k);
  size_t i;

  if (!name)
    name = OBJ_nid2sn (EVP_PKEY_get_base_id (k));
  if (!name)
    name = "unknown";
  for (i = 0; name[i] && i + 1 < sizeof info->type; i++)
    info->type[i] = toupper ((unsigned char) name[i]);
  info->type[i] = 0;
  info->bits = EVP_PKEY_get_bits (k);
  if (EVP_PKEY_is_a (k, "RSA") || EVP_PKEY_is_a (k, "RSA-PSS"))
    info->private_p = has_param (k, OSSL_PKEY_PARAM_RSA_D, 1);
  else if (EVP_PKEY_is_a (k, "ED25519") || EVP_PKEY_is_a (k, "X25519")
           || EVP_PKEY_is_a (k, "ED448") || EVP_PKEY_is_a (k, "X448"))
    info->private_p = has_param (k, OSSL_PKEY_PARAM_PRIV_KEY, 0);
  else
    info->private_p = has_param (k, OSSL_PKEY_PARAM_PRIV_KEY, 1);
}

static int
is_private (EVP_PKEY *k)
{
  struct ossl_pkey_info info;
  ossl_pkey_info (k, &info);
  return info.private_p;
}

EVP_PKEY *
ossl_pkey_generate (const char *type, int bits, unsigned long exponent,
                    const char *curve, char *err, size_t errlen)
{
  EVP_PKEY_CTX *ctx = NULL, *kctx = NULL;
  EVP_PKEY *params = NULL, *k = NULL;
  int dsa = !strcmp (type, "DSA");
  BIGNUM *e = NULL;

  ERR_clear_error ();
  if (!(ctx = EVP_PKEY_CTX_new_from_name (NULL, type, NULL)))
    goto fail;
  if (dsa)
    {
      /* DSA first needs domain parameters, then a key on them.  */
      if (EVP_PKEY_paramgen_init (ctx) <= 0
          || EVP_PKEY_CTX_set_dsa_paramgen_bits (ctx, bits) <= 0
          || EVP_PKEY_paramgen (ctx, &params) <= 0
          || !(kctx = EVP_PKEY_CTX_new_from_pkey (NULL, params, NULL)))
        goto fail;
      EVP_PKEY_CTX_free (ctx);
      ctx = kctx;
    }
  if (EVP_PKEY_keygen_init (ctx) <= 0)
    goto fail;
  if (!strcmp (type, "RSA"))
    {
      if (!(e = BN_new ()) || !BN_set_word (e, exponent)
          || EVP_PKEY_CTX_set_rsa_keygen_bits (ctx, bits) <= 0
          || EVP_PKEY_CTX_set1_rsa_keygen_pubexp (ctx, e) <= 0)
        goto fail;
    }
  else if (!strcmp (type, "EC")
           && EVP_PKEY_CTX_set_group_name (ctx, curve) <= 0)
    goto fail;
  if (EVP_PKEY_keygen (ctx, &k) <= 0)
    k = NULL;
 fail:
  if (!k)
    ossl_crypto_error (err, errlen, "cannot generate %s key", type);
  BN_free (e);
  EVP_PKEY_free (params);
  EVP_PKEY_CTX_free (ctx);
  return k;
}

void
ossl_pkey_curves (void (*fn) (const char *name, void *arg), void *arg)
{
  size_t n = EC_get_builtin_curves (NULL, 0), i;
  EC_builtin_curve *curves = malloc (n * sizeof *curves);

  if (!curves)
    return;
  n = EC_get_builtin_curves (curves, n);
  for (i = 0; i < n; i++)
    fn (OBJ_nid2sn (curves[i].nid), arg);
  free (curves);
}

EVP_PKEY *
ossl_pkey_public (EVP_PKEY *k, char *err, size_t errlen)
{
  unsigned char *der = NULL;
  const unsigned char *p;
  EVP_PKEY *pub = NULL;
  int len;

  /* Through SubjectPublicKeyInfo: only the public half is there.  */
  ERR_clear_error ();
  len = i2d_PUBKEY (k, &der);
  p = der;
  if (len > 0)
    pub = d2i_PUBKEY (NULL, &p, len);
  OPENSSL_free (der);
  if (!pub)
    ossl_crypto_error (err, errlen, "cannot take the public half of the key");
  return pub;
}

int
ossl_pkey_same_public (EVP_PKEY *a, EVP_PKEY *b)
{
  int r = EVP_PKEY_eq (a, b);
  ERR_clear_error ();
  return r == 1;
}

/* Signatures.  */

/* Set up CTX (made for K) to sign or verify with MD and PAD.  */
static int
sign_init (EVP_MD_CTX *ctx, EVP_PKEY *k, const EVP_MD *md,
           enum ossl_padding pad, int verify, char *err, size_t errlen)
{
  EVP_PKEY_CTX *pctx = NULL;
  int rc = verify ? EVP_DigestVerifyInit (ctx, &pctx, md, NULL, k)
    : EVP_DigestSignInit (ctx, &pctx, md, NULL, k);

  if (rc <= 0)
    {
      ossl_crypto_error (err, errlen, "cannot %s with this key%s",
                         verify ? "verify" : "sign",
                         md ? " and digest" : "");
      return -1;
    }
  if (pad == OSSL_PAD_PSS
      && (EVP_PKEY_CTX_set_rsa_padding (pctx, RSA_PKCS1_PSS_PADDING) <= 0
          || EVP_PKEY_CTX_set_rsa_pss_saltlen
          (pctx, verify ? RSA_PSS_SALTLEN_AUTO : RSA_PSS_SALTLEN_DIGEST) <= 0))
    {
      ossl_crypto_error (err, errlen, "cannot use PSS padding with this key");
      return -1;
    }
  return 0;
}

int
ossl_pkey_sign (EVP_PKEY *k, const EVP_MD *md, enum ossl_padding pad,
                const unsigned char *data, size_t len, unsigned char **sig,
                size_t *siglen, char *err, size_t errlen)
{
  EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
  int rc = -1;

  *sig = NULL;
  ERR_clear_error ();
  if (!ctx)
    {
      ossl_crypto_error (err, errlen, "out of memory");
      return -1;
    }
  if (sign_init (ctx, k, md, pad, 0, err, errlen))
    goto out;
  /* One-shot: Ed25519 and Ed448 cannot stream.  */
  if (EVP_DigestSign (ctx, NULL, siglen, data, len) <= 0
      || !(*sig = malloc (*siglen ? *siglen : 1))
      || EVP_DigestSign (ctx, *sig, siglen, data, len) <= 0)
    {
      free (*sig);
      *sig = NULL;
      ossl_crypto_error (err, errlen, "cannot sign");
      goto out;
    }
  rc = 0;
 out:
  EVP_MD_CTX_free (ctx);
  return rc;
}

int
ossl_pkey_verify (EVP_PKEY *k, const EVP_MD *md, enum ossl_padding pad,
                  const unsigned char *data, size_t len,
                  const unsigned char *sig, size_t siglen,
                  char *err, size_t errlen)
{
  EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
  int rc = -1;

  ERR_clear_error ();
  if (!ctx)
    {
      ossl_crypto_error (err, errlen, "out of memory");
      return -1;
    }
  if (sign_init (ctx, k, md, pad, 1, err, errlen) == 0)
    /* Past the set-up, any failure means the signature is not good:
       a malformed one included.  */
    rc = EVP_DigestVerify (ctx, sig, siglen, data, len) == 1;
  ERR_clear_error ();
  EVP_MD_CTX_free (ctx);
  return rc;
}

/* Key agreement and key transport.  */

int
ossl_pkey_derive (EVP_PKEY *k, EVP_PKEY *peer, unsigned char **out,
                  size_t *outlen, char *err, size_t errlen)
{
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey (NULL, k, NULL);
  int rc = -1;

  *out = NULL;
  ERR_clear_error ();
  if (!ctx || EVP_PKEY_derive_init (ctx) <= 0)
    {
      ossl_crypto_error (err, errlen, "this key cannot agree on secrets");
      goto out;
    }
  if (EVP_PKEY_derive_set_peer_ex (ctx, peer, 1) <= 0)
    {
      ossl_crypto_error (err, errlen, "the peer key does not fit this key");
      goto out;
    }
  if (EVP_PKEY_derive (ctx, NULL, outlen) <= 0
      || !(*out = malloc (*outlen ? *outlen : 1))
      || EVP_PKEY_derive (ctx, *out, outlen) <= 0)
    {
      if (*out)
        OPENSSL_clear_free (*out, *outlen);
      *out = NULL;
      ossl_crypto_error (err, errlen, "cannot derive the shared secret");
      goto out;
    }
  rc = 0;
 out:
  EVP_PKEY_CTX_free (ctx);
  return rc;
}

int
ossl_pkey_encrypt (EVP_PKEY *k, int decrypt, const unsigned char *in,
                   size_t inlen, unsigned char **out, size_t *outlen,
                   char *err, size_t errlen)
{
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey (NULL, k, NULL);
  int rc = -1;
  size_t size;

  *out = NULL;
  ERR_clear_error ();
  if (!ctx
      || (decrypt ? EVP_PKEY_decrypt_init (ctx)
          : EVP_PKEY_encrypt_init (ctx)) <= 0
      || EVP_PKEY_CTX_set_rsa_padding (ctx, RSA_PKCS1_PADDING) <= 0)
    {
      ossl_crypto_error (err, errlen, "envelopes need RSA keys");
      goto out;
    }
  if ((decrypt ? EVP_PKEY_decrypt (ctx, NULL, &size, in, inlen)
       : EVP_PKEY_encrypt (ctx, NULL, &size, in, inlen)) <= 0
      || !(*out = malloc (size ? size : 1))
      || (decrypt ? EVP_PKEY_decrypt (ctx, *out, &size, in, inlen)
          : EVP_PKEY_encrypt (ctx, *out, &size, in, inlen)) <= 0)
    {
      if (*out)
        OPENSSL_clear_free (*out, size);
      *out = NULL;
      ossl_crypto_error (err, errlen, decrypt
                         ? "cannot decrypt the envelope's key"
                         : "cannot encrypt the envelope's key");
      goto out;
    }
  *outlen = size;
  rc = 0;
 out:
  EVP_PKEY_CTX_free (ctx);
  return rc;
}

/* A buffer for what a cipher makes of LEN bytes.  */
static unsigned char *
room (size_t len, char *err, size_t errlen)
{
  unsigned char *p = NULL;

  if (len <= SIZE_MAX - OSSL_CRYPTO_SLACK)
    p = malloc (len + OSSL_CRYPTO_SLACK);
  if (!p)
    snprintf (err, errlen, "out of memory");
  return p;
}

void
ossl_envelope_free (struct ossl_envelope *env)
{
  size_t i;

  for (i = 0; env->keys && i < env->n; i++)
    free (env->keys[i]);
  free (env->keys);
  free (env->keylens);
  free (env->data);
  memset (env, 0, sizeof *env);
}

int
ossl_pkey_seal (const char *cipher, EVP_PKEY **keys, size_t n,
                const unsigned char *data, size_t len,
                struct ossl_envelope *env, char *err, size_t errlen)
{
  struct ossl_cipher_info info;
  unsigned char key[EVP_MAX_KEY_LENGTH];
  int rc = -1;
  size_t i;

  memset (env, 0, sizeof *env);
  if (ossl_crypto_cipher_info (cipher, &info, err, errlen))
    return -1;
  if (info.key_length > EVP_MAX_KEY_LENGTH || info.iv_length > EVP_MAX_IV_LENGTH)
    {
      snprintf (err, errlen, "cannot seal with %s", cipher);
      return -1;
    }
  if (!(env->keys = calloc (n ? n : 1, sizeof *env->keys))
      || !(env->keylens = calloc (n ? n : 1, sizeof *env->keylens)))
    {
      snprintf (err, errlen, "out of memory");
      goto out;
    }
  env->n = n;
  env->ivlen = info.iv_length;
  if (ossl_crypto_rand (key, info.key_length, err, errlen)
      || ossl_crypto_rand (env->iv, env->ivlen, err, errlen))
    goto out;
  for (i = 0; i < n; i++)
    if (ossl_pkey_encrypt (keys[i], 0, key, info.key_length, &env->keys[i],
                           &env->keylens[i], err, errlen))
      goto out;
  if (!(env->data = room (len, err, errlen)))
    goto out;
  rc = ossl_crypto_cipher_run (cipher, 1, data, len, key, info.key_length,
                               env->ivlen ? env->iv : NULL, env->ivlen,
                               NULL, 0, env->data, &env->len, err, errlen);
 out:
  OPENSSL_cleanse (key, sizeof key);
  if (rc)
    ossl_envelope_free (env);
  return rc;
}

int
ossl_pkey_open (const char *cipher, EVP_PKEY *k, const unsigned char *ek,
                size_t eklen, const unsigned char *iv, size_t ivlen,
                const unsigned char *data, size_t len,
                unsigned char **out, size_t *outlen,
                char *err, size_t errlen)
{
  struct ossl_cipher_info info;
  unsigned char *key;
  size_t keylen;
  int rc;

  *out = NULL;
  if (ossl_crypto_cipher_info (cipher, &info, err, errlen)
      || ossl_pkey_encrypt (k, 1, ek, eklen, &key, &keylen, err, errlen))
    return -1;
  if (keylen != (size_t) info.key_length)
    {
      snprintf (err, errlen, "the envelope's key is not a %s key", cipher);
      rc = -1;
    }
  else if (!(*out = room (len, err, errlen)))
    rc = -1;
  else
    {
      /* On failure OUT is wiped: nothing unauthenticated is left.  */
      rc = ossl_crypto_cipher_run (cipher, 0, data, len, key, keylen,
                                   info.iv_length ? iv : NULL,
                                   info.iv_length ? ivlen : 0, NULL, 0,
                                   *out, outlen, err, errlen);
      if (rc)
        {
          free (*out);
          *out = NULL;
        }
    }
  OPENSSL_clear_free (key, keylen);
  return rc;
}

/* PEM and DER.  */

/* The password callback when there is no password: never ask
   OpenSSL's default, which would prompt on Emacs's terminal.  */
static int
no_password (char *buf, int size, int rwflag, void *u)
{
  (void) buf, (void) size, (void) rwflag, (void) u;
  return -1;
}

/* Decode one key of SELECTION from BIO (PEM or DER, any structure),
   from its start.  */
static EVP_PKEY *
decode (BIO *bio, int selection, pem_password_cb *password_cb,
        void *userdata)
{
  EVP_PKEY *k = NULL;
  OSSL_DECODER_CTX *d = OSSL_DECODER_CTX_new_for_pkey (&k, NULL, NULL, NULL,
                                                       selection, NULL, NULL);
  (void) BIO_reset (bio);
  if (d && OSSL_DECODER_CTX_set_pem_password_cb (d, password_cb
                                                 ? password_cb : no_password,
                                                 userdata))
    (void) OSSL_DECODER_from_bio (d, bio);
  OSSL_DECODER_CTX_free (d);
  return k;
}

/* The key of the PEM or DER certificate in BIO.  */
static EVP_PKEY *
certificate_key (BIO *bio)
{
  X509 *x = PEM_read_bio_X509 (bio, NULL, NULL, NULL);
  EVP_PKEY *k = NULL;

  if (!x)
    {
      (void) BIO_reset (bio);
      x = d2i_X509_bio (bio, NULL);
    }
  if (x)
    k = X509_get_pubkey (x);
  X509_free (x);
  return k;
}

EVP_PKEY *
ossl_pkey_read (const char *data, size_t len, int is_file, int public_only,
                pem_password_cb *password_cb, void *userdata,
                char *err, size_t errlen)
{
  BIO *bio;
  EVP_PKEY *k = NULL;
  const char *what = public_only ? "public key" : "key";

  ERR_clear_error ();
  if (!is_file && len > INT_MAX)
    {
      ossl_crypto_error (err, errlen, "key data too long");
      return NULL;
    }
  bio = is_file ? BIO_new_file (data, "rb") : BIO_new_mem_buf (data, (int) len);
  if (!bio)
    {
      if (is_file)
        ossl_crypto_error (err, errlen, "cannot read %s from the file", what);
      else
        ossl_crypto_error (err, errlen, "out of memory");
      return NULL;
    }
  /* A key pair first, unless only the public half is wanted: then it
     is read without a password, and stripped below.  */
  if (!public_only)
    k = decode (bio, EVP_PKEY_KEYPAIR, password_cb, userdata);
  if (!k)
    k = decode (bio, EVP_PKEY_PUBLIC_KEY, NULL, NULL);
  if (!k && public_only)
    k = decode (bio, EVP_PKEY_KEYPAIR, NULL, NULL);
  if (!k && public_only)
    {
      (void) BIO_reset (bio);
      k = certificate_key (bio);
    }
  BIO_free (bio);
  if (k && public_only && is_private (k))
    {
      EVP_PKEY *pub = ossl_pkey_public (k, err, errlen);
      EVP_PKEY_free (k);
      return pub;
    }
  ERR_clear_error ();
  if (!k)
    snprintf (err, errlen, "cannot read %s from %s%s", what,
              is_file ? "the file" : "data",
              public_only ? ""
              : password_cb ? " (wrong password?)"
              : " (no key there, or it is encrypted and needs a password)");
  return k;
}

int
ossl_pkey_encode (EVP_PKEY *k, int private, int pem, const char *cipher,
                  pem_password_cb *password_cb, void *userdata,
                  char **out, size_t *outlen, char *err, size_t errlen)
{
  OSSL_ENCODER_CTX *e;
  unsigned char *buf = NULL;
  size_t len = 0;
  int rc = -1;

  *out = NULL;
  ERR_clear_error ();
  if (private && !is_private (k))
    {
      snprintf (err, errlen, "not a private key");
      return -1;
    }
  e = OSSL_ENCODER_CTX_new_for_pkey (k, private ? EVP_PKEY_KEYPAIR
                                     : EVP_PKEY_PUBLIC_KEY,
                                     pem ? "PEM" : "DER",
                                     private ? "PrivateKeyInfo"
                                     : "SubjectPublicKeyInfo", NULL);
  if (!e || OSSL_ENCODER_CTX_get_num_encoders (e) == 0)
    {
      ossl_crypto_error (err, errlen, "cannot encode this key");
      goto out;
    }
  if (cipher
      && (!OSSL_ENCODER_CTX_set_cipher (e, cipher, NULL)
          || !OSSL_ENCODER_CTX_set_pem_password_cb (e, password_cb,
                                                    userdata)))
    {
      ossl_crypto_error (err, errlen, "cannot encrypt the key with %s",
                         cipher);
      goto out;
    }
  if (!OSSL_ENCODER_to_data (e, &buf, &len))
    {
      ossl_crypto_error (err, errlen, "cannot encode the key%s",
                         cipher ? " (no password?)" : "");
      goto out;
    }
  /* Copy into malloc'd memory, NUL-terminated, and wipe OpenSSL's.  */
  if (!(*out = malloc (len + 1)))
    {
      snprintf (err, errlen, "out of memory");
      goto out;
    }
  memcpy (*out, buf, len);
  (*out)[len] = 0;
  *outlen = len;
  rc = 0;
 out:
  if (buf)
    OPENSSL_clear_free (buf, len);
  OSSL_ENCODER_CTX_free (e);
  return rc;
}

/* Write all of DATA to FD.  */
static int
write_all (int fd, const char *data, size_t len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, data, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return -1;
      data += n;
      len -= (size_t) n;
    }
  return 0;
}

int
ossl_pkey_write_file (const char *file, const char *data, size_t len,
                      int secret, char *err, size_t errlen)
{
  size_t flen = strlen (file);
  char *tmp = NULL;
  int fd, saved;

  if (secret)
    {
      /* A fresh file beside FILE, made with mode 0600 by mkstemp:
         the key is never readable by others, not even for an
         instant, whatever mode an old FILE had.  */
      if (!(tmp = malloc (flen + sizeof ".XXXXXX")))
        {
          snprintf (err, errlen, "out of memory");
          return -1;
        }
      memcpy (tmp, file, flen);
      memcpy (tmp + flen, ".XXXXXX", sizeof ".XXXXXX");
      fd = mkstemp (tmp);
    }
  else
    fd = open (file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0)
    {
      snprintf (err, errlen, "cannot write the file: %s", strerror (errno));
      free (tmp);
      return -1;
    }
  if (write_all (fd, data, len) || (secret && fsync (fd)))
    {
      saved = errno;
      close (fd);
      goto fail;
    }
  if (close (fd) || (secret && rename (tmp, file)))
    {
      saved = errno;
      goto fail;
    }
  free (tmp);
  return 0;
 fail:
  snprintf (err, errlen, "cannot write the file: %s", strerror (saved));
  if (tmp)
    unlink (tmp);
  free (tmp);
  return -1;
}

/* Certificates.  */

EVP_PKEY *
ossl_pkey_of_x509 (X509 *x, char *err, size_t errlen)
{
  EVP_PKEY *k = X509_get_pubkey (x);
  if (!k)
    ossl_crypto_error (err, errlen, "cannot read the certificate's key");
  return k;
}

int
ossl_pkey_x509_signed_by (X509 *x, EVP_PKEY *k)
{
  int r = X509_verify (x, k);
  ERR_clear_error ();
  return r == 1;
}
