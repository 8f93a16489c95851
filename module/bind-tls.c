/* bind-tls.c -- the ossl-- primitives for contexts and connections.

   Argument checks and Lisp conversions only; the work is in engine.c.
   TLS failures while feeding data do not signal: they move the
   connection to the `failed' state and keep the reason, so that a
   process filter never sees an error it cannot handle.  */

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "bindings.h"
#include "relay.h"

#define DEFUN(name)                                                     \
  static emacs_value name (emacs_env *env, ptrdiff_t nargs,             \
                           emacs_value *args, void *data) EMACS_NOEXCEPT
#define UNUSED_ARGS (void) nargs; (void) data
#define CHECK(env) \
  if ((env)->non_local_exit_check (env) != emacs_funcall_exit_return) \
    return NULL

void
ossl_ctx_fin (void *p) EMACS_NOEXCEPT
{
  ossl_ctx_free (p);
}

void
ossl_conn_fin (void *p) EMACS_NOEXCEPT
{
  /* A relay still serving the connection frees it when done.  */
  ossl_lock ();
  if (!ossl_relay_adopt (p))
    ossl_conn_free (p);
  ossl_unlock ();
}

struct ossl_ctx *
ossl_bind_ctx (emacs_env *env, emacs_value v)
{
  return em_user_ptr (env, v, ossl_ctx_fin, "ossl--context-p");
}

/* A connection object, live or released.  */
static struct ossl_conn *
any_conn (emacs_env *env, emacs_value v)
{
  return em_user_ptr (env, v, ossl_conn_fin, "ossl--connection-p");
}

struct ossl_conn *
ossl_bind_conn (emacs_env *env, emacs_value v)
{
  struct ossl_conn *conn = any_conn (env, v);
  if (conn && !conn->ssl)
    {
      em_signal (env, "ossl-closed-error", "TLS connection is finished");
      return NULL;
    }
  return conn;
}

/* The string or nil in V as a C string (or NULL); *FAILED on error.  */
static char *
opt_string (emacs_env *env, emacs_value v, bool *failed)
{
  return em_string_or_nil (env, v, failed);
}

/* Contexts.  */

DEFUN (Fctx_new)
{
  char err[OSSL_ERRLEN];
  struct ossl_ctx *c;
  UNUSED_ARGS;

  c = ossl_ctx_new (!em_nilp (env, args[0]), err, sizeof err);
  if (!c)
    {
      em_signal (env, "ossl-error", err);
      return NULL;
    }
  return env->make_user_ptr (env, ossl_ctx_fin, c);
}

DEFUN (Fctx_versions)
{
  char err[OSSL_ERRLEN];
  struct ossl_ctx *c = ossl_bind_ctx (env, args[0]);
  long min, max;
  UNUSED_ARGS;

  if (!c || !em_int (env, args[1], 0, 0xFFFF, &min)
      || !em_int (env, args[2], 0, 0xFFFF, &max))
    return NULL;
  if (ossl_ctx_set_versions (c, (int) min, (int) max, err, sizeof err))
    {
      em_signal (env, "ossl-error", err);
      return NULL;
    }
  return em_t;
}

DEFUN (Fctx_ciphers)
{
  char err[OSSL_ERRLEN];
  struct ossl_ctx *c = ossl_bind_ctx (env, args[0]);
  char *ciphers, *suites;
  bool failed;
  int rc;
  UNUSED_ARGS;

  if (!c)
    return NULL;
  ciphers = opt_string (env, args[1], &failed);
  if (failed)
    return NULL;
  suites = opt_string (env, args[2], &failed);
  if (failed)
    {
      free (ciphers);
      return NULL;
    }
  rc = ossl_ctx_set_ciphers (c, ciphers, suites, err, sizeof err);
  free (ciphers);
  free (suites);
  return em_status (env, rc, "ossl-error", err);
}

/* KIND as a C name, checked against the allowed ones.  */
static const char *
kind_name (emacs_env *env, emacs_value kind, const char *const *allowed)
{
  for (; *allowed; allowed++)
    if (env->eq (env, kind, env->intern (env, *allowed)))
      return *allowed;
  em_wrong_type (env, "symbolp", kind);
  return NULL;
}

