"""Benchmark: nearest-facility times on the world major-road graph.

Reads the ``world_highways`` graph of the ``scgraph-data`` 2.0.0 wheel
straight out of the wheel (a Python module holding ``graph``, a list of
``{neighbour: km}`` dicts, and ``nodes``, a list of ``[lat, lon]``), builds a
:class:`riskmap.network.RoadNetwork` from it, numbers its nodes along a
Z-order curve (:meth:`RoadNetwork.reordered`, part of the timed build) and
times, in the same run on identical inputs:

* riskmap: one multi-source Dijkstra pass over the CSR matrix
  (:func:`riskmap.reachability.nearest_node_times`), and the full
  :func:`riskmap.reachability.nearest_facility` call with point snapping;
* networkx: ``multi_source_dijkstra_path_length`` on the same graph
  (``RoadNetwork.to_networkx``, same node numbers).

The riskmap pass is also timed on the input node numbering, for reference.
Each networkx run is paired with riskmap runs just before and after it, so
both sides meet the same load on a shared machine; the median ratio of
these pairs is the headline speed-up, next to the best-of-runs ratios.
Wall and CPU (``time.process_time``) seconds are both recorded.

It checks that the times agree, measures peak memory of each side with
tracemalloc in separate, untimed passes, writes
``benchmarks/results/network.json`` and prints a summary.

Usage::

    python benchmarks/bench_network.py --wheel /path/scgraph_data-2.0.0-py3-none-any.whl
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import scipy
from pyproj import Transformer

import riskmap
from riskmap.network import RoadNetwork
from riskmap.reachability import nearest_facility, nearest_node_times

HERE = Path(__file__).resolve().parent
MEMBER = "scgraph_data/world_highways.py"
PROJECTED = "EPSG:8857"  # Equal Earth, metres: only used to place points


def fetch_wheel(target: Path) -> Path:
    """Download the scgraph-data 2.0.0 wheel with pip (no dependencies)."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "scgraph-data==2.0.0",
            "-d",
            str(target),
        ],
        check=True,
    )
    return next(target.glob("scgraph_data-2.0.0-*.whl"))


