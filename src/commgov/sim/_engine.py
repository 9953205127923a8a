"""The simulation engine: submodel registry, run context and :func:`run_replicate`.

Submodel protocol
-----------------
A submodel is a function registered with :func:`register_submodel`::

    from commgov.sim import SimContext, SubmodelParams, register_submodel

    class RelayParams(SubmodelParams):          # frozen pydantic; ``enabled`` is inherited
        riders_per_hour: float = 30.0           # [submodels.relay] in the scenario

    @register_submodel("relay", params=RelayParams, kpis=relay_kpis)
    def relay(env: simpy.Environment, ctx: SimContext, params: RelayParams) -> None:
        env.process(rider_arrivals(env, ctx, params))   # start processes; return nothing

Rules every submodel follows:

* **Time.** ``env.now`` is float minutes since ``ctx.start`` (a tz-aware datetime);
  ``ctx.to_datetime(t_min)`` and ``ctx.to_minutes(dt)`` convert at the boundary. The engine
  runs ``env.run(until=scenario.horizon_min)``; processes may outlive it (they are cut off).
* **Randomness.** Only ``ctx.rng(stream, entity)``, which is
  ``commgov._random.rng(root_seed, stream, entity, replicate)``: a fresh generator per
  (stream, entity). Use one stream name per mechanism (registered, append only, in
  ``commgov._random.STREAMS``) and per-entity generators where entity sets change between
  scenarios (volunteers, riders), so removing one entity leaves the others' draws unchanged.
  Never use global random state. Create generators in id order (processes too: SimPy resumes
  simultaneous events in the order they were scheduled).
* **Events.** ``ctx.log.record(t_min, kind, entity, actor=..., value=...)``
  (:class:`commgov.sim.EventLog`). Document your kinds in your module docstring. The shared
  kind ``"volunteer_busy"`` (entity: person id, actor: submodel name, value: minutes of work
  starting at ``t_min``) is summed by the engine into the KPI ``volunteer_hours``.
* **KPIs.** ``kpis(log, ctx, params) -> dict[str, float]`` computes the submodel's KPIs from
  the log alone; the engine prefixes them with ``"<name>."``
  (``notification.t95_min``). Helpers: :func:`commgov.sim.time_to_fraction`,
  :func:`commgov.sim.event_values` ….
* **World.** ``ctx.model`` (:class:`commgov.org.OrgModel`), ``ctx.graph``
  (:class:`commgov.org.OrgGraph`) and ``ctx.community_id``: loaded once per process and
  shared between replicates, so never mutate them. ``ctx.cache`` is a per-process dict
  (keyed by anything hashable that includes what the value depends on — the dataset, its
  seed and ``ctx.community_id``, never ``scenario.community.community``) for derived static
  structures such as household tables.
* **Areas.** A scenario on a district or sub-district (``community = "320508"``) calls each
  enabled submodel once per community of the area, in community-code order, on one
  environment and one event log; ``ctx.community_id`` is that community and
  :attr:`SimContext.in_area` is true. Draws keyed by world ids (buildings, people, sites) are
  then the same as in the community's own run. Ids a submodel makes up (``relay-v001``) must
  be scoped by the community in the random-stream keys (always) and in the log (when
  :attr:`SimContext.in_area`), so communities draw independently and log ids stay unique.
  KPIs are computed once, over the whole log. Every event an area's community records
  through its ``ctx.log`` is tagged with the community (:attr:`ReplicateResult.communities`),
  so :func:`commgov.sim.community_kpis` gives each community's KPIs from the same log
  (equal to its own run's) without running again.

Submodels run in name order (within a community). Scenario names resolve only through the
registry: the built-in submodels register when :mod:`commgov.sim` is imported (as it is in
every worker process), third-party ones through installed plugins' entry points
(:mod:`commgov.sim._plugins`); a scenario never makes commgov import a module.
"""

from __future__ import annotations

