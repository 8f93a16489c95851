/* x509.c -- certificate parsing and inspection (OpenSSL only).  */

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "crypto.h"
#include "x509.h"

/* Files larger than this are not certificate files; the cap also stops
   a read of /dev/zero.  */
#define OSSL_X509_MAX_FILE (64L * 1024 * 1024)

/* Room for a message naming a source, before OpenSSL's reason.  */
#define OSSL_X509_ERRMSG 1024

/* Put MSG and OpenSSL's most specific queued reason into ERR, then
   clear the queue.  */
#define set_error(err, errlen, msg) ossl_crypto_error (err, errlen, "%s", msg)

static char *
copy_bytes (const void *p, size_t n)
{
  char *s = malloc (n + 1);
  if (!s)
    return NULL;
  if (n)
    memcpy (s, p, n);
  s[n] = '\0';
  return s;
}

/* Colon-separated uppercase hex of N bytes at P.  */
static char *
hex_colon (const unsigned char *p, size_t n)
{
  static const char digits[] = "0123456789ABCDEF";
  char *s = malloc (n ? 3 * n : 1), *q = s;
  size_t i;

  if (!s)
    return NULL;
  for (i = 0; i < n; i++)
    {
      if (i)
        *q++ = ':';
      *q++ = digits[p[i] >> 4];
      *q++ = digits[p[i] & 15];
    }
  *q = '\0';
  return s;
}

/* The contents of a memory BIO as a fresh string.  */
static char *
bio_string (BIO *bio, size_t *len)
{
  char *p;
  long n = BIO_get_mem_data (bio, &p);
  if (n < 0)
    n = 0;
  if (len)
    *len = (size_t) n;
  return copy_bytes (p, (size_t) n);
}

static void
lowercase (char *s)
{
  for (; *s; s++)
    *s = (char) tolower ((unsigned char) *s);
}

/* True when the N bytes at P contain the NUL-terminated NEEDLE.  */
static int
contains (const char *p, size_t n, const char *needle)
{
  size_t m = strlen (needle), i;
  for (i = 0; i + m <= n; i++)
    if (p[i] == needle[0] && memcmp (p + i, needle, m) == 0)
      return 1;
  return 0;
}

/* Lists.  */

void
ossl_x509_list_free (struct ossl_x509_list *l)
{
  size_t i;
  if (!l)
    return;
  for (i = 0; i < l->n; i++)
    X509_free (l->certs[i]);
  free (l->certs);
  l->certs = NULL;
  l->n = 0;
}

/* Append X (taking over its reference) to L.  */
static int
list_push (struct ossl_x509_list *l, X509 *x)
{
  X509 **p = realloc (l->certs, (l->n + 1) * sizeof *p);
  if (!p)
    return -1;
  l->certs = p;
  l->certs[l->n++] = x;
  return 0;
}

/* Parsing.  */

X509 *
ossl_x509_from_der (const char *data, size_t len, char *err, size_t errlen)
{
  const unsigned char *p = (const unsigned char *) data;
  X509 *x;

  if (len > LONG_MAX)
    {
      snprintf (err, errlen, "DER data too large");
      return NULL;
    }
  ERR_clear_error ();
  x = d2i_X509 (NULL, &p, (long) len);
  if (!x)
    {
      set_error (err, errlen, "not a DER certificate");
      return NULL;
    }
  if (p != (const unsigned char *) data + len)
    {
      X509_free (x);
      snprintf (err, errlen, "not a DER certificate: %zu bytes of "
                "trailing data",
                (size_t) ((const unsigned char *) data + len - p));
      return NULL;
    }
  return x;
}

/* True when the error queue only says the PEM data ran out.  */
static int
pem_ended (void)
{
  unsigned long e = ERR_peek_last_error ();
  return e == 0 || (ERR_GET_LIB (e) == ERR_LIB_PEM
                    && ERR_GET_REASON (e) == PEM_R_NO_START_LINE);
}

