"""Reason checks of the matching verifier (private; no solver code).

On a match: one ``MATCHED`` reason whose params are the recomputed facts, ``PINNED`` exactly on
pinned pairs. On an unmatched task: its one primary reason's predicate holds (see
:func:`~commgov.matching.is_valid_assignment`).
"""

from __future__ import annotations

from typing import Any

from commgov.matching.volunteers._problem import Assignment, MatchingProblem, Task, Volunteer
from commgov.matching.volunteers._rules import MatchingReasonCode, travel_distance_m
from commgov.matching.volunteers._verify import MatchingViolationCode
from commgov.matching.volunteers._verify_pairs import _NO_SCOPE, _int_eq, _num_eq, _PairFinder
from commgov.results import REASONS, Reason, SolveStatus
from commgov.verification import stop_reason_fault

__all__ = ["check_match_reasons", "check_unmatched"]

_V = MatchingViolationCode
_R = MatchingReasonCode


def _params_shape(reason: Reason) -> str:
    """``""`` when the params have exactly the names the code's registration allows."""
    spec = REASONS[reason.code]
    required, optional = spec.required, spec.optional
    keys = set(reason.params)
    missing = sorted(required - keys)
    unknown = sorted(keys - required - optional)
    if missing or unknown:
        return f"params missing {missing}, unknown {unknown}"
    return ""


_SHAPE_OK: dict[int, bool] = {}  # by the number of MATCHED params (their names)


def _matched_as_built(
    problem: MatchingProblem,
    reasons: list[Reason],
    task: Task,
    vol: Volunteer,
    level: Any,
    dist: int,
    is_pin: bool,
    slot_load: int,
    day_load: int,
    minutes_used: int,
) -> bool:
    """Fast path: ``True`` when the reasons are exactly what the checks below accept in the
    common case (one ``MATCHED`` whose params equal the recomputed facts with the same types,
    then ``PINNED`` without params exactly on a pinned pair). ``False`` means "check in
    full", never "wrong"."""
    if level is None or len(reasons) != 1 + is_pin:
        return False
    r = reasons[0]
    if r.code is not MatchingReasonCode.MATCHED or (
        is_pin and (reasons[1].code is not MatchingReasonCode.PINNED or reasons[1].params)
    ):
        return False
    limit = problem.max_distance_m
    want: dict[str, object] = {
        "skill": task.skill,
        "level": vol.skills.get(task.skill, 0),
        "min_level": task.min_level,
        "distance_m": dist,
        "limit_m": int(limit) if float(limit).is_integer() else limit,
        "slot_load": slot_load,
        "slot_capacity": vol.capacity_per_slot,
        "day_load": day_load,
        "day_capacity": vol.capacity_per_day,
        "scope": level.value,
    }
    if vol.minutes_per_day is not None:
        want["minutes_used"] = minutes_used
        want["minutes_budget"] = vol.minutes_per_day
    params = r.params
    if params != want:
        return False
    # equal values of the same types (1 == 1.0 == True), compared as two tuples of types
    if tuple(map(type, map(params.__getitem__, want))) != tuple(map(type, want.values())):
        return False
    # params == want: the keys are want's, one of two shapes (with or without minutes)
    ok = _SHAPE_OK.get(len(want))
    if ok is None:
        ok = _SHAPE_OK[len(want)] = not _params_shape(r)
    return ok and (not is_pin or not _params_shape(reasons[1]))


