/* crypto.c -- digests, MACs, random bytes, key derivation and
   symmetric ciphers over OpenSSL's EVP layer (issue 16).  */

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "crypto.h"

#define PIECE OSSL_CRYPTO_PIECE
/* Every AEAD cipher's tag, appended to the ciphertext.  */
#define TAGLEN 16

void
ossl_crypto_error (char *err, size_t errlen, const char *fmt, ...)
{
  unsigned long e = ERR_peek_error ();
  va_list ap;
  size_t used;

  if (err && errlen)
    {
      va_start (ap, fmt);
      vsnprintf (err, errlen, fmt, ap);
      va_end (ap);
      used = strlen (err);
      if (e && used + 3 < errlen)
        {
          char reason[256];
          const char *r = ERR_reason_error_string (e);
          if (r)
            snprintf (reason, sizeof reason, "%s", r);
          else
            ERR_error_string_n (e, reason, sizeof reason);
          snprintf (err + used, errlen - used, "%s%s", used ? ": " : "",
                    reason);
        }
    }
  ERR_clear_error ();
}

EVP_MD *
ossl_crypto_md (const char *name)
{
  EVP_MD *md;
  ERR_set_mark ();
  md = EVP_MD_fetch (NULL, name, NULL);
  ERR_pop_to_mark ();
  return md;
}

EVP_CIPHER *
ossl_crypto_cipher (const char *name)
{
  EVP_CIPHER *c;
  ERR_set_mark ();
  c = EVP_CIPHER_fetch (NULL, name, NULL);
  ERR_pop_to_mark ();
  return c;
}

void
ossl_crypto_md_free (EVP_MD *md)
{
  EVP_MD_free (md);
}

void
ossl_crypto_cleanse (void *p, size_t len)
{
  OPENSSL_cleanse (p, len);
}

_Static_assert (OSSL_MAX_MD_SIZE == EVP_MAX_MD_SIZE
                && OSSL_MAX_KEY_LENGTH == EVP_MAX_KEY_LENGTH
                && OSSL_MAX_IV_LENGTH == EVP_MAX_IV_LENGTH
                && OSSL_MAX_BLOCK_LENGTH == EVP_MAX_BLOCK_LENGTH,
                "crypto.h's sizes are OpenSSL's");

const char *
ossl_crypto_version (void)
{
  return OpenSSL_version (OPENSSL_VERSION);
}

/* Listing names.  */

struct names_walk
{
  void (*fn) (const char *, void *);
  void *arg;
};

static void
one_name (const char *name, void *data)
{
  struct names_walk *w = data;
  /* OIDs ("2.16.840.1.101.3.4.2.1") are names too; nobody types them.  */
  if (name[0] < '0' || name[0] > '9')
    w->fn (name, w->arg);
}

static void
md_names (EVP_MD *md, void *data)
{
  EVP_MD_names_do_all (md, one_name, data);
}

static void
cipher_names (EVP_CIPHER *c, void *data)
{
  EVP_CIPHER_names_do_all (c, one_name, data);
}

void
ossl_crypto_names (int ciphers, void (*fn) (const char *, void *), void *arg)
{
  struct names_walk w = { fn, arg };
  if (ciphers)
    EVP_CIPHER_do_all_provided (NULL, cipher_names, &w);
  else
    EVP_MD_do_all_provided (NULL, md_names, &w);
  ERR_clear_error ();
}

/* Facts.  */

static EVP_MD *
need_md (const char *name, char *err, size_t errlen)
{
  EVP_MD *md = ossl_crypto_md (name);
  if (!md)
    ossl_crypto_error (err, errlen, "unknown digest %s", name);
  return md;
}

static EVP_CIPHER *
need_cipher (const char *name, char *err, size_t errlen)
{
  EVP_CIPHER *c = ossl_crypto_cipher (name);
  if (!c)
    ossl_crypto_error (err, errlen, "unknown cipher %s", name);
  return c;
}

