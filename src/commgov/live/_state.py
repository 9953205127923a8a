"""The state of a community during live operations (private).

:class:`CommunityState` is what events change: the organisation model, the three lists, the
volunteer tasks, and :class:`LiveStatus` (sealed buildings, volunteers who dropped out, each
task's state, check-ins). It is an immutable value: :func:`commgov.live.apply_event` returns a
new state and leaves the old one as it was, so a store can keep versions and a failed event
changes nothing.
"""

from __future__ import annotations

import weakref
from datetime import datetime
from enum import StrEnum
from typing import Any, Self

from pydantic import Field, model_validator

from commgov._input import parse_json
from commgov._perf import gc_paused
from commgov._records import FrozenModel
from commgov.errors import InputError, InputIssue
from commgov.lists import ThreeLists
from commgov.live._events import Instant
from commgov.matching import Task
from commgov.org import OrgModel
from commgov.types import Id

__all__ = [
    "Absence",
    "CommunityState",
    "LiveStatus",
    "Sealing",
    "Shift",
    "TaskState",
    "TaskStatus",
]

_WHAT = "community state"


#: id(model) → indexes, dropped when the model object is collected (models are unhashable).
_INDEXES: dict[int, dict[str, Any]] = {}


def _model_index(model: OrgModel) -> dict[str, Any]:
    key = id(model)
    found = _INDEXES.get(key)
    if found is None:
        teams_of: dict[str, list[str]] = {}
        team_ids = {t.id for t in model.teams}
        for m in model.memberships:
            if m.organisation_id in team_ids:
                teams_of.setdefault(m.person_id, []).append(m.organisation_id)
        found = {
            "people": {p.id: p for p in model.people},
            "buildings": {b.id: b for b in model.buildings},
            "teams_of": {k: tuple(sorted(v)) for k, v in teams_of.items()},
        }
        _INDEXES[key] = found
        weakref.finalize(model, _INDEXES.pop, key, None)
    return found


class TaskState(StrEnum):
    """Where a volunteer task stands."""

    OPEN = "open"
    """Waiting for a volunteer (matching proposes one)."""
    CLAIMED = "claimed"
    """A volunteer has claimed it; re-matching keeps the claim."""
    DONE = "done"
    """Done; no longer matched."""
    CANCELLED = "cancelled"
    """Withdrawn; no longer matched."""


class TaskStatus(FrozenModel):
    """The state of one task.

    Attributes
    ----------
    task_id : str
    state : TaskState
    volunteer_id : str or None
        Who claimed (or did) it.
    declined_by : tuple of str
        Volunteers who declined it (sorted); never offered it again.
    since : datetime or None
        When the state last changed (tz-aware).
    """

    task_id: Id
    state: TaskState = TaskState.OPEN
    volunteer_id: Id | None = None
    declined_by: tuple[Id, ...] = ()
    since: Instant | None = None


class Sealing(FrozenModel):
    """A building sealed since a tz-aware instant."""

    building_id: Id
    since: Instant


class Absence(FrozenModel):
    """A volunteer unavailable from ``since`` until ``until`` (``None``: until back)."""

    volunteer_id: Id
    since: Instant
    until: Instant | None = None

    def covers(self, at: datetime) -> bool:
        """Whether the volunteer is away at the tz-aware instant ``at``."""
        return self.since <= at and (self.until is None or at < self.until)


class Shift(FrozenModel):
    """Time on duty: from a check-in to its check-out (``None`` while on duty)."""

    volunteer_id: Id
    checked_in: Instant
    checked_out: Instant | None = None

    def minutes(self, as_of: datetime | None = None) -> float:
        """Minutes served; an open shift counts up to ``as_of`` (0 without it)."""
        end = self.checked_out or as_of
        if end is None or end <= self.checked_in:
            return 0.0
        return (end - self.checked_in).total_seconds() / 60.0


