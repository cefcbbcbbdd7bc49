"""Tests of riskmap.scoring: hand-computed values and invariants."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from riskmap import scoring
from riskmap.errors import ConfigError, FieldError


def phi(z: float) -> float:
    """Standard normal CDF, written out for the expected values."""
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


# --------------------------------------------------------------------------
# normalize


@pytest.mark.parametrize(
    ("values", "method", "params", "expected"),
    [
        ([2.0, 4.0, 6.0], "minmax", {}, [0.0, 0.5, 1.0]),
        # fixed bounds: 3 -> 0.3, and values beyond the bounds are clipped
        ([3.0, -1.0, 12.0], "minmax", {"lower": 0, "upper": 10}, [0.3, 0.0, 1.0]),
        # ranks 1, 2.5, 2.5, 4 -> (r - 1) / 3
        ([10.0, 20.0, 20.0, 40.0], "rank", {}, [0.0, 0.5, 0.5, 1.0]),
        # mean 2, population std sqrt(2/3): z = -1.2247, 0, 1.2247
        (
            [1.0, 2.0, 3.0],
            "zscore",
            {},
            [phi(-math.sqrt(1.5)), 0.5, phi(math.sqrt(1.5))],
        ),
        ([12.0], "zscore", {"mean": 10, "std": 2}, [phi(1.0)]),
        # breaks 0/50/100/250 -> 0, 1/3, 2/3, 1; 60 is 1/5 of the way to 100
        (
            [60.0, 175.0, -5.0, 400.0],
            "breakpoints",
            {"breaks": [0, 50, 100, 250]},
            [0.4, 2 / 3 + 0.5 / 3, 0.0, 1.0],
        ),
        (
            [60.0, 49.9, 250.0],
            "breakpoints",
            {"breaks": [0, 50, 100, 250], "mode": "step"},
            [1 / 3, 0.0, 1.0],
        ),
        ([5.0], "breakpoints", {"breaks": [0, 10], "scores": [0.2, 0.9]}, [0.55]),
    ],
)
def test_normalize_hand_computed(
    values: list[float], method: str, params: dict, expected: list[float]
) -> None:
    out = scoring.normalize(values, method, **params)  # type: ignore[arg-type]
    assert out.tolist() == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("method", ["minmax", "rank", "zscore"])
def test_normalize_keeps_nan_and_index(method: str) -> None:
    s = pd.Series([1.0, np.nan, 3.0], index=["a", "b", "c"], name="elderly")
    out = scoring.normalize(s, method)  # type: ignore[arg-type]
    assert out.index.tolist() == ["a", "b", "c"]
    assert out.name == "elderly"
    assert np.isnan(out["b"])
    assert out["a"] < out["c"]


@pytest.mark.parametrize("method", ["minmax", "rank", "zscore"])
@pytest.mark.parametrize("values", [[4.0, 4.0, 4.0], [4.0], [4.0, np.nan]])
def test_normalize_constant_gives_midpoint(method: str, values: list[float]) -> None:
    out = scoring.normalize(values, method)  # type: ignore[arg-type]
    assert out.dropna().tolist() == [0.5] * (len(values) - int(np.isnan(values).sum()))


@pytest.mark.parametrize("method", ["minmax", "rank", "zscore"])
def test_normalize_invert_reverses(method: str) -> None:
    x = [1.0, 2.0, 7.0]
    plain = scoring.normalize(x, method)  # type: ignore[arg-type]
    inverted = scoring.normalize(x, method, invert=True)  # type: ignore[arg-type]
    assert inverted.tolist() == pytest.approx((1 - plain).tolist())


def test_normalize_all_nan_and_empty() -> None:
    assert scoring.normalize([np.nan, np.nan]).isna().all()
    assert scoring.normalize([]).empty


@pytest.mark.parametrize(
    ("method", "params", "match"),
    [
        ("log", {}, "normalisation method 'log' is unknown"),
        ("minmax", {"breaks": [1, 2]}, r"takes no parameter\(s\) \['breaks'\]"),
        ("minmax", {"lower": 5, "upper": 1}, "bounds are reversed"),
        ("breakpoints", {}, "needs 'breaks'"),
        ("breakpoints", {"breaks": [0, 5, 5]}, "strictly increasing"),
        ("breakpoints", {"breaks": [0, 5], "scores": [0, 2]}, "'scores' must"),
        ("breakpoints", {"breaks": [0, 5], "mode": "cubic"}, "mode 'cubic'"),
    ],
)
def test_normalize_rejects_bad_method(method: str, params: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        scoring.normalize([1.0, 2.0], method, **params)  # type: ignore[arg-type]


def test_normalize_rejects_infinity() -> None:
    with pytest.raises(FieldError, match="infinite"):
        scoring.normalize(pd.Series([1.0, np.inf], name="pga"))


# --------------------------------------------------------------------------
# weights and aggregation


def test_direct_weights_sum_to_one() -> None:
    assert scoring.direct_weights({"a": 2, "b": 6}) == {"a": 0.25, "b": 0.75}


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        ({"a": -1, "b": 2}, "non-negative"),
        ({"a": 0, "b": 0}, "all zero"),
        ({"a": float("nan")}, "non-negative"),
    ],
)
def test_direct_weights_rejects(weights: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        scoring.direct_weights(weights)


TABLE = pd.DataFrame({"a": [0.2, 1.0], "b": [0.8, 0.0]})


def test_aggregate_arithmetic() -> None:
    # 0.75 * 0.2 + 0.25 * 0.8 = 0.35; 0.75 * 1 + 0.25 * 0 = 0.75
    out = scoring.aggregate(TABLE, {"a": 3, "b": 1})
    assert out.tolist() == pytest.approx([0.35, 0.75])


def test_aggregate_geometric_and_zero_rule() -> None:
    # 0.2**0.75 * 0.8**0.25 = (0.2**3 * 0.8) ** 0.25 = 0.0064 ** 0.25
    out = scoring.aggregate(TABLE, {"a": 3, "b": 1}, "geometric")
    assert out.tolist() == pytest.approx([0.0064**0.25, 0.0])
    # with epsilon the zero becomes 0.01: 1 * 0.01 ** 0.25
    out = scoring.aggregate(TABLE, {"a": 3, "b": 1}, "geometric", epsilon=0.01)
    assert out.iloc[1] == pytest.approx(0.01**0.25)


def test_aggregate_nan_and_zero_weight() -> None:
    t = pd.DataFrame({"a": [np.nan, 0.4], "b": [0.5, 0.6]})
    assert scoring.aggregate(t, {"a": 1, "b": 1}).isna().tolist() == [True, False]
    # an indicator with weight 0 does not count, even when unknown
    assert scoring.aggregate(t, {"a": 0, "b": 1}).tolist() == [0.5, 0.6]


def test_aggregate_rejects() -> None:
    with pytest.raises(ConfigError, match="missing \\['b'\\]"):
        scoring.aggregate(TABLE, {"a": 1})
    with pytest.raises(FieldError, match="must lie in \\[0, 1\\], found 0 to 3"):
        scoring.aggregate(TABLE.assign(a=[0.0, 3.0]), {"a": 1, "b": 1})
    with pytest.raises(ConfigError, match="aggregation 'median'"):
        scoring.aggregate(TABLE, {"a": 1, "b": 1}, "median")  # type: ignore[arg-type]


def test_inform_risk() -> None:
    h, e = pd.Series([1.0, 0.8]), pd.Series([0.25, 0.2])
    v, c = pd.Series([0.5, 0.5]), pd.Series([0.5, 0.2])
    # HE = sqrt(0.25) = 0.5 -> cbrt(0.5 * 0.5 * 0.5) = 0.5
    # HE = sqrt(0.16) = 0.4 -> cbrt(0.4 * 0.5 * 0.8) = cbrt(0.16)
    out = scoring.inform_risk(h, e, v, c)
    assert out.tolist() == pytest.approx([0.5, 0.16 ** (1 / 3)])


# --------------------------------------------------------------------------
# risk_index

HZ = pd.DataFrame({"h_flood": [0.8, 0.2], "h_fire": [0.2, 0.2]}, index=["x", "y"])
EXP = pd.Series([1.0, 0.8], index=["x", "y"])
VUL = pd.Series([0.5, 1.0], index=["x", "y"])


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        # H = mean of hazards = 0.5, 0.2
        ({"method": "product"}, [0.5, 0.16]),
        ({}, [math.sqrt(0.5), 0.4]),
        ({"vulnerability": VUL}, [0.25 ** (1 / 3), 0.16 ** (1 / 3)]),
        ({"vulnerability": VUL, "method": "arithmetic"}, [2 / 3, 2 / 3]),
        # weights 3:1 -> H = 0.65, 0.2
        (
            {"hazard_weights": {"h_flood": 3, "h_fire": 1}, "method": "product"},
            [0.65, 0.16],
        ),
        ({"hazard_combination": "max", "method": "product"}, [0.8, 0.16]),
        # LCC = 1 - capacity = 0.5, 0.5
        (
            {"vulnerability": VUL, "capacity": VUL * 0 + 0.5, "method": "product"},
            [0.125, 0.08],
        ),
        # inform: HE = sqrt(0.5 * 1), sqrt(0.2 * 0.8) = 0.4
        (
            {"vulnerability": VUL, "capacity": VUL * 0 + 0.5, "method": "inform"},
            [(math.sqrt(0.5) * 0.25) ** (1 / 3), (0.4 * 0.5) ** (1 / 3)],
        ),
    ],
)
def test_risk_index_hand_computed(kwargs: dict, expected: list[float]) -> None:
    out = scoring.risk_index(HZ, EXP, **kwargs)
    assert out.name == "risk_score"
    assert out.index.tolist() == ["x", "y"]
    assert out.tolist() == pytest.approx(expected)
    assert out.attrs["method"]["method"] == kwargs.get("method", "geometric")


def test_risk_index_aligns_by_label() -> None:
    shuffled = EXP.iloc[::-1]
    assert scoring.risk_index(HZ, shuffled).equals(scoring.risk_index(HZ, EXP))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"method": "inform"}, ConfigError, "needs both vulnerability and capacity"),
        ({"method": "sum"}, ConfigError, "risk method 'sum'"),
        ({"hazard_weights": {"h_flood": 1}}, ConfigError, "missing \\['h_fire'\\]"),
        ({"hazard_combination": "min"}, ConfigError, "hazard_combination 'min'"),
        ({"vulnerability": pd.Series([0.5], index=["x"])}, FieldError, "lacks 1"),
    ],
)
def test_risk_index_rejects(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        scoring.risk_index(HZ, EXP, **kwargs)


def test_risk_index_rejects_unnormalised_hazard() -> None:
    with pytest.raises(FieldError, match=r"field 'h_fire'.*normalize"):
        scoring.risk_index(HZ.assign(h_fire=[2.0, 0.0]), EXP)


unit = st.floats(0.0, 1.0, allow_nan=False)
METHODS = ["geometric", "product", "arithmetic", "inform"]


@st.composite
def risk_inputs(
    draw: st.DrawFn,
) -> tuple[pd.DataFrame, pd.Series, pd.Series, pd.Series]:
    n = draw(st.integers(1, 8))
    k = draw(st.integers(1, 4))
    h = draw(arrays(float, (n, k), elements=unit))
    cols = [f"h_{i}" for i in range(k)]
    hz = pd.DataFrame(h, columns=cols)
    e, v, c = (pd.Series(draw(arrays(float, n, elements=unit))) for _ in range(3))
    return hz, e, v, c


@settings(max_examples=80, deadline=None)
@given(
    data=risk_inputs(),
    method=st.sampled_from(METHODS),
    combination=st.sampled_from(["weighted_arithmetic", "max"]),
    row=st.integers(0, 7),
    col=st.integers(0, 3),
    bump=st.floats(0.0, 1.0),
)
def test_raising_a_hazard_never_lowers_risk(
    data: tuple, method: str, combination: str, row: int, col: int, bump: float
) -> None:
    hz, e, v, c = data
    row, col = row % len(hz), col % hz.shape[1]
    kw = {"method": method, "hazard_combination": combination}
    before = scoring.risk_index(hz, e, v, capacity=c, **kw)  # type: ignore[arg-type]
    raised = hz.copy()
    raised.iloc[row, col] = min(1.0, raised.iloc[row, col] + bump)
    after = scoring.risk_index(raised, e, v, capacity=c, **kw)  # type: ignore[arg-type]
    assert (after.to_numpy() >= before.to_numpy() - 1e-12).all()
    assert ((after >= 0) & (after <= 1)).all()


@settings(max_examples=60, deadline=None)
@given(data=risk_inputs(), method=st.sampled_from(METHODS), seed=st.integers(0, 99))
def test_row_order_changes_nothing(data: tuple, method: str, seed: int) -> None:
    hz, e, v, c = data
    order = np.random.default_rng(seed).permutation(len(hz))
    base = scoring.risk_index(hz, e, v, capacity=c, method=method)  # type: ignore[arg-type]
    shuffled = scoring.risk_index(
        hz.iloc[order],
        e.iloc[order],
        v.iloc[order],
        capacity=c.iloc[order],
        method=method,  # type: ignore[arg-type]
    )
    pd.testing.assert_series_equal(shuffled.sort_index(), base)


# --------------------------------------------------------------------------
# classify


@pytest.mark.parametrize(
    ("values", "method", "kwargs", "classes", "bins"),
    [
        # width (5 - 0) / 5 = 1; a value on a bound falls in the lower level
        (
            [0, 1, 2, 3, 4, 5.0],
            "equal_interval",
            {},
            [1, 1, 2, 3, 4, 5],
            (1.0, 2.0, 3.0, 4.0, 5.0),
        ),
        # np.percentile of 1..10 at 20 % steps: 2.8, 4.6, 6.4, 8.2, 10
        (
            list(range(1, 11)),
            "quantile",
            {},
            [1, 1, 2, 2, 3, 3, 4, 4, 5, 5],
            (2.8, 4.6, 6.4, 8.2, 10.0),
        ),
        # five obvious pairs
        (
            [1, 1.1, 5, 5.2, 9, 9.1, 20, 21, 40, 41],
            "natural_breaks",
            {},
            [1, 1, 2, 2, 3, 3, 4, 4, 5, 5],
            (1.1, 5.2, 9.1, 21.0, 41.0),
        ),
        (
            [0.1, 0.3, 0.35, 0.9],
            "thresholds",
            {"k": 3, "thresholds": [0.3, 0.6]},
            [1, 1, 2, 3],
            (0.3, 0.6, math.inf),
        ),
    ],
)
def test_classify_hand_computed(
    values: list[float], method: str, kwargs: dict, classes: list[int], bins: tuple
) -> None:
    c = scoring.classify(values, method, **kwargs)  # type: ignore[arg-type]
    assert c.classes.tolist() == classes
    assert c.bins == pytest.approx(bins)
    assert c.method == method
    assert c.k == len(bins)


@pytest.mark.parametrize("method", ["natural_breaks", "quantile", "equal_interval"])
def test_classify_nan_stays_missing(method: str) -> None:
    x = pd.Series([0.1, np.nan, 0.5, 0.2, 0.9, 0.7, 0.3], index=list("abcdefg"))
    c = scoring.classify(x, method, k=3)  # type: ignore[arg-type]
    assert str(c.classes.dtype) == "Int64"
    assert c.classes.index.tolist() == list("abcdefg")
    assert c.classes.isna().tolist() == [False, True] + [False] * 5
    assert c.classes["e"] == 3
    assert c.classes["a"] == 1


def test_classify_fewer_values_than_levels(caplog: pytest.LogCaptureFixture) -> None:
    c = scoring.classify([0.2, 0.2, 0.7], "natural_breaks", k=5)
    assert c.classes.tolist() == [1, 1, 2]
    assert c.k == 2
    assert "only 2 distinct values" in caplog.text


def test_classify_all_missing() -> None:
    c = scoring.classify([np.nan, np.nan], "quantile")
    assert c.classes.isna().all()
    assert c.k == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "jenks"}, "classification method 'jenks'"),
        ({"method": "thresholds", "k": 5, "thresholds": [0.5]}, "needs 4 thresholds"),
        ({"method": "thresholds", "k": 3, "thresholds": [0.5, 0.2]}, "increasing"),
        ({"method": "quantile", "thresholds": [0.5]}, "only used by method"),
        ({"k": 1}, "k must be at least 2"),
    ],
)
def test_classify_rejects(kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        scoring.classify([0.1, 0.2, 0.3], **kwargs)


# --------------------------------------------------------------------------
# aggregate_to_units

VALUES = pd.Series([0.2, 0.8, 0.5, np.nan], name="risk_score")
UNITS = pd.Series(["A", "A", "B", "B"], name="adcode")
AREA = pd.Series([3.0, 1.0, 2.0, 5.0])
CLASSES = pd.Series([2, 5, 3, pd.NA], name="risk_class", dtype="Int64")


SHARE = "area_share_above"


@pytest.mark.parametrize(
    ("values", "weights", "rule", "kw", "expected", "suffix"),
    [
        # (3 * 0.2 + 1 * 0.8) / 4 = 0.35; B: only the known cell counts
        (VALUES, AREA, "area_weighted_mean", {}, {"A": 0.35, "B": 0.5}, ""),
        (VALUES, None, "mean", {}, {"A": 0.5, "B": 0.5}, ""),
        (VALUES, AREA, "pop_weighted_mean", {}, {"A": 0.35, "B": 0.5}, ""),
        # A: class 5 covers 1 of 4 area units; B: the known cell is class 3
        (CLASSES, AREA, SHARE, {"class_threshold": 4}, {"A": 0.25, "B": 0.0}, "4"),
        (CLASSES, AREA, SHARE, {"class_threshold": 2}, {"A": 1.0, "B": 1.0}, "2"),
        (CLASSES, None, "max_class", {}, {"A": 5, "B": 3}, ""),
    ],
)
def test_aggregate_to_units_hand_computed(
    values: pd.Series,
    weights: pd.Series | None,
    rule: str,
    kw: dict,
    expected: dict,
    suffix: str,
) -> None:
    out = scoring.aggregate_to_units(values, UNITS, weights, rule, **kw)  # type: ignore[arg-type]
    name = f"{values.name}_share_ge_{suffix}" if suffix else f"{values.name}_{rule}"
    assert out.name == name
    assert out.to_dict() == pytest.approx(expected)
    assert out.name == name
    assert out.index.name == "adcode"
    assert out.attrs["rule"] == rule


def test_aggregate_to_units_unit_without_values() -> None:
    v = pd.Series([0.4, np.nan])
    out = scoring.aggregate_to_units(v, pd.Series(["A", "B"]))
    assert out["A"] == 0.4
    assert np.isnan(out["B"])


def test_aggregate_to_units_alone_equals_together() -> None:
    rng = np.random.default_rng(3)
    v = pd.Series(rng.random(60), name="h_flood")
    u = pd.Series(rng.choice(["451002", "451022", "451081"], 60))
    pop = pd.Series(rng.integers(0, 500, 60).astype(float))
    for rule, kw in [
        ("pop_weighted_mean", {}),
        ("area_share_above", {"class_threshold": 0.7}),
        ("max_class", {}),
    ]:
        together = scoring.aggregate_to_units(v, u, pop, rule, **kw)  # type: ignore[arg-type]
        for code in together.index:
            cells = u == code
            alone = scoring.aggregate_to_units(
                v[cells],
                u[cells],
                pop[cells],
                rule,  # type: ignore[arg-type]
                **kw,
            )
            assert alone[code] == pytest.approx(together[code], rel=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"rule": "median"}, ConfigError, "unit rule 'median'"),
        ({"rule": "pop_weighted_mean"}, ConfigError, "pass the cell population"),
        ({"rule": "area_share_above"}, ConfigError, "needs class_threshold"),
        ({"weights": pd.Series([1.0, -1, 1, 1])}, FieldError, "1 negative"),
    ],
)
def test_aggregate_to_units_rejects(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        scoring.aggregate_to_units(VALUES, UNITS, **kwargs)
