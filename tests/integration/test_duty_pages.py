"""The duty-record pages: the committee's coverage page and its forms (述职, 履职活动), and
the deputy's own record (我的履职)."""

from __future__ import annotations

import re
from typing import Any

from tests.builders import csrf_of, ok, person

TERM = {"level": "city", "name": "第九届", "starts_on": "2022-01-01", "ends_on": "2026-12-31"}


def city_with_a_term(api: Any) -> dict[str, str]:
    api.city()
    api.set_now("2025-03-03 10:00")
    zhang = ok(api.get("/api/v1/deputies?phone=13800000001"))["items"][0]["id"]
    li = ok(
        api.post("/api/v1/deputies", json={"name": "李四", "phone": "13900000002", "level": "city"}), 201
    )["id"]
    ok(api.put("/api/v1/terms/city-9", json=TERM), 201)
    ok(api.call("PATCH", f"/api/v1/deputies/{zhang}", json={"term": "city-9"}))
    ok(api.call("PATCH", f"/api/v1/deputies/{li}", json={"term": "city-9", "official": True}))
    ok(api.put("/api/v1/point-rules/session", json={"name": "参加人代会", "points": 3, "yearly_cap": 6}), 201)
    return {"zhang": zhang, "li": li}


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_committee_sees_who_is_due_and_records_a_report_on_the_page(api):
    ids = city_with_a_term(api)
    clerk = person(api, "li.ming", "liaison")
    page = clerk.get("/ui/duty?term=city-9&year=2025")
    assert page.status_code == 200
    shown = text(page.text)
    # 2025 is year 4 of the term: 张三 (neither mark) is due, 李四 (leading post) overdue.
    assert "本年度应述职（1） 姓名 类别 应述职年度 登记 张三 其他代表 第3年、第4年" in shown
    assert "逾期未述职（1） 姓名 类别 应述职年度 登记 李四 职务代表 第2年" in shown
    path = f"/ui/duty/deputies/{ids['zhang']}/report"
    # Without the form's token nothing is stored.
    refused = clerk.post(path, {"held_on": "2025-03-01", "method": "meeting", "audience": "voters"})
    assert refused.status_code == 403
    # A form with a mistake is shown again, in Chinese, and stores nothing.
    bad = clerk.form(path, {"held_on": "2025-03-01", "audience": "voters"})
    assert bad.status_code == 422 and "请选择述职方式" in bad.text
    late = clerk.form(path, {"held_on": "2021-12-31", "method": "meeting", "audience": "voters"})
    assert late.status_code == 422 and "述职日期" in late.text
    assert ok(api.get(f"/api/v1/deputies/{ids['zhang']}/duty-reports", "liaison")) == []
    done = clerk.form(
        path,
        {"held_on": "2025-03-01", "method": "meeting", "audience": "voters", "note": "会龙山街道选民会议<b>"},
    )
    assert done.status_code == 303 and done.headers["location"] == "/ui/duty?term=city-9&done=report"
    shown = clerk.get(done.headers["location"])
    assert "已登记述职。" in shown.text and "会龙山街道选民会议&lt;b&gt;" in shown.text
    assert "已述职（1）" in text(shown.text) and "覆盖率 50.0%" in text(shown.text)
    reports = ok(api.get(f"/api/v1/deputies/{ids['zhang']}/duty-reports", "liaison"))
    assert [(r["held_on"], r["recorded_by"]) for r in reports] == [("2025-03-01", "user:li.ming")]
    xlsx = clerk.get("/ui/duty/report?term=city-9&year=2025&format=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def test_the_committee_records_an_activity_of_its_own_types_only(api):
    ids = city_with_a_term(api)
    clerk = person(api, "li.ming", "liaison")
    path = f"/ui/duty/deputies/{ids['li']}/activity"
    form = clerk.get(path).text
    assert '<option value="session"' in form and 'value="hotline_problem"' not in form
    bad = clerk.form(path, {"type": "hotline_problem", "on": "2025-03-01"})
    assert bad.status_code == 422 and "<title>错误：" in bad.text
    ahead = clerk.form(path, {"type": "session", "on": "2025-03-04"})
    assert ahead.status_code == 422 and "日期" in ahead.text
    done = clerk.form(path, {"type": "session", "on": "2025-03-01", "note": "第九届人大第五次会议"})
    assert done.status_code == 303
    report = ok(api.get(f"/api/v1/reports/points/{ids['li']}?year=2025", "liaison"))
    assert report["by_type"]["session"] == 3  # one item: the refused forms stored nothing
    assert [x["detail"] for t in report["types"] for x in t["lines"]] == ["第九届人大第五次会议"]
    # The points report is among the committee's reports too.
    page = clerk.get("/ui/reports/points?period=2025&format=html")
    assert page.status_code == 200 and "代表履职积分（2025年）" in page.text


def test_a_deputy_sees_his_own_points_and_duty_record_and_nothing_of_the_committees(api):
    ids = city_with_a_term(api)
    for _ in range(6):
        api.ticket()
    ok(
        api.post(
            f"/api/v1/deputies/{ids['zhang']}/duty-reports",
            "liaison",
            json={"held_on": "2025-01-20", "method": "oral", "audience": "electoral_unit"},
        ),
        201,
    )
    ok(
        api.post(
            f"/api/v1/deputies/{ids['zhang']}/activities",
            "liaison",
            json={"type": "session", "on": "2025-01-10", "note": "<script>alert(1)</script>"},
        ),
        201,
    )
    me = person(api, "zhang.san", "deputy", deputy_id=ids["zhang"])
    page = me.get("/ui/my/record")
    assert page.status_code == 200
    shown = text(page.text)
    assert "2025年履职积分：13分" in shown  # 5 (six problems, capped) + 5 + 3
    assert "专线反映问题 6 1 5分 5（已封顶）" in shown
    assert "向选民报告履职 1 5 5分 5" in shown
    assert "常委会会议口头报告" in shown and "原选举单位" in shown
    assert "按安排在本届第3年（2024年）或第4年（2025年）" in shown
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;" in page.text
    assert me.get("/ui/my/record?year=2024").status_code == 200
    assert me.get("/ui/duty").status_code == 403
    assert me.get(f"/ui/duty/deputies/{ids['li']}/report").status_code == 403
    nav = me.get("/ui/account").text
    assert 'href="/ui/my/record"' in nav and csrf_of(nav)
