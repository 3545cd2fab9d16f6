"""Supervision cases (督办): the committee's and each supervising unit's cases, their notes,
and closing them with a conclusion."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.deps import OneTripRoute, decode_cursor, encode_cursor
from app.errors import Invalid, NotFound
from app.pages import labels
from app.pages.forms import Field, FormState, read, submit
from app.pages.web import page_reader, page_writer, redirect, render
from app.schemas.supervision import CloseIn, MeetingIn, NoteIn, SupervisionIn
from app.services import registry
from app.services import supervision as svc
from app.services import tickets as tickets_svc
from app.services.context import Ctx
from app.services.views import ticket_views

router = APIRouter(route_class=OneTripRoute, prefix="/ui", include_in_schema=False)
ROLES = ("liaison", "admin", "unit")
FORMS: dict[str, tuple[str, str, list[Field], type[Any]]] = {
    "note": (
        "添加督办记录",
        "保存记录",
        [
            Field(
                "content",
                "督办记录",
                kind="textarea",
                hint="如约谈、实地督查、听取汇报的情况。记录保存后不能修改。",
            ),
        ],
        NoteIn,
    ),
    "close": (
        "督办办结",
        "确认办结",
        [
            Field("conclusion", "督办结论", kind="textarea", hint="督办的结论和理由。办结后不能再添加记录。"),
        ],
        CloseIn,
    ),
}
DONE = {
    "note": "已保存督办记录。",
    "close": "督办案件已办结。",
    "meeting": "已保存会商记录。",
    "opened": "已开启联合督办。",
}


@router.get("/cases")
def cases_page(
    request: Request,
    ctx: Ctx = page_reader(*ROLES),
    state: Annotated[str | None, Query(max_length=16)] = "open",
    kind: Annotated[str | None, Query(max_length=16)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Cases, newest first: all of them for the committee, its own for a unit."""
    after = decode_cursor(cursor) if cursor else None
    if after is not None and not isinstance(after, str):
        raise Invalid("cursor", "not a cursor this service issued")
    chosen_state = state if state in labels.LABELS["case_state"] else None
    chosen_kind = kind if kind in labels.LABELS["case_kind"] else None
    rows = svc.list_cases(
        ctx, kind=chosen_kind, state=chosen_state, unit=None, ticket_id=None, after=after, limit=51
    )
    more, rows = len(rows) > 50, rows[:50]
    numbers = tickets_svc.hotline_numbers(ctx, {c.ticket_id for c in rows if c.ticket_id})
    next_url = None
    if more:
        next_url = (
            f"/ui/cases?state={chosen_state or ''}&kind={chosen_kind or ''}"
            f"&cursor={encode_cursor(rows[-1].id)}"
        )
    return render(
        request,
        "cases/list.html",
        title="督办案件",
        cases=rows,
        numbers=numbers,
        state=chosen_state or "",
        kind=chosen_kind or "",
        next_url=next_url,
        units=registry.unit_names(ctx.session, {c.unit_code for c in rows}),
    )


def case_context(ctx: Ctx, case_id: str) -> dict[str, Any]:
    case = svc.get_case(ctx, case_id)
    if case.ticket_id is None:  # an invitation's case: its page is the invitation's
        raise NotFound(f"case {case_id} is an invitation's")
    ticket = tickets_svc.get_visible(ctx, case.ticket_id)
    view = ticket_views(ctx.session, [ticket], ctx.now(), ctx.tz)[0]
    notes = svc.notes_of(ctx, [case.id])[case.id]
    from app.services.accounts import actor_names

    may_work = case.state == "open" and (
        ctx.actor.role == "liaison" or (ctx.actor.role == "unit" and case.unit_code == ctx.actor.unit_code)
    )
    meetings = svc.meetings_of(ctx, [case.id])[case.id]
    named = {p for m in meetings for p in m.participants}
    return {
        "case": case,
        "t": view,
        "notes": notes,
        "meetings": meetings,
        "authors": actor_names(ctx.session, {n.author for n in notes} | {m.recorded_by for m in meetings}),
        "units": registry.unit_names(ctx.session, {case.unit_code, view["lead_unit"], *named}),
        "category": registry.category_names(ctx.session, [view["category"]]),
        "may_work": may_work,
        "meets": case.state == "open" and ctx.actor.role == "liaison",
    }


# --- a joint case opened by hand (联合督办) --------------------------------------------------

JOINT = [
    Field(
        "reason",
        "督办理由",
        kind="textarea",
        hint="说明是难点问题，还是承办单位办理不力，以及需要联合督办的事项。",
    )
]


def _joint_page(request: Request, ctx: Ctx, ticket_id: str, state: FormState, status: int = 200) -> Response:
    from app.pages.tickets import ticket_context

    data = ticket_context(ctx, ticket_id)
    return render(
        request,
        "form.html",
        status=status,
        title="开启联合督办",
        caption=f"工单 {data['t']['hotline_no']}",
        form=state,
        submit="开启联合督办",
        action=f"/ui/cases/new?ticket={ticket_id}",
        back=f"/ui/tickets/{ticket_id}",
        context_template="tickets/_summary.html",
        intro="联合督办由联工委牵头，会同纪委监委、有关专门委员会、承办单位和市长热线办共同督办。"
        "每轮办理只能开启一次。",
        **data,
    )


@router.get("/cases/new")
def joint_form(
    request: Request, ticket: Annotated[str, Query(max_length=64)], ctx: Ctx = page_reader("liaison")
) -> Response:
    return _joint_page(request, ctx, ticket, FormState(JOINT))


