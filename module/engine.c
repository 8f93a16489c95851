/* engine.c -- a sans-IO TLS engine over two OpenSSL memory BIOs.  */

#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "engine.h"

/* Put MSG and OpenSSL's queued reasons into ERR, then clear the queue.  */
static void
set_error (char *err, size_t errlen, const char *msg)
{
  unsigned long e;
  size_t used;

  if (!err || errlen == 0)
    {
      ERR_clear_error ();
      return;
    }
  snprintf (err, errlen, "%s", msg);
  used = strlen (err);
  /* The earliest error is usually the most specific one.  */
  if ((e = ERR_peek_error ()) != 0 && used + 3 < errlen)
    {
      char reason[256];
      const char *r = ERR_reason_error_string (e);
      if (r)
        snprintf (reason, sizeof reason, "%s", r);
      else
        ERR_error_string_n (e, reason, sizeof reason);
      snprintf (err + used, errlen - used, "%s%s", *msg ? ": " : "", reason);
    }
  ERR_clear_error ();
}

const char *
ossl_verify_string (int code)
{
  return X509_verify_cert_error_string (code);
}

/* Contexts.  */

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
  /* TLS 1.2 is the floor unless the caller lowers it explicitly.  */
  SSL_CTX_set_min_proto_version (c->ctx, TLS1_2_VERSION);
  SSL_CTX_set_options (c->ctx, SSL_OP_NO_RENEGOTIATION
                       | SSL_OP_NO_COMPRESSION);
  /* Idle connections keep no record buffers.  */
  SSL_CTX_set_mode (c->ctx, SSL_MODE_RELEASE_BUFFERS);
  if (server)
    SSL_CTX_set_session_id_context (c->ctx, (const unsigned char *) "ossl",
                                    4);
  return c;
}

void
ossl_ctx_free (struct ossl_ctx *c)
{
  if (!c)
    return;
  SSL_CTX_free (c->ctx);
  free (c);
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
  if (min && min < TLS1_2_VERSION)
    /* TLS 1.0 and 1.1 need SHA-1 signatures, which security level 1
       refuses; the caller asked for them by name.  */
    SSL_CTX_set_security_level (c->ctx, 0);
  return 0;
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
  if (suites && !SSL_CTX_set_ciphersuites (c->ctx, suites))
    {
      set_error (err, errlen, "no usable TLS 1.3 cipher suite in the list");
      return -1;
    }
  return 0;
}

