import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from alerts_processor.models import K8sUnavailable, WorkloadState
from alerts_processor.pipeline.k8s_cache import CachingK8sClient
from tests.fakes import FakeK8sClient, ManualClock, RecordingMetrics
from tests.unit.test_validate_enrich import workload


class GatedK8s(FakeK8sClient):
    """Blocks every call until released, to make callers overlap for certain."""

    def __init__(self) -> None:
        super().__init__(namespaces=["prod"])
        self.gate = threading.Event()

    def namespace_exists(self, namespace: str) -> bool:
        self.gate.wait(5)
        return super().namespace_exists(namespace)

    def read_workload(self, namespace: str, kind: str, name: str) -> WorkloadState | None:
        return super().read_workload(namespace, kind, name)


def test_reads_are_reused_within_ttl_then_refreshed() -> None:
    inner, clock = FakeK8sClient(namespaces=["prod"]), ManualClock()
    cache = CachingK8sClient(inner, ttl=5, metrics=RecordingMetrics(), clock=clock)
    assert cache.namespace_exists("prod") and cache.namespace_exists("prod")
    assert not cache.namespace_exists("dev")
    assert inner.calls == 2
    clock.now = 5.1
    cache.namespace_exists("prod")
    assert inner.calls == 3


def test_concurrent_reads_of_one_object_make_one_call() -> None:
    inner = GatedK8s()
    cache = CachingK8sClient(inner, ttl=5, metrics=RecordingMetrics())
    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(cache.namespace_exists, "prod") for _ in range(8)]
        inner.gate.set()
        assert all(f.result() for f in futures)
    assert inner.calls == 1


def test_errors_are_shared_but_not_cached() -> None:
    inner = FakeK8sClient(namespaces=["prod"])
    inner.fail_with = "Kubernetes API timed out"
    cache = CachingK8sClient(inner, ttl=5, metrics=RecordingMetrics())
    with pytest.raises(K8sUnavailable):
        cache.namespace_exists("prod")
    inner.fail_with = None
    assert cache.namespace_exists("prod")
    assert inner.calls == 2


def test_existing_namespaces_and_owners_are_kept_longer_than_workload_state() -> None:
    from alerts_processor.models import WorkloadRef
    from tests.unit.test_validate_enrich import workload

    inner, clock = (
        FakeK8sClient(namespaces=["prod"], workloads=[workload("Pod", "p", owner=WorkloadRef("ReplicaSet", "rs")),
                                                      workload("Deployment", "web")]),
        ManualClock(),
    )  # fmt: skip
    cache = CachingK8sClient(inner, ttl=5, metrics=RecordingMetrics(), clock=clock, stable_ttl=300)
    for _ in range(2):
        cache.namespace_exists("prod"), cache.namespace_exists("gone")
        cache.read_workload("prod", "Pod", "p"), cache.read_workload("prod", "Deployment", "web")
        clock.now += 10
    # prod and the pod once (stable); "gone" and the Deployment twice (short TTL)
    assert inner.calls == 2 + 2 * 2


def test_replicaset_lists_last_as_long_as_the_revision() -> None:
    inner, clock = FakeK8sClient(namespaces=["prod"]), ManualClock()
    cache = CachingK8sClient(inner, ttl=5, metrics=RecordingMetrics(), clock=clock, stable_ttl=300)
    inner.workloads[("prod", "ReplicaSet", "web-1")] = workload("ReplicaSet", "web-1")
    for _ in range(3):
        assert len(cache.list_replicasets("prod", {"app": "web"}, "7")) == 1
        clock.now += 10
    assert inner.calls == 1  # kept past the short TTL while revision 7 is current
    cache.list_replicasets("prod", {"app": "web"}, "8")
    assert inner.calls == 2  # a rollout is a new key


def deployments(n: int, ns: str = "prod") -> FakeK8sClient:
    return FakeK8sClient(namespaces=[ns], workloads=[workload("Deployment", f"d{i}", ns) for i in range(n)])


def test_a_namespace_read_deployment_by_deployment_is_listed_instead() -> None:
    inner, clock = deployments(20), ManualClock()
    cache = CachingK8sClient(inner, ttl=5, metrics=RecordingMetrics(), clock=clock, list_after=3)
    for i in range(3):  # one by one until the third distinct one
        assert cache.read_workload("prod", "Deployment", f"d{i}") is not None
    assert (inner.calls, inner.lists) == (3, 0)
    states = [cache.read_workload("prod", "Deployment", f"d{i}") for i in range(20)]
    assert all(s is not None and s.name == f"d{i}" for i, s in enumerate(states))
    assert cache.read_workload("prod", "Deployment", "absent") is None
    assert (inner.calls, inner.lists) == (4, 1)  # one list answered the other 18 and the absent one
    clock.now = 5.1  # the list is refreshed like any read
    cache.read_workload("prod", "Deployment", "d7")
    assert (inner.calls, inner.lists) == (5, 2)
    assert cache.read_workload("prod", "Pod", "p") is None and inner.calls == 6  # other kinds: one by one


def test_reads_spread_over_time_stay_one_by_one() -> None:
    inner, clock = deployments(5), ManualClock()
    cache = CachingK8sClient(inner, ttl=5, metrics=RecordingMetrics(), clock=clock, list_after=3)
    for i in range(5):
        cache.read_workload("prod", "Deployment", f"d{i}")
        clock.now += 6  # each distinct read in a TTL of its own
    assert inner.lists == 0


def test_a_forbidden_list_falls_back_to_reads() -> None:
    class NoList(FakeK8sClient):
        def list_workloads(self, namespace: str, kind: str) -> list[WorkloadState]:
            raise K8sUnavailable("forbidden", outage=False)

    inner = NoList(namespaces=["prod"], workloads=[workload("Deployment", f"d{i}") for i in range(5)])
    cache = CachingK8sClient(inner, ttl=5, metrics=RecordingMetrics(), clock=ManualClock(), list_after=2)
    assert all(cache.read_workload("prod", "Deployment", f"d{i}") is not None for i in range(5))
    assert inner.calls == 5  # every one read by itself, the refused list not retried


def test_a_namespace_too_big_to_list_goes_back_to_reads() -> None:
    inner = deployments(5)
    cache = CachingK8sClient(inner, ttl=5, metrics=RecordingMetrics(), clock=ManualClock(), list_after=2, max_listed=3)
    for i in range(5):
        assert cache.read_workload("prod", "Deployment", f"d{i}") is not None
    # d0 and d1 read; one list answers d2 but holds 5 > 3, so d3 and d4 are read one by one again
    assert (inner.lists, inner.calls) == (1, 5)
    cache.read_workload("prod", "Deployment", "d3")
    assert (inner.lists, inner.calls) == (1, 5)