int
ossl_x509_parse (const char *data, size_t len, int pem_only,
                 const char *what, struct ossl_x509_list *out,
                 char *err, size_t errlen)
{
  char msg[OSSL_X509_ERRMSG];
  BIO *bio;
  X509 *x;

  out->certs = NULL;
  out->n = 0;
  if (len > INT_MAX)
    {
      snprintf (err, errlen, "cannot read certificates from %s: too large",
                what);
      return -1;
    }
  ERR_clear_error ();
  bio = BIO_new_mem_buf (data, (int) len);
  if (!bio)
    {
      set_error (err, errlen, "out of memory");
      return -1;
    }
  snprintf (msg, sizeof msg, "cannot read certificates from %s", what);
  /* The _AUX reader also takes "TRUSTED CERTIFICATE" blocks.  */
  while ((x = PEM_read_bio_X509_AUX (bio, NULL, NULL, NULL)) != NULL)
    if (list_push (out, x))
      {
        X509_free (x);
        BIO_free (bio);
        ossl_x509_list_free (out);
        snprintf (err, errlen, "%s: out of memory", msg);
        return -1;
      }
  BIO_free (bio);
  if (!pem_ended ())
    {
      /* A damaged block: say so rather than return part of a bundle.  */
      ossl_x509_list_free (out);
      set_error (err, errlen, msg);
      return -1;
    }
  ERR_clear_error ();
  if (out->n)
    return 0;
  if (pem_only || contains (data, len, "-----BEGIN"))
    {
      snprintf (err, errlen, "%s: no PEM certificate found", msg);
      return -1;
    }
  x = ossl_x509_from_der (data, len, err, errlen);
  if (!x)
    {
      char reason[OSSL_X509_ERRMSG];
      snprintf (reason, sizeof reason, "%s", err);
      snprintf (err, errlen, "%s: neither PEM nor DER (%s)", msg, reason);
      return -1;
    }
  if (list_push (out, x))
    {
      X509_free (x);
      snprintf (err, errlen, "%s: out of memory", msg);
      return -1;
    }
  return 0;
}

int
ossl_x509_read_file (const char *file, struct ossl_x509_list *out,
                     char *err, size_t errlen)
{
  FILE *f;
  char *buf = NULL, *p;
  size_t len = 0, size = 0, n;
  int rc;

  out->certs = NULL;
  out->n = 0;
  f = fopen (file, "rb");
  if (!f)
    {
      snprintf (err, errlen, "cannot read certificates from %s: %s", file,
                strerror (errno));
      return -1;
    }
  for (;;)
    {
      if (len == size)
        {
          if (size >= OSSL_X509_MAX_FILE)
            {
              snprintf (err, errlen, "cannot read certificates from %s: "
                        "file too large", file);
              goto fail;
            }
          size = size ? 2 * size : 16384;
          p = realloc (buf, size);
          if (!p)
            {
              snprintf (err, errlen, "cannot read certificates from %s: "
                        "out of memory", file);
              goto fail;
            }
          buf = p;
        }
      n = fread (buf + len, 1, size - len, f);
      len += n;
      if (n == 0)
        break;
    }
  if (ferror (f))
    {
      snprintf (err, errlen, "cannot read certificates from %s: %s", file,
                strerror (errno));
      goto fail;
    }
  fclose (f);
  rc = ossl_x509_parse (buf, len, 0, file, out, err, errlen);
  free (buf);
  return rc;

 fail:
  fclose (f);
  free (buf);
  return -1;
}

/* Encodings.  */

int
ossl_x509_encode (X509 *x, int pem, char **out, size_t *outlen,
                  char *err, size_t errlen)
{
  BIO *bio;
  int ok;

  ERR_clear_error ();
  bio = BIO_new (BIO_s_mem ());
  if (!bio)
    {
      set_error (err, errlen, "out of memory");
      return -1;
    }
  ok = pem ? PEM_write_bio_X509 (bio, x) : i2d_X509_bio (bio, x);
  if (!ok || !(*out = bio_string (bio, outlen)))
    {
      set_error (err, errlen, "cannot encode certificate");
      BIO_free (bio);
      return -1;
    }
  BIO_free (bio);
  return 0;
}

/* Names.  */

