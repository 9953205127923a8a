"""Notification plans (通知): which volunteer tells which buildings, in what order.

When a sampling round is called, the community's volunteers must reach every household: in
虎池苑社区 20 Haitang Pioneers (海棠先锋) notified 1,765 households within half an hour through
building WeChat groups, knocking on the doors of households without a phone.

Entry points
------------
* :func:`plan_notification` — plan the routes (methods :data:`METHODS`: ``"auto"``,
  ``"local_search"``) → :class:`NotificationPlan`;
* :func:`notification_lower_bound` — a proven lower bound on the makespan
  (:class:`commgov.results.ObjectiveBound`);
* :func:`is_valid_notification_plan` — the independent verifier
  (:class:`commgov.verification.VerificationReport` with :class:`NotificationViolationCode`);
* :func:`notification_problem_from_org` — the problem of one community of an organisation
  model;
* the records :class:`NotificationProblem`, :class:`NotificationBuilding`,
  :class:`Notifier`, :class:`NotifyMode` and the plan records, and the time rules the
  planner and the verifier share: :func:`notify_minutes`, :func:`notify_seconds`,
  :func:`knocked_households`, :func:`walk_metres`, :func:`walk_seconds`,
  :func:`start_offset_seconds`.

All durations are whole seconds; instants are timezone-aware, stored in UTC in the problem and
shown in the problem's time zone in the plan. OR-Tools is imported only when a plan or a bound
is computed.
"""

from __future__ import annotations

from commgov.scheduling.notification._bound import notification_lower_bound
from commgov.scheduling.notification._from_org import notification_problem_from_org
from commgov.scheduling.notification._problem import (
    SCHEMA_VERSION,
    BuildingNotice,
    NotificationBuilding,
    NotificationPlan,
    NotificationProblem,
    NotificationStop,
    NotificationTotals,
    Notifier,
    NotifyMode,
    VolunteerRoute,
)
from commgov.scheduling.notification._rules import (
    knocked_households,
    notify_minutes,
    notify_seconds,
    start_offset_seconds,
    walk_metres,
    walk_seconds,
)
from commgov.scheduling.notification._solve import METHODS, plan_notification
from commgov.scheduling.notification._verify import (
    NotificationViolationCode,
    is_valid_notification_plan,
)

__all__ = [
    "METHODS",
    "SCHEMA_VERSION",
    "BuildingNotice",
    "NotificationBuilding",
    "NotificationPlan",
    "NotificationProblem",
    "NotificationStop",
    "NotificationTotals",
    "NotificationViolationCode",
    "Notifier",
    "NotifyMode",
    "VolunteerRoute",
    "is_valid_notification_plan",
    "knocked_households",
    "notification_lower_bound",
    "notification_problem_from_org",
    "notify_minutes",
    "notify_seconds",
    "plan_notification",
    "start_offset_seconds",
    "walk_metres",
    "walk_seconds",
]