DEFUN (Fctx_add_ca)
{
  static const char *const kinds[] = { "system", "file", "dir", "pem", NULL };
  char err[OSSL_ERRLEN];
  struct ossl_ctx *c = ossl_bind_ctx (env, args[0]);
  const char *kind;
  char *value = NULL;
  ptrdiff_t len = 0;
  int rc;
  UNUSED_ARGS;

  if (!c || !(kind = kind_name (env, args[1], kinds)))
    return NULL;
  if (strcmp (kind, "system") != 0
      && !(value = em_string (env, args[2], &len)))
    return NULL;
  rc = ossl_ctx_add_ca (c, kind, value, (size_t) len, err, sizeof err);
  free (value);
  return em_status (env, rc, "ossl-certificate-error", err);
}

DEFUN (Fctx_add_ca_x509)
{
  char err[OSSL_ERRLEN];
  struct ossl_ctx *c = ossl_bind_ctx (env, args[0]);
  X509 *x;
  UNUSED_ARGS;

  if (!c || !(x = ossl_bind_x509 (env, args[1])))
    return NULL;
  if (ossl_ctx_add_ca_x509 (c, x, err, sizeof err))
    {
      em_signal (env, "ossl-certificate-error", err);
      return NULL;
    }
  return em_t;
}

static const char *const source_kinds[] = { "file", "pem", NULL };

DEFUN (Fctx_use_cert)
{
  char err[OSSL_ERRLEN];
  struct ossl_ctx *c = ossl_bind_ctx (env, args[0]);
  const char *kind;
  char *value;
  ptrdiff_t len;
  int rc;
  UNUSED_ARGS;

  if (!c || !(kind = kind_name (env, args[1], source_kinds))
      || !(value = em_string (env, args[2], &len)))
    return NULL;
  rc = ossl_ctx_use_cert (c, value, (size_t) len, *kind == 'f',
                          err, sizeof err);
  free (value);
  return em_status (env, rc, "ossl-certificate-error", err);
}

/* Load the key of KIND VALUE with PASSWORD (args[0..2]) into the
   context C or else the connection CONN.  */
static emacs_value
use_key (emacs_env *env, emacs_value *args, struct ossl_ctx *c,
         struct ossl_conn *conn)
{
  char err[OSSL_ERRLEN];
  struct em_password pw;
  bool with_password;
  const char *kind;
  char *value;
  ptrdiff_t len;
  int rc;

  if (!(kind = kind_name (env, args[0], source_kinds))
      || !em_password (env, args[2], &pw))
    return NULL;
  with_password = em_password_p (&pw);
  if (!(value = em_string (env, args[1], &len)))
    {
      em_password_free (&pw);
      return NULL;
    }
  rc = c ? ossl_ctx_use_key (c, value, (size_t) len, *kind == 'f',
                             with_password ? em_password_cb : NULL, &pw,
                             err, sizeof err)
    : ossl_conn_use_key (conn, value, (size_t) len, *kind == 'f',
                         with_password ? em_password_cb : NULL, &pw,
                         err, sizeof err);
  em_free_secret (value, len);
  em_password_free (&pw);
  CHECK (env);                  /* the password function signalled */
  return em_status (env, rc, "ossl-key-error", err);
}

DEFUN (Fctx_use_key)
{
  struct ossl_ctx *c = ossl_bind_ctx (env, args[0]);
  UNUSED_ARGS;
  return c ? use_key (env, args + 1, c, NULL) : NULL;
}

/* Connections.  */

