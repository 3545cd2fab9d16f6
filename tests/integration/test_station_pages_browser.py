"""The station registry in a real browser (Chromium, see test_pages_browser): the liaison
committee creates a station with its deputies and changes it, without JavaScript beyond the
browser's own; shot at a desktop and a phone width (tests/out/screens/)."""

from __future__ import annotations

from typing import Any

from tests.integration import test_pages_browser as shared

# The same server, browser and people as the other browser tests (one server per module).
pytestmark = shared.pytestmark
site, browser, people = shared.site, shared.browser, shared.people


def test_the_committee_creates_a_station_and_changes_its_deputies(site, people):
    site.call(
        "POST",
        "/api/v1/deputies",
        json={"name": "欧阳晓明", "phone": "13900000078", "level": "county", "district": "heshan"},
    )
    clerk: Any = people()
    clerk.sign_in("liaison.staff")
    page = clerk.open("/ui/stations")
    page.get_by_role("link", name="新建联络站").click()
    page.get_by_label("联络站编码").fill("heshan-lgq")
    page.get_by_label("联络站名称").fill("赫山区龙光桥街道代表联络站")
    page.get_by_label("所在区县").select_option("heshan")
    page.get_by_label("乡镇（街道）").fill("龙光桥街道")
    page.get_by_label("实体联络站").check()
    page.get_by_label("张三").check()
    page.get_by_label("欧阳晓明").check()
    clerk.shoot("stations-new")
    page.get_by_role("button", name="保存").click()
    assert page.get_by_role("status").inner_text() == "已新建联络站。"
    row = page.get_by_role("row").filter(has_text="heshan-lgq")
    assert "张三" in row.inner_text() and "欧阳晓明" in row.inner_text()
    clerk.shoot("stations-list")
    row.get_by_role("link", name="修改").click()
    page.get_by_label("欧阳晓明").uncheck()
    page.get_by_role("button", name="保存").click()
    assert page.get_by_role("status").inner_text() == "已保存联络站。"
    got = site.call("GET", "/api/v1/stations/heshan-lgq", "liaison")
    assert got["name"] == "赫山区龙光桥街道代表联络站" and len(got["deputies"]) == 1
