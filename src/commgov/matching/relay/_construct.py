"""Relay plan construction (private): data in whole seconds, greedy rules, plan assembly.

Times are whole seconds after ``origin`` (the earliest arrival or on-duty start; all inputs
are whole seconds, checked by :class:`~commgov.matching.relay.RelayProblem`). Two greedy
plans, insertion (:meth:`_Schedule.fill`) and list scheduling (:func:`_dispatch`), give the
CP-SAT model its warm start; the insertion rule also repairs the final plan, so the reason of
every undelivered parcel holds; :func:`_build_plan` turns a schedule into a
:class:`~commgov.matching.relay.RelayPlan`.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from commgov._control import StoppedBy
from commgov.matching.relay._problem import (
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
)
from commgov.matching.relay._rules import (
    RelayReasonCode,
    door_seconds,
    lateness_seconds,
    on_duty,
    target_door_time,
    walk_metres,
    walk_seconds,
)
from commgov.results import CommonReasonCode, Reason, SolveInfo, SolveStatus, library_versions
from commgov.types import to_seconds

__all__: list[str] = []

_SECOND = timedelta(seconds=1)

#: A stop test: called between steps, true once the run must stop (deadline or cancel).
Stop = Callable[[], bool]


def _never() -> bool:
    return False


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
    #: Whether a :meth:`fill` was stopped before it had tried every parcel.
    cut: bool = False

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

    def fill(self, todo: list[int], stop: Stop = _never) -> list[int]:
        """Insert parcels in the given order, in passes until none fits; return those left.

        ``stop`` is asked before each insertion; once it is true the fill ends at once,
        :attr:`cut` becomes ``True`` and every parcel not placed is returned.
        """
        left = list(todo)
        while True:
            still: list[int] = []
            for k, i in enumerate(left):
                if stop():
                    self.cut = True
                    return still + left[k:]
                if not self.insert(i):
                    still.append(i)
            if len(still) == len(left):
                return still
            left = still


def _greedy_order(d: _Data, idx: list[int]) -> list[int]:
    return sorted(idx, key=lambda i: (-d.prio[i], d.tgt[i], d.arr[i], i))


def _dispatch(d: _Data, deliverable: list[int], stop: Stop = _never) -> list[_Trip] | None:
    """List scheduling: whenever a volunteer is free, carry the most urgent arrived parcels.

    The volunteer free first (ties by id) takes, of the parcels already at the gate, the
    building of the most urgent one (priority, then target time) among buildings whose trip
    still fits the on-duty window, and carries up to its capacity of that building's parcels,
    most urgent first. Parcels waiting while volunteers are out are thereby batched.
    ``None`` if ``stop()`` became true before the plan was complete.
    """
    pending = sorted(deliverable, key=lambda i: (d.arr[i], i))
    urgency = {i: (-d.prio[i], d.tgt[i], i) for i in deliverable}
    free = [min((ws for ws, _we in w), default=0) for w in d.windows]
    trips: list[_Trip] = []
    while pending:
        if stop():
            return None
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


def _placed(sched: _Schedule) -> set[int]:
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
    untried: set[int],
    stopped_by: StoppedBy | None,
    untried_reason: Reason | None = None,
) -> RelayPlan:
    """The plan of a schedule; parcels in ``untried`` (a stopped run had not placed them) get
    ``untried_reason`` (default ``CANCELLED``; ``TIME_LIMIT_REACHED`` when the deadline
    stopped the run)."""
    if untried_reason is None:
        untried_reason = Reason(code=CommonReasonCode.CANCELLED)
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
        if i in untried:
            reason = untried_reason
        elif fits:
            reason = Reason(
                code=RelayReasonCode.RELAY_VOLUNTEERS_BUSY, params={"eligible": len(fits)}
            )
        else:
            reason = Reason(code=RelayReasonCode.RELAY_NO_SHIFT)
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
    totals = _relay_totals(d.problem, trips, deliveries)
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
        stopped_by=stopped_by,
    )
    return RelayPlan(
        trips=trips,
        deliveries=deliveries,
        undelivered=undelivered,
        volunteers=hours,
        totals=totals,
        info=info,
    )


def _relay_totals(
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
