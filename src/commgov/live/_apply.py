"""Applying events to a community state (private).

One function, :func:`apply_event`, holds every rule of live operations; the store applies
events only through it, so a replay of the stored events gives the stored state.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Iterable
from typing import Any

from commgov.errors import EventError, InputIssue
from commgov.live._events import (
    EVENT_TYPES,
    BuildingReleased,
    BuildingSealed,
    CheckedIn,
    CheckedOut,
    Event,
    NeedRaised,
    TaskAdded,
    TaskCancelled,
    TaskClaimed,
    TaskDeclined,
    TaskDone,
    VolunteerBack,
    VolunteerUnavailable,
    event_adapter,
)
from commgov.live._state import (
    Absence,
    CommunityState,
    LiveStatus,
    Sealing,
    Shift,
    TaskState,
    TaskStatus,
)
from commgov.org import Role

__all__ = ["apply_event", "apply_events"]

_VOLUNTEER_ROLES = frozenset({Role.VOLUNTEER, Role.RIDER})


def _fail(where: str, field: str, value: object, rule: str) -> EventError:
    return EventError([InputIssue(where, field, value, rule)], what="event not applied")


def apply_event(state: CommunityState, event: Event | dict[str, Any]) -> CommunityState:
    """Apply one event to a community state and return the new state.

    Rules, by kind:

    * ``building_sealed`` / ``building_released``: the building is in the model; sealing a
      sealed building or releasing an open one is an error.
    * ``volunteer_unavailable``: the person is a volunteer or rider of the model; their
      claimed, not-done tasks are open again and an open check-in is closed at ``at``; a
      second absence replaces the first. ``volunteer_back``: only after an absence.
    * ``need_raised``: the need's id is new to the lists (the lists' own rules apply).
    * ``task_added``: the task id is new. ``task_claimed``: the task is open, the volunteer
      is present and holds the task's skill at its level. ``task_declined``: the task is not
      done or cancelled; a claim by the decliner is released; the volunteer is never offered
      it again. ``task_done``: claimed by this volunteer. ``task_cancelled``: not done (a
      claim on it ends).
    * ``checked_in``: the volunteer is present and not on duty. ``checked_out``: on duty,
      and not before the check-in.

    * Time order: an event may not be earlier than the latest event of a record it touches
      (its volunteer, task or building; see ``LiveStatus.touched``), so each record's history
      runs forward — a check-in before the last check-out, a claim before the claimer's
      absence, a release before the sealing are refused. Times are kept in UTC.
    * A task added must sit on the tasks' slot grid (its window equal to or disjoint from
      every other task's), as matching requires.

    An event whose ``event_id`` was applied before is ignored: the same state is returned
    (the object itself), so an app may re-send events safely.

    Parameters
    ----------
    state : CommunityState
        The state before; not changed.
    event : Event or dict
        The event (a dict is validated as an :data:`Event` by its ``kind``).

    Returns
    -------
    CommunityState
        The state after.

    Raises
    ------
    commgov.errors.EventError
        If the event does not apply; the issue names the event (``event_id`` or kind), the
        field and the value. Nothing is changed.
    commgov.errors.InputError
        If a dict is not a valid event (``pydantic`` errors as issues, personal data masked).
    TypeError
        If ``state`` is not a :class:`CommunityState` or ``event`` not an event or dict.

    Notes
    -----
    O(|status| + log |tasks|) per event: the model's indexes are built once per model and
    shared by derived states. The design is event sourcing (Fowler, "Event Sourcing", 2005):
    a state is the replay of its events.
    """
    from commgov.errors import expect_type

    expect_type(state, CommunityState, "state")
    if isinstance(event, dict):
        from pydantic import ValidationError

        from commgov.errors import InputError

        try:
            event = event_adapter().validate_python(event)
        except ValidationError as exc:
            raise InputError.from_validation(exc, event, record="event", what="event") from None
    expect_type(event, EVENT_TYPES, "event", "an event of commgov.live, or a dict with its kind")
    st = state.status
    if event.event_id is not None and event.event_id in st.event_ids:
        return state
    where = event.event_id or event.kind
    idx = state.index()
    changes: dict[str, Any] = {}
    lists = state.lists
    tasks = state.tasks

    def volunteer(vid: str) -> None:
        person = idx["people"].get(vid)
        if person is None:
            raise _fail(where, "volunteer_id", vid, "is not a person of the model")
        if not _VOLUNTEER_ROLES.intersection(person.roles):
            raise _fail(where, "volunteer_id", vid, "is not a volunteer or rider")

    def present(vid: str) -> None:
        volunteer(vid)
        if any(a.volunteer_id == vid and a.covers(event.at) for a in st.absences):
            raise _fail(where, "volunteer_id", vid, "is away (volunteer_unavailable)")

    def task_at(tid: str) -> int:
        i = state._task_position(tid)
        if i is None:
            raise _fail(where, "task_id", tid, "is not a task of the state")
        return i

    touched = dict(st.touched)

    def touch(key: str) -> None:
        last = touched.get(key)
        if last is not None and event.at < last:
            raise _fail(
                where,
                "at",
                event.at.isoformat(),
                f"is before the last event of {key} ({last.isoformat()}): "
                "each record's events must come in time order",
            )
        touched[key] = event.at

    def set_task(i: int, **update: Any) -> None:
        statuses = list(changes.get("tasks", st.tasks))
        statuses[i] = statuses[i].model_copy(update={**update, "since": event.at})
        changes["tasks"] = tuple(statuses)

    if isinstance(event, BuildingSealed):
        if event.building_id not in idx["buildings"]:
            raise _fail(where, "building_id", event.building_id, "is not a building of the model")
        touch(f"building:{event.building_id}")
        if event.building_id in state.sealed_building_ids():
            raise _fail(where, "building_id", event.building_id, "is sealed already")
        sealed = list(st.sealed)
        insort(sealed, Sealing(building_id=event.building_id, since=event.at), key=_sealed_key)
        changes["sealed"] = tuple(sealed)
    elif isinstance(event, BuildingReleased):
        if event.building_id not in state.sealed_building_ids():
            raise _fail(where, "building_id", event.building_id, "is not sealed")
        touch(f"building:{event.building_id}")
        changes["sealed"] = tuple(s for s in st.sealed if s.building_id != event.building_id)
    elif isinstance(event, VolunteerUnavailable):
        vid = event.volunteer_id
        volunteer(vid)
        touch(f"volunteer:{vid}")
        absences = [a for a in st.absences if a.volunteer_id != vid]
        insort(
            absences,
            Absence(volunteer_id=vid, since=event.at, until=event.until),
            key=_absence_key,
        )
        changes["absences"] = tuple(absences)
        for i, s in enumerate(st.tasks):
            if s.state is TaskState.CLAIMED and s.volunteer_id == vid:
                touch(f"task:{s.task_id}")
                set_task(i, state=TaskState.OPEN, volunteer_id=None)
        changes["shifts"] = _closed(st.shifts, vid, event)
    elif isinstance(event, VolunteerBack):
        volunteer(event.volunteer_id)
        touch(f"volunteer:{event.volunteer_id}")
        if not any(a.volunteer_id == event.volunteer_id for a in st.absences):
            raise _fail(where, "volunteer_id", event.volunteer_id, "is not away")
        changes["absences"] = tuple(a for a in st.absences if a.volunteer_id != event.volunteer_id)
    elif isinstance(event, NeedRaised):
        if any(i.id == event.need.id for i in (*lists.needs, *lists.resources, *lists.projects)):
            raise _fail(where, "need.id", event.need.id, "is on the lists already")
        lists = lists.replace(event.need)
    elif isinstance(event, TaskAdded):
        if state._task_position(event.task.id) is not None:
            raise _fail(where, "task.id", event.task.id, "is a task already")
        new_window = event.task.window
        for other in tasks:
            w = other.window
            if w != new_window and w.start < new_window.end and new_window.start < w.end:
                raise _fail(
                    where,
                    "task.window",
                    f"{new_window.start.isoformat()}/{new_window.end.isoformat()}",
                    f"overlaps task {other.id}'s window without being equal: tasks sit on "
                    "a slot grid (windows identical or disjoint)",
                )
        touch(f"task:{event.task.id}")
        new_tasks = list(tasks)
        insort(new_tasks, event.task, key=_task_key)
        tasks = tuple(new_tasks)
        statuses = list(st.tasks)
        insort(statuses, TaskStatus(task_id=event.task.id, since=event.at), key=_status_key)
        changes["tasks"] = tuple(statuses)
    elif isinstance(event, TaskClaimed):
        i = task_at(event.task_id)
        s = st.tasks[i]
        if s.state is not TaskState.OPEN:
            raise _fail(where, "task_id", event.task_id, f"is {s.state.value}, not open")
        present(event.volunteer_id)
        touch(f"task:{event.task_id}")
        touch(f"volunteer:{event.volunteer_id}")
        task = tasks[i]
        level = idx["people"][event.volunteer_id].skills.get(task.skill, 0)
        if level < task.min_level:
            raise _fail(
                where,
                "volunteer_id",
                event.volunteer_id,
                f"lacks skill {task.skill!r} at level {task.min_level}",
            )
        declined = tuple(v for v in s.declined_by if v != event.volunteer_id)
        set_task(i, state=TaskState.CLAIMED, volunteer_id=event.volunteer_id, declined_by=declined)
    elif isinstance(event, TaskDeclined):
        i = task_at(event.task_id)
        s = st.tasks[i]
        volunteer(event.volunteer_id)
        if s.state in (TaskState.DONE, TaskState.CANCELLED):
            raise _fail(where, "task_id", event.task_id, f"is {s.state.value}")
        touch(f"task:{event.task_id}")
        touch(f"volunteer:{event.volunteer_id}")
        declined = tuple(sorted({*s.declined_by, event.volunteer_id}))
        if s.state is TaskState.CLAIMED and s.volunteer_id == event.volunteer_id:
            set_task(i, state=TaskState.OPEN, volunteer_id=None, declined_by=declined)
        else:
            set_task(i, declined_by=declined)
    elif isinstance(event, TaskDone):
        i = task_at(event.task_id)
        s = st.tasks[i]
        if s.state is not TaskState.CLAIMED or s.volunteer_id != event.volunteer_id:
            raise _fail(where, "volunteer_id", event.volunteer_id, "has not claimed this task")
        touch(f"task:{event.task_id}")
        touch(f"volunteer:{event.volunteer_id}")
        set_task(i, state=TaskState.DONE)
    elif isinstance(event, TaskCancelled):
        i = task_at(event.task_id)
        s = st.tasks[i]
        if s.state is TaskState.DONE:
            raise _fail(where, "task_id", event.task_id, "is done")
        touch(f"task:{event.task_id}")
        set_task(i, state=TaskState.CANCELLED, volunteer_id=None)
    elif isinstance(event, CheckedIn):
        present(event.volunteer_id)
        if event.volunteer_id in state.on_duty():
            raise _fail(where, "volunteer_id", event.volunteer_id, "is checked in already")
        touch(f"volunteer:{event.volunteer_id}")
        changes["shifts"] = (
            *st.shifts,
            Shift(volunteer_id=event.volunteer_id, checked_in=event.at),
        )
    elif isinstance(event, CheckedOut):
        volunteer(event.volunteer_id)
        open_shift = [s for s in st.shifts if s.volunteer_id == event.volunteer_id]
        if not open_shift or open_shift[-1].checked_out is not None:
            raise _fail(where, "volunteer_id", event.volunteer_id, "is not checked in")
        if event.at < open_shift[-1].checked_in:
            raise _fail(where, "at", event.at.isoformat(), "is before the check-in")
        touch(f"volunteer:{event.volunteer_id}")
        changes["shifts"] = _closed(st.shifts, event.volunteer_id, event)
    else:  # pragma: no cover - the union is closed
        raise TypeError(f"not an event: {type(event).__name__}")

    if event.event_id is not None:
        ids = list(st.event_ids)
        insort(ids, event.event_id)
        changes["event_ids"] = tuple(ids)
    changes["touched"] = dict(sorted(touched.items()))
    changes["applied"] = st.applied + 1
    changes["last_at"] = event.at if st.last_at is None else max(st.last_at, event.at)
    status = LiveStatus.model_construct(**{**dict(st), **changes})
    return state.model_copy(update={"lists": lists, "tasks": tasks, "status": status})


def apply_events(state: CommunityState, events: Iterable[Event | dict[str, Any]]) -> CommunityState:
    """Apply events in order, all or none.

    Raises
    ------
    commgov.errors.EventError
        At the first event that does not apply (its position is in the message); ``state`` is
        unchanged and no later event is tried.
    """
    from pydantic import BaseModel

    from commgov.errors import InputError

    if isinstance(events, str | bytes | dict | BaseModel) or not hasattr(events, "__iter__"):
        raise TypeError(
            f"events must be a sequence of events, not {type(events).__name__} "
            "(apply_event takes one)"
        )
    for n, event in enumerate(events):
        try:
            state = apply_event(state, event)
        except EventError as exc:
            raise EventError(exc.issues, what=f"event {n} not applied") from None
        except InputError as exc:
            raise InputError(exc.issues, what=f"event {n} is not an event") from None
    return state


def _closed(shifts: tuple[Shift, ...], vid: str, event: Any) -> tuple[Shift, ...]:
    out = list(shifts)
    for i in range(len(out) - 1, -1, -1):
        if out[i].volunteer_id == vid:
            if out[i].checked_out is None:
                end = max(event.at, out[i].checked_in)
                out[i] = out[i].model_copy(update={"checked_out": end})
            break
    return tuple(out)


def _sealed_key(s: Sealing) -> str:
    return s.building_id


def _absence_key(a: Absence) -> str:
    return a.volunteer_id


def _task_key(t: Any) -> str:
    return str(t.id)


def _status_key(s: TaskStatus) -> str:
    return s.task_id
