"""Siting on top of a finished run: new shelters or depots, before and after.

:func:`site_from_run` reads a run's ``results.gpkg``, rebuilds its road
network from the configuration, asks :func:`riskmap.siting.propose_sites`
for new sites, and writes ``sites.gpkg``, ``sites_coverage.csv`` and
``siting.html`` (the before/after table and a map of the sites) next to the
run's other outputs. ``riskmap site`` calls it.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import geopandas as gpd

from riskmap._io import atomic_path, write_text_atomic
from riskmap.config import Config
from riskmap.errors import LayerError
from riskmap.grid import build_grid, choose_analysis_crs
from riskmap.pipeline import build_network, load_inputs
from riskmap.siting import SitingResult, propose_sites

__all__ = ["SiteRun", "site_from_run"]

log = logging.getLogger(__name__)


@dataclass
class SiteRun:
    """A siting result and the files written for it."""

    result: SitingResult
    files: list[Path]


def site_from_run(
    cfg: Config,
    run_dir: str | Path,
    *,
    kind: Literal["shelter", "depot"] = "shelter",
    model: Literal["mclp", "lscp", "p_median"] = "mclp",
    p: int = 10,
    threshold_min: float | None = None,
) -> SiteRun:
    """Propose new sites for the run in ``run_dir`` and write the results.

    Parameters
    ----------
    cfg : Config
        The configuration the run used (its roads and standards).
    run_dir : str or Path
        Folder holding the run's ``results.gpkg``.
    kind : {"shelter", "depot"}
        Facility to site.
    model : {"mclp", "lscp", "p_median"}
        Maximal covering (best ``p`` sites), set covering (fewest sites so
        everyone is within the threshold) or p-median (least total time).
    p : int
        New sites to add (ignored by ``lscp``).
    threshold_min : float, optional
        Coverage threshold; default the shelter reach of the standards.

    Returns
    -------
    SiteRun
    """
    run_dir = Path(run_dir)
    gpkg = run_dir / "results.gpkg"
    if not gpkg.is_file():
        raise LayerError(
            "no results.gpkg in the run folder",
            path=run_dir,
            fix="run 'riskmap run --out DIR' first and pass the same DIR",
        )
    threshold = threshold_min or cfg.standards.shelter_reach_min

    # the run's grid and facilities, and its road network rebuilt
    grid = gpd.read_file(gpkg, layer="grid")
    facilities = gpd.read_file(gpkg, layer="facilities")
    inputs = load_inputs(cfg)
    crs = choose_analysis_crs(inputs.counties, cfg.run.analysis_crs)
    frame = build_grid(
        inputs.counties, "adcode", cell_size_m=cfg.run.cell_size_m, crs=crs
    )
    network = build_network(inputs, cfg, frame)
    if network is None:
        raise LayerError("the road layer is empty; siting needs roads", layer="roads")

    result = propose_sites(
        grid,
        facilities,
        network,
        kind=kind,
        model=model,
        p=p,
        threshold_min=threshold,
        m2_per_person=cfg.standards.shelter_m2_per_person,
        sheltered_share=cfg.standards.sheltered_share,
        max_snap_m=cfg.network.max_snap_m,
        access_speed_kmh=cfg.network.access_speed_kmh,
    )
    log.info("%s", result.summary())

    # the map layer, the before/after table and a one-page summary
    files = []
    sites_path = run_dir / "sites.gpkg"
    with atomic_path(sites_path) as tmp:
        result.sites.to_file(tmp, layer="sites", driver="GPKG", engine="pyogrio")
    files.append(sites_path)
    cov_path = run_dir / "sites_coverage.csv"
    with atomic_path(cov_path) as tmp:
        result.coverage.to_csv(tmp, index_label="unit", encoding="utf-8")
    files.append(cov_path)
    files.append(
        write_text_atomic(
            run_dir / "siting.html", _siting_page(result, kind, model, threshold)
        )
    )
    return SiteRun(result, files)


def _siting_page(result: SitingResult, kind: str, model: str, threshold: float) -> str:
    """A small self-contained HTML page: before/after and the new sites."""
    cov = result.coverage.copy()
    cov.index = cov.index.astype(str)
    rows = "".join(
        f"<tr><td>{html.escape(str(unit))}</td><td>{row['population']:,.0f}</td>"
        f"<td>{row['share_before']:.1%}</td><td>{row['share_after']:.1%}</td></tr>"
        for unit, row in cov.iterrows()
    )
    new = result.sites[result.sites["new"].astype(bool)]
    site_rows = "".join(
        f"<tr><td>{html.escape(str(r['facility_id']))}</td>"
        f"<td>{html.escape(str(r.get('adcode', '')))}</td>"
        f"<td>{r.geometry.y:.4f}, {r.geometry.x:.4f}</td>"
        f"<td>{float(r['assigned_population']):,.0f}</td></tr>"
        for _, r in new.iterrows()
    )
    what = "避难场所" if kind == "shelter" else "物资储备库"
    title = f"新增{what}选址 Siting new {kind}s"
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #bbb;padding:3px 8px;text-align:right}}</style></head>
<body><h1>{title}</h1>
<p>{html.escape(result.summary())}</p>
<p>模型 Model: {html.escape(model)}; 时间阈值 threshold: {threshold:g} min</p>
<h2>覆盖人口 Population within {threshold:g} min, before and after</h2>
<table><tr><th>区县 Unit</th><th>人口 Population</th><th>之前 Before</th>
<th>之后 After</th></tr>{rows}</table>
<h2>建议新址 Proposed sites (WGS-84 lat, lon)</h2>
<table><tr><th>ID</th><th>区县 County</th><th>位置 Location</th>
<th>服务人口 Served</th></tr>{site_rows}</table>
</body></html>
"""
