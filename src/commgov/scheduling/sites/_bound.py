"""The LP relaxation of the site-selection model: a proven bound (private; HiGHS)."""

from __future__ import annotations

from commgov.errors import expect_type
from commgov.results import ObjectiveBound
from commgov.scheduling._location import TieredLP
from commgov.scheduling.sites._data import sites_data
from commgov.scheduling.sites._problem import SitesProblem

__all__ = ["sites_lower_bound"]


def sites_lower_bound(problem: SitesProblem) -> ObjectiveBound:
    """Bounds on the tiers of :func:`plan_sites` from the LP relaxation of its MILP.

    The model of :func:`plan_sites` with every Boolean relaxed to [0, 1], solved tier by tier
    with HiGHS: (1) the most residents served (an upper bound); (2) with served at least
    that bound, the fewest staff-hours (a lower bound, valid for every plan serving as many
    residents as the bound — in particular at full service); (3) with both, the least walking.

    Parameters
    ----------
    problem : SitesProblem

    Returns
    -------
    commgov.results.ObjectiveBound
        ``tiers``: ``served`` (upper), ``staff_hours`` and ``walk_person_m`` (lower);
        ``main``: ``staff_hours``; ``figures``: ``residents_in_reach``.

    Raises
    ------
    TypeError
        If ``problem`` is not a :class:`SitesProblem`.
    commgov.errors.MissingExtraError
        If ``highspy`` is not installed (``pip install 'commgov[lp]'``).
    commgov.errors.SizeLimitError
        As :func:`plan_sites`.

    Notes
    -----
    An LP of one column per building-site pair in reach and per site and number of lanes;
    HiGHS's dual simplex, polynomial in practice. Each later tier keeps the previous tier's
    value less a relative 1e-9, so floating-point noise never makes a bound invalid.

    References
    ----------
    .. [1] M. S. Daskin, *Network and Discrete Location*, 2nd ed., Wiley, 2013, ch. 6
       (LP relaxations of capacitated facility location).
    .. [2] Q. Huangfu and J. A. J. Hall, "Parallelizing the dual revised simplex method",
       Mathematical Programming Computation 10(1):119-142, 2018 (HiGHS).
    """
    expect_type(problem, SitesProblem, "problem", "build one with SitesProblem(...)")
    lp = TieredLP("sites")  # HiGHS first: a missing extra is said before any work
    data = sites_data(problem.canonical())
    inf = lp.inf
    col = lp.col
    x: dict[tuple[int, int], int] = {}
    by_site: dict[int, list[tuple[int, int]]] = {}
    for b in sorted(data.reach):
        r_b = data.residents(b)
        row = []
        for s, w in data.reach[b]:
            if len(data.caps[s]) < 2 or data.caps[s][-1] < r_b:
                continue
            j = col(r_b, 0.0, float(r_b * w))
            x[b, s] = j
            row.append(j)
            by_site.setdefault(s, []).append((r_b, j))
        if len(row) > 1:
            lp.row(-inf, 1.0, row, [1.0] * len(row))
    n_t = data.problem.n_slots
    at: list[list[tuple[list[int], list[float]]]] = [
        [([], []) for _ in range(n_t)] for _ in range(3)
    ]
    hours: list[tuple[list[int], list[float]]] = [([], []) for _ in range(3)]
    for s in sorted(by_site):
        caps = data.caps[s]
        zs = [col(0.0, float(data.staff_minutes(s, c)), 0.0) for c in range(1, len(caps))]
        lp.row(-inf, 1.0, zs, [1.0] * len(zs))
        idx = [j for _r, j in by_site[s]] + zs
        val = [float(r) for r, _j in by_site[s]] + [-float(caps[c]) for c in range(1, len(caps))]
        lp.row(-inf, 0.0, idx, val)
        for c, j in zip(range(1, len(caps)), zs, strict=True):
            for r in data.limits:
                k = data.staff[s][c][r]
                if k:
                    for t in data.slots_of[s]:
                        at[r][t][0].append(j)
                        at[r][t][1].append(float(k))
                    hours[r][0].append(j)
                    hours[r][1].append(float(k * len(data.slots_of[s])))
    for r, (people, slots) in sorted(data.limits.items()):
        for t in range(n_t):
            idx, val = at[r][t]
            if idx:
                lp.row(-inf, float(people), idx, val)
        if hours[r][0]:
            lp.row(-inf, float(slots), hours[r][0], hours[r][1])
    values = lp.solve((True, False, False))
    served = values[0]
    minutes = values[1]
    walk = values[2]
    return ObjectiveBound(
        family="sites",
        method="LP relaxation (HiGHS)",
        tiers={
            "served": float(served),
            "staff_hours": max(0.0, minutes - 1e-6) / 60,
            "walk_person_m": max(0.0, walk - 1e-6),
        },
        main="staff_hours",
        figures={"residents_in_reach": float(sum(data.residents(b) for b in data.reach))},
    )
