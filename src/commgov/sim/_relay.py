"""The ``relay`` submodel: relay KPIs from the log, its parameters, world and registration.

The gate, the volunteers' records and the processes are in :mod:`commgov.sim._relay_run`
(model, randomness and events: its docstring). All times are float minutes of simulated time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
import simpy
from pydantic import Field

from commgov.errors import InputError
from commgov.sim._engine import SimContext, register_submodel
from commgov.sim._kpi import censored_times
from commgov.sim._log import EventLog
from commgov.sim._params import (
    AttritionPerHour,
    BreakMinutes,
    BreakStaggerMinutes,
    Capacity,
    DetourFactor,
    FatiguePerHour,
    Minutes,
    PoolSize,
    RecruitsPerHour,
    ShiftMinutes,
    SimMinute,
    SpeedMPerMin,
    SubmodelParams,
    VariationCoefficient,
)
from commgov.sim._relay_run import (
    GateBuilding,
    ParcelArrivals,
    RelayGate,
    RelayVolunteer,
    relay_process,
    rider_arrivals,
)
from commgov.sim._riders import Rider, RiderLeg, rider_kpis, rider_process
from commgov.sim._shifts import RngFactory, crew_windows, leave_times, recruit_times

__all__ = ["RelayKpis", "RelayParams", "gate_building", "relay", "relay_kpis"]

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
    undelivered : int
        Parcels that reached the gate in the window and were not delivered before
        ``to_min`` (at the shelf or under way at the horizon). Unlike ``backlog_end`` it
        leaves out parcels that arrived before ``from_min``.
    undelivered_share : float
        ``undelivered / arrived``; 0 when nothing arrived.
    gate_to_door_p50_all_min, gate_to_door_p95_all_min : float
        Percentiles (linear), minutes, of the gate-to-door times of *every* parcel that
        reached the gate in the window: a delivered parcel counts with its time, an
        undelivered one is censored at the horizon, i.e. counts with ``to_min`` − its gate
        arrival. Since a censored time is a lower bound of the true one, these are lower
        bounds of the true percentiles whenever ``undelivered > 0`` (and equal the
        delivered-only ``gate_to_door_p50_min``/``gate_to_door_p95_min`` over the same
        parcels when everything was delivered). They may still be *below* the delivered-only
        figures when the undelivered parcels arrived shortly before the horizon (short
        censored times); read them with ``undelivered``. NaN if nothing arrived.

    Notes
    -----
    The delivered-only figures (``gate_to_door_*_min``) describe the parcels that made it;
    they improve when volunteers are too few because the slowest parcels never arrive. The
    ``*_all_min`` figures and ``undelivered`` show that failure (Kaplan & Meier 1958 call
    such times right-censored; here they enter the percentile at the censoring time).

    References
    ----------
    Kaplan, E. L., & Meier, P. (1958). Nonparametric estimation from incomplete
    observations. *J. Am. Stat. Assoc.* 53(282):457-481.
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
    undelivered: int = 0
    undelivered_share: float = 0.0
    gate_to_door_p50_all_min: float = math.nan
    gate_to_door_p95_all_min: float = math.nan

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
    at_gate: dict[str, float] = {}  # parcels arrived in the window → gate time
    done_in_time: dict[str, float] = {}  # parcels delivered before to_min → gate-to-door
    for t, kind, entity, value in zip(log.t_min, log.kind, log.entity, log.value, strict=True):
        inside = from_min <= t < to_min
        if kind == "parcel_at_gate":
            before_end += t < to_min
            if inside:
                arrived += 1
                shelf_max = max(shelf_max, int(value))
                at_gate[entity] = t
        elif kind == "parcel_delivered":
            delivered_by_end += t < to_min
            if inside:
                g2d.append(value)
            if t < to_min:
                done_in_time[entity] = value
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
    censored = censored_times(done_in_time, at_gate, to_min)
    undelivered = sum(1 for pid in at_gate if pid not in done_in_time)
    pct_all = np.percentile(np.asarray(censored, dtype=float), [50, 95]) if censored else [
        nan, nan]
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
        undelivered=undelivered,
        undelivered_share=undelivered / arrived if arrived else 0.0,
        gate_to_door_p50_all_min=float(pct_all[0]),
        gate_to_door_p95_all_min=float(pct_all[1]),
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
        Shift length (:func:`commgov.sim.shift_windows`); ``None``: one window.
    break_minutes : float, default 30
        Time off between shifts (break or hand-over).
    break_stagger_minutes : float, default 0
        With shifts: each volunteer's breaks come earlier by a phase drawn uniformly in
        ``[0, min(break_stagger_minutes, shift_minutes))`` minutes
        (:func:`commgov.sim.break_phases`, stream ``"sim_shifts"``, entity
        ``"<community>/<volunteer>/stagger"``), so the crew starts together but takes its
        breaks at different minutes; 0: everyone breaks at the same minute (the post is empty
        for the whole break). Recruits get a phase too.
    attrition_per_hour : float, default 0
        Rate at which each volunteer leaves for good (:func:`commgov.sim.leave_times`).
    recruits_per_hour : float, default 0
        New volunteers joining (``"relay-r001"`` …; :func:`commgov.sim.recruit_times`)
        during the duty period; they work the same shift pattern from their join time.
    riders : int or None, default None
        Riders as a resource (:mod:`commgov.sim._riders`), 0–10,000: the rider stream above
        (``riders_per_hour``, ``parcels_per_rider``, ``batch``, ``arrivals_*``) then says when
        parcels are *ready at the depot*, and this many riders (``"relay-rider001"`` …) carry
        them to the gate. ``None``: parcels reach the gate as that stream (no rider leg), and
        the ``rider_*`` parameters are ignored. With riders the KPIs also carry the fields of
        :class:`commgov.sim.RiderKpis` (``parcels_at_gate_per_hour``, ``rider_utilisation``,
        ``at_depot_end``, ``on_riders_end``, ``ready_at_depot`` …), and ``undelivered``
        counts every stage (see :func:`relay`).
    rider_capacity : int, default 10
        Parcels per ride, 1–100.
    rider_leg_minutes : float, default 15
        Riding time depot → gate, one way, minutes, 0–600.
    rider_load_minutes, rider_drop_minutes : float, default 2, 1
        Minutes per ride loading at the depot and dropping at the gate shelf, 0–120.
    rider_leg_cv : float, default 0
        Coefficient of variation of the lognormal ride-time factor (mean 1), 0–10.
    riders_from_min, riders_until_min : float, float or None
        The riders' duty period, minutes since the scenario start; ``None``: until the
        horizon. ``riders_until_min`` must be after ``riders_from_min``.
    rider_shift_minutes : float or None, default None
        Rider shift length, minutes (:func:`commgov.sim.crew_windows`); ``None``: one window.
    rider_break_minutes : float, default 30
        Time off between rider shifts, minutes.
    rider_break_stagger_minutes : float, default 0
        With rider shifts: seeded phases in ``[0, min(this, rider_shift_minutes))`` minutes
        (entity ``"<community>/<rider>/stagger"``), so the fleet does not break at once.
    """

    volunteers: PoolSize = 10
    capacity: Capacity = 4
    riders_per_hour: float = Field(default=30.0, ge=0.0, le=100_000.0)
    parcels_per_rider: float = Field(default=1.0, ge=1.0, le=1000.0)
    batch: Literal["fixed", "poisson"] = "fixed"
    arrivals_from_min: SimMinute = 0.0
    arrivals_until_min: SimMinute | None = None
    duty_from_min: SimMinute = 0.0
    duty_until_min: SimMinute | None = None
    shelf_capacity: int | None = Field(default=None, ge=0, le=1_000_000)
    handover_minutes: Annotated[Minutes, Field(le=120.0)] = 2.0
    door_minutes: Annotated[Minutes, Field(le=120.0)] = 1.5
    stair_minutes_per_floor: Annotated[Minutes, Field(le=10.0)] = 0.5
    walking_speed_m_per_min: SpeedMPerMin = 80.0
    detour_factor: DetourFactor = 1.3
    trip_cv: VariationCoefficient = 0.0
    fatigue_per_hour: FatiguePerHour = 0.0
    shift_minutes: ShiftMinutes | None = None
    break_minutes: BreakMinutes = 30.0
    break_stagger_minutes: BreakStaggerMinutes = 0.0
    attrition_per_hour: AttritionPerHour = 0.0
    recruits_per_hour: RecruitsPerHour = 0.0
    riders: PoolSize | None = None
    rider_capacity: Capacity = 10
    rider_leg_minutes: Annotated[Minutes, Field(le=600.0)] = 15.0
    rider_load_minutes: Annotated[Minutes, Field(le=120.0)] = 2.0
    rider_drop_minutes: Annotated[Minutes, Field(le=120.0)] = 1.0
    rider_leg_cv: VariationCoefficient = 0.0
    riders_from_min: SimMinute = 0.0
    riders_until_min: SimMinute | None = None
    rider_shift_minutes: ShiftMinutes | None = None
    rider_break_minutes: BreakMinutes = 30.0
    rider_break_stagger_minutes: BreakStaggerMinutes = 0.0


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


