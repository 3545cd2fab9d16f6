"""Category names for busy pages, kept for a minute per app.

A unit's queue page shows each ticket's category by name; the names change perhaps once a
year, and looking them up on every view of a queue cost a third of the page's database
time. A renamed category shows its new name within a minute."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.repositories import registry as names_repo

TTL = timedelta(minutes=1)


@dataclass
class Names:
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _categories: tuple[datetime, dict[str, str]] | None = None

    def categories(self, session: Session, now: datetime) -> dict[str, str]:
        """code -> name of every category (a few dozen rows)."""
        with self._lock:
            cached = self._categories
        if cached is not None and cached[0] <= now < cached[0] + TTL:
            return cached[1]
        found = names_repo.category_names(session)
        with self._lock:
            self._categories = (now, found)
        return found
