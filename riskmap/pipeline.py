"""The main job: from layers to risk, reach, maps and a report.

:func:`run` is what ``riskmap run`` calls. It reads like the list of steps
in the README: load and check the layers, build the grid, model the four
hazards, spread the population, score risk, measure road and helicopter
reach, check the plan's targets, then write every output.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from rasterio.enums import Resampling
from scipy.spatial import cKDTree
from tqdm.auto import tqdm

from riskmap import hazards as hz
from riskmap import population as popmod
from riskmap import scoring
from riskmap._io import remove_stale_temps
from riskmap.config import Config, LayerSpec, hazard_names
from riskmap.errors import FieldError, LayerError
from riskmap.grid import Grid, build_grid, choose_analysis_crs
from riskmap.hazard_layers import hazard_from_layer
from riskmap.layers import Finding, read_points_csv, read_vector, validate_layer
from riskmap.layers import area_m2 as geodesic_area_m2
from riskmap.needs import displaced_population, supply_needs
from riskmap.network import RoadNetwork, read_osm_roads
from riskmap.reachability import (
    disrupt,
    helicopter_time,
    nearest_facility,
    relief_time,
)
from riskmap.results import COUNTY_COLUMNS, RunResult, write_results

__all__ = [
    "HAZARDS",
    "Inputs",
    "analyse",
    "build_network",
    "load_inputs",
    "measure_reach",
    "run",
    "score_cells",
    "validate_inputs",
]

log = logging.getLogger(__name__)

#: Upper bounds of hazard levels 1-4 (level 5 above), for unit summaries.
HAZARD_LEVELS = [0.2, 0.4, 0.6, 0.8]

#: The four hazard families of the plan, in report order.
HAZARDS = ("flood", "geological", "fire", "earthquake")
SHELTER_KINDS = ("shelter",)
DEPOT_KINDS = ("depot", "reserve_centre")
HELI_KINDS = ("heli_base",)


@dataclass
class Inputs:
    """Every layer of a run, loaded, checked and in EPSG:4326."""

    counties: gpd.GeoDataFrame
    population: pd.DataFrame
    roads: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    dem: Path
    places: gpd.GeoDataFrame | None = None
    landcover: Path | None = None
    population_raster: Path | None = None
    rivers: gpd.GeoDataFrame | None = None
    earthquakes: pd.DataFrame | None = None
    faults: gpd.GeoDataFrame | None = None
    hazard_layers: dict[str, gpd.GeoDataFrame | None] = field(default_factory=dict)


class _Steps:
    """Progress over the named steps of a run (a bar when asked for)."""

    def __init__(self, names: list[str], show: bool) -> None:
        self.bar = tqdm(total=len(names), disable=not show, unit="step", leave=False)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        self.bar.set_description(name)
        log.info("%s ...", name)
        yield
        self.bar.update()

    def close(self) -> None:
        self.bar.close()


def _read_layer(cfg: Config, spec: LayerSpec, name: str, **kw: Any) -> gpd.GeoDataFrame:
    path = cfg.data_path(spec.path)
    if path.suffix.lower() in {".csv", ".txt"}:
        return read_points_csv(
            path,
            x=spec.x_field,
            y=spec.y_field,
            datum=spec.datum,
            id_field=spec.id_field,
            encoding=spec.encoding,
            name=name,
            **kw,
        )
    return read_vector(
        path,
        layer=spec.layer,
        crs=spec.crs,
        datum=spec.datum,
        id_field=spec.id_field,
        encoding=spec.encoding,
        name=name,
        **kw,
    )


def _read_table(cfg: Config, spec: LayerSpec, name: str) -> pd.DataFrame:
    path = cfg.data_path(spec.path)
    if not path.is_file():
        raise LayerError(
            "the file does not exist",
            path=path,
            layer=name,
            fix="correct the path in the configuration's [layers] section",
        )
    return pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)


def _existing(cfg: Config, spec: LayerSpec | None, name: str) -> Path | None:
    if spec is None:
        return None
    path = cfg.data_path(spec.path)
    if not path.is_file():
        raise LayerError(
            "the file does not exist",
            path=path,
            layer=name,
            fix="correct the path in [layers], or run 'riskmap data build-baise' "
            "for the default data",
        )
    return path


def load_inputs(cfg: Config) -> Inputs:
    """Read and check every layer named in ``cfg``.

    Raises
    ------
    LayerError
        For a layer that cannot be used, naming file, layer, field and fix.
    """
    layers = cfg.layers
    assert layers is not None  # guaranteed by load_config
    cid = layers.counties.id_field or "adcode"
    counties = _read_layer(
        cfg,
        layers.counties,
        "counties",
        required_fields=[cid, layers.counties.name_field or "name"],
    )
    counties = counties.rename(columns={cid: "adcode"})
    counties["adcode"] = counties["adcode"].astype(str)
    if layers.counties.name_field and layers.counties.name_field != "name":
        counties = counties.rename(columns={layers.counties.name_field: "name"})
    en = layers.counties.name_en_field
    counties["name_en"] = counties[en] if en and en in counties else ""

    population = _read_table(cfg, layers.population, "population")
    pid = layers.population.id_field or "adcode"
    pval = layers.population.value_field or "population"
    for col in (pid, pval):
        if col not in population.columns:
            raise FieldError(
                f"no column '{col}' among {list(population.columns)}",
                path=cfg.data_path(layers.population.path),
                layer="population",
                field=col,
                fix="set id_field and value_field of [layers.population]",
            )
    population = pd.DataFrame(
        {
            "adcode": population[pid].astype(str).str.strip(),
            "population": pd.to_numeric(population[pval], errors="coerce"),
        }
    )
    missing = sorted(set(counties["adcode"]) - set(population["adcode"]))
    if missing:
        raise FieldError(
            f"no population for counties {missing}",
            path=cfg.data_path(layers.population.path),
            layer="population",
            field=pid,
            fix="add a row per county code of the counties layer",
        )

    roads_path = cfg.data_path(layers.roads.path)
    if roads_path.name.lower().endswith((".osm", ".osm.pbf", ".pbf")):
        if not roads_path.is_file():
            raise LayerError(
                "the file does not exist",
                path=roads_path,
                layer="roads",
                fix="correct [layers.roads] path",
            )
        roads = read_osm_roads(roads_path)
    else:
        roads = _read_layer(cfg, layers.roads, "roads")
    facilities = _read_layer(
        cfg,
        layers.facilities,
        "facilities",
        required_fields=["kind", "adcode", "level"],
    )
    fid = layers.facilities.id_field
    if fid and fid != "facility_id":
        facilities = facilities.rename(columns={fid: "facility_id"})
    if "facility_id" not in facilities:
        facilities["facility_id"] = [f"F{i}" for i in range(len(facilities))]
    facilities["facility_id"] = facilities["facility_id"].astype(str)
    places = (
        _read_layer(cfg, layers.places, "places") if layers.places is not None else None
    )
    rivers = (
        _read_layer(cfg, layers.rivers, "rivers") if layers.rivers is not None else None
    )
    faults = (
        _read_layer(cfg, layers.faults, "faults") if layers.faults is not None else None
    )
    quakes = None
    if layers.earthquakes is not None:
        quakes = _read_table(cfg, layers.earthquakes, "earthquakes")
        for col in ("lon", "lat", "magnitude"):
            if col not in quakes.columns:
                raise FieldError(
                    f"no column '{col}' among {list(quakes.columns)}",
                    path=cfg.data_path(layers.earthquakes.path),
                    layer="earthquakes",
                    field=col,
                    fix="name the columns lon, lat (WGS-84 degrees) and magnitude",
                )
        for col in ("lon", "lat", "magnitude", "depth_km"):
            if col in quakes:
                quakes[col] = pd.to_numeric(quakes[col], errors="coerce")
        bad = quakes[["lon", "lat", "magnitude"]].isna().any(axis=1)
        if bad.any():
            log.warning(
                "dropped %d earthquake rows without lon/lat/magnitude", bad.sum()
            )
            quakes = quakes[~bad]

    dem = _existing(cfg, layers.dem, "dem")
    assert dem is not None
    own: dict[str, gpd.GeoDataFrame | None] = {}
    for spec in cfg.hazard_layers:
        path = cfg.data_path(spec.path)
        if spec.kind == "raster":
            _existing(cfg, LayerSpec(path=spec.path), f"hazard {spec.hazard}")
            own[spec.hazard] = None
        elif path.suffix.lower() == ".csv":
            own[spec.hazard] = read_points_csv(path, datum=spec.datum, name=spec.hazard)
        else:
            own[spec.hazard] = read_vector(
                path,
                layer=spec.layer,
                crs=spec.crs,
                datum=spec.datum,
                name=spec.hazard,
                required_fields=[spec.field] if spec.field else (),
            )
    return Inputs(
        counties=counties,
        population=population,
        roads=roads,
        facilities=facilities,
        dem=dem,
        places=places,
        landcover=_existing(cfg, layers.landcover, "landcover"),
        population_raster=_existing(cfg, layers.population_raster, "population_raster"),
        rivers=rivers,
        earthquakes=quakes,
        faults=faults,
        hazard_layers=own,
    )


def validate_inputs(cfg: Config) -> list[Finding]:
    """Check every layer of ``cfg`` without running the analysis.

    Returns the findings of every layer (level ``error``, ``warning`` or
    ``fixed``), with one ``error`` per file that is missing or unreadable.
    """
    layers = cfg.layers
    assert layers is not None
    findings: list[Finding] = []
    for name in type(layers).model_fields:
        spec = getattr(layers, name)
        if spec is None:
            continue
        path = cfg.data_path(spec.path)
        if not path.exists():
            findings.append(
                Finding(
                    "error",
                    str(path),
                    name,
                    None,
                    "the file does not exist",
                    f"correct [layers.{name}] path in the configuration",
                )
            )
        elif path.suffix.lower() in {".tif", ".tiff"}:
            findings.extend(validate_layer(path))
        elif name == "population":
            findings.extend(_check_population(cfg, spec, path))
        elif path.suffix.lower() == ".csv":
            findings.extend(
                validate_layer(
                    path, x=spec.x_field, y=spec.y_field, datum=spec.datum, name=name
                )
            )
        else:
            findings.extend(
                validate_layer(
                    path,
                    layer=spec.layer,
                    crs=spec.crs,
                    datum=spec.datum,
                    id_field=spec.id_field,
                    encoding=spec.encoding,
                    name=name,
                )
            )
    return findings


def _check_population(cfg: Config, spec: LayerSpec, path: Path) -> list[Finding]:
    table = _read_table(cfg, spec, "population")
    found: list[Finding] = []
    for col in (spec.id_field or "adcode", spec.value_field or "population"):
        if col not in table.columns:
            found.append(
                Finding(
                    "error",
                    str(path),
                    "population",
                    col,
                    f"no column '{col}' among {list(table.columns)}",
                    "set id_field and value_field of [layers.population]",
                )
            )
    return found


def _hazard_surfaces(
    grid: Grid, inputs: Inputs, cfg: Config
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Compute the four 0-1 hazard surfaces on the full grid."""
    size = grid.cell_size
    elev = grid.sample_raster(inputs.dem, resampling=Resampling.bilinear)
    landcover = (
        grid.sample_raster(inputs.landcover, resampling=Resampling.nearest)
        if inputs.landcover is not None
        else np.full(grid.shape, np.nan)
    )
    river = (
        grid.rasterize(inputs.rivers.geometry)
        if inputs.rivers is not None
        else np.zeros(grid.shape, dtype=bool)
    )
    if not river.any():
        log.warning("no river crosses the grid; riverine flood is zero everywhere")
    settle = _settlement_mask(grid, inputs)

    flood, flood_parts = hz.flood_index(elev, river, size, cfg.hazards.flood)
    geo, geo_parts = hz.geological_index(elev, size, cfg.hazards.geological)
    fire, fire_parts = hz.fire_index(landcover, elev, settle, size, cfg.hazards.fire)

    lon, lat = grid.centres_lonlat()
    if inputs.earthquakes is not None and len(inputs.earthquakes):
        intensity = grid.to_array(
            hz.earthquake_intensity(
                lon, lat, inputs.earthquakes, cfg.hazards.earthquake
            )
        )
    else:
        log.warning("no earthquakes given; the earthquake index uses faults only")
        intensity = np.full(grid.shape, -np.inf)
    fault_km = None
    if inputs.faults is not None and len(inputs.faults):
        fault_km = hz.distance_km(grid.rasterize(inputs.faults.geometry), size)
    quake = hz.earthquake_index(intensity, fault_km, cfg.hazards.earthquake)

    surfaces = {"flood": flood, "geological": geo, "fire": fire, "earthquake": quake}
    for spec in cfg.hazard_layers:
        log.info("hazard %s from %s layer %s", spec.hazard, spec.kind, spec.path)
        surfaces[spec.hazard] = hazard_from_layer(
            spec,
            grid,
            cfg.data_path(spec.path),
            inputs.hazard_layers.get(spec.hazard),
        )
    extras = {
        "elevation_m": elev,
        "landcover": landcover,
        "slope_deg": geo_parts["slope_deg"],
        "hand_m": flood_parts["hand_m"],
        "depression_m": flood_parts["depression_m"],
        "intensity": intensity,
        "settlement_km": hz.distance_km(settle, size),
        "fuel": fire_parts["fuel"],
    }
    return surfaces, extras