class LiveStatus(FrozenModel):
    """What the events have changed beyond the model and the lists.

    Attributes
    ----------
    sealed : tuple of Sealing
        Sealed buildings, sorted by building id.
    absences : tuple of Absence
        Volunteers who dropped out, sorted by volunteer id (one entry each).
    tasks : tuple of TaskStatus
        One per task of the state, in the same order (sorted by task id).
    shifts : tuple of Shift
        Every check-in, in the order they happened.
    applied : int
        Events applied so far (an event ignored as a repeat is not counted).
    event_ids : tuple of str
        The ``event_id`` of every applied event that had one, sorted: a repeat is ignored.
    last_at : datetime or None
        The latest ``at`` of the applied events.
    touched : dict of str to datetime
        The latest event time of each volunteer (``"volunteer:<id>"``), task (``"task:<id>"``)
        and building (``"building:<id>"``), sorted by key: an event earlier than the latest
        one of a record it touches is refused, so each record's history runs forward.

    Raises
    ------
    pydantic.ValidationError
        If lists are unsorted or repeat, a shift ends before it starts, a volunteer has two
        open shifts, an absence ends before it starts, or a task's volunteer does not match
        its state (claimed and done tasks have one; open and cancelled tasks have none).
    """

    sealed: tuple[Sealing, ...] = ()
    absences: tuple[Absence, ...] = ()
    tasks: tuple[TaskStatus, ...] = ()
    shifts: tuple[Shift, ...] = ()
    applied: int = Field(default=0, ge=0)
    event_ids: tuple[Id, ...] = ()
    last_at: Instant | None = None
    touched: dict[str, Instant] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        def sorted_unique(values: list[str], what: str) -> None:
            if values != sorted(set(values)):
                raise ValueError(f"{what} must be sorted and unique")

        sorted_unique([s.building_id for s in self.sealed], "sealed")
        sorted_unique([a.volunteer_id for a in self.absences], "absences")
        sorted_unique([t.task_id for t in self.tasks], "tasks")
        sorted_unique(list(self.event_ids), "event_ids")
        if list(self.touched) != sorted(self.touched):
            raise ValueError("touched must be sorted by key")
        for a in self.absences:
            if a.until is not None and a.until <= a.since:
                raise ValueError(f"absence of {a.volunteer_id}: until must be after since")
        open_shifts: set[str] = set()
        for sh in self.shifts:
            if sh.checked_out is not None and sh.checked_out < sh.checked_in:
                raise ValueError(f"shift of {sh.volunteer_id}: checked_out before checked_in")
            if sh.checked_out is None:
                if sh.volunteer_id in open_shifts:
                    raise ValueError(f"{sh.volunteer_id} has two open shifts")
                open_shifts.add(sh.volunteer_id)
        for t in self.tasks:
            holds = t.state in (TaskState.CLAIMED, TaskState.DONE)
            if holds != (t.volunteer_id is not None):
                raise ValueError(
                    f"task {t.task_id}: a {t.state.value} task "
                    + ("needs its volunteer_id" if holds else "has no volunteer_id")
                )
        return self


