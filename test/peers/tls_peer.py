#!/usr/bin/python3
"""Test peer for the ossl Emacs module test suite.

Listens on HOST (default 127.0.0.1) port 0 (or --port), prints
"READY <port>" on stdout once listening, then serves --count
connections sequentially in the given --mode and exits.  It always
exits by itself after --timeout seconds (default 120), whatever state
it is in.

Everything printed on stdout is one event per line, flushed at once:

  READY <port>              listening
  ACCEPTED <n>              TCP connection number n (1-based) accepted
  SNI <name>                server name sent by the client (TLS modes)
  HANDSHAKE <version> <cipher>   TLS handshake completed
  ALPN <protocol>           negotiated ALPN protocol (if any)
  CLIENT-CERT <subject>     client certificate subject (or "none")
  HANDSHAKE-FAILED <error>  handshake failed (server goes on if count > 1)
  RECEIVED <n>              total application bytes received on this connection
  SENT <n>                  total application bytes sent on this connection
  SHA256 <hex>              sink: hash of the bytes received;
                            source/split-utf8: hash of the bytes sent
  FLOOD <n> done|stopped <e>  flood-after-close: raw bytes sent after
                            close_notify, and whether all went out
  PEER-CLOSE close_notify   the client sent a TLS close_notify
  PEER-CLOSE eof            the client closed TCP without close_notify
  UNWRAP ok|failed <err>    our own close_notify exchange
  LINE <text>               starttls: a command line received (repr-free, stripped)
  RAW <hex>                 record: bytes as they came off the wire, before any TLS
  CLEAR <hex>               record: application bytes decrypted (and echoed back)
  ERROR <text>              an unexpected exception on this connection
  DONE                      all connections served, exiting
  TIMEOUT                   self-timeout hit, exiting
"""

import argparse
import hashlib
import os
import signal
import socket
import ssl
import sys
import time

ARGS = None


def say(*parts):
    sys.stdout.write(" ".join(str(p) for p in parts) + "\n")
    sys.stdout.flush()


def on_alarm(signum, frame):
    say("TIMEOUT")
    os._exit(3)


DEFAULT_UTF8_TEXT = (
    "ASCII line; caf\u00e9 cr\u00e8me br\u00fbl\u00e9e \u00e9\u00e8\u00ea; "
    "price 5\u20ac and 10\u00a3; \u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8; "
    "emoji \U0001F600\U0001F680\U0001F44D; \u0420\u0443\u0441\u0441\u043a\u0438\u0439; "
    "\u03b1\u03b2\u03b3\u03b4 \u2211\u222b\u221a; end.\n"
)


def deterministic_bytes(n):
    """Concatenation of SHA-256(b"ossl" + 8-byte big-endian counter),
    counter = 0, 1, 2, ..., truncated to N bytes."""
    out = bytearray()
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(b"ossl" + counter.to_bytes(8, "big")).digest()
        counter += 1
    return bytes(out[:n])


def make_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(ARGS.cert, ARGS.key, password=ARGS.key_password)
    if ARGS.tls_version:
        v = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}[ARGS.tls_version]
        ctx.minimum_version = v
        ctx.maximum_version = v
    if ARGS.ciphers:
        ctx.set_ciphers(ARGS.ciphers)
    if ARGS.client_ca:
        ctx.load_verify_locations(ARGS.client_ca)
    ctx.verify_mode = {
        "none": ssl.CERT_NONE,
        "optional": ssl.CERT_OPTIONAL,
        "required": ssl.CERT_REQUIRED,
    }[ARGS.verify_client]
    if ARGS.alpn:
        ctx.set_alpn_protocols(ARGS.alpn.split(","))

    def sni_cb(sslobj, name, context):
        say("SNI", name if name is not None else "none")
        return None

    ctx.sni_callback = sni_cb
    return ctx


def report_handshake(conn):
    say("HANDSHAKE", conn.version(), conn.cipher()[0])
    alpn = conn.selected_alpn_protocol()
    if alpn:
        say("ALPN", alpn)
    peer = conn.getpeercert()
    if peer:
        subject = ",".join("%s=%s" % kv for rdn in peer.get("subject", ()) for kv in rdn)
        say("CLIENT-CERT", subject)
    elif ARGS.verify_client != "none":
        say("CLIENT-CERT", "none")


def tls_accept(ctx, raw):
    """Wrap RAW as a TLS server socket and run the handshake.
    Returns the SSLSocket or None when the handshake failed."""
    conn = ctx.wrap_socket(raw, server_side=True,
                           do_handshake_on_connect=False,
                           suppress_ragged_eofs=False)
    try:
        conn.do_handshake()
    except (ssl.SSLError, OSError) as e:
        say("HANDSHAKE-FAILED", str(e).replace("\n", " "))
        if ARGS.record_after_failure:
            record_raw(conn.fileno())
        try:
            conn.close()
        except OSError:
            pass
        return None
    report_handshake(conn)
    return conn


