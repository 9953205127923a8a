"""Door-to-door simulation: rounds by hand, the planner's times, shifts, streams, the submodel."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from commgov.errors import InputError
from commgov.scheduling import (
    DoorToDoorProblem,
    RoundBuilding,
    RoundHousehold,
    RoundTeam,
    plan_door_to_door,
)
from commgov.sim import (
    D2DTeam,
    EventLog,
    Scenario,
    area_communities,
    load_world,
    planned_order,
    run_door_to_door,
    run_replicate,
    stream_factory,
    teams_from_problem,
)
from commgov.types import GeoPoint, TimeWindow

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2022, 4, 12, 8, 0, tzinfo=TZ)
HERE = GeoPoint(lon=120.62, lat=31.34)


def tower(n: int = 3, *, where: GeoPoint = HERE, residents: int = 1) -> DoorToDoorProblem:
    """One walk-up of ``n`` floors at ``where``, one household a floor, base at HERE."""
    return DoorToDoorProblem(
        base=HERE, buildings=[RoundBuilding(id="b", location=where, floors=n)],
        households=[RoundHousehold(id=f"h{f}", building_id="b", floor=f, residents=residents)
                    for f in range(1, n + 1)])


def events(log: EventLog, kind: str) -> list[tuple[float, str, str, float]]:
    return [(log.t_min[i], log.entity[i], log.actor[i], log.value[i]) for i in log.where(kind)]


def test_one_round_by_hand():
    # 3 min a door (2.5 + 0.5 × 1), 0.5 between doors + 2 a floor, back down 2 floors
    log = run_door_to_door(tower(), [D2DTeam("t", ("a", "b"))])
    assert events(log, "d2d_swabbed") == [(3.0, "h1", "t", 3.0), (8.5, "h2", "t", 3.0),
                                          (14.0, "h3", "t", 3.0)]
    assert events(log, "d2d_back") == [(18.0, "t", "", 18.0)]
    legs = events(log, "d2d_leg")
    assert [(t, e, v) for t, e, _, v in legs] == [(0.0, "h1", 0.0), (3.0, "h2", 2.5),
                                                  (8.5, "h3", 2.5), (14.0, "<base>", 4.0)]
    busy = events(log, "volunteer_busy")
    assert {e for _, e, _, _ in busy} == {"a", "b"}
    assert sum(v for *_, v in busy) == pytest.approx(2 * 18.0)


def test_shift_end_sends_the_team_back_and_the_next_shift_resumes():
    log = run_door_to_door(tower(), [D2DTeam("t", ("a", "b"), ((0.0, 6.0), (40.0, 100.0)))])
    # h1 done at 3, h2 at 8.5 (started inside the window), then down one floor: back at 10.5;
    # at 40 up two floors (4 min) to h3, done at 47, down again: back at 51
    assert [t for t, *_ in events(log, "d2d_swabbed")] == [3.0, 8.5, 47.0]
    assert events(log, "d2d_back") == [(10.5, "t", "", 10.5), (51.0, "t", "", 11.0)]
    assert [t for t, *_ in events(log, "d2d_depart")] == [0.0, 40.0]


def test_two_teams_take_the_nearest_stairwells_and_finish_the_work():
    far = GeoPoint(lon=120.625, lat=31.34)  # ~475 m east: ~7.7 min at 80 m/min × 1.3
    p = DoorToDoorProblem(
        base=HERE, buildings=[RoundBuilding(id="near", location=HERE, floors=2),
                              RoundBuilding(id="far", location=far, floors=2)],
        households=[RoundHousehold(id=f"{b}{f}", building_id=b, floor=f)
                    for b in ("near", "far") for f in (1, 2)])
    log = run_door_to_door(p, [D2DTeam("t1", ("a", "b")), D2DTeam("t2", ("c", "d"))])
    by = {e: a for _, e, a, _ in events(log, "d2d_swabbed")}
    assert by == {"near1": "t1", "near2": "t1", "far1": "t2", "far2": "t2"}


def test_deterministic_times_match_the_planner():
    # the planner's doc example: walk ~46 s each way (its whole metres and seconds round up)
    shift = TimeWindow(start=T0, end=T0 + timedelta(hours=4))
    p = DoorToDoorProblem(
        base=GeoPoint(lon=120.6190, lat=31.3421),
        buildings=[RoundBuilding(id="b1", location=GeoPoint(lon=120.6195, lat=31.3421),
                                 floors=3)],
        households=[RoundHousehold(id=f"h{f}", building_id="b1", floor=f) for f in (1, 2, 3)],
        teams=[RoundTeam(id="t1", shift=shift)])
    plan = plan_door_to_door(p)
    teams = teams_from_problem(p, T0)
    log = run_door_to_door(p, teams, order=planned_order(plan))
    back = events(log, "d2d_back")[0][0] * 60.0
    assert back == pytest.approx(plan.totals.makespan_s, abs=3.0)
    done = [t * 60.0 for t, *_ in events(log, "d2d_swabbed")]
    want = [(s.leave - plan.origin).total_seconds() for s in plan.routes[0].stops]
    assert done == pytest.approx(want, abs=2.0)


def test_teams_from_problem_names_units_and_members():
    shift = TimeWindow(start=T0, end=T0 + timedelta(hours=4))
    p = tower().model_copy(update={"teams": [
        RoundTeam(id="p1+p2", shift=shift), RoundTeam(id="x", shift=shift, count=2,
                                                      max_minutes=60)]})
    teams = teams_from_problem(p, T0 - timedelta(minutes=30))
    assert [(t.id, t.members, t.windows) for t in teams] == [
        ("p1+p2", ("p1", "p2"), ((30.0, 270.0),)),
        ("x#1", ("x#1/1", "x#1/2"), ((30.0, 90.0),)),
        ("x#2", ("x#2/1", "x#2/2"), ((30.0, 90.0),)),
    ]


def test_removing_a_team_leaves_the_others_service_draws_unchanged():
    p = DoorToDoorProblem(  # twelve one-storey houses at the base, visited in id order
        base=HERE, buildings=[RoundBuilding(id=f"b{k:02d}", location=HERE) for k in range(12)],
        households=[RoundHousehold(id=f"h{k:02d}", building_id=f"b{k:02d}")
                    for k in range(12)])
    rngs = stream_factory(3)

    def factors(teams: list[str]) -> dict[str, list[float]]:
        log = run_door_to_door(p, [D2DTeam(t, (f"{t}/a",)) for t in teams], rngs,
                               service_cv=0.4)
        out: dict[str, list[float]] = {}
        for _, _, actor, value in events(log, "d2d_swabbed"):
            out.setdefault(actor, []).append(value / 3.0)
        return out

    three, two = factors(["A", "B", "C"]), factors(["A", "C"])
    for t in ("A", "C"):
        n = min(len(three[t]), len(two[t]))
        assert n > 0 and three[t][:n] == pytest.approx(two[t][:n])
    assert len(set(three["A"])) > 1  # really random


def test_order_is_checked():
    with pytest.raises(ValueError, match="unknown household"):
        run_door_to_door(tower(), [D2DTeam("t", ("a",))], order={"t": ["nope"]})
    with pytest.raises(ValueError, match="rngs"):
        run_door_to_door(tower(), [D2DTeam("t", ("a",))], service_cv=0.2)
    with pytest.raises(ValueError, match="member"):
        D2DTeam("t", ())


# --------------------------------------------------------------------------- the submodel

DAY = """
name = "d2d"
start = 2022-04-11T19:00:00+08:00
horizon_min = 1440
community = {{ community = "{code}" }}
[submodels.door_to_door]
duty_from_min = 780
{extra}
"""


def day(code: str = "320508017016", extra: str = "") -> Scenario:
    return Scenario.from_toml(DAY.format(code=code, extra=extra))


def test_submodel_is_deterministic_and_sweeps_the_sealed_and_home_visits():
    s = day(extra="seal_largest = 2")
    a = run_replicate(s, 0, 4)
    assert a.kpis == run_replicate(s, 0, 4).kpis
    assert a.kpis != run_replicate(s, 1, 4).kpis
    k = a.kpis
    # 虎池苑: one sealed lane house + 97 mobility-limited households, + the 2 × 56 of the
    # two largest buildings (C02/B02, C03/B07) sealed on top
    assert k["door_to_door.households"] == 1 + 97 + 112 - 7  # their 7 home visits included
    assert k["door_to_door.swabbed"] + k["door_to_door.not_reached"] == (
        k["door_to_door.households"])
    assert k["door_to_door.teams"] == 8
    assert 0 < k["door_to_door.t50_min"] <= k["door_to_door.t95_min"] <= (
        k["door_to_door.t100_min"])
    assert k["door_to_door.volunteer_hours"] == pytest.approx(2 * k["door_to_door.team_hours"])
    only = run_replicate(day(extra='seal_largest = 2\nvisits = "sealed"'), 0, 4).kpis
    assert only["door_to_door.households"] == 1 + 112


def test_world_households_match_the_planners_problem():
    from commgov.scheduling import door_to_door_problem_from_org

    _, graph = load_world("gusu", 0, "320508017016")
    want = door_to_door_problem_from_org(
        graph, "320508017016", window=TimeWindow(start=T0, end=T0 + timedelta(hours=4)))
    log = run_replicate(day(), 0, 0).log
    assert sorted(e for _, e, *_ in events(log, "d2d_swabbed")) == sorted(
        h.id for h in want.households)


def test_planned_policy_and_generic_crews_and_attrition():
    s = day(extra='policy = "planned"\ncrews = "generic"\nteams = 3\nservice_cv = 0\n'
                  "attrition_per_hour = 0.2")
    a = run_replicate(s, 0, 1)
    assert a.kpis == run_replicate(s, 0, 1).kpis
    assert a.kpis["door_to_door.teams"] == 3
    assert a.kpis["door_to_door.teams_left"] >= 1
    teams = {v for k, v in zip(a.log.kind, a.log.entity, strict=True) if k == "d2d_team"}
    assert teams == {"d2d-t01", "d2d-t02", "d2d-t03"}


def test_fewer_teams_take_longer():
    few = run_replicate(day(extra="teams = 4"), 0, 2).kpis
    many = run_replicate(day(), 0, 2).kpis
    assert few["door_to_door.t50_min"] > many["door_to_door.t50_min"]
    assert many["door_to_door.not_reached"] == 0


@pytest.mark.parametrize(("extra", "field"), [
    ("service_cv = -1", "submodels.door_to_door.service_cv"),
    ('policy = "random"', "submodels.door_to_door.policy"),
    ("teams = 0", "submodels.door_to_door.teams"),
    ("walking_speed_m_per_min = nan", "submodels.door_to_door.walking_speed_m_per_min"),
])
def test_bad_params_name_the_field(extra: str, field: str):
    with pytest.raises(InputError) as exc:
        day(extra=extra)
    assert field in str(exc.value)


@pytest.mark.parametrize(("extra", "field"), [
    ('seal_buildings = ["320508017016/C99/B99"]', "submodels.door_to_door.seal_buildings"),
    ("teams = 50", "submodels.door_to_door.teams"),
    ("duty_until_min = 600", "submodels.door_to_door.duty_until_min"),
])
def test_params_that_do_not_fit_the_world_name_the_field(extra: str, field: str):
    with pytest.raises(InputError) as exc:
        run_replicate(day(extra=extra), 0, 0)
    assert field in str(exc.value)


def test_no_world_teams_at_night_is_a_clear_error():
    with pytest.raises(InputError, match="generic"):
        run_replicate(day(extra="").with_updates({"submodels.door_to_door.duty_from_min": 0}), 0, 0)


def test_area_run_is_each_community_alone():
    sub = "320508023"
    _, graph = load_world("gusu", 0, sub)
    cids = area_communities(graph, sub)
    extra = 'crews = "generic"\nteams = 2\nseal_largest = 1'
    area = run_replicate(day(sub, extra), 0, 9)
    total = 0.0
    for cid in (cids[0], cids[-1]):
        alone = run_replicate(day(cid, extra), 0, 9)
        total += alone.kpis["door_to_door.households"]

        def norm(x: str, cid: str = cid) -> str:
            return x.removeprefix(f"{cid}/") if x.startswith(f"{cid}/d2d-") else x

        mine = sorted((t, k, norm(e), norm(a), v) for t, k, e, a, v in zip(
            area.log.t_min, area.log.kind, area.log.entity, area.log.actor, area.log.value,
            strict=True) if e.startswith(f"{cid}/") or a.startswith(f"{cid}/") or e == cid)
        want = sorted(zip(alone.log.t_min, alone.log.kind, alone.log.entity, alone.log.actor,
                          alone.log.value, strict=True))
        assert mine == want, cid
    assert area.kpis["door_to_door.households"] > total
    assert area.kpis["door_to_door.teams"] == 2 * len(cids)
