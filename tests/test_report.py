"""Tests of riskmap.report: content, escaping, self-containment, map links."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskmap.assets import external_references
from riskmap.report import format_value, write_report

INDICATORS = [
    {
        "name": "Population within shelter reach",
        "name_zh": "避难场所覆盖人口比例",
        "value": np.float64(0.83),
        "target": 0.8,
        "unit": "share",
        "passed": np.bool_(True),
    },
    {
        "name": "Shelter area per person",
        "name_zh": "人均避难面积",
        "value": 1.7,
        "target": 2.0,
        "unit": "m²/person",
        "passed": False,
    },
    {
        "name": "<script>alert(1)</script>",
        "name_zh": "未计算",
        "value": None,
        "target": 1,
        "unit": "",
        "passed": None,
    },
]

METHOD = {
    "risk": "hazard × exposure × vulnerability",
    "weights": {"h_flood": 0.3, "h_fire": np.float32(0.2)},
    "classes": [0.2, 0.4, 0.6, 0.8],
    "run_at": pd.Timestamp("2024-05-03T09:30:00+08:00"),
}


@pytest.fixture
def counties() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "adcode": ["451002", "451003"],
            "name": ["右江区", "<i>田阳区</i>"],
            "name_en": ["Youjiang", None],
            "population": np.array([420_000, 380_000]),
            "h_flood": [0.41, np.nan],
            "risk_score": [0.5, 0.2],
            "risk_class": np.array([4, 2]),
            "pop_share_relief_10h": [0.9, 0.455],
        }
    )


def test_report_holds_indicators_table_and_method(
    counties: pd.DataFrame, tmp_path: Path
) -> None:
    page = write_report(tmp_path, counties, INDICATORS, METHOD).read_text("utf-8")
    assert "83.0 %" in page and "80.0 %" in page
    assert page.count("✔ 达标 Pass") == 1
    assert page.count("✘ 未达标 Fail") == 1
    assert "420,000" in page and "45.5 %" in page
    assert "hazard × exposure × vulnerability" in page
    assert "2024-05-03 09:30:00+08:00" in page or "2024-05-03T09:30:00+08:00" in page
    assert "h_flood" in page and "0.2, 0.4, 0.6, 0.8" in page


def test_report_escapes_data_and_loads_nothing_external(
    counties: pd.DataFrame, tmp_path: Path
) -> None:
    page = write_report(tmp_path, counties, INDICATORS, METHOD).read_text("utf-8")
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;i&gt;田阳区&lt;/i&gt;" in page
    assert external_references(page) == []


def test_report_embeds_static_maps_and_links_web_maps(
    counties: pd.DataFrame, tmp_path: Path
) -> None:
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "index.html").write_text("<html></html>")
    (maps / "451002.html").write_text("<html></html>")
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
    (maps / "451002.png").write_bytes(png)
    page = write_report(tmp_path, counties, INDICATORS, METHOD).read_text("utf-8")
    assert 'href="maps/index.html"' in page
    assert 'href="maps/451002.html"' in page
    assert re.search(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]+"', page)
    # No map files for 451003: it is simply not listed.
    assert page.count("<figure>") == 1

    linked = write_report(tmp_path, counties, INDICATORS, METHOD, embed_images=False)
    assert 'src="maps/451002.png"' in linked.read_text("utf-8")


def test_report_without_maps_or_indicators(
    counties: pd.DataFrame, tmp_path: Path
) -> None:
    page = write_report(tmp_path / "new", counties, [], {}).read_text("utf-8")
    assert "No indicators were computed" in page
    assert "No maps were found" in page


@pytest.mark.parametrize(
    ("value", "kind", "text"),
    [
        (0.8766, "share", "87.7 %"),
        (0.99996, "share", "> 99.9 %"),
        (1.0, "share", "100.0 %"),
        (0.0001, "share", "< 0.1 %"),
        (np.int64(3_571_505), "int", "3,571,505"),
        (np.float32(0.12345), "index", "0.123"),
        (None, "float", "—"),
        (float("inf"), "float", "—"),
        ("田阳县/田阳区", "text", "田阳县/田阳区"),
    ],
)
def test_format_value(value: object, kind: str, text: str) -> None:
    assert format_value(value, kind) == text


@pytest.mark.parametrize(
    ("method", "relative"), [("natural_breaks", True), ("thresholds", False)]
)
def test_report_says_when_classes_are_relative(
    tmp_path: Path, method: str, relative: bool
) -> None:
    counties = pd.DataFrame(
        {"adcode": ["451002"], "name": ["右江区"], "risk_class": [3]}
    )
    page = write_report(tmp_path, counties, [], {"risk": {"classification": method}})
    assert ("相对分级" in page.read_text(encoding="utf-8")) is relative
