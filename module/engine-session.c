/* engine-session.c -- saving and resuming TLS sessions, with what
   they were verified for.  */

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
int
ossl_conn_verify_chain (struct ossl_conn *conn, X509_STORE *store,
                        X509 *leaf, STACK_OF (X509) *chain)
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
    && ossl_conn_verify_chain (conn, verify_store (conn),
                               sk_X509_value (chain, 0), chain) == X509_V_OK;
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