/* A digest that HMAC and the KDFs can use: fixed output, not empty.
   (The NULL digest would make PBKDF2 and EVP_BytesToKey loop for
   ever.)  */
static EVP_MD *
need_mac_md (const char *name, char *err, size_t errlen)
{
  EVP_MD *md = need_md (name, err, errlen);
  if (md && (EVP_MD_get_size (md) <= 0
             || (EVP_MD_get_flags (md) & EVP_MD_FLAG_XOF)))
    {
      ossl_crypto_error (err, errlen, "digest %s cannot key a MAC or KDF",
                         name);
      EVP_MD_free (md);
      md = NULL;
    }
  return md;
}

int
ossl_crypto_md_info (const char *name, int *size, int *block, char *err,
                     size_t errlen)
{
  EVP_MD *md = need_md (name, err, errlen);
  if (!md)
    return -1;
  *size = EVP_MD_get_size (md);
  *block = EVP_MD_get_block_size (md);
  EVP_MD_free (md);
  return 0;
}

static const char *
mode_name (const EVP_CIPHER *c)
{
  switch (EVP_CIPHER_get_mode (c))
    {
    case EVP_CIPH_STREAM_CIPHER: return "stream";
    case EVP_CIPH_ECB_MODE: return "ecb";
    case EVP_CIPH_CBC_MODE: return "cbc";
    case EVP_CIPH_CFB_MODE: return "cfb";
    case EVP_CIPH_OFB_MODE: return "ofb";
    case EVP_CIPH_CTR_MODE: return "ctr";
    case EVP_CIPH_GCM_MODE: return "gcm";
    case EVP_CIPH_CCM_MODE: return "ccm";
    case EVP_CIPH_XTS_MODE: return "xts";
    case EVP_CIPH_WRAP_MODE: return "wrap";
    case EVP_CIPH_OCB_MODE: return "ocb";
    case EVP_CIPH_SIV_MODE: return "siv";
    default: return "other";
    }
}

int
ossl_crypto_cipher_info (const char *name, struct ossl_cipher_info *info,
                         char *err, size_t errlen)
{
  EVP_CIPHER *c = need_cipher (name, err, errlen);
  unsigned long flags;
  if (!c)
    return -1;
  flags = EVP_CIPHER_get_flags (c);
  info->key_length = EVP_CIPHER_get_key_length (c);
  info->iv_length = EVP_CIPHER_get_iv_length (c);
  info->block_size = EVP_CIPHER_get_block_size (c);
  info->aead = (flags & EVP_CIPH_FLAG_AEAD_CIPHER) != 0;
  info->variable_key = (flags & EVP_CIPH_VARIABLE_LENGTH) != 0;
  info->mode = mode_name (c);
  EVP_CIPHER_free (c);
  return 0;
}

/* Random bytes, digests, MACs.  */

int
ossl_crypto_rand (unsigned char *out, size_t len, char *err, size_t errlen)
{
  if (len > INT_MAX)
    {
      ossl_crypto_error (err, errlen, "too many random bytes asked for");
      return -1;
    }
  if (RAND_bytes (out, (int) len) != 1)
    {
      ossl_crypto_error (err, errlen, "no random bytes");
      return -1;
    }
  return 0;
}

int
ossl_crypto_digest (const char *name, const unsigned char *data, size_t len,
                    unsigned char *out, size_t *outlen, char *err,
                    size_t errlen)
{
  EVP_MD *md = need_md (name, err, errlen);
  unsigned int n = 0;
  int ok;
  if (!md)
    return -1;
  ok = EVP_Digest (data, len, out, &n, md, NULL);
  EVP_MD_free (md);
  if (!ok)
    {
      ossl_crypto_error (err, errlen, "cannot compute digest %s", name);
      return -1;
    }
  *outlen = n;
  return 0;
}

