"""Office copies of a run's results: ``summary.xlsx`` and ``report.docx``.

The bureau's paperwork lives in Word and Excel (or LibreOffice), so the
county table is also written as a workbook with Chinese column headers and
the report as a Word document with its tables and the static county maps.

* :func:`write_summary_xlsx` writes the sheets 区县汇总 (counties),
  规划指标 (plan indicators, 达标/未达标) and, when given, 乡镇 (townships).
  Codes stay text (``"451002"``, never ``451002.0``); shares are stored as
  fractions with a percentage format, so a formula sees the true value.
* :func:`write_report_docx` writes an A4 landscape document: title, plan
  indicators, county table, risk-class key, maps and the method record.
  Chinese text is given an East-Asian font (``w:eastAsia``) and the
  ``zh-CN`` language, so Word and LibreOffice pick a Chinese font for it.

Both files are written atomically (:func:`riskmap._io.atomic_path`).
openpyxl and python-docx are imported when a file is written, not when
riskmap is imported.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskmap._io import atomic_path, safe_filename
from riskmap._values import plain
from riskmap.maps import HAZARD_NAMES, RISK_CLASS_NAMES, RISK_COLOURS

__all__ = [
    "COUNTY_HEADERS",
    "EAST_ASIAN_FONT",
    "INDICATOR_HEADERS",
    "TOWNSHIP_HEADERS",
    "convert_to_pdf",
    "find_soffice",
    "write_report_docx",
    "write_summary_xlsx",
]

logger = logging.getLogger(__name__)

#: Font asked for Chinese text in ``report.docx``. Word on Windows has it;
#: LibreOffice elsewhere substitutes an installed CJK font (e.g. Noto Sans
#: CJK SC from ``fonts-noto-cjk``).
EAST_ASIAN_FONT = "Microsoft YaHei"

#: County sheet columns: (column, Chinese header, kind). Kinds: ``text``,
#: ``int``, ``index`` (0-1, three decimals), ``class``, ``share`` (shown as
#: a percentage), ``float``.
COUNTY_HEADERS: tuple[tuple[str, str, str], ...] = (
    ("adcode", "区县代码", "text"),
    ("name", "区县", "text"),
    ("name_en", "英文名称", "text"),
    ("population", "人口", "int"),
    ("area_km2", "面积(km²)", "float"),
    *((col, f"{zh}危险性", "index") for col, (zh, _) in HAZARD_NAMES.items()),
    ("risk_score", "风险指数", "index"),
    ("risk_class", "风险等级", "class"),
    ("pop_share_shelter_reach", "避难场所可达人口比例", "share"),
    ("pop_share_relief_10h", "10小时救助覆盖率", "share"),
    ("pop_share_relief_24h", "24小时救助覆盖率", "share"),
    ("highrisk_share_air_2h", "2小时航空救援覆盖率(高风险)", "share"),
    ("highrisk_cells", "高风险网格数", "int"),
    ("shelter_area_m2", "避难场所面积(m²)", "int"),
    ("shelter_m2_per_person", "人均避难面积(m²)", "float"),
    ("n_shelters", "避难场所数", "int"),
    ("n_depots", "物资储备点数", "int"),
)

#: Township sheet columns, as :data:`COUNTY_HEADERS`.
TOWNSHIP_HEADERS: tuple[tuple[str, str, str], ...] = (
    ("place_id", "地点编号", "text"),
    ("name", "乡镇", "text"),
    ("kind", "类型", "text"),
    ("adcode", "区县代码", "text"),
    ("population", "人口", "int"),
    ("n_cells", "网格数", "int"),
    *((col, f"{zh}危险性", "index") for col, (zh, _) in HAZARD_NAMES.items()),
    ("risk_score", "风险指数", "index"),
    ("risk_class", "风险等级", "class"),
    ("pop_share_shelter_reach", "避难场所可达人口比例", "share"),
    ("pop_share_relief_10h", "10小时救助覆盖率", "share"),
)

#: Headers of the indicator sheet and table.
INDICATOR_HEADERS: tuple[str, ...] = (
    "指标",
    "指标(英文)",
    "数值",
    "目标",
    "单位",
    "说明",
    "结论",
)

_PLACE_KINDS = {"county_seat": "县城", "township": "乡镇"}
_NUMBER_FORMATS = {
    "int": "#,##0",
    "index": "0.000",
    "class": "0",
    "share": "0.0%",
    "float": "#,##0.00",
}
_PASS, _FAIL, _UNKNOWN = "达标", "未达标", "未评估"
_MARGIN_CM = 1.8
_TEXT_WIDTH_CM = 29.7 - 2 * _MARGIN_CM  # A4 landscape less the margins
_TITLE = (
    "百色市灾害风险与应急保障评估报告 Baise disaster-risk and emergency-coverage report"
)


# ---------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------


def _cell(value: Any, kind: str) -> Any:
    value = plain(value)
    if value is None:
        return None
    if kind == "text":
        return str(value)
    if isinstance(value, bool | str):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return round(number) if kind in ("int", "class") else number


def _verdict(passed: Any) -> str:
    passed = plain(passed)
    if passed is None:
        return _UNKNOWN
    return _PASS if bool(passed) else _FAIL


def _is_share(item: Mapping[str, Any]) -> bool:
    return str(plain(item.get("unit")) or "") in ("share", "fraction", "0-1")


def _text(value: Any, kind: str) -> str:
    """Format a value for a Word table (as ``report.html`` shows it)."""
    from riskmap.report import format_value

    return format_value(value, kind)


# ---------------------------------------------------------------------------
# summary.xlsx
# ---------------------------------------------------------------------------


def _sheet(
    book: Any,
    title: str,
    table: pd.DataFrame,
    headers: Sequence[tuple[str, str, str]],
) -> Any:
    """Add a sheet with the columns of ``headers`` that ``table`` has."""
    from openpyxl.styles import Alignment, Font, PatternFill

    sheet = book.create_sheet(title)
    columns = [h for h in headers if h[0] in table.columns]
    sheet.append([zh for _, zh, _ in columns])
    for record in table.to_dict("records"):
        sheet.append([_cell(record.get(col), kind) for col, _, kind in columns])
    for j, (_, zh, kind) in enumerate(columns, start=1):
        for (cell,) in sheet.iter_rows(min_row=2, min_col=j, max_col=j):
            cell.number_format = "@" if kind == "text" else _NUMBER_FORMATS[kind]
            if kind == "class" and cell.value in (1, 2, 3, 4, 5):
                colour = RISK_COLOURS[cell.value - 1].lstrip("#").upper()
                cell.fill = PatternFill("solid", start_color=colour)
                if cell.value >= 4:
                    cell.font = Font(color="FFFFFF", bold=True)
        letter = sheet.cell(row=1, column=j).column_letter
        texts = [zh] + [
            str(c.value)
            for (c,) in sheet.iter_rows(min_row=2, min_col=j, max_col=j)
            if c.value is not None and kind == "text"
        ]
        # Long headers wrap onto two lines rather than widen number columns.
        cap = 40 if kind == "text" else 14
        sheet.column_dimensions[letter].width = min(
            cap, max(10, _display_width(texts) + 2)
        )
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", start_color="F3F3F3")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.row_dimensions[1].height = 30  # two lines of wrapped header
    sheet.freeze_panes = "A2"
    if columns and len(table):
        sheet.auto_filter.ref = sheet.dimensions
    _print_setup(sheet)
    return sheet


def _print_setup(sheet: Any) -> None:
    """Print landscape, one page wide, with the header row on every page."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:1"


