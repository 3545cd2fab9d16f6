"""Invitation pages over HTTP: each party's forms, refused forms, the printable letter and
form, and who may open what."""

from __future__ import annotations

import re

from tests.builders import csrf_of, person
from tests.integration.test_invitations import ACK, REPORT, STATION, UNIT, act, city, submit


def people(api):
    return (
        person(api, "station.clerk", "station", station_code="dongcheng"),
        person(api, "liaison.staff", "liaison"),
        person(api, "water.clerk", "unit", unit_code=UNIT),
    )


def new_id(location: str) -> str:
    m = re.fullmatch(r"/ui/invitations/([0-9a-f-]+)\?done=\w+", location)
    assert m, location
    return m[1]


def test_each_party_works_an_invitation_on_its_pages(api):
    city(api)
    station, liaison, unit = people(api)
    form = station.get("/ui/invitations/new")
    assert form.status_code == 200 and "上报约请" in form.text
    assert "张三" in form.text  # the station's deputies to tick
    r = station.post(
        "/ui/invitations/new",
        {
            "csrf_token": csrf_of(form.text),
            "unit": UNIT,
            "subject": "老旧小区二次供水",
            "content": "三个小区水压不足",
            "deputies": [api.deputy_id],
        },
    )
    assert r.status_code == 303, r.text
    inv_id = new_id(r.headers["location"])
    page = station.get(r.headers["location"])
    assert "约请已上报" in page.text and "待审定" in page.text
    # The committee reviews: a rejection without a reason is sent back, then approved.
    r = liaison.form(f"/ui/invitations/{inv_id}/review", {"decision": "reject", "note": ""})
    assert r.status_code == 422 and "理由" in r.text
    r = liaison.form(f"/ui/invitations/{inv_id}/review", {})
    assert r.status_code == 422 and "请选择审定意见" in r.text
    r = liaison.form(f"/ui/invitations/{inv_id}/review", {"decision": "approve"})
    assert r.status_code == 303, r.text
    page = unit.get(f"/ui/invitations/{inv_id}")
    assert "人大约〔2025〕1号" in page.text and "签收约请" in page.text
    queue = unit.get("/ui/queue")
    assert f"/ui/invitations/{inv_id}" in queue.text and "签收约请" in queue.text
    r = unit.form(
        f"/ui/invitations/{inv_id}/acknowledge",
        {"meeting_at": "2025-10-10T09:30", "responsible_person": "李四", "contact_phone": "0737-4200000"},
    )
    assert r.status_code == 303, r.text
    r = unit.form(f"/ui/invitations/{inv_id}/extension", {"working_days": "40", "reason": "x"})
    assert r.status_code == 422 and "不能大于30" in r.text
    r = unit.form(f"/ui/invitations/{inv_id}/extension", {"working_days": "5", "reason": "需市财政立项"})
    assert r.status_code == 303, r.text
    (ext,) = api.get(f"/api/v1/invitations/{inv_id}", "liaison").json()["extensions"]
    r = station.form(f"/ui/invitation-extensions/{ext['id']}/view", {"content": "同意延期"})
    assert r.status_code == 303, r.text
    page = liaison.get(f"/ui/invitations/{inv_id}")
    assert "联络站意见：同意延期" in page.text
    listed = liaison.get("/ui/invitations").text  # the committee's list leads with it
    assert f"/ui/invitation-extensions/{ext['id']}/decide" in listed and "联络站已提出意见" in listed
    r = liaison.form(f"/ui/invitation-extensions/{ext['id']}/decide", {"decision": "approve"})
    assert r.status_code == 303, r.text
    r = unit.form(
        f"/ui/invitations/{inv_id}/report",
        {"summary": "到站面商", "measures": "更换加压泵", "outcome": "solved", "responsible_person": "李四"},
    )
    assert r.status_code == 303, r.text
    r = station.form(f"/ui/invitations/{inv_id}/evaluate", {"rating": "satisfied", "comment": "解决及时"})
    assert r.status_code == 303, r.text
    inv = api.get(f"/api/v1/invitations/{inv_id}", "liaison").json()
    assert inv["status"] == "closed"
    assert inv["history"][0]["actor"] == "user:station.clerk"
    assert [e["state"] for e in inv["extensions"]] == ["approved"]


def test_a_party_is_offered_only_its_own_forms(api):
    city(api)
    station, liaison, unit = people(api)
    inv = submit(api)
    page = station.get(f"/ui/invitations/{inv['id']}")
    assert "/review" not in page.text
    assert "/review" in liaison.get(f"/ui/invitations/{inv['id']}").text
    # The unit may read the request but has nothing to do yet; its form is refused.
    r = unit.form(f"/ui/invitations/{inv['id']}/acknowledge", {**ACK, "meeting_at": "2025-10-10T09:30"})
    assert r.status_code == 409
    other = person(api, "housing.clerk", "unit", unit_code="housing-bureau")
    assert other.get(f"/ui/invitations/{inv['id']}").status_code == 404
    assert other.get("/ui/invitations").status_code == 200
    assert inv["id"] not in other.get("/ui/invitations").text


def test_the_letter_and_the_form_print_with_number_addressee_issuer_and_date(api):
    city(api)
    station, _, unit = people(api)
    inv = submit(api)
    assert api.get(f"/api/v1/invitations/{inv['id']}/letter", "liaison").status_code == 409
    act(api, inv["id"], "review", "liaison", approve=True)
    letter = station.get(f"/ui/invitations/{inv['id']}/letter")
    assert letter.status_code == 200
    text = letter.text
    for part in (
        "约请函",
        "人大约〔2025〕1号",
        "益阳市水务局：",
        "人大常委会代表与选任工作委员会",
        "2025年9月30日",
        "2025年10月11日前",
        "东城街道代表联络站",
        "张三",
    ):
        assert part in text, part
    assert '<link rel="stylesheet" href="/ui/static/print.css">' in text
    act(api, inv["id"], "acknowledge", UNIT, **ACK)
    act(api, inv["id"], "report", UNIT, **{**REPORT, "summary": "<script>alert(1)</script>"})
    form = api.get(f"/api/v1/invitations/{inv['id']}/form", UNIT)
    assert form.status_code == 200 and form.headers["content-type"].startswith("text/html")
    for part in (
        "约请事项办理情况表",
        "人大约〔2025〕1号",
        "逐步解决",
        "李四",
        "0737-4200000",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
    ):
        assert part in form.text, part
    assert "<script>alert" not in form.text
    assert api.get(f"/api/v1/invitations/{inv['id']}/form", "housing-bureau").status_code == 404
    assert unit.get(f"/ui/invitations/{inv['id']}/form").status_code == 200
    act(api, inv["id"], "evaluation", STATION, rating="unsatisfied")
    first = api.get(f"/api/v1/invitations/{inv['id']}/form", "liaison", params={"round": 1}).text
    assert "不满意" in first and "第1轮办理" in first
