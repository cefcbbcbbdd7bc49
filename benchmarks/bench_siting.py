"""Benchmark: siting shelters on the Baise default data, build vs solve time.

Takes the grid and facilities of a run (``results.gpkg`` of ``riskmap run``,
or runs the pipeline into a temporary folder), builds the road network as
the run does, screens every grid cell as a candidate with the default
:class:`riskmap.siting.SiteRules`, and times on the populated cells:

* the road searches that fill the sparse travel-time pairs
  (:meth:`SitingProblem.from_network`);
* model building and HiGHS solving for the maximal covering model with
  p = 5, 10, 20 and 30 new shelters (60 min) and the set covering model,
  on every populated cell;
* the p-median with p = 10 and 30 (k = 10 fastest sites per demand unit
  first) on demand merged into 3 km squares (``--p-median-aggregate-m``;
  0 keeps every cell, which on this data runs into the time limit).

Results go to ``benchmarks/results/siting.json`` and a summary is printed.

Usage::

    python benchmarks/bench_siting.py [--results outputs/baise/results.gpkg]
        [--aggregate-m 3000] [--time-limit 600]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

import riskmap
from riskmap.config import load_config
from riskmap.network import RoadNetwork
from riskmap.siting import (
    SitingProblem,
    SitingSolution,
    candidate_sites,
    demand_from_grid,
    site_table,
    solve_lscp,
    solve_mclp,
    solve_p_median,
)

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "siting.json"
log = logging.getLogger("bench_siting")


def load_run(results: Path | None) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, float]:
    """Grid and facilities of a run, and the seconds the run took (0 if read)."""
    if results is not None and results.is_file():
        grid = gpd.read_file(results, layer="grid")
        fac = gpd.read_file(results, layer="facilities")
        return grid, fac, 0.0
    from riskmap.pipeline import run

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        res = run(load_config(), out_dir=tmp)
    return res.grid, res.facilities, time.perf_counter() - started


def figures(sol: SitingSolution) -> dict[str, Any]:
    return {
        "model": sol.model,
        "new_sites": len(sol.new_sites),
        "objective": round(sol.objective, 3),
        "build_s": round(sol.build_s, 3),
        "solve_s": round(sol.solve_s, 3),
        "rounds": sol.rounds,
        "status": sol.status,
        "gap": sol.gap,
        "share_before": round(sol.coverage.get("share_before", float("nan")), 4),
        "share_after": round(sol.coverage.get("share_after", float("nan")), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=None)
    parser.add_argument("--aggregate-m", type=float, default=None)
    parser.add_argument("--p-median-aggregate-m", type=float, default=3000.0)
    parser.add_argument("--threshold", type=float, default=60.0)
    parser.add_argument("--time-limit", type=float, default=600.0)
    parser.add_argument("--p", type=int, nargs="*", default=[5, 10, 20, 30])
    parser.add_argument("--p-median", type=int, nargs="*", default=[10, 30])
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    cfg = load_config()
    threshold = args.threshold

    # The run's grid and facilities, and the network as the run builds it.
    grid, facilities, run_s = load_run(args.results)
    started = time.perf_counter()
    roads = gpd.read_file(cfg.data_path(cfg.layers.roads.path), layer="roads")
    network = RoadNetwork.from_lines(
        roads,
        crs=grid.crs,
        speeds=cfg.network.speeds_kmh,
        class_field=cfg.layers.roads.class_field,
        join_tolerance_m=cfg.network.join_tolerance_m,
    )
    network_s = time.perf_counter() - started

    # Candidates: every cell meeting the rules; demand: populated cells.
    started = time.perf_counter()
    screened = candidate_sites(grid, network=network)
    demand = demand_from_grid(grid, aggregate_m=args.aggregate_m)
    sites = site_table(facilities, screened, crs=network.crs)
    screen_s = time.perf_counter() - started
    net_kw = {
        "max_snap_m": cfg.network.max_snap_m,
        "access_speed_kmh": cfg.network.access_speed_kmh,
        "unit_field": "unit",
    }
    cover = SitingProblem.from_network(
        network, demand, sites, cutoff_min=threshold, **net_kw
    )
    coarse = demand_from_grid(grid, aggregate_m=args.p_median_aggregate_m or None)
    median = SitingProblem.from_network(
        network,
        coarse,
        sites,
        cutoff_min=4 * threshold,
        max_sites_per_demand=80,
        **net_kw,
    )

    # Models.
    limit = args.time_limit
    runs = []
    for p in args.p:
        sol = solve_mclp(cover, p, threshold, time_limit_s=limit)
        runs.append(figures(sol) | {"p": p})
        log.info("%s", runs[-1])
    sol = solve_lscp(cover, threshold, time_limit_s=limit)
    runs.append(figures(sol) | {"p": None})
    log.info("%s", runs[-1])
    for p in args.p_median:
        sol = solve_p_median(
            median, p, k=10, threshold_min=threshold, time_limit_s=limit
        )
        runs.append(figures(sol) | {"p": p})
        log.info("%s", runs[-1])

    n_fixed = int(sites["fixed"].sum())
    record = {
        "riskmap_version": riskmap.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "threshold_min": threshold,
        "grid_cells": len(grid),
        "populated_cells": int((grid["population"] > 0).sum()),
        "demand_units": len(demand),
        "aggregate_m": args.aggregate_m,
        "p_median_demand_units": len(coarse),
        "p_median_aggregate_m": args.p_median_aggregate_m,
        "candidates": len(screened),
        "existing_shelters": n_fixed,
        "network": repr(network),
        "pairs_cover": cover.n_pairs,
        "pairs_p_median": median.n_pairs,
        "seconds": {
            "pipeline_run": round(run_s, 1),
            "network": round(network_s, 2),
            "screen_candidates": round(screen_s, 2),
            "times_cover": round(cover.times_s, 2),
            "times_p_median": round(median.times_s, 2),
        },
        "runs": runs,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(record, indent=2), encoding="utf-8")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
