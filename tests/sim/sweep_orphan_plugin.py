"""A slow toy submodel for the worker-orphan tests, loaded with ``--plugin sweep_orphan_plugin``
in a ``python -m commgov simulate --workers 2`` subprocess (and in each of its workers).

Each tick waits ``sleep_s`` seconds of wall time, so a sweep lasts long enough to be killed
while its workers run batches."""

import time

from commgov.sim import SubmodelParams, register_submodel


class SlowTickParams(SubmodelParams):
    ticks: int = 5
    sleep_s: float = 0.3


def _kpis(log, ctx, params):
    return {"ticks": float(len(log.where("slow_tick")))}


@register_submodel("orphan_slow_tick", params=SlowTickParams, kpis=_kpis)
def orphan_slow_tick(env, ctx, params):
    def proc():
        for _ in range(params.ticks):
            time.sleep(params.sleep_s)  # wall time, not simulated time
            yield env.timeout(1.0)
            ctx.log.record(env.now, "slow_tick", "ticker", value=1.0)

    env.process(proc())
