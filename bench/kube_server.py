"""A fake Kubernetes API server for the benchmark, in its own process: N deployments with ReplicaSets and pods."""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
from pathlib import Path

from bench.stages import populate
from tests import kube_api as k


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deployments", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.002)
    parser.add_argument("--kubeconfig", type=Path, required=True)
    parser.add_argument("--stats", type=Path, required=True, help="file the call count is written to on SIGUSR1")
    args = parser.parse_args()
    api = k.FakeKubeApi().start()
    populate(api, args.deployments)
    api.latency = args.latency
    api.write_kubeconfig(args.kubeconfig)
    done = threading.Event()

    def report(*_: object) -> None:
        kinds: dict[str, int] = {}
        with api._lock:
            for path, n in api.calls.items():
                kind = path.split("/")[-2] if path.count("/") > 4 else "namespaces"
                kinds[kind] = kinds.get(kind, 0) + n
        # Written aside, then renamed: the reader watches the file change and must never see it half written.
        partial = args.stats.with_suffix(".partial")
        partial.write_text(json.dumps({"calls": sum(kinds.values()), "by_kind": kinds}))
        os.replace(partial, args.stats)

    signal.signal(signal.SIGUSR1, report)
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    report()
    done.wait()
    api.stop()


if __name__ == "__main__":
    main()
