/* engine.c -- a sans-IO TLS engine over two OpenSSL memory BIOs.  */

#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <openssl/buffer.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "crypto.h"
#include "engine-impl.h"
#include "x509.h"

/* Put MSG and OpenSSL's first queued reason into ERR, then clear the
   queue.  */
#define set_error(err, errlen, msg) ossl_crypto_error (err, errlen, "%s", msg)

int
ossl_openssl_ok (void)
{
  return OpenSSL_version_num () >= 0x30000000L;
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

/* An idle connection keeps no buffer for data that has passed.

   OpenSSL's record layer keeps a read and a write buffer (about 17 kB
   each) for good once it has used them; SSL_free_buffers frees both,
   and only when they hold nothing (it returns 0 when a record is
   partly read or written, and frees nothing), to be allocated again
   by the next read or write.

   A memory BIO keeps the largest buffer it ever held: reading only
   moves its start, and BIO_reset zeroes it but frees nothing.  So
   once such a BIO is empty and its buffer grew beyond
   OSSL_BIO_KEEP, a fresh BIO takes its place (SSL_set0_rbio and
   SSL_set0_wbio free the old one): the next write allocates just
   what it needs.  Smaller buffers stay, so small steady exchanges
   allocate nothing.  */
#define OSSL_BIO_KEEP 16384

/* A fresh memory BIO for B when B is empty and holds a buffer larger
   than OSSL_BIO_KEEP, else NULL.  */
static BIO *
fresh_bio (BIO *b)
{
  BUF_MEM *bm = NULL;
  BIO *fresh;

  if (!b || BIO_ctrl_pending (b) != 0 || BIO_get_mem_ptr (b, &bm) <= 0
      || !bm || bm->max <= OSSL_BIO_KEEP)
    return NULL;
  fresh = BIO_new (BIO_s_mem ());
  if (fresh)
    BIO_set_mem_eof_return (fresh, -1);
  return fresh;
}

/* Free what CONN holds for data that has passed, as far as it holds
   none now (after a feed, a write, a take).  */
static void
trim_buffers (struct ossl_conn *conn)
{
  BIO *fresh;

  if (!conn->ssl)
    return;
  (void) SSL_free_buffers (conn->ssl);
  if ((fresh = fresh_bio (conn->rbio)))
    {
      SSL_set0_rbio (conn->ssl, fresh);
      conn->rbio = fresh;
    }
  if ((fresh = fresh_bio (conn->wbio)))
    {
      SSL_set0_wbio (conn->ssl, fresh);
      conn->wbio = fresh;
    }
  ERR_clear_error ();
}

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
  trim_buffers (conn);
  *out = scratch;
  *outlen = used;
  return 0;
}

/* The transport ended: a handshake cannot finish any more; a stream
   without the peer's close_notify was cut short.  Nothing more can
   be read: whatever cleartext was complete came out with the last
   feed.  */
static int
conn_eof (struct ossl_conn *conn)
{
  if (conn->eof)
    return 0;
  conn->eof = 1;
  if (conn->peer_closed)
    return 0;
  if (conn->state == OSSL_HANDSHAKING)
    {
      snprintf (conn->reason, sizeof conn->reason,
                "TLS handshake failed: the connection closed during "
                "the handshake");
      conn->state = OSSL_FAILED;
      conn->truncated = 1;
      return -1;
    }
  if (conn->state == OSSL_OPEN || conn->state == OSSL_CLOSING)
    conn->truncated = 1;
  return 0;
}

