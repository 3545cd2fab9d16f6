"""A queue of dated steps, each run as a use-case in a transaction of its own at its own moment."""

from __future__ import annotations

import heapq
import itertools
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from typing import TypeVar

from app.clock import FixedClock
from app.db import Transaction
from app.errors import DomainError
from app.services.context import Actor, Ctx
from app.state import AppState

T = TypeVar("T")


@dataclass(order=True)
class _Step:
    at: datetime
    seq: int
    run: Callable[[], None] = field(compare=False)


class Timeline:
    """The story's clock: dated steps run in order, each use-case at its step's moment."""

    def __init__(self, state: AppState, start: datetime, end: datetime, *, seed: str) -> None:
        self.state, self.end = state, end
        self.now = start
        self.rnd = random.Random(seed)
        self._steps: list[_Step] = []
        self._seq = itertools.count()
        self.counts: Counter[str] = Counter()
        self.tz = state.settings.tz
        with state.db.read_session() as session:
            self.calendar = state.calendars.current(session)

    def at(self, when: datetime, run: Callable[[], None]) -> None:
        """Do `run` at `when`, if the story reaches it."""
        if when < self.end:
            heapq.heappush(self._steps, _Step(when, next(self._seq), run))

    def run(self) -> None:
        while self._steps:
            step = heapq.heappop(self._steps)
            self.now = max(self.now, step.at)
            step.run()

    def act(self, actor: Actor, use_case: Callable[[Ctx], T]) -> T | None:
        """One use-case in a transaction of its own at the story's now; None when it was
        refused (the ticket moved on meanwhile: part of the story, not an error). A result
        read after the commit must be a plain value, not a row of the closed session."""
        result: T | None = None
        try:
            with Transaction(self.state.db.write_session) as session:
                ctx = replace(self.state.ctx(session, actor), clock=FixedClock(self.now))
                result = use_case(ctx)
        except DomainError:
            self.counts["refused"] += 1
            return None
        return result

    def office(self, when: datetime) -> datetime:
        """The first office hour (8:30-17:30 on a working day) at or after `when`."""
        local = when.astimezone(self.tz)
        day = local.date()
        if local.time() >= time(17, 30):
            day += timedelta(days=1)
        working, _ = self.calendar.next_working_day(day)
        opens = datetime.combine(working, time(8, 30), tzinfo=self.tz)
        if working == local.date() and local >= opens:
            return when
        return opens + timedelta(minutes=self.rnd.uniform(0, 120))

    def later(self, start: datetime, hours: float, office: bool = True) -> datetime:
        when = start + timedelta(hours=hours)
        return self.office(when) if office else when
