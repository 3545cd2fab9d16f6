"""CSV: UTF-8 with a BOM (so Excel reads the Chinese), one titled section per table.

Codes stand beside their Chinese names (a machine reads CSV too); each section ends
with the lines saying which cohort each count counts. Every text cell goes through
`cells.csv_text`: no control character, no formula."""

from __future__ import annotations

import csv
import io

from app.services.reports.cells import csv_text
from app.services.reports.tables import NUMERIC, Table, cell_text, row_kind


def render(title: str, tables: list[Table], subtitle: str = "") -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([csv_text(title)])
    if subtitle:
        w.writerow([csv_text(subtitle)])
    for t in tables:
        columns = t.shown(codes=True)
        w.writerow([])
        w.writerow([csv_text(f"【{t.title}】")] + ([csv_text(t.note)] if t.note else []))
        w.writerow([csv_text(h) for h, _, _ in columns])
        for row in t.rows:
            cells = []
            for _, key, kind in columns:
                k = row_kind(row, kind)
                text = cell_text(row.get(key), k)
                # Figures are the service's own numbers; every other cell is stored text.
                cells.append(text if k in NUMERIC else csv_text(text))
            w.writerow(cells)
        if not t.rows:
            w.writerow(["（无）"])
        for line in t.legend:
            w.writerow([csv_text(f"说明：{line}")])
    return buf.getvalue().encode("utf-8-sig")
