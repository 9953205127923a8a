"""OrgGraph queries check their arguments the same way everywhere: kinds (enum or value),
ids (UnknownIdError), instants and days."""

import pytest

from commgov.datasets import HUCHIYUAN, gusu
from commgov.org import EdgeKind, NodeKind, OrgGraph


@pytest.fixture(scope="module")
def graph():
    return OrgGraph(gusu(communities=[HUCHIYUAN]))


@pytest.mark.parametrize("kind", list(NodeKind))
def test_node_kind_as_enum_or_value_is_the_same(graph, kind):
    assert graph.nodes_of_kind(kind.value) == graph.nodes_of_kind(kind)
    assert list(graph.descendants("320508", kind.value)) == list(graph.descendants("320508", kind))


def test_string_kinds_find_records(graph):
    assert graph.nodes_of_kind("building")
    assert next(graph.descendants(HUCHIYUAN, kind="building"))


@pytest.mark.parametrize("kind", list(EdgeKind))
def test_edge_kind_as_enum_or_value_is_the_same(graph, kind):
    for node in (HUCHIYUAN, "320508017", f"{HUCHIYUAN}/PO"):
        for incoming in (False, True):
            assert graph.neighbours(node, kind.value, incoming=incoming) == graph.neighbours(
                node, kind, incoming=incoming
            )


@pytest.mark.parametrize(
    ("call", "value", "words"),
    [
        (lambda g, k: g.nodes_of_kind(k), "buildings", ["'buildings'", "NodeKind", "building"]),
        (lambda g, k: g.nodes_of_kind(k), 3, ["3", "NodeKind"]),
        (lambda g, k: g.descendants(HUCHIYUAN, k), "Building", ["did you mean 'building'"]),
        (lambda g, k: g.neighbours(HUCHIYUAN, k), "contains", ["did you mean 'CONTAINS'", "LEADS"]),
        (lambda g, k: g.neighbours(HUCHIYUAN, k), NodeKind.BUILDING, ["EdgeKind"]),
        (lambda g, k: g.neighbours(HUCHIYUAN, k), None, ["None", "EdgeKind"]),
    ],
)
def test_unknown_kinds_are_value_errors_naming_value_and_allowed(graph, call, value, words):
    with pytest.raises(ValueError) as info:
        call(graph, value)
    for w in words:
        assert w in str(info.value)
