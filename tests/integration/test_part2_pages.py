"""The deputy's and the station staff's pages, over HTTP: the inbox with its response
clocks, a message with its three actions, my tickets, the QR card; receptions and the
messages taken there."""

from __future__ import annotations

import re

from tests.builders import csrf_of, person
from tests.part2 import deputy, message, zhang


def setup(api):
    api.city()
    z = zhang(api)
    api.station("heshan-01", [z])
    return z


def test_a_deputy_answers_forwards_and_declines_from_the_inbox(api):
    z = setup(api)
    first = message(api, z, content="小区路灯坏了一个月")
    second = message(api, z, content="自来水发黄")
    third = message(api, z, content="要求法院重审我的案子")
    me = person(api, "dep.zhang", "deputy", deputy_id=z)
    landing = me.client.get("/ui/", follow_redirects=False)
    assert landing.headers["location"] == "/ui/messages"
    inbox = me.get("/ui/messages")
    assert inbox.status_code == 200
    assert "待处理（3）" in inbox.text and "2025-10-11 00:00" in inbox.text  # the due time
    page = me.get(f"/ui/messages/{first['id']}")
    assert all(a in page.text for a in ("答复", "分级交办", "不予受理"))
    assert first["tracking_code"] in page.text and "13700000007" in page.text
    r = me.form(f"/ui/messages/{first['id']}/reply", {"content": "已请街道更换路灯。"})
    assert r.status_code == 303, r.text
    assert "已答复" in me.get(r.headers["location"]).text
    r = me.form(f"/ui/messages/{first['id']}/reply", {"content": "again"})
    assert r.status_code == 409
    # A refused form says why beside the field and changes nothing.
    r = me.form(f"/ui/messages/{second['id']}/forward", {"level": "city"})
    assert r.status_code == 422 and "请选择事项分类" in r.text
    r = me.form(
        f"/ui/messages/{second['id']}/forward", {"level": "city", "category": "water", "note": "请检测水质"}
    )
    assert r.status_code == 303, r.text
    got = api.get(f"/api/v1/messages/{second['id']}", "liaison").json()
    assert got["status"] == "forwarded" and got["ticket_id"]
    assert got["history"][-1]["actor"] == "user:dep.zhang"
    r = me.form(f"/ui/messages/{third['id']}/decline", {"reason": "属于诉讼事项，请向法院申请再审。"})
    assert r.status_code == 303
    # My tickets: the forwarded one, and its page (a deputy reads his or her own calls).
    mine = me.get("/ui/my-tickets")
    ticket = api.get(f"/api/v1/tickets/{got['ticket_id']}").json()
    assert ticket["hotline_no"] in mine.text and "益阳市水务局" in mine.text
    assert me.get(f"/ui/tickets/{ticket['id']}").status_code == 200
    # Another deputy sees none of it.
    other = person(api, "dep.li", "deputy", deputy_id=deputy(api))
    assert other.get(f"/ui/messages/{second['id']}").status_code == 404
    assert other.get(f"/ui/tickets/{ticket['id']}").status_code == 404
    assert "待处理（0）" in other.get("/ui/messages").text


def test_the_deputys_printable_qr_card(api):
    z = setup(api)
    me = person(api, "dep.zhang", "deputy", deputy_id=z)
    card = me.get("/ui/qr-card")
    assert card.status_code == 200
    assert "张三" in card.text and "市人大代表" in card.text and "会龙山街道" in card.text
    assert 'src="data:image/svg+xml;base64,' in card.text
    url = re.search(r"http://testserver/d/[A-Za-z0-9_-]{12,}", card.text)
    assert url, card.text
    assert me.get(url.group(0).replace("http://testserver", "")).status_code == 200
    png = me.get("/ui/qr-card/qr.png")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    assert me.get("/ui/qr-card/qr.gif").status_code == 404
    # The same code the next time (printing twice prints one code).
    assert url.group(0) in me.get("/ui/qr-card").text


def test_station_staff_record_a_reception_and_the_messages_taken_there(api):
    z = setup(api)
    li = deputy(api)
    api.station("heshan-01", [z, li])
    staff = person(api, "station.one", "station", station_code="heshan-01")
    assert staff.client.get("/ui/", follow_redirects=False).headers["location"] == "/ui/station"
    home = staff.get("/ui/station")
    assert "还没有接待记录" in home.text
    shown = staff.get("/ui/station/receptions/new")
    r = staff.post(
        "/ui/station/receptions/new",
        {
            "csrf_token": csrf_of(shown.text),
            "date": "2025-09-30",
            "deputies": [z, li],
            "voters_received": "12",
            "batches": "3",
            "note": "集中接待",
        },
    )
    assert r.status_code == 303, r.text
    [reception] = api.get("/api/v1/stations/heshan-01/receptions").json()["items"]
    assert (reception["voters_received"], sorted(reception["deputies"])) == (12, sorted([z, li]))
    r = staff.post(
        "/ui/station/receptions/new",
        {"csrf_token": csrf_of(shown.text), "date": "2025-09-30", "voters_received": "-1", "batches": "x"},
    )
    assert r.status_code == 422 and "不能小于0" in r.text and "须为整数" in r.text
    path = f"/ui/station/messages/new?reception={reception['id']}"
    r = staff.form(
        path,
        {
            "deputy_id": z,
            "channel": "station",
            "content": "菜市场占道经营",
            "voter_name": "赵六",
            "voter_phone": "13600000006",
        },
    )
    assert r.status_code == 303, r.text
    page = staff.get(r.headers["location"])
    assert "查询码" in page.text and "136****0006" in page.text and "13600000006" not in page.text
    [m] = api.get("/api/v1/messages", "liaison").json()["items"]
    assert (m["reception_id"], m["station"], m["channel"]) == (reception["id"], "heshan-01", "station")
    assert "1</td>" in staff.get("/ui/station").text.replace(" ", "")
    r = staff.form(path, {"deputy_id": z, "channel": "station", "content": "x", "voter_phone": "phone"})
    assert r.status_code == 422 and "须为 5 至 20 位数字" in r.text
    inbox = staff.get("/ui/messages")
    assert "菜市场占道经营" in inbox.text
    assert staff.get(f"/ui/messages/{m['id']}/reply").status_code == 403  # staff do not answer
