"""Parameter sweeps: many scenarios × replicates on any :class:`concurrent.futures.Executor`.

An :class:`Experiment` is a base scenario, what varies (a factorial ``grid`` of dotted field
paths → values, or any design table through :meth:`Experiment.from_dataframe`), a number of
replicates and a root seed. :func:`run_sweep` runs every (design point, replicate):

* in-process by default (``executor=None``);
* on one machine with a process pool, spawn context, whose workers die with this process::

      from commgov.sim import worker_pool

      with worker_pool(2) as pool:
          result = run_sweep(experiment, executor=pool)

* on a Dask cluster, ``distributed.Client(address).get_executor()``.

Replicates are sent in batches of one design point (``batch_size`` replicates each). Workers
receive the scenario, replicate numbers and root seed only; the runner
(``runner(scenario, replicate, root_seed)``, a module-level function so it pickles) loads what
it needs by name, seed and version.

Reproducibility: replicate ``r`` of every design point runs with the same root seed and
replicate number, so design points share their random numbers (common random numbers,
as in every replicate of a scenario). Rows come back sorted by (design point, replicate), so
the table — and :meth:`SweepResult.to_csv`, byte for byte — does not depend on the executor,
worker count, batch size, completion order or a resume from a :class:`~commgov.sim.SweepStore`.

A replicate that raises is recorded (``status="failed"`` with its traceback) and the others go
on; ``on_error="raise"`` re-raises the first error instead.

Resuming trusts only what can be trusted: the store keys batches on a fingerprint of the code
and library versions, checks each batch's checksum, and runs again — and reports in
:attr:`SweepResult.recomputed` and the ``commgov.sim`` log — the replicates of batches that are
damaged, edited or disagree with each other (:class:`~commgov.sim.SweepStore`).

Workers die with the process that runs the sweep: each one watches its parent
(:func:`~commgov.sim.worker_pool`, which the command line uses, and the first batch any
multiprocessing worker runs start the watch), so killing the parent, even by SIGKILL, leaves no
worker or resource tracker behind.
"""

from __future__ import annotations

import itertools
import os
import pickle
import platform
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from commgov._redact import get_logger
from commgov.sim._design import DesignPoint, Experiment, scenario_id
from commgov.sim._fingerprint import library_versions, sweep_fingerprint
from commgov.sim._plugins import load_plugins
from commgov.sim._store import StoreIssue, SweepStore, _file_name
from commgov.sim._sweep_result import RecomputedReplicate, SweepResult, SweepRow
from commgov.sim._workers import watch_parent

if TYPE_CHECKING:
    pass  # type: ignore[import-untyped,unused-ignore]

__all__ = ["run_sweep"]

_log = get_logger("commgov.sim")

#: Futures in flight at once: enough to keep any cluster busy, bounded for huge sweeps.
_MAX_PENDING = 256

_WHAT = "experiment"

Runner = Callable[[Any, int, int], Any]
Progress = Callable[[int, int], None]


# --------------------------------------------------------------------------------------------
# running


def _runner_id(runner: Runner) -> str:
    module = getattr(runner, "__module__", None)
    name = getattr(runner, "__qualname__", None)
    if module and name:
        return f"{module}:{name}"
    return f"{type(runner).__module__}:{type(runner).__qualname__}"


def _default_runner() -> Runner:
    try:
        from commgov.sim._engine import run_replicate
    except ImportError as exc:  # pragma: no cover - the engine ships with commgov
        raise RuntimeError("the simulation engine (commgov.sim._engine) is not available") from exc
    runner: Runner = run_replicate
    return runner


def _kpis_of(result: Any) -> dict[str, float]:
    kpis = result if isinstance(result, Mapping) else getattr(result, "kpis", None)
    if not isinstance(kpis, Mapping):
        raise TypeError(
            "a runner must return a result with .kpis (a mapping of KPI name to number) "
            f"or such a mapping, got {type(result).__name__}"
        )
    return {str(k): float(v) for k, v in kpis.items()}


