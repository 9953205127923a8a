"""Hypothesis strategies for organisation models."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from commgov.org import (
    AdminArea,
    AdminLevel,
    Building,
    Community,
    Entrance,
    HouseholdCounts,
    NeighbourhoodKind,
    NeighbourhoodUnit,
    OrgModel,
)
from commgov.types import GeoPoint

__all__ = ["household_counts", "org_models"]


@st.composite
def household_counts(draw: st.DrawFn, max_households: int = 40) -> HouseholdCounts:
    """Consistent :class:`~commgov.org.HouseholdCounts` (residents ≥ households ≥ 0)."""
    households = draw(st.integers(0, max_households))
    residents = households + draw(st.integers(0, 3 * households))
    limited = draw(st.integers(0, residents))
    return HouseholdCounts(households=households, residents=residents, mobility_limited=limited)


@st.composite
def org_models(
    draw: st.DrawFn,
    max_subdistricts: int = 2,
    max_communities: int = 2,
    max_units: int = 3,
    max_buildings: int = 3,
) -> OrgModel:
    """Small valid organisation models: one district down to entrances.

    Every territorial kind and both ways of counting households (on entrances, or on a
    building without entrances) occur; courtyards sit in communities or in lanes. The result
    always passes :class:`~commgov.org.OrgGraph` validation.
    """
    district = "320508"
    areas = [AdminArea(id=district, level=AdminLevel.DISTRICT, name="姑苏区", short_name="姑苏区")]
    communities: list[Community] = []
    units: list[NeighbourhoodUnit] = []
    buildings: list[Building] = []
    entrances: list[Entrance] = []
    for s in range(1, draw(st.integers(1, max_subdistricts)) + 1):
        sid = f"{district}{s:03d}"
        areas.append(
            AdminArea(
                id=sid,
                level=AdminLevel.SUBDISTRICT,
                name=f"街道{s}",
                short_name=f"街道{s}",
                parent_id=district,
            )
        )
        for c in range(1, draw(st.integers(1, max_communities)) + 1):
            cid = f"{sid}{c:03d}"
            communities.append(
                Community(id=cid, name=f"社区{c}居委会", short_name=f"社区{c}", parent_id=sid)
            )
            lanes: list[str] = []
            for u in range(1, draw(st.integers(0, max_units)) + 1):
                kind = draw(st.sampled_from(list(NeighbourhoodKind)))
                parent = (
                    draw(st.sampled_from(lanes))
                    if kind is NeighbourhoodKind.COURTYARD and lanes and draw(st.booleans())
                    else cid
                )
                uid = f"{cid}/U{u}"
                units.append(NeighbourhoodUnit(id=uid, kind=kind, name=f"u{u}", parent_id=parent))
                if kind is NeighbourhoodKind.LANE:
                    lanes.append(uid)
                for b in range(1, draw(st.integers(0, max_buildings)) + 1):
                    bid = f"{uid}/B{b}"
                    location = GeoPoint(
                        lon=draw(st.floats(120.54, 120.64)), lat=draw(st.floats(31.27, 31.37))
                    )
                    n_entrances = draw(st.integers(0, 3))
                    fields: dict[str, Any] = {}
                    if n_entrances == 0:
                        fields["counts"] = draw(household_counts())
                    buildings.append(
                        Building(id=bid, label=f"{b}幢", parent_id=uid, location=location, **fields)
                    )
                    entrances.extend(
                        Entrance(
                            id=f"{bid}/E{e}",
                            label=f"{e}单元",
                            parent_id=bid,
                            counts=draw(household_counts()),
                        )
                        for e in range(1, n_entrances + 1)
                    )
    return OrgModel(
        areas=areas, communities=communities, units=units, buildings=buildings, entrances=entrances
    )
