"""Where to build: candidate sites and location models for shelters and depots.

The planner's questions, in the order this module answers them:

1. Which places could host a shelter or a depot? :func:`candidate_sites`
   screens a point layer (schools, sports grounds, township seats) or the
   analysis grid's cells against :class:`SiteRules`: not in high flood or
   geological hazard, not too steep, at least 1,000 m from major fire and
   explosion hazards (GB 50413-2007 §8.2.7) and close to a road.
2. How long from each populated cell to each candidate?
   :meth:`SitingProblem.from_network` runs the road searches of
   :func:`riskmap.reachability.od_matrix` in chunks and keeps only the
   pairs within a cutoff (and optionally the fastest few per cell), so the
   problem stays sparse. :meth:`SitingProblem.from_times` takes a ready
   matrix (small problems, tests).
3. Which sites to open? :func:`solve_lscp` (fewest sites so that all
   demand is within ``threshold_min``), :func:`solve_mclp` (best ``p``
   sites for the population covered, optionally risk-weighted) and
   :func:`solve_p_median` (least population-weighted travel time), each
   with a capacitated variant. Existing facilities stay open (fixed) and
   ``p`` counts the new sites added on top; ``each_unit`` adds the plan's
   rule that every county or township without a site gets one.
4. Does the plan hold? :func:`plan_check` checks that every township (or
   county) has a shelter and a depot, and that each shelter offers the
   norm's area per person for the people assigned to it.

:func:`propose_sites` strings the steps together for a run's grid and
facilities and returns a map layer of the chosen sites with the people
they serve and the coverage before and after.

The models follow spopt's formulations (``LSCP``, ``MCLP``, ``PMedian``
and their capacitated forms) but are written as sparse matrices and solved
with HiGHS (``highspy``, or :func:`scipy.optimize.milp` which bundles
HiGHS); the tests check both against spopt on small problems. spopt builds
dense models one Python object per matrix entry, which does not scale to
36,000 cells times thousands of candidates. Two exact reductions keep the
coverage models small: demand already covered by an existing facility
leaves the model, and cells with the same set of candidates within reach
merge into one row. The p-median uses each cell's ``k`` fastest
candidates and widens ``k`` where needed until the result is provably the
full model's optimum; cells never travel past their fastest existing
facility, and cells whose fastest site is an existing one leave the model.

Sizes on the Baise default (36,228 populated 1 km cells, 3,579 candidate
cells, 70 existing shelters, 60 min): the maximal covering model shrinks
to about 3,300 rows and 7,000 columns and solves in seconds to tens of
seconds; the p-median on every cell has some 400,000 rows and takes
minutes per round, so :func:`propose_sites` takes ``aggregate_m`` to
merge demand into coarser squares (see ``benchmarks/bench_siting.py``).

Unreachable demand (no site within the cutoff) is never an error: it stays
uncovered, is counted in the coverage and noted on the solution.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from riskmap import _siting_data as _data
from riskmap import _siting_models as models
from riskmap.errors import FieldError, RiskmapError
from riskmap.network import RoadNetwork
from riskmap.reachability import od_matrix

__all__ = [
    "PlanCheck",
    "SiteRules",
    "SitingProblem",
    "SitingResult",
    "SitingSolution",
    "candidate_sites",
    "demand_from_grid",
    "plan_check",
    "propose_sites",
    "site_table",
    "solve_lscp",
    "solve_mclp",
    "solve_p_median",
]

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
Direction = Literal["to_facility", "from_facility"]
Model = Literal["lscp", "mclp", "p_median"]

#: Facility kinds that count as shelters and as depots.
SHELTER_KINDS = ("shelter",)
DEPOT_KINDS = ("depot", "reserve_centre")


# -- candidate sites ----------------------------------------------------------


@dataclass(frozen=True)
class SiteRules:
    """Rules a candidate site must meet.

    Attributes
    ----------
    max_flood, max_geological : float, default 0.6
        Sites whose ``h_flood`` or ``h_geological`` index (0-1) reaches this
        value lie in high hazard and are rejected (0.6 is the lower edge of
        the top two of five equal classes).
    max_slope_deg : float, default 15
        Steepest acceptable mean slope (``slope_deg``) of the site.
    hazard_distance_m : float, default 1000
        Least distance from a major fire or explosion hazard
        (GB 50413-2007 §8.2.7).
    max_road_m : float, default 1000
        Farthest a site may lie from a road of the network.
    """

    max_flood: float = 0.6
    max_geological: float = 0.6
    max_slope_deg: float = 15.0
    hazard_distance_m: float = 1000.0
    max_road_m: float = 1000.0


def candidate_sites(
    sites: gpd.GeoDataFrame,
    *,
    network: RoadNetwork | None = None,
    grid: gpd.GeoDataFrame | None = None,
    major_hazards: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    rules: SiteRules | None = None,
    keep_rejected: bool = False,
) -> gpd.GeoDataFrame:
    """Screen candidate sites against the siting rules.

    ``sites`` is either a point layer or grid cells. Hazard and slope
    values come from the columns ``h_flood``, ``h_geological`` and
    ``slope_deg`` of ``sites``; where ``sites`` lacks them and ``grid`` is
    given, each site takes the values of the grid cell it lies in. A rule
    whose data is missing (no column, no grid, no network, no hazard
    layer) is skipped and logged. Distances are measured from the site's
    point (a cell's centre) in the network CRS, or in the local UTM zone.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        Candidate points, or grid cells (polygons), with a CRS.
    network : RoadNetwork, optional
        Roads for the ``max_road_m`` rule.
    grid : geopandas.GeoDataFrame, optional
        Cells with ``h_flood``, ``h_geological`` and ``slope_deg`` to
        sample for point candidates.
    major_hazards : geopandas.GeoDataFrame or GeoSeries, optional
        Major fire or explosion hazards (points or polygons: depots of
        fuel or explosives, chemical plants) for ``hazard_distance_m``.
    rules : SiteRules, optional
        The thresholds; :class:`SiteRules` defaults when omitted.
    keep_rejected : bool, default False
        Return every site with the reasons in ``rejected`` instead of the
        accepted sites only.

    Returns
    -------
    geopandas.GeoDataFrame
        The sites (same CRS and index) with ``road_m`` (distance to the
        nearest road, NaN without a network) and ``rejected`` (the failed
        rules joined by ``"; "``, empty when accepted).

    Raises
    ------
    LayerError
        If a layer has no CRS.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> sites = gpd.GeoDataFrame(
    ...     {"h_flood": [0.1, 0.8, 0.2], "h_geological": [0.2, 0.1, 0.1],
    ...      "slope_deg": [3.0, 2.0, 4.0]},
    ...     geometry=[Point(0, 0), Point(5000, 0), Point(0, 5000)],
    ...     crs="EPSG:32648")
    >>> plant = gpd.GeoSeries([Point(0, 5600)], crs="EPSG:32648")
    >>> out = candidate_sites(sites, major_hazards=plant, keep_rejected=True)
    >>> out["rejected"].tolist()
    ['', 'flood', 'major hazard within 1000 m']
    """
    rules = rules or SiteRules()
    _data.require_crs(sites, "sites")
    crs = network.crs if network is not None else _data.local_crs(sites)
    points = _data.site_points(sites).to_crs(crs)
    values = _data.hazard_values(sites, grid)
    reasons: list[tuple[str, NDArray[np.bool_]]] = []

    # Hazard and slope rules.
    for column, limit, label in (
        ("h_flood", rules.max_flood, "flood"),
        ("h_geological", rules.max_geological, "geological"),
        ("slope_deg", rules.max_slope_deg, "slope"),
    ):
        if column in values.columns:
            v = pd.to_numeric(values[column], errors="coerce").to_numpy(float)
            bad = v >= limit if label != "slope" else v > limit
            reasons.append((label, np.nan_to_num(bad, nan=False).astype(bool)))
        else:
            logger.info("no %s values: the %s rule is skipped", column, label)

    # Distance from major fire and explosion hazards.
    if major_hazards is not None and len(major_hazards):
        _data.require_crs(major_hazards, "major_hazards")
        tree = shapely.STRtree(major_hazards.to_crs(crs).geometry.values)
        near = tree.query(
            points.values, predicate="dwithin", distance=rules.hazard_distance_m
        )
        bad = np.zeros(len(sites), dtype=bool)
        bad[near[0]] = True
        reasons.append((f"major hazard within {rules.hazard_distance_m:g} m", bad))

    # Distance to the nearest road.
    road_m = np.full(len(sites), np.nan)
    if network is not None:
        tree = shapely.STRtree(network.edges.geometry.values)
        idx, dist = tree.query_nearest(
            points.values,
            max_distance=rules.max_road_m,
            return_distance=True,
            all_matches=False,
        )
        road_m[idx[0]] = dist
        reasons.append((f"no road within {rules.max_road_m:g} m", np.isnan(road_m)))
    else:
        logger.info("no network: the road-distance rule is skipped")

    out = sites.copy()
    out["road_m"] = road_m
    text = np.full(len(sites), "", dtype=object)
    for label, bad in reasons:
        text = np.where(bad, np.where(text == "", label, text + "; " + label), text)
    out["rejected"] = text
    accepted = int((text == "").sum())
    logger.info("%d of %d candidate sites meet the rules", accepted, len(sites))
    return out if keep_rejected else out.loc[text == ""]


# -- problems -----------------------------------------------------------------


@dataclass
class SitingProblem:
    """Demand, sites and the travel times between them.

    Build one with :meth:`from_times` or :meth:`from_network`.

    Attributes
    ----------
    demand : pandas.DataFrame
        One row per demand unit: ``weight`` (what the models count),
        ``population`` (people, for reports) and, when given, ``unit``.
    sites : pandas.DataFrame
        One row per site: ``fixed`` (an existing facility, kept open) and
        ``capacity`` (people it can serve; NaN if unknown). Candidate
        points keep their ``geometry`` when built from a layer.
    cutoff_min : float or None
        Pairs slower than this were not stored (None: all were).
    times_s : float
        Seconds spent on the road searches.
    """

    demand: pd.DataFrame
    sites: pd.DataFrame
    pairs: models.Pairs
    cutoff_min: float | None = None
    times_s: float = 0.0

    @classmethod
    def from_times(
        cls,
        times: pd.DataFrame,
        weight: pd.Series,
        *,
        fixed: Sequence[Any] = (),
        capacity: pd.Series | None = None,
        population: pd.Series | None = None,
    ) -> SitingProblem:
        """A problem from a travel-time matrix (demand rows, site columns).

        Parameters
        ----------
        times : pandas.DataFrame
            Minutes; ``inf`` or NaN where a site cannot be reached.
        weight : pandas.Series
            Demand weight per row of ``times`` (population, or population
            times a risk factor).
        fixed : sequence of labels, optional
            Columns that are existing facilities.
        capacity : pandas.Series, optional
            People each site can serve, by column label.
        population : pandas.Series, optional
            People per row for reports; ``weight`` when omitted.

        Returns
        -------
        SitingProblem

        Examples
        --------
        >>> import pandas as pd
        >>> t = pd.DataFrame({"A": [5.0, 50.0], "B": [40.0, 8.0]},
        ...                  index=["x", "y"])
        >>> prob = SitingProblem.from_times(t, pd.Series({"x": 10, "y": 20}))
        >>> prob.n_pairs, list(prob.sites.index)
        (4, ['A', 'B'])
        """
        t = times.to_numpy(float)
        t = np.where(np.isnan(t), np.inf, t)
        rows, cols = np.nonzero(np.isfinite(t))
        pairs = models.Pairs.build(rows, cols, t[rows, cols], *t.shape)
        demand = _data.demand_frame(times.index, weight, population)
        sites = _data.site_frame(times.columns, fixed, capacity)
        return cls(demand, sites, pairs)

    @classmethod
    def from_network(
        cls,
        network: RoadNetwork,
        demand: gpd.GeoDataFrame,
        sites: gpd.GeoDataFrame,
        *,
        cutoff_min: float,
        weight_field: str = "population",
        population_field: str = "population",
        fixed_field: str | None = "fixed",
        capacity_field: str | None = "capacity",
        unit_field: str | None = None,
        max_sites_per_demand: int | None = None,
        direction: Direction = "to_facility",
        max_snap_m: float = 30000.0,
        access_speed_kmh: float = 15.0,
        chunk_mb: float = 200.0,
    ) -> SitingProblem:
        """A problem from road travel times, kept sparse.

        The searches of :func:`riskmap.reachability.od_matrix` run on
        chunks of sites, each with the ``cutoff_min`` limit; only pairs
        within the cutoff are stored, and with ``max_sites_per_demand``
        only that many fastest sites per demand unit. Demand units with no
        weight are kept (they count in reports) but never enter a model.

        Parameters
        ----------
        network : RoadNetwork
            The road graph.
        demand : geopandas.GeoDataFrame
            Demand points or cells with ``weight_field``.
        sites : geopandas.GeoDataFrame
            Candidate and existing sites (points, or polygons).
        cutoff_min : float
            Longest trip stored, minutes: the coverage time for
            :func:`solve_lscp` and :func:`solve_mclp`, longer for
            :func:`solve_p_median`.
        weight_field, population_field : str, default "population"
            Demand columns with the model weight and the people.
        fixed_field : str or None, default "fixed"
            Boolean site column marking existing facilities.
        capacity_field : str or None, default "capacity"
            Site column with the people each site can serve.
        unit_field : str, optional
            Demand column with the county or township code, for reports.
        max_sites_per_demand : int, optional
            Keep only this many fastest sites per demand unit, and its
            fastest fixed site.
        direction : {"to_facility", "from_facility"}, default "to_facility"
            Evacuation to a shelter, or relief from a depot.
        max_snap_m, access_speed_kmh : float
            Access legs, as in :func:`riskmap.reachability.od_matrix`;
            the defaults are those of the ``[network]`` configuration.
        chunk_mb : float, default 200
            Memory for one chunk of the dense search result.

        Returns
        -------
        SitingProblem
        """
        _data.require_crs(demand, "demand")
        _data.require_crs(sites, "sites")
        _data.require_field(demand, weight_field, "demand")
        started = time.perf_counter()
        d_pts = _data.site_points(demand)
        s_pts = _data.site_points(sites)
        n_d, n_s = len(demand), len(sites)
        chunk = max(1, int(chunk_mb * 1e6 // (8 * max(n_d, 1))))
        fixed = (
            sites[fixed_field].astype(bool).to_numpy()
            if fixed_field is not None and fixed_field in sites.columns
            else np.zeros(n_s, dtype=bool)
        )
        kept = _data.Fastest(n_d, max_sites_per_demand, fixed)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for first in range(0, n_s, chunk):
                block = od_matrix(
                    network,
                    d_pts,
                    s_pts.iloc[first : first + chunk],
                    direction=direction,
                    max_snap_m=max_snap_m,
                    access_speed_kmh=access_speed_kmh,
                    cutoff_min=cutoff_min,
                ).to_numpy(float)
                block = np.where(block <= cutoff_min, block, np.inf)
                kept.add(block, first)
                logger.debug("searched sites %d-%d of %d", first, first + chunk, n_s)
        # Each chunk repeats the same snapping warnings: give them once.
        for message, category in dict.fromkeys(
            (str(w.message), w.category) for w in caught
        ):
            warnings.warn(message, category, stacklevel=2)
        pairs = models.Pairs.build(*kept.arrays(), n_d, n_s)
        population = (
            demand[population_field] if population_field in demand.columns else None
        )
        table = _data.demand_frame(demand.index, demand[weight_field], population)
        if unit_field is not None:
            _data.require_field(demand, unit_field, "demand")
            table["unit"] = demand[unit_field].to_numpy()

        capacity = (
            sites[capacity_field]
            if capacity_field is not None and capacity_field in sites.columns
            else None
        )
        site_table = _data.site_frame(sites.index, sites.index[fixed], capacity)
        other = sites.drop(
            columns=[sites.geometry.name, *site_table.columns], errors="ignore"
        )
        site_table = gpd.GeoDataFrame(
            pd.concat([site_table, pd.DataFrame(other)], axis=1),
            geometry=s_pts,
            crs=s_pts.crs,
        )
        elapsed = time.perf_counter() - started
        logger.info(
            "travel times: %d demand units x %d sites, %d pairs within %g min "
            "in %.1f s",
            n_d,
            n_s,
            len(pairs.row),
            cutoff_min,
            elapsed,
        )
        return cls(table, site_table, pairs, float(cutoff_min), elapsed)

    @property
    def n_pairs(self) -> int:
        """Number of stored demand-site pairs."""
        return len(self.pairs.row)

    def times(self) -> pd.DataFrame:
        """The stored pairs as a long table: ``demand``, ``site``, ``time_min``."""
        return pd.DataFrame(
            {
                "demand": self.demand.index.to_numpy()[self.pairs.row],
                "site": self.sites.index.to_numpy()[self.pairs.col],
                "time_min": self.pairs.time,
            }
        )


# -- solutions ----------------------------------------------------------------


@dataclass
class SitingSolution:
    """The sites a model opens, and what they serve.

    Attributes
    ----------
    model : str
        ``"lscp"``, ``"mclp"`` or ``"p_median"`` (``"c"`` prefixed when
        capacitated).
    open : pandas.Series
        Bool per site: open (fixed or chosen).
    new_sites : pandas.Index
        Labels of the chosen new sites.
    objective : float
        The model's objective as spopt states it: number of open sites
        (LSCP, fixed included), weight covered (MCLP, fixed coverage
        included) or weighted minutes (p-median).
    assignment : pandas.DataFrame
        ``demand``, ``site``, ``share`` of the demand unit and
        ``time_min``: the model's flows when capacitated, else each unit
        to its fastest open site among the stored pairs.
    served : pandas.DataFrame
        Per open site: ``fixed``, ``capacity``, ``served_population``,
        ``served_weight`` and ``mean_time_min``.
    coverage : dict of str to float
        With a threshold: population ``share_before`` (fixed sites only)
        and ``share_after`` within it, and the counts. Measured on the
        stored pairs: exact when the problem kept every pair within the
        threshold (coverage models), a lower bound when it kept only the
        fastest few sites per unit.
    status : str
        The solver's final status.
    gap : float
        Relative MIP gap (0 when solved to optimality).
    build_s, solve_s : float
        Seconds to build the model(s) and to solve them.
    rounds : int
        Models solved (p-median widening rounds).
    notes : list of str
        Caveats found while solving.
    """

    model: str
    open: pd.Series
    new_sites: pd.Index
    objective: float
    assignment: pd.DataFrame
    served: pd.DataFrame
    coverage: dict[str, float]
    status: str
    gap: float
    build_s: float
    solve_s: float
    rounds: int = 1
    notes: list[str] = field(default_factory=list)


def _capacity(problem: SitingProblem, capacitated: bool) -> FloatArray | None:
    if not capacitated:
        return None
    cap = problem.sites["capacity"].to_numpy(float)
    if np.isnan(cap).any():
        missing = problem.sites.index[np.isnan(cap)][:5].tolist()
        raise FieldError(
            f"sites {missing} have no capacity",
            layer="sites",
            field="capacity",
            fix="give every site a capacity in people, or solve uncapacitated",
        )
    return cap


def _solution(
    problem: SitingProblem,
    outcome: models.Outcome,
    model: str,
    threshold_min: float | None,
    capacitated: bool,
) -> SitingSolution:
    """Tabulate an outcome: open sites, flows, served people, coverage."""
    sites = problem.sites
    is_open = pd.Series(outcome.open, index=sites.index, name="open")
    new = sites.index[outcome.open & ~sites["fixed"].to_numpy()]
    pairs = problem.pairs
    if capacitated:
        fr, fc, fs = outcome.flow_row, outcome.flow_col, outcome.flow_share
        ft = models.pair_time(pairs, fr, fc)
    else:
        fr, fc, fs, ft = models.nearest_open(pairs, outcome.open)
    assignment = pd.DataFrame(
        {
            "demand": problem.demand.index.to_numpy()[fr],
            "site": sites.index.to_numpy()[fc],
            "share": fs,
            "time_min": ft,
        }
    )
    pop = problem.demand["population"].to_numpy(float)
    w = problem.demand["weight"].to_numpy(float)
    n_s = len(sites)
    served_pop = np.bincount(fc, weights=pop[fr] * fs, minlength=n_s)
    served_w = np.bincount(fc, weights=w[fr] * fs, minlength=n_s)
    pop_time = np.bincount(fc, weights=pop[fr] * fs * ft, minlength=n_s)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_t = np.where(served_pop > 0, pop_time / served_pop, np.nan)
    served = pd.DataFrame(
        {
            "fixed": sites["fixed"].to_numpy(),
            "capacity": sites["capacity"].to_numpy(),
            "served_population": served_pop,
            "served_weight": served_w,
            "mean_time_min": mean_t,
        },
        index=sites.index,
    ).loc[outcome.open]
    coverage = _coverage(problem, outcome.open, threshold_min) if threshold_min else {}
    for note in outcome.notes:
        logger.warning("%s: %s", model, note)
    return SitingSolution(
        model=("c" if capacitated else "") + model,
        open=is_open,
        new_sites=new,
        objective=float(outcome.objective),
        assignment=assignment,
        served=served,
        coverage=coverage,
        status=outcome.status,
        gap=outcome.gap,
        build_s=outcome.build_s,
        solve_s=outcome.solve_s,
        rounds=outcome.rounds,
        notes=list(outcome.notes),
    )


def _coverage(
    problem: SitingProblem, is_open: NDArray[np.bool_], threshold_min: float
) -> dict[str, float]:
    """Population within the threshold of the fixed and of the open sites."""
    table = _coverage_table(problem, is_open, threshold_min)
    total: FloatArray = np.asarray(table.loc["all"], dtype=float)
    out = {"threshold_min": float(threshold_min)}
    for i, column in enumerate(table.columns):
        out[str(column)] = float(total[i])
    return out


def _unit_codes(
    problem: SitingProblem, each_unit: pd.Series | None
) -> NDArray[np.int64] | None:
    """Integer unit of every site (-1 for none), or None without the rule."""
    if each_unit is None:
        return None
    codes, _ = pd.factorize(each_unit.reindex(problem.sites.index))
    return np.asarray(codes, dtype=np.int64)


def _check_threshold(problem: SitingProblem, threshold_min: float) -> None:
    if threshold_min <= 0:
        raise RiskmapError(
            f"threshold_min must be positive, got {threshold_min}. "
            "Fix: pass the coverage time in minutes, e.g. 60."
        )
    if problem.cutoff_min is not None and threshold_min > problem.cutoff_min:
        raise RiskmapError(
            f"threshold_min={threshold_min:g} exceeds the problem's cutoff of "
            f"{problem.cutoff_min:g} min, so some covering pairs were not "
            "stored. Fix: rebuild the problem with "
            f"cutoff_min >= {threshold_min:g}."
        )


def solve_lscp(
    problem: SitingProblem,
    threshold_min: float,
    *,
    capacitated: bool = False,
    each_unit: pd.Series | None = None,
    time_limit_s: float | None = None,
    mip_gap: float = 0.0,
) -> SitingSolution:
    """Set covering: the fewest new sites so all demand is within reach.

    Demand units that no site reaches within ``threshold_min`` cannot be
    covered; they are left out and a warning note gives their count.
    With ``capacitated=True`` each unit's people must also fit into the
    capacity of the open sites within reach (they may be split), as in
    spopt's capacitated LSCP.

    Parameters
    ----------
    problem : SitingProblem
        Demand, sites and travel times.
    threshold_min : float
        Coverage time, minutes.
    capacitated : bool, default False
        Respect the sites' ``capacity``.
    each_unit : pandas.Series, optional
        Unit (county or township) of each site, by site label: every unit
        without a fixed site gets at least one new site, the plan's rule
        of one shelter per township. Sites without a unit are free.
    time_limit_s : float, optional
        Stop the solver after this many seconds (the best solution found
        is returned, with its gap).
    mip_gap : float, default 0
        Relative optimality gap at which the solver may stop.

    Returns
    -------
    SitingSolution

    Raises
    ------
    RiskmapError
        If the model has no feasible solution (capacity too small).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"A": [5.0, 50.0, 9.0], "B": [40.0, 8.0, 60.0],
    ...                   "C": [9.0, 60.0, 60.0]}, index=["x", "y", "z"])
    >>> prob = SitingProblem.from_times(t, pd.Series({"x": 1, "y": 1, "z": 1}))
    >>> sol = solve_lscp(prob, 10)
    >>> sol.objective, list(sol.new_sites)
    (2.0, ['A', 'B'])
    """
    _check_threshold(problem, threshold_min)
    outcome = models.cover(
        problem.pairs.within(threshold_min),
        problem.demand["weight"].to_numpy(float),
        problem.sites["fixed"].to_numpy(),
        p=None,
        capacity=_capacity(problem, capacitated),
        unit=_unit_codes(problem, each_unit),
        time_limit_s=time_limit_s,
        mip_gap=mip_gap,
    )
    return _solution(problem, outcome, "lscp", threshold_min, capacitated)


def solve_mclp(
    problem: SitingProblem,
    p: int,
    threshold_min: float,
    *,
    capacitated: bool = False,
    each_unit: pd.Series | None = None,
    time_limit_s: float | None = None,
    mip_gap: float = 0.0,
) -> SitingSolution:
    """Maximal covering: the ``p`` new sites that cover the most weight.

    The weight is the demand's ``weight`` column: population, or
    population raised by risk (see :func:`propose_sites`). With
    ``capacitated=True`` covered people must fit into the capacity of the
    sites that cover them.

    Parameters
    ----------
    problem : SitingProblem
        Demand, sites and travel times.
    p : int
        New sites to open, on top of the fixed ones.
    threshold_min : float
        Coverage time, minutes.
    capacitated : bool, default False
        Respect the sites' ``capacity``.
    each_unit : pandas.Series, optional
        One open site per unit, as in :func:`solve_lscp`.
    time_limit_s, mip_gap
        As in :func:`solve_lscp`.

    Returns
    -------
    SitingSolution

    Raises
    ------
    RiskmapError
        If ``p`` exceeds the number of candidate sites.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"A": [5.0, 50.0, 9.0], "B": [40.0, 8.0, 9.0],
    ...                   "C": [9.0, 9.0, 60.0]}, index=["x", "y", "z"])
    >>> w = pd.Series({"x": 10, "y": 20, "z": 40})
    >>> sol = solve_mclp(SitingProblem.from_times(t, w), 1, 10)
    >>> sol.objective, list(sol.new_sites), sol.coverage["share_after"]
    (60.0, ['B'], 0.8571428571428571)
    """
    _check_threshold(problem, threshold_min)
    outcome = models.cover(
        problem.pairs.within(threshold_min),
        problem.demand["weight"].to_numpy(float),
        problem.sites["fixed"].to_numpy(),
        p=int(p),
        capacity=_capacity(problem, capacitated),
        unit=_unit_codes(problem, each_unit),
        time_limit_s=time_limit_s,
        mip_gap=mip_gap,
    )
    return _solution(problem, outcome, "mclp", threshold_min, capacitated)


def solve_p_median(
    problem: SitingProblem,
    p: int,
    *,
    k: int = 10,
    capacitated: bool = False,
    single_source: bool = False,
    each_unit: pd.Series | None = None,
    threshold_min: float | None = None,
    time_limit_s: float | None = None,
    mip_gap: float = 0.0,
) -> SitingSolution:
    """p-median: the ``p`` new sites with the least weighted travel time.

    Every demand unit is assigned to an open site; the objective is the
    sum of weight times minutes. Each unit first uses its ``k`` fastest
    sites (plus its fastest fixed site); where the optimum would need a
    site beyond them, ``k`` grows fourfold for those units and the model
    solved again, so the result equals the full model's optimum. A unit
    with no stored site open is counted at the problem's cutoff time (it
    is unreachable within the cutoff) and left unassigned.

    Parameters
    ----------
    problem : SitingProblem
        Demand, sites and travel times.
    p : int
        New sites to open, on top of the fixed ones.
    k : int, default 10
        Sites per demand unit in the first round.
    capacitated : bool, default False
        Respect the sites' ``capacity``.
    single_source : bool, default False
        With capacities, send each demand unit whole to one site (as
        spopt's capacitated p-median does) instead of splitting it; a
        harder model.
    each_unit : pandas.Series, optional
        One open site per unit, as in :func:`solve_lscp`.
    threshold_min : float, optional
        Report coverage before and after within this time.
    time_limit_s, mip_gap
        As in :func:`solve_lscp` (per round).

    Returns
    -------
    SitingSolution

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"A": [1.0, 9.0, 9.0], "B": [9.0, 1.0, 2.0]},
    ...                  index=["x", "y", "z"])
    >>> w = pd.Series({"x": 1, "y": 1, "z": 5})
    >>> sol = solve_p_median(SitingProblem.from_times(t, w), 1)
    >>> sol.objective, list(sol.new_sites)
    (20.0, ['B'])
    """
    if threshold_min is not None:
        _check_threshold(problem, threshold_min)
    outcome = models.p_median(
        problem.pairs,
        problem.demand["weight"].to_numpy(float),
        problem.sites["fixed"].to_numpy(),
        p=int(p),
        k=k,
        capacity=_capacity(problem, capacitated),
        unit=_unit_codes(problem, each_unit),
        single_source=single_source,
        unreachable_min=problem.cutoff_min,
        time_limit_s=time_limit_s,
        mip_gap=mip_gap,
    )
    return _solution(problem, outcome, "p_median", threshold_min, capacitated)


# -- the plan's rule ----------------------------------------------------------


@dataclass
class PlanCheck:
    """Result of :func:`plan_check`.

    Attributes
    ----------
    units : pandas.DataFrame
        Per township or county: ``n_shelters``, ``n_depots``,
        ``has_shelter``, ``has_depot`` and ``passed``.
    shelters : pandas.DataFrame
        Per shelter: ``unit``, ``area_m2``, ``assigned_population``,
        ``sheltered_people``, ``m2_per_person`` and ``passed``.
    passed : bool
        Every unit and every shelter passed.
    """

    units: pd.DataFrame
    shelters: pd.DataFrame
    passed: bool

    def summary(self) -> dict[str, Any]:
        """Counts of units and shelters that fail, for a report."""
        return {
            "units": len(self.units),
            "units_without_shelter": int((~self.units["has_shelter"]).sum()),
            "units_without_depot": int((~self.units["has_depot"]).sum()),
            "shelters": len(self.shelters),
            "shelters_below_norm": int((~self.shelters["passed"]).sum()),
            "passed": self.passed,
        }


def plan_check(
    facilities: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    *,
    unit_field: str,
    facility_unit_field: str | None = None,
    m2_per_person: float = 2.0,
    sheltered_share: float = 0.15,
    kind_field: str = "kind",
    area_field: str = "area_m2",
    assigned_field: str = "assigned_population",
    shelter_kinds: Sequence[str] = SHELTER_KINDS,
    depot_kinds: Sequence[str] = DEPOT_KINDS,
) -> PlanCheck:
    """Check the plan's rule: a shelter and a depot in every unit, enough area.

    The Baise plan asks for one shelter and one supply depot per county
    seat and township; GB 21734-2008 and Guangxi's standard ask for more
    than 2 m² of shelter per person. A shelter passes when
    ``area / (sheltered_share * assigned population) >= m2_per_person``,
    where the assigned population are the residents whose nearest
    shelter it is and ``sheltered_share`` those of them who need a place
    (15 % by the national code). A shelter without a known area fails.

    A facility belongs to a unit by ``facility_unit_field`` when given
    (e.g. ``"adcode"`` for counties); otherwise to the unit polygon it
    lies in, or, when ``units`` are points (township seats), to the
    nearest seat, an approximation of township areas.

    Parameters
    ----------
    facilities : geopandas.GeoDataFrame
        Facilities with ``kind_field``, and for shelters ``area_field`` and
        ``assigned_field`` (as in a run's ``facilities`` layer, or
        :attr:`SitingResult.sites`).
    units : geopandas.GeoDataFrame
        Township or county polygons, or township seat points.
    unit_field : str
        Column of ``units`` with the unit code.
    facility_unit_field : str, optional
        Column of ``facilities`` with the same code.
    m2_per_person : float, default 2
        Area norm per sheltered person.
    sheltered_share : float, default 0.15
        Share of the assigned residents who need a shelter place.
    kind_field, area_field, assigned_field : str
        Facility columns.
    shelter_kinds, depot_kinds : sequence of str
        Kinds that count as shelters and as depots.

    Returns
    -------
    PlanCheck

    Raises
    ------
    FieldError
        If a required column is missing.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point, box
    >>> towns = gpd.GeoDataFrame({"code": ["T1", "T2"]},
    ...     geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)], crs="EPSG:32648")
    >>> fac = gpd.GeoDataFrame(
    ...     {"kind": ["shelter", "depot", "shelter"],
    ...      "area_m2": [3000.0, None, 1000.0],
    ...      "assigned_population": [10000.0, None, 5000.0]},
    ...     geometry=[Point(2, 2), Point(3, 3), Point(15, 5)], crs="EPSG:32648")
    >>> check = plan_check(fac, towns, unit_field="code")
    >>> check.units[["n_shelters", "n_depots", "passed"]].values.tolist()
    [[1, 1, True], [1, 0, False]]
    >>> check.shelters["m2_per_person"].round(2).tolist()
    [2.0, 1.33]
    """
    for column in (kind_field, area_field, assigned_field):
        _data.require_field(facilities, column, "facilities")
    _data.require_field(units, unit_field, "units")
    unit_of = _data.unit_of_facility(facilities, units, unit_field, facility_unit_field)
    kind = facilities[kind_field].astype(str)
    is_shelter = kind.isin(list(shelter_kinds)).to_numpy()
    is_depot = kind.isin(list(depot_kinds)).to_numpy()

    # One row per unit: counts of shelters and depots.
    codes = pd.Index(units[unit_field].astype(str).unique(), name=unit_field)
    table = pd.DataFrame(index=codes)
    table["n_shelters"] = (
        unit_of[is_shelter].value_counts().reindex(codes, fill_value=0)
    )
    table["n_depots"] = unit_of[is_depot].value_counts().reindex(codes, fill_value=0)
    table["has_shelter"] = table["n_shelters"] > 0
    table["has_depot"] = table["n_depots"] > 0
    table["passed"] = table["has_shelter"] & table["has_depot"]

    # One row per shelter: area per sheltered person against the norm.
    sh = facilities.loc[is_shelter]
    area = pd.to_numeric(sh[area_field], errors="coerce")
    assigned = pd.to_numeric(sh[assigned_field], errors="coerce").fillna(0.0)
    people = assigned * sheltered_share
    with np.errstate(divide="ignore", invalid="ignore"):
        per_person = np.where(people > 0, area / people, np.where(area > 0, np.inf, 0))
    shelters = pd.DataFrame(
        {
            "unit": unit_of[is_shelter].to_numpy(),
            "area_m2": area.to_numpy(),
            "assigned_population": assigned.to_numpy(),
            "sheltered_people": people.to_numpy(),
            "m2_per_person": per_person,
        },
        index=sh.index,
    )
    shelters["passed"] = area.notna().to_numpy() & (per_person >= m2_per_person)
    passed = bool(table["passed"].all() and shelters["passed"].all())
    return PlanCheck(table, shelters, passed)


# -- the whole proposal -------------------------------------------------------


@dataclass
class SitingResult:
    """What :func:`propose_sites` returns.

    Attributes
    ----------
    sites : geopandas.GeoDataFrame
        Map layer (EPSG:4326) of every open site: ``facility_id``,
        ``name``, ``kind``, ``new`` (proposed) or existing, ``adcode``,
        ``area_m2``, ``capacity``, ``assigned_population`` (people whose
        site it is), ``mean_time_min`` and Point geometry.
    coverage : pandas.DataFrame
        Per unit and ``"all"``: ``population``, ``pop_before``,
        ``pop_after``, ``share_before``, ``share_after`` within the
        threshold.
    solution : SitingSolution
        The model's solution.
    problem : SitingProblem
        The problem solved.
    candidates : geopandas.GeoDataFrame
        The candidate sites that met the rules.
    """

    sites: gpd.GeoDataFrame
    coverage: pd.DataFrame
    solution: SitingSolution
    problem: SitingProblem
    candidates: gpd.GeoDataFrame

    def summary(self) -> str:
        """A few lines for a report or the command line."""
        total = self.coverage.loc["all"]
        sol = self.solution
        return (
            f"{sol.model}: {len(sol.new_sites)} new sites proposed on top of "
            f"{int(sol.served['fixed'].sum())} existing; population within "
            f"{self.coverage.attrs.get('threshold_min', float('nan')):g} min: "
            f"{total['share_before']:.1%} before, {total['share_after']:.1%} after "
            f"(build {sol.build_s:.1f} s, solve {sol.solve_s:.1f} s)"
        )


def propose_sites(
    grid: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    network: RoadNetwork,
    *,
    kind: Literal["shelter", "depot"] = "shelter",
    model: Model = "mclp",
    p: int = 10,
    threshold_min: float = 60.0,
    candidates: gpd.GeoDataFrame | None = None,
    rules: SiteRules | None = None,
    major_hazards: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    capacitated: bool = False,
    each_unit: bool = False,
    site_area_m2: float = 10000.0,
    m2_per_person: float = 2.0,
    sheltered_share: float = 0.15,
    risk_field: str | None = None,
    risk_weight: float = 1.0,
    aggregate_m: float | None = None,
    k: int = 10,
    cutoff_min: float | None = None,
    unit_field: str = "adcode",
    max_snap_m: float = 30000.0,
    access_speed_kmh: float = 15.0,
    time_limit_s: float | None = None,
    mip_gap: float = 0.0,
) -> SitingResult:
    """Propose new shelters or depots for a run's grid and facilities.

    Demand is the grid's populated cells (their centres). Candidates are
    the grid cells that meet ``rules`` unless a candidate layer is given.
    Existing facilities of the kind stay open; ``p`` new sites are added
    (the LSCP chooses their number itself). Shelters are reached from the
    cells (evacuation), depots reach the cells (relief).

    Parameters
    ----------
    grid : geopandas.GeoDataFrame
        A run's grid: ``population``, ``h_flood``, ``h_geological``,
        ``slope_deg``, ``unit_field`` and cell polygons.
    facilities : geopandas.GeoDataFrame
        Existing facilities with ``kind`` (and ``facility_id``,
        ``area_m2``, ``capacity_people`` when known).
    network : RoadNetwork
        The road graph.
    kind : {"shelter", "depot"}, default "shelter"
        What to site.
    model : {"mclp", "lscp", "p_median"}, default "mclp"
        Location model.
    p : int, default 10
        New sites (MCLP and p-median).
    threshold_min : float, default 60
        Coverage time (the plan's shelter reach, minutes).
    candidates : geopandas.GeoDataFrame, optional
        Candidate points (schools, sports grounds...); grid cells if
        omitted. Either way they are screened with ``rules``.
    rules : SiteRules, optional
        Screening rules.
    major_hazards : geopandas.GeoDataFrame or GeoSeries, optional
        Major fire and explosion hazards to keep away from.
    capacitated : bool, default False
        Respect capacities: shelters hold ``area / (m2_per_person *
        sheltered_share)`` residents, new ones ``site_area_m2`` of area;
        depots use ``capacity_people``.
    each_unit : bool, default False
        Give every county (``adcode`` of the sites) without an existing
        facility of the kind at least one new site; with ``p`` models,
        ``p`` must be at least the number of such counties.
    site_area_m2 : float, default 10000
        Area of a new shelter (1 ha, the least for a fixed shelter by
        GB 50413-2007 §8.2.9).
    m2_per_person, sheltered_share : float
        Shelter area norm and share of residents needing a place.
    risk_field : str, optional
        Grid column (0-1) that raises a cell's weight:
        ``population * (1 + risk_weight * risk)``.
    risk_weight : float, default 1
        Strength of the risk weighting.
    aggregate_m : float, optional
        Merge demand cells into squares of this size (population-weighted
        centres) to shrink large problems; coverage is then measured on
        the merged demand.
    k : int, default 10
        First-round sites per demand unit for the p-median.
    cutoff_min : float, optional
        Longest trip searched; ``threshold_min`` for coverage models and
        four times it for the p-median by default.
    unit_field : str, default "adcode"
        Grid column for the coverage table per unit.
    max_snap_m, access_speed_kmh : float
        Access legs; defaults as in the ``[network]`` configuration.
    time_limit_s, mip_gap
        Solver limits, as in :func:`solve_lscp`.

    Returns
    -------
    SitingResult

    Raises
    ------
    FieldError
        If the grid lacks ``population`` or another needed column.
    RiskmapError
        If no candidate site meets the rules, or the model is infeasible.
    """
    _data.require_field(grid, "population", "grid")
    _data.require_crs(grid, "grid")
    if kind not in ("shelter", "depot"):
        raise RiskmapError(f"kind must be 'shelter' or 'depot', got {kind!r}.")
    if model not in ("lscp", "mclp", "p_median"):
        raise RiskmapError(
            f"model must be 'lscp', 'mclp' or 'p_median', got {model!r}."
        )
    direction: Direction = "to_facility" if kind == "shelter" else "from_facility"

    # Candidate sites that meet the rules.
    source = grid if candidates is None else candidates
    screened = candidate_sites(
        source,
        network=network,
        grid=grid if candidates is not None else None,
        major_hazards=major_hazards,
        rules=rules,
    )
    if len(screened) == 0:
        raise RiskmapError(
            "no candidate site meets the siting rules. Fix: relax SiteRules "
            "(hazard, slope or road distance) or pass a candidate layer."
        )

    # Demand: populated cells, possibly merged and risk-weighted.
    demand = demand_from_grid(
        grid,
        unit_field=unit_field,
        risk_field=risk_field,
        risk_weight=risk_weight,
        aggregate_m=aggregate_m,
    )

    # Sites: existing facilities (fixed) and candidates.
    sites = site_table(
        facilities,
        screened,
        kind=kind,
        site_area_m2=site_area_m2,
        m2_per_person=m2_per_person,
        sheltered_share=sheltered_share,
        crs=network.crs,
    )

    # Travel times, kept sparse.
    coverage_model = model in ("lscp", "mclp")
    cutoff = cutoff_min or (threshold_min if coverage_model else 4.0 * threshold_min)
    problem = SitingProblem.from_network(
        network,
        demand,
        sites,
        cutoff_min=cutoff,
        unit_field="unit",
        max_sites_per_demand=None if coverage_model else max(8 * k, 64),
        direction=direction,
        max_snap_m=max_snap_m,
        access_speed_kmh=access_speed_kmh,
    )

    # Solve.
    opts: dict[str, Any] = {
        "capacitated": capacitated,
        "each_unit": problem.sites["adcode"] if each_unit else None,
        "time_limit_s": time_limit_s,
        "mip_gap": mip_gap,
    }
    if model == "lscp":
        solution = solve_lscp(problem, threshold_min, **opts)
    elif model == "mclp":
        solution = solve_mclp(problem, p, threshold_min, **opts)
    else:
        solution = solve_p_median(
            problem, p, k=k, threshold_min=min(threshold_min, cutoff), **opts
        )

    layer = _site_layer(sites, solution)
    table = _coverage_table(problem, solution.open.to_numpy(), threshold_min)
    result = SitingResult(layer, table, solution, problem, screened)
    logger.info("%s", result.summary())
    return result


def demand_from_grid(
    grid: gpd.GeoDataFrame,
    *,
    unit_field: str = "adcode",
    risk_field: str | None = None,
    risk_weight: float = 1.0,
    aggregate_m: float | None = None,
) -> gpd.GeoDataFrame:
    """Demand points from a grid: its populated cells' centres.

    Parameters
    ----------
    grid : geopandas.GeoDataFrame
        Cells with ``population`` (and ``unit_field``, ``risk_field``).
    unit_field : str, default "adcode"
        Column copied to ``unit`` (``"all"`` when absent).
    risk_field : str, optional
        Column (0-1) that raises the weight:
        ``population * (1 + risk_weight * risk)``.
    risk_weight : float, default 1
        Strength of the risk weighting.
    aggregate_m : float, optional
        Merge cells into squares of this size: people summed, the point
        at their population-weighted centre. Cells of different units
        stay apart.

    Returns
    -------
    geopandas.GeoDataFrame
        Points in the grid's (or the local UTM) CRS with ``population``,
        ``weight`` and ``unit``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> grid = gpd.GeoDataFrame(
    ...     {"population": [100.0, 0.0, 300.0], "risk": [0.5, 0.0, 0.0],
    ...      "adcode": ["a", "a", "a"]},
    ...     geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000),
    ...               box(2000, 0, 3000, 1000)], crs="EPSG:32648")
    >>> demand_from_grid(grid, risk_field="risk")[["weight", "unit"]]
       weight unit
    0   150.0    a
    2   300.0    a
    >>> merged = demand_from_grid(grid, aggregate_m=4000)
    >>> merged["population"].tolist(), merged.geometry.x.tolist()
    ([400.0], [2000.0])
    """
    _data.require_field(grid, "population", "grid")
    pop = pd.to_numeric(grid["population"], errors="coerce").fillna(0.0)
    cells = grid.loc[pop > 0]
    pts = _data.site_points(cells).to_crs(_data.local_crs(grid))
    weight = pop.loc[cells.index]
    if risk_field is not None:
        _data.require_field(grid, risk_field, "grid")
        risk = pd.to_numeric(cells[risk_field], errors="coerce").fillna(0.0)
        weight = weight * (1.0 + risk_weight * risk.clip(0.0, 1.0))
    unit = (
        cells[unit_field].astype(str)
        if unit_field in cells.columns
        else pd.Series("all", index=cells.index)
    )
    frame = pd.DataFrame(
        {
            "population": pop.loc[cells.index].to_numpy(),
            "weight": weight.to_numpy(),
            "unit": unit.to_numpy(),
            "x": pts.x.to_numpy(),
            "y": pts.y.to_numpy(),
        },
        index=cells.index,
    )
    if aggregate_m:
        frame = _data.merge_demand(frame, aggregate_m)
    return gpd.GeoDataFrame(
        frame.drop(columns=["x", "y"]),
        geometry=gpd.points_from_xy(frame["x"], frame["y"]),
        crs=pts.crs,
    )


def site_table(
    facilities: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    kind: Literal["shelter", "depot"] = "shelter",
    site_area_m2: float = 10000.0,
    m2_per_person: float = 2.0,
    sheltered_share: float = 0.15,
    crs: Any = None,
) -> gpd.GeoDataFrame:
    """Existing facilities of a kind (fixed) and candidates, as one table.

    Parameters
    ----------
    facilities : geopandas.GeoDataFrame
        Facilities with ``kind`` and, when known, ``facility_id``,
        ``name``, ``adcode``, ``area_m2`` (shelters) and
        ``capacity_people`` (depots).
    candidates : geopandas.GeoDataFrame
        Screened candidates (see :func:`candidate_sites`); grid cells are
        labelled ``new-<cell_id>``, other candidates ``new-<index>``.
    kind : {"shelter", "depot"}, default "shelter"
        Which facilities are kept: shelters, or depots and reserve
        centres.
    each_unit : bool, default False
        Give every county (``adcode`` of the sites) without an existing
        facility of the kind at least one new site; with ``p`` models,
        ``p`` must be at least the number of such counties.
    site_area_m2 : float, default 10000
        Area of a new shelter.
    m2_per_person, sheltered_share : float
        A shelter's ``capacity`` is ``area / (m2_per_person *
        sheltered_share)`` residents.
    crs : pyproj.CRS or str, optional
        CRS of the result; the candidates' CRS by default.

    Returns
    -------
    geopandas.GeoDataFrame
        Points indexed by site label with ``facility_id``, ``name``,
        ``kind``, ``adcode``, ``fixed``, ``area_m2`` and ``capacity``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point, box
    >>> fac = gpd.GeoDataFrame(
    ...     {"facility_id": ["S1", "D1"], "kind": ["shelter", "depot"],
    ...      "area_m2": [6000.0, None]},
    ...     geometry=[Point(0, 0), Point(1, 1)], crs="EPSG:32648")
    >>> cells = gpd.GeoDataFrame({"cell_id": ["r0c0"]},
    ...     geometry=[box(0, 0, 1000, 1000)], crs="EPSG:32648")
    >>> table = site_table(fac, cells)
    >>> table.index.tolist(), table["fixed"].tolist(), table["capacity"].tolist()
    (['S1', 'new-r0c0'], [True, False], [20000.0, 33333.0])
    """
    kinds = SHELTER_KINDS if kind == "shelter" else DEPOT_KINDS
    places = m2_per_person * sheltered_share
    screened = candidates
    crs = crs if crs is not None else candidates.crs
    _data.require_crs(facilities, "facilities")
    _data.require_field(facilities, "kind", "facilities")
    have = facilities.loc[facilities["kind"].astype(str).isin(list(kinds))]
    ids = (
        have["facility_id"].astype(str)
        if "facility_id" in have.columns
        else pd.Series([f"existing-{i}" for i in range(len(have))], index=have.index)
    )
    if kind == "shelter":
        area = pd.to_numeric(have.get("area_m2"), errors="coerce")
        cap = np.floor(area / places)
    else:
        area = pd.Series(np.nan, index=have.index)
        cap = pd.to_numeric(have.get("capacity_people"), errors="coerce")
    old = pd.DataFrame(
        {
            "facility_id": ids.to_numpy(),
            "name": have["name"].to_numpy() if "name" in have.columns else "",
            "kind": have["kind"].astype(str).to_numpy(),
            "adcode": have["adcode"].astype(str).to_numpy()
            if "adcode" in have.columns
            else "",
            "fixed": True,
            "area_m2": np.asarray(area, float),
            "capacity": np.asarray(cap, float),
        }
    )
    old_geom = _data.site_points(have).to_crs(crs).to_numpy()
    label = (
        screened["cell_id"].astype(str)
        if "cell_id" in screened.columns
        else pd.Series(screened.index.astype(str), index=screened.index)
    )
    new_area = site_area_m2 if kind == "shelter" else np.nan
    new_cap = np.floor(site_area_m2 / places) if kind == "shelter" else np.nan
    new = pd.DataFrame(
        {
            "facility_id": ("new-" + label).to_numpy(),
            "name": "",
            "kind": kinds[0] if kind == "shelter" else "depot",
            "adcode": screened["adcode"].astype(str).to_numpy()
            if "adcode" in screened.columns
            else "",
            "fixed": False,
            "area_m2": new_area,
            "capacity": new_cap,
        }
    )
    new_geom = _data.site_points(screened).to_crs(crs).to_numpy()
    table = pd.concat([old, new], ignore_index=True)
    table.index = pd.Index(table["facility_id"], name="site")
    if table.index.duplicated().any():
        dup = table.index[table.index.duplicated()].unique()[:5].tolist()
        raise FieldError(
            f"site labels {dup} are not unique",
            layer="facilities",
            field="facility_id",
            fix="give every facility and candidate a unique id",
        )
    geom = np.concatenate([old_geom, new_geom])
    return gpd.GeoDataFrame(table, geometry=list(geom), crs=crs)


def _site_layer(sites: gpd.GeoDataFrame, solution: SitingSolution) -> gpd.GeoDataFrame:
    """The open sites as a map layer in EPSG:4326."""
    served = solution.served
    out = sites.loc[served.index].copy()
    out["new"] = ~out["fixed"].astype(bool)
    out["assigned_population"] = served["served_population"].round(1)
    out["mean_time_min"] = served["mean_time_min"].round(1)
    columns = [
        "facility_id",
        "name",
        "kind",
        "new",
        "adcode",
        "area_m2",
        "capacity",
        "assigned_population",
        "mean_time_min",
        "geometry",
    ]
    return out[columns].reset_index(drop=True).to_crs("EPSG:4326")


def _coverage_table(
    problem: SitingProblem, is_open: NDArray[np.bool_], threshold_min: float
) -> pd.DataFrame:
    """Population within the threshold before and after, per unit and all."""
    pairs = problem.pairs.within(min(threshold_min, problem.cutoff_min or np.inf))
    fixed = problem.sites["fixed"].to_numpy()
    n = len(problem.demand)
    before = np.zeros(n, dtype=bool)
    after = np.zeros(n, dtype=bool)
    before[pairs.row[fixed[pairs.col]]] = True
    after[pairs.row[is_open[pairs.col]]] = True
    pop = problem.demand["population"]
    unit = (
        problem.demand["unit"]
        if "unit" in problem.demand.columns
        else pd.Series("all", index=problem.demand.index)
    )
    frame = pd.DataFrame(
        {"population": pop, "pop_before": pop * before, "pop_after": pop * after}
    )
    table = frame.groupby(unit.to_numpy()).sum()
    table.loc["all"] = frame.sum()
    total = table["population"].replace(0, np.nan)
    table["share_before"] = (table["pop_before"] / total).fillna(0.0)
    table["share_after"] = (table["pop_after"] / total).fillna(0.0)
    table.index.name = "unit"
    table.attrs["threshold_min"] = float(threshold_min)
    return table
