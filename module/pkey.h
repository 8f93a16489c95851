/* pkey.h -- public keys: generation, signatures, key agreement,
   envelopes, PEM and DER (issue 16).

   This layer knows OpenSSL only: it never includes emacs-module.h.
   Keys are EVP_PKEYs: their secrets stay in OpenSSL's memory, which
   OpenSSL wipes when the key is freed.  Functions that can fail return
   0 (or a key) on success and -1 (or NULL) on failure, leaving a
   human-readable reason, with OpenSSL's reason string when there is
   one, in ERR of ERRLEN bytes.  Reasons never hold key bytes or
   passwords, nor file names (which may not be UTF-8): they say "the
   file", for the caller to name it.  Buffers handed out are malloc'd; the caller frees them
   (after ossl_crypto_cleanse when they may hold secrets).  */

#ifndef OSSL_PKEY_H
#define OSSL_PKEY_H

#include <stddef.h>
#include "crypto.h"

/* OpenSSL's own struct names (EVP_PKEY and X509 are typedefs of
   them), so that the bind files that include this header need no
   OpenSSL.  */
struct evp_pkey_st;
struct x509_st;

/* OpenSSL's pem_password_cb, spelt out (as engine.h does).  */
typedef int ossl_password_cb (char *buf, int size, int rwflag,
                              void *userdata);

/* EVP_PKEY_free: free K (NULL is fine), wiping its secrets.  */
void ossl_pkey_free (struct evp_pkey_st *k);

/* What a key is.  TYPE is OpenSSL's name in upper case: "RSA",
   "RSA-PSS", "EC", "ED25519", "X25519", "ED448", "X448", "DSA",
   "DH"...  BITS is the size OpenSSL gives (the modulus for RSA, the
   order of the curve for EC: 256 for P-256).  */
struct ossl_pkey_info
{
  char type[32];
  int bits;
  int private_p;                /* holds its private half */
};

void ossl_pkey_info (struct evp_pkey_st *k, struct ossl_pkey_info *info);

/* A new key.  TYPE is "RSA" (BITS, EXPONENT), "EC" (CURVE, an OpenSSL
   curve name), "ED25519", "X25519", "ED448", "X448" or "DSA" (BITS).
   Unused arguments are ignored.  */
struct evp_pkey_st *ossl_pkey_generate (const char *type, int bits,
                              unsigned long exponent, const char *curve,
                              char *err, size_t errlen);

/* Call FN with the name of every named curve OpenSSL has.  */
void ossl_pkey_curves (void (*fn) (const char *name, void *arg), void *arg);

/* A new key holding only K's public half.  */
struct evp_pkey_st *ossl_pkey_public (struct evp_pkey_st *k, char *err, size_t errlen);
/* 1 when A and B have the same public key (and parameters).  */
int ossl_pkey_same_public (struct evp_pkey_st *a, struct evp_pkey_st *b);

/* Signature padding for RSA keys.  */
enum ossl_padding
{
  OSSL_PAD_DEFAULT,             /* PKCS#1 v1.5 */
  OSSL_PAD_PSS                  /* PSS, MGF1 with the same digest; salt
                                   as long as the digest, any salt
                                   length accepted on verification */
};

/* Sign DATA with the private key K and digest MD (NULL for Ed25519 and
   Ed448, which sign the message itself).  *SIG is malloc'd.  */
int ossl_pkey_sign (struct evp_pkey_st *k, const struct evp_md_st *md, enum ossl_padding pad,
                    const unsigned char *data, size_t len,
                    unsigned char **sig, size_t *siglen,
                    char *err, size_t errlen);
/* 1 when SIG is K's signature of DATA, 0 when it is not (a malformed
   signature included), -1 on errors: a key that cannot verify, a
   digest it cannot use.  */
int ossl_pkey_verify (struct evp_pkey_st *k, const struct evp_md_st *md, enum ossl_padding pad,
                      const unsigned char *data, size_t len,
                      const unsigned char *sig, size_t siglen,
                      char *err, size_t errlen);

