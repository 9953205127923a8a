"""Records of the three lists (需求, 资源, 项目; docs/glossary.md) and the lifecycle operations."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal, Self, TypeVar
from zoneinfo import ZoneInfo

from pydantic import (
    AwareDatetime,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from commgov._records import NoBoolNumbers
from commgov.errors import LifecycleError
from commgov.lists._lifecycle import (
    FINAL_STATUSES,
    MAX_QUANTITY,
    HistoryEntry,
    Status,
    refusal,
)
from commgov.org._base import SENSITIVE, Record
from commgov.types import Id, Line, Text, TimeWindow, TimeZoneName


class Category(StrEnum):
    """What a need, resource or project is about (a seed list from published practice)."""

    ELDERLY_CARE = "elderly_care"
    MEDICAL = "medical"
    FOOD_SUPPLIES = "food_supplies"
    HOME_REPAIR = "home_repair"
    CHILDCARE_TUTORING = "childcare_tutoring"
    DISPUTE_MEDIATION = "dispute_mediation"
    LEGAL_AID = "legal_aid"
    EMPLOYMENT = "employment"
    FACILITIES = "facilities"
    ENVIRONMENT = "environment"
    CULTURE_SPORTS = "culture_sports"
    SAFETY = "safety"
    ORGANISATION_BUILDING = "organisation_building"
    MICRO_WISH = "micro_wish"
    OTHER = "other"


class NeedSource(StrEnum):
    """How a need came to the list (Gusu: visits, building groups, riders)."""

    HOUSEHOLD_VISIT = "household_visit"
    BUILDING_GROUP = "building_group"
    GRID_PATROL = "grid_patrol"
    WECHAT_GROUP = "wechat_group"
    HOTLINE_12345 = "hotline_12345"
    MAILBOX = "mailbox"
    DELIBERATION_MEETING = "deliberation_meeting"
    RIDER = "rider"
    RECEPTION_DAY = "reception_day"
    OTHER = "other"


class ProviderKind(StrEnum):
    """Who offers a resource."""

    RESIDENT_UNIT = "resident_unit"
    BUSINESS_ASSOCIATION = "business_association"
    PROPERTY_COMPANY = "property_company"
    SOCIAL_ORGANISATION = "social_organisation"
    IN_SERVICE_MEMBER = "in_service_member"
    PIONEER_TEAM = "pioneer_team"
    PARTNER_TEAM = "partner_team"
    VOLUNTEER_TEAM = "volunteer_team"
    RIDER_TEAM = "rider_team"
    INDIVIDUAL = "individual"


class ResourceType(StrEnum):
    """The kind of thing a resource is."""

    PEOPLE = "people"
    VENUE = "venue"
    GOODS = "goods"
    FUNDS = "funds"
    PROFESSIONAL_SERVICE = "professional_service"
    TRANSPORT = "transport"


class Formation(StrEnum):
    """How a project was formed."""

    MATCHED_AT_JOINT_MEETING = "matched_at_joint_meeting"
    SELF_CLAIMED = "self_claimed"
    ASSIGNED_BY_STREET = "assigned_by_street"


class Vulnerability(StrEnum):
    """Vulnerability of the people a need is for (sensitive)."""

    LIVING_ALONE = "living_alone"
    ELDERLY = "elderly"
    DISABLED = "disabled"
    MOBILITY_LIMITED = "mobility_limited"
    CHRONIC_ILLNESS = "chronic_illness"


class Recurrence(NoBoolNumbers):
    """A small recurrence rule: the item's window repeats every ``interval`` days or weeks.

    Repeats keep the local wall-clock time in ``time_zone`` (a 09:00–10:00 delivery stays at
    09:00 across a daylight-saving change) and the window's elapsed length. Exactly one of
    ``count`` and ``until`` bounds the series, so it is always finite. (A subset of RFC 5545
    ``FREQ=DAILY|WEEKLY;INTERVAL;COUNT|UNTIL``, kept small so it needs no extra dependency.)

    Attributes
    ----------
    freq : {"daily", "weekly"}
        Step unit.
    interval : int
        Steps between occurrences (1 … 366).
    count : int or None
        Number of occurrences, the first included (1 … 1000).
    until : datetime or None
        Last possible start (inclusive, timezone-aware); at most 1000 occurrences.
    time_zone : str
        IANA zone whose wall clock the repeats follow (default ``Asia/Shanghai``).

    Raises
    ------
    pydantic.ValidationError
        If neither or both of ``count`` and ``until`` are given.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    freq: Literal["daily", "weekly"]
    interval: int = Field(default=1, ge=1, le=366)
    count: int | None = Field(default=None, ge=1, le=1000)
    until: AwareDatetime | None = None
    time_zone: TimeZoneName = "Asia/Shanghai"

    @model_validator(mode="after")
    def _bounded(self) -> Self:
        if (self.count is None) == (self.until is None):
            raise ValueError("give exactly one of count and until: a recurrence must end")
        return self

    def occurrences(self, first: TimeWindow) -> tuple[TimeWindow, ...]:
        """The windows of the series that starts with ``first``, in time order.

        Parameters
        ----------
        first : TimeWindow
            The first occurrence.

        Returns
        -------
        tuple of TimeWindow
            ``count`` windows, or those starting at or before ``until`` (at most 1000).
        """
        zone = ZoneInfo(self.time_zone)
        wall = first.start.astimezone(zone).replace(tzinfo=None)
        length = first.duration
        step = timedelta(days=self.interval * (7 if self.freq == "weekly" else 1))
        limit = self.count if self.count is not None else 1000
        out: list[TimeWindow] = []
        for k in range(limit):
            start = (wall + k * step).replace(tzinfo=zone)
            if self.until is not None and start > self.until:
                break
            out.append(TimeWindow(start=start, end=start + length))
        return tuple(out)


