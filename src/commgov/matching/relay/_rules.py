"""Relay rules (private) that the planner and the verifier share, and the relay reason codes.

* a **trip** is one volunteer carrying 1 … ``max_parcels_per_trip`` parcels of **one
  building**; it starts at the gate (``depart``), takes ``handover_minutes`` at the gate, walks
  to the building, spends :func:`door_seconds` per parcel there (stairs, knock, contact-free
  handover), and walks back (``back``). Its length in whole seconds is
  :func:`trip_seconds`; every parcel of the trip counts as delivered at the trip's ``door``
  time, when the last handover ends (:func:`door_offset_seconds`, conservative and independent
  of the order of doors);
* **leg 2 follows leg 1**: a trip departs no earlier than the latest ``arrival`` of its parcels;
* a trip lies inside one of the volunteer's on-duty windows (:func:`on_duty`, availability
  windows merged), and one volunteer's trips do not overlap (half-open ``[depart, back)``);
* the walk from the gate is the building's ``walk_m`` when given, else the great-circle
  distance from the gate times ``detour_factor``, rounded half up to whole metres
  (:func:`walk_metres`); at ``walking_speed_m_per_min`` (default 80 m/min) it takes
  :func:`walk_seconds`;
* a parcel's **target door time** is its ``due`` when given, else ``arrival +
  max_wait_minutes`` (:func:`target_door_time`); lateness is counted past it in whole seconds
  (:func:`lateness_seconds`) and is a cost, not a hard rule.

Durations given in minutes are converted to whole seconds by rounding up
(:func:`commgov.types.to_seconds`).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from commgov._walking import walk_metres_half_up
from commgov.results import register_reasons
from commgov.types import TimeWindow, to_seconds

if TYPE_CHECKING:
    from commgov.matching.relay._problem import GateVolunteer, Parcel, RelayBuilding, RelayProblem

__all__ = [
    "RelayReasonCode",
    "door_offset_seconds",
    "door_seconds",
    "lateness_seconds",
    "on_duty",
    "target_door_time",
    "trip_seconds",
    "walk_metres",
    "walk_seconds",
]


class RelayReasonCode(StrEnum):
    """Why a parcel is undelivered; each code is a predicate the verifier checks.

    ``RELAY_NO_SHIFT``: no volunteer is on duty after the parcel's arrival long enough for a
    one-parcel trip to its building. ``RELAY_VOLUNTEERS_BUSY(eligible)``: each of the
    ``eligible`` volunteers who could make that trip has no free time for it and no trip to
    the building with room that departs after the arrival and can be lengthened.
    """

    RELAY_NO_SHIFT = "RELAY_NO_SHIFT"
    RELAY_VOLUNTEERS_BUSY = "RELAY_VOLUNTEERS_BUSY"


register_reasons(
    "relay",
    RelayReasonCode,
    {
        RelayReasonCode.RELAY_NO_SHIFT: ((), ()),
        RelayReasonCode.RELAY_VOLUNTEERS_BUSY: (("eligible",), ()),
    },
    {
        RelayReasonCode.RELAY_NO_SHIFT: (
            "no gate volunteer is on duty, after the parcel reaches the gate, long enough for a "
            "trip to its building and back",
            "包裹到达门岗后，没有志愿者在岗时间足够往返其楼栋",
        ),
        RelayReasonCode.RELAY_VOLUNTEERS_BUSY: (
            "all {eligible} gate volunteers on duty after the parcel arrived are busy: no free "
            "time fits a trip to its building and no trip there has room",
            "包裹到达后在岗的{eligible}名门岗志愿者均已排满：没有空闲时间往返其楼栋，"
            "前往该楼栋的行程也已满载",
        ),
    },
)


def walk_metres(problem: RelayProblem, building: RelayBuilding) -> int:
    """One-way walk from the gate to the building, in whole metres.

    ``building.walk_m`` rounded half up when given; otherwise the great-circle distance from
    ``problem.gate`` to ``building.location`` (:func:`commgov.types.haversine_m`) times
    ``problem.detour_factor``, rounded half up.

    Parameters
    ----------
    problem : RelayProblem
        Supplies the gate and detour factor.
    building : RelayBuilding
        The building.

    Returns
    -------
    int
        Metres.

    Raises
    ------
    ValueError
        If the building has neither ``walk_m`` nor a location and gate (a validated
        :class:`RelayProblem` refuses that).
    """
    if building.walk_m is not None:
        return math.floor(building.walk_m + 0.5)
    gate, loc = problem.gate, building.location
    if gate is None or loc is None:  # refused by RelayProblem's checks
        raise ValueError(f"building {building.id} has no walk_m and no location/gate")
    return walk_metres_half_up(gate, loc, problem.detour_factor)


def walk_seconds(problem: RelayProblem, building: RelayBuilding) -> int:
    """One-way walking time gate → building in whole seconds (rounded up).

    ``walk_metres / walking_speed_m_per_min`` minutes, converted by :func:`to_seconds`.
    """
    return to_seconds(walk_metres(problem, building) / problem.walking_speed_m_per_min)


def door_seconds(problem: RelayProblem, building: RelayBuilding) -> int:
    """Seconds spent in the building per parcel.

    ``building.door_minutes`` when given, else ``problem.door_minutes`` plus, without a lift,
    ``stair_minutes_per_floor × (floors − 1)``; converted by :func:`to_seconds`.
    """
    if building.door_minutes is not None:
        return to_seconds(building.door_minutes)
    stairs = 0.0 if building.has_lift else problem.stair_minutes_per_floor * (building.floors - 1)
    return to_seconds(problem.door_minutes + stairs)


def door_offset_seconds(problem: RelayProblem, building: RelayBuilding, parcels: int) -> int:
    """Seconds from a trip's departure to its last handover (its ``door`` time).

    ``handover + walk + parcels × door`` seconds (:func:`to_seconds` of ``handover_minutes``,
    :func:`walk_seconds`, :func:`door_seconds`).
    """
    return (
        to_seconds(problem.handover_minutes)
        + walk_seconds(problem, building)
        + parcels * door_seconds(problem, building)
    )


def trip_seconds(problem: RelayProblem, building: RelayBuilding, parcels: int) -> int:
    """Length of a trip carrying ``parcels`` parcels to ``building``, in whole seconds.

    ``handover + 2 × walk + parcels × door``: :func:`door_offset_seconds` plus the walk back.

    Examples
    --------
    >>> from commgov.matching.relay import RelayBuilding, RelayProblem
    >>> p = RelayProblem(timezone="Asia/Shanghai", buildings=[RelayBuilding(id="b", walk_m=240)])
    >>> trip_seconds(p, p.buildings[0], 2)  # 2 min + 2 × 3 min + 2 × 1.5 min
    660
    """
    return door_offset_seconds(problem, building, parcels) + walk_seconds(problem, building)


def target_door_time(problem: RelayProblem, parcel: Parcel) -> datetime:
    """The parcel's target door time (UTC): ``due``, else ``arrival + max_wait_minutes``."""
    if parcel.due is not None:
        return parcel.due
    return parcel.arrival + timedelta(seconds=to_seconds(problem.max_wait_minutes))


def lateness_seconds(door: datetime, target: datetime) -> int:
    """Whole seconds (rounded up) by which ``door`` is after ``target``; 0 if not late."""
    late = (door - target).total_seconds()
    return max(0, math.ceil(round(late, 6)))


def on_duty(volunteer: GateVolunteer) -> list[TimeWindow]:
    """The volunteer's availability merged: sorted, overlapping or touching windows joined.

    A trip must lie inside one of these windows, so a trip may run across two back-to-back
    availability windows. O(w log w) for ``w`` windows.
    """
    merged: list[tuple[datetime, datetime]] = []
    for w in sorted(volunteer.availability, key=lambda w: (w.start, w.end)):
        if merged and w.start <= merged[-1][1]:
            if w.end > merged[-1][1]:
                merged[-1] = (merged[-1][0], w.end)
        else:
            merged.append((w.start, w.end))
    return [TimeWindow(start=s, end=e) for s, e in merged]