int
ossl_crypto_digest_file (const char *name, const char *file,
                         unsigned char *out, size_t *outlen, char *err,
                         size_t errlen)
{
  enum { BUFLEN = 1 << 16 };
  EVP_MD *md = need_md (name, err, errlen);
  EVP_MD_CTX *ctx = NULL;
  unsigned char *buf = NULL;
  unsigned int n = 0;
  FILE *fp = NULL;
  struct stat st;
  int rc = -1;
  size_t got;

  if (!md)
    return -1;
  if (!(fp = fopen (file, "rb")))
    {
      ossl_crypto_error (err, errlen, "cannot open %s: %s", file,
                         strerror (errno));
      goto out;
    }
  /* /dev/zero or a pipe would keep the module, and Emacs, reading for
     ever: a module call cannot be interrupted.  */
  if (fstat (fileno (fp), &st) || !S_ISREG (st.st_mode))
    {
      ossl_crypto_error (err, errlen, "%s is not a regular file", file);
      goto out;
    }
  if (!(ctx = EVP_MD_CTX_new ()) || !(buf = malloc (BUFLEN))
      || !EVP_DigestInit_ex2 (ctx, md, NULL))
    {
      ossl_crypto_error (err, errlen, "cannot compute digest %s", name);
      goto out;
    }
  while ((got = fread (buf, 1, BUFLEN, fp)) > 0)
    if (!EVP_DigestUpdate (ctx, buf, got))
      {
        ossl_crypto_error (err, errlen, "cannot compute digest %s", name);
        goto out;
      }
  if (ferror (fp))
    {
      ossl_crypto_error (err, errlen, "cannot read %s: %s", file,
                         strerror (errno));
      goto out;
    }
  if (!EVP_DigestFinal_ex (ctx, out, &n))
    {
      ossl_crypto_error (err, errlen, "cannot compute digest %s", name);
      goto out;
    }
  *outlen = n;
  rc = 0;
 out:
  if (fp)
    fclose (fp);
  free (buf);
  EVP_MD_CTX_free (ctx);
  EVP_MD_free (md);
  return rc;
}

int
ossl_crypto_hmac (const char *name, const unsigned char *data, size_t len,
                  const unsigned char *key, size_t keylen,
                  unsigned char *out, size_t *outlen, char *err,
                  size_t errlen)
{
  EVP_MD *md;
  unsigned int n = 0;
  unsigned char *r;

  if (keylen == 0 || keylen > INT_MAX)
    {
      ossl_crypto_error (err, errlen, keylen ? "HMAC key too long"
                         : "empty HMAC key");
      return -1;
    }
  if (!(md = need_mac_md (name, err, errlen)))
    return -1;
  r = HMAC (md, key, (int) keylen, data, len, out, &n);
  EVP_MD_free (md);
  if (!r)
    {
      ossl_crypto_error (err, errlen, "cannot compute HMAC-%s", name);
      return -1;
    }
  *outlen = n;
  return 0;
}

/* Key derivation.  */

int
ossl_crypto_bytes_to_key (const char *cipher, const char *md,
                          const unsigned char *salt,
                          const unsigned char *pass, size_t passlen,
                          int count, unsigned char *key, int *keylen,
                          unsigned char *iv, int *ivlen,
                          char *err, size_t errlen)
{
  EVP_CIPHER *c = NULL;
  EVP_MD *m = NULL;
  int rc = -1;

  if (passlen > INT_MAX || count < 1)
    {
      ossl_crypto_error (err, errlen, passlen > INT_MAX
                         ? "password too long" : "count must be positive");
      return -1;
    }
  if (!(c = need_cipher (cipher, err, errlen))
      || !(m = need_mac_md (md, err, errlen)))
    goto out;
  if (EVP_CIPHER_get_key_length (c) > EVP_MAX_KEY_LENGTH
      || EVP_CIPHER_get_iv_length (c) > EVP_MAX_IV_LENGTH)
    {
      ossl_crypto_error (err, errlen, "cipher %s has too long a key or IV",
                         cipher);
      goto out;
    }
  if (!EVP_BytesToKey (c, m, salt, pass, (int) passlen, count, key, iv))
    {
      ossl_crypto_error (err, errlen, "cannot derive a key for %s", cipher);
      goto out;
    }
  *keylen = EVP_CIPHER_get_key_length (c);
  *ivlen = EVP_CIPHER_get_iv_length (c);
  rc = 0;
 out:
  EVP_CIPHER_free (c);
  EVP_MD_free (m);
  return rc;
}

