"""Shared pieces: list pages, problems, bounded strings."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from types import UnionType
from typing import Annotated, Any, Generic, Literal, TypeVar, Union, get_args, get_origin

import orjson
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from app.services.text import control_character

T = TypeVar("T")


def one_of(*words: str) -> Any:
    """`Literal[*words]`: a schema's closed set of words, taken from the domain's enums
    (app.services.vocabulary), so that the OpenAPI schema lists them as it always has."""
    return Literal[words]


Code = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=2000, strip_whitespace=True)]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=20000, strip_whitespace=True)]


_SPACE_FOR_PLUS = re.compile(r"(.+T[0-9:.]+) ([0-9]{2}:?[0-9]{2})")


def _plus_restored(value: Any) -> Any:
    """An unencoded '+' in a query string arrives as a space: '…T08:00:00 08:00' means +08:00."""
    if isinstance(value, str) and (m := _SPACE_FOR_PLUS.fullmatch(value)):
        return f"{m[1]}+{m[2]}"
    return value


def _representable(value: datetime) -> datetime:
    """An instant the database can store: near the ends of the calendar an offset can push
    it out of range once converted to UTC."""
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range") from None
    return value


# RFC 3339's date-time (API.md "Times"): seconds and an offset required. Pydantic alone
# also takes Unix timestamps (1700000000, "1700000000.5") and other ISO 8601 forms.
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}"
    r"(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
RFC3339_HINT = "must be an RFC 3339 date-time with an offset, e.g. 2025-10-01T09:00:00+08:00"


def _rfc3339(value: Any) -> Any:
    if isinstance(value, datetime):  # built in code (pages' forms), not parsed from text
        return value
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError(RFC3339_HINT)
    return value


# An instant in a request body: RFC 3339 text only, and one the database can store.
Instant = Annotated[AwareDatetime, BeforeValidator(_rfc3339), AfterValidator(_representable)]
QueryInstant = Annotated[
    AwareDatetime, BeforeValidator(lambda v: _rfc3339(_plus_restored(v))), AfterValidator(_representable)
]


def _printable(value: Any) -> Any:
    texts = (
        [value]
        if isinstance(value, str)
        else ([v for v in value if isinstance(v, str)] if isinstance(value, list | tuple) else [])
    )
    for text in texts:
        problem = control_character(text)
        if problem is not None:
            raise ValueError(problem)
    return value


_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DAY_HINT = "must be a date as YYYY-MM-DD"


def _day(value: Any) -> Any:
    """A calendar date as ISO text (or built as a date in code); pydantic alone also reads
    numbers, and text of digits, as Unix timestamps (`0` -> 1970-01-01)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _DAY.fullmatch(value.strip()):
        raise ValueError(DAY_HINT)
    return value


# A date in a query string: YYYY-MM-DD only.
QueryDay = Annotated[date, BeforeValidator(_day)]


def _unwrap(annotation: Any) -> list[Any]:
    """The plain types an annotation admits (through Annotated and unions)."""
    if get_origin(annotation) is Annotated:
        return _unwrap(get_args(annotation)[0])
    if get_origin(annotation) in (Union, UnionType):
        return [t for arg in get_args(annotation) for t in _unwrap(arg)]
    return [annotation]


def _is_day(annotation: Any) -> bool:
    return date in _unwrap(annotation)


def _is_number(annotation: Any) -> bool:
    """int or float (or an optional or constrained one), not bool."""
    if get_origin(annotation) is Annotated:
        return _is_number(get_args(annotation)[0])
    if get_origin(annotation) in (Union, UnionType):
        return any(_is_number(arg) for arg in get_args(annotation))
    return annotation in (int, float)


# (model, field) -> (a number, a date): read from the annotation once, not per value.
_field_kinds: dict[tuple[type[BaseModel], str], tuple[bool, bool]] = {}


def _kinds(model: type[BaseModel], name: str) -> tuple[bool, bool]:
    field = model.model_fields.get(name)
    kinds = (False, False) if field is None else (_is_number(field.annotation), _is_day(field.annotation))
    _field_kinds[(model, name)] = kinds
    return kinds


class Strict(BaseModel):
    """A request body: no unknown fields, no control characters in any text, no
    true/false for a number (pydantic alone reads `false` as 0), and dates as YYYY-MM-DD
    (not `0` for 1970-01-01). Digits in text stay accepted for numbers: the pages
    validate their forms' text with these models."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        # Every field of every body passes here (intake's fifteen per ticket): walking the
        # annotations each time cost 0.04 ms of a ticket's validation, 3x the rest of it.
        name = info.field_name or ""
        number, day = _field_kinds.get((cls, name)) or _kinds(cls, name)
        if number and isinstance(value, bool):
            raise ValueError("must be a number, not true/false")
        if day and value is not None:
            return _day(value)
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        return _printable(value)


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null at the end")


class FieldProblem(BaseModel):
    field: str
    detail: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] | None = None


def problem_responses(*codes: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI entries for the problem responses an operation may give."""
    return {code: {"model": Problem, "content": {"application/problem+json": {}}} for code in codes}


def json_bytes(value: Any) -> bytes:
    """JSON as the response models would write it (a zero offset as `Z`), for the hot
    endpoints that serialize their trusted rows directly."""
    return orjson.dumps(value, option=orjson.OPT_UTC_Z)
