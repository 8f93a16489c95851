/* bind-x509.c -- the ossl-- primitives for certificates.

   Argument checks and Lisp conversions only; the work is in x509.c.
   A certificate handle is a user pointer holding one reference to an
   X509; the Lisp layer wraps it in an `ossl-x509' struct.  Text that
   comes from a certificate is decoded as UTF-8 when it is valid UTF-8,
   and otherwise keeps its odd bytes as raw bytes, so a hostile
   certificate can never make a conversion fail.  */

#include <stdlib.h>
#include <string.h>
#include <stdint.h>

#include "bindings.h"
#include "x509.h"

#define FAILED(env) \
  ((env)->non_local_exit_check (env) != emacs_funcall_exit_return)

/* Conversions.  */

/* True when the N bytes at S are well-formed UTF-8 (no overlong forms,
   no surrogates, nothing past U+10FFFF).  */
static bool
utf8_valid (const unsigned char *s, size_t n)
{
  size_t i = 0;

  while (i < n)
    {
      unsigned char c = s[i];
      size_t k, len;
      unsigned long cp;

      if (c < 0x80)
        {
          i++;
          continue;
        }
      if (c >= 0xC2 && c <= 0xDF)
        len = 2, cp = c & 0x1F;
      else if (c >= 0xE0 && c <= 0xEF)
        len = 3, cp = c & 0x0F;
      else if (c >= 0xF0 && c <= 0xF4)
        len = 4, cp = c & 0x07;
      else
        return false;
      if (n - i < len)
        return false;
      for (k = 1; k < len; k++)
        {
          if ((s[i + k] & 0xC0) != 0x80)
            return false;
          cp = (cp << 6) | (s[i + k] & 0x3F);
        }
      if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)))
          || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return false;
      i += len;
    }
  return true;
}

/* A Lisp string from text that came from a certificate.  */
static emacs_value
text (emacs_env *env, const char *s, size_t len)
{
  emacs_value args[2];

  if (len > PTRDIFF_MAX)
    {
      em_signal (env, "ossl-error", "string too long");
      return NULL;
    }
  if (utf8_valid ((const unsigned char *) s, len))
    return env->make_string (env, s, (ptrdiff_t) len);
  args[0] = em_unibyte (env, s, len);
  args[1] = env->intern (env, "utf-8");
  if (FAILED (env))
    return NULL;
  return env->funcall (env, env->intern (env, "decode-coding-string"), 2,
                       args);
}

static emacs_value
text0 (emacs_env *env, const char *s)
{
  return text (env, s, strlen (s));
}

/* Signal SYMBOL with MSG, which may hold bytes of a file name.  */
static void
signal_text (emacs_env *env, const char *symbol, const char *msg)
{
  emacs_value m = text0 (env, msg);
  emacs_value data;

  if (FAILED (env))
    return;
  data = em_list (env, &m, 1);
  if (FAILED (env))
    return;
  env->non_local_exit_signal (env, env->intern (env, symbol), data);
}

static void
out_of_memory (emacs_env *env)
{
  em_signal (env, "ossl-error", "out of memory");
}

/* An exact integer from a sign and a big-endian magnitude.  */
static emacs_value
make_exact (emacs_env *env, int negative, const unsigned char *mag,
            size_t len)
{
  const size_t lb = sizeof (emacs_limb_t);
  emacs_limb_t *limbs;
  uintmax_t u = 0;
  emacs_value v;
  size_t i, count;

  while (len && !mag[0])
    mag++, len--;
  if (len <= sizeof u)
    {
      for (i = 0; i < len; i++)
        u = (u << 8) | mag[i];
      if (u <= INTMAX_MAX)
        return env->make_integer (env, negative ? -(intmax_t) u
                                  : (intmax_t) u);
    }
  count = (len + lb - 1) / lb;
  if (count > PTRDIFF_MAX / lb)
    {
      em_signal (env, "ossl-error", "integer too large");
      return NULL;
    }
  limbs = calloc (count, lb);
  if (!limbs)
    {
      out_of_memory (env);
      return NULL;
    }
  /* Limbs are least significant first.  */
  for (i = 0; i < len; i++)
    limbs[i / lb] |= (emacs_limb_t) mag[len - 1 - i] << (8 * (i % lb));
  v = env->make_big_integer (env, negative ? -1 : 1, (ptrdiff_t) count,
                             limbs);
  free (limbs);
  return v;
}

