"""Duty rosters: the fixture and the mutation table (testing only).

Operators that change shifts pick, in a fixed order, the first edit (reassign a shift, stretch
or shrink it, add one) that breaks exactly the targeted hard rule by the public predicates
(:func:`_broken`), then recompute loads, shortfalls with their reasons, totals and objective
(:func:`_rebuild`), so that :func:`~commgov.scheduling.roster.is_valid_roster` reports exactly
the one code.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from fractions import Fraction
from itertools import pairwise
from zoneinfo import ZoneInfo

from commgov.results import Reason
from commgov.scheduling.roster import (
    Post,
    PostTask,
    Roster,
    RosterPolicy,
    RosterProblem,
    RosterReasonCode,
    RosterShift,
    RosterViolationCode,
    Shortfall,
    Staff,
    StaffLoad,
    available_slots,
    is_eligible,
)
from commgov.scheduling.roster._result import shortfall_reason
from commgov.testing._mutation import (
    Mutation,
    MutationTable,
    bumped,
    drop_first,
    reversed_items,
    with_first,
)
from commgov.types import TimeWindow

__all__ = ["ROSTER_MUTATIONS", "roster_fixtures"]

_V = RosterViolationCode
_TABLE = MutationTable("roster")


def roster_fixtures() -> dict[str, RosterProblem]:
    """``{"default": problem}``: twelve hourly slots, a gate post (three people at the peak)
    and a first-aid post (level 2), and nine people: general staff, a medic, a nurse (free in
    the afternoon, when first aid is not needed), one capped at two hours a day, one at two
    hours in total, one never free long enough for a shift and one eligible for nothing — so
    the roster is short in places and every rule can bind."""
    day0 = datetime(2022, 4, 12, 0, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

    def hours(a: float, b: float) -> TimeWindow:
        return TimeWindow(start=day0 + timedelta(hours=a), end=day0 + timedelta(hours=b))

    all_day = [hours(6, 18)]
    posts = [
        Post(id="aid", skill="first_aid", min_level=2, demand=[1] * 6 + [0] * 6),
        Post(id="gate", tasks=[PostTask.SAMPLING_MARSHAL],
             demand=[1, 1, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2]),
    ]
    staff = [
        Staff(id="a", availability=all_day),
        Staff(id="b", availability=[hours(6, 12)]),
        Staff(id="c", availability=[hours(12, 18)]),
        Staff(id="cap-day", availability=all_day, max_hours_per_day=2),
        Staff(id="cap-total", availability=all_day, max_hours_total=2),
        Staff(id="medic", availability=[hours(6, 10)], skills={"first_aid": 3}),
        Staff(id="nurse", availability=[hours(12, 18)], skills={"first_aid": 2}),
        Staff(id="brief", availability=[hours(9, 10)]),
        Staff(id="visitor", availability=all_day, tasks=[], skills={"cooking": 1}),
    ]
    problem = RosterProblem(window=hours(6, 18), posts=posts, staff=staff,
                            policy=RosterPolicy())
    return {"default": problem}


def _shift(problem: RosterProblem, staff_id: str, post_id: str, a: int, b: int) -> RosterShift:
    return RosterShift(staff_id=staff_id, post_id=post_id, start_slot=a, end_slot=b,
                       start=problem.slot_start(a), end=problem.slot_start(b),
                       hours=float((b - a) * problem.slot_hours))


def _broken(problem: RosterProblem, shifts: list[RosterShift]) -> set[RosterViolationCode]:
    """The hard rules ``shifts`` break, by the public predicates (ids known, in window)."""
    lim = problem.limits()
    posts = {p.id: p for p in problem.posts}
    staff = {s.id: s for s in problem.staff}
    out: set[RosterViolationCode] = set()
    cover: dict[tuple[str, int], int] = defaultdict(int)
    mine: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for sh in shifts:
        person, post = staff[sh.staff_id], posts[sh.post_id]
        free = available_slots(problem, person)
        if not is_eligible(post, person):
            out.add(_V.NOT_ELIGIBLE)
        if not all(free[t] for t in range(sh.start_slot, sh.end_slot)):
            out.add(_V.NOT_AVAILABLE)
        if not lim["min_shift"] <= sh.end_slot - sh.start_slot <= lim["max_shift"]:
            out.add(_V.SHIFT_LENGTH)
        for t in range(sh.start_slot, sh.end_slot):
            cover[sh.post_id, t] += 1
        mine[sh.staff_id].append((sh.start_slot, sh.end_slot))
    for sid, spans in mine.items():
        spans.sort()
        for (_a0, a1), (b0, _b1) in pairwise(spans):
            if b0 < a1:
                out.add(_V.DOUBLE_BOOKED)
            elif b0 - a1 < lim["min_rest"]:
                out.add(_V.REST_TOO_SHORT)
        worked = sorted({t for a, b in spans for t in range(a, b)})
        per_day: dict[object, int] = defaultdict(int)
        for t in worked:
            per_day[problem.slot_day(t)] += 1
        if any(k > problem.max_day_slots(staff[sid]) for k in per_day.values()):
            out.add(_V.MAX_HOURS_DAY)
        cap = problem.max_total_slots(staff[sid])
        if cap is not None and len(worked) > cap:
            out.add(_V.MAX_HOURS_TOTAL)
    if not problem.policy.allow_overcover and any(
            c > posts[pid].demand[t] for (pid, t), c in cover.items()):
        out.add(_V.OVER_COVER)
    return out


def _rebuild(problem: RosterProblem, roster: Roster, shifts: list[RosterShift]) -> Roster:
    """``roster`` with ``shifts`` (sorted) and loads, shortfalls, totals and objective
    recomputed from them (``info.bound`` capped at the new shortfall)."""
    shifts = sorted(shifts, key=lambda s: (s.staff_id, s.start_slot, s.post_id))
    n_t, slot_h = problem.n_slots, problem.slot_hours
    prefs = {s.id: set(s.preferred_post_ids) for s in problem.staff}
    cover: dict[tuple[str, int], int] = defaultdict(int)
    loads, max_load, pref_total, used = [], Fraction(0), Fraction(0), 0
    for s in sorted(problem.staff, key=lambda s: s.id):
        own = [sh for sh in shifts if sh.staff_id == s.id]
        row = sorted({t for sh in own for t in range(sh.start_slot, sh.end_slot)})
        by_day: dict[str, Fraction] = defaultdict(Fraction)
        for t in row:
            by_day[problem.slot_day(t).isoformat()] += slot_h
        pref = sum(((sh.end_slot - sh.start_slot) * slot_h for sh in own
                    if sh.post_id in prefs[s.id]), Fraction(0))
        for sh in own:
            for t in range(sh.start_slot, sh.end_slot):
                cover[sh.post_id, t] += 1
        hours = len(row) * slot_h
        max_load, pref_total, used = max(max_load, hours), pref_total + pref, used + bool(own)
        loads.append(StaffLoad(staff_id=s.id, hours=float(hours), shifts=len(own),
                               hours_by_day={d: float(v) for d, v in sorted(by_day.items())},
                               preferred_hours=float(pref)))
    available = {s.id: available_slots(problem, s) for s in problem.staff}
    shortfalls, demand, covered, over = [], 0, 0, 0
    for p in sorted(problem.posts, key=lambda p: p.id):
        for t in range(n_t):
            d, c = p.demand[t], cover.get((p.id, t), 0)
            demand, covered, over = demand + d, covered + min(c, d), over + max(0, c - d)
            if c < d:
                shortfalls.append(Shortfall(
                    post_id=p.id, slot=t, start=problem.slot_start(t), demand=d, covered=c,
                    short=d - c, reasons=[shortfall_reason(problem, p, t, available)]))
    short = float((demand - covered) * slot_h)
    totals = roster.totals.model_copy(update={
        "covered_hours": float(covered * slot_h), "shortfall_hours": short,
        "overcover_hours": float(over * slot_h), "max_staff_hours": float(max_load),
        "staff_used": used, "preferred_hours": float(pref_total)})
    bound = roster.info.bound
    info = roster.info.model_copy(update={
        "objective": {"shortfall_hours": short, "overcover_hours": totals.overcover_hours,
                      "max_staff_hours": totals.max_staff_hours,
                      "preferred_hours": totals.preferred_hours},
        "bound": None if bound is None else min(bound, short)})
    return roster.model_copy(update={"shifts": shifts, "loads": loads,
                                     "shortfalls": shortfalls, "totals": totals, "info": info})


def _edits(problem: RosterProblem, shifts: list[RosterShift]) -> Iterator[list[RosterShift]]:
    """Candidate shift lists, each one edit away, in a fixed order: reassign a shift to
    another person, stretch or shrink a shift by a slot, add a shift."""
    lim = problem.limits()
    people = sorted(s.id for s in problem.staff)
    for i, sh in enumerate(shifts):
        rest = shifts[:i] + shifts[i + 1:]
        for sid in people:
            if sid != sh.staff_id:
                yield [*rest, _shift(problem, sid, sh.post_id, sh.start_slot, sh.end_slot)]
        for a, b in ((sh.start_slot - 1, sh.end_slot), (sh.start_slot, sh.end_slot + 1),
                     (sh.start_slot + 1, sh.end_slot), (sh.start_slot, sh.end_slot - 1)):
            if 0 <= a < b <= problem.n_slots:
                yield [*rest, _shift(problem, sh.staff_id, sh.post_id, a, b)]
    for sid in people:
        for post in sorted(problem.posts, key=lambda p: p.id):
            for n in range(lim["min_shift"], lim["max_shift"] + 1):
                for a in range(problem.n_slots - n + 1):
                    yield [*shifts, _shift(problem, sid, post.id, a, a + n)]


def _breaking(code: RosterViolationCode) -> Callable[[RosterProblem, Roster], Roster | None]:
    def apply(problem: RosterProblem, roster: Roster) -> Roster | None:
        for cand in _edits(problem, list(roster.shifts)):
            if _broken(problem, cand) == {code}:
                return _rebuild(problem, roster, cand)
        return None

    apply.__doc__ = (f"The first one-shift edit (reassign, stretch, shrink, add) that breaks "
                     f"{code.value} and no other hard rule; figures recomputed.")
    return apply


@_TABLE.add(_V.UNKNOWN_ID)
def mutate_unknown_staff(problem: RosterProblem, roster: Roster) -> Roster | None:
    """Add a shift for a person id the problem lacks (sorted last)."""
    if not problem.posts:
        return None
    ghost = _shift(problem, "~ghost", problem.posts[0].id, 0, 1)
    return roster.model_copy(update={"shifts": [*roster.shifts, ghost]})


@_TABLE.add(_V.RECORD_MISMATCH)
def mutate_shift_hours(problem: RosterProblem, roster: Roster) -> Roster | None:
    """Report one shift an hour longer than its slots."""
    return with_first(roster, "shifts", lambda sh: bumped(sh, "hours"))


@_TABLE.add(_V.UNSORTED)
def mutate_shifts_unsorted(problem: RosterProblem, roster: Roster) -> Roster | None:
    """List the shifts in reverse order."""
    return reversed_items(roster, "shifts")


@_TABLE.add(_V.SHIFT_OUT_OF_WINDOW)
def mutate_out_of_window(problem: RosterProblem, roster: Roster) -> Roster | None:
    """Add a shift running a slot past the window's end (in id order)."""
    if not problem.posts or not problem.staff:
        return None
    n = problem.n_slots
    extra = _shift(problem, problem.staff[0].id, problem.posts[0].id, n - 1, n + 1)
    shifts = sorted([*roster.shifts, extra],
                    key=lambda s: (s.staff_id, s.start_slot, s.post_id))
    return roster.model_copy(update={"shifts": shifts})


