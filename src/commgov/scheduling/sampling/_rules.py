"""The definitions the solver and the independent verifier share on purpose (private).

* :func:`slot_capacity`: people one point can swab in one slot,
  ``c = floor(lanes · rate · Δ/60 · ρ)``, computed in exact decimal arithmetic;
* :func:`walk_distance_m`: great-circle distance × detour factor, rounded to whole metres;
* :func:`reach_limit_m`: ``max_walk_minutes × walking_speed_m_per_min``;
* :func:`approx_walk_m`: the same walking distance, vectorised with numpy, as a prefilter
  only: every distance that decides anything is then taken from :func:`walk_distance_m`
  (the two agree to far less than :data:`APPROX_MARGIN_M`).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from commgov._walking import walk_metres_half_even
from commgov.types import haversine_array_m, haversine_m

if TYPE_CHECKING:
    from commgov.scheduling.sampling._problem import (
        SamplingBuilding,
        SamplingPoint,
        SamplingPolicy,
    )

__all__ = ["reach_limit_m", "slot_capacity", "walk_distance_m"]

#: Metres by which :func:`approx_walk_m` may differ from :func:`walk_distance_m` at most,
#: with room to spare (float rounding differs by micrometres; the rounding to whole metres
#: by half a metre).
APPROX_MARGIN_M = 2.0


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
    value = (
        Fraction(int(lanes)) * _exact(rate) * Fraction(int(slot_minutes), 60) * _exact(utilisation)
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


def approx_walk_m(
    lon: float, lat: float, lons: np.ndarray, lats: np.ndarray, detour_factor: float
) -> np.ndarray:
    """Walking metres from one place to many, vectorised (a prefilter, not a rule).

    The haversine formula of :func:`commgov.types.haversine_m` in numpy, times the detour
    factor, unrounded: within :data:`APPROX_MARGIN_M` of :func:`walk_distance_m`, which
    decides every distance that is kept. O(len(lons)).
    """
    out: np.ndarray = haversine_array_m(lon, lat, lons, lats) * detour_factor
    return out


#: Metres from a half within which :func:`walk_distances_m` re-rounds a distance with
#: :func:`commgov.types.haversine_m` (numpy's and libm's transcendentals may differ by an ulp,
#: ~1e-10 m here, which could only matter at an exact half).
_HALF_GUARD_M = 1e-6


def walk_distances_m(
    lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray, detour_factor: float
) -> list[int]:
    """:func:`walk_distance_m` of many (building, point) pairs, vectorised, equal to it.

    ``(lon1, lat1)`` are the buildings', ``(lon2, lat2)`` the points' coordinates (degrees,
    parallel arrays). The haversine formula of :func:`commgov.types.haversine_m` in numpy,
    rounded half to even; any value within :data:`_HALF_GUARD_M` of a half is recomputed with
    the scalar rule, so every result equals :func:`walk_distance_m`'s. O(pairs).
    """
    v = haversine_array_m(lon1, lat1, lon2, lat2) * detour_factor
    out: list[int] = np.rint(v).astype(np.int64).tolist()
    frac = v - np.floor(v)
    for i in np.flatnonzero(np.abs(frac - 0.5) < _HALF_GUARD_M).tolist():
        out[i] = round(
            haversine_m(float(lon1[i]), float(lat1[i]), float(lon2[i]), float(lat2[i]))
            * detour_factor
        )
    return out


def approx_walks_m(
    lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray, detour_factor: float
) -> np.ndarray:
    """:func:`approx_walk_m` of many (building, point) pairs (parallel arrays; a prefilter
    within :data:`APPROX_MARGIN_M` of :func:`walk_distance_m`, not a rule). O(pairs)."""
    out: np.ndarray = haversine_array_m(lon1, lat1, lon2, lat2) * detour_factor
    return out
