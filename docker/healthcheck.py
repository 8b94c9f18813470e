"""Container HEALTHCHECK: GET /healthz on the local port, over HTTPS when the service serves TLS."""

import os
import socket
import ssl
import sys
import urllib.request

port = int(os.environ.get("ALERTS_BIND", "0.0.0.0:8080").rsplit(":", 1)[-1])
try:
    if os.environ.get("ALERTS_TLS_CLIENT_CA"):
        # Mutual TLS: without a client certificate of our own, that the port accepts is all we can check.
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    elif os.environ.get("ALERTS_TLS_CERT"):
        # Loopback to ourselves: the certificate names the service, not 127.0.0.1, so it is not verified.
        context = ssl._create_unverified_context()
        urllib.request.urlopen(f"https://127.0.0.1:{port}/healthz", timeout=2, context=context)
    else:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
except OSError as exc:
    sys.exit(f"unhealthy: {exc}")
