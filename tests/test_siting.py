"""Tests of riskmap.siting: hand-solved optima, spopt agreement, plan rule."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import Point, box

from riskmap import _siting_models
from riskmap.errors import FieldError, LayerError, RiskmapError
from riskmap.network import RoadNetwork
from riskmap.reachability import od_matrix
from riskmap.siting import (
    SiteRules,
    SitingProblem,
    candidate_sites,
    plan_check,
    propose_sites,
    solve_lscp,
    solve_mclp,
    solve_p_median,
)

UTM = "EPSG:32648"

# Five villages, four candidate sites (minutes). With a 15 min limit A
# covers d1 and d2, B covers d3, C covers d4 and d5, D covers nothing.
TIMES = pd.DataFrame(
    {
        "A": [5.0, 10.0, 40.0, 50.0, 60.0],
        "B": [30.0, 20.0, 5.0, 25.0, 40.0],
        "C": [50.0, 40.0, 30.0, 5.0, 10.0],
        "D": [20.0, 25.0, 16.0, 35.0, 45.0],
    },
    index=["d1", "d2", "d3", "d4", "d5"],
)
PEOPLE = pd.Series({"d1": 100, "d2": 50, "d3": 80, "d4": 60, "d5": 30})


def hand_problem(**kw: object) -> SitingProblem:
    return SitingProblem.from_times(TIMES, PEOPLE, **kw)  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# hand-solved optima


def test_lscp_needs_three_sites() -> None:
    sol = solve_lscp(hand_problem(), 15)
    assert sol.objective == 3
    assert sorted(sol.new_sites) == ["A", "B", "C"]
    assert sol.coverage["share_after"] == 1.0
    assert sol.coverage["share_before"] == 0.0


@pytest.mark.parametrize(
    ("p", "sites", "covered"), [(1, ["A"], 150.0), (2, ["A", "C"], 240.0)]
)
def test_mclp_picks_the_biggest_catchments(
    p: int, sites: list[str], covered: float
) -> None:
    sol = solve_mclp(hand_problem(), p, 15)
    assert sorted(sol.new_sites) == sites
    assert sol.objective == covered
    assert sol.coverage["pop_after"] == covered


@pytest.mark.parametrize(
    ("p", "sites", "total"), [(2, ["A", "C"], 4000.0), (3, ["A", "B", "C"], 2000.0)]
)
@pytest.mark.parametrize("k", [1, 2, 4])
def test_p_median_hand_optimum(p: int, sites: list[str], total: float, k: int) -> None:
    # A+C: 5*100 + 10*50 + 30*80 + 5*60 + 10*30 = 4000; the runner-up
    # A+B costs 4100. With k=1 the model must widen to find it.
    sol = solve_p_median(hand_problem(), p, k=k)
    assert sorted(sol.new_sites) == sites
    assert sol.objective == pytest.approx(total)
    assert sol.assignment["share"].sum() == pytest.approx(5.0)


def test_fixed_sites_stay_open_and_count() -> None:
    # With B already built, the best single addition is A (4100), not the
    # pair A+C that is best from scratch.
    sol = solve_p_median(hand_problem(fixed=["B"]), 1)
    assert sol.open.to_dict() == {"A": True, "B": True, "C": False, "D": False}
    assert list(sol.new_sites) == ["A"]
    assert sol.objective == pytest.approx(4100.0)
    assert sol.served.loc["B", "fixed"]

    # MCLP: C already covers d4 and d5 (90 people); A adds 150.
    sol = solve_mclp(hand_problem(fixed=["C"]), 1, 15)
    assert list(sol.new_sites) == ["A"]
    assert sol.objective == 240.0
    assert sol.coverage["pop_before"] == 90.0
    assert sol.coverage["pop_after"] == 240.0

    # LSCP: D is useless but fixed; three new sites are still needed.
    sol = solve_lscp(hand_problem(fixed=["D"]), 15)
    assert sol.objective == 4
    assert sorted(sol.new_sites) == ["A", "B", "C"]


def test_each_unit_gets_a_site() -> None:
    # Units: A and D in "north", B and C in "south". Unconstrained, the
    # best pair is A+C; one site per unit keeps that, but fixing D in the
    # north leaves only one free choice, which must be in the south.
    units = pd.Series({"A": "north", "B": "south", "C": "south", "D": "north"})
    sol = solve_mclp(hand_problem(), 2, 15, each_unit=units)
    assert sorted(sol.new_sites) == ["A", "C"]
    sol = solve_mclp(hand_problem(fixed=["D"]), 1, 15, each_unit=units)
    assert list(sol.new_sites) == ["C"]
    sol = solve_p_median(hand_problem(fixed=["A"]), 1, each_unit=units)
    assert list(sol.new_sites) == ["C"]
    units["B"] = "west"
    sol = solve_lscp(hand_problem(), 15, each_unit=units)
    assert sorted(sol.new_sites) == ["A", "B", "C"]
    with pytest.raises(RiskmapError, match=r"3 units have no existing site"):
        solve_mclp(hand_problem(), 2, 15, each_unit=units)
    # Without the rule, MCLP p=1 with D fixed would pick A (150 people).
    sol = solve_mclp(hand_problem(fixed=["D"]), 1, 15)
    assert list(sol.new_sites) == ["A"]


def test_capacitated_mclp_counts_only_what_fits() -> None:
    # A reaches 150 people but holds 120; C reaches 90 and holds 100.
    cap = pd.Series({"A": 120.0, "B": 100.0, "C": 100.0, "D": 200.0})
    sol = solve_mclp(hand_problem(capacity=cap), 1, 15, capacitated=True)
    assert list(sol.new_sites) == ["A"]
    assert sol.objective == pytest.approx(120.0)
    assert sol.model == "cmclp"
    assert sol.served.loc["A", "served_population"] == pytest.approx(120.0)


def test_capacitated_lscp_opens_more_sites() -> None:
    # d1 + d2 (150) overflow A (120), so someone else within 15 min is
    # needed: no other site reaches d1 or d2, so the model is infeasible.
    cap = pd.Series({"A": 120.0, "B": 100.0, "C": 100.0, "D": 200.0})
    with pytest.raises(RiskmapError, match="no feasible solution"):
        solve_lscp(hand_problem(capacity=cap), 15, capacitated=True)
    cap["A"] = 150.0
    sol = solve_lscp(hand_problem(capacity=cap), 15, capacitated=True)
    assert sol.objective == 3


def test_both_highs_interfaces_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    results = []
    for backend in ("highspy", "scipy"):
        monkeypatch.setattr(_siting_models, "BACKEND", backend)
        results.append(
            (
                solve_mclp(hand_problem(), 2, 15).objective,
                solve_p_median(hand_problem(), 2).objective,
                solve_lscp(hand_problem(), 15).objective,
            )
        )
    assert results[0] == pytest.approx(results[1])


# --------------------------------------------------------------------------
# against spopt


def random_problem(
    seed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n_d, n_s = int(rng.integers(8, 30)), int(rng.integers(4, 10))
    demand = rng.random((n_d, 2)) * 10
    sites = rng.random((n_s, 2)) * 10
    times = np.linalg.norm(demand[:, None] - sites[None], axis=2)
    weight = rng.integers(1, 100, n_d).astype(float)
    fixed = np.zeros(n_s, dtype=bool)
    fixed[rng.choice(n_s, int(rng.integers(0, 2)), replace=False)] = True
    return times, weight, fixed, rng.integers(200, 600, n_s).astype(float)


def as_problem(
    times: np.ndarray,
    weight: np.ndarray,
    fixed: np.ndarray,
    capacity: np.ndarray | None = None,
) -> SitingProblem:
    frame = pd.DataFrame(times, columns=[f"s{j}" for j in range(times.shape[1])])
    return SitingProblem.from_times(
        frame,
        pd.Series(weight),
        fixed=list(frame.columns[fixed]),
        capacity=None if capacity is None else pd.Series(capacity, frame.columns),
    )


spopt_warnings = pytest.mark.filterwarnings(
    "ignore:.*:FutureWarning", "ignore:.*:UserWarning:pulp"
)


@spopt_warnings
@pytest.mark.parametrize("seed", range(6))
def test_same_objective_as_spopt(seed: int) -> None:
    pulp = pytest.importorskip("pulp")
    locate = pytest.importorskip("spopt.locate")
    solver = pulp.HiGHS(msg=False)
    times, weight, fixed, _ = random_problem(seed)
    pre = fixed.astype(int) if fixed.any() else None
    n_fixed = int(fixed.sum())
    prob = as_problem(times, weight, fixed)

    ref = locate.MCLP.from_cost_matrix(
        times, weight, 4.0, 2 + n_fixed, predefined_facilities_arr=pre
    ).solve(solver)
    assert solve_mclp(prob, 2, 4.0).objective == pytest.approx(
        ref.problem.objective.value()
    )

    ref = locate.PMedian.from_cost_matrix(
        times, weight, 2 + n_fixed, predefined_facilities_arr=pre
    ).solve(solver)
    assert solve_p_median(prob, 2, k=2).objective == pytest.approx(
        ref.problem.objective.value()
    )

    radius = float(times.min(axis=1).max()) + 0.01
    ref = locate.LSCP.from_cost_matrix(
        times, radius, predefined_facilities_arr=pre
    ).solve(solver)
    assert solve_lscp(prob, radius).objective == pytest.approx(
        ref.problem.objective.value()
    )


@spopt_warnings
@pytest.mark.parametrize("seed", range(4))
def test_capacitated_same_objective_as_spopt(seed: int) -> None:
    pulp = pytest.importorskip("pulp")
    locate = pytest.importorskip("spopt.locate")
    solver = pulp.HiGHS(msg=False)
    times, weight, _, capacity = random_problem(seed)
    fixed = np.zeros(len(capacity), dtype=bool)
    prob = as_problem(times, weight, fixed, capacity)
    p = int(np.searchsorted(np.cumsum(np.sort(capacity)[::-1]), weight.sum())) + 1

    ref = locate.PMedian.from_cost_matrix(
        times, weight, p, facility_capacities=capacity
    ).solve(solver)
    ours = solve_p_median(prob, p, k=3, capacitated=True, single_source=True)
    assert ours.objective == pytest.approx(ref.problem.objective.value())
    assert np.allclose(ours.assignment["share"], 1.0)
    split = solve_p_median(prob, p, k=3, capacitated=True)
    assert split.objective <= ours.objective + 1e-6
    load = ours.assignment.merge(
        pd.Series(weight, name="w"), left_on="demand", right_index=True
    )
    per_site = (load["share"] * load["w"]).groupby(load["site"]).sum()
    assert (
        per_site <= pd.Series(capacity, prob.sites.index)[per_site.index] + 1e-6
    ).all()

    radius = float(np.sort(times, axis=1)[:, 1].max()) + 0.01
    ref = locate.LSCP.from_cost_matrix(
        times,
        radius,
        demand_quantity_arr=weight,
        facility_capacity_arr=capacity,
    ).solve(solver)
    assert solve_lscp(prob, radius, capacitated=True).objective == pytest.approx(
        ref.problem.objective.value()
    )


# --------------------------------------------------------------------------
# errors


def test_errors_name_the_fix() -> None:
    with pytest.raises(RiskmapError, match=r"p=9 new sites .* 4 candidate"):
        solve_mclp(hand_problem(), 9, 15)
    with pytest.raises(FieldError, match=r"'capacity'.*no capacity"):
        solve_mclp(hand_problem(), 1, 15, capacitated=True)
    with pytest.raises(FieldError, match="fixed sites \\['Z'\\]"):
        hand_problem(fixed=["Z"])
    with pytest.raises(RiskmapError, match="threshold_min must be positive"):
        solve_lscp(hand_problem(), 0)


def test_uncoverable_demand_is_noted() -> None:
    t = TIMES.copy()
    t.loc["d5"] = [90.0, 90.0, 90.0, 90.0]
    sol = solve_lscp(SitingProblem.from_times(t, PEOPLE), 15)
    assert sol.notes and "1 demand units" in sol.notes[0]
    assert sol.coverage["pop_after"] == 290.0


# --------------------------------------------------------------------------
# the plan's rule


@pytest.fixture
def towns() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": ["T1", "T2", "T3"]},
        geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10), box(20, 0, 30, 10)],
        crs=UTM,
    )


@pytest.fixture
def facilities() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "kind": ["shelter", "depot", "shelter", "reserve_centre", "shelter"],
            "area_m2": [3000.0, None, 1000.0, None, None],
            "assigned_population": [10000.0, None, 5000.0, None, 100.0],
            "adcode": ["T1", "T1", "T2", "T3", "T3"],
        },
        geometry=[Point(2, 2), Point(3, 3), Point(15, 5), Point(25, 5), Point(26, 5)],
        crs=UTM,
    )


def test_plan_check_by_polygon(
    towns: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame
) -> None:
    check = plan_check(facilities, towns, unit_field="code")
    assert check.units["n_shelters"].tolist() == [1, 1, 1]
    assert check.units["n_depots"].tolist() == [1, 0, 1]
    assert check.units["passed"].tolist() == [True, False, True]
    # 3000 m2 for 15 % of 10,000 people is exactly 2 m2 each: passes;
    # 1000 m2 for 750 people is 1.33 m2: fails; unknown area fails.
    assert check.shelters["m2_per_person"].round(2).tolist()[:2] == [2.0, 1.33]
    assert check.shelters["passed"].tolist() == [True, False, False]
    assert not check.passed
    assert check.summary() == {
        "units": 3,
        "units_without_shelter": 0,
        "units_without_depot": 1,
        "shelters": 3,
        "shelters_below_norm": 2,
        "passed": False,
    }


def test_plan_check_by_field_and_by_nearest_seat(
    towns: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame
) -> None:
    by_field = plan_check(
        facilities, towns, unit_field="code", facility_unit_field="adcode"
    )
    seats = towns.assign(geometry=towns.geometry.centroid)
    by_seat = plan_check(facilities, seats, unit_field="code")
    expected = [True, False, True]
    assert by_field.units["passed"].tolist() == expected
    assert by_seat.units["passed"].tolist() == expected


def test_plan_check_passes_with_norm_met(
    towns: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame
) -> None:
    fac = facilities.copy()
    fac["kind"] = ["shelter", "depot", "shelter", "depot", "shelter"]
    fac["area_m2"] = [3000.0, None, 1500.0, None, 30.0]
    fac.loc[len(fac)] = ["depot", None, None, "T2", Point(16, 5)]
    check = plan_check(fac, towns, unit_field="code", m2_per_person=2.0)
    assert check.passed


def test_plan_check_missing_column(towns: gpd.GeoDataFrame) -> None:
    fac = gpd.GeoDataFrame({"kind": ["shelter"]}, geometry=[Point(1, 1)], crs=UTM)
    with pytest.raises(FieldError, match="field 'area_m2'"):
        plan_check(fac, towns, unit_field="code")


# --------------------------------------------------------------------------
# candidate sites


@pytest.fixture
def road() -> RoadNetwork:
    # A straight road along y = 0 from x = 0 to 20 km, nodes every 5 km.
    xy = np.array([[x, 0.0] for x in range(0, 20001, 5000)])
    n = len(xy)
    return RoadNetwork.from_edges(
        xy, np.arange(n - 1), np.arange(1, n), np.full(n - 1, 5000.0), crs=UTM
    )


def cells(n_cols: int = 20, n_rows: int = 3, size: float = 1000.0) -> gpd.GeoDataFrame:
    """Square cells north of the road, with hazards and people."""
    polys, ids = [], []
    for r in range(n_rows):
        for c in range(n_cols):
            polys.append(box(c * size, r * size, (c + 1) * size, (r + 1) * size))
            ids.append(f"r{r}c{c}")
    grid = gpd.GeoDataFrame({"cell_id": ids}, geometry=polys, crs=UTM)
    grid["adcode"] = np.where(grid.geometry.centroid.x < 10000, "west", "east")
    grid["h_flood"] = 0.1
    grid["h_geological"] = 0.1
    grid["slope_deg"] = 5.0
    grid["population"] = 0.0
    return grid


def test_candidate_rules(road: RoadNetwork) -> None:
    grid = cells(n_cols=4, n_rows=3)
    grid.loc[0, "h_flood"] = 0.9
    grid.loc[1, "h_geological"] = 0.6
    grid.loc[2, "slope_deg"] = 20.0
    plant = gpd.GeoSeries([box(3200, 1200, 3300, 1300)], crs=UTM)
    out = candidate_sites(
        grid,
        network=road,
        major_hazards=plant,
        rules=SiteRules(max_road_m=1600),
        keep_rejected=True,
    )
    assert out["rejected"].tolist() == [
        "flood",
        "geological",
        "slope; major hazard within 1000 m",
        "major hazard within 1000 m",
        "",
        "",
        "major hazard within 1000 m",
        "major hazard within 1000 m",
        "no road within 1600 m",
        "no road within 1600 m",
        "no road within 1600 m",
        "no road within 1600 m",
    ]
    assert out["road_m"].iloc[4] == pytest.approx(1500.0)
    kept = candidate_sites(grid, network=road, major_hazards=plant)
    assert len(kept) == 0  # the default 1000 m road rule rejects row 1
    assert len(candidate_sites(grid)) == 9


def test_candidate_points_take_grid_values() -> None:
    grid = cells(n_cols=2, n_rows=1)
    grid.loc[1, "h_flood"] = 0.7
    schools = gpd.GeoDataFrame(
        {"name": ["a", "b"]},
        geometry=[Point(500, 500), Point(1500, 500)],
        crs=UTM,
    ).to_crs(4326)
    out = candidate_sites(schools, grid=grid, keep_rejected=True)
    assert out["rejected"].tolist() == ["", "flood"]
    assert out.crs.to_epsg() == 4326


def test_candidate_layer_without_crs() -> None:
    layer = gpd.GeoDataFrame(geometry=[Point(0, 0)])
    with pytest.raises(LayerError, match="layer 'sites': the layer has no CRS"):
        candidate_sites(layer)


# --------------------------------------------------------------------------
# road travel times and the whole proposal


def test_problem_from_network_matches_od_matrix(road: RoadNetwork) -> None:
    demand = gpd.GeoDataFrame(
        {"population": [10.0, 20.0, 30.0]},
        geometry=[Point(1000, 500), Point(9000, 500), Point(19000, 500)],
        crs=UTM,
    )
    sites = gpd.GeoDataFrame(
        {"fixed": [True, False, False]},
        geometry=[Point(0, 0), Point(10000, 0), Point(20000, 0)],
        index=["S0", "S1", "S2"],
        crs=UTM,
    )
    full = od_matrix(road, demand, sites, access_speed_kmh=15)
    prob = SitingProblem.from_network(
        road, demand, sites, cutoff_min=12.0, chunk_mb=1e-5
    )
    got = prob.times().pivot(index="demand", columns="site", values="time_min")
    want = full.where(full <= 12.0).dropna(how="all", axis=1)
    pd.testing.assert_frame_equal(
        got.sort_index(axis=1), want.rename_axis(index="demand", columns="site")
    )
    assert prob.sites["fixed"].tolist() == [True, False, False]
    nearest = SitingProblem.from_network(
        road, demand, sites, cutoff_min=60.0, max_sites_per_demand=1, chunk_mb=1e-5
    )
    # The fastest site of each demand unit, and its fastest fixed site.
    assert nearest.times()["site"].tolist() == ["S0", "S1", "S0", "S2", "S0"]


def test_snapping_warning_is_given_once(road: RoadNetwork) -> None:
    demand = gpd.GeoDataFrame(
        {"population": [10.0, 20.0]},
        geometry=[Point(1000, 500), Point(9000, 9000)],
        crs=UTM,
    )
    sites = gpd.GeoDataFrame(
        geometry=[Point(x, 0) for x in range(0, 20001, 5000)], crs=UTM
    )
    with pytest.warns(UserWarning, match=r"1 of 2 \w+ lie farther") as record:
        prob = SitingProblem.from_network(
            road, demand, sites, cutoff_min=60.0, max_snap_m=2000, chunk_mb=1e-5
        )
    assert len(record) == 1
    assert set(prob.pairs.row.tolist()) == {0}


def test_propose_sites_adds_coverage(road: RoadNetwork) -> None:
    grid = cells()
    grid.loc[grid["cell_id"].isin(["r0c2", "r0c17", "r0c18"]), "population"] = [
        500.0,
        300.0,
        200.0,
    ]
    shelters = gpd.GeoDataFrame(
        {
            "facility_id": ["old"],
            "kind": ["shelter"],
            "name": ["Old school"],
            "area_m2": [4000.0],
            "adcode": ["west"],
        },
        geometry=[Point(2500, 100)],
        crs=UTM,
    ).to_crs(4326)
    result = propose_sites(grid, shelters, road, p=1, threshold_min=10.0)
    assert result.coverage.loc["all", "share_before"] == pytest.approx(0.5)
    assert result.coverage.loc["all", "share_after"] == pytest.approx(1.0)
    assert result.coverage.loc["east", "share_before"] == 0.0
    layer = result.sites
    assert layer.crs.to_epsg() == 4326
    assert layer["new"].tolist() == [False, True]
    assert layer["assigned_population"].tolist() == [500.0, 500.0]
    assert layer.iloc[1]["facility_id"].startswith("new-r0c1")
    assert "before" in result.summary()

    check = plan_check(
        layer.assign(kind="shelter"),
        grid.dissolve("adcode").reset_index(),
        unit_field="adcode",
    )
    assert check.units["has_shelter"].all()

    again = propose_sites(
        grid, shelters, road, model="p_median", p=1, threshold_min=10.0
    )
    assert again.coverage.loc["all", "share_after"] == pytest.approx(1.0)
    cover = propose_sites(grid, shelters, road, model="lscp", threshold_min=10.0)
    assert len(cover.solution.new_sites) == 1

    # One site in each county without one, with capacities: the east.
    ruled = propose_sites(
        grid,
        shelters,
        road,
        p=1,
        threshold_min=5.0,
        each_unit=True,
        capacitated=True,
    )
    new = ruled.sites.loc[ruled.sites["new"]]
    assert new["adcode"].tolist() == ["east"]
    assert new["capacity"].tolist() == [33333.0]
    with pytest.raises(RiskmapError, match="model must be"):
        propose_sites(grid, shelters, road, model="pmedian")  # type: ignore[arg-type]


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:.*farther than max_snap_m:UserWarning")
def test_baise_proposal_raises_coverage(data_dir: Path, tmp_path: Path) -> None:
    if not (data_dir / "boundaries" / "roads.gpkg").is_file():
        pytest.skip("the default Baise dataset is not built")
    from riskmap.config import load_config
    from riskmap.pipeline import run

    # A coarse 3 km run keeps the test to a few minutes.
    cfg = load_config()
    cfg.run.cell_size_m = 3000.0
    cfg.risk.classification = "quantile"
    # compare like with like: road trips only, on the same plain network
    cfg.network.direct_max_m = 0.0
    cfg.network.slope_factor = False
    result = run(cfg, out_dir=tmp_path, maps=False)
    roads = gpd.read_file(cfg.data_path(cfg.layers.roads.path), layer="roads")
    network = RoadNetwork.from_lines(
        roads,
        crs=result.grid.crs,
        speeds=cfg.network.speeds_kmh,
        class_field="highway",
        join_tolerance_m=cfg.network.join_tolerance_m,
    )
    proposal = propose_sites(result.grid, result.facilities, network, p=10)

    # "Before" agrees with the run's own shelter reach, and rises after.
    cov = proposal.coverage.loc["all"]
    grid = result.grid
    reached = grid["population"].where(grid["t_shelter_min"] <= 60.0, 0.0).sum()
    assert cov["share_before"] == pytest.approx(
        reached / grid["population"].sum(), abs=0.01
    )
    assert cov["share_after"] > cov["share_before"] + 0.01
    layer = proposal.sites
    assert int(layer["new"].sum()) == 10
    assert layer.crs.to_epsg() == 4326
    assert layer.loc[layer["new"], "assigned_population"].gt(0).all()
