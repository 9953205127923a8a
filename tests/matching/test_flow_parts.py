"""Speed work of issue 12 item 10 on matching: the pair listing and the min-cost flow by parts.

The pair listing places each task's pairs by runs and cuts candidates per pair by latitude and
longitude before any distance: it must still list exactly the eligible pairs, in (task,
volunteer) order. The flow is solved part by part (slot classes joined only by binding day
capacities): it must reach the optimum of the whole network, deterministically.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from matching_helpers import TZ_NAME, at, community_problem, win

from commgov.matching import (
    MatchingProblem,
    Task,
    Volunteer,
    is_eligible,
    is_valid_assignment,
    match_volunteers,
)
from commgov.matching.volunteers import _solve_flow
from commgov.matching.volunteers._pairs import prepare
from commgov.matching.volunteers._rules import travel_distance_m


def _brute_pairs(p: MatchingProblem) -> list[tuple[int, int, int]]:
    tasks = sorted(p.tasks, key=lambda t: t.id)
    vols = sorted(p.volunteers, key=lambda v: v.id)
    return [
        (ti, vi, travel_distance_m(t, v, p.detour_factor))
        for ti, t in enumerate(tasks)
        for vi, v in enumerate(vols)
        if is_eligible(p, t, v)
    ]


@pytest.mark.parametrize("seed", range(12))
def test_pairs_are_exactly_the_eligible_pairs(seed: int) -> None:
    """Every eligible pair, nothing else, in (task, volunteer) order, exact metres."""
    p = community_problem(seed, n_tasks=(100, 400), n_vols=(20, 60))
    prep = prepare(p)
    got = list(zip(prep.pt.tolist(), prep.pv.tolist(), prep.pd.tolist(), strict=True))
    assert got == _brute_pairs(p)


def test_pairs_of_a_wide_area_cut_into_many_blocks() -> None:
    """Tasks over many latitude strips and blocks (more than 256 tasks of one skill)."""
    rng = np.random.default_rng(5)
    w = [win(9), win(10)]
    tasks = [
        Task(
            id=f"T{i:04d}",
            skill="delivery",
            location=at(float(rng.uniform(-6000, 6000)), float(rng.uniform(-6000, 6000))),
            window=w[i % 2],
        )
        for i in range(700)
    ]
    vols = [
        Volunteer(
            id=f"V{j:03d}",
            location=at(float(rng.uniform(-6000, 6000)), float(rng.uniform(-6000, 6000))),
            skills={"delivery": 1},
            availability=w,
        )
        for j in range(120)
    ]
    p = MatchingProblem(timezone=TZ_NAME, tasks=tasks, volunteers=vols, max_distance_m=1500.0)
    prep = prepare(p)
    got = list(zip(prep.pt.tolist(), prep.pv.tolist(), prep.pd.tolist(), strict=True))
    assert got == _brute_pairs(p)


def _whole(monkeypatch: pytest.MonkeyPatch, p: MatchingProblem) -> Any:
    """The assignment of the whole network solved at once (parts switched off)."""
    with monkeypatch.context() as m:
        m.setattr(_solve_flow, "_parts", lambda *a, **k: None)
        return match_volunteers(p)


@pytest.mark.parametrize("seed", range(16))
def test_parts_reach_the_optimum_of_the_whole_network(
    monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """Same objective tiers as one solve of the whole network, and a valid assignment."""
    p = community_problem(seed)
    a = match_volunteers(p)
    assert is_valid_assignment(p, a).ok
    assert a.info.objective == _whole(monkeypatch, p).info.objective


def _slots_problem(cap_day: int) -> MatchingProblem:
    """Two volunteers, tasks in three slots of one day."""
    slots = [win(9), win(10), win(11)]
    tasks = [
        Task(id=f"T{i}", skill="d", location=at(10.0 * i, 0.0), window=slots[i % 3], priority=1)
        for i in range(9)
    ]
    vols = [
        Volunteer(
            id=f"V{j}",
            location=at(0.0, 40.0 * j),
            skills={"d": 1},
            availability=slots,
            capacity_per_day=cap_day,
        )
        for j in range(2)
    ]
    return MatchingProblem(timezone=TZ_NAME, tasks=tasks, volunteers=vols)


def test_redundant_day_capacities_split_by_slot(monkeypatch: pytest.MonkeyPatch) -> None:
    """Day capacity 8 over three one-task slots never binds: three parts, the same optimum."""
    calls: list[Any] = []
    real = _solve_flow._parts

    def spy(*args: Any) -> Any:
        out = real(*args)
        calls.append(out)
        return out

    monkeypatch.setattr(_solve_flow, "_parts", spy)
    p = _slots_problem(8)
    a = match_volunteers(p)
    assert calls and calls[0] is not None and int(calls[0][0].max()) == 2
    monkeypatch.undo()
    assert a.info.objective == _whole(monkeypatch, p).info.objective
    assert a.totals.matched == 6


def test_binding_day_capacity_keeps_slots_together(monkeypatch: pytest.MonkeyPatch) -> None:
    """Day capacity 2 over three slots binds: one part, each volunteer serves two tasks."""
    calls: list[Any] = []
    real = _solve_flow._parts

    def spy(*args: Any) -> Any:
        out = real(*args)
        calls.append(out)
        return out

    monkeypatch.setattr(_solve_flow, "_parts", spy)
    p = _slots_problem(2)
    a = match_volunteers(p)
    assert calls == [None]
    assert a.totals.matched == 4
    assert is_valid_assignment(p, a).ok


def test_parts_are_deterministic() -> None:
    """The same problem gives byte-identical JSON on every run."""
    p = community_problem(3, n_tasks=(150, 150), n_vols=(30, 30))
    assert match_volunteers(p).to_json() == match_volunteers(p).to_json()
