"""The site planner's CP-SAT method: one model, solved tier by tier (private).

OR-Tools is imported only inside :func:`solve_cpsat`.
"""

from __future__ import annotations

from typing import Any

from commgov._control import SolveControl
from commgov.results import SolveStatus
from commgov.scheduling._location import solve_tiers, stopped_status
from commgov.scheduling.sites._data import SitesData
from commgov.scheduling.sites._improve import improve
from commgov.scheduling.sites._lns import lns
from commgov.scheduling.sites._plan import _Load, complete
from commgov.scheduling.sites._relax import round_lanes, splittable_relaxation

__all__ = ["LNS_PAIRS", "LNS_SHARE", "RESERVE_PER_PAIR_S", "RESERVE_S", "TIER_NAMES", "solve_cpsat"]

#: The optimised tiers, in order (served is maximised, the others minimised).
TIER_NAMES = ("served", "staff_minutes", "walk_person_m")
_SHARES = (0.3, 0.5, 0.2)
#: Above this many building-site pairs the whole model is not built: the local search's plan
#: is improved a neighbourhood at a time (:func:`._lns.lns`).
LNS_PAIRS = 20_000
#: Share of the deterministic budget the neighbourhoods get (the rest is the margin for the
#: measuring and the local search before them, which the budget does not count).
LNS_SHARE = 0.6
#: Wall-clock seconds kept after the last search, fixed and per building-site pair.
RESERVE_S = 0.05
RESERVE_PER_PAIR_S = 1.5e-5


def solve_cpsat(
    data: SitesData,
    ctl: SolveControl,
    dtime: float,
    seed: int,
) -> tuple[dict[int, int], SolveStatus, float | None]:
    """Solve the site-selection MILP of ``data`` lexicographically with CP-SAT.

    Variables: ``x[b,s]`` (building ``b`` goes to site ``s`` in reach), ``z[s,c]`` (site
    ``s`` opens with ``c ≥ 1`` lanes; at most one ``c`` per site). Constraints: each building
    at most one site; ``Σ_b r_b x[b,s] ≤ Σ_c cap_s(c) z[s,c]`` (the waiting target, through
    the capacity table); per role ``k`` and slot ``t``, ``Σ_s staff_sk(c) z[s,c] ≤ people_k``
    over the sites open at ``t``, and ``Σ_s H_s staff_sk(c) z[s,c] ≤ staff-slots_k``.
    Tiers: max served residents; min staff-minutes (opening work included); min walking
    person-metres; each fixed at its value before the next. The greedy completion is the
    first hint.

    Returns the assignment (building index → site index), the status (``OPTIMAL`` when
    every tier is proven; ``FEASIBLE``; ``CANCELLED``; ``LIMIT`` when the wall clock cut
    an unproven tier) and a proven lower bound on staff-minutes for plans serving the tier-1
    value (``None`` when tier 2 did not run).
    """
    from ortools.sat.python import cp_model

    greedy, _ = complete(data, {}, ctl.should_stop)
    if ctl.should_stop():
        return greedy, stopped_status(ctl), None
    ctl.report("local search")
    greedy = improve(data, greedy, ctl.should_stop)
    if ctl.should_stop():
        return greedy, stopped_status(ctl), None
    n_pairs = sum(len(p) for p in data.reach.values())
    if n_pairs > LNS_PAIRS:
        reserve = RESERVE_S + RESERVE_PER_PAIR_S * n_pairs
        start, relaxed = _relaxed_start(data, greedy, ctl, seed, reserve)
        improved = lns(data, start, ctl, LNS_SHARE * dtime, seed, reserve)
        if relaxed is not None and _served(data, improved) < _fitting(data):
            relaxed = None  # the bound holds for full-service plans only
        return improved, stopped_status(ctl), relaxed
    problem = data.problem
    n_t = problem.n_slots
    m = cp_model.CpModel()
    x: dict[tuple[int, int], Any] = {}
    by_site: dict[int, list[tuple[int, Any]]] = {}
    served_terms: list[Any] = []
    walk_terms: list[Any] = []
    for b in sorted(data.reach):
        r_b = data.residents(b)
        row = []
        for s, w in data.reach[b]:
            if len(data.caps[s]) < 2 or data.caps[s][-1] < r_b:
                continue
            v = m.new_bool_var(f"x[{b},{s}]")
            x[b, s] = v
            row.append(v)
            by_site.setdefault(s, []).append((r_b, v))
            served_terms.append(r_b * v)
            walk_terms.append(r_b * w * v)
        if len(row) > 1:
            m.add_at_most_one(row)
    z: dict[tuple[int, int], Any] = {}
    cost_terms: list[Any] = []
    at: list[list[list[Any]]] = [[[] for _ in range(n_t)] for _ in range(3)]
    hours: list[list[Any]] = [[] for _ in range(3)]
    for s in sorted(by_site):
        caps = data.caps[s]
        zs = []
        for c in range(1, len(caps)):
            v = m.new_bool_var(f"z[{s},{c}]")
            z[s, c] = v
            zs.append(v)
            cost_terms.append(data.staff_minutes(s, c) * v)
            for r in data.limits:
                k = data.staff[s][c][r]
                if k:
                    for t in data.slots_of[s]:
                        at[r][t].append(k * v)
                    hours[r].append(k * len(data.slots_of[s]) * v)
        m.add_at_most_one(zs)
        m.add(
            sum(r * v for r, v in by_site[s]) <= sum(caps[c] * z[s, c] for c in range(1, len(caps)))
        )
    for r, (people, slots) in sorted(data.limits.items()):
        for t in range(n_t):
            if at[r][t]:
                m.add(sum(at[r][t]) <= people)
        if hours[r]:
            m.add(sum(hours[r]) <= slots)
    if not x:
        status = SolveStatus.OPTIMAL
        return greedy, status, 0.0

    def hint(assign: dict[int, int]) -> None:
        m.clear_hints()  # type: ignore[no-untyped-call]
        load: dict[int, int] = {}
        for b, s in assign.items():
            load[s] = load.get(s, 0) + data.residents(b)
        for (b, s), v in x.items():
            m.add_hint(v, int(assign.get(b) == s))
        for (s, c), v in z.items():
            lanes = data.lanes_for(s, load.get(s, 0)) or 0
            m.add_hint(v, int(lanes == c))

    tiers = [
        (TIER_NAMES[0], sum(served_terms), True),
        (TIER_NAMES[1], sum(cost_terms), False),
        (TIER_NAMES[2], sum(walk_terms), False),
    ]
    # the wall clock kept for what follows the search: reading the solution, the completion
    # and the plan records (measured ≈ 2 s on Gusu's 240,000 building-site pairs)
    reserve = RESERVE_S + RESERVE_PER_PAIR_S * len(x)
    # every building that fits some site in reach, served: tier 1 is proven by the start
    most = sum(data.residents(b) for b in {b for b, _s in x})
    start_served = sum(data.residents(b) for b in greedy)
    chosen, proven, bound = solve_tiers(
        m,
        tiers,
        _SHARES,
        ctl,
        dtime,
        seed,
        reserve,
        greedy,
        hint,
        lambda solver: {b: s for (b, s), v in x.items() if solver.boolean_value(v)},
        family="sites",
        known_first=most if start_served == most else None,
    )
    if proven:
        return chosen, SolveStatus.OPTIMAL, bound
    return chosen, stopped_status(ctl), bound


