"""Importing a community from an app's tables: the whole import, or nothing."""

from __future__ import annotations

import logging
import math
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict
from pydantic.fields import FieldInfo

from commgov.errors import InputError, OrgStructureError
from commgov.io._gcj02 import gcj02_to_wgs84
from commgov.io._privacy import MASK, is_sensitive
from commgov.io._tables import RawRow, TableIssue, issue, read_table
from commgov.org import (
    Building,
    Entrance,
    Household,
    Membership,
    NeighbourhoodKind,
    NeighbourhoodUnit,
    OrgGraph,
    OrgModel,
    Person,
    Provenance,
    Site,
    Source,
    Team,
)
from commgov.org._base import Record
from commgov.org._text import article

__all__ = ["IMPORT_TABLES", "CommunityImport", "TableImportError", "import_community"]

_log = logging.getLogger("commgov.io")


class TableImportError(InputError):
    """Tables that cannot be imported; nothing of them was.

    Every issue is a :class:`TableIssue` naming the table, the row (``buildings.csv:row 7``
    for a CSV file, whose header is row 1; ``buildings[6]`` for the 0-based index of a row
    mapping or a JSON array item), the column as the caller's table names it, the value as
    given (:data:`MASK` for personal data) and the constraint it breaks.
    """


#: The tables :func:`import_community` reads, in the order they are resolved.
IMPORT_TABLES = (
    "compounds",
    "buildings",
    "entrances",
    "households",
    "people",
    "sites",
    "teams",
    "memberships",
)

_LIST_SEPARATORS = re.compile(r"[;|；]")
_SEGMENT = re.compile(r"^[\w.-]{1,40}$")
_MOBILE = re.compile(r"^(\+?86[- ]?)?1[3-9]\d{9}$")
_RESIDENT_ID = re.compile(r"^\d{17}[\dXx]$")
_TRUE = {"true", "1", "yes", "y", "t", "on", "是", "有"}
_FALSE = {"false", "0", "no", "n", "f", "off", "否", "无"}
_KIND_ALIASES = {
    "小区": "compound",
    "街巷": "lane",
    "院落": "courtyard",
}
_COUNT_FIELDS = ("households", "residents", "mobility_limited")
#: Record fields that are never read from a column of the same name.
_NOT_PASSED = {"id", "provenance", "parent_id", "home_id", "location", "counts", "schema_version"}


@dataclass(frozen=True)
class _Spec:
    """How one table becomes records."""

    table: str
    record: type[Record]
    prefix: str
    #: reference columns → the table whose external ids they hold
    refs: Mapping[str, str]
    #: columns read by the importer itself (besides the record's own fields)
    special: tuple[str, ...]
    required: tuple[str, ...]
    location: Literal["required", "optional", "none"] = "none"
    counts: Literal["required", "optional", "none"] = "none"
    #: link columns → (the table whose external ids they hold, or None for commgov ids of the
    #: base model; the record field they fill); list fields take lists of ids
    links: Mapping[str, tuple[str | None, str]] = field(default_factory=dict)
    #: groups of link columns of which exactly one must be given
    one_of: tuple[tuple[str, ...], ...] = ()

    def passed(self) -> tuple[str, ...]:
        """Record fields read from a column of the same name."""
        return tuple(
            name
            for name in self.record.model_fields
            if name not in _NOT_PASSED and name not in self.special
        )

    def fields(self) -> tuple[str, ...]:
        hidden = {f for _table, f in self.links.values()} | {"community_id"}
        return tuple(
            f for f in (*self.special, *self.passed()) if f not in hidden or f in self.links
        )


_SPECS: dict[str, _Spec] = {
    spec.table: spec
    for spec in (
        _Spec(
            "compounds",
            NeighbourhoodUnit,
            "C",
            {"parent": "compounds"},
            ("id", "code", "parent", "lon", "lat"),
            ("id", "name"),
            location="optional",
        ),
        _Spec(
            "buildings",
            Building,
            "B",
            {"compound": "compounds"},
            ("id", "code", "compound", "lon", "lat", *_COUNT_FIELDS),
            ("id", "compound", "label", "lon", "lat"),
            location="required",
            counts="optional",
        ),
        _Spec(
            "entrances",
            Entrance,
            "E",
            {"building": "buildings"},
            ("id", "code", "building", *_COUNT_FIELDS),
            ("id", "building", "label", "households"),
            counts="required",
        ),
        _Spec(
            "households",
            Household,
            "H",
            {"entrance": "entrances", "building": "buildings"},
            ("id", "code", "entrance", "building"),
            ("id",),
        ),
        _Spec(
            "people",
            Person,
            "P",
            {
                "home_household": "households",
                "home_entrance": "entrances",
                "home_building": "buildings",
            },
            ("id", "code", "home_household", "home_entrance", "home_building", "lon", "lat"),
            ("id",),
            location="optional",
        ),
        _Spec(
            "sites",
            Site,
            "S",
            {"compound": "compounds"},
            ("id", "code", "compound", "lon", "lat"),
            ("id", "name", "lon", "lat"),
            location="required",
        ),
        _Spec(
            "teams",
            Team,
            "T",
            {},
            ("id", "code", "covers", "covers_compounds", "community_id"),
            ("id", "kind", "name"),
            links={"covers": ("buildings", "covers"), "covers_compounds": ("compounds", "covers")},
        ),
        _Spec(
            "memberships",
            Membership,
            "M",
            {},
            ("id", "code", "person", "team", "organisation", "person_id", "organisation_id"),
            ("id", "person"),
            links={
                "person": ("people", "person_id"),
                "team": ("teams", "organisation_id"),
                "organisation": (None, "organisation_id"),
            },
            one_of=(("team", "organisation"),),
        ),
    )
}