BatchRow = tuple[int, str, dict[str, float], str]


def _run_batch(
    runner: Runner,
    scenario: Any,
    replicates: Sequence[int],
    root_seed: int,
    record: bool,
    plugins: Sequence[str] = (),
    in_worker: bool = False,
) -> list[BatchRow]:
    """Worker side: run some replicates of one scenario; (replicate, status, kpis, error)."""
    if in_worker:
        watch_parent()  # a multiprocessing worker of any pool leaves when its parent dies
    if plugins:
        load_plugins(plugins)
    rows: list[BatchRow] = []
    for replicate in replicates:
        if not record:
            rows.append((replicate, "ok", _kpis_of(runner(scenario, replicate, root_seed)), ""))
            continue
        try:
            kpis = _kpis_of(runner(scenario, replicate, root_seed))
        except Exception:
            rows.append((replicate, "failed", {}, traceback.format_exc()))
        else:
            rows.append((replicate, "ok", kpis, ""))
    return rows


@dataclass(frozen=True, slots=True)
class _Batch:
    point: DesignPoint
    replicates: tuple[int, ...]


def _batches(
    experiment: Experiment, batch_size: int, done: Mapping[tuple[str, int], Any]
) -> Iterator[_Batch]:
    for point in experiment.points:
        todo = [r for r in range(experiment.replicates) if (point.scenario_id, r) not in done]
        for start in range(0, len(todo), batch_size):
            yield _Batch(point, tuple(todo[start : start + batch_size]))


def _check_picklable(runner: Runner, experiment: Experiment) -> None:
    try:
        pickle.dumps(runner)
    except Exception as exc:
        raise TypeError(
            f"runner {_runner_id(runner)} cannot be pickled for the executor's workers "
            f"({exc}); use a function defined with def at module level, not a lambda, "
            "closure or local function"
        ) from exc
    try:
        pickle.dumps(experiment.points[0].scenario)
    except Exception as exc:
        raise TypeError(
            f"the scenario cannot be pickled for the executor's workers ({exc})"
        ) from exc


def _versions() -> dict[str, str]:
    from commgov import __version__

    out = {"commgov": __version__, "python": platform.python_version()}
    out.update((k, v) for k, v in library_versions().items() if k != "python")
    return out


def _recomputed(
    experiment: Experiment,
    issues: Sequence[StoreIssue],
    done: Mapping[tuple[str, int], Any],
    batch_size: int,
    key: tuple[int, str, str],
) -> tuple[RecomputedReplicate, ...]:
    """The replicates of this sweep held by untrusted files and not found in trusted ones.

    A file whose contents could be read names its replicates; one that could not (a bare
    ``NaN``, cut short) is matched by name: a batch of this sweep about to run again has the
    name of the file it replaces when its key and replicates are the same.
    """
    reasons: dict[tuple[str, int], list[str]] = {}
    for issue in issues:
        if issue.scenario_id is None:
            continue
        for r in issue.replicates:
            reasons.setdefault((issue.scenario_id, r), []).append(f"{issue.file}: {issue.reason}")
    unread = {i.file: i.reason for i in issues if i.scenario_id is None}
    if unread:
        seed, rid, fp = key
        for batch in _batches(experiment, batch_size, done):
            sid = batch.point.scenario_id
            name = _file_name(sid, seed, rid, fp, batch.replicates)
            if name in unread:
                for r in batch.replicates:
                    reasons.setdefault((sid, r), []).append(f"{name}: {unread[name]}")
    out = []
    for point in experiment.points:
        for r in range(experiment.replicates):
            k = (point.scenario_id, r)
            if k in reasons and k not in done:
                out.append(
                    RecomputedReplicate(point.index, r, point.scenario_id, "; ".join(reasons[k]))
                )
    return tuple(out)


