/* fuzz_engine.c -- libFuzzer targets for ossl's engine and parsers.

   One source, four targets (test/fuzz/fuzz-engine.sh builds each with
   -DOSSL_FUZZ_TARGET=N and clang -fsanitize=fuzzer,address,undefined):

   1 client  the engine as a TLS client fed what a server would send
   2 server  the engine as a TLS server fed what a client would send
   3 mitm    a live client and a live server of the engine, the input
             mutating every flight between them (flip, cut, insert, drop,
             repeat, split), with application data, close_notify and
             session resumption: reaches the states after the handshake
   4 parse   certificates (PEM, DER), private keys, saved sessions, ALPN
             lists and CA bundles through the parsers the module uses
   5 relay   a client and a server of the engine, once open (or, with flag
             32, from the start: held relays run the handshake), each relayed
             as a coated socket is (module/relay.c, its I/O thread
             running): the input sends from either "Emacs", passes,
             mutates or drops the ciphertext between the two real
             sockets, shuts or closes an Emacs end, pumps, finishes

   Inputs of client and server: a flags byte (which context, verify
   mode, ALPN, SNI) then chunks, each a 2-byte big-endian length and
   that many bytes, fed one feed call each.  After each feed the
   harness takes the output and, once open, writes and inspects.

   Randomness is deterministic: OpenSSL's RAND_METHOD is replaced by
   two counters-driven streams, one for the client side and one for the
   server side, reset for every input.  So a handshake recorded with
   OSSL_FUZZ_SEEDGEN=DIR (the binary writes its seeds there and exits)
   replays byte for byte in the fuzzer, and the mutations start from a
   real, complete handshake instead of failing at the first Finished.  */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "engine-impl.h"
#include "x509.h"
#if OSSL_FUZZ_TARGET == 5
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include "relay.h"
#endif

#ifndef OSSL_FUZZ_TARGET
#define OSSL_FUZZ_TARGET 1
#endif

/* Deterministic randomness.  */

enum { STREAM_INIT, STREAM_CLIENT, STREAM_SERVER, NSTREAMS };
static uint64_t rng[NSTREAMS];
static int stream;

static uint64_t
splitmix (uint64_t *s)
{
  uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static int
det_bytes (unsigned char *buf, int num)
{
  int i;
  for (i = 0; i < num; i++)
    buf[i] = (unsigned char) splitmix (&rng[stream]);
  return 1;
}

static int det_seed (const void *b, int n) { (void) b; (void) n; return 1; }
static int det_add (const void *b, int n, double e)
{ (void) b; (void) n; (void) e; return 1; }
static int det_status (void) { return 1; }

static RAND_METHOD det_method = {
  det_seed, det_bytes, NULL, det_add, det_bytes, det_status
};

static void
rng_reset (void)
{
  rng[STREAM_CLIENT] = 1;
  rng[STREAM_SERVER] = 2;
}

/* Contexts and a certificate made once, deterministically.  */

static char cert_pem[8192], key_pem[8192];
static size_t cert_len, key_len;
static struct ossl_ctx *client_ctx[4], *server_ctx[4], *sni_ctx;
static char err[OSSL_ERRLEN];
static int debug;               /* OSSL_FUZZ_DEBUG: say how inputs end */

static void
die (const char *what)
{
  fprintf (stderr, "fuzz_engine: %s: %s\n", what, err);
  ERR_print_errors_fp (stderr);
  abort ();
}

static void
make_cert (void)
{
  EVP_PKEY *key = EVP_EC_gen ("P-256");
  X509 *x = X509_new ();
  X509_NAME *name;
  BIO *b;
  char *p;
  long n;

  if (!key || !x)
    die ("key");
  X509_set_version (x, 2);
  ASN1_INTEGER_set (X509_get_serialNumber (x), 4711);
  ASN1_TIME_set_string (X509_getm_notBefore (x), "20200101000000Z");
  ASN1_TIME_set_string (X509_getm_notAfter (x), "20991231000000Z");
  X509_set_pubkey (x, key);
  name = X509_get_subject_name (x);
  X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_ASC,
                              (const unsigned char *) "localhost", -1, -1, 0);
  X509_set_issuer_name (x, name);
  if (!X509_sign (x, key, EVP_sha256 ()))
    die ("sign");
  b = BIO_new (BIO_s_mem ());
  PEM_write_bio_X509 (b, x);
  n = BIO_get_mem_data (b, &p);
  memcpy (cert_pem, p, (size_t) n);
  cert_len = (size_t) n;
  BIO_free (b);
  b = BIO_new (BIO_s_mem ());
  PEM_write_bio_PrivateKey (b, key, NULL, NULL, 0, NULL, NULL);
  n = BIO_get_mem_data (b, &p);
  memcpy (key_pem, p, (size_t) n);
  key_len = (size_t) n;
  BIO_free (b);
  X509_free (x);
  EVP_PKEY_free (key);
}

