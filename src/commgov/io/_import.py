"""Importing a community from an app's tables: the whole import, or nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from commgov._records import FrozenModel
from commgov._redact import get_logger
from commgov.crs import CRS
from commgov.errors import OrgStructureError
from commgov.io._ids import IdMap
from commgov.io._import_cells import _convert_table, _traced
from commgov.io._import_tables import _SPECS, IMPORT_TABLES, TableImportError, _Ctx, _Row
from commgov.io._tables import issue, read_table
from commgov.org import (
    OrgGraph,
    OrgModel,
)

__all__ = ["IMPORT_TABLES", "CommunityImport", "TableImportError", "import_community"]

_log = get_logger("commgov.io")


class CommunityImport(FrozenModel):
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

    model: OrgModel
    ids: dict[str, dict[str, str]]

    @property
    def id_map(self) -> IdMap:
        """:attr:`ids` as an :class:`IdMap`: the app's ids ↔ commgov's, both ways."""
        return IdMap(ids=self.ids)


def import_community(
    tables: Mapping[str, Any],
    *,
    base: OrgModel,
    community_id: str,
    columns: Mapping[str, Mapping[str, str]] | None = None,
    crs: Literal["wgs84", "gcj02", "bd09"] = "wgs84",
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
    crs : {"wgs84", "gcj02", "bd09"}, default "wgs84"
        System of the ``lon``/``lat`` columns, in degrees. GCJ-02 (Amap, Tencent, Google Maps
        China) and BD-09 (Baidu Maps) are converted to WGS84 with
        :func:`commgov.crs.to_wgs84`; a GCJ-02 or BD-09 position outside China is an issue
        naming the row.
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

    Each record keeps the app's id in its provenance, so the map survives saving and loading
    the model:

    >>> from commgov.io import IdMap
    >>> from commgov.org import OrgModel
    >>> again = OrgModel.from_json(result.model.to_json())
    >>> IdMap.from_model(again) == result.id_map
    True
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
    if crs not in CRS:
        issues.append(
            issue("", "import_community", None, "crs", crs, "must be 'wgs84', 'gcj02' or 'bd09'")
        )
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
            problem = (
                f"no field of {table} has this name: fields are {', '.join(known)}"
                if fld not in known
                else f"column also read as {used[column]}: each column feeds one field"
                if column in used
                else None
            )
            if problem is not None:
                ctx.issues.append(issue(table, f"columns[{table!r}]", None, fld, column, problem))
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
