"""The run's ``report.html``: method, county table, plan indicators and maps.

The page is a single self-contained file: styles are inline, static maps
are embedded as ``data:`` images, and the interactive maps are linked with
relative paths, so the output folder can be copied or zipped as a whole.
Every value is HTML-escaped by the template engine.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd

from riskmap._io import atomic_path, safe_filename
from riskmap._values import plain
from riskmap.maps import HAZARD_NAMES, RISK_CLASS_NAMES, RISK_COLOURS

__all__ = [
    "CHROMIUM_COMMANDS",
    "COUNTY_COLUMNS",
    "PRINT_CSS",
    "find_chromium",
    "format_value",
    "write_report",
    "write_report_pdf",
]

logger = logging.getLogger(__name__)

#: County table columns: (column, Chinese header, English header, format).
COUNTY_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("name", "区县", "County", "text"),
    ("name_en", "英文名", "English name", "text"),
    ("adcode", "代码", "Adcode", "text"),
    ("population", "人口", "Population", "int"),
    ("area_km2", "面积", "Area (km²)", "int"),
    *((col, zh, en, "index") for col, (zh, en) in HAZARD_NAMES.items()),
    ("risk_score", "风险指数", "Risk score", "index"),
    ("risk_class", "风险等级", "Risk class", "class"),
    ("pop_share_shelter_reach", "避难场所可达", "Shelter reach", "share"),
    ("pop_share_relief_10h", "10小时救援", "Relief ≤ 10 h", "share"),
    ("highrisk_share_air_2h", "2小时航空", "Air ≤ 2 h (high risk)", "share"),
    ("shelter_m2_per_person", "人均避难面积", "Shelter m²/person", "float"),
)

_TEMPLATES = Path(__file__).resolve().parent / "templates"


def format_value(value: Any, kind: str = "float") -> str:
    """Format one number for the report.

    Examples
    --------
    >>> format_value(np.float64(0.91234), "share")
    '91.2 %'
    >>> format_value(3571505, "int")
    '3,571,505'
    >>> format_value(float("nan"))
    '—'
    >>> format_value(0.99996, "share")
    '> 99.9 %'
    """
    value = plain(value)
    if value is None or value == "":
        return "—"
    if kind == "text" or isinstance(value, str):
        return str(value)
    if isinstance(value, dt.date | dt.datetime | pd.Timestamp):
        return value.isoformat()
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if kind == "share":
        # Never round a shortfall up to 100 % (or a trace down to 0 %).
        if 0 < 1 - number < 0.0005:
            return "> 99.9 %"
        if 0 < number < 0.0005:
            return "< 0.1 %"
        return f"{100 * number:.1f} %"
    if kind in ("int", "class"):
        return f"{number:,.0f}"
    if kind == "index":
        return f"{number:.3f}"
    return f"{number:,.2f}"


def _county_rows(counties: pd.DataFrame) -> list[dict[str, Any]]:
    columns = [c for c in COUNTY_COLUMNS if c[0] in counties.columns]
    rows = []
    for record in counties.to_dict("records"):
        cells = []
        for col, _, _, kind in columns:
            value = plain(record.get(col))
            colour = None
            if kind == "class" and value in (1, 2, 3, 4, 5):
                colour = RISK_COLOURS[int(value) - 1]
            cells.append({"text": format_value(value, kind), "colour": colour})
        rows.append({"adcode": str(record.get("adcode", "")), "cells": cells})
    return rows


def _indicator_rows(indicators: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for item in indicators:
        unit = str(plain(item.get("unit")) or "")
        kind = "share" if unit in ("share", "fraction", "0-1") else "float"
        passed = plain(item.get("passed"))
        rows.append(
            {
                "name": str(plain(item.get("name")) or ""),
                "name_zh": str(plain(item.get("name_zh")) or ""),
                "value": format_value(item.get("value"), kind),
                "target": format_value(item.get("target"), kind),
                "unit": "" if kind == "share" else unit,
                "passed": None if passed is None else bool(passed),
            }
        )
    return rows


def _method_items(method: Any) -> Any:
    """Turn the method description into nested lists of (key, value) pairs."""
    if isinstance(method, Mapping):
        return [(str(k), _method_items(v)) for k, v in method.items()]
    if isinstance(method, list | tuple) and any(
        isinstance(v, Mapping | list | tuple) for v in method
    ):
        return [(str(i + 1), _method_items(v)) for i, v in enumerate(method)]
    if isinstance(method, list | tuple | np.ndarray):
        return ", ".join(str(plain(v)) for v in method)
    value = plain(method)
    return "—" if value is None else str(value)


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def _map_entries(
    out_dir: Path,
    counties: pd.DataFrame,
    maps: Mapping[str, Mapping[str, str | Path]] | None,
    embed_images: bool,
) -> tuple[str | None, list[dict[str, Any]]]:
    """Find the city map and each county's maps, relative to ``out_dir``."""
    if maps is None:
        folder = out_dir / "maps"
        maps = {"city": {"html": folder / "index.html"}}
        for code in counties["adcode"].astype(str):
            name = safe_filename(code)
            maps[code] = {
                "html": folder / f"{name}.html",
                "png": folder / f"{name}.png",
            }

    def existing(path: str | Path | None) -> Path | None:
        if path is None:
            return None
        full = Path(path) if Path(path).is_absolute() else out_dir / path
        return full if full.is_file() else None

    def link(path: Path | None) -> str | None:
        if path is None:
            return None
        try:
            return path.resolve().relative_to(out_dir.resolve()).as_posix()
        except ValueError:
            return path.resolve().as_uri()

    city = link(existing(maps.get("city", {}).get("html")))
    entries = []
    codes = counties["adcode"].astype(str)
    english = (
        counties["name_en"] if "name_en" in counties else pd.Series("", codes.index)
    )
    names = dict(zip(codes, counties["name"], strict=True))
    names_en = dict(zip(codes, english.fillna(""), strict=True))
    for code, name in names.items():
        files = maps.get(code, {})
        png = existing(files.get("png"))
        image = None
        if png is not None:
            image = _data_uri(png) if embed_images else link(png)
        html_path = link(existing(files.get("html")))
        if image or html_path:
            label = f"{name} {names_en.get(code) or ''}".strip()
            entries.append({"name": label, "image": image, "html": html_path})
    return city, entries


