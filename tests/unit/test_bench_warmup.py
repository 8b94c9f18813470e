"""The benchmark's warm-up sends a batch its full queue refused again, as Alertmanager would."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

import pytest

from bench.run import WARMUPS, warm_every_worker
from bench.server import KubeServer


class _Service(BaseHTTPRequestHandler):
    """Answers 503 to the first `refusals` posts, then 202, and counts the alerts it took."""

    def do_POST(self) -> None:
        server = cast(Any, self.server)
        self.rfile.read(int(self.headers["Content-Length"]))
        with server.lock:
            refuse = server.refusals > 0
            server.refusals -= refuse
            server.accepted += not refuse
        self.send_response(503 if refuse else 202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


class _QuietKube:
    """A Kubernetes API server whose call count never moves: every round is quiet."""

    def calls(self) -> int:
        return 0


@pytest.fixture
def service() -> Iterator[Any]:
    server = cast(Any, ThreadingHTTPServer(("127.0.0.1", 0), _Service))
    server.lock, server.refusals, server.accepted = threading.Lock(), WARMUPS + 3, 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_refused_batches_are_sent_again_until_taken(service: Any) -> None:
    url = f"http://127.0.0.1:{service.server_address[1]}"
    deployments = 2
    per_batch = 2 * deployments  # one alert naming the deployment, one its pod

    stored = warm_every_worker(url, cast(KubeServer, _QuietKube()), lambda: service.accepted * per_batch, deployments)

    assert service.refusals == 0  # every refusal was met, and none ended the warm-up
    # The first round loads the cache, as far as the warm-up knows; two quiet ones after it end it.
    assert stored == service.accepted * per_batch == 3 * WARMUPS * per_batch
