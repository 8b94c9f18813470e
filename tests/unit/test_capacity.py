"""Capacity: all-or-nothing reservations; a batch bigger than the queue is taken alone."""

from __future__ import annotations

from alerts_processor.pipeline.capacity import Capacity


def test_a_batch_is_taken_whole_or_not_at_all() -> None:
    capacity = Capacity(10)
    assert capacity.reserve(7)
    assert not capacity.reserve(4)
    assert capacity.in_use == 7
    capacity.release(7)
    assert capacity.reserve(10) and capacity.in_use == 10


def test_a_batch_bigger_than_the_queue_waits_for_it_to_be_empty() -> None:
    capacity = Capacity(10)
    assert capacity.reserve(1)
    assert not capacity.reserve(25)
    capacity.release(1)
    assert capacity.reserve(25)
    assert capacity.in_use == 25  # more than the queue: nothing else fits until it is done
    assert not capacity.reserve(1)
    capacity.release(20)
    assert capacity.in_use == 5 and capacity.reserve(5)
    capacity.release(10)
    assert capacity.in_use == 0
