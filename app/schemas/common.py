"""Shared pieces: list pages, problems, bounded strings."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

import orjson
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

T = TypeVar("T")

Code = Annotated[str, StringConstraints(min_length=1, max_length=64,
                                        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=2000,
                                             strip_whitespace=True)]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=20000,
                                            strip_whitespace=True)]


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


QueryInstant = Annotated[AwareDatetime, BeforeValidator(_plus_restored),
                         AfterValidator(_representable)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


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
    return {
        code: {"model": Problem, "content": {"application/problem+json": {}}}
        for code in codes
    }


def json_bytes(value: Any) -> bytes:
    """JSON as the response models would write it (a zero offset as `Z`), for the hot
    endpoints that serialize their trusted rows directly."""
    return orjson.dumps(value, option=orjson.OPT_UTC_Z)
