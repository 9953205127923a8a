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

Impatient residents (Erlang A and its relatives). With ``patience_min`` set, each resident
has an exponentially distributed patience of that mean, drawn with the arrival: a resident
still queueing when the patience runs out leaves (reneging, ``queue_renege``); a resident
already in service stays. With ``balk_queue`` set, a resident who finds ``balk_queue`` or more
residents waiting does not join (balking, ``queue_balk``: a waiting room of that size). Poisson
arrivals, exponential service and exponential patience give the M/M/c+M queue of Palm (1943)
and Garnett, Mandelbaum & Reiman (2002), whose figures are
:func:`commgov.scheduling.staffing.erlang_a`; ``tests/sim/test_abandonment.py`` checks the
simulation against them.

Lane schedules and breaks. With ``lane_windows`` (:func:`commgov.sim.lane_windows`) each lane
starts a swab only inside its own on-duty windows and finishes the one under way when a
window ends; lanes open for the whole opening are the model above, event for event, and after
a step of the schedule the point is the M/M/c queue of its new lane count
(``tests/sim/test_lane_schedules.py``).

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
:func:`stream_factory` standalone). Streams ``"sim_queue_arrivals"``, ``"sim_queue_service"``
and ``"sim_queue_patience"`` (only drawn when ``patience_min`` is set) are keyed per point
(Poisson arrivals) or per ``"<point>/s<slot>"`` (slot arrivals); the k-th resident of an
entity gets the k-th service (and patience) draw. Lanes draw nothing, so adding or removing a
lane, a slot or a point, or making residents impatient, leaves every other draw unchanged
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
``queue_renege``
    A resident whose patience ran out in the queue; entity resident, actor point, value the
    wait (the patience) in minutes.
``queue_balk``
    A resident who found ``balk_queue`` or more waiting and did not join; entity resident,
    actor point.

All times are float minutes of simulated time.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

import numpy as np
import simpy
from pydantic import AllowInfNan, Field, model_validator

from commgov._random import rng as _rng
from commgov.sim._log import EventLog, run_standalone
from commgov.sim._params import FatiguePerHour, Params, ShiftWindows
from commgov.sim._shifts import RngFactory, fatigue_factor

if TYPE_CHECKING:
    from commgov.scheduling import SamplingPlan, SamplingProblem

__all__ = [
    "ARRIVAL_STREAM",
    "PATIENCE_STREAM",
    "SERVICE_STREAM",
    "Arrivals",
    "DeskPoint",
    "RngFactory",
    "ServiceTime",
    "SlotLoad",
    "desk_points",
    "desk_queue",
    "plan_arrivals",
    "poisson_arrivals",
    "run_desk_queues",
    "slot_arrivals",
    "stream_factory",
]

#: Stream of arrival times (per point, or per point and slot).
ARRIVAL_STREAM = "sim_queue_arrivals"
#: Stream of service times (per point, or per point and slot).
SERVICE_STREAM = "sim_queue_service"
#: Stream of patience times (per point, or per point and slot; drawn only with patience).
PATIENCE_STREAM = "sim_queue_patience"


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


class ServiceTime(Params):
    """Distribution of one resident's service time, in minutes.

    Positional order: ``mean_minutes``, ``distribution``, ``cv``.

    Parameters
    ----------
    mean_minutes : float
        Mean service time in minutes, finite and > 0 (a swab at 100 per lane-hour: 0.6 min).
    distribution : {"exponential", "lognormal"}, default "exponential"
        Exponential (the M/M/c model) or lognormal with coefficient of variation ``cv``
        (``σ² = ln(1 + cv²)``, ``μ = ln(mean) − σ²/2``).
    cv : float, default 1.0
        Coefficient of variation (standard deviation / mean) of the lognormal, finite and
        > 0; ignored for the exponential (whose cv is 1).

    Raises
    ------
    pydantic.ValidationError
        (a ``ValueError``) naming the refused field: ``mean_minutes`` or ``cv`` not a finite
        number > 0, or an unknown distribution.
    """

    positional_fields: ClassVar[tuple[str, ...]] = ("mean_minutes", "distribution", "cv")

    mean_minutes: Annotated[float, Field(gt=0.0)]
    distribution: Literal["exponential", "lognormal"] = "exponential"
    cv: Annotated[float, Field(gt=0.0)] = 1.0

    def draw(self, gen: np.random.Generator, n: int) -> np.ndarray:
        """``n`` service times in minutes (float64 array)."""
        if self.distribution == "exponential":
            return gen.exponential(self.mean_minutes, n)
        s2 = math.log1p(self.cv * self.cv)
        return gen.lognormal(math.log(self.mean_minutes) - s2 / 2.0, math.sqrt(s2), n)


