/* engine.h -- a sans-IO TLS engine over two OpenSSL memory BIOs.

   This layer knows OpenSSL only: it never includes emacs-module.h.
   Ciphertext goes in with ossl_conn_feed and comes out with
   ossl_conn_take; cleartext comes out of ossl_conn_feed's reader and
   goes in with ossl_conn_write.  Nothing here blocks or touches a
   file descriptor.

   Every function that can fail returns 0 on success and -1 on failure,
   and then leaves a human-readable reason (with OpenSSL's reason
   string when there is one) in the caller's ERR buffer of ERRLEN
   bytes.  */

#ifndef OSSL_ENGINE_H
#define OSSL_ENGINE_H

#include <stddef.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/pem.h>

#define OSSL_ERRLEN 512
#define OSSL_MAX_FAILURES 8

/* Where a connection stands.  The order matters: states after
   OSSL_OPEN accept no more application data.  */
enum ossl_state
{
  OSSL_HANDSHAKING,
  OSSL_OPEN,
  OSSL_CLOSING,                 /* we sent close_notify */
  OSSL_CLOSED,                  /* both sides sent close_notify, or
                                   the peer did and we answered */
  OSSL_FAILED                   /* fatal error; see the reason */
};

/* Client verification: only record the outcome, or also abort the
   handshake when the chain or the name does not verify.  Server
   verification: do not ask for a client certificate, ask for one,
   or insist on a valid one.  */
enum ossl_verify
{
  OSSL_VERIFY_RECORD = 0,       /* client: record; server: don't ask */
  OSSL_VERIFY_REQUEST = 1,      /* server: ask, record the outcome */
  OSSL_VERIFY_ENFORCE = 2       /* abort the handshake on failure */
};

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
};

/* Raw bytes kept after the peer's close_notify, for a protocol that
   goes on in clear (ossl_conn_leftover); more fail the connection.  */
#define OSSL_LEFTOVER_MAX 65536
/* Raw bytes a handshake may leave unprocessed (while it waits for an
   SNI choice); more fail it.  */
#define OSSL_HANDSHAKE_INPUT_MAX (1024 * 1024)

/* Contexts.  */
struct ossl_ctx *ossl_ctx_new (int server, char *err, size_t errlen);
void ossl_ctx_free (struct ossl_ctx *c);
/* Protocol versions as TLS1_2_VERSION etc; 0 means no bound.  */
int ossl_ctx_set_versions (struct ossl_ctx *c, int min, int max,
                           char *err, size_t errlen);
/* OpenSSL cipher strings; NULL leaves the default.  */
int ossl_ctx_set_ciphers (struct ossl_ctx *c, const char *ciphers,
                          const char *suites, char *err, size_t errlen);
/* Trust anchors.  KIND is one of "system", "file", "dir", "pem".  */
int ossl_ctx_add_ca (struct ossl_ctx *c, const char *kind,
                     const char *data, size_t len, char *err, size_t errlen);
/* Add one parsed certificate to the trust store.  */
int ossl_ctx_add_ca_x509 (struct ossl_ctx *c, X509 *x, char *err,
                          size_t errlen);
/* Own certificate chain (leaf first) and private key, from a file
   (IS_FILE) or from PEM/DER data in memory.  An encrypted key asks
   PASSWORD_CB (with USERDATA) for its password; the callback may be
   NULL.  */
int ossl_ctx_use_cert (struct ossl_ctx *c, const char *data, size_t len,
                       int is_file, char *err, size_t errlen);
int ossl_ctx_use_key (struct ossl_ctx *c, const char *data, size_t len,
                      int is_file, pem_password_cb *password_cb,
                      void *userdata, char *err, size_t errlen);

/* Server: use context SNI (a server context with its own certificate)
   when the client asks for NAME ("*.example" matches one label).  */
int ossl_ctx_add_sni (struct ossl_ctx *c, const char *name,
                      struct ossl_ctx *sni, char *err, size_t errlen);

/* Server: pause every handshake after the ClientHello, so that the
   caller can choose a context for the name with ossl_conn_sni_choose.  */
void ossl_ctx_pause_for_sni (struct ossl_ctx *c);

/* Connections.  HOSTNAME (may be NULL) is the name to verify: an IP
   literal is checked against IP SANs and sends no SNI; a DNS name is
   checked against DNS SANs and sent as SNI.  */
struct ossl_conn *ossl_conn_new (struct ossl_ctx *c, const char *hostname,
                                 int verify_mode, char *err, size_t errlen);
