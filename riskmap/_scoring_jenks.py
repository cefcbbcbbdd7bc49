"""Fisher–Jenks natural breaks in numpy (private; see scoring.classify).

mapclassify's ``FisherJenks`` gives the same breaks but, without the
optional numba, runs in pure Python: about 20 s for 2,000 values, far too
slow for an analysis grid. This version vectorises the inner loop of
Fisher's dynamic programme and, for large inputs, works on evenly spaced
order statistics, so the result is deterministic (unlike
``FisherJenksSampled``, which draws from numpy's global random state).
"""

from __future__ import annotations

import numpy as np

# Above this many values, the breaks are computed on this many evenly
# spaced order statistics (always including the minimum and maximum).
MAX_EXACT = 1000


def fisher_jenks_bins(values: np.ndarray, k: int) -> np.ndarray:
    """Upper bounds of the k classes minimising the within-class variance.

    ``values`` must be finite and hold at least k distinct values.
    """
    full = x = np.sort(np.asarray(values, dtype=float))
    if x.size > MAX_EXACT:
        sample = x[np.linspace(0, x.size - 1, MAX_EXACT).round().astype(int)]
        if np.unique(sample).size < k:
            # Heavy ties hid rare values: add evenly spaced distinct ones.
            distinct = np.unique(x)
            pick = np.linspace(0, distinct.size - 1, min(k, distinct.size))
            sample = np.sort(np.concatenate([sample, distinct[pick.astype(int)]]))
        x = sample
    n = x.size
    s1 = np.concatenate([[0.0], np.cumsum(x)])
    s2 = np.concatenate([[0.0], np.cumsum(x * x)])

    def sse(start: np.ndarray, end: int) -> np.ndarray:
        """Sum of squared deviations of x[start..end] for each start."""
        count = end + 1 - start
        total = s1[end + 1] - s1[start]
        return (s2[end + 1] - s2[start]) - total * total / count

    # best[j]: least cost of x[0..j] in c + 1 classes; first[c, j]: where
    # the last of those classes starts.
    best = s2[1:] - s1[1:] ** 2 / np.arange(1, n + 1)
    first = np.zeros((k, n), dtype=int)
    for c in range(1, k):
        nxt = np.full(n, np.inf)
        for j in range(c, n):
            starts = np.arange(c, j + 1)
            cost = best[starts - 1] + sse(starts, j)
            m = int(np.argmin(cost))
            nxt[j] = cost[m]
            first[c, j] = starts[m]
        best = nxt

    # Walk back from the last value to where each class starts.
    starts = np.zeros(k, dtype=int)
    end = n - 1
    for c in range(k - 1, 0, -1):
        starts[c] = first[c, end]
        end = starts[c] - 1

    # A class ends just below the next one's start. On a sample, values
    # that fell between two sampled classes go to the nearer one: the
    # bound is the last value up to the middle of the gap.
    ends = x[starts[1:] - 1]
    if full is not x:
        middle = (ends + x[starts[1:]]) / 2.0
        ends = full[np.searchsorted(full, middle, side="right") - 1]
    return np.append(ends, full[-1])
