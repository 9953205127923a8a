"""Sequential sweeps: add replicates in batches until a KPI's interval is narrow enough."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Literal

from commgov._options import Interval, check_options_interval
from commgov.sim._design import Experiment
from commgov.sim._store import SweepStore
from commgov.sim._sweep import Progress, Runner, _run_sweep
from commgov.sim._sweep_result import SweepResult, SweepRow

__all__ = ["SequentialStep", "SequentialSweep", "run_sequential"]

_WHERE = "run_sequential"


@dataclass(frozen=True, slots=True)
class SequentialStep:
    """One look at the intervals during :func:`run_sequential`.

    Attributes
    ----------
    replicates : int
        Replicates per design point at this look.
    half_width : float
        The widest half-width of the KPI's interval over the design points (NaN while some
        point has fewer than two values).
    target : float
        The half-width asked for at this look (absolute: a relative target times the
        smallest |mean|).
    """

    replicates: int
    half_width: float
    target: float


@dataclass(frozen=True, slots=True)
class SequentialSweep:
    """The result of :func:`run_sequential`.

    Attributes
    ----------
    result : SweepResult
        The sweep at its last look: the same rows, byte for byte, as ``run_sweep`` of the
        experiment with ``replicates`` replicates.
    kpi : str
        The KPI whose interval was watched.
    level : float
        Its confidence level.
    steps : tuple of SequentialStep
        Every look, in order.
    reached : bool
        Whether the last look met the target (else ``max_replicates`` stopped the sweep).
    """

    result: SweepResult
    kpi: str
    level: float
    steps: tuple[SequentialStep, ...]
    reached: bool

    @property
    def replicates(self) -> int:
        """Replicates per design point at the end."""
        return self.result.experiment.replicates


def _look(
    result: SweepResult, kpi: str, level: float, half_width: float, relative: bool
) -> SequentialStep:
    table = result.summary(kpi, level=level)
    widths = ((table["ci_high"] - table["ci_low"]) / 2.0).to_numpy(dtype=float)
    widest = (
        math.nan if widths.size == 0 or bool(any(map(math.isnan, widths))) else float(widths.max())
    )
    if relative:
        means = table["mean"].abs().to_numpy(dtype=float)
        scale = float(means.min()) if means.size and not any(map(math.isnan, means)) else math.nan
        target = half_width * scale
    else:
        target = half_width
    return SequentialStep(result.experiment.replicates, widest, target)


def run_sequential(
    experiment: Experiment,
    *,
    kpi: str,
    half_width: float,
    relative: bool = False,
    batch: int | None = None,
    max_replicates: int = 1000,
    level: float = 0.95,
    executor: Executor | None = None,
    store: SweepStore | str | os.PathLike[str] | None = None,
    batch_size: int = 8,
    on_error: Literal["record", "raise"] = "record",
    runner: Runner | None = None,
    progress: Progress | None = None,
    plugins: Sequence[str] = (),
) -> SequentialSweep:
    """Run a sweep in batches of replicates until a KPI's interval is as narrow as asked.

    The sweep starts with ``experiment.replicates`` replicates per design point. After each
    batch the KPI's ``level`` interval of the mean (:meth:`SweepResult.summary`: t, BCa
    bootstrap or Wilson by the KPI's kind) is computed at every design point; the sweep stops
    when the widest half-width is at most ``half_width`` (or ``half_width × |mean|`` with
    ``relative``, the smallest |mean| over the points), or when ``max_replicates`` is reached.
    Otherwise every design point gets ``batch`` more replicates — all points the same number,
    so the paired differences of :meth:`SweepResult.differences` keep their pairs.

    Replicate ``r`` runs with the same seeds whenever it is run, so the result equals, byte for
    byte, ``run_sweep`` with the final number of replicates, and the same rule on the same
    experiment stops at the same number, whatever the executor.

    Parameters
    ----------
    experiment : Experiment
        The design, root seed and first number of replicates (≥ 2).
    kpi : str
        The KPI to watch.
    half_width : float
        Target half-width, in the KPI's unit (or a fraction of its mean with ``relative``);
        > 0.
    relative : bool, default False
        Whether ``half_width`` is relative to the smallest |mean| over the points.
    batch : int, optional
        Replicates added per design point at each step (default: ``experiment.replicates``).
    max_replicates : int, default 1000
        Most replicates per design point.
    level : float, default 0.95
        Confidence level.
    executor, store, batch_size, on_error, runner, progress, plugins
        As in :func:`run_sweep` (``progress`` counts the replicates of the current step).

    Returns
    -------
    SequentialSweep
        The result, every look and whether the target was met.

    Raises
    ------
    commgov.errors.InvalidParameterError
        If a number is out of range (a ``ValueError``).
    KeyError
        If the first batch has no such KPI.

    Notes
    -----
    Each step runs only the new replicates: O(max_replicates × points) runs at most, plus a
    summary per look. Stopping when an interval is narrow enough (Chow & Robbins 1965) gives
    coverage close to, and slightly below, the nominal level for small first batches; start
    with 10 or more replicates (Law 2015, §9.4.1).

    References
    ----------
    Chow, Y. S. & Robbins, H. (1965). On the asymptotic theory of fixed-width sequential
    confidence intervals for the mean. Ann. Math. Stat. 36(2), 457–462.
    Law, A. M. (2015). Simulation Modeling and Analysis, 5th ed. McGraw-Hill, §9.4.1.
    """
    if not isinstance(experiment, Experiment):
        raise TypeError(f"experiment must be an Experiment, got {type(experiment).__name__}")
    check_options_interval(
        _WHERE, "half_width", half_width, Interval(Real, 0.0, None, closed="neither")
    )
    check_options_interval(_WHERE, "level", level, Interval(Real, 0.0, 1.0, closed="neither"))
    check_options_interval(_WHERE, "replicates", experiment.replicates, Interval(Integral, 2, None))
    check_options_interval(
        _WHERE, "max_replicates", max_replicates, Interval(Integral, experiment.replicates, None)
    )
    step = experiment.replicates if batch is None else batch
    check_options_interval(_WHERE, "batch", step, Interval(Integral, 1, None))

    rows: tuple[SweepRow, ...] = ()
    n = experiment.replicates
    steps: list[SequentialStep] = []
    while True:
        current = experiment._with_replicates(n)
        result = _run_sweep(
            current,
            executor=executor,
            store=store,
            batch_size=batch_size,
            on_error=on_error,
            runner=runner,
            progress=progress,
            plugins=plugins,
            prior=rows,
        )
        look = _look(result, kpi, level, half_width, relative)
        steps.append(look)
        reached = (
            not math.isnan(look.half_width)
            and not math.isnan(look.target)
            and look.half_width <= look.target
        )
        if reached or n >= max_replicates:
            return SequentialSweep(result, kpi, level, tuple(steps), reached)
        rows = result.rows
        n = min(n + step, max_replicates)
