"""Hypothesis strategies and mutation operators for volunteer ↔ task matching.

Public API (re-exported by :mod:`commgov.testing`):

* :func:`matching_problems` — a Hypothesis strategy of small, valid
  :class:`~commgov.matching.MatchingProblem` instances on a slot grid (slots may straddle local
  midnight, so day capacities are exercised); options add organisation scopes, pinned pairs, a
  previous plan and minute budgets;
* :data:`MATCHING_MUTATION_SPECS` — ``name →`` :class:`MutationSpec`: an operator taking
  ``(problem, assignment)`` and returning a copy of the assignment broken in exactly one way
  (or ``None`` when it does not apply to this instance), the code
  :func:`~commgov.matching.is_valid_assignment` must report, and the codes the fault
  necessarily brings with it (documented per operator);
* :data:`MATCHING_MUTATIONS` — ``name → (operator, expected ViolationCode)``, the same
  operators in the older two-field form;
* :data:`UNREACHABLE_CODES` — violation codes no operator produces, with the reason (empty:
  every code has an operator).

Every operator starts from a valid assignment and returns one that is self-consistent in every
respect except the injected fault: whenever the pairs change, :func:`rebuild_assignment`
recomputes each match's distance, scope, cost, pinned flag and ``MATCHED``/``PINNED`` reasons
(loads per slot and day, minutes), the totals, the loads and the ``info.objective`` tiers from
the public predicates of :mod:`commgov.matching.problem` alone (no solver code); and an operator
that moves pairs only picks moves that keep every other rule (capacities other than the one it
breaks, ``CAPACITY_USED`` reasons of unmatched tasks, pins) intact.

Hypothesis is imported only here, so the runtime never needs it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from commgov.matching import (
    SCOPE_ORDER,
    Assignment,
    Match,
    MatchingProblem,
    MatchingTotals,
    Pin,
    ScopeLevel,
    Task,
    Unmatched,
    ViolationCode,
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
from commgov.results import Reason, ReasonCode, SolveStatus
from commgov.types import GeoPoint, TimeWindow

__all__ = [
    "MATCHING_MUTATIONS",
    "MATCHING_MUTATION_SPECS",
    "UNREACHABLE_CODES",
    "MatchingMutation",
    "MutationSpec",
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
            t.model_copy(update={"duration_min": draw(st.sampled_from([None, 15, 30, 60, 90]))})
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
    reasons = [Reason(code=ReasonCode.MATCHED, params=params)]
    if pinned:
        reasons.append(Reason(code=ReasonCode.PINNED))
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


# ------------------------------------------------------------------------------ mutations


@dataclass(frozen=True)
class MutationSpec:
    """A mutation operator and the codes the verifier must report for its result.

    Attributes
    ----------
    operator : MatchingMutation
        ``(problem, assignment) → broken copy`` or ``None`` when it does not apply.
    code : ViolationCode
        The injected fault's code.
    implies : frozenset of ViolationCode
        Codes the fault necessarily brings with it (see ``why``); the verifier must report
        exactly ``{code} | implies``.
    why : str
        Why ``implies`` is not empty.
    moves_pairs : bool
        Whether the operator changes who serves what. On a result of ``objective="stable"``
        that may also create blocking pairs, so ``BLOCKING_PAIR`` is then allowed on top.
    """

    operator: MatchingMutation
    code: ViolationCode
    implies: frozenset[ViolationCode] = frozenset()
    why: str = ""
    moves_pairs: bool = False

    def expected(
        self, assignment: Assignment
    ) -> tuple[frozenset[ViolationCode], frozenset[ViolationCode]]:
        """``(required, allowed)`` codes for the operator's result on ``assignment``."""
        required = frozenset({self.code}) | self.implies
        allowed = required
        if self.moves_pairs and assignment.info.options.get("objective") == "stable":
            allowed = allowed | {ViolationCode.BLOCKING_PAIR}
        return required, allowed


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
        if u.task_id not in tasks or all(r.code is not ReasonCode.CAPACITY_USED for r in u.reasons):
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


