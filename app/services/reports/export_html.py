"""A printable HTML page in Chinese: the tables, inline SVG bar charts of the per-unit
score and rates, and the lines saying which cohort each count counts.

Printed from a browser on A4: narrow tables on portrait pages, wide ones (named
page `wide`) on landscape pages, so no column is squeezed; header rows repeat on
each page. Names, not codes (codes are for the CSV and XLSX that machines read).
Self-contained: no scripts, fonts or images from elsewhere; stored text cleaned
and escaped.
"""

from __future__ import annotations

from html import escape
from typing import Any

from app.services.reports.cells import clean
from app.services.reports.tables import NUMERIC, Table, cell_text, row_kind

CSS = """
@page { size: A4; margin: 14mm 12mm; }
@page wide { size: A4 landscape; margin: 12mm 12mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC",
       "SimSun", sans-serif; font-size: 10.5pt; color: #111; margin: 0 auto; max-width: 277mm;
       padding: 8mm 4mm; line-height: 1.4; }
h1 { font-size: 18pt; text-align: center; margin: 0 0 2mm; }
.sub { text-align: center; color: #444; margin-bottom: 6mm; }
h2 { font-size: 13pt; border-left: 4px solid #b22222; padding-left: 2mm; margin: 6mm 0 2mm;
     break-after: avoid; }
p.note { color: #444; font-size: 9pt; margin: 1mm 0 2mm; }
.scroll { overflow-x: auto; }
table { width: 100%; border-collapse: collapse; font-size: 9pt; margin-bottom: 2mm; }
table.small { width: auto; min-width: 110mm; }
th, td { border: 0.5pt solid #777; padding: 0.8mm 1.2mm; text-align: left; vertical-align: top; }
th { background: #eef3f8; font-weight: 600; white-space: nowrap; }
/* A long stored word wraps rather than widening the table past the page; each kind of
   column keeps a width it is never squeezed below. */
td { overflow-wrap: anywhere; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.dt { white-space: nowrap; }
td.name { min-width: 24mm; }
td.id { min-width: 19mm; }
td.person { min-width: 10mm; }
td.short { min-width: 11mm; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
ul.legend { margin: 0 0 3mm; padding-left: 4mm; color: #444; font-size: 8pt; }
ul.legend li { margin: 0; }
.charts { display: flex; flex-wrap: wrap; gap: 3mm 6mm; }
.chart { width: calc(50% - 3mm); break-inside: avoid; }
.chart h3 { font-size: 10pt; margin: 1mm 0; }
.empty { color: #777; }
@media print {
  body { padding: 0; max-width: none; }
  .scroll { overflow: visible; }
  section.wide { page: wide; }
  section.wide table { font-size: 8pt; }
  section.portrait { page: auto; }
  a { color: inherit; text-decoration: none; }
}
"""

# (key, title, colour, scale): what the charts after the per-unit table draw.
CHARTS = [
    ("score", "得分", "#7030a0", 100.0),
    ("contact_on_time_rate", "联系代表及时率", "#4472c4", 1.0),
    ("resolve_on_time_rate", "办结及时率", "#ed7d31", 1.0),
    ("feedback_on_time_rate", "反馈及时率", "#70ad47", 1.0),
    ("satisfaction_rate", "满意率", "#b22222", 1.0),
]
# The width class of a text column: never squeezed below what its values need.
WIDTHS = {
    **dict.fromkeys(("name", "unit_name", "category_name", "district_name"), "name"),
    **dict.fromkeys(("hotline_no", "caller_phone", "phone"), "id"),
    **dict.fromkeys(("deputy_name", "caller_name"), "person"),
    **dict.fromkeys(("urgency", "status", "rating", "level", "month", "round"), "short"),
}


def _text(value: str) -> str:
    return escape(clean(value))


