"""A toy submodel for the ``commgov simulate`` tests, loaded with ``--plugin simulate_helpers``
(here and in every spawned worker) and named by module:qualname in scenarios."""

from commgov.sim import SubmodelParams, register_submodel


class TickParams(SubmodelParams):
    mean_min: float = 1.0
    ticks: int = 5
    fail_after: int = -1  # raise at this tick (-1: never)


def _tick_kpis(log, ctx, params):
    times = [log.t_min[i] for i in log.where("tick")]
    return {"ticks": float(len(times)), "last_min": times[-1] if times else float("nan")}


@register_submodel("cli_tick", params=TickParams, kpis=_tick_kpis)
def cli_tick(env, ctx, params):
    def proc():
        r = ctx.rng("sim", "ticker")
        for i in range(params.ticks):
            if i == params.fail_after and ctx.replicate % 2 == 1:
                raise RuntimeError(f"tick failure in replicate {ctx.replicate}")
            yield env.timeout(r.exponential(params.mean_min))
            ctx.log.record(env.now, "tick", "ticker", value=1.0)

    env.process(proc())
