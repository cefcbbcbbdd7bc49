"""Routable road networks held as sparse matrices of travel time.

A :class:`RoadNetwork` is built from a line layer (any CRS; every length is
measured in a projected metric CRS), from edge arrays, or from an
OpenStreetMap extract. Nodes are the line end points, merged when they lie
within a snapping tolerance. Each line becomes one edge with a length in
metres and a travel time in minutes per direction, from a speed table by
road class (or a speed field), an optional slope factor from a DEM, and the
``oneway`` tag. The directed graph is stored as a SciPy CSR matrix whose
entry ``[i, j]`` is the shortest travel time of the arcs from node ``i`` to
node ``j``; :mod:`riskmap.reachability` searches it with
:func:`scipy.sparse.csgraph.dijkstra`.

For large networks, :meth:`RoadNetwork.reordered` numbers the nodes along a
space-filling curve, which makes searches faster without changing results.

Points (grid cells, villages, facilities) join the network through
:meth:`RoadNetwork.snap`: each point is tied to the nearest place on an
edge (or to the nearest node) by a straight access leg walked or driven
off-road at ``access_speed_kmh``.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Transformer
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from riskmap.errors import LayerError, NetworkError

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "DEFAULT_ACCESS_SPEED_KMH",
    "DEFAULT_SPEEDS_KMH",
    "Components",
    "RoadNetwork",
    "read_osm_roads",
    "speed_for_class",
]

logger = logging.getLogger(__name__)

#: Travel speed (km/h) by road class: Chinese administrative classes, their
#: Chinese names, OpenStreetMap ``highway`` values and ``major`` (a road of
#: the default major-road graph whose class is unknown). ``other`` is used
#: for every class not in the table. ``*_link`` classes take the speed of
#: their road.
DEFAULT_SPEEDS_KMH: dict[str, float] = {
    "expressway": 100.0,
    "高速公路": 100.0,
    "motorway": 100.0,
    "national": 70.0,
    "国道": 70.0,
    "trunk": 70.0,
    "provincial": 60.0,
    "省道": 60.0,
    "primary": 60.0,
    "major": 60.0,
    "county": 45.0,
    "县道": 45.0,
    "secondary": 45.0,
    "township": 35.0,
    "乡道": 35.0,
    "tertiary": 35.0,
    "other": 25.0,
}

#: Default speed of the access leg between a point and the road (km/h): an
#: off-road walk with a load, which suits 1 km grid cells and villages.
DEFAULT_ACCESS_SPEED_KMH = 5.0

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Components:
    """Weakly connected components of a network.

    Attributes
    ----------
    count : int
        Number of components.
    sizes : numpy.ndarray
        Node count of each component, largest first.
    labels : numpy.ndarray
        Component of each node, numbered so that 0 is the largest.
    """

    count: int
    sizes: IntArray
    labels: IntArray


def speed_for_class(
    road_class: object, speeds: Mapping[str, float] | None = None
) -> float:
    """Return the speed (km/h) of one road class.

    Classes are matched case-insensitively; ``*_link`` takes the speed of
    its road, an OSMnx-style list such as ``"['primary', 'secondary']"``
    takes its first class, and anything unknown takes ``speeds["other"]``.

    Parameters
    ----------
    road_class : object
        The class, usually a string; missing values count as unknown.
    speeds : mapping of str to float, optional
        Speed table; :data:`DEFAULT_SPEEDS_KMH` when omitted.

    Returns
    -------
    float
        Speed in km/h.

    Examples
    --------
    >>> speed_for_class("Trunk_link")
    70.0
    >>> speed_for_class("['secondary', 'tertiary']")
    45.0
    >>> speed_for_class(None)
    25.0
    """
    table = {
        str(k).lower(): float(v) for k, v in (speeds or DEFAULT_SPEEDS_KMH).items()
    }
    other = table.get("other", DEFAULT_SPEEDS_KMH["other"])
    if road_class is None or (isinstance(road_class, float) and np.isnan(road_class)):
        return other
    key = str(road_class).strip().lower()
    if key.startswith("["):
        key = key.strip("[]").split(",")[0].strip().strip("'\"")
    key = key.removesuffix("_link")
    return table.get(key, other)


def _oneway_sign(value: object) -> int:
    """Map an OSM ``oneway`` value to +1 (forward), -1 (reversed) or 0."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return 0
    if isinstance(value, bool | np.bool_):
        return 1 if value else 0
    key = str(value).strip().lower()
    if key in {"yes", "true", "1", "t", "y"}:
        return 1
    if key in {"-1", "reverse"}:
        return -1
    return 0


