"""CSV: UTF-8 with a BOM (so Excel reads the Chinese), one titled section per table."""

from __future__ import annotations

import csv
import io

from app.services.reports.tables import Table, cell_text, row_kind


def render(title: str, tables: list[Table]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([title])
    for t in tables:
        w.writerow([])
        w.writerow([f"【{t.title}】"] + ([t.note] if t.note else []))
        w.writerow([h for h, _, _ in t.columns])
        for row in t.rows:
            w.writerow([cell_text(row.get(key), row_kind(row, kind)) for _, key, kind in t.columns])
        if not t.rows:
            w.writerow(["（无）"])
    return buf.getvalue().encode("utf-8-sig")
