"""Tests of the default hazard models on hand-made terrain."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from riskmap import hazards as hz
from riskmap.config import EarthquakeModel, FloodModel


def valley(n: int = 21) -> tuple[np.ndarray, np.ndarray]:
    """A V-shaped valley rising 20 m per cell away from a river column."""
    cols = np.abs(np.arange(n) - n // 2)
    elev = np.tile(100.0 + 20.0 * cols, (n, 1))
    river = np.zeros((n, n), dtype=bool)
    river[:, n // 2] = True
    return elev, river


def test_slope_of_a_known_ramp() -> None:
    elev, _ = valley()
    slope = hz.slope_deg(elev, 1000.0)
    assert slope[5, 2] == pytest.approx(np.degrees(np.arctan(20 / 1000)))


def test_flood_index_is_highest_on_the_valley_floor() -> None:
    elev, river = valley()
    idx, parts = hz.flood_index(elev, river, 1000.0)
    row = idx[10]
    assert row[10] == pytest.approx(1.0)
    assert row[10] > row[11] > row[12] > row[15]
    # hand-computed: 20 m above a river 1 km away
    p = FloodModel()
    expected = np.exp(-20 / p.hand_scale_m) * np.exp(-1 / p.river_distance_scale_km)
    assert row[11] == pytest.approx(expected)
    assert parts["hand_m"][10, 13] == pytest.approx(60.0)


def test_karst_depression_ponds_without_a_river() -> None:
    elev = np.full((9, 9), 500.0)
    elev[4, 4] = 470.0  # a closed sink 30 m deep
    idx, parts = hz.flood_index(elev, np.zeros_like(elev, dtype=bool), 1000.0)
    assert parts["depression_m"][4, 4] == pytest.approx(30.0)
    p = FloodModel()
    assert idx[4, 4] == pytest.approx(1 - np.exp(-(30 - p.ponding_min_depth_m) / 15.0))
    assert idx[0, 0] == 0.0


def test_geological_index_rises_with_steepness() -> None:
    gentle = np.tile(np.arange(10) * 10.0, (10, 1))
    steep = np.tile(np.arange(10) * 400.0, (10, 1))
    g1, _ = hz.geological_index(gentle, 1000.0)
    g2, _ = hz.geological_index(steep, 1000.0)
    assert g2[5, 5] > g1[5, 5]
    assert g1.min() >= 0.0 and g2.max() <= 1.0


def test_fire_needs_fuel() -> None:
    lc = np.array([[2.0, 2.0, 13.0, 17.0]])
    elev = np.zeros((1, 4))
    settle = np.array([[True, False, False, False]])
    idx, _parts = hz.fire_index(lc, elev, settle, 1000.0)
    assert idx[0, 2] == 0.0 and idx[0, 3] == 0.0
    assert idx[0, 0] > idx[0, 1] > 0  # same forest, nearer to people


def test_earthquake_intensity_uses_geodesic_distance() -> None:
    ev = pd.DataFrame(
        {"lon": [106.65], "lat": [22.89], "magnitude": [5.2], "depth_km": [10.0]}
    )
    p = EarthquakeModel()
    lon, lat = 107.0, 23.2
    _, _, d = Geod(ellps="WGS84").inv(106.65, 22.89, lon, lat)
    r = np.hypot(d / 1000, 10.0)
    expected = p.c0 + p.c1 * 5.2 - p.c2 * np.log(r + p.r0_km)
    got = hz.earthquake_intensity([lon], [lat], ev, p)
    assert got[0] == pytest.approx(expected)


def test_earthquake_index_takes_the_strongest_event_and_faults() -> None:
    intensity = np.array([5.0, 7.0, 9.5])
    fault_km = np.array([0.0, 50.0, 50.0])
    idx = hz.earthquake_index(intensity, fault_km)
    assert idx.tolist()[1:] == [0.5, 1.0]
    assert idx[0] == pytest.approx(EarthquakeModel().fault_weight)