char *
ossl_x509_name (X509 *x, int issuer, enum ossl_name_form form)
{
  X509_NAME *name = issuer ? X509_get_issuer_name (x)
    : X509_get_subject_name (x);
  char *s = NULL;

  ERR_clear_error ();
  if (form == OSSL_NAME_ONELINE)
    {
      char *o = X509_NAME_oneline (name, NULL, 0);
      if (o)
        s = copy_bytes (o, strlen (o));
      OPENSSL_free (o);
    }
  else
    {
      BIO *bio = BIO_new (BIO_s_mem ());
      if (bio && X509_NAME_print_ex (bio, name, 0, XN_FLAG_RFC2253) >= 0)
        s = bio_string (bio, NULL);
      BIO_free (bio);
    }
  ERR_clear_error ();
  return s;
}

/* Serial numbers.  */

int
ossl_x509_serial (X509 *x, int *negative, unsigned char **mag, size_t *len)
{
  BIGNUM *bn;
  int n;

  ERR_clear_error ();
  bn = ASN1_INTEGER_to_BN (X509_get0_serialNumber (x), NULL);
  if (!bn)
    {
      ERR_clear_error ();
      return -1;
    }
  n = BN_num_bytes (bn);
  *mag = malloc (n ? (size_t) n : 1);
  if (!*mag)
    {
      BN_free (bn);
      return -1;
    }
  *negative = BN_is_negative (bn);
  *len = (size_t) BN_bn2bin (bn, *mag);
  BN_free (bn);
  return 0;
}

char *
ossl_x509_serial_hex (X509 *x)
{
  unsigned char *mag, zero = 0;
  size_t len;
  int negative;
  char *hex, *s;

  if (ossl_x509_serial (x, &negative, &mag, &len))
    return NULL;
  hex = len ? hex_colon (mag, len) : hex_colon (&zero, 1);
  free (mag);
  if (!hex || !negative)
    return hex;
  s = malloc (strlen (hex) + 2);
  if (s)
    {
      s[0] = '-';
      strcpy (s + 1, hex);
    }
  free (hex);
  return s;
}

/* Validity.  */

static const ASN1_TIME *
cert_time (X509 *x, int after)
{
  return after ? X509_get0_notAfter (x) : X509_get0_notBefore (x);
}

char *
ossl_x509_time_string (X509 *x, int after)
{
  const ASN1_TIME *t = cert_time (x, after);
  if (!t)
    return copy_bytes ("", 0);
  return copy_bytes (ASN1_STRING_get0_data (t),
                     (size_t) ASN1_STRING_length (t));
}

/* Days from 1970-01-01 to the proleptic Gregorian date Y-M-D (after
   Howard Hinnant's days_from_civil); no timegm needed.  */
