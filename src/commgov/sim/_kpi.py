"""KPIs computed from the event log alone (so new metrics need no re-run).

Generic helpers (:func:`event_times`, :func:`time_to_fraction`, :func:`percentiles`,
:func:`volunteer_hours`) that every submodel can reuse, :func:`kpis_frame`, which turns
replicate results into a pandas DataFrame (one row per replicate), and, for district and
sub-district runs, :func:`split_by_community` and :func:`community_kpis` (each community's
KPIs from the area run's log).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from commgov.sim._log import EventLog

if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]

    from commgov.sim._engine import ReplicateResult
    from commgov.sim._scenario import Scenario

__all__ = [
    "community_kpis",
    "event_times",
    "event_values",
    "kpis_frame",
    "percentiles",
    "split_by_community",
    "time_to_fraction",
    "volunteer_hours",
]

#: Shared event kind of volunteer work (see ``commgov.sim._engine``).
VOLUNTEER_BUSY = "volunteer_busy"


def event_times(log: EventLog, kind: str) -> np.ndarray:
    """Times (minutes since start) of the events of one kind, sorted ascending."""
    idx = log.where(kind)
    return np.sort(np.asarray([log.t_min[i] for i in idx], dtype=float))


def event_values(log: EventLog, kind: str) -> np.ndarray:
    """Values of the events of one kind, in log order (NaNs kept)."""
    return np.asarray([log.value[i] for i in log.where(kind)], dtype=float)


def time_to_fraction(log: EventLog, kind: str, fraction: float, total: int) -> float:
    """Minutes until a fraction of ``total`` entities have an event of ``kind``.

    The time of the ⌈fraction × total⌉-th event (each entity counted once, at its first
    event), or NaN when fewer happened; 0.0 when ``total`` is 0.

    Parameters
    ----------
    log : EventLog
    kind : str
        Event kind (``"notified"``).
    fraction : float
        In (0, 1].
    total : int
        Entities that should have the event (households to notify).

    Examples
    --------
    >>> log = EventLog()
    >>> for t, h in [(1.0, "a"), (3.0, "b"), (2.0, "a"), (9.0, "c")]:
    ...     log.record(t, "notified", h)
    >>> time_to_fraction(log, "notified", 0.5, 4), time_to_fraction(log, "notified", 1.0, 3)
    (3.0, 9.0)
    >>> math.isnan(time_to_fraction(log, "notified", 1.0, 4))
    True
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    if total <= 0:
        return 0.0
    first: dict[str, float] = {}
    for i in log.where(kind):
        e = log.entity[i]
        t = log.t_min[i]
        if e not in first or t < first[e]:
            first[e] = t
    need = math.ceil(round(fraction * total, 9))
    if len(first) < need:
        return math.nan
    return float(sorted(first.values())[need - 1])


def percentiles(
    log: EventLog, kind: str, qs: Sequence[float], *, of: str = "value"
) -> list[float]:
    """Percentiles of the values (or times) of the events of one kind.

    Parameters
    ----------
    log : EventLog
    kind : str
    qs : sequence of float
        Percentiles in [0, 100].
    of : {"value", "t_min"}, default "value"
        Which column.

    Returns
    -------
    list of float
        Linear-interpolated percentiles (:func:`numpy.percentile`); NaNs when there is no
        such event.
    """
    data = event_values(log, kind) if of == "value" else event_times(log, kind)
    data = data[~np.isnan(data)]
    if data.size == 0:
        return [math.nan] * len(qs)
    return [float(x) for x in np.percentile(data, list(qs))]


def censored_times(
    done: Mapping[str, float], started: Mapping[str, float], until_min: float
) -> list[float]:
    """Every started item's time, an unfinished one censored at ``until_min``.

    The one way the submodels count what was not finished in a time KPI (the ``*_all_min``
    KPIs: a parcel not delivered, a need not reached, a resident not swabbed by the horizon):
    an item finished by ``until_min`` counts with its own time ``done[id]``, any other with
    ``until_min − started[id]``, its time so far. An unfinished item's true time is at least
    that (right-censored: Kaplan & Meier 1958), so a mean or percentile of these times is a
    lower bound of the true one — and, unlike one over finished items only, it grows when
    fewer items finish.

    Parameters
    ----------
    done : mapping of str to float
        Item id → its time (minutes), for the items finished by ``until_min``.
    started : mapping of str to float
        Item id → its start (minutes), for every item counted, in the order wanted.
    until_min : float
        The censoring time, minutes (the end of the measurement window).

    Returns
    -------
    list of float
        One time per item of ``started``, in its order.

    Notes
    -----
    O(len(started)).

    References
    ----------
    Kaplan, E. L. & Meier, P. (1958). Nonparametric estimation from incomplete observations.
    JASA 53(282), 457–481.

    Examples
    --------
    >>> censored_times({"a": 5.0}, {"a": 0.0, "b": 40.0}, 100.0)
    [5.0, 60.0]
    """
    return [done.get(key, until_min - t) for key, t in started.items()]


