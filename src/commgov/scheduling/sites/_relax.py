"""The splittable-demand relaxation of the site model: a strong bound and a start (private).

The site MILP (:func:`._solve_cpsat.solve_cpsat`) has one Boolean per building-site pair and
per site and number of lanes. Its LP relaxation (:func:`._bound.sites_lower_bound`) is weak
because a fractional site buys the staff ratio of its largest number of lanes for any share
of its residents (a 3–4 % gap on Gusu). Here the *lanes* stay whole and only the buildings
are relaxed: buildings with the same sites in reach become one demand that may split across
those sites in any proportion (a transportation flow), at full service. Every plan serving
every building that fits a site in reach is a solution of this relaxation, so its proven MIP
bound is a lower bound on their staff-minutes. The model is small — one Boolean per site and
number of lanes, one continuous flow per demand class and site (Gusu: 2,052 Booleans, about
14,000 flows) — and HiGHS's branch and cut closes it to :data:`REL_GAP` in seconds.

Its lanes are then a start for the plan: a transportation LP of least walking over the
buildings within those lanes' capacities (HiGHS's simplex returns a vertex, so at most about
one building per open site is split), each split building rounded to a site with room and
overloaded sites relieved by moving buildings to sites with room; the local search and the
neighbourhood search of the planner continue from there. HiGHS runs on one thread with the
planner's seed and stops on its gap, so the result is deterministic; the wall clock is only
a safety cap, and a cancel stops it (``Highs.cancelSolve``) when HiGHS next looks, at the
latest when its running sub-MIP heuristic ends.

References: M. S. Daskin, *Network and Discrete Location*, 2nd ed., Wiley, 2013, ch. 6
(capacitated facility location, strong and splittable relaxations); Q. Huangfu and
J. A. J. Hall, Math. Prog. Comp. 10(1):119–142, 2018 (HiGHS).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from commgov._control import SolveControl, integer_bound
from commgov._highs import new_highs, run_highs
from commgov.scheduling.sites._data import SitesData

__all__ = ["REL_GAP", "Relaxation", "round_lanes", "splittable_relaxation"]

#: Relative MIP gap at which HiGHS stops on the relaxation.
REL_GAP = 0.005
_POLL_S = 0.05


@dataclass(frozen=True)
class Relaxation:
    """Lanes per site of the relaxation's best solution and its proven bound."""

    lanes: dict[int, int]  # site index → lanes ≥ 1 (open sites only)
    bound_minutes: float  # lower bound on staff-minutes of every full-service plan
    value_minutes: float  # staff-minutes of the relaxation's best solution


def _fits(data: SitesData, b: int, s: int) -> bool:
    return len(data.caps[s]) >= 2 and data.caps[s][-1] >= data.residents(b)


def _highs(ctl: SolveControl, seed: int) -> Any:
    h = new_highs(seed)
    h.HandleUserInterrupt = True
    return h


def _run(h: Any, ctl: SolveControl, phase: str, reserve_s: float) -> bool:
    """Solve on HiGHS's own thread; ``False`` when stopped first (cancel or wall clock).

    HiGHS's sub-MIP heuristics look at the interrupt only when they end, so a stop takes
    effect up to one sub-MIP later (≈ 2.5 s measured on Gusu's district); the thread is
    always joined (a HiGHS thread alive at interpreter exit aborts the process).
    """
    h.setOptionValue("time_limit", max(0.01, ctl.remaining() - reserve_s))
    stopped = False

    def go() -> None:
        nonlocal stopped
        with ctl.watch(h.cancelSolve, phase):
            thread = h.startSolve()
            while thread.is_alive():
                thread.join(_POLL_S)
                if thread.is_alive() and ctl.should_stop(reserve_s):
                    h.cancelSolve()
                    thread.join()
                    stopped = True
                    return

    run_highs(h, go)
    return not stopped and not ctl.should_stop(reserve_s)


