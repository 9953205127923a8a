"""Notification plans: the fixture and the mutation table (testing only).

Every operator of :data:`NOTIFICATION_MUTATIONS` breaks one record of a valid plan and leaves
every other figure as it was, so that
:func:`~commgov.scheduling.notification.is_valid_notification_plan` reports exactly its code.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from commgov.scheduling.notification import (
    NotificationBuilding,
    NotificationPlan,
    NotificationProblem,
    NotificationViolationCode,
    Notifier,
)
from commgov.testing._mutation import (
    Mutation,
    MutationTable,
    bumped,
    drop_first,
    first_twice,
    reversed_items,
    with_first,
)
from commgov.types import GeoPoint

__all__ = ["NOTIFICATION_MUTATIONS", "notification_fixtures"]

_V = NotificationViolationCode
_TABLE = MutationTable("notification")

_HOME = GeoPoint(lon=120.62, lat=31.34)


def notification_fixtures() -> dict[str, NotificationProblem]:
    """``{"default": problem}``: five buildings near two volunteers' home and a third volunteer
    so far away that the plan leaves their route empty."""
    start = datetime(2022, 4, 12, 7, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    buildings = [
        NotificationBuilding(id=f"b{i:02d}",
                             location=GeoPoint(lon=120.62 + i / 3000, lat=31.34 + (i % 3) / 4000),
                             households=10 + 5 * i, floors=1 + i % 4)
        for i in range(5)
    ]
    volunteers = [
        Notifier(id="v0", location=_HOME),
        Notifier(id="v1", location=_HOME),
        Notifier(id="v9-far", location=GeoPoint(lon=120.80, lat=31.50)),
    ]
    problem = NotificationProblem(timezone="Asia/Shanghai", start=start, buildings=buildings,
                                  volunteers=volunteers)
    return {"default": problem}


@_TABLE.add(_V.MISSING_BUILDING)
def mutate_notice_missing(problem: NotificationProblem,
                          plan: NotificationPlan) -> NotificationPlan | None:
    """Drop one building's notice (its stop stays on the route)."""
    return drop_first(plan, "buildings")


@_TABLE.add(_V.DUPLICATE_BUILDING)
def mutate_notice_twice(problem: NotificationProblem,
                        plan: NotificationPlan) -> NotificationPlan | None:
    """List one building's notice twice (adjacent, so the order by id holds)."""
    return first_twice(plan, "buildings")


@_TABLE.add(_V.UNKNOWN_ID)
def mutate_unknown_building(problem: NotificationProblem,
                            plan: NotificationPlan) -> NotificationPlan | None:
    """Add a notice for a building id the problem lacks (sorted last)."""
    if not plan.buildings:
        return None
    ghost = plan.buildings[-1].model_copy(update={"building_id": "~ghost"})
    return plan.model_copy(update={"buildings": [*plan.buildings, ghost]})


@_TABLE.add(_V.MISSING_VOLUNTEER)
def mutate_route_missing(problem: NotificationProblem,
                         plan: NotificationPlan) -> NotificationPlan | None:
    """Drop the (empty) route of an idle volunteer."""
    for i, r in enumerate(plan.routes):
        if not r.stops:
            return plan.model_copy(update={"routes": [*plan.routes[:i], *plan.routes[i + 1:]]})
    return None


@_TABLE.add(_V.ORDER)
def mutate_notices_unsorted(problem: NotificationProblem,
                            plan: NotificationPlan) -> NotificationPlan | None:
    """List the building notices in reverse id order."""
    return reversed_items(plan, "buildings")


@_TABLE.add(_V.TIME_MISMATCH)
def mutate_plan_start(problem: NotificationProblem,
                      plan: NotificationPlan) -> NotificationPlan | None:
    """Report the plan's start a minute late."""
    return plan.model_copy(update={"start": plan.start + timedelta(minutes=1)})


@_TABLE.add(_V.RECORD_MISMATCH)
def mutate_notice_households(problem: NotificationProblem,
                             plan: NotificationPlan) -> NotificationPlan | None:
    """Report one more household on a notice than its stop has."""
    return with_first(plan, "buildings", lambda n: bumped(n, "households"))


@_TABLE.add(_V.TOTALS_MISMATCH)
def mutate_totals(problem: NotificationProblem, plan: NotificationPlan) -> NotificationPlan | None:
    """Report one metre more in the plan's walking total."""
    return plan.model_copy(update={"totals": bumped(plan.totals, "walk_m")})


@_TABLE.add(_V.BOUND_INVALID)
def mutate_bound_above(problem: NotificationProblem,
                       plan: NotificationPlan) -> NotificationPlan | None:
    """Claim a bound one second above the makespan (gap and status left as they were)."""
    return plan.model_copy(update={"totals": plan.totals.model_copy(
        update={"bound_s": plan.totals.makespan_s + 1})})


#: name → :class:`~commgov.testing.Mutation` of notification plans.
NOTIFICATION_MUTATIONS: dict[str, Mutation] = _TABLE.mutations
