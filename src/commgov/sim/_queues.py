"""The ``queues`` submodel: queue KPIs from the log, its parameters and its registration.

The desks, arrivals and processes are in :mod:`commgov.sim._desk` (model, randomness and
events: its docstring). All times are float minutes of simulated time.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
import simpy
from pydantic import Field, field_validator

from commgov.sim._desk import DeskPoint, ServiceTime, desk_points, desk_queue, plan_arrivals
from commgov.sim._engine import SimContext, register_submodel
from commgov.sim._kpi import censored_times
from commgov.sim._log import EventLog
from commgov.sim._params import (
    BreakMinutes,
    BreakStaggerMinutes,
    FatiguePerHour,
    PlanTimeLimitS,
    ShiftMinutes,
    SimMinute,
    SubmodelParams,
)

if TYPE_CHECKING:
    from commgov.scheduling import SamplingPlan, SamplingProblem

__all__ = ["QueueKpis", "QueueParams", "queue_kpis", "queues"]

# ------------------------------------------------------------------------------------ KPIs


@dataclass(frozen=True, slots=True)
class QueueKpis:
    """Queue figures over a measurement window ``[from_min, to_min)``, from the event log.

    Residents count when they *join* inside the window. The plain wait figures are those of
    residents whose service started (a resident still queueing when the run stopped is counted
    in ``unserved``, not in them); the ``*_all_min`` figures count *everyone* who joined, a
    resident not swabbed counting with the time it queued: until it left (reneged, or sent home
    at closing), or, still queueing at ``to_min``, ``to_min`` − its arrival (censored at the
    end of the window, :func:`commgov.sim._kpi.censored_times`, as the relay's
    ``gate_to_door_p95_all_min`` and the needs' ``response_p95_all_min``). With few residents
    swabbed the plain figures describe only the lucky few; the ``_all`` ones, lower bounds of
    the true figures whenever someone is still queueing, do not hide the rest.

    Attributes
    ----------
    joined : int
        Residents who joined in the window.
    served : int
        Of those, residents whose service started.
    unserved : int
        Of those, residents who left at closing, reneged (``reneged``) or were still
        queueing at the end.
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
    balked : int
        Residents who arrived in the window and did not join (``queue_balk``).
    reneged : int
        Residents who joined in the window and left the queue when their patience ran out.
    abandon_share : float
        ``reneged / joined`` (Erlang A's ``P(Ab)``); NaN if nobody joined.
    mean_wait_all_min : float
        Mean time in the queue of everyone who joined in the window and was served or
        reneged (Erlang A's ``E[W]``: a reneging resident's time in the queue counts), minutes;
        NaN if none. Residents sent home at closing or still queueing are not in it (they are
        in ``wait_mean_all_min``).
    wait_mean_all_min : float
        Mean time in the queue of *everyone* who joined in the window, minutes: the wait of
        the served, a reneging resident's time in the queue, and the time of the rest (class
        docstring: until sent home, or censored at ``to_min``); NaN if nobody joined.
    wait_p50_all_min, wait_p95_all_min : float
        Percentiles of the same times as ``wait_mean_all_min``, minutes; NaN if nobody joined.
    worst_point_wait_p95_all_min : float
        The largest per-point ``wait_p95_all_min``, minutes.
    mean_time_in_system_all_min : float
        Mean time from joining to leaving of everyone who joined in the window, one still
        present at ``to_min`` counting until then (censored), minutes; NaN if nobody joined.

    Notes
    -----
    ``balked``, ``reneged``, ``abandon_share`` and ``mean_wait_all_min`` are in
    :meth:`as_dict` only when asked
    (``abandonment=True``), so the KPIs of models without impatient residents keep their
    columns; the ``*_all_min`` figures are always there.
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
    balked: int = 0
    reneged: int = 0
    abandon_share: float = math.nan
    mean_wait_all_min: float = math.nan
    arrival_rate_open_per_min: float = math.nan
    worst_point_wait_p95_min: float = math.nan
    point_wait_p95_spread_min: float = math.nan
    worst_point_mean_wait_min: float = math.nan
    wait_mean_all_min: float = math.nan
    wait_p50_all_min: float = math.nan
    wait_p95_all_min: float = math.nan
    worst_point_wait_p95_all_min: float = math.nan
    mean_time_in_system_all_min: float = math.nan

    def as_dict(self, *, abandonment: bool = False) -> dict[str, float]:
        """The figures as a ``name → float`` dict (the engine's KPI shape).

        Parameters
        ----------
        abandonment : bool, default False
            Also ``balked``, ``reneged``, ``abandon_share`` and ``mean_wait_all_min``.
        """
        names = _QUEUE_FIELDS if abandonment else tuple(
            n for n in _QUEUE_FIELDS if n not in _ABANDONMENT_FIELDS)
        return {name: float(getattr(self, name)) for name in names}


_QUEUE_FIELDS = tuple(QueueKpis.__dataclass_fields__)
_ABANDONMENT_FIELDS = frozenset({"balked", "reneged", "abandon_share", "mean_wait_all_min"})


def _open_minutes(windows: Iterable[tuple[float, float]], lo: float, hi: float) -> float:
    """Length of the union of ``windows`` clipped to ``[lo, hi)``, minutes."""
    total, reach = 0.0, lo
    for a, b in sorted((max(a, lo), min(b, hi)) for a, b in windows):
        if b <= a:
            continue
        if b > reach:
            total += b - max(a, reach)
            reach = b
    return total


def queue_kpis(
    log: EventLog,
    *,
    from_min: float = 0.0,
    to_min: float,
    point_ids: Iterable[str] | None = None,
    open_windows: Iterable[tuple[float, float]] | None = None,
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
    open_windows : iterable of (float, float), optional
        The points' opening windows ``[open_min, close_min)``, minutes (overlaps allowed), for
        ``arrival_rate_open_per_min``; default none (that figure is NaN).

    Returns
    -------
    QueueKpis

    Notes
    -----
    One pass over the log, then O(n log n) for the n residents' percentiles.

    Examples
    --------
    >>> log = EventLog()
    >>> log.record(390.0, "queue_join", "a", actor="P1")
    >>> log.record(390.0, "service_start", "a", actor="P1/L1", value=0.0)
    >>> log.record(400.0, "queue_join", "b", actor="P2")
    >>> log.record(410.0, "service_start", "b", actor="P2/L1", value=10.0)
    >>> k = queue_kpis(log, to_min=1440.0, open_windows=[(390.0, 780.0)])
    >>> k.arrival_rate_open_per_min == 2 / 390, k.arrival_rate_per_min == 2 / 1440
    (True, True)
    >>> k.worst_point_wait_p95_min, k.point_wait_p95_spread_min
    (10.0, 10.0)
    """
    if not (math.isfinite(to_min) and to_min > from_min):
        raise ValueError("to_min must be finite and greater than from_min")
    wanted = None if point_ids is None else set(point_ids)
    joined_at: dict[str, float] = {}
    point_of: dict[str, str] = {}
    waits: dict[str, float] = {}
    started_at: dict[str, float] = {}
    left_at: dict[str, float] = {}
    reneged_after: dict[str, float] = {}
    refused = balked = 0
    for t, kind, entity, actor, value in zip(log.t_min, log.kind, log.entity, log.actor,
                                             log.value, strict=True):
        if kind == "queue_join":
            if wanted is None or actor in wanted:
                joined_at[entity] = t
                point_of[entity] = actor
        elif kind == "service_start":
            waits[entity] = value
            started_at[entity] = t
        elif kind in ("service_end", "queue_abandon"):
            left_at[entity] = t
        elif kind == "queue_renege":
            left_at[entity] = t
            reneged_after[entity] = value
        elif kind == "queue_refused" and (wanted is None or actor in wanted):
            refused += from_min <= t < to_min
        elif kind == "queue_balk" and (wanted is None or actor in wanted):
            balked += from_min <= t < to_min
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
    gone = [reneged_after[r] for r in in_window if r in reneged_after]
    w_all = np.concatenate([w, np.array(gone)]) if gone else w
    # everyone: the wait of a swab started by to_min, the time queued until leaving unswabbed
    # (reneged, sent home) by to_min, else the time so far (censored at to_min)
    entered = {r: joined_at[r] for r in in_window}
    queued = {r: waits[r] for r in in_window if started_at.get(r, math.inf) < to_min}
    queued.update((r, left_at[r] - t) for r, t in entered.items()
                  if r not in waits and left_at.get(r, math.inf) < to_min)
    everyone = censored_times(queued, entered, to_min)
    w_everyone = np.array(everyone)
    per_point_all: dict[str, list[float]] = {}
    for r, wait in zip(entered, everyone, strict=True):
        per_point_all.setdefault(point_of[r], []).append(wait)
    p95s_all = [float(np.percentile(v, 95)) for _, v in sorted(per_point_all.items())]
    stayed = censored_times({r: left_at[r] - t for r, t in entered.items()
                             if left_at.get(r, math.inf) < to_min}, entered, to_min)
    nan = math.nan
    pct_all = np.percentile(w_everyone, [50, 95]) if len(w_everyone) else [nan, nan]
    per_point: dict[str, list[float]] = {}
    for r in in_window:
        if r in waits:
            per_point.setdefault(point_of[r], []).append(waits[r])
    p95s = [float(np.percentile(v, 95)) for _, v in sorted(per_point.items())]
    means = [float(np.mean(v)) for _, v in sorted(per_point.items())]
    open_min = math.nan if open_windows is None else _open_minutes(open_windows, from_min,
                                                                    to_min)
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
        balked=balked,
        reneged=len(gone),
        abandon_share=len(gone) / len(in_window) if in_window else nan,
        mean_wait_all_min=float(w_all.mean()) if len(w_all) else nan,
        arrival_rate_open_per_min=len(in_window) / open_min if open_min > 0 else nan,
        worst_point_wait_p95_min=max(p95s) if p95s else nan,
        point_wait_p95_spread_min=max(p95s) - min(p95s) if p95s else nan,
        worst_point_mean_wait_min=max(means) if means else nan,
        wait_mean_all_min=float(w_everyone.mean()) if len(w_everyone) else nan,
        wait_p50_all_min=float(pct_all[0]),
        wait_p95_all_min=float(pct_all[1]),
        worst_point_wait_p95_all_min=max(p95s_all) if p95s_all else nan,
        mean_time_in_system_all_min=float(np.mean(stayed)) if stayed else nan,
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
        Arrivals within a slot (:func:`commgov.sim.slot_arrivals`).
    service : {"exponential", "lognormal"}, default "exponential"
        Service-time distribution.
    service_minutes : float or None, default None
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
        Time limit of the plan, seconds, > 0 and ≤ 3,600 (deterministic: the plan does not
        depend on machine speed).
    fatigue_per_hour : float, default 0
        Lane slow-down per hour served (:attr:`commgov.sim.DeskPoint.fatigue_per_hour`).
    patience_minutes : float or None, default None
        Mean exponential patience of a resident in the queue, minutes, > 0 and ≤ 1,440
        (:attr:`commgov.sim.DeskPoint.patience_min`); ``None``: nobody leaves the queue.
    balk_queue : int or None, default None
        Residents waiting at which an arrival does not join
        (:attr:`commgov.sim.DeskPoint.balk_queue`), 0–100,000; ``None``: everyone joins.
    lanes_by_point : dict of str to int, default {}
        Lanes at the named points (point id → 1–1,000), over ``lanes`` and the community's;
        an id that is no sampling point of the scenario is an
        :class:`commgov.errors.InputError` at run time.
    lane_schedule : dict of str to list of [float, int], default {}
        Lanes open per time interval: point id (or ``"*"``: every point without its own
        entry) → steps ``[from_min, lanes]``, minutes since the scenario start (0–86,400,
        strictly increasing) and lanes (0–1,000): from ``from_min`` on, ``lanes`` lanes are
        open until the next step; before the first step, the point's lanes
        (:func:`commgov.sim.lane_windows`). A lane closed by the schedule finishes the swab
        under way; while no lane is open residents queue, and those no lane reaches before
        the horizon count as ``unserved``. A schedule that opens no lane at all while a
        point is open is an :class:`commgov.errors.InputError` at run time.
    lane_shift_minutes : float or None, default None
        Lane breaks: each lane's staff work this long from the point's opening, then take
        ``lane_break_minutes`` off, minutes (0 < … ≤ 1,440); ``None``: no breaks.
    lane_break_minutes : float, default 30
        Minutes off between a lane's shifts, 0–1,440.
    lane_break_stagger_minutes : float, default 0
        With lane shifts: each lane's breaks come earlier by a seeded phase in
        ``[0, min(this, lane_shift_minutes))`` minutes (:func:`commgov.sim.crew_windows`,
        stream ``"sim_shifts"``, entity ``"<point>/L<k>/stagger"``), so the lanes of a point
        do not all break at once; 0: they do.

    Notes
    -----
    With ``patience_minutes`` or ``balk_queue`` set, the KPIs also carry ``balked``,
    ``reneged``, ``abandon_share`` and ``mean_wait_all_min`` (:class:`QueueKpis`). The lane
    parameters change no KPI column; a point whose lanes are open for its whole opening
    runs exactly as without them.
    """

    lanes: int | None = Field(default=None, ge=1, le=1000)
    arrivals: Literal["uniform", "poisson"] = "uniform"
    service: Literal["exponential", "lognormal"] = "exponential"
    service_minutes: float | None = Field(default=None, gt=0.0, le=120.0)
    service_cv: float = Field(default=1.0, gt=0.0, le=10.0)
    serve_queue_at_close: bool = True
    slot_minutes: int = Field(default=30, ge=1, le=1440)
    utilisation: float = Field(default=0.85, gt=0.0, le=1.0)
    max_batch_households: int = Field(default=20, ge=1, le=100_000)
    plan_time_limit_s: PlanTimeLimitS = 10.0
    fatigue_per_hour: FatiguePerHour = 0.0
    patience_minutes: float | None = Field(default=None, gt=0.0, le=1440.0)
    balk_queue: int | None = Field(default=None, ge=0, le=100_000)
    lanes_by_point: dict[str, Annotated[int, Field(ge=1, le=1000)]] = Field(
        default_factory=dict)
    lane_schedule: dict[str, tuple[tuple[SimMinute, Annotated[int, Field(ge=0, le=1000)]],
                                   ...]] = Field(default_factory=dict)
    lane_shift_minutes: ShiftMinutes | None = None
    lane_break_minutes: BreakMinutes = 30.0
    lane_break_stagger_minutes: BreakStaggerMinutes = 0.0

    @field_validator("lanes_by_point", "lane_schedule")
    @classmethod
    def _sorted_points(cls, v: dict[str, Any]) -> dict[str, Any]:
        return dict(sorted(v.items()))

    @field_validator("lane_schedule")
    @classmethod
    def _increasing(cls, v: dict[str, tuple[tuple[float, int], ...]]
                    ) -> dict[str, tuple[tuple[float, int], ...]]:
        for point, steps in v.items():
            times = [t for t, _ in steps]
            if not steps or any(b <= a for a, b in itertools.pairwise(times)):
                raise ValueError(f"{point}: steps [from_min, lanes] must be non-empty with "
                                 "strictly increasing from_min")
        return v


def _sampling_plan(
    ctx: SimContext, params: QueueParams, community_id: str | None = None
) -> tuple[SamplingProblem, SamplingPlan]:
    from commgov.scheduling import SamplingPolicy, plan_sampling, sampling_problem_from_org

    c = ctx.scenario.community
    cid = ctx.community_id if community_id is None else community_id
    key = ("queues.plan", c.dataset, c.seed, cid, params.slot_minutes,
           params.utilisation, params.max_batch_households, params.plan_time_limit_s)
    cached = ctx.cache.get(key)
    if cached is None:
        policy = SamplingPolicy(slot_minutes=params.slot_minutes,
                                utilisation=params.utilisation)
        problem = sampling_problem_from_org(ctx.graph, cid, policy=policy,
                                            max_batch_households=params.max_batch_households)
        cached = ctx.cache[key] = (problem, plan_sampling(
            problem, time_limit_s=params.plan_time_limit_s))
    return cached


def _queue_kpis(log: EventLog, ctx: SimContext, params: QueueParams) -> dict[str, float]:
    impatient = params.patience_minutes is not None or params.balk_queue is not None
    from commgov.sim._engine import area_communities

    windows = []
    for cid in area_communities(ctx.graph, ctx.community_id):  # every community run
        problem, _ = _sampling_plan(ctx, params, cid)
        points = desk_points(problem, offset_min=ctx.to_minutes(problem.window.start))
        windows += [(p.open_min, p.close_min) for p in points]
    return queue_kpis(log, to_min=ctx.scenario.horizon_min, open_windows=windows).as_dict(
        abandonment=impatient)


@register_submodel("queues", params=QueueParams, kpis=_queue_kpis)
def queues(env: simpy.Environment, ctx: SimContext, params: QueueParams) -> None:
    """Start the ``queues`` submodel: every sampling point of the community (id order).

    KPIs (prefixed ``queues.``) are the fields of :class:`QueueKpis` over the whole horizon;
    ``arrival_rate_open_per_min`` divides by the minutes in which a point of the sampling
    problem is open (its opening windows), ``arrival_rate_per_min`` by the horizon.
    """
    problem, plan = _sampling_plan(ctx, params)
    offset = ctx.to_minutes(problem.window.start)
    service = None
    if params.service_minutes is not None:
        service = ServiceTime(mean_minutes=params.service_minutes,
                              distribution=params.service, cv=params.service_cv)
    points = desk_points(problem, service=service, lanes=params.lanes, offset_min=offset,
                         serve_queue_at_close=params.serve_queue_at_close)
    if service is None and params.service == "lognormal":
        points = [p.model_copy(update={"service": ServiceTime(
            mean_minutes=p.service.mean_minutes, distribution="lognormal",
            cv=params.service_cv)}) for p in points]
    if params.fatigue_per_hour:
        points = [p.model_copy(update={"fatigue_per_hour": params.fatigue_per_hour})
                  for p in points]
    if params.patience_minutes is not None or params.balk_queue is not None:
        points = [p.model_copy(update={"patience_min": params.patience_minutes,
                                       "balk_queue": params.balk_queue}) for p in points]
    points = _with_lanes(ctx, params, points)
    arrivals = plan_arrivals(plan, problem, points, ctx.rng, pattern=params.arrivals,
                             offset_min=offset)
    for p in points:
        desk_queue(env, p, arrivals[p.id], ctx.log)


def _with_lanes(ctx: SimContext, params: QueueParams, points: list[DeskPoint]
                ) -> list[DeskPoint]:
    """The points with ``lanes_by_point``, ``lane_schedule`` and lane breaks applied."""
    from commgov.errors import InputError, InputIssue
    from commgov.sim._engine import area_communities
    from commgov.sim._lanes import lane_windows

    named = set(params.lanes_by_point) | (set(params.lane_schedule) - {"*"})
    if not (named or params.lane_schedule or params.lane_shift_minutes is not None):
        return points
    if named:
        known = {p.id for cid in area_communities(ctx.graph, ctx.community_id)
                 for p in _sampling_plan(ctx, params, cid)[0].points}
        issues = [InputIssue("scenario", f"submodels.queues.{field}.{pid}", pid,
                             "no sampling point with this id in the scenario")
                  for field in ("lanes_by_point", "lane_schedule")
                  for pid in getattr(params, field) if pid != "*" and pid not in known]
        if issues:
            raise InputError(issues, what="scenario")
    out = []
    for p in points:
        base = params.lanes_by_point.get(p.id, p.lanes)
        steps = params.lane_schedule.get(p.id, params.lane_schedule.get("*", ()))
        try:
            lanes, windows = lane_windows(
                p.id, p.open_min, p.close_min, base, ctx.rng, schedule=steps,
                shift_minutes=params.lane_shift_minutes,
                break_minutes=params.lane_break_minutes,
                stagger_minutes=params.lane_break_stagger_minutes)
        except ValueError as exc:
            key = p.id if p.id in params.lane_schedule else "*"
            raise InputError.single("scenario", f"submodels.queues.lane_schedule.{key}",
                                    [list(s) for s in steps], str(exc),
                                    what="scenario") from None
        out.append(p.model_copy(update={"lanes": lanes, "lane_windows": windows}))
    return out
