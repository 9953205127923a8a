"""Walking distances between two points, the one rule every family's timing builds on.

A walk is the great-circle distance (:func:`commgov.types.haversine_m`) times a detour
factor (street-network circuity, ≥ 1), in whole metres. Two roundings are in use and kept
apart on purpose, because published results depend on them: half up (door-to-door rounds,
relay deliveries, volunteer matching, allocation) and half to even (sampling, notification).
"""

from __future__ import annotations

import math

from commgov.types import GeoPoint, haversine_m

__all__ = ["walk_metres_half_even", "walk_metres_half_up"]


def walk_metres_half_up(a: GeoPoint, b: GeoPoint, detour_factor: float = 1.0) -> int:
    """Great-circle metres from ``a`` to ``b`` × ``detour_factor``, rounded half up. O(1)."""
    return math.floor(haversine_m(a.lon, a.lat, b.lon, b.lat) * detour_factor + 0.5)


def walk_metres_half_even(a: GeoPoint, b: GeoPoint, detour_factor: float) -> int:
    """Great-circle metres from ``a`` to ``b`` × ``detour_factor``, rounded half to even. O(1)."""
    return round(haversine_m(a.lon, a.lat, b.lon, b.lat) * detour_factor)