def gate_building(bid: str, metres: float, floors: int, has_lift: bool, households: int,
                  params: RelayParams) -> GateBuilding:
    """A building served from a shelf ``metres`` away (great-circle): the walk times the
    ``detour_factor``, ``door_minutes`` plus ``stair_minutes_per_floor`` per floor above the
    ground without a lift, parcels in proportion to ``households``."""
    stairs = 0.0 if has_lift else params.stair_minutes_per_floor * (floors - 1)
    return GateBuilding(id=bid, walk_m=metres * params.detour_factor,
                        door_minutes=params.door_minutes + stairs, weight=float(households))


def _relay_gate(ctx: SimContext, params: RelayParams) -> RelayGate:
    from commgov.types import haversine_m

    gate, rows = _community_buildings(ctx)
    if not rows:
        raise InputError.single("scenario", "submodels.relay", ctx.community_id,
                                "the community has no buildings to deliver to",
                                what="scenario")
    if gate is None:
        gate = (sum(r[1] for r in rows) / len(rows), sum(r[2] for r in rows) / len(rows))
    buildings = [gate_building(bid, haversine_m(gate[0], gate[1], lon, lat), floors, lift, n,
                               params) for bid, lon, lat, floors, lift, n in rows]
    if sum(b.weight for b in buildings) <= 0:  # no household counts: equal shares
        buildings = [b.model_copy(update={"weight": 1.0}) for b in buildings]
    return RelayGate(buildings=tuple(buildings), shelf_capacity=params.shelf_capacity,
                     walking_speed_m_per_min=params.walking_speed_m_per_min,
                     handover_minutes=params.handover_minutes, trip_cv=params.trip_cv)


