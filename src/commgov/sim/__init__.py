"""Mobilisation simulation: SimPy submodels over commgov records, scenarios as data, KPIs.

This package is the only public surface of the simulation; its modules are private.

* :class:`Scenario` — a scenario file (TOML/JSON) as a frozen record with a content hash;
* :func:`run_replicate` — one replicate, a pure function of (scenario, replicate, root seed);
* :func:`register_submodel` / :class:`SimContext` — how submodels plug in;
  :func:`register_policy` — policies by name;
* :class:`Params`, :class:`SubmodelParams` and :class:`Crew` — the one base of every parameter
  record (frozen, unknown fields and non-finite numbers refused) and of every simulated
  volunteer or team (id, on-duty windows, fatigue);
* :class:`EventLog` and the KPI helpers (:func:`time_to_fraction`, :func:`community_kpis`,
  :func:`kpis_frame` …) — events and the KPIs computed from them;
* submodels ``notification``, ``queues`` (sampling desks fed by a slot plan, validated against
  Erlang C), ``relay`` (rider → gate → door), ``door_to_door`` (two-person teams swabbing
  sealed and home-bound households) and ``needs`` (residents' needs met by a volunteer pool,
  by priority), with shifts, attrition and recruitment (:func:`shift_windows`,
  :func:`leave_times`, :func:`recruit_times`, :func:`fatigue_factor`, staggered breaks
  :func:`break_phases` and :func:`crew_windows`, :func:`intersect_windows`); riders as a
  resource of the relay (:class:`Rider`, :class:`RiderLeg`, :func:`rider_process`,
  :func:`rider_kpis`); lane schedules and lane breaks of the sampling desks
  (:func:`lane_windows`, :attr:`DeskPoint.lane_windows`);
* :class:`Experiment` and :func:`run_sweep` — sweeps over any ``concurrent.futures`` executor
  (in-process, a spawn process pool — :func:`worker_pool`, whose workers die with their
  parent — or Dask), resumable with a :class:`SweepStore` that keys batches on a fingerprint of
  the code and refuses edited or damaged ones; plots of a sweep's KPIs (:func:`plot_kpi`,
  :func:`save_kpi_plots` …; the ``plot`` extra);
* statistics of a sweep: :meth:`SweepResult.summary` (mean, standard error and a 95 %
  confidence interval by the KPI's kind — t, BCa bootstrap or Wilson: :func:`mean_interval`,
  :func:`t_interval`, :func:`bootstrap_interval`, :func:`wilson_interval`; kinds and units
  from the one KPI registry :func:`kpi_info`), :meth:`SweepResult.differences` (paired
  differences under common random numbers) and :func:`run_sequential` (replicates added in
  batches until an interval is narrow enough); :func:`run_record` (command line, git commits,
  OR-Tools and other versions, timestamp) for ``experiment.json``;
* the closed loop with the site planner: :func:`simulate_sites_plan` (a
  :class:`commgov.scheduling.sites.SitesPlan` simulated as planned, the p95 wait per site
  and overall in each replicate, a :class:`SitesSimulation`) and
  :func:`fewest_staff_meeting_target` (the fewest lanes and staff whose simulated p95 wait
  meets the target in 95 % of replicates, common random numbers and bisection, a
  :class:`StaffSearch` with the Wilson interval of that share);
* the relay from a supply station: :func:`station_relay_gate` (the shelf at a station of a
  :class:`commgov.scheduling.supply.SupplyPlan`, its walks the plan's station → gate leg
  plus the gate → door walk, for :func:`run_relay`);
* outputs on request: :func:`write_sweep_outputs` (event logs and per-interval
  :func:`time_series` as Parquet for every replicate or a seeded sample —
  :func:`select_replicates` — and KPIs per building and community as GeoJSON,
  :func:`spatial_kpis`, :func:`place_kpis`);
* sensitivity analysis through SALib (the ``sens`` extra): :func:`run_sensitivity` (Sobol
  first- and total-order indices, Morris elementary effects, with intervals) and
  :func:`plot_sensitivity`.

Units: float minutes since the scenario start inside, tz-aware datetimes outside; distances in
metres, walking speeds in metres per minute.
"""

