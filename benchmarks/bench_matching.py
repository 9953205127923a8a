"""Benchmark commgov.match_volunteers against reference min-cost-flow models.

Usage::

    PYTHONPATH=src python benchmarks/bench_matching.py [--sizes 300x60 5000x500] [--seed 7]
                                                       [--repeat 3] [--no-networkx]

For each seeded instance (tasks x volunteers, 3 skills, 4 hour-slots over 2 days, places in a
square sized so that a task sees roughly 20-40 eligible volunteers) it times:

* commgov   ``match_volunteers`` end to end (eligibility, network, solve, reasons, result);
* (a) ortools  the same network written directly here (numpy eligibility + SimpleMinCostFlow),
  without any commgov solver code; "solve" is the OR-Tools call alone;
* (b) networkx ``max_flow_min_cost`` on the same arcs as (a).

and prints times, objective agreement and ratios. Wall-clock figures depend on the machine.
"""

from __future__ import annotations

import argparse
import math
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from commgov.matching import MatchingProblem, Task, Volunteer, match_volunteers
from commgov.types import EARTH_RADIUS_M, GeoPoint, TimeWindow

SKILLS = ("delivery", "medic", "driver")
CENTRE = (120.62, 31.31)


def instance(n_tasks: int, n_vols: int, seed: int) -> MatchingProblem:
    rng = np.random.default_rng(seed)
    tz = ZoneInfo("Asia/Shanghai")
    slots = [
        TimeWindow(start=datetime(2022, 4, 10 + d, h, tzinfo=tz),
                   end=datetime(2022, 4, 10 + d, h, tzinfo=tz) + timedelta(hours=1))
        for d in range(2) for h in (9, 10, 14, 15)
    ]
    # side so that the disc of radius 1 km holds ~ 130 volunteers at 5000/500, fewer at 300/60
    side_m = math.sqrt(n_vols * math.pi * 1000**2 / 130) if n_vols > 100 else 2500.0
    m_per_deg_lat = 111_195.0
    m_per_deg_lon = m_per_deg_lat * math.cos(math.radians(CENTRE[1]))

    def place() -> GeoPoint:
        x, y = rng.uniform(-side_m / 2, side_m / 2, size=2)
        return GeoPoint(lon=CENTRE[0] + x / m_per_deg_lon, lat=CENTRE[1] + y / m_per_deg_lat)

    tasks = [
        Task(id=f"T{i:05d}", skill=SKILLS[int(rng.integers(3))], min_level=int(rng.integers(1, 3)),
             location=place(), window=slots[int(rng.integers(len(slots)))],
             priority=int(rng.integers(1, 4)))
        for i in range(n_tasks)
    ]
    vols = []
    for j in range(n_vols):
        names = sorted(SKILLS[int(k)] for k in rng.choice(3, size=int(rng.integers(1, 3)),
                                                          replace=False))
        vols.append(Volunteer(
            id=f"V{j:05d}", location=place(),
            skills={s: int(rng.integers(1, 6)) for s in names},
            availability=[s for s in slots if rng.random() < 0.6],
            capacity_per_slot=int(rng.integers(1, 3)), capacity_per_day=int(rng.integers(2, 6))))
    return MatchingProblem(timezone="Asia/Shanghai", tasks=tasks, volunteers=vols,
                           max_distance_m=1000.0)


def reference_network(p: MatchingProblem) -> dict[str, np.ndarray | int]:
    """The same flow network, built here with numpy, no commgov solver code."""
    tz = ZoneInfo(p.timezone)
    tasks = sorted(p.tasks, key=lambda t: t.id)
    vols = sorted(p.volunteers, key=lambda v: v.id)
    tlon = np.radians([t.location.lon for t in tasks])
    tlat = np.radians([t.location.lat for t in tasks])
    vlon = np.radians([v.location.lon for v in vols])
    vlat = np.radians([v.location.lat for v in vols])
    slot_keys = sorted({(t.window.start, t.window.end) for t in tasks})
    slot_ix = {k: i for i, k in enumerate(slot_keys)}
    day_keys = sorted({t.window.start.astimezone(tz).date() for t in tasks})
    day_ix = {k: i for i, k in enumerate(day_keys)}
    t_slot = np.array([slot_ix[(t.window.start, t.window.end)] for t in tasks])
    t_day = np.array([day_ix[t.window.start.astimezone(tz).date()] for t in tasks])
    avail = np.array([[any(w.contains(TimeWindow(start=s, end=e)) for w in v.availability)
                       for (s, e) in slot_keys] for v in vols], dtype=bool)  # vols x slots
    skills = {s: np.array([v.skills.get(s, 0) for v in vols]) for s in SKILLS}
    starts, ends, caps, costs = [], [], [], []
    nt, nv, ns, nd = len(tasks), len(vols), len(slot_keys), len(day_keys)
    src, snk = 0, 1
    task0 = 2
    vs0 = task0 + nt          # (v, slot) nodes: vs0 + v*ns + s
    vd0 = vs0 + nv * ns       # (v, day) nodes:  vd0 + v*nd + d
    n_nodes = vd0 + nv * nd
    big_parts = []
    pair_t, pair_v, pair_d = [], [], []
    for i, t in enumerate(tasks):
        dlat = vlat - tlat[i]
        dlon = vlon - tlon[i]
        h = np.sin(dlat / 2) ** 2 + np.cos(tlat[i]) * np.cos(vlat) * np.sin(dlon / 2) ** 2
        dist = np.floor(2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h)))
                        * p.detour_factor + 0.5).astype(np.int64)
        ok = (skills[t.skill] >= t.min_level) & (dist <= p.max_distance_m) & avail[:, t_slot[i]]
        vs = np.nonzero(ok)[0]
        pair_t.append(np.full(len(vs), i))
        pair_v.append(vs)
        pair_d.append(dist[vs])
        big_parts.append(int(dist[vs].max()) if len(vs) else 0)
    big_m = 1 + sum(big_parts)
    pt = np.concatenate(pair_t)
    pv = np.concatenate(pair_v)
    pdist = np.concatenate(pair_d)
    prio = np.array([t.priority for t in tasks], dtype=np.int64)
    ar = np.arange(nt)
    starts = np.concatenate([np.full(nt, src), task0 + ar, task0 + pt,
                             vs0 + np.arange(nv * ns),
                             vd0 + np.arange(nv * nd)])
    # (v, slot) -> (v, day of slot)
    slot_day = np.array([day_ix[s.astimezone(tz).date()] for (s, _) in slot_keys])
    vsl_v = np.repeat(np.arange(nv), ns)
    vsl_s = np.tile(np.arange(ns), nv)
    ends = np.concatenate([task0 + ar, np.full(nt, snk), vs0 + pv * ns + t_slot[pt],
                           vd0 + vsl_v * nd + slot_day[vsl_s], np.full(nv * nd, snk)])
    cps = np.array([v.capacity_per_slot for v in vols])
    cpd = np.array([v.capacity_per_day for v in vols])
    caps = np.concatenate([np.ones(nt), np.ones(nt), np.ones(len(pt)), cps[vsl_v],
                           np.repeat(cpd, nd)]).astype(np.int64)
    costs = np.concatenate([np.zeros(nt), big_m * prio, pdist, np.zeros(nv * ns),
                            np.zeros(nv * nd)]).astype(np.int64)
    _ = t_day
    return {"starts": starts.astype(np.int32), "ends": ends.astype(np.int32), "caps": caps,
            "costs": costs, "n_nodes": n_nodes, "n_tasks": nt, "big_m": big_m,
            "prio_total": int(prio.sum()), "n_pairs": len(pt)}


