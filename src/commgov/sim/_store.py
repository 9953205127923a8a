"""A folder of finished sweep batches that makes a sweep resumable (private; see ``sim.sweep``).

Each finished batch of one design point is one JSON file, written atomically (a temporary file
beside it, flushed, then ``os.replace``), so a crash leaves whole files or none.

**Key.** A row is found again by its key: the scenario's content hash, the replicate, the root
seed, the runner (``module:qualname``) and the *fingerprint* of what shapes results — the bytes
of the commgov package, of the runner's and plugins' modules and the versions of Python and of
the numerical libraries (:mod:`commgov.sim._fingerprint`). A changed scenario, seed, runner,
submodel, planner or library never reuses old KPIs; batches of other code stay in the folder,
unused. Only replicates that finished ``ok`` are kept: failed ones run again.

**Trust.** Every batch carries a SHA-256 checksum of its canonical serialisation (keys sorted,
no spaces, floats as their shortest round-trip text; a replicate's KPIs as ``[name, value]``
pairs in the runner's order, non-finite ones as the strings ``"nan"``, ``"inf"``,
``"-inf"``). On reading, a file is *not trusted*, and its replicates run again, when

* it cannot be read, is not a regular file or is larger than :data:`MAX_BATCH_BYTES`, or is
  not a batch at all;
* it is not strict JSON: bare ``NaN``/``Infinity``, a repeated key, nesting too deep;
* its checksum does not match its contents (a hand-edited KPI), its rows are malformed
  (repeated replicate, a KPI that is not a number) or its name does not match its key;
* it disagrees with another batch of the same key on a replicate's KPIs (both are untrusted).

Each such file is logged as a warning on the ``commgov.sim`` logger, listed in
:attr:`StoreLookup.issues` (and by :func:`~commgov.sim.run_sweep` in
:attr:`SweepResult.recomputed`) and moved by :meth:`SweepStore.reject` into the folder's
``rejected/`` subfolder, so the next resume does not meet it again. The checksum finds edits
and damage, not forgery: whoever can write the folder can also write a matching checksum.

The store is written by the process that calls :func:`commgov.sim.run_sweep`, never by
workers, so workers need no shared file system.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import stat
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from commgov._input import MAX_INPUT_BYTES, parse_json
from commgov._redact import get_logger

__all__ = ["MAX_BATCH_BYTES", "StoreIssue", "StoreLookup", "SweepStore"]

_log = get_logger("commgov.sim")

_FORMAT = "commgov.sweep-batch"
_FORMAT_VERSION = 2

#: Largest batch file read (bytes): the one reader's limit; a larger one is not trusted and
#: runs again, and is refused from its size before any of it is read.
MAX_BATCH_BYTES = MAX_INPUT_BYTES

_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class StoreIssue:
    """A batch file of a :class:`SweepStore` that was not trusted.

    Attributes
    ----------
    file : str
        The file's name in the store folder.
    reason : str
        Why (``"checksum does not match the contents"``, ``"not strict JSON: …"``,
        ``"disagrees with batch-….json on replicate 3"`` …).
    scenario_id : str or None
        The scenario the file claims to hold, when it could be read.
    replicates : tuple of int
        The replicates the file claims to hold, when it could be read.
    """

    file: str
    reason: str
    scenario_id: str | None = None
    replicates: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class StoreLookup:
    """What :meth:`SweepStore.load` found.

    Attributes
    ----------
    found : dict
        ``(scenario_id, replicate) → {kpi: value}`` from trusted batches.
    issues : tuple of StoreIssue
        The files not trusted, in file-name order.
    """

    found: dict[tuple[str, int], dict[str, float]]
    issues: tuple[StoreIssue, ...]


# --------------------------------------------------------------------------------------------
# the strict batch format


class _BatchError(ValueError):
    pass


def _canonical(doc: Mapping[str, Any]) -> bytes:
    """The bytes the checksum covers: sorted keys, no spaces, no non-finite number."""
    return json.dumps(
        doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _checksum(doc: Mapping[str, Any]) -> str:
    body = {k: v for k, v in doc.items() if k != "checksum"}
    return "sha256:" + hashlib.sha256(_canonical(body)).hexdigest()


def _encode(value: float) -> float | str:
    value = float(value)
    if math.isfinite(value):
        return value
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def _decode(value: Any) -> float:
    if isinstance(value, str) and value in _NON_FINITE:
        return _NON_FINITE[value]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _BatchError(f"a KPI value is {type(value).__name__}, not a number")
    out = float(value)
    if not math.isfinite(out):
        raise _BatchError("a KPI number is out of range")
    return out


def _file_name(
    scenario_id: str, root_seed: int, runner: str, fingerprint: str, replicates: Iterable[int]
) -> str:
    key = json.dumps([scenario_id, root_seed, runner, fingerprint, list(replicates)])
    return "batch-" + hashlib.blake2b(key.encode(), digest_size=16).hexdigest() + ".json"


def _is_index(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


@dataclass(frozen=True, slots=True)
class _Batch:
    name: str
    scenario_id: str
    root_seed: int
    runner: str
    fingerprint: str
    rows: dict[int, dict[str, float]]


def _read(file: Path) -> _Batch | StoreIssue | None:
    """One batch file, checked; an issue when it is not trusted, None for another version."""
    name = file.name
    try:
        info = os.stat(file, follow_symlinks=False)
        if not stat.S_ISREG(info.st_mode):
            return StoreIssue(name, "not a regular file")
        if info.st_size > MAX_BATCH_BYTES:
            return StoreIssue(name, f"larger than {MAX_BATCH_BYTES:,} bytes")
        with open(file, "rb") as fh:
            data = fh.read(MAX_BATCH_BYTES + 1)
    except OSError as exc:
        return StoreIssue(name, f"cannot be read: {exc.strerror or exc}")
    try:
        doc = parse_json(data, label=name, what="sweep batch")
    except ValueError as exc:  # InputError (the one reader's rules), SizeLimitError
        issue = getattr(exc, "issues", (None,))[0]
        what = issue.constraint if issue is not None else str(exc)
        return StoreIssue(name, f"not strict JSON: {what[:120]}")
    if not isinstance(doc, dict):
        return StoreIssue(name, "not a batch object")
    if doc.get("format") != _FORMAT:
        return StoreIssue(name, "not a commgov sweep batch")
    if doc.get("format_version") == 1 and "checksum" not in doc:
        return None  # written before batches had checksums and code keys: never used
    sid = doc.get("scenario_id")
    claimed_sid = sid if isinstance(sid, str) else None
    rows = doc.get("rows")
    claimed = tuple(
        r["replicate"]
        for r in (rows if isinstance(rows, list) else [])
        if isinstance(r, dict) and _is_index(r.get("replicate"))
    )
    try:
        ok = doc.get("checksum") == _checksum(doc)
    except (ValueError, TypeError):
        ok = False
    if not ok:
        return StoreIssue(
            name, "checksum does not match the contents (edited or damaged)", claimed_sid, claimed
        )
    if doc.get("format_version") != _FORMAT_VERSION:
        return None  # an intact batch of another format version: not ours to read
    try:
        batch = _parse(name, doc)
    except (_BatchError, KeyError, TypeError, AttributeError) as exc:
        return StoreIssue(name, f"malformed: {exc}", claimed_sid, claimed)
    expected = _file_name(
        batch.scenario_id, batch.root_seed, batch.runner, batch.fingerprint, batch.rows
    )
    if name != expected:
        return StoreIssue(
            name, f"its name does not match its contents ({expected})", claimed_sid, claimed
        )
    return batch


def _parse(name: str, doc: dict[str, Any]) -> _Batch:
    fields = (doc["scenario_id"], doc["runner"], doc["fingerprint"])
    if not all(isinstance(f, str) for f in fields):
        raise _BatchError("scenario_id, runner and fingerprint must be text")
    if not _is_index(doc["root_seed"]):
        raise _BatchError("root_seed must be a whole number ≥ 0")
    if not isinstance(doc["rows"], list) or not doc["rows"]:
        raise _BatchError("rows must be a non-empty list")
    rows: dict[int, dict[str, float]] = {}
    for row in doc["rows"]:
        if not isinstance(row, dict) or set(row) != {"replicate", "kpis"}:
            raise _BatchError("a row must have exactly replicate and kpis")
        replicate, kpis = row["replicate"], row["kpis"]
        if not _is_index(replicate):
            raise _BatchError("a replicate must be a whole number ≥ 0")
        if replicate in rows:
            raise _BatchError(f"replicate {replicate} is repeated")
        if not isinstance(kpis, list) or not all(
            isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str) for pair in kpis
        ):
            raise _BatchError(f"kpis of replicate {replicate} must be [name, value] pairs")
        decoded = {name: _decode(value) for name, value in kpis}
        if len(decoded) != len(kpis):
            raise _BatchError(f"a KPI name of replicate {replicate} is repeated")
        rows[replicate] = decoded
    if list(rows) != sorted(rows):
        raise _BatchError("rows must be sorted by replicate")
    return _Batch(
        name, doc["scenario_id"], doc["root_seed"], doc["runner"], doc["fingerprint"], rows
    )


def _pairs(kpis: Mapping[str, float]) -> list[list[Any]]:
    """KPIs as ``[name, value]`` pairs: their order (the table's column order) survives."""
    return [[str(name), _encode(value)] for name, value in kpis.items()]


def _same(a: Mapping[str, float], b: Mapping[str, float]) -> bool:
    return _canonical({"kpis": _pairs(a)}) == _canonical({"kpis": _pairs(b)})


def _default_fingerprint(runner: str) -> str:
    from commgov.sim._fingerprint import sweep_fingerprint

    return sweep_fingerprint(runner)[0]


class SweepStore:
    """A folder holding the finished batches of sweeps, one checksummed JSON file per batch.

    Give it to :func:`~commgov.sim.run_sweep` (``store=SweepStore("runs/x")`` or just
    ``store="runs/x"``): replicates already in the folder are not run again, so an interrupted
    sweep resumes where it stopped, and the result is the same as that of one whole run. Many
    sweeps may share one folder. Batches are keyed on the code that computed them and checked
    on reading (see the module notes): edited, damaged or disagreeing batches are not trusted.

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

    def load(
        self,
        scenario_ids: Iterable[str],
        root_seed: int,
        runner: str,
        *,
        fingerprint: str | None = None,
    ) -> StoreLookup:
        """The trusted stored KPIs of some scenarios, and the files not trusted.

        Parameters
        ----------
        scenario_ids : iterable of str
            Content hashes of the scenarios wanted.
        root_seed : int
            The sweep's root seed.
        runner : str
            The runner's ``module:qualname``.
        fingerprint : str, optional
            The fingerprint of the code and libraries (default: that of this process for the
            runner's module, without extra plugins).

        Returns
        -------
        StoreLookup
            ``found`` from the trusted batches of this key; ``issues``: every file that is
            damaged, edited or malformed (whatever its key) and every batch of this key that
            disagrees with another. Each issue is also logged as a warning on the
            ``commgov.sim`` logger. Nothing is moved (see :meth:`reject`).

        Notes
        -----
        Reads every ``batch-*.json`` file of the folder once: O(total bytes).
        """
        wanted = set(scenario_ids)
        fp = fingerprint if fingerprint is not None else _default_fingerprint(runner)
        issues: list[StoreIssue] = []
        mine: list[_Batch] = []
        if self.path.is_dir():
            for file in sorted(self.path.glob("batch-*.json")):
                read = _read(file)
                if isinstance(read, StoreIssue):
                    issues.append(read)
                elif read is not None and (
                    read.scenario_id in wanted
                    and read.root_seed == root_seed
                    and read.runner == runner
                    and read.fingerprint == fp
                ):
                    mine.append(read)
        # batches of one key that disagree on a replicate are all untrusted
        seen: dict[tuple[str, int], list[_Batch]] = {}
        for batch in mine:
            for replicate in batch.rows:
                seen.setdefault((batch.scenario_id, replicate), []).append(batch)
        untrusted: dict[str, str] = {}
        for (_, replicate), holders in seen.items():
            first = holders[0].rows[replicate]
            if all(_same(first, other.rows[replicate]) for other in holders[1:]):
                continue
            for batch in holders:
                others = ", ".join(b.name for b in holders if b is not batch)
                untrusted.setdefault(
                    batch.name, f"disagrees with {others} on replicate {replicate}"
                )
        found: dict[tuple[str, int], dict[str, float]] = {}
        for batch in mine:
            if batch.name in untrusted:
                issues.append(
                    StoreIssue(
                        batch.name, untrusted[batch.name], batch.scenario_id, tuple(batch.rows)
                    )
                )
                continue
            for replicate, kpis in batch.rows.items():
                found[(batch.scenario_id, replicate)] = kpis
        issues.sort(key=lambda issue: issue.file)
        for issue in issues:
            _log.warning("sweep store %s: not trusting %s: %s", self.path, issue.file, issue.reason)
        return StoreLookup(found, tuple(issues))

    def get(
        self,
        scenario_ids: Iterable[str],
        root_seed: int,
        runner: str,
        *,
        fingerprint: str | None = None,
    ) -> dict[tuple[str, int], dict[str, float]]:
        """The trusted stored KPIs of finished replicates of some scenarios.

        Parameters
        ----------
        scenario_ids, root_seed, runner, fingerprint
            As in :meth:`load`.

        Returns
        -------
        dict
            ``(scenario_id, replicate) → {kpi: value}`` (``load(...).found``); files not
            trusted are skipped with a warning in the ``commgov.sim`` log.
        """
        return self.load(scenario_ids, root_seed, runner, fingerprint=fingerprint).found

    def put(
        self,
        scenario_id: str,
        root_seed: int,
        runner: str,
        rows: Iterable[tuple[int, Mapping[str, float]]],
        *,
        fingerprint: str | None = None,
    ) -> Path | None:
        """Write one finished batch of a scenario, atomically, with its checksum.

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
        fingerprint : str, optional
            As in :meth:`load`.

        Returns
        -------
        Path or None
            The file written, or None when there were no rows.

        Raises
        ------
        OSError
            If the folder cannot be written (the message names the path).
        """
        batch = sorted(((int(r), dict(k)) for r, k in rows), key=lambda row: row[0])
        if not batch:
            return None
        fp = fingerprint if fingerprint is not None else _default_fingerprint(runner)
        doc: dict[str, Any] = {
            "format": _FORMAT,
            "format_version": _FORMAT_VERSION,
            "scenario_id": scenario_id,
            "root_seed": root_seed,
            "runner": runner,
            "fingerprint": fp,
            "rows": [{"replicate": r, "kpis": _pairs(k)} for r, k in batch],
        }
        doc["checksum"] = _checksum(doc)
        target = self.path / _file_name(scenario_id, root_seed, runner, fp, [r for r, _ in batch])
        tmp = None
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=self.path)
            with os.fdopen(fd, "wb") as fh:
                fh.write(_canonical(doc))  # floats as repr: exact round trip
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except OSError as exc:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            if exc.filename is None:
                raise OSError(exc.errno, f"{exc.strerror or exc}: {target}") from exc
            raise
        except BaseException:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            raise
        return target

    def reject(self, issues: Iterable[StoreIssue]) -> list[Path]:
        """Move untrusted batch files into the ``rejected/`` subfolder (kept, never read).

        Parameters
        ----------
        issues : iterable of StoreIssue
            From :meth:`load`.

        Returns
        -------
        list of Path
            Where the files went (``rejected/<name>``, or ``<name>.1`` … when taken); a file
            already gone is skipped.
        """
        moved: list[Path] = []
        folder = self.path / _REJECTED
        for name in sorted({issue.file for issue in issues}):
            source = self.path / name
            if not os.path.lexists(source):
                continue
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / name
            n = 0
            while os.path.lexists(target):
                n += 1
                target = folder / f"{name}.{n}"
            try:
                os.replace(source, target)
            except OSError as exc:
                _log.warning(
                    "sweep store %s: cannot move %s aside: %s", self.path, name, exc.strerror or exc
                )
                continue
            moved.append(target)
        return moved
