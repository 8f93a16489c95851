/* engine-impl.h -- the engine's structs, for the files that know
   OpenSSL and drive a connection themselves: engine.c, relay.c and
   the engine fuzzer.  The bindings see only engine.h, where contexts
   and connections are opaque.  */

#ifndef OSSL_ENGINE_IMPL_H
#define OSSL_ENGINE_IMPL_H

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/pem.h>

#include "engine.h"

/* One name a server answers for with its own context (SNI).  */
struct ossl_sni
{
  char *name;                   /* "host.example" or "*.example" */
  SSL_CTX *ctx;                 /* owned reference */
};

struct ossl_ctx
{
  SSL_CTX *ctx;
  int server;
  int system_store;             /* trusts the system store */
  int default_ciphers;          /* the caller chose no TLS 1.2 ciphers */
  int legacy;                   /* TLS 1.0 or 1.1 allowed */
  struct ossl_sni *sni;         /* server: other names' contexts */
  size_t nsni;
};

struct ossl_conn
{
  SSL *ssl;                     /* NULL once freed */
  BIO *rbio;                    /* network -> SSL: we write here */
  BIO *wbio;                    /* SSL -> network: we read here */
  enum ossl_state state;
  int server;
  int peer_closed;              /* the peer's close_notify arrived */
  int verify_mode;              /* enum ossl_verify */
  /* The verification failures the callback saw, first first.  */
  struct ossl_failure
  {
    int code;                   /* X509_V_ERR_* */
    int depth;                  /* 0 = the peer's own certificate */
    X509 *cert;                 /* owned reference, or NULL */
  } failures[OSSL_MAX_FAILURES];
  int nfailures;
  X509_STORE *store;            /* own trust store after inject_ca */
  unsigned char *alpn;          /* server: protocols offered, wire form */
  /* Server with an SNI function: the handshake pauses after the
     ClientHello until Lisp has chosen a context for the name.  */
  int sni_pending;              /* paused, waiting for a choice */
  int sni_done;                 /* chosen: go on */
  char sni_name[256];           /* the name asked for, or "" */
  size_t alpn_len;
  char reason[OSSL_ERRLEN];     /* why the connection failed */
  char *hostname;               /* client: the name checked, or NULL */
  STACK_OF (X509) *resumed_chain; /* the chain of the session resumed */
  int overflow;                 /* too many bytes after close_notify */
  int eof;                      /* the transport ended (ossl_conn_step) */
  int truncated;                /* ... without the peer's close_notify */
};

/* Re-verify the peer's chain against STORE (plus the connection's
   own settings); returns the X509_V_* code.  */
int ossl_conn_reverify (struct ossl_conn *conn, X509_STORE *store);

/* Shared between the engine's files.  */
/* The ossl_ctx of an SSL_CTX (engine-ctx.c).  */
struct ossl_ctx *ossl_ctx_of (SSL_CTX *ctx);
/* Trust the certificate X, or the CAs of KIND ("file", "dir", "pem")
   in DATA, in STORE (engine-ctx.c).  */
int ossl_store_add_cert (X509_STORE *store, X509 *x, char *err,
                         size_t errlen);
int ossl_store_add_ca (X509_STORE *store, const char *kind,
                       const char *data, size_t len, char *err,
                       size_t errlen);
/* Verify LEAF and CHAIN for CONN against STORE (engine-session.c);
   returns the X509_V_* code.  */
int ossl_conn_verify_chain (struct ossl_conn *conn, X509_STORE *store,
                            X509 *leaf, STACK_OF (X509) *chain);

#endif /* OSSL_ENGINE_IMPL_H */
