"""Independent verifier for volunteer ↔ task assignments (private; no solver code).

:func:`is_valid_assignment` checks an :class:`~commgov.matching.Assignment` against its
:class:`~commgov.matching.MatchingProblem` from the records alone and returns the shared
:class:`~commgov.verification.VerificationReport` (family ``"matching"``) with
:class:`MatchingViolationCode` codes and the recomputed :class:`MatchingObjective`. It imports
no solver code (neither the flow model, the solvers' shared pair list, nor OR-Tools): it
shares with the solvers only the records and the public predicates of ``_rules.py``
(:func:`has_skill`, :func:`scope_level`, :func:`travel_distance_m`, :func:`is_available`,
:func:`task_day`, :func:`pair_cost_m`). Property tests use it as the oracle, and a mutation
suite shows it rejects each kind of broken result.

The checks are split by concept: structure, eligibility, capacities and recomputed figures
here; the bulk pair finder in ``_verify_pairs.py``; reasons in ``_verify_reasons.py``; weak
stability (:func:`blocking_pairs`, :func:`is_stable`) in ``_verify_stability.py``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC
from enum import StrEnum
from typing import Any, NamedTuple

from commgov.errors import expect_type
from commgov.matching.volunteers._problem import (
    SCOPE_ORDER,
    Assignment,
    MatchingProblem,
    Task,
    Volunteer,
)
from commgov.matching.volunteers._verify_pairs import _match_facts, _num_eq, _PairFinder
from commgov.results import SolveStatus
from commgov.verification import VerificationReport

__all__ = ["MatchingObjective", "MatchingViolationCode", "is_valid_assignment"]


class MatchingViolationCode(StrEnum):
    """Kinds of fault :func:`is_valid_assignment` reports."""

    DROPPED_TASK = "DROPPED_TASK"
    """A task of the problem is neither matched nor listed as unmatched."""
    DUPLICATE_TASK = "DUPLICATE_TASK"
    """A task appears more than once across matches and unmatched."""
    UNKNOWN_ID = "UNKNOWN_ID"
    """A task or volunteer id that is not in the problem."""
    SKILL_MISSING = "SKILL_MISSING"
    """The assigned volunteer lacks the skill or the level."""
    OUT_OF_SCOPE = "OUT_OF_SCOPE"
    """The assigned volunteer is out of the task's organisation scope."""
    TOO_FAR = "TOO_FAR"
    """The travel distance exceeds ``max_distance_m``."""
    OUT_OF_WINDOW = "OUT_OF_WINDOW"
    """No availability window of the volunteer contains the task's window."""
    DOUBLE_BOOKED = "DOUBLE_BOOKED"
    """A volunteer has more tasks in one slot than ``capacity_per_slot``, or two or more tasks
    in one slot whose ``duration_min`` sum past the slot's length (two places at once)."""
    OVER_DAY_CAPACITY = "OVER_DAY_CAPACITY"
    """A volunteer has more tasks on one day than ``capacity_per_day``."""
    OVER_MINUTES = "OVER_MINUTES"
    """A volunteer's task minutes on one day exceed ``minutes_per_day``."""
    PIN_BROKEN = "PIN_BROKEN"
    """A pinned pair is not kept (or not flagged ``pinned``), or a match claims a pin it has not."""
    COST_MISMATCH = "COST_MISMATCH"
    """A reported distance, cost, total, load or objective tier differs from the recomputed one."""
    RECORD_MISMATCH = "RECORD_MISMATCH"
    """A match or unmatched entry misreports the task's priority, slot or scope level."""
    REASON_FALSE = "REASON_FALSE"
    """A reason is missing, malformed, or its predicate does not hold."""
    BLOCKING_PAIR = "BLOCKING_PAIR"
    """Under ``objective="stable"``: a pair blocks the assignment (:func:`blocking_pairs`)."""
    DECLINED_PAIR = "DECLINED_PAIR"
    """A match pairs a task with a volunteer who declined it (``problem.declined``)."""


_V = MatchingViolationCode


