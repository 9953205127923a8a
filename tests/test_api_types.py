"""Public entry points refuse arguments of the wrong type with a TypeError naming them."""

import math

import pytest

from commgov.matching import is_valid_assignment, match_volunteers
from commgov.scheduling import is_valid_sampling_plan, plan_sampling
from commgov.testing.strategies import community_problem


@pytest.mark.parametrize("bad", [None, {}, [], "problem"])
def test_solvers_and_verifiers_name_the_argument(bad):
    with pytest.raises(TypeError, match="problem must be a SamplingProblem"):
        plan_sampling(bad)
    with pytest.raises(TypeError, match="problem must be a MatchingProblem"):
        match_volunteers(bad)
    with pytest.raises(TypeError, match="problem must be a SamplingProblem"):
        is_valid_sampling_plan(bad, None)
    with pytest.raises(TypeError, match="problem must be a MatchingProblem"):
        is_valid_assignment(bad, None)


def test_plan_argument_of_the_verifier():
    problem = community_problem(1, n_buildings=3)
    with pytest.raises(TypeError, match="plan must be a SamplingPlan"):
        is_valid_sampling_plan(problem, {"assignments": []})


@pytest.mark.parametrize(("limit", "error"), [("5", TypeError), (True, TypeError),
                                              (0, ValueError), (-1.0, ValueError),
                                              (math.nan, ValueError), (math.inf, ValueError)])
def test_time_limit(limit, error):
    problem = community_problem(1, n_buildings=3)
    with pytest.raises(error, match="time_limit_s"):
        plan_sampling(problem, time_limit_s=limit)
