"""OrgGraph queries check their arguments the same way everywhere: kinds (enum or value),
ids (UnknownIdError), instants and days."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from commgov.datasets import HUCHIYUAN, gusu
from commgov.errors import CommgovError
from commgov.org import EdgeKind, Membership, NodeKind, OrgGraph, UnknownIdError, ZoneRegime


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


#: Every query that takes an id, called with ``nope`` in the id's place.
ID_QUERIES = {
    "record": lambda g, i: g.record(i),
    "kind": lambda g, i: g.kind(i),
    "parent": lambda g, i: g.parent(i),
    "children": lambda g, i: g.children(i),
    "ancestors": lambda g, i: g.ancestors(i),
    "descendants": lambda g, i: g.descendants(i),
    "descendants of a kind": lambda g, i: g.descendants(i, NodeKind.BUILDING),
    "community_of": lambda g, i: g.community_of(i),
    "neighbours": lambda g, i: g.neighbours(i, EdgeKind.CONTAINS),
    "neighbours incoming": lambda g, i: g.neighbours(i, EdgeKind.LEADS, incoming=True),
    "summary": lambda g, i: g.summary(i),
    "leaders": lambda g, i: g.leaders(i),
    "chain_of_command": lambda g, i: g.chain_of_command(i),
    "liaisons_of": lambda g, i: g.liaisons_of(i),
    "households_without_liaison": lambda g, i: g.households_without_liaison(i),
    "liaison_coverage": lambda g, i: g.liaison_coverage(i),
    "serving": lambda g, i: g.serving(i),
    "members": lambda g, i: g.members(i),
    "span_of_control": lambda g, i: g.span_of_control(i),
    "effective_zone": lambda g, i: g.effective_zone(i, AT),
    "effective_regime": lambda g, i: g.effective_regime(i, AT),
}
AT = datetime(2022, 4, 12, 12, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.mark.parametrize("query", list(ID_QUERIES))
def test_every_query_refuses_an_unknown_id_the_same_way(graph, query):
    with pytest.raises(UnknownIdError) as info:
        ID_QUERIES[query](graph, "nope")
    err = info.value
    assert isinstance(err, KeyError) and isinstance(err, CommgovError)
    assert err.id == "nope"
    assert "'nope'" in str(err) and "not in the model" in str(err)


@pytest.mark.parametrize("query", ["record", "kind", "summary", "children", "members"])
def test_a_non_string_id_is_a_type_error(graph, query):
    with pytest.raises(TypeError, match="record id"):
        ID_QUERIES[query](graph, ["320508"])


@pytest.mark.parametrize(
    ("query", "node_id", "words"),
    [
        ("summary", f"{HUCHIYUAN}/PO", "not a territorial place"),
        ("liaison_coverage", f"{HUCHIYUAN}/PO", "not a territorial place"),
        ("serving", f"{HUCHIYUAN}/PO", "not a place"),
        ("chain_of_command", f"{HUCHIYUAN}/PO", "not a place"),
        ("members", HUCHIYUAN, "not a party organisation, team or body"),
    ],
)
def test_a_record_of_the_wrong_kind_is_a_value_error(graph, query, node_id, words):
    with pytest.raises(ValueError, match=words):
        ID_QUERIES[query](graph, node_id)


def test_known_ids_still_answer(graph):
    assert graph.parent("320508") is None
    assert graph.children(f"{HUCHIYUAN}/PO") == []
    assert graph.members(f"{HUCHIYUAN}/PO")


NAIVE = datetime(2022, 4, 12, 12)
B = f"{HUCHIYUAN}/C01/B01"
PO = f"{HUCHIYUAN}/PO"

#: Queries taking an instant ``at`` or a day ``on``, with the bad value in its place.
TIME_QUERIES = {
    "leaders": lambda g, v: g.leaders(B, at=v),
    "chain_of_command": lambda g, v: g.chain_of_command(B, at=v),
    "effective_zone": lambda g, v: g.effective_zone(B, v),
    "effective_regime": lambda g, v: g.effective_regime(B, v),
    "members": lambda g, v: g.members(PO, on=v),
    "span_of_control": lambda g, v: g.span_of_control(PO, on=v),
}
INSTANTS = ["leaders", "chain_of_command", "effective_zone", "effective_regime"]
DAYS = ["members", "span_of_control"]


@pytest.mark.parametrize(
    ("query", "value", "error", "words"),
    [
        *((q, NAIVE, ValueError, "naive") for q in INSTANTS),
        *((q, date(2022, 4, 12), TypeError, "not a date") for q in INSTANTS),
        *((q, "2022-04-12T12:00+08:00", TypeError, "not str") for q in INSTANTS),
        *((q, 0, TypeError, "not int") for q in INSTANTS),
        *((q, "garbage", TypeError, "must be a date, not str") for q in DAYS),
        *((q, AT, TypeError, "not the datetime") for q in DAYS),
        *((q, 20220412, TypeError, "must be a date, not int") for q in DAYS),
    ],
)
def test_instants_and_days_are_checked(graph, query, value, error, words):
    with pytest.raises(error, match=words):
        TIME_QUERIES[query](graph, value)


@pytest.mark.parametrize("query", INSTANTS)
def test_aware_instants_answer(graph, query):
    TIME_QUERIES[query](graph, AT)
    TIME_QUERIES[query](graph, datetime(2022, 4, 12, 4, tzinfo=UTC))


@pytest.mark.parametrize("query", DAYS)
def test_days_answer(graph, query):
    TIME_QUERIES[query](graph, date(2022, 4, 12))


def test_membership_active_on_takes_a_date():
    m = Membership(id="m", person_id="p", organisation_id="o")
    assert m.active_on(date(2022, 4, 12))
    with pytest.raises(TypeError, match="must be a date"):
        m.active_on(AT)


def test_effective_regime_default_is_checked(graph):
    assert graph.effective_regime(B, AT - timedelta(days=30), default="low") is ZoneRegime.LOW
    with pytest.raises(ValueError, match="'nope' is not a ZoneRegime"):
        graph.effective_regime(B, AT, default="nope")
