"""Loading vector layers and point tables built in tmp_path."""

from __future__ import annotations

import logging
import tempfile
import warnings
from csv import QUOTE_ALL
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Transformer
from shapely import LineString, Point, Polygon, box

from riskmap import datum
from riskmap.errors import CRSError, DatumError, FieldError, GeometryError, LayerError
from riskmap.layers import (
    Finding,
    area_m2,
    check_offset,
    findings_of,
    length_m,
    looks_projected,
    overlay_area_by_unit,
    polygonal_part,
    read_points_csv,
    read_vector,
    validate_layer,
)

BAISE = (106.62, 23.90)  # lon, lat of Youjiang district


def _points(n: int = 3) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"site_id": [f"S{i:03d}" for i in range(n)], "name": ["右江"] * n},
        geometry=[Point(BAISE[0] + 0.01 * i, BAISE[1]) for i in range(n)],
        crs=4326,
    )


def _write_without_crs(gdf: gpd.GeoDataFrame, path: Path) -> None:
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        gdf.set_crs(None, allow_override=True).to_file(path)


# --------------------------------------------------------------------------
# CRS


def test_missing_crs_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "roads.shp"
    _write_without_crs(_points(), path)
    with pytest.raises(CRSError) as info:
        read_vector(path)
    assert str(info.value) == (
        f"{path}, layer 'roads': no CRS is declared (no .prj file or CRS in the "
        "layer). "
        "Fix: pass crs='EPSG:4326' if the coordinates are WGS-84 lon/lat degrees."
    )


def test_missing_crs_of_metres_suggests_a_grid(tmp_path: Path) -> None:
    path = tmp_path / "zones.shp"
    _write_without_crs(gpd.GeoDataFrame(geometry=[Point(359000, 2644000)]), path)
    with pytest.raises(CRSError, match=r"pass the grid .* crs='EPSG:4545'"):
        read_vector(path)


def test_explicit_crs_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "roads.shp"
    _write_without_crs(_points(), path)
    gdf = read_vector(path, crs="EPSG:4326")
    assert gdf.crs.to_epsg() == 4326
    assert gdf.geometry.x.iloc[0] == pytest.approx(BAISE[0])


def test_explicit_crs_overriding_the_file_warns(tmp_path: Path) -> None:
    path = tmp_path / "p.gpkg"
    _points().to_crs(32648).to_file(path)
    with pytest.warns(UserWarning, match="the passed CRS is used"):
        read_vector(path, crs="EPSG:32649")


def test_other_crs_is_reprojected_and_noted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "p.gpkg"
    _points().to_crs(32648).to_file(path)
    with caplog.at_level(logging.INFO, logger="riskmap.layers"):
        gdf = read_vector(path)
    assert gdf.crs.to_epsg() == 4326
    assert gdf.geometry.x.iloc[0] == pytest.approx(BAISE[0], abs=1e-9)
    assert "reprojected from EPSG:32648 to EPSG:4326" in caplog.text
    assert any(f.level == "fixed" for f in findings_of(gdf))


def test_projected_coordinates_labelled_as_degrees(tmp_path: Path) -> None:
    path = tmp_path / "p.gpkg"
    gpd.GeoDataFrame(geometry=[Point(359000, 2644000)], crs=4326).to_file(path)
    with pytest.raises(CRSError, match=r"x=359000, y=2.644e\+06, beyond ±180/±90"):
        read_vector(path)


def test_degrees_labelled_as_projected_warn(tmp_path: Path) -> None:
    path = tmp_path / "p.gpkg"
    gpd.GeoDataFrame(geometry=[Point(*BAISE)], crs=32648).to_file(path)
    with pytest.warns(UserWarning, match="like lon/lat degrees"):
        read_vector(path)


@pytest.mark.parametrize(
    ("geoms", "expected"),
    [
        ([Point(106.6, 23.9)], False),
        ([Point(-180, -90), Point(180, 90)], False),
        ([Point(359000, 2644000)], True),
        ([Point(500, 10)], True),
        ([Point(10, 500)], True),
        ([None, Point()], False),
        ([], False),
    ],
)
def test_looks_projected(geoms: list, expected: bool) -> None:
    assert looks_projected(gpd.GeoSeries(geoms)) is expected


