"""Live operations: events on a community's state, re-planning, candidates, hours served.

During an emergency the plans meet changes: a building is sealed, a volunteer drops out, a
need is raised, a task is claimed, declined or done, volunteers check in and out. This
package keeps them as **events** (typed records, :data:`Event`) applied to an immutable
:class:`CommunityState` by one function, :func:`apply_event` — so a store can keep the events
as history and a replay gives the state back (:mod:`commgov.store`). On a state:

* :func:`rematch` re-matches tasks with the fewest changes to the assignment in force
  (claims kept as pins, volunteers away left out, declined pairs never offered again);
* :func:`replan_after_events` re-plans the rest of a sampling window for sealed buildings
  with the fewest changed notices;
* :func:`candidates` gives a task's best volunteers with the cost and reason of each;
* :func:`hours_served` sums shifts and tasks done per volunteer and team, exportable as CSV.

Examples
--------
>>> from datetime import datetime, timedelta, timezone
>>> from commgov.datasets import synthetic_community, synthetic_tasks
>>> from commgov.live import CommunityState, CheckedIn, CheckedOut, apply_events, hours_served
>>> model = synthetic_community("320508001001", households=200, seed=1)
>>> state = CommunityState.start(model, "320508001001")
>>> vid = next(p.id for p in model.people if "volunteer" in p.roles)
>>> t0 = datetime(2022, 4, 12, 8, 0, tzinfo=timezone(timedelta(hours=8)))
>>> state = apply_events(state, [CheckedIn(at=t0, volunteer_id=vid),
...                              CheckedOut(at=t0 + timedelta(hours=3), volunteer_id=vid)])
>>> hours_served(state).volunteers[0].minutes
180
"""

from commgov.live._apply import apply_event, apply_events
from commgov.live._events import (
    EVENT_KINDS,
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
from commgov.live._operations import (
    Candidate,
    HoursServed,
    MatchChange,
    Rematch,
    TeamServed,
    VolunteerServed,
    candidates,
    hours_served,
    live_matching_problem,
    rematch,
    replan_after_events,
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

__all__ = [
    "EVENT_KINDS",
    "Absence",
    "BuildingReleased",
    "BuildingSealed",
    "Candidate",
    "CheckedIn",
    "CheckedOut",
    "CommunityState",
    "Event",
    "HoursServed",
    "LiveStatus",
    "MatchChange",
    "NeedRaised",
    "Rematch",
    "Sealing",
    "Shift",
    "TaskAdded",
    "TaskCancelled",
    "TaskClaimed",
    "TaskDeclined",
    "TaskDone",
    "TaskState",
    "TaskStatus",
    "TeamServed",
    "VolunteerBack",
    "VolunteerServed",
    "VolunteerUnavailable",
    "apply_event",
    "apply_events",
    "candidates",
    "event_adapter",
    "hours_served",
    "live_matching_problem",
    "rematch",
    "replan_after_events",
]
