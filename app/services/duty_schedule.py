"""When each deputy reports on his or her duties within a term (pure; SPEC Part II).

The schedule is configuration, since cities schedule otherwise. Huarong's, the default:
re-elected deputies (连任) in term year 1, deputies holding a leading post (职务代表) in
year 2, the others in year 3 or 4 — written `reelected:1;official:2;others:3,4`. The first
rule that fits a deputy decides (a re-elected deputy holding a leading post reports in
year 1). A term shorter than a scheduled year brings that year back to its last year, so
that every deputy has a year to report in.

Term year n is the nth calendar year of the term: the start date's year is year 1, so a
term that starts in October has a short year 1.
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("reelected", "official", "others")
KIND_NAMES = {"reelected": "连任代表", "official": "职务代表", "others": "其他代表"}
DEFAULT_SCHEDULE = "reelected:1;official:2;others:3,4"
MEETING_METHODS = frozenset({"oral", "meeting"})


@dataclass(frozen=True)
class Schedule:
    """Term years per kind of deputy, and the meeting-share rule."""

    years: tuple[tuple[str, tuple[int, ...]], ...]
    meeting_share: float = 0.3
    meeting_levels: frozenset[str] = frozenset({"county", "township"})

    def kind_of(self, *, reelected: bool, official: bool) -> str:
        """The rule that decides for a deputy with these marks."""
        marks = {"reelected": reelected, "official": official, "others": True}
        for kind, _ in self.years:
            if marks[kind]:
                return kind
        return "others"

    def due_years(self, kind: str, term_years: int) -> tuple[int, ...]:
        """The term years a deputy of this kind is due in, within a term of that length."""
        scheduled = dict(self.years).get(kind, ())
        return tuple(sorted({min(y, term_years) for y in scheduled}))

    def state(self, kind: str, *, term_years: int, year_n: int, reported: bool) -> str:
        """`done`, `due` (this is one of the years), `overdue` (they have passed without a
        report) or `upcoming` (not yet)."""
        if reported:
            return "done"
        years = self.due_years(kind, term_years)
        if year_n in years:
            return "due"
        if years and year_n > years[-1]:
            return "overdue"
        return "upcoming"

    def meeting_rule_applies(self, level: str) -> bool:
        """Whether a term of this level must make its share of reports at a meeting."""
        return level in self.meeting_levels

    def describe(self) -> list[dict[str, object]]:
        """The schedule as data, for reports."""
        return [{"kind": k, "name": KIND_NAMES[k], "term_years": list(ys)} for k, ys in self.years]


def parse_schedule(text: str) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """`reelected:1;official:2;others:3,4` as rules; ValueError says what is wrong."""
    rules: list[tuple[str, tuple[int, ...]]] = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        kind, sep, years = part.partition(":")
        kind = kind.strip()
        if not sep or kind not in KINDS:
            raise ValueError(f"{part!r}: write <kind>:<years>, kind one of {', '.join(KINDS)}")
        if kind in dict(rules):
            raise ValueError(f"{kind} is scheduled twice")
        try:
            numbers = tuple(sorted({int(y) for y in years.split(",") if y.strip()}))
        except ValueError:
            raise ValueError(f"{part!r}: term years are whole numbers such as 3,4") from None
        if not numbers or numbers[0] < 1 or numbers[-1] > 10:
            raise ValueError(f"{part!r}: term years run from 1 to 10")
        rules.append((kind, numbers))
    if "others" not in dict(rules):
        raise ValueError("the schedule must say when the others report (others:<years>)")
    return tuple(rules)
