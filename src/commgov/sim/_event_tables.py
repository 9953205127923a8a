"""Event logs and per-interval time series of one replicate as tables and Parquet bytes.

Private; :func:`time_series` is re-exported by :mod:`commgov.sim`, and
:func:`commgov.sim.write_sweep_outputs` writes the Parquet files. The Parquet writer options
are fixed, so the same columns give the same bytes (for one pyarrow version; nothing depends
on the clock).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from commgov.errors import InvalidParameterError, MissingExtraError
from commgov.sim._log import EventLog

__all__ = ["QUEUE_METRICS", "time_series"]

#: Queue kinds whose running balance gives the queue length and residents in the system.
QUEUE_METRICS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # metric: (kinds that add one, kinds that remove one), by entity events of the desks
    "queue.waiting": (("queue_join",), ("service_start", "queue_abandon", "queue_renege")),
    "queue.in_system": (("queue_join",), ("service_end", "queue_abandon", "queue_renege")),
}


# ------------------------------------------------------------------------------ tables


def time_series(log: EventLog, interval_min: float, horizon_min: float) -> dict[str, list[Any]]:
    """Per-interval series of a replicate's events, as columns.

    The horizon is cut into intervals ``[k·interval_min, (k+1)·interval_min)`` (the last one
    ends at ``horizon_min``). For each interval:

    * ``count.<kind>``: events of each kind of the log in the interval;
    * ``queue.waiting`` and ``queue.in_system``, when the log has desk-queue events: residents
      waiting, and waiting or in service, at the interval's end (joins minus services started
      — or ended — abandons and reneges before it), summed over the points (and stages).

    Parameters
    ----------
    log : EventLog
        One replicate's events.
    interval_min : float
        Interval length in minutes (> 0).
    horizon_min : float
        The scenario's horizon in minutes (> 0).

    Returns
    -------
    dict of str to list
        Columns ``start_min``, ``end_min`` (float), ``metric`` (str) and ``value`` (float):
        one row per interval and metric, intervals in time order, metrics sorted by name.

    Raises
    ------
    commgov.errors.InvalidParameterError
        If ``interval_min`` or ``horizon_min`` is not a positive finite number, or the horizon
        holds more than 100,000 intervals.

    Notes
    -----
    O(events + intervals × kinds).

    Examples
    --------
    >>> log = EventLog()
    >>> for t in (1.0, 2.0, 12.0):
    ...     log.record(t, "notified", "H")
    >>> ts = time_series(log, 10, 20)
    >>> list(zip(ts["start_min"], ts["metric"], ts["value"]))
    [(0.0, 'count.notified', 2.0), (10.0, 'count.notified', 1.0)]
    """
    for name, value in (("interval_min", interval_min), ("horizon_min", horizon_min)):
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or value <= 0
        ):
            raise InvalidParameterError(name, value, "a positive number of minutes", "time_series")
    n = math.ceil(round(horizon_min / interval_min, 9))
    if n > 100_000:
        raise InvalidParameterError(
            "interval_min",
            interval_min,
            f"at most 100,000 intervals over {horizon_min} min",
            "time_series",
        )
    starts = np.arange(n, dtype=np.float64) * float(interval_min)
    ends = np.minimum(starts + float(interval_min), float(horizon_min))
    t = np.asarray(log.t_min, dtype=np.float64)
    bins = np.clip(np.floor(t / float(interval_min)).astype(np.int64), 0, n - 1)
    kinds = np.asarray(log.kind, dtype=object)
    series: dict[str, np.ndarray] = {}
    for kind in sorted(set(log.kind)):
        series[f"count.{kind}"] = np.bincount(bins[kinds == kind], minlength=n).astype(np.float64)
    if "count.queue_join" in series:
        for metric, (adds, removes) in QUEUE_METRICS.items():
            delta = np.zeros(n, dtype=np.float64)
            for kind in adds:
                delta += series.get(f"count.{kind}", 0.0)
            for kind in removes:
                delta -= series.get(f"count.{kind}", 0.0)
            series[metric] = np.cumsum(delta)
    names = sorted(series)
    out: dict[str, list[Any]] = {"start_min": [], "end_min": [], "metric": [], "value": []}
    for k in range(n):
        for name in names:
            out["start_min"].append(float(starts[k]))
            out["end_min"].append(float(ends[k]))
            out["metric"].append(name)
            out["value"].append(float(series[name][k]))
    return out


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
        import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]
    except ImportError as exc:
        raise MissingExtraError("pyarrow", "sim") from exc
    return pa, pq


def _parquet(columns: Mapping[str, tuple[Any, list[Any]]]) -> bytes:
    """Parquet bytes of typed columns, with fixed writer options: the same columns give the
    same bytes (for one pyarrow version; nothing depends on the clock)."""
    pa, pq = _pyarrow()
    table = pa.table(
        {name: pa.array(values, type=typ(pa)) for name, (typ, values) in columns.items()}
    )
    sink = pa.BufferOutputStream()
    pq.write_table(
        table,
        sink,
        compression="zstd",
        compression_level=3,
        use_dictionary=True,
        write_statistics=True,
        row_group_size=1 << 20,
        version="2.6",
        data_page_version="1.0",
    )
    data: bytes = sink.getvalue().to_pybytes()
    return data


def _i64(pa: Any) -> Any:
    return pa.int64()


def _f64(pa: Any) -> Any:
    return pa.float64()


def _str(pa: Any) -> Any:
    return pa.string()


def _events_parquet(point: int, replicate: int, log: EventLog, communities: list[str]) -> bytes:
    n = len(log)
    return _parquet(
        {
            "point": (_i64, [point] * n),
            "replicate": (_i64, [replicate] * n),
            "t_min": (_f64, list(log.t_min)),
            "kind": (_str, list(log.kind)),
            "entity": (_str, list(log.entity)),
            "actor": (_str, list(log.actor)),
            "community": (_str, communities),
            "value": (_f64, list(log.value)),
        }
    )


def _series_parquet(point: int, replicate: int, series: Mapping[str, list[Any]]) -> bytes:
    n = len(series["metric"])
    return _parquet(
        {
            "point": (_i64, [point] * n),
            "replicate": (_i64, [replicate] * n),
            "start_min": (_f64, series["start_min"]),
            "end_min": (_f64, series["end_min"]),
            "metric": (_str, series["metric"]),
            "value": (_f64, series["value"]),
        }
    )
