from __future__ import annotations

import csv
import io
import os
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


def _atomic_write(path: Path, data: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_csv(
    rows: Iterable[Mapping[str, Any]], path: str | Path, columns: Sequence[str] | None = None
) -> Path:
    """Write rows to a UTF-8 CSV file, formula-safe, atomically.

    Parameters
    ----------
    rows : iterable of mapping
        One mapping per row.
    path : str or Path
        Target file; parent folders are created. The file appears whole or not at all.
    columns : sequence of str, optional
        Column order (default: keys of the first row, then new keys as met).

    Returns
    -------
    Path
        The written path.
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
    target = Path(path)
    _atomic_write(target, buf.getvalue())
    return target


def write_json(obj: BaseModel | str, path: str | Path, *, indent: int | None = 2) -> Path:
    """Write a pydantic model (or JSON text) to ``path`` as UTF-8, atomically.

    Parameters
    ----------
    obj : pydantic.BaseModel or str
        The model (dumped with ``model_dump_json``) or ready JSON text.
    path : str or Path
        Target file; parent folders are created.
    indent : int or None, default 2
        Indentation of the JSON text.

    Returns
    -------
    Path
        The written path.
    """
    text = obj if isinstance(obj, str) else obj.model_dump_json(indent=indent)
    target = Path(path)
    _atomic_write(target, text + ("" if text.endswith("\n") else "\n"))
    return target
