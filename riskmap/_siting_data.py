"""Layer and table helpers of :mod:`riskmap.siting`: checks, points, frames."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from riskmap.errors import FieldError, LayerError

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]


def require_crs(layer: gpd.GeoDataFrame | gpd.GeoSeries, name: str) -> None:
    if not isinstance(layer, gpd.GeoDataFrame | gpd.GeoSeries):
        raise LayerError(
            f"{name} must be a GeoDataFrame, got {type(layer).__name__}",
            layer=name,
            fix="read it with geopandas.read_file or build one with a crs",
        )
    if layer.crs is None:
        raise LayerError(
            "the layer has no CRS",
            layer=name,
            fix=f"set it, e.g. {name}.set_crs('EPSG:4326')",
        )


def local_crs(layer: gpd.GeoDataFrame | gpd.GeoSeries) -> Any:
    """The layer's CRS if projected, else its UTM zone."""
    if layer.crs is not None and layer.crs.is_projected:
        return layer.crs
    return layer.estimate_utm_crs()


def site_points(layer: gpd.GeoDataFrame | gpd.GeoSeries) -> gpd.GeoSeries:
    """Points of a layer: points as they are, polygons' centres or surface."""
    geom = layer.geometry if isinstance(layer, gpd.GeoDataFrame) else layer
    values = geom.values
    is_point = shapely.get_type_id(values) == 0
    if is_point.all():
        return geom
    centre = shapely.centroid(values)
    inside = shapely.contains(values, centre)
    pts = np.where(
        is_point, values, np.where(inside, centre, shapely.point_on_surface(values))
    )
    return gpd.GeoSeries(pts, index=geom.index, crs=geom.crs)


def hazard_values(sites: gpd.GeoDataFrame, grid: gpd.GeoDataFrame | None) -> Any:
    """Hazard and slope columns of the sites, sampled from the grid if absent."""
    wanted = ["h_flood", "h_geological", "slope_deg"]
    have = [c for c in wanted if c in sites.columns]
    missing = [c for c in wanted if c not in sites.columns]
    frame = pd.DataFrame(sites[have], index=sites.index)
    if missing and grid is not None:
        require_crs(grid, "grid")
        cols = [c for c in missing if c in grid.columns]
        pts = gpd.GeoDataFrame(geometry=site_points(sites).to_crs(grid.crs))
        joined = gpd.sjoin(pts, grid[[*cols, "geometry"]], how="left")
        joined = joined[~joined.index.duplicated(keep="first")]
        for c in cols:
            frame[c] = joined[c].reindex(sites.index)
    return frame


def require_field(frame: pd.DataFrame, column: str, name: str) -> None:
    if column not in frame.columns:
        raise FieldError(
            "the column is missing",
            layer=name,
            field=column,
            fix=f"pick one of {list(frame.columns)}",
        )


def demand_frame(
    index: pd.Index, weight: pd.Series, population: pd.Series | None
) -> pd.DataFrame:
    w = pd.to_numeric(weight.reindex(index), errors="coerce").fillna(0.0)
    if (w < 0).any():
        raise FieldError(
            "demand weights must not be negative",
            layer="demand",
            field=str(weight.name or "weight"),
            fix="check the population column",
        )
    pop = w if population is None else population.reindex(index)
    pop = pd.to_numeric(pop, errors="coerce").fillna(0.0)
    return pd.DataFrame({"weight": w.to_numpy(), "population": pop.to_numpy()}, index)


def site_frame(
    index: pd.Index, fixed: Sequence[Any] | pd.Index, capacity: pd.Series | None
) -> pd.DataFrame:
    unknown = pd.Index(fixed).difference(index)
    if len(unknown):
        raise FieldError(
            f"fixed sites {list(unknown)[:5]} are not among the sites",
            layer="sites",
            fix="name existing facilities by their site labels",
        )
    cap = (
        np.full(len(index), np.nan)
        if capacity is None
        else pd.to_numeric(capacity.reindex(index), errors="coerce").to_numpy(float)
    )
    return pd.DataFrame({"fixed": index.isin(fixed), "capacity": cap}, index=index)