/* Handles from a list of certificates; frees the list.  */
static emacs_value
handles (emacs_env *env, struct ossl_x509_list *l)
{
  emacs_value list = em_nil;
  size_t i = l->n;

  while (i-- > 0)
    {
      emacs_value h = ossl_make_x509 (env, l->certs[i]);
      if (FAILED (env))
        break;
      list = em_cons (env, h, list);
      if (FAILED (env))
        break;
    }
  ossl_x509_list_free (l);
  return FAILED (env) ? NULL : list;
}

/* A handle for X, which the caller still owns.  */
static emacs_value
handle_or_nil (emacs_env *env, struct x509_st *x)
{
  return x ? ossl_make_x509 (env, x) : em_nil;
}

/* Parsing and encoding.  */

EM_DEFUN (Fhandle_p, "ossl--x509-handle-p", 1, 1,
          (emacs_env *env, emacs_value _object),
          "Return t if OBJECT is a certificate handle.\n\n(fn OBJECT)")
{
  return em_user_ptr_p (env, _object, ossl_x509_fin) ? em_t : em_nil;
}

EM_DEFUN (Fread_file, "ossl--x509-read-file", 1, 1,
          (emacs_env *env, emacs_value _file),
          "Return handles for the certificates in FILE (encoded name).\n"
          "PEM gives every certificate, else one DER certificate.\n\n"
          "(fn FILE)")
{
  char err[OSSL_ERRLEN + 1024];
  struct ossl_x509_list l;
  char *file;
  int rc;

  if (!(file = em_string (env, _file, NULL)))
    return NULL;
  rc = ossl_x509_read_file (file, &l, err, sizeof err);
  free (file);
  if (rc)
    {
      signal_text (env, "ossl-certificate-error", err);
      return NULL;
    }
  return handles (env, &l);
}

EM_DEFUN (Ffrom_pem, "ossl--x509-from-pem", 1, 1,
          (emacs_env *env, emacs_value _string),
          "Return handles for the PEM certificates in STRING.\n\n"
          "(fn STRING)")
{
  char err[OSSL_ERRLEN];
  struct ossl_x509_list l;
  char *pem;
  ptrdiff_t len;
  int rc;

  if (!(pem = em_string (env, _string, &len)))
    return NULL;
  rc = ossl_x509_parse (pem, (size_t) len, 1, "PEM data", &l,
                        err, sizeof err);
  free (pem);
  if (rc)
    {
      signal_text (env, "ossl-certificate-error", err);
      return NULL;
    }
  return handles (env, &l);
}

EM_DEFUN (Ffrom_der, "ossl--x509-from-der", 1, 1,
          (emacs_env *env, emacs_value _string),
          "Return a handle for the DER certificate in unibyte STRING.\n\n"
          "(fn STRING)")
{
  char err[OSSL_ERRLEN];
  char *der;
  ptrdiff_t len;
  struct x509_st *x;
  emacs_value v;

  if (!(der = em_string (env, _string, &len)))
    return NULL;
  x = ossl_x509_from_der (der, (size_t) len, err, sizeof err);
  free (der);
  if (!x)
    {
      signal_text (env, "ossl-certificate-error", err);
      return NULL;
    }
  v = ossl_make_x509 (env, x);
  ossl_cert_free (x);
  return v;
}

static emacs_value
encode (emacs_env *env, emacs_value h, int pem)
{
  char err[OSSL_ERRLEN];
  struct x509_st *x = ossl_bind_x509 (env, h);
  char *out;
  size_t len;
  emacs_value v;

  if (!x)
    return NULL;
  if (ossl_x509_encode (x, pem, &out, &len, err, sizeof err))
    {
      em_signal (env, "ossl-certificate-error", err);
      return NULL;
    }
  v = pem ? text (env, out, len) : em_unibyte (env, out, len);
  free (out);
  return v;
}