DEFUN (Fconn_new)
{
  char err[OSSL_ERRLEN];
  struct ossl_ctx *c = ossl_bind_ctx (env, args[0]);
  struct ossl_conn *conn;
  char *host = NULL;
  ptrdiff_t hostlen = 0;
  int mode;
  UNUSED_ARGS;

  if (!c || !ossl_bind_verify_mode (env, args[2], &mode))
    return NULL;
  if (!em_nilp (env, args[1])
      && !(host = em_string (env, args[1], &hostlen)))
    return NULL;
  /* A name with a NUL or a control byte in it is no host name; an
     empty one is none.  */
  if (host && !ossl_host_name_ok (host, (size_t) hostlen))
    {
      free (host);
      em_wrong_type (env, "ossl-host-name-p", args[1]);
      return NULL;
    }
  if (host && !*host)
    {
      free (host);
      host = NULL;
    }
  conn = ossl_conn_new (c, host, mode, err, sizeof err);
  free (host);
  if (!conn)
    {
      em_signal (env, "ossl-error", err);
      return NULL;
    }
  return env->make_user_ptr (env, ossl_conn_fin, conn);
}

DEFUN (Ffeed)
{
  struct ossl_conn *conn = ossl_bind_conn (env, args[0]);
  const unsigned char *out;
  size_t outlen;
  char *in;
  ptrdiff_t len;
  UNUSED_ARGS;

  if (!conn || !(in = em_string (env, args[1], &len)))
    return NULL;
  if (conn->state == OSSL_FAILED)
    {
      free (in);
      return em_unibyte (env, "", 0);
    }
  ossl_conn_feed (conn, in, (size_t) len, &out, &outlen);
  free (in);
  return em_unibyte (env, (const char *) out, outlen);
}

DEFUN (Ftake)
{
  struct ossl_conn *conn = any_conn (env, args[0]);
  const char *p;
  size_t n;
  emacs_value v;
  UNUSED_ARGS;

  if (!conn)
    return NULL;
  n = ossl_conn_pending (conn, &p);
  if (n == 0)
    return em_nil;
  v = em_unibyte (env, p, n);
  ossl_conn_taken (conn);
  return v;
}

DEFUN (Fwrite)
{
  struct ossl_conn *conn = ossl_bind_conn (env, args[0]);
  char *in;
  ptrdiff_t len;
  int rc;
  UNUSED_ARGS;

  if (!conn)
    return NULL;
  if (conn->state != OSSL_OPEN)
    {
      em_signal (env, "ossl-closed-error",
                 conn->state == OSSL_HANDSHAKING
                 ? "TLS handshake not finished"
                 : conn->state == OSSL_FAILED ? conn->reason
                 : "TLS connection is closed for writing");
      return NULL;
    }
  if (!(in = em_string (env, args[1], &len)))
    return NULL;
  rc = ossl_conn_write (conn, in, (size_t) len);
  free (in);
  if (rc)
    {
      em_signal (env, "ossl-error", conn->reason);
      return NULL;
    }
  return em_t;
}

DEFUN (Fshutdown)
{
  struct ossl_conn *conn = ossl_bind_conn (env, args[0]);
  UNUSED_ARGS;
  if (!conn)
    return NULL;
  ossl_conn_shutdown (conn);
  return em_t;
}

DEFUN (Fleftover)
{
  struct ossl_conn *conn = ossl_bind_conn (env, args[0]);
  char *p;
  size_t n;
  emacs_value v;
  UNUSED_ARGS;

  if (!conn)
    return NULL;
  n = ossl_conn_leftover (conn, &p);
  if (n == 0)
    return em_nil;
  v = em_unibyte (env, p, n);
  free (p);
  return v;
}

DEFUN (Frelease)
{
  struct ossl_conn *conn = any_conn (env, args[0]);
  UNUSED_ARGS;
  if (!conn)
    return NULL;
  ossl_conn_release (conn);
  return em_nil;
}

DEFUN (Fstate)
{
  static const char *const names[] = {
    "handshaking", "open", "closing", "closed", "failed"
  };
  struct ossl_conn *conn = any_conn (env, args[0]);
  UNUSED_ARGS;
  if (!conn)
    return NULL;
  return env->intern (env, names[conn->state]);
}

DEFUN (Freason)
{
  struct ossl_conn *conn = any_conn (env, args[0]);
  UNUSED_ARGS;
  if (!conn)
    return NULL;
  return conn->reason[0] ? em_str (env, conn->reason) : em_nil;
}

