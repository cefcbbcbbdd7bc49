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
        ("minmax", {"lower": 5, "upper": 1}, r"lower=5 > upper=1\. Fix"),
        ("minmax", {"upper": 0}, r"lower=1 > upper=0 \(one from the data\)"),
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


# --------------------------------------------------------------------------
# AHP

# Saaty, T. L. (1977) "A scaling method for priorities in hierarchical
# structures", J. Math. Psychology 15(3), 234-281 (also in Saaty 1980, The
# Analytic Hierarchy Process): relative wealth of seven nations (US, USSR,
# China, France, UK, Japan, West Germany). Published eigenvector .427,
# .230, .021, .052, .052, .123, .094 with lambda_max = 7.61 (CI = 0.10,
# CR = 0.10 / 1.32 = 0.08).
NATIONS = ["US", "USSR", "China", "France", "UK", "Japan", "W_Germany"]
WEALTH: list[list[float | str]] = [
    [1, 4, 9, 6, 6, 5, 5],
    ["1/4", 1, 7, 5, 5, 3, 4],
    ["1/9", "1/7", 1, "1/5", "1/5", "1/7", "1/5"],
    ["1/6", "1/5", 5, 1, 1, "1/3", "1/3"],
    ["1/6", "1/5", 5, 1, 1, "1/3", "1/3"],
    ["1/5", "1/3", 7, 3, 3, 1, 2],
    ["1/5", "1/4", 5, 3, 3, "1/2", 1],
]
WEALTH_WEIGHTS = [0.427, 0.230, 0.021, 0.052, 0.052, 0.123, 0.094]

# Same source: brightness of four chairs at increasing distance from a
# light, lambda_max = 4.39, so CI = 0.13 and CR = 0.13 / 0.90 = 0.14,
# above Saaty's 0.1 limit.
OPTICS: list[list[float | str]] = [
    [1, 5, 6, 7],
    ["1/5", 1, 4, 6],
    ["1/6", "1/4", 1, 4],
    ["1/7", "1/6", "1/4", 1],
]


def test_ahp_published_wealth_of_nations() -> None:
    r = scoring.ahp_weights(WEALTH, NATIONS)
    assert list(r.weights) == NATIONS
    assert list(r.weights.values()) == pytest.approx(WEALTH_WEIGHTS, abs=5e-4)
    assert sum(r.weights.values()) == pytest.approx(1.0)
    assert r.lambda_max == pytest.approx(7.61, abs=5e-3)
    assert r.ci == pytest.approx(0.10, abs=5e-3)
    assert r.cr == pytest.approx(0.08, abs=5e-3)
    assert r.cr == pytest.approx(r.ci / 1.32)


def test_ahp_published_optics_rejected() -> None:
    with pytest.raises(
        ConfigError,
        match=r"chairs is too inconsistent: consistency ratio CR = 0\.145 "
        r"\(lambda_max = 4\.391, CI = 0\.130\) exceeds 0\.1",
    ):
        scoring.ahp_weights(OPTICS, ["c1", "c2", "c3", "c4"], label="chairs")


