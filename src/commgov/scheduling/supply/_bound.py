"""The LP relaxation of the supply-station model: a proven bound (private; HiGHS)."""

from __future__ import annotations

from commgov.errors import expect_type
from commgov.results import ObjectiveBound
from commgov.scheduling._location import TieredLP
from commgov.scheduling.supply._data import supply_data
from commgov.scheduling.supply._problem import SupplyProblem

__all__ = ["supply_lower_bound"]


def supply_lower_bound(problem: SupplyProblem) -> ObjectiveBound:
    """Bounds on the tiers of :func:`plan_supply_stations` from the LP relaxation of its MILP.

    The model of :func:`plan_supply_stations` (the strong formulation, with
    ``x[c,s] ≤ y[s]``) with every Boolean relaxed to [0, 1], solved tier by tier with HiGHS:
    (1) the most parcels served (an upper bound); (2) with served at least that bound, the
    fewest volunteers (a lower bound, valid for every plan serving as many parcels — in
    particular at full service); (3) with both, the least parcel-metres carried.

    Parameters
    ----------
    problem : SupplyProblem

    Returns
    -------
    commgov.results.ObjectiveBound
        ``tiers``: ``served`` (upper), ``staff`` and ``carry_parcel_m`` (lower); ``main``:
        ``staff``; ``figures``: ``parcels_in_reach``.

    Raises
    ------
    TypeError
        If ``problem`` is not a :class:`SupplyProblem`.
    commgov.errors.MissingExtraError
        If ``highspy`` is not installed (``pip install 'commgov[lp]'``).
    commgov.errors.SizeLimitError
        As :func:`plan_supply_stations`.

    Notes
    -----
    An LP of one column per compound-station pair in reach and per station; HiGHS's dual
    simplex, polynomial in practice. Each later tier keeps the previous tier's value less a
    relative 1e-9, so floating-point noise never makes a bound invalid.

    References
    ----------
    .. [1] M. S. Daskin, *Network and Discrete Location*, 2nd ed., Wiley, 2013, ch. 6
       (LP relaxations of capacitated facility location).
    .. [2] Q. Huangfu and J. A. J. Hall, "Parallelizing the dual revised simplex method",
       Mathematical Programming Computation 10(1):119-142, 2018 (HiGHS).
    """
    expect_type(problem, SupplyProblem, "problem", "build one with SupplyProblem(...)")
    lp = TieredLP("supply")  # HiGHS first: a missing extra is said before any work
    data = supply_data(problem.canonical())
    p = data.problem
    inf = lp.inf
    y: dict[int, int] = {}
    rows: dict[int, list[int]] = {}
    load: dict[int, tuple[list[int], list[float]]] = {}
    for c, s, w in data.pairs():
        if s not in y:
            y[s] = lp.col(0.0, float(p.stations[s].staff), 0.0)
        parcels = data.parcels(c)
        j = lp.col(float(parcels), 0.0, float(parcels * w))
        lp.row(-inf, 0.0, [j, y[s]], [1.0, -1.0])
        rows.setdefault(c, []).append(j)
        load.setdefault(s, ([], []))
        load[s][0].append(j)
        load[s][1].append(float(parcels))
    for js in rows.values():
        if len(js) > 1:
            lp.row(-inf, 1.0, js, [1.0] * len(js))
    for s in sorted(y):
        idx, val = load[s]
        lp.row(-inf, 0.0, [*idx, y[s]], [*val, -float(p.stations[s].capacity_parcels)])
    if p.volunteers is not None and y:
        ys = sorted(y)
        lp.row(
            -inf, float(p.volunteers), [y[s] for s in ys], [float(p.stations[s].staff) for s in ys]
        )
    served, staff, carry = lp.solve((True, False, False))
    return ObjectiveBound(
        family="supply",
        method="LP relaxation (HiGHS)",
        tiers={
            "served": float(served),
            "staff": max(0.0, staff - 1e-6),
            "carry_parcel_m": max(0.0, carry - 1e-6),
        },
        main="staff",
        figures={"parcels_in_reach": float(sum(data.parcels(c) for c in data.reach))},
    )
