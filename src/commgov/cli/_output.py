"""What every command shares: exit statuses, error lines, the ``--out`` checks, plurals.

The CLI is the only part of commgov that prints; errors are one line on stderr (a few more,
indented, when a file has several problems) with a non-zero exit status.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

#: Exit status of bad arguments or bad input (nothing is written).
EXIT_USAGE = 2

#: Exit status of an error in the data or the solve.
EXIT_ERROR = 1


def _usage_error(message: str) -> int:
    """Print a (possibly multi-line) error on stderr; exit status 2 (bad input)."""
    lines = message.splitlines() or [""]
    print(f"commgov: error: {lines[0]}", file=sys.stderr)
    for line in lines[1:]:
        print(f"  {line.strip()}", file=sys.stderr)
    return EXIT_USAGE


def _check_writable(folder: Path) -> None:
    """Create ``folder`` and try a file in it, so a bad --out fails before the solve."""
    import tempfile

    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise OSError(exc.errno, f"cannot write to --out folder {str(folder)!r}: "
                      f"{exc.strerror or exc}") from exc


def _read_input(path: Path, out: Path) -> bytes | int:
    """The input file's bytes, or the exit status of a usage error.

    Shared by the commands that read one file and write a folder: ``--out`` must not be an
    existing non-folder, and the file must be readable.
    """
    if out.exists() and not out.is_dir():
        return _usage_error(f"--out {str(out)!r} exists and is not a folder")
    try:
        return path.read_bytes()
    except OSError as exc:
        return _usage_error(f"cannot read {path}: {exc.strerror or exc}")


def _n(count: int, noun: str) -> str:
    """``1 building``, ``2 buildings``, ``1,765 households``, ``2 batches``, ``3 people``."""
    if count == 1:
        return f"1 {noun}"
    plural = {"person": "people", "batch": "batches"}.get(noun, noun + "s")
    return f"{count:,} {plural}"



def _first_code(item: Any) -> str:
    """The code of an item's first reason (``"UNKNOWN"`` when it has none)."""
    return str(item.reasons[0].code) if item.reasons else "UNKNOWN"
