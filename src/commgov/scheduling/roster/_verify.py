"""Independent verifier of duty rosters (private; imports no solver code and no OR-Tools).

:func:`is_valid_roster` checks every hard rule of a :class:`~commgov.scheduling.roster.Roster`
against its :class:`~commgov.scheduling.roster.RosterProblem` and recomputes every reported
figure (cover, shortfalls, loads, totals, objective) and the truth of every reason, using only
the shared definitions of the problem module (slot times, :func:`available_slots`,
:func:`is_eligible`, :func:`hours_to_slots` through :meth:`RosterProblem.limits`) and the
standard library.
"""

from __future__ import annotations

from collections import defaultdict
from enum import StrEnum
from fractions import Fraction
from itertools import pairwise

from commgov.errors import expect_type
from commgov.results import Reason
from commgov.scheduling.roster._problem import RosterProblem, available_slots, is_eligible
from commgov.scheduling.roster._reasons import RosterReasonCode
from commgov.scheduling.roster._result import Roster
from commgov.verification import VerificationReport

__all__ = ["RosterViolationCode", "is_valid_roster"]


class RosterViolationCode(StrEnum):
    """Every rule :func:`is_valid_roster` can report broken.

    ``UNKNOWN_ID``: a shift names an unknown person or post. ``RECORD_MISMATCH``: a shift's
    instants or hours differ from its slots. ``UNSORTED``: shifts or shortfalls out of order.
    ``SHIFT_OUT_OF_WINDOW``, ``NOT_ELIGIBLE``, ``NOT_AVAILABLE``, ``SHIFT_LENGTH``,
    ``DOUBLE_BOOKED``, ``REST_TOO_SHORT``, ``MAX_HOURS_DAY``, ``MAX_HOURS_TOTAL``,
    ``OVER_COVER``: the hard rule of that name. ``SHORTFALL_MISMATCH``: a shortfall missing,
    extra or with wrong figures. ``REASON_FALSE``: a reason that does not hold (or none).
    ``LOAD_MISMATCH``, ``TOTALS_MISMATCH``: figures that differ from the shifts.
    """

    UNKNOWN_ID = "UNKNOWN_ID"
    RECORD_MISMATCH = "RECORD_MISMATCH"
    UNSORTED = "UNSORTED"
    SHIFT_OUT_OF_WINDOW = "SHIFT_OUT_OF_WINDOW"
    NOT_ELIGIBLE = "NOT_ELIGIBLE"
    NOT_AVAILABLE = "NOT_AVAILABLE"
    SHIFT_LENGTH = "SHIFT_LENGTH"
    DOUBLE_BOOKED = "DOUBLE_BOOKED"
    REST_TOO_SHORT = "REST_TOO_SHORT"
    MAX_HOURS_DAY = "MAX_HOURS_DAY"
    MAX_HOURS_TOTAL = "MAX_HOURS_TOTAL"
    OVER_COVER = "OVER_COVER"
    SHORTFALL_MISMATCH = "SHORTFALL_MISMATCH"
    REASON_FALSE = "REASON_FALSE"
    LOAD_MISMATCH = "LOAD_MISMATCH"
    TOTALS_MISMATCH = "TOTALS_MISMATCH"


_V = RosterViolationCode


def _reason_ok(problem: RosterProblem, roster: Roster, post_id: str, t: int,
               reason: Reason, available: dict[str, list[bool]]) -> str | None:
    """``None`` when the reason is true of the (post, slot), else what is wrong."""
    post = next(p for p in problem.posts if p.id == post_id)
    eligible = [s for s in problem.staff if is_eligible(post, s)]
    free = sum(1 for s in eligible if available[s.id][t])
    demand = post.demand[t]
    code = reason.code
    params = reason.params
    if code is RosterReasonCode.NO_ELIGIBLE_STAFF:
        return None if not eligible else f"{len(eligible)} people are eligible"
    if code is RosterReasonCode.NO_STAFF_AVAILABLE:
        if not eligible or free or params.get("eligible") != len(eligible):
            return f"eligible={len(eligible)}, available={free}"
        return None
    if code is RosterReasonCode.TOO_FEW_AVAILABLE:
        if not 0 < free < demand or params.get("available") != free or params.get(
                "demand") != demand:
            return f"available={free}, demand={demand}"
        return None
    if code is RosterReasonCode.RULES_BIND:
        if free < demand or params.get("available") != free or params.get("demand") != demand:
            return f"available={free}, demand={demand}"
        return None
    return f"{code} is not a roster reason"


