/* bind-crypto.c -- Lisp primitives for digests, MACs, random bytes,
   key derivation and symmetric ciphers (issue 16).

   Argument checks and Lisp conversions only; the work is in crypto.c.
   Algorithm names and data arrive as strings (ossl-crypto.el turns
   symbols, multibyte text and buffers into them); results are unibyte
   strings.  Copies of keys, IVs, passwords and plaintext are wiped
   before they are freed.  */

#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/mman.h>

#include "bindings.h"
#include "crypto.h"

#define FAILED(env) \
  ((env)->non_local_exit_check (env) != emacs_funcall_exit_return)

#define CRYPTO_ERROR "ossl-crypto-error"

/* Bytes of the string V, or of nothing when V is nil and NIL_OK (then
   *P is NULL and *LEN 0).  False after signalling.  */
static bool
bytes (emacs_env *env, emacs_value v, bool nil_ok, char **p, ptrdiff_t *len)
{
  *p = NULL;
  *len = 0;
  if (nil_ok && em_nilp (env, v))
    return true;
  *p = em_string (env, v, len);
  return *p != NULL;
}

/* The data of a call: big strings go to one scratch area kept from
   call to call, so that hashing or encrypting 100 MB does not fault in
   100 MB of fresh pages each time (that costs more than SHA-256 does).
   Between calls the area is given back with MADV_FREE: the kernel may
   take its pages when memory runs short, and until then they are
   reused without a fault.  Small data is malloc'd.  Module functions
   run on Emacs's main thread only, one at a time.  */

#define SCRATCH_MIN (1 << 20)

static unsigned char *scratch;
static size_t scratch_size;

/* A buffer of SIZE bytes for data; NULL if there is no memory.  */
static unsigned char *
data_buffer (size_t size)
{
  void *p;

  if (size < SCRATCH_MIN)
    return malloc (size);
  if (size <= scratch_size)
    return scratch;
  if (scratch)
    munmap (scratch, scratch_size);
  scratch = NULL;
  scratch_size = 0;
  p = mmap (NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
            -1, 0);
  if (p == MAP_FAILED)
    return NULL;
  scratch = p;
  scratch_size = size;
  return scratch;
}

/* Done with BUF from data_buffer; wipe its first WIPE bytes first.  */
static void
data_release (unsigned char *buf, size_t wipe)
{
  if (!buf)
    return;
  if (wipe)
    ossl_crypto_cleanse (buf, wipe);
  if (buf != scratch)
    free (buf);
#ifdef MADV_FREE
  else
    madvise (scratch, scratch_size, MADV_FREE);
#endif
}

/* The bytes of the string V in a data_buffer with EXTRA bytes of room
   after them; *LEN gets their count.  NULL after signalling.  */
static unsigned char *
data_copy (emacs_env *env, emacs_value v, size_t extra, ptrdiff_t *len)
{
  ptrdiff_t size = 0;
  unsigned char *buf;

  if (!env->eq (env, env->type_of (env, v), env->intern (env, "string")))
    {
      em_wrong_type (env, "stringp", v);
      return NULL;
    }
  if (!env->copy_string_contents (env, v, NULL, &size))
    return NULL;
  if (!(buf = data_buffer ((size_t) size + extra)))
    {
      em_signal (env, CRYPTO_ERROR, "out of memory");
      return NULL;
    }
  if (!env->copy_string_contents (env, v, (char *) buf, &size))
    {
      data_release (buf, 0);
      return NULL;
    }
  *len = size - 1;
  return buf;
}

/* Free the copies in P (LENS bytes each, N of them), wiping them.  */
static void
wipe_all (char **p, ptrdiff_t *lens, int n)
{
  int i;
  for (i = 0; i < n; i++)
    em_free_secret (p[i], lens[i]);
}

/* Signal ossl-crypto-error with MSG.  A message that is not ASCII
   (a file name, a junk algorithm name, cut anywhere) goes as a unibyte
   string: it may not be UTF-8.  */
static void
crypto_signal (emacs_env *env, const char *msg)
{
  const unsigned char *p;
  emacs_value m;

  for (p = (const unsigned char *) msg; *p && *p < 0x80; p++)
    ;
  if (!*p)
    {
      em_signal (env, CRYPTO_ERROR, msg);
      return;
    }
  m = em_unibyte (env, msg, strlen (msg));
  if (!FAILED (env))
    env->non_local_exit_signal (env, env->intern (env, CRYPTO_ERROR),
                                em_list (env, &m, 1));
}

