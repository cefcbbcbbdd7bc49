"""Default hazard models: a 0-1 index per grid cell for the four hazards.

These models are what riskmap computes when a planner has no hazard
zoning of their own; each uses only layers the default dataset has (a
DEM, land cover, rivers, settlements and historical earthquakes) and every
parameter sits in the ``[hazards.*]`` sections of the configuration. The
method is written out in ``docs/method.md``; in short:

flood
    The larger of a riverine term, ``exp(-HAND / hand_scale) *
    exp(-d_river / distance_scale)`` where HAND is the height above the
    nearest river cell, and a karst ponding term, ``1 - exp(-(depth -
    min_depth) / depth_scale)`` for cells in closed depressions of the DEM,
    where rain stands for days with no river nearby.
geological (landslide, debris flow)
    A weighted sum of slope and local relief, each scaled to 0-1 at a
    configured "full" value.
fire
    Fuel (forest and savanna land cover) times a weighted mix of fuel,
    slope and ignition pressure (closeness to settlements).
earthquake
    The largest intensity reached by any historical event under the
    attenuation ``I = c0 + c1*M - c2*ln(R + r0)``, rescaled from
    ``intensity_zero`` to ``intensity_full``; fault proximity adds
    ``fault_weight * exp(-d_fault / scale)`` where faults are supplied.
"""

from __future__ import annotations

import logging

import numpy as np
import numpy.typing as npt
import pandas as pd
from pyproj import Geod
from scipy import ndimage
from skimage.morphology import reconstruction

from riskmap.config import EarthquakeModel, FireModel, FloodModel, GeologicalModel

__all__ = [
    "IGBP_FUEL",
    "depression_depth",
    "distance_km",
    "earthquake_index",
    "earthquake_intensity",
    "fire_index",
    "flood_index",
    "geological_index",
    "height_above_river",
    "local_relief",
    "slope_deg",
]

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Fuel load (0-1) of each IGBP land-cover class, used by the fire model.
IGBP_FUEL: dict[int, float] = {
    0: 0.0,  # water (MCD12C1 code 0)
    1: 1.0,  # evergreen needleleaf forest
    2: 1.0,  # evergreen broadleaf forest
    3: 0.9,  # deciduous needleleaf forest
    4: 0.9,  # deciduous broadleaf forest
    5: 1.0,  # mixed forest
    6: 0.6,  # closed shrubland
    7: 0.5,  # open shrubland
    8: 0.85,  # woody savanna
    9: 0.7,  # savanna
    10: 0.45,  # grassland
    11: 0.1,  # permanent wetland
    12: 0.2,  # cropland
    13: 0.0,  # urban and built-up
    14: 0.3,  # cropland / natural vegetation mosaic
    15: 0.0,  # snow and ice
    16: 0.05,  # barren
    17: 0.0,  # water
}


def _fill_nan(elev: FloatArray) -> FloatArray:
    """Replace NaN by the nearest valid value (for neighbourhood filters)."""
    nan = np.isnan(elev)
    if not nan.any():
        return elev
    if nan.all():
        raise ValueError("the DEM has no valid cell over the grid")
    idx = ndimage.distance_transform_edt(
        nan, return_distances=False, return_indices=True
    )
    return np.asarray(elev[tuple(idx)], dtype=float)


def slope_deg(elev: FloatArray, cell_size: float) -> FloatArray:
    """Slope in degrees from a DEM on square cells of ``cell_size`` metres.

    Examples
    --------
    >>> ramp = np.array([[0.0, 100.0, 200.0]] * 3)
    >>> round(float(slope_deg(ramp, 100.0)[1, 1]), 1)
    45.0
    """
    filled = np.pad(_fill_nan(np.asarray(elev, dtype=float)), 1, mode="edge")
    grad = np.gradient(filled, cell_size)
    dzdy, dzdx = grad[0][1:-1, 1:-1], grad[1][1:-1, 1:-1]
    out = np.degrees(np.arctan(np.hypot(dzdx, dzdy)))
    out[np.isnan(elev)] = np.nan
    return np.asarray(out, dtype=float)


def local_relief(elev: FloatArray, window: int) -> FloatArray:
    """Highest minus lowest elevation in a ``window`` x ``window`` neighbourhood.

    Examples
    --------
    >>> z = np.zeros((5, 5)); z[2, 2] = 300.0
    >>> float(local_relief(z, 3)[1, 1]), float(local_relief(z, 3)[0, 0])
    (300.0, 0.0)
    """
    filled = _fill_nan(np.asarray(elev, dtype=float))
    relief = ndimage.maximum_filter(filled, size=window) - ndimage.minimum_filter(
        filled, size=window
    )
    relief = relief.astype(float)
    relief[np.isnan(elev)] = np.nan
    return relief


