"""Displaced population and the supplies it needs over the first 24 hours.

Planners size shelters and depots against the people a disaster drives
from their homes. :func:`displaced_population` applies a displacement rate
per risk class to each cell's residents; :func:`supply_needs` turns people
into water, food and shelter space with a minimum-needs table.

The default table follows the Sphere Handbook (2018) minimum standards:
15 litres of water per person per day (water supply standard 2.1),
2,100 kcal of food per person per day (food security standard 6.1) and
3.5 m² of covered living space per person (shelter standard 3). The
default displacement rates are planning assumptions, not observations:
set your own in ``[needs]`` of the configuration.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["SPHERE_MINIMUM", "displaced_population", "supply_needs"]

#: Minimum needs per person per day (Sphere Handbook 2018).
SPHERE_MINIMUM: dict[str, float] = {
    "water_l": 15.0,
    "food_kcal": 2100.0,
    "shelter_m2": 3.5,
}


def displaced_population(
    population: pd.Series,
    risk_class: pd.Series,
    rates: Mapping[int, float],
) -> pd.Series:
    """People displaced per cell: residents times the rate of their class.

    Parameters
    ----------
    population : Series
        Residents per cell.
    risk_class : Series
        Risk class per cell (1-5); missing classes displace nobody.
    rates : mapping of int to float
        Share of residents displaced, per class (0-1).

    Returns
    -------
    Series
        Displaced people per cell, indexed like ``population``.

    Examples
    --------
    >>> pop = pd.Series([1000.0, 1000.0, 500.0])
    >>> cls = pd.Series([5, 1, None], dtype="Int64")
    >>> displaced_population(pop, cls, {5: 0.1, 1: 0.0}).tolist()
    [100.0, 0.0, 0.0]
    """
    bad = {k: v for k, v in rates.items() if not 0.0 <= v <= 1.0}
    if bad:
        raise ValueError(f"displacement rates must lie in 0-1, got {bad}")
    rate = risk_class.map(lambda c: rates.get(int(c), 0.0) if pd.notna(c) else 0.0)
    return population.fillna(0.0) * rate.astype(float)


def supply_needs(
    displaced: pd.Series,
    by: pd.Series,
    *,
    hours: float = 24.0,
    minimum: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Water, food and shelter space needed per unit over ``hours``.

    Parameters
    ----------
    displaced : Series
        Displaced people per cell.
    by : Series
        Unit code of each cell (county or township).
    hours : float
        Period the supplies must cover (water and food scale with it,
        shelter space does not).
    minimum : mapping, optional
        Needs per person per day; default :data:`SPHERE_MINIMUM`.

    Returns
    -------
    DataFrame
        Per unit: ``displaced``, ``water_l``, ``food_kcal``, ``shelter_m2``.

    Examples
    --------
    >>> d = pd.Series([100.0, 50.0]); units = pd.Series(["A", "A"])
    >>> supply_needs(d, units).loc["A"].to_dict()
    {'displaced': 150.0, 'water_l': 2250.0, 'food_kcal': 315000.0, 'shelter_m2': 525.0}
    """
    need = dict(SPHERE_MINIMUM if minimum is None else minimum)
    days = hours / 24.0
    people = displaced.groupby(by).sum()
    table = pd.DataFrame({"displaced": people})
    table["water_l"] = people * need["water_l"] * days
    table["food_kcal"] = people * need["food_kcal"] * days
    table["shelter_m2"] = people * need["shelter_m2"]
    return table.astype(np.float64)
