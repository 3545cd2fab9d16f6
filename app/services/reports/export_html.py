"""A printable HTML page in Chinese: A4 print CSS, the tables, and inline SVG bar charts
of the per-unit rates. Self-contained: no scripts, fonts or images from elsewhere."""

from __future__ import annotations

from html import escape
from typing import Any

from app.services.reports.tables import Table, cell_text, row_kind

CSS = """
@page { size: A4; margin: 15mm 12mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC",
       "SimSun", sans-serif; font-size: 10.5pt; color: #111; margin: 0 auto; max-width: 190mm;
       padding: 8mm 0; }
h1 { font-size: 18pt; text-align: center; margin: 0 0 2mm; }
.sub { text-align: center; color: #444; margin-bottom: 6mm; }
h2 { font-size: 13pt; border-left: 4px solid #b22222; padding-left: 2mm; margin: 7mm 0 2mm;
     break-after: avoid; }
p.note { color: #555; font-size: 9pt; margin: 1mm 0 2mm; }
table { width: 100%; border-collapse: collapse; font-size: 9pt; margin-bottom: 3mm; }
th, td { border: 0.5pt solid #777; padding: 1mm 1.5mm; text-align: left; vertical-align: top; }
th { background: #eef3f8; font-weight: 600; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
.charts { display: flex; flex-wrap: wrap; gap: 4mm; }
.chart { width: calc(50% - 2mm); break-inside: avoid; }
.chart h3 { font-size: 10pt; margin: 1mm 0; }
.empty { color: #777; }
@media print { body { padding: 0; } a { color: inherit; text-decoration: none; } }
"""

RATES = [("contact_on_time_rate", "联系代表及时率", "#4472c4"),
         ("resolve_on_time_rate", "办结及时率", "#ed7d31"),
         ("feedback_on_time_rate", "反馈及时率", "#70ad47"),
         ("satisfaction_rate", "满意率", "#b22222")]


def bar_chart(rows: list[dict[str, Any]], key: str, color: str) -> str:
    """A horizontal bar per unit with a measured rate; 0..100% scale."""
    data = [(r.get("name") or r.get("unit") or "（未分派）", r[key]) for r in rows
            if r.get(key) is not None]
    if not data:
        return '<p class="empty">本期无可计量数据</p>'
    label_w, bar_w, row_h = 150, 200, 18
    height = row_h * len(data) + 22
    width = label_w + bar_w + 50
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 {width} '
             f'{height}" role="img" font-size="10">']
    for pct in (0, 50, 100):
        x = label_w + bar_w * pct / 100
        parts.append(f'<line x1="{x}" y1="0" x2="{x}" y2="{height - 14}" stroke="#ccc" '
                     f'stroke-width="0.5"/><text x="{x}" y="{height - 3}" '
                     f'text-anchor="middle" fill="#555">{pct}%</text>')
    for i, (name, value) in enumerate(data):
        y = i * row_h + 3
        label = name if len(name) <= 12 else name[:11] + "…"
        w = max(bar_w * float(value), 0.5)
        parts.append(
            f'<text x="{label_w - 4}" y="{y + 11}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{row_h - 6}" fill="{color}">'
            f'<title>{escape(name)} {value * 100:.1f}%</title></rect>'
            f'<text x="{label_w + w + 3:.1f}" y="{y + 11}">{value * 100:.1f}%</text>')
    parts.append("</svg>")
    return "".join(parts)


def _table(t: Table) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h, _, _ in t.columns)
    body = []
    for row in t.rows:
        cells = []
        for _, key, kind in t.columns:
            k = row_kind(row, kind)
            cls = ' class="n"' if k in ("int", "pct", "num") else ""
            cells.append(f"<td{cls}>{escape(cell_text(row.get(key), k))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    if not body:
        body.append(f'<tr><td class="empty" colspan="{len(t.columns)}">（无）</td></tr>')
    note = f'<p class="note">{escape(t.note)}</p>' if t.note else ""
    return (f'<section id="{t.key}"><h2>{escape(t.title)}</h2>{note}<table><thead><tr>{head}'
            f'</tr></thead><tbody>{"".join(body)}</tbody></table></section>')


def render(title: str, subtitle: str, tables: list[Table],
           by_unit: list[dict[str, Any]] | None = None) -> bytes:
    sections = [_table(t) for t in tables]
    if by_unit is not None:
        charts = "".join(
            f'<div class="chart"><h3>{escape(label)}</h3>{bar_chart(by_unit, key, color)}</div>'
            for key, label, color in RATES)
        chart_html = f'<section id="charts"><h2>各承办单位时限与满意率</h2>' \
                     f'<div class="charts">{charts}</div></section>'
        # Charts after the per-unit table (the units' performance assessment).
        at = next((i for i, t in enumerate(tables) if t.key == "by_unit"), len(tables) - 1)
        sections.insert(at + 1, chart_html)
    page = (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
            f"<h1>{escape(title)}</h1><div class=\"sub\">{escape(subtitle)}</div>"
            + "".join(sections) + "</body></html>")
    return page.encode("utf-8")
