"""Deputy participation (代表履职): calls and problems per deputy in a year, points, silence."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.repositories import points, registry
from app.services.points import rules
from app.services.reports.period import Period
from app.services.reports.stations import deputy_message_figures


def build(session: Session, period: Period) -> dict[str, Any]:
    # Part I's rule (one point per problem, at most 5 a year) is the points table's
    # `hotline_problem` type: re-weighting it there re-weights it here.
    rule = rules(session)["hotline_problem"]
    counts = {
        deputy_id: (int(calls), int(probs))
        for deputy_id, calls, probs in points.calls_by_deputy(session, period)
    }
    districts = dict(registry.districts(session))
    # Part II: the voters' messages each deputy received in the year and how they went.
    messages = deputy_message_figures(session, period)
    items, silent = [], []
    for d in registry.deputies_by_name(session):
        m = messages.get(d.id, {})
        base = {
            "deputy_id": d.id,
            "name": d.name,
            "phone": d.phone,
            "level": d.level,
            "district": d.district,
            "district_name": districts.get(d.district, d.district) if d.district else None,
            "delegation": d.delegation,
            "messages": m.get("messages", 0),
            "messages_answered": m.get("answered", 0),
            "messages_forwarded": m.get("forwarded", 0),
            "voter_satisfaction_rate": m.get("voter_satisfaction_rate"),
        }
        if d.id in counts:
            calls, probs = counts[d.id]
            items.append({**base, "calls": calls, "problems": probs, "points": rule.capped(probs)})
        else:
            silent.append(base)
    items.sort(key=lambda i: (-int(i["points"] or 0), -int(i["calls"] or 0), str(i["name"]), str(i["phone"])))
    unverified = [
        {"name": name, "phone": phone, "calls": int(calls), "problems": int(probs)}
        for name, phone, calls, probs in points.unverified_callers(session, period)
    ]
    return {
        "year": int(period.label),
        "cutoff_at": period.local(period.cutoff),
        "points_rule": {"points": rule.points, "yearly_cap": rule.yearly_cap},
        "items": items,
        "silent_deputies": silent,
        "unverified_callers": unverified,
        "totals": {
            "deputies": len(items) + len(silent),
            "active": len(items),
            "silent": len(silent),
            "calls": sum(i["calls"] for i in items),
            "problems": sum(i["problems"] for i in items),
            "points": sum(i["points"] for i in items),
        },
    }