class RoadNetwork:
    """A directed road graph with travel times, stored as a CSR matrix.

    Build one with :meth:`from_lines`, :meth:`from_edges` or
    :meth:`from_osm` rather than calling the constructor.

    Parameters
    ----------
    node_xy : numpy.ndarray
        ``(n, 2)`` node coordinates in ``crs``.
    edges : geopandas.GeoDataFrame
        One row per road piece with columns ``u``, ``v`` (node numbers),
        ``length_m``, ``time_fw_min`` (u to v), ``time_bw_min`` (v to u;
        ``inf`` where that direction is closed), ``speed_kmh``,
        ``road_class`` and a LineString geometry in ``crs`` oriented from
        ``u`` to ``v``.
    crs : pyproj.CRS or str
        A projected CRS in metres.

    Attributes
    ----------
    matrix : scipy.sparse.csr_matrix
        ``[i, j]`` is the travel time in minutes of the fastest arc from
        node ``i`` to node ``j``.
    input_node : numpy.ndarray
        Number each node had when the network was built (differs from the
        position only after :meth:`reordered`).
    """

    def __init__(self, node_xy: FloatArray, edges: gpd.GeoDataFrame, crs: Any) -> None:
        self.crs = CRS.from_user_input(crs)
        if not self.crs.is_projected:
            raise NetworkError(
                f"the network CRS {self.crs.to_string()} is not projected; "
                "lengths need metres. Fix: pass a projected CRS such as "
                "'EPSG:32648' (UTM 48N) for Baise."
            )
        self.node_xy = np.asarray(node_xy, dtype=float).reshape(-1, 2)
        self.edges = edges.reset_index(drop=True)
        self.matrix = self._build_matrix()
        self._tree: cKDTree | None = None
        self._reversed: sparse.csr_matrix | None = None
        self.input_node: IntArray = np.arange(len(self.node_xy), dtype=np.int64)
        self._edge_tree: shapely.STRtree | None = None

    # -- construction -----------------------------------------------------

    @classmethod
    def from_lines(
        cls,
        lines: gpd.GeoDataFrame,
        *,
        crs: Any = "EPSG:32648",
        speeds: Mapping[str, float] | None = None,
        class_field: str | None = "highway",
        speed_field: str | None = None,
        oneway_field: str | None = "oneway",
        snap_tolerance_m: float = 1.0,
        join_tolerance_m: float = 0.0,
        dem: str | Path | None = None,
        slope_coef: float = 5.0,
        max_slope_factor: float = 2.0,
    ) -> RoadNetwork:
        """Build a network from a line layer.

        Each (part of a) line becomes one edge between its end points; end
        points closer than ``snap_tolerance_m`` become one node. Lines must
        therefore be split at junctions, as OSM-derived layers are.

        Parameters
        ----------
        lines : geopandas.GeoDataFrame
            LineString or MultiLineString layer with a CRS.
        crs : pyproj.CRS or str, default "EPSG:32648"
            Projected metric CRS for all measurements.
        speeds : mapping of str to float, optional
            Speed by road class (km/h); :data:`DEFAULT_SPEEDS_KMH` by default.
        class_field : str or None, default "highway"
            Column holding the road class; ignored when absent.
        speed_field : str, optional
            Column with a speed in km/h; where it is missing or not
            positive, the class speed is used.
        oneway_field : str or None, default "oneway"
            Column with OSM ``oneway`` values: ``yes``/``true``/``1`` allow
            travel along the line's drawing direction only, ``-1`` against
            it; anything else is two-way.
        snap_tolerance_m : float, default 1.0
            End points closer than this become one node.
        join_tolerance_m : float, default 0.0
            When positive, every dead end (a node of degree 1) within this
            distance of another node it is not yet linked to gets a straight
            two-way connector at the speed of its road.
        dem : str or Path, optional
            Elevation raster. When given, each edge's time is multiplied by
            ``min(1 + slope_coef * |z_v - z_u| / length_m, max_slope_factor)``
            with the elevations sampled at the two end nodes.
        slope_coef, max_slope_factor : float
            Parameters of the slope factor (5 and 2: a 5 % mean grade costs
            25 % more time, at most double).

        Returns
        -------
        RoadNetwork

        Raises
        ------
        LayerError
            If the layer has no CRS, no usable lines or a missing field.

        Examples
        --------
        >>> import geopandas as gpd
        >>> from shapely import LineString
        >>> roads = gpd.GeoDataFrame(
        ...     {"highway": ["primary", "tertiary"], "oneway": ["no", "yes"]},
        ...     geometry=[LineString([(0, 0), (6000, 0)]),
        ...               LineString([(6000, 0), (6000, 3500)])],
        ...     crs="EPSG:32648")
        >>> net = RoadNetwork.from_lines(roads)
        >>> net.n_nodes, net.n_edges
        (3, 2)
        >>> net.edges[["time_fw_min", "time_bw_min"]].round(1).values.tolist()
        [[6.0, 6.0], [6.0, inf]]
        """
        gdf = _clean_lines(lines)
        target = CRS.from_user_input(crs)
        if not target.is_projected:
            raise NetworkError(
                f"crs={target.to_string()} is not projected; lengths need "
                "metres. Fix: pass a projected CRS such as 'EPSG:32648'."
            )
        gdf = gdf.to_crs(target)
        geoms = gdf.geometry.values

        # Merge end points into nodes.
        start = shapely.get_coordinates(shapely.get_point(geoms, 0))
        end = shapely.get_coordinates(shapely.get_point(geoms, -1))
        node_xy, labels = _merge_points(np.vstack([start, end]), snap_tolerance_m)
        u, v = labels[: len(gdf)], labels[len(gdf) :]

        # Speeds, lengths and one-way flags per line.
        speed = _edge_speeds(gdf, speeds, class_field, speed_field)
        if class_field and class_field in gdf.columns:
            road_class = gdf[class_field].astype(str).to_numpy()
        else:
            road_class = np.full(len(gdf), "other", dtype=object)
        if oneway_field and oneway_field in gdf.columns:
            sign = np.array([_oneway_sign(x) for x in gdf[oneway_field]], dtype=int)
        else:
            sign = np.zeros(len(gdf), dtype=int)
        edges = _edge_frame(
            u, v, shapely.length(geoms), speed, sign, road_class, geoms, target
        )

        # Drop loops, join near-touching dead ends, apply the slope factor.
        loops = edges["u"].to_numpy() == edges["v"].to_numpy()
        if loops.any():
            logger.info("dropped %d loop edges (same start and end node)", loops.sum())
            edges = edges.loc[~loops].reset_index(drop=True)
        if join_tolerance_m > 0:
            edges = _join_dead_ends(node_xy, edges, join_tolerance_m)
        if dem is not None:
            edges = _apply_slope(
                node_xy, edges, target, dem, slope_coef, max_slope_factor
            )

        net = cls(node_xy, edges, target)
        net.components()
        logger.info("built road network: %d nodes, %d edges", net.n_nodes, net.n_edges)
        return net

    @classmethod
    def from_edges(
        cls,
        node_xy: FloatArray,
        u: IntArray,
        v: IntArray,
        length_m: FloatArray,
        *,
        crs: Any,
        speed_kmh: FloatArray | float = DEFAULT_SPEEDS_KMH["major"],
        oneway: IntArray | None = None,
        road_class: str = "major",
        geometry: Any = None,
    ) -> RoadNetwork:
        """Build a network from node coordinates and edge arrays.

        Parameters
        ----------
        node_xy : numpy.ndarray
            ``(n, 2)`` node coordinates in ``crs``.
        u, v : numpy.ndarray
            Node numbers of each edge's ends.
        length_m : numpy.ndarray
            Edge lengths in metres.
        crs : pyproj.CRS or str
            Projected CRS of ``node_xy``.
        speed_kmh : float or numpy.ndarray, default 60
            Speed per edge.
        oneway : numpy.ndarray, optional
            +1 (u to v only), -1 (v to u only) or 0 (two-way) per edge.
        road_class : str, default "major"
            Class recorded for every edge.
        geometry : array of LineString, optional
            Edge shapes; straight segments between the nodes by default.

        Returns
        -------
        RoadNetwork

        Examples
        --------
        >>> import numpy as np
        >>> net = RoadNetwork.from_edges(
        ...     np.array([[0.0, 0.0], [1000.0, 0.0]]), np.array([0]),
        ...     np.array([1]), np.array([1000.0]), crs="EPSG:32648")
        >>> float(net.matrix[0, 1])
        1.0
        """
        xy = np.asarray(node_xy, dtype=float)
        u = np.asarray(u, dtype=np.int64)
        v = np.asarray(v, dtype=np.int64)
        if len(u) and (min(u.min(), v.min()) < 0 or max(u.max(), v.max()) >= len(xy)):
            raise NetworkError(
                "edge end numbers must index node_xy (0 to n-1). Fix: number "
                "the nodes consecutively from 0."
            )
        if geometry is None:
            geometry = shapely.linestrings(
                np.stack([xy[u], xy[v]], axis=1).reshape(-1, 2),
                indices=np.repeat(np.arange(len(u)), 2),
            )
        speed = np.broadcast_to(np.asarray(speed_kmh, dtype=float), u.shape)
        sign = np.zeros(len(u), dtype=int) if oneway is None else np.asarray(oneway)
        road = np.full(len(u), road_class, dtype=object)
        length = np.asarray(length_m, float)
        edges = _edge_frame(u, v, length, speed, sign, road, geometry, crs)
        return cls(xy, edges, crs)

    @classmethod
    def from_osm(
        cls, path: str | Path, *, crs: Any = "EPSG:32648", **kwargs: Any
    ) -> RoadNetwork:
        """Build a network from an OpenStreetMap extract, offline.

        Reads ``highway`` ways from a ``.osm.pbf`` or ``.osm`` file with
        pyosmium, splits them at nodes shared by several ways and passes
        them to :meth:`from_lines` (``oneway`` is honoured).

        Parameters
        ----------
        path : str or Path
            The extract.
        crs : pyproj.CRS or str, default "EPSG:32648"
            Projected CRS for the network.
        **kwargs
            Passed on to :meth:`from_lines`.

        Returns
        -------
        RoadNetwork

        Raises
        ------
        NetworkError
            If pyosmium is not installed or the file holds no roads.
        """
        lines = _read_osm_roads(Path(path))
        return cls.from_lines(lines, crs=crs, **kwargs)

    # -- description ------------------------------------------------------

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_xy)

    @property
    def n_edges(self) -> int:
        """Number of edges (road pieces, either direction)."""
        return len(self.edges)

    def __repr__(self) -> str:
        return (
            f"RoadNetwork({self.n_nodes} nodes, {self.n_edges} edges, "
            f"crs={self.crs.to_string()})"
        )

    @property
    def nodes(self) -> gpd.GeoDataFrame:
        """The nodes as points, indexed by node number."""
        return gpd.GeoDataFrame(
            geometry=shapely.points(self.node_xy), crs=self.crs
        ).rename_axis("node")

    @property
    def matrix_reversed(self) -> sparse.csr_matrix:
        """:attr:`matrix` with every arc turned round (built once, cached)."""
        if self._reversed is None:
            self._reversed = self.matrix.T.tocsr()
        return self._reversed

    def components(self) -> Components:
        """Report the weakly connected components.

        More than one component is logged as a warning, because origins in
        a small component can reach only the facilities inside it.

        Returns
        -------
        Components
            Count, sizes (largest first) and the component of each node.

        Examples
        --------
        >>> import numpy as np
        >>> xy = np.array([[0, 0], [1, 0], [5, 5], [6, 5], [7, 5]], float)
        >>> net = RoadNetwork.from_edges(xy, np.array([0, 2, 3]),
        ...     np.array([1, 3, 4]), np.ones(3), crs="EPSG:32648")
        >>> c = net.components()
        >>> c.count, c.sizes.tolist(), c.labels.tolist()
        (2, [3, 2], [1, 1, 0, 0, 0])
        """
        count, raw = csgraph.connected_components(
            self.matrix, directed=True, connection="weak"
        )
        sizes = np.bincount(raw, minlength=count)
        order = np.argsort(-sizes, kind="stable")
        rank = np.empty(count, dtype=np.int64)
        rank[order] = np.arange(count)
        result = Components(int(count), sizes[order].astype(np.int64), rank[raw])
        if count > 1:
            logger.warning(
                "road network has %d disconnected components; the largest holds "
                "%d of %d nodes, the others %d nodes together. Points snapped to "
                "small components reach only facilities inside them.",
                count,
                result.sizes[0],
                self.n_nodes,
                self.n_nodes - result.sizes[0],
            )
        return result

    def reordered(self) -> RoadNetwork:
        """Return a copy with the nodes renumbered along a space-filling curve.

        Nodes close on the ground get close numbers (Z-order of their
        coordinates), so a graph search touches memory in order; on large
        networks this makes searches noticeably faster. Results are the same
        up to node numbering; :attr:`input_node` maps each new node to its
        former number.

        Returns
        -------
        RoadNetwork

        Examples
        --------
        >>> import numpy as np
        >>> xy = np.array([[5000, 5000], [0, 0], [5000, 0]], float)
        >>> net = RoadNetwork.from_edges(xy, np.array([0, 1]), np.array([2, 2]),
        ...     np.array([5000.0, 5000.0]), crs="EPSG:32648")
        >>> again = net.reordered()
        >>> again.input_node.tolist(), again.edges[["u", "v"]].values.tolist()
        ([1, 2, 0], [[2, 1], [0, 1]])
        """
        order = _z_order(self.node_xy)
        new_number = np.empty(self.n_nodes, dtype=np.int64)
        new_number[order] = np.arange(self.n_nodes)
        edges = self.edges.copy()
        edges["u"] = new_number[edges["u"].to_numpy()]
        edges["v"] = new_number[edges["v"].to_numpy()]
        net = RoadNetwork(self.node_xy[order], edges, self.crs)
        net.input_node = self.input_node[order]
        return net

    def to_networkx(self) -> nx.DiGraph:
        """Return the same directed graph as a :class:`networkx.DiGraph`.

        Edge attributes are ``time_min`` and ``length_m`` of the fastest arc
        between each pair of nodes, as in :attr:`matrix`; nodes carry ``x``
        and ``y``. Meant for checks and small graphs.

        Examples
        --------
        >>> import numpy as np
        >>> net = RoadNetwork.from_edges(np.array([[0, 0], [1000, 0]], float),
        ...     np.array([0]), np.array([1]), np.array([1000.0]),
        ...     crs="EPSG:32648", oneway=np.array([-1]))
        >>> list(net.to_networkx().edges(data="time_min"))
        [(1, 0, 1.0)]
        """
        import networkx as nx

        graph = nx.DiGraph()
        graph.add_nodes_from(
            (i, {"x": x, "y": y}) for i, (x, y) in enumerate(self.node_xy.tolist())
        )
        coo = self.matrix.tocoo()
        graph.add_edges_from(
            (int(i), int(j), {"time_min": float(t), "length_m": float(m)})
            for i, j, t, m in zip(
                coo.row, coo.col, coo.data, self._arc_length, strict=True
            )
        )
        return graph

    # -- snapping ---------------------------------------------------------

    def snap(
        self,
        points: gpd.GeoDataFrame | gpd.GeoSeries,
        *,
        max_snap_m: float = 2000.0,
        access_speed_kmh: float = DEFAULT_ACCESS_SPEED_KMH,
        to: Literal["edge", "node"] = "edge",
        label: str = "points",
        stacklevel: int = 2,
    ) -> pd.DataFrame:
        """Tie points to the network with a straight access leg.

        With ``to="edge"`` each point joins the nearest point of the nearest
        edge; the position along it is ``frac`` (0 at ``u``, 1 at ``v``).
        With ``to="node"`` it joins the nearest node (``u == v``, ``frac``
        0). The access leg costs ``snap_m / access_speed_kmh``. Points
        farther than ``max_snap_m`` from the network stay unconnected
        (``connected`` False) and a warning gives their count.

        Parameters
        ----------
        points : geopandas.GeoDataFrame or GeoSeries
            Points with a CRS (any); polygons use their representative point.
        max_snap_m : float, default 2000
            Longest access leg, metres.
        access_speed_kmh : float, default 5
            Speed on the access leg.
        to : {"edge", "node"}, default "edge"
            Snap to the nearest place on an edge, or to the nearest node.
        label : str, default "points"
            What the points are, for the warning (e.g. ``"shelters"``).
        stacklevel : int, default 2
            Passed to :func:`warnings.warn`, so the warning names the
            caller's line.

        Returns
        -------
        pandas.DataFrame
            Indexed like ``points``: ``edge`` (row of :attr:`edges`, -1 for
            node snapping or unconnected), ``u``, ``v``, ``frac``,
            ``snap_m``, ``access_min`` and ``connected``.

        Examples
        --------
        >>> import numpy as np, geopandas as gpd
        >>> from shapely import Point
        >>> net = RoadNetwork.from_edges(np.array([[0, 0], [1000, 0]], float),
        ...     np.array([0]), np.array([1]), np.array([1000.0]),
        ...     crs="EPSG:32648")
        >>> pts = gpd.GeoSeries([Point(250, 500)], crs="EPSG:32648")
        >>> s = net.snap(pts, max_snap_m=1000)
        >>> s[["u", "v", "frac", "snap_m", "access_min"]].values.tolist()
        [[0.0, 1.0, 0.25, 500.0, 6.0]]
        """
        if access_speed_kmh <= 0:
            raise NetworkError(
                f"access_speed_kmh must be positive, got {access_speed_kmh}. "
                "Fix: pass a walking or off-road speed such as 5."
            )
        xy = _points_xy(points, self.crs)
        n = len(xy)
        edge = np.full(n, -1, dtype=np.int64)
        u = np.full(n, -1, dtype=np.int64)
        v = np.full(n, -1, dtype=np.int64)
        frac = np.zeros(n)
        dist = np.full(n, np.inf)
        valid = np.isfinite(xy).all(axis=1)

        if to == "node":
            if self._tree is None:
                self._tree = cKDTree(self.node_xy)
            d, idx = self._tree.query(xy[valid], distance_upper_bound=max_snap_m)
            ok = np.isfinite(d)
            sel = np.flatnonzero(valid)[ok]
            u[sel] = v[sel] = idx[ok]
            dist[sel] = d[ok]
        elif to == "edge":
            # Closed edges (no direction open) take no points.
            open_edges = np.flatnonzero(
                np.isfinite(self.edges["time_fw_min"].to_numpy())
                | np.isfinite(self.edges["time_bw_min"].to_numpy())
            )
            if self._edge_tree is None:
                geoms = self.edges.geometry.values[open_edges]
                self._edge_tree = shapely.STRtree(geoms)
            pts = np.asarray(shapely.points(xy[valid]))
            pairs, d = self._edge_tree.query_nearest(
                pts, max_distance=max_snap_m, return_distance=True, all_matches=False
            )
            hit = open_edges[pairs[1]]
            sel = np.flatnonzero(valid)[pairs[0]]
            lines = self.edges.geometry.values[hit]
            edge[sel] = hit
            u[sel] = self.edges["u"].to_numpy()[hit]
            v[sel] = self.edges["v"].to_numpy()[hit]
            frac[sel] = shapely.line_locate_point(lines, pts[pairs[0]], normalized=True)
            dist[sel] = d
        else:
            raise NetworkError(f"to must be 'edge' or 'node', got {to!r}.")

        connected = u >= 0
        lost = int(n - connected.sum())
        if lost:
            warnings.warn(
                f"{lost} of {n} {label} lie farther than max_snap_m={max_snap_m:g} m "
                "from the road network and stay unconnected (time inf). Raise "
                "max_snap_m or complete the road layer to connect them.",
                UserWarning,
                stacklevel=stacklevel,
            )
        index = points.index if len(points) == n else pd.RangeIndex(n)
        return pd.DataFrame(
            {
                "edge": edge,
                "u": u,
                "v": v,
                "frac": frac,
                "snap_m": dist,
                "access_min": dist / (access_speed_kmh * 1000.0 / 60.0),
                "connected": connected,
            },
            index=index,
        )

    # -- internals --------------------------------------------------------

    def _build_matrix(self) -> sparse.csr_matrix:
        """Arcs of both directions, fastest per node pair, as CSR."""
        e = self.edges
        u = e["u"].to_numpy(np.int64)
        v = e["v"].to_numpy(np.int64)
        fw = e["time_fw_min"].to_numpy(float)
        bw = e["time_bw_min"].to_numpy(float)
        length = e["length_m"].to_numpy(float)
        row = np.concatenate([u, v])
        col = np.concatenate([v, u])
        time = np.concatenate([fw, bw])
        arc_len = np.concatenate([length, length])
        keep = np.isfinite(time) & (row != col)
        row, col, time, arc_len = row[keep], col[keep], time[keep], arc_len[keep]

        # Keep the fastest of parallel arcs.
        n = len(self.node_xy)
        order = np.lexsort((time, row * n + col))
        row, col, time, arc_len = row[order], col[order], time[order], arc_len[order]
        first = np.ones(len(row), dtype=bool)
        first[1:] = (row[1:] != row[:-1]) | (col[1:] != col[:-1])
        row, col, time = row[first], col[first], time[first]
        self._arc_length = arc_len[first]
        # Rows and columns are sorted, so this is already canonical CSR order.
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(row, minlength=n), out=indptr[1:])
        return sparse.csr_matrix((time, col.astype(np.int32), indptr), shape=(n, n))