def is_valid_roster(problem: RosterProblem, roster: Roster) -> VerificationReport:
    """Check a roster against its problem: hard rules, figures and reasons.

    Parameters
    ----------
    problem : RosterProblem
    roster : Roster

    Returns
    -------
    VerificationReport
        ``bool(report)`` is true when no rule is broken; ``report.violations`` lists each
        broken rule (codes of :class:`RosterViolationCode`).

    Raises
    ------
    TypeError
        If ``problem`` or ``roster`` has the wrong type.

    Notes
    -----
    O(S·T + P·T·S + H log H) for S people, P posts, T slots and H shifts (the reasons
    recount the eligible and available people of each short post and slot).
    """
    expect_type(problem, RosterProblem, "problem")
    expect_type(roster, Roster, "roster")
    rep = VerificationReport(family="roster")
    n_t = problem.n_slots
    slot_h = problem.slot_hours
    lim = problem.limits()
    posts = {p.id: p for p in problem.posts}
    staff = {s.id: s for s in problem.staff}
    available = {s.id: available_slots(problem, s) for s in problem.staff}
    # ---- shifts ----
    keys = [(s.staff_id, s.start_slot, s.post_id) for s in roster.shifts]
    if keys != sorted(keys):
        rep.add(_V.UNSORTED, "shifts", "shifts must be sorted by staff id, then start slot")
    cover: dict[tuple[str, int], int] = defaultdict(int)
    by_staff: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for sh in roster.shifts:
        rec = f"{sh.staff_id}@{sh.start_slot}"
        if sh.staff_id not in staff or sh.post_id not in posts:
            rep.add(_V.UNKNOWN_ID, rec, f"staff {sh.staff_id!r} or post {sh.post_id!r} unknown")
            continue
        if not 0 <= sh.start_slot < sh.end_slot <= n_t:
            rep.add(_V.SHIFT_OUT_OF_WINDOW, rec,
                    f"slots [{sh.start_slot}, {sh.end_slot}) not inside [0, {n_t})")
            continue
        n = sh.end_slot - sh.start_slot
        if (sh.start != problem.slot_start(sh.start_slot)
                or sh.end != problem.slot_start(sh.end_slot)
                or sh.hours != float(n * slot_h)):
            rep.add(_V.RECORD_MISMATCH, rec, "start, end or hours differ from the slots")
        person, post = staff[sh.staff_id], posts[sh.post_id]
        if not is_eligible(post, person):
            rep.add(_V.NOT_ELIGIBLE, rec, f"{sh.staff_id} may not work at {sh.post_id}")
        missing = [t for t in range(sh.start_slot, sh.end_slot) if not available[person.id][t]]
        if missing:
            rep.add(_V.NOT_AVAILABLE, rec, f"not available in slots {missing}")
        if not lim["min_shift"] <= n <= lim["max_shift"]:
            rep.add(_V.SHIFT_LENGTH, rec, f"{n} slots, allowed {lim['min_shift']}-"
                    f"{lim['max_shift']}")
        for t in range(sh.start_slot, sh.end_slot):
            cover[sh.post_id, t] += 1
        by_staff[sh.staff_id].append((sh.start_slot, sh.end_slot, sh.post_id))
    # ---- per person: overlap, rest, hours ----
    worked: dict[str, list[bool]] = {}
    for sid, shifts in by_staff.items():
        shifts.sort()
        for (_a0, a1, _p), (b0, _b1, _q) in pairwise(shifts):
            if b0 < a1:
                rep.add(_V.DOUBLE_BOOKED, f"{sid}@{b0}", f"shift starts before slot {a1}")
            elif b0 - a1 < lim["min_rest"]:
                rep.add(_V.REST_TOO_SHORT, f"{sid}@{b0}",
                        f"{b0 - a1} slots of rest, need {lim['min_rest']}")
        row = [False] * n_t
        for a0, a1, _p in shifts:
            for t in range(a0, a1):
                row[t] = True
        worked[sid] = row
        per_day: dict[str, int] = defaultdict(int)
        for t in range(n_t):
            if row[t]:
                per_day[problem.slot_day(t).isoformat()] += 1
        cap = problem.max_day_slots(staff[sid])
        for day, k in sorted(per_day.items()):
            if k > cap:
                rep.add(_V.MAX_HOURS_DAY, f"{sid}@{day}", f"{k} slots, limit {cap}")
        total_cap = problem.max_total_slots(staff[sid])
        if total_cap is not None and sum(row) > total_cap:
            rep.add(_V.MAX_HOURS_TOTAL, sid, f"{sum(row)} slots, limit {total_cap}")
    # ---- cover and shortfalls ----
    expected: dict[tuple[str, int], tuple[int, int]] = {}
    demand_s = covered_s = over_s = 0
    for p in problem.posts:
        for t in range(n_t):
            d, c = p.demand[t], cover.get((p.id, t), 0)
            demand_s += d
            covered_s += min(c, d)
            over_s += max(0, c - d)
            if c > d and not problem.policy.allow_overcover:
                rep.add(_V.OVER_COVER, f"{p.id}@{t}", f"{c} staff for a demand of {d}")
            if c < d:
                expected[p.id, t] = (d, c)
    seen: set[tuple[str, int]] = set()
    order = [(s.post_id, s.slot) for s in roster.shortfalls]
    if order != sorted(order):
        rep.add(_V.UNSORTED, "shortfalls", "shortfalls must be sorted by post id, then slot")
    for s in roster.shortfalls:
        key = (s.post_id, s.slot)
        rec = f"{s.post_id}@{s.slot}"
        if key in seen or key not in expected:
            rep.add(_V.SHORTFALL_MISMATCH, rec, "not short of staff, or listed twice")
            continue
        seen.add(key)
        d, c = expected[key]
        if (s.demand, s.covered, s.short) != (d, c, d - c) or s.start != problem.slot_start(
                s.slot):
            rep.add(_V.SHORTFALL_MISMATCH, rec, f"expected demand {d}, covered {c}")
        if not s.reasons:
            rep.add(_V.REASON_FALSE, rec, "no reason given")
        for r in s.reasons:
            wrong = _reason_ok(problem, roster, s.post_id, s.slot, r, available)
            if wrong is not None:
                rep.add(_V.REASON_FALSE, rec, f"{r.code!s}: {wrong}")
    for key in sorted(set(expected) - seen):
        rep.add(_V.SHORTFALL_MISMATCH, f"{key[0]}@{key[1]}", "short of staff but not listed")
    # ---- loads ----
    prefs = {s.id: set(s.preferred_post_ids) for s in problem.staff}
    want_ids = sorted(staff)
    if [ld.staff_id for ld in roster.loads] != want_ids:
        rep.add(_V.LOAD_MISMATCH, "loads", "one load per person, sorted by id, expected")
    max_load = Fraction(0)
    pref_total = Fraction(0)
    used = 0
    for sid in want_ids:
        shifts = by_staff.get(sid, [])
        row = worked.get(sid, [False] * n_t)
        hours = sum(row) * slot_h
        by_day: dict[str, Fraction] = defaultdict(Fraction)
        for t in range(n_t):
            if row[t]:
                by_day[problem.slot_day(t).isoformat()] += slot_h
        pref = sum(((a1 - a0) * slot_h for a0, a1, p in shifts if p in prefs[sid]),
                   Fraction(0))
        max_load = max(max_load, hours)
        pref_total += pref
        used += 1 if shifts else 0
        got = next((ld for ld in roster.loads if ld.staff_id == sid), None)
        if got is None or (
            got.hours != float(hours) or got.shifts != len(shifts)
            or got.preferred_hours != float(pref)
            or got.hours_by_day != {d: float(v) for d, v in sorted(by_day.items())}
        ):
            rep.add(_V.LOAD_MISMATCH, sid, f"expected {float(hours)} h in {len(shifts)} shifts")
    # ---- totals and objective ----
    tot = roster.totals
    want = {
        "demand_hours": float(demand_s * slot_h),
        "covered_hours": float(covered_s * slot_h),
        "shortfall_hours": float((demand_s - covered_s) * slot_h),
        "overcover_hours": float(over_s * slot_h),
        "max_staff_hours": float(max_load),
        "staff_used": used,
        "preferred_hours": float(pref_total),
    }
    for name, value in want.items():
        if abs(getattr(tot, name) - value) > 1e-9:
            rep.add(_V.TOTALS_MISMATCH, f"totals.{name}", f"{getattr(tot, name)} != {value}")
    obj = roster.info.objective
    for name in ("shortfall_hours", "overcover_hours", "max_staff_hours", "preferred_hours"):
        if name not in obj or abs(obj[name] - float(want[name])) > 1e-9:
            rep.add(_V.TOTALS_MISMATCH, f"info.objective.{name}",
                    f"{obj.get(name)} != {want[name]}")
    bound = roster.info.bound
    if bound is not None and bound > float(want["shortfall_hours"]) + 1e-9:
        rep.add(_V.TOTALS_MISMATCH, "info.bound", f"bound {bound} above the shortfall")
    return rep
