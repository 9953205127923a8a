"""One Gusu district (seed 0) and its graph for the whole session: building them takes seconds."""

import pytest

from commgov.datasets import gusu
from commgov.org import OrgGraph


@pytest.fixture(scope="session")
def district():
    return gusu()


@pytest.fixture(scope="session")
def district_graph(district):
    return OrgGraph(district)
