"""Hazards from a planner's own zones, rasters and point inventories."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import Point, box

from riskmap.config import default_config_text, load_config
from riskmap.errors import ConfigError, FieldError
from riskmap.grid import build_grid
from riskmap.hazard_layers import rescale
from riskmap.pipeline import analyse, load_inputs

pytestmark = pytest.mark.slow

# Baise city (Youjiang valley) and a mountain block in Lingyun
HIGH = box(106.55, 23.85, 106.70, 23.95)
LOW = box(106.70, 23.85, 106.85, 23.95)
SLIDE = (106.57, 24.35)


def _config(tmp: Path, extra: str) -> Path:
    text = default_config_text().replace("cell_size_m = 1000", "cell_size_m = 3000")
    text = text.replace('data_dir = "default"', f'data_dir = "{_data()}"')
    path = tmp / "own.toml"
    path.write_text(text + "\n" + extra, encoding="utf-8")
    return path


def _data() -> str:
    return (Path(__file__).parents[1] / "data").as_posix()


@pytest.fixture(scope="module")
def layers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("own")
    zones = gpd.GeoDataFrame(
        {"等级": ["高", "低"]}, geometry=[HIGH, LOW], crs="EPSG:4326"
    )
    zones.to_file(tmp / "洪涝风险区.gpkg", layer="zones", engine="pyogrio")
    slides = gpd.GeoDataFrame(geometry=[Point(*SLIDE)], crs="EPSG:4326")
    slides.to_file(tmp / "slides.gpkg", layer="points", engine="pyogrio")
    # 24 h rainfall, int16 tenths of mm: 1000 = 100 mm over the whole box
    data = np.full((40, 60), 1000, dtype="int16")
    data[:20] = 2500
    with rasterio.open(
        tmp / "rain.tif", "w", driver="GTiff", width=60, height=40, count=1,
        dtype="int16", crs="EPSG:4326", nodata=-9999,
        transform=from_origin(104.4, 25.4, 0.06, 0.075),
    ) as dst:  # fmt: skip
        dst.write(data, 1)
        dst.scales = (0.1,)
    return tmp


@pytest.fixture(scope="module")
def cells(layers: Path) -> gpd.GeoDataFrame:
    extra = f"""
[[hazard_layers]]
hazard = "flood"
kind = "zones"
path = "{(layers / "洪涝风险区.gpkg").as_posix()}"
layer = "zones"
field = "等级"
levels = {{ "高" = 1.0, "中" = 0.6, "低" = 0.3 }}

[[hazard_layers]]
hazard = "geological"
kind = "points"
path = "{(layers / "slides.gpkg").as_posix()}"
method = "decay"
scale_km = 5.0

[[hazard_layers]]
hazard = "rainstorm"
kind = "raster"
path = "{(layers / "rain.tif").as_posix()}"
lower = 50.0
upper = 250.0
weight = 0.2
"""
    cfg = load_config(_config(layers, extra))
    assert cfg.risk.hazard_weights["rainstorm"] == 0.2
    result = analyse(load_inputs(cfg), cfg)
    grid = result.grid
    grid.attrs["counties"] = result.counties
    return grid


def _cell_at(cells: gpd.GeoDataFrame, lon: float, lat: float) -> gpd.GeoSeries:
    pt = gpd.GeoSeries([Point(lon, lat)], crs=4326).to_crs(cells.crs).iloc[0]
    return cells[cells.contains(pt)].iloc[0]


def test_zones_give_their_level(cells: gpd.GeoDataFrame) -> None:
    assert _cell_at(cells, 106.62, 23.90)["h_flood"] == 1.0
    assert _cell_at(cells, 106.78, 23.90)["h_flood"] == 0.3
    assert _cell_at(cells, 105.5, 24.5)["h_flood"] == 0.0


def test_points_decay_with_distance(cells: gpd.GeoDataFrame) -> None:
    here = _cell_at(cells, *SLIDE)
    assert here["h_geological"] == 1.0
    far = _cell_at(cells, 106.62, 23.90)
    assert far["h_geological"] < 0.01


def test_a_further_hazard_from_a_scaled_raster(cells: gpd.GeoDataFrame) -> None:
    north = _cell_at(cells, 106.5, 25.0)  # 250 mm -> 1.0
    south = _cell_at(cells, 106.6, 23.35)  # 100 mm -> 0.25, not 1000 raw
    assert north["h_rainstorm"] == pytest.approx(1.0)
    assert south["h_rainstorm"] == pytest.approx(0.25)
    assert "h_rainstorm" in cells.attrs["counties"].columns


def test_unknown_level_is_named(layers: Path) -> None:
    extra = f"""
