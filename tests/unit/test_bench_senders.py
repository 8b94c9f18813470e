"""The benchmark's senders: the warm-up and the load processes, against a fake service on loopback."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

import pytest

from bench.load import Plan, client
from bench.run import WARMUPS, warm_every_worker
from bench.server import KubeServer


class _Service(BaseHTTPRequestHandler):
    """Answers 503 to the first `refusals` posts and 202 after them, each `delay` seconds late."""

    protocol_version = "HTTP/1.1"  # keep-alive, as gunicorn: the load's client expects it

    def do_POST(self) -> None:
        server = cast(Any, self.server)
        self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(server.delay)  # a slow server, simulated
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
    server.lock, server.refusals, server.accepted, server.delay = threading.Lock(), 0, 0, 0.0
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_the_warm_up_sends_refused_batches_again_until_taken(service: Any) -> None:
    service.refusals = WARMUPS + 3  # a whole round refused, and some of the next
    deployments = 2
    per_batch = 2 * deployments  # one alert naming the deployment, one its pod

    stored = warm_every_worker(
        service.url, cast(KubeServer, _QuietKube()), lambda: service.accepted * per_batch, deployments
    )

    assert service.refusals == 0  # every refusal was met, and none ended the warm-up
    # The first round loads the cache, as far as the warm-up knows; two quiet ones after it end it.
    assert stored == service.accepted * per_batch == 3 * WARMUPS * per_batch


def test_a_batch_held_back_by_slow_answers_is_timed_from_when_it_was_due(service: Any) -> None:
    service.delay = 0.02  # each answer takes 20 ms; the plan wants a batch every 10 ms
    plan = Plan(service.url + "/webhooks/alertmanager", 0.2, 100.0, sizes=(1,), weights=(1.0,), deployments=2)
    results: Any = multiprocessing.Queue()

    client(0, plan, results, multiprocessing.Barrier(1))

    seen = results.get(timeout=10)
    assert seen["answers"] == {"202": 21}  # due at 0, 10 ... 200 ms
    # One connection, one batch at a time: the last batch left about 220 ms late. Timed from its
    # start, every batch would show the 20 ms of a single answer, and the backlog would be hidden.
    assert max(seen["latencies"]) > 5 * service.delay
    assert min(seen["latencies"]) >= service.delay