import math
import platform
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from importlib import metadata
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import numpy as np
import simpy

from commgov._random import rng as _rng
from commgov._records import FrozenModel
from commgov._redact import get_logger
from commgov.errors import InputError
from commgov.sim._log import EventLog
from commgov.sim._params import SubmodelParams

if TYPE_CHECKING:
    from commgov.org import OrgGraph, OrgModel
    from commgov.sim._scenario import Scenario

__all__ = [
    "ReplicateResult",
    "RunProvenance",
    "SimContext",
    "Submodel",
    "area_communities",
    "get_submodel",
    "load_world",
    "register_submodel",
    "run_replicate",
    "submodel_names",
]

SubmodelFn = Callable[[simpy.Environment, "SimContext", Any], None]
KpiFn = Callable[[EventLog, "SimContext", Any], Mapping[str, float]]
F = TypeVar("F", bound=SubmodelFn)

#: Shared event kind: volunteer work (entity person, value minutes), summed into volunteer_hours.
VOLUNTEER_BUSY = "volunteer_busy"


@dataclass(frozen=True, slots=True)
class Submodel:
    """A registered submodel.

    Attributes
    ----------
    name : str
        Key under ``[submodels]`` in a scenario.
    fn : callable
        ``fn(env, ctx, params) -> None``; starts the submodel's processes.
    params : type of SubmodelParams
        Its parameter record.
    kpis : callable or None
        ``kpis(log, ctx, params) -> mapping`` of KPI name → float (unprefixed).
    qualname : str
        ``"module:qualname"`` of ``fn``.
    """

    name: str
    fn: SubmodelFn
    params: type[SubmodelParams]
    kpis: KpiFn | None
    qualname: str


_SUBMODELS: dict[str, Submodel] = {}


def register_submodel(
    name: str, *, params: type[SubmodelParams] = SubmodelParams, kpis: KpiFn | None = None
) -> Callable[[F], F]:
    """Function decorator: register a submodel under ``name`` (see the module docstring).

    Parameters
    ----------
    name : str
        Key under ``[submodels]`` in scenarios.
    params : type, default SubmodelParams
        Parameter record (a :class:`SubmodelParams` subclass).
    kpis : callable, optional
        ``kpis(log, ctx, params)`` → KPI name → value; prefixed with ``"<name>."``.

    Returns
    -------
    callable
        The decorator; returns the function unchanged.

    Raises
    ------
    ValueError
        If another function is registered under ``name``.
    """

    def decorate(fn: F) -> F:
        qualname = f"{fn.__module__}:{fn.__qualname__}"
        old = _SUBMODELS.get(name)
        if old is not None and old.qualname != qualname:
            raise ValueError(f"submodel {name!r} is already registered by {old.qualname}")
        _SUBMODELS[name] = Submodel(name, fn, params, kpis, qualname)
        return fn

    return decorate


def submodel_names() -> list[str]:
    """Names of the submodels registered so far (the built-in ones once imported), sorted."""
    return sorted(_SUBMODELS)


def get_submodel(name: str, *, field: str | None = None) -> Submodel:
    """The submodel registered as ``name`` (or as ``"module:qualname"`` of its function).

    Names resolve only through the registry that commgov and installed plugins fill
    (:mod:`commgov.sim._plugins`); nothing named by a scenario is ever imported.

    Raises
    ------
    commgov.errors.InputError
        If none is registered; the message lists the known names.
    """
    from commgov.sim._plugins import load_plugins

    if name not in _SUBMODELS:
        load_plugins()
    sub = _SUBMODELS.get(name)
    if sub is None and ":" in name:
        sub = next((s for s in _SUBMODELS.values() if s.qualname == name), None)
    if sub is None:
        raise InputError.single(
            "scenario", field or f"submodels.{name}", name,
            f"unknown submodel (scenario files name registered submodels only; modules are "
            f"never imported); known: {', '.join(submodel_names()) or 'none'}", what="scenario")
    return sub