EM_DEFUN (Fto_pem, "ossl--x509-to-pem", 1, 1,
          (emacs_env *env, emacs_value _h),
          "Return certificate H in PEM form.\n\n(fn H)")
{
  return encode (env, _h, 1);
}

EM_DEFUN (Fto_der, "ossl--x509-to-der", 1, 1,
          (emacs_env *env, emacs_value _h),
          "Return certificate H in DER form, a unibyte string.\n\n(fn H)")
{
  return encode (env, _h, 0);
}

/* Fields.  */

static emacs_value
name (emacs_env *env, emacs_value _h, emacs_value _format, int issuer)
{
  struct x509_st *x = ossl_bind_x509 (env, _h);
  enum ossl_name_form form = OSSL_NAME_ONELINE;
  char *s;
  emacs_value v;

  if (!x)
    return NULL;
  if (!em_nilp (env, _format)
      && !env->eq (env, _format, env->intern (env, "oneline")))
    {
      if (!env->eq (env, _format, env->intern (env, "rfc2253")))
        {
          emacs_value bad = em_list (env, &_format, 1);
          if (!FAILED (env))
            env->non_local_exit_signal (env, env->intern
                                        (env, "args-out-of-range"), bad);
          return NULL;
        }
      form = OSSL_NAME_RFC2253;
    }
  s = ossl_x509_name (x, issuer, form);
  if (!s)
    {
      out_of_memory (env);
      return NULL;
    }
  v = text0 (env, s);
  free (s);
  return v;
}

EM_DEFUN (Fsubject, "ossl--x509-subject", 1, 2,
          (emacs_env *env, emacs_value _h, emacs_value _format),
          "Return the subject of certificate H.\n"
          "FORMAT nil or `oneline' gives \"/C=DE/CN=x\", `rfc2253' "
          "\"CN=x,C=DE\".\n\n(fn H &optional FORMAT)")
{
  return name (env, _h, _format, 0);
}

EM_DEFUN (Fissuer, "ossl--x509-issuer", 1, 2,
          (emacs_env *env, emacs_value _h, emacs_value _format),
          "Return the issuer of certificate H.\n"
          "FORMAT nil or `oneline' gives \"/C=DE/CN=x\", `rfc2253' "
          "\"CN=x,C=DE\".\n\n(fn H &optional FORMAT)")
{
  return name (env, _h, _format, 1);
}

EM_DEFUN (Fserial, "ossl--x509-serial", 1, 2,
          (emacs_env *env, emacs_value _h, emacs_value _hex),
          "Return the serial number of certificate H as an integer.\n"
          "With HEX non-nil, as colon-separated hex.\n\n"
          "(fn H &optional HEX)")
{
  struct x509_st *x = ossl_bind_x509 (env, _h);
  unsigned char *mag;
  size_t len;
  int negative;
  emacs_value v;

  if (!x)
    return NULL;
  if (!em_nilp (env, _hex))
    {
      char *hex = ossl_x509_serial_hex (x);
      if (!hex)
        {
          out_of_memory (env);
          return NULL;
        }
      v = em_str (env, hex);
      free (hex);
      return v;
    }
  if (ossl_x509_serial (x, &negative, &mag, &len))
    {
      em_signal (env, "ossl-certificate-error", "cannot read serial number");
      return NULL;
    }
  v = make_exact (env, negative, mag, len);
  free (mag);
  return v;
}

static emacs_value
validity (emacs_env *env, emacs_value _h, emacs_value _seconds, int after)
{
  struct x509_st *x = ossl_bind_x509 (env, _h);
  emacs_value v;

  if (!x)
    return NULL;
  if (!em_nilp (env, _seconds))
    {
      int64_t secs;
      if (ossl_x509_time_epoch (x, after, &secs))
        {
          em_signal (env, "ossl-certificate-error",
                     "certificate has an invalid validity time");
          return NULL;
        }
      return env->make_integer (env, secs);
    }
  {
    char *s = ossl_x509_time_string (x, after);
    if (!s)
      {
        out_of_memory (env);
        return NULL;
      }
    v = text0 (env, s);
    free (s);
  }
  return v;
}

