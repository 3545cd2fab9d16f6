"""One invitation in a real browser, from the station's request to the station's evaluation:
the station submits, the committee approves (the letter is numbered), the unit finds it in
its queue, acknowledges and files the form, the station evaluates. The letter and the form
are shot as printed pages (tests/out/screens/)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.integration.test_pages_browser import (  # noqa: F401 (fixtures)
    CHROMIUM,
    SCREENS,
    browser,
    people,
    shown,
    site,
)

pytestmark = [
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="Chromium is not installed"),
]


def _station(s: Any) -> None:
    deputy = s.call("GET", "/api/v1/deputies?phone=13800000001")
    deputy_id = (deputy["items"][0] if isinstance(deputy, dict) else deputy[0])["id"]
    s.call(
        "PUT",
        "/api/v1/stations/dongcheng",
        json={
            "name": "东城街道代表联络站",
            "district": "heshan",
            "kind": "physical",
            "deputies": [deputy_id],
        },
    )
    s.person("station.clerk", "station", "周联络员", station_code="dongcheng")


def test_an_invitation_from_the_stations_request_to_its_evaluation(site, people):  # noqa: F811
    _station(site)
    station = people()
    page = station.sign_in("station.clerk")
    page = station.open("/ui/invitations")
    page.get_by_role("link", name="上报约请").click()
    station.shoot("invitation-new")
    page.get_by_label("被约请单位").select_option("water-bureau")
    page.get_by_label("约请事项").fill("老旧小区二次供水改造")
    page.get_by_label("事项内容").fill("东城街道三个小区水压不足，选民多次反映，请水务局到站面商。")
    page.get_by_label("张三").check()
    page.get_by_role("button", name="上报联工委审定").click()
    assert "约请已上报" in page.get_by_role("status").inner_text()
    url = page.url
    station.shoot("invitation-submitted")

    liaison = people()
    liaison.sign_in("liaison.staff")
    page = liaison.open(url.replace(site.base, ""))
    page.get_by_role("link", name="审定约请").click()
    page.get_by_label("同意约请，编号并发出约请函").check()
    page.get_by_role("button", name="提交审定意见").click()
    assert "审定意见已保存" in page.get_by_role("status").inner_text()
    number = re.search(r"人大约〔\d{4}〕\d+号", page.locator("main").inner_text())
    assert number, "the approved invitation shows its letter number"
    number = number[0]
    page.get_by_role("link", name="查看和打印约请函").click()
    assert shown(page.get_by_role("heading", name="约请函"))
    text = page.locator("article").inner_text()
    assert "〔" in text and "益阳市水务局：" in text and "人大常委会代表与选任工作委员会" in text
    liaison.shoot("invitation-letter")
    page.set_viewport_size({"width": 900, "height": 1300})
    page.screenshot(path=str(SCREENS / "invitation-letter-a4.png"), full_page=True)

    unit = people()
    unit.sign_in("water.clerk")
    page = unit.open("/ui/queue")
    page.get_by_role("link", name="人大约").first.click()
    page.get_by_role("link", name="签收约请").click()
    page.get_by_label("面商时间").fill("2030-10-10T09:30")
    page.get_by_label("责任人").fill("李四")
    page.get_by_label("联系电话").fill("0737-4200000")
    page.get_by_role("button", name="签收").click()
    assert "已签收" in page.get_by_role("status").inner_text()
    page.get_by_role("link", name="填报办理情况表").click()
    page.get_by_label("办理情况").fill("到站面商，现场查看三个小区")
    page.get_by_label("采取措施").fill("更换加压泵，排期改造管网")
    page.get_by_label("已解决").check()
    page.get_by_label("责任人").fill("李四")
    page.get_by_role("button", name="报送办理情况表").click()
    assert "办理情况表已报送" in page.get_by_role("status").inner_text()
    unit.shoot("invitation-reported")

    page = station.open(url.replace(site.base, "").split("?")[0])
    page.get_by_role("link", name="评议办理情况").click()
    page.get_by_label("满意", exact=True).check()
    page.get_by_label("评议意见").fill("解决及时，选民满意")
    page.get_by_role("button", name="提交评议").click()
    assert "评议已保存" in page.get_by_role("status").inner_text()
    assert "已办结" in page.locator("main").inner_text()
    station.shoot("invitation-closed")
    page.get_by_role("link", name="查看和打印办理情况表").click()
    assert shown(page.get_by_role("heading", name="约请事项办理情况表"))
    form_text = page.locator("article").inner_text()
    assert number in form_text and "已解决" in form_text and "满意" in form_text
    station.shoot("invitation-form")
    page.set_viewport_size({"width": 900, "height": 1300})
    page.screenshot(path=str(SCREENS / "invitation-form-a4.png"), full_page=True)
