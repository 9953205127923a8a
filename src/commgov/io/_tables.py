"""Reading tables (CSV files, JSON files, row mappings) into rows, with issues, no raising."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from commgov._input import check_rows, csv_rows, parse_json, read_text
from commgov.errors import InputError, InputIssue
from commgov.org._text import table_items

TableSource = str | PathLike[str] | Iterable[Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class TableIssue(InputIssue):
    """An :class:`~commgov.errors.InputIssue` of an imported table, with table and row.

    Attributes
    ----------
    table : str
        The table (``"buildings"``).
    row : int or None
        Row of a CSV file as a spreadsheet shows it (the header is row 1), or the 0-based
        index of a row given as a mapping or in a JSON array; ``None`` for the table as a
        whole (its file or header).
    """

    table: str = ""
    row: int | None = None


@dataclass(slots=True)
class RawRow:
    """One row as read: where it is, and its cells by source column name."""

    table: str
    where: str
    row: int
    cells: dict[str, Any] = field(default_factory=dict)


def issue(
    table: str, where: str, row: int | None, column: str, value: object, constraint: str
) -> TableIssue:
    return TableIssue(where, column, value, constraint, table=table, row=row)


def read_table(table: str, source: object) -> tuple[list[RawRow], list[TableIssue]]:
    """Rows of one table and the issues that kept rows (or the table) from being read.

    Raises TypeError for a source that is no table at all (bytes, a single mapping, …).
    """
    if isinstance(source, str | PathLike):
        path = Path(source)
        if path.suffix.lower() == ".json":
            return _read_json(table, path)
        return _read_csv(table, path)
    rows = table_items(source, f"table {table!r}: give a path to a CSV or JSON file, or a list "
                       "of row mappings")
    return _from_items(table, table, rows)


def _from_items(table: str, label: str, items: list[Any]) -> tuple[list[RawRow], list[TableIssue]]:
    rows: list[RawRow] = []
    issues: list[TableIssue] = []
    for i, item in enumerate(items):
        where = f"{label}[{i}]"
        if not isinstance(item, Mapping):
            issues.append(
                issue(
                    table,
                    where,
                    i,
                    "",
                    f"<{type(item).__name__}>",
                    "must be a row mapping column names to values",
                )
            )
            continue
        cells: dict[str, Any] = {}
        for key, value in item.items():
            if not isinstance(key, str):
                issues.append(issue(table, where, i, repr(key), None, "column names must be text"))
                continue
            cells[key.strip()] = value
        rows.append(RawRow(table, where, i, cells))
    return rows, issues


def _read_bytes(table: str, path: Path) -> str | TableIssue:
    label = path.name or str(path)
    try:
        return read_text(path, label=label)
    except FileNotFoundError:
        return issue(table, label, None, "path", str(path), "no such file")
    except IsADirectoryError:
        return issue(table, label, None, "path", str(path), "is a directory, not a file")
    except OSError as exc:
        return issue(table, label, None, "path", str(path), f"cannot be read: {exc.strerror}")
    except InputError as exc:
        found = exc.issues[0]
        # the offending bytes may be part of a name: say where they are, not what they are
        return issue(table, found.record, None, found.field, "<bytes>", found.constraint)


def _read_json(table: str, path: Path) -> tuple[list[RawRow], list[TableIssue]]:
    label = path.name or str(path)
    text = _read_bytes(table, path)
    if isinstance(text, TableIssue):
        return [], [text]
    try:
        data = parse_json(text, label=label, what=f"table {table}")
    except InputError as exc:
        return [], [
            issue(table, found.record, None, found.field, found.value, found.constraint)
            for found in exc.issues
        ]
    if not isinstance(data, list):
        return [], [
            issue(
                table,
                label,
                None,
                "",
                f"<{type(data).__name__}>",
                "must hold a JSON array of row objects",
            )
        ]
    check_rows(len(data), label)
    return _from_items(table, label, data)


def _read_csv(table: str, path: Path) -> tuple[list[RawRow], list[TableIssue]]:
    label = path.name or str(path)
    text = _read_bytes(table, path)
    if isinstance(text, TableIssue):
        return [], [text]
    numbered = csv_rows(text, label=label)
    rows: list[RawRow] = []
    issues: list[TableIssue] = []
    try:
        first = next(((n, cells) for n, cells in numbered if any(c.strip() for c in cells)), None)
        if first is None:
            return [], [
                issue(table, label, None, "", "", "is empty: expected a header row and rows")
            ]
        header = [c.strip().lstrip("\ufeff").strip() for c in first[1]]
        seen: dict[str, int] = {}
        for j, column in enumerate(header, start=1):
            if not column:
                issues.append(
                    issue(
                        table,
                        f"{label}:header",
                        None,
                        f"column {j}",
                        "",
                        "has no name: name it or remove it",
                    )
                )
            elif column in seen:
                issues.append(
                    issue(
                        table,
                        f"{label}:header",
                        None,
                        column,
                        column,
                        f"appears twice (columns {seen[column]} and {j}): each column once",
                    )
                )
            else:
                seen[column] = j
        if issues:
            return [], issues
        for n, cells in numbered:
            where = f"{label}:row {n}"
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                issues.append(
                    issue(
                        table,
                        where,
                        n,
                        "",
                        f"<{len(cells)} cells>",
                        f"has {len(cells)} cells, the header has {len(header)} columns",
                    )
                )
                continue
            rows.append(RawRow(table, where, n, dict(zip(header, cells, strict=True))))
    except InputError as exc:
        issues.extend(
            issue(table, found.record, None, found.field, "", found.constraint)
            for found in exc.issues
        )
    return rows, issues
