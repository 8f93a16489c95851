/* bind-relay.c -- the ossl--relay- primitives: TLS under a socket's
   descriptor (relay.c), seen from Lisp.

   Argument checks and Lisp conversions only.  Every primitive runs
   with the module lock held (em_defun), so the I/O thread is never
   inside a relay or its connection meanwhile.  */

#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/un.h>
#include <unistd.h>

#include "bindings.h"
#include "relay.h"


static void
ossl_relay_fin (void *p) EMACS_NOEXCEPT
{
  ossl_relay_release (p);
}

static struct ossl_relay *
bind_relay (emacs_env *env, emacs_value v)
{
  return em_user_ptr (env, v, ossl_relay_fin, "ossl--relay-p");
}

/* The address in V as `process-contact' gives it: a vector [A B C D
   PORT] or [W1 ... W8 PORT], or a local socket's name (a string).
   Returns its length, 0 after signalling.  */
static socklen_t
sockaddr_of (emacs_env *env, emacs_value v, struct sockaddr_storage *ss)
{
  long parts[9];
  ptrdiff_t n, i;

  memset (ss, 0, sizeof *ss);
  if (env->eq (env, env->type_of (env, v), env->intern (env, "string")))
    {
      struct sockaddr_un *un = (struct sockaddr_un *) ss;
      char *name = em_string (env, v, &n);
      if (!name)
        return 0;
      if ((size_t) n > sizeof un->sun_path)
        {
          free (name);
          em_wrong_type (env, "ossl--socket-name-p", v);
          return 0;
        }
      un->sun_family = AF_UNIX;
      memcpy (un->sun_path, name, (size_t) n);
      free (name);
      return (socklen_t) (offsetof (struct sockaddr_un, sun_path) + n);
    }
  if (!env->eq (env, env->type_of (env, v), env->intern (env, "vector")))
    {
      em_wrong_type (env, "vectorp", v);
      return 0;
    }
  n = env->vec_size (env, v);
  if (n != 5 && n != 9)
    {
      em_wrong_type (env, "ossl--inet-address-p", v);
      return 0;
    }
  for (i = 0; i < n; i++)
    if (!em_int (env, env->vec_get (env, v, i), 0,
                 i == n - 1 || n == 9 ? 65535 : 255, &parts[i]))
      return 0;
  if (n == 5)
    {
      struct sockaddr_in *in = (struct sockaddr_in *) ss;
      unsigned char *a = (unsigned char *) &in->sin_addr;
      in->sin_family = AF_INET;
      for (i = 0; i < 4; i++)
        a[i] = (unsigned char) parts[i];
      in->sin_port = htons ((uint16_t) parts[4]);
      return sizeof *in;
    }
  {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) ss;
    unsigned char *a = (unsigned char *) &in6->sin6_addr;
    in6->sin6_family = AF_INET6;
    for (i = 0; i < 8; i++)
      {
        a[2 * i] = (unsigned char) (parts[i] >> 8);
        a[2 * i + 1] = (unsigned char) (parts[i] & 0xff);
      }
    in6->sin6_port = htons ((uint16_t) parts[8]);
    return sizeof *in6;
  }
}

EM_DEFUN (Frelay_find, "ossl--relay-find", 2, 2,
          (emacs_env *env, emacs_value _local, emacs_value _remote),
          "Return the descriptor of the socket from LOCAL to REMOTE.\n"
          "Addresses are as `process-contact' gives them: vectors, or "
          "strings\nfor local sockets.  "
          "Return nil\nwhen there is none, `ambiguous' when there are "
          "several.\n\n(fn LOCAL REMOTE)")
{
  struct sockaddr_storage local, peer;
  socklen_t llen, plen;
  int fd;

  if (!(llen = sockaddr_of (env, _local, &local))
      || !(plen = sockaddr_of (env, _remote, &peer)))
    return NULL;
  fd = ossl_relay_find ((struct sockaddr *) &local, llen,
                        (struct sockaddr *) &peer, plen);
  if (fd == -2)
    return em_intern (env, "ambiguous");
  return fd < 0 ? em_nil : env->make_integer (env, fd);
}

EM_DEFUN (Frelay_channel, "ossl--relay-channel", 1, 1,
          (emacs_env *env, emacs_value _pipe_process),
          "Send relay events to PIPE-PROCESS, a pipe process.\n\n"
          "(fn PIPE-PROCESS)")
{
  int fd;

  fd = env->open_channel (env, _pipe_process);
  if (env->non_local_exit_check (env) != emacs_funcall_exit_return)
    return NULL;
  ossl_relay_set_channel (fd);
  return em_t;
}