def _relay_kpis(log: EventLog, ctx: SimContext, params: RelayParams) -> dict[str, float]:
    horizon = ctx.scenario.horizon_min
    kpis = relay_kpis(log, to_min=horizon).as_dict()
    if params.riders is not None:
        riders = rider_kpis(log, to_min=horizon)
        kpis.update(riders.as_dict())
        # every stage: at the depot, on a rider, at the gate or carried, not at the door
        left = kpis["undelivered"] + riders.at_depot_end + riders.on_riders_end
        kpis["undelivered"] = float(left)
        kpis["undelivered_share"] = left / riders.ready_at_depot if riders.ready_at_depot else 0.0
    return kpis


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
    gone = {vid: join + leave[vid] for vid, join in members}
    windows = crew_windows(members, off, params.shift_minutes, params.break_minutes, rngs,
                           stagger_minutes=params.break_stagger_minutes, leave_min=gone)
    vols, marks = [], []
    for vid, join in members:
        vols.append(RelayVolunteer(id=vid, capacity=params.capacity, windows=windows[vid],
                                   fatigue_per_hour=params.fatigue_per_hour))
        if join > start:
            marks.append((join, "volunteer_joined", vid))
        if gone[vid] < off:
            marks.append((gone[vid], "volunteer_left", vid))
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

    KPIs (prefixed ``relay.``) are the fields of :class:`RelayKpis` over the whole horizon,
    and with ``riders`` set those of :class:`commgov.sim.RiderKpis`; then ``undelivered``
    counts the parcels ready at the depot and not at their door by the horizon, whatever the
    stage (``at_depot_end`` + ``on_riders_end`` + at the gate or carried), and
    ``undelivered_share`` divides it by ``ready_at_depot``, so
    ``ready_at_depot = delivered + undelivered`` and
    ``ready_at_depot = arrived + at_depot_end + on_riders_end``.

    Raises
    ------
    commgov.errors.InputError
        If the community has no buildings, or ``riders_until_min`` is not after
        ``riders_from_min`` (or the horizon ends first).
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
    if params.riders is None:
        relay_process(env, gate, arrivals, vols, ctx.log, rngs)
        return
    put = relay_process(env, gate, ParcelArrivals((), (), (), ()), vols, ctx.log, rngs)
    orders = list(zip(arrivals.t_min, arrivals.parcel_ids, arrivals.building_ids,
                      arrivals.rider_ids, strict=True))
    leg = RiderLeg(leg_minutes=params.rider_leg_minutes,
                   load_minutes=params.rider_load_minutes,
                   drop_minutes=params.rider_drop_minutes, leg_cv=params.rider_leg_cv)
    rider_process(env, orders, _riders(ctx, params, horizon), leg, put, ctx.log, rngs)


def _riders(ctx: SimContext, params: RelayParams, horizon: float) -> list[Rider]:
    """The rider fleet (ids ``relay-rider001`` …) with its on-duty windows."""
    off = horizon if params.riders_until_min is None else params.riders_until_min
    if not off > params.riders_from_min:
        raise InputError.single(
            "scenario", "submodels.relay.riders_until_min", params.riders_until_min,
            f"the riders' duty [riders_from_min = {params.riders_from_min:g}, this or the "
            f"horizon {horizon:g}) is empty", what="scenario")
    prefix, rngs = _scope(ctx)
    n = params.riders or 0
    members = [(f"{prefix}relay-rider{k:03d}", params.riders_from_min) for k in range(1, n + 1)]
    windows = crew_windows(members, off, params.rider_shift_minutes, params.rider_break_minutes,
                           rngs, stagger_minutes=params.rider_break_stagger_minutes)
    return [Rider(id=m, capacity=params.rider_capacity, windows=windows[m]) for m, _ in members]
