"""Points (履职积分): the points table, items the committee records, built-in types counted
from the service's own records, yearly caps, and the annual points reports."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from app.schemas.duty import DeputyPointsReport, PointsReport
from tests.builders import ok, problem_fields

TERM = {"level": "city", "name": "第九届", "starts_on": "2022-01-01", "ends_on": "2026-12-31"}


def deputy_id(api: Any, phone: str = "13800000001") -> str:
    return ok(api.get(f"/api/v1/deputies?phone={phone}", "liaison"))["items"][0]["id"]  # type: ignore[no-any-return]


def points(api: Any, year: int) -> dict[str, Any]:
    report = ok(api.get(f"/api/v1/reports/points?year={year}", "liaison"))
    PointsReport.model_validate(report)
    return report  # type: ignore[no-any-return]


def row_of(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(i for i in report["items"] if i["name"] == name)


def detail(api: Any, deputy: str, year: int, who: str = "liaison") -> dict[str, Any]:
    report = ok(api.get(f"/api/v1/reports/points/{deputy}?year={year}", who))
    DeputyPointsReport.model_validate(report)
    return report  # type: ignore[no-any-return]


def activity(api: Any, deputy: str, type_: str, on: str, note: str | None = None) -> Any:
    return api.post(
        f"/api/v1/deputies/{deputy}/activities",
        "liaison",
        json={"type": type_, "on": on, **({"note": note} if note else {})},
    )


def year_of_activity(api: Any) -> str:
    """张三's 2025: 7 problems and a consultation on the line, 3 receptions, 2 duty reports,
    3 sessions attended (a type worth 3, capped at 6); and some of 2024 that must not count."""
    api.city()
    zhang = deputy_id(api)
    ok(api.put("/api/v1/terms/city-9", json=TERM), 201)
    ok(api.call("PATCH", f"/api/v1/deputies/{zhang}", json={"term": "city-9"}))
    api.set_now("2024-12-31 15:00")
    api.ticket()  # last year
    ok(
        api.post(
            f"/api/v1/deputies/{zhang}/duty-reports",
            "liaison",
            json={"held_on": "2024-12-31", "method": "written", "audience": "voters"},
        ),
        201,
    )
    api.set_now("2025-03-01 09:00")
    for _ in range(7):
        api.ticket()
    api.ticket(kind="consultation")
    api.station(deputies=[zhang])
    for day in ("2024-12-20", "2025-01-15", "2025-02-15", "2025-03-01"):
        ok(
            api.post(
                "/api/v1/stations/heshan-01/receptions",
                "liaison",
                json={"date": day, "deputies": [zhang], "voters_received": 12, "batches": 3},
            ),
            201,
        )
    for day in ("2025-01-10", "2025-02-20"):
        ok(
            api.post(
                f"/api/v1/deputies/{zhang}/duty-reports",
                "liaison",
                json={"held_on": day, "method": "meeting", "audience": "voters"},
            ),
            201,
        )
    ok(
        api.put(
            "/api/v1/point-rules/session",
            "liaison",
            json={"name": "参加人代会", "points": 3, "yearly_cap": 6},
        ),
        201,
    )
    ok(api.put("/api/v1/point-rules/training", "admin", json={"name": "参加培训", "points": 2}), 201)
    for day in ("2024-12-30", "2025-01-05", "2025-02-05", "2025-02-28"):
        ok(activity(api, zhang, "session", day, "第九届人大第五次会议"), 201)
    ok(activity(api, zhang, "training", "2025-02-01"), 201)
    return zhang


def test_built_in_and_committee_types_counted_for_the_year_with_caps(api):
    zhang = year_of_activity(api)
    ok(
        api.post(
            "/api/v1/deputies", "liaison", json={"name": "李四", "phone": "13900000002", "level": "city"}
        ),
        201,
    )
    report = points(api, 2025)
    z = row_of(report, "张三")
    assert z["items"] == {
        "hotline_problem": 7,
        "message_handled": 0,
        "reception": 3,
        "duty_report": 2,
        "session": 3,
        "training": 1,
    }
    assert z["by_type"] == {
        "hotline_problem": 5,
        "message_handled": 0,
        "reception": 3,
        "duty_report": 5,
        "session": 6,
        "training": 2,
    }
    assert (z["total"], z["calls"], z["silent"]) == (21, 8, False)
    li = row_of(report, "李四")
    assert (li["total"], li["silent"], set(li["by_type"].values())) == (0, True, {0})
    assert [i["name"] for i in report["items"]] == ["张三", "李四"]  # the highest first
    assert [t["type"] for t in report["types"]] == [
        "hotline_problem",
        "message_handled",
        "reception",
        "duty_report",
        "session",
        "training",
    ]
    # 2024: one problem, one reception, one duty report, one session.
    assert row_of(points(api, 2024), "张三")["by_type"] == {
        "hotline_problem": 1,
        "message_handled": 0,
        "reception": 1,
        "duty_report": 5,
        "session": 3,
        "training": 0,
    }
    assert zhang


def test_the_annual_report_of_a_deputy_lists_every_item_behind_each_figure(api):
    zhang = year_of_activity(api)
    report = detail(api, zhang, 2025)
    by = {t["type"]: t for t in report["types"]}
    assert report["total"] == 21 and report["by_type"]["session"] == 6
    assert (
        by["hotline_problem"]["count"],
        by["hotline_problem"]["raw_points"],
        by["hotline_problem"]["points"],
        by["hotline_problem"]["capped"],
    ) == (7, 7, 5, True)
    assert len(by["hotline_problem"]["lines"]) == 7
    assert all(
        line["on"] == "2025-03-01" and line["ref"].startswith("YY-")
        for line in by["hotline_problem"]["lines"]
    )
    assert [(x["on"], x["detail"]) for x in by["reception"]["lines"]] == [
        ("2025-01-15", "赫山区会龙山街道代表联络站"),
        ("2025-02-15", "赫山区会龙山街道代表联络站"),
        ("2025-03-01", "赫山区会龙山街道代表联络站"),
    ]
    assert [x["on"] for x in by["duty_report"]["lines"]] == ["2025-01-10", "2025-02-20"]
    assert by["duty_report"]["lines"][0]["detail"] == "选民会议报告，对象：原选区选民"
    assert [(x["on"], x["detail"]) for x in by["session"]["lines"]] == [
        ("2025-01-05", "第九届人大第五次会议"),
        ("2025-02-05", "第九届人大第五次会议"),
        ("2025-02-28", "第九届人大第五次会议"),
    ]
    assert (by["session"]["raw_points"], by["session"]["points"]) == (9, 6)
    assert (by["training"]["capped"], by["training"]["yearly_cap"]) == (False, None)
    # The summary and the detail agree, figure for figure.
    assert row_of(points(api, 2025), "张三")["by_type"] == report["by_type"]


def test_this_years_report_counts_up_to_now(api):
    zhang = year_of_activity(api)
    api.set_now("2025-02-10 10:00")  # before the third session and the March calls
    ok(activity(api, zhang, "training", "2025-02-10"), 201)
    z = row_of(points(api, 2025), "张三")
    assert z["items"]["hotline_problem"] == 0 and z["items"]["session"] == 2
    assert z["items"]["training"] == 2 and z["items"]["reception"] == 1


def test_a_deputy_registered_late_then_has_the_points_of_his_calls(api):
    api.city()
    api.set_now("2025-05-06 10:00")
    for _ in range(3):
        api.ticket(caller={"name": "赵六", "phone": "13700000006"})
    assert "赵六" not in [i["name"] for i in points(api, 2025)["items"]]
    api.set_now("2025-06-01 09:00")
    zhao = ok(
        api.post(
            "/api/v1/deputies", "liaison", json={"name": "赵六", "phone": "137-0000-0006", "level": "county"}
        ),
        201,
    )
    row = row_of(points(api, 2025), "赵六")
    assert (row["by_type"]["hotline_problem"], row["silent"], row["calls"]) == (3, False, 3)
    assert len(detail(api, zhao["id"], 2025)["types"][0]["lines"]) == 3


def test_a_new_phone_brings_its_calls_points_with_it(api):
    api.city()
    api.set_now("2025-05-06 10:00")
    api.ticket(caller={"name": "张三", "phone": "13600000003"})
    zhang = deputy_id(api)
    assert row_of(points(api, 2025), "张三")["total"] == 0
    ok(api.call("PATCH", f"/api/v1/deputies/{zhang}", json={"phone": "13600000003"}))
    assert row_of(points(api, 2025), "张三")["by_type"]["hotline_problem"] == 1


def test_built_in_types_may_be_re_weighted_not_given_items_by_hand(api):
    zhang = year_of_activity(api)
    got = ok(
        api.put(
            "/api/v1/point-rules/hotline_problem",
            "liaison",
            json={"name": "专线反映问题", "points": 2, "yearly_cap": 8},
        )
    )
    assert got == {
        "type": "hotline_problem",
        "name": "专线反映问题",
        "points": 2,
        "yearly_cap": 8,
        "builtin": True,
    }
    rules = ok(api.get("/api/v1/point-rules", "liaison"))
    assert [r["type"] for r in rules][:4] == [
        "hotline_problem",
        "message_handled",
        "reception",
        "duty_report",
    ]
    assert row_of(points(api, 2025), "张三")["by_type"]["hotline_problem"] == 8
    # Part I's deputies report gives the same figure, and says how it is counted.
    deputies = ok(api.get("/api/v1/reports/deputies?year=2025", "liaison"))
    assert row_of(deputies, "张三")["points"] == 8
    assert "每反映一个问题计2分，每年最多8分" in api.get(
        "/api/v1/reports/deputies?year=2025&format=csv", "liaison"
    ).content.decode("utf-8-sig")
    ok(api.put("/api/v1/point-rules/duty_report", json={"name": "述职", "points": 5}))
    assert row_of(points(api, 2025), "张三")["by_type"]["duty_report"] == 10  # no cap now
    for builtin in ("hotline_problem", "reception", "message_handled", "duty_report"):
        assert problem_fields(activity(api, zhang, builtin, "2025-01-01"), 422) == ["type"]


def test_bad_rules_and_items_are_refused_naming_the_field_and_change_nothing(api):
    zhang = year_of_activity(api)
    before = detail(api, zhang, 2025)
    rule = {"name": "视察", "points": 2}
    assert problem_fields(api.put("/api/v1/point-rules/inspection", json={**rule, "points": -1}), 422) == [
        "points"
    ]
    assert problem_fields(
        api.put("/api/v1/point-rules/inspection", json={**rule, "yearly_cap": -1}), 422
    ) == ["yearly_cap"]
    assert problem_fields(api.put("/api/v1/point-rules/Bad Type", json=rule), 422) == ["type"]
    assert problem_fields(api.put("/api/v1/point-rules/inspection", json={"points": 2}), 422) == ["name"]
    assert problem_fields(api.put("/api/v1/point-rules/inspection", "hotline", json=rule), 403) == []
    assert problem_fields(activity(api, zhang, "inspection", "2025-01-01"), 422) == ["type"]
    assert problem_fields(activity(api, zhang, "session", "2025-03-02"), 422) == ["on"]  # ahead
    assert problem_fields(activity(api, zhang, "session", "2025-02-30"), 422) == ["on"]
    assert problem_fields(activity(api, "nope", "session", "2025-01-01"), 404) == []
    assert (
        problem_fields(
            api.post(
                f"/api/v1/deputies/{zhang}/activities", "admin", json={"type": "session", "on": "2025-01-01"}
            ),
            403,
        )
        == []
    )
    assert problem_fields(api.get("/api/v1/reports/points?year=2026", "liaison"), 422) == ["year"]
    assert problem_fields(api.get(f"/api/v1/reports/points/{zhang}?year=20x5", "liaison"), 422) == ["year"]
    assert problem_fields(api.get("/api/v1/reports/points/nope?year=2025", "liaison"), 404) == []
    assert detail(api, zhang, 2025) == before
    assert "inspection" not in [r["type"] for r in ok(api.get("/api/v1/point-rules"))]


def test_a_deputy_reads_his_own_points_and_no_one_elses(api):
    zhang = year_of_activity(api)
    li = ok(
        api.post(
            "/api/v1/deputies", "liaison", json={"name": "李四", "phone": "13900000002", "level": "city"}
        ),
        201,
    )
    key = ok(
        api.post("/api/v1/keys", json={"role": "deputy", "deputy_id": zhang, "label": "张三的小程序"}), 201
    )["key"]
    h = {"Authorization": f"Bearer {key}"}
    own = api.client.get(f"/api/v1/reports/points/{zhang}?year=2025", headers=h)
    assert own.status_code == 200 and own.json()["total"] == 21
    assert api.client.get(f"/api/v1/reports/points/{li['id']}?year=2025", headers=h).status_code == 404
    assert api.client.get("/api/v1/reports/points?year=2025", headers=h).status_code == 403
    assert (
        api.client.get(f"/api/v1/deputies/{zhang}/duty-reports", headers=h).json()[0]["held_on"]
        == "2024-12-31"
    )
    assert api.client.get(f"/api/v1/deputies/{li['id']}/duty-reports", headers=h).status_code == 404


def test_forty_items_recorded_at_once_all_count(api):
    zhang = year_of_activity(api)
    codes = api.concurrently(
        "liaison", f"/api/v1/deputies/{zhang}/activities", [{"type": "training", "on": "2025-02-02"}] * 40
    )
    assert set(codes) <= {201, 503} and codes.count(201) >= 1, codes
    assert row_of(points(api, 2025), "张三")["items"]["training"] == 1 + codes.count(201)


HOSTILE = '=HYPERLINK("http://evil.example/x","点我")<script>alert(1)</script>'


@pytest.mark.parametrize("which", ["all", "one"])
def test_every_export_of_the_points_reports_keeps_names_and_runs_nothing(api, which):
    zhang = year_of_activity(api)
    ok(activity(api, zhang, "training", "2025-02-03", HOSTILE), 201)
    ok(api.call("PATCH", f"/api/v1/deputies/{zhang}", json={"name": "-张三"}))
    path = (
        "/api/v1/reports/points?year=2025" if which == "all" else f"/api/v1/reports/points/{zhang}?year=2025"
    )
    content = download(api, path, "csv").decode("utf-8-sig")
    cells = [c for row in csv.reader(io.StringIO(content)) for c in row]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@"))]
    assert "参加人代会（分）" in cells if which == "all" else "'" + HOSTILE in cells
    assert "138****0001" in content and "13800000001" not in content
    wb = load_workbook(io.BytesIO(download(api, path, "xlsx")))
    cells_x = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert not [c for c in cells_x if c.data_type == "f"]
    risky = [c for c in cells_x if isinstance(c.value, str) and c.value.startswith(("=", "-"))]
    assert risky and all(c.quotePrefix for c in risky)
    html = download(api, path, "html").decode()
    assert "<script>alert" not in html
    assert "代表履职积分（2025年）" in html


def download(api: Any, path: str, fmt: str) -> bytes:
    r = api.get(f"{path}&format={fmt}", "liaison")
    assert r.status_code == 200, r.text[:300]
    return r.content  # type: ignore[no-any-return]


def test_messages_replied_to_or_forwarded_within_their_clock_earn_points(api):
    from tests.part2 import message

    zhang = year_of_activity(api)  # now 2025-03-01 09:00

    def received(day: str) -> str:
        return message(api, zhang, received_at=f"{day}T09:00:00+08:00")["id"]

    on_time, late, declined, forwarded = (received("2025-02-24") for _ in range(4))
    last_year = message(api, zhang, received_at="2024-12-30T09:00:00+08:00")["id"]
    ok(
        api.post(
            f"/api/v1/messages/{on_time}/reply",
            "liaison",
            json={"content": "已联系物业修好", "at": "2025-02-25T10:00:00+08:00"},
        )
    )
    ok(
        api.post(
            f"/api/v1/messages/{late}/reply",
            "liaison",
            json={"content": "已处理", "at": "2025-02-28T10:00:00+08:00"},
        )
    )
    ok(
        api.post(
            f"/api/v1/messages/{declined}/decline",
            "liaison",
            json={"reason": "属于诉讼事项", "at": "2025-02-25T10:00:00+08:00"},
        )
    )
    ok(
        api.post(
            f"/api/v1/messages/{forwarded}/forward",
            "liaison",
            json={"level": "city", "category": "water", "at": "2025-02-26T10:00:00+08:00"},
        ),
        201,
    )
    ok(
        api.post(
            f"/api/v1/messages/{last_year}/reply",
            "liaison",
            json={"content": "已答复", "at": "2024-12-31T10:00:00+08:00"},
        )
    )
    z = row_of(points(api, 2025), "张三")
    assert (z["items"]["message_handled"], z["by_type"]["message_handled"]) == (2, 2)
    lines = {t["type"]: t["lines"] for t in detail(api, zhang, 2025)["types"]}
    assert [(x["ref"], x["on"], x["detail"]) for x in lines["message_handled"]] == [
        (on_time, "2025-02-25", "答复选民"),
        (forwarded, "2025-02-26", "分级交办"),
    ]
    assert row_of(points(api, 2024), "张三")["items"]["message_handled"] == 1


def test_forty_writers_of_one_new_type_leave_one_type(api):
    api.city()
    codes = api.concurrently_put(
        "/api/v1/point-rules/inspection",
        [{"name": f"视察{i}", "points": 2, "yearly_cap": 10} for i in range(40)],
    )
    assert set(codes) <= {200, 201, 503} and codes.count(201) <= 1, codes
    rules = [r for r in ok(api.get("/api/v1/point-rules", "liaison")) if r["type"] == "inspection"]
    assert len(rules) == 1 and rules[0]["name"].startswith("视察")
