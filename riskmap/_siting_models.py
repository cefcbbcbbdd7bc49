"""Sparse location models for :mod:`riskmap.siting`, solved with HiGHS.

The formulations are those of spopt (set covering, maximal covering,
p-median and their capacitated variants), written directly as sparse
matrices so that building a model costs a few array operations instead
of one Python object per matrix entry. Each model takes the demand-site
pairs it may use (``row``, ``col``, ``time``; every other pair is
unavailable), the demand weights, which sites are fixed (forced open) and,
for the capacitated variants, the capacity of each site.

The solver is HiGHS, through ``highspy`` when it is installed and through
:func:`scipy.optimize.milp` (which bundles HiGHS) otherwise.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from riskmap.errors import RiskmapError

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

#: Which HiGHS interface to use: "highspy", "scipy" or "auto".
BACKEND = "auto"


@dataclass
class Pairs:
    """Demand-site pairs a model may use, sorted by demand, then time."""

    row: IntArray
    col: IntArray
    time: FloatArray
    n_rows: int
    n_cols: int

    @classmethod
    def build(
        cls,
        row: IntArray,
        col: IntArray,
        time_min: FloatArray,
        n_rows: int,
        n_cols: int,
    ) -> Pairs:
        """Sort the pairs and drop those with a non-finite time."""
        row = np.asarray(row, dtype=np.int64)
        col = np.asarray(col, dtype=np.int64)
        t = np.asarray(time_min, dtype=float)
        ok = np.isfinite(t)
        row, col, t = row[ok], col[ok], t[ok]
        order = np.lexsort((col, t, row))
        return cls(row[order], col[order], t[order], n_rows, n_cols)

    def within(self, limit: float) -> Pairs:
        """The pairs no slower than ``limit`` minutes."""
        keep = self.time <= limit
        return Pairs(
            self.row[keep], self.col[keep], self.time[keep], self.n_rows, self.n_cols
        )

    def starts(self) -> IntArray:
        """CSR-style offsets of each demand row's pairs."""
        counts = np.bincount(self.row, minlength=self.n_rows)
        out = np.zeros(self.n_rows + 1, dtype=np.int64)
        np.cumsum(counts, out=out[1:])
        return out


@dataclass
class Outcome:
    """What a model returns: open sites, flows and solver figures."""

    open: BoolArray
    flow_row: IntArray
    flow_col: IntArray
    flow_share: FloatArray
    objective: float
    status: str
    gap: float
    build_s: float
    solve_s: float
    rounds: int = 1
    notes: list[str] = field(default_factory=list)


@dataclass
class _MIP:
    """min/max c @ x subject to row_lb <= A x <= row_ub, col bounds."""

    c: FloatArray
    a: sparse.csr_matrix
    row_lb: FloatArray
    row_ub: FloatArray
    col_lb: FloatArray
    col_ub: FloatArray
    integer: BoolArray
    maximize: bool = False


# -- solver -------------------------------------------------------------------


def _solve(
    mip: _MIP, time_limit_s: float | None, mip_gap: float
) -> tuple[FloatArray, float, str, float]:
    """Solve with HiGHS; return x, objective, status and relative gap."""
    backend = BACKEND
    if backend == "auto":
        try:
            import highspy  # noqa: F401

            backend = "highspy"
        except ImportError:
            backend = "scipy"
    if backend == "highspy":
        return _solve_highspy(mip, time_limit_s, mip_gap)
    return _solve_scipy(mip, time_limit_s, mip_gap)


def _solve_highspy(
    mip: _MIP, time_limit_s: float | None, mip_gap: float
) -> tuple[FloatArray, float, str, float]:
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    if time_limit_s is not None:
        h.setOptionValue("time_limit", float(time_limit_s))
    inf = highspy.kHighsInf
    a = mip.a.tocsc()
    lp = highspy.HighsLp()
    lp.num_col_ = a.shape[1]
    lp.num_row_ = a.shape[0]
    lp.col_cost_ = mip.c
    lp.col_lower_ = mip.col_lb
    lp.col_upper_ = np.where(np.isinf(mip.col_ub), inf, mip.col_ub)
    lp.row_lower_ = np.where(np.isinf(mip.row_lb), -inf, mip.row_lb)
    lp.row_upper_ = np.where(np.isinf(mip.row_ub), inf, mip.row_ub)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(float)
    kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
    lp.integrality_ = [kinds[int(b)] for b in mip.integer]
    lp.sense_ = (
        highspy.ObjSense.kMaximize if mip.maximize else highspy.ObjSense.kMinimize
    )
    h.passModel(lp)
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    info = h.getInfo()
    if info.primal_solution_status != 2:  # no feasible solution
        raise RiskmapError(
            f"the location model has no feasible solution (HiGHS: {status}). "
            "Fix: allow more sites (p), a longer time limit or more capacity, "
            "or add candidate sites near the uncovered demand."
        )
    x = np.asarray(h.getSolution().col_value, dtype=float)
    gap = float(info.mip_gap) if np.isfinite(info.mip_gap) else 0.0
    return x, float(info.objective_function_value), status, gap


