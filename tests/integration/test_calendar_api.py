"""Calendar API: years, working-day arithmetic, loading a year and the recompute it causes."""

from __future__ import annotations

import pytest

from tests.builders import problem

# An arrangement for 2027 as the State Council might publish it.
Y2027 = {
    "holidays": [
        "2027-01-01",
        "2027-02-05",
        "2027-02-08",
        "2027-02-09",
        "2027-02-10",
        "2027-02-11",
        "2027-02-12",
    ],
    "workdays": ["2027-02-06", "2027-02-20"],
}


def test_builtin_year(api):
    r = api.get("/api/v1/calendar/2025", "hotline")
    assert r.status_code == 200, r.text
    cal = r.json()
    assert cal["year"] == 2025 and cal["source"] == "builtin"
    assert "2025-09-28" in cal["workdays"] and "2025-10-11" in cal["workdays"]
    assert "2025-10-01" in cal["holidays"] and "2025-10-08" in cal["holidays"]
    assert cal["holidays"] == sorted(cal["holidays"])


def test_a_year_with_no_arrangement_shows_the_statutory_holidays_it_is_reckoned_on(api):
    cal = api.get("/api/v1/calendar/2027", "liaison").json()
    assert cal == {
        "year": 2027,
        "source": "none",
        "provisional": True,
        "workdays": [],
        "holidays": [
            "2027-01-01",
            "2027-02-05",
            "2027-02-06",
            "2027-02-07",
            "2027-02-08",
            "2027-04-05",
            "2027-05-01",
            "2027-05-02",
            "2027-06-09",
            "2027-09-15",
            "2027-10-01",
            "2027-10-02",
            "2027-10-03",
        ],
    }
    assert api.get("/api/v1/calendar/2026").json()["provisional"] is False
    problem(api.get("/api/v1/calendar/1900"), 404)
    problem(api.get("/api/v1/calendar/twenty"), 422)


@pytest.mark.parametrize(
    "start, days, expected, provisional",
    [
        ("2025-09-30", 7, "2025-10-16", False),
        ("2025-10-01", 0, "2025-10-09", False),  # a holiday: the next working day
        ("2025-09-30", 0, "2025-09-30", False),  # a working day: itself
        ("2025-09-27", 1, "2025-09-28", False),  # make-up Sunday counts
        ("2026-12-30", 5, "2027-01-07", True),  # 2027 has none yet: Jan 1 off by law
        ("2027-02-04", 1, "2027-02-09", True),  # the Spring Festival by law: eve, Feb 6-8
    ],
)
def test_working_days_add(api, start, days, expected, provisional):
    r = api.get(f"/api/v1/calendar/working-days/add?start={start}&days={days}", "hotline")
    assert r.status_code == 200, r.text
    assert r.json() == {"start": start, "days": days, "date": expected, "provisional": provisional}


@pytest.mark.parametrize(
    "query, field",
    [
        ("start=2025-09-30&days=3651", "days"),
        ("start=2025-09-30&days=-1", "days"),
        ("start=2025-09-30&days=1.5", "days"),
        ("start=2025-13-01&days=1", "start"),
        ("days=1", "start"),
    ],
)
def test_working_days_add_bad_input(api, query, field):
    body = problem(api.get(f"/api/v1/calendar/working-days/add?{query}"), 422)
    assert field in {e["field"] for e in body["errors"]}, body


def test_working_days_add_needs_a_key(api):
    r = api.client.get("/api/v1/calendar/working-days/add?start=2025-09-30&days=1")
    problem(r, 401)


