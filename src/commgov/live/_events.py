"""The events of live operations (private).

An event is one change that happened in a community during an emergency: a building sealed,
a volunteer who drops out, a need raised, a task claimed, declined or done, a volunteer who
checks in or out. Events are immutable records with a ``kind`` (the discriminator of the
union :data:`Event`), the tz-aware instant ``at`` it happened, and an optional ``event_id``
chosen by the app (an event whose id was applied before is not applied twice).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    Field,
    TypeAdapter,
    ValidationInfo,
    field_validator,
)

from commgov._records import FrozenRecord
from commgov.lists import Need
from commgov.matching import Task
from commgov.org._base import SENSITIVE
from commgov.types import Id, Line


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


#: A tz-aware instant, kept in UTC: equal instants give equal bytes, and order and durations
#: are those of real time (not of wall clocks around a daylight-saving fold).
Instant = Annotated[AwareDatetime, AfterValidator(_utc)]

__all__ = [
    "EVENT_KINDS",
    "EVENT_TYPES",
    "BuildingReleased",
    "BuildingSealed",
    "CheckedIn",
    "CheckedOut",
    "Event",
    "NeedRaised",
    "TaskAdded",
    "TaskCancelled",
    "TaskClaimed",
    "TaskDeclined",
    "TaskDone",
    "VolunteerBack",
    "VolunteerUnavailable",
    "event_adapter",
]


class _Event(FrozenRecord):
    """Fields every event has: ``event_id`` (optional, the app's), ``at`` (tz-aware, kept in
    UTC) and ``note`` (one line of at most 200 characters; personal data allowed — marked
    sensitive, so masked in every default export and store read)."""

    event_id: Id | None = None
    at: Instant
    note: Annotated[Line, Field(max_length=200, json_schema_extra=SENSITIVE)] = ""


class BuildingSealed(_Event):
    """A building is sealed (封控) from ``at``: its residents are sampled door to door and
    served at their doors; it leaves the walk-in sampling plan."""

    kind: Literal["building_sealed"] = "building_sealed"
    building_id: Id


class BuildingReleased(_Event):
    """A sealed building is released (解封) from ``at``."""

    kind: Literal["building_released"] = "building_released"
    building_id: Id


class VolunteerUnavailable(_Event):
    """A volunteer drops out from ``at`` until ``until`` (open-ended when ``None``).

    Tasks the volunteer had claimed and not done are open again; an open check-in is closed
    at ``at``.
    """

    kind: Literal["volunteer_unavailable"] = "volunteer_unavailable"
    volunteer_id: Id
    until: Instant | None = None

    @field_validator("until")
    @classmethod
    def _until_after_at(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        at = info.data.get("at")
        if value is not None and at is not None and value <= at:
            raise ValueError(f"must be after at ({at.isoformat()})")
        return value


class VolunteerBack(_Event):
    """A volunteer who dropped out is available again from ``at``."""

    kind: Literal["volunteer_back"] = "volunteer_back"
    volunteer_id: Id


class NeedRaised(_Event):
    """A need is put on the needs list (需求清单)."""

    kind: Literal["need_raised"] = "need_raised"
    need: Need


class TaskAdded(_Event):
    """A volunteer task is added (open, for matching)."""

    kind: Literal["task_added"] = "task_added"
    task: Task


class TaskClaimed(_Event):
    """A volunteer claims (接单) an open task; the claim is kept by every re-match."""

    kind: Literal["task_claimed"] = "task_claimed"
    task_id: Id
    volunteer_id: Id


class TaskDeclined(_Event):
    """A volunteer declines a task; if they had claimed it, it is open again. A re-match
    never offers the task to them again."""

    kind: Literal["task_declined"] = "task_declined"
    task_id: Id
    volunteer_id: Id


class TaskDone(_Event):
    """The volunteer who claimed a task has done it."""

    kind: Literal["task_done"] = "task_done"
    task_id: Id
    volunteer_id: Id


class TaskCancelled(_Event):
    """A task is withdrawn (the need went away); it is not matched any more."""

    kind: Literal["task_cancelled"] = "task_cancelled"
    task_id: Id


class CheckedIn(_Event):
    """A volunteer checks in (签到) for duty at ``at``."""

    kind: Literal["checked_in"] = "checked_in"
    volunteer_id: Id


class CheckedOut(_Event):
    """A volunteer checks out (签退) at ``at``; the shift since the check-in is served time."""

    kind: Literal["checked_out"] = "checked_out"
    volunteer_id: Id


#: Any event: a union discriminated by ``kind`` (read one with :func:`event_adapter`).
Event = Annotated[
    BuildingSealed
    | BuildingReleased
    | VolunteerUnavailable
    | VolunteerBack
    | NeedRaised
    | TaskAdded
    | TaskClaimed
    | TaskDeclined
    | TaskDone
    | TaskCancelled
    | CheckedIn
    | CheckedOut,
    Field(discriminator="kind"),
]

#: The event kinds, in the order of :data:`Event`.
EVENT_KINDS: tuple[str, ...] = (
    "building_sealed",
    "building_released",
    "volunteer_unavailable",
    "volunteer_back",
    "need_raised",
    "task_added",
    "task_claimed",
    "task_declined",
    "task_done",
    "task_cancelled",
    "checked_in",
    "checked_out",
)

#: The event classes, in the order of :data:`Event`.
EVENT_TYPES: tuple[type[_Event], ...] = (
    BuildingSealed,
    BuildingReleased,
    VolunteerUnavailable,
    VolunteerBack,
    NeedRaised,
    TaskAdded,
    TaskClaimed,
    TaskDeclined,
    TaskDone,
    TaskCancelled,
    CheckedIn,
    CheckedOut,
)

_ADAPTER: TypeAdapter[Event] | None = None


def event_adapter() -> TypeAdapter[Event]:
    """The pydantic adapter that reads and writes any :data:`Event` (``validate_python``,
    ``validate_json``, ``dump_json``); built once."""
    global _ADAPTER
    if _ADAPTER is None:
        _ADAPTER = TypeAdapter(Event)
    return _ADAPTER