def _solve_scipy(
    mip: _MIP, time_limit_s: float | None, mip_gap: float
) -> tuple[FloatArray, float, str, float]:
    from scipy.optimize import Bounds, LinearConstraint, milp

    options: dict[str, Any] = {"mip_rel_gap": float(mip_gap)}
    if time_limit_s is not None:
        options["time_limit"] = float(time_limit_s)
    sign = -1.0 if mip.maximize else 1.0
    res = milp(
        sign * mip.c,
        integrality=mip.integer.astype(int),
        bounds=Bounds(mip.col_lb, mip.col_ub),
        constraints=LinearConstraint(mip.a, mip.row_lb, mip.row_ub),
        options=options,
    )
    if res.x is None:
        raise RiskmapError(
            f"the location model has no feasible solution (HiGHS: {res.message}). "
            "Fix: allow more sites (p), a longer time limit or more capacity, "
            "or add candidate sites near the uncovered demand."
        )
    gap = float(getattr(res, "mip_gap", 0.0) or 0.0)
    return np.asarray(res.x, float), sign * float(res.fun), str(res.message), gap


def _run(
    mip: _MIP,
    time_limit_s: float | None,
    mip_gap: float,
    started: float,
    unit: IntArray | None = None,
    fixed: BoolArray | None = None,
) -> tuple[FloatArray, float, str, float, float, float]:
    """Solve and time: x, objective, status, gap, build and solve seconds."""
    if unit is not None and fixed is not None:
        mip = _with_unit_rows(mip, unit, fixed)
    built = time.perf_counter()
    x, obj, status, gap = _solve(mip, time_limit_s, mip_gap)
    done = time.perf_counter()
    logger.info(
        "solved %d x %d model (%d non-zeros) in %.2f s: %s",
        mip.a.shape[0],
        mip.a.shape[1],
        mip.a.nnz,
        done - built,
        status,
    )
    return x, obj, status, gap, built - started, done - built


def units_needing_a_site(unit: IntArray, fixed: BoolArray) -> IntArray:
    """Unit numbers (>= 0) that have candidate sites but no fixed site."""
    has = unit >= 0
    return np.setdiff1d(np.unique(unit[has]), np.unique(unit[has & fixed]))


def _with_unit_rows(mip: _MIP, unit: IntArray, fixed: BoolArray) -> _MIP:
    """Add one row per unit without a fixed site: open one of its sites.

    Sites are the model's first ``len(unit)`` columns in every model.
    """
    need = units_needing_a_site(unit, fixed)
    if len(need) == 0:
        return mip
    sel = np.flatnonzero(np.isin(unit, need) & ~fixed)
    rows = np.searchsorted(need, unit[sel])
    extra = sparse.csr_matrix(
        (np.ones(len(sel)), (rows, sel)), shape=(len(need), mip.a.shape[1])
    )
    return replace(
        mip,
        a=sparse.vstack([mip.a, extra]).tocsr(),
        row_lb=np.concatenate([mip.row_lb, np.ones(len(need))]),
        row_ub=np.concatenate([mip.row_ub, np.full(len(need), np.inf)]),
    )


# -- helpers ------------------------------------------------------------------


