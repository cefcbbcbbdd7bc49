"""Interactive web maps of a run: risk, hazards, population, facilities, reach.

:func:`city_map` draws the whole prefecture and :func:`county_map` one
county; :func:`save_map` writes either as a single HTML file that needs no
network (Leaflet and its plugins are inlined from ``riskmap/assets``).

Every text that comes from the data (names, sources, dates) travels to the
page as JSON and is put on screen with ``textContent``, so it is shown
literally and can never run as HTML. Hazard, population and travel-time
layers are drawn as images rendered from the 1 km grid, not as thousands of
polygons, which keeps a county page well under 3 MB.

Notes
-----
Leaflet stretches an image overlay linearly between its corners in Web
Mercator (EPSG:3857). The grid is therefore warped from its projected CRS to
EPSG:3857 (nearest neighbour, a third of a cell per pixel) before it is
coloured, so the cells sit where they belong on the map.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
import logging
import math
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import pairwise
from pathlib import Path
from typing import Any

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from jinja2 import Template
from matplotlib import colormaps
from PIL import Image
from pyproj import Transformer
from rasterio.features import geometry_mask
from rasterio.transform import Affine
from rasterio.warp import Resampling, reproject, transform_bounds

from riskmap._io import atomic_path
from riskmap.assets import inline_page
from riskmap.errors import CRSError, FieldError

__all__ = [
    "FACILITY_STYLES",
    "HAZARD_NAMES",
    "RISK_CLASS_NAMES",
    "RISK_COLOURS",
    "FacilityStyle",
    "city_map",
    "county_map",
    "save_map",
]

logger = logging.getLogger(__name__)

#: Fill colours of risk classes 1 (lowest) to 5 (highest), ColorBrewer Reds.
RISK_COLOURS: tuple[str, ...] = ("#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15")

#: Chinese and English names of the five risk classes.
RISK_CLASS_NAMES: dict[int, tuple[str, str]] = {
    1: ("低", "Low"),
    2: ("较低", "Moderately low"),
    3: ("中", "Moderate"),
    4: ("较高", "High"),
    5: ("高", "Very high"),
}

#: Hazard index columns with their Chinese and English names.
HAZARD_NAMES: dict[str, tuple[str, str]] = {
    "h_flood": ("洪涝", "Flood"),
    "h_geological": ("地质灾害", "Geological hazard"),
    "h_fire": ("森林火灾", "Forest fire"),
    "h_earthquake": ("地震", "Earthquake"),
}


@dataclass(frozen=True)
class FacilityStyle:
    """How one kind of facility is named and drawn."""

    name_zh: str
    name_en: str
    colour: str
    shape: str  # "circle", "square", "diamond" or "triangle"
    size: int = 14  # web-map symbol size, pixels
    z: int = 0  # stacking: higher kinds are drawn over lower ones


#: Styles of the facility kinds named in the data contract.
FACILITY_STYLES: dict[str, FacilityStyle] = {
    # A shelter and a depot often share a site: the larger shelter disc
    # stays visible as a ring around the depot square drawn over it.
    "shelter": FacilityStyle("应急避难场所", "Shelter", "#1b9e77", "circle", 20, 0),
    "depot": FacilityStyle("物资储备点", "Supply depot", "#d95f02", "square", 11, 100),
    "reserve_centre": FacilityStyle(
        "市级物资储备中心", "Reserve centre", "#7570b3", "diamond", 16, 200
    ),
    "heli_base": FacilityStyle(
        "直升机起降点", "Helicopter base", "#2c7fb8", "triangle", 16, 300
    ),
}
_OTHER_FACILITY = FacilityStyle("其他设施", "Other facility", "#666666", "circle")

_COUNTY_COLUMNS = ("adcode", "name", "risk_class")
_GRID_COLUMNS = ("adcode", "population")
_FACILITY_COLUMNS = ("name", "kind")

#: Class breaks and colours of travel time to the nearest shelter (minutes).
_TIME_BREAKS = (15.0, 30.0, 60.0, 120.0)
_TIME_COLOURS = ("#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027")
#: Class breaks of population density (people per km²) and their colours.
_POP_BREAKS = (25.0, 50.0, 100.0, 200.0, 500.0, 1000.0)
_POP_COLOURS: tuple[str, ...] = (
    "#f2f0f7",
    "#dadaeb",
    "#bcbddc",
    "#9e9ac8",
    "#807dba",
    "#6a51a3",
    "#4a1486",
)

# Labels of the popup rows of counties and facilities (Chinese, English).
_COUNTY_ROWS: dict[str, tuple[str, str]] = {
    "name_en": ("英文名", "English name"),
    "adcode": ("行政区划代码", "Adcode"),
    "population": ("人口", "Population"),
    "area_km2": ("面积 (km²)", "Area (km²)"),
    "risk_score": ("风险指数", "Risk score"),
    "risk_class": ("风险等级", "Risk class"),
    **{col: (zh + "指数", en + " index") for col, (zh, en) in HAZARD_NAMES.items()},
    "pop_share_shelter_reach": (
        "避难场所可达人口比例",
        "Population within shelter reach",
    ),
    "pop_share_relief_10h": (
        "10小时救援可达人口比例",
        "Population reached within 10 h",
    ),
    "highrisk_share_air_2h": (
        "高风险区2小时航空可达比例",
        "High-risk cells by air ≤ 2 h",
    ),
    "shelter_m2_per_person": ("人均避难面积 (m²)", "Shelter area per person (m²)"),
}
_FACILITY_ROWS: dict[str, tuple[str, str]] = {
    "facility_id": ("编号", "ID"),
    "kind": ("类型", "Type"),
    "level": ("级别", "Level"),
    "adcode": ("所属区县", "County"),
    "capacity_people": ("容纳人数", "Capacity (people)"),
    "area_m2": ("面积 (m²)", "Area (m²)"),
    "assigned_population": ("分配人口", "Assigned population"),
    "stock_people_days": ("储备量 (人·天)", "Stock (person-days)"),
    "cruise_kmh": ("巡航速度 (km/h)", "Cruise speed (km/h)"),
    "dispatch_min": ("出动时间 (分钟)", "Dispatch time (min)"),
}
_SHARE_COLUMNS = frozenset(
    {"pop_share_shelter_reach", "pop_share_relief_10h", "highrisk_share_air_2h"}
)


# ---------------------------------------------------------------------------
# Values to text and JSON
# ---------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """Turn numpy, pandas and datetime values into plain JSON values."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def _js_json(obj: Any) -> str:
    """Serialise ``obj`` as JSON that is safe inside an HTML ``<script>``.

    Examples
    --------
    >>> text = _js_json({"name": "</script><b>x</b>", "n": np.int64(3)})
    >>> "<" in text, json.loads(text)["name"], json.loads(text)["n"]
    (False, '</script><b>x</b>', 3)
    """
    text = json.dumps(_plain(obj), ensure_ascii=False, allow_nan=False)
    for char, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, code)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _format_value(column: str, value: Any) -> str:
    """Format one attribute for a popup (text, not HTML).

    Examples
    --------
    >>> _format_value("population", np.int64(123456))
    '123,456'
    >>> _format_value("pop_share_relief_10h", 0.8766)
    '87.7 %'
    >>> _format_value("h_fire", float("nan"))
    '—'
    """
    value = _plain(value)
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是 yes" if value else "否 no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if column in _SHARE_COLUMNS:
            return "> 99.9 %" if 0 < 1 - value < 5e-4 else f"{100 * value:.1f} %"
        if value.is_integer() and abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:,.3g}" if abs(value) < 100 else f"{value:,.1f}"
    return str(value)