def _display_width(texts: Sequence[str]) -> int:
    """Column width in characters; a Chinese character counts twice."""
    return max(
        (sum(2 if ord(ch) > 0x2E80 else 1 for ch in text) for text in texts), default=0
    )


def _indicator_sheet(book: Any, indicators: Sequence[Mapping[str, Any]]) -> Any:
    from openpyxl.styles import Font, PatternFill

    sheet = book.create_sheet("规划指标")
    sheet.append(list(INDICATOR_HEADERS))
    for item in indicators:
        share = _is_share(item)
        verdict = _verdict(item.get("passed"))
        sheet.append(
            [
                str(plain(item.get("name_zh")) or ""),
                str(plain(item.get("name")) or ""),
                _cell(item.get("value"), "float"),
                _cell(item.get("target"), "float"),
                "%" if share else str(plain(item.get("unit")) or ""),
                str(plain(item.get("description")) or ""),
                verdict,
            ]
        )
        row = sheet.max_row
        # two decimals, so a shortfall such as 99.95 % is not shown as 100.0 %
        fmt = "0.00%" if share else "#,##0.00"
        sheet.cell(row=row, column=3).number_format = fmt
        sheet.cell(row=row, column=4).number_format = fmt
        if verdict != _UNKNOWN:
            colour = "1A7F37" if verdict == _PASS else "B42318"
            sheet.cell(row=row, column=7).font = Font(color=colour, bold=True)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", start_color="F3F3F3")
    for letter, width in zip("ABCDEFG", (34, 30, 12, 12, 12, 40, 10), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    _print_setup(sheet)
    return sheet


def write_summary_xlsx(
    counties: pd.DataFrame,
    path: str | Path,
    indicators: Sequence[Mapping[str, Any]] | None = None,
    townships: pd.DataFrame | None = None,
) -> Path:
    """Write the per-county table as an Excel workbook with Chinese headers.

    Parameters
    ----------
    counties : DataFrame
        County results; the columns of :data:`COUNTY_HEADERS` that exist are
        written, in that order (a geometry column is ignored).
    path : str or Path
        The ``.xlsx`` file to write (its folder is created).
    indicators : sequence of dict, optional
        Plan indicators ``{name, name_zh, value, target, unit, description,
        passed}`` for the sheet 规划指标, with 达标/未达标 in 结论.
    townships : DataFrame, optional
        Township results for the sheet 乡镇 (:data:`TOWNSHIP_HEADERS`).

    Returns
    -------
    Path
        The written file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from openpyxl import load_workbook
    >>> counties = pd.DataFrame({"adcode": ["451002"], "name": ["右江区"],
    ...                          "pop_share_shelter_reach": [0.82]})
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "summary.xlsx"
    >>> sheet = load_workbook(write_summary_xlsx(counties, out))["区县汇总"]
    >>> [c.value for c in sheet[1]]
    ['区县代码', '区县', '避难场所可达人口比例']
    >>> [c.value for c in sheet[2]], sheet["C2"].number_format
    (['451002', '右江区', 0.82], '0.0%')
    """
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    _sheet(book, "区县汇总", _without_geometry(counties), COUNTY_HEADERS)
    if indicators is not None:
        _indicator_sheet(book, indicators)
    if townships is not None:
        towns = _without_geometry(townships)
        if "kind" in towns:
            towns["kind"] = towns["kind"].map(lambda k: _PLACE_KINDS.get(k, k))
        _sheet(book, "乡镇", towns, TOWNSHIP_HEADERS)
    book.properties.title = "灾害风险区县汇总 Risk summary by county"
    book.properties.creator = "riskmap"

    path = Path(path)
    with atomic_path(path) as tmp:
        book.save(tmp)
    logger.info("wrote %s", path)
    return path


def _without_geometry(table: pd.DataFrame) -> pd.DataFrame:
    geometry = [c for c in table.columns if str(table[c].dtype) == "geometry"]
    return pd.DataFrame(table.drop(columns=geometry))


# ---------------------------------------------------------------------------
# report.docx
# ---------------------------------------------------------------------------


def _set_fonts(style: Any, east_asian: str) -> None:
    """Give a Word style a Latin and an East-Asian font, and zh-CN."""
    from docx.oxml.ns import qn
    from docx.oxml.parser import OxmlElement

    style.font.name = "Arial"
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), east_asian)
    fonts.set(qn("w:hint"), "eastAsia")
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "en-GB")
    lang.set(qn("w:eastAsia"), "zh-CN")


