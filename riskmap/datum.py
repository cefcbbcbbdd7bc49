"""Convert coordinates between WGS-84 and the Chinese web-map datums.

Chinese web maps do not publish coordinates in WGS-84. Amap (Gaode), Tencent
and Google's China tiles use GCJ-02, a deliberately obfuscated datum whose
offset from WGS-84 is a smooth, non-linear function of position (a few
hundred metres around Baise). Baidu adds a second, small rotation and shift
on top of GCJ-02, called BD-09. Boundaries and points copied from these maps
must be converted before they are overlaid on WGS-84 data.

The functions here implement the published formulas. All of them take and
return numpy arrays of longitude and latitude in degrees, element by
element, so that whole layers convert in one call.

Points outside China are returned unchanged by every function: the web-map
providers do not offset them either. "Outside China" is the usual coarse
rectangle test (longitude outside 72.004–137.8347 E or latitude outside
0.8293–55.8271 N), so points in neighbouring countries inside that
rectangle are shifted like Chinese ones. This is the providers' own
convention, not a border test.

The inverse conversions (:func:`gcj02_to_wgs84`, :func:`bd09_to_gcj02`) are
computed by fixed-point iteration to better than 1e-7 degree (about 1 cm),
not by the common one-step approximation, which is off by up to a few
metres.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from riskmap.errors import CRSError, DatumError

__all__ = [
    "DATUMS",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "normalise_datum",
    "to_wgs84",
    "to_wgs84_rows",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

logger = logging.getLogger(__name__)

ArrayLike = npt.ArrayLike
FloatArray = npt.NDArray[np.float64]
Converter = Callable[[ArrayLike, ArrayLike], tuple[FloatArray, FloatArray]]

#: The datum names :func:`to_wgs84` accepts after normalisation.
DATUMS = ("wgs84", "gcj02", "bd09")

# Krasovsky 1940 ellipsoid, on which the GCJ-02 offset is defined.
_A = 6378245.0
_EE = 0.00669342162296594323

# Constant of the BD-09 rotation.
_X_PI = np.pi * 3000.0 / 180.0

# Rectangle outside of which the providers leave coordinates unchanged.
_CHINA_LON = (72.004, 137.8347)
_CHINA_LAT = (0.8293, 55.8271)

_TOLERANCE_DEG = 1e-9
_MAX_ITERATIONS = 30

_ALIASES = {
    "wgs84": "wgs84",
    "wgs": "wgs84",
    "epsg4326": "wgs84",
    "4326": "wgs84",
    "gps": "wgs84",
    "gcj02": "gcj02",
    "gcj": "gcj02",
    "amap": "gcj02",
    "autonavi": "gcj02",
    "gaode": "gcj02",
    "tencent": "gcj02",
    "qq": "gcj02",
    "mars": "gcj02",
    "bd09": "bd09",
    "bd09ll": "bd09",
    "bd": "bd09",
    "baidu": "bd09",
}


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    x, y = np.broadcast_arrays(
        np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    )
    return x.copy(), y.copy()


def _in_china(lon: FloatArray, lat: FloatArray) -> npt.NDArray[np.bool_]:
    return (
        (lon >= _CHINA_LON[0])
        & (lon <= _CHINA_LON[1])
        & (lat >= _CHINA_LAT[0])
        & (lat <= _CHINA_LAT[1])
    )


def _gcj_offset(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Return the GCJ-02 minus WGS-84 offset in degrees at WGS-84 points."""
    x = lon - 105.0
    y = lat - 35.0
    sx = np.sqrt(np.abs(x))
    periodic = (20.0 * np.sin(6.0 * np.pi * x) + 20.0 * np.sin(2.0 * np.pi * x)) * (
        2.0 / 3.0
    )

    # Offsets in metres-like units, before scaling by the ellipsoid radii.
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sx
    d_lat += periodic
    d_lat += (20.0 * np.sin(np.pi * y) + 40.0 * np.sin(np.pi * y / 3.0)) * (2 / 3)
    d_lat += (160.0 * np.sin(np.pi * y / 12.0) + 320.0 * np.sin(np.pi * y / 30.0)) * (
        2.0 / 3.0
    )
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sx
    d_lon += periodic
    d_lon += (20.0 * np.sin(np.pi * x) + 40.0 * np.sin(np.pi * x / 3.0)) * (2 / 3)
    d_lon += (150.0 * np.sin(np.pi * x / 12.0) + 300.0 * np.sin(np.pi * x / 30.0)) * (
        2.0 / 3.0
    )

    # Scale to degrees with the meridian and parallel radii of curvature.
    rad_lat = np.radians(lat)
    w = 1.0 - _EE * np.sin(rad_lat) ** 2
    sw = np.sqrt(w)
    d_lat = d_lat * 180.0 / ((_A * (1.0 - _EE)) / (w * sw) * np.pi)
    d_lon = d_lon * 180.0 / (_A / sw * np.cos(rad_lat) * np.pi)
    return d_lon, d_lat