static struct ossl_ctx *
server (int min, int max)
{
  struct ossl_ctx *c = ossl_ctx_new (1, err, sizeof err);
  if (!c || ossl_ctx_use_cert (c, cert_pem, cert_len, 0, err, sizeof err)
      || ossl_ctx_use_key (c, key_pem, key_len, 0, NULL, NULL, err, sizeof err)
      || ossl_ctx_add_ca (c, "pem", cert_pem, cert_len, err, sizeof err)
      || ossl_ctx_set_versions (c, min, max, err, sizeof err))
    die ("server context");
  return c;
}

static struct ossl_ctx *
client (int min, int max, int with_cert)
{
  struct ossl_ctx *c = ossl_ctx_new (0, err, sizeof err);
  if (!c || ossl_ctx_add_ca (c, "pem", cert_pem, cert_len, err, sizeof err)
      || ossl_ctx_set_versions (c, min, max, err, sizeof err))
    die ("client context");
  if (with_cert
      && (ossl_ctx_use_cert (c, cert_pem, cert_len, 0, err, sizeof err)
          || ossl_ctx_use_key (c, key_pem, key_len, 0, NULL, NULL, err, sizeof err)))
    die ("client certificate");
  return c;
}

static void
init (void)
{
  static int done;
  if (done)
    return;
  done = 1;
  if (!RAND_set_rand_method (&det_method))
    die ("RAND_set_rand_method");
  stream = STREAM_INIT;
  rng[STREAM_INIT] = 42;
  make_cert ();
  client_ctx[0] = client (TLS1_2_VERSION, 0, 0);
  client_ctx[1] = client (TLS1_3_VERSION, TLS1_3_VERSION, 0);
  client_ctx[2] = client (TLS1_2_VERSION, TLS1_2_VERSION, 0);
  client_ctx[3] = client (TLS1_2_VERSION, 0, 1);
  server_ctx[0] = server (TLS1_2_VERSION, 0);
  server_ctx[1] = server (TLS1_3_VERSION, TLS1_3_VERSION);
  server_ctx[2] = server (TLS1_2_VERSION, TLS1_2_VERSION);
  server_ctx[3] = server (TLS1_2_VERSION, 0);
  ossl_ctx_pause_for_sni (server_ctx[3]);
  sni_ctx = server (TLS1_2_VERSION, 0);
  if (ossl_ctx_add_sni (server_ctx[0], "*.example", sni_ctx, err, sizeof err))
    die ("sni");
}

/* Exercising a connection.  */

static const unsigned char alpn_wire[] = "\x02h2\x08http/1.1";

static void
inspect_cert (X509 *x)
{
  struct ossl_x509_info info;
  char buf[128], *s;
  size_t len;
  int64_t secs;
  int neg, bits;
  unsigned char *mag;

  if (!ossl_x509_info (x, &info, err, sizeof err))
    ossl_x509_info_free (&info);
  free (ossl_x509_name (x, 0, OSSL_NAME_ONELINE));
  free (ossl_x509_name (x, 1, OSSL_NAME_RFC2253));
  free (ossl_x509_serial_hex (x));
  if (!ossl_x509_serial (x, &neg, &mag, &len))
    free (mag);
  free (ossl_x509_time_string (x, 0));
  free (ossl_x509_time_string (x, 1));
  (void) ossl_x509_time_epoch (x, 1, &secs);
  ossl_x509_signature_type (x, buf, sizeof buf);
  ossl_x509_signature_algorithm (x, buf, sizeof buf);
  ossl_x509_pubkey (x, buf, sizeof buf, &bits);
  free (ossl_x509_fingerprint (x, "SHA256"));
  if ((s = ossl_x509_text (x, &len, err, sizeof err)))
    free (s);
  if (!ossl_x509_encode (x, 1, &s, &len, err, sizeof err))
    free (s);
  if (!ossl_x509_encode (x, 0, &s, &len, err, sizeof err))
    free (s);
}

/* What a caller does with an open connection, and what the status
   display reads.  */
