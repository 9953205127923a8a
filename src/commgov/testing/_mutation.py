"""The one mutation record every family's table uses (testing only).

A :class:`Mutation` breaks a VALID ``(problem, result)`` pair of its family in exactly one way:
the family's verifier must then report exactly :attr:`Mutation.code`, nothing more. Each
family's table (``SAMPLING_MUTATIONS``, ``DOOR_TO_DOOR_MUTATIONS`` …) maps a name to a
mutation and is filled by a :class:`MutationTable`, whose decorator sits on each operator;
:data:`commgov.testing.MUTATIONS` maps the family to its table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel

__all__ = [
    "Mutation",
    "MutationTable",
    "bumped",
    "drop_first",
    "emptied",
    "first_twice",
    "reversed_items",
    "with_first",
    "with_items",
]

_M = TypeVar("_M", bound=BaseModel)
_F = TypeVar("_F", bound=Callable[[Any, Any], Any])


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


class MutationTable:
    """A family's mutation table, filled by decorating its operators in table order.

    ``@table.add(NotificationViolationCode.ORDER)`` on ``def mutate_notices_unsorted(problem,
    plan)`` registers the :class:`Mutation` ``"notices_unsorted"`` (the operator's name
    without ``mutate_``, unless ``name`` is given); its note is the operator's docstring.

    Attributes
    ----------
    family : str
        The planning family.
    mutations : dict of str to Mutation
        The table: name → mutation, in the order the operators were added.
    """

    def __init__(self, family: str) -> None:
        self.family = family
        self.mutations: dict[str, Mutation] = {}

    def add(
        self, code: StrEnum, *, name: str | None = None, fixture: str = "default"
    ) -> Callable[[_F], _F]:
        """A decorator that adds its operator to the table with ``code`` and returns it unchanged.

        Raises
        ------
        ValueError
            If the name is in the table already.
        """

        def register(apply: _F) -> _F:
            key = apply.__name__.removeprefix("mutate_") if name is None else name
            if key in self.mutations:
                raise ValueError(f"mutation {self.family}/{key} defined twice")
            note = " ".join((apply.__doc__ or "").split())
            self.mutations[key] = Mutation(self.family, code, key, apply, note, fixture)
            return apply

        return register


def bumped(record: _M, name: str, by: float = 1) -> _M:
    """A copy of ``record`` with its number ``name`` raised by ``by``."""
    return record.model_copy(update={name: getattr(record, name) + by})


def with_items(
    result: _M, field: str, change: Callable[[list[Any]], list[Any]], *, at_least: int = 1
) -> _M | None:
    """A copy of ``result`` whose list ``field`` is ``change(items)``; ``None`` if the list has
    fewer than ``at_least`` items (nothing to break that way)."""
    items = list(getattr(result, field))
    if len(items) < at_least:
        return None
    return result.model_copy(update={field: change(items)})


def drop_first(result: _M, field: str) -> _M | None:
    """A copy of ``result`` without the first item of its list ``field``; ``None`` if empty."""
    return with_items(result, field, lambda items: items[1:])


def with_first(result: _M, field: str, change: Callable[[Any], Any]) -> _M | None:
    """A copy of ``result`` with ``change`` applied to the first item of its list ``field``;
    ``None`` if the list is empty."""
    return with_items(result, field, lambda items: [change(items[0]), *items[1:]])


def first_twice(result: _M, field: str) -> _M | None:
    """A copy of ``result`` listing the first item of its list ``field`` twice (adjacent, so an
    order by id holds); ``None`` if empty."""
    return with_items(result, field, lambda items: [items[0], *items])


def emptied(result: _M, field: str) -> _M | None:
    """A copy of ``result`` with its list ``field`` empty; ``None`` if it is empty already."""
    return with_items(result, field, lambda items: [])


def reversed_items(result: _M, field: str) -> _M | None:
    """A copy of ``result`` with its list ``field`` in reverse order; ``None`` with fewer than two
    items."""
    return with_items(result, field, lambda items: items[::-1], at_least=2)