def _bilingual(zh: str, en: str) -> str:
    return f"{zh} {en}"


def _rows(record: Mapping[str, Any], labels: Mapping[str, tuple[str, str]]) -> list:
    """Popup rows ``[label, text]``: known columns first, then any others."""
    rows = [
        [_bilingual(*labels[col]), _format_value(col, record[col])]
        for col in labels
        if col in record
    ]
    for col, value in record.items():
        if col not in labels and col not in ("geometry", "name"):
            rows.append([str(col), _format_value(str(col), value)])
    return rows


# ---------------------------------------------------------------------------
# Checks and geometry for the web
# ---------------------------------------------------------------------------


def _require(gdf: pd.DataFrame, columns: Iterable[str], layer: str) -> None:
    missing = [c for c in columns if c not in gdf.columns]
    if missing:
        raise FieldError(
            f"columns {missing} are missing (found {list(gdf.columns)})",
            layer=layer,
            fix="pass the layer from the run results unchanged",
        )


def _to_wgs84(gdf: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        raise CRSError(
            "the layer has no CRS",
            layer=layer,
            fix="set it with gdf.set_crs(...) before drawing",
        )
    return gdf if gdf.crs.to_epsg() == 4326 else gdf.to_crs(4326)


def _projected_crs(grid: gpd.GeoDataFrame) -> Any:
    if grid.crs is None or not grid.crs.is_projected:
        raise CRSError(
            f"the grid must be in a projected CRS, found {grid.crs}",
            layer="grid",
            fix="pass the grid from the run results (analysis CRS, e.g. EPSG:32648)",
        )
    return grid.crs


def _web_geometries(
    gdf: gpd.GeoDataFrame, crs: Any, tolerance_m: float
) -> gpd.GeoSeries:
    """Simplify polygons as one coverage and round to 5 decimals (about 1 m).

    Shared borders are simplified once for both neighbours, so no gaps or
    overlaps appear between counties.
    """
    projected = gdf.geometry.to_crs(crs)
    geoms = projected.to_numpy()
    try:
        simple = shapely.coverage_simplify(geoms, tolerance_m)
    except Exception as exc:  # GEOS raises several error types
        warnings.warn(
            f"the county polygons are not a clean coverage ({exc}); each is "
            "simplified on its own, so small gaps may appear between them",
            UserWarning,
            stacklevel=3,
        )
        simple = shapely.simplify(geoms, tolerance_m, preserve_topology=True)
    out = gpd.GeoSeries(simple, index=gdf.index, crs=crs).to_crs(4326)
    return out.transform(lambda xy: np.round(xy, 5))


def _feature_collection(
    geoms: gpd.GeoSeries, properties: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    features = [
        {
            "type": "Feature",
            "geometry": shapely.geometry.mapping(geom),
            "properties": dict(props),
        }
        for geom, props in zip(geoms, properties, strict=True)
        if geom is not None and not geom.is_empty
    ]
    return {"type": "FeatureCollection", "features": features}


# ---------------------------------------------------------------------------
# Grid to image overlay
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Canvas:
    """Where each grid cell lands in a north-up array, and that array warped.

    Built once per grid; every image layer then only fills in values.
    """

    rows: np.ndarray  # row of each cell in the source array
    cols: np.ndarray  # column of each cell
    shape: tuple[int, int]  # source array (height, width)
    transform: Affine  # source array, in the grid's CRS
    crs: Any
    dst_transform: Affine  # warped array, EPSG:3857
    dst_shape: tuple[int, int]
    outside: np.ndarray  # warped pixels whose centre is outside every cell
    bounds: list[list[float]]  # [[south, west], [north, east]]


def _canvas(grid: gpd.GeoDataFrame, upsample: int = 3) -> _Canvas:
    """Place a square grid into an array and prepare its EPSG:3857 warp.

    Cells clipped at county borders are placed by a point inside them, so
    they land in the square they were cut from. The warped pixels are a
    third of a cell, and pixels outside the cells' outline are masked, so
    the image follows the county border rather than the cell squares.
    """
    geoms = grid.geometry.to_numpy()
    bounds = shapely.bounds(geoms)
    widths = bounds[:, 2] - bounds[:, 0]
    size = float(np.median(widths))
    full = np.isclose(widths, size, rtol=1e-6)
    x_off = float(np.median(bounds[full, 0] % size))
    y_off = float(np.median(bounds[full, 1] % size))
    inner = shapely.point_on_surface(geoms)
    cols = np.floor((shapely.get_x(inner) - x_off) / size).astype(np.int64)
    rows_up = np.floor((shapely.get_y(inner) - y_off) / size).astype(np.int64)
    col0, row_top = int(cols.min()), int(rows_up.max())
    shape = (int(row_top - rows_up.min() + 1), int(cols.max() - col0 + 1))
    left, top = x_off + col0 * size, y_off + (row_top + 1) * size
    transform = Affine(size, 0, left, 0, -size, top)

    # The warp target: Web Mercator pixels of about a third of a cell,
    # covering the whole source array.
    src_bounds = (left, top - shape[0] * size, left + shape[1] * size, top)
    w3857, s3857, e3857, n3857 = transform_bounds(
        grid.crs, "EPSG:3857", *src_bounds, densify_pts=21
    )
    res = size * (e3857 - w3857) / (src_bounds[2] - src_bounds[0]) / upsample
    dst_shape = (
        math.ceil((n3857 - s3857) / res),
        math.ceil((e3857 - w3857) / res),
    )
    dst = Affine(res, 0, w3857, 0, -res, n3857)

    # Mask pixels outside the cells' outline (the counties).
    try:
        outline = shapely.coverage_union_all(geoms)
    except shapely.errors.GEOSException:
        outline = shapely.union_all(geoms)
    outline_3857 = gpd.GeoSeries([outline], crs=grid.crs).to_crs(3857)
    outside = geometry_mask(outline_3857, out_shape=dst_shape, transform=dst)

    x0, y0 = dst @ (0, 0)
    x1, y1 = dst @ (dst_shape[1], dst_shape[0])
    to_lonlat = Transformer.from_crs(3857, 4326, always_xy=True)
    (w, e), (n, s) = to_lonlat.transform([x0, x1], [y0, y1])
    return _Canvas(
        rows=(row_top - rows_up).astype(np.int64), cols=cols - col0, shape=shape,
        transform=transform, crs=grid.crs, dst_transform=dst, dst_shape=dst_shape,
        outside=outside, bounds=[[s, w], [n, e]],
    )  # fmt: skip


def _warp(canvas: _Canvas, values: np.ndarray) -> np.ndarray:
    """Per-cell values as a warped EPSG:3857 array (NaN outside the cells)."""
    array = np.full(canvas.shape, np.nan, dtype="float32")
    array[canvas.rows, canvas.cols] = values
    out = np.full(canvas.dst_shape, np.nan, dtype="float32")
    reproject(
        array, out,
        src_transform=canvas.transform, src_crs=canvas.crs, src_nodata=np.nan,
        dst_transform=canvas.dst_transform, dst_crs="EPSG:3857", dst_nodata=np.nan,
        resampling=Resampling.nearest,
    )  # fmt: skip
    out[canvas.outside] = np.nan
    return out


def _hex_rgba(colour: str, alpha: float) -> tuple[int, int, int, int]:
    colour = colour.lstrip("#")
    r, g, b = (int(colour[i : i + 2], 16) for i in (0, 2, 4))
    return r, g, b, round(255 * alpha)


def _classed_rgba(
    values: np.ndarray, breaks: Sequence[float], colours: Sequence[str], alpha: float
) -> np.ndarray:
    """Colour values by class; class ``i`` holds values below ``breaks[i]``."""
    table = np.array([_hex_rgba(c, alpha) for c in colours], dtype="uint8")
    idx = np.digitize(np.nan_to_num(values, nan=0.0), breaks, right=True)
    rgba = table[idx]
    rgba[np.isnan(values)] = 0
    return rgba


def _png_uri(rgba: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _image_layer(
    m: folium.Map,
    canvas: _Canvas,
    values: np.ndarray,
    colour: Callable[[np.ndarray], np.ndarray],
    name: str,
    *,
    show: bool,
) -> None:
    """Add per-cell values as an image overlay in its own layer."""
    folium.raster_layers.ImageOverlay(
        image=_png_uri(colour(_warp(canvas, values))),
        bounds=canvas.bounds,
        pane=_GRID_PANE,
        name=html.escape(name),
        show=show,
        pixelated=True,
        interactive=False,
    ).add_to(m)


def _hazard_colours(values: np.ndarray) -> np.ndarray:
    """YlOrRd in ten equal steps of the 0–1 index."""
    steps = np.clip(np.floor(np.nan_to_num(values) * 10), 0, 9) / 9
    rgba = (colormaps["YlOrRd"](steps) * 255).astype("uint8")
    rgba[..., 3] = 190
    rgba[np.isnan(values)] = 0
    return rgba


def _add_grid_layers(
    m: folium.Map,
    grid: gpd.GeoDataFrame,
    *,
    risk_shown: bool,
    shelter_reach_min: float,
    relief_h: float,
    air_min: float,
) -> None:
    """Add the image layers drawn from the grid (risk, hazards, people, time)."""
    if grid.empty:
        logger.warning("the grid has no cells here; no grid layers are drawn")
        return
    canvas = _canvas(grid)
    cols = grid.columns
    populated = grid["population"].to_numpy(float) > 0
    if "risk_class" in cols:
        colour = partial(
            _classed_rgba, breaks=(1.5, 2.5, 3.5, 4.5), colours=RISK_COLOURS, alpha=0.8
        )
        name = "风险等级（1 km 格网）Risk class (1 km grid)"
        values = grid["risk_class"].to_numpy(float)
        _image_layer(m, canvas, values, colour, name, show=risk_shown)
    for col, (zh, en) in HAZARD_NAMES.items():
        if col in cols:
            name = f"{zh}危险性指数 {en} index (0–1)"
            values = grid[col].to_numpy(float)
            _image_layer(m, canvas, values, _hazard_colours, name, show=False)
    area_km2 = grid.geometry.area.to_numpy() / 1e6
    density = grid["population"].to_numpy(float) / area_km2
    colour = partial(_classed_rgba, breaks=_POP_BREAKS, colours=_POP_COLOURS, alpha=0.8)
    name = "人口密度 Population (people/km²)"
    _image_layer(m, canvas, density, colour, name, show=False)
    if "t_shelter_min" in cols:
        minutes = np.where(populated, grid["t_shelter_min"].to_numpy(float), np.nan)
        minutes = np.where(np.isinf(minutes), 1e9, minutes)
        colour = partial(
            _classed_rgba, breaks=_TIME_BREAKS, colours=_TIME_COLOURS, alpha=0.75
        )
        name = "至避难场所时间 Time to shelter (min)"
        _image_layer(m, canvas, minutes, colour, name, show=False)
    _add_reach_layers(
        m, grid, canvas, populated, (shelter_reach_min, relief_h, air_min)
    )


def _mask_colour(colour: str, alpha: float) -> Callable[[np.ndarray], np.ndarray]:
    def paint(values: np.ndarray) -> np.ndarray:
        rgba = np.zeros((*values.shape, 4), dtype="uint8")
        rgba[np.nan_to_num(values) > 0] = _hex_rgba(colour, alpha)
        return rgba

    return paint


def _beyond(values: np.ndarray, limit: float) -> np.ndarray:
    """True where a time is missing, infinite or above ``limit``."""
    return ~(np.nan_to_num(values, nan=np.inf, posinf=np.inf) <= limit)


def _add_reach_layers(
    m: folium.Map,
    grid: gpd.GeoDataFrame,
    canvas: _Canvas,
    populated: np.ndarray,
    limits: tuple[float, float, float],
) -> None:
    """Add coverage gaps (shelter, relief) and helicopter reach."""
    shelter_reach_min, relief_h, air_min = limits
    layers = (
        ("t_shelter_min", shelter_reach_min, True, "#6a3d9a",
         f"避难场所覆盖不足 Beyond shelter reach (> {shelter_reach_min:g} min)"),
        ("t_relief_h", relief_h, True, "#b15928",
         f"救援{relief_h:g}小时未达 Relief not within {relief_h:g} h"),
        ("t_air_min", air_min, False, "#1f78b4",
         f"直升机{air_min:g}分钟可达 Helicopter reach (≤ {air_min:g} min)"),
    )  # fmt: skip
    for col, limit, gap, colour, name in layers:
        if col not in grid.columns:
            continue
        times = grid[col].to_numpy(float)
        mask = (_beyond(times, limit) & populated) if gap else ~_beyond(times, limit)
        paint = _mask_colour(colour, 0.55)
        _image_layer(m, canvas, mask.astype(float), paint, name, show=False)


# ---------------------------------------------------------------------------
# Vector layers, legend and page furniture (small Leaflet snippets)
# ---------------------------------------------------------------------------

_TEMPLATES = Path(__file__).resolve().parent / "templates"


def _page_helpers() -> str:
    """Styles and the JS helpers (``riskmap.table``, ``riskmap.text``)."""
    return (_TEMPLATES / "map_page.html").read_text(encoding="utf-8")


class _Helpers(MacroElement):
    """Page styles and the two JS helpers that build popups from text."""

    _template = Template(
        "{% macro header(this, kwargs) %}{{ this.page }}{% endmacro %}"
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "Helpers"
        self.page = _page_helpers()


class _PolygonLayer(MacroElement):
    """Polygons with popups and tooltips, added to the parent FeatureGroup."""

    _template = Template(
        """{% macro script(this, kwargs) %}
L.geoJSON({{ this.data }}, {
  pane: {{ this.pane }},
  interactive: {{ this.interactive }},
  style: function (f) { return f.properties.style; },
  onEachFeature: function (f, layer) {
    if (f.properties.rows) {
      layer.bindPopup(riskmap.table(f.properties.title, f.properties.rows));
    }
    if (f.properties.tip) { layer.bindTooltip(riskmap.text(f.properties.tip)); }
  }
}).addTo({{ this._parent.get_name() }});
{% endmacro %}"""
    )

    def __init__(
        self,
        collection: dict[str, Any],
        *,
        pane: str = "overlayPane",
        interactive: bool = True,
    ) -> None:
        super().__init__()
        self._name = "PolygonLayer"
        self.data = _js_json(collection)
        self.pane = json.dumps(pane)
        self.interactive = json.dumps(interactive)


class _PointLayer(MacroElement):
    """Point symbols (an SVG icon) with popups, added to the parent group."""

    _template = Template(
        """{% macro script(this, kwargs) %}
(function () {
  var size = {{ this.size }};
  var icon = L.divIcon({html: {{ this.svg }}, className: "rm-icon",
                        iconSize: [size, size], iconAnchor: [size / 2, size / 2]});
  {{ this.points }}.forEach(function (p) {
    L.marker([p.lat, p.lon], {icon: icon, title: p.tip,
                              zIndexOffset: {{ this.z }}})
      .bindPopup(riskmap.table(p.title, p.rows))
      .addTo({{ this._parent.get_name() }});
  });
})();
{% endmacro %}"""
    )

    def __init__(self, points: list[dict[str, Any]], style: FacilityStyle) -> None:
        super().__init__()
        self._name = "PointLayer"
        self.points = _js_json(points)
        self.svg = json.dumps(_shape_svg(style, style.size))
        self.size = int(style.size)
        self.z = int(style.z)


class _Labels(MacroElement):
    """Permanent text labels (county or township names) drawn as plain text."""

    _template = Template(
        """{% macro script(this, kwargs) %}
{{ this.points }}.forEach(function (p) {
  L.marker([p.lat, p.lon], {interactive: false, keyboard: false,
    icon: L.divIcon({className: {{ this.css_class }}, html: riskmap.text(p.text),
                     iconSize: null})}).addTo({{ this._parent.get_name() }});
});
{% endmacro %}"""
    )

    def __init__(
        self, points: list[dict[str, Any]], css_class: str = "rm-label"
    ) -> None:
        super().__init__()
        self._name = "Labels"
        self.points = _js_json(points)
        self.css_class = json.dumps(css_class)


class _HtmlBox(MacroElement):
    """A fixed block of (already escaped) HTML over the map."""

    _template = Template(
        """{% macro script(this, kwargs) %}
(function () {
  var box = L.DomUtil.create("div", {{ this.css_class }});
  box.innerHTML = {{ this.content }};
  L.DomEvent.disableClickPropagation(box);
  L.DomEvent.disableScrollPropagation(box);
  {{ this._parent.get_name() }}.getContainer().appendChild(box);
})();
{% endmacro %}"""
    )

    def __init__(self, content: str, css_class: str) -> None:
        super().__init__()
        self._name = "HtmlBox"
        self.content = _js_json(content)
        self.css_class = json.dumps(css_class)


def _shape_svg(style: FacilityStyle, size: int = 14) -> str:
    """An SVG symbol for a facility kind (our constants only, no user text)."""
    s, h = size, size / 2
    fill = f'fill="{style.colour}" stroke="#fff" stroke-width="1.5"'
    shape = {
        "circle": f'<circle cx="{h}" cy="{h}" r="{h - 1}" {fill}/>',
        "square": f'<rect x="1" y="1" width="{s - 2}" height="{s - 2}" {fill}/>',
        "diamond": f'<polygon points="{h},0 {s},{h} {h},{s} 0,{h}" {fill}/>',
        "triangle": f'<polygon points="{h},0 {s},{s - 1} 0,{s - 1}" {fill}/>',
    }[style.shape]
    return f'<svg width="{s}" height="{s}" viewBox="0 0 {s} {s}">{shape}</svg>'


def _county_properties(
    counties: gpd.GeoDataFrame, style: Callable[[Mapping[str, Any]], dict]
) -> list[dict[str, Any]]:
    props = []
    for record in counties.drop(columns="geometry").to_dict("records"):
        title = f"{_plain(record.get('name')) or ''}"
        props.append(
            {
                "title": title,
                "tip": f"{title} {_plain(record.get('name_en')) or ''}".strip(),
                "rows": _rows(record, _COUNTY_ROWS),
                "style": style(record),
            }
        )
    return props


def _fixed_style(style: dict[str, Any], record: Mapping[str, Any]) -> dict:
    return style


def _risk_style(record: Mapping[str, Any]) -> dict[str, Any]:
    klass = _plain(record.get("risk_class"))
    fill = RISK_COLOURS[int(klass) - 1] if klass in (1, 2, 3, 4, 5) else "#cccccc"
    return {"color": "#444", "weight": 1.2, "fillColor": fill, "fillOpacity": 0.75}


#: Map panes: grid images above the county fills, outlines above the images.
_GRID_PANE, _LINE_PANE = "riskmapGrid", "riskmapLines"


def _add_county_layers(
    m: folium.Map,
    counties: gpd.GeoDataFrame,
    geoms: gpd.GeoSeries,
    *,
    focus: str | None,
) -> None:
    """County fills and outlines (or the focus county and its neighbours)."""
    if focus is None:
        fill = folium.FeatureGroup(name="区县风险等级 County risk class", show=True)
        props = _county_properties(counties, _risk_style)
        _PolygonLayer(_feature_collection(geoms, props)).add_to(fill)
        fill.add_to(m)
        lines = folium.FeatureGroup(name="区县边界 County boundaries", show=True)
        props = _county_properties(counties, partial(_fixed_style, _BORDER))
        _PolygonLayer(
            _feature_collection(geoms, props), pane=_LINE_PANE, interactive=False
        ).add_to(lines)
        lines.add_to(m)
    else:
        is_focus = (counties["adcode"].astype(str) == focus).to_numpy()
        grey = partial(_fixed_style, _NEIGHBOUR)
        others = folium.FeatureGroup(name="周边区县 Neighbouring counties", show=True)
        props = _county_properties(counties[~is_focus], grey)
        _PolygonLayer(_feature_collection(geoms[~is_focus], props)).add_to(others)
        others.add_to(m)
        own = folium.FeatureGroup(name="区县边界 County boundary", show=True)
        props = _county_properties(counties[is_focus], partial(_fixed_style, _FOCUS))
        _PolygonLayer(
            _feature_collection(geoms[is_focus], props), pane=_LINE_PANE
        ).add_to(own)
        own.add_to(m)
    _add_county_names(m, counties, geoms)


_BORDER = {"color": "#444", "weight": 1.2, "fill": False}
_NEIGHBOUR = {"color": "#888", "weight": 1, "fillColor": "#ddd", "fillOpacity": 0.4}
# A transparent fill keeps the whole county clickable for its popup.
_FOCUS = {"color": "#222", "weight": 2.5, "fillColor": "#000", "fillOpacity": 0.0}


def _add_county_names(
    m: folium.Map, counties: gpd.GeoDataFrame, geoms: gpd.GeoSeries
) -> None:
    inner = shapely.point_on_surface(geoms.to_numpy())
    points = [
        {
            "lon": round(float(shapely.get_x(p)), 5),
            "lat": round(float(shapely.get_y(p)), 5),
            "text": f"{_plain(n) or ''}\n{_plain(e) or ''}".strip(),
        }
        for p, n, e in zip(
            inner,
            counties["name"],
            counties.get("name_en", pd.Series([""] * len(counties))),
            strict=True,
        )
        if p is not None and not shapely.is_empty(p)
    ]
    group = folium.FeatureGroup(name="区县名称 County names", show=True)
    _Labels(points).add_to(group)
    group.add_to(m)


def _add_places(m: folium.Map, places: gpd.GeoDataFrame, *, show: bool) -> None:
    """County seats and townships as small labelled dots."""
    places = _to_wgs84(places, "places")
    points = [
        {
            "lon": round(float(geom.x), 5),
            "lat": round(float(geom.y), 5),
            "text": str(_plain(name) or ""),
        }
        for geom, name in zip(places.geometry, places["name"], strict=True)
        if geom is not None and not geom.is_empty
    ]
    group = folium.FeatureGroup(name="乡镇 Townships", show=show)
    _Labels(points, css_class="rm-place").add_to(group)
    group.add_to(m)


def _facility_points(
    facilities: gpd.GeoDataFrame, county_names: Mapping[str, str]
) -> list[dict[str, Any]]:
    points = []
    geoms = facilities.geometry.to_numpy()
    records = facilities.drop(columns="geometry").to_dict("records")
    for geom, record in zip(geoms, records, strict=True):
        if geom is None or geom.is_empty:
            continue
        kind = str(_plain(record.get("kind")) or "")
        style = FACILITY_STYLES.get(kind, _OTHER_FACILITY)
        shown = dict(record)
        shown["kind"] = _bilingual(style.name_zh, style.name_en)
        code = _plain(record.get("adcode"))
        if code is not None and str(code) in county_names:
            shown["adcode"] = f"{county_names[str(code)]} ({code})"
        name = _plain(record.get("name"))
        title = "" if name is None else str(name)
        points.append(
            {
                "lat": round(float(geom.y), 5),
                "lon": round(float(geom.x), 5),
                "title": title,
                "tip": title,
                "rows": _rows(shown, _FACILITY_ROWS),
            }
        )
    return points


def _add_facility_layers(
    m: folium.Map, facilities: gpd.GeoDataFrame, county_names: Mapping[str, str]
) -> None:
    """One layer per facility kind, each with its own symbol."""
    kinds = facilities["kind"].astype(str)
    for kind in [*FACILITY_STYLES, *sorted(set(kinds) - set(FACILITY_STYLES))]:
        subset = facilities[kinds == kind]
        if subset.empty:
            continue
        style = FACILITY_STYLES.get(kind, _OTHER_FACILITY)
        label = _bilingual(style.name_zh, style.name_en)
        group = folium.FeatureGroup(
            name=html.escape(f"{label} ({len(subset)})"), show=True
        )
        _PointLayer(_facility_points(subset, county_names), style).add_to(group)
        group.add_to(m)


def _class_labels(breaks: Sequence[float]) -> list[str]:
    """Labels of the classes cut by ``breaks``.

    Examples
    --------
    >>> _class_labels([15, 30])
    ['0–15', '15–30', '> 30']
    """
    edges = [0.0, *breaks]
    labels = [f"{a:g}–{b:g}" for a, b in pairwise(edges)]
    return [*labels, f"> {breaks[-1]:g}"]


def _legend_html(facility_kinds: Iterable[str]) -> str:
    """Legend content: every label is our own text, escaped all the same."""

    def swatch(colour: str, text: str) -> str:
        return f'<div><i style="background:{colour}"></i>{html.escape(text)}</div>'

    parts = ["<details open><summary>图例 Legend</summary>"]
    parts.append("<h4>风险等级 Risk class</h4>")
    for k in range(5, 0, -1):
        zh, en = RISK_CLASS_NAMES[k]
        parts.append(swatch(RISK_COLOURS[k - 1], f"{k} {zh} {en}"))
    parts.append("<h4>危险性指数 Hazard index (0–1)</h4>")
    ramp = ", ".join(
        "#{:02x}{:02x}{:02x}".format(
            *(int(255 * c) for c in colormaps["YlOrRd"](v)[:3])
        )
        for v in (0.0, 0.5, 1.0)
    )
    bar = f"width:90px;background:linear-gradient(to right,{ramp})"
    parts.append(f'<div><i style="{bar}"></i></div>')
    parts.append("<div>0 低 low &nbsp;→&nbsp; 1 高 high</div>")
    parts.append("<h4>人口密度 Population (people/km²)</h4>")
    for colour, text in zip(_POP_COLOURS, _class_labels(_POP_BREAKS), strict=True):
        parts.append(swatch(colour, text))
    parts.append("<h4>至避难场所时间 Time to shelter (min)</h4>")
    for colour, text in zip(_TIME_COLOURS, _class_labels(_TIME_BREAKS), strict=True):
        parts.append(swatch(colour, text))
    parts.append("<h4>覆盖 Coverage</h4>")
    parts.append(swatch("#6a3d9a", "避难场所覆盖不足 Beyond shelter reach"))
    parts.append(swatch("#b15928", "救援未及时到达 Relief too late"))
    parts.append(swatch("#1f78b4", "直升机可达 Helicopter reach"))
    parts.append("<h4>设施 Facilities</h4>")
    for kind in facility_kinds:
        style = FACILITY_STYLES.get(kind, _OTHER_FACILITY)
        label = html.escape(_bilingual(style.name_zh, style.name_en))
        parts.append(f"<div>{_shape_svg(style, 12)}{label}</div>")
    parts.append("</details>")
    return "".join(parts)


# ---------------------------------------------------------------------------
# Base map and public functions
# ---------------------------------------------------------------------------

_LEAFLET_JS = ("leaflet", "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js")
_LEAFLET_CSS = (
    "leaflet_css",
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.css",
)


def _base_map(
    bounds: Sequence[float],
    *,
    title: str,
    tiles: str | None,
    attribution: str | None,
) -> folium.Map:
    """An empty map with scale bar, full-screen and measure controls.

    Only Leaflet itself is declared as a dependency of the page: jQuery,
    Bootstrap and Font Awesome, which folium lists by default, are not used
    by any element riskmap draws.
    """
    if tiles is not None and not attribution:
        raise ValueError(
            "a tile URL needs its attribution text, e.g. "
            "attribution='© 天地图 Tianditu' for Tianditu tiles"
        )
    west, south, east, north = bounds
    m = folium.Map(
        location=[(south + north) / 2, (west + east) / 2],
        tiles=None,
        control_scale=True,
    )
    m.default_js = [_LEAFLET_JS]
    m.default_css = [_LEAFLET_CSS]
    if tiles is not None:
        folium.TileLayer(
            tiles=tiles, attr=attribution, name="底图 Basemap", overlay=False
        ).add_to(m)
    _Helpers().add_to(m)
    folium.map.CustomPane(_GRID_PANE, z_index=450, pointer_events=False).add_to(m)
    folium.map.CustomPane(_LINE_PANE, z_index=460, pointer_events=True).add_to(m)
    _HtmlBox(html.escape(title), "rm-title").add_to(m)
    folium.plugins.Fullscreen(
        position="topleft", title="全屏 Full screen", title_cancel="退出全屏 Exit"
    ).add_to(m)
    folium.plugins.MeasureControl(
        position="topleft", primary_length_unit="kilometers",
        secondary_length_unit="meters", primary_area_unit="sqkilometers",
    ).add_to(m)  # fmt: skip
    m.fit_bounds([[south, west], [north, east]], padding=(10, 10))
    return m


def _finish(m: folium.Map, facility_kinds: Iterable[str]) -> folium.Map:
    present = set(facility_kinds)
    order = [k for k in FACILITY_STYLES if k in present] + sorted(
        present - set(FACILITY_STYLES)
    )
    _HtmlBox(_legend_html(order), "rm-legend").add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    return m


def _prepared(
    counties: gpd.GeoDataFrame, grid: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, Any]:
    _require(counties, _COUNTY_COLUMNS, "counties")
    _require(grid, _GRID_COLUMNS, "grid")
    _require(facilities, _FACILITY_COLUMNS, "facilities")
    crs = _projected_crs(grid)
    counties = _to_wgs84(counties, "counties").copy()
    counties["adcode"] = counties["adcode"].astype(str)
    return counties, _to_wgs84(facilities, "facilities"), crs


def city_map(
    counties: gpd.GeoDataFrame,
    grid: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    places: gpd.GeoDataFrame | None = None,
    title: str = "百色市灾害风险图 Baise disaster-risk map",
    tiles: str | None = None,
    attribution: str | None = None,
    shelter_reach_min: float = 60.0,
    relief_h: float = 10.0,
    air_min: float = 120.0,
    tolerance_m: float = 150.0,
) -> folium.Map:
    """Draw the whole run on one interactive map.

    Parameters
    ----------
    counties : GeoDataFrame
        County results (``adcode``, ``name``, ``name_en``, ``risk_class``, …).
    grid : GeoDataFrame
        Grid results in a projected CRS (square cells).
    facilities : GeoDataFrame
        Points with ``name`` and ``kind`` (shelter, depot, reserve_centre,
        heli_base); other columns are shown in the popups.
    places : GeoDataFrame, optional
        County seats and townships (``name``, points) for a label layer,
        off by default on the city map and on for a county.
    title : str
        Title shown at the top of the map (plain text).
    tiles, attribution : str, optional
        A tile URL template (a planner's own or Tianditu server, with its
        key) and its attribution. By default no tiles are loaded and the map
        works offline. Tiles must be in Web Mercator on WGS-84 or CGCS2000
        (Tianditu's ``*_w`` layers, e.g. ``https://t0.tianditu.gov.cn/
        vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec
        &STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}
        &TILEROW={y}&TILECOL={x}&tk=KEY``); Amap (GCJ-02) or Baidu (BD-09)
        tiles would sit several hundred metres off the layers.
    shelter_reach_min, relief_h, air_min : float
        Limits of the coverage layers: minutes to a shelter, hours for
        relief, minutes for the helicopter.
    tolerance_m : float
        Simplification tolerance of the county borders, in metres.

    Returns
    -------
    folium.Map
        Write it with :func:`save_map` for an offline page.

    Raises
    ------
    FieldError
        If a layer lacks a required column.
    CRSError
        If a layer has no CRS, or the grid is not projected.

    Examples
    --------
    >>> from riskmap.maps import _example_layers
    >>> m = city_map(*_example_layers())
    >>> type(m).__name__
    'Map'
    """
    counties, facilities, crs = _prepared(counties, grid, facilities)
    geoms = _web_geometries(counties, crs, tolerance_m)
    m = _base_map(geoms.total_bounds, title=title, tiles=tiles, attribution=attribution)

    # Grid images first so the county outlines and points stay on top.
    _add_grid_layers(
        m, grid, risk_shown=False, shelter_reach_min=shelter_reach_min,
        relief_h=relief_h, air_min=air_min,
    )  # fmt: skip
    _add_county_layers(m, counties, geoms, focus=None)
    if places is not None and not places.empty:
        _add_places(m, places, show=False)
    names = dict(zip(counties["adcode"], counties["name"].astype(str), strict=True))
    _add_facility_layers(m, facilities, names)
    return _finish(m, facilities["kind"].astype(str).unique())


def county_map(
    adcode: str,
    counties: gpd.GeoDataFrame,
    grid: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    places: gpd.GeoDataFrame | None = None,
    title: str | None = None,
    tiles: str | None = None,
    attribution: str | None = None,
    shelter_reach_min: float = 60.0,
    relief_h: float = 10.0,
    air_min: float = 120.0,
    tolerance_m: float = 50.0,
) -> folium.Map:
    """Draw one county, with its neighbours' outlines for orientation.

    The county's grid cells, its facilities and every city-level facility
    (reserve centre, helicopter bases, which serve all counties) are drawn.
    Parameters are those of :func:`city_map`; ``title`` defaults to the
    county's Chinese and English names.

    Raises
    ------
    FieldError
        If ``adcode`` is not a county of ``counties``.

    Examples
    --------
    >>> from riskmap.maps import _example_layers
    >>> m = county_map("451002", *_example_layers())
    >>> type(m).__name__
    'Map'
    """
    counties, facilities, crs = _prepared(counties, grid, facilities)
    adcode = str(adcode)
    row = counties[counties["adcode"] == adcode]
    if row.empty:
        raise FieldError(
            f"adcode {adcode!r} is not among the counties "
            f"({', '.join(counties['adcode'])})",
            layer="counties",
            field="adcode",
        )
    name_en = row.iloc[0].get("name_en", "")
    title = title or f"{row.iloc[0]['name']}灾害风险图 {name_en} disaster-risk map"
    geoms = _web_geometries(counties, crs, tolerance_m)
    own_bounds = geoms[row.index].total_bounds
    m = _base_map(own_bounds, title=title, tiles=tiles, attribution=attribution)

    # The county's own cells, then outlines, then its facilities.
    cells = grid[grid["adcode"].astype(str) == adcode]
    _add_grid_layers(
        m, cells, risk_shown=True, shelter_reach_min=shelter_reach_min,
        relief_h=relief_h, air_min=air_min,
    )  # fmt: skip
    _add_county_layers(m, counties, geoms, focus=adcode)
    if places is not None and "adcode" in places.columns:
        places = places[places["adcode"].astype(str) == adcode]
    if places is not None and not places.empty:
        _add_places(m, places, show=True)
    shared = facilities["kind"].astype(str).isin(["reserve_centre", "heli_base"])
    own = facilities.get("adcode", pd.Series("", index=facilities.index)).astype(str)
    chosen = facilities[(own == adcode) | shared]
    names = dict(zip(counties["adcode"], counties["name"].astype(str), strict=True))
    _add_facility_layers(m, chosen, names)
    return _finish(m, chosen["kind"].astype(str).unique())


def save_map(m: folium.Map, path: str | Path) -> Path:
    """Write a map as one self-contained HTML file, atomically.

    Leaflet and its plugins are inlined from ``riskmap/assets``, so the page
    opens without any network. A tile layer given to :func:`city_map` still
    loads its tiles from its own server.

    Parameters
    ----------
    m : folium.Map
        A map from :func:`city_map` or :func:`county_map`.
    path : str or Path
        Output file; its folder is created if needed.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    ValueError
        If the page would still load a file from the network.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from riskmap.maps import _example_layers
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "m.html"
    >>> out = save_map(city_map(*_example_layers()), path)
    >>> "cdn.jsdelivr" in out.read_text(encoding="utf-8")
    False
    """
    page = inline_page(m.get_root().render())
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    logger.info("wrote %s (%.1f MB)", path, path.stat().st_size / 1e6)
    return path


def _example_layers() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Three small counties near Baise, their 1 km grid and four facilities.

    Used by the examples and the tests: the counties share slanted borders,
    so boundary cells are clipped, and facilities carry numpy numbers and a
    time-zone-aware timestamp.
    """
    utm, x0, y0 = "EPSG:32648", 660_000.0, 2_640_000.0
    west = shapely.Polygon(
        [(x0, y0), (x0 + 5200, y0), (x0 + 4450, y0 + 4500), (x0 + 3700, y0 + 9000),
         (x0, y0 + 9000)]
    )  # fmt: skip
    east = shapely.box(x0, y0, x0 + 12_000, y0 + 9000).difference(west)
    north = east.intersection(shapely.box(x0, y0 + 4500, x0 + 12_000, y0 + 9000))
    counties = gpd.GeoDataFrame(
        {
            "adcode": ["451002", "451003", "451022"],
            "name": ["右江区", "田阳区", "田东县"],
            "name_en": ["Youjiang", "Tianyang", "Tiandong"],
            "population": np.array([1200, 800, 650]),
            "risk_class": np.array([5, 2, 3]),
            "pop_share_shelter_reach": [0.91, 0.55, np.nan],
        },
        geometry=[west, north, east.difference(north)],
        crs=utm,
    )

    # A 1 km grid clipped to the counties, with smooth made-up values.
    boxes = [
        shapely.box(x, y, x + 1000, y + 1000)
        for x in np.arange(x0, x0 + 12_000, 1000)
        for y in np.arange(y0, y0 + 9000, 1000)
    ]
    grid = gpd.overlay(
        gpd.GeoDataFrame(geometry=boxes, crs=utm), counties[["adcode", "geometry"]]
    )
    grid = grid[grid.area > 1.0].reset_index(drop=True)
    x = (grid.centroid.x.to_numpy() - x0) / 12_000
    y = (grid.centroid.y.to_numpy() - y0) / 9000
    grid["cell_id"] = [f"c{i}" for i in range(len(grid))]
    grid["population"] = np.round(400 * x * y)
    for col, value in (
        ("h_flood", 1 - y), ("h_geological", y), ("h_fire", x), ("h_earthquake", x * y)
    ):  # fmt: skip
        grid[col] = value
    grid["risk_class"] = np.clip(np.ceil(5 * (x + y) / 2), 1, 5).astype(int)
    grid["t_shelter_min"] = 150 * x
    grid["t_relief_h"] = 14 * y
    grid["t_air_min"] = 60 + 120 * x
    counties = counties.to_crs(4326)

    facilities = gpd.GeoDataFrame(
        {
            "facility_id": ["F1", "F2", "F3", "F4"],
            "name": [
                "<b>Warehouse</b> & Depot </script>",
                "Shelter `B`",
                "储备中心",
                "机场",
            ],
            "kind": ["depot", "shelter", "reserve_centre", "heli_base"],
            "adcode": ["451002", "451003", "451002", "451022"],
            "capacity_people": np.array([0, 150, 5000, 0], dtype="int64"),
            "last_inspected": pd.to_datetime(
                ["2024-05-03T09:30:00+08:00"] * 4, utc=True
            ).tz_convert("Asia/Shanghai"),
        },
        geometry=gpd.points_from_xy(
            [x0 + 1500, x0 + 8000, x0 + 2500, x0 + 10_000],
            [y0 + 1500, y0 + 7000, y0 + 6000, y0 + 2000],
        ),
        crs=utm,
    ).to_crs(4326)
    return counties, grid, facilities
