"""Rules the matching solvers and the verifier share (private): eligibility, scope, cost,
the problem's cross-record rules, and the family's reason codes.

Every predicate here is public (re-exported by :mod:`commgov.matching`): the independent
verifier re-checks results with them alone, and the vectorised pair lists of the solvers are
tested against them.
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date
from enum import StrEnum
from typing import Any

from commgov._walking import walk_metres_half_up
from commgov.errors import InputIssue
from commgov.matching.volunteers._problem import (
    MatchingProblem,
    ScopeLevel,
    Task,
    Volunteer,
)
from commgov.results import register_reasons

__all__ = [
    "MatchingReasonCode",
    "has_skill",
    "is_available",
    "is_eligible",
    "pair_cost_m",
    "problem_issues",
    "scope_level",
    "task_day",
    "travel_distance_m",
]


class MatchingReasonCode(StrEnum):
    """Reason codes of volunteer matching, each a predicate the verifier checks.

    On a match: ``MATCHED`` (the facts that make the pair eligible and within capacity) and
    ``PINNED``. On an unmatched task, exactly one primary reason, the first failing condition
    in the order skill → scope → distance → window → capacity: ``SKILL_MISSING``,
    ``OUT_OF_SCOPE``, ``TOO_FAR``, ``OUT_OF_WINDOW``, ``CAPACITY_USED`` (or a
    :class:`~commgov.results.CommonReasonCode` when a run stopped early).
    """

    SKILL_MISSING = "SKILL_MISSING"
    TOO_FAR = "TOO_FAR"
    OUT_OF_WINDOW = "OUT_OF_WINDOW"
    CAPACITY_USED = "CAPACITY_USED"
    MATCHED = "MATCHED"
    PINNED = "PINNED"
    OUT_OF_SCOPE = "OUT_OF_SCOPE"


_C = MatchingReasonCode

register_reasons(
    "matching",
    MatchingReasonCode,
    {
        _C.SKILL_MISSING: ({"skill", "level"}, ()),
        _C.TOO_FAR: ({"distance_m", "limit_m"}, ()),
        _C.OUT_OF_WINDOW: ((), ()),
        _C.CAPACITY_USED: ({"eligible"}, ()),
        _C.MATCHED: (
            {
                "skill",
                "level",
                "min_level",
                "distance_m",
                "limit_m",
                "slot_load",
                "slot_capacity",
                "day_load",
                "day_capacity",
                "scope",
            },
            {"minutes_used", "minutes_budget"},
        ),
        _C.PINNED: ((), ()),
        _C.OUT_OF_SCOPE: ({"skilled"}, ()),
    },
    {
        _C.SKILL_MISSING: (
            "no volunteer has skill {skill!s} at level {level} or above",
            "没有志愿者具备{skill!s}技能（等级≥{level}）",
        ),
        _C.TOO_FAR: (
            "the nearest volunteer with the skill is {distance_m} m away (limit {limit_m} m)",
            "具备该技能的最近志愿者距离{distance_m}米（上限{limit_m}米）",
        ),
        _C.OUT_OF_WINDOW: (
            "no volunteer with the skill within reach is available in the task's window",
            "附近具备该技能的志愿者在该时段均无空",
        ),
        _C.CAPACITY_USED: (
            "all {eligible} eligible volunteers are booked by other tasks "
            "(the assignment serves the most total priority)",
            "全部{eligible}名符合条件的志愿者已被其他任务占满（整体优先级已最大化）",
        ),
        _C.MATCHED: (
            "{skill!s} level {level} ≥ {min_level}; {distance_m} m ≤ {limit_m} m; available in "
            "the slot; load {slot_load}/{slot_capacity} in the slot, {day_load}/{day_capacity} "
            "on the day; {minutes_used}/{minutes_budget} min; {scope!s} level",
            "{skill!s}等级{level}≥{min_level}；距离{distance_m}米≤{limit_m}米；该时段有空；"
            "时段任务{slot_load}/{slot_capacity}，当日{day_load}/{day_capacity}；"
            "{minutes_used}/{minutes_budget}分钟；范围层级：{scope!s}",
        ),
        (_C.MATCHED, "without minutes_used"): (
            "{skill!s} level {level} ≥ {min_level}; {distance_m} m ≤ {limit_m} m; available in "
            "the slot; load {slot_load}/{slot_capacity} in the slot, {day_load}/{day_capacity} "
            "on the day; {scope!s} level",
            "{skill!s}等级{level}≥{min_level}；距离{distance_m}米≤{limit_m}米；该时段有空；"
            "时段任务{slot_load}/{slot_capacity}，当日{day_load}/{day_capacity}；范围层级：{scope!s}",
        ),
        _C.PINNED: (
            "pinned: a confirmed assignment kept on re-matching",
            "已锁定：重新匹配时保留的已确认安排",
        ),
        _C.OUT_OF_SCOPE: (
            "the {skilled} volunteers with the skill all belong to other communities and none "
            "is a partner team member or rider",
            "具备该技能的{skilled}名志愿者均属其他社区，且无共建单位或骑手可派",
        ),
    },
    {"scope": {"building": "楼栋", "compound": "小区", "community": "社区",
               "partner": "共建单位/骑手"}},
)


def problem_issues(problem: MatchingProblem) -> list[InputIssue]:
    """The cross-record rules ``problem`` breaks (the hook :meth:`MatchingProblem.cross_issues`).

    Unique task and volunteer ids; the slot grid (distinct task windows pairwise disjoint); no
    building listed twice for a volunteer; pins and the previous plan (:func:`_pin_issues`).
    O(n log n) in tasks plus O(pins) eligibility checks.
    """
    issues: list[InputIssue] = []
    for kind, records in (("task", problem.tasks), ("volunteer", problem.volunteers)):
        seen: set[str] = set()
        for rec in records:
            if rec.id in seen:
                issues.append(InputIssue(rec.id, "id", rec.id, f"duplicate {kind} id"))
            seen.add(rec.id)
    # Slot grid: distinct windows must be pairwise disjoint. After sorting distinct windows by
    # (start, end), any overlapping pair implies an overlapping adjacent pair.
    first_task: dict[tuple[Any, Any], str] = {}
    for task in sorted(problem.tasks, key=lambda t: t.id):
        first_task.setdefault((task.window.start, task.window.end), task.id)
    windows = sorted(first_task)
    for (s1, e1), (s2, e2) in itertools.pairwise(windows):
        if s2 < e1:
            tid = first_task[(s2, e2)]
            issues.append(
                InputIssue(
                    tid,
                    "window",
                    f"[{s2.isoformat()}, {e2.isoformat()})",
                    f"overlaps the window [{s1.isoformat()}, {e1.isoformat()}) of task "
                    f"{first_task[(s1, e1)]} without being equal (tasks must sit on a slot grid)",
                )
            )
    for vol in problem.volunteers:
        dup = sorted(b for b, n in Counter(vol.building_ids).items() if n > 1)
        if dup:
            issues.append(InputIssue(vol.id, "building_ids", dup[0], "building listed twice"))
    issues.extend(_pin_issues(problem))
    return issues


def _pin_issues(problem: MatchingProblem) -> list[InputIssue]:
    """Pinned pairs: known, once per task, eligible, within capacity; previous: known tasks."""
    issues: list[InputIssue] = []
    if not problem.pinned and not problem.previous:
        return issues
    tasks = {t.id: t for t in problem.tasks}
    vols = {v.id: v for v in problem.volunteers}
    for field_name, pins in (("pinned", problem.pinned), ("previous", problem.previous)):
        seen: set[str] = set()
        for i, pin in enumerate(pins):
            record = f"{field_name}[{i}]"
            if pin.task_id not in tasks:
                issues.append(InputIssue(record, "task_id", pin.task_id, "unknown task id"))
            if pin.task_id in seen:
                issues.append(
                    InputIssue(
                        record, "task_id", pin.task_id, f"task appears twice in {field_name}"
                    )
                )
            seen.add(pin.task_id)
            if field_name == "pinned" and pin.volunteer_id not in vols:
                issues.append(
                    InputIssue(record, "volunteer_id", pin.volunteer_id, "unknown volunteer id")
                )
    if issues:
        return issues
    slot_load: Counter[tuple[str, Any, Any]] = Counter()
    day_load: Counter[tuple[str, date]] = Counter()
    minutes: Counter[tuple[str, date]] = Counter()
    for i, pin in enumerate(problem.pinned):
        task, vol = tasks[pin.task_id], vols[pin.volunteer_id]
        record = f"pinned[{i}]"
        if not is_eligible(problem, task, vol):
            issues.append(
                InputIssue(
                    record,
                    "volunteer_id",
                    vol.id,
                    f"volunteer may not take task {task.id} "
                    f"({_ineligible_why(problem, task, vol)})",
                )
            )
            continue
        day = task_day(problem, task)
        slot_load[(vol.id, task.window.start, task.window.end)] += 1
        day_load[(vol.id, day)] += 1
        minutes[(vol.id, day)] += task.duration_min or 0
        checks = (
            (
                slot_load[(vol.id, task.window.start, task.window.end)],
                vol.capacity_per_slot,
                "capacity_per_slot",
            ),
            (day_load[(vol.id, day)], vol.capacity_per_day, "capacity_per_day"),
            (minutes[(vol.id, day)], vol.minutes_per_day, "minutes_per_day"),
        )
        for used, cap, name in checks:
            if cap is not None and used > cap:
                issues.append(
                    InputIssue(
                        record,
                        "volunteer_id",
                        vol.id,
                        f"pins exceed the volunteer's {name} ({used} > {cap})",
                    )
                )
    return issues


def _ineligible_why(problem: MatchingProblem, task: Task, vol: Volunteer) -> str:
    if not has_skill(task, vol):
        return f"{task.skill} level {vol.skills.get(task.skill, 0)} < {task.min_level}"
    if scope_level(task, vol) is None:
        return f"out of scope: task community {task.community_id}, volunteer {vol.community_id}"
    dist = travel_distance_m(task, vol, problem.detour_factor)
    if dist > problem.max_distance_m:
        return f"{dist} m away > {problem.max_distance_m} m"
    return "not available for the whole task window"


def scope_level(task: Task, volunteer: Volunteer) -> ScopeLevel | None:
    """The organisation level at which a volunteer serves a task, or ``None`` if out of scope.

    In order: a ``partner`` volunteer serves at ``partner``; a task whose ``building_id`` is in
    the volunteer's ``building_ids`` at ``building``; the same (non-empty) ``compound_id`` at
    ``compound``; the same ``community_id``, or either side without a community id, at
    ``community``. A non-partner volunteer of another community is out of scope (``None``):
    residents' teams do not cross communities, partner teams and riders do.

    Parameters
    ----------
    task, volunteer : Task, Volunteer
        The pair; the task's ``building_id``, ``compound_id`` and ``community_id`` against the
        volunteer's (and its ``partner`` flag).

    Returns
    -------
    ScopeLevel or None
        The level, or ``None`` when the volunteer may not serve the task.
    """
    if volunteer.partner:
        return ScopeLevel.PARTNER
    if task.building_id is not None and task.building_id in volunteer.building_ids:
        return ScopeLevel.BUILDING
    if task.compound_id is not None and task.compound_id == volunteer.compound_id:
        return ScopeLevel.COMPOUND
    if (
        task.community_id is None
        or volunteer.community_id is None
        or task.community_id == volunteer.community_id
    ):
        return ScopeLevel.COMMUNITY
    return None


def pair_cost_m(problem: MatchingProblem, task: Task, volunteer: Volunteer) -> int:
    """Cost of a match in the ``min_cost`` cost tier: scope penalty plus travel, in metres.

    Parameters
    ----------
    problem : MatchingProblem
        Supplies ``scope_penalties`` and ``detour_factor``.
    task, volunteer : Task, Volunteer
        The pair; it must be in scope (:func:`scope_level` not ``None``).

    Returns
    -------
    int
        ``scope_penalties.of(level) + travel_distance_m(...)`` in metre-equivalents.

    Raises
    ------
    ValueError
        If the pair is out of scope.
    """
    level = scope_level(task, volunteer)
    if level is None:
        raise ValueError(f"volunteer {volunteer.id} is out of scope for task {task.id}")
    return problem.scope_penalties.of(level) + travel_distance_m(
        task, volunteer, problem.detour_factor
    )


def travel_distance_m(task: Task, volunteer: Volunteer, detour_factor: float = 1.0) -> int:
    """Travel distance between a volunteer and a task, in whole metres.

    Great-circle distance (:func:`commgov.types.haversine_m`) times ``detour_factor``, rounded
    half up to an integer number of metres. The solver and the verifier both use this function.

    Parameters
    ----------
    task : Task
        The task (its ``location``).
    volunteer : Volunteer
        The volunteer (its ``location``).
    detour_factor : float, default 1.0
        Multiplier from straight-line to travel distance.

    Returns
    -------
    int
        Distance in metres.
    """
    return walk_metres_half_up(task.location, volunteer.location, detour_factor)


def has_skill(task: Task, volunteer: Volunteer) -> bool:
    """Whether the volunteer's level in the task's skill is at least ``task.min_level``.

    Parameters
    ----------
    task, volunteer : Task, Volunteer
        The pair; the task's ``skill`` and ``min_level``, the volunteer's ``skills``.

    Returns
    -------
    bool
        ``True`` if skilled enough.
    """
    return volunteer.skills.get(task.skill, 0) >= task.min_level


def is_available(task: Task, volunteer: Volunteer) -> bool:
    """Whether the task's window lies inside one of the volunteer's availability windows.

    Parameters
    ----------
    task, volunteer : Task, Volunteer
        The pair; the task's ``window``, the volunteer's ``availability``.

    Returns
    -------
    bool
        ``True`` if some availability window contains the task window (half-open intervals).
    """
    return any(w.contains(task.window) for w in volunteer.availability)


def is_eligible(problem: MatchingProblem, task: Task, volunteer: Volunteer) -> bool:
    """Whether a volunteer may take a task (capacities aside).

    Eligible means: skill level ≥ ``task.min_level``, in scope (:func:`scope_level` is not
    ``None``), :func:`travel_distance_m` ≤ ``problem.max_distance_m``, and the task's window
    inside one of the volunteer's availability windows.

    Parameters
    ----------
    problem : MatchingProblem
        Supplies ``max_distance_m`` and ``detour_factor``.
    task, volunteer : Task, Volunteer
        The pair to check.

    Returns
    -------
    bool
        ``True`` if the pair is eligible.
    """
    return (
        has_skill(task, volunteer)
        and scope_level(task, volunteer) is not None
        and travel_distance_m(task, volunteer, problem.detour_factor) <= problem.max_distance_m
        and is_available(task, volunteer)
    )


def task_day(problem: MatchingProblem, task: Task) -> date:
    """Return the calendar day of a task: the date of its window start in the problem's time zone.

    Parameters
    ----------
    problem : MatchingProblem
        Supplies the time zone.
    task : Task
        The task.

    Returns
    -------
    datetime.date
        The local date.
    """
    return task.window.start.astimezone(problem.zone).date()


