"""Riders as a resource of the relay: depot → gate rides by a fleet on shifts (SimPy).

Model
-----
Without riders the relay's parcels reach the gate as a Poisson stream
(:func:`commgov.sim.rider_arrivals`). With a rider fleet the same stream says when each
parcel is *ready at the depot* (a market, a supermarket's dispatch point or a platform's
station), and :class:`Rider` crews carry them: a rider on duty at the depot takes up to
``capacity`` parcels, oldest first (whatever is there: riders do not wait to fill up),
spends ``load_minutes`` loading, rides ``leg_minutes`` to the gate, spends ``drop_minutes``
dropping the load on the gate shelf (every parcel of the load reaches the gate then), and
rides ``leg_minutes`` back. A ride's times are scaled by a lognormal factor of mean 1 and
coefficient of variation ``leg_cv`` (per-rider stream). A rider starts rides only inside an
on-duty window (:func:`commgov.sim.crew_windows`: shifts, staggered breaks) and finishes the
ride under way when it ends.

With enough parcels waiting, a rider's throughput is ``capacity / (load + 2 leg + drop)``
parcels per minute and a fleet of *n* riders on duty moves at most *n* times that: the
depot → gate leg is a bulk-service queue (Bailey 1954, *J. R. Stat. Soc. B* 16(1):80-87),
so "how many riders?" is a sweep over ``riders``.

Randomness
----------
Stream ``"sim_relay_riders"``, entity ``"<rider>/leg"``: the rider's ride-time factors (only
with ``leg_cv > 0``). The parcels are those of the Poisson stream (same stream and entities
as without riders), so a fleet of any size carries the same parcels (common random numbers
across a riders sweep).

Events (:class:`commgov.sim.EventLog` kinds)
------------------------------------------------
``parcel_at_depot``
    Entity parcel, actor the order (``"riders#k"``), at its ready time.
``rider_on_duty``
    Entity rider, actor ``"relay"``, value the end of the on-duty window (minutes), at its
    start.
``rider_trip_start``
    Entity rider, actor ``"relay"``, value the ride's minutes (load, both legs and drop),
    logged at its start.
``parcel_picked``
    Entity parcel, actor rider, value minutes it waited at the depot.
``parcel_at_gate`` (and ``shelf_overflow``)
    As without riders, with the rider as actor (:mod:`commgov.sim._relay_run`).

All times are float minutes of simulated time.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

import numpy as np
import simpy
from pydantic import Field

from commgov.sim._kpi import censored_times
from commgov.sim._log import EventLog
from commgov.sim._params import Capacity, Crew, Minutes, Params, VariationCoefficient
from commgov.sim._shifts import RngFactory, fatigue_factor

__all__ = ["Rider", "RiderKpis", "RiderLeg", "rider_kpis", "rider_process"]

#: Stream of ride-time factors (entity ``"<rider>/leg"``); the relay's rider stream.
LEG_STREAM = "sim_relay_riders"

_CHUNK = 1024

#: ``put(t_min, parcel_id, building_id, rider_id)``: a parcel reaches the gate shelf.
ShelfPut = Callable[[float, str, str, str], None]


class Rider(Crew):
    """A rider carrying parcels from the depot to the gate (a :class:`commgov.sim.Crew`).

    Positional order: ``id``, ``capacity``, ``windows``, ``fatigue_per_hour``.

    Parameters
    ----------
    id : str
        Pseudonymous id (the entity key of its ride-time stream).
    capacity : int, default 10
        Most parcels per ride, 1 … 100.
    windows : tuple of (float, float), default always on duty
        On-duty windows ``[start, end)``, minutes of simulated time, sorted and disjoint.
    fatigue_per_hour : float, default 0
        Ride times grow by this fraction per hour of rides already made.

    Raises
    ------
    pydantic.ValidationError
        (a ``ValueError``) naming the field: ``capacity`` out of range, windows unsorted,
        overlapping or ``nan``.
    """

    positional_fields: ClassVar[tuple[str, ...]] = ("id", "capacity", "windows", "fatigue_per_hour")

    capacity: Capacity = 10


class RiderLeg(Params):
    """The depot → gate leg of a ride, in minutes.

    Positional order: ``leg_minutes``, ``load_minutes``, ``drop_minutes``, ``leg_cv``.

    Parameters
    ----------
    leg_minutes : float, default 15
        Riding time depot → gate (and back), one way, minutes, 0 … 600.
    load_minutes : float, default 2
        Loading at the depot per ride, minutes, 0 … 120.
    drop_minutes : float, default 1
        Dropping the load at the gate shelf per ride, minutes, 0 … 120.
    leg_cv : float, default 0
        Coefficient of variation of a lognormal factor of mean 1 on each ride's time, 0 … 10.

    Raises
    ------
    pydantic.ValidationError
        (a ``ValueError``) naming the field: a number out of range or not finite.
    """

    positional_fields: ClassVar[tuple[str, ...]] = (
        "leg_minutes",
        "load_minutes",
        "drop_minutes",
        "leg_cv",
    )

    leg_minutes: Annotated[Minutes, Field(le=600.0)] = 15.0
    load_minutes: Annotated[Minutes, Field(le=120.0)] = 2.0
    drop_minutes: Annotated[Minutes, Field(le=120.0)] = 1.0
    leg_cv: VariationCoefficient = 0.0

    @property
    def ride_minutes(self) -> float:
        """Nominal minutes of one ride: load, the leg both ways and the drop."""
        return self.load_minutes + 2.0 * self.leg_minutes + self.drop_minutes


@dataclass(slots=True)
class _Depot:
    parcels: deque[tuple[float, str, str]]  # (ready, parcel, building), ready order
    idle: deque[simpy.Event]


def rider_process(
    env: simpy.Environment,
    orders: Sequence[tuple[float, str, str, str]],
    riders: Sequence[Rider],
    leg: RiderLeg,
    put: ShelfPut,
    log: EventLog,
    rngs: RngFactory,
) -> None:
    """Start the depot (parcels becoming ready) and one process per rider (id order).

    Parameters
    ----------
    env : simpy.Environment
        Clock in float minutes.
    orders : sequence of (float, str, str, str)
        (Ready minute, parcel id, building id, order id), sorted by minute.
    riders : sequence of Rider
    leg : RiderLeg
    put : callable
        ``put(t_min, parcel, building, rider)`` drops a parcel on the gate shelf (what
        :func:`commgov.sim.relay_process` returns).
    log : EventLog
        Receives the events of the module docstring.
    rngs : RngFactory
        ``rngs(stream, entity)`` → generator (ride-time factors when ``leg.leg_cv > 0``).

    Notes
    -----
    O(1) amortised work per parcel and two SimPy timeouts per ride plus one per leg.
    """
    depot = _Depot(deque(), deque())
    for r in sorted(riders, key=lambda r: r.id):
        gen = rngs(LEG_STREAM, f"{r.id}/leg") if leg.leg_cv > 0 else None
        env.process(_ride(env, depot, r, leg, put, log, gen))
    env.process(_ready(env, depot, orders, log))


def _ready(
    env: simpy.Environment,
    depot: _Depot,
    orders: Sequence[tuple[float, str, str, str]],
    log: EventLog,
) -> Any:
    for t, pid, bid, order in orders:
        if t > env.now:
            yield env.timeout(t - env.now)
        log.record(env.now, "parcel_at_depot", pid, actor=order)
        depot.parcels.append((env.now, pid, bid))
        if depot.idle:
            depot.idle.popleft().succeed()


def _ride(
    env: simpy.Environment,
    depot: _Depot,
    rider: Rider,
    leg: RiderLeg,
    put: ShelfPut,
    log: EventLog,
    gen: np.random.Generator | None,
) -> Any:
    s2 = math.log1p(leg.leg_cv**2)
    factors: list[float] = []
    worked = 0.0
    for start, end in rider.windows:
        if start > env.now:
            yield env.timeout(start - env.now)
        if env.now >= end:
            continue
        log.record(env.now, "rider_on_duty", rider.id, actor="relay", value=end)
        while env.now < end:
            if not depot.parcels:
                wake = env.event()
                depot.idle.append(wake)
                if math.isfinite(end):
                    yield wake | env.timeout(end - env.now)
                    if not wake.triggered:
                        depot.idle.remove(wake)
                else:
                    yield wake
                continue
            load = [depot.parcels.popleft() for _ in range(min(rider.capacity, len(depot.parcels)))]
            scale = fatigue_factor(rider.fatigue_per_hour, worked)
            if gen is not None:
                if not factors:
                    factors = gen.lognormal(-s2 / 2.0, math.sqrt(s2), _CHUNK).tolist()[::-1]
                scale *= factors.pop()
            t0 = env.now
            log.record(
                t0, "rider_trip_start", rider.id, actor="relay", value=leg.ride_minutes * scale
            )
            for ready, pid, _ in load:
                log.record(t0, "parcel_picked", pid, actor=rider.id, value=t0 - ready)
            yield env.timeout((leg.load_minutes + leg.leg_minutes + leg.drop_minutes) * scale)
            for _, pid, bid in load:
                put(env.now, pid, bid, rider.id)
            yield env.timeout(leg.leg_minutes * scale)
            worked += env.now - t0


@dataclass(frozen=True, slots=True)
class RiderKpis:
    """Rider figures over ``[from_min, to_min)``, from the event log.

    Attributes
    ----------
    parcels_at_gate_per_hour : float
        Parcels reaching the gate in the window per hour of the window.
    at_depot_end : int
        Parcels ready at the depot before ``to_min`` and not picked up by then.
    rider_trips : int
        Rides started in the window.
    parcels_per_ride : float
        Mean load of those rides; NaN if none.
    rider_utilisation : float
        Share of the riders' on-duty minutes in the window spent riding: ride minutes of
        the rides started in the window, cut at ``to_min`` and at the end of the rider's
        on-duty window (a ride that overruns a shift counts only its on-duty part), over
        on-duty minutes; in [0, 1], NaN without on-duty time.
    depot_to_gate_p50_min, depot_to_gate_p95_min : float
        Percentiles (linear) of ready-at-depot → at-gate minutes of the parcels reaching
        the gate in the window; NaN if none.
    on_riders_end : int
        Parcels picked up at the depot before ``to_min`` and not at the gate by then (on a
        rider, in transit).
    depot_to_gate_p95_all_min : float
        95th percentile (linear), minutes, of the ready-at-depot → at-gate times of *every*
        parcel ready in the window, one not at the gate by ``to_min`` counting with ``to_min``
        − its ready time (censored, :func:`commgov.sim._kpi.censored_times`, as the relay's
        ``gate_to_door_p95_all_min``): a lower bound of the true figure when parcels are left
        at the depot or on riders; NaN if none was ready.
    ready_at_depot : int
        Parcels ready at the depot in the window. With ``from_min`` 0 every one of them is,
        at ``to_min``, at the depot (``at_depot_end``), on a rider (``on_riders_end``) or at
        the gate (the relay's ``arrived``).
    """

    parcels_at_gate_per_hour: float
    at_depot_end: int
    rider_trips: int
    parcels_per_ride: float
    rider_utilisation: float
    depot_to_gate_p50_min: float
    depot_to_gate_p95_min: float
    on_riders_end: int = 0
    depot_to_gate_p95_all_min: float = math.nan
    ready_at_depot: int = 0

    def as_dict(self) -> dict[str, float]:
        """The figures as a ``name → float`` dict (the engine's KPI shape)."""
        return {name: float(getattr(self, name)) for name in _RIDER_FIELDS}


_RIDER_FIELDS = tuple(RiderKpis.__dataclass_fields__)


def rider_kpis(log: EventLog, *, from_min: float = 0.0, to_min: float) -> RiderKpis:
    """Rider KPIs of a run from its event log alone (see :class:`RiderKpis`).

    Parameters
    ----------
    log : EventLog
        A log with the events of :func:`rider_process` and the relay's ``parcel_at_gate``.
    from_min : float, default 0
        Start of the window, minutes.
    to_min : float
        End of the window (exclusive), finite and > ``from_min``.

    Returns
    -------
    RiderKpis

    Raises
    ------
    ValueError
        If ``to_min`` is not finite or not after ``from_min``.

    Notes
    -----
    One pass over the log, then O(n log n) for the n parcels' percentiles.
    """
    if not (math.isfinite(to_min) and to_min > from_min):
        raise ValueError("to_min must be finite and greater than from_min")
    ready: dict[str, float] = {}
    picked_by_end = ready_by_end = at_gate = trips = carried = dropped_by_end = ready_in = 0
    busy = on_duty = 0.0
    shift_end: dict[str, float] = {}  # rider → end of its current on-duty window
    legs: list[float] = []
    at_gate_after: dict[str, float] = {}  # parcel → ready-to-gate minutes, at the gate by to_min
    for t, kind, entity, value in zip(log.t_min, log.kind, log.entity, log.value, strict=True):
        inside = from_min <= t < to_min
        if kind == "parcel_at_depot":
            ready[entity] = t
            ready_by_end += t < to_min
            ready_in += inside
        elif kind == "parcel_picked":
            picked_by_end += t < to_min
            carried += inside
        elif kind == "rider_trip_start" and inside:
            trips += 1
            busy += max(0.0, min(value, to_min - t, shift_end.get(entity, math.inf) - t))
        elif kind == "rider_on_duty":
            shift_end[entity] = value
            on_duty += max(0.0, min(value, to_min) - max(t, from_min))
        elif kind == "parcel_at_gate" and entity in ready:
            dropped_by_end += t < to_min
            if t < to_min:
                at_gate_after[entity] = t - ready[entity]
            if inside:
                at_gate += 1
                legs.append(t - ready[entity])
    nan = math.nan
    pct = np.percentile(np.asarray(legs), [50, 95]) if legs else [nan, nan]
    ready_in_window = {p: t for p, t in ready.items() if from_min <= t < to_min}
    every = censored_times(at_gate_after, ready_in_window, to_min)
    return RiderKpis(
        parcels_at_gate_per_hour=at_gate / ((to_min - from_min) / 60.0),
        at_depot_end=ready_by_end - picked_by_end,
        rider_trips=trips,
        parcels_per_ride=carried / trips if trips else nan,
        rider_utilisation=busy / on_duty if on_duty > 0 else nan,
        depot_to_gate_p50_min=float(pct[0]),
        depot_to_gate_p95_min=float(pct[1]),
        on_riders_end=picked_by_end - dropped_by_end,
        depot_to_gate_p95_all_min=float(np.percentile(every, 95)) if every else nan,
        ready_at_depot=ready_in,
    )