def run_sweep(
    experiment: Experiment,
    *,
    executor: Executor | None = None,
    store: SweepStore | str | os.PathLike[str] | None = None,
    batch_size: int = 8,
    on_error: Literal["record", "raise"] = "record",
    runner: Runner | None = None,
    progress: Progress | None = None,
    plugins: Sequence[str] = (),
) -> SweepResult:
    """Run every (design point, replicate) of an experiment.

    Parameters
    ----------
    experiment : Experiment
        Scenarios, replicates and root seed.
    executor : concurrent.futures.Executor, optional
        Where batches run: None runs them in this process, one after another; otherwise any
        executor — :func:`~commgov.sim.worker_pool` (a spawn-context
        :class:`~concurrent.futures.ProcessPoolExecutor` whose workers die with this process),
        or ``distributed.Client(...).get_executor()``. It is not shut down here.
    store : SweepStore or path, optional
        A folder of finished batches: replicates found there are not run again, and each
        finished batch is written there (by this process) as soon as it returns. Batches are
        keyed on the fingerprint of the code and libraries; untrusted ones (damaged, edited,
        disagreeing) are moved to ``rejected/``, logged, and their replicates run again and
        are listed in :attr:`SweepResult.recomputed`.
    batch_size : int, default 8
        Replicates of one design point per task; larger batches cost less overhead per
        replicate, smaller ones balance better.
    on_error : {"record", "raise"}, default "record"
        ``"record"``: a replicate that raises (or a batch its worker lost) is a row with
        ``status="failed"`` and the traceback, and the sweep goes on. ``"raise"``: the first
        error is raised and pending batches are cancelled.
    runner : callable, optional
        ``runner(scenario, replicate, root_seed)`` returning a result with ``.kpis`` (a
        mapping of KPI name → number) or such a mapping. Default: the engine's
        ``commgov.sim.run_replicate``. With an executor it must pickle (a module-level
        function).
    progress : callable, optional
        ``progress(done, total)`` in replicates, called in this process at the start (with
        the replicates found in the store) and after each batch.
    plugins : sequence of str, default ()
        Modules that register the scenario's own submodels or policies, imported here and in
        every worker before it runs a batch (:func:`commgov.sim.load_plugins`). Scenario files
        never make commgov import anything.

    Returns
    -------
    SweepResult
        One row per (point, replicate), sorted by (point, replicate).

    Raises
    ------
    TypeError
        If the runner or scenario does not pickle while an executor is given.
    ValueError
        If ``batch_size`` or ``on_error`` is invalid.

    Notes
    -----
    O(points × replicates) bookkeeping besides the runs; reading the store is O(its bytes).
    The first sweep of a process reads the commgov package once (about 2 MB) for the code
    fingerprint.
    """
    return _run_sweep(
        experiment,
        executor=executor,
        store=store,
        batch_size=batch_size,
        on_error=on_error,
        runner=runner,
        progress=progress,
        plugins=plugins,
    )


