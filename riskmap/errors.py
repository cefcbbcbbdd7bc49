"""Exceptions raised by riskmap.

Every error names what is wrong, where (file, layer, field) and how to fix
it. Callers can catch :class:`RiskmapError` for any of them, or a narrower
class.
"""

from __future__ import annotations

from pathlib import Path


class RiskmapError(Exception):
    """Base class of every error riskmap raises on purpose."""


class ConfigError(RiskmapError, ValueError):
    """The configuration file is missing, malformed or inconsistent."""


class LayerError(RiskmapError, ValueError):
    """An input layer cannot be used as given.

    Parameters
    ----------
    problem : str
        What is wrong, as a full sentence.
    path : str or Path, optional
        The file that holds the layer.
    layer : str, optional
        The layer's name (inside the file, or in the configuration).
    field : str, optional
        The attribute column concerned.
    fix : str, optional
        What the user should do about it.

    Examples
    --------
    >>> err = LayerError("no CRS is declared", path="roads.shp",
    ...                  fix="pass crs='EPSG:4326' for this layer")
    >>> str(err)
    "roads.shp: no CRS is declared. Fix: pass crs='EPSG:4326' for this layer."
    """

    def __init__(
        self,
        problem: str,
        *,
        path: str | Path | None = None,
        layer: str | None = None,
        field: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.problem = problem
        self.path = None if path is None else str(path)
        self.layer = layer
        self.field = field
        self.fix = fix
        super().__init__(self._message())

    def _message(self) -> str:
        where = []
        if self.path:
            where.append(self.path)
        if self.layer:
            where.append(f"layer '{self.layer}'")
        if self.field:
            where.append(f"field '{self.field}'")
        text = ", ".join(where)
        text = f"{text}: {self.problem}" if text else self.problem
        text = text.rstrip(".") + "."
        if self.fix:
            text += f" Fix: {self.fix.rstrip('.')}."
        return text


class CRSError(LayerError):
    """A layer has no CRS, an unknown CRS, or one unfit for the operation."""


class DatumError(LayerError):
    """A layer's Chinese web-map datum (GCJ-02, BD-09) is wrong or unknown."""


class GeometryError(LayerError):
    """Geometries are missing, empty or cannot be repaired."""


class FieldError(LayerError):
    """A required field is missing, or its values are unusable."""


class RasterError(LayerError):
    """A raster cannot be read, aligned or interpreted."""


class NetworkError(RiskmapError, ValueError):
    """A road network cannot be built or searched as asked."""
