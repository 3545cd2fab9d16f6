"""`hotline report`: the monthly, annual and deputy-participation reports, as JSON, CSV, XLSX or HTML."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import open_state

cli = typer.Typer(help="Reports: monthly, annual, deputy participation.", no_args_is_help=True)

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

    with open_state() as state:
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


@cli.command("monthly")
def report_monthly(
    month: str,
    format: _ReportFormat = "json",
    output: _ReportOut = None,
    mask: _ReportMask = True,
) -> None:
    """The monthly report for MONTH (YYYY-MM)."""
    _report("monthly", month, format, output, mask)


@cli.command("annual")
def report_annual(
    year: str,
    format: _ReportFormat = "json",
    output: _ReportOut = None,
    mask: _ReportMask = True,
) -> None:
    """The annual report for YEAR (YYYY), with month-by-month totals."""
    _report("annual", year, format, output, mask)


@cli.command("deputies")
def report_deputies(
    year: str,
    format: _ReportFormat = "json",
    output: _ReportOut = None,
    mask: _ReportMask = True,
) -> None:
    """Deputy participation in YEAR (YYYY): calls, problems, points, silent deputies."""
    _report("deputies", year, format, output, mask)
