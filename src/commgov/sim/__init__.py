"""Mobilisation simulation: SimPy submodels over commgov records, scenarios as data, KPIs.

* :class:`Scenario` — a scenario file (TOML/JSON) as a frozen record with a content hash;
* :func:`run_replicate` — one replicate, a pure function of (scenario, replicate, root seed);
* :func:`register_submodel` / :class:`SimContext` — how submodels plug in (protocol in
  :mod:`commgov.sim._engine`); :func:`register_policy` — policies by name;
* :class:`EventLog` and :mod:`commgov.sim.kpi` — events and the KPIs computed from them.

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
from commgov.sim.kpi import kpis_frame
from commgov.sim.notification import NotificationParams
from commgov.sim.scenario import SCENARIO_SCHEMA_VERSION, CommunitySpec, Scenario

__all__ = [
    "SCENARIO_SCHEMA_VERSION",
    "CommunitySpec",
    "EventLog",
    "NotificationParams",
    "Params",
    "PolicyParams",
    "ReplicateResult",
    "RunProvenance",
    "Scenario",
    "SimContext",
    "Submodel",
    "SubmodelParams",
    "get_policy",
    "get_submodel",
    "kpis_frame",
    "load_world",
    "make_policy",
    "policy_names",
    "register_policy",
    "register_submodel",
    "run_replicate",
    "submodel_names",
]