DEFUN (Fpeer_closed_p)
{
  struct ossl_conn *conn = any_conn (env, args[0]);
  UNUSED_ARGS;
  if (!conn)
    return NULL;
  return conn->peer_closed ? em_t : em_nil;
}

DEFUN (Fprotocol)
{
  struct ossl_conn *conn = ossl_bind_conn (env, args[0]);
  UNUSED_ARGS;
  if (!conn)
    return NULL;
  if (!SSL_is_init_finished (conn->ssl))
    return em_nil;
  return em_str (env, SSL_get_version (conn->ssl));
}

DEFUN (Fcipher)
{
  struct ossl_conn *conn = ossl_bind_conn (env, args[0]);
  const SSL_CIPHER *cipher;
  char desc[256];
  emacs_value items[3];
  UNUSED_ARGS;

  if (!conn)
    return NULL;
  cipher = SSL_get_current_cipher (conn->ssl);
  if (!cipher)
    return em_nil;
  items[0] = em_str (env, SSL_CIPHER_get_name (cipher));
  items[1] = env->make_integer (env, SSL_CIPHER_get_bits (cipher, NULL));
  SSL_CIPHER_description (cipher, desc, sizeof desc);
  desc[strcspn (desc, "\n")] = '\0';
  items[2] = em_str (env, desc);
  return em_list (env, items, 3);
}

DEFUN (Fcipher_names)
{
  struct ossl_conn *conn = ossl_bind_conn (env, args[0]);
  STACK_OF (SSL_CIPHER) *sk;
  emacs_value list = em_nil;
  int i;
  UNUSED_ARGS;

  if (!conn)
    return NULL;
  ERR_clear_error ();
  sk = SSL_get1_supported_ciphers (conn->ssl);
  if (!sk)
    {
      ERR_clear_error ();
      return em_nil;
    }
  for (i = sk_SSL_CIPHER_num (sk) - 1; i >= 0; i--)
    {
      list = em_cons (env, em_str (env, SSL_CIPHER_get_name
                                   (sk_SSL_CIPHER_value (sk, i))), list);
      if (env->non_local_exit_check (env) != emacs_funcall_exit_return)
        break;
    }
  sk_SSL_CIPHER_free (sk);
  return list;
}

DEFUN (Fctx_add_sni)
{
  char err[OSSL_ERRLEN];
  struct ossl_ctx *c = ossl_bind_ctx (env, args[0]);
  struct ossl_ctx *sni;
  char *name;
  int rc;
  UNUSED_ARGS;

  if (!c || !(sni = ossl_bind_ctx (env, args[2]))
      || !(name = em_string (env, args[1], NULL)))
    return NULL;
  rc = ossl_ctx_add_sni (c, name, sni, err, sizeof err);
  free (name);
  return em_status (env, rc, "ossl-error", err);
}

/* Before the handshake only: what a handshake already used is fixed.  */
static struct ossl_conn *
fresh_conn (emacs_env *env, emacs_value v)
{
  struct ossl_conn *conn = ossl_bind_conn (env, v);
  if (conn && conn->state != OSSL_HANDSHAKING)
    {
      em_signal (env, "ossl-error",
                 "too late: the handshake is over");
      return NULL;
    }
  return conn;
}

DEFUN (Fconn_use_cert)
{
  char err[OSSL_ERRLEN];
  struct ossl_conn *conn = fresh_conn (env, args[0]);
  const char *kind;
  char *value;
  ptrdiff_t len;
  int rc;
  UNUSED_ARGS;

  if (!conn || !(kind = kind_name (env, args[1], source_kinds))
      || !(value = em_string (env, args[2], &len)))
    return NULL;
  rc = ossl_conn_use_cert (conn, value, (size_t) len, *kind == 'f',
                           err, sizeof err);
  free (value);
  return em_status (env, rc, "ossl-certificate-error", err);
}

DEFUN (Fconn_use_key)
{
  struct ossl_conn *conn = fresh_conn (env, args[0]);
  UNUSED_ARGS;
  return conn ? use_key (env, args + 1, NULL, conn) : NULL;
}

