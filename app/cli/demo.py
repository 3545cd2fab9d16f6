"""`hotline seed-demo`: the sample city and a year of its history loaded."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.common import open_state


def seed_demo(
    history: Annotated[bool, typer.Option(help="also tell a year of tickets up to today")] = True,
    days: Annotated[int, typer.Option(min=1, max=3650, help="days of history")] = 365,
) -> None:
    """Load the sample city (Yiyang's units, categories, districts, 300 invented deputies) and a
    year of tickets handled through the service's own rules, so every report shows figures.
    Safe to run again: the registry is updated, the history is told once."""
    from app import demo

    with open_state() as state:
        reg, result = demo.load_registry(state)
        typer.echo(
            f"sample city loaded: units, categories, districts; deputies created "
            f"{result.created}, updated {result.updated}"
        )
        if not history:
            return
        told = demo.load_history(state, reg, days=days)
        if told is None:
            typer.echo(f"history already loaded ({demo.demo_tickets(state)} demo tickets); nothing added")
            return
        for line in demo.summary(told):
            typer.echo(line)
