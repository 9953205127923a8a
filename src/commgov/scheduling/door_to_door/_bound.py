"""The analytic lower bound on the makespan of door-to-door rounds (private).

The derivation is in the docstring of :mod:`commgov.scheduling.door_to_door`.

References
----------
.. [1] R. L. Graham, "Bounds on multiprocessing timing anomalies", SIAM Journal on Applied
   Mathematics 17(2), 416–429, 1969 (the work and longest-job bounds of makespan scheduling).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import timedelta

from commgov.errors import expect_type
from commgov.results import ObjectiveBound
from commgov.scheduling.door_to_door._problem import DoorToDoorProblem, RoundHousehold
from commgov.scheduling.door_to_door._rules import (
    floor_seconds,
    leg_seconds,
    service_seconds,
    team_units,
    walk_matrix,
)
from commgov.types import to_seconds

__all__ = ["door_to_door_lower_bound"]


@dataclass(frozen=True, slots=True)
class RoundFigures:
    """The bound and its parts, in seconds after the origin (see the module docstring).

    ``makespan_s = max(work_s, farthest_s, formula_s)``; ``work_total_s`` is ``W``,
    ``vertical_s`` its climbing part, ``route_overhead_s`` is ``ρ``, ``units`` the team units.
    """

    makespan_s: int
    work_s: int
    farthest_s: int
    formula_s: int
    work_total_s: int
    vertical_s: int
    route_overhead_s: int
    units: int


def alone_seconds(problem: DoorToDoorProblem) -> dict[str, int]:
    """Household id → its round trip alone: base → door, service, door → base (seconds)."""
    walks = walk_matrix(problem)
    bmap = problem.building_map()
    return {h.id: leg_seconds(problem, None, h, walks=walks, buildings=bmap)
            + service_seconds(problem, h) + leg_seconds(problem, h, None, walks=walks,
                                                        buildings=bmap)
            for h in problem.households}


def door_to_door_lower_bound(
    problem: DoorToDoorProblem, *, household_ids: Iterable[str] | None = None
) -> ObjectiveBound:
    """The analytic lower bound on the makespan of door-to-door rounds.

    Parameters
    ----------
    problem : DoorToDoorProblem
    household_ids : iterable of str, optional
        Bound the plans that cover exactly these households (a plan's own bound, in
        ``plan.bound``); unknown ids are ignored. Default: every household some team unit can
        serve alone within its limit — then ``tiers["uncovered"]`` (the others) is a lower
        bound on the uncovered tier of every plan.

    Returns
    -------
    commgov.results.ObjectiveBound
        ``family="door_to_door"``, ``method="analytic"``, ``tiers = {"uncovered": households
        outside the set, "makespan_s": the bound, seconds after the earliest shift start}``,
        ``main="makespan_s"``; ``figures``: ``work_s``, ``farthest_s``, ``formula_s``,
        ``work_total_s``, ``vertical_s``, ``route_overhead_s`` (seconds) and ``units``. All
        zero when nothing is covered or there are no teams.

    Raises
    ------
    ValueError
        If a household of ``household_ids`` cannot be served alone by any unit within its
        limit (then no plan covers the set).

    Notes
    -----
    Derivation in the docstring of :mod:`commgov.scheduling.door_to_door`: a
    work term (service plus the least horizontal inbound travel of each household, plus each
    stairwell climbed once to its top covered floor, plus each route's walk out and back,
    shared over the units' available time) and a farthest term (the household whose round
    trip alone ends last). Both are valid for every plan, including plans that split a
    building between teams; the plain household-level formula is reported beside them
    (``figures["formula_s"]``). O(P³ + H·B + H·log H + U·log T) for P places, H households,
    B buildings, U units and horizon T.

    References
    ----------
    .. [1] R. L. Graham, "Bounds on multiprocessing timing anomalies", SIAM Journal on Applied
       Mathematics 17(2), 416–429, 1969.

    Examples
    --------
    >>> from datetime import datetime, timedelta
    >>> from zoneinfo import ZoneInfo
    >>> from commgov.scheduling.door_to_door import RoundBuilding, RoundHousehold, RoundTeam
    >>> from commgov.types import GeoPoint, TimeWindow
    >>> t0 = datetime(2022, 4, 12, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    >>> p = DoorToDoorProblem(
    ...     base=GeoPoint(lon=120.6190, lat=31.3421),
    ...     buildings=[RoundBuilding(id="b1", location=GeoPoint(lon=120.6195, lat=31.3421),
    ...                              floors=3)],
    ...     households=[RoundHousehold(id=f"h{f}", building_id="b1", floor=f)
    ...                 for f in (1, 2, 3)],
    ...     teams=[RoundTeam(id="t1", shift=TimeWindow(start=t0, end=t0 + timedelta(hours=4)))])
    >>> b = door_to_door_lower_bound(p)
    >>> b.tiers, b.main
    ({'uncovered': 0.0, 'makespan_s': 1174.0}, 'makespan_s')
    """
    expect_type(problem, DoorToDoorProblem, "problem",
                "build one with door_to_door_problem_from_org or DoorToDoorProblem(...)")
    if household_ids is None:
        units = team_units(problem)
        alone = alone_seconds(problem)
        wanted = {h.id for h in problem.households
                  if any(d + timedelta(seconds=alone[h.id]) <= e for _t, _k, d, e in units)}
    else:
        known = {h.id for h in problem.households}
        wanted = {i for i in household_ids if i in known}
    figures = round_figures(problem, wanted)
    return as_objective_bound(figures, len(problem.households) - len(wanted))


def as_objective_bound(figures: RoundFigures, uncovered: int) -> ObjectiveBound:
    """``figures`` as the shared bound record."""
    parts = {k: float(v) for k, v in asdict(figures).items() if k != "makespan_s"}
    return ObjectiveBound(family="door_to_door", method="analytic",
                          tiers={"uncovered": float(uncovered),
                                 "makespan_s": float(figures.makespan_s)},
                          main="makespan_s", figures=parts)


def round_figures(
    problem: DoorToDoorProblem,
    household_ids: Iterable[str] | None = None,
    *,
    walks: tuple[list[str], list[list[int]]] | None = None,
) -> RoundFigures:
    """The bound's figures for plans covering ``household_ids`` (default: all).

    ``walks``: the problem's :func:`walk_matrix`, when already computed. O(P³) for the walk
    matrix when not given, then O(B² + H·(U + log H)) for B buildings, H households and U
    units.

    Raises
    ------
    ValueError
        If some household cannot be served alone by any unit within its limit.
    """
    wanted = None if household_ids is None else set(household_ids)
    hh = [h for h in sorted(problem.households, key=lambda h: h.id)
          if wanted is None or h.id in wanted]
    units = team_units(problem)
    origin = problem.origin()
    if not hh or not units or origin is None:
        return RoundFigures(makespan_s=0, work_s=0, farthest_s=0, formula_s=0, work_total_s=0,
                            vertical_s=0, route_overhead_s=0, units=len(units))
    bmap = problem.building_map()
    if walks is None:
        walks = walk_matrix(problem)
    places, secs = walks
    index = {p: i for i, p in enumerate(places)}
    gap = to_seconds(problem.policy.minutes_between_doors)
    by_b: dict[str, list[RoundHousehold]] = defaultdict(list)
    for h in hh:
        by_b[h.building_id].append(h)
    fs = {b: floor_seconds(problem, bmap[b]) for b in by_b}
    wmin: dict[str, int] = {}
    for b in by_b:
        ib = index[b]
        wmin[b] = min([secs[index[o]][ib] for o in by_b if o != b] + [secs[0][ib]])
    service = {h.id: service_seconds(problem, h) for h in hh}
    vertical = 0
    horizontal = 0
    for b, members in by_b.items():
        top = max(members, key=lambda h: (h.floor, h.id))
        vertical += 2 * fs[b] * (top.floor - 1)
        horizontal += wmin[b]
        for h in members:
            if h is not top:
                single = wmin[b] + 2 * fs[b] * (h.floor - 1)
                if single < gap:
                    vertical += 2 * fs[b] * (h.floor - 1)
                    horizontal += wmin[b]
                else:
                    horizontal += gap
    work_total = sum(service.values()) + horizontal + vertical
    rho = (min(secs[0][index[b]] - wmin[b] for b in by_b)
           + min(secs[index[b]][0] for b in by_b))
    starts = [int((d - origin).total_seconds()) for _t, _k, d, _e in units]
    ends = [int((e - origin).total_seconds()) for _t, _k, _d, e in units]
    work = _least_makespan(starts, ends, rho, work_total)
    # farthest household alone
    farthest = 0
    for h in hh:
        ib = index[h.building_id]
        climb = fs[h.building_id] * (h.floor - 1)
        alone = secs[0][ib] + climb + service[h.id] + climb + secs[ib][0]
        done = [s + alone for s, e in zip(starts, ends, strict=True) if s + alone <= e]
        if not done:
            raise ValueError(f"household {h.id!r} cannot be served alone by any team unit "
                             "within its limit")
        farthest = max(farthest, min(done))
    # the textbook formula, household by household: the least inbound leg of h is the leg
    # from the base, from another household of its building (door gap + the nearest other
    # floor) or from the lowest household of another building (down, across, up); the last
    # is the least over the other buildings b of fs(b)·(low(b) − 1) + walk(b, h's building),
    # plus h's climb, so it is taken per building once (whole seconds: exact)
    low = {b: min(o.floor for o in members) for b, members in by_b.items()}
    cross: dict[str, int] = {}
    for hb in by_b:
        ih = index[hb]
        came = [fs[b] * (low[b] - 1) + secs[index[b]][ih] for b in by_b if b != hb]
        if came:
            cross[hb] = min(came)
    floors = {b: sorted(o.floor for o in members) for b, members in by_b.items()}
    least_in = 0
    far_formula = 0
    for h in hh:
        hb = h.building_id
        d = leg_seconds(problem, None, h, walks=walks, buildings=bmap)
        cands = [d]
        if len(floors[hb]) > 1:  # the nearest floor of another household of the building
            fl = floors[hb]
            k = bisect.bisect_left(fl, h.floor)
            gaps = []
            if k + 1 < len(fl):
                gaps.append(fl[k + 1] - h.floor)  # 0 when another household shares the floor
            if k > 0:
                gaps.append(h.floor - fl[k - 1])
            near = min(gaps)
            cands.append(gap + fs[hb] * near)
        if hb in cross:
            cands.append(cross[hb] + fs[hb] * (h.floor - 1))
        least_in += service[h.id] + min(cands)
        far_formula = max(far_formula, 2 * d + service[h.id])
    formula = max(_least_makespan(starts, ends, 0, least_in), min(starts) + far_formula)
    return RoundFigures(makespan_s=max(work, farthest, formula), work_s=work,
                        farthest_s=farthest, formula_s=formula, work_total_s=work_total,
                        vertical_s=vertical, route_overhead_s=rho, units=len(units))


def _least_makespan(starts: list[int], ends: list[int], rho: int, work: int) -> int:
    """Least integer ``M`` with ``Σ_k max(0, min(M, E_k) − S_k − ρ) ≥ work``.

    The capacity is non-decreasing and piecewise linear in ``M``; the largest ``E_k`` is
    returned if none reaches it.
    """
    lo = min(s + rho for s in starts)
    hi = max(ends)

    def cap(m: int) -> int:
        return sum(max(0, min(m, e) - s - rho) for s, e in zip(starts, ends, strict=True))

    if cap(hi) < work:
        return hi
    while lo < hi:
        mid = (lo + hi) // 2
        if cap(mid) >= work:
            hi = mid
        else:
            lo = mid + 1
    return lo
