"""Scheduling families: sampling plans, door-to-door rounds, notification, rosters, staffing.

Each family is a subpackage whose ``__init__`` is its only public surface; this package
re-exports them all:

* :mod:`commgov.scheduling.sampling` — sampling-timeslot plans (:func:`plan_sampling`);
* :mod:`commgov.scheduling.door_to_door` — door-to-door rounds (:func:`plan_door_to_door`);
* :mod:`commgov.scheduling.notification` — notification plans (:func:`plan_notification`);
* :mod:`commgov.scheduling.roster` — duty rosters (:func:`plan_roster`);
* :mod:`commgov.scheduling.sites` — which sampling sites to open, their lanes and staff
  (:func:`plan_sites`);
* :mod:`commgov.scheduling.supply` — which sites serve as supply transit stations for which
  compounds (:func:`plan_supply_stations`);
* :mod:`commgov.scheduling.staffing` — staffing formulas (:func:`erlang_c`,
  :func:`lanes_for_wait`, :func:`swabbers_needed`).

OR-Tools is imported only when a planner is called.
"""

from __future__ import annotations

from commgov.scheduling import (
    door_to_door as _door_to_door,
    notification as _notification,
    roster as _roster,
    sampling as _sampling,
    sites as _sites,
    staffing as _staffing,
    supply as _supply,
)
from commgov.scheduling.door_to_door import (
    MAX_HOUSEHOLDS as MAX_HOUSEHOLDS,
    Access as Access,
    DoorToDoorPlan as DoorToDoorPlan,
    DoorToDoorProblem as DoorToDoorProblem,
    DoorToDoorReasonCode as DoorToDoorReasonCode,
    DoorToDoorViolationCode as DoorToDoorViolationCode,
    RoundBuilding as RoundBuilding,
    RoundHousehold as RoundHousehold,
    RoundPolicy as RoundPolicy,
    RoundStop as RoundStop,
    RoundTeam as RoundTeam,
    RoundTotals as RoundTotals,
    TeamRoute as TeamRoute,
    UncoveredHousehold as UncoveredHousehold,
    VisitKind as VisitKind,
    building_leaves as building_leaves,
    door_to_door_lower_bound as door_to_door_lower_bound,
    door_to_door_problem_from_org as door_to_door_problem_from_org,
    floor_seconds as floor_seconds,
    is_valid_door_to_door_plan as is_valid_door_to_door_plan,
    leg_seconds as leg_seconds,
    plan_door_to_door as plan_door_to_door,
    sealed_household_layout as sealed_household_layout,
    service_seconds as service_seconds,
    team_units as team_units,
    walk_matrix as walk_matrix,
)
from commgov.scheduling.notification import (
    BuildingNotice as BuildingNotice,
    NotificationBuilding as NotificationBuilding,
    NotificationPlan as NotificationPlan,
    NotificationProblem as NotificationProblem,
    NotificationStop as NotificationStop,
    NotificationTotals as NotificationTotals,
    NotificationViolationCode as NotificationViolationCode,
    Notifier as Notifier,
    NotifyMode as NotifyMode,
    VolunteerRoute as VolunteerRoute,
    is_valid_notification_plan as is_valid_notification_plan,
    knocked_households as knocked_households,
    notification_lower_bound as notification_lower_bound,
    notification_problem_from_org as notification_problem_from_org,
    notify_minutes as notify_minutes,
    notify_seconds as notify_seconds,
    plan_notification as plan_notification,
    start_offset_seconds as start_offset_seconds,
)
from commgov.scheduling.roster import (
    Post as Post,
    PostTask as PostTask,
    Roster as Roster,
    RosterPolicy as RosterPolicy,
    RosterProblem as RosterProblem,
    RosterReasonCode as RosterReasonCode,
    RosterShift as RosterShift,
    RosterTotals as RosterTotals,
    RosterViolationCode as RosterViolationCode,
    Shortfall as Shortfall,
    Staff as Staff,
    StaffLoad as StaffLoad,
    TierResult as TierResult,
    available_slots as available_slots,
    check_roster_problem as check_roster_problem,
    hours_to_slots as hours_to_slots,
    is_eligible as is_eligible,
    is_valid_roster as is_valid_roster,
    plan_roster as plan_roster,
    roster_problem_from_org as roster_problem_from_org,
)
from commgov.scheduling.sampling import (
    BatchAssignment as BatchAssignment,
    DoorToDoorBuilding as DoorToDoorBuilding,
    HomeVisit as HomeVisit,
    PointSlotLoad as PointSlotLoad,
    Replan as Replan,
    SamplingBatch as SamplingBatch,
    SamplingBuilding as SamplingBuilding,
    SamplingPlan as SamplingPlan,
    SamplingPoint as SamplingPoint,
    SamplingPolicy as SamplingPolicy,
    SamplingProblem as SamplingProblem,
    SamplingReasonCode as SamplingReasonCode,
    SamplingTotals as SamplingTotals,
    SamplingViolationCode as SamplingViolationCode,
    UnservedBatch as UnservedBatch,
    check_problem as check_problem,
    is_valid_sampling_plan as is_valid_sampling_plan,
    plan_sampling as plan_sampling,
    reach_limit_m as reach_limit_m,
    replan_sampling as replan_sampling,
    sampling_lower_bound as sampling_lower_bound,
    sampling_problem_from_org as sampling_problem_from_org,
    slot_capacity as slot_capacity,
    walk_distance_m as walk_distance_m,
)
from commgov.scheduling.sites import (
    MAX_SITE_LANES as MAX_SITE_LANES,
    BuildingSite as BuildingSite,
    CandidateSite as CandidateSite,
    OpenSite as OpenSite,
    SitesBuilding as SitesBuilding,
    SiteSlot as SiteSlot,
    SitesObjective as SitesObjective,
    SitesPlan as SitesPlan,
    SitesPolicy as SitesPolicy,
    SitesProblem as SitesProblem,
    SitesReasonCode as SitesReasonCode,
    SitesTotals as SitesTotals,
    SitesViolationCode as SitesViolationCode,
    StaffPool as StaffPool,
    StaffRole as StaffRole,
    UnservedBuilding as UnservedBuilding,
    is_valid_sites_plan as is_valid_sites_plan,
    plan_sites as plan_sites,
    sites_lower_bound as sites_lower_bound,
    sites_problem_from_org as sites_problem_from_org,
    sites_roster_problem as sites_roster_problem,
)
from commgov.scheduling.staffing import (
    GUIDELINE_RESIDENTS_PER_SWABBER as GUIDELINE_RESIDENTS_PER_SWABBER,
    MAX_LANES as MAX_LANES,
    ErlangAFigures as ErlangAFigures,
    QueueFigures as QueueFigures,
    erlang_a as erlang_a,
    erlang_b as erlang_b,
    erlang_c as erlang_c,
    is_stable as is_stable,
    lanes_for_wait as lanes_for_wait,
    mean_queue_length as mean_queue_length,
    mean_wait_min as mean_wait_min,
    queue_figures as queue_figures,
    service_level as service_level,
    square_root_staffing as square_root_staffing,
    swabbers_needed as swabbers_needed,
    wait_exceeds_probability as wait_exceeds_probability,
    wait_quantile_min as wait_quantile_min,
)
from commgov.scheduling.supply import (
    MAX_STATION_PARCELS as MAX_STATION_PARCELS,
    STATION_FUNCTIONS as STATION_FUNCTIONS,
    CandidateStation as CandidateStation,
    CompoundStation as CompoundStation,
    OpenStation as OpenStation,
    SupplyCompound as SupplyCompound,
    SupplyObjective as SupplyObjective,
    SupplyPlan as SupplyPlan,
    SupplyPolicy as SupplyPolicy,
    SupplyProblem as SupplyProblem,
    SupplyReasonCode as SupplyReasonCode,
    SupplyTotals as SupplyTotals,
    SupplyViolationCode as SupplyViolationCode,
    UnservedCompound as UnservedCompound,
    is_valid_supply_plan as is_valid_supply_plan,
    plan_supply_stations as plan_supply_stations,
    supply_lower_bound as supply_lower_bound,
    supply_problem_from_org as supply_problem_from_org,
)

# Every family's names, except those that two families both define, reached through the
# family package: METHODS, SCHEMA_VERSION, walk_metres, walk_seconds.
__all__: list[str] = []
__all__ += _sampling.__all__
__all__ += _door_to_door.__all__
__all__ += _notification.__all__
__all__ += _roster.__all__
__all__ += _staffing.__all__
__all__ += _sites.__all__
__all__ += _supply.__all__
__all__.remove("METHODS")
__all__.remove("METHODS")
__all__.remove("METHODS")
__all__.remove("METHODS")
__all__.remove("METHODS")
__all__.remove("METHODS")
__all__.remove("SCHEMA_VERSION")
__all__.remove("SCHEMA_VERSION")
__all__.remove("SCHEMA_VERSION")
__all__.remove("SCHEMA_VERSION")
__all__.remove("SCHEMA_VERSION")
__all__.remove("SCHEMA_VERSION")
__all__.remove("walk_metres")
__all__.remove("walk_metres")
__all__.remove("walk_seconds")
__all__.remove("walk_seconds")
