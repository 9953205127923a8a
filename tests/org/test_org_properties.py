"""Properties of any valid organisation model (drawn from commgov.testing.strategies)."""

import random

from hypothesis import given, settings, strategies as st

from commgov.org import HouseholdCounts, NodeKind, OrgGraph, OrgModel
from commgov.testing.strategies import org_models


@settings(max_examples=60, deadline=None)
@given(org_models())
def test_json_round_trip_is_exact(model):
    text = model.to_json()
    assert OrgModel.from_json(text).to_json() == text


@settings(max_examples=60, deadline=None)
@given(org_models(overlay=False), st.randoms(use_true_random=False))
def test_order_of_territory_records_does_not_matter(model, rnd: random.Random):
    shuffled = {}
    for name in ("areas", "communities", "units", "buildings", "entrances"):
        items = list(getattr(model, name))
        rnd.shuffle(items)
        shuffled[name] = items
    assert OrgModel(**shuffled).to_json() == model.to_json()


@settings(max_examples=60, deadline=None)
@given(org_models())
def test_root_summary_adds_up_the_leaves(model):
    graph = OrgGraph(model)
    expected = HouseholdCounts()
    for e in model.entrances:
        expected = expected + e.counts
    for b in model.buildings:
        if b.counts is not None:
            expected = expected + b.counts
    assert graph.summary("320508").counts == expected
    assert graph.summary("320508").nodes.get("building", 0) == len(model.buildings)


@settings(max_examples=40, deadline=None)
@given(org_models())
def test_every_building_has_a_community_ancestor(model):
    graph = OrgGraph(model)
    for bid in graph.nodes_of_kind(NodeKind.BUILDING):
        kinds = {graph.kind(a) for a in graph.ancestors(bid)}
        assert NodeKind.COMMUNITY in kinds and NodeKind.DISTRICT in kinds
