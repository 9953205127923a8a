"""Door-to-door sampling rounds (上门采样) as a simulation: two-person teams at the doors (SimPy).

The stochastic counterpart of :func:`commgov.scheduling.plan_door_to_door`.

Households of sealed buildings (封控区: "1 household, 1 tube", residents stay home) and
registered mobility-limited residents (行动不便) elsewhere are swabbed at their door by
two-person teams (one swabs, one registers) who leave a base, walk to a stairwell, climb, swab
household after household and come back.

The model
---------
The time model is the planner's (:mod:`commgov.scheduling.door_to_door`), in float minutes
instead of whole seconds:

* **Places.** A :class:`commgov.scheduling.RoundBuilding` is one stairwell (an entrance of a
  building, or the building without entrances); the base is a place on the ground. Walking
  between two places takes great-circle metres × ``detour_factor`` / ``walking_speed_m_per_min``
  (80 m/min; unrounded, without the planner's shortest-path closure).
* **Legs.** To the next household in the same stairwell: ``minutes_between_doors`` plus the
  floors between them × the stairwell's minutes per floor (2.0 by stairs, 0.1 by lift, or its
  own ``minutes_per_floor``). Otherwise down to the ground, walk, and up to the household's
  floor. The base counts as the ground floor.
* **Service** at a door: the household's ``service_minutes``, else ``minutes_per_household +
  minutes_per_resident × residents`` (2.5 + 0.5 per resident), × a lognormal factor of mean 1
  and coefficient of variation ``service_cv`` drawn from the team's own stream.
* **Fatigue.** Every leg and service lasts its nominal time ×
  :func:`commgov.sim.fatigue_factor` of the minutes the team has worked so far.
* **Shifts.** A team works in on-duty windows (:func:`commgov.sim.shift_windows`,
  4 h PPE shifts and a 30 min break by default in the submodel): it starts a household only
  inside a window, finishes the one under way when the window ends, then walks back to the
  base (doffing, break) and starts the next window from the base. A team whose windows are
  over (its last shift, or a member leaving: attrition) goes back to the base for good.
* **Who goes where** (:class:`D2DOrder`):

  - ``nearest_first``: an idle team claims the stairwell nearest to where it is (walking
    minutes, ties by stairwell id) among those with households nobody has claimed, and swabs
    them bottom-up (floor, then household id). Going back to the base releases what is left
    of its claim to the other teams.
  - ``planned``: each team follows its route of :func:`commgov.scheduling.plan_door_to_door`
    (stop order; times are simulated, not the plan's); households the plan leaves out, and
    what a team could not finish before leaving for good, are then taken nearest-first.

Randomness
----------
Stream ``"sim_d2d_service"``, entity the team id: the team's service factors, drawn in blocks
of 64 in the order it swabs. Removing a team leaves every other team's sequence of factors
unchanged (which households it meets may change under ``nearest_first``). The registered
submodel draws attrition from ``"sim_shifts"`` per team member
(:func:`commgov.sim.leave_times`); a team stops when its first member leaves. Teams made up by
the submodel (``crews = "generic"``: ``"d2d-t01"`` …) are keyed ``"<community>/d2d-t01"``,
and carry that prefix in the log in an area run; teams formed from the world's people keep
their ids (``"<person>+<person>"``).

Events (:class:`commgov.sim.EventLog` kinds)
------------------------------------------------
``d2d_target``
    Entity community (the registered submodel; ``"round"`` from :func:`run_door_to_door`),
    value households to swab, at the round start.
``d2d_team``
    Entity team, value its members, at the round start.
``d2d_depart``
    Entity team, at leaving the base (the start of each window the team works in).
``d2d_leg``
    Entity the household walked or climbed to (``"<base>"`` for the way back), actor team,
    value minutes; logged at the leg start.
``d2d_swabbed``
    Entity household, actor team, value service minutes; logged when the swab is done (the
    completion time of the household).
``d2d_back``
    Entity team, value minutes since its ``d2d_depart``, at the return to the base.
``volunteer_left``
    Entity team, actor ``"door_to_door"``: the team stops for good (attrition) before the end
    of its duty.
``volunteer_busy``
    The engine's shared kind: entity each team member, actor ``"door_to_door"``, value minutes
    of every leg and service (logged at its start).

All times are float minutes of simulated time.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

import numpy as np
import simpy
from pydantic import Field

from commgov.sim._log import EventLog, run_standalone
from commgov.sim._params import Crew
from commgov.sim._shifts import RngFactory, fatigue_factor
from commgov.types import EARTH_RADIUS_M

if TYPE_CHECKING:
    from commgov.scheduling import DoorToDoorPlan, DoorToDoorProblem

__all__ = [
    "D2D_STREAM",
    "D2DOrder",
    "D2DTeam",
    "RngFactory",
    "door_to_door_process",
    "planned_order",
    "run_door_to_door",
    "teams_from_problem",
]

#: Stream of service-time factors (entity: the team id).
D2D_STREAM = "sim_d2d_service"
#: Place name of the base in ``d2d_leg`` events.
BASE = "<base>"
#: The two assignment policies.
D2DOrder = Literal["nearest_first", "planned"]

_BLOCK = 64
_ACTOR = "door_to_door"


class D2DTeam(Crew):
    """A two-person (or larger) sampling team (a :class:`commgov.sim.Crew` with members).

    Positional order: ``id``, ``members``, ``windows``, ``fatigue_per_hour``.

    Parameters
    ----------
    id : str
        Pseudonymous id (the entity key of its service-time stream).
    members : tuple of str
        Person ids; each gets the team's ``volunteer_busy`` minutes. At least one.
    windows : tuple of (float, float), default always on duty
        On-duty windows ``[start, end)`` in minutes of simulated time, sorted and disjoint.
    fatigue_per_hour : float, default 0
        Task times grow by this fraction per hour already worked (0.05: +5 %/h), 0 … 10.

    Raises
    ------
    pydantic.ValidationError
        (a ``ValueError``) naming the field: no member, a non-finite or out-of-range
        ``fatigue_per_hour``, or windows unsorted, overlapping or ``nan``.
    """

    positional_fields: ClassVar[tuple[str, ...]] = (
        "id", "members", "windows", "fatigue_per_hour")

    members: Annotated[tuple[str, ...], Field(min_length=1)]


def teams_from_problem(
    problem: DoorToDoorProblem, start: datetime, *, fatigue_per_hour: float = 0.0
) -> list[D2DTeam]:
    """One simulated team per team unit of a door-to-door problem.

    A unit's window is its shift ``[start, min(end, start + max_minutes))`` in minutes from
    ``start``. Its id is the team id (``"<team>#<k>"`` for unit ``k`` of a team with
    ``count > 1``, as :func:`planned_order` names them); its members are the ``persons`` ids of
    a team id of the form ``"<person>+<person>"`` (teams formed by
    :func:`commgov.scheduling.door_to_door_problem_from_org`), else ``"<unit>/1"``,
    ``"<unit>/2"`` ….

    Parameters
    ----------
    problem : DoorToDoorProblem
    start : datetime
        Tz-aware instant of simulated minute 0.
    fatigue_per_hour : float, default 0

    Returns
    -------
    list of D2DTeam
        Sorted by team id, then unit.
    """
    out = []
    for t in sorted(problem.teams, key=lambda t: t.id):
        s = (t.shift.start - start).total_seconds() / 60.0
        e = (t.shift.end - start).total_seconds() / 60.0
        if t.max_minutes is not None:
            e = min(e, s + t.max_minutes)
        for k in range(1, t.count + 1):
            uid = t.id if t.count == 1 else f"{t.id}#{k}"
            parts = tuple(t.id.split("+"))
            members = parts if t.count == 1 and len(parts) == t.persons else tuple(
                f"{uid}/{j}" for j in range(1, t.persons + 1))
            out.append(D2DTeam(id=uid, members=members, windows=((s, e),),
                               fatigue_per_hour=fatigue_per_hour))
    return out


def planned_order(plan: DoorToDoorPlan) -> dict[str, list[str]]:
    """Team unit id (as :func:`teams_from_problem` names it) → household ids in route order.

    Parameters
    ----------
    plan : DoorToDoorPlan
        A plan of :func:`commgov.scheduling.plan_door_to_door`.

    Returns
    -------
    dict of str to list of str
        Only the units with a route. A team id ending in ``#<k>`` is read as unit ``k`` of a
        team with several units.
    """
    counts: dict[str, int] = {}
    for r in plan.routes:
        counts[r.team_id] = max(counts.get(r.team_id, 0), r.unit)
    out = {}
    for r in plan.routes:
        uid = r.team_id if counts[r.team_id] == 1 and r.unit == 1 else f"{r.team_id}#{r.unit}"
        out[uid] = [s.household_id for s in r.stops]
    return out


# ------------------------------------------------------------------------------ the run


def _lognormal_params(cv: float) -> tuple[float, float]:
    sigma2 = math.log1p(cv * cv)
    return -sigma2 / 2.0, math.sqrt(sigma2)


class _Factors:
    """Lognormal factors of mean 1 and coefficient of variation ``cv``, in blocks of 64."""

    __slots__ = ("_buf", "_i", "_mu", "_rng", "_sigma")

    def __init__(self, rng: np.random.Generator | None, cv: float) -> None:
        self._rng = rng
        self._mu, self._sigma = _lognormal_params(cv)
        self._buf = np.empty(0)
        self._i = 0

    def next(self) -> float:
        if self._rng is None or self._sigma == 0.0:
            return 1.0
        if self._i >= self._buf.size:
            self._buf = np.exp(self._mu + self._sigma * self._rng.standard_normal(_BLOCK))
            self._i = 0
        value = float(self._buf[self._i])
        self._i += 1
        return value


def _walk_minutes(lon: np.ndarray, lat: np.ndarray, detour: float, speed: float) -> np.ndarray:
    """Walking minutes between all pairs of points (vectorised haversine × detour / speed)."""
    p = np.radians(lat)
    lam = np.radians(lon)
    dp = p[:, None] - p[None, :]
    dl = lam[:, None] - lam[None, :]
    h = np.sin(dp / 2) ** 2 + np.cos(p)[:, None] * np.cos(p)[None, :] * np.sin(dl / 2) ** 2
    metres = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    out: np.ndarray = metres * detour / speed
    return out


@dataclass(frozen=True, slots=True)
class _Round:
    """Static tables of a round (places by index: 0 the base, 1 … the stairwells)."""

    stairwells: tuple[str, ...]
    floor_min: np.ndarray  # per place (0 for the base)
    walk: np.ndarray  # place × place, minutes
    households: tuple[str, ...]  # sorted by (stairwell, floor, id)
    place: np.ndarray  # household → place index
    floor: np.ndarray  # household → floor
    service: np.ndarray  # household → nominal minutes


def _round_tables(problem: DoorToDoorProblem) -> _Round:
    from commgov.scheduling.door_to_door import Access

    pol = problem.policy
    buildings = sorted(problem.buildings, key=lambda b: b.id)
    index = {b.id: i + 1 for i, b in enumerate(buildings)}
    floor_min = np.zeros(len(buildings) + 1)
    for i, b in enumerate(buildings, start=1):
        floor_min[i] = b.minutes_per_floor if b.minutes_per_floor is not None else (
            pol.lift_minutes_per_floor if b.access is Access.LIFT else
            pol.stairs_minutes_per_floor)
    lon = np.array([problem.base.lon, *(b.location.lon for b in buildings)])
    lat = np.array([problem.base.lat, *(b.location.lat for b in buildings)])
    walk = _walk_minutes(lon, lat, pol.detour_factor, pol.walking_speed_m_per_min)
    rows = sorted((index[h.building_id], h.floor, h.id,
                   h.service_minutes if h.service_minutes is not None else
                   pol.minutes_per_household + pol.minutes_per_resident * h.residents)
                  for h in problem.households)
    return _Round(
        stairwells=tuple(b.id for b in buildings), floor_min=floor_min, walk=walk,
        households=tuple(r[2] for r in rows),
        place=np.array([r[0] for r in rows], dtype=np.int64),
        floor=np.array([r[1] for r in rows], dtype=np.int64),
        service=np.array([r[3] for r in rows], dtype=float))


@dataclass(slots=True)
class _TeamState:
    team: D2DTeam
    factors: _Factors
    own: deque[int] = field(default_factory=deque)  # households queued for this team
    place: int = 0
    floor: int = 1
    worked: float = 0.0


class _Run:
    """One door-to-door run: shared pool of unclaimed households, team processes."""

    def __init__(self, env: simpy.Environment, tables: _Round, teams: Sequence[D2DTeam],
                 log: EventLog, rngs: RngFactory | None, *, gap_min: float, service_cv: float,
                 order: Mapping[str, Sequence[str]] | None) -> None:
        self.env, self.t, self.log, self.gap = env, tables, log, gap_min
        ids = [t.id for t in teams]
        if len(set(ids)) != len(ids):
            raise ValueError("team ids must be unique")
        hindex = {h: i for i, h in enumerate(tables.households)}
        self.done = np.zeros(len(tables.households), dtype=bool)
        self.teams = [_TeamState(t, _Factors(None if rngs is None else rngs(D2D_STREAM, t.id),
                                             service_cv)) for t in teams]
        assigned: set[int] = set()
        if order is not None:
            known = set(ids)
            for tid in sorted(order):
                if tid not in known:
                    raise ValueError(f"order names unknown team {tid!r}")
            for ts in self.teams:
                for hid in order.get(ts.team.id, ()):
                    if hid not in hindex:
                        raise ValueError(f"order names unknown household {hid!r}")
                    h = hindex[hid]
                    if h in assigned:
                        raise ValueError(f"household {hid!r} is in two routes")
                    assigned.add(h)
                    ts.own.append(h)
        # pool: place → households not claimed (sorted by floor, id: the table order)
        self.pool: dict[int, list[int]] = {}
        for h in range(len(tables.households)):
            if h not in assigned:
                self.pool.setdefault(int(tables.place[h]), []).append(h)
        self.released = env.event()

    # -- bookkeeping

    def _busy(self, ts: _TeamState, start: float, minutes: float) -> None:
        for m in ts.team.members:
            self.log.record(start, "volunteer_busy", m, actor=_ACTOR, value=minutes)
        ts.worked += minutes

    def _claim(self, ts: _TeamState) -> bool:
        """Claim the nearest stairwell with unclaimed households; False if none is left."""
        if not self.pool:
            return False
        row = self.t.walk[ts.place]
        best = min(self.pool, key=lambda p: (row[p], self.t.stairwells[p - 1]))
        ts.own.extend(self.pool.pop(best))
        return True

    def _release(self, ts: _TeamState) -> None:
        """Put what is left of a team's queue back in the pool (ordered), wake idle teams."""
        if not ts.own:
            return
        for h in ts.own:
            self.pool.setdefault(int(self.t.place[h]), []).append(h)
        for p in {int(self.t.place[h]) for h in ts.own}:
            self.pool[p].sort()
        ts.own.clear()
        ev, self.released = self.released, self.env.event()
        ev.succeed()

    def _leg_to(self, ts: _TeamState, place: int, floor: int) -> float:
        t = self.t
        if place == ts.place and place != 0:
            return float(self.gap + t.floor_min[place] * abs(floor - ts.floor))
        return float(t.floor_min[ts.place] * (ts.floor - 1) + t.walk[ts.place, place]
                     + t.floor_min[place] * (floor - 1))

    # -- processes

    def _go(self, ts: _TeamState, place: int, floor: int, entity: str) -> Any:
        minutes = self._leg_to(ts, place, floor) * fatigue_factor(
            ts.team.fatigue_per_hour, ts.worked)
        start = self.env.now
        self.log.record(start, "d2d_leg", entity, actor=ts.team.id, value=minutes)
        self._busy(ts, start, minutes)
        if minutes > 0:
            yield self.env.timeout(minutes)
        ts.place, ts.floor = place, floor

    def team(self, ts: _TeamState) -> Any:
        env, log, tid = self.env, self.log, ts.team.id
        for ws, we in ts.team.windows:
            if env.now >= we:
                continue
            if env.now < ws:
                yield env.timeout(ws - env.now)
            departed: float | None = None
            while env.now < we:
                if not ts.own and not self._claim(ts):
                    if departed is not None:  # nothing left: back to the base
                        yield from self._go(ts, 0, 1, BASE)
                        log.record(env.now, "d2d_back", tid, value=env.now - departed)
                        departed = None
                    else:  # wait there for work released by a team going back
                        yield self.released | env.timeout(we - env.now)
                    continue
                h = ts.own.popleft()
                if departed is None:
                    departed = env.now
                    log.record(env.now, "d2d_depart", tid)
                yield from self._go(ts, int(self.t.place[h]), int(self.t.floor[h]),
                                    self.t.households[h])
                minutes = float(self.t.service[h]) * ts.factors.next() * fatigue_factor(
                    ts.team.fatigue_per_hour, ts.worked)
                start = env.now
                self._busy(ts, start, minutes)
                if minutes > 0:
                    yield env.timeout(minutes)
                self.done[h] = True
                log.record(env.now, "d2d_swabbed", self.t.households[h], actor=tid,
                           value=minutes)
            if departed is not None:
                self._release(ts)
                yield from self._go(ts, 0, 1, BASE)
                log.record(env.now, "d2d_back", tid, value=env.now - departed)
        self._release(ts)

    def start(self, target_entity: str) -> None:
        self.log.record(self.env.now, "d2d_target", target_entity,
                        value=float(len(self.t.households)))
        for ts in self.teams:
            self.log.record(self.env.now, "d2d_team", ts.team.id,
                            value=float(len(ts.team.members)))
        for ts in self.teams:
            self.env.process(self.team(ts))


