"""Public Hypothesis strategies for commgov records and problems.

Tests of commgov, and of applications built on it, draw from here::

    from hypothesis import given
    from commgov.testing.strategies import org_models

    @given(org_models())
    def test_my_app_reads_any_model(model): ...

Needs the ``testing`` extra (``pip install 'commgov[testing]'``).
"""

from commgov.testing._matching import matching_problems
from commgov.testing._org import household_counts, org_models
from commgov.testing._sampling import community_problem, sampling_problems

__all__ = [
    "community_problem",
    "household_counts",
    "matching_problems",
    "org_models",
    "sampling_problems",
]
