"""Weights from an AHP pairwise-comparison matrix (private; see scoring)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from riskmap.errors import ConfigError

logger = logging.getLogger("riskmap.scoring")

# Saaty's random consistency index: the mean CI of random reciprocal
# matrices of order n (Saaty 1980, The Analytic Hierarchy Process,
# McGraw-Hill). Orders 1 and 2 are always consistent.
RANDOM_INDEX: dict[int, float] = {
    1: 0.0,
    2: 0.0,
    3: 0.58,
    4: 0.90,
    5: 1.12,
    6: 1.24,
    7: 1.32,
    8: 1.41,
    9: 1.45,
    10: 1.49,
}
MAX_CR = 0.1
# How far a_ij * a_ji may stray from 1, so that 0.333 passes as 1/3.
RECIPROCAL_TOLERANCE = 0.01

MatrixEntry = float | int | str


@dataclass(frozen=True)
class AHPResult:
    """Weights derived by AHP and the consistency of the judgements.

    Attributes
    ----------
    weights : dict of str to float
        The normalised principal eigenvector, summing to 1.
    lambda_max : float
        The principal eigenvalue (equal to n for consistent judgements).
    ci : float
        Consistency index ``(lambda_max - n) / (n - 1)``.
    cr : float
        Consistency ratio ``ci / RI(n)`` with Saaty's random index; 0 for
        n <= 2.
    """

    weights: dict[str, float]
    lambda_max: float
    ci: float
    cr: float


def parse_entry(value: MatrixEntry) -> float:
    """A matrix entry as a float; strings such as ``"1/3"`` are allowed."""
    if isinstance(value, str):
        try:
            return float(Fraction(value.strip()))
        except (ValueError, ZeroDivisionError) as err:
            raise ConfigError(
                f"pairwise comparison {value!r} is not a number. Fix: write "
                'numbers such as 3 or fractions such as "1/3"'
            ) from err
    return float(value)


def ahp(
    matrix: Sequence[Sequence[MatrixEntry]] | np.ndarray,
    names: Sequence[str],
    *,
    label: str = "pairwise comparison matrix",
    max_cr: float = MAX_CR,
) -> AHPResult:
    """Principal-eigenvector weights of ``matrix``; see scoring.ahp_weights."""
    a = _check_matrix(matrix, names, label)
    n = a.shape[0]

    # Principal eigenvector: the eigenvalue of largest real part (Perron).
    values, vectors = np.linalg.eig(a)
    i = int(np.argmax(values.real))
    lam = float(values[i].real)
    w = np.abs(vectors[:, i].real)
    w = w / w.sum()

    # Consistency of the judgements.
    ci = max(0.0, (lam - n) / (n - 1)) if n > 1 else 0.0
    ri = RANDOM_INDEX[n]
    cr = ci / ri if ri > 0 else 0.0
    if cr > max_cr:
        raise ConfigError(
            f"{label} is too inconsistent: consistency ratio CR = {cr:.3f} "
            f"(lambda_max = {lam:.3f}, CI = {ci:.3f}) exceeds {max_cr:g}. Fix: "
            "revise the judgements that contradict each other (consistent "
            "judgements satisfy a_ik = a_ij * a_jk)"
        )
    logger.info("%s: AHP weights with CR = %.3f", label, cr)
    weights = dict(zip(names, w.tolist(), strict=True))
    return AHPResult(weights=weights, lambda_max=lam, ci=ci, cr=cr)


def _check_matrix(
    matrix: Sequence[Sequence[MatrixEntry]] | np.ndarray,
    names: Sequence[str],
    label: str,
) -> np.ndarray:
    rows = [[parse_entry(v) for v in row] for row in matrix]
    n = len(names)
    if len(set(names)) != n:
        raise ConfigError(f"{label}: indicator names repeat: {list(names)}")
    if len(rows) != n or any(len(r) != n for r in rows):
        raise ConfigError(
            f"{label} must be {n} x {n}, one row and column per indicator "
            f"{list(names)}; got rows of lengths {[len(r) for r in rows]}"
        )
    if n not in RANDOM_INDEX:
        raise ConfigError(
            f"{label} compares {n} indicators; the random index is tabled for "
            "at most 10. Fix: group the indicators into a hierarchy of "
            "smaller matrices, or give weights directly"
        )
    a = np.array(rows, dtype=float)
    if not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise ConfigError(
            f"{label} must hold positive numbers only (Saaty's scale 1/9..9)"
        )
    if not np.allclose(np.diag(a), 1.0):
        raise ConfigError(f"{label} must have 1 on its diagonal, got {np.diag(a)}")
    product = a * a.T
    bad = np.argwhere(np.abs(product - 1.0) > RECIPROCAL_TOLERANCE)
    if bad.size:
        i, j = bad[0]
        raise ConfigError(
            f"{label} is not reciprocal: [{names[i]}, {names[j]}] = "
            f"{a[i, j]:g} but [{names[j]}, {names[i]}] = {a[j, i]:g}. Fix: "
            f"set the second to 1/{a[i, j]:g}"
        )
    return a
