/* engine-ctx.c -- the engine's TLS contexts: protocol versions,
   ciphers, trust, own certificates and keys, SNI and ALPN choices.  */

#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "crypto.h"
#include "engine-impl.h"

/* Put MSG and OpenSSL's first queued reason into ERR, then clear the
   queue.  */
#define set_error(err, errlen, msg) ossl_crypto_error (err, errlen, "%s", msg)

/* Contexts.

   The ossl_ctx struct hangs on its SSL_CTX as ex_data and dies with
   it, so that callbacks of connections that outlive the Lisp context
   object still find it.  */

static int ctx_index = -1;

static void
ctx_ex_free (void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
             long argl, void *argp)
{
  struct ossl_ctx *c = ptr;
  size_t i;
  (void) parent; (void) ad; (void) idx; (void) argl; (void) argp;
  if (!c)
    return;
  for (i = 0; i < c->nsni; i++)
    {
      free (c->sni[i].name);
      SSL_CTX_free (c->sni[i].ctx);
    }
  free (c->sni);
  free (c);
}

struct ossl_ctx *
ossl_ctx_of (SSL_CTX *ctx)
{
  return ctx_index < 0 ? NULL : SSL_CTX_get_ex_data (ctx, ctx_index);
}

/* Does the host NAME match PATTERN ("*.example" matches one label)?  */
static int
sni_match (const char *pattern, const char *name)
{
  if (pattern[0] == '*' && pattern[1] == '.')
    {
      const char *dot = strchr (name, '.');
      return dot && dot != name && strcasecmp (dot + 1, pattern + 2) == 0;
    }
  return strcasecmp (pattern, name) == 0;
}

static int
sni_cb (SSL *ssl, int *alert, void *arg)
{
  const char *name = SSL_get_servername (ssl, TLSEXT_NAMETYPE_host_name);
  struct ossl_ctx *c = ossl_ctx_of (SSL_get_SSL_CTX (ssl));
  size_t i;
  (void) alert; (void) arg;
  if (!name || !c)
    return SSL_TLSEXT_ERR_OK;
  for (i = 0; i < c->nsni; i++)
    if (sni_match (c->sni[i].name, name))
      {
        SSL_set_SSL_CTX (ssl, c->sni[i].ctx);
        break;
      }
  return SSL_TLSEXT_ERR_OK;
}

