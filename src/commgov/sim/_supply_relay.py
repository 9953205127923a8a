"""The relay from a supply station of a plan: the station's shelf and its doors (private).

Links :func:`commgov.scheduling.supply.plan_supply_stations` to the relay simulation: the
station → gate leg of the plan and the gate → door walk of the relay become one trip.
"""

from __future__ import annotations

from commgov.errors import ProblemError
from commgov.org import Building, NeighbourhoodUnit, NodeKind, OrgGraph, OrgModel
from commgov.scheduling.supply import SupplyPlan
from commgov.sim._relay import RelayParams, gate_building
from commgov.sim._relay_run import RelayGate
from commgov.types import haversine_m

__all__ = ["station_relay_gate"]


def station_relay_gate(
    model: OrgModel | OrgGraph,
    plan: SupplyPlan,
    station_id: str,
    *,
    params: RelayParams | None = None,
) -> RelayGate:
    """The relay's shelf at a station of a supply plan, with every door it serves.

    The station is the shelf where parcels arrive; its destinations are the buildings of the
    compounds the plan sends through it, each walked as the plan's station → gate leg
    (``carry_m``) plus the great-circle gate → building distance, times the relay's
    ``detour_factor``, with its door and stair minutes and its households as the parcels'
    weight (the relay submodel's rules, :class:`RelayParams`). A trip then goes station →
    gate → door and back with one carrier: the gate is passed, not a second shelf.

    Parameters
    ----------
    model : OrgModel or OrgGraph
        The organisation model the plan's problem was built from
        (:func:`commgov.scheduling.supply.supply_problem_from_org`).
    plan : commgov.scheduling.supply.SupplyPlan
    station_id : str
        A station the plan opens.
    params : RelayParams, optional
        Detour factor, door and stair minutes, walking speed, hand-over minutes, shelf
        capacity and trip variation (default :class:`RelayParams`).

    Returns
    -------
    RelayGate
        For :func:`rider_arrivals`, :func:`relay_process` and :func:`run_relay`; its
        buildings sorted by id.

    Raises
    ------
    commgov.errors.ProblemError
        The plan does not open ``station_id``; a compound of the plan is not a neighbourhood
        unit with a location in the model, or no building lies behind the station's gates.

    Notes
    -----
    O(buildings behind the station's gates).

    References
    ----------
    N. T. J. Bailey, "On queueing processes with bulk service", J. R. Stat. Soc. B
    16(1):80-87, 1954 (the carriers as a bulk-service queue).
    """
    graph = model if isinstance(model, OrgGraph) else OrgGraph(model)
    params = params or RelayParams()
    what = "relay from a supply station"
    if not any(o.station_id == station_id for o in plan.stations):
        raise ProblemError.single(
            str(station_id),
            "station_id",
            station_id,
            "the plan does not open this station",
            what=what,
        )
    buildings = []
    for a in plan.assignments:
        if a.station_id != station_id:
            continue
        unit = graph.record(a.compound_id) if a.compound_id in graph else None
        if not isinstance(unit, NeighbourhoodUnit) or unit.location is None:
            raise ProblemError.single(
                a.compound_id,
                "compound_id",
                a.compound_id,
                "not a neighbourhood unit with a location in the model",
                what=what,
            )
        gate = unit.location
        for bid in graph.descendants(a.compound_id, NodeKind.BUILDING):
            b = graph.record(bid)
            assert isinstance(b, Building)
            metres = a.carry_m + haversine_m(gate.lon, gate.lat, b.location.lon, b.location.lat)
            households = graph.summary(bid).counts.households
            buildings.append(gate_building(bid, metres, b.floors, b.has_lift, households, params))
    if not buildings:
        raise ProblemError.single(
            str(station_id), "station_id", station_id, "no building behind its gates", what=what
        )
    buildings.sort(key=lambda g: g.id)
    if sum(g.weight for g in buildings) <= 0:  # no household counts: equal shares
        buildings = [g.model_copy(update={"weight": 1.0}) for g in buildings]
    return RelayGate(
        buildings=tuple(buildings),
        shelf_capacity=params.shelf_capacity,
        walking_speed_m_per_min=params.walking_speed_m_per_min,
        handover_minutes=params.handover_minutes,
        trip_cv=params.trip_cv,
    )