# --------------------------------------------------------------------------- the world


@lru_cache(maxsize=8)
def load_world(dataset: str, seed: int, community: str) -> tuple[OrgModel, OrgGraph]:
    """The organisation model and graph of a scenario's community (cached per process).

    Parameters
    ----------
    dataset : str
        ``"gusu"`` (:func:`commgov.datasets.gusu` restricted to ``community``) or
        ``"synthetic_community"`` (:func:`commgov.datasets.synthetic_community`).
    seed : int
        Dataset seed.
    community : str
        12-digit community code, or a district or sub-district code (``"gusu"`` only: the
        whole dataset restricted to the area's communities).

    Raises
    ------
    commgov.errors.InputError
        Unknown dataset (the message lists the known ones) or community.
    """
    from commgov._catalog import dataset_names, dataset_provider
    from commgov.org import NodeKind, OrgGraph

    provider = dataset_provider(dataset)
    if provider is None:
        raise InputError.single("scenario", "community.dataset", dataset,
                                f"unknown dataset; known: {', '.join(dataset_names())}",
                                what="scenario")
    model = provider.load(community, seed)
    graph = OrgGraph(model)
    kinds = (NodeKind.COMMUNITY, NodeKind.VILLAGE, NodeKind.DISTRICT, NodeKind.SUBDISTRICT)
    if community not in graph or graph.kind(community) not in kinds:
        raise InputError.single("scenario", "community.community", community,
                                f"no community with this code in dataset {dataset!r}",
                                what="scenario")
    return model, graph


@dataclass(slots=True)
class SimContext:
    """What a submodel sees of the run (see the module docstring).

    Attributes
    ----------
    scenario : Scenario
        The scenario being run.
    replicate : int
        Replicate number (≥ 0).
    root_seed : int
        Root seed of the experiment (≥ 0).
    model : OrgModel
        The organisation model (shared between replicates: read only).
    graph : OrgGraph
        Its graph (read only).
    community_id : str
        The community being set up (one of the area's in an area scenario).
    start : datetime
        Timezone-aware instant of simulated minute 0.
    log : EventLog
        The run's event log.
    cache : dict
        Per-process cache of static derived structures (read only once built).
    """

    scenario: Scenario
    replicate: int
    root_seed: int
    model: OrgModel
    graph: OrgGraph
    community_id: str
    start: datetime
    log: EventLog = field(default_factory=EventLog)
    cache: dict[Any, Any] = field(default_factory=dict)

    @property
    def in_area(self) -> bool:
        """Whether the scenario covers a district or sub-district (several communities)."""
        return self.community_id != self.scenario.community.community

    def rng(self, stream: str, entity: str | None = None) -> np.random.Generator:
        """A fresh generator: ``commgov._random.rng(root_seed, stream, entity, replicate)``."""
        return _rng(self.root_seed, stream, entity, self.replicate)

    def to_datetime(self, t_min: float) -> datetime:
        """The tz-aware instant ``t_min`` minutes after :attr:`start`, in its time zone."""
        return self.start + timedelta(minutes=t_min)

    def to_minutes(self, at: datetime) -> float:
        """Minutes from :attr:`start` to the tz-aware instant ``at``."""
        return (at - self.start).total_seconds() / 60.0


_STATIC_CACHE: dict[Any, Any] = {}

_LOG = get_logger(__name__)


class _TaggedLog(EventLog):
    """A community's handle on an area run's log: records into the shared columns and tags
    each event with the community (a parallel list)."""

    def __init__(self, log: EventLog, tags: list[str], community: str) -> None:
        super().__init__(log.t_min, log.kind, log.entity, log.actor, log.value)
        self._tags = tags
        self._community = community

    def record(
        self, t_min: float, kind: str, entity: str, *, actor: str = "", value: float = math.nan
    ) -> None:
        super().record(t_min, kind, entity, actor=actor, value=value)
        self._tags.append(self._community)


