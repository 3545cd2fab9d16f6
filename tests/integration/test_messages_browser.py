"""The issue's "done when", in a real browser (Chromium, see test_pages_browser): a voter
opens a deputy's page (the QR code is not scanned: its address is typed), leaves a
message, follows the tracking link, sees the deputy's reply (or, forwarded, the handling
unit's result) and rates it; the deputy answers and forwards from the inbox. Shot at a
phone's and a desktop's width (tests/out/screens/)."""

from __future__ import annotations

import re
from typing import Any

from tests.integration import test_pages_browser as shared
from tests.integration.test_pages_browser import PHONE, Site

pytestmark = shared.pytestmark
site, browser, people = shared.site, shared.browser, shared.people


def _deputy_page(site: Site) -> tuple[str, str]:
    zhang = str(site.call("GET", "/api/v1/deputies?phone=13800000001")["items"][0]["id"])
    site.call(
        "PUT",
        "/api/v1/stations/heshan-01",
        "liaison",
        json={"name": "会龙山街道代表联络站", "district": "heshan", "kind": "physical", "deputies": [zhang]},
    )
    code = site.call("POST", f"/api/v1/deputies/{zhang}/code/rotate", "liaison")
    return zhang, str(code["url"]).split("/d/", 1)[1]


def _leave_message(voter: Any, code: str, content: str) -> tuple[Any, str]:
    page = voter.open(f"/d/{code}")
    assert shared.shown(page.get_by_role("heading", name="张三"))
    assert "会龙山街道代表联络站" in page.locator("main").inner_text()
    page.get_by_label("留言内容").fill(content)
    page.get_by_label("您的姓名").fill("王五")
    page.get_by_label("手机号码").fill("13700000007")
    page.get_by_label("所在区县").select_option("heshan")
    page.get_by_role("button", name="提交留言").click()
    # Consent is required: the page says so, beside the box and in the summary.
    assert "须勾选后才能提交" in page.get_by_role("alert").inner_text()
    voter.shoot("public-form-errors")
    page.get_by_label("我已阅读上述告知").check()
    page.get_by_role("button", name="提交留言").click()
    assert "留言已提交" in page.locator("main").inner_text()
    tracking = page.locator(".tracking-code").inner_text().strip()
    assert re.fullmatch(r"[2-9A-Z]{12}", tracking)
    text = page.locator("main").inner_text()
    assert "137****0007" in text and "13700000007" not in text
    return page, tracking


def test_a_voter_leaves_a_message_the_deputy_answers_and_the_voter_rates_it(site, people):
    _, code = _deputy_page(site)
    voter = people(PHONE)
    page = voter.open(f"/d/{code}")
    voter.shoot("public-deputy-page")
    page, tracking = _leave_message(voter, code, "会龙山路的路灯坏了一个月，晚上很黑。")
    voter.shoot("public-message-sent")
    # The tracking link works on its own (bookmarked, or typed from a note).
    page.get_by_role("link", name=f"/t/{tracking}").click()
    assert "待代表处理" in page.locator("main").inner_text()

    site.person(
        "zhang.san",
        "deputy",
        "张三",
        deputy_id=site.call("GET", "/api/v1/deputies?phone=13800000001")["items"][0]["id"],
    )
    deputy = people()
    inbox = deputy.sign_in("zhang.san")
    assert inbox.url.endswith("/ui/messages")
    assert shared.shown(inbox.get_by_role("heading", name="待处理（1）"))
    deputy.shoot("deputy-inbox")
    inbox.get_by_role("link", name=re.compile("会龙山路的路灯")).click()
    deputy.shoot("deputy-message")
    inbox.get_by_role("link", name="答复").click()
    inbox.get_by_label("答复内容").fill("已联系街道办，路灯本周内修复。")
    inbox.get_by_role("button", name="发送答复").click()
    assert "已答复" in inbox.get_by_role("status").inner_text()

    page = voter.open(f"/t/{tracking}")
    text = page.locator("main").inner_text()
    assert "代表已答复" in text and "路灯本周内修复" in text
    voter.shoot("public-tracking-answered")
    page.get_by_label("满意", exact=True).check()
    page.get_by_label("意见和建议").fill("谢谢代表！")
    page.get_by_role("button", name="提交评价").click()
    assert "您的评价：满意" in page.locator("main").inner_text()
    voter.shoot("public-tracking-rated")


def test_a_forwarded_message_shows_the_units_result_and_is_rated(site, people):
    zhang, code = _deputy_page(site)
    voter = people(PHONE)
    _, tracking = _leave_message(voter, code, "小区自来水发黄，已经一周了。")
    site.person("zhang.forward", "deputy", "张三", deputy_id=zhang)
    deputy = people()
    page = deputy.sign_in("zhang.forward")
    page.get_by_role("link", name=re.compile("小区自来水发黄")).click()
    page.get_by_role("link", name="分级交办").click()
    page.get_by_label("市级").check()
    page.get_by_label("事项分类").select_option("water")
    page.get_by_label("代表意见").fill("请尽快检测水质。")
    deputy.shoot("deputy-forward-form")
    page.get_by_role("button", name="交办").click()
    assert "已交办" in page.get_by_role("status").inner_text()
    page.get_by_role("link", name="我的工单").click()
    deputy.shoot("deputy-my-tickets")
    message = [
        m
        for m in site.call("GET", "/api/v1/messages?status=forwarded", "liaison")["items"]
        if "自来水发黄" in m["content"]
    ][0]
    tid = message["ticket_id"]
    for step, body in (
        ("resolve", {"outcome": "solved", "reply": "已更换老旧管道，水质检测合格。"}),
        ("feedback", {"method": "phone", "content": "已告知张三代表"}),
    ):
        site.call("POST", f"/api/v1/tickets/{tid}/{step}", "water-bureau", json=body)

    page = voter.open(f"/t/{tracking}")
    text = page.locator("main").inner_text()
    assert "已有办理结果" in text and "益阳市水务局" in text and "水质检测合格" in text
    voter.shoot("public-tracking-result")
    page.get_by_label("基本满意").check()
    page.get_by_role("button", name="提交评价").click()
    assert "您的评价：基本满意" in page.locator("main").inner_text()
    got = site.call("GET", f"/api/v1/messages/{message['id']}", "liaison")
    assert (got["status"], got["rating"]) == ("closed", "basically_satisfied")
    card = deputy.open("/ui/qr-card")
    assert shared.shown(card.get_by_role("img", name=re.compile("张三代表的留言二维码")))
    deputy.shoot("deputy-qr-card")
