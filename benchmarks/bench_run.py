"""Benchmark of ``riskmap run`` on the default Baise data.

Measures wall time and peak memory (maximum resident set size) of the whole
main job in a fresh process, and, as the named baseline measured in the
same run, a process that only imports riskmap and loads every input layer
(``riskmap.pipeline.load_inputs``): the I/O floor no analysis can beat.
The ratio says how much the analysis and map making add on top of reading
the data.

Usage::

    python benchmarks/bench_run.py [--repeat 1] [--json benchmarks/results/run.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASELINE = (
    "from riskmap.config import load_config; "
    "from riskmap.pipeline import load_inputs; load_inputs(load_config())"
)


def _measure(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, err = proc.communicate()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} failed:\n{err.decode()[-2000:]}")
    # ru_maxrss of RUSAGE_CHILDREN is the largest child so far (KiB on Linux)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return wall, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--json", type=Path, default=Path(__file__).parent / "results" / "run.json"
    )
    args = parser.parse_args()

    base_times, run_times, base_peak, run_peak = [], [], 0.0, 0.0
    for _ in range(args.repeat):
        wall, peak = _measure([sys.executable, "-c", BASELINE])
        base_times.append(wall)
        base_peak = max(base_peak, peak)
    with tempfile.TemporaryDirectory() as out:
        for _ in range(args.repeat):
            cmd = [sys.executable, "-m", "riskmap", "run", "-q", "--out", out]
            wall, peak = _measure(cmd)
            run_times.append(wall)
            run_peak = max(run_peak, peak)

    result = {
        "benchmark": "riskmap run, default Baise data (12 counties, 1 km grid)",
        "baseline": "load_inputs only (import + read every layer)",
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "run_wall_s": min(run_times),
        "baseline_wall_s": min(base_times),
        "ratio_run_to_baseline": min(run_times) / min(base_times),
        "run_peak_rss_mib_upper_bound": run_peak,
        "baseline_peak_rss_mib": base_peak,
        "repeat": args.repeat,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
