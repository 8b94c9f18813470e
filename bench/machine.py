"""What one day's machine is: its speed, its thread wake-ups, and how often its cores stall."""

from __future__ import annotations

import multiprocessing
import os
import platform
import socket
import statistics
import threading
import time
from typing import Any

CALIBRATION_LOOP = 5_000_000
STALL_PIECE = 20_000  # loop steps of one timed piece of work: 0.3-0.7 ms
STALL_GAP = 0.002  # seconds between pieces, so the probe takes a fraction of a core
SLOW = 3.0  # a piece that took this many times its usual time ran on a stalled core
EPISODE_GAP = 0.1  # slow pieces closer than this (s) belong to one stall


def _spin(_: int = 0) -> float:
    """Seconds of a fixed CPU-bound Python loop (the machine's speed, in the interpreter's terms)."""
    started = time.perf_counter()
    total = 0
    for i in range(CALIBRATION_LOOP):
        total += i
    return time.perf_counter() - started


def _round_trip(trips: int = 5000) -> float:
    """Microseconds for a byte to go to another thread and back through a socket pair.

    A thread waking another is what every request, queue hand-off and group commit does; on some
    days this machine's wake-ups cost several times what its plain Python speed suggests.
    """
    ours, theirs = socket.socketpair()

    def echo() -> None:
        while data := theirs.recv(64):
            theirs.sendall(data)

    thread = threading.Thread(target=echo, daemon=True)
    thread.start()
    started = time.perf_counter()
    for _ in range(trips):
        ours.sendall(b"x")
        ours.recv(64)
    elapsed = time.perf_counter() - started
    ours.close()
    thread.join()
    theirs.close()
    return elapsed / trips * 1e6


def _pieces(core_and_seconds: tuple[int | None, float]) -> list[tuple[float, float]]:
    """(start, seconds taken) of a fixed piece of work run every STALL_GAP for a while, on one core."""
    core, seconds = core_and_seconds
    if core is not None:
        os.sched_setaffinity(0, {core})
    pieces = []
    started = time.perf_counter()
    while (begin := time.perf_counter()) - started < seconds:
        total = 0
        for i in range(STALL_PIECE):
            total += i
        pieces.append((begin - started, time.perf_counter() - begin))
        time.sleep(STALL_GAP)
    return pieces


def stalls(pieces: list[tuple[float, float]], seconds: float) -> dict[str, float]:
    """How often a core ran the same work at a third of its usual speed or worse, and what it cost.

    Seen on a virtual machine here: every 1.5-2 s, both cores ran Python up to 17 times slower for
    about 50-100 ms, idle or loaded. A service's p99 latency takes every such stall.
    """
    if not pieces:
        return {"stalls_per_s": 0.0, "worst_slowdown": 0.0, "lost_ms_per_s": 0.0}
    usual = statistics.median(taken for _, taken in pieces)
    slow = [(start, taken) for start, taken in pieces if taken >= SLOW * usual]
    episodes = sum(1 for i, (start, _) in enumerate(slow) if i == 0 or start - slow[i - 1][0] > EPISODE_GAP)
    return {
        "stalls_per_s": round(episodes / seconds, 2),
        "worst_slowdown": round(max(taken for _, taken in pieces) / usual, 1),
        "lost_ms_per_s": round(sum(taken - usual for _, taken in slow) / seconds * 1000, 1),
    }


def calibrate(stall_seconds: float = 4.0) -> dict[str, Any]:
    """What one day's machine is, printed beside its results: the floor moves with it.

    A Python loop alone, then on both cores at once (how much the cores slow each other down), a
    thread-to-thread round trip, the cores' stalls (a probe on each core at once; the worse core
    counts), and the interpreter, whose build moves the loop (an optimised build of the same
    CPython ran it in 0.096 s where an unoptimised one took 0.13 s).
    """
    alone = min(_spin() for _ in range(3))
    # A probe pinned to each of two cores; unpinned where the system cannot pin (macOS) or has one.
    allowed = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    cores: list[int | None] = [*allowed[:2]] if len(allowed) >= 2 else [None, None]
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pool.map(_spin, range(2))  # the workers' start-up, not measured
        pair = max(pool.map(_spin, range(2)))
        probes = [stalls(p, stall_seconds) for p in pool.map(_pieces, [(core, stall_seconds) for core in cores])]
    trip = min(_round_trip() for _ in range(3))
    return {"loop_alone_s": round(alone, 3), "loop_both_cores_s": round(pair, 3),
            "thread_round_trip_us": round(trip, 1),
            **{key: max(probe[key] for probe in probes) for key in probes[0]},
            "python": f"{platform.python_implementation()} {platform.python_version()}"}  # fmt: skip


def describe(machine: dict[str, Any]) -> str:
    """The machine line of the printed table (results written before the stall probe have none)."""
    line = (f"machine: a {CALIBRATION_LOOP:,}-step Python loop takes {machine['loop_alone_s']} s alone, "
            f"{machine['loop_both_cores_s']} s on both cores at once; a thread round trip "
            f"{machine['thread_round_trip_us']} µs ({machine.get('python', 'Python')})")  # fmt: skip
    if "stalls_per_s" in machine:
        line += (f"; a core ran at a third of its speed or less {machine['stalls_per_s']} times a second "
                 f"(worst {machine['worst_slowdown']}x slower, "
                 f"{machine['lost_ms_per_s']} ms lost a second)")  # fmt: skip
    return line
