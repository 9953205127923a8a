"""Residents' needs (需求) arriving over a lockdown day, met by a volunteer pool (SimPy).

In a sealed community the residents' committee and its volunteers answer requests raised in
building groups and by phone: medicine to buy and deliver, groceries, help for elderly people
living alone, a medical escort (the needs list, :class:`commgov.lists.Need`): volunteers
arrive, tire and leave; tasks queue. This submodel is the queue behind that list.

The model
---------
* **Arrivals.** Each building raises needs as a non-homogeneous Poisson process of rate
  ``households × needs_per_household_per_day / 1440 × profile(h) / mean(profile)`` per minute,
  where ``profile`` is ``hourly_profile`` (24 relative weights, hour ``h`` = 0 … 23 of the local
  clock of the scenario start). The default profile is an assumption (no published data): few
  requests at night, peaks in the morning (07–10 h) and the evening (17–21 h), when residents
  are awake and building groups are busy. A need's category is drawn with probability
  proportional to ``share`` among ``categories`` (each a :class:`commgov.lists.Category` with
  a priority, 1 = most urgent, and a handling time). Arrivals are exact: the count of a
  building is Poisson of the integrated rate Λ over the horizon, the times are its order
  statistics mapped through the inverse of the cumulative rate (Lewis & Shedler 1979).
* **Volunteers.** ``volunteers`` people (``"needs-v001"`` …) work in on-duty windows
  (:func:`commgov.sim.shift_windows`), may leave for good (attrition) and be joined by
  recruits (``"needs-r001"`` …), as in the relay submodel (:func:`commgov.sim.shift_windows`).
* **Dispatch.** Needs wait in one queue ordered by priority, then arrival (non-preemptive
  priority; a SimPy ``PriorityResource`` cannot change its capacity with shifts, so the pool
  is a set of processes around a priority queue). An idle volunteer inside a window takes the
  first need, walks from the base (the community's location, else the centroid of its
  buildings) to the building, handles it, and walks back; a need under way when the window
  ends is finished.
* **Times.** Walking: great-circle metres × ``detour_factor`` / ``walking_speed_m_per_min``, or
  ``walk_minutes`` each way when given. Handling: the category's ``handling_minutes`` × a
  factor of mean 1 (``handling = "lognormal"`` with coefficient of variation ``handling_cv``,
  ``"exponential"``, or ``"fixed"``), then × :func:`commgov.sim.fatigue_factor`.

With one volunteer always on duty, no walk and exponential handling, the queue is M/M/1
(a stationary profile) and the mean response is the Pollaczek–Khinchine / M/M/1 figure
``ρ / (μ − λ)`` (Gross & Harris §2.2); the tests check it.

Randomness
----------
Stream ``"sim_needs_arrivals"``, entity the building id: the building's count, times and
categories (so arrivals do not depend on the volunteers and are the same in a community's own
run and in its district). Stream ``"sim_needs_service"``, entity the volunteer: its handling
factors, drawn in blocks of 64. Attrition and recruitment: stream ``"sim_shifts"`` (volunteer
id, ``"<community>/needs/recruits"``). Made-up volunteer ids are keyed ``"<community>/needs-v001"``
and carry that prefix in the log in an area run.

Events (:class:`commgov.sim.EventLog` kinds)
------------------------------------------------
``needs_expected``
    Entity community, value Λ: the integrated arrival rate over the horizon (expected needs),
    at minute 0.
``need_arrived``
    Entity need (``"<building>/N<k>"``), actor its category, value its priority.
``need_reached``
    Entity need, actor volunteer, value response minutes (arrival → volunteer at the building).
``need_met``
    Entity need, actor volunteer, value minutes from arrival to the end of handling.
``volunteer_joined``, ``volunteer_left``
    Entity volunteer, actor ``"needs"``: a recruit starts, or a volunteer leaves for good.
``volunteer_busy``
    The engine's shared kind: entity volunteer, actor ``"needs"``, value minutes (walk there,
    handling and walk back), logged when the volunteer sets off.

All times are float minutes of simulated time.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
import simpy
from pydantic import Field, field_validator

from commgov.errors import InputError
from commgov.lists import Category
from commgov.sim._engine import SimContext, register_submodel
from commgov.sim._kpi import censored_times, event_values
from commgov.sim._log import EventLog
from commgov.sim._params import (
    AttritionPerHour,
    BreakMinutes,
    BreakStaggerMinutes,
    Crew,
    DetourFactor,
    FatiguePerHour,
    Minutes,
    Params,
    PoolSize,
    RecruitsPerHour,
    ShiftMinutes,
    SimMinute,
    SpeedMPerMin,
    SubmodelParams,
    VariationCoefficient,
)
from commgov.sim._shifts import crew_windows, fatigue_factor, leave_times, recruit_times
from commgov.types import haversine_m

__all__ = [
    "ARRIVAL_STREAM",
    "DEFAULT_HOURLY_PROFILE",
    "SERVICE_STREAM",
    "NeedCategory",
    "NeedsParams",
    "need_arrival_times",
    "needs",
    "needs_kpis",
]

#: Stream of need arrivals (entity: the building id).
ARRIVAL_STREAM = "sim_needs_arrivals"
#: Stream of handling-time factors (entity: the volunteer id).
SERVICE_STREAM = "sim_needs_service"
_ACTOR = "needs"
_BLOCK = 64

#: Relative need rate by hour of day 0 … 23 (an assumption: quiet nights, morning and
#: evening peaks); only the shape matters, it is rescaled to mean 1.
DEFAULT_HOURLY_PROFILE: tuple[float, ...] = (
    0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.6, 1.4, 1.8, 1.8, 1.5, 1.3,
    1.0, 0.9, 1.1, 1.2, 1.3, 1.6, 1.7, 1.7, 1.4, 1.0, 0.6, 0.3,
)


class NeedCategory(Params):
    """How one kind of need is handled (a value of ``[submodels.needs.categories]``).

    The key is a :class:`commgov.lists.Category` (``"medical"``, ``"food_supplies"``,
    ``"elderly_care"`` …)::

        [submodels.needs.categories]
        medical = { priority = 1, share = 0.15, handling_minutes = 30 }
        food_supplies = { priority = 3, share = 0.5, handling_minutes = 10 }

    Parameters
    ----------
    priority : int, default 2
        1 = most urgent (1–100); needs of a smaller number are taken first.
    share : float, default 1
        Relative share of the arriving needs (> 0).
    handling_minutes : float, default 15
        Mean minutes at the building (buy, hand over, accompany), > 0.
    """

    priority: int = Field(default=2, ge=1, le=100)
    share: float = Field(default=1.0, gt=0.0, le=1e6)
    handling_minutes: float = Field(default=15.0, gt=0.0, le=1440.0)


#: Default categories (assumptions): medicine and medical escort first, help for elderly people
#: living alone second, groceries third, anything else last.
DEFAULT_CATEGORIES: dict[Category, NeedCategory] = {
    Category.ELDERLY_CARE: NeedCategory(priority=2, share=0.2, handling_minutes=20.0),
    Category.FOOD_SUPPLIES: NeedCategory(priority=3, share=0.5, handling_minutes=10.0),
    Category.MEDICAL: NeedCategory(priority=1, share=0.15, handling_minutes=30.0),
    Category.OTHER: NeedCategory(priority=4, share=0.15, handling_minutes=15.0),
}


class NeedsParams(SubmodelParams):
    """Parameters of the ``needs`` submodel (``[submodels.needs]`` in a scenario).

    Durations in minutes, distances in metres, speeds in metres per minute. Every default is
    an assumption (no calibrated figures were published).

    Parameters
    ----------
    enabled : bool, default True
    needs_per_household_per_day : float, default 0.05
        Mean needs a household raises per day (0–100).
    hourly_profile : list of 24 float, default :data:`DEFAULT_HOURLY_PROFILE`
        Relative rate by local hour of day (≥ 0, not all 0; rescaled to mean 1).
    categories : dict of Category to NeedCategory, default :data:`DEFAULT_CATEGORIES`
        1–50 categories (:class:`commgov.lists.Category` values as keys), kept in key order.
    handling : {"lognormal", "exponential", "fixed"}, default "lognormal"
        Distribution of the handling-time factor (mean 1).
    handling_cv : float, default 0.5
        Its coefficient of variation for ``"lognormal"`` (0–10).
    volunteers : int, default 6
        Volunteers at the start of duty (0–10,000).
    walk_minutes : float or None, default None
        Minutes each way between the base and any building; ``None``: from the map.
    walking_speed_m_per_min : float, default 80
    detour_factor : float, default 1.3
    duty_from_min, duty_until_min : float, float or None
        The volunteers' duty period; ``None``: until the horizon.
    shift_minutes : float or None, default None
        Shift length; ``None``: one window over the duty period.
    break_minutes : float, default 30
    break_stagger_minutes : float, default 0
        With shifts: each volunteer's breaks come earlier by a seeded phase in
        ``[0, min(break_stagger_minutes, shift_minutes))`` minutes
        (:func:`commgov.sim.crew_windows`, stream ``"sim_shifts"``, entity
        ``"<community>/<volunteer>/stagger"``), so the pool does not break all at once;
        0: everyone breaks at the same minute. Recruits get a phase too.
    fatigue_per_hour : float, default 0
        Handling and walking grow by this fraction per hour worked.
    attrition_per_hour : float, default 0
        Rate at which each volunteer leaves for good.
    recruits_per_hour : float, default 0
        New volunteers joining during the duty period.
    """

    needs_per_household_per_day: float = Field(default=0.05, ge=0.0, le=100.0)
    hourly_profile: tuple[float, ...] = DEFAULT_HOURLY_PROFILE
    categories: dict[Category, NeedCategory] = Field(
        default_factory=lambda: dict(DEFAULT_CATEGORIES))
    handling: Literal["lognormal", "exponential", "fixed"] = "lognormal"
    handling_cv: VariationCoefficient = 0.5
    volunteers: PoolSize = 6
    walk_minutes: Annotated[Minutes, Field(le=600.0)] | None = None
    walking_speed_m_per_min: SpeedMPerMin = 80.0
    detour_factor: DetourFactor = 1.3
    duty_from_min: SimMinute = 0.0
    duty_until_min: SimMinute | None = None
    shift_minutes: ShiftMinutes | None = None
    break_minutes: BreakMinutes = 30.0
    break_stagger_minutes: BreakStaggerMinutes = 0.0
    fatigue_per_hour: FatiguePerHour = 0.0
    attrition_per_hour: AttritionPerHour = 0.0
    recruits_per_hour: RecruitsPerHour = 0.0

    @field_validator("hourly_profile")
    @classmethod
    def _profile(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if len(v) != 24:
            raise ValueError(f"needs 24 hourly weights, got {len(v)}")
        if any(not (math.isfinite(x) and x >= 0) for x in v) or sum(v) <= 0:
            raise ValueError("weights must be finite, ≥ 0 and not all 0")
        return tuple(float(x) for x in v)

    @field_validator("categories")
    @classmethod
    def _categories(cls, v: dict[Category, NeedCategory]) -> dict[Category, NeedCategory]:
        if not 1 <= len(v) <= 50:
            raise ValueError("needs 1–50 categories")
        return dict(sorted(v.items()))


# ------------------------------------------------------------------------------ arrivals


def _cumulative(profile: Sequence[float], start_hour_min: float, horizon_min: float
                ) -> tuple[np.ndarray, np.ndarray]:
    """Knots (minutes, cumulative profile-minutes) of ∫ profile, rescaled to mean 1.

    ``start_hour_min`` is the local clock time of minute 0 in minutes after midnight.
    """
    w = np.asarray(profile, dtype=float)
    w = w / w.mean()
    first = 60.0 - start_hour_min % 60.0
    knots = [0.0, *np.arange(first, horizon_min, 60.0).tolist(), horizon_min]
    ts = np.unique(np.asarray(knots))
    hours = ((start_hour_min + ts[:-1]) // 60.0).astype(np.int64) % 24
    cum = np.concatenate([[0.0], np.cumsum(w[hours] * np.diff(ts))])
    return ts, cum


def need_arrival_times(
    rate_per_min: float, profile: Sequence[float], start_hour_min: float, horizon_min: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Arrival times of a non-homogeneous Poisson process over ``[0, horizon_min)``.

    The rate at minute ``t`` is ``rate_per_min × profile[hour] / mean(profile)``, ``hour`` the
    local hour at ``t``. The count is Poisson(Λ) with Λ the integrated rate, and the times are
    sorted uniforms in Λ mapped back through the cumulative rate (exact; Lewis & Shedler 1979).

    Parameters
    ----------
    rate_per_min : float
        Mean rate per minute (≥ 0).
    profile : sequence of 24 float
        Relative rate by hour of day (≥ 0, not all 0).
    start_hour_min : float
        Local clock time of minute 0, minutes after midnight (0 ≤ … < 1440).
    horizon_min : float
        End of the period (> 0, finite).
    rng : numpy.random.Generator
        Draws: one Poisson count, then that many uniforms.

    Returns
    -------
    numpy.ndarray
        Sorted times in minutes, shape (count,).

    Examples
    --------
    >>> t = need_arrival_times(1.0, [1.0] * 24, 0.0, 60.0, np.random.default_rng(0))
    >>> bool(len(t) > 30 and t.min() >= 0 and t.max() < 60)
    True
    """
    ts, cum = _cumulative(profile, start_hour_min, horizon_min)
    total = rate_per_min * float(cum[-1])
    n = int(rng.poisson(total)) if total > 0 else 0
    u = np.sort(rng.random(n)) * float(cum[-1])
    out: np.ndarray = np.minimum(np.interp(u, cum, ts), np.nextafter(horizon_min, 0.0))
    return out


