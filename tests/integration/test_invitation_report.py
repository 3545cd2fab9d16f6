"""The invitations report per unit (GET /api/v1/reports/invitations), in every format."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from tests.integration.test_invitations import ACK, REPORT, STATION, act, city, submit

HOSTILE_NAME = '=HYPERLINK("http://evil.example/y","住建局")'


@pytest.fixture
def year(api):
    """Two units' invitations in 2025, as SPEC's cohorts count them at 2025-11-10."""
    city(api)
    r = api.put("/api/v1/units/housing-bureau", json={"name": HOSTILE_NAME, "kind": "department"})
    assert r.status_code == 200, r.text
    water = submit(api)
    housing = submit(api, unit="housing-bureau")
    rejected = submit(api)
    for inv in (water, housing):
        assert act(api, inv["id"], "review", "liaison", approve=True).status_code == 200
    act(api, rejected["id"], "review", "liaison", approve=False, note="不属于约请范围")
    # Water: acknowledged in time, reported in time, rated unsatisfied; round 2 reported late
    # (due end of Oct 30) and rated satisfied.
    api.set_now("2025-10-09 10:00")
    act(api, water["id"], "acknowledge", "water-bureau", **ACK)
    api.set_now("2025-10-10 10:00")
    act(api, water["id"], "report", "water-bureau", **REPORT)
    act(api, water["id"], "evaluation", STATION, rating="unsatisfied")
    # Housing: acknowledged late (due end of Oct 11); its complete clock (due end of Nov 3)
    # is unmet at the cut-off.
    api.set_now("2025-10-13 10:00")
    act(api, housing["id"], "acknowledge", "housing-bureau", **ACK)
    api.set_now("2025-11-05 10:00")
    act(api, water["id"], "report", "water-bureau", **REPORT)
    api.set_now("2025-11-06 10:00")
    act(api, water["id"], "evaluation", STATION, rating="basically_satisfied")
    api.set_now("2025-11-10 10:00")
    return api


def test_per_unit_figures_follow_the_cohort_rules(year):
    r = year.get("/api/v1/reports/invitations", "liaison", params={"year": "2025"})
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["year"] == 2025 and report["cutoff_at"] == "2025-11-10T10:00:00+08:00"
    assert report["items"] == [
        {
            "unit": "housing-bureau",
            "name": HOSTILE_NAME,
            "received": 1,
            "acknowledged_on_time_rate": 0.0,
            "completed_on_time_rate": 0.0,
            "evaluated": 0,
            "satisfaction_rate": None,
            "reopened": 0,
        },
        {
            "unit": "water-bureau",
            "name": "益阳市水务局",
            "received": 1,
            "acknowledged_on_time_rate": 1.0,
            "completed_on_time_rate": 0.5,
            "evaluated": 2,
            "satisfaction_rate": 0.5,
            "reopened": 1,
        },
    ]
    assert report["totals"] == {
        "received": 2,
        "acknowledged_on_time_rate": 0.5,
        "completed_on_time_rate": pytest.approx(1 / 3),
        "evaluated": 2,
        "satisfaction_rate": 0.5,
        "reopened": 1,
    }


def test_a_past_year_is_judged_at_its_end_and_an_empty_year_has_no_rows(year):
    year.set_now("2026-03-01 10:00")
    report = year.get("/api/v1/reports/invitations", "admin", params={"year": "2025"}).json()
    assert report["cutoff_at"] == "2026-01-01T00:00:00+08:00"
    assert [i["unit"] for i in report["items"]] == ["housing-bureau", "water-bureau"]
    empty = year.get("/api/v1/reports/invitations", "liaison", params={"year": "2024"}).json()
    assert empty["items"] == [] and empty["totals"]["satisfaction_rate"] is None
    for bad in ("2027", "25", "x"):
        r = year.get("/api/v1/reports/invitations", "liaison", params={"year": bad})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "year"
    assert year.get("/api/v1/reports/invitations", "water-bureau", params={"year": "2025"}).status_code == 403


def test_every_format_carries_the_same_rows_with_formulas_neutralized(year):
    def download(fmt):
        r = year.get("/api/v1/reports/invitations", "liaison", params={"year": "2025", "format": fmt})
        assert r.status_code == 200, r.text
        return r

    r = download("csv")
    assert r.headers["content-disposition"] == 'attachment; filename="invitations-2025.csv"'
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    cells = [c for row in rows for c in row]
    assert "【各单位约请办理情况】" in cells and "益阳市水务局" in cells
    assert "'" + HOSTILE_NAME in cells
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@"))]
    water = next(row for row in rows if "益阳市水务局" in row)
    assert water[-6:] == ["1", "100.0%", "50.0%", "2", "50.0%", "1"]
    wb = load_workbook(io.BytesIO(download("xlsx").content))
    texts = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert not [c for c in texts if c.data_type == "f"]
    assert any(c.value == HOSTILE_NAME and c.quotePrefix for c in texts)
    assert "各单位约请办理情况" in wb.sheetnames
    html = download("html").text
    assert "约请事项办理情况（2025年）" in html and "益阳市水务局" in html
    assert "=HYPERLINK(&quot;http://evil.example/y&quot;" in html and "<a " not in html
