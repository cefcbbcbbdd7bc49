"""Tests of the analysis grid."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import box

from riskmap.errors import LayerError
from riskmap.grid import build_grid, choose_analysis_crs


@pytest.fixture
def units() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"adcode": ["451002", "451003"]},
        geometry=[
            box(500_000, 2_600_000, 503_000, 2_602_000),
            box(503_000, 2_600_000, 505_000, 2_602_000),
        ],
        crs="EPSG:32648",
    )


def test_cells_follow_the_units(units: gpd.GeoDataFrame) -> None:
    g = build_grid(units, "adcode", cell_size_m=500)
    cells = g.cells()
    assert g.shape == (4, 10)
    assert cells["adcode"].value_counts().to_dict() == {"451002": 24, "451003": 16}
    assert cells.area.sum() == pytest.approx(units.area.sum())
    assert cells["cell_id"].is_unique


def test_geographic_units_are_projected_to_utm(units: gpd.GeoDataFrame) -> None:
    g = build_grid(units.to_crs(4326), "adcode", cell_size_m=1000)
    assert g.crs.to_epsg() == 32648
    assert g.cell_size == 1000


def test_geographic_analysis_crs_is_refused(units: gpd.GeoDataFrame) -> None:
    with pytest.raises(LayerError, match="geographic; measurements need metres"):
        choose_analysis_crs(units, "EPSG:4326")


def test_missing_id_field_is_named(units: gpd.GeoDataFrame) -> None:
    with pytest.raises(LayerError, match="no field 'code'"):
        build_grid(units, "code")


def test_sample_raster_applies_scale_and_nodata(tmp_path, units) -> None:
    path = tmp_path / "r.tif"
    data = np.full((4, 10), 50, dtype="int16")
    data[0, 0] = -9999
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=10,
        height=4,
        count=1,
        dtype="int16",
        crs="EPSG:32648",
        transform=from_origin(500_000, 2_602_000, 500, 500),
        nodata=-9999,
    ) as dst:
        dst.write(data, 1)
        dst.scales = (0.1,)
        dst.offsets = (1.0,)
    g = build_grid(units, "adcode", cell_size_m=500)
    out = g.sample_raster(path, resampling=rasterio.enums.Resampling.nearest)
    assert np.isnan(out[0, 0])
    assert out[1, 1] == pytest.approx(6.0)