@dataclass(frozen=True, slots=True)
class _World:
    base: tuple[float, float]
    buildings: tuple[tuple[str, float, float, int], ...]  # (id, lon, lat, households)


def _world(ctx: SimContext) -> _World:
    from commgov.org import Building, Entrance, NodeKind

    c = ctx.scenario.community
    key = ("needs.world", c.dataset, c.seed, ctx.community_id)
    cached = ctx.cache.get(key)
    if cached is not None:
        assert isinstance(cached, _World)
        return cached
    graph, cid = ctx.graph, ctx.community_id
    rows = []
    for bid in sorted(graph.descendants(cid, NodeKind.BUILDING)):
        b = graph.record(bid)
        assert isinstance(b, Building)
        ents = [r for r in (graph.record(e) for e in sorted(graph.children(bid)))
                if isinstance(r, Entrance)]
        n = sum(e.counts.households for e in ents) if ents else (
            b.counts.households if b.counts is not None else sum(
                1 for _ in graph.descendants(bid, NodeKind.HOUSEHOLD)))
        rows.append((bid, b.location.lon, b.location.lat, int(n)))
    loc = getattr(graph.record(cid), "location", None)
    if loc is not None:
        base = (loc.lon, loc.lat)
    elif rows:
        base = (sum(r[1] for r in rows) / len(rows), sum(r[2] for r in rows) / len(rows))
    else:
        base = (0.0, 0.0)
    world = ctx.cache[key] = _World(base, tuple(rows))
    return world


