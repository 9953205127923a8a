"""Scheduling families: sampling plans, door-to-door rounds, notification, rosters, staffing.

Each family is a subpackage whose ``__init__`` is its only public surface; this package
re-exports them all:

* :mod:`commgov.scheduling.sampling` — sampling-timeslot plans (:func:`plan_sampling`);
* :mod:`commgov.scheduling.door_to_door` — door-to-door rounds (:func:`plan_door_to_door`);
* :mod:`commgov.scheduling.notification` — notification plans (:func:`plan_notification`);
* :mod:`commgov.scheduling.roster` — duty rosters (:func:`plan_roster`);
* :mod:`commgov.scheduling.staffing` — staffing formulas (:func:`erlang_c`,
  :func:`lanes_for_wait`, :func:`swabbers_needed`).

OR-Tools is imported only when a planner is called.
"""

from __future__ import annotations

__all__: list[str] = []

# ---- sampling (BEGIN) -------------------------------------------------------------------
from commgov.scheduling.sampling import (
    SCHEMA_VERSION,
    BatchAssignment,
    DoorToDoorBuilding,
    HomeVisit,
    PointSlotLoad,
    Replan,
    SamplingBatch,
    SamplingBuilding,
    SamplingPlan,
    SamplingPoint,
    SamplingPolicy,
    SamplingProblem,
    SamplingReasonCode,
    SamplingTotals,
    SamplingViolationCode,
    UnservedBatch,
    check_problem,
    is_valid_sampling_plan,
    plan_sampling,
    reach_limit_m,
    replan_sampling,
    sampling_lower_bound,
    sampling_problem_from_org,
    slot_capacity,
    walk_distance_m,
)

__all__ += [
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
# ---- sampling (END) ---------------------------------------------------------------------

# ---- door-to-door (BEGIN) ---------------------------------------------------------------
from commgov.scheduling.door_to_door import (
    DoorToDoorPlan,
    DoorToDoorProblem,
    DoorToDoorReasonCode,
    DoorToDoorViolationCode,
    RoundBuilding,
    RoundHousehold,
    RoundPolicy,
    RoundTeam,
    door_to_door_lower_bound,
    door_to_door_problem_from_org,
    is_valid_door_to_door_plan,
    plan_door_to_door,
)

__all__ += [
    "DoorToDoorPlan",
    "DoorToDoorProblem",
    "DoorToDoorReasonCode",
    "DoorToDoorViolationCode",
    "RoundBuilding",
    "RoundHousehold",
    "RoundPolicy",
    "RoundTeam",
    "door_to_door_lower_bound",
    "door_to_door_problem_from_org",
    "is_valid_door_to_door_plan",
    "plan_door_to_door",
]
# ---- door-to-door (END) -----------------------------------------------------------------

# ---- notification (BEGIN) ---------------------------------------------------------------
from commgov.scheduling.notification import (
    NotificationBuilding,
    NotificationPlan,
    NotificationProblem,
    NotificationViolationCode,
    Notifier,
    NotifyMode,
    is_valid_notification_plan,
    notification_lower_bound,
    notification_problem_from_org,
    plan_notification,
)

__all__ += [
    "NotificationBuilding",
    "NotificationPlan",
    "NotificationProblem",
    "NotificationViolationCode",
    "Notifier",
    "NotifyMode",
    "is_valid_notification_plan",
    "notification_lower_bound",
    "notification_problem_from_org",
    "plan_notification",
]
# ---- notification (END) -----------------------------------------------------------------

# ---- roster and staffing (BEGIN) --------------------------------------------------------
from commgov.scheduling.roster import (
    Post,
    PostTask,
    Roster,
    RosterPolicy,
    RosterProblem,
    RosterReasonCode,
    RosterViolationCode,
    Staff,
    is_valid_roster,
    plan_roster,
    roster_problem_from_org,
)
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

__all__ += [
    "GUIDELINE_RESIDENTS_PER_SWABBER",
    "Post",
    "PostTask",
    "QueueFigures",
    "Roster",
    "RosterPolicy",
    "RosterProblem",
    "RosterReasonCode",
    "RosterViolationCode",
    "Staff",
    "erlang_b",
    "erlang_c",
    "is_valid_roster",
    "lanes_for_wait",
    "mean_wait_min",
    "plan_roster",
    "queue_figures",
    "roster_problem_from_org",
    "service_level",
    "swabbers_needed",
    "wait_quantile_min",
]
# ---- roster and staffing (END) ----------------------------------------------------------
