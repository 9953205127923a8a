"""CSV import and formula-safe export of the three lists (lists are published as tables).

Built on the package's table reader (:mod:`commgov.io._tables`), CSV writer and all-or-none
:func:`~commgov.io.write_texts`; :mod:`commgov.lists` knows nothing of files.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, tzinfo
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from commgov._files import csv_text, write_texts
from commgov._options import check_timezone
from commgov._redact import redact
from commgov.io._import_tables import TableImportError
from commgov.io._privacy import MASK
from commgov.io._tables import RawRow, TableIssue, read_table
from commgov.lists._container import ThreeLists
from commgov.lists._records import ListItem, Need, Project, Resource
from commgov.org._base import is_sensitive

#: The tables of the three lists, in the order they are read, and their record types.
LIST_TABLES: Mapping[str, type[ListItem]] = {
    "needs": Need,
    "resources": Resource,
    "projects": Project,
}

_COMMON = (
    "id",
    "title",
    "description",
    "category",
    "unit_id",
    "place_id",
    "quantity",
    "measure",
    "window_start",
    "window_end",
    "priority",
    "raised_at",
    "recorded_by",
    "status",
    "fulfilled",
)
#: Columns of each table, in export order. Required on import: id, title, category, unit_id,
#: raised_at, recorded_by and each table's own required fields (need: source; resource:
#: provider_id, provider_kind, resource_type; project: lead_org_id, formation).
LIST_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "needs": (
        *_COMMON,
        "source",
        "requester_id",
        "beneficiary_count",
        "vulnerability",
        "recurrence_freq",
        "recurrence_interval",
        "recurrence_count",
        "recurrence_until",
        "recurrence_time_zone",
        "satisfaction",
    ),
    "resources": (
        *_COMMON,
        "provider_id",
        "provider_kind",
        "resource_type",
        "service_area",
        "conditions",
        "contact",
    ),
    "projects": (
        *_COMMON,
        "need_ids",
        "resource_ids",
        "lead_org_id",
        "partner_ids",
        "owner_person_id",
        "formation",
    ),
}
_LISTS = {"vulnerability", "service_area", "need_ids", "resource_ids", "partner_ids"}
_TIMES = {"window_start", "window_end", "raised_at", "recurrence_until"}
_INTS = {
    "quantity",
    "priority",
    "fulfilled",
    "beneficiary_count",
    "recurrence_interval",
    "recurrence_count",
    "satisfaction",
}
_RENAMED = {"status": "initial_status", "fulfilled": "initial_fulfilled"}
#: Text that export escapes with one more leading apostrophe (formula_safe escapes those
#: without apostrophes; this module those with), so import can take exactly one off.
_ESCAPED = re.compile(r"^'+[=+\-@\t\r]")
_SEPARATOR = ";"


def _sensitive(model: type[BaseModel], column: str) -> bool:
    return is_sensitive(model, _RENAMED.get(column, column))


def _required(model: type[ListItem]) -> list[str]:
    inv = {v: k for k, v in _RENAMED.items()}
    return [inv.get(n, n) for n, f in model.model_fields.items() if f.is_required()]


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):  # a list cell of a JSON row or row mapping
        value = _SEPARATOR.join(str(v) for v in value)
    text = "" if value is None else str(value).strip()
    # undo the export's escape: one apostrophe added before ('*)(= + - @ tab CR)
    return text[1:] if _ESCAPED.match(text) else text


def _parse_time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("must be an ISO 8601 date-time (2022-04-10T08:00:00+08:00)") from None
    if value.tzinfo is None:
        raise ValueError(
            "must carry a UTC offset (2022-04-10T08:00:00+08:00): naive times are ambiguous"
        )
    return value


def _parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError("must be a whole number") from None


def _parse_cell(column: str, text: str) -> Any:
    if column in _LISTS:
        return [part.strip() for part in text.split(_SEPARATOR) if part.strip()]
    if column in _TIMES:
        return _parse_time(text)
    if column in _INTS:
        return _parse_int(text)
    return text


def _fields(cells: dict[str, Any]) -> dict[str, Any]:
    """Model fields from parsed cells (window and recurrence columns folded into objects)."""
    data: dict[str, Any] = {}
    window = {
        k[len("window_") :]: cells.pop(k) for k in ("window_start", "window_end") if k in cells
    }
    if window:
        data["window"] = window
    rec = {
        k[len("recurrence_") :]: cells.pop(k) for k in list(cells) if k.startswith("recurrence_")
    }
    if rec:
        data["recurrence"] = rec
    for column, value in cells.items():
        data[_RENAMED.get(column, column)] = value
    return data


def _column_of(loc: tuple[Any, ...], cells: Mapping[str, Any]) -> str:
    if not loc:
        return ""
    head = str(loc[0])
    if head in ("window", "recurrence"):
        sub = f"{head}_{loc[1]}" if len(loc) > 1 else ""
        if sub in cells:
            return sub
        present = [c for c in cells if c.startswith(head + "_")]
        return present[0] if len(present) == 1 else f"{head}_*"
    inv = {v: k for k, v in _RENAMED.items()}
    return inv.get(head, head)


def _shown(model: type[BaseModel], column: str, value: Any) -> Any:
    if column.startswith("recurrence_") or column.startswith("window_"):
        return value
    return MASK if _sensitive(model, column) and value not in (None, "") else value


def _read_rows(
    table: str, rows: list[RawRow], model: type[ListItem], failed: set[str]
) -> tuple[list[tuple[RawRow, ListItem]], list[TableIssue]]:
    """Items of the rows that are valid, the issues of the others; ids of bad rows in failed."""
    known = set(LIST_COLUMNS[table])
    issues: list[TableIssue] = []
    header = {c for row in rows for c in row.cells}
    for column in sorted(header - known):
        issues.append(
            TableIssue(
                table,
                column,
                column,
                f"is not a column of {table}: expected {', '.join(LIST_COLUMNS[table])}",
                table=table,
                row=None,
            )
        )
    if rows:
        for column in _required(model):
            if column not in header:
                issues.append(
                    TableIssue(
                        table,
                        column,
                        None,
                        "is a required column and is missing",
                        table=table,
                        row=None,
                    )
                )
    if issues:
        return [], issues
    items: list[tuple[RawRow, ListItem]] = []
    for row in rows:
        cells: dict[str, Any] = {}
        raw: dict[str, Any] = {}
        bad = False
        for column, value in row.cells.items():
            text = _text(value)
            raw[column] = text
            if text == "":
                continue
            if text == MASK and _sensitive(model, column):
                issues.append(
                    _issue(
                        row,
                        column,
                        MASK,
                        "is masked: export with personal_data=True to re-import it",
                    )
                )
                bad = True
                continue
            try:
                cells[column] = _parse_cell(column, text)
            except ValueError as exc:
                issues.append(_issue(row, column, _shown(model, column, text), str(exc)))
                bad = True
        if bad:
            failed.add(raw.get("id", ""))
            continue
        try:
            items.append((row, model.model_validate(_fields(dict(cells)))))
        except ValidationError as exc:
            failed.add(raw.get("id", ""))
            for err in exc.errors(include_url=False):
                column = _column_of(tuple(err["loc"]), cells)
                value = raw.get(column, "") if column else ""
                msg = str(err["msg"]).removeprefix("Value error, ")
                issues.append(_issue(row, column, _shown(model, column, value), msg))
    return items, issues


def _issue(row: RawRow, column: str, value: Any, constraint: str) -> TableIssue:
    return TableIssue(row.where, column, value, constraint, table=row.table, row=row.row)


def import_lists(
    needs: object = None, resources: object = None, projects: object = None
) -> ThreeLists:
    """Read the three lists from tables: all of them, or nothing.

    Each table is a CSV file, a JSON file holding an array of row objects, or a list of row
    mappings, with the columns of :data:`LIST_COLUMNS` (as :func:`export_lists` writes
    them). Empty cells take the field's default; list cells (``vulnerability``,
    ``service_area``, ``need_ids``, ``resource_ids``, ``partner_ids``) are separated by
    ``;``; times are ISO 8601 with a UTC offset; ``status`` and ``fulfilled`` become the
    item's ``initial_status`` and ``initial_fulfilled`` (a table keeps no history). A leading
    apostrophe that formula-safe export put before ``= + - @`` is removed.

    Parameters
    ----------
    needs, resources, projects : path, or list of mapping, optional
        The tables; a missing one is an empty list.

    Returns
    -------
    ThreeLists
        The lists, sorted by id.

    Raises
    ------
    commgov.io.TableImportError
        With every problem found, each naming the table, the row (``needs.csv:row 7``; the
        header is row 1), the column, the value (:data:`~commgov.io.MASK` for personal data)
        and the constraint: unknown or missing columns, unparsable cells, field rules, an id
        used twice, a project naming a need or resource not on the lists. Nothing is imported.
    TypeError
        If a table is no table at all (bytes, a single mapping).
    """
    issues: list[TableIssue] = []
    read: dict[str, list[tuple[RawRow, ListItem]]] = {}
    failed: set[str] = set()  # ids of rows already reported: no second issue for links to them
    unreadable: set[str] = set()  # tables refused as a whole: links into them are not checked
    for table, source in (("needs", needs), ("resources", resources), ("projects", projects)):
        if source is None:
            read[table] = []
            continue
        rows, problems = read_table(table, source)
        items, more = _read_rows(table, rows, LIST_TABLES[table], failed)
        issues.extend(problems)
        issues.extend(more)
        read[table] = items
        if any(i.row is None for i in (*problems, *more)):
            unreadable.add(table)
    seen: dict[str, str] = {}
    for items in read.values():
        for row, item in items:
            if item.id in seen:
                issues.append(
                    _issue(row, "id", item.id, f"is used twice (first at {seen[item.id]})")
                )
            else:
                seen[item.id] = row.where
    on_list = {t: {item.id for _row, item in items} for t, items in read.items()}
    for row, item in read["projects"]:
        assert isinstance(item, Project)
        for column, wanted, ids in (
            ("need_ids", "needs", item.need_ids),
            ("resource_ids", "resources", item.resource_ids),
        ):
            if wanted in unreadable:
                continue
            for ref in ids:
                if ref not in on_list[wanted] and ref not in failed:
                    issues.append(_issue(row, column, ref, f"is not on the {wanted} list"))
    if issues:
        raise TableImportError(issues, what="three lists import")
    return ThreeLists.model_validate(
        {table: tuple(item for _row, item in items) for table, items in read.items()}
    )


def _row(item: ListItem, table: str, personal_data: bool, zone: tzinfo) -> dict[str, Any]:
    data = item.model_dump(exclude={"history", "provenance"})
    data["status"] = item.status.value
    data["fulfilled"] = item.fulfilled
    data.pop("initial_status")
    data.pop("initial_fulfilled")
    window = data.pop("window")
    data["window_start"] = window["start"] if window else None
    data["window_end"] = window["end"] if window else None
    if "recurrence" in data:
        rec = data.pop("recurrence") or {}
        for key in ("freq", "interval", "count", "until", "time_zone"):
            data[f"recurrence_{key}"] = rec.get(key)
    for column in _LISTS & set(data):
        for v in data[column]:
            if _SEPARATOR in str(v):
                raise ValueError(
                    f"{item.id}.{column}: id {v!r} contains {_SEPARATOR!r}, the separator of "
                    "list cells: it cannot be written to CSV"
                )
        data[column] = _SEPARATOR.join(str(v) for v in data[column])
    for column in LIST_COLUMNS[table]:
        if (
            not personal_data
            and _sensitive(type(item), column)
            and data.get(column) not in (None, "")
        ):
            data[column] = MASK
        value = data.get(column)
        if isinstance(value, datetime):  # an instant, written in local time with its offset
            data[column] = value.astimezone(zone)
        elif isinstance(value, Enum):
            data[column] = value.value
        elif isinstance(value, str) and value.startswith("'") and _ESCAPED.match(value):
            data[column] = "'" + value
        if not personal_data and isinstance(data.get(column), str):
            data[column] = redact(data[column])  # a phone number typed into a title
    return data


def lists_csv_texts(
    lists: ThreeLists, *, personal_data: bool = False, timezone: str = "Asia/Shanghai"
) -> dict[str, str]:
    """The three lists as formula-safe CSV texts, one per table (see :func:`export_lists`).

    Raises
    ------
    ValueError
        If an id in a list cell contains ``;`` (the list separator).
    commgov.errors.InvalidParameterError
        If ``timezone`` is not an IANA zone name.
    """
    zone = check_timezone("export_lists", "timezone", timezone)
    return {
        f"{table}.csv": csv_text(
            (_row(item, table, personal_data, zone) for item in getattr(lists, table)),
            LIST_COLUMNS[table],
        )
        for table in LIST_TABLES
    }


def export_lists(
    lists: ThreeLists,
    folder: str | Path,
    *,
    personal_data: bool = False,
    timezone: str = "Asia/Shanghai",
) -> list[Path]:
    """Write ``needs.csv``, ``resources.csv`` and ``projects.csv`` into ``folder``: all or none.

    Rows are sorted by id, columns as :data:`LIST_COLUMNS`; cells are formula-safe (text
    starting with ``= + - @`` gets a leading apostrophe, which :func:`import_lists` removes);
    the current ``status`` and ``fulfilled`` are written, not the history.

    Parameters
    ----------
    lists : ThreeLists
        What to write.
    folder : str or Path
        Target folder (created if missing).
    personal_data : bool, default False
        Write sensitive fields (description, vulnerability, contact) as they are; by default
        they are :data:`~commgov.io.MASK`, and such a file cannot be re-imported as is.
    timezone : str, default ``"Asia/Shanghai"``
        IANA zone in which times are written, ISO 8601 with their UTC offset
        (``2022-04-10T09:00:00+08:00``): the same instants as stored (windows are kept in
        UTC), read back unchanged by :func:`import_lists`.

    Returns
    -------
    list of Path
        The three files written.

    Raises
    ------
    OSError
        If a file cannot be written; then none is changed.
    ValueError
        If an id in a list cell contains ``;`` (the list separator); nothing is written.
    commgov.errors.InvalidParameterError
        If ``timezone`` is not an IANA zone name.
    """
    texts = lists_csv_texts(lists, personal_data=personal_data, timezone=timezone)
    return write_texts({Path(folder) / name: text for name, text in texts.items()})
