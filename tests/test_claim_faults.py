"""commgov.verification.claim_faults: bound, gap and OPTIMAL checked against the value."""

from __future__ import annotations

import pytest

from commgov.results import SolveInfo, SolveStatus
from commgov.verification import CLAIM_CODES, claim_faults


def _codes(value, *, status=SolveStatus.FEASIBLE, minimise=True, **info):
    got = claim_faults(SolveInfo(status=status, solver="t", **info), value, minimise=minimise)
    return [code for code, _ in got]


@pytest.mark.parametrize(
    ("value", "info", "status", "expected"),
    [
        (2.0, {"bound": 100.0, "gap": 0.0}, SolveStatus.OPTIMAL, ["BOUND_PAST_OBJECTIVE"]),
        (132.0, {"bound": 1e6, "gap": -5.0}, SolveStatus.FEASIBLE, ["BOUND_PAST_OBJECTIVE"]),
        (132.0, {"bound": 120.0, "gap": -5.0}, SolveStatus.FEASIBLE, ["GAP_WRONG"]),
        (48.0, {"bound": 46.0, "gap": 0.0}, SolveStatus.FEASIBLE, ["GAP_WRONG"]),
        (48.0, {"bound": 46.0, "gap": 2 / 46}, SolveStatus.OPTIMAL, ["OPTIMAL_UNPROVEN"]),
        (48.0, {"bound": 46.0, "gap": 2 / 46}, SolveStatus.FEASIBLE, []),
        (48.0, {"bound": 46.0}, SolveStatus.FEASIBLE, ["GAP_WRONG"]),
        (48.0, {"gap": 0.1}, SolveStatus.FEASIBLE, ["GAP_WRONG"]),
        (48.0, {}, SolveStatus.OPTIMAL, []),
        (46.0, {"bound": 46.0, "gap": 0.0}, SolveStatus.OPTIMAL, []),
        (0.0, {"bound": 0.0, "gap": 0.0}, SolveStatus.OPTIMAL, []),
        (3.0, {"bound": 0.0}, SolveStatus.FEASIBLE, []),
        (3.0, {"bound": 0.0, "gap": 0.0}, SolveStatus.FEASIBLE, ["GAP_WRONG"]),
    ],
)
def test_claims_against_the_value(value, info, status, expected):
    assert _codes(value, status=status, **info) == expected
    assert set(expected) <= set(CLAIM_CODES)


def test_a_maximised_tier_has_its_bound_above():
    assert _codes(10.0, minimise=False, bound=12.0, gap=2 / 12) == []
    assert _codes(10.0, minimise=False, bound=8.0, gap=0.0) == ["BOUND_PAST_OBJECTIVE"]
