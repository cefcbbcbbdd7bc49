"""Read rasters in real units, align them to a grid, and average over zones.

:func:`read_raster` applies the file's scale and offset and masks nodata,
including undeclared sentinels such as −9999, −99999 or 65535, so that
thresholds are always compared with real units. :func:`align_to` puts a
raster on another grid with a stated resampling method, and
:func:`zonal_mean` averages a raster over polygons weighting each pixel by
the share of it a zone covers, so zones smaller than a pixel still get a
value.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
from rasterio.crs import CRS as RioCRS
from rasterio.transform import Affine, array_bounds
from rasterio.warp import Resampling, reproject

from riskmap.errors import CRSError, FieldError, RasterError
from riskmap.layers import Finding, warn_data

__all__ = [
    "SENTINELS",
    "Raster",
    "align_to",
    "read_raster",
    "zonal_mean",
]

logger = logging.getLogger(__name__)

#: Values that mean "no data" in rasters from Chinese and global sources
#: even when the file does not declare them.
SENTINELS: tuple[float, ...] = (-9999.0, -99999.0, -32768.0, 65535.0, -3.4028235e38)

_SENTINEL_DTYPES = {
    -32768.0: ("int16",),
    65535.0: ("uint16",),
    -3.4028235e38: ("float32", "float64"),
}

ResamplingName = Literal["bilinear", "nearest", "average"]


@dataclass
class Raster:
    """One raster band in real units, with nodata masked.

    Attributes
    ----------
    data : numpy.ma.MaskedArray
        2-D float64 values after scale and offset; masked where nodata.
    crs : rasterio.crs.CRS
        Coordinate reference system of the grid.
    transform : affine.Affine
        Pixel-to-map transform.
    path : str or None
        File the raster was read from.
    findings : list of Finding
        What reading found and fixed.

    Examples
    --------
    >>> from rasterio.transform import from_origin
    >>> r = Raster(np.ma.masked_invalid([[1.0, np.nan]]),
    ...            RioCRS.from_epsg(4326), from_origin(106, 24, 0.1, 0.1))
    >>> r.profile["width"], int(r.data.count())
    (2, 1)
    """

    data: np.ma.MaskedArray
    crs: RioCRS
    transform: Affine
    path: str | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def profile(self) -> dict[str, Any]:
        """The grid as a rasterio-style profile (crs, transform, size)."""
        height, width = self.data.shape
        return {
            "crs": self.crs,
            "transform": self.transform,
            "width": width,
            "height": height,
        }

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` of the grid in its CRS."""
        height, width = self.data.shape
        west, south, east, north = array_bounds(height, width, self.transform)
        return (west, south, east, north)


def _note(
    findings: list[Finding],
    level: Literal["warning", "fixed"],
    path: str,
    msg: str,
    fix: str | None = None,
) -> None:
    findings.append(Finding(level, path, None, None, msg, fix))
    text = f"{path}: {msg}" + (f" Fix: {fix}" if fix else "")
    if level == "warning":
        warn_data(text)
    else:
        logger.info(text)


def _nodata_mask(
    raw: np.ndarray,
    declared: float | None,
    override: float | Sequence[float] | None,
    path: str,
    findings: list[Finding],
) -> np.ndarray:
    """Mask declared nodata, NaN, and sentinels the file forgot to declare."""
    mask = np.zeros(raw.shape, dtype=bool)
    if np.issubdtype(raw.dtype, np.floating):
        mask |= ~np.isfinite(raw)
    if override is not None:
        values = [override] if np.isscalar(override) else list(override)  # type: ignore[arg-type]
        for v in values:
            mask |= raw == v
        return mask
    if declared is not None and not np.isnan(declared):
        mask |= raw == declared
    for sentinel in SENTINELS:
        dtypes = _SENTINEL_DTYPES.get(sentinel)
        if dtypes is not None and raw.dtype.name not in dtypes:
            continue
        if declared is not None and sentinel == declared:
            continue
        hits = (raw < -1e38) if sentinel < -1e38 else (raw == sentinel)
        hits &= ~mask
        if hits.any():
            mask |= hits
            _note(
                findings,
                "warning",
                path,
                f"{int(hits.sum())} cells hold {sentinel:g}, a no-data sentinel "
                f"the file does not declare (declared: {declared}); masked",
                fix=f"declare nodata={sentinel:g} in the file, or pass nodata= "
                "with the right value",
            )
    return mask


