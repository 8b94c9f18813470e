"""The query contract: filters, matchers, order, paging, history and stats answer identically on every store."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alerts_processor.interfaces import IAlertsRepository
from alerts_processor.models import Delivery, ProcessedAlert, RawAlert, Validation, ValidationStatus, WorkloadRef
from alerts_processor.pipeline.sanitize import Sanitizer
from alerts_processor.query import AlertQuery, parse_matcher
from tests.fakes import InMemoryAlertsRepository
from tests.stores import STORES, make_store

T0 = datetime(2026, 11, 1, tzinfo=UTC)
NAMESPACES = ["shop", "billing", "monitoring"]
ALERTNAMES = ["KubePodCrashLooping", "HighErrorRate", "KubeDeploymentReplicasMismatch", "TargetDown"]


def history() -> list[ProcessedAlert]:
    """A reproducible history: 80 episodes, some redelivered and resolved, with varied labels and outcomes."""
    rng = random.Random(7)
    items: list[ProcessedAlert] = []
    for i in range(80):
        ns = NAMESPACES[i % 3]
        deployment = f"svc{i % 5}"
        labels = {"alertname": ALERTNAMES[i % 4], "namespace": ns, "deployment": deployment,
                  "severity": ["critical", "warning", "info"][i % 3], "team": ["payments", "web", ""][i % 3],
                  "pod": f"{deployment}-7b9f5c6d4-{i:05d}", "idx": str(i)}  # fmt: skip
        if i % 7 == 0:
            del labels["team"]
        starts = T0 + timedelta(minutes=37 * i)
        status_seq = ["firing"] * rng.randint(1, 3) + (["resolved"] if i % 4 == 0 else [])
        for n, status in enumerate(status_seq):
            ends = (starts + timedelta(hours=1)).isoformat() if status == "resolved" else ""
            raw = RawAlert(status, labels, {"summary": f"episode {i}"}, starts.isoformat(), ends, "", "")
            alert = Sanitizer().sanitize(raw)
            validation = [ValidationStatus.VALID, ValidationStatus.INVALID, ValidationStatus.UNKNOWN][i % 3]
            enrichment = {"release": {"suspect": i % 5 == 0, "revision": str(i % 4)}} if i % 3 == 0 else None
            received = starts + timedelta(minutes=5 * n, seconds=i)
            items.append(ProcessedAlert(
                alert, Validation(validation, None if validation is ValidationStatus.VALID else "why"),
                WorkloadRef("Deployment", deployment), enrichment,
                Delivery(f"d{i}-{n}", ["agent", "pager"][i % 2], f"gk{i % 4}", received),
            ))  # fmt: skip
    return items


@pytest.fixture(params=STORES)
def repo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[IAlertsRepository]:
    store = make_store(request.param, tmp_path, request)
    for item in history():
        store.save(item)
    yield store
    store.close()


@pytest.fixture(scope="module")
def reference() -> Iterator[IAlertsRepository]:
    store = InMemoryAlertsRepository()
    for item in history():
        store.save(item)
    yield store


def q(*matchers: str, **fields: object) -> AlertQuery:
    return AlertQuery(matchers=tuple(parse_matcher(m) for m in matchers), limit=500, **fields)  # type: ignore[arg-type]


QUERIES = {
    "all": q(),
    "status": q(status="resolved"),
    "alertname": q(alertname="HighErrorRate"),
    "severity": q(severity="critical"),
    "namespace": q(namespace="billing"),
    "deployment": q(deployment="svc3"),
    "workload": q(namespace="shop", workload_kind="Deployment", workload_name="svc0"),
    "validation": q(validation="unknown"),
    "suspect": q(release_suspect=True),
    "not suspect": q(release_suspect=False),
    "receiver": q(receiver="pager"),
    "fingerprint": q(fingerprint="0" * 16),
    "window": q(since=T0 + timedelta(hours=10), until=T0 + timedelta(hours=30)),
    "label =": q('team="payments"'),
    "label = empty (absent too)": q('team=""'),
    "label !=": q('team!="web"'),
    "label != empty": q('team!=""'),
    "label =~": q('pod=~"svc[12]-.*"'),
    "label =~ matching empty": q('team=~"pay.*|"'),
    "label !~": q('idx!~"[0-9]"'),
    "label absent name": q('nosuch="x"'),
    "combined": q('severity=~"critical|warning"', 'team!="payments"', namespace="shop", status="firing"),
    "by last_received asc": q(sort="last_received_at", descending=False),
}


@pytest.mark.parametrize("name", list(QUERIES))
def test_every_store_answers_like_the_reference(repo: IAlertsRepository, reference: IAlertsRepository,
                                                name: str) -> None:  # fmt: skip
    expected = [r.id for r in reference.query(QUERIES[name]).records]
    assert [r.id for r in repo.query(QUERIES[name]).records] == expected


def test_reference_semantics(reference: IAlertsRepository) -> None:
    def count(query: AlertQuery) -> int:
        return len(reference.query(query).records)

    assert count(q()) == 80
    assert count(q(status="resolved")) == 20
    assert count(q(severity="critical")) == 27
    assert count(q('team=""')) == count(q('team!~".+"')) == 26 + 8  # '' (i%3==2) plus the absent ones
    assert count(q('idx=~"1"')) == 1 and count(q('idx=~"1.*"')) == 11
    records = reference.query(q()).records
    assert [r.starts_at for r in records] == sorted((r.starts_at for r in records), reverse=True)


@pytest.mark.parametrize("sort", ["starts_at", "last_received_at"])
@pytest.mark.parametrize("descending", [True, False])
def test_cursor_paging_walks_every_record_once(repo: IAlertsRepository, sort: str, descending: bool) -> None:
    full = [r.id for r in repo.query(AlertQuery(sort=sort, descending=descending, limit=500)).records]
    seen: list[str] = []
    page = repo.query(AlertQuery(sort=sort, descending=descending, limit=7, namespace=None))
    while True:
        seen += [r.id for r in page.records]
        if page.next is None:
            break
        page = repo.query(AlertQuery(sort=sort, descending=descending, limit=7, after=page.next))
    assert seen == full and len(seen) == 80


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("sort", ["starts_at", "last_received_at"])
def test_paging_through_episodes_that_started_together(
    store: str, sort: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # One rule evaluation fires for many pods at once: their episodes tie on the time and are
    # ordered by id, page after page, whichever index found them.
    repo = make_store(store, tmp_path, request)
    ids: dict[str, str] = {}
    for i in range(30):
        labels = {"alertname": "KubePodCrashLooping", "namespace": NAMESPACES[i % 2], "pod": f"web-{i:02d}"}
        alert = Sanitizer().sanitize(RawAlert("firing", labels, {}, T0.isoformat(), "", "", ""))
        ids[alert.id] = labels["namespace"]
        repo.save(ProcessedAlert(alert, Validation(ValidationStatus.VALID, None), None, None,
                                 Delivery(f"tie{i}", "agent", "gk", T0)))  # fmt: skip
    for namespace in (None, NAMESPACES[0]):
        expected = sorted((i for i, ns in ids.items() if namespace in (None, ns)), reverse=True)
        seen: list[str] = []
        page = repo.query(AlertQuery(sort=sort, limit=4, namespace=namespace))
        while True:
            seen += [r.id for r in page.records]
            if page.next is None:
                break
            page = repo.query(AlertQuery(sort=sort, limit=4, namespace=namespace, after=page.next))
        assert seen == expected and len(seen) == (30 if namespace is None else 15)
    repo.close()


def test_history_lists_every_delivery(repo: IAlertsRepository, reference: IAlertsRepository) -> None:
    resolved = repo.query(q(status="resolved")).records[0]
    notifications = repo.history(resolved.id)
    assert len(notifications) == resolved.notifications
    assert [n.status for n in notifications][-1] == "resolved"
    assert [n.received_at for n in notifications] == sorted(n.received_at for n in notifications)
    assert notifications == list(reference.history(resolved.id))
    assert repo.history("nope") == []


def test_stats_match_the_reference(repo: IAlertsRepository, reference: IAlertsRepository) -> None:
    for since, until in ((None, None), (T0 + timedelta(hours=5), T0 + timedelta(hours=40))):
        stats = repo.stats(since, until, top=3)
        expected = reference.stats(since, until, top=3)
        assert stats == expected
    everything = repo.stats(None, None, top=10)
    assert everything.total == 80 and everything.by_status == {"firing": 60, "resolved": 20}
    assert everything.by_namespace == {"shop": 27, "billing": 27, "monitoring": 26}
    assert everything.top_alertnames == [("HighErrorRate", 20), ("KubeDeploymentReplicasMismatch", 20),
                                         ("KubePodCrashLooping", 20), ("TargetDown", 20)]  # fmt: skip
    assert everything.by_workload["shop/Deployment/svc0"] == 6
