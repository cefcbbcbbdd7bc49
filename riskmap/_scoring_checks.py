"""Input checks shared by the scoring functions (private)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from riskmap.errors import ConfigError, FieldError


def as_float_series(values: Any, name: str) -> pd.Series:
    """Return ``values`` as a float Series, rejecting infinities.

    A Series keeps its index and name; anything else gets a default index.
    """
    if isinstance(values, pd.Series):
        series = values
    else:
        series = pd.Series(np.asarray(values, dtype=float).ravel())
    try:
        out = series.astype("float64")
    except (TypeError, ValueError) as err:
        raise FieldError(
            f"'{name}' must be numeric, got dtype {series.dtype}",
            field=str(series.name) if series.name is not None else None,
            fix="convert the column to numbers before scoring",
        ) from err
    if np.isinf(out.to_numpy()).any():
        raise FieldError(
            f"'{name}' holds infinite values",
            field=str(series.name) if series.name is not None else None,
            fix="replace them by NaN (unknown) or a finite value",
        )
    return out


def check_unit_interval(frame: pd.DataFrame, what: str) -> None:
    """Raise unless every non-missing value of ``frame`` lies in [0, 1]."""
    for column in frame.columns:
        values = frame[column].to_numpy(dtype=float)
        finite = values[~np.isnan(values)]
        if finite.size and (finite.min() < 0 or finite.max() > 1):
            raise FieldError(
                f"{what} must lie in [0, 1], found {finite.min():g} to "
                f"{finite.max():g}",
                field=str(column),
                fix="normalise it first with riskmap.scoring.normalize",
            )


def check_unique_index(index: pd.Index, what: str) -> None:
    """Raise if ``index`` has duplicated labels (results would be ambiguous)."""
    if index.has_duplicates:
        dup = index[index.duplicated()].unique()[:5].tolist()
        raise FieldError(
            f"{what} has duplicated index labels, e.g. {dup}",
            fix="give every row a unique label (reset_index or set a unit id)",
        )


def align(series: pd.Series, index: pd.Index, what: str) -> pd.Series:
    """Reorder ``series`` to ``index``; every label must be present."""
    check_unique_index(series.index, what)
    missing = index.difference(series.index)
    if len(missing):
        raise FieldError(
            f"{what} lacks {len(missing)} of the table's row labels, e.g. "
            f"{missing[:5].tolist()}",
            fix="pass a Series indexed like the hazard table",
        )
    return series.reindex(index)


def normalise_weights(
    weights: Mapping[str, float], names: Iterable[str], what: str
) -> dict[str, float]:
    """Check ``weights`` against ``names`` and scale them to sum to 1."""
    expected = list(names)
    missing = [n for n in expected if n not in weights]
    extra = [n for n in weights if n not in expected]
    if missing or extra:
        raise ConfigError(
            f"{what} must name exactly {expected}; missing {missing}, "
            f"unknown {extra}. Fix: give one weight per column"
        )
    values = np.array([float(weights[n]) for n in expected])
    if np.isnan(values).any() or (values < 0).any() or np.isinf(values).any():
        raise ConfigError(
            f"{what} must be finite and non-negative, got "
            f"{dict(zip(expected, values.tolist(), strict=True))}. Fix: use "
            "weights >= 0 (invert an indicator instead of weighting it "
            "negatively)"
        )
    total = values.sum()
    if total <= 0:
        raise ConfigError(
            f"{what} are all zero. Fix: give at least one positive weight"
        )
    return dict(zip(expected, (values / total).tolist(), strict=True))


def weight_vector(weights: Mapping[str, float], names: list[str]) -> npt.NDArray:
    """The weights of ``names`` as an array, in that order."""
    return np.array([weights[n] for n in names], dtype=float)