def _settlement_mask(grid: Grid, inputs: Inputs) -> np.ndarray:
    pts = []
    if inputs.places is not None:
        pts.append(inputs.places.geometry)
    fac = inputs.facilities
    pts.append(fac.loc[fac["kind"].isin(SHELTER_KINDS)].geometry)
    series = gpd.GeoSeries(pd.concat(pts), crs=4326)
    return grid.rasterize(series)


def _facilities_of(inputs: Inputs, kinds: tuple[str, ...]) -> gpd.GeoDataFrame:
    fac = inputs.facilities
    return fac.loc[fac["kind"].isin(kinds)]


def _num(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame:
        return pd.Series(np.nan, index=frame.index)
    return pd.to_numeric(frame[col], errors="coerce")


def _share(mask: pd.Series, weight: pd.Series, by: pd.Series) -> pd.Series:
    w = weight.fillna(0.0)
    num = (w * mask.astype(float)).groupby(by).sum()
    den = w.groupby(by).sum()
    return num / den.where(den > 0)


def run(
    cfg: Config,
    *,
    out_dir: str | Path | None = None,
    progress: bool = False,
    maps: bool = True,
) -> RunResult:
    """Run the whole analysis described by ``cfg`` and write its outputs.

    Parameters
    ----------
    cfg : Config
        A validated configuration (see :func:`riskmap.config.load_config`).
    out_dir : str or Path, optional
        Output folder; default ``cfg.run.out_dir``.
    progress : bool
        Show a progress bar over the steps.
    maps : bool
        Also draw the maps and write ``report.html`` (most of the time of a
        coarse run); without them only the tables and layers are written.

    Returns
    -------
    RunResult
    """
    out = Path(cfg.out_path(out_dir))
    stale = remove_stale_temps(out)
    if stale:
        log.warning("removed %d temporary file(s) left by an interrupted run", stale)
    steps = _Steps(
        [
            "load layers",
            "grid",
            "hazards",
            "population",
            "risk",
            "roads",
            "reach",
            "road cut",
            "indicators",
            "write",
            "maps",
        ],
        progress,
    )
    try:
        with steps.step("load layers"):
            inputs = load_inputs(cfg)
        result = analyse(inputs, cfg, out_dir=out, steps=steps)
        with steps.step("write"):
            result.files.extend(write_results(result))
        if maps:
            with steps.step("maps"):
                result.files.extend(_write_maps_and_report(result, cfg))
    finally:
        steps.close()
    return result


def analyse(
    inputs: Inputs,
    cfg: Config,
    *,
    out_dir: str | Path | None = None,
    steps: _Steps | None = None,
) -> RunResult:
    """Compute every result from loaded layers, without writing anything.

    This is :func:`run` minus reading and writing, for callers that bring
    their own layers (a notebook, the batch runner).

    Parameters
    ----------
    inputs : Inputs
        Layers as returned by :func:`load_inputs`.
    cfg : Config
        The configuration.
    out_dir : str or Path, optional
        Recorded in the result as the folder to write to.
    steps : optional
        Progress tracker used by :func:`run`.

    Returns
    -------
    RunResult
    """
    steps = steps or _Steps([], show=False)
    with steps.step("grid"):
        crs = choose_analysis_crs(inputs.counties, cfg.run.analysis_crs)
        grid = build_grid(
            inputs.counties, "adcode", cell_size_m=cfg.run.cell_size_m, crs=crs
        )
        cells = grid.cells()

    with steps.step("hazards"):
        surfaces, extras = _hazard_surfaces(grid, inputs, cfg)
        for name in hazard_names(cfg):
            cells[f"h_{name}"] = np.nan_to_num(grid.values(surfaces[name]))
        for name, arr in extras.items():
            cells[name] = grid.values(arr)

    with steps.step("population"):
        totals = (
            inputs.population.set_index("adcode")["population"]
            .reindex(grid.units)
            .to_numpy(dtype=float)
        )
        unit_of_cell = grid.unit_index[grid.mask]
        if inputs.population_raster is not None:
            counts = grid.sample_raster(
                inputs.population_raster, resampling=Resampling.sum
            )
            weights = np.nan_to_num(np.asarray(grid.values(counts), dtype=float))
            if not cfg.population.scale_to_census:
                totals = np.bincount(unit_of_cell, weights, minlength=len(totals))
        else:
            weights = popmod.dasymetric_weights(
                np.asarray(grid.values(extras["landcover"]), dtype=float),
                cells["slope_deg"].to_numpy(),
                cells["settlement_km"].to_numpy(),
                cfg.population,
            )
        cells["population"] = popmod.spread_by_unit(unit_of_cell, totals, weights)

    with steps.step("risk"):
        cell_classes = score_cells(cells, cfg)

    with steps.step("roads"):
        network = build_network(inputs, cfg, grid)

    with steps.step("reach"):
        measure_reach(cells, grid, inputs, cfg, network)

    with steps.step("road cut"):
        cut_summary = measure_road_cut(cells, grid, inputs, cfg, network)

    with steps.step("indicators"):
        counties, indicators = _county_table(cells, inputs, cfg)
        townships = _township_table(cells, inputs, cfg, grid)
        facilities = _facility_table(inputs, cells)
        method = _method_record(cfg, cell_classes, grid, network)
        method["road_cut"] = cut_summary

    return RunResult(
        counties=counties,
        grid=cells,
        facilities=facilities,
        indicators=indicators,
        method=method,
        out_dir=Path(cfg.out_path(out_dir)),
        places=inputs.places,
        townships=townships,
    )


def score_cells(cells: pd.DataFrame, cfg: Config) -> scoring.Classification:
    """Add ``exposure``, ``hazard``, ``risk_score`` and ``risk_class`` to cells.

    ``cells`` needs the four ``h_*`` columns and ``population``. Returns the
    classification (its bins go into the method record).
    """
    risk_cfg = cfg.risk
    hazard_cols = cells[[f"h_{h}" for h in hazard_names(cfg)]]
    hw = {f"h_{k}": v for k, v in risk_cfg.hazard_weights.items()}
    exposure = _exposure(cells["population"], risk_cfg.exposure_method)
    cells["exposure"] = exposure
    cells["hazard"] = scoring.combine_hazards(
        hazard_cols, hw, risk_cfg.hazard_combination
    )
    vuln = vulnerability(cells, cfg)
    cells["risk_score"] = scoring.risk_index(
        hazard_cols,
        exposure,
        vuln,
        hazard_weights=hw,
        method=risk_cfg.aggregation,
        hazard_combination=risk_cfg.hazard_combination,
    )
    classes = scoring.classify(
        cells["risk_score"],
        risk_cfg.classification,
        k=risk_cfg.classes,
        thresholds=risk_cfg.thresholds,
    )
    cells["risk_class"] = classes.classes
    return classes


def vulnerability(cells: pd.DataFrame, cfg: Config) -> pd.Series:
    """Vulnerability (0-1) of every cell, from its county's indicators.

    Without ``risk.vulnerability_indicators`` every cell gets the constant
    ``risk.vulnerability``. Otherwise each indicator is read from its table,
    joined to the counties by code, normalised across the counties (its
    ``method``, inverted for capacities); the weighted mean ``s`` becomes
    ``floor + (1 - floor) * s`` (``risk.vulnerability_floor``), so the least
    vulnerable county keeps some risk, and is given to every cell of the
    county. A county missing from a table is an error.
    """
    specs = cfg.risk.vulnerability_indicators
    if not specs:
        return pd.Series(cfg.risk.vulnerability, index=cells.index)
    units = pd.Index(sorted(cells["adcode"].astype(str).unique()))
    scores = {}
    for spec in specs:
        path = cfg.data_path(spec.path)
        table = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
        for col in (spec.id_field, spec.field):
            if col not in table.columns:
                raise FieldError(
                    f"no column '{col}' among {list(table.columns)}",
                    path=path,
                    layer=spec.name,
                    field=col,
                    fix="set id_field and field of this indicator",
                )
        values = pd.to_numeric(
            table.set_index(table[spec.id_field].str.strip())[spec.field],
            errors="coerce",
        ).reindex(units)
        if values.isna().any():
            missing = list(values.index[values.isna()])
            raise FieldError(
                f"no numeric value for units {missing}",
                path=path,
                layer=spec.name,
                field=spec.field,
                fix="add a row with a number for every county code",
            )
        scores[spec.name] = scoring.normalize(values, spec.method, invert=spec.invert)
    weights = {s.name: s.weight for s in specs}
    per_unit = scoring.aggregate(pd.DataFrame(scores), weights, "arithmetic")
    floor = cfg.risk.vulnerability_floor
    per_unit = floor + (1.0 - floor) * per_unit
    return cells["adcode"].astype(str).map(per_unit).astype(float)


def build_network(inputs: Inputs, cfg: Config, grid: Grid) -> RoadNetwork | None:
    """The routable road graph of the run, or None when there are no roads."""
    spec = cfg.layers.roads if cfg.layers else None
    if inputs.roads.empty:
        log.warning("the road layer is empty; road travel times are inf")
        return None
    network = RoadNetwork.from_lines(
        inputs.roads,
        crs=grid.crs,
        speeds=cfg.network.speeds_kmh,
        class_field=spec.class_field if spec else None,
        speed_field=spec.speed_field if spec else None,
        oneway_field=(spec.oneway_field if spec else None)
        or ("oneway" if "oneway" in inputs.roads.columns else None),
        join_tolerance_m=cfg.network.join_tolerance_m,
        dem=inputs.dem if cfg.network.slope_factor else None,
    )
    comps = network.components()
    log.info("road network: %s, %d component(s)", network, comps.count)
    return network


def measure_reach(
    cells: gpd.GeoDataFrame,
    grid: Grid,
    inputs: Inputs,
    cfg: Config,
    network: RoadNetwork | None,
) -> None:
    """Add road and helicopter times to every cell (``inf`` when unreachable).

    Columns: ``t_shelter_min`` and ``shelter_id`` (nearest shelter, trip from
    the cell), ``t_depot_min`` (nearest depot, trip to the cell),
    each the quicker of the road trip and a straight trip at the access
    speed (local roads and paths missing from the road layer),
    ``t_relief_h`` (through the depot chain) and ``t_air_min``.
    """
    std = cfg.standards
    for col in ("t_shelter_min", "t_depot_min", "t_relief_h", "t_air_min"):
        cells[col] = np.inf
    cells["shelter_id"] = pd.Series(pd.NA, index=cells.index, dtype=object)
    origins = gpd.GeoSeries(
        gpd.points_from_xy(*grid.centres()), crs=grid.crs, index=cells.index
    )
    reach_kw: dict[str, Any] = {
        "max_snap_m": cfg.network.max_snap_m,
        "access_speed_kmh": cfg.network.access_speed_kmh,
    }
    shelters = _facilities_of(inputs, SHELTER_KINDS)
    depots = _facilities_of(inputs, DEPOT_KINDS)
    bases = _facilities_of(inputs, HELI_KINDS)
    for kinds, table in ((SHELTER_KINDS, shelters), (DEPOT_KINDS, depots)):
        if table.empty:
            log.warning("no facility of kind %s; their times are inf", kinds)

    if network is not None and not shelters.empty:
        to_shelter = nearest_facility(
            network, origins, shelters, direction="to_facility", **reach_kw
        )
        cells["t_shelter_min"] = to_shelter["time_min"].to_numpy()
        cells["shelter_id"] = (
            shelters["facility_id"].reindex(to_shelter["facility"]).to_numpy()
        )
    if not shelters.empty:
        direct, nearest = _direct_minutes(origins, shelters, cfg)
        better = direct < cells["t_shelter_min"].to_numpy()
        cells.loc[better, "t_shelter_min"] = direct[better]
        cells.loc[better, "shelter_id"] = nearest[better]
    if network is not None and not depots.empty:
        from_depot = nearest_facility(
            network, origins, depots, direction="from_facility", **reach_kw
        )
        cells["t_depot_min"] = from_depot["time_min"].to_numpy()
        relief = relief_time(
            network,
            origins,
            depots,
            handling_h=dict.fromkeys(
                ("city", "county", "township"), std.relief_handling_h
            ),
            targets_h=(std.relief_initial_h, std.relief_basic_h),
            **reach_kw,
        )
        cells["t_relief_h"] = relief["t_relief_h"].to_numpy()
    if not depots.empty:
        direct, _ = _direct_minutes(origins, depots, cfg)
        cells["t_depot_min"] = np.fmin(cells["t_depot_min"].to_numpy(), direct)
    if not bases.empty:
        lon, lat = grid.centres_lonlat()
        air = helicopter_time(
            gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326, index=cells.index),
            bases,
            dispatch_min=std.helicopter_dispatch_min,
            cruise_kmh=std.helicopter_cruise_kmh,
            range_km=std.helicopter_range_km,
        )
        cells["t_air_min"] = air["time_min"].to_numpy()
    else:
        log.warning("no helicopter base; helicopter times are inf")
    cells["air_beats_road"] = cells["t_air_min"] < cells["t_depot_min"]