static void
inspect_conn (struct ossl_conn *conn)
{
  struct ossl_conn_info info;
  struct ossl_x509_list l;
  unsigned char *der;
  size_t len, i;

  ossl_conn_get_info (conn, &info);
  if (conn->ssl && !ossl_x509_peer_chain (conn->ssl, conn->server, &l, err,
                                          sizeof err))
    {
      for (i = 0; i < l.n; i++)
        inspect_cert (l.certs[i]);
      ossl_x509_list_free (&l);
    }
  if (conn->ssl && !ossl_conn_get_session (conn, &der, &len))
    free (der);
  for (i = 0; i < (size_t) conn->nfailures; i++)
    if (conn->failures[i].cert)
      inspect_cert (conn->failures[i].cert);
}

static void
drain (struct ossl_conn *conn)
{
  const char *p;
  (void) ossl_conn_pending (conn, &p);
  ossl_conn_taken (conn);
}

/* Feed one chunk, as the Lisp layer does: one engine step, then
   act on what it reports, and write once open.  The ciphertext the
   step reports stays pending for the caller.  Returns the state
   after.  */
static int
step (struct ossl_conn *conn, const unsigned char *data, size_t len,
      struct ossl_ctx *sni_choice)
{
  struct ossl_step st;

  if (!conn->ssl || conn->state == OSSL_FAILED)
    return conn->state;
  ossl_conn_step (conn, (const char *) data, len, 0, &st);
  if (st.events & OSSL_EVENT_SNI)
    {
      ossl_conn_sni_choose (conn, sni_choice);
      ossl_conn_step (conn, "", 0, 0, &st);
    }
  if ((st.events & OSSL_EVENT_HANDSHAKE) && st.state == OSSL_OPEN)
    {
      inspect_conn (conn);
      ossl_conn_write (conn, "GET / HTTP/1.0\r\n\r\n", 18);
    }
  else if (st.state == OSSL_OPEN && st.clear_len > 0)
    ossl_conn_write (conn, (const char *) st.clear,
                     st.clear_len > 64 ? 64 : st.clear_len);
  return conn->state;
}

static void
finish (struct ossl_conn *conn)
{
  struct ossl_step st;
  char *left;
  if (conn->ssl)
    {
      inspect_conn (conn);
      if (conn->state != OSSL_HANDSHAKING)
        ossl_conn_inject_ca (conn, "pem", cert_pem, cert_len, NULL, err,
                             sizeof err);
      ossl_conn_shutdown (conn);
      drain (conn);
      /* The transport ends: the engine says how.  */
      ossl_conn_step (conn, NULL, 0, 1, &st);
      if (ossl_conn_leftover (conn, &left))
        free (left);
    }
  ossl_conn_free (conn);
}

static struct ossl_conn *
new_client (unsigned flags)
{
  struct ossl_conn *c;
  stream = STREAM_CLIENT;
  c = ossl_conn_new (client_ctx[flags & 3], flags & 4 ? "localhost" : NULL,
                     flags & 8 ? OSSL_VERIFY_ENFORCE : OSSL_VERIFY_RECORD,
                     err, sizeof err);
  if (c && (flags & 16))
    ossl_conn_set_alpn (c, alpn_wire, sizeof alpn_wire - 1, err, sizeof err);
  return c;
}

static struct ossl_conn *
new_server (unsigned flags)
{
  struct ossl_conn *s;
  stream = STREAM_SERVER;
  s = ossl_conn_new (server_ctx[flags & 3], NULL, (flags >> 3) % 3, err,
                     sizeof err);
  if (s && (flags & 32))
    ossl_conn_set_alpn (s, alpn_wire, sizeof alpn_wire - 1, err, sizeof err);
  return s;
}

/* The next chunk of DATA at *POS, or 0 at the end.  */
static int
next_chunk (const uint8_t *data, size_t size, size_t *pos,
            const uint8_t **chunk, size_t *len)
{
  size_t n;
  if (*pos + 2 > size)
    return 0;
  n = ((size_t) data[*pos] << 8) | data[*pos + 1];
  *pos += 2;
  if (n > size - *pos)
    n = size - *pos;
  *chunk = data + *pos;
  *len = n;
  *pos += n;
  return 1;
}

/* Target 1 and 2: one side of the engine against recorded bytes.  */
static __attribute__ ((unused)) int
run_one_side (const uint8_t *data, size_t size, int as_server)
{
  struct ossl_conn *conn;
  const uint8_t *chunk;
  size_t pos = 1, len;
  unsigned flags;

  if (size < 1)
    return 0;
  flags = data[0];
  rng_reset ();
  conn = as_server ? new_server (flags) : new_client (flags);
  if (!conn)
    return 0;
  stream = as_server ? STREAM_SERVER : STREAM_CLIENT;
  if (!as_server)
    step (conn, NULL, 0, NULL);
  drain (conn);
  while (next_chunk (data, size, &pos, &chunk, &len))
    {
      step (conn, chunk, len, flags & 64 ? sni_ctx : NULL);
      drain (conn);
    }
  if (debug)
    fprintf (stderr, "flags %02x: state %d peer_closed %d %s\n", flags,
             conn->state, conn->peer_closed, conn->reason);
  finish (conn);
  ERR_clear_error ();
  return 0;
}

