"""The voters' public pages: `/d/<code>` (the message form) and `/t/<tracking code>`.

They face the whole internet: limits per address and per phone, a hidden trap field, size
limits, a CSRF token, constant-time look-ups, nothing stored from a rejected submission,
the voter's phone never shown in full."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, insert, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.models import CalendarYear
from app.repositories.messages import write_in_one_trip
from tests.builders import Api, csrf_of
from tests.conftest import make_settings, serve
from tests.part2 import zhang

FORM = {
    "content": "小区门口路灯坏了一个月，晚上出行不便。",
    "name": "王五",
    "phone": "13700000007",
    "district": "heshan",
    "consent": "yes",
}


def code_of(api: Api, deputy_id: str) -> str:
    r = api.post(f"/api/v1/deputies/{deputy_id}/code/rotate", "liaison")
    assert r.status_code == 200, r.text
    return str(r.json()["public_code"])


def submit(client: TestClient, code: str, **changes: Any) -> Any:
    page = client.get(f"/d/{code}")
    assert page.status_code == 200, page.text
    data = {**FORM, "csrf_token": csrf_of(page.text), **changes}
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(f"/d/{code}", data=data, follow_redirects=False)


def stored(api: Api) -> list[dict[str, Any]]:
    return list(api.get("/api/v1/messages", "liaison").json()["items"])


@pytest.fixture
def voter(api) -> Iterator[tuple[Api, str, TestClient]]:
    api.city()
    r = api.put("/api/v1/districts/heshan", json={"name": "赫山区"})
    assert r.status_code == 201, r.text  # a new district
    z = zhang(api)
    api.station("heshan-01", [z])
    code = code_of(api, z)
    with TestClient(api.app, raise_server_exceptions=False) as browser:
        yield api, code, browser


def test_the_deputys_page_shows_who_the_deputy_is_and_the_notice(voter):
    api, code, browser = voter
    page = browser.get(f"/d/{code}")
    assert page.status_code == 200
    html = page.text
    for words in (
        "张三",
        "市人大代表",
        "赫山区会龙山街道代表联络站",
        "个人信息处理告知",
        "保存多久",
        "赫山区",
        "提交留言",
    ):
        assert words in html, words
    assert 'name="website"' in html and 'name="consent"' in html
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "13800000001" not in html  # the deputy's own phone is not public either


def test_a_voter_leaves_a_message_and_follows_it_with_the_phone_masked(voter):
    api, code, browser = voter
    r = submit(browser, code, phone="138-0000-0099")
    assert r.status_code == 303, r.text
    location = r.headers["location"]
    assert location.startswith("/t/") and location.endswith("?sent=1")
    tracking = location[3:].split("?")[0]
    assert len(tracking) >= 10
    page = browser.get(location)
    assert page.status_code == 200
    assert tracking in page.text and "留言已提交" in page.text
    assert "138****0099" in page.text and "13800000099" not in page.text
    assert "待代表处理" in page.text
    [m] = stored(api)
    assert (m["channel"], m["tracking_code"], m["voter"]["phone"], m["district"]) == (
        "code",
        tracking,
        "13800000099",
        "heshan",
    )
    # Lower case works too (codes are read aloud and typed on phones).
    assert browser.get(f"/t/{tracking.lower()}").status_code == 200


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"consent": None}, "须勾选后才能提交"),
        ({"content": ""}, "请填写留言内容"),
        ({"content": "长" * 2001}, "留言内容不能超过2000个字"),
        ({"phone": ""}, "请填写手机号码"),
        ({"phone": "call me maybe"}, "须为 5 至 20 位数字"),
        ({"name": "名" * 51}, "您的姓名不能超过50个字"),
        ({"district": "no such place!"}, "所在区县"),
        ({"website": "http://spam.example"}, "应当留空的栏目被填写了"),
    ],
)
def test_a_refused_submission_says_why_on_the_page_and_stores_nothing(voter, changes, says):
    api, code, browser = voter
    r = submit(browser, code, **changes)
    assert r.status_code == 422, r.text
    assert says in r.text
    assert "请修改以下问题" in r.text
    assert stored(api) == []


def test_a_form_without_its_token_or_too_large_changes_nothing(voter):
    api, code, browser = voter
    r = browser.post(f"/d/{code}", data=FORM, follow_redirects=False)
    assert r.status_code == 403 and "未做任何更改" in r.text
    page = browser.get(f"/d/{code}")
    big = {**FORM, "csrf_token": csrf_of(page.text), "content": "长" * 6000}
    r = browser.post(f"/d/{code}", data=big, follow_redirects=False)
    assert r.status_code == 413
    r = browser.post(
        f"/d/{code}",
        content=b"\xff\xfe",
        follow_redirects=False,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 403  # no token can be read from it
    assert stored(api) == []


def test_an_unknown_rotated_or_disabled_code_is_the_same_not_found_page(voter):
    api, code, browser = voter
    unknown = browser.get("/d/no-such-code-at-all")
    assert unknown.status_code == 404 and "停止使用" in unknown.text
    token = csrf_of(browser.get(f"/d/{code}").text)
    z = zhang(api)
    new_code = code_of(api, z)  # rotated: the old one accepts nothing
    old = browser.get(f"/d/{code}")
    assert old.status_code == 404 and old.text == unknown.text.replace("no-such-code-at-all", code)
    r = browser.post(f"/d/{code}", data={**FORM, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 404
    assert browser.get(f"/d/{new_code}").status_code == 200
    assert api.post(f"/api/v1/deputies/{z}/code/disable", "liaison").status_code == 204
    assert browser.get(f"/d/{new_code}").status_code == 404
    assert stored(api) == []


def _counting(api: Api, request: pytest.FixtureRequest) -> list[str]:
    """Every statement the app's engines run from now to the end of the test (the engines
    outlive the test: tests/conftest.py shares them between apps, so the listener goes)."""
    statements: list[str] = []
    db = api.app.state.hotline.db
    # On PostgreSQL the reader is the writer with other options: its events are the writer's.
    engines = [db.writer] if db.reader.pool is db.writer.pool else [db.writer, db.reader]

    def count(conn: Any, cursor: Any, sql: str, *rest: Any) -> None:
        statements.append(sql)

    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
        request.addfinalizer(lambda engine=engine: event.remove(engine, "before_cursor_execute", count))
    return statements


def test_an_address_over_its_limit_gets_429_after_one_counting_query(voter, request):
    api, code, browser = voter
    for i in range(5):
        assert submit(browser, code, content=f"第{i}条留言").status_code == 303
    page = browser.get(f"/d/{code}")
    statements = _counting(api, request)
    r = browser.post(f"/d/{code}", data={**FORM, "csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 429, r.text
    assert 1 <= int(r.headers["retry-after"]) <= 600
    # The limit check, and nothing else: no transaction, no look-up of the code, no write.
    db_work = [s for s in statements if not s.lstrip().upper().startswith(("BEGIN", "ROLLBACK"))]
    assert len(db_work) == 1 and "count" in db_work[0].lower() and "messages" in db_work[0], db_work
    assert len(stored(api)) == 5
    # Refused submissions do not count: ten minutes after the first, one more is let in.
    api.set_now("2025-09-30 10:10")
    assert submit(browser, code).status_code == 303


@pytest.fixture
def roomy(db_url, clock) -> Iterator[tuple[Api, str, TestClient]]:
    """An app whose address limit is out of the way, to reach the per-phone limit."""
    with serve(make_settings(db_url, HOTLINE_MESSAGE_LIMIT_PER_ADDRESS=1000), clock) as api:
        api.city()
        yield api, code_of(api, zhang(api)), api.client


def test_the_notice_names_the_retention_period_of_the_setting(db_url, clock):
    with serve(make_settings(db_url, HOTLINE_VOTER_DATA_DAYS=180), clock) as api:
        api.city()
        html = api.client.get(f"/d/{code_of(api, zhang(api))}").text
    assert "留言办结后 180 天" in html and "365" not in html


def test_a_phone_gets_ten_messages_a_day(roomy):
    api, code, browser = roomy
    for i in range(10):
        api.set_now(f"2025-09-30 10:{i:02d}")
        assert submit(browser, code, content=f"第{i}条").status_code == 303
    r = submit(browser, code, content="第11条")
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 23 * 3600
    assert submit(browser, code, phone="13700000008").status_code == 303
    api.set_now("2025-10-01 10:00")
    assert submit(browser, code, content="次日").status_code == 303


def test_the_voter_sees_the_reply_and_rates_it_once(voter):
    api, code, browser = voter
    tracking = submit(browser, code).headers["location"][3:].split("?")[0]
    page = browser.get(f"/t/{tracking}")
    assert "请您评价" not in page.text  # nothing to rate yet
    [m] = stored(api)
    api.post(
        f"/api/v1/messages/{m['id']}/reply",
        "liaison",
        json={"content": "已请街道办更换路灯，预计本周内完成。"},
    )
    page = browser.get(f"/t/{tracking}")
    assert "已请街道办更换路灯" in page.text and "请您评价" in page.text
    token = csrf_of(page.text)
    r = browser.post(
        f"/t/{tracking}/rating", data={"csrf_token": token, "rating": "tasty"}, follow_redirects=False
    )
    assert r.status_code == 422 and "请选择" in r.text
    r = browser.post(
        f"/t/{tracking}/rating",
        data={"csrf_token": token, "rating": "satisfied", "comment": "谢谢"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    got = api.get(f"/api/v1/messages/{m['id']}", "liaison").json()
    assert (got["status"], got["rating"], got["rating_comment"]) == ("closed", "satisfied", "谢谢")
    assert "您的评价" in browser.get(f"/t/{tracking}").text
    r = browser.post(
        f"/t/{tracking}/rating", data={"csrf_token": token, "rating": "unsatisfied"}, follow_redirects=False
    )
    assert r.status_code == 409
    assert api.get(f"/api/v1/messages/{m['id']}", "liaison").json()["rating"] == "satisfied"


def test_an_unknown_tracking_code_is_not_found_and_shows_no_one_elses_data(voter):
    api, code, browser = voter
    submit(browser, code)
    for wrong in ("AAAAAAAAAAAA", "x", "'; DROP TABLE messages; --", "A" * 300):
        r = browser.get(f"/t/{wrong}")
        assert r.status_code == 404 and "找不到这条留言" in r.text
        assert "王五" not in r.text and "13700000007" not in r.text


def test_tracking_codes_are_looked_up_in_the_same_time_known_or_not(voter):
    """Interleaved timings of the look-up itself (digest, then one probe of the unique
    index): the medians of known and unknown codes agree within noise."""
    from app.pages.voters import VOTER
    from app.services.messages import find_by_tracking_code, new_tracking_code

    api, code, browser = voter
    known = [
        submit(browser, code, content=f"第{i}条", phone=f"1370000001{i}")
        .headers["location"][3:]
        .split("?")[0]
        for i in range(5)
    ]
    unknown = [new_tracking_code() for _ in range(5)]
    state = api.app.state.hotline
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    with state.db.read_session() as session:
        ctx = state.ctx(session, VOTER)
        for _ in range(3):  # warm up
            find_by_tracking_code(ctx, known[0])
            find_by_tracking_code(ctx, unknown[0])
        for i in range(300):
            for kind, pool in (("known", known), ("unknown", unknown)):
                started = time.perf_counter()
                found = find_by_tracking_code(ctx, pool[i % 5])
                times[kind].append(time.perf_counter() - started)
                assert (found is not None) == (kind == "known")
            session.expunge_all()
    known_ms = statistics.median(times["known"]) * 1000
    unknown_ms = statistics.median(times["unknown"]) * 1000
    # Within noise: a quarter of the median, or 0.2 ms on a busy machine.
    assert abs(known_ms - unknown_ms) <= max(0.25 * max(known_ms, unknown_ms), 0.2), (known_ms, unknown_ms)


def test_forty_submissions_at_once_from_one_address_store_five(voter):
    import asyncio

    import httpx

    api, code, _ = voter

    async def burst() -> list[int]:
        transport = httpx.ASGITransport(app=api.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            page = await client.get(f"/d/{code}")
            token = csrf_of(page.text)
            rs = await asyncio.gather(
                *(
                    client.post(
                        f"/d/{code}",
                        data={**FORM, "csrf_token": token, "content": f"第{i}条", "phone": f"1370000{i:04d}"},
                    )
                    for i in range(40)
                )
            )
            return [r.status_code for r in rs]

    codes = asyncio.run(burst())
    assert set(codes) <= {303, 429, 503}, codes
    assert codes.count(303) == 5
    assert len(stored(api)) == 5


def test_a_code_retired_by_another_replica_accepts_nothing_while_its_page_is_remembered(voter):
    """This process remembers the deputy's page for a few seconds (codes.PageCache), and the
    form's write uses what it remembers; the write itself checks that the code is active."""
    api, code, browser = voter
    page = browser.get(f"/d/{code}")
    # Another replica retires the code: this process's cache is not told.
    with api.app.state.hotline.db.writer.begin() as conn:
        conn.execute(
            text("UPDATE deputy_codes SET state = 'retired', active_for = NULL WHERE code = :code"),
            {"code": code},
        )
    r = browser.post(f"/d/{code}", data={**FORM, "csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 404 and "停止使用" in r.text
    assert stored(api) == []


def test_a_calendar_changed_by_another_replica_reckons_the_response_clock(voter):
    """The form's write reckons the due date on the calendar this process built, and is
    refused by the database when the operator's years have changed since: the message is
    then stored on the calendar in force."""
    api, code, browser = voter
    assert submit(browser, code, content="改历之前").status_code == 303
    [before] = stored(api)
    # The clock runs out at the end of a working day (the next day's 00:00 on the clock).
    due = (datetime.fromisoformat(before["clock"]["due_at"]) - timedelta(seconds=1)).date()
    state = api.app.state.hotline
    builtin = state.calendars.builtin[due.year]
    # Another replica makes that day a holiday: this process's calendar is not told.
    with state.db.writer.begin() as conn:
        conn.execute(
            insert(CalendarYear).values(
                year=due.year,
                holidays=sorted(d.isoformat() for d in builtin.holidays | {due}),
                workdays=sorted(d.isoformat() for d in builtin.workdays - {due}),
                updated_at=api.clock.now(),
            )
        )
    assert submit(browser, code, content="改历之后").status_code == 303
    after = next(m for m in stored(api) if m["content"] == "改历之后")
    assert datetime.fromisoformat(after["clock"]["due_at"]).date() > due + timedelta(days=1)


def test_a_write_in_one_trip_that_fails_keeps_nothing(voter):
    """The one-trip write (PostgreSQL's pipeline on a reader's connection, SQLite's BEGIN
    IMMEDIATE on the writer's): a statement that fails undoes the ones before it, the error
    is SQLAlchemy's as for any query, and the connection goes on."""
    api, code, browser = voter
    db = api.app.state.hotline.db
    assert submit(browser, code).status_code == 303
    [m] = stored(api)
    logged = text("SELECT count(*) FROM message_events WHERE message_id = :mid")
    event_row = text(
        "INSERT INTO message_events (message_id, at, recorded_at, actor, type, data) "
        "VALUES (:mid, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'test', 'test.event', '{}')"
    )
    broken = text("INSERT INTO messages (id) VALUES (:mid)")  # its id is taken, its columns missing
    with (db.reader if db.is_postgres else db.writer).connect() as conn:
        before = conn.execute(logged, {"mid": m["id"]}).scalar_one()
        conn.rollback()  # SQLite's write needs its connection out of a transaction
        with pytest.raises(DBAPIError) as refused:
            write_in_one_trip(conn, ("127.0.0.1", "13700000007"), event_row, broken, {"mid": m["id"]})
        assert isinstance(refused.value, IntegrityError)
        assert conn.execute(logged, {"mid": m["id"]}).scalar_one() == before
        conn.rollback()
        written = write_in_one_trip(conn, ("127.0.0.1", "13700000007"), event_row, logged, {"mid": m["id"]})
        assert written == 1 and conn.execute(logged, {"mid": m["id"]}).scalar_one() == before + 1
    assert submit(browser, code, phone="13700000008").status_code == 303
    assert len(stored(api)) == 2


def test_each_voter_gets_the_page_with_a_token_of_its_own_escaped(voter):
    """The empty form is rendered once per remembered page and each voter's token put in
    it: one voter's token never reaches another, and a token from a cookie is escaped."""
    api, code, browser = voter
    first = browser.get(f"/d/{code}")
    with TestClient(api.app) as other:
        second = other.get(f"/d/{code}")
        assert csrf_of(second.text) == other.cookies["hotline_csrf"] != csrf_of(first.text)
        other.cookies.set("hotline_csrf", 'x"><b>bold</b>' + "y" * 20)
        third = other.get(f"/d/{code}")
    assert third.status_code == 200 and "set-cookie" not in third.headers
    assert "<b>bold</b>" not in third.text and "&#x27;" not in third.text
    assert 'value="x&quot;&gt;&lt;b&gt;bold&lt;/b&gt;' in third.text
    assert first.text.replace(csrf_of(first.text), "") == second.text.replace(csrf_of(second.text), "")


def test_with_every_public_place_taken_a_voter_is_told_to_retry_and_nothing_is_stored(voter):
    """The public pages have places of their own (HOTLINE_MAX_PUBLIC): when a flood holds
    them all, the next voter gets a page saying so, 503 with Retry-After, at once; the
    hotline's systems still have theirs."""
    api, code, browser = voter
    tracking = submit(browser, code).headers["location"].split("?")[0]
    page = browser.get(f"/d/{code}")
    gate = api.app.state.hotline.public_gate
    for _ in range(gate.capacity):
        gate.enter()
    try:
        data = {**FORM, "csrf_token": csrf_of(page.text)}
        r = browser.post(f"/d/{code}", data=data, follow_redirects=False)
        assert r.status_code == 503 and r.headers["retry-after"] == "1", r.text
        assert "text/html" in r.headers["content-type"] and "系统繁忙" in r.text
        # It leads the voter back to the deputy's page, not to the staff's sign-in.
        assert f'<a href="/d/{code}">返回留言页面</a>' in r.text and 'href="/ui/">返回首页' not in r.text
        busy = browser.get(tracking)
        assert busy.status_code == 503 and f'<a href="{tracking}">返回留言查询</a>' in busy.text
        assert api.get("/api/v1/messages", "liaison").status_code == 200  # not the API's places
    finally:
        for _ in range(gate.capacity):
            gate.leave()
    assert len(stored(api)) == 1
    assert browser.get(tracking).status_code == 200
    assert submit(browser, code, phone="13700000008").status_code == 303


def test_the_metrics_and_the_log_name_the_deputys_page_by_its_route(voter):
    """The page and its form are plain Starlette routes (app.pages.public.routes); each
    request is still counted under its route, not lumped with unmatched paths."""
    from app.observability import REGISTRY

    api, code, browser = voter

    def seen(method: str, status: str) -> float:
        labels = {"method": method, "route": "/d/{code}", "status": status}
        return REGISTRY.get_sample_value("hotline_http_requests_total", labels) or 0.0

    before = seen("GET", "200"), seen("POST", "303")
    assert submit(browser, code).status_code == 303
    assert (seen("GET", "200"), seen("POST", "303")) == (before[0] + 1, before[1] + 1)


def test_a_write_in_one_trip_interrupted_by_anything_leaves_no_transaction_open(voter):
    """Not only the driver's errors: whatever stops the write halfway (here a statement
    listener, as a tracer would be) rolls it back, so SQLite's write lock and PostgreSQL's
    transaction end with it, and the next voter's post is stored at once."""
    api, code, browser = voter
    db = api.app.state.hotline.db
    assert submit(browser, code).status_code == 303
    [m] = stored(api)
    logged = text("SELECT count(*) FROM message_events WHERE message_id = :mid")

    def tracer(*_: Any) -> None:
        raise KeyError("a tracer that fails")

    with (db.reader if db.is_postgres else db.writer).connect() as conn:
        event.listen(conn, "before_cursor_execute", tracer)
        with pytest.raises(KeyError):
            write_in_one_trip(conn, ("127.0.0.1", "13700000007"), logged, logged, {"mid": m["id"]})
        event.remove(conn, "before_cursor_execute", tracer)
        raw = conn.connection.dbapi_connection
        if db.is_postgres:
            assert raw.info.transaction_status.name == "IDLE"
        else:
            assert not raw.in_transaction
        # The connection goes on: on SQLite a write still open would refuse a new BEGIN.
        write_in_one_trip(conn, ("127.0.0.1", "13700000007"), logged, logged, {"mid": m["id"]})
    assert submit(browser, code, phone="13700000008").status_code == 303


def test_a_connection_lost_during_the_address_count_is_a_503_and_is_not_pooled_again(voter):
    """The count is read straight through the driver (db.first_row); a connection the
    network dropped is still thrown away and answered as SQLAlchemy's own reads are."""
    import os
    import socket

    from app.errors import database_busy
    from app.repositories.messages import recent_from_address

    api, _, _ = voter
    db = api.app.state.hotline.db
    if not db.is_postgres:
        pytest.skip("a connection the network drops is PostgreSQL's")
    with db.reader.connect() as conn:
        raw = conn.connection.dbapi_connection
        dropped = socket.socket(fileno=os.dup(raw.pgconn.socket))
        dropped.shutdown(socket.SHUT_RDWR)
        dropped.close()
        with pytest.raises(DBAPIError) as lost:
            recent_from_address(conn, "10.0.0.1", api.clock.now(), 5)
        assert lost.value.connection_invalidated and conn.invalidated
        assert database_busy(lost.value) is not None  # 503, not 500


def test_a_post_that_waits_too_long_for_a_public_thread_is_refused_unstarted(db_url, clock):
    """A place bounds how many posts wait for the public pages' threads, and
    HOTLINE_QUEUE_TIMEOUT how long: one that finds a thread too late is answered 503 with
    Retry-After, its work never started."""
    import asyncio
    import threading

    import httpx

    from app.pages.voters import public_work

    with serve(make_settings(db_url, HOTLINE_PUBLIC_THREADS=1), clock) as api:
        api.city()
        code = code_of(api, zhang(api))
        state = api.app.state.hotline
        holding = threading.Event()

        def hold() -> None:
            holding.set()
            time.sleep(1.0)

        async def scenario() -> httpx.Response:
            transport = httpx.ASGITransport(app=api.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                page = await client.get(f"/d/{code}")
                data = {**FORM, "district": "", "csrf_token": csrf_of(page.text)}
                # The one public thread is held for 1 s, under the default bound; only then
                # is the bound lowered, for the post alone: it waits twenty times as long.
                held = asyncio.create_task(public_work(state, hold))
                while not holding.is_set():
                    await asyncio.sleep(0.01)
                bound, state.settings.queue_timeout = state.settings.queue_timeout, 0.05
                try:
                    r = await client.post(f"/d/{code}", data=data)
                finally:
                    state.settings.queue_timeout = bound
                await held
                return r

        r = asyncio.run(scenario())
        assert r.status_code == 503 and r.headers["retry-after"] == "1", r.text
        assert "系统繁忙" in r.text and stored(api) == []