def depression_depth(elev: FloatArray) -> FloatArray:
    """Depth of closed depressions: the DEM filled to its spill points, minus it.

    Cells on the raster edge and cells without data drain freely, so only
    depressions enclosed inside the raster hold water.

    Examples
    --------
    >>> z = np.full((5, 5), 10.0); z[2, 2] = 4.0
    >>> float(depression_depth(z)[2, 2]), float(depression_depth(z)[0, 0])
    (6.0, 0.0)
    """
    elev = np.asarray(elev, dtype=float)
    nodata = np.isnan(elev)
    low = float(np.nanmin(elev)) if not nodata.all() else 0.0
    z = np.where(nodata, low, elev)
    seed = np.full_like(z, z.max())
    border = np.zeros(z.shape, dtype=bool)
    border[0, :] = border[-1, :] = border[:, 0] = border[:, -1] = True
    outlet = border | nodata
    seed[outlet] = z[outlet]
    filled = reconstruction(seed, z, method="erosion")
    depth = np.asarray(filled - z, dtype=float)
    depth[nodata] = np.nan
    return depth


def distance_km(mask: BoolArray, cell_size: float) -> FloatArray:
    """Distance in km from every cell to the nearest True cell of ``mask``.

    Returns infinity everywhere when the mask is empty.

    Examples
    --------
    >>> m = np.zeros((1, 4), dtype=bool); m[0, 0] = True
    >>> distance_km(m, 500.0).tolist()
    [[0.0, 0.5, 1.0, 1.5]]
    """
    if not mask.any():
        return np.full(mask.shape, np.inf)
    dist = ndimage.distance_transform_edt(~mask, sampling=cell_size)
    return np.asarray(dist, dtype=float) / 1000.0


def height_above_river(
    elev: FloatArray, river: BoolArray, cell_size: float
) -> tuple[FloatArray, FloatArray]:
    """Height above the nearest river cell (m) and the distance to it (km).

    The nearest river cell is the nearest in plan, a common simplification
    of HAND (which follows the flow path) that suits a coarse DEM.

    Examples
    --------
    >>> z = np.array([[100.0, 110.0, 130.0]]); r = np.array([[True, False, False]])
    >>> hand, d = height_above_river(z, r, 1000.0)
    >>> hand.tolist(), d.tolist()
    ([[0.0, 10.0, 30.0]], [[0.0, 1.0, 2.0]])
    """
    if not river.any():
        inf = np.full(elev.shape, np.inf)
        return inf, inf.copy()
    filled = _fill_nan(np.asarray(elev, dtype=float))
    dist, idx = ndimage.distance_transform_edt(
        ~river, sampling=cell_size, return_indices=True
    )
    hand = np.clip(filled - filled[tuple(idx)], 0.0, None)
    hand[np.isnan(elev)] = np.nan
    return hand, np.asarray(dist, dtype=float) / 1000.0


def flood_index(
    elev: FloatArray,
    river: BoolArray,
    cell_size: float,
    params: FloodModel | None = None,
) -> tuple[FloatArray, dict[str, FloatArray]]:
    """Flood index (0-1) from river valleys and karst ponding.

    Returns the index and its parts (``riverine``, ``ponding``, ``hand_m``,
    ``river_km``, ``depression_m``) for inspection.

    Examples
    --------
    >>> z = np.array([[100.0, 101.0, 180.0, 300.0]])
    >>> r = np.array([[True, False, False, False]])
    >>> idx, parts = flood_index(z, r, 1000.0)
    >>> bool(idx[0, 0] > idx[0, 1] > idx[0, 2] > idx[0, 3])
    True
    """
    p = params or FloodModel()
    hand, dist = height_above_river(elev, river, cell_size)
    riverine = np.exp(-hand / p.hand_scale_m) * np.exp(
        -dist / p.river_distance_scale_km
    )
    depth = depression_depth(elev)
    excess = np.clip(depth - p.ponding_min_depth_m, 0.0, None)
    ponding = np.where(excess > 0, 1.0 - np.exp(-excess / p.ponding_depth_scale_m), 0.0)
    index = np.fmax(riverine, ponding)
    index[np.isnan(elev)] = np.nan
    parts = {
        "riverine": riverine,
        "ponding": ponding,
        "hand_m": hand,
        "river_km": dist,
        "depression_m": depth,
    }
    return np.clip(index, 0.0, 1.0), parts


