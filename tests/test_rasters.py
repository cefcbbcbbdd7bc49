"""Reading, aligning and summarising rasters built in tmp_path."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from rasterio.crs import CRS
from rasterio.transform import from_origin
from shapely import box

from riskmap.errors import CRSError, FieldError, RasterError
from riskmap.rasters import Raster, align_to, read_raster, zonal_mean


def _write(
    path: Path,
    values: np.ndarray,
    *,
    crs: str | None = "EPSG:4326",
    transform: Any = None,
    nodata: float | None = None,
    scale: float = 1.0,
    offset: float = 0.0,
) -> Path:
    height, width = values.shape
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=width,
        height=height,
        count=1,
        dtype=values.dtype,
        crs=crs,
        nodata=nodata,
        transform=transform or from_origin(106.5, 24.0, 0.01, 0.01),
    ) as dst:
        dst.write(values, 1)
        if scale != 1.0 or offset != 0.0:
            dst.scales = (scale,)
            dst.offsets = (offset,)
    return path


@pytest.mark.parametrize(
    ("dtype", "sentinel"),
    [
        ("float32", -99999.0),
        ("int32", -99999),
        ("uint16", 65535),
        ("float32", -9999.0),
        ("int16", -32768),
    ],
)
def test_undeclared_sentinel_is_masked_with_a_warning(
    tmp_path: Path, dtype: str, sentinel: float
) -> None:
    values = np.array([[10, 20], [sentinel, 40]], dtype=dtype)
    path = _write(tmp_path / "s.tif", values)
    with pytest.warns(UserWarning, match=f"1 cells hold {sentinel:g}, a no-data"):
        raster = read_raster(path)
    assert raster.data.mask.tolist() == [[False, False], [True, False]]
    assert float(raster.data.mean()) == pytest.approx(70 / 3)
    assert any(f.level == "warning" for f in raster.findings)


def test_float_minimum_is_masked(tmp_path: Path) -> None:
    low = np.finfo("float32").min
    values = np.array([[low, 2.0]], dtype="float32")
    with pytest.warns(UserWarning, match="1 cells hold -3.40282e"):
        raster = read_raster(_write(tmp_path / "m.tif", values))
    assert raster.data.mask.tolist() == [[True, False]]


def test_declared_nodata_is_quiet(tmp_path: Path) -> None:
    values = np.array([[-99999, 5]], dtype="int32")
    raster = read_raster(_write(tmp_path / "d.tif", values, nodata=-99999))
    assert raster.data.mask.tolist() == [[True, False]]
    assert raster.data.dtype == np.float64


def test_nodata_override_replaces_detection(tmp_path: Path) -> None:
    values = np.array([[0, 65535, 7]], dtype="uint16")
    raster = read_raster(_write(tmp_path / "o.tif", values), nodata=0)
    assert raster.data.mask.tolist() == [[True, False, False]]
    assert raster.data[0, 1] == 65535


def test_nan_is_nodata(tmp_path: Path) -> None:
    values = np.array([[np.nan, 1.5]], dtype="float32")
    raster = read_raster(_write(tmp_path / "n.tif", values))
    assert raster.data.count() == 1


def test_scale_and_offset_give_real_units(tmp_path: Path) -> None:
    values = np.array([[1000, 999, -1]], dtype="int16")
    path = _write(tmp_path / "r.tif", values, nodata=-1, scale=0.1, offset=2.0)
    raster = read_raster(path)
    assert raster.data.filled(np.nan)[0, :2] == pytest.approx([102.0, 101.9])
    assert raster.data.mask[0, 2]
    # a threshold of 100 mm applies to real units, not stored numbers
    assert int((raster.data >= 102).sum()) == 1


def test_all_nodata_warns(tmp_path: Path) -> None:
    values = np.full((2, 2), -9999, dtype="int16")
    path = _write(tmp_path / "a.tif", values, nodata=-9999)
    with pytest.warns(UserWarning, match="every cell is nodata"):
        read_raster(path)


def test_raster_errors_are_named(tmp_path: Path) -> None:
    with pytest.raises(RasterError, match="the file does not exist"):
        read_raster(tmp_path / "无.tif")
    bad = tmp_path / "bad.tif"
    bad.write_text("not a raster", encoding="utf-8")
    with pytest.raises(RasterError, match="cannot be read as a raster"):
        read_raster(bad)
    path = _write(tmp_path / "b.tif", np.zeros((1, 1), dtype="uint8"))
    with pytest.raises(RasterError, match="band 2 asked for but the raster has 1"):
        read_raster(path, band=2)


def test_raster_without_crs(tmp_path: Path) -> None:
    path = tmp_path / "c.tif"
    with pytest.warns(rasterio.errors.NotGeoreferencedWarning):
        with rasterio.open(
            path, "w", driver="GTiff", width=1, height=1, count=1, dtype="uint8"
        ) as dst:
            dst.write(np.ones((1, 1), dtype="uint8"), 1)
        with pytest.raises(CRSError, match="the raster has no CRS"):
            read_raster(path)
        assert read_raster(path, crs="EPSG:4545").crs.to_epsg() == 4545


def _utm_grid() -> dict[str, Any]:
    # 20 x 20 cells of 500 m in UTM 48N around Baise
    return {
        "crs": "EPSG:32648",
        "transform": from_origin(660000, 2647000, 500, 500),
        "width": 20,
        "height": 20,
    }


def _lon_raster() -> Raster:
    # value = longitude of the cell centre, on a 0.01 degree grid
    lons = 106.5 + 0.005 + 0.01 * np.arange(40)
    values = np.tile(lons, (40, 1))
    return Raster(
        np.ma.masked_invalid(values),
        CRS.from_epsg(4326),
        from_origin(106.5, 24.0, 0.01, 0.01),
        "lon.tif",
    )


def test_align_to_another_crs_bilinear(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="riskmap.rasters"):
        out = align_to(_lon_raster(), _utm_grid(), "bilinear")
    assert "with bilinear resampling" in caplog.text
    assert out.data.shape == (20, 20)
    assert out.crs.to_epsg() == 32648
    # compare with the true longitude of each target cell centre
    rows, cols = np.mgrid[0:20, 0:20]
    xs, ys = rasterio.transform.xy(out.transform, rows.ravel(), cols.ravel())
    lon = gpd.GeoSeries.from_xy(xs, ys, crs=32648).to_crs(4326).x.to_numpy()
    got = out.data.filled(np.nan).ravel()
    ok = np.isfinite(got)
    assert ok.mean() > 0.9
    assert np.abs(got[ok] - lon[ok]).max() < 0.006


def test_align_nearest_keeps_classes() -> None:
    classes = np.ma.masked_invalid(np.tile([1.0, 5.0, 12.0, 13.0], (40, 10)))
    src = Raster(classes, CRS.from_epsg(4326), from_origin(106.5, 24.0, 0.01, 0.01))
    out = align_to(src, _utm_grid(), "nearest")
    assert set(np.unique(out.data.compressed())) <= {1.0, 5.0, 12.0, 13.0}


def test_align_average_to_coarser_grid() -> None:
    src = Raster(
        np.ma.masked_invalid(np.arange(16.0).reshape(4, 4)),
        CRS.from_epsg(32648),
        from_origin(0, 40, 10, 10),
    )
    ref = {
        "crs": "EPSG:32648",
        "transform": from_origin(0, 40, 20, 20),
        "width": 2,
        "height": 2,
    }
    out = align_to(src, ref, "average")
    assert out.data.tolist() == [[2.5, 4.5], [10.5, 12.5]]


def test_align_to_same_grid_is_a_no_op() -> None:
    src = _lon_raster()
    assert align_to(src, src) is src


def test_align_refuses_unknown_method() -> None:
    with pytest.raises(RasterError, match="resampling 'cubic' is not offered"):
        align_to(_lon_raster(), _utm_grid(), "cubic")  # type: ignore[arg-type]


def test_zonal_mean_across_crs_and_outside(tmp_path: Path) -> None:
    values = np.arange(16, dtype="float32").reshape(4, 4)
    path = _write(
        tmp_path / "g.tif",
        values,
        crs="EPSG:32648",
        transform=from_origin(660000, 2645000, 100, 100),
        nodata=-9999,
    )
    zones_utm = gpd.GeoDataFrame(
        {"zid": ["cell0", "far"]},
        geometry=[box(660010, 2644910, 660090, 2644990), box(0, 0, 10, 10)],
        crs=32648,
    )
    got = zonal_mean(path, zones_utm.to_crs(4326), id_field="zid")
    assert got["cell0"] == pytest.approx(0.0, abs=1e-6)
    assert np.isnan(got["far"])
    with pytest.raises(FieldError, match="the zones have no column 'nope'"):
        zonal_mean(path, zones_utm, id_field="nope")