def _direct_minutes(
    origins: gpd.GeoSeries, facilities: gpd.GeoDataFrame, cfg: Config
) -> tuple[np.ndarray, np.ndarray]:
    """Straight-line minutes to the nearest facility at the access speed.

    The default road graph holds major roads only; a cell next to its
    shelter must not be routed out to a distant highway and back. Cells
    farther than ``network.direct_max_m`` get ``inf``.
    """
    pts = facilities.to_crs(origins.crs).geometry
    tree = cKDTree(np.column_stack([pts.x, pts.y]))
    dist, idx = tree.query(np.column_stack([origins.x, origins.y]))
    minutes = dist / 1000.0 / cfg.network.access_speed_kmh * 60.0
    minutes[dist > cfg.network.direct_max_m] = np.inf
    ids = facilities["facility_id"].to_numpy()[idx]
    return minutes, ids


def measure_road_cut(
    cells: gpd.GeoDataFrame,
    grid: Grid,
    inputs: Inputs,
    cfg: Config,
    network: RoadNetwork | None,
) -> dict[str, Any]:
    """Reach again with roads closed (or slowed) across high hazard.

    Every road piece crossing a cell where one of the scenario's hazards
    reaches the threshold is closed (or slowed), splitting roads where they
    cross from safe to hazardous cells. Adds ``t_shelter_cut_min``,
    ``t_depot_cut_min`` and ``cut_off`` (reached a shelter or depot before,
    neither after) to the cells and returns a summary of the scenario.

    Cells join the nearest open road, so a cell whose nearest road is closed
    walks to another one; now and then that road is the quicker way out,
    and the cell's time drops a little after the cut.
    """
    scen = cfg.scenarios.road_cut
    cells["t_shelter_cut_min"] = cells["t_shelter_min"]
    cells["t_depot_cut_min"] = cells["t_depot_min"]
    cells["cut_off"] = False
    if not scen.enabled or network is None:
        return {"enabled": False}
    hazard = cells[[f"h_{h}" for h in scen.hazards]].max(axis=1)
    zones = gpd.GeoDataFrame({"hazard": hazard}, geometry=cells.geometry)
    cut = disrupt(
        network,
        zones,
        threshold=scen.threshold,
        column="hazard",
        mode=scen.mode,
        factor=scen.slow_factor,
        spacing_m=grid.cell_size / 2,
    )
    origins = gpd.GeoSeries(
        gpd.points_from_xy(*grid.centres()), crs=grid.crs, index=cells.index
    )
    reach_kw: dict[str, Any] = {
        "max_snap_m": cfg.network.max_snap_m,
        "access_speed_kmh": cfg.network.access_speed_kmh,
    }
    legs: list[tuple[str, tuple[str, ...], Literal["to_facility", "from_facility"]]]
    legs = [
        ("t_shelter_cut_min", SHELTER_KINDS, "to_facility"),
        ("t_depot_cut_min", DEPOT_KINDS, "from_facility"),
    ]
    for col, kinds, direction in legs:
        table = _facilities_of(inputs, kinds)
        if table.empty:
            continue
        with warnings.catch_warnings():
            # the unconnected count was reported for the intact network
            warnings.filterwarnings("ignore", "Raise max_snap_m", UserWarning)
            times = nearest_facility(
                cut, origins, table, direction=direction, **reach_kw
            )
        direct, _ = _direct_minutes(origins, table, cfg)
        cells[col] = np.fmin(times["time_min"].to_numpy(), direct)
    before = np.isfinite(cells["t_shelter_min"]) | np.isfinite(cells["t_depot_min"])
    after = np.isfinite(cells["t_shelter_cut_min"]) | np.isfinite(
        cells["t_depot_cut_min"]
    )
    cells["cut_off"] = before & ~after
    states = cut.edges["state"].value_counts().to_dict()
    closed_km = float(cut.edges.loc[cut.edges["state"] != "open", "length_m"].sum())
    log.info(
        "road cut: %s road pieces, %.0f km affected, %d cells cut off",
        states,
        closed_km / 1000,
        int(cells["cut_off"].sum()),
    )
    return scen.model_dump() | {
        "edges": {str(k): int(v) for k, v in states.items()},
        "affected_km": closed_km / 1000,
        "cells_cut_off": int(cells["cut_off"].sum()),
        "population_cut_off": float(cells.loc[cells["cut_off"], "population"].sum()),
    }