def _group_rows(
    row: IntArray, col: IntArray, n_rows: int
) -> tuple[IntArray, IntArray, IntArray]:
    """Merge demand rows with identical site sets.

    Returns the group of every row (-1 for rows without pairs) and the
    (group, col) pattern of the groups.
    """
    mat = sparse.csr_matrix(
        (np.ones(len(row)), (row, col)), shape=(n_rows, int(col.max(initial=-1)) + 1)
    )
    mat.sort_indices()
    keys: dict[bytes, int] = {}
    group = np.full(n_rows, -1, dtype=np.int64)
    g_rows: list[IntArray] = []
    g_cols: list[IntArray] = []
    for i in range(n_rows):
        cols = mat.indices[mat.indptr[i] : mat.indptr[i + 1]]
        if len(cols) == 0:
            continue
        key = cols.tobytes()
        g = keys.get(key)
        if g is None:
            g = len(keys)
            keys[key] = g
            g_rows.append(np.full(len(cols), g, dtype=np.int64))
            g_cols.append(cols.astype(np.int64))
        group[i] = g
    if not g_rows:
        return group, np.empty(0, np.int64), np.empty(0, np.int64)
    return group, np.concatenate(g_rows), np.concatenate(g_cols)


def _count_row(cols: IntArray, n: int) -> sparse.csr_matrix:
    """One row with a 1 at each column of ``cols``."""
    return sparse.csr_matrix(
        (np.ones(len(cols)), (np.zeros(len(cols), dtype=np.int64), cols)),
        shape=(1, n),
    )


def nearest_open(
    pairs: Pairs, is_open: BoolArray
) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    """Each demand row's fastest open site: row, site, share 1 and time."""
    ok = is_open[pairs.col]
    row, col, t = pairs.row[ok], pairs.col[ok], pairs.time[ok]
    first = np.ones(len(row), dtype=bool)
    first[1:] = row[1:] != row[:-1]
    return row[first], col[first], np.ones(int(first.sum())), t[first]


def pair_time(pairs: Pairs, row: IntArray, col: IntArray) -> FloatArray:
    """Stored time of given (row, col) pairs; NaN for pairs not stored."""
    if len(pairs.row) == 0:
        return np.full(len(row), np.nan)
    key = pairs.row * pairs.n_cols + pairs.col
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    query = np.asarray(row, np.int64) * pairs.n_cols + np.asarray(col, np.int64)
    pos = np.minimum(np.searchsorted(sorted_key, query), len(key) - 1)
    return np.where(sorted_key[pos] == query, pairs.time[order][pos], np.nan)


def _check_p(
    p: int | None, n_free: int, unit: IntArray | None, fixed: BoolArray
) -> None:
    if p is not None and not 0 <= p <= n_free:
        raise RiskmapError(
            f"p={p} new sites were asked for but {n_free} candidate sites are "
            f"available. Fix: pass p between 0 and {n_free}, or add candidates."
        )
    if p is not None and unit is not None:
        need = len(units_needing_a_site(unit, fixed))
        if need > p:
            raise RiskmapError(
                f"{need} units have no existing site, so one new site each needs "
                f"p >= {need}, got p={p}. Fix: raise p or drop the per-unit rule."
            )


# -- coverage models ------------------------------------------------------------