def _sorted_unique(cls: type, value: tuple[str, ...]) -> tuple[str, ...]:
    """Sorted, without repeats: sets of ids or flags in canonical order."""
    return tuple(sorted(set(value)))


class ListItem(Record):
    """Fields shared by needs, resources and projects.

    Attributes
    ----------
    id : str
        Stable id.
    title : str
        Short title (内容), one line of 1–200 characters.
    description : str
        Free text, newlines allowed (sensitive: may describe residents).
    category : Category
        What it is about.
    unit_id : str
        The organisational unit whose list holds it (community, compound or building id);
        summaries group by it.
    place_id : str or None
        Where it is: a building, entrance, household or site id.
    quantity : int
        How much is asked, offered or planned, in ``measure`` (1 … 10⁹).
    measure : str
        Unit of ``quantity`` (``"parcels"``, ``"hours"``, ``"visits"``); default ``"items"``.
    window : TimeWindow or None
        When (half-open, timezone-aware); the first occurrence if it recurs.
    priority : int
        1 … 1000, higher is more urgent (matching sums priorities served).
    raised_at : datetime
        When it was put on the list (timezone-aware).
    recorded_by : str
        Id of who put it on the list.
    initial_status : Status
        Status when it was put on the list (``raised``; another status when imported from a
        table kept elsewhere).
    initial_fulfilled : int
        Quantity already delivered when put on the list (0 unless imported).
    history : tuple of HistoryEntry
        Every change since, append-only, in time order; each a legal transition
        (:data:`TRANSITIONS`) or a progress report while ``in_progress``.

    Raises
    ------
    pydantic.ValidationError
        If the history is not a legal chain from ``initial_status``, is out of time order,
        delivers more than ``quantity``, or reaches ``fulfilled`` with less delivered.
    """

    title: Line = Field(min_length=1, max_length=200)
    description: Text = Field(default="", max_length=5000, json_schema_extra=SENSITIVE)
    category: Category
    unit_id: Id
    place_id: Id | None = None
    quantity: int = Field(default=1, ge=1, le=MAX_QUANTITY)
    measure: Line = Field(default="items", min_length=1, max_length=40)
    window: TimeWindow | None = None
    priority: int = Field(default=1, ge=1, le=1000)
    raised_at: AwareDatetime
    recorded_by: Id
    initial_status: Status = Status.RAISED
    initial_fulfilled: int = Field(default=0, ge=0, le=MAX_QUANTITY)
    history: tuple[HistoryEntry, ...] = ()

    @model_validator(mode="after")
    def _legal_history(self) -> Self:
        problem = check_history(self)
        if problem is not None:
            raise ValueError(problem)
        return self

    @property
    def status(self) -> Status:
        """Current status: that of the last history entry, else ``initial_status``."""
        return self.history[-1].to_status if self.history else self.initial_status

    @property
    def fulfilled(self) -> int:
        """Quantity delivered so far (``initial_fulfilled`` plus every progress report)."""
        return self.initial_fulfilled + sum(e.delivered for e in self.history)

    @property
    def outstanding(self) -> int:
        """Quantity not yet delivered (``quantity - fulfilled``)."""
        return self.quantity - self.fulfilled

    @property
    def is_final(self) -> bool:
        """Whether the item is closed out, rejected or cancelled (no way out)."""
        return self.status in FINAL_STATUSES


