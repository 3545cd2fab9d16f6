"""Forms that move an invitation along, or decide its extensions; and which ones its reader may fill."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel

from app.deps import OneTripRoute
from app.errors import NotFound
from app.pages import labels
from app.pages.forms import Field, FormState, read, submit
from app.pages.web import page_reader, page_writer, render
from app.schemas.invitations import (
    AcknowledgeIn,
    EvaluationIn,
    ExtensionNoteIn,
    InvitationExtensionIn,
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


def invitation_context(ctx: Ctx, invitation_id: str) -> dict[str, Any]:
    """An invitation as its reader sees it, with the forms this reader may fill now."""
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
    data = invitation_context(ctx, invitation_id)
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
