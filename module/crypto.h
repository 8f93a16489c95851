/* crypto.h -- digests, MACs, random bytes, key derivation and
   symmetric ciphers over OpenSSL's EVP layer (issue 16).

   This layer knows OpenSSL only: it never includes emacs-module.h.
   Algorithm names are OpenSSL's, matched without regard to case
   ("sha256", "SHA2-256", "aes-256-gcm").  Functions that can fail
   return 0 on success and -1 on failure, leaving a human-readable
   reason (with OpenSSL's reason string when there is one) in ERR of
   ERRLEN bytes.  Reasons never hold key or data bytes.  Every buffer
   handed out is malloc'd; the caller frees it (after ossl_crypto_cleanse
   when it may hold secrets).  */

#ifndef OSSL_CRYPTO_H
#define OSSL_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/* OpenSSL's own struct names (EVP_MD and EVP_CIPHER are typedefs of
   them), so that the bind files that include this header need no
   OpenSSL.  */
struct evp_md_st;
struct evp_cipher_st;

/* OpenSSL's EVP_MAX_* sizes, for buffers in files without OpenSSL
   (crypto.c checks that they match).  */
#define OSSL_MAX_MD_SIZE 64
#define OSSL_MAX_KEY_LENGTH 64
#define OSSL_MAX_IV_LENGTH 16
#define OSSL_MAX_BLOCK_LENGTH 32

/* Put the printf-style message FMT and the first of OpenSSL's queued
   reasons into ERR, then clear OpenSSL's queue (also when ERR is NULL).
   An empty message leaves the reason alone.  The one error helper of
   the OpenSSL-side files (engine.c, x509.c, pkey.c, crypto.c).  */
void ossl_crypto_error (char *err, size_t errlen, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));

/* The digest called NAME, fetched from the providers in use (free it
   with ossl_crypto_md_free), or NULL when there is none; OpenSSL's
   error queue is left clear either way.  */
struct evp_md_st *ossl_crypto_md (const char *name);
/* EVP_MD_free: free MD (NULL is fine).  */
void ossl_crypto_md_free (struct evp_md_st *md);
/* The same for ciphers (free with EVP_CIPHER_free).  */
struct evp_cipher_st *ossl_crypto_cipher (const char *name);

/* OPENSSL_cleanse: wipe LEN bytes at P, a call the compiler keeps.  */
void ossl_crypto_cleanse (void *p, size_t len);

/* OpenSSL's version text, "OpenSSL 3.0.17 1 Jul 2025".  */
const char *ossl_crypto_version (void);

/* Call FN with every name (aliases too, no OIDs) of every digest
   (CIPHERS zero) or cipher the providers in use offer.  Names may
   repeat.  */
void ossl_crypto_names (int ciphers, void (*fn) (const char *name,
                                                 void *arg),
                        void *arg);

struct ossl_cipher_info
{
  int key_length;               /* bytes */
  int iv_length;                /* bytes; 0: the cipher takes no IV */
  int block_size;               /* bytes; 1 for stream modes */
  int aead;                     /* GCM, CCM, OCB, SIV, ChaCha20-Poly1305 */
  int variable_key;             /* any key length is accepted */
  const char *mode;             /* "cbc", "gcm", "stream"... */
};

/* Facts about digest NAME: *SIZE output bytes, *BLOCK block bytes.  */
int ossl_crypto_md_info (const char *name, int *size, int *block,
                         char *err, size_t errlen);
int ossl_crypto_cipher_info (const char *name, struct ossl_cipher_info *info,
                             char *err, size_t errlen);

/* LEN random bytes into OUT.  */
int ossl_crypto_rand (unsigned char *out, size_t len, char *err,
                      size_t errlen);

/* The digest NAME of DATA (LEN bytes) into OUT (OSSL_MAX_MD_SIZE bytes
   at least), *OUTLEN bytes.  */
