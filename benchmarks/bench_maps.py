"""Benchmark of the maps of a run: file sizes and batch time for 12 counties.

Runs the analysis once on the default Baise data without maps, then

* writes the city web map and reports its size (target: under 10 MB);
* draws every county's web map and printable PNG with
  :func:`riskmap.mapbatch.write_county_maps` into an empty folder (the
  first run) and reports each file's size (target: web map under 3 MB);
* runs the batch again on the unchanged results: the named baseline, an
  up-to-date re-run that only fingerprints the results and skips every
  county; the ratio first / baseline is what the skipping saves;
* changes one county's cells and runs again: one county is redrawn.

Usage::

    python benchmarks/bench_maps.py [--cell-size 1000] [--dpi 150]
        [--json benchmarks/results/maps.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

from riskmap.config import load_config
from riskmap.mapbatch import write_county_maps
from riskmap.maps import city_map, save_map
from riskmap.pipeline import run

CITY_LIMIT_MB, COUNTY_LIMIT_MB = 10.0, 3.0


def _mb(path: Path) -> float:
    return round(path.stat().st_size / 1e6, 3)


def _batch(result: Any, folder: Path, dpi: int, grid: Any = None) -> tuple[float, dict]:
    start = time.perf_counter()
    out = write_county_maps(
        result.counties,
        result.grid if grid is None else grid,
        result.facilities,
        folder,
        places=result.places,
        dpi=dpi,
        progress=False,
    )
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cell-size", type=float, default=None, help="metres")
    parser.add_argument("--dpi", type=int, default=150)
    parser.add_argument(
        "--json", type=Path, default=Path(__file__).parent / "results" / "maps.json"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    cfg = load_config()
    if args.cell_size:
        cfg.run.cell_size_m = args.cell_size
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        start = time.perf_counter()
        result = run(cfg, out_dir=folder / "run", maps=False)
        analysis_s = time.perf_counter() - start

        # The city map.
        start = time.perf_counter()
        city = save_map(
            city_map(result.counties, result.grid, result.facilities,
                     places=result.places),
            folder / "maps" / "index.html",
        )  # fmt: skip
        city_s = time.perf_counter() - start

        # First run, the up-to-date re-run (baseline), one changed county.
        first_s, first = _batch(result, folder / "maps", args.dpi)
        again_s, again = _batch(result, folder / "maps", args.dpi)
        grid = result.grid.copy()
        changed = str(result.counties["adcode"].iloc[0])
        grid.loc[grid["adcode"] == changed, "risk_class"] = 5
        one_s, one = _batch(result, folder / "maps", args.dpi, grid)

        html = {code: _mb(p["html"]) for code, p in first["maps"].items()}
        png = {code: _mb(p["png"]) for code, p in first["maps"].items()}
        city_mb = _mb(city)
        n = len(first["maps"])

    report = {
        "benchmark": f"county maps of riskmap run, default Baise data ({n} "
        f"counties, {cfg.run.cell_size_m:g} m grid, PNG {args.dpi} dpi)",
        "baseline": "up-to-date re-run of write_county_maps (fingerprint, skip all)",
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "analysis_wall_s": round(analysis_s, 2),
        "city_map_wall_s": round(city_s, 2),
        "batch_first_wall_s": round(first_s, 2),
        "batch_first_s_per_county": round(first_s / n, 2),
        "batch_first_drawn": first["drawn"],
        "baseline_rerun_wall_s": round(again_s, 3),
        "baseline_rerun_skipped": again["skipped"],
        "ratio_first_to_baseline": round(first_s / again_s, 1),
        "one_changed_county_wall_s": round(one_s, 2),
        "one_changed_county_drawn": one["drawn"],
        "city_html_mb": city_mb,
        "city_html_under_limit": city_mb < CITY_LIMIT_MB,
        "county_html_mb": html,
        "county_html_max_mb": max(html.values()),
        "county_html_under_limit": max(html.values()) < COUNTY_LIMIT_MB,
        "county_png_mb": png,
        "county_png_max_mb": max(png.values()),
        "limits_mb": {"city_html": CITY_LIMIT_MB, "county_html": COUNTY_LIMIT_MB},
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
