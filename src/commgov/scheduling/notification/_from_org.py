"""The notification problem of one community, from its organisation model."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from commgov._problem import coerce_window
from commgov.errors import InputIssue, ProblemError
from commgov.scheduling.notification._problem import (
    _WHAT,
    NotificationBuilding,
    NotificationProblem,
    Notifier,
)
from commgov.types import TimeWindow

if TYPE_CHECKING:
    from commgov.org import OrgGraph, OrgModel

__all__ = ["notification_problem_from_org"]


def notification_problem_from_org(
    model: OrgModel | OrgGraph,
    community_id: str,
    *,
    window: TimeWindow,
    enrolment: str | None = None,
    use_availability: bool = True,
    **parameters: Any,
) -> NotificationProblem:
    """Build the notification problem of one community from its organisation model.

    Buildings are the community's buildings with at least one household: households are the
    sum over its entrances (单元), else the building's own counts, else its household records;
    floors, entrances (at least 1) and lift come from the records. Volunteers are the people
    with the ``volunteer`` role and a home in the community (only those enrolled in
    ``enrolment`` when given, e.g. ``"海棠先锋"``), at their own position or, without one,
    their home building's. Nothing is dropped silently: a building without households and a
    volunteer not enrolled, without any position or not available are listed in the
    problem's ``left_out`` with the reason (``NO_HOUSEHOLDS``, ``NOT_ENROLLED``,
    ``NO_LOCATION``, ``NOT_AVAILABLE``).

    The notice is issued at ``window.start`` (the problem's ``start``); availability is looked
    up inside ``window``: a volunteer with availability windows sets out at the start of
    their first availability window that overlaps ``window`` (never before
    ``window.start``) and is left out when none does; one without windows sets out at
    ``window.start``. ``window.end`` only limits this look-up (a volunteer first free at or
    after it is left out); the plan itself has no deadline, it minimises the makespan. With
    ``window.end`` later than every availability window, the problem depends on
    ``window.start`` alone.

    Parameters
    ----------
    model : OrgModel or OrgGraph
        The organisation model.
    community_id : str
        The community (12-digit code) to notify.
    window : commgov.types.TimeWindow
        The call-out period: the notice is issued at ``window.start`` (a whole second);
        volunteers are taken as available when their availability overlaps the window.
    enrolment : str, optional
        Keep only volunteers with this enrolment (brand), e.g. ``"海棠先锋"``.
    use_availability : bool, default True
        ``False``: every volunteer sets out at ``window.start`` whatever their windows say (a
        call-out of all volunteers, as in 虎池苑社区's half-hour notice).
    **parameters
        Further fields of :class:`NotificationProblem` (``mode``, ``knock_minutes``,
        ``offline_share``, ``walking_speed_m_per_min`` ...).

    Returns
    -------
    NotificationProblem
        In the community's time zone.

    Raises
    ------
    commgov.errors.ProblemError
        If the community is unknown, has no building with households or no volunteer, a
        record holds a value the notification records refuse (naming the record, field and
        value), ``window`` is not a :class:`~commgov.types.TimeWindow`, or a parameter is
        invalid.
    commgov.errors.OrgStructureError
        If the model itself is invalid.

    Notes
    -----
    O(records of the community + people of the model · their availability windows).

    Examples
    --------
    >>> from datetime import datetime, timedelta
    >>> from zoneinfo import ZoneInfo
    >>> from commgov.datasets import HUCHIYUAN, gusu
    >>> from commgov.types import TimeWindow
    >>> at = datetime(2022, 4, 11, 19, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    >>> p = notification_problem_from_org(
    ...     gusu(0, communities=[HUCHIYUAN]), HUCHIYUAN,
    ...     window=TimeWindow(start=at, end=at + timedelta(hours=2)),
    ...     enrolment="海棠先锋", use_availability=False)
    >>> len(p.buildings), sum(b.households for b in p.buildings), len(p.volunteers)
    (158, 1765, 20)
    """
    from commgov.org import Building, Entrance, Household, NodeKind, Role
    from commgov.org._queries import community_scope, left_out_person, person_location
    from commgov.results import LeftOut, LeftOutReasonCode

    window = coerce_window(window, community_id, _WHAT)
    graph, scope = community_scope(model, community_id, _WHAT)
    issues: list[InputIssue] = []
    for name in ("timezone", "start", "buildings", "volunteers"):
        if name in parameters:
            issues.append(
                InputIssue(community_id, name, "<given>", "is set from the model; do not pass it")
            )
    if issues:
        raise ProblemError(issues, what=_WHAT)
    buildings: list[NotificationBuilding] = []
    left_out: list[LeftOut] = []
    for bid in sorted(graph.descendants(community_id, NodeKind.BUILDING)):
        record = graph.record(bid)
        assert isinstance(record, Building)
        entrances = [graph.record(e) for e in graph.children(bid)
                     if graph.kind(e) is NodeKind.ENTRANCE]
        if entrances:
            households = sum(e.counts.households for e in entrances if isinstance(e, Entrance))
        elif record.counts is not None:
            households = record.counts.households
        else:
            households = sum(
                1 for h in graph.descendants(bid, NodeKind.HOUSEHOLD)
                if isinstance(graph.record(h), Household)
            )
        if households == 0:
            left_out.append(
                LeftOut(record=bid, kind="building", code=LeftOutReasonCode.NO_HOUSEHOLDS)
            )
            continue
        try:
            buildings.append(
                NotificationBuilding(
                    id=bid,
                    location=record.location,
                    households=households,
                    floors=record.floors,
                    entrances=max(1, len(entrances)),
                    has_lift=record.has_lift,
                )
            )
        except ValidationError as exc:
            issues.extend(ProblemError.from_validation(exc, record=bid, what=_WHAT).issues)
    aware, until = window.start.astimezone(UTC), window.end.astimezone(UTC)
    volunteers: list[Notifier] = []
    for p in sorted(graph.model.people, key=lambda q: q.id):
        if Role.VOLUNTEER not in p.roles or p.home_id not in scope:
            continue
        if enrolment is not None and enrolment not in p.enrolments:
            left_out.append(
                left_out_person(p.id, LeftOutReasonCode.NOT_ENROLLED, enrolment=enrolment)
            )
            continue
        location = person_location(graph, p)
        if location is None:
            left_out.append(left_out_person(p.id, LeftOutReasonCode.NO_LOCATION))
            continue
        sets_out: datetime | None = aware
        if p.availability and use_availability:
            later = sorted((w for w in p.availability if w.end > aware), key=lambda w: w.start)
            sets_out = max(aware, later[0].start) if later and later[0].start < until else None
        if sets_out is None:
            left_out.append(left_out_person(p.id, LeftOutReasonCode.NOT_AVAILABLE))
            continue
        try:
            volunteers.append(Notifier(id=p.id, location=location, start=sets_out))
        except ValidationError as exc:
            issues.extend(ProblemError.from_validation(exc, record=p.id, what=_WHAT).issues)
    if not buildings and not issues:
        issues.append(InputIssue(community_id, "buildings", 0,
                                 "the community has no building with households"))
    if buildings and not volunteers and not issues:
        who = f"volunteer enrolled in {enrolment!r}" if enrolment else "volunteer"
        issues.append(InputIssue(community_id, "volunteers", 0,
                                 f"the community has no {who} with a location who is "
                                 "available in the window"))
    if issues:
        raise ProblemError(issues, what=_WHAT)
    timezone = getattr(graph.record(community_id), "timezone", graph.model.timezone)
    return NotificationProblem(
        timezone=timezone, start=window.start, buildings=buildings, volunteers=volunteers,
        left_out=left_out, **parameters,
    )