def _relative_classes(method: Mapping[str, Any]) -> bool:
    """True unless the run classified risk by fixed thresholds."""
    risk = method.get("risk")
    return not (
        isinstance(risk, Mapping) and risk.get("classification") == "thresholds"
    )


def write_report(
    out_dir: str | Path,
    counties: pd.DataFrame,
    indicators: Sequence[Mapping[str, Any]],
    method: Mapping[str, Any],
    *,
    maps: Mapping[str, Mapping[str, str | Path]] | None = None,
    title: str = "百色市灾害风险与应急保障评估报告 Baise disaster-risk and "
    "emergency-coverage report",
    embed_images: bool = True,
) -> Path:
    """Write ``report.html`` into ``out_dir`` and return its path.

    Parameters
    ----------
    out_dir : str or Path
        The run's output folder (created if needed).
    counties : DataFrame
        County results; the columns of :data:`COUNTY_COLUMNS` that exist are
        shown, in that order.
    indicators : sequence of dict
        Plan indicators ``{name, name_zh, value, target, unit, passed}``.
        A unit of ``"share"`` is shown as a percentage.
    method : dict
        Description of the method (weights, classes, parameters); nested
        dicts and lists are shown as nested tables.
    maps : dict, optional
        ``{"city": {"html": path}, adcode: {"html": path, "png": path}}``.
        By default ``maps/index.html``, ``maps/<adcode>.html`` and
        ``maps/<adcode>.png`` under ``out_dir`` are used when they exist.
    title : str
        Page title.
    embed_images : bool
        Embed the PNG maps in the page (self-contained) rather than link
        them.

    Returns
    -------
    Path
        ``out_dir / "report.html"``.

    Examples
    --------
    >>> import tempfile
    >>> counties = pd.DataFrame({"adcode": ["451002"], "name": ["右江区"],
    ...                          "risk_class": [4], "population": [420000]})
    >>> ind = [{"name": "Shelter reach", "name_zh": "避难场所可达", "value": 0.82,
    ...         "target": 0.8, "unit": "share", "passed": True}]
    >>> method = {"weights": {"flood": 0.3}}
    >>> path = write_report(tempfile.mkdtemp(), counties, ind, method)
    >>> "82.0 %" in path.read_text(encoding="utf-8")
    True
    """
    out_dir = Path(out_dir)
    city, county_maps = _map_entries(out_dir, counties, maps, embed_images)
    columns = [c for c in COUNTY_COLUMNS if c[0] in counties.columns]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    page = env.get_template("report.html").render(
        title=title,
        generated=dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        columns=columns,
        county_rows=_county_rows(counties),
        indicators=_indicator_rows(indicators),
        method=_method_items(method),
        relative_classes=_relative_classes(method),
        risk_classes=[
            (k, RISK_CLASS_NAMES[k][0], RISK_CLASS_NAMES[k][1], RISK_COLOURS[k - 1])
            for k in range(1, 6)
        ],
        city_map=city,
        county_maps=county_maps,
    )
    path = out_dir / "report.html"
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    logger.info("wrote %s", path)
    return path


# ---------------------------------------------------------------------------
# Printable PDF
# ---------------------------------------------------------------------------

