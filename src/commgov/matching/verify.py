"""Independent verifier for volunteer ↔ task assignments, and the stability check.

:func:`is_valid_assignment` checks an :class:`~commgov.matching.Assignment` against its
:class:`~commgov.matching.MatchingProblem` from the records alone. It imports no solver code
(neither the flow model, the shared pair list of the solvers, nor OR-Tools): it shares with the
solvers only the public predicates of :mod:`commgov.matching.problem` (:func:`has_skill`,
:func:`scope_level`, :func:`travel_distance_m`, :func:`is_available`, :func:`task_day`,
:func:`pair_cost_m`). Property tests use it as the oracle, and a mutation suite shows it rejects
each kind of broken result.

:func:`blocking_pairs` and :func:`is_stable` check weak stability (Gale & Shapley 1962; weak
stability under ties: Irving 1994) of an assignment under the ``stable`` objective's
preferences.

Speed. The reason checks need, for each unmatched task, the volunteers that are skilled, in
scope and within reach. They are found once for all such tasks by :class:`_PairFinder`: per
skill, volunteers sorted by latitude, a conservative latitude band (great-circle distance is
at least ``R·|Δφ|``), and vectorised haversine distances rounded as
:func:`travel_distance_m` rounds them, recomputed with :func:`travel_distance_m` itself
wherever a last-bit difference between numpy's and libm's functions could change the rounded
metre. Availability and scope come from the public predicates themselves.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, NamedTuple

from commgov.errors import expect_type
from commgov.matching.problem import (
    SCOPE_ORDER,
    Assignment,
    MatchingProblem,
    Task,
    Volunteer,
    has_skill,
    is_available,
    pair_cost_m,
    scope_level,
    task_day,
    travel_distance_m,
)
from commgov.results import REASONS, Reason, ReasonCode, SolveStatus
from commgov.types import EARTH_RADIUS_M

__all__ = [
    "BlockingPair",
    "MatchingObjective",
    "VerificationReport",
    "Violation",
    "ViolationCode",
    "blocking_pairs",
    "is_stable",
    "is_valid_assignment",
]


class ViolationCode(StrEnum):
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
    """A volunteer has more tasks in one slot than ``capacity_per_slot``."""
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


@dataclass(frozen=True, slots=True)
class Violation:
    """One fault found in an assignment.

    Attributes
    ----------
    code : ViolationCode
        The kind of fault.
    record : str
        The task or volunteer id at fault (``"totals"``, ``"info"`` for aggregates).
    detail : str
        What is wrong, in words.
    """

    code: ViolationCode
    record: str
    detail: str


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


class BlockingPair(NamedTuple):
    """A (task, volunteer) pair that blocks an assignment (:func:`blocking_pairs`).

    Attributes
    ----------
    task_id, volunteer_id : str
        The pair, not matched together, that would both rather be.
    displaced_task_id : str or None
        The task the volunteer would drop to make room (its least preferred one in the binding
        slot or day), or ``None`` when the volunteer has room.
    """

    task_id: str
    volunteer_id: str
    displaced_task_id: str | None


@dataclass(frozen=True, slots=True)
class VerificationReport:
    """Outcome of :func:`is_valid_assignment`; truthy exactly when no violation was found.

    Attributes
    ----------
    violations : list of Violation
        Every fault found, in a deterministic order.
    objective : MatchingObjective
        The objective tiers recomputed from the assignment's matches.
    """

    violations: list[Violation] = field(default_factory=list)
    objective: MatchingObjective = field(default_factory=lambda: MatchingObjective(0))

    @property
    def ok(self) -> bool:
        """Whether the assignment passed every check."""
        return not self.violations

    @property
    def codes(self) -> set[ViolationCode]:
        """The distinct violation codes found."""
        return {v.code for v in self.violations}

    def __bool__(self) -> bool:
        return self.ok


def _num_eq(a: object, b: float) -> bool:
    return isinstance(a, int | float) and not isinstance(a, bool) and float(a) == float(b)


def _int_eq(a: object, b: int) -> bool:
    return isinstance(a, int) and not isinstance(a, bool) and a == b


# ------------------------------------------------------------------------------ pair finder

#: Order of the objective tiers in ``SolveInfo.objective`` (those present).
_TIER_ORDER = (
    "priority_served",
    "changes",
    "load_squares",
    "cost_m",
    "travel_m",
    "scope_penalty_m",
)

_NO_SCOPE = -1
_RANK = {level: i for i, level in enumerate(SCOPE_ORDER)}


def _rank(task: Task, vol: Volunteer) -> int:
    """Rank of :func:`scope_level` in :data:`SCOPE_ORDER`, ``-1`` when out of scope."""
    level = scope_level(task, vol)
    return _NO_SCOPE if level is None else _RANK[level]


class _Pairs(NamedTuple):
    """Pairs found by :class:`_PairFinder`, sorted by task index then volunteer index."""

    t: Any  # task index (into the id-sorted task list)
    v: Any  # volunteer index (into the id-sorted volunteer list)
    d: Any  # exact travel_distance_m
    rank: Any  # scope rank
    avail: Any  # is_available


class _PairFinder:
    """Skilled, in-scope volunteers within reach of tasks, found in bulk and exactly.

    A pair (task, volunteer) is *in reach* when :func:`has_skill`, :func:`scope_level` is not
    ``None`` and :func:`travel_distance_m` ≤ ``max_distance_m``; it is *eligible* when, in
    addition, :func:`is_available`. :meth:`pairs` returns every in-reach pair of the given
    tasks with its exact distance, scope rank and availability:

    * skill: a volunteer's level is read from its ``skills`` dict and compared with
      ``min_level`` as :func:`has_skill` does (volunteers without the skill are not listed);
    * distance: candidates lie in a latitude band of half-width ``(limit + 2 m)/(R·detour)``
      around the task (the great-circle distance is at least ``R·|Δφ|``, so nothing outside
      can be within the limit); their haversine distance is computed with numpy by the formula
      of :func:`commgov.types.haversine_m` and rounded half up as :func:`travel_distance_m`
      does; wherever the unrounded value lies within 1e-6 m (plus 1e-12 relative) of a
      rounding boundary, where numpy's and libm's last bits could round differently, the
      distance is recomputed with :func:`travel_distance_m` — so every distance is exact;
    * availability: :func:`is_available` itself, once per (volunteer, slot) — it depends on the
      task only through its window;
    * scope: :func:`scope_level` itself, per pair, or once per volunteer for a set of tasks
      sharing the same ``(building_id, compound_id, community_id)`` (the only task fields it
      reads) when that is cheaper.
    """

    def __init__(self, problem: MatchingProblem) -> None:
        import numpy as np

        self.np = np
        self.problem = problem
        self.tasks = sorted(problem.tasks, key=lambda t: t.id)
        self.vols = sorted(problem.volunteers, key=lambda v: v.id)
        self.t_index = {t.id: i for i, t in enumerate(self.tasks)}
        self.v_index = {v.id: i for i, v in enumerate(self.vols)}
        self.limit = problem.max_distance_m
        self.detour = problem.detour_factor
        slot_ix: dict[tuple[datetime, datetime], int] = {}
        rep: list[Task] = []
        t_slot = []
        for t in self.tasks:
            key = (t.window.start, t.window.end)
            if key not in slot_ix:
                slot_ix[key] = len(rep)
                rep.append(t)
            t_slot.append(slot_ix[key])
        self.slot_rep = rep
        self.t_slot = np.array(t_slot, dtype=np.int64)
        day_ix: dict[date, int] = {}
        slot_day = []
        for t in rep:
            slot_day.append(day_ix.setdefault(task_day(problem, t), len(day_ix)))
        self.days = list(day_ix)
        self.slot_day = np.array(slot_day, dtype=np.int64)
        self.t_day = self.slot_day[self.t_slot] if len(t_slot) else np.zeros(0, np.int64)
        self.t_lat = np.array([t.location.lat for t in self.tasks], dtype=np.float64)
        self.t_lon = np.array([t.location.lon for t in self.tasks], dtype=np.float64)
        self.t_lvl = np.array([t.min_level for t in self.tasks], dtype=np.int64)
        self._avail: Any = None
        by_skill: dict[str, list[tuple[float, int, int]]] = defaultdict(list)
        for vi, vol in enumerate(self.vols):
            for skill, level in vol.skills.items():
                by_skill[skill].append((vol.location.lat, vi, level))
        self.skill_arrays: dict[str, tuple[Any, Any, Any, Any, Any, Any]] = {}
        for skill, rows in by_skill.items():
            rows.sort()
            self.skill_arrays[skill] = (
                np.array([r[0] for r in rows], dtype=np.float64),  # latitude, degrees
                np.array([r[1] for r in rows], dtype=np.int64),  # volunteer index
                np.array([r[2] for r in rows], dtype=np.int64),  # level
                np.radians([r[0] for r in rows]),
                np.radians([self.vols[r[1]].location.lon for r in rows]),
                np.array([self.vols[r[1]].location.lon for r in rows], dtype=np.float64),
            )
        self._scope_masks: dict[tuple[str | None, str | None, str | None], Any] = {}
        self._key_uses: Counter[tuple[str | None, str | None, str | None]] = Counter()
        key_code: dict[tuple[str | None, str | None, str | None], int] = {}
        self.t_key = np.array(
            [
                key_code.setdefault((t.building_id, t.compound_id, t.community_id), len(key_code))
                for t in self.tasks
            ],
            dtype=np.int64,
        )

    @property
    def avail(self) -> Any:
        """Boolean (volunteer, slot): :func:`is_available` of the slot's window."""
        if self._avail is None:
            np = self.np
            out = np.zeros((len(self.vols), len(self.slot_rep)), dtype=bool)
            for vi, vol in enumerate(self.vols):
                for si, rep in enumerate(self.slot_rep):
                    out[vi, si] = is_available(rep, vol)
            self._avail = out
        return self._avail

    def _ranks_for_key(self, task: Task) -> Any:
        key = (task.building_id, task.compound_id, task.community_id)
        ranks = self._scope_masks.get(key)
        if ranks is None:
            ranks = self.np.array([_rank(task, v) for v in self.vols], dtype=self.np.int64)
            self._scope_masks[key] = ranks
        return ranks

    def _distances(self, tt: Any, vv: Any, p1: Any, l1: Any, p2: Any, l2: Any) -> Any:
        """Exact :func:`travel_distance_m` of pairs, vectorised with exact recheck."""
        np = self.np
        h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2) ** 2
        x = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h))) * self.detour + 0.5
        d = np.floor(x)
        frac = x - d
        unsure = np.nonzero((np.minimum(frac, 1.0 - frac) <= 1e-6 + 1e-12 * x) | ~np.isfinite(x))
        out = d.astype(np.int64)
        for k in unsure[0].tolist():
            out[k] = travel_distance_m(self.tasks[int(tt[k])], self.vols[int(vv[k])], self.detour)
        return out

    def pairs(self, task_indices: list[int], *, available_only: bool = False) -> _Pairs:
        """Every in-reach pair of the given tasks (only the available ones if asked).

        Tasks of a skill are cut into blocks of nearby tasks (latitude strips, then longitude).
        A block's candidates are the skilled volunteers in its latitude band and its longitude
        band; the longitude half-width ``L`` is the least ``|Δλ|`` at which
        ``hav(θ) ≥ cos φ₁ cos φ₂ hav(Δλ) ≥ cos²φ_max · hav(Δλ)`` already puts the great-circle
        distance beyond ``(limit + 2 m)/detour``: ``L = 2·asin(sin((limit + 2)/(2R·detour)) /
        cos φ_max)``, with ``φ_max`` the largest latitude magnitude in the band. The longitude
        band is skipped (all volunteers of the latitude band kept) near the poles or when it
        would cross the ±180° meridian.
        """
        np = self.np
        lim = self.limit
        tasks = self.tasks
        reach_rad = (lim + 2.0) / (EARTH_RADIUS_M * self.detour)
        half = math.degrees(reach_rad)
        by_skill: dict[str, list[int]] = defaultdict(list)
        for ti in sorted(set(task_indices)):
            by_skill[tasks[ti].skill].append(ti)
        avail = self.avail
        t_slot = self.t_slot
        outs: list[tuple[Any, Any, Any]] = []
        for skill in sorted(by_skill):
            if skill not in self.skill_arrays:
                continue
            v_lat, v_idx, v_level, v_plat, v_plon, v_lon = self.skill_arrays[skill]
            tis = np.array(by_skill[skill], dtype=np.int64)
            strip = np.floor(self.t_lat[tis] / half)
            tis = tis[np.lexsort((tis, self.t_lon[tis], strip))]
            t_lat, t_lon, t_lvl = self.t_lat[tis], self.t_lon[tis], self.t_lvl[tis]
            block = 128
            for b0 in range(0, len(tis), block):
                sl = slice(b0, b0 + block)
                lat_lo, lat_hi = float(t_lat[sl].min()) - half, float(t_lat[sl].max()) + half
                lo = int(np.searchsorted(v_lat, lat_lo, side="left"))
                hi = int(np.searchsorted(v_lat, lat_hi, side="right"))
                if lo >= hi:
                    continue
                cand = np.arange(lo, hi, dtype=np.int64)
                phi_max = max(abs(lat_lo), abs(lat_hi))
                if phi_max < 89.0:
                    arg = math.sin(reach_rad / 2) / math.cos(math.radians(phi_max))
                    if arg < 1.0:
                        lon_half = math.degrees(2 * math.asin(arg))
                        lon_lo = float(t_lon[sl].min()) - lon_half
                        lon_hi = float(t_lon[sl].max()) + lon_half
                        if lon_half < 180.0 and lon_lo >= -180.0 and lon_hi <= 180.0:
                            cand = cand[(v_lon[cand] >= lon_lo) & (v_lon[cand] <= lon_hi)]
                if len(cand) == 0:
                    continue
                ok = v_level[cand][None, :] >= t_lvl[sl][:, None]
                if available_only:
                    ok &= avail[v_idx[cand]][:, t_slot[tis[sl]]].T
                r, c = np.nonzero(ok)
                if len(r) == 0:
                    continue
                r = r + b0
                c = cand[c]
                tt, vv = tis[r], v_idx[c]
                d = self._distances(
                    tt, vv, np.radians(t_lat[r]), np.radians(t_lon[r]), v_plat[c], v_plon[c]
                )
                keep = d <= lim
                outs.append((tt[keep], vv[keep], d[keep]))
        if not outs:
            z = np.zeros(0, dtype=np.int64)
            return _Pairs(z, z, z, z, np.zeros(0, dtype=bool))
        pt = np.concatenate([o[0] for o in outs])
        pv = np.concatenate([o[1] for o in outs])
        pd = np.concatenate([o[2] for o in outs])
        order = np.argsort(pt * max(len(self.vols), 1) + pv)  # (task, volunteer), no ties
        pt, pv, pd = pt[order], pv[order], pd[order]
        rank = self._scope_ranks(pt, pv)
        keep = rank != _NO_SCOPE
        pt, pv, pd, rank = pt[keep], pv[keep], pd[keep], rank[keep]
        avail = self.avail[pv, self.t_slot[pt]] if len(pt) else np.zeros(0, dtype=bool)
        return _Pairs(pt, pv, pd, rank, avail)

    def _scope_ranks(self, pt: Any, pv: Any) -> Any:
        """Scope rank of each pair: per pair, or from one per-volunteer array per task key."""
        np = self.np
        tasks, vols = self.tasks, self.vols
        out = np.empty(len(pt), dtype=np.int64)
        codes = self.t_key[pt]
        if len(codes) and codes.min() == codes.max():
            order = np.arange(len(codes))
            bounds = [0, len(codes)]
        else:
            order = np.argsort(codes, kind="stable")
            _, first = np.unique(codes[order], return_index=True)
            bounds = [*first.tolist(), len(order)]
        for j in range(len(bounds) - 1):
            ks = order[bounds[j] : bounds[j + 1]]
            task0 = tasks[int(pt[ks[0]])]
            if len(ks) > len(vols) // 2:
                out[ks] = self._ranks_for_key(task0)[pv[ks]]
            else:
                out[ks] = [_rank(tasks[int(pt[k])], vols[int(pv[k])]) for k in ks.tolist()]
        return out

    def skilled(self, task: Task) -> tuple[Any, Any]:
        """Volunteer indexes with the skill at the level, and their scope ranks (id order)."""
        np = self.np
        arrays = self.skill_arrays.get(task.skill)
        if arrays is None:
            z = np.zeros(0, dtype=np.int64)
            return z, z
        idx = np.sort(arrays[1][arrays[2] >= task.min_level])
        key = (task.building_id, task.compound_id, task.community_id)
        self._key_uses[key] += 1
        if len(idx) > len(self.vols) // 2 or self._key_uses[key] > 2:
            ranks = self._ranks_for_key(task)[idx]
        else:
            ranks = np.array([_rank(task, self.vols[int(i)]) for i in idx], dtype=np.int64)
        return idx, ranks

    def nearest_m(self, task: Task, candidates: Any) -> int:
        """Exact least :func:`travel_distance_m` from ``task`` to the candidate volunteers.

        Approximate distances pick every candidate within 2 m of the approximate minimum
        (numpy's and libm's values differ by far less), then the exact function decides.
        """
        np = self.np
        vols = self.vols
        p1, l1 = math.radians(task.location.lat), math.radians(task.location.lon)
        p2 = np.radians([vols[int(i)].location.lat for i in candidates])
        l2 = np.radians([vols[int(i)].location.lon for i in candidates])
        h = np.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2) ** 2
        approx = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h))) * self.detour
        close = candidates[approx <= approx.min() + 2.0]
        return min(travel_distance_m(task, vols[int(i)], self.detour) for i in close)


