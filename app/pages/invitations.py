"""Invitations (约请) for each party: the station submits and evaluates; the committee
reviews, decides extensions and follows every invitation; the invited unit acknowledges,
asks for more time and files the form. The letter and the form print on A4."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from app.deps import OneTripRoute, decode_cursor, encode_cursor
from app.errors import Invalid, NotFound
from app.pages import labels
from app.pages.forms import Field, FormState, read, submit
from app.pages.printable import printable
from app.pages.web import page_reader, page_writer, render
from app.repositories import registry as names_repo
from app.schemas.invitations import (
    AcknowledgeIn,
    EvaluationIn,
    ExtensionNoteIn,
    InvitationExtensionIn,
    InvitationIn,
    ReportIn,
    ReviewIn,
)
from app.schemas.tickets import DecisionIn
from app.services import invitation_extensions as ext_svc
from app.services import invitations as svc
from app.services.context import Ctx
from app.services.invitation_flow import Action, OutOfOrder, Party, Status, WrongParty
from app.services.invitation_flow import next_status as flow_next
from app.services.invitation_views import invitation_view

router = APIRouter(route_class=OneTripRoute, prefix="/ui", include_in_schema=False)
ROLES = ("liaison", "admin", "unit", "station")
PAGE = 50

OUTCOME_OPTIONS = tuple(labels.LABELS["outcome"].items())
EVALUATION_OPTIONS = tuple(labels.EVALUATIONS.items())
DECIDE = (("approve", "同意"), ("refuse", "不同意"))

# what: (title, button, action of the machine, fields, schema)
FORMS: dict[str, tuple[str, str, Action, list[Field], type[BaseModel]]] = {
    "review": (
        "审定约请",
        "提交审定意见",
        Action.APPROVE,
        [
            Field(
                "decision",
                "审定意见",
                kind="radios",
                options=(("approve", "同意约请，编号并发出约请函"), ("reject", "不予约请")),
            ),
            Field("note", "意见或理由", kind="textarea", required=False, hint="不予约请时必须填写理由。"),
        ],
        ReviewIn,
    ),
    "acknowledge": (
        "签收约请",
        "签收",
        Action.ACKNOWLEDGE,
        [
            Field(
                "meeting_at",
                "面商时间",
                kind="datetime",
                hint="与联络站商定的到站时间，如 2025-10-10 09:30。",
            ),
            Field("responsible_person", "责任人", width="w-10"),
            Field("contact_phone", "联系电话", width="w-10", autocomplete="tel"),
            Field("note", "备注", kind="textarea", required=False),
        ],
        AcknowledgeIn,
    ),
    "extension": (
        "申请延期",
        "提交延期申请",
        Action.EXTENSION,
        [
            Field(
                "working_days",
                "延期工作日数",
                kind="number",
                width="w-5",
                hint="1 至 30 个工作日，自现办理期限起顺延。",
            ),
            Field("reason", "书面延期理由", kind="textarea"),
        ],
        InvitationExtensionIn,
    ),
    "report": (
        "填报办理情况表",
        "报送办理情况表",
        Action.REPORT,
        [
            Field("summary", "办理情况", kind="textarea"),
            Field("measures", "采取措施", kind="textarea"),
            Field("outcome", "办理结果", kind="radios", options=OUTCOME_OPTIONS),
            Field("responsible_person", "责任人", width="w-10"),
        ],
        ReportIn,
    ),
    "evaluate": (
        "评议办理情况",
        "提交评议",
        Action.EVALUATE_SATISFIED,
        [
            Field(
                "rating",
                "评议结果",
                kind="radios",
                options=EVALUATION_OPTIONS,
                hint="评为不满意的，被约请单位重新办理，联工委督办。",
            ),
            Field("comment", "评议意见", kind="textarea", required=False),
        ],
        EvaluationIn,
    ),
}


def _party(ctx: Ctx, v: dict[str, Any]) -> Party | None:
    a = ctx.actor
    from app.services.invitation_flow import party_of

    return party_of(
        role=a.role,
        unit_code=a.unit_code,
        station_code=a.station_code,
        invited_unit=v["unit"],
        station=v["station"],
    )


def _may(party: Party | None, status: str, action: Action) -> bool:
    if party is None:
        return False
    try:
        flow_next(party, Status(status), action)
    except (WrongParty, OutOfOrder):
        return False
    return True


def _deputy_names(v: dict[str, Any]) -> str:
    return "、".join(d["name"] or d["id"] for d in v["deputies"])


# --- the list --------------------------------------------------------------------------------


@router.get("/invitations")
def list_page(
    request: Request,
    ctx: Ctx = page_reader(*ROLES),
    status: Annotated[str | None, Query(max_length=16)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Invitations this person may follow: all for the committee, their own for the others."""
    after = decode_cursor(cursor) if cursor else None
    if after is not None and not isinstance(after, str):
        raise Invalid("cursor", "not a cursor this service issued")
    chosen = status if status in labels.INVITATION_STATUSES else None
    rows = svc.list_visible(ctx, status=chosen, unit=None, station=None, after=after, limit=PAGE + 1)
    more, rows = len(rows) > PAGE, rows[:PAGE]
    names = _names(ctx, {i.unit_code for i in rows}, {i.station_code for i in rows})
    next_url = f"/ui/invitations?status={chosen or ''}&cursor={encode_cursor(rows[-1].id)}" if more else None
    waiting = ext_svc.pending_extensions(ctx, limit=PAGE) if ctx.actor.role == "liaison" else []
    return render(
        request,
        "invitations/list.html",
        title="约请事项",
        rows=rows,
        names=names,
        waiting=waiting,
        chosen=chosen or "",
        next_url=next_url,
        may_submit=ctx.actor.role in ("station", "liaison"),
    )