#: Print rules added to the page when it is printed to PDF: A4 landscape,
#: so the wide county table keeps one line per county.
PRINT_CSS = (
    "@page { size: A4 landscape; margin: 12mm 10mm; }\n"
    "@media print { body { font-size: 10pt; } td.num { white-space: nowrap; }"
    " .maps { grid-template-columns: 1fr 1fr; }"
    # Two rows of two maps to a page rather than one row.
    " figure img { max-height: 66mm; width: auto; max-width: 100%;"
    " display: block; margin: 0 auto; } }\n"
)

#: Browser commands tried, in order, to print ``report.html``.
CHROMIUM_COMMANDS: tuple[str, ...] = (
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
)


def find_chromium() -> str | None:
    """Return the path of a Chromium or Chrome executable, or None.

    Examples
    --------
    >>> path = find_chromium()
    >>> path is None or Path(path).is_file()
    True
    """
    import shutil

    return next(
        (found for name in CHROMIUM_COMMANDS if (found := shutil.which(name))), None
    )


def _print_with_chromium(browser: str, html: Path, pdf: Path, timeout_s: float) -> bool:
    """Print ``html`` to ``pdf`` with headless Chromium; True on success."""
    import os
    import tempfile

    page = html.read_text(encoding="utf-8")
    extra = f"<style>\n{PRINT_CSS}</style>\n"
    if "</head>" in page:
        page = page.replace("</head>", extra + "</head>", 1)
    else:
        page = extra + page
    # The copy sits next to report.html so that its relative links still
    # work; its .tmp- prefix lets a later run remove it after a crash.
    fd, name = tempfile.mkstemp(prefix=".tmp-print-", suffix=".html", dir=html.parent)
    os.close(fd)
    copy = Path(name)
    try:
        copy.write_text(page, encoding="utf-8")
        with (
            tempfile.TemporaryDirectory(prefix="riskmap-chromium-") as profile,
            atomic_path(pdf) as tmp,
        ):
            if not _run_chromium(browser, copy, tmp, Path(profile), timeout_s):
                raise _NotPrinted  # leaves any previous PDF in place
    except _NotPrinted:
        return False
    finally:
        copy.unlink(missing_ok=True)
    return True


def _run_chromium(
    browser: str, page: Path, pdf: Path, profile: Path, timeout_s: float
) -> bool:
    import os
    import subprocess

    command = [
        browser,
        "--headless",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        "--no-pdf-header-footer",
        f"--user-data-dir={profile}",
        f"--print-to-pdf={pdf}",
        page.resolve().as_uri(),
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.insert(1, "--no-sandbox")  # Chromium refuses to run as root
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            timeout=timeout_s,
            env={**os.environ, "HOME": str(profile)},
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        logger.warning("Chromium could not print %s: %s", page, exc)
        return False
    if done.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
        logger.warning(
            "Chromium could not print %s (exit %s): %s",
            page,
            done.returncode,
            done.stderr.decode(errors="replace")[-400:],
        )
        return False
    return True


class _NotPrinted(Exception):
    """Leave the atomic block without replacing the previous PDF."""


def write_report_pdf(
    html: str | Path,
    pdf: str | Path | None = None,
    *,
    timeout_s: float = 180.0,
) -> Path | None:
    """Print ``report.html`` to a PDF (A4 landscape), if a converter exists.

    Headless Chromium prints the page itself (Debian: ``apt-get install
    chromium``). Without it, LibreOffice (``soffice``) converts the
    ``report.docx`` next to the page, when there is one
    (:func:`riskmap.office.write_report_docx`). With neither, a warning is
    logged and None returned: a run does not fail for want of a PDF.

    Parameters
    ----------
    html : str or Path
        The ``report.html`` written by :func:`write_report`.
    pdf : str or Path, optional
        The PDF to write; default ``report.pdf`` next to ``html``.
    timeout_s : float
        How long the converter may take.

    Returns
    -------
    Path or None
        The PDF, or None when no converter is available or it failed.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> write_report_pdf(folder / "missing.html") is None
    True
    """
    html = Path(html)
    target = Path(pdf) if pdf is not None else html.with_suffix(".pdf")
    if not html.is_file():
        logger.warning("no PDF: %s does not exist", html)
        return None

    # Chromium prints the page as it looks; LibreOffice prints the Word copy.
    browser = find_chromium()
    if browser is not None and _print_with_chromium(browser, html, target, timeout_s):
        logger.info("wrote %s", target)
        return target
    docx = html.with_suffix(".docx")
    if docx.is_file():
        from riskmap.office import convert_to_pdf

        done = convert_to_pdf(docx, target, timeout_s=timeout_s)
        if done is not None:
            return done
    logger.warning(
        "no PDF of %s: install Chromium (apt-get install chromium) or LibreOffice "
        "(apt-get install libreoffice-writer-nogui)",
        html,
    )
    return None
