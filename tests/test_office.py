"""Tests of riskmap.office: summary.xlsx and report.docx, read back and printed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import Point

from riskmap.office import write_report_docx, write_summary_xlsx

openpyxl = pytest.importorskip("openpyxl")
docx = pytest.importorskip("docx")

INDICATORS = [
    {
        "name": "pop_share_shelter_reach",
        "name_zh": "避难场所可达人口比例",
        "value": np.float64(0.7839),
        "target": 0.8,
        "unit": "share",
        "description": "share within 60 min",
        "passed": np.bool_(False),
    },
    {
        "name": "shelter_m2_per_person",
        "name_zh": "人均避难场所面积",
        "value": 2.4,
        "target": 2.0,
        "unit": "m²/person",
        "passed": True,
    },
    {"name": "not computed", "name_zh": "未计算", "value": None, "target": 1},
]


@pytest.fixture
def counties() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "adcode": ["451002", "451026"],
            "name": ["右江区", "那坡县"],
            "name_en": ["Youjiang", None],
            "population": np.array([472_086.0, 171_781.0]),
            "h_flood": [0.3103, np.nan],
            "risk_score": [0.5764, 0.5283],
            "risk_class": np.array([4, 2]),
            "pop_share_shelter_reach": [0.759, 0.9481],
            "pop_share_relief_10h": [1.0, 0.999],
            "highrisk_share_air_2h": [1.0, np.inf],
            "shelter_m2_per_person": [1.12, 0.85],
        },
        geometry=[Point(106.6, 23.9), Point(105.8, 23.4)],
        crs=4326,
    )


@pytest.fixture
def townships() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "place_id": ["007", "786060"],
            "name": ["右江区", "泮水乡"],
            "kind": ["county_seat", "township"],
            "adcode": ["451002", "451002"],
            "population": [212_084.5, 36_476.7],
            "risk_class": [5, 3],
        },
        geometry=[Point(106.6, 23.9), Point(106.7, 24.0)],
        crs=4326,
    )


def _png(path: Path) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (330, 249), (200, 40, 40)).save(path)
    return path


def test_summary_xlsx_values(
    counties: gpd.GeoDataFrame, townships: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    path = write_summary_xlsx(
        counties, tmp_path / "summary.xlsx", INDICATORS, townships
    )
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["区县汇总", "规划指标", "乡镇"]

    sheet = book["区县汇总"]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["区县代码", "区县", "英文名称"]
    for name in ("人口", "洪涝危险性", "风险指数", "风险等级", "避难场所可达人口比例"):
        assert name in header
    assert "10小时救助覆盖率" in header and "2小时航空救援覆盖率(高风险)" in header
    assert "人均避难面积(m²)" in header
    assert "geometry" not in header
    rows = {
        r[0].value: dict(zip(header, r, strict=True))
        for r in sheet.iter_rows(min_row=2)
    }
    youjiang, napo = rows["451002"], rows["451026"]
    assert youjiang["区县代码"].data_type == "s"
    assert youjiang["区县代码"].number_format == "@"
    assert youjiang["区县"].value == "右江区"
    assert youjiang["人口"].value == 472_086
    assert youjiang["风险等级"].value == 4
    assert youjiang["避难场所可达人口比例"].value == pytest.approx(0.759)
    assert youjiang["避难场所可达人口比例"].number_format == "0.0%"
    assert youjiang["洪涝危险性"].value == pytest.approx(0.3103)
    # Missing and infinite values are empty cells, not 'nan' or 'inf'.
    assert napo["英文名称"].value is None
    assert napo["洪涝危险性"].value is None
    assert napo["2小时航空救援覆盖率(高风险)"].value is None

    ind = book["规划指标"]
    assert [c.value for c in ind[1]][:3] == ["指标", "指标(英文)", "数值"]
    verdicts = [r[6].value for r in ind.iter_rows(min_row=2)]
    assert verdicts == ["未达标", "达标", "未评估"]
    assert ind["C2"].value == pytest.approx(0.7839)
    assert ind["C2"].number_format == "0.00%"
    assert ind["C3"].number_format == "#,##0.00"

    towns = book["乡镇"]
    assert [c.value for c in towns[1]][:4] == ["地点编号", "乡镇", "类型", "区县代码"]
    assert towns["A2"].value == "007"
    assert [towns["C2"].value, towns["C3"].value] == ["县城", "乡镇"]


def test_summary_xlsx_without_optional_sheets(
    counties: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    path = write_summary_xlsx(counties, tmp_path / "new" / "s.xlsx")
    assert openpyxl.load_workbook(path).sheetnames == ["区县汇总"]
    assert not list(path.parent.glob(".tmp-*"))


def test_report_docx_tables_maps_and_font(
    counties: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    _png(tmp_path / "maps" / "451002.png")
    method = {"risk": {"weights": {"h_flood": np.float32(0.25)}}, "bins": [0.2, 0.4]}
    path = write_report_docx(tmp_path, counties, INDICATORS, method)
    assert path == tmp_path / "report.docx"
    doc = docx.Document(str(path))

    text = "\n".join(p.text for p in doc.paragraphs)
    assert "百色市灾害风险与应急保障评估报告" in text and "Baise" in text
    assert "图 1  右江区 Youjiang (451002)" in text
    assert len(doc.inline_shapes) == 1  # 451026 has no map: left out

    indicators, county_table, method_table = doc.tables
    assert [c.text for c in indicators.rows[1].cells][1:] == [
        "78.4 %",
        "80.0 %",
        "",
        "未达标",
    ]
    assert indicators.rows[2].cells[4].text == "达标"
    header = [c.text.split("\n")[0] for c in county_table.rows[0].cells]
    assert header[:3] == ["区县", "英文名", "代码"]
    first = [c.text for c in county_table.rows[1].cells]
    assert first[:4] == ["右江区", "Youjiang", "451002", "472,086"]
    assert "75.9 %" in first
    assert ["risk.weights.h_flood", "0.25"] in [
        [c.text for c in r.cells] for r in method_table.rows
    ]

    fonts = doc.styles["Normal"].element.rPr.rFonts
    assert fonts.get(docx.oxml.ns.qn("w:eastAsia")) == "Microsoft YaHei"


# ---------------------------------------------------------------------------
# Headless LibreOffice: both files open and print with their Chinese text
# ---------------------------------------------------------------------------


def _soffice_pdf(source: Path, tmp_path: Path) -> Path:
    """Convert ``source`` to PDF with headless LibreOffice; return the PDF."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    home = tmp_path / "lo-home"
    home.mkdir(exist_ok=True)
    out = tmp_path / "pdf"
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={home.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(source),
        ],
        env={**os.environ, "HOME": str(home)},
        check=True,
        capture_output=True,
        timeout=180,
    )
    pdf = out / f"{source.stem}.pdf"
    assert pdf.is_file(), f"LibreOffice wrote no PDF for {source.name}"
    return pdf


