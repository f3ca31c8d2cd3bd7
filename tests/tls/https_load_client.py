"""HTTPS load for the rotation test (Python's ssl): for SECONDS, one thread
sends GET PATH on one keep-alive connection and another opens a new
connection for each request, both presenting CERT/KEY and trusting CA.
Prints one JSON line: requests sent, and every failure (a status other than
200 or an exception).

usage: https_load_client.py PORT CA CERT KEY PATH SECONDS
"""
import http.client
import json
import ssl
import sys
import threading
import time


def main():
    port = int(sys.argv[1])
    ca, cert, key, path = sys.argv[2:6]
    deadline = time.monotonic() + float(sys.argv[6])
    context = ssl.create_default_context(cafile=ca)
    context.load_cert_chain(cert, key)
    lock = threading.Lock()
    counts = {"requests": 0, "failures": [], "new_connections": 0}

    def record(failure):
        with lock:
            counts["requests"] += 1
            if failure:
                counts["failures"].append(failure)

    def get(connection):
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            return "HTTP %d %s" % (response.status, body[:100])
        return None

    def keep_alive():
        connection = http.client.HTTPSConnection(
            "localhost", port, context=context, timeout=10)
        while time.monotonic() < deadline:
            try:
                record(get(connection))
            except Exception as error:  # noqa: BLE001 - every failure counts
                record("keep-alive: %r" % error)
                connection = http.client.HTTPSConnection(
                    "localhost", port, context=context, timeout=10)
        connection.close()

    def new_connections():
        while time.monotonic() < deadline:
            connection = http.client.HTTPSConnection(
                "localhost", port, context=context, timeout=10)
            try:
                record(get(connection))
                with lock:
                    counts["new_connections"] += 1
            except Exception as error:  # noqa: BLE001
                record("new connection: %r" % error)
            finally:
                connection.close()

    threads = [threading.Thread(target=keep_alive),
               threading.Thread(target=new_connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps(counts), flush=True)


if __name__ == "__main__":
    main()
