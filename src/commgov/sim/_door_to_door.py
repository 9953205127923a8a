"""The ``door_to_door`` submodel: its parameters, world, teams, KPIs and registration.

The teams, the round tables and the processes are in :mod:`commgov.sim._d2d_run` (model,
randomness and events: its docstring). All times are float minutes of simulated time.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal

import simpy
from pydantic import Field, field_validator

from commgov.errors import InputError
from commgov.sim._d2d_run import (
    _ACTOR,
    D2DOrder,
    D2DTeam,
    RngFactory,
    _Round,
    _round_tables,
    _Run,
    planned_order,
    teams_from_problem,
)
from commgov.sim._engine import SimContext, register_submodel
from commgov.sim._kpi import event_values, time_to_fraction
from commgov.sim._log import EventLog
from commgov.sim._params import (
    AttritionPerHour,
    BreakMinutes,
    BreakStaggerMinutes,
    DetourFactor,
    FatiguePerHour,
    Minutes,
    PlanTimeLimitS,
    ShiftMinutes,
    SimMinute,
    SpeedMPerMin,
    SubmodelParams,
    VariationCoefficient,
)
from commgov.sim._shifts import crew_windows, leave_times

if TYPE_CHECKING:
    import numpy as np

    from commgov.scheduling import DoorToDoorProblem

__all__ = ["DoorToDoorParams", "door_to_door", "door_to_door_kpis"]

# ------------------------------------------------------------------------------ submodel


class DoorToDoorParams(SubmodelParams):
    """Parameters of the ``door_to_door`` submodel (``[submodels.door_to_door]``).

    Households and stairwells are those of :func:`commgov.scheduling.
    door_to_door_problem_from_org` at the round start (sealed 封控区 / high-risk buildings: every
    household; elsewhere registered mobility-limited residents), plus the buildings sealed by
    ``seal_largest`` and ``seal_buildings`` (their households laid out by the same rule).
    Durations in minutes, distances in metres; the timing defaults are
    :class:`commgov.scheduling.RoundPolicy`'s, the rest are
    assumptions, not calibrated values.

    Parameters
    ----------
    enabled : bool, default True
    duty_from_min : float, default 0
        Round start (the start of the teams' duty), minutes after the scenario start,
        0 … 86,400: zone regimes, and the people's availability for ``crews = "world"``, are
        read at that instant.
    duty_until_min : float or None, default None
        End of the teams' duty, minutes after the scenario start; ``None``: the horizon.
    visits : {"all", "sealed", "home_visit"}, default "all"
        Which households: both kinds, only sealed buildings, or only home visits.
    seal_largest : int, default 0
        Also seal the ``k`` buildings of each community with the most households (ties by
        id), whatever their zone (0–10,000).
    seal_buildings : list of str, default []
        Also seal these building ids (each must be a building of the scenario's area; in an
        area run each community takes its own).
    crews : {"world", "generic"}, default "world"
        ``"world"``: the two-person teams :func:`commgov.scheduling.
        door_to_door_problem_from_org` forms from the community's volunteers available at the
        round start (ids ``"<person>+<person>"``; a team stops when a member's availability
        window ends). ``"generic"``: made-up teams ``"d2d-t01"`` … with members
        ``"d2d-t01/a"``, ``"d2d-t01/b"``.
    teams : int or None, default None
        How many teams (1–1,000): the first ``teams`` by id; ``None``: every world team, or 4
        generic ones. More than the world forms raises :class:`commgov.errors.InputError` at
        run time.
    policy : {"nearest_first", "planned"}, default "nearest_first"
        Who goes where (module docstring); ``"planned"`` solves :func:`commgov.scheduling.
        plan_door_to_door` once per process and community (cached).
    plan_time_limit_s : float, default 10
        Wall-clock cap of that solve, seconds.
    shift_minutes : float or None, default 240
        Shift length (PPE shift); ``None``: one window over the whole duty.
    break_minutes : float, default 30
        Time at the base between shifts.
    break_stagger_minutes : float, default 0
        With shifts: each team's breaks come earlier by a seeded phase in
        ``[0, min(break_stagger_minutes, shift_minutes))`` minutes
        (:func:`commgov.sim.crew_windows`, stream ``"sim_shifts"``, entity
        ``"<team>/stagger"``, generic teams scoped by the community), so the teams do not
        all return to the base at once; 0: every team breaks at the same minute.
    minutes_per_household, minutes_per_resident : float, default 2.5, 0.5
        Nominal service at a door.
    minutes_between_doors : float, default 0.5
    stair_minutes_per_floor, lift_minutes_per_floor : float, default 2.0, 0.1
        Minutes per floor climbed by stairs or by lift (``RoundPolicy.stairs_minutes_per_floor``
        and ``lift_minutes_per_floor``).
    walking_speed_m_per_min : float, default 80
    detour_factor : float, default 1.3
    service_cv : float, default 0.3
        Coefficient of variation of the lognormal service factor (mean 1).
    fatigue_per_hour : float, default 0
        Task-time growth per hour worked (0.05: +5 %/h).
    attrition_per_hour : float, default 0
        Rate at which each member leaves for good; the team stops with its first leaver.
    """

    duty_from_min: SimMinute = 0.0
    duty_until_min: SimMinute | None = None
    visits: Literal["all", "sealed", "home_visit"] = "all"
    seal_largest: int = Field(default=0, ge=0, le=10_000)
    seal_buildings: tuple[str, ...] = ()
    crews: Literal["world", "generic"] = "world"
    teams: int | None = Field(default=None, ge=1, le=1000)
    policy: D2DOrder = "nearest_first"
    plan_time_limit_s: PlanTimeLimitS = 10.0
    shift_minutes: ShiftMinutes | None = 240.0
    break_minutes: BreakMinutes = 30.0
    break_stagger_minutes: BreakStaggerMinutes = 0.0
    minutes_per_household: Annotated[Minutes, Field(le=240.0)] = 2.5
    minutes_per_resident: Annotated[Minutes, Field(le=60.0)] = 0.5
    minutes_between_doors: Annotated[Minutes, Field(le=60.0)] = 0.5
    stair_minutes_per_floor: Annotated[Minutes, Field(le=30.0)] = 2.0
    lift_minutes_per_floor: Annotated[Minutes, Field(le=30.0)] = 0.1
    walking_speed_m_per_min: SpeedMPerMin = 80.0
    detour_factor: DetourFactor = 1.3
    service_cv: VariationCoefficient = 0.3
    fatigue_per_hour: FatiguePerHour = 0.0
    attrition_per_hour: AttritionPerHour = 0.0

    @field_validator("seal_buildings")
    @classmethod
    def _sorted_unique(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted(set(v)))


def _field(name: str) -> str:
    return f"submodels.door_to_door.{name}"


def _world_problem(
    ctx: SimContext, params: DoorToDoorParams, off: float
) -> tuple[DoorToDoorProblem, _Round]:
    """The round's problem (households, stairwells, base, world teams) and its tables.

    Cached per process, keyed by what they depend on.
    """
    c = ctx.scenario.community
    at = ctx.to_datetime(params.duty_from_min)
    shift_hours = max(off - params.duty_from_min, 1.0) / 60.0
    key = ("door_to_door.world", c.dataset, c.seed, ctx.community_id, at, shift_hours,
           params.seal_largest, params.seal_buildings, params.visits,
           tuple(_round_policy_values(params).items()))
    cached = ctx.cache.get(key)
    if cached is None:
        problem = _build_problem(ctx, params, at, shift_hours)
        cached = ctx.cache[key] = (problem, _round_tables(problem))
    return cached


#: RoundPolicy field → the parameter that sets it (the policy spells stairs "stairs_").
_POLICY_FIELDS = {"minutes_per_household": "minutes_per_household",
                  "minutes_per_resident": "minutes_per_resident",
                  "minutes_between_doors": "minutes_between_doors",
                  "stairs_minutes_per_floor": "stair_minutes_per_floor",
                  "lift_minutes_per_floor": "lift_minutes_per_floor",
                  "walking_speed_m_per_min": "walking_speed_m_per_min",
                  "detour_factor": "detour_factor"}


def _round_policy_values(params: DoorToDoorParams) -> dict[str, float]:
    return {field: getattr(params, name) for field, name in _POLICY_FIELDS.items()}


def _build_problem(
    ctx: SimContext, params: DoorToDoorParams, at: datetime, shift_hours: float
) -> DoorToDoorProblem:
    from commgov.org import Building, NodeKind
    from commgov.scheduling import (
        DoorToDoorProblem,
        RoundPolicy,
        door_to_door_problem_from_org,
    )
    from commgov.scheduling.door_to_door import (
        Access,
        VisitKind,
        building_leaves,
        sealed_household_layout,
    )
    from commgov.types import TimeWindow, to_seconds

    graph, cid = ctx.graph, ctx.community_id
    policy = RoundPolicy(**_round_policy_values(params))
    window = TimeWindow(start=at, end=at + timedelta(seconds=to_seconds(shift_hours * 60.0)))
    world = door_to_door_problem_from_org(graph, cid, window=window, policy=policy)
    for bid in params.seal_buildings:
        if bid not in graph or graph.kind(bid) is not NodeKind.BUILDING:
            raise InputError.single("scenario", _field("seal_buildings"), bid,
                                    "no building with this id in the scenario's area",
                                    what="scenario")
    # the buildings to seal on top of the world's zones
    sizes: list[tuple[int, str]] = []
    leaves_of: dict[str, list[tuple[str, Any]]] = {}
    for bid in sorted(graph.descendants(cid, NodeKind.BUILDING)):
        leaves = building_leaves(graph, bid)
        leaves_of[bid] = leaves
        sizes.append((-sum(cnt.households for _, cnt in leaves), bid))
    extra = {bid for _, bid in sorted(sizes)[:params.seal_largest]}
    extra.update(b for b in params.seal_buildings if b in leaves_of)
    leaf_owner = {leaf: bid for bid in extra for leaf, _ in leaves_of[bid]}
    sealed_leaves = {h.building_id for h in world.households if h.kind is VisitKind.SEALED}
    redo = {leaf for leaf in leaf_owner if leaf not in sealed_leaves}
    households = [h.model_dump() for h in world.households if h.building_id not in redo]
    buildings = {b.id: b.model_dump() for b in world.buildings}
    registered: dict[str, list[Any]] = {}
    for rec in ctx.model.households:
        if rec.parent_id in redo:
            registered.setdefault(rec.parent_id, []).append(rec)
    for bid in sorted(extra):
        b = graph.record(bid)
        assert isinstance(b, Building)
        for leaf, counts in leaves_of[bid]:
            if leaf not in redo:
                continue
            # the layout rule of door_to_door_problem_from_org for sealed buildings
            recs = sorted(registered.get(leaf, []), key=lambda r: r.id)
            if max(counts.households, len(recs)) == 0:
                continue
            households.extend(sealed_household_layout(leaf, b.floors, counts.households,
                                                      counts.residents, recs))
            buildings[leaf] = {"id": leaf, "location": b.location, "floors": b.floors,
                               "access": Access.LIFT if b.has_lift else Access.STAIRS}
    if params.visits != "all":
        keep = VisitKind.SEALED if params.visits == "sealed" else VisitKind.HOME_VISIT
        households = [h for h in households if h["kind"] is keep]
    used = {h["building_id"] for h in households}
    return DoorToDoorProblem(
        timezone=world.timezone, base=world.base,
        buildings=[buildings[k] for k in sorted(used)], households=households,
        teams=list(world.teams), policy=policy)


def _scope(ctx: SimContext) -> tuple[str, RngFactory]:
    """(log prefix of made-up ids, generators: made-up ids keyed by the community)."""
    cid = ctx.community_id
    prefix = f"{cid}/" if ctx.in_area else ""

    def rngs(stream: str, entity: str) -> np.random.Generator:
        if entity.startswith(f"{prefix}d2d-t"):
            return ctx.rng(stream, f"{cid}/{entity.removeprefix(prefix)}")
        return ctx.rng(stream, entity)

    return prefix, rngs


def _teams(
    ctx: SimContext, params: DoorToDoorParams, problem: DoorToDoorProblem, off: float,
    rngs: RngFactory,
) -> tuple[list[D2DTeam], list[tuple[float, str]]]:
    """The teams with their windows, and (minute, team) of early leavers (attrition)."""
    start = params.duty_from_min
    if params.crews == "world":
        formed = teams_from_problem(problem, ctx.start)
        n = len(formed) if params.teams is None else params.teams
        if n > len(formed) or (not formed and problem.households):
            raise InputError.single(
                "scenario", _field("teams"), params.teams,
                f"community {ctx.community_id} has {len(formed)} two-person teams of "
                f"volunteers available at minute {start:g} (use crews = \"generic\" or "
                "another duty_from_min)", what="scenario")
        base = [(t.id, t.members, t.windows[0][1]) for t in formed[:n]]
    else:
        prefix = f"{ctx.community_id}/" if ctx.in_area else ""
        n = 4 if params.teams is None else params.teams
        base = []
        for k in range(1, n + 1):
            tid = f"{prefix}d2d-t{k:02d}"
            base.append((tid, (f"{tid}/a", f"{tid}/b"), math.inf))
    members = [m for _, ms, _ in base for m in ms]
    leave = leave_times(members, params.attrition_per_hour, rngs)
    gone = {tid: min(leave[m] for m in ms) for tid, ms, _ in base}
    windows = crew_windows(
        [(tid, start) for tid, _, _ in base], off, params.shift_minutes, params.break_minutes,
        rngs, stagger_minutes=params.break_stagger_minutes,
        leave_min={tid: min(gone[tid], avail_end) for tid, _, avail_end in base})
    teams, leavers = [], []
    for tid, ms, avail_end in base:
        teams.append(D2DTeam(id=tid, members=ms, windows=windows[tid],
                             fatigue_per_hour=params.fatigue_per_hour))
        if gone[tid] < off and gone[tid] < avail_end:
            leavers.append((max(gone[tid], start), tid))
    return teams, sorted(leavers)


def _plan_order(
    ctx: SimContext, params: DoorToDoorParams, problem: DoorToDoorProblem,
    teams: Sequence[D2DTeam],
) -> dict[str, list[str]]:
    """Routes of :func:`commgov.scheduling.plan_door_to_door` for these teams (cached)."""
    from commgov.scheduling import RoundTeam, plan_door_to_door
    from commgov.types import TimeWindow

    rounds = []
    for t in teams:
        if not t.windows:
            continue
        s, e = t.windows[0]
        rounds.append(RoundTeam(id=t.id, persons=len(t.members), shift=TimeWindow(
            start=ctx.to_datetime(s).replace(microsecond=0),
            end=ctx.to_datetime(e).replace(microsecond=0))))
    planned = problem.model_copy(update={"teams": rounds})
    digest = hashlib.sha256(planned.model_dump_json().encode()).hexdigest()
    c = ctx.scenario.community
    key = ("door_to_door.plan", c.dataset, c.seed, ctx.community_id, digest,
           params.plan_time_limit_s)
    cached = ctx.cache.get(key)
    if cached is None:
        plan = plan_door_to_door(planned, time_limit_s=params.plan_time_limit_s)
        cached = ctx.cache[key] = planned_order(plan)
    return cached


def _leavers(env: simpy.Environment, log: EventLog, marks: Sequence[tuple[float, str]]) -> Any:
    for t, tid in marks:
        if t > env.now:
            yield env.timeout(t - env.now)
        log.record(env.now, "volunteer_left", tid, actor=_ACTOR)


def door_to_door_kpis(
    log: EventLog, ctx: SimContext, params: DoorToDoorParams
) -> dict[str, float]:
    """KPIs of the ``door_to_door`` submodel, from the event log.

    Returns
    -------
    dict of str to float
        ``households`` (to swab), ``teams``; ``swabbed`` and ``not_reached`` (households
        swabbed, and not, by the horizon), ``swabbed_share`` (1 when there is nothing to
        swab); ``t50_min``, ``t95_min``, ``t100_min``: minutes from the round start
        (``duty_from_min``) until 50 %, 95 %, 100 % of the households are swabbed (NaN if not by
        the horizon; 0 with nothing to swab); ``team_hours`` (legs and swabs of all teams, hours);
        ``volunteer_hours`` (this submodel's: team hours × members); ``teams_left``
        (attrition).
    """
    total = int(event_values(log, "d2d_target").sum())
    swabbed = len(log.where("d2d_swabbed"))
    minutes = float(event_values(log, "d2d_leg").sum() + event_values(log, "d2d_swabbed").sum())
    busy = [log.value[i] for i in log.where("volunteer_busy") if log.actor[i] == _ACTOR]
    start = params.duty_from_min

    def t(frac: float) -> float:
        done = time_to_fraction(log, "d2d_swabbed", frac, total)
        return math.nan if math.isnan(done) else done - (start if total else 0.0)

    return {
        "households": float(total),
        "teams": float(len(log.where("d2d_team"))),
        "swabbed": float(swabbed),
        "not_reached": float(total - swabbed),
        "swabbed_share": swabbed / total if total else 1.0,
        "t50_min": t(0.5),
        "t95_min": t(0.95),
        "t100_min": t(1.0),
        "team_hours": minutes / 60.0,
        "volunteer_hours": float(sum(busy) / 60.0),
        "teams_left": float(sum(1 for i in log.where("volunteer_left")
                                if log.actor[i] == _ACTOR)),
    }


@register_submodel("door_to_door", params=DoorToDoorParams, kpis=door_to_door_kpis)
def door_to_door(env: simpy.Environment, ctx: SimContext, params: DoorToDoorParams) -> None:
    """Start the ``door_to_door`` submodel (model, randomness and events: module docstring).

    Raises
    ------
    commgov.errors.InputError
        ``seal_buildings`` naming no building of the area, ``duty_until_min`` not after
        ``duty_from_min``, or (``crews = "world"``) more teams asked for than the community forms,
        or none while there are households to swab.
    """
    horizon = ctx.scenario.horizon_min
    off = horizon if params.duty_until_min is None else params.duty_until_min
    if not off > params.duty_from_min:
        raise InputError.single("scenario", _field("duty_until_min"), params.duty_until_min,
                                f"must be after duty_from_min ({params.duty_from_min:g}) and the "
                                "horizon", what="scenario")
    problem, tables = _world_problem(ctx, params, off)
    _, rngs = _scope(ctx)
    teams, leavers = _teams(ctx, params, problem, off, rngs)
    order = _plan_order(ctx, params, problem, teams) if (
        params.policy == "planned" and problem.households) else None
    run = _Run(env, tables, teams, ctx.log, rngs,
               gap_min=params.minutes_between_doors, service_cv=params.service_cv,
               order=order)

    def begin() -> Any:
        if params.duty_from_min > env.now:
            yield env.timeout(params.duty_from_min - env.now)
        run.start(ctx.community_id)

    env.process(begin())
    env.process(_leavers(env, ctx.log, leavers))
