"""Conformance check for volunteer ↔ task matchers (commgov's own or a third party's).

:func:`check_matcher` runs a matcher on seeded instances and hand-built edge cases and checks,
per instance, that its result

1. passes commgov's independent verifier :func:`~commgov.matching.is_valid_assignment` (and,
   for ``objective="stable"``, has no blocking pair:
   :func:`~commgov.matching.blocking_pairs`);
2. is deterministic: the same problem twice gives byte-identical JSON;
3. is invariant to input order: the problem with every list shuffled (tasks, volunteers,
   skills, availability windows, building ids, pins) gives byte-identical JSON;
4. is optimal (``min_cost`` and ``fair``): its recomputed objective tiers equal those of
   commgov's exact solver :func:`~commgov.matching.match_volunteers`, the reference —
   ``(priority_served, changes, cost_m)`` for ``min_cost``, ``(priority_served, changes,
   load_squares)`` for ``fair`` (the cost among the most even load vectors depends on which
   one is chosen). The reference is an exact min-cost flow, so a valid result can never be
   strictly better; if one is, the report says so (a commgov bug worth reporting).

Checks 1–3 are those of the generic runner :func:`~commgov.testing.check_planner` (run on a
one-argument matcher); check 4 and the blocking pairs are matching's own. It is plain code,
not a Hypothesis test, so it runs the same everywhere and returns a report
instead of raising.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from commgov.matching import (
    OBJECTIVES,
    Assignment,
    MatchingProblem,
    MatchingViolationCode,
    Pin,
    Task,
    Volunteer,
    blocking_pairs,
    is_valid_assignment,
    match_volunteers,
)
from commgov.testing._check import _check_problem
from commgov.testing._families import family
from commgov.testing._report import ConformanceCheck, ConformanceFailure, ConformanceReport
from commgov.types import GeoPoint, TimeWindow

__all__ = [
    "check_matcher",
    "matching_edge_cases",
    "with_scopes",
]

_OBJECTIVES = OBJECTIVES


def _digest(*parts: object) -> int:
    text = "\x1f".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "big")


def with_scopes(problem: MatchingProblem, seed: int = 0) -> MatchingProblem:
    """A copy of ``problem`` with organisation scopes derived from the places, deterministically.

    Every task and volunteer gets a community (west or east of the median longitude of all
    places), a compound (a ~250 m grid cell) and tasks a building (a ~50 m grid cell);
    volunteers are responsible for the 3 × 3 building cells around them. Records are then
    picked by a hash of ``(seed, id)`` — independent of input order — to lose their community
    (about 1 in 10 tasks and volunteers: unscoped) or to be partners (about 1 volunteer in 8).
    So every scope level and out-of-scope pairs occur.

    Parameters
    ----------
    problem : MatchingProblem
        A problem; its existing scope fields and pins are replaced or kept as they are (pins
        that would become ineligible are dropped).
    seed : int, default 0
        Shifts the grids and salts the hash.

    Returns
    -------
    MatchingProblem
        The scoped problem (validated).
    """
    places = [t.location for t in problem.tasks] + [v.location for v in problem.volunteers]
    if not places:
        return problem
    lons = sorted(p.lon for p in places)
    mid_lon = lons[len(lons) // 2]
    lat0 = sum(p.lat for p in places) / len(places)
    m_lat = 111_195.0
    m_lon = m_lat * max(math.cos(math.radians(lat0)), 1e-6)
    shift = (_digest("shift", seed) % 1000) / 1000.0

    def cell(p: GeoPoint, size_m: float) -> tuple[int, int]:
        return (
            math.floor(p.lon * m_lon / size_m + shift),
            math.floor(p.lat * m_lat / size_m + shift),
        )

    def community(p: GeoPoint) -> str:
        return "west" if p.lon < mid_lon else "east"

    tasks = []
    for t in problem.tasks:
        bx, by = cell(t.location, 50.0)
        cx, cy = cell(t.location, 250.0)
        unscoped = _digest("task", seed, t.id) % 10 == 0
        tasks.append(
            t.model_copy(
                update={
                    "building_id": f"b{bx}_{by}",
                    "compound_id": f"c{cx}_{cy}",
                    "community_id": None if unscoped else community(t.location),
                }
            )
        )
    vols = []
    for v in problem.volunteers:
        bx, by = cell(v.location, 50.0)
        cx, cy = cell(v.location, 250.0)
        h = _digest("vol", seed, v.id) % 40
        vols.append(
            v.model_copy(
                update={
                    "building_ids": [
                        f"b{bx + i}_{by + j}" for i in (-1, 0, 1) for j in (-1, 0, 1)
                    ],
                    "compound_id": f"c{cx}_{cy}",
                    "community_id": None if h < 4 else community(v.location),
                    "partner": 4 <= h < 9,
                }
            )
        )
    data = problem.model_dump()
    data["tasks"] = [t.model_dump() for t in tasks]
    data["volunteers"] = [v.model_dump() for v in vols]
    data["pinned"] = []
    return MatchingProblem.model_validate(data)


def matching_edge_cases() -> dict[str, MatchingProblem]:
    """Small hand-built problems on the edges of the model.

    ``empty`` (nothing), ``no_volunteers``, ``no_tasks``, ``zero_capacity`` (volunteers with
    slot or day capacity 0), ``unservable`` (one task for each unmatched reason: skill
    missing, out of scope, too far, out of window), ``ties`` (volunteers at mirrored places,
    equal priorities and identical tasks), ``pins`` (a pinned pair and a previous plan whose
    volunteer dropped out) and ``midnight`` (slots either side of local midnight sharing a
    day capacity).

    Returns
    -------
    dict of str to MatchingProblem
        Name → problem, in a fixed order.
    """
    tz = ZoneInfo("Asia/Shanghai")
    base = datetime(2022, 4, 10, 9, tzinfo=tz)

    def slot(h: int) -> TimeWindow:
        return TimeWindow(start=base + timedelta(hours=h), end=base + timedelta(hours=h + 1))

    all_day = [TimeWindow(start=base - timedelta(hours=12), end=base + timedelta(hours=36))]
    lon0, lat0 = 120.62, 31.31

    def at(dx_m: float = 0.0, dy_m: float = 0.0) -> GeoPoint:
        return GeoPoint(
            lon=lon0 + dx_m / (111_195.0 * math.cos(math.radians(lat0))),
            lat=lat0 + dy_m / 111_195.0,
        )

    def task(tid: str, skill: str = "delivery", dx: float = 0.0, h: int = 0, **kw: Any) -> Task:
        return Task(id=tid, skill=skill, location=at(dx), window=slot(h), **kw)

    def vol(vid: str, dx: float = 0.0, **kw: Any) -> Volunteer:
        kw.setdefault("skills", {"delivery": 3})
        kw.setdefault("availability", all_day)
        return Volunteer(id=vid, location=at(dx), **kw)

    def problem(tasks: list[Task], vols: list[Volunteer], **kw: Any) -> MatchingProblem:
        return MatchingProblem(timezone="Asia/Shanghai", tasks=tasks, volunteers=vols, **kw)

    return {
        "empty": problem([], []),
        "no_volunteers": problem([task("t1"), task("t2", "medic", h=1)], []),
        "no_tasks": problem([], [vol("v1"), vol("v2", 100.0)]),
        "zero_capacity": problem(
            [task("t1"), task("t2", h=1), task("t3", h=2)],
            [
                vol("v0", capacity_per_slot=0),
                vol("v1", 50.0, capacity_per_day=0),
                vol("v2", 80.0, capacity_per_slot=1, capacity_per_day=1),
            ],
        ),
        "unservable": problem(
            [
                task("a-skill", "medic"),
                task("b-scope", community_id="north"),
                task("c-far", dx=5000.0),
                task("d-window", h=40),
                task("e-ok", h=1),
            ],
            [
                vol("v1", community_id="south"),
                vol("v2", 20.0, community_id="south"),
                vol("v3", 5000.0 + 2500.0, community_id="south"),
            ],
            max_distance_m=1000.0,
        ),
        "ties": problem(
            [task("t1", dx=0.0), task("t2", dx=0.0), task("t3", dx=0.0, h=1)],
            [vol("va", -100.0), vol("vb", 100.0), vol("vc", 100.0, capacity_per_slot=2)],
        ),
        "pins": problem(
            [task("t1"), task("t2", dx=50.0), task("t3", h=1), task("t4", h=1, dx=30.0)],
            [vol("v1"), vol("v2", 40.0), vol("v3", 60.0, capacity_per_day=1)],
            pinned=[Pin(task_id="t1", volunteer_id="v2")],
            previous=[
                Pin(task_id="t2", volunteer_id="v1"),
                Pin(task_id="t3", volunteer_id="gone"),
            ],
        ),
        "midnight": problem(
            [task("t1", h=13), task("t2", h=14), task("t3", h=15, dx=20.0)],
            [vol("v1", capacity_per_day=1, capacity_per_slot=2), vol("v2", 30.0)],
        ),
    }


def _default_instances(seeds: Iterable[int]) -> dict[str, MatchingProblem]:
    from commgov.datasets import matching_instance

    out = dict(matching_edge_cases())
    for seed in seeds:
        base = matching_instance("community", seed)
        out[f"community-{seed}"] = base
        out[f"community-{seed}-scoped"] = with_scopes(base, seed)
    return out


def check_matcher(
    matcher: Callable[[MatchingProblem], Assignment],
    *,
    objective: str = "min_cost",
    instances: Mapping[str, MatchingProblem] | Iterable[MatchingProblem] | None = None,
    seeds: Iterable[int] = range(2),
) -> ConformanceReport:
    """Check a matcher: valid, deterministic, order-invariant and (min_cost, fair) optimal.

    See the module docstring of :mod:`commgov.testing._conformance` for the checks. The
    default instances are :func:`matching_edge_cases` plus, for each seed,
    :func:`commgov.datasets.matching_instance` at community scale (300 tasks, 60 volunteers)
    and its :func:`with_scopes` variant. The reference for optimality is
    :func:`commgov.matching.match_volunteers` with the same ``objective``.

    Parameters
    ----------
    matcher : callable
        Takes a :class:`~commgov.matching.MatchingProblem`, returns an
        :class:`~commgov.matching.Assignment`.
    objective : {"min_cost", "fair", "stable"}, default "min_cost"
        The objective the matcher claims to solve: optimality is compared for ``min_cost``
        and ``fair``; ``stable`` results are checked for blocking pairs instead.
    instances : mapping of str to MatchingProblem, or iterable of MatchingProblem, optional
        Problems to run instead of the defaults (an iterable is named ``instance-0``, ...).
    seeds : iterable of int, default range(2)
        Seeds of the default community instances (ignored when ``instances`` is given).

    Returns
    -------
    ConformanceReport
        ``.ok``, ``.failures`` (instance, check, verifier code, detail); call
        :meth:`ConformanceReport.raise_for_failures` in a test.

    Raises
    ------
    ValueError
        If ``objective`` is not one of the three.
    """
    if objective not in _OBJECTIVES:
        raise ValueError(f"objective must be one of {_OBJECTIVES}, got {objective!r}")
    if instances is None:
        named = _default_instances(seeds)
    elif isinstance(instances, Mapping):
        named = dict(instances)
    else:
        named = {f"instance-{i}": p for i, p in enumerate(instances)}
    names: list[str] = []
    failures: list[ConformanceFailure] = []
    for name, problem in named.items():
        names.append(name)
        failures.extend(_check_one(matcher, objective, name, problem))
    return ConformanceReport(family="matching", objective=objective, instances=names,
                             failures=failures,
                             checks_run=[ConformanceCheck.VALID, ConformanceCheck.DETERMINISTIC,
                                         ConformanceCheck.PERMUTATION_INVARIANT,
                                         *([ConformanceCheck.OPTIMAL]
                                           if objective != "stable" else [])])


def _check_one(
    matcher: Callable[[MatchingProblem], Assignment],
    objective: str,
    name: str,
    problem: MatchingProblem,
) -> list[ConformanceFailure]:
    out = _check_problem(
        family("matching"), lambda p, **_kw: matcher(p), name, problem,
        (ConformanceCheck.VALID, ConformanceCheck.DETERMINISTIC,
         ConformanceCheck.PERMUTATION_INVARIANT), first=False)
    if any(f.check in (ConformanceCheck.PLANNER_ERROR, ConformanceCheck.RESULT_TYPE)
           for f in out) or (objective not in ("min_cost", "fair", "stable")):
        return out
    first = matcher(problem)
    report = is_valid_assignment(problem, first)

    def fail(
        check: ConformanceCheck, detail: str, code: MatchingViolationCode | None = None
    ) -> None:
        out.append(ConformanceFailure(name, check, code, detail))

    if objective == "stable" and MatchingViolationCode.BLOCKING_PAIR not in report.codes:
        for bp in blocking_pairs(problem, first, limit=10):
            fail(
                ConformanceCheck.VALID,
                f"{bp.task_id} and {bp.volunteer_id} block the assignment",
                MatchingViolationCode.BLOCKING_PAIR,
            )
    if objective in ("min_cost", "fair") and report.ok:
        reference = match_volunteers(problem, objective=objective)
        ref = is_valid_assignment(problem, reference).objective
        got = report.objective
        if objective == "min_cost":
            mine, theirs = got.min_cost_key(), ref.min_cost_key()
            tiers = "(-priority_served, changes, cost_m)"
        else:
            mine, theirs = got.fair_key()[:3], ref.fair_key()[:3]
            tiers = "(-priority_served, changes, load_squares)"
        if mine != theirs:
            better = " — better than the exact reference: please report" if mine < theirs else ""
            fail(ConformanceCheck.OPTIMAL, f"{tiers} = {mine}, reference {theirs}{better}")
    return out