/* Free the OpenSSL objects now; the struct stays (state FAILED).  */
void ossl_conn_release (struct ossl_conn *conn);
void ossl_conn_free (struct ossl_conn *conn);

/* Hand ciphertext from the network to the engine, drive the
   handshake, and read every cleartext byte now available.  On return
   *OUT points into a scratch buffer shared by all connections (valid until the
   next call) and *OUTLEN is its length.  Returns -1 when the
   connection failed (see conn->reason), 0 otherwise.  */
int ossl_conn_feed (struct ossl_conn *conn, const char *data, size_t len,
                    const unsigned char **out, size_t *outlen);
/* Ciphertext waiting to go to the network.  *DATA stays valid until
   ossl_conn_taken is called.  */
size_t ossl_conn_pending (struct ossl_conn *conn, const char **data);
void ossl_conn_taken (struct ossl_conn *conn);
/* Encrypt cleartext (the connection must be OPEN).  */
int ossl_conn_write (struct ossl_conn *conn, const char *data, size_t len);
/* Send close_notify.  */
int ossl_conn_shutdown (struct ossl_conn *conn);
/* Raw bytes fed but not consumed by TLS: what followed the peer's
   close_notify.  Moves them into *DATA (malloc'd) and returns the
   count.  */
size_t ossl_conn_leftover (struct ossl_conn *conn, char **data);

/* Go on with a paused handshake in context SNI (NULL: the first one).  */
void ossl_conn_sni_choose (struct ossl_conn *conn, struct ossl_ctx *sni);

/* Own certificate chain and key for this connection only, as
   ossl_ctx_use_cert and ossl_ctx_use_key.  */
int ossl_conn_use_cert (struct ossl_conn *conn, const char *data,
                        size_t len, int is_file, char *err, size_t errlen);
int ossl_conn_use_key (struct ossl_conn *conn, const char *data, size_t len,
                       int is_file, pem_password_cb *password_cb,
                       void *userdata, char *err, size_t errlen);
/* Trust more CAs on this connection only (KIND as ossl_ctx_add_ca, or
   the certificate X when KIND is NULL).  After the handshake, the
   peer's chain is verified again and the verify result updated.  */
int ossl_conn_inject_ca (struct ossl_conn *conn, const char *kind,
                         const char *data, size_t len, X509 *x,
                         char *err, size_t errlen);
/* ALPN protocols in wire form (length-prefixed names): a client
   offers them, a server picks the first of its own the client offers.  */
int ossl_conn_set_alpn (struct ossl_conn *conn, const unsigned char *wire,
                        size_t len, char *err, size_t errlen);
/* Offer to resume a saved session DATA (from ossl_conn_get_session)
   on a client, before the handshake.  Only a session whose peer was
   verified, for this connection's host name exactly, and whose saved
   chain this connection's trust store and name check accept again is
   offered.  Returns 1 when offered, 0 when not (a full handshake
   follows), -1 when DATA is no saved session.  */
int ossl_conn_set_session (struct ossl_conn *conn, const unsigned char *data,
                           size_t len, char *err, size_t errlen);
/* The current session (malloc'd) with what it was verified for: the
   host name, whether the peer verified, the peer's chain.  */
int ossl_conn_get_session (struct ossl_conn *conn, unsigned char **data,
                           size_t *len);
/* Is NAME (LEN bytes) fit to be checked against a certificate: no
   control bytes, no NUL?  An empty name is no name.  */
int ossl_host_name_ok (const char *name, size_t len);

/* What was negotiated, for status displays.  Strings are static or
   owned by OpenSSL; any may be NULL.  */
struct ossl_conn_info
{
  const char *protocol;
  const char *cipher;
  int cipher_bits;
  const char *group;
  char signature[64];
  const char *server_name;
  char alpn[256];
  int session_reused;
  int secure_renegotiation;
  int peer_tmp_key_bits;        /* the peer's ephemeral key, 0 if none */
};
void ossl_conn_get_info (struct ossl_conn *conn, struct ossl_conn_info *info);

/* Re-verify the peer's chain against STORE (plus the connection's
   own settings); returns the X509_V_* code.  */
int ossl_conn_reverify (struct ossl_conn *conn, X509_STORE *store);

/* The outcome of verifying CONN's peer: an X509_V_* code, or
   OSSL_V_NO_PEER_CERT for a peer without certificate, or
   OSSL_V_NO_HOST_CHECKED for a client's peer whose name was not
   checked (no host name); see x509.h for words and texts.  */
int ossl_conn_verify_result (struct ossl_conn *conn);

#endif /* OSSL_ENGINE_H */
