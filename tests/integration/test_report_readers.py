"""The report as its readers see it: Chinese names, the units' score and rank, a cohort
line for each count, the printed A4 page (headless Chromium) and the XLSX (openpyxl);
and every export of every report surviving hostile stored text."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import create_engine, text

from app.services.reports.scoring import ScoreWeights, score
from tests.builders import ok
from tests.conftest import Snapshots
from tests.integration.test_reports import OUT, generate

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
DISTRICTS = {"heshan": "赫山区", "ziyang": "资阳区"}
CATEGORIES = {"water": "供水排水", "housing": "住房保障", "misc": "其他"}


def named_city(api: Any) -> Any:
    """The sample city with Chinese category and district names."""
    api.city()
    for code, name in DISTRICTS.items():
        ok(api.put(f"/api/v1/districts/{code}", json={"name": name}), 201)
    for code, name in CATEGORIES.items():
        body = {"name": name}
        if code != "misc":
            body |= {"default_lead_unit": f"{code}-bureau", "committee_unit": "urban-env-committee"}
        ok(api.put(f"/api/v1/categories/{code}", json=body))
    return api


@pytest.fixture
def october(api: Any, snapshot: Snapshots) -> Any:
    """A generated October 2025, read on 20 November (built once, written back for each test)."""

    def build() -> None:
        named_city(api)
        api.set_now("2025-11-20 10:00")
        generate(api, 120)
        api.sweep()

    snapshot("report_readers.october", api, build)
    return api


def download(api: Any, path: str, fmt: str) -> bytes:
    r = api.get(f"{path}&format={fmt}", "liaison")
    assert r.status_code == 200, r.text[:500]
    return r.content  # type: ignore[no-any-return]


# --- names, scores, cohorts ---------------------------------------------------------------------


def test_reports_name_units_categories_and_districts_in_chinese(october):
    api = october
    report = ok(api.get("/api/v1/reports/monthly?month=2025-10", "liaison"))
    assert {r["district"]: r["name"] for r in report["by_district"]} == {
        "heshan": "赫山区",
        "ziyang": "资阳区",
        None: None,
    }
    assert {r["category"]: r["name"] for r in report["by_category"]} == CATEGORIES
    assert all(
        r["name"]
        == {
            "water-bureau": "益阳市水务局",
            "housing-bureau": "益阳市住房和城乡建设局",
            "heshan-gov": "赫山区人民政府",
            "ziyang-gov": "资阳区人民政府",
        }[r["unit"]]
        for r in report["by_unit"]
        if r["unit"]
    )
    for item in report["overdue_unresolved"] + report["unsatisfied"]:
        assert item["category_name"] == CATEGORIES[item["category"]]
        assert item["district_name"] == DISTRICTS.get(item["district"])
    # The HTML a person reads shows the names only; the CSV keeps the codes beside them.
    html = download(api, "/api/v1/reports/monthly?month=2025-10", "html").decode()
    assert "供水排水" in html and "赫山区" in html and "（未填属地）" in html
    assert ">water<" not in html and ">heshan<" not in html and ">water-bureau<" not in html
    rows = list(
        csv.reader(
            io.StringIO(download(api, "/api/v1/reports/monthly?month=2025-10", "csv").decode("utf-8-sig"))
        )
    )
    header = next(r for r in rows if r[:2] == ["属地", "属地代码"])
    at = rows.index(header)
    assert ["赫山区", "heshan"] in [r[:2] for r in rows[at : at + 5]]


def test_each_unit_gets_a_score_from_its_measured_rates_and_a_rank(october):
    api = october
    report = ok(api.get("/api/v1/reports/monthly?month=2025-10", "liaison"))
    assert report["score_weights"] == {
        "contact_on_time_rate": 15,
        "resolve_on_time_rate": 35,
        "feedback_on_time_rate": 10,
        "satisfaction_rate": 30,
        "solve_rate": 10,
    }
    units = [r for r in report["by_unit"] if r["unit"]]
    assert len(units) == 4
    for row in units:
        rates = {k: row[k] for k in report["score_weights"] if row[k] is not None}
        expected = (
            100
            * sum(report["score_weights"][k] * v for k, v in rates.items())
            / sum(report["score_weights"][k] for k in rates)
        )
        assert row["score"] == round(expected, 1)
        assert 0 <= row["score"] <= 100
    ranked = sorted(units, key=lambda r: r["rank"])
    assert [r["rank"] for r in ranked] == [1, 2, 3, 4]
    assert [r["score"] for r in ranked] == sorted((r["score"] for r in units), reverse=True)
    # The row of calls with no unit (returned, not yet re-dispatched) is not assessed.
    assert all(r["score"] is None and r["rank"] is None for r in report["by_unit"] if r["unit"] is None)
    # The annual report assesses the units too.
    annual = ok(api.get("/api/v1/reports/annual?year=2025", "liaison"))
    assert sorted(r["rank"] for r in annual["by_unit"] if r["unit"]) == [1, 2, 3, 4]


def test_a_unit_with_nothing_measured_has_no_score_and_equal_scores_share_a_rank(api):
    api.city()
    api.set_now("2025-10-09 10:00")
    # Two units each with one contact clock met on time: both 100, both rank 1.
    for unit in ("water-bureau", "housing-bureau"):
        t = api.ticket(
            units=[unit], called_at=api.at("2025-10-08 09:00"), dispatched_at=api.at("2025-10-08 09:00")
        )
        ok(
            api.post(
                f"/api/v1/tickets/{t['id']}/contact",
                unit,
                json={"method": "phone", "deputy_invited": False, "at": api.at("2025-10-08 10:00")},
            )
        )
    # A third whose contact clock is still running: nothing measured, no score, no rank.
    api.ticket(units=["heshan-gov"])
    report = ok(api.get("/api/v1/reports/monthly?month=2025-10", "liaison"))
    got = {r["unit"]: (r["score"], r["rank"]) for r in report["by_unit"]}
    assert got == {"water-bureau": (100.0, 1), "housing-bureau": (100.0, 1), "heshan-gov": (None, None)}


def test_score_weights_are_settings(api, db_url, clock):
    from fastapi.testclient import TestClient

    from app.main import create_app
    from tests.builders import Api
    from tests.conftest import make_settings

    settings = make_settings(db_url, HOTLINE_SCORE_WEIGHT_CONTACT=0, HOTLINE_SCORE_WEIGHT_SATISFACTION=90)
    with TestClient(create_app(settings, clock=clock, background=False)) as client:
        other = Api(client, clock, client.app)  # type: ignore[arg-type]
        other.city()
        other.set_now("2025-10-09 10:00")
        other.ticket(
            called_at=other.at("2025-10-08 09:00"), dispatched_at=other.at("2025-10-08 09:00")
        )  # contact late: rate 0
        report = ok(other.get("/api/v1/reports/monthly?month=2025-10", "liaison"))
    assert report["score_weights"]["contact_on_time_rate"] == 0
    assert report["score_weights"]["satisfaction_rate"] == 90
    row = next(r for r in report["by_unit"] if r["unit"] == "water-bureau")
    assert row["contact_on_time_rate"] == 0.0
    assert (row["score"], row["rank"]) == (None, None)  # the only measured rate weighs 0


@pytest.mark.parametrize(
    "rates, weights, expected",
    [
        ({}, ScoreWeights(), None),
        ({"solve_rate": 0.5}, ScoreWeights(), 50.0),
        ({"contact_on_time_rate": 1.0, "satisfaction_rate": 0.0}, ScoreWeights(), 33.3),
        ({k: 1.0 for k, _ in ScoreWeights().items()}, ScoreWeights(), 100.0),
        (
            {"resolve_on_time_rate": 0.8, "satisfaction_rate": 0.9, "solve_rate": 0.5},
            ScoreWeights(),
            80.0,
        ),  # (28 + 27 + 5) / 75
    ],
)
def test_score_is_the_weighted_mean_over_measured_rates(rates, weights, expected):
    assert score(rates, weights) == expected


def test_each_count_says_which_cohort_it_counts(october):
    api = october
    rows = list(
        csv.reader(
            io.StringIO(download(api, "/api/v1/reports/monthly?month=2025-10", "csv").decode("utf-8-sig"))
        )
    )
    header = rows.index(["指标", "数值", "口径"])
    cohort = {r[0]: r[2] for r in rows[header + 1 : header + 13]}
    assert "按回访时间" in cohort["回访数"] and "含建议类" in cohort["回访数"]
    assert "按办结时间" in cohort["办结数"] and "建议、咨询不计办结" in cohort["办结数"]
    assert all(cohort.values()) and len(cohort) == 12
    html = download(api, "/api/v1/reports/monthly?month=2025-10", "html").decode()
    assert "回访数：本期回访并评价的工单" in html and "办结数：本期办结的" in html
    assert "各项口径同“承办单位绩效考核”表的说明" in html  # said once, then referred to
    wb = load_workbook(io.BytesIO(download(api, "/api/v1/reports/monthly?month=2025-10", "xlsx")))
    legend = [c.value for c in wb["按事项分类"]["A"] if isinstance(c.value, str)]
    assert any(line.startswith("说明：回访数：") for line in legend)


# --- the XLSX as opened in Excel --------------------------------------------------------------


def test_xlsx_has_titles_print_setup_and_real_charts(october):
    api = october
    wb = load_workbook(io.BytesIO(download(api, "/api/v1/reports/monthly?month=2025-10", "xlsx")))
    for ws in wb.worksheets:
        assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4), ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage is True, ws.title
        assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0), ws.title
    units = wb["承办单位绩效考核"]
    assert units["A1"].value == "人大代表民情通达专线办理情况月报（2025年10月） · 承办单位绩效考核"
    assert units["A1"].font.b and "A1:" in " ".join(str(r) for r in units.merged_cells.ranges)
    assert "统计截止 2025-11-01 00:00" in units["A2"].value
    assert units.print_title_rows == "$3:$3"  # the header row repeats on every page
    assert units.page_setup.orientation == "landscape"
    assert units.freeze_panes == "A4"
    assert wb["总体情况"].page_setup.orientation == "portrait"
    headers = [c.value for c in units[3]]
    n = sum(1 for r in units.iter_rows(min_row=4, max_col=1) if isinstance(r[0].value, int))
    assert n == 4
    charts = wb["承办单位绩效考核图表"]._charts
    assert [c.title.tx.rich.p[0].r[0].t for c in charts] == [
        "得分",
        "办结及时率",
        "联系代表及时率",
        "反馈及时率",
        "满意率",
    ]
    for chart in charts:
        assert chart.type == "bar"
        [series] = chart.series
        values, cats = series.val.numRef.f, series.cat.numRef or series.cat.strRef
        col = re.search(r"\$([A-Z]+)\$4:\$[A-Z]+\$(\d+)", values)
        assert col and values.startswith("'承办单位绩效考核'!") and col.group(2) == str(3 + n)
        assert cats.f == f"'承办单位绩效考核'!$B$4:$B${3 + n}"
        title_col = next(i for i, h in enumerate(headers, start=1) if h == chart.title.tx.rich.p[0].r[0].t)
        assert col.group(1) == units.cell(row=3, column=title_col).column_letter


# --- the printed page ---------------------------------------------------------------------------

LAYOUT_PROBE = """<script>
window.addEventListener('load', () => {
  const mm = 96 / 25.4, out = {tables: [], squeezed: [], wrapped_headers: []};
  document.body.style.maxWidth = 'none';
  document.body.style.padding = '0';
  for (const s of document.querySelectorAll('section')) {
    const allowed = (s.classList.contains('wide') ? 297 - 24 : 210 - 28) * mm;
    s.style.width = allowed + 'px';
    for (const t of s.querySelectorAll('table')) {
      out.tables.push([s.id, s.className, Math.ceil(t.getBoundingClientRect().width),
                       Math.floor(allowed)]);
    }
    for (const c of s.querySelectorAll('td, th')) {
      const st = getComputedStyle(c), fs = parseFloat(st.fontSize);
      const inner = c.clientWidth - parseFloat(st.paddingLeft) - parseFloat(st.paddingRight);
      if (c.textContent.trim().length >= 2 && inner < 1.9 * fs) {
        out.squeezed.push([s.id, c.textContent.trim().slice(0, 20), inner, fs]);
      }
      if (c.tagName === 'TH' && c.clientHeight > 2.2 * fs + 8) {
        out.wrapped_headers.push([s.id, c.textContent]);
      }
    }
  }
  const pre = document.createElement('pre');
  pre.id = 'layout';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def chromium(*args: str) -> subprocess.CompletedProcess[bytes]:
    assert CHROMIUM
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", *args],
        check=True,
        timeout=90,
        capture_output=True,
    )


def print_layout(html: str, where: Path) -> dict[str, Any]:
    """Each section laid out at its printed width (print rules applied on screen)."""
    probe = where / "probe.html"
    probe.write_text(
        html.replace("@media print {", "@media all {").replace("</body>", LAYOUT_PROBE + "</body>"),
        encoding="utf-8",
    )
    dom = chromium("--virtual-time-budget=5000", "--dump-dom", probe.as_uri()).stdout.decode()
    found = re.search(r'<pre id="layout">(.*?)</pre>', dom, re.S)
    assert found, dom[-2000:]
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))  # type: ignore[no-any-return]


