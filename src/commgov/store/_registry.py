"""What the store keeps: a fixed registry of commgov classes by name (private).

A stored row names its class (``"OrgModel"``, ``"SamplingPlan"`` …); reading looks that name
up here and validates the JSON with the class's ``model_validate_json``. The database never
names code to import: a name that is not in this registry is an error, whatever the row says
(the project's rule: no import of code named by data).
"""

from __future__ import annotations

import functools
from typing import Any, Final, Literal

from pydantic import BaseModel, TypeAdapter

from commgov._problem import CheckedProblem
from commgov.errors import InputError
from commgov.results import PlanResult

__all__ = [
    "KINDS",
    "Kind",
    "apply_events",
    "class_for",
    "event_adapter",
    "kind_of",
    "type_name_of",
]

#: What a snapshot holds: an organisation model, three lists, a problem, a result, or the
#: live state of a community.
Kind = Literal["model", "lists", "problem", "result", "state"]
KINDS: Final[tuple[str, ...]] = ("model", "lists", "problem", "result", "state")


@functools.cache
def _classes() -> dict[str, tuple[str, type[BaseModel]]]:
    from commgov.lists import Allocation, ThreeLists
    from commgov.matching import Assignment, MatchingProblem, RelayPlan, RelayProblem
    from commgov.org import OrgModel
    from commgov.scheduling import (
        DoorToDoorPlan,
        DoorToDoorProblem,
        NotificationPlan,
        NotificationProblem,
        Roster,
        RosterProblem,
        SamplingPlan,
        SamplingProblem,
    )

    out: dict[str, tuple[str, type[BaseModel]]] = {
        "OrgModel": ("model", OrgModel),
        "ThreeLists": ("lists", ThreeLists),
    }
    problems: tuple[type[CheckedProblem], ...] = (
        DoorToDoorProblem,
        MatchingProblem,
        NotificationProblem,
        RelayProblem,
        RosterProblem,
        SamplingProblem,
    )
    results: tuple[type[PlanResult], ...] = (
        Allocation,
        Assignment,
        DoorToDoorPlan,
        NotificationPlan,
        RelayPlan,
        Roster,
        SamplingPlan,
    )
    out.update({cls.__name__: ("problem", cls) for cls in problems})
    out.update({cls.__name__: ("result", cls) for cls in results})
    return out


def _live() -> tuple[TypeAdapter[Any], Any, type[BaseModel]]:
    """(the adapter of ``commgov.live.Event``, ``apply_events``, ``CommunityState``)."""
    from commgov.live import CommunityState, apply_events, event_adapter

    return (event_adapter(), apply_events, CommunityState)


def event_adapter() -> TypeAdapter[Any]:
    """The adapter of the live event union (``commgov.live.Event``)."""
    return _live()[0]


def apply_events() -> Any:
    """``commgov.live.apply_events``: the one replay rule."""
    return _live()[1]


def _entry(name: str) -> tuple[str, type[BaseModel]] | None:
    entry = _classes().get(name)
    if entry is None and _live()[2].__name__ == name:
        return ("state", _live()[2])
    return entry


def known_types() -> dict[str, str]:
    """Type name → kind of every class the store keeps."""
    return {name: kind for name, (kind, _cls) in sorted(_classes().items())}


def type_name_of(obj: object, kind: str, what: str) -> str:
    """The registry name of ``obj``'s class, which must be of ``kind``; else InputError."""
    name = type(obj).__name__
    entry = _entry(name)
    if entry is None or entry[1] is not type(obj) or entry[0] != kind:
        wanted = sorted(n for n, (k, _c) in _classes().items() if k == kind)
        if kind == "state":
            wanted.append(_live()[2].__name__)
        raise InputError.single(
            what, "type", name, f"a {kind} must be one of {', '.join(wanted)}", what="store"
        )
    return name


def kind_of(type_name: str) -> str | None:
    """The kind (``"model"``, ``"problem"`` …) a registered class is stored as, or None."""
    entry = _entry(type_name)
    return None if entry is None else entry[0]


def class_for(type_name: str) -> type[BaseModel]:
    """The class stored under ``type_name``; InputError when the registry has none."""
    entry = _entry(type_name)
    if entry is None:
        raise InputError.single(
            "stored row",
            "type_name",
            type_name,
            "is not a class this commgov keeps (written by a newer commgov?)",
            what="store",
        )
    return entry[1]
