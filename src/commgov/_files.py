from __future__ import annotations

import contextlib
import csv
import io
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value: Any) -> str:
    """Text of ``value`` that spreadsheets will not run as a formula (OWASP CSV injection).

    A text cell that starts with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a
    leading apostrophe; numbers are written as they are.

    Examples
    --------
    >>> formula_safe("=HYPERLINK(1)")
    "'=HYPERLINK(1)"
    >>> formula_safe(-3)
    '-3'
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_texts(files: Mapping[str | Path, str]) -> list[Path]:
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
    files : mapping of path to str
        Target path → text. Parent folders are created.

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
    writer.writerow(header)
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