def _exposure(pop: pd.Series, method: str) -> pd.Series:
    """Exposure 0-1 from population per cell."""
    values = pop.fillna(0.0).clip(lower=0.0)
    top = float(values.max())
    if top <= 0:
        return pd.Series(0.0, index=pop.index)
    if method == "log":
        return np.log1p(values) / np.log1p(top)
    return values / top


def _county_table(
    cells: gpd.GeoDataFrame, inputs: Inputs, cfg: Config
) -> tuple[gpd.GeoDataFrame, list[dict[str, Any]]]:
    std = cfg.standards
    by = cells["adcode"]
    pop = cells["population"]
    counties = inputs.counties.copy()
    counties["population"] = (
        inputs.population.set_index("adcode")["population"]
        .reindex(counties["adcode"])
        .to_numpy()
    )
    counties["area_km2"] = geodesic_area_m2(counties).to_numpy() / 1e6

    rule = cfg.risk.county_aggregation
    weights = pop if rule == "pop_weighted_mean" else None
    agg_rule: Literal["pop_weighted_mean", "mean"] = (
        "pop_weighted_mean" if weights is not None else "mean"
    )
    for col in [f"h_{h}" for h in hazard_names(cfg)] + ["risk_score"]:
        agg = scoring.aggregate_to_units(cells[col], by, weights, agg_rule)
        counties[col] = counties["adcode"].map(agg).astype(float)
    # side by side: the share of the county's area in the two top hazard
    # levels and the highest level present (fixed 0.2-wide levels)
    area = pd.Series(grid_cell_area(cells), index=cells.index)
    for h in hazard_names(cfg):
        levels = scoring.classify(
            cells[f"h_{h}"], "thresholds", k=5, thresholds=HAZARD_LEVELS
        ).classes
        share = scoring.aggregate_to_units(
            levels, by, area, "area_share_above", class_threshold=4
        )
        top = scoring.aggregate_to_units(levels, by, rule="max_class")
        counties[f"h_{h}_area_share_l4"] = counties["adcode"].map(share)
        counties[f"h_{h}_max_level"] = counties["adcode"].map(top)
    county_classes = scoring.classify(
        counties["risk_score"],
        cfg.risk.classification,
        k=cfg.risk.classes,
        thresholds=cfg.risk.thresholds,
    )
    counties["risk_class"] = county_classes.classes.to_numpy()

    reach = cells["t_shelter_min"] <= std.shelter_reach_min
    relief10 = cells["t_relief_h"] <= std.relief_initial_h
    relief24 = cells["t_relief_h"] <= std.relief_basic_h
    high = cells["risk_class"].fillna(0).astype(int) >= cfg.risk.high_risk_class
    air = cells["t_air_min"] <= std.helicopter_target_min
    counties["pop_share_shelter_reach"] = counties["adcode"].map(_share(reach, pop, by))
    counties["pop_share_relief_10h"] = counties["adcode"].map(_share(relief10, pop, by))
    counties["pop_share_relief_24h"] = counties["adcode"].map(_share(relief24, pop, by))
    highcount = high.astype(float).groupby(by).sum()
    counties["highrisk_cells"] = counties["adcode"].map(highcount).fillna(0).astype(int)
    counties["highrisk_share_air_2h"] = counties["adcode"].map(
        _share(air, high.astype(float), by)
    )

    reach_cut = cells["t_shelter_cut_min"] <= std.shelter_reach_min
    counties["pop_share_shelter_reach_cut"] = counties["adcode"].map(
        _share(reach_cut, pop, by)
    )
    cut_pop = pop.where(cells["cut_off"], 0.0).groupby(by).sum()
    counties["population_cut_off"] = counties["adcode"].map(cut_pop).fillna(0.0)

    need = cfg.needs
    displaced = displaced_population(pop, cells["risk_class"], need.displacement_rates)
    supplies = supply_needs(
        displaced,
        by,
        hours=need.hours,
        minimum={
            "water_l": need.water_l,
            "food_kcal": need.food_kcal,
            "shelter_m2": need.shelter_m2,
        },
    )
    counties["displaced"] = counties["adcode"].map(supplies["displaced"])
    counties["water_l_needed"] = counties["adcode"].map(supplies["water_l"])
    counties["food_kcal_needed"] = counties["adcode"].map(supplies["food_kcal"])
    counties["shelter_m2_needed"] = counties["adcode"].map(supplies["shelter_m2"])

    fac = inputs.facilities
    shelters = fac.loc[fac["kind"].isin(SHELTER_KINDS)]
    area = _num(shelters, "area_m2").groupby(shelters["adcode"].astype(str)).sum()
    counties["shelter_area_m2"] = counties["adcode"].map(area).fillna(0.0)
    counties["shelter_m2_per_person"] = counties["shelter_area_m2"] / (
        counties["population"] * std.sheltered_share
    )
    counties["n_shelters"] = (
        counties["adcode"]
        .map(shelters.groupby(shelters["adcode"].astype(str)).size())
        .fillna(0)
        .astype(int)
    )
    depots = fac.loc[fac["kind"].isin(DEPOT_KINDS)]
    counties["n_depots"] = (
        counties["adcode"]
        .map(depots.groupby(depots["adcode"].astype(str)).size())
        .fillna(0)
        .astype(int)
    )

    further = [f"h_{h}" for h in hazard_names(cfg)[len(HAZARDS) :]]
    rules = [
        f"h_{h}_{rule}"
        for h in hazard_names(cfg)
        for rule in ("area_share_l4", "max_level")
    ]
    counties = counties[
        [*COUNTY_COLUMNS, *further, *_EXTRA_COLUMNS, *rules, "geometry"]
    ]

    total_pop = float(pop.sum())
    n_high = int(high.sum())
    total_area = float(counties["shelter_area_m2"].sum())
    indicators = [
        _indicator(
            "pop_share_shelter_reach",
            "避难场所可达人口比例",
            float((pop * reach).sum() / total_pop),
            std.shelter_reach_target_share,
            f"share within {std.shelter_reach_min:g} min",
        ),
        _indicator(
            "pop_share_shelter_reach_cut",
            "道路阻断情景下避难场所可达人口比例",
            float((pop * (cells["t_shelter_cut_min"] <= std.shelter_reach_min)).sum())
            / total_pop,
            std.shelter_reach_target_share,
            f"share within {std.shelter_reach_min:g} min with roads closed "
            "across high flood or geological hazard",
        ),
        _indicator(
            "pop_share_relief_10h",
            "10小时内获得初步救助人口比例",
            float((pop * relief10).sum() / total_pop),
            std.relief_target_share,
            f"share within {std.relief_initial_h:g} h",
        ),
        _indicator(
            "pop_share_relief_24h",
            "24小时内获得基本生活救助人口比例",
            float((pop * relief24).sum() / total_pop),
            std.relief_target_share,
            f"share within {std.relief_basic_h:g} h",
        ),
        _indicator(
            "highrisk_share_air_2h",
            "2小时内直升机可达的高风险网格比例",
            float(((high & air).sum() / n_high) if n_high else 1.0),
            std.helicopter_target_share,
            f"share of high-risk cells within {std.helicopter_target_min:g} min",
        ),
        _indicator(
            "shelter_m2_per_person",
            "人均避难场所面积",
            total_area / (total_pop * std.sheltered_share),
            std.shelter_m2_per_person,
            f"m² per person sheltered ({std.sheltered_share:.0%} of residents)",
        ),
        _indicator(
            "counties_with_shelter_and_depot",
            "设有避难场所和物资储备库的县区比例",
            float(((counties["n_shelters"] > 0) & (counties["n_depots"] > 0)).mean()),
            1.0,
            "share of counties",
        ),
    ]
    return counties, indicators


