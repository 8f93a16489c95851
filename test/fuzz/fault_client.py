#!/usr/bin/python3
"""A TLS client that misbehaves on purpose, for ossl's fault injection tests.

  fault_client.py PORT CAFILE

Handshakes with the server on 127.0.0.1:PORT, sends "hello\\n", then its
close_notify, and at once resets the TCP connection: the server's answer
to the close_notify meets a dead socket.  Prints DONE.
"""
import socket, ssl, struct, sys, time
port = int(sys.argv[1]); ca = sys.argv[2]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.load_verify_locations(ca)
sock = socket.create_connection(("127.0.0.1", port))
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
def flush():
    d = out.read()
    if d: sock.sendall(d)
while True:
    try:
        obj.do_handshake(); break
    except ssl.SSLWantReadError:
        flush(); inc.write(sock.recv(65536))
flush()
obj.write(b"hello\n"); flush()
time.sleep(0.3)
try:
    obj.unwrap()
except ssl.SSLWantReadError:
    pass
flush()                      # our close_notify is out
sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
sock.close()                 # and a reset right behind it
print("DONE", flush=True)
