"""`python -m bench.stages [OTHER]`: CPU per alert of each stage of the service, in one thread.

The server's phases drift with the machine by more than most changes to one stage are worth (in
the fifteenth round, phases of the same code ran from 2,639 to 9,256 alerts/s). Here one thread
takes the benchmark's bodies through the service's own objects, with a warm Kubernetes cache and no
HTTP, and times each stage in CPU seconds of that thread: parsing, the pipeline (sanitize,
validate, enrich), encoding the record, the group commit on SQLite. What the server adds (the
request, the inbox, the hand-overs between threads) is not here: `make bench` measures the whole.

With OTHER (another checkout, a `git worktree` say), both checkouts run at once, each pinned to a
core of its own, then again with the cores swapped: both see the same moments of the machine, and
what is reported is the median of the rounds' ratios, stage by stage.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bench.server import ROOT

if TYPE_CHECKING:
    from tests.kube_api import FakeKubeApi

RESULTS = ROOT / "bench" / "results"
STAGES = ("parse", "prepare", "encode", "save")
# Run in the checkout under test, with its application and load: this file's code measures both
# sides alike, and a checkout made before this file existed can be measured too.
_CHILD = (
    "import json, os, sys\n"
    "if sys.argv[2] != '-': os.sched_setaffinity(0, {int(sys.argv[2])})\n"
    "scope = {'__name__': 'bench_stages'}\n"
    "exec(compile(open(sys.argv[1]).read(), sys.argv[1], 'exec'), scope)\n"
    "print(json.dumps(scope['measure'](int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))))\n"
)


def measure(deployments: int, bodies: int, repeats: int) -> dict[str, list[float]]:
    """µs of this thread's CPU per alert for each stage, one figure per repetition over the same bodies."""
    import orjson

    from bench.load import Plan, batches
    from tests.kube_api import FakeKubeApi

    api = FakeKubeApi().start()
    try:
        populate(api, deployments)
        with tempfile.TemporaryDirectory() as work:
            api.write_kubeconfig(Path(work) / "kubeconfig")
            os.environ.update(ALERTS_STORE_URL=f"sqlite:///{work}/alerts.db", ALERTS_K8S_MODE="kubeconfig",
                              ALERTS_KUBECONFIG=f"{work}/kubeconfig", ALERTS_LOG_LEVEL="WARNING")  # fmt: skip
            source = batches(0, Plan("", 0, None, deployments=deployments))
            encoded = [orjson.dumps(next(source)) for _ in range(bodies)]
            return _stages(encoded, repeats)
    finally:
        api.stop()


def populate(api: FakeKubeApi, deployments: int) -> None:
    """The benchmark's cluster: namespace `bench`, deployments svc0.., each with a ReplicaSet and a pod.

    bench/kube_server.py serves the same. It lives here because this file's code also runs in older
    checkouts, whose kube_server has no such function.
    """
    from tests import kube_api as k

    api.add(k.namespace("bench"))
    for d in range(deployments):
        name = f"svc{d}"
        api.add(k.deployment("bench", name, revision="2"), k.replicaset("bench", name, "abc", revision="2"),
                k.pod("bench", f"{name}-abc-x1", "ReplicaSet", f"{name}-abc"))  # fmt: skip


def _stages(bodies: list[bytes], repeats: int) -> dict[str, list[float]]:
    import orjson

    from alerts_processor.containers import Container
    from alerts_processor.models import Delivery
    from alerts_processor.pipeline.service import CHUNK, new_entry_id, utcnow

    container = Container()
    parser, processor, repository = container.parser(), container.processor(), container.repository()
    results: dict[str, list[float]] = {stage: [] for stage in STAGES}
    try:
        for repeat in range(repeats + 1):  # the first loads the cache and the store's pages: not counted
            spent = dict.fromkeys(STAGES, 0.0)
            alerts, pending = 0, []
            for body in bodies:
                started = time.thread_time()
                payload = parser.parse(orjson.loads(body))
                parsed = time.thread_time()
                entry, now = new_entry_id(), utcnow()
                work = [(raw, Delivery(f"{entry}:{i}", payload.receiver, payload.group_key, now))
                        for i, raw in enumerate(payload.alerts)]  # fmt: skip
                prepared = [p for s in range(0, len(work), CHUNK) for p in processor.prepare_many(work[s : s + CHUNK])]
                ready = time.thread_time()
                pending += [(p, repository.encode(p)) for p in prepared if p is not None]
                encoded = time.thread_time()
                if len(pending) >= repository.group_size:
                    repository.save_encoded(pending)
                    pending = []
                saved = time.thread_time()
                for stage, seconds in zip(STAGES, (parsed - started, ready - parsed, encoded - ready, saved - encoded),
                                          strict=True):  # fmt: skip
                    spent[stage] += seconds
                alerts += len(payload.alerts)
            if pending:  # the last partial group: written, not counted (its cost per alert is not a group's)
                repository.save_encoded(pending)
            if repeat:
                for stage in STAGES:
                    results[stage].append(round(spent[stage] / alerts * 1e6, 2))
    finally:
        container.shutdown_resources()
    return results


