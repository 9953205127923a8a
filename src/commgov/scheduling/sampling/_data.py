"""Solver-side data of a sampling problem, shared by every solving method (private).

:func:`prepare` turns a canonical problem into index data: the non-sealed buildings and their
batches in id order, each building's reachable points (allowed, open, with capacity, within
the walk limit), walking distances, slot capacities and open slots. Time budgets of the
post-solver phases (:func:`reserve_s`) are estimated here too.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from commgov.results import Reason
from commgov.scheduling.sampling._problem import (
    SamplingBatch,
    SamplingBuilding,
    SamplingPoint,
    SamplingProblem,
)
from commgov.scheduling.sampling._reasons import SamplingReasonCode
from commgov.scheduling.sampling._rules import reach_limit_m, walk_distance_m

#: CP-SAT's ``random_seed`` is this value XOR the planner's ``seed`` (so ``seed=0`` runs
#: CP-SAT with 20220410, the fixed seed of the first releases, and repeats their plans).
CP_SAT_SEED_BASE = 20220410
NUM_WORKERS = 1
#: Seconds reserved for the post-solver phases (finish, greedy completion, plan records) and
#: for the steps between deadline checks: a base, a share per batch and a share per model
#: variable. Measured on 20,000 households (2,739 batches, 31 points in reach of every
#: building, 146,000 variables): greedy completion from scratch and plan records 0.06 s,
#: reading a CP-SAT solution or fixing a tier's optimum ≈ 0.1-0.3 s; reserve 1.0 s.
RESERVE_BASE_S = 0.02
RESERVE_PER_BATCH_S = 2e-4
RESERVE_PER_VAR_S = 3e-6


def cp_sat_seed(seed: int) -> int:
    """CP-SAT's ``random_seed`` for the planner's ``seed`` (a bijection of [0, 2³¹))."""
    return CP_SAT_SEED_BASE ^ seed


@dataclass
class Data:
    """Index data of a canonical sampling problem (see the module docstring)."""

    problem: SamplingProblem
    T: int
    points: list[SamplingPoint]
    cap: dict[str, int]
    open: dict[str, list[int]]
    buildings: list[SamplingBuilding]  # non-sealed, by id
    reach: dict[str, list[str]]  # building -> reachable allowed open points, by id
    dist: dict[tuple[str, str], int]
    batches: list[SamplingBatch]  # of non-sealed buildings, by id
    nearest_allowed_open: dict[str, int | None] = field(default_factory=dict)
    people: dict[str, int] = field(default_factory=dict)  # batch id -> people

    def __post_init__(self) -> None:
        self.people = {k.id: k.people for k in self.batches}


def prepare(problem: SamplingProblem) -> Data:
    """The index data of ``problem`` (already canonical: records sorted by id)."""
    pol = problem.policy
    limit = reach_limit_m(pol)
    points = list(problem.points)
    cap = {p.id: problem.capacity(p) for p in points}
    open_ = {p.id: problem.open_slots(p) for p in points}
    pmap = {p.id: p for p in points}
    # sealed 封控区 and high-risk 高风险区 buildings stay home: sampled door to door
    buildings = [b for b in problem.buildings if b.zone.rank < 2]
    reach: dict[str, list[str]] = {}
    dist: dict[tuple[str, str], int] = {}
    nearest: dict[str, int | None] = {}
    for b in buildings:
        allowed = [p.id for p in points] if b.allowed_point_ids is None else sorted(
            set(b.allowed_point_ids))
        allowed_open = [pid for pid in allowed if open_[pid] and cap[pid] > 0]
        for pid in allowed_open:
            dist[b.id, pid] = walk_distance_m(b, pmap[pid], pol)
        reach[b.id] = [pid for pid in allowed_open if dist[b.id, pid] <= limit]
        nearest[b.id] = min((dist[b.id, pid] for pid in allowed_open), default=None)
    batches = sorted((k for b in buildings for k in b.batches), key=lambda k: k.id)
    return Data(problem, problem.n_slots, points, cap, open_, buildings, reach, dist, batches,
                nearest)


def unserved_reason(d: Data, k: SamplingBatch) -> Reason:
    """``NO_POINT_IN_REACH`` when the batch's building has no point in reach, else
    ``POINT_CAPACITY_USED``."""
    b = k.building_id
    if not d.reach[b]:
        params: dict[str, str | int | float] = {"limit_m": reach_limit_m(d.problem.policy)}
        near = d.nearest_allowed_open[b]
        if near is not None:
            params["distance_m"] = near
        return Reason(code=SamplingReasonCode.NO_POINT_IN_REACH, params=params)
    return Reason(code=SamplingReasonCode.POINT_CAPACITY_USED, params={"people": k.people})


def capacity_row(d: Data, pid: str) -> list[int]:
    """Capacity of point ``pid`` in each slot 0 … T-1 (people; 0 when the point is closed)."""
    opened = set(d.open[pid])
    return [d.cap[pid] if t in opened else 0 for t in range(d.T)]


def loads(d: Data, placed: dict[str, tuple[str, int]]) -> dict[str, list[list[int]]]:
    """Per point: rows [t, arrivals, capacity, served, backlog] over all slots."""
    people = d.people
    arr: dict[tuple[str, int], int] = defaultdict(int)
    for kid, (pid, t) in placed.items():
        arr[pid, t] += people[kid]
    out: dict[str, list[list[int]]] = {}
    for p in d.points:
        q = 0
        rows = []
        for t, c in enumerate(capacity_row(d, p.id)):
            a = arr[p.id, t]
            served = min(q + a, c)
            q = q + a - served
            rows.append([t, a, c, served, q])
        out[p.id] = rows
    return out


def slot_free(d: Data) -> bool:
    """Whether every batch is at most ``max_queue`` people (the slots then drop out of the
    point choice: see :mod:`commgov.scheduling.sampling._solve_cpsat`)."""
    return all(k.people <= d.problem.policy.max_queue for k in d.batches)


def model_vars(d: Data) -> int:
    """Boolean variables of the tier model: y[b,p], x[k,p(,t)] and s[k] (an estimate of size)."""
    free = slot_free(d)
    n_y = sum(len(d.reach[b.id]) for b in d.buildings)
    n_x = sum(1 if free else len(d.open[pid])
              for k in d.batches for pid in d.reach[k.building_id])
    return n_y + n_x + len(d.batches)


def reserve_s(d: Data) -> float:
    """Seconds kept from CP-SAT for the post-solver phases and the unchecked steps."""
    return (RESERVE_BASE_S + RESERVE_PER_BATCH_S * len(d.batches)
            + RESERVE_PER_VAR_S * model_vars(d))
