"""The one lifecycle of needs, resources and projects: statuses, the transition table, history."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from pydantic import AwareDatetime, Field

from commgov._records import FrozenRecord
from commgov.org._base import SENSITIVE
from commgov.types import Id, Text

#: Largest quantity on an item (parcels, hours, visits) or a delivery: far above any real
#: list entry.
MAX_QUANTITY = 1_000_000_000


class Status(StrEnum):
    """Where an item of the three lists stands (docs/glossary.md: 认领, 销号).

    ``raised`` (posted on the list) → ``matched`` (a counterpart found) → ``claimed``
    (认领 / 揭榜: a team or unit took it on) → ``in_progress`` → ``fulfilled`` (delivered in
    full) → ``closed_out`` (销号: verified done). Off the main path: ``rejected`` (not taken
    up), ``escalated`` (handed up, e.g. to the street) and ``cancelled`` (withdrawn).
    """

    RAISED = "raised"
    MATCHED = "matched"
    CLAIMED = "claimed"
    IN_PROGRESS = "in_progress"
    FULFILLED = "fulfilled"
    CLOSED_OUT = "closed_out"
    REJECTED = "rejected"
    ESCALATED = "escalated"
    CANCELLED = "cancelled"


_S = Status

#: The transition table: status → the statuses it may move to. ``closed_out``, ``rejected``
#: and ``cancelled`` are final (a closed-out need cannot be matched again). A fulfilled item
#: whose verification fails goes back to ``in_progress``; an escalated item comes back to the
#: list (``raised`` or ``matched``) or is rejected or cancelled; a match or claim that falls
#: through goes back one step.
TRANSITIONS: Mapping[Status, frozenset[Status]] = MappingProxyType(
    {
        _S.RAISED: frozenset({_S.MATCHED, _S.CLAIMED, _S.REJECTED, _S.ESCALATED, _S.CANCELLED}),
        _S.MATCHED: frozenset({_S.RAISED, _S.CLAIMED, _S.REJECTED, _S.ESCALATED, _S.CANCELLED}),
        _S.CLAIMED: frozenset({_S.MATCHED, _S.IN_PROGRESS, _S.ESCALATED, _S.CANCELLED}),
        _S.IN_PROGRESS: frozenset({_S.FULFILLED, _S.ESCALATED, _S.CANCELLED}),
        _S.FULFILLED: frozenset({_S.CLOSED_OUT, _S.IN_PROGRESS}),
        _S.ESCALATED: frozenset({_S.RAISED, _S.MATCHED, _S.REJECTED, _S.CANCELLED}),
        _S.CLOSED_OUT: frozenset(),
        _S.REJECTED: frozenset(),
        _S.CANCELLED: frozenset(),
    }
)

#: Statuses with no way out.
FINAL_STATUSES: frozenset[Status] = frozenset(s for s, to in TRANSITIONS.items() if not to)


def refusal(current: Status, to: Status) -> str | None:
    """Why ``current → to`` is refused, or ``None`` when the table allows it."""
    allowed = TRANSITIONS[current]
    if to in allowed:
        return None
    if not allowed:
        return f"cannot go from {current.value} to {to.value}: {current.value} is final"
    options = ", ".join(sorted(s.value for s in allowed))
    return f"cannot go from {current.value} to {to.value}: from {current.value} only {options}"


class HistoryEntry(FrozenRecord):
    """One change of an item: a status transition or a report of quantity delivered.

    Attributes
    ----------
    at : datetime
        When (timezone-aware); entries are in time order, none before the item was raised.
    by : str
        Id of who made the change (a person, team or organisation id: pseudonymous).
    from_status, to_status : Status
        The status before and after. Equal (both ``in_progress``) for a progress report.
    delivered : int
        Quantity delivered by this entry, in the item's ``measure`` (≥ 0; > 0 only on
        progress reports).
    why : str
        The reason or note, free text (sensitive: may name residents).
    """

    at: AwareDatetime
    by: Id
    from_status: Status
    to_status: Status
    delivered: int = Field(default=0, ge=0, le=MAX_QUANTITY)
    why: Text = Field(default="", max_length=2000, json_schema_extra=SENSITIVE)

    @property
    def is_progress(self) -> bool:
        """Whether this entry reports quantity delivered rather than a status change."""
        return self.from_status == self.to_status