/* A unibyte result of LEN bytes from BUF, or a signalled failure when
   RC is not 0.  */
static emacs_value
result (emacs_env *env, int rc, const unsigned char *buf, size_t len,
        const char *err)
{
  if (rc)
    {
      crypto_signal (env, err);
      return NULL;
    }
  return em_unibyte (env, (const char *) buf, len);
}

/* General.  */

EM_DEFUN (Fversion, "ossl--crypto-version", 0, 0,
          (emacs_env *env),
          "Return OpenSSL's version text.\n\n(fn)")
{
  return em_str (env, ossl_crypto_version ());
}

struct names_acc
{
  emacs_env *env;
  emacs_value list;
};

static void
add_name (const char *name, void *arg)
{
  struct names_acc *a = arg;
  if (FAILED (a->env))
    return;
  a->list = em_cons (a->env, em_str (a->env, name), a->list);
}

EM_DEFUN (Fnames, "ossl--crypto-names", 1, 1,
          (emacs_env *env, emacs_value _ciphers),
          "Return the names of every digest, or cipher when CIPHERS.\n"
          "Aliases included, names may repeat.\n\n(fn CIPHERS)")
{
  struct names_acc a = { env, em_nil };
  ossl_crypto_names (!em_nilp (env, _ciphers), add_name, &a);
  return FAILED (env) ? NULL : a.list;
}

EM_DEFUN (Fdigest_info, "ossl--digest-info", 1, 1,
          (emacs_env *env, emacs_value _name),
          "Return (SIZE BLOCK-SIZE) of digest NAME, or nil if unknown."
          "\n\n(fn NAME)")
{
  char err[OSSL_ERRLEN];
  char *name;
  int size, block, rc;
  emacs_value items[2];

  if (!(name = em_string (env, _name, NULL)))
    return NULL;
  rc = ossl_crypto_md_info (name, &size, &block, err, sizeof err);
  free (name);
  if (rc)
    return em_nil;
  items[0] = env->make_integer (env, size);
  items[1] = env->make_integer (env, block);
  return em_list (env, items, 2);
}

EM_DEFUN (Fcipher_info, "ossl--cipher-info", 1, 1,
          (emacs_env *env, emacs_value _name),
          "Return (KEY-LENGTH IV-LENGTH BLOCK-SIZE MODE AEAD VARIABLE)\n"
          "of cipher NAME, or nil if unknown.\n\n(fn NAME)")
{
  char err[OSSL_ERRLEN];
  struct ossl_cipher_info info;
  char *name;
  emacs_value items[6];
  int rc;

  if (!(name = em_string (env, _name, NULL)))
    return NULL;
  rc = ossl_crypto_cipher_info (name, &info, err, sizeof err);
  free (name);
  if (rc)
    return em_nil;
  items[0] = env->make_integer (env, info.key_length);
  items[1] = env->make_integer (env, info.iv_length);
  items[2] = env->make_integer (env, info.block_size);
  items[3] = env->intern (env, info.mode);
  items[4] = info.aead ? em_t : em_nil;
  items[5] = info.variable_key ? em_t : em_nil;
  return em_list (env, items, 6);
}

/* Random bytes, digests, MACs.  */

EM_DEFUN (Frand_bytes, "ossl--rand-bytes", 1, 1,
          (emacs_env *env, emacs_value _n),
          "Return N random bytes.\n\n(fn N)")
{
  char err[OSSL_ERRLEN];
  unsigned char *buf;
  emacs_value v;
  long n;
  int rc;

  if (!em_int (env, _n, 0, INT_MAX, &n))
    return NULL;
  if (!(buf = malloc (n ? (size_t) n : 1)))
    {
      em_signal (env, CRYPTO_ERROR, "out of memory");
      return NULL;
    }
  rc = ossl_crypto_rand (buf, (size_t) n, err, sizeof err);
  v = result (env, rc, buf, (size_t) n, err);
  ossl_crypto_cleanse (buf, (size_t) n);
  free (buf);
  return v;
}

