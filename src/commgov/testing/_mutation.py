"""The one mutation record every family's table uses (testing only).

A :class:`Mutation` breaks a VALID ``(problem, result)`` pair of its family in exactly one way:
the family's verifier must then report exactly :attr:`Mutation.code`, nothing more. Each
family's table (``SAMPLING_MUTATIONS``, ``DOOR_TO_DOOR_MUTATIONS`` …) maps a name to a
mutation; :data:`commgov.testing.MUTATIONS` maps the family to its table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel

__all__ = ["Mutation", "bumped", "drop_first", "mutations_of", "with_first"]

_M = TypeVar("_M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Mutation:
    """One way to break a valid result, and the one code the verifier must report.

    Attributes
    ----------
    family : str
        The planning family (``"sampling"``, ``"door_to_door"``, ``"notification"``,
        ``"roster"``, ``"matching"``, ``"relay"``, ``"allocation"``).
    code : enum.StrEnum
        The member of the family's ``<Family>ViolationCode`` the verifier must report — and
        no other code.
    name : str
        Short name, unique within the family's table.
    apply : callable
        ``apply(problem, result) -> result`` returns a broken copy of a valid result (frozen
        records are copied with ``model_copy(update=…)``; the input is never changed), or
        ``None`` when the instance offers nothing to break this way. On its own fixture
        (:attr:`fixture`) it always applies.
    note : str
        What is broken, in words, and how the other figures are kept consistent.
    fixture : str
        The name of the family's fixture (:func:`commgov.testing.fixture`) the mutation is
        checked on.
    """

    family: str
    code: StrEnum
    name: str
    apply: Callable[[Any, Any], Any]
    note: str = ""
    fixture: str = "default"

    def __call__(self, problem: Any, result: Any) -> Any:
        """Same as :attr:`apply`."""
        return self.apply(problem, result)


def mutations_of(
    family: str,
    entries: Iterable[tuple[Any, ...]],
) -> dict[str, Mutation]:
    """A family's table from ``(name, code, apply[, fixture])`` entries; notes are the
    operators' docstrings.

    Raises
    ------
    ValueError
        If a name appears twice.
    """
    table: dict[str, Mutation] = {}
    for entry in entries:
        name, code, apply = entry[0], entry[1], entry[2]
        fixture = entry[3] if len(entry) > 3 else "default"
        if name in table:
            raise ValueError(f"mutation {family}/{name} defined twice")
        note = " ".join((apply.__doc__ or "").split())
        table[name] = Mutation(family, code, name, apply, note, fixture)
    return table


def bumped(record: _M, name: str, by: float = 1) -> _M:
    """A copy of ``record`` with its number ``name`` raised by ``by``."""
    return record.model_copy(update={name: getattr(record, name) + by})


def drop_first(result: _M, field: str) -> _M | None:
    """A copy of ``result`` without the first item of its list ``field``; ``None`` if empty."""
    items = getattr(result, field)
    if not items:
        return None
    return result.model_copy(update={field: items[1:]})


def with_first(result: _M, field: str, change: Callable[[Any], Any]) -> _M | None:
    """A copy of ``result`` with ``change`` applied to the first item of its list ``field``;
    ``None`` if the list is empty."""
    items = getattr(result, field)
    if not items:
        return None
    return result.model_copy(update={field: [change(items[0]), *items[1:]]})
