"""``commgov sensitivity``: Sobol or Morris indices of a scenario's KPIs, through SALib.

Writes indices.csv (byte-identical for the same command), design.csv, kpis.csv,
sensitivity.json (what was run and how it came about) and, with matplotlib, sensitivity.png.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

from commgov.cli._output import EXIT_ERROR, _claim_out, _n, _scenario_args_error, _usage_error
from commgov.cli._progress import ProgressBar

__all__ = ["run_sensitivity_command"]

#: Rows of indices printed on the console (all are in indices.csv).
_SHOWN = 12


def run_sensitivity_command(args: argparse.Namespace) -> int:
    """Run ``commgov sensitivity``; returns the exit status."""
    from commgov._files import csv_text, naming
    from commgov.errors import InputError, InvalidParameterError, MissingExtraError
    from commgov.sim import (
        Scenario,
        is_headline_kpi,
        load_plugins,
        plot_sensitivity,
        run_record,
        run_sensitivity,
        worker_pool,
    )

    out: Path = args.out
    path: Path = args.scenario
    wrong = _scenario_args_error(out, path)
    if wrong is not None:
        return _usage_error(wrong)
    try:
        load_plugins(args.plugin)
    except (ImportError, ValueError) as exc:
        return _usage_error(f"--plugin: {exc}")
    try:
        toml = path.suffix.lower() == ".toml"
        base = Scenario.from_toml(path) if toml else Scenario.from_json(path)
    except InputError as exc:
        return _usage_error(f"{path}: {exc}")
    except (OSError, UnicodeDecodeError) as exc:
        return _usage_error(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}")
    try:  # the sens extra, checked before any run
        import SALib  # type: ignore[import-untyped,unused-ignore]  # noqa: F401
    except ImportError as exc:
        raise MissingExtraError("SALib", "sens") from exc

    folder = _claim_out(args)  # locked until the command ends
    run = run_record(getattr(args, "command_line", None), inputs=[path])
    pools = contextlib.ExitStack()
    executor = pools.enter_context(worker_pool(args.workers)) if args.workers > 1 else None
    try:
        with pools, naming(out / "store"), ProgressBar("sensitivity", unit="replicates") as bar:
            result = run_sensitivity(
                base,
                args.param,
                method=args.method,
                n=args.n,
                replicates=args.replicates,
                root_seed=args.seed,
                seed=args.seed,
                executor=executor,
                store=out / "store",
                progress=bar.count,
                plugins=args.plugin,
            )
    except (InputError, InvalidParameterError) as exc:
        return _usage_error(f"{path}: {exc}")
    sweep = result.sweep
    chosen = _chosen_kpis(sweep.kpi_names, args.kpi)
    if not chosen:
        return _usage_error(f"--kpi {args.kpi} matches no KPI of the scenario")
    table = result.indices[result.indices["kpi"].isin(chosen)].reset_index(drop=True)
    design_rows = [{"point": i, **row} for i, row in enumerate(result.design.to_dict("records"))]
    described = {
        "scenario": json.loads(base.to_json()),
        "scenario_file": str(path),
        "method": result.method,
        "n": result.n,
        "params": [{"key": p.key, "low": p.low, "high": p.high} for p in result.params],
        "replicates": sweep.experiment.replicates,
        "root_seed": sweep.experiment.root_seed,
        "seed": result.seed,
        "level": result.level,
        "design_points": len(result.design),
        "provenance": dict(sweep.provenance),
        "run": run,
    }
    texts: dict[str | Path, str] = {
        out / "indices.csv": csv_text(table.to_dict("records"), list(table.columns)),
        out / "design.csv": csv_text(design_rows, ["point", *result.design.columns]),
        out / "kpis.csv": sweep.csv_text(),
        out / "sensitivity.json": json.dumps(
            described, indent=2, ensure_ascii=False, sort_keys=True, default=str
        )
        + "\n",
    }
    written = [p.name for p in folder.write(texts)]
    notes = []
    try:
        drawn = [k for k in chosen if is_headline_kpi(k)] or chosen
        first = "S1" if result.method == "sobol" else "mu_star"
        finite = [k for k in drawn if not table.loc[table["kpi"] == k, first].isna().any()]
        if finite:
            fig = plot_sensitivity(result, finite[:6])
            written.append(folder.record(_save_png(fig, out / "sensitivity.png"))[0].name)
    except MissingExtraError:
        notes.append("no figure: pip install 'commgov[plot]'")

    what = "Sobol" if result.method == "sobol" else "Morris"
    print(
        f"{what} analysis of {base.name}: {_n(len(result.params), 'parameter')}, "
        f"N = {result.n}, {_n(len(result.design), 'design point')} × "
        f"{_n(sweep.experiment.replicates, 'replicate')} (seed {result.seed}); "
        f"{len(sweep.rows) - len(sweep.failed):,} ok, {len(sweep.failed):,} failed"
    )
    _print_indices(table, result.method, chosen)
    print(f"Wrote {', '.join(written)} to {out}/" + "".join(f"; {n}" for n in notes))
    if sweep.failed:
        bad = sweep.failed[0]
        last_line = bad.error.strip().splitlines()[-1] if bad.error.strip() else "?"
        print(
            f"commgov: error: {_n(len(sweep.failed), 'replicate')} failed (their KPIs' "
            f"indices are NaN; tracebacks in kpis.csv); first: point {bad.point}: "
            f"{last_line}",
            file=sys.stderr,
        )
        return EXIT_ERROR
    return 0


def _save_png(fig: Any, target: Path) -> Path:
    """Write a figure atomically (no software tag, so the bytes do not name versions)."""
    import os

    from commgov._files import naming

    tmp = target.with_name(f".{target.name}.tmp")
    try:
        with naming(target):
            fig.savefig(tmp, format="png", dpi=100, metadata={"Software": None})
            os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _chosen_kpis(names: tuple[str, ...], patterns: list[str]) -> list[str]:
    import fnmatch

    if not patterns:
        return list(names)
    chosen: dict[str, None] = {}
    for pattern in patterns:
        chosen.update(
            dict.fromkeys([pattern] if pattern in names else fnmatch.filter(names, pattern))
        )
    return [k for k in names if k in chosen]


def _print_indices(table: Any, method: str, kpis: list[str]) -> None:
    from commgov.sim import is_headline_kpi

    first = "S1" if method == "sobol" else "mu_star"
    finite = table[table[first].notna()]
    shown = [k for k in kpis if is_headline_kpi(k)] or kpis
    rows = finite[finite["kpi"].isin(shown)].head(_SHOWN)
    for rec in rows.to_dict("records"):
        if method == "sobol":
            print(
                f"  {rec['kpi']:<28} {rec['param']:<44} S1 {rec['S1']:6.3f} "
                f"[{rec['S1_low']:6.3f}, {rec['S1_high']:6.3f}]  ST {rec['ST']:6.3f} "
                f"[{rec['ST_low']:6.3f}, {rec['ST_high']:6.3f}]"
            )
        else:
            print(
                f"  {rec['kpi']:<28} {rec['param']:<44} mu* {rec['mu_star']:8.4g} "
                f"[{rec['mu_star_low']:8.4g}, {rec['mu_star_high']:8.4g}]  "
                f"sigma {rec['sigma']:8.4g}"
            )
    if len(table) > len(rows):
        print(f"  … {len(table) - len(rows)} more rows in indices.csv")
