"""Admission: how many requests may wait for the database at once.

Past the pool, a request can only queue: for a worker thread, then for a connection (and
on SQLite for the one writer). A queue without a bound turns a burst into minutes of
waiting for everyone, health checks included. So each kind of request has a bounded
number of places; a request that finds none is answered 503 with Retry-After at once,
having taken nothing and changed nothing.

Everything here runs on the event loop (the dependencies that take a place are async), so
a plain counter needs no lock.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from app.errors import Unavailable


class Saturated(Unavailable):
    """Every place of a gate is taken: answered 503 with Retry-After, nothing changed."""

    def __init__(self, gate: str, retry_after: int) -> None:
        super().__init__(
            f"the service is at capacity ({gate}); retry in {retry_after} s", retry_after=retry_after
        )
        self.gate = gate


@dataclass
class Gate:
    """A bounded number of places, taken at once or not at all (no waiting line)."""

    name: str
    capacity: int
    retry_after: int = 1
    taken: int = field(default=0, init=False)
    refused: int = field(default=0, init=False)

    def enter(self) -> None:
        """Take a place, or raise Saturated at once."""
        if self.taken >= self.capacity:
            self.refused += 1
            raise Saturated(self.name, self.retry_after)
        self.taken += 1

    def leave(self) -> None:
        """Give the place back (exactly once per successful `enter`)."""
        if self.taken <= 0:
            raise RuntimeError(f"gate {self.name!r} left more often than entered")
        self.taken -= 1


@contextmanager
def admitted(gate: Gate, wait: float) -> Iterator[float]:
    """A place in `gate` for the block (entered on the event loop), or Saturated at once.
    Yields the instant by which the request's work must start (`started_in_time`): a place
    bounds how many wait for a worker thread, this how long (HOTLINE_QUEUE_TIMEOUT)."""
    gate.enter()
    try:
        yield time.monotonic() + wait
    finally:
        gate.leave()


def started_in_time(start_by: float) -> None:
    """In the worker thread, before any work: a request that found its thread after its
    bound has waited its share and is answered 503 before it takes a connection."""
    if time.monotonic() > start_by:
        raise Unavailable("the request waited too long for a worker; it changed nothing")