def check_match_reasons(
    problem: MatchingProblem,
    m: Any,
    task: Task,
    vol: Volunteer,
    level: Any,
    dist: int,
    is_pin: bool,
    slot_load: int,
    day_load: int,
    minutes_used: int,
    bad: Any,
) -> None:
    """The reasons of one match: ``slot_load``, ``day_load`` and ``minutes_used`` are the
    volunteer's counts in the match's slot and day (and task minutes that day)."""
    if _matched_as_built(
        problem, m.reasons, task, vol, level, dist, is_pin, slot_load, day_load, minutes_used
    ):
        return
    codes = [r.code for r in m.reasons]
    if codes.count(MatchingReasonCode.MATCHED) != 1:
        bad(
            _V.REASON_FALSE,
            task.id,
            f"a match needs exactly one MATCHED reason, has {codes.count(_R.MATCHED)}",
        )
    if (MatchingReasonCode.PINNED in codes) != is_pin or codes.count(MatchingReasonCode.PINNED) > 1:
        bad(
            _V.REASON_FALSE,
            task.id,
            "PINNED reason " + ("missing on a pinned pair" if is_pin else "on an unpinned pair"),
        )
    for r in m.reasons:
        if r.code not in (MatchingReasonCode.MATCHED, MatchingReasonCode.PINNED):
            bad(_V.REASON_FALSE, task.id, f"{r.code} is not a match reason")
            continue
        shape = _params_shape(r)
        if shape:
            bad(_V.REASON_FALSE, task.id, f"{r.code}: {shape}")
            continue
        if r.code is not MatchingReasonCode.MATCHED:
            continue
        facts: dict[str, object] = {
            "skill": task.skill,
            "level": vol.skills.get(task.skill, 0),
            "min_level": task.min_level,
            "distance_m": dist,
            "slot_load": slot_load,
            "slot_capacity": vol.capacity_per_slot,
            "day_load": day_load,
            "day_capacity": vol.capacity_per_day,
            "scope": None if level is None else level.value,
        }
        if level is None:  # an out-of-scope pair is one fault, reported as OUT_OF_SCOPE
            del facts["scope"]
        if vol.minutes_per_day is not None:
            facts["minutes_used"] = minutes_used
            facts["minutes_budget"] = vol.minutes_per_day
        wrong = []
        for name, value in facts.items():
            got = r.params.get(name)
            same = (
                got == value
                if isinstance(value, str) or value is None
                else (isinstance(value, int) and _int_eq(got, value))
            )
            if not same:
                wrong.append(f"{name}={got!r} (recomputed {value!r})")
        if vol.minutes_per_day is None and "minutes_used" in r.params:
            wrong.append("minutes reported for a volunteer without a budget")
        if not _num_eq(r.params.get("limit_m"), problem.max_distance_m):
            wrong.append(
                f"limit_m={r.params.get('limit_m')!r} (max_distance_m {problem.max_distance_m})"
            )
        if wrong:
            bad(_V.REASON_FALSE, task.id, "MATCHED: " + "; ".join(wrong))


