"""What the pages show and do, over HTTP with a fixed clock: the queue's order, the
dashboard's figures, the search, a refused form, and the operator's forms."""

from __future__ import annotations

import re

from tests.builders import person, sign_in


def rows(html: str) -> list[str]:
    """The hotline numbers in a page's tables, in order."""
    return re.findall(r">(YY-\d{6})</a>", html)


def test_the_queue_lists_nearest_due_first_and_marks_what_is_breached(api):
    api.city()
    api.set_now("2025-10-09 09:00")
    normal = api.ticket()
    api.set_now("2025-10-09 10:00")
    urgent = api.ticket(urgency="urgent")
    clerk = person(api, "water.clerk", "unit", unit_code="water-bureau")
    r = api.post(
        f"/api/v1/tickets/{normal['id']}/contact",
        "water-bureau",
        json={"method": "phone", "deputy_invited": False},
    )
    assert r.status_code == 200
    # normal: resolve due end of 10-20; urgent: contact and resolve due 10-10 10:00.
    page = clerk.get("/ui/queue").text
    assert rows(page) == [urgent["hotline_no"], normal["hotline_no"]]
    assert "已超时" not in page
    api.set_now("2025-10-10 10:00")
    sign_in(clerk.client, "water.clerk")  # a day later: the session has long ended
    page = clerk.get("/ui/queue").text
    assert page.count('class="breached"') == 1 and "1 项已超过期限" in page
    assert re.search(r'class="breached">\s*<td[^>]*>2025-10-10 10:00 <span class="tag red">已超时', page)


def test_the_dashboard_counts_what_needs_attention_as_the_report_does(api):
    api.city()
    api.set_now("2025-09-01 09:00")
    late = api.ticket()
    api.set_now("2025-09-29 09:00")
    rated = api.ticket()
    for path, body in (
        ("contact", {"method": "phone", "deputy_invited": False}),
        ("resolve", {"outcome": "solved", "reply": "已修复"}),
        ("feedback", {"method": "phone", "content": "已告知"}),
    ):
        assert api.post(f"/api/v1/tickets/{rated['id']}/{path}", "water-bureau", json=body).status_code == 200
    assert (
        api.post(
            f"/api/v1/tickets/{rated['id']}/rating", "hotline", json={"rating": "unsatisfied"}
        ).status_code
        == 200
    )
    pending = api.ticket()
    assert (
        api.post(
            f"/api/v1/tickets/{pending['id']}/extensions",
            "water-bureau",
            json={"working_days": 2, "reason": "协调"},
        ).status_code
        == 201
    )
    api.set_now("2025-09-30 10:00")
    liaison = person(api, "li.ming", "liaison")
    page = liaison.get("/ui/dashboard").text
    figures = {label: int(n) for n, label in re.findall(r'<span class="figure">(\d+)</span>([^<]+)<', page)}
    # Breached today: `pending`'s contact clock, due 09-30 09:00.
    assert figures == {
        "应当办结未办结": 1,
        "不满意、重办中": 1,
        "督办中的案件": 2,
        "待审批延期": 1,
        "待审定约请": 0,
        "今日新增超时": 1,
    }
    assert late["hotline_no"] in page  # the overdue list
    report = api.get("/api/v1/reports/monthly?month=2025-09", "liaison").json()
    assert [t["hotline_no"] for t in report["overdue_unresolved"]] == [late["hotline_no"]]
    months = re.findall(r"<td class=\"nowrap\">(\d{4})年(\d+)月</td>\s*<td class=\"num\">(\d+)</td>", page)
    assert len(months) == 12 and months[-1] == ("2025", "9", str(report["totals"]["calls"]))
    assert page.count("<svg") == 3 and "每月满意率" in page


def test_breaches_of_today_are_counted_once_the_clock_passes_them(api):
    api.city()
    api.set_now("2025-09-29 09:00")
    api.ticket(urgency="urgent")  # contact and resolve due 2025-09-30 09:00
    api.set_now("2025-09-30 08:59")
    liaison = person(api, "li.ming", "liaison")
    assert '<span class="figure">0</span>今日新增超时' in liaison.get("/ui/dashboard").text
    api.set_now("2025-09-30 09:00")
    assert '<span class="figure">2</span>今日新增超时' in liaison.get("/ui/dashboard").text