static int64_t
days_from_civil (int64_t y, int m, int d)
{
  int64_t era, yoe, doy, doe;
  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int
ossl_x509_time_epoch (X509 *x, int after, int64_t *secs)
{
  const ASN1_TIME *t = cert_time (x, after);
  struct tm tm;

  ERR_clear_error ();
  if (!t || !ASN1_TIME_to_tm (t, &tm))
    {
      ERR_clear_error ();
      return -1;
    }
  *secs = days_from_civil ((int64_t) tm.tm_year + 1900, tm.tm_mon + 1,
                           tm.tm_mday) * 86400
    + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
  return 0;
}

/* Algorithms.  */

void
ossl_x509_signature_type (X509 *x, char *buf, size_t len)
{
  int pknid = NID_undef;
  const char *name;

  ERR_clear_error ();
  /* X509_get_signature_info fails when an extension does not parse;
     the signature algorithm alone still tells the key type.  */
  if (!X509_get_signature_info (x, NULL, &pknid, NULL, NULL)
      && !OBJ_find_sigid_algs (X509_get_signature_nid (x), NULL, &pknid))
    pknid = NID_undef;
  ERR_clear_error ();
  switch (pknid)
    {
    case NID_rsaEncryption:
      name = "rsa";
      break;
    case NID_rsassaPss:
      name = "rsa-pss";
      break;
    case NID_X9_62_id_ecPublicKey:
      name = "ec";
      break;
    case NID_ED25519:
      name = "ed25519";
      break;
    case NID_ED448:
      name = "ed448";
      break;
    case NID_dsa:
      name = "dsa";
      break;
    case NID_undef:
      name = "unknown";
      break;
    default:
      name = OBJ_nid2sn (pknid);
      if (!name)
        name = "unknown";
    }
  snprintf (buf, len, "%s", name);
  lowercase (buf);
}

void
ossl_x509_signature_algorithm (X509 *x, char *buf, size_t len)
{
  const X509_ALGOR *alg = NULL;
  const ASN1_OBJECT *obj = NULL;

  *buf = '\0';
  X509_get0_signature (NULL, &alg, x);
  if (alg)
    X509_ALGOR_get0 (&obj, NULL, NULL, alg);
  if (!obj || len > INT_MAX || OBJ_obj2txt (buf, (int) len, obj, 0) <= 0)
    snprintf (buf, len, "unknown");
  ERR_clear_error ();
}

void
ossl_x509_pubkey (X509 *x, char *buf, size_t len, int *bits)
{
  EVP_PKEY *pk;
  const char *name = NULL;

  ERR_clear_error ();
  *bits = 0;
  snprintf (buf, len, "unknown");
  pk = X509_get0_pubkey (x);
  if (pk)
    {
      name = EVP_PKEY_get0_type_name (pk);
      if (!name)
        name = OBJ_nid2sn (EVP_PKEY_get_base_id (pk));
      if (name)
        snprintf (buf, len, "%s", name);
      *bits = EVP_PKEY_get_bits (pk);
      if (*bits < 0)
        *bits = 0;
    }
  else
    {
      /* A key type OpenSSL cannot load: name its OID at least.  */
      ASN1_OBJECT *obj = NULL;
      X509_PUBKEY *pub = X509_get_X509_PUBKEY (x);
      if (pub && X509_PUBKEY_get0_param (&obj, NULL, NULL, NULL, pub)
          && obj && len <= INT_MAX)
        OBJ_obj2txt (buf, (int) len, obj, 0);
    }
  ERR_clear_error ();
}

/* Text and digests.  */

char *
ossl_x509_text (X509 *x, size_t *len, char *err, size_t errlen)
{
  /* What `openssl x509 -text' prints with -nameopt utf8.  */
  const unsigned long nmflags = (XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB)
    | ASN1_STRFLGS_UTF8_CONVERT;
  BIO *bio;
  char *s = NULL;

  ERR_clear_error ();
  bio = BIO_new (BIO_s_mem ());
  if (bio && X509_print_ex (bio, x, nmflags, X509_FLAG_COMPAT))
    s = bio_string (bio, len);
  if (!s)
    set_error (err, errlen, "cannot print certificate");
  BIO_free (bio);
  ERR_clear_error ();
  return s;
}

/* Colon hex of the DIGEST of the DER form of OBJ, an IT, or NULL.  */
static char *
digest_item (const ASN1_ITEM *it, void *obj, const char *digest)
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_MD *type;
  char *s = NULL;

  ERR_clear_error ();
  type = EVP_MD_fetch (NULL, digest, NULL);
  if (type && obj && ASN1_item_digest (it, type, obj, md, &n))
    s = hex_colon (md, n);
  EVP_MD_free (type);
  ERR_clear_error ();
  return s;
}

char *
ossl_x509_fingerprint (X509 *x, const char *digest)
{
  return digest_item (ASN1_ITEM_rptr (X509), x, digest);
}

char *
ossl_x509_key_fingerprint (X509 *x, const char *digest)
{
  /* X509_pubkey_digest hashes the key's bit string alone; the whole
     SubjectPublicKeyInfo is what key ids and pins name.  */
  return digest_item (ASN1_ITEM_rptr (X509_PUBKEY),
                      X509_get_X509_PUBKEY (x), digest);
}

/* Alternative names.  */