def check_unmatched(
    problem: MatchingProblem,
    assignment: Assignment,
    finder: _PairFinder,
    unmatched: list[tuple[Any, Task]],
    bad: Any,
    matched: tuple[Any, Any],
) -> None:
    """The reasons of the unmatched tasks (see :func:`~commgov.matching.is_valid_assignment`).

    ``matched`` holds the matches as (task index, volunteer index) arrays of ``finder``, from
    which the loads per volunteer and slot or day (and their minutes) are counted.
    """
    import numpy as np

    vols = finder.vols
    t_index = finder.t_index
    n_tasks = len(finder.tasks)

    rows = [(u, task, t_index[task.id]) for u, task in unmatched]
    by_code: dict[Any, set[int]] = {}
    for u, _, ti in rows:
        for r in u.reasons:
            seen = by_code.get(r.code)
            if seen is None:
                seen = by_code[r.code] = set()
            seen.add(ti)

    def needing(codes: frozenset[MatchingReasonCode]) -> list[int]:
        return sorted(set().union(*(by_code.get(c, ()) for c in codes)))

    # in-reach pairs (skill, scope, distance) of tasks whose TOO_FAR / OUT_OF_WINDOW is checked
    near = finder.pairs(needing(frozenset({_R.TOO_FAR, _R.OUT_OF_WINDOW, _R.DECLINED})))
    near_start = np.searchsorted(near.t, np.arange(n_tasks + 1), side="left")

    def reach(ti: int) -> tuple[Any, Any]:
        a, b = int(near_start[ti]), int(near_start[ti + 1])
        return near.v[a:b], near.avail[a:b]

    # eligible pairs of tasks whose CAPACITY_USED is checked, and whether each volunteer is
    # free for the task in this assignment (room in the slot, the day and the minute budget)
    elig = finder.pairs(
        needing(frozenset({_R.CAPACITY_USED, _R.NO_CAPACITY})), available_only=True, ordered=False
    )
    n_vols = len(vols)
    n_slots = max(len(finder.slot_rep), 1)
    n_days = max(len(finder.days), 1)
    slot_load = np.zeros((n_vols, n_slots), dtype=np.int64)
    day_load = np.zeros((n_vols, n_days), dtype=np.int64)
    used_min = np.zeros((n_vols, n_days), dtype=np.int64)
    slot_used = np.zeros((n_vols, n_slots), dtype=np.int64)
    dur = np.array([t.duration_min or 0 for t in finder.tasks], dtype=np.int64)
    mt, mv = matched
    np.add.at(slot_load, (mv, finder.t_slot[mt]), 1)
    np.add.at(day_load, (mv, finder.t_day[mt]), 1)
    np.add.at(used_min, (mv, finder.t_day[mt]), dur[mt])
    np.add.at(slot_used, (mv, finder.t_slot[mt]), dur[mt])
    slot_len = np.array(
        [(t.window.end - t.window.start).total_seconds() / 60.0 for t in finder.slot_rep],
        dtype=np.float64,
    )
    cap_slot = np.array([v.capacity_per_slot for v in vols], dtype=np.int64)
    cap_day = np.array([v.capacity_per_day for v in vols], dtype=np.int64)
    budget = np.array(
        [-1 if v.minutes_per_day is None else v.minutes_per_day for v in vols], dtype=np.int64
    )
    et, ev = elig.t, elig.v
    es, ed = finder.t_slot[et], finder.t_day[et]
    # no capacity for the task at all (has_capacity_for is false)
    budgets = bool((budget >= 0).any())
    never = ((cap_slot == 0) | (cap_day == 0))[ev]
    if budgets:
        never |= (budget[ev] >= 0) & (dur[et] > budget[ev])
    if budgets or dur.any():
        free = (
            ~never
            & (slot_load[ev, es] < cap_slot[ev])
            & ((slot_load[ev, es] == 0) | (slot_used[ev, es] + dur[et] <= slot_len[es]))
            & (day_load[ev, ed] < cap_day[ev])
            & ((budget[ev] < 0) | (used_min[ev, ed] + dur[et] <= budget[ev]))
        )
    else:  # no durations, no budgets: room is a property of (volunteer, slot) and of the day
        room_slot = (slot_load < cap_slot[:, None]) & (
            (slot_load == 0) | (slot_used <= slot_len[None, :])
        )
        room_day = day_load < cap_day[:, None]
        free = ~never & room_slot[ev, es] & room_day[ev, ed]
    elig_count = np.bincount(et, minlength=n_tasks)
    never_count = np.bincount(et[never], minlength=n_tasks)
    # the first free volunteer of each task (by index); the pairs' order does not matter
    first_free = np.full(n_tasks, n_vols, dtype=np.int64)
    np.minimum.at(first_free, et[free], ev[free])
    first_free[first_free == n_vols] = -1

    status = assignment.info.status
    options = assignment.info.options
    # the CAPACITY_USED reasons the checks below accept at once: no free and no volunteer
    # without capacity, params exactly {"eligible": count}
    plain = ((first_free < 0) & (never_count == 0) & (elig_count > 0)).tolist()
    counts = elig_count.tolist()
    capacity_used = _R.CAPACITY_USED
    for u, task, ti in rows:
        reasons = u.reasons
        if u.priority == task.priority and len(reasons) == 1 and plain[ti]:
            r = reasons[0]
            params = r.params
            if (
                r.code is capacity_used
                and len(params) == 1
                and type(params.get("eligible")) is int
                and params["eligible"] == counts[ti]
            ):
                continue  # the common case, exactly as the checks below accept it
        if u.priority != task.priority:
            bad(
                _V.RECORD_MISMATCH,
                task.id,
                f"priority reported {u.priority}, task has {task.priority}",
            )
        if len(u.reasons) != 1:
            bad(
                _V.REASON_FALSE,
                task.id,
                f"unmatched task with {len(u.reasons)} reasons (exactly one primary reason)",
            )
        for reason in u.reasons:
            if (
                reason.code is _R.CAPACITY_USED
                and plain[ti]
                and reason.params == {"eligible": counts[ti]}
                and type(reason.params["eligible"]) is int
            ):
                continue  # the common case, exactly as the checks below accept it
            shape = _params_shape(reason)
            if shape:
                bad(_V.REASON_FALSE, task.id, f"{reason.code}: {shape}")
                continue
            why = _reason_false(
                problem,
                finder,
                task,
                reason,
                reach,
                int(elig_count[ti]),
                int(first_free[ti]),
                status,
                options,
                int(never_count[ti]),
            )
            if why:
                bad(_V.REASON_FALSE, task.id, f"{reason.code}: {why}")


