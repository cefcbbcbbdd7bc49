"""Tests for riskmap.network: building, snapping and describing networks."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from pyproj import Geod
from rasterio.transform import from_origin
from shapely import LineString, Point

from riskmap.errors import LayerError, NetworkError
from riskmap.network import DEFAULT_SPEEDS_KMH, RoadNetwork, speed_for_class

UTM = "EPSG:32648"


def lines(
    *coords: list[tuple[float, float]], crs: str = UTM, **cols: list
) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(cols, geometry=[LineString(c) for c in coords], crs=crs)


@pytest.mark.parametrize(
    ("road_class", "speed"),
    [
        ("expressway", 100),
        ("motorway_link", 100),
        ("国道", 70),
        ("Trunk", 70),
        ("provincial", 60),
        ("major", 60),
        ("county", 45),
        ("secondary", 45),
        ("township", 35),
        ("tertiary", 35),
        ("residential", 25),
        (None, 25),
        (float("nan"), 25),
        ("['primary', 'trunk']", 60),
    ],
)
def test_speed_for_class(road_class: object, speed: float) -> None:
    assert speed_for_class(road_class) == speed


def test_speed_table_is_configurable() -> None:
    table = {**DEFAULT_SPEEDS_KMH, "county": 30.0, "other": 10.0}
    assert speed_for_class("County", table) == 30.0
    assert speed_for_class("track", table) == 10.0


def test_from_lines_times_and_oneway() -> None:
    roads = lines(
        [(0, 0), (3000, 0)],
        [(3000, 0), (3000, 4000)],
        [(3000, 4000), (0, 0)],
        highway=["primary", "county", "tertiary"],
        oneway=["no", "yes", "-1"],
    )
    net = RoadNetwork.from_lines(roads)
    assert (net.n_nodes, net.n_edges) == (3, 3)
    m = net.matrix.toarray()
    # primary 60 km/h: 3 km = 3 min both ways
    assert m[0, 1] == pytest.approx(3.0) and m[1, 0] == pytest.approx(3.0)
    # county 45 km/h one-way along drawing: 4 km = 5.333 min, not back
    assert m[1, 2] == pytest.approx(4 / 45 * 60) and m[2, 1] == 0
    # tertiary 35 km/h, oneway=-1: only against drawing (node 0 -> node 2)
    assert m[0, 2] == pytest.approx(5 / 35 * 60) and m[2, 0] == 0


def test_speed_field_overrides_class_where_valid() -> None:
    roads = lines(
        [(0, 0), (1000, 0)],
        [(1000, 0), (2000, 0)],
        highway=["primary", "primary"],
        maxspeed=[30, None],
    )
    net = RoadNetwork.from_lines(roads, speed_field="maxspeed")
    assert net.edges["speed_kmh"].tolist() == [30.0, 60.0]


def test_missing_speed_field_is_an_error() -> None:
    with pytest.raises(LayerError, match=r"field 'vmax'.*speed field is missing"):
        RoadNetwork.from_lines(lines([(0, 0), (1, 1)]), speed_field="vmax")


def test_lengths_are_metres_from_lonlat_input() -> None:
    roads = lines([(106.5, 23.9), (106.6, 23.95)], crs="EPSG:4326")
    net = RoadNetwork.from_lines(roads)
    geodesic = Geod(ellps="WGS84").inv(106.5, 23.9, 106.6, 23.95)[2]
    assert net.edges["length_m"].iloc[0] == pytest.approx(geodesic, rel=2e-3)


def test_layer_without_crs_is_rejected() -> None:
    bad = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1, 1)])])
    with pytest.raises(LayerError, match="no CRS"):
        RoadNetwork.from_lines(bad)


def test_geographic_network_crs_is_rejected() -> None:
    with pytest.raises(NetworkError, match="not projected"):
        RoadNetwork.from_lines(lines([(0, 0), (1, 1)]), crs="EPSG:4326")


def test_non_lines_are_rejected() -> None:
    bad = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=UTM)
    with pytest.raises(LayerError, match="Point"):
        RoadNetwork.from_lines(bad)


def test_end_points_merge_within_tolerance() -> None:
    roads = lines([(0, 0), (1000, 0)], [(1000.4, 0.3), (2000, 0)])
    assert RoadNetwork.from_lines(roads, snap_tolerance_m=1.0).n_nodes == 3
    assert RoadNetwork.from_lines(roads, snap_tolerance_m=0.1).n_nodes == 4


def test_components_are_reported_and_dead_ends_joined(
    caplog: pytest.LogCaptureFixture,
) -> None:
    roads = lines([(0, 0), (1000, 0)], [(1005, 0), (2000, 0)])
    with caplog.at_level(logging.WARNING, logger="riskmap.network"):
        net = RoadNetwork.from_lines(roads)
    assert "2 disconnected components" in caplog.text
    comp = net.components()
    assert comp.count == 2 and comp.sizes.tolist() == [2, 2]

    joined = RoadNetwork.from_lines(roads, join_tolerance_m=10)
    assert joined.components().count == 1
    link = joined.edges[joined.edges["road_class"] == "connector"]
    assert len(link) == 1 and link["length_m"].iloc[0] == pytest.approx(5.0)
    # the connector runs at the speed of the road it extends (other: 25 km/h)
    assert link["time_fw_min"].iloc[0] == pytest.approx(5 / (25000 / 60))


def test_parallel_edges_keep_the_fastest() -> None:
    roads = lines(
        [(0, 0), (1000, 0)],
        [(0, 0), (500, 300), (1000, 0)],
        highway=["other", "motorway"],
    )
    net = RoadNetwork.from_lines(roads)
    slow = 1000 / (25000 / 60)
    fast = net.edges["length_m"].iloc[1] / (100000 / 60)
    assert fast < slow
    assert net.matrix[0, 1] == pytest.approx(fast)
    graph = net.to_networkx()
    assert graph[0][1]["time_min"] == net.matrix[0, 1]


def test_to_networkx_matches_matrix() -> None:
    roads = lines(
        [(0, 0), (1000, 0)],
        [(1000, 0), (1000, 1000)],
        [(1000, 1000), (0, 0)],
        oneway=["yes", None, "-1"],
    )
    net = RoadNetwork.from_lines(roads)
    graph = net.to_networkx()
    coo = net.matrix.tocoo()
    assert {
        (int(i), int(j)): t for i, j, t in zip(coo.row, coo.col, coo.data, strict=True)
    } == {(u, v): d["time_min"] for u, v, d in graph.edges(data=True)}


def test_slope_factor_from_dem(tmp_path: Path) -> None:
    dem = tmp_path / "dem.tif"
    # 10 km x 1 km strip, elevation 0 m west of x=5000, 200 m east of it
    z = np.zeros((1, 10), dtype="int16")
    z[0, 5:] = 200
    with rasterio.open(
        dem,
        "w",
        driver="GTiff",
        width=10,
        height=1,
        count=1,
        dtype="int16",
        crs=UTM,
        transform=from_origin(0, 500, 1000, 1000),
        nodata=-999,
    ) as dst:
        dst.write(z, 1)
    roads = lines([(500, 0), (1500, 0)], [(4500, 0), (5500, 0)])
    net = RoadNetwork.from_lines(roads, dem=dem, slope_coef=5.0, max_slope_factor=2.0)
    # flat edge: factor 1; 200 m over 1000 m: 1 + 5 * 0.2 = 2 (= the cap)
    assert net.edges["slope_factor"].tolist() == [1.0, 2.0]
    assert net.edges["time_fw_min"].iloc[1] == pytest.approx(2 * 1000 / (25000 / 60))


def test_snap_to_edge_and_node_hand_computed() -> None:
    net = RoadNetwork.from_lines(lines([(0, 0), (1000, 0)], [(1000, 0), (1000, 2000)]))
    pts = gpd.GeoSeries([Point(250, 300), Point(1100, 1500)], index=["a", "b"], crs=UTM)
    s = net.snap(pts, max_snap_m=500, access_speed_kmh=5)
    assert s.loc["a", ["u", "v"]].tolist() == [0, 1]
    assert s.loc["a", "frac"] == pytest.approx(0.25)
    assert s.loc["a", "snap_m"] == pytest.approx(300)
    assert s.loc["a", "access_min"] == pytest.approx(300 / (5000 / 60))  # 3.6
    assert s.loc["b", "frac"] == pytest.approx(0.75)
    assert s.loc["b", "snap_m"] == pytest.approx(100)

    nodes = net.snap(pts, max_snap_m=1000, to="node")
    assert nodes["u"].tolist() == [0, 2] and (nodes["edge"] == -1).all()
    assert nodes.loc["a", "snap_m"] == pytest.approx(np.hypot(250, 300))


def test_snap_warns_about_far_points() -> None:
    net = RoadNetwork.from_lines(lines([(0, 0), (1000, 0)]))
    pts = gpd.GeoSeries([Point(0, 10), Point(0, 5000)], crs=UTM)
    with pytest.warns(
        UserWarning, match="1 of 2 points lie farther than max_snap_m=2000"
    ):
        s = net.snap(pts, max_snap_m=2000)
    assert s["connected"].tolist() == [True, False]
    assert np.isinf(s["access_min"].iloc[1])


def test_snap_rejects_bad_input() -> None:
    net = RoadNetwork.from_lines(lines([(0, 0), (1000, 0)]))
    with pytest.raises(LayerError, match="no CRS"):
        net.snap(gpd.GeoSeries([Point(0, 0)]))
    with pytest.raises(NetworkError, match="access_speed_kmh must be positive"):
        net.snap(gpd.GeoSeries([Point(0, 0)], crs=UTM), access_speed_kmh=0)


def test_from_edges_checks_node_numbers() -> None:
    with pytest.raises(NetworkError, match="index node_xy"):
        RoadNetwork.from_edges(
            np.zeros((2, 2)), np.array([0]), np.array([2]), np.array([1.0]), crs=UTM
        )


OSM_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="riskmap-test">
 <node id="1" version="1" lat="23.90" lon="106.60"/>
 <node id="2" version="1" lat="23.90" lon="106.61"/>
 <node id="3" version="1" lat="23.90" lon="106.62"/>
 <node id="4" version="1" lat="23.91" lon="106.61"/>
 <node id="5" version="1" lat="23.92" lon="106.61"/>
 <way id="10" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/>
  <tag k="highway" v="primary"/></way>
 <way id="11" version="1"><nd ref="2"/><nd ref="4"/>
  <tag k="highway" v="tertiary"/><tag k="oneway" v="-1"/></way>
 <way id="12" version="1"><nd ref="4"/><nd ref="5"/>
  <tag k="highway" v="footway"/></way>
</osm>
"""


