/* x509.h -- certificate parsing and inspection.

   This layer knows OpenSSL only: it never includes emacs-module.h.
   Functions that can fail return 0 (or a pointer) on success and -1
   (or NULL) on failure, leaving a human-readable reason, with
   OpenSSL's reason string when there is one, in ERR (ERRLEN bytes).
   Every string they hand out is malloc'd and freed with free ().
   Strings are UTF-8 as far as the certificate allows; names, text and
   alternative names come from the certificate, so callers must not
   assume they are valid UTF-8.  */

#ifndef OSSL_X509_H
#define OSSL_X509_H

#include <stddef.h>
#include <stdint.h>

/* OpenSSL's own struct names (X509 and SSL are typedefs of them), so
   that the bind files that include this header need no OpenSSL.  */
struct x509_st;
struct ssl_st;

/* Certificates as an array of owned references.  */
struct ossl_x509_list
{
  struct x509_st **certs;
  size_t n;
};

void ossl_x509_list_free (struct ossl_x509_list *l);

/* Every certificate in DATA (LEN bytes).  PEM data gives all its
   certificates, in order, skipping other PEM blocks (keys...).  Data
   with no PEM certificate is read as one DER certificate, unless
   PEM_ONLY.  WHAT names the source in error messages.  At least one
   certificate on success.  */
int ossl_x509_parse (const char *data, size_t len, int pem_only,
                     const char *what, struct ossl_x509_list *out,
                     char *err, size_t errlen);
/* Same for the contents of FILE.  */
int ossl_x509_read_file (const char *file, struct ossl_x509_list *out,
                         char *err, size_t errlen);
/* Exactly one DER certificate and nothing after it.  */
struct x509_st *ossl_x509_from_der (const char *data, size_t len, char *err,
                          size_t errlen);

/* The PEM (PEM non-zero) or DER encoding of X in *OUT (*OUTLEN bytes;
   a PEM string is also NUL-terminated).  */
int ossl_x509_encode (struct x509_st *x, int pem, char **out, size_t *outlen,
                      char *err, size_t errlen);

enum ossl_name_form
{
  OSSL_NAME_ONELINE,            /* "/C=DE/ST=Berlin/CN=x" */
  OSSL_NAME_RFC2253             /* "CN=x,ST=Berlin,C=DE" */
};

/* X's subject (or issuer when ISSUER) in FORM; NULL when out of
   memory.  */
char *ossl_x509_name (struct x509_st *x, int issuer, enum ossl_name_form form);

/* X's serial number as its sign (*NEGATIVE) and magnitude (big-endian
   bytes, no leading zero; *LEN is 0 for the serial 0).  */
int ossl_x509_serial (struct x509_st *x, int *negative, unsigned char **mag,
                      size_t *len);
/* The same as colon-separated uppercase hex, "7F:AB:01", with a
   leading "-" when negative.  */
char *ossl_x509_serial_hex (struct x509_st *x);

/* X's notBefore (or notAfter when AFTER) as stored: "020802062727Z"
   (UTCTime) or "20500101000000Z" (GeneralizedTime).  */
char *ossl_x509_time_string (struct x509_st *x, int after);
/* The same as seconds since the epoch.  */
int ossl_x509_time_epoch (struct x509_st *x, int after, int64_t *secs);

/* Lower-case name of the key type that made X's signature: "rsa",
   "rsa-pss", "ec", "ed25519", "ed448", "dsa", else OpenSSL's short
   name lowercased, or "unknown".  */
void ossl_x509_signature_type (struct x509_st *x, char *buf, size_t len);
/* Name of X's signature algorithm, "ecdsa-with-SHA256",
   "sha256WithRSAEncryption", or its OID in dotted form.  */
void ossl_x509_signature_algorithm (struct x509_st *x, char *buf, size_t len);
/* Algorithm of X's public key ("EC", "RSA", "ED25519", "RSA-PSS")
   and its size in bits (0 when OpenSSL cannot tell).  */
void ossl_x509_pubkey (struct x509_st *x, char *buf, size_t len, int *bits);

