"""Printable risk-distribution maps of one county (PNG and PDF, matplotlib).

:func:`static_county_map` draws a county's 1 km risk classes with its
boundary, neighbours, township names, facilities, a legend, a metric scale
bar, a north arrow and a line naming the data sources, at print resolution.

Chinese text needs a CJK font. :func:`cjk_font` looks for one among the
fonts on the machine (Noto Sans CJK, Source Han Sans, WenQuanYi, Droid Sans
Fallback, …); on Debian or Ubuntu ``apt-get install fonts-noto-cjk``
provides one. Without such a font riskmap warns once and the Chinese labels
would print as empty boxes.
"""

from __future__ import annotations

import gc
import logging
import math
import warnings
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib as mpl
import pandas as pd
import shapely
from matplotlib import font_manager
from matplotlib import patheffects as pe
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from pyproj import Transformer

from riskmap._io import atomic_path
from riskmap.errors import CRSError, FieldError
from riskmap.maps import FACILITY_STYLES, RISK_CLASS_NAMES, RISK_COLOURS

__all__ = ["CJK_FAMILIES", "cjk_font", "nice_scale_length", "static_county_map"]

logger = logging.getLogger(__name__)

#: Font families with Simplified Chinese glyphs, in order of preference.
CJK_FAMILIES: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Heiti SC",
    "AR PL UMing CN",
)

_MARKERS = {"circle": "o", "square": "s", "diamond": "D", "triangle": "^"}
_HALO = [pe.withStroke(linewidth=2.5, foreground="white")]
_DEFAULT_SOURCES = (
    "数据来源 Sources: riskmap 运行结果 run results; 行政区划 boundaries, "
    "乡镇 townships and facilities: see data/SOURCES.md"
)


def _installed_cjk_family() -> str | None:
    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((family for family in CJK_FAMILIES if family in names), None)


@cache
def cjk_font() -> str | None:
    """Return the name of an installed font family with Chinese glyphs.

    The matplotlib font list is searched first; if it has no CJK family
    (for example a cache written before the fonts were installed), font
    files on the system are added and searched again.

    Returns
    -------
    str or None
        A family name from :data:`CJK_FAMILIES`, or None (with a warning)
        if none is installed.

    Examples
    --------
    >>> family = cjk_font()
    >>> family is None or family in CJK_FAMILIES
    True
    """
    family = _installed_cjk_family()
    if family is None:
        known = {f.fname for f in font_manager.fontManager.ttflist}
        for path in font_manager.findSystemFonts():
            if path not in known and any(k in path for k in ("CJK", "wqy", "Droid")):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError):
                    logger.debug("cannot read font %s", path)
        family = _installed_cjk_family()
    if family is None:
        warnings.warn(
            "no font with Chinese glyphs was found, so Chinese labels in static "
            "maps will show as empty boxes; install one (Debian/Ubuntu: "
            "apt-get install fonts-noto-cjk) and delete matplotlib's font cache",
            UserWarning,
            stacklevel=2,
        )
    else:
        logger.debug("using CJK font %s", family)
    return family


def _rc(family: str | None) -> dict[Any, Any]:
    """matplotlib settings: CJK first, DejaVu Sans for any other glyph."""
    families = [f for f in (family, "DejaVu Sans") if f]
    return {
        "font.family": "sans-serif",
        "font.sans-serif": families,
        "axes.unicode_minus": False,
        "pdf.fonttype": 42,
    }


def nice_scale_length(width_m: float, fraction: float = 0.25) -> float:
    """A round length (1, 2 or 5 × 10ⁿ metres) near ``fraction`` of a width.

    Examples
    --------
    >>> nice_scale_length(83_000)
    20000.0
    >>> nice_scale_length(3_000)
    500.0
    """
    target = width_m * fraction
    power = 10 ** math.floor(math.log10(target))
    return float(max(s * power for s in (1, 2, 5) if s * power <= target))


# ---------------------------------------------------------------------------
# Map furniture
# ---------------------------------------------------------------------------