@router.post("/cases/new")
def open_joint(
    request: Request, ticket: Annotated[str, Query(max_length=64)], ctx: Ctx = page_writer("liaison")
) -> Response:
    """The same use-case as POST /api/v1/supervisions (kind joint)."""
    tickets_svc.get_visible(ctx, ticket)
    return submit(
        request,
        ctx,
        JOINT,
        SupervisionIn,
        lambda m: svc.open_joint_by_hand(ctx, ticket_id=ticket, reason=m.reason),
        done=lambda case: f"/ui/cases/{case.id}?done=opened",
        show=lambda state, status: _joint_page(request, ctx, ticket, state, status),
        ticket_id=ticket,
        kind="joint",
    )


@router.get("/cases/{case_id}")
def case_page(
    request: Request,
    case_id: str,
    ctx: Ctx = page_reader(*ROLES),
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    case = svc.get_case(ctx, case_id)
    if case.invitation_id is not None:  # an invitation's case is followed on its page
        return redirect(f"/ui/invitations/{case.invitation_id}")
    data = case_context(ctx, case_id)
    return render(
        request,
        "cases/case.html",
        title=labels.label(data["case"].kind, "case_kind"),
        notice=DONE.get(done or "", ""),
        **data,
    )


def _form_page(
    request: Request, ctx: Ctx, case_id: str, what: str, state: FormState, status: int = 200
) -> Response:
    title, button, _, _ = FORMS[what]
    data = case_context(ctx, case_id)
    return render(
        request,
        "form.html",
        status=status,
        title=title,
        caption=f"{labels.label(data['case'].kind, 'case_kind')} · 工单 {data['t']['hotline_no']}",
        form=state,
        submit=button,
        action=f"/ui/cases/{case_id}/{what}",
        back=f"/ui/cases/{case_id}",
        context_template="cases/_summary.html",
        **data,
    )


# --- 会商 (the liaison committee) --------------------------------------------------------

MEETING = [
    Field("held_at", "会商时间", kind="datetime", hint="如 2025-10-20 14:30。"),
    Field("units", "参加单位", kind="checkboxes"),
    Field(
        "others",
        "其他参加方",
        kind="textarea",
        required=False,
        hint="不在单位名册中的参加方，每行一个，如“市长热线办”。",
    ),
    Field("conclusion", "会商意见", kind="textarea", hint="会商商定的事项、责任单位和时限。"),
]


def _meeting_page(request: Request, ctx: Ctx, case_id: str, state: FormState, status: int = 200) -> Response:
    data = case_context(ctx, case_id)
    fields = [
        Field(
            f.name, f.label, f.kind, tuple((u.code, u.name) for u in registry.list_units(ctx.session)), f.hint
        )
        if f.name == "units"
        else f
        for f in MEETING
    ]
    state.fields = fields
    return render(
        request,
        "form.html",
        status=status,
        title="记录会商",
        caption=f"{labels.label(data['case'].kind, 'case_kind')} · 工单 {data['t']['hotline_no']}",
        form=state,
        submit="保存会商记录",
        action=f"/ui/cases/{case_id}/meeting",
        back=f"/ui/cases/{case_id}",
        context_template="cases/_summary.html",
        **data,
    )


@router.get("/cases/{case_id}/meeting")
def meeting_form(request: Request, case_id: str, ctx: Ctx = page_reader("liaison")) -> Response:
    return _meeting_page(request, ctx, case_id, FormState(MEETING))


@router.post("/cases/{case_id}/meeting")
def meeting(request: Request, case_id: str, ctx: Ctx = page_writer("liaison")) -> Response:
    """The same use-case as POST /api/v1/supervisions/{id}/meetings: the units ticked and
    the others named are its participants."""
    form = request.state.form
    others = [line.strip() for line in str(form.get("others", "")).splitlines() if line.strip()]
    units = [str(u) for u in form.getlist("units")]
    shown = [f for f in MEETING if f.name in ("held_at", "conclusion")]

    def again(state: FormState, status: int) -> Response:
        full = FormState(
            MEETING,
            {**state.values, "units": units, "others": str(form.get("others", ""))},
            dict(state.errors),
            list(state.problems),
        )
        if not units and not others:
            full.errors["units"] = "请选择参加单位，或填写其他参加方"
        return _meeting_page(request, ctx, case_id, full, status)

    if not units and not others:
        _, state = read(shown, form, MeetingIn, ctx.tz, participants=["-"])
        return again(state, 422)
    return submit(
        request,
        ctx,
        shown,
        MeetingIn,
        lambda m: svc.add_meeting(
            ctx, case_id=case_id, held_at=m.held_at, participants=m.participants, conclusion=m.conclusion
        ),
        done=f"/ui/cases/{case_id}?done=meeting",
        show=again,
        participants=units + others,
    )


@router.get("/cases/{case_id}/{what}")
def case_form(
    request: Request, case_id: str, what: str, ctx: Ctx = page_reader("liaison", "unit")
) -> Response:
    if what not in FORMS:
        raise NotFound(f"no form {what}")
    return _form_page(request, ctx, case_id, what, FormState(FORMS[what][2]))


@router.post("/cases/{case_id}/{what}")
def case_action(
    request: Request, case_id: str, what: str, ctx: Ctx = page_writer("liaison", "unit")
) -> Response:
    """The same use-cases as POST /api/v1/supervisions/{id}/notes and /close."""
    if what not in FORMS:
        raise NotFound(f"no form {what}")
    _, _, fields, schema = FORMS[what]

    def run(m: Any) -> Any:
        if what == "note":
            return svc.add_note(ctx, case_id=case_id, content=m.content)
        return svc.close_case(ctx, case_id=case_id, conclusion=m.conclusion)

    return submit(
        request,
        ctx,
        fields,
        schema,
        run,
        done=f"/ui/cases/{case_id}?done={what}",
        show=lambda state, status: _form_page(request, ctx, case_id, what, state, status),
    )
