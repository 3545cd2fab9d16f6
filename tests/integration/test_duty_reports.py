"""Duty reports (述职): recording them, and the coverage report of a term per the schedule
(SPEC Part II "Duty reports and points")."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from app.schemas.duty import CoverageReport
from tests.builders import ok, problem_fields

# A county term that started mid-year: 2021 is its (short) year 1, 2026 its year 6.
MIDYEAR = {"level": "county", "name": "第十八届", "starts_on": "2021-10-01", "ends_on": "2026-09-30"}
KINDS = {
    "连任": {"reelected": True},
    "职务": {"official": True},
    "其他": {},
    "连任兼职务": {"reelected": True, "official": True},
}


def term_with_deputies(
    api: Any,
    code: str = "heshan-18",
    term: dict[str, str] = MIDYEAR,
    kinds: dict[str, dict[str, bool]] = KINDS,
) -> dict[str, str]:
    """A term and one deputy of each kind in it: name -> id."""
    ok(api.put(f"/api/v1/terms/{code}", "liaison", json=term), 201)
    ids = {}
    for i, (name, marks) in enumerate(kinds.items()):
        d = ok(
            api.post(
                "/api/v1/deputies",
                "liaison",
                json={"name": name, "phone": f"1390000{i:04d}", "level": term["level"], "district": "heshan"},
            ),
            201,
        )
        ok(api.call("PATCH", f"/api/v1/deputies/{d['id']}", "liaison", json={"term": code, **marks}))
        ids[name] = d["id"]
    return ids


def coverage(api: Any, year: int, term: str = "heshan-18") -> dict[str, Any]:
    report = ok(api.get(f"/api/v1/reports/duty-reports?term={term}&year={year}", "liaison"))
    CoverageReport.model_validate(report)  # the documented shape, field for field
    return report  # type: ignore[no-any-return]


def states(report: dict[str, Any]) -> dict[str, str]:
    return {d["name"]: state for state in ("due", "overdue", "done", "upcoming") for d in report[state]}


def report_for(api: Any, deputy_id: str, held_on: str, method: str = "meeting") -> Any:
    return api.post(
        f"/api/v1/deputies/{deputy_id}/duty-reports",
        "liaison",
        json={"held_on": held_on, "method": method, "audience": "voters"},
    )


# Every kind of deputy across the whole mid-year term, nobody having reported:
# re-elected in year 1, leading post in year 2, the others in year 3 or 4.
SCHEDULE = [
    (2021, 1, {"连任": "due", "职务": "upcoming", "其他": "upcoming", "连任兼职务": "due"}),
    (2022, 2, {"连任": "overdue", "职务": "due", "其他": "upcoming", "连任兼职务": "overdue"}),
    (2023, 3, {"连任": "overdue", "职务": "overdue", "其他": "due", "连任兼职务": "overdue"}),
    (2024, 4, {"连任": "overdue", "职务": "overdue", "其他": "due", "连任兼职务": "overdue"}),
    (2025, 5, {"连任": "overdue", "职务": "overdue", "其他": "overdue", "连任兼职务": "overdue"}),
    (2026, 6, {"连任": "overdue", "职务": "overdue", "其他": "overdue", "连任兼职务": "overdue"}),
]


def test_the_default_schedule_for_every_kind_across_a_term_that_started_mid_year(api):
    api.city()
    api.set_now("2026-09-30 10:00")
    term_with_deputies(api)
    for year, term_year, expected in SCHEDULE:
        report = coverage(api, year)
        assert (report["term_year"], report["term_years"]) == (term_year, 6)
        assert states(report) == expected, year
        assert (report["deputies"], report["reported"], report["coverage"]) == (4, 0, 0.0)
        assert report["meeting_share"] is None and report["meeting_share_on_course"] is None
    due = {d["name"]: d["due_years"] for d in coverage(api, 2021)["due"]}
    assert due == {"连任": [1], "连任兼职务": [1]}


def test_a_report_counts_from_its_date_and_for_the_rest_of_the_term(api):
    api.city()
    api.set_now("2026-09-30 10:00")
    ids = term_with_deputies(api)
    # The others report in year 4 (2024); the re-elected only in year 2, late.
    ok(report_for(api, ids["其他"], "2024-03-15", "oral"), 201)
    ok(report_for(api, ids["连任"], "2022-11-02", "written"), 201)
    assert states(coverage(api, 2021))["连任"] == "due"  # as it stood at the end of 2021
    assert states(coverage(api, 2022))["连任"] == "done"
    assert states(coverage(api, 2023))["其他"] == "due"  # not yet reported by then
    for year in (2024, 2025, 2026):
        report = coverage(api, year)
        assert states(report)["其他"] == "done" and states(report)["连任"] == "done"
        assert (report["reported"], report["coverage"]) == (2, 0.5)
        done = {d["name"]: [(x["held_on"], x["method"]) for x in d["reports"]] for d in report["done"]}
        assert done == {"其他": [("2024-03-15", "oral")], "连任": [("2022-11-02", "written")]}
    # Year 1, short as it is, is a year of the term; the year before it is not.
    assert problem_fields(
        api.get("/api/v1/reports/duty-reports?term=heshan-18&year=2020", "liaison"), 422
    ) == ["year"]


def test_a_term_shorter_than_the_schedule_brings_the_late_years_back_to_its_last(api):
    api.city()
    api.set_now("2026-09-30 10:00")
    term_with_deputies(
        api,
        "short",
        {"level": "township", "name": "第二十届", "starts_on": "2025-06-01", "ends_on": "2026-12-31"},
    )
    report = coverage(api, 2026, "short")
    assert states(report) == {"连任": "overdue", "职务": "due", "其他": "due", "连任兼职务": "overdue"}
    assert {d["name"]: d["due_years"] for d in report["due"]} == {"职务": [2], "其他": [2]}


def test_meeting_share_and_whether_a_county_term_is_on_course(api):
    api.city()
    api.set_now("2026-09-30 10:00")
    ids = term_with_deputies(api)
    ok(report_for(api, ids["连任"], "2022-01-10", "meeting"), 201)
    ok(report_for(api, ids["职务"], "2023-01-10", "written"), 201)
    ok(report_for(api, ids["其他"], "2024-01-10", "written"), 201)
    report = coverage(api, 2024)
    assert (report["reports"], report["meeting_reports"]) == (3, 1)
    assert report["meeting_share"] == pytest.approx(1 / 3)
    assert (report["meeting_share_required"], report["meeting_share_on_course"]) == (0.3, True)
    ok(report_for(api, ids["连任兼职务"], "2025-01-10", "written"), 201)
    report = coverage(api, 2025)
    assert (report["meeting_share"], report["meeting_share_on_course"]) == (0.25, False)
    assert (report["reported"], report["coverage"]) == (4, 1.0)
    # As it stood at the end of 2022, one report, at a meeting.
    assert (coverage(api, 2022)["meeting_share"], coverage(api, 2022)["reports"]) == (1.0, 1)


def test_the_meeting_share_rule_is_for_county_and_township_terms_only(api):
    api.city()
    api.set_now("2026-09-30 10:00")
    ids = term_with_deputies(
        api, "city-9", {"level": "city", "name": "第九届", "starts_on": "2022-01-01", "ends_on": "2026-12-31"}
    )
    ok(report_for(api, ids["其他"], "2024-05-01", "written"), 201)
    report = coverage(api, 2024, "city-9")
    assert report["meeting_share"] == 0.0
    assert (report["meeting_share_required"], report["meeting_share_on_course"]) == (None, None)


def test_recording_a_report_refuses_what_does_not_fit_and_changes_nothing(api):
    api.city()
    api.set_now("2024-06-30 10:00")
    ids = term_with_deputies(api)
    other = ok(
        api.post(
            "/api/v1/deputies", "liaison", json={"name": "无届", "phone": "13700000001", "level": "county"}
        ),
        201,
    )
    path = f"/api/v1/deputies/{ids['其他']}/duty-reports"
    good = {"held_on": "2024-03-15", "method": "meeting", "audience": "voters"}
    assert problem_fields(report_for(api, other["id"], "2024-03-15"), 409) == []
    assert problem_fields(report_for(api, ids["其他"], "2021-09-30"), 422) == ["held_on"]
    assert problem_fields(report_for(api, ids["其他"], "2024-07-01"), 422) == ["held_on"]  # ahead
    assert problem_fields(api.post(path, "liaison", json={**good, "method": "speech"}), 422) == ["method"]
    assert problem_fields(api.post(path, "liaison", json={**good, "audience": "public"}), 422) == ["audience"]
    assert problem_fields(api.post(path, "liaison", json={**good, "note": "x" * 2001}), 422) == ["note"]
    assert problem_fields(api.post("/api/v1/deputies/nope/duty-reports", "liaison", json=good), 404) == []
    assert problem_fields(api.post(path, "hotline", json=good), 403) == []
    assert problem_fields(api.post(path, "admin", json=good), 403) == []
    assert ok(api.get(path, "liaison")) == []
    made = ok(api.post(path, "liaison", json={**good, "note": "在赫山区会议室"}), 201)
    assert (made["term"], made["recorded_by"]) == ("heshan-18", api.actor("liaison"))
    assert [r["id"] for r in ok(api.get(path, "admin"))] == [made["id"]]


def test_the_coverage_report_refuses_unknown_terms_and_years_out_of_range(api):
    api.city()
    api.set_now("2024-06-30 10:00")
    term_with_deputies(api)
    base = "/api/v1/reports/duty-reports"
    assert problem_fields(api.get(f"{base}?term=nope&year=2024", "liaison"), 422) == ["term"]
    assert problem_fields(api.get(f"{base}?term=heshan-18&year=2025", "liaison"), 422) == ["year"]
    assert problem_fields(api.get(f"{base}?term=heshan-18&year=24", "liaison"), 422) == ["year"]
    assert problem_fields(api.get(f"{base}?term=heshan-18", "liaison"), 422) == ["year"]
    assert problem_fields(api.get(f"{base}?term=heshan-18&year=2024&format=pdf", "liaison"), 422) == [
        "format"
    ]
    assert problem_fields(api.get(f"{base}?term=heshan-18&year=2024", "hotline"), 403) == []


def test_the_schedule_is_configuration(db_url, clock):
    from fastapi.testclient import TestClient

    from app.main import create_app
    from tests.builders import Api
    from tests.conftest import make_settings

    settings = make_settings(
        db_url, HOTLINE_DUTY_REPORT_SCHEDULE="official:1;others:2,3", HOTLINE_DUTY_MEETING_SHARE=0.5
    )
    with TestClient(create_app(settings, clock=clock, background=False)) as client:
        api = Api(client, clock, client.app)  # type: ignore[arg-type]
        api.city()
        api.set_now("2026-09-30 10:00")
        ids = term_with_deputies(api)
        ok(report_for(api, ids["其他"], "2022-03-01", "meeting"), 201)
        ok(report_for(api, ids["职务"], "2022-03-01", "written"), 201)
        report = coverage(api, 2022)
    # Re-elected deputies follow no rule of their own here: they report with the others.
    assert states(report) == {"连任": "due", "职务": "done", "其他": "done", "连任兼职务": "overdue"}
    assert (report["meeting_share"], report["meeting_share_on_course"]) == (0.5, True)
    assert [r["kind"] for r in report["schedule"]] == ["official", "others"]


@pytest.mark.parametrize(
    "value", ["", "others:", "others:0", "reelected:1", "boss:1;others:3", "others:3;others:4", "others:a"]
)
def test_a_schedule_that_says_nothing_sensible_is_refused_at_start_up(value):
    from pydantic import ValidationError

    from tests.conftest import make_settings

    with pytest.raises(ValidationError, match="HOTLINE_DUTY_REPORT_SCHEDULE|schedule|term"):
        make_settings("sqlite://", HOTLINE_DUTY_REPORT_SCHEDULE=value)


HOSTILE = '=HYPERLINK("http://evil.example/x","点我")'


def test_every_export_of_the_coverage_report_keeps_names_and_runs_nothing(api):
    api.city()
    api.set_now("2026-09-30 10:00")
    ids = term_with_deputies(api)
    ok(api.call("PATCH", f"/api/v1/deputies/{ids['其他']}", json={"name": "@SUM(1+1)"}))
    ok(
        api.post(
            f"/api/v1/deputies/{ids['职务']}/duty-reports",
            "liaison",
            json={
                "held_on": "2023-05-04",
                "method": "oral",
                "audience": "electoral_unit",
                "note": HOSTILE + "<script>alert(1)</script>",
            },
        ),
        201,
    )
    path = "/api/v1/reports/duty-reports?term=heshan-18&year=2024"
    content = ok_bytes(api, path, "csv").decode("utf-8-sig")
    cells = [c for row in csv.reader(io.StringIO(content)) for c in row]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@"))]
    assert "'@SUM(1+1)" in cells and "职务" in cells and "常委会会议口头报告" in cells
    wb = load_workbook(io.BytesIO(ok_bytes(api, path, "xlsx")))
    texts = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert not [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]
    risky = [c for c in texts if c.value.startswith(("=", "@"))]
    assert {c.value for c in risky} >= {"@SUM(1+1)"}
    assert all(c.quotePrefix for c in risky)
    assert "逾期未述职" in wb.sheetnames and any(c.value == "其他代表" for c in texts)
    html = ok_bytes(api, path, "html").decode()
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "代表述职情况（第十八届，2024年）" in html and "会议述职占比" in html


def ok_bytes(api: Any, path: str, fmt: str) -> bytes:
    r = api.get(f"{path}&format={fmt}", "liaison")
    assert r.status_code == 200, r.text[:300]
    return r.content  # type: ignore[no-any-return]


def test_forty_reports_recorded_at_once_are_all_kept(api):
    api.city()
    api.set_now("2024-06-30 10:00")
    ids = term_with_deputies(api)
    codes = api.concurrently(
        "liaison",
        f"/api/v1/deputies/{ids['其他']}/duty-reports",
        [{"held_on": "2024-03-15", "method": "meeting", "audience": "voters"}] * 40,
    )
    assert set(codes) <= {201, 503} and 201 in codes, codes
    report = coverage(api, 2024)
    assert (report["reports"], report["reported"]) == (codes.count(201), 1)