class _IndexedLog(EventLog):
    """A finished log's columns (shared, not copied) whose :meth:`where` reads an index of
    the kinds built in one pass, so KPI functions calling ``where`` for many kinds over a
    district's millions of events do not scan the log once per kind. Rebuilt if the log
    grows."""

    def __init__(self, log: EventLog) -> None:
        super().__init__(log.t_min, log.kind, log.entity, log.actor, log.value)
        self._index: dict[str, list[int]] = {}
        self._indexed = -1

    def where(self, kind: str) -> list[int]:
        if self._indexed != len(self.kind):
            index: dict[str, list[int]] = {}
            for i, k in enumerate(self.kind):
                rows = index.get(k)
                if rows is None:
                    index[k] = [i]
                else:
                    rows.append(i)
            self._index, self._indexed = index, len(self.kind)
        return list(self._index.get(kind, ()))


class RunProvenance(FrozenModel):
    """Where a replicate's result came from (JSON-ready).

    Parameters
    ----------
    scenario_id : str
        :attr:`Scenario.content_hash` (sha256 hex of the canonical JSON).
    scenario_name : str
        The scenario's name.
    replicate : int
        Replicate number.
    root_seed : int
        Root seed; draws come from ``SeedSequence(root_seed, spawn_key=(replicate, stream,
        entity_key(id)))``.
    versions : dict of str to str
        Versions of python, commgov, simpy, numpy and pydantic.
    """

    scenario_id: str
    scenario_name: str
    replicate: int
    root_seed: int
    versions: dict[str, str]


