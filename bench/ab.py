"""`python -m bench.ab OTHER`: this checkout's throughput against another's, in alternated pairs.

A full run's phases drift by ±10-15% on a shared machine, more than most changes are worth. Here
both sides run the same phase back to back, many times, in the order A B, B A, A B... (a steady
drift then favours neither), and what is reported is the median of the pairs' ratios with a
bootstrap interval: an effect is only real once the interval leaves 1.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.server import ROOT
from bench.stores import shown

RESULTS = ROOT / "bench" / "results"
MIN_PAIRS = 6  # below, a bootstrap of the median says little: two pairs of the same code gave 0.91-0.99
# Run in the checkout under test, with its own bench code and application (the same interpreter).
_PHASE = (
    "import argparse, json, sys\n"
    "from bench.run import phase\n"
    "args = argparse.Namespace(seconds=float(sys.argv[1]), deployments=100, latency=0.002, store=sys.argv[2])\n"
    "print(json.dumps(phase('ab', args)))\n"
)


def run_phase(checkout: Path, seconds: float, store: str = "sqlite") -> dict[str, Any]:
    """One throughput phase of `checkout` (a fresh store, server and load), as bench.run measures it."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run([sys.executable, "-c", _PHASE, str(seconds), store], cwd=checkout, env=env,
                          capture_output=True, text=True, check=True)  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def interval(ratios: list[float], level: float = 0.9, draws: int = 10_000) -> tuple[float, float]:
    """Bootstrap interval of the median ratio (a fixed seed: the same ratios give the same interval)."""
    rng = random.Random(0)
    medians = sorted(statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(draws))
    tail = (1 - level) / 2
    return medians[int(tail * draws)], medians[int((1 - tail) * draws) - 1]


def halves(ratios: list[float]) -> tuple[float, float]:
    """The medians of the first and the second half of the pairs, in the order they ran.

    The machine drifts over minutes more than within a pair: one stretch of sixteen pairs once put
    a change at 0.962 (0.944-0.980), and a later stretch at 0.982 (0.972-1.005). An effect is
    believable once both halves say the same.
    """
    middle = len(ratios) // 2
    return statistics.median(ratios[:middle]), statistics.median(ratios[middle:])


def summary(name: str, ratios: list[float]) -> str:
    median = f"{name}: median {statistics.median(ratios):.3f}"
    if len(ratios) < MIN_PAIRS:
        return f"{median} ({len(ratios)} pairs: too few for an interval)"
    low, high = interval(ratios)
    first, second = halves(ratios)
    return f"{median}, 90% interval {low:.3f}-{high:.3f} ({len(ratios)} pairs; halves {first:.3f}, {second:.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("other", type=Path, help="the checkout to compare with (a git worktree, say)")
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=12.0, help="load time of each phase")
    parser.add_argument("--store", default="sqlite", help="sqlite, or a postgresql:// URL (a schema per phase)")
    args = parser.parse_args()
    sides = {"this": ROOT, "other": args.other.resolve()}
    pairs: list[dict[str, dict[str, Any]]] = []
    for n in range(args.pairs):
        order = ("this", "other") if n % 2 == 0 else ("other", "this")
        pair = {side: run_phase(sides[side], args.seconds, args.store) for side in order}
        pairs.append(pair)
        print(f"pair {n + 1}: " + ", ".join(
            f"{side} {pair[side]['alerts_per_s']:.0f} alerts/s {pair[side]['cpu_s_per_1000_alerts']:.3f} s/1k"
            for side in ("this", "other")), flush=True)  # fmt: skip
    speed = [p["this"]["alerts_per_s"] / p["other"]["alerts_per_s"] for p in pairs]
    cpu = [p["this"]["cpu_s_per_1000_alerts"] / p["other"]["cpu_s_per_1000_alerts"] for p in pairs]
    print(summary("this / other, alerts/s", speed))
    print(summary("this / other, CPU per alert", cpu))
    RESULTS.mkdir(parents=True, exist_ok=True)
    record = {"other": str(sides["other"]), "store": shown(args.store), "pairs": pairs}
    (RESULTS / "ab.json").write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