def _names(ctx: Ctx, units: set[str], stations: set[str]) -> dict[str, str]:
    out = names_repo.unit_names(ctx.session, units)
    out.update({f"station:{c}": n for c, n in names_repo.station_names(ctx.session, stations).items()})
    return out


# --- submitting ------------------------------------------------------------------------------


def _submit_fields(ctx: Ctx) -> list[Field]:
    units = tuple(names_repo.unit_names(ctx.session).items())
    station = ctx.actor.station_code if ctx.actor.role == "station" else None
    deputies = tuple(names_repo.deputy_choices(ctx.session, station=station))
    fields = [
        Field("unit", "被约请单位", kind="select", options=units),
        Field("subject", "约请事项", hint="一句话说明请对方来解决什么问题。"),
        Field("content", "事项内容", kind="textarea", hint="选民反映的情况、涉及范围、诉求。"),
        Field("deputies", "参加面商的代表", kind="checkboxes", options=deputies, required=False),
    ]
    if ctx.actor.role == "liaison":
        stations = tuple(names_repo.station_names(ctx.session).items())
        fields.insert(0, Field("station", "代表联络站", kind="select", options=stations))
    return fields


def _submit_page(request: Request, ctx: Ctx, state: FormState, status: int = 200) -> Response:
    return render(
        request,
        "form.html",
        status=status,
        title="上报约请",
        form=state,
        caption="约请事项",
        submit="上报联工委审定",
        action="/ui/invitations/new",
        back="/ui/invitations",
        intro="联络站收集的选民问题需要职能部门到站面商解决的，可申请约请。联工委审定后编号发出约请函。",
    )


@router.get("/invitations/new")
def submit_form(request: Request, ctx: Ctx = page_reader("station", "liaison")) -> Response:
    return _submit_page(request, ctx, FormState(_submit_fields(ctx)))


@router.post("/invitations/new")
def submit_invitation(request: Request, ctx: Ctx = page_writer("station", "liaison")) -> Response:
    """The same use-case as POST /api/v1/invitations."""
    fields = _submit_fields(ctx)
    form = request.state.form
    deputies = [str(d) for d in form.getlist("deputies")]
    shown = [f for f in fields if f.name != "deputies"]
    fixed: dict[str, Any] = {"deputies": deputies}
    if ctx.actor.role == "station":
        fixed["station"] = ctx.actor.station_code

    def again(state: FormState, status: int) -> Response:
        full = FormState(
            fields, {**state.values, "deputies": deputies}, dict(state.errors), list(state.problems)
        )
        return _submit_page(request, ctx, full, status)

    return submit(
        request,
        ctx,
        shown,
        InvitationIn,
        lambda m: svc.submit(
            ctx, station=m.station, unit=m.unit, subject=m.subject, content=m.content, deputies=m.deputies
        ),
        done=lambda inv: f"/ui/invitations/{inv.id}?done=submitted",
        show=again,
        **fixed,
    )


# --- one invitation --------------------------------------------------------------------------

DONE = {
    "submitted": "约请已上报，等待联工委审定。",
    "review": "审定意见已保存。",
    "acknowledge": "已签收。",
    "extension": "延期申请已提交，等待联工委决定。",
    "report": "办理情况表已报送。",
    "evaluate": "评议已保存。",
    "decide": "延期申请已决定。",
    "view": "联络站意见已送联工委。",
}