#: County columns written after :data:`COUNTY_COLUMNS`.
_EXTRA_COLUMNS = [
    "pop_share_relief_24h",
    "highrisk_cells",
    "shelter_area_m2",
    "n_shelters",
    "n_depots",
    "pop_share_shelter_reach_cut",
    "population_cut_off",
    "displaced",
    "water_l_needed",
    "food_kcal_needed",
    "shelter_m2_needed",
]


def _township_table(
    cells: gpd.GeoDataFrame, inputs: Inputs, cfg: Config, grid: Grid
) -> gpd.GeoDataFrame | None:
    """Risk and reach per township, from the cells nearest each township point.

    Township boundaries are not part of the default data, so each cell is
    given to the nearest township or county-seat point of its own county
    (a Voronoi partition clipped to the county) and the cells are
    aggregated like counties. With no places layer, returns None.
    """
    places = inputs.places
    if places is None or places.empty:
        return None
    std = cfg.standards
    pts = places.to_crs(grid.crs)
    pid = places.columns[0] if "place_id" not in places else "place_id"
    cx = cells.geometry.centroid.x.to_numpy()
    cy = cells.geometry.centroid.y.to_numpy()
    owner = np.full(len(cells), -1)
    for code, group in pts.groupby(pts["adcode"].astype(str)):
        in_county = (cells["adcode"] == code).to_numpy()
        if not in_county.any():
            continue
        tree = cKDTree(np.column_stack([group.geometry.x, group.geometry.y]))
        _, nearest = tree.query(np.column_stack([cx[in_county], cy[in_county]]))
        owner[in_county] = np.asarray(group.index)[nearest]
    cells = cells.assign(place=owner)
    cells = cells[cells["place"] >= 0]
    by, pop = cells["place"], cells["population"]

    table = places.loc[sorted(set(by))].copy()
    table = table.rename(columns={pid: "place_id"})
    table["population"] = pop.groupby(by).sum()
    table["n_cells"] = by.value_counts()
    for col in [f"h_{h}" for h in hazard_names(cfg)] + ["risk_score"]:
        table[col] = scoring.aggregate_to_units(
            cells[col], by, pop, "pop_weighted_mean"
        )
    table["risk_class"] = scoring.classify(
        table["risk_score"],
        cfg.risk.classification,
        k=cfg.risk.classes,
        thresholds=cfg.risk.thresholds,
    ).classes.to_numpy()
    reach = cells["t_shelter_min"] <= std.shelter_reach_min
    relief = cells["t_relief_h"] <= std.relief_initial_h
    table["pop_share_shelter_reach"] = _share(reach, pop, by)
    table["pop_share_relief_10h"] = _share(relief, pop, by)
    keep = ["place_id", "name", "kind", "adcode", "population", "n_cells"]
    keep += [f"h_{h}" for h in hazard_names(cfg)]
    keep += ["risk_score", "risk_class", "pop_share_shelter_reach"]
    keep += ["pop_share_relief_10h", "geometry"]
    return table[[c for c in keep if c in table.columns]].reset_index(drop=True)


