"""The one KPI registry: what kind of statistic a KPI is and its unit, from its name.

Every KPI name is ``<submodel>.<leaf>`` (or ``<submodel>.<category>.<leaf>``, or a bare engine
KPI such as ``volunteer_hours``). The *leaf* decides:

* the **kind**, which picks the confidence interval of the KPI's mean over replicates
  (:meth:`commgov.sim.SweepResult.summary`):

  - ``"share"`` — a proportion in [0, 1] (``notified_share``, ``met_share``, ``p_wait``):
    Wilson's score interval;
  - ``"quantile"`` — a quantile or extreme of one replicate (``t95_min``, ``wait_p95_min``,
    ``gate_to_door_max_min``, ``shelf_max``), whose distribution over replicates is skewed:
    a seeded BCa bootstrap interval;
  - ``"mean"`` — anything else (counts, totals, means, rates): Student's t interval;

* the **unit** shown in tables and on plot axes (``"min"``, ``"per hour"``, ``"share"`` …);
* from the unit, the **range** a value can take (:attr:`KpiInfo.bounds`): [0, 1] for a share
  (``"share"``, ``"share of on-duty time"``), [0, ∞) for counts, times, rates and distances,
  unbounded for any other unit; an interval of the mean never leaves it
  (:func:`commgov.sim.mean_interval`).

A KPI of one's own whose name follows none of the rules is a ``"mean"`` counted in
``"count"``; :func:`register_kpi` declares it otherwise.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

from commgov._options import check_choice

__all__ = ["KPI_KINDS", "KpiInfo", "kpi_info", "kpi_kind", "register_kpi"]

KpiKind = Literal["mean", "quantile", "share"]

#: The kinds of KPI, in the order of :func:`kpi_kind`'s rules.
KPI_KINDS: tuple[KpiKind, ...] = ("share", "quantile", "mean")

_QUANTILE = re.compile(r"(?:^t\d+(?:_min)?$)|(?:(?:^|_)p\d+(?:_|$))|(?:(?:^|_)max(?:_|$))")

#: Units by leaf suffix, first match wins (longest suffixes first).
_UNITS: tuple[tuple[str, str], ...] = (
    ("_per_hour", "per hour"),
    ("_per_min", "per min"),
    ("_per_trip", "parcels per trip"),
    ("_min", "min"),
    ("_hours", "h"),
    ("_km", "km"),
    ("_m", "m"),
    ("_share", "share"),
)

#: Leaves with a unit the suffix rules cannot tell.
_LEAF_UNITS = {"mean_in_system": "people", "events": "events", "p_wait": "share"}

#: Units whose values cannot be negative (counts, times, rates, distances).
_NONNEGATIVE_UNITS = frozenset(
    {"count", "min", "h", "km", "m", "per hour", "per min", "parcels per trip", "people", "events"}
)

_REGISTERED: dict[str, tuple[KpiKind, str]] = {
    # the largest per-point mean: an extreme over points, skewed like a maximum
    "worst_point_mean_wait_min": ("quantile", "min"),
    # ride minutes over on-duty minutes: a ratio of times, not a share of counts
    "rider_utilisation": ("mean", "share of on-duty time"),
}


@dataclass(frozen=True, slots=True)
class KpiInfo:
    """What a KPI is: its kind and unit, and the label of a plot axis.

    Attributes
    ----------
    name : str
        The KPI's full name (``"notification.t95_min"``).
    kind : {"mean", "quantile", "share"}
        Which interval its mean over replicates gets (module docstring).
    unit : str
        ``"min"``, ``"per hour"``, ``"share"``, ``"count"`` …
    label : str
        Axis label: the name and the unit, ``"notification.t95_min (min)"``.
    bounds : (float, float)
        The range of the KPI's values, from its unit: ``(0, 1)`` for a share (a unit
        ``"share"`` or starting ``"share "``), ``(0, inf)`` for a count, time, rate or
        distance, ``(-inf, inf)`` otherwise.
    """

    name: str
    kind: KpiKind
    unit: str
    label: str
    bounds: tuple[float, float] = (-math.inf, math.inf)


def unit_bounds(unit: str) -> tuple[float, float]:
    """The range of a KPI's values from its unit (:attr:`KpiInfo.bounds`).

    Examples
    --------
    >>> unit_bounds("share of on-duty time"), unit_bounds("min"), unit_bounds("°C")
    ((0.0, 1.0), (0.0, inf), (-inf, inf))
    """
    if unit == "share" or unit.startswith("share "):
        return (0.0, 1.0)
    if unit in _NONNEGATIVE_UNITS:
        return (0.0, math.inf)
    return (-math.inf, math.inf)


def _leaf(name: str) -> str:
    return name.rsplit(".", 1)[-1].removeprefix("kpi:")


def kpi_kind(name: str) -> KpiKind:
    """The kind of a KPI (``"share"``, ``"quantile"`` or ``"mean"``) from its name.

    Parameters
    ----------
    name : str
        A KPI name, with or without its submodel prefix.

    Returns
    -------
    {"share", "quantile", "mean"}
        The first rule that holds for the name's last dotted part: a registered name; ends in
        ``_share`` or starts with ``p_`` → share; ``t<q>``/``t<q>_min``, a ``p<q>`` part or a
        ``max`` part → quantile; else mean.

    Notes
    -----
    O(length of the name).

    Examples
    --------
    >>> [kpi_kind(k) for k in ("notification.notified_share", "queues.p_wait",
    ...  "notification.t95_min", "queues.wait_p95_min", "relay.shelf_max", "queues.served")]
    ['share', 'share', 'quantile', 'quantile', 'quantile', 'mean']
    """
    leaf = _leaf(name)
    if leaf in _REGISTERED:
        return _REGISTERED[leaf][0]
    if leaf.endswith("_share") or leaf.startswith("p_"):
        return "share"
    if _QUANTILE.search(leaf):
        return "quantile"
    return "mean"


def kpi_info(name: str) -> KpiInfo:
    """Kind, unit and axis label of a KPI (the one registry of KPI units).

    Parameters
    ----------
    name : str
        A KPI name (``"queues.wait_p95_min"``).

    Returns
    -------
    KpiInfo

    Examples
    --------
    >>> kpi_info("relay.deliveries_per_hour").label
    'relay.deliveries_per_hour (per hour)'
    >>> kpi_info("notification.by_door").unit
    'count'
    >>> kpi_info("relay.rider_utilisation").bounds
    (0.0, 1.0)
    """
    leaf = _leaf(name)
    kind = kpi_kind(name)
    if leaf in _REGISTERED:
        unit = _REGISTERED[leaf][1]
    elif leaf in _LEAF_UNITS:
        unit = _LEAF_UNITS[leaf]
    elif kind == "share":
        unit = "share"
    else:
        unit = next((u for suffix, u in _UNITS if leaf.endswith(suffix)), "count")
    return KpiInfo(name, kind, unit, f"{name} ({unit})", unit_bounds(unit))


def register_kpi(leaf: str, *, kind: str, unit: str) -> None:
    """Declare the kind and unit of a KPI leaf name the rules cannot tell.

    Parameters
    ----------
    leaf : str
        The KPI's last dotted part (``"queue_length_p99"``), for every submodel.
    kind : {"mean", "quantile", "share"}
    unit : str
        Non-empty unit text.

    Raises
    ------
    commgov.errors.InvalidParameterError
        If ``kind`` is not a kind or ``unit`` or ``leaf`` is empty or dotted.
    """
    checked = check_choice("register_kpi", "kind", kind, KPI_KINDS)
    if not isinstance(leaf, str) or not leaf or "." in leaf:
        from commgov.errors import InvalidParameterError

        raise InvalidParameterError(
            "leaf", leaf, "a KPI name's last part (no dots)", "register_kpi"
        )
    if not isinstance(unit, str) or not unit.strip():
        from commgov.errors import InvalidParameterError

        raise InvalidParameterError("unit", unit, "a non-empty unit", "register_kpi")
    _REGISTERED[leaf] = (checked, unit)  # type: ignore[assignment]
