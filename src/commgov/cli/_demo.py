"""``commgov demo``: the main job on the embedded Gusu data, end to end.

The district's real structure from the official division codes, then for one community an
exact sampling plan and the day's volunteer assignment, written as JSON and CSV and
summarised on stdout.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from commgov.cli._output import EXIT_USAGE, STOP, _claim_out, _first_code, _n
from commgov.cli._progress import ProgressBar

if TYPE_CHECKING:
    from commgov.matching import Assignment
    from commgov.org import OrgGraph
    from commgov.scheduling import SamplingPlan, SamplingProblem

__all__ = ["run_demo"]


def run_demo(args: argparse.Namespace) -> int:
    """Run ``commgov demo``; returns the exit status."""
    from commgov.datasets import (
        gusu,
        gusu_divisions,
        synthetic_community,
        synthetic_tasks,
    )
    from commgov.io import csv_text, json_text
    from commgov.matching import match_volunteers, matching_problem_from_org
    from commgov.org import OrgGraph
    from commgov.scheduling import plan_sampling, sampling_problem_from_org

    code: str = args.community
    divisions = gusu_divisions()
    known = {c.id for c in divisions.communities}
    if code not in known:
        print(
            f"commgov: error: --community {code!r} is not one of Gusu's {len(known)} "
            "community codes "
            "(list them with: commgov communities)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    out: Path = args.out
    if out.exists() and not out.is_dir():
        print(f"commgov: error: --out {str(out)!r} exists and is not a folder", file=sys.stderr)
        return EXIT_USAGE
    folder = _claim_out(args)  # before the solve, not after it: locked until the end

    if args.households is None:
        # the divisions and this community exactly as in the whole district (gusu()), without
        # the other 170 communities' detail, which the demo does not use
        model = gusu(seed=args.seed, communities=[code])
    else:
        detail = synthetic_community(code, households=args.households, seed=args.seed)
        model = divisions.merge(detail, on_conflict="replace")
    graph = OrgGraph(model)
    problem = sampling_problem_from_org(graph, code)
    with ProgressBar("sampling plan") as progress:
        plan = plan_sampling(
            problem, time_limit_s=args.time_limit, progress=progress, cancel=STOP
        )
    tasks = synthetic_tasks(graph, code, seed=args.seed)
    matching = matching_problem_from_org(graph, code, tasks=tasks)
    with ProgressBar("volunteer matching") as progress:
        assignment = match_volunteers(matching, progress=progress, cancel=STOP)

    # files first, then the report: a closed pipe (commgov demo | head) cannot lose the files
    written = folder.write(
        {
            out / "sampling_problem.json": json_text(problem),
            out / "sampling_plan.json": json_text(plan),
            out / "sampling_plan.csv": csv_text(plan.rows(), plan.ROW_COLUMNS),
            out / "matching_problem.json": json_text(matching),
            out / "assignment.json": json_text(assignment),
            out / "assignment.csv": csv_text(assignment.rows(), assignment.ROW_COLUMNS),
        }
    )
    _print_district(graph)
    _print_community(graph, code)
    _print_plan(graph, problem, plan)
    _print_assignment(assignment)
    print(f"\nWrote {', '.join(p.name for p in written)} to {out}/")
    return 0


def _print_district(graph: OrgGraph) -> None:
    from commgov.org import NodeKind

    district = graph.record("320508")
    summary = graph.summary("320508")
    residents = summary.nodes.get("community", 0)
    villages = summary.nodes.get("village", 0)
    vintage = getattr(district, "vintage", "")
    print(
        f"{getattr(district, 'name', '')} (Gusu district, {district.id}) — "
        f"official division codes {vintage}"
    )
    print(
        f"  {summary.nodes.get('subdistrict', 0)} sub-districts; "
        f"{residents + villages} communities: "
        f"{residents} residents' committees and {villages} villagers' committees"
    )
    for sid in graph.children("320508"):
        sub = graph.summary(sid)
        name = getattr(graph.record(sid), "name", sid)
        n = sub.nodes.get("community", 0) + sub.nodes.get("village", 0)
        detail = graph.descendants(sid, NodeKind.BUILDING)
        marker = " (in detail)" if next(detail, None) else ""
        print(f"    {sid}  {name:<8}{n:>4} communities{marker}")


def _print_community(graph: OrgGraph, code: str) -> None:
    record = graph.record(code)
    summary = graph.summary(code)
    nodes, counts = summary.nodes, summary.counts
    people = [
        p
        for p in graph.model.people
        if p.home_id is not None and p.home_id in set(graph.descendants(code))
    ]
    enrolments = Counter(e for p in people for e in p.enrolments)
    print(
        f"\n{getattr(record, 'name', code)} ({code}) — division record {record.provenance.source}, "
        "detail synthetic"
    )
    print(
        "  "
        + ", ".join(_n(nodes.get(k, 0), k) for k in ("compound", "lane", "courtyard"))
        + "; "
        + ", ".join(_n(nodes.get(k, 0), k) for k in ("building", "entrance"))
    )
    scope = set(graph.descendants(code))
    records = sum(1 for h in graph.model.households if h.parent_id in scope)
    print(
        f"  {_n(counts.households, 'household')}, {_n(counts.residents, 'resident')}, "
        f"{counts.mobility_limited:,} mobility-limited; "
        f"{_n(records, 'household record')} (vulnerable households followed up by name)"
    )
    label = ", ".join(f"{n} {name}" for name, n in sorted(enrolments.items())) or "none enrolled"
    print(f"  {len(people)} volunteers ({label})")


def _print_plan(graph: OrgGraph, problem: SamplingProblem, plan: SamplingPlan) -> None:
    totals = plan.totals
    slots = int(problem.window.minutes // problem.policy.slot_minutes)
    print(
        f"\nSampling plan {problem.window.start.astimezone(problem.tz):%Y-%m-%d %H:%M}–"
        f"{problem.window.end.astimezone(problem.tz):%H:%M} "
        f"({slots} slots of {problem.policy.slot_minutes} min) — status {plan.info.status}"
        + (f", gap ≤ {plan.info.gap:.2%}" if plan.info.gap else "")
    )
    by_point: dict[str, list[str]] = defaultdict(list)
    for building_id, point_id in plan.building_points.items():
        by_point[point_id].append(building_id)
    people: Counter[str] = Counter()
    for a in plan.assignments:
        people[a.point_id] += a.people
    for point in problem.points:
        loads = [ld for ld in plan.loads if ld.point_id == point.id]
        used = [ld.slot for ld in loads if ld.arrivals]
        done = max((ld.slot for ld in loads if ld.served), default=-1)
        span = (
            f"arrivals in slots {min(used)}–{max(used)}, done in slot {done}" if used else "unused"
        )
        peak = max((ld.backlog for ld in loads), default=0)
        cap = loads[0].capacity if loads else 0
        print(
            f"  {point.id}: {_n(point.lanes, 'lane')} ({cap}/slot), "
            f"{_n(len(by_point[point.id]), 'building')}, "
            f"{people[point.id]:,} people, {span}, largest queue carried {peak}"
        )
    mean_walk = totals.walk_person_m / totals.served_people if totals.served_people else 0.0
    print(
        f"  served {totals.served_people:,} of {totals.walk_in_people:,} walk-in residents; "
        f"mean walk {mean_walk:.0f} m; largest queue {totals.max_backlog} "
        f"(limit {problem.policy.max_queue}); "
        + (f"last slot {totals.last_slot}" if totals.last_slot >= 0 else "no slot used")
    )
    for d in plan.door_to_door:
        print(f"  door to door: {d.building_id} — {d.reason.text()}")
    visits = sum(v.residents for v in plan.home_visits)
    print(
        f"  home visits: {visits} mobility-limited residents in "
        f"{_n(len(plan.home_visits), 'building')}"
    )
    groups: dict[str, list[Any]] = defaultdict(list)
    for u in plan.unserved:
        groups[_first_code(u)].append(u)
    for code, batches in sorted(groups.items()):
        first = batches[0]
        persons = _n(sum(b.people for b in batches), "person")
        print(
            f"  unserved {_n(len(batches), 'batch')} ({persons}) × {code}: "
            f"e.g. {first.batch_id} — " + "; ".join(r.text() for r in first.reasons)
        )


def _print_assignment(assignment: Assignment) -> None:
    t = assignment.totals
    print(
        f"\nVolunteer assignment — status {assignment.info.status}: "
        f"{t.matched} of {t.tasks} tasks matched, "
        f"priority {t.priority_served}/{t.priority_total}, travel {t.travel_m:,} m"
    )
    if assignment.matches:
        from commgov.matching import SCOPE_ORDER

        levels = Counter(m.scope for m in assignment.matches)
        print(
            "  by scope: "
            + ", ".join(f"{level.value} {levels.get(level, 0)}" for level in SCOPE_ORDER)
            + " (building team first, then compound, community pool, partners and riders)"
        )
    busy = [ld for ld in assignment.loads if ld.tasks > 0]
    busiest = sorted(busy, key=lambda ld: (-ld.tasks, ld.volunteer_id))[:3]
    if busiest:
        print("  busiest: " + ", ".join(f"{ld.volunteer_id} ({ld.tasks})" for ld in busiest))
    by_code: dict[str, list[str]] = defaultdict(list)
    texts: dict[str, str] = {}
    for u in assignment.unmatched:
        code = _first_code(u)
        by_code[code].append(u.task_id)
        texts.setdefault(code, u.reasons[0].text() if u.reasons else "")
    for code, ids in sorted(by_code.items()):
        print(f"  unmatched {len(ids)} × {code}: e.g. {ids[0]} — {texts[code]}")