def read_raster(
    path: str | Path,
    *,
    band: int = 1,
    nodata: float | Sequence[float] | None = None,
    crs: Any = None,
) -> Raster:
    """Read one band as float64 in real units with nodata masked.

    Parameters
    ----------
    path : str or Path
        Any raster GDAL reads.
    band : int
        Band number, from 1.
    nodata : float or sequence of float, optional
        No-data value(s) to use instead of the declared one; switches off
        sentinel detection. Without it, the declared value, NaN and the
        :data:`SENTINELS` present in the data are masked.
    crs : optional
        CRS to use when the file declares none.

    Returns
    -------
    Raster
        Values ``stored * scale + offset`` as a masked float64 array.

    Raises
    ------
    RasterError
        The file is missing or unreadable, or the band does not exist.
    CRSError
        The raster has no CRS and ``crs`` was not given.

    Warns
    -----
    UserWarning
        Undeclared sentinel values were masked, or every cell is nodata.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from rasterio.transform import from_origin
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "rain.tif"
    >>> with rasterio.open(p, "w", driver="GTiff", width=2, height=1, count=1,
    ...         dtype="int16", crs="EPSG:4326", nodata=-1,
    ...         transform=from_origin(106, 24, 0.1, 0.1)) as dst:
    ...     dst.write(np.array([[1234, -1]], dtype="int16"), 1)
    ...     dst.scales = (0.1,)
    >>> r = read_raster(p)
    >>> r.data.tolist()
    [[123.4, None]]
    """
    text = str(path)
    if not Path(path).exists():
        raise RasterError(
            "the file does not exist",
            path=text,
            fix="check the path in the configuration",
        )
    findings: list[Finding] = []
    try:
        with rasterio.open(path) as src:
            if not 1 <= band <= src.count:
                raise RasterError(
                    f"band {band} asked for but the raster has {src.count}",
                    path=text,
                    fix=f"pass band= between 1 and {src.count}",
                )
            raw = src.read(band)
            declared = src.nodatavals[band - 1]
            scale = src.scales[band - 1] if src.scales else 1.0
            offset = src.offsets[band - 1] if src.offsets else 0.0
            file_crs, transform = src.crs, src.transform
    except rasterio.errors.RasterioIOError as exc:
        raise RasterError(
            f"cannot be read as a raster ({exc})",
            path=text,
            fix="check the file opens in QGIS",
        ) from exc

    # the grid's CRS: declared, or given by the user
    if file_crs is None:
        if crs is None:
            raise CRSError(
                "the raster has no CRS",
                path=text,
                fix="pass crs='EPSG:...' or assign one with gdal_edit.py -a_srs",
            )
        file_crs = RioCRS.from_user_input(crs)

    # nodata first (on stored values), then scale and offset
    mask = _nodata_mask(raw, declared, nodata, text, findings)
    values = raw.astype("float64")
    if scale not in (None, 1.0) or offset not in (None, 0.0):
        values = values * (scale or 1.0) + (offset or 0.0)
        _note(
            findings,
            "fixed",
            text,
            f"stored values scaled by {scale:g} and offset by {offset:g} to real units",
        )
    data = np.ma.MaskedArray(values, mask=mask)
    if mask.all():
        _note(findings, "warning", text, "every cell is nodata")
    return Raster(data, file_crs, transform, text, findings)


def _as_profile(ref: Raster | Mapping[str, Any]) -> tuple[RioCRS, Affine, int, int]:
    if isinstance(ref, Raster):
        prof: Mapping[str, Any] = ref.profile
    else:
        prof = ref
    try:
        return (
            RioCRS.from_user_input(prof["crs"]),
            prof["transform"],
            int(prof["height"]),
            int(prof["width"]),
        )
    except KeyError as exc:
        raise RasterError(
            f"the reference grid lacks '{exc.args[0]}'",
            fix="pass a rasterio profile or a Raster (crs, transform, width, height)",
        ) from exc


def align_to(
    src: Raster,
    ref_profile: Raster | Mapping[str, Any],
    resampling: ResamplingName = "bilinear",
) -> Raster:
    """Resample ``src`` onto the grid of ``ref_profile``.

    Parameters
    ----------
    src : Raster
        Raster to move, in any CRS and grid.
    ref_profile : Raster or mapping
        The target grid: a :class:`Raster` or a mapping with ``crs``,
        ``transform``, ``width`` and ``height`` (a rasterio profile).
    resampling : {"bilinear", "nearest", "average"}
        ``bilinear`` for continuous values (rainfall, elevation),
        ``nearest`` for classes (land cover), ``average`` when going to
        coarser cells. The method is logged.

    Returns
    -------
    Raster
        On the target grid; cells without source data are masked.

    Examples
    --------
    >>> from rasterio.transform import from_origin
    >>> src = Raster(np.ma.masked_invalid(np.arange(4.0).reshape(2, 2)),
    ...              RioCRS.from_epsg(4326), from_origin(106, 24, 0.1, 0.1))
    >>> ref = {"crs": "EPSG:4326", "transform": from_origin(106, 24, 0.05, 0.05),
    ...        "width": 4, "height": 4}
    >>> align_to(src, ref, "nearest").data[0].tolist()
    [0.0, 0.0, 1.0, 1.0]
    """
    if resampling not in ("bilinear", "nearest", "average"):
        raise RasterError(
            f"resampling '{resampling}' is not offered",
            path=src.path,
            fix="use 'bilinear', 'nearest' or 'average'",
        )
    crs, transform, height, width = _as_profile(ref_profile)
    if (
        src.crs == crs
        and src.transform == transform
        and src.data.shape
        == (
            height,
            width,
        )
    ):
        return src

    # reproject with NaN as nodata on both sides
    dest = np.full((height, width), np.nan, dtype="float64")
    reproject(
        source=src.data.filled(np.nan),
        destination=dest,
        src_transform=src.transform,
        src_crs=src.crs,
        dst_transform=transform,
        dst_crs=crs,
        src_nodata=np.nan,
        dst_nodata=np.nan,
        resampling=Resampling[resampling],
    )
    message = (
        f"resampled from {src.crs.to_string()} {src.data.shape} to "
        f"{crs.to_string()} {(height, width)} with {resampling} resampling"
    )
    logger.info("%s: %s", src.path or "raster", message)
    findings = [
        *src.findings,
        Finding("fixed", src.path or "", None, None, message),
    ]
    return Raster(np.ma.masked_invalid(dest), crs, transform, src.path, findings)