def test_loading_a_year_recomputes_the_clocks_whose_due_time_or_flag_changes(api):
    api.city()
    api.set_now("2026-12-28 10:00")
    a = api.ticket()
    resolve = api.clock_of(a, "resolve")
    # Dec 29, 30, 31, then Jan 4-7: Jan 1 is New Year's Day by law, 2027 not yet published.
    assert resolve["provisional"] is True
    assert resolve["due_at"] == "2027-01-08T00:00:00+08:00"
    assert api.clock_of(a, "contact")["provisional"] is False
    api.set_now("2027-02-01 10:00")
    b = api.ticket()
    # Feb 2, 3, 4, then the Spring Festival by law (eve Feb 5, Feb 6-8), Feb 9-12.
    assert api.clock_of(b, "resolve")["due_at"] == "2027-02-13T00:00:00+08:00"
    api.set_now("2027-02-03 10:00")
    c = api.ticket(urgency="urgent")
    # An hour-counted clock never depends on the calendar, whatever its long-overdue mark.
    assert api.clock_of(c, "resolve")["provisional"] is False
    api.set_now("2027-02-03 12:00")

    problem(api.put("/api/v1/calendar/2027", "hotline", json=Y2027), 403)
    problem(api.put("/api/v1/calendar/2027", "liaison", json=Y2027), 403)

    r = api.put("/api/v1/calendar/2027", json=Y2027)
    assert r.status_code == 200, r.text
    # a: same due time, no longer provisional; b: due time moved; c: only its mark moved.
    assert r.json() == {"year": 2027, "source": "custom", "recomputed_clocks": 2}
    cal = api.get("/api/v1/calendar/2027").json()
    assert cal["source"] == "custom" and cal["holidays"] == Y2027["holidays"]
    assert cal["provisional"] is False
    resolve = api.clock_of(api.get(f"/api/v1/tickets/{a['id']}").json(), "resolve")
    assert (resolve["due_at"], resolve["provisional"]) == ("2027-01-08T00:00:00+08:00", False)
    resolve = api.clock_of(api.get(f"/api/v1/tickets/{b['id']}").json(), "resolve")
    # Feb 2, 3, 4, Sat Feb 6 (worked), Feb 15, 16, 17.
    assert (resolve["due_at"], resolve["provisional"]) == ("2027-02-18T00:00:00+08:00", False)

    def recomputed(ticket):
        events = api.get(f"/api/v1/tickets/{ticket['id']}/events").json()["items"]
        return [e["data"] for e in events if e["type"] == "clock.recomputed"]

    assert [(e["kind"], e["old_provisional"], e["new_provisional"]) for e in recomputed(a)] == [
        ("resolve", True, False)
    ]
    assert [(e["old_due_at"], e["new_due_at"]) for e in recomputed(b)] == [
        ("2027-02-13T00:00:00+08:00", "2027-02-18T00:00:00+08:00")
    ]
    assert recomputed(c) == []

    # The same arrangement again changes no clock.
    assert api.put("/api/v1/calendar/2027", json=Y2027).json()["recomputed_clocks"] == 0
    r = api.get("/api/v1/calendar/working-days/add?start=2026-12-30&days=5")
    assert r.json() == {"start": "2026-12-30", "days": 5, "date": "2027-01-07", "provisional": False}

    problem(api.call("DELETE", "/api/v1/calendar/2027", "hotline"), 403)
    r = api.call("DELETE", "/api/v1/calendar/2027")
    assert r.status_code == 200, r.text
    assert r.json() == {"year": 2027, "source": "none", "recomputed_clocks": 2}
    assert api.get("/api/v1/calendar/2027").json()["source"] == "none"
    resolve = api.clock_of(api.get(f"/api/v1/tickets/{a['id']}").json(), "resolve")
    assert (resolve["due_at"], resolve["provisional"]) == ("2027-01-08T00:00:00+08:00", True)
    assert len(recomputed(a)) == 2 and recomputed(c) == []
    # Deleting a year that is not loaded is a no-op.
    r = api.call("DELETE", "/api/v1/calendar/2027")
    assert r.status_code == 200 and r.json()["recomputed_clocks"] == 0


def test_a_threshold_crossing_into_an_unpublished_year_leaves_the_clock_firm(api):
    api.city()
    api.set_now("2026-12-17 10:00")
    t = api.ticket()
    resolve = api.clock_of(t, "resolve")
    # Due end of Dec 28 on published data; its long-overdue mark lies in 2027.
    assert (resolve["due_at"], resolve["provisional"]) == ("2026-12-29T00:00:00+08:00", False)
    api.set_now("2026-12-20 10:00")
    assert api.put("/api/v1/calendar/2027", json=Y2027).json()["recomputed_clocks"] == 0


def test_replacing_and_reverting_a_builtin_year(api):
    r = api.put("/api/v1/calendar/2025", json={"holidays": ["2025-10-01"], "workdays": []})
    assert r.status_code == 200
    assert api.get("/api/v1/calendar/2025").json()["source"] == "custom"
    d = api.get("/api/v1/calendar/working-days/add?start=2025-10-01&days=0").json()
    assert d["date"] == "2025-10-02"
    r = api.call("DELETE", "/api/v1/calendar/2025")
    assert r.status_code == 200 and r.json()["source"] == "builtin"
    d = api.get("/api/v1/calendar/working-days/add?start=2025-10-01&days=0").json()
    assert d["date"] == "2025-10-09"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"holidays": ["2026-01-01"], "workdays": []}, "holidays[0]"),
        ({"holidays": ["2027-01-01", "2028-01-03"], "workdays": []}, "holidays[1]"),
        ({"holidays": [], "workdays": ["2027-01-04"]}, "workdays[0]"),  # a Monday
        ({"holidays": [], "workdays": ["2027-01-09", "2027-01-04"]}, "workdays[1]"),
        ({"holidays": ["2027-01-09"], "workdays": ["2027-01-09"]}, "workdays"),
        ({"holidays": ["not-a-date"], "workdays": []}, "holidays.0"),
        ({"holidays": []}, "workdays"),
    ],
)
def test_put_bad_dates_is_422_naming_the_field(api, body, field):
    r = api.put("/api/v1/calendar/2027", json=body)
    err = problem(r, 422)
    assert field in {e["field"] for e in err["errors"]}, err
    assert api.get("/api/v1/calendar/2027").json()["source"] == "none"