/* Target 3: client and server, the input mutating what goes between.  */

struct flight
{
  unsigned char *p;
  size_t n;
};

static void
take (struct ossl_conn *conn, struct flight *f)
{
  const char *p;
  size_t n = conn->ssl ? ossl_conn_pending (conn, &p) : 0;
  f->p = n ? malloc (n + 1) : NULL;
  f->n = f->p ? n : 0;
  if (f->p)
    memcpy (f->p, p, n);
  if (conn->ssl)
    ossl_conn_taken (conn);
}

static void
deliver (struct ossl_conn *to, int to_stream, struct flight *f,
         const uint8_t *op)
{
  size_t off = f->n ? (((size_t) op[1] << 8 | op[2]) % f->n) : 0;
  stream = to_stream;
  switch (op[0] % 10)
    {
    case 1:                     /* flip a byte */
      if (f->n)
        f->p[off] ^= op[3] | 1;
      step (to, f->p, f->n, NULL);
      break;
    case 2:                     /* cut */
      step (to, f->p, off, NULL);
      break;
    case 3:                     /* insert a byte */
      {
        unsigned char *q = malloc (f->n + 1);
        if (!q)
          break;
        if (off)
          memcpy (q, f->p, off);
        q[off] = op[3];
        if (f->n > off)
          memcpy (q + off + 1, f->p + off, f->n - off);
        step (to, q, f->n + 1, NULL);
        free (q);
      }
      break;
    case 4:                     /* drop */
      break;
    case 5:                     /* repeat */
      step (to, f->p, f->n, NULL);
      step (to, f->p, f->n, NULL);
      break;
    case 6:                     /* split in two feeds */
      step (to, f->p, off, NULL);
      step (to, f->p + off, f->n - off, NULL);
      break;
    case 7:                     /* the length of the first record */
      if (f->n >= 5)
        {
          f->p[3] = op[3];
          f->p[4] ^= op[2];
        }
      step (to, f->p, f->n, NULL);
      break;
    default:
      step (to, f->p, f->n, NULL);
    }
}

static __attribute__ ((unused)) int
run_mitm (const uint8_t *data, size_t size)
{
  static const uint8_t pass[4];
  struct ossl_conn *c, *s;
  struct flight f;
  unsigned char *session = NULL;
  size_t session_len = 0, pos = 1;
  unsigned flags;
  int round, resume;

  if (size < 1)
    return 0;
  flags = data[0];
  rng_reset ();
  for (resume = 0; resume <= ((flags & 128) ? 1 : 0); resume++)
    {
      c = new_client (flags);
      s = new_server (flags >> 2);
      if (!c || !s)
        {
          if (c) ossl_conn_free (c);
          if (s) ossl_conn_free (s);
          break;
        }
      if (session)
        ossl_conn_set_session (c, session, session_len, err, sizeof err);
      stream = STREAM_CLIENT;
      step (c, NULL, 0, NULL);
      for (round = 0; round < 24; round++)
        {
          const uint8_t *op = pos + 4 <= size ? data + pos : pass;
          pos += 4;
          take (c, &f);
          if (f.n)
            deliver (s, STREAM_SERVER, &f, op);
          free (f.p);
          take (s, &f);
          if (f.n)
            deliver (c, STREAM_CLIENT, &f, op);
          free (f.p);
          if (c->state == OSSL_OPEN && op[3] % 7 == 0)
            {
              stream = STREAM_CLIENT;
              ossl_conn_shutdown (c);
            }
          else if (s->state == OSSL_OPEN && op[3] % 7 == 1)
            {
              stream = STREAM_SERVER;
              ossl_conn_write (s, (const char *) data, size > 300 ? 300 : size);
            }
          if (c->state >= OSSL_CLOSED && s->state >= OSSL_CLOSED)
            break;
        }
      free (session);
      session = NULL;
      stream = STREAM_CLIENT;
      if (c->ssl && ossl_conn_get_session (c, &session, &session_len))
        session = NULL;
      stream = STREAM_CLIENT;
      finish (c);
      stream = STREAM_SERVER;
      finish (s);
    }
  free (session);
  ERR_clear_error ();
  return 0;
}