def _pdf_text(pdf: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    done = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return done.stdout.decode("utf-8")


def _pages(pdf: Path) -> int:
    done = subprocess.run(
        ["pdfinfo", str(pdf)], check=True, capture_output=True, timeout=60
    )
    line = next(x for x in done.stdout.decode().splitlines() if x.startswith("Pages"))
    return int(line.split()[-1])


@pytest.mark.slow
def test_libreoffice_prints_both_files(
    counties: gpd.GeoDataFrame, townships: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    _png(tmp_path / "run" / "maps" / "451002.png")
    xlsx = write_summary_xlsx(
        counties, tmp_path / "run" / "summary.xlsx", INDICATORS, townships
    )
    report = write_report_docx(tmp_path / "run", counties, INDICATORS, {"k": "v"})

    for source, expected in (
        (xlsx, ["区县代码", "右江区", "那坡县", "451002", "未达标"]),
        (report, ["百色市灾害风险与应急保障评估报告", "规划指标", "那坡县", "达标"]),
    ):
        pdf = _soffice_pdf(source, tmp_path)
        assert pdf.stat().st_size > 1000
        assert _pages(pdf) >= 1
        text = _pdf_text(pdf)
        for word in expected:
            assert word in text, f"{word!r} missing from the PDF of {source.name}"


def test_summary_xlsx_reads_back_with_pandas(
    counties: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    path = write_summary_xlsx(counties, tmp_path / "summary.xlsx")
    table = pd.read_excel(path, sheet_name="区县汇总", dtype={"区县代码": str})
    assert table["区县代码"].tolist() == ["451002", "451026"]
    assert table["人口"].tolist() == [472_086, 171_781]


# ---------------------------------------------------------------------------
# report.pdf (riskmap.report.write_report_pdf)
# ---------------------------------------------------------------------------


@pytest.mark.slow
def test_report_pdf_is_a4_landscape_with_chinese_text(
    counties: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    from riskmap import report

    if report.find_chromium() is None:
        pytest.skip("no Chromium to print report.html")
    _png(tmp_path / "maps" / "451002.png")
    html = report.write_report(tmp_path, counties, INDICATORS, {"k": "v"})
    pdf = report.write_report_pdf(html)
    assert pdf == tmp_path / "report.pdf"
    assert _pages(pdf) >= 2
    text = _pdf_text(pdf)
    for word in ("百色市灾害风险与应急保障评估报告", "区县结果", "那坡县", "未达标"):
        assert word in text
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, check=True)
    size = next(x for x in info.stdout.decode().splitlines() if "Page size" in x)
    width, height = (float(v) for v in size.split()[2:5:2])
    assert (round(width), round(height)) == (842, 595)  # A4 landscape, points
    assert not list(tmp_path.glob(".tmp-*")), "the print copy was left behind"


def test_report_pdf_without_a_converter_warns(
    counties: gpd.GeoDataFrame,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from riskmap import report

    monkeypatch.setattr(report, "find_chromium", lambda: None)
    html = report.write_report(tmp_path, counties, INDICATORS, {})
    with caplog.at_level("WARNING", logger="riskmap.report"):
        assert report.write_report_pdf(html) is None
    assert "install Chromium" in caplog.text
    assert not (tmp_path / "report.pdf").exists()


def test_report_pdf_keeps_the_old_pdf_when_printing_fails(
    counties: gpd.GeoDataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from riskmap import report

    false = shutil.which("false")
    if false is None:
        pytest.skip("no 'false' command")
    monkeypatch.setattr(report, "find_chromium", lambda: false)
    html = report.write_report(tmp_path, counties, INDICATORS, {})
    (tmp_path / "report.pdf").write_bytes(b"%PDF-old")
    assert report.write_report_pdf(html) is None
    assert (tmp_path / "report.pdf").read_bytes() == b"%PDF-old"
    assert not list(tmp_path.glob(".tmp-*"))


@pytest.mark.slow
def test_report_pdf_falls_back_to_libreoffice(
    counties: gpd.GeoDataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from riskmap import report
    from riskmap.office import find_soffice

    if find_soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    monkeypatch.setattr(report, "find_chromium", lambda: None)
    html = report.write_report(tmp_path, counties, INDICATORS, {})
    write_report_docx(tmp_path, counties, INDICATORS, {})
    pdf = report.write_report_pdf(html)
    assert pdf is not None and "那坡县" in _pdf_text(pdf)
