"""The `hotline` command against the test database."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.config import get_settings


@pytest.fixture
def run(db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield lambda *args: CliRunner().invoke(cli, list(args))
    get_settings.cache_clear()


def test_seed_demo_loads_the_sample_city_and_can_run_again(run, api):
    first = run("seed-demo", "--no-history")  # the history: tests/integration/test_first_hour
    assert first.exit_code == 0, first.output
    assert "deputies created 300" in first.output and "history" not in first.output
    again = run("seed-demo", "--no-history")
    assert "created 0, updated 300" in again.output
    units = {u["code"]: u for u in api.get("/api/v1/units").json()}
    assert units["heshan-congress"]["kind"] == "district_congress"
    assert "datonghu-congress" not in units  # on purpose: its local cases go to the liaison
    assert api.get("/api/v1/deputies?phone=13800000001", "liaison").json()["items"][0]["level"] == "national"


def test_keys_create_prints_a_working_key_once(run, api):
    result = run("keys", "create", "--role", "liaison", "--label", "联工委")
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert key.startswith("dhk_")
    r = api.client.get("/api/v1/units", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200
    bad = run("keys", "create", "--role", "unit")
    assert bad.exit_code == 2 and "must name its unit" in bad.output


def test_calendar_show_prints_the_builtin_year(run):
    result = run("calendar", "show", "2026")
    assert result.exit_code == 0, result.output
    assert '"source": "builtin"' in result.output and "2026-02-14" in result.output


def test_calendar_show_of_an_unpublished_year_prints_its_statutory_holidays(run):
    # The CLI reads the package's data: pick a year no package will know for decades.
    result = run("calendar", "show", "2100")
    assert result.exit_code == 0, result.output
    assert '"source": "none"' in result.output and '"provisional": true' in result.output
    assert '"2100-01-01"' in result.output and '"2100-10-03"' in result.output
