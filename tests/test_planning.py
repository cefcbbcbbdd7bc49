"""Tests of ``riskmap site`` on a coarse run of the Baise data."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from typer.testing import CliRunner

from riskmap.cli import app
from riskmap.config import load_config
from riskmap.errors import LayerError
from riskmap.planning import site_from_run

pytestmark = pytest.mark.slow
runner = CliRunner()


@pytest.fixture(scope="module")
def coarse(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("site")
    cfg_path = folder / "coarse.toml"
    runner.invoke(app, ["config", "init", str(cfg_path)])
    # road trips only, as siting measures them
    text = (
        cfg_path.read_text(encoding="utf-8")
        .replace("cell_size_m = 1000", "cell_size_m = 3000")
        .replace("direct_max_m = 5000.0", "direct_max_m = 0.0")
    )
    cfg_path.write_text(text, encoding="utf-8")
    out = folder / "run"
    result = runner.invoke(
        app, ["run", "-q", "--no-maps", "--config", str(cfg_path), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return cfg_path, out


def test_new_shelters_raise_coverage(coarse: tuple[Path, Path]) -> None:
    cfg_path, out = coarse
    result = runner.invoke(
        app, ["site", str(out), "--config", str(cfg_path), "-p", "5"]
    )
    assert result.exit_code == 0, result.output
    cov = pd.read_csv(out / "sites_coverage.csv", dtype={"unit": str}).set_index("unit")
    assert cov.loc["all", "share_after"] > cov.loc["all", "share_before"]
    assert (cov["share_after"] >= cov["share_before"] - 1e-9).all()
    # before equals the run's own shelter reach
    summary = pd.read_csv(out / "summary.csv", dtype={"adcode": str})
    run_share = (
        summary["pop_share_shelter_reach"] * summary["population"]
    ).sum() / summary["population"].sum()
    assert cov.loc["all", "share_before"] == pytest.approx(run_share, abs=0.01)
    sites = gpd.read_file(out / "sites.gpkg", layer="sites")
    assert int(sites["new"].astype(bool).sum()) == 5
    page = (out / "siting.html").read_text(encoding="utf-8")
    assert "before" in page.lower() and "after" in page.lower()


def test_site_needs_a_finished_run(tmp_path: Path) -> None:
    with pytest.raises(LayerError, match=r"no results\.gpkg"):
        site_from_run(load_config(), tmp_path)
