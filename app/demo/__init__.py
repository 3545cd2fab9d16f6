"""The demo city for `hotline seed-demo`: Yiyang's registry, and a year of history made
through the service's own use-cases on a clock that moves with the story.

Nothing here writes a row the use-cases would not: every ticket is received, routed,
contacted, resolved, fed back, rated, extended, returned and supervised by the same
functions the API calls, each at its own moment (a `FixedClock` set to it), and the SLA
sweep runs every morning of the story. So every report shows figures that the
service's own rules produced: handled and late tickets, unsatisfied ones with their
supervision, long-overdue joint cases, a deputy registered late. The story is
seeded, so two runs on the same day tell it the same way; a second run adds nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from app.demo.city import Registry, load_registry
from app.demo.story import MARK, Story
from app.models import Ticket
from app.state import AppState

__all__ = ["History", "Registry", "demo_tickets", "load_history", "load_registry", "summary"]


@dataclass
class History:
    """What a run of the story added."""

    tickets: int
    counts: dict[str, int]


def demo_tickets(state: AppState) -> int:
    with state.db.read_session() as session:
        return int(
            session.scalar(select(func.count()).select_from(Ticket).where(Ticket.hotline_no.startswith(MARK)))
            or 0
        )


def load_history(state: AppState, reg: Registry, *, days: int = 365) -> History | None:
    """A year of tickets up to now, told once: None when the demo history is already there."""
    if demo_tickets(state):
        return None
    end = state.clock.now()
    story = Story(state, reg, end - timedelta(days=days), end)
    story.tell()
    return History(demo_tickets(state), dict(story.counts))


def summary(history: History) -> Iterator[str]:
    yield f"history: {history.tickets} tickets, told up to now"
    for key, value in sorted(history.counts.items()):
        if key != "refused":
            yield f"  {key}: {value}"