def volunteer_hours(log: EventLog) -> float:
    """Hours of volunteer work: the sum of ``volunteer_busy`` values (minutes) ÷ 60."""
    values = event_values(log, VOLUNTEER_BUSY)
    return float(np.nansum(values) / 60.0) if values.size else 0.0


def kpis_frame(results: Iterable[ReplicateResult]) -> pd.DataFrame:
    """One row per replicate: scenario id and name, replicate, root seed, then the KPIs.

    Rows are sorted by (scenario_name, scenario_id, replicate); KPI columns by name (a KPI a
    result lacks is NaN).
    """
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]

    rows: list[dict[str, Any]] = []
    for r in results:
        p = r.provenance
        rows.append({"scenario_name": p.scenario_name, "scenario_id": p.scenario_id,
                     "replicate": p.replicate, "root_seed": p.root_seed, **r.kpis})
    head = ["scenario_name", "scenario_id", "replicate", "root_seed"]
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=head)
    kpis = sorted(c for c in frame.columns if c not in head)
    frame = frame[head + kpis].sort_values(["scenario_name", "scenario_id", "replicate"])
    return frame.reset_index(drop=True)


def split_by_community(result: ReplicateResult) -> dict[str, EventLog]:
    """The events of an area run, one log per community (in log order within each).

    Parameters
    ----------
    result : ReplicateResult
        A district or sub-district replicate (:attr:`ReplicateResult.communities` set).

    Returns
    -------
    dict of str to EventLog
        Community code → its events, communities in code order; a community that logged
        nothing is absent.

    Raises
    ------
    ValueError
        If the result has no community tags (a community's own run: its whole log is the
        community's).
    """
    tags = result.communities
    if tags is None:
        raise ValueError(
            "this result has no community tags: it is a community's own run (its whole log "
            "is that community's) or a submodel logged without EventLog.record"
        )
    rows: dict[str, list[int]] = {}
    for i, cid in enumerate(tags):
        got = rows.get(cid)
        if got is None:
            rows[cid] = [i]
        else:
            got.append(i)
    log = result.log
    out = {}
    for cid in sorted(rows):
        idx = rows[cid]
        out[cid] = EventLog(
            [log.t_min[i] for i in idx], [log.kind[i] for i in idx],
            [log.entity[i] for i in idx], [log.actor[i] for i in idx],
            [log.value[i] for i in idx],
        )
    return out


def community_kpis(scenario: Scenario, result: ReplicateResult) -> dict[str, dict[str, float]]:
    """Each community's KPIs from an area run's log, without running again.

    The log of each community (:func:`split_by_community`) is given to every enabled
    submodel's KPI function as in the community's own run (the scenario with
    ``community.community`` set to it), plus the engine's ``events`` and
    ``volunteer_hours``. A community draws the same in an area run as alone, so these are
    the KPIs of its own run (``run_replicate`` of that scenario), whose KPI names they share.

    Parameters
    ----------
    scenario : Scenario
        The area scenario that produced ``result``.
    result : ReplicateResult
        One replicate of it.

    Returns
    -------
    dict of str to dict of str to float
        Community code → KPI name → value (keys sorted), every community of the area in code
        order (one that logged nothing gets its KPIs of an empty log).
        ``pandas.DataFrame.from_dict(out, orient="index")`` makes it a table.

    Raises
    ------
    ValueError
        If ``result`` has no community tags, or is not a replicate of ``scenario``.
    """
    from commgov.sim._engine import (
        SimContext,
        _active_submodels,
        _run_kpis,
        area_communities,
        load_world,
    )

    if result.provenance.scenario_id != scenario.content_hash:
        raise ValueError("result is not a replicate of this scenario (content hashes differ)")
    logs = split_by_community(result)
    c = scenario.community
    model, graph = load_world(c.dataset, c.seed, c.community)
    out: dict[str, dict[str, float]] = {}
    for cid in area_communities(graph, c.community):
        alone = scenario.with_updates({"community.community": cid})
        ctx = SimContext(
            scenario=alone, replicate=result.provenance.replicate,
            root_seed=result.provenance.root_seed, model=model, graph=graph, community_id=cid,
            start=alone.start, log=logs.get(cid, EventLog()),
        )
        out[cid] = _run_kpis(ctx, _active_submodels(alone))
    return out