def pdf_pages(pdf: bytes) -> list[tuple[float, float]]:
    return [(float(w), float(h)) for w, h in re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)]


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium")
def test_the_html_report_prints_on_a4_with_no_table_clipped_or_squeezed(october, tmp_path):
    api = october
    for path, wide_sections in (
        (
            "/api/v1/reports/monthly?month=2025-10",
            {"overdue", "unsatisfied", "by_unit", "by_category", "by_district"},
        ),
        ("/api/v1/reports/annual?year=2025", {"months", "by_unit"}),
        ("/api/v1/reports/deputies?year=2025", set()),
    ):
        html = download(api, path, "html").decode()
        layout = print_layout(html, tmp_path)
        shapes = {sid: cls for sid, cls, _, _ in layout["tables"]}
        assert wide_sections <= {s for s, c in shapes.items() if c == "wide"}, shapes
        overflow = [t for t in layout["tables"] if t[2] > t[3] + 1]
        assert overflow == [], f"{path}: tables wider than the printed page: {overflow}"
        assert layout["squeezed"] == [], f"{path}: cells squeezed: {layout['squeezed'][:5]}"
        assert layout["wrapped_headers"] == [], path
        page = tmp_path / "report.html"
        page.write_text(html, encoding="utf-8")
        pdf = tmp_path / "report.pdf"
        chromium("--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())
        pages = pdf_pages(pdf.read_bytes())
        assert pages, path
        a4 = {(595.0, 842.0), (842.0, 595.0)}
        assert {(round(w), round(h)) for w, h in pages} <= {(595, 842), (842, 595)} and a4
        if wide_sections:
            assert any(w > h for w, h in pages), f"{path}: no landscape page"
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "report-readers.html").write_text(
        download(api, "/api/v1/reports/monthly?month=2025-10", "html").decode(), encoding="utf-8"
    )