[[hazard_layers]]
hazard = "flood"
kind = "zones"
path = "{(layers / "洪涝风险区.gpkg").as_posix()}"
field = "等级"
levels = {{ "高" = 1.0 }}
"""
    cfg = load_config(_config(layers, extra))
    inputs = load_inputs(cfg)
    grid = build_grid(inputs.counties, "adcode", cell_size_m=5000)
    from riskmap.hazard_layers import hazard_from_layer

    with pytest.raises(FieldError, match=r"levels \['低'\] have no value"):
        hazard_from_layer(
            cfg.hazard_layers[0],
            grid,
            Path(cfg.hazard_layers[0].path),
            inputs.hazard_layers["flood"],
        )


def test_weight_for_an_unknown_hazard_is_refused(tmp_path: Path) -> None:
    text = default_config_text().replace(
        "hazard_weights = { flood = 0.3,", "hazard_weights = { hail = 0.1, flood = 0.3,"
    )
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown hazards \['hail'\]"):
        load_config(path)


def test_rescale_handles_flat_input() -> None:
    assert rescale(np.array([2.0, 2.0])).tolist() == [0.0, 0.0]


def test_vulnerability_from_county_indicators(tmp_path: Path) -> None:
    from riskmap.config import Indicator
    from riskmap.pipeline import vulnerability

    (tmp_path / "old.csv").write_text(
        "adcode,share\n0451002,0.1\n0451003,0.3\n", encoding="utf-8"
    )
    (tmp_path / "beds.csv").write_text(
        "\ufeffadcode,per1000\n0451002,2\n0451003,4\n", encoding="utf-8"
    )
    cfg = load_config()
    cfg.run.data_dir = str(tmp_path)
    cfg.risk.vulnerability_indicators = [
        Indicator(name="elderly", path="old.csv", field="share", weight=3),
        Indicator(name="beds", path="beds.csv", field="per1000", invert=True),
    ]
    import pandas as pd

    cells = pd.DataFrame({"adcode": ["0451002", "0451003", "0451002"]})
    # elderly 0 / 1 (min-max), beds inverted 1 / 0; weights 3 : 1; floor 0.5
    assert vulnerability(cells, cfg).tolist() == pytest.approx(
        [0.5 + 0.5 * 0.25, 0.5 + 0.5 * 0.75, 0.5 + 0.5 * 0.25]
    )
    cells.loc[3] = ["0451099"]
    with pytest.raises(FieldError, match=r"no numeric value for units \['0451099'\]"):
        vulnerability(cells, cfg)


@pytest.mark.parametrize("scale", [True, False])
def test_population_from_a_raster(tmp_path: Path, scale: bool) -> None:
    import pandas as pd

    # 0.01 degree pixels, 2 people each, 5,000 more in Baise city's pixel
    data = np.full((320, 420), 2.0, dtype="float32")
    row, col = int((25.6 - 23.905) / 0.01), int((106.615 - 104.2) / 0.01)
    data[row, col] += 5000
    with rasterio.open(
        tmp_path / "pop.tif", "w", driver="GTiff", width=420, height=320, count=1,
        dtype="float32", crs="EPSG:4326", nodata=-99999,
        transform=from_origin(104.2, 25.6, 0.01, 0.01),
    ) as dst:  # fmt: skip
        dst.write(data, 1)
    extra = (
        f'[layers.population_raster]\npath = "{(tmp_path / "pop.tif").as_posix()}"\n'
    )
    text = default_config_text().replace("cell_size_m = 1000", "cell_size_m = 5000")
    text = text.replace('data_dir = "default"', f'data_dir = "{_data()}"')
    text = text.replace("[layers.dem]", extra + "\n[layers.dem]")
    if not scale:
        text = text.replace("[population]", "[population]\nscale_to_census = false")
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    cfg = load_config(path)
    result = analyse(load_inputs(cfg), cfg)
    grid = result.grid
    city = _cell_at(grid, 106.615, 23.905)
    per_county = grid.groupby("adcode")["population"].sum()
    if scale:
        census = result.counties.set_index("adcode")["population"].astype(float)
        pd.testing.assert_series_equal(
            per_county.sort_index(), census.sort_index(), check_names=False
        )
    else:
        # 5 km cells of 0.01 degree pixels: about 2 people per ~1.1 km2
        area_km2 = result.counties["area_km2"].sum()
        assert grid["population"].sum() == pytest.approx(
            5000 + 2 * area_km2 / 1.14, rel=0.05
        )
        # the hot pixel may straddle cells: its 5,000 people stay nearby
        here = gpd.GeoSeries([Point(106.615, 23.905)], crs=4326).to_crs(grid.crs)
        near = grid[grid.geometry.centroid.distance(here.iloc[0]) < 6000]
        assert near["population"].sum() > 5000
    assert city["population"] == grid["population"].max()
