"""The table of a sweep: :class:`SweepRow` and :class:`SweepResult` (CSV, Parquet, summaries)."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from commgov.errors import MissingExtraError

if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]
from commgov.sim._design import FIXED_COLUMNS, Experiment
from commgov.sim._store import StoreIssue

__all__ = ["FIXED_COLUMNS", "RecomputedReplicate", "SweepResult", "SweepRow"]

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

    def summary(self, kpi: str, *, interval: float = 0.9) -> pd.DataFrame:
        """Median and central interval of one KPI per design point, over ``ok`` replicates.

        The table of the sweep is built once per result (and cached), so calling this for
        every KPI costs one pass over the rows, not one per call; :meth:`summaries` gives
        every KPI in one table.

        Parameters
        ----------
        kpi : str
            The KPI name.
        interval : float, default 0.9
            Coverage of the central interval (0.9: the 5 % and 95 % quantiles).

        Returns
        -------
        pandas.DataFrame
            One row per design point: point, varied keys, ``n`` (ok replicates), ``median``,
            ``low``, ``high``.

        Raises
        ------
        KeyError
            If no row has the KPI.
        ValueError
            If ``interval`` is not strictly between 0 and 1.
        """
        import pandas as pd

        self._check_summary(kpi, interval)
        return pd.DataFrame.from_records(
            self._summary_records(kpi, interval),
            columns=["point", *self.experiment.keys, "n", "median", "low", "high"],
        )

    def summaries(
        self, kpis: Sequence[str] | None = None, *, interval: float = 0.9
    ) -> pd.DataFrame:
        """:meth:`summary` of several KPIs (default: all) in one long table.

        Parameters
        ----------
        kpis : sequence of str, optional
            KPI names, in the order wanted (default :attr:`kpi_names`).
        interval : float, default 0.9
            Coverage of the central interval.

        Returns
        -------
        pandas.DataFrame
            Columns ``kpi``, point, varied keys, ``n``, ``median``, ``low``, ``high``: the
            rows of ``summary(kpi)`` for each KPI in turn, with the same values.

        Raises
        ------
        KeyError
            If a KPI is unknown.
        ValueError
            If ``interval`` is not strictly between 0 and 1.
        """
        import pandas as pd

        names = list(self.kpi_names if kpis is None else kpis)
        for kpi in names:
            self._check_summary(kpi, interval)
        records = [
            {"kpi": kpi, **rec} for kpi in names for rec in self._summary_records(kpi, interval)
        ]
        return pd.DataFrame.from_records(
            records, columns=["kpi", "point", *self.experiment.keys, "n", "median", "low", "high"]
        )

    def _check_summary(self, kpi: str, interval: float) -> None:
        if kpi not in self._kpi_column_map:
            raise KeyError(f"no KPI {kpi!r}; KPIs: {list(self.kpi_names)}")
        if not 0 < interval < 1:
            raise ValueError(f"interval must be between 0 and 1, got {interval}")

    def _summary_records(self, kpi: str, interval: float) -> list[dict[str, Any]]:
        col = self._kpi_column_map[kpi]
        lo, hi = (1 - interval) / 2, 1 - (1 - interval) / 2
        out = []
        for point in self.experiment.points:
            values = self._ok_by_point[point.index][col].dropna()
            rec: dict[str, Any] = {"point": point.index}
            rec.update({k: _cell(point.values[k]) for k in self.experiment.keys})
            rec["n"] = len(values)
            rec["median"] = float(values.median()) if len(values) else math.nan
            rec["low"] = float(values.quantile(lo)) if len(values) else math.nan
            rec["high"] = float(values.quantile(hi)) if len(values) else math.nan
            out.append(rec)
        return out
