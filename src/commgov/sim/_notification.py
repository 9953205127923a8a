"""Notification submodel: a lockdown notice reaches every household.

The stochastic counterpart of :func:`commgov.scheduling.plan_notification`.

In spring 2022, 20 Haitang Pioneers (海棠先锋) notified the 1,765 households of 虎池苑社区
within half an hour through building WeChat groups (楼栋微信群), phoning and knocking on the
doors of the households the groups did not reach. This submodel simulates that call-out with
SimPy.

The model
---------
* **Who.** The first ``volunteers`` pioneers by id (people with the volunteer role enrolled
  in ``enrolment``, with a home in the community and a location); all of them when
  ``volunteers`` is omitted. Each building of the community is in the charge of one of them
  (:func:`assign_buildings`: greedy, buildings in id order, each to the volunteer with the
  least estimated work so far plus the walk to it). A household with a "1+10+N" liaison
  (``LIAISES``) among the active volunteers is in that liaison's charge instead.
* **Activation** (policy kind ``"activation"``): ``all_at_once`` (every volunteer learns of
  the notice at minute 0) or ``phone_tree`` (the first volunteer by id learns at minute 0;
  every volunteer who knows phones up to ``fanout`` others, in id order, before starting
  work; :func:`phone_tree`).
* **Escalation** (policy kind ``"channel"``): ``escalation`` posts the notice in each
  building's group (``post_minutes``); group members read it after a heavy-tailed delay
  (policy kind ``"read_delay"``: ``lognormal`` or ``pareto``, minutes); households not in the
  group are phoned at once and members who have not read after ``chase_after_min`` are
  phoned then (``phone_minutes``; answered with ``answer_probability``); an unanswered call
  becomes a door knock. ``group_then_door`` knocks instead of phoning; ``phone_then_door``
  posts nothing and phones every household; ``door_only`` knocks on every door.
* **Volunteers** are SimPy processes that do one thing at a time: posts, then calls (first
  come, first served), then door knocks, building by building (the nearest building with
  knocks pending first): walking at ``walking_speed_m_per_min`` (80 m/min) over great-circle
  metres × ``detour_factor``, climbing each entrance once per visit (as
  :func:`commgov.scheduling.notification.notify_minutes`: ``stair_minutes_per_floor`` ×
  (floors − 1)
  without a lift, ``lift_minutes_per_entrance`` with one), ``knock_minutes`` a door. Each
  post, call and knock lasts its nominal minutes × a lognormal factor (median 1,
  ``service_sigma``) drawn from the volunteer's own stream.

Randomness (one stream per mechanism and entity, as in every submodel): household draws come
from stream ``notify_household`` per *building* (group membership, read delay and call answer
of its households, drawn in household order whatever the policy); volunteer task factors from
``notify_volunteer`` per *volunteer*; phone-tree call factors from ``notify_tree`` per
*caller*. Removing a volunteer therefore leaves every other volunteer's sequence of factors
unchanged, and household draws are common to every scenario of a replicate.

Events (``ctx.log``)
--------------------
``notify_target``  entity community, value: households to notify (at minute 0)
``volunteer_activated``  entity volunteer, actor caller ("" for the root / all at once)
``group_post``  entity building, actor volunteer, value minutes
``phone_call``  entity household, actor volunteer, value minutes
``walk``  entity building walked to, actor volunteer, value metres
``door_knock``  entity household, actor volunteer, value minutes
``notified``  entity household, actor ``"wechat"`` or the volunteer, value channel
(1 group, 2 phone, 3 door); once per household
``volunteer_busy``  entity volunteer, actor ``"notification"``, value minutes (every post,
call, walk, climb and knock, tree calls included)
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Annotated, Any

import numpy as np
import simpy
from pydantic import BeforeValidator, Field, SerializeAsAny

from commgov.errors import InputError
from commgov.sim._engine import SimContext, register_submodel
from commgov.sim._kpi import event_values, time_to_fraction
from commgov.sim._log import EventLog
from commgov.sim._notify_rules import (
    Activation,
    AllAtOnce,
    ChannelPolicy,
    Escalation,
    LognormalDelay,
    PhoneTree,
    ReadDelay,
    assign_buildings,
    phone_tree,
)
from commgov.sim._params import Crew, DetourFactor, SpeedMPerMin, SubmodelParams
from commgov.sim._policies import PolicyParams, make_policy
from commgov.types import haversine_m

__all__ = ["DOOR", "GROUP", "PHONE", "NotificationParams", "notification", "notification_kpis"]

#: Channels in the value column of ``notified`` events.
GROUP, PHONE, DOOR = 1.0, 2.0, 3.0
_STAT = "notify_household"
_VOL = "notify_volunteer"
_TREE = "notify_tree"
_BLOCK = 64


def _policy(kind: str) -> BeforeValidator:
    def check(value: object) -> PolicyParams:
        try:
            return make_policy(kind, value, field=kind)
        except InputError as exc:
            raise ValueError("; ".join(str(i).removeprefix("scenario.") for i in exc.issues)
                             ) from None

    return BeforeValidator(check)


class NotificationParams(SubmodelParams):
    """Parameters of the notification submodel (``[submodels.notification]``).

    All durations in minutes, distances in metres, speeds in metres per minute. Defaults are
    assumptions (those of :class:`commgov.scheduling.NotificationProblem` where it has the
    field), not calibrated values.

    Parameters
    ----------
    enabled : bool, default True
    volunteers : int or None, default None
        How many pioneers take part: the first ``volunteers`` by id among the community's
        pioneers (1–10,000); ``None``: all of them. More than there are raises
        :class:`commgov.errors.InputError` at run time.
    enrolment : str, default "海棠先锋"
        Enrolment (brand) that makes a volunteer a pioneer.
    group_share : float, default 0.85
        Share of households with a member in their building's group (0–1).
    answer_probability : float, default 0.8
        Chance that a phoned household answers (0–1); otherwise its door is knocked on.
    post_minutes : float, default 1.0
        Minutes to post the notice in one building group.
    phone_minutes : float, default 1.5
        Minutes a call.
    knock_minutes : float, default 1.0
        Minutes a door knocked on (as ``NotificationProblem.knock_minutes``).
    stair_minutes_per_floor : float, default 0.5
        Minutes per floor above the ground to climb an entrance without a lift and back.
    lift_minutes_per_entrance : float, default 1.0
        Minutes of lift per entrance climbed with a lift.
    walking_speed_m_per_min : float, default 80.0
        Walking speed, metres per minute, > 0 and ≤ 1,000.
    detour_factor : float, default 1.3
        Walking metres per great-circle metre.
    service_sigma : float, default 0.3
        Log-scale spread of the factor on every post, call and knock (median 1).
    channel : ChannelPolicy, default escalation(chase_after_min=15)
    read_delay : ReadDelay, default lognormal(median_min=6, sigma=1)
    activation : Activation, default all_at_once
    """

    volunteers: int | None = Field(default=None, ge=1, le=10_000)
    enrolment: str = "海棠先锋"
    group_share: float = Field(default=0.85, ge=0.0, le=1.0)
    answer_probability: float = Field(default=0.8, ge=0.0, le=1.0)
    post_minutes: float = Field(default=1.0, ge=0.0, le=60.0)
    phone_minutes: float = Field(default=1.5, ge=0.0, le=60.0)
    knock_minutes: float = Field(default=1.0, ge=0.0, le=60.0)
    stair_minutes_per_floor: float = Field(default=0.5, ge=0.0, le=10.0)
    lift_minutes_per_entrance: float = Field(default=1.0, ge=0.0, le=30.0)
    walking_speed_m_per_min: SpeedMPerMin = 80.0
    detour_factor: DetourFactor = 1.3
    service_sigma: float = Field(default=0.3, ge=0.0, le=3.0)
    channel: Annotated[SerializeAsAny[ChannelPolicy], _policy("channel")] = Escalation()
    read_delay: Annotated[SerializeAsAny[ReadDelay], _policy("read_delay")] = LognormalDelay()
    activation: Annotated[SerializeAsAny[Activation], _policy("activation")] = AllAtOnce()


# ------------------------------------------------------------------------------ the world


@dataclass(frozen=True, slots=True)
class _Building:
    id: str
    lon: float
    lat: float
    floors: int
    has_lift: bool
    first: int  # index of its first household
    entrance_of: tuple[int, ...]  # entrance number of each household (0 … e−1)


@dataclass(frozen=True, slots=True)
class _World:
    buildings: tuple[_Building, ...]
    households: tuple[str, ...]
    building_of: np.ndarray  # household → building index
    pioneers: tuple[tuple[str, float, float], ...]  # (id, lon, lat) sorted by id
    liaisons: dict[str, tuple[str, ...]]  # household id → liaison person ids


def _world(ctx: SimContext, enrolment: str) -> _World:
    c = ctx.scenario.community
    key = ("notification.world", c.dataset, c.seed, ctx.community_id, enrolment)
    cached = ctx.cache.get(key)
    if cached is None:
        cached = ctx.cache[key] = _build_world(ctx, enrolment)
    assert isinstance(cached, _World)
    return cached


def _build_world(ctx: SimContext, enrolment: str) -> _World:
    from commgov.org import Building, Entrance, NodeKind, Role

    graph, cid = ctx.graph, ctx.community_id
    buildings: list[_Building] = []
    households: list[str] = []
    owner: list[int] = []
    for bid in sorted(graph.descendants(cid, NodeKind.BUILDING)):
        record = graph.record(bid)
        assert isinstance(record, Building)
        entrances = sorted(e for e in graph.children(bid) if graph.kind(e) is NodeKind.ENTRANCE)
        groups: list[tuple[str, int]] = []
        for e in entrances:
            rec = graph.record(e)
            assert isinstance(rec, Entrance)
            groups.append((e, rec.counts.households))
        if not entrances:
            n = record.counts.households if record.counts is not None else sum(
                1 for _ in graph.descendants(bid, NodeKind.HOUSEHOLD))
            groups.append((bid, n))
        first = len(households)
        entrance_of: list[int] = []
        for k, (prefix, n) in enumerate(groups):
            for i in range(1, n + 1):
                households.append(f"{prefix}/H{i}")
                entrance_of.append(k)
                owner.append(len(buildings))
        if len(households) > first:
            buildings.append(_Building(bid, record.location.lon, record.location.lat,
                                       record.floors, record.has_lift, first,
                                       tuple(entrance_of)))
    scope = {cid, *graph.descendants(cid)}
    pioneers = tuple(
        (p.id, p.location.lon, p.location.lat)
        for p in sorted(ctx.model.people, key=lambda q: q.id)
        if Role.VOLUNTEER in p.roles and p.location is not None and p.home_id in scope
        and enrolment in p.enrolments
    )
    known = set(households)
    liaisons: dict[str, tuple[str, ...]] = {}
    for h in sorted(known.intersection(r.id for r in ctx.model.households)):
        people = tuple(sorted(graph.liaisons_of(h)))
        if people:
            liaisons[h] = people
    return _World(tuple(buildings), tuple(households), np.asarray(owner, dtype=np.int64),
                  pioneers, liaisons)


def _walk_m(params: NotificationParams, a: tuple[float, float], b: tuple[float, float]) -> float:
    return haversine_m(a[0], a[1], b[0], b[1]) * params.detour_factor


# ------------------------------------------------------------------------------ simulation


class _Factors:
    """A volunteer's task-duration factors: lognormal(0, sigma), drawn in blocks of 64."""

    __slots__ = ("_buf", "_i", "_rng", "_sigma")

    def __init__(self, rng: np.random.Generator, sigma: float) -> None:
        self._rng, self._sigma, self._buf, self._i = rng, sigma, np.empty(0), 0

    def next(self) -> float:
        if self._i >= self._buf.size:
            self._buf = np.exp(self._sigma * self._rng.standard_normal(_BLOCK))
            self._i = 0
        value = float(self._buf[self._i])
        self._i += 1
        return value


