"""Sampling-timeslot plans: which point and which half-hour each batch of residents is called to.

Entry points:

* :func:`plan_sampling` — the plan (methods :data:`METHODS`: ``"auto"``, ``"cpsat"``,
  ``"gap"``), a :class:`SamplingPlan`;
* :func:`sampling_lower_bound` — the splittable relaxation, a
  :class:`commgov.results.ObjectiveBound` on people served and walking;
* :func:`is_valid_sampling_plan` — the independent verifier, a
  :class:`commgov.verification.VerificationReport` with :class:`SamplingViolationCode`;
* :func:`sampling_problem_from_org` — one community of an organisation model as a
  :class:`SamplingProblem`;
* :func:`replan_sampling` — re-plan the rest of the window after a building is sealed or a
  point changes, a :class:`Replan`;
* the shared rules :func:`slot_capacity`, :func:`walk_distance_m`, :func:`reach_limit_m` and
  :func:`check_problem`.

Reasons for what a plan leaves out are :class:`SamplingReasonCode` (family ``"sampling"``).
OR-Tools is imported only when a planner is called.
"""

from __future__ import annotations

from commgov.scheduling.sampling._bound import sampling_lower_bound
from commgov.scheduling.sampling._from_org import sampling_problem_from_org
from commgov.scheduling.sampling._plan import (
    BatchAssignment,
    DoorToDoorBuilding,
    HomeVisit,
    PointSlotLoad,
    SamplingPlan,
    SamplingTotals,
    UnservedBatch,
)
from commgov.scheduling.sampling._problem import (
    SCHEMA_VERSION,
    SamplingBatch,
    SamplingBuilding,
    SamplingPoint,
    SamplingPolicy,
    SamplingProblem,
    check_problem,
)
from commgov.scheduling.sampling._reasons import SamplingReasonCode
from commgov.scheduling.sampling._replan import Replan, replan_sampling
from commgov.scheduling.sampling._rules import reach_limit_m, slot_capacity, walk_distance_m
from commgov.scheduling.sampling._solve import METHODS, plan_sampling
from commgov.scheduling.sampling._verify import SamplingViolationCode, is_valid_sampling_plan

__all__ = [
    "METHODS",
    "SCHEMA_VERSION",
    "BatchAssignment",
    "DoorToDoorBuilding",
    "HomeVisit",
    "PointSlotLoad",
    "Replan",
    "SamplingBatch",
    "SamplingBuilding",
    "SamplingPlan",
    "SamplingPoint",
    "SamplingPolicy",
    "SamplingProblem",
    "SamplingReasonCode",
    "SamplingTotals",
    "SamplingViolationCode",
    "UnservedBatch",
    "check_problem",
    "is_valid_sampling_plan",
    "plan_sampling",
    "reach_limit_m",
    "replan_sampling",
    "sampling_lower_bound",
    "sampling_problem_from_org",
    "slot_capacity",
    "walk_distance_m",
]