def splittable_relaxation(
    data: SitesData, ctl: SolveControl, seed: int, reserve_s: float = 0.05
) -> Relaxation | None:
    """The relaxation of ``data`` at full service (``None``: highspy missing, no building
    fits a site, full service infeasible within the pool, or stopped before a solution).

    O(B·reach) to build; the MIP is NP-hard but small (see the module).
    """
    try:
        import highspy
    except ImportError:  # pragma: no cover - highspy is a dependency
        return None
    groups: dict[tuple[int, ...], int] = {}
    for b in sorted(data.reach):
        key = tuple(sorted(s for s, _w in data.reach[b] if _fits(data, b, s)))
        if key:
            groups[key] = groups.get(key, 0) + data.residents(b)
    if not groups or ctl.should_stop(reserve_s):
        return None
    inf = highspy.kHighsInf
    h = _highs(ctl, seed)
    lo: list[float] = []
    hi: list[float] = []
    cost: list[float] = []
    flows: dict[int, list[int]] = {}
    rows: list[tuple[float, float, list[int], list[float]]] = []
    for key, res in sorted(groups.items()):
        row = []
        for s in key:
            row.append(len(cost))
            flows.setdefault(s, []).append(len(cost))
            lo.append(0.0)
            hi.append(float(res))
            cost.append(0.0)
        rows.append((float(res), float(res), row, [1.0] * len(row)))
    z: dict[tuple[int, int], int] = {}
    n_t = data.problem.n_slots
    at: list[list[tuple[list[int], list[float]]]] = [
        [([], []) for _ in range(n_t)] for _ in range(3)
    ]
    hours: list[tuple[list[int], list[float]]] = [([], []) for _ in range(3)]
    for s in sorted(flows):
        caps = data.caps[s]
        zs = []
        for c in range(1, len(caps)):
            z[s, c] = len(cost)
            zs.append(len(cost))
            lo.append(0.0)
            hi.append(1.0)
            cost.append(float(data.staff_minutes(s, c)))
            for r in data.limits:
                k = data.staff[s][c][r]
                if k:
                    for t in data.slots_of[s]:
                        at[r][t][0].append(z[s, c])
                        at[r][t][1].append(float(k))
                    hours[r][0].append(z[s, c])
                    hours[r][1].append(float(k * len(data.slots_of[s])))
        rows.append((-inf, 1.0, zs, [1.0] * len(zs)))
        rows.append(
            (
                -inf,
                0.0,
                flows[s] + zs,
                [1.0] * len(flows[s]) + [-float(caps[c]) for c in range(1, len(caps))],
            )
        )
    for r, (people, slots) in sorted(data.limits.items()):
        for t in range(n_t):
            idx, val = at[r][t]
            if idx:
                rows.append((-inf, float(people), idx, val))
        if hours[r][0]:
            rows.append((-inf, float(slots), hours[r][0], hours[r][1]))
    _load(h, cost, lo, hi, rows)
    ints = sorted(z.values())
    h.changeColsIntegrality(len(ints), ints, [highspy.HighsVarType.kInteger] * len(ints))
    h.setOptionValue("mip_rel_gap", REL_GAP)
    if not _run(h, ctl, "relaxation", reserve_s):
        return None
    info = h.getInfo()
    if info.primal_solution_status != 2:  # no feasible solution (infeasible or stopped)
        return None
    values = h.getSolution().col_value
    lanes = {s: c for (s, c), j in z.items() if values[j] > 0.5}
    dual = info.mip_dual_bound
    bound = integer_bound(None, dual if dual == dual else None)  # NaN-safe
    if bound is None:
        return None
    return Relaxation(lanes, bound, float(info.objective_function_value))


def _load(
    h: Any,
    cost: list[float],
    lo: list[float],
    hi: list[float],
    rows: list[tuple[float, float, list[int], list[float]]],
) -> None:
    """Add the columns and rows to ``h`` in one call each (fast for 10⁵ columns)."""
    import numpy as np

    n = len(cost)
    h.addVars(n, np.asarray(lo), np.asarray(hi))
    h.changeColsCost(n, np.arange(n, dtype=np.int32), np.asarray(cost))
    starts: list[int] = []
    index: list[int] = []
    value: list[float] = []
    for _lo, _hi, idx, val in rows:
        starts.append(len(index))
        index.extend(idx)
        value.extend(val)
    h.addRows(
        len(rows),
        np.asarray([r[0] for r in rows]),
        np.asarray([r[1] for r in rows]),
        len(index),
        np.asarray(starts, dtype=np.int32),
        np.asarray(index, dtype=np.int32),
        np.asarray(value),
    )