def test_ahp_consistent_matrix_gives_exact_ratios() -> None:
    w = np.array([0.5, 0.3, 0.2])
    r = scoring.ahp_weights(w[:, None] / w[None, :], ["a", "b", "c"])
    assert list(r.weights.values()) == pytest.approx(w.tolist())
    assert r.lambda_max == pytest.approx(3.0)
    assert r.cr == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(
    ("matrix", "names", "match"),
    [
        (
            [[1, 3], [3, 1]],
            ["a", "b"],
            r"not reciprocal: \[a, b\] = 3 but \[b, a\] = 3",
        ),
        ([[2, 3], ["1/3", 1]], ["a", "b"], "1 on its diagonal"),
        ([[1, -3], ["-1/3", 1]], ["a", "b"], "positive numbers only"),
        ([[1, 3]], ["a", "b"], "must be 2 x 2"),
        ([[1, "three"], ["1/3", 1]], ["a", "b"], "'three' is not a number"),
        (np.ones((11, 11)), [f"x{i}" for i in range(11)], "at most 10"),
    ],
)
def test_ahp_rejects_malformed(matrix: object, names: list[str], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        scoring.ahp_weights(matrix, names)  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# ScoringMethod and score

FULL_TOML = """
[scoring]
aggregation = "inform"

[scoring.indicators]
h = { method = "minmax", lower = 0, upper = 1, role = "hazard" }
e = { method = "minmax", lower = 0, upper = 1, role = "exposure" }
v = { method = "breakpoints", breaks = [0, 1], role = "vulnerability" }
c = { method = "minmax", lower = 0, upper = 1, role = "capacity" }

[scoring.classes]
method = "thresholds"
k = 3
thresholds = [0.3, 0.52]
"""


def test_score_inform_hand_computed() -> None:
    import tomllib

    method = scoring.ScoringMethod.from_dict(tomllib.loads(FULL_TOML)["scoring"])
    t = pd.DataFrame(
        {"h": [1.0, 0.8], "e": [0.25, 0.2], "v": [0.5, 0.5], "c": [0.5, 0.2]},
        index=["451002", "451022"],
    )
    r = scoring.score(t, method)
    # as in test_inform_risk: 0.5 and cbrt(0.16) = 0.543
    assert r.table["risk_score"].tolist() == pytest.approx([0.5, 0.16 ** (1 / 3)])
    assert r.table["risk_class"].tolist() == [2, 3]
    assert r.table.index.tolist() == ["451002", "451022"]
    assert r.method["aggregation"] == "inform"
    assert r.method["class_bins"] == [0.3, 0.52]  # the top level is open
    assert r.classification.bins == (0.3, 0.52, math.inf)
    assert r.method["ahp"] is None


def test_score_geometric_with_ahp_record() -> None:
    method = scoring.ScoringMethod.from_dict(
        {
            "indicators": {"a": {}, "b": {"invert": True}},
            "ahp": {"indicators": ["b", "a"], "matrix": [[1, "1/3"], [3, 1]]},
            "aggregation": "geometric",
            "classes": {"method": "equal_interval", "k": 2},
        }
    )
    t = pd.DataFrame({"a": [0.0, 10.0, 5.0], "b": [4.0, 0.0, 2.0]})
    r = scoring.score(t, method)
    # a -> 0, 1, 0.5; b inverted -> 0, 1, 0.5; weights a 0.75, b 0.25
    assert r.table["risk_score"].tolist() == pytest.approx([0.0, 1.0, 0.5])
    assert r.method["weights_used"] == pytest.approx({"a": 0.75, "b": 0.25})
    assert r.method["ahp"]["cr"] == pytest.approx(0.0)
    assert r.normalized["b"].tolist() == [0.0, 1.0, 0.5]


def test_method_round_trips_through_to_dict() -> None:
    import json
    import tomllib

    method = scoring.ScoringMethod.from_dict(tomllib.loads(FULL_TOML)["scoring"])
    record = json.loads(json.dumps(method.to_dict()))
    assert scoring.ScoringMethod.from_dict(record) == method


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"indicators": {"a": {}}, "weigths": {"a": 1}}, "weigths: Extra inputs"),
        ({"indicators": {"a": {"method": "log"}}}, "indicators.a.method"),
        ({"indicators": {"a": {"breaks": [0, 1]}}}, "do not apply to method 'minmax'"),
        (
            {
                "indicators": {"a": {}},
                "weights": {"a": 1},
                "ahp": {"indicators": ["a"], "matrix": [[1]]},
            },
            "either 'weights' or 'ahp'",
        ),
        ({"indicators": {"a": {}}, "weights": {"b": 1}}, "unknown \\['b'\\]"),
        ({"indicators": {"a": {}}, "aggregation": "inform"}, "needs a role"),
        (
            {"indicators": {"a": {}}, "classes": {"method": "thresholds", "k": 3}},
            "needs 2 thresholds",
        ),
        (
            {
                "indicators": {name: {} for name in ["c1", "c2", "c3", "c4"]},
                "ahp": {"indicators": ["c1", "c2", "c3", "c4"], "matrix": OPTICS},
            },
            r"scoring\.ahp\.matrix is too inconsistent: consistency ratio CR = 0\.145",
        ),
        (
            {
                "indicators": {
                    "h": {"role": "hazard"},
                    "e": {"role": "exposure"},
                    "v": {"role": "vulnerability"},
                    "c": {"role": "capacity"},
                },
                "aggregation": "inform",
                "weights": {"h": 1, "e": 1, "v": 1, "c": 0},
            },
            r"roles \['capacity'\] have only zero weights",
        ),
    ],
)
def test_method_rejects(data: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=r"\[scoring\] is invalid: .*" + match):
        scoring.ScoringMethod.from_dict(data)


