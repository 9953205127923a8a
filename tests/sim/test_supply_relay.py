"""station_relay_gate: a supply plan's station as the relay simulation's shelf."""

from __future__ import annotations

import pytest

from commgov.errors import ProblemError
from commgov.org import NodeKind, OrgGraph
from commgov.scheduling.supply import plan_supply_stations, supply_problem_from_org
from commgov.sim import (
    RelayParams,
    RelayVolunteer,
    relay_kpis,
    rider_arrivals,
    run_relay,
    station_relay_gate,
    stream_factory,
)
from commgov.types import haversine_m


@pytest.fixture(scope="module")
def planned():
    from commgov.datasets import HUCHIYUAN, gusu

    graph = OrgGraph(gusu(0, communities=[HUCHIYUAN]))
    problem = supply_problem_from_org(graph, HUCHIYUAN, capacity_parcels=800)
    return graph, plan_supply_stations(problem)


def test_every_door_behind_the_stations_gates_with_the_plans_leg(planned):
    """The shelf's buildings are those of the compounds the station serves, each walked as
    the plan's station → gate leg plus the gate → building distance, times the detour."""
    graph, plan = planned
    params = RelayParams(detour_factor=1.5)
    for o in plan.stations:
        shelf = station_relay_gate(graph, plan, o.station_id, params=params)
        served = [a for a in plan.assignments if a.station_id == o.station_id]
        expected = {}
        for a in served:
            gate = graph.record(a.compound_id).location
            for bid in graph.descendants(a.compound_id, NodeKind.BUILDING):
                b = graph.record(bid).location
                expected[bid] = 1.5 * (a.carry_m + haversine_m(gate.lon, gate.lat, b.lon, b.lat))
        assert {g.id: g.walk_m for g in shelf.buildings} == pytest.approx(expected)
        assert [g.id for g in shelf.buildings] == sorted(expected)


def test_the_shelf_runs_in_the_relay_simulation(planned):
    """Parcels drawn over the station's doors are all delivered by an ample crew."""
    graph, plan = planned
    shelf = station_relay_gate(graph, plan, plan.stations[0].station_id)
    rngs = stream_factory(3)
    arrivals = rider_arrivals(shelf, 60, 120, rngs)
    crew = [RelayVolunteer(id=f"v{k}", capacity=4) for k in range(30)]
    k = relay_kpis(run_relay(shelf, arrivals, crew, rngs), to_min=10_000)
    assert k.arrived == k.delivered > 0


def test_a_station_the_plan_does_not_open_is_refused(planned):
    graph, plan = planned
    with pytest.raises(ProblemError, match="station_id"):
        station_relay_gate(graph, plan, "nowhere")
