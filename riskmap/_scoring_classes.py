"""Levels from scores, behind scoring.classify (private)."""

from __future__ import annotations

import itertools
import logging
import warnings
from collections.abc import Sequence

import mapclassify
import numpy as np

from riskmap._scoring_jenks import fisher_jenks_bins
from riskmap.errors import ConfigError

logger = logging.getLogger("riskmap.scoring")


def levels(
    x: np.ndarray, method: str, k: int, thresholds: Sequence[float] | None
) -> tuple[np.ndarray, tuple[float, ...], int]:
    """Levels 1..k of ``x`` (0 where NaN), upper bounds, levels formed."""
    known = ~np.isnan(x)
    classes = np.zeros(x.shape, dtype=np.int64)
    if method == "thresholds":
        bins = check_thresholds(thresholds, k)
        if known.any():
            classifier = mapclassify.UserDefined(x[known], bins=bins)
            classes[known] = np.asarray(classifier.yb) + 1
        return classes, tuple(bins), k
    if not known.any():
        return classes, (), 0
    formed, upper, yb = data_classes(x[known], method, k)
    classes[known] = yb + 1
    return classes, upper, formed


def check_thresholds(thresholds: Sequence[float] | None, k: int) -> list[float]:
    """Check k-1 increasing thresholds; return them with +inf appended."""
    if thresholds is None or len(thresholds) != k - 1:
        raise ConfigError(
            f"method 'thresholds' with k={k} needs {k - 1} thresholds, got "
            f"{thresholds!r}. Fix: give k-1 increasing upper bounds"
        )
    bins = [float(t) for t in thresholds]
    if any(b2 <= b1 for b1, b2 in itertools.pairwise(bins)):
        raise ConfigError(f"thresholds must be strictly increasing, got {bins}")
    return [*bins, float("inf")]


def data_classes(
    x: np.ndarray, method: str, k: int
) -> tuple[int, tuple[float, ...], np.ndarray]:
    """Levels from the data; fewer than k when the data cannot fill k."""
    distinct = np.unique(x)
    if distinct.size < k:
        logger.warning(
            "classify: only %d distinct values for k=%d; each value forms its "
            "own level",
            distinct.size,
            k,
        )
        yb = np.searchsorted(distinct, x, side="left")
        return distinct.size, tuple(distinct.tolist()), yb
    if method == "natural_breaks":
        bins = fisher_jenks_bins(x, k)
        yb = np.minimum(np.searchsorted(bins, x, side="left"), k - 1)
        return k, tuple(bins.tolist()), yb
    make = {
        "quantile": mapclassify.Quantiles,
        "equal_interval": mapclassify.EqualInterval,
    }
    with warnings.catch_warnings():
        # Collapsed quantiles are reported below through the level count.
        warnings.filterwarnings("ignore", message="Not enough unique values")
        classifier = make[method](x, k=k)
    formed = int(classifier.k)
    if formed < k:
        logger.warning("classify: ties left %d levels instead of %d", formed, k)
    return formed, tuple(float(b) for b in classifier.bins), np.asarray(classifier.yb)