def cover(
    pairs: Pairs,
    weight: FloatArray,
    fixed: BoolArray,
    *,
    p: int | None,
    capacity: FloatArray | None = None,
    unit: IntArray | None = None,
    time_limit_s: float | None = None,
    mip_gap: float = 0.0,
) -> Outcome:
    """Maximal covering (``p`` given) or set covering (``p`` None).

    ``pairs`` must hold only the pairs within the coverage time.
    """
    started = time.perf_counter()
    n_s = pairs.n_cols
    free = ~fixed
    _check_p(p, int(free.sum()), unit, fixed)
    w = np.asarray(weight, float)
    useful = w[pairs.row] > 0
    pr, pc = pairs.row[useful], pairs.col[useful]
    if capacity is not None:
        return _cover_capacitated(
            pairs, pr, pc, w, fixed, p, capacity, unit, time_limit_s, mip_gap, started
        )

    # Demand already within reach of a fixed site stays covered for free.
    pre = np.zeros(pairs.n_rows, dtype=bool)
    pre[pr[fixed[pc]]] = True
    keep = ~pre[pr] & free[pc]
    group, g_row, g_col = _group_rows(pr[keep], pc[keep], pairs.n_rows)
    n_g = int(group.max(initial=-1)) + 1
    g_weight = np.bincount(group[group >= 0], weights=w[group >= 0], minlength=n_g)
    lost = (w > 0) & ~pre & (group < 0)
    notes = []
    if p is None and lost.any():
        notes.append(
            f"{int(lost.sum())} demand units ({w[lost].sum():.0f} weight) have no "
            "candidate within the time limit and stay uncovered"
        )

    # Columns: one binary per site (fixed ones held at 1), then one
    # continuous coverage share per demand group (maximal covering only).
    n_y = n_g if p is not None else 0
    link = sparse.csr_matrix((np.ones(len(g_row)), (g_row, g_col)), shape=(n_g, n_s))
    col_lb = np.concatenate([fixed.astype(float), np.zeros(n_y)])
    col_ub = np.ones(n_s + n_y)
    integer = np.concatenate([np.ones(n_s, bool), np.zeros(n_y, bool)])
    if p is None:
        a = link
        row_lb, row_ub = np.ones(n_g), np.full(n_g, np.inf)
        c = free.astype(float)
        maximize = False
    else:
        a = sparse.vstack(
            [
                sparse.hstack([-link, sparse.identity(n_g, format="csr")]),
                sparse.hstack(
                    [_count_row(np.flatnonzero(free), n_s), sparse.csr_matrix((1, n_g))]
                ),
            ]
        ).tocsr()
        row_lb = np.concatenate([np.full(n_g, -np.inf), [float(p)]])
        row_ub = np.concatenate([np.zeros(n_g), [float(p)]])
        c = np.concatenate([np.zeros(n_s), g_weight])
        maximize = True
    mip = _MIP(c, a, row_lb, row_ub, col_lb, col_ub, integer, maximize)
    x, obj, status, gap, build_s, solve_s = _run(
        mip, time_limit_s, mip_gap, started, unit, fixed
    )

    is_open = x[:n_s] > 0.5
    objective = float(is_open.sum()) if p is None else obj + float(w[pre].sum())
    fr, fc, fs, _ = nearest_open(pairs, is_open)
    return Outcome(
        is_open, fr, fc, fs, objective, status, gap, build_s, solve_s, notes=notes
    )


def _cover_capacitated(
    pairs: Pairs,
    pr: IntArray,
    pc: IntArray,
    w: FloatArray,
    fixed: BoolArray,
    p: int | None,
    capacity: FloatArray,
    unit: IntArray | None,
    time_limit_s: float | None,
    mip_gap: float,
    started: float,
) -> Outcome:
    """Coverage with site capacities: demand is assigned, possibly split."""
    n_s = pairs.n_cols
    free = ~fixed
    cap = np.asarray(capacity, float)
    group, g_row, g_col = _group_rows(pr, pc, pairs.n_rows)
    n_g = int(group.max(initial=-1)) + 1
    has = group >= 0
    g_weight = np.bincount(group[has], weights=w[has], minlength=n_g)
    n_z = len(g_row)
    notes = []
    lost = (w > 0) & ~has
    if p is None and lost.any():
        notes.append(
            f"{int(lost.sum())} demand units ({w[lost].sum():.0f} weight) have no "
            "site within the time limit and stay uncovered"
        )

    # Columns: site binaries, then the share z of each group at each site.
    z = np.arange(n_z)
    assign = sparse.csr_matrix((np.ones(n_z), (g_row, z)), shape=(n_g, n_z))
    load = sparse.csr_matrix((g_weight[g_row], (g_col, z)), shape=(n_s, n_z))
    blocks = [
        [sparse.csr_matrix((n_g, n_s)), assign],
        [-sparse.diags(cap, format="csr"), load],
    ]
    row_lb = [np.zeros(n_g) if p is not None else np.ones(n_g), np.full(n_s, -np.inf)]
    row_ub = [np.ones(n_g), np.zeros(n_s)]
    if p is not None:
        blocks.append(
            [_count_row(np.flatnonzero(free), n_s), sparse.csr_matrix((1, n_z))]
        )
        row_lb.append(np.array([float(p)]))
        row_ub.append(np.array([float(p)]))
    a = sparse.bmat(blocks, format="csr")
    if p is None:
        c = np.concatenate([free.astype(float), np.zeros(n_z)])
    else:
        c = np.concatenate([np.zeros(n_s), g_weight[g_row]])
    mip = _MIP(
        c,
        a,
        np.concatenate(row_lb),
        np.concatenate(row_ub),
        np.concatenate([fixed.astype(float), np.zeros(n_z)]),
        np.ones(n_s + n_z),
        np.concatenate([np.ones(n_s, bool), np.zeros(n_z, bool)]),
        maximize=p is not None,
    )
    x, obj, status, gap, build_s, solve_s = _run(
        mip, time_limit_s, mip_gap, started, unit, fixed
    )

    is_open = x[:n_s] > 0.5
    share = x[n_s:]
    # Spread each group's shares back onto its member rows.
    members = np.flatnonzero(has)
    order = np.argsort(group[members], kind="stable")
    members = members[order]
    m_start = np.searchsorted(group[members], np.arange(n_g + 1))
    z_start = np.searchsorted(g_row, np.arange(n_g + 1))
    fr, fc, fs = [], [], []
    for g in range(n_g):
        zs = slice(z_start[g], z_start[g + 1])
        pos = share[zs] > 1e-9
        rows = members[m_start[g] : m_start[g + 1]]
        fr.append(np.repeat(rows, pos.sum()))
        fc.append(np.tile(g_col[zs][pos], len(rows)))
        fs.append(np.tile(share[zs][pos], len(rows)))
    objective = float(is_open.sum()) if p is None else obj
    return Outcome(
        is_open,
        np.concatenate(fr) if fr else np.empty(0, np.int64),
        np.concatenate(fc) if fc else np.empty(0, np.int64),
        np.concatenate(fs) if fs else np.empty(0),
        objective,
        status,
        gap,
        build_s,
        solve_s,
        notes=notes,
    )