@pytest.mark.parametrize("epsg", [4544, 4545, 4490])
def test_cgcs2000_grids_end_up_east_first(tmp_path: Path, epsg: int) -> None:
    # a point built in the grid (CM 105E for 4544, 108E for 4545)
    lon, lat = (105.3, 23.4) if epsg == 4544 else BAISE
    x, y = Transformer.from_crs(4326, epsg, always_xy=True).transform(lon, lat)
    path = tmp_path / f"g{epsg}.gpkg"
    gpd.GeoDataFrame(geometry=[Point(x, y)], crs=epsg).to_file(path)
    gdf = read_vector(path)
    # CGCS2000 and WGS-84 agree to a few centimetres
    assert gdf.geometry.x.iloc[0] == pytest.approx(lon, abs=1e-6)
    assert gdf.geometry.y.iloc[0] == pytest.approx(lat, abs=1e-6)


def test_survey_table_with_x_as_northing_is_swapped(tmp_path: Path) -> None:
    east, north = Transformer.from_crs(4326, 4545, always_xy=True).transform(*BAISE)
    path = tmp_path / "控制点.csv"
    # Chinese survey convention: X is the northing, Y the easting
    path.write_text(f"id,X,Y\nK1,{north},{east}\n", encoding="utf-8")
    gdf = read_points_csv(path, x="Y", y="X", crs="EPSG:4545")
    assert gdf.geometry.x.iloc[0] == pytest.approx(BAISE[0], abs=1e-6)
    swapped = read_points_csv(path, x="X", y="Y", crs="EPSG:4545")
    assert swapped.geometry.x.iloc[0] == pytest.approx(BAISE[0], abs=1e-6)
    assert swapped.geometry.y.iloc[0] == pytest.approx(BAISE[1], abs=1e-6)
    assert any("swapped" in f.message for f in findings_of(swapped))


# --------------------------------------------------------------------------
# Chinese datums


@pytest.mark.parametrize(
    ("name", "forward"),
    [("gcj02", datum.wgs84_to_gcj02), ("bd09", datum.wgs84_to_bd09)],
)
def test_web_map_csv_is_converted(tmp_path: Path, name: str, forward: object) -> None:
    lon = np.array([106.61, 106.63, 107.12])
    lat = np.array([23.90, 23.91, 23.60])
    wlon, wlat = forward(lon, lat)  # type: ignore[operator]
    path = tmp_path / f"{name}.csv"
    rows = [
        f"F{i},{float(a)!r},{float(b)!r}"
        for i, (a, b) in enumerate(zip(wlon, wlat, strict=True))
    ]
    path.write_text("id,lon,lat\n" + "\n".join(rows) + "\n", encoding="utf-8")
    gdf = read_points_csv(path, datum=name)
    assert np.allclose(gdf.geometry.x, lon, atol=1e-6)
    assert np.allclose(gdf.geometry.y, lat, atol=1e-6)


def test_datum_per_row(tmp_path: Path) -> None:
    glon, glat = datum.wgs84_to_gcj02(np.array([106.6]), np.array([23.9]))
    path = tmp_path / "mixed.csv"
    path.write_text(
        f"id,lon,lat,datum\nA,106.6,23.9,wgs84\nB,{float(glon[0])!r},{float(glat[0])!r},GCJ-02\n",
        encoding="utf-8",
    )
    gdf = read_points_csv(path, datum_field="datum")
    assert np.allclose(gdf.geometry.x, [106.6, 106.6], atol=1e-6)
    assert np.allclose(gdf.geometry.y, [23.9, 23.9], atol=1e-6)


def test_unknown_datum_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "p.gpkg"
    _points().to_file(path)
    with pytest.raises(DatumError, match=rf"^{path}: unknown datum 'osgb36'"):
        read_vector(path, datum="osgb36")


def test_gcj02_layer_converted_on_load(tmp_path: Path) -> None:
    pts = _points()
    glon, glat = datum.wgs84_to_gcj02(
        pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy()
    )
    path = tmp_path / "gcj.gpkg"
    pts.set_geometry(gpd.points_from_xy(glon, glat), crs=4326).to_file(path)
    gdf = read_vector(path, datum="gcj02")
    assert np.allclose(gdf.geometry.x, pts.geometry.x, atol=1e-6)


