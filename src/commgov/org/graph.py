"""`OrgGraph`: the organisation model as a typed, validated networkx graph.

Nodes are record ids; the records themselves stay in an id → record mapping beside the graph.
Edges carry their kind (:class:`EdgeKind`). Territory is a tree of ``CONTAINS`` edges whose
parent kinds follow the table in :mod:`commgov.org.territory`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from enum import StrEnum
from typing import Any

import networkx as nx
from pydantic import BaseModel, ConfigDict, Field

from commgov.errors import InputIssue, OrgStructureError
from commgov.org._base import Record
from commgov.org.bodies import Body
from commgov.org.model import OrgModel, _not_a_model
from commgov.org.party import PartyOrg
from commgov.org.people import Liaison, Membership, Person
from commgov.org.sites import DutyPost, Site
from commgov.org.teams import Team
from commgov.org.territory import (
    AdminArea,
    AdminLevel,
    Building,
    Community,
    CommunityKind,
    Entrance,
    Grid,
    Household,
    HouseholdCounts,
    NeighbourhoodKind,
    NeighbourhoodUnit,
)
from commgov.org.zones import ZoneDesignation

__all__ = ["EdgeKind", "NodeKind", "OrgGraph", "SubtreeSummary"]


class NodeKind(StrEnum):
    """Kind of a node in the organisation graph."""

    DISTRICT = "district"
    SUBDISTRICT = "subdistrict"
    COMMUNITY = "community"
    VILLAGE = "village"
    COMPOUND = "compound"
    LANE = "lane"
    COURTYARD = "courtyard"
    BUILDING = "building"
    ENTRANCE = "entrance"
    HOUSEHOLD = "household"
    GRID = "grid"
    BODY = "body"
    PARTY_ORG = "party_org"
    TEAM = "team"
    PERSON = "person"
    MEMBERSHIP = "membership"
    LIAISON = "liaison"
    SITE = "site"
    DUTY_POST = "duty_post"
    ZONE = "zone"


class EdgeKind(StrEnum):
    """Kind of an edge (DESIGN.md, "The organisation model")."""

    CONTAINS = "CONTAINS"
    LEADS = "LEADS"
    SUBORDINATE_TO = "SUBORDINATE_TO"
    MEMBER_OF = "MEMBER_OF"
    LIAISES = "LIAISES"
    REPORTS_TO = "REPORTS_TO"
    COVERS = "COVERS"
    PARTNERS = "PARTNERS"
    RESIDES_IN = "RESIDES_IN"
    LOCATED_IN = "LOCATED_IN"
    DESIGNATES = "DESIGNATES"
    ATTACHED_TO = "ATTACHED_TO"


_K = NodeKind
#: Allowed parent kinds of each territorial kind (DESIGN.md, parent table).
ALLOWED_PARENTS: dict[NodeKind, frozenset[NodeKind]] = {
    _K.DISTRICT: frozenset(),
    _K.SUBDISTRICT: frozenset({_K.DISTRICT}),
    _K.COMMUNITY: frozenset({_K.SUBDISTRICT}),
    _K.VILLAGE: frozenset({_K.SUBDISTRICT}),
    _K.COMPOUND: frozenset({_K.COMMUNITY, _K.VILLAGE}),
    _K.LANE: frozenset({_K.COMMUNITY, _K.VILLAGE}),
    _K.COURTYARD: frozenset({_K.COMMUNITY, _K.VILLAGE, _K.LANE}),
    _K.BUILDING: frozenset({_K.COMPOUND, _K.LANE, _K.COURTYARD}),
    _K.ENTRANCE: frozenset({_K.BUILDING}),
    _K.HOUSEHOLD: frozenset({_K.ENTRANCE, _K.BUILDING}),
}
_TERRITORIAL = frozenset(ALLOWED_PARENTS)
_PLACES = _TERRITORIAL | {_K.SITE}


def _kind_of(record: Record) -> NodeKind:
    if isinstance(record, AdminArea):
        return _K.DISTRICT if record.level is AdminLevel.DISTRICT else _K.SUBDISTRICT
    if isinstance(record, Community):
        return _K.VILLAGE if record.kind is CommunityKind.VILLAGE else _K.COMMUNITY
    if isinstance(record, NeighbourhoodUnit):
        return {
            NeighbourhoodKind.COMPOUND: _K.COMPOUND,
            NeighbourhoodKind.LANE: _K.LANE,
            NeighbourhoodKind.COURTYARD: _K.COURTYARD,
        }[record.kind]
    kinds: dict[type, NodeKind] = {
        Building: _K.BUILDING,
        Entrance: _K.ENTRANCE,
        Household: _K.HOUSEHOLD,
        Grid: _K.GRID,
        Body: _K.BODY,
        PartyOrg: _K.PARTY_ORG,
        Team: _K.TEAM,
        Person: _K.PERSON,
        Membership: _K.MEMBERSHIP,
        Liaison: _K.LIAISON,
        Site: _K.SITE,
        DutyPost: _K.DUTY_POST,
        ZoneDesignation: _K.ZONE,
    }
    return kinds[type(record)]


class SubtreeSummary(BaseModel):
    """What lies under one node of the territory.

    Attributes
    ----------
    id : str
    kind : NodeKind
    nodes : dict of str to int
        Number of descendants of each kind (the node itself excluded).
    counts : HouseholdCounts
        Households, residents and mobility-limited residents under the node, summed over
        entrances and buildings without entrances.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    kind: NodeKind
    nodes: dict[str, int] = Field(default_factory=dict)
    counts: HouseholdCounts = Field(default_factory=HouseholdCounts)