class CommunityImport(BaseModel):
    """The result of :func:`import_community`.

    Attributes
    ----------
    model : OrgModel
        The base model's records and the imported ones, validated by
        :class:`~commgov.org.OrgGraph`.
    ids : dict of str to dict of str to str
        Table → external id → commgov id of every imported row, to link the app's records
        to commgov's (tables in import order, external ids sorted).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: OrgModel
    ids: dict[str, dict[str, str]]


@dataclass
class _Ctx:
    """State of one import: resolved ids, issues, where each commgov id came from."""

    community_id: str
    crs: str
    base_ids: frozenset[str]
    reference: str
    issues: list[TableIssue] = field(default_factory=list)
    #: table → external id → commgov id (rows whose id could be derived)
    ids: dict[str, dict[str, str]] = field(default_factory=dict)
    #: table → external ids of rows that had issues (references to them are not re-reported)
    faulty: dict[str, set[str]] = field(default_factory=dict)
    #: table → external id → the row
    rows_by_ext: dict[str, dict[str, _Row]] = field(default_factory=dict)
    #: commgov id → (row, spec) it came from
    origin: dict[str, tuple[_Row, _Spec]] = field(default_factory=dict)
    records: dict[str, list[Record]] = field(default_factory=dict)
    #: tables some rows of which could not be read: unresolved references into them are not
    #: reported again (the unread row is)
    partial: set[str] = field(default_factory=set)
    #: rows left out because of a problem reported elsewhere (a faulty parent, a missing column)
    skipped: int = 0
    #: external ids of buildings some entrance row names (their counts are on the entrances)
    with_entrances: set[str] = field(default_factory=set)


@dataclass
class _Row:
    """A row with its cells keyed by field (empty cells dropped) and source column names."""

    raw: RawRow
    spec: _Spec
    cells: dict[str, Any]
    source: Mapping[str, str]  # field → the caller's column name
    issues: list[TableIssue] = field(default_factory=list)
    #: required fields whose column the whole table lacks (reported once, for the table)
    missing: set[str] = field(default_factory=set)

    def col(self, name: str) -> str:
        return self.source.get(name, name)

    def bad(self, name: str, value: object, constraint: str) -> None:
        self.issues.append(
            issue(
                self.raw.table,
                self.raw.where,
                self.raw.row,
                self.col(name) if name else "",
                MASK if value is not None and _sensitive(self.spec, name) else value,
                constraint,
            )
        )


def _sensitive(spec: _Spec, name: str) -> bool:
    info = spec.record.model_fields.get(name)
    return info is not None and is_sensitive(info)


def import_community(
    tables: Mapping[str, Any],
    *,
    base: OrgModel,
    community_id: str,
    columns: Mapping[str, Mapping[str, str]] | None = None,
    crs: Literal["wgs84", "gcj02"] = "wgs84",
    unknown_columns: Literal["error", "ignore"] = "error",
    reference: str = "community import",
) -> CommunityImport:
    """Build an organisation model of one community from tables an app already has.

    Each table is a CSV file, a JSON file holding an array of row objects, or a list of row
    mappings. Every row has an external ``id`` (the app's own key, unique in its table);
    rows refer to each other by those ids, and each gets a derived, stable commgov id from
    its parent's id and its ``code`` (the external id where no code is given):

    ============  ==========================================  ===================================
    table         columns (required in bold)                  commgov id
    ============  ==========================================  ===================================
    compounds     **id**, code, kind (compound / lane /       ``{community}/C{code}``; a lane
                  courtyard, or 小区 / 街巷 / 院落), **name**,    ``…/L{code}``; a courtyard
                  parent (a lane's id, for a courtyard in     ``{lane or community}/Y{code}``
                  a lane), property_management, lon, lat
    buildings     **id**, code, **compound**, **label**,      ``{compound}/B{code}``
                  **lon**, **lat**, floors, has_lift,
                  households, residents, mobility_limited
    entrances     **id**, code, **building**, **label**,      ``{building}/E{code}``
                  **households**, residents,
                  mobility_limited
    households    **id**, code, entrance or building (one),   ``{entrance or building}/H{code}``
                  residents, mobility_limited, elderly_alone
    people        **id**, code, at most one of                ``{community}/P{code}``
                  home_household, home_entrance,
                  home_building, lon, lat, roles,
                  enrolments, skills, availability, name …
    sites         **id**, code, compound (empty: the          ``{community}/S{code}``
                  community), **name**, **lon**, **lat**,
                  brand, normal_functions,
                  emergency_functions, lanes, …
    teams         **id**, code, **kind** (volunteer /         ``{community}/T{code}``
                  partner / rider / business_association),
                  **name**, covers (building ids),
                  covers_compounds (compound ids), brand,
                  partner_ids (commgov ids)
    memberships   **id**, code, **person**, team (a team's    ``{community}/M{code}``
                  id) or organisation (the commgov id of a
                  party organisation or body of the base
                  model), role, title, start, end (dates)
    ============  ==========================================  ===================================

    Any other field of the record class can be given as a column of the same name (so
    fields added to :class:`~commgov.org.Person` are read without a change here). Lists
    (roles, functions, enrolments) are separated by ``;`` or ``|``; skills are
    ``name:level`` pairs (``first_aid:3;driving:2``); time windows are ISO 8601 intervals
    with offsets (``2022-04-10T08:00+08:00/2022-04-10T12:00+08:00``); booleans are
    ``true``/``false`` (also ``yes``/``no``, ``1``/``0``, ``是``/``否``). Empty cells are
    absent. Counts (households, residents, mobility_limited) go on entrances, or on a
    building that has no entrances (a building some entrance row names carries none);
    ``residents`` is required whenever ``households`` is above 0 (no default: a guessed
    figure would pass for a reported one), and counts are whole numbers, never booleans
    (``True`` is not 1 here, in any integer column). Person ids and codes must not look like
    a phone or ID-card number: they become commgov ids, seen in every export.

    Parameters
    ----------
    tables : mapping of str to table
        Table name (from :data:`IMPORT_TABLES`) → a path (``str`` or ``os.PathLike``) to a
        UTF-8 CSV file (header row first; a byte-order mark is ignored) or to a ``.json``
        file, or an iterable of row mappings. Tables not needed may be left out.
    base : OrgModel
        The model the community belongs to (for example
        :func:`commgov.datasets.gusu_divisions` or :func:`commgov.org.load_divisions`); it
        must hold ``community_id`` and its ancestors, and is not changed.
    community_id : str
        The community's official 12-digit code (``"320508017016"``).
    columns : mapping, optional
        Column names of the caller's tables, per table: field → column
        (``{"buildings": {"id": "building_uuid", "compound": "xq_id"}}``). Fields not named
        are read from columns of their own name.
    crs : {"wgs84", "gcj02"}, default "wgs84"
        Datum of the ``lon``/``lat`` columns, in degrees. GCJ-02 (Amap, Tencent, Google Maps
        China) is converted to WGS84 with :func:`gcj02_to_wgs84`; outside China it is not
        shifted.
    unknown_columns : {"error", "ignore"}, default "error"
        Whether a column that no field reads is an error (it may be a misspelt field) or
        ignored (the app's other columns).
    reference : str, default "community import"
        Recorded in the provenance of every imported record (with the table name).

    Returns
    -------
    CommunityImport
        A new model (the base's records and the imported ones, checked by
        :class:`~commgov.org.OrgGraph`) and the external → commgov id of every row.

    Raises
    ------
    TableImportError
        Listing every problem found, in table order and row order: files missing, not
        UTF-8, not CSV or not a JSON array; header columns without a name or repeated;
        unknown tables, columns or column mappings; required columns or cells missing; a
        value of the wrong type or out of range (with the record's constraint); ids or
        derived ids repeated; references to ids no row of the table has; a person id or code
        that looks like a phone or ID-card number; coordinates out of range (with a hint
        when lon and lat look swapped); a community not in the base model; and whatever
        :class:`~commgov.org.OrgGraph` refuses (household records beyond their leaf's counts,
        counts on a building and on its entrances, …), traced back to the row. Personal
        data (fields marked sensitive) is shown as ``<masked>``. Nothing is imported when
        any problem is found: the function only returns.
    TypeError
        If ``tables`` is not a mapping, a table is neither a path nor an iterable of
        mappings, ``base`` is not an OrgModel, or an option has the wrong type.

    Examples
    --------
    >>> from commgov.datasets import gusu_divisions
    >>> result = import_community(
    ...     {
    ...         "compounds": [{"id": "x1", "code": "03", "name": "虎池苑"}],
    ...         "buildings": [{"id": "b7", "code": "12", "compound": "x1", "label": "12幢",
    ...                        "lon": 120.574, "lat": 31.335}],
    ...         "entrances": [{"id": "e1", "code": "2", "building": "b7", "label": "2单元",
    ...                        "households": 24, "residents": 61}],
    ...     },
    ...     base=gusu_divisions(),
    ...     community_id="320508017016",
    ... )
    >>> result.ids["entrances"]
    {'e1': '320508017016/C03/B12/E2'}
    """
    _check_arguments(tables, base, community_id, columns, crs, unknown_columns, reference)
    ctx = _Ctx(
        community_id=community_id,
        crs=crs,
        base_ids=frozenset(r.id for r in base.records()),
        reference=reference,
    )
    sources = _column_sources(columns or {}, ctx)
    community_ok = _check_community(base, community_id, ctx)
    rows: dict[str, list[_Row]] = {}
    for table in IMPORT_TABLES:
        if table in tables:
            rows[table] = _rows_of(
                table, tables[table], sources.get(table, {}), unknown_columns, ctx
            )
    ctx.with_entrances = {
        str(r.cells["building"]).strip() for r in rows.get("entrances", []) if "building" in r.cells
    }
    for table in IMPORT_TABLES:
        _convert_table(_SPECS[table], rows.get(table, []), ctx)
    if ctx.skipped and not ctx.issues:  # pragma: no cover - a skipped row has a reported cause
        ctx.issues.append(issue("", "import_community", None, "", None, "rows left out"))
    if ctx.issues or not community_ok:
        raise TableImportError(ctx.issues, what="community import")
    imported = OrgModel(
        name=base.name,
        timezone=base.timezone,
        units=ctx.records.get("compounds", []),
        buildings=ctx.records.get("buildings", []),
        entrances=ctx.records.get("entrances", []),
        households=ctx.records.get("households", []),
        people=ctx.records.get("people", []),
        sites=ctx.records.get("sites", []),
        teams=ctx.records.get("teams", []),
        memberships=ctx.records.get("memberships", []),
    )
    model = base.merge(imported)
    try:
        OrgGraph(model)
    except OrgStructureError as exc:
        raise TableImportError(
            [_traced(i, ctx) for i in exc.issues], what="community import"
        ) from None
    _log.info(
        "imported community %s: %s",
        community_id,
        ", ".join(f"{len(ctx.records.get(t, []))} {t}" for t in IMPORT_TABLES),
    )
    ids = {t: dict(sorted(ctx.ids.get(t, {}).items())) for t in IMPORT_TABLES if t in tables}
    return CommunityImport(model=model, ids=ids)


# -- arguments ------------------------------------------------------------------------------


def _check_arguments(
    tables: object,
    base: object,
    community_id: object,
    columns: object,
    crs: object,
    unknown_columns: object,
    reference: object,
) -> None:
    if not isinstance(tables, Mapping):
        raise TypeError(
            f"tables must be a mapping of table name to table, not {type(tables).__name__}"
        )
    if not isinstance(base, OrgModel):
        raise TypeError(
            f"base must be a commgov.org.OrgModel holding the community, not "
            f"{type(base).__name__} (commgov.datasets.gusu_divisions() or "
            "commgov.org.load_divisions(...))"
        )
    if not isinstance(community_id, str):
        raise TypeError(f"community_id must be a str code, not {type(community_id).__name__}")
    if columns is not None and not isinstance(columns, Mapping):
        raise TypeError(f"columns must be a mapping, not {type(columns).__name__}")
    if not isinstance(reference, str):
        raise TypeError(f"reference must be a str, not {type(reference).__name__}")
    issues = []
    for key in tables:
        if key not in _SPECS:
            issues.append(
                issue(
                    str(key),
                    "tables",
                    None,
                    "",
                    key,
                    f"unknown table: expected {', '.join(IMPORT_TABLES)}",
                )
            )
    if crs not in ("wgs84", "gcj02"):
        issues.append(issue("", "import_community", None, "crs", crs, "must be 'wgs84' or 'gcj02'"))
    if unknown_columns not in ("error", "ignore"):
        issues.append(
            issue(
                "",
                "import_community",
                None,
                "unknown_columns",
                unknown_columns,
                "must be 'error' or 'ignore'",
            )
        )
    if issues:
        raise TableImportError(issues, what="community import")


def _column_sources(
    columns: Mapping[str, Mapping[str, str]], ctx: _Ctx
) -> dict[str, dict[str, str]]:
    """Per table, field → the caller's column, checked: known tables and fields, one each."""
    out: dict[str, dict[str, str]] = {}
    for table, mapping in columns.items():
        spec = _SPECS.get(table)
        if spec is None:
            ctx.issues.append(
                issue(
                    str(table),
                    "columns",
                    None,
                    "",
                    table,
                    f"unknown table: expected {', '.join(IMPORT_TABLES)}",
                )
            )
            continue
        if not isinstance(mapping, Mapping):
            raise TypeError(
                f"columns[{table!r}] must map field names to column names, not "
                f"{type(mapping).__name__}"
            )
        known = spec.fields()
        used: dict[str, str] = {}
        for fld, column in mapping.items():
            if not isinstance(column, str) or not isinstance(fld, str):
                raise TypeError(f"columns[{table!r}] must map str field names to str columns")
            if fld not in known:
                ctx.issues.append(
                    issue(
                        table,
                        f"columns[{table!r}]",
                        None,
                        fld,
                        column,
                        f"no field of {table} has this name: fields are {', '.join(known)}",
                    )
                )
            elif column in used:
                ctx.issues.append(
                    issue(
                        table,
                        f"columns[{table!r}]",
                        None,
                        fld,
                        column,
                        f"column also read as {used[column]}: each column feeds one field",
                    )
                )
            else:
                used[column] = fld
        out[table] = {fld: column for column, fld in used.items()}
    return out


def _check_community(base: OrgModel, community_id: str, ctx: _Ctx) -> bool:
    if any(c.id == community_id for c in base.communities):
        return True
    ctx.issues.append(
        issue(
            "",
            "import_community",
            None,
            "community_id",
            community_id,
            "no community of the base model has this id",
        )
    )
    return False


# -- reading rows ---------------------------------------------------------------------------


def _rows_of(
    table: str,
    source: object,
    sources: Mapping[str, str],
    unknown_columns: str,
    ctx: _Ctx,
) -> list[_Row]:
    spec = _SPECS[table]
    raw_rows, read_issues = read_table(table, source)
    ctx.issues.extend(read_issues)
    if read_issues:
        ctx.partial.add(table)
    by_column = {sources.get(f, f): f for f in spec.fields()}
    reported: set[str] = set()
    seen_fields: set[str] = set()
    rows: list[_Row] = []
    for raw in raw_rows:
        cells: dict[str, Any] = {}
        row = _Row(raw, spec, cells, sources)
        for column, value in raw.cells.items():
            fld = by_column.get(column)
            if fld is None:
                if unknown_columns == "error" and column not in reported:
                    reported.add(column)
                    row.issues.append(
                        issue(
                            table,
                            raw.where,
                            raw.row,
                            column,
                            None,
                            f"unknown column of {table}: expected {', '.join(by_column)} "
                            "(map other names with columns=…, or pass unknown_columns='ignore')",
                        )
                    )
                continue
            seen_fields.add(fld)
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            cells[fld] = value.strip() if isinstance(value, str) else value
        rows.append(row)
    if raw_rows:
        first = raw_rows[0].where
        label = first.split(":row ")[0] + ":header" if ":row " in first else table
        for fld in spec.required:
            if fld not in seen_fields:
                ctx.issues.append(
                    issue(
                        table,
                        label,
                        None,
                        sources.get(fld, fld),
                        None,
                        "required column is missing",
                    )
                )
                for row in rows:
                    row.missing.add(fld)
    return rows


# -- converting rows ------------------------------------------------------------------------


def _convert_table(spec: _Spec, rows: list[_Row], ctx: _Ctx) -> None:
    ids = ctx.ids.setdefault(spec.table, {})
    faulty = ctx.faulty.setdefault(spec.table, set())
    by_ext = ctx.rows_by_ext.setdefault(spec.table, {})
    records = ctx.records.setdefault(spec.table, [])
    derived_at: dict[str, _Row] = {}
    # a courtyard's id hangs under its lane's: lanes and compounds first
    order = sorted(rows, key=lambda r: _is_courtyard(r)) if spec.table == "compounds" else rows
    for row in order:
        ext = _external_id(row, by_ext)
        record = None
        if ext is not None:
            data = _record_data(row, ext, ctx)
            if data is not None and not row.issues and not row.missing:
                rid = data["id"]
                if rid in derived_at:
                    other = derived_at[rid]
                    row.bad(
                        "code" if "code" in row.cells else "id",
                        row.cells.get("code", ext),
                        f"gives the id {rid}, as {other.raw.where} does: codes must differ "
                        "under one parent",
                    )
                elif rid in ctx.base_ids:
                    row.bad(
                        "code" if "code" in row.cells else "id",
                        row.cells.get("code", ext),
                        f"gives the id {rid}, which the base model already holds",
                    )
                else:
                    derived_at[rid] = row
                    ids[ext] = rid
                    record = _validate(row, data)
        if row.issues or record is None:
            if ext is not None:
                faulty.add(ext)
            ctx.issues.extend(row.issues)
            ctx.skipped += not row.issues
            continue
        ctx.origin[record.id] = (row, spec)
        records.append(record)
    ctx.issues.sort(key=lambda i: (_table_rank(i.table), i.row if i.row is not None else -1))


def _table_rank(table: str) -> int:
    return IMPORT_TABLES.index(table) if table in IMPORT_TABLES else -1


def _is_courtyard(row: _Row) -> bool:
    return _kind_text(row.cells.get("kind")) == NeighbourhoodKind.COURTYARD.value


def _kind_text(value: object) -> str:
    text = str(value).strip() if value is not None else "compound"
    return _KIND_ALIASES.get(text, text.lower())


def _text(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value).strip()


def _external_id(row: _Row, by_ext: dict[str, _Row]) -> str | None:
    for fld in row.spec.required:
        if fld not in row.cells and fld not in row.missing:
            row.bad(fld, None, "required: the cell is empty")
    value = row.cells.get("id")
    if value is None:
        return None
    ext = _text(value)
    if ext is None:
        row.bad("id", value, "must be text or an integer")
        return None
    if ext in by_ext:
        row.bad("id", ext, f"repeats the id of {by_ext[ext].raw.where}: ids must be unique")
        return None
    by_ext[ext] = row
    return ext


def _segment(row: _Row, ext: str) -> str | None:
    fld = "code" if "code" in row.cells else "id"
    text = _text(row.cells.get("code", ext))
    if row.spec.table == "people" and text is not None and _personal_number(text):
        row.bad(
            fld,
            MASK,
            "looks like a phone or ID-card number: person ids become commgov ids and are "
            "seen in exports; give a pseudonymous code column",
        )
        return None
    if text is None or not _SEGMENT.match(text):
        row.bad(
            fld,
            row.cells.get("code", ext),
            "must be 1-40 letters, digits, '.', '-' or '_' (it becomes part of the id)",
        )
        return None
    return text


def _personal_number(text: str) -> bool:
    return bool(_MOBILE.match(text) or _RESIDENT_ID.match(text))


def _record_data(row: _Row, ext: str, ctx: _Ctx) -> dict[str, Any] | None:
    """The record's data (id derived, references resolved), or None with issues on the row."""
    spec = row.spec
    segment = _segment(row, ext)
    parent = _parent_id(row, ctx)
    data: dict[str, Any] = {
        "provenance": Provenance(source=Source.IMPORTED, reference=f"{ctx.reference}: {spec.table}")
    }
    key = "home_id" if spec.table == "people" else "parent_id"
    if parent is not None and parent[0] is not None and key in spec.record.model_fields:
        data[key] = parent[0]
    if spec.location != "none":
        point = _location(row, ctx.crs, required=spec.location == "required")
        if point is not None:
            data["location"] = point
    if spec.counts != "none":
        counts = {f: row.cells[f] for f in _COUNT_FIELDS if f in row.cells}
        if counts and spec.table == "buildings" and ext in ctx.with_entrances:
            first = next(iter(counts))
            row.bad(
                first, counts[first],
                "counts are on the entrances: households are counted on the entrances of this "
                "building, so leave its households, residents and mobility_limited empty",
            )  # fmt: skip
        elif counts:
            _check_counts(row, counts)
            data["counts"] = counts
    for name in spec.passed():
        if name in row.cells:
            if _is_int_field(spec.record.model_fields[name]) and isinstance(row.cells[name], bool):
                row.bad(name, row.cells[name], _NOT_A_BOOL)
            data[name] = _passed_value(row, name)
    if spec.table == "teams":
        data["community_id"] = ctx.community_id
    links = _links(row, ctx)
    if links is not None:
        data.update(links)
    if segment is None or parent is None or links is None or row.issues:
        return None
    owner = parent[1]
    prefix = spec.prefix
    if spec.table == "compounds":
        prefix = {"lane": "L", "courtyard": "Y"}.get(_kind_text(row.cells.get("kind")), "C")
        data["kind"] = _kind_text(row.cells.get("kind"))  # default: a compound
    data["id"] = f"{owner}/{prefix}{segment}"
    return data


def _parent_id(row: _Row, ctx: _Ctx) -> tuple[str | None, str] | None:
    """(the parent or home id to record, the id that derived ids hang under), or None."""
    spec = row.spec
    given = {f: row.cells[f] for f in spec.refs if f in row.cells}
    if spec.table in ("people", "households") and len(given) > 1:
        row.bad(
            next(iter(given)),
            "; ".join(f"{row.col(f)}={v}" for f, v in given.items()),
            f"give one of {', '.join(row.col(f) for f in spec.refs)}, not {len(given)}",
        )
        return None
    if spec.table == "households" and not given:
        row.bad(
            "entrance",
            None,
            f"required: the household's {row.col('entrance')} or {row.col('building')}",
        )
        return None
    if not given:
        home = None if spec.table == "people" else ctx.community_id
        return home, ctx.community_id
    fld, value = next(iter(given.items()))
    target_table = spec.refs[fld]
    ext = _text(value)
    if ext is None:
        row.bad(fld, value, "must be text or an integer (an id of the " + target_table + " table)")
        return None
    kind = _kind_text(row.cells.get("kind"))
    if spec.table == "compounds" and kind != NeighbourhoodKind.COURTYARD.value:
        row.bad(fld, ext, f"only a courtyard sits in another unit, not {article(kind)}")
        return None
    target = ctx.ids.get(target_table, {}).get(ext)
    if target is None:
        known = ext in ctx.faulty.get(target_table, set()) or target_table in ctx.partial
        if not known:
            row.bad(fld, ext, f"no row of the {target_table} table has this id")
        return None
    if spec.table == "compounds":
        target_row = ctx.rows_by_ext["compounds"][ext]
        if _kind_text(target_row.cells.get("kind")) != NeighbourhoodKind.LANE.value:
            row.bad(fld, ext, "must be the id of a lane (a courtyard sits in a lane)")
            return None
    if spec.table in ("people", "sites"):
        return target, ctx.community_id
    return target, target


def _links(row: _Row, ctx: _Ctx) -> dict[str, Any] | None:
    """Record fields filled from link columns (team covers, membership ends), or None."""
    spec = row.spec
    out: dict[str, Any] = {}
    ok = True
    for group in spec.one_of:
        given = [f for f in group if f in row.cells]
        if len(given) != 1:
            ok = False
            row.bad(
                group[0],
                None if not given else "; ".join(f"{row.col(f)}={row.cells[f]}" for f in given),
                f"give one of {', '.join(row.col(f) for f in group)}"
                + (", not both" if given else ": required"),
            )
    for column, (table, target) in spec.links.items():
        if column not in row.cells:
            continue
        many = typing.get_origin(spec.record.model_fields[target].annotation) is list
        value = row.cells[column]
        items = _LIST_SEPARATORS.split(value) if isinstance(value, str) and many else value
        if not many:
            items = [items]
        if not isinstance(items, list):
            row.bad(column, value, "must be a list of ids separated by ';'")
            ok = False
            continue
        resolved = []
        for item in items:
            ext = _text(item)
            if ext is None:
                row.bad(column, value, "must hold ids (text or integers)")
                ok = False
                break
            if not ext:
                continue
            if table is None:
                resolved.append(ext)  # a commgov id of the base model, checked by the graph
                continue
            target_id = ctx.ids.get(table, {}).get(ext)
            if target_id is None:
                ok = False
                if ext not in ctx.faulty.get(table, set()) and table not in ctx.partial:
                    row.bad(column, ext, f"no row of the {table} table has this id")
                continue
            resolved.append(target_id)
        if many:
            out[target] = [*out.get(target, []), *resolved]
        elif resolved:
            out[target] = resolved[0]
    return out if ok else None


_NOT_A_BOOL = "must be a whole number, not a boolean"


def _check_counts(row: _Row, counts: dict[str, Any]) -> None:
    """Counts are whole numbers, never booleans; residents is required when households > 0.

    The rule (documented in :func:`import_community`): ``residents`` may be left out only
    when there are no households; there is no default, since any guess (one per household)
    would pass for a figure somebody reported.
    """
    for name, value in counts.items():
        if isinstance(value, bool):
            row.bad(name, value, _NOT_A_BOOL)
    if "residents" in counts or "households" not in counts:
        return
    households = counts["households"]
    try:
        n = int(str(households).strip())
    except ValueError:
        return  # not a number: the record's validation says so
    if n > 0 and not isinstance(households, bool):
        row.bad(
            "residents", None,
            f"required when households is given ({n}): the number of residents, at least the "
            "households",
        )  # fmt: skip


def _is_int_field(info: FieldInfo) -> bool:
    """Whether a record field takes a whole number (``int``, ``Headcount``, optional or not)."""
    annotation = info.annotation
    args = [annotation]
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
    for arg in args:
        if typing.get_origin(arg) is typing.Annotated:
            arg = typing.get_args(arg)[0]
        if arg is int:
            return True
    return False


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _location(row: _Row, crs: str, *, required: bool) -> dict[str, float] | None:
    lon, lat = row.cells.get("lon"), row.cells.get("lat")
    if lon is None and lat is None:
        return None  # a required location is reported as required cells
    if lon is None or lat is None:
        missing = "lon" if lon is None else "lat"
        if missing not in row.spec.required:  # else already reported as a required cell
            row.bad(missing, None, "required with " + ("lat" if missing == "lon" else "lon"))
        return None
    x, y = _number(lon), _number(lat)
    ok = True
    for fld, raw, num, bound in (("lon", lon, x, 180.0), ("lat", lat, y, 90.0)):
        if num is None or not math.isfinite(num):
            row.bad(fld, raw, "must be a finite number of degrees")
            ok = False
        elif abs(num) > bound:
            hint = ""
            if fld == "lat" and x is not None and abs(x) <= 90.0:
                hint = ": are lon and lat swapped?"
            row.bad(fld, raw, f"must be in [-{bound:g}, {bound:g}] degrees{hint}")
            ok = False
    if not ok or x is None or y is None:
        return None
    if crs == "gcj02":
        x, y = gcj02_to_wgs84(x, y)
    return {"lon": x, "lat": y}


def _shape(info: FieldInfo) -> str:
    """``"list"``, ``"dict"``, ``"window"``, ``"bool"`` or ``"scalar"`` for a record field."""
    annotation = info.annotation
    args = [annotation]
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
    for arg in args:
        origin = typing.get_origin(arg)
        if origin is list:
            inner = typing.get_args(arg)
            if inner and _is_window(inner[0]):
                return "windows"
            return "list"
        if origin is dict:
            return "dict"
        if _is_window(arg):
            return "window"
        if arg is bool:
            return "bool"
    return "scalar"


def _is_window(tp: object) -> bool:
    return (
        isinstance(tp, type)
        and issubclass(tp, BaseModel)
        and {"start", "end"} <= set(tp.model_fields)
    )


def _window(text: str) -> dict[str, str] | str:
    start, sep, end = text.partition("/")
    return {"start": start.strip(), "end": end.strip()} if sep else text


def _passed_value(row: _Row, name: str) -> Any:
    value = row.cells[name]
    shape = _shape(row.spec.record.model_fields[name])
    if not isinstance(value, str):
        return value
    if shape == "list":
        return [p.strip() for p in _LIST_SEPARATORS.split(value) if p.strip()]
    if shape == "windows":
        return [_window(p.strip()) for p in _LIST_SEPARATORS.split(value) if p.strip()]
    if shape == "window":
        return _window(value)
    if shape == "bool":
        low = value.lower()
        return True if low in _TRUE else False if low in _FALSE else value
    if shape == "dict":
        out: dict[str, str] = {}
        for part in _LIST_SEPARATORS.split(value):
            if not part.strip():
                continue
            key, sep, level = part.partition(":")
            if not sep or not key.strip():
                row.bad(name, value, "must be name:level pairs separated by ';' (first_aid:3)")
                return {}
            out[key.strip()] = level.strip()
        return out
    return value


def _validate(row: _Row, data: dict[str, Any]) -> Record | None:
    try:
        return row.spec.record.model_validate(data)
    except pydantic.ValidationError as exc:
        for err in exc.errors(include_url=False):
            fld, value = _field_of(row, list(err["loc"]))
            row.bad(fld, value, err["msg"])
        return None


def _field_of(row: _Row, loc: list[Any]) -> tuple[str, Any]:
    """The table field a record error location points at, and the value as given."""
    head = str(loc[0]) if loc else ""
    if head in ("location", "counts") and len(loc) >= 2:
        fld = str(loc[1])
        return fld, row.cells.get(fld)
    if head == "counts":
        return "", {row.col(f): row.cells[f] for f in _COUNT_FIELDS if f in row.cells}
    if head == "id":
        fld = "code" if "code" in row.cells else "id"
        return fld, row.cells.get(fld)
    if head in ("parent_id", "home_id"):
        given = [f for f in row.spec.refs if f in row.cells]
        fld = given[0] if given else ""
        return fld, row.cells.get(fld)
    linked = [c for c, (_t, target) in row.spec.links.items() if target == head and c in row.cells]
    if linked:
        return linked[0], row.cells.get(linked[0])
    return head, row.cells.get(head)


def _traced(found: Any, ctx: _Ctx) -> TableIssue:
    """An OrgGraph issue on an imported record, traced back to the row it came from."""
    origin = ctx.origin.get(found.record)
    if origin is None:
        return issue("", found.record, None, found.field, found.value, found.constraint)
    row, spec = origin
    fld = str(found.field).split(".")[-1]
    linked = [c for c, (_t, target) in spec.links.items() if target == fld and c in row.cells]
    if fld in ("parent_id", "home_id"):
        given = [f for f in spec.refs if f in row.cells]
        fld = given[0] if given else ""
    elif linked:
        fld = linked[0]
    elif fld == "counts":
        fld = "households"
    value = found.value
    if fld and _sensitive(spec, fld):
        value = MASK
    return issue(
        spec.table,
        row.raw.where,
        row.raw.row,
        row.col(fld) if fld else "",
        value,
        f"{found.constraint} (record {found.record})",
    )