class CommunityState(FrozenModel):
    """A community's state during live operations: model, lists, tasks and status.

    Build the first one with :meth:`start`; change it only with
    :func:`commgov.live.apply_event` (or :meth:`commgov.store.Store.append_events`).

    Attributes
    ----------
    community_id : str
        The community (a 12-digit code) the state is about.
    model : OrgModel
        The organisation model (the whole model: a district model serves one community).
    lists : ThreeLists
        The needs, resources and projects lists.
    tasks : tuple of Task
        The volunteer tasks, sorted by id.
    status : LiveStatus
        What events changed: sealed buildings, absences, task states, shifts.

    Raises
    ------
    commgov.errors.InputError
        If task ids repeat or the status does not list the tasks one for one.

    Notes
    -----
    Lookups (people, buildings, tasks by id) use indexes built once per model and shared by
    the states derived from it: applying an event is O(size of the status), not O(model).
    The model is treated as immutable: :meth:`start` gives the state its own record lists;
    do not change ``state.model`` in place (make a new state from a changed model).
    """

    community_id: Id
    model: OrgModel
    lists: ThreeLists = Field(default_factory=ThreeLists)
    tasks: tuple[Task, ...] = ()
    status: LiveStatus = Field(default_factory=LiveStatus)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        ids = [t.id for t in self.tasks]
        if ids != sorted(set(ids)):
            raise ValueError("tasks must have unique ids, sorted")
        if [s.task_id for s in self.status.tasks] != ids:
            raise ValueError("status.tasks must list the tasks one for one, in order")
        if not any(c.id == self.community_id for c in self.model.communities):
            raise ValueError(f"community_id {self.community_id} is not a community of the model")
        people = _model_index(self.model)["people"]
        buildings = _model_index(self.model)["buildings"]
        named = [
            *(t.volunteer_id for t in self.status.tasks if t.volunteer_id is not None),
            *(v for t in self.status.tasks for v in t.declined_by),
            *(a.volunteer_id for a in self.status.absences),
            *(sh.volunteer_id for sh in self.status.shifts),
        ]
        for vid in named:
            if vid not in people:
                raise ValueError(f"volunteer {vid} is not a person of the model")
        for sealing in self.status.sealed:
            if sealing.building_id not in buildings:
                raise ValueError(f"sealed building {sealing.building_id} is not in the model")
        return self

    @classmethod
    def start(
        cls,
        model: OrgModel,
        community_id: str,
        *,
        lists: ThreeLists | None = None,
        tasks: tuple[Task, ...] | list[Task] = (),
    ) -> CommunityState:
        """The state before any event: every task open, nothing sealed, nobody away.

        Parameters
        ----------
        model : OrgModel
        community_id : str
            A community of ``model``.
        lists : ThreeLists, optional
        tasks : sequence of Task
            The volunteer tasks (e.g. :func:`commgov.datasets.synthetic_tasks`).

        Raises
        ------
        commgov.errors.InputError
            If ``community_id`` is not a community of the model, or task ids repeat.
        """
        from pydantic import ValidationError

        from commgov.errors import expect_type
        from commgov.matching import Task

        expect_type(model, OrgModel, "model")
        if lists is not None:
            expect_type(lists, ThreeLists, "lists")
        if isinstance(tasks, str | bytes | dict) or not hasattr(tasks, "__iter__"):
            raise TypeError(f"tasks must be a sequence of Task, not {type(tasks).__name__}")
        checked: list[Task] = []
        for n, t in enumerate(tasks):
            if isinstance(t, dict):
                try:
                    t = Task.model_validate(t)
                except ValidationError as exc:
                    raise InputError.from_validation(
                        exc, t, record=f"tasks[{n}]", what=_WHAT
                    ) from None
            expect_type(t, Task, f"tasks[{n}]")
            checked.append(t)
        tasks = checked
        if not isinstance(community_id, str) or not any(
            c.id == community_id for c in model.communities
        ):
            raise InputError(
                [InputIssue("state", "community_id", community_id, "is not in the model")],
                what=_WHAT,
            )
        ordered = tuple(sorted(tasks, key=lambda t: t.id))
        seen: set[str] = set()
        for t in ordered:
            if t.id in seen:
                raise InputError([InputIssue(t.id, "id", t.id, "is used twice")], what=_WHAT)
            seen.add(t.id)
        # the state's own record lists (the records are immutable; the lists would not be)
        own = model.model_copy(
            update={
                name: list(value)
                for name in type(model).model_fields
                if isinstance(value := getattr(model, name), list)
            }
        )
        return cls(
            community_id=community_id,
            model=own,
            lists=lists or ThreeLists(),
            tasks=ordered,
            status=LiveStatus(tasks=tuple(TaskStatus(task_id=t.id) for t in ordered)),
        )

    # ------------------------------------------------------------------------- queries

    def index(self) -> dict[str, Any]:
        """Id → record indexes of the model (``people``, ``buildings``, ``teams_of``):
        built on first use per model object and shared by the states derived from it."""
        return _model_index(self.model)

    def model_hash(self) -> str:
        """The content hash of the model (``"sha256:<hex>"``), computed once per model object.

        Notes
        -----
        O(size of the model's JSON) the first time (``gusu()``: about half a second).
        """
        index = self.index()
        found = index.get("hash")
        if found is None:
            from commgov._hashing import content_hash

            found = index["hash"] = content_hash(self.model)
        return str(found)

    def task_status(self, task_id: str) -> TaskStatus:
        """The status of one task.

        Raises
        ------
        commgov.errors.UnknownIdError
            If no task has this id.
        """
        from commgov.errors import UnknownIdError

        i = self._task_position(task_id)
        if i is None:
            raise UnknownIdError(task_id, "task_id")
        return self.status.tasks[i]

    def _task_position(self, task_id: str) -> int | None:
        from bisect import bisect_left

        ids = [s.task_id for s in self.status.tasks]
        i = bisect_left(ids, task_id)
        return i if i < len(ids) and ids[i] == task_id else None

    def sealed_building_ids(self) -> tuple[str, ...]:
        """The buildings sealed now (sorted)."""
        return tuple(s.building_id for s in self.status.sealed)

    def away_volunteer_ids(self, at: datetime | None = None) -> tuple[str, ...]:
        """Volunteers away at the tz-aware instant ``at`` (any absence when ``None``)."""
        return tuple(a.volunteer_id for a in self.status.absences if at is None or a.covers(at))

    def tasks_in(self, *states: TaskState) -> tuple[Task, ...]:
        """The tasks whose state is one of ``states``, in id order."""
        wanted = set(states)
        return tuple(
            t for t, s in zip(self.tasks, self.status.tasks, strict=True) if s.state in wanted
        )

    def on_duty(self) -> tuple[str, ...]:
        """Volunteers checked in and not yet out, sorted."""
        return tuple(sorted({s.volunteer_id for s in self.status.shifts if s.checked_out is None}))

    # ---------------------------------------------------------------------- serialising

    def to_json(self) -> str:
        """Canonical JSON text (the same state gives the same bytes)."""
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str | bytes) -> CommunityState:
        """Read a state written by :meth:`to_json` through the one reader.

        Raises
        ------
        commgov.errors.InputError
            If the text is not JSON or a record is malformed (personal values masked).
        commgov.errors.SizeLimitError
            If the text is longer than the reader's limit.
        """
        from pydantic import ValidationError

        data = parse_json(text, label="state", what=_WHAT)
        try:
            with gc_paused():
                return cls.model_validate(data)
        except ValidationError as exc:
            raise InputError.from_validation(exc, data, record="state", what=_WHAT) from None
