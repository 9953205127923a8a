"""Plan 虎池苑社区's morning sampling round, with one sealed building, and print the notices.

In spring 2022 residents were told to go "building by building, in time slots, to the
sampling point for their building"; sealed buildings (封控楼栋) were sampled door to door.
This script builds 虎池苑社区's sampling problem from the embedded Gusu organisation model
(its three sampling points open 06:30–13:00; the synthetic detail puts one building under a
sealed-zone designation for the day), plans it exactly, checks the plan with the
independent verifier, and prints the plan summary and a few building notices in Chinese and
English, with the point and building names of the organisation model. The same plan is
exported as CSV files and an iCalendar file by ``commgov.io`` (shown: their sizes).

Run: python examples/sampling_round.py
"""

import time
from collections import Counter

from commgov.datasets import HUCHIYUAN, gusu
from commgov.io import building_notices, sampling_csv_texts, sampling_ics
from commgov.org import NodeKind, OrgGraph
from commgov.scheduling import is_valid_sampling_plan, plan_sampling, sampling_problem_from_org


def display_names(graph: OrgGraph, problem_ids: list[str]) -> dict[str, str]:
    """Display names of points, buildings and entrances: 第1小区微阵地, 第1小区1幢, 1单元."""
    names: dict[str, str] = {}
    for batch_or_record in problem_ids:
        record_id, _, part = batch_or_record.partition("#")  # a part of a large entrance
        record = graph.record(record_id)
        own = getattr(record, "name", None) or getattr(record, "label", None) or record_id
        if graph.kind(record_id) is NodeKind.BUILDING:
            parent = getattr(record, "parent_id", None)
            parent_name = getattr(graph.record(parent), "name", "") if parent else ""
            own = f"{parent_name}{own}"
        names[batch_or_record] = f"{own}（第{part}批）" if part else own
    return names


def main() -> None:
    graph = OrgGraph(gusu(seed=0, communities=[HUCHIYUAN]))
    problem = sampling_problem_from_org(graph, HUCHIYUAN)
    sealed = [b.id for b in problem.buildings if b.zone.rank >= 2]
    clock = time.perf_counter()
    plan = plan_sampling(problem, time_limit_s=20)
    seconds = time.perf_counter() - clock
    report = is_valid_sampling_plan(problem, plan)
    assert report, report.violations

    tz = problem.tz
    t = plan.totals
    print(f"虎池苑社区 sampling round {problem.window.start.astimezone(tz):%Y-%m-%d %H:%M}–"
          f"{problem.window.end.astimezone(tz):%H:%M} ({problem.n_slots} slots of "
          f"{problem.policy.slot_minutes} min), {len(problem.buildings)} buildings, "
          f"{len(problem.points)} points, sealed: {', '.join(sealed) or 'none'}")
    print(f"  status {plan.info.status} in {seconds:.1f} s, verified: {report.ok}; "
          f"served {t.served_people:,} of {t.walk_in_people:,} walk-in residents, "
          f"mean walk {t.walk_person_m / max(t.served_people, 1):.0f} m, largest queue "
          f"{t.max_backlog} (limit {problem.policy.max_queue}), last slot {t.last_slot}")
    people = Counter[str]()
    for a in plan.assignments:
        people[a.point_id] += a.people
    for point in problem.points:
        buildings = sum(1 for p in plan.building_points.values() if p == point.id)
        print(f"  {point.id}: {point.lanes} lanes ({problem.capacity(point)}/slot), "
              f"{buildings} buildings, {people[point.id]:,} people")
    for d in plan.door_to_door:
        print(f"  door to door: {d.building_id}, {d.households} households, "
              f"{d.residents} residents")
    print(f"  home visits: {sum(h.residents for h in plan.home_visits)} mobility-limited "
          f"residents in {len(plan.home_visits)} buildings")

    ids = [p.id for p in problem.points]
    ids += [b.id for b in problem.buildings]
    ids += [k.id for b in problem.buildings for k in b.batches]
    names = display_names(graph, ids)
    zh = building_notices(problem, plan, "zh", names=names)
    en = building_notices(problem, plan, "en", names=names)
    split = next((b for b in sorted(zh) if len({a.slot for a in plan.assignments
                                                  if a.building_id == b}) > 1), None)
    shown = [*sealed, sorted(zh)[0], *([split] if split else [])]
    for building_id in shown:
        print(f"\n{zh[building_id]}\n{en[building_id]}")

    csvs = sampling_csv_texts(problem, plan)
    ics = sampling_ics(problem, plan, names=names)
    n_events = ics.count("BEGIN:VEVENT")
    files = ", ".join(f"{n} ({len(text.splitlines()) - 1} rows)" for n, text in csvs.items())
    print(f"\nExports: {files}; sampling.ics ({n_events} events, one per building slot)")


if __name__ == "__main__":
    main()