class Fastest:
    """Demand-site pairs gathered chunk by chunk, optionally the fastest few.

    With ``keep`` set, a dense ``(n_rows, keep)`` table holds each row's
    fastest sites so far, merged with every chunk by one partial sort,
    and each row's fastest fixed site is kept besides, so that the
    p-median always knows the existing facility a unit falls back on.
    Without ``keep``, every finite pair is kept.
    """

    def __init__(self, n_rows: int, keep: int | None, fixed: NDArray[np.bool_]) -> None:
        self.keep = keep
        self.fixed = fixed
        width = 0 if keep is None else keep
        self.time = np.full((n_rows, width), np.inf)
        self.site = np.full((n_rows, width), -1, dtype=np.int64)
        self.fixed_time = np.full(n_rows, np.inf)
        self.fixed_site = np.full(n_rows, -1, dtype=np.int64)
        self.parts: list[tuple[NDArray[np.int64], NDArray[np.int64], FloatArray]] = []

    def add(self, block: FloatArray, first: int) -> None:
        """Merge times to sites ``first, first + 1, ...`` (inf: no pair)."""
        if self.keep is None:
            r, c = np.nonzero(np.isfinite(block))
            self.parts.append((r, c + first, block[r, c]))
            return
        ids = np.arange(first, first + block.shape[1], dtype=np.int64)
        fixed = self.fixed[ids]
        if fixed.any():
            sub = block[:, fixed]
            best = np.argmin(sub, axis=1)
            t = sub[np.arange(len(sub)), best]
            better = t < self.fixed_time
            self.fixed_time[better] = t[better]
            self.fixed_site[better] = ids[fixed][best[better]]
        t = np.hstack([self.time, block])
        s = np.hstack([self.site, np.broadcast_to(ids, block.shape)])
        if t.shape[1] > self.keep:
            idx = np.argpartition(t, self.keep - 1, axis=1)[:, : self.keep]
            t = np.take_along_axis(t, idx, axis=1)
            s = np.take_along_axis(s, idx, axis=1)
        self.time, self.site = t, s

    def arrays(self) -> tuple[NDArray[np.int64], NDArray[np.int64], FloatArray]:
        """Row, site and time of every pair kept."""
        if self.keep is None:
            if not self.parts:
                empty = np.empty(0, dtype=np.int64)
                return empty, empty, np.empty(0)
            r, c, v = (np.concatenate(x) for x in zip(*self.parts, strict=True))
            return r, c, v
        r, k = np.nonzero(np.isfinite(self.time))
        rows, sites, times = r.astype(np.int64), self.site[r, k], self.time[r, k]
        # Add each row's fastest fixed site where the table left it out.
        listed = np.zeros(len(self.fixed_site), dtype=bool)
        listed[rows[sites == self.fixed_site[rows]]] = True
        extra = np.flatnonzero(np.isfinite(self.fixed_time) & ~listed)
        return (
            np.concatenate([rows, extra]),
            np.concatenate([sites, self.fixed_site[extra]]),
            np.concatenate([times, self.fixed_time[extra]]),
        )


def unit_of_facility(
    facilities: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    unit_field: str,
    facility_unit_field: str | None,
) -> pd.Series:
    """Unit code of each facility: by field, polygon or nearest seat."""
    if facility_unit_field is not None:
        require_field(facilities, facility_unit_field, "facilities")
        return facilities[facility_unit_field].astype(str)
    require_crs(facilities, "facilities")
    require_crs(units, "units")
    crs = local_crs(units)
    pts = gpd.GeoDataFrame(geometry=site_points(facilities).to_crs(crs))
    zones = units[[unit_field, "geometry"]].to_crs(crs)
    zones[unit_field] = zones[unit_field].astype(str)
    if (shapely.get_type_id(zones.geometry.values) == 0).all():
        joined = gpd.sjoin_nearest(pts, zones, how="left")
    else:
        joined = gpd.sjoin(pts, zones, how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    return joined[unit_field].reindex(facilities.index)


def merge_demand(frame: pd.DataFrame, size: float) -> pd.DataFrame:
    """Merge demand points into squares: summed people, weighted centres."""
    key = pd.Series(
        list(
            zip(
                np.floor(frame["x"] / size).astype(int),
                np.floor(frame["y"] / size).astype(int),
                frame["unit"],
                strict=True,
            )
        ),
        index=frame.index,
    )
    work = frame.assign(
        key=key,
        wx=frame["x"] * frame["population"],
        wy=frame["y"] * frame["population"],
    )
    sums = work.groupby("key", sort=True)[["population", "weight", "wx", "wy"]].sum()
    unit = work.groupby("key", sort=True)["unit"].first()
    out = pd.DataFrame(
        {
            "population": sums["population"].to_numpy(),
            "weight": sums["weight"].to_numpy(),
            "unit": unit.to_numpy(),
            "x": (sums["wx"] / sums["population"]).to_numpy(),
            "y": (sums["wy"] / sums["population"]).to_numpy(),
        },
        index=pd.Index([f"d{i}" for i in range(len(sums))], name="demand"),
    )
    logger.info("merged %d demand cells into %d squares", len(frame), len(out))
    return out