class DeskPoint(Params):
    """A sampling point as the simulator sees it.

    Positional order: ``id``, ``lanes``, ``service``, ``open_min``, ``close_min``,
    ``serve_queue_at_close``, ``fatigue_per_hour``, ``patience_min``, ``balk_queue``.

    Parameters
    ----------
    id : str
        Point id (also the entity key of its random streams).
    lanes : int
        Desks (servers), ≥ 1.
    service : ServiceTime
        Service time per resident, minutes.
    open_min, close_min : float
        Opening window ``[open_min, close_min)`` in minutes of simulated time (``close_min``
        may be ``inf``); default always open.
    serve_queue_at_close : bool, default True
        Whether residents queueing at closing are still served (else they leave).
    fatigue_per_hour : float, default 0
        A lane's service times grow by this fraction per hour it has served
        (:func:`commgov.sim.fatigue_factor`), 0 … 10; 0 keeps the M/M/c model.
    patience_min : float or None, default None
        Mean of a resident's exponential patience in minutes, finite and > 0: a resident
        still queueing after that long leaves (reneging). ``None``: everyone waits.
    balk_queue : int or None, default None
        A resident who finds this many residents or more waiting (not counting those in
        service) does not join (balking), ≥ 0. ``None``: everyone joins.
    lane_windows : tuple of windows, or None, default None
        One tuple of on-duty windows ``[start, end)`` (minutes of simulated time, sorted,
        disjoint, an end may be ``inf``) per lane: lane *k* starts a swab only inside its
        windows and finishes the one under way when a window ends (a lane schedule, lane
        breaks: :func:`commgov.sim.lane_windows`). ``None``: every lane is open from
        ``open_min`` on.

    Raises
    ------
    pydantic.ValidationError
        (a ``ValueError``) naming the refused field: ``lanes`` < 1, a non-finite
        ``open_min`` or ``fatigue_per_hour``, a ``nan`` ``close_min``, ``open_min`` not
        before ``close_min``, ``patience_min`` not a finite number > 0, ``balk_queue`` < 0,
        or ``lane_windows`` not one set of sorted, disjoint windows per lane.
    """

    positional_fields: ClassVar[tuple[str, ...]] = (
        "id", "lanes", "service", "open_min", "close_min", "serve_queue_at_close",
        "fatigue_per_hour", "patience_min", "balk_queue", "lane_windows")

    id: str
    lanes: Annotated[int, Field(ge=1)]
    service: ServiceTime
    open_min: float = 0.0
    close_min: Annotated[float, AllowInfNan(True)] = math.inf
    serve_queue_at_close: bool = True
    fatigue_per_hour: FatiguePerHour = 0.0
    patience_min: Annotated[float, Field(gt=0.0)] | None = None
    balk_queue: Annotated[int, Field(ge=0)] | None = None
    lane_windows: tuple[ShiftWindows, ...] | None = None

    @model_validator(mode="after")
    def _open_before_close(self) -> DeskPoint:
        if not self.open_min < self.close_min:
            raise ValueError(f"point {self.id}: open_min must be before close_min")
        if self.lane_windows is not None and len(self.lane_windows) != self.lanes:
            raise ValueError(f"point {self.id}: lane_windows needs one set of windows per "
                             f"lane ({self.lanes}), got {len(self.lane_windows)}")
        return self


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
    patience_min : tuple of float, default ()
        Each resident's patience in minutes (time in the queue before leaving); empty when
        everyone waits.
    """

    point_id: str
    t_min: tuple[float, ...]
    resident_ids: tuple[str, ...]
    service_min: tuple[float, ...]
    patience_min: tuple[float, ...] = ()

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
    ``"sim_queue_service"`` and patience times (with ``point.patience_min``) from
    ``"sim_queue_patience"``, all with entity ``point.id``, drawn in fixed chunks, so a longer
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
    patience: tuple[float, ...] = ()
    if point.patience_min is not None:
        gen = rngs(PATIENCE_STREAM, point.id)
        parts = [gen.exponential(point.patience_min, _CHUNK) for _ in range(-(-n // _CHUNK))]
        patience = tuple(np.concatenate(parts)[:n].tolist()) if parts else ()
    return Arrivals(point.id, tuple(times.tolist()), ids, tuple(service.tolist()), patience)


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
    rows: list[tuple[float, int, int, str, float, float]] = []
    mean_patience = point.patience_min
    for s in sorted(slots, key=lambda s: s.slot):
        if s.people < 0 or not s.minutes > 0:
            raise ValueError(f"slot {s.slot}: people must be ≥ 0 and minutes > 0")
        entity = f"{point.id}/s{s.slot}"
        gen = rngs(ARRIVAL_STREAM, entity)
        n = int(gen.poisson(s.people)) if pattern == "poisson" else s.people
        offsets = np.sort(gen.uniform(0.0, s.minutes, n))
        service = point.service.draw(rngs(SERVICE_STREAM, entity), n)
        patience = (np.full(n, math.inf) if mean_patience is None
                    else rngs(PATIENCE_STREAM, entity).exponential(mean_patience, n))
        rows.extend(
            (s.start_min + float(o), s.slot, k, f"{entity}#{k}", float(v), float(w))
            for k, (o, v, w) in enumerate(zip(offsets, service, patience, strict=True))
        )
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    return Arrivals(
        point.id,
        tuple(r[0] for r in rows),
        tuple(r[3] for r in rows),
        tuple(r[4] for r in rows),
        () if mean_patience is None else tuple(r[5] for r in rows),
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
        svc = service or ServiceTime(mean_minutes=60.0 / p.rate_per_lane_per_hour)
        out.append(DeskPoint(id=p.id, lanes=p.lanes if lanes is None else lanes, service=svc,
                             open_min=offset_min + open_min, close_min=offset_min + close_min,
                             serve_queue_at_close=serve_queue_at_close))
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
    # waiting residents [rid, t_arrival, service, patience, gone]; ``gone`` entries (reneged)
    # stay until a lane skips them, ``waiting`` counts the others
    queue: deque[list[Any]] = field(default_factory=deque)
    idle: deque[simpy.Event] = field(default_factory=deque)
    closed: bool = False
    waiting: int = 0
    on_done: Callable[[str, float], None] | None = None


def desk_queue(
    env: simpy.Environment, point: DeskPoint, arrivals: Arrivals, log: EventLog
) -> None:
    """Start the processes of one sampling point: its lanes, arrivals and closing.

    Parameters
    ----------
    env : simpy.Environment
        Clock in float minutes.
    point : DeskPoint
        Lanes, opening window, closing rule, balking.
    arrivals : Arrivals
        Residents (times in the same minutes as ``env.now``; earlier ones arrive at once),
        with their patience when ``point.patience_min`` is set.
    log : EventLog
        Receives the events listed in the module docstring.

    Raises
    ------
    ValueError
        If ``point.patience_min`` is set and ``arrivals`` carries no patience per resident.

    Notes
    -----
    Each arrival costs O(1) amortised work plus, with patience, one SimPy timeout.
    """
    if point.patience_min is not None and len(arrivals.patience_min) != len(arrivals):
        raise ValueError(f"point {point.id}: patience_min is set but the arrivals carry no "
                         "patience; draw them with poisson_arrivals or slot_arrivals")
    desk = _start_desk(env, point, log)
    env.process(_arrive(env, desk, arrivals))


def _start_desk(
    env: simpy.Environment,
    point: DeskPoint,
    log: EventLog,
    on_done: Callable[[str, float], None] | None = None,
) -> _Desk:
    """The desk's lanes and closing; ``on_done(rid, now)`` after each service (tandems)."""
    desk = _Desk(point, log, on_done=on_done)
    if point.lane_windows is None:
        for k in range(1, point.lanes + 1):
            env.process(_lane(env, desk, f"{point.id}/L{k}"))
    else:
        from commgov.sim._lanes import scheduled_lane

        for k, windows in enumerate(point.lane_windows, start=1):
            env.process(scheduled_lane(env, desk, f"{point.id}/L{k}", windows))
    if math.isfinite(point.close_min):
        env.process(_closer(env, desk))
    return desk