# -- p-median -------------------------------------------------------------------


def p_median(
    pairs: Pairs,
    weight: FloatArray,
    fixed: BoolArray,
    *,
    p: int,
    k: int = 10,
    capacity: FloatArray | None = None,
    single_source: bool = False,
    unit: IntArray | None = None,
    unreachable_min: float | None = None,
    max_rounds: int = 8,
    time_limit_s: float | None = None,
    mip_gap: float = 0.0,
) -> Outcome:
    """p-median on the ``k`` fastest sites per demand, widened until exact.

    Each demand may use its ``k`` fastest sites (and its fastest fixed
    site) or a placeholder whose cost is the time to the next site in its
    list, a lower bound on any site left out. The restricted model is then
    a relaxation of the full one: when no demand uses a placeholder, its
    optimum is the full optimum. Demands that do use one get four times
    the sites and the model is solved again. A demand whose list is exhausted
    keeps the placeholder at ``unreachable_min`` (the search cutoff).
    With ``single_source`` every demand goes whole to one site (spopt's
    capacitated p-median); otherwise capacity may split it.

    Without capacities two exact reductions apply: a demand never uses a
    site slower than its fastest fixed site, so those pairs are dropped,
    and a demand whose fastest site is fixed is settled before the model
    (its cost is a constant of the objective).
    """
    started = time.perf_counter()
    free = ~fixed
    _check_p(p, int(free.sum()), unit, fixed)
    w = np.asarray(weight, float)
    live = w[pairs.row] > 0
    first_fixed = _first_fixed(pairs.row, pairs.col, fixed)
    if capacity is None and fixed.any():
        # Without capacities nobody travels past their fastest fixed site.
        limit = np.full(pairs.n_rows, np.inf)
        limit[pairs.row[first_fixed]] = pairs.time[first_fixed]
        live &= pairs.time <= limit[pairs.row]
    pr, pc, pt = pairs.row[live], pairs.col[live], pairs.time[live]
    first_fixed = first_fixed[live]
    start = np.zeros(pairs.n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(pr, minlength=pairs.n_rows), out=start[1:])
    n_pairs = np.diff(start)
    rank = np.arange(len(pr)) - start[pr]
    if unreachable_min is None:
        unreachable_min = 10.0 * float(pt.max(initial=1.0))

    # Rows whose fastest site is fixed are settled and leave the model.
    settled_pair = (rank == 0) & fixed[pc] & (capacity is None)
    settled = np.zeros(pairs.n_rows, dtype=bool)
    settled[pr[settled_pair]] = True
    constant = float((w[pr] * pt)[settled_pair].sum())
    rows = np.flatnonzero((w > 0) & (n_pairs > 0) & ~settled)
    in_model = np.zeros(pairs.n_rows, dtype=bool)
    in_model[rows] = True

    kk = np.full(pairs.n_rows, max(int(k), 1), dtype=np.int64)
    total_build = 0.0
    total_solve = 0.0
    for rounds in range(1, max_rounds + 1):
        use = ((rank < kk[pr]) | first_fixed) & in_model[pr]
        bound = np.where(
            kk[rows] < n_pairs[rows],
            pt[np.minimum(start[rows] + kk[rows], len(pt) - 1)],
            unreachable_min,
        )
        mip, n_z = _p_median_mip(
            pr[use], pc[use], pt[use], rows, bound, w, fixed, p, capacity
        )
        if single_source:
            mip.integer[:] = True
        x, obj, status, gap, build_s, solve_s = _run(
            mip, time_limit_s, mip_gap, started, unit, fixed
        )
        total_build += build_s
        total_solve += solve_s
        s = x[pairs.n_cols + n_z :]
        short = rows[(s > 1e-6) & (kk[rows] < n_pairs[rows])]
        if len(short) == 0:
            break
        logger.info("p-median round %d: widening %d demand rows", rounds, len(short))
        kk[short] = np.minimum(kk[short] * 4, n_pairs[short])
        started = time.perf_counter()
    notes = []
    if len(short):
        notes.append(
            f"after {max_rounds} rounds {len(short)} demand rows still use the "
            "placeholder; the objective is a lower bound"
        )
    is_open = x[: pairs.n_cols] > 0.5
    share = x[pairs.n_cols : pairs.n_cols + n_z]
    pos = share > 1e-9
    return Outcome(
        is_open,
        np.concatenate([pr[use][pos], pr[settled_pair]]),
        np.concatenate([pc[use][pos], pc[settled_pair]]),
        np.concatenate([share[pos], np.ones(int(settled_pair.sum()))]),
        obj + constant,
        status,
        gap,
        total_build,
        total_solve,
        rounds=rounds,
        notes=notes,
    )


