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
makes a trip: ``handover_minutes`` at the gate, the walk ``walk_m / walking_speed_m_per_min``
(metres over metres per minute; 80 m/min by default), ``door_minutes`` per parcel in the
building (door and stairs: see :func:`gate_from_problem`), and the walk back. Parcel *i* of a
trip reaches its door after the handover, the walk and *i* door times. Trip times may be
scaled by a lognormal factor of mean 1 and coefficient of variation ``trip_cv``
(per-volunteer stream) and by fatigue (``1 + fatigue_per_hour × hours already worked``;
:func:`commgov.sim.fatigue_factor`). A volunteer starts trips only inside an on-duty window and
finishes the trip under way when it ends.

This is a two-stage tandem: batched arrivals, a shelf, and carriers of capacity *k* serving it
as a bulk-service queue (Bailey 1954, *J. R. Stat. Soc. B* 16(1):80-87); a volunteer's
saturated throughput is ``k / cycle time``.

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
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

import numpy as np
import simpy
from pydantic import Field, field_validator

from commgov.sim._log import EventLog, run_standalone
from commgov.sim._params import (
    Capacity,
    Crew,
    Minutes,
    Params,
    SpeedMPerMin,
    VariationCoefficient,
)
from commgov.sim._shifts import RngFactory, fatigue_factor

if TYPE_CHECKING:
    from commgov.matching.relay import RelayProblem

__all__ = [
    "RIDER_STREAM",
    "TRIP_STREAM",
    "GateBuilding",
    "ParcelArrivals",
    "RelayGate",
    "RelayVolunteer",
    "gate_from_problem",
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

_CHUNK = 1024


class GateBuilding(Params):
    """A building served from the gate.

    Positional order: ``id``, ``walk_m``, ``door_minutes``, ``weight``.

    Parameters
    ----------
    id : str
    walk_m : float
        One-way walking distance gate → building, metres, ≥ 0.
    door_minutes : float
        Minutes per parcel in the building (knock, stairs, contact-free handover), ≥ 0.
    weight : float, default 1
        Relative share of the parcels for :func:`rider_arrivals` (e.g. its households), ≥ 0.

    Raises
    ------
    pydantic.ValidationError
        (a ``ValueError``) naming the field: a negative or non-finite number.
    """

    positional_fields: ClassVar[tuple[str, ...]] = ("id", "walk_m", "door_minutes", "weight")

    id: str
    walk_m: Annotated[float, Field(ge=0.0)]
    door_minutes: Minutes
    weight: Annotated[float, Field(ge=0.0)] = 1.0


class RelayGate(Params):
    """The gate, its shelf and the walking rules.

    Positional order: ``buildings``, ``shelf_capacity``, ``walking_speed_m_per_min``,
    ``handover_minutes``, ``trip_cv``.

    Parameters
    ----------
    buildings : tuple of GateBuilding
        Unique ids.
    shelf_capacity : int or None, default None
        Parcels the shelf holds, ≥ 0; ``None``: unlimited.
    walking_speed_m_per_min : float, default 80
        Walking speed carrying parcels, metres per minute, > 0 and ≤ 1,000.
    handover_minutes : float, default 2
        Minutes at the gate per trip (collect and check parcels), ≥ 0.
    trip_cv : float, default 0
        Coefficient of variation of a lognormal factor of mean 1 on each trip's time, 0 … 10;
        0: none.

    Raises
    ------
    pydantic.ValidationError
        (a ``ValueError``) naming the field: a number out of range or not finite, or two
        buildings with one id.
    """

    positional_fields: ClassVar[tuple[str, ...]] = (
        "buildings", "shelf_capacity", "walking_speed_m_per_min", "handover_minutes",
        "trip_cv")

    buildings: tuple[GateBuilding, ...]
    shelf_capacity: Annotated[int, Field(ge=0)] | None = None
    walking_speed_m_per_min: SpeedMPerMin = 80.0
    handover_minutes: Minutes = 2.0
    trip_cv: VariationCoefficient = 0.0

    @field_validator("buildings")
    @classmethod
    def _unique(cls, value: tuple[GateBuilding, ...]) -> tuple[GateBuilding, ...]:
        ids = [b.id for b in value]
        if len(set(ids)) != len(ids):
            raise ValueError("building ids must be unique")
        return value


class RelayVolunteer(Crew):
    """A gate volunteer (a :class:`commgov.sim.Crew` who carries parcels).

    Positional order: ``id``, ``capacity``, ``windows``, ``fatigue_per_hour``.

    Parameters
    ----------
    id : str
        Pseudonymous id (the entity key of its trip-time stream).
    capacity : int, default 4
        Most parcels per trip, 1 … 100.
    windows : tuple of (float, float), default always on duty
        On-duty windows ``[start, end)`` in minutes of simulated time, sorted and disjoint.
    fatigue_per_hour : float, default 0
        Trip times grow by this fraction per hour of trips already made (0.05: +5 %/h).

    Raises
    ------
    pydantic.ValidationError
        (a ``ValueError``) naming the field: ``capacity`` out of range, a non-finite or
        out-of-range ``fatigue_per_hour``, or windows unsorted, overlapping or ``nan``.
    """

    positional_fields: ClassVar[tuple[str, ...]] = (
        "id", "capacity", "windows", "fatigue_per_hour")

    capacity: Capacity = 4


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
        buildings.append(GateBuilding(id=b.id, walk_m=float(walk_metres(problem, b)),
                                      door_minutes=door))
    return RelayGate(buildings=tuple(buildings), shelf_capacity=shelf_capacity,
                     walking_speed_m_per_min=problem.walking_speed_m_per_min,
                     handover_minutes=problem.handover_minutes, trip_cv=trip_cv)


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
        out.append(RelayVolunteer(id=v.id, capacity=cap, windows=windows))
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
) -> Callable[[float, str, str, str], None]:
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

    Returns
    -------
    callable
        ``put(t_min, parcel_id, building_id, rider_id)``: drop one more parcel on the shelf
        now (how :func:`commgov.sim.rider_process` feeds the gate).
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
    return shelf.put


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
            door = b.door_minutes * scale
            trip = gate.handover_minutes * scale + 2.0 * walk + len(load) * door
            t0 = env.now
            record(t0, "trip_start", bid, actor=vol.id, value=len(load))
            record(t0, "volunteer_busy", vol.id, actor="relay", value=trip)
            yield env.timeout(gate.handover_minutes * scale + walk)
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
    return run_standalone(
        lambda env, log: relay_process(env, gate, arrivals, volunteers, log, rngs), until_min, log)

