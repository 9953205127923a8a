"""Per-replicate outputs of a sweep on request: event logs and time series as Parquet, GeoJSON.

A sweep keeps only KPIs. :func:`write_sweep_outputs` runs the chosen replicates of a finished
:class:`~commgov.sim.SweepResult` once more — a replicate is a pure function of (scenario,
replicate, root seed), so the run gives the sweep's own events, and its KPIs are checked
against the sweep's row — and writes, under ``out``:

``events/point_<p>/replicate_<r>.parquet``
    The replicate's :class:`~commgov.sim.EventLog`: columns ``point``, ``replicate`` (int64),
    ``t_min`` (float64, minutes since the scenario start), ``kind``, ``entity``, ``actor``,
    ``community`` (strings; the community whose submodel recorded the event) and ``value``
    (float64, NaN where none), in log order.
``timeseries/point_<p>/replicate_<r>.parquet``
    Per interval of ``time_series_min`` minutes, :func:`time_series`: columns ``point``,
    ``replicate``, ``start_min``, ``end_min``, ``metric`` and ``value``.
``spatial/point_<p>.geojson``
    Per design point, KPIs per building and community (:func:`commgov.sim.spatial_kpis`),
    means over the chosen replicates.

Every file is written atomically (:func:`commgov._files.write_texts`); the same sweep, request
and pyarrow version give byte-identical files (fixed Parquet writer options; nothing in them
depends on the clock, the executor or the order replicates finish in). The KPI files of the
sweep are not touched. With an executor the replicates run there in batches, and the files are
written by this process as batches finish (together, once about 32 MB are ready).
"""

from __future__ import annotations

import errno
import json
import math
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from commgov._files import write_texts
from commgov._random import rng
from commgov.errors import InvalidParameterError
from commgov.sim._event_tables import _events_parquet, _pyarrow, _series_parquet, time_series
from commgov.sim._log import EventLog
from commgov.sim._plugins import load_plugins
from commgov.sim._workers import watch_parent

if TYPE_CHECKING:
    from commgov.sim._sweep_result import SweepResult

__all__ = ["select_replicates", "write_sweep_outputs"]

Sink = Callable[[Mapping[str | Path, str | bytes]], Sequence[Path]]
ReplicateChoice = Literal["all"] | int

#: Bytes of finished files held before they are written together (one write, one manifest).
_FLUSH_BYTES = 32 << 20

#: Entity key of the seeded sample of replicates (stream ``"sim"``).
_SAMPLE_ENTITY = "sweep-outputs/sample"


# ------------------------------------------------------------------------------ choices


def select_replicates(replicates: int, choice: ReplicateChoice, root_seed: int) -> tuple[int, ...]:
    """The replicate numbers whose outputs are written, sorted.

    Parameters
    ----------
    replicates : int
        Replicates per design point.
    choice : "all" or int
        Every replicate, or a sample of this many (all when it is at least ``replicates``).
    root_seed : int
        The sweep's root seed: the sample is drawn from stream ``"sim"`` (entity
        ``"sweep-outputs/sample"``), so the same sweep picks the same replicates, and every
        design point gets the same ones (paired under common random numbers).

    Raises
    ------
    commgov.errors.InvalidParameterError
        If ``choice`` is neither ``"all"`` nor a whole number ≥ 1.
    """
    if choice == "all":
        return tuple(range(replicates))
    if isinstance(choice, bool) or not isinstance(choice, int) or choice < 1:
        raise InvalidParameterError(
            "replicates", choice, "'all' or a whole number ≥ 1", "write_sweep_outputs"
        )
    if choice >= replicates:
        return tuple(range(replicates))
    picked = rng(root_seed, "sim", _SAMPLE_ENTITY).choice(replicates, size=choice, replace=False)
    return tuple(sorted(int(r) for r in picked))


# ------------------------------------------------------------------------------ running


@dataclass(frozen=True, slots=True)
class _Request:
    events: bool
    interval_min: float | None
    geojson: bool


#: One replicate's outputs: replicate, KPIs, files (name → bytes), place KPIs, error text.
_Out = tuple[int, dict[str, float], dict[str, bytes], dict[str, dict[str, float]] | None, str]


def _output_batch(
    runner: Callable[[Any, int, int], Any],
    scenario: Any,
    point: int,
    replicates: Sequence[int],
    root_seed: int,
    request: _Request,
    plugins: Sequence[str] = (),
    in_worker: bool = False,
) -> list[_Out]:
    """Worker side: run replicates again and build their files."""
    if in_worker:
        watch_parent()
    if plugins:
        load_plugins(plugins)
    out: list[_Out] = []
    for r in replicates:
        try:
            result = runner(scenario, r, root_seed)
            log = getattr(result, "log", None)
            if not isinstance(log, EventLog):
                raise TypeError(
                    f"the runner returned {type(result).__name__}, which has no "
                    "event log (.log): only run_replicate-like runners have outputs"
                )
            kpis = {str(k): float(v) for k, v in result.kpis.items()}
            files: dict[str, bytes] = {}
            if request.events:
                tags = getattr(result, "communities", None)
                communities = (
                    list(tags) if tags is not None else [scenario.community.community] * len(log)
                )
                files[f"events/point_{point}/replicate_{r}.parquet"] = _events_parquet(
                    point, r, log, communities
                )
            if request.interval_min is not None:
                files[f"timeseries/point_{point}/replicate_{r}.parquet"] = _series_parquet(
                    point, r, time_series(log, request.interval_min, scenario.horizon_min)
                )
            places = None
            if request.geojson:
                from commgov.sim._spatial import place_kpis

                places = place_kpis(scenario, log)
            out.append((r, kpis, files, places, ""))
        except Exception:
            out.append((r, {}, {}, None, traceback.format_exc()))
    return out


