"""The table of a sweep: :class:`SweepRow` and :class:`SweepResult` (CSV, Parquet, summaries)."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from numbers import Integral, Real
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from commgov.errors import MissingExtraError

if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]
from commgov.sim._design import FIXED_COLUMNS, Experiment
from commgov.sim._store import StoreIssue

__all__ = [
    "DIFFERENCE_COLUMNS",
    "FIXED_COLUMNS",
    "SUMMARY_COLUMNS",
    "RecomputedReplicate",
    "SweepResult",
    "SweepRow",
]

#: Columns of :meth:`SweepResult.differences` (the varied keys follow ``point``).
DIFFERENCE_COLUMNS = (
    "kpi",
    "point",
    "baseline",
    "n",
    "mean_diff",
    "sd_diff",
    "se_diff",
    "ci_low",
    "ci_high",
    "ci_method",
    "crn_variance_ratio",
)

#: Columns of a summary after the point and its varied keys (:meth:`SweepResult.summary`).
SUMMARY_COLUMNS = (
    "n",
    "mean",
    "sd",
    "se",
    "ci_low",
    "ci_high",
    "ci_method",
    "median",
    "low",
    "high",
)

# --------------------------------------------------------------------------------------------
# results


@dataclass(frozen=True, slots=True)
class SweepRow:
    """One (design point, replicate) of a sweep.

    Attributes
    ----------
    point : int
        Design point index.
    scenario_id : str
        Content hash of the point's scenario.
    values : mapping of str to object
        The point's varied values.
    replicate : int
        Replicate number.
    status : {"ok", "failed"}
        Whether the runner returned KPIs.
    kpis : mapping of str to float
        The KPIs (empty when failed).
    error : str
        The traceback text when failed, else ``""``.
    """

    point: int
    scenario_id: str
    values: Mapping[str, Any]
    replicate: int
    status: Literal["ok", "failed"]
    kpis: Mapping[str, float] = field(default_factory=dict)
    error: str = ""


@dataclass(frozen=True, slots=True)
class RecomputedReplicate:
    """A replicate found in the sweep's store but run again, because its batch was not trusted.

    Attributes
    ----------
    point : int
        Design point index.
    replicate : int
        Replicate number.
    scenario_id : str
        Content hash of the point's scenario.
    reason : str
        The untrusted file(s) and why (``"batch-….json: checksum does not match the
        contents (edited or damaged)"``); several are joined with ``"; "``.
    """

    point: int
    replicate: int
    scenario_id: str
    reason: str


def _cell(value: Any) -> Any:
    """A varied value as one table cell: scalars as they are, lists and mappings as JSON."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class SweepResult:
    """The tidy result of :func:`run_sweep`: one row per (design point, replicate).

    Attributes
    ----------
    experiment : Experiment
        What was run.
    rows : tuple of SweepRow
        Sorted by (point, replicate), whatever the executor did.
    provenance : mapping of str to object
        Root seed, replicates, base scenario id, runner, library versions and the
        fingerprint of the code (the store's key, :mod:`commgov.sim` sweeps).
    recomputed : tuple of RecomputedReplicate
        Replicates the store held in batches it did not trust (edited, damaged, disagreeing),
        which were run again; sorted by (point, replicate). Empty without a store.
    store_issues : tuple of commgov.sim.StoreIssue
        Every batch file of the store that was not trusted (also those whose replicates cannot
        be told, or belong to other sweeps); such files were moved to ``rejected/``.
    """

    experiment: Experiment
    rows: tuple[SweepRow, ...]
    provenance: Mapping[str, Any]
    recomputed: tuple[RecomputedReplicate, ...] = ()
    store_issues: tuple[StoreIssue, ...] = ()

    # The rows are immutable, so the derived tables below are built once per result and
    # cached on the instance (``cached_property`` writes to ``__dict__``, which a frozen,
    # slot-less dataclass allows).

    @cached_property
    def kpi_names(self) -> tuple[str, ...]:
        """KPI names, in order of first appearance in the sorted rows."""
        names: dict[str, None] = {}
        for row in self.rows:
            names.update(dict.fromkeys(row.kpis))
        return tuple(names)

    @property
    def failed(self) -> tuple[SweepRow, ...]:
        """The rows whose runner raised."""
        return tuple(r for r in self.rows if r.status != "ok")

    def _kpi_columns(self) -> dict[str, str]:
        """KPI name → column name (``kpi:name`` where a KPI shares a fixed or varied name)."""
        return dict(self._kpi_column_map)

    @cached_property
    def _kpi_column_map(self) -> dict[str, str]:
        taken = set(FIXED_COLUMNS) | set(self.experiment.keys)
        return {k: (f"kpi:{k}" if k in taken else k) for k in self.kpi_names}

    @property
    def columns(self) -> tuple[str, ...]:
        """Table columns: point, scenario_id, varied keys, replicate, status, KPIs, error."""
        return (
            "point",
            "scenario_id",
            *self.experiment.keys,
            "replicate",
            "status",
            *self._kpi_columns().values(),
            "error",
        )

    def records(self) -> list[dict[str, Any]]:
        """The table as one dict per row (lists and mappings among varied values as JSON).

        Returns
        -------
        list of dict
            Keys are :attr:`columns`; a KPI missing from a row is NaN.
        """
        kpi_cols = self._kpi_columns()
        out = []
        for row in self.rows:
            rec: dict[str, Any] = {"point": row.point, "scenario_id": row.scenario_id}
            rec.update({k: _cell(row.values[k]) for k in self.experiment.keys})
            rec["replicate"] = row.replicate
            rec["status"] = row.status
            rec.update({col: row.kpis.get(k, math.nan) for k, col in kpi_cols.items()})
            rec["error"] = row.error
            out.append(rec)
        return out

    def to_frame(self) -> pd.DataFrame:
        """The table as a pandas DataFrame (columns :attr:`columns`, KPIs as float64).

        Returns
        -------
        pandas.DataFrame
            One row per (point, replicate), sorted.
        """
        return self._frame.copy()

    @cached_property
    def _frame(self) -> pd.DataFrame:
        import pandas as pd

        frame = pd.DataFrame.from_records(self.records(), columns=list(self.columns))
        for col in self._kpi_column_map.values():
            frame[col] = frame[col].astype("float64")
        return frame

    @cached_property
    def _ok_by_point(self) -> dict[int, pd.DataFrame]:
        """The ``ok`` rows of each design point (built once; :meth:`summary` reads them)."""
        frame = self._frame
        frame = frame[frame["status"] == "ok"]
        return {p.index: frame.loc[frame["point"] == p.index] for p in self.experiment.points}

    def csv_text(self) -> str:
        """The table as formula-safe CSV text (floats written exactly, ``nan`` if missing)."""
        from commgov._files import csv_text

        return csv_text(self.records(), self.columns)

    def to_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write the table as CSV, atomically; byte-identical whatever executed the sweep.

        Parameters
        ----------
        path : str or os.PathLike
            Target file; parent folders are created.

        Returns
        -------
        Path
            The file written.
        """
        from commgov._files import write_texts

        return write_texts({Path(path): self.csv_text()})[0]

    def to_parquet(self, path: str | os.PathLike[str]) -> Path:
        """Write the table as Parquet (needs the ``sim`` extra, pyarrow), atomically.

        ``path`` and the result are as in :meth:`to_csv`.

        Raises
        ------
        commgov.errors.MissingExtraError
            If pyarrow is not installed.
        """
        try:
            import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
            import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]
        except ImportError as exc:
            raise MissingExtraError("pyarrow", "sim") from exc
        records = self.records()
        kpi_cols = set(self._kpi_columns().values())
        arrays = {}
        for col in self.columns:
            values = [r[col] for r in records]
            if col in ("point", "replicate"):
                arrays[col] = pa.array(values, type=pa.int64())
            elif col in kpi_cols:
                arrays[col] = pa.array(values, type=pa.float64())
            elif col in ("scenario_id", "status", "error"):
                arrays[col] = pa.array(values, type=pa.string())
            else:
                try:
                    arrays[col] = pa.array(values)
                except (pa.ArrowInvalid, pa.ArrowTypeError):
                    arrays[col] = pa.array([None if v is None else str(v) for v in values])
        table = pa.table(arrays)
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        from commgov._files import naming

        try:
            with naming(target):  # ENOSPC and the like name the file
                pq.write_table(table, tmp)
                os.replace(tmp, target)
        finally:
            if tmp.exists():
                tmp.unlink()
        return target

    def summary(self, kpi: str, *, interval: float = 0.9, level: float = 0.95) -> pd.DataFrame:
        """Mean with its confidence interval, and the replicate spread, of one KPI per point.

        Over the ``ok`` replicates of each design point (NaN values left out): the mean, the
        standard deviation and standard error, a ``level`` confidence interval of the mean —
        by the KPI's kind (:func:`commgov.sim.kpi_kind`): Student's t for ``"mean"`` KPIs, a
        seeded BCa bootstrap for ``"quantile"`` KPIs (a replicate's p95, maximum or time to
        95 %), Wilson's score interval for ``"share"`` KPIs — and the median and central
        ``interval`` of the replicates themselves (their spread, not a confidence interval).

        The table of the sweep is built once per result (and cached), so calling this for
        every KPI costs one pass over the rows, not one per call; :meth:`summaries` gives
        every KPI in one table. The bootstrap draws from the stream ``stats_bootstrap`` of the
        experiment's root seed, per point and KPI, so the table is the same, byte for byte,
        for the same rows.

        Parameters
        ----------
        kpi : str
            The KPI name.
        interval : float, default 0.9
            Coverage of the central interval of the replicates (0.9: the 5 % and 95 %
            quantiles: columns ``low``, ``high``).
        level : float, default 0.95
            Confidence level of the mean's interval (columns ``ci_low``, ``ci_high``).

        Returns
        -------
        pandas.DataFrame
            One row per design point: point, varied keys, ``n`` (ok replicates with a
            value), ``mean``, ``sd``, ``se`` (sd / √n), ``ci_low``, ``ci_high``,
            ``ci_method`` (``"t"``, ``"bootstrap-bca"``, ``"wilson"``; ``"none"`` with fewer
            than two values: NaN bounds), ``median``, ``low``, ``high``
            (:data:`SUMMARY_COLUMNS`).

        Raises
        ------
        KeyError
            If no row has the KPI.
        commgov.errors.InvalidParameterError
            If ``interval`` or ``level`` is not strictly between 0 and 1 (a ``ValueError``).

        Notes
        -----
        O(points × replicates) per KPI, plus O(B · replicates) per quantile KPI and point for
        the bootstrap (B = :data:`commgov.sim.BOOTSTRAP_RESAMPLES`).

        References
        ----------
        Student (1908), Biometrika 6(1); Efron & Tibshirani (1993), An Introduction to the
        Bootstrap; Wilson (1927), JASA 22(158); Agresti & Coull (1998), Am. Stat. 52(2).
        """
        import pandas as pd

        self._check_summary(kpi, interval, level)
        return pd.DataFrame.from_records(
            self._summary_records(kpi, interval, level),
            columns=["point", *self.experiment.keys, *SUMMARY_COLUMNS],
        )

    def summaries(
        self, kpis: Sequence[str] | None = None, *, interval: float = 0.9, level: float = 0.95
    ) -> pd.DataFrame:
        """:meth:`summary` of several KPIs (default: all) in one long table.

        Parameters
        ----------
        kpis : sequence of str, optional
            KPI names, in the order wanted (default :attr:`kpi_names`).
        interval : float, default 0.9
            Coverage of the central interval of the replicates.
        level : float, default 0.95
            Confidence level of the mean's interval.

        Returns
        -------
        pandas.DataFrame
            Columns ``kpi``, point, varied keys and :data:`SUMMARY_COLUMNS`: the rows of
            ``summary(kpi)`` for each KPI in turn, with the same values.

        Raises
        ------
        KeyError
            If a KPI is unknown.
        commgov.errors.InvalidParameterError
            If ``interval`` or ``level`` is not strictly between 0 and 1.
        """
        import pandas as pd

        names = list(self.kpi_names if kpis is None else kpis)
        for kpi in names:
            self._check_summary(kpi, interval, level)
        records = [
            {"kpi": kpi, **rec}
            for kpi in names
            for rec in self._summary_records(kpi, interval, level)
        ]
        return pd.DataFrame.from_records(
            records, columns=["kpi", "point", *self.experiment.keys, *SUMMARY_COLUMNS]
        )

    def differences(
        self,
        kpis: str | Sequence[str] | None = None,
        *,
        baseline: int = 0,
        level: float = 0.95,
    ) -> pd.DataFrame:
        """Paired differences of KPIs between each design point and a baseline point.

        Replicate ``r`` of every design point draws the same random numbers (common random
        numbers, :func:`run_sweep`), so the difference ``KPI(point, r) − KPI(baseline, r)``
        is paired by replicate: its interval is narrower than that of two independent
        samples by the factor shown in ``crn_variance_ratio``.

        Parameters
        ----------
        kpis : str or sequence of str, optional
            KPI names (default :attr:`kpi_names`).
        baseline : int, default 0
            The design point differences are taken from.
        level : float, default 0.95
            Confidence level.

        Returns
        -------
        pandas.DataFrame
            One row per KPI and design point other than the baseline, columns
            :data:`DIFFERENCE_COLUMNS`: ``kpi``, ``point``, ``baseline``, ``n`` (replicates
            with a value at both points), ``mean_diff`` (point − baseline), ``sd_diff``,
            ``se_diff``, ``ci_low``, ``ci_high``, ``ci_method`` (t; a BCa bootstrap for
            ``"quantile"`` KPIs; ``"none"`` with fewer than two pairs) and
            ``crn_variance_ratio`` ((var(point) + var(baseline)) / var(difference): how many
            times fewer replicates the pairing needs than independent runs; NaN when the
            difference does not vary). The varied keys of the point follow ``point``.

        Raises
        ------
        KeyError
            If a KPI is unknown.
        commgov.errors.InvalidParameterError
            If ``baseline`` is not a design point or ``level`` is not in (0, 1).

        Notes
        -----
        O(points × replicates) per KPI (plus the bootstrap of quantile KPIs). Paired t
        interval: Student (1908); common random numbers: Law (2015), Simulation Modeling and
        Analysis, 5th ed., §11.2.
        """
        import pandas as pd

        from commgov._options import Interval, check_options_interval
        from commgov._random import rng
        from commgov.sim._stats import bootstrap_interval, t_interval

        names = [kpis] if isinstance(kpis, str) else list(self.kpi_names if kpis is None else kpis)
        check_options_interval(
            "SweepResult.differences",
            "baseline",
            baseline,
            Interval(Integral, 0, len(self.experiment.points) - 1),
        )
        for kpi in names:
            self._check_summary(kpi, 0.5, level)
        from commgov.sim._kpi_info import kpi_kind

        records = []
        for kpi in names:
            col = self._kpi_column_map[kpi]
            base = self._by_replicate(baseline, col)
            for point in self.experiment.points:
                if point.index == baseline:
                    continue
                mine = self._by_replicate(point.index, col)
                common = sorted(set(base) & set(mine))
                a = np.array([mine[r] for r in common], dtype=float)
                b = np.array([base[r] for r in common], dtype=float)
                diff = a - b
                if kpi_kind(kpi) == "quantile":
                    gen = rng(
                        self.experiment.root_seed,
                        "stats_bootstrap",
                        f"difference/{kpi}/{baseline}",
                        point.index,
                    )
                    ci = bootstrap_interval(diff, level=level, seed=gen)
                else:
                    ci = t_interval(diff, level=level)
                n = int(diff.size)
                sd = float(np.std(diff, ddof=1)) if n > 1 else math.nan
                var_indep = (
                    (float(np.var(a, ddof=1)) + float(np.var(b, ddof=1))) if n > 1 else math.nan
                )
                rec: dict[str, Any] = {"kpi": kpi, "point": point.index}
                rec.update({k: _cell(point.values[k]) for k in self.experiment.keys})
                rec.update(
                    {
                        "baseline": baseline,
                        "n": n,
                        "mean_diff": ci.estimate,
                        "sd_diff": sd,
                        "se_diff": sd / math.sqrt(n) if n > 1 else math.nan,
                        "ci_low": ci.low,
                        "ci_high": ci.high,
                        "ci_method": ci.method,
                        "crn_variance_ratio": var_indep / sd**2 if n > 1 and sd > 0 else math.nan,
                    }
                )
                records.append(rec)
        return pd.DataFrame.from_records(
            records,
            columns=["kpi", "point", *self.experiment.keys, *DIFFERENCE_COLUMNS[2:]],
        )

    def _by_replicate(self, point: int, col: str) -> dict[int, float]:
        frame = self._ok_by_point[point]
        return {
            int(r): float(v)
            for r, v in zip(frame["replicate"], frame[col], strict=True)
            if not math.isnan(float(v))
        }

    def _check_summary(self, kpi: str, interval: float, level: float = 0.95) -> None:
        from commgov._options import Interval, check_options_interval

        if kpi not in self._kpi_column_map:
            raise KeyError(f"no KPI {kpi!r}; KPIs: {list(self.kpi_names)}")
        rule = Interval(Real, 0.0, 1.0, closed="neither")
        check_options_interval("SweepResult.summary", "interval", interval, rule)
        check_options_interval("SweepResult.summary", "level", level, rule)

    def _values(self, point: int, kpi: str) -> np.ndarray:
        """The KPI's values in the ok replicates of a point, NaNs left out, by replicate."""
        col = self._kpi_column_map[kpi]
        values = self._ok_by_point[point][col].to_numpy(dtype=float)
        out: np.ndarray = values[~np.isnan(values)]
        return out

    def _summary_records(self, kpi: str, interval: float, level: float) -> list[dict[str, Any]]:
        from commgov._random import rng
        from commgov.sim._stats import mean_interval

        lo, hi = (1 - interval) / 2, 1 - (1 - interval) / 2
        out = []
        for point in self.experiment.points:
            values = self._values(point.index, kpi)
            n = int(values.size)
            rec: dict[str, Any] = {"point": point.index}
            rec.update({k: _cell(point.values[k]) for k in self.experiment.keys})
            gen = rng(self.experiment.root_seed, "stats_bootstrap", f"summary/{kpi}", point.index)
            ci = mean_interval(values, kpi=kpi, level=level, seed=gen)
            sd = float(np.std(values, ddof=1)) if n > 1 else math.nan
            rec.update(
                {
                    "n": n,
                    "mean": ci.estimate,
                    "sd": sd,
                    "se": sd / math.sqrt(n) if n > 1 else math.nan,
                    "ci_low": ci.low,
                    "ci_high": ci.high,
                    "ci_method": ci.method,
                    "median": float(np.median(values)) if n else math.nan,
                    "low": float(np.quantile(values, lo)) if n else math.nan,
                    "high": float(np.quantile(values, hi)) if n else math.nan,
                }
            )
            out.append(rec)
        return out