def test_score_missing_column() -> None:
    method = scoring.ScoringMethod.from_dict({"indicators": {"a": {}, "b": {}}})
    with pytest.raises(FieldError, match=r"lacks indicator columns \['b'\]"):
        scoring.score(pd.DataFrame({"a": [1.0]}), method)


# --------------------------------------------------------------------------
# sensitivity

SENS_METHOD = scoring.ScoringMethod.from_dict(
    {
        "indicators": {"a": {}, "b": {}, "c": {}},
        "weights": {"a": 1, "b": 1, "c": 1},
        "classes": {"method": "quantile", "k": 5},
    }
)


def sens_table() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    t = pd.DataFrame(rng.random((20, 3)), columns=["a", "b", "c"])
    t.index = [f"unit{i:02d}" for i in range(20)]
    # unit00 is far above every other unit on every indicator
    t.loc["unit00"] = [10.0, 10.0, 10.0]
    return t


def test_sensitivity_deterministic_and_plausible() -> None:
    t = sens_table()
    s1 = scoring.sensitivity(t, SENS_METHOD, n=100, seed=3, sobol_samples=64)
    s2 = scoring.sensitivity(t, SENS_METHOD, n=100, seed=3, sobol_samples=64)
    pd.testing.assert_frame_equal(s1.units, s2.units)
    pd.testing.assert_frame_equal(s1.sobol, s2.sobol)
    top = s1.units.loc["unit00"]
    assert top["top_class_share"] == 1.0
    assert top["class_stability"] == 1.0
    assert top["mean_rank"] == 1.0
    assert top["std_rank"] == 0.0
    assert s1.units["top_class_share"].between(0, 1).all()
    assert s1.units.index.equals(t.index)
    other = scoring.sensitivity(t, SENS_METHOD, n=100, seed=4, sobol_samples=64)
    assert not other.units.equals(s1.units)


def test_sensitivity_over_normalisations() -> None:
    t = sens_table()
    s = scoring.sensitivity(
        t, SENS_METHOD, n=60, normalisations=["rank", "zscore"], sobol_samples=64
    )
    assert s.settings["normalisations"] == ["rank", "zscore"]
    assert s.units.loc["unit00", "top_class_share"] == 1.0