def bar_chart(rows: list[dict[str, Any]], key: str, color: str, scale: float = 1.0) -> str:
    """A horizontal bar per unit with a measured value, on a 0..scale axis."""
    data = [
        (clean(str(r.get("name") or r.get("unit") or "（未分派）")), float(r[key]) / scale)
        for r in rows
        if r.get(key) is not None
    ]
    if not data:
        return '<p class="empty">本期无可计量数据</p>'
    label_w, bar_w, row_h = 150, 200, 18
    height = row_h * len(data) + 22
    width = label_w + bar_w + 50
    ticks = (0, 50, 100)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 {width} '
        f'{height}" role="img" font-size="10">'
    ]
    for pct in ticks:
        x = label_w + bar_w * pct / 100
        tick = f"{pct}" if scale != 1.0 else f"{pct}%"
        parts.append(
            f'<line x1="{x}" y1="0" x2="{x}" y2="{height - 14}" stroke="#ccc" '
            f'stroke-width="0.5"/><text x="{x}" y="{height - 3}" '
            f'text-anchor="middle" fill="#555">{tick}</text>'
        )
    for i, (name, value) in enumerate(data):
        y = i * row_h + 3
        label = name if len(name) <= 12 else name[:11] + "…"
        w = max(bar_w * value, 0.5)
        shown = f"{value * scale:.1f}" if scale != 1.0 else f"{value * 100:.1f}%"
        parts.append(
            f'<text x="{label_w - 4}" y="{y + 11}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{row_h - 6}" fill="{color}">'
            f"<title>{escape(name)} {shown}</title></rect>"
            f'<text x="{label_w + w + 3:.1f}" y="{y + 11}">{shown}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _cell_class(key: str, kind: str) -> str:
    if kind in NUMERIC:
        return ' class="n"'
    if kind == "dt":
        return ' class="dt"'
    return f' class="{WIDTHS[key]}"' if key in WIDTHS else ""


def _shapes(tables: list[Table]) -> list[str]:
    """Each section's page: landscape (`wide`) for wide tables, portrait otherwise; a small
    table (a few columns) joins its neighbours' pages rather than forcing a page break."""
    own = [("wide" if t.wide else "portrait") if len(t.shown(codes=False)) > 4 else None for t in tables]
    shapes, last = [], next((x for x in own if x), "portrait")
    for shape in own:
        last = shape or last
        shapes.append(last)
    return shapes


def _legend(t: Table, seen: dict[tuple[str, ...], str]) -> str:
    """The table's cohort lines; a legend already printed is referred to, not repeated."""
    if not t.legend:
        return ""
    lines = tuple(t.legend)
    if lines in seen:
        lines = (f"各项口径同“{seen[lines]}”表的说明",)
    else:
        seen[lines] = t.title
    return '<ul class="legend">' + "".join(f"<li>{_text(x)}</li>" for x in lines) + "</ul>"


def _table(t: Table, shape: str, legend: str, lead: str = "") -> str:
    columns = t.shown(codes=False)
    head = "".join(f"<th>{_text(h)}</th>" for h, _, _ in columns)
    body = []
    for row in t.rows:
        cells = []
        for _, key, kind in columns:
            k = row_kind(row, kind)
            cells.append(f"<td{_cell_class(key, k)}>{_text(cell_text(row.get(key), k))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    if not body:
        body.append(f'<tr><td class="empty" colspan="{len(columns)}">（无）</td></tr>')
    note = f'<p class="note">{_text(t.note)}</p>' if t.note else ""
    charts = _charts(t) if t.chart else ""
    small = ' class="small"' if len(columns) <= 4 else ""
    return (
        f'<section id="{t.key}" class="{shape}">{lead}<h2>{_text(t.title)}</h2>{note}'
        f'<div class="scroll"><table{small}><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>{legend}{charts}</section>"
    )


def _charts(t: Table) -> str:
    charts = "".join(
        f'<div class="chart"><h3>{escape(label)}</h3>{bar_chart(t.rows, key, color, scale)}</div>'
        for key, label, color, scale in CHARTS
    )
    return f'<h2 id="charts">各承办单位得分与比率</h2><div class="charts">{charts}</div>'


def render(title: str, subtitle: str, tables: list[Table]) -> bytes:
    # The title opens the first section, so that it prints on that section's page.
    head = f'<h1>{_text(title)}</h1><div class="sub">{_text(subtitle)}</div>'
    seen: dict[tuple[str, ...], str] = {}
    sections = "".join(
        _table(t, shape, _legend(t, seen), head if i == 0 else "")
        for i, (t, shape) in enumerate(zip(tables, _shapes(tables), strict=True))
    )
    page = (
        f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_text(title)}</title><style>{CSS}</style></head><body>"
        + (sections or head)
        + "</body></html>"
    )
    return page.encode("utf-8")
