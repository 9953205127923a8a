"""Optimality on 50 seeded synthetic communities built through the organisation model.

Each community comes from ``synthetic_community`` → ``synthetic_tasks`` →
``matching_problem_from_org``; priority served and cost (scope penalty + travel metres) must
equal those of the independent HiGHS model in ``test_matching_optimality``.
"""

from __future__ import annotations

import pytest
from test_matching_optimality import milp_reference

from commgov.datasets import synthetic_community, synthetic_tasks
from commgov.matching import is_valid_assignment, match_volunteers, matching_problem_from_org
from commgov.org import OrgGraph
from commgov.results import SolveStatus

CODE = "320508024030"  # 福运社区


@pytest.mark.parametrize("seed", range(50))
def test_assignment_equals_independent_optimum(seed):
    model = synthetic_community(
        CODE,
        households=150 + (seed * 53) % 600,
        volunteers=3 + seed % 10,
        seed=seed,
        mobility_rate=0.05,
    )
    graph = OrgGraph(model)
    problem = matching_problem_from_org(graph, CODE, tasks=synthetic_tasks(graph, CODE, seed=seed))
    assignment = match_volunteers(problem)
    assert assignment.info.status == SolveStatus.OPTIMAL
    report = is_valid_assignment(problem, assignment)
    assert report.ok, report.violations
    priority, cost = milp_reference(problem)
    assert (assignment.totals.priority_served, assignment.totals.cost_m) == (priority, cost)
    assert (report.objective.priority_served, report.objective.cost_m) == (priority, cost)