/* The shared secret of the private key K and the public key PEER
   (ECDH, X25519, X448, DH).  *OUT is malloc'd.  */
int ossl_pkey_derive (struct evp_pkey_st *k, struct evp_pkey_st *peer, unsigned char **out,
                      size_t *outlen, char *err, size_t errlen);

/* Encrypt the short secret IN with the public key K (RSA, PKCS#1 v1.5
   padding as EVP_SealInit does), or decrypt it with the private key
   K.  *OUT is malloc'd.  */
int ossl_pkey_encrypt (struct evp_pkey_st *k, int decrypt, const unsigned char *in,
                       size_t inlen, unsigned char **out, size_t *outlen,
                       char *err, size_t errlen);

/* An envelope: DATA encrypted with a fresh random key and IV of a
   symmetric cipher, and that key encrypted with each of N public
   keys.  */
struct ossl_envelope
{
  unsigned char *data;
  size_t len;
  unsigned char **keys;         /* N encrypted keys */
  size_t *keylens;
  size_t n;
  unsigned char iv[OSSL_MAX_IV_LENGTH];
  int ivlen;                    /* 0 when the cipher takes no IV */
};

/* Seal DATA (LEN bytes) with cipher CIPHER for the N public KEYS
   (RSA).  AEAD ciphers append their tag, as ossl_crypto_cipher_run
   does.  */
int ossl_pkey_seal (const char *cipher, struct evp_pkey_st **keys, size_t n,
                    const unsigned char *data, size_t len,
                    struct ossl_envelope *env, char *err, size_t errlen);
void ossl_envelope_free (struct ossl_envelope *env);
/* Open the envelope DATA sealed with CIPHER, with the private key K,
   its encrypted key EK and the IV (ignored when CIPHER takes none).
   *OUT is malloc'd.  */
int ossl_pkey_open (const char *cipher, struct evp_pkey_st *k, const unsigned char *ek,
                    size_t eklen, const unsigned char *iv, size_t ivlen,
                    const unsigned char *data, size_t len,
                    unsigned char **out, size_t *outlen,
                    char *err, size_t errlen);

/* Read a key from DATA (LEN bytes), or from the file DATA when
   IS_FILE: PEM or DER, PKCS#8 (maybe encrypted), traditional or
   SubjectPublicKeyInfo.  PUBLIC_ONLY reads a public key, or the
   public half of an unencrypted private key, or the key of a
   certificate.  Otherwise a private key is preferred and a public key
   accepted.  An encrypted key asks PASSWORD_CB (with USERDATA, may be
   NULL) for its password.  */
struct evp_pkey_st *ossl_pkey_read (const char *data, size_t len, int is_file,
                          int public_only, ossl_password_cb *password_cb,
                          void *userdata, char *err, size_t errlen);

/* K in PEM (PEM non-zero) or DER: PKCS#8 when PRIVATE (K must hold its
   private half), encrypted with the cipher CIPHER (NULL: not
   encrypted) under the password PASSWORD_CB gives; else
   SubjectPublicKeyInfo.  *OUT is malloc'd; PEM is also
   NUL-terminated.  */
int ossl_pkey_encode (struct evp_pkey_st *k, int private, int pem, const char *cipher,
                      ossl_password_cb *password_cb, void *userdata,
                      char **out, size_t *outlen, char *err, size_t errlen);

/* Write LEN bytes of DATA to FILE.  With SECRET the file is made
   beside FILE with mode 0600 and renamed over it, so that no other
   user can ever read it, whatever FILE was before.  */
int ossl_pkey_write_file (const char *file, const char *data, size_t len,
                          int secret, char *err, size_t errlen);

/* The public key of certificate X (a new reference).  */
struct evp_pkey_st *ossl_pkey_of_x509 (struct x509_st *x, char *err, size_t errlen);
/* 1 when K's private half made X's signature, else 0.  */
int ossl_pkey_x509_signed_by (struct x509_st *x, struct evp_pkey_st *k);

#endif /* OSSL_PKEY_H */
