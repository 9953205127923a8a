"""Desks in tandem: residents pass several desk stages in turn (registration → swab).

Each stage is a :class:`commgov.sim.DeskPoint` with its lanes, service time, opening window,
patience and balking, simulated by the same processes as a single desk
(:func:`commgov.sim.desk_queue`). Residents arrive at the first stage; a resident whose
service ends at stage ``j`` joins stage ``j + 1`` at once. A resident who leaves a stage
unserved (reneges, balks, is refused or left at closing) leaves the tandem.

Randomness: arrivals and first-stage draws as :func:`commgov.sim.poisson_arrivals` (entity the
first stage's id); the service (and patience) of the k-th resident of the tandem at a later
stage is the k-th draw of that stage's id in streams ``"sim_queue_service"`` (and
``"sim_queue_patience"``), so changing one stage's lanes leaves every draw unchanged (common
random numbers).

Events are the desk events; at stage ``j ≥ 2`` the entity is ``"<resident>@<stage id>"``, so
:func:`commgov.sim.queue_kpis` with ``point_ids=[stage id]`` gives the KPIs of one stage.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import simpy

from commgov.sim._desk import (
    _CHUNK,
    PATIENCE_STREAM,
    SERVICE_STREAM,
    Arrivals,
    DeskPoint,
    RngFactory,
    _admit,
    _arrive,
    _Desk,
    _start_desk,
)
from commgov.sim._kpi import censored_times
from commgov.sim._log import EventLog, run_standalone

__all__ = ["TandemKpis", "run_tandem_desks", "tandem_kpis"]


class _Draws:
    """The k-th draw of a stream, in fixed chunks (a longer run only appends draws)."""

    def __init__(self, sample: Callable[[], np.ndarray]) -> None:
        self._sample = sample
        self._values: list[float] = []

    def __getitem__(self, k: int) -> float:
        while k >= len(self._values):
            self._values.extend(self._sample().tolist())
        return self._values[k]


def run_tandem_desks(
    stages: Sequence[DeskPoint],
    arrivals: Arrivals,
    rngs: RngFactory,
    *,
    until_min: float | None = None,
    log: EventLog | None = None,
) -> EventLog:
    """Simulate residents passing desk stages in turn, on a fresh SimPy environment.

    Parameters
    ----------
    stages : sequence of DeskPoint
        The stages in the order residents pass them, ≥ 1, ids distinct.
    arrivals : Arrivals
        Residents at the first stage (e.g. :func:`commgov.sim.poisson_arrivals` of
        ``stages[0]``), with their first-stage service and patience.
    rngs : RngFactory
        ``rngs(stream, entity)`` → generator, for the later stages' service and patience.
    until_min : float, optional
        Stop the clock here; default: run until every resident has left.
    log : EventLog, optional
        Log to append to; default a new one.

    Returns
    -------
    EventLog
        Desk events of every stage (module docstring).

    Raises
    ------
    ValueError
        If ``stages`` is empty, two stages share an id, an id contains ``"@"``, or
        ``arrivals`` belongs to another point than the first stage.

    Notes
    -----
    O(n log n) for ``n`` residents and stage passes (SimPy's event heap), memory O(n).
    Without patience, balking and closing, a tandem of M/M/c stages fed by Poisson arrivals
    is a Jackson network: by Burke's theorem each stage is an independent M/M/c queue with
    the same arrival rate (Jackson 1957; Burke 1956), which ``tests/sim/test_tandem.py``
    checks.

    References
    ----------
    .. [1] P. J. Burke, "The output of a queuing system", *Operations Research* 4(6):699-704,
       1956.
    .. [2] J. R. Jackson, "Networks of waiting lines", *Operations Research* 5(4):518-521,
       1957.
    """
    if not stages:
        raise ValueError("a tandem needs at least one stage")
    ids = [s.id for s in stages]
    if len(set(ids)) != len(ids) or any("@" in i for i in ids):
        raise ValueError(f"stage ids must be distinct and without '@', got {ids}")
    if arrivals.point_id != stages[0].id:
        raise ValueError(
            f"arrivals are for point {arrivals.point_id!r}, the first stage is {stages[0].id!r}"
        )
    order = {rid: k for k, rid in enumerate(arrivals.resident_ids)}

    def start(env: simpy.Environment, log: EventLog) -> None:
        desks: list[_Desk] = []
        for j in range(len(stages) - 1, -1, -1):  # build from the last stage back
            stage = stages[j]
            nxt = desks[0] if desks else None
            desks.insert(0, _start_desk(env, stage, log, _forward(env, nxt, rngs, order)))
        env.process(_arrive(env, desks[0], arrivals))

    return run_standalone(start, until_min, log)


def _forward(
    env: simpy.Environment, nxt: _Desk | None, rngs: RngFactory, order: dict[str, int]
) -> Callable[[str, float], None] | None:
    if nxt is None:
        return None
    desk = nxt
    stage = desk.point
    svc_gen = rngs(SERVICE_STREAM, stage.id)
    service = _Draws(lambda: stage.service.draw(svc_gen, _CHUNK))
    patience: _Draws | None = None
    if stage.patience_min is not None:
        pat_gen = rngs(PATIENCE_STREAM, stage.id)
        mean = stage.patience_min
        patience = _Draws(lambda: pat_gen.exponential(mean, _CHUNK))

    def done(rid: str, now: float) -> None:
        base = rid.split("@", 1)[0]
        k = order[base]
        _admit(
            env,
            desk,
            f"{base}@{stage.id}",
            service[k],
            math.inf if patience is None else patience[k],
        )

    return done


@dataclass(frozen=True, slots=True)
class TandemKpis:
    """End-to-end figures of a tandem over a measurement window (see :func:`tandem_kpis`).

    Attributes
    ----------
    arrived : int
        Residents who joined the first stage in the window.
    completed : int
        Of those, residents who finished the last stage.
    mean_time_in_system_min : float
        Mean time from joining the first stage to finishing the last, of the completed
        residents (``W``), minutes; NaN if none.
    mean_in_system : float
        Time-average number of residents anywhere in the tandem over the window (``L``),
        people (queues and lanes of every stage, whenever they arrived).
    mean_time_in_system_all_min : float
        Mean time in the tandem of *every* resident who joined in the window, minutes: until
        it finished or left, or, still inside at ``to_min``, until then (censored at the end
        of the window, as the queues' ``*_all_min`` KPIs); NaN if nobody joined. Read it
        beside ``completed``: ``mean_time_in_system_min`` describes the completed only.
    """

    arrived: int
    completed: int
    mean_time_in_system_min: float
    mean_in_system: float
    mean_time_in_system_all_min: float = math.nan


def tandem_kpis(
    log: EventLog, stages: Sequence[DeskPoint], *, from_min: float = 0.0, to_min: float
) -> TandemKpis:
    """End-to-end KPIs of a :func:`run_tandem_desks` log.

    Parameters
    ----------
    log : EventLog
        The tandem's log.
    stages : sequence of DeskPoint
        Its stages, in order.
    from_min, to_min : float
        Measurement window ``[from_min, to_min)`` in minutes (residents counted when they
        join the first stage; ``L`` over the window), ``to_min`` finite and > ``from_min``.

    Returns
    -------
    TandemKpis

    Raises
    ------
    ValueError
        If the window is empty or not finite.

    Notes
    -----
    O(events) time and memory.
    """
    if not (math.isfinite(to_min) and to_min > from_min):
        raise ValueError("to_min must be finite and greater than from_min")
    first, last = stages[0].id, stages[-1].id
    gone = ("service_end", "queue_abandon", "queue_renege", "queue_balk", "queue_refused")
    t_in: dict[str, float] = {}
    t_out: dict[str, float] = {}
    finished: set[str] = set()
    for t, kind, entity, actor in zip(log.t_min, log.kind, log.entity, log.actor, strict=True):
        base, _, stage = entity.partition("@")
        if kind == "queue_join" and actor == first:
            t_in[base] = t
        elif kind in gone:
            t_out[base] = t  # a resident's last leaving event is the tandem's
            if kind == "service_end" and (stage or first) == last:
                finished.add(base)
    area = 0.0
    window: list[str] = []
    for rid, t0 in t_in.items():
        lo, hi = max(t0, from_min), min(t_out.get(rid, math.inf), to_min)
        if hi > lo:
            area += hi - lo
        if from_min <= t0 < to_min:
            window.append(rid)
    done = [t_out[r] - t_in[r] for r in window if r in finished]
    entered = {r: t_in[r] for r in window}
    stayed = censored_times(
        {r: t_out[r] - t for r, t in entered.items() if t_out.get(r, math.inf) < to_min},
        entered,
        to_min,
    )
    return TandemKpis(
        arrived=len(window),
        completed=len(done),
        mean_time_in_system_min=float(np.mean(done)) if done else math.nan,
        mean_in_system=area / (to_min - from_min),
        mean_time_in_system_all_min=float(np.mean(stayed)) if stayed else math.nan,
    )