def test_the_search_finds_by_hotline_number_and_filters(api):
    api.city()
    water = api.ticket()
    housing = api.ticket(units=["housing-bureau"], category="housing")
    office = person(api, "hotline.staff", "hotline")
    r = office.get(f"/ui/tickets?no={housing['hotline_no']}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/ui/tickets/{housing['id']}"
    assert rows(office.get("/ui/tickets").text) == [housing["hotline_no"], water["hotline_no"]]
    assert rows(office.get("/ui/tickets?unit=water-bureau").text) == [water["hotline_no"]]
    assert rows(office.get("/ui/tickets?category=housing&status=dispatched").text) == [housing["hotline_no"]]
    missing = office.get("/ui/tickets?no=YY-NOPE")
    assert missing.status_code == 200 and "没有编号为“YY-NOPE”的工单" in missing.text
    assert office.get("/ui/tickets?called_from=not-a-date").status_code == 400


def test_a_refused_action_is_shown_on_the_form_and_changes_nothing(api):
    api.city()
    t = api.ticket()
    clerk = person(api, "water.clerk", "unit", unit_code="water-bureau")
    path = f"/ui/tickets/{t['id']}/extension"
    assert clerk.form(path, {"working_days": "2", "reason": "协调"}).status_code == 303
    again = clerk.form(path, {"working_days": "3", "reason": "再次"}, page=f"/ui/tickets/{t['id']}")
    assert again.status_code == 409
    assert "已有一项延期申请等待审批" in again.text and 'role="alert"' in again.text
    assert "再次" in again.text  # what was typed is kept
    future = clerk.form(f"/ui/tickets/{t['id']}/contact", {"method": "phone", "at": "2025-10-01T09:00"})
    assert future.status_code == 422 and "联系时间不能晚于当前时间" in future.text
    kinds = [e["type"] for e in api.get(f"/api/v1/tickets/{t['id']}/events").json()["items"]]
    assert kinds.count("extension.requested") == 1 and "ticket.contacted" not in kinds


def test_the_liaison_committee_decides_an_extension_on_its_page(api):
    api.city()
    t = api.ticket()
    ext = api.post(
        f"/api/v1/tickets/{t['id']}/extensions", "water-bureau", json={"working_days": 2, "reason": "协调"}
    ).json()
    liaison = person(api, "li.ming", "liaison")
    assert t["hotline_no"] in liaison.get("/ui/extensions").text
    r = liaison.form(f"/ui/extensions/{ext['id']}", {"approve": "no", "note": "请按期办结"})
    assert r.status_code == 303 and r.headers["location"] == f"/ui/tickets/{t['id']}?done=decided"
    decided = api.get(f"/api/v1/extensions/{ext['id']}").json()
    assert (decided["state"], decided["decided_by"], decided["note"]) == (
        "refused",
        "user:li.ming",
        "请按期办结",
    )
    assert "目前没有等待审批的延期申请" in liaison.get("/ui/extensions").text


def test_the_operator_keeps_units_categories_keys_and_the_calendar(api):
    admin = person(api, "site.admin", "admin")
    r = admin.form(
        "/ui/admin/units/new", {"code": "water-bureau", "name": "益阳市水务局", "kind": "department"}
    )
    assert r.status_code == 303
    r = admin.form("/ui/admin/units/new", {"code": "bad code", "name": "x", "kind": "x"})
    assert r.status_code == 422 and "单位编码只能包含" in r.text and "请选择单位类型" in r.text
    r = admin.form(
        "/ui/admin/units/water-bureau",
        {
            "name": "益阳市水务局",
            "kind": "department",
            "webhook_url": "http://10.0.0.5/hook",
            "webhook_secret": "s" * 20,
        },
    )
    assert r.status_code == 303
    r = admin.form(
        "/ui/admin/units/water-bureau",
        {"name": "益阳市水务局（新）", "kind": "department", "webhook_url": "http://10.0.0.5/hook"},
    )
    unit = api.get("/api/v1/units/water-bureau").json()
    assert unit["name"] == "益阳市水务局（新）" and unit["webhook_secret_set"]  # kept
    r = admin.form(
        "/ui/admin/categories/new", {"code": "water", "name": "供水排水", "default_lead_unit": "water-bureau"}
    )
    assert r.status_code == 303
    assert api.get("/api/v1/categories/water").json()["default_lead_unit"] == "water-bureau"
    r = admin.form("/ui/admin/keys/new", {"label": "热线工单系统", "role": "hotline"})
    key = re.search(r'<code class="secret">(dhk_[^<]+)</code>', r.text)
    assert r.status_code == 200 and key
    h = {"Authorization": f"Bearer {key.group(1)}"}
    assert api.client.get("/api/v1/units", headers=h).status_code == 200
    key_id = [k["id"] for k in api.get("/api/v1/keys").json() if k["label"] == "热线工单系统"][0]
    r = admin.form(f"/ui/admin/keys/{key_id}/revoke", {}, page="/ui/admin/keys")
    assert r.status_code == 303
    assert api.client.get("/api/v1/units", headers=h).status_code == 401
    r = admin.form("/ui/admin/calendar?year=2027", {"holidays": "2027-01-01\n2027-02-06", "workdays": ""})
    assert r.status_code == 303 and r.headers["location"].startswith("/ui/admin/calendar?year=2027")
    assert api.get("/api/v1/calendar/2027").json()["holidays"] == ["2027-01-01", "2027-02-06"]
    bad = admin.form("/ui/admin/calendar?year=2027", {"holidays": "2027-13-01"})
    assert bad.status_code == 422 and "日期格式不正确" in bad.text
    r = admin.form("/ui/admin/districts", {"code": "heshan", "name": "赫山区"})
    assert r.status_code == 303
    assert {d["code"]: d["name"] for d in api.get("/api/v1/districts").json()} == {"heshan": "赫山区"}
    assert "请填写名称" in admin.form("/ui/admin/districts", {"code": "x"}).text


def test_the_committee_opens_a_joint_case_once_a_round_and_records_a_meeting(api):
    api.city()
    t = api.ticket()
    liaison = person(api, "li.ming", "liaison")
    assert "开启联合督办" in liaison.get(f"/ui/tickets/{t['id']}").text
    r = liaison.form(f"/ui/cases/new?ticket={t['id']}", {"reason": "办理不力"})
    assert r.status_code == 303
    case_id = r.headers["location"].split("/ui/cases/")[1].split("?")[0]
    assert "开启联合督办" not in liaison.get(f"/ui/tickets/{t['id']}").text
    again = liaison.form(f"/ui/cases/new?ticket={t['id']}", {"reason": "再开一次"})
    assert again.status_code == 409 and "本轮已经有联合督办案件" in again.text
    api.clock.advance(hours=2)
    clerk = person(api, "water.clerk", "unit", unit_code="water-bureau")
    assert clerk.get(f"/ui/cases/{case_id}/meeting").status_code == 403
    liaison = person(api, "li.ming2", "liaison")
    early = liaison.form(
        f"/ui/cases/{case_id}/meeting",
        {"held_at": "2025-09-30T09:00", "units": "water-bureau", "conclusion": "整改"},
    )
    assert early.status_code == 422 and "会商时间不能早于立案时间" in early.text
    r = liaison.form(
        f"/ui/cases/{case_id}/meeting",
        {
            "held_at": "2025-09-30T11:00",
            "units": "water-bureau",
            "others": "市长热线办\n",
            "conclusion": "三日内整改",
        },
    )
    assert r.status_code == 303
    case = api.get(f"/api/v1/supervisions/{case_id}", "liaison").json()
    assert case["meetings"][0]["participants"] == ["water-bureau", "市长热线办"]
    assert case["meetings"][0]["recorded_by"] == "user:li.ming2"