# ------------------------------------------------------------------------------ verifier


def is_valid_assignment(problem: MatchingProblem, assignment: Assignment) -> VerificationReport:
    """Check an assignment against its problem, independently of the solvers.

    Hard rules:

    * every task appears exactly once (matched or unmatched) and every id exists;
    * each match is eligible — skill and level (:func:`has_skill`), in scope
      (:func:`scope_level` not ``None``), travel ≤ ``max_distance_m`` metres
      (:func:`travel_distance_m`), window inside an availability window (:func:`is_available`);
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
    * ``CAPACITY_USED(eligible)``: there are ``eligible`` ≥ 1 eligible volunteers and each is,
      in this assignment, full in the task's slot or on its day, or (when budgeted) has fewer
      minutes left that day than the task takes;
    * ``TIME_LIMIT_REACHED(time_limit_s)``: allowed only when ``info.status`` is ``LIMIT`` or
      ``FEASIBLE``, with ``time_limit_s`` > 0 (equal to ``info.options["time_limit_s"]`` when
      recorded).

    When ``info.options["objective"] == "stable"``, every blocking pair
    (:func:`blocking_pairs`) is a violation too.

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
    """
    expect_type(problem, MatchingProblem, "problem")
    expect_type(assignment, Assignment, "assignment")
    out: list[Violation] = []

    def bad(code: ViolationCode, record: str, detail: str) -> None:
        out.append(Violation(code, record, detail))

    tasks = {t.id: t for t in problem.tasks}
    vols = {v.id: v for v in problem.volunteers}
    limit = problem.max_distance_m
    detour = problem.detour_factor
    pinned = {p.task_id: p.volunteer_id for p in problem.pinned}

    # ---- coverage: each task exactly once
    seen: Counter[str] = Counter()
    for m in assignment.matches:
        seen[m.task_id] += 1
    for u in assignment.unmatched:
        seen[u.task_id] += 1
    for tid in sorted(seen):
        if tid not in tasks:
            bad(ViolationCode.UNKNOWN_ID, tid, "task id not in the problem")
        elif seen[tid] > 1:
            bad(ViolationCode.DUPLICATE_TASK, tid, f"task listed {seen[tid]} times")
    for tid in sorted(tasks):
        if tid not in seen:
            bad(ViolationCode.DROPPED_TASK, tid, "task neither matched nor listed as unmatched")

    # ---- each match: eligibility, records, loads
    day_of: dict[tuple[datetime, datetime], date] = {}

    def day(task: Task) -> date:
        key = (task.window.start, task.window.end)
        if key not in day_of:
            day_of[key] = task_day(problem, task)
        return day_of[key]

    per_slot: Counter[tuple[str, datetime, datetime]] = Counter()
    per_day: Counter[tuple[str, date]] = Counter()
    minutes: Counter[tuple[str, date]] = Counter()
    loads: Counter[str] = Counter()
    valid: list[tuple[Any, Task, Volunteer, Any, int]] = []
    travel = cost = served = 0
    served_by: dict[str, str] = {}
    for m in assignment.matches:
        task = tasks.get(m.task_id)
        vol = vols.get(m.volunteer_id)
        if vol is None:
            bad(ViolationCode.UNKNOWN_ID, m.volunteer_id, f"volunteer of task {m.task_id} unknown")
        if task is None or vol is None:
            continue
        loads[vol.id] += 1
        served_by.setdefault(task.id, vol.id)
        served += task.priority
        if m.priority != task.priority:
            bad(
                ViolationCode.RECORD_MISMATCH,
                task.id,
                f"priority reported {m.priority}, task has {task.priority}",
            )
        # compare instants in UTC: PEP 495 makes a repeated-hour time unequal across zones
        if m.slot_start.astimezone(UTC) != task.window.start:
            bad(
                ViolationCode.RECORD_MISMATCH,
                task.id,
                f"slot_start reported {m.slot_start.isoformat()}, task window starts "
                f"{task.window.start.isoformat()}",
            )
        if not has_skill(task, vol):
            bad(
                ViolationCode.SKILL_MISSING,
                task.id,
                f"volunteer {vol.id} has {task.skill} level {vol.skills.get(task.skill, 0)}, "
                f"task needs {task.min_level}",
            )
        level = scope_level(task, vol)
        dist = travel_distance_m(task, vol, detour)
        valid.append((m, task, vol, level, dist))
        travel += dist
        if level is None:
            bad(
                ViolationCode.OUT_OF_SCOPE,
                task.id,
                f"volunteer {vol.id} (community {vol.community_id}) is out of scope for a task "
                f"of community {task.community_id}",
            )
            pair_cost = dist  # no penalty defined; the violation above already fails the result
        else:
            pair_cost = pair_cost_m(problem, task, vol)
            if m.scope != level:
                bad(
                    ViolationCode.RECORD_MISMATCH,
                    task.id,
                    f"scope reported {m.scope}, recomputed {level.value}",
                )
        cost += pair_cost
        if m.cost_m != pair_cost:
            bad(ViolationCode.COST_MISMATCH, task.id,
                f"cost_m reported {m.cost_m}, recomputed {pair_cost}")
        if dist > limit:
            bad(ViolationCode.TOO_FAR, task.id, f"volunteer {vol.id} is {dist} m away > {limit} m")
        if not is_available(task, vol):
            bad(
                ViolationCode.OUT_OF_WINDOW,
                task.id,
                f"volunteer {vol.id} is not available for the whole task window",
            )
        if m.distance_m != dist:
            bad(
                ViolationCode.COST_MISMATCH,
                task.id,
                f"distance_m reported {m.distance_m}, recomputed {dist}",
            )
        if m.pinned and pinned.get(task.id) != vol.id:
            bad(ViolationCode.PIN_BROKEN, task.id, f"match with {vol.id} claims a pin it has not")
        per_slot[(vol.id, task.window.start, task.window.end)] += 1
        per_day[(vol.id, day(task))] += 1
        minutes[(vol.id, day(task))] += task.duration_min or 0

    for tid, vid in sorted(pinned.items()):
        if tid not in tasks:
            continue
        got = served_by.get(tid)
        if got != vid:
            bad(
                ViolationCode.PIN_BROKEN,
                tid,
                f"pinned to {vid} but " + (f"matched to {got}" if got else "not matched"),
            )
    for m, task, vol, _, _ in valid:
        if pinned.get(task.id) == vol.id and not m.pinned:
            bad(ViolationCode.PIN_BROKEN, task.id, f"pinned pair with {vol.id} not flagged pinned")

    for (vid, start, end), n in sorted(per_slot.items()):
        cap = vols[vid].capacity_per_slot
        if n > cap:
            bad(
                ViolationCode.DOUBLE_BOOKED,
                vid,
                f"{n} tasks in slot [{start.isoformat()}, {end.isoformat()}), capacity {cap}",
            )
    for (vid, d), n in sorted(per_day.items()):
        cap = vols[vid].capacity_per_day
        if n > cap:
            bad(ViolationCode.OVER_DAY_CAPACITY, vid, f"{n} tasks on {d}, capacity {cap}")
        budget = vols[vid].minutes_per_day
        if budget is not None and minutes[(vid, d)] > budget:
            bad(
                ViolationCode.OVER_MINUTES,
                vid,
                f"{minutes[(vid, d)]} task minutes on {d}, budget {budget}",
            )

    # ---- MATCHED / PINNED reasons on matches
    for m, task, vol, level, dist in valid:
        _check_match_reasons(
            problem, m, task, vol, level, dist, pinned, per_slot, per_day, minutes, day(task), bad
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
            bad(ViolationCode.COST_MISMATCH, "totals", f"{name} reported {got}, recomputed {value}")
    _check_tiers(problem, assignment, objective, bad)
    reported: dict[str, int] = defaultdict(int)
    entries: Counter[str] = Counter()
    for load in assignment.loads:
        if load.volunteer_id not in vols:
            bad(ViolationCode.UNKNOWN_ID, load.volunteer_id, "load for an unknown volunteer")
        reported[load.volunteer_id] += load.tasks
        entries[load.volunteer_id] += 1
    for vid in sorted(vols):
        if entries[vid] != 1:
            bad(
                ViolationCode.COST_MISMATCH,
                vid,
                f"listed {entries[vid]} times in loads (every volunteer exactly once)",
            )
        elif reported[vid] != loads[vid]:
            bad(
                ViolationCode.COST_MISMATCH,
                vid,
                f"load reported {reported[vid]}, recomputed {loads[vid]}",
            )
    for name, ids in (
        ("matches", [m.task_id for m in assignment.matches]),
        ("unmatched", [u.task_id for u in assignment.unmatched]),
        ("loads", [ld.volunteer_id for ld in assignment.loads]),
    ):
        if ids != sorted(ids):
            bad(ViolationCode.RECORD_MISMATCH, name, f"{name} are not sorted by id")

    # ---- reasons of unmatched tasks
    unmatched = [(u, tasks[u.task_id]) for u in assignment.unmatched if u.task_id in tasks]
    finder: _PairFinder | None = None
    if unmatched or assignment.info.options.get("objective") == "stable":
        finder = _PairFinder(problem)
    if unmatched and finder is not None:
        _check_unmatched(problem, assignment, finder, unmatched, per_slot, per_day, minutes, bad)

    # ---- stability
    if assignment.info.options.get("objective") == "stable" and finder is not None:
        for bp in _blocking(problem, assignment, finder, None):
            bad(
                ViolationCode.BLOCKING_PAIR,
                bp.task_id,
                f"task and volunteer {bp.volunteer_id} both prefer each other"
                + (f" (volunteer would drop {bp.displaced_task_id})"
                   if bp.displaced_task_id else " (volunteer has room)"),
            )

    return VerificationReport(violations=out, objective=objective)


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


def _check_match_reasons(
    problem: MatchingProblem,
    m: Any,
    task: Task,
    vol: Volunteer,
    level: Any,
    dist: int,
    pinned: dict[str, str],
    per_slot: Counter[tuple[str, datetime, datetime]],
    per_day: Counter[tuple[str, date]],
    minutes: Counter[tuple[str, date]],
    d: date,
    bad: Any,
) -> None:
    codes = [r.code for r in m.reasons]
    is_pin = pinned.get(task.id) == vol.id
    if codes.count(ReasonCode.MATCHED) != 1:
        bad(ViolationCode.REASON_FALSE, task.id,
            f"a match needs exactly one MATCHED reason, has {codes.count(ReasonCode.MATCHED)}")
    if (ReasonCode.PINNED in codes) != is_pin or codes.count(ReasonCode.PINNED) > 1:
        bad(ViolationCode.REASON_FALSE, task.id,
            "PINNED reason " + ("missing on a pinned pair" if is_pin else "on an unpinned pair"))
    for r in m.reasons:
        if r.code not in (ReasonCode.MATCHED, ReasonCode.PINNED):
            bad(ViolationCode.REASON_FALSE, task.id, f"{r.code.value} is not a match reason")
            continue
        shape = _params_shape(r)
        if shape:
            bad(ViolationCode.REASON_FALSE, task.id, f"{r.code.value}: {shape}")
            continue
        if r.code is not ReasonCode.MATCHED:
            continue
        facts: dict[str, object] = {
            "skill": task.skill,
            "level": vol.skills.get(task.skill, 0),
            "min_level": task.min_level,
            "distance_m": dist,
            "slot_load": per_slot[(vol.id, task.window.start, task.window.end)],
            "slot_capacity": vol.capacity_per_slot,
            "day_load": per_day[(vol.id, d)],
            "day_capacity": vol.capacity_per_day,
            "scope": None if level is None else level.value,
        }
        if vol.minutes_per_day is not None:
            facts["minutes_used"] = minutes[(vol.id, d)]
            facts["minutes_budget"] = vol.minutes_per_day
        wrong = []
        for name, value in facts.items():
            got = r.params.get(name)
            same = got == value if isinstance(value, str) or value is None else (
                isinstance(value, int) and _int_eq(got, value))
            if not same:
                wrong.append(f"{name}={got!r} (recomputed {value!r})")
        if vol.minutes_per_day is None and "minutes_used" in r.params:
            wrong.append("minutes reported for a volunteer without a budget")
        if not _num_eq(r.params.get("limit_m"), problem.max_distance_m):
            wrong.append(f"limit_m={r.params.get('limit_m')!r} (max_distance_m "
                         f"{problem.max_distance_m})")
        if wrong:
            bad(ViolationCode.REASON_FALSE, task.id, "MATCHED: " + "; ".join(wrong))


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
        bad(ViolationCode.COST_MISMATCH, "info",
            f"objective tier {name!r} does not belong to this problem and objective")
    for name, value in want.items():
        got = tiers.get(name)
        if not _num_eq(got, value):
            bad(ViolationCode.COST_MISMATCH, "info",
                f"objective {name} reported {got}, recomputed {value}")
    order = [k for k in tiers if k in _TIER_ORDER]
    if order != sorted(order, key=_TIER_ORDER.index):
        bad(ViolationCode.COST_MISMATCH, "info",
            f"objective tiers {order} not in the order {list(_TIER_ORDER)}")


def _check_unmatched(
    problem: MatchingProblem,
    assignment: Assignment,
    finder: _PairFinder,
    unmatched: list[tuple[Any, Task]],
    per_slot: Counter[tuple[str, datetime, datetime]],
    per_day: Counter[tuple[str, date]],
    minutes: Counter[tuple[str, date]],
    bad: Any,
) -> None:
    import numpy as np

    vols = finder.vols
    t_index = finder.t_index
    n_tasks = len(finder.tasks)

    def needing(codes: frozenset[ReasonCode]) -> list[int]:
        return sorted(
            {t_index[task.id] for u, task in unmatched if any(r.code in codes for r in u.reasons)}
        )

    # in-reach pairs (skill, scope, distance) of tasks whose TOO_FAR / OUT_OF_WINDOW is checked
    near = finder.pairs(needing(frozenset({ReasonCode.TOO_FAR, ReasonCode.OUT_OF_WINDOW})))
    near_start = np.searchsorted(near.t, np.arange(n_tasks + 1), side="left")

    def reach(ti: int) -> tuple[Any, Any]:
        a, b = int(near_start[ti]), int(near_start[ti + 1])
        return near.v[a:b], near.avail[a:b]

    # eligible pairs of tasks whose CAPACITY_USED is checked, and whether each volunteer is
    # free for the task in this assignment (room in the slot, the day and the minute budget)
    elig = finder.pairs(needing(frozenset({ReasonCode.CAPACITY_USED})), available_only=True)
    n_vols = len(vols)
    slot_ix = {(t.window.start, t.window.end): i for i, t in enumerate(finder.slot_rep)}
    day_ix = {d: i for i, d in enumerate(finder.days)}
    slot_load = np.zeros((n_vols, max(len(slot_ix), 1)), dtype=np.int64)
    day_load = np.zeros((n_vols, max(len(day_ix), 1)), dtype=np.int64)
    used_min = np.zeros((n_vols, max(len(day_ix), 1)), dtype=np.int64)
    for (vid, start, end), n in per_slot.items():
        slot_load[finder.v_index[vid], slot_ix[(start, end)]] = n
    for (vid, d), n in per_day.items():
        day_load[finder.v_index[vid], day_ix[d]] = n
        used_min[finder.v_index[vid], day_ix[d]] = minutes[(vid, d)]
    cap_slot = np.array([v.capacity_per_slot for v in vols], dtype=np.int64)
    cap_day = np.array([v.capacity_per_day for v in vols], dtype=np.int64)
    budget = np.array(
        [-1 if v.minutes_per_day is None else v.minutes_per_day for v in vols], dtype=np.int64
    )
    dur = np.array([t.duration_min or 0 for t in finder.tasks], dtype=np.int64)
    et, ev = elig.t, elig.v
    es, ed = finder.t_slot[et], finder.t_day[et]
    free = (
        (slot_load[ev, es] < cap_slot[ev])
        & (day_load[ev, ed] < cap_day[ev])
        & ((budget[ev] < 0) | (used_min[ev, ed] + dur[et] <= budget[ev]))
    )
    elig_count = np.bincount(et, minlength=n_tasks)
    first_free = np.full(n_tasks, -1, dtype=np.int64)
    ft, first = np.unique(et[free], return_index=True)  # pairs are in (task, volunteer) order
    first_free[ft] = ev[free][first]

    status = assignment.info.status
    options = assignment.info.options
    for u, task in unmatched:
        if u.priority != task.priority:
            bad(ViolationCode.RECORD_MISMATCH, task.id,
                f"priority reported {u.priority}, task has {task.priority}")
        if len(u.reasons) != 1:
            bad(ViolationCode.REASON_FALSE, task.id,
                f"unmatched task with {len(u.reasons)} reasons (exactly one primary reason)")
        ti = t_index[task.id]
        for reason in u.reasons:
            shape = _params_shape(reason)
            if shape:
                bad(ViolationCode.REASON_FALSE, task.id, f"{reason.code.value}: {shape}")
                continue
            why = _reason_false(
                problem, finder, task, reason, reach, int(elig_count[ti]), int(first_free[ti]),
                status, options,
            )
            if why:
                bad(ViolationCode.REASON_FALSE, task.id, f"{reason.code.value}: {why}")


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
) -> str:
    """Why the reason's predicate fails for this unmatched task, or ``""`` if it holds.

    ``eligible`` is the number of eligible volunteers (counted only when the task has a
    ``CAPACITY_USED`` reason) and ``first_free`` the index of the first one with room for the
    task in this assignment (-1 if none).
    """
    params = reason.params
    code = reason.code
    limit = problem.max_distance_m
    vols = finder.vols
    if code is ReasonCode.TIME_LIMIT_REACHED:
        if status not in (SolveStatus.LIMIT, SolveStatus.FEASIBLE):
            return f"status is {status.value}, not LIMIT or FEASIBLE"
        t = params.get("time_limit_s")
        if not isinstance(t, int | float) or isinstance(t, bool) or not t > 0:
            return f"time_limit_s {t!r} is not a positive number"
        if "time_limit_s" in options and not _num_eq(t, options["time_limit_s"]):
            return f"time_limit_s {t} but the options say {options['time_limit_s']}"
        return ""
    if code is ReasonCode.SKILL_MISSING:
        if params.get("skill") != task.skill or params.get("level") != task.min_level:
            return f"params {params} do not name skill {task.skill!r} level {task.min_level}"
        skilled, _ = finder.skilled(task)
        if len(skilled):
            return f"volunteer {vols[int(skilled[0])].id} has the skill at that level"
        return ""
    if code is ReasonCode.OUT_OF_SCOPE:
        skilled, ranks = finder.skilled(task)
        if not len(skilled):
            return "no volunteer has the skill at that level"
        if not _int_eq(params.get("skilled"), len(skilled)):
            return f"skilled {params.get('skilled')} but {len(skilled)} volunteers are skilled"
        inside = skilled[ranks != _NO_SCOPE]
        if len(inside):
            return f"volunteer {vols[int(inside[0])].id} is skilled and in scope"
        return ""
    if code is ReasonCode.TOO_FAR:
        in_reach, _ = reach(finder.t_index[task.id])
        skilled, ranks = finder.skilled(task)
        inside = skilled[ranks != _NO_SCOPE]
        if not len(inside):
            return "no skilled volunteer in scope at all"
        if len(in_reach):
            v = vols[int(in_reach[0])]
            return (f"volunteer {v.id} is within {limit} m "
                    f"({travel_distance_m(task, v, problem.detour_factor)} m)")
        nearest = finder.nearest_m(task, inside)
        if not _int_eq(params.get("distance_m"), nearest):
            return f"distance_m {params.get('distance_m')} but the nearest is {nearest} m"
        if not _num_eq(params.get("limit_m"), limit):
            return f"limit_m {params.get('limit_m')} but max_distance_m is {limit}"
        return ""
    if code is ReasonCode.OUT_OF_WINDOW:
        in_reach, avail = reach(finder.t_index[task.id])
        if not len(in_reach):
            return "no skilled, in-scope volunteer within reach at all"
        if avail.any():
            return f"volunteer {vols[int(in_reach[avail][0])].id} is skilled, near and available"
        return ""
    if code is ReasonCode.CAPACITY_USED:
        if not eligible:
            return "no eligible volunteer at all"
        if not _int_eq(params.get("eligible"), eligible):
            return f"eligible {params.get('eligible')} but {eligible} volunteers are eligible"
        if first_free >= 0:
            return (f"eligible volunteer {vols[first_free].id} has room for the task in the slot "
                    "and the day" + (" and minutes left" if vols[first_free].minutes_per_day
                                     is not None else ""))
        return ""
    return f"{code.value} is not a volunteer-matching reason"