#if OSSL_FUZZ_TARGET == 5
/* Target 5: the relay.  */

static int channel_out = -1;

/* Read and drop what descriptor FD has now.  */
static void
sink (int fd)
{
  char buf[65536];
  while (fd >= 0 && read (fd, buf, sizeof buf) > 0)
    ;
}

/* Move what FROM has to TO, OP deciding: pass, flip a byte, cut, drop.  */
static void
wire (int from, int to, const uint8_t *op)
{
  unsigned char buf[65536];
  ssize_t n = read (from, buf, sizeof buf), off;
  if (n <= 0)
    return;
  off = (ssize_t) (((size_t) op[1] << 8 | op[2]) % (size_t) n);
  switch (op[3] % 4)
    {
    case 1:
      buf[off] ^= op[1] | 1;
      break;
    case 2:
      n = off;
      break;
    case 3:
      if (op[2] & 1)
        return;
      break;
    }
  if (n > 0 && write (to, buf, (size_t) n) < 0)
    {
      /* The relay closed its end: nothing to deliver to.  */
    }
}

static void
nonblock (int fd)
{
  fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) | O_NONBLOCK);
}

static __attribute__ ((unused)) int
run_relay (const uint8_t *data, size_t size)
{
  static const uint8_t pass[4];
  struct ossl_conn *conn[2];
  struct ossl_relay *r[2] = { NULL, NULL };
  struct flight f;
  int fd[2][2] = { { -1, -1 }, { -1, -1 } }; /* [side][0 Emacs, 1 net] */
  size_t pos = 1;
  unsigned flags;
  int round, i, waited;

  if (size < 1)
    return 0;
  flags = data[0];
  rng_reset ();
  if (channel_out < 0)
    {
      int ch[2];
      if (pipe (ch) == 0)
        {
          nonblock (ch[0]);
          channel_out = ch[0];
          ossl_relay_set_channel (ch[1]);
        }
    }
  conn[0] = new_client (flags & 0x1f);
  conn[1] = new_server ((flags >> 2) & 0x23);
  if (!conn[0] || !conn[1])
    goto out;
  stream = STREAM_CLIENT;
  /* Flag 32: relays held from the start run the handshake.  */
  if (!(flags & 32))
    step (conn[0], NULL, 0, NULL);
  for (round = 0; round < 8 && !(flags & 32); round++)
    {
      take (conn[0], &f);
      stream = STREAM_SERVER;
      if (f.n)
        step (conn[1], f.p, f.n, NULL);
      free (f.p);
      take (conn[1], &f);
      stream = STREAM_CLIENT;
      if (f.n)
        step (conn[0], f.p, f.n, NULL);
      free (f.p);
    }
  if (!(flags & 32)
      && (conn[0]->state != OSSL_OPEN || conn[1]->state != OSSL_OPEN))
    goto out;
  for (i = 0; i < 2; i++)
    {
      if (socketpair (AF_UNIX, SOCK_STREAM, 0, fd[i]) != 0)
        die ("socketpair");
      nonblock (fd[i][0]);
      nonblock (fd[i][1]);
      r[i] = ossl_relay_start (fd[i][0], conn[i], i, err, sizeof err);
      if (!r[i])
        die ("relay start");
    }
  for (round = 0; round < 64; round++)
    {
      const uint8_t *op = pos + 4 <= size ? data + pos : pass;
      int side = op[0] & 1;
      pos += 4;
      switch ((op[0] >> 1) % 8)
        {
        case 0:                 /* Emacs sends */
          if (fd[side][0] >= 0
              && write (fd[side][0], data, size > 2000 ? 2000 : size) < 0)
            {
              /* Full, or shut: as for Emacs.  */
            }
          break;
        case 1:                 /* the network, both ways */
        case 2:
          wire (fd[0][1], fd[1][1], op);
          wire (fd[1][1], fd[0][1], op);
          break;
        case 3:                 /* process-send-eof */
          if (fd[side][0] >= 0)
            shutdown (fd[side][0], SHUT_WR);
          break;
        case 4:                 /* delete-process */
          if (op[3] % 4 == 0 && fd[side][0] >= 0)
            {
              close (fd[side][0]);
              fd[side][0] = -1;
            }
          break;
        case 5:                 /* the peer's socket goes away */
          if (op[3] % 4 == 0 && fd[side][1] >= 0)
            {
              close (fd[side][1]);
              fd[side][1] = -1;
            }
          break;
        case 6:                 /* ossl-ssl-finish begins */
          if (r[side] && op[3] % 3 == 0)
            ossl_relay_shutdown (r[side]);
          break;
        case 7:                 /* Lisp resumes a held relay */
          ossl_lock ();
          if (ossl_conn_sni_request (conn[side]))
            ossl_conn_sni_choose (conn[side], NULL);
          ossl_unlock ();
          ossl_relay_resume (r[side]);
          break;
        default:
          break;
        }
      for (i = 0; i < 2; i++)
        {
          if (r[i])
            {
              ossl_relay_pump (r[i]);
              (void) ossl_relay_events (r[i]);
            }
          sink (fd[i][0]);
        }
      sink (channel_out);
    }
  for (i = 0; i < 2; i++)
    {
      if (!r[i])
        continue;
      if (flags & 128)
        {
          /* Lisp dropped the connection and the relay: the relay
             frees the connection once its descriptors are closed.  */
          if (ossl_relay_adopt (conn[i]))
            conn[i] = NULL;
          if (fd[i][0] >= 0)
            close (fd[i][0]);
          if (fd[i][1] >= 0)
            close (fd[i][1]);
          fd[i][0] = fd[i][1] = -1;
        }
      else
        {
          struct ossl_buf b[3];
          memset (b, 0, sizeof b);
          ossl_relay_stop (r[i], flags & 64, &b[0], &b[1], &b[2], err,
                           sizeof err);
          ossl_buf_free (&b[0]);
          ossl_buf_free (&b[1]);
          ossl_buf_free (&b[2]);
        }
      ossl_relay_release (r[i]);
    }
  /* Every relay is freed by the I/O thread, soon.  */
  for (waited = 0; ossl_relay_count (1) > 0; waited++)
    {
      if (waited > 5000)
        {
          fprintf (stderr, "fuzz_engine: a relay was never freed\n");
          abort ();
        }
      usleep (1000);
    }
 out:
  for (i = 0; i < 2; i++)
    {
      if (fd[i][0] >= 0)
        close (fd[i][0]);
      if (fd[i][1] >= 0)
        close (fd[i][1]);
      if (conn[i])
        ossl_conn_free (conn[i]);
    }
  sink (channel_out);
  ERR_clear_error ();
  return 0;
}
#endif

