"""One contract, every store: the fake, SQLite and MongoDB (mongomock) must behave identically."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alerts_processor.interfaces import IAlertsRepository
from alerts_processor.models import (
    Delivery,
    ProcessedAlert,
    RawAlert,
    Validation,
    ValidationStatus,
    WorkloadRef,
)
from alerts_processor.pipeline.sanitize import Sanitizer
from tests.stores import STORES, make_store

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture(params=STORES)
def repo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[IAlertsRepository]:
    store = make_store(request.param, tmp_path, request)
    yield store
    store.close()


def processed(
    delivery_id: str,
    status: str = "firing",
    starts: str = "2026-11-30T04:00:00Z",
    received: datetime = T0,
    enrichment: dict[str, object] | None = None,
    validation: ValidationStatus = ValidationStatus.VALID,
    **labels: str,
) -> ProcessedAlert:
    ends = "2026-11-30T05:00:00Z" if status == "resolved" else "0001-01-01T00:00:00Z"
    labels = {"alertname": "KubePodCrashLooping", "namespace": "prod", "deployment": "web", **labels}
    alert = Sanitizer().sanitize(RawAlert(status, labels, {"summary": delivery_id}, starts, ends, "http://p", ""))
    return ProcessedAlert(
        alert=alert,
        validation=Validation(validation, None if validation is ValidationStatus.VALID else "why"),
        workload=WorkloadRef("Deployment", "web"),
        enrichment=enrichment,
        delivery=Delivery(delivery_id, "rcv", "gk", received),
    )


def test_first_delivery_creates_the_record(repo: IAlertsRepository) -> None:
    p = processed("b1:0", enrichment={"replicas": {"desired": 3}})
    assert repo.save(p)
    record = repo.get(p.alert.id)
    assert record is not None
    assert (record.id, record.fingerprint, record.alertname, record.severity) == (
        p.alert.id,
        p.alert.fingerprint,
        "KubePodCrashLooping",
        "warning",
    )
    assert (record.status, record.namespace, record.deployment) == ("firing", "prod", "web")
    assert record.workload == WorkloadRef("Deployment", "web")
    assert record.starts_at == datetime(2026, 11, 30, 4, tzinfo=UTC) and record.ends_at is None
    assert record.labels == p.alert.labels and record.annotations == {"summary": "b1:0"}
    assert (record.receiver, record.group_key, record.generator_url) == ("rcv", "gk", "http://p")
    assert record.validation == Validation(ValidationStatus.VALID, None)
    assert record.enrichment == {"replicas": {"desired": 3}}
    assert record.notifications == 1 and record.first_received_at == record.last_received_at == T0


def test_alerts_sharing_an_enrichment_document_each_store_it(repo: IAlertsRepository) -> None:
    shared = {"kind": "Deployment", "release": {"suspect": True}}
    alerts = [processed(f"s{n}:0", enrichment=shared, pod=f"p{n}") for n in range(3)]
    assert repo.save_many(alerts) == [True] * 3
    expected = {alert.alert.id: shared for alert in alerts}
    # Documents made and dropped one after another: their ids are often reused, their contents never.
    for n in range(20):
        alert = processed(f"d{n}:0", enrichment={"replicas": {"desired": n}}, pod=f"q{n}")
        assert repo.save(alert)
        expected[alert.alert.id] = {"replicas": {"desired": n}}
        del alert
    for alert_id, enrichment in expected.items():
        record = repo.get(alert_id)
        assert record is not None and record.enrichment == enrichment


def test_redeliveries_update_one_record(repo: IAlertsRepository) -> None:
    repo.save(processed("b1:0", enrichment={"rev": "1"}))
    repo.save(processed("b2:0", received=T0 + timedelta(minutes=5)))
    repo.save(processed("b3:0", "resolved", received=T0 + timedelta(minutes=10)))
    (record,) = repo.list(10)
    assert record.notifications == 3 and record.status == "resolved"
    assert record.ends_at == datetime(2026, 11, 30, 5, tzinfo=UTC)
    assert record.first_received_at == T0 and record.last_received_at == T0 + timedelta(minutes=10)
    assert record.enrichment == {"rev": "1"}  # a failed enrichment keeps the last good one
    assert record.annotations == {"summary": "b3:0"}


def test_a_redelivery_with_a_new_enrichment_replaces_it(repo: IAlertsRepository) -> None:
    repo.save(processed("b1:0", enrichment={"rev": "1"}))
    repo.save(processed("b2:0", received=T0 + timedelta(minutes=5), enrichment={"rev": "2"}))
    (record,) = repo.list(10)
    assert record.notifications == 2 and record.enrichment == {"rev": "2"}


def test_same_delivery_applied_once(repo: IAlertsRepository) -> None:
    assert repo.save(processed("b1:0"))
    assert not repo.save(processed("b1:0"))
    assert repo.list(10)[0].notifications == 1


def test_a_group_applies_each_delivery_once(repo: IAlertsRepository) -> None:
    assert repo.save(processed("old:0", pod="a"))
    group = [processed("g:0", pod="a"), processed("g:0", pod="a"), processed("old:0", pod="a"),
             processed("g:1", pod="b"), processed("g:2", pod="b", received=T0 + timedelta(seconds=5))]  # fmt: skip
    assert repo.save_many(group) == [True, False, False, True, True]
    a, b = group[0].alert.id, group[3].alert.id
    record_a, record_b = repo.get(a), repo.get(b)
    assert record_a is not None and record_a.notifications == 2
    assert record_b is not None and record_b.notifications == 2
    assert record_b.last_received_at == T0 + timedelta(seconds=5)


def test_overlapping_groups_from_several_writers_count_exactly(repo: IAlertsRepository) -> None:
    # Replicas commit groups that share deliveries and episodes, in any order: no deadlock, no double count.
    deliveries = [processed(f"o{n}:0", pod=f"p{n % 10}", received=T0 + timedelta(seconds=n)) for n in range(30)]
    groups = [deliveries[i::3] + deliveries[: i * 5][::-1] for i in range(3)] * 2
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(repo.save_many, groups))
    assert sum(sum(applied) for applied in results) == 30
    for n in range(10):
        record = repo.get(processed("x:0", pod=f"p{n}").alert.id)
        assert record is not None and record.notifications == 3


def test_late_firing_does_not_reopen_a_resolved_episode(repo: IAlertsRepository) -> None:
    repo.save(processed("b1:0", "resolved", received=T0 + timedelta(minutes=10)))
    repo.save(processed("b0:0", "firing", received=T0))
    (record,) = repo.list(10)
    assert record.status == "resolved" and record.ends_at is not None and record.notifications == 2
    assert record.first_received_at == T0


def test_new_start_is_a_new_episode(repo: IAlertsRepository) -> None:
    repo.save(processed("b1:0", starts="2026-11-30T04:00:00Z"))
    repo.save(processed("b2:0", starts="2026-11-30T06:00:00Z"))
    repo.save(processed("b3:0", starts="2026-11-30T05:00:00Z", deployment="api"))
    listed = repo.list(10)
    assert [r.starts_at.hour for r in listed] == [6, 5, 4]  # newest first
    assert len(repo.list(2)) == 2
    assert repo.get("nope") is None


def test_concurrent_redeliveries_count_exactly(repo: IAlertsRepository) -> None:
    deliveries = [processed(f"b{i}:0", received=T0 + timedelta(seconds=i)) for i in range(40)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(repo.save, deliveries + deliveries))
    assert sum(results) == 40
    (record,) = repo.list(10)
    assert record.notifications == 40 and record.last_received_at == T0 + timedelta(seconds=39)


def test_inbox_lease_claim_finish_bury(repo: IAlertsRepository) -> None:
    repo.add_inbox("e1", b'{"a": 1}', T0, T0 + timedelta(seconds=30))
    repo.add_inbox("e2", b"{}", T0 + timedelta(seconds=1), T0 + timedelta(seconds=31))
    assert repo.pending_inbox() == 2
    assert repo.claim_inbox(T0 + timedelta(seconds=10), T0 + timedelta(seconds=40), 10) == []
    claimed = repo.claim_inbox(T0 + timedelta(seconds=60), T0 + timedelta(seconds=90), 1)
    assert [(e.id, e.body, e.received_at, e.attempts) for e in claimed] == [("e1", b'{"a": 1}', T0, 2)]
    # leased again: a second claimer at the same moment gets the other entry only
    assert [e.id for e in repo.claim_inbox(T0 + timedelta(seconds=60), T0 + timedelta(seconds=90), 10)] == ["e2"]
    repo.finish_inbox("e1")
    repo.bury_inbox("e2", "gave up")
    assert repo.pending_inbox() == 0
    assert repo.claim_inbox(T0 + timedelta(hours=1), T0 + timedelta(hours=2), 10) == []


def test_inbox_entries_finish_together(repo: IAlertsRepository) -> None:
    for n in range(3):
        repo.add_inbox(f"e{n}", b"{}", T0, T0 + timedelta(seconds=30))
    repo.finish_inbox_many(["e0", "e2", "unknown"])
    assert repo.pending_inbox() == 1
    assert [e.id for e in repo.claim_inbox(T0 + timedelta(hours=1), T0 + timedelta(hours=2), 10)] == ["e1"]


def test_held_entries_are_renewed_and_not_claimed(repo: IAlertsRepository) -> None:
    repo.add_inbox("held", b"{}", T0, T0 + timedelta(seconds=30))
    repo.add_inbox("lapsed", b"{}", T0, T0 + timedelta(seconds=30))
    repo.renew_inbox(["held", "unknown"], T0 + timedelta(seconds=90))
    claimed = repo.claim_inbox(T0 + timedelta(seconds=60), T0 + timedelta(seconds=120), 10)
    assert [e.id for e in claimed] == ["lapsed"]


def test_dead_letter_is_idempotent(repo: IAlertsRepository) -> None:
    repo.dead_letter("b1:3", '{"startsAt": "x"}', "bad", T0)
    repo.dead_letter("b1:3", '{"startsAt": "x"}', "bad", T0)


def test_ping(repo: IAlertsRepository) -> None:
    repo.ping()


def test_prune_removes_old_episodes_with_their_deliveries(repo: IAlertsRepository) -> None:
    old = processed("old:0", starts="2026-01-01T00:00:00Z", received=T0 - timedelta(days=100))
    kept = processed("new:0", starts="2026-11-30T00:00:00Z", received=T0)
    for item in (old, kept, processed("old:1", starts="2026-01-01T00:00:00Z", received=T0 - timedelta(days=99))):
        repo.save(item)
    repo.dead_letter("dl-old", "{}", "bad", T0 - timedelta(days=100))
    repo.dead_letter("dl-new", "{}", "bad", T0)
    repo.add_inbox("dead-old", b"{}", T0 - timedelta(days=100), T0 - timedelta(days=100))
    repo.bury_inbox("dead-old", "gave up")
    repo.add_inbox("pending-old", b"{}", T0 - timedelta(days=100), T0 - timedelta(days=100))
    assert repo.prune(T0 - timedelta(days=90), limit=1000) == 1
    assert repo.get(old.alert.id) is None and repo.history(old.alert.id) == []
    assert repo.get(kept.alert.id) is not None and len(repo.history(kept.alert.id)) == 1
    assert repo.prune(T0 - timedelta(days=90), limit=1000) == 0
    assert repo.pending_inbox() == 1  # a pending entry is never pruned: it holds acknowledged alerts
    # the old delivery ids are gone with their episode: the same delivery would apply again
    assert repo.save(processed("old:0", starts="2026-01-01T00:00:00Z", received=T0))
