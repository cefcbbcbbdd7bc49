"""End-to-end tests of ``riskmap run`` on the committed Baise dataset."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from pyproj import Geod

from riskmap._io import remove_stale_temps
from riskmap.config import load_config
from riskmap.errors import ConfigError, LayerError
from riskmap.pipeline import load_inputs
from riskmap.results import COUNTY_COLUMNS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run the main job once through the command line, as a planner would."""
    out = tmp_path_factory.mktemp("baise")
    proc = subprocess.run(
        [sys.executable, "-m", "riskmap", "run", "--quiet", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "pop_share_relief_10h" in proc.stdout
    return out


@pytest.fixture(scope="module")
def counties(run_dir: Path) -> gpd.GeoDataFrame:
    return gpd.read_file(run_dir / "results.gpkg", layer="counties")


@pytest.fixture(scope="module")
def grid(run_dir: Path) -> gpd.GeoDataFrame:
    return gpd.read_file(run_dir / "results.gpkg", layer="grid")


def test_every_output_is_written(run_dir: Path) -> None:
    assert {"counties", "grid", "facilities"} <= {
        name for name, _ in pyogrio.list_layers(run_dir / "results.gpkg")
    }
    for name in ("summary.csv", "report.html", "method.json", "maps/index.html"):
        assert (run_dir / name).stat().st_size > 0, name
    summary = pd.read_csv(run_dir / "summary.csv", dtype={"adcode": str})
    for code in summary["adcode"]:
        assert (run_dir / "maps" / f"{code}.html").is_file()
        assert (run_dir / "maps" / f"{code}.png").is_file()
    assert not list(run_dir.rglob(".tmp-*")), "temporary files left behind"


def test_county_table(counties: gpd.GeoDataFrame, run_dir: Path) -> None:
    summary = pd.read_csv(run_dir / "summary.csv", dtype={"adcode": str})
    assert len(counties) == len(summary) == 12
    assert list(summary.columns[: len(COUNTY_COLUMNS)]) == COUNTY_COLUMNS
    assert summary["adcode"].str.fullmatch(r"4510\d\d").all()
    assert summary["population"].sum() == 3_571_505
    assert summary["area_km2"].sum() == pytest.approx(36_200, rel=0.01)
    for col in ("h_flood", "h_geological", "h_fire", "h_earthquake", "risk_score"):
        assert summary[col].between(0, 1).all(), col
    assert set(summary["risk_class"]) <= {1, 2, 3, 4, 5}
    assert summary["risk_class"].nunique() >= 3
    # the storm centre Lingyun and the epicentre region Leye are steeper,
    # more seismic places than the Youjiang valley counties
    by = summary.set_index("adcode")
    assert by.loc["451028", "h_earthquake"] > by.loc["451082", "h_earthquake"]
    assert by.loc["451027", "h_geological"] > by.loc["451082", "h_geological"]


def test_flood_index_is_higher_on_the_youjiang_valley_floor(
    grid: gpd.GeoDataFrame,
) -> None:
    # Baise city, on the Youjiang, against the karst ridges of the same county
    city = gpd.GeoSeries.from_xy([106.62], [23.90], crs=4326).to_crs(grid.crs)
    cell = grid[grid.contains(city.iloc[0])].iloc[0]
    youjiang = grid[grid["adcode"] == "451002"]
    ridges = youjiang[youjiang["elevation_m"] > 700]
    assert len(ridges) > 50
    assert cell["h_flood"] > 0.3
    assert cell["h_flood"] > ridges["h_flood"].quantile(0.95)
    low = grid[grid["elevation_m"] < 300]["h_flood"].mean()
    high = grid[grid["elevation_m"] > 800]["h_flood"].mean()
    assert low > 2 * high


def test_population_is_spread_onto_cells(grid: gpd.GeoDataFrame) -> None:
    per_county = grid.groupby("adcode")["population"].sum()
    census = pd.read_csv(
        Path(__file__).parents[1] / "data/boundaries/population_2020.csv",
        dtype={"adcode": str},
    ).set_index("adcode")["population_2020"]
    pd.testing.assert_series_equal(
        per_county.sort_index(),
        census.sort_index().astype(float),
        check_names=False,
        rtol=1e-9,
    )
    # the city centre is denser than an average cell
    assert grid["population"].max() > 20 * grid["population"].mean()


def test_helicopter_time_is_dispatch_plus_geodesic_flight(
    grid: gpd.GeoDataFrame, run_dir: Path
) -> None:
    cfg = load_config()
    bases = gpd.read_file(run_dir / "results.gpkg", layer="facilities")
    bases = bases[bases["kind"] == "heli_base"]
    sample = grid.sample(25, random_state=1)
    pts = sample.geometry.centroid.to_crs(4326)
    geod = Geod(ellps="WGS84")
    for (_, row), pt in zip(sample.iterrows(), pts, strict=True):
        _, _, dist = geod.inv(
            np.full(len(bases), pt.x),
            np.full(len(bases), pt.y),
            bases.geometry.x,
            bases.geometry.y,
        )
        expected = cfg.standards.helicopter_dispatch_min + 60 * dist.min() / 1000 / (
            cfg.standards.helicopter_cruise_kmh
        )
        assert row["t_air_min"] == pytest.approx(expected, rel=1e-6)


def test_road_times_are_not_faster_than_the_fastest_road(
    grid: gpd.GeoDataFrame, run_dir: Path
) -> None:
    fac = gpd.read_file(run_dir / "results.gpkg", layer="facilities").to_crs(grid.crs)
    shelters = fac[fac["kind"] == "shelter"]
    centres = gpd.GeoDataFrame(geometry=grid.geometry.centroid, crs=grid.crs)
    joined = gpd.sjoin_nearest(centres, shelters[["geometry"]], distance_col="d")
    nearest_m = joined.groupby(level=0)["d"].min().reindex(grid.index)
    fastest = max(load_config().network.speeds_kmh.values())
    lower_bound = nearest_m / 1000 / fastest * 60
    finite = np.isfinite(grid["t_shelter_min"])
    assert finite.mean() > 0.99
    assert (grid.loc[finite, "t_shelter_min"] >= lower_bound[finite] - 1e-6).all()


def test_method_is_recorded(run_dir: Path) -> None:
    meta = pyogrio.read_info(run_dir / "results.gpkg", layer="counties")
    method = json.loads(meta["layer_metadata"]["riskmap_method"])
    assert method["risk"]["hazard_weights"]["flood"] == pytest.approx(0.3)
    assert len(method["cell_class_bins"]) == 5
    assert "risk_formula" in method


def test_a_typo_in_the_configuration_is_an_error(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[run]\ncel_size_m = 500\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"run\.cel_size_m: Extra inputs"):
        load_config(cfg)


def test_a_missing_layer_names_the_file(tmp_path: Path) -> None:
    cfg = load_config()
    assert cfg.layers is not None
    cfg.layers.dem.path = str(tmp_path / "nowhere.tif")
    with pytest.raises(LayerError, match=r"nowhere\.tif.*does not exist.*Fix"):
        load_inputs(cfg)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_a_killed_run_leaves_previous_outputs_intact(
    run_dir: Path, tmp_path: Path, sig: signal.Signals
) -> None:
    out = tmp_path / "out"
    shutil.copytree(run_dir, out)
    before = (out / "summary.csv").read_bytes()
    proc = subprocess.Popen(
        [sys.executable, "-m", "riskmap", "run", "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "riskmap.pipeline: write" in line:
                break
        proc.send_signal(sig)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
    assert proc.returncode != 0
    # every final file is whole: the old one or a complete new one
    after = pd.read_csv(out / "summary.csv", dtype={"adcode": str})
    assert len(after) == 12
    assert (out / "summary.csv").read_bytes() == before
    assert len(gpd.read_file(out / "results.gpkg", layer="counties")) == 12
    leftovers = [p.name for p in out.rglob("*") if p.name.startswith(".tmp-")]
    if sig == signal.SIGTERM:
        assert leftovers == []
    assert remove_stale_temps(out) == len(leftovers)


def test_townships_partition_their_counties(run_dir: Path) -> None:
    towns = gpd.read_file(run_dir / "results.gpkg", layer="townships")
    csv = pd.read_csv(run_dir / "townships.csv", dtype={"adcode": str, "place_id": str})
    assert len(towns) == len(csv) >= 60
    census = pd.read_csv(run_dir / "summary.csv", dtype={"adcode": str})
    per_county = csv.groupby("adcode")["population"].sum()
    expected = census.set_index("adcode")["population"].astype(float)
    pd.testing.assert_series_equal(
        per_county.sort_index(), expected.sort_index(), check_names=False, rtol=1e-4
    )
    assert csv["risk_class"].between(1, 5).all()
    assert csv["risk_score"].between(0, 1).all()


def test_closing_roads_never_improves_reach(
    counties: gpd.GeoDataFrame, grid: gpd.GeoDataFrame, run_dir: Path
) -> None:
    assert (
        counties["pop_share_shelter_reach_cut"]
        <= counties["pop_share_shelter_reach"] + 1e-12
    ).all()
    # a cell whose nearest road is closed walks to another one, which can
    # happen to be quicker; most cells are no faster after the cut
    finite = np.isfinite(grid["t_shelter_cut_min"])
    faster = (
        grid.loc[finite, "t_shelter_cut_min"] < grid.loc[finite, "t_shelter_min"] - 1
    )
    assert faster.mean() < 0.05
    cut = grid["cut_off"].astype(bool)
    assert (np.isinf(grid.loc[cut, "t_shelter_cut_min"])).all()
    assert counties["population_cut_off"].sum() == pytest.approx(
        grid.loc[cut, "population"].sum()
    )
    method = json.loads((run_dir / "method.json").read_text(encoding="utf-8"))
    assert method["road_cut"]["cells_cut_off"] == int(cut.sum())


def test_needs_follow_the_minimum_table(counties: gpd.GeoDataFrame) -> None:
    cfg = load_config()
    assert (counties["displaced"] > 0).all()
    assert counties["water_l_needed"].to_numpy() == pytest.approx(
        counties["displaced"].to_numpy() * cfg.needs.water_l
    )
    assert counties["shelter_m2_needed"].to_numpy() == pytest.approx(
        counties["displaced"].to_numpy() * cfg.needs.shelter_m2
    )
    top = max(cfg.needs.displacement_rates.values())
    assert (counties["displaced"] <= counties["population"] * top).all()


def test_helicopter_beats_road_flag(grid: gpd.GeoDataFrame) -> None:
    flag = grid["air_beats_road"].astype(bool)
    assert (flag == (grid["t_air_min"] < grid["t_depot_min"])).all()
    assert 0 < flag.mean() < 1


def test_hazard_rules_side_by_side(counties: gpd.GeoDataFrame, run_dir: Path) -> None:
    for h in ("flood", "geological", "fire", "earthquake"):
        share = counties[f"h_{h}_area_share_l4"]
        top = counties[f"h_{h}_max_level"]
        assert share.between(0, 1).all()
        assert top.between(1, 5).all()
        # the highest level present is never below the level of the mean
        mean_level = np.searchsorted([0.2, 0.4, 0.6, 0.8], counties[f"h_{h}"]) + 1
        assert (top >= mean_level).all()
        # a county with area in levels 4-5 has a top level of at least 4
        assert (top[share > 0] >= 4).all()
    method = json.loads((run_dir / "method.json").read_text(encoding="utf-8"))
    assert "h_<hazard>_max_level" in method["county_hazard_rules"]