EM_DEFUN (Fdigest, "ossl--digest", 2, 2,
          (emacs_env *env, emacs_value _name, emacs_value _data),
          "Return the digest NAME of the string DATA.\n\n(fn NAME DATA)")
{
  char err[OSSL_ERRLEN];
  unsigned char md[OSSL_MAX_MD_SIZE];
  size_t mdlen = 0;
  char *name;
  unsigned char *in;
  ptrdiff_t len;
  int rc;

  if (!(name = em_string (env, _name, NULL)))
    return NULL;
  if (!(in = data_copy (env, _data, 0, &len)))
    {
      free (name);
      return NULL;
    }
  rc = ossl_crypto_digest (name, in, (size_t) len, md, &mdlen, err,
                           sizeof err);
  free (name);
  data_release (in, 0);
  return result (env, rc, md, mdlen, err);
}

EM_DEFUN (Fdigest_file, "ossl--digest-file", 2, 2,
          (emacs_env *env, emacs_value _name, emacs_value _file),
          "Return the digest NAME of FILE (an encoded name).\n\n"
          "(fn NAME FILE)")
{
  char err[OSSL_ERRLEN + PATH_MAX];
  unsigned char md[OSSL_MAX_MD_SIZE];
  size_t mdlen = 0;
  char *name, *file;
  int rc;

  if (!(name = em_string (env, _name, NULL)))
    return NULL;
  if (!(file = em_string (env, _file, NULL)))
    {
      free (name);
      return NULL;
    }
  rc = ossl_crypto_digest_file (name, file, md, &mdlen, err, sizeof err);
  free (name);
  free (file);
  return result (env, rc, md, mdlen, err);
}

EM_DEFUN (Fhmac, "ossl--hmac", 3, 3,
          (emacs_env *env, emacs_value _name, emacs_value _data,
           emacs_value _key),
          "Return the HMAC with digest NAME of DATA under KEY.\n\n"
          "(fn NAME DATA KEY)")
{
  char err[OSSL_ERRLEN];
  unsigned char mac[OSSL_MAX_MD_SIZE];
  size_t maclen = 0;
  /* name, key */
  char *p[2] = { NULL, NULL };
  ptrdiff_t lens[2] = { -1, 0 };
  unsigned char *in = NULL;
  ptrdiff_t len = 0;
  int rc;

  if (!(p[0] = em_string (env, _name, NULL))
      || !bytes (env, _key, false, &p[1], &lens[1])
      || !(in = data_copy (env, _data, 0, &len)))
    {
      wipe_all (p, lens, 2);
      return NULL;
    }
  rc = ossl_crypto_hmac (p[0], in, (size_t) len, (unsigned char *) p[1],
                         (size_t) lens[1], mac, &maclen, err, sizeof err);
  wipe_all (p, lens, 2);
  data_release (in, 0);
  return result (env, rc, mac, maclen, err);
}

/* Key derivation.  */

EM_DEFUN (Fbytes_to_key, "ossl--bytes-to-key", 5, 5,
          (emacs_env *env, emacs_value _cipher, emacs_value _digest,
           emacs_value _salt, emacs_value _password, emacs_value _count),
          "Return (KEY . IV) for CIPHER by EVP_BytesToKey.\n"
          "SALT is nil or 8 bytes.\n\n"
          "(fn CIPHER DIGEST SALT PASSWORD COUNT)")
{
  char err[OSSL_ERRLEN];
  unsigned char key[OSSL_MAX_KEY_LENGTH], iv[OSSL_MAX_IV_LENGTH];
  int keylen = 0, ivlen = 0, rc;
  char *p[4] = { NULL, NULL, NULL, NULL };
  ptrdiff_t lens[4] = { -1, -1, 0, 0 };
  long count;
  emacs_value k, i, v = NULL;

  if (!(p[0] = em_string (env, _cipher, NULL))
      || !(p[1] = em_string (env, _digest, NULL))
      || !bytes (env, _salt, true, &p[2], &lens[2])
      || !bytes (env, _password, false, &p[3], &lens[3])
      || !em_int (env, _count, 1, INT_MAX, &count))
    goto out;
  if (p[2] && lens[2] != 8)
    {
      em_signal (env, CRYPTO_ERROR, "the salt must be 8 bytes long");
      goto out;
    }
  rc = ossl_crypto_bytes_to_key (p[0], p[1], (unsigned char *) p[2],
                                 (unsigned char *) p[3], (size_t) lens[3],
                                 (int) count, key, &keylen, iv, &ivlen,
                                 err, sizeof err);
  if (rc)
    {
      crypto_signal (env, err);
      goto out;
    }
  k = em_unibyte (env, (char *) key, (size_t) keylen);
  i = ivlen ? em_unibyte (env, (char *) iv, (size_t) ivlen) : em_nil;
  if (!FAILED (env))
    v = em_cons (env, k, i);
 out:
  ossl_crypto_cleanse (key, sizeof key);
  ossl_crypto_cleanse (iv, sizeof iv);
  wipe_all (p, lens, 4);
  return v;
}

