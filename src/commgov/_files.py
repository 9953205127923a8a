from __future__ import annotations

import contextlib
import csv
import errno
import io
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from pydantic import BaseModel

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: A plain decimal number: safe to write as it is although it may start with + or -.
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?", re.ASCII)


def formula_safe(value: Any) -> str:
    """Text of ``value`` that spreadsheets will not run as a formula (OWASP CSV injection).

    A text cell that starts with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a
    leading apostrophe, unless the whole text is a plain decimal number (``-5``, ``+0.25``,
    ``-1e3``: a spreadsheet reads it as that number, never as a formula); numbers are written
    as they are. Header cells pass through the same rule.

    Examples
    --------
    >>> formula_safe("=HYPERLINK(1)")
    "'=HYPERLINK(1)"
    >>> formula_safe(-3), formula_safe("-3"), formula_safe("-2+3")
    ('-3', '-3', "'-2+3")
    """
    kind = type(value)
    if kind is str:  # the common cells first (a CSV export writes hundreds of thousands)
        text: str = value
        if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
            return "'" + text
        return text
    if kind is int:
        return str(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return "'" + text if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text) else text


def write_texts(files: Mapping[str | Path, str | bytes]) -> list[Path]:
    """Write several UTF-8 text files together: all of them, or none is changed.

    Every target is checked first (an existing target must be a regular file), then every
    file is written in full to a temporary file beside its target; only when all are written
    are they renamed over their targets (``os.replace``, atomic per file on POSIX and
    Windows). Existing targets are kept as hard links (copies where links are not supported)
    until the last rename succeeds, so a failure at any step — while writing or while
    renaming — restores every target to what it was and removes the temporary files. New
    files get mode ``0o644``; existing ones keep their mode. (A crash of the process itself
    between two renames can still leave some files new and some old.)

    Parameters
    ----------
    files : mapping of path to str or bytes
        Target path → text (written as UTF-8), or bytes written as they are (Parquet).
        Parent folders are created.

    Returns
    -------
    list of Path
        The written paths, in the mapping's order.

    Raises
    ------
    OSError
        If a target is a folder or other non-file, a folder cannot be created or a file
        cannot be written; ``filename`` and the message name the target file, not the
        temporary one.
    """
    targets = [Path(name) for name in files]
    for name, target in zip(files, targets, strict=True):
        if target.name in ("", ".", ".."):
            raise IsADirectoryError(21, f"not a file name: {str(name)!r}", str(name))
        if target.exists() and not target.is_file():
            raise IsADirectoryError(
                21, f"cannot write {target}: it exists and is not a file", str(target)
            )
    staged: list[tuple[Path, Path]] = []
    backups: dict[Path, Path] = {}
    replaced: list[Path] = []
    try:
        for target, text in zip(targets, files.values(), strict=True):
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp_name = tempfile.mkstemp(
                    dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
                )
                staged.append((Path(tmp_name), target))
                if isinstance(text, bytes):
                    with os.fdopen(fd, "wb") as bfh:
                        bfh.write(text)
                else:
                    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                        fh.write(text)
                mode = target.stat().st_mode & 0o7777 if target.is_file() else 0o644
                os.chmod(tmp_name, mode)
                if target.is_file():
                    backups[target] = _backup(target)
            except OSError as exc:
                raise _naming(exc, target) from exc
        for tmp, target in staged:
            try:
                os.replace(tmp, target)
            except OSError as exc:
                raise _naming(exc, target) from exc
            replaced.append(target)
    except BaseException:
        for target in reversed(replaced):  # put back what was there before
            with contextlib.suppress(OSError):
                if target in backups:
                    os.replace(backups.pop(target), target)
                else:
                    target.unlink(missing_ok=True)
        for tmp, _target in staged:
            tmp.unlink(missing_ok=True)
        for backup in backups.values():
            backup.unlink(missing_ok=True)
        raise
    for backup in backups.values():
        backup.unlink(missing_ok=True)
    return [target for _tmp, target in staged]


def _backup(target: Path) -> Path:
    """A hard link (or a copy) of ``target`` beside it, to restore it on failure."""
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".bak")
    os.close(fd)
    backup = Path(name)
    backup.unlink()
    try:
        os.link(target, backup)
    except OSError:
        shutil.copy2(target, backup)
    return backup


def _naming(exc: OSError, target: Path) -> OSError:
    """The same kind of error, naming the target file rather than a temporary one."""
    return type(exc)(exc.errno, f"cannot write {target}: {exc.strerror or exc}", str(target))


