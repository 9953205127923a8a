"""Sampling-point desk queues: lanes, opening hours, arrivals from slot plans (SimPy).

Model
-----
A sampling point (:class:`DeskPoint`) has ``lanes`` identical desks and an opening window
``[open_min, close_min)`` in simulated minutes. Residents join one first-come-first-served
queue; whenever a lane is free it takes the head of the queue (several idle lanes: the one
idle longest). A resident's service time is drawn when the resident is created, so it belongs
to the resident, not to the lane. With Poisson arrivals, exponential service times and an
always-open point this is the M/M/c queue of Erlang (1917), whose mean wait and probability of
waiting are :func:`commgov.scheduling.staffing.mean_wait_min` and
:func:`commgov.scheduling.staffing.erlang_c`; ``tests/sim/test_queues_validation.py`` checks
the simulation against them, against Little's law ``L = λW`` (Little 1961, *Oper. Res.*
9(3):383-387) and against Ciw (Palmer, Knight, Harper & Hawa 2019, *J. Simulation*
13(1):68-82).

Lanes open at ``open_min`` (residents arriving earlier wait). At ``close_min`` no-one new may
join (arrivals are logged ``queue_refused``); residents already queueing are served when
``serve_queue_at_close`` (the default), otherwise they leave (``queue_abandon``). A service in
progress is always finished.

Arrivals
--------
* :func:`poisson_arrivals`: a Poisson stream of ``rate_per_min`` over ``[start_min,
  until_min)`` (the validation setting);
* :func:`slot_arrivals`: residents called to slots, ``people`` per slot, arriving uniformly
  within their slot (``"uniform"``, exactly ``people`` residents) or as a Poisson process of
  mean ``people`` per slot (``"poisson"``: a Poisson count, then uniform order statistics);
* :func:`plan_arrivals` / :func:`desk_points`: the same fed by a
  :class:`commgov.scheduling.SamplingPlan` (its per-(point, slot) ``loads``) and its
  :class:`commgov.scheduling.SamplingProblem` (lanes, swab rate, opening windows, slot length).

Randomness
----------
Every draw comes from a generator ``rngs(stream, entity)`` (the engine's ``ctx.rng``, or
:func:`stream_factory` standalone). Streams ``"sim_queue_arrivals"`` and ``"sim_queue_service"``
are keyed per point (Poisson arrivals) or per ``"<point>/s<slot>"`` (slot arrivals); the k-th
resident of an entity gets the k-th service draw. Lanes draw nothing, so adding or removing a
lane, a slot or a point leaves every other resident's arrival and service time unchanged
(common random numbers across staffing scenarios).

Events (:class:`commgov.sim.EventLog` kinds)
------------------------------------------------
``queue_join``
    A resident joins the queue; entity resident id, actor point id.
``service_start``
    A lane starts serving; entity resident id, actor lane id (``"<point>/L<k>"``), value the
    wait in minutes.
``service_end``
    Service done; entity resident, actor lane, value the time in system (wait + service) in
    minutes.
``queue_refused``
    A resident arriving at or after closing; entity resident, actor point.
``queue_abandon``
    A resident still queueing at closing when ``serve_queue_at_close`` is false; value the
    wait so far in minutes.

All times are float minutes of simulated time (``DESIGN.md``: float minutes inside).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import simpy
from pydantic import Field

from commgov._random import rng as _rng
from commgov.sim._engine import SimContext, register_submodel
from commgov.sim._log import EventLog
from commgov.sim._policies import SubmodelParams
from commgov.sim.shifts import fatigue_factor

if TYPE_CHECKING:
    from commgov.scheduling import SamplingPlan, SamplingProblem

__all__ = [
    "ARRIVAL_STREAM",
    "SERVICE_STREAM",
    "Arrivals",
    "DeskPoint",
    "QueueKpis",
    "QueueParams",
    "RngFactory",
    "ServiceTime",
    "SlotLoad",
    "desk_points",
    "desk_queue",
    "plan_arrivals",
    "poisson_arrivals",
    "queue_kpis",
    "queues",
    "run_desk_queues",
    "slot_arrivals",
    "stream_factory",
]

#: Stream of arrival times (per point, or per point and slot).
ARRIVAL_STREAM = "sim_queue_arrivals"
#: Stream of service times (per point, or per point and slot).
SERVICE_STREAM = "sim_queue_service"

#: ``rngs(stream, entity)`` → a fresh generator (the engine's ``ctx.rng``).
RngFactory = Callable[[str, str], np.random.Generator]

_CHUNK = 4096  # draws per call when a stream length is open-ended (fixed: part of the stream)


def stream_factory(seed: int, replicate: int = 0) -> RngFactory:
    """``rngs(stream, entity)`` for standalone runs: :func:`commgov._random.rng` bound.

    Parameters
    ----------
    seed : int
        Root seed, ≥ 0.
    replicate : int, default 0
        Replicate number.

    Returns
    -------
    callable
        ``rngs(stream, entity) -> numpy.random.Generator``.
    """

    def rngs(stream: str, entity: str) -> np.random.Generator:
        return _rng(seed, stream, entity, replicate)

    return rngs


@dataclass(frozen=True, slots=True)
class ServiceTime:
    """Distribution of one resident's service time, in minutes.

    Parameters
    ----------
    mean_min : float
        Mean service time in minutes, > 0 (a swab at 100 per lane-hour: 0.6 min).
    distribution : {"exponential", "lognormal"}, default "exponential"
        Exponential (the M/M/c model) or lognormal with coefficient of variation ``cv``
        (``σ² = ln(1 + cv²)``, ``μ = ln(mean) − σ²/2``).
    cv : float, default 1.0
        Coefficient of variation (standard deviation / mean) of the lognormal, > 0; ignored
        for the exponential (whose cv is 1).
    """

    mean_min: float
    distribution: Literal["exponential", "lognormal"] = "exponential"
    cv: float = 1.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.mean_min) and self.mean_min > 0):
            raise ValueError(f"mean_min must be a positive number, got {self.mean_min}")
        if self.distribution not in ("exponential", "lognormal"):
            raise ValueError(f"unknown service distribution {self.distribution!r}")
        if not (math.isfinite(self.cv) and self.cv > 0):
            raise ValueError(f"cv must be a positive number, got {self.cv}")

    def draw(self, gen: np.random.Generator, n: int) -> np.ndarray:
        """``n`` service times in minutes (float64 array)."""
        if self.distribution == "exponential":
            return gen.exponential(self.mean_min, n)
        s2 = math.log1p(self.cv * self.cv)
        return gen.lognormal(math.log(self.mean_min) - s2 / 2.0, math.sqrt(s2), n)


@dataclass(frozen=True, slots=True)
class DeskPoint:
    """A sampling point as the simulator sees it.

    Parameters
    ----------
    id : str
        Point id (also the entity key of its random streams).
    lanes : int
        Desks (servers), ≥ 1.
    service : ServiceTime
        Service time per resident, minutes.
    open_min, close_min : float
        Opening window ``[open_min, close_min)`` in simulated minutes; default always open.
    serve_queue_at_close : bool, default True
        Whether residents queueing at closing are still served (else they leave).
    fatigue_per_hour : float, default 0
        A lane's service times grow by this fraction per hour it has served
        (:func:`commgov.sim.shifts.fatigue_factor`); 0 keeps the M/M/c model.
    """

    id: str
    lanes: int
    service: ServiceTime
    open_min: float = 0.0
    close_min: float = math.inf
    serve_queue_at_close: bool = True
    fatigue_per_hour: float = 0.0

    def __post_init__(self) -> None:
        if self.lanes < 1:
            raise ValueError(f"point {self.id}: lanes must be ≥ 1, got {self.lanes}")
        if not self.open_min < self.close_min:
            raise ValueError(f"point {self.id}: open_min must be before close_min")
        if not self.fatigue_per_hour >= 0:
            raise ValueError(f"point {self.id}: fatigue_per_hour must be ≥ 0")


@dataclass(frozen=True, slots=True)
class Arrivals:
    """Residents arriving at one point, sorted by time.

    Attributes
    ----------
    point_id : str
    t_min : tuple of float
        Arrival times in simulated minutes, non-decreasing.
    resident_ids : tuple of str
        One id per arrival (``"<point>#<k>"`` or ``"<point>/s<slot>#<k>"``).
    service_min : tuple of float
        Each resident's service time in minutes.
    """

    point_id: str
    t_min: tuple[float, ...]
    resident_ids: tuple[str, ...]
    service_min: tuple[float, ...]

    def __len__(self) -> int:
        return len(self.t_min)


@dataclass(frozen=True, slots=True)
class SlotLoad:
    """Residents called to one point in one slot.

    Attributes
    ----------
    slot : int
        Slot index (names the random entity ``"<point>/s<slot>"``).
    start_min : float
        Slot start, simulated minutes.
    minutes : float
        Slot length in minutes, > 0.
    people : int
        Residents called (the mean count for Poisson arrivals), ≥ 0.
    """

    slot: int
    start_min: float
    minutes: float
    people: int


def poisson_arrivals(
    point: DeskPoint,
    rate_per_min: float,
    until_min: float,
    rngs: RngFactory,
    *,
    start_min: float = 0.0,
) -> Arrivals:
    """A Poisson stream of residents at a point over ``[start_min, until_min)``.

    Inter-arrival gaps come from stream ``"sim_queue_arrivals"``, service times from
    ``"sim_queue_service"``, both with entity ``point.id``, drawn in fixed chunks, so a longer
    horizon only appends residents.

    Parameters
    ----------
    point : DeskPoint
        The point (id and service-time distribution).
    rate_per_min : float
        Arrivals per minute, ≥ 0.
    until_min : float
        End of the arrival window (exclusive), simulated minutes, finite.
    rngs : RngFactory
        ``rngs(stream, entity)`` → generator.
    start_min : float, default 0
        Start of the arrival window.

    Returns
    -------
    Arrivals
    """
    if not (math.isfinite(rate_per_min) and rate_per_min >= 0):
        raise ValueError(f"rate_per_min must be a finite number ≥ 0, got {rate_per_min}")
    if not math.isfinite(until_min):
        raise ValueError("until_min must be finite")
    times = np.empty(0)
    if rate_per_min > 0 and until_min > start_min:
        gen = rngs(ARRIVAL_STREAM, point.id)
        parts: list[np.ndarray] = []
        t = start_min
        while t < until_min:
            chunk = t + np.cumsum(gen.exponential(1.0 / rate_per_min, _CHUNK))
            parts.append(chunk)
            t = float(chunk[-1])
        times = np.concatenate(parts)
        times = times[times < until_min]
    n = len(times)
    service = _draw_service(point.service, rngs(SERVICE_STREAM, point.id), n)
    ids = tuple(f"{point.id}#{k}" for k in range(n))
    return Arrivals(point.id, tuple(times.tolist()), ids, tuple(service.tolist()))


def _draw_service(service: ServiceTime, gen: np.random.Generator, n: int) -> np.ndarray:
    # fixed-size chunks: the k-th resident's draw does not depend on how many there are
    parts = [service.draw(gen, _CHUNK) for _ in range(-(-n // _CHUNK))]
    return np.concatenate(parts)[:n] if parts else np.empty(0)


def slot_arrivals(
    point: DeskPoint,
    slots: Iterable[SlotLoad],
    rngs: RngFactory,
    *,
    pattern: Literal["uniform", "poisson"] = "uniform",
) -> Arrivals:
    """Residents called to slots of one point, arriving within their slot.

    Parameters
    ----------
    point : DeskPoint
        The point (id and service-time distribution).
    slots : iterable of SlotLoad
        Residents called per slot.
    rngs : RngFactory
        ``rngs(stream, entity)`` → generator; entity ``"<point>/s<slot>"`` in streams
        ``"sim_queue_arrivals"`` and ``"sim_queue_service"``.
    pattern : {"uniform", "poisson"}, default "uniform"
        ``"uniform"``: exactly ``people`` residents, arrival times independent and uniform in
        the slot. ``"poisson"``: a Poisson process of ``people / minutes`` per minute within
        the slot (a Poisson count of mean ``people``, then uniform times).

    Returns
    -------
    Arrivals
        Sorted by time (ties: slot, then resident number).
    """
    if pattern not in ("uniform", "poisson"):
        raise ValueError(f"unknown arrival pattern {pattern!r}; known: uniform, poisson")
    rows: list[tuple[float, int, int, str, float]] = []
    for s in sorted(slots, key=lambda s: s.slot):
        if s.people < 0 or not s.minutes > 0:
            raise ValueError(f"slot {s.slot}: people must be ≥ 0 and minutes > 0")
        entity = f"{point.id}/s{s.slot}"
        gen = rngs(ARRIVAL_STREAM, entity)
        n = int(gen.poisson(s.people)) if pattern == "poisson" else s.people
        offsets = np.sort(gen.uniform(0.0, s.minutes, n))
        service = point.service.draw(rngs(SERVICE_STREAM, entity), n)
        rows.extend(
            (s.start_min + float(o), s.slot, k, f"{entity}#{k}", float(v))
            for k, (o, v) in enumerate(zip(offsets, service, strict=True))
        )
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    return Arrivals(
        point.id,
        tuple(r[0] for r in rows),
        tuple(r[3] for r in rows),
        tuple(r[4] for r in rows),
    )


def desk_points(
    problem: SamplingProblem, *, service: ServiceTime | None = None,
    serve_queue_at_close: bool = True, lanes: int | None = None, offset_min: float = 0.0,
) -> list[DeskPoint]:
    """The problem's sampling points as :class:`DeskPoint`, minutes from the window start.

    Parameters
    ----------
    problem : SamplingProblem
        Points (lanes, ``rate_per_lane_per_hour``, opening window) and the sampling window.
    service : ServiceTime, optional
        Service time for every point; default exponential of mean
        ``60 / rate_per_lane_per_hour`` minutes per point.
    serve_queue_at_close : bool, default True
        See :class:`DeskPoint`.
    lanes : int, optional
        Lanes at every point instead of the problem's (what-if staffing).
    offset_min : float, default 0
        Simulated minute of ``problem.window.start``.

    Returns
    -------
    list of DeskPoint
        Sorted by id. Opening windows are clipped to the sampling window.
    """
    start = problem.window.start
    end_min = problem.window.minutes
    out = []
    for p in sorted(problem.points, key=lambda p: p.id):
        open_min, close_min = 0.0, end_min
        if p.opening is not None:
            open_min = max(0.0, (p.opening.start - start).total_seconds() / 60.0)
            close_min = min(end_min, (p.opening.end - start).total_seconds() / 60.0)
        svc = service or ServiceTime(60.0 / p.rate_per_lane_per_hour)
        out.append(DeskPoint(p.id, p.lanes if lanes is None else lanes, svc,
                             offset_min + open_min, offset_min + close_min,
                             serve_queue_at_close))
    return out


def plan_arrivals(
    plan: SamplingPlan,
    problem: SamplingProblem,
    points: Sequence[DeskPoint],
    rngs: RngFactory,
    *,
    pattern: Literal["uniform", "poisson"] = "uniform",
    offset_min: float = 0.0,
) -> dict[str, Arrivals]:
    """Arrivals at every point following a sampling plan's per-slot loads.

    Parameters
    ----------
    plan : SamplingPlan
        Its ``loads`` give the residents sent to each (point, slot).
    problem : SamplingProblem
        The planned problem (slot length).
    points : sequence of DeskPoint
        The points to simulate (usually :func:`desk_points`); loads of other points are
        ignored.
    rngs : RngFactory
        ``rngs(stream, entity)`` → generator.
    pattern : {"uniform", "poisson"}, default "uniform"
        Arrivals within a slot (see :func:`slot_arrivals`).
    offset_min : float, default 0
        Simulated minute of ``problem.window.start``.

    Returns
    -------
    dict of str to Arrivals
        Point id → arrivals, in point id order.
    """
    delta = float(problem.policy.slot_minutes)
    by_point: dict[str, list[SlotLoad]] = {p.id: [] for p in points}
    for load in plan.loads:
        if load.point_id in by_point and load.arrivals > 0:
            by_point[load.point_id].append(
                SlotLoad(load.slot, offset_min + load.slot * delta, delta, load.arrivals))
    return {
        p.id: slot_arrivals(p, by_point[p.id], rngs, pattern=pattern)
        for p in sorted(points, key=lambda p: p.id)
    }


# ------------------------------------------------------------------------------ processes


@dataclass(slots=True)
class _Desk:
    point: DeskPoint
    log: EventLog
    queue: deque[tuple[str, float, float]] = field(default_factory=deque)
    idle: deque[simpy.Event] = field(default_factory=deque)
    closed: bool = False


def desk_queue(
    env: simpy.Environment, point: DeskPoint, arrivals: Arrivals, log: EventLog
) -> None:
    """Start the processes of one sampling point: its lanes, arrivals and closing.

    Parameters
    ----------
    env : simpy.Environment
        Clock in float minutes.
    point : DeskPoint
        Lanes, opening window, closing rule.
    arrivals : Arrivals
        Residents (times in the same minutes as ``env.now``; earlier ones arrive at once).
    log : EventLog
        Receives the events listed in the module docstring.
    """
    desk = _Desk(point, log)
    for k in range(1, point.lanes + 1):
        env.process(_lane(env, desk, f"{point.id}/L{k}"))
    if math.isfinite(point.close_min):
        env.process(_closer(env, desk))
    env.process(_arrive(env, desk, arrivals))


def _lane(env: simpy.Environment, desk: _Desk, lane_id: str) -> Any:
    if desk.point.open_min > env.now:
        yield env.timeout(desk.point.open_min - env.now)
    queue, idle, record = desk.queue, desk.idle, desk.log.record
    fatigue, worked = desk.point.fatigue_per_hour, 0.0
    while True:
        if queue:
            rid, t_arr, svc = queue.popleft()
        else:
            if desk.closed:
                return
            wake = env.event()
            idle.append(wake)
            item = yield wake
            if item is None:
                return
            rid, t_arr, svc = item
        now = env.now
        record(now, "service_start", rid, actor=lane_id, value=now - t_arr)
        if fatigue:
            svc *= fatigue_factor(fatigue, worked)
            worked += svc
        yield env.timeout(svc)
        now = env.now
        record(now, "service_end", rid, actor=lane_id, value=now - t_arr)


def _closer(env: simpy.Environment, desk: _Desk) -> Any:
    yield env.timeout(desk.point.close_min - env.now)
    desk.closed = True
    now = env.now
    if not desk.point.serve_queue_at_close:
        for rid, t_arr, _svc in desk.queue:
            desk.log.record(now, "queue_abandon", rid, actor=desk.point.id, value=now - t_arr)
        desk.queue.clear()
    while desk.idle:
        desk.idle.popleft().succeed(None)


def _arrive(env: simpy.Environment, desk: _Desk, arrivals: Arrivals) -> Any:
    point_id = desk.point.id
    queue, idle, record = desk.queue, desk.idle, desk.log.record
    for t, rid, svc in zip(arrivals.t_min, arrivals.resident_ids, arrivals.service_min,
                           strict=True):
        if t > env.now:
            yield env.timeout(t - env.now)
        now = env.now
        if desk.closed:
            record(now, "queue_refused", rid, actor=point_id)
            continue
        record(now, "queue_join", rid, actor=point_id)
        if idle:
            idle.popleft().succeed((rid, now, svc))
        else:
            queue.append((rid, now, svc))


def run_desk_queues(
    points: Sequence[DeskPoint],
    arrivals: Mapping[str, Arrivals],
    *,
    until_min: float | None = None,
    log: EventLog | None = None,
) -> EventLog:
    """Simulate sampling points on a fresh SimPy environment (standalone helper).

    Parameters
    ----------
    points : sequence of DeskPoint
        Started in id order.
    arrivals : mapping of str to Arrivals
        Point id → its residents (a point without an entry gets none).
    until_min : float, optional
        Stop the clock here; default: run until every resident has left.
    log : EventLog, optional
        Log to append to; default a new one.

    Returns
    -------
    EventLog
    """
    env = simpy.Environment()
    log = EventLog() if log is None else log
    for p in sorted(points, key=lambda p: p.id):
        desk_queue(env, p, arrivals.get(p.id, Arrivals(p.id, (), (), ())), log)
    env.run(until=until_min)
    return log


# ------------------------------------------------------------------------------------ KPIs


@dataclass(frozen=True, slots=True)
class QueueKpis:
    """Queue figures over a measurement window ``[from_min, to_min)``, from the event log.

    Residents count when they *join* inside the window. Waits are those of residents whose
    service started (a resident still queueing when the run stopped is censored: counted in
    ``unserved``, not in the wait figures).

    Attributes
    ----------
    joined : int
        Residents who joined in the window.
    served : int
        Of those, residents whose service started.
    unserved : int
        Of those, residents who left at closing or were still queueing at the end.
    refused : int
        Residents turned away at a closed point in the window.
    arrival_rate_per_min : float
        ``λ̂ = joined / (to_min − from_min)``.
    mean_wait_min : float
        Mean wait of the served residents (``Wq``), minutes; NaN if none.
    p_wait : float
        Share of the served residents who waited at all (wait > 0); NaN if none.
    wait_p50_min, wait_p90_min, wait_p95_min, wait_max_min : float
        Wait percentiles (linear interpolation) and maximum, minutes.
    mean_time_in_system_min : float
        Mean wait + service of residents who joined in the window and left (``W``).
    mean_in_system : float
        Time-average number of residents in the system over the window (``L``), counting
        everyone present, whenever they joined; residents still present at the end of the log
        count until ``to_min``.
    """

    joined: int
    served: int
    unserved: int
    refused: int
    arrival_rate_per_min: float
    mean_wait_min: float
    p_wait: float
    wait_p50_min: float
    wait_p90_min: float
    wait_p95_min: float
    wait_max_min: float
    mean_time_in_system_min: float
    mean_in_system: float

    def as_dict(self) -> dict[str, float]:
        """The figures as a ``name → float`` dict (the engine's KPI shape)."""
        return {name: float(getattr(self, name)) for name in _QUEUE_FIELDS}


_QUEUE_FIELDS = tuple(QueueKpis.__dataclass_fields__)


def queue_kpis(
    log: EventLog,
    *,
    from_min: float = 0.0,
    to_min: float,
    point_ids: Iterable[str] | None = None,
) -> QueueKpis:
    """Queue KPIs of a run from its event log alone (see :class:`QueueKpis`).

    Parameters
    ----------
    log : EventLog
        A log with the events of :func:`desk_queue`.
    from_min : float, default 0
        Start of the measurement window (discard a warm-up by raising it), minutes.
    to_min : float
        End of the measurement window (exclusive), minutes, finite and > ``from_min``.
    point_ids : iterable of str, optional
        Only these points; default all.

    Returns
    -------
    QueueKpis
    """
    if not (math.isfinite(to_min) and to_min > from_min):
        raise ValueError("to_min must be finite and greater than from_min")
    wanted = None if point_ids is None else set(point_ids)
    joined_at: dict[str, float] = {}
    waits: dict[str, float] = {}
    left_at: dict[str, float] = {}
    refused = 0
    for t, kind, entity, actor, value in zip(log.t_min, log.kind, log.entity, log.actor,
                                             log.value, strict=True):
        if kind == "queue_join":
            if wanted is None or actor in wanted:
                joined_at[entity] = t
        elif kind == "service_start":
            waits[entity] = value
        elif kind in ("service_end", "queue_abandon"):
            left_at[entity] = t
        elif kind == "queue_refused" and (wanted is None or actor in wanted):
            refused += from_min <= t < to_min
    span = to_min - from_min
    in_window: list[str] = []
    area = 0.0
    for rid, t_in in joined_at.items():
        t_out = left_at.get(rid, math.inf)
        lo, hi = max(t_in, from_min), min(t_out, to_min)
        if hi > lo:
            area += hi - lo
        if from_min <= t_in < to_min:
            in_window.append(rid)
    w = np.array([waits[r] for r in in_window if r in waits])
    sojourn = np.array([left_at[r] - joined_at[r] for r in in_window
                        if r in waits and r in left_at])
    nan = math.nan
    pct = np.percentile(w, [50, 90, 95]) if len(w) else [nan, nan, nan]
    return QueueKpis(
        joined=len(in_window),
        served=len(w),
        unserved=len(in_window) - len(w),
        refused=refused,
        arrival_rate_per_min=len(in_window) / span,
        mean_wait_min=float(w.mean()) if len(w) else nan,
        p_wait=float((w > 0).mean()) if len(w) else nan,
        wait_p50_min=float(pct[0]),
        wait_p90_min=float(pct[1]),
        wait_p95_min=float(pct[2]),
        wait_max_min=float(w.max()) if len(w) else nan,
        mean_time_in_system_min=float(sojourn.mean()) if len(sojourn) else nan,
        mean_in_system=area / span,
    )


# ------------------------------------------------------------------------- the submodel


class QueueParams(SubmodelParams):
    """Parameters of the ``queues`` submodel (``[submodels.queues]`` in a scenario).

    The community's sampling problem is built by
    :func:`commgov.scheduling.sampling_problem_from_org` (window: the points' opening hours)
    and planned once per process with :func:`commgov.scheduling.plan_sampling`; residents then
    arrive at their point in their slot and queue at its lanes.

    Parameters
    ----------
    enabled : bool, default True
    lanes : int or None, default None
        Lanes at every point instead of the community's (the plan is kept: "the same call
        plan with 4 lanes instead of 6"), 1–1,000.
    arrivals : {"uniform", "poisson"}, default "uniform"
        Arrivals within a slot (:func:`slot_arrivals`).
    service : {"exponential", "lognormal"}, default "exponential"
        Service-time distribution.
    service_mean_min : float or None, default None
        Mean swab time in minutes; ``None``: ``60 / rate_per_lane_per_hour`` of each point.
    service_cv : float, default 1.0
        Coefficient of variation of the lognormal.
    serve_queue_at_close : bool, default True
        Whether residents queueing at closing are still swabbed.
    slot_minutes : int, default 30
        Slot length of the plan.
    utilisation : float, default 0.85
        Planned lane utilisation ρ of the slot capacity.
    max_batch_households : int, default 20
        Largest batch called together, households.
    plan_time_limit_s : float, default 10
        Time limit of the plan (deterministic: the plan does not depend on machine speed).
    fatigue_per_hour : float, default 0
        Lane slow-down per hour served (:attr:`DeskPoint.fatigue_per_hour`).
    """

    lanes: int | None = Field(default=None, ge=1, le=1000)
    arrivals: Literal["uniform", "poisson"] = "uniform"
    service: Literal["exponential", "lognormal"] = "exponential"
    service_mean_min: float | None = Field(default=None, gt=0.0, le=120.0)
    service_cv: float = Field(default=1.0, gt=0.0, le=10.0)
    serve_queue_at_close: bool = True
    slot_minutes: int = Field(default=30, ge=1, le=1440)
    utilisation: float = Field(default=0.85, gt=0.0, le=1.0)
    max_batch_households: int = Field(default=20, ge=1, le=100_000)
    plan_time_limit_s: float = Field(default=10.0, gt=0.0, le=600.0)
    fatigue_per_hour: float = Field(default=0.0, ge=0.0, le=10.0)


def _sampling_plan(ctx: SimContext, params: QueueParams) -> tuple[SamplingProblem, SamplingPlan]:
    from commgov.scheduling import SamplingPolicy, plan_sampling, sampling_problem_from_org

    c = ctx.scenario.community
    key = ("queues.plan", c.dataset, c.seed, ctx.community_id, params.slot_minutes,
           params.utilisation, params.max_batch_households, params.plan_time_limit_s)
    cached = ctx.cache.get(key)
    if cached is None:
        policy = SamplingPolicy(slot_minutes=params.slot_minutes,
                                utilisation=params.utilisation)
        problem = sampling_problem_from_org(ctx.graph, ctx.community_id, policy=policy,
                                            max_batch_households=params.max_batch_households)
        cached = ctx.cache[key] = (problem, plan_sampling(
            problem, time_limit_s=params.plan_time_limit_s))
    return cached


def _queue_kpis(log: EventLog, ctx: SimContext, params: QueueParams) -> dict[str, float]:
    return queue_kpis(log, to_min=ctx.scenario.horizon_min).as_dict()


@register_submodel("queues", params=QueueParams, kpis=_queue_kpis)
def queues(env: simpy.Environment, ctx: SimContext, params: QueueParams) -> None:
    """Start the ``queues`` submodel: every sampling point of the community (id order).

    KPIs (prefixed ``queues.``) are the fields of :class:`QueueKpis` over the whole horizon.
    """
    problem, plan = _sampling_plan(ctx, params)
    offset = ctx.to_minutes(problem.window.start)
    service = None
    if params.service_mean_min is not None:
        service = ServiceTime(params.service_mean_min, params.service, params.service_cv)
    points = desk_points(problem, service=service, lanes=params.lanes, offset_min=offset,
                         serve_queue_at_close=params.serve_queue_at_close)
    if service is None and params.service == "lognormal":
        points = [replace(p, service=ServiceTime(p.service.mean_min, "lognormal",
                                                 params.service_cv)) for p in points]
    if params.fatigue_per_hour:
        points = [replace(p, fatigue_per_hour=params.fatigue_per_hour) for p in points]
    arrivals = plan_arrivals(plan, problem, points, ctx.rng, pattern=params.arrivals,
                             offset_min=offset)
    for p in points:
        desk_queue(env, p, arrivals[p.id], ctx.log)