def _scale_bar(ax: Axes, length_m: float) -> None:
    """Draw a two-part metric scale bar in the lower left (axes in metres)."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    left, base = x0 + 0.04 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    height = 0.012 * (y1 - y0)
    half = length_m / 2
    for i, colour in enumerate(("black", "white")):
        ax.add_patch(
            Rectangle(
                (left + i * half, base), half, height,
                facecolor=colour, edgecolor="black", linewidth=0.8, zorder=20,
            )
        )  # fmt: skip
    unit, div = ("km", 1000.0) if length_m >= 1000 else ("m", 1.0)
    for offset in (0.0, half, length_m):
        text = f"{offset / div:g}" + (f" {unit}" if offset == length_m else "")
        ax.text(
            left + offset, base + 1.6 * height, text, ha="center", va="bottom",
            fontsize=7, zorder=20, path_effects=_HALO,
        )  # fmt: skip


def _north_angle(crs: Any, x: float, y: float) -> float:
    """Angle (degrees, anticlockwise from map up) of true north at (x, y)."""
    to_geo = Transformer.from_crs(crs, 4326, always_xy=True)
    to_map = Transformer.from_crs(4326, crs, always_xy=True)
    lon, lat = to_geo.transform(x, y)
    x2, y2 = to_map.transform(lon, lat + 0.01)
    return math.degrees(math.atan2(-(x2 - x), y2 - y))


def _north_arrow(ax: Axes, angle_deg: float) -> None:
    """Draw a north arrow in the upper right, turned to true north."""
    cx, cy, size = 0.93, 0.88, 0.06
    a = math.radians(angle_deg)
    dx, dy = -math.sin(a) * size, math.cos(a) * size
    ax.annotate(
        "", xy=(cx + dx / 2, cy + dy / 2), xytext=(cx - dx / 2, cy - dy / 2),
        xycoords="axes fraction",
        arrowprops={"arrowstyle": "-|>,head_width=0.4,head_length=0.8",
                    "color": "black", "linewidth": 1.5},
        zorder=20,
    )  # fmt: skip
    ax.text(
        cx + dx * 0.75, cy + dy * 0.75, "N 北", transform=ax.transAxes,
        ha="center", va="bottom", fontsize=9, fontweight="bold",
        path_effects=_HALO, zorder=20,
    )  # fmt: skip


def _legend(ax: Axes, kinds: Sequence[str]) -> None:
    handles: list[Any] = [Patch(visible=False, label="风险等级 Risk class")]
    handles += [
        Patch(facecolor=RISK_COLOURS[k - 1], edgecolor="none",
              label=f"{k} {RISK_CLASS_NAMES[k][0]} {RISK_CLASS_NAMES[k][1]}")
        for k in range(5, 0, -1)
    ]  # fmt: skip
    handles.append(Patch(facecolor="#eeeeee", edgecolor="none", label="无数据 No data"))
    handles.append(Line2D([], [], color="black", linewidth=1.8, label="区县界 County"))
    for kind in kinds:
        style = FACILITY_STYLES[kind]
        handles.append(
            Line2D([], [], linestyle="none", marker=_MARKERS[style.shape],
                   markerfacecolor=style.colour, markeredgecolor="white",
                   markersize=0.45 * style.size,
                   label=f"{style.name_zh} {style.name_en}")
        )  # fmt: skip
    handles.append(
        Line2D([], [], linestyle="none", marker="o", markersize=3,
               color="#333333", label="乡镇 Township")
    )  # fmt: skip
    ax.legend(
        handles=handles, title="图例 Legend", loc="upper left",
        bbox_to_anchor=(1.02, 1.0), fontsize=8, title_fontsize=9,
        frameon=False, borderaxespad=0.0, alignment="left",
    )  # fmt: skip


# ---------------------------------------------------------------------------
# Layers
# ---------------------------------------------------------------------------


def _draw_cells(ax: Axes, cells: gpd.GeoDataFrame) -> None:
    """Fill the 1 km cells with the colour of their risk class.

    Cells of one class are merged first (they tile the plane, so a coverage
    union is exact and fast): five polygons print faster and without the
    hairline seams that thousands of abutting squares show in a PDF.
    """
    if cells.empty:
        logger.warning("no grid cells to draw")
        return
    klass = pd.to_numeric(cells["risk_class"], errors="coerce")
    for k in (0, 1, 2, 3, 4, 5):
        chosen = ~klass.isin([1, 2, 3, 4, 5]) if k == 0 else klass == k
        geoms = cells.geometry[chosen.to_numpy()].to_numpy()
        if len(geoms) == 0:
            continue
        try:
            merged = shapely.coverage_union_all(geoms)
        except shapely.errors.GEOSException:
            merged = shapely.union_all(geoms)
        colour = "#eeeeee" if k == 0 else RISK_COLOURS[k - 1]
        gpd.GeoSeries([merged], crs=cells.crs).plot(
            ax=ax, color=colour, edgecolor=colour, linewidth=0.2, zorder=2
        )


def _draw_counties(ax: Axes, counties: gpd.GeoDataFrame, adcode: str) -> None:
    own = counties["adcode"] == adcode
    if (~own).any():
        counties[~own].plot(
            ax=ax, facecolor="#f2f2f2", edgecolor="#9a9a9a", linewidth=0.6, zorder=1
        )
    counties[own].boundary.plot(ax=ax, color="black", linewidth=1.8, zorder=6)
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    view = shapely.box(x0, y0, x1, y1)
    for _, row in counties[~own].iterrows():
        part = row.geometry.intersection(view)
        if part.is_empty or part.area < 0.03 * view.area:
            continue
        p = part.representative_point()
        ax.text(
            p.x, p.y, f"{row['name']}\n{row.get('name_en', '') or ''}".strip(),
            ha="center", va="center", fontsize=8, color="#666666",
            path_effects=_HALO, zorder=7,
        )  # fmt: skip


def _draw_places(ax: Axes, places: gpd.GeoDataFrame) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    inside = places.cx[x0:x1, y0:y1]
    for _, row in inside.iterrows():
        seat = str(row.get("kind", "")) == "county_seat"
        ax.plot(
            row.geometry.x, row.geometry.y, marker="s" if seat else "o",
            markersize=4 if seat else 2.5, color="#222222", zorder=9,
        )  # fmt: skip
        ax.annotate(
            str(row["name"]), (row.geometry.x, row.geometry.y),
            xytext=(4, -7), textcoords="offset points",
            fontsize=8 if seat else 6.5, fontweight="bold" if seat else "normal",
            path_effects=_HALO, zorder=11, clip_on=True,
        )  # fmt: skip


def _draw_facilities(ax: Axes, facilities: gpd.GeoDataFrame) -> list[str]:
    """Draw facilities inside the view; return the kinds drawn."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    inside = facilities.cx[x0:x1, y0:y1]
    drawn = []
    for kind, style in FACILITY_STYLES.items():
        subset = inside[inside["kind"].astype(str) == kind]
        if subset.empty:
            continue
        # Sizes and stacking follow the web map: a shelter's disc shows as a
        # ring around a depot on the same site.
        ax.scatter(
            subset.geometry.x, subset.geometry.y, marker=_MARKERS[style.shape],
            s=(0.45 * style.size) ** 2, c=style.colour, edgecolors="white",
            linewidths=0.8, zorder=10 + style.z / 100,
        )  # fmt: skip
        drawn.append(kind)
    return drawn


