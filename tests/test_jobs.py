"""Issue 13 item 7: long solves in an app — every planner as a job with progress and cancel,
``async`` wrappers, and one OrgGraph shared by concurrent requests."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from commgov import ProgressEvent
from commgov.datasets import HUCHIYUAN, gusu, sampling_instance, synthetic_tasks
from commgov.errors import InvalidParameterError
from commgov.jobs import Job, run_async, submit
from commgov.matching import match_volunteers, matching_problem_from_org
from commgov.org import OrgGraph
from commgov.scheduling import (
    is_valid_sampling_plan,
    plan_sampling,
    sampling_problem_from_org,
)


def _wait(pred, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


def test_a_job_gives_the_same_bytes_as_a_direct_call_and_reports_progress():
    problem = sampling_instance("C")
    seen: list[ProgressEvent] = []
    job = submit(plan_sampling, problem, time_limit_s=20, seed=3, progress=seen.append)
    assert isinstance(job, Job) and job.id.startswith("job-") and job.planner == "plan_sampling"
    plan = job.result(timeout=120)
    assert job.done() and job.status == "done"
    assert plan.to_json() == plan_sampling(problem, time_limit_s=20, seed=3).to_json()
    assert seen and job.progress is not None and job.progress.phase == "done"


@pytest.mark.slow
def test_cancel_returns_a_valid_plan_with_status_cancelled():
    problem = sampling_instance("D48")
    job = submit(plan_sampling, problem, time_limit_s=300)
    _wait(lambda: job.progress is not None and job.progress.phase not in ("done",))
    job.cancel()
    plan = job.result(timeout=60)
    assert plan.info.status == "CANCELLED" and job.status == "cancelled"
    assert is_valid_sampling_plan(problem, plan)


def test_errors_reach_the_caller_and_bad_calls_are_refused():
    job = submit(plan_sampling, sampling_instance("C"), time_limit_s=-1)
    with pytest.raises(InvalidParameterError, match="time_limit_s"):
        job.result(timeout=60)
    assert job.status == "failed"
    with pytest.raises(InvalidParameterError, match="cancel"):
        submit(plan_sampling, sampling_instance("C"), cancel=object())
    with pytest.raises(InvalidParameterError, match="planner"):
        submit("plan_sampling", sampling_instance("C"))  # type: ignore[arg-type]


def test_a_queued_job_cancelled_never_starts():
    with ThreadPoolExecutor(max_workers=1) as pool:
        first = submit(plan_sampling, sampling_instance("C"), executor=pool, time_limit_s=20)
        second = submit(plan_sampling, sampling_instance("C"), executor=pool, time_limit_s=20)
        second.cancel()
        first.result(timeout=120)
        assert second.status == "cancelled" and second.done()


def test_one_org_graph_shared_by_concurrent_requests():
    """Eight requests build and solve from one OrgGraph at once: identical bytes, no error."""
    graph = OrgGraph(gusu(0, communities=[HUCHIYUAN]))

    def request(_: int) -> tuple[str, str]:
        sampling = plan_sampling(sampling_problem_from_org(graph, HUCHIYUAN), time_limit_s=30)
        tasks = synthetic_tasks(graph, HUCHIYUAN, seed=0)
        matching = match_volunteers(matching_problem_from_org(graph, HUCHIYUAN, tasks=tasks))
        return sampling.to_json(), matching.to_json()

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(request, range(8)))
    assert len(set(answers)) == 1


@pytest.mark.slow
def test_run_async_and_its_cancellation():
    problem = sampling_instance("C")
    big = sampling_instance("D48")

    async def main() -> None:
        plan = await run_async(plan_sampling, problem, time_limit_s=20)
        assert plan.info.status == "OPTIMAL"
        with pytest.raises(TypeError, match="SamplingProblem"):  # the planner's own error
            await run_async(plan_sampling, {"buildings": "x"})
        # a client that goes away: the awaiting task is cancelled, and so is the solve
        task = asyncio.ensure_future(run_async(plan_sampling, big, time_limit_s=300))
        await asyncio.sleep(0.5)
        assert not task.done()
        t0 = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert time.monotonic() - t0 < 30

    asyncio.run(main())


def test_job_contract_edges():
    from concurrent.futures import ProcessPoolExecutor

    job = submit(plan_sampling, sampling_instance("C"), time_limit_s=20)
    job.result(timeout=120)
    job.cancel()  # too late: the job stays done
    assert job.status == "done"
    with pytest.raises(InvalidParameterError, match="progress"):
        submit(plan_sampling, sampling_instance("C"), progress=123)
    with ProcessPoolExecutor(1) as pool, pytest.raises(InvalidParameterError, match="executor"):
        submit(plan_sampling, sampling_instance("C"), executor=pool)
    with pytest.raises(InvalidParameterError, match="executor"):
        submit(plan_sampling, sampling_instance("C"), executor="x")  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="submit"):
        Job(plan_sampling).result()