class OrgGraph:
    """A validated graph view of an :class:`~commgov.org.OrgModel`.

    Parameters
    ----------
    model : OrgModel
        The records. The model is not modified.

    Raises
    ------
    commgov.errors.OrgStructureError
        Listing every structural problem: duplicate ids, dangling parent or reference ids,
        parents of a kind not allowed by the parent table, buildings whose household counts
        are missing or given twice (on the building and on its entrances).
    TypeError
        If ``model`` is not an :class:`~commgov.org.OrgModel` (the message says how to make
        one from a dict, JSON text or a file).

    Notes
    -----
    Construction is O(n) in the number of records; summaries of every node are computed in
    one post-order pass on first use. Gusu at entrance level is about 50 k nodes.

    Examples
    --------
    >>> from commgov.datasets import gusu
    >>> g = OrgGraph(gusu())
    >>> g.summary("320508").nodes["community"] + g.summary("320508").nodes["village"]
    171
    """

    def __init__(self, model: OrgModel) -> None:
        if not isinstance(model, OrgModel):
            raise TypeError(_not_a_model("OrgGraph", model))
        self.model = model
        self._records: dict[str, Record] = {}
        self._kinds: dict[str, NodeKind] = {}
        self._g: nx.MultiDiGraph = nx.MultiDiGraph()
        self._parent: dict[str, str] = {}
        self._children: dict[str, list[str]] = {}
        self._summaries: dict[str, SubtreeSummary] | None = None
        issues: list[InputIssue] = []
        for record in model.records():
            kind = _kind_of(record)
            if record.id in self._records:
                issues.append(
                    InputIssue(
                        record.id,
                        "id",
                        record.id,
                        f"duplicate id (also a {self._kinds[record.id]})",
                    )
                )
                continue
            self._records[record.id] = record
            self._kinds[record.id] = kind
            self._g.add_node(record.id, kind=kind.value)
        self._link(issues)
        if issues:
            raise OrgStructureError(issues, what="organisation model structure")

    # -- construction ------------------------------------------------------------------------

    def _link(self, issues: list[InputIssue]) -> None:
        for rid, record in self._records.items():
            kind = self._kinds[rid]
            if kind in _TERRITORIAL:
                self._link_territory(rid, record, kind, issues)
            elif isinstance(record, Person) and record.home_id is not None:
                self._ref(rid, "home_id", record.home_id, _TERRITORIAL, EdgeKind.RESIDES_IN, issues)
            elif isinstance(record, Site):
                self._ref(
                    rid, "parent_id", record.parent_id, _TERRITORIAL, EdgeKind.LOCATED_IN, issues
                )
            elif isinstance(record, ZoneDesignation):
                for target in record.targets:
                    self._ref(rid, "targets", target, _PLACES, EdgeKind.DESIGNATES, issues)
        self._check_household_records(issues)
        for rid, record in self._records.items():
            if isinstance(record, Building):
                has_entrances = any(
                    self._kinds[c] is _K.ENTRANCE for c in self._children.get(rid, [])
                )
                if has_entrances and record.counts is not None:
                    issues.append(
                        InputIssue(
                            rid,
                            "counts",
                            record.counts.model_dump(),
                            "must be empty: households are counted on the entrances",
                        )
                    )
                if not has_entrances and record.counts is None:
                    issues.append(
                        InputIssue(
                            rid,
                            "counts",
                            None,
                            "required: the building has no entrances to count households on",
                        )
                    )

    def _check_household_records(self, issues: list[InputIssue]) -> None:
        """Household records are detail inside their leaf's counts, never more than them."""
        for leaf_id, children in self._children.items():
            records = [self._records[c] for c in children if self._kinds[c] is _K.HOUSEHOLD]
            if not records:
                continue
            counts = _leaf_counts(self._records[leaf_id])
            listed = {
                "households": len(records),
                "residents": sum(h.residents for h in records),  # type: ignore[attr-defined]
                "mobility_limited": sum(h.mobility_limited for h in records),  # type: ignore[attr-defined]
            }
            for field, n in listed.items():
                if n > getattr(counts, field):
                    issues.append(
                        InputIssue(
                            leaf_id,
                            f"counts.{field}",
                            getattr(counts, field),
                            f"is less than its {len(records)} household records hold ({n})",
                        )
                    )

    def _link_territory(
        self, rid: str, record: Record, kind: NodeKind, issues: list[InputIssue]
    ) -> None:
        parent_id: str | None = getattr(record, "parent_id", None)
        if parent_id is None:
            if kind is not _K.DISTRICT:
                issues.append(InputIssue(rid, "parent_id", None, f"a {kind} needs a parent"))
            return
        allowed = ALLOWED_PARENTS[kind]
        if parent_id not in self._records:
            if kind is _K.DISTRICT:
                return  # a district's parent (its city) is not modelled
            issues.append(InputIssue(rid, "parent_id", parent_id, "no record has this id"))
            return
        pkind = self._kinds[parent_id]
        if pkind not in allowed:
            names = ", ".join(sorted(k.value for k in allowed))
            issues.append(
                InputIssue(
                    rid,
                    "parent_id",
                    parent_id,
                    f"a {kind} cannot sit in a {pkind} (allowed: {names})",
                )
            )
            return
        if (
            kind is _K.HOUSEHOLD
            and pkind is _K.BUILDING
            and isinstance(self._records[parent_id], Building)
            and self._records[parent_id].counts is None  # type: ignore[attr-defined]
        ):
            issues.append(
                InputIssue(
                    rid,
                    "parent_id",
                    parent_id,
                    "a household sits in a building only when it has no entrances",
                )
            )
            return
        self._parent[rid] = parent_id
        self._children.setdefault(parent_id, []).append(rid)
        self._g.add_edge(parent_id, rid, key=EdgeKind.CONTAINS.value, kind=EdgeKind.CONTAINS.value)

    def _ref(
        self,
        rid: str,
        field: str,
        target: str,
        allowed: frozenset[NodeKind],
        edge: EdgeKind,
        issues: list[InputIssue],
    ) -> None:
        if target not in self._records:
            issues.append(InputIssue(rid, field, target, "no record has this id"))
        elif self._kinds[target] not in allowed:
            issues.append(
                InputIssue(rid, field, target, f"must name a place, not a {self._kinds[target]}")
            )
        else:
            self._g.add_edge(rid, target, key=edge.value, kind=edge.value)

    # -- queries -----------------------------------------------------------------------------

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._records

    def __len__(self) -> int:
        return len(self._records)

    def record(self, node_id: str) -> Record:
        """The record with this id.

        Raises
        ------
        KeyError
            If no record has the id.
        """
        return self._records[node_id]

    def kind(self, node_id: str) -> NodeKind:
        """The kind of a node."""
        return self._kinds[node_id]

    def parent(self, node_id: str) -> str | None:
        """Territorial parent (``None`` at the root or off the territory)."""
        return self._parent.get(node_id)

    def children(self, node_id: str) -> list[str]:
        """Territorial children, sorted by id."""
        return sorted(self._children.get(node_id, []))

    def ancestors(self, node_id: str) -> list[str]:
        """Territorial chain from the node's parent up to the root (nearest first)."""
        chain = []
        current = self._parent.get(node_id)
        while current is not None:
            chain.append(current)
            current = self._parent.get(current)
        return chain

    def descendants(self, node_id: str, kind: NodeKind | None = None) -> Iterator[str]:
        """Territorial descendants in depth-first, id-sorted order, optionally of one kind."""
        stack = list(reversed(self.children(node_id)))
        while stack:
            current = stack.pop()
            if kind is None or self._kinds[current] is kind:
                yield current
            stack.extend(reversed(self.children(current)))

    def nodes_of_kind(self, kind: NodeKind) -> list[str]:
        """Ids of every node of one kind, sorted."""
        return sorted(i for i, k in self._kinds.items() if k is kind)

    def summary(self, node_id: str) -> SubtreeSummary:
        """Counts of what lies under a territorial node.

        Raises
        ------
        KeyError
            If no record has the id.
        """
        if node_id not in self._records:
            raise KeyError(node_id)
        if self._summaries is None:
            self._summaries = self._summarise()
        return self._summaries[node_id]

    def _summarise(self) -> dict[str, SubtreeSummary]:
        nodes: dict[str, Counter[str]] = {}
        counts: dict[str, HouseholdCounts] = {}
        order = [n for n in nx.topological_sort(self._contains_view())]
        for nid in reversed(order):
            c: Counter[str] = Counter()
            total = _leaf_counts(self._records[nid])
            for child in self._children.get(nid, []):
                c[self._kinds[child].value] += 1
                c.update(nodes[child])
                total = total + counts[child]
            nodes[nid] = c
            counts[nid] = total
        return {
            nid: SubtreeSummary(
                id=nid,
                kind=self._kinds[nid],
                nodes=dict(sorted(nodes[nid].items())),
                counts=counts[nid],
            )
            for nid in order
        }

    def _contains_view(self) -> nx.DiGraph:
        g = nx.DiGraph()
        g.add_nodes_from(sorted(i for i, k in self._kinds.items() if k in _TERRITORIAL))
        g.add_edges_from((p, c) for c, p in self._parent.items())
        return g

    def to_networkx(self) -> nx.MultiDiGraph:
        """A read-only view of the underlying :class:`networkx.MultiDiGraph`.

        Node attribute ``kind``; edge key and attribute ``kind`` (an :class:`EdgeKind` value).
        """
        view: nx.MultiDiGraph = self._g.copy(as_view=True)
        return view

    def stats(self) -> dict[str, Any]:
        """Number of nodes per kind and edges per kind."""
        edges = Counter(k for _, _, k in self._g.edges(keys=True))
        return {
            "nodes": dict(sorted(Counter(k.value for k in self._kinds.values()).items())),
            "edges": dict(sorted(edges.items())),
        }


def _leaf_counts(record: Record) -> HouseholdCounts:
    if isinstance(record, Entrance):
        return record.counts
    if isinstance(record, Building) and record.counts is not None:
        return record.counts
    return HouseholdCounts()