def _gcj_forward(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    d_lon, d_lat = _gcj_offset(lon, lat)
    return lon + d_lon, lat + d_lat


def _bd_forward(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd_backward_guess(
    lon: FloatArray, lat: FloatArray
) -> tuple[FloatArray, FloatArray]:
    x = lon - 0.0065
    y = lat - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _invert(
    forward: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]],
    lon: FloatArray,
    lat: FloatArray,
    guess: tuple[FloatArray, FloatArray],
) -> tuple[FloatArray, FloatArray]:
    """Solve ``forward(x) == target`` by fixed-point iteration.

    Both offsets are small and vary slowly, so ``x <- x - (forward(x) -
    target)`` contracts fast: two or three steps reach 1e-9 degree.
    """
    x, y = guess
    for _ in range(_MAX_ITERATIONS):
        fx, fy = forward(x, y)
        dx = fx - lon
        dy = fy - lat
        x = x - dx
        y = y - dy
        worst = np.nanmax(np.abs(np.concatenate([dx.ravel(), dy.ravel()])), initial=0)
        if worst < _TOLERANCE_DEG:
            break
    else:  # pragma: no cover - the map contracts strongly inside China
        logger.warning("datum inversion stopped after %d steps", _MAX_ITERATIONS)
    return x, y


def _keep_outside(
    lon: FloatArray,
    lat: FloatArray,
    new: tuple[FloatArray, FloatArray],
) -> tuple[FloatArray, FloatArray]:
    inside = _in_china(lon, lat)
    return np.where(inside, new[0], lon), np.where(inside, new[1], lat)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert WGS-84 longitude/latitude to GCJ-02 (Amap, Tencent).

    Parameters
    ----------
    lon, lat : array_like
        WGS-84 coordinates in degrees; any shapes that broadcast together.

    Returns
    -------
    lon, lat : numpy.ndarray
        GCJ-02 coordinates in degrees, as float64 arrays of the broadcast
        shape. Points outside China (see the module notes) are unchanged,
        NaN stays NaN.

    See Also
    --------
    gcj02_to_wgs84 : The exact inverse.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02([106.6183, 0.0], [23.9024, 0.0])
    >>> [round(float(v), 6) for v in lon], [round(float(v), 6) for v in lat]
    ([106.621711, 0.0], [23.899496, 0.0])
    """
    x, y = _as_arrays(lon, lat)
    return _keep_outside(x, y, _gcj_forward(x, y))


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 longitude/latitude (Amap, Tencent) to WGS-84.

    The inverse has no closed form. It is solved by fixed-point iteration
    until a round trip through :func:`wgs84_to_gcj02` reproduces the input
    to better than 1e-7 degree (in practice 1e-9).

    Parameters
    ----------
    lon, lat : array_like
        GCJ-02 coordinates in degrees; any shapes that broadcast together.

    Returns
    -------
    lon, lat : numpy.ndarray
        WGS-84 coordinates in degrees. Points outside China are unchanged.

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(106.621711, 23.899496)
    >>> round(float(lon), 4), round(float(lat), 4)
    (106.6183, 23.9024)
    >>> gcj02_to_wgs84(2.35, 48.85)  # Paris: outside China, unchanged
    (array(2.35), array(48.85))
    """
    x, y = _as_arrays(lon, lat)
    d_lon, d_lat = _gcj_offset(x, y)
    return _keep_outside(x, y, _invert(_gcj_forward, x, y, (x - d_lon, y - d_lat)))


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 longitude/latitude to BD-09 (Baidu).

    Parameters
    ----------
    lon, lat : array_like
        GCJ-02 coordinates in degrees.

    Returns
    -------
    lon, lat : numpy.ndarray
        BD-09 coordinates in degrees. Points outside China are unchanged.

    Examples
    --------
    >>> lon, lat = gcj02_to_bd09(106.621711, 23.899496)
    >>> round(float(lon), 5), round(float(lat), 5)
    (106.6283, 23.90518)
    """
    x, y = _as_arrays(lon, lat)
    return _keep_outside(x, y, _bd_forward(x, y))


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert BD-09 longitude/latitude (Baidu) to GCJ-02.

    The published closed-form inverse is used as a first guess and refined
    by fixed-point iteration, so the result is exact to about 1e-9 degree.

    Parameters
    ----------
    lon, lat : array_like
        BD-09 coordinates in degrees.

    Returns
    -------
    lon, lat : numpy.ndarray
        GCJ-02 coordinates in degrees. Points outside China are unchanged.

    Examples
    --------
    >>> lon, lat = bd09_to_gcj02(*gcj02_to_bd09(106.621711, 23.899496))
    >>> round(float(lon), 9), round(float(lat), 9)
    (106.621711, 23.899496)
    """
    x, y = _as_arrays(lon, lat)
    guess = _bd_backward_guess(x, y)
    return _keep_outside(x, y, _invert(_bd_forward, x, y, guess))


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert WGS-84 longitude/latitude to BD-09 (through GCJ-02).

    Examples
    --------
    >>> lon, lat = wgs84_to_bd09(106.6183, 23.9024)
    >>> round(float(lon), 5), round(float(lat), 5)
    (106.6283, 23.90518)
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert BD-09 longitude/latitude to WGS-84 (through GCJ-02).

    Examples
    --------
    >>> lon, lat = bd09_to_wgs84(106.6283, 23.90518)
    >>> round(float(lon), 4), round(float(lat), 4)
    (106.6183, 23.9024)
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_TO_WGS84: dict[str, Converter] = {
    "gcj02": gcj02_to_wgs84,
    "bd09": bd09_to_wgs84,
}