def zonal_mean(
    raster_path: str | Path | Raster,
    zones_gdf: gpd.GeoDataFrame,
    *,
    id_field: str | None = None,
    band: int = 1,
    nodata: float | Sequence[float] | None = None,
) -> pd.Series:
    """Mean raster value per zone, weighting pixels by the share covered.

    Uses exactextract's exact coverage fractions: a zone inside one pixel
    gets that pixel's value, a zone on a pixel corner the mean of the four,
    and a zone half outside the raster the mean of the part inside.
    Nodata pixels are left out. Scale, offset and nodata are applied as in
    :func:`read_raster`.

    Parameters
    ----------
    raster_path : str, Path or Raster
        The raster, or one already read.
    zones_gdf : GeoDataFrame
        Polygons in any CRS (reprojected to the raster's).
    id_field : str, optional
        Column to index the result by; the zones' index otherwise.
    band, nodata
        As in :func:`read_raster`.

    Returns
    -------
    pandas.Series
        One value per zone, NaN where a zone covers no valid pixel (logged).

    Examples
    --------
    >>> from rasterio.transform import from_origin
    >>> from shapely import box
    >>> r = Raster(np.ma.masked_invalid([[1.0, 3.0]]),
    ...            RioCRS.from_epsg(32648), from_origin(0, 10, 10, 10))
    >>> z = gpd.GeoDataFrame({"id": ["a"]}, geometry=[box(5, 2, 15, 4)],
    ...                      crs=32648)
    >>> zonal_mean(r, z, id_field="id").tolist()
    [2.0]
    """
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource

    raster = (
        raster_path
        if isinstance(raster_path, Raster)
        else read_raster(raster_path, band=band, nodata=nodata)
    )
    if id_field is not None and id_field not in zones_gdf.columns:
        raise FieldError(
            f"the zones have no column '{id_field}'",
            field=id_field,
            fix=f"pass one of: {', '.join(map(str, zones_gdf.columns))}",
        )
    if zones_gdf.crs is None:
        raise CRSError(
            "the zones have no CRS", fix="load them with read_vector or set_crs"
        )
    t = raster.transform
    if t.b != 0 or t.d != 0 or t.e >= 0:
        raise RasterError(
            "the raster is rotated or not north-up",
            path=raster.path,
            fix="warp it to a north-up grid first (align_to)",
        )

    # exactextract on the masked values, zones in the raster's CRS
    xmin, ymin, xmax, ymax = raster.bounds
    source = NumPyRasterSource(
        raster.data,
        xmin,
        ymin,
        xmax,
        ymax,
        srs_wkt=raster.crs.to_wkt(),
    )
    zones = zones_gdf.to_crs(raster.crs.to_wkt())
    zones = gpd.GeoDataFrame(
        {"_zone": np.arange(len(zones))},
        geometry=zones.geometry.to_numpy(),
        crs=zones.crs,
    )
    table = exact_extract(
        source, zones, "mean", include_cols=["_zone"], output="pandas"
    )
    means = pd.Series(np.nan, index=np.arange(len(zones)), dtype=float)
    means.loc[table["_zone"].to_numpy()] = table["mean"].to_numpy(dtype=float)
    index = zones_gdf[id_field] if id_field is not None else zones_gdf.index
    result = pd.Series(means.to_numpy(), index=pd.Index(index), name="mean")
    empty = int(result.isna().sum())
    if empty:
        logger.warning(
            "%s: %d of %d zones cover no valid pixel (NaN)",
            raster.path or "raster",
            empty,
            len(result),
        )
    return result