EM_DEFUN (Fnot_before, "ossl--x509-not-before", 1, 2,
          (emacs_env *env, emacs_value _h, emacs_value _seconds),
          "Return the notBefore time of certificate H as stored.\n"
          "With SECONDS non-nil, as seconds since the epoch.\n\n"
          "(fn H &optional SECONDS)")
{
  return validity (env, _h, _seconds, 0);
}

EM_DEFUN (Fnot_after, "ossl--x509-not-after", 1, 2,
          (emacs_env *env, emacs_value _h, emacs_value _seconds),
          "Return the notAfter time of certificate H as stored.\n"
          "With SECONDS non-nil, as seconds since the epoch.\n\n"
          "(fn H &optional SECONDS)")
{
  return validity (env, _h, _seconds, 1);
}

EM_DEFUN (Fsignature_type, "ossl--x509-signature-type", 1, 1,
          (emacs_env *env, emacs_value _h),
          "Return the key type of certificate H's signature, a symbol.\n\n"
          "(fn H)")
{
  struct x509_st *x = ossl_bind_x509 (env, _h);
  char buf[64];

  if (!x)
    return NULL;
  ossl_x509_signature_type (x, buf, sizeof buf);
  return env->intern (env, buf);
}

EM_DEFUN (Fpubkey, "ossl--x509-pubkey", 1, 1,
          (emacs_env *env, emacs_value _h),
          "Return (ALGORITHM . BITS) of certificate H's public key.\n\n"
          "(fn H)")
{
  struct x509_st *x = ossl_bind_x509 (env, _h);
  char buf[64];
  int bits;

  if (!x)
    return NULL;
  ossl_x509_pubkey (x, buf, sizeof buf, &bits);
  return em_cons (env, text0 (env, buf), env->make_integer (env, bits));
}

EM_DEFUN (Ftext, "ossl--x509-text", 1, 1,
          (emacs_env *env, emacs_value _h),
          "Return the human-readable dump of certificate H.\n\n(fn H)")
{
  char err[OSSL_ERRLEN];
  struct x509_st *x = ossl_bind_x509 (env, _h);
  size_t len;
  char *s;
  emacs_value v;

  if (!x)
    return NULL;
  if (!(s = ossl_x509_text (x, &len, err, sizeof err)))
    {
      em_signal (env, "ossl-certificate-error", err);
      return NULL;
    }
  v = text (env, s, len);
  free (s);
  return v;
}

/* The plist.  */

static emacs_value
symbols (emacs_env *env, const char *const *names, size_t n)
{
  emacs_value list = em_nil;
  while (n-- > 0)
    list = em_cons (env, env->intern (env, names[n]), list);
  return list;
}

static emacs_value
altname_list (emacs_env *env, const struct ossl_x509_info *info)
{
  emacs_value list = em_nil;
  size_t n = info->n_altnames;

  while (n-- > 0)
    {
      const struct ossl_x509_altname *a = &info->altnames[n];
      list = em_cons (env, em_cons (env, env->intern (env, a->type),
                                    text (env, a->value, a->len)),
                      list);
    }
  return list;
}