/* The human-readable dump `openssl x509 -text -noout' prints.  */
char *ossl_x509_text (struct x509_st *x, size_t *len, char *err, size_t errlen);

/* Colon-separated uppercase hex digest of X's DER form with the digest
   named DIGEST ("SHA256", "SHA1"); NULL when unavailable.  */
char *ossl_x509_fingerprint (struct x509_st *x, const char *digest);

/* Colon-separated uppercase hex digest, with the digest named DIGEST,
   of X's SubjectPublicKeyInfo in DER form (the whole structure, as
   GnuTLS's key ids and HPKP pins hash it); NULL when unavailable.  */
char *ossl_x509_key_fingerprint (struct x509_st *x, const char *digest);

/* Verify outcomes: OpenSSL's X509_V_* codes, plus two of ossl's own
   for a peer that verified as far as OpenSSL goes but is still not
   to be trusted.  The SXEmacs API reports both as
   X509_V_ERR_APPLICATION_VERIFICATION with their own text.  */
enum
{
  OSSL_V_NO_PEER_CERT = -1,     /* the peer sent no certificate */
  OSSL_V_NO_HOST_CHECKED = -2   /* chain ok, but no name was checked */
};

/* The word for verify OUTCOME, a Lisp symbol name: "ok", "expired",
   "not-activated", "self-signed", "unknown-ca", "no-host-match"...
   (GnuTLS's words where GnuTLS has one); "other" for a code ossl
   has no word for.  Static.  */
const char *ossl_x509_verify_symbol (int outcome);
/* OUTCOME as the SXEmacs API gives it: OpenSSL's code, and its text
   in *TEXT (static).  */
int ossl_x509_verify_code (int outcome, const char **text);
/* The Nth word (each once, "other" last), NULL past the end.  */
const char *ossl_x509_verify_word (size_t n);

/* One subjectAltName entry.  TYPE is static: "dns", "ip", "email",
   "uri", "dirname", "rid", "othername", "x400", "ediparty".  */
struct ossl_x509_altname
{
  const char *type;
  char *value;
  size_t len;
};

/* Everything about a certificate, for the Lisp plist.  */
struct ossl_x509_info
{
  long version;                 /* 1, 2 or 3 */
  char *subject, *issuer;       /* one-line form */
  char *subject_rfc2253, *issuer_rfc2253;
  int serial_negative;
  unsigned char *serial;        /* magnitude, big-endian */
  size_t serial_len;
  char *serial_hex;
  char *not_before, *not_after; /* as stored */
  int64_t valid_from, valid_to;
  int valid_from_ok, valid_to_ok;
  char *sha256, *sha1;          /* NULL when unavailable */
  char *key_sha256, *key_sha1;  /* of the SubjectPublicKeyInfo */
  char pubkey_algorithm[64];
  int pubkey_bits;
  char signature_algorithm[128];
  char signature_type[64];
  int ca;                       /* basicConstraints cA */
  long pathlen;                 /* -1: no limit */
  int has_key_usage;
  const char *key_usage[9];     /* static names, RFC 5280 order */
  size_t n_key_usage;
  char **ext_key_usage;         /* names or dotted OIDs */
  size_t n_ext_key_usage;
  struct ossl_x509_altname *altnames;
  size_t n_altnames;
  char *subject_key_id, *authority_key_id; /* colon hex, or NULL */
  int self_signed;
};

/* Fill INFO from X; on failure INFO holds nothing to free.  */
int ossl_x509_info (struct x509_st *x, struct ossl_x509_info *info, char *err,
                    size_t errlen);
void ossl_x509_info_free (struct ossl_x509_info *info);

/* The certificates the peer of SSL sent, leaf first, in the order they
   came on the wire.  A server's view of a client chain lacks the leaf
   in OpenSSL; this puts it back.  Empty when there is none.  */
int ossl_x509_peer_chain (struct ssl_st *ssl, int server, struct ossl_x509_list *out,
                          char *err, size_t errlen);

#endif /* OSSL_X509_H */
