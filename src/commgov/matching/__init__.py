"""Volunteer ↔ task matching: exact, explained, organisation-aware, with independent checks.

:func:`match_volunteers` solves a :class:`MatchingProblem` with the objective ``min_cost``
(most priority served, then fewest changes to a previous plan, then least scope penalty +
travel metres; min-cost flow, Ahuja, Magnanti & Orlin 1993, OR-Tools ``SimpleMinCostFlow``),
``fair`` (the same, with loads as even as possible before cost) or ``stable`` (deferred
acceptance). Volunteers are taken from the building's team first, then the compound, the
community pool, partner teams and riders (:func:`scope_level`); pinned pairs are kept; minute
budgets switch to CP-SAT. Every match carries a ``MATCHED`` reason and every unmatched task one
primary reason. :func:`is_valid_assignment` re-checks any result from the records alone,
importing no solver code.
"""

from __future__ import annotations

from commgov.matching import relay as _relay, volunteers as _volunteers
from commgov.matching.relay import (
    MAX_MODEL_SIZE as MAX_MODEL_SIZE,
    MAX_PARCELS as MAX_PARCELS,
    GateVolunteer as GateVolunteer,
    Parcel as Parcel,
    RelayBuilding as RelayBuilding,
    RelayDelivery as RelayDelivery,
    RelayObjective as RelayObjective,
    RelayPlan as RelayPlan,
    RelayProblem as RelayProblem,
    RelayReasonCode as RelayReasonCode,
    RelayTotals as RelayTotals,
    RelayTrip as RelayTrip,
    RelayViolationCode as RelayViolationCode,
    UndeliveredParcel as UndeliveredParcel,
    VolunteerHours as VolunteerHours,
    door_offset_seconds as door_offset_seconds,
    door_seconds as door_seconds,
    is_valid_relay_plan as is_valid_relay_plan,
    lateness_seconds as lateness_seconds,
    on_duty as on_duty,
    plan_relay as plan_relay,
    target_door_time as target_door_time,
    trip_seconds as trip_seconds,
    walk_metres as walk_metres,
    walk_seconds as walk_seconds,
)
from commgov.matching.volunteers import (
    MAX_ARCS as MAX_ARCS,
    OBJECTIVES as OBJECTIVES,
    PROPOSE_SIDES as PROPOSE_SIDES,
    SCOPE_ORDER as SCOPE_ORDER,
    Assignment as Assignment,
    BlockingPair as BlockingPair,
    Match as Match,
    MatchingObjective as MatchingObjective,
    MatchingProblem as MatchingProblem,
    MatchingReasonCode as MatchingReasonCode,
    MatchingTotals as MatchingTotals,
    MatchingViolationCode as MatchingViolationCode,
    Pin as Pin,
    ScopeLevel as ScopeLevel,
    ScopePenalties as ScopePenalties,
    Task as Task,
    Unmatched as Unmatched,
    Volunteer as Volunteer,
    VolunteerLoad as VolunteerLoad,
    blocking_pairs as blocking_pairs,
    has_skill as has_skill,
    is_available as is_available,
    is_eligible as is_eligible,
    is_stable as is_stable,
    is_valid_assignment as is_valid_assignment,
    match_volunteers as match_volunteers,
    matching_problem_from_org as matching_problem_from_org,
    pair_cost_m as pair_cost_m,
    scope_level as scope_level,
    task_day as task_day,
    travel_distance_m as travel_distance_m,
)

# Every family's names, except those that two families both define, reached through the
# family package: METHODS, SCHEMA_VERSION.
__all__: list[str] = []
__all__ += _volunteers.__all__
__all__ += _relay.__all__
__all__.remove("METHODS")
__all__.remove("METHODS")
__all__.remove("SCHEMA_VERSION")
__all__.remove("SCHEMA_VERSION")