from commgov.sim._calibrate import CalibrationResult, calibrate
from commgov.sim._d2d_run import (
    BASE as D2D_BASE,
    D2D_STREAM,
    D2DOrder,
    D2DTeam,
    door_to_door_process,
    planned_order,
    run_door_to_door,
    teams_from_problem,
)
from commgov.sim._design import DesignPoint, Experiment, scenario_id, with_values
from commgov.sim._desk import (
    ARRIVAL_STREAM as QUEUE_ARRIVAL_STREAM,
    PATIENCE_STREAM as QUEUE_PATIENCE_STREAM,
    SERVICE_STREAM as QUEUE_SERVICE_STREAM,
    Arrivals,
    DeskPoint,
    RngFactory,
    ServiceTime,
    SlotLoad,
    desk_points,
    desk_queue,
    plan_arrivals,
    poisson_arrivals,
    run_desk_queues,
    slot_arrivals,
    stream_factory,
)
from commgov.sim._door_to_door import DoorToDoorParams, door_to_door_kpis
from commgov.sim._engine import (
    ReplicateResult,
    RunProvenance,
    SimContext,
    Submodel,
    area_communities,
    get_submodel,
    load_world,
    register_submodel,
    run_replicate,
    submodel_names,
)
from commgov.sim._event_tables import time_series
from commgov.sim._kpi import (
    community_kpis,
    event_times,
    event_values,
    kpis_frame,
    percentiles,
    split_by_community,
    time_to_fraction,
    volunteer_hours,
)
from commgov.sim._kpi_info import KPI_KINDS, KpiInfo, kpi_info, kpi_kind, register_kpi
from commgov.sim._lanes import lane_windows
from commgov.sim._log import EventLog
from commgov.sim._needs import (
    ARRIVAL_STREAM as NEEDS_ARRIVAL_STREAM,
    DEFAULT_CATEGORIES,
    DEFAULT_HOURLY_PROFILE,
    SERVICE_STREAM as NEEDS_SERVICE_STREAM,
    NeedCategory,
    NeedsParams,
    need_arrival_times,
    needs_kpis,
)
from commgov.sim._notification import (
    DOOR as NOTIFIED_BY_DOOR,
    GROUP as NOTIFIED_BY_GROUP,
    PHONE as NOTIFIED_BY_PHONE,
    NotificationParams,
    notification_kpis,
)
from commgov.sim._notify_rules import (
    Activation,
    AllAtOnce,
    ChannelPolicy,
    DoorOnly,
    Escalation,
    GroupThenDoor,
    LognormalDelay,
    ParetoDelay,
    PhoneThenDoor,
    PhoneTree,
    ReadDelay,
    assign_buildings,
    phone_tree,
)
from commgov.sim._params import (
    ALWAYS_ON,
    AttritionPerHour,
    BreakMinutes,
    BreakStaggerMinutes,
    Capacity,
    Crew,
    DetourFactor,
    FatiguePerHour,
    Minutes,
    Params,
    PlanTimeLimitS,
    PoolSize,
    RecruitsPerHour,
    ShiftMinutes,
    ShiftWindows,
    SimMinute,
    SpeedMPerMin,
    SubmodelParams,
    VariationCoefficient,
)
from commgov.sim._plots import (
    headline_groups,
    is_headline_kpi,
    plot_kpi,
    plot_kpis,
    save_headline_plots,
    save_kpi_plots,
    select_kpis,
)
from commgov.sim._plugins import ENTRY_POINT_GROUP, load_plugins
from commgov.sim._policies import (
    PolicyParams,
    get_policy,
    make_policy,
    policy_names,
    register_policy,
)
from commgov.sim._provenance import run_record
from commgov.sim._queues import QueueKpis, QueueParams, queue_kpis
from commgov.sim._relay import RelayKpis, RelayParams, relay_kpis
from commgov.sim._relay_run import (
    RIDER_STREAM as RELAY_RIDER_STREAM,
    TRIP_STREAM as RELAY_TRIP_STREAM,
    GateBuilding,
    ParcelArrivals,
    RelayGate,
    RelayVolunteer,
    gate_from_problem,
    relay_process,
    rider_arrivals,
    run_relay,
    schedule_arrivals,
    volunteers_from_problem,
)
from commgov.sim._replicate_files import select_replicates, write_sweep_outputs
from commgov.sim._riders import Rider, RiderKpis, RiderLeg, rider_kpis, rider_process
from commgov.sim._scenario import SCENARIO_SCHEMA_VERSION, CommunitySpec, Scenario
from commgov.sim._sensitivity import (
    SENSITIVITY_METHODS,
    SensitivityParam,
    SensitivityResult,
    plot_sensitivity,
    run_sensitivity,
)
from commgov.sim._sequential import SequentialStep, SequentialSweep, run_sequential
from commgov.sim._shifts import (
    SHIFT_STREAM,
    break_phases,
    crew_windows,
    fatigue_factor,
    intersect_windows,
    leave_times,
    recruit_times,
    shift_windows,
    truncate_windows,
)
from commgov.sim._sites_loop import (
    SitesSimulation,
    StaffSearch,
    fewest_staff_meeting_target,
    simulate_sites_plan,
)
from commgov.sim._spatial import place_kpis, spatial_kpis
from commgov.sim._stats import (
    BOOTSTRAP_RESAMPLES,
    ConfidenceInterval,
    bootstrap_interval,
    mean_interval,
    t_interval,
    wilson_interval,
)
from commgov.sim._store import StoreIssue, StoreLookup, SweepStore
from commgov.sim._supply_relay import station_relay_gate
from commgov.sim._sweep import run_sweep
from commgov.sim._sweep_result import (
    DIFFERENCE_COLUMNS,
    FIXED_COLUMNS,
    SUMMARY_COLUMNS,
    RecomputedReplicate,
    SweepResult,
    SweepRow,
)
from commgov.sim._tandem import TandemKpis, run_tandem_desks, tandem_kpis
from commgov.sim._workers import worker_pool

