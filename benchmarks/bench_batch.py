"""Benchmark: every county-level unit of Guangxi as a Dask batch.

Runs :func:`riskmap.batch.run_batch` over the 111 units of Guangxi
(adcode 450000) on the coarse national layers (the 30″ DEM of meteva and
the 0.05° MODIS land cover, cut per unit through raster windows; the
scgraph-data major roads; county seats from the national weather
stations), once on a local cluster of one worker and once of two, each
worker a process with one thread. Both runs start from an empty output
folder and share the national-layer cache, built first and timed apart.

Inputs: the pinned wheels (``--wheels`` or ``RISKMAP_WHEELS``) and the
2020 census table of all counties in ``../shared/data/china`` (not part of
the project). Facilities are the county-seat proxies
(``seat_facilities``); maps are off unless ``--maps`` is given, so the
times are those of the analysis and its files.

It records wall time, units done and failed, the peak resident memory of
each worker process (``ru_maxrss`` read inside the tasks) and the speed-up
of two workers over one in ``benchmarks/results/batch.json``.

Usage::

    python benchmarks/bench_batch.py --wheels /work/wheels --cell-size 3000
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import riskmap
from riskmap.batch import BatchOptions, BatchReport, run_batch
from riskmap.config import load_config
from riskmap.regions import prepare_national_layers

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = ROOT.parent / "shared" / "data"
GUANGXI_BOX = (103.5, 20.0, 113.0, 27.0)  # the province and a margin


def write_config(folder: Path, cell_size: float) -> Path:
    """A batch configuration over the shared national population table."""
    population = SHARED / "china" / "county_population_2020.csv"
    quakes = SHARED / "baise" / "earthquakes_notable.csv"
    if not population.is_file():
        raise SystemExit(f"{population} is missing: the benchmark needs ../shared")
    path = folder / "guangxi.toml"
    path.write_text(
        f"""
[run]
name = "guangxi"
title = "广西壮族自治区 Guangxi"
data_dir = "{folder.as_posix()}"
out_dir = "{(folder / "out").as_posix()}"
cell_size_m = {cell_size}

# counties, dem and roads are taken from the national layers in a batch.
[layers.counties]
path = "unused.gpkg"
[layers.dem]
path = "unused.tif"
[layers.roads]
path = "unused.gpkg"
[layers.facilities]
path = "unused.gpkg"
[layers.population]
path = "{population.as_posix()}"
id_field = "CODE"
value_field = "POPU"
[layers.earthquakes]
path = "{quakes.as_posix()}"

# Off: the road-cut re-run stopped with an error on 48 of the 111 units
# when this benchmark was written, and the timings compare worker counts.
[scenarios.road_cut]
enabled = false
""",
        encoding="utf-8",
    )
    return path


def cpu_pressure() -> float | None:
    """Share of the last minute in which runnable tasks waited for a CPU.

    Linux pressure-stall information (``/proc/pressure/cpu``, "some
    avg60"): near 0 on an idle machine, near 100 when other processes
    keep every core busy.
    """
    try:
        line = Path("/proc/pressure/cpu").read_text().splitlines()[0]
        return float(line.split()[2].split("=")[1])
    except (OSError, IndexError, ValueError):
        return None


def summarise(report: BatchReport, workers: int) -> dict[str, Any]:
    """Times and memory of one run."""
    peak: dict[int, float] = {}
    for info in report.units:
        pid = int(info["pid"])
        peak[pid] = max(peak.get(pid, 0.0), float(info.get("peak_rss_mb") or 0.0))
    unit_seconds = [float(u["seconds"]) for u in report.units]
    cpu = sum(float(u.get("cpu_seconds") or 0.0) for u in report.units)
    return {
        "workers": workers,
        "seconds": round(report.seconds, 1),
        "units_done": len(report.done),
        "units_failed": len(report.failed),
        "failed": report.failed,
        "unit_seconds_sum": round(sum(unit_seconds), 1),
        "unit_seconds_max": round(max(unit_seconds, default=0.0), 2),
        "unit_cpu_seconds_sum": round(cpu, 1),
        # Share of the workers' wall time spent on the CPU; well below 1
        # when other processes compete for the cores.
        "worker_cpu_share": round(cpu / (workers * report.seconds), 2),
        "cells": int(sum(int(u["cells"] or 0) for u in report.units)),
        "peak_rss_mb_per_worker": sorted(round(v, 1) for v in peak.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--wheels", default=os.environ.get("RISKMAP_WHEELS"))
    parser.add_argument("--cell-size", type=float, default=3000.0)
    parser.add_argument("--units", default="450000")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--memory-limit", default="6GiB")
    parser.add_argument("--maps", action="store_true")
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--results", type=Path, default=HERE / "results" / "batch.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    work = args.work or Path(tempfile.mkdtemp(prefix="riskmap-bench-batch-"))
    work.mkdir(parents=True, exist_ok=True)
    cfg = load_config(write_config(work, args.cell_size))

    # National layers once, for the province's box.
    start = time.perf_counter()
    prepare_national_layers(work / "cache", args.wheels, box=GUANGXI_BOX)
    cache_seconds = time.perf_counter() - start

    runs = []
    for n in args.workers:
        out = work / f"out-{n}"
        shutil.rmtree(out, ignore_errors=True)
        options = BatchOptions(
            maps=args.maps,
            seat_facilities=True,
            cache_dir=str(work / "cache"),
            wheels=args.wheels,
        )
        load, pressure = os.getloadavg()[0], cpu_pressure()
        report = run_batch(
            cfg,
            args.units,
            out,
            workers=n,
            processes=True,
            memory_limit=args.memory_limit,
            retries=0,
            options=options,
        )
        runs.append(
            summarise(report, n)
            | {
                "load_average_at_start": round(load, 2),
                "load_average_at_end": round(os.getloadavg()[0], 2),
                "cpu_pressure_some_avg60_at_start": pressure,
                "cpu_pressure_some_avg60_at_end": cpu_pressure(),
            }
        )
        print(json.dumps(runs[-1], ensure_ascii=False))

    base = next((r["seconds"] for r in runs if r["workers"] == 1), None)
    for run in runs:
        run["speed_up"] = round(base / run["seconds"], 2) if base else None
    record = {
        "what": f"riskmap batch over units {args.units} (450000: 111 units)",
        "cell_size_m": args.cell_size,
        "maps": args.maps,
        "facilities": "county-seat proxies (seat_facilities)",
        "road_cut_scenario": False,
        "national_layers_build_seconds": round(cache_seconds, 1),
        "runs": runs,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "riskmap": riskmap.__version__,
        "date": time.strftime("%Y-%m-%d"),
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
