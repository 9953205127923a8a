"""`OrgModel`: the container of an organisation model, and its JSON form."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, Self

import pydantic
from pydantic import BaseModel, ConfigDict, Field, model_validator

from commgov.errors import InputError, InputIssue
from commgov.org._base import Record
from commgov.org.people import Person
from commgov.org.sites import Site
from commgov.org.territory import (
    AdminArea,
    Building,
    Community,
    Entrance,
    Household,
    NeighbourhoodUnit,
)
from commgov.org.zones import ZoneDesignation
from commgov.types import TimeZoneName

__all__ = ["OrgModel"]

_COLLECTIONS = (
    "areas",
    "communities",
    "units",
    "buildings",
    "entrances",
    "households",
    "people",
    "sites",
    "zones",
)


class OrgModel(BaseModel):
    """An organisation model: territory, people, sites and zones, as plain records.

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
    areas, communities, units, buildings, entrances, households, people, sites, zones : list
        The records, each sorted by id.

    Examples
    --------
    >>> from commgov.org import AdminArea, AdminLevel
    >>> m = OrgModel(areas=[AdminArea(id="320508", level=AdminLevel.DISTRICT, name="姑苏区",
    ...                               short_name="姑苏区")])
    >>> OrgModel.from_json(m.to_json()) == m
    True
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal["1.0"] = "1.0"
    name: str = ""
    timezone: TimeZoneName = "Asia/Shanghai"
    areas: list[AdminArea] = Field(default_factory=list)
    communities: list[Community] = Field(default_factory=list)
    units: list[NeighbourhoodUnit] = Field(default_factory=list)
    buildings: list[Building] = Field(default_factory=list)
    entrances: list[Entrance] = Field(default_factory=list)
    households: list[Household] = Field(default_factory=list)
    people: list[Person] = Field(default_factory=list)
    sites: list[Site] = Field(default_factory=list)
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

    def merge(self, *others: OrgModel) -> OrgModel:
        """A new model with the records of this model and ``others`` (name and tz of this one).

        Duplicate ids are not resolved here: :class:`~commgov.org.OrgGraph` reports them.
        """
        data: dict[str, Any] = {"name": self.name, "timezone": self.timezone}
        for name in _COLLECTIONS:
            merged: list[Record] = list(getattr(self, name))
            for other in others:
                merged.extend(getattr(other, name))
            data[name] = merged
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
    def from_json(cls, text: str | bytes) -> OrgModel:
        """Parse and validate the JSON form.

        Raises
        ------
        commgov.errors.InputError
            Listing every invalid field with the id of the record it belongs to.
        """
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError.single("json", "", str(exc)[:80], "is not valid JSON") from exc
        return cls.from_data(data)

    @classmethod
    def load(cls, path: str | Path) -> OrgModel:
        """Read a model saved with :meth:`save`."""
        return cls.from_json(Path(path).read_text(encoding="utf-8"))

    @classmethod
    def from_data(cls, data: Any) -> OrgModel:
        """Validate a parsed JSON object into a model, naming record ids in errors.

        Raises
        ------
        commgov.errors.InputError
            Listing every invalid field with the id of the record it belongs to.
        """
        try:
            return cls.model_validate(data)
        except pydantic.ValidationError as exc:
            raise InputError(_issues_from_pydantic(exc, data), what="organisation model") from exc

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """JSON Schema (draft 2020-12) of the JSON form."""
        return cls.model_json_schema()


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
        issues.append(InputIssue(record, ".".join(str(f) for f in fields), value, err["msg"]))
    return issues
