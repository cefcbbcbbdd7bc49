"""Tests of riskmap.static_maps: CJK glyphs, print output, furniture."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from fontTools.ttLib import TTCollection, TTFont
from matplotlib import font_manager
from PIL import Image

from riskmap import static_maps
from riskmap.errors import CRSError, FieldError
from riskmap.maps import _example_layers
from riskmap.static_maps import (
    _north_angle,
    cjk_font,
    nice_scale_length,
    static_county_map,
)

#: Every Chinese character the static maps print by themselves, plus names.
CHINESE = (
    "右江区田阳区田东县德保县那坡县凌云县乐业县田林县西林县隆林各族自治县靖西市平果市"
    "灾害风险分布图图例风险等级低较高中无数据区县界应急避难场所物资储备点市级物资储备中心"
    "直升机起降点乡镇北坐标系数据来源运行结果行政区划"
)


def _font_file(family: str) -> tuple[str, int]:
    """The file (and index inside a collection) matplotlib uses for ``family``."""
    prop = font_manager.FontProperties(family=family)
    path = font_manager.findfont(prop, fallback_to_default=False)
    index = 0
    if path.lower().endswith(".ttc"):
        with TTCollection(path, lazy=True) as collection:
            names = [f["name"].getDebugName(1) for f in collection.fonts]
        index = names.index(family) if family in names else 0
    return path, index


def test_a_cjk_font_is_installed() -> None:
    family = cjk_font()
    assert family is not None, (
        "no CJK font: install Debian fonts-noto-cjk (done by .ci/run)"
    )


def test_cjk_font_has_every_glyph_we_print() -> None:
    family = cjk_font()
    if family is None:
        pytest.fail("no CJK font installed (apt-get install fonts-noto-cjk)")
    path, index = _font_file(family)
    with TTFont(path, fontNumber=index, lazy=True) as font:
        cmap = font.getBestCmap()
    missing = sorted({ch for ch in CHINESE if ord(ch) not in cmap})
    assert not missing, f"{family} ({path}) lacks {missing}"


def test_static_map_renders_chinese_without_missing_glyphs(tmp_path: Path) -> None:
    counties, grid, facilities = _example_layers()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = static_county_map(
            "451002", counties, grid, facilities, tmp_path / "451002.png"
        )
    glyph_warnings = [
        str(w.message) for w in caught if "missing from" in str(w.message)
    ]
    assert glyph_warnings == []
    assert [p.name for p in out] == ["451002.png"]


def test_print_resolution_and_pdf(tmp_path: Path) -> None:
    counties, grid, facilities = _example_layers()
    out = static_county_map(
        "451003", counties, grid, facilities, tmp_path / "m.png", dpi=300, pdf=True
    )
    assert [p.suffix for p in out] == [".png", ".pdf"]
    with Image.open(out[0]) as image:
        width, height = image.size
        assert width >= 11 * 300 - 2 and height >= 8 * 300
        assert round(image.info["dpi"][0]) == 300
    assert out[1].read_bytes().startswith(b"%PDF")
    assert not list(tmp_path.glob(".tmp-*"))


def test_places_are_labelled(tmp_path: Path) -> None:
    import geopandas as gpd

    counties, grid, facilities = _example_layers()
    places = gpd.GeoDataFrame(
        {"name": ["百城街道", "四塘镇"], "kind": ["county_seat", "township"]},
        geometry=gpd.points_from_xy([106.59, 106.60], [23.90, 23.88]),
        crs=4326,
    )
    out = static_county_map(
        "451002", counties, grid, facilities, tmp_path / "p.png", places=places
    )
    assert out[0].stat().st_size > 10_000


@pytest.mark.parametrize(
    ("width", "expected"),
    [(83_000, 20_000), (3_000, 500), (40_000, 10_000), (250, 50)],
)
def test_nice_scale_length(width: float, expected: float) -> None:
    assert nice_scale_length(width) == expected


def test_north_arrow_follows_grid_convergence() -> None:
    # East of UTM 48N's central meridian (105°E) true north leans left.
    east = _north_angle("EPSG:32648", 700_000, 2_650_000)
    centre = _north_angle("EPSG:32648", 500_000, 2_650_000)
    assert 0.3 < east < 1.5
    assert abs(centre) < 0.01


def test_unknown_county_and_bad_crs_are_refused(tmp_path: Path) -> None:
    counties, grid, facilities = _example_layers()
    with pytest.raises(FieldError, match="'123' is not among the counties"):
        static_county_map("123", counties, grid, facilities, tmp_path / "x.png")
    with pytest.raises(CRSError, match="projected CRS"):
        static_county_map(
            "451002", counties, grid.to_crs(4326), facilities, tmp_path / "x.png"
        )


def test_warns_clearly_without_a_cjk_font(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(static_maps, "_installed_cjk_family", lambda: None)
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *a, **k: [])
    with pytest.warns(UserWarning, match="fonts-noto-cjk"):
        assert cjk_font.__wrapped__() is None


def test_a_county_without_neighbours_or_facilities(tmp_path: Path) -> None:
    counties, grid, facilities = _example_layers()
    alone = counties[counties["adcode"] == "451003"]
    out = static_county_map(
        "451003", alone, grid, facilities.iloc[0:0], tmp_path / "alone.png"
    )
    assert out[0].exists()
