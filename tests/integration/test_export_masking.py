"""Phones are masked in every export by default: each report (monthly, annual, deputies,
points) in each file format (CSV, XLSX, HTML), whether fetched from the API, downloaded
from the pages or written by `hotline report`; in the phone columns and in any text where someone
typed a number (a caller recorded as 张先生13912345678). Only an explicit `mask=false`
(the liaison committee's and the administrator's, issue #6) shows whole numbers."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from app.cli import cli
from app.config import get_settings
from tests.builders import person
from tests.conftest import Snapshots
from tests.integration.test_report_readers import named_city
from tests.integration.test_reports import generate

WHOLE_MOBILE = re.compile(r"(?<!\d)1\d{10}(?!\d)")
TYPED = "13912345678"  # a number typed into a name, not a phone field
PAGE_REPORTS = {"monthly": "month=2025-10", "annual": "year=2025", "deputies": "year=2025"}
REPORTS = {**PAGE_REPORTS, "points": "year=2025"}
FORMATS = ("csv", "xlsx", "html")


@pytest.fixture
def october(api: Any, db_url: str, snapshot: Snapshots) -> Any:
    def build() -> None:
        named_city(api)
        api.set_now("2025-11-20 10:00")
        generate(api, 60)
        api.sweep()
        engine = create_engine(db_url)
        with engine.begin() as conn:  # as an operator might have typed it
            conn.execute(text("UPDATE tickets SET caller_name = :n"), {"n": f"张先生{TYPED}"})
            conn.execute(text("UPDATE deputies SET delegation = :n"), {"n": f"赫山代表团 {TYPED}"})
        engine.dispose()

    snapshot("export_masking.october", api, build)  # built once, written back for each test
    return api


def texts_of(body: bytes, fmt: str) -> str:
    """Everything a reader of the file sees, as one text."""
    if fmt == "xlsx":
        wb = load_workbook(io.BytesIO(body))
        return "\n".join(
            str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None
        )
    return body.decode("utf-8-sig")


def whole_numbers(seen: str) -> list[str]:
    return WHOLE_MOBILE.findall(seen)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", REPORTS)
def test_api_exports_mask_every_phone_by_default(october, kind, fmt):
    api = october
    path = f"/api/v1/reports/{kind}?{REPORTS[kind]}&format={fmt}"
    for who in ("liaison", "admin"):
        r = api.get(path, who)
        assert r.status_code == 200, r.text[:300]
        seen = texts_of(r.content, fmt)
        assert not whole_numbers(seen), whole_numbers(seen)[:5]
        assert "****" in seen  # the numbers are there, masked
    # Only when asked, explicitly: the whole numbers, typed ones included.
    r = api.get(path + "&mask=false", "liaison")
    assert r.status_code == 200
    seen = texts_of(r.content, fmt)
    assert whole_numbers(seen)
    assert TYPED in seen or kind == "points"  # its tables carry no name a number was typed in


@pytest.mark.parametrize("kind", PAGE_REPORTS)
def test_typed_numbers_in_names_are_masked_too(october, kind):
    api = october
    seen = texts_of(api.get(f"/api/v1/reports/{kind}?{REPORTS[kind]}&format=csv", "liaison").content, "csv")
    assert "139****5678" in seen and TYPED not in seen
    unmasked = texts_of(
        api.get(f"/api/v1/reports/{kind}?{REPORTS[kind]}&format=csv&mask=false", "liaison").content, "csv"
    )
    assert TYPED in unmasked


def test_identifiers_that_look_like_phones_are_left_alone(api):
    """A hotline number is an identifier: masking it would lose the ticket."""
    named_city(api)
    api.set_now("2025-11-20 10:00")
    t = api.ticket(
        hotline_no="13000000000",
        called_at=api.at("2025-10-08 10:00"),
        dispatched_at=api.at("2025-10-08 10:00"),
    )
    assert t["hotline_no"] == "13000000000"
    api.sweep()
    seen = texts_of(api.get("/api/v1/reports/monthly?month=2025-10&format=csv", "liaison").content, "csv")
    assert "13000000000" in seen  # listed as overdue, by its number
    assert "138****0001" in seen and "13800000001" not in seen


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", PAGE_REPORTS)
def test_the_pages_downloads_are_masked(october, kind, fmt):
    api = october
    staff = person(api, "li.lianluo", "liaison")
    period = PAGE_REPORTS[kind].split("=")[1]
    r = staff.get(f"/ui/reports/{kind}?period={period}&format={fmt}")
    assert r.status_code == 200, r.text[:300]
    seen = texts_of(r.content, fmt)
    assert not whole_numbers(seen) and "****" in seen
    # The pages offer no way round it.
    r = staff.get(f"/ui/reports/{kind}?period={period}&format={fmt}&mask=false")
    assert not whole_numbers(texts_of(r.content, fmt))


@pytest.mark.parametrize("fmt", FORMATS)
def test_hotline_report_writes_masked_files_unless_told_otherwise(
    october, db_url, monkeypatch, tmp_path, fmt
):
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        for kind, period in (("monthly", "2025-10"), ("deputies", "2025")):
            out = tmp_path / f"{kind}.{fmt}"
            result = CliRunner().invoke(cli, ["report", kind, period, "--format", fmt, "--output", str(out)])
            assert result.exit_code == 0, result.output
            seen = texts_of(out.read_bytes(), fmt)
            assert not whole_numbers(seen) and "****" in seen
            result = CliRunner().invoke(
                cli, ["report", kind, period, "--format", fmt, "--output", str(out), "--no-mask"]
            )
            assert result.exit_code == 0, result.output
            assert whole_numbers(texts_of(out.read_bytes(), fmt))
    finally:
        get_settings.cache_clear()