def door_to_door_process(
    env: simpy.Environment,
    problem: DoorToDoorProblem,
    teams: Sequence[D2DTeam],
    log: EventLog,
    rngs: RngFactory | None = None,
    *,
    service_cv: float = 0.0,
    order: Mapping[str, Sequence[str]] | None = None,
    target: str = "round",
) -> None:
    """Start the door-to-door processes of ``problem`` on ``env`` (see the module docstring).

    Parameters
    ----------
    env : simpy.Environment
        Its clock is minutes; the teams' windows are on that clock.
    problem : DoorToDoorProblem
        Base, stairwells, households and the timing rules (``policy``); its ``teams`` are not
        used (pass them through :func:`teams_from_problem`).
    teams : sequence of D2DTeam
        Unique ids; processes start in the given order.
    log : EventLog
    rngs : RngFactory, optional
        ``rngs(stream, entity)`` → generator; needed when ``service_cv > 0``.
    service_cv : float, default 0
        Coefficient of variation of the lognormal service factor (mean 1), ≥ 0.
    order : mapping of str to sequence of str, optional
        Team id → household ids to do first, in that order (:func:`planned_order`); the rest
        is taken nearest-first. ``None``: everything nearest-first.
    target : str, default "round"
        Entity of the ``d2d_target`` event.

    Raises
    ------
    ValueError
        Duplicate team ids, an order naming an unknown team or household or a household
        twice, ``service_cv < 0``, or ``service_cv > 0`` without ``rngs``.
    """
    if not (math.isfinite(service_cv) and service_cv >= 0):
        raise ValueError("service_cv must be a finite number ≥ 0")
    if service_cv > 0 and rngs is None:
        raise ValueError("rngs is needed when service_cv > 0")
    run = _Run(env, _round_tables(problem), teams, log, rngs,
               gap_min=problem.policy.minutes_between_doors, service_cv=service_cv, order=order)
    run.start(target)


