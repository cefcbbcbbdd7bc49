"""Event counts and separation measures (private; see scoring).

The workings of ``scoring.validate_against_events``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from scipy import stats

from riskmap._scoring_checks import align
from riskmap.errors import FieldError

logger = logging.getLogger("riskmap.scoring")


def event_counts(
    events: pd.DataFrame | Mapping[str, Sequence[Any]], name: str, index: pd.Index
) -> pd.Series:
    """Number of events per cell for hazard ``name``."""
    if isinstance(events, pd.DataFrame):
        mask = align(events[name], index, f"events['{name}']")
        return mask.fillna(False).astype(bool).astype(int)
    labels = pd.Index(list(events[name]))
    unknown = labels.difference(index)
    if len(unknown):
        raise FieldError(
            f"events of {name} name {len(unknown)} cells that are not rows "
            f"of index_values, e.g. {unknown[:5].tolist()}",
            fix="locate the events with the same cell ids as the index table",
        )
    counts = pd.Series(labels).value_counts()
    return counts.reindex(index, fill_value=0).astype(int)


def separation(
    values: pd.Series, classes: pd.Series, hits: pd.Series, k: int
) -> list[float]:
    """Cells, event cells, events, ROC AUC and share of events in the top two."""
    known = values.notna()
    x = values[known].to_numpy(dtype=float)
    hit = hits[known].to_numpy() > 0
    n_events = int(hits[known].sum())
    if hit.all() or not hit.any():
        logger.warning("%s: events in all or no cells, AUC undefined", values.name)
        auc = float("nan")
    else:
        u = stats.mannwhitneyu(x[hit], x[~hit], alternative="two-sided").statistic
        auc = float(u) / (hit.sum() * (~hit).sum())
    top = classes[known].fillna(0).to_numpy(dtype=int) >= k - 1
    weights = hits[known].to_numpy()
    share = float(weights[top].sum() / n_events) if n_events else float("nan")
    return [float(len(x)), float(hit.sum()), float(n_events), auc, share]
