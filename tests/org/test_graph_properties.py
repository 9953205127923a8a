"""Every OrgGraph query agrees with a brute-force recomputation over the records.

Models come from ``commgov.testing.strategies.org_models`` (territory and overlay); the
oracles below read only the records, never the graph.
"""

import math
import random
from datetime import timedelta

from hypothesis import given, settings, strategies as st

from commgov.org import RECORD_TYPES, EdgeKind, OrgGraph, OrgModel, PartyOrg
from commgov.org._queries import effective_regime
from commgov.testing import strategies as cs
from commgov.testing._org import EPOCH

SETTINGS = settings(max_examples=40, deadline=None)


def parents(model):
    return {r.id: r.parent_id for r in model.records()
            if getattr(r, "parent_id", None) and type(r).__name__ in {
                "AdminArea", "Community", "NeighbourhoodUnit", "Building", "Entrance",
                "Household"}}  # fmt: skip


def ancestors(up, node):
    out = []
    while node in up:
        node = up[node]
        out.append(node)
    return out


def community(model, up, node):
    ids = {c.id for c in model.communities}
    return next((n for n in [node, *ancestors(up, node)] if n in ids), None)


@SETTINGS
@given(cs.org_models())
def test_random_models_validate_and_round_trip(model):
    OrgGraph(model)
    text = model.to_json()
    assert OrgModel.from_json(text).to_json() == text


@SETTINGS
@given(cs.org_models(), st.randoms(use_true_random=False))
def test_order_of_records_does_not_matter(model, rnd: random.Random):
    shuffled = {}
    for name in RECORD_TYPES:
        items = list(getattr(model, name))
        rnd.shuffle(items)
        shuffled[name] = items
    assert OrgModel(**shuffled).to_json() == model.to_json()


@SETTINGS
@given(cs.org_models())
def test_chain_of_command_matches_records(model):
    graph = OrgGraph(model)
    up = parents(model)
    orgs = {p.id: p for p in model.party_orgs}
    for b in model.buildings:
        chain = graph.chain_of_command(b.id)
        assert chain.territorial == ancestors(up, b.id)
        leaders = {}
        for place in [b.id, *ancestors(up, b.id)]:
            found = sorted((p for p in model.party_orgs if place in p.leads),
                           key=lambda p: (p.level.rank, p.id))  # fmt: skip
            if found:
                leaders[place] = [p.id for p in found]
        assert chain.leaders == leaders
        party = []
        current = next(iter(leaders.values()))[0] if leaders else None
        while current is not None:
            party.append(current)
            current = orgs[current].parent_id
        assert chain.party == party
        grids = sorted((g for g in model.grids if b.id in g.covers),
                       key=lambda g: (g.kind.value != "micro_grid", g.id))  # fmt: skip
        assert chain.grids == [g.id for g in grids]


@SETTINGS
@given(cs.org_models(), st.integers(1, 12))
def test_liaison_queries_match_records(model, ratio):
    graph = OrgGraph(model)
    up = parents(model)
    by_household = {}
    for li in model.liaisons:
        for h in li.household_ids:
            by_household.setdefault(h, set()).add(li.person_id)
    for h in model.households:
        assert graph.liaisons_of(h.id) == sorted(by_household.get(h.id, ()))
    assert graph.households_without_liaison() == sorted(
        h.id for h in model.households if h.id not in by_household
    )
    load = {}
    for li in model.liaisons:
        load.setdefault(li.person_id, set()).update(li.household_ids)
    for c in model.communities:
        inside = sorted(h.id for h in model.households if c.id in ancestors(up, h.id))
        counted = sum(e.counts.households for e in model.entrances if c.id in ancestors(up, e.id))
        counted += sum(b.counts.households for b in model.buildings
                       if b.counts is not None and c.id in ancestors(up, b.id))  # fmt: skip
        cov = graph.liaison_coverage(c.id, ratio=ratio)
        assert cov.unliaised == [h for h in inside if h not in by_household]
        assert cov.households == counted
        assert cov.households_recorded == len(inside)
        assert cov.liaisons_needed == math.ceil(counted / ratio)
        people = sorted({p for h in inside for p in by_household.get(h, ())})
        assert cov.liaisons == people
        assert cov.overloaded == [p for p in people if len(load[p]) > ratio]


@SETTINGS
@given(cs.org_models())
def test_serving_matches_records(model):
    graph = OrgGraph(model)
    up = parents(model)

    def default(r):
        if r.covers:
            return set(r.covers)
        if type(r).__name__ == "Site":
            return {r.parent_id}
        community_id = getattr(r, "community_id", None)
        return {community_id} if community_id and type(r).__name__ != "Grid" else set()

    places = [*model.units, *model.buildings, *model.entrances, *model.communities]
    for place in places:
        related = {place.id, *ancestors(up, place.id)}
        related |= {n for n in up if place.id in ancestors(up, n)}
        serving = graph.serving(place.id)
        for name, records in (("teams", model.teams), ("sites", model.sites),
                              ("grids", model.grids), ("bodies", model.bodies)):  # fmt: skip
            expected = sorted(r.id for r in records if default(r) & related)
            assert getattr(serving, name) == expected, (place.id, name)


