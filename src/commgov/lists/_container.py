"""The three lists together: canonical JSON, cross-list checks and summaries."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, Self

from pydantic import Field, ValidationError, field_validator, model_validator

from commgov._input import check_rows, parse_json
from commgov._perf import gc_paused
from commgov._records import FrozenModel
from commgov.errors import InputError, InputIssue
from commgov.lists._lifecycle import Status
from commgov.lists._records import ListItem, Need, Project, Resource
from commgov.org._base import SCHEMA_VERSION

_WHAT = "three lists JSON"

SummaryKey = Literal["unit", "category", "status"]


def _by_id(items: tuple[ListItem, ...]) -> tuple[ListItem, ...]:
    return tuple(sorted(items, key=lambda item: item.id))


class ThreeLists(FrozenModel):
    """The needs, resources and projects lists of one place (三张清单; docs/glossary.md).

    Items are kept sorted by id, so :meth:`to_json` is canonical: the same items in any
    order give the same bytes, and ``ThreeLists.from_json(x.to_json()).to_json()`` equals
    ``x.to_json()``.

    Attributes
    ----------
    schema_version : str
        Version of the record schema.
    needs, resources, projects : tuple
        The items, sorted by id.

    Raises
    ------
    pydantic.ValidationError
        If an id is used twice (within or across the lists), or a project names a need or
        resource that is not on the lists; the message lists every such issue.
    """

    schema_version: str = SCHEMA_VERSION
    needs: tuple[Need, ...] = ()
    resources: tuple[Resource, ...] = ()
    projects: tuple[Project, ...] = ()

    @field_validator("needs", "resources", "projects", mode="after")
    @classmethod
    def _sort(cls, items: tuple[ListItem, ...]) -> tuple[ListItem, ...]:
        return _by_id(items)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        issues: list[InputIssue] = []
        seen: dict[str, str] = {}
        for name in ("needs", "resources", "projects"):
            for item in getattr(self, name):
                if item.id in seen:
                    issues.append(
                        InputIssue(item.id, "id", item.id, f"is used twice ({seen[item.id]})")
                    )
                seen.setdefault(item.id, name)
        for project in self.projects:
            for field, wanted, ids in (
                ("need_ids", "needs", project.need_ids),
                ("resource_ids", "resources", project.resource_ids),
            ):
                for ref in ids:
                    if seen.get(ref) != wanted:
                        issues.append(
                            InputIssue(project.id, field, ref, f"is not on the {wanted} list")
                        )
        if issues:
            raise ValueError(str(InputError(issues, what="the three lists do not fit together")))
        return self

    def to_json(self) -> str:
        """Canonical JSON text (items sorted by id, two-space indent, final newline)."""
        return self.model_dump_json(indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes) -> ThreeLists:
        """Read lists written by :meth:`to_json`.

        The text is read by the one reader (:func:`commgov._input.parse_json`: a repeated key,
        ``NaN`` or nesting too deep is an error), then validated.

        Raises
        ------
        commgov.errors.InputError
            If the text is not JSON, a record is malformed, a history illegal, or the lists do
            not fit together; each issue names the item, the field and the value (masked for
            personal data such as ``contact`` or ``description``).
        commgov.errors.SizeLimitError
            If the text is longer than the reader's limit.
        """
        data = parse_json(text, label="lists", what=_WHAT)
        if isinstance(data, dict):
            for name in ("needs", "resources", "projects"):
                rows = data.get(name)
                if isinstance(rows, list):
                    check_rows(len(rows), f"lists.{name}")
        try:
            with gc_paused():
                return cls.model_validate(data)
        except ValidationError as exc:
            raise InputError.from_validation(exc, data, record="lists", what=_WHAT) from None

    def item(self, item_id: str) -> ListItem:
        """The need, resource or project with this id.

        Raises
        ------
        commgov.errors.UnknownIdError
            If no item has it.
        """
        from commgov.errors import UnknownIdError

        for item in (*self.needs, *self.resources, *self.projects):
            if item.id == item_id:
                return item
        raise UnknownIdError(item_id, "item_id")

    def replace(self, *items: ListItem) -> ThreeLists:
        """The lists with each given item put in place of the one with its id, or added.

        Raises
        ------
        pydantic.ValidationError
            If the result does not fit together.
        TypeError
            If an item is not a Need, Resource or Project.
        """
        new: dict[str, dict[str, ListItem]] = {
            name: {i.id: i for i in getattr(self, name)}
            for name in ("needs", "resources", "projects")
        }
        for item in items:
            if isinstance(item, Need):
                new["needs"][item.id] = item
            elif isinstance(item, Resource):
                new["resources"][item.id] = item
            elif isinstance(item, Project):
                new["projects"][item.id] = item
            else:
                raise TypeError(
                    f"items must be Need, Resource or Project, not {type(item).__name__}"
                )
        return ThreeLists.model_validate({name: tuple(d.values()) for name, d in new.items()})

    def summary(
        self, by: SummaryKey, list_name: Literal["needs", "resources", "projects"] = "needs"
    ) -> tuple[SummaryRow, ...]:
        """Counts and quantities of one list by unit, category or status (see :func:`summarise`)."""
        return summarise(getattr(self, list_name), by)


class SummaryRow(FrozenModel):
    """One group of a summary.

    Attributes
    ----------
    key : str
        The unit id, category or status of the group.
    items : int
        Items in the group.
    quantity : int
        Sum of their quantities (requested, offered or planned).
    fulfilled : int
        Sum delivered so far.
    open : int
        Items not final (not closed out, rejected or cancelled).
    """

    key: str
    items: int = Field(ge=0)
    quantity: int = Field(ge=0)
    fulfilled: int = Field(ge=0)
    open: int = Field(ge=0)

    @property
    def outstanding(self) -> int:
        """Quantity not yet delivered."""
        return self.quantity - self.fulfilled


def summarise(items: Iterable[ListItem], by: SummaryKey) -> tuple[SummaryRow, ...]:
    """Items grouped by ``unit`` (``unit_id``), ``category`` or ``status``.

    Parameters
    ----------
    items : iterable of Need, Resource or Project
        What to summarise.
    by : {"unit", "category", "status"}
        The grouping.

    Returns
    -------
    tuple of SummaryRow
        One row per key present, sorted by key (statuses in lifecycle order).

    Raises
    ------
    ValueError
        If ``by`` is not one of the three groupings.
    """
    if by not in ("unit", "category", "status"):
        raise ValueError(f"by must be 'unit', 'category' or 'status', not {by!r}")
    groups: dict[str, list[int]] = {}
    for item in items:
        key = (
            item.unit_id
            if by == "unit"
            else item.category.value
            if by == "category"
            else (item.status.value)
        )
        acc = groups.setdefault(key, [0, 0, 0, 0])
        acc[0] += 1
        acc[1] += item.quantity
        acc[2] += item.fulfilled
        acc[3] += 0 if item.is_final else 1
    order = {s.value: i for i, s in enumerate(Status)}
    keys = sorted(groups, key=(lambda k: (order[k], k)) if by == "status" else None)
    return tuple(
        SummaryRow(key=k, items=a[0], quantity=a[1], fulfilled=a[2], open=a[3])
        for k in keys
        for a in (groups[k],)
    )
