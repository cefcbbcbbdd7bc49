"""Configuration of a riskmap run: a validated, typed object read from TOML.

The default configuration for Baise ships with the package
(``riskmap/default_config.toml``); ``riskmap config init FILE`` copies it
for editing. Unknown keys are rejected, so a misspelt option is an error
rather than a silent default.

Examples
--------
>>> cfg = load_config()
>>> cfg.run.cell_size_m
1000.0
>>> cfg.standards.helicopter_target_min
120.0
>>> Config.model_validate({"run": {"cell_size": 500}})
Traceback (most recent call last):
...
pydantic_core._pydantic_core.ValidationError: 1 validation error for Config
run.cell_size
  Extra inputs are not permitted ...
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from riskmap.errors import ConfigError

__all__ = [
    "DEFAULT_CONFIG",
    "Config",
    "default_config_text",
    "load_config",
]

DEFAULT_CONFIG = "default_config.toml"
Datum = Literal["wgs84", "gcj02", "bd09"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class RunSection(_Strict):
    """Where the run reads and writes, and its analysis grid."""

    name: str = "baise"
    title: str = "百色市 Baise City"
    out_dir: str = "outputs/baise"
    data_dir: str = "default"
    analysis_crs: str = "auto"
    cell_size_m: float = Field(1000.0, gt=0)


class LayerSpec(_Strict):
    """One input layer: a file, optionally a layer inside it, and its fields."""

    path: str
    layer: str | None = None
    crs: str | None = None
    datum: Datum = "wgs84"
    encoding: str | None = None
    id_field: str | None = None
    name_field: str | None = None
    name_en_field: str | None = None
    value_field: str | None = None
    class_field: str | None = None
    speed_field: str | None = None
    oneway_field: str | None = None
    x_field: str = "lon"
    y_field: str = "lat"

    @field_validator("datum", mode="before")
    @classmethod
    def _datum_alias(cls, value: Any) -> Any:
        aliases = {
            "wgs-84": "wgs84",
            "gcj-02": "gcj02",
            "amap": "gcj02",
            "tencent": "gcj02",
            "bd-09": "bd09",
            "baidu": "bd09",
        }
        if isinstance(value, str):
            key = value.strip().lower()
            return aliases.get(key, key)
        return value


class Layers(_Strict):
    """Every input layer of a run; the first four are required."""

    counties: LayerSpec
    population: LayerSpec
    dem: LayerSpec
    roads: LayerSpec
    facilities: LayerSpec
    places: LayerSpec | None = None
    landcover: LayerSpec | None = None
    rivers: LayerSpec | None = None
    earthquakes: LayerSpec | None = None
    faults: LayerSpec | None = None
    population_raster: LayerSpec | None = None


class FloodModel(_Strict):
    hand_scale_m: float = Field(20.0, gt=0)
    river_distance_scale_km: float = Field(3.0, gt=0)
    ponding_depth_scale_m: float = Field(15.0, gt=0)
    ponding_min_depth_m: float = Field(2.0, ge=0)


class GeologicalModel(_Strict):
    slope_full_deg: float = Field(30.0, gt=0)
    relief_window_cells: int = Field(5, ge=3)
    relief_full_m: float = Field(500.0, gt=0)
    slope_weight: float = Field(0.6, ge=0, le=1)


class FireModel(_Strict):
    slope_full_deg: float = Field(35.0, gt=0)
    ignition_distance_scale_km: float = Field(5.0, gt=0)
    fuel_weight: float = Field(0.6, ge=0)
    slope_weight: float = Field(0.15, ge=0)
    ignition_weight: float = Field(0.25, ge=0)


class EarthquakeModel(_Strict):
    c0: float = 3.7
    c1: float = 1.5
    c2: float = Field(1.5, gt=0)
    r0_km: float = Field(10.0, ge=0)
    intensity_zero: float = 5.0
    intensity_full: float = 9.0
    fault_distance_scale_km: float = Field(10.0, gt=0)
    fault_weight: float = Field(0.5, ge=0, le=1)


class HazardModels(_Strict):
    flood: FloodModel = FloodModel()
    geological: GeologicalModel = GeologicalModel()
    fire: FireModel = FireModel()
    earthquake: EarthquakeModel = EarthquakeModel()


class PopulationModel(_Strict):
    """How population reaches the grid (see :mod:`riskmap.population`).

    With ``[layers.population_raster]`` (WorldPop, GHS-POP: people per
    pixel), each cell takes the sum of the pixels it covers; with
    ``scale_to_census`` those sums are rescaled so every county matches its
    census count. Without a raster the dasymetric weights below are used.
    """

    scale_to_census: bool = True
    settlement_distance_scale_km: float = Field(4.0, gt=0)
    settlement_weight: float = Field(4.0, ge=0)
    steep_slope_deg: float = Field(25.0, gt=0)
    steep_slope_factor: float = Field(0.3, ge=0, le=1)


class HazardAHP(_Strict):
    """Hazard weights derived by AHP from a pairwise comparison matrix."""

    hazards: list[str]
    matrix: list[list[float | str]]


class Indicator(_Strict):
    """A vulnerability or coping-capacity indicator from a table by unit code.

    ``invert = true`` for indicators where more is better (a capacity, such
    as hospital beds per 1,000 people): they lower vulnerability.
    """

    name: str
    path: str
    id_field: str = "adcode"
    field: str
    method: Literal["minmax", "rank", "zscore"] = "minmax"
    invert: bool = False
    weight: float = Field(1.0, gt=0)


class RiskSection(_Strict):
    hazard_weights: dict[str, float] = {
        "flood": 0.3,
        "geological": 0.3,
        "fire": 0.15,
        "earthquake": 0.25,
    }
    hazard_ahp: HazardAHP | None = None
    hazard_combination: Literal["weighted_arithmetic", "max"] = "weighted_arithmetic"
    exposure_method: Literal["log", "minmax"] = "log"
    aggregation: Literal["geometric", "product", "arithmetic"] = "geometric"
    vulnerability: float = Field(1.0, ge=0, le=1)
    vulnerability_indicators: list[Indicator] = []
    vulnerability_floor: float = Field(0.5, ge=0, lt=1)
    classification: Literal[
        "natural_breaks", "quantile", "equal_interval", "thresholds"
    ] = "natural_breaks"
    thresholds: list[float] | None = None
    classes: int = Field(5, ge=2, le=9)
    county_aggregation: Literal["pop_weighted_mean", "area_weighted_mean"] = (
        "pop_weighted_mean"
    )
    high_risk_class: int = Field(4, ge=1)

    @field_validator("hazard_weights")
    @classmethod
    def _weights(cls, value: dict[str, float]) -> dict[str, float]:
        if any(w < 0 for w in value.values()) or sum(value.values()) <= 0:
            raise ValueError("weights must be non-negative and not all zero")
        return value


class NetworkSection(_Strict):
    access_speed_kmh: float = Field(15.0, gt=0)
    max_snap_m: float = Field(60000.0, gt=0)
    join_tolerance_m: float = Field(50.0, ge=0)
    direct_max_m: float = Field(5000.0, ge=0)
    slope_factor: bool = True
    speeds_kmh: dict[str, float] = {
        "expressway": 100.0,
        "motorway": 100.0,
        "national": 70.0,
        "trunk": 70.0,
        "provincial": 60.0,
        "primary": 60.0,
        "county": 45.0,
        "secondary": 45.0,
        "township": 35.0,
        "tertiary": 35.0,
        "major": 60.0,
        "other": 25.0,
    }


class Standards(_Strict):
    shelter_reach_min: float = Field(60.0, gt=0)
    relief_initial_h: float = Field(10.0, gt=0)
    relief_basic_h: float = Field(24.0, gt=0)
    relief_handling_h: float = Field(1.0, ge=0)
    helicopter_target_min: float = Field(120.0, gt=0)
    helicopter_dispatch_min: float = Field(30.0, ge=0)
    helicopter_cruise_kmh: float = Field(254.0, gt=0)
    helicopter_range_km: float | None = Field(635.0, gt=0)
    shelter_m2_per_person: float = Field(2.0, gt=0)
    sheltered_share: float = Field(0.15, gt=0, le=1)
    shelter_reach_target_share: float = Field(0.8, ge=0, le=1)
    relief_target_share: float = Field(1.0, ge=0, le=1)
    helicopter_target_share: float = Field(1.0, ge=0, le=1)


class HazardLayer(_Strict):
    """One hazard from a planner's layer (see :mod:`riskmap.hazard_layers`)."""

    hazard: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: Literal["zones", "raster", "points"]
    path: str
    layer: str | None = None
    crs: str | None = None
    datum: Literal["wgs84", "gcj02", "bd09"] = "wgs84"
    field: str | None = None
    levels: dict[str, float] = {}
    outside: float = Field(0.0, ge=0, le=1)
    lower: float | None = None
    upper: float | None = None
    method: Literal["decay", "density"] = "decay"
    scale_km: float = Field(5.0, gt=0)
    weight: float = Field(0.0, ge=0)


