"""The read API over HTTP: filters, matchers, cursor paging, history, timeline, stats, export, OpenAPI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from openapi_spec_validator import validate

from alerts_processor.config import Settings
from tests import kube_api as k
from tests.conftest import LiveServer
from tests.helpers import alert, payload, wait_until

Serve = Callable[..., LiveServer]


@pytest.fixture
def server(serve: Serve, settings: Settings) -> LiveServer:
    live = serve(settings)
    alerts = [
        alert(starts_at=f"2026-11-29T{h:02d}:00:00Z", namespace=ns, deployment=dep, severity=sev, team=team,
              pod=f"{dep}-abc-{h}")
        for h, (ns, dep, sev, team) in enumerate([
            ("shop", "web", "critical", "web"), ("shop", "web", "warning", "web"), ("shop", "api", "critical", "api"),
            ("billing", "ledger", "critical", "payments"), ("billing", "ledger", "info", "payments"),
            ("billing", "payments", "warning", "payments"), ("monitoring", "prom", "warning", ""),
        ])
    ]  # fmt: skip
    requests.post(live.url + "/webhooks/alertmanager", json=payload(*alerts), timeout=5)
    resolved = alert("resolved", starts_at="2026-11-29T00:00:00Z", ends_at="2026-11-29T00:30:00Z", namespace="shop",
                     deployment="web", severity="critical", team="web", pod="web-abc-0")  # fmt: skip
    live.records(7)
    requests.post(live.url + "/webhooks/alertmanager", json=payload(resolved, status="resolved"), timeout=5)
    wait_until(lambda: get(live, "/api/v1/alerts", status="resolved").json()["alerts"], message="the resolution stored")
    return live


def get(server: LiveServer, path: str, **params: Any) -> requests.Response:
    return requests.get(server.url + path, params=params, timeout=5)


def names(response: requests.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [f"{r['namespace']}/{r['deployment']}/{r['severity']}" for r in response.json()["alerts"]]


def test_filters_and_matchers(server: LiveServer) -> None:
    assert names(get(server, "/api/v1/alerts", namespace="billing")) == [
        "billing/payments/warning", "billing/ledger/info", "billing/ledger/critical"]  # fmt: skip
    assert names(get(server, "/api/v1/alerts", severity="critical", order="asc")) == [
        "shop/web/critical", "shop/api/critical", "billing/ledger/critical"]  # fmt: skip
    assert len(names(get(server, "/api/v1/alerts", filter=['team=~"web|api"', 'severity!="warning"']))) == 2
    assert names(get(server, "/api/v1/alerts", filter='team=""')) == ["monitoring/prom/warning"]
    assert names(get(server, "/api/v1/alerts", deployment="web", status="resolved")) == ["shop/web/critical"]
    window = get(server, "/api/v1/alerts", since="2026-11-29T02:00:00Z", until="2026-11-29T04:00:00+00:00")
    assert names(window) == ["billing/ledger/critical", "shop/api/critical"]
    assert names(get(server, "/api/v1/alerts", validation="skipped", receiver="release-engineer-agent")) != []


def test_cursor_paging_follows_next_links(server: LiveServer) -> None:
    seen: list[str] = []
    url: str | None = server.url + "/api/v1/alerts?limit=3&sort=last_received_at"
    while url:
        response = requests.get(url, timeout=5)
        seen += [r["id"] for r in response.json()["alerts"]]
        url = response.json()["next"]
        if url:
            assert response.headers["Link"] == f'<{url}>; rel="next"'
    assert len(seen) == len(set(seen)) == 7


@pytest.mark.parametrize(("params", "parameter"), [
    ({"limit": "0"}, "limit"), ({"limit": "x"}, "limit"), ({"status": "open"}, "status"),
    ({"since": "yesterday"}, "since"), ({"until": "2026-11-29T00:00:00"}, "until"), ({"sort": "id"}, "sort"),
    ({"filter": "team~web"}, "filter"), ({"filter": 'team=~"("'}, "filter"), ({"cursor": "bogus"}, "cursor"),
    ({"namepsace": "shop"}, "namepsace"), ({"release_suspect": "maybe"}, "release_suspect"),
])  # fmt: skip
def test_bad_parameters_are_400_naming_them(server: LiveServer, params: dict[str, str], parameter: str) -> None:
    response = get(server, "/api/v1/alerts", **params)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_parameter" and response.json()["detail"].startswith(parameter + ":")


def test_one_alert_carries_its_history(server: LiveServer) -> None:
    (record,) = get(server, "/api/v1/alerts", deployment="web", status="resolved").json()["alerts"]
    detail = get(server, f"/api/v1/alerts/{record['id']}").json()
    assert [h["status"] for h in detail["history"]] == ["firing", "resolved"]
    assert detail["notifications"] == 2 and detail["ends_at"] == "2026-11-29T00:30:00.000000Z"


def test_stats_over_a_window(server: LiveServer) -> None:
    stats = get(server, "/api/v1/stats", since="2026-11-29T00:00:00Z", until="2026-11-30T00:00:00Z", top=2).json()
    assert stats["total"] == 7 and stats["by_status"] == {"firing": 6, "resolved": 1}
    assert stats["by_severity"] == {"critical": 3, "warning": 3, "info": 1}
    assert stats["by_namespace"] == {"shop": 3, "billing": 3, "monitoring": 1}
    assert stats["by_workload"]["billing/Deployment/ledger"] == 2
    assert stats["top_alertnames"] == [{"alertname": "DeploymentUnavailable", "count": 7}]
    assert get(server, "/api/v1/stats", top="0").status_code == 400


def test_export_streams_ndjson_oldest_first(server: LiveServer) -> None:
    response = requests.get(server.url + "/api/v1/export", params={"since": "2026-11-29T01:00:00Z"}, stream=True,
                            timeout=5)  # fmt: skip
    assert response.headers["Content-Type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in response.iter_lines() if line]
    assert [r["starts_at"][:13] for r in lines] == [f"2026-11-29T{h:02d}" for h in range(1, 7)]
    assert get(server, "/api/v1/export").status_code == 400  # since is required


def test_workload_timeline_interleaves_rollouts(serve: Serve, settings: Settings, kube_api: k.FakeKubeApi,
                                                tmp_path: Path) -> None:  # fmt: skip
    kube_api.add(
        k.namespace("shop"), k.deployment("shop", "checkout", revision="3", images=("shop/checkout:2.0",)),
        k.replicaset("shop", "checkout", "aaa", revision="2", images=("shop/checkout:1.9",),
                     created="2026-11-28T09:00:00Z"),
        k.replicaset("shop", "checkout", "bbb", revision="3", images=("shop/checkout:2.0",),
                     created="2026-11-30T10:00:00Z"),
    )  # fmt: skip
    kubeconfig = kube_api.write_kubeconfig(tmp_path / "kubeconfig")
    live = serve(settings.with_overrides(k8s_mode="kubeconfig", kubeconfig=str(kubeconfig)))
    after = alert(starts_at="2026-11-30T10:05:00Z", namespace="shop", deployment="checkout")
    before = alert(starts_at="2026-11-30T09:00:00Z", namespace="shop", deployment="checkout", x="1")
    document = payload(after, before)
    requests.post(live.url + "/webhooks/alertmanager", json=document, timeout=5)
    live.records(2)
    events = get(live, "/api/v1/workloads/shop/deployment/checkout/timeline").json()["events"]
    assert [(e["type"], e["time"][:16]) for e in events] == [
        ("alert", "2026-11-30T10:05"), ("rollout", "2026-11-30T10:00"), ("alert", "2026-11-30T09:00")]  # fmt: skip
    assert events[0]["release_suspect"] is True and events[2]["release_suspect"] is False
    assert events[1]["revision"] == "3" and events[1]["image_changes"][0]["to"] == "shop/checkout:2.0"
    assert get(live, "/api/v1/workloads/shop/cronjob/x/timeline").status_code == 400


def test_openapi_document_is_valid_and_complete(server: LiveServer) -> None:
    spec = get(server, "/openapi.json").json()
    validate(spec)
    assert spec["openapi"] == "3.1.0"
    routes = {str(rule) for rule in server.app.url_map.iter_rules() if rule.endpoint != "static"}
    documented = {path.replace("{", "<").replace("}", ">") for path in spec["paths"]}
    assert {r.replace("<alert_id>", "<id>") for r in routes} == documented
