"""Hypothesis strategies and mutation operators for volunteer ↔ task matching.

Public API (re-exported by :mod:`commgov.testing`):

* :func:`matching_problems` — a Hypothesis strategy of small, valid
  :class:`~commgov.matching.MatchingProblem` instances on a slot grid (slots may straddle local
  midnight, so day capacities are exercised); options add organisation scopes, pinned pairs, a
  previous plan and minute budgets;
* :func:`rebuild_assignment` — recompute each match's distance, scope, cost, pinned flag and
  ``MATCHED``/``PINNED`` reasons (loads per slot and day, minutes), the totals, the loads and
  the ``info.objective`` tiers from the public predicates of :mod:`commgov.matching` alone (no
  solver code), for the mutation operators of ``_matching_mutations.py``.

Hypothesis is imported only here, so the runtime never needs it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from commgov.matching import (
    Assignment,
    Match,
    MatchingProblem,
    MatchingReasonCode,
    MatchingTotals,
    Pin,
    Task,
    Unmatched,
    Volunteer,
    VolunteerLoad,
    has_skill,
    is_available,
    is_eligible,
    pair_cost_m,
    scope_level,
    task_day,
    travel_distance_m,
)
from commgov.results import Reason
from commgov.types import GeoPoint, TimeWindow

__all__ = [
    "MatchingMutation",
    "matching_problems",
    "rebuild_assignment",
]

MatchingMutation = Callable[[MatchingProblem, Assignment], Assignment | None]

_CENTRE = (120.62, 31.31)  # Gusu, Suzhou
_STEP_DEG = 0.0005  # about 50 m of latitude, 47 m of longitude
_BUILDINGS = ("b0", "b1", "b2", "b3")
_COMPOUND_OF = {"b0": "c0", "b1": "c0", "b2": "c1", "b3": "c1"}
_COMMUNITY_OF = {"c0": "west", "c1": "east"}


@st.composite
def matching_problems(
    draw: st.DrawFn,
    *,
    max_tasks: int = 8,
    max_volunteers: int = 5,
    max_slots: int = 3,
    skills: Sequence[str] = ("cook", "drive", "medic"),
    timezone: str = "Asia/Shanghai",
    scopes: bool = False,
    pins: bool = False,
    previous: bool = False,
    budgets: bool = False,
    min_tasks: int = 0,
    min_volunteers: int = 0,
) -> MatchingProblem:
    """Draw a small valid matching problem.

    Tasks sit on a grid of hour-long slots starting at 22:00 local time (so some fall on the
    next day); places lie on a ~50 m lattice within about 750 m of a centre in Suzhou. With
    every option off (the default) the records carry no scope, pins, previous plan or budgets.

    Parameters
    ----------
    draw : callable
        Supplied by Hypothesis.
    max_tasks, max_volunteers, max_slots : int
        Upper bounds on sizes (at least 0 tasks and volunteers, 1 slot).
    skills : sequence of str
        Skill names to draw from.
    timezone : str
        IANA time zone of the problem.
    scopes : bool, default False
        Give tasks a building (4), compound (2) and community (``west``/``east``, sometimes
        none) and volunteers building lists, a compound, a community (sometimes none) or the
        ``partner`` flag, so every scope level and out-of-scope pairs occur.
    pins : bool, default False
        Pin some tasks to eligible volunteers, within every capacity (and minute budget).
    previous : bool, default False
        Add a previous plan over some tasks, naming known volunteers or one that dropped out.
    budgets : bool, default False
        Give tasks durations (15–90 minutes, some none) and some volunteers a
        ``minutes_per_day`` budget (0–120). The solver then needs ``objective="min_cost"``.
    min_tasks, min_volunteers : int, default 0
        Lower bounds on the numbers of tasks and volunteers (at most the upper bounds).

    Returns
    -------
    MatchingProblem
        A valid problem.
    """
    tz = ZoneInfo(timezone)
    base = datetime(2022, 4, 9, 22, 0, tzinfo=tz)
    starts = draw(
        st.lists(st.integers(0, 4), min_size=1, max_size=max(1, max_slots), unique=True)
    )
    starts.sort()
    slots = [
        TimeWindow(start=base + timedelta(hours=h), end=base + timedelta(hours=h + 1))
        for h in starts
    ]

    def place() -> GeoPoint:
        dx = draw(st.integers(-15, 15))
        dy = draw(st.integers(-15, 15))
        return GeoPoint(lon=_CENTRE[0] + dx * _STEP_DEG, lat=_CENTRE[1] + dy * _STEP_DEG)

    n_tasks = draw(st.integers(min(min_tasks, max_tasks), max_tasks))
    tasks = [
        Task(
            id=f"t{i:03d}",
            skill=draw(st.sampled_from(list(skills))),
            min_level=draw(st.integers(1, 3)),
            location=place(),
            window=draw(st.sampled_from(slots)),
            priority=draw(st.integers(1, 3)),
        )
        for i in range(n_tasks)
    ]
    n_vols = draw(st.integers(min(min_volunteers, max_volunteers), max_volunteers))
    volunteers = []
    for j in range(n_vols):
        chosen = draw(st.lists(st.sampled_from(list(skills)), max_size=len(skills), unique=True))
        levels = {s: draw(st.integers(1, 5)) for s in sorted(chosen)}
        # availability: one contiguous block of hours covering zero or more slots, maybe more
        lo = draw(st.integers(0, 4))
        hi = draw(st.integers(lo, 5))
        avail = (
            [TimeWindow(start=base + timedelta(hours=lo), end=base + timedelta(hours=hi))]
            if hi > lo
            else []
        )
        volunteers.append(
            Volunteer(
                id=f"v{j:03d}",
                location=place(),
                skills=levels,
                availability=avail,
                capacity_per_slot=draw(st.integers(1, 2)),
                capacity_per_day=draw(st.integers(1, 3)),
            )
        )
    # Options draw after the base records, so the default draws are unchanged.
    if scopes:
        tasks = [t.model_copy(update=draw(_task_scope())) for t in tasks]
        volunteers = [v.model_copy(update=draw(_volunteer_scope())) for v in volunteers]
    if budgets:
        tasks = [
            t.model_copy(update={"duration_min": draw(st.sampled_from([None, 10, 15, 20, 30]))})
            for t in tasks
        ]
        volunteers = [
            v.model_copy(
                update={"minutes_per_day": draw(st.sampled_from([None, 0, 30, 60, 90, 120]))}
            )
            for v in volunteers
        ]
    max_distance_m = draw(st.sampled_from([300.0, 600.0, 1000.0]))
    detour_factor = draw(st.sampled_from([1.0, 1.3]))
    problem = MatchingProblem(
        timezone=timezone,
        tasks=tasks,
        volunteers=volunteers,
        max_distance_m=max_distance_m,
        detour_factor=detour_factor,
    )
    if not (pins or previous):
        return problem
    pinned = draw(_pins(problem)) if pins else []
    prev: list[Pin] = []
    if previous and tasks:
        names = [v.id for v in volunteers] + ["gone"]
        for t in tasks:
            if draw(st.booleans()):
                prev.append(Pin(task_id=t.id, volunteer_id=draw(st.sampled_from(names))))
    return problem.model_copy(update={"pinned": pinned, "previous": prev})


def _task_scope() -> st.SearchStrategy[dict[str, Any]]:
    def scoped(building: str, no_community: bool) -> dict[str, Any]:
        compound = _COMPOUND_OF[building]
        return {
            "building_id": building,
            "compound_id": compound,
            "community_id": None if no_community else _COMMUNITY_OF[compound],
        }

    return st.builds(scoped, st.sampled_from(_BUILDINGS), st.integers(0, 4).map(lambda k: k == 0))


def _volunteer_scope() -> st.SearchStrategy[dict[str, Any]]:
    def scoped(buildings: list[str], compound: str, kind: int) -> dict[str, Any]:
        # kind: 0 partner, 1 no community, else the compound's community
        return {
            "building_ids": sorted(buildings),
            "compound_id": compound,
            "community_id": None if kind == 1 else _COMMUNITY_OF[compound],
            "partner": kind == 0,
        }

    return st.builds(
        scoped,
        st.lists(st.sampled_from(_BUILDINGS), max_size=2, unique=True),
        st.sampled_from(sorted(_COMMUNITY_OF)),
        st.integers(0, 5),
    )


@st.composite
def _pins(draw: st.DrawFn, problem: MatchingProblem) -> list[Pin]:
    """Pins on some tasks, each eligible and all within every capacity and budget."""
    loads = _Loads(problem, [])
    out: list[Pin] = []
    for task in sorted(problem.tasks, key=lambda t: t.id):
        if not draw(st.booleans()):
            continue
        fits = [
            v
            for v in sorted(problem.volunteers, key=lambda v: v.id)
            if is_eligible(problem, task, v) and loads.room(task, v)
        ]
        if fits:
            vol = draw(st.sampled_from(fits))
            loads.add(task, vol)
            out.append(Pin(task_id=task.id, volunteer_id=vol.id))
    return out


# ------------------------------------------------------------------------------ rebuilding


class _Loads:
    """A volunteer's tasks per slot and per day and minutes per day, over some pairs."""

    def __init__(self, problem: MatchingProblem, pairs: Iterable[tuple[Task, Volunteer]]):
        self.problem = problem
        self.slot: Counter[tuple[str, datetime, datetime]] = Counter()
        self.day: Counter[tuple[str, date]] = Counter()
        self.minutes: Counter[tuple[str, date]] = Counter()
        for task, vol in pairs:
            self.add(task, vol)

    def keys(self, task: Task, vol: Volunteer) -> tuple[tuple[str, datetime, datetime], Any]:
        return (vol.id, task.window.start, task.window.end), (vol.id, task_day(self.problem, task))

    def add(self, task: Task, vol: Volunteer) -> None:
        ks, kd = self.keys(task, vol)
        self.slot[ks] += 1
        self.day[kd] += 1
        self.minutes[kd] += task.duration_min or 0

    def room(self, task: Task, vol: Volunteer) -> bool:
        """Whether ``vol`` can take ``task`` on top of these pairs within every capacity."""
        ks, kd = self.keys(task, vol)
        budget = vol.minutes_per_day
        return (
            self.slot[ks] < vol.capacity_per_slot
            and self.day[kd] < vol.capacity_per_day
            and (budget is None or self.minutes[kd] + (task.duration_min or 0) <= budget)
        )

    def over(self, vols: dict[str, Volunteer]) -> set[str]:
        """Which capacities (``slot``, ``day``, ``minutes``) some volunteer exceeds."""
        out: set[str] = set()
        if any(n > vols[k[0]].capacity_per_slot for k, n in self.slot.items()):
            out.add("slot")
        if any(n > vols[k[0]].capacity_per_day for k, n in self.day.items()):
            out.add("day")
        for k, n in self.minutes.items():
            budget = vols[k[0]].minutes_per_day
            if budget is not None and n > budget:
                out.add("minutes")
        return out


