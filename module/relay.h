/* relay.h -- TLS under a socket's descriptor, on one I/O thread.

   This layer knows OpenSSL and POSIX only: it never includes
   emacs-module.h.  A relay puts one end of a socketpair in place of a
   process's socket descriptor, so that Emacs reads and writes
   cleartext through its own code, and pumps an engine connection
   (engine.h) between the other end and the real socket on the ossl
   I/O thread: one poll loop serving every relay.

   Ownership.  An engine connection is used by one thread at a time:
   once the I/O thread runs, every call into the module from Lisp holds
   the module lock (ossl_lock), except while it calls a password
   function, and so does the I/O thread whenever it touches a relay or
   its connection.  A relay is freed by the I/O thread only,
   once Lisp has dropped it (ossl_relay_release) and it is done.

   Events reach Lisp through the channel (ossl_relay_set_channel): the
   thread writes a relay's id and a newline when something Lisp must
   act on happened (OSSL_RELAY_WAKE), and Lisp collects what with
   ossl_relay_events.  */

#ifndef OSSL_RELAY_H
#define OSSL_RELAY_H

#include <stddef.h>
#include <sys/socket.h>

#include "engine.h"

/* What ossl_relay_events reports (a bit mask).  */
#define OSSL_RELAY_FAILED 1       /* the TLS stream broke (see reason) */
#define OSSL_RELAY_PEER_CLOSED 2  /* the peer's close_notify came */
#define OSSL_RELAY_NET_EOF 4      /* the real socket ended */
#define OSSL_RELAY_DONE 8         /* the relay closed its descriptors */
#define OSSL_RELAY_HANDSHAKE 16   /* a held relay's handshake ended */
#define OSSL_RELAY_SNI 32         /* ... waits for an SNI choice */
/* The events Lisp must act on, and so hears of on the channel.  The
   others are only recorded: Emacs learns of an end from its own
   descriptor, and a line on the channel is process output, which ends
   any `accept-process-output' waiting for something else.  */
#define OSSL_RELAY_WAKE \
  (OSSL_RELAY_FAILED | OSSL_RELAY_HANDSHAKE | OSSL_RELAY_SNI)

struct ossl_relay;

/* The module lock: recursive, held by every module call from Lisp once
   the I/O thread runs (ossl_relay_running), and by the I/O thread
   while it serves relays.  */
void ossl_lock (void);
void ossl_unlock (void);
/* Let go of the lock as many times as the calling thread holds it,
   around a call into Lisp that may take long (a password function);
   returns the count to give ossl_lock_resume.  */
int ossl_lock_release (void);
void ossl_lock_resume (int n);
/* Whether the I/O thread was started (it then runs for good).  */
int ossl_relay_running (void);

/* The descriptor of the connected stream socket whose own address is
   LOCAL and whose peer is PEER (IPv4, IPv6, or local sockets compared
   by name as Emacs shows it), the relays' own sockets aside: the
   descriptor, -1 when there is none, -2 when there is more than one
   (never a guess).  */
int ossl_relay_find (const struct sockaddr *local, socklen_t locallen,
                     const struct sockaddr *peer, socklen_t peerlen);

/* Write events to FD from now on (the module owns FD).  */
void ossl_relay_set_channel (int fd);

/* Put a socketpair end in place of descriptor FD (same status and
   close-on-exec flags) and serve CONN, an open or handshaking
   connection, between the other end and the real socket.  ID names
   the relay on the channel.  Returns NULL with the reason in ERR on
   failure, leaving FD as it was.

   A handshaking connection's relay is held: the I/O thread runs the
   handshake (a client's first flight goes out at once) but reads
   nothing from Emacs's end, so that what Emacs sends meanwhile waits
   there, and gives Emacs nothing, neither cleartext nor an end of
   file, until ossl_relay_resume.  It reports OSSL_RELAY_SNI when the
   handshake waits for an SNI choice, OSSL_RELAY_HANDSHAKE when it
   ended, open or failed: a failed one sends its alert and leaves the
   socket open, for Lisp to close or take back (ossl_relay_stop).  */
struct ossl_relay *ossl_relay_start (int fd, struct ossl_conn *conn,
                                     long id, char *err, size_t errlen);

/* Events since the last call (OSSL_RELAY_*).  */
int ossl_relay_events (struct ossl_relay *r);

/* Go on with held relay R: a handshake waiting for an SNI choice
   (made with ossl_conn_sni_choose) goes on; once the handshake ended
   open, the hold ends: Emacs gets the cleartext that came with the
   last flight, and what it sent meanwhile is encrypted and sent.  */
void ossl_relay_resume (struct ossl_relay *r);

/* Serve R now, on the caller's thread: what Emacs did to its end (a
   send, an end of file) reaches the connection before this returns.  */
void ossl_relay_pump (struct ossl_relay *r);

/* Send close_notify now; the socket is to be given back afterwards,
   so a peer's close_notify is no end of file for Emacs.  */
void ossl_relay_shutdown (struct ossl_relay *r);

/* A growable byte buffer.  */
struct ossl_buf
{
  char *data;
  size_t len, cap;
};
void ossl_buf_free (struct ossl_buf *b);

/* Stop relaying, from the thread that owns Emacs's side.  The
   cleartext the relay had for Emacs that Emacs did not read goes to
   *TO_EMACS; the cleartext Emacs wrote that was not encrypted yet to
   *FROM_EMACS; the ciphertext not sent yet to *TO_NET.  With RESTORE,
   the real socket goes back in place of the process's descriptor,
   when that descriptor is still the relay's and the relay has not
   ended (once it has, *TO_EMACS still gets what Emacs did not read).
   Returns 1 when the socket is back, 0 when not, -1 when
   putting it back failed (the reason in ERR).  The connection is no
   longer the relay's.  */
int ossl_relay_stop (struct ossl_relay *r, int restore,
                     struct ossl_buf *to_emacs, struct ossl_buf *from_emacs,
                     struct ossl_buf *to_net, char *err, size_t errlen);

/* Lisp no longer holds R (its finalizer).  */
void ossl_relay_release (struct ossl_relay *r);

/* CONN's Lisp object is gone: when a relay still serves CONN, it
   takes CONN over, frees it when done and 1 is returned.  */
int ossl_relay_adopt (struct ossl_conn *conn);

/* Relays still serving, or with ALL those not freed yet (for tests).  */
int ossl_relay_count (int all);

#endif /* OSSL_RELAY_H */