def _shade(cell: Any, colour: str) -> None:
    from docx.oxml.ns import qn
    from docx.oxml.parser import OxmlElement

    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), colour.lstrip("#").upper())
    cell._tc.get_or_add_tcPr().append(shading)


def _table(
    doc: Any,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths_cm: Sequence[float] | None = None,
) -> Any:
    """A bordered table with a repeated, shaded header row; small type."""
    from docx.oxml.ns import qn
    from docx.oxml.parser import OxmlElement
    from docx.shared import Cm, Pt

    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
        _shade(cell, "#F3F3F3")
        for run in cell.paragraphs[0].runs:
            run.bold = True
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    table.rows[0]._tr.get_or_add_trPr().append(repeat)
    for values in rows:
        for cell, text in zip(table.add_row().cells, values, strict=True):
            cell.text = text
    if widths_cm is not None:
        table.autofit = False
        for column, width in zip(table.columns, widths_cm, strict=True):
            column.width = Cm(width)
        for row in table.rows:
            for cell, width in zip(row.cells, widths_cm, strict=True):
                cell.width = Cm(width)
    for row in table.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(8)
    return table


def _indicator_table(doc: Any, indicators: Sequence[Mapping[str, Any]]) -> None:
    rows = []
    for item in indicators:
        kind = "share" if _is_share(item) else "float"
        rows.append(
            [
                "\n".join(str(plain(item.get(k)) or "") for k in ("name_zh", "name")),
                _text(item.get("value"), kind),
                _text(item.get("target"), kind),
                "" if kind == "share" else str(plain(item.get("unit")) or ""),
                _verdict(item.get("passed")),
            ]
        )
    header = ["指标 Indicator", "数值 Value", "目标 Target", "单位 Unit", "结论 Result"]
    table = _table(doc, header, rows, (10.0, 3.0, 3.0, 3.0, 3.0))
    for row in table.rows[1:]:
        cell = row.cells[4]
        colour = {_PASS: "#D9F2E0", _FAIL: "#F9D6D3"}.get(cell.text)
        if colour:
            _shade(cell, colour)


