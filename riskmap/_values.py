"""Plain Python values from numpy and pandas ones, for tables and reports."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd


def plain(value: Any) -> Any:
    """Numpy scalars made plain; missing and infinite made None; aware times ISO.

    Examples
    --------
    >>> plain(np.int64(3)), plain(float("inf")), plain(pd.NaT)
    (3, None, None)
    >>> plain(pd.Timestamp("2024-05-03 09:30", tz="Asia/Shanghai"))
    '2024-05-03T09:30:00+08:00'
    """
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.isoformat()
    return value
