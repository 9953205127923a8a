"""``commgov simulate``: replicates of a scenario file, optionally a sweep, and their KPIs.

Writes kpis.csv (kpis.parquet too with pyarrow), summary.csv (means with 95 % confidence
intervals, and the replicates' spread), differences.csv (paired differences from point 0, for a
sweep of several points), experiment.json and, with
matplotlib, plots; finished batches are kept in DIR/store so that running the same command
again resumes. On request, event logs and time series as Parquet and KPIs per building and
community as GeoJSON (``--event-log``, ``--time-series``, ``--geojson``:
:func:`commgov.sim.write_sweep_outputs`).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import Any

from commgov.cli._output import EXIT_ERROR, _claim_out, _n, _scenario_args_error, _usage_error
from commgov.cli._plots import _print_summary, _write_plots
from commgov.cli._progress import ProgressBar

__all__ = ["run_simulate"]


def run_simulate(args: argparse.Namespace) -> int:
    """Run ``commgov simulate``; returns the exit status."""
    from concurrent.futures import Executor

    from commgov.errors import InputError, MissingExtraError
    from commgov.sim import FIXED_COLUMNS, Experiment, Scenario, load_plugins, run_record

    out: Path = args.out
    path: Path = args.scenario
    bad = _scenario_args_error(out, path)
    if bad is not None:
        return _usage_error(bad)
    grid: dict[str, list[Any]] = {}
    for key, values in args.vary:
        if key in grid:
            return _usage_error(f"--vary {key} is given twice: list all its values once")
        if key in FIXED_COLUMNS:
            return _usage_error(f"--vary {key}: {key!r} is a column of kpis.csv, not a field")
        grid[key] = values
    try:
        load_plugins(args.plugin)
    except (ImportError, ValueError) as exc:
        return _usage_error(f"--plugin: {exc}")
    try:
        toml = path.suffix.lower() == ".toml"
        base = Scenario.from_toml(path) if toml else Scenario.from_json(path)
        experiment = Experiment(base, grid, replicates=args.replicates, root_seed=args.seed)
    except InputError as exc:
        return _usage_error(f"{path}: {exc}")
    except (OSError, UnicodeDecodeError) as exc:
        return _usage_error(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}")
    until = getattr(args, "until", None)
    if until is not None and experiment.replicates < 2:
        return _usage_error("--until needs --replicates of at least 2 (the first batch)")
    folder = _claim_out(args)  # locked until the command ends
    run = run_record(getattr(args, "command_line", None), inputs=[path])

    executor: Executor | None = None
    closers: list[Any] = []
    pools = contextlib.ExitStack()
    if args.dask is not None:
        try:
            import distributed
        except ImportError as exc:
            raise MissingExtraError("dask.distributed", "dask") from exc
        try:
            client = distributed.Client(args.dask, timeout="20s")  # type: ignore[no-untyped-call,unused-ignore]
        except (OSError, TimeoutError, ValueError) as exc:
            print(f"commgov: error: cannot reach the Dask scheduler {args.dask!r}: {exc}",
                  file=sys.stderr)
            return EXIT_ERROR
        closers.append(client.close)
        executor = client.get_executor()  # type: ignore[no-untyped-call,unused-ignore]
    elif args.workers > 1:
        from commgov.sim import worker_pool

        # workers die with this process, even by SIGKILL; on an error they are terminated
        executor = pools.enter_context(worker_pool(args.workers))
    try:
        with pools:  # on an error, the pool's workers are terminated
            return _simulate(args, base, grid, experiment, folder, run, executor)
    finally:
        for close in closers:
            close()


def _simulate(
    args: argparse.Namespace, base: Any, grid: dict[str, list[Any]], experiment: Any,
    folder: Any, run: Any, executor: Any,
) -> int:
    """The sweep and its files, while the executor is open (the sweep's outputs use it)."""
    import json

    from commgov._files import naming
    from commgov.errors import MissingExtraError
    from commgov.io import csv_text
    from commgov.sim import DIFFERENCE_COLUMNS, SUMMARY_COLUMNS, run_sequential, run_sweep

    out: Path = args.out
    path: Path = args.scenario
    until = getattr(args, "until", None)
    store = out / "store"
    try:
        with naming(store), ProgressBar("simulate", unit="replicates") as progress:
            if until is None:
                result = run_sweep(experiment, executor=executor, store=store,
                                   batch_size=args.batch_size, progress=progress.count,
                                   plugins=args.plugin)
            else:
                sequential = run_sequential(
                    experiment, kpi=until[0], half_width=until[1], relative=until[2],
                    max_replicates=max(args.max_replicates, experiment.replicates),
                    executor=executor, store=store, batch_size=args.batch_size,
                    progress=progress.count, plugins=args.plugin,
                )
                result = sequential.result
                experiment = result.experiment
    except KeyError as exc:  # --until names no KPI of the scenario (known after a batch)
        return _usage_error(f"--until: {exc.args[0] if exc.args else exc}")

    summary_rows = result.summaries().to_dict("records")  # one pass over the table
    summaries: dict[str, list[dict[str, Any]]] = {}
    for rec in summary_rows:
        summaries.setdefault(rec["kpi"], []).append(rec)
    summary_cols = ["kpi", "point", *experiment.keys, *SUMMARY_COLUMNS]
    described = {
        "scenario": json.loads(base.to_json()),
        "scenario_file": str(path),
        "vary": grid,
        "replicates": experiment.replicates,
        "root_seed": experiment.root_seed,
        "points": [
            {"point": p.index, "scenario_id": p.scenario_id, "values": dict(p.values)}
            for p in experiment.points
        ],
        "provenance": dict(result.provenance),
        # when, how and from which commits (outside the byte-identical KPI files)
        "run": run,
    }
    if until is not None:
        described["sequential"] = {
            "kpi": until[0],
            "half_width": until[1],
            "relative": until[2],
            "reached": sequential.reached,
            "steps": [
                {"replicates": s.replicates, "half_width": s.half_width, "target": s.target}
                for s in sequential.steps
            ],
        }
    texts: dict[str | Path, str] = {
        out / "kpis.csv": result.csv_text(),
        out / "summary.csv": csv_text(summary_rows, summary_cols),
        out / "experiment.json": json.dumps(described, indent=2, ensure_ascii=False,
                                            sort_keys=True, default=str) + "\n",
    }
    if len(experiment.points) > 1:  # paired (common random numbers) differences from point 0
        diff_cols = ["kpi", "point", *experiment.keys, *DIFFERENCE_COLUMNS[2:]]
        texts[out / "differences.csv"] = csv_text(
            result.differences().to_dict("records"), diff_cols
        )
    written = [p.name for p in folder.write(texts)]
    with contextlib.suppress(MissingExtraError):  # Parquet only with the sim extra
        written.append(folder.record(result.to_parquet(out / "kpis.parquet"))[0].name)
    notes = []
    if args.plots != "none":
        try:
            plots = folder.record(*_write_plots(result, out / "plots", args.plots))
            if plots:
                written.append(f"plots/ ({_n(len(plots), 'figure')})")
        except MissingExtraError:
            notes.append("no plots: pip install 'commgov[plot]'")
    written.extend(_write_outputs(args, result, folder, executor))

    n_ok = len(result.rows) - len(result.failed)
    print(
        f"Simulated {base.name}: {_n(len(experiment.points), 'design point')} × "
        f"{_n(experiment.replicates, 'replicate')} (root seed {experiment.root_seed}); "
        f"{n_ok:,} ok, {len(result.failed):,} failed"
    )
    if until is not None:
        last = sequential.steps[-1]
        verdict = "reached" if sequential.reached else "NOT reached (--max-replicates)"
        print(f"--until {until[0]}: half-width {last.half_width:.4g} ≤ {last.target:.4g} "
              f"{verdict} after {_n(len(sequential.steps), 'look')}, "
              f"{_n(experiment.replicates, 'replicate')} per point")
    _print_summary(experiment, result.kpi_names, summaries)
    print(f"Wrote {', '.join(written)} to {out}/" + "".join(f"; {n}" for n in notes))
    if result.failed:
        first = result.failed[0]
        last_line = first.error.strip().splitlines()[-1] if first.error.strip() else "?"
        print(
            f"commgov: error: {_n(len(result.failed), 'replicate')} failed (tracebacks in "
            f"kpis.csv, column error); first: point {first.point} replicate "
            f"{first.replicate}: {last_line}",
            file=sys.stderr,
        )
        return EXIT_ERROR
    return 0



def _write_outputs(args: argparse.Namespace, result: Any, folder: Any, executor: Any) -> list[str]:
    """``--event-log``, ``--time-series`` and ``--geojson``: the chosen replicates run again
    (on the same executor), their files written through the output folder (so a later run
    that does not write them again removes them)."""
    from collections import Counter

    from commgov.sim import write_sweep_outputs

    event_log = getattr(args, "event_log", None)
    minutes = getattr(args, "time_series", None)
    geojson = bool(getattr(args, "geojson", False))
    if event_log is None and minutes is None and not geojson:
        return []
    with ProgressBar("outputs", unit="replicates") as progress:
        paths = write_sweep_outputs(
            result, args.out, event_logs=event_log is not None, time_series_min=minutes,
            geojson=geojson, replicates=event_log if event_log is not None else "all",
            executor=executor, plugins=args.plugin, batch_size=args.batch_size,
            progress=progress.count, sink=folder.write,
        )
    out: Path = args.out
    tops = Counter(p.relative_to(out).parts[0] for p in paths)
    return [f"{top}/ ({_n(n, 'file')})" for top, n in sorted(tops.items())]
