"""The supply planner's CP-SAT method: one model, solved tier by tier (private).

OR-Tools is imported only inside :func:`solve_cpsat`.
"""

from __future__ import annotations

from typing import Any

from commgov._control import SolveControl
from commgov.results import SolveStatus
from commgov.scheduling._location import solve_tiers, stopped_status
from commgov.scheduling.supply._data import SupplyData
from commgov.scheduling.supply._improve import improve
from commgov.scheduling.supply._plan import complete

__all__ = ["RESERVE_PER_PAIR_S", "RESERVE_S", "TIER_NAMES", "solve_cpsat"]

#: The optimised tiers, in order (served is maximised, the others minimised).
TIER_NAMES = ("served", "staff", "carry_parcel_m")
_SHARES = (0.3, 0.5, 0.2)
#: Wall-clock seconds kept after the last search, fixed and per compound-station pair.
RESERVE_S = 0.05
RESERVE_PER_PAIR_S = 1.5e-5


def solve_cpsat(
    data: SupplyData,
    ctl: SolveControl,
    dtime: float,
    seed: int,
) -> tuple[dict[int, int], SolveStatus, float | None]:
    """Solve the supply-station MILP of ``data`` lexicographically with CP-SAT.

    Variables: ``x[c,s]`` (compound ``c`` is served by station ``s`` in reach), ``y[s]``
    (station ``s`` opens). Constraints: each compound at most one station;
    ``Σ_c p_c x[c,s] ≤ cap_s y[s]``; ``x[c,s] ≤ y[s]``; ``Σ_s staff_s y[s] ≤ volunteers``.
    Tiers: max parcels served; min volunteers (staff of the opened stations); min
    parcel-metres carried; each fixed at its value before the next. The greedy completion,
    improved by :func:`._improve.improve`, is the first hint (and proves tier 1 when it
    serves every compound that some station in reach could take alone); each tier's
    solution is improved the same way before it hints the next.

    Returns the assignment (compound index → station index), the status (``OPTIMAL`` when
    every tier is proven; ``FEASIBLE``; ``CANCELLED``; ``LIMIT`` when the wall clock cut an
    unproven tier) and a proven lower bound on the staff of plans serving the tier-1 value
    (``None`` when tier 2 did not run).
    """
    from ortools.sat.python import cp_model

    greedy, _ = complete(data, {}, ctl.should_stop)
    if ctl.should_stop():
        return greedy, stopped_status(ctl), None
    ctl.report("local search")
    greedy = improve(data, greedy, ctl.should_stop)
    if ctl.should_stop():
        return greedy, stopped_status(ctl), None
    p = data.problem
    pairs = data.pairs()
    if not pairs:
        return greedy, SolveStatus.OPTIMAL, 0.0
    m = cp_model.CpModel()
    x: dict[tuple[int, int], Any] = {}
    y: dict[int, Any] = {}
    rows: dict[int, list[Any]] = {}
    load: dict[int, list[Any]] = {}
    served_terms: list[Any] = []
    carry_terms: list[Any] = []
    for c, s, w in pairs:
        if s not in y:
            y[s] = m.new_bool_var(f"y[{s}]")
        v = m.new_bool_var(f"x[{c},{s}]")
        x[c, s] = v
        m.add_implication(v, y[s])
        rows.setdefault(c, []).append(v)
        parcels = data.parcels(c)
        load.setdefault(s, []).append(parcels * v)
        served_terms.append(parcels * v)
        carry_terms.append(parcels * w * v)
    for vs in rows.values():
        if len(vs) > 1:
            m.add_at_most_one(vs)
    for s in sorted(y):
        m.add(sum(load[s]) <= p.stations[s].capacity_parcels * y[s])
    staff_expr = sum(p.stations[s].staff * y[s] for s in sorted(y))
    if p.volunteers is not None:
        m.add(staff_expr <= p.volunteers)

    def hint(assign: dict[int, int]) -> None:
        m.clear_hints()  # type: ignore[no-untyped-call]
        for (c, s), v in x.items():
            m.add_hint(v, int(assign.get(c) == s))
        opened = set(assign.values())
        for s, v in y.items():
            m.add_hint(v, int(s in opened))

    tiers = [
        (TIER_NAMES[0], sum(served_terms), True),
        (TIER_NAMES[1], staff_expr, False),
        (TIER_NAMES[2], sum(carry_terms), False),
    ]
    reserve = RESERVE_S + RESERVE_PER_PAIR_S * len(x)
    most = sum(data.parcels(c) for c in rows)
    start_served = sum(data.parcels(c) for c in greedy)
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
        lambda solver: {c: s for (c, s), v in x.items() if solver.boolean_value(v)},
        family="supply",
        known_first=most if start_served == most else None,
        polish=lambda assign: improve(data, assign, ctl.should_stop),
    )
    if proven:
        return chosen, SolveStatus.OPTIMAL, bound
    if sum(data.parcels(c) for c in chosen) < most:
        bound = None  # tier 1 may be unproven: a staff bound would hide parcels left out
    return chosen, stopped_status(ctl), bound
