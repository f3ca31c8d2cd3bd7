"""HTTPS load for the rotation test (Python's ssl): until the file STOP
exists (and at least once), one thread sends GET PATH on one keep-alive
connection and another opens a new connection for each request, both
presenting CERT/KEY and trusting CA. A socket operation that takes longer
than TIMEOUT seconds fails. Prints one JSON line: requests sent, and every
failure (a status other than 200 or an exception).

usage: https_load_client.py PORT CA CERT KEY PATH STOP TIMEOUT
"""
import http.client
import json
import os
import ssl
import sys
import threading


def main():
    port = int(sys.argv[1])
    ca, cert, key, path = sys.argv[2:6]
    stop = sys.argv[6]
    timeout = float(sys.argv[7])
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

    def stopped():
        return os.path.exists(stop)

    def keep_alive():
        connection = http.client.HTTPSConnection(
            "localhost", port, context=context, timeout=timeout)
        while True:
            try:
                record(get(connection))
            except Exception as error:  # noqa: BLE001 - every failure counts
                record("keep-alive: %r" % error)
                connection = http.client.HTTPSConnection(
                    "localhost", port, context=context, timeout=timeout)
            if stopped():
                break
        connection.close()

    def new_connections():
        while True:
            connection = http.client.HTTPSConnection(
                "localhost", port, context=context, timeout=timeout)
            try:
                record(get(connection))
                with lock:
                    counts["new_connections"] += 1
            except Exception as error:  # noqa: BLE001
                record("new connection: %r" % error)
            finally:
                connection.close()
            if stopped():
                break

    threads = [threading.Thread(target=keep_alive),
               threading.Thread(target=new_connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps(counts), flush=True)


if __name__ == "__main__":
    main()