class NeedsSection(_Strict):
    """Displacement and minimum needs (see :mod:`riskmap.needs`)."""

    displacement_rates: dict[int, float] = {5: 0.10, 4: 0.05, 3: 0.02, 2: 0.005, 1: 0.0}
    hours: float = Field(24.0, gt=0)
    water_l: float = Field(15.0, ge=0)
    food_kcal: float = Field(2100.0, ge=0)
    shelter_m2: float = Field(3.5, ge=0)


class RoadCutScenario(_Strict):
    """Roads closed or slowed where flood or geological hazard is high."""

    enabled: bool = True
    hazards: list[Literal["flood", "geological", "fire", "earthquake"]] = [
        "flood",
        "geological",
    ]
    threshold: float = Field(0.6, gt=0, le=1)
    mode: Literal["close", "slow"] = "close"
    slow_factor: float = Field(3.0, ge=1)


class ScenarioSection(_Strict):
    road_cut: RoadCutScenario = RoadCutScenario()


class MapsSection(_Strict):
    """Options of the interactive and static maps."""

    tiles: str | None = None
    attribution: str | None = None
    dpi: int = Field(150, ge=50, le=600)
    pdf: bool = False
    progress: bool = True


class Config(_Strict):
    """A whole run configuration (see ``riskmap/default_config.toml``)."""

    run: RunSection = RunSection()
    layers: Layers | None = None
    hazards: HazardModels = HazardModels()
    population: PopulationModel = PopulationModel()
    risk: RiskSection = RiskSection()
    network: NetworkSection = NetworkSection()
    standards: Standards = Standards()
    hazard_layers: list[HazardLayer] = []
    needs: NeedsSection = NeedsSection()
    scenarios: ScenarioSection = ScenarioSection()
    maps: MapsSection = MapsSection()
    source: str | None = None

    def data_path(self, relative: str) -> Path:
        """Resolve a layer path against the run's data folder."""
        path = Path(relative).expanduser()
        if path.is_absolute():
            return path
        return resolve_data_dir(self) / path

    def out_path(self, out_dir: str | Path | None = None) -> Path:
        """The output folder: ``out_dir`` if given, else the configured one."""
        return Path(out_dir if out_dir is not None else self.run.out_dir)


