"""Mobilisation simulation: SimPy submodels over commgov records, scenarios as data, KPIs.

* :class:`Scenario` — a scenario file (TOML/JSON) as a frozen record with a content hash;
* :func:`run_replicate` — one replicate, a pure function of (scenario, replicate, root seed);
* :func:`register_submodel` / :class:`SimContext` — how submodels plug in (protocol in
  :mod:`commgov.sim._engine`); :func:`register_policy` — policies by name;
* :class:`EventLog` and :mod:`commgov.sim.kpi` — events and the KPIs computed from them;
* submodels ``notification``, ``queues`` (sampling desks fed by a slot plan, validated against
  Erlang C), ``relay`` (rider → gate → door), ``door_to_door`` (two-person teams swabbing
  sealed and home-bound households) and ``needs`` (residents' needs met by a volunteer pool,
  by priority), with :mod:`commgov.sim.shifts`;
* :class:`Experiment` and :func:`run_sweep` — sweeps over any ``concurrent.futures`` executor
  (in-process, a spawn process pool, Dask), resumable with a :class:`SweepStore`.

Float minutes since the scenario start inside, tz-aware datetimes outside.
"""

from commgov.sim._engine import (
    ReplicateResult,
    RunProvenance,
    SimContext,
    Submodel,
    get_submodel,
    load_world,
    register_submodel,
    run_replicate,
    submodel_names,
)
from commgov.sim._log import EventLog
from commgov.sim._policies import (
    Params,
    PolicyParams,
    SubmodelParams,
    get_policy,
    make_policy,
    policy_names,
    register_policy,
)
from commgov.sim._store import SweepStore
from commgov.sim.door_to_door import (
    D2DTeam,
    DoorToDoorParams,
    door_to_door_kpis,
    run_door_to_door,
    teams_from_problem,
)
from commgov.sim.kpi import kpis_frame
from commgov.sim.needs import NeedCategory, NeedsParams, need_arrival_times, needs_kpis
from commgov.sim.notification import NotificationParams
from commgov.sim.queues import (
    DeskPoint,
    QueueKpis,
    QueueParams,
    ServiceTime,
    queue_kpis,
    run_desk_queues,
)
from commgov.sim.relay import (
    GateBuilding,
    RelayGate,
    RelayKpis,
    RelayParams,
    RelayVolunteer,
    relay_kpis,
    run_relay,
)
from commgov.sim.scenario import SCENARIO_SCHEMA_VERSION, CommunitySpec, Scenario
from commgov.sim.sweep import DesignPoint, Experiment, SweepResult, SweepRow, run_sweep

__all__ = [
    "SCENARIO_SCHEMA_VERSION",
    "CommunitySpec",
    "D2DTeam",
    "DesignPoint",
    "DeskPoint",
    "DoorToDoorParams",
    "EventLog",
    "Experiment",
    "GateBuilding",
    "NeedCategory",
    "NeedsParams",
    "NotificationParams",
    "Params",
    "PolicyParams",
    "QueueKpis",
    "QueueParams",
    "RelayGate",
    "RelayKpis",
    "RelayParams",
    "RelayVolunteer",
    "ReplicateResult",
    "RunProvenance",
    "Scenario",
    "ServiceTime",
    "SimContext",
    "Submodel",
    "SubmodelParams",
    "SweepResult",
    "SweepRow",
    "SweepStore",
    "door_to_door_kpis",
    "get_policy",
    "get_submodel",
    "kpis_frame",
    "load_world",
    "make_policy",
    "need_arrival_times",
    "needs_kpis",
    "policy_names",
    "queue_kpis",
    "register_policy",
    "register_submodel",
    "relay_kpis",
    "run_desk_queues",
    "run_door_to_door",
    "run_relay",
    "run_replicate",
    "run_sweep",
    "submodel_names",
    "teams_from_problem",
]
