"""Tests of riskmap.maps: layers, offline pages, hostile text, geometry."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from riskmap.assets import external_references, inline_page
from riskmap.errors import CRSError, FieldError
from riskmap.maps import (
    _canvas,
    _example_layers,
    _facility_points,
    _js_json,
    _warp,
    _web_geometries,
    city_map,
    county_map,
    save_map,
)

HOSTILE = [
    "St. Mary's Relief Point",
    "Shelter `B` (old gym)",
    "<b>Warehouse</b> & Depot </script>",
    "右江区“第一”中学 安置点",
    "Line one\nline two",
    "Back\\slash and 'quote\" mix",
]


def in_page(text: str, page: str) -> bool:
    """Whether ``text`` is in the page, as is or JSON-escaped by folium."""
    return text in page or json.dumps(text)[1:-1] in page


@pytest.fixture(scope="module")
def layers() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    counties, grid, facilities = _example_layers()
    extra = gpd.GeoDataFrame(
        {
            "facility_id": [f"H{i}" for i in range(len(HOSTILE))],
            "name": HOSTILE,
            "kind": "shelter",
            "adcode": "../../outside",
            "capacity_people": np.arange(len(HOSTILE), dtype="int32"),
            "last_inspected": pd.Timestamp("2024-02-29T23:59:59+08:00"),
        },
        geometry=gpd.points_from_xy(
            np.linspace(106.58, 106.60, len(HOSTILE)), [23.88] * len(HOSTILE)
        ),
        crs=4326,
    )
    facilities = pd.concat([facilities, extra], ignore_index=True)
    return counties, grid, gpd.GeoDataFrame(facilities, crs=4326)


@pytest.fixture(scope="module")
def city_page(layers, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("maps") / "index.html"
    save_map(city_map(*layers), path)
    return path.read_text(encoding="utf-8")


def test_city_map_has_every_layer_and_control(city_page: str) -> None:
    for name in (
        "区县风险等级 County risk class",
        "洪涝危险性指数 Flood index",
        "地质灾害危险性指数 Geological hazard index",
        "森林火灾危险性指数 Forest fire index",
        "地震危险性指数 Earthquake index",
        "人口密度 Population",
        "至避难场所时间 Time to shelter",
        "避难场所覆盖不足 Beyond shelter reach",
        "救援10小时未达 Relief not within 10 h",
        "直升机120分钟可达 Helicopter reach",
        "应急避难场所 Shelter",
        "物资储备点 Supply depot",
        "市级物资储备中心 Reserve centre",
        "直升机起降点 Helicopter base",
    ):
        assert in_page(name, city_page), name
    assert "L.control.layers" in city_page
    assert "L.control.scale" in city_page
    assert "L.Control.Fullscreen" in city_page or "fullscreen" in city_page
    assert "L.control.measure" in city_page or "Control.Measure" in city_page
    assert "图例 Legend" in city_page


def test_saved_page_loads_nothing_from_the_network(city_page: str) -> None:
    assert external_references(city_page) == []
    assert not re.search(r"<script[^>]+src=", city_page)
    assert not re.search(r"<link[^>]+stylesheet", city_page)
    for cdn in ("cdn.jsdelivr", "code.jquery", "cdnjs.cloudflare", "bootstrapcdn"):
        assert cdn not in city_page


def test_hostile_text_never_reaches_the_page_as_html(city_page: str) -> None:
    # Every </script> in the page closes one of its own <script> elements.
    assert city_page.count("</script>") == city_page.count("<script")
    assert "<b>Warehouse</b>" not in city_page
    assert "\\u003cb\\u003eWarehouse\\u003c/b\\u003e \\u0026 Depot" in city_page


def test_popup_rows_keep_text_dates_and_numbers(layers) -> None:
    _, _, facilities = layers
    points = _facility_points(facilities, {"451002": "右江区"})
    titles = [p["title"] for p in points]
    for name in HOSTILE:
        assert name in titles
    decoded = json.loads(_js_json(points))
    assert [p["title"] for p in decoded] == titles
    rows = dict(decoded[-1]["rows"])
    assert rows["容纳人数 Capacity (people)"] == "5"
    assert rows["last_inspected"] == "2024-02-29T23:59:59+08:00"
    assert rows["所属区县 County"] == "../../outside"
    assert dict(decoded[0]["rows"])["所属区县 County"] == "右江区 (451002)"


@pytest.mark.parametrize(
    "value", [np.float32(1.5), np.int64(7), np.bool_(True), pd.NaT, float("nan")]
)
def test_js_json_accepts_numpy_and_missing_values(value: object) -> None:
    text = _js_json({"v": value})
    assert json.loads(text)["v"] in (1.5, 7, True, None)


def test_county_map_is_small_and_offline(layers, tmp_path: Path) -> None:
    path = save_map(county_map("451003", *layers), tmp_path / "451003.html")
    page = path.read_text(encoding="utf-8")
    assert path.stat().st_size < 3_000_000
    assert external_references(page) == []
    assert in_page("田阳区灾害风险图 Tianyang disaster-risk map", page)
    assert in_page("周边区县 Neighbouring counties", page)


def test_county_map_rejects_unknown_adcode(layers) -> None:
    with pytest.raises(FieldError, match="'999999' is not among the counties"):
        county_map("999999", *layers)


def test_missing_columns_are_named(layers) -> None:
    counties, grid, facilities = layers
    with pytest.raises(FieldError, match=r"\['risk_class'\] are missing"):
        city_map(counties.drop(columns="risk_class"), grid, facilities)


def test_grid_in_degrees_is_refused(layers) -> None:
    counties, grid, facilities = layers
    with pytest.raises(CRSError, match="projected CRS"):
        city_map(counties, grid.to_crs(4326), facilities)


def test_tiles_need_attribution_and_are_used(layers, tmp_path: Path) -> None:
    url = "http://tiles.example.local/{z}/{x}/{y}.png"
    with pytest.raises(ValueError, match="attribution"):
        city_map(*layers, tiles=url)
    path = save_map(
        city_map(*layers, tiles=url, attribution="局域网 LAN"), tmp_path / "t.html"
    )
    assert url.replace("/", "\\/") in path.read_text(encoding="utf-8") or url in (
        path.read_text(encoding="utf-8")
    )


def test_inline_page_refuses_unknown_cdn_files() -> None:
    with pytest.raises(ValueError, match="not vendored"):
        inline_page('<script src="https://cdn.example.org/x.js"></script>')


def test_simplified_counties_share_borders(layers) -> None:
    counties, grid, _ = layers
    geoms = _web_geometries(counties, grid.crs, 300.0)
    assert bool(shapely.coverage_is_valid(geoms.to_numpy()))
    coords = shapely.get_coordinates(geoms.to_numpy())
    assert np.allclose(coords, np.round(coords, 5))
    # No gaps: the union equals the union of the originals, within rounding.
    before = counties.to_crs(grid.crs).union_all()
    after = gpd.GeoSeries(geoms, crs=4326).to_crs(grid.crs).union_all()
    assert before.symmetric_difference(after).area < 1e-3 * before.area


def test_grid_image_lands_on_its_cells() -> None:
    # Six full 1 km cells in UTM 48N; one of them is marked.
    x0, y0 = 700_000.0, 2_600_000.0
    cells = [
        shapely.box(x, y, x + 1000, y + 1000)
        for x in (x0, x0 + 1000, x0 + 2000)
        for y in (y0, y0 + 1000)
    ]
    grid = gpd.GeoDataFrame(geometry=cells, crs=32648)
    marked = 3  # x0 + 1000, y0 + 1000: the top middle cell
    values = np.zeros(len(grid))
    values[marked] = 1.0
    canvas = _canvas(grid)
    warped = _warp(canvas, values)

    # Every marked pixel centre, taken back to UTM, lies in the marked cell.
    rows, cols = np.nonzero(warped == 1.0)
    assert len(rows) >= 6
    t = canvas.dst_transform
    xs, ys = t.c + (cols + 0.5) * t.a, t.f + (rows + 0.5) * t.e
    back = gpd.GeoSeries(gpd.points_from_xy(xs, ys), crs=3857).to_crs(32648)
    assert back.within(cells[marked].buffer(1.0)).all()

    # The Leaflet bounds are the warped array's corners in lon/lat.
    (south, west), (north, east) = canvas.bounds
    lon0, lat0, lon1, lat1 = grid.to_crs(4326).total_bounds
    pixel_deg = 0.004
    assert west <= lon0 + 1e-9 and east >= lon1 - 1e-9
    assert south <= lat0 + 1e-9 and north >= lat1 - 1e-9
    assert max(lon0 - west, east - lon1, lat0 - south, north - lat1) < pixel_deg


def _real_counties(data_dir: Path) -> gpd.GeoDataFrame:
    path = data_dir / "boundaries" / "baise_counties.gpkg"
    if not path.exists():
        pytest.skip("data/boundaries/baise_counties.gpkg is not built yet")
    counties = gpd.read_file(path, layer="counties")
    counties["risk_class"] = np.arange(len(counties)) % 5 + 1
    return counties


def test_real_county_borders_stay_a_coverage(data_dir: Path) -> None:
    counties = _real_counties(data_dir)
    projected = counties.to_crs(32648)
    assert bool(shapely.coverage_is_valid(projected.geometry.to_numpy()))
    for tolerance in (50.0, 150.0):
        geoms = _web_geometries(counties, "EPSG:32648", tolerance)
        assert bool(shapely.coverage_is_valid(geoms.to_numpy()))
        after = geoms.to_crs(32648)
        assert after.area.sum() == pytest.approx(projected.area.sum(), rel=1e-3)


@pytest.mark.slow
def test_real_maps_stay_within_size_targets(data_dir: Path, tmp_path: Path) -> None:
    counties = _real_counties(data_dir)
    projected = counties.to_crs(32648)

    # A 1 km grid of whole cells, each given to the county holding its centre.
    x0, y0, x1, y1 = np.floor(projected.total_bounds / 1000) * 1000
    xs, ys = np.meshgrid(np.arange(x0, x1, 1000), np.arange(y0, y1, 1000))
    cells = gpd.GeoDataFrame(
        geometry=shapely.box(
            xs.ravel(), ys.ravel(), xs.ravel() + 1000, ys.ravel() + 1000
        ),
        crs=32648,
    )
    centres = gpd.GeoDataFrame(geometry=cells.centroid, crs=32648)
    joined = centres.sjoin(projected[["adcode", "geometry"]], predicate="within")
    grid = cells.loc[joined.index].assign(adcode=joined["adcode"].to_numpy())
    rng = np.random.default_rng(1)
    n = len(grid)
    grid["population"] = rng.gamma(1.0, 100.0, n).round()
    for col in ("h_flood", "h_geological", "h_fire", "h_earthquake"):
        grid[col] = rng.random(n)
    grid["risk_class"] = rng.integers(1, 6, n)
    grid["t_shelter_min"] = rng.uniform(0, 200, n)
    grid["t_relief_h"] = rng.uniform(0, 14, n)
    grid["t_air_min"] = rng.uniform(30, 200, n)
    assert 30_000 < n < 45_000
    _, _, facilities = _example_layers()

    city = save_map(city_map(counties, grid, facilities), tmp_path / "index.html")
    assert city.stat().st_size < 10_000_000
    for adcode in counties["adcode"]:
        page = save_map(
            county_map(adcode, counties, grid, facilities), tmp_path / f"{adcode}.html"
        )
        assert page.stat().st_size < 3_000_000, adcode


def test_county_map_without_neighbours_or_facilities(tmp_path: Path) -> None:
    counties, grid, facilities = _example_layers()
    alone = counties[counties["adcode"] == "451003"]
    cells = grid[grid["adcode"] == "451003"]
    m = county_map("451003", alone, cells, facilities.iloc[0:0])
    page = save_map(m, tmp_path / "alone.html").read_text(encoding="utf-8")
    assert external_references(page) == []


def test_township_labels_are_text_and_limited_to_the_county(
    layers, tmp_path: Path
) -> None:
    counties, grid, facilities = layers
    places = gpd.GeoDataFrame(
        {"name": ["<i>百城街道</i>", "四塘镇"], "adcode": ["451002", "451003"]},
        geometry=gpd.points_from_xy([106.59, 106.65], [23.90, 23.92]),
        crs=4326,
    )
    m = county_map("451002", counties, grid, facilities, places=places)
    page = save_map(m, tmp_path / "p.html").read_text(encoding="utf-8")
    assert in_page("乡镇 Townships", page)
    assert "\\u003ci\\u003e百城街道" in page
    assert "四塘镇" not in page


def test_case28_names_and_times_reach_the_popups_unchanged(
    cases_dir: Path, tmp_path: Path
) -> None:
    expected = json.loads((cases_dir / "EXPECTED.json").read_text("utf-8"))
    case = next(v for k, v in expected.items() if "28" in k)
    table = pd.read_csv(cases_dir / case["file"], dtype=str, keep_default_na=False)
    facilities = gpd.GeoDataFrame(
        {
            "name": table["name"],
            "kind": "shelter",
            "adcode": table["county"],
            "capacity_people": table["capacity"].astype("int64"),
            "last_inspected": pd.to_datetime(table["last_inspected"]),
        },
        geometry=gpd.points_from_xy(
            table["lon"].astype(float), table["lat"].astype(float)
        ),
        crs=4326,
    )
    points = json.loads(_js_json(_facility_points(facilities, {})))
    assert [p["title"] for p in points] == case["names_exact"]
    rows = [dict(p["rows"]) for p in points]
    assert [r["last_inspected"] for r in rows] == case["last_inspected_iso"]
    assert [r["所属区县 County"] for r in rows] == case["counties_exact"]

    counties, grid, _ = _example_layers()
    page = save_map(city_map(counties, grid, facilities), tmp_path / "c.html")
    text = page.read_text(encoding="utf-8")
    assert text.count("</script>") == text.count("<script")
