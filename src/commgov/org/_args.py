"""Checking the arguments of :class:`~commgov.org.OrgGraph` queries: ids, kinds, instants, days.

Every query checks what it is given before looking anything up, so a wrong argument fails the
same way everywhere: an id not in the model raises :class:`UnknownIdError`, a kind that is
neither an enum member nor one of its string values a :class:`ValueError` listing the allowed
values, an instant or day of the wrong type a :class:`TypeError`, a naive datetime a
:class:`ValueError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import TypeVar

from commgov.errors import UnknownIdError
from commgov.org._kinds import EdgeKind, NodeKind
from commgov.org._text import article

_E = TypeVar("_E", bound=StrEnum)


def known_id(records: Mapping[str, object], node_id: object, param: str = "id") -> str:
    """``node_id`` when it names a record, else :class:`UnknownIdError` (or TypeError)."""
    if not isinstance(node_id, str):
        raise TypeError(f"{param} must be a record id (a str), not {type(node_id).__name__} "
                        f"{node_id!r}")  # fmt: skip
    if node_id not in records:
        raise UnknownIdError(node_id, param)
    return node_id


def _kind(enum: type[_E], value: object, param: str) -> _E:
    if isinstance(value, enum):
        return value
    if isinstance(value, str):
        try:
            return enum(value)
        except ValueError:
            pass
    allowed = ", ".join(k.value for k in enum)
    hint = ""
    if isinstance(value, str):
        near = [k.value for k in enum if k.value.lower() == value.strip().lower()]
        if near:
            hint = f" (did you mean {near[0]!r}?)"
    raise ValueError(
        f"{param} {value!r} is not {article(enum.__name__)}{hint}; "
        f"allowed: the enum or one of {allowed}"
    )


def node_kind(value: object, param: str = "kind") -> NodeKind:
    """A :class:`NodeKind` from the enum or its string value (``"building"``)."""
    return _kind(NodeKind, value, param)


def edge_kind(value: object, param: str = "kind") -> EdgeKind:
    """An :class:`EdgeKind` from the enum or its string value (``"CONTAINS"``)."""
    return _kind(EdgeKind, value, param)


def instant(value: object, param: str = "at") -> datetime:
    """A timezone-aware :class:`~datetime.datetime`, else TypeError (not a datetime) or
    ValueError (naive)."""
    if not isinstance(value, datetime):
        what = "a date" if isinstance(value, date) else f"{type(value).__name__} {value!r}"
        raise TypeError(f"{param} must be a timezone-aware datetime, not {what}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{param} must be a timezone-aware datetime, not the naive {value.isoformat()} "
            "(give it a tzinfo, e.g. ZoneInfo('Asia/Shanghai'))"
        )
    return value


def day(value: object, param: str = "on") -> date:
    """A :class:`~datetime.date` (a datetime is refused: which day it is depends on the zone)."""
    if isinstance(value, datetime):
        raise TypeError(
            f"{param} must be a date, not the datetime {value.isoformat()} "
            "(take .date() in the community's time zone)"
        )
    if not isinstance(value, date):
        raise TypeError(f"{param} must be a date, not {type(value).__name__} {value!r}")
    return value
