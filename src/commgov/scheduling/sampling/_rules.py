"""The definitions the solver and the independent verifier share on purpose (private).

* :func:`slot_capacity`: people one point can swab in one slot,
  ``c = floor(lanes · rate · Δ/60 · ρ)``, computed in exact decimal arithmetic;
* :func:`walk_distance_m`: great-circle distance × detour factor, rounded to whole metres;
* :func:`reach_limit_m`: ``max_walk_minutes × walking_speed_m_per_min``.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import TYPE_CHECKING

from commgov._walking import walk_metres_half_even

if TYPE_CHECKING:
    from commgov.scheduling.sampling._problem import (
        SamplingBuilding,
        SamplingPoint,
        SamplingPolicy,
    )

__all__ = ["reach_limit_m", "slot_capacity", "walk_distance_m"]


def _exact(x: float) -> Fraction:
    """The decimal a user meant by a float (``0.85`` → 17/20, not 0.8499999…)."""
    return Fraction(repr(float(x)))


def slot_capacity(lanes: int, rate: float, slot_minutes: int, utilisation: float) -> int:
    """People one sampling point can swab in one slot.

    ``c = floor(lanes · rate · slot_minutes / 60 · utilisation)``: the lanes' swabbing rate
    over the slot at the target utilisation. The product is computed with exact fractions of
    the decimal values given, so ``2 · 100 · 30/60 · 0.85`` is 85, never 84.99999.

    Parameters
    ----------
    lanes : int
        Sampling lanes (tables) open at the point, ≥ 0.
    rate : float
        Swabs per lane per hour (default in :class:`SamplingPoint`: 100/h).
    slot_minutes : int
        Slot length Δ in minutes.
    utilisation : float
        Target utilisation ρ in (0, 1].

    Returns
    -------
    int
        Capacity in people per slot.

    Notes
    -----
    O(1).

    Examples
    --------
    >>> slot_capacity(2, 100.0, 30, 0.85)
    85
    >>> slot_capacity(3, 100.0, 30, 0.85)
    127
    """
    value = Fraction(int(lanes)) * _exact(rate) * Fraction(int(slot_minutes), 60) * _exact(
        utilisation
    )
    return max(0, math.floor(value))


def reach_limit_m(policy: SamplingPolicy) -> float:
    """Longest walk allowed, in metres: ``max_walk_minutes × walking_speed_m_per_min``.

    Parameters
    ----------
    policy : SamplingPolicy

    Returns
    -------
    float
        The limit in metres (1,200 m with the defaults 15 min × 80 m/min).

    Notes
    -----
    O(1), in exact decimal arithmetic.
    """
    return float(_exact(policy.max_walk_minutes) * _exact(policy.walking_speed_m_per_min))


def walk_distance_m(
    building: SamplingBuilding, point: SamplingPoint, policy: SamplingPolicy
) -> int:
    """Walking distance from a building to a sampling point, in whole metres.

    Great-circle distance (haversine, :func:`commgov.types.haversine_m`) times the policy's
    detour factor (default 1.3, the street-network circuity of urban grids), rounded half to
    even to an integer so that solver costs are exact integers.

    Parameters
    ----------
    building : SamplingBuilding
    point : SamplingPoint
    policy : SamplingPolicy

    Returns
    -------
    int
        Metres.

    Notes
    -----
    O(1).

    References
    ----------
    .. [1] Ballou, R. H., Rahardja, H. & Sakai, N. (2002). Selected country circuity factors
       for road travel distance estimation. Transportation Research Part A 36(9), 843-848.
    """
    return walk_metres_half_even(building.location, point.location, policy.detour_factor)
