"""The bases of every record class (private core).

Records are immutable pydantic models that reject unknown fields, so a typo in a field name
fails loudly instead of being dropped. :class:`FrozenRecord` also strips the white space
around strings, for records typed or imported by people (ids, names, notes).

A boolean is never a number: pydantic's lax mode would read ``true`` as ``1`` for an
``int`` or ``float`` field (a JSON ``"residents": true`` silently became one resident).
:class:`NoBoolNumbers` — a base of every record, parameter and problem class — refuses a
boolean wherever a field's type takes numbers and not booleans, in the field and inside its
lists, tuples and mappings, with the field's location, so the error names the record and
field like any other (the boolean is handed on marked, so the field's own type check fails
at its location and shows the value).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, model_validator

__all__ = ["FrozenModel", "FrozenRecord", "NoBoolNumbers"]

_NUMBERS = (int, float)


def _numbers_only(annotation: Any) -> bool:
    """Whether ``annotation`` takes numbers and no booleans (nested records not looked into)."""
    seen: set[Any] = set()
    stack = [annotation]
    while stack:
        a = stack.pop()
        origin = get_origin(a)
        if origin is Annotated:
            stack.append(get_args(a)[0])
        elif origin is Literal:
            seen.update(type(x) for x in get_args(a))
        elif origin is not None:  # a union, list, tuple, dict, ...
            stack.extend(x for x in get_args(a) if x is not Ellipsis)
        elif isinstance(a, type) and issubclass(a, BaseModel):
            return False  # the nested record checks its own fields
        elif hasattr(a, "__value__"):  # a PEP 695 type alias
            stack.append(a.__value__)
        else:
            seen.add(a)
    return bool not in seen and any(t in seen for t in _NUMBERS)


class _Boolean:
    """A boolean given for a number: no number type accepts it, so the field's own check
    fails at the field's location (``Input should be a valid integer``), showing the value."""

    __slots__ = ("value",)

    def __init__(self, value: bool) -> None:
        self.value = value

    def __repr__(self) -> str:
        return repr(self.value)


def _marked(value: Any, depth: int = 0) -> Any:
    """``value`` with every boolean in it (and its lists, tuples, mappings) marked."""
    if value is True or value is False:
        return _Boolean(value)
    if depth > 3:
        return value
    if isinstance(value, list | tuple):
        items = [_marked(v, depth + 1) for v in value]
        if any(n is not o for n, o in zip(items, value, strict=True)):
            return type(value)(items) if isinstance(value, list) else tuple(items)
    elif isinstance(value, dict):
        marked = {k: _marked(v, depth + 1) for k, v in value.items()}
        if any(marked[k] is not v for k, v in value.items()):
            return marked
    return value


class NoBoolNumbers(BaseModel):
    """Base that refuses booleans for numbers (see the module); one check per record."""

    @model_validator(mode="before")
    @classmethod
    def _no_bool_for_a_number(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        keys = cls.__dict__.get("_numbers_only_keys")
        if keys is None:
            keys = tuple(
                key
                for name, f in cls.model_fields.items()
                if _numbers_only(f.annotation)
                for key in dict.fromkeys((name, f.alias or name))
            )
            type.__setattr__(cls, "_numbers_only_keys", keys)
        out = None
        for key in keys:
            if key in data:
                value = data[key]
                marked = _marked(value)
                if marked is not value:
                    if out is None:
                        out = dict(data)
                    out[key] = marked
        return data if out is None else out


class FrozenModel(NoBoolNumbers):
    """Base of immutable records: frozen, no extra fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class FrozenRecord(FrozenModel):
    """Base of immutable input records: frozen, no extra fields, strings stripped."""

    model_config = ConfigDict(str_strip_whitespace=True)
