"""Relay delivery (接力配送): gate-to-door trips of one delivery wave.

A delivery is two legs: a rider brings a parcel to the compound gate (leg 1, ending at the
parcel's ``arrival``), then a gate volunteer carries it to the door (leg 2). Volunteers carry
several parcels per trip, all for one building.

Entry points
------------
:func:`plan_relay`
    Plan the trips of a :class:`RelayProblem` (method ``"cpsat"``: greedy warm start, CP-SAT
    in three lexicographic tiers, repair) into a :class:`RelayPlan`.
:func:`is_valid_relay_plan`
    Check a plan from the records alone (imports no solver), returning the shared
    :class:`~commgov.verification.VerificationReport` with :class:`RelayViolationCode` codes
    and the recomputed :class:`RelayObjective`.
:func:`trip_seconds`, :func:`door_offset_seconds`, :func:`walk_metres`, :func:`on_duty` …
    The time rules the planner, the verifier and the simulation (:func:`commgov.sim.run_relay`)
    share.

Undelivered parcels carry a :class:`RelayReasonCode` reason (``RELAY_NO_SHIFT``,
``RELAY_VOLUNTEERS_BUSY``), or ``CANCELLED`` in a cancelled run. There is no builder from the
organisation model yet: build a :class:`RelayProblem` from its records.
"""

from __future__ import annotations

from commgov.matching.relay._problem import (
    SCHEMA_VERSION,
    GateVolunteer,
    Parcel,
    RelayBuilding,
    RelayDelivery,
    RelayPlan,
    RelayProblem,
    RelayTotals,
    RelayTrip,
    UndeliveredParcel,
    VolunteerHours,
)
from commgov.matching.relay._rules import (
    RelayReasonCode,
    door_offset_seconds,
    door_seconds,
    lateness_seconds,
    on_duty,
    target_door_time,
    trip_seconds,
    walk_metres,
    walk_seconds,
)
from commgov.matching.relay._solve_cpsat import MAX_MODEL_SIZE, MAX_PARCELS, METHODS, plan_relay
from commgov.matching.relay._verify import RelayObjective, RelayViolationCode, is_valid_relay_plan

__all__ = [
    "MAX_MODEL_SIZE",
    "MAX_PARCELS",
    "METHODS",
    "SCHEMA_VERSION",
    "GateVolunteer",
    "Parcel",
    "RelayBuilding",
    "RelayDelivery",
    "RelayObjective",
    "RelayPlan",
    "RelayProblem",
    "RelayReasonCode",
    "RelayTotals",
    "RelayTrip",
    "RelayViolationCode",
    "UndeliveredParcel",
    "VolunteerHours",
    "door_offset_seconds",
    "door_seconds",
    "is_valid_relay_plan",
    "lateness_seconds",
    "on_duty",
    "plan_relay",
    "target_door_time",
    "trip_seconds",
    "walk_metres",
    "walk_seconds",
]