int
ossl_ctx_add_ca_x509 (struct ossl_ctx *c, X509 *x, char *err, size_t errlen)
{
  X509_STORE *store = SSL_CTX_get_cert_store (c->ctx);
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

/* Add every certificate of PEM data to the store.  */
static int
add_ca_pem (struct ossl_ctx *c, const char *data, size_t len,
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
      rc = ossl_ctx_add_ca_x509 (c, x, err, errlen);
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
      return 0;
    }
  if (strcmp (kind, "file") == 0)
    {
      if (!SSL_CTX_load_verify_file (c->ctx, data))
        {
          char msg[OSSL_ERRLEN];
          snprintf (msg, sizeof msg, "cannot load CA file %s", data);
          set_error (err, errlen, msg);
          return -1;
        }
      return 0;
    }
  if (strcmp (kind, "dir") == 0)
    {
      if (!SSL_CTX_load_verify_dir (c->ctx, data))
        {
          char msg[OSSL_ERRLEN];
          snprintf (msg, sizeof msg, "cannot use CA directory %s", data);
          set_error (err, errlen, msg);
          return -1;
        }
      return 0;
    }
  if (strcmp (kind, "pem") == 0)
    return add_ca_pem (c, data, len, err, errlen);
  snprintf (err, errlen, "unknown CA kind %s", kind);
  return -1;
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

int
ossl_ctx_use_cert (struct ossl_ctx *c, const char *data, size_t len,
                   int is_file, char *err, size_t errlen)
{
  BIO *bio;
  X509 *leaf, *x;

  ERR_clear_error ();
  bio = open_source (data, len, is_file);
  if (!bio)
    {
      source_error (err, errlen, "certificate", data, is_file);
      return -1;
    }
  leaf = PEM_read_bio_X509 (bio, NULL, NULL, NULL);
  if (!leaf)
    {
      /* Not PEM: try one DER certificate.  */
      (void) BIO_reset (bio);
      ERR_clear_error ();
      leaf = d2i_X509_bio (bio, NULL);
    }
  if (!leaf || !SSL_CTX_use_certificate (c->ctx, leaf))
    {
      source_error (err, errlen, "certificate", data, is_file);
      X509_free (leaf);
      BIO_free (bio);
      return -1;
    }
  X509_free (leaf);
  /* The rest of a PEM file is the chain, in order.  */
  SSL_CTX_clear_chain_certs (c->ctx);
  while ((x = PEM_read_bio_X509 (bio, NULL, NULL, NULL)) != NULL)
    {
      int ok = SSL_CTX_add0_chain_cert (c->ctx, x);
      if (!ok)
        {
          X509_free (x);
          source_error (err, errlen, "certificate chain", data, is_file);
          BIO_free (bio);
          return -1;
        }
    }
  ERR_clear_error ();
  BIO_free (bio);
  return 0;
}

static int
password_cb (char *buf, int size, int rwflag, void *u)
{
  const char *pw = u;
  size_t n;
  (void) rwflag;
  if (!pw || size <= 0)
    return -1;
  n = strlen (pw);
  if (n > (size_t) size)
    return -1;
  memcpy (buf, pw, n);
  return (int) n;
}

int
ossl_ctx_use_key (struct ossl_ctx *c, const char *data, size_t len,
                  int is_file, const char *password, char *err, size_t errlen)
{
  BIO *bio;
  EVP_PKEY *key;

  ERR_clear_error ();
  bio = open_source (data, len, is_file);
  if (!bio)
    {
      source_error (err, errlen, "private key", data, is_file);
      return -1;
    }
  key = PEM_read_bio_PrivateKey (bio, NULL, password_cb, (void *) password);
  if (!key)
    {
      (void) BIO_reset (bio);
      ERR_clear_error ();
      key = d2i_PrivateKey_bio (bio, NULL);
    }
  BIO_free (bio);
  if (!key)
    {
      ERR_clear_error ();
      if (is_file)
        snprintf (err, errlen, "cannot read private key from %s%s", data,
                  password ? " (wrong password?)"
                  : " (no key there, or it is encrypted and needs a password)");
      else
        snprintf (err, errlen, "cannot read private key from data%s",
                  password ? " (wrong password?)"
                  : " (no key there, or it is encrypted and needs a password)");
      return -1;
    }
  if (!SSL_CTX_use_PrivateKey (c->ctx, key))
    {
      EVP_PKEY_free (key);
      set_error (err, errlen, "private key does not match the certificate");
      return -1;
    }
  EVP_PKEY_free (key);
  if (!SSL_CTX_check_private_key (c->ctx))
    {
      set_error (err, errlen, "private key does not match the certificate");
      return -1;
    }
  return 0;
}

/* Connections.  */

static int
verify_cb (int ok, X509_STORE_CTX *sctx)
{
  SSL *ssl = X509_STORE_CTX_get_ex_data (sctx,
                                         SSL_get_ex_data_X509_STORE_CTX_idx ());
  struct ossl_conn *conn = ssl ? SSL_get_app_data (ssl) : NULL;

  if (!conn)
    return ok;
  if (!ok && conn->verify_error == X509_V_OK)
    {
      conn->verify_error = X509_STORE_CTX_get_error (sctx);
      conn->verify_depth = X509_STORE_CTX_get_error_depth (sctx);
      X509_free (conn->verify_cert);
      conn->verify_cert = X509_STORE_CTX_get_current_cert (sctx);
      if (conn->verify_cert)
        X509_up_ref (conn->verify_cert);
    }
  return conn->verify_mode == OSSL_VERIFY_ENFORCE ? ok : 1;
}

static int
set_peer_name (struct ossl_conn *conn, const char *hostname)
{
  X509_VERIFY_PARAM *param = SSL_get0_param (conn->ssl);
  ASN1_OCTET_STRING *ip = a2i_IPADDRESS (hostname);

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
      if (hostname && *hostname && !set_peer_name (conn, hostname))
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
  X509_free (conn->verify_cert);
  conn->verify_cert = NULL;
  if (conn->buf)
    OPENSSL_cleanse (conn->buf, conn->bufsize);
  free (conn->buf);
  conn->buf = NULL;
  conn->bufsize = 0;
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

  if (e == SSL_ERROR_SSL && conn->verify_error != X509_V_OK
      && conn->verify_mode == OSSL_VERIFY_ENFORCE)
    {
      snprintf (conn->reason, sizeof conn->reason,
                "certificate verify failed: %s",
                X509_verify_cert_error_string (conn->verify_error));
      ERR_clear_error ();
    }
  else if (e == SSL_ERROR_SSL)
    set_error (conn->reason, sizeof conn->reason, what);
  else
    snprintf (conn->reason, sizeof conn->reason, "%s (SSL error %d)",
              what, e);
  conn->state = OSSL_FAILED;
}

/* Make room for N more bytes after USED in the scratch buffer.  */
static int
grow (struct ossl_conn *conn, size_t used, size_t n)
{
  size_t want = used + n, size;
  unsigned char *p;

  if (want <= conn->bufsize)
    return 0;
  size = conn->bufsize ? conn->bufsize : 16384;
  while (size < want)
    size *= 2;
  p = realloc (conn->buf, size);
  if (!p)
    return -1;
  conn->buf = p;
  conn->bufsize = size;
  return 0;
}

int
ossl_conn_feed (struct ossl_conn *conn, const char *data, size_t len,
                const unsigned char **out, size_t *outlen)
{
  size_t used = 0;
  int ret;

  *out = conn->buf;
  *outlen = 0;
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
          if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            return 0;
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
      if (grow (conn, used, 16384))
        {
          snprintf (conn->reason, sizeof conn->reason, "out of memory");
          conn->state = OSSL_FAILED;
          return -1;
        }
      ERR_clear_error ();
      ret = SSL_read_ex (conn->ssl, conn->buf + used, conn->bufsize - used,
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
          break;
        }
      fail (conn, ret);
      *out = conn->buf;
      *outlen = used;
      return -1;
    }
  *out = conn->buf;
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

int
ossl_conn_reverify (struct ossl_conn *conn, X509_STORE *store)
{
  STACK_OF (X509) *chain = SSL_get_peer_cert_chain (conn->ssl);
  X509 *leaf = SSL_get0_peer_certificate (conn->ssl);
  X509_STORE_CTX *sctx;
  int rc;

  if (!leaf)
    return X509_V_ERR_APPLICATION_VERIFICATION;
  sctx = X509_STORE_CTX_new ();
  if (!sctx || !X509_STORE_CTX_init (sctx, store, leaf, chain))
    {
      X509_STORE_CTX_free (sctx);
      ERR_clear_error ();
      return X509_V_ERR_OUT_OF_MEM;
    }
  X509_VERIFY_PARAM_set1 (X509_STORE_CTX_get0_param (sctx),
                          SSL_get0_param (conn->ssl));
  X509_STORE_CTX_set_default (sctx, conn->server ? "ssl_client"
                              : "ssl_server");
  ERR_clear_error ();
  rc = X509_verify_cert (sctx) == 1 ? X509_V_OK
    : X509_STORE_CTX_get_error (sctx);
  X509_STORE_CTX_free (sctx);
  ERR_clear_error ();
  SSL_set_verify_result (conn->ssl, rc);
  return rc;
}