def round_lanes(
    data: SitesData, lanes: dict[int, int], ctl: SolveControl, seed: int, reserve_s: float = 0.05
) -> dict[int, int] | None:
    """A building → site assignment within (about) the capacities of ``lanes``.

    The transportation LP of least walking (Σ residents × metres) over the buildings that fit
    a site in reach, each wholly served, within each open site's capacity at its lanes; then
    every split building goes to the site with room nearest to it among those holding a share
    (else the largest share), and each overloaded site moves buildings, largest first, to the
    nearest site with room. A site still over its capacity takes more lanes (the plan's lanes
    follow its loads); one beyond its capacity table gives buildings back (the completion
    re-inserts them). ``None`` when stopped or the LP fails.
    """
    import highspy

    inf = highspy.kHighsInf
    cap = {s: data.caps[s][c] for s, c in lanes.items()}
    cols: list[tuple[int, int]] = []
    cost: list[float] = []
    rows: list[tuple[float, float, list[int], list[float]]] = []
    site_cols: dict[int, tuple[list[int], list[float]]] = {s: ([], []) for s in sorted(cap)}
    for b in sorted(data.reach):
        r = data.residents(b)
        row = []
        for s, w in data.reach[b]:
            if s in cap and _fits(data, b, s):
                row.append(len(cols))
                site_cols[s][0].append(len(cols))
                site_cols[s][1].append(float(r))
                cols.append((b, s))
                cost.append(float(r * w))
        if row:
            rows.append((1.0, 1.0, row, [1.0] * len(row)))
    for s, (idx, val) in site_cols.items():
        if idx:
            rows.append((-inf, float(cap[s]), idx, val))
    if not cols or ctl.should_stop(reserve_s):
        return None
    h = _highs(ctl, seed)
    _load(h, cost, [0.0] * len(cols), [1.0] * len(cols), rows)
    if not _run(h, ctl, "relaxation: buildings", reserve_s):
        return None
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    x = h.getSolution().col_value
    share: dict[int, list[tuple[float, int]]] = {}
    for j, (b, s) in enumerate(cols):
        if x[j] > 1e-9:
            share.setdefault(b, []).append((x[j], s))
    walk = {b: dict(pairs) for b, pairs in data.reach.items()}
    assign: dict[int, int] = {}
    load = dict.fromkeys(cap, 0)
    split: list[int] = []
    for b in sorted(share):
        parts = share[b]
        if len(parts) == 1 and parts[0][0] > 1 - 1e-9:
            assign[b] = parts[0][1]
            load[parts[0][1]] += data.residents(b)
        else:
            split.append(b)
    for b in sorted(split, key=lambda b: (-data.residents(b), b)):
        r = data.residents(b)
        held = sorted(share[b], key=lambda p: (-p[0], p[1]))
        roomy = [s for _x, s in held if load[s] + r <= cap[s]]
        to = min(roomy, key=lambda s: (walk[b][s], s)) if roomy else held[0][1]
        assign[b] = to
        load[to] += r
    # relieve overloaded sites: move buildings, largest first, to the nearest site with room
    members: dict[int, list[int]] = {}
    for b, s in assign.items():
        members.setdefault(s, []).append(b)
    for s in sorted(cap):
        for b in sorted(members.get(s, ()), key=lambda b: (-data.residents(b), b)):
            if load[s] <= cap[s]:
                break
            r = data.residents(b)
            options = [
                (w, t)
                for t, w in data.reach[b]
                if t != s and t in cap and _fits(data, b, t) and load[t] + r <= cap[t]
            ]
            if options:
                _w, t = min(options)
                assign[b] = t
                load[s] -= r
                load[t] += r
        table = data.caps[s][-1]
        for b in sorted(members.get(s, ()), key=lambda b: (-data.residents(b), b)):
            if load[s] <= table:
                break
            if assign.get(b) == s:
                del assign[b]
                load[s] -= data.residents(b)
    return assign
