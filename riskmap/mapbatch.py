"""Draw every county's maps in one go, redrawing only what has changed.

:func:`write_county_maps` writes, for each county, the interactive page
(``<name>.html``, :func:`riskmap.maps.county_map`) and the printable map
(``<name>.png`` and optionally ``.pdf``,
:func:`riskmap.static_maps.static_county_map`) into one folder, with a
progress bar.

A county is skipped when its files exist and were drawn from the same
results with the same options. "The same" is decided by a fingerprint
(SHA-256) of what the county's maps show, kept in ``.manifest.json`` in the
folder:

* the county's own grid cells (every column and the geometry);
* the facilities and places that can appear on its maps: its own, the
  city-wide kinds (reserve centre, helicopter bases), and any inside a box
  around the county (a static map shows its neighbours' edges);
* the whole counties table, because every county page carries its
  neighbours' outlines, names and popups;
* the drawing options (``dpi``, ``pdf``, the file-name column, the web-map
  style) and the riskmap version.

Content, not file times, decides: copying an output folder or re-running
the same analysis keeps the maps, while a change in one county's cells
redraws that county only. File names come from a column of the counties
table (``adcode`` by default) made safe with :func:`riskmap._io.safe_filename`,
so a name such as ``../../outside`` or ``田阳县/田阳区`` stays in the folder.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from tqdm.auto import tqdm

from riskmap import maps, static_maps
from riskmap._io import safe_filename, within, write_text_atomic
from riskmap.errors import FieldError

__all__ = ["MANIFEST_NAME", "SHARED_KINDS", "write_county_maps"]

logger = logging.getLogger(__name__)

#: File in the map folder recording what each county's maps were drawn from.
MANIFEST_NAME = ".manifest.json"

#: Facility kinds that serve every county and appear on every county map.
SHARED_KINDS = ("reserve_centre", "heli_base")

#: Bump when the drawing code changes what a file shows, to redraw all.
_DRAWING_VERSION = 1

#: Margin, as a share of the county's larger side, of the box whose
#: facilities and places count for its fingerprint (the static map frame
#: adds at most about 0.65 of the larger side around the county).
_VIEW_MARGIN = 1.0


# ---------------------------------------------------------------------------
# Fingerprints
# ---------------------------------------------------------------------------


def _frame_digest(frame: pd.DataFrame | None) -> bytes:
    """A digest of a table's columns, types, values, index and geometry."""
    digest = hashlib.sha256()
    if frame is None:
        return digest.digest()
    geometry = [c for c in frame.columns if str(frame[c].dtype) == "geometry"]
    layout = [[str(c), str(t)] for c, t in frame.dtypes.items()]
    digest.update(json.dumps(layout, ensure_ascii=False).encode())
    attributes = pd.DataFrame(frame.drop(columns=geometry))
    try:
        hashed = pd.util.hash_pandas_object(attributes, index=True)
        digest.update(hashed.to_numpy().tobytes())
    except TypeError:  # unhashable cells (lists, dicts): fall back to text
        digest.update(attributes.to_csv().encode())
    for column in geometry:
        for wkb in shapely.to_wkb(frame[column].to_numpy()):
            blob = b"" if wkb is None else bytes(wkb)
            digest.update(len(blob).to_bytes(8, "little") + blob)
    if isinstance(frame, gpd.GeoDataFrame) and frame.crs is not None:
        digest.update(frame.crs.to_wkt().encode())
    return digest.digest()


def _near(points: gpd.GeoDataFrame, bounds: Any, adcode: str) -> gpd.GeoDataFrame:
    """Points of the county, of the shared kinds, or inside its wide box."""
    x0, y0, x1, y1 = bounds
    pad = _VIEW_MARGIN * max(x1 - x0, y1 - y0)
    inside = points.geometry.intersects(
        shapely.box(x0 - pad, y0 - pad, x1 + pad, y1 + pad)
    )
    own = points.get("adcode", pd.Series("", index=points.index)).astype(str)
    kinds = points.get("kind", pd.Series("", index=points.index)).astype(str)
    return points[inside | (own == adcode) | kinds.isin(SHARED_KINDS)]


