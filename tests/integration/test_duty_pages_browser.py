"""Duty records in a real browser (Chromium, see test_pages_browser): the committee records
a duty report and an activity from the coverage page; the deputy reads his record. Shot at
a desktop and a phone width (tests/out/screens/)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from tests.integration import test_pages_browser as shared
from tests.integration.test_pages_browser import Site

# The same server, browser and people as the other browser tests (one server per module).
pytestmark = shared.pytestmark
site, browser, people = shared.site, shared.browser, shared.people


def _deputy_id(site: Site) -> str:
    return str(site.call("GET", "/api/v1/deputies?phone=13800000001")["items"][0]["id"])


def test_the_committee_records_duty_and_the_deputy_reads_his_record(site, people):
    zhang = _deputy_id(site)
    site.call(
        "PUT",
        "/api/v1/terms/city-9",
        json={"level": "city", "name": "第九届", "starts_on": "2022-01-01", "ends_on": "2026-12-31"},
    )
    site.call("PATCH", f"/api/v1/deputies/{zhang}", json={"term": "city-9", "reelected": True})
    site.call(
        "PUT",
        "/api/v1/point-rules/training",
        "liaison",
        json={"name": "参加培训", "points": 2, "yearly_cap": 10},
    )
    site.call(
        "POST",
        "/api/v1/deputies",
        json={"name": "欧阳晓明", "phone": "13900000077", "level": "city", "district": "heshan"},
    )
    today = datetime.now().astimezone().date().isoformat()

    clerk: Any = people()
    clerk.sign_in("liaison.staff")
    page = clerk.open("/ui/duty")
    assert shared.shown(page.get_by_role("heading", name="逾期未述职（1）"))
    clerk.shoot("duty-coverage")
    page.get_by_role("link", name=re.compile("登记述职.*张三")).click()
    page.get_by_label("述职日期").fill(today)
    page.get_by_label("选民会议报告").check()
    page.get_by_label("原选区选民").check()
    page.get_by_label("备注").fill("会龙山街道选民会议")
    clerk.shoot("duty-report-form")
    page.get_by_role("button", name="登记").click()
    assert page.get_by_role("status").inner_text() == "已登记述职。"
    assert shared.shown(page.get_by_role("heading", name="已述职（1）"))
    page.get_by_role("link", name=re.compile("登记履职活动.*张三")).click()
    page.get_by_label("履职项目").select_option("training")
    page.get_by_label("日期").fill(today)
    page.get_by_role("button", name="登记").click()
    assert page.get_by_role("status").inner_text() == "已登记履职活动。"
    clerk.shoot("duty-coverage-after")

    site.person("zhang.san", "deputy", "张三", deputy_id=zhang)
    deputy: Any = people()
    deputy.sign_in("zhang.san")
    page = deputy.open("/ui/my/record")
    year = today[:4]
    total = site.call("GET", f"/api/v1/reports/points/{zhang}?year={year}", "liaison")["total"]
    assert total >= 7  # 5 for the report, 2 for the training, and his calls of this year
    assert shared.shown(page.get_by_role("heading", name=f"{year}年履职积分：{total}分"))
    assert shared.shown(page.get_by_role("cell", name="会龙山街道选民会议", exact=True))
    deputy.shoot("deputy-record")