def _reason_false(
    problem: MatchingProblem,
    finder: _PairFinder,
    task: Task,
    reason: Reason,
    reach: Any,
    eligible: int,
    first_free: int,
    status: SolveStatus,
    options: dict[str, Any],
    never: int = 0,
) -> str:
    """Why the reason's predicate fails for this unmatched task, or ``""`` if it holds.

    ``eligible`` is the number of eligible volunteers (counted only when the task has a
    ``CAPACITY_USED`` reason) and ``first_free`` the index of the first one with room for the
    task in this assignment (-1 if none); ``never`` the number of eligible volunteers without
    any capacity for the task.
    """
    params = reason.params
    code = reason.code
    limit = problem.max_distance_m
    vols = finder.vols
    # the deterministic greedy that replaces a flow the limit cannot fit reports FEASIBLE
    fault = stop_reason_fault(
        reason, status, options, limit_statuses=(SolveStatus.LIMIT, SolveStatus.FEASIBLE)
    )
    if fault is not None:
        return fault
    if code is MatchingReasonCode.NO_VOLUNTEERS:
        return f"the problem has {len(vols)} volunteers" if vols else ""
    if not vols:
        return "the problem has no volunteer: the reason is NO_VOLUNTEERS"
    if code is MatchingReasonCode.SKILL_MISSING:
        if params.get("skill") != task.skill or params.get("level") != task.min_level:
            return f"params {params} do not name skill {task.skill!r} level {task.min_level}"
        skilled, _ = finder.skilled(task)
        if len(skilled):
            return f"volunteer {vols[int(skilled[0])].id} has the skill at that level"
        return ""
    if code is MatchingReasonCode.OUT_OF_SCOPE:
        skilled, ranks = finder.skilled(task)
        if not len(skilled):
            return "no volunteer has the skill at that level"
        if not _int_eq(params.get("skilled"), len(skilled)):
            return f"skilled {params.get('skilled')} but {len(skilled)} volunteers are skilled"
        inside = skilled[ranks != _NO_SCOPE]
        if len(inside):
            return f"volunteer {vols[int(inside[0])].id} is skilled and in scope"
        return ""
    if code is MatchingReasonCode.TOO_FAR:
        in_reach, _ = reach(finder.t_index[task.id])
        skilled, ranks = finder.skilled(task)
        inside = skilled[ranks != _NO_SCOPE]
        if not len(inside):
            return "no skilled volunteer in scope at all"
        if len(in_reach):
            v = vols[int(in_reach[0])]
            return (
                f"volunteer {v.id} is within {limit} m "
                f"({travel_distance_m(task, v, problem.detour_factor)} m)"
            )
        nearest = finder.nearest_m(task, inside)
        if not _int_eq(params.get("distance_m"), nearest):
            return f"distance_m {params.get('distance_m')} but the nearest is {nearest} m"
        if not _num_eq(params.get("limit_m"), limit):
            return f"limit_m {params.get('limit_m')} but max_distance_m is {limit}"
        return ""
    if code is MatchingReasonCode.OUT_OF_WINDOW:
        in_reach, avail = reach(finder.t_index[task.id])
        if not len(in_reach):
            return "no skilled, in-scope volunteer within reach at all"
        if avail.any():
            return f"volunteer {vols[int(in_reach[avail][0])].id} is skilled, near and available"
        return ""
    if code is MatchingReasonCode.DECLINED:
        in_reach, avail = reach(finder.t_index[task.id])
        free = in_reach[avail]
        if not len(free):
            return "no skilled, in-scope volunteer within reach is available"
        ti = finder.t_index[task.id]
        declined = finder.declined_mask([ti] * len(free), free)
        if not declined.all():
            return f"volunteer {vols[int(free[~declined][0])].id} could take it and did not decline"
        if not _int_eq(params.get("declined"), len(free)):
            return f"declined {params.get('declined')} but {len(free)} volunteers declined it"
        return ""
    if code is MatchingReasonCode.NO_CAPACITY:
        if not eligible:
            return "no eligible volunteer at all"
        if not _int_eq(params.get("eligible"), eligible):
            return f"eligible {params.get('eligible')} but {eligible} volunteers are eligible"
        if never < eligible:
            return f"{eligible - never} eligible volunteers have capacity for the task"
        return ""
    if code is MatchingReasonCode.CAPACITY_USED:
        if not eligible:
            return "no eligible volunteer at all"
        if not _int_eq(params.get("eligible"), eligible):
            return f"eligible {params.get('eligible')} but {eligible} volunteers are eligible"
        if never >= eligible:
            return "no eligible volunteer has capacity for the task at all (NO_CAPACITY)"
        if ("no_capacity" in params or never) and (
            not _int_eq(params.get("no_capacity"), never) or never == 0
        ):
            return (
                f"no_capacity {params.get('no_capacity')} but {never} eligible "
                "volunteers have no capacity for the task (the parameter is given "
                "exactly when > 0)"
            )
        if first_free >= 0:
            return (
                f"eligible volunteer {vols[first_free].id} has room for the task in the slot "
                "and the day"
                + (" and minutes left" if vols[first_free].minutes_per_day is not None else "")
            )
        return ""
    return f"{code} is not a volunteer-matching reason"
