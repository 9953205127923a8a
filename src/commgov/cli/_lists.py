"""``commgov lists import`` / ``commgov lists export``: the three lists as tables.

Import reads needs, resources and projects tables (CSV or JSON rows), all or nothing, into one
canonical lists JSON; export writes a lists JSON as formula-safe CSV files, sensitive fields
masked unless asked otherwise.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from commgov.cli._output import _claim_out, _n, _read_input, _usage_error

__all__ = ["run_lists_export", "run_lists_import"]


_TABLES = ("needs", "resources", "projects")


def _table_files(sources: Sequence[Path]) -> dict[str, Path] | str:
    """Table name → file, from one folder or files named after their table; or an error."""
    if len(sources) == 1 and sources[0].is_dir():
        folder = sources[0]
        found: dict[str, Path] = {}
        for table in _TABLES:
            hits = [folder / f"{table}.{ext}" for ext in ("csv", "json")]
            present = [h for h in hits if h.is_file()]
            if len(present) > 1:
                return f"{folder} holds both {table}.csv and {table}.json: keep one"
            if present:
                found[table] = present[0]
        if not found:
            return f"{folder} holds none of needs.csv, resources.csv, projects.csv (or .json)"
        return found
    files: dict[str, Path] = {}
    for path in sources:
        if path.is_dir():
            return f"{path} is a folder: give one folder, or table files"
        if not path.is_file():
            return f"{path}: no such file"
        table = path.name.split(".")[0]
        if table not in _TABLES or path.suffix.lower() not in (".csv", ".json"):
            return (
                f"{path.name}: name table files needs, resources or projects with .csv or "
                ".json (e.g. needs.csv)"
            )
        if table in files:
            return f"two files for {table}: {files[table]} and {path}"
        files[table] = path
    return files


def run_lists_import(args: argparse.Namespace) -> int:
    """Run ``commgov lists import``; returns the exit status."""
    from commgov.io import TableImportError, import_lists, json_text, write_texts

    out: Path = args.out
    if out.is_dir():
        return _usage_error(f"--out {str(out)!r} is a folder: give a file name (lists.json)")
    files = _table_files(args.sources)
    if isinstance(files, str):
        return _usage_error(files)
    try:
        lists = import_lists(**files)
    except TableImportError as exc:
        lines = [f"{exc.what}: {len(exc.issues)} problem(s); nothing written"]
        lines += [f"- {issue}" for issue in exc.issues]
        return _usage_error("\n".join(lines))
    write_texts({out: json_text(lists.to_json())})
    print(
        f"Read {_n(len(lists.needs), 'need')}, {_n(len(lists.resources), 'resource')}, "
        f"{_n(len(lists.projects), 'project')}; wrote {out}"
    )
    return 0


def run_lists_export(args: argparse.Namespace) -> int:
    """Run ``commgov lists export``; returns the exit status."""

    from commgov.io import lists_csv_texts
    from commgov.lists import ThreeLists

    out: Path = args.out
    text = _read_input(args.lists_json, out)
    if isinstance(text, int):
        return text
    try:
        lists = ThreeLists.from_json(text)
    except ValueError as exc:  # InputError (masked), SizeLimitError
        return _usage_error(f"{args.lists_json} is not a lists JSON: {exc}")
    try:
        texts = lists_csv_texts(
            lists, personal_data=args.personal_data, timezone=args.timezone
        )
    except ValueError as exc:
        return _usage_error(f"{exc}; nothing written")
    written = _claim_out(args).write({out / name: text for name, text in texts.items()})
    print(f"Wrote {', '.join(p.name for p in written)} to {out}/")
    return 0