def default_data_dir() -> Path:
    """The dataset folder that ships next to the package (``data/``)."""
    return Path(__file__).resolve().parents[1] / "data"


def resolve_data_dir(cfg: Config) -> Path:
    """Return the absolute data folder of ``cfg``."""
    if cfg.run.data_dir == "default":
        return default_data_dir()
    path = Path(cfg.run.data_dir).expanduser()
    if not path.is_absolute() and cfg.source:
        path = Path(cfg.source).parent / path
    return path


def default_config_text() -> str:
    """Return the text of the default Baise configuration."""
    return resources.files("riskmap").joinpath(DEFAULT_CONFIG).read_text("utf-8")


#: The four hazard families every run models.
BASE_HAZARDS = ("flood", "geological", "fire", "earthquake")


def hazard_names(cfg: Config) -> list[str]:
    """The four base hazards, then any further ones from ``hazard_layers``."""
    extra = [h.hazard for h in cfg.hazard_layers if h.hazard not in BASE_HAZARDS]
    return [*BASE_HAZARDS, *dict.fromkeys(extra)]


def _check_hazard_names(cfg: Config, source: str) -> None:
    names = hazard_names(cfg)
    for spec in cfg.hazard_layers:
        if spec.hazard not in cfg.risk.hazard_weights and spec.weight > 0:
            cfg.risk.hazard_weights = cfg.risk.hazard_weights | {
                spec.hazard: spec.weight
            }
    unknown = sorted(set(cfg.risk.hazard_weights) - set(names))
    if unknown:
        raise ConfigError(
            f"{source}: risk.hazard_weights names unknown hazards {unknown}; "
            f"known: {names}. Add a [[hazard_layers]] entry for a new hazard"
        )


def load_config(path: str | Path | None = None) -> Config:
    """Read and validate a configuration file.

    Parameters
    ----------
    path : str or Path, optional
        A TOML file. Without it, the default Baise configuration is used.

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        If the file is missing, is not valid TOML, or fails validation; the
        message names the file and every offending key.
    """
    if path is None:
        text, source = default_config_text(), None
    else:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(
                f"configuration file {p} does not exist; create one with "
                f"'riskmap config init {p}'"
            )
        text, source = p.read_text("utf-8"), str(p.resolve())
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{source or DEFAULT_CONFIG} is not valid TOML: {exc}"
        ) from exc
    try:
        cfg = Config.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(
            f"{source or DEFAULT_CONFIG}: invalid configuration: {problems}. "
            "Compare with 'riskmap config init' for the accepted keys"
        ) from exc
    cfg.source = source
    if cfg.risk.hazard_ahp is not None:
        from riskmap.scoring import ahp_weights

        ahp = cfg.risk.hazard_ahp
        result = ahp_weights(ahp.matrix, ahp.hazards, label="risk.hazard_ahp.matrix")
        cfg.risk.hazard_weights = dict(result.weights)
    _check_hazard_names(cfg, source or DEFAULT_CONFIG)
    if cfg.layers is None:
        raise ConfigError(
            f"{source or DEFAULT_CONFIG}: no [layers] section; every run needs "
            "at least counties, population, dem, roads and facilities"
        )
    return cfg
