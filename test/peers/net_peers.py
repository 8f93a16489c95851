#!/usr/bin/python3
"""Servers for the ossl-network tests: SMTP, fake STARTTLS, HTTPS, proxy.

Every server listens on 127.0.0.1, port chosen by the kernel, prints
"READY <port>" on stdout once listening, and exits by itself after
--timeout seconds.  Events are printed one per line, flushed at once.

Modes:

  smtp       aiosmtpd with STARTTLS required before anything but
             EHLO/HELO/NOOP/QUIT, AUTH (PLAIN, LOGIN) only under TLS, on
             the first port; implicit TLS (SMTPS) on the second.
             Prints "SMTPS <port>" then "READY <port>".  Logs
               RAW <port-kind> <tls 0|1> <base64 of bytes received>
               CMD <port-kind> <tls 0|1> <COMMAND>
               AUTH <port-kind> <tls 0|1> <mechanism> <user> <ok|bad>
               MESSAGE <file>   (raw message bytes written to --outdir)
  fake-smtp  a scripted server for STARTTLS edge cases, --behaviour:
               inject   after "220 go ahead" sends, in the same write,
                        "250 INJECTED" in clear, then does TLS
               refuse   answers STARTTLS with "454 TLS not available"
               absent   does not offer STARTTLS
             Logs "LINE <tls 0|1> <line>", "HANDSHAKE <version>".
  https      http.server over TLS serving --dir; "--big N" writes a
             file big.bin of N random bytes first and prints
             "SHA256 big.bin <hex>".  Logs "GET <path>".
  proxy      an HTTP CONNECT proxy; logs "CONNECT <host:port>".
  irc        a TLS IRC server that welcomes whoever sends NICK and USER;
             logs "IRC <line>" for each line received.
"""

import argparse
import asyncio
import base64
import hashlib
import http.server
import os
import signal
import socket
import socketserver
import ssl
import sys
import warnings

warnings.filterwarnings("ignore")


def say(*parts):
    sys.stdout.write(" ".join(str(p) for p in parts) + "\n")
    sys.stdout.flush()


def on_alarm(signum, frame):
    say("TIMEOUT")
    os._exit(3)


def server_context(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    return ctx


# ---------------------------------------------------------------- smtp

def run_smtp(args):
    from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    counter = [0]

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            counter[0] += 1
            name = os.path.join(args.outdir, "message-%d.eml" % counter[0])
            with open(name, "wb") as f:
                f.write(envelope.original_content or envelope.content)
            say("MESSAGE", name)
            return "250 OK"

    def make_authenticator(kind):
        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword)
                  and auth_data.login == args.user.encode()
                  and auth_data.password == args.password.encode())
            user = (auth_data.login.decode(errors="replace")
                    if isinstance(auth_data, LoginPassword) else "?")
            say("AUTH", kind, int(session.ssl is not None or kind == "smtps"),
                mechanism, user, "ok" if ok else "bad")
            return AuthResult(success=ok)
        return authenticator

    def make_protocol(kind, tls_context, require_starttls):
        class LoggingSMTP(SMTP):
            def data_received(self, data):
                tls = int(self._tls_protocol is not None or kind == "smtps")
                say("RAW", kind, tls, base64.b64encode(data).decode())
                super().data_received(data)

        for cmd in ("EHLO", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT",
                    "DATA", "QUIT", "NOOP", "RSET"):
            orig = getattr(SMTP, "smtp_" + cmd)

            def wrap(orig=orig, cmd=cmd):
                async def method(self, arg):
                    tls = int(self._tls_protocol is not None or kind == "smtps")
                    say("CMD", kind, tls, cmd)
                    return await orig(self, arg)
                method.__dict__.update(orig.__dict__)
                return method
            setattr(LoggingSMTP, "smtp_" + cmd, wrap())

        def factory():
            return LoggingSMTP(Handler(), hostname="ossl-test.example",
                               tls_context=tls_context,
                               require_starttls=require_starttls,
                               # Implicit TLS: the transport is TLS.
                               auth_require_tls=(kind == "smtp"),
                               authenticator=make_authenticator(kind),
                               loop=loop)
        return factory

    ctx = server_context(args)
    starttls_server = loop.run_until_complete(
        loop.create_server(make_protocol("smtp", ctx, True), "127.0.0.1", 0))
    smtps_server = loop.run_until_complete(
        loop.create_server(make_protocol("smtps", None, False), "127.0.0.1", 0,
                           ssl=server_context(args)))
    say("SMTPS", smtps_server.sockets[0].getsockname()[1])
    say("READY", starttls_server.sockets[0].getsockname()[1])
    loop.run_forever()


# ----------------------------------------------------------- fake smtp

def run_fake_smtp(args):
    ctx = server_context(args)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    say("READY", listener.getsockname()[1])
    while True:
        conn, _ = listener.accept()
        try:
            fake_smtp_session(args, ctx, conn)
        except Exception as e:  # keep serving
            say("ERROR", repr(e))
        finally:
            try:
                conn.close()
            except OSError:
                pass


