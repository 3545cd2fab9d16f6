"""One transaction owner: what it commits, what it rolls back, and what it runs again."""

from __future__ import annotations

import pytest

from app.db import Raced, Transaction, after_commit, savepoint
from app.deps import WRITES, ends_in_one_trip
from app.errors import Conflict
from app.models import District
from app.services.context import CLI, Ctx
from app.services.registry import put_district


def _districts(api) -> dict[str, str]:
    return {d["code"]: d["name"] for d in api.get("/api/v1/districts", "admin").json()}


def test_a_use_case_that_lost_a_race_is_rolled_back_and_run_once_more(api):
    state = api.app.state.hotline
    session = state.db.write_session()
    session.info[WRITES] = True
    calls: list[bool] = []

    def endpoint(ctx: Ctx) -> str:
        seen_lost = ctx.session.get(District, "race-lost") is not None
        calls.append(seen_lost)
        if len(calls) == 1:
            put_district(ctx.session, code="race-lost", name="lost", now=ctx.now())
            ctx.session.flush()
            raise Raced("a concurrent transaction committed first")
        put_district(ctx.session, code="race-won", name="won", now=ctx.now())
        return "done"

    try:
        assert ends_in_one_trip(endpoint)(ctx=state.ctx(session, CLI)) == "done"
    finally:
        session.close()
    assert calls == [False, False]  # the second run did not see the first run's row
    districts = _districts(api)
    assert districts.get("race-won") == "won" and "race-lost" not in districts


def test_a_use_case_that_loses_twice_is_an_error_and_changes_nothing(api):
    state = api.app.state.hotline
    session = state.db.write_session()
    session.info[WRITES] = True

    def endpoint(ctx: Ctx) -> str:
        put_district(ctx.session, code="race-again", name="again", now=ctx.now())
        raise Raced("lost again")

    try:
        with pytest.raises(Raced):
            ends_in_one_trip(endpoint)(ctx=state.ctx(session, CLI))
    finally:
        session.close()
    assert "race-again" not in _districts(api)


def test_a_refused_step_is_undone_to_its_savepoint_and_the_rest_commits(api):
    state = api.app.state.hotline
    now = api.clock.now()
    with Transaction(state.db.write_session) as session:
        put_district(session, code="kept", name="kept", now=now)
        with pytest.raises(Conflict), savepoint(session):
            put_district(session, code="refused", name="refused", now=now)
            raise Conflict("refused midway")
        assert session.get(District, "refused") is None
    districts = _districts(api)
    assert districts.get("kept") == "kept" and "refused" not in districts


def test_work_after_commit_runs_only_once_the_transaction_committed(api):
    state = api.app.state.hotline
    now = api.clock.now()
    ran: list[str] = []
    with Transaction(state.db.write_session) as session:
        put_district(session, code="after", name="after", now=now)
        after_commit(session, lambda: ran.append("committed"))
        assert ran == []
    assert ran == ["committed"]
    with pytest.raises(Conflict), Transaction(state.db.write_session) as session:
        after_commit(session, lambda: ran.append("rolled back"))
        raise Conflict("refused")
    assert ran == ["committed"]