class MatchingObjective(NamedTuple):
    """The objective tiers recomputed from an assignment.

    The fields are in the lexicographic order of the ``min_cost`` objective: maximise
    ``priority_served``; then (with ``problem.previous``) minimise ``changes``; then minimise
    ``cost_m``. ``travel_m`` and ``scope_penalty_m`` are the two parts of ``cost_m``
    (reported, not optimised on their own). ``load_squares`` is the ``fair`` tier, which that
    objective places between ``changes`` and ``cost_m``. Because the first tier is maximised,
    compare objectives with :meth:`min_cost_key` or :meth:`fair_key` (smaller is better), not
    with the tuple order itself.

    Attributes
    ----------
    priority_served : int
        Sum of priorities of the matched tasks (maximised).
    changes : int
        Tasks of ``problem.previous`` not served by their previous volunteer (0 without one).
    cost_m : int
        Sum of :func:`~commgov.matching.pair_cost_m` over the matches: scope penalty plus
        travel, in metre-equivalents.
    travel_m : int
        Sum of travel distances of the matches, in metres.
    scope_penalty_m : int
        Sum of scope penalties of the matches, in metre-equivalents (``cost_m - travel_m``).
    load_squares : int
        Sum over volunteers of the squared number of tasks (tasks²).
    """

    priority_served: int
    changes: int = 0
    cost_m: int = 0
    travel_m: int = 0
    scope_penalty_m: int = 0
    load_squares: int = 0

    def min_cost_key(self) -> tuple[int, int, int]:
        """``(-priority_served, changes, cost_m)``: the ``min_cost`` order, smaller is better."""
        return (-self.priority_served, self.changes, self.cost_m)

    def fair_key(self) -> tuple[int, int, int, int]:
        """``(-priority_served, changes, load_squares, cost_m)``: the ``fair`` order."""
        return (-self.priority_served, self.changes, self.load_squares, self.cost_m)


#: Order of the objective tiers in ``SolveInfo.objective`` (those present).
_TIER_ORDER = (
    "priority_served",
    "changes",
    "load_squares",
    "cost_m",
    "travel_m",
    "scope_penalty_m",
)

# ------------------------------------------------------------------------------ verifier


