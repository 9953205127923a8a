"""SitesPlan → RosterProblem: the day roster of the site staff (issue 14 item 2)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from commgov.errors import ProblemError
from commgov.scheduling.roster import RosterPolicy, Staff, is_valid_roster, plan_roster
from commgov.scheduling.sites import (
    CandidateSite,
    SitesBuilding,
    SitesPolicy,
    SitesProblem,
    plan_sites,
    sites_roster_problem,
)
from commgov.types import GeoPoint, TimeWindow

START = datetime(2022, 4, 12, 7, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _at(x_m: float, y_m: float) -> GeoPoint:
    return GeoPoint(lon=round(120.62 + x_m / 95_000, 6), lat=round(31.31 + y_m / 111_000, 6))


@pytest.fixture(scope="module")
def planned():
    late = TimeWindow(start=START + timedelta(hours=2), end=START + timedelta(hours=6))
    problem = SitesProblem(
        window=TimeWindow(start=START, end=START + timedelta(hours=6)),
        sites=[
            CandidateSite(id="a", location=_at(0, 0), max_lanes=6),
            CandidateSite(id="b", location=_at(1500, 0), max_lanes=6, opening=late),
        ],
        buildings=[
            SitesBuilding(id=f"x{k}", location=_at(k * 40, 60), residents=200) for k in range(5)
        ]
        + [
            SitesBuilding(id=f"y{k}", location=_at(1500 - k * 40, 60), residents=150)
            for k in range(4)
        ],
        policy=SitesPolicy(),
    )
    return problem, plan_sites(problem, time_limit_s=20)


def test_posts_carry_the_plans_staff_per_slot(planned):
    problem, plan = planned
    roster = sites_roster_problem(problem, plan)
    assert roster.window == problem.window and roster.policy.slot_minutes == 30
    by_id = {p.id: p for p in roster.posts}
    for o in plan.sites:
        slots = {sl.slot: sl for sl in o.slots}
        for role, field in (
            ("swabber", "swabbers"),
            ("registrar", "registrars"),
            ("orderly", "orderlies"),
        ):
            post = by_id[f"{o.site_id}/{role}"]
            assert post.skill == post.id
            assert post.demand == [
                getattr(slots[t], field) if t in slots else 0 for t in range(problem.n_slots)
            ]
    # the late site's posts ask for nobody before it opens
    assert by_id["b/swabber"].demand[:4] == [0, 0, 0, 0]


def test_the_default_staff_cover_the_day_within_the_working_rules(planned):
    problem, plan = planned
    roster_problem = sites_roster_problem(problem, plan)
    roster = plan_roster(roster_problem, time_limit_s=30, seed=0)
    assert is_valid_roster(roster_problem, roster)
    assert roster.totals.shortfall_hours == 0
    # every staff-hour of the plan (without the opening work) is rostered
    t = plan.totals
    assert roster.totals.covered_hours == pytest.approx(
        t.swabber_hours + t.registrar_hours + t.orderly_hours
    )
    assert roster.totals.max_staff_hours <= roster_problem.policy.max_shift_hours


def test_hourly_roster_takes_the_most_of_its_half_hours(planned):
    problem, plan = planned
    hourly = sites_roster_problem(problem, plan, policy=RosterPolicy(slot_minutes=60))
    half = sites_roster_problem(problem, plan)
    for h, p in zip(hourly.posts, half.posts, strict=True):
        assert h.demand == [max(p.demand[2 * k : 2 * k + 2]) for k in range(len(h.demand))]


def test_given_staff_are_used_and_a_bad_grid_is_refused(planned):
    problem, plan = planned
    people = [Staff(id="v1", availability=[problem.window], skills={"a/swabber": 1})]
    roster = sites_roster_problem(problem, plan, staff=people)
    assert [s.id for s in roster.staff] == ["v1"]
    with pytest.raises(ProblemError):
        sites_roster_problem(problem, plan, policy=RosterPolicy(slot_minutes=20))
    other = problem.model_copy(update={"sites": problem.sites[:1]})
    with pytest.raises(ProblemError):
        sites_roster_problem(other, plan)
