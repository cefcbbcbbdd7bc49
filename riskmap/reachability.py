"""Who reaches a facility, how fast: roads, relief chains and helicopters.

Road travel times come from one multi-source Dijkstra pass
(:func:`scipy.sparse.csgraph.dijkstra` with ``min_only=True``) over the
CSR matrix of :class:`riskmap.network.RoadNetwork`. Every point joins the
network at its snapped place on an edge through an access leg (see
:meth:`RoadNetwork.snap`): each facility becomes one extra source row
with arcs to the two ends of its edge, and each origin takes the better of
its two edge ends (time at the end plus the run along the edge plus the
access leg). An origin and a facility on the same edge also get the
direct run between them, so results are exact for points anywhere on an
edge.

Direction matters on one-way roads. ``direction="to_facility"`` times the
trip origin to facility (evacuation to a shelter); the search then runs
from all facilities at once on the reversed graph. ``"from_facility"``
times facility to origin (relief from a depot, rescue teams) on the graph
as it is.

Unreachable means ``inf`` minutes and a missing (``NA``) facility: batch
results never raise for an unreachable point; the count is logged.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Geod, Transformer
from scipy import sparse
from scipy.optimize import linprog
from scipy.sparse import csgraph
from shapely.ops import substring

from riskmap.errors import FieldError, LayerError, NetworkError
from riskmap.network import DEFAULT_ACCESS_SPEED_KMH, RoadNetwork

__all__ = [
    "DEFAULT_CRUISE_KMH",
    "DEFAULT_DISPATCH_MIN",
    "DEFAULT_HANDLING_H",
    "Assignment",
    "DisruptionImpact",
    "assign_capacity",
    "close_edges",
    "coverage",
    "disrupt",
    "disruption_impact",
    "helicopter_time",
    "nearest_facility",
    "nearest_node_times",
    "od_matrix",
    "relief_time",
    "service_areas",
    "uncovered",
]

logger = logging.getLogger(__name__)

Direction = Literal["to_facility", "from_facility"]
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Points: TypeAlias = gpd.GeoDataFrame | gpd.GeoSeries

#: Minutes from the call to take-off (no national norm; a planning default).
DEFAULT_DISPATCH_MIN = 30.0
#: Helicopter cruise speed, km/h (H135, the lightest common rescue type).
DEFAULT_CRUISE_KMH = 254.0
#: Loading and handling hours at each depot level a relief load leaves from.
DEFAULT_HANDLING_H: dict[str, float] = {"city": 2.0, "county": 1.0, "township": 0.5}

_GEOD = Geod(ellps="WGS84")


# -- road search ------------------------------------------------------------


def nearest_facility(
    network: RoadNetwork,
    origins: Points,
    facilities: Points,
    *,
    direction: Direction = "to_facility",
    max_snap_m: float = 2000.0,
    access_speed_kmh: float = DEFAULT_ACCESS_SPEED_KMH,
    snap_to: Literal["edge", "node"] = "edge",
    cutoff_min: float | None = None,
) -> pd.DataFrame:
    """Travel time from every origin to its nearest facility, in one pass.

    Parameters
    ----------
    network : RoadNetwork
        The road graph.
    origins, facilities : geopandas.GeoDataFrame or GeoSeries
        Points in any CRS (polygons use a point on their surface).
    direction : {"to_facility", "from_facility"}, default "to_facility"
        Trip origin to facility (evacuation) or facility to origin (relief).
    max_snap_m : float, default 2000
        Longest access leg; farther points stay unconnected (a warning
        gives their count).
    access_speed_kmh : float, default 5
        Speed on the access legs of origins and facilities.
    snap_to : {"edge", "node"}, default "edge"
        Join points to the nearest place on an edge or the nearest node.
    cutoff_min : float, optional
        Stop searching beyond this time; farther origins get ``inf``.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``origins``: ``time_min`` (``inf`` if unreachable),
        ``facility`` (index label of the serving facility, ``NA`` if none)
        and ``snap_m`` (origin's access distance).

    Examples
    --------
    >>> import numpy as np, geopandas as gpd
    >>> from shapely import Point
    >>> xy = np.array([[0, 0], [3000, 0], [6000, 0]], float)
    >>> net = RoadNetwork.from_edges(xy, np.array([0, 1]), np.array([1, 2]),
    ...     np.array([3000.0, 3000.0]), crs="EPSG:32648")
    >>> shelters = gpd.GeoSeries([Point(0, 0), Point(6000, 0)],
    ...     index=["west", "east"], crs="EPSG:32648")
    >>> cells = gpd.GeoSeries([Point(1000, 100), Point(4000, 0)],
    ...     crs="EPSG:32648")
    >>> nearest_facility(net, cells, shelters)[["time_min", "facility"]]
       time_min facility
    0       2.2     west
    1       2.0     east
    """
    _check_direction(direction)
    opts = {"max_snap_m": max_snap_m, "access_speed_kmh": access_speed_kmh}
    orig = network.snap(origins, **opts, to=snap_to, label="origins", stacklevel=3)
    fac = network.snap(facilities, **opts, to=snap_to, label="facilities", stacklevel=3)
    time, src = _search(network, orig, fac, direction, cutoff_min)
    facility = _pick(facilities.index, src, origins.index)
    out = pd.DataFrame(
        {"time_min": time, "facility": facility, "snap_m": orig["snap_m"].to_numpy()},
        index=origins.index,
    )
    unreachable = int(np.isinf(time).sum())
    if unreachable:
        logger.info("%d of %d origins reach no facility", unreachable, len(out))
    return out


def nearest_node_times(
    network: RoadNetwork,
    source_nodes: Sequence[int] | IntArray,
    *,
    direction: Direction = "to_facility",
    cutoff_min: float | None = None,
) -> tuple[FloatArray, IntArray]:
    """Time between every node and the nearest of some nodes, one pass.

    The graph-only core of :func:`nearest_facility`, for facilities that
    sit on nodes: no snapping, no access legs.

    Parameters
    ----------
    network : RoadNetwork
        The road graph.
    source_nodes : sequence of int
        Node numbers of the facilities.
    direction : {"to_facility", "from_facility"}, default "to_facility"
        Node to facility, or facility to node.
    cutoff_min : float, optional
        Stop searching beyond this time.

    Returns
    -------
    time : numpy.ndarray
        Minutes per node (``inf`` if unreachable).
    source : numpy.ndarray
        Position in ``source_nodes`` of the nearest facility, -1 if none.

    Examples
    --------
    >>> import numpy as np
    >>> xy = np.array([[0, 0], [1000, 0], [2000, 0]], float)
    >>> net = RoadNetwork.from_edges(xy, np.array([0, 1]), np.array([1, 2]),
    ...     np.array([1000.0, 1000.0]), crs="EPSG:32648",
    ...     oneway=np.array([1, 1]))
    >>> t, s = nearest_node_times(net, [2])
    >>> t.tolist(), s.tolist()
    ([2.0, 1.0, 0.0], [0, 0, 0])
    """
    _check_direction(direction)
    nodes = np.asarray(source_nodes, dtype=np.int64)
    if len(nodes) == 0:
        return np.full(network.n_nodes, np.inf), np.full(network.n_nodes, -1, np.int64)
    if nodes.min() < 0 or nodes.max() >= network.n_nodes:
        raise NetworkError(
            f"source_nodes must be node numbers from 0 to {network.n_nodes - 1}."
        )
    graph = network.matrix_reversed if direction == "to_facility" else network.matrix
    dist, _, sources = csgraph.dijkstra(
        graph,
        directed=True,
        indices=nodes,
        min_only=True,
        return_predecessors=True,
        limit=np.inf if cutoff_min is None else float(cutoff_min),
    )
    # Map the source node back to its position in source_nodes.
    position = np.full(network.n_nodes, -1, dtype=np.int64)
    position[nodes[::-1]] = np.arange(len(nodes))[::-1]
    src = np.where(sources >= 0, position[np.maximum(sources, 0)], -1)
    return np.asarray(dist, float), src.astype(np.int64)


def od_matrix(
    network: RoadNetwork,
    origins: Points,
    facilities: Points,
    *,
    direction: Direction = "to_facility",
    max_snap_m: float = 2000.0,
    access_speed_kmh: float = DEFAULT_ACCESS_SPEED_KMH,
    snap_to: Literal["edge", "node"] = "edge",
    cutoff_min: float | None = None,
) -> pd.DataFrame:
    """Travel time from every origin to every facility (minutes).

    Runs one Dijkstra search per facility (in chunks, so memory stays at
    a few facilities times the node count). Parameters are those of
    :func:`nearest_facility`.

    Returns
    -------
    pandas.DataFrame
        Origins as rows, facilities as columns; ``inf`` where unreachable.

    Examples
    --------
    >>> import numpy as np, geopandas as gpd
    >>> from shapely import Point
    >>> xy = np.array([[0, 0], [3000, 0], [6000, 0]], float)
    >>> net = RoadNetwork.from_edges(xy, np.array([0, 1]), np.array([1, 2]),
    ...     np.array([3000.0, 3000.0]), crs="EPSG:32648")
    >>> fac = gpd.GeoSeries([Point(0, 0), Point(6000, 0)], index=["w", "e"],
    ...     crs="EPSG:32648")
    >>> od_matrix(net, gpd.GeoSeries([Point(3000, 0)], crs="EPSG:32648"), fac)
         w    e
    0  3.0  3.0
    """
    _check_direction(direction)
    opts = {"max_snap_m": max_snap_m, "access_speed_kmh": access_speed_kmh}
    orig = network.snap(origins, **opts, to=snap_to, label="origins", stacklevel=3)
    fac = network.snap(facilities, **opts, to=snap_to, label="facilities", stacklevel=3)
    graph, fac_ids = _source_graph(network, fac, direction)
    ou, ov, lu, lv = _legs(network, orig, leaving=direction == "to_facility")
    times = np.full((len(orig), len(fac)), np.inf)
    limit = np.inf if cutoff_min is None else float(cutoff_min)
    live = np.flatnonzero(fac["connected"].to_numpy())
    chunk = max(1, int(2e8 // max(graph.shape[0], 1) // 8))
    for start in range(0, len(live), chunk):
        cols = live[start : start + chunk]
        dist = csgraph.dijkstra(
            graph, directed=True, indices=fac_ids[cols], limit=limit
        )
        times[:, cols] = np.minimum(dist[:, ou] + lu, dist[:, ov] + lv).T

    # Origin and facility on the same edge: the direct run along it.
    o_pos, f_pos, cost = _direct_pairs(network, orig, fac, direction)
    np.minimum.at(times, (o_pos, f_pos), cost)
    if cutoff_min is not None:
        times[times > cutoff_min] = np.inf
    return pd.DataFrame(times, index=origins.index, columns=facilities.index)


def _pick(labels: pd.Index, pos: IntArray, index: pd.Index) -> pd.Series:
    """Labels at positions ``pos`` (object dtype); ``NA`` where negative."""
    out = np.full(len(pos), pd.NA, dtype=object)
    ok = pos >= 0
    out[ok] = np.asarray(labels, dtype=object)[pos[ok]]
    return pd.Series(out, index=index, dtype=object)


def _check_direction(direction: str) -> None:
    if direction not in ("to_facility", "from_facility"):
        raise NetworkError(
            f"direction must be 'to_facility' (origin to facility, evacuation) or "
            f"'from_facility' (facility to origin, relief), got {direction!r}."
        )


def _search(
    network: RoadNetwork,
    orig: pd.DataFrame,
    fac: pd.DataFrame,
    direction: Direction,
    cutoff_min: float | None,
) -> tuple[FloatArray, IntArray]:
    """One multi-source search; time and facility position per origin."""
    time = np.full(len(orig), np.inf)
    src = np.full(len(orig), -1, dtype=np.int64)
    live = fac["connected"].to_numpy()
    if not live.any() or len(orig) == 0:
        return time, src
    graph, fac_ids = _source_graph(network, fac, direction)
    dist, _, sources = csgraph.dijkstra(
        graph,
        directed=True,
        indices=fac_ids[live],
        min_only=True,
        return_predecessors=True,
        limit=np.inf if cutoff_min is None else float(cutoff_min),
    )

    # Best of the two ends of each origin's edge.
    ou, ov, lu, lv = _legs(network, orig, leaving=direction == "to_facility")
    tu = dist[ou] + lu
    tv = dist[ov] + lv
    via_v = tv < tu
    time = np.where(via_v, tv, tu)
    hit = np.where(via_v, sources[ov], sources[ou])
    src = np.where(np.isfinite(time) & (hit >= 0), hit - network.n_nodes, -1)

    # Origin and facility on the same edge: the direct run along it.
    o_pos, f_pos, cost = _direct_pairs(network, orig, fac, direction)
    for i, j, c in zip(o_pos.tolist(), f_pos.tolist(), cost.tolist(), strict=True):
        if c < time[i]:
            time[i], src[i] = c, j
    if cutoff_min is not None:
        beyond = time > cutoff_min
        time[beyond], src[beyond] = np.inf, -1
    return time, src.astype(np.int64)


def _along(frac: FloatArray, time: FloatArray) -> FloatArray:
    """Time to run ``frac`` of an edge; zero distance is always allowed."""
    finite = np.isfinite(time)
    cost = np.where(finite, frac * np.where(finite, time, 0.0), np.inf)
    return np.where(frac == 0.0, 0.0, cost)


def _legs(
    network: RoadNetwork, points: pd.DataFrame, *, leaving: bool
) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    """Network ends of each snapped point and the leg costs to or from them.

    ``leaving`` legs run from the point onto the network (access, then
    along the edge to ``u`` against its direction or to ``v`` with it);
    arriving legs run from ``u`` or ``v`` to the point. Unconnected points
    get node 0 and infinite legs.
    """
    e = network.edges
    ok = points["connected"].to_numpy()
    edge = points["edge"].to_numpy()
    on = ok & (edge >= 0)
    k = np.maximum(edge, 0)
    fw = np.where(on, e["time_fw_min"].to_numpy(float)[k], 0.0)
    bw = np.where(on, e["time_bw_min"].to_numpy(float)[k], 0.0)
    frac = points["frac"].to_numpy(float)
    access = points["access_min"].to_numpy(float)
    if leaving:
        cost_u = access + _along(frac, bw)
        cost_v = access + _along(1.0 - frac, fw)
    else:
        cost_u = _along(frac, fw) + access
        cost_v = _along(1.0 - frac, bw) + access
    u = np.where(ok, points["u"].to_numpy(), 0).astype(np.int64)
    v = np.where(ok, points["v"].to_numpy(), 0).astype(np.int64)
    return u, v, np.where(ok, cost_u, np.inf), np.where(ok, cost_v, np.inf)


def _source_graph(
    network: RoadNetwork, fac: pd.DataFrame, direction: Direction
) -> tuple[sparse.csr_matrix, IntArray]:
    """The searched graph: network (reversed for ``to_facility``) plus one
    source row per facility, with arcs to the ends of its edge."""
    n = network.n_nodes
    if direction == "from_facility":
        base = network.matrix
        u, v, cu, cv = _legs(network, fac, leaving=True)
    else:
        # Reversed graph: the arc u -> facility becomes facility -> u.
        base = network.matrix_reversed
        u, v, cu, cv = _legs(network, fac, leaving=False)
    same = u == v
    cu = np.where(same, np.minimum(cu, cv), cu)
    cv = np.where(same, np.inf, cv)
    cols = np.stack([u, v], axis=1)
    cost = np.stack([cu, cv], axis=1)
    keep = np.isfinite(cost)
    counts = keep.sum(axis=1)
    size = n + len(fac)
    indptr = np.concatenate(
        [base.indptr.astype(np.int64), base.indptr[-1] + np.cumsum(counts)]
    )
    indices = np.concatenate([base.indices.astype(np.int64), cols[keep]])
    data = np.concatenate([base.data, cost[keep]])
    graph = sparse.csr_matrix((data, indices, indptr), shape=(size, size))
    return graph, n + np.arange(len(fac))


def _direct_pairs(
    network: RoadNetwork, orig: pd.DataFrame, fac: pd.DataFrame, direction: Direction
) -> tuple[IntArray, IntArray, FloatArray]:
    """Origins and facilities snapped to the same edge, and the direct time."""
    a = orig.assign(pos=np.arange(len(orig)))
    b = fac.assign(pos=np.arange(len(fac)))
    a = a[a["connected"].to_numpy() & (a["edge"].to_numpy() >= 0)]
    b = b[b["connected"].to_numpy() & (b["edge"].to_numpy() >= 0)]
    empty = np.empty(0, dtype=np.int64)
    if len(a) == 0 or len(b) == 0:
        return empty, empty, np.empty(0)
    pair = a.merge(b, on="edge", suffixes=("_o", "_f"))
    if len(pair) == 0:
        return empty, empty, np.empty(0)
    k = pair["edge"].to_numpy()
    fw = network.edges["time_fw_min"].to_numpy(float)[k]
    bw = network.edges["time_bw_min"].to_numpy(float)[k]
    start, end = ("o", "f") if direction == "to_facility" else ("f", "o")
    gap = pair[f"frac_{end}"].to_numpy() - pair[f"frac_{start}"].to_numpy()
    run = np.where(gap >= 0, _along(np.abs(gap), fw), _along(np.abs(gap), bw))
    cost = (
        pair[f"access_min_{start}"].to_numpy()
        + run
        + pair[f"access_min_{end}"].to_numpy()
    )
    return pair["pos_o"].to_numpy(), pair["pos_f"].to_numpy(), cost


# -- helicopters ------------------------------------------------------------


def helicopter_time(
    origins: Points,
    bases: Points,
    *,
    dispatch_min: float = DEFAULT_DISPATCH_MIN,
    cruise_kmh: float = DEFAULT_CRUISE_KMH,
    range_km: float | None = None,
    range_mode: Literal["round_trip", "one_way"] = "round_trip",
) -> pd.DataFrame:
    """Helicopter time from the fastest base: dispatch plus geodesic flight.

    ``time = dispatch_min + 60 * distance_km / cruise_kmh`` with the
    distance on the WGS-84 ellipsoid (:class:`pyproj.Geod`). A base whose
    table has ``dispatch_min``, ``cruise_kmh`` or ``range_km`` columns uses
    its own values (missing values fall back to the arguments). With a
    range, a base serves a point only if ``2 * distance`` (``round_trip``,
    back to base without refuelling) or ``distance`` (``one_way``) is
    within it.

    Parameters
    ----------
    origins, bases : geopandas.GeoDataFrame or GeoSeries
        Points in any CRS.
    dispatch_min : float, default 30
        Minutes from the call to take-off.
    cruise_kmh : float, default 254
        Cruise speed.
    range_km : float, optional
        Range of the aircraft; unlimited by default.
    range_mode : {"round_trip", "one_way"}, default "round_trip"
        How the range limits the served distance.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``origins``: ``time_min`` (``inf`` if out of range of
        every base), ``base`` (index label or ``NA``) and ``distance_km``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> base = gpd.GeoSeries([Point(106.96, 23.7206)], index=["AEB"],
    ...     crs="EPSG:4326")
    >>> town = gpd.GeoSeries([Point(106.57, 24.35)], crs="EPSG:4326")
    >>> helicopter_time(town, base).round(2)
       time_min base  distance_km
    0     48.95  AEB        80.21
    """
    if range_mode not in ("round_trip", "one_way"):
        raise NetworkError(
            f"range_mode must be 'round_trip' or 'one_way', got {range_mode!r}."
        )
    lon, lat = _lonlat(origins)
    blon, blat = _lonlat(bases)
    table = (
        bases
        if isinstance(bases, gpd.GeoDataFrame)
        else pd.DataFrame(index=bases.index)
    )
    dispatch = _per_base(table, "dispatch_min", dispatch_min)
    cruise = _per_base(table, "cruise_kmh", cruise_kmh)
    reach = _per_base(table, "range_km", np.inf if range_km is None else range_km)
    if (cruise <= 0).any():
        raise FieldError(
            "cruise speeds must be positive", layer="bases", field="cruise_kmh"
        )
    reach = reach / 2.0 if range_mode == "round_trip" else reach

    best = np.full(len(lon), np.inf)
    which = np.full(len(lon), -1, dtype=np.int64)
    dist_best = np.full(len(lon), np.nan)
    for k in range(len(blon)):
        _, _, metres = _GEOD.inv(
            np.full(len(lon), blon[k]), np.full(len(lon), blat[k]), lon, lat
        )
        km = np.asarray(metres) / 1000.0
        t = dispatch[k] + 60.0 * km / cruise[k]
        t = np.where((km <= reach[k]) & np.isfinite(km), t, np.inf)
        better = t < best
        best[better], which[better], dist_best[better] = t[better], k, km[better]
    return pd.DataFrame(
        {
            "time_min": best,
            "base": _pick(bases.index, which, origins.index),
            "distance_km": dist_best,
        },
        index=origins.index,
    )


def _lonlat(points: Points) -> tuple[FloatArray, FloatArray]:
    """Longitude and latitude of points (any CRS)."""
    if points.crs is None:
        raise LayerError(
            "the point layer has no CRS", fix="set it, e.g. pts.set_crs('EPSG:4326')"
        )
    geom = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    geom = geom.to_crs("EPSG:4326")
    values = geom.values
    if not (shapely.get_type_id(values) == 0).all():
        values = shapely.point_on_surface(values)
    return np.asarray(shapely.get_x(values), float), np.asarray(
        shapely.get_y(values), float
    )


def _per_base(table: pd.DataFrame, column: str, default: float) -> FloatArray:
    if column not in table.columns:
        return np.full(len(table), float(default))
    given = pd.to_numeric(table[column], errors="coerce").to_numpy(float)
    return np.where(np.isfinite(given), given, float(default))


# -- relief chain -----------------------------------------------------------


def relief_time(
    network: RoadNetwork,
    cells: Points,
    depots: gpd.GeoDataFrame,
    *,
    level_field: str = "level",
    levels: Sequence[str] = ("city", "county", "township"),
    handling_h: Mapping[str, float] | None = None,
    targets_h: Sequence[float] = (10.0, 24.0),
    max_snap_m: float = 2000.0,
    access_speed_kmh: float = DEFAULT_ACCESS_SPEED_KMH,
    snap_to: Literal["edge", "node"] = "edge",
) -> pd.DataFrame:
    """Hours for relief supplies to reach each cell through the depot chain.

    Supplies leave the top level (the municipal reserve centre), pass the
    county depot and the township point, and end in the cell. Each depot
    is supplied by the nearest depot of the level above (by road time,
    depot to depot); each cell by the nearest depot of the lowest level.
    The time is the sum of the road legs plus ``handling_h[level]`` at
    every depot on the way (loading at the centre, reloading below)::

        t = h_city + t(city->county) + h_county + t(county->township)
            + h_township + t(township->cell)

    Levels with no depot are skipped, so with county depots only the
    chain is centre, county depot, cell.

    Parameters
    ----------
    network : RoadNetwork
        The road graph.
    cells : geopandas.GeoDataFrame or GeoSeries
        Destinations (grid cells use a point on their surface).
    depots : geopandas.GeoDataFrame
        Depots and reserve centres with a ``level_field`` column.
    level_field : str, default "level"
        Column naming each depot's level.
    levels : sequence of str, default ("city", "county", "township")
        Levels from the top of the chain down; other rows are ignored.
    handling_h : mapping of str to float, optional
        Hours of loading and handling per level;
        :data:`DEFAULT_HANDLING_H` by default (missing levels count 0).
    targets_h : sequence of float, default (10, 24)
        Checks reported as ``within_<t>h`` columns.
    max_snap_m, access_speed_kmh, snap_to
        As in :func:`nearest_facility`.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``cells``: ``t_relief_h`` (``inf`` if the chain is
        broken), ``depot`` (serving depot of the lowest level), one
        ``depot_<level>`` column per upper level, and ``within_<t>h``.

    Raises
    ------
    FieldError
        If ``level_field`` is missing or no depot has a listed level.
    LayerError
        If depot index labels repeat.

    Examples
    --------
    >>> import numpy as np, geopandas as gpd
    >>> from shapely import Point
    >>> xy = np.array([[0, 0], [60000, 0], [120000, 0]], float)
    >>> net = RoadNetwork.from_edges(xy, np.array([0, 1]), np.array([1, 2]),
    ...     np.array([60000.0, 60000.0]), crs="EPSG:32648")
    >>> depots = gpd.GeoDataFrame({"level": ["city", "county"]},
    ...     geometry=[Point(0, 0), Point(60000, 0)], index=["C", "K"],
    ...     crs="EPSG:32648")
    >>> cell = gpd.GeoSeries([Point(120000, 0)], crs="EPSG:32648")
    >>> relief_time(net, cell, depots)[["t_relief_h", "depot", "depot_city"]]
       t_relief_h depot depot_city
    0         5.0     K          C
    """
    if level_field not in depots.columns:
        raise FieldError(
            "the depot layer has no level column",
            layer="depots",
            field=level_field,
            fix=f"add it (values {list(levels)}) or pass level_field=",
        )
    if not depots.index.is_unique:
        raise LayerError(
            "depot index labels repeat, so a depot cannot be named",
            layer="depots",
            fix="index the layer by a unique id, e.g. depots.set_index('facility_id')",
        )
    handling = dict(DEFAULT_HANDLING_H if handling_h is None else handling_h)
    present = [lv for lv in levels if (depots[level_field] == lv).any()]
    if not present:
        raise FieldError(
            f"no depot has a level among {list(levels)}",
            layer="depots",
            field=level_field,
            fix="check the level values",
        )
    opts: dict[str, Any] = {
        "direction": "from_facility",
        "max_snap_m": max_snap_m,
        "access_speed_kmh": access_speed_kmh,
        "snap_to": snap_to,
    }

    # Walk down the chain: each depot's ready time and its upstream depots.
    top = depots[depots[level_field] == present[0]]
    ready = pd.Series(handling.get(present[0], 0.0), index=top.index, dtype=float)
    parents = pd.DataFrame(index=top.index)
    for upper, lower in itertools.pairwise(present):
        low = depots[depots[level_field] == lower]
        leg = nearest_facility(network, low, depots.loc[ready.index], **opts)
        up = leg["facility"]
        up_ready = ready.reindex(up.dropna()).to_numpy()
        t = np.full(len(low), np.inf)
        has = up.notna().to_numpy()
        t[has] = up_ready + leg["time_min"].to_numpy()[has] / 60.0
        t += handling.get(lower, 0.0)
        chain = parents.reindex(up.to_numpy()).set_axis(low.index)
        chain[f"depot_{upper}"] = up.to_numpy()
        ready, parents = pd.Series(t, index=low.index), chain

    # Last leg to the cells.
    last = nearest_facility(network, cells, depots.loc[ready.index], **opts)
    serving = last["facility"]
    hours = np.full(len(cells), np.inf)
    has = serving.notna().to_numpy()
    hours[has] = (
        ready.reindex(serving[has]).to_numpy() + last["time_min"].to_numpy()[has] / 60.0
    )
    out = pd.DataFrame(
        {"t_relief_h": hours, "depot": serving.to_numpy()}, index=cells.index
    )
    upstream = parents.reindex(serving.to_numpy()).set_axis(cells.index)
    out = pd.concat([out, upstream], axis=1)
    for target in targets_h:
        out[f"within_{target:g}h"] = out["t_relief_h"] <= target
    return out


# -- service areas and coverage ---------------------------------------------


def service_areas(
    network: RoadNetwork,
    facilities: Points,
    thresholds_min: Sequence[float],
    *,
    direction: Direction = "from_facility",
    per_facility: bool = True,
    max_snap_m: float = 2000.0,
    access_speed_kmh: float = DEFAULT_ACCESS_SPEED_KMH,
    snap_to: Literal["edge", "node"] = "edge",
) -> gpd.GeoDataFrame:
    """Isochrone polygons around facilities, per facility and combined.

    Method: a Dijkstra search from the facilities gives the time to every
    node. For a threshold ``T``, each node reached at time ``t <= T`` gets a
    disc of radius ``min((T - t) * access speed, max_snap_m)``: the
    off-road walk still possible from it, capped like snapping. Each edge
    whose two ends are reached gets a corridor whose half-width is the
    smaller of its two end radii. The area is the union of discs and
    corridors. Roads travelled only part way show as the disc around their
    last reached node, so the polygons lean to the conservative side.

    Parameters
    ----------
    network : RoadNetwork
        The road graph.
    facilities : geopandas.GeoDataFrame or GeoSeries
        Facility points.
    thresholds_min : sequence of float
        Time limits in minutes (e.g. 15, 30, 60; 600 and 1440 for relief).
    direction : {"from_facility", "to_facility"}, default "from_facility"
        Reach from the facility outwards, or the area from which the
        facility is reached.
    per_facility : bool, default True
        Also return one polygon per facility and threshold.
    max_snap_m, access_speed_kmh, snap_to
        As in :func:`nearest_facility`.

    Returns
    -------
    geopandas.GeoDataFrame
        In the network CRS: ``facility`` (label, or ``"all"`` for the
        combined area), ``threshold_min``, ``area_km2`` and geometry.

    Examples
    --------
    >>> import numpy as np, geopandas as gpd
    >>> from shapely import Point
    >>> xy = np.array([[0, 0], [6000, 0]], float)
    >>> net = RoadNetwork.from_edges(xy, np.array([0]), np.array([1]),
    ...     np.array([6000.0]), crs="EPSG:32648")
    >>> fac = gpd.GeoSeries([Point(0, 0)], index=["S"], crs="EPSG:32648")
    >>> areas = service_areas(net, fac, [3, 12], access_speed_kmh=6,
    ...     snap_to="node")
    >>> areas[["facility", "threshold_min"]].values.tolist()
    [['S', 3], ['S', 12], ['all', 3], ['all', 12]]
    >>> round(areas.geometry.iloc[0].bounds[2])  # 3 min walk: 300 m
    300
    """
    _check_direction(direction)
    thresholds = sorted(float(t) for t in thresholds_min)
    fac = network.snap(
        facilities,
        max_snap_m=max_snap_m,
        access_speed_kmh=access_speed_kmh,
        to=snap_to,
        label="facilities",
        stacklevel=3,
    )
    graph, ids = _source_graph(network, fac, direction)
    live = fac["connected"].to_numpy()
    n = network.n_nodes
    speed_m_min = access_speed_kmh * 1000.0 / 60.0
    limit = thresholds[-1] if thresholds else 0.0

    rows: list[dict[str, Any]] = []
    groups: list[tuple[Any, IntArray]] = []
    if per_facility:
        groups = [
            (label, ids[[k]]) for k, label in enumerate(facilities.index) if live[k]
        ]
    if live.any():
        groups.append(("all", ids[live]))
    for label, sources in groups:
        dist = csgraph.dijkstra(
            graph, directed=True, indices=sources, min_only=True, limit=limit
        )[:n]
        for threshold in thresholds:
            shape = _reach_polygon(network, dist, threshold, speed_m_min, max_snap_m)
            rows.append(
                {"facility": label, "threshold_min": threshold, "geometry": shape}
            )
    out = gpd.GeoDataFrame(
        rows,
        columns=["facility", "threshold_min", "geometry"],
        geometry="geometry",
        crs=network.crs,
    )
    out["area_km2"] = out.geometry.area / 1e6
    out["threshold_min"] = out["threshold_min"].map(
        lambda t: int(t) if t == int(t) else t
    )
    return out


def _reach_polygon(
    network: RoadNetwork,
    dist: FloatArray,
    threshold: float,
    speed_m_min: float,
    cap_m: float,
) -> shapely.Geometry:
    """Union of access discs at reached nodes and corridors on reached edges."""
    radius = np.minimum((threshold - dist) * speed_m_min, cap_m)
    reached = dist <= threshold
    if not reached.any():
        return shapely.Polygon()
    nodes = shapely.points(network.node_xy[reached])
    discs = shapely.buffer(nodes, np.maximum(radius[reached], 1.0), quad_segs=8)
    u = network.edges["u"].to_numpy()
    v = network.edges["v"].to_numpy()
    both = reached[u] & reached[v]
    width = np.maximum(np.minimum(radius[u[both]], radius[v[both]]), 1.0)
    corridors = shapely.buffer(network.edges.geometry.values[both], width, quad_segs=4)
    return shapely.union_all(np.concatenate([np.asarray(discs), np.asarray(corridors)]))


def coverage(
    population: pd.DataFrame,
    times: pd.Series,
    thresholds_min: Sequence[float],
    *,
    by: str | None = None,
    population_field: str = "population",
) -> pd.DataFrame:
    """Population reached within each time threshold, per group.

    Parameters
    ----------
    population : pandas.DataFrame
        One row per origin (cell, village) with ``population_field`` and,
        if ``by`` is given, the group column (e.g. ``adcode``).
    times : pandas.Series
        Travel time per origin in minutes, aligned on the index (``inf``
        or missing counts as not reached).
    thresholds_min : sequence of float
        Limits in minutes.
    by : str, optional
        Group column; one total row (``"all"``) when omitted.
    population_field : str, default "population"
        Column with the people per origin.

    Returns
    -------
    pandas.DataFrame
        One row per group: ``population``, and per threshold ``t``
        ``pop_within_<t>`` and ``share_within_<t>`` (share 0 to 1).

    Examples
    --------
    >>> import pandas as pd
    >>> cells = pd.DataFrame({"population": [100, 50, 10],
    ...                       "adcode": ["a", "a", "b"]})
    >>> t = pd.Series([5.0, 40.0, float("inf")])
    >>> cov = coverage(cells, t, [30], by="adcode")
    >>> cov["pop_within_30"].to_dict(), cov["share_within_30"].round(3).to_dict()
    ({'a': 100, 'b': 0}, {'a': 0.667, 'b': 0.0})
    """
    if population_field not in population.columns:
        raise FieldError(
            "the population column is missing",
            field=population_field,
            fix=f"pick one of {list(population.columns)}",
        )
    if by is not None and by not in population.columns:
        raise FieldError(
            "the group column is missing", field=by, fix="pass by=None or add it"
        )
    t = pd.to_numeric(times.reindex(population.index), errors="coerce").fillna(np.inf)
    frame = pd.DataFrame({"population": population[population_field]})
    for threshold in thresholds_min:
        frame[f"pop_within_{threshold:g}"] = frame["population"].where(
            t <= threshold, 0
        )
    key = population[by] if by is not None else pd.Series("all", index=population.index)
    out = frame.groupby(key.rename(by or "group")).sum()
    for threshold in thresholds_min:
        total = out["population"].replace(0, np.nan)
        out[f"share_within_{threshold:g}"] = (
            out[f"pop_within_{threshold:g}"] / total
        ).fillna(0.0)
    return out


def uncovered(
    population: pd.DataFrame,
    times: pd.Series,
    threshold_min: float,
    *,
    where: pd.Series | None = None,
    population_field: str = "population",
) -> pd.DataFrame:
    """List the origins not reached within a time, most people first.

    Parameters
    ----------
    population : pandas.DataFrame
        One row per origin with ``population_field``.
    times : pandas.Series
        Minutes per origin, aligned on the index.
    threshold_min : float
        The limit.
    where : pandas.Series of bool, optional
        Restrict the list, e.g. ``grid["risk_class"] >= 4`` for high risk.
    population_field : str, default "population"
        Column with the people per origin.

    Returns
    -------
    pandas.DataFrame
        The rows of ``population`` that are not reached (and match
        ``where``), with a ``time_min`` column, sorted by population.

    Examples
    --------
    >>> import pandas as pd
    >>> cells = pd.DataFrame({"population": [100, 50, 10]})
    >>> t = pd.Series([5.0, 40.0, float("inf")])
    >>> uncovered(cells, t, 30).index.tolist()
    [1, 2]
    >>> uncovered(cells, t, 30, where=pd.Series([True, False, True])).index.tolist()
    [2]
    """
    if population_field not in population.columns:
        raise FieldError(
            "the population column is missing",
            field=population_field,
            fix=f"pick one of {list(population.columns)}",
        )
    t = pd.to_numeric(times.reindex(population.index), errors="coerce").fillna(np.inf)
    out = population.assign(time_min=t)
    keep = (t > threshold_min).to_numpy(copy=True)
    if where is not None:
        keep &= where.reindex(population.index).fillna(False).to_numpy(bool)
    out = out[keep]
    return out.sort_values(population_field, ascending=False, kind="stable")


# -- capacity ---------------------------------------------------------------


@dataclass
class Assignment:
    """Result of :func:`assign_capacity`.

    Attributes
    ----------
    origins : pandas.DataFrame
        Per origin: ``facility`` (main facility, ``NA`` if none),
        ``assigned``, ``unassigned`` and ``time_min`` (of the main facility).
    facilities : pandas.DataFrame
        Per facility: ``capacity``, ``assigned_population``, ``overload``
        (people above capacity, 0 if none) and ``overloaded``.
    flows : pandas.DataFrame
        ``origin``, ``facility``, ``people``, ``time_min`` of every
        non-zero assignment (an origin may be split under ``capacitated``).
    unassigned_population : float
        People assigned nowhere (unreachable, or no capacity left).
    """

    origins: pd.DataFrame
    facilities: pd.DataFrame
    flows: pd.DataFrame
    unassigned_population: float


def assign_capacity(
    times: pd.DataFrame,
    population: pd.Series,
    capacity: pd.Series,
    *,
    method: Literal["nearest", "capacitated"] = "nearest",
    max_time_min: float | None = None,
) -> Assignment:
    """Assign people to facilities, nearest or within capacity.

    ``nearest`` sends every origin to its fastest facility and reports the
    overloads. ``capacitated`` solves the transport problem as a linear
    programme (HiGHS through :func:`scipy.optimize.linprog`): first as many
    people as capacity and reach allow, then the least total person-minutes;
    origins may be split between facilities. With integer populations and
    capacities the solution is integral.

    Parameters
    ----------
    times : pandas.DataFrame
        Minutes, origins as rows and facilities as columns (see
        :func:`od_matrix`); ``inf`` where unreachable.
    population : pandas.Series
        People per origin, aligned on ``times.index``.
    capacity : pandas.Series
        People each facility holds (e.g. area / m² per person), aligned on
        ``times.columns``.
    method : {"nearest", "capacitated"}, default "nearest"
        Assignment rule.
    max_time_min : float, optional
        Pairs slower than this are not allowed.

    Returns
    -------
    Assignment

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"A": [10.0, 20.0], "B": [30.0, 25.0]},
    ...                  index=["x", "y"])
    >>> pop = pd.Series({"x": 80, "y": 50})
    >>> cap = pd.Series({"A": 100, "B": 100})
    >>> a = assign_capacity(t, pop, cap, method="capacitated")
    >>> a.facilities["assigned_population"].tolist()
    [100.0, 30.0]
    >>> a.flows.values.tolist()
    [['x', 'A', 80.0, 10.0], ['y', 'A', 20.0, 20.0], ['y', 'B', 30.0, 25.0]]
    """
    if method not in ("nearest", "capacitated"):
        raise NetworkError(
            f"method must be 'nearest' or 'capacitated', got {method!r}."
        )
    if times.shape[1] == 0:
        raise NetworkError(
            "times has no facility columns. Fix: pass at least one facility."
        )
    t = times.to_numpy(float)
    t = np.where(np.isnan(t), np.inf, t)
    if max_time_min is not None:
        t = np.where(t <= max_time_min, t, np.inf)
    pop = population.reindex(times.index).fillna(0.0).to_numpy(float)
    cap = capacity.reindex(times.columns).fillna(0.0).to_numpy(float)
    n_o, _n_f = t.shape
    oi, fi = np.nonzero(np.isfinite(t) & (pop[:, None] > 0))

    if method == "nearest" or len(oi) == 0:
        best = np.argmin(t, axis=1)
        ok = np.isfinite(t[np.arange(n_o), best]) & (pop > 0)
        flow_o, flow_f, people = np.flatnonzero(ok), best[ok], pop[ok]
    else:
        flow_o, flow_f, people = _solve_transport(t, pop, cap, oi, fi)

    return _assignment(times, t, pop, cap, flow_o, flow_f, people)


def _solve_transport(
    t: FloatArray, pop: FloatArray, cap: FloatArray, oi: IntArray, fi: IntArray
) -> tuple[IntArray, IntArray, FloatArray]:
    """Max-coverage, then min person-minutes transport LP with HiGHS."""
    n_o, n_f = t.shape
    k = len(oi)
    cost = t[oi, fi]
    # Unassigned people cost more than any route, so coverage comes first.
    penalty = (cost.max() + 1.0) * max(n_o, 1) * 10.0
    c = np.concatenate([cost, np.full(n_o, penalty)])
    a_eq = sparse.hstack(
        [
            sparse.csr_matrix((np.ones(k), (oi, np.arange(k))), shape=(n_o, k)),
            sparse.identity(n_o, format="csr"),
        ]
    ).tocsr()
    a_ub = sparse.hstack(
        [
            sparse.csr_matrix((np.ones(k), (fi, np.arange(k))), shape=(n_f, k)),
            sparse.csr_matrix((n_f, n_o)),
        ]
    ).tocsr()
    res = linprog(
        c, A_ub=a_ub, b_ub=cap, A_eq=a_eq, b_eq=pop, bounds=(0, None), method="highs"
    )
    if res.status != 0:
        raise NetworkError(f"the capacitated assignment failed: {res.message}")
    x = res.x[:k]
    keep = x > 1e-9
    return oi[keep], fi[keep], x[keep]


def _assignment(
    times: pd.DataFrame,
    t: FloatArray,
    pop: FloatArray,
    cap: FloatArray,
    flow_o: IntArray,
    flow_f: IntArray,
    people: FloatArray,
) -> Assignment:
    """Tabulate flows per origin and facility."""
    n_o, n_f = t.shape
    flows = pd.DataFrame(
        {
            "origin": times.index.to_numpy()[flow_o],
            "facility": times.columns.to_numpy()[flow_f],
            "people": people,
            "time_min": t[flow_o, flow_f],
        }
    )
    assigned = np.bincount(flow_o, weights=people, minlength=n_o)
    load = np.bincount(flow_f, weights=people, minlength=n_f)
    main = np.full(n_o, -1, dtype=np.int64)
    if len(flow_o):
        order = np.lexsort((-people, flow_o))
        first = np.ones(len(order), dtype=bool)
        first[1:] = flow_o[order][1:] != flow_o[order][:-1]
        main[flow_o[order][first]] = flow_f[order][first]
    origins = pd.DataFrame(
        {
            "facility": _pick(times.columns, main, times.index),
            "assigned": assigned,
            "unassigned": np.maximum(pop - assigned, 0.0),
            "time_min": np.where(
                main >= 0, t[np.arange(n_o), np.maximum(main, 0)], np.inf
            ),
        },
        index=times.index,
    )
    overload = np.maximum(load - cap, 0.0)
    facilities = pd.DataFrame(
        {
            "capacity": cap,
            "assigned_population": load,
            "overload": overload,
            "overloaded": overload > 1e-9,
        },
        index=times.columns,
    )
    unassigned = float(origins["unassigned"].sum())
    if unassigned > 0:
        logger.info("%.0f people are assigned to no facility", unassigned)
    return Assignment(origins, facilities, flows, unassigned)


# -- disruption and what-if -------------------------------------------------


def disrupt(
    network: RoadNetwork,
    hazard: gpd.GeoDataFrame | str | Path,
    *,
    threshold: float,
    column: str | None = None,
    mode: Literal["close", "slow"] = "close",
    factor: float = 3.0,
    spacing_m: float = 100.0,
) -> RoadNetwork:
    """Close or slow the road pieces that cross high hazard.

    Each edge is cut into equal pieces no longer than ``spacing_m``; the
    hazard is read at the middle of every piece (the highest value of the
    grid polygons there, or the raster cell). Pieces at or above
    ``threshold`` are hazardous. An edge whose pieces differ is split at
    the boundaries, with new nodes, so the safe parts stay usable and
    points can still snap to them. Hazardous parts are closed (both
    directions; they keep a ``state`` of ``"closed"`` in the edge table but
    carry no traffic and take no snapped points) or their time is
    multiplied by ``factor`` (``"slowed"``).

    Parameters
    ----------
    network : RoadNetwork
        The intact network (left unchanged).
    hazard : geopandas.GeoDataFrame or path
        Polygons (e.g. the analysis grid) with the hazard in ``column``, or
        a single-band raster file.
    threshold : float
        Hazard value from which a road piece is affected.
    column : str, optional
        Hazard column of a polygon layer (required for one).
    mode : {"close", "slow"}, default "close"
        What happens to affected pieces.
    factor : float, default 3
        Time multiplier for ``mode="slow"``.
    spacing_m : float, default 100
        Longest piece read as one hazard value; use at most half the
        hazard cell size.

    Returns
    -------
    RoadNetwork
        A new network whose edge table has a ``state`` column (``open``,
        ``slowed``, ``closed``).

    Examples
    --------
    >>> import numpy as np, geopandas as gpd
    >>> from shapely import box
    >>> net = RoadNetwork.from_edges(np.array([[0, 0], [1000, 0]], float),
    ...     np.array([0]), np.array([1]), np.array([1000.0]), crs="EPSG:32648")
    >>> flood = gpd.GeoDataFrame({"h_flood": [0.9, 0.1]},
    ...     geometry=[box(0, -50, 500, 50), box(500, -50, 1000, 50)],
    ...     crs="EPSG:32648")
    >>> cut = disrupt(net, flood, column="h_flood", threshold=0.5)
    >>> cut.edges[["u", "v", "length_m", "state"]].values.tolist()
    [[0, 2, 500.0, 'closed'], [2, 1, 500.0, 'open']]
    """
    if mode not in ("close", "slow"):
        raise NetworkError(f"mode must be 'close' or 'slow', got {mode!r}.")
    if mode == "slow" and not factor > 0:
        raise NetworkError(f"factor must be positive for mode='slow', got {factor}.")
    if not spacing_m > 0:
        raise NetworkError(f"spacing_m must be positive, got {spacing_m}.")
    edges = network.edges
    geoms = edges.geometry.values
    length = edges["length_m"].to_numpy(float)

    # Hazard at the middle of every piece.
    pieces = np.maximum(np.ceil(shapely.length(geoms) / spacing_m), 1).astype(np.int64)
    owner = np.repeat(np.arange(len(edges)), pieces)
    start = np.concatenate([[0], np.cumsum(pieces)[:-1]])
    rank = np.arange(len(owner)) - start[owner]
    mid = (rank + 0.5) / pieces[owner]
    points = shapely.line_interpolate_point(geoms[owner], mid, normalized=True)
    values = _hazard_at(np.asarray(points), network, hazard, column)
    flag = values >= threshold

    # Split the affected edges run by run; the others stay as they are.
    bad_per_edge = np.bincount(owner, weights=flag, minlength=len(edges))
    affected = np.flatnonzero(bad_per_edge > 0)
    kept = edges.drop(index=affected)
    if "state" not in kept.columns:
        kept = kept.assign(state="open")
    kept = kept.assign(_order=kept.index.to_numpy(float))
    node_xy = [network.node_xy]
    next_node = network.n_nodes
    rows: list[dict[str, Any]] = []
    cols = [c for c in edges.columns if c != "geometry"]
    records = edges.iloc[affected][cols].to_dict("records")
    for i, rec in zip(affected, records, strict=True):
        f = flag[start[i] : start[i] + pieces[i]]
        cuts = np.flatnonzero(f[1:] != f[:-1]) + 1
        run_start = np.concatenate([[0], cuts])
        bounds = np.concatenate([run_start, [pieces[i]]]) / pieces[i]
        ends = [int(rec["u"])]
        for b in bounds[1:-1]:
            pt = shapely.line_interpolate_point(geoms[i], b, normalized=True)
            node_xy.append(np.array([[pt.x, pt.y]]))
            ends.append(next_node)
            next_node += 1
        ends.append(int(rec["v"]))
        for k in range(len(bounds) - 1):
            a, b = float(bounds[k]), float(bounds[k + 1])
            hazardous = bool(f[run_start[k]])
            piece = _piece(rec, a, b, length[i], hazardous, mode, factor)
            piece.update(u=ends[k], v=ends[k + 1], _order=i + a)
            piece["geometry"] = substring(geoms[i], a, b, normalized=True)
            rows.append(piece)
    if rows:
        split = gpd.GeoDataFrame(
            rows, columns=list(kept.columns), geometry="geometry", crs=network.crs
        )
        out = pd.concat([kept, split], ignore_index=True)
    else:
        # nothing crosses the hazard: an empty frame would turn every
        # column to object dtype in the concatenation
        out = kept.copy()
    out = out.sort_values("_order", kind="stable").drop(columns="_order")
    out = gpd.GeoDataFrame(
        out.reset_index(drop=True), geometry="geometry", crs=network.crs
    )
    logger.info("disruption: %s road pieces", out["state"].value_counts().to_dict())
    return RoadNetwork(np.vstack(node_xy), out, network.crs)


def _piece(
    rec: dict[str, Any],
    a: float,
    b: float,
    length: float,
    hazardous: bool,
    mode: str,
    factor: float,
) -> dict[str, Any]:
    """One run of an edge from fraction ``a`` to ``b``."""
    share = b - a
    piece = dict(rec)
    piece["length_m"] = length * share
    scale = share * (factor if hazardous and mode == "slow" else 1.0)
    for key in ("time_fw_min", "time_bw_min"):
        piece[key] = np.inf if hazardous and mode == "close" else rec[key] * scale
    before = rec.get("state", "open")
    if hazardous and before != "closed":
        piece["state"] = "closed" if mode == "close" else "slowed"
    else:
        piece["state"] = before
    return piece


def _hazard_at(
    points: NDArray[np.object_],
    network: RoadNetwork,
    hazard: gpd.GeoDataFrame | str | Path,
    column: str | None,
) -> FloatArray:
    """Hazard value at points in the network CRS (``-inf`` where none)."""
    values = np.full(len(points), -np.inf)
    if isinstance(hazard, gpd.GeoDataFrame):
        if column is None or column not in hazard.columns:
            raise FieldError(
                "the hazard column is missing or not given",
                layer="hazard",
                field=column,
                fix=f"pass column= one of {list(hazard.columns)}",
            )
        if hazard.crs is None:
            raise LayerError("the hazard layer has no CRS", layer="hazard")
        layer = hazard.to_crs(network.crs)
        tree = shapely.STRtree(layer.geometry.values)
        pt, poly = tree.query(points, predicate="intersects")
        given = pd.to_numeric(layer[column], errors="coerce").to_numpy(float)
        hit = np.where(np.isnan(given[poly]), -np.inf, given[poly])
        np.maximum.at(values, pt, hit)
        return values

    import rasterio
    from rasterio.transform import rowcol

    with rasterio.open(hazard) as src:
        band = src.read(1, masked=True).astype(float).filled(np.nan)
        x = shapely.get_x(points)
        y = shapely.get_y(points)
        if src.crs is not None and CRS.from_user_input(src.crs) != network.crs:
            to_raster = Transformer.from_crs(network.crs, src.crs, always_xy=True)
            x, y = to_raster.transform(x, y)
        r, c = rowcol(src.transform, x, y)
    r, c = np.asarray(r), np.asarray(c)
    inside = (r >= 0) & (r < band.shape[0]) & (c >= 0) & (c < band.shape[1])
    values[inside] = band[r[inside], c[inside]]
    return np.where(np.isnan(values), -np.inf, values)


def close_edges(network: RoadNetwork, area: Points) -> RoadNetwork:
    """Close every road piece touching an area, for a what-if run.

    Parameters
    ----------
    network : RoadNetwork
        The network (left unchanged).
    area : geopandas.GeoDataFrame or GeoSeries
        Polygons, lines or points with a CRS (buffer points first).

    Returns
    -------
    RoadNetwork
        A copy whose edges touching ``area`` are closed both ways.

    Examples
    --------
    >>> import numpy as np, geopandas as gpd
    >>> from shapely import box
    >>> net = RoadNetwork.from_edges(np.array([[0, 0], [1000, 0]], float),
    ...     np.array([0]), np.array([1]), np.array([1000.0]), crs="EPSG:32648")
    >>> shut = close_edges(net, gpd.GeoSeries([box(400, -10, 600, 10)],
    ...     crs="EPSG:32648"))
    >>> shut.matrix.nnz, shut.edges["state"].tolist()
    (0, ['closed'])
    """
    if area.crs is None:
        raise LayerError("the area has no CRS", layer="area")
    shapes = area.to_crs(network.crs).geometry.values
    tree = shapely.STRtree(shapes)
    hit = np.unique(
        tree.query(network.edges.geometry.values, predicate="intersects")[0]
    )
    edges = network.edges.copy()
    if "state" not in edges.columns:
        edges["state"] = "open"
    edges.loc[hit, ["time_fw_min", "time_bw_min"]] = np.inf
    edges.loc[hit, "state"] = "closed"
    logger.info("closed %d road pieces by hand", len(hit))
    return RoadNetwork(network.node_xy.copy(), edges, network.crs)


@dataclass
class DisruptionImpact:
    """Result of :func:`disruption_impact`.

    Attributes
    ----------
    origins : pandas.DataFrame
        Per origin: ``time_before``, ``time_after``, ``facility_before``,
        ``facility_after``, ``delay_min`` and ``cut_off`` (reached a
        facility before, none after).
    summary : pandas.DataFrame
        Per threshold: ``before``, ``after`` and ``lost`` (origins, or
        people if a population was given).
    cut_off : pandas.Index
        Origins cut off from every facility by the disruption.
    """

    origins: pd.DataFrame
    summary: pd.DataFrame
    cut_off: pd.Index


def disruption_impact(
    before: RoadNetwork,
    after: RoadNetwork,
    origins: Points,
    facilities: Points,
    *,
    thresholds_min: Sequence[float] = (15.0, 30.0, 60.0),
    population: pd.Series | None = None,
    **options: Any,
) -> DisruptionImpact:
    """Compare nearest-facility reach before and after a disruption.

    Parameters
    ----------
    before, after : RoadNetwork
        Intact and disrupted networks (e.g. from :func:`disrupt`).
    origins, facilities : geopandas.GeoDataFrame or GeoSeries
        As in :func:`nearest_facility`.
    thresholds_min : sequence of float, default (15, 30, 60)
        Limits for the summary.
    population : pandas.Series, optional
        People per origin; the summary counts origins when omitted.
    **options
        Passed to :func:`nearest_facility` (direction, snapping).

    Returns
    -------
    DisruptionImpact

    Examples
    --------
    >>> import numpy as np, geopandas as gpd
    >>> from shapely import Point, box
    >>> xy = np.array([[0, 0], [1000, 0], [2000, 0]], float)
    >>> net = RoadNetwork.from_edges(xy, np.array([0, 1]), np.array([1, 2]),
    ...     np.array([1000.0, 1000.0]), crs="EPSG:32648")
    >>> cut = close_edges(net, gpd.GeoSeries([box(1400, -5, 1600, 5)],
    ...     crs="EPSG:32648"))
    >>> pts = gpd.GeoSeries([Point(1000, 0), Point(2000, 0)], crs="EPSG:32648")
    >>> fac = gpd.GeoSeries([Point(0, 0)], crs="EPSG:32648")
    >>> disruption_impact(net, cut, pts, fac, snap_to="node").cut_off.tolist()
    [1]
    """
    was = nearest_facility(before, origins, facilities, **options)
    now = nearest_facility(after, origins, facilities, **options)
    table = pd.DataFrame(
        {
            "time_before": was["time_min"],
            "time_after": now["time_min"],
            "facility_before": was["facility"],
            "facility_after": now["facility"],
        }
    )
    table["delay_min"] = table["time_after"] - table["time_before"]
    table["cut_off"] = np.isfinite(table["time_before"]) & np.isinf(table["time_after"])
    weight = (
        pd.Series(1.0, index=table.index)
        if population is None
        else population.reindex(table.index).fillna(0.0).astype(float)
    )
    rows = []
    for t in thresholds_min:
        b = float(weight[table["time_before"] <= t].sum())
        a = float(weight[table["time_after"] <= t].sum())
        rows.append({"threshold_min": t, "before": b, "after": a, "lost": b - a})
    summary = pd.DataFrame(rows).set_index("threshold_min")
    cut = table.index[table["cut_off"].to_numpy()]
    if len(cut):
        logger.warning("%d origins are cut off from every facility", len(cut))
    return DisruptionImpact(table, summary, cut)
