"""A folder of finished sweep batches that makes a sweep resumable (private; see ``sim.sweep``).

Each finished batch of one design point is one JSON file, written atomically (a temporary file
beside it, flushed, then ``os.replace``), so a crash leaves whole files or none. A row is found
again by its key: the scenario's content hash, the replicate, the root seed, the runner
(``module:qualname``) and the commgov version, so a changed scenario, seed, runner or library
never reuses old KPIs. Only replicates that finished ``ok`` are kept: failed ones run again.

The store is written by the process that calls :func:`commgov.sim.run_sweep`, never by
workers, so workers need no shared file system.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

__all__ = ["SweepStore"]

_log = logging.getLogger("commgov.sim")

_FORMAT = "commgov.sweep-batch"
_FORMAT_VERSION = 1


def _library_version() -> str:
    from commgov import __version__

    return __version__


class SweepStore:
    """A folder holding the finished batches of sweeps, one JSON file per batch.

    Give it to :func:`~commgov.sim.run_sweep` (``store=SweepStore("runs/x")`` or just
    ``store="runs/x"``): replicates already in the folder are not run again, so an interrupted
    sweep resumes where it stopped, and the result is the same as that of one whole run. Many
    sweeps may share one folder.

    Parameters
    ----------
    path : str or os.PathLike
        The folder; created when the first batch is written.

    Examples
    --------
    >>> import tempfile
    >>> store = SweepStore(tempfile.mkdtemp())
    >>> _ = store.put("abc", 7, "m:f", [(0, {"t50": 1.5})])
    >>> store.get({"abc"}, 7, "m:f")
    {('abc', 0): {'t50': 1.5}}
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"SweepStore({str(self.path)!r})"

    def __reduce__(self) -> tuple[type[SweepStore], tuple[str]]:
        return (SweepStore, (str(self.path),))

    def get(
        self, scenario_ids: Iterable[str], root_seed: int, runner: str
    ) -> dict[tuple[str, int], dict[str, float]]:
        """The stored KPIs of finished replicates of some scenarios.

        Parameters
        ----------
        scenario_ids : iterable of str
            Content hashes of the scenarios wanted.
        root_seed : int
            The sweep's root seed.
        runner : str
            The runner's ``module:qualname``.

        Returns
        -------
        dict
            ``(scenario_id, replicate) → {kpi: value}``; files that cannot be read are skipped
            with a warning in the ``commgov.sim`` log (their replicates run again).
        """
        wanted = set(scenario_ids)
        version = _library_version()
        found: dict[tuple[str, int], dict[str, float]] = {}
        if not self.path.is_dir():
            return found
        for file in sorted(self.path.glob("batch-*.json")):
            try:
                doc = json.loads(file.read_text(encoding="utf-8"))
                if (
                    doc.get("format") != _FORMAT
                    or doc.get("format_version") != _FORMAT_VERSION
                    or doc["scenario_id"] not in wanted
                    or doc["root_seed"] != root_seed
                    or doc["runner"] != runner
                    or doc["commgov"] != version
                ):
                    continue
                for row in doc["rows"]:
                    kpis = {str(k): float(v) for k, v in row["kpis"].items()}
                    found[(doc["scenario_id"], int(row["replicate"]))] = kpis
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
                _log.warning("sweep store: skipping unreadable %s (%s)", file, exc)
        return found

    def put(
        self,
        scenario_id: str,
        root_seed: int,
        runner: str,
        rows: Iterable[tuple[int, Mapping[str, float]]],
    ) -> Path | None:
        """Write one finished batch of a scenario, atomically.

        Parameters
        ----------
        scenario_id : str
            The scenario's content hash.
        root_seed : int
            The sweep's root seed.
        runner : str
            The runner's ``module:qualname``.
        rows : iterable of (int, mapping)
            ``(replicate, kpis)`` of the replicates that finished ``ok``.

        Returns
        -------
        Path or None
            The file written, or None when there were no rows.
        """
        batch = sorted(((int(r), dict(k)) for r, k in rows), key=lambda row: row[0])
        if not batch:
            return None
        doc = {
            "format": _FORMAT,
            "format_version": _FORMAT_VERSION,
            "scenario_id": scenario_id,
            "root_seed": root_seed,
            "runner": runner,
            "commgov": _library_version(),
            "rows": [{"replicate": r, "kpis": k} for r, k in batch],
        }
        key = json.dumps(
            [doc["scenario_id"], root_seed, runner, doc["commgov"], [r for r, _ in batch]]
        )
        name = "batch-" + hashlib.blake2b(key.encode(), digest_size=16).hexdigest() + ".json"
        target = self.path / name
        self.path.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=self.path)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(doc, fh, separators=(",", ":"))  # floats as repr: exact round trip
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return target
