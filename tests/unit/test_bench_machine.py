"""The machine's stall probe: slow pieces of work counted as stalls, and what they cost, from their timings."""

from itertools import pairwise

from bench.machine import _pieces, describe, stalls


def _steady(seconds: float, every: float = 0.0025, taken: float = 0.0005) -> list[tuple[float, float]]:
    return [(i * every, taken) for i in range(int(seconds / every))]


def test_a_steady_core_has_no_stalls() -> None:
    assert stalls(_steady(2.0), 2.0) == {"stalls_per_s": 0.0, "worst_slowdown": 1.0, "lost_ms_per_s": 0.0}


def test_slow_pieces_close_together_are_one_stall_and_their_extra_time_is_lost() -> None:
    pieces = dict(_steady(4.0))
    # Two stalls as seen on a virtual machine here: a piece 16 times slower, then slower ones for
    # 50 ms after it; and a second stall 1.8 s later. A piece at twice its time is not a stall.
    for start, slowdown in ((1.0, 16), (1.0125, 8), (1.025, 4), (1.05, 3), (2.8, 10), (3.5, 2)):
        pieces[start] = 0.0005 * slowdown
    measured = stalls(sorted(pieces.items()), 4.0)
    lost = 0.0005 * ((16 - 1) + (8 - 1) + (4 - 1) + (3 - 1) + (10 - 1))  # the 2x piece is not counted
    assert measured == {"stalls_per_s": 0.5, "worst_slowdown": 16.0, "lost_ms_per_s": round(lost / 4.0 * 1000, 1)}


def test_no_pieces_no_stalls() -> None:
    assert stalls([], 1.0)["stalls_per_s"] == 0.0


def test_the_probe_times_pieces_for_as_long_as_asked() -> None:
    pieces = _pieces((None, 0.1))
    assert pieces and all(taken > 0 for _, taken in pieces)
    assert pieces[-1][0] < 0.1 and all(a[0] < b[0] for a, b in pairwise(pieces))


def test_the_machine_line_tells_the_stalls_and_reads_older_results_without_them() -> None:
    machine = {"loop_alone_s": 0.25, "loop_both_cores_s": 0.3, "thread_round_trip_us": 14.3, "python": "CPython 3.11.7"}
    assert describe(machine).endswith("a thread round trip 14.3 µs (CPython 3.11.7)")
    stalled = {**machine, "stalls_per_s": 1.0, "worst_slowdown": 13.5, "lost_ms_per_s": 30.8}
    assert describe(stalled).endswith(
        "; a core ran at a third of its speed or less 1.0 times a second (worst 13.5x slower, 30.8 ms lost a second)"
    )