@SETTINGS
@given(cs.org_models(), st.dates() | st.none())
def test_span_of_control_matches_records(model, on):
    graph = OrgGraph(model)
    orgs = [*model.party_orgs, *model.teams, *model.bodies]
    for org in orgs:
        span = graph.span_of_control(org.id, on)
        assert span.subordinates == sorted(p.id for p in model.party_orgs
                                           if p.parent_id == org.id)  # fmt: skip
        assert span.led == sorted(org.leads) if isinstance(org, PartyOrg) else span.led == []
        members = {m.person_id for m in model.memberships
                   if m.organisation_id == org.id and (on is None or m.active_on(on))}  # fmt: skip
        if isinstance(org, PartyOrg):
            members |= {s.person_id for s in org.seats}
        assert span.members == sorted(members)
        assert span.size == len(span.subordinates) + len(span.members)
    for person in model.people:
        households = {h for li in model.liaisons if li.person_id == person.id
                      for h in li.household_ids}  # fmt: skip
        assert graph.span_of_control(person.id).households == sorted(households)


@SETTINGS
@given(cs.org_models(), st.lists(st.integers(0, 14 * 24 * 4), min_size=1, max_size=4))
def test_effective_zone_is_most_restrictive_in_force(model, quarters):
    graph = OrgGraph(model)
    up = parents(model)
    for q in quarters:
        at = EPOCH + timedelta(minutes=15 * q)
        for place in [*model.households, *model.entrances, *model.buildings]:
            chain = {place.id, *ancestors(up, place.id)}
            live = [z for z in model.zones if z.valid.contains(at) and chain & set(z.targets)]
            best = min(live, key=lambda z: (-z.regime.rank, z.id), default=None)
            assert graph.effective_zone(place.id, at) == best
        for b in model.buildings:
            places = [b.id, *(e.id for e in model.entrances if e.parent_id == b.id)]
            ranks = [graph.effective_regime(p, at).rank for p in places]
            assert effective_regime(graph, b.id, at).rank == max(ranks)


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_every_record_strategy_round_trips(data):
    for strategy in (cs.admin_areas(), cs.communities(), cs.neighbourhood_units(), cs.buildings(),
                     cs.entrances(), cs.households(), cs.grids(), cs.bodies(), cs.party_orgs(),
                     cs.teams(), cs.people(), cs.memberships(), cs.liaisons(), cs.sites(),
                     cs.duty_posts(), cs.zone_designations()):  # fmt: skip
        record = data.draw(strategy)
        assert type(record).model_validate_json(record.model_dump_json()) == record


def edges_from_records(model):
    """Every edge, by kind, read off the records alone (the models are valid)."""
    e = {k: set() for k in EdgeKind}
    territorial = [*model.areas, *model.communities, *model.units, *model.buildings,
                   *model.entrances, *model.households]  # fmt: skip
    ids = {r.id for r in territorial}
    for r in territorial:
        if r.parent_id in ids:
            e[EdgeKind.CONTAINS].add((r.parent_id, r.id))
    for p in model.party_orgs:
        e[EdgeKind.LEADS] |= {(p.id, t) for t in p.leads}
        if p.parent_id is not None:
            e[EdgeKind.SUBORDINATE_TO].add((p.id, p.parent_id))
        e[EdgeKind.MEMBER_OF] |= {(s.person_id, p.id) for s in p.seats}
        if p.reports_to_community_id is not None:
            e[EdgeKind.REPORTS_TO].add((p.id, p.reports_to_community_id))
        if p.zone_designation_id is not None:
            e[EdgeKind.ATTACHED_TO].add((p.id, p.zone_designation_id))
    e[EdgeKind.MEMBER_OF] |= {(m.person_id, m.organisation_id) for m in model.memberships}
    for li in model.liaisons:
        e[EdgeKind.LIAISES] |= {(li.person_id, h) for h in li.household_ids}
    for person in model.people:
        if person.home_id is not None:
            e[EdgeKind.RESIDES_IN].add((person.id, person.home_id))
        if person.reports_to_community_id is not None:
            e[EdgeKind.REPORTS_TO].add((person.id, person.reports_to_community_id))
    for r in [*model.grids, *model.teams, *model.sites, *model.bodies]:
        e[EdgeKind.COVERS] |= {(r.id, t) for t in r.covers}
    for g in model.grids:
        e[EdgeKind.LOCATED_IN] |= {(g.id, t) for t in (g.community_id, g.parent_id) if t}
    for r in [*model.teams, *model.bodies]:
        if r.community_id is not None:
            e[EdgeKind.LOCATED_IN].add((r.id, r.community_id))
    for b in model.bodies:
        e[EdgeKind.PARTNERS] |= {(b.id, t) for t in b.partner_community_ids}
    for t in model.teams:
        e[EdgeKind.PARTNERS] |= {(t.id, x) for x in t.partner_ids}
    for s in model.sites:
        e[EdgeKind.LOCATED_IN].add((s.id, s.parent_id))
    for d in model.duty_posts:
        e[EdgeKind.LOCATED_IN].add((d.id, d.site_id))
        if d.zone_designation_id is not None:
            e[EdgeKind.ATTACHED_TO].add((d.id, d.zone_designation_id))
    for z in model.zones:
        e[EdgeKind.DESIGNATES] |= {(z.id, t) for t in z.targets}
    return e


@SETTINGS
@given(cs.org_models())
def test_neighbours_of_every_edge_kind_match_records(model):
    graph = OrgGraph(model)
    expected = edges_from_records(model)
    nxg = graph.to_networkx()
    ids = [r.id for r in model.records()]
    for kind in EdgeKind:
        pairs = expected[kind]
        assert {(u, v) for u, v, k in nxg.edges(data="kind") if k == kind.value} == pairs, kind
        for node in ids:
            for key in (kind, kind.value):
                assert graph.neighbours(node, key) == sorted({v for u, v in pairs if u == node})
                assert graph.neighbours(node, key, incoming=True) == sorted(
                    {u for u, v in pairs if v == node}
                ), (kind, node)