def mutate_skill_missing(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Give a task to a volunteer lacking the skill or level (otherwise eligible, with room)."""
    return _move(problem, assignment, _only_fails(problem, "skill"))


def mutate_out_of_scope(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Give a task to an out-of-scope volunteer (otherwise eligible, with room)."""
    return _move(problem, assignment, _only_fails(problem, "scope"))


def mutate_too_far(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Give a task to a volunteer beyond ``max_distance_m`` (otherwise eligible, with room)."""
    return _move(problem, assignment, _only_fails(problem, "distance"))


def mutate_out_of_window(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Give a task to a volunteer not available in its window (otherwise eligible, with room)."""
    return _move(problem, assignment, _only_fails(problem, "window"))


def mutate_double_booked(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Give a task to an eligible volunteer already full in its slot (day and minutes fit)."""
    return _move(problem, assignment, _eligible(problem), over=frozenset({"slot"}))


def mutate_over_day_capacity(
    problem: MatchingProblem, assignment: Assignment
) -> Assignment | None:
    """Give a task to an eligible volunteer already full on its day (slot and minutes fit)."""
    return _move(problem, assignment, _eligible(problem), over=frozenset({"day"}))


def mutate_over_minutes(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Give a task to an eligible volunteer whose minute budget it exceeds (counts fit)."""
    return _move(problem, assignment, _eligible(problem), over=frozenset({"minutes"}))


def mutate_pin_broken(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Move a pinned task to another eligible volunteer with room."""
    return _move(problem, assignment, _eligible(problem), pinned_only=True)


def mutate_blocking_pair(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """On a ``stable`` result, move a task from its volunteer to one it likes strictly less.

    The volunteer left behind now has room in the task's slot and day, and the task prefers
    it: that pair blocks. The new volunteer is eligible and has room, so nothing else breaks.
    """
    if assignment.info.options.get("objective") != "stable":
        return None
    by_id = {v.id: v for v in problem.volunteers}
    rank = {level: i for i, level in enumerate(SCOPE_ORDER)}

    def key(task: Task, vol: Volunteer) -> tuple[int, int]:
        level = scope_level(task, vol)
        return (len(SCOPE_ORDER) if level is None else rank[level],
                travel_distance_m(task, vol, problem.detour_factor))

    pinned = _pinned_tasks(problem)
    current = {m.task_id: m.volunteer_id for m in assignment.matches}
    return _move(
        problem,
        assignment,
        lambda t, v: (
            t.id in current
            and t.id not in pinned
            and current[t.id] in by_id
            and is_eligible(problem, t, v)
            and key(t, by_id[current[t.id]]) < key(t, v)
        ),
    )


def mutate_cost_mismatch(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Report one match's distance 1 m longer than it is."""
    if not assignment.matches:
        return None
    matches = list(assignment.matches)
    matches[0] = matches[0].model_copy(update={"distance_m": matches[0].distance_m + 1})
    return assignment.model_copy(update={"matches": matches})


def mutate_match_cost_mismatch(
    problem: MatchingProblem, assignment: Assignment
) -> Assignment | None:
    """Report one match's ``cost_m`` 1 m-equivalent higher than it is."""
    if not assignment.matches:
        return None
    matches = list(assignment.matches)
    matches[0] = matches[0].model_copy(update={"cost_m": matches[0].cost_m + 1})
    return assignment.model_copy(update={"matches": matches})


def _totals_off(assignment: Assignment, name: str) -> Assignment:
    totals = assignment.totals.model_copy(update={name: getattr(assignment.totals, name) + 1})
    return assignment.model_copy(update={"totals": totals})


def mutate_totals_mismatch(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Report a total travel 1 m off."""
    return _totals_off(assignment, "travel_m")


def mutate_changes_mismatch(
    problem: MatchingProblem, assignment: Assignment
) -> Assignment | None:
    """Report one change to the previous plan more than there are."""
    return _totals_off(assignment, "changes")


def mutate_load_mismatch(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Report one volunteer's load one task higher."""
    if not assignment.loads:
        return None
    loads = list(assignment.loads)
    loads[0] = loads[0].model_copy(update={"tasks": loads[0].tasks + 1})
    return assignment.model_copy(update={"loads": loads})


def _tiers_changed(assignment: Assignment, tiers: dict[str, float]) -> Assignment:
    return assignment.model_copy(
        update={"info": assignment.info.model_copy(update={"objective": tiers})}
    )


def mutate_objective_mismatch(
    problem: MatchingProblem, assignment: Assignment
) -> Assignment | None:
    """Report the ``cost_m`` objective tier 1 higher than the matches give."""
    tiers = dict(assignment.info.objective)
    if "cost_m" not in tiers:
        return None
    tiers["cost_m"] += 1.0
    return _tiers_changed(assignment, tiers)


def mutate_objective_order(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """List the objective tiers in reverse order (values unchanged)."""
    tiers = dict(assignment.info.objective)
    if len(tiers) < 2:
        return None
    return _tiers_changed(assignment, dict(reversed(list(tiers.items()))))


def _first_match(
    problem: MatchingProblem, assignment: Assignment, pinned: bool | None
) -> int | None:
    pins = {(p.task_id, p.volunteer_id) for p in problem.pinned}
    for i, m in enumerate(assignment.matches):
        if pinned is None or ((m.task_id, m.volunteer_id) in pins) == pinned:
            return i
    return None


def _with_match(assignment: Assignment, i: int, **update: Any) -> Assignment:
    matches = list(assignment.matches)
    matches[i] = matches[i].model_copy(update=update)
    return assignment.model_copy(update={"matches": matches})


def mutate_priority_mismatch(
    problem: MatchingProblem, assignment: Assignment
) -> Assignment | None:
    """Report one match's priority 1 higher than its task's."""
    if not assignment.matches:
        return None
    return _with_match(assignment, 0, priority=assignment.matches[0].priority + 1)


def mutate_slot_mismatch(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Report one match's slot start an hour late."""
    if not assignment.matches:
        return None
    m = assignment.matches[0]
    return _with_match(assignment, 0, slot_start=m.slot_start + timedelta(hours=1))


def mutate_scope_mismatch(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Report one match's ``scope`` as another level (cost and MATCHED params unchanged)."""
    if not assignment.matches:
        return None
    m = assignment.matches[0]
    other = next(level for level in SCOPE_ORDER if level != m.scope)
    return _with_match(assignment, 0, scope=ScopeLevel(other))


def mutate_matched_reason_false(
    problem: MatchingProblem, assignment: Assignment
) -> Assignment | None:
    """Report one match's ``MATCHED`` day load one task higher than it is."""
    for i, m in enumerate(assignment.matches):
        for j, r in enumerate(m.reasons):
            if r.code is ReasonCode.MATCHED and isinstance(r.params.get("day_load"), int):
                params = {**r.params, "day_load": int(r.params["day_load"]) + 1}
                reasons = list(m.reasons)
                reasons[j] = r.model_copy(update={"params": params})
                return _with_match(assignment, i, reasons=reasons)
    return None


def mutate_pinned_reason_missing(
    problem: MatchingProblem, assignment: Assignment
) -> Assignment | None:
    """Drop the ``PINNED`` reason of a pinned pair (its flag kept)."""
    i = _first_match(problem, assignment, pinned=True)
    if i is None:
        return None
    reasons = [r for r in assignment.matches[i].reasons if r.code is not ReasonCode.PINNED]
    return _with_match(assignment, i, reasons=reasons)


def mutate_pinned_flag_false(
    problem: MatchingProblem, assignment: Assignment
) -> Assignment | None:
    """Clear the ``pinned`` flag of a pinned pair (its ``PINNED`` reason kept)."""
    i = _first_match(problem, assignment, pinned=True)
    return None if i is None else _with_match(assignment, i, pinned=False)


def mutate_pin_claimed(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Flag an unpinned match ``pinned`` (no ``PINNED`` reason added)."""
    i = _first_match(problem, assignment, pinned=False)
    return None if i is None else _with_match(assignment, i, pinned=True)


def mutate_dropped_task(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Leave one task out of the result: an unmatched entry, else an unpinned match whose
    volunteer's freed room falsifies no ``CAPACITY_USED`` reason."""
    if assignment.unmatched:
        return rebuild_assignment(
            problem, assignment, assignment.matches, assignment.unmatched[1:]
        )
    pinned = _pinned_tasks(problem)
    for i, m in enumerate(assignment.matches):
        cand = [*assignment.matches[:i], *assignment.matches[i + 1:]]
        if m.task_id not in pinned and _clean(problem, cand, assignment.unmatched):
            return rebuild_assignment(problem, assignment, cand, assignment.unmatched)
    return None


def mutate_duplicate_task(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """List a task twice: an unmatched entry again, else a match again where its volunteer has
    room for a second copy."""
    if assignment.unmatched:
        u = assignment.unmatched[0]
        return rebuild_assignment(
            problem, assignment, assignment.matches, [*assignment.unmatched, u]
        )
    for m in assignment.matches:
        cand = [*assignment.matches, m]
        if _clean(problem, cand, assignment.unmatched):
            return rebuild_assignment(problem, assignment, cand, assignment.unmatched)
    return None


def mutate_unknown_volunteer(
    problem: MatchingProblem, assignment: Assignment
) -> Assignment | None:
    """Give an unpinned matched task to a volunteer id not in the problem (the freed volunteer
    falsifies no ``CAPACITY_USED`` reason)."""
    pinned = _pinned_tasks(problem)
    for i, m in enumerate(assignment.matches):
        ghost = m.model_copy(update={"volunteer_id": "ghost-volunteer"})
        cand = [*assignment.matches[:i], ghost, *assignment.matches[i + 1:]]
        if m.task_id not in pinned and _clean(problem, cand, assignment.unmatched):
            return rebuild_assignment(problem, assignment, cand, assignment.unmatched)
    return None


def mutate_unknown_task(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """List a task id not in the problem as unmatched."""
    ghost = Unmatched(task_id="ghost-task", priority=1,
                      reasons=[Reason(code=ReasonCode.OUT_OF_WINDOW)])
    return rebuild_assignment(
        problem, assignment, assignment.matches, [*assignment.unmatched, ghost]
    )


def mutate_reason_false(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Replace an unmatched task's reason by one whose predicate is false."""
    tasks = {t.id: t for t in problem.tasks}
    for i, u in enumerate(assignment.unmatched):
        task = tasks[u.task_id]
        skilled = [v for v in problem.volunteers if has_skill(task, v)]
        if skilled:
            reason = Reason(
                code=ReasonCode.SKILL_MISSING,
                params={"skill": task.skill, "level": task.min_level},
            )
        else:
            reason = Reason(
                code=ReasonCode.CAPACITY_USED,
                params={"eligible": sum(is_eligible(problem, task, v) for v in problem.volunteers)},
            )
        unmatched = list(assignment.unmatched)
        unmatched[i] = u.model_copy(update={"reasons": [reason]})
        return assignment.model_copy(update={"unmatched": unmatched})
    return None


def mutate_time_limit_false(
    problem: MatchingProblem, assignment: Assignment
) -> Assignment | None:
    """On an ``OPTIMAL`` result, blame an unmatched task on the time limit."""
    if assignment.info.status is not SolveStatus.OPTIMAL or not assignment.unmatched:
        return None
    unmatched = list(assignment.unmatched)
    reason = Reason(code=ReasonCode.TIME_LIMIT_REACHED, params={"time_limit_s": 10})
    unmatched[0] = unmatched[0].model_copy(update={"reasons": [reason]})
    return assignment.model_copy(update={"unmatched": unmatched})


def mutate_unmatch_servable(
    problem: MatchingProblem, assignment: Assignment
) -> Assignment | None:
    """Unmatch an unpinned served task and claim ``CAPACITY_USED`` although its volunteer is
    now free."""
    tasks = {t.id: t for t in problem.tasks}
    i = _first_match(problem, assignment, pinned=False)
    if i is None:
        return None
    m = assignment.matches[i]
    task = tasks[m.task_id]
    n = sum(is_eligible(problem, task, v) for v in problem.volunteers)
    extra = Unmatched(
        task_id=m.task_id,
        priority=m.priority,
        reasons=[Reason(code=ReasonCode.CAPACITY_USED, params={"eligible": n})],
    )
    return rebuild_assignment(
        problem,
        assignment,
        [*assignment.matches[:i], *assignment.matches[i + 1:]],
        [*assignment.unmatched, extra],
    )


_V = ViolationCode

#: name → :class:`MutationSpec`: the operator and the exact codes the verifier must report.
MATCHING_MUTATION_SPECS: dict[str, MutationSpec] = {
    # eligibility of a match (one condition broken, capacities kept)
    "skill_missing": MutationSpec(mutate_skill_missing, _V.SKILL_MISSING, moves_pairs=True),
    "out_of_scope": MutationSpec(
        mutate_out_of_scope,
        _V.OUT_OF_SCOPE,
        implies=frozenset({_V.REASON_FALSE}),
        why="the MATCHED reason's required 'scope' param has no true value for an "
        "out-of-scope pair (the verifier expects none), so it is necessarily false",
        moves_pairs=True,
    ),
    "too_far": MutationSpec(mutate_too_far, _V.TOO_FAR, moves_pairs=True),
    "out_of_window": MutationSpec(mutate_out_of_window, _V.OUT_OF_WINDOW, moves_pairs=True),
    # capacities (one broken, the others kept)
    "double_booked": MutationSpec(mutate_double_booked, _V.DOUBLE_BOOKED, moves_pairs=True),
    "over_day_capacity": MutationSpec(
        mutate_over_day_capacity, _V.OVER_DAY_CAPACITY, moves_pairs=True
    ),
    "over_minutes": MutationSpec(mutate_over_minutes, _V.OVER_MINUTES, moves_pairs=True),
    # pins
    "pin_broken": MutationSpec(mutate_pin_broken, _V.PIN_BROKEN, moves_pairs=True),
    "pinned_flag_false": MutationSpec(mutate_pinned_flag_false, _V.PIN_BROKEN),
    "pin_claimed": MutationSpec(mutate_pin_claimed, _V.PIN_BROKEN),
    # stability
    "blocking_pair": MutationSpec(mutate_blocking_pair, _V.BLOCKING_PAIR, moves_pairs=True),
    # reported figures
    "cost_mismatch": MutationSpec(mutate_cost_mismatch, _V.COST_MISMATCH),
    "match_cost_mismatch": MutationSpec(mutate_match_cost_mismatch, _V.COST_MISMATCH),
    "totals_mismatch": MutationSpec(mutate_totals_mismatch, _V.COST_MISMATCH),
    "changes_mismatch": MutationSpec(mutate_changes_mismatch, _V.COST_MISMATCH),
    "load_mismatch": MutationSpec(mutate_load_mismatch, _V.COST_MISMATCH),
    "objective_mismatch": MutationSpec(mutate_objective_mismatch, _V.COST_MISMATCH),
    "objective_order": MutationSpec(mutate_objective_order, _V.COST_MISMATCH),
    "priority_mismatch": MutationSpec(mutate_priority_mismatch, _V.RECORD_MISMATCH),
    "slot_mismatch": MutationSpec(mutate_slot_mismatch, _V.RECORD_MISMATCH),
    "scope_mismatch": MutationSpec(mutate_scope_mismatch, _V.RECORD_MISMATCH),
    # coverage and ids
    "dropped_task": MutationSpec(mutate_dropped_task, _V.DROPPED_TASK, moves_pairs=True),
    "duplicate_task": MutationSpec(mutate_duplicate_task, _V.DUPLICATE_TASK, moves_pairs=True),
    "unknown_volunteer": MutationSpec(mutate_unknown_volunteer, _V.UNKNOWN_ID, moves_pairs=True),
    "unknown_task": MutationSpec(mutate_unknown_task, _V.UNKNOWN_ID),
    # reasons
    "reason_false": MutationSpec(mutate_reason_false, _V.REASON_FALSE),
    "time_limit_false": MutationSpec(mutate_time_limit_false, _V.REASON_FALSE),
    "unmatch_servable": MutationSpec(mutate_unmatch_servable, _V.REASON_FALSE, moves_pairs=True),
    "matched_reason_false": MutationSpec(mutate_matched_reason_false, _V.REASON_FALSE),
    "pinned_reason_missing": MutationSpec(mutate_pinned_reason_missing, _V.REASON_FALSE),
}

#: name → (operator, code the verifier must report): :data:`MATCHING_MUTATION_SPECS` in the
#: older two-field form.
MATCHING_MUTATIONS: dict[str, tuple[MatchingMutation, ViolationCode]] = {
    name: (spec.operator, spec.code) for name, spec in MATCHING_MUTATION_SPECS.items()
}

#: Violation codes no operator produces, with the reason (none: every code is covered).
UNREACHABLE_CODES: dict[ViolationCode, str] = {}
