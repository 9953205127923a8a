"""`OrgModel`: the container of an organisation model, and its JSON form."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any, Literal, Self

import pydantic
from pydantic import BaseModel, ConfigDict, Field, model_validator

from commgov._input import parse_json, read_text
from commgov._perf import gc_paused
from commgov._redact import MASK
from commgov.errors import InputError, InputIssue, OrgStructureError
from commgov.org._base import Record, is_sensitive
from commgov.org._bodies import Body
from commgov.org._party import PartyOrg
from commgov.org._people import Liaison, Membership, Person
from commgov.org._sites import DutyPost, Site
from commgov.org._teams import Team
from commgov.org._territory import (
    AdminArea,
    Building,
    Community,
    Entrance,
    Grid,
    Household,
    NeighbourhoodUnit,
)
from commgov.org._zones import ZoneDesignation
from commgov.types import TimeZoneName

__all__ = ["OrgModel", "sensitive_fields"]

#: The JSON Schema dialect of :meth:`OrgModel.json_schema` (pydantic generates 2020-12).
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

_COLLECTIONS = (
    "areas",
    "communities",
    "units",
    "buildings",
    "entrances",
    "households",
    "grids",
    "bodies",
    "party_orgs",
    "teams",
    "people",
    "memberships",
    "liaisons",
    "sites",
    "duty_posts",
    "zones",
)


class OrgModel(BaseModel):
    """An organisation model: territory, overlay, people, sites and zones, as plain records.

    Records are kept sorted by id, whatever order they were given in, so that the JSON form is
    canonical: ``OrgModel.from_json(m.to_json()).to_json() == m.to_json()`` byte for byte, and
    two models with the same records dump identically. Structure (the territorial tree, parent
    kinds, dangling ids) is checked by :class:`commgov.org.OrgGraph`.

    Attributes
    ----------
    schema_version : str
        Version of this JSON form.
    name : str
        What the model describes.
    timezone : str
        IANA time zone of the territory (``Asia/Shanghai``).
    areas, communities, units, buildings, entrances, households : list
        The territory (:mod:`commgov.org._territory`).
    grids, bodies, party_orgs, teams : list
        The overlay: grids and micro-grids, bodies (committees, companies, partner units),
        party organisations, teams.
    people, memberships, liaisons : list
        People, their memberships of party organisations, teams and bodies, and their "1+10+N"
        liaison assignments.
    sites, duty_posts, zones : list
        Sites with normal and emergency functions, duty posts at them, zone designations.

    All lists are sorted by id.

    Examples
    --------
    >>> from commgov.org import AdminArea, AdminLevel
    >>> m = OrgModel(areas=[AdminArea(id="320508", level=AdminLevel.DISTRICT, name="姑苏区",
    ...                               short_name="姑苏区")])
    >>> OrgModel.from_json(m.to_json()) == m
    True
    """

    # direct construction errors would quote personal data; from_data reports masked values
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    schema_version: Literal["1.0"] = "1.0"
    name: str = ""
    timezone: TimeZoneName = "Asia/Shanghai"
    areas: list[AdminArea] = Field(default_factory=list)
    communities: list[Community] = Field(default_factory=list)
    units: list[NeighbourhoodUnit] = Field(default_factory=list)
    buildings: list[Building] = Field(default_factory=list)
    entrances: list[Entrance] = Field(default_factory=list)
    households: list[Household] = Field(default_factory=list)
    grids: list[Grid] = Field(default_factory=list)
    bodies: list[Body] = Field(default_factory=list)
    party_orgs: list[PartyOrg] = Field(default_factory=list)
    teams: list[Team] = Field(default_factory=list)
    people: list[Person] = Field(default_factory=list)
    memberships: list[Membership] = Field(default_factory=list)
    liaisons: list[Liaison] = Field(default_factory=list)
    sites: list[Site] = Field(default_factory=list)
    duty_posts: list[DutyPost] = Field(default_factory=list)
    zones: list[ZoneDesignation] = Field(default_factory=list)

    @model_validator(mode="after")
    def _sorted(self) -> Self:
        for name in _COLLECTIONS:
            records: list[Record] = getattr(self, name)
            records.sort(key=lambda r: r.id)
        return self

    # -- access -----------------------------------------------------------------------------

    def records(self) -> list[Record]:
        """All records of every collection, collection by collection, each sorted by id."""
        out: list[Record] = []
        for name in _COLLECTIONS:
            out.extend(getattr(self, name))
        return out

    def merge(
        self, *others: OrgModel, on_conflict: Literal["error", "replace"] = "error"
    ) -> OrgModel:
        """A new model with the records of this model and of ``others``.

        Records are matched by id across the models (this one first, then ``others`` in
        order). A record that a later model holds with the same content as an earlier one
        is kept once, silently. A record that a later model holds with the same id but a
        different content (any field, or another collection) is a conflict, settled by
        ``on_conflict``. Duplicate ids within a single model are left as they are:
        :class:`~commgov.org.OrgGraph` reports them.

        Parameters
        ----------
        *others : OrgModel
            The models whose records are added.
        on_conflict : {"error", "replace"}, default "error"
            ``"error"``: raise, naming every conflicting id and field. ``"replace"``: the
            later record replaces the earlier one (in its collection, which may change), as
            when a detailed model refines official records (a community given a location).

        Returns
        -------
        OrgModel
            The name and time zone of this model, and the records of all, each collection
            sorted by id.

        Raises
        ------
        commgov.errors.OrgStructureError
            With ``on_conflict="error"``, when two models hold different records under one
            id: one issue per differing field (record = the id, value = the earlier and the
            later value, masked for personal data), or one for the id when the records sit
            in different collections.
        commgov.errors.InputError
            If ``on_conflict`` is neither ``"error"`` nor ``"replace"``.
        TypeError
            If one of ``others`` is not an :class:`OrgModel`.

        Examples
        --------
        >>> from commgov.org import AdminArea, AdminLevel
        >>> gusu = AdminArea(id="320508", level=AdminLevel.DISTRICT, name="姑苏区",
        ...                  short_name="姑苏区")
        >>> a, b = OrgModel(areas=[gusu]), OrgModel(areas=[gusu])
        >>> a.merge(b).counts()["areas"]
        1
        >>> from commgov.errors import OrgStructureError
        >>> c = OrgModel(areas=[gusu.model_copy(update={"short_name": "姑苏"})])
        >>> try:
        ...     a.merge(c)
        ... except OrgStructureError as exc:
        ...     print(*[(i.record, i.field, i.value) for i in exc.issues])
        ('320508', 'short_name', ('姑苏区', '姑苏'))
        >>> a.merge(c, on_conflict="replace").areas[0].short_name
        '姑苏'
        """
        if on_conflict not in ("error", "replace"):
            raise InputError.single(
                "merge", "on_conflict", on_conflict, "must be 'error' or 'replace'"
            )
        for i, other in enumerate(others):
            if not isinstance(other, OrgModel):
                raise TypeError(_not_a_model(f"OrgModel.merge (others[{i}])", other))
        slots: dict[str, list[Record | None]] = {
            name: list(getattr(self, name)) for name in _COLLECTIONS
        }
        # id -> (collection, index in slots, which model) of the record an id stands for
        kept: dict[str, tuple[str, int, str]] = {}
        for name in _COLLECTIONS:
            for j, record in enumerate(getattr(self, name)):
                kept.setdefault(record.id, (name, j, "this model"))
        issues: list[InputIssue] = []
        for k, other in enumerate(others):
            label = f"others[{k}]"
            added: dict[str, tuple[str, int, str]] = {}
            for name in _COLLECTIONS:
                for record in getattr(other, name):
                    if record.id not in kept:
                        slots[name].append(record)
                        added.setdefault(record.id, (name, len(slots[name]) - 1, label))
                        continue
                    prev_name, j, prev_label = kept[record.id]
                    previous = slots[prev_name][j]
                    assert previous is not None
                    if prev_name == name and previous == record:
                        continue
                    if on_conflict == "error":
                        issues.extend(
                            _conflicts(previous, prev_name, prev_label, record, name, label)
                        )
                    elif prev_name == name:
                        slots[name][j] = record
                        kept[record.id] = (name, j, label)
                    else:
                        slots[prev_name][j] = None
                        slots[name].append(record)
                        kept[record.id] = (name, len(slots[name]) - 1, label)
            for rid, where in added.items():
                kept.setdefault(rid, where)
        if issues:
            raise OrgStructureError(issues, what="merge of organisation models")
        data: dict[str, Any] = {"name": self.name, "timezone": self.timezone}
        for name in _COLLECTIONS:
            data[name] = [r for r in slots[name] if r is not None]
        return OrgModel(**data)

    def counts(self) -> dict[str, int]:
        """Number of records per collection."""
        return {name: len(getattr(self, name)) for name in _COLLECTIONS}

    # -- JSON -------------------------------------------------------------------------------

    def to_json(self, *, indent: int | None = None) -> str:
        """Canonical JSON (UTF-8 text, records sorted by id, keys in schema order)."""
        return self.model_dump_json(indent=indent)

    def save(self, path: str | Path) -> None:
        """Write :meth:`to_json` to ``path`` (UTF-8), atomically (temp file, then rename)."""
        target = Path(path)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(self.to_json(), encoding="utf-8")
        tmp.replace(target)

    @classmethod
    def from_json(cls, text: str | bytes | bytearray) -> OrgModel:
        """Parse and validate the JSON form.

        Parameters
        ----------
        text : str, bytes or bytearray
            The JSON form, as written by :meth:`to_json` or :meth:`save`. Bytes must be UTF-8
            (RFC 8259); a leading byte-order mark is ignored.

        Returns
        -------
        OrgModel
            The validated model.

        Raises
        ------
        commgov.errors.InputError
            Bytes that are not UTF-8 (the issue gives the byte offset and line), text that is
            empty or not JSON (line and column), JSON with ``NaN`` or ``Infinity``, nesting too
            deep to read, or a key repeated within one object; else every invalid field, with
            the id of the record it belongs to.
        TypeError
            If ``text`` is neither str nor bytes (use :meth:`from_data` for a parsed object).
        """
        with gc_paused():
            return cls.from_data(_parse_json(text))

    @classmethod
    def load(cls, path: str | Path) -> OrgModel:
        """Read a model saved with :meth:`save`.

        Parameters
        ----------
        path : str or pathlib.Path
            The file, UTF-8 JSON (a byte-order mark is ignored).

        Returns
        -------
        OrgModel
            The model, as :meth:`from_json` reads it.

        Raises
        ------
        commgov.errors.InputError
            As :meth:`from_json`, for the file's bytes.
        OSError
            If the file cannot be read (``FileNotFoundError``, ``IsADirectoryError``, …).
        """
        return cls.from_json(read_text(path))

    @classmethod
    def from_data(cls, data: Any) -> OrgModel:
        """Validate a parsed JSON object into a model, naming record ids in errors.

        Raises
        ------
        commgov.errors.InputError
            Listing every invalid field with the id of the record it belongs to.
        """
        try:
            with gc_paused():  # a district is a million acyclic objects: 4x faster unpaused
                return cls.model_validate(data)
        except pydantic.ValidationError as exc:
            raise InputError(_issues_from_pydantic(exc, data), what="organisation model") from None

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """JSON Schema (draft 2020-12) of the JSON form.

        Returns
        -------
        dict
            A new schema document each call, whose first key ``"$schema"`` names its dialect,
            ``https://json-schema.org/draft/2020-12/schema``; personal-data fields carry
            ``"sensitive": true``.
        """
        return {"$schema": JSON_SCHEMA_DIALECT, **cls.model_json_schema()}


_JSON = "organisation model JSON"

#: Every record type of an :class:`OrgModel` by collection, in collection order.
RECORD_TYPES: dict[str, type[Record]] = {
    "areas": AdminArea,
    "communities": Community,
    "units": NeighbourhoodUnit,
    "buildings": Building,
    "entrances": Entrance,
    "households": Household,
    "grids": Grid,
    "bodies": Body,
    "party_orgs": PartyOrg,
    "teams": Team,
    "people": Person,
    "memberships": Membership,
    "liaisons": Liaison,
    "sites": Site,
    "duty_posts": DutyPost,
    "zones": ZoneDesignation,
}
assert tuple(RECORD_TYPES) == _COLLECTIONS


def sensitive_fields() -> dict[str, tuple[str, ...]]:
    """The personal-data fields (PIPL) of every record type, for masking.

    One helper for errors, logs, explanations and exports: a field is sensitive when its
    schema carries ``"sensitive": true`` (names, phone numbers, health flags, party
    membership). Nested models are included with dotted paths
    (``"seats.person_id"`` if it were marked).

    Returns
    -------
    dict of str to tuple of str
        Record type name (``"Person"``) → its sensitive field names, sorted; every record type
        of :class:`OrgModel` is a key, with ``()`` when it has none.

    Examples
    --------
    >>> sensitive_fields()["Person"]
    ('health_flags', 'name', 'party_category', 'phone')
    >>> sensitive_fields()["Building"]
    ()
    """
    return {cls.__name__: _sensitive_paths(cls) for cls in RECORD_TYPES.values()}


def _sensitive_paths(cls: type[BaseModel], prefix: str = "") -> tuple[str, ...]:
    out: list[str] = []
    for field, info in cls.model_fields.items():
        if is_sensitive(cls, field):
            out.append(prefix + field)
            continue
        inner = info.annotation
        for arg in (inner, *getattr(inner, "__args__", ())):
            if isinstance(arg, type) and issubclass(arg, BaseModel) and arg is not cls:
                out.extend(_sensitive_paths(arg, f"{prefix}{field}."))
    return tuple(sorted(set(out)))


def _conflicts(
    old: Record, old_in: str, old_from: str, new: Record, new_in: str, new_from: str
) -> list[InputIssue]:
    """One issue per field in which two records of one id differ (one if their kinds do)."""
    settle = "pass on_conflict='replace' to keep the later record"
    if old_in != new_in or type(old) is not type(new):
        return [
            InputIssue(
                new.id,
                "",
                (old_in, new_in),
                f"is in {old_in} in {old_from} and in {new_in} in {new_from}: {settle}",
            )
        ]
    before, after = old.model_dump(mode="json"), new.model_dump(mode="json")
    issues = []
    for field in type(new).model_fields:
        if before[field] == after[field]:
            continue
        masked = is_sensitive(type(new), field)
        value = (MASK, MASK) if masked else (before[field], after[field])
        issues.append(
            InputIssue(new.id, field, value, f"differs between {old_from} and {new_from}: {settle}")
        )
    return issues


def _not_a_model(what: str, value: object) -> str:
    """The TypeError message for a ``value`` given where an OrgModel is needed."""
    if isinstance(getattr(value, "model", None), OrgModel):
        hint = ": this looks like an OrgGraph, whose model is graph.model"
    elif isinstance(value, Mapping):
        hint = ": build one from parsed JSON with OrgModel.from_data(data)"
    elif isinstance(value, str | bytes | bytearray):
        hint = ": read JSON text with OrgModel.from_json(text), a file with OrgModel.load(path)"
    elif isinstance(value, PathLike):
        hint = ": read a saved model with OrgModel.load(path)"
    else:
        hint = ""
    return f"{what} needs a commgov.org.OrgModel, not {type(value).__name__}{hint}"


def _parse_json(text: object) -> Any:
    """The parsed JSON form (the one reader, :func:`commgov._input.parse_json`)."""
    if not isinstance(text, str | bytes | bytearray | memoryview):
        raise TypeError(
            f"from_json needs the JSON text as str or bytes, not {type(text).__name__} "
            "(use OrgModel.from_data for an already parsed object)"
        )
    return parse_json(text, what=_JSON)


def _issues_from_pydantic(exc: pydantic.ValidationError, data: Any) -> list[InputIssue]:
    issues = []
    for err in exc.errors(include_url=False):
        loc = list(err["loc"])
        record = "model"
        fields = loc
        if (
            len(loc) >= 2
            and isinstance(loc[0], str)
            and isinstance(loc[1], int)
            and isinstance(data, Mapping)
        ):
            seq = data.get(loc[0])
            item = seq[loc[1]] if isinstance(seq, Sequence) and loc[1] < len(seq) else None
            rid = item.get("id") if isinstance(item, Mapping) else None
            record = f"{loc[0]}[{loc[1]}]" + (f" (id {rid})" if rid else "")
            fields = loc[2:]
        value = err.get("input")
        if isinstance(value, Mapping | list):
            value = f"<{type(value).__name__}>"
        kind = RECORD_TYPES.get(loc[0]) if loc and isinstance(loc[0], str) else None
        if kind is not None and fields and _is_sensitive_path(kind, str(fields[0])):
            value = MASK  # personal data never appears in an error (PIPL)
        if err.get("type") == "extra_forbidden":
            value = MASK  # an unknown field may hold anything, personal data included
        issues.append(InputIssue(record, ".".join(str(f) for f in fields), value, err["msg"]))
    return issues


def _is_sensitive_path(kind: type[BaseModel], field: str) -> bool:
    return any(p == field or p.startswith(field + ".") for p in _sensitive_paths(kind))