def _z_order(xy: FloatArray, bits: int = 20) -> IntArray:
    """Order of points along a Z-order (Morton) curve over their extent."""
    if len(xy) == 0:
        return np.empty(0, dtype=np.int64)
    low = xy.min(axis=0)
    span = np.maximum(xy.max(axis=0) - low, 1e-9)
    cells = ((xy - low) / span * (2**bits - 1)).astype(np.uint64)
    code = _spread_bits(cells[:, 0]) | (_spread_bits(cells[:, 1]) << np.uint64(1))
    return np.argsort(code, kind="stable").astype(np.int64)


def _spread_bits(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """Put a zero bit between the bits of 32-bit integers."""
    x = x & np.uint64(0xFFFFFFFF)
    for shift, mask in (
        (16, 0x0000FFFF0000FFFF),
        (8, 0x00FF00FF00FF00FF),
        (4, 0x0F0F0F0F0F0F0F0F),
        (2, 0x3333333333333333),
        (1, 0x5555555555555555),
    ):
        x = (x | (x << np.uint64(shift))) & np.uint64(mask)
    return x


# -- helpers for from_lines ------------------------------------------------


def _clean_lines(lines: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Check the layer and return single LineStrings with a CRS."""
    if not isinstance(lines, gpd.GeoDataFrame):
        raise LayerError(
            f"roads must be a GeoDataFrame, got {type(lines).__name__}",
            layer="roads",
            fix="read the layer with geopandas.read_file",
        )
    if lines.crs is None:
        raise LayerError(
            "the road layer has no CRS",
            layer="roads",
            fix="set it, e.g. roads.set_crs('EPSG:4326')",
        )
    gdf = lines[~(lines.geometry.isna() | lines.geometry.is_empty)]
    gdf = gdf.explode(index_parts=False)
    kinds = set(gdf.geom_type.unique())
    if not kinds <= {"LineString"}:
        raise LayerError(
            f"the road layer holds {sorted(kinds - {'LineString'})} geometries",
            layer="roads",
            fix="keep only (Multi)LineString features",
        )
    if len(gdf) == 0:
        raise LayerError(
            "the road layer holds no lines", layer="roads", fix="check the filter"
        )
    dropped = len(lines) - int(
        (~(lines.geometry.isna() | lines.geometry.is_empty)).sum()
    )
    if dropped:
        logger.warning("ignored %d road features without geometry", dropped)
    return gdf.reset_index(drop=True)


def _merge_points(xy: FloatArray, tol: float) -> tuple[FloatArray, IntArray]:
    """Cluster points closer than ``tol``; return node coords and labels."""
    if tol > 0:
        pairs = cKDTree(xy).query_pairs(tol, output_type="ndarray")
    else:
        pairs = np.empty((0, 2), dtype=np.int64)
    # Exact duplicates always merge.
    _, inverse = np.unique(xy, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    n = len(xy)
    graph = sparse.coo_matrix(
        (
            np.ones(len(pairs) + n),
            (
                np.concatenate([pairs[:, 0], np.arange(n)]),
                np.concatenate([pairs[:, 1], n + inverse]),
            ),
        ),
        shape=(2 * n, 2 * n),
    )
    _, comp = csgraph.connected_components(graph, directed=False)
    comp = comp[:n]
    # Number nodes in order of first appearance; keep the first point's xy.
    uniq, first, labels = np.unique(comp, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty(len(uniq), dtype=np.int64)
    rank[order] = np.arange(len(uniq))
    return xy[first[order]], rank[labels.ravel()]


def _edge_speeds(
    gdf: gpd.GeoDataFrame,
    speeds: Mapping[str, float] | None,
    class_field: str | None,
    speed_field: str | None,
) -> FloatArray:
    """Speed of each line from its speed field or class."""
    if class_field and class_field in gdf.columns:
        by_class = gdf[class_field].map(lambda c: speed_for_class(c, speeds))
        speed = by_class.to_numpy(float)
    else:
        speed = np.full(len(gdf), speed_for_class(None, speeds))
    if speed_field is not None:
        if speed_field not in gdf.columns:
            raise LayerError(
                "the speed field is missing",
                layer="roads",
                field=speed_field,
                fix=f"pick one of {list(gdf.columns)} or pass speed_field=None",
            )
        given = pd.to_numeric(gdf[speed_field], errors="coerce").to_numpy(float)
        ok = np.isfinite(given) & (given > 0)
        speed = np.where(ok, given, speed)
    return speed


def _edge_frame(
    u: IntArray,
    v: IntArray,
    length: FloatArray,
    speed: FloatArray,
    sign: IntArray,
    road_class: Any,
    geometry: Any,
    crs: Any,
) -> gpd.GeoDataFrame:
    """Assemble the edge table with per-direction times."""
    time = length / (speed * 1000.0 / 60.0)
    return gpd.GeoDataFrame(
        {
            "u": np.asarray(u, dtype=np.int64),
            "v": np.asarray(v, dtype=np.int64),
            "length_m": length,
            "speed_kmh": speed,
            "time_fw_min": np.where(sign >= 0, time, np.inf),
            "time_bw_min": np.where(sign <= 0, time, np.inf),
            "road_class": road_class,
        },
        geometry=gpd.GeoSeries(np.asarray(geometry, dtype=object), crs=crs),
    )


def _join_dead_ends(
    node_xy: FloatArray, edges: gpd.GeoDataFrame, tol: float
) -> gpd.GeoDataFrame:
    """Add straight connectors from dead ends to the nearest other node."""
    u = edges["u"].to_numpy()
    v = edges["v"].to_numpy()
    degree = np.bincount(np.concatenate([u, v]), minlength=len(node_xy))
    dead = np.flatnonzero(degree == 1)
    if len(dead) == 0:
        return edges
    linked = set(zip(u.tolist(), v.tolist(), strict=True)) | set(
        zip(v.tolist(), u.tolist(), strict=True)
    )
    incident = {int(n): i for i, n in enumerate(u)} | {
        int(n): i for i, n in enumerate(v)
    }
    tree = cKDTree(node_xy)
    new: list[tuple[int, int, float, int]] = []
    seen: set[tuple[int, int]] = set()
    for a in dead.tolist():
        dists, idx = tree.query(node_xy[a], k=8, distance_upper_bound=tol)
        for d, b in zip(np.atleast_1d(dists), np.atleast_1d(idx), strict=True):
            b = int(b)
            if not np.isfinite(d) or b == a or (a, b) in linked:
                continue
            key = (min(a, b), max(a, b))
            if key not in seen:
                seen.add(key)
                new.append((a, b, float(d), incident[a]))
            break
    if not new:
        return edges
    arr = np.array(new, dtype=float)
    ends_a = arr[:, 0].astype(np.int64)
    ends_b = arr[:, 1].astype(np.int64)
    gap = np.maximum(arr[:, 2], 1e-3)
    speed = edges["speed_kmh"].to_numpy()[arr[:, 3].astype(np.int64)]
    k = len(arr)
    geoms = shapely.linestrings(
        np.stack([node_xy[ends_a], node_xy[ends_b]], axis=1).reshape(-1, 2),
        indices=np.repeat(np.arange(k), 2),
    )
    sign = np.zeros(k, dtype=np.int64)
    kind = np.full(k, "connector", dtype=object)
    extra = _edge_frame(ends_a, ends_b, gap, speed, sign, kind, geoms, edges.crs)
    logger.info("joined %d near-touching dead ends within %g m", k, tol)
    return pd.concat([edges, extra], ignore_index=True)


def _apply_slope(
    node_xy: FloatArray,
    edges: gpd.GeoDataFrame,
    crs: CRS,
    dem: str | Path,
    coef: float,
    cap: float,
) -> gpd.GeoDataFrame:
    """Multiply edge times by the slope factor from end-node elevations."""
    import rasterio

    try:
        src = rasterio.open(dem)
    except rasterio.errors.RasterioIOError as exc:
        raise LayerError(
            f"cannot read the DEM ({exc})", path=dem, fix="check the path"
        ) from exc
    with src:
        to_dem = Transformer.from_crs(crs, src.crs, always_xy=True)
        x, y = to_dem.transform(node_xy[:, 0], node_xy[:, 1])
        z = np.array([s[0] for s in src.sample(zip(x, y, strict=True))], dtype=float)
        if src.nodata is not None:
            z[z == src.nodata] = np.nan
    u = edges["u"].to_numpy()
    v = edges["v"].to_numpy()
    grade = np.abs(z[v] - z[u]) / np.maximum(edges["length_m"].to_numpy(), 1.0)
    factor = np.where(np.isfinite(grade), np.minimum(1.0 + coef * grade, cap), 1.0)
    out = edges.copy()
    out["slope_factor"] = factor
    out["time_fw_min"] = out["time_fw_min"] * factor
    out["time_bw_min"] = out["time_bw_min"] * factor
    return out


def _points_xy(points: gpd.GeoDataFrame | gpd.GeoSeries, crs: CRS) -> FloatArray:
    """Coordinates of points (or representative points) in ``crs``."""
    if not isinstance(points, gpd.GeoDataFrame | gpd.GeoSeries):
        raise LayerError(
            f"points must be a GeoDataFrame or GeoSeries, got {type(points).__name__}",
            fix="build one with geopandas.points_from_xy and a crs",
        )
    if points.crs is None:
        raise LayerError(
            "the point layer has no CRS", fix="set it, e.g. pts.set_crs('EPSG:4326')"
        )
    geom = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    if not CRS.from_user_input(geom.crs).equals(crs):
        geom = geom.to_crs(crs)
    values = np.asarray(geom.values, dtype=object)
    kind = shapely.get_type_id(values)  # -1 for missing
    present = (kind >= 0) & ~shapely.is_empty(values)
    other = present & (kind != 0)
    if other.any():
        values = values.copy()
        values[other] = shapely.point_on_surface(values[other])
    xy = np.full((len(values), 2), np.nan)
    if present.any():
        xy[present] = shapely.get_coordinates(values[present])
    return xy


#: OSM ``highway`` values read by :meth:`RoadNetwork.from_osm` (roads a
#: vehicle can use; ``*_link`` included).
OSM_ROAD_TYPES = frozenset(
    {
        "motorway",
        "trunk",
        "primary",
        "secondary",
        "tertiary",
        "unclassified",
        "residential",
        "living_street",
        "service",
        "road",
        "track",
    }
)


def read_osm_roads(path: str | Path) -> gpd.GeoDataFrame:
    """Road ways of an OpenStreetMap extract (``.osm.pbf`` or ``.osm``).

    Returns lines in EPSG:4326 split at junctions, with ``highway`` and
    ``oneway`` columns, ready for :meth:`RoadNetwork.from_lines`. Reads the
    file offline with pyosmium.
    """
    return _read_osm_roads(Path(path))


def _read_osm_roads(path: Path) -> gpd.GeoDataFrame:
    """Read road ways of an OSM extract as lines split at junctions."""
    try:
        import osmium
    except ImportError as exc:
        raise NetworkError(
            "reading OpenStreetMap files needs pyosmium. Fix: pip install "
            "osmium, or convert the extract to a GeoPackage and use from_lines."
        ) from exc
    if not path.exists():
        raise LayerError("the OpenStreetMap file does not exist", path=path)

    # One pass: node ids, coordinates and tags of every road way.
    ways: list[tuple[list[int], list[tuple[float, float]], dict[str, str]]] = []
    processor = (
        osmium.FileProcessor(str(path))
        .with_locations()
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    for obj in processor:
        if not isinstance(obj, osmium.osm.Way):
            continue
        kind = str(obj.tags.get("highway") or "").removesuffix("_link")
        if kind not in OSM_ROAD_TYPES:
            continue
        try:
            ids = [n.ref for n in obj.nodes]
            xy = [(n.lon, n.lat) for n in obj.nodes]
        except osmium.InvalidLocationError:
            logger.warning("skipped OSM way %d with nodes outside the extract", obj.id)
            continue
        keys = ("highway", "oneway", "maxspeed", "name", "junction")
        tags = {k: str(obj.tags.get(k) or "") for k in keys}
        tags["osm_id"] = str(obj.id)
        ways.append((ids, xy, tags))
    if not ways:
        raise NetworkError(f"{path}: the file holds no road ways (highway=*).")

    # Split every way at nodes that other ways (or itself) also use.
    uses: dict[int, int] = {}
    for ids, _, _ in ways:
        for ref in ids:
            uses[ref] = uses.get(ref, 0) + 1
    records: list[dict[str, Any]] = []
    for ids, xy, tags in ways:
        oneway = tags["oneway"]
        if not oneway and (
            tags["highway"] == "motorway" or tags["junction"] == "roundabout"
        ):
            oneway = "yes"
        speed = pd.to_numeric(tags["maxspeed"].split(" ")[0], errors="coerce")
        start = 0
        for i in range(1, len(ids)):
            if i == len(ids) - 1 or uses[ids[i]] > 1:
                if i > start:
                    records.append(
                        {
                            "osm_id": tags["osm_id"],
                            "highway": tags["highway"],
                            "oneway": oneway,
                            "maxspeed": speed,
                            "name": tags["name"],
                            "geometry": shapely.LineString(xy[start : i + 1]),
                        }
                    )
                start = i
    logger.info("read %d OSM road ways as %d pieces", len(ways), len(records))
    return gpd.GeoDataFrame(records, geometry="geometry", crs="EPSG:4326")
