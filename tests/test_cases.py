"""Every awkward input in ../shared/cases, checked against EXPECTED.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from riskmap._io import atomic_path, safe_filename, within, write_vector_atomic
from riskmap.layers import (
    area_m2,
    dissolve_area_m2,
    findings_of,
    overlay_area_by_unit,
    read_points_csv,
    read_vector,
)
from riskmap.rasters import read_raster, zonal_mean

# Gauss–Krüger grid metres (the EXPECTED areas) and geodesic metres differ
# by the grid's scale error, about 0.05 % this far from the central meridian.
GRID_REL = 1e-3


@pytest.fixture(scope="module")
def expected(cases_dir: Path) -> dict[str, Any]:
    return json.loads((cases_dir / "EXPECTED.json").read_text(encoding="utf-8"))


def test_case01_areas_are_geodesic_metres(cases_dir: Path, expected: dict) -> None:
    want = expected["case-01"]["area_km2_geodesic"]
    gdf = read_vector(cases_dir / "case01_counties_4326.geojson", id_field="adcode")
    got = dict(zip(gdf["adcode"], area_m2(gdf) / 1e6, strict=True))
    assert set(got) == set(want)
    for code, km2 in want.items():
        assert got[code] == pytest.approx(km2, rel=0.005)
    assert all(isinstance(code, str) for code in gdf["adcode"])


def _case06(cases_dir: Path) -> gpd.GeoDataFrame:
    return read_vector(
        cases_dir / "case06_invalid_hazard_polygons.gpkg",
        layer="hazard_zones",
        id_field="zone_id",
    )


def test_case06_repair_keeps_every_lobe(cases_dir: Path, expected: dict) -> None:
    want = expected["case-06"]["valid_area_m2"]
    gdf = _case06(cases_dir)
    got = dict(zip(gdf["zone_id"], area_m2(gdf), strict=True))
    for zone, m2 in want.items():
        assert got[zone] == pytest.approx(m2, rel=GRID_REL)
    # buffer(0) halves the symmetric bow-tie; the repair must not
    assert (
        got["HZ-BOWTIE-SYM"]
        > 1.5 * expected["case-06"]["buffer0_area_m2_here"]["HZ-BOWTIE-SYM"]
    )
    assert shapely.is_valid(gdf.geometry.array).all()


def test_case06_repairs_are_reported(cases_dir: Path) -> None:
    fixed = [f for f in findings_of(_case06(cases_dir)) if "repaired" in f.message]
    assert len(fixed) == 1
    assert fixed[0].level == "fixed"
    for zone in ("HZ-BOWTIE-SKEW", "HZ-BOWTIE-SYM", "HZ-TOUCH"):
        assert zone in fixed[0].message
    assert "HZ-OK" not in fixed[0].message


def test_case08_dissolve_by_county(cases_dir: Path, expected: dict) -> None:
    areas = dissolve_area_m2(_case06(cases_dir), "county")
    assert len(areas) == 1
    want = expected["case-08"]["dissolve_by_county_area_m2"]
    assert float(areas.iloc[0]) == pytest.approx(want, rel=GRID_REL)


def _case09(cases_dir: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    path = cases_dir / "case09_overlay_counties_hazards.gpkg"
    counties = read_vector(path, layer="counties", id_field="adcode")
    hazards = read_vector(path, layer="hazards", id_field="hazard_id")
    return counties, hazards


def test_case09_raw_overlay_is_a_collection(cases_dir: Path, expected: dict) -> None:
    path = cases_dir / "case09_overlay_counties_hazards.gpkg"
    counties = pyogrio.read_dataframe(path, layer="counties").set_index("adcode")
    hazards = pyogrio.read_dataframe(path, layer="hazards").set_index("hazard_id")
    raw = shapely.intersection(hazards.geometry["H2"], counties.geometry["451002"])
    assert raw.geom_type == expected["case-09"]["H2_x_451002_raw_type"]


def test_case09_keeps_polygonal_part(cases_dir: Path, expected: dict) -> None:
    counties, hazards = _case09(cases_dir)
    pieces = overlay_area_by_unit(hazards, counties, "adcode", zone_field="hazard_id")
    h2 = pieces[pieces["hazard_id"] == "H2"]
    # H2 shares only an edge with 451003: no piece there
    assert h2["adcode"].tolist() == ["451002"]
    assert set(h2.geom_type) <= {"Polygon", "MultiPolygon"}
    want = expected["case-09"]["H2_x_451002_polygon_area_m2"]
    assert float(h2["area_m2"].iloc[0]) == pytest.approx(want, rel=GRID_REL)


def test_case10_split_zone_counted_once_per_county(
    cases_dir: Path, expected: dict
) -> None:
    want = expected["case-10"]
    counties, hazards = _case09(cases_dir)
    pieces = overlay_area_by_unit(hazards, counties, "adcode", zone_field="hazard_id")
    h1 = pieces[pieces["hazard_id"] == "H1"]
    assert len(h1) == want["H1_rows_after_intersection"]
    by_county = dict(zip(h1["adcode"], h1["area_m2"], strict=True))
    for code, m2 in want["H1_area_by_county_m2"].items():
        assert by_county[code] == pytest.approx(m2, rel=GRID_REL)
    assert h1["area_m2"].sum() == pytest.approx(want["H1_total_m2"], rel=GRID_REL)
    # the split preserves the zone's own area
    whole = area_m2(hazards[hazards["hazard_id"] == "H1"]).iloc[0]
    assert h1["area_m2"].sum() == pytest.approx(whole, rel=1e-6)


def test_case12_z_dropped(cases_dir: Path, expected: dict) -> None:
    want = expected["case-12"]
    with pytest.warns(UserWarning, match="mixes geometry kinds"):
        gdf = read_vector(cases_dir / "case12_hazard_zone_3d.geojson", id_field="fid")
    assert not shapely.has_z(gdf.geometry.array).any()
    assert any("Z values dropped" in f.message for f in findings_of(gdf))
    by_id = gdf.set_index("fid").geometry
    zone = by_id["ZONE-3D"]
    assert area_m2(gpd.GeoSeries([zone], crs=4326)).iloc[0] / 1e6 == pytest.approx(
        want["area_km2_geodesic_2d"], rel=1e-4
    )
    assert zone.contains(by_id["FAC-INSIDE-HIGHZ"]) is want["FAC-INSIDE-HIGHZ_inside"]
    assert zone.contains(by_id["FAC-OUTSIDE-LOWZ"]) is want["FAC-OUTSIDE-LOWZ_inside"]


def test_case16_ids_read_exactly(cases_dir: Path, expected: dict) -> None:
    gdf = read_points_csv(cases_dir / "case16_facility_ids.csv", id_field="facility_id")
    assert gdf["facility_id"].tolist() == expected["case-16"]["facility_id_exact_text"]


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".csv"])
def test_case16_ids_survive_write_and_read(
    cases_dir: Path, expected: dict, tmp_path: Path, suffix: str
) -> None:
    gdf = read_points_csv(cases_dir / "case16_facility_ids.csv", id_field="facility_id")
    target = tmp_path / f"out{suffix}"
    if suffix == ".csv":
        with atomic_path(target) as tmp:
            gdf.drop(columns="geometry").to_csv(tmp, index=False)
    else:
        write_vector_atomic(gdf, target)
    if suffix == ".csv":
        back = read_points_csv(target, id_field="facility_id")
    else:
        back = read_vector(target, id_field="facility_id")
    assert back["facility_id"].tolist() == expected["case-16"]["facility_id_exact_text"]


def test_case18_area_weighted_zonal_mean(cases_dir: Path, expected: dict) -> None:
    zones = read_vector(
        cases_dir / "case18_small_zones.gpkg", layer="zones", id_field="zone_id"
    )
    got = zonal_mean(
        cases_dir / "case18_hazard_grid_100m.tif", zones, id_field="zone_id"
    )
    want = expected["case-18"]["per_zone"]
    assert set(got.index) == set(want)
    for zone, values in want.items():
        assert got[zone] == pytest.approx(values["area_weighted_mean"], abs=0.01)


def test_case20_scale_applied(cases_dir: Path, expected: dict) -> None:
    want = expected["case-20"]
    raster = read_raster(cases_dir / "case20_rainfall_scaled_int16.tif")
    assert int((raster.data >= 100).sum()) == want["cells_ge_100mm_scaled"]
    assert float(raster.data.max()) == pytest.approx(want["max_mm"])
    assert float(raster.data.min()) == pytest.approx(want["min_mm"])
    assert int(raster.data.count()) == want["valid_cells"]


def _case28(cases_dir: Path) -> gpd.GeoDataFrame:
    return read_points_csv(
        cases_dir / "case28_facilities_special_text.csv", id_field="facility_id"
    )


def test_case28_text_read_exactly(cases_dir: Path, expected: dict) -> None:
    want = expected["case-15/27/28"]
    gdf = _case28(cases_dir)
    assert gdf["name"].tolist() == want["names_exact"]
    assert gdf["county"].tolist() == want["counties_exact"]


def test_case28_timestamps_keep_their_zone(cases_dir: Path, expected: dict) -> None:
    gdf = _case28(cases_dir)
    assert isinstance(gdf["last_inspected"].dtype, pd.DatetimeTZDtype)
    iso = [t.isoformat() for t in gdf["last_inspected"]]
    assert iso == expected["case-15/27/28"]["last_inspected_iso"]


def test_case28_file_names_stay_in_folder(cases_dir: Path, tmp_path: Path) -> None:
    for county in _case28(cases_dir)["county"]:
        path = within(tmp_path, safe_filename(county))
        assert path.parent == tmp_path.resolve()
        assert "/" not in safe_filename(county)


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson"])
def test_case28_timestamps_survive_files(
    cases_dir: Path, expected: dict, tmp_path: Path, suffix: str
) -> None:
    target = tmp_path / f"facilities{suffix}"
    write_vector_atomic(_case28(cases_dir), target)
    back = read_vector(target, id_field="facility_id")
    iso = [t.isoformat() for t in back["last_inspected"]]
    assert iso == expected["case-15/27/28"]["last_inspected_iso"]
    assert back["name"].tolist() == expected["case-15/27/28"]["names_exact"]