def _fingerprints(
    counties: gpd.GeoDataFrame,
    grid: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    places: gpd.GeoDataFrame | None,
    options: Mapping[str, Any],
) -> dict[str, str]:
    """The fingerprint of each county's maps, keyed by adcode."""
    from riskmap import __version__

    common = hashlib.sha256()
    common.update(f"riskmap {__version__} drawing {_DRAWING_VERSION}".encode())
    common.update(json.dumps(options, sort_keys=True, default=str).encode())
    common.update(_frame_digest(counties))
    common.update(str(grid.crs).encode())

    counties_ll = counties.to_crs(4326)
    facilities_ll = facilities.to_crs(4326)
    places_ll = None if places is None else places.to_crs(4326)
    cells = grid.groupby(grid["adcode"].astype(str)).indices
    empty = grid.iloc[0:0]
    found = {}
    for code, geom in zip(
        counties_ll["adcode"].astype(str), counties_ll.geometry, strict=True
    ):
        digest = common.copy()
        rows = cells.get(code)
        digest.update(_frame_digest(empty if rows is None else grid.iloc[rows]))
        digest.update(_frame_digest(_near(facilities_ll, geom.bounds, code)))
        if places_ll is not None:
            digest.update(_frame_digest(_near(places_ll, geom.bounds, code)))
        found[code] = digest.hexdigest()
    return found


# ---------------------------------------------------------------------------
# File names and the manifest
# ---------------------------------------------------------------------------


def _file_stems(counties: pd.DataFrame, key: str) -> dict[str, str]:
    """A safe, distinct file stem per adcode, from the column ``key``."""
    stems: dict[str, str] = {}
    taken: dict[str, str] = {}
    for code, value in zip(counties["adcode"].astype(str), counties[key], strict=True):
        fallback = safe_filename(code)
        text = "" if pd.isna(value) else str(value)
        stem = safe_filename(text, fallback=fallback)[:100]  # room for a suffix
        if stem.casefold() in taken and taken[stem.casefold()] != code:
            stem = f"{stem}-{fallback}"  # two names that clean to the same text
        taken[stem.casefold()] = code
        stems[code] = stem
    return stems


