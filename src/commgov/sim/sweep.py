"""Parameter sweeps: many scenarios × replicates on any :class:`concurrent.futures.Executor`.

An :class:`Experiment` is a base scenario, what varies (a factorial ``grid`` of dotted field
paths → values, or any design table through :meth:`Experiment.from_dataframe`), a number of
replicates and a root seed. :func:`run_sweep` runs every (design point, replicate):

* in-process by default (``executor=None``);
* on one machine with a process pool, spawn context::

      import multiprocessing
      from concurrent.futures import ProcessPoolExecutor

      with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
          result = run_sweep(experiment, executor=pool)

* on a Dask cluster, ``distributed.Client(address).get_executor()``.

Replicates are sent in batches of one design point (``batch_size`` replicates each). Workers
receive the scenario, replicate numbers and root seed only; the runner
(``runner(scenario, replicate, root_seed)``, a module-level function so it pickles) loads what
it needs by name, seed and version.

Reproducibility: replicate ``r`` of every design point runs with the same root seed and
replicate number, so design points share their random numbers (common random numbers,
DESIGN.md "Seeds"). Rows come back sorted by (design point, replicate), so the table — and
:meth:`SweepResult.to_csv`, byte for byte — does not depend on the executor, worker count,
batch size, completion order or a resume from a :class:`~commgov.sim._store.SweepStore`.

A replicate that raises is recorded (``status="failed"`` with its traceback) and the others go
on; ``on_error="raise"`` re-raises the first error instead.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import pickle
import platform
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ValidationError

from commgov.errors import InputError, InputIssue, MissingExtraError
from commgov.sim._store import SweepStore

if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]

__all__ = [
    "FIXED_COLUMNS",
    "DesignPoint",
    "Experiment",
    "SweepResult",
    "SweepRow",
    "SweepStore",
    "run_sweep",
    "scenario_id",
    "with_values",
]

#: Columns of every sweep table besides the varied keys and the KPIs, in table order:
#: ``point``, ``scenario_id``, (varied keys), ``replicate``, ``status``, (KPIs), ``error``.
FIXED_COLUMNS = ("point", "scenario_id", "replicate", "status", "error")

#: Futures in flight at once: enough to keep any cluster busy, bounded for huge sweeps.
_MAX_PENDING = 256

_WHAT = "experiment"

Runner = Callable[[Any, int, int], Any]
Progress = Callable[[int, int], None]


# --------------------------------------------------------------------------------------------
# scenarios: ids and dotted-key updates


def scenario_id(scenario: BaseModel) -> str:
    """The content hash of a scenario, its id.

    ``scenario.content_hash`` (an attribute, property or method) when the model has one, else
    the SHA-256 of its canonical JSON (``model_dump(mode="json")``, keys sorted).

    Parameters
    ----------
    scenario : pydantic.BaseModel
        The scenario.

    Returns
    -------
    str
        The hash as text.
    """
    value = getattr(scenario, "content_hash", None)
    if callable(value):
        value = value()
    if isinstance(value, str) and value:
        return value
    text = json.dumps(
        scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _plain(value: Any) -> Any:
    """Numpy scalars and arrays (from a design table) as Python values; tuples as lists."""
    if hasattr(value, "item") and hasattr(value, "dtype") and getattr(value, "ndim", 1) == 0:
        return value.item()
    if hasattr(value, "tolist") and hasattr(value, "dtype"):
        return value.tolist()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _lookup(data: Any, parts: Sequence[str]) -> tuple[bool, Any]:
    for part in parts:
        if isinstance(data, Mapping) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return False, None
    return True, data


def _set_path(data: dict[str, Any], obj: Any, key: str, value: Any) -> str | None:
    """Set ``key`` (dotted; list items by index) in nested dumped data; an error or None.

    ``obj`` is the model ``data`` was dumped from, walked alongside: a missing name is refused
    on a model (it has no such field) and accepted on a free-form mapping field.
    """
    parts = key.split(".")
    node: Any = data
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        where = ".".join(parts[: depth + 1])
        if isinstance(node, dict):
            fields = type(obj).model_fields if isinstance(obj, BaseModel) else None
            if part not in node and (fields is not None or not last):
                known = ", ".join(sorted(map(str, fields if fields is not None else node)))
                return f"no field {where!r} in the scenario (fields here: {known or 'none'})"
            if last:
                node[part] = value  # a new key of a free-form mapping; checked after validation
                return None
            node = node[part]
            obj = getattr(obj, part, None) if fields is not None else (
                obj.get(part) if isinstance(obj, Mapping) else None
            )
        elif isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                return f"{where!r}: expected an index below {len(node)} into a list"
            if last:
                node[int(part)] = value
                return None
            node = node[int(part)]
            obj = obj[int(part)] if isinstance(obj, Sequence) else None
        else:
            parent = ".".join(parts[:depth])
            return f"{parent!r} is a value ({type(node).__name__}), it has no field {part!r}"
    return None  # pragma: no cover - loop always returns


def with_values(base: BaseModel, values: Mapping[str, Any], *, what: str = _WHAT) -> BaseModel:
    """A copy of ``base`` with dotted field paths set, validated like a new scenario.

    A scenario with its own ``with_updates(mapping)`` (:class:`commgov.sim.scenario.Scenario`)
    does the update itself; for any other pydantic model the fields are set in its
    ``model_dump`` and the result re-validated with ``model_validate``.

    Parameters
    ----------
    base : pydantic.BaseModel
        The base scenario (not changed).
    values : mapping of str to object
        Dotted field path → new value (``"submodels.notification.volunteers": 10``); list
        items are addressed by index (``"points.0.lanes"``).
    what : str
        What is being built, for error messages.

    Returns
    -------
    pydantic.BaseModel
        A new scenario of the same class.

    Raises
    ------
    commgov.errors.InputError
        When a path names no field, or the new scenario does not validate.
    """
    if not values:
        return base
    own = getattr(base, "with_updates", None)
    if callable(own):  # the scenario knows how to re-validate itself (commgov.sim.Scenario)
        try:
            updated = own({k: _plain(v) for k, v in values.items()})
        except InputError as exc:
            raise type(exc)(exc.issues, what=what) from None
        if not isinstance(updated, BaseModel):
            raise TypeError(f"{type(base).__name__}.with_updates returned {updated!r}")
        return updated
    cls = type(base)
    computed = set(getattr(cls, "model_computed_fields", {}))
    data = base.model_dump(mode="python", round_trip=True, exclude=computed or None)
    issues = []
    for key, value in values.items():
        error = _set_path(data, base, key, _plain(value))
        if error is not None:
            issues.append(InputIssue(what, key, value, error))
    if issues:
        raise InputError(issues, what=what)
    try:
        new = cls.model_validate(data)
    except ValidationError as exc:
        raise InputError.from_validation(exc, data, record=what, what=what) from None
    dumped = new.model_dump(mode="python", round_trip=True)
    for key, value in values.items():
        present, _ = _lookup(dumped, key.split("."))
        if not present:
            raise InputError.single(what, key, value, "no such field in the scenario", what=what)
    return new


# --------------------------------------------------------------------------------------------
# experiments


@dataclass(frozen=True, slots=True)
class DesignPoint:
    """One scenario of an experiment.

    Attributes
    ----------
    index : int
        Position in the design (0-based): grid order, or the design table's row order.
    values : mapping of str to object
        The varied values of this point, dotted path → value.
    scenario : pydantic.BaseModel
        The base scenario with these values set.
    scenario_id : str
        The scenario's content hash.
    """

    index: int
    values: Mapping[str, Any]
    scenario: BaseModel
    scenario_id: str


class Experiment:
    """A base scenario, what varies, replicates and a root seed.

    Parameters
    ----------
    base : pydantic.BaseModel
        The base scenario (a :class:`commgov.sim.scenario.Scenario`, or any pydantic model a
        runner understands).
    grid : mapping of str to sequence, optional
        Factorial design: dotted field path → values. Every combination is one design point,
        the first key varying slowest (like :func:`itertools.product`).
    replicates : int, default 1
        Replicates per design point, numbered ``0 … replicates-1``.
    root_seed : int, default 0
        Root of every random stream (``SeedSequence(root_seed, spawn_key=(replicate, …))``).
    design : sequence of mapping, optional
        Any design instead of a grid: one mapping (dotted path → value) per design point, all
        with the same keys. See also :meth:`from_dataframe`.

    Attributes
    ----------
    base : pydantic.BaseModel
    keys : tuple of str
        The varied paths, in grid or design-table column order.
    points : tuple of DesignPoint
        Every scenario, validated when the experiment is made.
    replicates : int
    root_seed : int

    Raises
    ------
    commgov.errors.InputError
        If a path names no field of the scenario, or a varied scenario does not validate.
    ValueError
        If the grid or design is malformed (empty value lists, differing keys, both given).

    Examples
    --------
    >>> from pydantic import BaseModel
    >>> class Toy(BaseModel):
    ...     volunteers: int = 20
    >>> exp = Experiment(Toy(), {"volunteers": [20, 10, 5]}, replicates=100, root_seed=1)
    >>> [p.scenario.volunteers for p in exp.points], exp.n_tasks
    ([20, 10, 5], 300)
    """

    __slots__ = ("_base", "_keys", "_points", "_replicates", "_root_seed")

    def __init__(
        self,
        base: BaseModel,
        grid: Mapping[str, Sequence[Any]] | None = None,
        *,
        replicates: int = 1,
        root_seed: int = 0,
        design: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        if not isinstance(base, BaseModel):
            raise TypeError(
                f"base must be a scenario (a pydantic model), got {type(base).__name__}"
            )
        if isinstance(replicates, bool) or not isinstance(replicates, int) or replicates < 1:
            raise ValueError(f"replicates must be a whole number ≥ 1, got {replicates!r}")
        if isinstance(root_seed, bool) or not isinstance(root_seed, int) or root_seed < 0:
            raise ValueError(f"root_seed must be a whole number ≥ 0, got {root_seed!r}")
        if grid is not None and design is not None:
            raise ValueError("give either grid or design, not both")
        rows, keys = self._rows(grid, design)
        points = []
        for index, values in enumerate(rows):
            what = f"design point {index} ({_describe(values)})"
            scenario = with_values(base, values, what=what)
            points.append(DesignPoint(index, values, scenario, scenario_id(scenario)))
        self._base = base
        self._keys = keys
        self._points = tuple(points)
        self._replicates = replicates
        self._root_seed = root_seed

    @staticmethod
    def _rows(
        grid: Mapping[str, Sequence[Any]] | None, design: Sequence[Mapping[str, Any]] | None
    ) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
        if design is not None:
            if isinstance(design, Mapping | str) or not isinstance(design, Iterable):
                raise TypeError("design must be a sequence of mappings (one per design point)")
            rows = [{str(k): _plain(v) for k, v in dict(row).items()} for row in design]
            if not rows:
                raise ValueError("design has no rows")
            keys = tuple(rows[0])
            for i, row in enumerate(rows):
                if tuple(row) != keys:
                    raise ValueError(f"design row {i} has keys {list(row)}, row 0 has {list(keys)}")
        else:
            grid = dict(grid or {})
            for key, values in grid.items():
                if isinstance(values, str | bytes | Mapping) or not isinstance(values, Iterable):
                    raise TypeError(f"grid[{key!r}] must be a list of values, got {values!r}")
            lists = {str(k): [_plain(v) for v in vs] for k, vs in grid.items()}
            for key, values in lists.items():
                if not values:
                    raise ValueError(f"grid[{key!r}] has no values")
            keys = tuple(lists)
            combos = itertools.product(*lists.values())
            rows = [dict(zip(keys, combo, strict=True)) for combo in combos]
        for key in keys:
            if not key or any(not part for part in key.split(".")):
                raise ValueError(f"{key!r} is not a dotted field path (like 'a.b.c')")
            if key in FIXED_COLUMNS:
                raise ValueError(f"{key!r} cannot be varied: it is a column of the sweep table")
        return rows, keys

    @classmethod
    def from_dataframe(
        cls, base: BaseModel, df: pd.DataFrame, *, replicates: int = 1, root_seed: int = 0
    ) -> Experiment:
        """An experiment whose design points are the rows of a table.

        Parameters
        ----------
        base : pydantic.BaseModel
            The base scenario.
        df : pandas.DataFrame
            One row per design point, one column per dotted field path (from SALib,
            :mod:`scipy.stats.qmc`, a spreadsheet ...). Numpy values become Python values.
        replicates : int, default 1
            Replicates per design point.
        root_seed : int, default 0
            The root seed.

        Returns
        -------
        Experiment
            Design point ``i`` is row ``i`` (in the table's order, whatever its index).
        """
        columns = [str(c) for c in df.columns]
        if len(set(columns)) != len(columns):
            raise ValueError(f"design table has repeated columns: {columns}")
        rows = [dict(zip(columns, row, strict=True)) for row in df.itertuples(index=False)]
        return cls(base, replicates=replicates, root_seed=root_seed, design=rows)

    @property
    def base(self) -> BaseModel:
        """The base scenario."""
        return self._base

    @property
    def keys(self) -> tuple[str, ...]:
        """The varied dotted paths, in table column order."""
        return self._keys

    @property
    def points(self) -> tuple[DesignPoint, ...]:
        """Every design point, in design order."""
        return self._points

    @property
    def replicates(self) -> int:
        """Replicates per design point."""
        return self._replicates

    @property
    def root_seed(self) -> int:
        """The root seed of every random stream."""
        return self._root_seed

    @property
    def n_tasks(self) -> int:
        """Number of (design point, replicate) runs."""
        return len(self._points) * self._replicates

    def __repr__(self) -> str:
        return (
            f"Experiment({type(self._base).__name__}, {len(self._points)} point(s) over "
            f"{list(self._keys)}, replicates={self._replicates}, root_seed={self._root_seed})"
        )


def _describe(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in values.items()) or "the base scenario"


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
        Root seed, replicates, base scenario id, runner and library versions.
    """

    experiment: Experiment
    rows: tuple[SweepRow, ...]
    provenance: Mapping[str, Any]

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

        Parameters
        ----------
        path : str or os.PathLike
            Target file; parent folders are created.

        Returns
        -------
        Path
            The file written.

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
        try:
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
    runner: Runner, scenario: Any, replicates: Sequence[int], root_seed: int, record: bool
) -> list[BatchRow]:
    """Worker side: run some replicates of one scenario; (replicate, status, kpis, error)."""
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
        todo = [
            r for r in range(experiment.replicates) if (point.scenario_id, r) not in done
        ]
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
    from importlib.metadata import PackageNotFoundError, version

    from commgov import __version__

    out = {"commgov": __version__, "python": platform.python_version()}
    for dist in ("numpy", "simpy", "pydantic"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:  # pragma: no cover
            out[dist] = "not installed"
    return out


def run_sweep(
    experiment: Experiment,
    *,
    executor: Executor | None = None,
    store: SweepStore | str | os.PathLike[str] | None = None,
    batch_size: int = 8,
    on_error: Literal["record", "raise"] = "record",
    runner: Runner | None = None,
    progress: Progress | None = None,
) -> SweepResult:
    """Run every (design point, replicate) of an experiment.

    Parameters
    ----------
    experiment : Experiment
        Scenarios, replicates and root seed.
    executor : concurrent.futures.Executor, optional
        Where batches run: None runs them in this process, one after another; otherwise any
        executor — a spawn-context :class:`~concurrent.futures.ProcessPoolExecutor`, or
        ``distributed.Client(...).get_executor()``. It is not shut down here.
    store : SweepStore or path, optional
        A folder of finished batches: replicates found there are not run again, and each
        finished batch is written there (by this process) as soon as it returns.
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
        ``commgov.sim._engine.run_replicate``. With an executor it must pickle (a module-level
        function).
    progress : callable, optional
        ``progress(done, total)`` in replicates, called in this process at the start (with
        the replicates found in the store) and after each batch.

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
    """
    if not isinstance(experiment, Experiment):
        raise TypeError(f"experiment must be an Experiment, got {type(experiment).__name__}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a whole number ≥ 1, got {batch_size!r}")
    if on_error not in ("record", "raise"):
        raise ValueError(f"on_error must be 'record' or 'raise', got {on_error!r}")
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise TypeError(f"executor must be a concurrent.futures.Executor, got {executor!r}")
    run = runner if runner is not None else _default_runner()
    rid = _runner_id(run)
    if executor is not None:
        _check_picklable(run, experiment)
    if store is not None and not isinstance(store, SweepStore):
        store = SweepStore(store)
    seed = experiment.root_seed
    record = on_error == "record"

    done: dict[tuple[str, int], dict[str, float]] = {}
    if store is not None:
        done = store.get({p.scenario_id for p in experiment.points}, seed, rid)
    rows: dict[tuple[int, int], SweepRow] = {}
    for point in experiment.points:
        for r in range(experiment.replicates):
            kpis = done.get((point.scenario_id, r))
            if kpis is not None:
                rows[(point.index, r)] = SweepRow(
                    point.index, point.scenario_id, point.values, r, "ok", kpis
                )
    total = experiment.n_tasks
    if progress is not None:
        progress(len(rows), total)

    def finish(batch: _Batch, results: list[BatchRow]) -> None:
        p = batch.point
        for r, status, kpis, error in results:
            rows[(p.index, r)] = SweepRow(
                p.index, p.scenario_id, p.values, r, "ok" if status == "ok" else "failed",
                kpis, error,
            )
        if store is not None:
            store.put(p.scenario_id, seed, rid, [(r, k) for r, s, k, _ in results if s == "ok"])
        if progress is not None:
            progress(len(rows), total)

    def lost(batch: _Batch, exc: BaseException) -> list[BatchRow]:
        text = "".join(traceback.format_exception(exc))
        return [(r, "failed", {}, text) for r in batch.replicates]

    todo = _batches(experiment, batch_size, done)
    if executor is None:
        for batch in todo:
            finish(batch, _run_batch(run, batch.point.scenario, batch.replicates, seed, record))
    else:
        pending: dict[Future[list[BatchRow]], _Batch] = {}
        try:
            while True:
                for batch in itertools.islice(todo, _MAX_PENDING - len(pending)):
                    future = executor.submit(
                        _run_batch, run, batch.point.scenario, batch.replicates, seed, record
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
    }
    return SweepResult(experiment, ordered, provenance)


def _order(batch: _Batch) -> tuple[int, int]:
    return (batch.point.index, batch.replicates[0])