def _run_sweep(
    experiment: Experiment,
    *,
    executor: Executor | None = None,
    store: SweepStore | str | os.PathLike[str] | None = None,
    batch_size: int = 8,
    on_error: Literal["record", "raise"] = "record",
    runner: Runner | None = None,
    progress: Progress | None = None,
    plugins: Sequence[str] = (),
    prior: Sequence[SweepRow] = (),
) -> SweepResult:
    """:func:`run_sweep`, given rows already run (``prior``, by the same runner and seed)."""
    if not isinstance(experiment, Experiment):
        raise TypeError(f"experiment must be an Experiment, got {type(experiment).__name__}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a whole number ≥ 1, got {batch_size!r}")
    if on_error not in ("record", "raise"):
        raise ValueError(f"on_error must be 'record' or 'raise', got {on_error!r}")
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise TypeError(f"executor must be a concurrent.futures.Executor, got {executor!r}")
    load_plugins(plugins)
    run = runner if runner is not None else _default_runner()
    rid = _runner_id(run)
    if executor is not None:
        _check_picklable(run, experiment)
    if store is not None and not isinstance(store, SweepStore):
        store = SweepStore(store)
    seed = experiment.root_seed
    record = on_error == "record"
    fp, fp_parts = sweep_fingerprint(rid, plugins)

    done: dict[tuple[str, int], dict[str, float]] = {}
    recomputed: tuple[RecomputedReplicate, ...] = ()
    issues: tuple[StoreIssue, ...] = ()
    if store is not None:
        lookup = store.load({p.scenario_id for p in experiment.points}, seed, rid, fingerprint=fp)
        done, issues = lookup.found, lookup.issues
        recomputed = _recomputed(experiment, issues, done, batch_size, (seed, rid, fp))
        store.reject(issues)
        if recomputed:
            _log.warning(
                "sweep store %s: running again %d replicate(s) of untrusted batches "
                "(SweepResult.recomputed lists them)",
                store.path,
                len(recomputed),
            )
    rows: dict[tuple[int, int], SweepRow] = {}
    if prior:
        done = dict(done)
        for row in prior:
            done[(row.scenario_id, row.replicate)] = dict(row.kpis)
    for point in experiment.points:
        for r in range(experiment.replicates):
            kpis = done.get((point.scenario_id, r))
            if kpis is not None:
                rows[(point.index, r)] = SweepRow(
                    point.index, point.scenario_id, point.values, r, "ok", kpis
                )
    for row in prior:  # failed rows too, as they were
        rows[(row.point, row.replicate)] = row
    total = experiment.n_tasks
    if progress is not None:
        progress(len(rows), total)

    def finish(batch: _Batch, results: list[BatchRow]) -> None:
        p = batch.point
        for r, status, kpis, error in results:
            rows[(p.index, r)] = SweepRow(
                p.index,
                p.scenario_id,
                p.values,
                r,
                "ok" if status == "ok" else "failed",
                kpis,
                error,
            )
        if store is not None:
            store.put(
                p.scenario_id,
                seed,
                rid,
                [(r, k) for r, s, k, _ in results if s == "ok"],
                fingerprint=fp,
            )
        if progress is not None:
            progress(len(rows), total)

    def lost(batch: _Batch, exc: BaseException) -> list[BatchRow]:
        text = "".join(traceback.format_exception(exc))
        return [(r, "failed", {}, text) for r in batch.replicates]

    todo = _batches(experiment, batch_size, done)
    if executor is None:
        for batch in todo:
            finish(
                batch,
                _run_batch(run, batch.point.scenario, batch.replicates, seed, record, plugins),
            )
    else:
        pending: dict[Future[list[BatchRow]], _Batch] = {}
        try:
            while True:
                for batch in itertools.islice(todo, _MAX_PENDING - len(pending)):
                    future = executor.submit(
                        _run_batch,
                        run,
                        batch.point.scenario,
                        batch.replicates,
                        seed,
                        record,
                        tuple(plugins),
                        True,
                    )
                    pending[future] = batch
                if not pending:
                    break
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(finished, key=lambda f: _order(pending[f])):
                    batch = pending.pop(future)
                    try:
                        results = future.result()
                    except Exception as exc:
                        if not record:
                            raise
                        results = lost(batch, exc)
                    finish(batch, results)
        finally:
            for future in pending:
                future.cancel()

    ordered = tuple(rows[key] for key in sorted(rows))
    provenance = {
        "root_seed": seed,
        "replicates": experiment.replicates,
        "points": len(experiment.points),
        "base_scenario_id": scenario_id(experiment.base),
        "runner": rid,
        "versions": _versions(),
        "fingerprint": fp,
        "code": {"commgov": fp_parts["commgov"], "modules": fp_parts["modules"]},
    }
    if recomputed:
        provenance["recomputed"] = [
            {"point": x.point, "replicate": x.replicate, "reason": x.reason} for x in recomputed
        ]
    return SweepResult(experiment, ordered, provenance, recomputed, issues)


def _order(batch: _Batch) -> tuple[int, int]:
    return (batch.point.index, batch.replicates[0])
