"""XLSX: one sheet per table, as a reader prints it.

Each sheet has a title row and the cut-off under it, the column headers (repeated on
every printed page), the rows, then the lines saying which cohort each count counts.
Print set-up: A4, landscape for wide tables, fitted to the page width. The per-unit
rates are also drawn as Excel bar charts on a sheet of their own, over the per-unit
sheet's cells. Stored text goes through `cells`: no control character reaches the
XML (openpyxl would refuse it), and no text cell becomes a formula.
"""

from __future__ import annotations

import io
import math
import re
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from app.services.reports.cells import clean, is_formula_like
from app.services.reports.tables import Table, cell_text, row_kind

_BAD = re.compile(r"[\[\]:*?/\\]")
PCT = "0.0%"
SCORE = "0.0"
DT = "yyyy-mm-dd hh:mm"
TITLE_ROW, SUB_ROW, HEAD_ROW = 1, 2, 3
PAGE_CM = 18.0  # the height a landscape A4 page prints, in cm (within its margins)
CHART_RATES = [
    ("score", "得分"),
    ("resolve_on_time_rate", "办结及时率"),
    ("contact_on_time_rate", "联系代表及时率"),
    ("feedback_on_time_rate", "反馈及时率"),
    ("satisfaction_rate", "满意率"),
]
_thin = Side(style="thin", color="999999")
BORDER = Border(left=_thin, right=_thin, top=_thin, bottom=_thin)


def _width(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _cell(value: Any, kind: str) -> tuple[Any, str | None]:
    if value is None:
        return None, None
    if kind == "pct" or (kind == "num" and isinstance(value, float)):
        return float(value), PCT
    if kind == "score":
        return float(value), SCORE
    if isinstance(value, datetime):
        return value.replace(tzinfo=None), DT  # already local time
    if kind in ("int", "num"):
        return value, None
    return clean(str(value)), None


def _put(ws: Worksheet, row: int, column: int, value: Any) -> Cell:
    """Write a value; text that a spreadsheet would read as a formula stays text."""
    cell = ws.cell(row=row, column=column, value=value)
    if isinstance(value, str) and is_formula_like(value):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def _banner(ws: Worksheet, row: int, text: str, ncols: int, font: Font, width: int) -> None:
    """A line of text across the table's width, wrapped, its row tall enough to show it."""
    _put(ws, row, 1, clean(text)).font = font
    if ncols > 1:
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=ncols)
    ws.cell(row=row, column=1).alignment = Alignment(wrap_text=True, vertical="top")
    lines = max(1, math.ceil(_width(text) / max(width, 1)))
    ws.row_dimensions[row].height = max(font.sz or 11, 11) * 1.45 * lines


def _sheet(wb: Workbook, t: Table, name: str, title: str, subtitle: str) -> Worksheet:
    ws = wb.create_sheet(name)
    columns = t.shown(codes=True)
    widths = [_width(h) for h, _, _ in columns]
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    for i, (header, _, _) in enumerate(columns, start=1):
        cell = _put(ws, HEAD_ROW, i, header)
        cell.font, cell.fill, cell.border = bold, fill, BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    row_no = HEAD_ROW
    for row in t.rows:
        row_no += 1
        for i, (_, key, kind) in enumerate(columns, start=1):
            k = row_kind(row, kind)
            value, fmt = _cell(row.get(key), k)
            cell = _put(ws, row_no, i, value)
            cell.border = BORDER
            if fmt:
                cell.number_format = fmt
            if isinstance(value, str):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            widths[i - 1] = max(widths[i - 1], _width(clean(cell_text(row.get(key), k))))
    if not t.rows:
        row_no += 1
        _put(ws, row_no, 1, "（无）")
    col_widths = [min(max(w + 2, 8), 40) for w in widths]
    for i, w in enumerate(col_widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    total = sum(col_widths)
    _banner(ws, TITLE_ROW, f"{title} · {t.title}", len(columns), Font(bold=True, sz=14), total)
    _banner(
        ws,
        SUB_ROW,
        "；".join(x for x in (subtitle, t.note) if x),
        len(columns),
        Font(sz=10, color="444444"),
        total,
    )
    row_no += 1
    for line in t.legend:
        row_no += 1
        _banner(ws, row_no, f"说明：{line}", len(columns), Font(sz=9, color="444444"), total)
    ws.freeze_panes = ws.cell(row=HEAD_ROW + 1, column=1)
    _print_setup(ws, landscape=t.wide)
    ws.print_title_rows = f"{HEAD_ROW}:{HEAD_ROW}"
    return ws


def _print_setup(ws: Worksheet, *, landscape: bool) -> None:
    """A4, fitted to the page width (as many pages down as it takes), numbered."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"


def _charts(wb: Workbook, data: Worksheet, t: Table, title: str) -> None:
    """One horizontal bar chart per rate (and the score), over the per-unit sheet's cells."""
    columns = t.shown(codes=True)
    keys = [key for _, key, _ in columns]
    n = len(t.rows)
    if n == 0 or "name" not in keys:
        return
    ws = wb.create_sheet(_sheet_name(f"{t.title}图表", set(wb.sheetnames)))
    _put(ws, 1, 1, f"{title} · 各承办单位得分与比率（图）").font = Font(bold=True, sz=14)
    names = Reference(data, min_col=keys.index("name") + 1, min_row=HEAD_ROW + 1, max_row=HEAD_ROW + n)
    height = max(6.0, 0.55 * n + 2.5)  # cm: a readable bar per unit
    rows_per_chart = math.ceil(height / 0.5) + 2
    for i, (key, label) in enumerate(r for r in CHART_RATES if r[0] in keys):
        col = keys.index(key) + 1
        chart = BarChart()
        chart.type, chart.style, chart.title = "bar", 10, label
        chart.y_axis.scaling.min = 0
        chart.y_axis.scaling.max = 100 if key == "score" else 1
        chart.y_axis.numFmt = "0" if key == "score" else "0%"
        chart.y_axis.majorGridlines = None
        chart.x_axis.scaling.orientation = "maxMin"  # the first unit on top, as in the table
        chart.y_axis.crosses = "max"  # and the value axis below the bars, where it is read
        chart.legend = None
        chart.height, chart.width = height, 16
        chart.add_data(
            Reference(data, min_col=col, min_row=HEAD_ROW, max_row=HEAD_ROW + n), titles_from_data=True
        )
        chart.set_categories(names)
        anchor_col = "A" if i % 2 == 0 else "K"
        top = 3 + (i // 2) * rows_per_chart
        ws.add_chart(chart, f"{anchor_col}{top}")
        # Two charts a row; a new page before a row that would not fit under the last.
        if i % 2 == 0 and i and (i // 2) % max(1, int(PAGE_CM // (height + 1))) == 0:
            ws.row_breaks.append(Break(id=top - 1))
    _print_setup(ws, landscape=True)


def _sheet_name(title: str, used: set[str]) -> str:
    name = _BAD.sub("", title)[:31] or "sheet"
    while name in used:
        name = name[:28] + f"_{len(used)}"
    return name


def render(title: str, tables: list[Table], subtitle: str = "") -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for t in tables:
        ws = _sheet(wb, t, _sheet_name(t.title, set(wb.sheetnames)), title, subtitle)
        if t.chart:
            _charts(wb, ws, t, title)
    wb.properties.title = clean(title)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
