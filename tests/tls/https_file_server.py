"""A static HTTPS file server for tests (Python's ssl): serves DIRECTORY on
127.0.0.1 with CERTIFICATE and KEY, prints its port on the first line of
stdout, and runs until killed.

usage: https_file_server.py CERTIFICATE KEY DIRECTORY
"""
import functools
import http.server
import ssl
import sys


def main():
    certificate, key, directory = sys.argv[1:4]
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=directory)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