def is_valid_assignment(problem: MatchingProblem, assignment: Assignment) -> VerificationReport:
    """Check an assignment against its problem, independently of the solvers.

    Hard rules:

    * every task appears exactly once (matched or unmatched) and every id exists;
    * each match is eligible — skill and level (:func:`has_skill`), in scope
      (:func:`scope_level` not ``None``), travel ≤ ``max_distance_m`` metres
      (:func:`travel_distance_m`), window inside an availability window (:func:`is_available`),
      and not a pair of ``problem.declined`` (``DECLINED_PAIR``);
    * no volunteer is in two places at once: two or more tasks of one volunteer in one slot
      have ``duration_min`` (``None`` counts 0) summing to at most the slot's length;
    * no volunteer exceeds ``capacity_per_slot`` in a slot, ``capacity_per_day`` on a day
      (:func:`task_day`, problem time zone) or, when budgeted, ``minutes_per_day`` minutes of
      task ``duration_min`` on a day;
    * every pinned pair of ``problem.pinned`` is a match flagged ``pinned=True``, and no other
      match claims ``pinned``.

    Reported figures equal the values recomputed from the matches: each match's priority, slot,
    ``distance_m``, ``scope`` and ``cost_m`` (:func:`pair_cost_m`); the totals (counts,
    priority, ``travel_m``, ``cost_m``, ``scope_penalty_m``, ``changes``); the loads; and the
    tiers of ``info.objective`` (``priority_served``, ``changes`` when ``problem.previous`` is
    not empty, ``load_squares`` = Σ load² when present or when the objective is ``fair``,
    ``cost_m``, ``travel_m``, ``scope_penalty_m``, in that order).

    Each reason's predicate holds. On a match: one ``MATCHED`` reason whose params are the
    recomputed facts — ``skill``, ``level`` (the volunteer's, ≥ ``min_level``), ``min_level``,
    ``distance_m`` ≤ ``limit_m`` (= ``max_distance_m``), ``slot_load`` / ``day_load`` (the
    volunteer's final counts in this assignment) and the capacities, ``minutes_used`` /
    ``minutes_budget`` exactly when the volunteer has a budget, ``scope`` — and ``PINNED``
    exactly on pinned pairs. On an unmatched task (the codes are mutually exclusive, so a true
    reason is the primary one, in the order skill → scope → distance → window → capacity):

    * ``SKILL_MISSING(skill, level)``: no volunteer has the skill at that level;
    * ``OUT_OF_SCOPE(skilled)``: ``skilled`` ≥ 1 volunteers have the skill at the level and
      none of them is in scope;
    * ``TOO_FAR(distance_m, limit_m)``: some skilled volunteer is in scope, none of those is
      within the limit, and ``distance_m`` is the nearest one's distance;
    * ``OUT_OF_WINDOW``: some skilled in-scope volunteer is within the limit and none of those
      is available for the window;
    * ``DECLINED(declined)``: some skilled in-scope volunteer within the limit is available,
      and all ``declined`` of those declined the task;
    * ``NO_CAPACITY(eligible)``: there are ``eligible`` ≥ 1 eligible volunteers and none has
      capacity for the task at all (``has_capacity_for``: capacity 0 per slot or per day, or
      a minute budget shorter than the task);
    * ``CAPACITY_USED(eligible[, no_capacity])``: there are ``eligible`` ≥ 1 eligible
      volunteers, ``no_capacity`` of them (the parameter present exactly when > 0, and fewer
      than ``eligible``) without capacity for the task at all, and each of the others is, in
      this assignment, full in the task's slot (count, or no time left in it for the task) or
      on its day, or (when budgeted) has fewer minutes left that day than the task takes;
    * ``TIME_LIMIT_REACHED(time_limit_s)``: allowed only when ``info.status`` is ``LIMIT`` or
      ``FEASIBLE``, with ``time_limit_s`` > 0 (equal to ``info.options["time_limit_s"]`` when
      recorded);
    * ``CANCELLED``: holds exactly when ``info.status`` is ``CANCELLED`` (the run was
      cancelled before the task was tried).

    When ``info.options["objective"] == "stable"`` and the run was neither cancelled nor
    stopped by its time limit (status ``CANCELLED`` or ``LIMIT``), every blocking pair
    (:func:`~commgov.matching.blocking_pairs`) is a violation too.

    Optimality is not checked here: compare :attr:`VerificationReport.objective` with a
    reference solve for that (:func:`commgov.testing.check_matcher` does).

    Parameters
    ----------
    problem : MatchingProblem
        The problem that was solved.
    assignment : Assignment
        The result to check.

    Returns
    -------
    VerificationReport
        ``.ok`` (and truthiness), ``.violations`` and the recomputed ``.objective``.

    Raises
    ------
    TypeError
        If ``problem`` or ``assignment`` has the wrong type.

    Notes
    -----
    O(M + T log T + P) for M matches, T tasks and P in-reach pairs of the unmatched tasks
    (found by latitude bands and vectorised distances, each exact), plus the eligible pairs
    of all tasks under ``stable``. The facts of the matches (distance, scope, availability)
    are computed in bulk with numpy (distances rechecked with :func:`travel_distance_m` near a
    rounding boundary, availability from :func:`is_available` once per volunteer and slot),
    and reasons exactly as the solvers write them are accepted by one comparison each, the
    other ones checked field by field.
    """
    expect_type(problem, MatchingProblem, "problem")
    expect_type(assignment, Assignment, "assignment")
    from commgov._perf import gc_paused

    # many acyclic records: the cyclic collector's full passes would only cost time
    with gc_paused():
        return _check(problem, assignment)