def _roads() -> gpd.GeoDataFrame:
    lines = [
        LineString([(106.55 + 0.02 * i, 23.85), (106.55 + 0.02 * i, 23.95)])
        for i in range(6)
    ] + [
        LineString([(106.5, 23.85 + 0.02 * i), (106.7, 23.85 + 0.02 * i)])
        for i in range(6)
    ]
    return gpd.GeoDataFrame(geometry=lines, crs=4326)


def _on_roads() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    lon = 106.55 + 0.02 * rng.integers(0, 6, 40)
    lat = rng.uniform(23.86, 23.94, 40)
    return lon, lat


def test_check_offset_flags_a_gcj02_layer() -> None:
    lon, lat = _on_roads()
    glon, glat = datum.wgs84_to_gcj02(lon, lat)
    shifted = gpd.GeoDataFrame(geometry=gpd.points_from_xy(glon, glat), crs=4326)
    with pytest.warns(UserWarning, match="look offset.*datum='gcj02'"):
        finding = check_offset(shifted, _roads(), name="facilities")
    assert isinstance(finding, Finding)
    assert finding.level == "warning"


def test_check_offset_quiet_for_a_wgs84_layer() -> None:
    lon, lat = _on_roads()
    right = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
    assert check_offset(right, _roads()) is None


# --------------------------------------------------------------------------
# Encodings, paths and layer names


def test_gbk_shapefile_without_cpg_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "counties.shp"
    _points().to_file(path, encoding="gbk")
    path.with_suffix(".cpg").unlink()
    gdf = read_vector(path)
    assert gdf["name"].tolist() == ["右江"] * 3
    assert any("GB18030" in f.message for f in findings_of(gdf))


def test_gbk_shapefile_declared(tmp_path: Path) -> None:
    path = tmp_path / "counties.shp"
    _points().to_file(path, encoding="gbk")
    path.with_suffix(".cpg").unlink()
    assert read_vector(path, encoding="gbk")["name"].tolist() == ["右江"] * 3


def test_utf8_shapefile_without_cpg_stays_utf8(tmp_path: Path) -> None:
    path = tmp_path / "counties.shp"
    _points().to_file(path, encoding="utf-8")
    path.with_suffix(".cpg").unlink()
    gdf = read_vector(path)
    assert gdf["name"].tolist() == ["右江"] * 3
    assert not findings_of(gdf)


def test_chinese_path_and_layer_name(tmp_path: Path) -> None:
    folder = tmp_path / "百色市 应急"
    folder.mkdir()
    path = folder / "避难场所.gpkg"
    _points().to_file(path, layer="避难场所")
    _points(1).to_file(path, layer="仓库")
    gdf = read_vector(path, layer="避难场所", id_field="site_id")
    assert len(gdf) == 3
    with pytest.raises(LayerError, match=r"holds 2 layers .* none was named"):
        read_vector(path)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(LayerError, match=r"does not exist\. Fix: check the path"):
        read_vector(tmp_path / "无.gpkg")


def test_csv_bom_and_gbk(tmp_path: Path) -> None:
    bom = tmp_path / "bom.csv"
    bom.write_text("lon,lat,名称\n106.6,23.9,右江\n", encoding="utf-8-sig")
    assert read_points_csv(bom)["名称"].tolist() == ["右江"]
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("lon,lat,名称\n106.6,23.9,右江\n".encode("gbk"))
    gdf = read_points_csv(gbk)
    assert gdf["名称"].tolist() == ["右江"]
    assert any("GB18030" in f.message for f in findings_of(gdf))


# --------------------------------------------------------------------------
# Geometry


def test_empty_and_missing_geometries_dropped(tmp_path: Path) -> None:
    path = tmp_path / "z.gpkg"
    gpd.GeoDataFrame(
        {"zid": ["a", "b", "c"]},
        geometry=[box(106, 23, 106.1, 23.1), None, Polygon()],
        crs=4326,
    ).to_file(path)
    with pytest.warns(UserWarning, match="2 of 3 features have a missing or empty"):
        gdf = read_vector(path, id_field="zid")
    assert gdf["zid"].tolist() == ["a"]
    assert list(gdf.index) == [0]


