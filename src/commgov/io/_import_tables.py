"""The tables :func:`commgov.io.import_community` reads: per table, how its rows become
records (:class:`_Spec`), and the state of one import (:class:`_Ctx`, :class:`_Row`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from commgov.errors import InputError
from commgov.io._privacy import MASK, is_sensitive
from commgov.io._tables import RawRow, TableIssue, issue
from commgov.org import (
    Building,
    Entrance,
    Household,
    Membership,
    NeighbourhoodUnit,
    Person,
    Site,
    Team,
)
from commgov.org._base import Record

__all__ = ["IMPORT_TABLES", "TableImportError"]


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
