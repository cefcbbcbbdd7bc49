"""The normalisation formulas behind scoring.normalize (private).

Each takes the known (non-NaN) values and returns their scores in [0, 1].
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
from scipy import stats

from riskmap.errors import ConfigError

logger = logging.getLogger("riskmap.scoring")

# The parameters each normalisation takes.
PARAMS: dict[str, tuple[str, ...]] = {
    "minmax": ("lower", "upper"),
    "rank": (),
    "zscore": ("mean", "std"),
    "breakpoints": ("breaks", "scores", "mode"),
}

# Score given to every row when a relative normalisation meets a constant
# indicator: it tells the rows nothing apart, so all sit at the midpoint.
CONSTANT_SCORE = 0.5


def minmax(
    x: np.ndarray, lower: float | None = None, upper: float | None = None
) -> np.ndarray:
    """``(x - lower) / (upper - lower)`` clipped to [0, 1]."""
    lo = float(np.min(x)) if lower is None else float(lower)
    hi = float(np.max(x)) if upper is None else float(upper)
    if hi < lo:
        where = (
            "" if lower is not None and upper is not None else " (one from the data)"
        )
        raise ConfigError(
            f"minmax bounds are reversed: lower={lo:g} > upper={hi:g}{where}. "
            "Fix: give both bounds in increasing order, and use invert=true to "
            "reverse the direction"
        )
    if hi == lo:
        logger.info("minmax: constant indicator, every row scores 0.5")
        return np.full(x.shape, CONSTANT_SCORE)
    return np.clip((x - lo) / (hi - lo), 0.0, 1.0)


def rank(x: np.ndarray) -> np.ndarray:
    """``(rank - 1) / (n - 1)`` with ties sharing their average rank."""
    if x.size == 1:
        return np.full(x.shape, CONSTANT_SCORE)
    ranks = stats.rankdata(x, method="average")
    return (ranks - 1.0) / (x.size - 1.0)


def zscore(
    x: np.ndarray, mean: float | None = None, std: float | None = None
) -> np.ndarray:
    """Standard normal CDF of the z-score (population std)."""
    mu = float(np.mean(x)) if mean is None else float(mean)
    sd = float(np.std(x)) if std is None else float(std)
    if sd < 0:
        raise ConfigError(f"zscore std must be >= 0, got {sd:g}")
    if sd == 0:
        logger.info("zscore: constant indicator, every row scores 0.5")
        return np.full(x.shape, CONSTANT_SCORE)
    return np.asarray(stats.norm.cdf((x - mu) / sd), dtype=float)


def breakpoints(
    x: np.ndarray,
    breaks: Sequence[float] | None = None,
    scores: Sequence[float] | None = None,
    mode: str = "linear",
) -> np.ndarray:
    """Piecewise-linear or step mapping of fixed breakpoints to scores."""
    if breaks is None or len(breaks) < 2:
        raise ConfigError(
            "breakpoints normalisation needs 'breaks' with at least two "
            f"increasing values, got {breaks!r}. Fix: e.g. breaks=[0, 50, 100]"
        )
    b = np.asarray(breaks, dtype=float)
    s = (
        np.linspace(0.0, 1.0, b.size)
        if scores is None
        else np.asarray(scores, dtype=float)
    )
    if np.any(np.diff(b) <= 0):
        raise ConfigError(f"'breaks' must be strictly increasing, got {b.tolist()}")
    if s.shape != b.shape or np.any(s < 0) or np.any(s > 1):
        raise ConfigError(
            f"'scores' must hold {b.size} values in [0, 1] (one per break), "
            f"got {s.tolist()}"
        )
    if mode == "linear":
        return np.interp(x, b, s)
    if mode == "step":
        idx = np.clip(np.searchsorted(b, x, side="right") - 1, 0, b.size - 1)
        return s[idx]
    raise ConfigError(
        f"breakpoints mode {mode!r} is unknown. Fix: use 'linear' or 'step'"
    )
