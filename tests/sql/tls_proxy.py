#!/usr/bin/env python3
"""A TLS front for a plain gRPC server, for tests/sql/run.sh: `cxm sql --engine
spark` with `use_ssl` and a `token` reaches the local Sail server through it.

  tls_proxy.py DIR LISTEN_PORT TARGET_PORT

Makes a throw-away CA and a certificate for localhost in DIR (openssl), writes
DIR/ca.pem for the client (SSL_CERT_FILE), then accepts TLS on 127.0.0.1:LISTEN_PORT
(ALPN h2) and relays the decrypted bytes both ways to 127.0.0.1:TARGET_PORT. It writes
DIR/ready once it listens. (The headers the client sends are HPACK-compressed; the
unit tests of metrics-core/src/sql/spark.rs check them.)
"""
import asyncio
import os
import ssl
import subprocess
import sys

d, listen, target = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])


def sh(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=cxm test CA",
   "-keyout", f"{d}/ca.key", "-out", f"{d}/ca.pem", "-addext", "basicConstraints=critical,CA:TRUE",
   "-addext", "keyUsage=critical,keyCertSign")
sh("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", f"{d}/server.key",
   "-out", f"{d}/server.csr")
with open(f"{d}/ext.cnf", "w") as f:
    f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
sh("openssl", "x509", "-req", "-in", f"{d}/server.csr", "-CA", f"{d}/ca.pem", "-CAkey", f"{d}/ca.key",
   "-CAcreateserial", "-days", "2", "-out", f"{d}/server.pem", "-extfile", f"{d}/ext.cnf")

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(f"{d}/server.pem", f"{d}/server.key")
ctx.set_alpn_protocols(["h2"])


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


async def handle(reader, writer):
    up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target)
    await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer), return_exceptions=True)


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", listen, ssl=ctx)
    open(f"{d}/ready", "w").close()
    async with server:
        await server.serve_forever()


asyncio.run(main())