@lru_cache(maxsize=1)
def _versions() -> tuple[tuple[str, str], ...]:
    out = {"python": platform.python_version()}
    for dist in ("commgov", "simpy", "numpy", "pydantic"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:  # pragma: no cover - source checkout
            out[dist] = getattr(sys.modules.get(dist), "__version__", "unknown")
    return tuple(sorted(out.items()))


@dataclass(frozen=True, slots=True)
class ReplicateResult:
    """The result of one replicate: KPIs, the event log and provenance.

    Attributes
    ----------
    kpis : dict of str to float
        KPI name → value, keys sorted; NaN where undefined (e.g. ``t100`` when some
        household was never reached before the horizon).
    log : EventLog
        Every event of the run.
    provenance : RunProvenance
        Scenario hash, replicate, root seed, library versions.
    status : {"ok"}
        Always ``"ok"`` for a returned result (failures raise).
    communities : list of str or None
        Area runs: the community of each event of :attr:`log` (same length, the community
        whose submodels recorded it); ``None`` for a community's own run (all its events)
        or when a submodel wrote to the log without :meth:`EventLog.record`. Read by
        :func:`commgov.sim.community_kpis`.
    """

    kpis: dict[str, float]
    log: EventLog
    provenance: RunProvenance
    status: Literal["ok"] = "ok"
    communities: list[str] | None = None


def area_communities(graph: OrgGraph, code: str) -> list[str]:
    """The communities a scenario's ``community`` code covers, sorted by code.

    Parameters
    ----------
    graph : OrgGraph
        The world (:func:`load_world`).
    code : str
        A community code (itself), or a district or sub-district code (its communities and
        villages).

    Returns
    -------
    list of str
    """
    from commgov.org import NodeKind

    if graph.kind(code) in (NodeKind.COMMUNITY, NodeKind.VILLAGE):
        return [code]
    return sorted({*graph.descendants(code, NodeKind.COMMUNITY),
                   *graph.descendants(code, NodeKind.VILLAGE)})


def run_replicate(scenario: Scenario, replicate: int, root_seed: int) -> ReplicateResult:
    """Run one replicate of a scenario: a pure function of its three arguments.

    Loads the community by dataset name and seed (cached per process), builds a SimPy
    environment whose clock is float minutes since ``scenario.start``, starts every enabled
    submodel in name order, runs until ``scenario.horizon_min`` and computes the KPIs from the
    event log. A district or sub-district scenario starts the submodels of each of its
    communities in turn (:func:`area_communities` order) on the same environment and log; a
    community's draws are those of its own run (see the module docstring, "Areas").

    Parameters
    ----------
    scenario : Scenario
        The scenario (:class:`commgov.sim.Scenario`).
    replicate : int
        Replicate number, ≥ 0. Replicate ``r`` sees the same random draws in every scenario
        (common random numbers).
    root_seed : int
        Root seed, ≥ 0.

    Returns
    -------
    ReplicateResult
        KPIs (sorted keys: each submodel's prefixed with its name, plus ``events`` and
        ``volunteer_hours``), the event log and provenance.

    Raises
    ------
    commgov.errors.InputError
        If the replicate or seed is negative, or the scenario does not fit its community
        (e.g. more volunteers asked for than there are pioneers).
    """
    issues = []
    if not isinstance(replicate, int) or replicate < 0:
        issues.append(("replicate", replicate))
    if not isinstance(root_seed, int) or root_seed < 0:
        issues.append(("root_seed", root_seed))
    if issues:
        arg, given = issues[0]
        raise InputError.single("run", arg, given, "must be a non-negative integer",
                                what="run_replicate")
    c = scenario.community
    model, graph = load_world(c.dataset, c.seed, c.community)
    ctx = SimContext(
        scenario=scenario, replicate=replicate, root_seed=root_seed, model=model, graph=graph,
        community_id=c.community, start=scenario.start, cache=_STATIC_CACHE,
    )
    env = simpy.Environment()
    active = _active_submodels(scenario)
    tags: list[str] | None = None
    for cid in area_communities(graph, c.community):
        if cid == c.community:
            here = ctx
        else:
            if tags is None:
                tags = []
            here = SimContext(
                scenario=scenario, replicate=replicate, root_seed=root_seed, model=model,
                graph=graph, community_id=cid, start=scenario.start,
                log=_TaggedLog(ctx.log, tags, cid), cache=_STATIC_CACHE)
        for sub, params in active:
            sub.fn(env, here, params)
    env.run(until=scenario.horizon_min)
    if tags is not None and len(tags) != len(ctx.log):
        _LOG.warning("%s: %d of %d events were not logged with EventLog.record; no "
                     "community tags (ReplicateResult.communities is None)", scenario.name,
                     len(ctx.log) - len(tags), len(ctx.log))
        tags = None
    kpis = _run_kpis(ctx, active)
    provenance = RunProvenance(
        scenario_id=scenario.content_hash, scenario_name=scenario.name, replicate=replicate,
        root_seed=root_seed, versions=dict(_versions()),
    )
    return ReplicateResult(kpis, ctx.log, provenance, communities=tags)


def _run_kpis(ctx: SimContext, active: list[tuple[Submodel, Any]]) -> dict[str, float]:
    """``events``, ``volunteer_hours`` and each active submodel's prefixed KPIs of
    ``ctx.log``, keys sorted (``where`` indexed once: :class:`_IndexedLog`)."""
    from commgov.sim._kpi import volunteer_hours

    log = _IndexedLog(ctx.log)
    kpis: dict[str, float] = {
        "events": float(len(log)),
        "volunteer_hours": volunteer_hours(log),
    }
    for sub, params in active:
        if sub.kpis is not None:
            for key, value in sub.kpis(log, ctx, params).items():
                kpis[f"{sub.name}.{key}"] = float(value)
    return dict(sorted(kpis.items()))


def _active_submodels(scenario: Scenario) -> list[tuple[Submodel, Any]]:
    """The enabled submodels of a scenario with their validated parameters, in name order."""
    active = []
    for name in sorted(scenario.submodels):
        sub = get_submodel(name)
        params = sub.params.model_validate(scenario.submodels[name])
        if params.enabled:
            active.append((sub, params))
    return active
