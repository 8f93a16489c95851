/* peer.c -- a fast loopback peer for `make bench': TLS (OpenSSL) or
   plain TCP, one thread per connection.

   Server:  peer [--tls CHAIN KEY] [--accept N] [--host ADDR]
     Listens on ADDR (default 127.0.0.1), port chosen by the kernel,
     prints "READY <port>" and serves connections.  After the (TLS)
     handshake a client sends one command line:
       "D <n>\n"  the peer sends n bytes, then closes (close_notify);
       "U <n>\n"  the peer reads n bytes, answers "OK\n";
     or nothing at all (handshake and idle benchmarks): the peer waits
     for the client to close.  After N connections (0: never) it
     prints "CPU <user> <sys> <conns> <handshake-failures>" (seconds
     of its own CPU time) and exits.  SIGTERM prints the same line.

   Client (to show that the peer is not the bottleneck):
     peer --client PORT [--tls] [--download N | --upload N]
     prints "CLIENT <bytes> <seconds> <MB/s>".  */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define CHUNK (256 * 1024)

static SSL_CTX *ctx;
static unsigned char payload[CHUNK];
static atomic_int live, served, hs_failures;
static long max_accept;

struct io
{
  int fd;
  SSL *ssl;
};

static long
io_read (struct io *io, void *buf, size_t n)
{
  if (io->ssl)
    {
      size_t got = 0;
      return SSL_read_ex (io->ssl, buf, n, &got) == 1 ? (long) got : -1;
    }
  for (;;)
    {
      ssize_t r = read (io->fd, buf, n);
      if (r < 0 && errno == EINTR)
        continue;
      return r > 0 ? r : -1;
    }
}

static int
io_write (struct io *io, const void *buf, size_t n)
{
  const char *p = buf;
  while (n > 0)
    {
      if (io->ssl)
        {
          size_t put = 0;
          if (SSL_write_ex (io->ssl, p, n, &put) != 1)
            return -1;
          p += put;
          n -= put;
        }
      else
        {
          ssize_t w = write (io->fd, p, n);
          if (w < 0 && errno == EINTR)
            continue;
          if (w <= 0)
            return -1;
          p += w;
          n -= (size_t) w;
        }
    }
  return 0;
}

static void
report (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  printf ("CPU %.3f %.3f %d %d\n",
          ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
          ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
          atomic_load (&served), atomic_load (&hs_failures));
  fflush (stdout);
}

static void
on_term (int sig)
{
  (void) sig;
  report ();
  _exit (0);
}

/* Read one command line, byte by byte (it is tiny).  */
static int
read_line (struct io *io, char *buf, size_t n)
{
  size_t i = 0;
  while (i + 1 < n)
    {
      if (io_read (io, buf + i, 1) != 1)
        return -1;
      if (buf[i] == '\n')
        break;
      i++;
    }
  buf[i] = '\0';
  return 0;
}

static void *
serve (void *arg)
{
  struct io io = { (int) (long) arg, NULL };
  char line[64];
  unsigned char *sink = malloc (CHUNK);

  if (ctx)
    {
      io.ssl = SSL_new (ctx);
      SSL_set_fd (io.ssl, io.fd);
      if (SSL_accept (io.ssl) != 1)
        {
          atomic_fetch_add (&hs_failures, 1);
          goto done;
        }
    }
  if (read_line (&io, line, sizeof line) == 0)
    {
      long long n = atoll (line + 1);
      if (line[0] == 'D')
        {
          while (n > 0)
            {
              size_t k = n < CHUNK ? (size_t) n : CHUNK;
              if (io_write (&io, payload, k))
                break;
              n -= (long long) k;
            }
          if (io.ssl)
            SSL_shutdown (io.ssl);
          shutdown (io.fd, SHUT_WR);
        }
      else if (line[0] == 'U')
        {
          while (n > 0)
            {
              long r = io_read (&io, sink, n < CHUNK ? (size_t) n : CHUNK);
              if (r <= 0)
                break;
              n -= r;
            }
          io_write (&io, "OK\n", 3);
        }
      /* Wait for the client to go away.  */
      while (io_read (&io, sink, CHUNK) > 0)
        ;
    }
 done:
  free (sink);
  if (io.ssl)
    SSL_free (io.ssl);
  ERR_clear_error ();
  close (io.fd);
  atomic_fetch_add (&served, 1);
  if (atomic_fetch_sub (&live, 1) == 1 && max_accept > 0
      && atomic_load (&served) >= max_accept)
    {
      report ();
      exit (0);
    }
  return NULL;
}