def record_raw(fd):
    """Log as RAW lines whatever comes in on FD, until end of file."""
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b""
        if not data:
            say("PEER-CLOSE", "eof")
            return
        say("RAW", data.hex())


def tls_recv(conn, n=65536):
    """Return bytes, or None on close (after printing PEER-CLOSE)."""
    try:
        data = conn.recv(n)
    except ssl.SSLEOFError:
        say("PEER-CLOSE", "eof")
        return None
    except ssl.SSLZeroReturnError:
        say("PEER-CLOSE", "close_notify")
        return None
    except ConnectionResetError:
        say("PEER-CLOSE", "reset")
        return None
    if not data:
        # With suppress_ragged_eofs=False an empty read means close_notify.
        say("PEER-CLOSE", "close_notify")
        return None
    return data


def tls_close(conn, unwrap=True):
    """Send our close_notify (and wait for the peer's), then close."""
    if unwrap:
        try:
            conn.settimeout(ARGS.close_timeout)
            conn.unwrap()
            say("UNWRAP", "ok")
        except (ssl.SSLError, OSError, ValueError) as e:
            say("UNWRAP", "failed", str(e).replace("\n", " "))
    try:
        conn.close()
    except OSError:
        pass


def raw_close(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


# ---------------------------------------------------------------- modes

def serve_echo(ctx, raw, idx):
    conn = tls_accept(ctx, raw)
    if conn is None:
        return
    total = 0
    while True:
        data = tls_recv(conn)
        if data is None:
            break
        total += len(data)
        conn.sendall(data)
    say("RECEIVED", total)
    tls_close(conn)


def serve_sink(ctx, raw, idx):
    conn = tls_accept(ctx, raw)
    if conn is None:
        return
    h = hashlib.sha256()
    total = 0
    limit = ARGS.bytes
    while limit is None or total < limit:
        want = 65536 if limit is None else min(65536, limit - total)
        data = tls_recv(conn, want)
        if data is None:
            break
        total += len(data)
        h.update(data)
    digest = h.hexdigest()
    say("RECEIVED", total)
    say("SHA256", digest)
    try:
        conn.sendall((digest + "\n").encode("ascii"))
    except (ssl.SSLError, OSError) as e:
        say("ERROR", "writing digest:", e)
    tls_close(conn)


def serve_source(ctx, raw, idx):
    conn = tls_accept(ctx, raw)
    if conn is None:
        return
    data = deterministic_bytes(ARGS.bytes if ARGS.bytes is not None else 100000)
    say("SHA256", hashlib.sha256(data).hexdigest())
    view = memoryview(data)
    chunk = ARGS.chunk or 16384
    for off in range(0, len(data), chunk):
        conn.sendall(view[off:off + chunk])
    say("SENT", len(data))
    tls_close(conn)


def serve_split_utf8(ctx, raw, idx):
    conn = tls_accept(ctx, raw)
    if conn is None:
        return
    if ARGS.text_file:
        with open(ARGS.text_file, "rb") as f:
            data = f.read()
    else:
        text = ARGS.text if ARGS.text is not None else DEFAULT_UTF8_TEXT
        data = text.encode("utf-8")
        if ARGS.text is None:
            data = data * max(1, 10240 // len(data) + 1)
    say("SHA256", hashlib.sha256(data).hexdigest())
    sizes = [1, 2, 3, 5, 7]
    off = 0
    i = 0
    while off < len(data):
        n = sizes[i % len(sizes)]
        i += 1
        # One SSLSocket.send of a small buffer = one SSL_write = one record.
        conn.sendall(data[off:off + n])
        off += n
    say("SENT", len(data))
    tls_close(conn)


def accept_and_send_message(ctx, raw):
    """The handshake, then --message if any; the SSLSocket or None."""
    conn = tls_accept(ctx, raw)
    if conn is not None and ARGS.message:
        conn.sendall(ARGS.message.encode("utf-8"))
        say("SENT", len(ARGS.message.encode("utf-8")))
    return conn


def serve_garbage_after(ctx, raw, idx):
    conn = accept_and_send_message(ctx, raw)
    if conn is None:
        return
    time.sleep(0.05)
    garbage = (b"GARBAGE-NOT-TLS-" * 8)[:100]
    os.write(conn.fileno(), garbage)
    say("GARBAGE", len(garbage))
    time.sleep(0.2)
    raw_close(conn)


def serve_flood_after_close(ctx, raw, idx):
    """Send --message, close the TLS stream (close_notify both ways),
    then flood the raw socket with --bytes bytes (default 400 MB)."""
    conn = accept_and_send_message(ctx, raw)
    if conn is None:
        return
    conn.settimeout(ARGS.close_timeout)
    try:
        sock = conn.unwrap()
        say("UNWRAP", "ok")
    except (ssl.SSLError, OSError, ValueError) as e:
        say("UNWRAP", "failed", str(e).replace("\n", " "))
        return
    total = ARGS.bytes if ARGS.bytes is not None else 400 * 1024 * 1024
    block = b"AFTER-CLOSE-NOTIFY " * 55188    # about 1 MB
    sent = 0
    sock.settimeout(ARGS.close_timeout)
    try:
        while sent < total:
            n = sock.send(block[:min(len(block), total - sent)])
            sent += n
        say("FLOOD", sent, "done")
    except OSError as e:
        say("FLOOD", sent, "stopped", type(e).__name__)
    raw_close(sock)


def serve_http(ctx, raw, idx):
    raw.settimeout(5)
    try:
        data = raw.recv(4096)
        say("RECEIVED", len(data))
    except OSError:
        pass
    body = b"<html><body>Bad Request: this is plain HTTP</body></html>\n"
    resp = (b"HTTP/1.0 400 Bad Request\r\n"
            b"Content-Type: text/html\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n"
            b"Connection: close\r\n\r\n" + body)
    try:
        raw.sendall(resp)
    except OSError:
        pass
    raw_close(raw)


def serve_close_early(ctx, raw, idx):
    raw.settimeout(5)
    try:
        data = raw.recv(ARGS.bytes or 16)
        say("RECEIVED", len(data))
    except OSError:
        pass
    raw_close(raw)


def serve_silent(ctx, raw, idx):
    total = 0
    while True:
        try:
            data = raw.recv(65536)
        except OSError:
            break
        if not data:
            break
        total += len(data)
    say("RECEIVED", total)
    say("PEER-CLOSE", "eof")
    raw.close()


def serve_record(ctx, raw, idx):
    """A TLS echo server that logs every byte it receives from the wire
    (RAW) before TLS sees it, and goes on logging after a failed
    handshake or a broken record: what a man in the middle would read."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_side=True)
    state = "handshake"
    while True:
        try:
            data = raw.recv(65536)
        except OSError:
            data = b""
        if not data:
            say("PEER-CLOSE", "eof")
            break
        say("RAW", data.hex())
        if state == "failed":
            continue
        inc.write(data)
        try:
            if state == "handshake":
                obj.do_handshake()
                state = "open"
                report_handshake(obj)
            while state == "open":
                clear = obj.read(65536)
                if not clear:
                    say("PEER-CLOSE", "close_notify")
                    state = "failed"
                    break
                say("CLEAR", clear.hex())
                obj.write(clear)
        except ssl.SSLWantReadError:
            pass
        except ssl.SSLZeroReturnError:
            say("PEER-CLOSE", "close_notify")
            state = "failed"
        except ssl.SSLError as e:
            say("HANDSHAKE-FAILED" if state == "handshake" else "ERROR",
                str(e).replace("\n", " "))
            state = "failed"
        pending = out.read()
        if pending:
            try:
                raw.sendall(pending)
            except OSError:
                pass
    raw.close()


class LineReader:
    """Reads CRLF/LF terminated lines.  On a plain socket it reads one
    byte at a time so that nothing after the line is consumed (the
    TLS handshake may follow directly)."""

    def __init__(self, sock, bytewise):
        self.sock = sock
        self.bytewise = bytewise
        self.buf = b""

    def readline(self):
        while b"\n" not in self.buf:
            if self.bytewise:
                try:
                    b = self.sock.recv(1)
                except OSError:
                    return None
                if not b:
                    return None
            else:
                b = tls_recv(self.sock)
                if b is None:
                    return None
            self.buf += b
        line, _, self.buf = self.buf.partition(b"\n")
        return line.rstrip(b"\r").decode("utf-8", "replace")


def serve_starttls(ctx, raw, idx):
    sock = raw
    tls = False
    reader = LineReader(sock, bytewise=True)

    def send(text):
        sock.sendall(text.encode("utf-8"))

    send("220 localhost ESMTP test\r\n")
    while True:
        line = reader.readline()
        if line is None:
            if not tls:
                say("PEER-CLOSE", "eof")
            break
        say("LINE", line)
        cmd = line.split(" ", 1)[0].upper()
        if cmd == "EHLO" or cmd == "HELO":
            if tls:
                send("250-localhost secure\r\n250 AUTH PLAIN\r\n")
            else:
                send("250-localhost\r\n250 STARTTLS\r\n")
        elif cmd == "STARTTLS" and not tls:
            send("220 2.0.0 Ready to start TLS\r\n")
            conn = tls_accept(ctx, sock)
            if conn is None:
                return
            sock = conn
            tls = True
            if reader.buf:
                say("ERROR", "client pipelined data before TLS")
            reader = LineReader(sock, bytewise=False)
        elif cmd == "NOOP":
            send("250 2.0.0 OK\r\n" if tls else "250 clear\r\n")
        elif cmd == "QUIT":
            send("221 2.0.0 Bye\r\n")
            if tls:
                tls_close(sock)
            else:
                raw_close(sock)
            return
        elif cmd == "ENDTLS" and tls and ARGS.stls_endtls:
            send("220 back to clear\r\n")
            try:
                sock.settimeout(ARGS.close_timeout)
                plain = sock.unwrap()
                plain.settimeout(None)
                say("UNWRAP", "ok")
            except (ssl.SSLError, OSError, ValueError) as e:
                say("UNWRAP", "failed", str(e).replace("\n", " "))
                raw_close(sock)
                return
            if reader.buf:
                say("ERROR", "data left in TLS line buffer after ENDTLS")
            sock = plain
            tls = False
            reader = LineReader(sock, bytewise=True)
        else:
            send("500 unknown\r\n")
    try:
        if tls:
            tls_close(sock, unwrap=False)
        else:
            sock.close()
    except OSError:
        pass


MODES = {
    "echo": serve_echo,
    "sink": serve_sink,
    "source": serve_source,
    "starttls": serve_starttls,
    "http": serve_http,
    "close-early": serve_close_early,
    "silent": serve_silent,
    "garbage-after": serve_garbage_after,
    "flood-after-close": serve_flood_after_close,
    "split-utf8": serve_split_utf8,
    "record": serve_record,
}

PLAIN_MODES = {"http", "close-early", "silent"}


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mode", required=True, choices=sorted(MODES))
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--cert", help="PEM certificate chain file (leaf first)")
    p.add_argument("--key", help="PEM private key file")
    p.add_argument("--key-password", default=None)
    p.add_argument("--count", type=int, default=1,
                   help="number of sequential connections to serve")
    p.add_argument("--bytes", type=int, default=None,
                   help="sink: stop after N bytes; source: send N bytes "
                        "(default 100000); close-early: read up to N bytes; "
                        "flood-after-close: flood N bytes (default 400 MB)")
    p.add_argument("--chunk", type=int, default=None,
                   help="source: write size (default 16384)")
    p.add_argument("--timeout", type=float, default=120.0,
                   help="exit after this many seconds whatever happens")
    p.add_argument("--close-timeout", type=float, default=10.0,
                   help="seconds to wait for the peer's close_notify")
    p.add_argument("--tls-version", choices=["1.2", "1.3"], default=None)
    p.add_argument("--ciphers", default=None)
    p.add_argument("--client-ca", default=None,
                   help="CA file to verify client certificates")
    p.add_argument("--verify-client", choices=["none", "optional", "required"],
                   default="none")
    p.add_argument("--alpn", default=None, help="comma separated ALPN protocols")
    p.add_argument("--text", default=None, help="split-utf8: text to send")
    p.add_argument("--text-file", default=None,
                   help="split-utf8: file whose bytes are sent")
    p.add_argument("--message", default=None,
                   help="garbage-after: TLS data sent before the garbage")
    p.add_argument("--record-after-failure", action="store_true",
                   help="after a failed handshake, log (RAW) what the "
                        "client sends, as a man in the middle would see it")
    p.add_argument("--stls-endtls", action="store_true",
                   help="starttls: accept ENDTLS to go back to clear text")
    ARGS = p.parse_args()

    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, ARGS.timeout)

    ctx = None
    if ARGS.mode not in PLAIN_MODES:
        if not ARGS.cert or not ARGS.key:
            p.error("--cert and --key are required in mode " + ARGS.mode)
        ctx = make_context()

    family = socket.AF_INET6 if ":" in ARGS.host else socket.AF_INET
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((ARGS.host, ARGS.port))
    srv.listen(max(5, ARGS.count))
    say("READY", srv.getsockname()[1])

    handler = MODES[ARGS.mode]
    for idx in range(1, ARGS.count + 1):
        raw, addr = srv.accept()
        say("ACCEPTED", idx)
        try:
            handler(ctx, raw, idx)
        except Exception as e:  # keep serving the next client
            say("ERROR", type(e).__name__, str(e).replace("\n", " "))
            try:
                raw.close()
            except OSError:
                pass
    srv.close()
    say("DONE")


if __name__ == "__main__":
    main()