DEFUN (Fconn_inject_ca)
{
  static const char *const kinds[] = { "file", "dir", "pem", "x509", NULL };
  char err[OSSL_ERRLEN];
  struct ossl_conn *conn = ossl_bind_conn (env, args[0]);
  const char *kind;
  char *value = NULL;
  ptrdiff_t len = 0;
  X509 *x = NULL;
  int rc;
  UNUSED_ARGS;

  if (!conn || !(kind = kind_name (env, args[1], kinds)))
    return NULL;
  if (strcmp (kind, "x509") == 0)
    {
      if (!(x = ossl_bind_x509 (env, args[2])))
        return NULL;
      kind = NULL;
    }
  else if (!(value = em_string (env, args[2], &len)))
    return NULL;
  rc = ossl_conn_inject_ca (conn, kind, value, (size_t) len, x,
                            err, sizeof err);
  free (value);
  return em_status (env, rc, "ossl-certificate-error", err);
}

DEFUN (Fconn_alpn)
{
  char err[OSSL_ERRLEN];
  struct ossl_conn *conn = fresh_conn (env, args[0]);
  char *wire;
  ptrdiff_t len;
  int rc;
  UNUSED_ARGS;

  if (!conn || !(wire = em_string (env, args[1], &len)))
    return NULL;
  rc = ossl_conn_set_alpn (conn, (unsigned char *) wire, (size_t) len,
                           err, sizeof err);
  free (wire);
  return em_status (env, rc, "ossl-error", err);
}

DEFUN (Fset_session)
{
  char err[OSSL_ERRLEN];
  struct ossl_conn *conn = fresh_conn (env, args[0]);
  char *der;
  ptrdiff_t len;
  int rc;
  UNUSED_ARGS;

  if (!conn || !(der = em_string (env, args[1], &len)))
    return NULL;
  rc = ossl_conn_set_session (conn, (unsigned char *) der, (size_t) len,
                              err, sizeof err);
  em_free_secret (der, len);
  if (rc < 0)
    {
      em_signal (env, "ossl-error", err);
      return NULL;
    }
  return rc ? em_t : em_nil;
}

DEFUN (Fsession)
{
  struct ossl_conn *conn = ossl_bind_conn (env, args[0]);
  unsigned char *der;
  size_t len;
  emacs_value v;
  UNUSED_ARGS;

  if (!conn)
    return NULL;
  if (ossl_conn_get_session (conn, &der, &len))
    return em_nil;
  v = em_unibyte (env, (const char *) der, len);
  OPENSSL_cleanse (der, len);
  free (der);
  return v;
}

static emacs_value
str_or_nil (emacs_env *env, const char *s)
{
  return s && *s ? em_str (env, s) : em_nil;
}

DEFUN (Fconn_info)
{
  struct ossl_conn *conn = ossl_bind_conn (env, args[0]);
  struct ossl_conn_info info;
  emacs_value items[20];
  UNUSED_ARGS;

  if (!conn)
    return NULL;
  ossl_conn_get_info (conn, &info);
  items[0] = em_intern (env, ":protocol");
  items[1] = str_or_nil (env, info.protocol);
  items[2] = em_intern (env, ":cipher");
  items[3] = str_or_nil (env, info.cipher);
  items[4] = em_intern (env, ":cipher-bits");
  items[5] = info.cipher ? env->make_integer (env, info.cipher_bits) : em_nil;
  items[6] = em_intern (env, ":group");
  items[7] = str_or_nil (env, info.group);
  items[8] = em_intern (env, ":signature-algorithm");
  items[9] = str_or_nil (env, info.signature);
  items[10] = em_intern (env, ":server-name");
  items[11] = str_or_nil (env, info.server_name);
  items[12] = em_intern (env, ":alpn");
  items[13] = str_or_nil (env, info.alpn);
  items[14] = em_intern (env, ":session-reused");
  items[15] = info.session_reused ? em_t : em_nil;
  items[16] = em_intern (env, ":secure-renegotiation");
  items[17] = info.secure_renegotiation ? em_t : em_nil;
  items[18] = em_intern (env, ":peer-tmp-key-bits");
  items[19] = info.peer_tmp_key_bits
    ? env->make_integer (env, info.peer_tmp_key_bits) : em_nil;
  CHECK (env);
  return em_list (env, items, 20);
}