__all__ = [
    "ALWAYS_ON",
    "BOOTSTRAP_RESAMPLES",
    "D2D_BASE",
    "D2D_STREAM",
    "DEFAULT_CATEGORIES",
    "DEFAULT_HOURLY_PROFILE",
    "DIFFERENCE_COLUMNS",
    "ENTRY_POINT_GROUP",
    "FIXED_COLUMNS",
    "KPI_KINDS",
    "NEEDS_ARRIVAL_STREAM",
    "NEEDS_SERVICE_STREAM",
    "NOTIFIED_BY_DOOR",
    "NOTIFIED_BY_GROUP",
    "NOTIFIED_BY_PHONE",
    "QUEUE_ARRIVAL_STREAM",
    "QUEUE_PATIENCE_STREAM",
    "QUEUE_SERVICE_STREAM",
    "RELAY_RIDER_STREAM",
    "RELAY_TRIP_STREAM",
    "SCENARIO_SCHEMA_VERSION",
    "SENSITIVITY_METHODS",
    "SHIFT_STREAM",
    "SUMMARY_COLUMNS",
    "Activation",
    "AllAtOnce",
    "Arrivals",
    "AttritionPerHour",
    "BreakMinutes",
    "BreakStaggerMinutes",
    "CalibrationResult",
    "Capacity",
    "ChannelPolicy",
    "CommunitySpec",
    "ConfidenceInterval",
    "Crew",
    "D2DOrder",
    "D2DTeam",
    "DesignPoint",
    "DeskPoint",
    "DetourFactor",
    "DoorOnly",
    "DoorToDoorParams",
    "Escalation",
    "EventLog",
    "Experiment",
    "FatiguePerHour",
    "GateBuilding",
    "GroupThenDoor",
    "KpiInfo",
    "LognormalDelay",
    "Minutes",
    "NeedCategory",
    "NeedsParams",
    "NotificationParams",
    "Params",
    "ParcelArrivals",
    "ParetoDelay",
    "PhoneThenDoor",
    "PhoneTree",
    "PlanTimeLimitS",
    "PolicyParams",
    "PoolSize",
    "QueueKpis",
    "QueueParams",
    "ReadDelay",
    "RecomputedReplicate",
    "RecruitsPerHour",
    "RelayGate",
    "RelayKpis",
    "RelayParams",
    "RelayVolunteer",
    "ReplicateResult",
    "Rider",
    "RiderKpis",
    "RiderLeg",
    "RngFactory",
    "RunProvenance",
    "Scenario",
    "SensitivityParam",
    "SensitivityResult",
    "SequentialStep",
    "SequentialSweep",
    "ServiceTime",
    "ShiftMinutes",
    "ShiftWindows",
    "SimContext",
    "SimMinute",
    "SitesSimulation",
    "SlotLoad",
    "SpeedMPerMin",
    "StaffSearch",
    "StoreIssue",
    "StoreLookup",
    "Submodel",
    "SubmodelParams",
    "SweepResult",
    "SweepRow",
    "SweepStore",
    "TandemKpis",
    "VariationCoefficient",
    "area_communities",
    "assign_buildings",
    "bootstrap_interval",
    "break_phases",
    "calibrate",
    "community_kpis",
    "crew_windows",
    "desk_points",
    "desk_queue",
    "door_to_door_kpis",
    "door_to_door_process",
    "event_times",
    "event_values",
    "fatigue_factor",
    "fewest_staff_meeting_target",
    "gate_from_problem",
    "get_policy",
    "get_submodel",
    "headline_groups",
    "intersect_windows",
    "is_headline_kpi",
    "kpi_info",
    "kpi_kind",
    "kpis_frame",
    "lane_windows",
    "leave_times",
    "load_plugins",
    "load_world",
    "make_policy",
    "mean_interval",
    "need_arrival_times",
    "needs_kpis",
    "notification_kpis",
    "percentiles",
    "phone_tree",
    "place_kpis",
    "plan_arrivals",
    "planned_order",
    "plot_kpi",
    "plot_kpis",
    "plot_sensitivity",
    "poisson_arrivals",
    "policy_names",
    "queue_kpis",
    "recruit_times",
    "register_kpi",
    "register_policy",
    "register_submodel",
    "relay_kpis",
    "relay_process",
    "rider_arrivals",
    "rider_kpis",
    "rider_process",
    "run_desk_queues",
    "run_door_to_door",
    "run_record",
    "run_relay",
    "run_replicate",
    "run_sensitivity",
    "run_sequential",
    "run_sweep",
    "run_tandem_desks",
    "save_headline_plots",
    "save_kpi_plots",
    "scenario_id",
    "schedule_arrivals",
    "select_kpis",
    "select_replicates",
    "shift_windows",
    "simulate_sites_plan",
    "slot_arrivals",
    "spatial_kpis",
    "split_by_community",
    "station_relay_gate",
    "stream_factory",
    "submodel_names",
    "t_interval",
    "tandem_kpis",
    "teams_from_problem",
    "time_series",
    "time_to_fraction",
    "truncate_windows",
    "volunteer_hours",
    "volunteers_from_problem",
    "wilson_interval",
    "with_values",
    "worker_pool",
    "write_sweep_outputs",
]