/* Target 4: the parsers.  */

static __attribute__ ((unused)) int
run_parse (const uint8_t *data, size_t size)
{
  struct ossl_x509_list l;
  struct ossl_conn *c;
  const char *p = (const char *) data + 1;
  size_t n = size ? size - 1 : 0, i;
  X509 *x;

  if (size < 1)
    return 0;
  rng_reset ();
  stream = STREAM_CLIENT;
  switch (data[0] % 7)
    {
    case 0:
      if (!ossl_x509_parse (p, n, data[0] & 8, "fuzz", &l, err, sizeof err))
        {
          for (i = 0; i < l.n; i++)
            inspect_cert (l.certs[i]);
          ossl_x509_list_free (&l);
        }
      break;
    case 1:
      if ((x = ossl_x509_from_der (p, n, err, sizeof err)))
        {
          inspect_cert (x);
          X509_free (x);
        }
      break;
    default:
      c = ossl_conn_new (data[0] & 16 ? server_ctx[0] : client_ctx[0],
                         data[0] & 32 ? "localhost" : NULL, 0, err,
                         sizeof err);
      if (!c)
        break;
      switch (data[0] % 7)
        {
        case 2:
          ossl_conn_use_cert (c, p, n, 0, err, sizeof err);
          break;
        case 3:
          /* No password: a mutated key must not make OpenSSL prompt or
             spend 2^31 PBKDF2 rounds.  */
          ossl_conn_use_key (c, p, n, 0, NULL, NULL, err, sizeof err);
          break;
        case 4:
          ossl_conn_set_session (c, (const unsigned char *) p, n, err,
                                 sizeof err);
          step (c, NULL, 0, NULL);
          break;
        case 5:
          ossl_conn_set_alpn (c, (const unsigned char *) p, n, err,
                              sizeof err);
          step (c, NULL, 0, NULL);
          break;
        default:
          ossl_conn_inject_ca (c, "pem", p, n, NULL, err, sizeof err);
        }
      finish (c);
    }
  ERR_clear_error ();
  return 0;
}

/* Seeds: real handshakes between the engine's two sides, recorded.  */

static void
write_seed (const char *dir, const char *name, const unsigned char *p,
            size_t n)
{
  char path[4096];
  FILE *f;
  snprintf (path, sizeof path, "%s/%s", dir, name);
  if ((f = fopen (path, "wb")))
    {
      fwrite (p, 1, n, f);
      fclose (f);
    }
}