EM_DEFUN (Frelay_start, "ossl--relay-start", 3, 3,
          (emacs_env *env, emacs_value _fd, emacs_value _conn,
           emacs_value _id),
          "Relay descriptor FD through connection CONN; return the "
          "relay.\nEvents name the relay by ID.  A CONN still "
          "handshaking is held: its\nhandshake runs on the I/O "
          "thread, Emacs's side waits until\n`ossl--relay-resume'.\n\n"
          "(fn FD CONN ID)")
{
  char err[OSSL_ERRLEN];
  struct ossl_conn *conn;
  struct ossl_relay *r;
  long fd, id;

  if (!em_int (env, _fd, 0, 1 << 30, &fd)
      || !(conn = ossl_bind_conn (env, _conn))
      || !em_int (env, _id, 0, 1L << 30, &id))
    return NULL;
  r = ossl_relay_start ((int) fd, conn, id, err, sizeof err);
  if (!r)
    {
      em_signal (env, "ossl-error", err);
      return NULL;
    }
  return env->make_user_ptr (env, ossl_relay_fin, r);
}

EM_DEFUN (Frelay_events, "ossl--relay-events", 1, 1,
          (emacs_env *env, emacs_value _relay),
          "Return and clear RELAY's events, a bit mask: 1 failed, 2 "
          "peer closed,\n4 end of the socket, 8 done, 16 handshake "
          "ended, 32 SNI choice\nwanted.\n\n(fn RELAY)")
{
  struct ossl_relay *r = bind_relay (env, _relay);
  return r ? env->make_integer (env, ossl_relay_events (r)) : NULL;
}

EM_DEFUN (Frelay_resume, "ossl--relay-resume", 1, 1,
          (emacs_env *env, emacs_value _relay),
          "Go on with held RELAY: its handshake after an SNI choice, or, "
          "once\nthe handshake ended open, Emacs's side.\n\n(fn RELAY)")
{
  struct ossl_relay *r = bind_relay (env, _relay);
  if (!r)
    return NULL;
  ossl_relay_resume (r);
  return em_t;
}

EM_DEFUN (Frelay_pump, "ossl--relay-pump", 1, 1,
          (emacs_env *env, emacs_value _relay),
          "Serve RELAY now: what Emacs sent or shut reaches its "
          "connection.\n\n(fn RELAY)")
{
  struct ossl_relay *r = bind_relay (env, _relay);
  if (!r)
    return NULL;
  ossl_relay_pump (r);
  return em_t;
}

EM_DEFUN (Frelay_shutdown, "ossl--relay-shutdown", 1, 1,
          (emacs_env *env, emacs_value _relay),
          "Make RELAY send close_notify, before the socket goes back."
          "\n\n(fn RELAY)")
{
  struct ossl_relay *r = bind_relay (env, _relay);
  if (!r)
    return NULL;
  ossl_relay_shutdown (r);
  return em_t;
}

EM_DEFUN (Frelay_stop, "ossl--relay-stop", 2, 2,
          (emacs_env *env, emacs_value _relay, emacs_value _restore),
          "Stop RELAY; with RESTORE put the socket back in place.\n"
          "Return (TO-EMACS FROM-EMACS TO-NET RESTORED): the cleartext "
          "Emacs\nhad not read, the cleartext Emacs sent that was not "
          "encrypted, the\nciphertext not sent, and whether the socket "
          "is back.\n\n(fn RELAY RESTORE)")
{
  char err[OSSL_ERRLEN];
  struct ossl_relay *r = bind_relay (env, _relay);
  struct ossl_buf bufs[3];
  emacs_value items[4];
  int rc, i;

  if (!r)
    return NULL;
  memset (bufs, 0, sizeof bufs);
  rc = ossl_relay_stop (r, !em_nilp (env, _restore), &bufs[0], &bufs[1],
                        &bufs[2], err, sizeof err);
  for (i = 0; i < 3; i++)
    {
      items[i] = em_unibyte (env, bufs[i].data, bufs[i].len);
      ossl_buf_free (&bufs[i]);
    }
  if (rc < 0)
    {
      em_signal (env, "ossl-error", err);
      return NULL;
    }
  items[3] = rc > 0 ? em_t : em_nil;
  return em_list (env, items, 4);
}

EM_DEFUN (Frelay_count, "ossl--relay-count", 0, 1,
          (emacs_env *env, emacs_value _all),
          "Return how many relays still serve; with ALL, how many are "
          "not freed.\n\n(fn &optional ALL)")
{
  return env->make_integer (env, ossl_relay_count (!em_nilp (env, _all)));
}


/* For the tests, beside ossl--relay-count: the bytes malloc has handed
   out and not had back, in every arena (the I/O thread's too).  nil
   when another allocator serves malloc (AddressSanitizer, valgrind),
   which glibc's figures then do not see: a 64 KiB block must show.  */
EM_DEFUN (Fheap_in_use, "ossl--heap-in-use", 0, 0,
          (emacs_env *env),
          "Return the bytes of C heap in use, or nil when unknown.\n"
          "For the tests.\n\n(fn)")
{
  struct mallinfo2 before = mallinfo2 (), after;
  size_t n = 65536;
  char *volatile p = malloc (n);

  if (!p)
    return em_nil;
  memset (p, 1, n);
  after = mallinfo2 ();
  free (p);
  if (after.uordblks + after.hblkhd < before.uordblks + before.hblkhd + n)
    return em_nil;
  return env->make_integer (env, (intmax_t) (before.uordblks
                                             + before.hblkhd));
}
