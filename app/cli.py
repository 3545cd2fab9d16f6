"""The `hotline` command: serve, migrate, keys, calendar."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from app.config import Settings, get_settings

if TYPE_CHECKING:
    from app.backup import Summary
    from app.migrate import Outcome
    from app.models import Account
    from app.services.context import Ctx
    from app.state import AppState

cli = typer.Typer(
    help="deputy-hotline: deputy tickets on the 12345 hotline.", no_args_is_help=True, add_completion=False
)
keys_cli = typer.Typer(help="API keys.", no_args_is_help=True)
accounts_cli = typer.Typer(help="People's accounts (sign-in to the pages).", no_args_is_help=True)
calendar_cli = typer.Typer(help="The working calendar.", no_args_is_help=True)
cli.add_typer(keys_cli, name="keys")
cli.add_typer(accounts_cli, name="accounts")
cli.add_typer(calendar_cli, name="calendar")


@contextmanager
def _guard() -> Iterator[None]:
    """A problem in the environment ends the command with one line on stderr, exit code 2."""
    from sqlalchemy.exc import SQLAlchemyError

    from app.migrate import MigrationLockTimeout
    from app.preflight import SetupError, unreachable

    try:
        yield
    except SetupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except MigrationLockTimeout as exc:  # another migrator: try again later (exit 1)
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except SQLAlchemyError as exc:
        url = os.environ.get("DATABASE_URL", "")
        with suppress(ValueError):
            url = get_settings().database_url
        typer.echo(f"error: {unreachable(url, exc)}", err=True)
        raise typer.Exit(2) from None


def _prepare(*, create: bool) -> tuple[Settings, Outcome]:
    """Settings checked, and the database brought to the latest migration (under the
    migration lock). Only `create` (migrate, serve) may make a new database; the other
    commands need the service's schema."""
    from app.migrate import upgrade
    from app.preflight import describe, require_schema, settings

    s = settings()
    if create:
        s.ensure_data_dir()
        typer.echo(f"database: {describe(s.database_url)}", err=True)
    else:
        require_schema(s.database_url)
    return s, upgrade(s.database_url)


@cli.command()
def migrate() -> None:
    """Apply pending database migrations (creating the database if need be)."""
    with _guard():
        outcome = _prepare(create=True)[1]
    if outcome.migrated:
        typer.echo(f"migrated the database from {outcome.before or 'empty'} to {outcome.after}")
    else:
        typer.echo(f"database is at migration {outcome.after}; nothing to do")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
) -> None:
    """Apply pending migrations, then serve the API with uvicorn."""
    import uvicorn

    from app.observability import configure_logging

    with _guard():
        settings = _prepare(create=True)[0]
    if not settings.admin_key:
        typer.echo(
            "warning: HOTLINE_ADMIN_KEY is not set, so no admin key works yet: set it "
            "(python3 -c 'import secrets; print(secrets.token_urlsafe(32))') or create "
            "one with `hotline keys create --role admin`",
            err=True,
        )
    typer.echo(f"serving on http://{host}:{port} (API docs at /docs)", err=True)
    configure_logging(settings.log_level)
    uvicorn.run(
        "app.main:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
    )


@cli.command()
def backup(path: Path) -> None:
    """Write a consistent copy of the database to PATH while the service keeps working."""
    from app.backup import BackupError
    from app.backup import backup as take_backup
    from app.preflight import require_schema, settings

    with _guard():
        url = settings().database_url
        require_schema(url)  # never a backup of an empty database made on the spot
    try:
        summary = take_backup(url, path)
    except BackupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(_described(summary, "wrote"))


@cli.command()
def restore(path: Path) -> None:
    """Restore the backup PATH into the (new, empty) database DATABASE_URL names."""
    from app.backup import BackupError
    from app.backup import restore as bring_back
    from app.preflight import settings

    with _guard():
        target = settings()
    target.ensure_data_dir()
    try:
        summary = bring_back(target.database_url, path)
    except BackupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(_described(summary, "restored") + "; `hotline serve` applies any newer migrations")


def _described(summary: Summary, verb: str) -> str:
    parts = [f"{verb} {summary.path} ({summary.size} bytes"]
    if summary.revision:
        parts.append(f"migration {summary.revision}")
    if summary.tickets >= 0:
        parts.append(f"{summary.tickets} tickets")
    return ", ".join(parts) + ")"


@contextmanager
def _open_state() -> Iterator[AppState]:
    """The app state over the service's existing database, brought to the latest migration
    (as `serve` does), its connections closed when the command is done."""
    from app.state import build_state

    with _guard():
        settings = _prepare(create=False)[0]
    state = build_state(settings)
    try:
        with _guard():
            yield state
    finally:
        state.db.dispose()


