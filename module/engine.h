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

/* A certificate: OpenSSL's X509, under the name OpenSSL gives its
   struct (X509 is a typedef of struct x509_st), so that the engine
   passes X509 pointers without casts while the files that include no
   OpenSSL header can hold one but not look inside.  */
struct x509_st;

/* Where an encrypted key's password comes from: OpenSSL's
   pem_password_cb, spelt out.  */
typedef int ossl_password_cb (char *buf, int size, int rwflag,
                              void *userdata);

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

/* Contexts and connections are opaque here: their fields are the
   engine's (engine-impl.h).  */
struct ossl_ctx;
struct ossl_conn;

/* Raw bytes kept after the peer's close_notify, for a protocol that
   goes on in clear (ossl_conn_leftover); more fail the connection.  */
#define OSSL_LEFTOVER_MAX 65536
/* Raw bytes a handshake may leave unprocessed (while it waits for an
   SNI choice); more fail it.  */
#define OSSL_HANDSHAKE_INPUT_MAX (1024 * 1024)

/* Is the OpenSSL this module runs with 3.0 or later?  */
int ossl_openssl_ok (void);

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
int ossl_ctx_add_ca_x509 (struct ossl_ctx *c, struct x509_st *x, char *err,
                          size_t errlen);
/* Own certificate chain (leaf first) and private key, from a file
   (IS_FILE) or from PEM/DER data in memory.  An encrypted key asks
   PASSWORD_CB (with USERDATA) for its password; the callback may be
   NULL.  */
int ossl_ctx_use_cert (struct ossl_ctx *c, const char *data, size_t len,
                       int is_file, char *err, size_t errlen);
int ossl_ctx_use_key (struct ossl_ctx *c, const char *data, size_t len,
                      int is_file, ossl_password_cb *password_cb,
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
/* What one ossl_conn_step call saw happen, as bits of
   struct ossl_step's EVENTS.  */
enum ossl_event
{
  OSSL_EVENT_HANDSHAKE = 1 << 0,     /* the handshake ended: see STATE */
  OSSL_EVENT_FAILED = 1 << 1,        /* the connection failed: see reason */
  OSSL_EVENT_CLOSE_NOTIFY = 1 << 2,  /* the peer's close_notify arrived */
  OSSL_EVENT_SNI = 1 << 3,           /* the handshake waits for an SNI
                                        choice (ossl_conn_sni_choose) */
  OSSL_EVENT_EOF = 1 << 4,           /* the transport ended: clean after
                                        the peer's close_notify */
  OSSL_EVENT_TRUNCATED = 1 << 5      /* ... ended without it */
};

/* The outcome of one step: what to deliver, what to send, what
   happened.  */
struct ossl_step
{
  enum ossl_state state;            /* where the connection stands now */
  unsigned events;                  /* enum ossl_event bits */
  const unsigned char *clear;       /* cleartext: the scratch buffer of
                                       ossl_conn_feed, valid until the
                                       next feed */
  size_t clear_len;
  const char *out;                  /* ciphertext for the network, valid
                                       until ossl_conn_taken */
  size_t out_len;
};

/* One step of the engine for one chunk received from the network:
   feed DATA (LEN bytes) as ossl_conn_feed does, or, when EOF, tell the
   engine that the transport ended (as CPython's MemoryBIO.write_eof):
   a handshake in progress then fails, an open connection whose peer
   sent no close_notify is truncated.  Fills *ST; the caller sends
   ST->out, then calls ossl_conn_taken.  A connection already failed
   takes nothing and reports nothing.  Returns -1 when the connection
   failed in this step, 0 otherwise.  */
int ossl_conn_step (struct ossl_conn *conn, const char *data, size_t len,
                    int eof, struct ossl_step *st);
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
                       int is_file, ossl_password_cb *password_cb,
                       void *userdata, char *err, size_t errlen);
/* Trust more CAs on this connection only (KIND as ossl_ctx_add_ca, or
   the certificate X when KIND is NULL).  After the handshake, the
   peer's chain is verified again and the verify result updated.  */
int ossl_conn_inject_ca (struct ossl_conn *conn, const char *kind,
                         const char *data, size_t len, struct x509_st *x,
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

/* The outcome of verifying CONN's peer: an X509_V_* code, or
   OSSL_V_NO_PEER_CERT for a peer without certificate, or
   OSSL_V_NO_HOST_CHECKED for a client's peer whose name was not
   checked (no host name); see x509.h for words and texts.  */
int ossl_conn_verify_result (struct ossl_conn *conn);
/* The same outcome in a word (`ok', `expired', `no-host-match'...:
   the table is in x509.c).  */
const char *ossl_conn_verify_word (struct ossl_conn *conn);

/* Reading a connection: the bindings see no field of the structs.  */
enum ossl_state ossl_conn_state (const struct ossl_conn *conn);
/* Why the connection failed, or "".  */
const char *ossl_conn_reason (const struct ossl_conn *conn);
/* Did the peer's close_notify arrive?  */
int ossl_conn_peer_closed (const struct ossl_conn *conn);
/* Were its OpenSSL objects freed (ossl_conn_release)?  */
int ossl_conn_released (const struct ossl_conn *conn);
/* The name a handshake paused for an SNI choice asks for ("" for
   none), or NULL when no handshake waits.  */
const char *ossl_conn_sni_request (const struct ossl_conn *conn);
/* The number of verification failures kept, and the Ith of them
   (first first): its X509_V_* code, the depth in *DEPTH and the
   certificate (NULL if none; the connection's reference) in *CERT.  */
int ossl_conn_nfailures (const struct ossl_conn *conn);
int ossl_conn_failure (const struct ossl_conn *conn, int i, int *depth,
                       struct x509_st **cert);
/* The protocol negotiated ("TLSv1.3"), NULL before the end of the
   handshake.  */
const char *ossl_conn_protocol (const struct ossl_conn *conn);
/* The cipher in use: its name, secret bits and one-line description
   (in DESC of DESCLEN bytes).  Returns -1 when there is none yet.  */
int ossl_conn_cipher (const struct ossl_conn *conn, const char **name,
                      int *bits, char *desc, size_t desclen);
/* The names of the ciphers CONN may use, in preference order: a
   malloc'd array of *N static strings, or NULL.  */
const char **ossl_conn_cipher_names (const struct ossl_conn *conn, size_t *n);
/* Our own certificate and the peer's (no new reference), or NULL.  */
struct x509_st *ossl_conn_own_cert (const struct ossl_conn *conn);
struct x509_st *ossl_conn_peer_cert (const struct ossl_conn *conn);
/* The peer's chain as it sent it (leaf first), in *OUT (see x509.h).  */
struct ossl_x509_list;
int ossl_conn_peer_chain (const struct ossl_conn *conn,
                          struct ossl_x509_list *out, char *err,
                          size_t errlen);
/* Is C a server context?  */
int ossl_ctx_is_server (const struct ossl_ctx *c);

/* Certificates handed around by reference: take one more, drop one.  */
int ossl_cert_up_ref (struct x509_st *x);
void ossl_cert_free (struct x509_st *x);

#endif /* OSSL_ENGINE_H */
