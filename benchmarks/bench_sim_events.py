"""Engine events per second: the desk-queue and relay submodels vs a bare SimPy loop.

Usage::

    python benchmarks/bench_sim_events.py [--customers 200000] [--lanes 6] [--rho 0.9]
                                          [--repeat 3]

For each model it counts the SimPy events the run processes (a counting pass: every
``Environment.step`` is one event taken off the heap), then times uncounted runs (best of
``--repeat``) and prints events per second. Arrival generation (numpy, before the clock
starts) is timed separately. The bare loop is ``lanes + 1`` processes that only
``yield env.timeout(1)``, run for the same number of events, so the ratio is the cost of the
model's Python work (queue bookkeeping, event-log rows) per event. Models:

* ``queues``: M/M/c (:func:`commgov.sim.desk_queue`), ``--customers`` residents;
* ``relay``: 20 volunteers carrying up to 10 parcels to 40 buildings
  (:func:`commgov.sim.relay_process`), 60 riders an hour with 5 parcels each on average
  for 200 hours (a shelf of 200, trip-time cv 0.2).

reference/simulation.md §2.2 measured SimPy at ≈1.0 M timeout events/s on the same kind of
2-core machine.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import simpy

from commgov.sim import (
    DeskPoint,
    EventLog,
    GateBuilding,
    RelayGate,
    RelayVolunteer,
    ServiceTime,
    desk_queue,
    poisson_arrivals,
    relay_process,
    rider_arrivals,
    stream_factory,
)


class CountingEnvironment(simpy.Environment):
    """An environment that counts processed events."""

    def __init__(self) -> None:
        super().__init__()
        self.events = 0

    def step(self) -> None:
        self.events += 1
        super().step()


def count_and_time(build: Callable[[simpy.Environment], None], repeat: int) -> tuple[int, float]:
    env = CountingEnvironment()
    build(env)
    env.run()
    best = float("inf")
    for _ in range(repeat):
        plain = simpy.Environment()
        build(plain)
        t0 = time.perf_counter()
        plain.run()
        best = min(best, time.perf_counter() - t0)
    return env.events, best


def bare_loop(n_events: int, processes: int, repeat: int) -> float:
    def ticker(env: simpy.Environment) -> Any:
        while True:
            yield env.timeout(1.0)

    best = float("inf")
    for _ in range(repeat):
        env = simpy.Environment()
        for _ in range(processes):
            env.process(ticker(env))
        t0 = time.perf_counter()
        # each unit of time processes `processes` timeouts (plus one init event each)
        env.run(until=max(1, n_events // processes))
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--customers", type=int, default=200_000)
    ap.add_argument("--lanes", type=int, default=6)
    ap.add_argument("--rho", type=float, default=0.9)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()

    rngs = stream_factory(1)
    point = DeskPoint("P", a.lanes, ServiceTime(1.0))
    lam = a.rho * a.lanes
    t0 = time.perf_counter()
    arrivals = poisson_arrivals(point, lam, a.customers / lam, rngs)
    gen_s = time.perf_counter() - t0

    def queue_model(env: simpy.Environment) -> None:
        desk_queue(env, point, arrivals, EventLog())

    gate = RelayGate(tuple(GateBuilding(f"B{i:02d}", 60.0 + 15.0 * i, 1.0 + 0.25 * (i % 5))
                           for i in range(40)), shelf_capacity=200, trip_cv=0.2)
    vols = [RelayVolunteer(f"v{i:02d}", 10) for i in range(20)]
    parcels = rider_arrivals(gate, 60.0, 60.0 * 200, rngs, parcels_per_rider=5.0,
                             batch="poisson")

    def relay_model(env: simpy.Environment) -> None:
        relay_process(env, gate, parcels, vols, EventLog(), rngs)

    print(f"arrival generation: {len(arrivals):,} residents in {gen_s * 1e3:.0f} ms (numpy)")
    print(f"{'model':<26}{'events':>12}{'seconds':>10}{'events/s':>14}{'vs bare':>9}")
    for name, build, procs, units in (
        (f"queues M/M/{a.lanes} ρ={a.rho}", queue_model, a.lanes + 1, len(arrivals)),
        ("relay 20 volunteers", relay_model, len(vols) + 1, len(parcels)),
    ):
        n, secs = count_and_time(build, a.repeat)
        bare = bare_loop(n, procs, a.repeat)
        print(f"{name:<26}{n:>12,}{secs:>10.3f}{n / secs:>14,.0f}{bare / secs:>9.2f}")
        print(f"{'  bare SimPy, ' + str(procs) + ' procs':<26}{n:>12,}{bare:>10.3f}"
              f"{n / bare:>14,.0f}{1.0:>9.2f}")
        print(f"{'  per customer/parcel':<26}{units:>12,}{'':>10}{units / secs:>14,.0f}")


if __name__ == "__main__":
    main()