DEFUN (Fctx_pause_for_sni)
{
  struct ossl_ctx *c = ossl_bind_ctx (env, args[0]);
  UNUSED_ARGS;
  if (!c)
    return NULL;
  if (!c->server)
    {
      em_signal (env, "ossl-error", "SNI functions are for servers");
      return NULL;
    }
  ossl_ctx_pause_for_sni (c);
  return em_t;
}

DEFUN (Fsni_request)
{
  struct ossl_conn *conn = ossl_bind_conn (env, args[0]);
  UNUSED_ARGS;
  if (!conn)
    return NULL;
  return conn->sni_pending ? em_str (env, conn->sni_name) : em_nil;
}

DEFUN (Fsni_choose)
{
  struct ossl_conn *conn = ossl_bind_conn (env, args[0]);
  struct ossl_ctx *sni = NULL;
  UNUSED_ARGS;
  if (!conn)
    return NULL;
  if (!em_nilp (env, args[1]) && !(sni = ossl_bind_ctx (env, args[1])))
    return NULL;
  if (!conn->sni_pending)
    {
      em_signal (env, "ossl-error", "no handshake waits for an SNI choice");
      return NULL;
    }
  ossl_conn_sni_choose (conn, sni);
  return em_t;
}

void
ossl_tls_init (emacs_env *env)
{
  em_defun (env, "ossl--ctx-new", 1, 1, Fctx_new,
            "Make a TLS context for a server if SERVERP, else a client.\n\n"
            "(fn SERVERP)");
  em_defun (env, "ossl--ctx-versions", 3, 3, Fctx_versions,
            "Bound CTX's protocol versions to MIN..MAX (0 = no bound).\n\n"
            "(fn CTX MIN MAX)");
  em_defun (env, "ossl--ctx-ciphers", 3, 3, Fctx_ciphers,
            "Set CTX's TLS 1.2 CIPHERS and TLS 1.3 SUITES (nil = default)."
            "\n\n(fn CTX CIPHERS SUITES)");
  em_defun (env, "ossl--ctx-add-ca", 3, 3, Fctx_add_ca,
            "Trust CAs of KIND (system, file, dir, pem) from VALUE in CTX."
            "\n\n(fn CTX KIND VALUE)");
  em_defun (env, "ossl--ctx-add-ca-x509", 2, 2, Fctx_add_ca_x509,
            "Trust certificate object CERT in CTX.\n\n(fn CTX CERT)");
  em_defun (env, "ossl--ctx-use-cert", 3, 3, Fctx_use_cert,
            "Use the certificate chain of KIND (file, pem) VALUE in CTX."
            "\n\n(fn CTX KIND VALUE)");
  em_defun (env, "ossl--ctx-use-key", 4, 4, Fctx_use_key,
            "Use the private key of KIND (file, pem) VALUE in CTX.\n"
            "PASSWORD, a string or a function returning one (called only\n"
            "for an encrypted key), decrypts it.\n\n"
            "(fn CTX KIND VALUE PASSWORD)");
  em_defun (env, "ossl--conn-new", 3, 3, Fconn_new,
            "Make a TLS connection in CTX verifying HOSTNAME.\n"
            "MODE: `none' record the outcome (server: no client cert),\n"
            "`request' a client cert, `require' a verified peer.\n\n"
            "(fn CTX HOSTNAME MODE)");
  em_defun (env, "ossl--feed", 2, 2, Ffeed,
            "Give ciphertext DATA to CONN; return the cleartext now "
            "available.\nFailures set CONN's state to `failed'.\n\n"
            "(fn CONN DATA)");
  em_defun (env, "ossl--take", 1, 1, Ftake,
            "Return the ciphertext CONN has for the network, or nil.\n\n"
            "(fn CONN)");
  em_defun (env, "ossl--write", 2, 2, Fwrite,
            "Encrypt the bytes of STRING on CONN.\n\n(fn CONN STRING)");
  em_defun (env, "ossl--shutdown", 1, 1, Fshutdown,
            "Send close_notify on CONN.\n\n(fn CONN)");
  em_defun (env, "ossl--leftover", 1, 1, Fleftover,
            "Return the raw bytes CONN received after the TLS stream ended."
            "\n\n(fn CONN)");
  em_defun (env, "ossl--release", 1, 1, Frelease,
            "Free CONN's OpenSSL objects now.\n\n(fn CONN)");
  em_defun (env, "ossl--state", 1, 1, Fstate,
            "Return CONN's state: handshaking, open, closing, closed, "
            "failed.\n\n(fn CONN)");
  em_defun (env, "ossl--reason", 1, 1, Freason,
            "Return why CONN failed, or nil.\n\n(fn CONN)");
  em_defun (env, "ossl--peer-closed-p", 1, 1, Fpeer_closed_p,
            "Return t if CONN's peer sent close_notify.\n\n(fn CONN)");
  em_defun (env, "ossl--protocol", 1, 1, Fprotocol,
            "Return CONN's negotiated protocol name, or nil.\n\n(fn CONN)");
  em_defun (env, "ossl--cipher", 1, 1, Fcipher,
            "Return (NAME BITS DESCRIPTION) of CONN's cipher, or nil.\n\n"
            "(fn CONN)");
  em_defun (env, "ossl--cipher-names", 1, 1, Fcipher_names,
            "Return the names of the ciphers CONN may use.\n\n(fn CONN)");
  em_defun (env, "ossl--ctx-add-sni", 3, 3, Fctx_add_sni,
            "Make server context CTX use server context SNI-CTX for NAME."
            "\n\n(fn CTX NAME SNI-CTX)");
  em_defun (env, "ossl--ctx-pause-for-sni", 1, 1, Fctx_pause_for_sni,
            "Pause server handshakes in CTX after the ClientHello.\n\n"
            "(fn CTX)");
  em_defun (env, "ossl--sni-request", 1, 1, Fsni_request,
            "Return the name CONN's paused handshake asks for (\"\" for "
            "none), or nil.\n\n(fn CONN)");
  em_defun (env, "ossl--sni-choose", 2, 2, Fsni_choose,
            "Go on with CONN's paused handshake in context SNI-CTX "
            "(nil: its own).\n\n(fn CONN SNI-CTX)");
  em_defun (env, "ossl--conn-use-cert", 3, 3, Fconn_use_cert,
            "Use the certificate chain of KIND (file, pem) VALUE on CONN."
            "\n\n(fn CONN KIND VALUE)");
  em_defun (env, "ossl--conn-use-key", 4, 4, Fconn_use_key,
            "Use the private key of KIND VALUE on CONN, with PASSWORD."
            "\n\n(fn CONN KIND VALUE PASSWORD)");
  em_defun (env, "ossl--conn-inject-ca", 3, 3, Fconn_inject_ca,
            "Trust CA VALUE of KIND (file, dir, pem, x509) on CONN alone.\n"
            "After the handshake, verify the peer again.\n\n"
            "(fn CONN KIND VALUE)");
  em_defun (env, "ossl--conn-alpn", 2, 2, Fconn_alpn,
            "Offer (client) or accept (server) the ALPN protocols in WIRE "
            "form.\n\n(fn CONN WIRE)");
  em_defun (env, "ossl--set-session", 2, 2, Fset_session,
            "Offer to resume SESSION on client CONN; t if offered, nil if\n"
            "it was verified for another name or trust.\n\n"
            "(fn CONN SESSION)");
  em_defun (env, "ossl--session", 1, 1, Fsession,
            "Return CONN's resumable session with its host name and chain,\n"
            "or nil.\n\n"
            "(fn CONN)");
  em_defun (env, "ossl--conn-info", 1, 1, Fconn_info,
            "Return a plist of what CONN negotiated.\n\n(fn CONN)");
}