def test_sobol_finds_the_weight_that_matters() -> None:
    # c is the same everywhere, so its weight cannot change the ranking;
    # the ranking hinges on the balance of a (ascending) and b (descending)
    t = pd.DataFrame(
        {"a": np.arange(10.0), "b": np.arange(10.0)[::-1] ** 1.5, "c": 1.0}
    )
    s = scoring.sensitivity(t, SENS_METHOD, n=20, sobol_samples=128)
    assert s.most_influential in ("a", "b")
    total = s.sobol["ST"]
    assert total["c"] < 0.05
    assert total[s.most_influential] > 0.3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n": 0}, "n must be at least 1"),
        ({"weight_spread": 1.0}, "weight_spread must lie in"),
        ({"normalisations": ["log"]}, r"normalisations \['log'\] are unknown"),
        ({"normalisations": ["breakpoints"]}, "need parameters"),
        ({"sobol_samples": 100}, "power of two"),
    ],
)
def test_sensitivity_rejects(kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        scoring.sensitivity(sens_table(), SENS_METHOD, **kwargs)


# --------------------------------------------------------------------------
# validation against events


def test_validate_hand_computed() -> None:
    v = pd.DataFrame({"h_flood": [0.9, 0.8, 0.5, 0.1]}, index=list("wxyz"))
    c = pd.DataFrame({"h_flood": [5, 4, 3, 1]}, index=list("wxyz"))
    out = scoring.validate_against_events(v, c, {"h_flood": ["w", "y", "y"]})
    row = out.loc["h_flood"]
    # events in w (0.9) and y (0.5) against x (0.8) and z (0.1): of the four
    # pairs, 0.9 > 0.8, 0.9 > 0.1 and 0.5 > 0.1 win, 0.5 < 0.8 loses
    assert row["auc"] == pytest.approx(0.75)
    # one of three events lies in levels 4-5
    assert row["share_top2"] == pytest.approx(1 / 3)
    assert (row["n_cells"], row["n_event_cells"], row["n_events"]) == (4, 2, 3)


def test_validate_perfect_and_random() -> None:
    rng = np.random.default_rng(11)
    n = 4000
    values = rng.random(n)
    hit = values > 0.9
    v = pd.DataFrame({"h_fire": values, "h_flood": values})
    c = pd.DataFrame(
        {col: scoring.classify(v[col], "quantile").classes for col in v.columns}
    )
    mask = pd.DataFrame({"h_fire": hit, "h_flood": rng.random(n) < 0.1})
    out = scoring.validate_against_events(v, c, mask)
    assert out.loc["h_fire", "auc"] == 1.0
    assert out.loc["h_fire", "share_top2"] == 1.0
    assert out.loc["h_flood", "auc"] == pytest.approx(0.5, abs=0.05)
    assert out.loc["h_flood", "share_top2"] == pytest.approx(0.4, abs=0.05)


def test_validate_mask_equals_ids_and_skips_nan() -> None:
    v = pd.DataFrame({"h_geological": [0.2, np.nan, 0.7, 0.4]})
    c = pd.DataFrame({"h_geological": pd.array([1, pd.NA, 5, 2], dtype="Int64")})
    by_ids = scoring.validate_against_events(v, c, {"h_geological": [2, 1]})
    mask = pd.DataFrame({"h_geological": [False, True, True, False]})
    by_mask = scoring.validate_against_events(v, c, mask)
    # the event in the cell without a value is not counted
    assert by_ids.loc["h_geological", "n_events"] == 1
    pd.testing.assert_frame_equal(by_ids, by_mask)
    assert by_ids.loc["h_geological", "auc"] == 1.0


def test_validate_rejects_unknown_cell() -> None:
    v = pd.DataFrame({"h_flood": [0.1, 0.2]})
    with pytest.raises(FieldError, match=r"not rows of index_values, e.g. \[7\]"):
        scoring.validate_against_events(v, v, {"h_flood": [7]})


# --------------------------------------------------------------------------
# natural breaks


@pytest.mark.parametrize("seed", range(8))
def test_natural_breaks_equal_mapclassify(seed: int) -> None:
    import warnings

    import mapclassify

    rng = np.random.default_rng(seed)
    x = np.round(rng.gamma(2.0, size=int(rng.integers(10, 150))), 2)
    k = int(rng.integers(2, 7))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Numba not installed")
        expected = mapclassify.FisherJenks(x, k=k)
    c = scoring.classify(x, "natural_breaks", k=k)
    assert c.bins == pytest.approx(expected.bins.tolist())
    assert (c.classes.to_numpy(dtype=int) - 1).tolist() == expected.yb.tolist()


def test_natural_breaks_large_input_is_fast_and_deterministic() -> None:
    # three clear clusters among 60,000 values
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.normal(m, 0.01, 20_000) for m in (0.1, 0.5, 0.9)])
    first = scoring.classify(x, "natural_breaks", k=3)
    again = scoring.classify(x[::-1], "natural_breaks", k=3)
    assert first.bins == again.bins
    counts = first.classes.value_counts().sort_index().tolist()
    assert counts == [20_000, 20_000, 20_000]