int
ossl_crypto_pbkdf2 (const char *md, const unsigned char *pass,
                    size_t passlen, const unsigned char *salt,
                    size_t saltlen, int iterations, unsigned char *out,
                    size_t outlen, char *err, size_t errlen)
{
  EVP_MD *m;
  int ok;

  if (passlen > INT_MAX || saltlen > INT_MAX || outlen > INT_MAX
      || outlen == 0 || iterations < 1)
    {
      ossl_crypto_error (err, errlen, "PBKDF2 arguments out of range");
      return -1;
    }
  if (!(m = need_mac_md (md, err, errlen)))
    return -1;
  ok = PKCS5_PBKDF2_HMAC ((const char *) pass, (int) passlen, salt,
                          (int) saltlen, iterations, m, (int) outlen, out);
  EVP_MD_free (m);
  if (!ok)
    {
      ossl_crypto_error (err, errlen, "PBKDF2 failed");
      return -1;
    }
  return 0;
}

int
ossl_crypto_hkdf (const char *md, const unsigned char *key, size_t keylen,
                  const unsigned char *salt, size_t saltlen,
                  const unsigned char *info, size_t infolen,
                  unsigned char *out, size_t outlen, char *err,
                  size_t errlen)
{
  EVP_MD *m;
  EVP_KDF *kdf = NULL;
  EVP_KDF_CTX *ctx = NULL;
  OSSL_PARAM params[5], *p = params;
  int rc = -1;

  if (keylen == 0)
    {
      ossl_crypto_error (err, errlen, "empty HKDF key");
      return -1;
    }
  if (!(m = need_mac_md (md, err, errlen)))
    return -1;
  *p++ = OSSL_PARAM_construct_utf8_string (OSSL_KDF_PARAM_DIGEST,
                                           (char *) EVP_MD_get0_name (m), 0);
  *p++ = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_KEY,
                                            (void *) key, keylen);
  if (saltlen)
    *p++ = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_SALT,
                                              (void *) salt, saltlen);
  if (infolen)
    *p++ = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_INFO,
                                              (void *) info, infolen);
  *p = OSSL_PARAM_construct_end ();
  if (!(kdf = EVP_KDF_fetch (NULL, "HKDF", NULL))
      || !(ctx = EVP_KDF_CTX_new (kdf))
      || EVP_KDF_derive (ctx, out, outlen, params) <= 0)
    ossl_crypto_error (err, errlen, "HKDF failed");
  else
    rc = 0;
  EVP_KDF_CTX_free (ctx);
  EVP_KDF_free (kdf);
  EVP_MD_free (m);
  return rc;
}

int
ossl_crypto_scrypt (const unsigned char *pass, size_t passlen,
                    const unsigned char *salt, size_t saltlen,
                    uint64_t n, uint64_t r, uint64_t p, uint64_t maxmem,
                    unsigned char *out, size_t outlen, char *err,
                    size_t errlen)
{
  if (outlen == 0)
    {
      ossl_crypto_error (err, errlen, "scrypt output length must be positive");
      return -1;
    }
  if (n < 2 || (n & (n - 1)) || r == 0 || p == 0)
    {
      ossl_crypto_error (err, errlen, "scrypt needs N a power of 2 above 1,"
                         " R and P positive");
      return -1;
    }
  if (!EVP_PBE_scrypt ((const char *) pass, passlen, salt, saltlen, n, r, p,
                       maxmem, out, outlen))
    {
      ossl_crypto_error (err, errlen, "scrypt failed (N * R too large?)");
      return -1;
    }
  return 0;
}

/* Symmetric ciphers.  */