def run(checkout: Path, core: int | None, args: argparse.Namespace) -> subprocess.Popen[str]:
    """`measure` in a process of its own, in `checkout`, pinned to `core` (None: not pinned)."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    command = [sys.executable, "-c", _CHILD, __file__, "-" if core is None else str(core),
               str(args.deployments), str(args.bodies), str(args.repeats)]  # fmt: skip
    return subprocess.Popen(command, cwd=checkout, env=env, stdout=subprocess.PIPE, text=True)


def _result(proc: subprocess.Popen[str]) -> dict[str, list[float]]:
    out, _ = proc.communicate()
    if proc.returncode:
        raise RuntimeError(f"bench.stages child exited with {proc.returncode}")
    result: dict[str, list[float]] = json.loads(out.strip().splitlines()[-1])
    return result


def compare(rounds: list[dict[str, dict[str, list[float]]]]) -> dict[str, tuple[float, float, float, float]]:
    """Per stage (and in all): this/other over the runs, median, lowest, highest; then the median relative one.

    The relative ratio divides a stage's ratio by that of the other stages in the same run: the two
    cores are not always equally fast at one moment (the same code once measured 103.1 µs per alert
    on one and 74.7 on the other), and whatever slows one side's core slows all its stages. It tells
    a change to one stage apart from that, assuming the other stages did not change: this checkout
    against itself, six runs, the raw ratios ranged over 0.77-1.71, the relative ones 0.978-1.020.
    """
    ratios: dict[str, list[float]] = {stage: [] for stage in (*STAGES, "total")}
    relative: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for sides in rounds:
        this, other = ({s: statistics.median(v) for s, v in sides[side].items()} for side in ("this", "other"))
        for stage in STAGES:
            ratios[stage].append(this[stage] / other[stage])
            rest = [s for s in STAGES if s != stage]
            relative[stage].append(ratios[stage][-1] / (sum(this[s] for s in rest) / sum(other[s] for s in rest)))
        ratios["total"].append(sum(this.values()) / sum(other.values()))
    summary: dict[str, tuple[float, float, float, float]] = {}
    for stage, values in ratios.items():
        spread = (statistics.median(values), min(values), max(values))
        against = statistics.median(relative[stage]) if stage in relative else spread[0]
        summary[stage] = (round(spread[0], 3), round(spread[1], 3), round(spread[2], 3), round(against, 3))
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("other", type=Path, nargs="?", help="a checkout to compare with, run at the same time")
    parser.add_argument("--deployments", type=int, default=100)
    parser.add_argument("--bodies", type=int, default=400, help="bodies of the benchmark's mix (35 alerts each)")
    parser.add_argument("--repeats", type=int, default=7, help="timed passes over the bodies; medians count")
    parser.add_argument("--rounds", type=int, default=3, help="with OTHER: pairs of runs, cores swapped each time")
    parser.add_argument("--smoke", action="store_true", help="a few bodies, to keep it working")
    args = parser.parse_args()
    if args.smoke:
        args.deployments, args.bodies, args.repeats, args.rounds = 10, 20, 1, 1
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.other is None:
        result = _result(run(ROOT, None, args))
        for stage in STAGES:
            low, high = min(result[stage]), max(result[stage])
            print(f"{stage:8s} {statistics.median(result[stage]):7.1f} µs per alert (median; {low:.1f}-{high:.1f})")
        print(f"{'total':8s} {sum(statistics.median(v) for v in result.values()):7.1f}")
        (RESULTS / "stages.json").write_text(json.dumps(result, indent=2) + "\n")
        return
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        raise SystemExit("comparing needs two cores, one for each checkout")
    rounds: list[dict[str, dict[str, list[float]]]] = []
    for n in range(2 * args.rounds):
        first, second = (cores[0], cores[1]) if n % 2 == 0 else (cores[1], cores[0])
        procs = {"this": run(ROOT, first, args), "other": run(args.other.resolve(), second, args)}
        rounds.append({side: _result(proc) for side, proc in procs.items()})
        print(f"run {n + 1}: " + ", ".join(
            f"{side} {sum(statistics.median(v) for v in rounds[-1][side].values()):.1f} µs per alert"
            for side in ("this", "other")), flush=True)  # fmt: skip
    for stage, (median, low, high, relative) in compare(rounds).items():
        print(f"this / other, {stage:7s}: median {median:.3f} ({low:.3f}-{high:.3f} over {len(rounds)} runs)"
              + ("" if stage == "total" else f"; against the other stages {relative:.3f}"))  # fmt: skip
    record = {"other": str(args.other.resolve()), "runs": rounds}
    (RESULTS / "stages.json").write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