def _check(problem: MatchingProblem, assignment: Assignment) -> VerificationReport:
    from commgov.matching.volunteers._verify_reasons import (
        _matched_as_built,
        check_match_reasons,
        check_unmatched,
    )
    from commgov.matching.volunteers._verify_stability import _blocking

    report = VerificationReport("matching")
    bad = report.add

    tasks = {t.id: t for t in problem.tasks}
    vols = {v.id: v for v in problem.volunteers}
    limit = problem.max_distance_m
    pinned = {p.task_id: p.volunteer_id for p in problem.pinned}

    # ---- coverage: each task exactly once
    listed = [m.task_id for m in assignment.matches] + [u.task_id for u in assignment.unmatched]
    seen: Counter[str] = Counter(listed)
    if len(seen) != len(listed) or seen.keys() != tasks.keys():
        for tid in sorted(seen):
            if tid not in tasks:
                bad(_V.UNKNOWN_ID, tid, "task id not in the problem")
            elif seen[tid] > 1:
                bad(_V.DUPLICATE_TASK, tid, f"task listed {seen[tid]} times")
        for tid in sorted(tasks):
            if tid not in seen:
                bad(_V.DROPPED_TASK, tid, "task neither matched nor listed as unmatched")

    # ---- each match: eligibility, records, loads
    loads: Counter[str] = Counter()
    valid: list[tuple[Any, Task, Volunteer, Any, int, int]] = []
    travel = cost = served = 0
    served_by: dict[str, str] = {}
    finder = _PairFinder(problem)
    known = [(m, tasks.get(m.task_id), vols.get(m.volunteer_id)) for m in assignment.matches]
    facts = _match_facts(
        problem, finder, [(t, v) for _, t, v in known if t is not None and v is not None]
    )
    tables = _load_tables(finder, facts.t, facts.v)
    k = -1
    for m, task, vol in known:
        if vol is None:
            bad(_V.UNKNOWN_ID, m.volunteer_id, f"volunteer of task {m.task_id} unknown")
        if task is None or vol is None:
            continue
        k += 1
        loads[vol.id] += 1
        served_by.setdefault(task.id, vol.id)
        served += task.priority
        if m.priority != task.priority:
            bad(
                _V.RECORD_MISMATCH,
                task.id,
                f"priority reported {m.priority}, task has {task.priority}",
            )
        # compare instants in UTC: PEP 495 makes a repeated-hour time unequal across zones
        if m.slot_start != task.window.start and m.slot_start.astimezone(UTC) != task.window.start:
            bad(
                _V.RECORD_MISMATCH,
                task.id,
                f"slot_start reported {m.slot_start.isoformat()}, task window starts "
                f"{task.window.start.isoformat()}",
            )
        if not facts.skill[k]:
            bad(
                _V.SKILL_MISSING,
                task.id,
                f"volunteer {vol.id} has {task.skill} level {vol.skills.get(task.skill, 0)}, "
                f"task needs {task.min_level}",
            )
        rank = facts.rank[k]
        level = None if rank < 0 else SCOPE_ORDER[rank]
        dist = facts.dist[k]
        valid.append((m, task, vol, level, dist, k))
        travel += dist
        if level is None:
            bad(
                _V.OUT_OF_SCOPE,
                task.id,
                f"volunteer {vol.id} (community {vol.community_id}) is out of scope for a task "
                f"of community {task.community_id}",
            )
            pair_cost = dist  # no penalty defined; the violation above already fails the result
        else:
            pair_cost = facts.penalty[rank] + dist
            if m.scope != level:
                bad(
                    _V.RECORD_MISMATCH,
                    task.id,
                    f"scope reported {m.scope}, recomputed {level.value}",
                )
        cost += pair_cost
        if m.cost_m != pair_cost:
            bad(_V.COST_MISMATCH, task.id, f"cost_m reported {m.cost_m}, recomputed {pair_cost}")
        if dist > limit:
            bad(_V.TOO_FAR, task.id, f"volunteer {vol.id} is {dist} m away > {limit} m")
        if not facts.avail[k]:
            bad(
                _V.OUT_OF_WINDOW,
                task.id,
                f"volunteer {vol.id} is not available for the whole task window",
            )
        if problem.declined and (task.id, vol.id) in problem.declined_pairs:
            bad(_V.DECLINED_PAIR, task.id, f"volunteer {vol.id} declined this task")
        if m.distance_m != dist:
            bad(
                _V.COST_MISMATCH,
                task.id,
                f"distance_m reported {m.distance_m}, recomputed {dist}",
            )
        if m.pinned and pinned.get(task.id) != vol.id:
            bad(_V.PIN_BROKEN, task.id, f"match with {vol.id} claims a pin it has not")
    for tid, vid in sorted(pinned.items()):
        if tid not in tasks:
            continue
        got = served_by.get(tid)
        if got != vid:
            bad(
                _V.PIN_BROKEN,
                tid,
                f"pinned to {vid} but " + (f"matched to {got}" if got else "not matched"),
            )
    if pinned:
        for m, task, vol, _, _, _ in valid:
            if pinned.get(task.id) == vol.id and not m.pinned:
                bad(_V.PIN_BROKEN, task.id, f"pinned pair with {vol.id} not flagged pinned")

    _check_loads(finder, tables, bad)

    # ---- MATCHED / PINNED reasons on matches
    slot_load, day_load, day_minutes = tables.per_match
    for m, task, vol, level, dist, k in valid:
        is_pin = pinned.get(task.id) == vol.id if pinned else False
        if not _matched_as_built(
            problem,
            m.reasons,
            task,
            vol,
            level,
            dist,
            is_pin,
            slot_load[k],
            day_load[k],
            day_minutes[k],
        ):
            check_match_reasons(
                problem,
                m,
                task,
                vol,
                level,
                dist,
                is_pin,
                slot_load[k],
                day_load[k],
                day_minutes[k],
                bad,
            )

    # ---- aggregates
    changes = sum(1 for p in problem.previous if served_by.get(p.task_id) != p.volunteer_id)
    objective = MatchingObjective(
        priority_served=served,
        changes=changes,
        cost_m=cost,
        travel_m=travel,
        scope_penalty_m=cost - travel,
        load_squares=sum(n * n for n in loads.values()),
    )
    tot = assignment.totals
    expected = {
        "tasks": len(problem.tasks),
        "matched": len(assignment.matches),
        "unmatched": len(assignment.unmatched),
        "priority_served": served,
        "priority_total": sum(t.priority for t in problem.tasks),
        "travel_m": travel,
        "cost_m": cost,
        "scope_penalty_m": cost - travel,
        "changes": changes,
    }
    for name, value in expected.items():
        got = getattr(tot, name)
        if got != value:
            bad(_V.COST_MISMATCH, "totals", f"{name} reported {got}, recomputed {value}")
    _check_tiers(problem, assignment, objective, bad)
    reported: dict[str, int] = defaultdict(int)
    entries: Counter[str] = Counter()
    for load in assignment.loads:
        if load.volunteer_id not in vols:
            bad(_V.UNKNOWN_ID, load.volunteer_id, "load for an unknown volunteer")
        reported[load.volunteer_id] += load.tasks
        entries[load.volunteer_id] += 1
    for vid in sorted(vols):
        if entries[vid] != 1:
            bad(
                _V.COST_MISMATCH,
                vid,
                f"listed {entries[vid]} times in loads (every volunteer exactly once)",
            )
        elif reported[vid] != loads[vid]:
            bad(
                _V.COST_MISMATCH,
                vid,
                f"load reported {reported[vid]}, recomputed {loads[vid]}",
            )
    for name, ids in (
        ("matches", [m.task_id for m in assignment.matches]),
        ("unmatched", [u.task_id for u in assignment.unmatched]),
        ("loads", [ld.volunteer_id for ld in assignment.loads]),
    ):
        if ids != sorted(ids):
            bad(_V.RECORD_MISMATCH, name, f"{name} are not sorted by id")

    # ---- reasons of unmatched tasks
    unmatched = [(u, tasks[u.task_id]) for u in assignment.unmatched if u.task_id in tasks]
    stable = assignment.info.options.get(
        "objective"
    ) == "stable" and assignment.info.status not in (SolveStatus.CANCELLED, SolveStatus.LIMIT)
    if unmatched:
        check_unmatched(problem, assignment, finder, unmatched, bad, (facts.t, facts.v))

    # ---- stability
    if stable:
        for bp in _blocking(problem, assignment, finder, None):
            bad(
                _V.BLOCKING_PAIR,
                bp.task_id,
                f"task and volunteer {bp.volunteer_id} both prefer each other"
                + (
                    f" (volunteer would drop {bp.displaced_task_id})"
                    if bp.displaced_task_id
                    else " (volunteer has room)"
                ),
            )

    report.objective = objective
    return report


