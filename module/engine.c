/* engine.c -- a sans-IO TLS engine over two OpenSSL memory BIOs.  */

#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "crypto.h"
#include "engine.h"
#include "x509.h"

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

static struct ossl_ctx *
ctx_of (SSL_CTX *ctx)
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
  struct ossl_ctx *c = ctx_of (SSL_get_SSL_CTX (ssl));
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
  struct ossl_ctx *c = s ? ctx_of (SSL_get_SSL_CTX (s)) : NULL;
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

static int
store_add_cert (X509_STORE *store, X509 *x, char *err, size_t errlen)
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
      rc = store_add_cert (store, x, err, errlen);
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
static int
store_add_ca (X509_STORE *store, const char *kind, const char *data,
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
  return store_add_cert (SSL_CTX_get_cert_store (c->ctx), x, err, errlen);
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
  return store_add_ca (SSL_CTX_get_cert_store (c->ctx), kind, data, len,
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

/* Connections.  */

static void
clear_failures (struct ossl_conn *conn)
{
  int i;
  for (i = 0; i < conn->nfailures; i++)
    X509_free (conn->failures[i].cert);
  conn->nfailures = 0;
}

static int
verify_cb (int ok, X509_STORE_CTX *sctx)
{
  SSL *ssl = X509_STORE_CTX_get_ex_data (sctx,
                                         SSL_get_ex_data_X509_STORE_CTX_idx ());
  struct ossl_conn *conn = ssl ? SSL_get_app_data (ssl) : NULL;

  if (!conn)
    return ok;
  if (!ok && conn->nfailures < OSSL_MAX_FAILURES)
    {
      struct ossl_failure *f = &conn->failures[conn->nfailures++];
      f->code = X509_STORE_CTX_get_error (sctx);
      f->depth = X509_STORE_CTX_get_error_depth (sctx);
      f->cert = X509_STORE_CTX_get_current_cert (sctx);
      if (f->cert)
        X509_up_ref (f->cert);
    }
  return conn->verify_mode == OSSL_VERIFY_ENFORCE ? ok : 1;
}

static int
set_peer_name (struct ossl_conn *conn, const char *hostname)
{
  X509_VERIFY_PARAM *param = SSL_get0_param (conn->ssl);
  ASN1_OCTET_STRING *ip = a2i_IPADDRESS (hostname);

  if (!(conn->hostname = strdup (hostname)))
    return 0;
  if (ip)
    {
      ASN1_OCTET_STRING_free (ip);
      return X509_VERIFY_PARAM_set1_ip_asc (param, hostname);
    }
  X509_VERIFY_PARAM_set_hostflags (param,
                                   X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  return SSL_set1_host (conn->ssl, hostname)
    && SSL_set_tlsext_host_name (conn->ssl, hostname);
}

int
ossl_host_name_ok (const char *name, size_t len)
{
  size_t i;
  for (i = 0; i < len; i++)
    if ((unsigned char) name[i] < 0x20 || (unsigned char) name[i] == 0x7f)
      return 0;
  return 1;
}

struct ossl_conn *
ossl_conn_new (struct ossl_ctx *c, const char *hostname, int verify_mode,
               char *err, size_t errlen)
{
  struct ossl_conn *conn = calloc (1, sizeof *conn);
  int mode;

  if (!conn)
    {
      snprintf (err, errlen, "out of memory");
      return NULL;
    }
  ERR_clear_error ();
  conn->server = c->server;
  conn->verify_mode = verify_mode;
  conn->ssl = SSL_new (c->ctx);
  conn->rbio = BIO_new (BIO_s_mem ());
  conn->wbio = BIO_new (BIO_s_mem ());
  if (!conn->ssl || !conn->rbio || !conn->wbio)
    {
      set_error (err, errlen, "cannot create TLS connection");
      SSL_free (conn->ssl);
      BIO_free (conn->rbio);
      BIO_free (conn->wbio);
      free (conn);
      return NULL;
    }
  /* An empty memory BIO means "try again", not end of file.  */
  BIO_set_mem_eof_return (conn->rbio, -1);
  BIO_set_mem_eof_return (conn->wbio, -1);
  SSL_set_bio (conn->ssl, conn->rbio, conn->wbio);
  SSL_set_app_data (conn->ssl, conn);

  if (c->server)
    {
      mode = SSL_VERIFY_NONE;
      if (verify_mode == OSSL_VERIFY_REQUEST)
        mode = SSL_VERIFY_PEER;
      else if (verify_mode == OSSL_VERIFY_ENFORCE)
        mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
      SSL_set_verify (conn->ssl, mode, mode == SSL_VERIFY_NONE
                      ? NULL : verify_cb);
      SSL_set_accept_state (conn->ssl);
    }
  else
    {
      /* Always verify, so the outcome is known; the callback decides
         whether a failure aborts the handshake.  */
      SSL_set_verify (conn->ssl, SSL_VERIFY_PEER, verify_cb);
      if (hostname && *hostname
          && (!ossl_host_name_ok (hostname, strlen (hostname))
              || !set_peer_name (conn, hostname)))
        {
          set_error (err, errlen, "cannot set the host name to verify");
          ossl_conn_free (conn);
          return NULL;
        }
      SSL_set_connect_state (conn->ssl);
    }
  conn->state = OSSL_HANDSHAKING;
  return conn;
}

void
ossl_conn_release (struct ossl_conn *conn)
{
  if (!conn)
    return;
  SSL_free (conn->ssl);         /* frees both BIOs */
  conn->ssl = NULL;
  conn->rbio = conn->wbio = NULL;
  clear_failures (conn);
  X509_STORE_free (conn->store);
  conn->store = NULL;
  free (conn->alpn);
  conn->alpn = NULL;
  free (conn->hostname);
  conn->hostname = NULL;
  sk_X509_pop_free (conn->resumed_chain, X509_free);
  conn->resumed_chain = NULL;
  if (conn->state < OSSL_CLOSED)
    conn->state = OSSL_CLOSED;
}

void
ossl_conn_free (struct ossl_conn *conn)
{
  ossl_conn_release (conn);
  free (conn);
}

/* Record a fatal error from the SSL call that just failed.  */
static void
fail (struct ossl_conn *conn, int ret)
{
  int e = SSL_get_error (conn->ssl, ret);
  const char *what = conn->state == OSSL_HANDSHAKING
    ? "TLS handshake failed" : "TLS connection failed";

  if (e == SSL_ERROR_SSL && conn->nfailures > 0
      && conn->verify_mode == OSSL_VERIFY_ENFORCE)
    {
      snprintf (conn->reason, sizeof conn->reason,
                "certificate verify failed: %s",
                X509_verify_cert_error_string (conn->failures[0].code));
      ERR_clear_error ();
    }
  else if (e == SSL_ERROR_SSL)
    {
      set_error (conn->reason, sizeof conn->reason, "");
      if (!conn->reason[0])
        snprintf (conn->reason, sizeof conn->reason, "%s", what);
    }
  else
    snprintf (conn->reason, sizeof conn->reason, "%s (SSL error %d)",
              what, e);
  conn->state = OSSL_FAILED;
}

/* The cleartext scratch buffer, shared by every connection: Emacs
   calls the module from one thread at a time and the bindings copy
   the cleartext out before the next call, so one buffer per process
   will do, and an idle connection keeps none.  */
static unsigned char *scratch;
static size_t scratch_size;

/* Make room for N more bytes after USED in the scratch buffer.  */
static int
grow (size_t used, size_t n)
{
  size_t want = used + n, size;
  unsigned char *p;

  if (want <= scratch_size)
    return 0;
  size = scratch_size ? scratch_size : 16384;
  while (size < want)
    size *= 2;
  p = realloc (scratch, size);
  if (!p)
    return -1;
  scratch = p;
  scratch_size = size;
  return 0;
}

/* A scratch buffer bigger than this is freed at the next feed.  */
#define OSSL_SCRATCH_KEEP (1024 * 1024)

/* The peer sent more than OSSL_LEFTOVER_MAX bytes after its
   close_notify: drop them and fail the connection.  */
static int
leftover_overflow (struct ossl_conn *conn)
{
  conn->overflow = 1;
  snprintf (conn->reason, sizeof conn->reason,
            "the peer sent more than %d bytes after its close_notify",
            OSSL_LEFTOVER_MAX);
  conn->state = OSSL_FAILED;
  return -1;
}

/* The peer closed: keep what follows, up to the limit.  */
static int
keep_leftover (struct ossl_conn *conn, const char *data, size_t len)
{
  size_t pending = BIO_ctrl_pending (conn->rbio);

  if (len == 0)
    return 0;
  if (conn->overflow || len > OSSL_LEFTOVER_MAX - pending)
    return leftover_overflow (conn);
  if (BIO_write (conn->rbio, data, (int) len) != (int) len)
    {
      snprintf (conn->reason, sizeof conn->reason, "out of memory");
      conn->state = OSSL_FAILED;
      return -1;
    }
  return 0;
}

/* After the close_notify just read: keep at most the limit of what
   came with it.  */
static int
trim_leftover (struct ossl_conn *conn)
{
  size_t pending = BIO_ctrl_pending (conn->rbio);
  char *keep;

  if (pending <= OSSL_LEFTOVER_MAX)
    return 0;
  keep = malloc (OSSL_LEFTOVER_MAX);
  if (keep)
    {
      int got = BIO_read (conn->rbio, keep, OSSL_LEFTOVER_MAX);
      (void) BIO_reset (conn->rbio);
      if (got > 0)
        BIO_write (conn->rbio, keep, got);
      free (keep);
    }
  else
    (void) BIO_reset (conn->rbio);
  return leftover_overflow (conn);
}

int
ossl_conn_feed (struct ossl_conn *conn, const char *data, size_t len,
                const unsigned char **out, size_t *outlen)
{
  size_t used = 0;
  int ret;

  /* One big feed leaves no big buffer behind for the next ones.  */
  if (scratch_size > OSSL_SCRATCH_KEEP)
    {
      free (scratch);
      scratch = NULL;
      scratch_size = 0;
    }
  *out = scratch;
  *outlen = 0;
  if (conn->peer_closed)
    return keep_leftover (conn, data, len);
  if (len > 0 && BIO_write (conn->rbio, data, (int) len) != (int) len)
    {
      snprintf (conn->reason, sizeof conn->reason, "out of memory");
      conn->state = OSSL_FAILED;
      return -1;
    }
  if (conn->state == OSSL_HANDSHAKING)
    {
      ERR_clear_error ();
      ret = SSL_do_handshake (conn->ssl);
      if (ret == 1)
        conn->state = OSSL_OPEN;
      else
        {
          int e = SSL_get_error (conn->ssl, ret);
          if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE
              || e == SSL_ERROR_WANT_CLIENT_HELLO_CB)
            {
              if (BIO_ctrl_pending (conn->rbio) <= OSSL_HANDSHAKE_INPUT_MAX)
                return 0;
              ERR_clear_error ();
              snprintf (conn->reason, sizeof conn->reason,
                        "TLS handshake failed: the peer sent more than "
                        "%d bytes the handshake could not use",
                        OSSL_HANDSHAKE_INPUT_MAX);
              conn->state = OSSL_FAILED;
              return -1;
            }
          fail (conn, ret);
          return -1;
        }
    }
  if (conn->state == OSSL_FAILED || conn->peer_closed)
    return conn->state == OSSL_FAILED ? -1 : 0;
  /* Read every cleartext byte there is, including what came in the
     same flight as the end of the handshake.  */
  for (;;)
    {
      size_t got = 0;
      if (grow (used, 16384))
        {
          snprintf (conn->reason, sizeof conn->reason, "out of memory");
          conn->state = OSSL_FAILED;
          return -1;
        }
      ERR_clear_error ();
      ret = SSL_read_ex (conn->ssl, scratch + used, scratch_size - used,
                         &got);
      if (ret == 1)
        {
          used += got;
          continue;
        }
      int e = SSL_get_error (conn->ssl, ret);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        break;
      if (e == SSL_ERROR_ZERO_RETURN)
        {
          conn->peer_closed = 1;
          /* Answer the peer's close_notify with ours.  */
          ERR_clear_error ();
          SSL_shutdown (conn->ssl);
          ERR_clear_error ();
          conn->state = OSSL_CLOSED;
          /* What came with the close_notify: at most the limit.  */
          if (trim_leftover (conn))
            {
              *out = scratch;
              *outlen = used;
              return -1;
            }
          break;
        }
      fail (conn, ret);
      *out = scratch;
      *outlen = used;
      return -1;
    }
  *out = scratch;
  *outlen = used;
  return 0;
}

size_t
ossl_conn_pending (struct ossl_conn *conn, const char **data)
{
  char *p = NULL;
  long n;
  if (!conn->wbio)
    return 0;
  n = BIO_get_mem_data (conn->wbio, &p);
  *data = p;
  return n > 0 ? (size_t) n : 0;
}

void
ossl_conn_taken (struct ossl_conn *conn)
{
  if (conn->wbio)
    (void) BIO_reset (conn->wbio);
}

int
ossl_conn_write (struct ossl_conn *conn, const char *data, size_t len)
{
  size_t written = 0;
  int ret;

  if (len == 0)
    return 0;
  ERR_clear_error ();
  /* A memory BIO never fills up, so one call writes everything.  */
  ret = SSL_write_ex (conn->ssl, data, len, &written);
  if (ret != 1 || written != len)
    {
      fail (conn, ret);
      return -1;
    }
  return 0;
}

int
ossl_conn_shutdown (struct ossl_conn *conn)
{
  int ret;
  if (conn->state == OSSL_FAILED)
    return -1;
  if (conn->state == OSSL_HANDSHAKING)
    {
      /* Nothing was agreed yet: just stop.  */
      conn->state = OSSL_CLOSED;
      return 0;
    }
  ERR_clear_error ();
  ret = SSL_shutdown (conn->ssl);
  if (ret < 0)
    {
      int e = SSL_get_error (conn->ssl, ret);
      if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
        {
          fail (conn, ret);
          return -1;
        }
    }
  ERR_clear_error ();
  conn->state = (ret == 1 || conn->peer_closed) ? OSSL_CLOSED : OSSL_CLOSING;
  return 0;
}

size_t
ossl_conn_leftover (struct ossl_conn *conn, char **data)
{
  size_t n;
  char *p;
  int got;

  *data = NULL;
  if (!conn->rbio || (n = BIO_ctrl_pending (conn->rbio)) == 0)
    return 0;
  p = malloc (n);
  if (!p)
    return 0;
  got = BIO_read (conn->rbio, p, (int) n);
  if (got <= 0)
    {
      free (p);
      return 0;
    }
  *data = p;
  return (size_t) got;
}

/* A store for CONN alone: a copy of its context's, which other
   connections share and must not see changed.  */
static X509_STORE *
conn_store (struct ossl_conn *conn)
{
  SSL_CTX *ctx = SSL_get_SSL_CTX (conn->ssl);
  struct ossl_ctx *c = ctx_of (ctx);
  STACK_OF (X509_OBJECT) *objs;
  X509_STORE *store;
  int i;

  if (conn->store)
    return conn->store;
  store = X509_STORE_new ();
  if (!store)
    return NULL;
  objs = X509_STORE_get0_objects (SSL_CTX_get_cert_store (ctx));
  for (i = 0; i < sk_X509_OBJECT_num (objs); i++)
    {
      X509_OBJECT *o = sk_X509_OBJECT_value (objs, i);
      if (X509_OBJECT_get_type (o) == X509_LU_X509)
        X509_STORE_add_cert (store, X509_OBJECT_get0_X509 (o));
      else if (X509_OBJECT_get_type (o) == X509_LU_CRL)
        X509_STORE_add_crl (store, X509_OBJECT_get0_X509_CRL (o));
    }
  /* The system store's directory is looked up lazily: keep it.  */
  if (c && c->system_store)
    X509_STORE_load_path (store, X509_get_default_cert_dir ());
  ERR_clear_error ();
  conn->store = store;
  return store;
}

int
ossl_conn_inject_ca (struct ossl_conn *conn, const char *kind,
                     const char *data, size_t len, X509 *x,
                     char *err, size_t errlen)
{
  X509_STORE *store = conn_store (conn);
  int rc;

  if (!store)
    {
      snprintf (err, errlen, "out of memory");
      return -1;
    }
  rc = kind ? store_add_ca (store, kind, data, len, err, errlen)
    : store_add_cert (store, x, err, errlen);
  if (rc)
    return -1;
  if (!SSL_set1_verify_cert_store (conn->ssl, store))
    {
      set_error (err, errlen, "cannot use the new trust store");
      return -1;
    }
  if (conn->state != OSSL_HANDSHAKING
      && SSL_get0_peer_certificate (conn->ssl))
    {
      /* With hindsight: verify the peer again.  */
      int rc2;
      clear_failures (conn);
      rc2 = ossl_conn_reverify (conn, store);
      if (rc2 != X509_V_OK)
        {
          conn->failures[0].code = rc2;
          conn->failures[0].depth = 0;
          conn->failures[0].cert = NULL;
          conn->nfailures = 1;
        }
    }
  return 0;
}

int
ossl_conn_set_alpn (struct ossl_conn *conn, const unsigned char *wire,
                    size_t len, char *err, size_t errlen)
{
  ERR_clear_error ();
  if (!conn->server)
    {
      /* Note the inverted convention: 0 is success.  */
      if (SSL_set_alpn_protos (conn->ssl, wire, (unsigned int) len) != 0)
        {
          set_error (err, errlen, "cannot set ALPN protocols");
          return -1;
        }
      return 0;
    }
  free (conn->alpn);
  conn->alpn = malloc (len);
  if (!conn->alpn)
    {
      snprintf (err, errlen, "out of memory");
      return -1;
    }
  memcpy (conn->alpn, wire, len);
  conn->alpn_len = len;
  return 0;
}

/* Saved sessions.  ossl_conn_get_session writes, and
   ossl_conn_set_session reads, this envelope around OpenSSL's DER
   form (lengths are 4 bytes, big-endian):

     "ossl-session-1" FLAGS(1) HOSTLEN HOST DERLEN DER N (LEN CERT)*N

   FLAGS bit 0: the peer's chain and HOST verified.  The chain, leaf
   first, is kept because OpenSSL's DER form keeps the leaf only.  */

static const char session_magic[] = "ossl-session-1";
#define SESSION_VERIFIED 1

/* A growing byte buffer for the envelope.  */
struct buf
{
  unsigned char *p;
  size_t len, size;
  int failed;
};

static void
buf_add (struct buf *b, const void *data, size_t n)
{
  if (b->failed)
    return;
  if (b->len + n > b->size)
    {
      size_t size = b->size ? b->size : 4096;
      unsigned char *p;
      while (size < b->len + n)
        size *= 2;
      p = malloc (size);
      if (!p)
        {
          b->failed = 1;
          return;
        }
      if (b->p)
        {
          memcpy (p, b->p, b->len);
          OPENSSL_cleanse (b->p, b->len);
          free (b->p);
        }
      b->p = p;
      b->size = size;
    }
  memcpy (b->p + b->len, data, n);
  b->len += n;
}

static void
buf_add_len (struct buf *b, size_t n)
{
  unsigned char be[4];
  be[0] = (unsigned char) (n >> 24);
  be[1] = (unsigned char) (n >> 16);
  be[2] = (unsigned char) (n >> 8);
  be[3] = (unsigned char) n;
  buf_add (b, be, 4);
}

/* Add X in DER form, with its length.  */
static void
buf_add_x509 (struct buf *b, X509 *x)
{
  unsigned char *der = NULL;
  int n = i2d_X509 (x, &der);
  if (n <= 0)
    {
      b->failed = 1;
      return;
    }
  buf_add_len (b, (size_t) n);
  buf_add (b, der, (size_t) n);
  OPENSSL_free (der);
}

int
ossl_conn_get_session (struct ossl_conn *conn, unsigned char **data,
                       size_t *len)
{
  SSL_SESSION *sess = SSL_get1_session (conn->ssl);
  STACK_OF (X509) *chain = SSL_get_peer_cert_chain (conn->ssl);
  X509 *leaf = SSL_get0_peer_certificate (conn->ssl);
  struct buf b = { NULL, 0, 0, 0 };
  unsigned char *der = NULL;
  unsigned char flags;
  int n, i;

  *data = NULL;
  *len = 0;
  if (!sess)
    return -1;
  if (!SSL_SESSION_is_resumable (sess)
      || (n = i2d_SSL_SESSION (sess, &der)) <= 0)
    {
      SSL_SESSION_free (sess);
      ERR_clear_error ();
      return -1;
    }
  SSL_SESSION_free (sess);
  /* A resumed session's chain is the one it was saved with.  */
  if (!chain || sk_X509_num (chain) == 0)
    chain = conn->resumed_chain;
  flags = (!conn->server && conn->hostname && leaf
           && SSL_get_verify_result (conn->ssl) == X509_V_OK)
    ? SESSION_VERIFIED : 0;
  buf_add (&b, session_magic, sizeof session_magic - 1);
  buf_add (&b, &flags, 1);
  buf_add_len (&b, conn->hostname ? strlen (conn->hostname) : 0);
  if (conn->hostname)
    buf_add (&b, conn->hostname, strlen (conn->hostname));
  buf_add_len (&b, (size_t) n);
  buf_add (&b, der, (size_t) n);
  OPENSSL_clear_free (der, (size_t) n);
  buf_add_len (&b, chain ? (size_t) sk_X509_num (chain) : 0);
  for (i = 0; chain && i < sk_X509_num (chain); i++)
    buf_add_x509 (&b, sk_X509_value (chain, i));
  ERR_clear_error ();
  if (b.failed)
    {
      if (b.p)
        OPENSSL_cleanse (b.p, b.len);
      free (b.p);
      return -1;
    }
  *data = b.p;
  *len = b.len;
  return 0;
}

/* A reader of the envelope: every read checks the bounds.  */
struct rd
{
  const unsigned char *p;
  size_t left;
};

static int
rd_len (struct rd *r, size_t *n)
{
  if (r->left < 4)
    return 0;
  *n = ((size_t) r->p[0] << 24) | ((size_t) r->p[1] << 16)
    | ((size_t) r->p[2] << 8) | r->p[3];
  r->p += 4;
  r->left -= 4;
  return *n <= r->left;
}

/* Verify the certificate LEAF with the untrusted CHAIN under STORE
   and CONN's settings (host name, purpose, security level); return
   the X509_V_* code.  */
static int
verify_chain (struct ossl_conn *conn, X509_STORE *store, X509 *leaf,
              STACK_OF (X509) *chain)
{
  X509_STORE_CTX *sctx = X509_STORE_CTX_new ();
  X509_VERIFY_PARAM *param;
  int rc;

  if (!sctx || !X509_STORE_CTX_init (sctx, store, leaf, chain))
    {
      X509_STORE_CTX_free (sctx);
      ERR_clear_error ();
      return X509_V_ERR_OUT_OF_MEM;
    }
  param = X509_STORE_CTX_get0_param (sctx);
  X509_STORE_CTX_set_default (sctx, conn->server ? "ssl_client"
                              : "ssl_server");
  X509_VERIFY_PARAM_set1 (param, SSL_get0_param (conn->ssl));
  X509_VERIFY_PARAM_set_auth_level (param,
                                    SSL_get_security_level (conn->ssl));
  ERR_clear_error ();
  rc = X509_verify_cert (sctx) == 1 ? X509_V_OK
    : X509_STORE_CTX_get_error (sctx);
  X509_STORE_CTX_free (sctx);
  ERR_clear_error ();
  return rc;
}

/* The store CONN verifies with.  */
static X509_STORE *
verify_store (struct ossl_conn *conn)
{
  return conn->store ? conn->store
    : SSL_CTX_get_cert_store (SSL_get_SSL_CTX (conn->ssl));
}

int
ossl_conn_set_session (struct ossl_conn *conn, const unsigned char *data,
                       size_t len, char *err, size_t errlen)
{
  struct rd r = { data, len };
  const unsigned char *host, *der, *p;
  size_t hostlen, derlen, ncerts, n, i;
  unsigned char flags;
  STACK_OF (X509) *chain = NULL;
  SSL_SESSION *sess = NULL;
  int offer = 0;

  ERR_clear_error ();
  if (len < sizeof session_magic
      || memcmp (data, session_magic, sizeof session_magic - 1) != 0)
    goto bad;
  r.p += sizeof session_magic - 1;
  r.left -= sizeof session_magic - 1;
  flags = *r.p++;
  r.left--;
  if (!rd_len (&r, &hostlen))
    goto bad;
  host = r.p;
  r.p += hostlen;
  r.left -= hostlen;
  if (!rd_len (&r, &derlen))
    goto bad;
  der = r.p;
  r.p += derlen;
  r.left -= derlen;
  if (!rd_len (&r, &ncerts))
    goto bad;
  if (!(chain = sk_X509_new_null ()))
    goto bad;
  for (i = 0; i < ncerts; i++)
    {
      X509 *x;
      if (!rd_len (&r, &n))
        goto bad;
      p = r.p;
      x = d2i_X509 (NULL, &p, (long) n);
      if (!x || p != r.p + n || !sk_X509_push (chain, x))
        {
          X509_free (x);
          goto bad;
        }
      r.p += n;
      r.left -= n;
    }
  p = der;
  sess = d2i_SSL_SESSION (NULL, &p, (long) derlen);
  if (r.left != 0 || !sess || p != der + derlen)
    goto bad;
  /* Offer it only where a full handshake would be verified just as
     well: the same name, and a chain the trust of this connection
     accepts for it.  */
  offer = !conn->server && (flags & SESSION_VERIFIED) && conn->hostname
    && hostlen == strlen (conn->hostname)
    && strncasecmp ((const char *) host, conn->hostname, hostlen) == 0
    && sk_X509_num (chain) > 0
    && verify_chain (conn, verify_store (conn), sk_X509_value (chain, 0),
                     chain) == X509_V_OK;
  if (offer && !SSL_set_session (conn->ssl, sess))
    {
      set_error (err, errlen, "cannot resume this session");
      SSL_SESSION_free (sess);
      sk_X509_pop_free (chain, X509_free);
      return -1;
    }
  SSL_SESSION_free (sess);
  if (offer)
    {
      sk_X509_pop_free (conn->resumed_chain, X509_free);
      conn->resumed_chain = chain;
    }
  else
    sk_X509_pop_free (chain, X509_free);
  ERR_clear_error ();
  return offer;

 bad:
  SSL_SESSION_free (sess);
  sk_X509_pop_free (chain, X509_free);
  set_error (err, errlen, "not a saved TLS session");
  return -1;
}

static const char *
signature_key_name (int nid)
{
  switch (nid)
    {
    case EVP_PKEY_RSA: return "RSA";
    case EVP_PKEY_RSA_PSS: return "RSA-PSS";
    case EVP_PKEY_EC: return "ECDSA";
    case EVP_PKEY_ED25519: return "Ed25519";
    case EVP_PKEY_ED448: return "Ed448";
    case EVP_PKEY_DSA: return "DSA";
    default: return OBJ_nid2sn (nid);
    }
}

void
ossl_conn_get_info (struct ossl_conn *conn, struct ossl_conn_info *info)
{
  const SSL_CIPHER *cipher;
  const unsigned char *alpn;
  unsigned int alpn_len;
  int nid, type;

  memset (info, 0, sizeof *info);
  if (!conn->ssl || !SSL_is_init_finished (conn->ssl))
    return;
  info->protocol = SSL_get_version (conn->ssl);
  cipher = SSL_get_current_cipher (conn->ssl);
  if (cipher)
    {
      info->cipher = SSL_CIPHER_get_name (cipher);
      info->cipher_bits = SSL_CIPHER_get_bits (cipher, NULL);
    }
  nid = SSL_get_negotiated_group (conn->ssl);
  if (nid > 0)
    info->group = SSL_group_to_name (conn->ssl, nid);
  if (SSL_get_peer_signature_type_nid (conn->ssl, &type))
    {
      const char *digest = NULL;
      if (SSL_get_peer_signature_nid (conn->ssl, &nid) && nid != NID_undef)
        digest = OBJ_nid2sn (nid);
      snprintf (info->signature, sizeof info->signature, "%s%s%s",
                signature_key_name (type), digest ? "+" : "",
                digest ? digest : "");
    }
  info->server_name = SSL_get_servername (conn->ssl,
                                          TLSEXT_NAMETYPE_host_name);
  SSL_get0_alpn_selected (conn->ssl, &alpn, &alpn_len);
  if (alpn && alpn_len < sizeof info->alpn)
    {
      memcpy (info->alpn, alpn, alpn_len);
      info->alpn[alpn_len] = '\0';
    }
  info->session_reused = SSL_session_reused (conn->ssl);
  info->secure_renegotiation
    = SSL_get_secure_renegotiation_support (conn->ssl);
  {
    EVP_PKEY *tmp = NULL;
    if (SSL_get_peer_tmp_key (conn->ssl, &tmp) && tmp)
      info->peer_tmp_key_bits = EVP_PKEY_get_bits (tmp);
    EVP_PKEY_free (tmp);
  }
  ERR_clear_error ();
}

int
ossl_conn_reverify (struct ossl_conn *conn, X509_STORE *store)
{
  STACK_OF (X509) *chain = SSL_get_peer_cert_chain (conn->ssl);
  X509 *leaf = SSL_get0_peer_certificate (conn->ssl);
  int rc;

  if (!leaf)
    return X509_V_ERR_APPLICATION_VERIFICATION;
  rc = verify_chain (conn, store, leaf, chain);
  SSL_set_verify_result (conn->ssl, rc);
  return rc;
}

int
ossl_conn_verify_result (struct ossl_conn *conn)
{
  long code = SSL_get_verify_result (conn->ssl);

  if (code == X509_V_OK && !SSL_get0_peer_certificate (conn->ssl))
    return OSSL_V_NO_PEER_CERT;
  if (code == X509_V_OK && !conn->server && !conn->hostname)
    return OSSL_V_NO_HOST_CHECKED;
  return (int) code;
}
