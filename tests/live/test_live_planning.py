"""Planning on a live state: re-match with fewest changes, candidates, sampling re-plan."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from commgov.datasets import synthetic_community, synthetic_tasks
from commgov.live import (
    BuildingSealed,
    CommunityState,
    TaskCancelled,
    TaskClaimed,
    TaskDone,
    VolunteerUnavailable,
    apply_event,
    apply_events,
    candidates,
    live_matching_problem,
    rematch,
    replan_after_events,
)
from commgov.matching import is_valid_assignment, match_volunteers
from commgov.results import LeftOutReasonCode
from commgov.scheduling import is_valid_sampling_plan, plan_sampling, sampling_problem_from_org

CODE = "320508001001"
TZ = timezone(timedelta(hours=8))
AT = datetime(2022, 4, 12, 7, 0, tzinfo=TZ)


@pytest.fixture(scope="module")
def start() -> CommunityState:
    model = synthetic_community(CODE, households=600, seed=2)
    return CommunityState.start(model, CODE, tasks=synthetic_tasks(model, CODE, seed=2))


@pytest.fixture(scope="module")
def first(start):
    return rematch(start)


def test_first_match_is_valid(start, first) -> None:
    assert is_valid_assignment(first.problem, first.assignment).ok
    assert first.assignment.totals.matched > 0
    assert all(c.before is None for c in first.changes)


def test_dropout_rematch_keeps_claims_and_changes_least(start, first) -> None:
    m = first.assignment.matches
    dropped = m[0].volunteer_id
    claim = next(x for x in m if x.volunteer_id != dropped)
    state = apply_events(
        start,
        [
            TaskClaimed(at=AT, task_id=claim.task_id, volunteer_id=claim.volunteer_id),
            VolunteerUnavailable(at=AT, volunteer_id=dropped),
        ],
    )
    again = rematch(state, first.assignment, at=AT)
    report = is_valid_assignment(again.problem, again.assignment)
    assert report.ok, report.codes
    assert dropped not in {x.volunteer_id for x in again.assignment.matches}
    assert dropped in {
        r.record for r in again.problem.left_out if r.code is LeftOutReasonCode.NOT_AVAILABLE
    }
    kept = {x.task_id: x for x in again.assignment.matches}
    assert kept[claim.task_id].volunteer_id == claim.volunteer_id and kept[claim.task_id].pinned
    # fewest changes: no more than a match made from scratch on the same problem
    fresh = match_volunteers(again.problem.model_copy(update={"previous": []}))
    before = {x.task_id: x.volunteer_id for x in first.assignment.matches}
    fresh_changes = sum(
        1
        for t, v in before.items()
        if t in {x.id for x in again.problem.tasks}
        and {x.task_id: x.volunteer_id for x in fresh.matches}.get(t) != v
    )
    assert again.assignment.totals.changes <= fresh_changes
    assert again.assignment.totals.priority_served == fresh.totals.priority_served


def test_done_and_cancelled_tasks_leave_the_problem(start, first) -> None:
    m = first.assignment.matches[0]
    other = first.assignment.matches[1].task_id
    state = apply_events(
        start,
        [
            TaskClaimed(at=AT, task_id=m.task_id, volunteer_id=m.volunteer_id),
            TaskDone(at=AT, task_id=m.task_id, volunteer_id=m.volunteer_id),
            TaskCancelled(at=AT, task_id=other),
        ],
    )
    problem = live_matching_problem(state)
    ids = {t.id for t in problem.tasks}
    assert m.task_id not in ids and other not in ids
    assert len(ids) == len(start.tasks) - 2


def test_candidates_rank_free_first_by_cost(start, first) -> None:
    task_id = first.assignment.matches[0].task_id
    cands = candidates(start, task_id, k=5)
    assert 1 <= len(cands) <= 5
    assert [c.rank for c in cands] == list(range(1, len(cands) + 1))
    free = [c for c in cands if c.free]
    assert [c.cost_m for c in free] == sorted(c.cost_m for c in free)
    everyone = candidates(start, task_id, k=1000, include_ineligible=True)
    assert len(everyone) >= len(cands)
    assert all(c.why_not for c in everyone if not c.eligible)


def test_candidates_mark_declines_and_skip_the_away(start, first) -> None:
    from commgov.live import TaskDeclined

    task_id = first.assignment.matches[0].task_id
    best = candidates(start, task_id, k=2)
    state = apply_events(
        start,
        [
            TaskDeclined(at=AT, task_id=task_id, volunteer_id=best[0].volunteer_id),
            VolunteerUnavailable(at=AT, volunteer_id=best[1].volunteer_id),
        ],
    )
    all_ = candidates(state, task_id, k=1000, include_ineligible=True)
    by = {c.volunteer_id: c for c in all_}
    assert by[best[0].volunteer_id].why_not == "DECLINED"
    assert best[1].volunteer_id not in by
    top = candidates(state, task_id, k=3)
    assert best[0].volunteer_id not in {c.volunteer_id for c in top}


def test_candidates_refuse_bad_k_and_closed_tasks(start, first) -> None:
    m = first.assignment.matches[0]
    for k in (0, -1, 1001, 2.0, True):
        with pytest.raises(ValueError):
            candidates(start, m.task_id, k=k)  # type: ignore[arg-type]
    done = apply_events(
        start,
        [
            TaskClaimed(at=AT, task_id=m.task_id, volunteer_id=m.volunteer_id),
            TaskDone(at=AT, task_id=m.task_id, volunteer_id=m.volunteer_id),
        ],
    )
    with pytest.raises(ValueError, match="open or claimed"):
        candidates(done, m.task_id)
    with pytest.raises(KeyError):
        candidates(start, "no-such-task")


def test_sealing_replans_sampling_with_a_valid_plan(start) -> None:
    problem = sampling_problem_from_org(start.model, CODE)
    plan = plan_sampling(problem, time_limit_s=20)
    at = problem.window.start + (problem.window.end - problem.window.start) / 3
    late = {a.building_id for a in plan.assignments if a.slot_start >= at}
    building = sorted(late)[0]
    state = apply_event(start, BuildingSealed(at=at, building_id=building))
    result = replan_after_events(state, problem, plan, at=at)
    assert building in result.changed_buildings
    assert all(a.building_id != building or a.slot_start < at for a in result.plan.assignments)
    if result.tail_problem is not None and result.tail_plan is not None:
        assert is_valid_sampling_plan(result.tail_problem, result.tail_plan).ok