def solve_ortools(net: dict) -> tuple[int, float]:
    from ortools.graph.python import min_cost_flow

    t0 = time.perf_counter()
    smcf = min_cost_flow.SimpleMinCostFlow()
    smcf.add_arcs_with_capacity_and_unit_cost(net["starts"], net["ends"], net["caps"],
                                              net["costs"])
    sup = np.zeros(net["n_nodes"], dtype=np.int64)
    sup[0], sup[1] = net["n_tasks"], -net["n_tasks"]
    smcf.set_nodes_supplies(np.arange(net["n_nodes"], dtype=np.int32), sup)
    assert smcf.solve() == smcf.OPTIMAL
    return int(smcf.optimal_cost()), time.perf_counter() - t0


def solve_networkx(net: dict) -> tuple[int, float]:
    import networkx as nx

    t0 = time.perf_counter()
    g = nx.DiGraph()
    for u, v, c, w in zip(net["starts"].tolist(), net["ends"].tolist(), net["caps"].tolist(),
                          net["costs"].tolist(), strict=True):
        g.add_edge(u, v, capacity=c, weight=w)
    flow = nx.max_flow_min_cost(g, 0, 1)
    cost = nx.cost_of_flow(g, flow)
    return int(cost), time.perf_counter() - t0


def best_of(fn, repeat: int):  # type: ignore[no-untyped-def]
    best, out = math.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return out, best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", nargs="+", default=["300x60", "5000x500"])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-networkx", action="store_true")
    args = ap.parse_args()
    for size in args.sizes:
        nt, nv = (int(x) for x in size.split("x"))
        p = instance(nt, nv, args.seed)
        a, t_cg = best_of(lambda p=p: match_volunteers(p), args.repeat)
        net, t_build = best_of(lambda p=p: reference_network(p), 1)
        (cost_ot, t_solve), _ = best_of(lambda net=net: solve_ortools(net), args.repeat)
        cg_cost = a.totals.travel_m + net["big_m"] * (a.totals.priority_total
                                                      - a.totals.priority_served)
        print(f"\n== {nt} tasks x {nv} volunteers (seed {args.seed}): "
              f"{net['n_pairs']} eligible pairs, {len(net['costs'])} arcs, {net['n_nodes']} nodes")
        print(f"commgov match_volunteers      : {t_cg * 1000:9.1f} ms  "
              f"(served {a.totals.priority_served}/{a.totals.priority_total}, "
              f"travel {a.totals.travel_m} m)")
        print(f"(a) direct OR-Tools MCF build : {t_build * 1000:9.1f} ms (numpy eligibility)")
        print(f"(a) direct OR-Tools MCF solve : {t_solve * 1000:9.1f} ms  "
              f"same optimum: {cost_ot == cg_cost}")
        print(f"    ratio commgov / (a) build+solve = {t_cg / (t_build + t_solve):.2f}; "
              f"commgov / (a) solve only = {t_cg / t_solve:.1f}")
        if not args.no_networkx:
            cost_nx, t_nx = solve_networkx(net)
            print(f"(b) networkx max_flow_min_cost: {t_nx * 1000:9.1f} ms  "
                  f"same optimum: {cost_nx == cg_cost}")
            print(f"    ratio (b) / commgov = {t_nx / t_cg:.1f}; (b) / (a) solve = "
                  f"{t_nx / t_solve:.0f}")


if __name__ == "__main__":
    main()
