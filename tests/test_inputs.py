"""Loading a run's layers: alternative sources for roads."""

from __future__ import annotations

from pathlib import Path

import pytest

from riskmap.config import load_config
from riskmap.grid import build_grid
from riskmap.pipeline import build_network, load_inputs
from tests.test_network import OSM_XML


def test_roads_from_an_osm_extract(tmp_path: Path) -> None:
    pytest.importorskip("osmium")
    (tmp_path / "右江.osm").write_text(OSM_XML, encoding="utf-8")
    cfg = load_config()
    assert cfg.layers is not None
    cfg.layers.roads.path = str(tmp_path / "右江.osm")
    inputs = load_inputs(cfg)
    assert set(inputs.roads["highway"]) == {"primary", "tertiary"}
    grid = build_grid(inputs.counties, "adcode", cell_size_m=10_000)
    cfg.network.slope_factor = False
    net = build_network(inputs, cfg, grid)
    assert net is not None
    assert (net.n_nodes, net.n_edges) == (4, 3)
    # the oneway=-1 way is only open against its drawing direction
    m = net.matrix.toarray()
    assert (m > 0).sum() == 5
