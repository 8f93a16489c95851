/* relay.c -- TLS under a socket's descriptor, on one I/O thread.

   See relay.h.  The I/O thread's loop: under the module lock, build
   the poll set from what every relay can take or give; poll without
   the lock; under the lock again, serve the relays that are ready.
   Every descriptor here is non-blocking, so serving never waits, and
   a relay reads from one side only when its buffer toward the other
   side is empty: backpressure, not growth.  */

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "relay.h"
#include "engine-impl.h"

/* Bytes read from either side at once.  */
#define OSSL_RELAY_CHUNK 65536
/* Ciphertext held for the socket at most before the relay stops
   reading Emacs's cleartext (plus one chunk's worth).  */
#define OSSL_RELAY_MAX_TO_NET (4 * OSSL_RELAY_CHUNK)
/* Each end of the socketpair may hold this much, where the kernel
   allows: an Emacs whose send finds the socketpair full sleeps (up to
   20 ms), so the pair must absorb its bursts.  */
#define OSSL_RELAY_PAIR_BUFFER (4 << 20)
/* Raw bytes after the peer's close_notify kept for the caller at most
   (what a protocol going on in clear sent early).  */
#define OSSL_RELAY_MAX_LEFTOVER (1 << 20)

struct ossl_relay
{
  struct ossl_relay *next;
  struct ossl_conn *conn;       /* NULL once the relay is done */
  long id;
  int fd;                       /* the process's descriptor (Emacs's end) */
  int real;                     /* the socket, -1 once closed */
  int mine;                     /* our end of the socketpair, or -1 */
  dev_t dev;                    /* Emacs's end, to know it again */
  ino_t ino;
  int status_flags;             /* the socket's own O_ flags */
  int cloexec;
  struct ossl_buf to_emacs;     /* cleartext for Emacs */
  struct ossl_buf to_net;       /* ciphertext for the peer */
  unsigned net_eof : 1;         /* no more reading from the socket */
  unsigned emacs_eof : 1;       /* no more reading from Emacs */
  unsigned emacs_eof_sent : 1;  /* Emacs was given its end of file */
  unsigned emacs_gone : 1;      /* Emacs closed its end */
  unsigned shut_net : 1;        /* half-close the socket once flushed */
  unsigned net_shut : 1;        /* ... done */
  unsigned finishing : 1;       /* the socket goes back after close_notify */
  unsigned peer_closed_seen : 1;
  unsigned lisp_gone : 1;       /* Lisp dropped the relay */
  unsigned own_conn : 1;        /* Lisp dropped the connection: ours */
  unsigned done : 1;            /* descriptors closed */
  unsigned notify_pending : 1;  /* the channel must hear of it */
  unsigned held : 1;            /* handshaking: Emacs's side waits */
  int events;                   /* OSSL_RELAY_*, for Lisp */
};

static pthread_mutex_t lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
/* How many times the calling thread holds the lock.  */
static __thread int held;
static struct ossl_relay *relays;
static int nrelays;
static int channel = -1;
/* Emacs may be waiting for room in a socketpair: poke it.  */
static int poke;
static int wake[2] = { -1, -1 };
static int thread_started;

void
ossl_lock (void)
{
  pthread_mutex_lock (&lock);
  held++;
}

void
ossl_unlock (void)
{
  held--;
  pthread_mutex_unlock (&lock);
}

int
ossl_lock_release (void)
{
  int n = held;
  while (held > 0)
    ossl_unlock ();
  return n;
}

void
ossl_lock_resume (int n)
{
  while (n-- > 0)
    ossl_lock ();
}

int
ossl_relay_running (void)
{
  return thread_started;
}

/* Buffers.  */

