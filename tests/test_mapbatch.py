"""Tests of riskmap.mapbatch: up-to-date skipping, safe names, real drawing."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest

from riskmap import mapbatch
from riskmap.errors import FieldError
from riskmap.mapbatch import MANIFEST_NAME, write_county_maps
from riskmap.maps import _example_layers

Layers = tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]


@pytest.fixture
def layers() -> Layers:
    return _example_layers()


@pytest.fixture
def draws(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replace the (slow) drawing by small files; record who was drawn."""
    drawn: list[str] = []

    def fake(code: str, *args: Any, **kwargs: Any) -> None:
        paths: Mapping[str, Path] = args[4]
        for path in paths.values():
            path.write_text(f"map of {code}", encoding="utf-8")
        drawn.append(code)

    monkeypatch.setattr(mapbatch, "_draw", fake)
    return drawn


def _mtimes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}


def test_rerun_with_same_results_skips_every_county(
    layers: Layers, draws: list[str], tmp_path: Path
) -> None:
    first = write_county_maps(*layers, tmp_path, progress=False)
    assert (first["drawn"], first["skipped"]) == (3, 0)
    assert sorted(draws) == ["451002", "451003", "451022"]
    assert first["maps"]["451003"]["html"] == (tmp_path / "451003.html").resolve()
    assert len(first["files"]) == 6
    before = _mtimes(tmp_path)

    again = write_county_maps(*_example_layers(), tmp_path, progress=False)
    assert (again["drawn"], again["skipped"]) == (0, 3)
    assert again["maps"] == first["maps"]
    assert _mtimes(tmp_path) == before  # not even the manifest is rewritten


def test_a_changed_county_is_redrawn_alone(
    layers: Layers, draws: list[str], tmp_path: Path
) -> None:
    counties, grid, facilities = layers
    write_county_maps(counties, grid, facilities, tmp_path, progress=False)
    draws.clear()

    grid = grid.copy()
    grid.loc[grid["adcode"] == "451022", "risk_class"] = 1
    out = write_county_maps(counties, grid, facilities, tmp_path, progress=False)
    assert (out["drawn"], out["skipped"], draws) == (1, 2, ["451022"])


def test_county_table_style_and_force_redraw_all(
    layers: Layers, draws: list[str], tmp_path: Path
) -> None:
    counties, grid, facilities = layers
    write_county_maps(counties, grid, facilities, tmp_path, progress=False)

    # Every page shows its neighbours' popups, so the county table counts
    # for all; so do the drawing options.
    changed = counties.copy()
    changed.loc[0, "population"] = 1201
    for kwargs in ({"dpi": 300}, {"air_min": 90.0}, {"force": True}):
        draws.clear()
        write_county_maps(changed, grid, facilities, tmp_path, progress=False)
        draws.clear()
        out = write_county_maps(
            changed, grid, facilities, tmp_path, progress=False, **kwargs
        )
        assert out["drawn"] == 3, kwargs


def test_missing_file_or_broken_manifest_redraws(
    layers: Layers,
    draws: list[str],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    write_county_maps(*layers, tmp_path, progress=False)
    (tmp_path / "451003.png").unlink()
    draws.clear()
    write_county_maps(*layers, tmp_path, progress=False)
    assert draws == ["451003"]

    (tmp_path / MANIFEST_NAME).write_text("{not json", encoding="utf-8")
    draws.clear()
    with caplog.at_level(logging.WARNING, logger="riskmap.mapbatch"):
        out = write_county_maps(*layers, tmp_path, progress=False)
    assert out["drawn"] == 3
    assert "unreadable" in caplog.text
    entries = json.loads((tmp_path / MANIFEST_NAME).read_text("utf-8"))["counties"]
    assert set(entries) == {"451002", "451003", "451022"}


def test_pdf_option_adds_files(
    layers: Layers, draws: list[str], tmp_path: Path
) -> None:
    out = write_county_maps(*layers, tmp_path, progress=False, pdf=True)
    assert out["maps"]["451002"]["pdf"].name == "451002.pdf"
    assert (tmp_path / "451002.pdf").is_file()
    assert len(out["files"]) == 9


@pytest.mark.parametrize(
    ("names", "stems"),
    [
        (
            ["../../outside", "那坡县:旧?*", "田阳县/田阳区"],
            ["outside", "那坡县_旧", "田阳县_田阳区"],
        ),
        # Names that clean to one text get the adcode appended.
        (["a/b", "a_b", ""], ["a_b", "a_b-451003", "451022"]),
    ],
)
def test_file_names_are_safe_and_distinct(
    layers: Layers,
    draws: list[str],
    tmp_path: Path,
    names: list[str],
    stems: list[str],
) -> None:
    counties, grid, facilities = layers
    counties = counties.assign(label=names)
    folder = tmp_path / "deep" / "maps"
    out = write_county_maps(
        counties, grid, facilities, folder, key="label", progress=False
    )
    got = [out["maps"][code]["html"].stem for code in counties["adcode"]]
    assert got == stems
    for path in out["files"]:
        assert path.parent == folder.resolve()
    # Nothing was written anywhere else.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep"]
    assert sorted(p.name for p in (tmp_path / "deep").iterdir()) == ["maps"]


def test_bad_arguments(layers: Layers, tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"unknown style option\(s\) \['colour'\]"):
        write_county_maps(*layers, tmp_path, colour="red")
    with pytest.raises(FieldError, match="no column 'label'"):
        write_county_maps(*layers, tmp_path, key="label")


@pytest.mark.slow
def test_real_maps_with_hostile_names(layers: Layers, tmp_path: Path) -> None:
    counties, grid, facilities = layers
    counties = counties.assign(name=["../../outside", "那坡县:旧?*", "田阳县/田阳区"])
    folder = tmp_path / "maps"
    out = write_county_maps(
        counties, grid, facilities, folder, key="name", progress=False
    )
    assert out["drawn"] == 3
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [MANIFEST_NAME]
        + [f"{s}.{e}" for s in ("outside", "那坡县_旧", "田阳县_田阳区")
           for e in ("html", "png")]
    )  # fmt: skip
    assert (folder / "outside.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (folder / "那坡县_旧.html").stat().st_size > 10_000
    # The hostile name is shown literally on the page, never as a path.
    assert "田阳县/田阳区" in (folder / "田阳县_田阳区.html").read_text("utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["maps"]
    again = write_county_maps(
        counties, grid, facilities, folder, key="name", progress=False
    )
    assert (again["drawn"], again["skipped"]) == (0, 3)
