"""Relay planner: greedy insertion warm start, CP-SAT in three lexicographic tiers, repair.

Times are whole seconds after ``origin`` (the earliest arrival or on-duty start; all inputs
are whole seconds, checked by :class:`RelayProblem`). CP-SAT model, per building ``b`` with
``m`` deliverable parcels, ``m`` candidate trips ``j`` (at most one trip per parcel)::

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

import bisect
import logging
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from commgov.errors import InfeasibleError, SizeLimitError, expect_type
from commgov.matching.relay import (
    GateVolunteer,
    Parcel,
    RelayBuilding,
    RelayDelivery,
    RelayPlan,
    RelayProblem,
    RelayTotals,
    RelayTrip,
    UndeliveredParcel,
    VolunteerHours,
    door_seconds,
    lateness_seconds,
    on_duty,
    target_door_time,
    to_seconds,
    walk_metres,
    walk_seconds,
)
from commgov.results import Reason, ReasonCode, SolveInfo, SolveStatus, library_versions

__all__ = ["MAX_MODEL_SIZE", "MAX_PARCELS", "NUM_WORKERS", "solve_relay"]

log = logging.getLogger("commgov.matching")

#: Size guard: a wave may have at most this many parcels.
MAX_PARCELS = 20_000
#: Above this many model literals (x plus optional intervals) CP-SAT is skipped and the greedy
#: plan (with repair) is returned as ``FEASIBLE``.
MAX_MODEL_SIZE = 400_000
NUM_WORKERS = 1
#: A CP-SAT tier is not started with less wall-clock time than this left.
MIN_TIER_S = 0.05
_SECOND = timedelta(seconds=1)
_TIERS = ("priority_delivered", "weighted_late_s", "volunteer_s")


@dataclass
class _Data:
    problem: RelayProblem
    origin: datetime
    parcels: list[Parcel]
    buildings: list[RelayBuilding]
    vols: list[GateVolunteer]
    bld: list[int]  # building index of each parcel
    arr: list[int]
    tgt: list[int]
    prio: list[int]
    walk_m: list[int]
    walk_s: list[int]
    door_s: list[int]
    hand_s: int
    cap: list[int]
    windows: list[list[tuple[int, int]]]  # per volunteer, merged, sorted
    horizon: int
    classes: list[list[int]]  # volunteers with the same windows and capacity, by id
    klass: list[int]  # class of each volunteer

    def dur(self, b: int, n: int) -> int:
        return self.hand_s + 2 * self.walk_s[b] + n * self.door_s[b]

    def door_off(self, b: int, n: int) -> int:
        return self.hand_s + self.walk_s[b] + n * self.door_s[b]

    def duty_fits(self, i: int) -> list[int]:
        """Volunteers with a window fitting a one-parcel trip for parcel i after its arrival."""
        b, a = self.bld[i], self.arr[i]
        need = self.dur(b, 1)
        return [
            v
            for v, wins in enumerate(self.windows)
            if any(max(a, ws) + need <= we for ws, we in wins)
        ]


def _secs(d: datetime, origin: datetime) -> int:
    return (d - origin) // _SECOND


def _prepare(problem: RelayProblem) -> _Data:
    parcels = sorted(problem.parcels, key=lambda p: p.id)
    buildings = sorted(problem.buildings, key=lambda b: b.id)
    vols = sorted(problem.volunteers, key=lambda v: v.id)
    duty = [on_duty(v) for v in vols]
    instants = [p.arrival for p in parcels] + [w.start for ws in duty for w in ws]
    origin = min(instants) if instants else datetime(2000, 1, 1, tzinfo=UTC)
    bidx = {b.id: k for k, b in enumerate(buildings)}
    windows = [[(_secs(w.start, origin), _secs(w.end, origin)) for w in ws] for ws in duty]
    ends = [we for ws in windows for _s, we in ws]
    caps = [problem.capacity(v) for v in vols]
    keys: dict[tuple[Any, ...], int] = {}
    klass = [keys.setdefault((tuple(w), c), len(keys)) for w, c in zip(windows, caps, strict=True)]
    classes: list[list[int]] = [[] for _ in keys]
    for v, c in enumerate(klass):
        classes[c].append(v)
    return _Data(
        problem=problem,
        origin=origin,
        parcels=parcels,
        buildings=buildings,
        vols=vols,
        bld=[bidx[p.building_id] for p in parcels],
        arr=[_secs(p.arrival, origin) for p in parcels],
        tgt=[_secs(target_door_time(problem, p), origin) for p in parcels],
        prio=[p.priority for p in parcels],
        walk_m=[walk_metres(problem, b) for b in buildings],
        walk_s=[walk_seconds(problem, b) for b in buildings],
        door_s=[door_seconds(problem, b) for b in buildings],
        hand_s=to_seconds(problem.handover_minutes),
        cap=caps,
        windows=windows,
        horizon=max(ends, default=0),
        classes=classes,
        klass=klass,
    )


@dataclass
class _Trip:
    vol: int
    b: int
    start: int
    parcels: list[int]
    end: int = 0


@dataclass
class _Schedule:
    """Trips per volunteer, sorted by start, with the greedy insertion rule."""

    d: _Data
    by_vol: list[list[_Trip]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.by_vol:
            self.by_vol = [[] for _ in self.d.vols]

    def add(self, trip: _Trip) -> None:
        trip.end = trip.start + self.d.dur(trip.b, len(trip.parcels))
        trips = self.by_vol[trip.vol]
        trips.insert(bisect.bisect_right([t.start for t in trips], trip.start), trip)

    def trips(self) -> list[_Trip]:
        return [t for trips in self.by_vol for t in trips]

    def _free(self, v: int, s: int, e: int) -> bool:
        trips = self.by_vol[v]
        k = bisect.bisect_right([t.start for t in trips], s)
        if k > 0 and trips[k - 1].end > s:
            return False
        return not (k < len(trips) and trips[k].start < e)

    def _window_end(self, v: int, s: int) -> int | None:
        for ws, we in self.d.windows[v]:
            if ws <= s < we:
                return we
        return None

    def insert(self, i: int) -> bool:
        """Insert parcel i by the greedy rule; ``False`` if no extension or new trip fits."""
        d = self.d
        b, a, tgt = d.bld[i], d.arr[i], d.tgt[i]
        best: tuple[tuple[int, ...], Any] | None = None
        one = d.dur(b, 1)
        for v, trips in enumerate(self.by_vol):
            for k, tr in enumerate(trips):
                if tr.b != b or tr.start < a or len(tr.parcels) >= d.cap[v]:
                    continue
                new_end = tr.end + d.door_s[b]
                nxt = trips[k + 1].start if k + 1 < len(trips) else math.inf
                wend = self._window_end(v, tr.start)
                if new_end > nxt or wend is None or new_end > wend:
                    continue
                door = tr.start + d.door_off(b, len(tr.parcels) + 1)
                key = (max(0, door - tgt), d.door_s[b], door, v, tr.start)
                if best is None or key < best[0]:
                    best = (key, tr)
            starts = sorted(
                {max(a, ws) for ws, _we in d.windows[v]} | {t.end for t in trips if t.end >= a}
            )
            for s in starts:
                wend = self._window_end(v, s)
                if wend is not None and s + one <= wend and self._free(v, s, s + one):
                    door = s + d.door_off(b, 1)
                    key = (max(0, door - tgt), one, door, v, s)
                    if best is None or key < best[0]:
                        best = (key, (v, s))
                    break
        if best is None:
            return False
        target = best[1]
        if isinstance(target, _Trip):
            target.parcels.append(i)
            target.end += d.door_s[b]
        else:
            v, s = target
            self.add(_Trip(v, b, s, [i]))
        return True

    def fill(self, todo: list[int]) -> list[int]:
        """Insert parcels in the given order, in passes until none fits; return those left."""
        left = list(todo)
        while True:
            still = [i for i in left if not self.insert(i)]
            if len(still) == len(left):
                return still
            left = still


def _greedy_order(d: _Data, idx: list[int]) -> list[int]:
    return sorted(idx, key=lambda i: (-d.prio[i], d.tgt[i], d.arr[i], i))


def _dispatch(d: _Data, deliverable: list[int]) -> list[_Trip]:
    """List scheduling: whenever a volunteer is free, carry the most urgent arrived parcels.

    The volunteer free first (ties by id) takes, of the parcels already at the gate, the
    building of the most urgent one (priority, then target time) among buildings whose trip
    still fits the on-duty window, and carries up to its capacity of that building's parcels,
    most urgent first. Parcels waiting while volunteers are out are thereby batched.
    """
    pending = sorted(deliverable, key=lambda i: (d.arr[i], i))
    urgency = {i: (-d.prio[i], d.tgt[i], i) for i in deliverable}
    free = [min((ws for ws, _we in w), default=0) for w in d.windows]
    trips: list[_Trip] = []
    while pending:
        first = d.arr[pending[0]]
        best: tuple[int, int, int] | None = None  # (time, volunteer, window end)
        for v, wins in enumerate(d.windows):
            for ws, we in wins:
                t = max(free[v], first, ws)
                if t < we and (best is None or (t, v) < best[:2]):
                    best = (t, v, we)
                    break
        if best is None:
            break
        t, v, we = best
        here = [i for i in pending if d.arr[i] <= t and t + d.dur(d.bld[i], 1) <= we]
        if not here:
            nxt = [d.arr[i] for i in pending if d.arr[i] > t]
            # nothing fits now: wait for the next arrival, or give up this window
            free[v] = min(nxt) if nxt and min(nxt) < we else we
            continue
        lead = min(here, key=lambda i: urgency[i])
        b = d.bld[lead]
        same = sorted((i for i in here if d.bld[i] == b), key=lambda i: urgency[i])
        n = 1
        while n < min(len(same), d.cap[v]) and t + d.dur(b, n + 1) <= we:
            n += 1
        chosen = same[:n]
        trips.append(_Trip(v, b, t, chosen))
        free[v] = t + d.dur(b, n)
        taken = set(chosen)
        pending = [i for i in pending if i not in taken]
    return trips


def _score(d: _Data, trips: list[_Trip]) -> tuple[int, int, int]:
    """(−priority delivered, weighted lateness, volunteer seconds): smaller is better."""
    prio = late = busy = 0
    for t in trips:
        n = len(t.parcels)
        door = t.start + d.door_off(t.b, n)
        busy += d.dur(t.b, n)
        for i in t.parcels:
            prio += d.prio[i]
            late += d.prio[i] * max(0, door - d.tgt[i])
    return (-prio, late, busy)


# ------------------------------------------------------------------------------- CP-SAT


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


class _Model:
    def __init__(self, d: _Data, deliverable: list[int]) -> None:
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
    model: _Model, trips: list[_Trip], seed: int, deadline: float, det_time: float
) -> tuple[list[_Trip], list[_Tier]]:
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
        left = deadline - time.monotonic()
        if left < MIN_TIER_S:
            log.warning("relay: wall-clock cap reached, tier %s not started", name)
            break
        if n == 0:
            m.maximize(expr)
        else:
            m.minimize(expr)
        model.hint(best)
        solver = cp.CpSolver()
        solver.parameters.num_workers = NUM_WORKERS
        solver.parameters.random_seed = seed
        solver.parameters.max_time_in_seconds = left
        solver.parameters.max_deterministic_time = per_tier
        status = solver.solve(m)
        log.debug(
            "relay tier %s: %s objective=%s bound=%s",
            name,
            solver.status_name(status),
            solver.objective_value,
            solver.best_objective_bound,
        )
        if status not in (cp.OPTIMAL, cp.FEASIBLE):
            break
        value = round(solver.objective_value)
        done.append(_Tier(name, status == cp.OPTIMAL, value, solver.best_objective_bound))
        best = model.read(solver)
        m.add(expr >= value if n == 0 else expr <= value)
    return best, done


# ----------------------------------------------------------------------------- the plan


def _check_options(time_limit_s: float, deterministic_time: float, seed: int) -> None:
    for name, value in (("time_limit_s", time_limit_s), ("deterministic_time", deterministic_time)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
        if not 0 < value < math.inf:
            raise ValueError(f"{name} must be a positive, finite number, got {value!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, not {type(seed).__name__}")
    if not 0 <= seed < 2**31:
        raise ValueError(f"seed must be in [0, 2**31), got {seed}")


def solve_relay(
    problem: RelayProblem,
    *,
    time_limit_s: float,
    deterministic_time: float,
    seed: int,
    strict: bool,
) -> RelayPlan:
    """See :func:`commgov.matching.plan_relay`."""
    start = time.monotonic()
    expect_type(problem, RelayProblem, "problem", "build one with RelayProblem(...)")
    _check_options(time_limit_s, deterministic_time, seed)
    if len(problem.parcels) > MAX_PARCELS:
        raise SizeLimitError(
            f"relay wave has {len(problem.parcels)} parcels (limit {MAX_PARCELS}); "
            "split it into waves"
        )
    d = _prepare(problem)
    n = len(d.parcels)
    deliverable = [i for i in range(n) if d.duty_fits(i)]
    sched = _Schedule(d)
    sched.fill(_greedy_order(d, deliverable))
    disp = _Schedule(d)
    for t in _dispatch(d, deliverable):
        disp.add(t)
    placed0 = {i for t in disp.trips() for i in t.parcels}
    disp.fill(_greedy_order(d, [i for i in deliverable if i not in placed0]))
    trips = min(sched.trips(), disp.trips(), key=lambda ts: _score(d, ts))
    log.debug(
        "relay greedy: insertion %s, dispatch %s", _score(d, sched.trips()), _score(d, disp.trips())
    )
    tiers: list[_Tier] = []
    size = sum(
        (c := sum(1 for j in deliverable if d.bld[j] == b)) * (c + sum(map(len, d.windows)))
        for b in range(len(d.buildings))
    )
    used_cp = False
    if deliverable and size <= MAX_MODEL_SIZE:
        used_cp = True
        model = _Model(d, deliverable)
        trips, tiers = _tiers(
            model, trips, seed, start + float(time_limit_s), float(deterministic_time)
        )
    elif deliverable:
        log.warning("relay: model size %d > %d, greedy plan only", size, MAX_MODEL_SIZE)
    final = _Schedule(d)
    for t in trips:
        final.add(_Trip(t.vol, t.b, t.start, sorted(t.parcels)))
    placed = {i for t in trips for i in t.parcels}
    before = len(placed)
    final.fill(_greedy_order(d, [i for i in deliverable if i not in placed]))
    repaired = sum(len(t.parcels) for t in final.trips()) > before
    final = _left_shift(d, final)
    proven = len(tiers) == 3 and not repaired and all(t.proven for t in tiers)
    status = SolveStatus.OPTIMAL if proven or not deliverable else SolveStatus.FEASIBLE
    bound: float | None = 0.0 if not deliverable else None
    if set(deliverable) <= final_placed(final):
        # every plan as good in tier 1 delivers every deliverable parcel: a counting bound
        bound = float(_volunteer_lb(d, deliverable))
    if len(tiers) == 3 and not repaired and tiers[0].proven and tiers[1].proven:
        last = tiers[2]
        cp_bound = None
        if last.proven:
            cp_bound = float(last.value)
        elif last.bound is not None and math.isfinite(last.bound):
            cp_bound = float(max(0, math.ceil(last.bound - 1e-6)))
        if cp_bound is not None:
            bound = cp_bound if bound is None else max(bound, cp_bound)
    options = {
        "time_limit_s": float(time_limit_s),
        "deterministic_time": float(deterministic_time),
        "num_workers": NUM_WORKERS,
        "strict": strict,
    }
    solver = "cp-sat" if used_cp else "greedy"
    plan = _build_plan(d, final, status, bound, options, seed, solver)
    if strict and plan.undelivered:
        raise InfeasibleError(
            f"{len(plan.undelivered)} parcels could not be delivered",
            [u.parcel_id for u in plan.undelivered],
        )
    return plan


def _left_shift(d: _Data, sched: _Schedule) -> _Schedule:
    """Each volunteer's trips, in the same order, departing as early as allowed.

    A trip departs at the latest of: its parcels' arrival at the gate, the end of the
    volunteer's previous trip, and the start of the availability window it was in. Trips only
    move earlier, so every rule still holds, door times (and lateness) can only fall, and the
    volunteer time is unchanged: all three tiers keep their values. The CP-SAT tiers leave
    departures free once lateness is zero; this removes idle waiting at the gate.
    """
    out = _Schedule(d)
    for v, trips in enumerate(sched.by_vol):
        prev_end = -math.inf
        for t in trips:
            ready = max(d.arr[i] for i in t.parcels)
            win_start = next(
                (ws for ws, we in d.windows[v] if ws <= t.start and t.end <= we), t.start
            )
            start = int(max(ready, prev_end, win_start))
            start = min(start, t.start)
            moved = _Trip(v, t.b, start, list(t.parcels))
            out.add(moved)
            prev_end = moved.end
    return out


def final_placed(sched: _Schedule) -> set[int]:
    return {i for t in sched.trips() for i in t.parcels}


def _volunteer_lb(d: _Data, parcels: list[int]) -> int:
    """Least trip time delivering these parcels: fewest trips per building, full doors."""
    count: dict[int, int] = {}
    for i in parcels:
        count[d.bld[i]] = count.get(d.bld[i], 0) + 1
    k = max(d.cap, default=1)
    return sum(-(-m // k) * d.dur(b, 0) + m * d.door_s[b] for b, m in count.items())


def _build_plan(
    d: _Data,
    sched: _Schedule,
    status: SolveStatus,
    bound: float | None,
    options: dict[str, Any],
    seed: int,
    solver: str,
) -> RelayPlan:
    o = d.origin

    def at(s: int) -> datetime:
        return o + timedelta(seconds=s)

    trips: list[RelayTrip] = []
    deliveries: list[RelayDelivery] = []
    busy = [0] * len(d.vols)
    ntrips = [0] * len(d.vols)
    nparcels = [0] * len(d.vols)
    for v, vtrips in enumerate(sched.by_vol):
        for t in vtrips:
            n = len(t.parcels)
            dur = d.dur(t.b, n)
            door = at(t.start + d.door_off(t.b, n))
            ids = sorted(d.parcels[i].id for i in t.parcels)
            trips.append(
                RelayTrip(
                    volunteer_id=d.vols[v].id,
                    building_id=d.buildings[t.b].id,
                    parcel_ids=ids,
                    depart=at(t.start),
                    door=door,
                    back=at(t.start + dur),
                    walk_m=d.walk_m[t.b],
                    duration_s=dur,
                )
            )
            busy[v] += dur
            ntrips[v] += 1
            nparcels[v] += n
            for i in t.parcels:
                p = d.parcels[i]
                deliveries.append(
                    RelayDelivery(
                        parcel_id=p.id,
                        volunteer_id=d.vols[v].id,
                        building_id=p.building_id,
                        door=door,
                        late_s=lateness_seconds(door, target_door_time(d.problem, p)),
                        priority=p.priority,
                    )
                )
    deliveries.sort(key=lambda x: x.parcel_id)
    done = {x.parcel_id for x in deliveries}
    undelivered = []
    for i, p in enumerate(d.parcels):
        if p.id in done:
            continue
        fits = d.duty_fits(i)
        reason = (
            Reason(code=ReasonCode.RELAY_VOLUNTEERS_BUSY, params={"eligible": len(fits)})
            if fits
            else Reason(code=ReasonCode.RELAY_NO_SHIFT)
        )
        undelivered.append(UndeliveredParcel(parcel_id=p.id, priority=p.priority, reasons=[reason]))
    hours = [
        VolunteerHours(
            volunteer_id=v.id,
            trips=ntrips[k],
            parcels=nparcels[k],
            busy_s=busy[k],
            hours=busy[k] / 3600,
        )
        for k, v in enumerate(d.vols)
    ]
    totals = relay_totals(d.problem, trips, deliveries)
    volunteer_s = totals.volunteer_s
    gap: float | None = None
    if bound is not None:
        gap = (volunteer_s - bound) / bound if bound > 0 else (0.0 if volunteer_s == 0 else None)
    info = SolveInfo(
        status=status,
        solver=solver,
        objective={
            "priority_delivered": float(totals.priority_delivered),
            "weighted_late_s": float(totals.weighted_late_s),
            "volunteer_s": float(volunteer_s),
        },
        bound=bound,
        gap=gap,
        options=options,
        seed=seed,
        versions=library_versions("ortools"),
    )
    return RelayPlan(
        trips=trips,
        deliveries=deliveries,
        undelivered=undelivered,
        volunteers=hours,
        totals=totals,
        info=info,
    )


def relay_totals(
    problem: RelayProblem, trips: list[RelayTrip], deliveries: list[RelayDelivery]
) -> RelayTotals:
    volunteer_s = sum(t.duration_s for t in trips)
    delivered = len(deliveries)
    hours = volunteer_s / 3600
    return RelayTotals(
        parcels=len(problem.parcels),
        delivered=delivered,
        undelivered=len(problem.parcels) - delivered,
        trips=len(trips),
        priority_delivered=sum(x.priority for x in deliveries),
        priority_total=sum(p.priority for p in problem.parcels),
        late_parcels=sum(1 for x in deliveries if x.late_s > 0),
        late_s=sum(x.late_s for x in deliveries),
        weighted_late_s=sum(x.late_s * x.priority for x in deliveries),
        volunteer_s=volunteer_s,
        volunteer_hours=hours,
        parcels_per_volunteer_hour=round(delivered / hours, 3) if volunteer_s else 0.0,
        last_door=max((x.door for x in deliveries), default=None),
    )