/* An IPv4 or IPv6 address in text form (RFC 5952 for IPv6).  */
static char *
ip_string (const unsigned char *p, size_t n)
{
  char buf[64], *q = buf;
  int best = -1, bestlen = 0, i, j;

  if (n == 4)
    {
      snprintf (buf, sizeof buf, "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
      return copy_bytes (buf, strlen (buf));
    }
  if (n != 16)
    return hex_colon (p, n);
  /* The longest run of two or more zero groups becomes "::".  */
  for (i = 0; i < 8; i = j + 1)
    {
      for (j = i; j < 8 && !p[2 * j] && !p[2 * j + 1]; j++)
        ;
      if (j - i > bestlen && j - i >= 2)
        {
          best = i;
          bestlen = j - i;
        }
    }
  for (i = 0; i < 8; i++)
    {
      if (i == best)
        {
          q += sprintf (q, "::");
          i += bestlen - 1;
          continue;
        }
      if (i && i != best + bestlen)
        *q++ = ':';
      q += sprintf (q, "%x", (p[2 * i] << 8) | p[2 * i + 1]);
    }
  *q = '\0';
  return copy_bytes (buf, strlen (buf));
}

static int
altname_value (GENERAL_NAME *gen, struct ossl_x509_altname *a)
{
  char buf[256];
  const ASN1_STRING *str;
  int type;
  void *v = GENERAL_NAME_get0_value (gen, &type);

  a->value = NULL;
  switch (type)
    {
    case GEN_DNS:
    case GEN_EMAIL:
    case GEN_URI:
      a->type = type == GEN_DNS ? "dns" : type == GEN_EMAIL ? "email" : "uri";
      str = v;
      a->len = (size_t) ASN1_STRING_length (str);
      a->value = copy_bytes (ASN1_STRING_get0_data (str), a->len);
      break;
    case GEN_IPADD:
      a->type = "ip";
      str = v;
      a->value = ip_string (ASN1_STRING_get0_data (str),
                            (size_t) ASN1_STRING_length (str));
      break;
    case GEN_DIRNAME:
      {
        char *o = X509_NAME_oneline (v, NULL, 0);
        a->type = "dirname";
        if (o)
          a->value = copy_bytes (o, strlen (o));
        OPENSSL_free (o);
      }
      break;
    case GEN_RID:
      a->type = "rid";
      if (OBJ_obj2txt (buf, sizeof buf, v, 0) < 0)
        buf[0] = '\0';
      a->value = copy_bytes (buf, strlen (buf));
      break;
    case GEN_OTHERNAME:
      {
        ASN1_OBJECT *oid;
        ASN1_TYPE *val;
        size_t used;
        a->type = "othername";
        GENERAL_NAME_get0_otherName (gen, &oid, &val);
        if (OBJ_obj2txt (buf, sizeof buf, oid, 0) < 0)
          buf[0] = '\0';
        used = strlen (buf);
        if (val && (val->type == V_ASN1_UTF8STRING
                    || val->type == V_ASN1_IA5STRING
                    || val->type == V_ASN1_PRINTABLESTRING))
          {
            str = val->value.asn1_string;
            snprintf (buf + used, sizeof buf - used, ":%.*s",
                      ASN1_STRING_length (str),
                      (const char *) ASN1_STRING_get0_data (str));
          }
        else
          snprintf (buf + used, sizeof buf - used, ":<unsupported>");
        a->value = copy_bytes (buf, strlen (buf));
      }
      break;
    default:
      a->type = type == GEN_X400 ? "x400" : "ediparty";
      a->value = copy_bytes ("<unsupported>", 13);
    }
  if (!a->value)
    return -1;
  if (type != GEN_DNS && type != GEN_EMAIL && type != GEN_URI)
    a->len = strlen (a->value);
  return 0;
}

static int
altnames (X509 *x, struct ossl_x509_info *info)
{
  GENERAL_NAMES *gens = X509_get_ext_d2i (x, NID_subject_alt_name, NULL,
                                          NULL);
  int i, n;

  ERR_clear_error ();
  if (!gens)
    return 0;
  n = sk_GENERAL_NAME_num (gens);
  info->altnames = calloc (n ? (size_t) n : 1, sizeof *info->altnames);
  if (!info->altnames)
    {
      GENERAL_NAMES_free (gens);
      return -1;
    }
  for (i = 0; i < n; i++)
    {
      if (altname_value (sk_GENERAL_NAME_value (gens, i),
                         &info->altnames[info->n_altnames]))
        {
          GENERAL_NAMES_free (gens);
          return -1;
        }
      info->n_altnames++;
    }
  GENERAL_NAMES_free (gens);
  return 0;
}

/* Key usage.  */

static void
key_usage (X509 *x, struct ossl_x509_info *info)
{
  static const struct { uint32_t bit; const char *name; } bits[] = {
    { KU_DIGITAL_SIGNATURE, "digital-signature" },
    { KU_NON_REPUDIATION, "non-repudiation" },
    { KU_KEY_ENCIPHERMENT, "key-encipherment" },
    { KU_DATA_ENCIPHERMENT, "data-encipherment" },
    { KU_KEY_AGREEMENT, "key-agreement" },
    { KU_KEY_CERT_SIGN, "key-cert-sign" },
    { KU_CRL_SIGN, "crl-sign" },
    { KU_ENCIPHER_ONLY, "encipher-only" },
    { KU_DECIPHER_ONLY, "decipher-only" },
  };
  uint32_t ku;
  size_t i;

  info->has_key_usage = (X509_get_extension_flags (x) & EXFLAG_KUSAGE) != 0;
  if (!info->has_key_usage)
    return;
  ku = X509_get_key_usage (x);
  for (i = 0; i < sizeof bits / sizeof bits[0]; i++)
    if (ku & bits[i].bit)
      info->key_usage[info->n_key_usage++] = bits[i].name;
}

static int
ext_key_usage (X509 *x, struct ossl_x509_info *info)
{
  EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i (x, NID_ext_key_usage, NULL,
                                              NULL);
  int i, n;

  ERR_clear_error ();
  if (!eku)
    return 0;
  n = sk_ASN1_OBJECT_num (eku);
  info->ext_key_usage = calloc (n ? (size_t) n : 1, sizeof (char *));
  if (!info->ext_key_usage)
    {
      EXTENDED_KEY_USAGE_free (eku);
      return -1;
    }
  for (i = 0; i < n; i++)
    {
      ASN1_OBJECT *obj = sk_ASN1_OBJECT_value (eku, i);
      int nid = OBJ_obj2nid (obj);
      const char *name = NULL;
      char buf[128];

      switch (nid)
        {
        case NID_server_auth: name = "server-auth"; break;
        case NID_client_auth: name = "client-auth"; break;
        case NID_code_sign: name = "code-signing"; break;
        case NID_email_protect: name = "email-protection"; break;
        case NID_time_stamp: name = "time-stamping"; break;
        case NID_OCSP_sign: name = "ocsp-signing"; break;
        case NID_anyExtendedKeyUsage: name = "any"; break;
        default:
          if (nid != NID_undef && OBJ_nid2sn (nid))
            snprintf (buf, sizeof buf, "%s", OBJ_nid2sn (nid));
          else if (OBJ_obj2txt (buf, sizeof buf, obj, 1) < 0)
            snprintf (buf, sizeof buf, "unknown");
          lowercase (buf);
          name = buf;
        }
      if (!(info->ext_key_usage[i] = copy_bytes (name, strlen (name))))
        {
          EXTENDED_KEY_USAGE_free (eku);
          return -1;
        }
      info->n_ext_key_usage++;
    }
  EXTENDED_KEY_USAGE_free (eku);
  return 0;
}

static char *
octets_hex (const ASN1_OCTET_STRING *s)
{
  if (!s)
    return NULL;
  return hex_colon (ASN1_STRING_get0_data (s),
                    (size_t) ASN1_STRING_length (s));
}

/* Everything.  */

int
ossl_x509_info (X509 *x, struct ossl_x509_info *info, char *err,
                size_t errlen)
{
  memset (info, 0, sizeof *info);
  ERR_clear_error ();
  info->version = X509_get_version (x) + 1;
  info->subject = ossl_x509_name (x, 0, OSSL_NAME_ONELINE);
  info->issuer = ossl_x509_name (x, 1, OSSL_NAME_ONELINE);
  info->subject_rfc2253 = ossl_x509_name (x, 0, OSSL_NAME_RFC2253);
  info->issuer_rfc2253 = ossl_x509_name (x, 1, OSSL_NAME_RFC2253);
  info->serial_hex = ossl_x509_serial_hex (x);
  info->not_before = ossl_x509_time_string (x, 0);
  info->not_after = ossl_x509_time_string (x, 1);
  if (!info->subject || !info->issuer || !info->subject_rfc2253
      || !info->issuer_rfc2253 || !info->serial_hex
      || !info->not_before || !info->not_after
      || ossl_x509_serial (x, &info->serial_negative, &info->serial,
                           &info->serial_len))
    goto fail;
  info->valid_from_ok = !ossl_x509_time_epoch (x, 0, &info->valid_from);
  info->valid_to_ok = !ossl_x509_time_epoch (x, 1, &info->valid_to);
  info->sha256 = ossl_x509_fingerprint (x, "SHA256");
  info->sha1 = ossl_x509_fingerprint (x, "SHA1");
  info->key_sha256 = ossl_x509_key_fingerprint (x, "SHA256");
  info->key_sha1 = ossl_x509_key_fingerprint (x, "SHA1");
  ossl_x509_pubkey (x, info->pubkey_algorithm,
                    sizeof info->pubkey_algorithm, &info->pubkey_bits);
  ossl_x509_signature_algorithm (x, info->signature_algorithm,
                                 sizeof info->signature_algorithm);
  ossl_x509_signature_type (x, info->signature_type,
                            sizeof info->signature_type);
  info->ca = (X509_get_extension_flags (x) & EXFLAG_CA) != 0;
  info->pathlen = X509_get_pathlen (x);
  key_usage (x, info);
  if (ext_key_usage (x, info) || altnames (x, info))
    goto fail;
  info->subject_key_id = octets_hex (X509_get0_subject_key_id (x));
  info->authority_key_id = octets_hex (X509_get0_authority_key_id (x));
  /* Issuer = subject, and the signature verifies with the own key.  */
  info->self_signed = X509_self_signed (x, 1) == 1;
  ERR_clear_error ();
  return 0;

 fail:
  ossl_x509_info_free (info);
  snprintf (err, errlen, "cannot inspect certificate: out of memory");
  ERR_clear_error ();
  return -1;
}

void
ossl_x509_info_free (struct ossl_x509_info *info)
{
  size_t i;

  free (info->subject);
  free (info->issuer);
  free (info->subject_rfc2253);
  free (info->issuer_rfc2253);
  free (info->serial);
  free (info->serial_hex);
  free (info->not_before);
  free (info->not_after);
  free (info->sha256);
  free (info->sha1);
  free (info->key_sha256);
  free (info->key_sha1);
  for (i = 0; i < info->n_ext_key_usage; i++)
    free (info->ext_key_usage[i]);
  free (info->ext_key_usage);
  for (i = 0; i < info->n_altnames; i++)
    free (info->altnames[i].value);
  free (info->altnames);
  free (info->subject_key_id);
  free (info->authority_key_id);
  memset (info, 0, sizeof *info);
}

/* Connections.  */

int
ossl_x509_peer_chain (SSL *ssl, int server, struct ossl_x509_list *out,
                      char *err, size_t errlen)
{
  STACK_OF (X509) *sk = SSL_get_peer_cert_chain (ssl);
  X509 *leaf = SSL_get0_peer_certificate (ssl);
  int i, n = sk ? sk_X509_num (sk) : 0;

  out->certs = NULL;
  out->n = 0;
  /* A client's stack starts with the leaf; a server's lacks it.  */
  if (leaf && (server || n == 0))
    {
      if (!X509_up_ref (leaf))
        goto fail;
      if (list_push (out, leaf))
        {
          X509_free (leaf);
          goto fail;
        }
    }
  for (i = 0; i < n; i++)
    {
      X509 *x = sk_X509_value (sk, i);
      if (!X509_up_ref (x))
        goto fail;
      if (list_push (out, x))
        {
          X509_free (x);
          goto fail;
        }
    }
  return 0;

 fail:
  ossl_x509_list_free (out);
  snprintf (err, errlen, "cannot list the peer's certificates: out of memory");
  ERR_clear_error ();
  return -1;
}