def _county_table(doc: Any, counties: pd.DataFrame) -> None:
    from riskmap.report import COUNTY_COLUMNS

    columns = [c for c in COUNTY_COLUMNS if c[0] in counties.columns]
    header = [f"{zh}\n{en}" for _, zh, en, _ in columns]
    rows = [
        [_text(record.get(col), kind) for col, _, _, kind in columns]
        for record in counties.to_dict("records")
    ]
    wide = {"name": 1.9, "name_en": 2.0, "population": 1.9}
    narrow = (_TEXT_WIDTH_CM - sum(wide.get(c[0], 0.0) for c in columns)) / max(
        1, sum(c[0] not in wide for c in columns)
    )
    widths = [wide.get(col, narrow) for col, *_ in columns]
    table = _table(doc, header, rows, widths)
    kinds = [kind for *_, kind in columns]
    if "class" in kinds:
        j = kinds.index("class")
        for row in table.rows[1:]:
            klass = row.cells[j].text
            if klass in ("1", "2", "3", "4", "5"):
                _shade(row.cells[j], RISK_COLOURS[int(klass) - 1])


def _method_rows(method: Any, prefix: str = "") -> list[list[str]]:
    """Flatten the method record to rows of (dotted key, value)."""
    if isinstance(method, Mapping):
        rows: list[list[str]] = []
        for key, value in method.items():
            rows += _method_rows(value, f"{prefix}{key}.")
        return rows
    if isinstance(method, list | tuple) and any(
        isinstance(v, Mapping | list | tuple) for v in method
    ):
        rows = []
        for i, value in enumerate(method, start=1):
            rows += _method_rows(value, f"{prefix}{i}.")
        return rows
    if isinstance(method, list | tuple | np.ndarray):
        text = ", ".join(str(plain(v)) for v in method)
    else:
        value = plain(method)
        text = "—" if value is None else str(value)
    return [[prefix.rstrip("."), text]]


