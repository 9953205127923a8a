"""The rules the supply planner, its bound and its verifier share (private; no solver)."""

from __future__ import annotations

from commgov.scheduling.supply._problem import CandidateStation, SupplyCompound
from commgov.types import haversine_m

__all__ = ["carry_m", "fits_alone"]


def carry_m(compound: SupplyCompound, station: CandidateStation) -> int:
    """Great-circle distance compound gate → station, rounded to whole metres."""
    a, b = compound.gate, station.location
    return round(haversine_m(a.lon, a.lat, b.lon, b.lat))


def fits_alone(compound: SupplyCompound, station: CandidateStation, volunteers: int | None) -> bool:
    """Whether the station could serve the compound in some plan: its parcels within the
    station's capacity and the station's staff within the pool."""
    return compound.parcels <= station.capacity_parcels and (
        volunteers is None or station.staff <= volunteers
    )
