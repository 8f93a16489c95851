#!/usr/bin/python3
"""A TLS server that misbehaves on purpose, for ossl's fault injection tests.

Listens on 127.0.0.1 port 0, prints "READY <port>", serves --count
connections one after the other in --mode, prints "DONE" and exits; it
always exits by itself after --timeout seconds.

Modes:
  reset-in-handshake  read the ClientHello, then reset the TCP connection
  reset-in-transfer   handshake, send --bytes of data, then reset
  garbage             handshake, then write bytes that are not TLS
  oversized           handshake, then a record header announcing 2^14+2049
                      bytes, more than any TLS version allows, and the bytes
  bad-mac             handshake, then a well-formed application-data record
                      of random bytes (fails authentication)
  stall               accept and read, never answer
  truncate            handshake, send "hello\\n", then close TCP without
                      close_notify
  truncate-utf8       the same after "caf" and the first byte of a character
  clean               handshake, send "hello\\n", then close_notify and close

Events on stdout, one a line: READY, ACCEPTED, HANDSHAKE, SENT <n>, FAULT
<what>, DONE.
"""

import argparse
import os
import signal
import socket
import ssl
import struct
import sys
import time


def say(*parts):
    sys.stdout.write(" ".join(str(p) for p in parts) + "\n")
    sys.stdout.flush()


def reset(sock):
    """Close SOCK with an RST instead of a FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def handshake(ctx, raw):
    conn = ctx.wrap_socket(raw, server_side=True, suppress_ragged_eofs=False)
    say("HANDSHAKE", conn.version())
    return conn


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--bytes", type=int, default=65536)
    p.add_argument("--tls-version", choices=["1.2", "1.3"], default=None)
    p.add_argument("--timeout", type=float, default=60)
    args = p.parse_args()
    signal.signal(signal.SIGALRM, lambda *_: os._exit(3))
    signal.setitimer(signal.ITIMER_REAL, args.timeout)

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    if args.tls_version:
        v = {"1.2": ssl.TLSVersion.TLSv1_2,
             "1.3": ssl.TLSVersion.TLSv1_3}[args.tls_version]
        ctx.minimum_version = ctx.maximum_version = v

    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    say("READY", srv.getsockname()[1])
    for idx in range(1, args.count + 1):
        raw, _ = srv.accept()
        say("ACCEPTED", idx)
        try:
            serve(args, ctx, raw)
        except Exception as e:          # keep serving
            say("ERROR", type(e).__name__, str(e).replace("\n", " "))
            try:
                raw.close()
            except OSError:
                pass
    say("DONE")


def serve(args, ctx, raw):
    mode = args.mode
    if mode == "reset-in-handshake":
        data = raw.recv(65536)
        say("RECEIVED", len(data))
        reset(raw)
        say("FAULT", "reset")
    elif mode == "stall":
        raw.recv(65536)
        time.sleep(args.timeout)
    else:
        conn = handshake(ctx, raw)
        if mode == "reset-in-transfer":
            block = bytes(range(256)) * 64
            sent = 0
            while sent < args.bytes:
                conn.sendall(block)
                sent += len(block)
            say("SENT", sent)
            time.sleep(0.1)
            reset(conn)
            say("FAULT", "reset")
        elif mode == "garbage":
            conn.sendall(b"before\n")
            time.sleep(0.1)
            os.write(conn.fileno(), b"\x00GARBAGE, NOT A TLS RECORD\r\n" * 4)
            say("FAULT", "garbage")
            time.sleep(0.5)
            conn.close()
        elif mode == "oversized":
            conn.sendall(b"before\n")
            time.sleep(0.1)
            n = 2 ** 14 + 2049
            os.write(conn.fileno(), bytes([23, 3, 3]) + n.to_bytes(2, "big"))
            os.write(conn.fileno(), os.urandom(n))
            say("FAULT", "oversized", n)
            time.sleep(0.5)
            conn.close()
        elif mode == "bad-mac":
            conn.sendall(b"before\n")
            time.sleep(0.1)
            body = os.urandom(64)
            os.write(conn.fileno(), bytes([23, 3, 3]) + len(body).to_bytes(2, "big")
                     + body)
            say("FAULT", "bad-mac")
            time.sleep(0.5)
            conn.close()
        elif mode == "truncate":
            conn.sendall(b"hello\n")
            say("SENT", 6)
            time.sleep(0.1)
            conn.shutdown(socket.SHUT_RDWR)  # TCP FIN, no close_notify
            conn.close()
            say("FAULT", "truncate")
        elif mode == "truncate-utf8":
            conn.sendall(b"caf\xc3")    # the first byte of a character
            say("SENT", 4)
            time.sleep(0.1)
            conn.shutdown(socket.SHUT_RDWR)
            conn.close()
            say("FAULT", "truncate")
        elif mode == "clean":
            conn.sendall(b"hello\n")
            say("SENT", 6)
            conn.settimeout(5)
            try:
                conn.unwrap()
                say("UNWRAP", "ok")
            except (ssl.SSLError, OSError, ValueError) as e:
                say("UNWRAP", "failed", e)
            conn.close()
        else:
            raise SystemExit("unknown mode " + mode)


if __name__ == "__main__":
    main()
