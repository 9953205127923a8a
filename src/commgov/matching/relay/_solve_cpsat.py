"""Relay planner (private): greedy warm start, CP-SAT in three lexicographic tiers, repair.

CP-SAT model, per building ``b`` with ``m`` deliverable parcels, ``m`` candidate trips ``j``
(at most one trip per parcel); times in whole seconds after the data's origin::

    x[i,j] ∈ {0,1}      parcel i on trip j;  Σ_j x[i,j] = dlv[i]
    k[j] = Σ_i x[i,j],  used[j] ⇔ k[j] ≥ 1,   k[j] ≤ K·used[j]
    S[j] ≥ arr[i]  if x[i,j]                          (leg 2 follows leg 1)
    D[j] = handover + 2·walk[b] + door[b]·k[j]        (affine: no table)
    a[j,v,w] ∈ {0,1}, Σ_{v,w} a = used[j];  if a: w.start ≤ S[j], S[j] + D[j] ≤ w.end, k ≤ cap[v]
    NoOverlap(optional interval [S[j], S[j]+D[j]) present iff a[j,v,w]) for each volunteer v
    L[i] ≥ S[j] + handover + walk[b] + door[b]·k[j] − target[i]  if x[i,j];  L ≥ 0
    symmetry: used[j] ≥ used[j+1], S[j] ≤ S[j+1]      (relabel a building's trips by departure)

Tiers: max Σ prio·dlv; min Σ prio·L; min Σ D·used (= Σ used·(handover + 2 walk) + door·k).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

from commgov._control import CancelToken, ProgressCallback, SolveControl, integer_bound
from commgov._options import check_choice, check_options
from commgov._redact import get_logger
from commgov.errors import InfeasibleError, check_size, expect_type
from commgov.matching.relay._construct import (
    _build_plan,
    _Data,
    _dispatch,
    _greedy_order,
    _left_shift,
    _placed,
    _prepare,
    _Schedule,
    _score,
    _Trip,
    _volunteer_lb,
)
from commgov.matching.relay._problem import RelayPlan, RelayProblem
from commgov.results import CommonReasonCode, Reason, SolveStatus

__all__ = ["MAX_MODEL_SIZE", "MAX_PARCELS", "METHODS", "NUM_WORKERS", "plan_relay"]

log = get_logger("commgov.matching")

#: The planning methods of :func:`plan_relay` (the first is the default).
METHODS: tuple[str, ...] = ("cpsat",)
#: Size guard: a wave may have at most this many parcels.
MAX_PARCELS = 20_000
#: Above this many model literals (x plus optional intervals) CP-SAT is skipped and the greedy
#: plan (with repair) is returned as ``FEASIBLE``.
MAX_MODEL_SIZE = 400_000
NUM_WORKERS = 1
#: A CP-SAT tier is not started with less wall-clock time than this left (beyond the reserve
#: of :func:`_reserve_s`).
MIN_TIER_S = 0.05
_DEFAULT_DET_TIME = 0.3
_TIERS = ("priority_delivered", "weighted_late_s", "volunteer_s")


@dataclass
class _Slot:
    b: int
    members: list[int]  # parcel indices
    x: dict[int, Any]
    k: Any
    used: Any
    start: Any
    end: Any
    lo: int
    assign: list[tuple[int, int, Any]]  # (volunteer class, window start, presence literal)


@dataclass
class _Tier:
    name: str
    proven: bool
    value: int
    bound: float | None


class _StopBuildError(Exception):
    """Raised inside the model build once the run must stop (deadline or cancel)."""


class _Model:
    def __init__(self, d: _Data, deliverable: list[int], stop: Any = None) -> None:
        from ortools.sat.python import cp_model

        self.cp = cp_model
        self.d = d
        m = cp_model.CpModel()
        self.m = m
        by_b: dict[int, list[int]] = {}
        for i in deliverable:
            by_b.setdefault(d.bld[i], []).append(i)
        self.dlv: dict[int, Any] = {i: m.new_bool_var(f"d{i}") for i in deliverable}
        maxdur = max((d.dur(b, max(d.cap, default=1)) for b in by_b), default=0)
        hi = d.horizon
        self.late: dict[int, Any] = {
            i: m.new_int_var(0, max(0, hi + maxdur - d.tgt[i]), f"L{i}") for i in deliverable
        }
        self.slots: list[_Slot] = []
        intervals: dict[int, list[Any]] = {c: [] for c in range(len(d.classes))}
        kmax_all = max(d.cap, default=1)
        for b in sorted(by_b):
            if stop is not None and stop():
                raise _StopBuildError
            members = by_b[b]
            lo = min(d.arr[i] for i in members)
            kmax = min(len(members), kmax_all)
            fits = [
                (c, ws, we)
                for c, vs in enumerate(d.classes)
                for ws, we in d.windows[vs[0]]
                if max(ws, lo) + d.dur(b, 1) <= we
            ]
            prev: _Slot | None = None
            for j in range(len(members)):
                s = m.new_int_var(lo, max(lo, hi), f"S{b},{j}")
                k = m.new_int_var(0, kmax, f"k{b},{j}")
                used = m.new_bool_var(f"u{b},{j}")
                x = {i: m.new_bool_var(f"x{i},{j}") for i in members}
                m.add(k == sum(x.values()))
                m.add(k >= used)
                m.add(k <= kmax * used)
                for i, xi in x.items():
                    if d.arr[i] > lo:
                        m.add(s >= d.arr[i]).only_enforce_if(xi)
                    door = s + d.door_off(b, 0) + d.door_s[b] * k - d.tgt[i]
                    m.add(self.late[i] >= door).only_enforce_if(xi)
                size = d.dur(b, 0) + d.door_s[b] * k
                e = m.new_int_var(lo, max(lo, hi) + d.dur(b, kmax), f"E{b},{j}")
                m.add(e == s + size)
                assign: list[tuple[int, int, Any]] = []
                for c, ws, we in fits:
                    lit = m.new_bool_var(f"a{b},{j},{c},{ws}")
                    iv = m.new_optional_interval_var(s, size, e, lit, f"I{b},{j},{c},{ws}")
                    intervals[c].append(iv)
                    m.add(s >= ws).only_enforce_if(lit)
                    m.add(e <= we).only_enforce_if(lit)
                    cap = d.cap[d.classes[c][0]]
                    if cap < kmax:
                        m.add(k <= cap).only_enforce_if(lit)
                    assign.append((c, ws, lit))
                m.add(sum(lit for _v, _ws, lit in assign) == used)
                slot = _Slot(b, members, x, k, used, s, e, lo, assign)
                if prev is not None:
                    m.add(prev.used >= used)
                    m.add(prev.start <= s)
                self.slots.append(slot)
                prev = slot
            for i in members:
                m.add(sum(sl.x[i] for sl in self.slots if sl.b == b) == self.dlv[i])
        # identical volunteers form a pool: at most |class| of its trips at once, which is
        # exactly assignable to them (interval graphs are perfect; see _colour)
        for c, vs in enumerate(d.classes):
            if len(intervals[c]) <= len(vs):
                continue
            if len(vs) == 1:
                m.add_no_overlap(intervals[c])
            else:
                m.add_cumulative(intervals[c], [1] * len(intervals[c]), len(vs))
        self.tiers_expr = (
            sum(d.prio[i] * x for i, x in self.dlv.items()),
            sum(d.prio[i] * lv for i, lv in self.late.items()),
            sum(d.dur(sl.b, 0) * sl.used + d.door_s[sl.b] * sl.k for sl in self.slots),
        )

    def hint(self, trips: list[_Trip]) -> None:
        d, m = self.d, self.m
        m.clear_hints()  # type: ignore[no-untyped-call]
        by_b: dict[int, list[_Trip]] = {}
        for t in trips:
            by_b.setdefault(t.b, []).append(t)
        placed: dict[int, _Trip] = {i: t for t in trips for i in t.parcels}
        for i, var in self.dlv.items():
            m.add_hint(var, i in placed)
            got = placed.get(i)
            late = 0
            if got is not None:
                late = max(0, got.start + d.door_off(got.b, len(got.parcels)) - d.tgt[i])
            m.add_hint(self.late[i], late)
        j_of: dict[int, int] = {}
        last_start: dict[int, int] = {}
        for sl in self.slots:
            j = j_of.get(sl.b, 0)
            j_of[sl.b] = j + 1
            mine = sorted(by_b.get(sl.b, []), key=lambda x: (x.start, x.vol))
            tr = mine[j] if j < len(mine) else None
            start = tr.start if tr is not None else last_start.get(sl.b, sl.lo)
            last_start[sl.b] = start
            m.add_hint(sl.start, start)
            n = len(tr.parcels) if tr is not None else 0
            m.add_hint(sl.end, start + d.dur(sl.b, n))
            m.add_hint(sl.used, tr is not None)
            m.add_hint(sl.k, len(tr.parcels) if tr is not None else 0)
            for i, xi in sl.x.items():
                m.add_hint(xi, tr is not None and i in tr.parcels)
            chosen = None
            if tr is not None:
                chosen = next((ws for ws, we in d.windows[tr.vol] if ws <= tr.start < we), None)
            for c, ws, lit in sl.assign:
                m.add_hint(lit, tr is not None and c == d.klass[tr.vol] and ws == chosen)

    def read(self, solver: Any) -> list[_Trip]:
        raw: list[tuple[int, _Trip]] = []
        for sl in self.slots:
            if not solver.boolean_value(sl.used):
                continue
            c = next(c for c, _ws, lit in sl.assign if solver.boolean_value(lit))
            members = [i for i, xi in sl.x.items() if solver.boolean_value(xi)]
            raw.append((c, _Trip(-1, sl.b, int(solver.value(sl.start)), members)))
        return _colour(self.d, raw)


def _colour(d: _Data, raw: list[tuple[int, _Trip]]) -> list[_Trip]:
    """Give each pooled trip a volunteer of its class: by start, the free one least busy so far.

    At most |class| trips of a class overlap at any instant, so a free volunteer always exists
    (greedy colouring of an interval graph in start order is optimal).
    """
    out: list[_Trip] = []
    for c, vs in enumerate(d.classes):
        free_at = dict.fromkeys(vs, -math.inf)
        busy = dict.fromkeys(vs, 0)
        mine = sorted(
            (t for k, t in raw if k == c), key=lambda t: (t.start, t.b, sorted(t.parcels))
        )
        for t in mine:
            dur = d.dur(t.b, len(t.parcels))
            v = min((v for v in vs if free_at[v] <= t.start), key=lambda v: (busy[v], v))
            free_at[v] = t.start + dur
            busy[v] += dur
            out.append(_Trip(v, t.b, t.start, t.parcels))
    return out


def _tiers(
    model: _Model,
    trips: list[_Trip],
    seed: int,
    ctl: SolveControl,
    det_time: float,
    reserve: float = 0.0,
) -> tuple[list[_Trip], list[_Tier]]:
    """Solve the tiers in turn, each fixing the previous optimum; stop on cancel or deadline.

    ``reserve`` seconds before the deadline are kept for the repair and the plan records.
    """
    cp = model.cp
    m = model.m
    done: list[_Tier] = []
    best = trips
    d = model.d
    most = sum(d.prio[i] for i in model.dlv)
    if -_score(d, trips)[0] == most:  # everything deliverable is delivered: tier 1 is proven
        done.append(_Tier(_TIERS[0], True, most, float(most)))
        for var in model.dlv.values():
            m.add(var == 1)
    per_tier = det_time / (len(_TIERS) - len(done))
    for n, (name, expr) in enumerate(zip(_TIERS, model.tiers_expr, strict=True)):
        if n < len(done):
            continue
        if ctl.cancelled:
            break
        if ctl.expired(MIN_TIER_S + reserve):
            log.warning("relay: wall-clock cap reached, tier %s not started", name)
            break
        phase = f"cp-sat {name}"
        ctl.report(phase, n / len(_TIERS), float(_score(d, best)[2]))
        if n == 0:
            m.maximize(expr)
        else:
            m.minimize(expr)
        model.hint(best)
        solver = cp.CpSolver()
        solver.parameters.num_workers = NUM_WORKERS
        solver.parameters.random_seed = seed
        solver.parameters.max_time_in_seconds = max(MIN_TIER_S, ctl.remaining() - reserve)
        solver.parameters.max_deterministic_time = per_tier
        status = ctl.solve_cp_sat(solver, m, phase)
        if status not in (cp.OPTIMAL, cp.FEASIBLE):
            log.debug("relay tier %s: no solution (status %s)", name, status)
            break
        log.debug(
            "relay tier %s: %s objective=%s bound=%s",
            name,
            solver.status_name(status),
            solver.objective_value,
            solver.best_objective_bound,
        )
        value = round(solver.objective_value)
        done.append(_Tier(name, status == cp.OPTIMAL, value, solver.best_objective_bound))
        best = model.read(solver)
        m.add(expr >= value if n == 0 else expr <= value)
    return best, done


def plan_relay(
    problem: RelayProblem,
    *,
    method: str | None = None,
    time_limit_s: float = 30.0,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    deterministic_time: float | None = 0.3,
    strict: bool = False,
) -> RelayPlan:
    """Plan the gate-to-door trips of a relay-delivery wave.

    Objective, lexicographic (each tier optimised with the previous ones fixed):

    1. ``priority_delivered``: maximise the sum of priorities of delivered parcels;
    2. ``weighted_late_s``: minimise Σ priority × seconds past each parcel's target door time;
    3. ``volunteer_s``: minimise total trip time (so parcels of a building share trips).

    Method ``"cpsat"`` (the only one, and the default): a greedy insertion plan (each parcel,
    by priority then target time, joins a trip to its building that departs after its arrival
    and can be lengthened, or starts a one-parcel trip at the earliest free moment of any
    volunteer) and a list-scheduling plan (whenever a volunteer is free, carry the most urgent
    arrived parcels of one building) give the better warm start of a CP-SAT model (OR-Tools):
    per building, as many candidate trips as parcels, each with a departure, a parcel count
    and a duration affine in it, an optional interval per (volunteer, on-duty window) and one
    ``NoOverlap`` per volunteer. The three tiers are solved in turn, each fixing the previous
    optimum and hinted with the previous solution. A final repair inserts any parcel the
    greedy rule can still place, so every undelivered parcel's reason holds. The model is
    built from records sorted by id; CP-SAT runs with one worker, ``random_seed = seed`` and a
    deterministic-time budget, so the same input, seed and options give byte-identical JSON
    whatever the input order. ``time_limit_s`` is only a wall-clock safety cap, checked by
    every phase (greedy plans, model build, CP-SAT tiers, repair): if it cuts a tier short,
    the result is still valid but may depend on timing (``info.stopped_by == "wall_clock"``);
    if it stops a greedy phase with parcels not yet placed, those get the reason
    ``TIME_LIMIT_REACHED`` and the status is ``LIMIT``. The call returns within about
    ``time_limit_s`` plus the time to write the plan records.

    Parameters
    ----------
    problem : RelayProblem
        The validated problem.
    method : {"cpsat"} or None, default None
        The planning method (:data:`METHODS`); ``None`` picks ``"cpsat"``.
    time_limit_s : float, default 30
        Wall-clock safety cap in seconds on the whole call (0 < t ≤ 3600); a reserve of
        0.05 s + 0.1 ms per parcel before it is kept for the repair and the records.
    seed : int, default 0
        CP-SAT ``random_seed`` (0 ≤ seed < 2³¹).
    progress : callable or None
        Called with a :class:`commgov.ProgressEvent` at each phase (``"greedy"``,
        ``"cp-sat <tier>"``, ``"repair"``), at least once a second while CP-SAT runs, and
        last with phase ``"done"``; ``incumbent`` and ``bound`` are on ``volunteer_s``.
    cancel : threading.Event or None
        Once set, the planner stops within about a second and returns the best valid plan
        found by then, with ``info.status`` ``CANCELLED``; parcels it had not placed get the
        reason ``CANCELLED`` (those no volunteer can take keep ``RELAY_NO_SHIFT``).
    deterministic_time : float or None, default 0.3
        CP-SAT deterministic-time budget in seconds for all tiers together (0 < t ≤ 3600;
        ``None``: 0.3), split equally among the tiers solved (a few seconds of wall-clock
        time for a wave of 400 parcels).
    strict : bool, default False
        If ``True``, raise :class:`~commgov.errors.InfeasibleError` when a parcel is
        undelivered (not in a cancelled run, nor one the time limit stopped).

    Returns
    -------
    RelayPlan
        Trips, deliveries (door times, lateness), undelivered parcels with a reason each,
        volunteer hours, totals including parcels per volunteer-hour, and
        :class:`~commgov.results.SolveInfo`: ``OPTIMAL`` when all three tiers are proven
        optimal, ``CANCELLED`` when ``cancel`` stopped the run, ``LIMIT`` when the deadline
        stopped a greedy phase with parcels untried (reason ``TIME_LIMIT_REACHED``), else
        ``FEASIBLE``. ``bound``
        is a proven lower bound on ``volunteer_s`` (seconds) over the plans as good in the
        higher tiers, and ``gap = (volunteer_s − bound) / bound``: CP-SAT's bound when tiers 1
        and 2 are proven optimal, else, when every parcel that can be delivered is, the
        counting bound Σ over buildings of the fewest trips (parcels ÷ largest capacity,
        rounded up) × (handover + 2 walks) + parcels × door time; ``None`` otherwise.

    Raises
    ------
    commgov.errors.InvalidParameterError
        If an option has the wrong type or is out of range, or ``method`` is unknown (both a
        ``ValueError`` and a ``TypeError``).
    TypeError
        If ``problem`` is not a :class:`RelayProblem`.
    commgov.errors.SizeLimitError
        If the wave has more than :data:`MAX_PARCELS` parcels.
    commgov.errors.InfeasibleError
        If ``strict`` and some parcel is undelivered.

    Notes
    -----
    The greedy plans take O(n² · v) time for ``n`` parcels and ``v`` volunteers. The CP-SAT
    model has Σ_b m_b² parcel-to-trip literals and Σ_b m_b · (volunteer classes × windows)
    optional intervals for ``m_b`` parcels of building ``b``; above :data:`MAX_MODEL_SIZE`
    literals it is skipped and the repaired greedy plan is returned as ``FEASIBLE``. Identical
    volunteers (same windows and capacity) are pooled in the model and given trips afterwards
    by greedy interval colouring, least busy first.

    References
    ----------
    .. [1] P. Laborie, J. Rogerie, P. Shaw, P. Vilím, "IBM ILOG CP optimizer for scheduling",
       *Constraints* 23 (2018) 210–250 (the interval formulation).

    Examples
    --------
    >>> from datetime import datetime
    >>> from zoneinfo import ZoneInfo
    >>> from commgov.matching.relay import GateVolunteer, Parcel, RelayBuilding, RelayProblem
    >>> from commgov.types import TimeWindow
    >>> tz = ZoneInfo("Asia/Shanghai")
    >>> at = datetime(2022, 4, 12, 8, 0, tzinfo=tz)
    >>> shift = TimeWindow(start=at, end=datetime(2022, 4, 12, 10, 0, tzinfo=tz))
    >>> p = RelayProblem(
    ...     timezone="Asia/Shanghai",
    ...     buildings=[RelayBuilding(id="b1", walk_m=160)],
    ...     parcels=[Parcel(id=f"p{i}", household_id=f"h{i}", building_id="b1", arrival=at)
    ...              for i in range(3)],
    ...     volunteers=[GateVolunteer(id="v1", availability=[shift])])
    >>> plan = plan_relay(p)
    >>> [(t.volunteer_id, t.parcel_ids, t.duration_s) for t in plan.trips]
    [('v1', ['p0', 'p1', 'p2'], 630)]
    >>> plan.info.status.value, plan.totals.parcels_per_volunteer_hour
    ('OPTIMAL', 17.143)
    """
    where = "plan_relay"
    check_options(
        where,
        time_limit_s=time_limit_s,
        seed=seed,
        progress=progress,
        cancel=cancel,
        deterministic_time=deterministic_time,
        strict=strict,
    )
    check_choice(where, "method", METHODS[0] if method is None else method, METHODS)
    expect_type(problem, RelayProblem, "problem", "build one with RelayProblem(...)")
    det_time = _DEFAULT_DET_TIME if deterministic_time is None else float(deterministic_time)
    ctl = SolveControl(where, time_limit_s, progress, cancel)
    check_size("relay wave: parcels", len(problem.parcels), MAX_PARCELS, "split it into waves")

    # every phase asks this (greedy plans, model build, repair): the one deadline and cancel
    stop = ctl.should_stop
    d = _prepare(problem)
    deliverable = [i for i in range(len(d.parcels)) if d.duty_fits(i)]
    ctl.report("greedy", 0.0)
    trips, tiers, used_cp = _search(d, deliverable, seed, ctl, det_time, stop)
    ctl.report("repair", 0.9)
    final = _Schedule(d)
    for t in trips:
        final.add(_Trip(t.vol, t.b, t.start, sorted(t.parcels)))
    placed = {i for t in trips for i in t.parcels}
    before = len(placed)
    left = final.fill(_greedy_order(d, [i for i in deliverable if i not in placed]), stop)
    untried = set(left) if final.cut else set()
    repaired = sum(len(t.parcels) for t in final.trips()) > before
    final = _left_shift(d, final)
    proven = len(tiers) == 3 and not repaired and all(t.proven for t in tiers)
    status = SolveStatus.OPTIMAL if proven or not deliverable else SolveStatus.FEASIBLE
    untried_reason = Reason(code=CommonReasonCode.CANCELLED)
    if ctl.stopped_by == "cancel":
        status = SolveStatus.CANCELLED
    elif untried:  # the deadline stopped a greedy fill with parcels not placed
        status = SolveStatus.LIMIT
        untried_reason = Reason(
            code=CommonReasonCode.TIME_LIMIT_REACHED, params={"time_limit_s": float(time_limit_s)}
        )
    bound = _bound(d, deliverable, final, tiers, repaired)
    options = {
        "time_limit_s": float(time_limit_s),
        "deterministic_time": det_time,
        "num_workers": NUM_WORKERS,
        "strict": strict,
    }
    solver = "cp-sat" if used_cp else "greedy"
    plan = _build_plan(
        d, final, status, bound, options, seed, solver, untried, ctl.stopped_by, untried_reason
    )
    ctl.done(float(plan.totals.volunteer_s), bound)
    if strict and plan.undelivered and status not in (SolveStatus.CANCELLED, SolveStatus.LIMIT):
        raise InfeasibleError(
            f"{len(plan.undelivered)} parcels could not be delivered",
            [u.parcel_id for u in plan.undelivered],
        )
    return plan


def _search(
    d: _Data,
    deliverable: list[int],
    seed: int,
    ctl: SolveControl,
    det_time: float,
    stop: Any,
) -> tuple[list[_Trip], list[_Tier], bool]:
    """The better greedy plan improved by the CP-SAT tiers: (trips, tiers solved, CP-SAT used).

    When ``stop()`` becomes true (deadline or cancel), the best plan found so far (possibly a
    partial greedy plan) is returned; the CP-SAT model is not built, or not solved, once the
    deadline is near.
    """
    sched = _Schedule(d)
    sched.fill(_greedy_order(d, deliverable), stop)
    if sched.cut:
        return sched.trips(), [], False
    reserve = _reserve_s(len(d.parcels))
    trips = sched.trips()
    dispatched = _dispatch(d, deliverable, stop)
    if dispatched is not None:
        disp = _Schedule(d)
        for t in dispatched:
            disp.add(t)
        placed0 = {i for t in disp.trips() for i in t.parcels}
        disp.fill(_greedy_order(d, [i for i in deliverable if i not in placed0]), stop)
        if not disp.cut:
            trips = min(sched.trips(), disp.trips(), key=lambda ts: _score(d, ts))
            log.debug(
                "relay greedy: insertion %s, dispatch %s",
                _score(d, sched.trips()),
                _score(d, disp.trips()),
            )
    per_building = Counter(d.bld[j] for j in deliverable)
    windows = sum(map(len, d.windows))
    size = sum(c * (c + windows) for c in per_building.values())
    if not deliverable or stop():
        return trips, [], False
    if size > MAX_MODEL_SIZE:
        log.warning("relay: model size %d > %d, greedy plan only", size, MAX_MODEL_SIZE)
        return trips, [], False
    if ctl.expired(MIN_TIER_S + reserve):  # no time for a tier: keep the greedy plan
        log.warning("relay: wall-clock cap reached, CP-SAT not started")
        return trips, [], False
    try:
        model = _Model(d, deliverable, lambda: ctl.should_stop(MIN_TIER_S + reserve))
    except _StopBuildError:
        log.warning("relay: stopped while the CP-SAT model was built; greedy plan kept")
        return trips, [], False
    trips, tiers = _tiers(model, trips, seed, ctl, det_time, reserve)
    return trips, tiers, True


def _reserve_s(parcels: int) -> float:
    """Seconds kept before the deadline for the repair and the plan records of a wave."""
    return 0.05 + 1e-4 * parcels


def _bound(
    d: _Data, deliverable: list[int], final: _Schedule, tiers: list[_Tier], repaired: bool
) -> float | None:
    """A proven lower bound on ``volunteer_s`` over the plans as good in tiers 1 and 2."""
    bound: float | None = 0.0 if not deliverable else None
    if set(deliverable) <= _placed(final):
        # every plan as good in tier 1 delivers every deliverable parcel: a counting bound
        bound = float(_volunteer_lb(d, deliverable))
    if len(tiers) == 3 and not repaired and tiers[0].proven and tiers[1].proven:
        last = tiers[2]
        cp_bound = integer_bound(last.value if last.proven else None, last.bound)
        if cp_bound is not None:
            bound = cp_bound if bound is None else max(bound, cp_bound)
    return bound
