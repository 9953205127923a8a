"""Standalone lower bound for sampling-timeslot plans: the splittable relaxation (F1 + F2).

Usage::

    python benchmarks/sampling_bound.py INSTANCE.json [--lp]

Reads a ``SamplingProblem`` JSON file with the standard library only (it imports nothing from
commgov) and solves the relaxation in which residents of a building may be split over points
and slots, person by person, with the same arcs (allowed, open points within the walk limit),
the same slot capacities ``floor(lanes · rate · Δ/60 · ρ)`` and the same F2 queue (backlog
≤ ``max_queue`` carried to the next slot, none at the end of the window), as a min-cost flow
(OR-Tools): lexicographically most people served, then least walking (person-metres). Any plan
that serves as many people walks at least this much. ``--lp`` solves the same relaxation as an
LP with HiGHS (scipy) as a cross-check. Sealed (``sealed``, ``high``) buildings are sampled
door to door and left out. The definitions are re-implemented here on purpose.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

EARTH_RADIUS_M = 6_371_008.8
STAY_HOME = {"sealed", "high"}


def _exact(x: float) -> Fraction:
    return Fraction(repr(float(x)))


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def arcs(inst: dict[str, Any]) -> dict[str, Any]:
    """Supplies, arcs and capacities of the relaxation, from the instance's JSON dict."""
    pol = {"slot_minutes": 30, "utilisation": 0.85, "max_queue": 200, "max_walk_minutes": 15.0,
           "walking_speed_m_per_min": 80.0, "detour_factor": 1.3, **inst.get("policy", {})}
    w0 = datetime.fromisoformat(inst["window"]["start"])
    w1 = datetime.fromisoformat(inst["window"]["end"])
    delta = timedelta(minutes=pol["slot_minutes"])
    n_slots = int((w1 - w0) // delta)
    limit = float(_exact(pol["max_walk_minutes"]) * _exact(pol["walking_speed_m_per_min"]))
    points = {p["id"]: p for p in inst["points"]}
    cap, opened = {}, {}
    for pid, p in points.items():
        c = (Fraction(p["lanes"]) * _exact(p.get("rate_per_lane_per_hour", 100.0))
             * Fraction(pol["slot_minutes"], 60) * _exact(pol["utilisation"]))
        cap[pid] = max(0, math.floor(c))
        op = p.get("opening")
        lo = datetime.fromisoformat(op["start"]) if op else None
        hi = datetime.fromisoformat(op["end"]) if op else None
        opened[pid] = [t for t in range(n_slots)
                       if op is None or (lo <= w0 + t * delta and w0 + (t + 1) * delta <= hi)]
    supply: dict[str, int] = {}
    pairs: list[tuple[str, str, int]] = []
    for b in sorted(inst["buildings"], key=lambda b: b["id"]):
        if b.get("zone", "precautionary") in STAY_HOME:
            continue
        supply[b["id"]] = sum(k["people"] for k in b.get("batches", []))
        allowed = b.get("allowed_point_ids")
        for pid in sorted(points if allowed is None else set(allowed)):
            p = points[pid]
            if not opened[pid] or cap[pid] <= 0:
                continue
            d = round(haversine_m(b["location"]["lon"], b["location"]["lat"],
                                  p["location"]["lon"], p["location"]["lat"])
                      * pol["detour_factor"])
            if d <= limit:
                pairs.append((b["id"], pid, d))
    return {"n_slots": n_slots, "cap": cap, "opened": opened, "supply": supply,
            "pairs": pairs, "max_queue": int(pol["max_queue"]), "points": sorted(points)}


def bound_mcf(inst: dict[str, Any]) -> dict[str, Any]:
    """The relaxation by OR-Tools min-cost flow: ``served``, ``walk_person_m`` (exact)."""
    from ortools.graph.python import min_cost_flow

    t0 = time.perf_counter()
    a = arcs(inst)
    nt, cap, opened = a["n_slots"], a["cap"], a["opened"]
    bidx = {b: i for i, b in enumerate(a["supply"])}
    nb = len(bidx)
    pidx = {p: j for j, p in enumerate(a["points"])}
    sink = nb + len(pidx) * nt

    def node(pid: str, t: int) -> int:
        return nb + pidx[pid] * nt + t

    total = sum(a["supply"].values())
    max_d = max((d for _b, _p, d in a["pairs"]), default=0)
    n_nodes = sink + 1
    big = (max_d + 1) * n_nodes + 1  # beats any augmenting path: served first
    if big * n_nodes * n_nodes >= 2**62:
        raise OverflowError("costs too large for OR-Tools min-cost flow")
    tails, heads, caps, costs = [], [], [], []

    def arc(u: int, v: int, c: int, w: int) -> None:
        tails.append(u)
        heads.append(v)
        caps.append(c)
        costs.append(w)

    for b, pid, d in a["pairs"]:
        for t in opened[pid]:
            arc(bidx[b], node(pid, t), a["supply"][b], d)
    for pid in a["points"]:
        op = set(opened[pid])
        for t in range(nt):
            arc(node(pid, t), sink, cap[pid] if t in op else 0, 0)
            if t + 1 < nt:
                arc(node(pid, t), node(pid, t + 1), a["max_queue"], 0)
    for b, i in bidx.items():
        arc(i, sink, a["supply"][b], big)
    mcf = min_cost_flow.SimpleMinCostFlow()
    mcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    for b, i in bidx.items():
        mcf.set_node_supply(i, a["supply"][b])
    mcf.set_node_supply(sink, -total)
    status = mcf.solve()
    if status != mcf.OPTIMAL:
        raise RuntimeError(f"min-cost flow status {status}")
    n_unserved_arcs = len(bidx)
    flows = mcf.flows(list(range(len(tails) - n_unserved_arcs, len(tails))))
    unserved = int(sum(flows))
    walk = mcf.optimal_cost() - big * unserved
    return {"served": total - unserved, "walk_in_people": total, "walk_person_m": int(walk),
            "arcs": len(tails), "time_s": time.perf_counter() - t0, "method": "ortools-mcf"}


def bound_lp(inst: dict[str, Any]) -> dict[str, Any]:
    """The same relaxation as an LP with HiGHS (scipy), two phases: served, then walking."""
    import numpy as np
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix

    t0 = time.perf_counter()
    a = arcs(inst)
    nt, cap, opened = a["n_slots"], a["cap"], a["opened"]
    cols: list[tuple[str, str, int, int]] = []  # (building, point, slot, distance)
    for b, pid, d in a["pairs"]:
        cols.extend((b, pid, t, d) for t in opened[pid])
    nx = len(cols)
    qcol = {(p, t): nx + i for i, (p, t) in enumerate((p, t) for p in a["points"]
                                                       for t in range(nt))}
    n = nx + len(qcol)
    rows, cidx, vals, ub = [], [], [], []
    r = 0
    brow = {b: i for i, b in enumerate(a["supply"])}
    for j, (b, _p, _t, _d) in enumerate(cols):  # Σ x_b ≤ supply
        rows.append(brow[b])
        cidx.append(j)
        vals.append(1.0)
    ub.extend(float(a["supply"][b]) for b in brow)
    r = len(brow)
    prow = {(p, t): r + i for i, (p, t) in enumerate((p, t) for p in a["points"]
                                                      for t in range(nt))}
    for j, (_b, p, t, _d) in enumerate(cols):  # arrivals + q_{t-1} - q_t ≤ cap
        rows.append(prow[p, t])
        cidx.append(j)
        vals.append(1.0)
    for (p, t), rr in prow.items():
        rows.append(rr)
        cidx.append(qcol[p, t])
        vals.append(-1.0)
        if t:
            rows.append(rr)
            cidx.append(qcol[p, t - 1])
            vals.append(1.0)
        ub.append(float(cap[p] if t in set(opened[p]) else 0))
    a_ub = coo_matrix((vals, (rows, cidx)), shape=(len(ub), n)).tocsr()
    bounds = [(0, None)] * nx + [(0, 0 if t == nt - 1 else a["max_queue"]) for (_p, t) in qcol]
    served_c = np.concatenate([-np.ones(nx), np.zeros(len(qcol))])
    r1 = linprog(served_c, A_ub=a_ub, b_ub=ub, bounds=bounds, method="highs")
    served = -r1.fun
    walk_c = np.concatenate([np.asarray([c[3] for c in cols], float), np.zeros(len(qcol))])
    from scipy.sparse import vstack

    a2 = vstack([a_ub, coo_matrix(served_c.reshape(1, -1))]).tocsr()
    r2 = linprog(walk_c, A_ub=a2, b_ub=[*ub, -served + 1e-6], bounds=bounds, method="highs")
    return {"served": round(served), "walk_in_people": sum(a["supply"].values()),
            "walk_person_m": float(r2.fun), "arcs": nx, "time_s": time.perf_counter() - t0,
            "method": "highs-lp"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("instance", type=Path)
    ap.add_argument("--lp", action="store_true", help="also solve the LP with HiGHS")
    args = ap.parse_args()
    inst = json.loads(args.instance.read_text(encoding="utf-8"))
    out = {"mcf": bound_mcf(inst)}
    if args.lp:
        out["lp"] = bound_lp(inst)
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
