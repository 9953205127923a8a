"""Exact door-to-door rounds for a few households (private).

Held–Karp over subsets gives every subset of households its shortest round from the base and
back; a dynamic programme over team units and subsets then gives each unit a subset it can
finish within its limit, lexicographically best in (covered, makespan, travel).

References
----------
.. [1] M. Held and R. M. Karp, "A dynamic programming approach to sequencing problems",
   Journal of the Society for Industrial and Applied Mathematics 10(1), 196–210, 1962.
"""

from __future__ import annotations

import math

from commgov.scheduling.door_to_door._matrices import Data

__all__ = ["EXACT_MAX_HOUSEHOLDS", "EXACT_MAX_UNITS", "exact_small"]

#: Instances this small are solved exactly (Held–Karp per subset, DP over units).
EXACT_MAX_HOUSEHOLDS = 8
EXACT_MAX_UNITS = 4


def exact_small(d: Data, coverable: list[int]) -> tuple[list[list[int]], list[int]]:
    """Exact rounds for a few households: most covered, then makespan, then travel.

    Held–Karp gives each subset of households its shortest round (duration = walking +
    climbing + service, from the base and back); a dynamic programme over units and subsets
    (3^n · units steps) then gives each unit a subset it can finish within its limit, with
    the lexicographic best (covered, makespan, travel). Used for at most
    :data:`EXACT_MAX_HOUSEHOLDS` households and :data:`EXACT_MAX_UNITS` units.
    """
    n = len(coverable)
    leg = d.leg
    full = 1 << n
    inf = math.inf
    best: list[list[float]]
    # best[S][j]: shortest walk from the base through S ending at coverable[j] (with service)
    best = [[inf] * n for _ in range(full)]
    parent = [[-1] * n for _ in range(full)]
    for j, i in enumerate(coverable):
        best[1 << j][j] = int(leg[0, i + 1]) + int(d.service[i])
    for mask in range(1, full):
        for j in range(n):
            cur = best[mask][j]
            if cur == inf:
                continue
            for k in range(n):
                if mask >> k & 1:
                    continue
                i, h = coverable[j], coverable[k]
                v = cur + int(leg[i + 1, h + 1]) + int(d.service[h])
                nm = mask | 1 << k
                if v < best[nm][k]:
                    best[nm][k] = v
                    parent[nm][k] = j
    dur = [0] * full
    last = [-1] * full
    for mask in range(1, full):
        cands = [(int(best[mask][j]) + int(leg[coverable[j] + 1, 0]), j) for j in range(n)
                 if best[mask][j] < inf]
        dur[mask], last[mask] = min(cands)
    service = [sum(int(d.service[coverable[j]]) for j in range(n) if mask >> j & 1)
               for mask in range(full)]
    # layer DP over units: state = covered mask -> (makespan, travel, choice per unit)
    states: dict[int, tuple[int, int, tuple[int, ...]]] = {0: (0, 0, ())}
    for u in range(len(d.units)):
        nxt: dict[int, tuple[int, int, tuple[int, ...]]] = {}
        for mask, (mk, tr, picks) in states.items():
            rest = (full - 1) & ~mask
            sub = rest
            while True:
                if sub == 0:
                    key = (mk, tr, (*picks, 0))
                elif d.start[u] + dur[sub] <= d.end[u]:
                    key = (max(mk, d.start[u] + dur[sub]), tr + dur[sub] - service[sub],
                           (*picks, sub))
                else:
                    key = None
                if key is not None:
                    m2 = mask | sub
                    if m2 not in nxt or key < nxt[m2]:
                        nxt[m2] = key
                if sub == 0:
                    break
                sub = (sub - 1) & rest
        states = nxt
    mask = min(states, key=lambda m: (-bin(m).count("1"), states[m][0], states[m][1], m))
    routes: list[list[int]] = []
    for sub in states[mask][2]:
        order: list[int] = []
        m, j = sub, last[sub] if sub else -1
        while m and j >= 0:
            order.append(coverable[j])
            pj = parent[m][j]
            m &= ~(1 << j)
            j = pj
        routes.append(order[::-1])
    left = [coverable[j] for j in range(n) if not mask >> j & 1]
    return routes, left
