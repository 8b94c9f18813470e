"""Never lose, never duplicate: kill -9, SIGTERM, a store that goes away, and racing duplicates."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from alerts_processor.adapters.sqlite_schema import inbox_path
from tests import kube_api as k
from tests.e2e.conftest import Service
from tests.e2e.load import LoadResult, pending_inbox, run_load, stored_counts, unique_batches
from tests.helpers import alert, wait_until

pytestmark = pytest.mark.e2e

# Short leases so that an abandoned batch is taken over within a second or two.
FAST_RECOVERY = {"ALERTS_INBOX_LEASE": "1", "ALERTS_INBOX_SWEEP_INTERVAL": "0.2"}


@pytest.fixture
def slow_cluster(kube_api: k.FakeKubeApi, tmp_path: Path) -> dict[str, str]:
    """A cluster answering every read in 20 ms, so that work is still queued when we strike."""
    kube_api.add(k.namespace("shop"))
    kube_api.latency = 0.02
    kubeconfig = kube_api.write_kubeconfig(tmp_path / "kubeconfig")
    return {"ALERTS_K8S_MODE": "kubeconfig", "ALERTS_KUBECONFIG": str(kubeconfig), **FAST_RECOVERY}


def load_under_way(
    url: str, clients: int, seconds: float, size: int, max_batches: int, acked: int
) -> tuple[LoadResult, Callable[[], None]]:
    """Start unique-alert load against `url` and return once `acked` alerts have been acknowledged."""
    result, join = run_load([url], clients, seconds, lambda c, n: unique_batches(c, size)(n), max_batches)
    wait_until(lambda: sum(result.acked.values()) >= acked, timeout=20, message="load under way")
    return result, join


def assert_every_ack_stored_once(store_url: str, result: LoadResult) -> dict[str, int]:
    """Every acknowledged alert ends up stored, each delivery applied exactly once."""
    assert result.acked, f"no batch was acknowledged: {result.answers}"

    def all_stored() -> dict[str, int] | None:
        counts = stored_counts(store_url)
        return counts if all(seq in counts for seq in result.acked) and not pending_inbox(store_url) else None

    counts = wait_until(all_stored, timeout=60, interval=0.2, message="every acknowledged alert stored")
    doubled = {seq: n for seq, n in counts.items() if n != 1}
    assert not doubled, f"alerts applied more than once: {list(doubled.items())[:5]}"
    return counts


def test_kill_9_of_a_worker_loses_nothing(start_service: Callable[..., Service], slow_cluster: dict[str, str]) -> None:
    service = start_service(**slow_cluster)
    result, join = load_under_way(service.url, clients=4, seconds=3, size=10, max_batches=50, acked=300)
    victim = service.workers()[0]
    os.kill(victim, signal.SIGKILL)
    join()
    counts = assert_every_ack_stored_once(service.store_url, result)
    assert victim not in service.workers()  # gunicorn replaced it; its queue was replayed from the inbox
    assert len(counts) >= len(result.acked)


def test_kill_9_of_the_whole_server_loses_nothing(
    start_service: Callable[..., Service], slow_cluster: dict[str, str]
) -> None:
    service = start_service(**slow_cluster)
    result, join = load_under_way(service.url, clients=4, seconds=2, size=10, max_batches=150, acked=300)
    service.process.stop(signal.SIGKILL)
    join()
    assert "connection error" in result.answers  # the load really ran into the dead server
    restarted = start_service(ALERTS_STORE_URL=service.store_url, **slow_cluster)
    assert_every_ack_stored_once(restarted.store_url, result)


def test_sigterm_drains_what_was_acknowledged(
    start_service: Callable[..., Service], slow_cluster: dict[str, str]
) -> None:
    service = start_service(**slow_cluster)
    result, join = load_under_way(service.url, clients=4, seconds=2, size=10, max_batches=50, acked=300)
    assert service.process.stop(signal.SIGTERM, timeout=60) == 0
    join()
    # No restart: the workers finished their queues before exiting.
    counts = stored_counts(service.store_url)
    missing = [seq for seq in result.acked if seq not in counts]
    assert not missing, f"{len(missing)} acknowledged alerts lost on SIGTERM"
    assert pending_inbox(service.store_url) == 0
    assert all(n == 1 for n in counts.values())


def sqlite_service_warmed_up(start_service: Callable[..., Service]) -> tuple[Service, str]:
    """A service on SQLite whose files exist (one alert stored); returns it and the records file."""
    service = start_service(ALERTS_STORE_TIMEOUT="0.3", **FAST_RECOVERY)
    requests.post(
        service.url + "/webhooks/alertmanager",
        json={"version": "4", "status": "firing", "receiver": "r", "alerts": [alert(seq="warmup")]},
        timeout=5,
    )
    wait_until(lambda: "warmup" in stored_counts(service.store_url))
    return service, service.store_url[len("sqlite:///") :]


def test_sqlite_store_unable_to_write_gives_503_then_recovers(start_service: Callable[..., Service]) -> None:
    service, db = sqlite_service_warmed_up(start_service)
    result, join = load_under_way(service.url, clients=3, seconds=3, size=5, max_batches=80, acked=100)
    # Another process holds the write locks of both files (records and inbox): nothing can be written.
    blockers = [sqlite3.connect(path, timeout=5, isolation_level=None) for path in (db, inbox_path(db))]
    for blocker in blockers:
        blocker.execute("BEGIN EXCLUSIVE")
    try:
        wait_until(lambda: result.answers["503"] >= 3, timeout=20, message="503 answers while the store is locked")
        assert requests.get(service.url + "/readyz", timeout=5).status_code == 503
    finally:
        for blocker in blockers:
            blocker.execute("ROLLBACK")
            blocker.close()
    join()
    assert_every_ack_stored_once(service.store_url, result)
    assert requests.get(service.url + "/readyz", timeout=5).status_code == 200


def test_sqlite_records_locked_still_acknowledges_then_stores(start_service: Callable[..., Service]) -> None:
    """The inbox has a file of its own: while the records cannot be written, batches are still taken."""
    service, db = sqlite_service_warmed_up(start_service)
    blocker = sqlite3.connect(db, timeout=5, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        result, join = load_under_way(service.url, clients=2, seconds=2, size=5, max_batches=20, acked=50)
        join()
        assert set(result.answers) == {"202"}, result.answers
        assert pending_inbox(service.store_url) > 0  # taken, not yet stored
        assert set(stored_counts(service.store_url)) == {"warmup"}
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert_every_ack_stored_once(service.store_url, result)


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_duplicate_deliveries_to_two_servers_count_exactly(
    start_service: Callable[..., Service], store: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    store_url = request.getfixturevalue("postgres_url") if store == "postgres" else f"sqlite:///{tmp_path}/shared.db"
    first = start_service(ALERTS_STORE_URL=store_url)
    second = start_service(ALERTS_STORE_URL=store_url)
    same = [alert(namespace="shop", deployment="checkout", seq=f"dup-{i}") for i in range(5)]

    def batches(client: int, n: int) -> list[dict[str, Any]]:
        return same

    result, join = run_load([first.url, second.url], clients=6, seconds=30, batches=batches, max_batches=15)
    join()
    acks = result.answers["202"]
    assert acks == 6 * 15, result.answers
    wait_until(
        lambda: set(stored_counts(store_url).values()) == {acks},
        timeout=60,
        interval=0.2,
        message=f"every episode counted {acks} times",
    )
    assert sorted(stored_counts(store_url)) == sorted(a["labels"]["seq"] for a in same)


class PrivatePostgres:
    """A PostgreSQL server of our own (Debian's binaries, run as the postgres user), to stop and start."""

    def __init__(self, port: int) -> None:
        versions = (
            sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")) if Path("/usr/lib/postgresql").exists() else []
        )
        if not versions or os.geteuid() != 0:
            pytest.skip("needs root and Debian's PostgreSQL server binaries to run a private server")
        self.bin = versions[-1].parent
        import tempfile

        self.dir = Path(tempfile.mkdtemp(prefix="alerts-pg-"))
        os.chown(self.dir, *_postgres_ids())
        self.port = port
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        self._run("initdb", "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        import subprocess

        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(self.bin / tool), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )

    def start(self) -> None:
        self._run(
            "pg_ctl",
            "-D",
            str(self.dir / "data"),
            "-w",
            "-l",
            str(self.dir / "log"),
            "-o",
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-w", "-m", "immediate", "stop")

    def remove(self) -> None:
        import shutil

        with contextlib.suppress(Exception):  # already stopped
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def _postgres_ids() -> tuple[int, int]:
    import pwd

    entry = pwd.getpwnam("postgres")
    return entry.pw_uid, entry.pw_gid


def test_postgres_stopped_gives_503_then_recovers(start_service: Callable[..., Service]) -> None:
    from tests.helpers import free_port

    pg = PrivatePostgres(free_port())
    try:
        pg.start()
        service = start_service(ALERTS_STORE_URL=pg.url, ALERTS_STORE_TIMEOUT="1", **FAST_RECOVERY)
        result, join = load_under_way(service.url, clients=3, seconds=4, size=5, max_batches=80, acked=100)
        pg.stop()
        wait_until(lambda: result.answers["503"] >= 3, timeout=20, message="503 answers while PostgreSQL is down")
        assert requests.get(service.url + "/readyz", timeout=5).status_code == 503
        acked_before_restart = threading.Event()
        pg.start()
        acked_before_restart.set()
        join()
        assert_every_ack_stored_once(pg.url, result)
        assert requests.get(service.url + "/readyz", timeout=5).status_code == 200
    finally:
        pg.remove()
