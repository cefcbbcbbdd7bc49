"""Atomic output writing and safe output names."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from riskmap.errors import RiskmapError

__all__ = [
    "atomic_path",
    "remove_stale_temps",
    "safe_filename",
    "write_text_atomic",
    "write_vector_atomic",
]


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it on success.

    The temporary file sits in the same folder, so the final rename is
    atomic on POSIX. If the block raises, or the process dies, ``target``
    keeps its previous content and the temporary file is removed (or, after
    a hard kill, left with a ``.tmp-`` prefix that later runs ignore).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "a.txt") as tmp:
    ...     _ = tmp.write_text("done")
    >>> (d / "a.txt").read_text()
    'done'
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(
        prefix=f".tmp-{target.stem}-", suffix=target.suffix, dir=target.parent
    )
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def remove_stale_temps(folder: str | Path) -> int:
    """Delete temporary files that a killed run left in ``folder``.

    Only files named by :func:`atomic_path` (``.tmp-`` prefix, plus the
    ``-journal``/``-wal`` companions SQLite may add) are touched, in the
    folder and below. Returns the number removed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / ".tmp-results-x1.gpkg").write_text("half")
    >>> _ = (d / "results.gpkg").write_text("whole")
    >>> remove_stale_temps(d), sorted(p.name for p in d.iterdir())
    (1, ['results.gpkg'])
    """
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    removed = 0
    for path in folder.rglob(".tmp-*"):
        if path.is_file():
            path.unlink()
            removed += 1
    return removed


def write_text_atomic(target: str | Path, text: str) -> Path:
    """Write ``text`` as UTF-8 to ``target`` atomically and return the path."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target)


def write_vector_atomic(
    gdf: Any, target: str | Path, *, layer: str | None = None, **kwargs: Any
) -> Path:
    """Write a GeoDataFrame to ``target`` atomically with pyogrio.

    The layer is named after ``target`` (not after the temporary file,
    whose name GeoPackage would refuse) unless ``layer`` is given.

    Examples
    --------
    >>> import tempfile, pathlib, geopandas as gpd
    >>> from shapely import Point
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> g = gpd.GeoDataFrame({"id": ["007"]}, geometry=[Point(1, 2)], crs=4326)
    >>> write_vector_atomic(g, d / "sites.gpkg").name
    'sites.gpkg'
    >>> gpd.read_file(d / "sites.gpkg", layer="sites")["id"].tolist()
    ['007']
    """
    target = Path(target)
    with atomic_path(target) as tmp:
        gdf.to_file(tmp, layer=layer or target.stem, engine="pyogrio", **kwargs)
    return target


_UNSAFE = re.compile(r"[^\w\-.]+", re.UNICODE)


def safe_filename(name: str, *, fallback: str = "unnamed") -> str:
    """Turn any text (a county name, an ID) into a safe file name.

    Path separators, ``..``, control characters and characters that Windows
    forbids are replaced, so the result never leaves the folder it is
    joined to. Chinese characters are kept.

    Examples
    --------
    >>> safe_filename("../../outside")
    'outside'
    >>> safe_filename("那坡县:旧?*")
    '那坡县_旧'
    >>> safe_filename("田阳县/田阳区")
    '田阳县_田阳区'
    """
    text = unicodedata.normalize("NFC", str(name))
    text = _UNSAFE.sub("_", text)
    text = re.sub(r"\.{2,}", ".", text).strip("._ ")
    if not text:
        text = fallback
    return text[:120]


def within(folder: str | Path, name: str) -> Path:
    """Join a data-derived ``name`` to ``folder`` and refuse to escape it."""
    base = Path(folder).resolve()
    path = (base / safe_filename(name)).resolve()
    if base not in path.parents:
        raise RiskmapError(f"output name {name!r} would leave the folder {base}")
    return path
