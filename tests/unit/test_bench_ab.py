"""The A/B comparison's interval: deterministic, around the median, and away from 1 only for a real effect."""

import statistics

from bench.ab import halves, interval, summary


def test_the_same_ratios_give_the_same_interval_around_their_median() -> None:
    ratios = [0.92, 1.26, 1.07, 1.14, 0.95, 1.02, 1.13, 0.98, 1.03, 0.98]
    low, high = interval(ratios)
    assert (low, high) == interval(ratios)
    assert low <= statistics.median(ratios) <= high
    assert low < 1 < high  # these pairs (a blocking flock, tenth round) show no effect


def test_a_consistent_effect_leaves_one_outside() -> None:
    low, high = interval([1.06, 1.08, 1.05, 1.07, 1.09, 1.04, 1.06, 1.08])
    assert 1 < low <= high < 1.1


def test_identical_ratios_have_no_spread() -> None:
    assert interval([1.0] * 5) == (1.0, 1.0)


def test_halves_are_the_medians_of_the_pairs_in_the_order_they_ran() -> None:
    ratios = [0.95, 0.96, 0.97, 1.0, 1.01, 0.99, 0.98]
    assert halves(ratios) == (0.96, 0.995)  # three, then four: an odd pair goes to the second half


def test_the_summary_shows_both_halves_so_a_drift_between_stretches_is_seen() -> None:
    line = summary("this / other, alerts/s", [0.95, 0.96, 0.94, 1.0, 1.01, 0.99])
    assert "halves 0.950, 1.000" in line
