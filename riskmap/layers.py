"""Load and check input layers: vector files, point tables and their findings.

Every loader returns data in EPSG:4326 (WGS-84 lon/lat) and records what it
found and fixed as :class:`Finding` objects in
``gdf.attrs["riskmap_findings"]``. Problems that can be fixed safely are
fixed and reported with a ``UserWarning``; the rest raise an error from
:mod:`riskmap.errors` that names the file, layer, field and the fix.

Areas and lengths are always in metres, measured geodesically on the
WGS-84 ellipsoid (:func:`area_m2`, :func:`length_m`).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS, Geod
from pyproj.exceptions import CRSError as ProjCRSError

from riskmap.errors import (
    CRSError,
    DatumError,
    FieldError,
    GeometryError,
    LayerError,
)

__all__ = [
    "FINDINGS_ATTR",
    "SOURCE_ATTR",
    "Finding",
    "area_m2",
    "check_offset",
    "dissolve_area_m2",
    "findings_of",
    "length_m",
    "looks_projected",
    "overlay_area_by_unit",
    "polygonal_part",
    "read_points_csv",
    "read_vector",
    "validate_layer",
    "warn_data",
]

logger = logging.getLogger(__name__)

FINDINGS_ATTR = "riskmap_findings"
SOURCE_ATTR = "riskmap_source"
WGS84 = "EPSG:4326"
_GEOD = Geod(ellps="WGS84")

Level = Literal["error", "warning", "fixed"]


@dataclass(frozen=True)
class Finding:
    """One thing a check found in a layer.

    Attributes
    ----------
    level : {"error", "warning", "fixed"}
        ``error``: the layer cannot be used; ``warning``: usable, but the
        user should look; ``fixed``: riskmap repaired or converted it.
    path : str
        The file that holds the layer.
    layer : str or None
        The layer's name (inside the file, or in the configuration).
    field : str or None
        The attribute column concerned, if any.
    message : str
        What was found, as a full sentence.
    fix : str or None
        What the user can do about it.

    Examples
    --------
    >>> f = Finding("fixed", "zones.gpkg", "zones", None, "2 rings repaired.")
    >>> f.level, f.fix
    ('fixed', None)
    """

    level: Level
    path: str
    layer: str | None
    field: str | None
    message: str
    fix: str | None = None


class _Report:
    """Collect findings for one layer; warn about the ones worth warning."""

    def __init__(self, path: str | Path, layer: str | None) -> None:
        self.path = str(path)
        self.layer = layer
        self.items: list[Finding] = []

    def add(
        self,
        level: Level,
        message: str,
        *,
        field: str | None = None,
        fix: str | None = None,
        warn: bool = True,
    ) -> None:
        finding = Finding(level, self.path, self.layer, field, message, fix)
        self.items.append(finding)
        where = self.path + (f", layer '{self.layer}'" if self.layer else "")
        text = f"{where}: {message}"
        if fix:
            text += f" Fix: {fix}"
        if level == "warning" and warn:
            warn_data(text)
        elif level == "warning":
            logger.warning(text)
        else:
            logger.info(text)


_PACKAGE_DIR = str(Path(__file__).resolve().parent)


def warn_data(message: str) -> None:
    """Issue a ``UserWarning`` that points at the first caller outside riskmap.

    Data problems are found deep inside the loaders; the warning should
    name the line of the user's script or notebook that loaded the layer.
    """
    frame = sys._getframe(1)
    level = 2
    while frame.f_back is not None and frame.f_code.co_filename.startswith(
        _PACKAGE_DIR
    ):
        frame = frame.f_back
        level += 1
    warnings.warn(message, UserWarning, stacklevel=level)


def findings_of(gdf: pd.DataFrame) -> list[Finding]:
    """Return the findings a loader attached to ``gdf`` (empty if none).

    Examples
    --------
    >>> findings_of(pd.DataFrame())
    []
    """
    return list(gdf.attrs.get(FINDINGS_ATTR, []))


# --------------------------------------------------------------------------
# CRS helpers


def looks_projected(gdf: gpd.GeoSeries | gpd.GeoDataFrame) -> bool:
    """Tell whether coordinates cannot be lon/lat degrees.

    True when any x lies outside ±180 or any y outside ±90 — the usual sign
    of metres (a UTM or Gauss–Krüger grid) labelled as degrees. Empty
    layers give False.

    Examples
    --------
    >>> from shapely import Point
    >>> looks_projected(gpd.GeoSeries([Point(106.6, 23.9)]))
    False
    >>> looks_projected(gpd.GeoSeries([Point(359000, 2644000)]))
    True
    """
    geoms = gdf.geometry if isinstance(gdf, gpd.GeoDataFrame) else gdf
    geoms = geoms[~(geoms.isna() | geoms.is_empty)]
    if len(geoms) == 0:
        return False
    xmin, ymin, xmax, ymax = geoms.total_bounds
    return bool(max(abs(xmin), abs(xmax)) > 180 or max(abs(ymin), abs(ymax)) > 90)


def _guess_crs_hint(gdf: gpd.GeoDataFrame) -> str:
    """Suggest a ``crs=`` value from the look of the coordinates."""
    if looks_projected(gdf):
        xmin, ymin, xmax, ymax = gdf.geometry.total_bounds
        if max(abs(xmin), abs(xmax)) <= 90 and max(abs(ymin), abs(ymax)) <= 180:
            return "longitude and latitude look swapped; exchange the x and y columns"
        return (
            "pass the grid the coordinates are in, e.g. crs='EPSG:4545' "
            "(CGCS2000 Gauss–Krüger CM 108E), 'EPSG:4544' (CM 105E) or "
            "'EPSG:32648' (UTM 48N)"
        )
    return "pass crs='EPSG:4326' if the coordinates are WGS-84 lon/lat degrees"


def _as_crs(value: Any, report: _Report) -> CRS:
    try:
        return CRS.from_user_input(value)
    except ProjCRSError as exc:
        raise CRSError(
            f"'{value}' is not a CRS that PROJ knows ({exc})",
            path=report.path,
            layer=report.layer,
            fix="pass an EPSG code such as crs='EPSG:4326'",
        ) from exc


def _inside_area_of_use(crs: CRS, lon: np.ndarray, lat: np.ndarray) -> float:
    """Share of points that fall inside the CRS's area of use."""
    area = crs.area_of_use
    if area is None or len(lon) == 0:
        return 1.0
    pad = 1.0
    ok = (
        (lon >= area.west - pad)
        & (lon <= area.east + pad)
        & (lat >= area.south - pad)
        & (lat <= area.north + pad)
    )
    return float(np.mean(ok))


