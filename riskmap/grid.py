"""The analysis grid: square cells in a projected CRS, clipped to counties.

A :class:`Grid` is held as a raster (a transform, a shape and a county
code per cell) so that terrain work (slope, relief, distances) is plain
array maths, and turned into a GeoDataFrame of cell polygons for output.
A cell belongs to the county that contains its centre; cells whose centre
lies outside every county are not part of the grid.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> units = gpd.GeoDataFrame(
...     {"adcode": ["A", "B"]},
...     geometry=[box(0, 0, 3000, 2000), box(3000, 0, 5000, 2000)],
...     crs="EPSG:32648",
... )
>>> g = build_grid(units, "adcode", cell_size_m=1000, crs="EPSG:32648")
>>> g.shape, int(g.mask.sum())
((2, 5), 10)
>>> g.cells()["adcode"].value_counts().to_dict()
{'A': 6, 'B': 4}
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import rasterio
import rasterio.features
import rasterio.warp
import shapely
from affine import Affine
from pyproj import CRS
from rasterio.enums import Resampling

from riskmap.errors import LayerError, RasterError

__all__ = ["Grid", "build_grid", "choose_analysis_crs"]

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]


def choose_analysis_crs(gdf: gpd.GeoDataFrame, requested: str = "auto") -> CRS:
    """Return a projected CRS in metres for measurements over ``gdf``.

    ``"auto"`` picks the UTM zone of the layer's centre; any other value is
    parsed by pyproj and must be projected.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> pts = gpd.GeoDataFrame(geometry=[Point(106.6, 23.9)], crs=4326)
    >>> choose_analysis_crs(pts).to_epsg()
    32648
    """
    if requested != "auto":
        crs = CRS.from_user_input(requested)
        if not crs.is_projected:
            raise LayerError(
                f"analysis_crs {requested!r} is geographic; measurements need metres",
                fix="set run.analysis_crs to a projected CRS such as "
                "'EPSG:32648' or to 'auto'",
            )
        return crs
    estimated = gdf.estimate_utm_crs()
    if estimated is None:
        raise LayerError("cannot estimate a UTM zone for the counties")
    return CRS.from_user_input(estimated)


@dataclass
class Grid:
    """A raster of square cells, each tagged with the unit that holds it.

    Attributes
    ----------
    crs : pyproj.CRS
        The projected CRS of the cells.
    transform : affine.Affine
        Maps (col, row) to the CRS; north-up, square cells.
    shape : tuple of int
        (rows, cols).
    unit_index : ndarray of int
        Per cell, the index into ``units`` or -1 outside every unit.
    units : list of str
        Unit codes (e.g. county adcodes) in index order.
    """

    crs: CRS
    transform: Affine
    shape: tuple[int, int]
    unit_index: npt.NDArray[np.int32]
    units: list[str]

    @property
    def cell_size(self) -> float:
        """Cell edge length in CRS units (metres)."""
        return float(self.transform.a)

    @property
    def mask(self) -> npt.NDArray[np.bool_]:
        """True for cells that belong to a unit."""
        return self.unit_index >= 0

    @property
    def n_cells(self) -> int:
        """Number of cells inside the units."""
        return int(self.mask.sum())

    def rows_cols(self) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
        """Row and column of every grid cell, in cell order."""
        rows, cols = np.nonzero(self.mask)
        return rows, cols

    def centres(self) -> tuple[FloatArray, FloatArray]:
        """Projected x and y of every cell centre, in cell order."""
        rows, cols = self.rows_cols()
        xs, ys = rasterio.transform.xy(self.transform, rows, cols, offset="center")
        return np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)

    def centres_lonlat(self) -> tuple[FloatArray, FloatArray]:
        """Longitude and latitude (WGS-84) of every cell centre."""
        x, y = self.centres()
        pts = gpd.GeoSeries(gpd.points_from_xy(x, y), crs=self.crs).to_crs(4326)
        return np.asarray(pts.x), np.asarray(pts.y)

    def cell_ids(self) -> list[str]:
        """Stable text IDs of the cells: ``r<row>c<col>``."""
        rows, cols = self.rows_cols()
        return [f"r{r}c{c}" for r, c in zip(rows, cols, strict=True)]

    def values(self, array: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
        """Pick the values of a full-grid array for the cells, in cell order."""
        if array.shape != self.shape:
            raise ValueError(f"array shape {array.shape} is not grid {self.shape}")
        return array[self.mask]

    def to_array(
        self, values: npt.ArrayLike, fill: float = np.nan
    ) -> npt.NDArray[np.float64]:
        """Place per-cell values back into a full-grid float array."""
        out = np.full(self.shape, fill, dtype=float)
        out[self.mask] = np.asarray(values, dtype=float)
        return out

    def cells(self) -> gpd.GeoDataFrame:
        """The cells as square polygons with ``cell_id`` and unit code."""
        rows, cols = self.rows_cols()
        x0 = self.transform.c + cols * self.transform.a
        y0 = self.transform.f + rows * self.transform.e
        size = self.cell_size
        polys = shapely.box(x0, y0 - size, x0 + size, y0)
        codes = np.asarray(self.units, dtype=object)[self.unit_index[rows, cols]]
        return gpd.GeoDataFrame(
            {"cell_id": self.cell_ids(), "adcode": codes, "row": rows, "col": cols},
            geometry=polys,
            crs=self.crs,
        )

    def sample_raster(
        self,
        path: str | Path,
        *,
        resampling: Resampling = Resampling.bilinear,
        band: int = 1,
    ) -> FloatArray:
        """Resample a raster file onto the grid (full-grid float array).

        Scale and offset stored in the file are applied, nodata becomes NaN,
        and the raster is warped from its own CRS with ``resampling``
        (bilinear for continuous values, ``Resampling.mode`` for classes).
        """
        path = Path(path)
        try:
            src = rasterio.open(path)
        except rasterio.errors.RasterioIOError as exc:
            raise RasterError(
                f"cannot open the raster: {exc}",
                path=path,
                fix="check the path in the configuration's [layers] section",
            ) from exc
        with src:
            if src.crs is None:
                raise RasterError(
                    "the raster has no CRS",
                    path=path,
                    fix="assign one, e.g. 'gdal_edit.py -a_srs EPSG:4326 FILE'",
                )
            data = src.read(band, masked=True).astype(float)
            scale = src.scales[band - 1] if src.scales else 1.0
            offset = src.offsets[band - 1] if src.offsets else 0.0
            filled = np.where(np.ma.getmaskarray(data), np.nan, data.filled(np.nan))
            filled = filled * scale + offset
            out = np.full(self.shape, np.nan, dtype=float)
            rasterio.warp.reproject(
                source=filled,
                destination=out,
                src_transform=src.transform,
                src_crs=src.crs,
                src_nodata=np.nan,
                dst_transform=self.transform,
                dst_crs=self.crs,
                dst_nodata=np.nan,
                resampling=resampling,
            )
        return out

    def rasterize(
        self, geoms: gpd.GeoSeries, *, all_touched: bool = True
    ) -> npt.NDArray[np.bool_]:
        """Burn geometries into a full-grid boolean array."""
        geoms = geoms.to_crs(self.crs)
        shapes = [g for g in geoms if g is not None and not g.is_empty]
        if not shapes:
            return np.zeros(self.shape, dtype=bool)
        burned = rasterio.features.rasterize(
            shapes,
            out_shape=self.shape,
            transform=self.transform,
            fill=0,
            default_value=1,
            all_touched=all_touched,
            dtype="uint8",
        )
        return burned.astype(bool)


def build_grid(
    units: gpd.GeoDataFrame,
    id_field: str,
    *,
    cell_size_m: float = 1000.0,
    crs: CRS | str | None = None,
) -> Grid:
    """Cover ``units`` with square cells of ``cell_size_m`` metres.

    Parameters
    ----------
    units : GeoDataFrame
        Polygons (counties or townships) in any CRS.
    id_field : str
        Column with each unit's code; kept as text.
    cell_size_m : float
        Edge length of a cell in metres.
    crs : CRS or str, optional
        Projected CRS of the grid; by default the units' UTM zone.

    Returns
    -------
    Grid
    """
    if units.crs is None:
        raise LayerError(
            "the units layer has no CRS", fix="declare its CRS in the configuration"
        )
    if id_field not in units.columns:
        raise LayerError(
            f"no field '{id_field}' among {list(units.columns)}",
            field=id_field,
            fix="set id_field of the layer in the configuration",
        )
    target = choose_analysis_crs(units) if crs is None else CRS.from_user_input(crs)
    if not target.is_projected:
        raise LayerError(f"grid CRS {target.to_string()} is not projected")
    projected = units.to_crs(target)

    # Snap the bounds outward to whole cells so cell edges fall on multiples.
    size = float(cell_size_m)
    minx, miny, maxx, maxy = projected.total_bounds
    x0 = math.floor(minx / size) * size
    y1 = math.ceil(maxy / size) * size
    cols = math.ceil((maxx - x0) / size)
    rows = math.ceil((y1 - miny) / size)
    transform = Affine(size, 0.0, x0, 0.0, -size, y1)

    # Tag each cell with the unit containing its centre (pixel-centre rule).
    codes = [str(c) for c in projected[id_field]]
    shapes = [
        (geom, i)
        for i, geom in enumerate(projected.geometry)
        if geom is not None and not geom.is_empty
    ]
    index = rasterio.features.rasterize(
        shapes,
        out_shape=(rows, cols),
        transform=transform,
        fill=-1,
        dtype="int32",
    )
    grid = Grid(target, transform, (rows, cols), index.astype(np.int32), codes)
    log.info(
        "grid: %d x %d cells of %.0f m, %d inside %d units (%s)",
        rows,
        cols,
        size,
        grid.n_cells,
        len(codes),
        target.to_string(),
    )
    return grid