def _context(ctx: Ctx, invitation_id: str) -> dict[str, Any]:
    inv = svc.get_visible(ctx, invitation_id)
    v = invitation_view(ctx, inv)
    party = _party(ctx, v)
    forms = [what for what, (_, _, action, _, _) in FORMS.items() if _may(party, v["status"], action)]
    if "evaluate" not in forms and _may(party, v["status"], Action.EVALUATE_UNSATISFIED):
        forms.append("evaluate")
    if "review" not in forms and _may(party, v["status"], Action.REJECT):
        forms.append("review")
    pending = next((e for e in v["extensions"] if e["state"] == "pending"), None)
    return {
        "v": v,
        "forms": forms,
        "forms_meta": FORMS,
        "pending": pending,
        "decides": ctx.actor.role == "liaison",
        "views": party is Party.STATION,
        "deputy_names": _deputy_names(v),
    }


@router.get("/invitations/{invitation_id}")
def invitation_page(
    request: Request,
    invitation_id: str,
    ctx: Ctx = page_reader(*ROLES),
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    data = _context(ctx, invitation_id)
    return render(
        request,
        "invitations/invitation.html",
        title=data["v"]["number"] or data["v"]["subject"],
        notice=DONE.get(done or "", ""),
        **data,
    )


def _form_page(
    request: Request, ctx: Ctx, invitation_id: str, what: str, state: FormState, status: int = 200
) -> Response:
    title, button, _, _, _ = FORMS[what]
    return _invitation_form(
        request,
        ctx,
        invitation_id,
        state,
        status,
        title=title,
        submit=button,
        action=f"/ui/invitations/{invitation_id}/{what}",
        context_template="invitations/_summary.html",
    )


def _invitation_form(
    request: Request, ctx: Ctx, invitation_id: str, state: FormState, status: int, **page: Any
) -> Response:
    """A form about one invitation, with its summary above and the way back to its page."""
    data = _context(ctx, invitation_id)
    return render(
        request,
        "form.html",
        status=status,
        form=state,
        caption=f"约请事项 · {data['v']['number'] or data['v']['subject']}",
        back=f"/ui/invitations/{invitation_id}",
        **page,
        **data,
    )


# --- printable pages (also served by the API) -------------------------------------------------


@router.get("/invitations/{invitation_id}/letter")
def letter_page(invitation_id: str, ctx: Ctx = page_reader(*ROLES)) -> Response:
    return HTMLResponse(
        printable(ctx, invitation_id, "letter", back=f"/ui/invitations/{invitation_id}"),
        headers={"Cache-Control": "no-store"},
    )


@router.get("/invitations/{invitation_id}/form")
def form_page(
    invitation_id: str,
    ctx: Ctx = page_reader(*ROLES),
    round: Annotated[int | None, Query(ge=1, le=1000)] = None,
) -> Response:
    return HTMLResponse(
        printable(ctx, invitation_id, "form", round_=round, back=f"/ui/invitations/{invitation_id}"),
        headers={"Cache-Control": "no-store"},
    )


# --- extensions: the committee decides, the station gives its view -----------------------------

EXT_FORMS: dict[str, tuple[str, str, list[Field], type[BaseModel]]] = {
    "decide": (
        "决定延期申请",
        "提交决定",
        [
            Field("decision", "决定", kind="radios", options=DECIDE),
            Field("note", "意见", kind="textarea", required=False),
        ],
        DecisionIn,
    ),
    "view": (
        "联络站意见",
        "送联工委",
        [
            Field("content", "对延期申请的意见", kind="textarea"),
        ],
        ExtensionNoteIn,
    ),
}


def _ext_page(
    request: Request, ctx: Ctx, ext_id: str, what: str, state: FormState, status: int = 200
) -> Response:
    ext = ext_svc.find_extension(ctx, ext_id)
    if ext is None:
        raise NotFound(f"no extension {ext_id}")
    title, button, _, _ = EXT_FORMS[what]
    return _invitation_form(
        request,
        ctx,
        ext.invitation_id,
        state,
        status,
        title=title,
        submit=button,
        action=f"/ui/invitation-extensions/{ext_id}/{what}",
        context_template="invitations/_extension.html",
        ext=ext,
    )


@router.get("/invitation-extensions/{ext_id}/{what}")
def ext_form(
    request: Request, ext_id: str, what: str, ctx: Ctx = page_reader("liaison", "station")
) -> Response:
    if what not in EXT_FORMS:
        raise NotFound(f"no form {what}")
    return _ext_page(request, ctx, ext_id, what, FormState(EXT_FORMS[what][2]))


@router.post("/invitation-extensions/{ext_id}/{what}")
def ext_action(
    request: Request, ext_id: str, what: str, ctx: Ctx = page_writer("liaison", "station")
) -> Response:
    """The same use-cases as POST /api/v1/extensions/{id}/decision and /notes."""
    if what not in EXT_FORMS:
        raise NotFound(f"no form {what}")
    ext = ext_svc.find_extension(ctx, ext_id)
    if ext is None:
        raise NotFound(f"no extension {ext_id}")
    back = f"/ui/invitations/{ext.invitation_id}?done={what}"
    _, _, fields, schema = EXT_FORMS[what]

    def show(state: FormState, status: int) -> Response:
        return _ext_page(request, ctx, ext_id, what, state, status)

    if what == "view":
        return submit(
            request,
            ctx,
            fields,
            schema,
            lambda m: ext_svc.note_extension(ctx, extension_id=ext_id, content=m.content),
            done=back,
            show=show,
        )
    return _two_way(
        request,
        ctx,
        fields,
        schema,
        show,
        back,
        lambda approve, m: ext_svc.decide_extension(ctx, extension_id=ext_id, approve=approve, note=m.note),
        yes="approve",
    )


def _two_way(
    request: Request,
    ctx: Ctx,
    fields: list[Field],
    schema: type[BaseModel],
    show: Callable[[FormState, int], Response],
    done: str,
    run: Callable[[bool, Any], Any],
    *,
    yes: str,
) -> Response:
    """A form whose first question (radios) is the yes/no `approve` of the API's body."""
    decision = str(request.state.form.get("decision", ""))
    if decision not in {value for value, _ in fields[0].options}:
        _, state = read(fields[1:], request.state.form, schema, ctx.tz, approve=True)
        state.fields = fields
        state.errors = {"decision": f"请选择{fields[0].label}", **state.errors}
        return show(state, 422)
    approve = decision == yes

    def again(state: FormState, status: int) -> Response:
        return show(
            FormState(
                fields, {**state.values, "decision": decision}, dict(state.errors), list(state.problems)
            ),
            status,
        )

    return submit(
        request, ctx, fields[1:], schema, lambda m: run(approve, m), done=done, show=again, approve=approve
    )


# --- the invitation's own forms ---------------------------------------------------------------


@router.get("/invitations/{invitation_id}/{what}")
def action_form(
    request: Request, invitation_id: str, what: str, ctx: Ctx = page_reader("liaison", "unit", "station")
) -> Response:
    if what not in FORMS:
        raise NotFound(f"no form {what}")
    return _form_page(request, ctx, invitation_id, what, FormState(FORMS[what][3]))


@router.post("/invitations/{invitation_id}/{what}")
def action(
    request: Request, invitation_id: str, what: str, ctx: Ctx = page_writer("liaison", "unit", "station")
) -> Response:
    """The same use-cases as the API's review, acknowledge, extensions, report, evaluation."""
    if what not in FORMS:
        raise NotFound(f"no form {what}")
    _, _, _, fields, schema = FORMS[what]
    done = f"/ui/invitations/{invitation_id}?done={what}"

    def show(state: FormState, status: int) -> Response:
        return _form_page(request, ctx, invitation_id, what, state, status)

    if what == "review":
        return _two_way(
            request,
            ctx,
            fields,
            schema,
            show,
            done,
            lambda approve, m: svc.review(ctx, invitation_id=invitation_id, approve=approve, note=m.note),
            yes="approve",
        )
    runs: dict[str, Callable[[Any], Any]] = {
        "acknowledge": lambda m: svc.acknowledge(
            ctx,
            invitation_id=invitation_id,
            meeting_at=m.meeting_at,
            responsible_person=m.responsible_person,
            contact_phone=m.contact_phone,
            note=m.note,
            at=None,
        ),
        "extension": lambda m: ext_svc.request_extension(
            ctx, invitation_id=invitation_id, working_days=m.working_days, reason=m.reason
        ),
        "report": lambda m: svc.report(
            ctx,
            invitation_id=invitation_id,
            summary=m.summary,
            measures=m.measures,
            outcome=m.outcome,
            responsible_person=m.responsible_person,
            at=None,
        ),
        "evaluate": lambda m: svc.evaluate(
            ctx, invitation_id=invitation_id, rating=m.rating, comment=m.comment, at=None
        ),
    }
    return submit(request, ctx, fields, schema, runs[what], done=done, show=show)