def _same(a: Mapping[str, float], b: Mapping[str, float]) -> bool:
    if a.keys() != b.keys():
        return False
    return all((math.isnan(x) and math.isnan(b[k])) or x == b[k] for k, x in a.items())


def write_sweep_outputs(
    result: SweepResult,
    out: str | Path,
    *,
    event_logs: bool = False,
    time_series_min: float | None = None,
    geojson: bool = False,
    replicates: ReplicateChoice = "all",
    executor: Executor | None = None,
    runner: Callable[[Any, int, int], Any] | None = None,
    plugins: Sequence[str] = (),
    batch_size: int = 8,
    progress: Callable[[int, int], None] | None = None,
    overwrite: bool = False,
    sink: Sink | None = None,
) -> list[Path]:
    """Write event logs, time series (Parquet) and spatial KPIs (GeoJSON) of a sweep.

    The chosen replicates of every design point are run again (see the module docstring for
    the files and their columns); a replicate whose KPIs differ from the sweep's row raises,
    as its runner is then not a pure function of (scenario, replicate, root seed).

    Parameters
    ----------
    result : SweepResult
        A finished sweep (:func:`commgov.sim.run_sweep`); its failed replicates are skipped.
    out : str or Path
        The folder; files go to ``events/``, ``timeseries/`` and ``spatial/`` below it.
    event_logs : bool, default False
        Write each chosen replicate's event log.
    time_series_min : float, optional
        Write each chosen replicate's per-interval series, intervals of this many minutes.
    geojson : bool, default False
        Write ``spatial/point_<p>.geojson`` per design point: means over the chosen
        replicates (:func:`commgov.sim.spatial_kpis`).
    replicates : "all" or int, default "all"
        Every replicate, or a seeded sample of this many per point, the same for every point
        (:func:`select_replicates`).
    executor : concurrent.futures.Executor, optional
        Where the replicates run (as :func:`commgov.sim.run_sweep`); None: in this process.
    runner : callable, optional
        The sweep's runner, when it was not :func:`commgov.sim.run_replicate`; it must
        return results with ``.kpis`` and ``.log``.
    plugins : sequence of str, default ()
        Modules registering the scenario's own submodels (as :func:`commgov.sim.run_sweep`).
    batch_size : int, default 8
        Replicates per task.
    progress : callable, optional
        ``progress(done, total)`` in replicates.
    overwrite : bool, default False
        The folders ``events/``, ``timeseries/`` and ``spatial/`` under ``out`` are this
        function's: when one already holds files (of an earlier call), the call is refused
        unless ``overwrite``, and then the earlier files it does not write again are removed
        once it has written its own — so the folders hold exactly this call's files, never a
        stale replicate or design point. Not used with ``sink``.
    sink : callable, optional
        ``sink({path: bytes or text})`` writes one batch's files, all or none (default
        :func:`commgov._files.write_texts`); the command line passes its output folder's
        ``write``, which records them so a later run removes them when it does not write
        them again.

    Returns
    -------
    list of Path
        The written files, sorted.

    Raises
    ------
    FileExistsError
        If ``events/``, ``timeseries/`` or ``spatial/`` under ``out`` holds files and not
        ``overwrite`` (nothing is written).
    commgov.errors.MissingExtraError
        If Parquet is asked for and pyarrow is not installed (the ``sim`` extra).
    commgov.errors.InvalidParameterError
        If ``replicates``, ``time_series_min`` or ``batch_size`` is invalid.
    ValueError
        If nothing is asked for, or the sweep used another runner than the one given.
    RuntimeError
        If a replicate fails when run again or gives other KPIs than in the sweep.

    Notes
    -----
    Costs the chosen replicates' run time again, plus O(events) per replicate to write; the
    spatial KPIs hold O(places × replicates) numbers in memory.
    """
    from commgov.sim._sweep import _check_picklable, _default_runner, _runner_id

    if not (event_logs or time_series_min is not None or geojson):
        raise ValueError("nothing to write: ask for event_logs, time_series_min or geojson")
    if time_series_min is not None:
        base: Any = result.experiment.base
        time_series(EventLog(), time_series_min, base.horizon_min)  # checks the interval
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidParameterError(
            "batch_size", batch_size, "a whole number ≥ 1", "write_sweep_outputs"
        )
    if event_logs or time_series_min is not None:
        _pyarrow()
    load_plugins(plugins)
    run = runner if runner is not None else _default_runner()
    if result.provenance.get("runner", _runner_id(run)) != _runner_id(run):
        raise ValueError(
            f"the sweep ran with {result.provenance['runner']}, not "
            f"{_runner_id(run)}: pass its runner"
        )
    experiment = result.experiment
    if executor is not None:
        _check_picklable(run, experiment)
    chosen = select_replicates(experiment.replicates, replicates, experiment.root_seed)
    rows = {(row.point, row.replicate): row for row in result.rows if row.status == "ok"}
    request = _Request(event_logs, time_series_min, geojson)
    root = Path(out)
    write: Sink = sink if sink is not None else write_texts
    earlier = _earlier_files(root, overwrite) if sink is None else []
    seed = experiment.root_seed
    tasks = [
        (p, tuple(batch))
        for p in experiment.points
        for batch in _chunks([r for r in chosen if (p.index, r) in rows], batch_size)
    ]
    total = sum(len(b) for _, b in tasks)
    done = 0
    written: list[Path] = []
    places: dict[int, list[tuple[int, dict[str, dict[str, float]]]]] = {}
    if progress is not None:
        progress(0, total)

    pending_files: dict[str | Path, str | bytes] = {}
    pending_bytes = 0

    def flush() -> None:
        nonlocal pending_bytes
        if pending_files:
            written.extend(write(dict(pending_files)))
            pending_files.clear()
            pending_bytes = 0

    def finish(point: Any, outs: list[_Out]) -> None:
        nonlocal done, pending_bytes
        files = pending_files
        for r, kpis, data, place, error in outs:
            if error:
                raise RuntimeError(
                    f"point {point.index} replicate {r} failed when run again "
                    f"for its outputs:\n{error}"
                )
            if not _same(kpis, rows[(point.index, r)].kpis):
                raise RuntimeError(
                    f"point {point.index} replicate {r} gave other KPIs when run again than in "
                    "the sweep: its runner is not a pure function of (scenario, replicate, "
                    "root seed), or the code changed since the sweep"
                )
            files.update((root / name, blob) for name, blob in data.items())
            pending_bytes += sum(len(blob) for blob in data.values())
            if place is not None:
                places.setdefault(point.index, []).append((r, place))
        if pending_bytes >= _FLUSH_BYTES:  # few writes (and manifests), bounded memory
            flush()
        done += len(outs)
        if progress is not None:
            progress(done, total)

    if executor is None:
        for point, batch in tasks:
            finish(
                point,
                _output_batch(
                    run, point.scenario, point.index, batch, seed, request, tuple(plugins)
                ),
            )
    else:
        pending: dict[Future[list[_Out]], Any] = {}
        try:
            for point, batch in tasks:
                future = executor.submit(
                    _output_batch,
                    run,
                    point.scenario,
                    point.index,
                    batch,
                    seed,
                    request,
                    tuple(plugins),
                    True,
                )
                pending[future] = point
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    finish(pending.pop(future), future.result())
        finally:
            for future in pending:
                future.cancel()
    flush()
    if geojson:
        from commgov.sim._spatial import feature_collection

        texts: dict[str | Path, str | bytes] = {}
        for point in experiment.points:
            per = [place for _, place in sorted(places.get(point.index, []), key=_first)]
            if not per:
                continue
            fc = feature_collection(
                point.scenario,  # type: ignore[arg-type]
                per,
                {
                    "point": point.index,
                    "values": dict(point.values),
                    "replicate_numbers": sorted(r for r, _ in places[point.index]),
                    "root_seed": seed,
                },
            )
            texts[root / f"spatial/point_{point.index}.geojson"] = (
                json.dumps(fc, ensure_ascii=False, sort_keys=True, allow_nan=False, default=str)
                + "\n"
            )
        if texts:
            written.extend(write(texts))
    _remove_stale(root, earlier, written)
    return sorted(written)


