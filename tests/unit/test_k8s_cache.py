import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from alerts_processor.models import K8sUnavailable, WorkloadState
from alerts_processor.no_wait import WouldBlock, without_waiting
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
    assert (inner.calls, inner.lists) == (4, 1)  # one list answered the other 17
    assert cache.read_workload("prod", "Deployment", "absent") is None
    assert (inner.calls, inner.lists) == (5, 1)  # not in the list: it may be newer, so read by itself
    clock.now = 5.1  # the list is refreshed like any read
    cache.read_workload("prod", "Deployment", "d7")
    assert (inner.calls, inner.lists) == (6, 2)
    assert cache.read_workload("prod", "Pod", "p") is None and inner.calls == 7  # other kinds: their own count


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


def test_pods_and_replicasets_read_in_numbers_are_listed_and_pods_kept_longer() -> None:
    from alerts_processor.models import WorkloadRef

    pods = [workload("Pod", f"p{i}", owner=WorkloadRef("ReplicaSet", f"rs{i}")) for i in range(10)]
    inner, clock = FakeK8sClient(namespaces=["prod"], workloads=pods), ManualClock()
    cache = CachingK8sClient(inner, ttl=5, stable_ttl=300, metrics=RecordingMetrics(), clock=clock, list_after=2)
    states = [cache.read_workload("prod", "Pod", f"p{i}") for i in range(10)]
    assert [s.name if s else None for s in states] == [f"p{i}" for i in range(10)]
    assert (inner.calls, inner.lists) == (3, 1)  # p0 and p1 read; one list for the other eight
    clock.now = 60  # past the short TTL: a pod list is kept as long as a pod read by itself
    cache.read_workload("prod", "Pod", "p5")
    assert (inner.calls, inner.lists) == (3, 1)
    inner.workloads[("prod", "Pod", "new")] = workload("Pod", "new")
    assert cache.read_workload("prod", "Pod", "new") is not None  # created after the list: read by itself
    assert (inner.calls, inner.lists) == (4, 1)


def test_a_deployments_replicasets_come_from_the_namespace_list_by_label() -> None:
    from alerts_processor.models import WorkloadRef

    def rs(name: str, app: str, revision: str) -> WorkloadState:
        owner = WorkloadRef("Deployment", app)
        return workload("ReplicaSet", name, owner=owner, revision=revision, labels={"app": app})

    inner = FakeK8sClient(namespaces=["prod"], workloads=[rs(f"a{i}", f"app{i}", "1") for i in range(6)])
    cache = CachingK8sClient(inner, ttl=5, metrics=RecordingMetrics(), clock=ManualClock(), list_after=2)
    for i in range(2):  # one list call per Deployment until the second distinct selector
        cache.list_replicasets("prod", {"app": f"app{i}"}, "1")
    assert (inner.calls, inner.lists) == (2, 0)
    assert [s.name for s in cache.list_replicasets("prod", {"app": "app4"}, "1")] == ["a4"]
    assert [s.name for s in cache.list_replicasets("prod", {"app": "app5"}, "1")] == ["a5"]
    assert (inner.calls, inner.lists) == (3, 1)  # the namespace's ReplicaSets, listed once
    inner.workloads[("prod", "ReplicaSet", "b4")] = rs("b4", "app4", "2")
    cache.list_replicasets("prod", {"app": "app4"}, "2")  # a rollout newer than the list
    assert (inner.calls, inner.lists) == (4, 1)  # asked the API server for it


def test_where_nothing_may_wait_a_miss_raises_before_any_call() -> None:
    inner = FakeK8sClient(namespaces=["prod"])
    cache = CachingK8sClient(inner, ttl=5, metrics=RecordingMetrics(), clock=ManualClock())
    with without_waiting(), pytest.raises(WouldBlock):
        cache.namespace_exists("prod")
    assert inner.calls == 0
    assert cache.namespace_exists("prod")  # where it may wait, the API answers
    with without_waiting():
        assert cache.namespace_exists("prod")  # and then the cache does
    assert inner.calls == 1