@keys_cli.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="admin, hotline, liaison, unit, deputy or station")],
    unit: Annotated[str | None, typer.Option(help="the unit code of a unit key")] = None,
    deputy: Annotated[str | None, typer.Option(help="the deputy id of a deputy key")] = None,
    station: Annotated[str | None, typer.Option(help="the station code of a station key")] = None,
    label: Annotated[str, typer.Option(help="who holds the key")] = "created by the CLI",
) -> None:
    """Issue a key and print it once."""
    from app.db import Transaction
    from app.errors import DomainError
    from app.services.registry import create_key

    with _open_state() as state:
        try:
            with Transaction(state.db.write_session) as session:
                key, plain = create_key(
                    session,
                    role=role,
                    unit_code=unit,
                    deputy_id=deputy,
                    station_code=station,
                    label=label,
                    now=state.clock.now(),
                )
        except DomainError as exc:
            typer.echo(f"error: {exc.detail}", err=True)
            raise typer.Exit(2) from None
        typer.echo(plain)


def _invite_base(state: AppState) -> str:
    base = state.settings.public_base_url
    if base is None:
        base = "http://127.0.0.1:8000"
        typer.echo(
            "note: HOTLINE_PUBLIC_BASE_URL is not set; the link below assumes the "
            "service at http://127.0.0.1:8000 (set it to the address people use)",
            err=True,
        )
    return base


def _account_command(work: Callable[[Ctx, str], tuple[Account, str | None]]) -> None:
    """Run an account use-case as the operator on the server (`cli`), print its link."""
    from app.db import Transaction
    from app.errors import DomainError
    from app.services.context import CLI

    with _open_state() as state:
        base = _invite_base(state)
        try:
            with Transaction(state.db.write_session) as session:
                account, link = work(state.ctx(session, CLI), base)
        except DomainError as exc:
            typer.echo(f"error: {exc.detail}", err=True)
            raise typer.Exit(2) from None
        if link is None:
            typer.echo(f"{account.username}: done")
            return
        assert account.invite_expires_at is not None
        until = account.invite_expires_at.astimezone(state.settings.tz).strftime("%Y-%m-%d %H:%M")
        typer.echo(
            f"{account.username} ({account.role}): give this one-time link to the "
            f"person, valid until {until}:"
        )
        typer.echo(link)


@accounts_cli.command("create")
def accounts_create(
    role: Annotated[str, typer.Option(help="admin, hotline, liaison, unit, deputy or station")],
    username: Annotated[str, typer.Option(help="what the person signs in with, e.g. li.ming")],
    name: Annotated[str, typer.Option(help="the person's name as shown, e.g. 李明")],
    unit: Annotated[str | None, typer.Option(help="the unit code of a unit account")] = None,
    deputy: Annotated[str | None, typer.Option(help="the deputy id of a deputy account")] = None,
    station: Annotated[str | None, typer.Option(help="the station code of a station account")] = None,
) -> None:
    """Create an account (e.g. a city's first admin) and print its invitation link."""
    from app.services import accounts

    data = accounts.AccountInput(
        username=username,
        display_name=name,
        role=role,
        unit_code=unit,
        deputy_id=deputy,
        station_code=station,
    )
    _account_command(lambda ctx, base: accounts.create_account(ctx, data, base_url=base))


@accounts_cli.command("invite")
def accounts_invite(username: str) -> None:
    """A new one-time link for an account (its old link, password and sessions end)."""
    from app.services import accounts

    _account_command(lambda ctx, base: accounts.reinvite(ctx, accounts.id_of(ctx, username), base_url=base))


@accounts_cli.command("disable")
def accounts_disable(username: str) -> None:
    """Disable an account: it can no longer sign in, and its sessions end at once."""
    from app.services import accounts

    _account_command(lambda ctx, _: (accounts.disable(ctx, accounts.id_of(ctx, username)), None))


@cli.command()
def purge(
    days: Annotated[
        int | None, typer.Option(min=1, help="erase after this many days instead of HOTLINE_VOTER_DATA_DAYS")
    ] = None,
) -> None:
    """Erase voters' names and phones on messages closed longer ago than
    HOTLINE_VOTER_DATA_DAYS (default 365); the scheduler does it hourly too."""
    from app.jobs.scheduler import run_purge_job
    from app.services.context import CLI
    from app.services.retention import cutoff

    with _open_state() as state:
        keep = days or state.settings.voter_data_days
        before = cutoff(state.clock.now(), keep).astimezone(state.settings.tz)
        n = run_purge_job(state, CLI, keep)
        typer.echo(
            f"erased voters' names and phones on {n} messages closed before "
            f"{before:%Y-%m-%d %H:%M} ({keep} days)"
        )


@calendar_cli.command("show")
def calendar_show(year: int) -> None:
    """Print a year's holidays and make-up working days as JSON (for a year not yet loaded:
    the statutory holidays its deadlines are reckoned on meanwhile, provisional)."""
    with _open_state() as state:
        with state.db.read_session() as session:
            cal = state.calendars.current(session)
            source = state.calendars.source(session, year)
        arr = cal.years.get(year)
        typer.echo(
            json.dumps(
                {
                    "year": year,
                    "source": source,
                    "holidays": sorted(d.isoformat() for d in cal.holidays_of(year)),
                    "workdays": sorted(d.isoformat() for d in arr.workdays) if arr else [],
                    "provisional": arr is None,
                },
                indent=2,
            )
        )


