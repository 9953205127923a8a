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
    "has_capacity_for",
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
    in the order pool → skill → scope → distance → window → capacity: ``NO_VOLUNTEERS``
    (the problem has no volunteer at all: an empty pool, not a missing skill),
    ``SKILL_MISSING``, ``OUT_OF_SCOPE``, ``TOO_FAR``, ``OUT_OF_WINDOW``, ``DECLINED`` (every
    skilled, in-scope, near and available volunteer declined it: ``declined`` of them),
    ``NO_CAPACITY``, ``CAPACITY_USED`` (or a :class:`~commgov.results.CommonReasonCode` when a
    run stopped early).

    ``NO_CAPACITY``: every eligible volunteer has no capacity for the task at all
    (``has_capacity_for`` is false: ``capacity_per_slot`` or ``capacity_per_day`` is 0, or
    the minute budget is shorter than the task). ``CAPACITY_USED``: at least one eligible
    volunteer could take it but is full in this assignment; its optional ``no_capacity``
    parameter counts the eligible volunteers without any capacity for it (present when > 0).
    """

    SKILL_MISSING = "SKILL_MISSING"
    TOO_FAR = "TOO_FAR"
    OUT_OF_WINDOW = "OUT_OF_WINDOW"
    CAPACITY_USED = "CAPACITY_USED"
    MATCHED = "MATCHED"
    PINNED = "PINNED"
    OUT_OF_SCOPE = "OUT_OF_SCOPE"
    NO_CAPACITY = "NO_CAPACITY"
    NO_VOLUNTEERS = "NO_VOLUNTEERS"
    DECLINED = "DECLINED"


_C = MatchingReasonCode

register_reasons(
    "matching",
    MatchingReasonCode,
    {
        _C.SKILL_MISSING: ({"skill", "level"}, ()),
        _C.TOO_FAR: ({"distance_m", "limit_m"}, ()),
        _C.OUT_OF_WINDOW: ((), ()),
        _C.CAPACITY_USED: ({"eligible"}, {"no_capacity"}),
        _C.NO_CAPACITY: ({"eligible"}, ()),
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
        _C.NO_VOLUNTEERS: ((), ()),
        _C.DECLINED: ({"declined"}, ()),
    },
    {
        _C.NO_VOLUNTEERS: (
            "the problem has no volunteer at all (check the builder's left_out)",
            "问题中没有任何志愿者（请查看构建时未纳入的人员）",
        ),
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
        _C.DECLINED: (
            "the {declined} volunteers who could take it have declined it",
            "可承接该任务的{declined}名志愿者均已拒绝",
        ),
        _C.CAPACITY_USED: (
            "the {eligible} eligible volunteers are booked by other tasks or, {no_capacity} of "
            "them, have no capacity for it (the assignment serves the most total priority)",
            "{eligible}名符合条件的志愿者已被其他任务占满，其中{no_capacity}名对该任务没有可用容量"
            "（整体优先级已最大化）",
        ),
        (_C.CAPACITY_USED, "without no_capacity"): (
            "all {eligible} eligible volunteers are booked by other tasks "
            "(the assignment serves the most total priority)",
            "全部{eligible}名符合条件的志愿者已被其他任务占满（整体优先级已最大化）",
        ),
        _C.NO_CAPACITY: (
            "none of the {eligible} eligible volunteers has capacity for it (capacity 0 per "
            "slot or per day, or a daily minute budget shorter than the task)",
            "{eligible}名符合条件的志愿者均无可用容量（每时段或每日容量为0，或每日分钟预算短于该任务）",
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
    {
        "scope": {
            "building": "楼栋",
            "compound": "小区",
            "community": "社区",
            "partner": "共建单位/骑手",
        }
    },
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
    first_task: dict[tuple[Any, Any], str] = {}  # the least task id of each window
    for task in problem.tasks:
        key = (task.window.start, task.window.end)
        tid = first_task.get(key)
        if tid is None or task.id < tid:
            first_task[key] = task.id
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
        if len(set(vol.building_ids)) == len(vol.building_ids):
            continue
        dup = sorted(b for b, n in Counter(vol.building_ids).items() if n > 1)
        if dup:
            issues.append(InputIssue(vol.id, "building_ids", dup[0], "building listed twice"))
    issues.extend(slot_time_issues(problem))
    issues.extend(_pin_issues(problem))
    return issues


def slot_minutes(task: Task) -> float:
    """Length of a task's slot (its window) in minutes."""
    return (task.window.end - task.window.start).total_seconds() / 60.0


