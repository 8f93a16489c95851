/* bind-tls.c -- the ossl-- primitives for contexts and connections.

   Argument checks and Lisp conversions only; the work is in engine.c.
   TLS failures while feeding data do not signal: they move the
   connection to the `failed' state and keep the reason, so that a
   process filter never sees an error it cannot handle.  */

#include <stdlib.h>
#include <string.h>

#include "bindings.h"

#define CHECK(env) \
  if ((env)->non_local_exit_check (env) != emacs_funcall_exit_return) \
    return NULL

/* Contexts.  */

EM_DEFUN (Fctx_new, "ossl--ctx-new", 1, 1,
          (emacs_env *env, emacs_value _serverp),
          "Make a TLS context for a server if SERVERP, else a client.\n\n"
          "(fn SERVERP)")
{
  char err[OSSL_ERRLEN];
  struct ossl_ctx *c;

  c = ossl_ctx_new (!em_nilp (env, _serverp), err, sizeof err);
  if (!c)
    {
      em_signal (env, "ossl-error", err);
      return NULL;
    }
  return env->make_user_ptr (env, ossl_ctx_fin, c);
}

EM_DEFUN (Fctx_versions, "ossl--ctx-versions", 3, 3,
          (emacs_env *env, emacs_value _ctx, emacs_value _min,
           emacs_value _max),
          "Bound CTX's protocol versions to MIN..MAX (0 = no bound).\n\n"
          "(fn CTX MIN MAX)")
{
  char err[OSSL_ERRLEN];
  struct ossl_ctx *c = ossl_bind_ctx (env, _ctx);
  long min, max;

  if (!c || !em_int (env, _min, 0, 0xFFFF, &min)
      || !em_int (env, _max, 0, 0xFFFF, &max))
    return NULL;
  if (ossl_ctx_set_versions (c, (int) min, (int) max, err, sizeof err))
    {
      em_signal (env, "ossl-error", err);
      return NULL;
    }
  return em_t;
}