def _fix_swapped_axes(gdf: gpd.GeoDataFrame, report: _Report) -> gpd.GeoDataFrame:
    """Swap x and y of a projected layer when only the swap lands in place.

    Chinese survey tables name the northing ``X`` and the easting ``Y``; the
    Gauss–Krüger CRSs (EPSG:4513–4554) also declare north first. If the
    coordinates fall outside the CRS's area of use as given but inside it
    once swapped, they were entered north first.
    """
    crs = gdf.crs
    if crs is None or not crs.is_projected:
        return gdf
    geoms = gdf.geometry
    usable = ~(geoms.isna() | geoms.is_empty)
    if not usable.any():
        return gdf
    sample = geoms[usable].iloc[:: max(1, int(usable.sum()) // 500)]
    sample = sample.representative_point()
    x = sample.x.to_numpy()
    y = sample.y.to_numpy()
    to_geo = gpd.GeoSeries.from_xy(x, y, crs=crs).to_crs(WGS84)
    as_given = _inside_area_of_use(crs, to_geo.x.to_numpy(), to_geo.y.to_numpy())
    if as_given >= 0.5:
        return gdf
    swapped = gpd.GeoSeries.from_xy(y, x, crs=crs).to_crs(WGS84)
    as_swapped = _inside_area_of_use(crs, swapped.x.to_numpy(), swapped.y.to_numpy())
    if as_swapped < 0.5:
        return gdf
    out = gdf.copy()
    out.geometry.values[:] = shapely.transform(
        out.geometry.values, lambda c: c[:, ::-1]
    )
    report.add(
        "fixed",
        f"coordinates were north first (northing, easting) for {crs.name}; "
        "x and y were swapped so easting comes first",
        fix="store easting as x and northing as y",
    )
    return out


def _to_wgs84_datum(
    gdf: gpd.GeoDataFrame, datum: str, report: _Report
) -> gpd.GeoDataFrame:
    from riskmap import datum as datum_mod

    out = datum_mod.to_wgs84(gdf, datum)
    report.add("fixed", f"converted from {datum.upper()} to WGS-84", warn=False)
    return out


def _check_datum(datum: str, report: _Report) -> str:
    from riskmap.datum import normalise_datum

    try:
        return normalise_datum(datum)
    except DatumError as exc:
        raise DatumError(
            exc.problem, path=report.path, layer=report.layer, fix=exc.fix
        ) from exc


def _settle_crs(gdf: gpd.GeoDataFrame, crs: Any, report: _Report) -> gpd.GeoDataFrame:
    """Give ``gdf`` a CRS (declared or passed), refuse nonsense, go to 4326."""
    if gdf.crs is None and crs is None:
        raise CRSError(
            "no CRS is declared (no .prj file or CRS in the layer)",
            path=report.path,
            layer=report.layer,
            fix=_guess_crs_hint(gdf),
        )
    if crs is not None:
        wanted = _as_crs(crs, report)
        if gdf.crs is not None and not gdf.crs.equals(wanted):
            report.add(
                "warning",
                f"the file declares {gdf.crs.to_string()} but crs="
                f"'{wanted.to_string()}' was passed; the passed CRS is used",
                fix="drop crs= if the file's CRS is right",
            )
        gdf = gdf.set_crs(wanted, allow_override=True)
    assert gdf.crs is not None
    if gdf.crs.is_geographic and looks_projected(gdf):
        xmin, ymin, xmax, ymax = gdf.geometry.total_bounds
        far_x = xmax if abs(xmax) >= abs(xmin) else xmin
        far_y = ymax if abs(ymax) >= abs(ymin) else ymin
        raise CRSError(
            f"the CRS {gdf.crs.to_string()} is in degrees but the coordinates "
            f"reach x={far_x:.6g}, y={far_y:.6g}, beyond ±180/±90",
            path=report.path,
            layer=report.layer,
            fix=_guess_crs_hint(gdf),
        )
    gdf = _fix_swapped_axes(gdf, report)
    if gdf.crs.is_projected and len(gdf) and not looks_projected(gdf):
        report.add(
            "warning",
            f"the CRS {gdf.crs.to_string()} is projected but every coordinate "
            "lies within ±180/±90, like lon/lat degrees",
            fix="pass crs='EPSG:4326' if these are degrees",
        )
    if not gdf.crs.equals(CRS.from_user_input(WGS84)):
        name = gdf.crs.to_string()
        gdf = gdf.to_crs(WGS84)
        report.add("fixed", f"reprojected from {name} to EPSG:4326", warn=False)
    return gdf


# --------------------------------------------------------------------------
# Geometry helpers

_FAMILY = {
    "Polygon": "polygon",
    "MultiPolygon": "polygon",
    "LineString": "line",
    "MultiLineString": "line",
    "LinearRing": "line",
    "Point": "point",
    "MultiPoint": "point",
}


def polygonal_part(geom: Any) -> Any:
    """Return the polygons inside ``geom`` (any geometry), or None.

    A GeometryCollection from an overlay keeps its polygon and loses its
    stray lines and points; a line or point alone gives None.

    Examples
    --------
    >>> from shapely import wkt
    >>> gc = wkt.loads("GEOMETRYCOLLECTION(POLYGON((0 0,1 0,1 1,0 0)),"
    ...                " LINESTRING(1 1,2 2))")
    >>> polygonal_part(gc).wkt
    'POLYGON ((0 0, 1 0, 1 1, 0 0))'
    >>> polygonal_part(wkt.loads("LINESTRING(0 0, 1 1)")) is None
    True
    """
    if geom is None or geom.is_empty:
        return None
    kind = geom.geom_type
    if kind in ("Polygon", "MultiPolygon"):
        return geom
    if kind == "GeometryCollection":
        parts = [polygonal_part(g) for g in geom.geoms]
        polys = [p for p in parts if p is not None]
        if not polys:
            return None
        merged = shapely.union_all(polys)
        return merged if not merged.is_empty else None
    return None


def _part_of_family(geom: Any, family: str) -> Any:
    if family == "polygon":
        return polygonal_part(geom)
    parts = [g for g in getattr(geom, "geoms", [geom]) if _FAMILY.get(g.geom_type)]
    keep = [g for g in parts if _FAMILY[g.geom_type] == family]
    if not keep:
        return None
    return keep[0] if len(keep) == 1 else shapely.union_all(keep)


def _clean_geometries(
    gdf: gpd.GeoDataFrame, report: _Report, id_field: str | None
) -> gpd.GeoDataFrame:
    """Drop Z, drop empty rows, repair invalid polygons, reduce collections."""
    geoms = gdf.geometry.array

    # Z values play no part in the analysis: drop them
    has_z = shapely.has_z(geoms) if len(geoms) else np.array([], bool)
    if has_z.any():
        geoms = shapely.force_2d(geoms)
        report.add("fixed", f"Z values dropped from {int(has_z.sum())} geometries")

    # missing and empty geometries cannot be placed: drop them
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        report.add(
            "warning",
            f"{int(missing.sum())} of {len(geoms)} features have a missing or "
            "empty geometry and were dropped",
            fix="delete those features or draw their geometry",
        )
    if len(geoms) and missing.all():
        raise GeometryError(
            f"none of the {len(geoms)} features has a geometry",
            path=report.path,
            layer=report.layer,
            fix="check the layer in a GIS; it may have lost its geometry column",
        )
    gdf = gdf.loc[~missing].copy()
    geoms = np.asarray(geoms[~missing], dtype=object)

    # invalid polygons: make_valid keeps every lobe (buffer(0) would not)
    invalid = ~shapely.is_valid(geoms) if len(geoms) else np.array([], bool)
    if invalid.any():
        labels = _labels(gdf, id_field, invalid)
        reasons = [shapely.is_valid_reason(g) for g in geoms[invalid]]
        geoms[invalid] = shapely.make_valid(geoms[invalid], method="linework")
        detail = "; ".join(f"{a}: {b}" for a, b in zip(labels, reasons, strict=True))
        report.add(
            "fixed",
            f"{int(invalid.sum())} invalid geometries repaired keeping every "
            f"part ({detail})",
            fix="repair the rings in the source data",
        )

    # reduce collections (e.g. from overlays) to the layer's main kind
    kinds = [g.geom_type for g in geoms]
    parts = {
        _FAMILY[p.geom_type]
        for g in geoms
        for p in getattr(g, "geoms", [g])
        if p.geom_type in _FAMILY
    }
    main = next((f for f in ("polygon", "line", "point") if f in parts), "point")
    families = {_FAMILY[k] for k in kinds if k in _FAMILY}
    if len(families) > 1:
        report.add(
            "warning",
            f"the layer mixes geometry kinds ({', '.join(sorted(families))})",
            fix="split the layer into one file per kind if that was not meant",
        )
    is_gc = np.array([k == "GeometryCollection" for k in kinds], dtype=bool)
    if is_gc.any():
        reduced = [_part_of_family(g, main) for g in geoms[is_gc]]
        geoms[is_gc] = reduced
        lost = np.zeros(len(geoms), dtype=bool)
        lost[is_gc] = [g is None for g in reduced]
        report.add(
            "fixed",
            f"{int(is_gc.sum())} geometry collections reduced to their {main} part",
        )
        if lost.any():
            report.add(
                "warning",
                f"{int(lost.sum())} geometry collections held no {main} and "
                "were dropped",
            )
            gdf = gdf.loc[~lost].copy()
            geoms = geoms[~lost]
    gdf = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
    return gdf


def _labels(gdf: pd.DataFrame, id_field: str | None, mask: np.ndarray) -> list[str]:
    if id_field and id_field in gdf.columns:
        return [str(v) for v in gdf[id_field].to_numpy()[mask]]
    return [f"row {i}" for i in np.flatnonzero(mask)]


# --------------------------------------------------------------------------
# Fields


def _dbf_text(path: Path, field: str) -> list[str] | None:
    """Digits of one numeric field exactly as a shapefile's .dbf holds them."""
    dbf = path.with_suffix(".dbf")
    if not dbf.exists():
        return None
    raw = dbf.read_bytes()
    count = int.from_bytes(raw[4:8], "little")
    header = int.from_bytes(raw[8:10], "little")
    size = int.from_bytes(raw[10:12], "little")
    start, pos = 1, 32
    while pos + 32 <= header and raw[pos] != 0x0D:
        name = raw[pos : pos + 11].split(b"\0")[0]
        width = raw[pos + 16]
        if name.decode("latin-1").lower() == field.lower():
            break
        start += width
        pos += 32
    else:
        return None
    values = []
    for i in range(count):
        rec = header + i * size
        if raw[rec : rec + 1] == b"*":  # deleted record, skipped by GDAL too
            continue
        cell = raw[rec + start : rec + start + width].decode("latin-1").strip()
        values.append(re.sub(r"\.0*$", "", cell))
    return values


def _geojson_text(path: Path, field: str) -> list[str] | None:
    """One property of every GeoJSON feature, numbers kept as written."""
    try:
        doc = json.loads(
            path.read_text(encoding="utf-8"), parse_int=str, parse_float=str
        )
    except (OSError, ValueError):
        return None
    out = []
    for feature in doc.get("features", []):
        value = (feature.get("properties") or {}).get(field)
        out.append("" if value is None else str(value))
    return out


def _exact_id_text(path: Path | None, field: str, n: int) -> list[str] | None:
    if path is None:
        return None
    suffix = path.suffix.lower()
    if suffix in (".shp", ".dbf"):
        values = _dbf_text(path, field)
    elif suffix in (".geojson", ".json"):
        values = _geojson_text(path, field)
    else:
        values = None
    return values if values is not None and len(values) == n else None


def _id_as_text(
    gdf: pd.DataFrame, id_field: str, report: _Report, path: Path | None = None
) -> pd.DataFrame:
    """Make the ID column text, exactly, and report duplicates and blanks.

    Numeric ID fields lose leading zeros (and, as floats, digits beyond
    the 15th); for shapefiles and GeoJSON the digits are re-read from the
    file as written.
    """
    col = gdf[id_field]
    numeric = pd.api.types.is_numeric_dtype(col)
    exact = _exact_id_text(path, id_field, len(col)) if numeric else None
    if exact is not None:
        text = pd.Series(exact, index=col.index, dtype=object)
        report.add(
            "fixed",
            "IDs are stored as numbers; their digits were read as text",
            field=id_field,
            fix="store IDs as a text field",
            warn=False,
        )
    elif pd.api.types.is_float_dtype(col):
        report.add(
            "warning",
            "IDs are stored as floating-point numbers; digits beyond the 15th "
            "and leading zeros may already be lost in the file",
            field=id_field,
            fix="store IDs as a text field",
        )
        text = col.map(lambda v: "" if pd.isna(v) else f"{v:.0f}")
    elif pd.api.types.is_integer_dtype(col):
        text = col.map(lambda v: str(int(v)))
    else:
        text = col.map(lambda v: "" if v is None or pd.isna(v) else str(v))
    gdf = gdf.copy()
    gdf[id_field] = text.astype(object)
    blank = (text.str.strip() == "").to_numpy()
    if blank.any():
        report.add(
            "warning",
            f"{int(blank.sum())} features have no ID",
            field=id_field,
            fix="give every feature an ID",
        )
    dup = text[~blank][text[~blank].duplicated(keep=False)]
    if len(dup):
        shown = ", ".join(sorted(set(dup))[:10])
        report.add(
            "warning",
            f"{dup.nunique()} IDs occur more than once ({shown})",
            field=id_field,
            fix="make the IDs unique",
        )
    return gdf


def _require_fields(gdf: pd.DataFrame, fields: Sequence[str], report: _Report) -> None:
    missing = [f for f in fields if f not in gdf.columns]
    if missing:
        have = ", ".join(str(c) for c in gdf.columns if c != "geometry")
        names = ", ".join(f"'{f}'" for f in missing)
        raise FieldError(
            f"required field(s) {names} missing; the layer has: {have}",
            path=report.path,
            layer=report.layer,
            field=missing[0],
            fix="rename the column(s) in the data or point the configuration "
            "at the right field names",
        )


# --------------------------------------------------------------------------
# Encodings

_MOJIBAKE = re.compile("[\u00c0-\u00ff][\u0080-\u00ff]|\ufffd")


def _looks_mojibake(df: pd.DataFrame) -> bool:
    """True when text columns look like GBK bytes decoded as Latin-1."""
    for col in df.columns:
        if col == "geometry" or not pd.api.types.is_string_dtype(df[col]):
            continue
        sample = df[col].dropna().astype(str).head(200)
        if any(_MOJIBAKE.search(s) for s in sample):
            return True
    return False


def _read_with_encoding(
    path: Path, layer: str | None, encoding: str | None, report: _Report
) -> gpd.GeoDataFrame:
    """Read with pyogrio; detect GBK/GB18030 shapefiles that lack a .cpg."""

    def read(enc: str | None) -> gpd.GeoDataFrame:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            gdf = gpd.read_file(path, layer=layer, engine="pyogrio", encoding=enc)
        for w in caught:
            # GeoPackage wants UTC timestamps; GDAL still parses others fine
            if "Non-conformant content" in str(w.message):
                logger.debug("%s: %s", path, w.message)
            else:
                warnings.warn_explicit(
                    w.message, w.category, w.filename, w.lineno, source=w.source
                )
        return gdf

    is_shp = path.suffix.lower() in (".shp", ".dbf")
    if encoding is not None or not is_shp or path.with_suffix(".cpg").exists():
        return read(encoding)
    declared = pyogrio.read_info(path, layer=layer).get("encoding")
    if declared and declared.upper() not in ("ISO-8859-1", "LATIN1", "UTF-8"):
        return read(None)
    try:
        gdf = read("utf-8")
        if not _looks_mojibake(gdf):
            return gdf
    except UnicodeDecodeError:
        pass
    gdf = read("gb18030")
    report.add(
        "fixed",
        "the shapefile has no .cpg and its text is not UTF-8; read as GB18030 (GBK)",
        fix="add a .cpg file holding GBK, or pass encoding='gbk'",
        warn=False,
    )
    return gdf


def _pick_layer(path: Path, layer: str | None, report: _Report) -> str | None:
    if layer is not None:
        return layer
    try:
        layers = pyogrio.list_layers(path)
    except Exception:  # let the read itself raise the useful error
        return None
    if len(layers) > 1:
        names = ", ".join(f"'{n}'" for n in layers[:, 0])
        raise LayerError(
            f"the file holds {len(layers)} layers ({names}) and none was named",
            path=path,
            fix="pass layer='<name>'",
        )
    return None


# --------------------------------------------------------------------------
# Public loaders


def read_vector(
    path: str | Path,
    *,
    layer: str | None = None,
    crs: Any = None,
    datum: str = "wgs84",
    id_field: str | None = None,
    encoding: str | None = None,
    required_fields: Sequence[str] = (),
    name: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a vector layer, check it and return it in EPSG:4326.

    Parameters
    ----------
    path : str or Path
        Any file pyogrio reads (GeoPackage, shapefile, GeoJSON, ...).
        Chinese characters in the path and layer name are fine.
    layer : str, optional
        Layer inside the file; required when the file holds several.
    crs : optional
        CRS to use when the file declares none (or to override a wrong
        one, with a warning), e.g. ``"EPSG:4545"``.
    datum : {"wgs84", "gcj02", "bd09"}
        Chinese web-map datum of the coordinates; converted to WGS-84.
    id_field : str, optional
        Column holding feature IDs: kept as exact text, checked for
        blanks and duplicates.
    encoding : str, optional
        Text encoding of the attributes. Shapefiles without ``.cpg`` are
        tried as UTF-8 and then GB18030 (GBK).
    required_fields : sequence of str
        Columns that must be present.
    name : str, optional
        Name of the layer in the configuration, used in messages.

    Returns
    -------
    GeoDataFrame
        EPSG:4326, 2-D, valid geometries, a fresh RangeIndex, and the list
        of :class:`Finding` in ``attrs["riskmap_findings"]``.

    Raises
    ------
    LayerError
        The file is missing, unreadable or holds several unnamed layers.
    CRSError
        No CRS is declared and none was passed, or degrees hold metres.
    FieldError
        A required field or the ID field is missing.
    DatumError
        ``datum`` is not one of the known datums.

    Warns
    -----
    UserWarning
        For data problems fixed or worked around (dropped empty geometries,
        duplicated IDs, an overridden CRS).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from shapely import Point
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> gpd.GeoDataFrame({"code": ["0451"]}, geometry=[Point(106.6, 23.9)],
    ...                  crs=4326).to_file(d / "设施.gpkg", layer="设施")
    >>> gdf = read_vector(d / "设施.gpkg", id_field="code")
    >>> gdf.crs.to_epsg(), gdf["code"].tolist()
    (4326, ['0451'])
    """
    path = Path(path)
    report = _Report(path, name or layer)
    if not path.exists():
        raise LayerError(
            "the file does not exist",
            path=path,
            layer=name or layer,
            fix="check the path in the configuration",
        )
    datum_key = _check_datum(datum, report)

    # read the attributes with the right text encoding
    layer = _pick_layer(path, layer, report)
    if report.layer is None:
        with contextlib.suppress(Exception):
            report.layer = str(pyogrio.read_info(path, layer=layer)["layer_name"])
    try:
        gdf = _read_with_encoding(path, layer, encoding, report)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise LayerError(
            f"cannot be read ({exc})",
            path=path,
            layer=name or layer,
            fix="check the file opens in QGIS and the layer name is right",
        ) from exc
    gdf = gdf.reset_index(drop=True)

    # fields first: a missing field is an error whatever the geometry
    _require_fields(gdf, [*required_fields, *([id_field] if id_field else [])], report)
    if id_field:
        gdf = _id_as_text(gdf, id_field, report, path)

    # geometry clean-up, then the CRS and datum
    gdf = _clean_geometries(gdf, report, id_field)
    gdf = _settle_crs(gdf, crs, report)
    if datum_key != "wgs84":
        gdf = _to_wgs84_datum(gdf, datum_key, report)

    gdf = gdf.reset_index(drop=True)
    gdf.attrs[FINDINGS_ATTR] = report.items
    gdf.attrs[SOURCE_ATTR] = str(path)
    logger.info("loaded %s: %d features", path, len(gdf))
    return gdf


_ISO_ZONED = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})$"
)


def _decode_table(path: Path, encoding: str | None, report: _Report) -> str:
    raw = path.read_bytes()
    if encoding is not None:
        return raw.decode(encoding)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise LayerError(
            "the table is neither UTF-8 nor GBK/GB18030 text",
            path=path,
            layer=report.layer,
            fix="save it as UTF-8 CSV, or pass encoding=",
        ) from exc
    report.add(
        "fixed",
        "the table is not UTF-8; read as GB18030 (GBK)",
        fix="save it as 'CSV UTF-8', or pass encoding='gbk'",
        warn=False,
    )
    return text


def _delimiter(text: str) -> str:
    """Comma, unless the header line is split by tabs or semicolons only."""
    header = text.split("\n", 1)[0]
    if "," in header:
        return ","
    for sep in ("\t", ";", "|"):
        if sep in header:
            return sep
    return ","


def _parse_datetimes(
    df: pd.DataFrame, fields: Sequence[str], report: _Report
) -> pd.DataFrame:
    """Parse ISO timestamps; keep their zone (one offset) or go to UTC."""
    auto = [
        c
        for c in df.columns
        if c not in fields
        and pd.api.types.is_string_dtype(df[c])
        and (vals := df[c][df[c].str.strip() != ""]).size
        and vals.str.strip().str.match(_ISO_ZONED).all()
    ]
    for col in [*fields, *auto]:
        text = df[col].str.strip().replace("", None)
        try:
            parsed = pd.to_datetime(text, format="ISO8601")
        except (ValueError, TypeError):
            try:
                parsed = pd.to_datetime(text, format="ISO8601", utc=True)
            except (ValueError, TypeError):
                report.add(
                    "warning",
                    "timestamps could not be parsed; kept as text",
                    field=col,
                    fix="write them as ISO 8601, e.g. 2024-05-03T09:30:00+08:00",
                )
                continue
            report.add(
                "fixed",
                "timestamps with several time zones converted to UTC",
                field=col,
                warn=False,
            )
        df[col] = parsed
    return df


def read_points_csv(
    path: str | Path,
    *,
    x: str = "lon",
    y: str = "lat",
    crs: Any = WGS84,
    datum: str = "wgs84",
    datum_field: str | None = None,
    id_field: str | None = None,
    numeric_fields: Sequence[str] = (),
    datetime_fields: Sequence[str] = (),
    required_fields: Sequence[str] = (),
    encoding: str | None = None,
    name: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a CSV of points (facilities, places) into EPSG:4326.

    Every column is read as text, so IDs keep leading zeros and all their
    digits; only ``x``, ``y`` and ``numeric_fields`` become numbers.
    Columns whose every value is an ISO 8601 timestamp with a time zone,
    and ``datetime_fields``, become timezone-aware datetimes.

    Parameters
    ----------
    path : str or Path
        UTF-8 (with or without BOM) or GBK/GB18030 CSV file.
    x, y : str
        Coordinate columns (easting and northing for projected CRSs).
    crs : optional
        CRS of ``x``/``y``; default EPSG:4326.
    datum : {"wgs84", "gcj02", "bd09"}
        Datum of all rows (web-map exports are GCJ-02 or BD-09).
    datum_field : str, optional
        Column naming each row's datum instead of ``datum``.
    id_field : str, optional
        ID column, checked for blanks and duplicates.
    numeric_fields, datetime_fields, required_fields : sequence of str
        Columns to convert to numbers, to parse as timestamps, and that
        must be present.
    encoding : str, optional
        Force a text encoding instead of detecting it.
    name : str, optional
        Name of the layer in the configuration, used in messages.

    Returns
    -------
    GeoDataFrame
        Points in EPSG:4326 with findings in ``attrs["riskmap_findings"]``.

    Raises
    ------
    FieldError
        A coordinate, ID or required column is missing.
    CRSError
        Coordinates in degrees are out of range (metres given as degrees).

    Warns
    -----
    UserWarning
        Rows with blank or unreadable coordinates were dropped.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "f.csv"
    >>> _ = p.write_text("id,lon,lat\\n0451,106.6,23.9\\n", encoding="utf-8-sig")
    >>> g = read_points_csv(p, id_field="id")
    >>> g["id"].tolist(), g.geometry.x.tolist()
    (['0451'], [106.6])
    """
    path = Path(path)
    report = _Report(path, name or path.stem)
    if not path.exists():
        raise LayerError(
            "the file does not exist",
            path=path,
            layer=name,
            fix="check the path in the configuration",
        )
    datum_key = _check_datum(datum, report)

    # every column as text first
    text = _decode_table(path, encoding, report)
    df = pd.read_csv(
        io.StringIO(text),
        sep=_delimiter(text),
        dtype=str,
        keep_default_na=False,
        na_filter=False,
    )
    df.columns = [str(c).strip() for c in df.columns]

    # rows left entirely blank (spreadsheet exports) are not data
    empty = (df.apply(lambda c: c.str.strip()) == "").all(axis=1).to_numpy()
    if empty.any():
        logger.debug("%s: %d blank rows skipped", path, int(empty.sum()))
        df = df.loc[~empty].reset_index(drop=True)
    needed = [x, y, *required_fields]
    needed += [f for f in (id_field, datum_field) if f]
    _require_fields(df, needed, report)
    if id_field:
        df = _id_as_text(df, id_field, report)

    # coordinates: blank or non-numeric cells drop the row, never NaN points
    xs = pd.to_numeric(df[x].str.strip(), errors="coerce")
    ys = pd.to_numeric(df[y].str.strip(), errors="coerce")
    bad = ~(np.isfinite(xs.to_numpy(float)) & np.isfinite(ys.to_numpy(float)))
    if bad.any():
        rows = ", ".join(str(i + 2) for i in np.flatnonzero(bad)[:10])
        report.add(
            "warning",
            f"{int(bad.sum())} rows have blank or non-numeric coordinates "
            f"and were dropped (lines {rows})",
            field=f"{x}/{y}",
            fix="fill in the coordinates or delete those rows",
        )
    df = df.loc[~bad].reset_index(drop=True)
    xs, ys = xs[~bad].to_numpy(float), ys[~bad].to_numpy(float)

    # asked-for numbers and timestamps
    for col in numeric_fields:
        _require_fields(df, [col], report)
        num = pd.to_numeric(df[col].str.strip().replace("", None), errors="coerce")
        odd = num.isna() & (df[col].str.strip() != "")
        if odd.any():
            report.add(
                "warning",
                f"{int(odd.sum())} values are not numbers and became empty",
                field=col,
            )
        df[col] = num
    df = _parse_datetimes(df, datetime_fields, report)

    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(xs, ys), crs=None)
    gdf = _settle_crs(gdf, crs, report)
    if datum_field:
        from riskmap import datum as datum_mod

        gdf = datum_mod.to_wgs84_rows(gdf, datum_field)
        report.add("fixed", f"converted per row by '{datum_field}'", warn=False)
    elif datum_key != "wgs84":
        gdf = _to_wgs84_datum(gdf, datum_key, report)
    gdf.attrs[FINDINGS_ATTR] = report.items
    gdf.attrs[SOURCE_ATTR] = str(path)
    return gdf


# --------------------------------------------------------------------------
# Measurement in metres


def _geographic(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> gpd.GeoSeries:
    geoms = gdf.geometry if isinstance(gdf, gpd.GeoDataFrame) else gdf
    if geoms.crs is None:
        raise CRSError(
            "the geometries have no CRS, so they cannot be measured in metres",
            fix="set the CRS with gdf.set_crs(...) or load with read_vector",
        )
    if not geoms.crs.equals(CRS.from_user_input(WGS84)):
        geoms = geoms.to_crs(WGS84)
    return geoms


def area_m2(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> pd.Series:
    """Geodesic area of each geometry in square metres (WGS-84 ellipsoid).

    Works on any CRS (reprojected to EPSG:4326 first); lines and points
    have area 0, missing geometries NaN. The result keeps ``gdf``'s index,
    duplicated labels included.

    Examples
    --------
    >>> from shapely import box
    >>> s = gpd.GeoSeries([box(106.0, 23.0, 106.01, 23.01)], crs=4326)
    >>> round(float(area_m2(s).iloc[0]))
    1135335
    """
    geoms = _geographic(gdf)
    values = [_geodesic_area(g) for g in geoms.array]
    return pd.Series(values, index=geoms.index, dtype=float, name="area_m2")


def _geodesic_area(geom: Any) -> float:
    if geom is None:
        return float("nan")
    if geom.is_empty:
        return 0.0
    poly = polygonal_part(geom)
    if poly is None:
        return 0.0
    area, _ = _GEOD.geometry_area_perimeter(shapely.orient_polygons(poly))
    return float(abs(area))


def length_m(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> pd.Series:
    """Geodesic length of each geometry in metres (perimeter for polygons).

    Examples
    --------
    >>> from shapely import LineString
    >>> s = gpd.GeoSeries([LineString([(106, 23), (106, 23.01)])], crs=4326)
    >>> round(float(length_m(s).iloc[0]))
    1107
    """
    geoms = _geographic(gdf)
    values = [
        float("nan") if g is None else float(_GEOD.geometry_length(g))
        for g in geoms.array
    ]
    return pd.Series(values, index=geoms.index, dtype=float, name="length_m")


def _valid(geoms: Any) -> np.ndarray:
    arr = np.asarray(geoms, dtype=object)
    bad = ~shapely.is_valid(arr) & ~shapely.is_missing(arr)
    if bad.any():
        logger.info("repairing %d invalid geometries before overlay", bad.sum())
        arr[bad] = shapely.make_valid(arr[bad])
    return arr


def overlay_area_by_unit(
    zones: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    unit_field: str,
    *,
    zone_field: str | None = None,
) -> gpd.GeoDataFrame:
    """Split zones by unit borders (e.g. counties) and measure each piece.

    Each zone is cut by the units it overlaps; a piece that only touches a
    unit along a border (no shared area) is dropped, and stray lines from
    the overlay are discarded, so the pieces' areas add up to the zone's
    area inside the units.

    Parameters
    ----------
    zones : GeoDataFrame
        Polygons to split (hazard zones, service areas).
    units : GeoDataFrame
        Polygons of the administrative units.
    unit_field : str
        Column of ``units`` naming each unit (e.g. ``adcode``).
    zone_field : str, optional
        Column of ``zones`` to carry into the result.

    Returns
    -------
    GeoDataFrame
        One row per (zone, unit) piece in EPSG:4326 with ``unit_field``,
        ``zone_field`` (if given), ``zone_index`` and ``area_m2``.

    Examples
    --------
    >>> from shapely import box
    >>> units = gpd.GeoDataFrame({"adcode": ["a", "b"]}, crs=4326,
    ...     geometry=[box(106, 23, 106.1, 23.1), box(106.1, 23, 106.2, 23.1)])
    >>> zones = gpd.GeoDataFrame({"z": ["H"]}, crs=4326,
    ...     geometry=[box(106.05, 23.02, 106.15, 23.04)])
    >>> out = overlay_area_by_unit(zones, units, "adcode", zone_field="z")
    >>> out["adcode"].tolist()
    ['a', 'b']
    """
    for frame, field, what in (
        (units, unit_field, "units"),
        (zones, zone_field, "zones"),
    ):
        if field is not None and field not in frame.columns:
            raise FieldError(
                f"the {what} have no column '{field}'",
                field=field,
                fix=f"pass one of: {', '.join(map(str, frame.columns))}",
            )
    zgeo = _valid(_geographic(zones).array)
    ugeo = _valid(_geographic(units).array)
    tree = shapely.STRtree(ugeo)
    zi, ui = tree.query(zgeo, predicate="intersects")

    # cut each zone by each unit it meets; keep only the polygonal part
    pieces = [
        polygonal_part(shapely.intersection(zgeo[a], ugeo[b]))
        for a, b in zip(zi, ui, strict=True)
    ]
    keep = np.array([p is not None and p.area > 0 for p in pieces], dtype=bool)
    data: dict[str, Any] = {
        "zone_index": zi[keep],
        unit_field: units[unit_field].to_numpy()[ui[keep]],
    }
    if zone_field is not None:
        data[zone_field] = zones[zone_field].to_numpy()[zi[keep]]
    out = gpd.GeoDataFrame(
        data, geometry=[p for p, k in zip(pieces, keep, strict=True) if k], crs=WGS84
    )
    out["area_m2"] = area_m2(out).to_numpy()
    return out


def dissolve_area_m2(gdf: gpd.GeoDataFrame, by: str) -> pd.Series:
    """Area in m² of the union of the geometries per value of ``by``.

    Overlapping polygons of the same group are counted once.

    Examples
    --------
    >>> from shapely import box
    >>> g = gpd.GeoDataFrame({"c": ["x", "x"]}, crs=4326,
    ...     geometry=[box(106, 23, 106.01, 23.01), box(106, 23, 106.01, 23.01)])
    >>> round(float(dissolve_area_m2(g, "c")["x"]))
    1135335
    """
    geoms = _geographic(gdf)
    keys = gdf[by].to_numpy()
    arr = np.asarray(geoms.array, dtype=object)
    labels = list(dict.fromkeys(keys.tolist()))
    merged = [shapely.union_all(arr[keys == k]) for k in labels]
    merged_gs = gpd.GeoSeries(merged, index=pd.Index(labels, name=by), crs=WGS84)
    return area_m2(merged_gs).rename("area_m2")


# --------------------------------------------------------------------------
# Offset check and validation


def check_offset(
    points: gpd.GeoDataFrame,
    lines: gpd.GeoDataFrame,
    *,
    datum: str = "gcj02",
    min_gain: float = 0.4,
    min_metres: float = 150.0,
    name: str | None = None,
) -> Finding | None:
    """Warn when a WGS-84 point layer looks shifted by a web-map datum.

    Facilities copied from a Chinese web map are in GCJ-02 (or BD-09) and
    sit a few hundred metres off the roads. The median distance from the
    points to the nearest line is measured as given and after treating the
    points as ``datum``; if the conversion shortens it by more than
    ``min_gain`` (share) and ``min_metres``, the layer looks offset.

    Parameters
    ----------
    points, lines : GeoDataFrame
        Points and the lines (roads) they should lie on or near.
    datum : {"gcj02", "bd09"}
        Datum to test for.
    min_gain : float
        Minimal relative improvement of the median distance.
    min_metres : float
        Minimal absolute improvement, in metres.
    name : str, optional
        Name of the point layer, for the message.

    Returns
    -------
    Finding or None
        A warning finding (also issued as ``UserWarning``) or None.
    """
    from riskmap import datum as datum_mod

    if len(points) == 0 or len(lines) == 0:
        return None
    pts = _geographic(points)
    lns = _geographic(lines)
    converted = datum_mod.to_wgs84(gpd.GeoDataFrame(geometry=pts), datum).geometry
    metric = pts.estimate_utm_crs()
    lns_m = lns.to_crs(metric).array
    tree = shapely.STRtree(lns_m)

    def median_gap(geoms: gpd.GeoSeries) -> float:
        arr = geoms.to_crs(metric).array
        _, dist = tree.query_nearest(arr, return_distance=True, all_matches=False)
        return float(np.median(dist))

    before, after = median_gap(pts), median_gap(converted)
    gain = before - after
    if before > 0 and gain / before > min_gain and gain > min_metres:
        where = points.attrs.get(SOURCE_ATTR) or name or "points"
        report = _Report(where, name)
        report.add(
            "warning",
            f"the points lie a median {before:.0f} m from the nearest line, "
            f"but {after:.0f} m if read as {datum.upper()}; they look offset",
            fix=f"declare datum='{datum}' for this layer",
        )
        return report.items[0]
    return None


def validate_layer(path: str | Path, **kw: Any) -> list[Finding]:
    """Check one layer without using it; return every finding.

    The reader is chosen by extension: ``.csv`` → :func:`read_points_csv`,
    ``.tif``/``.tiff`` → :func:`riskmap.rasters.read_raster`, anything
    else → :func:`read_vector`. Keyword arguments go to the reader. Errors
    become findings of level ``error``; warnings are not re-issued.

    Examples
    --------
    >>> [f.level for f in validate_layer("no/such/file.gpkg")]
    ['error']
    """
    path = Path(path)
    suffix = path.suffix.lower()
    reader: Callable[..., Any]
    if suffix == ".csv":
        reader = read_points_csv
    elif suffix in (".tif", ".tiff"):
        from riskmap.rasters import read_raster

        reader = read_raster
    else:
        reader = read_vector
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        try:
            result = reader(path, **kw)
        except LayerError as exc:
            return [
                Finding(
                    "error",
                    exc.path or str(path),
                    exc.layer,
                    exc.field,
                    exc.problem,
                    exc.fix,
                )
            ]
        except (OSError, ValueError) as exc:
            return [Finding("error", str(path), kw.get("layer"), None, str(exc))]
    if isinstance(result, pd.DataFrame):
        return findings_of(result)
    return list(getattr(result, "findings", []))
