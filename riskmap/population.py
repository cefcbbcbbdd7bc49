"""Population on the grid: dasymetric spreading of a census table.

Where no population raster is supplied, each unit's census count is spread
over its cells in proportion to a weight that reflects where people live:

``weight = landcover_weight * slope_factor * (1 + settlement_weight *
exp(-d_settlement / scale))``

where ``landcover_weight`` comes from :data:`IGBP_DENSITY` (built-up land
highest, water zero), ``slope_factor`` damps cells steeper than
``steep_slope_deg`` and ``d_settlement`` is the distance to the nearest
county seat or township point. Weights are normalised within each unit,
so every unit's cells add up exactly to its census count.
"""

from __future__ import annotations

import logging

import numpy as np
import numpy.typing as npt

from riskmap.config import PopulationModel

__all__ = ["IGBP_DENSITY", "dasymetric_weights", "spread_by_unit"]

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]

#: Relative population density of IGBP land-cover classes.
IGBP_DENSITY: dict[int, float] = {
    0: 0.0,
    1: 0.3,
    2: 0.3,
    3: 0.3,
    4: 0.3,
    5: 0.3,
    6: 0.5,
    7: 0.5,
    8: 0.5,
    9: 0.8,
    10: 1.0,
    11: 0.2,
    12: 3.0,
    13: 10.0,
    14: 2.0,
    15: 0.0,
    16: 0.1,
    17: 0.0,
}


def dasymetric_weights(
    landcover: FloatArray | None,
    slope: FloatArray,
    settlement_km: FloatArray,
    params: PopulationModel | None = None,
) -> FloatArray:
    """Relative weight of each cell for spreading population.

    Unknown land cover counts as 1 (average); the result is never negative.

    Examples
    --------
    >>> lc = np.array([13.0, 2.0, 17.0])
    >>> w = dasymetric_weights(lc, np.zeros(3), np.full(3, np.inf))
    >>> w.tolist()
    [10.0, 0.3, 0.0]
    """
    p = params or PopulationModel()
    if landcover is None:
        base = np.ones_like(slope, dtype=float)
    else:
        classes = np.where(np.isnan(landcover), -1, landcover).astype(int)
        base = np.vectorize(lambda c: IGBP_DENSITY.get(int(c), 1.0), otypes=[float])(
            classes
        )
    steep = np.where(
        np.nan_to_num(slope) > p.steep_slope_deg, p.steep_slope_factor, 1.0
    )
    near = 1.0 + p.settlement_weight * np.exp(
        -settlement_km / p.settlement_distance_scale_km
    )
    return np.asarray(base * steep * near, dtype=float)


def spread_by_unit(
    unit_index: npt.NDArray[np.integer],
    totals: npt.ArrayLike,
    weights: FloatArray,
) -> FloatArray:
    """Split each unit's total over its cells in proportion to ``weights``.

    Parameters
    ----------
    unit_index : array of int
        Per cell, the position of its unit in ``totals``.
    totals : array
        Count per unit (NaN or missing counts give NaN cells).
    weights : array of float
        Non-negative weight per cell. A unit whose weights are all zero is
        spread evenly (and a warning is logged).

    Returns
    -------
    ndarray
        Population per cell; sums per unit equal ``totals``.

    Examples
    --------
    >>> spread_by_unit(np.array([0, 0, 1]), [90, 5], np.array([1.0, 2.0, 0.0])).tolist()
    [30.0, 60.0, 5.0]
    """
    unit_index = np.asarray(unit_index)
    tot = np.asarray(totals, dtype=float)
    w = np.clip(np.nan_to_num(np.asarray(weights, dtype=float)), 0.0, None)
    sums = np.bincount(unit_index, weights=w, minlength=len(tot))
    counts = np.bincount(unit_index, minlength=len(tot))
    flat = sums <= 0
    if flat.any():
        log.warning(
            "%d unit(s) have no weighted cells; their population is spread evenly",
            int((flat & (counts > 0)).sum()),
        )
    share = np.where(
        flat[unit_index],
        1.0 / np.maximum(counts[unit_index], 1),
        w / np.where(sums[unit_index] > 0, sums[unit_index], 1.0),
    )
    return np.asarray(share * tot[unit_index], dtype=float)
