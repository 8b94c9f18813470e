"""Keep-alive connections are closed after ALERTS_KEEPALIVE_REQUESTS answers, so clients spread over workers."""

from __future__ import annotations

import http.client
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import Service

pytestmark = pytest.mark.e2e


def test_a_connection_is_closed_after_its_requests(start_service: Callable[..., Service]) -> None:
    service = start_service(ALERTS_KEEPALIVE_REQUESTS="3")
    address = urlsplit(service.url)
    conn = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
    seen = []
    for _ in range(7):
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        assert response.status == 200 and response.read()
        seen.append(response.getheader("Connection"))
        # http.client connects again by itself after a `close`, as Alertmanager's client does.
    conn.close()
    assert seen == ["keep-alive", "keep-alive", "close"] * 2 + ["keep-alive"]