def csv_text(rows: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """Rows as formula-safe CSV text (see :func:`write_csv`).

    Parameters
    ----------
    rows : iterable of mapping
        One mapping per row.
    columns : sequence of str, optional
        Column order (default: keys of the first row, then new keys as met).

    Returns
    -------
    str
        CSV with a header line and ``\n`` line ends.
    """
    materialised = list(rows)
    header: list[str] = list(columns) if columns is not None else []
    if columns is None:
        for row in materialised:
            header.extend(k for k in row if k not in header)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([formula_safe(h) for h in header])
    for row in materialised:
        writer.writerow([formula_safe(row.get(col)) for col in header])
    return buf.getvalue()


def json_text(obj: BaseModel | str, *, indent: int | None = 2) -> str:
    """A pydantic model (or JSON text) as JSON text ending in a newline.

    Parameters
    ----------
    obj : pydantic.BaseModel or str
        The model (dumped with ``model_dump_json``) or ready JSON text.
    indent : int or None, default 2
        Indentation of the JSON text.

    Returns
    -------
    str
        The JSON text.
    """
    text = obj if isinstance(obj, str) else obj.model_dump_json(indent=indent)
    return text + ("" if text.endswith("\n") else "\n")


def write_csv(
    rows: Iterable[Mapping[str, Any]], path: str | Path, columns: Sequence[str] | None = None
) -> Path:
    """Write rows to a UTF-8 CSV file, formula-safe, atomically.

    Parameters
    ----------
    rows, columns
        As in :func:`csv_text`.
    path : str or Path
        Target file; parent folders are created. The file appears whole or not at all.

    Returns
    -------
    Path
        The written path.

    Raises
    ------
    OSError
        If the file cannot be written (the message names it).
    """
    return write_texts({path: csv_text(rows, columns)})[0]


def write_json(obj: BaseModel | str, path: str | Path, *, indent: int | None = 2) -> Path:
    """Write a pydantic model (or JSON text) to ``path`` as UTF-8, atomically.

    ``obj`` and ``indent`` are as in :func:`json_text`; ``path``, the result and the errors as
    in :func:`write_csv`.
    """
    return write_texts({path: json_text(obj, indent=indent)})[0]


@contextlib.contextmanager
def naming(target: str | Path) -> Iterator[None]:
    """Make an :class:`OSError` raised inside the block name ``target`` when it names no file.

    Writers that go below :func:`write_texts` (a store's batch files, Parquet, figures) wrap
    their writing in it, so that ``No space left on device`` always says where.

    Parameters
    ----------
    target : str or Path
        The file (or folder) being written.

    Raises
    ------
    OSError
        The same kind of error, with ``filename`` = ``target`` and a message naming it, when
        the original named no file; otherwise the original error.
    """
    try:
        yield
    except OSError as exc:
        if exc.filename is not None:
            raise
        raise _naming(exc, Path(target)) from exc


# ---- output folders: one writer at a time, and a record of what each run wrote ----------

#: Lock file inside an output folder, held (``flock``) while a command writes the folder.
LOCK_NAME = ".commgov.lock"

#: What the last run wrote into an output folder (JSON: format, command, files).
MANIFEST_NAME = ".commgov-manifest.json"

_MANIFEST_FORMAT = "commgov-output-manifest"

#: Temporary and backup files of :func:`write_texts` (``.<name>.<8 random>.tmp|bak``) and of
#: the Parquet writer (``.<name>.<pid>.tmp``).
_WRITER_TEMP = re.compile(r"^\..+\.(?:[A-Za-z0-9_]{8}\.(?:tmp|bak)|\d+\.tmp)$")


class OutputFolderBusyError(BlockingIOError):
    """Another process (or another :class:`OutputFolder` in this one) is writing the folder."""


class OutputFolderNotOursError(FileExistsError):
    """The folder holds files that no earlier run of the same command recorded there."""


def _lock_file(fd: int) -> None:
    """Take an exclusive lock on ``fd`` without waiting; BlockingIOError when it is held."""
    if sys.platform == "win32":  # pragma: no cover - no Windows runner
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError as exc:
            raise BlockingIOError(errno.EAGAIN, str(exc)) from exc
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _manifest_files(data: Any) -> list[str] | None:
    """The safe relative file names a manifest lists, or None when it is not a manifest.

    Names that could point outside the folder (absolute, ``..``, empty parts) or at the
    folder's own bookkeeping files are dropped, so a hand-edited manifest can never make a
    run remove anything but plain files below its folder.
    """
    if not isinstance(data, dict) or data.get("format") != _MANIFEST_FORMAT:
        return None
    files = data.get("files")
    if not isinstance(files, list):
        return None
    safe = []
    for name in files:
        if not isinstance(name, str) or not name or "\\" in name or "\x00" in name:
            continue
        parts = name.split("/")
        if any(part in ("", ".", "..") for part in parts) or name in (LOCK_NAME, MANIFEST_NAME):
            continue
        safe.append(name)
    return safe


class OutputFolder:
    """A folder that one command writes: locked while it runs, with a record of its files.

    Opening it creates the folder, takes an exclusive lock on :data:`LOCK_NAME` inside it
    (``fcntl.flock``, released when the object is closed or the process ends, however it
    ends) and reads :data:`MANIFEST_NAME`, the list of files the previous run wrote there.
    The folder is accepted when it is empty (apart from these two files and temporary files
    of :func:`write_texts` left by a killed run, which are removed), when its manifest was
    written by the same ``command``, or with ``force``. Files are written through
    :meth:`write` (all or none, with the manifest in the same step) or recorded with
    :meth:`record` when written by other means. Closed after a successful run
    (:meth:`close` with ``ok=True``), the files the previous run recorded that this run did
    not write are removed — so re-planning into an old folder leaves no stale
    ``point_*.csv`` — and the manifest lists exactly this run's files. Files the manifest does
    not list are never removed.

    Parameters
    ----------
    path : str or Path
        The folder (created with its parents).
    command : str
        Who writes it, e.g. ``"plan-sampling"``; recorded in the manifest.
    force : bool, default False
        Write even into a folder holding other files or another command's output; files a
        previous commgov run recorded there are replaced or removed, other files are kept.

    Raises
    ------
    OutputFolderBusyError
        If another process holds the folder's lock (a ``BlockingIOError``).
    OutputFolderNotOursError
        If the folder holds files and no manifest of ``command`` (a ``FileExistsError``),
        unless ``force``.
    OSError
        If the folder cannot be created or written (the error names it).

    Notes
    -----
    The lock is advisory: it keeps commgov runs apart, not other programs. Opening costs
    O(entries of the folder).
    """

    def __init__(self, path: str | Path, command: str, *, force: bool = False) -> None:
        self.path = Path(path)
        self.command = command
        self._fd: int | None = None
        self._before: set[str] = set()
        self._written: list[str] = []
        if self.path.exists() and not self.path.is_dir():
            raise NotADirectoryError(
                errno.ENOTDIR, f"{self.path} exists and is not a folder", str(self.path)
            )
        if self.path.is_dir():
            self._inspect(force)  # refuse a folder that is not ours before creating anything
        with naming(self.path):
            self.path.mkdir(parents=True, exist_ok=True)
        lock = self.path / LOCK_NAME
        with naming(lock):
            flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
            fd = os.open(lock, flags | getattr(os, "O_NOFOLLOW", 0), 0o644)  # no symlinked lock
        try:
            try:
                _lock_file(fd)
            except BlockingIOError:
                raise OutputFolderBusyError(
                    errno.EAGAIN,
                    f"another commgov run is writing to {self.path} (it holds {lock}): wait "
                    "for it to finish, or give another output folder",
                    str(self.path),
                ) from None
            # under the lock, the check that counts; then clear what killed writers left
            files, same, leftovers = self._inspect(force)
            self._before = set(files)
            for tmp in leftovers:  # nobody else can be writing them: we hold the lock
                tmp.unlink(missing_ok=True)
            if not same:  # the folder is this command's from now on, even if the run is killed
                write_texts({self.path / MANIFEST_NAME: self._manifest(self._before)})
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def _inspect(self, force: bool) -> tuple[list[str], bool, list[Path]]:
        """The files the manifest lists, whether it is this command's, dead temporaries.

        Raises :class:`OutputFolderNotOursError` when the folder holds other files and no
        manifest of this command, unless ``force``.
        """
        manifest: Any = None
        others: list[str] = []
        leftovers: list[Path] = []
        with naming(self.path):
            entries = list(os.scandir(self.path))
        for entry in entries:
            if entry.name == LOCK_NAME:
                continue
            if entry.name == MANIFEST_NAME:
                with contextlib.suppress(OSError, ValueError):
                    manifest = json.loads(Path(entry.path).read_text(encoding="utf-8"))
            elif _WRITER_TEMP.match(entry.name) and entry.is_file(follow_symlinks=False):
                leftovers.append(Path(entry.path))
            else:
                others.append(entry.name)
        files = _manifest_files(manifest)
        same = files is not None and manifest.get("command") == self.command
        if others and not same and not force:
            what = (
                f"the output of `commgov {manifest.get('command')}`"
                if files is not None
                else "files commgov did not write"
            )
            shown = ", ".join(sorted(others)[:3]) + (", …" if len(others) > 3 else "")
            raise OutputFolderNotOursError(
                errno.EEXIST,
                f"{self.path} is not empty: it holds {what} ({shown}); give another output "
                "folder, or --force to write into it anyway",
                str(self.path),
            )
        return files or [], same, leftovers

    def _manifest(self, names: Iterable[str]) -> str:
        return (
            json.dumps(
                {"format": _MANIFEST_FORMAT, "command": self.command, "files": sorted(set(names))},
                indent=1,
                ensure_ascii=False,
            )
            + "\n"
        )

    def _name(self, path: str | Path) -> str:
        target = Path(path)
        try:
            name = target.relative_to(self.path).as_posix()
        except ValueError:
            if target.is_absolute():
                raise ValueError(f"{target} is not inside the output folder {self.path}") from None
            name = target.as_posix()  # relative to the folder
        if _manifest_files({"format": _MANIFEST_FORMAT, "files": [name]}) != [name]:
            raise ValueError(f"{target}: not a file name inside {self.path}")
        return name

    def write(self, files: Mapping[str | Path, str | bytes]) -> list[Path]:
        """Write files (text, or bytes) into the folder with :func:`write_texts`: all or none.

        The manifest is written in the same step and lists these files besides every file
        this and the previous run recorded, so a run killed at any point leaves nothing that
        the next run does not know about.

        Parameters
        ----------
        files : mapping of path to str or bytes
            Path (inside the folder, or relative to it) → text or bytes.

        Returns
        -------
        list of Path
            The written paths, in the mapping's order.

        Raises
        ------
        ValueError
            If a path is not inside the folder.
        OSError
            As :func:`write_texts`.
        """
        self._check_open()
        names = [self._name(p) for p in files]
        texts: dict[str | Path, str | bytes] = {
            self.path / n: t for n, t in zip(names, files.values(), strict=True)
        }
        texts[self.path / MANIFEST_NAME] = self._manifest([*self._before, *self._written, *names])
        written = write_texts(texts)[:-1]
        self._written.extend(n for n in names if n not in self._written)
        return written

    def record(self, *paths: str | Path) -> list[Path]:
        """Record files written into the folder by other means (Parquet, figures).

        Returns
        -------
        list of Path
            ``paths``, as paths.

        Raises
        ------
        ValueError
            If a path is not inside the folder.
        OSError
            If the manifest cannot be written.
        """
        self._check_open()
        names = [self._name(p) for p in paths]
        self._written.extend(n for n in names if n not in self._written)
        write_texts({self.path / MANIFEST_NAME: self._manifest([*self._before, *self._written])})
        return [Path(p) for p in paths]

    def _check_open(self) -> None:
        if self._fd is None:
            raise ValueError(f"the output folder {self.path} is closed")

    def close(self, *, ok: bool = True) -> None:
        """Finish: after a run that wrote files and succeeded, remove the previous run's files
        that this run did not write and record exactly this run's files; release the lock.

        Parameters
        ----------
        ok : bool, default True
            Whether the run succeeded. After a failed run nothing is removed (the manifest
            already lists every file of both runs).

        Raises
        ------
        OSError
            If a stale file cannot be removed or the manifest written (the lock is released
            all the same).
        """
        if self._fd is None:
            return
        try:
            if ok and self._written:
                root = self.path.resolve()
                for name in sorted(self._before.difference(self._written)):
                    stale = self.path / name
                    inside = stale.parent.resolve().is_relative_to(root)  # no symlinked way out
                    if inside and (stale.is_symlink() or stale.is_file()):
                        with naming(stale):
                            stale.unlink(missing_ok=True)
                        parent = stale.parent
                        while parent != self.path:  # folders the stale files leave empty
                            try:
                                parent.rmdir()
                            except OSError:
                                break
                            parent = parent.parent
                write_texts({self.path / MANIFEST_NAME: self._manifest(self._written)})
                self._before = set(self._written)
        finally:
            fd, self._fd = self._fd, None
            os.close(fd)  # releases the lock

    def __enter__(self) -> OutputFolder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(ok=exc_type is None)
