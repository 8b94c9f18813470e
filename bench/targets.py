"""The benchmark's targets (issue 7's, and issue 6's for queries) against one run: met or missed, by how much."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The conditions the targets are stated for; a run under others is measured, not judged.
CONDITIONS = {"store": "sqlite", "deployments": 100, "latency": 0.002, "query_rows": 1_000_000, "smoke": False}
ALERTS_PER_S = 10_000


@dataclass(frozen=True)
class Target:
    """One target: at least (or at most) `goal`, and what the run measured (None: the run has no such phase)."""

    measure: str
    goal: float
    at_least: bool
    measured: float | None
    unit: str = ""

    @property
    def met(self) -> bool | None:
        if self.measured is None:
            return None
        return self.measured >= self.goal if self.at_least else self.measured <= self.goal

    def line(self) -> str:
        sign = "≥" if self.at_least else "≤"
        goal = f"{sign} {_number(self.goal, self.unit)}{self.unit}"
        if self.measured is None:
            return f"{self.measure:46} {goal:>14}  not measured"
        measured = f"{_number(self.measured, self.unit)}{self.unit}"
        if self.met:
            verdict = "met"
        elif self.unit == "%":
            verdict = f"missed by {abs(self.measured - self.goal):.1f} points"
        else:
            verdict = f"missed by {abs(self.measured - self.goal) / self.goal:.0%}"
        return f"{self.measure:46} {goal:>14}  {measured:>10}  {verdict}"


def _number(value: float, unit: str = "") -> str:
    if unit == "%":
        return f"{value:.1f}"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def _phases(result: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    return [run for run in result["runs"] if run["phase"].startswith(prefix)]


def _one(result: dict[str, Any], prefix: str, field: str) -> float | None:
    runs = _phases(result, prefix)
    return float(runs[0][field]) if runs else None


def targets(result: dict[str, Any]) -> list[Target]:
    """Every target, in issue 7's order and then the queries', against this result (as bench/run.py writes it)."""
    ratio = result["ratio_median_of_pairs"]
    k8s = [run["k8s_calls_per_alert"] for run in _phases(result, "throughput")]
    # The heaviest run of the server: every phase but the floor's, which is another app.
    pss = [run["peak_pss_mb"] for run in result["runs"] if run["phase"] != "floor"]
    queries = [query["p99_ms"] for query in result["queries"]]
    return [
        Target("alerts/s stored end to end (median)", ALERTS_PER_S, True, result["throughput_median"]),
        Target("ratio to the floor (median of the pairs)", 40, True, None if ratio is None else ratio * 100, "%"),
        Target("p99 acknowledgement at 2,000 alerts/s", 50, False, _one(result, "latency@2000/s", "p99_ms"), " ms"),
        Target("Kubernetes calls per alert, warm (max)", 0.02, False, max(k8s) if k8s else None),
        Target("alerts/s, cold cache, 1,000 deployments, 5 ms", 1500, True, _one(result, "cold cache", "alerts_per_s")),
        Target("peak PSS of the server, heaviest run", 250, False, max(pss) if pss else None, " MB"),
        Target("filtered page of 1,000,000 records, p99 (max)", 50, False, max(queries) if queries else None, " ms"),
    ]


def report(result: dict[str, Any]) -> list[str]:
    """The targets' lines for the printed table, with what the absolute target asks of this machine."""
    settings = result["settings"]
    off = [f"{name}={settings.get(name)}" for name, value in CONDITIONS.items() if settings.get(name) != value]
    head = f"{'target':46} {'goal':>14}  {'measured':>10}  verdict"
    lines = [head, "-" * len(head)]
    if off:
        lines.append(f"not the targets' conditions ({', '.join(off)}): for reference only")
    lines += [target.line() for target in targets(result)]
    floor = result["floor_median"]
    if floor:
        # The floor moves with the machine; the absolute target does not. What it asked of this run:
        share = ALERTS_PER_S / floor
        lines.append(f"{ALERTS_PER_S:,} alerts/s is {share:.0%} of this run's floor ({floor:,.0f} alerts/s)")
    return lines


def summary(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The verdicts for latest.json."""
    return [
        {"measure": t.measure, "goal": t.goal, "at_least": t.at_least, "measured": t.measured, "met": t.met}
        for t in targets(result)
    ]
