/* verify.c -- the one table of verify outcomes: OpenSSL's verify
   codes, the words Lisp sees and the SXEmacs (CODE . TEXT) pairs
   (OpenSSL only).  */

#include <stddef.h>
#include <openssl/x509_vfy.h>

#include "x509.h"

/* Verify outcomes in words.  */

/* Each verify code ossl explains, and its word.  GnuTLS's word (the
   keywords of gnutls.c's :warnings) where GnuTLS has one; several
   codes share a word when a user acts the same on them.  The SXEmacs
   text of ossl's own outcomes is here too.  */
static const struct
{
  int outcome;
  const char *word;
  const char *text;             /* NULL: OpenSSL's */
} verify_words[] =
  {
    { X509_V_OK, "ok", NULL },
    { X509_V_ERR_CERT_HAS_EXPIRED, "expired", NULL },
    { X509_V_ERR_CERT_NOT_YET_VALID, "not-activated", NULL },
    { X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, "self-signed", NULL },
    { X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, "untrusted-root", NULL },
    { X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, "unknown-ca", NULL },
    { X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, "unknown-ca", NULL },
    { X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE, "unknown-ca", NULL },
    { X509_V_ERR_CERT_UNTRUSTED, "untrusted", NULL },
    { X509_V_ERR_CERT_REJECTED, "untrusted", NULL },
    { X509_V_ERR_HOSTNAME_MISMATCH, "no-host-match", NULL },
    { X509_V_ERR_IP_ADDRESS_MISMATCH, "no-host-match", NULL },
    { X509_V_ERR_CERT_REVOKED, "revoked", NULL },
    { X509_V_ERR_CRL_NOT_YET_VALID, "revocation-data-issued-in-future",
      NULL },
    { X509_V_ERR_CRL_HAS_EXPIRED, "revocation-data-superseded", NULL },
    { X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE, "signature-failure",
      NULL },
    { X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY, "signature-failure",
      NULL },
    { X509_V_ERR_CERT_SIGNATURE_FAILURE, "signature-failure", NULL },
    { X509_V_ERR_NO_ISSUER_PUBLIC_KEY, "signature-failure", NULL },
    { X509_V_ERR_INVALID_CA, "not-ca", NULL },
    { X509_V_ERR_KEYUSAGE_NO_CERTSIGN, "not-ca", NULL },
    { X509_V_ERR_PATH_LENGTH_EXCEEDED, "signer-constraints-failure", NULL },
    { X509_V_ERR_PERMITTED_VIOLATION, "signer-constraints-failure", NULL },
    { X509_V_ERR_EXCLUDED_VIOLATION, "signer-constraints-failure", NULL },
    { X509_V_ERR_SUBTREE_MINMAX, "signer-constraints-failure", NULL },
    { X509_V_ERR_UNSUPPORTED_CONSTRAINT_TYPE, "signer-constraints-failure",
      NULL },
    { X509_V_ERR_INVALID_PURPOSE, "purpose-mismatch", NULL },
    { X509_V_ERR_EE_KEY_TOO_SMALL, "insecure", NULL },
    { X509_V_ERR_CA_KEY_TOO_SMALL, "insecure", NULL },
    { X509_V_ERR_CA_MD_TOO_WEAK, "insecure", NULL },
    { X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION,
      "unhandled-critical-extension", NULL },
    { OSSL_V_NO_PEER_CERT, "no-certificate",
      "peer presented no certificate" },
    { OSSL_V_NO_HOST_CHECKED, "host-not-checked",
      "certificate chain ok, but no host name was checked" },
  };

#define N_VERIFY_WORDS (sizeof verify_words / sizeof verify_words[0])

const char *
ossl_x509_verify_symbol (int outcome)
{
  size_t i;

  for (i = 0; i < N_VERIFY_WORDS; i++)
    if (verify_words[i].outcome == outcome)
      return verify_words[i].word;
  return "other";
}

int
ossl_x509_verify_code (int outcome, const char **text)
{
  size_t i;

  for (i = 0; i < N_VERIFY_WORDS; i++)
    if (verify_words[i].outcome == outcome && verify_words[i].text)
      {
        *text = verify_words[i].text;
        return X509_V_ERR_APPLICATION_VERIFICATION;
      }
  *text = X509_verify_cert_error_string (outcome);
  return outcome;
}

const char *
ossl_x509_verify_word (size_t n)
{
  size_t i, j;

  for (i = 0; i < N_VERIFY_WORDS; i++)
    {
      for (j = 0; j < i; j++)
        if (!strcmp (verify_words[j].word, verify_words[i].word))
          break;
      if (j == i && n-- == 0)
        return verify_words[i].word;
    }
  return n == 0 ? "other" : NULL;
}