# one operator per hard rule: the first one-shift edit that breaks that rule alone
for _code in (_V.NOT_ELIGIBLE, _V.NOT_AVAILABLE, _V.SHIFT_LENGTH, _V.DOUBLE_BOOKED,
              _V.REST_TOO_SHORT, _V.MAX_HOURS_DAY, _V.MAX_HOURS_TOTAL, _V.OVER_COVER):
    _TABLE.add(_code, name=_code.value.lower())(_breaking(_code))


@_TABLE.add(_V.SHORTFALL_MISMATCH)
def mutate_shortfall_hidden(problem: RosterProblem, roster: Roster) -> Roster | None:
    """Leave one shortfall out."""
    return drop_first(roster, "shortfalls")


@_TABLE.add(_V.REASON_FALSE)
def mutate_reason(problem: RosterProblem, roster: Roster) -> Roster | None:
    """Blame a shortfall on too few people available, claiming 10,000 are."""
    if not roster.shortfalls:
        return None
    s = roster.shortfalls[0]
    fake = Reason(code=RosterReasonCode.TOO_FEW_AVAILABLE,
                  params={"available": 10_000, "demand": s.demand})
    return roster.model_copy(update={"shortfalls": [
        s.model_copy(update={"reasons": [fake]}), *roster.shortfalls[1:]]})


@_TABLE.add(_V.LOAD_MISMATCH)
def mutate_load(problem: RosterProblem, roster: Roster) -> Roster | None:
    """Report one person's hours one hour higher."""
    return with_first(roster, "loads", lambda ld: bumped(ld, "hours"))


@_TABLE.add(_V.TOTALS_MISMATCH)
def mutate_totals(problem: RosterProblem, roster: Roster) -> Roster | None:
    """Report an hour more covered in the totals."""
    return roster.model_copy(update={"totals": bumped(roster.totals, "covered_hours")})


#: name → :class:`~commgov.testing.Mutation` of duty rosters.
ROSTER_MUTATIONS: dict[str, Mutation] = _TABLE.mutations