/* A buffer of the LENGTH bytes asked for by V, in [1, MAX].  */
static unsigned char *
out_buffer (emacs_env *env, emacs_value v, long max, size_t *len)
{
  long n;
  unsigned char *buf;
  if (!em_int (env, v, 1, max, &n))
    return NULL;
  if (!(buf = malloc ((size_t) n)))
    {
      em_signal (env, CRYPTO_ERROR, "out of memory");
      return NULL;
    }
  *len = (size_t) n;
  return buf;
}

/* The most bytes a KDF gives in one call.  */
#define KDF_MAX (1L << 24)

/* Hand out the derived key in BUF (LEN bytes), then wipe it.  */
static emacs_value
derived (emacs_env *env, int rc, unsigned char *buf, size_t len,
         const char *err)
{
  emacs_value v = result (env, rc, buf, len, err);
  ossl_crypto_cleanse (buf, len);
  free (buf);
  return v;
}

EM_DEFUN (Fpbkdf2, "ossl--pbkdf2", 5, 5,
          (emacs_env *env, emacs_value _digest, emacs_value _password,
           emacs_value _salt, emacs_value _iterations, emacs_value _length),
          "Return LENGTH bytes of PBKDF2-HMAC-DIGEST.\n\n"
          "(fn DIGEST PASSWORD SALT ITERATIONS LENGTH)")
{
  char err[OSSL_ERRLEN];
  char *p[3] = { NULL, NULL, NULL };
  ptrdiff_t lens[3] = { -1, 0, 0 };
  unsigned char *buf;
  size_t len = 0;
  long iter;
  int rc;

  if (!(p[0] = em_string (env, _digest, NULL))
      || !bytes (env, _password, false, &p[1], &lens[1])
      || !bytes (env, _salt, false, &p[2], &lens[2])
      || !em_int (env, _iterations, 1, INT_MAX, &iter)
      || !(buf = out_buffer (env, _length, KDF_MAX, &len)))
    {
      wipe_all (p, lens, 3);
      return NULL;
    }
  rc = ossl_crypto_pbkdf2 (p[0], (unsigned char *) p[1], (size_t) lens[1],
                           (unsigned char *) p[2], (size_t) lens[2],
                           (int) iter, buf, len, err, sizeof err);
  wipe_all (p, lens, 3);
  return derived (env, rc, buf, len, err);
}

EM_DEFUN (Fhkdf, "ossl--hkdf", 5, 5,
          (emacs_env *env, emacs_value _digest, emacs_value _key,
           emacs_value _salt, emacs_value _info, emacs_value _length),
          "Return LENGTH bytes of HKDF-DIGEST; SALT and INFO may be nil."
          "\n\n(fn DIGEST KEY SALT INFO LENGTH)")
{
  char err[OSSL_ERRLEN];
  char *p[4] = { NULL, NULL, NULL, NULL };
  ptrdiff_t lens[4] = { -1, 0, 0, 0 };
  unsigned char *buf;
  size_t len = 0;
  int rc;

  if (!(p[0] = em_string (env, _digest, NULL))
      || !bytes (env, _key, false, &p[1], &lens[1])
      || !bytes (env, _salt, true, &p[2], &lens[2])
      || !bytes (env, _info, true, &p[3], &lens[3])
      || !(buf = out_buffer (env, _length, KDF_MAX, &len)))
    {
      wipe_all (p, lens, 4);
      return NULL;
    }
  rc = ossl_crypto_hkdf (p[0], (unsigned char *) p[1], (size_t) lens[1],
                         (unsigned char *) p[2], (size_t) lens[2],
                         (unsigned char *) p[3], (size_t) lens[3], buf, len,
                         err, sizeof err);
  wipe_all (p, lens, 4);
  return derived (env, rc, buf, len, err);
}