def _limit_param(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x


def _match_for(
    problem: MatchingProblem, m: Match, task: Task, vol: Volunteer, loads: _Loads
) -> Match:
    """``m`` with every derived field recomputed for the pair (task, vol) under ``loads``."""
    level = scope_level(task, vol)
    dist = travel_distance_m(task, vol, problem.detour_factor)
    # Out of scope, no penalty is defined: cost is the travel (the verifier's convention), and
    # the scope field and MATCHED param keep the level the match reported (no true value exists).
    scope = m.scope if level is None else level
    cost = dist if level is None else pair_cost_m(problem, task, vol)
    ks, kd = loads.keys(task, vol)
    params: dict[str, str | int | float] = {
        "skill": task.skill,
        "level": vol.skills.get(task.skill, 0),
        "min_level": task.min_level,
        "distance_m": dist,
        "limit_m": _limit_param(problem.max_distance_m),
        "slot_load": loads.slot[ks],
        "slot_capacity": vol.capacity_per_slot,
        "day_load": loads.day[kd],
        "day_capacity": vol.capacity_per_day,
        "scope": scope.value,
    }
    if vol.minutes_per_day is not None:
        params["minutes_used"] = loads.minutes[kd]
        params["minutes_budget"] = vol.minutes_per_day
    pinned = any(p.task_id == task.id and p.volunteer_id == vol.id for p in problem.pinned)
    reasons = [Reason(code=MatchingReasonCode.MATCHED, params=params)]
    if pinned:
        reasons.append(Reason(code=MatchingReasonCode.PINNED))
    return Match(
        task_id=task.id,
        volunteer_id=vol.id,
        distance_m=dist,
        slot_start=task.window.start.astimezone(problem.zone),
        priority=task.priority,
        scope=scope,
        cost_m=cost,
        pinned=pinned,
        reasons=reasons,
    )


def rebuild_assignment(
    problem: MatchingProblem,
    base: Assignment,
    matches: Sequence[Match],
    unmatched: Sequence[Unmatched],
) -> Assignment:
    """A copy of ``base`` with these matches and unmatched entries, every derived figure redone.

    For each match between a known task and a known volunteer: ``distance_m``, ``slot_start``,
    ``priority``, ``scope``, ``cost_m`` (:func:`~commgov.matching.scope_level`,
    :func:`~commgov.matching.pair_cost_m`), ``pinned`` and the reasons (one ``MATCHED`` with
    the volunteer's final slot and day loads and minutes under *these* matches, ``PINNED`` on
    pinned pairs). Matches naming an unknown id are kept as given and left out of every sum.
    Then the totals (counts, priority, travel, cost, scope penalty, changes against
    ``problem.previous``), the loads of every volunteer, and ``info.objective`` in the solver's
    tier order: ``priority_served``, ``changes`` (with a previous plan), ``load_squares`` (when
    ``base`` has it or its objective is ``fair``), ``cost_m``, ``travel_m``,
    ``scope_penalty_m`` (other tiers of ``base`` follow unchanged). Unmatched entries are
    kept as given. Only public predicates of :mod:`commgov.matching.problem` are used.

    Parameters
    ----------
    problem : MatchingProblem
        The problem.
    base : Assignment
        Supplies ``info`` (status, solver, options ...).
    matches, unmatched : sequence
        The new entries (sorted by task id in the result).

    Returns
    -------
    Assignment
        The rebuilt assignment.
    """
    tasks = {t.id: t for t in problem.tasks}
    vols = {v.id: v for v in problem.volunteers}
    known = [(m, tasks[m.task_id], vols[m.volunteer_id]) for m in matches
             if m.task_id in tasks and m.volunteer_id in vols]
    loads = _Loads(problem, [(t, v) for _, t, v in known])
    rebuilt = {id(m): _match_for(problem, m, t, v, loads) for m, t, v in known}
    new_matches = [rebuilt.get(id(m), m) for m in matches]
    counted = [rebuilt[id(m)] for m, _, _ in known]
    served = sum(m.priority for m in counted)
    travel = sum(m.distance_m for m in counted)
    cost = sum(m.cost_m for m in counted)
    served_by: dict[str, str] = {}
    per_vol: Counter[str] = Counter()
    for m in counted:
        served_by.setdefault(m.task_id, m.volunteer_id)
        per_vol[m.volunteer_id] += 1
    changes = sum(1 for p in problem.previous if served_by.get(p.task_id) != p.volunteer_id)
    old = base.info.objective
    tiers: dict[str, float] = {"priority_served": float(served)}
    if problem.previous:
        tiers["changes"] = float(changes)
    if "load_squares" in old or base.info.options.get("objective") == "fair":
        tiers["load_squares"] = float(sum(n * n for n in per_vol.values()))
    tiers["cost_m"] = float(cost)
    tiers["travel_m"] = float(travel)
    tiers["scope_penalty_m"] = float(cost - travel)
    for name, value in old.items():
        tiers.setdefault(name, value)
    totals = MatchingTotals(
        tasks=len(problem.tasks),
        matched=len(new_matches),
        unmatched=len(unmatched),
        priority_served=served,
        priority_total=sum(t.priority for t in problem.tasks),
        travel_m=travel,
        cost_m=cost,
        scope_penalty_m=cost - travel,
        changes=changes,
    )
    return base.model_copy(
        update={
            "matches": sorted(new_matches, key=lambda m: m.task_id),
            "unmatched": sorted(unmatched, key=lambda u: u.task_id),
            "totals": totals,
            "loads": [
                VolunteerLoad(volunteer_id=v, tasks=per_vol[v]) for v in sorted(vols)
            ],
            "info": base.info.model_copy(update={"objective": tiers}),
        }
    )


_rebuild = rebuild_assignment  # the older private name


# -------------------------------------------------- helpers of the mutation operators


def _records(problem: MatchingProblem) -> tuple[dict[str, Task], list[Volunteer]]:
    return {t.id: t for t in problem.tasks}, sorted(problem.volunteers, key=lambda v: v.id)


def _known_pairs(
    problem: MatchingProblem, matches: Iterable[Match]
) -> list[tuple[Task, Volunteer]]:
    tasks = {t.id: t for t in problem.tasks}
    vols = {v.id: v for v in problem.volunteers}
    return [(tasks[m.task_id], vols[m.volunteer_id]) for m in matches
            if m.task_id in tasks and m.volunteer_id in vols]


def _bare(task: Task, vol_id: str) -> Match:
    """A placeholder match for (task, vol_id); :func:`rebuild_assignment` fills in the rest."""
    return Match(task_id=task.id, volunteer_id=vol_id, distance_m=0,
                 slot_start=task.window.start, priority=task.priority)


def _capacity_reasons_hold(
    problem: MatchingProblem, loads: _Loads, unmatched: Iterable[Unmatched]
) -> bool:
    """Whether every ``CAPACITY_USED`` unmatched task still has all eligible volunteers full."""
    tasks, vols = _records(problem)
    for u in unmatched:
        if u.task_id not in tasks or all(
            r.code is not MatchingReasonCode.CAPACITY_USED for r in u.reasons
        ):
            continue
        task = tasks[u.task_id]
        if any(is_eligible(problem, task, v) and loads.room(task, v) for v in vols):
            return False
    return True


def _clean(
    problem: MatchingProblem,
    matches: Sequence[Match],
    unmatched: Sequence[Unmatched],
    over: frozenset[str] = frozenset(),
) -> bool:
    """Whether a candidate breaks exactly the capacities ``over`` and no ``CAPACITY_USED``."""
    loads = _Loads(problem, _known_pairs(problem, matches))
    vols = {v.id: v for v in problem.volunteers}
    return loads.over(vols) == over and _capacity_reasons_hold(problem, loads, unmatched)


def _pinned_tasks(problem: MatchingProblem) -> set[str]:
    return {p.task_id for p in problem.pinned}


def _move(
    problem: MatchingProblem,
    assignment: Assignment,
    wanted: Callable[[Task, Volunteer], bool],
    *,
    over: frozenset[str] = frozenset(),
    pinned_only: bool = False,
) -> Assignment | None:
    """Give one task (a matched one first, then an unmatched one) to a volunteer ``wanted``
    accepts, such that the only capacities broken are ``over`` and every ``CAPACITY_USED``
    reason still holds. Pinned tasks move only when ``pinned_only`` (and then only they)."""
    tasks, vols = _records(problem)
    pinned = _pinned_tasks(problem)
    matches = list(assignment.matches)
    unmatched = list(assignment.unmatched)
    for i, m in enumerate(matches):
        task = tasks.get(m.task_id)
        if task is None or (m.task_id in pinned) != pinned_only:
            continue
        for vol in vols:
            if vol.id == m.volunteer_id or not wanted(task, vol):
                continue
            cand = [*matches[:i], _bare(task, vol.id), *matches[i + 1:]]
            if _clean(problem, cand, unmatched, over):
                return rebuild_assignment(problem, assignment, cand, unmatched)
    if pinned_only:
        return None
    for i, u in enumerate(unmatched):
        task = tasks.get(u.task_id)
        if task is None:
            continue
        rest = [*unmatched[:i], *unmatched[i + 1:]]
        for vol in vols:
            if not wanted(task, vol):
                continue
            cand = [*matches, _bare(task, vol.id)]
            if _clean(problem, cand, rest, over):
                return rebuild_assignment(problem, assignment, cand, rest)
    return None


def _only_fails(problem: MatchingProblem, which: str) -> Callable[[Task, Volunteer], bool]:
    """A pair test: the eligibility condition ``which`` fails and every other one holds."""

    def test(task: Task, vol: Volunteer) -> bool:
        holds = {
            "skill": has_skill(task, vol),
            "scope": scope_level(task, vol) is not None,
            "distance": travel_distance_m(task, vol, problem.detour_factor)
            <= problem.max_distance_m,
            "window": is_available(task, vol),
        }
        return all(ok == (name != which) for name, ok in holds.items())

    return test


def _eligible(problem: MatchingProblem) -> Callable[[Task, Volunteer], bool]:
    return lambda t, v: is_eligible(problem, t, v)