class _LoadTables(NamedTuple):
    """The matches' counts per (volunteer, slot) and (volunteer, day), and their minutes."""

    slot_key: Any  # distinct volunteer * n_slots + slot of the matches (numpy, sorted)
    slot_n: Any  # matches in each
    slot_min: Any  # task minutes in each
    day_key: Any  # distinct volunteer * n_days + day of the matches (numpy, sorted)
    day_n: Any
    day_min: Any
    per_match: tuple[list[int], list[int], list[int]]  # slot load, day load, day minutes


def _load_tables(finder: _PairFinder, mt: Any, mv: Any) -> _LoadTables:
    """Count the matches (task index ``mt``, volunteer index ``mv`` of ``finder``) per
    (volunteer, slot) and (volunteer, day) with numpy: O(M log M)."""
    np = finder.np
    n_s = max(len(finder.slot_rep), 1)
    n_d = max(len(finder.days), 1)
    mt = np.asarray(mt, dtype=np.int64)
    mv = np.asarray(mv, dtype=np.int64)
    dur = np.array([finder.tasks[i].duration_min or 0 for i in mt.tolist()], dtype=np.int64)
    out: list[Any] = []
    per_match: list[list[int]] = []
    for key in (mv * n_s + finder.t_slot[mt], mv * n_d + finder.t_day[mt]):
        uniq, inv, count = np.unique(key, return_inverse=True, return_counts=True)
        inv = inv.reshape(-1)
        minutes = np.zeros(len(uniq), dtype=np.int64)
        np.add.at(minutes, inv, dur)
        out += [uniq, count, minutes]
        per_match.append(count[inv].tolist())
        if len(per_match) == 2:
            per_match.append(minutes[inv].tolist())
    return _LoadTables(
        out[0], out[1], out[2], out[3], out[4], out[5], (per_match[0], per_match[1], per_match[2])
    )


