"""Work that must not wait for I/O: inside without_waiting(), a step that would wait raises WouldBlock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_NO_WAIT: ContextVar[bool] = ContextVar("no_wait", default=False)


class WouldBlock(Exception):
    """A step needed I/O (a Kubernetes call, a store write) where the caller allowed none."""


@contextmanager
def without_waiting() -> Iterator[None]:
    """Run the block where nothing may wait: steps that would raise WouldBlock instead."""
    token = _NO_WAIT.set(True)
    try:
        yield
    finally:
        _NO_WAIT.reset(token)


def may_wait(what: str) -> None:
    """Called by a step right before it waits for I/O: raises WouldBlock inside without_waiting()."""
    if _NO_WAIT.get():
        raise WouldBlock(what)