/* Check the lengths of KEY and IV (and AAD's presence) against C.  */
static int
check_cipher_args (const char *name, const EVP_CIPHER *c, size_t keylen,
                   const unsigned char *iv, size_t ivlen, int aead,
                   const unsigned char *aad, char *err, size_t errlen)
{
  int want_key = EVP_CIPHER_get_key_length (c);
  int want_iv = EVP_CIPHER_get_iv_length (c);
  int variable = (EVP_CIPHER_get_flags (c) & EVP_CIPH_VARIABLE_LENGTH) != 0;

  if (keylen == 0)
    ossl_crypto_error (err, errlen, "empty key: %s needs a %d-byte key",
                       name, want_key);
  else if (!variable && keylen != (size_t) want_key)
    ossl_crypto_error (err, errlen, "%s needs a %d-byte key, not %zu bytes",
                       name, want_key, keylen);
  else if (variable && keylen > INT_MAX)
    ossl_crypto_error (err, errlen, "key too long");
  else if (want_iv == 0 && iv)
    ossl_crypto_error (err, errlen, "%s takes no IV", name);
  else if (want_iv > 0 && !iv)
    ossl_crypto_error (err, errlen, "%s needs a %d-byte IV", name, want_iv);
  else if (iv && ivlen != (size_t) want_iv)
    ossl_crypto_error (err, errlen, "%s needs a %d-byte IV, not %zu bytes",
                       name, want_iv, ivlen);
  else if (aad && !aead)
    ossl_crypto_error (err, errlen, "%s is not an AEAD cipher: no AAD", name);
  else
    return 0;
  return -1;
}

/* Feed LEN bytes of IN to CTX in pieces EVP can take; OUT NULL feeds
   AAD.  At least one call, so that CCM sees its (maybe empty) data.  */
static int
update (EVP_CIPHER_CTX *ctx, unsigned char *out, size_t *outlen,
        const unsigned char *in, size_t len)
{
  size_t done = 0;
  *outlen = 0;
  do
    {
      int piece = len - done > PIECE ? PIECE : (int) (len - done);
      int n = 0;
      if (!EVP_CipherUpdate (ctx, out ? out + *outlen : NULL, &n,
                             in + done, piece))
        return 0;
      done += (size_t) piece;
      if (out)
        *outlen += (size_t) n;
    }
  while (done < len);
  return 1;
}

