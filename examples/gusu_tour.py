"""A tour of Gusu district: official structure, one community, its sampling plan.

Run: python examples/gusu_tour.py
"""

from commgov.datasets import HUCHIYUAN, gusu
from commgov.org import NodeKind, OrgGraph
from commgov.scheduling import is_valid_sampling_plan, plan_sampling, sampling_problem_from_org


def main() -> None:
    graph = OrgGraph(gusu(seed=0))
    district = graph.summary("320508")
    print(
        f"Gusu: {district.nodes['subdistrict']} sub-districts, "
        f"{district.nodes['community'] + district.nodes['village']} communities"
    )
    for sid in graph.children("320508"):
        record = graph.record(sid)
        print(f"  {sid} {record.name}: {len(graph.children(sid))} communities")  # type: ignore[attr-defined]

    community = graph.summary(HUCHIYUAN)
    print(
        f"\n虎池苑社区: {community.counts.households} households, "
        f"{len(list(graph.descendants(HUCHIYUAN, NodeKind.BUILDING)))} buildings"
    )

    problem = sampling_problem_from_org(graph, HUCHIYUAN)
    plan = plan_sampling(problem)
    report = is_valid_sampling_plan(problem, plan)
    print(
        f"sampling plan: {plan.info.status}, {plan.totals.served_people} served, "
        f"verifier ok: {report.ok}"
    )
    for d in plan.door_to_door:
        print(f"  {d.reason.text('zh')}  ← {d.building_id}")


if __name__ == "__main__":
    main()