def test_no_geometry_at_all_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "z.gpkg"
    gpd.GeoDataFrame({"zid": ["a"]}, geometry=[None], crs=4326).to_file(path)
    with (
        pytest.raises(GeometryError, match="none of the 1 features has a geometry"),
        pytest.warns(UserWarning),
    ):
        read_vector(path)


def test_z_values_dropped(tmp_path: Path) -> None:
    path = tmp_path / "river.gpkg"
    line = LineString([(106.6, 23.9, 120.0), (106.7, 23.95, 118.0)])
    gpd.GeoDataFrame(geometry=[line], crs=4326).to_file(path)
    gdf = read_vector(path)
    assert not gdf.geometry.has_z.any()
    assert length_m(gdf).iloc[0] == pytest.approx(
        length_m(gpd.GeoSeries([shapely.force_2d(line)], crs=4326)).iloc[0]
    )


def test_mixed_kinds_and_collections(tmp_path: Path) -> None:
    gc = shapely.GeometryCollection(
        [box(106, 23, 106.1, 23.1), LineString([(106.1, 23.1), (106.2, 23.2)])]
    )
    lines_only = shapely.GeometryCollection([LineString([(106, 23), (106.1, 23)])])
    path = tmp_path / "mixed.geojson"
    gpd.GeoDataFrame(
        {"k": ["gc", "line-gc", "poly"]},
        geometry=[gc, lines_only, box(106.2, 23, 106.3, 23.1)],
        crs=4326,
    ).to_file(path)
    with pytest.warns(UserWarning, match="1 geometry collections held no polygon"):
        gdf = read_vector(path)
    assert gdf["k"].tolist() == ["gc", "poly"]
    assert set(gdf.geom_type) == {"Polygon"}


def test_mixed_points_and_polygons_warn(tmp_path: Path) -> None:
    path = tmp_path / "m.geojson"
    gpd.GeoDataFrame(
        geometry=[box(106, 23, 106.1, 23.1), Point(106.05, 23.05)], crs=4326
    ).to_file(path)
    with pytest.warns(UserWarning, match=r"mixes geometry kinds \(point, polygon\)"):
        gdf = read_vector(path)
    assert len(gdf) == 2


def test_polygonal_part_of_kinds() -> None:
    assert polygonal_part(None) is None
    assert polygonal_part(Polygon()) is None
    assert polygonal_part(Point(0, 0)) is None
    assert polygonal_part(box(0, 0, 1, 1)).area == 1.0


# --------------------------------------------------------------------------
# Fields and IDs


def test_missing_required_field_named(tmp_path: Path) -> None:
    path = tmp_path / "f.gpkg"
    _points().to_file(path, layer="facilities")
    with pytest.raises(FieldError) as info:
        read_vector(path, required_fields=("site_id", "capacity"), name="shelters")
    assert str(info.value) == (
        f"{path}, layer 'shelters', field 'capacity': required field(s) "
        "'capacity' missing; the layer has: site_id, name. Fix: rename the "
        "column(s) in the data or point the configuration at the right field "
        "names."
    )


def test_duplicated_ids_reported(tmp_path: Path) -> None:
    path = tmp_path / "f.gpkg"
    gdf = _points()
    gdf["site_id"] = ["A", "A", "B"]
    gdf.to_file(path)
    with pytest.warns(UserWarning, match=r"1 IDs occur more than once \(A\)"):
        read_vector(path, id_field="site_id")


def test_numeric_ids_become_text(tmp_path: Path) -> None:
    path = tmp_path / "f.gpkg"
    gdf = _points()
    gdf["code"] = [451002, 451003, 9007199254740993]
    gdf.to_file(path)
    out = read_vector(path, id_field="code")
    assert out["code"].tolist() == ["451002", "451003", "9007199254740993"]


def test_duplicated_index_labels_keep_areas_apart() -> None:
    gdf = gpd.GeoDataFrame(
        geometry=[box(106, 23, 106.1, 23.1), box(106, 23, 106.2, 23.1)],
        index=[7, 7],
        crs=4326,
    )
    areas = area_m2(gdf)
    assert list(areas.index) == [7, 7]
    assert areas.iloc[1] == pytest.approx(2 * areas.iloc[0], rel=1e-3)
    units = gpd.GeoDataFrame(
        {"u": ["x", "x"]}, geometry=[box(105, 22, 107, 24)] * 2, index=[0, 0], crs=4326
    )
    pieces = overlay_area_by_unit(gdf, units, "u")
    assert len(pieces) == 4