static int
alpn_cb (SSL *ssl, const unsigned char **out, unsigned char *outlen,
         const unsigned char *in, unsigned int inlen, void *arg)
{
  struct ossl_conn *conn = SSL_get_app_data (ssl);
  unsigned char *o;
  (void) arg;
  if (!conn || !conn->alpn)
    return SSL_TLSEXT_ERR_NOACK;
  if (SSL_select_next_proto (&o, outlen, conn->alpn,
                             (unsigned int) conn->alpn_len, in, inlen)
      != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = o;
  return SSL_TLSEXT_ERR_OK;
}


/* The ciphers of TLS 1.2 when the caller names none: forward-secret
   AEAD suites only, in OpenSSL's order.  TLS 1.3's suites are all of
   that kind.  */
static const char default_ciphers[] =
  "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
  "DHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
  "ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-CHACHA20-POLY1305:"
  "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
  "DHE-RSA-AES128-GCM-SHA256";

/* Added when the caller allows TLS 1.0 or 1.1, which have no AEAD
   suite: forward-secret CBC suites, refused on TLS 1.2 by sec_cb.  */
static const char legacy_ciphers[] =
  "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:"
  "ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA";

/* The security level every context has at least: keys of 112 bits of
   security (RSA and DSA 2048, EC 224), no SHA-1 or MD5 signatures in
   certificates or handshakes.  */
#define OSSL_SECURITY_LEVEL 2

/* OpenSSL's own security callback, which sec_cb asks for the rest.  */
typedef int security_cb (const SSL *, const SSL_CTX *, int, int, int,
                         void *, void *);
static security_cb *default_sec_cb;

/* Security policy: OpenSSL's at OSSL_SECURITY_LEVEL, with two changes.
   TLS 1.0 and 1.1 may be offered (OpenSSL refuses them above level 0,
   and level 0 would also let weak keys and SHA-1 certificates through
   on every version); they are reached only when the caller lowered
   the version floor.  And unless the caller chose the ciphers, a TLS
   1.2 or later connection agrees on AEAD suites only, so that the CBC
   suites TLS 1.0 needs never serve TLS 1.2.  */
static int
sec_cb (const SSL *s, const SSL_CTX *ctx, int op, int bits, int nid,
        void *other, void *ex)
{
  struct ossl_ctx *c = s ? ossl_ctx_of (SSL_get_SSL_CTX (s)) : NULL;
  int version = s ? SSL_version (s) : 0;

  if (op == SSL_SECOP_VERSION
      && (nid == TLS1_VERSION || nid == TLS1_1_VERSION))
    return 1;
  /* A connection that did agree on TLS 1.0 or 1.1 may sign its
     handshake the only way those versions can (MD5+SHA-1, SHA-1).  */
  if (c && c->legacy
      && (version == TLS1_VERSION || version == TLS1_1_VERSION)
      && (op == SSL_SECOP_SIGALG_SUPPORTED || op == SSL_SECOP_SIGALG_SHARED
          || op == SSL_SECOP_SIGALG_CHECK))
    return 1;
  if (c && c->default_ciphers && other && version >= TLS1_2_VERSION
      && (op == SSL_SECOP_CIPHER_SHARED || op == SSL_SECOP_CIPHER_CHECK)
      && !SSL_CIPHER_is_aead (other))
    return 0;
  return default_sec_cb (s, ctx, op, bits, nid, other, ex);
}

struct ossl_ctx *
ossl_ctx_new (int server, char *err, size_t errlen)
{
  struct ossl_ctx *c = calloc (1, sizeof *c);
  if (!c)
    {
      snprintf (err, errlen, "out of memory");
      return NULL;
    }
  ERR_clear_error ();
  c->ctx = SSL_CTX_new (server ? TLS_server_method () : TLS_client_method ());
  if (!c->ctx)
    {
      set_error (err, errlen, "cannot create TLS context");
      free (c);
      return NULL;
    }
  c->server = server;
  if (ctx_index < 0)
    ctx_index = SSL_CTX_get_ex_new_index (0, NULL, NULL, NULL, ctx_ex_free);
  if (ctx_index < 0 || !SSL_CTX_set_ex_data (c->ctx, ctx_index, c))
    {
      set_error (err, errlen, "cannot create TLS context");
      SSL_CTX_free (c->ctx);
      free (c);
      return NULL;
    }
  /* TLS 1.2 is the floor unless the caller lowers it explicitly.  */
  SSL_CTX_set_min_proto_version (c->ctx, TLS1_2_VERSION);
  if (SSL_CTX_get_security_level (c->ctx) < OSSL_SECURITY_LEVEL)
    SSL_CTX_set_security_level (c->ctx, OSSL_SECURITY_LEVEL);
  if (!default_sec_cb)
    default_sec_cb = SSL_CTX_get_security_callback (c->ctx);
  SSL_CTX_set_security_callback (c->ctx, sec_cb);
  if (!SSL_CTX_set_cipher_list (c->ctx, default_ciphers))
    {
      set_error (err, errlen, "cannot set the default ciphers");
      SSL_CTX_free (c->ctx);
      return NULL;
    }
  c->default_ciphers = 1;
  SSL_CTX_set_options (c->ctx, SSL_OP_NO_RENEGOTIATION
                       | SSL_OP_NO_COMPRESSION);
  /* Idle connections keep no record buffers.  */
  SSL_CTX_set_mode (c->ctx, SSL_MODE_RELEASE_BUFFERS);
  if (server)
    {
      SSL_CTX_set_session_id_context (c->ctx,
                                      (const unsigned char *) "ossl", 4);
      SSL_CTX_set_tlsext_servername_callback (c->ctx, sni_cb);
      SSL_CTX_set_alpn_select_cb (c->ctx, alpn_cb, NULL);
    }
  return c;
}

void
ossl_ctx_free (struct ossl_ctx *c)
{
  /* The struct goes with the last reference to its SSL_CTX.  */
  if (c)
    SSL_CTX_free (c->ctx);
}

/* The host name in a raw server_name extension, or "".  */
static void
parse_server_name (const unsigned char *p, size_t len, char *out,
                   size_t outlen)
{
  size_t list, n;

  out[0] = '\0';
  if (len < 2)
    return;
  list = ((size_t) p[0] << 8) | p[1];
  p += 2;
  len -= 2;
  if (list > len)
    return;
  while (list >= 3)
    {
      n = ((size_t) p[1] << 8) | p[2];
      if (3 + n > list)
        return;
      if (p[0] == TLSEXT_NAMETYPE_host_name)
        {
          if (n < outlen && !memchr (p + 3, '\0', n))
            {
              memcpy (out, p + 3, n);
              out[n] = '\0';
            }
          return;
        }
      p += 3 + n;
      list -= 3 + n;
    }
}

static int
client_hello_cb (SSL *ssl, int *alert, void *arg)
{
  struct ossl_conn *conn = SSL_get_app_data (ssl);
  const unsigned char *ext;
  size_t len;
  (void) alert; (void) arg;

  if (!conn || conn->sni_done)
    return SSL_CLIENT_HELLO_SUCCESS;
  conn->sni_name[0] = '\0';
  if (SSL_client_hello_get0_ext (ssl, TLSEXT_TYPE_server_name, &ext, &len))
    parse_server_name (ext, len, conn->sni_name, sizeof conn->sni_name);
  conn->sni_pending = 1;
  return SSL_CLIENT_HELLO_RETRY;
}

void
ossl_ctx_pause_for_sni (struct ossl_ctx *c)
{
  SSL_CTX_set_client_hello_cb (c->ctx, client_hello_cb, NULL);
}

void
ossl_conn_sni_choose (struct ossl_conn *conn, struct ossl_ctx *sni)
{
  if (sni)
    SSL_set_SSL_CTX (conn->ssl, sni->ctx);
  conn->sni_pending = 0;
  conn->sni_done = 1;
}

int
ossl_ctx_add_sni (struct ossl_ctx *c, const char *name,
                  struct ossl_ctx *sni, char *err, size_t errlen)
{
  struct ossl_sni *v;
  if (!c->server || !sni->server)
    {
      snprintf (err, errlen, "SNI contexts are for servers");
      return -1;
    }
  v = realloc (c->sni, (c->nsni + 1) * sizeof *v);
  if (!v)
    {
      snprintf (err, errlen, "out of memory");
      return -1;
    }
  c->sni = v;
  v[c->nsni].name = strdup (name);
  if (!v[c->nsni].name || !SSL_CTX_up_ref (sni->ctx))
    {
      free (v[c->nsni].name);
      snprintf (err, errlen, "out of memory");
      return -1;
    }
  v[c->nsni].ctx = sni->ctx;
  c->nsni++;
  return 0;
}

/* Unless the caller chose ciphers: the defaults, plus the legacy
   suites when TLS 1.0 or 1.1 may be used.  */
static int
set_default_ciphers (struct ossl_ctx *c, char *err, size_t errlen)
{
  char list[sizeof default_ciphers + sizeof legacy_ciphers + 1];

  if (!c->default_ciphers)
    return 0;
  snprintf (list, sizeof list, "%s%s%s", default_ciphers,
            c->legacy ? ":" : "", c->legacy ? legacy_ciphers : "");
  ERR_clear_error ();
  if (!SSL_CTX_set_cipher_list (c->ctx, list))
    {
      set_error (err, errlen, "cannot set the default ciphers");
      return -1;
    }
  return 0;
}

int
ossl_ctx_set_versions (struct ossl_ctx *c, int min, int max,
                       char *err, size_t errlen)
{
  ERR_clear_error ();
  if (!SSL_CTX_set_min_proto_version (c->ctx, min)
      || !SSL_CTX_set_max_proto_version (c->ctx, max))
    {
      set_error (err, errlen, "unsupported protocol version");
      return -1;
    }
  c->legacy = min && min < TLS1_2_VERSION;
  return set_default_ciphers (c, err, errlen);
}

int
ossl_ctx_set_ciphers (struct ossl_ctx *c, const char *ciphers,
                      const char *suites, char *err, size_t errlen)
{
  ERR_clear_error ();
  if (ciphers && !SSL_CTX_set_cipher_list (c->ctx, ciphers))
    {
      set_error (err, errlen, "no usable TLS 1.2 cipher in the list");
      return -1;
    }
  if (ciphers)
    c->default_ciphers = 0;
  if (suites && !SSL_CTX_set_ciphersuites (c->ctx, suites))
    {
      set_error (err, errlen, "no usable TLS 1.3 cipher suite in the list");
      return -1;
    }
  return 0;
}

int
ossl_store_add_cert (X509_STORE *store, X509 *x, char *err,
                     size_t errlen)
{
  ERR_clear_error ();
  if (!X509_STORE_add_cert (store, x))
    {
      unsigned long e = ERR_peek_last_error ();
      if (ERR_GET_REASON (e) == X509_R_CERT_ALREADY_IN_HASH_TABLE)
        {
          ERR_clear_error ();
          return 0;
        }
      set_error (err, errlen, "cannot add CA certificate");
      return -1;
    }
  return 0;
}

/* Add every certificate of PEM data to STORE.  */
static int
store_add_pem (X509_STORE *store, const char *data, size_t len,
               char *err, size_t errlen)
{
  BIO *bio = BIO_new_mem_buf (data, (int) len);
  X509 *x;
  int n = 0, rc = 0;

  if (!bio)
    {
      set_error (err, errlen, "out of memory");
      return -1;
    }
  while ((x = PEM_read_bio_X509 (bio, NULL, NULL, NULL)) != NULL)
    {
      rc = ossl_store_add_cert (store, x, err, errlen);
      X509_free (x);
      if (rc)
        break;
      n++;
    }
  BIO_free (bio);
  if (rc)
    return rc;
  if (n == 0)
    {
      set_error (err, errlen, "no PEM certificate found in CA data");
      return -1;
    }
  ERR_clear_error ();           /* the expected end-of-data error */
  return 0;
}

/* Trust CAs of KIND "file", "dir" or "pem" in STORE.  */
int
ossl_store_add_ca (X509_STORE *store, const char *kind, const char *data,
                   size_t len, char *err, size_t errlen)
{
  char msg[OSSL_ERRLEN];

  ERR_clear_error ();
  if (strcmp (kind, "file") == 0)
    {
      if (X509_STORE_load_file (store, data))
        return 0;
      snprintf (msg, sizeof msg, "cannot load CA file %s", data);
      set_error (err, errlen, msg);
      return -1;
    }
  if (strcmp (kind, "dir") == 0)
    {
      if (X509_STORE_load_path (store, data))
        return 0;
      snprintf (msg, sizeof msg, "cannot use CA directory %s", data);
      set_error (err, errlen, msg);
      return -1;
    }
  if (strcmp (kind, "pem") == 0)
    return store_add_pem (store, data, len, err, errlen);
  snprintf (err, errlen, "unknown CA kind %s", kind);
  return -1;
}

int
ossl_ctx_add_ca_x509 (struct ossl_ctx *c, X509 *x, char *err, size_t errlen)
{
  return ossl_store_add_cert (SSL_CTX_get_cert_store (c->ctx), x, err, errlen);
}

int
ossl_ctx_add_ca (struct ossl_ctx *c, const char *kind, const char *data,
                 size_t len, char *err, size_t errlen)
{
  ERR_clear_error ();
  if (strcmp (kind, "system") == 0)
    {
      if (!SSL_CTX_set_default_verify_paths (c->ctx))
        {
          set_error (err, errlen, "cannot load the system trust store");
          return -1;
        }
      c->system_store = 1;
      return 0;
    }
  return ossl_store_add_ca (SSL_CTX_get_cert_store (c->ctx), kind, data, len,
                       err, errlen);
}

/* Open DATA as a file or as memory.  */
static BIO *
open_source (const char *data, size_t len, int is_file)
{
  return is_file ? BIO_new_file (data, "rb") : BIO_new_mem_buf (data,
                                                                (int) len);
}

static void
source_error (char *err, size_t errlen, const char *what,
              const char *data, int is_file)
{
  char msg[OSSL_ERRLEN];
  if (is_file)
    snprintf (msg, sizeof msg, "cannot read %s from %s", what, data);
  else
    snprintf (msg, sizeof msg, "cannot read %s from data", what);
  set_error (err, errlen, msg);
}

/* Read a leaf certificate and the chain after it.  */
static int
read_cert_chain (const char *data, size_t len, int is_file, X509 **leaf,
                 STACK_OF (X509) **chain, char *err, size_t errlen)
{
  BIO *bio;
  X509 *x;

  *leaf = NULL;
  *chain = NULL;
  ERR_clear_error ();
  bio = open_source (data, len, is_file);
  if (!bio)
    {
      source_error (err, errlen, "certificate", data, is_file);
      return -1;
    }
  *leaf = PEM_read_bio_X509 (bio, NULL, NULL, NULL);
  if (!*leaf)
    {
      /* Not PEM: try one DER certificate.  */
      (void) BIO_reset (bio);
      ERR_clear_error ();
      *leaf = d2i_X509_bio (bio, NULL);
    }
  if (!*leaf || !(*chain = sk_X509_new_null ()))
    {
      source_error (err, errlen, "certificate", data, is_file);
      X509_free (*leaf);
      *leaf = NULL;
      BIO_free (bio);
      return -1;
    }
  /* The rest of a PEM file is the chain, in order.  */
  while ((x = PEM_read_bio_X509 (bio, NULL, NULL, NULL)) != NULL)
    if (!sk_X509_push (*chain, x))
      {
        X509_free (x);
        break;
      }
  ERR_clear_error ();
  BIO_free (bio);
  return 0;
}

static EVP_PKEY *
read_key (const char *data, size_t len, int is_file,
          pem_password_cb *password_cb, void *userdata,
          char *err, size_t errlen)
{
  BIO *bio;
  EVP_PKEY *key;

  ERR_clear_error ();
  bio = open_source (data, len, is_file);
  if (!bio)
    {
      source_error (err, errlen, "private key", data, is_file);
      return NULL;
    }
  key = PEM_read_bio_PrivateKey (bio, NULL, password_cb, userdata);
  if (!key)
    {
      (void) BIO_reset (bio);
      ERR_clear_error ();
      key = d2i_PrivateKey_bio (bio, NULL);
    }
  BIO_free (bio);
  ERR_clear_error ();
  if (!key)
    snprintf (err, errlen, "cannot read private key from %s%s",
              is_file ? data : "data",
              password_cb ? " (wrong password?)"
              : " (no key there, or it is encrypted and needs a password)");
  return key;
}

/* Use a certificate chain in the context CTX, or else in SSL.  */
static int
use_cert (SSL_CTX *ctx, SSL *ssl, const char *data, size_t len, int is_file,
          char *err, size_t errlen)
{
  X509 *leaf;
  STACK_OF (X509) *chain;
  int ok;

  if (read_cert_chain (data, len, is_file, &leaf, &chain, err, errlen))
    return -1;
  ok = ctx ? SSL_CTX_use_certificate (ctx, leaf) && SSL_CTX_set1_chain (ctx, chain)
    : SSL_use_certificate (ssl, leaf) && SSL_set1_chain (ssl, chain);
  X509_free (leaf);
  sk_X509_pop_free (chain, X509_free);
  if (!ok)
    {
      source_error (err, errlen, "certificate", data, is_file);
      return -1;
    }
  return 0;
}

/* Use a private key in the context CTX, or else in SSL.  */
static int
use_key (SSL_CTX *ctx, SSL *ssl, const char *data, size_t len, int is_file,
         pem_password_cb *password_cb, void *userdata, char *err,
         size_t errlen)
{
  EVP_PKEY *key = read_key (data, len, is_file, password_cb, userdata,
                            err, errlen);
  int ok;

  if (!key)
    return -1;
  ok = ctx ? SSL_CTX_use_PrivateKey (ctx, key) && SSL_CTX_check_private_key (ctx)
    : SSL_use_PrivateKey (ssl, key) && SSL_check_private_key (ssl);
  EVP_PKEY_free (key);
  if (!ok)
    {
      set_error (err, errlen, "private key does not match the certificate");
      return -1;
    }
  return 0;
}

int
ossl_ctx_use_cert (struct ossl_ctx *c, const char *data, size_t len,
                   int is_file, char *err, size_t errlen)
{
  return use_cert (c->ctx, NULL, data, len, is_file, err, errlen);
}

int
ossl_ctx_use_key (struct ossl_ctx *c, const char *data, size_t len,
                  int is_file, pem_password_cb *password_cb, void *userdata,
                  char *err, size_t errlen)
{
  return use_key (c->ctx, NULL, data, len, is_file, password_cb, userdata,
                  err, errlen);
}

int
ossl_conn_use_cert (struct ossl_conn *conn, const char *data, size_t len,
                    int is_file, char *err, size_t errlen)
{
  return use_cert (NULL, conn->ssl, data, len, is_file, err, errlen);
}

int
ossl_conn_use_key (struct ossl_conn *conn, const char *data, size_t len,
                   int is_file, pem_password_cb *password_cb, void *userdata,
                   char *err, size_t errlen)
{
  /* The password function may release the connection: keep the SSL.  */
  SSL *ssl = conn->ssl;
  int rc;

  SSL_up_ref (ssl);
  rc = use_key (NULL, ssl, data, len, is_file, password_cb, userdata,
                err, errlen);
  SSL_free (ssl);
  if (rc == 0 && !conn->ssl)
    {
      snprintf (err, errlen, "TLS connection is finished");
      return -1;
    }
  return rc;
}