def _served(data: SitesData, assign: dict[int, int]) -> int:
    return sum(data.residents(b) for b in assign)


def _fitting(data: SitesData) -> int:
    """Residents of the buildings that fit some site in reach (full service)."""
    return sum(
        data.residents(b)
        for b, pairs in data.reach.items()
        if any(len(data.caps[s]) > 1 and data.caps[s][-1] >= data.residents(b) for s, _w in pairs)
    )


def _rank(data: SitesData, assign: dict[int, int]) -> tuple[int, int, int]:
    """Lexicographic key of a plan: (−served, staff-minutes, walking); smaller is better."""
    load = _Load(data, assign)
    minutes = sum(data.staff_minutes(s, c) for s, c in enumerate(load.lanes))
    walk = {b: dict(p) for b, p in data.reach.items()}
    return (
        -_served(data, assign),
        minutes,
        sum(data.residents(b) * walk[b][s] for b, s in assign.items()),
    )


def _relaxed_start(
    data: SitesData, greedy: dict[int, int], ctl: SolveControl, seed: int, reserve: float
) -> tuple[dict[int, int], float | None]:
    """The better start of ``greedy`` and the splittable relaxation's rounded lanes, and the
    relaxation's bound on staff-minutes at full service (:mod:`._relax`; ``None``: none)."""
    relax = splittable_relaxation(data, ctl, seed, reserve)
    if relax is None:
        return greedy, None
    rounded = round_lanes(data, relax.lanes, ctl, seed, reserve)
    if rounded is None or ctl.should_stop(reserve):
        return greedy, relax.bound_minutes
    rounded, _ = complete(data, rounded, ctl.should_stop)
    rounded = improve(data, rounded, ctl.should_stop)
    if _rank(data, rounded) < _rank(data, greedy):
        return rounded, relax.bound_minutes
    return greedy, relax.bound_minutes
