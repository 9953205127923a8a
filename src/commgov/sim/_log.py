"""Columnar event log shared by every simulation process (private; re-exported by ``sim``).

Processes append events with :meth:`EventLog.record`; KPIs are computed from the columns only,
so a submodel never needs to know which KPIs exist. Times are float minutes since the
scenario's start (float minutes inside, tz-aware datetimes outside).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import simpy

__all__ = ["EventLog", "run_standalone"]


@dataclass
class EventLog:
    """An append-only columnar log: one row per event.

    Columns
    -------
    t_min : float
        Simulated time of the event, minutes since the scenario start (≥ 0).
    kind : str
        What happened (``"notified"``, ``"parcel_at_gate"``, ``"queue_join"`` ...); each
        submodel documents its kinds.
    entity : str
        The record concerned (household, parcel, person, point id).
    actor : str
        Who caused it (volunteer, rider, lane id), ``""`` if nobody.
    value : float
        A number attached to the event (a wait in minutes, a count), NaN if none.

    Examples
    --------
    >>> log = EventLog()
    >>> log.record(1.5, "notified", "H1", actor="V1")
    >>> log.columns()["kind"]
    ['notified']
    """

    t_min: list[float] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    entity: list[str] = field(default_factory=list)
    actor: list[str] = field(default_factory=list)
    value: list[float] = field(default_factory=list)

    def record(
        self, t_min: float, kind: str, entity: str, *, actor: str = "", value: float = math.nan
    ) -> None:
        """Append one event (see the class docstring for the columns)."""
        self.t_min.append(float(t_min))
        self.kind.append(kind)
        self.entity.append(entity)
        self.actor.append(actor)
        self.value.append(float(value))

    def __len__(self) -> int:
        return len(self.t_min)

    def columns(self) -> dict[str, list[Any]]:
        """The columns as a dict of equal-length lists (for pandas or pyarrow)."""
        return {
            "t_min": self.t_min,
            "kind": self.kind,
            "entity": self.entity,
            "actor": self.actor,
            "value": self.value,
        }

    def where(self, kind: str) -> list[int]:
        """Row indexes of events of one kind, in log order."""
        return [i for i, k in enumerate(self.kind) if k == kind]


def run_standalone(
    start: Callable[[simpy.Environment, EventLog], object],
    until_min: float | None,
    log: EventLog | None,
) -> EventLog:
    """Run processes on a fresh SimPy environment: the body of the standalone ``run_*`` helpers.

    ``start(env, log)`` registers the processes; the clock then runs to ``until_min`` (``None``:
    until nothing is left to happen). Events go to ``log`` (``None``: a new log), returned.
    """
    env = simpy.Environment()
    log = EventLog() if log is None else log
    start(env, log)
    env.run(until=until_min)
    return log
