"""Lead and co-handler choice (pure)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Routing:
    lead: str
    co_handlers: tuple[str, ...]
    rule: str  # which rule chose the lead, for the event log


def choose_lead(units: list[str], named_lead: str | None, category_default: str | None) -> Routing:
    """The lead is the one the hotline names; else the category's default if listed; else the
    first listed. `units` must be non-empty and is de-duplicated in order."""
    ordered = list(dict.fromkeys(units))
    if named_lead is not None:
        lead, rule = named_lead, "named_by_hotline"
    elif category_default is not None and category_default in ordered:
        lead, rule = category_default, "category_default_lead"
    else:
        lead, rule = ordered[0], "first_listed"
    if len(ordered) == 1:
        rule = "single_unit" if named_lead is None else rule
    return Routing(lead, tuple(u for u in ordered if u != lead), rule)
