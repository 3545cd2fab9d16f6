"""XLSX: one sheet per table, Chinese headers, fitted column widths, rates as percentages."""

from __future__ import annotations

import io
import re
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from app.services.reports.tables import Table, cell_text, row_kind

_BAD = re.compile(r"[\[\]:*?/\\]")
PCT = "0.0%"
DT = "yyyy-mm-dd hh:mm"


def _width(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _cell(value: Any, kind: str) -> tuple[Any, str | None]:
    if value is None:
        return None, None
    if kind == "pct" or (kind == "num" and isinstance(value, float)):
        return float(value), PCT
    if isinstance(value, datetime):
        return value.replace(tzinfo=None), DT  # already local time
    if kind in ("int", "num"):
        return value, None
    return str(value), None


def render(title: str, tables: list[Table]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    used: set[str] = set()
    for t in tables:
        name = _BAD.sub("", t.title)[:31] or t.key
        while name in used:
            name = name[:28] + f"_{len(used)}"
        used.add(name)
        ws = wb.create_sheet(name)
        widths = [_width(h) for h, _, _ in t.columns]
        ws.append([h for h, _, _ in t.columns])
        for cell in ws[1]:
            cell.font, cell.fill = bold, fill
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        for row in t.rows:
            values = []
            formats = []
            for i, (_, key, kind) in enumerate(t.columns):
                k = row_kind(row, kind)
                v, fmt = _cell(row.get(key), k)
                values.append(v)
                formats.append(fmt)
                widths[i] = max(widths[i], _width(cell_text(row.get(key), k)))
            ws.append(values)
            for cell, fmt in zip(ws[ws.max_row], formats, strict=True):
                if fmt:
                    cell.number_format = fmt
        for i, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = min(max(w + 2, 8), 60)
        ws.freeze_panes = "A2"
        if t.note:
            ws.cell(row=ws.max_row + 2, column=1, value=f"注：{t.note}")
    wb.properties.title = title
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
