"""What a run produces, and how it is written to disk.

Every file is written through :func:`riskmap._io.atomic_path`, and only
after the whole analysis has finished, so a run that fails or is killed
leaves the previous outputs as they were.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from riskmap._io import atomic_path

__all__ = ["COUNTY_COLUMNS", "RunResult", "write_results"]

log = logging.getLogger(__name__)

#: Columns of the ``counties`` layer and ``summary.csv``, in order.
COUNTY_COLUMNS = [
    "adcode",
    "name",
    "name_en",
    "population",
    "area_km2",
    "h_flood",
    "h_geological",
    "h_fire",
    "h_earthquake",
    "risk_score",
    "risk_class",
    "pop_share_shelter_reach",
    "pop_share_relief_10h",
    "highrisk_share_air_2h",
    "shelter_m2_per_person",
]


@dataclass
class RunResult:
    """The tables, layers and method record of one run.

    Attributes
    ----------
    counties : GeoDataFrame
        One row per county (EPSG:4326) with :data:`COUNTY_COLUMNS`.
    grid : GeoDataFrame
        One row per cell, in the analysis CRS.
    facilities : GeoDataFrame
        Shelters, depots and helicopter bases (EPSG:4326) with the
        population assigned to each.
    indicators : list of dict
        City-wide plan indicators: ``name``, ``name_zh``, ``value``,
        ``target``, ``unit``, ``passed``.
    method : dict
        Every parameter, weight and classification used.
    out_dir : Path
        Where the outputs were (or will be) written.
    """

    counties: gpd.GeoDataFrame
    grid: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    indicators: list[dict[str, Any]]
    method: dict[str, Any]
    out_dir: Path
    places: gpd.GeoDataFrame | None = None
    townships: gpd.GeoDataFrame | None = None
    rasters: dict[str, Any] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return value.as_posix()
    return str(value)


def method_json(method: dict[str, Any]) -> str:
    """Serialise a method record to JSON (numpy values made plain)."""
    return json.dumps(method, ensure_ascii=False, indent=2, default=_json_default)


def _for_file(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Make column types GeoPackage-friendly (nullable ints, text IDs)."""
    out = gdf.copy()
    for col in out.columns:
        if col == out.geometry.name:
            continue
        if isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype(str)
    return out


def _tidy(table: pd.DataFrame) -> pd.DataFrame:
    """Round a table for people to read: whole people, 4 decimals else.

    The GeoPackage keeps full precision; CSV tables are for reading.
    """
    out = table.copy()
    for col in out.columns:
        if not pd.api.types.is_float_dtype(out[col]):
            continue
        people = col in {"population", "displaced", "population_cut_off"}
        if people or col.endswith(("_needed", "_m2")):
            out[col] = out[col].round(0)
        elif col.endswith("_km2"):
            out[col] = out[col].round(2)
        else:
            out[col] = out[col].round(4)
    return out


def write_results(result: RunResult) -> list[Path]:
    """Write ``results.gpkg`` and ``summary.csv`` into ``result.out_dir``.

    ``results.gpkg`` holds the layers ``counties``, ``grid`` and
    ``facilities``; the method record is stored as JSON in the metadata of
    the ``counties`` layer (key ``riskmap_method``) and of the dataset.
    """
    out = Path(result.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta = {"riskmap_method": method_json(result.method)}
    indicators = {"riskmap_indicators": method_json({"items": result.indicators})}

    gpkg = out / "results.gpkg"
    with atomic_path(gpkg) as tmp:
        pyogrio.write_dataframe(
            _for_file(result.counties),
            tmp,
            layer="counties",
            driver="GPKG",
            layer_metadata=meta | indicators,
            dataset_metadata=meta,
        )
        pyogrio.write_dataframe(
            _for_file(result.grid), tmp, layer="grid", driver="GPKG", append=True
        )
        pyogrio.write_dataframe(
            _for_file(result.facilities),
            tmp,
            layer="facilities",
            driver="GPKG",
            append=True,
        )
        if result.townships is not None:
            pyogrio.write_dataframe(
                _for_file(result.townships),
                tmp,
                layer="townships",
                driver="GPKG",
                append=True,
            )
    log.info("wrote %s", gpkg)

    summary = out / "summary.csv"
    table = _tidy(pd.DataFrame(result.counties.drop(columns="geometry")))
    with atomic_path(summary) as tmp:
        table.to_csv(tmp, index=False, encoding="utf-8")
    log.info("wrote %s", summary)

    written = [gpkg, summary]
    if result.townships is not None:
        towns = out / "townships.csv"
        with atomic_path(towns) as tmp:
            _tidy(pd.DataFrame(result.townships.drop(columns="geometry"))).to_csv(
                tmp, index=False, encoding="utf-8"
            )
        written.append(towns)

    method_file = out / "method.json"
    with atomic_path(method_file) as tmp:
        tmp.write_text(method_json(result.method), encoding="utf-8")
    return [*written, method_file]