def grid_cell_area(cells: gpd.GeoDataFrame) -> np.ndarray:
    """Area of each cell in m² (cells are in the projected analysis CRS)."""
    return np.asarray(cells.geometry.area, dtype=float)


def _indicator(
    name: str, name_zh: str, value: float, target: float, description: str
) -> dict[str, Any]:
    unit = "m²/person" if name.endswith("per_person") else "share"
    return {
        "name": name,
        "name_zh": name_zh,
        "value": value,
        "target": target,
        "unit": unit,
        "description": description,
        "passed": bool(value >= target),
    }


def _facility_table(inputs: Inputs, cells: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    fac = inputs.facilities.copy()
    served = cells.groupby("shelter_id")["population"].sum()
    fac["assigned_population"] = fac["facility_id"].map(served).fillna(0.0)
    fac.loc[~fac["kind"].isin(SHELTER_KINDS), "assigned_population"] = np.nan
    return fac


def _method_record(
    cfg: Config,
    classes: scoring.Classification,
    grid: Grid,
    network: RoadNetwork | None,
) -> dict[str, Any]:
    return {
        "riskmap_version": _version(),
        "config_source": cfg.source or "default (riskmap/default_config.toml)",
        "analysis_crs": grid.crs.to_string(),
        "cell_size_m": grid.cell_size,
        "hazard_models": cfg.hazards.model_dump(),
        "population": cfg.population.model_dump()
        | {
            "source": "raster"
            if cfg.layers and cfg.layers.population_raster
            else "dasymetric from the census table"
        },
        "risk": cfg.risk.model_dump(),
        "hazards": {
            name: "default model"
            if name not in {h.hazard for h in cfg.hazard_layers}
            else next(h.model_dump() for h in cfg.hazard_layers if h.hazard == name)
            for name in hazard_names(cfg)
        },
        "hazard_weights_from": _weights_origin(cfg),
        "county_hazard_rules": {
            "h_<hazard>": f"{cfg.risk.county_aggregation} of the cells",
            "h_<hazard>_area_share_l4": "share of the county's area in hazard "
            f"levels 4-5 (level bounds {HAZARD_LEVELS})",
            "h_<hazard>_max_level": "highest hazard level (1-5) of any cell",
        },
        "risk_formula": (
            f"risk = {cfg.risk.aggregation} combination of hazard "
            f"({cfg.risk.hazard_combination} of h_*), exposure "
            f"({cfg.risk.exposure_method}-scaled population) and vulnerability"
        ),
        "cell_class_bins": [float(b) for b in classes.bins],
        "risk_class_meaning": (
            "relative: classes are cut among the units of this run (cells "
            "among cells, counties among counties, townships among "
            "townships); class 1 is the lowest risk of this city, not a low "
            "risk in absolute terms. Use risk.classification = 'thresholds' "
            "for fixed bounds"
        ),
        "network": cfg.network.model_dump() | {"summary": repr(network)},
        "standards": cfg.standards.model_dump(),
    }


def _weights_origin(cfg: Config) -> dict[str, Any]:
    ahp = cfg.risk.hazard_ahp
    if ahp is None:
        return {"method": "direct"}
    res = scoring.ahp_weights(ahp.matrix, ahp.hazards)
    return {
        "method": "AHP",
        "matrix": ahp.matrix,
        "lambda_max": res.lambda_max,
        "consistency_index": res.ci,
        "consistency_ratio": res.cr,
    }


def _version() -> str:
    from riskmap import __version__

    return __version__


def _write_maps_and_report(result: RunResult, cfg: Config) -> list[Path]:
    """Write the maps, ``report.html``/``.pdf``, ``summary.xlsx``, ``report.docx``.

    County maps are drawn by :func:`riskmap.mapbatch.write_county_maps`, which
    skips counties whose maps are up to date. ``report.pdf`` is written when
    Chromium or LibreOffice is installed, and left out (with a warning)
    otherwise.
    """
    from riskmap import maps, office, report
    from riskmap.mapbatch import write_county_maps

    std = cfg.standards
    style: dict[str, Any] = {
        "tiles": cfg.maps.tiles,
        "attribution": cfg.maps.attribution,
        "shelter_reach_min": std.shelter_reach_min,
        "relief_h": std.relief_initial_h,
        "air_min": std.helicopter_target_min,
    }
    out = result.out_dir
    map_dir = out / "maps"
    files: list[Path] = []

    # The city map, then every county's web and printable maps.
    city = maps.city_map(
        result.counties,
        result.grid,
        result.facilities,
        title=cfg.run.title,
        places=result.places,
        **style,
    )
    files.append(maps.save_map(city, map_dir / "index.html"))
    batch = write_county_maps(
        result.counties,
        result.grid,
        result.facilities,
        map_dir,
        places=result.places,
        dpi=cfg.maps.dpi,
        pdf=cfg.maps.pdf,
        progress=cfg.maps.progress,
        **style,
    )
    files.extend(batch["files"])
    county_maps = {"city": {"html": map_dir / "index.html"}, **batch["maps"]}

    # The report as a web page, then its Office copies and the PDF.
    title = f"{cfg.run.title} 灾害风险与应急保障评估报告 "
    title += "disaster-risk and emergency-coverage report"
    html = report.write_report(
        out,
        result.counties,
        result.indicators,
        result.method,
        maps=county_maps,
        title=title,
    )
    files.append(html)
    files.append(
        office.write_summary_xlsx(
            result.counties,
            out / "summary.xlsx",
            indicators=result.indicators,
            townships=result.townships,
        )
    )
    files.append(
        office.write_report_docx(
            out,
            result.counties,
            result.indicators,
            result.method,
            maps=batch["maps"],
            title=title,
        )
    )
    pdf = report.write_report_pdf(html)
    if pdf is not None:
        files.append(pdf)
    return files