@dataclass(slots=True)
class _Vol:
    crew: Crew  # a pioneer: always on duty, no fatigue
    pos: tuple[float, float]
    factors: _Factors
    buildings: list[int] = field(default_factory=list)
    calls: deque[int] = field(default_factory=deque)
    knocks: dict[int, list[int]] = field(default_factory=dict)
    remaining: int = 0
    wake: simpy.Event | None = None

    @property
    def id(self) -> str:
        return self.crew.id


class _Run:
    """State of one notification run (households by index)."""

    def __init__(self, env: simpy.Environment, ctx: SimContext, p: NotificationParams) -> None:
        self.env, self.ctx, self.p, self.log = env, ctx, p, ctx.log
        w = self.world = _world(ctx, p.enrolment)
        n = p.volunteers if p.volunteers is not None else len(w.pioneers)
        if n > len(w.pioneers):
            raise InputError.single(
                "scenario", "submodels.notification.volunteers", n,
                f"community {ctx.community_id} has only {len(w.pioneers)} volunteers enrolled "
                f"in {p.enrolment!r}", what="scenario")
        if n == 0 and w.households:
            raise InputError.single(
                "scenario", "submodels.notification.volunteers", 0,
                f"community {ctx.community_id} has no volunteer enrolled in {p.enrolment!r}",
                what="scenario")
        chosen = w.pioneers[:n]
        self.vols = [_Vol(Crew(id=vid), (lon, lat), _Factors(ctx.rng(_VOL, vid), p.service_sigma))
                     for vid, lon, lat in chosen]
        by_id = {v.id: v for v in self.vols}
        nh = len(w.households)
        self.notified = np.zeros(nh, dtype=bool)
        self.in_group = np.zeros(nh, dtype=bool)
        self.delay = np.zeros(nh)
        self.answers = np.zeros(nh, dtype=bool)
        for b in w.buildings:  # per-building household draws, in household order
            r = ctx.rng(_STAT, b.id)
            k = len(b.entrance_of)
            sl = slice(b.first, b.first + k)
            self.in_group[sl] = r.random(k) < p.group_share
            self.delay[sl] = p.read_delay.sample(r, k)
            self.answers[sl] = r.random(k) < p.answer_probability
        est = ((1 - p.group_share) * p.phone_minutes
               + (1 - p.group_share * p.answer_probability) * p.knock_minutes)
        plan = assign_buildings(
            [(b.id, b.lon, b.lat, len(b.entrance_of)) for b in w.buildings],
            chosen, est, p.walking_speed_m_per_min, p.detour_factor)
        index = {b.id: i for i, b in enumerate(w.buildings)}
        self.owner_of_building = np.zeros(len(w.buildings), dtype=np.int64)
        for vi, v in enumerate(self.vols):
            v.buildings = [index[b] for b in plan[v.id]]
            for bi in v.buildings:
                self.owner_of_building[bi] = vi
        self.owner = self.owner_of_building[w.building_of] if nh else np.zeros(0, np.int64)
        vindex = {v.id: i for i, v in enumerate(self.vols)}
        for h, people in w.liaisons.items():
            active = [q for q in people if q in by_id]
            if active:
                self.owner[w.households.index(h)] = vindex[active[0]]
        counts = np.bincount(self.owner, minlength=len(self.vols))
        for vi, v in enumerate(self.vols):
            v.remaining = int(counts[vi])

    # -- bookkeeping

    def notify(self, h: int, actor: str, channel: float) -> None:
        self.notified[h] = True
        self.log.record(self.env.now, "notified", self.world.households[h], actor=actor,
                        value=channel)
        v = self.vols[int(self.owner[h])]
        v.remaining -= 1
        if v.remaining == 0:
            self._wake(v)

    def _wake(self, v: _Vol) -> None:
        if v.wake is not None and not v.wake.triggered:
            v.wake.succeed()

    def follow_up(self, h: int) -> None:
        if self.notified[h]:
            return
        v = self.vols[int(self.owner[h])]
        if self.p.channel.use_phone:
            v.calls.append(h)
        else:
            v.knocks.setdefault(int(self.world.building_of[h]), []).append(h)
        self._wake(v)

    def busy(self, v: _Vol, minutes: float, start: float) -> None:
        self.log.record(start, "volunteer_busy", v.id, actor="notification", value=minutes)

    def work(self, v: _Vol, minutes: float) -> Generator[Any, Any, float]:
        """Spend ``minutes`` of ``v``'s time (logged as ``volunteer_busy`` when done); returns
        when the work started."""
        start = self.env.now
        yield self.env.timeout(minutes)
        self.busy(v, minutes, start)
        return start

    def contact(self, v: _Vol, h: int, minutes: float, kind: str) -> Generator[Any, Any, bool]:
        """``v`` calls or knocks on household ``h`` (``minutes`` before the volunteer's service
        factor), logged as ``kind``; returns whether ``h`` is still not notified afterwards."""
        minutes *= v.factors.next()
        start = yield from self.work(v, minutes)
        self.log.record(start, kind, self.world.households[h], actor=v.id, value=minutes)
        return not self.notified[h]

    # -- processes

    def readers(self, b: int) -> Any:
        bld = self.world.buildings[b]
        hs = [h for h in range(bld.first, bld.first + len(bld.entrance_of)) if self.in_group[h]]
        hs.sort(key=lambda h: (self.delay[h], h))
        posted = self.env.now
        for h in hs:
            wait = posted + float(self.delay[h]) - self.env.now
            if wait > 0:
                yield self.env.timeout(wait)
            if not self.notified[h]:
                self.notify(h, "wechat", GROUP)

    def chase(self, b: int) -> Any:
        yield self.env.timeout(self.p.channel.chase_after_min)
        bld = self.world.buildings[b]
        for h in range(bld.first, bld.first + len(bld.entrance_of)):
            if self.in_group[h]:
                self.follow_up(h)

    def volunteer(self, v: _Vol, free: simpy.Event) -> Any:
        env, p, log, w = self.env, self.p, self.log, self.world
        yield free
        for b in v.buildings:
            bld = w.buildings[b]
            hs = range(bld.first, bld.first + len(bld.entrance_of))
            if p.channel.use_group:
                minutes = p.post_minutes * v.factors.next()
                yield from self.work(v, minutes)
                log.record(env.now, "group_post", bld.id, actor=v.id, value=minutes)
                env.process(self.readers(b))
                env.process(self.chase(b))
                for h in hs:
                    if not self.in_group[h]:
                        self.follow_up(h)
            else:
                for h in hs:
                    self.follow_up(h)
        while v.remaining > 0:
            if v.calls:
                h = v.calls.popleft()
                if self.notified[h]:
                    continue
                if not (yield from self.contact(v, h, p.phone_minutes, "phone_call")):
                    continue
                if self.answers[h]:
                    self.notify(h, v.id, PHONE)
                else:
                    v.knocks.setdefault(int(w.building_of[h]), []).append(h)
            elif v.knocks:
                b = min(v.knocks, key=lambda i: (
                    _walk_m(p, v.pos, (w.buildings[i].lon, w.buildings[i].lat)), i))
                pending = v.knocks.pop(b)
                yield from self._visit(v, b, pending)
            else:
                v.wake = env.event()
                yield v.wake
                v.wake = None

    def _visit(self, v: _Vol, b: int, pending: list[int]) -> Any:
        env, p, log, w = self.env, self.p, self.log, self.world
        bld = w.buildings[b]
        metres = _walk_m(p, v.pos, (bld.lon, bld.lat))
        if metres > 0:
            yield from self.work(v, metres / p.walking_speed_m_per_min)
            log.record(env.now, "walk", bld.id, actor=v.id, value=metres)
        v.pos = (bld.lon, bld.lat)
        if bld.floors <= 1:
            climb = 0.0
        elif bld.has_lift:
            climb = p.lift_minutes_per_entrance
        else:
            climb = p.stair_minutes_per_floor * (bld.floors - 1)
        by_entrance: dict[int, list[int]] = {}
        for h in sorted(set(pending)):
            by_entrance.setdefault(bld.entrance_of[h - bld.first], []).append(h)
        for e in sorted(by_entrance):
            todo = [h for h in by_entrance[e] if not self.notified[h]]
            if not todo:
                continue
            if climb > 0:
                yield from self.work(v, climb)
            for h in todo:
                if self.notified[h]:
                    continue
                if (yield from self.contact(v, h, p.knock_minutes, "door_knock")):
                    self.notify(h, v.id, DOOR)

    def start(self) -> None:
        env, p, log = self.env, self.p, self.log
        log.record(0.0, "notify_target", self.ctx.community_id,
                   value=float(len(self.world.households)))
        ids = [v.id for v in self.vols]
        if isinstance(p.activation, PhoneTree):
            tree = p.activation
            rngs = {v.id: _Factors(self.ctx.rng(_TREE, v.id), p.service_sigma)
                    for v in self.vols}
            by_id = {v.id: v for v in self.vols}

            def on_call(caller: str, callee: str, start: float, minutes: float) -> None:
                self.busy(by_id[caller], minutes, start)
                log.record(env.now, "volunteer_activated", callee, actor=caller)

            if ids:
                log.record(env.now, "volunteer_activated", ids[0])
            free = phone_tree(env, ids, tree.fanout,
                              lambda who: tree.call_minutes * rngs[who].next(), on_call)
        else:
            free = {}
            for vid in ids:
                free[vid] = env.event().succeed(0.0)
                log.record(env.now, "volunteer_activated", vid)
        for v in self.vols:
            env.process(self.volunteer(v, free[v.id]))


