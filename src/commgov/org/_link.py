"""Building and checking the organisation graph: one pass over the records, every issue kept.

Rules: the territorial parent table (``ALLOWED_PARENTS``), party levels (中国共产党支部工作条例
（试行）, 2018), grids, bodies, zones and rulebooks (the documents named in each rulebook).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import networkx as nx

from commgov._perf import gc_paused
from commgov.errors import InputIssue
from commgov.org._base import Record
from commgov.org._bodies import Body, BodyKind
from commgov.org._kinds import (
    ALLOWED_PARENTS,
    COMMUNITIES,
    COVER_TARGETS,
    LEAD_TARGETS,
    ORGANISATIONS,
    PLACES,
    TERRITORIAL,
    UNITS,
    EdgeKind,
    NodeKind,
    kind_of,
)
from commgov.org._model import OrgModel
from commgov.org._party import ALLOWED_PARENT_LEVELS, PartyOrg, PartyOrgKind
from commgov.org._people import Liaison, Membership, Person, Role
from commgov.org._sites import DutyPost, Site
from commgov.org._teams import Team
from commgov.org._territory import Building, Entrance, Grid, GridKind, HouseholdCounts
from commgov.org._text import article
from commgov.org._zones import RULEBOOKS, ZoneDesignation

_K = NodeKind
_E = EdgeKind


def leaf_counts(record: Record) -> HouseholdCounts:
    """Households counted on a record: an entrance, or a building without entrances."""
    if isinstance(record, Entrance):
        return record.counts
    if isinstance(record, Building) and record.counts is not None:
        return record.counts
    return _NO_COUNTS


_NO_COUNTS = HouseholdCounts()  # frozen, so one shared instance serves every non-leaf


_CONTAINS = _E.CONTAINS.value
_PARENT_NAMES = {k.value: frozenset(p.value for p in v) for k, v in ALLOWED_PARENTS.items()}
_CONTAINS_ATTRS = {"kind": _CONTAINS}  # networkx copies attribute dicts: one can be shared


@dataclass
class Index:
    """The records, their edges and the indexes queries need, built once.

    The networkx graph is made from ``edges`` on first request (:meth:`networkx_graph`):
    queries use the plain dicts, which are several times faster to build.
    """

    records: dict[str, Record] = field(default_factory=dict)
    kinds: dict[str, NodeKind] = field(default_factory=dict)
    kind_names: dict[str, str] = field(default_factory=dict)
    edges: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)
    parent: dict[str, str] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)
    out: dict[EdgeKind, dict[str, list[str]]] = field(
        default_factory=lambda: {k: {} for k in EdgeKind}
    )
    into: dict[EdgeKind, dict[str, list[str]]] = field(
        default_factory=lambda: {k: {} for k in EdgeKind}
    )
    #: organisation → (person, MEMBER_OF edge attributes), for membership queries
    members: dict[str, list[tuple[str, dict[str, Any]]]] = field(default_factory=dict)
    _g: nx.MultiDiGraph | None = None

    def edge(self, u: str, v: str, kind: EdgeKind, key: str | None = None, **attrs: Any) -> None:
        attrs["kind"] = kind.value
        self.edges.append((u, v, key or kind.value, attrs))
        self.out[kind].setdefault(u, []).append(v)
        self.into[kind].setdefault(v, []).append(u)
        if kind is _E.MEMBER_OF:
            self.members.setdefault(v, []).append((u, attrs))

    def networkx_graph(self) -> nx.MultiDiGraph:
        """The MultiDiGraph of every node (memberships and liaisons are edges) and edge."""
        if self._g is None:
            g = nx.MultiDiGraph()
            g.add_nodes_from(
                (rid, {"kind": k.value})
                for rid, k in self.kinds.items()
                if k not in (_K.MEMBERSHIP, _K.LIAISON)
            )
            g.add_edges_from(self.edges)
            self._g = g
        return self._g

    def community_of(self, node_id: str) -> str | None:
        current: str | None = node_id
        while current is not None:
            if self.kinds.get(current) in COMMUNITIES:
                return current
            current = self.parent.get(current)
        return None


class _Builder:
    def __init__(self, model: OrgModel) -> None:
        self.ix = Index()
        self.issues: list[InputIssue] = []
        self.tz = ZoneInfo(model.timezone)
        self.committees: dict[str, str] = {}  # community id → its committee's id
        self.members: list[Membership] = []  # linked last, once every person is known

    def issue(self, record: str, fieldname: str, value: object, constraint: str) -> None:
        self.issues.append(InputIssue(record, fieldname, value, constraint))

    def ref(
        self, rid: str, fieldname: str, target: str, allowed: frozenset[NodeKind], what: str
    ) -> bool:
        """Whether ``target`` names a record of an allowed kind (else an issue is kept)."""
        kind = self.ix.kinds.get(target)
        if kind is None:
            self.issue(rid, fieldname, target, "no record has this id")
            return False
        if kind not in allowed:
            self.issue(rid, fieldname, target, f"must name {what}, not {article(kind)}")
            return False
        return True

    # -- territory ------------------------------------------------------------------------

    def territory(self) -> None:
        """Link the ``CONTAINS`` tree. Kinds are compared as plain strings here: enum hashing
        runs in Python and this loop visits every territorial record (≈ 90 k for Gusu)."""
        ix = self.ix
        names = ix.kind_names
        records = ix.records
        parent_of = ix.parent
        children = ix.children
        edges = ix.edges
        for rid, kname in names.items():
            allowed = _PARENT_NAMES.get(kname)
            if allowed is None:
                continue
            record = records[rid]
            parent_id: str | None = record.parent_id  # type: ignore[attr-defined]
            if parent_id is None:
                if kname != "district":
                    self.issue(rid, "parent_id", None, f"{article(kname)} needs a parent")
                continue
            pkind = names.get(parent_id)
            if pkind is None:
                if kname != "district":  # a district's parent (its city) is not modelled
                    self.issue(rid, "parent_id", parent_id, "no record has this id")
                continue
            if pkind not in allowed:
                self.issue(
                    rid, "parent_id", parent_id,
                    f"{article(kname)} cannot sit in {article(pkind)} "
                    f"(allowed: {', '.join(sorted(allowed))})",
                )  # fmt: skip
                continue
            if (
                kname == "household"
                and pkind == "building"
                and records[parent_id].counts is None  # type: ignore[attr-defined]
            ):
                self.issue(
                    rid,
                    "parent_id",
                    parent_id,
                    "a household sits in a building only when it has no entrances",
                )
                continue
            parent_of[rid] = parent_id
            if parent_id in children:
                children[parent_id].append(rid)
            else:
                children[parent_id] = [rid]
            edges.append((parent_id, rid, _CONTAINS, _CONTAINS_ATTRS))
        # CONTAINS edges skip :meth:`Index.edge` for speed: index them for neighbours() here,
        # so out/into agree with ``edges`` for every kind.
        ix.out[_E.CONTAINS] = children
        ix.into[_E.CONTAINS] = {c: [p] for c, p in parent_of.items()}

    def counts(self) -> None:
        ix = self.ix
        names = ix.kind_names
        for rid, record in ix.records.items():
            if names[rid] != "building":
                continue
            assert isinstance(record, Building)
            has_entrances = any(names[c] == "entrance" for c in ix.children.get(rid, ()))
            if has_entrances and record.counts is not None:
                self.issue(
                    rid,
                    "counts",
                    record.counts.model_dump(),
                    "must be empty: households are counted on the entrances",
                )
            if not has_entrances and record.counts is None:
                self.issue(
                    rid,
                    "counts",
                    None,
                    "required: the building has no entrances to count households on",
                )
        for leaf_id, kids in ix.children.items():
            records = [ix.records[c] for c in kids if names[c] == "household"]
            if not records:
                continue
            counts = leaf_counts(ix.records[leaf_id])
            listed = {
                "households": len(records),
                "residents": sum(h.residents for h in records),  # type: ignore[attr-defined]
                "mobility_limited": sum(h.mobility_limited for h in records),  # type: ignore[attr-defined]
            }
            for name, n in listed.items():
                if n > getattr(counts, name):
                    self.issue(
                        leaf_id,
                        f"counts.{name}",
                        getattr(counts, name),
                        f"is less than its {len(records)} household records hold ({n})",
                    )

    # -- overlay --------------------------------------------------------------------------

    def covers(
        self, rid: str, targets: Iterable[str], allowed: frozenset[NodeKind], what: str,
        community: str | None,
    ) -> None:  # fmt: skip
        for target in targets:
            if not self.ref(rid, "covers", target, allowed, what):
                continue
            if community is not None and self.ix.community_of(target) not in (community, None):
                self.issue(rid, "covers", target, f"must lie in community {community}")
                continue
            self.ix.edge(rid, target, _E.COVERS)

    def located(self, rid: str, fieldname: str, target: str, allowed: frozenset[NodeKind],
                what: str) -> bool:  # fmt: skip
        if self.ref(rid, fieldname, target, allowed, what):
            self.ix.edge(rid, target, _E.LOCATED_IN)
            return True
        return False

    def grid(self, rid: str, g: Grid) -> None:
        ix = self.ix
        if not self.located(rid, "community_id", g.community_id, COMMUNITIES, "a community"):
            return
        if g.parent_id is not None and self.located(
            rid, "parent_id", g.parent_id, frozenset({_K.GRID}), "a grid"
        ):
            parent = ix.records[g.parent_id]
            assert isinstance(parent, Grid)
            if parent.kind is not GridKind.GRID:
                self.issue(rid, "parent_id", g.parent_id, "must name a grid, not a micro-grid")
            elif parent.community_id != g.community_id:
                self.issue(
                    rid, "parent_id", g.parent_id,
                    f"must be a grid of the same community ({g.community_id})",
                )  # fmt: skip
            else:
                outside = sorted(set(g.covers) - set(parent.covers))
                if outside:
                    self.issue(
                        rid, "covers", outside,
                        f"a micro-grid covers only buildings of its grid {g.parent_id}",
                    )  # fmt: skip
        self.covers(rid, g.covers, frozenset({_K.BUILDING}), "a building", g.community_id)

    def body(self, rid: str, b: Body) -> None:
        ix = self.ix
        if self.located(rid, "community_id", b.community_id, COMMUNITIES, "a community"):
            ckind = ix.kinds[b.community_id]
            if b.kind is BodyKind.RESIDENTS_COMMITTEE and ckind is not _K.COMMUNITY:
                self.issue(rid, "kind", b.kind.value, "a residents' committee serves a community")
            if b.kind is BodyKind.VILLAGERS_COMMITTEE and ckind is not _K.VILLAGE:
                self.issue(rid, "kind", b.kind.value, "a villagers' committee serves a village")
            if b.kind in (BodyKind.RESIDENTS_COMMITTEE, BodyKind.VILLAGERS_COMMITTEE):
                other = self.committees.setdefault(b.community_id, rid)
                if other != rid:
                    self.issue(
                        rid, "community_id", b.community_id,
                        f"already has a committee ({other}): one per community",
                    )  # fmt: skip
            self.covers(rid, b.covers, UNITS | {_K.BUILDING}, "a neighbourhood unit or building",
                        b.community_id)  # fmt: skip
        for target in b.partner_community_ids:
            if self.ref(rid, "partner_community_ids", target, COMMUNITIES, "a community"):
                ix.edge(rid, target, _E.PARTNERS)

    def team(self, rid: str, t: Team) -> None:
        community = None
        if t.community_id is not None and self.located(
            rid, "community_id", t.community_id, COMMUNITIES, "a community"
        ):
            community = t.community_id
        self.covers(rid, t.covers, COVER_TARGETS, "a place", community)
        for target in t.partner_ids:
            if self.ref(
                rid, "partner_ids", target, COMMUNITIES | {_K.BODY}, "a community or a body"
            ):
                self.ix.edge(rid, target, _E.PARTNERS)

    def party_org(self, rid: str, p: PartyOrg) -> None:
        ix = self.ix
        if p.parent_id is not None and self.ref(
            rid, "parent_id", p.parent_id, frozenset({_K.PARTY_ORG}), "a party organisation"
        ):
            parent = ix.records[p.parent_id]
            assert isinstance(parent, PartyOrg)
            allowed = ALLOWED_PARENT_LEVELS[p.level]
            if parent.level not in allowed:
                names = ", ".join(sorted(v.value for v in allowed))
                self.issue(
                    rid, "parent_id", p.parent_id,
                    f"{article(p.level)} cannot be subordinate to {article(parent.level)} "
                    f"(allowed: {names})",
                )  # fmt: skip
            ix.edge(rid, p.parent_id, _E.SUBORDINATE_TO)
        for target in p.leads:
            if self.ref(rid, "leads", target, LEAD_TARGETS, "a place, grid, team or body"):
                ix.edge(rid, target, _E.LEADS)
        if p.kind is PartyOrgKind.CO_GOVERNANCE and not any(
            ix.kinds.get(t) in UNITS for t in p.leads
        ):
            self.issue(
                rid, "leads", p.leads,
                "a co-governance party organisation leads a compound, lane or courtyard",
            )  # fmt: skip
        if p.zone_designation_id is not None and self.ref(
            rid, "zone_designation_id", p.zone_designation_id, frozenset({_K.ZONE}),
            "a zone designation",
        ):  # fmt: skip
            ix.edge(rid, p.zone_designation_id, _E.ATTACHED_TO)
            zone = ix.records[p.zone_designation_id]
            assert isinstance(zone, ZoneDesignation) and p.valid is not None
            if not zone.valid.contains(p.valid):
                self.issue(
                    rid, "valid", _window(p.valid),
                    f"an action branch exists only while its zone designation "
                    f"{zone.id} is in force ({_window(zone.valid)})",
                )  # fmt: skip
        if p.reports_to_community_id is not None and self.ref(
            rid, "reports_to_community_id", p.reports_to_community_id, COMMUNITIES, "a community"
        ):
            ix.edge(rid, p.reports_to_community_id, _E.REPORTS_TO)
        for i, seat in enumerate(p.seats):
            if self.ref(rid, f"seats.{i}.person_id", seat.person_id, frozenset({_K.PERSON}),
                        "a person"):  # fmt: skip
                ix.edge(
                    seat.person_id, rid, _E.MEMBER_OF, key=f"MEMBER_OF:{rid}#seat",
                    seat=True, title=seat.title, part_time=seat.part_time,
                )  # fmt: skip
            if seat.home_body_id is not None:
                self.ref(rid, f"seats.{i}.home_body_id", seat.home_body_id,
                         frozenset({_K.BODY}), "a body")  # fmt: skip

    def party_cycles(self) -> None:
        """One issue per cycle of ``SUBORDINATE_TO`` (each org has at most one parent)."""
        ix = self.ix
        up = {u: vs[0] for u, vs in ix.out[_E.SUBORDINATE_TO].items()}
        state: dict[str, int] = {}  # 1 = on the current path, 2 = done
        for start in sorted(up):
            path: list[str] = []
            node: str | None = start
            while node is not None and state.get(node) is None:
                state[node] = 1
                path.append(node)
                node = up.get(node)
            if node is not None and state[node] == 1:
                cycle = path[path.index(node) :]
                first = min(cycle)
                turn = cycle[cycle.index(first) :] + cycle[: cycle.index(first)]
                self.issue(
                    first, "parent_id", up[first],
                    "the party hierarchy has a cycle: " + " → ".join([*turn, first]),
                )  # fmt: skip
            for n in path:
                state[n] = 2

    def person(self, rid: str, p: Person) -> None:
        ix = self.ix
        if p.home_id is not None and self.ref(rid, "home_id", p.home_id, TERRITORIAL, "a place"):
            ix.edge(rid, p.home_id, _E.RESIDES_IN)
        if p.reports_to_community_id is not None and self.ref(
            rid, "reports_to_community_id", p.reports_to_community_id, COMMUNITIES, "a community"
        ):
            home = ix.community_of(p.home_id) if p.home_id in ix.kinds else None
            if home is not None and home != p.reports_to_community_id:
                self.issue(
                    rid, "reports_to_community_id", p.reports_to_community_id,
                    f"an in-service member reports to the community where they live ({home})",
                )  # fmt: skip
            else:
                ix.edge(rid, p.reports_to_community_id, _E.REPORTS_TO)

    def membership(self, rid: str, m: Membership) -> None:
        self.members.append(m)

    def memberships(self) -> None:
        ix = self.ix
        by_pair: dict[tuple[str, str], list[Membership]] = {}
        for m in self.members:
            ok = self.ref(m.id, "person_id", m.person_id, frozenset({_K.PERSON}), "a person")
            ok &= self.ref(m.id, "organisation_id", m.organisation_id, ORGANISATIONS,
                           "a party organisation, team or body")  # fmt: skip
            if not ok:
                continue
            org = ix.records[m.organisation_id]
            if isinstance(org, PartyOrg):
                person = ix.records[m.person_id]
                assert isinstance(person, Person)
                if Role.PARTY_MEMBER not in person.roles:
                    self.issue(
                        m.id, "person_id", m.person_id,
                        "a member of a party organisation has the role 'party_member'",
                    )  # fmt: skip
                if org.valid is not None:
                    first = org.valid.start.astimezone(self.tz).date()
                    last = (org.valid.end - timedelta(microseconds=1)).astimezone(self.tz).date()
                    for name, day in (("start", m.start), ("end", m.end)):
                        if day is not None and not first <= day <= last:
                            self.issue(
                                m.id, name, day.isoformat(),
                                f"must lie within the life of {org.id} "
                                f"({first.isoformat()} to {last.isoformat()})",
                            )  # fmt: skip
            by_pair.setdefault((m.person_id, m.organisation_id), []).append(m)
            ix.edge(
                m.person_id, m.organisation_id, _E.MEMBER_OF, key=f"MEMBER_OF:{m.id}",
                record=m.id, role=m.role.value, start=m.start, end=m.end,
            )  # fmt: skip
        for (pid, oid), ms in by_pair.items():
            ms = sorted(ms, key=lambda m: (m.start or date.min, m.id))
            for a, b in pairwise(ms):
                if a.end is None or (b.start or date.min) <= a.end:
                    self.issue(
                        b.id, "start", b.start.isoformat() if b.start else None,
                        f"overlaps membership {a.id} of {pid} in {oid}",
                    )  # fmt: skip

    def liaison(self, rid: str, li: Liaison) -> None:
        if not self.ref(rid, "person_id", li.person_id, frozenset({_K.PERSON}), "a person"):
            return
        for hid in li.household_ids:
            if self.ref(rid, "household_ids", hid, frozenset({_K.HOUSEHOLD}), "a household"):
                self.ix.edge(li.person_id, hid, _E.LIAISES, key=f"LIAISES:{rid}", record=rid)

    def site(self, rid: str, s: Site) -> None:
        self.located(rid, "parent_id", s.parent_id, TERRITORIAL, "a place")
        self.covers(rid, s.covers, COVER_TARGETS, "a place", None)

    def duty_post(self, rid: str, d: DutyPost) -> None:
        self.located(rid, "site_id", d.site_id, frozenset({_K.SITE}), "a site")
        if d.zone_designation_id is not None and self.ref(
            rid, "zone_designation_id", d.zone_designation_id, frozenset({_K.ZONE}),
            "a zone designation",
        ):  # fmt: skip
            self.ix.edge(rid, d.zone_designation_id, _E.ATTACHED_TO)

    def zone(self, rid: str, z: ZoneDesignation) -> None:
        book = RULEBOOKS.get(z.rulebook_version)
        rule = None
        if book is None:
            self.issue(rid, "rulebook_version", z.rulebook_version,
                       f"unknown rulebook (known: {', '.join(RULEBOOKS)})")  # fmt: skip
        elif z.regime not in book.rules:
            names = ", ".join(r.value for r in book.rules)
            self.issue(rid, "regime", z.regime.value,
                       f"is not a regime of rulebook {book.version} ({names})")  # fmt: skip
        else:
            rule = book.rules[z.regime]
        for target in z.targets:
            if not self.ref(rid, "targets", target, PLACES, "a place"):
                continue
            kind = self.ix.kinds[target]
            if rule is not None and rule.target_kinds is not None and kind not in rule.target_kinds:
                self.issue(
                    rid, "targets", target,
                    f"under {z.rulebook_version} {article(z.regime)} designation targets only "
                    f"{', '.join(rule.target_kinds)}, not {article(kind)}",
                )  # fmt: skip
            self.ix.edge(rid, target, _E.DESIGNATES)


#: How each non-territorial record type is linked (by exact type, as :func:`kind_of`).
_LINKS: dict[type[Record], Callable[[_Builder, str, Any], None]] = {
    Grid: _Builder.grid,
    Body: _Builder.body,
    Team: _Builder.team,
    PartyOrg: _Builder.party_org,
    Person: _Builder.person,
    Membership: _Builder.membership,
    Liaison: _Builder.liaison,
    Site: _Builder.site,
    DutyPost: _Builder.duty_post,
    ZoneDesignation: _Builder.zone,
}


def _window(w: Any) -> str:
    start: datetime = w.start
    end: datetime = w.end
    return f"[{start.isoformat()}, {end.isoformat()})"


def build(model: OrgModel) -> tuple[Index, list[InputIssue]]:
    """Index every record of ``model`` and link it, keeping every issue found.

    Records are visited collection by collection in id order, so issues come out in a stable
    order whatever the input order.
    """
    # The indexes are acyclic, so the cyclic collector has nothing to find while they are
    # built; left on, its full passes over the model's ≈ 10⁶ objects double the build time.
    with gc_paused():
        return _build(model)


def _build(model: OrgModel) -> tuple[Index, list[InputIssue]]:
    b = _Builder(model)
    ix = b.ix
    for record in model.records():
        kind = kind_of(record)
        if record.id in ix.records:
            also = article(ix.kinds[record.id])
            b.issue(record.id, "id", record.id, f"duplicate id (also {also})")
            continue
        ix.records[record.id] = record
        ix.kinds[record.id] = kind
        ix.kind_names[record.id] = kind.value
    b.territory()
    b.counts()
    for rid, record in ix.records.items():
        link = _LINKS.get(type(record))  # territorial records are linked by territory()
        if link is not None:
            link(b, rid, record)
    b.memberships()
    b.party_cycles()
    return ix, b.issues