struct rec
{
  unsigned char *p;
  size_t n, size;
};

static void
rec_put (struct rec *r, const void *p, size_t n)
{
  if (r->n + n > r->size)
    {
      r->size = (r->n + n) * 2 + 256;
      r->p = realloc (r->p, r->size);
      if (!r->p)
        abort ();
    }
  memcpy (r->p + r->n, p, n);
  r->n += n;
}

static void
rec_chunk (struct rec *r, const unsigned char *p, size_t n)
{
  unsigned char len[2];
  while (n > 0)
    {
      size_t k = n > 65535 ? 65535 : n;
      len[0] = (unsigned char) (k >> 8);
      len[1] = (unsigned char) k;
      rec_put (r, len, 2);
      rec_put (r, p, k);
      p += k;
      n -= k;
    }
}

/* Run a handshake and some traffic between the two sides exactly as
   the client target (RECORD_CLIENT) or the server target would drive
   its side, and record what that side received.  */
static __attribute__ ((unused)) void
seed_pair (const char *dir, unsigned flags, int as_server, int n)
{
  struct ossl_conn *c, *s, *me, *peer;
  struct rec r = { 0 };
  struct flight f;
  char name[64];
  int round, me_stream, peer_stream;
  /* The other side fits: a client certificate when the server asks,
     ALPN when the server does it.  */
  unsigned cflags = as_server ? ((flags >> 3) % 3 ? 3 : 0) | (flags & 32 ? 16 : 0)
    : flags;
  unsigned sflags = as_server ? flags : (flags & 16 ? 32 : 0);

  rng_reset ();
  c = new_client (cflags);
  s = new_server (sflags);
  if (!c || !s)
    die ("seed connections");
  me = as_server ? s : c;
  peer = as_server ? c : s;
  me_stream = as_server ? STREAM_SERVER : STREAM_CLIENT;
  peer_stream = as_server ? STREAM_CLIENT : STREAM_SERVER;
  rec_put (&r, &flags, 1);
  stream = STREAM_CLIENT;
  step (c, NULL, 0, NULL);
  if (as_server)
    {
      stream = STREAM_SERVER;
      drain (s);
    }
  for (round = 0; round < 12; round++)
    {
      stream = peer_stream;
      if (round == 6 && peer->state == OSSL_OPEN)
        ossl_conn_write (peer, "some application data\n", 23);
      if (round == 8 && peer->state == OSSL_OPEN)
        ossl_conn_shutdown (peer);
      take (peer, &f);
      stream = me_stream;
      if (f.n)
        {
          rec_chunk (&r, f.p, f.n);
          step (me, f.p, f.n, flags & 64 ? sni_ctx : NULL);
        }
      free (f.p);
      stream = me_stream;
      take (me, &f);
      stream = peer_stream;
      if (f.n)
        step (peer, f.p, f.n, NULL);
      free (f.p);
    }
  snprintf (name, sizeof name, "recorded-%s-%02x-%d",
            as_server ? "server" : "client", flags, n);
  write_seed (dir, name, r.p, r.n);
  if (me->state != OSSL_CLOSED && me->state != OSSL_OPEN)
    fprintf (stderr, "seed %s: ended in state %d (%s)\n", name, me->state,
             me->reason);
  free (r.p);
  ossl_conn_free (c);
  ossl_conn_free (s);
}

