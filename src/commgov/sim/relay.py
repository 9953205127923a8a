"""Relay delivery (接力配送) as a simulation: riders → gate shelf → volunteers' trips (SimPy).

Model
-----
Riders drop parcels at the compound gate (:func:`rider_arrivals`: a Poisson stream of riders,
each with a batch of parcels for buildings drawn by weight; or :func:`schedule_arrivals`: the
parcels of a :class:`commgov.matching.RelayProblem` at their ``arrival`` instants). Parcels wait
on the gate shelf. The shelf holds ``shelf_capacity`` parcels; a parcel arriving at a full shelf
is logged as an overflow and waits on the ground (it is still delivered, in turn).

Volunteers (:class:`RelayVolunteer`) work in on-duty windows. An idle volunteer at the gate
takes the oldest parcel on the shelf and up to ``capacity − 1`` more parcels of the same
building, oldest first (grouping by building, as :mod:`commgov.matching.relay` plans it), and
makes a trip: ``handover_min`` at the gate, the walk ``walk_m / walking_speed_m_per_min``
(80 m/min, DESIGN.md), ``door_min`` per parcel in the building (door and stairs: see
:func:`gate_from_problem`), and the walk back. Parcel *i* of a trip reaches its door after the
handover, the walk and *i* door times. Trip times may be scaled by a lognormal factor of mean 1
and coefficient of variation ``trip_cv`` (per-volunteer stream) and by fatigue
(``1 + fatigue_per_hour × hours already worked``; :mod:`commgov.sim.shifts`). A volunteer
starts trips only inside an on-duty window and finishes the trip under way when it ends.

This is the two-stage tandem of reference/simulation.md §4.3 (batched arrivals, a shelf,
carriers of capacity *k*); a volunteer's saturated throughput is ``k / cycle time``.

Randomness
----------
``rngs(stream, entity)`` (the engine's ``ctx.rng``): stream ``"sim_relay_riders"`` with entities
``"<source>"`` (gaps), ``"<source>/count"`` (parcels per rider) and ``"<source>/building"``
(destinations), each drawn in fixed chunks; stream ``"sim_relay_trips"`` with entity the
volunteer id (trip-time factors). Removing a volunteer leaves the parcels and every other
volunteer's draws unchanged. The registered submodel (:func:`relay`) scopes these entities by
the community, ``"<community>/riders"`` and ``"<community>/relay-v001"``, so the communities of
a district scenario draw independently and a community draws the same alone or in its
district.

Events (:class:`commgov.sim.EventLog` kinds)
------------------------------------------------
``parcel_at_gate``
    Entity parcel, actor rider id, value parcels on the shelf after it (overflow included).
``shelf_overflow``
    The parcel found the shelf full; entity parcel, actor rider, value shelf capacity.
``trip_start``
    Entity building, actor volunteer, value parcels carried.
``parcel_delivered``
    Entity parcel, actor volunteer, value gate-to-door minutes (door time − gate arrival).
``trip_end``
    Entity building, actor volunteer, value trip minutes.
``volunteer_joined``, ``volunteer_left``
    Registered submodel only: a recruit starts, or a volunteer leaves for good (attrition);
    entity volunteer, actor ``"relay"``.
``volunteer_busy``
    The engine's shared kind: entity volunteer, actor ``"relay"``, value trip minutes (logged at
    the trip start; summed into ``volunteer_hours``).

All times are float minutes of simulated time.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import simpy
from pydantic import Field

from commgov.errors import InputError
from commgov.sim._engine import SimContext, register_submodel
from commgov.sim._log import EventLog
from commgov.sim._policies import SubmodelParams
from commgov.sim.shifts import (
    fatigue_factor,
    leave_times,
    recruit_times,
    shift_windows,
    truncate_windows,
)

if TYPE_CHECKING:
    from commgov.matching.relay import RelayProblem

__all__ = [
    "RIDER_STREAM",
    "TRIP_STREAM",
    "GateBuilding",
    "ParcelArrivals",
    "RelayGate",
    "RelayKpis",
    "RelayParams",
    "RelayVolunteer",
    "gate_from_problem",
    "relay",
    "relay_kpis",
    "relay_process",
    "rider_arrivals",
    "run_relay",
    "schedule_arrivals",
    "volunteers_from_problem",
]

#: Stream of rider gaps, batch sizes and destinations (entity: the rider source).
RIDER_STREAM = "sim_relay_riders"
#: Stream of trip-time factors (entity: the volunteer id).
TRIP_STREAM = "sim_relay_trips"

RngFactory = Callable[[str, str], np.random.Generator]

_CHUNK = 1024


@dataclass(frozen=True, slots=True)
class GateBuilding:
    """A building served from the gate.

    Parameters
    ----------
    id : str
    walk_m : float
        One-way walking distance gate → building, metres, ≥ 0.
    door_min : float
        Minutes per parcel in the building (knock, stairs, contact-free handover), ≥ 0.
    weight : float, default 1
        Relative share of the parcels for :func:`rider_arrivals` (e.g. its households), ≥ 0.
    """

    id: str
    walk_m: float
    door_min: float
    weight: float = 1.0

    def __post_init__(self) -> None:
        if not (self.walk_m >= 0 and self.door_min >= 0 and self.weight >= 0):
            raise ValueError(f"building {self.id}: walk_m, door_min, weight must be ≥ 0")


@dataclass(frozen=True, slots=True)
class RelayGate:
    """The gate, its shelf and the walking rules.

    Parameters
    ----------
    buildings : tuple of GateBuilding
    shelf_capacity : int or None, default None
        Parcels the shelf holds; ``None``: unlimited.
    walking_speed_m_per_min : float, default 80
        Walking speed carrying parcels (DESIGN.md), > 0.
    handover_min : float, default 2
        Minutes at the gate per trip (collect and check parcels), ≥ 0.
    trip_cv : float, default 0
        Coefficient of variation of a lognormal factor of mean 1 on each trip's time; 0: none.
    """

    buildings: tuple[GateBuilding, ...]
    shelf_capacity: int | None = None
    walking_speed_m_per_min: float = 80.0
    handover_min: float = 2.0
    trip_cv: float = 0.0

    def __post_init__(self) -> None:
        if self.shelf_capacity is not None and self.shelf_capacity < 0:
            raise ValueError("shelf_capacity must be ≥ 0 or None")
        if not self.walking_speed_m_per_min > 0:
            raise ValueError("walking_speed_m_per_min must be > 0")
        if not (self.handover_min >= 0 and self.trip_cv >= 0):
            raise ValueError("handover_min and trip_cv must be ≥ 0")
        ids = [b.id for b in self.buildings]
        if len(set(ids)) != len(ids):
            raise ValueError("building ids must be unique")


@dataclass(frozen=True, slots=True)
class RelayVolunteer:
    """A gate volunteer.

    Parameters
    ----------
    id : str
        Pseudonymous id (the entity key of its trip-time stream).
    capacity : int, default 4
        Most parcels per trip, ≥ 1.
    windows : tuple of (float, float), default always on duty
        On-duty windows ``[start, end)`` in simulated minutes, sorted, not overlapping.
    fatigue_per_hour : float, default 0
        Trip times grow by this fraction per hour of trips already made (0.05: +5 %/h).
    """

    id: str
    capacity: int = 4
    windows: tuple[tuple[float, float], ...] = ((0.0, math.inf),)
    fatigue_per_hour: float = 0.0

    def __post_init__(self) -> None:
        if self.capacity < 1:
            raise ValueError(f"volunteer {self.id}: capacity must be ≥ 1")
        if self.fatigue_per_hour < 0:
            raise ValueError(f"volunteer {self.id}: fatigue_per_hour must be ≥ 0")
        last = -math.inf
        for s, e in self.windows:
            if not (last <= s < e):
                raise ValueError(f"volunteer {self.id}: windows must be sorted and disjoint")
            last = e


@dataclass(frozen=True, slots=True)
class ParcelArrivals:
    """Parcels reaching the gate, sorted by time.

    Attributes
    ----------
    t_min : tuple of float
        Arrival times, minutes, non-decreasing.
    parcel_ids, building_ids, rider_ids : tuple of str
    """

    t_min: tuple[float, ...]
    parcel_ids: tuple[str, ...]
    building_ids: tuple[str, ...]
    rider_ids: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.t_min)


def _chunks(draw: Callable[[int], np.ndarray], n: int) -> np.ndarray:
    parts = [draw(_CHUNK) for _ in range(-(-n // _CHUNK))]
    return np.concatenate(parts)[:n] if parts else np.empty(0)


def rider_arrivals(
    gate: RelayGate,
    riders_per_hour: float,
    until_min: float,
    rngs: RngFactory,
    *,
    parcels_per_rider: float = 1.0,
    batch: Literal["fixed", "poisson"] = "fixed",
    source: str = "riders",
    start_min: float = 0.0,
) -> ParcelArrivals:
    """Parcels brought by a Poisson stream of riders over ``[start_min, until_min)``.

    Parameters
    ----------
    gate : RelayGate
        Destinations are its buildings, drawn with probability proportional to ``weight``.
    riders_per_hour : float
        Rider arrival rate, per hour, ≥ 0.
    until_min : float
        End of the arrival window (exclusive), minutes, finite.
    rngs : RngFactory
        ``rngs(stream, entity)`` → generator.
    parcels_per_rider : float, default 1
        ``"fixed"``: every rider brings ``round(parcels_per_rider)`` parcels; ``"poisson"``:
        ``1 + Poisson(parcels_per_rider − 1)`` parcels (mean ``parcels_per_rider`` ≥ 1).
    batch : {"fixed", "poisson"}, default "fixed"
    source : str, default "riders"
        Names the rider stream (entity key; several platforms → several sources) and prefixes
        ids: rider ``"<source>#<k>"``, parcel ``"<source>#<k>.<j>"``.
    start_min : float, default 0

    Returns
    -------
    ParcelArrivals
    """
    if not (math.isfinite(riders_per_hour) and riders_per_hour >= 0):
        raise ValueError("riders_per_hour must be a finite number ≥ 0")
    if not math.isfinite(until_min):
        raise ValueError("until_min must be finite")
    if batch not in ("fixed", "poisson") or parcels_per_rider < 1:
        raise ValueError("batch must be 'fixed' or 'poisson' and parcels_per_rider ≥ 1")
    weights = np.array([b.weight for b in gate.buildings], dtype=float)
    if not len(weights) or weights.sum() <= 0:
        raise ValueError("the gate needs a building with positive weight")
    times = np.empty(0)
    if riders_per_hour > 0 and until_min > start_min:
        gen = rngs(RIDER_STREAM, source)
        mean_gap = 60.0 / riders_per_hour
        parts: list[np.ndarray] = []
        t = start_min
        while t < until_min:
            parts.append(t + np.cumsum(gen.exponential(mean_gap, _CHUNK)))
            t = float(parts[-1][-1])
        times = np.concatenate(parts)
        times = times[times < until_min]
    n = len(times)
    if batch == "fixed":
        counts = np.full(n, round(parcels_per_rider), dtype=int)
    else:
        g = rngs(RIDER_STREAM, f"{source}/count")
        counts = 1 + _chunks(lambda m: g.poisson(parcels_per_rider - 1.0, m), n).astype(int)
    g = rngs(RIDER_STREAM, f"{source}/building")
    cum = np.cumsum(weights / weights.sum())
    picks = np.minimum(np.searchsorted(cum, _chunks(g.random, int(counts.sum())), side="right"),
                       len(weights) - 1)
    t_out: list[float] = []
    pids: list[str] = []
    bids: list[str] = []
    rids: list[str] = []
    i = 0
    for k, (t_k, c) in enumerate(zip(times.tolist(), counts.tolist(), strict=True)):
        rider = f"{source}#{k}"
        for j in range(c):
            t_out.append(t_k)
            pids.append(f"{rider}.{j}")
            bids.append(gate.buildings[int(picks[i])].id)
            rids.append(rider)
            i += 1
    return ParcelArrivals(tuple(t_out), tuple(pids), tuple(bids), tuple(rids))


def schedule_arrivals(problem: RelayProblem, start: datetime) -> ParcelArrivals:
    """The parcels of a relay problem at their gate arrival instants, in minutes from ``start``.

    Parameters
    ----------
    problem : RelayProblem
        Its parcels (``arrival``; the rider is unknown, so the actor is ``"schedule"``).
    start : datetime
        Tz-aware instant of simulated minute 0.

    Returns
    -------
    ParcelArrivals
        Sorted by arrival, then parcel id.
    """
    rows = sorted(((p.arrival - start).total_seconds() / 60.0, p.id, p.building_id)
                  for p in problem.parcels)
    return ParcelArrivals(tuple(r[0] for r in rows), tuple(r[1] for r in rows),
                          tuple(r[2] for r in rows), tuple("schedule" for _ in rows))


def gate_from_problem(
    problem: RelayProblem, *, shelf_capacity: int | None = None, trip_cv: float = 0.0
) -> RelayGate:
    """The gate of a relay problem, with the planner's walking and door rules.

    Walks are :func:`commgov.matching.relay.walk_metres` (whole metres; ``walk_m`` or the
    detoured great-circle distance); door minutes per parcel are the building's
    ``door_minutes``, else the problem's ``door_minutes`` plus ``stair_minutes_per_floor ×
    (floors − 1)`` without a lift (unrounded, unlike the planner's whole seconds).

    Parameters
    ----------
    problem : RelayProblem
    shelf_capacity : int or None, default None
    trip_cv : float, default 0

    Returns
    -------
    RelayGate
        Buildings sorted by id, weight 1 each.
    """
    from commgov.matching.relay import walk_metres

    buildings = []
    for b in sorted(problem.buildings, key=lambda b: b.id):
        if b.door_minutes is not None:
            door = b.door_minutes
        else:
            stairs = 0.0 if b.has_lift else problem.stair_minutes_per_floor * (b.floors - 1)
            door = problem.door_minutes + stairs
        buildings.append(GateBuilding(b.id, float(walk_metres(problem, b)), door))
    return RelayGate(tuple(buildings), shelf_capacity, problem.walking_speed_m_per_min,
                     problem.handover_minutes, trip_cv)


def volunteers_from_problem(problem: RelayProblem, start: datetime) -> list[RelayVolunteer]:
    """The problem's gate volunteers with their on-duty windows in minutes from ``start``.

    Returns
    -------
    list of RelayVolunteer
        Sorted by id; capacity the volunteer's or the problem's ``max_parcels_per_trip``.
    """
    from commgov.matching.relay import on_duty

    out = []
    for v in sorted(problem.volunteers, key=lambda v: v.id):
        windows = tuple(((w.start - start).total_seconds() / 60.0,
                         (w.end - start).total_seconds() / 60.0) for w in on_duty(v))
        cap = v.max_parcels_per_trip or problem.max_parcels_per_trip
        out.append(RelayVolunteer(v.id, cap, windows))
    return out


# ------------------------------------------------------------------------------ processes


@dataclass(slots=True)
class _Shelf:
    gate: RelayGate
    log: EventLog
    by_building: dict[str, deque[tuple[float, str]]] = field(default_factory=dict)
    order: deque[tuple[float, str, str]] = field(default_factory=deque)  # arrival order
    taken: set[str] = field(default_factory=set)
    count: int = 0
    idle: deque[simpy.Event] = field(default_factory=deque)

    def put(self, t: float, pid: str, bid: str, rider: str) -> None:
        cap = self.gate.shelf_capacity
        if cap is not None and self.count >= cap:
            self.log.record(t, "shelf_overflow", pid, actor=rider, value=cap)
        self.count += 1
        self.by_building.setdefault(bid, deque()).append((t, pid))
        self.order.append((t, pid, bid))
        self.log.record(t, "parcel_at_gate", pid, actor=rider, value=self.count)
        if self.idle:
            self.idle.popleft().succeed()

    def take(self, k: int) -> tuple[str, list[tuple[float, str]]] | None:
        """The oldest parcel and up to ``k − 1`` more of its building, or None if empty."""
        order, taken = self.order, self.taken
        while order and order[0][1] in taken:
            taken.discard(order.popleft()[1])
        if not order:
            return None
        _, _, bid = order.popleft()
        queue = self.by_building[bid]
        load = [queue.popleft() for _ in range(min(k, len(queue)))]
        taken.update(pid for _, pid in load[1:])
        self.count -= len(load)
        return bid, load


def relay_process(
    env: simpy.Environment,
    gate: RelayGate,
    arrivals: ParcelArrivals,
    volunteers: Sequence[RelayVolunteer],
    log: EventLog,
    rngs: RngFactory,
) -> None:
    """Start the relay's processes: parcel arrivals and one process per volunteer (id order).

    Parameters
    ----------
    env : simpy.Environment
        Clock in float minutes.
    gate : RelayGate
    arrivals : ParcelArrivals
        Parcels (times in ``env`` minutes) for the gate's buildings.
    volunteers : sequence of RelayVolunteer
    log : EventLog
        Receives the events listed in the module docstring.
    rngs : RngFactory
        ``rngs(stream, entity)`` → generator (trip-time factors when ``gate.trip_cv > 0``).
    """
    known = {b.id: b for b in gate.buildings}
    missing = sorted(set(arrivals.building_ids) - set(known))
    if missing:
        raise ValueError(f"parcels for unknown buildings: {missing[:5]}")
    shelf = _Shelf(gate, log)
    for v in sorted(volunteers, key=lambda v: v.id):
        gen = rngs(TRIP_STREAM, v.id) if gate.trip_cv > 0 else None
        env.process(_volunteer(env, shelf, v, known, gen))
    env.process(_parcels(env, shelf, arrivals))


def _parcels(env: simpy.Environment, shelf: _Shelf, arrivals: ParcelArrivals) -> Any:
    for t, pid, bid, rider in zip(arrivals.t_min, arrivals.parcel_ids, arrivals.building_ids,
                                  arrivals.rider_ids, strict=True):
        if t > env.now:
            yield env.timeout(t - env.now)
        shelf.put(env.now, pid, bid, rider)


def _volunteer(
    env: simpy.Environment,
    shelf: _Shelf,
    vol: RelayVolunteer,
    buildings: dict[str, GateBuilding],
    gen: np.random.Generator | None,
) -> Any:
    gate, record = shelf.gate, shelf.log.record
    speed = gate.walking_speed_m_per_min
    s2 = math.log1p(gate.trip_cv**2)
    factors: list[float] = []
    worked = 0.0
    for start, end in vol.windows:
        if start > env.now:
            yield env.timeout(start - env.now)
        while env.now < end:
            got = shelf.take(vol.capacity)
            if got is None:
                wake = env.event()
                shelf.idle.append(wake)
                if math.isfinite(end):
                    yield wake | env.timeout(end - env.now)
                    if not wake.triggered:
                        shelf.idle.remove(wake)
                else:
                    yield wake
                continue
            bid, load = got
            b = buildings[bid]
            scale = fatigue_factor(vol.fatigue_per_hour, worked)
            if gen is not None:
                if not factors:
                    factors = gen.lognormal(-s2 / 2.0, math.sqrt(s2), _CHUNK).tolist()[::-1]
                scale *= factors.pop()
            walk = b.walk_m / speed * scale
            door = b.door_min * scale
            trip = gate.handover_min * scale + 2.0 * walk + len(load) * door
            t0 = env.now
            record(t0, "trip_start", bid, actor=vol.id, value=len(load))
            record(t0, "volunteer_busy", vol.id, actor="relay", value=trip)
            yield env.timeout(gate.handover_min * scale + walk)
            for t_gate, pid in load:
                yield env.timeout(door)
                record(env.now, "parcel_delivered", pid, actor=vol.id, value=env.now - t_gate)
            yield env.timeout(walk)
            record(env.now, "trip_end", bid, actor=vol.id, value=env.now - t0)
            worked += env.now - t0


def run_relay(
    gate: RelayGate,
    arrivals: ParcelArrivals,
    volunteers: Sequence[RelayVolunteer],
    rngs: RngFactory,
    *,
    until_min: float | None = None,
    log: EventLog | None = None,
) -> EventLog:
    """Simulate the relay on a fresh SimPy environment (standalone helper).

    Parameters
    ----------
    gate, arrivals, volunteers, rngs
        See :func:`relay_process`.
    until_min : float, optional
        Stop the clock here; default: until nothing is left to happen (with always-on
        volunteers, until every parcel is delivered).
    log : EventLog, optional
        Log to append to; default a new one.

    Returns
    -------
    EventLog
    """
    env = simpy.Environment()
    log = EventLog() if log is None else log
    relay_process(env, gate, arrivals, volunteers, log, rngs)
    env.run(until=until_min)
    return log


# ------------------------------------------------------------------------------------ KPIs


@dataclass(frozen=True, slots=True)
class RelayKpis:
    """Relay figures over ``[from_min, to_min)``, from the event log.

    Attributes
    ----------
    arrived : int
        Parcels reaching the gate in the window.
    delivered : int
        Parcels delivered in the window (whenever they arrived).
    deliveries_per_hour : float
        ``delivered / window hours``.
    backlog_end : int
        Parcels at the gate or under way at ``to_min`` (arrived before it, not yet delivered).
    gate_to_door_mean_min, gate_to_door_p50_min, gate_to_door_p90_min, gate_to_door_p95_min,
    gate_to_door_max_min : float
        Of the parcels delivered in the window, minutes (linear percentiles); NaN if none.
    shelf_overflows : int
        Parcels that found the shelf full, in the window.
    shelf_max : int
        Most parcels at the gate at once (seen at arrivals in the window), overflow included.
    trips : int
        Trips started in the window.
    parcels_per_trip : float
        Mean load of those trips; NaN if none.
    volunteers_joined, volunteers_left : int
        Recruits who started and volunteers who left for good, in the window.
    """

    arrived: int
    delivered: int
    deliveries_per_hour: float
    backlog_end: int
    gate_to_door_mean_min: float
    gate_to_door_p50_min: float
    gate_to_door_p90_min: float
    gate_to_door_p95_min: float
    gate_to_door_max_min: float
    shelf_overflows: int
    shelf_max: int
    trips: int
    parcels_per_trip: float
    volunteers_joined: int = 0
    volunteers_left: int = 0

    def as_dict(self) -> dict[str, float]:
        """The figures as a ``name → float`` dict (the engine's KPI shape)."""
        return {name: float(getattr(self, name)) for name in _RELAY_FIELDS}


_RELAY_FIELDS = tuple(RelayKpis.__dataclass_fields__)


def relay_kpis(log: EventLog, *, from_min: float = 0.0, to_min: float) -> RelayKpis:
    """Relay KPIs of a run from its event log alone (see :class:`RelayKpis`).

    Parameters
    ----------
    log : EventLog
        A log with the events of :func:`relay_process`.
    from_min : float, default 0
        Start of the window, minutes.
    to_min : float
        End of the window (exclusive), finite and > ``from_min``.

    Returns
    -------
    RelayKpis
    """
    if not (math.isfinite(to_min) and to_min > from_min):
        raise ValueError("to_min must be finite and greater than from_min")
    arrived = before_end = delivered_by_end = overflows = trips = carried = 0
    joined = left = 0
    shelf_max = 0
    g2d: list[float] = []
    for t, kind, value in zip(log.t_min, log.kind, log.value, strict=True):
        inside = from_min <= t < to_min
        if kind == "parcel_at_gate":
            before_end += t < to_min
            if inside:
                arrived += 1
                shelf_max = max(shelf_max, int(value))
        elif kind == "parcel_delivered":
            delivered_by_end += t < to_min
            if inside:
                g2d.append(value)
        elif kind == "shelf_overflow":
            overflows += inside
        elif kind == "trip_start" and inside:
            trips += 1
            carried += int(value)
        elif kind == "volunteer_joined":
            joined += inside
        elif kind == "volunteer_left":
            left += inside
    x = np.asarray(g2d, dtype=float)
    nan = math.nan
    pct = np.percentile(x, [50, 90, 95]) if len(x) else [nan, nan, nan]
    return RelayKpis(
        arrived=arrived,
        delivered=len(x),
        deliveries_per_hour=len(x) / ((to_min - from_min) / 60.0),
        backlog_end=before_end - delivered_by_end,
        gate_to_door_mean_min=float(x.mean()) if len(x) else nan,
        gate_to_door_p50_min=float(pct[0]),
        gate_to_door_p90_min=float(pct[1]),
        gate_to_door_p95_min=float(pct[2]),
        gate_to_door_max_min=float(x.max()) if len(x) else nan,
        shelf_overflows=overflows,
        shelf_max=shelf_max,
        trips=trips,
        parcels_per_trip=carried / trips if trips else nan,
        volunteers_joined=joined,
        volunteers_left=left,
    )


# ------------------------------------------------------------------------- the submodel


class RelayParams(SubmodelParams):
    """Parameters of the ``relay`` submodel (``[submodels.relay]`` in a scenario).

    One gate serves every building of the community: the first site (by id) with the
    ``supply_transit`` or ``gate_post`` function, else the first compound with a location
    (its main gate), else the centroid of the buildings. Walks are great-circle distances times
    ``detour_factor``; buildings get parcels in proportion to their households. Volunteers
    are ``"relay-v001"`` … (so ``volunteers = 9`` drops exactly ``relay-v010``). Defaults follow
    :class:`commgov.matching.RelayProblem`; they are assumptions, not calibrated values.

    Parameters
    ----------
    enabled : bool, default True
    volunteers : int, default 10
        Gate volunteers, 0–10,000.
    capacity : int, default 4
        Parcels per trip, 1–100.
    riders_per_hour : float, default 30
        Rider arrival rate (Poisson).
    parcels_per_rider : float, default 1
        Parcels per rider (mean, ≥ 1).
    batch : {"fixed", "poisson"}, default "fixed"
        Parcels per rider fixed, or ``1 + Poisson(mean − 1)``.
    arrivals_from_min, arrivals_until_min : float, float or None
        Riders come in ``[from, until)``; ``None``: until the horizon.
    duty_from_min, duty_until_min : float, float or None
        Volunteers' on-duty window; ``None``: until the horizon.
    shelf_capacity : int or None, default None
        Gate shelf size in parcels; ``None``: unlimited.
    handover_minutes : float, default 2
    door_minutes : float, default 1.5
    stair_minutes_per_floor : float, default 0.5
        Extra minutes per parcel per floor above the ground without a lift.
    walking_speed_m_per_min : float, default 80
    detour_factor : float, default 1.3
    trip_cv : float, default 0
        Coefficient of variation of the lognormal trip-time factor (mean 1).
    fatigue_per_hour : float, default 0
        Trip-time growth per hour of trips made (0.05: +5 %/h).
    shift_minutes : float or None, default None
        Shift length (:func:`commgov.sim.shifts.shift_windows`); ``None``: one window.
    break_minutes : float, default 30
        Time off between shifts (break or hand-over).
    attrition_per_hour : float, default 0
        Rate at which each volunteer leaves for good (:func:`commgov.sim.shifts.leave_times`).
    recruits_per_hour : float, default 0
        New volunteers joining (``"relay-r001"`` …; :func:`commgov.sim.shifts.recruit_times`)
        during the duty period; they work the same shift pattern from their join time.
    """

    volunteers: int = Field(default=10, ge=0, le=10_000)
    capacity: int = Field(default=4, ge=1, le=100)
    riders_per_hour: float = Field(default=30.0, ge=0.0, le=100_000.0)
    parcels_per_rider: float = Field(default=1.0, ge=1.0, le=1000.0)
    batch: Literal["fixed", "poisson"] = "fixed"
    arrivals_from_min: float = Field(default=0.0, ge=0.0)
    arrivals_until_min: float | None = Field(default=None, ge=0.0)
    duty_from_min: float = Field(default=0.0, ge=0.0)
    duty_until_min: float | None = Field(default=None, ge=0.0)
    shelf_capacity: int | None = Field(default=None, ge=0, le=1_000_000)
    handover_minutes: float = Field(default=2.0, ge=0.0, le=120.0)
    door_minutes: float = Field(default=1.5, ge=0.0, le=120.0)
    stair_minutes_per_floor: float = Field(default=0.5, ge=0.0, le=10.0)
    walking_speed_m_per_min: float = Field(default=80.0, gt=0.0, le=1000.0)
    detour_factor: float = Field(default=1.3, ge=1.0, le=100.0)
    trip_cv: float = Field(default=0.0, ge=0.0, le=10.0)
    fatigue_per_hour: float = Field(default=0.0, ge=0.0, le=10.0)
    shift_minutes: float | None = Field(default=None, gt=0.0, le=1440.0)
    break_minutes: float = Field(default=30.0, ge=0.0, le=1440.0)
    attrition_per_hour: float = Field(default=0.0, ge=0.0, le=100.0)
    recruits_per_hour: float = Field(default=0.0, ge=0.0, le=1000.0)


def _community_buildings(ctx: SimContext) -> tuple[tuple[float, float] | None,
                                                   list[tuple[str, float, float, int, bool,
                                                              int]]]:
    """(gate lon/lat or None, [(building id, lon, lat, floors, has_lift, households)])."""
    from commgov.org import Building, NodeKind, SiteFunction

    c = ctx.scenario.community
    key = ("relay.world", c.dataset, c.seed, ctx.community_id)
    cached = ctx.cache.get(key)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    graph, cid = ctx.graph, ctx.community_id
    scope = {cid, *graph.descendants(cid)}
    gate: tuple[float, float] | None = None
    wanted = {SiteFunction.SUPPLY_TRANSIT, SiteFunction.GATE_POST}
    for site in sorted(ctx.model.sites, key=lambda s: s.id):
        if site.parent_id in scope and wanted & {*site.normal_functions,
                                                 *site.emergency_functions}:
            gate = (site.location.lon, site.location.lat)
            break
    if gate is None:
        for uid in graph.descendants(cid, NodeKind.COMPOUND):
            loc = getattr(graph.record(uid), "location", None)
            if loc is not None:
                gate = (loc.lon, loc.lat)
                break
    rows = []
    for bid in graph.descendants(cid, NodeKind.BUILDING):
        b = graph.record(bid)
        assert isinstance(b, Building)
        n = b.counts.households if b.counts is not None else sum(
            1 for _ in graph.descendants(bid, NodeKind.HOUSEHOLD))
        rows.append((bid, b.location.lon, b.location.lat, b.floors, b.has_lift, n))
    cached = ctx.cache[key] = (gate, sorted(rows))
    return cached


def _relay_gate(ctx: SimContext, params: RelayParams) -> RelayGate:
    from commgov.types import haversine_m

    gate, rows = _community_buildings(ctx)
    if not rows:
        raise InputError.single("scenario", "submodels.relay", ctx.community_id,
                                "the community has no buildings to deliver to",
                                what="scenario")
    if gate is None:
        gate = (sum(r[1] for r in rows) / len(rows), sum(r[2] for r in rows) / len(rows))
    buildings = []
    for bid, lon, lat, floors, lift, n in rows:
        walk = haversine_m(gate[0], gate[1], lon, lat) * params.detour_factor
        stairs = 0.0 if lift else params.stair_minutes_per_floor * (floors - 1)
        buildings.append(GateBuilding(bid, walk, params.door_minutes + stairs, float(n)))
    if sum(b.weight for b in buildings) <= 0:  # no household counts: equal shares
        buildings = [GateBuilding(b.id, b.walk_m, b.door_min) for b in buildings]
    return RelayGate(tuple(buildings), params.shelf_capacity, params.walking_speed_m_per_min,
                     params.handover_minutes, params.trip_cv)


def _relay_kpis(log: EventLog, ctx: SimContext, params: RelayParams) -> dict[str, float]:
    return relay_kpis(log, to_min=ctx.scenario.horizon_min).as_dict()


def _scope(ctx: SimContext) -> tuple[str, RngFactory]:
    """(prefix of made-up ids in the log, generators scoped by the community).

    The relay's riders and volunteers are made up per community, so their stream keys are
    ``"<community>/<id>"`` whether the community runs alone or inside an area; in an area the
    log ids carry the same prefix, so they are unique across communities.
    """
    cid = ctx.community_id
    prefix = f"{cid}/" if ctx.in_area else ""

    def rngs(stream: str, entity: str) -> np.random.Generator:
        return ctx.rng(stream, f"{cid}/{entity.removeprefix(prefix)}")

    return prefix, rngs


def _volunteers(
    ctx: SimContext, params: RelayParams, off: float
) -> tuple[list[RelayVolunteer], list[tuple[float, str, str]]]:
    """Volunteers (ids ``relay-v…``, then recruits ``relay-r…``) and their roster events."""
    prefix, rngs = _scope(ctx)
    start = params.duty_from_min
    members = [(f"{prefix}relay-v{k:03d}", start) for k in range(1, params.volunteers + 1)]
    joins = recruit_times(params.recruits_per_hour, start, off, rngs, pool="relay")
    members += [(f"{prefix}relay-r{k:03d}", t) for k, t in enumerate(joins, start=1)]
    leave = leave_times([m for m, _ in members], params.attrition_per_hour, rngs)
    vols, marks = [], []
    for vid, join in members:
        gone = join + leave[vid]
        windows = truncate_windows(
            shift_windows(join, off, params.shift_minutes, params.break_minutes),
            leave_min=gone)
        vols.append(RelayVolunteer(vid, params.capacity, windows, params.fatigue_per_hour))
        if join > start:
            marks.append((join, "volunteer_joined", vid))
        if gone < off:
            marks.append((gone, "volunteer_left", vid))
    return vols, sorted(marks)


def _roster_events(
    env: simpy.Environment, log: EventLog, marks: Sequence[tuple[float, str, str]]
) -> Any:
    """Log ``volunteer_joined`` (recruits) and ``volunteer_left`` (attrition) on time."""
    for t, kind, vid in marks:
        if t > env.now:
            yield env.timeout(t - env.now)
        log.record(env.now, kind, vid, actor="relay")


@register_submodel("relay", params=RelayParams, kpis=_relay_kpis)
def relay(env: simpy.Environment, ctx: SimContext, params: RelayParams) -> None:
    """Start the ``relay`` submodel: riders, the gate shelf and the volunteers.

    KPIs (prefixed ``relay.``) are the fields of :class:`RelayKpis` over the whole horizon.

    Raises
    ------
    commgov.errors.InputError
        If the community has no buildings.
    """
    horizon = ctx.scenario.horizon_min
    gate = _relay_gate(ctx, params)
    until = horizon if params.arrivals_until_min is None else params.arrivals_until_min
    prefix, rngs = _scope(ctx)
    arrivals = rider_arrivals(gate, params.riders_per_hour, until, rngs,
                              parcels_per_rider=params.parcels_per_rider, batch=params.batch,
                              source=f"{prefix}riders", start_min=params.arrivals_from_min)
    off = horizon if params.duty_until_min is None else params.duty_until_min
    vols, marks = _volunteers(ctx, params, off)
    env.process(_roster_events(env, ctx.log, marks))
    relay_process(env, gate, arrivals, vols, ctx.log, rngs)