int ossl_crypto_digest (const char *name, const unsigned char *data,
                        size_t len, unsigned char *out, size_t *outlen,
                        char *err, size_t errlen);
/* The same for the contents of FILE, read in pieces: any size.  FILE
   must be a regular file (not a device or a pipe that never ends).  */
int ossl_crypto_digest_file (const char *name, const char *file,
                             unsigned char *out, size_t *outlen,
                             char *err, size_t errlen);
/* HMAC with digest NAME of DATA under KEY (KEYLEN bytes, not 0).  */
int ossl_crypto_hmac (const char *name, const unsigned char *data,
                      size_t len, const unsigned char *key, size_t keylen,
                      unsigned char *out, size_t *outlen,
                      char *err, size_t errlen);

/* EVP_BytesToKey: the key and IV of cipher CIPHER (their lengths in
   *KEYLEN and *IVLEN) derived with digest MD from PASS, the 8-byte
   SALT (or NULL) and COUNT rounds.  KEY and IV are
   OSSL_MAX_KEY_LENGTH and OSSL_MAX_IV_LENGTH bytes long.  */
int ossl_crypto_bytes_to_key (const char *cipher, const char *md,
                              const unsigned char *salt,
                              const unsigned char *pass, size_t passlen,
                              int count, unsigned char *key, int *keylen,
                              unsigned char *iv, int *ivlen,
                              char *err, size_t errlen);
/* PBKDF2 (PKCS #5) with HMAC-MD: OUTLEN bytes into OUT.  */
int ossl_crypto_pbkdf2 (const char *md, const unsigned char *pass,
                        size_t passlen, const unsigned char *salt,
                        size_t saltlen, int iterations, unsigned char *out,
                        size_t outlen, char *err, size_t errlen);
/* HKDF (RFC 5869, extract then expand) with MD.  */
int ossl_crypto_hkdf (const char *md, const unsigned char *key,
                      size_t keylen, const unsigned char *salt,
                      size_t saltlen, const unsigned char *info,
                      size_t infolen, unsigned char *out, size_t outlen,
                      char *err, size_t errlen);
/* scrypt (RFC 7914), using at most MAXMEM bytes of memory.  */
int ossl_crypto_scrypt (const unsigned char *pass, size_t passlen,
                        const unsigned char *salt, size_t saltlen,
                        uint64_t n, uint64_t r, uint64_t p, uint64_t maxmem,
                        unsigned char *out, size_t outlen,
                        char *err, size_t errlen);

/* Pieces EVP takes at once (its lengths are ints).  */
#define OSSL_CRYPTO_PIECE (1 << 30)
/* What a cipher may add to its input: padding, and an AEAD tag.  */
#define OSSL_CRYPTO_SLACK (2 * OSSL_MAX_BLOCK_LENGTH + 16)

/* Encrypt (ENCRYPT non-zero) or decrypt DATA (LEN bytes) with cipher
   NAME under KEY and IV (NULL when the cipher takes none), AAD (NULL
   when none) for AEAD ciphers, into OUT, which has room for LEN +
   OSSL_CRYPTO_SLACK bytes; *OUTLEN gets the output's length.  OUT may
   be DATA itself (in place) when LEN is at most OSSL_CRYPTO_PIECE.
   Block modes pad as OpenSSL does.  AEAD ciphers append a 16-byte tag
   on encryption and check it on decryption; SIV puts it first, as RFC
   5297 does.  Lengths are checked: a
   wrong key or IV length is an error naming the expected one.  A
   decryption that fails wipes OUT: nothing unauthenticated is left.  */
int ossl_crypto_cipher_run (const char *name, int encrypt,
                            const unsigned char *data, size_t len,
                            const unsigned char *key, size_t keylen,
                            const unsigned char *iv, size_t ivlen,
                            const unsigned char *aad, size_t aadlen,
                            unsigned char *out, size_t *outlen,
                            char *err, size_t errlen);

#endif /* OSSL_CRYPTO_H */
