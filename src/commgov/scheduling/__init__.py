"""Sampling-timeslot plans: which sampling point, in which time slot, for each batch.

Public API
----------
:func:`plan_sampling`
    Exact lexicographic plan (max people served, then min walking person-metres, then
    earliest slots), CP-SAT on the F2 time-expanded queue with unsplittable batches.
:func:`is_valid_sampling_plan`
    Independent verifier (imports no solver code).
Records: :class:`SamplingProblem`, :class:`SamplingPoint`, :class:`SamplingBuilding`,
:class:`SamplingBatch`, :class:`SamplingPolicy`, :class:`SamplingPlan` and its parts.
Shared definitions: :func:`slot_capacity`, :func:`walk_distance_m`, :func:`reach_limit_m`.

Also here (each with its own module of records, shared rules and an independent verifier):

* door-to-door rounds — :func:`plan_door_to_door` (:mod:`commgov.scheduling.door_to_door`);
* notification plans — :func:`plan_notification` (:mod:`commgov.scheduling.notification`);
* staffing — :func:`erlang_c`, :func:`lanes_for_wait`, :func:`swabbers_needed`
  (:mod:`commgov.scheduling.staffing`);
* duty rosters — :func:`plan_roster` (:mod:`commgov.scheduling.roster`);
* re-planning after a building is sealed or a point loses lanes — :func:`replan_sampling`
  (:mod:`commgov.scheduling.replan`).

OR-Tools is imported only when :func:`plan_sampling` is called.
"""

from __future__ import annotations

from commgov.scheduling._from_org import sampling_problem_from_org
from commgov.scheduling.d2d_verify import is_valid_door_to_door_plan
from commgov.scheduling.door_to_door import (
    DoorToDoorPlan,
    DoorToDoorProblem,
    RoundBuilding,
    RoundHousehold,
    RoundPolicy,
    RoundTeam,
    door_to_door_bound,
    door_to_door_instance,
    door_to_door_problem_from_org,
    plan_door_to_door,
)
from commgov.scheduling.notification import (
    NotificationBuilding,
    NotificationPlan,
    NotificationProblem,
    Notifier,
    NotifyMode,
    notification_lower_bound,
    notification_problem_from_org,
    plan_notification,
)
from commgov.scheduling.notify_verify import is_valid_notification_plan
from commgov.scheduling.problem import (
    SCHEMA_VERSION,
    BatchAssignment,
    DoorToDoorBuilding,
    HomeVisit,
    PointSlotLoad,
    SamplingBatch,
    SamplingBuilding,
    SamplingPlan,
    SamplingPoint,
    SamplingPolicy,
    SamplingProblem,
    SamplingTotals,
    UnservedBatch,
    check_problem,
    reach_limit_m,
    slot_capacity,
    walk_distance_m,
)
from commgov.scheduling.replan import Replan, replan_sampling
from commgov.scheduling.roster import (
    Post,
    PostTask,
    Roster,
    RosterPolicy,
    RosterProblem,
    Staff,
    plan_roster,
    roster_problem_from_org,
)
from commgov.scheduling.roster_verify import is_valid_roster
from commgov.scheduling.staffing import (
    GUIDELINE_RESIDENTS_PER_SWABBER,
    QueueFigures,
    erlang_b,
    erlang_c,
    lanes_for_wait,
    mean_wait_min,
    queue_figures,
    service_level,
    swabbers_needed,
    wait_quantile_min,
)
from commgov.scheduling.verify import VerificationReport, Violation, is_valid_sampling_plan

__all__ = [
    "GUIDELINE_RESIDENTS_PER_SWABBER",
    "SCHEMA_VERSION",
    "BatchAssignment",
    "DoorToDoorBuilding",
    "DoorToDoorPlan",
    "DoorToDoorProblem",
    "HomeVisit",
    "NotificationBuilding",
    "NotificationPlan",
    "NotificationProblem",
    "Notifier",
    "NotifyMode",
    "PointSlotLoad",
    "Post",
    "PostTask",
    "QueueFigures",
    "Replan",
    "Roster",
    "RosterPolicy",
    "RosterProblem",
    "RoundBuilding",
    "RoundHousehold",
    "RoundPolicy",
    "RoundTeam",
    "SamplingBatch",
    "SamplingBuilding",
    "SamplingPlan",
    "SamplingPoint",
    "SamplingPolicy",
    "SamplingProblem",
    "SamplingTotals",
    "Staff",
    "UnservedBatch",
    "VerificationReport",
    "Violation",
    "check_problem",
    "door_to_door_bound",
    "door_to_door_instance",
    "door_to_door_problem_from_org",
    "erlang_b",
    "erlang_c",
    "is_valid_door_to_door_plan",
    "is_valid_notification_plan",
    "is_valid_roster",
    "is_valid_sampling_plan",
    "lanes_for_wait",
    "mean_wait_min",
    "notification_lower_bound",
    "notification_problem_from_org",
    "plan_door_to_door",
    "plan_notification",
    "plan_roster",
    "plan_sampling",
    "queue_figures",
    "reach_limit_m",
    "replan_sampling",
    "roster_problem_from_org",
    "sampling_problem_from_org",
    "service_level",
    "slot_capacity",
    "swabbers_needed",
    "wait_quantile_min",
    "walk_distance_m",
]


