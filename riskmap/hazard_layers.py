"""Hazard indices from a planner's own layers instead of the default models.

A ``[[hazard_layers]]`` entry of the configuration names a hazard (one of
the four, which it then replaces, or a new one such as ``rainstorm``) and
the layer it comes from:

zones
    Polygons with a level field (``高/中/低``, ``1-4`` ...) mapped to 0-1 by
    ``levels``. A cell takes the highest level among the zones covering its
    centre; cells outside every zone get ``outside`` (default 0).
raster
    A continuous raster (susceptibility, PGA, rainfall) resampled onto the
    grid (scale, offset and nodata of the file honoured) and rescaled to
    0-1 between ``lower`` and ``upper`` in the raster's real units.
points
    An inventory of events (landslide points, fire spots, epicentres):
    ``decay`` gives ``exp(-d / scale_km)`` from the nearest point,
    ``density`` the count of points within ``scale_km``, scaled by the
    highest count.

Examples
--------
>>> import numpy as np
>>> rescale(np.array([0.0, 50.0, 150.0]), lower=0.0, upper=100.0).tolist()
[0.0, 0.5, 1.0]
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
from rasterio.enums import Resampling
from scipy import ndimage

from riskmap.config import HazardLayer
from riskmap.errors import FieldError
from riskmap.grid import Grid
from riskmap.hazards import distance_km

__all__ = ["hazard_from_layer", "rescale"]

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]


def rescale(
    values: FloatArray, *, lower: float | None = None, upper: float | None = None
) -> FloatArray:
    """Linear 0-1 rescaling between ``lower`` and ``upper`` (data range if None).

    NaN stays NaN; values beyond the bounds are clipped.
    """
    lo = float(np.nanmin(values)) if lower is None else lower
    hi = float(np.nanmax(values)) if upper is None else upper
    if hi <= lo:
        return np.where(np.isnan(values), np.nan, 0.0)
    return np.asarray(np.clip((values - lo) / (hi - lo), 0.0, 1.0), dtype=float)


def hazard_from_layer(
    spec: HazardLayer, grid: Grid, path: Path, vectors: gpd.GeoDataFrame | None
) -> FloatArray:
    """The 0-1 hazard surface (full grid) described by ``spec``.

    ``vectors`` is the loaded layer for ``zones`` and ``points`` (in any
    CRS); ``path`` is the raster for ``raster``.
    """
    if spec.kind == "raster":
        values = grid.sample_raster(path, resampling=Resampling.bilinear)
        return rescale(values, lower=spec.lower, upper=spec.upper)
    assert vectors is not None
    if spec.kind == "zones":
        return _zones(spec, grid, path, vectors)
    return _points(spec, grid, vectors)


def _zones(
    spec: HazardLayer, grid: Grid, path: Path, zones: gpd.GeoDataFrame
) -> FloatArray:
    field = spec.field
    if field is None or field not in zones.columns:
        raise FieldError(
            f"the level field {field!r} is not among {list(zones.columns)}",
            path=path,
            layer=spec.hazard,
            field=field,
            fix="set 'field' of this [[hazard_layers]] entry",
        )
    text = zones[field].astype(str).str.strip()
    unknown = sorted(set(text) - set(spec.levels))
    if unknown:
        raise FieldError(
            f"levels {unknown} have no value in 'levels' ({spec.levels})",
            path=path,
            layer=spec.hazard,
            field=field,
            fix="map every level to a 0-1 value, e.g. levels = { 高 = 1.0 }",
        )
    value = text.map(spec.levels).astype(float)
    out = np.full(grid.shape, spec.outside, dtype=float)
    projected = zones.to_crs(grid.crs)
    # burn the lowest first so the highest level present wins
    for level in sorted(set(value)):
        mask = grid.rasterize(projected.geometry[value == level], all_touched=False)
        out[mask] = np.maximum(out[mask], level)
    return out


def _points(spec: HazardLayer, grid: Grid, points: gpd.GeoDataFrame) -> FloatArray:
    hits = grid.rasterize(points.geometry, all_touched=True)
    if spec.method == "decay":
        return np.asarray(np.exp(-distance_km(hits, grid.cell_size) / spec.scale_km))
    counts = np.zeros(grid.shape, dtype=float)
    xy = points.to_crs(grid.crs).geometry
    rows, cols = _cell_of(grid, np.asarray(xy.x), np.asarray(xy.y))
    inside = (rows >= 0) & (rows < grid.shape[0]) & (cols >= 0) & (cols < grid.shape[1])
    np.add.at(counts, (rows[inside], cols[inside]), 1.0)
    radius = spec.scale_km * 1000.0 / grid.cell_size
    size = int(2 * np.ceil(radius) + 1)
    yy, xx = np.mgrid[:size, :size] - size // 2
    disc = (np.hypot(yy, xx) <= radius).astype(float)
    density = ndimage.convolve(counts, disc, mode="constant")
    top = density.max()
    return density / top if top > 0 else density


def _cell_of(
    grid: Grid, x: FloatArray, y: FloatArray
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    t = grid.transform
    cols = np.floor((x - t.c) / t.a).astype(np.intp)
    rows = np.floor((y - t.f) / t.e).astype(np.intp)
    return rows, cols