EM_DEFUN (Fctx_ciphers, "ossl--ctx-ciphers", 3, 3,
          (emacs_env *env, emacs_value _ctx, emacs_value _ciphers,
           emacs_value _suites),
          "Set CTX's TLS 1.2 CIPHERS and TLS 1.3 SUITES (nil = default)."
          "\n\n(fn CTX CIPHERS SUITES)")
{
  char err[OSSL_ERRLEN];
  struct ossl_ctx *c = ossl_bind_ctx (env, _ctx);
  char *ciphers, *suites;
  bool failed;
  int rc;

  if (!c)
    return NULL;
  ciphers = em_string_or_nil (env, _ciphers, &failed);
  if (failed)
    return NULL;
  suites = em_string_or_nil (env, _suites, &failed);
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

EM_DEFUN (Fctx_add_ca, "ossl--ctx-add-ca", 3, 3,
          (emacs_env *env, emacs_value _ctx, emacs_value _kind,
           emacs_value _value),
          "Trust CAs of KIND (system, file, dir, pem) from VALUE in CTX."
          "\n\n(fn CTX KIND VALUE)")
{
  static const char *const kinds[] = { "system", "file", "dir", "pem", NULL };
  char err[OSSL_ERRLEN];
  struct ossl_ctx *c = ossl_bind_ctx (env, _ctx);
  const char *kind;
  char *value = NULL;
  ptrdiff_t len = 0;
  int rc;

  if (!c || !(kind = kind_name (env, _kind, kinds)))
    return NULL;
  if (strcmp (kind, "system") != 0
      && !(value = em_string (env, _value, &len)))
    return NULL;
  rc = ossl_ctx_add_ca (c, kind, value, (size_t) len, err, sizeof err);
  free (value);
  return em_status (env, rc, "ossl-certificate-error", err);
}

EM_DEFUN (Fctx_add_ca_x509, "ossl--ctx-add-ca-x509", 2, 2,
          (emacs_env *env, emacs_value _ctx, emacs_value _cert),
          "Trust certificate object CERT in CTX.\n\n(fn CTX CERT)")
{
  char err[OSSL_ERRLEN];
  struct ossl_ctx *c = ossl_bind_ctx (env, _ctx);
  struct x509_st *x;

  if (!c || !(x = ossl_bind_x509 (env, _cert)))
    return NULL;
  if (ossl_ctx_add_ca_x509 (c, x, err, sizeof err))
    {
      em_signal (env, "ossl-certificate-error", err);
      return NULL;
    }
  return em_t;
}

static const char *const source_kinds[] = { "file", "pem", NULL };

EM_DEFUN (Fctx_use_cert, "ossl--ctx-use-cert", 3, 3,
          (emacs_env *env, emacs_value _ctx, emacs_value _kind,
           emacs_value _value),
          "Use the certificate chain of KIND (file, pem) VALUE in CTX."
          "\n\n(fn CTX KIND VALUE)")
{
  char err[OSSL_ERRLEN];
  struct ossl_ctx *c = ossl_bind_ctx (env, _ctx);
  const char *kind;
  char *value;
  ptrdiff_t len;
  int rc;

  if (!c || !(kind = kind_name (env, _kind, source_kinds))
      || !(value = em_string (env, _value, &len)))
    return NULL;
  rc = ossl_ctx_use_cert (c, value, (size_t) len, *kind == 'f',
                          err, sizeof err);
  free (value);
  return em_status (env, rc, "ossl-certificate-error", err);
}

/* Load the key of KIND VALUE with PASSWORD into the context C or else
   the connection CONN.  */
static emacs_value
use_key (emacs_env *env, emacs_value _kind, emacs_value _value,
         emacs_value _password, struct ossl_ctx *c, struct ossl_conn *conn)
{
  char err[OSSL_ERRLEN];
  struct em_password pw;
  bool with_password;
  const char *kind;
  char *value;
  ptrdiff_t len;
  int rc;

  if (!(kind = kind_name (env, _kind, source_kinds))
      || !em_password (env, _password, &pw))
    return NULL;
  with_password = em_password_p (&pw);
  if (!(value = em_string (env, _value, &len)))
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

EM_DEFUN (Fctx_use_key, "ossl--ctx-use-key", 4, 4,
          (emacs_env *env, emacs_value _ctx, emacs_value _kind,
           emacs_value _value, emacs_value _password),
          "Use the private key of KIND (file, pem) VALUE in CTX.\n"
          "PASSWORD, a string or a function returning one (called only\n"
          "for an encrypted key), decrypts it.\n\n"
          "(fn CTX KIND VALUE PASSWORD)")
{
  struct ossl_ctx *c = ossl_bind_ctx (env, _ctx);
  return c ? use_key (env, _kind, _value, _password, c, NULL) : NULL;
}

/* Connections.  */

EM_DEFUN (Fconn_new, "ossl--conn-new", 3, 3,
          (emacs_env *env, emacs_value _ctx, emacs_value _hostname,
           emacs_value _mode),
          "Make a TLS connection in CTX verifying HOSTNAME.\n"
          "MODE: `none' record the outcome (server: no client cert),\n"
          "`request' a client cert, `require' a verified peer.\n\n"
          "(fn CTX HOSTNAME MODE)")
{
  char err[OSSL_ERRLEN];
  struct ossl_ctx *c = ossl_bind_ctx (env, _ctx);
  struct ossl_conn *conn;
  char *host = NULL;
  ptrdiff_t hostlen = 0;
  int mode;

  if (!c || !ossl_bind_verify_mode (env, _mode, &mode))
    return NULL;
  if (!em_nilp (env, _hostname)
      && !(host = em_string (env, _hostname, &hostlen)))
    return NULL;
  /* A name with a NUL or a control byte in it is no host name; an
     empty one is none.  */
  if (host && !ossl_host_name_ok (host, (size_t) hostlen))
    {
      free (host);
      em_wrong_type (env, "ossl-host-name-p", _hostname);
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

EM_DEFUN (Ffeed, "ossl--feed", 2, 2,
          (emacs_env *env, emacs_value _conn, emacs_value _data),
          "Give ciphertext DATA to CONN; return the cleartext now "
          "available.\nFailures set CONN's state to `failed'.\n\n"
          "(fn CONN DATA)")
{
  struct ossl_conn *conn = ossl_bind_conn (env, _conn);
  const unsigned char *out;
  size_t outlen;
  char *in;
  ptrdiff_t len;

  if (!conn || !(in = em_string (env, _data, &len)))
    return NULL;
  if (ossl_conn_state (conn) == OSSL_FAILED)
    {
      free (in);
      return em_unibyte (env, "", 0);
    }
  ossl_conn_feed (conn, in, (size_t) len, &out, &outlen);
  free (in);
  return em_unibyte (env, (const char *) out, outlen);
}

EM_DEFUN (Ftake, "ossl--take", 1, 1,
          (emacs_env *env, emacs_value _conn),
          "Return the ciphertext CONN has for the network, or nil.\n\n"
          "(fn CONN)")
{
  struct ossl_conn *conn = ossl_bind_any_conn (env, _conn);
  const char *p;
  size_t n;
  emacs_value v;

  if (!conn)
    return NULL;
  n = ossl_conn_pending (conn, &p);
  if (n == 0)
    return em_nil;
  v = em_unibyte (env, p, n);
  ossl_conn_taken (conn);
  return v;
}

EM_DEFUN (Fwrite, "ossl--write", 2, 2,
          (emacs_env *env, emacs_value _conn, emacs_value _string),
          "Encrypt the bytes of STRING on CONN.\n\n(fn CONN STRING)")
{
  struct ossl_conn *conn = ossl_bind_conn (env, _conn);
  char *in;
  ptrdiff_t len;
  int rc;

  if (!conn)
    return NULL;
  if (ossl_conn_state (conn) != OSSL_OPEN)
    {
      em_signal (env, "ossl-closed-error",
                 ossl_conn_state (conn) == OSSL_HANDSHAKING
                 ? "TLS handshake not finished"
                 : ossl_conn_state (conn) == OSSL_FAILED
                 ? ossl_conn_reason (conn)
                 : "TLS connection is closed for writing");
      return NULL;
    }
  if (!(in = em_string (env, _string, &len)))
    return NULL;
  rc = ossl_conn_write (conn, in, (size_t) len);
  free (in);
  if (rc)
    {
      em_signal (env, "ossl-error", ossl_conn_reason (conn));
      return NULL;
    }
  return em_t;
}

EM_DEFUN (Fshutdown, "ossl--shutdown", 1, 1,
          (emacs_env *env, emacs_value _conn),
          "Send close_notify on CONN.\n\n(fn CONN)")
{
  struct ossl_conn *conn = ossl_bind_conn (env, _conn);
  if (!conn)
    return NULL;
  ossl_conn_shutdown (conn);
  return em_t;
}

EM_DEFUN (Fleftover, "ossl--leftover", 1, 1,
          (emacs_env *env, emacs_value _conn),
          "Return the raw bytes CONN received after the TLS stream ended."
          "\n\n(fn CONN)")
{
  struct ossl_conn *conn = ossl_bind_conn (env, _conn);
  char *p;
  size_t n;
  emacs_value v;

  if (!conn)
    return NULL;
  n = ossl_conn_leftover (conn, &p);
  if (n == 0)
    return em_nil;
  v = em_unibyte (env, p, n);
  free (p);
  return v;
}

EM_DEFUN (Frelease, "ossl--release", 1, 1,
          (emacs_env *env, emacs_value _conn),
          "Free CONN's OpenSSL objects now.\n\n(fn CONN)")
{
  struct ossl_conn *conn = ossl_bind_any_conn (env, _conn);
  if (!conn)
    return NULL;
  ossl_conn_release (conn);
  return em_nil;
}

static const char *const state_names[] = {
  "handshaking", "open", "closing", "closed", "failed"
};

EM_DEFUN (Fstate, "ossl--state", 1, 1,
          (emacs_env *env, emacs_value _conn),
          "Return CONN's state: handshaking, open, closing, closed, "
          "failed.\n\n(fn CONN)")
{
  struct ossl_conn *conn = ossl_bind_any_conn (env, _conn);
  if (!conn)
    return NULL;
  return env->intern (env, state_names[ossl_conn_state (conn)]);
}

EM_DEFUN (Freason, "ossl--reason", 1, 1,
          (emacs_env *env, emacs_value _conn),
          "Return why CONN failed, or nil.\n\n(fn CONN)")
{
  struct ossl_conn *conn = ossl_bind_any_conn (env, _conn);
  if (!conn)
    return NULL;
  return em_nonempty_str_or_nil (env, ossl_conn_reason (conn));
}

EM_DEFUN (Fpeer_closed_p, "ossl--peer-closed-p", 1, 1,
          (emacs_env *env, emacs_value _conn),
          "Return t if CONN's peer sent close_notify.\n\n(fn CONN)")
{
  struct ossl_conn *conn = ossl_bind_any_conn (env, _conn);
  if (!conn)
    return NULL;
  return ossl_conn_peer_closed (conn) ? em_t : em_nil;
}

EM_DEFUN (Fprotocol, "ossl--protocol", 1, 1,
          (emacs_env *env, emacs_value _conn),
          "Return CONN's negotiated protocol name, or nil.\n\n(fn CONN)")
{
  struct ossl_conn *conn = ossl_bind_conn (env, _conn);
  if (!conn)
    return NULL;
  return em_nonempty_str_or_nil (env, ossl_conn_protocol (conn));
}

EM_DEFUN (Fcipher, "ossl--cipher", 1, 1,
          (emacs_env *env, emacs_value _conn),
          "Return (NAME BITS DESCRIPTION) of CONN's cipher, or nil.\n\n"
          "(fn CONN)")
{
  struct ossl_conn *conn = ossl_bind_conn (env, _conn);
  const char *name;
  int bits;
  char desc[256];
  emacs_value items[3];

  if (!conn)
    return NULL;
  if (ossl_conn_cipher (conn, &name, &bits, desc, sizeof desc))
    return em_nil;
  items[0] = em_str (env, name);
  items[1] = env->make_integer (env, bits);
  items[2] = em_str (env, desc);
  return em_list (env, items, 3);
}

EM_DEFUN (Fcipher_names, "ossl--cipher-names", 1, 1,
          (emacs_env *env, emacs_value _conn),
          "Return the names of the ciphers CONN may use.\n\n(fn CONN)")
{
  struct ossl_conn *conn = ossl_bind_conn (env, _conn);
  const char **names;
  emacs_value list = em_nil;
  size_t n;

  if (!conn)
    return NULL;
  names = ossl_conn_cipher_names (conn, &n);
  while (n > 0)
    {
      list = em_cons (env, em_str (env, names[--n]), list);
      if (env->non_local_exit_check (env) != emacs_funcall_exit_return)
        break;
    }
  free (names);
  return list;
}

/* The plist of what happened in step ST, newest key first (nil on
   the steady path).  */
static emacs_value
step_events (emacs_env *env, struct ossl_conn *conn,
             const struct ossl_step *st)
{
  emacs_value items[12];
  int n = 0;

  if (st->events & OSSL_EVENT_HANDSHAKE)
    {
      items[n++] = em_intern (env, ":handshake");
      items[n++] = em_intern (env, state_names[st->state]);
      if (!ossl_conn_released (conn))
        {
          items[n++] = em_intern (env, ":verify");
          items[n++] = em_intern (env, ossl_conn_verify_word (conn));
        }
    }
  if (st->events & OSSL_EVENT_FAILED)
    {
      items[n++] = em_intern (env, ":failed");
      items[n++] = em_str (env, ossl_conn_reason (conn));
    }
  if (st->events & OSSL_EVENT_CLOSE_NOTIFY)
    {
      items[n++] = em_intern (env, ":close-notify");
      items[n++] = em_t;
    }
  if (st->events & OSSL_EVENT_SNI)
    {
      items[n++] = em_intern (env, ":sni");
      items[n++] = em_str (env, ossl_conn_sni_request (conn));
    }
  if (st->events & OSSL_EVENT_EOF)
    {
      items[n++] = em_intern (env, ":eof");
      items[n++] = em_intern (env, st->events & OSSL_EVENT_TRUNCATED
                              ? "truncated" : "clean");
    }
  CHECK (env);
  return n ? em_list (env, items, n) : em_nil;
}

EM_DEFUN (Fstep, "ossl--step", 2, 3,
          (emacs_env *env, emacs_value _conn, emacs_value _data,
           emacs_value _eof),
          "Give ciphertext DATA to CONN, or with EOF non-nil tell it the\n"
          "transport ended; return (CLEAR OUT . EVENTS).  CLEAR is the\n"
          "cleartext now available, OUT the ciphertext to send (or nil),\n"
          "EVENTS a plist of what happened, nil on the steady path:\n"
          ":handshake STATE (it ended: open, closed or failed) with\n"
          ":verify WORD (`ok', `expired'..., as `ossl--verify-outcome');\n"
          ":failed REASON; :close-notify t;\n"
          ":sni NAME (waiting for `ossl--sni-choose'); :eof clean or\n"
          "truncated (after EOF).\n\n"
          "(fn CONN DATA &optional EOF)")
{
  struct ossl_conn *conn = ossl_bind_conn (env, _conn);
  struct ossl_step st;
  emacs_value clear, out = em_nil, events;
  char *in = NULL;
  ptrdiff_t len = 0;
  bool eof = !em_nilp (env, _eof);

  if (!conn || (!eof && !(in = em_string (env, _data, &len))))
    return NULL;
  ossl_conn_step (conn, in, (size_t) len, eof, &st);
  free (in);
  clear = em_unibyte (env, (const char *) st.clear, st.clear_len);
  CHECK (env);
  if (st.out_len)
    {
      out = em_unibyte (env, st.out, st.out_len);
      CHECK (env);
      ossl_conn_taken (conn);
    }
  events = step_events (env, conn, &st);
  CHECK (env);
  return em_cons (env, clear, em_cons (env, out, events));
}

EM_DEFUN (Fctx_add_sni, "ossl--ctx-add-sni", 3, 3,
          (emacs_env *env, emacs_value _ctx, emacs_value _name,
           emacs_value _sni_ctx),
          "Make server context CTX use server context SNI-CTX for NAME."
          "\n\n(fn CTX NAME SNI-CTX)")
{
  char err[OSSL_ERRLEN];
  struct ossl_ctx *c = ossl_bind_ctx (env, _ctx);
  struct ossl_ctx *sni;
  char *name;
  int rc;

  if (!c || !(sni = ossl_bind_ctx (env, _sni_ctx))
      || !(name = em_string (env, _name, NULL)))
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
  if (conn && ossl_conn_state (conn) != OSSL_HANDSHAKING)
    {
      em_signal (env, "ossl-error",
                 "too late: the handshake is over");
      return NULL;
    }
  return conn;
}

EM_DEFUN (Fconn_use_cert, "ossl--conn-use-cert", 3, 3,
          (emacs_env *env, emacs_value _conn, emacs_value _kind,
           emacs_value _value),
          "Use the certificate chain of KIND (file, pem) VALUE on CONN."
          "\n\n(fn CONN KIND VALUE)")
{
  char err[OSSL_ERRLEN];
  struct ossl_conn *conn = fresh_conn (env, _conn);
  const char *kind;
  char *value;
  ptrdiff_t len;
  int rc;

  if (!conn || !(kind = kind_name (env, _kind, source_kinds))
      || !(value = em_string (env, _value, &len)))
    return NULL;
  rc = ossl_conn_use_cert (conn, value, (size_t) len, *kind == 'f',
                           err, sizeof err);
  free (value);
  return em_status (env, rc, "ossl-certificate-error", err);
}

EM_DEFUN (Fconn_use_key, "ossl--conn-use-key", 4, 4,
          (emacs_env *env, emacs_value _conn, emacs_value _kind,
           emacs_value _value, emacs_value _password),
          "Use the private key of KIND VALUE on CONN, with PASSWORD."
          "\n\n(fn CONN KIND VALUE PASSWORD)")
{
  struct ossl_conn *conn = fresh_conn (env, _conn);
  return conn ? use_key (env, _kind, _value, _password, NULL, conn) : NULL;
}

EM_DEFUN (Fconn_inject_ca, "ossl--conn-inject-ca", 3, 3,
          (emacs_env *env, emacs_value _conn, emacs_value _kind,
           emacs_value _value),
          "Trust CA VALUE of KIND (file, dir, pem, x509) on CONN alone.\n"
          "After the handshake, verify the peer again.\n\n"
          "(fn CONN KIND VALUE)")
{
  static const char *const kinds[] = { "file", "dir", "pem", "x509", NULL };
  char err[OSSL_ERRLEN];
  struct ossl_conn *conn = ossl_bind_conn (env, _conn);
  const char *kind;
  char *value = NULL;
  ptrdiff_t len = 0;
  struct x509_st *x = NULL;
  int rc;

  if (!conn || !(kind = kind_name (env, _kind, kinds)))
    return NULL;
  if (strcmp (kind, "x509") == 0)
    {
      if (!(x = ossl_bind_x509 (env, _value)))
        return NULL;
      kind = NULL;
    }
  else if (!(value = em_string (env, _value, &len)))
    return NULL;
  rc = ossl_conn_inject_ca (conn, kind, value, (size_t) len, x,
                            err, sizeof err);
  free (value);
  return em_status (env, rc, "ossl-certificate-error", err);
}

EM_DEFUN (Fconn_alpn, "ossl--conn-alpn", 2, 2,
          (emacs_env *env, emacs_value _conn, emacs_value _wire),
          "Offer (client) or accept (server) the ALPN protocols in WIRE "
          "form.\n\n(fn CONN WIRE)")
{
  char err[OSSL_ERRLEN];
  struct ossl_conn *conn = fresh_conn (env, _conn);
  char *wire;
  ptrdiff_t len;
  int rc;

  if (!conn || !(wire = em_string (env, _wire, &len)))
    return NULL;
  rc = ossl_conn_set_alpn (conn, (unsigned char *) wire, (size_t) len,
                           err, sizeof err);
  free (wire);
  return em_status (env, rc, "ossl-error", err);
}

EM_DEFUN (Fset_session, "ossl--set-session", 2, 2,
          (emacs_env *env, emacs_value _conn, emacs_value _session),
          "Offer to resume SESSION on client CONN; t if offered, nil if\n"
          "it was verified for another name or trust.\n\n"
          "(fn CONN SESSION)")
{
  char err[OSSL_ERRLEN];
  struct ossl_conn *conn = fresh_conn (env, _conn);
  char *der;
  ptrdiff_t len;
  int rc;

  if (!conn || !(der = em_string (env, _session, &len)))
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

EM_DEFUN (Fsession, "ossl--session", 1, 1,
          (emacs_env *env, emacs_value _conn),
          "Return CONN's resumable session with its host name and chain,\n"
          "or nil.\n\n"
          "(fn CONN)")
{
  struct ossl_conn *conn = ossl_bind_conn (env, _conn);
  unsigned char *der;
  size_t len;
  emacs_value v;

  if (!conn)
    return NULL;
  if (ossl_conn_get_session (conn, &der, &len))
    return em_nil;
  v = em_unibyte (env, (const char *) der, len);
  em_free_secret ((char *) der, (ptrdiff_t) len);
  return v;
}

EM_DEFUN (Fconn_info, "ossl--conn-info", 1, 1,
          (emacs_env *env, emacs_value _conn),
          "Return a plist of what CONN negotiated.\n\n(fn CONN)")
{
  struct ossl_conn *conn = ossl_bind_conn (env, _conn);
  struct ossl_conn_info info;
  emacs_value items[20];

  if (!conn)
    return NULL;
  ossl_conn_get_info (conn, &info);
  items[0] = em_intern (env, ":protocol");
  items[1] = em_nonempty_str_or_nil (env, info.protocol);
  items[2] = em_intern (env, ":cipher");
  items[3] = em_nonempty_str_or_nil (env, info.cipher);
  items[4] = em_intern (env, ":cipher-bits");
  items[5] = info.cipher ? env->make_integer (env, info.cipher_bits) : em_nil;
  items[6] = em_intern (env, ":group");
  items[7] = em_nonempty_str_or_nil (env, info.group);
  items[8] = em_intern (env, ":signature-algorithm");
  items[9] = em_nonempty_str_or_nil (env, info.signature);
  items[10] = em_intern (env, ":server-name");
  items[11] = em_nonempty_str_or_nil (env, info.server_name);
  items[12] = em_intern (env, ":alpn");
  items[13] = em_nonempty_str_or_nil (env, info.alpn);
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

EM_DEFUN (Fctx_pause_for_sni, "ossl--ctx-pause-for-sni", 1, 1,
          (emacs_env *env, emacs_value _ctx),
          "Pause server handshakes in CTX after the ClientHello.\n\n"
          "(fn CTX)")
{
  struct ossl_ctx *c = ossl_bind_ctx (env, _ctx);
  if (!c)
    return NULL;
  if (!ossl_ctx_is_server (c))
    {
      em_signal (env, "ossl-error", "SNI functions are for servers");
      return NULL;
    }
  ossl_ctx_pause_for_sni (c);
  return em_t;
}

EM_DEFUN (Fsni_pending, "ossl--sni-pending", 1, 1,
          (emacs_env *env, emacs_value _conn),
          "The name CONN's paused server handshake asks for (\"\" when "
          "none), or nil.\n\n(fn CONN)")
{
  struct ossl_conn *conn = ossl_bind_conn (env, _conn);
  return conn ? em_str_or_nil (env, ossl_conn_sni_request (conn)) : NULL;
}

EM_DEFUN (Fsni_choose, "ossl--sni-choose", 2, 2,
          (emacs_env *env, emacs_value _conn, emacs_value _sni_ctx),
          "Go on with CONN's paused handshake in context SNI-CTX "
          "(nil: its own).\n\n(fn CONN SNI-CTX)")
{
  struct ossl_conn *conn = ossl_bind_conn (env, _conn);
  struct ossl_ctx *sni = NULL;
  if (!conn)
    return NULL;
  if (!em_nilp (env, _sni_ctx) && !(sni = ossl_bind_ctx (env, _sni_ctx)))
    return NULL;
  if (!ossl_conn_sni_request (conn))
    {
      em_signal (env, "ossl-error", "no handshake waits for an SNI choice");
      return NULL;
    }
  ossl_conn_sni_choose (conn, sni);
  return em_t;
}

