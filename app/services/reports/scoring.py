"""The units' performance assessment (绩效考核): a score from 0 to 100 and a rank (pure).

A unit's score is the weighted mean of the rates measured for it, 100 × Σ wᵢrᵢ / Σ wᵢ
over those rates only, so a unit is not marked down for a figure it had no chance to
earn (a unit that resolved nothing has no solve rate). Scores are rounded to one
decimal, as printed, and ranked on that: equal scores share a rank (1, 1, 3), and a
unit with no measured rate has no score and no rank.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class ScoreWeights:
    """Weight of each rate in the score (settings; SPEC's defaults)."""

    contact_on_time_rate: float = 15
    resolve_on_time_rate: float = 35
    feedback_on_time_rate: float = 10
    satisfaction_rate: float = 30
    solve_rate: float = 10

    def items(self) -> list[tuple[str, float]]:
        return [(f.name, float(getattr(self, f.name))) for f in fields(self)]


LABELS = {
    "contact_on_time_rate": "联系代表及时率",
    "resolve_on_time_rate": "办结及时率",
    "feedback_on_time_rate": "反馈及时率",
    "satisfaction_rate": "满意率",
    "solve_rate": "解决率",
}


def score(row: dict[str, Any], weights: ScoreWeights) -> float | None:
    """100 × Σ wᵢrᵢ / Σ wᵢ over the rates measured in `row`; None when none was."""
    num = den = 0.0
    for key, weight in weights.items():
        rate = row.get(key)
        if rate is None or weight <= 0:
            continue
        num += weight * float(rate)
        den += weight
    return round(100 * num / den, 1) if den else None


def rank(scores: Iterable[float | None]) -> list[int | None]:
    """Competition ranking, 1 = best; equal scores share a rank; None is not ranked."""
    values = list(scores)
    ranked = sorted((s for s in values if s is not None), reverse=True)
    first: dict[float, int] = {}
    for i, s in enumerate(ranked, start=1):
        first.setdefault(s, i)
    return [None if s is None else first[s] for s in values]


def assess(rows: list[dict[str, Any]], weights: ScoreWeights) -> None:
    """Give each unit row its `score` and `rank` (the row of no unit is not assessed)."""
    scores = [score(r, weights) if r.get("unit") is not None else None for r in rows]
    for row, s, r in zip(rows, scores, rank(scores), strict=True):
        row["score"], row["rank"] = s, r


def formula(weights: ScoreWeights) -> str:
    """How the score is made, in one line for the reader."""
    terms = "＋".join(f"{LABELS[k]}×{w:g}" for k, w in weights.items() if w > 0)
    return f"得分＝（{terms}）÷ 有数据指标的权重之和，满分100；无任何数据的单位不评分、不排名"