EM_DEFUN (Finfo, "ossl--x509-info", 1, 1,
          (emacs_env *env, emacs_value _h),
          "Return a plist describing certificate H.\n\n(fn H)")
{
  char err[OSSL_ERRLEN];
  struct x509_st *x = ossl_bind_x509 (env, _h);
  struct ossl_x509_info info;
  emacs_value items[64];
  ptrdiff_t n = 0;
  emacs_value v;

#define PUT(key, value)                                         \
  (items[n++] = env->intern (env, key), items[n++] = (value))

  if (!x)
    return NULL;
  if (ossl_x509_info (x, &info, err, sizeof err))
    {
      em_signal (env, "ossl-error", err);
      return NULL;
    }
  PUT (":version", env->make_integer (env, info.version));
  PUT (":subject", text0 (env, info.subject));
  PUT (":issuer", text0 (env, info.issuer));
  PUT (":subject-rfc2253", text0 (env, info.subject_rfc2253));
  PUT (":issuer-rfc2253", text0 (env, info.issuer_rfc2253));
  PUT (":serial", make_exact (env, info.serial_negative, info.serial,
                              info.serial_len));
  PUT (":serial-hex", em_str (env, info.serial_hex));
  PUT (":not-before", text0 (env, info.not_before));
  PUT (":not-after", text0 (env, info.not_after));
  PUT (":valid-from", info.valid_from_ok
       ? env->make_integer (env, info.valid_from) : em_nil);
  PUT (":valid-to", info.valid_to_ok
       ? env->make_integer (env, info.valid_to) : em_nil);
  PUT (":signature-algorithm", text0 (env, info.signature_algorithm));
  PUT (":signature-type", env->intern (env, info.signature_type));
  PUT (":public-key-algorithm", text0 (env, info.pubkey_algorithm));
  PUT (":public-key-bits", env->make_integer (env, info.pubkey_bits));
  PUT (":sha256", em_str_or_nil (env, info.sha256));
  PUT (":sha1", em_str_or_nil (env, info.sha1));
  PUT (":public-key-sha256", em_str_or_nil (env, info.key_sha256));
  PUT (":public-key-sha1", em_str_or_nil (env, info.key_sha1));
  PUT (":subject-alt-names", altname_list (env, &info));
  PUT (":ca-p", info.ca ? em_t : em_nil);
  PUT (":path-length", info.ca && info.pathlen >= 0
       ? env->make_integer (env, info.pathlen) : em_nil);
  PUT (":key-usage", symbols (env, info.key_usage, info.n_key_usage));
  PUT (":extended-key-usage",
       symbols (env, (const char *const *) info.ext_key_usage,
                info.n_ext_key_usage));
  PUT (":subject-key-id", em_str_or_nil (env, info.subject_key_id));
  PUT (":authority-key-id", em_str_or_nil (env, info.authority_key_id));
  PUT (":self-signed-p", info.self_signed ? em_t : em_nil);
#undef PUT
  ossl_x509_info_free (&info);
  if (FAILED (env))
    return NULL;
  v = em_list (env, items, n);
  return v;
}

/* Connections.  */

EM_DEFUN (Fown_cert, "ossl--own-cert", 1, 1,
          (emacs_env *env, emacs_value _conn),
          "Return a handle for CONN's own certificate, or nil.\n\n"
          "(fn CONN)")
{
  struct ossl_conn *conn = ossl_bind_conn (env, _conn);
  if (!conn)
    return NULL;
  return handle_or_nil (env, ossl_conn_own_cert (conn));
}

EM_DEFUN (Fpeer_cert, "ossl--peer-cert", 1, 1,
          (emacs_env *env, emacs_value _conn),
          "Return a handle for CONN's peer certificate, or nil.\n\n"
          "(fn CONN)")
{
  struct ossl_conn *conn = ossl_bind_conn (env, _conn);
  if (!conn)
    return NULL;
  return handle_or_nil (env, ossl_conn_peer_cert (conn));
}

EM_DEFUN (Fpeer_chain, "ossl--peer-chain", 1, 1,
          (emacs_env *env, emacs_value _conn),
          "Return handles for the certificates CONN's peer sent, leaf "
          "first.\n\n(fn CONN)")
{
  char err[OSSL_ERRLEN];
  struct ossl_conn *conn = ossl_bind_conn (env, _conn);
  struct ossl_x509_list l;

  if (!conn)
    return NULL;
  if (ossl_conn_peer_chain (conn, &l, err, sizeof err))
    {
      em_signal (env, "ossl-error", err);
      return NULL;
    }
  return handles (env, &l);
}

/* Verification outcomes, in words (the table is in x509.c).  */