def _lane(env: simpy.Environment, desk: _Desk, lane_id: str) -> Any:
    if desk.point.open_min > env.now:
        yield env.timeout(desk.point.open_min - env.now)
    idle, worked = desk.idle, 0.0
    while True:
        item = take_head(desk)
        if item is None:
            if desk.closed:
                return
            wake = env.event()
            idle.append(wake)
            item = yield wake
            if item is None:
                return
        worked = yield from serve(env, desk, lane_id, item, worked)


def take_head(desk: _Desk) -> tuple[str, float, float] | None:
    """The first resident still waiting (reneged ones dropped), taken off the queue:
    ``(id, arrival minute, service minutes)``; ``None`` when nobody waits."""
    queue = desk.queue
    while queue and queue[0][4]:
        queue.popleft()  # reneged
    if not queue:
        return None
    entry = queue.popleft()
    entry[4] = True
    desk.waiting -= 1
    return entry[0], entry[1], entry[2]


def serve(
    env: simpy.Environment, desk: _Desk, lane_id: str, item: tuple[str, float, float], worked: float
) -> Any:
    """Swab one resident at lane ``lane_id`` (the service events, fatigue, ``on_done``);
    a process step for ``yield from``, returning the lane's minutes worked so far."""
    rid, t_arr, svc = item
    record, fatigue = desk.log.record, desk.point.fatigue_per_hour
    now = env.now
    record(now, "service_start", rid, actor=lane_id, value=now - t_arr)
    if fatigue:
        svc *= fatigue_factor(fatigue, worked)
        worked += svc
    yield env.timeout(svc)
    now = env.now
    record(now, "service_end", rid, actor=lane_id, value=now - t_arr)
    if desk.on_done is not None:
        desk.on_done(rid, now)
    return worked


