"""Door-to-door rounds from an organisation model (private).

The sealed buildings of a community at the round start, each entrance's households spread
over its floors, the registered mobility-limited households of the other buildings, and
two-person teams paired from the community's available people. The simulation's extra sealing
uses the same layout rule (:func:`sealed_household_layout`, :func:`building_leaves`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from commgov._problem import coerce_window
from commgov.errors import InputIssue, ProblemError
from commgov.scheduling.door_to_door._problem import (
    WHAT,
    Access,
    DoorToDoorProblem,
    RoundPolicy,
    RoundTeam,
    VisitKind,
)
from commgov.types import GeoPoint, TimeWindow

if TYPE_CHECKING:
    from commgov.org import OrgGraph, OrgModel

__all__ = ["building_leaves", "door_to_door_problem_from_org", "sealed_household_layout"]


def building_leaves(graph: OrgGraph, building_id: str) -> list[tuple[str, Any]]:
    """(id, counts) of a building's entrances, or of the building itself.

    The entrances by id; when the building has none, the building when it carries its own
    counts; empty otherwise. O(children · log children).

    Parameters
    ----------
    graph : commgov.org.OrgGraph
    building_id : str

    Returns
    -------
    list of (str, counts)
        Leaf id and its household counts (:class:`commgov.org.HouseholdCounts`).
    """
    from commgov.org import Building, Entrance, NodeKind

    leaves: list[tuple[str, Any]] = []
    for e in sorted(graph.children(building_id)):
        if graph.kind(e) is NodeKind.ENTRANCE:
            ent = graph.record(e)
            assert isinstance(ent, Entrance)
            leaves.append((e, ent.counts))
    b = graph.record(building_id)
    assert isinstance(b, Building)
    if not leaves and b.counts is not None:
        leaves = [(building_id, b.counts)]
    return leaves


def sealed_household_layout(leaf: str, floors: int, households: int, residents: int,
                            registered: Sequence[Any]) -> list[dict[str, Any]]:
    """Households of one sealed entrance (or building), as ``RoundHousehold`` fields.

    The layout rule of :func:`door_to_door_problem_from_org`: ``n = max(households,
    registered)`` households spread evenly over the floors (household ``k`` on floor
    ``1 + k · floors // n``); the unregistered ones first, ids ``"<leaf>#<k>"``, sharing the
    residents the registered ones leave (at least 1 each, the remainder one each to the
    first ones), then the registered households (records with ``id`` and ``residents``, by
    id) on the remaining floors. The simulation's extra sealing uses the same rule.

    Parameters
    ----------
    leaf : str
        Entrance (or building) id.
    floors : int
        Floors of the building, ≥ 1.
    households, residents : int
        The entrance's counts.
    registered : sequence of household records
        Registered households of the entrance, sorted by id.

    Returns
    -------
    list of dict
        ``id``, ``building_id`` (``leaf``), ``floor``, ``residents`` and ``kind``
        (:attr:`VisitKind.SEALED`).

    Notes
    -----
    O(households + registered).

    Examples
    --------
    >>> [(h["id"], h["floor"], h["residents"]) for h in sealed_household_layout("E1", 3, 3, 7, [])]
    [('E1#1', 1, 3), ('E1#2', 2, 2), ('E1#3', 3, 2)]
    """
    n = max(households, len(registered))
    spots = [1 + k * floors // n for k in range(n)]
    others = n - len(registered)
    spare = residents - sum(r.residents for r in registered)
    base_res = max(1, spare // others) if others else 0
    extra = max(0, spare - base_res * others) if others else 0
    out: list[dict[str, Any]] = [
        {"id": f"{leaf}#{k + 1}", "building_id": leaf, "floor": spots[k],
         "residents": base_res + (k < extra), "kind": VisitKind.SEALED}
        for k in range(others)]
    out.extend({"id": r.id, "building_id": leaf, "floor": spots[others + k],
                "residents": r.residents, "kind": VisitKind.SEALED}
               for k, r in enumerate(registered))
    return out


def door_to_door_problem_from_org(
    model: OrgModel | OrgGraph,
    community_id: str,
    *,
    window: TimeWindow,
    base: GeoPoint | None = None,
    teams: Sequence[RoundTeam] | None = None,
    medic_skill: str | None = None,
    policy: RoundPolicy | None = None,
) -> DoorToDoorProblem:
    """Build the door-to-door rounds of one community for the round ``window``.

    The round starts at ``window.start`` (zone regimes and people's availability are read at
    that instant) and formed teams work until ``window.end`` at the latest: a window of four
    hours gives the four-hour PPE shift that used to be the default.

    Households
        * **Sealed buildings**: every building whose effective zone regime at the round start
          has rank
          ≥ 2 (``SEALED`` 封控区, ``HIGH`` 高风险区; the most restrictive designation over the
          building, its entrances and ancestors, as
          :func:`commgov.scheduling.sampling_problem_from_org` decides).
          Each entrance (or the building, without entrances) becomes one
          :class:`RoundBuilding` stairwell; its ``counts.households`` households are spread
          evenly over the floors, bottom up (household ``k`` of ``n`` on floor
          ``1 + ⌊k·F/n⌋``). Registered :class:`~commgov.org.Household` records of the leaf keep
          their ids, residents and are put on the highest of these positions (their floor is
          not recorded: the conservative choice); the others get ids ``<leaf>#<k>`` and the
          remaining residents, spread evenly (at least one each).
        * **Home visits**: in buildings that are not sealed, every registered household with
          mobility-limited residents (``Household.mobility_limited > 0``), on the top floor of
          its building (conservative). Mobility-limited residents counted on an entrance or
          building beyond those records (the figures
          :class:`commgov.scheduling.HomeVisit` reports) get one
          household each, id ``<leaf>#m<k>``, one resident, top floor.
        * Floors climb by stairs, or by lift when ``Building.has_lift``.
    Teams
        ``teams`` when given. Otherwise two-person teams are formed from the community's people
        (home in the community, role ``volunteer``) and the members of teams belonging to the
        community (partner clinics' medical staff, pioneer teams), active on the day of the
        round start, who are available at the round start: sorted by the end of their
        availability window (latest first),
        then id, and paired in that order — each pair with one person holding ``medic_skill``
        when that is given (a swabber) and as many pairs as there are medics. A team's shift is
        ``[window.start, min(window.end, both availability windows' ends))``. These are
        assumptions: real rosters should be passed as ``teams``. People not available at the
        round start and those left without a partner are listed in the problem's
        ``left_out`` (``NOT_AVAILABLE``, ``NO_PARTNER``), not dropped silently.
    Base
        ``base``, else the community's location, else the centroid of the stairwells.

    Parameters
    ----------
    model : OrgModel or OrgGraph
    community_id : str
        12-digit community code.
    window : TimeWindow
        The round, keyword-only: it starts at ``window.start`` (whole seconds when teams are
        formed: their shifts start there) and formed teams' shifts end by ``window.end``.
    base : GeoPoint, optional
    teams : sequence of RoundTeam, optional
        The teams (their own shifts); ``window`` then only sets the instant zones are read.
    medic_skill : str, optional
        Skill name a team's swabber must have (for example ``"first_aid"`` in the datasets).
    policy : RoundPolicy, optional

    Returns
    -------
    DoorToDoorProblem

    Raises
    ------
    commgov.errors.ProblemError
        Unknown community, ``window`` not a :class:`~commgov.types.TimeWindow`, or a record
        whose values the round records refuse (naming the organisation record, field and
        value).
    commgov.errors.OrgStructureError
        If the model is invalid.

    Notes
    -----
    O(N log N) in the organisation records N of the community (a scan of the buildings,
    households, people and memberships).

    Examples
    --------
    >>> from datetime import datetime, timedelta
    >>> from zoneinfo import ZoneInfo
    >>> from commgov.datasets import HUCHIYUAN, gusu
    >>> t0 = datetime(2022, 4, 12, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    >>> p = door_to_door_problem_from_org(
    ...     gusu(0, communities=[HUCHIYUAN]), HUCHIYUAN,
    ...     window=TimeWindow(start=t0, end=t0 + timedelta(hours=4)))
    >>> len(p.households), len(p.teams), p.teams[0].shift.end - p.teams[0].shift.start
    (98, 8, datetime.timedelta(seconds=14400))
    """
    from commgov.org import Building, Household, Membership, NodeKind, Role, Team
    from commgov.org._queries import community_scope, effective_regime, left_out_person
    from commgov.results import LeftOut, LeftOutReasonCode

    window = coerce_window(window, community_id, WHAT)
    at = window.start
    graph, scope = community_scope(model, community_id, WHAT)
    issues: list[InputIssue] = []
    buildings: list[dict[str, Any]] = []
    households: list[dict[str, Any]] = []
    registered: dict[str, list[Household]] = defaultdict(list)
    for rec in graph.model.households:
        if rec.parent_id in scope:
            registered[rec.parent_id].append(rec)
    for bid in sorted(graph.descendants(community_id, NodeKind.BUILDING)):
        b = graph.record(bid)
        assert isinstance(b, Building)
        sealed = effective_regime(graph, bid, at).rank >= 2
        for leaf, counts in building_leaves(graph, bid):
            recs = sorted(registered.get(leaf, []), key=lambda r: r.id)
            floors = b.floors
            mine: list[dict[str, Any]] = []
            if sealed:
                mine.extend(sealed_household_layout(leaf, floors, counts.households,
                                                    counts.residents, recs))
            else:
                limited = [r for r in recs if r.mobility_limited > 0]
                mine.extend({"id": r.id, "building_id": leaf, "floor": floors,
                             "residents": r.residents, "kind": VisitKind.HOME_VISIT}
                            for r in limited)
                missing = counts.mobility_limited - sum(r.mobility_limited for r in limited)
                mine.extend({"id": f"{leaf}#m{k + 1}", "building_id": leaf, "floor": floors,
                             "residents": 1, "kind": VisitKind.HOME_VISIT}
                            for k in range(max(0, missing)))
            if mine:
                buildings.append({"id": leaf, "location": b.location, "floors": floors,
                                  "access": Access.LIFT if b.has_lift else Access.STAIRS})
                households.extend(mine)
    if base is None:
        community = graph.record(community_id)
        loc = getattr(community, "location", None)
        if isinstance(loc, GeoPoint):
            base = loc
        elif buildings:
            base = GeoPoint(lon=sum(b["location"].lon for b in buildings) / len(buildings),
                            lat=sum(b["location"].lat for b in buildings) / len(buildings))
        else:
            issues.append(InputIssue(community_id, "base", None, "no base given, the community "
                                     "has no location and nothing is to be visited"))
    left_out: list[LeftOut] = []
    if teams is None:
        member_of: dict[str, bool] = {}
        own_teams = {t.id for t in graph.model.teams
                     if isinstance(t, Team) and t.community_id == community_id}
        zone = getattr(graph.record(community_id), "timezone", graph.model.timezone)
        day = at.astimezone(ZoneInfo(zone)).date()
        for m in graph.model.memberships:
            if isinstance(m, Membership) and m.organisation_id in own_teams and m.active_on(day):
                member_of[m.person_id] = True
        avail: list[tuple[datetime, str, bool]] = []
        for p in sorted(graph.model.people, key=lambda q: q.id):
            local = (p.home_id in scope and Role.VOLUNTEER in p.roles) or p.id in member_of
            if not local:
                continue
            free = next((w for w in p.availability if w.contains(at)), None)
            if free is None:
                left_out.append(left_out_person(p.id, LeftOutReasonCode.NOT_AVAILABLE))
                continue
            medic = medic_skill is not None and medic_skill in p.skills
            avail.append((free.end, p.id, medic))
        avail.sort(key=lambda x: (-x[0].timestamp(), x[1]))
        pairs: list[tuple[tuple[datetime, str, bool], tuple[datetime, str, bool]]] = []
        if medic_skill is None:
            pairs = list(zip(avail[0::2], avail[1::2], strict=False))
        else:
            medics = [a for a in avail if a[2]]
            helpers = [a for a in avail if not a[2]]
            while medics and (helpers or len(medics) >= 2):
                m1 = medics.pop(0)
                mate = helpers.pop(0) if helpers else medics.pop(0)
                pairs.append((m1, mate))
        paired = {x[1] for pair in pairs for x in pair}
        left_out.extend(left_out_person(a[1], LeftOutReasonCode.NO_PARTNER)
                        for a in sorted(avail, key=lambda a: a[1]) if a[1] not in paired)
        left_out.sort(key=lambda r: r.record)
        cap = window.end
        teams = [RoundTeam(id=f"{a[1]}+{b[1]}", persons=2,
                           shift=TimeWindow(start=at, end=min(cap, a[0], b[0])))
                 for a, b in pairs]
    if issues:
        raise ProblemError(issues, what=WHAT)
    try:
        return DoorToDoorProblem(
            timezone=getattr(graph.record(community_id), "timezone", graph.model.timezone),
            base=base, buildings=buildings, households=households, teams=list(teams),
            policy=policy or RoundPolicy(), left_out=left_out)
    except ProblemError as exc:
        raise ProblemError(exc.issues, what=f"{WHAT} of {community_id}") from None