void
ossl_buf_free (struct ossl_buf *b)
{
  free (b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

static int
buf_add (struct ossl_buf *b, const char *p, size_t n)
{
  if (n == 0)
    return 0;
  if (b->len + n > b->cap)
    {
      size_t cap = b->cap ? b->cap : 16384;
      char *q;
      while (cap < b->len + n)
        cap *= 2;
      q = realloc (b->data, cap);
      if (!q)
        return -1;
      b->data = q;
      b->cap = cap;
    }
  memcpy (b->data + b->len, p, n);
  b->len += n;
  return 0;
}

/* Drop the first N bytes of B.  An empty buffer is freed: an idle
   relay holds no buffer (a busy one allocates one per chunk, which
   costs little beside the chunk's encryption).  */
static void
buf_drop (struct ossl_buf *b, size_t n)
{
  memmove (b->data, b->data + n, b->len - n);
  b->len -= n;
  if (b->len == 0)
    ossl_buf_free (b);
}

static void
set_error (char *err, size_t errlen, const char *what)
{
  snprintf (err, errlen, "%s: %s", what, strerror (errno));
}

static void
wake_thread (void)
{
  char c = 0;
  if (wake[1] >= 0 && write (wake[1], &c, 1) < 0)
    {
      /* Full: the thread is awake anyway.  */
    }
}

static int
set_nonblock (int fd)
{
  int fl = fcntl (fd, F_GETFL);
  return fl < 0 ? -1 : fcntl (fd, F_SETFL, fl | O_NONBLOCK);
}

/* FD, or a copy of it at FD_SETSIZE or above (closing FD).  */
static int
move_high (int fd)
{
  int high = fcntl (fd, F_DUPFD_CLOEXEC, FD_SETSIZE);
  if (high < 0)
    return fd;
  close (fd);
  return high;
}

/* Would descriptor FD leave Emacs too few of its own?  Emacs keeps its
   descriptors below FD_SETSIZE (it lowers its limit to that), so a
   relay takes none of the last OSSL_RELAY_FD_RESERVE.  */
#define OSSL_RELAY_FD_RESERVE 256
static int
scarce (int fd)
{
  return fd < FD_SETSIZE && fd >= FD_SETSIZE - OSSL_RELAY_FD_RESERVE;
}

/* Finding the socket.  */

/* The name of the local socket address SA of LEN bytes, as Emacs
   shows it: up to the first NUL, unless it starts with one (a Linux
   abstract name, NULs and all).  Returns its length.  */
static size_t
unix_name (const struct sockaddr *sa, socklen_t len, const char **name)
{
  const struct sockaddr_un *un = (const void *) sa;
  size_t n = len > offsetof (struct sockaddr_un, sun_path)
    ? len - offsetof (struct sockaddr_un, sun_path) : 0;
  if (n > sizeof un->sun_path)
    n = sizeof un->sun_path;
  *name = un->sun_path;
  if (n > 0 && un->sun_path[0] != '\0')
    {
      const char *nul = memchr (un->sun_path, '\0', n);
      if (nul)
        n = (size_t) (nul - un->sun_path);
    }
  return n;
}

static int
same_addr (const struct sockaddr_storage *a, socklen_t alen,
           const struct sockaddr *b, socklen_t blen)
{
  if (a->ss_family != b->sa_family)
    return 0;
  if (b->sa_family == AF_UNIX)
    {
      const char *x, *y;
      size_t n = unix_name ((const struct sockaddr *) a, alen, &x);
      return n == unix_name (b, blen, &y) && memcmp (x, y, n) == 0;
    }
  if (b->sa_family == AF_INET)
    {
      const struct sockaddr_in *x = (const void *) a, *y = (const void *) b;
      return x->sin_port == y->sin_port
        && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
  if (b->sa_family == AF_INET6)
    {
      const struct sockaddr_in6 *x = (const void *) a, *y = (const void *) b;
      return x->sin6_port == y->sin6_port
        && memcmp (&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
    }
  return 0;
}

/* Is FD one of the relays' own sockets?  */
static int
relays_own (int fd)
{
  struct ossl_relay *r;
  for (r = relays; r; r = r->next)
    if (!r->done && (fd == r->real || fd == r->mine))
      return 1;
  return 0;
}

/* Does descriptor FD hold a connected stream socket from LOCAL to PEER?
   The relays' own sockets never do: a relayed connection's real socket
   keeps its addresses, and local sockets share theirs.  */
static int
fd_matches (int fd, const struct sockaddr *local, socklen_t locallen,
            const struct sockaddr *peer, socklen_t peerlen)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  int type;
  socklen_t tlen = sizeof type;

  /* The addresses first: they rule out nearly every descriptor, and
     the list of relays is long when many sockets are relayed.  */
  if (getsockname (fd, (struct sockaddr *) &ss, &len) != 0
      || !same_addr (&ss, len, local, locallen))
    return 0;
  len = sizeof ss;
  if (getpeername (fd, (struct sockaddr *) &ss, &len) != 0
      || !same_addr (&ss, len, peer, peerlen))
    return 0;
  return getsockopt (fd, SOL_SOCKET, SO_TYPE, &type, &tlen) == 0
    && type == SOCK_STREAM && !relays_own (fd);
}

int
ossl_relay_find (const struct sockaddr *local, socklen_t locallen,
                 const struct sockaddr *peer, socklen_t peerlen)
{
  int found = -1;
  DIR *d;

  if ((local->sa_family != AF_INET && local->sa_family != AF_INET6
       && local->sa_family != AF_UNIX)
      || peer->sa_family != local->sa_family
      || locallen < (local->sa_family == AF_UNIX
                     ? offsetof (struct sockaddr_un, sun_path)
                     : sizeof (struct sockaddr_in))
      || peerlen < (local->sa_family == AF_UNIX
                    ? offsetof (struct sockaddr_un, sun_path)
                    : sizeof (struct sockaddr_in)))
    return -1;
  ossl_lock ();
  d = opendir ("/proc/self/fd");
  if (d)
    {
      struct dirent *e;
      int self = dirfd (d);
      while ((e = readdir (d)))
        {
          char *end;
          long fd = strtol (e->d_name, &end, 10);
          if (*end || end == e->d_name || fd == self || fd < 0)
            continue;
          if (fd_matches ((int) fd, local, locallen, peer, peerlen))
            {
              if (found >= 0)
                {
                  found = -2;
                  break;
                }
              found = (int) fd;
            }
        }
      closedir (d);
      ossl_unlock ();
      return found;
    }
  /* No /proc: every descriptor below the limit.  */
  {
    struct rlimit rl;
    long max = 1024, fd;
    if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
      max = rl.rlim_cur > 65536 ? 65536 : (long) rl.rlim_cur;
    for (fd = 0; fd < max; fd++)
      if (fd_matches ((int) fd, local, locallen, peer, peerlen))
        {
          if (found >= 0)
            {
              found = -2;
              break;
            }
          found = (int) fd;
        }
  }
  ossl_unlock ();
  return found;
}

void
ossl_relay_set_channel (int fd)
{
  ossl_lock ();
  if (channel >= 0)
    close (channel);
  channel = fd;
  if (fd >= 0)
    {
      set_nonblock (fd);
      fcntl (fd, F_SETFD, FD_CLOEXEC);
    }
  ossl_unlock ();
}

/* Serving one relay (the lock held).  */

static void
notify (struct ossl_relay *r, int ev)
{
  if ((r->events & ev) == ev && !(ev & OSSL_RELAY_FAILED))
    return;
  r->events |= ev;
  if (ev & OSSL_RELAY_WAKE)
    r->notify_pending = 1;
}

/* Move what the engine has for the network to the relay's buffer.  */
static void
take_records (struct ossl_relay *r)
{
  const char *p;
  size_t n;
  if (!r->conn || !r->conn->ssl)
    return;
  n = ossl_conn_pending (r->conn, &p);
  if (n > 0 && buf_add (&r->to_net, p, n) == 0)
    ossl_conn_taken (r->conn);
}

static int
want_net_read (struct ossl_relay *r)
{
  struct ossl_conn *c = r->conn;
  if (r->net_eof || r->to_emacs.len > 0 || !c || !c->ssl)
    return 0;
  if (c->state == OSSL_FAILED || c->sni_pending)
    return 0;
  if (c->peer_closed)
    return !r->finishing
      && BIO_ctrl_pending (c->rbio) < OSSL_RELAY_MAX_LEFTOVER;
  return 1;
}

static int
want_emacs_read (struct ossl_relay *r)
{
  return !r->held && !r->emacs_eof && r->to_net.len < OSSL_RELAY_MAX_TO_NET
    && r->conn != NULL;
}

static void
close_all (struct ossl_relay *r)
{
  if (r->real >= 0)
    close (r->real);
  if (r->mine >= 0)
    close (r->mine);
  r->real = r->mine = -1;
  if (r->own_conn)
    ossl_conn_free (r->conn);
  r->conn = NULL;
  r->done = 1;
  ossl_buf_free (&r->to_emacs);
  ossl_buf_free (&r->to_net);
  notify (r, OSSL_RELAY_DONE);
}

/* The engine failed: send its alert, give Emacs its end of file, take
   nothing more from either side.  */
static void
broken (struct ossl_relay *r)
{
  take_records (r);
  notify (r, OSSL_RELAY_FAILED);
  r->net_eof = 1;
  r->shut_net = 1;
  if (!r->emacs_eof)
    {
      r->emacs_eof = 1;
      shutdown (r->mine, SHUT_RD);
    }
}

/* Send what B holds to FD: 1 when some went, 0 when FD would block,
   -1 when FD's peer is gone (B is then emptied: what was for it is
   lost, as with a plain socket).  */
static int
send_buf (int fd, struct ossl_buf *b)
{
  ssize_t n;
  if (b->len == 0 || fd < 0)
    return 0;
  n = send (fd, b->data, b->len, MSG_NOSIGNAL);
  if (n > 0)
    {
      buf_drop (b, (size_t) n);
      return 1;
    }
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    return 0;
  ossl_buf_free (b);
  return -1;
}

static int
flush_net (struct ossl_relay *r)
{
  int rc = send_buf (r->real, &r->to_net);
  if (rc < 0)
    {
      r->net_eof = 1;
      notify (r, OSSL_RELAY_NET_EOF);
    }
  return rc != 0;
}

static int
flush_emacs (struct ossl_relay *r)
{
  int rc = r->held ? 0 : send_buf (r->mine, &r->to_emacs);
  if (rc < 0)
    r->emacs_gone = 1;
  return rc != 0;
}

/* A held relay's handshake failed: its alert goes out, then nothing
   more from the socket; the socket stays open and Emacs is told
   nothing, for Lisp to decide (close the process, or take the socket
   back).  */
static void
handshake_failed (struct ossl_relay *r)
{
  take_records (r);
  r->net_eof = 1;
}

/* One step of the engine (engine.h): LEN bytes from the socket, or
   with EOF its end.  The cleartext goes toward Emacs, the records
   toward the socket, and what happened toward Lisp.  */
static void
step (struct ossl_relay *r, const char *data, size_t len, int eof)
{
  struct ossl_conn *c = r->conn;
  struct ossl_step st;
  int rc = ossl_conn_step (c, data, len, eof, &st);

  if (buf_add (&r->to_emacs, (const char *) st.clear, st.clear_len) != 0)
    {
      snprintf (c->reason, sizeof c->reason, "out of memory");
      c->state = OSSL_FAILED;
      rc = -1;
    }
  take_records (r);
  if (st.events & OSSL_EVENT_SNI)
    notify (r, OSSL_RELAY_SNI);
  if (st.events & OSSL_EVENT_HANDSHAKE)
    notify (r, OSSL_RELAY_HANDSHAKE);
  if (rc < 0 && (st.events & OSSL_EVENT_HANDSHAKE))
    handshake_failed (r);
  else if (rc < 0)
    broken (r);
  else if (c->peer_closed && !r->peer_closed_seen)
    {
      r->peer_closed_seen = 1;
      notify (r, OSSL_RELAY_PEER_CLOSED);
    }
}

static int
read_net (struct ossl_relay *r, char *buf)
{
  ssize_t n;

  if (!want_net_read (r))
    return 0;
  n = recv (r->real, buf, OSSL_RELAY_CHUNK, 0);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    return 0;
  if (n <= 0)
    {
      /* The engine tells a clean end from a truncation, and a
         handshake cut short fails.  */
      r->net_eof = 1;
      notify (r, OSSL_RELAY_NET_EOF);
      step (r, "", 0, 1);
      return 1;
    }
  step (r, buf, (size_t) n, 0);
  return 1;
}

static int
read_emacs (struct ossl_relay *r, char *buf)
{
  struct ossl_conn *c = r->conn;
  ssize_t n;

  if (!want_emacs_read (r))
    return 0;
  n = recv (r->mine, buf, OSSL_RELAY_CHUNK, 0);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    return 0;
  if (n <= 0)
    {
      /* process-send-eof, or delete-process: close_notify, then the
         socket's own end of file.  */
      r->emacs_eof = 1;
      if (n < 0)
        r->emacs_gone = 1;
      if (!r->net_eof && c->ssl && c->state == OSSL_OPEN
          && ossl_conn_shutdown (c) == 0)
        take_records (r);
      r->shut_net = !r->finishing;
      return 1;
    }
  /* Much at once: the socketpair may have been full, and an Emacs
     whose send found it so waits 20 ms, or until some process has
     output: the channel's.  */
  if (n >= OSSL_RELAY_CHUNK / 4)
    poke = 1;
  if (c->ssl && c->state == OSSL_OPEN)
    {
      if (ossl_conn_write (c, buf, (size_t) n) != 0)
        broken (r);
      take_records (r);
    }
  else
    {
      /* Closed for writing: Emacs's next send fails, as on a socket
         the peer shut.  */
      r->emacs_eof = 1;
      shutdown (r->mine, SHUT_RD);
    }
  return 1;
}

static void
serve (struct ossl_relay *r, short mine_revents)
{
  static char buf[OSSL_RELAY_CHUNK];
  int progress = 1;

  if (r->done || !r->conn)
    return;
  while (progress && !r->emacs_gone)
    {
      progress = flush_net (r);
      progress |= flush_emacs (r);
      progress |= read_net (r, buf);
      progress |= read_emacs (r, buf);
      if (r->net_eof && r->to_emacs.len == 0 && !r->emacs_eof_sent
          && !r->finishing && !r->held)
        {
          shutdown (r->mine, SHUT_WR);
          r->emacs_eof_sent = 1;
        }
      if (r->shut_net && !r->net_shut && r->to_net.len == 0)
        {
          shutdown (r->real, SHUT_WR);
          r->net_shut = 1;
        }
    }
  if (mine_revents & (POLLHUP | POLLERR))
    r->emacs_gone = 1;
  if (r->emacs_gone)
    {
      /* delete-process: close_notify, best effort, and nothing more.  */
      struct ossl_conn *c = r->conn;
      if (!r->net_eof && c->ssl && c->state == OSSL_OPEN
          && ossl_conn_shutdown (c) == 0)
        take_records (r);
      flush_net (r);
      close_all (r);
    }
  else if (r->emacs_eof && r->emacs_eof_sent && r->net_shut
           && r->to_net.len == 0)
    close_all (r);
}

/* The thread.  */

static void
send_notifications (int *pending)
{
  struct ossl_relay *r;
  *pending = 0;
  if (poke && channel >= 0 && write (channel, "\n", 1) == 1)
    poke = 0;
  for (r = relays; r; r = r->next)
    if (r->notify_pending && !r->lisp_gone)
      {
        char line[32];
        int n = snprintf (line, sizeof line, "%ld\n", r->id);
        if (channel >= 0 && write (channel, line, (size_t) n) == n)
          r->notify_pending = 0;
        else if (channel >= 0 && errno == EAGAIN)
          *pending = 1;
        else
          r->notify_pending = 0;
      }
}

static void
reap (void)
{
  struct ossl_relay **p = &relays;
  while (*p)
    {
      struct ossl_relay *r = *p;
      if (r->done && r->lisp_gone)
        {
          *p = r->next;
          free (r);
          nrelays--;
        }
      else
        p = &r->next;
    }
}

static void *
loop (void *arg)
{
  struct pollfd *pfd = NULL;
  struct ossl_relay **who = NULL;
  size_t cap = 0;
  (void) arg;

  for (;;)
    {
      size_t n = 1, i;
      int pending;
      struct ossl_relay *r;

      ossl_lock ();
      reap ();
      send_notifications (&pending);
      if (cap < 1 + 2 * (size_t) nrelays)
        {
          size_t want = 2 + 4 * (size_t) nrelays;
          struct pollfd *p2 = realloc (pfd, want * sizeof *pfd);
          struct ossl_relay **w2;
          if (p2)
            pfd = p2;
          w2 = realloc (who, want * sizeof *who);
          if (w2)
            who = w2;
          if (p2 && w2)
            cap = want;
        }
      pfd[0].fd = wake[0];
      pfd[0].events = POLLIN;
      who[0] = NULL;
      for (r = relays; r && n + 2 <= cap; r = r->next)
        {
          short ev;
          if (r->done || !r->conn)
            continue;
          ev = (want_net_read (r) ? POLLIN : 0)
            | (r->to_net.len ? POLLOUT : 0);
          pfd[n].fd = ev ? r->real : -1;
          pfd[n].events = ev;
          who[n++] = r;
          pfd[n].fd = r->mine;
          pfd[n].events = (want_emacs_read (r) ? POLLIN : 0)
            | (r->to_emacs.len ? POLLOUT : 0);
          who[n++] = r;
        }
      ossl_unlock ();

      for (i = 0; i < n; i++)
        pfd[i].revents = 0;
      if (poll (pfd, n, pending ? 20 : -1) < 0 && errno != EINTR)
        continue;
      if (pfd[0].revents)
        {
          char drain[256];
          while (read (wake[0], drain, sizeof drain) > 0)
            ;
        }

      ossl_lock ();
      for (i = 1; i + 1 < n; i += 2)
        if (pfd[i].revents || pfd[i + 1].revents)
          serve (who[i], pfd[i + 1].revents);
      ossl_unlock ();
    }
  return NULL;
}

static int
start_thread (char *err, size_t errlen)
{
  pthread_t t;
  sigset_t all, old;
  int rc;

  if (thread_started)
    return 0;
  if (pipe2 (wake, O_CLOEXEC | O_NONBLOCK) != 0)
    {
      set_error (err, errlen, "cannot make the relay's wake-up pipe");
      return -1;
    }
  /* Emacs's signals stay on Emacs's thread.  */
  sigfillset (&all);
  pthread_sigmask (SIG_SETMASK, &all, &old);
  rc = pthread_create (&t, NULL, loop, NULL);
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  if (rc != 0)
    {
      errno = rc;
      set_error (err, errlen, "cannot start the relay thread");
      close (wake[0]);
      close (wake[1]);
      wake[0] = wake[1] = -1;
      return -1;
    }
  pthread_detach (t);
  thread_started = 1;
  return 0;
}

/* What Lisp calls (the lock held by the caller's module call; taken
   again, it is recursive).  */

struct ossl_relay *
ossl_relay_start (int fd, struct ossl_conn *conn, long id, char *err,
                  size_t errlen)
{
  struct ossl_relay *r;
  struct stat st;
  int sv[2], status, fdflags, real;

  if (!conn || !conn->ssl
      || (conn->state != OSSL_OPEN && conn->state != OSSL_HANDSHAKING))
    {
      snprintf (err, errlen, "the connection is not open");
      return NULL;
    }
  if ((status = fcntl (fd, F_GETFL)) < 0 || (fdflags = fcntl (fd, F_GETFD)) < 0)
    {
      set_error (err, errlen, "not a descriptor");
      return NULL;
    }
  /* Only a connected stream socket, never a relay's own: a wrong
     number must not put a socketpair in place of a pipe or a file.  */
  {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int type;
    socklen_t tlen = sizeof type;
    int own;
    struct ossl_relay *q;
    ossl_lock ();
    own = relays_own (fd);
    for (q = relays; q; q = q->next)
      if (q->conn == conn && !q->done)
        {
          ossl_unlock ();
          snprintf (err, errlen, "the connection is relayed already");
          return NULL;
        }
    ossl_unlock ();
    if (own || getsockopt (fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0
        || type != SOCK_STREAM
        || getpeername (fd, (struct sockaddr *) &ss, &len) != 0)
      {
        snprintf (err, errlen, "descriptor %d is not a connected stream socket",
                  fd);
        return NULL;
      }
  }
  r = calloc (1, sizeof *r);
  if (!r)
    {
      snprintf (err, errlen, "out of memory");
      return NULL;
    }
  ossl_lock ();
  if (start_thread (err, errlen) != 0)
    goto fail;
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    {
      set_error (err, errlen, "socketpair");
      goto fail;
    }
  if ((real = fcntl (fd, F_DUPFD_CLOEXEC, 0)) < 0)
    {
      set_error (err, errlen, "dup");
      goto fail_pair;
    }
  /* SO_SNDBUFFORCE needs CAP_NET_ADMIN; SO_SNDBUF is capped by
     net.core.wmem_max.  */
  for (int i = 0; i < 2; i++)
    {
      int size = OSSL_RELAY_PAIR_BUFFER;
      if (setsockopt (sv[i], SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size))
        setsockopt (sv[i], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    }
  if (fstat (sv[0], &st) != 0
      || ((status & O_NONBLOCK) && set_nonblock (sv[0]) != 0)
      || dup3 (sv[0], fd, (fdflags & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0)
    {
      set_error (err, errlen, "cannot put the socketpair in place");
      close (real);
      goto fail_pair;
    }
  close (sv[0]);
  /* Out of the way of Emacs, whose select takes descriptors below
     FD_SETSIZE only (poll has no such limit), when the limit allows.  */
  real = move_high (real);
  sv[1] = move_high (sv[1]);
  if (scarce (real) || scarce (sv[1]))
    {
      /* Put the socket back: better the Lisp path than Emacs short of
         descriptors.  */
      if (dup3 (real, fd, (fdflags & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0)
        abort ();
      snprintf (err, errlen, "too few descriptors left for a relay");
      close (real);
      close (sv[1]);
      goto fail;
    }
  /* The socket's open file is ours alone now.  */
  set_nonblock (real);
  set_nonblock (sv[1]);
  r->conn = conn;
  r->id = id;
  r->fd = fd;
  r->real = real;
  r->mine = sv[1];
  r->dev = st.st_dev;
  r->ino = st.st_ino;
  r->status_flags = status;
  r->cloexec = (fdflags & FD_CLOEXEC) != 0;
  r->next = relays;
  relays = r;
  nrelays++;
  if (conn->state == OSSL_HANDSHAKING)
    {
      /* A client speaks first.  */
      r->held = 1;
      step (r, "", 0, 0);
    }
  wake_thread ();
  ossl_unlock ();
  return r;

 fail_pair:
  close (sv[0]);
  close (sv[1]);
 fail:
  ossl_unlock ();
  free (r);
  return NULL;
}

int
ossl_relay_events (struct ossl_relay *r)
{
  int ev;
  ossl_lock ();
  ev = r->events;
  r->events = 0;
  ossl_unlock ();
  return ev;
}

void
ossl_relay_resume (struct ossl_relay *r)
{
  ossl_lock ();
  if (r->held && r->conn && r->conn->ssl)
    {
      if (r->conn->state == OSSL_HANDSHAKING)
        step (r, "", 0, 0);
      /* Open, or closing or closed already: the peer's close_notify
         may have come right after its last flight, before Lisp
         accepted it.  Emacs gets what came, then its end of file.  */
      else if (r->conn->state != OSSL_FAILED)
        {
          /* Served now: the socket may have ended while held, and
             then only Emacs's side would wake the thread.  */
          r->held = 0;
          serve (r, 0);
        }
    }
  wake_thread ();
  ossl_unlock ();
}

void
ossl_relay_pump (struct ossl_relay *r)
{
  ossl_lock ();
  serve (r, 0);
  wake_thread ();
  ossl_unlock ();
}

void
ossl_relay_shutdown (struct ossl_relay *r)
{
  ossl_lock ();
  r->finishing = 1;
  if (r->conn && r->conn->ssl && r->conn->state == OSSL_OPEN
      && ossl_conn_shutdown (r->conn) == 0)
    take_records (r);
  wake_thread ();
  ossl_unlock ();
}

/* Read what descriptor FD has now into B.  */
static void
drain (int fd, struct ossl_buf *b)
{
  char buf[16384];
  ssize_t n;
  while ((n = recv (fd, buf, sizeof buf, MSG_DONTWAIT)) > 0)
    if (buf_add (b, buf, (size_t) n) != 0)
      break;
}

int
ossl_relay_stop (struct ossl_relay *r, int restore,
                 struct ossl_buf *to_emacs, struct ossl_buf *from_emacs,
                 struct ossl_buf *to_net, char *err, size_t errlen)
{
  struct stat st;
  int ours, rc = 0;

  ossl_lock ();
  ours = fstat (r->fd, &st) == 0 && st.st_dev == r->dev
    && st.st_ino == r->ino;
  if (r->done)
    {
      /* Ended already: there is no socket to give back, but what the
         relay gave Emacs before it ended may still be unread.  */
      if (ours)
        drain (r->fd, to_emacs);
      ossl_unlock ();
      return 0;
    }
  take_records (r);
  /* What Emacs has not read yet came first.  */
  if (ours)
    drain (r->fd, to_emacs);
  buf_add (to_emacs, r->to_emacs.data, r->to_emacs.len);
  if (!r->emacs_eof)
    drain (r->mine, from_emacs);
  buf_add (to_net, r->to_net.data, r->to_net.len);
  r->to_net.len = r->to_emacs.len = 0;
  /* A descriptor that is no longer the relay's (Emacs closed it, and
     the number went to another file) is never touched.  */
  if (restore && ours)
    {
      if (fcntl (r->real, F_SETFL, r->status_flags) != 0
          || dup3 (r->real, r->fd, r->cloexec ? O_CLOEXEC : 0) < 0)
        {
          set_error (err, errlen, "cannot put the socket back");
          rc = -1;
        }
      else
        rc = 1;
    }
  /* Lisp keeps the connection.  */
  r->own_conn = 0;
  close_all (r);
  r->events = 0;
  r->notify_pending = 0;
  wake_thread ();
  ossl_unlock ();
  return rc;
}

void
ossl_relay_release (struct ossl_relay *r)
{
  ossl_lock ();
  r->lisp_gone = 1;
  wake_thread ();
  ossl_unlock ();
}

int
ossl_relay_adopt (struct ossl_conn *conn)
{
  struct ossl_relay *r;
  int adopted = 0;
  ossl_lock ();
  for (r = relays; r; r = r->next)
    if (r->conn == conn && !r->done)
      {
        r->own_conn = 1;
        adopted = 1;
      }
  ossl_unlock ();
  return adopted;
}

int
ossl_relay_count (int all)
{
  struct ossl_relay *r;
  int n = 0;
  ossl_lock ();
  for (r = relays; r; r = r->next)
    n += all || !r->done;
  ossl_unlock ();
  return n;
}
