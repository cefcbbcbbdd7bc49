"""The validated description of a scoring method (private; see scoring)."""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from riskmap._scoring_ahp import AHPResult, MatrixEntry, ahp
from riskmap._scoring_checks import normalise_weights
from riskmap._scoring_norm import PARAMS
from riskmap.errors import ConfigError

NormMethod = Literal["minmax", "rank", "zscore", "breakpoints"]
ClassMethod = Literal["natural_breaks", "quantile", "equal_interval", "thresholds"]
Role = Literal["hazard", "exposure", "vulnerability", "capacity"]
ROLES: tuple[str, ...] = get_args(Role)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IndicatorSpec(_Strict):
    """How one indicator column is normalised, and its role."""

    method: NormMethod = "minmax"
    invert: bool = False
    role: Role | None = None
    lower: float | None = None
    upper: float | None = None
    mean: float | None = None
    std: float | None = Field(None, ge=0)
    breaks: list[float] | None = None
    scores: list[float] | None = None
    mode: Literal["linear", "step"] | None = None

    @model_validator(mode="after")
    def _params_fit_method(self) -> IndicatorSpec:
        allowed = PARAMS[self.method]
        stray = [
            p
            for p in ("lower", "upper", "mean", "std", "breaks", "scores", "mode")
            if getattr(self, p) is not None and p not in allowed
        ]
        if stray:
            raise ValueError(
                f"parameters {stray} do not apply to method {self.method!r}; "
                f"it takes {list(allowed) or 'none'}"
            )
        if self.method == "breakpoints" and not self.breaks:
            raise ValueError("method 'breakpoints' needs 'breaks'")
        return self

    def params(self) -> dict[str, Any]:
        """The normalisation parameters that are set."""
        return {
            p: getattr(self, p)
            for p in PARAMS[self.method]
            if getattr(self, p) is not None
        }


class AHPSpec(_Strict):
    """An AHP pairwise comparison matrix over named indicators."""

    indicators: list[str]
    matrix: list[list[MatrixEntry]]


class ClassSpec(_Strict):
    """How scores are cut into levels."""

    method: ClassMethod = "natural_breaks"
    k: int = Field(5, ge=2, le=9)
    thresholds: list[float] | None = None

    @model_validator(mode="after")
    def _thresholds_fit(self) -> ClassSpec:
        if self.method == "thresholds":
            if self.thresholds is None or len(self.thresholds) != self.k - 1:
                raise ValueError(
                    f"method 'thresholds' with k={self.k} needs {self.k - 1} thresholds"
                )
        elif self.thresholds is not None:
            raise ValueError("thresholds are only used with method 'thresholds'")
        return self


class ScoringMethod(_Strict):
    """The whole scoring method: normalisation, weights, aggregation, levels.

    Build it from the ``[scoring]`` table of a configuration with
    :meth:`from_dict`, which turns every problem into a
    :class:`~riskmap.errors.ConfigError`. See the :mod:`riskmap.scoring`
    module docstring for the TOML shape.
    """

    indicators: dict[str, IndicatorSpec] = Field(min_length=1)
    weights: dict[str, float] | None = None
    ahp: AHPSpec | None = None
    aggregation: Literal["arithmetic", "geometric", "inform"] = "arithmetic"
    epsilon: float = Field(0.0, ge=0, lt=1)
    classes: ClassSpec = Field(default_factory=lambda: ClassSpec.model_validate({}))

    @model_validator(mode="after")
    def _consistent(self) -> ScoringMethod:
        names = list(self.indicators)
        if self.weights is not None and self.ahp is not None:
            raise ValueError("give either 'weights' or 'ahp', not both")
        if self.weights is not None:
            normalise_weights(self.weights, names, "weights")
        if self.ahp is not None:
            if sorted(self.ahp.indicators) != sorted(names):
                raise ValueError(
                    f"ahp.indicators {self.ahp.indicators} must list every "
                    f"indicator {names} once"
                )
            ahp(self.ahp.matrix, self.ahp.indicators, label="scoring.ahp.matrix")
        if self.aggregation == "inform":
            roles = {n: s.role for n, s in self.indicators.items()}
            missing = [r for r in ROLES if r not in roles.values()]
            if None in roles.values() or missing:
                raise ValueError(
                    "aggregation 'inform' needs a role on every indicator and "
                    f"at least one indicator per role {list(ROLES)}; roles "
                    f"given: {roles}"
                )
            weights, _ = self.resolved_weights()
            empty = [
                r for r in ROLES if sum(weights[n] for n in roles if roles[n] == r) <= 0
            ]
            if empty:
                raise ValueError(f"roles {empty} have only zero weights")
        return self

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScoringMethod:
        """Validate a ``[scoring]`` table; raise ConfigError if it is wrong.

        Examples
        --------
        >>> m = ScoringMethod.from_dict({"indicators": {"h_flood": {}}})
        >>> m.aggregation, m.classes.k
        ('arithmetic', 5)
        >>> ScoringMethod.from_dict({"indicators": {"a": {}}, "wieghts": {}})
        Traceback (most recent call last):
        ...
        riskmap.errors.ConfigError: [scoring] is invalid: wieghts: Extra inputs are not permitted. Fix: correct these keys (see riskmap.scoring for the shape)
        """  # noqa: E501
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            problems = "; ".join(
                ".".join(str(p) for p in e["loc"]) + ": " + e["msg"]
                if e["loc"]
                else e["msg"]
                for e in err.errors()
            )
            problems = problems.replace("Value error, ", "")
            raise ConfigError(
                f"[scoring] is invalid: {problems}. Fix: correct these keys (see "
                "riskmap.scoring for the shape)"
            ) from None

    def to_dict(self) -> dict[str, Any]:
        """The method as plain data, fit for JSON, TOML and :meth:`from_dict`."""
        return self.model_dump(mode="json", exclude_none=True)

    def resolved_weights(self) -> tuple[dict[str, float], AHPResult | None]:
        """Weights summing to 1 (equal when none are given), and the AHP run."""
        names = list(self.indicators)
        if self.ahp is not None:
            result = ahp(
                self.ahp.matrix, self.ahp.indicators, label="scoring.ahp.matrix"
            )
            return {n: result.weights[n] for n in names}, result
        given = self.weights if self.weights is not None else dict.fromkeys(names, 1)
        return normalise_weights(given, names, "weights"), None
