"""The Office, PDF and batch-map outputs of the main job (``riskmap run``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from riskmap.config import load_config
from riskmap.mapbatch import MANIFEST_NAME
from riskmap.office import find_soffice
from riskmap.pipeline import run
from riskmap.report import find_chromium
from riskmap.results import RunResult

pytestmark = pytest.mark.slow

openpyxl = pytest.importorskip("openpyxl")
docx = pytest.importorskip("docx")


def _run(out: Path) -> RunResult:
    cfg = load_config()
    cfg.run.cell_size_m = 2000  # a coarse grid keeps the two runs short
    cfg.maps.progress = False
    return run(cfg, out_dir=out, progress=False)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, dict, RunResult]:
    """Run twice into one folder; note the map files' times in between."""
    out = tmp_path_factory.mktemp("outputs")
    first = _run(out)
    times = {p.name: p.stat().st_mtime_ns for p in (out / "maps").iterdir()}
    second = _run(out)
    return first, times, second


def test_office_files_are_written(runs: tuple[RunResult, dict, RunResult]) -> None:
    first, _, _ = runs
    out = first.out_dir
    for name in ("summary.xlsx", "report.docx"):
        assert (out / name) in first.files
        assert (out / name).stat().st_size > 0

    book = openpyxl.load_workbook(out / "summary.xlsx")
    assert book.sheetnames == ["区县汇总", "规划指标", "乡镇"]
    sheet = book["区县汇总"]
    assert sheet["A1"].value == "区县代码" and sheet["B1"].value == "区县"
    codes = [row[0].value for row in sheet.iter_rows(min_row=2)]
    assert codes == list(first.counties["adcode"])
    assert all(isinstance(code, str) for code in codes)
    verdicts = {row[6].value for row in book["规划指标"].iter_rows(min_row=2)}
    assert verdicts <= {"达标", "未达标"}

    report = docx.Document(str(out / "report.docx"))
    assert len(report.inline_shapes) == 12  # one static map per county
    county_table = report.tables[1]
    assert len(county_table.rows) == 13
    assert county_table.rows[1].cells[2].text == first.counties["adcode"].iloc[0]


def test_report_pdf_when_a_converter_exists(
    runs: tuple[RunResult, dict, RunResult],
) -> None:
    first, _, _ = runs
    pdf = first.out_dir / "report.pdf"
    if find_chromium() is None and find_soffice() is None:
        assert not pdf.exists() and pdf not in first.files
        pytest.skip("neither Chromium nor LibreOffice is installed")
    assert pdf in first.files
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert not list(first.out_dir.rglob(".tmp-*")), "temporary files left behind"


def test_second_run_skips_all_county_maps(
    runs: tuple[RunResult, dict, RunResult],
) -> None:
    first, before, second = runs
    maps = first.out_dir / "maps"
    manifest = json.loads((maps / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert set(manifest["counties"]) == set(first.counties["adcode"])
    after = {p.name: p.stat().st_mtime_ns for p in maps.iterdir()}
    county_files = {
        name: t for name, t in before.items() if name.endswith((".png", ".html"))
    }
    county_files.pop("index.html")  # the city map is drawn on every run
    assert len(county_files) == 24
    assert {name: after[name] for name in county_files} == county_files
    assert after[MANIFEST_NAME] == before[MANIFEST_NAME]
    # The second run still lists the maps among its files.
    assert {p.name for p in second.files} >= set(county_files)
