"""Method ``"gap"``: buildings → sampling points at district scale (private).

Relaxation bound, rounding, repair, CP-SAT neighbourhoods.

When every batch is at most ``max_queue`` people, the slots drop out of the point choice (see
:mod:`commgov.scheduling.sampling._solve_cpsat`): a set of batches can be scheduled at a point
iff its people fit in the point's open capacity ``C_p = c_p · |open slots|``. With every
building served whole at one point, choosing points is then a *generalized assignment problem*
(GAP) with costs proportional to weights: building ``b`` (``w_b`` walk-in residents) goes to
one point ``p`` in reach at cost ``w_b · d(b, p)`` person-metres, ``Σ_b w_b y_bp ≤ C_p``.

1. **Bound** (:func:`~commgov.scheduling.sampling._bound.transport_bound`). The splittable
   relaxation is a transportation problem, solved exactly as a min-cost maximum flow
   (OR-Tools ``SimpleMinCostFlow``, ``SolveMaxFlowWithMinCost``): most people served ``F``,
   then least walking ``B``. It equals the time-expanded relaxation (same arcs, slot
   capacities and backlog cap): split person by person, a point's arrivals can always be
   spread so that no slot receives more than its capacity, so no backlog is ever needed and
   only ``Σ_t c_t`` binds. Any plan serving ``F`` people walks at least ``B``.
2. **Rounding.** A basic optimal flow splits at most one building per saturated point; each
   building goes whole to the point that carries most of its flow (ties: nearer, then id).
3. **Repair** (:mod:`commgov.scheduling.sampling._repair`). Points over capacity shed
   buildings by the cheapest moves and ejection chains; buildings left out are inserted by
   ejection chains (Glover 1996; Yagiura, Ibaraki & Glover 2004 for the GAP).
4. **Improvement** (large neighbourhood search, Shaw 1998; Pisinger & Ropke 2010). For each
   seed point — the points the relaxation saturates, those touched by the repair, and those in
   reach of an unserved building — the seed and its nearest neighbouring points (points sharing
   a building in reach) are opened: every building assigned to them, and every unserved
   building in reach of them, is re-assigned optimally by CP-SAT (other buildings fixed,
   points outside keep their residual room), lexicographically: most people served, then least
   walking (one weight ``M`` larger than any walking the neighbourhood can change, so the
   weighted objective is exactly lexicographic; with every free building served, the walking
   alone). The current assignment is the hint, and a neighbourhood's answer is taken only if
   it is better, so the plan never gets worse. Passes repeat while a pass improves, up to
   :data:`MAX_PASSES`.
5. **Proof on small problems.** With at most :data:`EXACT_MAX_BUILDINGS` buildings, one CP-SAT
   model over all buildings, hinted with the LNS result, tries to prove optimality.

Deterministic: every CP-SAT call has one worker, the seed given and a deterministic-time
limit; seeds and neighbourhoods are taken in index (id) order; the search stops on a budget of
deterministic time; the wall clock is only a safety cap (checked between neighbourhoods), so
the same input gives the same plan unless the cap binds (``SolveControl.stopped_by`` then
says ``"wall_clock"``). A cancel is checked before every neighbourhood and stops a running
CP-SAT search; the assignment returned is always the best one found, and always fits.

References
----------
.. [1] Shaw, P. (1998). Using constraint programming and local search methods to solve
   vehicle routing problems. CP 1998, LNCS 1520, 417-431.
.. [2] Pisinger, D. & Ropke, S. (2010). Large neighborhood search. In Handbook of
   Metaheuristics (2nd ed.), 399-419. Springer.
.. [3] Glover, F. (1996). Ejection chains, reference structures and alternating path methods
   for traveling salesman problems. Discrete Applied Mathematics 65, 223-253.
.. [4] Yagiura, M., Ibaraki, T. & Glover, F. (2004). An ejection chain approach for the
   generalized assignment problem. INFORMS Journal on Computing 16(2), 133-151.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from commgov._control import SolveControl
from commgov._redact import get_logger
from commgov.errors import SolverError
from commgov.scheduling.sampling._bound import GapInstance, TransportBound, transport_bound
from commgov.scheduling.sampling._data import CP_SAT_SEED_BASE
from commgov.scheduling.sampling._repair import State, repair, round_flow
from commgov.types import haversine_m

log = get_logger("commgov.scheduling")

#: Points opened per neighbourhood (the seed and its nearest neighbours).
NEIGHBOURHOOD_POINTS = 8
#: Passes over the seed points (a pass that improves nothing ends the search earlier).
MAX_PASSES = 4
#: Deterministic-time limit of one neighbourhood solve (CP-SAT units, ≈ seconds).
NEIGHBOURHOOD_DET_TIME = 0.5
#: Deterministic-time limit of a neighbourhood opened to serve an unserved building.
SERVE_DET_TIME = 0.5
#: Most points opened to serve one unserved building.
SERVE_MAX_POINTS = 14
#: Problems with at most this many buildings get a whole-model CP-SAT proof attempt.
EXACT_MAX_BUILDINGS = 500
#: Deterministic-time limit of the whole-model proof attempt.
EXACT_DET_TIME = 4.0


#: The stall rule of the improvement phase: the search stops once the neighbourhoods of the
#: last window of CP-SAT deterministic work served no one more and cut the walking by less
#: than :data:`STALL_MIN_GAIN` of it (0.05 %). The window is :data:`STALL_WINDOW_DET`
#: deterministic seconds (≈ 4 neighbourhoods), or :data:`STALL_PASS_SHARE` of a pass over the
#: seed points when that is longer (a large area improves one region at a time, each a small
#: share of the walking). Deterministic (work, not wall time), so the same input gives the
#: same plan. ``math.inf`` turns the rule off (the search then runs until its budget,
#: ``gap_limit`` or a pass that improves nothing).
STALL_WINDOW_DET = 2.0
STALL_PASS_SHARE = 0.125
STALL_MIN_GAIN = 5e-4


class _Stall:
    """The stall rule (:data:`STALL_WINDOW_DET`, :data:`STALL_MIN_GAIN`) over a sliding
    window of deterministic work."""

    def __init__(self, window: float, gain: float) -> None:
        self.window = window
        self.gain = gain
        self.hist: deque[tuple[float, int, int]] = deque()

    def stalled(self, det: float, served: int, walk: int) -> bool:
        """Record the incumbent after ``det`` deterministic seconds; whether it has stalled."""
        hist = self.hist
        hist.append((det, served, walk))
        if not math.isfinite(self.window):
            return False
        while len(hist) >= 2 and hist[1][0] <= det - self.window:
            hist.popleft()  # keep the last record at or before the window's start
        det0, served0, walk0 = hist[0]
        if det - det0 < self.window or served > served0:
            return False
        return walk0 - walk < self.gain * walk0


@dataclass
class _Context:
    """The run's control, the seconds kept for later phases and CP-SAT's seed."""

    ctl: SolveControl
    reserve: float
    seed: int

    def stop(self) -> bool:
        """Whether to stop: cancelled, or fewer than ``reserve`` seconds left."""
        return self.ctl.should_stop(self.reserve)


@dataclass
class GapSolution:
    """A building → point assignment (``-1``: unserved) with how it was obtained."""

    assign: list[int]
    served: int
    walk: int
    proven_optimal: bool
    neighbourhoods: int
    improved: int
    passes: int
    bound: TransportBound


def _neighbours(inst: GapInstance, stop: Callable[[], bool]) -> list[list[int]] | None:
    """For each point, the points sharing a building in reach, nearest first; ``None`` once
    ``stop()`` is true (asked every 64 buildings: the work is Σ (points in reach)²)."""
    adj: list[set[int]] = [set() for _ in inst.cap]
    for n, r in enumerate(inst.reach):
        if not n & 63 and stop():
            return None
        for a in r:
            adj[a].update(r)
    out = []
    for p, nbrs in enumerate(adj):
        lon, lat = inst.xy[p]
        others = sorted((haversine_m(lon, lat, *inst.xy[q]), q) for q in nbrs if q != p)
        out.append([q for _, q in others])
    return out


def _serve_neighbourhood(st: State, i: int, neighbours: list[list[int]]) -> list[int]:
    """Points opened to serve building ``i``: its points in reach, then breadth first over
    neighbouring points (nearest first) until a point with room for ``i`` is included — the
    end of an ejection chain — and at least :data:`NEIGHBOURHOOD_POINTS` are open, at most
    :data:`SERVE_MAX_POINTS`."""
    inst = st.inst
    w = inst.w[i]
    out = list(inst.reach[i])
    seen = set(out)
    room_found = any(inst.cap[q] - st.load[q] >= w for q in out)
    k = 0
    while (
        k < len(out)
        and len(out) < SERVE_MAX_POINTS
        and (not room_found or len(out) < NEIGHBOURHOOD_POINTS)
    ):
        for q in neighbours[out[k]]:
            if q not in seen:
                seen.add(q)
                out.append(q)
                room_found = room_found or inst.cap[q] - st.load[q] >= w
                if len(out) >= SERVE_MAX_POINTS or (
                    room_found and len(out) >= NEIGHBOURHOOD_POINTS
                ):
                    break
        k += 1
    return out


def _solve_free(
    st: State,
    free: Sequence[int],
    det_time: float,
    ctx: _Context,
) -> tuple[bool, bool]:
    """Re-assign ``free`` buildings optimally (CP-SAT), the rest fixed.

    When every free building is served, each keeps exactly one point and the walking alone is
    minimised. Otherwise the objective is lexicographic — most people served, then least
    walking — as one weighted sum whose weight ``M`` exceeds any walking the neighbourhood can
    change (``M = Σ w · max d + 1``), which is exact. The answer is taken only when it is
    lexicographically better than the current plan, which is also the hint.

    Returns (improved, proven optimal for the neighbourhood).
    """
    from ortools.sat.python import cp_model

    inst = st.inst
    free_set = set(free)
    room = {}
    for i in free:
        for q in inst.reach[i]:
            if q not in room:
                room[q] = (
                    inst.cap[q] - st.load[q] + sum(inst.w[k] for k in st.at[q] if k in free_set)
                )
    all_served = all(st.assign[i] >= 0 for i in free)
    total_w = sum(inst.w[i] for i in free)
    max_d = max((max(d) for i in free for d in [inst.dist[i]] if d), default=0)
    big = 0 if all_served else total_w * max_d + 1
    m = cp_model.CpModel()
    y: dict[tuple[int, int], cp_model.IntVar] = {}
    by_point: dict[int, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
    terms: list[tuple[int, cp_model.IntVar]] = []
    cur_served = cur_walk = 0
    for i in free:
        w = inst.w[i]
        vs = []
        for q, dq in zip(inst.reach[i], inst.dist[i], strict=True):
            if w > room[q]:
                continue
            v = m.new_bool_var(f"y[{i},{q}]")
            y[i, q] = v
            vs.append(v)
            by_point[q].append((w, v))
            terms.append((w * dq - big * w, v))
            m.add_hint(v, st.assign[i] == q)
        if all_served:
            m.add_exactly_one(vs)
        elif len(vs) > 1:
            m.add_at_most_one(vs)
        j = st.assign[i]
        if j >= 0:
            cur_served += w
            cur_walk += w * st.d(i, j)
    for q, lst in by_point.items():
        if sum(w for w, _ in lst) > room[q]:
            m.add(sum(w * v for w, v in lst) <= room[q])
    if not y:
        return False, True
    m.minimize(sum(c * v for c, v in terms))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = ctx.seed
    solver.parameters.max_deterministic_time = det_time
    solver.parameters.max_time_in_seconds = max(0.01, ctx.ctl.remaining() - ctx.reserve)
    status = ctx.ctl.solve_cp_sat(solver, m, "search")
    st.det_used += solver.deterministic_time
    if status in (cp_model.INFEASIBLE, cp_model.MODEL_INVALID):
        raise SolverError(
            f"CP-SAT returned {solver.status_name(status)} on a sampling "
            "neighbourhood that the current plan satisfies (please report this)"
        )
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return False, False
    proven = status == cp_model.OPTIMAL
    new = {i: -1 for i in free}
    for (i, q), v in y.items():
        if solver.boolean_value(v):
            new[i] = q
    new_served = sum(inst.w[i] for i in free if new[i] >= 0)
    new_walk = sum(inst.w[i] * st.d(i, new[i]) for i in free if new[i] >= 0)
    if (new_served, -new_walk) <= (cur_served, -cur_walk):
        return False, proven
    st.clock += 1
    for i in free:  # leave first, then enter, so loads never count a building twice
        if new[i] != st.assign[i]:
            st.move(i, -1)
    for i in free:
        if new[i] >= 0:
            st.move(i, new[i])
    if not all_served and new_served > cur_served:
        # serving more at a fixed weight leaves the walking barely optimised: re-optimise the
        # walking of the buildings now served, each kept on exactly one point
        _solve_free(st, [i for i in free if st.assign[i] >= 0], det_time, ctx)
    return True, proven


def solve_gap(
    inst: GapInstance,
    ctl: SolveControl | None = None,
    *,
    reserve: float = 0.0,
    seed: int = CP_SAT_SEED_BASE,
    gap_limit: float = 0.0,
    det_budget: float = math.inf,
    lp: TransportBound | None = None,
) -> GapSolution:
    """Bound, round, repair and improve; see the module docstring.

    Parameters
    ----------
    inst : GapInstance
    ctl : SolveControl, optional
        The run's deadline, progress and cancel token; no neighbourhood is started once
        fewer than ``reserve`` seconds are left or the run is cancelled, and a cancel stops
        a running CP-SAT search. Default: 30 s, no progress, no cancel.
    reserve : float, default 0
        Seconds kept for the caller's phases after the search.
    seed : int
        CP-SAT's ``random_seed``.
    gap_limit : float, default 0
        Stop improving once the plan serves as many people as the relaxation and walks at
        most ``(1 + gap_limit) ×`` its bound.
    det_budget : float, default inf
        CP-SAT deterministic time (summed over neighbourhoods) after which no further
        neighbourhood is started: the stopping rule that keeps results independent of the
        machine's speed (the wall clock is only the safety cap).
    lp : TransportBound, optional
        The relaxation when already solved.
    """
    ctl = SolveControl("solve_gap", 30.0) if ctl is None else ctl
    ctx = _Context(ctl, reserve, seed)
    lp = transport_bound(inst) if lp is None else lp
    st = State(inst, round_flow(inst, lp))
    touched = repair(st, ctx.stop)
    nb = len(inst.w)
    log.debug(
        "sampling GAP: rounded and repaired: served %d/%d, walk %d (bound %d)",
        st.served(),
        lp.served,
        st.walk(),
        lp.walk,
    )

    def good_enough() -> bool:
        return st.served() == lp.served and st.walk() <= lp.walk * (1 + gap_limit)

    n_nbh = improved = passes = 0
    proven = st.served() == lp.served and st.walk() == lp.walk
    if not proven and nb <= EXACT_MAX_BUILDINGS and not ctl.should_stop(reserve + 0.05):
        # small: the whole model at once, hinted with the repaired plan
        n_nbh += 1
        better, proven = _solve_free(st, list(range(nb)), EXACT_DET_TIME, ctx)
        improved += better
    if not proven and not good_enough() and not ctx.stop():
        nbrs = _neighbours(inst, ctx.stop)
        neighbours = nbrs if nbrs is not None else [[] for _ in inst.cap]
        out_of_time = nbrs is None

        def visit(nbh: list[int], det_time: float) -> bool:
            nonlocal n_nbh, out_of_time
            if st.det_used >= det_budget or ctx.stop():
                if not out_of_time:
                    log.info(
                        "sampling LNS: %s after %d neighbourhoods",
                        "work budget spent" if st.det_used >= det_budget else ctl.stopped_by,
                        n_nbh,
                    )
                out_of_time = True
                return False
            nbh_set = set(nbh)
            free = sorted(
                {i for q in nbh for i in st.at[q]}
                | {
                    i
                    for i, j in enumerate(st.assign)
                    if j < 0 and not nbh_set.isdisjoint(inst.reach[i])
                }
            )
            n_nbh += 1
            better, opt = _solve_free(st, free, det_time, ctx)
            log.debug(
                "neighbourhood %s: %d buildings (%d unserved), improved %s, optimal %s",
                nbh[0],
                len(free),
                sum(st.assign[i] < 0 for i in free),
                better,
                opt,
            )
            if ctl.progress is not None:
                ctl.report(
                    "search",
                    min(1.0, st.det_used / det_budget) if math.isfinite(det_budget) else None,
                    float(st.walk()),
                    float(lp.walk),
                )
            return better

        # 1. serve: around each unserved building (id order), its points in reach and the
        #    nearest neighbours of its nearest one
        for i in range(nb):
            if st.assign[i] >= 0 or not inst.reach[i] or out_of_time:
                continue
            improved += visit(_serve_neighbourhood(st, i, neighbours), SERVE_DET_TIME)
        log.debug(
            "sampling LNS: serving done after %d neighbourhoods: served %d, walk %d",
            n_nbh,
            st.served(),
            st.walk(),
        )
        # 2. improve: around the points the relaxation saturates or the repair and the serving
        #    touched, each seed again only when something near it has changed since
        saturated = {
            p
            for p, (ld, c) in enumerate(zip(lp.point_load, inst.cap, strict=True))
            if c > 0 and ld >= c
        }
        seeds = sorted(saturated | touched | {p for p, c in enumerate(st.changed) if c > 0})
        visited = dict.fromkeys(seeds, -1)  # clock at the seed's last visit
        window = max(STALL_WINDOW_DET, STALL_PASS_SHARE * len(seeds) * NEIGHBOURHOOD_DET_TIME)
        stall = _Stall(window, STALL_MIN_GAIN)
        stall.stalled(st.det_used, st.served(), st.walk())  # the window opens here
        stalled = False
        for passes in range(1, MAX_PASSES + 1):
            if out_of_time or stalled or good_enough():
                break
            gain = 0
            for p in seeds:
                nbh = [p, *neighbours[p][: NEIGHBOURHOOD_POINTS - 1]]
                if max(st.changed[q] for q in nbh) <= visited[p]:
                    continue  # nothing changed around p since its last visit
                visited[p] = st.clock
                better = visit(nbh, NEIGHBOURHOOD_DET_TIME)
                if out_of_time:
                    break
                gain += better
                if better and good_enough():
                    break
                if stall.stalled(st.det_used, st.served(), st.walk()):
                    log.info(
                        "sampling LNS: improvement stalled (less than %.3g %% over the "
                        "last %.3g deterministic s) after %d neighbourhoods",
                        100 * STALL_MIN_GAIN,
                        window,
                        n_nbh,
                    )
                    stalled = True
                    break
            improved += gain
            log.debug(
                "sampling LNS pass %d: %d improved, served %d, walk %d (bound %d)",
                passes,
                gain,
                st.served(),
                st.walk(),
                lp.walk,
            )
            if not gain:
                break
    served, walk = st.served(), st.walk()
    if served == lp.served and walk == lp.walk:
        proven = True
    log.info(
        "sampling GAP: served %d/%d, walk %d (bound %d, gap %.4f %%), %d neighbourhoods, "
        "%d improved, %d passes, %.1f deterministic s",
        served,
        lp.served,
        walk,
        lp.walk,
        100 * (walk - lp.walk) / lp.walk if lp.walk else 0.0,
        n_nbh,
        improved,
        passes,
        st.det_used,
    )
    return GapSolution(st.assign, served, walk, proven, n_nbh, improved, passes, lp)