def check_history(item: ListItem) -> str | None:
    """What is wrong with ``item``'s quantities and history, or ``None``."""
    status, done, last = item.initial_status, item.initial_fulfilled, item.raised_at
    if done > item.quantity:
        return f"initial_fulfilled {done} exceeds quantity {item.quantity}"
    if status in (Status.FULFILLED, Status.CLOSED_OUT) and done != item.quantity:
        return f"initial_status {status.value} needs initial_fulfilled = quantity {item.quantity}"
    for i, entry in enumerate(item.history):
        where = f"history[{i}]"
        if entry.from_status != status:
            return f"{where} starts from {entry.from_status.value}, but the item was {status.value}"
        if entry.at < last:
            return f"{where} at {entry.at.isoformat()} is before {last.isoformat()}"
        if entry.is_progress:
            if status != Status.IN_PROGRESS or entry.delivered == 0:
                return f"{where}: progress (delivered > 0) is reported only while in_progress"
        else:
            why = refusal(status, entry.to_status)
            if why is not None:
                return f"{where}: {why}"
            if entry.delivered:
                return f"{where}: a status change delivers nothing; report progress first"
            if entry.to_status == Status.FULFILLED and done != item.quantity:
                return (
                    f"{where}: cannot be fulfilled with {done} of {item.quantity} "
                    f"{item.measure} delivered"
                )
        done += entry.delivered
        if done > item.quantity:
            return f"{where}: delivered {done} exceeds quantity {item.quantity} {item.measure}"
        status, last = entry.to_status, entry.at
    return None


class Need(ListItem):
    """A need on the needs list (需求清单).

    All :class:`ListItem` fields (``quantity`` is what is requested), plus:

    Attributes
    ----------
    source : NeedSource
        How it came to the list (household visit, building group, rider, …).
    requester_id : str or None
        Who asked: a person, household, unit or organisation id (pseudonymous).
    beneficiary_count : int
        People it serves (≥ 0; default 1).
    vulnerability : tuple of Vulnerability
        Of those people, sorted (sensitive: health data under PIPL).
    recurrence : Recurrence or None
        Repeats of ``window`` (needs ``window``).
    satisfaction : int or None
        Resident's rating after close-out, 1 … 5.
    """

    source: NeedSource
    requester_id: Id | None = None
    beneficiary_count: int = Field(default=1, ge=0, le=MAX_QUANTITY)
    vulnerability: tuple[Vulnerability, ...] = Field(default=(), json_schema_extra=SENSITIVE)
    recurrence: Recurrence | None = None
    satisfaction: int | None = Field(default=None, ge=1, le=5)

    _sort_flags = field_validator("vulnerability")(_sorted_unique)

    @model_validator(mode="after")
    def _recurring_has_window(self) -> Self:
        if self.recurrence is not None and self.window is None:
            raise ValueError("a recurring need needs a window (its first occurrence)")
        return self

    def occurrences(self) -> tuple[TimeWindow, ...]:
        """The windows of this need: every repeat if it recurs, else ``(window,)`` or ``()``."""
        if self.window is None:
            return ()
        if self.recurrence is None:
            return (self.window,)
        return self.recurrence.occurrences(self.window)


class Resource(ListItem):
    """A resource on the resources list (资源清单).

    All :class:`ListItem` fields (``quantity`` is the capacity offered, ``window`` when it is
    available), plus:

    Attributes
    ----------
    provider_id : str
        Who offers it: an organisation, team or person id.
    provider_kind : ProviderKind
        What kind of provider (pioneer team, partner team, business association, riders, …).
    resource_type : ResourceType
        People, venue, goods, funds, professional service or transport.
    service_area : tuple of str
        Ids of the places it serves, sorted.
    conditions : str
        Conditions of use, free text.
    contact : str
        How to reach the provider (sensitive: a phone number or name).
    """

    provider_id: Id
    provider_kind: ProviderKind
    resource_type: ResourceType
    service_area: tuple[Id, ...] = ()
    conditions: Text = Field(default="", max_length=2000)
    contact: Line = Field(default="", max_length=200, json_schema_extra=SENSITIVE)

    _sort_area = field_validator("service_area")(_sorted_unique)