@calendar_cli.command("load")
def calendar_load(year: int, file: Path) -> None:
    """Load a year from a JSON file {"holidays": [...], "workdays": [...]}; recomputes deadlines."""
    from app.db import Transaction
    from app.errors import DomainError
    from app.services.calendar_changes import replace_year
    from app.services.context import CLI

    data = json.loads(file.read_text(encoding="utf-8"))
    with _open_state() as state:
        try:
            with Transaction(state.db.write_session) as session:
                ctx = state.ctx(session, CLI)
                n = replace_year(
                    ctx,
                    year=year,
                    holidays=[date.fromisoformat(d) for d in data.get("holidays", [])],
                    workdays=[date.fromisoformat(d) for d in data.get("workdays", [])],
                )
        except (DomainError, ValueError) as exc:
            typer.echo(f"error: {getattr(exc, 'detail', exc)}", err=True)
            raise typer.Exit(2) from None
        typer.echo(f"loaded {year}; recomputed {n} open clocks")


def main() -> None:
    cli()


# --- reports (月报, 年报, 代表履职) ------------------------------------------------------
report_cli = typer.Typer(help="Reports: monthly, annual, deputy participation.", no_args_is_help=True)
cli.add_typer(report_cli, name="report")

_ReportFormat = Annotated[str, typer.Option("--format", "-f", help="json, csv, xlsx or html")]
_ReportOut = Annotated[
    Path | None,
    typer.Option(
        "--output", "-o", help="file to write (default: stdout for json, report-<period>.<format> otherwise)"
    ),
]
_ReportMask = Annotated[
    bool, typer.Option("--mask/--no-mask", help="mask phone numbers in csv, xlsx and html")
]


def _report(kind: str, period: str, fmt: str, output: Path | None, mask: bool) -> None:
    import orjson

    from app.errors import DomainError
    from app.services import reports

    with _open_state() as state:
        try:
            fmt = reports.check_format(fmt)
            now, tz = state.clock.now(), state.settings.tz
            with state.db.read_session() as session:
                if kind == "deputies":
                    data = reports.deputies_report(session, period, now, tz)
                else:
                    builder = reports.monthly_report if kind == "monthly" else reports.annual_report
                    data = builder(session, period, now, tz, state.score_weights)
        except DomainError as exc:
            typer.echo(f"error: {exc.detail}", err=True)
            raise typer.Exit(2) from None
        if fmt == "json":
            body = orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)
            if output is None:
                typer.echo(body.decode())
                return
        else:
            body = reports.render(kind, data, fmt, mask=mask)
        if output is None:
            output = Path(f"{reports.title_of(kind, data)[1]}.{fmt}")
        output.write_bytes(body)
        typer.echo(f"wrote {output} ({len(body)} bytes)")


@report_cli.command("monthly")
def report_monthly(
    month: str,
    format: _ReportFormat = "json",
    output: _ReportOut = None,
    mask: _ReportMask = True,
) -> None:
    """The monthly report for MONTH (YYYY-MM)."""
    _report("monthly", month, format, output, mask)


@report_cli.command("annual")
def report_annual(
    year: str,
    format: _ReportFormat = "json",
    output: _ReportOut = None,
    mask: _ReportMask = True,
) -> None:
    """The annual report for YEAR (YYYY), with month-by-month totals."""
    _report("annual", year, format, output, mask)


@report_cli.command("deputies")
def report_deputies(
    year: str,
    format: _ReportFormat = "json",
    output: _ReportOut = None,
    mask: _ReportMask = True,
) -> None:
    """Deputy participation in YEAR (YYYY): calls, problems, points, silent deputies."""
    _report("deputies", year, format, output, mask)


@cli.command("seed-demo")
def seed_demo(
    history: Annotated[bool, typer.Option(help="also tell a year of tickets up to today")] = True,
    days: Annotated[int, typer.Option(min=1, max=3650, help="days of history")] = 365,
) -> None:
    """Load the sample city (Yiyang's units, categories, districts, 300 invented deputies) and a
    year of tickets handled through the service's own rules, so every report shows figures.
    Safe to run again: the registry is updated, the history is told once."""
    from app import demo

    with _open_state() as state:
        reg, result = demo.load_registry(state)
        typer.echo(
            f"sample city loaded: units, categories, districts; deputies created "
            f"{result.created}, updated {result.updated}"
        )
        if not history:
            return
        told = demo.load_history(state, reg, days=days)
        if told is None:
            typer.echo(f"history already loaded ({demo.demo_tickets(state)} demo tickets); nothing added")
            return
        for line in demo.summary(told):
            typer.echo(line)
