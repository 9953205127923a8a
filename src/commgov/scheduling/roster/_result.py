"""The duty roster: result records, and building them from who works where (private).

:func:`build_roster` turns ``work[staff_id][t]`` (a post id or ``None``) into the roster
records, the figures and a reason for every (post, slot) left short; the solver calls it, and
the verifier recomputes everything independently.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime

from commgov._records import FrozenRecord
from commgov.results import PlanResult, Reason, SolveInfo, SolveStatus, library_versions
from commgov.scheduling.roster._problem import (
    SCHEMA_VERSION,
    Post,
    RosterProblem,
    available_slots,
    is_eligible,
)
from commgov.scheduling.roster._reasons import RosterReasonCode
from commgov.types import Id

__all__ = [
    "Roster",
    "RosterShift",
    "RosterTotals",
    "Shortfall",
    "StaffLoad",
    "TierResult",
    "build_roster",
    "shortfall_reason",
]


class RosterShift(FrozenRecord):
    """One shift: a person at one post over contiguous slots ``[start_slot, end_slot)``.

    Attributes
    ----------
    staff_id, post_id : str
    start_slot, end_slot : int
        Slot indices, end exclusive.
    start, end : datetime
        Aware, in the problem's time zone.
    hours : float
    """

    staff_id: Id
    post_id: Id
    start_slot: int
    end_slot: int
    start: AwareDatetime
    end: AwareDatetime
    hours: float


class StaffLoad(FrozenRecord):
    """Hours one person works.

    Attributes
    ----------
    staff_id : str
    hours : float
        Over the window.
    hours_by_day : dict of str to float
        Local ISO date → hours (days with work only).
    shifts : int
    preferred_hours : float
        Hours at preferred posts.
    """

    staff_id: Id
    hours: float
    hours_by_day: dict[str, float]
    shifts: int
    preferred_hours: float


class Shortfall(FrozenRecord):
    """A post short of staff in a slot.

    Attributes
    ----------
    post_id : str
    slot : int
    start : datetime
        Start of the slot, aware, local.
    demand, covered, short : int
        Staff asked for, rostered, and missing (``demand - covered``).
    reasons : list of Reason
        Codes of :class:`RosterReasonCode`.
    """

    post_id: Id
    slot: int
    start: AwareDatetime
    demand: int
    covered: int
    short: int
    reasons: list[Reason]


class RosterTotals(FrozenRecord):
    """Totals of a roster (hours are staff-hours).

    Attributes
    ----------
    demand_hours, covered_hours, shortfall_hours, overcover_hours : float
        ``covered_hours`` counts cover up to demand; ``overcover_hours`` what is above it.
    max_staff_hours : float
        Largest load of one person.
    staff_used : int
        People with at least one shift.
    preferred_hours : float
        Hours worked at preferred posts.
    """

    demand_hours: float
    covered_hours: float
    shortfall_hours: float
    overcover_hours: float
    max_staff_hours: float
    staff_used: int
    preferred_hours: float


class TierResult(FrozenRecord):
    """Outcome of one objective tier.

    Attributes
    ----------
    name : str
        ``shortfall_slots``, ``overcover_slots``, ``max_staff_slots`` or ``preferred_slots``.
    status : str
        CP-SAT status name (``OPTIMAL``, ``FEASIBLE``, ``UNKNOWN``, ``NOT_RUN``).
    value, bound : float or None
        Objective value and CP-SAT's best bound, in slots.
    """

    name: str
    status: str
    value: float | None
    bound: float | None


class Roster(PlanResult):
    """A duty roster: shifts, loads, shortfalls with reasons, totals and solve information.

    Attributes
    ----------
    schema_version : str
    shifts : list of RosterShift
        By staff id, then start slot.
    loads : list of StaffLoad
        Every person, by id.
    shortfalls : list of Shortfall
        Every (post, slot) with ``covered < demand``, by post id then slot.
    totals : RosterTotals
    tiers : list of TierResult
        The objective tiers in order.
    info : SolveInfo
        ``objective``: ``shortfall_hours``, ``overcover_hours``, ``max_staff_hours``,
        ``preferred_hours``; ``bound`` and ``gap`` on ``shortfall_hours``.
    """

    schema_version: Literal["1.0"] = SCHEMA_VERSION
    shifts: list[RosterShift]
    loads: list[StaffLoad]
    shortfalls: list[Shortfall]
    totals: RosterTotals
    tiers: list[TierResult]
    info: SolveInfo

    #: Column names of :meth:`rows`, in order (so an empty roster still has a CSV header).
    ROW_COLUMNS: ClassVar[tuple[str, ...]] = (
        "kind",
        "staff_id",
        "post_id",
        "start_slot",
        "end_slot",
        "start",
        "end",
        "hours",
        "demand",
        "covered",
        "short",
        "reason_code",
        "reason",
    )

    def _rows(self, lang: str) -> list[dict[str, Any]]:
        """One row per shift (``kind="shift"``), then one per shortfall (``"shortfall"``).

        Shift rows: ``staff_id``, ``post_id``, slots ``[start_slot, end_slot)``, ``start`` and
        ``end`` (ISO 8601, local) and ``hours``. Shortfall rows: ``post_id``, ``start_slot``
        (the slot; ``end_slot`` the next one), ``start``, ``demand``, ``covered``, ``short``,
        ``reason_code`` and ``reason`` (its text in ``lang``; several joined by ``"; "``,
        codes by ``";"``). Empty strings where a column does not apply.
        """
        out: list[dict[str, Any]] = []

        def row(kind: str, **values: Any) -> None:
            r: dict[str, Any] = dict.fromkeys(self.ROW_COLUMNS, "")
            r.update(kind=kind, **values)
            out.append(r)

        for sh in self.shifts:
            row("shift", staff_id=sh.staff_id, post_id=sh.post_id, start_slot=sh.start_slot,
                end_slot=sh.end_slot, start=sh.start.isoformat(), end=sh.end.isoformat(),
                hours=sh.hours)
        for s in self.shortfalls:
            row("shortfall", post_id=s.post_id, start_slot=s.slot, end_slot=s.slot + 1,
                start=s.start.isoformat(), demand=s.demand, covered=s.covered, short=s.short,
                reason_code=";".join(str(r.code) for r in s.reasons),
                reason="; ".join(r.text(lang) for r in s.reasons))
        return out


# ---- figures shared by solver and verifier -----------------------------------------------


def _hours(problem: RosterProblem, slots: int) -> float:
    return float(slots * problem.slot_hours)


def shortfall_reason(problem: RosterProblem, post: Post, t: int,
                     available: dict[str, list[bool]]) -> Reason:
    """The reason a post is short in slot ``t`` (first true of the codes, in order).

    Parameters
    ----------
    problem : RosterProblem
    post : Post
    t : int
    available : dict of str to list of bool
        :func:`available_slots` of each person, by id.

    Returns
    -------
    Reason
        A :class:`RosterReasonCode` with its parameters.
    """
    eligible = [s for s in problem.staff if is_eligible(post, s)]
    if not eligible:
        return Reason(code=RosterReasonCode.NO_ELIGIBLE_STAFF, params={
            "tasks": ",".join(sorted(post.tasks)) or "-", "skill": post.skill or "-",
            "min_level": post.min_level})
    free = sum(1 for s in eligible if available[s.id][t])
    if free == 0:
        return Reason(code=RosterReasonCode.NO_STAFF_AVAILABLE,
                            params={"eligible": len(eligible)})
    code = (RosterReasonCode.TOO_FEW_AVAILABLE if free < post.demand[t]
            else RosterReasonCode.RULES_BIND)
    return Reason(code=code, params={"available": free, "demand": post.demand[t]})


def build_roster(problem: RosterProblem, work: dict[str, list[str | None]],
                 status: SolveStatus, tiers: list[TierResult], bound_slots: float | None,
                 options: dict[str, Any], seed: int | None, *,
                 stopped_by: Literal["cancel", "wall_clock"] | None = None) -> Roster:
    """Roster records from ``work[staff_id][t]`` = post id or ``None``.

    ``bound_slots`` is a proven lower bound on the shortfall in staff-slots (``None``:
    unknown); ``stopped_by`` goes into ``info.stopped_by``.
    """
    n_t = problem.n_slots
    prefs = {s.id: set(s.preferred_post_ids) for s in problem.staff}
    cover: dict[tuple[str, int], int] = {}
    shifts: list[RosterShift] = []
    loads: list[StaffLoad] = []
    for s in sorted(problem.staff, key=lambda s: s.id):
        row = work.get(s.id, [None] * n_t)
        by_day: dict[str, int] = {}
        n_shifts = 0
        pref = 0
        t = 0
        while t < n_t:
            pid = row[t]
            if pid is None:
                t += 1
                continue
            u = t
            while u < n_t and row[u] == pid:
                cover[pid, u] = cover.get((pid, u), 0) + 1
                day = problem.slot_day(u).isoformat()
                by_day[day] = by_day.get(day, 0) + 1
                if pid in prefs[s.id]:
                    pref += 1
                u += 1
            shifts.append(RosterShift(
                staff_id=s.id, post_id=pid, start_slot=t, end_slot=u,
                start=problem.slot_start(t), end=problem.slot_start(u),
                hours=_hours(problem, u - t)))
            n_shifts += 1
            t = u
        total = sum(by_day.values())
        loads.append(StaffLoad(
            staff_id=s.id, hours=_hours(problem, total),
            hours_by_day={d: _hours(problem, v) for d, v in sorted(by_day.items())},
            shifts=n_shifts, preferred_hours=_hours(problem, pref)))
    available = {s.id: available_slots(problem, s) for s in problem.staff}
    shortfalls = []
    demand = covered = over = 0
    for p in sorted(problem.posts, key=lambda p: p.id):
        for t in range(n_t):
            d = p.demand[t]
            c = cover.get((p.id, t), 0)
            demand += d
            covered += min(c, d)
            over += max(0, c - d)
            if c < d:
                reason = shortfall_reason(problem, p, t, available)
                shortfalls.append(Shortfall(post_id=p.id, slot=t, start=problem.slot_start(t),
                                            demand=d, covered=c, short=d - c,
                                            reasons=[reason]))
    max_load = max((ld.hours for ld in loads), default=0.0)
    totals = RosterTotals(
        demand_hours=_hours(problem, demand), covered_hours=_hours(problem, covered),
        shortfall_hours=_hours(problem, demand - covered),
        overcover_hours=_hours(problem, over), max_staff_hours=max_load,
        staff_used=sum(1 for ld in loads if ld.shifts),
        preferred_hours=sum(ld.preferred_hours for ld in loads))
    bound = None if bound_slots is None else float(
        Fraction(bound_slots) * problem.slot_hours)
    short = totals.shortfall_hours
    gap: float | None = None
    if bound is not None:
        gap = (short - bound) / bound if bound > 0 else (0.0 if short == 0 else None)
    info = SolveInfo(
        status=status, solver="cp-sat",
        objective={"shortfall_hours": short, "overcover_hours": totals.overcover_hours,
                   "max_staff_hours": max_load, "preferred_hours": totals.preferred_hours},
        bound=bound, gap=gap, options=options, seed=seed,
        versions=library_versions("ortools"), stopped_by=stopped_by)
    return Roster(shifts=shifts, loads=loads, shortfalls=shortfalls, totals=totals,
                  tiers=tiers, info=info)

