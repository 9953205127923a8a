"""Converting the rows of one table into records: ids, parents, links, counts, cells."""

from __future__ import annotations

import math
import types
import typing
from typing import Any

import pydantic
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from commgov._redact import looks_personal
from commgov.crs import to_wgs84
from commgov.io._import_tables import (
    _COUNT_FIELDS,
    _FALSE,
    _KIND_ALIASES,
    _LIST_SEPARATORS,
    _SEGMENT,
    _TRUE,
    IMPORT_TABLES,
    _Ctx,
    _Row,
    _sensitive,
    _Spec,
)
from commgov.io._privacy import MASK
from commgov.io._tables import TableIssue, issue
from commgov.org import (
    NeighbourhoodKind,
    Provenance,
    Source,
)
from commgov.org._base import Record
from commgov.org._text import article

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
    if text is not None and looks_personal(text):
        row.bad(
            fld,
            MASK,
            "looks like a phone or ID-card number: ids become commgov ids and are seen in "
            "errors and exports; give a pseudonymous code column",
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


def _record_data(row: _Row, ext: str, ctx: _Ctx) -> dict[str, Any] | None:
    """The record's data (id derived, references resolved), or None with issues on the row."""
    spec = row.spec
    segment = _segment(row, ext)
    parent = _parent_id(row, ctx)
    data: dict[str, Any] = {}
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
    try:
        data["provenance"] = Provenance(
            source=Source.IMPORTED, reference=f"{ctx.reference}: {spec.table}", app_id=ext
        )
    except pydantic.ValidationError as exc:
        err = exc.errors()[0]
        shown = MASK if looks_personal(ext) else ext
        row.bad("id", shown, str(err["msg"]).removeprefix("Value error, "))
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


def _non_none(info: FieldInfo) -> list[Any]:
    """The types a record field's annotation allows, ``None`` left out (``X | None`` → X)."""
    annotation = info.annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return [a for a in typing.get_args(annotation) if a is not type(None)]
    return [annotation]


def _is_int_field(info: FieldInfo) -> bool:
    """Whether a record field takes a whole number (``int``, ``Headcount``, optional or not)."""
    for arg in _non_none(info):
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
    try:
        x, y = to_wgs84(x, y, crs)
    except ValueError as exc:  # a GCJ-02/BD-09 position outside China
        row.bad("lon", lon, str(exc))
        return None
    return {"lon": x, "lat": y}


def _shape(info: FieldInfo) -> str:
    """``"list"``, ``"dict"``, ``"window"``, ``"bool"`` or ``"scalar"`` for a record field."""
    for arg in _non_none(info):
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