#: The folders under ``out`` that :func:`write_sweep_outputs` owns.
OUTPUT_FOLDERS = ("events", "timeseries", "spatial")


def _earlier_files(root: Path, overwrite: bool) -> list[Path]:
    """Files already in the output folders: refused unless ``overwrite``."""
    found = sorted(
        p
        for name in OUTPUT_FOLDERS
        if (root / name).is_dir()
        for p in (root / name).rglob("*")
        if p.is_file() or p.is_symlink()
    )
    if found and not overwrite:
        shown = ", ".join(str(p.relative_to(root)) for p in found[:3])
        more = ", …" if len(found) > 3 else ""
        raise FileExistsError(
            errno.EEXIST,
            f"{root} holds outputs of an earlier run ({shown}{more}; {len(found)} files): pass "
            "overwrite=True to replace them (files not written again are removed), or give "
            "another folder",
            str(root),
        )
    return found


def _remove_stale(root: Path, earlier: Sequence[Path], written: Sequence[Path]) -> None:
    """Remove the earlier files not written again, and the folders they leave empty."""
    keep = {p.absolute() for p in written}
    for path in earlier:
        if path.absolute() in keep:
            continue
        path.unlink(missing_ok=True)
        parent = path.parent
        while parent != root and parent.name and parent.is_dir():
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent


def _first(item: tuple[int, Any]) -> int:
    return item[0]


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