def geological_index(
    elev: FloatArray, cell_size: float, params: GeologicalModel | None = None
) -> tuple[FloatArray, dict[str, FloatArray]]:
    """Landslide and debris-flow susceptibility (0-1) from slope and relief.

    Examples
    --------
    >>> flat = np.zeros((5, 5))
    >>> float(np.nanmax(geological_index(flat, 1000.0)[0]))
    0.0
    """
    p = params or GeologicalModel()
    slope = slope_deg(elev, cell_size)
    relief = local_relief(elev, p.relief_window_cells)
    s = np.clip(slope / p.slope_full_deg, 0.0, 1.0)
    r = np.clip(relief / p.relief_full_m, 0.0, 1.0)
    index = p.slope_weight * s + (1.0 - p.slope_weight) * r
    return index, {"slope_deg": slope, "relief_m": relief}


def fire_index(
    landcover: FloatArray,
    elev: FloatArray,
    settlements: BoolArray,
    cell_size: float,
    params: FireModel | None = None,
) -> tuple[FloatArray, dict[str, FloatArray]]:
    """Forest-fire index (0-1): fuel, slope and ignition pressure.

    ``landcover`` holds IGBP classes (NaN where unknown, taken as no fuel);
    ``settlements`` marks cells with a settlement, from which ignition
    pressure decays with distance.

    Examples
    --------
    >>> lc = np.array([[2.0, 13.0]]); z = np.zeros((1, 2))
    >>> s = np.array([[False, True]])
    >>> idx, _ = fire_index(lc, z, s, 1000.0)
    >>> float(idx[0, 1]), bool(idx[0, 0] > 0.6)
    (0.0, True)
    """
    p = params or FireModel()
    classes = np.where(np.isnan(landcover), -1, landcover).astype(int)
    fuel = np.vectorize(lambda c: IGBP_FUEL.get(int(c), 0.0), otypes=[float])(classes)
    slope = np.clip(slope_deg(elev, cell_size) / p.slope_full_deg, 0.0, 1.0)
    slope = np.nan_to_num(slope)
    ignition = np.exp(
        -distance_km(settlements, cell_size) / p.ignition_distance_scale_km
    )
    total = p.fuel_weight + p.slope_weight + p.ignition_weight
    mix = (
        p.fuel_weight * fuel + p.slope_weight * slope + p.ignition_weight * ignition
    ) / (total if total > 0 else 1.0)
    index = fuel * mix
    return np.clip(index, 0.0, 1.0), {"fuel": fuel, "ignition": ignition}


_GEOD = Geod(ellps="WGS84")


def earthquake_intensity(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    events: pd.DataFrame,
    params: EarthquakeModel | None = None,
    default_depth_km: float = 10.0,
) -> FloatArray:
    """Largest modelled intensity at each point from a table of earthquakes.

    ``events`` needs columns ``lon``, ``lat``, ``magnitude`` and optionally
    ``depth_km`` (missing depths default to ``default_depth_km``).
    Distances are geodesic (WGS-84) combined with the depth.

    Examples
    --------
    >>> ev = pd.DataFrame({"lon": [106.65], "lat": [22.89], "magnitude": [5.2],
    ...                    "depth_km": [10.0]})
    >>> i = earthquake_intensity([106.65, 107.65], [22.89, 22.89], ev)
    >>> round(float(i[0]), 1), bool(i[1] < i[0])
    (7.0, True)
    """
    p = params or EarthquakeModel()
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    best = np.full(x.shape, -np.inf)
    depths = (
        pd.to_numeric(events["depth_km"], errors="coerce")
        if "depth_km" in events
        else pd.Series(np.nan, index=events.index)
    ).fillna(default_depth_km)
    table = zip(
        events["lon"].astype(float),
        events["lat"].astype(float),
        events["magnitude"].astype(float),
        depths.astype(float),
        strict=True,
    )
    for ev_lon, ev_lat, mag, depth in table:
        _, _, dist_m = _GEOD.inv(
            np.full(x.shape, ev_lon), np.full(y.shape, ev_lat), x, y
        )
        r = np.hypot(np.asarray(dist_m) / 1000.0, depth)
        intensity = p.c0 + p.c1 * mag - p.c2 * np.log(r + p.r0_km)
        best = np.maximum(best, intensity)
    return best


def earthquake_index(
    intensity: FloatArray,
    fault_km: FloatArray | None = None,
    params: EarthquakeModel | None = None,
) -> FloatArray:
    """Rescale intensity to 0-1 and add fault proximity where faults exist.

    Examples
    --------
    >>> earthquake_index(np.array([4.0, 7.0, 10.0])).tolist()
    [0.0, 0.5, 1.0]
    """
    p = params or EarthquakeModel()
    span = p.intensity_full - p.intensity_zero
    index = np.clip((intensity - p.intensity_zero) / span, 0.0, 1.0)
    if fault_km is not None:
        near = p.fault_weight * np.exp(-fault_km / p.fault_distance_scale_km)
        index = np.fmax(index, near)
    return np.asarray(index, dtype=float)