# ---------------------------------------------------------------------------
# Public function
# ---------------------------------------------------------------------------


_PAGE = (11.0, 8.3)  # inches, landscape
_MAP_BOX = (0.02, 0.08, 0.72, 0.82)  # left, bottom, width, height (figure fraction)


def _frame(ax: Axes, bounds: Sequence[float], margin: float = 0.06) -> None:
    """Set limits around ``bounds`` with the same aspect as the axes box."""
    x0, y0, x1, y1 = bounds
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    box_ratio = (_PAGE[1] * _MAP_BOX[3]) / (_PAGE[0] * _MAP_BOX[2])
    half_w = (1 + 2 * margin) * max(x1 - x0, (y1 - y0) / box_ratio) / 2
    half_h = half_w * box_ratio
    ax.set_xlim(cx - half_w, cx + half_w)
    ax.set_ylim(cy - half_h, cy + half_h)
    ax.set_aspect("equal")


def _check(
    counties: gpd.GeoDataFrame, grid: gpd.GeoDataFrame, adcode: str
) -> tuple[Any, pd.Series]:
    for layer, gdf, cols in (
        ("counties", counties, ("adcode", "name")),
        ("grid", grid, ("adcode", "risk_class")),
    ):
        missing = [c for c in cols if c not in gdf.columns]
        if missing:
            raise FieldError(f"columns {missing} are missing", layer=layer)
    if grid.crs is None or not grid.crs.is_projected:
        raise CRSError(
            f"the grid must be in a projected CRS, found {grid.crs}",
            layer="grid",
            fix="pass the grid from the run results (analysis CRS)",
        )
    match = counties[counties["adcode"].astype(str) == adcode]
    if match.empty:
        raise FieldError(
            f"adcode {adcode!r} is not among the counties",
            layer="counties",
            field="adcode",
        )
    return grid.crs, match.iloc[0]