def read_world_graph(
    wheel: Path,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Node lat/lon and undirected edges (u < v, km) from the wheel.

    The module text is parsed with plain string operations (no ``exec``):
    every ``{...}`` of ``graph`` is the adjacency of one node in order.
    """
    text = zipfile.ZipFile(wheel).read(MEMBER).decode()
    g_start = text.index("graph=[") + len("graph=[")
    n_start = text.index("nodes=[", g_start)
    g_text = text[g_start : text.rindex("]", g_start, n_start)]
    n_end = text.index("]]", n_start) + 1
    n_text = text[n_start + len("nodes=[") : n_end]

    # Degrees from the colons per dict; keys and weights alternate.
    blocks = g_text.split("}")[:-1]
    degree = np.fromiter(
        (b.count(":") for b in blocks), dtype=np.int64, count=len(blocks)
    )
    numbers = np.array(
        g_text.translate(str.maketrans("{}:,", "    ")).split(), dtype=float
    )
    latlon = np.array(
        n_text.translate(str.maketrans("[],", "   ")).split(), dtype=float
    )
    latlon = latlon.reshape(-1, 2)
    if len(latlon) != len(degree) or len(numbers) != 2 * degree.sum():
        raise ValueError(f"{wheel}: unexpected layout of {MEMBER}")
    row = np.repeat(np.arange(len(degree)), degree)
    col = numbers[0::2].astype(np.int64)
    km = numbers[1::2]

    # Each edge is listed from both ends: keep u < v (loops carry nothing).
    keep = row < col
    return latlon, row[keep], col[keep], km[keep]


def timed(
    func: Callable[[], Any], repeat: int = 1
) -> tuple[Any, list[float], list[float]]:
    """Run ``func`` ``repeat`` times; return the last result, wall and CPU times.

    CPU time (``time.process_time``) is reported beside wall time because a
    shared machine makes wall time noisy.
    """
    wall, cpu = [], []
    result = None
    for _ in range(repeat):
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        result = func()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return result, wall, cpu


def peak_mb(func: Callable[[], Any]) -> float:
    """Peak traced Python/numpy memory of ``func`` in MB."""
    gc.collect()
    tracemalloc.start()
    try:
        func()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--wheel", type=Path, help="scgraph_data-2.0.0 wheel")
    parser.add_argument("--facilities", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5, help="riskmap runs")
    parser.add_argument("--nx-repeat", type=int, default=3, help="networkx runs")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-memory", action="store_true", help="skip tracemalloc")
    parser.add_argument(
        "--output", type=Path, default=HERE / "results" / "network.json"
    )
    args = parser.parse_args(argv)

    wheel = args.wheel or fetch_wheel(Path(tempfile.mkdtemp()))
    (latlon, u, v, km), (t_parse,), _ = timed(lambda: read_world_graph(wheel))
    x, y = Transformer.from_crs("EPSG:4326", PROJECTED, always_xy=True).transform(
        latlon[:, 1], latlon[:, 0]
    )
    xy = np.column_stack([x, y])

    # riskmap: build the CSR network (60 km/h, the 'major' class speed),
    # then number the nodes along a Z-order curve (RoadNetwork.reordered).
    def build_input_order() -> RoadNetwork:
        return RoadNetwork.from_edges(xy, u, v, km * 1000.0, crs=PROJECTED)

    def build() -> RoadNetwork:
        return build_input_order().reordered()

    plain, (t_build_plain,), _ = timed(build_input_order)
    net, (t_build,), (c_build,) = timed(build)
    comp = net.components()
    rng = np.random.default_rng(args.seed)
    fac_input = np.sort(rng.choice(net.n_nodes, size=args.facilities, replace=False))
    new_of = np.argsort(net.input_node)
    fac_nodes = new_of[fac_input]
    xy = net.node_xy

    # riskmap: the graph pass (also on the input numbering), then the full
    # call with points and snapping.
    (rm_time, rm_src), t_pass, c_pass = timed(
        lambda: nearest_node_times(net, fac_nodes, direction="from_facility"),
        args.repeat,
    )
    (plain_time, _), t_plain, c_plain = timed(
        lambda: nearest_node_times(plain, fac_input, direction="from_facility"),
        args.repeat,
    )
    plain_same = bool(np.array_equal(plain_time[net.input_node], rm_time))
    unique_xy = np.unique(xy, axis=0, return_index=True)[1]
    origin_nodes = np.sort(unique_xy)  # one node per location: exact snap
    origins = gpd.GeoSeries(gpd.points_from_xy(*xy[origin_nodes].T), crs=PROJECTED)
    facilities = gpd.GeoSeries(
        gpd.points_from_xy(*xy[fac_nodes].T), index=fac_nodes, crs=PROJECTED
    )
    full, t_full, c_full = timed(
        lambda: nearest_facility(
            net,
            origins,
            facilities,
            direction="from_facility",
            snap_to="node",
            max_snap_m=1.0,
        ),
        args.repeat,
    )

    # networkx on the same graph.
    graph, (t_nx_build,), (c_nx_build,) = timed(net.to_networkx)

    def nx_pass() -> dict[int, float]:
        return nx.multi_source_dijkstra_path_length(
            graph, set(fac_nodes.tolist()), weight="time_min"
        )

    def rm_pass() -> tuple[np.ndarray, np.ndarray]:
        return nearest_node_times(net, fac_nodes, direction="from_facility")

    # Interleave: riskmap runs just before and after every networkx run, so
    # both meet the same load on a shared machine; one ratio per pair.
    t_nx: list[float] = []
    c_nx: list[float] = []
    pairs: list[dict[str, float]] = []
    for _ in range(args.nx_repeat):
        _, wall_before, cpu_before = timed(rm_pass, 3)
        ref, wall_nx, cpu_nx = timed(nx_pass)
        _, wall_after, cpu_after = timed(rm_pass, 3)
        t_nx += wall_nx
        c_nx += cpu_nx
        rm_wall = min(wall_before + wall_after)
        rm_cpu = min(cpu_before + cpu_after)
        pairs.append(
            {
                "networkx_s": wall_nx[0],
                "riskmap_s": rm_wall,
                "ratio_wall": wall_nx[0] / rm_wall,
                "ratio_cpu": cpu_nx[0] / rm_cpu,
            }
        )
    nx_time = np.full(net.n_nodes, np.inf)
    nx_time[np.fromiter(ref.keys(), dtype=np.int64)] = np.fromiter(ref.values(), float)

    # Agreement.
    both = np.isfinite(nx_time)
    same_reach = bool(np.array_equal(both, np.isfinite(rm_time)))
    diff = np.abs(rm_time[both] - nx_time[both])
    exact = int((rm_time == nx_time).sum())
    full_t = full["time_min"].to_numpy()
    full_ref = nx_time[origin_nodes]
    full_same_reach = bool(np.array_equal(np.isfinite(full_t), np.isfinite(full_ref)))
    finite = np.isfinite(full_ref)
    full_diff = np.abs(full_t[finite] - full_ref[finite])
    served = rm_time[fac_nodes[np.maximum(rm_src, 0)]]
    src_ok = bool((served[both] == 0).all())

    # Peak memory in untimed passes.
    memory: dict[str, float] = {}
    if not args.no_memory:
        del graph
        gc.collect()
        memory["riskmap_build_mb"] = peak_mb(build)
        memory["riskmap_pass_mb"] = peak_mb(
            lambda: nearest_node_times(net, fac_nodes, direction="from_facility")
        )
        memory["riskmap_full_call_mb"] = peak_mb(
            lambda: nearest_facility(
                net,
                origins,
                facilities,
                direction="from_facility",
                snap_to="node",
                max_snap_m=1.0,
            )
        )

        def nx_all() -> None:
            g = net.to_networkx()
            nx.multi_source_dijkstra_path_length(
                g, set(fac_nodes.tolist()), weight="time_min"
            )

        memory["networkx_build_and_pass_mb"] = peak_mb(nx_all)
    memory["process_max_rss_mb"] = (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
    )

    result = {
        "graph": {
            "source": f"scgraph-data 2.0.0 wheel, {MEMBER}",
            "nodes": net.n_nodes,
            "edges": net.n_edges,
            "arcs": int(net.matrix.nnz),
            "components": comp.count,
            "largest_component": int(comp.sizes[0]),
            "facilities": int(args.facilities),
            "origins_full_call": len(origin_nodes),
            "weight": "time_min at 60 km/h (km weights x 1000 m / 1000 m per min)",
            "node_numbering": "Z-order (RoadNetwork.reordered); networkx gets the "
            "same numbered graph",
        },
        "seconds": {
            "parse_wheel": t_parse,
            "riskmap_build_input_order": t_build_plain,
            "riskmap_build": t_build,
            "riskmap_pass_input_order": min(t_plain),
            "riskmap_pass": min(t_pass),
            "riskmap_pass_all": t_pass,
            "riskmap_full_call": min(t_full),
            "riskmap_full_call_all": t_full,
            "networkx_build": t_nx_build,
            "networkx_pass": min(t_nx),
            "networkx_pass_all": t_nx,
        },
        "cpu_seconds": {
            "riskmap_build": c_build,
            "riskmap_pass_input_order": min(c_plain),
            "riskmap_pass": min(c_pass),
            "riskmap_full_call": min(c_full),
            "networkx_build": c_nx_build,
            "networkx_pass": min(c_nx),
        },
        "interleaved_pairs": pairs,
        "speedup": {
            "interleaved_median_wall": float(
                np.median([p["ratio_wall"] for p in pairs])
            ),
            "interleaved_median_cpu": float(np.median([p["ratio_cpu"] for p in pairs])),
            "pass_vs_networkx_pass": min(t_nx) / min(t_pass),
            "pass_vs_networkx_pass_cpu": min(c_nx) / min(c_pass),
            "input_order_pass_vs_networkx_pass": min(t_nx) / min(t_plain),
            "input_order_pass_vs_networkx_pass_cpu": min(c_nx) / min(c_plain),
            "full_call_vs_networkx_pass": min(t_nx) / min(t_full),
            "build_vs_networkx_build": t_nx_build / t_build,
        },
        "load_average_1min_at_end": os.getloadavg()[0],
        "cpus": os.cpu_count(),
        "agreement": {
            "same_reachable_set": same_reach,
            "input_order_pass_identical": plain_same,
            "nodes_compared": int(both.sum()),
            "exactly_equal": exact,
            "max_abs_diff_min": float(diff.max()) if len(diff) else 0.0,
            "full_call_same_reachable_set": full_same_reach,
            "full_call_max_abs_diff_min": float(full_diff.max())
            if len(full_diff)
            else 0.0,
            "serving_facility_consistent": src_ok,
        },
        "memory": memory,
        "environment": {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "riskmap": riskmap.__version__,
            "scipy": scipy.__version__,
            "networkx": nx.__version__,
            "numpy": np.__version__,
        },
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(summary(result))
    return result


def summary(r: dict[str, Any]) -> str:
    g, s, k, a, m = (
        r[x] for x in ("graph", "seconds", "speedup", "agreement", "memory")
    )
    lines = [
        f"world_highways: {g['nodes']:,} nodes, {g['edges']:,} edges, "
        f"{g['components']} components; {g['facilities']} facilities",
        f"riskmap build {s['riskmap_build']:.2f} s | networkx build "
        f"{s['networkx_build']:.2f} s",
        f"riskmap pass {s['riskmap_pass']:.3f} s | full call with snapping "
        f"{s['riskmap_full_call']:.3f} s | networkx pass {s['networkx_pass']:.3f} s",
        f"speed-up, interleaved pairs (median): "
        f"{k['interleaved_median_wall']:.1f}x wall, "
        f"{k['interleaved_median_cpu']:.1f}x CPU",
        f"speed-up, best of each: pass {k['pass_vs_networkx_pass']:.1f}x wall, "
        f"{k['pass_vs_networkx_pass_cpu']:.1f}x CPU (input numbering "
        f"{k['input_order_pass_vs_networkx_pass']:.1f}x wall, "
        f"{k['input_order_pass_vs_networkx_pass_cpu']:.1f}x CPU); full call "
        f"{k['full_call_vs_networkx_pass']:.1f}x (load average "
        f"{r['load_average_1min_at_end']:.1f} on {r['cpus']} CPUs)",
        f"agreement: same reach {a['same_reachable_set']}, "
        f"{a['exactly_equal']:,}/{g['nodes']:,} equal, max diff "
        f"{a['max_abs_diff_min']:.3g} min",
        "peak memory (MB): " + ", ".join(f"{key} {val:.0f}" for key, val in m.items()),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