# ------------------------------------------------------------------------------ the run


class _Factors:
    """Handling factors of mean 1, in blocks of 64."""

    __slots__ = ("_buf", "_cv", "_i", "_kind", "_rng")

    def __init__(self, rng: np.random.Generator, kind: str, cv: float) -> None:
        self._rng, self._kind, self._cv = rng, kind, cv
        self._buf = np.empty(0)
        self._i = 0

    def next(self) -> float:
        if self._kind == "fixed" or (self._kind == "lognormal" and self._cv == 0):
            return 1.0
        if self._i >= self._buf.size:
            if self._kind == "exponential":
                self._buf = self._rng.exponential(1.0, _BLOCK)
            else:
                s2 = math.log1p(self._cv ** 2)
                self._buf = np.exp(-s2 / 2 + math.sqrt(s2) * self._rng.standard_normal(_BLOCK))
            self._i = 0
        value = float(self._buf[self._i])
        self._i += 1
        return value


class _Run:
    def __init__(self, env: simpy.Environment, ctx: SimContext, p: NeedsParams) -> None:
        self.env, self.ctx, self.p, self.log = env, ctx, p, ctx.log
        self.world = _world(ctx)
        self.queue: list[tuple[int, float, str, int, int]] = []
        self.signal = env.event()
        cid = ctx.community_id
        self.prefix = f"{cid}/" if ctx.in_area else ""

    def rngs(self, stream: str, entity: str) -> np.random.Generator:
        """Generators; made-up ids keyed by the community, world ids as they are."""
        if entity.startswith(self.prefix + "needs-") or entity.startswith("needs/"):
            return self.ctx.rng(stream, f"{self.ctx.community_id}/"
                                f"{entity.removeprefix(self.prefix)}")
        return self.ctx.rng(stream, entity)

    def arrivals(self) -> tuple[list[tuple[float, str, int, int]], float]:
        """(sorted (t, need id, building index, category index), expected count Λ)."""
        p, w, ctx = self.p, self.world, self.ctx
        horizon = ctx.scenario.horizon_min
        start = ctx.start
        clock = start.hour * 60.0 + start.minute + start.second / 60.0
        shares = np.cumsum([c.share for c in p.categories.values()])
        shares /= shares[-1]
        _, cum = _cumulative(p.hourly_profile, clock, horizon)
        out: list[tuple[float, str, int, int]] = []
        expected = 0.0
        for bi, (bid, _, _, n) in enumerate(w.buildings):
            rate = n * p.needs_per_household_per_day / 1440.0
            expected += rate * float(cum[-1])
            if rate <= 0:
                continue
            g = ctx.rng(ARRIVAL_STREAM, bid)
            times = need_arrival_times(rate, p.hourly_profile, clock, horizon, g)
            cats = np.searchsorted(shares, g.random(len(times)), side="right")
            for k, (t, c) in enumerate(zip(times.tolist(), cats.tolist(), strict=True), 1):
                out.append((t, f"{bid}/N{k}", bi, min(int(c), len(shares) - 1)))
        out.sort()
        return out, expected

    def arrive(self, rows: Sequence[tuple[float, str, int, int]]) -> Any:
        env, log, cats = self.env, self.log, list(self.p.categories.items())
        for seq, (t, nid, bi, ci) in enumerate(rows):
            if t > env.now:
                yield env.timeout(t - env.now)
            name, cat = cats[ci]
            log.record(env.now, "need_arrived", nid, actor=str(name), value=float(cat.priority))
            heapq.heappush(self.queue, (cat.priority, env.now, nid, seq, bi * 1000 + ci))
            ev, self.signal = self.signal, env.event()
            ev.succeed()

    def walk(self, bi: int) -> float:
        p = self.p
        if p.walk_minutes is not None:
            return p.walk_minutes
        _, lon, lat, _ = self.world.buildings[bi]
        base = self.world.base
        return haversine_m(base[0], base[1], lon, lat) * p.detour_factor / (
            p.walking_speed_m_per_min)

    def volunteer(self, crew: Crew) -> Any:
        env, log, p = self.env, self.log, self.p
        vid = crew.id
        cats = list(p.categories.values())
        factors = _Factors(self.rngs(SERVICE_STREAM, vid), p.handling, p.handling_cv)
        worked = 0.0
        for ws, we in crew.windows:
            if env.now >= we:
                continue
            if env.now < ws:
                yield env.timeout(ws - env.now)
            while env.now < we:
                if not self.queue:
                    yield self.signal | env.timeout(we - env.now)
                    continue
                _, t_arr, nid, _, code = heapq.heappop(self.queue)
                bi, ci = divmod(code, 1000)
                fat = fatigue_factor(crew.fatigue_per_hour, worked)
                walk = self.walk(bi) * fat
                handle = cats[ci].handling_minutes * factors.next() * fat
                total = 2 * walk + handle
                log.record(env.now, "volunteer_busy", vid, actor=_ACTOR, value=total)
                worked += total
                if walk > 0:
                    yield env.timeout(walk)
                log.record(env.now, "need_reached", nid, actor=vid, value=env.now - t_arr)
                if handle > 0:
                    yield env.timeout(handle)
                log.record(env.now, "need_met", nid, actor=vid, value=env.now - t_arr)
                if walk > 0:
                    yield env.timeout(walk)

    def start(self) -> None:
        env, p, ctx = self.env, self.p, self.ctx
        horizon = ctx.scenario.horizon_min
        rows, expected = self.arrivals()
        self.log.record(0.0, "needs_expected", ctx.community_id, value=expected)
        off = horizon if p.duty_until_min is None else p.duty_until_min
        begin = p.duty_from_min
        members = [(f"{self.prefix}needs-v{k:03d}", begin) for k in range(1, p.volunteers + 1)]
        joins = recruit_times(p.recruits_per_hour, begin, off, self.rngs, pool="needs")
        members += [(f"{self.prefix}needs-r{k:03d}", t) for k, t in enumerate(joins, start=1)]
        leave = leave_times([m for m, _ in members], p.attrition_per_hour, self.rngs)
        gone = {vid: join + leave[vid] for vid, join in members}
        windows = crew_windows(members, off, p.shift_minutes, p.break_minutes, self.rngs,
                               stagger_minutes=p.break_stagger_minutes, leave_min=gone)
        marks = []
        env.process(self.arrive(rows))
        for vid, join in members:
            if join > begin:
                marks.append((join, "volunteer_joined", vid))
            if gone[vid] < off:
                marks.append((gone[vid], "volunteer_left", vid))
            env.process(self.volunteer(Crew(id=vid, windows=windows[vid],
                                             fatigue_per_hour=p.fatigue_per_hour)))
        env.process(self.roster(sorted(marks)))

    def roster(self, marks: Sequence[tuple[float, str, str]]) -> Any:
        for t, kind, vid in marks:
            if t > self.env.now:
                yield self.env.timeout(t - self.env.now)
            self.log.record(self.env.now, kind, vid, actor=_ACTOR)