int
ossl_crypto_cipher_run (const char *name, int encrypt,
                        const unsigned char *data, size_t len,
                        const unsigned char *key, size_t keylen,
                        const unsigned char *iv, size_t ivlen,
                        const unsigned char *aad, size_t aadlen,
                        unsigned char *out, size_t *outlen,
                        char *err, size_t errlen)
{
  EVP_CIPHER *c = need_cipher (name, err, errlen);
  EVP_CIPHER_CTX *ctx = NULL;
  size_t n, got = 0;
  int aead, mode, fin = 0, rc = -1;
  const unsigned char *tag;
  /* A copy of the tag: decrypting in place writes over DATA.  */
  unsigned char tagcopy[TAGLEN];

  if (!c)
    return -1;
  aead = (EVP_CIPHER_get_flags (c) & EVP_CIPH_FLAG_AEAD_CIPHER) != 0;
  mode = EVP_CIPHER_get_mode (c);
  if (check_cipher_args (name, c, keylen, iv, ivlen, aead, aad, err, errlen))
    goto out;
  if (!encrypt && aead && len < TAGLEN)
    {
      ossl_crypto_error (err, errlen, "ciphertext shorter than its %d-byte"
                         " tag", TAGLEN);
      goto out;
    }
  /* The data proper, without the tag of an AEAD ciphertext.  */
  n = !encrypt && aead ? len - TAGLEN : len;
  if (!encrypt && aead && mode == EVP_CIPH_SIV_MODE)
    {
      /* SIV's tag (the synthetic IV) comes first (RFC 5297).  */
      memcpy (tagcopy, data, TAGLEN);
      if (out == data)
        memmove (out, data + TAGLEN, n);
      else
        data += TAGLEN;
    }
  else if (!encrypt && aead)
    memcpy (tagcopy, data + n, TAGLEN);
  tag = tagcopy;
  /* CCM and SIV take their data in one call.  */
  if ((mode == EVP_CIPH_CCM_MODE || mode == EVP_CIPH_SIV_MODE) && n > PIECE)
    {
      ossl_crypto_error (err, errlen, "%s takes at most %d bytes", name,
                         PIECE);
      goto out;
    }
  if (out == data && len > PIECE)
    {
      ossl_crypto_error (err, errlen, "cannot work in place on %zu bytes",
                         len);
      goto out;
    }
  if (!(ctx = EVP_CIPHER_CTX_new ()))
    {
      ossl_crypto_error (err, errlen, "out of memory");
      goto out;
    }
  if (!EVP_CipherInit_ex2 (ctx, c, NULL, NULL, encrypt, NULL)
      || ((EVP_CIPHER_get_flags (c) & EVP_CIPH_VARIABLE_LENGTH)
          && !EVP_CIPHER_CTX_set_key_length (ctx, (int) keylen))
      /* The nonce length the cipher declares: CCM would otherwise use
         7 bytes of it.  */
      || (aead && !EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_AEAD_SET_IVLEN,
                                        (int) ivlen, NULL))
      /* CCM wants its tag (or the tag's length) before the key.  */
      || (mode == EVP_CIPH_CCM_MODE
          && !EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_AEAD_SET_TAG, TAGLEN,
                                   encrypt ? NULL : (void *) tag))
      || !EVP_CipherInit_ex2 (ctx, NULL, key, iv, encrypt, NULL)
      || (!encrypt && aead && mode != EVP_CIPH_CCM_MODE
          && !EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_AEAD_SET_TAG, TAGLEN,
                                   (void *) tag)))
    {
      ossl_crypto_error (err, errlen, "cannot set up %s", name);
      goto out;
    }
  if (mode == EVP_CIPH_CCM_MODE)
    {
      int dummy;
      if (!EVP_CipherUpdate (ctx, NULL, &dummy, NULL, (int) n))
        {
          ossl_crypto_error (err, errlen, "cannot set up %s", name);
          goto out;
        }
    }
  if (aad && aadlen && !update (ctx, NULL, &got, aad, aadlen))
    {
      ossl_crypto_error (err, errlen, "%s: cannot take the AAD", name);
      goto out;
    }
  if (!update (ctx, out, &got, data, n)
      || !EVP_CipherFinal_ex (ctx, out + got, &fin))
    {
      if (encrypt)
        ossl_crypto_error (err, errlen, "cannot encrypt with %s", name);
      else if (aead)
        ossl_crypto_error (err, errlen, "%s: authentication failed (wrong key,"
                           " IV or AAD, or altered data)", name);
      else
        ossl_crypto_error (err, errlen, "%s: cannot decrypt (wrong key or IV,"
                           " or altered data)", name);
      goto out;
    }
  got += (size_t) fin;
  if (encrypt && aead)
    {
      if (!EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_AEAD_GET_TAG, TAGLEN,
                                out + got))
        {
          ossl_crypto_error (err, errlen, "%s: no tag", name);
          goto out;
        }
      if (mode == EVP_CIPH_SIV_MODE)
        {
          memcpy (tagcopy, out + got, TAGLEN);
          memmove (out + TAGLEN, out, got);
          memcpy (out, tagcopy, TAGLEN);
        }
      got += TAGLEN;
    }
  *outlen = got;
  rc = 0;
 out:
  /* What a failed decryption decrypted is unauthenticated; what a
     failed encryption left may be plaintext.  */
  if (rc)
    OPENSSL_cleanse (out, len + OSSL_CRYPTO_SLACK);
  EVP_CIPHER_CTX_free (ctx);
  EVP_CIPHER_free (c);
  return rc;
}