# ------------------------------------------------------------------------------ stability


def blocking_pairs(
    problem: MatchingProblem, assignment: Assignment, *, limit: int | None = None
) -> list[BlockingPair]:
    """Pairs that block an assignment under the ``stable`` objective's preferences.

    Preferences (``DESIGN.md``, "Matching", ``stable``): a task ranks eligible volunteers by
    (scope rank in :data:`~commgov.matching.SCOPE_ORDER`, travel metres); a volunteer ranks
    eligible tasks by (priority descending, travel metres). Ties are *not* broken: a pair
    blocks only under strict preference on both sides (weak stability; Gale & Shapley 1962,
    Irving 1994 for ties; capacities as in Roth 1984, here two nested counts per volunteer).

    An eligible pair (task ``t``, volunteer ``v``), not matched together, blocks when

    * ``t`` is unmatched or strictly prefers ``v`` to its current volunteer, and
    * ``v`` would take ``t``: ``v`` has room in ``t``'s slot and day; or the slot is full and
      ``v`` holds a task in that slot it strictly prefers less than ``t`` (dropping it frees
      both the slot and the day); or the slot has room, the day is full and ``v`` holds a task
      that day it strictly prefers less than ``t``.

    Pinned pairs never move: a pinned task does not block, and a volunteer cannot drop a
    pinned task. Minute budgets are not considered (``match_volunteers`` solves ``stable``
    without them). Eligibility is :func:`~commgov.matching.is_eligible`, found with the exact
    method of :func:`is_valid_assignment`; ids of the assignment not in the problem are
    ignored.

    Parameters
    ----------
    problem : MatchingProblem
        The problem.
    assignment : Assignment
        The assignment to check.
    limit : int, optional
        Stop after this many blocking pairs (≥ 1); all of them by default.

    Returns
    -------
    list of BlockingPair
        Sorted by (task id, volunteer id) — the first ``limit`` of that order.

    Raises
    ------
    TypeError
        If ``problem`` or ``assignment`` has the wrong type.
    ValueError
        If ``limit`` is not a whole number ≥ 1.
    """
    expect_type(problem, MatchingProblem, "problem")
    expect_type(assignment, Assignment, "assignment")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a whole number ≥ 1 or None, got {limit!r}")
    return _blocking(problem, assignment, _PairFinder(problem), limit)


