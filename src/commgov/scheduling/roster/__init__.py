"""Duty rosters for gate posts and sampling marshals.

A roster problem has posts (门岗 / 卡口 gate posts with their tasks — health-code check 查码,
temperature 测温, registration 登记, patrol 巡逻 — and sampling marshals), each with a demand
of staff per slot of a time grid (hourly by default), and staff (volunteers) with availability
windows, skills and the tasks they may do. :func:`plan_roster` assigns staff to posts in
contiguous shifts:

* hard rules: a person works at most one post at a time, only in slots they are available for
  (the whole slot), only at posts they are eligible for (tasks and skill level); a shift is a
  maximal run of worked slots, stays at one post, lasts between the policy's minimum and
  maximum shift length, and is followed by at least the minimum rest before the next; at most
  the maximum hours per (local) day and, when set, per horizon; cover never exceeds demand
  unless the policy allows over-cover;
* objective, lexicographic (each tier fixes the previous optimum; no big-M weights):
  1. minimise the shortfall Σ (demand − cover) in staff-slots (cover per post and slot);
  2. (only when over-cover is allowed) minimise over-cover;
  3. fairness: minimise the largest number of hours anyone works;
  4. preferences: maximise the hours people work at their preferred posts.

Demand that cannot be covered is not an error: every (post, slot) left short is listed with
a :class:`~commgov.results.Reason` (codes :class:`RosterReasonCode`), each a predicate
:func:`is_valid_roster` checks.

Entry points
------------
* :class:`RosterProblem` (:class:`Post`, :class:`Staff`, :class:`RosterPolicy`) and
  :func:`roster_problem_from_org` (one community over a window);
* :func:`plan_roster` (methods :data:`METHODS`: ``"cpsat"``) → :class:`Roster`;
* :func:`is_valid_roster` → :class:`~commgov.verification.VerificationReport` with
  :class:`RosterViolationCode` codes;
* the shared definitions :func:`available_slots`, :func:`is_eligible`,
  :func:`hours_to_slots`.

OR-Tools is imported only when :func:`plan_roster` runs.
"""

from __future__ import annotations

from commgov.scheduling.roster._from_org import roster_problem_from_org
from commgov.scheduling.roster._plan import METHODS, plan_roster
from commgov.scheduling.roster._problem import (
    SCHEMA_VERSION,
    Post,
    PostTask,
    RosterPolicy,
    RosterProblem,
    Staff,
    available_slots,
    check_roster_problem,
    hours_to_slots,
    is_eligible,
)
from commgov.scheduling.roster._reasons import RosterReasonCode
from commgov.scheduling.roster._result import (
    Roster,
    RosterShift,
    RosterTotals,
    Shortfall,
    StaffLoad,
    TierResult,
)
from commgov.scheduling.roster._verify import RosterViolationCode, is_valid_roster

__all__ = [
    "METHODS",
    "SCHEMA_VERSION",
    "Post",
    "PostTask",
    "Roster",
    "RosterPolicy",
    "RosterProblem",
    "RosterReasonCode",
    "RosterShift",
    "RosterTotals",
    "RosterViolationCode",
    "Shortfall",
    "Staff",
    "StaffLoad",
    "TierResult",
    "available_slots",
    "check_roster_problem",
    "hours_to_slots",
    "is_eligible",
    "is_valid_roster",
    "plan_roster",
    "roster_problem_from_org",
]
