import pytest

from alerts_processor.adapters.breaker import CircuitBreaker
from alerts_processor.models import K8sUnavailable
from tests.fakes import ManualClock

OUTAGE = K8sUnavailable("Kubernetes API timed out")


def test_opens_after_threshold_outages_then_lets_one_trial_through() -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(threshold=3, cooldown=10, clock=clock)
    for _ in range(3):
        breaker.before_call()
        breaker.failed(OUTAGE)
    with pytest.raises(K8sUnavailable, match=r"timed out \(circuit open\)"):
        breaker.before_call()
    clock.now = 10
    breaker.before_call()  # the trial
    with pytest.raises(K8sUnavailable):
        breaker.before_call()  # others still fail fast while it runs
    breaker.failed(OUTAGE)  # the trial failed: open for another cooldown
    clock.now = 15
    with pytest.raises(K8sUnavailable):
        breaker.before_call()
    clock.now = 20
    breaker.before_call()
    breaker.succeeded()
    breaker.before_call()
    breaker.before_call()


def test_forbidden_and_successes_do_not_open() -> None:
    breaker = CircuitBreaker(threshold=2, cooldown=10, clock=ManualClock())
    for _ in range(5):
        breaker.failed(K8sUnavailable("forbidden", outage=False))
    breaker.failed(OUTAGE)
    breaker.succeeded()
    breaker.failed(OUTAGE)
    breaker.before_call()


def test_threshold_zero_never_opens() -> None:
    breaker = CircuitBreaker(threshold=0, cooldown=10, clock=ManualClock())
    for _ in range(10):
        breaker.failed(OUTAGE)
    breaker.before_call()