def test_combine_hazards_matches_risk_index_hazard() -> None:
    h = scoring.combine_hazards(HZ, {"h_flood": 3, "h_fire": 1})
    assert h.name == "hazard"
    assert h.tolist() == pytest.approx([0.65, 0.2])
    assert h.attrs["hazard_weights"] == {"h_flood": 0.75, "h_fire": 0.25}
    ones = pd.Series(1.0, index=HZ.index)
    via_risk = scoring.risk_index(
        HZ, ones, hazard_weights={"h_flood": 3, "h_fire": 1}, method="product"
    )
    assert via_risk.tolist() == pytest.approx(h.tolist())
    # a hazard with weight 0 is ignored by "max"
    top = scoring.combine_hazards(HZ, {"h_flood": 0, "h_fire": 1}, "max")
    assert top.tolist() == [0.2, 0.2]


# --------------------------------------------------------------------------
# more invariants

finite = st.floats(-1e6, 1e6, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(
    x=st.lists(st.one_of(finite, st.just(math.nan)), min_size=1, max_size=30),
    method=st.sampled_from(["minmax", "rank", "zscore"]),
)
def test_normalize_in_unit_interval_and_order_preserving(
    x: list[float], method: str
) -> None:
    out = scoring.normalize(x, method).to_numpy()  # type: ignore[arg-type]
    arr = np.array(x)
    assert np.array_equal(np.isnan(out), np.isnan(arr))
    known = ~np.isnan(arr)
    vals, scores = arr[known], out[known]
    assert ((scores >= 0) & (scores <= 1)).all()
    order = np.argsort(vals, kind="stable")
    assert (np.diff(scores[order]) >= -1e-12).all()


@settings(max_examples=40, deadline=None)
@given(
    x=st.lists(st.floats(0, 1), min_size=1, max_size=40),
    method=st.sampled_from(["natural_breaks", "quantile", "equal_interval"]),
)
def test_classify_never_ranks_a_higher_value_lower(x: list[float], method: str) -> None:
    c = scoring.classify(x, method).classes.to_numpy(dtype=int)  # type: ignore[arg-type]
    order = np.argsort(x, kind="stable")
    assert (np.diff(c[order]) >= 0).all()
    assert c.min() >= 1 and c.max() <= 5


@settings(max_examples=30, deadline=None)
@given(
    data=st.lists(st.tuples(finite, finite), min_size=2, max_size=15),
    seed=st.integers(0, 99),
    norm=st.sampled_from(["minmax", "rank", "zscore"]),
)
def test_score_row_order_changes_nothing(
    data: list[tuple[float, float]], seed: int, norm: str
) -> None:
    method = scoring.ScoringMethod.from_dict(
        {
            "indicators": {"a": {"method": norm}, "b": {"method": norm}},
            "weights": {"a": 2, "b": 1},
            "classes": {"k": 3},
        }
    )
    t = pd.DataFrame(data, columns=["a", "b"])
    order = np.random.default_rng(seed).permutation(len(t))
    base = scoring.score(t, method).table
    shuffled = scoring.score(t.iloc[order], method).table.sort_index()
    pd.testing.assert_frame_equal(shuffled, base, check_exact=False, atol=1e-12)


def test_method_record_is_strict_json() -> None:
    import json

    method = scoring.ScoringMethod.from_dict(
        {
            "indicators": {"a": {}, "b": {"method": "rank"}},
            "ahp": {"indicators": ["a", "b"], "matrix": [[1, 2], ["1/2", 1]]},
            "classes": {"method": "thresholds", "k": 2, "thresholds": [0.5]},
        }
    )
    t = pd.DataFrame({"a": [0.1, 0.9, 0.4], "b": [3.0, 1.0, 2.0]})
    record = scoring.score(t, method).method
    back = json.loads(json.dumps(record, allow_nan=False))
    assert back["weights_used"] == pytest.approx({"a": 2 / 3, "b": 1 / 3})
    assert back["class_bins"] == [0.5]
    assert back["ahp"]["cr"] == pytest.approx(0.0)
