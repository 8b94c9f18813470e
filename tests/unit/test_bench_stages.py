"""bench.stages' comparison: stage by stage, the median of the runs' ratios of each side's median."""

from bench.stages import STAGES, compare


def run(scale: float) -> dict[str, list[float]]:
    return {"parse": [10.0, 12.0, 11.0], "prepare": [40.0 * scale] * 3, "encode": [10.0] * 3, "save": [60.0] * 3}


def test_a_change_to_one_stage_shows_in_that_stage_and_in_the_total_only() -> None:
    rounds = [{"this": run(0.8), "other": run(1.0)}, {"this": run(0.9), "other": run(1.0)},
              {"this": run(1.0), "other": run(0.8)}]  # fmt: skip
    ratios = compare(rounds)
    assert set(ratios) == {*STAGES, "total"}
    assert ratios["prepare"] == (0.9, 0.8, 1.25, 0.9)
    assert ratios["parse"][:3] == ratios["encode"][:3] == ratios["save"][:3] == (1.0, 1.0, 1.0)
    assert ratios["total"][:3] == (round((11 + 36 + 10 + 60) / (11 + 40 + 10 + 60), 3), 0.934, 1.071)


def test_a_slower_core_slows_every_stage_and_the_relative_ratio_sees_through_it() -> None:
    slow = {stage: [v * 1.3 for v in values] for stage, values in run(0.8).items()}  # this side's core: 30% slower
    ratios = compare([{"this": slow, "other": run(1.0)}])
    assert ratios["parse"][0] == 1.3 and ratios["parse"][3] > 1.0  # parse looks worse only beside prepare's gain
    assert ratios["prepare"][0] == 1.04 and ratios["prepare"][3] == 0.8