def slot_time_issues(problem: MatchingProblem) -> list[InputIssue]:
    """Volunteers whose ``capacity_per_slot`` lets them be in two places at once.

    Two or more tasks a volunteer takes in one slot are done one after the other, so their
    ``duration_min`` (``None`` counts 0) must sum to at most the slot's length (a lone task
    may run past the slot's end). A problem is refused when some volunteer with
    ``capacity_per_slot = c ≥ 2``, available for a slot, has the skill (:func:`has_skill`) for
    ``k = min(c, n)`` tasks of that slot whose durations sum to more than the slot's length:
    the message names the volunteer, the slot and the largest capacity that fits.

    Notes
    -----
    O(T log T) to sort each slot's durations per (skill, level); then, only for slots where
    some ``k ≥ 2`` tasks can overrun, per volunteer with ``c ≥ 2`` a merge of at most
    ``min(c, slot minutes + 1)`` durations per skill.
    """
    import heapq

    by_slot: dict[tuple[Any, Any], list[Task]] = {}
    for task in problem.tasks:  # every task: one of no duration still makes two in the slot
        by_slot.setdefault((task.window.start, task.window.end), []).append(task)
    issues: list[InputIssue] = []
    multi = [v for v in problem.volunteers if v.capacity_per_slot >= 2]
    if not multi:
        return issues
    flagged: set[str] = set()
    for (start, end), tasks in sorted(by_slot.items()):
        length = slot_minutes(tasks[0])
        top = sorted((t.duration_min or 0 for t in tasks), reverse=True)
        if len(top) < 2 or sum(top) <= length:
            continue  # no two (or more) of this slot's tasks can overrun it
        # durations per (skill, level): the slot's tasks a volunteer at that level may take
        lists: dict[tuple[str, int], list[int]] = {}
        for skill in {t.skill for t in tasks}:
            for level in range(1, 6):
                lists[(skill, level)] = sorted(
                    (
                        t.duration_min or 0
                        for t in tasks
                        if t.skill == skill and t.min_level <= level
                    ),
                    reverse=True,
                )
        window = tasks[0]
        for vol in multi:
            if vol.id in flagged or not is_available(window, vol):
                continue
            merged = heapq.merge(
                *(
                    lists[(skill, level)]
                    for skill, level in sorted(vol.skills.items())
                    if (skill, level) in lists
                ),
                reverse=True,
            )
            total = 0
            fits = 0
            for k, minutes in enumerate(merged, start=1):
                if k > vol.capacity_per_slot:
                    break
                total += minutes
                if total > length and k >= 2:
                    flagged.add(vol.id)
                    issues.append(
                        InputIssue(
                            vol.id,
                            "capacity_per_slot",
                            vol.capacity_per_slot,
                            f"{k} tasks of the slot [{start.isoformat()}, {end.isoformat()}) "
                            f"it may take need {total} min, more than the slot's "
                            f"{length:g} min (a volunteer cannot be in two places at once); "
                            f"use capacity_per_slot ≤ {max(fits, 1)} or shorter duration_min",
                        )
                    )
                    break
                fits = k
    return issues


def _pin_issues(problem: MatchingProblem) -> list[InputIssue]:
    """Pinned pairs: known, once per task, eligible, within capacity; previous: known tasks."""
    issues: list[InputIssue] = []
    if not problem.pinned and not problem.previous and not problem.declined:
        return issues
    tasks = {t.id: t for t in problem.tasks}
    vols = {v.id: v for v in problem.volunteers}
    pinned_pairs = {(p.task_id, p.volunteer_id) for p in problem.pinned}
    declined_seen: set[tuple[str, str]] = set()
    for i, pin in enumerate(problem.declined):
        record = f"declined[{i}]"
        if pin.task_id not in tasks:
            issues.append(InputIssue(record, "task_id", pin.task_id, "unknown task id"))
        if pin.volunteer_id not in vols:
            issues.append(
                InputIssue(record, "volunteer_id", pin.volunteer_id, "unknown volunteer id")
            )
        pair = (pin.task_id, pin.volunteer_id)
        if pair in pinned_pairs:
            issues.append(
                InputIssue(record, "volunteer_id", pin.volunteer_id, "pair is pinned and declined")
            )
        if pair in declined_seen:
            issues.append(InputIssue(record, "volunteer_id", pin.volunteer_id, "pair listed twice"))
        declined_seen.add(pair)
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


def has_capacity_for(task: Task, volunteer: Volunteer) -> bool:
    """Whether the volunteer's capacities allow the task at all (before any other task).

    ``False`` when ``capacity_per_slot`` or ``capacity_per_day`` is 0, or the volunteer has a
    ``minutes_per_day`` budget shorter than the task's ``duration_min`` (``None`` counts 0).
    Unmatched tasks whose every eligible volunteer fails it get ``NO_CAPACITY``.

    Parameters
    ----------
    task, volunteer : Task, Volunteer
        The pair.

    Returns
    -------
    bool
    """
    return (
        volunteer.capacity_per_slot > 0
        and volunteer.capacity_per_day > 0
        and (
            volunteer.minutes_per_day is None
            or (task.duration_min or 0) <= volunteer.minutes_per_day
        )
    )


def is_eligible(problem: MatchingProblem, task: Task, volunteer: Volunteer) -> bool:
    """Whether a volunteer may take a task (capacities aside).

    Eligible means: skill level ≥ ``task.min_level``, in scope (:func:`scope_level` is not
    ``None``), :func:`travel_distance_m` ≤ ``problem.max_distance_m``, the task's window
    inside one of the volunteer's availability windows, and the pair not in
    ``problem.declined``.

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
        and (not problem.declined or (task.id, volunteer.id) not in problem.declined_pairs)
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