/* scrypt's memory ceiling: 1 GiB, enough for N = 2^20, R = 8.  */
#define SCRYPT_MAXMEM ((uint64_t) 1 << 30)

EM_DEFUN (Fscrypt, "ossl--scrypt", 6, 6,
          (emacs_env *env, emacs_value _password, emacs_value _salt,
           emacs_value _n, emacs_value _r, emacs_value _p,
           emacs_value _length),
          "Return LENGTH bytes of scrypt.\n\n"
          "(fn PASSWORD SALT N R P LENGTH)")
{
  char err[OSSL_ERRLEN];
  char *p[2] = { NULL, NULL };
  ptrdiff_t lens[2] = { 0, 0 };
  unsigned char *buf;
  size_t len = 0;
  long n, r, par;
  int rc;

  if (!bytes (env, _password, false, &p[0], &lens[0])
      || !bytes (env, _salt, false, &p[1], &lens[1])
      || !em_int (env, _n, 2, LONG_MAX, &n)
      || !em_int (env, _r, 1, INT_MAX, &r)
      || !em_int (env, _p, 1, INT_MAX, &par)
      || !(buf = out_buffer (env, _length, KDF_MAX, &len)))
    {
      wipe_all (p, lens, 2);
      return NULL;
    }
  rc = ossl_crypto_scrypt ((unsigned char *) p[0], (size_t) lens[0],
                           (unsigned char *) p[1], (size_t) lens[1],
                           (uint64_t) n, (uint64_t) r, (uint64_t) par,
                           SCRYPT_MAXMEM, buf, len, err, sizeof err);
  wipe_all (p, lens, 2);
  return derived (env, rc, buf, len, err);
}

/* Symmetric ciphers.  */

EM_DEFUN (Fcrypt, "ossl--crypt", 6, 6,
          (emacs_env *env, emacs_value _cipher, emacs_value _encrypt,
           emacs_value _data, emacs_value _key, emacs_value _iv,
           emacs_value _aad),
          "Encrypt (ENCRYPT non-nil) or decrypt DATA with CIPHER.\n"
          "IV and AAD may be nil.\n\n"
          "(fn CIPHER ENCRYPT DATA KEY IV AAD)")
{
  char err[OSSL_ERRLEN];
  /* name, key, iv, aad */
  char *p[4] = { NULL, NULL, NULL, NULL };
  ptrdiff_t lens[4] = { -1, 0, 0, 0 };
  unsigned char *buf = NULL;
  ptrdiff_t len = 0;
  size_t outlen = 0;
  emacs_value v = NULL;
  int encrypt, rc;

  encrypt = !em_nilp (env, _encrypt);
  if (!(p[0] = em_string (env, _cipher, NULL))
      || !bytes (env, _key, false, &p[1], &lens[1])
      || !bytes (env, _iv, true, &p[2], &lens[2])
      || !bytes (env, _aad, true, &p[3], &lens[3])
      /* Room for padding and tag: the work is done in place.  */
      || !(buf = data_copy (env, _data, OSSL_CRYPTO_SLACK, &len)))
    goto out;
  if ((size_t) len > OSSL_CRYPTO_PIECE)
    {
      crypto_signal (env, "data too long: at most 1 GiB at once");
      goto out;
    }
  rc = ossl_crypto_cipher_run (p[0], encrypt, buf, (size_t) len,
                               (unsigned char *) p[1], (size_t) lens[1],
                               (unsigned char *) p[2], (size_t) lens[2],
                               (unsigned char *) p[3], (size_t) lens[3],
                               buf, &outlen, err, sizeof err);
  v = result (env, rc, buf, outlen, err);
 out:
  wipe_all (p, lens, 4);
  /* Decrypted plaintext is wiped, as GnuTLS's Emacs API wipes it.  */
  data_release (buf, buf && !encrypt ? (size_t) len + OSSL_CRYPTO_SLACK : 0);
  return v;
}