def test_from_osm_splits_ways_and_keeps_oneway(tmp_path: Path) -> None:
    pytest.importorskip("osmium")
    path = tmp_path / "tiny.osm"
    path.write_text(OSM_XML)
    net = RoadNetwork.from_osm(path)
    # the primary way splits at node 2; the footway is not a road
    assert (net.n_nodes, net.n_edges) == (4, 3)
    assert sorted(net.edges["road_class"]) == ["primary", "primary", "tertiary"]
    m = net.matrix.toarray()
    # node numbers follow first appearance: OSM 2 -> 1, OSM 4 -> 3
    assert m[3, 1] > 0 and m[1, 3] == 0
    assert m[0, 1] == pytest.approx(net.edges["length_m"].iloc[0] / 1000)


def test_from_osm_missing_file(tmp_path: Path) -> None:
    pytest.importorskip("osmium")
    with pytest.raises(LayerError, match="does not exist"):
        RoadNetwork.from_osm(tmp_path / "none.osm.pbf")


def test_reordered_keeps_the_graph() -> None:
    rng = np.random.default_rng(7)
    xy = rng.uniform(0, 50000, size=(40, 2))
    u = rng.integers(0, 40, 80)
    v = rng.integers(0, 40, 80)
    oneway = rng.choice([0, 1, -1], 80)
    net = RoadNetwork.from_edges(
        xy, u, v, rng.uniform(100, 9000, 80), crs=UTM, oneway=oneway
    )
    again = net.reordered()
    old = again.input_node
    assert sorted(old.tolist()) == list(range(40))
    assert np.array_equal(again.node_xy, net.node_xy[old])
    # the same arcs, renumbered
    a = net.matrix.toarray()
    b = again.matrix.toarray()
    assert np.array_equal(b, a[np.ix_(old, old)])
    # renumbering an ordered network changes nothing
    assert np.array_equal(again.reordered().input_node, old)
