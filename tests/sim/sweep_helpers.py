"""Toy scenario and runners for the sweep tests (module level, so they pickle under spawn)."""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from commgov._random import rng


class ToyNotification(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    volunteers: int = Field(default=20, ge=1)
    read_median_min: float = Field(default=6.0, gt=0)
    params: dict[str, float] = Field(default_factory=dict)


class ToyScenario(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "toy"
    households: int = Field(default=300, ge=1)
    notification: ToyNotification = ToyNotification()
    lanes: list[int] = Field(default_factory=lambda: [4, 6])
    work_ms: float = 0.0  # busy time per replicate, for timings

    @property
    def content_hash(self) -> str:
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


class LaxScenario(BaseModel):
    """Unknown fields ignored (extra="ignore"): a dotted path to nowhere must still fail."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    volunteers: int = 20


@dataclass(frozen=True)
class ToyResult:
    kpis: dict[str, float]


def toy_runner(scenario: ToyScenario, replicate: int, root_seed: int) -> ToyResult:
    """Deterministic in (scenario, replicate, root_seed); draws by stream and entity (CRN)."""
    n = scenario.notification
    reads = rng(root_seed, "households", "read", replicate).lognormal(
        math.log(n.read_median_min), 1.0, scenario.households
    )
    per_volunteer = [
        rng(root_seed, "people", f"V{v}", replicate).exponential(1.5) for v in range(n.volunteers)
    ]
    work = scenario.households * 1.5 / n.volunteers
    times = sorted(float(r) + work * (i + 1) / scenario.households for i, r in enumerate(reads))
    if scenario.work_ms:
        end = time.perf_counter() + scenario.work_ms / 1000
        while time.perf_counter() < end:
            pass
    return ToyResult(
        {
            "t50": times[len(times) // 2],
            "t95": times[int(0.95 * (len(times) - 1))],
            "first_read": float(reads[0]),  # the households stream only: same in every scenario
            "volunteer_0": float(per_volunteer[0]),
        }
    )


def flaky_runner(scenario: ToyScenario, replicate: int, root_seed: int) -> dict[str, float]:
    """Fails on every third replicate; returns a bare mapping otherwise."""
    if replicate % 3 == 1:
        raise ValueError(f"toy failure in replicate {replicate}")
    return dict(toy_runner(scenario, replicate, root_seed).kpis)


def bad_result_runner(scenario: Any, replicate: int, root_seed: int) -> int:
    return 42


CALLS: list[tuple[str, int]] = []


def counting_runner(scenario: ToyScenario, replicate: int, root_seed: int) -> ToyResult:
    """toy_runner that remembers its calls (in-process sweeps only)."""
    CALLS.append((scenario.content_hash, replicate))
    return toy_runner(scenario, replicate, root_seed)


class ReversingExecutor(Executor):
    """Runs tasks on threads, later submissions finishing first (delays shrink with order)."""

    def __init__(self, n_tasks: int, step_s: float = 0.03) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max(n_tasks, 1))
        self._n = n_tasks
        self._step = step_s
        self._next = 0
        self.finished: list[int] = []

    def _run(self, index: int, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        time.sleep((self._n - index) * self._step)
        out = fn(*args, **kwargs)
        self.finished.append(index)
        return out

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        index = self._next
        self._next += 1
        return self._pool.submit(self._run, index, fn, args, kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)


class BrokenExecutor(Executor):
    """Every future fails as a lost worker's would."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_exception(RuntimeError("worker lost"))
        return future


def pid_runner(scenario: Any, replicate: int, root_seed: int) -> dict[str, float]:
    """The worker's process id as a KPI (which workers ran batches), after a short wait."""
    time.sleep(0.2)
    return {"pid": float(os.getpid())}
