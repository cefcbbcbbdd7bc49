"""Tests for riskmap.reachability against networkx and hand computations."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import rasterio
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod
from rasterio.transform import from_origin
from shapely import Point, box

from riskmap.errors import FieldError, LayerError, NetworkError
from riskmap.network import RoadNetwork
from riskmap.reachability import (
    assign_capacity,
    close_edges,
    coverage,
    disrupt,
    disruption_impact,
    helicopter_time,
    nearest_facility,
    nearest_node_times,
    od_matrix,
    relief_time,
    service_areas,
    uncovered,
)

UTM = "EPSG:32648"
WALK = 5000 / 60  # metres per minute at 5 km/h
MAJOR = 60000 / 60  # metres per minute at 60 km/h


def at_nodes(net: RoadNetwork, nodes: list[int] | np.ndarray) -> gpd.GeoSeries:
    """Points exactly on the given nodes, indexed by node number."""
    nodes = np.asarray(nodes)
    return gpd.GeoSeries(
        gpd.points_from_xy(net.node_xy[nodes, 0], net.node_xy[nodes, 1]),
        index=nodes,
        crs=net.crs,
    )


def reference_graph(u, v, length, oneway) -> nx.DiGraph:
    """The graph built independently of riskmap, fastest arc per pair."""
    graph = nx.DiGraph()
    for a, b, m, s in zip(u, v, length, oneway, strict=True):
        t = m / (60.0 * 1000.0 / 60.0)
        for x, y, allowed in ((a, b, s >= 0), (b, a, s <= 0)):
            if (
                allowed
                and x != y
                and (not graph.has_edge(x, y) or graph[x][y]["w"] > t)
            ):
                graph.add_edge(x, y, w=t)
    return graph


def check_against_networkx(net, graph, facilities, origins, direction) -> None:
    got = nearest_facility(
        net,
        at_nodes(net, origins),
        at_nodes(net, facilities),
        direction=direction,
        snap_to="node",
        max_snap_m=1.0,
    )
    search = graph.reverse(copy=True) if direction == "to_facility" else graph
    search.add_nodes_from(range(net.n_nodes))
    ref = nx.multi_source_dijkstra_path_length(search, set(facilities), weight="w")
    expected = np.array([ref.get(o, np.inf) for o in origins])
    assert np.array_equal(got["time_min"].to_numpy(), expected)
    # the facility named serves the origin at that very time
    for o, row in got.iterrows():
        if np.isfinite(row["time_min"]):
            alone = nx.shortest_path_length(search, row["facility"], o, weight="w")
            assert alone == pytest.approx(row["time_min"], rel=1e-12)
        else:
            assert row["facility"] is pd.NA


# A small hand-made graph: a two-way spine, a one-way loop, a reversed
# one-way road and a disconnected pair.
#
#   0 --- 1 --- 2 --- 3        4 -> 5 (oneway=yes), 5 -> 1 drawn 1->5, oneway=-1
#   |           ^              6 --- 7   (separate component)
#   +---> 8 ----+  (0->8 yes, 8->2 yes)
XY = np.array(
    [
        [0, 0],
        [1000, 0],
        [2000, 0],
        [3000, 0],
        [0, 3000],
        [1000, 3000],
        [9000, 9000],
        [9500, 9000],
        [1000, -1000],
    ],
    dtype=float,
)
U = np.array([0, 1, 2, 4, 1, 6, 0, 8])
V = np.array([1, 2, 3, 5, 5, 7, 8, 2])
LEN = np.array([1000.0, 1000.0, 1000.0, 1500.0, 3000.0, 500.0, 1500.0, 700.0])
ONEWAY = np.array([0, 0, 0, 1, -1, 0, 1, 1])


@pytest.fixture
def small() -> tuple[RoadNetwork, nx.DiGraph]:
    net = RoadNetwork.from_edges(XY, U, V, LEN, crs=UTM, oneway=ONEWAY)
    return net, reference_graph(U, V, LEN, ONEWAY)


@pytest.mark.parametrize("direction", ["to_facility", "from_facility"])
@pytest.mark.parametrize("facilities", [[3], [0, 7], [5, 2], [4]])
def test_small_graph_matches_networkx(small, facilities, direction) -> None:
    net, graph = small
    check_against_networkx(net, graph, facilities, list(range(9)), direction)


def test_one_way_direction_hand_computed(small) -> None:
    net, _ = small
    fac = at_nodes(net, [5])
    origins = at_nodes(net, [4, 1, 0])
    to = nearest_facility(net, origins, fac, snap_to="node", max_snap_m=1)
    back = nearest_facility(
        net, origins, fac, snap_to="node", max_snap_m=1, direction="from_facility"
    )
    # 4 -> 5 is allowed (1.5 min); 1 -> 5 is not (oneway=-1 means 5 -> 1)
    assert to["time_min"].tolist() == [1.5, np.inf, np.inf]
    # from 5: 5 -> 1 (3 min), then 1 -> 0 (1 min); 5 -> 4 forbidden
    assert back["time_min"].tolist() == [np.inf, 3.0, 4.0]
    assert back["facility"].tolist()[1:] == [5, 5]


def test_disconnected_origins_are_inf_and_na(small) -> None:
    net, _ = small
    got = nearest_facility(
        net, at_nodes(net, [6, 7, 0]), at_nodes(net, [3]), snap_to="node", max_snap_m=1
    )
    assert np.isinf(got["time_min"].iloc[:2]).all()
    assert got["facility"].isna().tolist() == [True, True, False]


@st.composite
def random_graphs(draw):
    n = draw(st.integers(2, 25))
    m = draw(st.integers(1, 3 * n))
    u = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    v = draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    length = draw(st.lists(st.floats(1.0, 5000.0), min_size=m, max_size=m))
    oneway = draw(st.lists(st.sampled_from([0, 0, 1, -1]), min_size=m, max_size=m))
    fac = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4, unique=True))
    direction = draw(st.sampled_from(["to_facility", "from_facility"]))
    return (
        n,
        np.array(u),
        np.array(v),
        np.array(length),
        np.array(oneway),
        fac,
        direction,
    )


@settings(max_examples=80, deadline=None)
@given(random_graphs())
def test_random_graphs_match_networkx(case) -> None:
    n, u, v, length, oneway, fac, direction = case
    xy = np.column_stack([np.arange(n) * 10000.0, np.zeros(n)])
    net = RoadNetwork.from_edges(xy, u, v, length, crs=UTM, oneway=oneway)
    graph = reference_graph(u, v, length, oneway)
    check_against_networkx(net, graph, fac, list(range(n)), direction)
    # the full matrix agrees with the nearest facility, row by row
    pts, fpts = at_nodes(net, range(n)), at_nodes(net, fac)
    opts = {"direction": direction, "snap_to": "node", "max_snap_m": 1.0}
    od = od_matrix(net, pts, fpts, **opts).to_numpy()
    nearest = nearest_facility(net, pts, fpts, **opts)["time_min"].to_numpy()
    assert np.array_equal(od.min(axis=1), nearest)
    # renumbering the nodes changes nothing but the numbers
    again = net.reordered()
    t0, _ = nearest_node_times(net, fac, direction=direction)
    new_of = np.argsort(again.input_node)
    t1, _ = nearest_node_times(again, new_of[fac], direction=direction)
    assert np.array_equal(t1[new_of], t0)


def test_access_legs_and_edge_snapping_hand_computed() -> None:
    # one 1 km primary road (1 min) from node 0 (0, 0) to node 1 (1000, 0)
    net = RoadNetwork.from_edges(
        np.array([[0, 0], [1000, 0]], float),
        np.array([0]),
        np.array([1]),
        np.array([1000.0]),
        crs=UTM,
    )
    origin = gpd.GeoSeries([Point(250, 300)], crs=UTM)
    east = gpd.GeoSeries([Point(1000, 0)], index=["east"], crs=UTM)
    got = nearest_facility(net, origin, east, access_speed_kmh=5)
    # walk 300 m (3.6 min) + 750 m of road (0.75 min)
    assert got["time_min"].iloc[0] == pytest.approx(300 / WALK + 0.75)
    assert got["snap_m"].iloc[0] == pytest.approx(300)

    # facility on the same edge 100 m off the road at x = 750
    near = gpd.GeoSeries([Point(750, -100)], index=["near"], crs=UTM)
    got = nearest_facility(net, origin, near, access_speed_kmh=5)
    assert got["time_min"].iloc[0] == pytest.approx(300 / WALK + 0.5 + 100 / WALK)


@pytest.mark.parametrize(
    ("oneway", "to_east", "to_west"),
    [
        (0, 300 / WALK + 0.75, 300 / WALK + 0.25),
        (1, 300 / WALK + 0.75, np.inf),
        (-1, np.inf, 300 / WALK + 0.25),
    ],
)
def test_one_way_on_snapped_edges(oneway, to_east, to_west) -> None:
    net = RoadNetwork.from_edges(
        np.array([[0, 0], [1000, 0]], float),
        np.array([0]),
        np.array([1]),
        np.array([1000.0]),
        crs=UTM,
        oneway=np.array([oneway]),
    )
    origin = gpd.GeoSeries([Point(250, 300)], crs=UTM)
    ends = gpd.GeoSeries([Point(1000, 0), Point(0, 0)], index=["e", "w"], crs=UTM)
    times = od_matrix(net, origin, ends)
    assert times.iloc[0].tolist() == pytest.approx([to_east, to_west])


def test_far_points_are_dropped_with_a_warning() -> None:
    net = RoadNetwork.from_edges(
        np.array([[0, 0], [1000, 0]], float),
        np.array([0]),
        np.array([1]),
        np.array([1000.0]),
        crs=UTM,
    )
    pts = gpd.GeoSeries([Point(0, 0), Point(0, 9000)], crs=UTM)
    fac = gpd.GeoSeries([Point(1000, 0)], crs=UTM)
    with pytest.warns(UserWarning, match="1 of 2 origins lie farther"):
        got = nearest_facility(net, pts, fac, max_snap_m=500)
    assert got["time_min"].tolist() == [1.0, np.inf]


def test_direction_is_checked(small) -> None:
    net, _ = small
    with pytest.raises(NetworkError, match="direction must be"):
        nearest_facility(net, at_nodes(net, [0]), at_nodes(net, [1]), direction="up")


def test_cutoff_limits_the_search(small) -> None:
    net, _ = small
    got = nearest_facility(
        net,
        at_nodes(net, [0, 1, 3]),
        at_nodes(net, [0]),
        snap_to="node",
        max_snap_m=1,
        cutoff_min=1.5,
    )
    assert got["time_min"].tolist() == [0.0, 1.0, np.inf]


# -- helicopters -------------------------------------------------------------

AEB = (106.96, 23.7206)
LINGYUN = (106.57, 24.35)


def test_helicopter_time_matches_geod() -> None:
    base = gpd.GeoSeries([Point(*AEB)], index=["AEB"], crs="EPSG:4326")
    town = gpd.GeoSeries([Point(*LINGYUN)], crs="EPSG:4326").to_crs(UTM)
    km = Geod(ellps="WGS84").inv(*AEB, *LINGYUN)[2] / 1000
    got = helicopter_time(town, base, dispatch_min=30, cruise_kmh=254)
    assert got["distance_km"].iloc[0] == pytest.approx(km, rel=1e-9)
    assert got["time_min"].iloc[0] == pytest.approx(30 + 60 * km / 254, rel=1e-9)
    assert got["base"].iloc[0] == "AEB"


def test_helicopter_per_base_columns_and_range() -> None:
    bases = gpd.GeoDataFrame(
        {
            "dispatch_min": [30.0, np.nan],
            "cruise_kmh": [254.0, 310.0],
            "range_km": [150.0, 920.0],
        },
        geometry=[Point(*AEB), Point(106.6, 23.9)],
        index=["AEB", "pad"],
        crs="EPSG:4326",
    )
    town = gpd.GeoSeries([Point(*LINGYUN)], crs="EPSG:4326")
    geod = Geod(ellps="WGS84")
    km_pad = geod.inv(106.6, 23.9, *LINGYUN)[2] / 1000
    got = helicopter_time(town, bases, dispatch_min=45)
    # AEB is out of its 150 km round-trip range (2 x 80 km); the pad uses
    # the default dispatch 45 (its NaN falls back) and its own 310 km/h
    assert got["time_min"].iloc[0] == pytest.approx(45 + 60 * km_pad / 310)
    assert got["base"].iloc[0] == "pad"
    # AEB alone: round trip 2 x 80 km > 150 km range, one way fits
    only = bases.loc[["AEB"]]
    assert np.isinf(helicopter_time(town, only)["time_min"].iloc[0])
    assert helicopter_time(town, only)["base"].isna().all()
    one_way = helicopter_time(town, only, range_mode="one_way")
    assert np.isfinite(one_way["time_min"].iloc[0])
    assert np.isinf(
        helicopter_time(town, only.drop(columns="range_km"), range_km=100)[
            "time_min"
        ].iloc[0]
    )


# -- relief chain --------------------------------------------------------------


def test_relief_time_follows_the_hierarchy() -> None:
    # a 100 km road at 60 km/h: centre C at 0, county depots K1 at 40 km,
    # K2 at 100 km, township point T at 70 km; the cell sits at 80 km.
    xs = [0, 40000, 70000, 80000, 100000]
    xy = np.array([[x, 0] for x in xs], float)
    net = RoadNetwork.from_edges(
        xy, np.arange(4), np.arange(1, 5), np.diff(xs).astype(float), crs=UTM
    )
    depots = gpd.GeoDataFrame(
        {"level": ["city", "county", "county", "township"]},
        geometry=[Point(0, 0), Point(40000, 0), Point(100000, 0), Point(70000, 0)],
        index=["C", "K1", "K2", "T"],
        crs=UTM,
    )
    cells = gpd.GeoSeries([Point(80000, 0)], index=["cell"], crs=UTM)
    got = relief_time(
        net, cells, depots, handling_h={"city": 2, "county": 1, "township": 0.5}
    )
    # 2 h + 40 min (C->K1) + 1 h + 30 min (K1->T) + 0.5 h + 10 min (T->cell)
    expected = 2 + 40 / 60 + 1 + 30 / 60 + 0.5 + 10 / 60
    assert got.loc["cell", "t_relief_h"] == pytest.approx(expected)
    assert got.loc["cell", ["depot", "depot_county", "depot_city"]].tolist() == [
        "T",
        "K1",
        "C",
    ]
    assert bool(got.loc["cell", "within_10h"]) and bool(got.loc["cell", "within_24h"])


def test_relief_time_needs_levels() -> None:
    net = RoadNetwork.from_edges(
        np.array([[0, 0], [1000, 0]], float),
        np.array([0]),
        np.array([1]),
        np.array([1000.0]),
        crs=UTM,
    )
    depots = gpd.GeoDataFrame({"kind": ["depot"]}, geometry=[Point(0, 0)], crs=UTM)
    with pytest.raises(FieldError, match="field 'level'"):
        relief_time(net, depots, depots)
    with pytest.raises(FieldError, match="no depot has a level"):
        relief_time(net, depots, depots.assign(level="village"))


# -- capacity ------------------------------------------------------------------


@pytest.fixture
def demand() -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    times = pd.DataFrame(
        {"A": [10.0, 20.0, 5.0], "B": [30.0, 25.0, np.inf]}, index=["x", "y", "z"]
    )
    return times, pd.Series({"x": 80, "y": 60, "z": 30}), pd.Series({"A": 100, "B": 50})


def test_capacitated_assignment_hand_solved(demand) -> None:
    times, pop, cap = demand
    # 170 people, 150 places. Optimum: z 30 -> A, x 70 -> A, y 50 -> B;
    # any swap costs more (x->B instead of y->B +5, y->A instead of x->A +10).
    got = assign_capacity(times, pop, cap, method="capacitated")
    flows = {(r.origin, r.facility): r.people for r in got.flows.itertuples()}
    assert flows == pytest.approx({("x", "A"): 70, ("y", "B"): 50, ("z", "A"): 30})
    assert got.unassigned_population == pytest.approx(20)
    assert got.origins["unassigned"].tolist() == pytest.approx([10, 10, 0])
    assert got.facilities["assigned_population"].tolist() == pytest.approx([100, 50])
    assert not got.facilities["overloaded"].any()


def test_nearest_assignment_reports_overload(demand) -> None:
    times, pop, cap = demand
    got = assign_capacity(times, pop, cap)
    assert got.origins["facility"].tolist() == ["A", "A", "A"]
    assert got.facilities.loc["A", "overload"] == 70
    assert got.facilities["overloaded"].tolist() == [True, False]
    assert got.unassigned_population == 0


def test_assignment_of_unreachable_origin() -> None:
    times = pd.DataFrame({"A": [np.inf, 1.0]}, index=["far", "near"])
    got = assign_capacity(
        times,
        pd.Series({"far": 5, "near": 5}),
        pd.Series({"A": 9}),
        method="capacitated",
    )
    assert got.origins.loc["far", "facility"] is pd.NA
    assert got.unassigned_population == 5


# -- coverage and service areas -----------------------------------------------


def test_coverage_per_group() -> None:
    cells = pd.DataFrame(
        {"population": [100.0, 50.0, 10.0, 0.0], "adcode": ["a", "a", "b", "c"]}
    )
    times = pd.Series([5.0, 40.0, np.inf, 1.0])
    got = coverage(cells, times, [30, 60], by="adcode")
    assert got["pop_within_30"].tolist() == [100, 0, 0]
    assert got["pop_within_60"].tolist() == [150, 0, 0]
    assert got["share_within_60"].tolist() == [1.0, 0.0, 0.0]
    with pytest.raises(FieldError, match="field 'people'"):
        coverage(cells, times, [30], population_field="people")


def test_service_areas_reach_along_the_road() -> None:
    # 6 km primary road (1 min per km) from the shelter at x = 0
    xy = np.array([[0, 0], [3000, 0], [6000, 0]], float)
    net = RoadNetwork.from_edges(
        xy, np.array([0, 1]), np.array([1, 2]), np.array([3000.0, 3000.0]), crs=UTM
    )
    fac = gpd.GeoSeries([Point(0, 0), Point(6000, 0)], index=["w", "e"], crs=UTM)
    areas = service_areas(net, fac, [2, 4], access_speed_kmh=5)
    assert len(areas) == 6
    w4 = areas[
        (areas["facility"] == "w") & (areas["threshold_min"] == 4)
    ].geometry.iloc[0]
    # node 1 reached after 3 min: 1 min of walking = 83 m around it
    assert w4.contains(Point(3000, 80)) and not w4.contains(Point(3000, 90))
    assert not w4.contains(Point(5000, 0))
    both = areas[(areas["facility"] == "all") & (areas["threshold_min"] == 2)]
    assert both.geometry.iloc[0].contains(Point(6000, 150))
    assert (areas["area_km2"] > 0).all()


def test_uncovered_lists_high_risk_first() -> None:
    cells = pd.DataFrame(
        {"population": [5.0, 80.0, 30.0, 7.0], "risk_class": [5, 5, 1, 4]},
        index=["a", "b", "c", "d"],
    )
    times = pd.Series({"a": 200.0, "b": np.inf, "c": 500.0, "d": 10.0})
    got = uncovered(cells, times, 60, where=cells["risk_class"] >= 4)
    assert got.index.tolist() == ["b", "a"]
    assert got["time_min"].tolist() == [np.inf, 200.0]


def test_service_areas_towards_a_one_way_facility() -> None:
    # one-way road 0 -> 1 (1 km, 1 min); the shelter sits at node 1
    net = RoadNetwork.from_edges(
        np.array([[0, 0], [1000, 0]], float),
        np.array([0]),
        np.array([1]),
        np.array([1000.0]),
        crs=UTM,
        oneway=np.array([1]),
    )
    fac = gpd.GeoSeries([Point(1000, 0)], index=["S"], crs=UTM)
    towards = service_areas(net, fac, [2], direction="to_facility", per_facility=False)
    away = service_areas(net, fac, [2], direction="from_facility", per_facility=False)
    # node 0 can drive to the shelter in 1 min, but not be reached from it
    assert towards.geometry.iloc[0].contains(Point(0, 50))
    assert not away.geometry.iloc[0].contains(Point(0, 50))
    assert towards["facility"].tolist() == ["all"]


# -- disruption ---------------------------------------------------------------


def line_network() -> RoadNetwork:
    xy = np.array([[0, 0], [1000, 0], [2000, 0]], float)
    return RoadNetwork.from_edges(
        xy, np.array([0, 1]), np.array([1, 2]), np.array([1000.0, 1000.0]), crs=UTM
    )


def test_disrupt_splits_and_closes_with_grid() -> None:
    grid = gpd.GeoDataFrame(
        {"h_flood": [0.1, 0.9, 0.1]},
        geometry=[
            box(0, -50, 1250, 50),
            box(1250, -50, 1500, 50),
            box(1500, -50, 2000, 50),
        ],
        crs=UTM,
    )
    cut = disrupt(line_network(), grid, column="h_flood", threshold=0.5, spacing_m=50)
    states = cut.edges[["length_m", "state"]].values.tolist()
    assert states == [
        [1000.0, "open"],
        [250.0, "open"],
        [250.0, "closed"],
        [500.0, "open"],
    ]
    fac = gpd.GeoSeries([Point(0, 0)], crs=UTM)
    pts = gpd.GeoSeries([Point(1100, 0), Point(1900, 0)], crs=UTM)
    impact = disruption_impact(
        line_network(), cut, pts, fac, thresholds_min=[5], direction="from_facility"
    )
    assert impact.cut_off.tolist() == [1]
    assert impact.origins["time_after"].iloc[0] == pytest.approx(1.1)
    assert impact.summary.loc[5].tolist() == [2.0, 1.0, 1.0]


def test_disrupt_slows_with_raster(tmp_path: Path) -> None:
    path = tmp_path / "hazard.tif"
    values = np.array([[0.0, 1.0, 0.0, 0.0]], dtype="float32")  # 500 m cells
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=4,
        height=1,
        count=1,
        dtype="float32",
        crs=UTM,
        transform=from_origin(0, 250, 500, 500),
    ) as dst:
        dst.write(values, 1)
    slow = disrupt(
        line_network(), path, threshold=0.5, mode="slow", factor=3, spacing_m=100
    )
    assert slow.edges["state"].tolist() == ["open", "slowed", "open"]
    # 0.5 min open + 0.5 min x 3 slowed on the first road
    assert slow.n_nodes == 4 and slow.matrix[0, 3] == pytest.approx(0.5)
    got = nearest_facility(
        slow, at_nodes(slow, [2]), at_nodes(slow, [0]), snap_to="node", max_snap_m=1
    )
    assert got["time_min"].iloc[0] == pytest.approx(0.5 + 1.5 + 1.0)


def test_disrupt_keeps_earlier_closures_and_untouched_roads() -> None:
    shut = close_edges(line_network(), gpd.GeoSeries([box(400, -5, 600, 5)], crs=UTM))
    calm = gpd.GeoDataFrame({"h": [0.0]}, geometry=[box(0, -50, 2000, 50)], crs=UTM)
    again = disrupt(shut, calm, column="h", threshold=0.5)
    assert again.edges["state"].tolist() == ["closed", "open"]
    assert again.matrix.nnz == 2
    half = gpd.GeoDataFrame({"h": [1.0]}, geometry=[box(0, -50, 500, 50)], crs=UTM)
    slowed = disrupt(shut, half, column="h", threshold=0.5, mode="slow")
    assert slowed.edges["state"].tolist() == ["closed", "closed", "open"]
    assert np.isinf(slowed.edges["time_fw_min"].iloc[:2]).all()


def test_relief_time_needs_unique_depot_labels() -> None:
    depots = gpd.GeoDataFrame(
        {"level": ["city", "county"]},
        geometry=[Point(0, 0)] * 2,
        index=["A", "A"],
        crs=UTM,
    )
    with pytest.raises(LayerError, match="labels repeat"):
        relief_time(line_network(), depots, depots)


def test_close_edges_by_hand() -> None:
    shut = close_edges(line_network(), gpd.GeoSeries([box(400, -5, 600, 5)], crs=UTM))
    assert shut.edges["state"].tolist() == ["closed", "open"]
    got = nearest_facility(
        shut,
        gpd.GeoSeries([Point(500, 10)], crs=UTM),
        gpd.GeoSeries([Point(2000, 0)], crs=UTM),
    )
    # the closed road takes no points: the origin snaps to node 1 (500 m walk)
    assert got["time_min"].iloc[0] == pytest.approx(np.hypot(500, 10) / WALK + 1.0)


# -- the default Baise graph ---------------------------------------------------


def test_baise_roads_match_networkx(data_dir: Path) -> None:
    path = data_dir / "boundaries" / "roads.gpkg"
    if not path.exists():
        pytest.skip("data/boundaries/roads.gpkg is not built yet")
    roads = gpd.read_file(path, layer="roads")
    net = RoadNetwork.from_lines(roads)
    graph = net.to_networkx()
    rng = np.random.default_rng(4)
    fac = rng.choice(net.n_nodes, size=min(20, net.n_nodes), replace=False).tolist()
    got = nearest_facility(
        net,
        at_nodes(net, range(net.n_nodes)),
        at_nodes(net, fac),
        snap_to="node",
        max_snap_m=1.0,
    )
    ref = nx.multi_source_dijkstra_path_length(
        graph.reverse(), set(fac), weight="time_min"
    )
    expected = np.array([ref.get(i, np.inf) for i in range(net.n_nodes)])
    assert np.array_equal(got["time_min"].to_numpy(), expected)


def test_disrupt_with_nothing_hazardous_keeps_numeric_times() -> None:
    net = RoadNetwork.from_edges(
        np.array([[0.0, 0.0], [1000.0, 0.0]]),
        np.array([0]),
        np.array([1]),
        np.array([1000.0]),
        crs="EPSG:32648",
    )
    calm = gpd.GeoDataFrame(
        {"h": [0.1]}, geometry=[box(-500, -500, 1500, 500)], crs="EPSG:32648"
    )
    after = disrupt(net, calm, threshold=0.6, column="h")
    assert after.edges["time_fw_min"].dtype == np.float64
    assert (after.edges["state"] == "open").all()
    pts = gpd.GeoSeries(gpd.points_from_xy([500.0], [100.0]), crs="EPSG:32648")
    assert after.snap(pts, max_snap_m=1000)["connected"].all()