# ------------------------------------------------------------------------------ KPIs


def _pct(x: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(x), q)) if x else math.nan


def needs_kpis(log: EventLog, ctx: SimContext, params: NeedsParams) -> dict[str, float]:
    """KPIs of the ``needs`` submodel, from the event log.

    Response times are minutes from a need's arrival until a volunteer reaches its building,
    over the needs reached by the horizon (needs still waiting are counted in ``unmet``, not in
    the percentiles).

    Returns
    -------
    dict of str to float
        ``expected`` (Λ, the integrated arrival rate), ``arrived``, ``met`` (handled by the
        horizon), ``unmet`` (arrived − met), ``met_share`` (1 when nothing arrived);
        ``response_mean_min``, ``response_p50_min``, ``response_p90_min``,
        ``response_p95_min`` (NaN when no need was reached); ``response_p95_all_min``, the
        95th percentile (minutes) over *every* need that arrived, a need not reached by the
        horizon counting with the horizon − its arrival (censored at the horizon, so a lower
        bound of the true percentile when any need is unreached; NaN when nothing arrived);
        per category ``c``:
        ``<c>.arrived``, ``<c>.met``, ``<c>.response_p90_min``; ``volunteer_hours`` (this
        submodel's); ``volunteers_joined``, ``volunteers_left``.
    """
    category: dict[str, str] = {}
    arrived: dict[str, int] = {}
    arrived_at: dict[str, float] = {}
    for i in log.where("need_arrived"):
        c = log.actor[i]
        category[log.entity[i]] = c
        arrived_at[log.entity[i]] = log.t_min[i]
        arrived[c] = arrived.get(c, 0) + 1
    met: dict[str, int] = {}
    for i in log.where("need_met"):
        c = category.get(log.entity[i], "")
        met[c] = met.get(c, 0) + 1
    resp: dict[str, list[float]] = {}
    everything: list[float] = []
    reached: dict[str, float] = {}
    for i in log.where("need_reached"):
        reached[log.entity[i]] = log.value[i]
        everything.append(log.value[i])
        resp.setdefault(category.get(log.entity[i], ""), []).append(log.value[i])
    n_arr, n_met = len(category), sum(met.values())
    horizon = ctx.scenario.horizon_min
    busy = [log.value[i] for i in log.where("volunteer_busy") if log.actor[i] == _ACTOR]
    out = {
        "expected": float(event_values(log, "needs_expected").sum()),
        "arrived": float(n_arr),
        "met": float(n_met),
        "unmet": float(n_arr - n_met),
        "met_share": n_met / n_arr if n_arr else 1.0,
        "response_mean_min": float(np.mean(everything)) if everything else math.nan,
        "response_p50_min": _pct(everything, 50),
        "response_p90_min": _pct(everything, 90),
        "response_p95_min": _pct(everything, 95),
        "response_p95_all_min": _pct(censored_times(reached, arrived_at, horizon), 95),
        "volunteer_hours": float(sum(busy) / 60.0),
        "volunteers_joined": float(sum(1 for i in log.where("volunteer_joined")
                                       if log.actor[i] == _ACTOR)),
        "volunteers_left": float(sum(1 for i in log.where("volunteer_left")
                                     if log.actor[i] == _ACTOR)),
    }
    for name in params.categories:
        c = str(name)
        out[f"{c}.arrived"] = float(arrived.get(c, 0))
        out[f"{c}.met"] = float(met.get(c, 0))
        out[f"{c}.response_p90_min"] = _pct(resp.get(c, []), 90)
    return out


@register_submodel("needs", params=NeedsParams, kpis=needs_kpis)
def needs(env: simpy.Environment, ctx: SimContext, params: NeedsParams) -> None:
    """Start the ``needs`` submodel (model, randomness and events: module docstring).

    Raises
    ------
    commgov.errors.InputError
        If ``duty_until_min`` is not after ``duty_from_min``.
    """
    if params.duty_until_min is not None and not params.duty_until_min > params.duty_from_min:
        raise InputError.single("scenario", "submodels.needs.duty_until_min",
                                params.duty_until_min, "must be after duty_from_min",
                                what="scenario")
    _Run(env, ctx, params).start()