def _check_loads(finder: _PairFinder, tables: _LoadTables, bad: Any) -> None:
    """Slot capacity and time (two places at once), day capacity and minute budgets."""
    np = finder.np
    vols = finder.vols
    n_s = max(len(finder.slot_rep), 1)
    n_d = max(len(finder.days), 1)
    cap_slot = np.array([v.capacity_per_slot for v in vols], dtype=np.int64)
    cap_day = np.array([v.capacity_per_day for v in vols], dtype=np.int64)
    budgeted = np.array([v.minutes_per_day is not None for v in vols], dtype=bool)
    # only a count above 1 or above the capacity can break a slot rule
    sv, ss = tables.slot_key // n_s, tables.slot_key % n_s
    flagged = np.nonzero((tables.slot_n > 1) | (tables.slot_n > cap_slot[sv]))[0].tolist()
    rows = []
    for i in flagged:
        rep = finder.slot_rep[int(ss[i])].window
        rows.append((vols[int(sv[i])].id, rep.start, rep.end, i))
    for vid, start, end, i in sorted(rows):
        n = int(tables.slot_n[i])
        cap = int(cap_slot[sv[i]])
        if n > cap:
            bad(
                _V.DOUBLE_BOOKED,
                vid,
                f"{n} tasks in slot [{start.isoformat()}, {end.isoformat()}), capacity {cap}",
            )
        length = (end - start).total_seconds() / 60.0
        used = int(tables.slot_min[i])
        if n >= 2 and used > length:
            bad(
                _V.DOUBLE_BOOKED,
                vid,
                f"{n} tasks of {used} min in all in the "
                f"{length:g}-minute slot [{start.isoformat()}, {end.isoformat()}): "
                "in two places at once",
            )
    dv, dd = tables.day_key // n_d, tables.day_key % n_d
    flagged = np.nonzero((tables.day_n > cap_day[dv]) | budgeted[dv])[0].tolist()
    days = sorted((vols[int(dv[i])].id, finder.days[int(dd[i])], i) for i in flagged)
    for vid, d, i in days:
        n = int(tables.day_n[i])
        vol = vols[int(dv[i])]
        cap = vol.capacity_per_day
        if n > cap:
            bad(_V.OVER_DAY_CAPACITY, vid, f"{n} tasks on {d}, capacity {cap}")
        budget = vol.minutes_per_day
        used = int(tables.day_min[i])
        if budget is not None and used > budget:
            bad(
                _V.OVER_MINUTES,
                vid,
                f"{used} task minutes on {d}, budget {budget}",
            )


def _check_tiers(
    problem: MatchingProblem,
    assignment: Assignment,
    objective: MatchingObjective,
    bad: Any,
) -> None:
    tiers = assignment.info.objective
    want: dict[str, int] = {"priority_served": objective.priority_served}
    if problem.previous:
        want["changes"] = objective.changes
    if "load_squares" in tiers or assignment.info.options.get("objective") == "fair":
        want["load_squares"] = objective.load_squares
    want["cost_m"] = objective.cost_m
    want["travel_m"] = objective.travel_m
    want["scope_penalty_m"] = objective.scope_penalty_m
    for name in sorted(set(tiers) - set(want)):
        bad(
            _V.COST_MISMATCH,
            "info",
            f"objective tier {name!r} does not belong to this problem and objective",
        )
    for name, value in want.items():
        got = tiers.get(name)
        if not _num_eq(got, value):
            bad(_V.COST_MISMATCH, "info", f"objective {name} reported {got}, recomputed {value}")
    order = [k for k in tiers if k in _TIER_ORDER]
    if order != sorted(order, key=_TIER_ORDER.index):
        bad(
            _V.COST_MISMATCH,
            "info",
            f"objective tiers {order} not in the order {list(_TIER_ORDER)}",
        )