static void
seedgen (const char *dir)
{
  static const unsigned client_flags[] = { 0x00, 0x01, 0x02, 0x03, 0x04,
                                           0x0c, 0x15, 0x1d };
  static const unsigned server_flags[] = { 0x00, 0x01, 0x02, 0x08, 0x03,
                                           0x43, 0x24, 0x10 };
  unsigned char mitm[1 + 4 * 24] __attribute__ ((unused));
  size_t i;
  int n = 0;

  mkdir (dir, 0755);
#if OSSL_FUZZ_TARGET == 1 || OSSL_FUZZ_TARGET == 2
  for (i = 0; i < sizeof client_flags / sizeof client_flags[0]; i++)
    if (OSSL_FUZZ_TARGET == 1)
      seed_pair (dir, client_flags[i], 0, n++);
    else
      seed_pair (dir, server_flags[i], 1, n++);
#elif OSSL_FUZZ_TARGET == 5
  {
    /* Every op in turn, on both sides, for a few flag bytes.  */
    static const unsigned char relay_flags[] = { 0x00, 0x01, 0x02, 0x40,
                                                 0x20, 0x60,
                                                 0x80, 0x0c };
    unsigned char seed[1 + 4 * 64];
    for (i = 0; i < sizeof relay_flags; i++)
      {
        char name[32];
        size_t k;
        seed[0] = relay_flags[i];
        for (k = 0; k < 64; k++)
          {
            seed[1 + 4 * k] = (unsigned char) ((k * 5 + i) % 16);
            seed[2 + 4 * k] = (unsigned char) k;
            seed[3 + 4 * k] = (unsigned char) (k * 7);
            seed[4 + 4 * k] = (unsigned char) (k % 5 == 4 ? 0 : 4 * (k % 3));
          }
        snprintf (name, sizeof name, "recorded-relay-%zu", i);
        write_seed (dir, name, seed, sizeof seed);
      }
    (void) client_flags; (void) server_flags; (void) n; (void) mitm;
  }
#elif OSSL_FUZZ_TARGET == 3
  for (i = 0; i < 4; i++)
    {
      char name[32];
      memset (mitm, 0, sizeof mitm);
      mitm[0] = (unsigned char) (i | (i == 3 ? 128 : 0));
      snprintf (name, sizeof name, "recorded-mitm-%zu", i);
      write_seed (dir, name, mitm, sizeof mitm);
    }
  (void) client_flags; (void) server_flags; (void) n;
#else
  {
    unsigned char buf[16384];
    struct ossl_conn *c;
    unsigned char *der = NULL;
    size_t len;
    buf[0] = 0;
    memcpy (buf + 1, cert_pem, cert_len);
    write_seed (dir, "cert-pem", buf, cert_len + 1);
    buf[0] = 3;
    memcpy (buf + 1, key_pem, key_len);
    write_seed (dir, "key-pem", buf, key_len + 1);
    buf[0] = 6;
    memcpy (buf + 1, cert_pem, cert_len);
    write_seed (dir, "ca-pem", buf, cert_len + 1);
    buf[0] = 5;
    memcpy (buf + 1, alpn_wire, sizeof alpn_wire - 1);
    write_seed (dir, "alpn", buf, sizeof alpn_wire);
    {
      X509 *x;
      struct ossl_x509_list l;
      char *out;
      if (!ossl_x509_parse (cert_pem, cert_len, 1, "seed", &l, err, sizeof err))
        {
          x = l.certs[0];
          if (!ossl_x509_encode (x, 0, &out, &len, err, sizeof err))
            {
              buf[0] = 1;
              memcpy (buf + 1, out, len);
              write_seed (dir, "cert-der", buf, len + 1);
              buf[0] = 0;
              write_seed (dir, "cert-der-as-data", buf, len + 1);
              free (out);
            }
          ossl_x509_list_free (&l);
        }
    }
    /* A saved session from a real handshake.  */
    rng_reset ();
    c = new_client (0);
    {
      struct ossl_conn *s = new_server (0);
      struct flight f;
      int round;
      stream = STREAM_CLIENT;
      step (c, NULL, 0, NULL);
      for (round = 0; round < 8; round++)
        {
          take (c, &f);
          stream = STREAM_SERVER;
          if (f.n) step (s, f.p, f.n, NULL);
          free (f.p);
          take (s, &f);
          stream = STREAM_CLIENT;
          if (f.n) step (c, f.p, f.n, NULL);
          free (f.p);
        }
      if (!ossl_conn_get_session (c, &der, &len) && len < sizeof buf - 1)
        {
          buf[0] = 4;
          memcpy (buf + 1, der, len);
          write_seed (dir, "session-der", buf, len + 1);
        }
      free (der);
      ossl_conn_free (s);
    }
    ossl_conn_free (c);
    (void) client_flags; (void) server_flags; (void) n; (void) mitm; (void) i;
  }
#endif
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  const char *dir = getenv ("OSSL_FUZZ_SEEDGEN");
  (void) argc; (void) argv;
  debug = getenv ("OSSL_FUZZ_DEBUG") != NULL;
#if OSSL_FUZZ_TARGET == 5
  /* The harness writes to sockets the relay closed; the relay itself
     never raises it (MSG_NOSIGNAL, its thread blocks signals).  */
  signal (SIGPIPE, SIG_IGN);
#endif
  init ();
  if (dir && *dir)
    {
      seedgen (dir);
      exit (0);
    }
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
#if OSSL_FUZZ_TARGET == 1
  return run_one_side (data, size, 0);
#elif OSSL_FUZZ_TARGET == 2
  return run_one_side (data, size, 1);
#elif OSSL_FUZZ_TARGET == 3
  return run_mitm (data, size);
#elif OSSL_FUZZ_TARGET == 5
  return run_relay (data, size);
#else
  return run_parse (data, size);
#endif
}