def _figure(
    adcode: str,
    counties: gpd.GeoDataFrame,
    grid: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    places: gpd.GeoDataFrame | None,
    *,
    title: str,
    sources: str,
) -> Figure:
    """Compose the whole page on a new figure."""
    crs = grid.crs
    counties = counties.to_crs(crs)
    counties["adcode"] = counties["adcode"].astype(str)
    own = counties[counties["adcode"] == adcode]
    fig = Figure(figsize=_PAGE)
    ax = fig.add_axes(_MAP_BOX)
    _frame(ax, own.total_bounds)

    # Layers from the bottom up, then the furniture.
    _draw_counties(ax, counties, adcode)
    cells = grid[grid["adcode"].astype(str) == adcode]
    _draw_cells(ax, cells)
    if places is not None and not places.empty:
        _draw_places(ax, places.to_crs(crs))
    kinds = _draw_facilities(ax, facilities.to_crs(crs)) if len(facilities) else []
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    xlim, ylim = ax.get_xlim(), ax.get_ylim()
    _scale_bar(ax, nice_scale_length(xlim[1] - xlim[0]))
    _north_arrow(ax, _north_angle(crs, sum(xlim) / 2, sum(ylim) / 2))
    _legend(ax, kinds)
    fig.text(0.38, 0.955, title, ha="center", va="top", fontsize=15, fontweight="bold")
    fig.text(0.02, 0.045, sources, fontsize=6.5, color="#444444")
    crs_name = crs.name if crs.name else str(crs)
    epsg = crs.to_epsg()
    fig.text(
        0.02, 0.025, f"坐标系 CRS: {crs_name}" + (f" (EPSG:{epsg})" if epsg else ""),
        fontsize=6.5, color="#444444",
    )  # fmt: skip
    return fig


def static_county_map(
    adcode: str,
    counties: gpd.GeoDataFrame,
    grid: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    out_png: str | Path,
    *,
    places: gpd.GeoDataFrame | None = None,
    dpi: int = 150,
    pdf: bool = False,
    title: str | None = None,
    sources: str = _DEFAULT_SOURCES,
) -> list[Path]:
    """Draw a county's risk-distribution map and write it as PNG (and PDF).

    Parameters
    ----------
    adcode : str
        The county to draw (text adcode, e.g. ``"451002"``).
    counties : GeoDataFrame
        County results with ``adcode``, ``name`` and ``name_en``.
    grid : GeoDataFrame
        Grid results (``adcode``, ``risk_class``) in a projected CRS; the
        map is drawn in that CRS, so the scale bar is in true metres.
    facilities : GeoDataFrame
        Points with ``kind``; those inside the map frame are drawn.
    out_png : str or Path
        The PNG file to write; the PDF goes next to it with ``.pdf``.
    places : GeoDataFrame, optional
        County seats and townships (``name``, ``kind``) to label.
    dpi : int
        Resolution of the PNG; 300 for print.
    pdf : bool
        Also write a PDF (vector, fonts embedded).
    title : str, optional
        Defaults to the county's Chinese and English names.
    sources : str
        The data-sources line printed under the map.

    Returns
    -------
    list of Path
        The files written (PNG first).

    Raises
    ------
    FieldError
        If ``adcode`` is unknown or a required column is missing.
    CRSError
        If the grid is not in a projected CRS.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from riskmap.maps import _example_layers
    >>> counties, grid, facilities = _example_layers()
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "451002.png"
    >>> [p.name for p in static_county_map("451002", counties, grid, facilities, out)]
    ['451002.png']
    """
    adcode = str(adcode)
    _, row = _check(counties, grid, adcode)
    if title is None:
        title = (
            f"{row['name']}灾害风险分布图\n{row.get('name_en', '')} disaster-risk map"
        )
    with mpl.rc_context(_rc(cjk_font())):
        fig = _figure(
            adcode, counties, grid, facilities, places, title=title, sources=sources
        )
        written = [Path(out_png)]
        if pdf:
            written.append(Path(out_png).with_suffix(".pdf"))
        for path in written:
            with atomic_path(path) as tmp:
                _save(fig, tmp, dpi, path.suffix.lstrip("."))
            logger.info("wrote %s", path)
    return written


def _save(fig: Figure, path: Path, dpi: int, fmt: str) -> None:
    """Save ``fig``; contain the font-file handle the PDF writer leaks.

    TODO: drop the ResourceWarning guard once matplotlib's PDF backend
    closes the font collections (.ttc) it subsets (leaks in 3.11).
    """
    if fmt != "pdf":
        fig.savefig(path, dpi=dpi, format=fmt)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        fig.savefig(path, dpi=dpi, format=fmt)
        gc.collect()