def normalise_datum(datum: object) -> str:
    """Return the canonical name (``wgs84``, ``gcj02``, ``bd09``) of a datum.

    Case, spaces, hyphens and underscores are ignored, and provider names
    are understood (``amap``, ``gaode``, ``tencent`` mean GCJ-02; ``baidu``
    means BD-09).

    Raises
    ------
    DatumError
        If the name is not a known datum.

    Examples
    --------
    >>> normalise_datum("GCJ-02"), normalise_datum("Baidu"), normalise_datum("WGS 84")
    ('gcj02', 'bd09', 'wgs84')
    """
    key = str(datum).strip().lower()
    for ch in " -_:.":
        key = key.replace(ch, "")
    if key in _ALIASES:
        return _ALIASES[key]
    raise DatumError(
        f"unknown datum {datum!r}; expected one of wgs84, gcj02 (Amap, Tencent) "
        "or bd09 (Baidu)",
        fix="name the datum the coordinates were copied in, e.g. datum='gcj02'",
    )


def _check_geographic(gdf: gpd.GeoDataFrame) -> None:
    if gdf.crs is not None and not gdf.crs.is_geographic:
        raise CRSError(
            f"the layer is in the projected CRS {gdf.crs.to_string()}, but "
            "GCJ-02/BD-09 coordinates are longitude/latitude degrees",
            fix="load the layer in its original lon/lat coordinates before "
            "converting its datum",
        )


def _convert_geometries(geoms: npt.NDArray[np.object_], convert: Converter) -> object:
    def _vertices(coords: FloatArray) -> FloatArray:
        lon, lat = convert(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geoms, _vertices)