def _default_maps(
    out_dir: Path, counties: pd.DataFrame
) -> dict[str, Mapping[str, str | Path]]:
    folder = out_dir / "maps"
    return {
        code: {"png": folder / f"{safe_filename(code)}.png"}
        for code in counties["adcode"].astype(str)
    }


def _add_maps(
    doc: Any,
    out_dir: Path,
    counties: pd.DataFrame,
    maps: Mapping[str, Mapping[str, str | Path]],
) -> int:
    """Add each county's PNG map with a caption; return how many."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm

    added = 0
    for record in counties.to_dict("records"):
        code = str(record.get("adcode", ""))
        png = maps.get(code, {}).get("png")
        if png is None:
            continue
        png = Path(png) if Path(png).is_absolute() else out_dir / png
        if not png.is_file():
            continue
        if added:
            doc.add_page_break()
        # Height-bound so a map and its caption share a page with a heading.
        doc.add_picture(str(png), height=Cm(14.5))
        doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
        name = f"{record.get('name', '')} {plain(record.get('name_en')) or ''}"
        caption = doc.add_paragraph(f"图 {added + 1}  {name.strip()} ({code})")
        caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
        added += 1
    return added


def write_report_docx(
    out_dir: str | Path,
    counties: pd.DataFrame,
    indicators: Sequence[Mapping[str, Any]],
    method: Mapping[str, Any],
    *,
    maps: Mapping[str, Mapping[str, str | Path]] | None = None,
    title: str = _TITLE,
    east_asian_font: str = EAST_ASIAN_FONT,
) -> Path:
    """Write the run's report as ``report.docx`` (Word) into ``out_dir``.

    The document holds what ``report.html`` holds: the plan indicators with
    达标/未达标, the county table, the risk-class key, each county's static
    map (PNG) and the method record, on A4 landscape pages.

    Parameters
    ----------
    out_dir : str or Path
        The run's output folder (created if needed).
    counties : DataFrame
        County results; the columns of :data:`riskmap.report.COUNTY_COLUMNS`
        that exist are shown.
    indicators : sequence of dict
        Plan indicators ``{name, name_zh, value, target, unit, passed}``.
    method : dict
        The method record; nested keys are flattened (``risk.weights.flood``).
    maps : dict, optional
        ``{adcode: {"png": path}}``, paths absolute or relative to
        ``out_dir``; by default ``maps/<adcode>.png``. Missing files are
        left out.
    title : str
        Document title (Chinese and English).
    east_asian_font : str
        Font named for Chinese text (see :data:`EAST_ASIAN_FONT`).

    Returns
    -------
    Path
        ``out_dir / "report.docx"``.

    Examples
    --------
    >>> import tempfile
    >>> from docx import Document
    >>> counties = pd.DataFrame({"adcode": ["451002"], "name": ["右江区"],
    ...                          "risk_class": [4]})
    >>> ind = [{"name": "Shelter reach", "name_zh": "避难场所可达", "value": 0.82,
    ...         "target": 0.8, "unit": "share", "passed": True}]
    >>> path = write_report_docx(tempfile.mkdtemp(), counties, ind, {"k": 1})
    >>> doc = Document(str(path))
    >>> [c.text for c in doc.tables[0].rows[1].cells][1:]
    ['82.0 %', '80.0 %', '', '达标']
    """
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm, Pt

    out_dir = Path(out_dir)
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(_MARGIN_CM))
    for name in ("Normal", "Title", "Heading 1", "Caption"):
        _set_fonts(doc.styles[name], east_asian_font)
    doc.styles["Normal"].font.size = Pt(10)
    doc.core_properties.title = title
    doc.core_properties.author = "riskmap"
    doc.core_properties.language = "zh-CN"

    # Title, then the sections in the order of report.html.
    doc.add_heading(title, level=0)
    stamp = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    doc.add_paragraph(f"生成时间 Generated: {stamp}")

    doc.add_heading("规划指标 Plan indicators", level=1)
    if indicators:
        _indicator_table(doc, indicators)
    else:
        doc.add_paragraph("没有指标 No indicators were computed.")

    doc.add_heading("区县结果 Results by county", level=1)
    _county_table(doc, counties)
    key = " · ".join(
        f"{k} {zh} {en}" for k, (zh, en) in sorted(RISK_CLASS_NAMES.items())
    )
    doc.add_paragraph(f"风险等级 Risk classes: {key}")

    doc.add_page_break()
    doc.add_heading("地图 Maps", level=1)
    found = _add_maps(doc, out_dir, counties, maps or _default_maps(out_dir, counties))
    if not found:
        doc.add_paragraph("没有地图 No maps were found next to this report.")

    doc.add_page_break()
    doc.add_heading("方法 Method", level=1)
    _table(doc, ["参数 Parameter", "取值 Value"], _method_rows(method), (9.0, 17.1))

    path = out_dir / "report.docx"
    with atomic_path(path) as tmp:
        doc.save(str(tmp))
    logger.info("wrote %s (%d map(s))", path, found)
    return path


# ---------------------------------------------------------------------------
# PDF through LibreOffice
# ---------------------------------------------------------------------------


def find_soffice() -> str | None:
    """Return the path of LibreOffice's ``soffice``, or None.

    Examples
    --------
    >>> path = find_soffice()
    >>> path is None or Path(path).is_file()
    True
    """
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_to_pdf(
    source: str | Path, pdf: str | Path | None = None, *, timeout_s: float = 180.0
) -> Path | None:
    """Convert an Office file to PDF with headless LibreOffice, if installed.

    LibreOffice runs with a throw-away profile (``-env:UserInstallation``)
    and ``HOME``, so it works as root, in CI and beside an open LibreOffice.
    On Debian, ``libreoffice-writer-nogui`` (and ``libreoffice-calc-nogui``
    for workbooks) with ``--no-install-recommends`` suffice.

    Parameters
    ----------
    source : str or Path
        A ``.docx``, ``.xlsx`` or other file LibreOffice opens.
    pdf : str or Path, optional
        The PDF to write; default ``source`` with the suffix ``.pdf``.
    timeout_s : float
        How long LibreOffice may take.

    Returns
    -------
    Path or None
        The PDF, or None (with a warning) without LibreOffice or on failure.

    Examples
    --------
    >>> import tempfile
    >>> convert_to_pdf(Path(tempfile.mkdtemp()) / "missing.docx") is None
    True
    """
    source = Path(source)
    target = Path(pdf) if pdf is not None else source.with_suffix(".pdf")
    soffice = find_soffice()
    if soffice is None or not source.is_file():
        logger.warning("cannot convert %s to PDF: %s", source,
                       "LibreOffice is not installed" if soffice is None
                       else "the file does not exist")  # fmt: skip
        return None
    with tempfile.TemporaryDirectory(prefix="riskmap-soffice-") as work:
        profile, out = Path(work) / "profile", Path(work) / "out"
        command = [
            soffice,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(source),
        ]
        try:
            subprocess.run(
                command,
                capture_output=True,
                timeout=timeout_s,
                env={**os.environ, "HOME": work},
                check=True,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            logger.warning("LibreOffice could not convert %s: %s", source, exc)
            return None
        made = out / f"{source.stem}.pdf"
        if not made.is_file():
            logger.warning("LibreOffice wrote no PDF for %s", source)
            return None
        with atomic_path(target) as tmp:
            shutil.move(made, tmp)
    logger.info("wrote %s", target)
    return target