def _first_fixed(row: IntArray, col: IntArray, fixed: BoolArray) -> BoolArray:
    """Mark each row's first (fastest) pair to a fixed site."""
    out = np.zeros(len(row), dtype=bool)
    fx = np.flatnonzero(fixed[col])
    if len(fx):
        seen = np.ones(len(fx), dtype=bool)
        seen[1:] = row[fx][1:] != row[fx][:-1]
        out[fx[seen]] = True
    return out


def _p_median_mip(
    zr: IntArray,
    zc: IntArray,
    zt: FloatArray,
    rows: IntArray,
    bound: FloatArray,
    w: FloatArray,
    fixed: BoolArray,
    p: int,
    capacity: FloatArray | None,
) -> tuple[_MIP, int]:
    """Columns: sites, assignment shares z, placeholders s (one per row)."""
    n_s = len(fixed)
    n_z = len(zr)
    n_r = len(rows)
    local = np.full(int(w.shape[0]), -1, dtype=np.int64)
    local[rows] = np.arange(n_r)
    zi = np.arange(n_z)
    ident = sparse.identity(n_r, format="csr")
    assign = sparse.csr_matrix((np.ones(n_z), (local[zr], zi)), shape=(n_r, n_z))
    opening = sparse.csr_matrix((-np.ones(n_z), (zi, zc)), shape=(n_z, n_s))
    free = np.flatnonzero(~fixed)
    blocks = [
        [None, assign, ident],
        [opening, sparse.identity(n_z, format="csr"), None],
        [_count_row(free, n_s), None, sparse.csr_matrix((1, n_r))],
    ]
    row_lb: list[FloatArray] = [np.ones(n_r), np.full(n_z, -np.inf), np.full(1, p)]
    row_ub: list[FloatArray] = [np.ones(n_r), np.zeros(n_z), np.full(1, p)]
    if capacity is not None:
        load = sparse.csr_matrix((w[zr], (zc, zi)), shape=(n_s, n_z))
        blocks.append(
            [-sparse.diags(np.asarray(capacity, float), format="csr"), load, None]
        )
        row_lb.append(np.full(n_s, -np.inf))
        row_ub.append(np.zeros(n_s))
    a = sparse.bmat(blocks, format="csr")
    c = np.concatenate([np.zeros(n_s), w[zr] * zt, w[rows] * bound])
    mip = _MIP(
        c,
        a,
        np.concatenate(row_lb),
        np.concatenate(row_ub),
        np.concatenate([fixed.astype(float), np.zeros(n_z + n_r)]),
        np.ones(n_s + n_z + n_r),
        np.concatenate([np.ones(n_s, bool), np.zeros(n_z + n_r, bool)]),
    )
    return mip, n_z