static SSL_CTX *
make_ctx (int server, const char *chain, const char *key)
{
  SSL_CTX *c = SSL_CTX_new (server ? TLS_server_method ()
                            : TLS_client_method ());
  if (!c)
    return NULL;
  if (server
      && (SSL_CTX_use_certificate_chain_file (c, chain) != 1
          || SSL_CTX_use_PrivateKey_file (c, key, SSL_FILETYPE_PEM) != 1))
    {
      ERR_print_errors_fp (stderr);
      return NULL;
    }
  return c;
}

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
client (int port, int tls, long long down, long long up)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons (port) };
  struct io io = { socket (AF_INET, SOCK_STREAM, 0), NULL };
  static unsigned char buf[CHUNK];
  char cmd[64];
  long long total = down ? down : up, n = total;
  double t0;

  inet_pton (AF_INET, "127.0.0.1", &a.sin_addr);
  if (connect (io.fd, (struct sockaddr *) &a, sizeof a))
    {
      perror ("connect");
      return 1;
    }
  if (tls)
    {
      SSL_CTX *c = make_ctx (0, NULL, NULL);
      io.ssl = SSL_new (c);
      SSL_set_fd (io.ssl, io.fd);
      if (SSL_connect (io.ssl) != 1)
        {
          ERR_print_errors_fp (stderr);
          return 1;
        }
    }
  t0 = now ();
  snprintf (cmd, sizeof cmd, "%c %lld\n", down ? 'D' : 'U', total);
  io_write (&io, cmd, strlen (cmd));
  if (down)
    while (n > 0)
      {
        long r = io_read (&io, buf, sizeof buf);
        if (r <= 0)
          break;
        n -= r;
      }
  else
    {
      while (n > 0)
        {
          size_t k = n < CHUNK ? (size_t) n : CHUNK;
          if (io_write (&io, payload, k))
            break;
          n -= (long long) k;
        }
      io_read (&io, buf, 3);
    }
  double dt = now () - t0;
  printf ("CLIENT %lld %.3f %.1f\n", total - n, dt, (total - n) / dt / 1e6);
  if (io.ssl)
    SSL_shutdown (io.ssl);
  close (io.fd);
  return n == 0 ? 0 : 1;
}

int
main (int argc, char **argv)
{
  const char *host = "127.0.0.1", *chain = NULL, *key = NULL;
  int client_port = 0, tls_client = 0, fd, one = 1, i;
  long long down = 0, up = 0;
  struct sockaddr_in a = { .sin_family = AF_INET };
  socklen_t alen = sizeof a;
  pthread_attr_t attr;

  for (i = 0; i < CHUNK; i++)
    payload[i] = (unsigned char) (i * 2654435761u >> 13);
  for (i = 1; i < argc; i++)
    {
      if (!strcmp (argv[i], "--tls") && i + 2 < argc && argv[i + 1][0] != '-')
        {
          chain = argv[++i];
          key = argv[++i];
        }
      else if (!strcmp (argv[i], "--tls"))
        tls_client = 1;
      else if (!strcmp (argv[i], "--accept") && i + 1 < argc)
        max_accept = atol (argv[++i]);
      else if (!strcmp (argv[i], "--host") && i + 1 < argc)
        host = argv[++i];
      else if (!strcmp (argv[i], "--client") && i + 1 < argc)
        client_port = atoi (argv[++i]);
      else if (!strcmp (argv[i], "--download") && i + 1 < argc)
        down = atoll (argv[++i]);
      else if (!strcmp (argv[i], "--upload") && i + 1 < argc)
        up = atoll (argv[++i]);
      else
        {
          fprintf (stderr, "peer: bad argument %s\n", argv[i]);
          return 2;
        }
    }
  signal (SIGPIPE, SIG_IGN);
  if (client_port)
    return client (client_port, tls_client, down, up);

  if (chain && !(ctx = make_ctx (1, chain, key)))
    return 1;
  fd = socket (AF_INET, SOCK_STREAM, 0);
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (inet_pton (AF_INET, host, &a.sin_addr) != 1
      || bind (fd, (struct sockaddr *) &a, sizeof a)
      || listen (fd, 4096)
      || getsockname (fd, (struct sockaddr *) &a, &alen))
    {
      perror ("peer: listen");
      return 1;
    }
  signal (SIGTERM, on_term);
  printf ("READY %d\n", ntohs (a.sin_port));
  fflush (stdout);
  pthread_attr_init (&attr);
  pthread_attr_setstacksize (&attr, 256 * 1024);
  pthread_attr_setdetachstate (&attr, PTHREAD_CREATE_DETACHED);
  for (long accepted = 0; max_accept == 0 || accepted < max_accept;
       accepted++)
    {
      pthread_t t;
      int c = accept (fd, NULL, NULL);
      if (c < 0)
        {
          if (errno == EINTR)
            {
              accepted--;
              continue;
            }
          perror ("peer: accept");
          return 1;
        }
      setsockopt (c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      atomic_fetch_add (&live, 1);
      if (pthread_create (&t, &attr, serve, (void *) (long) c))
        {
          perror ("peer: thread");
          return 1;
        }
    }
  close (fd);
  /* The last thread to finish reports and exits.  */
  for (;;)
    pause ();
}
