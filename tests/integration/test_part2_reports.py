"""The station report (with the stations that held no reception) and the deputies report's
message figures, in every format; one month worked through by hand."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from tests.builders import csrf_of
from tests.part2 import message, zhang


def _september(api):
    """heshan-01: a reception on Sep 10 and three messages taken there (one answered in
    time and rated satisfied, one forwarded late and resolved, one never answered and past
    due by the end of the month); ziyang-01 held no reception."""
    api.city()
    z = zhang(api)
    api.station("heshan-01", [z])
    api.station("ziyang-01", [z], district="ziyang", name='=HYPERLINK("http://x")站')
    r = api.post(
        "/api/v1/stations/heshan-01/receptions",
        "liaison",
        json={"date": "2025-09-10", "deputies": [z], "voters_received": 12, "batches": 3},
    )
    assert r.status_code == 201, r.text
    reception = r.json()["id"]
    made = [
        message(api, z, channel="station", reception_id=reception, received_at=at)
        for at in ("2025-09-10T09:00:00+08:00", "2025-09-10T10:00:00+08:00", "2025-09-26T10:00:00+08:00")
    ]
    # Due end of Sep 12 (Wed + 2 working days): answered Sep 11, on time.
    assert made[0]["clock"]["due_at"] == "2025-09-13T00:00:00+08:00"
    assert (
        api.post(
            f"/api/v1/messages/{made[0]['id']}/reply",
            "liaison",
            json={"content": "已处理", "at": "2025-09-11T10:00:00+08:00"},
        ).status_code
        == 200
    )
    r = api.post(
        f"/api/v1/messages/{made[1]['id']}/forward",
        "liaison",
        json={"level": "city", "category": "water", "at": "2025-09-15T10:00:00+08:00"},
    )
    assert r.status_code == 201, r.text
    tid = r.json()["ticket"]["id"]
    assert (
        api.post(
            f"/api/v1/tickets/{tid}/resolve",
            "water-bureau",
            json={"outcome": "solved", "reply": "已修复", "at": "2025-09-20T10:00:00+08:00"},
        ).status_code
        == 200
    )
    # Received Fri Sep 26: Sunday Sep 28 is a make-up working day, so due end of Sep 29.
    assert made[2]["clock"]["due_at"] == "2025-09-30T00:00:00+08:00"
    page = api.client.get(f"/t/{made[0]['tracking_code']}")
    r = api.client.post(
        f"/t/{made[0]['tracking_code']}/rating",
        data={"csrf_token": csrf_of(page.text), "rating": "satisfied"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    api.set_now("2025-10-20 10:00")
    return z


def test_the_station_report_of_a_month_worked_by_hand(api):
    _september(api)
    r = api.get("/api/v1/reports/stations?month=2025-09", "liaison")
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["month"] == "2025-09" and report["cutoff_at"] == "2025-10-01T00:00:00+08:00"
    heshan, ziyang = report["items"]
    assert {
        k: heshan[k]
        for k in (
            "station",
            "receptions",
            "voters_received",
            "batches",
            "messages",
            "answered",
            "forwarded",
            "declined",
            "resolved",
            "rated",
            "voter_satisfaction_rate",
        )
    } == {
        "station": "heshan-01",
        "receptions": 1,
        "voters_received": 12,
        "batches": 3,
        "messages": 3,
        "answered": 1,
        "forwarded": 1,
        "declined": 0,
        "resolved": 1,
        "rated": 1,
        "voter_satisfaction_rate": 1.0,
    }
    assert abs(heshan["response_on_time_rate"] - 1 / 3) < 1e-9
    assert (
        ziyang["receptions"],
        ziyang["messages"],
        ziyang["response_on_time_rate"],
        ziyang["voter_satisfaction_rate"],
    ) == (0, 0, None, None)
    assert report["inactive_stations"] == [
        {"station": "ziyang-01", "name": '=HYPERLINK("http://x")站', "district": "ziyang"}
    ]
    # October so far: no reception anywhere, so both are listed; nothing was received.
    october = api.get("/api/v1/reports/stations?month=2025-10").json()
    assert [s["station"] for s in october["inactive_stations"]] == ["heshan-01", "ziyang-01"]
    assert api.get("/api/v1/reports/stations?month=2025-11").status_code == 422
    assert api.get("/api/v1/reports/stations?month=2025-13").status_code == 422
    assert api.get("/api/v1/reports/stations?month=2025-09", "hotline").status_code == 403


def test_the_station_report_in_every_format_keeps_names_and_runs_no_formula(api):
    _september(api)
    base = "/api/v1/reports/stations?month=2025-09"
    csv = api.get(base + "&format=csv").content.decode("utf-8-sig")
    assert "本月未开展接待的联络站" in csv and "赫山区会龙山街道代表联络站" in csv
    assert "'=HYPERLINK" in csv and ",=HYPERLINK" not in csv
    html = api.get(base + "&format=html").text
    assert "代表联络站工作情况月报（2025年9月）" in html and "33.3%" in html
    xlsx = api.get(base + "&format=xlsx")
    assert xlsx.headers["content-disposition"] == 'attachment; filename="stations-2025-09.xlsx"'
    book = load_workbook(io.BytesIO(xlsx.content))
    cells = [
        c
        for ws in book.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.value == '=HYPERLINK("http://x")站'
    ]
    assert cells and all(c.data_type == "s" for c in cells)


def test_the_deputies_report_gains_each_deputys_message_figures(api):
    z = _september(api)
    report = api.get("/api/v1/reports/deputies?year=2025").json()
    [item] = [i for i in report["items"] if i["deputy_id"] == z]
    assert (
        item["calls"],
        item["messages"],
        item["messages_answered"],
        item["messages_forwarded"],
        item["voter_satisfaction_rate"],
    ) == (1, 3, 1, 1, 1.0)
    for fmt, words in (("csv", "收到选民留言"), ("html", "选民满意率")):
        body = api.get(f"/api/v1/reports/deputies?year=2025&format={fmt}").content
        assert words.encode() in body
    xlsx = api.get("/api/v1/reports/deputies?year=2025&format=xlsx")
    assert xlsx.status_code == 200
