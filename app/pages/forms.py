"""Forms: fields described once, read into the API's own request models, and errors told
in Chinese beside each field and in a summary at the top (GOV.UK's error pattern).

A form is validated by the same Pydantic model as the JSON endpoint beside it and handed
to the same service function, so a rule is written once for both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from app.db import savepoint
from app.errors import DomainError, status_of
from app.pages.labels import translate_detail
from app.pages.web import redirect, render
from app.services.context import Ctx


@dataclass(frozen=True)
class Field:
    """One question of a form."""

    name: str
    label: str
    kind: str = "text"  # text, textarea, select, radios, checkbox, datetime, number,
    #                     password, date, hidden
    options: tuple[tuple[str, str], ...] = ()
    hint: str = ""
    required: bool = True
    autocomplete: str = "off"
    width: str = ""  # a CSS width class for short answers: "w-5", "w-10", "w-20"

    @property
    def id(self) -> str:
        return "f-" + self.name.replace("_", "-")


@dataclass
class FormState:
    """What a form shows: its fields, the values given, and what is wrong with them."""

    fields: list[Field]
    values: Mapping[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # not about one field

    @property
    def summary(self) -> list[tuple[str, str]]:
        """(anchor, message) for the error summary, in the order of the fields."""
        out = [(f"#{f.id}", self.errors[f.name]) for f in self.fields if f.name in self.errors]
        return out + [("", p) for p in self.problems]

    def value(self, name: str) -> str:
        raw = self.values.get(name, "")
        return "" if raw is None else str(raw)


def field_message(err: Mapping[str, Any], f: Field) -> str:
    """A validation error as the plain message shown beside its field."""
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    choose = f.kind in ("select", "radios")
    match kind:
        case "missing" | "string_too_short":
            return f"请{'选择' if choose else '填写'}{f.label}"
        case "string_too_long" | "too_long":
            return f"{f.label}不能超过{ctx.get('max_length', '')}个字"
        case "literal_error" | "enum":
            return f"请选择{f.label}"
        case "int_parsing" | "int_type" | "int_from_float":
            return f"{f.label}须为整数"
        case "greater_than_equal" | "greater_than":
            return f"{f.label}不能小于{ctx.get('ge', ctx.get('gt', ''))}"
        case "less_than_equal" | "less_than":
            return f"{f.label}不能大于{ctx.get('le', ctx.get('lt', ''))}"
        case "string_pattern_mismatch":
            return f"{f.label}只能包含字母、数字和 . _ -，并以字母或数字开头"
        case "value_error":
            detail = str(err.get("msg", "")).removeprefix("Value error, ")
            return f"{f.label}{translate_detail(detail)}"
    if kind.startswith(("datetime", "date")):
        return f"{f.label}格式不正确"
    return f"{f.label}有误"


def _local_instant(raw: str, tz: ZoneInfo) -> str:
    """A datetime-local value (2025-10-01T09:00) as an instant in the service's zone."""
    return datetime.fromisoformat(raw).replace(tzinfo=tz).isoformat()


def read(
    fields: list[Field],
    form: FormData | Mapping[str, Any],
    schema: type[BaseModel],
    tz: ZoneInfo,
    **fixed: Any,
) -> tuple[BaseModel | None, FormState]:
    """The form's answers as the API's request model, or the state to show again."""
    state = FormState(fields=fields, values={k: form.get(k, "") for k in [f.name for f in fields]})
    data: dict[str, Any] = dict(fixed)
    by_name = {f.name: f for f in fields}
    for f in fields:
        raw = str(form.get(f.name, "")).strip() if f.kind != "password" else str(form.get(f.name, ""))
        if f.kind == "checkbox":
            data[f.name] = raw == "yes"
        elif f.kind == "radios" and {v for v, _ in f.options} == {"yes", "no"} and raw:
            data[f.name] = raw == "yes" if raw in ("yes", "no") else raw  # a yes/no question
        elif raw == "":
            continue  # not given: the model's default, or its "missing" error
        elif f.kind == "datetime":
            try:
                data[f.name] = _local_instant(raw, tz)
            except ValueError:
                state.errors[f.name] = f"{f.label}请按“年-月-日 时:分”填写"
        else:
            data[f.name] = raw
    if state.errors:
        return None, state
    try:
        return schema.model_validate(data), state
    except ValidationError as exc:
        for err in exc.errors():
            loc = err.get("loc") or ("",)
            name = str(loc[0])
            known = by_name.get(name)
            if known is None:
                state.problems.append(translate_detail(str(err.get("msg", ""))))
            else:
                state.errors.setdefault(name, field_message(err, known))
        return None, state


def entry_page(
    request: Request, noun: str, base: str, code: str | None, state: FormState, status: int = 200
) -> Response:
    """The form that creates (`code` None) or edits a registry entry (a unit, a category, a
    station) listed at `base`: titled 新建/修改 and the entry's Chinese name."""
    return render(
        request,
        "form.html",
        status=status,
        title=("新建" if code is None else "修改") + noun,
        caption=code or "",
        form=state,
        submit="保存",
        action=f"{base}/{code or 'new'}",
        back=base,
    )


def refused(state: FormState, exc: DomainError) -> FormState:
    """A service's refusal added to the form: beside the field it names, else on top."""
    by_name = {f.name: f for f in state.fields}
    placed = False
    for e in exc.errors:
        key = e.field.split("[")[0].split(".")[0]
        if key in by_name:
            state.errors.setdefault(key, by_name[key].label + translate_detail(e.detail))
            placed = True
    if not placed:
        state.problems.append(translate_detail(exc.detail))
    return state


def submit(
    request: Request,
    ctx: Ctx,
    fields: list[Field],
    schema: type[BaseModel],
    run: Callable[[Any], Any],
    *,
    done: str | Callable[[Any], str],
    show: Callable[[FormState, int], Response],
    **fixed: Any,
) -> Response:
    """Read the posted form, run the use-case, and go to `done`; or show the form again
    with what is wrong (the transaction rolled back: a refused form changes nothing)."""
    model, state = read(fields, request.state.form, schema, ctx.tz, **fixed)
    status = 422
    if model is not None:
        try:
            # A refused use-case is undone to its savepoint: the form is shown again from
            # what is stored, and the request's transaction (app.deps) ends as usual.
            with savepoint(ctx.session):
                result = run(model)
            url = done(result) if callable(done) else done
        except DomainError as exc:
            if status_of(exc) in (401, 404):
                raise
            state, status = refused(state, exc), status_of(exc)
        else:
            return redirect(url)
    return show(state, status)
