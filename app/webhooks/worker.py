"""Background delivery of webhooks (filled in by the webhooks capability)."""

from __future__ import annotations

from collections.abc import Callable

from app.state import AppState


def start_worker(state: AppState) -> Callable[[], None]:
    return lambda: None