static emacs_value
verify_word (emacs_env *env, int outcome)
{
  return em_intern (env, ossl_x509_verify_symbol (outcome));
}

EM_DEFUN (Fverify_outcome, "ossl--verify-outcome", 1, 1,
          (emacs_env *env, emacs_value _conn),
          "Return the outcome of verifying CONN's peer, a word such as\n"
          "`ok', `expired', `unknown-ca' or `no-host-match'.\n\n"
          "(fn CONN)")
{
  struct ossl_conn *conn = ossl_bind_conn (env, _conn);
  return conn ? em_intern (env, ossl_conn_verify_word (conn)) : NULL;
}

EM_DEFUN (Fverify_code, "ossl--verify-code", 1, 1,
          (emacs_env *env, emacs_value _conn),
          "Return (CODE . STRING), the outcome of verifying CONN's peer "
          "as\nOpenSSL's code and text.\n\n(fn CONN)")
{
  struct ossl_conn *conn = ossl_bind_conn (env, _conn);
  const char *text;
  int code;

  if (!conn)
    return NULL;
  code = ossl_x509_verify_code (ossl_conn_verify_result (conn), &text);
  return em_cons (env, env->make_integer (env, code), em_str (env, text));
}

/* ((CODE DEPTH CERT STRING WORD)...) of the verification failures,
   first first (the shape of `ossl-ssl-status''s :verify-failures); a
   released connection has none.  */
EM_DEFUN (Fverify_failures, "ossl--verify-failures", 1, 1,
          (emacs_env *env, emacs_value _conn),
          "Return ((CODE DEPTH CERT STRING WORD)...), CONN's "
          "verification\nfailures, the first one first.\n\n(fn CONN)")
{
  struct ossl_conn *conn = ossl_bind_any_conn (env, _conn);
  emacs_value list = em_nil;
  int i;

  if (!conn)
    return NULL;
  for (i = ossl_conn_nfailures (conn) - 1; i >= 0; i--)
    {
      struct x509_st *cert;
      int depth, outcome = ossl_conn_failure (conn, i, &depth, &cert);
      const char *text;
      int code = ossl_x509_verify_code (outcome, &text);
      emacs_value items[5];

      items[0] = env->make_integer (env, code);
      items[1] = env->make_integer (env, depth);
      items[2] = cert ? ossl_make_x509 (env, cert) : em_nil;
      if (FAILED (env))
        return NULL;
      items[3] = em_str (env, text);
      items[4] = verify_word (env, outcome);
      list = em_cons (env, em_list (env, items, 5), list);
      if (FAILED (env))
        return NULL;
    }
  return list;
}

EM_DEFUN (Fverify_words, "ossl--verify-words", 0, 0,
          (emacs_env *env),
          "Return every word a verify outcome can be, `other' last.\n\n"
          "(fn)")
{
  emacs_value list = em_nil;
  size_t n = 0;

  while (ossl_x509_verify_word (n))
    n++;
  while (n-- > 0)
    {
      list = em_cons (env, em_intern (env, ossl_x509_verify_word (n)), list);
      if (FAILED (env))
        return NULL;
    }
  return list;
}

/* Verify modes, OpenSSL's SSL_VERIFY_* in words: `none' (a client
   verifies and records the outcome, a server asks for no
   certificate), `request' (a server asks for one and records the
   outcome), `require' (abort the handshake unless the peer's
   certificate verifies).  */
bool
ossl_bind_verify_mode (emacs_env *env, emacs_value v, int *mode)
{
  static const struct
  {
    const char *word;
    int mode;
  } modes[] = { { "none", OSSL_VERIFY_RECORD },
                { "request", OSSL_VERIFY_REQUEST },
                { "require", OSSL_VERIFY_ENFORCE } };
  size_t i;

  for (i = 0; i < sizeof modes / sizeof modes[0]; i++)
    if (env->eq (env, v, em_intern (env, modes[i].word)))
      {
        *mode = modes[i].mode;
        return true;
      }
  if (!FAILED (env))
    em_wrong_type (env, "ossl--verify-mode-p", v);
  return false;
}
