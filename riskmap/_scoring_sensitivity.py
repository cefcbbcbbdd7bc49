"""Monte Carlo and Sobol sensitivity of a score (private; see scoring).

Works on plain arrays (units x indicators) so that thousands of draws stay
fast; ``scoring.sensitivity`` checks the inputs and labels the results.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

logger = logging.getLogger("riskmap.scoring")

Combine = Callable[[np.ndarray, np.ndarray], np.ndarray]
Levels = Callable[[np.ndarray], np.ndarray]


def dirichlet_draws(
    base: np.ndarray, n: int, spread: float, rng: np.random.Generator
) -> np.ndarray:
    """``n`` weight vectors scattered around ``base`` (which sums to 1).

    A weight w gets the standard deviation ``spread * sqrt(w * (1 - w))``;
    ``sqrt(w * (1 - w))`` is the largest any distribution of weights with
    mean w can have, so ``spread`` runs from 0 (no scatter) towards 1.
    Zero weights stay zero.
    """
    out = np.tile(base, (n, 1))
    used = base > 0
    if spread > 0 and used.sum() > 1:
        concentration = 1.0 / spread**2 - 1.0
        out[:, used] = rng.dirichlet(base[used] * concentration, size=n)
    return out


def descending_rank(scores: np.ndarray) -> np.ndarray:
    """Rank 1 for the highest score, ties averaged, NaN kept."""
    return np.asarray(stats.rankdata(-scores, nan_policy="omit"), dtype=float)


def monte_carlo(
    normalized: Sequence[np.ndarray],
    base: np.ndarray,
    combine: Combine,
    levels: Levels,
    *,
    n: int,
    spread: float,
    seed: int,
    top: int,
) -> pd.DataFrame:
    """Per-unit stability of level and rank over random weights and choices.

    ``normalized`` holds one table per normalisation choice, the first
    being the configured one; each draw picks a choice uniformly and a
    weight vector from :func:`dirichlet_draws`.
    """
    rng = np.random.default_rng(seed)
    base_score = combine(normalized[0], base)
    base_level = levels(base_score).astype(float)
    units = len(base_score)
    classes = np.zeros((units, n))
    ranks = np.zeros((units, n))
    picks = rng.integers(len(normalized), size=n)
    for i, weights in enumerate(dirichlet_draws(base, n, spread, rng)):
        scores = combine(normalized[picks[i]], weights)
        classes[:, i] = levels(scores)
        ranks[:, i] = descending_rank(scores)
    base_level[base_level == 0] = np.nan
    return pd.DataFrame(
        {
            "base_score": base_score,
            "base_class": pd.array(base_level, dtype="Int64"),
            "top_class_share": (classes == top).mean(axis=1),
            "class_stability": (classes == base_level[:, None]).mean(axis=1),
            "mean_rank": ranks.mean(axis=1),
            "std_rank": ranks.std(axis=1),
        }
    )


def sobol_indices(
    normalized: np.ndarray,
    base: np.ndarray,
    combine: Combine,
    *,
    names: Sequence[str],
    spread: float,
    samples: int,
    seed: int,
) -> pd.DataFrame:
    """First-order and total Sobol indices of the weights (SALib).

    Each positive weight varies uniformly in ``w * (1 ± spread)``; the
    weights are rescaled to sum to 1 before scoring. The output studied is
    the mean absolute shift of the units' ranks from the base ranking
    (Saisana, Saltelli and Tarantola 2005, J. R. Stat. Soc. A 168(2)).
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    used = np.flatnonzero(base > 0)
    varying = [names[int(i)] for i in used]
    columns = ["S1", "S1_conf", "ST", "ST_conf"]
    index = pd.Index(varying, name="weight")
    if len(used) < 2 or spread == 0:
        logger.info("sobol: fewer than two varying weights, indices are 0")
        return pd.DataFrame(0.0, index=index, columns=columns)
    problem = {
        "num_vars": len(used),
        "names": varying,
        "bounds": [[base[i] * (1 - spread), base[i] * (1 + spread)] for i in used],
    }
    x = sobol_sample.sample(problem, samples, calc_second_order=False, seed=seed)
    base_rank = descending_rank(combine(normalized, base))
    y = np.empty(len(x))
    weights = np.zeros_like(base)
    for i, row in enumerate(x):
        weights[used] = row / row.sum()
        y[i] = np.nanmean(
            np.abs(descending_rank(combine(normalized, weights)) - base_rank)
        )
    if np.ptp(y) == 0:
        logger.info("sobol: no weight changes the ranking, indices are 0")
        return pd.DataFrame(0.0, index=index, columns=columns)
    with warnings.catch_warnings():
        # SALib's bootstrap may divide by a zero variance in degenerate draws.
        warnings.simplefilter("ignore", RuntimeWarning)
        si = sobol_analyze.analyze(
            problem, y, calc_second_order=False, seed=seed, print_to_console=False
        )
    return pd.DataFrame(
        {c: np.asarray(si[c], dtype=float) for c in columns}, index=index
    )