class Project(ListItem):
    """A project on the projects list (项目清单).

    All :class:`ListItem` fields (``quantity`` is the planned output, ``fulfilled`` what was
    delivered), plus the ones below. Projects follow the same lifecycle as needs and
    resources; the project statuses of published practice map onto it as PROPOSED →
    ``raised``, AGREED → ``claimed``, IN_PROGRESS → ``in_progress``, DELIVERED →
    ``fulfilled``, CLOSED_OUT → ``closed_out``, CANCELLED → ``cancelled``.

    Attributes
    ----------
    need_ids, resource_ids : tuple of str
        The needs it serves and the resources it uses, sorted.
    lead_org_id : str
        The organisation that leads it.
    partner_ids : tuple of str
        Co-building units (共建单位), sorted.
    owner_person_id : str or None
        The person responsible.
    formation : Formation
        Matched at a joint meeting, self-claimed (揭榜) or assigned by the street.
    """

    need_ids: tuple[Id, ...] = ()
    resource_ids: tuple[Id, ...] = ()
    lead_org_id: Id
    partner_ids: tuple[Id, ...] = ()
    owner_person_id: Id | None = None
    formation: Formation

    _sort_links = field_validator("need_ids", "resource_ids", "partner_ids")(_sorted_unique)


ItemT = TypeVar("ItemT", bound=ListItem)


def transition(item: ItemT, to: Status | str, *, by: str, at: datetime, why: str = "") -> ItemT:
    """The item moved to status ``to``, with the change appended to its history.

    Parameters
    ----------
    item : Need, Resource or Project
        The item (unchanged: records are frozen).
    to : Status or str
        The new status.
    by : str
        Id of who makes the change.
    at : datetime
        When (timezone-aware; not before the last change).
    why : str, optional
        Reason or note.

    Returns
    -------
    Need, Resource or Project
        A copy with one more history entry.

    Raises
    ------
    LifecycleError
        If :data:`TRANSITIONS` does not allow the change (the message names the item, both
        statuses and the allowed ones), if ``at`` is before the last change, or if ``to`` is
        ``fulfilled`` while less than ``quantity`` has been delivered.
    pydantic.ValidationError
        If ``to``, ``by``, ``at`` or ``why`` is malformed (unknown status, naive datetime).
    """
    target = Status(to)
    current = item.status
    why_not = refusal(current, target)
    if why_not is None and target == Status.FULFILLED and item.fulfilled != item.quantity:
        why_not = (
            f"cannot be fulfilled with {item.fulfilled} of {item.quantity} {item.measure} "
            "delivered: report progress first, or cancel or escalate the rest"
        )
    if why_not is not None:
        raise LifecycleError(item.id, current, target, why_not)
    entry = HistoryEntry(at=at, by=by, from_status=current, to_status=target, why=why)
    return _append(item, entry)


def record_progress(item: ItemT, delivered: int, *, by: str, at: datetime, why: str = "") -> ItemT:
    """The item with ``delivered`` more of its quantity delivered (partial fulfilment).

    Parameters
    ----------
    item : Need, Resource or Project
        The item; must be ``in_progress``.
    delivered : int
        Quantity delivered now, in the item's ``measure`` (≥ 1, at most what is outstanding).
    by, at, why
        Who, when (timezone-aware) and a note, as for :func:`transition`.

    Returns
    -------
    Need, Resource or Project
        A copy with one more (progress) history entry; the status stays ``in_progress``.

    Raises
    ------
    LifecycleError
        If the item is not in progress, ``delivered`` is not positive or exceeds what is
        outstanding, or ``at`` is before the last change.
    """
    current = item.status
    problem = None
    if current != Status.IN_PROGRESS:
        problem = f"progress is reported only while in_progress, not {current.value}"
    elif isinstance(delivered, bool) or not isinstance(delivered, int) or delivered < 1:
        problem = f"delivered must be a positive whole number, not {delivered!r}"
    elif delivered > item.outstanding:
        problem = (
            f"delivered {delivered} exceeds the {item.outstanding} {item.measure} outstanding "
            f"({item.fulfilled} of {item.quantity} delivered)"
        )
    if problem is not None:
        raise LifecycleError(item.id, current, None, problem)
    entry = HistoryEntry(
        at=at, by=by, from_status=current, to_status=current, delivered=delivered, why=why
    )
    return _append(item, entry)


def _append(item: ItemT, entry: HistoryEntry) -> ItemT:
    last = item.history[-1].at if item.history else item.raised_at
    if entry.at < last:
        raise LifecycleError(
            item.id,
            item.status,
            None if entry.is_progress else entry.to_status,
            f"at {entry.at.isoformat()} is before the last change ({last.isoformat()}): "
            "history is append-only, in time order",
        )
    return item.model_copy(update={"history": (*item.history, entry)})
