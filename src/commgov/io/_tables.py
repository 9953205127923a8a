"""Reading tables (CSV files, JSON files, row mappings) into rows, with issues, no raising."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from commgov.errors import InputIssue
from commgov.org._text import decode_utf8, table_items

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
        if path.is_dir():
            return issue(table, label, None, "path", str(path), "is a directory, not a file")
        data = path.read_bytes()
    except FileNotFoundError:
        return issue(table, label, None, "path", str(path), "no such file")
    except OSError as exc:
        return issue(table, label, None, "path", str(path), f"cannot be read: {exc.strerror}")
    decoded = decode_utf8(data, label)
    if isinstance(decoded, InputIssue):
        # the offending bytes may be part of a name: say where they are, not what they are
        return issue(table, decoded.record, None, decoded.field, "<bytes>", decoded.constraint)
    return decoded


def _read_json(table: str, path: Path) -> tuple[list[RawRow], list[TableIssue]]:
    label = path.name or str(path)
    text = _read_bytes(table, path)
    if isinstance(text, TableIssue):
        return [], [text]
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        return [], [
            issue(
                table,
                f"{label}:line {exc.lineno}",
                None,
                "",
                "<text>",  # the text around the error may hold personal data
                f"is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
            )
        ]
    except (ValueError, RecursionError) as exc:
        return [], [issue(table, label, None, "", "", f"is not valid JSON: {str(exc)[:80]}")]
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
    return _from_items(table, label, data)


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON value")


def _read_csv(table: str, path: Path) -> tuple[list[RawRow], list[TableIssue]]:
    label = path.name or str(path)
    text = _read_bytes(table, path)
    if isinstance(text, TableIssue):
        return [], [text]
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    numbered = enumerate(reader, start=1)
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
    except csv.Error as exc:
        issues.append(
            issue(
                table, f"{label}:line {reader.line_num}", None, "", "", f"is not valid CSV: {exc}"
            )
        )
    return rows, issues