def to_wgs84(gdf: gpd.GeoDataFrame, datum: str) -> gpd.GeoDataFrame:
    """Return a copy of a lon/lat layer with every vertex converted to WGS-84.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Layer whose coordinates are longitude/latitude in ``datum``. Any
        geometry type; empty and missing geometries are kept as they are.
        Its CRS may be unset or geographic (web-map data read from GeoJSON
        usually claims EPSG:4326 even when it is GCJ-02).
    datum : str
        ``"wgs84"``, ``"gcj02"`` or ``"bd09"``, or an alias such as
        ``"GCJ-02"``, ``"amap"`` or ``"baidu"``.

    Returns
    -------
    geopandas.GeoDataFrame
        A new layer in EPSG:4326. Points outside China are unchanged.

    Raises
    ------
    DatumError
        If ``datum`` is not a known datum.
    CRSError
        If the layer has a projected CRS.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> raw = gpd.GeoDataFrame(geometry=[Point(106.621711, 23.899496)],
    ...                        crs="EPSG:4326")
    >>> pt = to_wgs84(raw, "Amap").geometry.iloc[0]
    >>> round(pt.x, 4), round(pt.y, 4)
    (106.6183, 23.9024)
    >>> to_wgs84(raw, "osgb36")
    Traceback (most recent call last):
    ...
    riskmap.errors.DatumError: unknown datum 'osgb36'; expected one of ...
    """
    name = normalise_datum(datum)
    _check_geographic(gdf)
    out = gdf.copy()
    if name != "wgs84":
        geoms = np.asarray(gdf.geometry.values, dtype=object)
        converted = _convert_geometries(geoms, _TO_WGS84[name])
        out = out.set_geometry(gpd.GeoSeries(converted, index=gdf.index))
    return out.set_crs("EPSG:4326", allow_override=True)


def to_wgs84_rows(gdf: gpd.GeoDataFrame, datum_column: str) -> gpd.GeoDataFrame:
    """Convert a layer to WGS-84 when each row names its own datum.

    Gazetteers assembled from several sources often mix points copied from
    Amap (GCJ-02), Baidu (BD-09) and GPS or weather stations (WGS-84). Each
    row is converted according to the datum named in ``datum_column``; the
    column is kept and set to ``"wgs84"``.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Layer in longitude/latitude coordinates.
    datum_column : str
        Column holding each row's datum (any alias :func:`to_wgs84`
        accepts).

    Returns
    -------
    geopandas.GeoDataFrame
        A new layer in EPSG:4326 with the row order kept.

    Raises
    ------
    DatumError
        If the column is missing, or holds empty or unknown datum names.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> raw = gpd.GeoDataFrame(
    ...     {"datum": ["GCJ-02", "WGS84"]},
    ...     geometry=[Point(106.621711, 23.899496), Point(106.6183, 23.9024)],
    ...     crs="EPSG:4326")
    >>> out = to_wgs84_rows(raw, "datum")
    >>> [(round(p.x, 4), round(p.y, 4)) for p in out.geometry]
    [(106.6183, 23.9024), (106.6183, 23.9024)]
    """
    if datum_column not in gdf.columns:
        raise DatumError(
            f"the layer has no column '{datum_column}' naming each row's datum "
            f"(columns: {', '.join(map(str, gdf.columns))})",
            field=datum_column,
            fix="pass the name of the column that holds wgs84/gcj02/bd09",
        )
    _check_geographic(gdf)

    # Normalise every distinct name once, reporting all bad ones together.
    values = gdf[datum_column]
    missing = int(values.isna().sum())
    if missing:
        raise DatumError(
            f"{missing} row(s) have no datum",
            field=datum_column,
            fix="fill the column with wgs84, gcj02 or bd09 for every row",
        )
    names: dict[object, str] = {}
    bad = []
    for value in pd.unique(values):
        try:
            names[value] = normalise_datum(value)
        except DatumError:
            bad.append(value)
    if bad:
        raise DatumError(
            f"unknown datum name(s) {', '.join(repr(b) for b in bad)}; "
            "expected wgs84, gcj02 (Amap, Tencent) or bd09 (Baidu)",
            field=datum_column,
            fix="correct these values in the layer",
        )

    # Convert each datum's rows in one vectorised call.
    canonical = values.map(names).to_numpy()
    geoms = np.asarray(gdf.geometry.values, dtype=object).copy()
    for name, convert in _TO_WGS84.items():
        rows = canonical == name
        if rows.any():
            geoms[rows] = _convert_geometries(geoms[rows], convert)
    out = gdf.copy()
    out = out.set_geometry(gpd.GeoSeries(geoms, index=gdf.index))
    out[datum_column] = "wgs84"
    return out.set_crs("EPSG:4326", allow_override=True)