def _read_manifest(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        logger.warning("ignoring unreadable %s (%s); redrawing every map", path, exc)
        return {}
    counties = data.get("counties") if isinstance(data, dict) else None
    return counties if isinstance(counties, dict) else {}


def _write_manifest(path: Path, entries: Mapping[str, Any]) -> None:
    text = json.dumps(
        {"version": _DRAWING_VERSION, "counties": entries},
        ensure_ascii=False,
        indent=1,
        sort_keys=True,
    )
    write_text_atomic(path, text)


def _up_to_date(entry: Any, fingerprint: str, folder: Path, names: list[str]) -> bool:
    return (
        isinstance(entry, dict)
        and entry.get("fingerprint") == fingerprint
        and entry.get("files") == names
        and all((folder / n).is_file() and (folder / n).stat().st_size for n in names)
    )


def _check_style(style: Mapping[str, Any]) -> None:
    allowed = {
        name
        for name, p in inspect.signature(maps.county_map).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY and name not in ("places", "title")
    }
    unknown = sorted(set(style) - allowed)
    if unknown:
        raise TypeError(
            f"write_county_maps() got unknown style option(s) {unknown}; "
            f"the web-map options are {sorted(allowed)}"
        )


def _draw(
    code: str,
    counties: gpd.GeoDataFrame,
    grid: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    places: gpd.GeoDataFrame | None,
    paths: Mapping[str, Path],
    *,
    dpi: int,
    style: Mapping[str, Any],
) -> None:
    """Draw one county's web map and printable map(s) to ``paths``."""
    web = maps.county_map(code, counties, grid, facilities, places=places, **style)
    maps.save_map(web, paths["html"])
    static_maps.static_county_map(
        code,
        counties,
        grid,
        facilities,
        paths["png"],
        places=places,
        dpi=dpi,
        pdf="pdf" in paths,
    )


# ---------------------------------------------------------------------------
# Public function
# ---------------------------------------------------------------------------


def write_county_maps(
    counties: gpd.GeoDataFrame,
    grid: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    out_dir: str | Path,
    *,
    places: gpd.GeoDataFrame | None = None,
    dpi: int = 150,
    pdf: bool = False,
    force: bool = False,
    progress: bool = True,
    key: str = "adcode",
    **style: Any,
) -> dict[str, Any]:
    """Write every county's web map and printable map, skipping current ones.

    Parameters
    ----------
    counties : GeoDataFrame
        County results (``adcode``, ``name``, ``name_en``, ``risk_class``…).
    grid : GeoDataFrame
        Grid results in a projected CRS.
    facilities : GeoDataFrame
        Facility points with ``kind`` and ``adcode``.
    out_dir : str or Path
        The map folder (created if needed), e.g. ``<run>/maps``.
    places : GeoDataFrame, optional
        County seats and townships to label.
    dpi : int
        Resolution of the PNG maps (300 for print).
    pdf : bool
        Also write each printable map as PDF.
    force : bool
        Redraw every county even if its maps are up to date.
    progress : bool
        Show a progress bar.
    key : str
        Column of ``counties`` that names the files (made safe; a name that
        two counties clean to gets the adcode appended).
    **style
        Options of :func:`riskmap.maps.county_map` (``tiles``,
        ``attribution``, ``shelter_reach_min``, ``relief_h``, ``air_min``,
        ``tolerance_m``).

    Returns
    -------
    dict
        ``drawn`` and ``skipped`` (counts), ``maps`` (``{adcode: {"html":
        Path, "png": Path[, "pdf": Path]}}``, the shape
        :func:`riskmap.report.write_report` takes), ``files`` (every file of
        the batch) and ``manifest`` (its path).

    Raises
    ------
    FieldError
        If ``counties`` lacks ``adcode`` or the ``key`` column.
    TypeError
        For a style option that :func:`riskmap.maps.county_map` does not take.

    Examples
    --------
    >>> import tempfile
    >>> from riskmap.maps import _example_layers
    >>> layers, folder = _example_layers(), tempfile.mkdtemp()
    >>> first = write_county_maps(*layers, folder, progress=False)
    >>> first["drawn"], first["skipped"], first["maps"]["451002"]["png"].name
    (3, 0, '451002.png')
    >>> again = write_county_maps(*layers, folder, progress=False)
    >>> again["drawn"], again["skipped"]
    (0, 3)
    """
    for column in {"adcode", key}:
        if column not in counties.columns:
            raise FieldError(
                f"no column {column!r} among {list(counties.columns)}",
                layer="counties",
                field=column,
            )
    _check_style(style)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    manifest_path = folder / MANIFEST_NAME
    options = {"dpi": dpi, "pdf": pdf, "key": key, "style": dict(style)}
    prints = _fingerprints(counties, grid, facilities, places, options)
    stems = _file_stems(counties, key)
    entries = _read_manifest(manifest_path)

    drawn = skipped = 0
    written: dict[str, dict[str, Path]] = {}
    codes = list(counties["adcode"].astype(str))
    bar = tqdm(
        codes, desc="county maps", unit="county", leave=False, disable=not progress
    )
    for code in bar:
        stem = stems[code]
        paths = {"html": within(folder, f"{stem}.html")}
        paths["png"] = within(folder, f"{stem}.png")
        if pdf:
            paths["pdf"] = paths["png"].with_suffix(".pdf")
        names = [p.name for p in paths.values()]
        written[code] = paths
        if not force and _up_to_date(entries.get(code), prints[code], folder, names):
            skipped += 1
            continue

        # Draw both maps, then record them, so a kill leaves the old record.
        _draw(code, counties, grid, facilities, places, paths, dpi=dpi, style=style)
        entries[code] = {"fingerprint": prints[code], "files": names}
        _write_manifest(manifest_path, entries)
        drawn += 1
    bar.close()
    logger.info("county maps: %d drawn, %d up to date", drawn, skipped)
    if not manifest_path.exists():
        _write_manifest(manifest_path, entries)
    files = [p for paths in written.values() for p in paths.values()]
    return {
        "drawn": drawn,
        "skipped": skipped,
        "maps": written,
        "files": files,
        "manifest": manifest_path,
    }
