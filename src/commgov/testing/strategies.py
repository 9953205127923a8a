"""Public Hypothesis strategies for commgov records and problems.

Tests of commgov, and of applications built on it, draw from here::

    from hypothesis import given
    from commgov.testing.strategies import org_models

    @given(org_models())
    def test_my_app_reads_any_model(model): ...

Needs the ``testing`` extra (``pip install 'commgov[testing]'``).
"""

from commgov.testing._matching import matching_problems
from commgov.testing._mut_supply import supply_problems
from commgov.testing._org import (
    admin_areas,
    bodies,
    buildings,
    communities,
    duty_posts,
    entrances,
    grids,
    household_counts,
    households,
    liaisons,
    memberships,
    neighbourhood_units,
    org_models,
    party_orgs,
    people,
    sites,
    teams,
    time_windows,
    zone_designations,
)
from commgov.testing._sampling import community_problem, sampling_problems

__all__ = [
    "admin_areas",
    "bodies",
    "buildings",
    "communities",
    "community_problem",
    "duty_posts",
    "entrances",
    "grids",
    "household_counts",
    "households",
    "liaisons",
    "matching_problems",
    "memberships",
    "neighbourhood_units",
    "org_models",
    "party_orgs",
    "people",
    "sampling_problems",
    "sites",
    "supply_problems",
    "teams",
    "time_windows",
    "zone_designations",
]