def _closer(env: simpy.Environment, desk: _Desk) -> Any:
    yield env.timeout(desk.point.close_min - env.now)
    desk.closed = True
    now = env.now
    if not desk.point.serve_queue_at_close:
        for entry in desk.queue:
            if not entry[4]:
                entry[4] = True
                desk.log.record(now, "queue_abandon", entry[0], actor=desk.point.id,
                                value=now - entry[1])
        desk.queue.clear()
        desk.waiting = 0
    while desk.idle:
        desk.idle.popleft().succeed(None)


def _renege(desk: _Desk, entry: list[Any]) -> Any:
    def fire(event: simpy.Event) -> None:
        if not entry[4]:
            entry[4] = True
            desk.waiting -= 1
            desk.log.record(event.env.now, "queue_renege", entry[0], actor=desk.point.id,
                            value=entry[3])

    return fire


def _arrive(env: simpy.Environment, desk: _Desk, arrivals: Arrivals) -> Any:
    patience = arrivals.patience_min if desk.point.patience_min is not None else None
    for k, (t, rid, svc) in enumerate(
        zip(arrivals.t_min, arrivals.resident_ids, arrivals.service_min, strict=True)
    ):
        if t > env.now:
            yield env.timeout(t - env.now)
        _admit(env, desk, rid, svc, math.inf if patience is None else patience[k])


def _admit(env: simpy.Environment, desk: _Desk, rid: str, svc: float, patience: float) -> None:
    """One resident arrives now: refused, served by an idle lane, balks or queues."""
    point_id, record = desk.point.id, desk.log.record
    now = env.now
    if desk.closed:
        record(now, "queue_refused", rid, actor=point_id)
        return
    if desk.idle:
        record(now, "queue_join", rid, actor=point_id)
        desk.idle.popleft().succeed((rid, now, svc))
        return
    balk = desk.point.balk_queue
    if balk is not None and desk.waiting >= balk:
        record(now, "queue_balk", rid, actor=point_id)
        return
    record(now, "queue_join", rid, actor=point_id)
    entry = [rid, now, svc, patience, False]
    desk.queue.append(entry)
    desk.waiting += 1
    if math.isfinite(patience):
        env.timeout(patience).callbacks.append(_renege(desk, entry))


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

    def start(env: simpy.Environment, log: EventLog) -> None:
        for p in sorted(points, key=lambda p: p.id):
            desk_queue(env, p, arrivals.get(p.id, Arrivals(p.id, (), (), ())), log)

    return run_standalone(start, until_min, log)

