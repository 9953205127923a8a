"""`OrgGraph`: the organisation model as a typed, validated networkx graph.

Nodes are record ids; the records themselves stay in an id → record mapping beside the graph.
Edges carry their kind (:class:`EdgeKind`): the territorial tree (``CONTAINS``, parent kinds
as in :mod:`commgov.org._territory`), the party hierarchy (``SUBORDINATE_TO``), accountability
(``LEADS``), memberships and seats (``MEMBER_OF``), "1+10+N" liaison (``LIAISES``), dual
reporting (``REPORTS_TO``), coverage (``COVERS``) and co-building (``PARTNERS``); see
docs/architecture.md.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import networkx as nx

from commgov._perf import gc_paused
from commgov.errors import OrgStructureError, UnknownIdError
from commgov.org._args import day, edge_kind, instant, known_id, node_kind
from commgov.org._base import Record
from commgov.org._bodies import Body
from commgov.org._kinds import TERRITORIAL, EdgeKind, NodeKind
from commgov.org._link import build, leaf_counts
from commgov.org._model import OrgModel, _not_a_model
from commgov.org._party import PartyOrg
from commgov.org._sites import Site
from commgov.org._teams import Team
from commgov.org._territory import GridKind, HouseholdCounts
from commgov.org._text import article
from commgov.org._views import (
    ChainOfCommand,
    LiaisonCoverage,
    Serving,
    SpanOfControl,
    SubtreeSummary,
)
from commgov.org._zones import RULEBOOKS, THREE_ZONE_2021, ZoneDesignation, ZoneRegime

__all__ = [
    "ChainOfCommand",
    "EdgeKind",
    "LiaisonCoverage",
    "NodeKind",
    "OrgGraph",
    "Serving",
    "SpanOfControl",
    "SubtreeSummary",
    "UnknownIdError",
]

#: Position of each territorial kind in a subtree vector (see ``OrgGraph._aggregate``).
_KIND_SLOT: dict[str, int] = {k: i for i, k in enumerate(sorted(t.value for t in TERRITORIAL))}

_K = NodeKind
_E = EdgeKind

#: Default "1+10+N" ratio: households per liaison (a setting, not a rule).
LIAISON_RATIO = 10


class OrgGraph:
    """A validated graph view of an :class:`~commgov.org.OrgModel`.

    Thread safety: a graph is read-only once built; its lazily computed summaries and
    coverage are whole values cached idempotently, so one graph may serve concurrent
    requests and :mod:`commgov.jobs` (tested with eight threads building and solving from
    one graph: identical bytes).

    Parameters
    ----------
    model : OrgModel
        The records. The model is not modified.

    Raises
    ------
    commgov.errors.OrgStructureError
        Listing every structural problem, each naming record, field and value: duplicate ids;
        dangling ids; references to a record of the wrong kind (parent kinds of the territory,
        what a party organisation may lead, be subordinate to or be tied to; what a team, site,
        grid or body may cover; members of something that is not an organisation); household
        counts missing, given twice or below the household records; a cycle in the party
        hierarchy; party levels out of order (a branch over a committee); a co-governance
        organisation leading no neighbourhood unit; an action branch outliving its zone
        designation; membership dates outside a temporary organisation's life or
        overlapping another membership of the same person in the same organisation; party
        memberships of people without the party-member role; 双报到 to a community other
        than the member's home; micro-grids outside their grid; coverage outside the
        community; two committees in one community; zone designations under an unknown
        rulebook, with a regime the rulebook lacks or a target level it refuses.
    TypeError
        If ``model`` is not an :class:`~commgov.org.OrgModel` (the message says how to make
        one from a dict, JSON text or a file).

    Every query checks its arguments first: an id not in the model raises
    :class:`UnknownIdError` (a :class:`KeyError` naming the id), a kind may be the enum or its
    string value (else :class:`ValueError`), an instant ``at`` must be a timezone-aware
    datetime and a day ``on`` a date (else :class:`TypeError`, or :class:`ValueError` for a
    naive datetime).

    Notes
    -----
    Construction is O(n + e) in records and references; the networkx graph is built on the
    first call of :meth:`to_networkx`, summaries in one post-order pass on first use. Gusu at
    entrance level is about 50 k nodes. Rules come from the territorial tree, the party
    regulations (中国共产党支部工作条例（试行）, 2018) and the zone documents named in each
    rulebook; the terms are in docs/glossary.md.

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
        ix, issues = build(model)
        if issues:
            raise OrgStructureError(issues, what="organisation model structure")
        self._ix = ix
        self._records = ix.records
        self._kinds = ix.kinds
        self._parent = ix.parent
        self._children = ix.children
        self._summaries: dict[str, SubtreeSummary] = {}
        self._aggregates: dict[str, list[int]] = {}
        self._served: dict[str, list[str]] | None = None

    # -- records and the territory ------------------------------------------------------------

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._records

    def __len__(self) -> int:
        return len(self._records)

    def record(self, node_id: str) -> Record:
        """The record with this id.

        Raises
        ------
        UnknownIdError
            If no record has the id (a :class:`KeyError`; so do all queries given an id that
            is not in the model).
        """
        return self._records[known_id(self._records, node_id)]

    def kind(self, node_id: str) -> NodeKind:
        """The kind of a record."""
        return self._kinds[known_id(self._records, node_id)]

    def parent(self, node_id: str) -> str | None:
        """Territorial parent (``None`` at the root or off the territory)."""
        return self._parent.get(known_id(self._records, node_id))

    def children(self, node_id: str) -> list[str]:
        """Territorial children, sorted by id."""
        return sorted(self._children.get(known_id(self._records, node_id), []))

    def ancestors(self, node_id: str) -> list[str]:
        """Territorial chain from the node's parent up to the root (nearest first)."""
        chain = []
        current = self._parent.get(known_id(self._records, node_id))
        while current is not None:
            chain.append(current)
            current = self._parent.get(current)
        return chain

    def descendants(self, node_id: str, kind: NodeKind | str | None = None) -> Iterator[str]:
        """Territorial descendants in depth-first, id-sorted order, optionally of one kind.

        ``kind`` is a :class:`NodeKind` or its string value (``"building"``); it is checked
        when this is called, not when the iterator is first advanced.

        Raises
        ------
        ValueError
            If ``kind`` is not a node kind.
        """
        wanted = None if kind is None else node_kind(kind)
        return self._descendants(known_id(self._records, node_id), wanted)

    def _descendants(self, node_id: str, kind: NodeKind | None) -> Iterator[str]:
        children = self._children
        stack = sorted(children.get(node_id, ()), reverse=True)
        while stack:
            current = stack.pop()
            if kind is None or self._kinds[current] is kind:
                yield current
            stack.extend(sorted(children.get(current, ()), reverse=True))

    def nodes_of_kind(self, kind: NodeKind | str) -> list[str]:
        """Ids of every record of one kind (a :class:`NodeKind` or its value), sorted.

        Raises
        ------
        ValueError
            If ``kind`` is not a node kind.
        """
        wanted = node_kind(kind)
        return sorted(i for i, k in self._kinds.items() if k is wanted)

    def community_of(self, node_id: str) -> str | None:
        """The community (or village) a territorial node lies in, itself for a community.

        ``None`` above community level. For a site, the community of the place it stands in.

        Raises
        ------
        UnknownIdError
            If no record has the id.
        """
        return self._ix.community_of(self._place_chain(node_id)[0])

    def neighbours(
        self, node_id: str, kind: EdgeKind | str, *, incoming: bool = False
    ) -> list[str]:
        """Ids at the other end of a node's edges of one kind, sorted, each once.

        Parameters
        ----------
        node_id : str
        kind : EdgeKind or str
            The enum or its value (``"CONTAINS"``).
        incoming : bool, default False
            Follow edges into the node instead of out of it.

        Raises
        ------
        ValueError
            If ``kind`` is not an edge kind.
        """
        index = self._ix.into if incoming else self._ix.out
        wanted = edge_kind(kind)
        return sorted(set(index[wanted].get(known_id(self._records, node_id), ())))

    # -- summaries ---------------------------------------------------------------------------

    def summary(self, node_id: str) -> SubtreeSummary:
        """Counts of what lies under a territorial node.

        Computed on first request for the node's subtree only (one post-order pass, memoised
        per node), so asking for a community does not summarise the whole district.

        Raises
        ------
        UnknownIdError
            If no record has the id.
        ValueError
            If the record is not a territorial place.
        """
        self._check_territorial(known_id(self._records, node_id), "not a territorial place")
        cached = self._summaries.get(node_id)
        if cached is None:
            with gc_paused():  # acyclic vectors: nothing for the collector to find
                vector = self._aggregate(node_id)
            kinds = {
                kind: vector[i] for kind, i in _KIND_SLOT.items() if vector[i]
            }
            households, residents, limited = vector[-3:]
            cached = SubtreeSummary(
                id=node_id,
                kind=self._kinds[node_id],
                nodes=dict(sorted(kinds.items())),
                counts=HouseholdCounts(
                    households=households, residents=residents, mobility_limited=limited
                ),
            )
            self._summaries[node_id] = cached
        return cached

    def _aggregate(self, node_id: str) -> list[int]:
        """Descendants per kind, then households, residents and mobility-limited residents.

        One vector per node, filled by an iterative post-order pass and memoised.
        """
        agg = self._aggregates
        width = len(_KIND_SLOT) + 3
        stack: list[tuple[str, bool]] = [(node_id, False)]
        while stack:
            nid, expanded = stack.pop()
            if nid in agg:
                continue
            children = self._children.get(nid, [])
            if not expanded:
                stack.append((nid, True))
                stack.extend((child, False) for child in children if child not in agg)
                continue
            vector = [0] * width
            own = leaf_counts(self._records[nid])
            vector[-3:] = [own.households, own.residents, own.mobility_limited]
            for child in children:
                vector[_KIND_SLOT[self._kinds[child].value]] += 1
                for i, v in enumerate(agg[child]):
                    if v:
                        vector[i] += v
            agg[nid] = vector
        return agg[node_id]

    # -- chain of command ---------------------------------------------------------------------

    def _check_territorial(self, node_id: str, expected: str) -> None:
        """Raise ValueError unless the (known) record is a territorial place."""
        if self._kinds[node_id] not in TERRITORIAL:
            raise ValueError(f"{node_id} is {article(self._kinds[node_id])}, {expected}")

    def _place_chain(self, node_id: str) -> list[str]:
        """The place and its territorial ancestors; a site stands in for its parent place."""
        record = self._records[known_id(self._records, node_id)]
        if isinstance(record, Site):
            return [node_id, record.parent_id, *self.ancestors(record.parent_id)]
        self._check_territorial(node_id, "not a place")
        return [node_id, *self.ancestors(node_id)]

    def _in_force(self, org_id: str, at: datetime | None) -> bool:
        org = self._records[org_id]
        assert isinstance(org, PartyOrg)
        return at is None or org.valid is None or org.valid.contains(at)

    def leaders(self, place_id: str, at: datetime | None = None) -> list[str]:
        """Party organisations that ``LEADS`` a place, lowest level first, then by id.

        Parameters
        ----------
        place_id : str
        at : datetime, optional
            Timezone-aware instant: keep only organisations in force then (a temporary action
            branch only within its ``valid`` window). ``None``: all.

        Raises
        ------
        UnknownIdError
            If no record has the id.
        TypeError, ValueError
            If ``at`` is not a datetime, or is naive.
        """
        if at is not None:
            instant(at)
        orgs = [o for o in self.neighbours(place_id, _E.LEADS, incoming=True)
                if self._kinds[o] is _K.PARTY_ORG and self._in_force(o, at)]  # fmt: skip
        return sorted(orgs, key=lambda o: (self._records[o].level.rank, o))  # type: ignore[attr-defined]

    def chain_of_command(self, place_id: str, at: datetime | None = None) -> ChainOfCommand:
        """Who a building (or any place) answers to, territorially and in the party.

        Parameters
        ----------
        place_id : str
            A building usually; any territorial place (or a site) works.
        at : datetime, optional
            Timezone-aware instant for temporary organisations (see :meth:`leaders`).

        Returns
        -------
        ChainOfCommand
            Territorial ancestors, covering grids, the leaders of each level, and the party
            chain from the lowest organisation leading the nearest led level up the
            ``SUBORDINATE_TO`` edges (党委抓支部、支部管党员、党员带群众).

        Raises
        ------
        UnknownIdError
            If no record has the id.
        ValueError
            If the record is not a place, or ``at`` is naive.
        TypeError
            If ``at`` is not a datetime.

        Examples
        --------
        >>> from commgov.datasets import gusu
        >>> g = OrgGraph(gusu())
        >>> b = next(g.descendants("320508017016", NodeKind.BUILDING))
        >>> g.chain_of_command(b).territorial[-3:]
        ['320508017016', '320508017', '320508']
        """
        if at is not None:
            instant(at)
        chain = self._place_chain(place_id)
        building = next(
            (p for p in chain if self._kinds.get(p) is _K.BUILDING), chain[0]
        )
        grids = [g for g in self.neighbours(building, _E.COVERS, incoming=True)
                 if self._kinds[g] is _K.GRID]  # fmt: skip
        grids.sort(key=lambda g: (self._records[g].kind is not GridKind.MICRO_GRID, g))  # type: ignore[attr-defined]
        leaders: dict[str, list[str]] = {}
        for place in chain:
            found = self.leaders(place, at)
            if found:
                leaders[place] = found
        party: list[str] = []
        first = next(iter(leaders.values()), None)
        current: str | None = first[0] if first else None
        while current is not None and current not in party:
            party.append(current)
            up = self._ix.out[_E.SUBORDINATE_TO].get(current)
            current = up[0] if up else None
        return ChainOfCommand(
            place_id=place_id,
            territorial=chain[1:],
            grids=grids,
            leaders=leaders,
            party=party,
        )

    # -- liaison ("1+10+N") -------------------------------------------------------------------

    def liaisons_of(self, household_id: str) -> list[str]:
        """People who liaise with a household ("1+10+N"), sorted."""
        return self.neighbours(household_id, _E.LIAISES, incoming=True)

    def _households_in(self, scope_id: str | None) -> list[str]:
        if scope_id is None:
            return self.nodes_of_kind(_K.HOUSEHOLD)
        if self._kinds[known_id(self._records, scope_id, "scope_id")] is _K.HOUSEHOLD:
            return [scope_id]
        return sorted(self.descendants(scope_id, _K.HOUSEHOLD))

    def households_without_liaison(self, scope_id: str | None = None) -> list[str]:
        """Household records with no liaison, sorted.

        Parameters
        ----------
        scope_id : str, optional
            A territorial node: only households under it. ``None``: the whole model.

        Raises
        ------
        UnknownIdError
            If ``scope_id`` names no record.
        """
        into = self._ix.into[_E.LIAISES]
        return [h for h in self._households_in(scope_id) if not into.get(h)]

    def liaison_coverage(self, scope_id: str, ratio: int = LIAISON_RATIO) -> LiaisonCoverage:
        """"1+10+N" coverage of a scope: who is liaised, who is not, how many liaisons it takes.

        Parameters
        ----------
        scope_id : str
            A territorial node.
        ratio : int, default 10
            Target households per liaison (Gusu's "10"; other schemes use 3–6). A
            setting, not a rule.

        Returns
        -------
        LiaisonCoverage

        Raises
        ------
        UnknownIdError
            If ``scope_id`` names no record.
        ValueError
            If ``ratio`` is not a positive integer.
        """
        if isinstance(ratio, bool) or not isinstance(ratio, int) or ratio < 1:
            raise ValueError(f"ratio must be a positive integer of households, not {ratio!r}")
        households = self._households_in(scope_id)
        into = self._ix.into[_E.LIAISES]
        liaised = [h for h in households if into.get(h)]
        people = sorted({p for h in liaised for p in into[h]})
        out = self._ix.out[_E.LIAISES]
        return LiaisonCoverage(
            scope_id=scope_id,
            ratio=ratio,
            households=self.summary(scope_id).counts.households,
            households_recorded=len(households),
            households_liaised=len(liaised),
            unliaised=[h for h in households if not into.get(h)],
            liaisons=people,
            liaisons_needed=math.ceil(self.summary(scope_id).counts.households / ratio),
            overloaded=[p for p in people if len(set(out.get(p, ()))) > ratio],
        )

    # -- who serves a place -------------------------------------------------------------------

    def _coverage(self) -> dict[str, list[str]]:
        """Place → teams, sites, grids and bodies covering it (explicitly or by default)."""
        if self._served is None:
            served: dict[str, list[str]] = {}
            for rid, kind in self._kinds.items():
                if kind not in (_K.TEAM, _K.SITE, _K.GRID, _K.BODY):
                    continue
                targets = self._ix.out[_E.COVERS].get(rid)
                if not targets:
                    record = self._records[rid]
                    if isinstance(record, Site):
                        targets = [record.parent_id]
                    elif isinstance(record, Team | Body) and record.community_id is not None:
                        targets = [record.community_id]
                    else:
                        targets = []
                for t in targets:
                    served.setdefault(t, []).append(rid)
            self._served = served
        return self._served

    def serving(self, place_id: str) -> Serving:
        """Teams, sites, grids and bodies serving a place.

        Something serves a place when it covers the place, one of its territorial ancestors
        (a community-wide team) or one of its descendants (a building's pioneer team serves
        its compound). A team or body listing no coverage covers its community; a site
        listing none covers the place it stands in.

        Raises
        ------
        UnknownIdError, ValueError
            As :meth:`summary`: an unknown id, or a record that is not a territorial place.
        """
        self._check_territorial(known_id(self._records, place_id), "not a place")
        served = self._coverage()
        found: set[str] = set()
        for p in (place_id, *self.ancestors(place_id), *self.descendants(place_id)):
            found.update(served.get(p, ()))
        by_kind: dict[NodeKind, list[str]] = {k: [] for k in (_K.TEAM, _K.SITE, _K.GRID, _K.BODY)}
        for rid in sorted(found):
            by_kind[self._kinds[rid]].append(rid)
        return Serving(
            place_id=place_id,
            teams=by_kind[_K.TEAM],
            sites=by_kind[_K.SITE],
            grids=by_kind[_K.GRID],
            bodies=by_kind[_K.BODY],
        )

    # -- organisations ------------------------------------------------------------------------

    def members(self, org_id: str, on: date | None = None) -> list[str]:
        """People who are members of (or hold a seat on) an organisation, sorted.

        Parameters
        ----------
        org_id : str
            A party organisation, team or body.
        on : date, optional
            Keep memberships in force on that day (ends inclusive); seats always count.

        Raises
        ------
        UnknownIdError
            If no record has the id.
        ValueError
            If the record is not a party organisation, team or body.
        TypeError
            If ``on`` is not a date (a datetime too: its day depends on the time zone).
        """
        if self._kinds[known_id(self._records, org_id)] not in (_K.PARTY_ORG, _K.TEAM, _K.BODY):
            raise ValueError(
                f"{org_id} is {article(self._kinds[org_id])}, "
                "not a party organisation, team or body"
            )
        if on is not None:
            day(on)
        people = set()
        for person, data in self._ix.members.get(org_id, ()):
            if on is not None and not data.get("seat"):
                start, end = data["start"], data["end"]
                if (start is not None and on < start) or (end is not None and end < on):
                    continue
            people.add(person)
        return sorted(people)

    def span_of_control(self, node_id: str, on: date | None = None) -> SpanOfControl:
        """What an organisation or person directly oversees.

        Parameters
        ----------
        node_id : str
            A party organisation, team, body or person.
        on : date, optional
            Day for memberships (see :meth:`members`).

        Returns
        -------
        SpanOfControl
            Subordinate party organisations, what it leads, its members and (for a person) the
            households they liaise with; ``size`` counts subordinates, members and households.

        Raises
        ------
        UnknownIdError
            If no record has the id.
        TypeError
            If ``on`` is not a date.
        """
        kind = self._kinds[known_id(self._records, node_id)]
        if on is not None:
            day(on)
        subordinates = self.neighbours(node_id, _E.SUBORDINATE_TO, incoming=True)
        members = self.members(node_id, on) if kind in (_K.PARTY_ORG, _K.TEAM, _K.BODY) else []
        households = self.neighbours(node_id, _E.LIAISES)
        return SpanOfControl(
            id=node_id,
            subordinates=subordinates,
            led=self.neighbours(node_id, _E.LEADS),
            members=members,
            households=households,
            size=len(subordinates) + len(members) + len(households),
        )

    # -- zones --------------------------------------------------------------------------------

    def effective_zone(self, place_id: str, at: datetime) -> ZoneDesignation | None:
        """The most restrictive zone designation in force over a place at an instant.

        A household, entrance or building is under every designation in force at ``at`` that
        targets it or any of its territorial ancestors; the most restrictive one
        (:attr:`ZoneRegime.rank`, ties by id) wins.

        Parameters
        ----------
        place_id : str
            A territorial place, or a site (which stands in its place).
        at : datetime
            Timezone-aware instant.

        Returns
        -------
        ZoneDesignation or None
            ``None`` when no designation covers the place then.

        Raises
        ------
        UnknownIdError
            If no record has the id.
        ValueError
            If ``at`` is naive or the record is not a place.
        TypeError
            If ``at`` is not a datetime (a date, a string).
        """
        instant(at)
        into = self._ix.into[_E.DESIGNATES]
        best: ZoneDesignation | None = None
        for place in self._place_chain(place_id):
            for zid in into.get(place, ()):
                zone = self._records[zid]
                assert isinstance(zone, ZoneDesignation)
                if not zone.valid.contains(at):
                    continue
                if best is None or (-zone.regime.rank, zone.id) < (-best.regime.rank, best.id):
                    best = zone
        return best

    def effective_regime(
        self, place_id: str, at: datetime, default: ZoneRegime | None = None
    ) -> ZoneRegime:
        """The regime of :meth:`effective_zone`, or ``default`` where none is in force.

        ``default`` ``None`` means the default regime of the spring-2022 three-zone rulebook
        (precautionary). Arguments and errors as for :meth:`effective_zone`; ``default`` must
        be a :class:`ZoneRegime` or its value.
        """
        if default is not None and not isinstance(default, ZoneRegime):
            try:
                default = ZoneRegime(default)
            except ValueError:
                allowed = ", ".join(r.value for r in ZoneRegime)
                raise ValueError(
                    f"default {default!r} is not a ZoneRegime; allowed: {allowed}"
                ) from None
        zone = self.effective_zone(place_id, at)
        if zone is not None:
            return zone.regime
        return default if default is not None else RULEBOOKS[THREE_ZONE_2021].default_regime

    # -- export --------------------------------------------------------------------------------

    def to_networkx(self) -> nx.MultiDiGraph:
        """A read-only view of the underlying :class:`networkx.MultiDiGraph`.

        Node attribute ``kind``; edge attribute ``kind`` (an :class:`EdgeKind` value). Edge keys
        are the kind, or ``"MEMBER_OF:<membership id>"``, ``"MEMBER_OF:<org id>#seat"`` and
        ``"LIAISES:<liaison id>"`` for edges that come from a membership, a committee seat or a
        liaison record (their attributes: ``record``, ``role``, ``start``, ``end``; ``seat``,
        ``title``, ``part_time``).
        """
        view: nx.MultiDiGraph = self._ix.networkx_graph().copy(as_view=True)
        return view

    def stats(self) -> dict[str, Any]:
        """Number of records per kind and edges per kind."""
        edges = Counter(attrs["kind"] for _, _, _, attrs in self._ix.edges)
        return {
            "nodes": dict(sorted(Counter(k.value for k in self._kinds.values()).items())),
            "edges": dict(sorted(edges.items())),
        }

