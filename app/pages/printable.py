"""The letter (约请函) and the filled-in form (约请事项办理情况表) as printable A4 pages,
laid out as such documents are; served to signed-in people and to API keys alike."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from app.errors import Conflict
from app.pages import labels
from app.pages.web import templates
from app.services import invitations as svc
from app.services.context import Ctx
from app.services.invitation_views import invitation_view


def _deputy_names(v: dict[str, Any]) -> str:
    return "、".join(d["name"] or d["id"] for d in v["deputies"])


def _print_context(ctx: Ctx, v: dict[str, Any], *, round_: int | None = None) -> dict[str, Any]:
    tz = ctx.tz
    ack = next((c for c in v["clocks"] if c["kind"] == "acknowledge"), None)
    reports = v["reports"]
    report = (
        next((r for r in reports if r["round"] == round_), None)
        if round_
        else (reports[-1] if reports else None)
    )
    shown_round = report["round"] if report else (round_ or v["round"])
    complete = [c for c in v["clocks"] if c["kind"] == "complete" and c["round"] == shown_round]
    evaluation = next((e for e in v["evaluations"] if e["round"] == shown_round), None)
    issued = v["review"]["at"] if v["review"] else None
    return {
        "inv": v,
        "deputies": _deputy_names(v),
        "ack": v["acknowledgment"],
        "report": report,
        "evaluation": evaluation,
        "tz": tz,
        "issuer": ctx.policy.invitation_issuer,
        "ack_days": ctx.policy.invitation_acknowledge_working_days,
        "complete_days": ctx.policy.invitation_complete_working_days,
        "ack_due": _day_before(ack["due_at"]) if ack else "",
        "complete_due": (
            f"{_day_before(complete[-1]['due_at'])}前"
            f"（{complete[-1]['state'] and labels.label(complete[-1]['state'], 'clock_state')}）"
            if complete
            else ""
        ),
        "issued_on": _chinese_date(issued) if issued else "",
        "reported_on": _chinese_date(report["at"]) if report else "",
    }


def _chinese_date(dt: datetime) -> str:
    return f"{dt.year}年{dt.month}月{dt.day}日"


def _day_before(due_at: datetime) -> str:
    """An exclusive due instant ("end of D" kept as D+1 00:00) as the last day, D, written
    the way a letter says it."""
    last = (due_at - timedelta(microseconds=1)).date()
    return f"{last.year}年{last.month}月{last.day}日"


def printable(
    ctx: Ctx, invitation_id: str, which: str, *, back: str | None = None, round_: int | None = None
) -> str:
    """The letter (约请函) or the filled-in form (约请事项办理情况表) as an A4 HTML page."""
    inv = svc.get_visible(ctx, invitation_id)
    v = invitation_view(ctx, inv)
    if which == "letter" and v["number"] is None:
        raise Conflict("the letter is numbered and issued when the committee approves")
    template = "invitations/letter.html" if which == "letter" else "invitations/form_print.html"
    return templates.env.get_template(template).render(back=back, **_print_context(ctx, v, round_=round_))