def plan_sampling(
    problem: SamplingProblem,
    *,
    objective: str = "lexicographic",
    time_limit_s: float = 30.0,
    strict: bool = False,
) -> SamplingPlan:
    """Assign every batch to one sampling point and one time slot, exactly.

    Method: CP-SAT (OR-Tools) on the F2 time-expanded fluid queue with unsplittable batches
    and one point per building (reference/scheduling.md §2.2, F2 + F3). Lexicographic tiers
    are solved one after another, each fixing the previous optimum as a constraint and
    hinted with the previous solution (no big-M weights):

    1. maximise people served (batches may be left unserved, with reasons);
    2. minimise walking, Σ people · walk_m (person-metres);
    3. finish early: each point's batches (fixed by tier 2) are scheduled earliest-fit,
       largest first. When no batch exceeds ``max_queue`` a point then serves at full
       capacity until its last batch is done, so every point finishes at the earliest slot
       its load allows. ``person_slots`` (Σ people · slot index) is reported, not minimised
       beyond that.

    A greedy completion then inserts, in batch-id order, every unplaced batch that still fits
    (at its building's point, else the nearest point in reach with room, earliest slot). After
    optimal tiers it finds nothing to add; after a tier stopped by the time limit it makes the
    plan maximal, which is what makes each ``POINT_CAPACITY_USED`` reason true. If CP-SAT found
    nothing at all, the greedy completion alone builds the plan.

    Status (``info.status``, :class:`~commgov.results.SolveStatus`):

    * ``OPTIMAL``: tiers 1 and 2 proven optimal and the greedy completion added nothing;
    * ``FEASIBLE``: a valid plan (it passes :func:`is_valid_sampling_plan`) whose optimality is
      not proven: a tier hit the time limit or was not started, or the greedy completion
      placed batches (including a plan built by the greedy completion alone);
    * ``LIMIT``: the deadline passed before the greedy completion had tried every batch. The
      plan keeps every hard rule (capacity, queue, reach, zones, one point per building), but
      the untried batches are listed unserved with a ``POINT_CAPACITY_USED`` reason that was
      not checked, so the verifier may report ``REASON_FALSE``. CP-SAT is stopped early
      enough (below) that this practically never happens: the greedy completion of 20,000
      households takes about 0.03 s;
    * ``INFEASIBLE`` is never returned: unserved batches are listed with reasons instead.

    Bound and gap (``info.bound``, ``info.gap``, on ``walk_person_m``): ``bound`` is a proven
    lower bound on the walking of any plan serving as many people, given only when tier 1 is
    proven optimal and the plan serves exactly that many people: tier 2's optimum when proven
    (then ``gap`` is 0), else CP-SAT's best bound on tier 2 (rounded up). Otherwise ``bound``
    is ``None``. ``gap = (walk_person_m - bound) / bound``; ``None`` without a bound or when
    the bound is 0 and the walking is not.

    When every batch is at most ``max_queue`` people, tiers 1-2 use an exact slot-free model
    (a set of batches can be scheduled at a point iff it fits in the point's open capacity).

    Deterministic: one CP-SAT worker, fixed seed, model built in id order, so the same input
    in any order gives byte-identical plan JSON (unless the time limit stops a tier).

    Parameters
    ----------
    problem : SamplingProblem
    objective : {"lexicographic"}
        The objective (only the lexicographic default for now).
    time_limit_s : float
        Wall-clock limit in seconds on the whole call, from entry to return (default 30).
        CP-SAT gets the time left less a reserve for the greedy phases and the plan records
        (a few tenths of a second on 20,000 households); a tier is not started with less than
        0.05 s left, and no model is built when it could not be built and solved in time.
        The call may overrun by the longest step between two deadline checks (building an
        objective or reading a solution: about 0.3 s on 20,000 households).
    strict : bool
        Raise :class:`~commgov.errors.InfeasibleError` if any batch is left unserved.

    Returns
    -------
    SamplingPlan
        Assignments, loads, door-to-door and home-visit lists, unserved batches with reasons,
        totals and :class:`~commgov.results.SolveInfo` (objective figures ``served``,
        ``walk_person_m`` and ``person_slots``; status, ``bound`` and ``gap`` as above).

    Raises
    ------
    ProblemError
        If the problem breaks a cross-record rule (:func:`check_problem`).
    InfeasibleError
        If ``strict`` and some batch is unserved.
    ValueError
        For an unknown ``objective`` or a non-positive ``time_limit_s``.
    SizeLimitError
        If the model would exceed the size guard (2 M assignment variables).
    SolverError
        If CP-SAT fails in a way the model rules out.
    """
    from commgov.scheduling._solver import plan_sampling as _plan

    return _plan(problem, objective=objective, time_limit_s=time_limit_s, strict=strict)