def test_area_in_metres_for_any_crs() -> None:
    square = gpd.GeoSeries([box(500000, 2600000, 501000, 2601000)], crs=32648)
    assert area_m2(square).iloc[0] == pytest.approx(1e6, rel=1e-3)
    with pytest.raises(CRSError, match="no CRS"):
        area_m2(gpd.GeoSeries([box(0, 0, 1, 1)]))


def test_blank_coordinates_dropped_never_nan_points(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text(
        "id,lon,lat\nA,106.6,23.9\nB,,23.9\nC,106.7,\nD,n/a,23.9\n", encoding="utf-8"
    )
    with pytest.warns(
        UserWarning, match=r"3 rows have blank or non-numeric .* \(lines 3, 4, 5\)"
    ):
        gdf = read_points_csv(path, id_field="id")
    assert gdf["id"].tolist() == ["A"]
    assert np.isfinite(gdf.geometry.x).all()


def test_only_asked_columns_become_numbers(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("code,cap,lon,lat\n0451,12,106.6,23.9\n", encoding="utf-8")
    gdf = read_points_csv(path, numeric_fields=("cap",))
    assert gdf["code"].tolist() == ["0451"]
    assert gdf["cap"].tolist() == [12]


def test_csv_missing_coordinate_column(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("id,x,y\nA,1,2\n", encoding="utf-8")
    with pytest.raises(
        FieldError, match="'lon', 'lat' missing; the layer has: id, x, y"
    ):
        read_points_csv(path)


def test_timestamps_with_mixed_zones_go_to_utc(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        "lon,lat,t\n106.6,23.9,2024-05-03T09:30:00+08:00\n106.6,23.9,2024-05-03T01:30:00Z\n",
        encoding="utf-8",
    )
    gdf = read_points_csv(path)
    assert gdf["t"].iloc[0] == gdf["t"].iloc[1]


# --------------------------------------------------------------------------
# validate_layer


def test_validate_layer_turns_errors_into_findings(tmp_path: Path) -> None:
    path = tmp_path / "roads.shp"
    _write_without_crs(_points(), path)
    (finding,) = validate_layer(path)
    assert finding.level == "error"
    assert finding.fix is not None and "crs=" in finding.fix


def test_validate_layer_lists_warnings_without_warning(tmp_path: Path) -> None:
    path = tmp_path / "f.gpkg"
    gdf = _points()
    gdf["site_id"] = ["A", "A", "B"]
    gdf.to_file(path)
    findings = validate_layer(path, id_field="site_id")
    assert [f.level for f in findings] == ["warning"]
    assert findings[0].field == "site_id"


# --------------------------------------------------------------------------
# Property tests

_coord = st.floats(min_value=0.0, max_value=0.05, allow_nan=False)
_ring = st.lists(st.tuples(_coord, _coord), min_size=3, max_size=8)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_ring)
def test_random_polygons_load_with_the_right_area(
    ring: list[tuple[float, float]],
) -> None:
    poly = Polygon([(106.6 + x, 23.9 + y) for x, y in ring])
    expected = polygonal_part(shapely.make_valid(poly))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "z.gpkg"
        gpd.GeoDataFrame({"zid": ["z"]}, geometry=[poly], crs=4326).to_file(path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            try:
                gdf = read_vector(path)
            except GeometryError:
                assert poly.is_empty
                return
    if expected is None:
        assert gdf.empty or (area_m2(gdf) == 0).all()
        return
    want = area_m2(gpd.GeoSeries([expected], crs=4326)).iloc[0]
    assert area_m2(gdf).sum() == pytest.approx(want, rel=1e-9, abs=1e-6)


_odd_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=40,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_odd_text, _odd_text)
def test_odd_strings_survive_csv_and_gpkg(name: str, ident: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        csv = Path(folder) / "f.csv"
        pd.DataFrame(
            {"id": [ident], "name": [name], "lon": ["106.6"], "lat": ["23.9"]}
        ).to_csv(csv, index=False, quoting=QUOTE_ALL)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            gdf = read_points_csv(csv, id_field="id")
        assert gdf["name"].tolist() == [name]
        assert gdf["id"].tolist() == [ident]
        gpkg = Path(folder) / "f.gpkg"
        gdf.to_file(gpkg)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            back = read_vector(gpkg, id_field="id")
        assert back["name"].tolist() == [name]
        assert back["id"].tolist() == [ident]


def test_warnings_point_at_the_callers_line(tmp_path: Path) -> None:
    path = tmp_path / "f.gpkg"
    gdf = _points()
    gdf["site_id"] = ["A", "A", "B"]
    gdf.to_file(path)
    with pytest.warns(UserWarning, match="more than once") as record:
        read_vector(path, id_field="site_id")
    assert record[0].filename == __file__


def test_swapped_lon_lat_named_in_the_error(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("id,lon,lat\nA,23.9,106.6\n", encoding="utf-8")
    with pytest.raises(CRSError, match="longitude and latitude look swapped"):
        read_points_csv(path)


def test_findings_name_the_layer_inside_the_file(tmp_path: Path) -> None:
    path = tmp_path / "f.gpkg"
    _points().to_crs(32648).to_file(path, layer="shelters")
    (finding,) = findings_of(read_vector(path))
    assert (finding.layer, finding.level) == ("shelters", "fixed")


def test_overlay_repairs_invalid_inputs() -> None:
    bowtie = Polygon([(106.0, 23.0), (106.1, 23.1), (106.1, 23.0), (106.0, 23.1)])
    zones = gpd.GeoDataFrame(geometry=[bowtie], crs=4326)
    units = gpd.GeoDataFrame({"u": ["a"]}, geometry=[box(105, 22, 107, 24)], crs=4326)
    pieces = overlay_area_by_unit(zones, units, "u")
    want = area_m2(gpd.GeoSeries([shapely.make_valid(bowtie)], crs=4326)).iloc[0]
    assert pieces["area_m2"].sum() == pytest.approx(want, rel=1e-9)


def _numeric_id_shapefile(path: Path, ids: list[str]) -> None:
    """A shapefile whose ID field is numeric (N) but holds the given digits."""
    gdf = _points(len(ids))
    gdf["code"] = ids
    gdf[["code", "geometry"]].to_file(path)
    dbf = path.with_suffix(".dbf")
    raw = bytearray(dbf.read_bytes())
    assert raw[32:36] == b"code"
    raw[32 + 11] = ord("N")
    dbf.write_bytes(bytes(raw))


def test_numeric_shapefile_ids_keep_every_digit(tmp_path: Path) -> None:
    ids = ["0451002", "9007199254740993", "9223372036854779905"]
    path = tmp_path / "ids.shp"
    _numeric_id_shapefile(path, ids)
    gdf = read_vector(path, id_field="code")
    assert gdf["code"].tolist() == ids
    assert any(f.field == "code" and f.level == "fixed" for f in findings_of(gdf))


def test_numeric_geojson_ids_keep_every_digit(tmp_path: Path) -> None:
    path = tmp_path / "ids.geojson"
    path.write_text(
        '{"type": "FeatureCollection", "features": ['
        '{"type": "Feature", "properties": {"code": 4510021000010000001},'
        ' "geometry": {"type": "Point", "coordinates": [106.6, 23.9]}},'
        '{"type": "Feature", "properties": {"code": 9007199254740993},'
        ' "geometry": {"type": "Point", "coordinates": [106.7, 23.9]}}]}',
        encoding="utf-8",
    )
    gdf = read_vector(path, id_field="code")
    assert gdf["code"].tolist() == ["4510021000010000001", "9007199254740993"]


@pytest.mark.parametrize("sep", ["\t", ";"])
def test_tab_and_semicolon_tables(tmp_path: Path, sep: str) -> None:
    path = tmp_path / "f.txt"
    path.write_text(
        sep.join(["id", "lon", "lat"]) + "\n" + sep.join(["A", "106.6", "23.9"]) + "\n",
        encoding="utf-8",
    )
    assert read_points_csv(path)["id"].tolist() == ["A"]


def test_blank_spreadsheet_rows_are_skipped_quietly(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("id,lon,lat\nA,106.6,23.9\n,,\n , ,\n", encoding="utf-8")
    assert read_points_csv(path)["id"].tolist() == ["A"]
