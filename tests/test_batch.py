"""Tests of riskmap.batch and riskmap.regions: many units on Dask.

Three small Baise counties on 3 km cells, with the national layers cut to
a box around Baise so that the cache builds in seconds. Every test needs
the pinned wheels (``RISKMAP_WHEELS``, default ``/work/wheels``) and
``../shared``; each skips when they are absent.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from riskmap.batch import (
    BatchOptions,
    batch_command,
    is_up_to_date,
    merge_units,
    read_manifest,
    run_batch,
    run_unit,
)
from riskmap.config import load_config
from riskmap.errors import ConfigError, RiskmapError
from riskmap.layers import area_m2
from riskmap.regions import (
    find_wheels,
    prepare_national_layers,
    select_units,
    unit_boundaries,
    unit_table,
)

pytest.importorskip("distributed")

UNITS = ["451026", "451003", "451002"]  # Napo, Tianyang, Youjiang
BAISE_BOX = (104.2, 22.4, 108.4, 25.6)

# Dask's own notices on shutdown of a local cluster, not ours to fix.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:Port .* is already in use:UserWarning"),
    pytest.mark.filterwarnings("ignore:Creating scratch directories:UserWarning"),
]


@pytest.fixture(scope="module")
def wheels() -> Path:
    folder = Path(os.environ.get("RISKMAP_WHEELS", "/work/wheels"))
    try:
        find_wheels(folder)
    except RiskmapError:
        pytest.skip(f"the pinned wheels are not in {folder}")
    return folder


@pytest.fixture(scope="module")
def options(wheels: Path, tmp_path_factory: pytest.TempPathFactory) -> BatchOptions:
    cache = tmp_path_factory.mktemp("national")
    prepare_national_layers(cache, wheels, box=BAISE_BOX)
    return BatchOptions(
        maps=False, seat_facilities=True, cache_dir=str(cache), wheels=str(wheels)
    )


def _write_config(folder: Path, data_dir: Path, population: str) -> Path:
    path = folder / "batch.toml"
    path.write_text(
        f"""
[run]
name = "baise-batch"
data_dir = "{data_dir.as_posix()}"
out_dir = "{(folder / "out").as_posix()}"
cell_size_m = 3000