def fake_smtp_session(args, ctx, conn):
    tls = 0
    sock = conn
    buf = b""

    def send(data):
        sock.sendall(data)

    def lines():
        nonlocal buf
        while True:
            while b"\n" not in buf:
                data = sock.recv(4096)
                if not data:
                    return
                buf += data
            line, buf = buf.split(b"\n", 1)
            yield line.rstrip(b"\r").decode(errors="replace")

    send(b"220 fake.example ESMTP ready\r\n")
    it = lines()
    for line in it:
        say("LINE", tls, line)
        verb = line.split(" ")[0].upper()
        if verb in ("EHLO", "HELO"):
            if tls:
                send(b"250-fake.example secured\r\n250 AUTH PLAIN\r\n")
            elif args.behaviour == "absent":
                send(b"250-fake.example\r\n250 SIZE 1000\r\n")
            else:
                send(b"250-fake.example\r\n250 STARTTLS\r\n")
        elif verb == "STARTTLS" and not tls:
            if args.behaviour == "refuse":
                send(b"454 4.7.0 TLS not available\r\n")
                continue
            if args.behaviour == "inject":
                send(b"220 2.0.0 go ahead\r\n250 INJECTED plaintext\r\n")
            else:
                send(b"220 2.0.0 go ahead\r\n")
            buf = b""
            sock = ctx.wrap_socket(conn, server_side=True)
            tls = 1
            say("HANDSHAKE", sock.version())
            it = lines()
            for line in it:
                say("LINE", tls, line)
                verb = line.split(" ")[0].upper()
                if verb in ("EHLO", "HELO"):
                    send(b"250-fake.example secured\r\n250 AUTH PLAIN\r\n")
                elif verb == "QUIT":
                    send(b"221 bye\r\n")
                    return
                else:
                    send(b"250 ok\r\n")
            return
        elif verb == "QUIT":
            send(b"221 bye\r\n")
            return
        else:
            send(b"250 ok\r\n")


# ---------------------------------------------------------------- https

def run_https(args):
    os.chdir(args.dir)
    if args.big:
        data = os.urandom(args.big)
        with open("big.bin", "wb") as f:
            f.write(data)
        say("SHA256", "big.bin", hashlib.sha256(data).hexdigest())

    class Handler(http.server.SimpleHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            pass

        def do_GET(self):
            say("GET", self.path)
            super().do_GET()

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        allow_reuse_address = True

    httpd = Server(("127.0.0.1", 0), Handler)
    httpd.socket = server_context(args).wrap_socket(httpd.socket,
                                                    server_side=True)
    say("READY", httpd.server_address[1])
    httpd.serve_forever()


# ---------------------------------------------------------------- proxy

def run_proxy(args):
    async def pipe(reader, writer):
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            try:
                writer.close()
            except Exception:
                pass

    async def handle(reader, writer):
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except Exception:
            writer.close()
            return
        request = head.split(b"\r\n", 1)[0].decode(errors="replace")
        parts = request.split()
        if len(parts) < 2 or parts[0] != "CONNECT":
            say("REFUSED", request)
            writer.write(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
            writer.close()
            return
        say("CONNECT", parts[1])
        host, _, port = parts[1].rpartition(":")
        try:
            r2, w2 = await asyncio.open_connection(host.strip("[]"), int(port))
        except Exception as e:
            say("ERROR", repr(e))
            writer.write(b"HTTP/1.1 502 Bad Gateway\r\n\r\n")
            writer.close()
            return
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        await asyncio.gather(pipe(reader, w2), pipe(r2, writer))

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        say("READY", server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(main())


# ------------------------------------------------------------------ irc

def run_irc(args):
    ctx = server_context(args)

    class Handler(socketserver.StreamRequestHandler):
        def setup(self):
            self.request = ctx.wrap_socket(self.request, server_side=True)
            super().setup()

        def handle(self):
            nick = None
            user = False
            for raw in self.rfile:
                line = raw.decode(errors="replace").rstrip("\r\n")
                say("IRC", line)
                words = line.split()
                if not words:
                    continue
                if words[0] == "NICK" and len(words) > 1:
                    nick = words[1]
                elif words[0] == "USER":
                    user = True
                elif words[0] == "PING":
                    self.wfile.write(("PONG %s\r\n" % " ".join(words[1:])).encode())
                elif words[0] == "QUIT":
                    self.wfile.write(b"ERROR :Closing link\r\n")
                    return
                if nick and user:
                    self.wfile.write((":irc.test 001 %s :Welcome to the ossl test network %s\r\n"
                                      ":irc.test 376 %s :End of MOTD\r\n"
                                      % (nick, nick, nick)).encode())
                    user = False

    class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
        daemon_threads = True
        allow_reuse_address = True

    server = Server(("127.0.0.1", 0), Handler)
    say("READY", server.server_address[1])
    server.serve_forever()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", required=True,
                   choices=["smtp", "fake-smtp", "https", "proxy", "irc"])
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--user", default="ossl-user")
    p.add_argument("--password", default="ossl-pass")
    p.add_argument("--outdir", default=".")
    p.add_argument("--behaviour", default="inject",
                   choices=["inject", "refuse", "absent"])
    p.add_argument("--dir", default=".")
    p.add_argument("--big", type=int, default=0)
    p.add_argument("--timeout", type=int, default=120)
    args = p.parse_args()
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(args.timeout)
    {"smtp": run_smtp, "fake-smtp": run_fake_smtp, "https": run_https,
     "proxy": run_proxy, "irc": run_irc}[args.mode](args)


if __name__ == "__main__":
    main()