# --- hostile stored text ----------------------------------------------------------------------

HOSTILE = {
    "caller": '=HYPERLINK("http://evil.example/y","查看")',
    "caller_ctrl": "张\u0007三",
    "deputy": "辰\x01巳",
    "unit": "益阳市\x1e水务局",
    "category": "+cmd|' /C calc'!A0",
    "district": "@SUM(1+1)*cmd|' /C calc'!A0",
    "reply_minus": "-2+3+cmd|' /C calc'!A0",
    "tab": "\t=1+1",
    "cr": "\r=1+1",
}


def store_hostile_text(url: str) -> None:
    """Written below the API, as text stored before the API refused it would be."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE units SET name = :n WHERE code = 'water-bureau'"), {"n": HOSTILE["unit"]})
        conn.execute(text("UPDATE categories SET name = :n WHERE code = 'water'"), {"n": HOSTILE["category"]})
        conn.execute(text("UPDATE districts SET name = :n WHERE code = 'heshan'"), {"n": HOSTILE["district"]})
        conn.execute(
            text("UPDATE deputies SET name = :n WHERE phone = '13800000002'"), {"n": HOSTILE["deputy"]}
        )
        conn.execute(
            text("UPDATE deputies SET delegation = :n WHERE phone = '13800000003'"), {"n": HOSTILE["tab"]}
        )
        conn.execute(
            text("UPDATE tickets SET caller_name = :n WHERE caller_phone = '13900000009'"),
            {"n": HOSTILE["caller"]},
        )
        conn.execute(
            text("UPDATE tickets SET caller_name = :n WHERE caller_phone = '13700000008'"),
            {"n": HOSTILE["caller_ctrl"]},
        )
        conn.execute(
            text(
                "UPDATE tickets SET hotline_no = 'CR-' || hotline_no, "
                "caller_name = :n WHERE hotline_no = 'GEN-0013'"
            ),
            {"n": HOSTILE["cr"]},
        )
    engine.dispose()


CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/reports/monthly?month=2025-10&mask=false",
        "/api/v1/reports/annual?year=2025&mask=false",
        "/api/v1/reports/deputies?year=2025&mask=false",
    ],
)
def test_every_export_survives_control_characters_and_neutralizes_formulas(october, db_url, path):
    api = october
    store_hostile_text(db_url)
    ok(api.get(path, "liaison"))  # JSON: the text as stored
    # XLSX: opens, no formula anywhere, the hostile text kept as text.
    wb = load_workbook(io.BytesIO(download(api, path, "xlsx")))
    texts = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not CONTROL.search(cell.value), (ws.title, cell.value)
                    texts.append(cell)
    risky = [c for c in texts if c.value.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert risky, "the hostile text should be in this report"
    assert all(c.quotePrefix and c.data_type == "s" for c in risky)
    if "deputies" not in path:
        assert any(c.value == HOSTILE["caller"] for c in risky)
        assert any(c.value == "益阳市水务局" for c in texts)  # control character dropped
    else:
        assert any(c.value == "辰巳" for c in texts)
    # CSV: every would-be formula starts with an apostrophe; no control characters.
    content = download(api, path, "csv").decode("utf-8-sig")
    cells = [c for row in csv.reader(io.StringIO(content)) for c in row]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert not CONTROL.search(content.replace("\r\n", ""))
    if "deputies" not in path:
        assert "'" + HOSTILE["caller"] in cells and "张三" in content
    # HTML: no control character, the markup escaped.
    html = download(api, path, "html").decode()
    assert not CONTROL.search(html)
    assert "evil.example" not in html or "=HYPERLINK(&quot;http://evil.example/y&quot;" in html
    assert "<a " not in html