def notification_kpis(
    log: EventLog, ctx: SimContext, params: NotificationParams
) -> dict[str, float]:
    """KPIs of a notification run, from the event log.

    Returns
    -------
    dict of str to float
        ``households``; ``t50_min``, ``t95_min``, ``t100_min`` (minutes until 50 %, 95 %,
        100 % of households were notified; NaN if never within the horizon);
        ``notified_share``; ``by_group``, ``by_phone``, ``by_door`` (households per
        channel); ``calls``, ``knocks``, ``walk_km``; ``activated_min`` (minute the last
        volunteer learnt of the notice); ``volunteer_hours`` (this submodel's).
    """
    target = event_values(log, "notify_target")
    total = int(target.sum())  # one notify_target per community
    channels = event_values(log, "notified")
    busy = [log.value[i] for i in log.where("volunteer_busy") if log.actor[i] == "notification"]
    activated = [log.t_min[i] for i in log.where("volunteer_activated")]
    return {
        "households": float(total),
        "t50_min": time_to_fraction(log, "notified", 0.5, total),
        "t95_min": time_to_fraction(log, "notified", 0.95, total),
        "t100_min": time_to_fraction(log, "notified", 1.0, total),
        "notified_share": float(channels.size / total) if total else 1.0,
        "by_group": float(np.count_nonzero(channels == GROUP)),
        "by_phone": float(np.count_nonzero(channels == PHONE)),
        "by_door": float(np.count_nonzero(channels == DOOR)),
        "calls": float(len(log.where("phone_call"))),
        "knocks": float(len(log.where("door_knock"))),
        "walk_km": float(np.sum(event_values(log, "walk")) / 1000.0),
        "activated_min": max(activated) if activated else math.nan,
        "volunteer_hours": float(sum(busy) / 60.0),
    }


@register_submodel("notification", params=NotificationParams, kpis=notification_kpis)
def notification(env: simpy.Environment, ctx: SimContext, params: NotificationParams) -> None:
    """Start the notification submodel (see the module docstring for model and events).

    Raises
    ------
    commgov.errors.InputError
        If ``params.volunteers`` exceeds the community's pioneers, or there are none.
    """
    _Run(env, ctx, params).start()