[layers.counties]
path = "cnmaps/baise_counties_wgs84.geojson"
[layers.population]
path = "{population}"
id_field = "adcode"
value_field = "population_2020"
[layers.dem]
path = "meteva_dem/meteva_dem30s_baise.tif"
[layers.roads]
path = "scgraph_world_highways/world_highways_baise_bbox.geojson"
[layers.facilities]
path = "no_facility_list.gpkg"
[layers.rivers]
path = "gshhg_wdb2_rivers/wdb2_rivers_f_baise_bbox.geojson"
[layers.earthquakes]
path = "earthquakes_notable.csv"
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def config_file(baise_shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("config")
    return _write_config(folder, baise_shared, "population_2020.csv")


@pytest.fixture(scope="module")
def sequential(
    config_file: Path, options: BatchOptions, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The three units run one after the other in this process, merged."""
    cfg = load_config(config_file)
    out = tmp_path_factory.mktemp("sequential")
    for code in UNITS:
        assert run_unit(code, cfg, out, options=options)["status"] == "done"
    merge_units(out, UNITS, cfg)
    return out


@pytest.fixture(scope="module")
def distributed_out(
    config_file: Path, options: BatchOptions, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, object]:
    """The same units as a batch on a local cluster of two workers."""
    out = tmp_path_factory.mktemp("distributed")
    report = run_batch(
        load_config(config_file),
        ",".join(UNITS),
        out,
        workers=2,
        processes=False,
        options=options,
    )
    return out, report


def _read(out: Path, layer: str) -> gpd.GeoDataFrame:
    frame = gpd.read_file(out / "merged.gpkg", layer=layer)
    key = ["adcode", "cell_id"] if layer == "grid" else ["adcode"]
    return frame.sort_values(key, ignore_index=True)


def test_units_of_guangxi_and_baise(wheels: Path) -> None:
    table = unit_table(wheels)
    assert len(select_units(["450000"], table)) == 111
    assert len(select_units(["451000"], table)) == 12
    with pytest.raises(ConfigError, match="matches no county-level unit"):
        select_units(["459900"], table)


def test_boundaries_are_converted_from_gcj02(wheels: Path, baise_shared: Path) -> None:
    ours = unit_boundaries(UNITS, wheels).set_index("adcode")
    shared = gpd.read_file(baise_shared / "cnmaps" / "baise_counties_wgs84.geojson")
    shared = shared.assign(adcode=shared["adcode"].astype(str)).set_index("adcode")
    ours_pt = ours.geometry.representative_point()
    # Within metres of the converted copy; the GCJ-02 offset is ~500 m.
    for code in UNITS:
        assert ours.loc[code, "name"] == shared.loc[code, "name"]
        assert shared.geometry[code].contains(ours_pt[code])
        assert shared.geometry[code].hausdorff_distance(ours.geometry[code]) < 1e-4
    ratio = area_m2(ours).to_numpy() / area_m2(shared.loc[UNITS]).to_numpy()
    assert ratio == pytest.approx(1.0, abs=1e-4)


def test_batch_equals_sequential(sequential: Path, distributed_out: tuple) -> None:
    out, report = distributed_out
    assert sorted(report.done) == sorted(UNITS)
    assert not report.failed and not report.skipped
    for layer in ("counties", "grid"):
        a, b = _read(sequential, layer), _read(out, layer)
        assert len(a) == len(b) > 0
        pd.testing.assert_frame_equal(
            pd.DataFrame(a.drop(columns="geometry")),
            pd.DataFrame(b.drop(columns="geometry")),
        )
        assert a.geometry.geom_equals_exact(b.geometry, tolerance=1e-9).all()
    counties = _read(out, "counties")
    assert counties["adcode"].tolist() == sorted(UNITS)
    assert counties["risk_class_all"].notna().all()
    assert (out / "units" / "451026" / "results.gpkg").is_file()
    assert read_manifest(out / "units" / "451026")["cells"] > 0


def test_resume_skips_up_to_date_units(
    config_file: Path, options: BatchOptions, distributed_out: tuple
) -> None:
    out, _ = distributed_out
    cfg = load_config(config_file)
    units = out / "units"
    before = (units / "451002" / MANIFEST_NAME).stat().st_mtime_ns
    again = run_batch(cfg, UNITS, out, workers=1, processes=False, options=options)
    assert sorted(again.skipped) == sorted(UNITS) and not again.done
    assert (units / "451002" / MANIFEST_NAME).stat().st_mtime_ns == before

    # Changed outputs (or no manifest) make a unit stale; only it is redone.
    digest = read_manifest(units / "451003")["fingerprint"]
    assert is_up_to_date(units / "451003", digest)
    with open(units / "451003" / "summary.csv", "a", encoding="utf-8") as f:
        f.write("\n")
    assert not is_up_to_date(units / "451003", digest)
    assert not is_up_to_date(units / "999999", digest)
    third = run_batch(cfg, UNITS, out, workers=1, processes=False, options=options)
    assert third.done == ["451003"]
    assert third.skipped == ["451002", "451026"]
    assert is_up_to_date(
        units / "451003", read_manifest(units / "451003")["fingerprint"]
    )


MANIFEST_NAME = "manifest.json"


def test_failing_unit_is_reported(
    baise_shared: Path, options: BatchOptions, tmp_path: Path
) -> None:
    table = pd.read_csv(baise_shared / "population_2020.csv", dtype=str)
    table = table[table["adcode"] != "451003"]
    table.to_csv(tmp_path / "population.csv", index=False)
    cfg = load_config(
        _write_config(tmp_path, baise_shared, (tmp_path / "population.csv").as_posix())
    )
    report = run_batch(
        cfg,
        ["451026", "451003"],
        tmp_path / "out",
        workers=2,
        processes=False,
        retries=1,
        options=options,
    )
    assert report.done == ["451026"]
    assert list(report.failed) == ["451003"]
    assert "no population for unit 451003" in report.failed["451003"]
    assert "failed   FieldError" in report.table()
    assert not (tmp_path / "out" / "units" / "451003").exists()
    assert _read(tmp_path / "out", "counties")["adcode"].tolist() == ["451026"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_worker(address: str, timeout: float) -> None:
    from distributed import Client

    with Client(address, timeout=timeout) as client:
        client.wait_for_workers(1, timeout=timeout)


def test_batch_through_a_separate_scheduler(
    config_file: Path, options: BatchOptions, tmp_path: Path
) -> None:
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = os.environ | {"PYTHONWARNINGS": "ignore"}
    py = [sys.executable, "-m"]
    procs = []
    try:
        procs.append(
            subprocess.Popen(
                [
                    *py,
                    "distributed.cli.dask_scheduler",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--no-dashboard",
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        procs.append(
            subprocess.Popen(
                [
                    *py,
                    "distributed.cli.dask_worker",
                    address,
                    "--nthreads",
                    "1",
                    "--no-nanny",
                    "--host",
                    "127.0.0.1",
                    "--no-dashboard",
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        _wait_for_worker(address, timeout=60)

        app = typer.Typer()
        app.command()(batch_command)
        start = time.perf_counter()
        result = CliRunner().invoke(
            app,
            [
                "--config",
                str(config_file),
                "--units",
                "451026",
                "--scheduler",
                address,
                "--out",
                str(tmp_path / "out"),
                "--cache",
                str(options.cache_dir),
                "--wheels",
                str(options.wheels),
                "--seat-facilities",
                "--no-maps",
                "--quiet",
            ],
        )
        assert result.exit_code == 0, result.output
        assert "1 done, 0 skipped (up to date), 0 failed" in result.output
        assert time.perf_counter() - start < 60
        manifest = read_manifest(tmp_path / "out" / "units" / "451026")
        assert manifest is not None and manifest["cells"] > 0
        assert (tmp_path / "out" / "merged.gpkg").is_file()
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
