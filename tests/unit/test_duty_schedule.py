"""The duty-report schedule (pure): which term years each kind of deputy is due in, and
how a deputy's state runs through a term."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.services.duty_schedule import DEFAULT_SCHEDULE, KINDS, Schedule, parse_schedule

HUARONG = Schedule(parse_schedule(DEFAULT_SCHEDULE))


@pytest.mark.parametrize(
    "reelected, official, kind, years",
    [
        (True, False, "reelected", (1,)),
        (False, True, "official", (2,)),
        (False, False, "others", (3, 4)),
        (True, True, "reelected", (1,)),  # the first rule that fits decides
    ],
)
def test_huarong_schedule_by_kind_of_deputy(reelected, official, kind, years):
    got = HUARONG.kind_of(reelected=reelected, official=official)
    assert (got, HUARONG.due_years(got, 5)) == (kind, years)


@pytest.mark.parametrize("term_years, expected", [(1, (1,)), (2, (2,)), (3, (3,)), (4, (3, 4)), (6, (3, 4))])
def test_a_short_term_brings_the_late_years_back_to_its_last(term_years, expected):
    assert HUARONG.due_years("others", term_years) == expected


rules = st.lists(
    st.tuples(st.sampled_from(KINDS), st.lists(st.integers(1, 10), min_size=1, max_size=4)),
    min_size=1,
    max_size=3,
    unique_by=lambda r: r[0],
)


@given(rules=rules, term_years=st.integers(1, 8), reelected=st.booleans(), official=st.booleans())
def test_a_deputy_without_a_report_is_due_in_the_due_years_and_overdue_after_the_last(
    rules, term_years, reelected, official
):
    text = ";".join(f"{k}:{','.join(map(str, ys))}" for k, ys in rules)
    if "others" not in dict(rules):
        text += ";others:3,4"
    schedule = Schedule(parse_schedule(text))
    kind = schedule.kind_of(reelected=reelected, official=official)
    states = [
        schedule.state(kind, term_years=term_years, year_n=n, reported=False)
        for n in range(1, term_years + 1)
    ]
    # Some year of the term is a due year; overdue once the last one has passed; upcoming
    # otherwise (before the first, or between two due years: one is still ahead).
    due = schedule.due_years(kind, term_years)
    assert due and due[0] >= 1 and due[-1] <= term_years
    assert states == [
        "due" if n in due else "overdue" if n > due[-1] else "upcoming" for n in range(1, term_years + 1)
    ]
    assert states[-1] in ("due", "overdue")  # the term never ends with the report ahead
    # A report, whenever made, is done for the rest of the term.
    assert {
        schedule.state(kind, term_years=term_years, year_n=n, reported=True) for n in range(1, term_years + 1)
    } == {"done"}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "others:",
        "others:0",
        "others:11",
        "reelected:1",
        "boss:1;others:3",
        "others:3;others:4",
        "others:a",
        "others",
    ],
)
def test_a_schedule_that_cannot_be_followed_is_refused(text):
    with pytest.raises(ValueError):
        parse_schedule(text)