def run_door_to_door(
    problem: DoorToDoorProblem,
    teams: Sequence[D2DTeam],
    rngs: RngFactory | None = None,
    *,
    service_cv: float = 0.0,
    order: Mapping[str, Sequence[str]] | None = None,
    until_min: float | None = None,
    log: EventLog | None = None,
) -> EventLog:
    """Simulate door-to-door rounds on a fresh environment and return the event log.

    Parameters
    ----------
    problem, teams, rngs, service_cv, order
        As :func:`door_to_door_process`.
    until_min : float, optional
        Stop there (minutes); default: until nothing is left to happen.
    log : EventLog, optional
        Log to append to; default a new one.

    Returns
    -------
    EventLog

    Examples
    --------
    Three households on floors 1–3 of a walk-up next to the base, one team, fixed times:
    2 min a floor, 0.5 min between doors, 3 min a door (2.5 + 0.5 × 1 resident).

    >>> from commgov.scheduling import DoorToDoorProblem, RoundBuilding, RoundHousehold
    >>> from commgov.types import GeoPoint
    >>> here = GeoPoint(lon=120.62, lat=31.34)
    >>> p = DoorToDoorProblem(base=here, buildings=[RoundBuilding(id="b", location=here,
    ...     floors=3)], households=[RoundHousehold(id=f"h{f}", building_id="b", floor=f)
    ...     for f in (1, 2, 3)])
    >>> log = run_door_to_door(p, [D2DTeam("t", ("a", "b"))])
    >>> [log.t_min[i] for i in log.where("d2d_swabbed")], log.t_min[log.where("d2d_back")[0]]
    ([3.0, 8.5, 14.0], 18.0)
    """
    return run_standalone(
        lambda env, log: door_to_door_process(
            env, problem, teams, log, rngs, service_cv=service_cv, order=order),
        until_min, log)

