"""Risk scoring: normalisation, weights, aggregation, classes and units.

The engine behind a risk zoning in the manner of the natural-hazard risk
census: indicators are scaled to 0–1 (:func:`normalize`), weighted
(directly, or by AHP with :func:`ahp_weights`), combined
(:func:`aggregate`, :func:`inform_risk`, :func:`risk_index`), cut into
levels (:func:`classify`) and summarised per county or township
(:func:`aggregate_to_units`). All functions are pure: tables in, tables
out, no files read or written.

Conventions
-----------
* Every score lies in [0, 1]; a higher score means a higher risk.
* NaN means "unknown" and stays NaN: it is never silently read as 0.
* Classes are integers 1..k with k the highest level, held in pandas'
  nullable ``Int64`` so that a missing score gives a missing class.
* Relative normalisations (``minmax`` without bounds, ``rank``,
  ``zscore`` without fixed mean and std) depend on the set of rows scored
  together; pass fixed bounds, or ``breakpoints``, when a unit must score
  the same whether it is computed alone or with its neighbours.

The ``[scoring]`` table
-----------------------
A whole method is described by :class:`ScoringMethod`, read from the
``[scoring]`` table of a run's TOML configuration and recorded with every
result (:func:`score` returns it as ``ScoreResult.method``)::

    [scoring]
    aggregation = "arithmetic"   # "arithmetic", "geometric" or "inform"
    epsilon = 0.0                # geometric: floor for zero indicators

    # One entry per indicator column: its normalisation (minmax, rank,
    # zscore, breakpoints), its parameters, invert = true when more is
    # better, and a role (hazard, exposure, vulnerability, capacity),
    # needed by the INFORM aggregation.
    [scoring.indicators]
    h_flood = { method = "minmax", lower = 0, upper = 1 }
    rain_mm = { method = "breakpoints", breaks = [0, 50, 100, 250] }
    elderly_share = { method = "rank" }
    shelter_m2_pp = { method = "minmax", lower = 0, upper = 2, invert = true }

    # Either direct weights (scaled to sum to 1) ...
    [scoring.weights]
    h_flood = 3
    rain_mm = 2
    elderly_share = 1
    shelter_m2_pp = 1

    # ... or an AHP matrix instead (rows and columns in the order of
    # `indicators`; fractions as strings); neither gives equal weights.
    # [scoring.ahp]
    # indicators = ["h_flood", "rain_mm", "elderly_share", "shelter_m2_pp"]
    # matrix = [[1, 2, 3, 3], ["1/2", 1, 2, 2],
    #           ["1/3", "1/2", 1, 1], ["1/3", "1/2", 1, 1]]

    [scoring.classes]
    method = "natural_breaks"    # quantile, equal_interval, thresholds
    k = 5
    # thresholds = [0.2, 0.4, 0.6, 0.8]   # with method = "thresholds"

Examples
--------
>>> import tomllib
>>> text = '''
... [scoring]
... aggregation = "geometric"
... [scoring.indicators]
... h_flood = { method = "minmax", lower = 0, upper = 1 }
... shelter_m2_pp = { method = "minmax", lower = 0, upper = 2, invert = true }
... [scoring.ahp]
... indicators = ["h_flood", "shelter_m2_pp"]
... matrix = [[1, 3], ["1/3", 1]]
... [scoring.classes]
... method = "thresholds"
... k = 3
... thresholds = [0.3, 0.6]
... '''
>>> method = ScoringMethod.from_dict(tomllib.loads(text)["scoring"])
>>> table = pd.DataFrame({"h_flood": [0.9, 0.1], "shelter_m2_pp": [0.5, 2.0]})
>>> result = score(table, method)
>>> result.table.round(3)
   risk_score  risk_class
0        0.86           3
1        0.00           1
>>> result.method["weights_used"]
{'h_flood': 0.75, 'shelter_m2_pp': 0.25}
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from riskmap import _scoring_classes as _classes
from riskmap import _scoring_norm as _norm
from riskmap import _scoring_validation as _validation
from riskmap._scoring_ahp import AHPResult
from riskmap._scoring_ahp import ahp as _ahp
from riskmap._scoring_checks import (
    align,
    as_float_series,
    check_unique_index,
    check_unit_interval,
    normalise_weights,
    weight_vector,
)
from riskmap._scoring_method import ROLES, ClassMethod, NormMethod, ScoringMethod
from riskmap._scoring_sensitivity import monte_carlo, sobol_indices
from riskmap.errors import ConfigError, FieldError

__all__ = [
    "AHPResult",
    "Classification",
    "ScoreResult",
    "ScoringMethod",
    "SensitivityResult",
    "aggregate",
    "aggregate_to_units",
    "ahp_weights",
    "classify",
    "combine_hazards",
    "direct_weights",
    "inform_risk",
    "normalize",
    "risk_index",
    "score",
    "sensitivity",
    "validate_against_events",
]

logger = logging.getLogger(__name__)

UnitRule = Literal[
    "mean", "area_weighted_mean", "pop_weighted_mean", "area_share_above", "max_class"
]
NORM_METHODS: tuple[str, ...] = get_args(NormMethod)
CLASS_METHODS: tuple[str, ...] = get_args(ClassMethod)
UNIT_RULES: tuple[str, ...] = get_args(UnitRule)

# --------------------------------------------------------------------------
# normalisation


def normalize(
    values: pd.Series | Sequence[float] | np.ndarray,
    method: NormMethod = "minmax",
    *,
    invert: bool = False,
    **params: Any,
) -> pd.Series:
    """Scale an indicator to [0, 1], higher meaning more risk.

    Parameters
    ----------
    values : Series or array-like of float
        Raw indicator values; NaN marks unknown values and stays NaN.
    method : {"minmax", "rank", "zscore", "breakpoints"}
        * ``minmax``: ``(x - lower) / (upper - lower)``, clipped to [0, 1].
          ``lower`` and ``upper`` default to the data's min and max; pass
          them as parameters to make the score independent of the other
          rows.
        * ``rank``: percentile rank, ties sharing their average rank,
          scaled so the smallest value gets 0 and the largest 1:
          ``(rank - 1) / (n - 1)``.
        * ``zscore``: ``z = (x - mean) / std`` (population std, ``ddof=0``)
          mapped to [0, 1] by the standard normal CDF, so ``z = 0`` gives
          0.5 and ``z = ±1.96`` gives 0.025 / 0.975. ``mean`` and ``std``
          may be fixed as parameters.
        * ``breakpoints``: fixed breakpoints ``breaks`` (increasing) with
          the ``scores`` they map to (default evenly spaced from 0 to 1).
          ``mode="linear"`` (default) interpolates between breakpoints;
          ``mode="step"`` gives every value the score of the last
          breakpoint at or below it. Values beyond the ends take the end
          scores.
    invert : bool, default False
        Use ``1 - score``, for indicators where more is better (coping
        capacity, shelter places per person). For ``zscore`` this equals
        normalising ``-x``.
    **params
        ``lower``, ``upper`` (minmax); ``mean``, ``std`` (zscore);
        ``breaks``, ``scores``, ``mode`` (breakpoints).

    Returns
    -------
    Series of float
        Scores in [0, 1], with the input's index and name.

    Raises
    ------
    ConfigError
        For an unknown method or parameter, or inconsistent breakpoints.
    FieldError
        If the values are not numeric or hold infinities.

    Notes
    -----
    A constant indicator (all known values equal, or a single known value)
    separates nothing, so the relative methods give every row 0.5 (the
    midpoint, which is also what ``rank`` and ``zscore`` yield by their own
    formulas). ``breakpoints`` and ``minmax`` with both bounds fixed are
    absolute and do not need this rule.

    Examples
    --------
    >>> normalize([2.0, 4.0, 6.0]).tolist()
    [0.0, 0.5, 1.0]
    >>> normalize([1.0, 5.0, 5.0, 9.0], "rank").tolist()
    [0.0, 0.5, 0.5, 1.0]
    >>> normalize([1.0, None, 3.0], "minmax", invert=True).tolist()
    [1.0, nan, 0.0]
    >>> rain = [60.0, 300.0]
    >>> normalize(rain, "breakpoints", breaks=[0, 50, 100, 250]).round(3).tolist()
    [0.4, 1.0]
    >>> normalize([7.0, 7.0]).tolist()
    [0.5, 0.5]
    """
    series = as_float_series(values, "values")
    x = series.to_numpy(dtype=float)
    known = ~np.isnan(x)
    out = np.full(x.shape, np.nan)
    if method not in NORM_METHODS:
        raise ConfigError(
            f"normalisation method {method!r} is unknown. Fix: use one of "
            f"{list(NORM_METHODS)}"
        )
    allowed = _norm.PARAMS[method]
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ConfigError(
            f"normalisation {method!r} takes no parameter(s) {unknown}. Fix: "
            f"use only {list(allowed) or 'no parameters'}"
        )
    # Breakpoints are checked even when no value is known.
    if known.any() or method == "breakpoints":
        scorer = {
            "minmax": _norm.minmax,
            "rank": _norm.rank,
            "zscore": _norm.zscore,
            "breakpoints": _norm.breakpoints,
        }[method]
        out[known] = scorer(x[known], **params)
    if invert:
        out = 1.0 - out
    return pd.Series(out, index=series.index, name=series.name)


# --------------------------------------------------------------------------
# weights and aggregation


def direct_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """Check weights given directly and scale them to sum to 1.

    Parameters
    ----------
    weights : mapping of str to float
        Indicator name to weight; non-negative, not all zero.

    Returns
    -------
    dict of str to float
        The same keys, weights summing to 1.

    Raises
    ------
    ConfigError
        If a weight is negative, not finite, or all are zero.

    Examples
    --------
    >>> direct_weights({"h_flood": 3, "h_fire": 1})
    {'h_flood': 0.75, 'h_fire': 0.25}
    """
    return normalise_weights(weights, list(weights), "weights")


def aggregate(
    scores: pd.DataFrame,
    weights: Mapping[str, float],
    method: Literal["arithmetic", "geometric"] = "arithmetic",
    *,
    epsilon: float = 0.0,
) -> pd.Series:
    """Combine normalised indicators into one score per row.

    Parameters
    ----------
    scores : DataFrame
        One column per indicator, values in [0, 1].
    weights : mapping of str to float
        One weight per column of ``scores`` (scaled to sum to 1 here).
    method : {"arithmetic", "geometric"}
        ``arithmetic``: ``sum(w_i * x_i)``, indicators compensate each
        other. ``geometric``: ``prod(x_i ** w_i)``, a low indicator is
        hardly compensated.
    epsilon : float, default 0
        Geometric only: indicators are raised to ``max(x, epsilon)`` first.
        With the default 0 a zero indicator (with a positive weight) gives
        a zero score: no hazard, no risk. A small epsilon such as 0.01
        lets the other indicators still rank such rows.

    Returns
    -------
    Series of float
        The combined score in [0, 1]; NaN where any weighted indicator is
        NaN.

    Examples
    --------
    >>> t = pd.DataFrame({"a": [0.2, 1.0], "b": [0.8, 0.0]})
    >>> aggregate(t, {"a": 1, "b": 1}).tolist()
    [0.5, 0.5]
    >>> aggregate(t, {"a": 1, "b": 1}, "geometric").round(3).tolist()
    [0.4, 0.0]
    """
    check_unit_interval(scores, "indicator scores")
    names = list(scores.columns)
    w = normalise_weights(weights, names, "weights")
    if method not in ("arithmetic", "geometric"):
        raise ConfigError(
            f"aggregation {method!r} is unknown. Fix: use 'arithmetic' or "
            "'geometric' (or inform_risk for the INFORM form)"
        )
    if not 0.0 <= epsilon < 1.0:
        raise ConfigError(f"epsilon must lie in [0, 1), got {epsilon:g}")
    x = scores[names].to_numpy(dtype=float)
    out = _weighted(x, weight_vector(w, names), method, epsilon)
    return pd.Series(out, index=scores.index, name="score")


def _weighted(x: np.ndarray, w: np.ndarray, method: str, epsilon: float) -> np.ndarray:
    """Weighted arithmetic or geometric mean of the rows of ``x``.

    Only columns with a positive weight count (so an unknown indicator of
    weight 0 does not make the result unknown).
    """
    used = w > 0
    if method == "arithmetic":
        out = x[:, used] @ w[used]
    else:
        out = np.prod(np.power(np.maximum(x[:, used], epsilon), w[used]), axis=1)
    return np.clip(out, 0.0, 1.0)


def inform_risk(
    hazard: pd.Series,
    exposure: pd.Series,
    vulnerability: pd.Series,
    capacity: pd.Series,
) -> pd.Series:
    """INFORM-style risk from its dimensions, each in [0, 1].

    ``risk = HE ** (1/3) * V ** (1/3) * LCC ** (1/3)`` with
    ``HE = sqrt(hazard * exposure)`` (the geometric mean of hazard and
    exposure) and ``LCC = 1 - capacity`` (lack of coping capacity).

    Parameters
    ----------
    hazard, exposure, vulnerability, capacity : Series
        Dimension scores in [0, 1] on the same index; ``capacity`` is the
        coping capacity (more is better), not its lack.

    Returns
    -------
    Series of float
        Risk in [0, 1], named ``risk_score``; NaN where any input is NaN.

    Examples
    --------
    >>> s = lambda v: pd.Series([v])
    >>> float(inform_risk(s(1.0), s(0.25), s(0.5), s(0.5)).round(6).iloc[0])
    0.5
    """
    index = hazard.index
    check_unique_index(index, "hazard")
    parts = pd.DataFrame(
        {
            "hazard": hazard,
            "exposure": align(exposure, index, "exposure"),
            "vulnerability": align(vulnerability, index, "vulnerability"),
            "capacity": align(capacity, index, "capacity"),
        },
        index=index,
    )
    check_unit_interval(parts, "INFORM dimensions")
    risk = _inform(*(parts[c].to_numpy(dtype=float) for c in parts.columns))
    return pd.Series(risk, index=index, name="risk_score")


def _inform(
    hazard: np.ndarray,
    exposure: np.ndarray,
    vulnerability: np.ndarray,
    capacity: np.ndarray,
) -> np.ndarray:
    """The INFORM formula on arrays (see inform_risk)."""
    he = np.sqrt(hazard * exposure)
    return np.clip(np.cbrt(he * vulnerability * (1.0 - capacity)), 0.0, 1.0)


def combine_hazards(
    hazards: pd.DataFrame,
    hazard_weights: Mapping[str, float] | None = None,
    combination: Literal["weighted_arithmetic", "max"] = "weighted_arithmetic",
) -> pd.Series:
    """One hazard index per row from several hazards in [0, 1].

    Parameters
    ----------
    hazards : DataFrame
        One column per hazard (e.g. ``h_flood``), values in [0, 1].
    hazard_weights : mapping of str to float, optional
        One weight per column, scaled to sum to 1; equal when None.
    combination : {"weighted_arithmetic", "max"}
        ``weighted_arithmetic``: ``sum(w_k * h_k)``; ``max``: the highest
        hazard among those with a positive weight (multi-hazard "worst
        case"). Both never decrease when one hazard rises.

    Returns
    -------
    Series of float
        ``hazard`` in [0, 1]; NaN where a weighted hazard is NaN.
        ``attrs["hazard_weights"]`` holds the weights used.

    Raises
    ------
    ConfigError
        For bad weights or an unknown combination.
    FieldError
        If a hazard lies outside [0, 1].

    Examples
    --------
    >>> hz = pd.DataFrame({"h_flood": [0.8, 0.2], "h_fire": [0.2, 0.4]})
    >>> combine_hazards(hz, {"h_flood": 3, "h_fire": 1}).round(2).tolist()
    [0.65, 0.25]
    >>> combine_hazards(hz, combination="max").tolist()
    [0.8, 0.4]
    """
    check_unique_index(hazards.index, "hazards")
    if hazards.shape[1] == 0:
        raise ConfigError("hazards has no columns. Fix: pass at least one h_* column")
    check_unit_interval(hazards, "hazard")
    names = list(hazards.columns)
    w = normalise_weights(
        hazard_weights if hazard_weights is not None else dict.fromkeys(names, 1.0),
        names,
        "hazard_weights",
    )
    if combination == "weighted_arithmetic":
        combined = aggregate(hazards, w, "arithmetic")
    elif combination == "max":
        positive = [n for n in names if w[n] > 0]
        combined = hazards[positive].max(axis=1, skipna=False).astype(float)
    else:
        raise ConfigError(
            f"hazard_combination {combination!r} is unknown. Fix: use "
            "'weighted_arithmetic' or 'max'"
        )
    combined = combined.rename("hazard")
    combined.attrs["hazard_weights"] = w
    return combined


def risk_index(
    hazards: pd.DataFrame,
    exposure: pd.Series,
    vulnerability: pd.Series | None = None,
    *,
    hazard_weights: Mapping[str, float] | None = None,
    method: Literal["geometric", "product", "arithmetic", "inform"] = "geometric",
    hazard_combination: Literal["weighted_arithmetic", "max"] = "weighted_arithmetic",
    capacity: pd.Series | None = None,
) -> pd.Series:
    """Risk from hazard, exposure and vulnerability, per row (cell or unit).

    First the hazard columns are combined into one hazard ``H`` by
    :func:`combine_hazards`: by default their weighted mean
    ``sum(w_k * h_k)``, or with ``hazard_combination="max"`` the highest
    hazard. Then ``H``, exposure
    ``E``, vulnerability ``V`` (optional) and lack of coping capacity
    ``LCC = 1 - capacity`` (optional) are combined by ``method``:

    * ``geometric`` (default): the geometric mean of the factors present,
      e.g. ``(H * E * V) ** (1/3)``. It ranks rows exactly like the plain
      product but keeps scores spread over [0, 1].
    * ``product``: ``H * E * V * LCC``.
    * ``arithmetic``: the mean of the factors present.
    * ``inform``: :func:`inform_risk`, needs ``vulnerability`` and
      ``capacity``.

    All forms are non-decreasing in every hazard: raising one hazard never
    lowers the risk. Each row is scored on its own, so the row order and
    the other rows do not matter.

    Parameters
    ----------
    hazards : DataFrame
        One column per hazard (e.g. ``h_flood``), values in [0, 1].
    exposure : Series
        Exposure in [0, 1], indexed like ``hazards``.
    vulnerability : Series, optional
        Vulnerability in [0, 1]; left out of the product when None.
    hazard_weights : mapping of str to float, optional
        One weight per hazard column; equal weights when None.
    method : {"geometric", "product", "arithmetic", "inform"}
        How the factors are combined (see above).
    hazard_combination : {"weighted_arithmetic", "max"}
        How the hazards are combined into ``H``.
    capacity : Series, optional
        Coping capacity in [0, 1] (more is better).

    Returns
    -------
    Series of float
        ``risk_score`` in [0, 1], indexed like ``hazards``; NaN where an
        input needed is NaN. ``attrs["method"]`` records the form used.

    Raises
    ------
    ConfigError
        For an unknown method, bad weights, or ``inform`` without
        vulnerability and capacity.
    FieldError
        If a value lies outside [0, 1] or a Series lacks a row label.

    Examples
    --------
    >>> hz = pd.DataFrame({"h_flood": [0.8, 0.2], "h_fire": [0.2, 0.2]})
    >>> e = pd.Series([1.0, 0.8])
    >>> risk_index(hz, e, method="product").round(3).tolist()
    [0.5, 0.16]
    >>> risk_index(hz, e).round(3).tolist()
    [0.707, 0.4]
    """
    combined = combine_hazards(hazards, hazard_weights, hazard_combination)
    w = combined.attrs["hazard_weights"]

    # Collect the other factors on the hazards' index.
    factors = {
        "hazard": combined,
        "exposure": align(exposure, hazards.index, "exposure"),
    }
    if vulnerability is not None:
        factors["vulnerability"] = align(vulnerability, hazards.index, "vulnerability")
    if capacity is not None:
        factors["capacity"] = align(capacity, hazards.index, "capacity")
    table = pd.DataFrame(factors, index=hazards.index).astype(float)
    check_unit_interval(table, "risk factor")

    # Combine the factors.
    if method == "inform":
        if vulnerability is None or capacity is None:
            raise ConfigError(
                "method 'inform' needs both vulnerability and capacity. Fix: "
                "pass them, or use method='geometric'"
            )
        risk = inform_risk(
            table["hazard"],
            table["exposure"],
            table["vulnerability"],
            table["capacity"],
        )
    else:
        if capacity is not None:
            table["capacity"] = 1.0 - table["capacity"]
        x = table.to_numpy(dtype=float)
        if method == "geometric":
            values = np.prod(x, axis=1) ** (1.0 / x.shape[1])
        elif method == "product":
            values = np.prod(x, axis=1)
        elif method == "arithmetic":
            values = np.mean(x, axis=1)
        else:
            raise ConfigError(
                f"risk method {method!r} is unknown. Fix: use 'geometric', "
                "'product', 'arithmetic' or 'inform'"
            )
        risk = pd.Series(values, index=hazards.index)
    risk = risk.clip(0.0, 1.0).rename("risk_score")
    risk.attrs["method"] = {
        "method": method,
        "hazard_combination": hazard_combination,
        "hazard_weights": w,
        "factors": list(table.columns),
    }
    return risk


# --------------------------------------------------------------------------
# classification


@dataclass(frozen=True)
class Classification:
    """Risk levels of a set of scores.

    Attributes
    ----------
    classes : Series of Int64
        Level 1..k per row, k the highest; missing where the score is NaN.
    bins : tuple of float
        Inclusive upper bound of each level, lowest first; the last bound
        is the data's maximum (or +inf for fixed thresholds).
    method : str
        The classification method used.
    k : int
        The number of levels actually formed.
    """

    classes: pd.Series
    bins: tuple[float, ...]
    method: str
    k: int


def classify(
    values: pd.Series | Sequence[float] | np.ndarray,
    method: ClassMethod = "natural_breaks",
    k: int = 5,
    thresholds: Sequence[float] | None = None,
) -> Classification:
    """Cut scores into k levels, 1 lowest and k highest.

    Parameters
    ----------
    values : Series or array-like of float
        The scores; NaN gives a missing class.
    method : {"natural_breaks", "quantile", "equal_interval", "thresholds"}
        ``natural_breaks``: Fisher–Jenks optimal breaks (least
        within-level variance; the same breaks as
        ``mapclassify.FisherJenks``, computed in numpy); ``quantile``:
        equal counts per level; ``equal_interval``: equal widths between
        min and max; ``thresholds``: the fixed ``thresholds`` (levels are
        then the same whatever the other rows are). The last three via
        mapclassify.
    k : int, default 5
        Number of levels. For ``thresholds`` it must equal
        ``len(thresholds) + 1``.
    thresholds : sequence of float, optional
        Increasing upper bounds (inclusive) of levels 1..k-1, for
        ``method="thresholds"``.

    Returns
    -------
    Classification
        Levels (``Int64``), upper bounds, method and the number of levels.

    Raises
    ------
    ConfigError
        For an unknown method, k < 2, or thresholds that do not fit k.

    Notes
    -----
    A value equal to a bound falls in the lower level. When the data have
    fewer distinct values than ``k`` (or ties make quantiles collapse), the
    data-driven methods form fewer levels, numbered from 1; a warning is
    logged and ``k`` of the result says how many were formed.

    Fisher–Jenks costs time quadratic in the number of values, so above
    1,000 values the breaks are fitted on 1,000 evenly spaced order
    statistics (minimum and maximum included) and applied to all values;
    the result is deterministic and, on grids of any size, takes well
    under a second.

    Examples
    --------
    >>> c = classify([0.1, 0.5, 0.2, None, 0.9], "thresholds", k=3,
    ...              thresholds=[0.3, 0.6])
    >>> c.classes.tolist()
    [1, 2, 1, <NA>, 3]
    >>> c.bins
    (0.3, 0.6, inf)
    >>> classify([0, 1, 2, 3, 4, 5.0], "equal_interval", k=5).classes.tolist()
    [1, 1, 2, 3, 4, 5]
    """
    series = as_float_series(values, "values")
    x = series.to_numpy(dtype=float)
    known = ~np.isnan(x)
    if method not in CLASS_METHODS:
        raise ConfigError(
            f"classification method {method!r} is unknown. Fix: use one of "
            f"{list(CLASS_METHODS)}"
        )
    if k < 2:
        raise ConfigError(f"k must be at least 2, got {k}")
    if method != "thresholds" and thresholds is not None:
        raise ConfigError(
            f"thresholds are only used by method 'thresholds', not {method!r}. "
            "Fix: drop them or set method='thresholds'"
        )
    classes, upper, formed = _classes.levels(x, method, k, thresholds)
    out = pd.Series(classes, index=series.index, name=series.name, dtype="Int64")
    out[~known] = pd.NA
    return Classification(classes=out, bins=upper, method=method, k=formed)


# --------------------------------------------------------------------------
# units


def aggregate_to_units(
    cell_values: pd.Series,
    cell_unit: pd.Series,
    weights: pd.Series | None = None,
    rule: UnitRule = "mean",
    *,
    class_threshold: float | None = None,
) -> pd.Series:
    """Summarise cell values (scores or classes) per unit.

    Parameters
    ----------
    cell_values : Series
        One value per cell: a score, a hazard, or a class.
    cell_unit : Series
        The unit (county adcode, township id) of each cell, same index.
        A cell cut by a unit border should be split beforehand, each part
        with its own weight.
    weights : Series, optional
        Non-negative weight per cell: its area in the unit, or its
        population. None weighs cells equally.
    rule : {"mean", "area_weighted_mean", "pop_weighted_mean", \
"area_share_above", "max_class"}
        * ``mean``: weighted mean of the values.
        * ``area_weighted_mean`` / ``pop_weighted_mean``: the same, with
          ``weights`` required and meaning area / population; the name
          records which.
        * ``area_share_above``: share of the unit's weight (area) in cells
          whose value is at or above ``class_threshold``, e.g. 4 for the
          share in levels 4 and 5.
        * ``max_class``: the highest value present ("highest class present
          wins"); weights are not used.
    class_threshold : float, optional
        Needed by ``area_share_above``.

    Returns
    -------
    Series
        One value per unit, sorted by unit, named
        ``<values name>_<rule>`` (``..._share_ge_<threshold>`` for the share
        rule); ``attrs`` holds the rule and threshold. Cells with a NaN
        value are left out; a unit without known values (or with zero
        total weight) gets NaN.

    Raises
    ------
    ConfigError
        For an unknown rule, or a missing weight or threshold.
    FieldError
        For negative or missing weights, or misaligned inputs.

    Notes
    -----
    Each unit is computed from its own cells only, so a unit gets the same
    result whether it is computed alone or with others.

    Examples
    --------
    >>> v = pd.Series([0.2, 0.8, 0.5], name="risk_score")
    >>> u = pd.Series(["A", "A", "B"])
    >>> area = pd.Series([3.0, 1.0, 2.0])
    >>> aggregate_to_units(v, u, area, "area_weighted_mean").round(2).to_dict()
    {'A': 0.35, 'B': 0.5}
    >>> c = pd.Series([2, 5, 3], name="risk_class")
    >>> aggregate_to_units(c, u, area, "area_share_above", class_threshold=4).to_dict()
    {'A': 0.25, 'B': 0.0}
    >>> aggregate_to_units(c, u, rule="max_class").to_dict()
    {'A': 5, 'B': 3}
    """
    if rule not in UNIT_RULES:
        raise ConfigError(
            f"unit rule {rule!r} is unknown. Fix: use one of {list(UNIT_RULES)}"
        )
    check_unique_index(cell_values.index, "cell_values")
    unit = align(cell_unit, cell_values.index, "cell_unit")
    if unit.isna().any():
        raise FieldError(
            f"cell_unit is missing for {int(unit.isna().sum())} cells",
            fix="drop cells outside every unit before aggregating",
        )
    w = _unit_weights(weights, cell_values.index, rule)
    name = str(cell_values.name) if cell_values.name is not None else "value"

    if rule == "max_class":
        result = cell_values.groupby(unit, sort=True).max()
        col = f"{name}_max_class"
    else:
        x = as_float_series(cell_values, "cell_values")
        known = x.notna() & (w > 0)
        if rule == "area_share_above":
            if class_threshold is None:
                raise ConfigError(
                    "rule 'area_share_above' needs class_threshold. Fix: pass "
                    "e.g. class_threshold=4 for the share in levels 4 and 5"
                )
            num = (w * (x >= class_threshold)).where(known, 0.0)
            col = f"{name}_share_ge_{class_threshold:g}"
        else:
            num = (w * x).where(known, 0.0)
            col = f"{name}_{rule}"
        den = w.where(known, 0.0)
        num_sum = num.groupby(unit, sort=True).sum()
        den_sum = den.groupby(unit, sort=True).sum()
        result = (num_sum / den_sum.where(den_sum > 0)).astype(float)
    result = result.rename(col)
    result.index.name = cell_unit.name
    result.attrs["rule"] = rule
    result.attrs["class_threshold"] = class_threshold
    return result


def _unit_weights(weights: pd.Series | None, index: pd.Index, rule: str) -> pd.Series:
    if weights is None:
        if rule in ("area_weighted_mean", "pop_weighted_mean"):
            raise ConfigError(
                f"rule {rule!r} needs weights. Fix: pass the cell "
                f"{'population' if rule.startswith('pop') else 'area'} as weights"
            )
        return pd.Series(1.0, index=index)
    w = align(as_float_series(weights, "weights"), index, "weights")
    if w.isna().any() or (w < 0).any():
        raise FieldError(
            "weights must be known and non-negative; found "
            f"{int(w.isna().sum())} missing and {int((w < 0).sum())} negative",
            fix="fill missing population or area with 0 or drop those cells",
        )
    return w


# --------------------------------------------------------------------------
# AHP


def ahp_weights(
    matrix: Sequence[Sequence[float | str]] | np.ndarray,
    names: Sequence[str],
    *,
    label: str = "pairwise comparison matrix",
) -> AHPResult:
    """Weights from an AHP pairwise comparison matrix (Saaty's method).

    Parameters
    ----------
    matrix : n x n array-like
        ``matrix[i][j]`` says how much more important indicator i is than
        j on Saaty's 1/9..9 scale; positive, 1 on the diagonal and
        reciprocal (``a_ji = 1 / a_ij``, within 1 %). Strings such as
        ``"1/3"`` are read as fractions.
    names : sequence of str
        The indicators, in the order of the rows.
    label : str
        Names the matrix in error messages (e.g. ``"scoring.ahp.matrix"``).

    Returns
    -------
    AHPResult
        Weights (the principal eigenvector, summing to 1), ``lambda_max``,
        the consistency index ``CI = (lambda_max - n) / (n - 1)`` and the
        consistency ratio ``CR = CI / RI(n)`` with Saaty's random index
        (0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49 for n = 3..10).

    Raises
    ------
    ConfigError
        If the matrix is malformed, has more than 10 rows, or its
        consistency ratio exceeds 0.1; the message names the matrix and
        the CR.

    Examples
    --------
    >>> r = ahp_weights([[1, 3], ["1/3", 1]], ["flood", "fire"])
    >>> r.weights
    {'flood': 0.75, 'fire': 0.25}
    >>> r.cr
    0.0
    """
    return _ahp(matrix, names, label=label)


# --------------------------------------------------------------------------
# a whole method


@dataclass(frozen=True)
class ScoreResult:
    """What :func:`score` returns.

    Attributes
    ----------
    table : DataFrame
        ``risk_score`` (float, 0–1) and ``risk_class`` (Int64, 1..k) per
        row of the input.
    normalized : DataFrame
        The normalised indicators, 0–1, higher meaning more risk.
    classification : Classification
        The levels with their bounds.
    method : dict
        The method as configured (:meth:`ScoringMethod.to_dict`) plus what
        was derived: ``weights_used``, ``ahp`` (lambda_max, CI, CR, or
        None), ``class_bins`` (finite upper bounds of the levels) and
        ``classes_formed``. Fit for JSON.
    """

    table: pd.DataFrame
    normalized: pd.DataFrame
    classification: Classification
    method: dict[str, Any]


def score(table: pd.DataFrame, method: ScoringMethod) -> ScoreResult:
    """Score every row of ``table`` by ``method``.

    Parameters
    ----------
    table : DataFrame
        One row per unit (cell, township, county) and one column per
        indicator named in ``method.indicators``; other columns are
        ignored.
    method : ScoringMethod
        Normalisation per indicator, weights (direct or AHP), aggregation
        and classification.

    Returns
    -------
    ScoreResult
        Scores, levels, normalised indicators and the method record.

    Raises
    ------
    FieldError
        If an indicator column is missing or not numeric.

    Notes
    -----
    ``arithmetic`` and ``geometric`` combine all indicators with their
    weights (see :func:`aggregate`). ``inform`` averages the indicators of
    each role with their weights (rescaled within the role) and combines
    the four dimensions by :func:`inform_risk`; capacity indicators are
    then given as capacity (more is better) and not inverted.

    Examples
    --------
    >>> m = ScoringMethod.from_dict({
    ...     "indicators": {"a": {"method": "rank"}, "b": {"method": "rank"}},
    ...     "weights": {"a": 1, "b": 3},
    ...     "classes": {"method": "equal_interval", "k": 2}})
    >>> t = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [30.0, 10.0, 20.0]})
    >>> r = score(t, m)
    >>> r.table["risk_score"].tolist()
    [0.75, 0.125, 0.625]
    >>> r.table["risk_class"].tolist()
    [2, 1, 2]
    """
    normalized = _normalized(table, method)
    weights, ahp_result = method.resolved_weights()
    risk = _combine(normalized, weights, method)
    spec = method.classes
    levels = classify(risk, spec.method, spec.k, spec.thresholds)
    out = pd.DataFrame({"risk_score": risk, "risk_class": levels.classes})
    record = method.to_dict()
    record["weights_used"] = weights
    record["ahp"] = (
        None
        if ahp_result is None
        else {
            "lambda_max": ahp_result.lambda_max,
            "ci": ahp_result.ci,
            "cr": ahp_result.cr,
        }
    )
    # JSON has no infinity: the open top level of fixed thresholds has no bound.
    record["class_bins"] = [b for b in levels.bins if np.isfinite(b)]
    record["classes_formed"] = levels.k
    return ScoreResult(out, normalized, levels, record)


def _normalized(
    table: pd.DataFrame, method: ScoringMethod, override: str | None = None
) -> pd.DataFrame:
    """Normalise each indicator; ``override`` swaps every relative method."""
    missing = [n for n in method.indicators if n not in table.columns]
    if missing:
        raise FieldError(
            f"the table lacks indicator columns {missing}; it has "
            f"{list(table.columns)}",
            fix="add the columns, or remove them from [scoring.indicators]",
        )
    check_unique_index(table.index, "table")
    columns = {}
    for name, spec in method.indicators.items():
        kind: str = spec.method
        params = spec.params()
        if override is not None and kind != "breakpoints" and override != kind:
            kind, params = override, {}
        columns[name] = normalize(
            table[name],
            kind,  # type: ignore[arg-type]
            invert=spec.invert,
            **params,
        )
    return pd.DataFrame(columns, index=table.index)


def _combine(
    normalized: pd.DataFrame, weights: Mapping[str, float], method: ScoringMethod
) -> pd.Series:
    """Aggregate normalised indicators by the method's rule."""
    names = list(method.indicators)
    check_unit_interval(normalized[names], "indicator scores")
    x = normalized[names].to_numpy(dtype=float)
    out = _combine_array(x, weight_vector(weights, names), method)
    return pd.Series(out, index=normalized.index, name="risk_score")


def _combine_array(x: np.ndarray, w: np.ndarray, method: ScoringMethod) -> np.ndarray:
    """``_combine`` on an array whose columns follow ``method.indicators``."""
    if method.aggregation != "inform":
        return _weighted(x, w / w.sum(), method.aggregation, method.epsilon)
    roles = np.array([spec.role for spec in method.indicators.values()])
    dims = []
    for role in ROLES:
        cols = roles == role
        dims.append(_weighted(x[:, cols], w[cols] / w[cols].sum(), "arithmetic", 0))
    return _inform(*dims)


# --------------------------------------------------------------------------
# sensitivity


@dataclass(frozen=True)
class SensitivityResult:
    """What :func:`sensitivity` returns.

    Attributes
    ----------
    units : DataFrame
        Per unit: ``base_score``, ``base_class``, ``top_class_share``
        (share of draws in the highest level), ``class_stability`` (share
        of draws in its base level), ``mean_rank`` and ``std_rank`` (rank 1
        = highest score).
    sobol : DataFrame
        Per weight: first-order ``S1`` and total ``ST`` Sobol indices with
        their 95 % confidence half-widths, for the mean rank shift.
    most_influential : str
        The weight with the largest total index.
    settings : dict
        ``n``, ``seed``, ``weight_spread``, ``normalisations``,
        ``sobol_samples``.
    """

    units: pd.DataFrame
    sobol: pd.DataFrame
    most_influential: str
    settings: dict[str, Any]


def sensitivity(
    table: pd.DataFrame,
    method: ScoringMethod,
    n: int = 500,
    seed: int = 0,
    weight_spread: float = 0.2,
    normalisations: Sequence[NormMethod] | None = None,
    *,
    sobol_samples: int = 256,
) -> SensitivityResult:
    """How stable each unit's level and rank are under other choices.

    A Monte Carlo of ``n`` draws: each draw takes weights from a Dirichlet
    distribution centred on the method's weights and one normalisation
    from ``normalisations`` (uniformly), scores and classifies the table
    again, and records each unit's level and rank. Separately, Sobol
    indices (SALib, Saltelli sampling) say how much of the variation of
    the mean rank shift each weight causes.

    Parameters
    ----------
    table : DataFrame
        As for :func:`score`.
    method : ScoringMethod
        The base method.
    n : int, default 500
        Number of Monte Carlo draws.
    seed : int, default 0
        Seed of the random generator; equal seeds give equal results.
    weight_spread : float, default 0.2
        Scatter of the weights, in [0, 1): a weight w is drawn with
        standard deviation ``weight_spread * sqrt(w * (1 - w))``. For the
        Sobol indices each weight varies uniformly in
        ``w * (1 ± weight_spread)`` before rescaling to sum 1.
    normalisations : sequence of {"minmax", "rank", "zscore"}, optional
        Normalisations to draw from; each replaces the configured one of
        every indicator not normalised by ``breakpoints`` (which are
        absolute and kept). None keeps the configured normalisations.
    sobol_samples : int, default 256
        Base sample size of the Sobol sequence, a power of two; the model
        is evaluated ``sobol_samples * (d + 2)`` times for d weights.

    Returns
    -------
    SensitivityResult

    Raises
    ------
    ConfigError
        For n < 1, a spread outside [0, 1), an unknown normalisation or a
        Sobol sample size that is not a power of two.

    Examples
    --------
    >>> m = ScoringMethod.from_dict({
    ...     "indicators": {"a": {}, "b": {}}, "weights": {"a": 2, "b": 1},
    ...     "classes": {"method": "equal_interval", "k": 3}})
    >>> t = pd.DataFrame({"a": [0, 0.5, 1.0, 0.1], "b": [0, 0.4, 1.0, 0.2]})
    >>> s = sensitivity(t, m, n=50)
    >>> s.units["top_class_share"].tolist()
    [0.0, 0.0, 1.0, 0.0]
    >>> s.most_influential in ("a", "b")
    True
    """
    if n < 1:
        raise ConfigError(f"n must be at least 1, got {n}")
    if not 0.0 <= weight_spread < 1.0:
        raise ConfigError(
            f"weight_spread must lie in [0, 1), got {weight_spread:g}. Fix: "
            "use e.g. 0.2 for a moderate scatter"
        )
    if sobol_samples < 2 or sobol_samples & (sobol_samples - 1):
        raise ConfigError(
            f"sobol_samples must be a power of two (Sobol sequences), got "
            f"{sobol_samples}. Fix: use e.g. 256 or 512"
        )
    choices = list(normalisations) if normalisations else [None]
    relative = ("minmax", "rank", "zscore")
    unknown = [c for c in choices if c is not None and c not in relative]
    if unknown:
        raise ConfigError(
            f"normalisations {unknown} are unknown or need parameters. Fix: "
            f"draw from {list(relative)}"
        )
    weights, _ = method.resolved_weights()
    names = list(method.indicators)
    base_norm = _normalized(table, method)
    tables = [
        base_norm if c is None else _normalized(table, method, c) for c in choices
    ]
    arrays = [t[names].to_numpy(dtype=float) for t in tables]
    w = weight_vector(weights, names)
    spec = method.classes

    def combine(x: np.ndarray, wv: np.ndarray) -> np.ndarray:
        return _combine_array(x, wv, method)

    def levels(scores: np.ndarray) -> np.ndarray:
        return _classes.levels(scores, spec.method, spec.k, spec.thresholds)[0]

    # Monte Carlo over weights and normalisations.
    units = monte_carlo(
        arrays, w, combine, levels, n=n, spread=weight_spread, seed=seed, top=spec.k
    )
    units.index = table.index

    # Variance-based indices of the weights, with the configured normalisation.
    sobol = sobol_indices(
        base_norm[names].to_numpy(dtype=float),
        w,
        combine,
        names=names,
        spread=weight_spread,
        samples=sobol_samples,
        seed=seed,
    )
    top = str(sobol["ST"].idxmax()) if len(sobol) else ""
    logger.info("sensitivity: %d draws; most influential weight %s", n, top)
    settings = {
        "n": n,
        "seed": seed,
        "weight_spread": weight_spread,
        "normalisations": [c for c in choices if c is not None] or None,
        "sobol_samples": sobol_samples,
    }
    return SensitivityResult(units, sobol, top, settings)


# --------------------------------------------------------------------------
# validation against observed events


def validate_against_events(
    index_values: pd.DataFrame,
    index_classes: pd.DataFrame,
    events: pd.DataFrame | Mapping[str, Sequence[Any]],
    *,
    k: int = 5,
) -> pd.DataFrame:
    """How well each hazard index separates event locations from the rest.

    Parameters
    ----------
    index_values : DataFrame
        One column per hazard index (e.g. ``h_flood``), one row per cell.
    index_classes : DataFrame
        The levels (1..k) of the same indices, same rows and columns.
    events : DataFrame of bool, or mapping of str to sequence
        Either a mask like ``index_values`` (True where a cell holds an
        event of that hazard), or per hazard column the row labels of the
        cells where events happened, one label per event (a label may
        repeat when several events hit one cell). Hazards absent from
        ``events`` are skipped.
    k : int, default 5
        The highest level; the top two levels are ``k - 1`` and ``k``.

    Returns
    -------
    DataFrame
        Per hazard: ``n_cells`` (cells with a known index), ``n_event_cells``,
        ``n_events``, ``auc`` (ROC AUC of the index for event cells
        against the others: 1 perfect, 0.5 no better than chance; from the
        Mann–Whitney U statistic, ties counted half) and ``share_top2``
        (share of events in cells of level k-1 or k). NaN where a hazard has
        no events or no cells without events.

    Raises
    ------
    FieldError
        If an event label is not a row of ``index_values`` or the tables
        do not match.

    Examples
    --------
    >>> v = pd.DataFrame({"h_flood": [0.9, 0.8, 0.2, 0.1]})
    >>> c = pd.DataFrame({"h_flood": [5, 4, 2, 1]})
    >>> validate_against_events(v, c, {"h_flood": [0, 1, 1]}).loc["h_flood"].tolist()
    [4.0, 2.0, 3.0, 1.0, 1.0]
    """
    check_unique_index(index_values.index, "index_values")
    if not index_classes.index.equals(index_values.index):
        raise FieldError(
            "index_classes must have the same rows as index_values",
            fix="classify the same table, e.g. with classify(values[col])",
        )
    rows = []
    names = [c for c in index_values.columns if c in events]
    for name in names:
        hits = _validation.event_counts(events, name, index_values.index)
        rows.append(
            _validation.separation(index_values[name], index_classes[name], hits, k)
        )
    columns = ["n_cells", "n_event_cells", "n_events", "auc", "share_top2"]
    return pd.DataFrame(rows, index=pd.Index(names, name="hazard"), columns=columns)
