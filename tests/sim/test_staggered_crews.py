"""Staggered shifts and breaks for every crew (issue 15 item 5): one mechanism, crew_windows.

Relay volunteers, the needs pool and door-to-door teams get their on-duty windows from
:func:`commgov.sim.crew_windows` (a shift pattern, a seeded phase each, a leave time); with
``break_stagger_minutes = 0`` nothing is drawn and every KPI is what it was.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from commgov.errors import InputError
from commgov.sim import (
    Scenario,
    break_phases,
    crew_windows,
    intersect_windows,
    run_replicate,
    shift_windows,
    stream_factory,
    truncate_windows,
)

COMMUNITY = {"dataset": "gusu", "seed": 0, "community": "320508017016"}


def test_crew_windows_is_shift_windows_with_a_phase_and_a_leave_time():
    rngs = stream_factory(4)
    members = [("a", 0.0), ("b", 100.0), ("c", 0.0)]
    got = crew_windows(
        members, 900.0, 240.0, 30.0, rngs, stagger_minutes=500.0, leave_min={"c": 300.0}
    )
    phases = break_phases(["a", "b", "c"], 240.0, rngs)  # the stagger is capped at the shift
    for m, join in members:
        want = truncate_windows(
            shift_windows(join, 900.0, 240.0, 30.0, phase_min=phases[m]),
            leave_min=300.0 if m == "c" else math.inf,
        )
        assert got[m] == want
    assert list(got) == ["a", "b", "c"]


def test_crew_windows_without_stagger_or_shifts_draws_nothing():
    def no_draws(stream: str, entity: str) -> np.random.Generator:
        raise AssertionError("drew")

    members = [("a", 0.0), ("b", 60.0)]
    flat = crew_windows(members, 600.0, 240.0, 30.0, no_draws)
    assert flat == {
        "a": shift_windows(0.0, 600.0, 240.0, 30.0),
        "b": shift_windows(60.0, 600.0, 240.0, 30.0),
    }
    whole = crew_windows(members, 600.0, None, 30.0, no_draws, stagger_minutes=120.0)
    assert whole == {"a": ((0.0, 600.0),), "b": ((60.0, 600.0),)}


def test_a_member_s_phase_does_not_depend_on_the_others():
    rngs = stream_factory(9)
    all_ = crew_windows(
        [(f"v{k}", 0.0) for k in range(10)], 600.0, 240.0, 30.0, rngs, stagger_minutes=200.0
    )
    some = crew_windows([("v3", 0.0), ("v7", 0.0)], 600.0, 240.0, 30.0, rngs, stagger_minutes=200.0)
    assert some == {"v3": all_["v3"], "v7": all_["v7"]}


def test_intersect_windows_by_hand():
    assert intersect_windows([(0.0, 10.0), (20.0, 30.0)], [(5.0, 25.0)]) == (
        (5.0, 10.0),
        (20.0, 25.0),
    )
    assert intersect_windows([(0.0, math.inf)], [(3.0, 4.0)]) == ((3.0, 4.0),)
    assert intersect_windows([], [(0.0, 1.0)]) == ()
    assert intersect_windows([(0.0, 1.0)], [(1.0, 2.0)]) == ()  # half-open


def _windows() -> st.SearchStrategy[list[tuple[float, float]]]:
    def build(cuts: list[int]) -> list[tuple[float, float]]:
        cuts = sorted(set(cuts))
        return [(float(a), float(b)) for a, b in zip(cuts[::2], cuts[1::2], strict=False)]

    return st.lists(st.integers(0, 60), max_size=12).map(build)


@settings(max_examples=200, deadline=None)
@given(_windows(), _windows())
def test_intersect_windows_is_the_minutes_in_both(a, b):
    """On a grid of half minutes, a point is in the intersection iff it is in both."""
    got = intersect_windows(a, b)
    assert all(s < e for s, e in got)
    assert all(e1 <= s2 for (_, e1), (s2, _) in itertools.pairwise(got))
    for x in np.arange(0.25, 60.0, 0.5):
        inside = any(s <= x < e for s, e in got)
        assert inside == (any(s <= x < e for s, e in a) and any(s <= x < e for s, e in b))


def _needs_busy_per_half_hour(stagger: float) -> list[int]:
    s = Scenario.from_dict(
        {
            "name": "needs_breaks",
            "start": "2022-04-12T08:00:00+08:00",
            "horizon_min": 600,
            "community": COMMUNITY,
            "submodels": {
                "needs": {
                    "volunteers": 6,
                    "needs_per_household_per_day": 1.0,
                    "shift_minutes": 240,
                    "break_minutes": 30,
                    "break_stagger_minutes": stagger,
                }
            },
        }
    )
    log = run_replicate(s, 0, 0).log
    starts = [log.t_min[i] for i in log.where("volunteer_busy")]
    return np.histogram(starts, bins=np.arange(0.0, 601.0, 30.0))[0].tolist()


def test_needs_pool_breaking_together_leaves_needs_alone_and_staggering_fixes_it():
    together = _needs_busy_per_half_hour(0.0)
    assert together[8] == together[17] == 0  # breaks 240-270 and 510-540
    staggered = _needs_busy_per_half_hour(240.0)
    assert min(staggered) > 0


def _d2d_departures(stagger: float) -> dict[str, list[float]]:
    s = Scenario.from_dict(
        {
            "name": "d2d_breaks",
            "start": "2022-04-12T08:00:00+08:00",
            "horizon_min": 600,
            "community": COMMUNITY,
            "submodels": {
                "door_to_door": {
                    "crews": "generic",
                    "teams": 4,
                    "seal_largest": 3,
                    "shift_minutes": 120,
                    "break_minutes": 30,
                    "break_stagger_minutes": stagger,
                }
            },
        }
    )
    log = run_replicate(s, 0, 0).log
    out: dict[str, list[float]] = {}
    for i in log.where("d2d_depart"):
        out.setdefault(log.entity[i], []).append(log.t_min[i])
    return out


def test_door_to_door_teams_return_to_the_base_at_staggered_minutes():
    together = _d2d_departures(0.0)
    second = {round(ts[1], 6) for ts in together.values() if len(ts) > 1}
    assert second == {150.0}  # every team's second shift starts after the same break
    staggered = _d2d_departures(120.0)
    later = [ts[1] for ts in staggered.values() if len(ts) > 1]
    assert len(set(later)) == len(later) > 1
    assert all(t < 150.0 for t in later)  # a phase makes each break come earlier


@pytest.mark.parametrize("submodel", ["relay", "needs", "door_to_door"])
def test_stagger_is_validated(submodel: str):
    with pytest.raises(InputError) as info:
        Scenario.from_dict(
            {
                "name": "bad",
                "start": "2022-04-12T08:00:00+08:00",
                "community": COMMUNITY,
                "submodels": {submodel: {"break_stagger_minutes": -5}},
            }
        )
    (issue,) = info.value.issues
    assert (issue.record, issue.field, issue.value) == (
        "scenario",
        f"submodels.{submodel}.break_stagger_minutes",
        -5,
    )


@pytest.mark.parametrize("submodel", ["needs", "door_to_door"])
def test_no_stagger_keeps_the_kpis_of_before(submodel: str):
    base = {
        "name": "keep",
        "start": "2022-04-12T08:00:00+08:00",
        "horizon_min": 600,
        "community": COMMUNITY,
        "submodels": {
            submodel: {"shift_minutes": 120}
            | ({"crews": "generic"} if submodel == "door_to_door" else {})
        },
    }
    a = run_replicate(Scenario.from_dict(base), 0, 3).kpis
    base["submodels"][submodel]["break_stagger_minutes"] = 0.0  # type: ignore[index]
    assert run_replicate(Scenario.from_dict(base), 0, 3).kpis == a
