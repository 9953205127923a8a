"""Door-to-door rounds (上门采样): two-person teams visiting sealed and home-bound households.

Households of sealed buildings (封控区, residents stay home: "1 household, 1 tube") and
registered mobility-limited residents (行动不便) are sampled at their door by two-person teams
(one swabs, one registers) who leave a base (the community office or a sampling point), visit
households and come back, inside their shift. The plan minimises, lexicographically:

1. ``uncovered``: households left out (each with a checkable reason);
2. ``makespan_s``: the latest return to the base, counted from the earliest shift start of
   any team (the plan's ``origin``);
3. ``travel_s``: total travel of all teams (walking, stairs or lift, between doors).

This module holds the problem and plan records and the rules that the solver
(:func:`plan_door_to_door`) and the independent verifier
(:func:`commgov.scheduling.d2d_verify.is_valid_door_to_door_plan`) share on purpose; it
imports no solver (OR-Tools is imported when :func:`plan_door_to_door` is called).

The time model (whole seconds, reference/scheduling.md §1.5 and F4)
--------------------------------------------------------------------
* A **building** here is one stairwell: the households reached from one ground-floor door by
  one stair or lift (a walk-up building with three entrances is three records). Climbing one
  floor, up or down, takes :func:`floor_seconds` (default 2 min per floor by stairs, 0.1 min by
  lift; §1.5: "2–3 min per floor in walk-ups").
* **Walking** between two places (the base, buildings) takes :func:`walk_seconds`: the
  great-circle distance (:func:`commgov.types.haversine_m`) × ``detour_factor`` (1.3), rounded
  to whole metres, at ``walking_speed_m_per_min`` (80 m/min), rounded up to whole seconds —
  then closed under shortest paths, so that walking satisfies the triangle inequality exactly
  (:func:`walk_matrix`).
* A **leg** (:func:`leg_seconds`) from household ``h`` (floor ``f``, building ``b``) to ``h'``
  (``f'``, ``b'``) takes ``door_gap + floor_s(b)·|f − f'|`` in the same building, and
  ``floor_s(b)·(f − 1) + walk(b, b') + floor_s(b')·(f' − 1)`` otherwise (down to the ground,
  across, up); the base is a place on the ground.
* **Service** at a household takes :func:`service_seconds`: its own ``service_minutes``, else
  ``minutes_per_household + minutes_per_resident × residents`` (default 2.5 + 0.5 per
  resident, 3–4.5 min: §1.5 "3–4 min per household on the doorstep").
* A team unit departs at its shift start (there are no household time windows, so waiting
  never helps), serves its households in order without waiting and must be back by its
  **limit**: ``min(shift.end, shift.start + max_minutes)``.

The analytic lower bound (:func:`door_to_door_bound`)
-----------------------------------------------------
The issue's bound is ``max(Σ_h (service_h + least inbound travel_h) / teams,
max_h (2·d(base, h) + service_h))``: a work bound (all the work shared perfectly) and the
farthest household served alone. Here both terms are computed so that the climbing every
stairwell needs is counted once ("building-level aggregation") while staying valid for plans
that split a building between teams or visits:

* every leg decomposes into a *horizontal* part (a walk, or ``door_gap`` inside a building)
  and a *vertical* part (floors climbed or descended in one building). Cut the households of
  building ``b`` into *visits* (maximal runs of one route inside ``b``). A visit is entered by
  a walk of at least ``wmin(b)`` (the shortest walk into ``b`` from the base or another
  covered building), climbs to its highest floor ``t`` and back down (``2·floor_s(b)·(t −
  1)``), and has one ``door_gap`` per household after the first. Charge the entry and the
  climb to the visit's highest household and a ``door_gap`` to each other household: the
  highest household of ``b`` is always charged the first, any other household ``h`` at least
  ``min(door_gap, wmin(b) + 2·floor_s(b)·(f_h − 1))``. So the work is
  ``W = Σ_h service_h + Σ_b [wmin(b) + 2·floor_s(b)·(F_b − 1) + Σ_{h ≠ top} min(door_gap,
  wmin(b) + 2·floor_s(b)·(f_h − 1))]`` — the issue's "least inbound travel" at building level,
  valid for plans that split a building between routes or visits;
* every used route also walks out from the base (at least ``min_b walk(base, b) − wmin(b)``
  beyond what ``wmin`` counted) and back (``min_b walk(b, base)``): ``ρ`` per route;
* team units start at ``S_k`` and must be back by ``E_k`` (seconds after the origin): the
  makespan ``M`` satisfies ``Σ_k max(0, min(M, E_k) − S_k − ρ) ≥ W``; the **work term** is the
  least such ``M`` (with equal starts and no limits it is ``S + W/teams + ρ``);
* the **farthest term**: each household ``h`` is served by some unit that can do it alone,
  which returns no earlier than ``S_k + alone_h``, ``alone_h = walk(base, b) + climb +
  service + climb + walk(b, base)`` (walking obeys the triangle inequality, so no route
  reaches ``h`` sooner);
* the issue's formula itself (household-level least inbound leg, shared over the units'
  available time as above) is also computed (``formula_s``); the bound is the largest of the
  three.

Every term is a lower bound on the makespan of *any* plan covering the same households, so the
plan is proven optimal in makespan when it reaches the bound.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self
from zoneinfo import ZoneInfo

import numpy as np
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from commgov._problem import CheckedProblem
from commgov.errors import InputIssue, ProblemError
from commgov.results import Reason, SolveInfo
from commgov.types import (
    MAX_HEADCOUNT,
    GeoPoint,
    Id,
    TimeWindow,
    TimeZoneName,
    haversine_m,
    to_seconds,
)

if TYPE_CHECKING:
    from commgov.org import OrgGraph, OrgModel

__all__ = [
    "D2D_SCHEMA_VERSION",
    "Access",
    "DoorToDoorPlan",
    "DoorToDoorProblem",
    "RoundBound",
    "RoundBuilding",
    "RoundHousehold",
    "RoundPolicy",
    "RoundStop",
    "RoundTeam",
    "RoundTotals",
    "TeamRoute",
    "UncoveredHousehold",
    "VisitKind",
    "door_to_door_bound",
    "door_to_door_instance",
    "door_to_door_problem_from_org",
    "floor_seconds",
    "leg_seconds",
    "plan_door_to_door",
    "service_seconds",
    "team_units",
    "to_seconds",
    "walk_matrix",
    "walk_metres",
    "walk_seconds",
]

#: Version of the JSON layout of :class:`DoorToDoorProblem` and :class:`DoorToDoorPlan`.
D2D_SCHEMA_VERSION: Literal["1.0"] = "1.0"

_WHAT = "door-to-door problem"
#: Place key of the base in :func:`walk_matrix`.
BASE = "<base>"


class Access(StrEnum):
    """How the floors of a building are reached: ``STAIRS`` (walk-up) or ``LIFT``."""

    STAIRS = "stairs"
    LIFT = "lift"


class VisitKind(StrEnum):
    """Why a household is visited.

    ``SEALED``: a sealed or high-risk building, every household. ``HOME_VISIT``: registered
    mobility-limited residents of a building that is not sealed.
    """

    SEALED = "sealed"
    HOME_VISIT = "home_visit"


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class RoundBuilding(_Record):
    """A building, or one stairwell (单元) of it: households reached from one ground-floor door.

    Attributes
    ----------
    id : str
        Stable id (an entrance id such as ``320508017016/C01/B03/E2`` in the org model).
    location : GeoPoint
        The ground-floor door, WGS84 (longitude first).
    floors : int
        Storeys above ground, 1–200.
    access : Access
        ``stairs`` (default) or ``lift``.
    minutes_per_floor : float or None
        Minutes to climb (or descend) one floor, 0–30; ``None``: the policy's
        ``stairs_minutes_per_floor`` or ``lift_minutes_per_floor``.
    """

    id: Id
    location: GeoPoint
    floors: int = Field(default=1, ge=1, le=200)
    access: Access = Access.STAIRS
    minutes_per_floor: float | None = Field(default=None, ge=0.0, le=30.0, allow_inf_nan=False)


class RoundHousehold(_Record):
    """A household (户) to visit at its door.

    Attributes
    ----------
    id : str
        Stable, pseudonymous id.
    building_id : str
        Its :class:`RoundBuilding`.
    floor : int
        Its floor, 1 (ground) … the building's ``floors``.
    residents : int
        Residents to sample, ≥ 1.
    service_minutes : float or None
        Minutes at the door (0–240); ``None``: ``minutes_per_household + minutes_per_resident ×
        residents`` of the policy.
    kind : VisitKind
        ``sealed`` (default) or ``home_visit``.
    """

    id: Id
    building_id: Id
    floor: int = Field(default=1, ge=1, le=200)
    residents: int = Field(default=1, ge=1, le=MAX_HEADCOUNT)
    service_minutes: float | None = Field(default=None, ge=0.0, le=240.0, allow_inf_nan=False)
    kind: VisitKind = VisitKind.SEALED


class RoundTeam(_Record):
    """Two-person sampling teams sharing one shift.

    Attributes
    ----------
    id : str
        Stable id.
    shift : TimeWindow
        ``[start, end)``, timezone-aware, whole seconds: the units depart the base at ``start``
        and must be back by ``end``.
    count : int
        Identical units (teams) of this record, 1–100 (default 1); unit ``k`` is numbered
        1 … ``count`` in routes.
    persons : int
        People per unit (default 2: one swabs, one registers); recorded, not used in timing.
    max_minutes : float or None
        Longest round in minutes (a PPE shift, 4–6 h), > 0; ``None``: the whole shift.
    """

    id: Id
    shift: TimeWindow
    count: int = Field(default=1, ge=1, le=100)
    persons: int = Field(default=2, ge=1, le=10)
    max_minutes: float | None = Field(default=None, gt=0.0, le=7 * 24 * 60, allow_inf_nan=False)


class RoundPolicy(_Record):
    """Timing rules of door-to-door rounds (defaults: reference/scheduling.md §1.5, DESIGN).

    Attributes
    ----------
    minutes_per_household : float
        Fixed minutes at each door (knock, hand hygiene, barcode), default 2.5.
    minutes_per_resident : float
        Minutes per resident swabbed, default 0.5.
    minutes_between_doors : float
        Minutes between two doors of the same building, on top of floors climbed, default 0.5.
    stairs_minutes_per_floor : float
        Minutes per floor by stairs (up or down, average), default 2.0.
    lift_minutes_per_floor : float
        Minutes per floor by lift, default 0.1.
    walking_speed_m_per_min : float
        Walking speed in metres per minute, default 80.
    detour_factor : float
        Walking distance / great-circle distance, ≥ 1, default 1.3.
    """

    minutes_per_household: float = Field(default=2.5, ge=0.0, le=240.0, allow_inf_nan=False)
    minutes_per_resident: float = Field(default=0.5, ge=0.0, le=60.0, allow_inf_nan=False)
    minutes_between_doors: float = Field(default=0.5, ge=0.0, le=60.0, allow_inf_nan=False)
    stairs_minutes_per_floor: float = Field(default=2.0, ge=0.0, le=30.0, allow_inf_nan=False)
    lift_minutes_per_floor: float = Field(default=0.1, ge=0.0, le=30.0, allow_inf_nan=False)
    walking_speed_m_per_min: float = Field(default=80.0, gt=0.0, le=1000.0, allow_inf_nan=False)
    detour_factor: float = Field(default=1.3, ge=1.0, le=100.0, allow_inf_nan=False)


class DoorToDoorProblem(CheckedProblem, _Record):
    """Door-to-door rounds: households, their buildings, the base and the teams.

    Construction — directly, with ``model_validate`` or ``model_validate_json`` — validates
    everything and raises :class:`~commgov.errors.ProblemError` listing every issue (record id,
    field, value, rule): field values, unique ids (buildings, households, teams), households
    naming a known building and a floor it has, and whole-second shifts.

    Attributes
    ----------
    schema_version : str
    timezone : str
        IANA time zone, for display (instants are stored in UTC).
    base : GeoPoint
        Where the teams start and end (community office, sampling point), WGS84.
    buildings : list of RoundBuilding
    households : list of RoundHousehold
    teams : list of RoundTeam
    policy : RoundPolicy

    Raises
    ------
    commgov.errors.ProblemError
        If any field or cross-record rule is broken; ``.issues`` lists them all.

    Examples
    --------
    >>> DoorToDoorProblem(base=GeoPoint(lon=120.6, lat=31.3), households=[
    ...     RoundHousehold(id="h1", building_id="b9")])
    Traceback (most recent call last):
    ...
    commgov.errors.ProblemError: door-to-door problem: 1 problem
      - h1.building_id = 'b9': unknown building id
    """

    schema_version: Literal["1.0"] = D2D_SCHEMA_VERSION
    timezone: TimeZoneName = "Asia/Shanghai"
    base: GeoPoint
    buildings: list[RoundBuilding] = Field(default_factory=list)
    households: list[RoundHousehold] = Field(default_factory=list)
    teams: list[RoundTeam] = Field(default_factory=list)
    policy: RoundPolicy = Field(default_factory=RoundPolicy)

    problem_what: ClassVar[str] = _WHAT
    problem_record: ClassVar[str] = "problem"

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise ProblemError.from_validation(exc, data, record="problem", what=_WHAT) from None
        issues = _cross_issues(self)
        if issues:
            raise ProblemError(issues, what=_WHAT)

    def canonical(self) -> Self:
        """The same problem with buildings, households and teams sorted by id."""
        return self.model_copy(update={
            "buildings": sorted(self.buildings, key=lambda b: b.id),
            "households": sorted(self.households, key=lambda h: h.id),
            "teams": sorted(self.teams, key=lambda t: t.id),
        })

    def building_map(self) -> dict[str, RoundBuilding]:
        """Building id → building."""
        return {b.id: b for b in self.buildings}

    def origin(self) -> datetime | None:
        """The earliest shift start of any team (UTC), ``None`` without teams.

        Makespans are counted from it.
        """
        return min((t.shift.start for t in self.teams), default=None)


def _cross_issues(problem: DoorToDoorProblem) -> list[InputIssue]:
    issues: list[InputIssue] = []
    groups: tuple[tuple[str, Sequence[Any]], ...] = (
        ("building", problem.buildings),
        ("household", problem.households),
        ("team", problem.teams),
    )
    for kind, records in groups:
        counts = Counter(r.id for r in records)
        for rid in sorted(k for k, n in counts.items() if n > 1):
            issues.append(InputIssue(rid, "id", rid, f"duplicate {kind} id"))
    buildings = problem.building_map()
    for h in problem.households:
        b = buildings.get(h.building_id)
        if b is None:
            issues.append(InputIssue(h.id, "building_id", h.building_id, "unknown building id"))
        elif h.floor > b.floors:
            issues.append(InputIssue(h.id, "floor", h.floor,
                                     f"must be at most the {b.floors} floors of {b.id!r}"))
    for t in problem.teams:
        w = t.shift
        if w.start.microsecond or w.end.microsecond:
            issues.append(InputIssue(t.id, "shift", f"[{w.start.isoformat()}, "
                                     f"{w.end.isoformat()})", "bounds must be whole seconds"))
    return issues


# ------------------------------------------------------------------------------ shared rules


def service_seconds(problem: DoorToDoorProblem, household: RoundHousehold) -> int:
    """Seconds at the household's door.

    ``service_minutes`` when given, else ``minutes_per_household + minutes_per_resident ×
    residents`` of the policy, by :func:`to_seconds`.

    Examples
    --------
    >>> p = DoorToDoorProblem(base=GeoPoint(lon=120.6, lat=31.3))
    >>> service_seconds(p, RoundHousehold(id="h", building_id="b", residents=3))
    240
    """
    if household.service_minutes is not None:
        return to_seconds(household.service_minutes)
    pol = problem.policy
    return to_seconds(pol.minutes_per_household + pol.minutes_per_resident * household.residents)


def floor_seconds(problem: DoorToDoorProblem, building: RoundBuilding) -> int:
    """Seconds to climb or descend one floor of ``building``.

    ``building.minutes_per_floor`` when given, else the policy's figure for its access
    (stairs 2.0 min, lift 0.1 min by default), by :func:`to_seconds`.
    """
    if building.minutes_per_floor is not None:
        return to_seconds(building.minutes_per_floor)
    pol = problem.policy
    per = pol.lift_minutes_per_floor if building.access is Access.LIFT else (
        pol.stairs_minutes_per_floor)
    return to_seconds(per)


def walk_metres(problem: DoorToDoorProblem, a: GeoPoint, b: GeoPoint) -> int:
    """Direct walking distance between two points in whole metres.

    Great-circle distance (:func:`commgov.types.haversine_m`) × ``detour_factor``, rounded
    half up.
    """
    d = haversine_m(a.lon, a.lat, b.lon, b.lat) * problem.policy.detour_factor
    return math.floor(d + 0.5)


def walk_seconds(problem: DoorToDoorProblem, a: GeoPoint, b: GeoPoint) -> int:
    """Direct walking time between two points in whole seconds (rounded up).

    :func:`walk_metres` / ``walking_speed_m_per_min`` minutes, by :func:`to_seconds`. Legs use
    the shortest-path closure of these times (:func:`walk_matrix`).
    """
    return to_seconds(walk_metres(problem, a, b) / problem.policy.walking_speed_m_per_min)


def walk_matrix(problem: DoorToDoorProblem) -> tuple[list[str], list[list[int]]]:
    """Walking times between the base and every building, closed under shortest paths.

    Direct times are :func:`walk_seconds`; the closure (Floyd–Warshall) replaces a direct walk
    by a chain of walks when that is shorter, which only happens through rounding and makes the
    matrix satisfy the triangle inequality exactly (the lower bound relies on it).

    Parameters
    ----------
    problem : DoorToDoorProblem

    Returns
    -------
    places : list of str
        :data:`BASE` (``"<base>"``) then the building ids, sorted.
    seconds : list of list of int
        ``seconds[i][j]``: walking time from ``places[i]`` to ``places[j]``, symmetric, 0 on
        the diagonal.
    """
    buildings = sorted(problem.buildings, key=lambda b: b.id)
    places = [BASE, *(b.id for b in buildings)]
    points = [problem.base, *(b.location for b in buildings)]
    n = len(points)
    d = np.array([[0 if i == j else walk_seconds(problem, points[i], points[j])
                   for j in range(n)] for i in range(n)], dtype=np.int64).reshape(n, n)
    for k in range(n):  # Floyd–Warshall, one pivot at a time over whole rows (exact integers)
        np.minimum(d, d[:, k:k + 1] + d[k:k + 1, :], out=d)
    return places, d.tolist()


def leg_seconds(
    problem: DoorToDoorProblem,
    a: RoundHousehold | None,
    b: RoundHousehold | None,
    *,
    walks: tuple[list[str], list[list[int]]] | None = None,
    buildings: Mapping[str, RoundBuilding] | None = None,
) -> int:
    """Travel time of one leg, in whole seconds; ``None`` stands for the base.

    Same building: ``door_gap + floor_s·|f − f'|`` (``door_gap`` = :func:`to_seconds` of
    ``minutes_between_doors``). Otherwise down to the ground, walk, up:
    ``floor_s(b)·(f − 1) + walk(b, b') + floor_s(b')·(f' − 1)`` with the walk from
    :func:`walk_matrix`; the base is on the ground.

    Parameters
    ----------
    problem : DoorToDoorProblem
    a, b : RoundHousehold or None
        From and to; ``None`` is the base.
    walks : tuple, optional
        A precomputed :func:`walk_matrix` of the problem (computed when omitted).
    buildings : mapping, optional
        A precomputed :meth:`DoorToDoorProblem.building_map`.

    Returns
    -------
    int
        Seconds (0 from the base to the base).
    """
    places, secs = walks if walks is not None else walk_matrix(problem)
    bmap = buildings if buildings is not None else problem.building_map()
    index = {p: i for i, p in enumerate(places)}
    if a is not None and b is not None and a.building_id == b.building_id:
        fs = floor_seconds(problem, bmap[a.building_id])
        return to_seconds(problem.policy.minutes_between_doors) + fs * abs(a.floor - b.floor)
    total = 0
    ia = ib = 0
    if a is not None:
        total += floor_seconds(problem, bmap[a.building_id]) * (a.floor - 1)
        ia = index[a.building_id]
    if b is not None:
        total += floor_seconds(problem, bmap[b.building_id]) * (b.floor - 1)
        ib = index[b.building_id]
    return total + secs[ia][ib]


def team_units(problem: DoorToDoorProblem) -> list[tuple[str, int, datetime, datetime]]:
    """Every team unit: ``(team_id, unit, depart, limit)``, by team id then unit.

    ``depart`` is the shift start; ``limit`` = ``min(shift.end, shift.start + max_minutes)``
    (UTC), the latest return.
    """
    out: list[tuple[str, int, datetime, datetime]] = []
    for t in sorted(problem.teams, key=lambda t: t.id):
        limit = t.shift.end
        if t.max_minutes is not None:
            limit = min(limit, t.shift.start + timedelta(seconds=to_seconds(t.max_minutes)))
        out.extend((t.id, k, t.shift.start, limit) for k in range(1, t.count + 1))
    return out


# ------------------------------------------------------------------------------ the bound


class RoundBound(_Record):
    """The analytic lower bound on the makespan and its parts (seconds after the origin).

    Every figure is a lower bound on the makespan of any plan that covers the same households
    (see the module docstring for the derivation).

    Attributes
    ----------
    makespan_s : int
        ``max(work_s, farthest_s, formula_s)``.
    work_s : int
        The work term: least ``M`` with ``Σ_k max(0, min(M, E_k) − S_k − route_overhead_s) ≥
        work_total_s``.
    farthest_s : int
        The farthest household served alone by the earliest unit that can.
    formula_s : int
        The issue's formula, ``max(Σ_h (service + least inbound leg) / units, max_h (2·d(base,
        h) + service))``, with staggered shifts: the least ``M`` with ``Σ_k max(0, min(M, E_k)
        − S_k) ≥ Σ_h (service + least inbound leg)``, and ``S_min + max_h (...)``.
    work_total_s : int
        ``W``: service, plus per building the cheapest charging of visits (entry walks, door
        gaps, climbs).
    vertical_s : int
        The climbing part of ``W``.
    route_overhead_s : int
        ``ρ``: the least walk out and back per route beyond what ``W`` charged.
    units : int
        Team units counted.
    """

    makespan_s: int
    work_s: int
    farthest_s: int
    formula_s: int
    work_total_s: int
    vertical_s: int
    route_overhead_s: int
    units: int


def door_to_door_bound(
    problem: DoorToDoorProblem, household_ids: Iterable[str] | None = None
) -> RoundBound:
    """The analytic lower bound on the makespan of plans covering ``household_ids``.

    Parameters
    ----------
    problem : DoorToDoorProblem
    household_ids : iterable of str, optional
        The households covered (default: all). Unknown ids are ignored.

    Returns
    -------
    RoundBound
        All zero when nothing is covered or there are no teams.

    Raises
    ------
    ValueError
        If some household cannot be served alone by any unit within its limit (then no plan
        covers the set).

    Notes
    -----
    Derivation in the module docstring: a work term (service plus the least horizontal inbound
    travel of each household, plus each stairwell climbed once to its top covered floor, plus
    each route's walk out and back, shared over the units' available time) and a farthest term
    (the household whose round trip alone ends last). Both are valid for every plan, including
    plans that split a building between teams; the issue's plain household-level formula is
    reported beside them.
    """
    wanted = None if household_ids is None else set(household_ids)
    hh = [h for h in sorted(problem.households, key=lambda h: h.id)
          if wanted is None or h.id in wanted]
    units = team_units(problem)
    origin = problem.origin()
    if not hh or not units or origin is None:
        return RoundBound(makespan_s=0, work_s=0, farthest_s=0, formula_s=0, work_total_s=0,
                          vertical_s=0, route_overhead_s=0, units=len(units))
    bmap = problem.building_map()
    walks = walk_matrix(problem)
    places, secs = walks
    index = {p: i for i, p in enumerate(places)}
    gap = to_seconds(problem.policy.minutes_between_doors)
    by_b: dict[str, list[RoundHousehold]] = defaultdict(list)
    for h in hh:
        by_b[h.building_id].append(h)
    fs = {b: floor_seconds(problem, bmap[b]) for b in by_b}
    wmin: dict[str, int] = {}
    for b in by_b:
        ib = index[b]
        wmin[b] = min([secs[index[o]][ib] for o in by_b if o != b] + [secs[0][ib]])
    service = {h.id: service_seconds(problem, h) for h in hh}
    vertical = 0
    horizontal = 0
    for b, members in by_b.items():
        top = max(members, key=lambda h: (h.floor, h.id))
        vertical += 2 * fs[b] * (top.floor - 1)
        horizontal += wmin[b]
        for h in members:
            if h is not top:
                single = wmin[b] + 2 * fs[b] * (h.floor - 1)
                if single < gap:
                    vertical += 2 * fs[b] * (h.floor - 1)
                    horizontal += wmin[b]
                else:
                    horizontal += gap
    work_total = sum(service.values()) + horizontal + vertical
    rho = (min(secs[0][index[b]] - wmin[b] for b in by_b)
           + min(secs[index[b]][0] for b in by_b))
    starts = [int((d - origin).total_seconds()) for _t, _k, d, _e in units]
    ends = [int((e - origin).total_seconds()) for _t, _k, _d, e in units]
    work = _least_makespan(starts, ends, rho, work_total)
    # farthest household alone
    farthest = 0
    for h in hh:
        ib = index[h.building_id]
        climb = fs[h.building_id] * (h.floor - 1)
        alone = secs[0][ib] + climb + service[h.id] + climb + secs[ib][0]
        done = [s + alone for s, e in zip(starts, ends, strict=True) if s + alone <= e]
        if not done:
            raise ValueError(f"household {h.id!r} cannot be served alone by any team unit "
                             "within its limit")
        farthest = max(farthest, min(done))
    # the issue's formula, household by household
    least_in = 0
    far_formula = 0
    for h in hh:
        cands = [leg_seconds(problem, None, h, walks=walks, buildings=bmap)]
        for b, members in by_b.items():
            if b == h.building_id:
                others = [o for o in members if o.id != h.id]
                if others:
                    cands.append(gap + fs[b] * min(abs(o.floor - h.floor) for o in others))
            else:
                low = min(o.floor for o in members)
                cands.append(fs[b] * (low - 1) + secs[index[b]][index[h.building_id]]
                             + fs[h.building_id] * (h.floor - 1))
        least_in += service[h.id] + min(cands)
        d = leg_seconds(problem, None, h, walks=walks, buildings=bmap)
        far_formula = max(far_formula, 2 * d + service[h.id])
    formula = max(_least_makespan(starts, ends, 0, least_in), min(starts) + far_formula)
    return RoundBound(makespan_s=max(work, farthest, formula), work_s=work, farthest_s=farthest,
                      formula_s=formula, work_total_s=work_total, vertical_s=vertical,
                      route_overhead_s=rho, units=len(units))


def _least_makespan(starts: list[int], ends: list[int], rho: int, work: int) -> int:
    """Least integer ``M`` with ``Σ_k max(0, min(M, E_k) − S_k − ρ) ≥ work``.

    The capacity is non-decreasing and piecewise linear in ``M``; the largest ``E_k`` is
    returned if none reaches it.
    """
    lo = min(s + rho for s in starts)
    hi = max(ends)

    def cap(m: int) -> int:
        return sum(max(0, min(m, e) - s - rho) for s, e in zip(starts, ends, strict=True))

    if cap(hi) < work:
        return hi
    while lo < hi:
        mid = (lo + hi) // 2
        if cap(mid) >= work:
            hi = mid
        else:
            lo = mid + 1
    return lo


# ------------------------------------------------------------------------------ the plan


class RoundStop(_Record):
    """One household visited on a route.

    Attributes
    ----------
    household_id, building_id : str
    floor : int
    arrive : datetime
        UTC instant the team reaches the door (service starts at once).
    leave : datetime
        ``arrive + service_s``.
    travel_s : int
        The leg into this door (:func:`leg_seconds`).
    service_s : int
        :func:`service_seconds`.
    """

    household_id: Id
    building_id: Id
    floor: int
    arrive: AwareDatetime
    leave: AwareDatetime
    travel_s: int
    service_s: int


class TeamRoute(_Record):
    """The round of one team unit: base → households → base (used units only).

    Attributes
    ----------
    team_id : str
    unit : int
        1 … the team's ``count``.
    depart, back : datetime
        UTC: leaving the base (the shift start) and returning.
    duration_s : int
        ``back − depart``: ``travel_s + service_s``.
    travel_s : int
        All legs, the return included.
    service_s : int
    stops : list of RoundStop
        In visiting order.
    """

    team_id: Id
    unit: int
    depart: AwareDatetime
    back: AwareDatetime
    duration_s: int
    travel_s: int
    service_s: int
    stops: list[RoundStop]


class UncoveredHousehold(_Record):
    """A household the plan leaves out, with one reason.

    Attributes
    ----------
    household_id, building_id : str
    kind : VisitKind
    alone_s : int
        Its round trip alone: base → door, service, door → base (seconds).
    reasons : list of Reason
        ``OUT_OF_WINDOW``: no team unit can serve it even alone within its limit (``alone_s``
        exceeds every unit's time from departure to limit). ``CAPACITY_USED(eligible)``: the
        ``eligible`` units that could serve it alone are all used, and inserting it anywhere
        in any route (an unused unit's empty route included) would break that unit's limit.
        ``TIME_LIMIT_REACHED(time_limit_s)``: not tried before the deadline (status ``LIMIT``).
    """

    household_id: Id
    building_id: Id
    kind: VisitKind
    alone_s: int
    reasons: list[Reason]


class RoundTotals(_Record):
    """Totals of a plan.

    Attributes
    ----------
    households, covered, uncovered : int
    residents_covered : int
    units, units_used : int
        Team units in the problem and with a route.
    makespan_s : int
        Latest return − origin, seconds (0 when nothing is covered).
    makespan_minutes : float
        ``makespan_s / 60`` rounded to 2 decimals.
    last_back : datetime or None
        Latest return (UTC).
    travel_s, service_s : int
        Over all routes.
    """

    households: int
    covered: int
    uncovered: int
    residents_covered: int
    units: int
    units_used: int
    makespan_s: int
    makespan_minutes: float
    last_back: AwareDatetime | None
    travel_s: int
    service_s: int


class DoorToDoorPlan(_Record):
    """Result of :func:`plan_door_to_door`.

    Attributes
    ----------
    schema_version : str
    origin : datetime or None
        Earliest shift start (UTC); makespans are seconds after it.
    routes : list of TeamRoute
        Used units, by team id then unit.
    uncovered : list of UncoveredHousehold
        By household id.
    bound : RoundBound
        :func:`door_to_door_bound` of the covered households.
    totals : RoundTotals
    info : SolveInfo
        Objective tiers ``uncovered``, ``makespan_s``, ``travel_s``; ``bound`` = the analytic
        bound on ``makespan_s`` and ``gap = (makespan − bound) / bound``. ``OPTIMAL`` when every
        household is covered and the makespan equals the bound (travel, the last tier, is then
        minimised heuristically, not proven); ``FEASIBLE`` otherwise; ``LIMIT`` when the
        deadline stopped the final insertion pass.
    """

    schema_version: Literal["1.0"] = D2D_SCHEMA_VERSION
    origin: AwareDatetime | None
    routes: list[TeamRoute]
    uncovered: list[UncoveredHousehold]
    bound: RoundBound
    totals: RoundTotals
    info: SolveInfo

    def to_json(self, indent: int | None = None) -> str:
        """The plan as JSON (byte-identical for the same input, seed, options and versions)."""
        return self.model_dump_json(indent=indent)


# ------------------------------------------------------------------------------ entry points


def plan_door_to_door(
    problem: DoorToDoorProblem,
    *,
    time_limit_s: float = 30.0,
    seed: int = 0,
    strict: bool = False,
) -> DoorToDoorPlan:
    """Plan door-to-door rounds: cover every household, then minimise makespan, then travel.

    Method
    ------
    1. **Aggregation.** Above 60 households, households of one building and floor form a
       *block* (at most four, served in id order, ``door_gap`` apart) that one team visits in
       one go; smaller instances are routed household by household.
    2. **Construction** (building-level LPT bin packing, Graham 1969): stairwells, as jobs of
       ``Σ service + doors + 2·floor_s·(F − 1)`` seconds, longest first, each to the unit that
       would finish earliest within its limit; blocks of jobs that fit nowhere whole are placed
       one by one. Each unit's stairwells are ordered by nearest neighbour from the base, and
       floors upwards inside a stairwell.
    3. **Balancing** local search (exact route times): move a block from a unit finishing last
       to the best position of another unit, or swap two blocks, while the sorted vector of
       finish times decreases lexicographically.
    4. **OR-Tools routing** (``pywrapcp``; a VRP on the blocks with a time dimension, start
       cumuls fixed to the shift starts, end cumuls capped by the limits): first the makespan
       (global span cost on the time dimension, arc cost = travel as guidance) by guided local
       search (Voudouris & Tsang 1999) from the balanced plan, then — the makespan fixed as a
       cap on every route end — total travel, again by guided local search. Each search stops
       after a fixed number of solutions (deterministic), with the wall clock as a safety cap.
    5. **Insertion** of households still uncovered (cheapest feasible insertion, least new
       makespan), so that every ``CAPACITY_USED`` reason holds.

    Deterministic: records sorted by id, one search thread, ``seed`` feeds the tie-breaking
    order of the local search; the same input (in any order), seed and options give
    byte-identical JSON unless the wall-clock cap cuts a search short.

    Parameters
    ----------
    problem : DoorToDoorProblem
    time_limit_s : float, default 30
        Wall-clock cap in seconds on the whole call (> 0).
    seed : int, default 0
        Seed of the local search's move order (0 ≤ seed < 2³¹).
    strict : bool, default False
        Raise :class:`~commgov.errors.InfeasibleError` if a household is uncovered.

    Returns
    -------
    DoorToDoorPlan
        Routes with arrival times, uncovered households with reasons, the analytic bound
        (:func:`door_to_door_bound`), totals and :class:`~commgov.results.SolveInfo`.

    Raises
    ------
    TypeError
        If ``problem`` is not a :class:`DoorToDoorProblem` or an option has the wrong type.
    ValueError
        If an option is out of range.
    commgov.errors.SizeLimitError
        Above :data:`~commgov.scheduling._d2d_solver.MAX_HOUSEHOLDS` households.
    commgov.errors.InfeasibleError
        If ``strict`` and a household is uncovered.

    Examples
    --------
    >>> from datetime import datetime
    >>> from zoneinfo import ZoneInfo
    >>> tz = ZoneInfo("Asia/Shanghai")
    >>> shift = TimeWindow(start=datetime(2022, 4, 12, 8, 0, tzinfo=tz),
    ...                    end=datetime(2022, 4, 12, 12, 0, tzinfo=tz))
    >>> p = DoorToDoorProblem(
    ...     base=GeoPoint(lon=120.6190, lat=31.3421),
    ...     buildings=[RoundBuilding(id="b1", location=GeoPoint(lon=120.6195, lat=31.3421),
    ...                              floors=3)],
    ...     households=[RoundHousehold(id=f"h{f}", building_id="b1", floor=f)
    ...                 for f in (1, 2, 3)],
    ...     teams=[RoundTeam(id="t1", shift=shift)])
    >>> plan = plan_door_to_door(p)
    >>> [s.household_id for s in plan.routes[0].stops], plan.totals.makespan_s
    (['h1', 'h2', 'h3'], 1174)
    >>> plan.info.status.value, plan.bound.makespan_s
    ('OPTIMAL', 1174)
    """
    from commgov.scheduling._d2d_solver import solve_door_to_door

    return solve_door_to_door(problem, time_limit_s=time_limit_s, seed=seed, strict=strict)


def building_leaves(graph: OrgGraph, building_id: str) -> list[tuple[str, Any]]:
    """(id, counts) of a building's entrances, or of the building itself.

    The entrances by id; when the building has none, the building when it carries its own
    counts; empty otherwise.
    """
    from commgov.org import Building, Entrance, NodeKind

    leaves: list[tuple[str, Any]] = []
    for e in sorted(graph.children(building_id)):
        if graph.kind(e) is NodeKind.ENTRANCE:
            ent = graph.record(e)
            assert isinstance(ent, Entrance)
            leaves.append((e, ent.counts))
    b = graph.record(building_id)
    assert isinstance(b, Building)
    if not leaves and b.counts is not None:
        leaves = [(building_id, b.counts)]
    return leaves


def sealed_household_layout(leaf: str, floors: int, households: int, residents: int,
                            registered: Sequence[Any]) -> list[dict[str, Any]]:
    """Households of one sealed entrance (or building), as ``RoundHousehold`` fields.

    The layout rule of :func:`door_to_door_problem_from_org`: ``n = max(households,
    registered)`` households spread evenly over the floors (household ``k`` on floor
    ``1 + k · floors // n``); the unregistered ones first, ids ``"<leaf>#<k>"``, sharing the
    residents the registered ones leave (at least 1 each, the remainder one each to the
    first ones), then the registered households (records with ``id`` and ``residents``, by
    id) on the remaining floors. The simulation's extra sealing uses the same rule.

    Parameters
    ----------
    leaf : str
        Entrance (or building) id.
    floors : int
        Floors of the building, ≥ 1.
    households, residents : int
        The entrance's counts.
    registered : sequence of household records
        Registered households of the entrance, sorted by id.

    Returns
    -------
    list of dict
        ``id``, ``building_id`` (``leaf``), ``floor``, ``residents`` and ``kind``
        (:attr:`VisitKind.SEALED`).
    """
    n = max(households, len(registered))
    spots = [1 + k * floors // n for k in range(n)]
    others = n - len(registered)
    spare = residents - sum(r.residents for r in registered)
    base_res = max(1, spare // others) if others else 0
    extra = max(0, spare - base_res * others) if others else 0
    out: list[dict[str, Any]] = [
        {"id": f"{leaf}#{k + 1}", "building_id": leaf, "floor": spots[k],
         "residents": base_res + (k < extra), "kind": VisitKind.SEALED}
        for k in range(others)]
    out.extend({"id": r.id, "building_id": leaf, "floor": spots[others + k],
                "residents": r.residents, "kind": VisitKind.SEALED}
               for k, r in enumerate(registered))
    return out


def door_to_door_problem_from_org(
    model: OrgModel | OrgGraph,
    community_id: str,
    at: datetime,
    *,
    base: GeoPoint | None = None,
    teams: Sequence[RoundTeam] | None = None,
    shift_hours: float = 4.0,
    medic_skill: str | None = None,
    policy: RoundPolicy | None = None,
) -> DoorToDoorProblem:
    """Build the door-to-door rounds of one community at instant ``at``.

    Households
        * **Sealed buildings**: every building whose effective zone regime at ``at`` has rank
          ≥ 2 (``SEALED`` 封控区, ``HIGH`` 高风险区; the most restrictive designation over the
          building, its entrances and ancestors, as :func:`sampling_problem_from_org` decides).
          Each entrance (or the building, without entrances) becomes one
          :class:`RoundBuilding` stairwell; its ``counts.households`` households are spread
          evenly over the floors, bottom up (household ``k`` of ``n`` on floor
          ``1 + ⌊k·F/n⌋``). Registered :class:`~commgov.org.Household` records of the leaf keep
          their ids, residents and are put on the highest of these positions (their floor is
          not recorded: the conservative choice); the others get ids ``<leaf>#<k>`` and the
          remaining residents, spread evenly (at least one each).
        * **Home visits**: in buildings that are not sealed, every registered household with
          mobility-limited residents (``Household.mobility_limited > 0``), on the top floor of
          its building (conservative). Mobility-limited residents counted on an entrance or
          building beyond those records (the figures :class:`HomeVisit` reports) get one
          household each, id ``<leaf>#m<k>``, one resident, top floor.
        * Floors climb by stairs, or by lift when ``Building.has_lift``.
    Teams
        ``teams`` when given. Otherwise two-person teams are formed from the community's people
        (home in the community, role ``volunteer``) and the members of teams belonging to the
        community (partner clinics' medical staff, pioneer teams), active at ``at``, who are
        available at ``at``: sorted by the end of their availability window (latest first),
        then id, and paired in that order — each pair with one person holding ``medic_skill``
        when that is given (a swabber) and as many pairs as there are medics. A team's shift is
        ``[at, min(at + shift_hours, both windows' ends))``. These are assumptions: real
        rosters should be passed as ``teams``.
    Base
        ``base``, else the community's location, else the centroid of the stairwells.

    Parameters
    ----------
    model : OrgModel or OrgGraph
    community_id : str
        12-digit community code.
    at : datetime
        Timezone-aware instant: zone regimes and availability are read at it.
    base : GeoPoint, optional
    teams : sequence of RoundTeam, optional
    shift_hours : float, default 4
        Longest shift of a formed team, hours (a PPE shift), > 0.
    medic_skill : str, optional
        Skill name a team's swabber must have (for example ``"first_aid"`` in the datasets).
    policy : RoundPolicy, optional

    Returns
    -------
    DoorToDoorProblem

    Raises
    ------
    commgov.errors.ProblemError
        Unknown community, naive ``at``, non-positive ``shift_hours``, or a record whose values
        the round records refuse (naming the organisation record, field and value).
    commgov.errors.OrgStructureError
        If the model is invalid.
    """
    from commgov.org import Building, Household, Membership, NodeKind, Role, Team
    from commgov.org._queries import community_scope, effective_regime

    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise ProblemError.single(community_id, "at", str(at), "must be a timezone-aware "
                                  "datetime", what=_WHAT)
    if isinstance(shift_hours, bool) or not isinstance(shift_hours, int | float) or not (
            0 < shift_hours < math.inf):
        raise ProblemError.single(community_id, "shift_hours", shift_hours,
                                  "must be a positive number of hours", what=_WHAT)
    graph, scope = community_scope(model, community_id, _WHAT)
    issues: list[InputIssue] = []
    buildings: list[dict[str, Any]] = []
    households: list[dict[str, Any]] = []
    registered: dict[str, list[Household]] = defaultdict(list)
    for rec in graph.model.households:
        if rec.parent_id in scope:
            registered[rec.parent_id].append(rec)
    for bid in sorted(graph.descendants(community_id, NodeKind.BUILDING)):
        b = graph.record(bid)
        assert isinstance(b, Building)
        sealed = effective_regime(graph, bid, at).rank >= 2
        for leaf, counts in building_leaves(graph, bid):
            recs = sorted(registered.get(leaf, []), key=lambda r: r.id)
            floors = b.floors
            mine: list[dict[str, Any]] = []
            if sealed:
                mine.extend(sealed_household_layout(leaf, floors, counts.households,
                                                    counts.residents, recs))
            else:
                limited = [r for r in recs if r.mobility_limited > 0]
                mine.extend({"id": r.id, "building_id": leaf, "floor": floors,
                             "residents": r.residents, "kind": VisitKind.HOME_VISIT}
                            for r in limited)
                missing = counts.mobility_limited - sum(r.mobility_limited for r in limited)
                mine.extend({"id": f"{leaf}#m{k + 1}", "building_id": leaf, "floor": floors,
                             "residents": 1, "kind": VisitKind.HOME_VISIT}
                            for k in range(max(0, missing)))
            if mine:
                buildings.append({"id": leaf, "location": b.location, "floors": floors,
                                  "access": Access.LIFT if b.has_lift else Access.STAIRS})
                households.extend(mine)
    if base is None:
        community = graph.record(community_id)
        loc = getattr(community, "location", None)
        if isinstance(loc, GeoPoint):
            base = loc
        elif buildings:
            base = GeoPoint(lon=sum(b["location"].lon for b in buildings) / len(buildings),
                            lat=sum(b["location"].lat for b in buildings) / len(buildings))
        else:
            issues.append(InputIssue(community_id, "base", None, "no base given, the community "
                                     "has no location and nothing is to be visited"))
    if teams is None:
        member_of: dict[str, bool] = {}
        own_teams = {t.id for t in graph.model.teams
                     if isinstance(t, Team) and t.community_id == community_id}
        zone = getattr(graph.record(community_id), "timezone", graph.model.timezone)
        day = at.astimezone(ZoneInfo(zone)).date()
        for m in graph.model.memberships:
            if isinstance(m, Membership) and m.organisation_id in own_teams and m.active_on(day):
                member_of[m.person_id] = True
        avail: list[tuple[datetime, str, bool]] = []
        for p in sorted(graph.model.people, key=lambda q: q.id):
            local = (p.home_id in scope and Role.VOLUNTEER in p.roles) or p.id in member_of
            if not local:
                continue
            window = next((w for w in p.availability if w.contains(at)), None)
            if window is None:
                continue
            medic = medic_skill is not None and medic_skill in p.skills
            avail.append((window.end, p.id, medic))
        avail.sort(key=lambda x: (-x[0].timestamp(), x[1]))
        pairs: list[tuple[tuple[datetime, str, bool], tuple[datetime, str, bool]]] = []
        if medic_skill is None:
            pairs = list(zip(avail[0::2], avail[1::2], strict=False))
        else:
            medics = [a for a in avail if a[2]]
            helpers = [a for a in avail if not a[2]]
            while medics and (helpers or len(medics) >= 2):
                m1 = medics.pop(0)
                mate = helpers.pop(0) if helpers else medics.pop(0)
                pairs.append((m1, mate))
        cap = at + timedelta(seconds=to_seconds(shift_hours * 60.0))
        teams = [RoundTeam(id=f"{a[1]}+{b[1]}", persons=2,
                           shift=TimeWindow(start=at, end=min(cap, a[0], b[0])))
                 for a, b in pairs]
    if issues:
        raise ProblemError(issues, what=_WHAT)
    try:
        return DoorToDoorProblem(
            timezone=getattr(graph.record(community_id), "timezone", graph.model.timezone),
            base=base, buildings=buildings, households=households, teams=list(teams),
            policy=policy or RoundPolicy())
    except ProblemError as exc:
        raise ProblemError(exc.issues, what=f"{_WHAT} of {community_id}") from None


# ------------------------------------------------------------------------------ instances


def door_to_door_instance(tier: str = "H", seed: int = 0) -> DoorToDoorProblem:
    """A seeded synthetic door-to-door instance of tier H (reference/scheduling.md §4.2).

    Tier H: 3–10 sealed buildings in one compound (walk-ups of 5–7 storeys with 1–4 stairwells
    of two flats a floor; high-rises of 11–18 storeys with a lift, 1–2 stairwells of four flats
    a floor), 100–400 occupied households (1–5 residents, mean ≈ 2.6), 0–6 home visits to
    walk-ups within about 300 m, a base 80–250 m from the compound. Teams: 2–6 units, as many
    as needed for about 80 % of a 6-hour shift (a PPE shift; longer shifts when six are not
    enough), group ``A`` departing at 08:00 and group ``B`` at 08:15, Asia/Shanghai, on
    2022-04-12. Default policy (:class:`RoundPolicy`). Every draw comes from
    :func:`commgov._random.rng` streams keyed by the instance, so a seed always gives the same
    instance.

    Parameters
    ----------
    tier : {"H"}
    seed : int, default 0
        ≥ 0.

    Returns
    -------
    DoorToDoorProblem

    Raises
    ------
    ValueError
        For an unknown tier or a negative seed.

    Examples
    --------
    >>> p = door_to_door_instance("H", 0)
    >>> 100 <= len(p.households) <= 400 + 6, 2 <= sum(t.count for t in p.teams) <= 6
    (True, True)
    """
    from commgov._random import rng

    if tier != "H":
        raise ValueError(f"tier must be 'H', got {tier!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    key = f"d2d/H/{seed}"
    g = rng(seed, "layout", key)
    centre = GeoPoint(lon=120.6190, lat=31.3421)

    def offset(p: GeoPoint, east_m: float, north_m: float) -> GeoPoint:
        dlat = north_m / 111_195.0
        dlon = east_m / (111_195.0 * math.cos(math.radians(p.lat)))
        return GeoPoint(lon=round(p.lon + dlon, 7), lat=round(p.lat + dlat, 7))

    target = int(g.integers(100, 401))
    n_b = int(g.integers(3, 11))
    angle = float(g.uniform(0, 2 * math.pi))
    dist = float(g.uniform(80, 250))
    base = offset(centre, dist * math.cos(angle), dist * math.sin(angle))
    slots: list[tuple[str, int]] = []  # (stairwell id, floor), one per flat
    buildings: list[RoundBuilding] = []
    per_building = target / n_b
    for i in range(1, n_b + 1):
        gb = rng(seed, "buildings", f"{key}/B{i:02d}")
        lift = per_building > 72 or gb.random() < 0.3
        if lift:
            floors, flats = int(gb.integers(11, 19)), 4
        else:
            floors, flats = int(gb.integers(5, 8)), 2
        entrances = min(4 if not lift else 2,
                        max(1, math.ceil(per_building / (floors * flats * 0.85))))
        row, col = divmod(i - 1, 4)
        for e in range(1, entrances + 1):
            sid = f"B{i:02d}/E{e}"
            loc = offset(centre, col * 45.0 - 70 + 14.0 * (e - 1), row * 35.0 - 40)
            buildings.append(RoundBuilding(id=sid, location=loc, floors=floors,
                                           access=Access.LIFT if lift else Access.STAIRS))
            slots.extend((sid, f) for f in range(1, floors + 1) for _ in range(flats))
    gh = rng(seed, "households", key)
    target = min(target, len(slots))
    chosen = sorted(int(x) for x in gh.choice(len(slots), size=target, replace=False))
    households: list[RoundHousehold] = []
    counter: Counter[str] = Counter()
    for k in chosen:
        sid, floor = slots[k]
        counter[sid] += 1
        residents = int(gh.choice([1, 2, 3, 4, 5], p=[0.2, 0.3, 0.25, 0.18, 0.07]))
        households.append(RoundHousehold(id=f"{sid}/H{counter[sid]:03d}", building_id=sid,
                                         floor=floor, residents=residents))
    for v in range(1, int(g.integers(0, 7)) + 1):
        gv = rng(seed, "households", f"{key}/V{v}")
        a = float(gv.uniform(0, 2 * math.pi))
        r = float(gv.uniform(80, 300))
        floors = int(gv.integers(2, 7))
        sid = f"V{v:02d}"
        buildings.append(RoundBuilding(id=sid, location=offset(centre, r * math.cos(a),
                                                                r * math.sin(a)),
                                       floors=floors))
        households.append(RoundHousehold(id=f"{sid}/H001", building_id=sid,
                                         floor=int(gv.integers(1, floors + 1)),
                                         residents=int(gv.integers(1, 3)),
                                         kind=VisitKind.HOME_VISIT))
    policy = RoundPolicy()
    probe = DoorToDoorProblem(base=base, buildings=buildings, households=households,
                              policy=policy)
    work = door_to_door_bound(probe.model_copy(update={"teams": [RoundTeam(
        id="probe", shift=TimeWindow(start=datetime(2022, 4, 12, tzinfo=ZoneInfo("UTC")),
                                     end=datetime(2022, 4, 19, tzinfo=ZoneInfo("UTC"))))]})
    ).work_total_s / 60.0
    units = min(6, max(2, math.ceil(work / (0.8 * 360))))
    hours = max(6.0, math.ceil(work / units / 0.8 / 30) / 2)
    tz = ZoneInfo("Asia/Shanghai")
    day = datetime(2022, 4, 12, 8, 0, tzinfo=tz)
    length = timedelta(hours=hours)
    teams = [RoundTeam(id="A", count=units - units // 2, shift=TimeWindow(start=day,
                                                                         end=day + length))]
    if units // 2:
        later = day + timedelta(minutes=15)
        teams.append(RoundTeam(id="B", count=units // 2,
                               shift=TimeWindow(start=later, end=later + length)))
    return probe.model_copy(update={"teams": teams})