int
ossl_conn_step (struct ossl_conn *conn, const char *data, size_t len,
                int eof, struct ossl_step *st)
{
  enum ossl_state was = conn->state;
  int closed = conn->peer_closed;
  int rc = 0;

  memset (st, 0, sizeof *st);
  if (was != OSSL_FAILED)
    {
      if (eof)
        rc = conn_eof (conn);
      else
        rc = ossl_conn_feed (conn, data, len, &st->clear, &st->clear_len);
    }
  st->state = conn->state;
  if (was == OSSL_HANDSHAKING && conn->state != OSSL_HANDSHAKING)
    st->events |= OSSL_EVENT_HANDSHAKE;
  if (was != OSSL_FAILED && conn->state == OSSL_FAILED)
    st->events |= OSSL_EVENT_FAILED;
  if (!closed && conn->peer_closed)
    st->events |= OSSL_EVENT_CLOSE_NOTIFY;
  if (conn->sni_pending && conn->state == OSSL_HANDSHAKING)
    st->events |= OSSL_EVENT_SNI;
  if (eof && conn->eof)
    st->events |= OSSL_EVENT_EOF
      | (conn->truncated ? OSSL_EVENT_TRUNCATED : 0);
  st->out_len = ossl_conn_pending (conn, &st->out);
  return rc;
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
    {
      (void) BIO_reset (conn->wbio);
      trim_buffers (conn);
    }
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
  trim_buffers (conn);
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
  trim_buffers (conn);
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
  struct ossl_ctx *c = ossl_ctx_of (ctx);
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
  rc = kind ? ossl_store_add_ca (store, kind, data, len, err, errlen)
    : ossl_store_add_cert (store, x, err, errlen);
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
  rc = ossl_conn_verify_chain (conn, store, leaf, chain);
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

const char *
ossl_conn_verify_word (struct ossl_conn *conn)
{
  return ossl_x509_verify_symbol (ossl_conn_verify_result (conn));
}

/* Reading a connection.  */

enum ossl_state
ossl_conn_state (const struct ossl_conn *conn)
{
  return conn->state;
}

const char *
ossl_conn_reason (const struct ossl_conn *conn)
{
  return conn->reason;
}

int
ossl_conn_peer_closed (const struct ossl_conn *conn)
{
  return conn->peer_closed;
}

int
ossl_conn_released (const struct ossl_conn *conn)
{
  return conn->ssl == NULL;
}

const char *
ossl_conn_sni_request (const struct ossl_conn *conn)
{
  return conn->sni_pending ? conn->sni_name : NULL;
}

int
ossl_conn_nfailures (const struct ossl_conn *conn)
{
  return conn->nfailures;
}

int
ossl_conn_failure (const struct ossl_conn *conn, int i, int *depth,
                   X509 **cert)
{
  *depth = conn->failures[i].depth;
  *cert = conn->failures[i].cert;
  return conn->failures[i].code;
}

const char *
ossl_conn_protocol (const struct ossl_conn *conn)
{
  if (!conn->ssl || !SSL_is_init_finished (conn->ssl))
    return NULL;
  return SSL_get_version (conn->ssl);
}

int
ossl_conn_cipher (const struct ossl_conn *conn, const char **name,
                  int *bits, char *desc, size_t desclen)
{
  const SSL_CIPHER *cipher = conn->ssl ? SSL_get_current_cipher (conn->ssl)
    : NULL;

  if (!cipher)
    return -1;
  *name = SSL_CIPHER_get_name (cipher);
  *bits = SSL_CIPHER_get_bits (cipher, NULL);
  SSL_CIPHER_description (cipher, desc, (int) desclen);
  desc[strcspn (desc, "\n")] = '\0';
  return 0;
}

const char **
ossl_conn_cipher_names (const struct ossl_conn *conn, size_t *n)
{
  STACK_OF (SSL_CIPHER) *sk;
  const char **names = NULL;
  int i, count;

  *n = 0;
  ERR_clear_error ();
  sk = SSL_get1_supported_ciphers (conn->ssl);
  ERR_clear_error ();
  if (!sk)
    return NULL;
  count = sk_SSL_CIPHER_num (sk);
  if (count > 0 && (names = malloc (count * sizeof *names)))
    {
      for (i = 0; i < count; i++)
        names[i] = SSL_CIPHER_get_name (sk_SSL_CIPHER_value (sk, i));
      *n = (size_t) count;
    }
  sk_SSL_CIPHER_free (sk);
  return names;
}

X509 *
ossl_conn_own_cert (const struct ossl_conn *conn)
{
  return SSL_get_certificate (conn->ssl);
}

X509 *
ossl_conn_peer_cert (const struct ossl_conn *conn)
{
  return SSL_get0_peer_certificate (conn->ssl);
}

int
ossl_conn_peer_chain (const struct ossl_conn *conn,
                      struct ossl_x509_list *out, char *err, size_t errlen)
{
  return ossl_x509_peer_chain (conn->ssl, conn->server, out, err, errlen);
}

int
ossl_ctx_is_server (const struct ossl_ctx *c)
{
  return c->server;
}

int
ossl_cert_up_ref (X509 *x)
{
  return X509_up_ref (x);
}

void
ossl_cert_free (X509 *x)
{
  X509_free (x);
}
