"""The baseline of bench/messages.py: a bare FastAPI form handler that validates a message
and inserts one row, with nothing else (no token, no limits, no clock, no log)."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import Column, DateTime, MetaData, String, Table, Text, create_engine, insert

engine = create_engine(os.environ["DATABASE_URL"], pool_size=10)
meta = MetaData()
bare = Table(
    "bare_messages",
    meta,
    Column("id", String(36), primary_key=True),
    Column("content", Text),
    Column("name", String(50)),
    Column("phone", String(32)),
    Column("received_at", DateTime(timezone=True)),
)
meta.create_all(engine)
app = FastAPI()


class Body(BaseModel):
    content: str = Field(min_length=1, max_length=2000)
    name: str | None = Field(default=None, max_length=50)
    phone: str = Field(pattern=r"^[0-9]{5,20}$")


@app.post("/form")
async def form(request: Request) -> Response:
    # Parsed as the service parses its forms (urlencoded; no python-multipart here either).
    fields = dict(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True))
    try:
        body = Body(
            content=fields.get("content", ""), name=fields.get("name") or None, phone=fields.get("phone", "")
        )
    except ValidationError:
        return Response(status_code=422)
    return await run_in_threadpool(_insert, body)


def _insert(body: Body) -> Response:
    with engine.begin() as conn:
        conn.execute(
            insert(bare).values(
                id=str(uuid.uuid4()),
                content=body.content,
                name=body.name,
                phone=body.phone,
                received_at=datetime.now(UTC),
            )
        )
    return RedirectResponse("/done", status_code=303)


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