def is_stable(problem: MatchingProblem, assignment: Assignment) -> bool:
    """Whether no pair blocks the assignment (weak stability, see :func:`blocking_pairs`).

    Parameters
    ----------
    problem : MatchingProblem
        The problem.
    assignment : Assignment
        The assignment to check.

    Returns
    -------
    bool
        ``True`` when :func:`blocking_pairs` finds none.

    Raises
    ------
    TypeError
        If ``problem`` or ``assignment`` has the wrong type.
    """
    return not blocking_pairs(problem, assignment, limit=1)


def _blocking(
    problem: MatchingProblem, assignment: Assignment, finder: _PairFinder, limit: int | None
) -> list[BlockingPair]:
    tasks, vols = finder.tasks, finder.vols
    t_index, v_index = finder.t_index, finder.v_index
    detour = problem.detour_factor
    pinned = {p.task_id: p.volunteer_id for p in problem.pinned}
    t_slot = finder.t_slot.tolist()
    t_day = finder.t_day.tolist()
    held: dict[int, int] = {}
    for m in assignment.matches:
        ti, vi = t_index.get(m.task_id), v_index.get(m.volunteer_id)
        if ti is not None and vi is not None:
            held.setdefault(ti, vi)
    slot_load: Counter[tuple[int, int]] = Counter()
    day_load: Counter[tuple[int, int]] = Counter()
    worst_slot: dict[tuple[int, int], tuple[int, int, str]] = {}
    worst_day: dict[tuple[int, int], tuple[int, int, str]] = {}
    current: dict[int, tuple[int, int]] = {}
    for ti, vi in held.items():
        task, vol = tasks[ti], vols[vi]
        dist = travel_distance_m(task, vol, detour)
        rank = _rank(task, vol)
        current[ti] = (len(SCOPE_ORDER) if rank == _NO_SCOPE else rank, dist)
        ks, kd = (vi, t_slot[ti]), (vi, t_day[ti])
        slot_load[ks] += 1
        day_load[kd] += 1
        if pinned.get(task.id) == vol.id:
            continue  # a pinned task cannot be dropped
        key = (-task.priority, dist, task.id)
        if ks not in worst_slot or key > worst_slot[ks]:
            worst_slot[ks] = key
        if kd not in worst_day or key > worst_day[kd]:
            worst_day[kd] = key
    pairs = finder.pairs(list(range(len(tasks))), available_only=True)
    eligible = pairs.avail
    found: list[BlockingPair] = []
    for ti, vi, dist, rank in zip(
        pairs.t[eligible].tolist(), pairs.v[eligible].tolist(),
        pairs.d[eligible].tolist(), pairs.rank[eligible].tolist(), strict=True
    ):
        task = tasks[ti]
        if task.id in pinned or held.get(ti) == vi:
            continue
        if ti in current and not (rank, dist) < current[ti]:
            continue
        vol = vols[vi]
        ks, kd = (vi, t_slot[ti]), (vi, t_day[ti])
        slot_full = slot_load[ks] >= vol.capacity_per_slot
        day_full = day_load[kd] >= vol.capacity_per_day
        displaced: str | None = None
        if slot_full or day_full:
            worst = worst_slot.get(ks) if slot_full else worst_day.get(kd)
            if worst is None or not (-task.priority, dist) < worst[:2]:
                continue
            displaced = worst[2]
        found.append(BlockingPair(task.id, vol.id, displaced))
        if limit is not None and len(found) >= limit:
            break
    return found
