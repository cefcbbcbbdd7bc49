"""Tests of the command line (in-process, through typer's runner)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from riskmap.cli import app
from riskmap.config import load_config
from riskmap.errors import ConfigError

runner = CliRunner()


def test_config_init_writes_an_editable_copy(tmp_path: Path) -> None:
    path = tmp_path / "我的配置.toml"
    result = runner.invoke(app, ["config", "init", str(path)])
    assert result.exit_code == 0, result.output
    cfg = load_config(path)
    assert cfg.layers is not None
    assert cfg.data_path(cfg.layers.dem.path).is_file()
    again = runner.invoke(app, ["config", "init", str(path)])
    assert again.exit_code == 2
    assert "exists; pass --force" in again.output


def test_validate_default_data_is_clean() -> None:
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 0, result.output
    assert "0 error(s)" in result.output


def test_validate_names_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    runner.invoke(app, ["config", "init", str(path)])
    text = path.read_text(encoding="utf-8").replace(
        "hazards/dem_30s.tif", "hazards/missing_dem.tif"
    )
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["validate", "--config", str(path)])
    assert result.exit_code == 1
    assert "missing_dem.tif" in result.output
    assert "does not exist" in result.output
    assert "1 error(s)" in result.output


def test_run_refuses_an_unknown_key(tmp_path: Path) -> None:
    path = tmp_path / "typo.toml"
    path.write_text("[risk]\nhazzard_weights = {}\n", encoding="utf-8")
    result = runner.invoke(app, ["run", "--config", str(path)])
    assert result.exit_code == 2
    assert "risk.hazzard_weights" in result.output


def test_hazard_weights_by_ahp(tmp_path: Path) -> None:
    path = tmp_path / "ahp.toml"
    runner.invoke(app, ["config", "init", str(path)])
    text = path.read_text(encoding="utf-8")
    text = text.replace("# hazard_ahp = {", "hazard_ahp = {")
    path.write_text(text, encoding="utf-8")
    weights = load_config(path).risk.hazard_weights
    # flood, geological and earthquake equal, fire judged half as important
    assert weights["flood"] == pytest.approx(2 / 7)
    assert weights["fire"] == pytest.approx(1 / 7)
    inconsistent = text.replace(
        'matrix = [[1, 1, 2, 1], [1, 1, 2, 1], ["1/2", "1/2", 1, "1/2"], [1, 1, 2, 1]]',
        'matrix = [[1, 9, "1/9", 1], ["1/9", 1, 9, 1], [9, "1/9", 1, 1], [1, 1, 1, 1]]',
    )
    path.write_text(inconsistent, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"CR"):
        load_config(path)
