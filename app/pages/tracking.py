"""The voter's tracking page `/t/<tracking code>` (一人一码): the message's status, steps and
result, and the rating form (满意度测评). It faces the whole internet as the deputy's page
does (app.pages.public): a tracking code is looked up by its digest, known or not alike;
the rating form carries a CSRF token and its size is bounded before it is parsed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.db import Transaction
from app.deps import OneTripRoute, app_state
from app.errors import Conflict
from app.pages.voters import PUBLIC_MAX_BYTES, VOTER, gone, public_work
from app.pages.web import (
    anonymous_csrf,
    check_anonymous_csrf,
    keep_anonymous_csrf,
    read_form,
    redirect,
    render,
)
from app.services import messages
from app.services.tracking import tracking_view
from app.services.vocabulary import THREE_POINT, rating_of
from app.state import AppState

router = APIRouter(route_class=OneTripRoute, include_in_schema=False)

NOT_FOUND = ("找不到这条留言", "查询码不正确，或者这条留言不存在。请核对查询码后重试。")


def _tracking(state: AppState, code: str) -> object | None:
    with state.db.read_session() as session:
        ctx = state.ctx(session, VOTER)
        message = messages.find_by_tracking_code(ctx, code)
        if message is None:
            return None
        view = tracking_view(session, message)
        session.expunge_all()
    return view


@router.get("/t/{code}")
async def tracking_page(
    request: Request, code: str, sent: Annotated[str | None, Query(max_length=1)] = None
) -> Response:
    """The voter's message: status, steps with dates, the result, the rating form."""
    state = app_state(request)
    view = await public_work(state, _tracking, state, code)
    if view is None:
        return gone(request, NOT_FOUND)
    token, new = anonymous_csrf(request)
    response = render(
        request,
        "public/message.html",
        title="留言查询",
        view=view,
        tracking_code=code.strip().upper(),
        sent=sent == "1",
        csrf_token=token,
    )
    keep_anonymous_csrf(response, request, token, new)
    return response


def _rate(state: AppState, code: str, rating: str, comment: str | None) -> str:
    try:
        with Transaction(state.db.write_session) as session:
            ctx = state.ctx(session, VOTER)
            message = messages.find_by_tracking_code(ctx, code)
            if message is None:
                return "gone"
            messages.rate(ctx, message=message, rating=rating, comment=comment)
    except Conflict:
        return "conflict"  # rolled back: nothing of it stays
    return "rated"


@router.post("/t/{code}/rating")
async def rate_message(request: Request, code: str) -> Response:
    """The voter's rating (满意度测评): satisfied, basically satisfied or unsatisfied."""
    state = app_state(request)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > PUBLIC_MAX_BYTES:
        return render(
            request, "public/gone.html", status=413, title="提交的内容过大", message="意见不能超过 500 字。"
        )
    form = await read_form(request)
    check_anonymous_csrf(request, form)
    raw = str(form.get("rating", "")).strip()
    given = rating_of(raw, THREE_POINT)
    comment = str(form.get("comment", "")).strip() or None
    status, problem = 422, None
    if given is None:
        problem = "请选择您对办理结果的评价"
    elif comment is not None and len(comment) > 500:
        problem = "意见和建议不能超过 500 字"
    if problem is None:
        assert given is not None
        outcome = await public_work(state, _rate, state, code, given.value, comment)
        if outcome == "gone":
            return gone(request, NOT_FOUND)
        if outcome == "rated":
            return redirect(f"/t/{code.strip().upper()}")
        status, problem = 409, "这条留言现在不能评价（可能已经评价过，或者已经办结）。"
    view = await public_work(state, _tracking, state, code)
    if view is None:
        return gone(request, NOT_FOUND)
    token, _ = anonymous_csrf(request)
    return render(
        request,
        "public/message.html",
        status=status,
        title="留言查询",
        view=view,
        tracking_code=code.strip().upper(),
        sent=False,
        csrf_token=token,
        rate_error=problem,
    )
