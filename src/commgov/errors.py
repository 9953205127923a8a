"""The commgov exception tree.

Every error commgov raises on purpose derives from :class:`CommgovError`, and where a built-in
exception has the same meaning it derives from that too, so ``except ValueError`` keeps
working for callers that do not know commgov::

    CommgovError
    ├── InputError (ValueError)            bad input: each issue names record, field, value
    │   ├── DivisionCodeError              official division-code tables (row by row)
    │   ├── OrgStructureError              the organisation graph (tree, parents, dangling ids)
    │   └── ProblemError                   a matching or scheduling problem that is ill-formed
    ├── UnknownIdError (KeyError)          a query names an id that is not in the model
    ├── LifecycleError (ValueError)        a status change or progress report the three
    │                                      lists' lifecycle does not allow
    ├── SizeLimitError (ValueError)        a problem larger than the configured guard
    ├── InvalidParameterError              a solver option out of its declared range or of
    │   (ValueError, TypeError)            the wrong type (``time_limit_s="x"``, ``-1``, nan)
    ├── InfeasibleError                    only when the caller asked for ``strict=True``
    ├── SolverError (RuntimeError)         a solver failed in a way commgov cannot explain
    └── MissingExtraError (ImportError)    an optional extra is not installed

An infeasible problem is not an error: solvers return a result that lists what could not be
served and why; :class:`InfeasibleError` is raised only on request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self

from commgov._redact import MASK, escaped, redact, sensitive_field_names, shown

__all__ = [
    "CommgovError",
    "DivisionCodeError",
    "EventError",
    "InfeasibleError",
    "InputError",
    "InputIssue",
    "InvalidParameterError",
    "LifecycleError",
    "MissingExtraError",
    "OrgStructureError",
    "ProblemError",
    "SizeLimitError",
    "SolverError",
    "UnknownIdError",
    "check_size",
    "expect_type",
]

_MAX_SHOWN = 20


@dataclass(frozen=True, slots=True)
class InputIssue:
    """One problem found in the input.

    Attributes
    ----------
    record : str
        Where the problem is: a record id, or ``"table:row N"`` for tabular input.
    field : str
        The field (column, attribute) at fault; ``""`` when the record as a whole is.
    value : object
        The offending value (already masked when the field is sensitive).
    constraint : str
        The rule it breaks, in words (``"must be 6, 9 or 12 digits"``).

    Notes
    -----
    Personal data never reaches an issue (:mod:`commgov._redact`, the one rule): phone and
    identity numbers in ``record``, ``field``, ``constraint`` or a text ``value`` are masked
    when the issue is made, and ``str(issue)`` shows the value bounded and escaped.
    """

    record: str
    field: str
    value: object
    constraint: str

    def __post_init__(self) -> None:
        for name in ("record", "field", "constraint"):
            text = getattr(self, name)
            if isinstance(text, str):
                object.__setattr__(self, name, redact(text))
        if isinstance(self.value, str) and self.value != MASK:
            object.__setattr__(self, "value", redact(self.value))
        elif isinstance(self.value, list | tuple) and any(
            isinstance(v, str) and redact(v) != v for v in self.value
        ):
            object.__setattr__(self, "value", MASK)

    def __str__(self) -> str:
        where = f"{self.record}.{self.field}" if self.field else self.record
        return f"{escaped(str(where))} = {shown(self.value)}: {escaped(str(self.constraint), 400)}"


class CommgovError(Exception):
    """Base class of every error raised by commgov."""


class InputError(CommgovError, ValueError):
    """Input that commgov refuses, with every issue found (not just the first).

    Parameters
    ----------
    issues : iterable of InputIssue
        The problems found; at least one.
    what : str, optional
        What was being read or checked, for the first line of the message.

    Attributes
    ----------
    issues : tuple of InputIssue
        All problems found, in input order.
    """

    def __init__(self, issues: Iterable[InputIssue], what: str = "input") -> None:
        self.issues: tuple[InputIssue, ...] = tuple(issues)
        self.what = what
        super().__init__(self._message())

    def _message(self) -> str:
        n = len(self.issues)
        head = f"{self.what}: {n} problem{'s' if n != 1 else ''}"
        lines = [f"  - {issue}" for issue in self.issues[:_MAX_SHOWN]]
        if n > _MAX_SHOWN:
            lines.append(f"  ... and {n - _MAX_SHOWN} more (see .issues)")
        return "\n".join([head, *lines])

    @classmethod
    def single(
        cls, record: str, field: str, value: object, constraint: str, what: str = "input"
    ) -> InputError:
        """Build the error for a single issue."""
        return cls([InputIssue(record, field, value, constraint)], what=what)

    @classmethod
    def from_validation(
        cls, exc: Any, data: object = None, *, record: str = "input", what: str = "input"
    ) -> Self:
        """Translate a :class:`pydantic.ValidationError` into this error, one issue per error.

        Parameters
        ----------
        exc : pydantic.ValidationError
            The validation error.
        data : object, optional
            The input that was validated. When an error sits in a list of records
            (``("buildings", 3, "floors")``) and that record has an ``id``, the issue names it.
        record : str, default "input"
            Record named by errors that are not inside a list of records.
        what : str, default "input"
            What was being read, for the message.

        Returns
        -------
        InputError
            Of the class it is called on, with ``__cause__`` left to the caller.
        """
        issues = []
        sensitive = sensitive_field_names()
        for err in exc.errors(include_url=False):
            loc = list(err["loc"])
            where = record
            if len(loc) >= 2 and isinstance(loc[0], str) and isinstance(loc[1], int):
                seq = (
                    data.get(loc[0])
                    if isinstance(data, Mapping)
                    else getattr(data, loc[0], None)
                )
                try:
                    item = seq[loc[1]] if isinstance(seq, Sequence) else None
                except IndexError:
                    item = None
                rid = item.get("id") if isinstance(item, Mapping) else getattr(item, "id", None)
                where = str(rid) if isinstance(rid, str) and rid else f"{loc[0]}[{loc[1]}]"
                loc = loc[2:]
            value = err.get("input")
            if isinstance(value, Mapping | list):
                value = f"<{type(value).__name__}>"
            if err.get("type") == "extra_forbidden" or any(
                isinstance(part, str) and part in sensitive for part in loc
            ):
                value = MASK  # an unknown field may hold anything, personal data included
            issues.append(InputIssue(where, ".".join(str(x) for x in loc), value, err["msg"]))
        return cls(issues, what=what)


class DivisionCodeError(InputError):
    """Malformed official division-code table; nothing of it was loaded."""


class OrgStructureError(InputError):
    """An organisation model whose structure is invalid (tree, parent kinds, dangling ids)."""


class ProblemError(InputError):
    """A matching or scheduling problem that is ill-formed (not merely infeasible)."""


class EventError(InputError):
    """A live-operations event that cannot be applied to the state it was meant for.

    Raised by :func:`commgov.live.apply_event` (an unknown building, a task claimed twice, a
    check-out without a check-in …); the state is left as it was. Each issue names the event
    (its ``event_id`` or its position), the field and the value.
    """


class UnknownIdError(CommgovError, KeyError):
    """An id given to a query names no record of the model.

    A :class:`KeyError` (so ``except KeyError`` keeps working) whose message names the id and
    says it is not in the model, unlike a bare ``KeyError('x')``.

    Attributes
    ----------
    id : object
        The id asked for.
    """

    def __init__(self, node_id: object, param: str = "id") -> None:
        self.id = node_id
        super().__init__(f"{param} {shown(node_id)} is not in the model: no record has this id")

    def __str__(self) -> str:
        return str(self.args[0])


class LifecycleError(CommgovError, ValueError):
    """A status change or progress report that the lifecycle of the three lists does not allow.

    Raised by :func:`commgov.lists.transition` and :func:`commgov.lists.record_progress`
    (and by :func:`commgov.lists.allocate` when applying its projects); the item is left
    unchanged (records are frozen: nothing was half-applied). Importable from
    :mod:`commgov.lists` too.

    Parameters
    ----------
    item_id : str
        The need, resource or project.
    from_status : str
        Its status (a :class:`commgov.lists.Status`) when the change was asked for.
    to_status : str or None
        The status asked for (``None`` for a progress report).
    reason : str
        Why the change is refused; the message is ``"<item_id>: <reason>"``.

    Attributes
    ----------
    item_id, from_status, to_status
        As given.
    """

    def __init__(
        self, item_id: str, from_status: str, to_status: str | None, reason: str
    ) -> None:
        self.item_id = item_id
        self.from_status = from_status
        self.to_status = to_status
        super().__init__(f"{item_id}: {reason}")


class SizeLimitError(CommgovError, ValueError):
    """A problem exceeds the size guard set for it; raised before memory runs out.

    Raised by :func:`commgov.errors.check_size` (the one guard every planner, importer and
    builder calls *before* it allocates), from an estimate of the size, so it comes within a
    second and without growing memory.

    Parameters
    ----------
    what : str
        What was measured (``"sampling model: building-point pairs"``).
    figure : int
        The estimated size.
    limit : int
        The largest size accepted.
    change : str
        What the caller can change to get under the limit.

    Attributes
    ----------
    what, figure, limit, change
        As given.
    """

    def __init__(self, what: str, figure: int, limit: int, change: str) -> None:
        self.what = what
        self.figure = figure
        self.limit = limit
        self.change = change
        super().__init__(f"{what}: {figure:,} exceeds the limit of {limit:,}; {change}")

    def __reduce__(self) -> tuple[Any, ...]:  # picklable across sweep workers
        return (type(self), (self.what, self.figure, self.limit, self.change))


def check_size(what: str, figure: int, limit: int, change: str) -> None:
    """Refuse a size above its guard: the one size check of commgov.

    Call it with an *estimate* computed from counts (records × candidates, slots × people …)
    before building anything of that size.

    Parameters
    ----------
    what : str
        What is measured, for the message.
    figure : int
        The estimated size (a count, not bytes, unless ``what`` says bytes).
    limit : int
        The largest size accepted.
    change : str
        What the caller can change (a smaller area, a longer slot, ``max_…=`` …).

    Raises
    ------
    SizeLimitError
        When ``figure > limit``; the message names the figure, the limit and ``change``.

    Notes
    -----
    O(1).

    Examples
    --------
    >>> check_size("roster cells", 10, 100, "use fewer slots")
    >>> check_size("roster cells", 1000, 100, "use fewer slots")
    Traceback (most recent call last):
    ...
    commgov.errors.SizeLimitError: roster cells: 1,000 exceeds the limit of 100; use fewer slots
    """
    if figure > limit:
        raise SizeLimitError(what, int(figure), int(limit), change)


class InvalidParameterError(CommgovError, ValueError, TypeError):
    """A solver option is of the wrong type or outside its declared range.

    Both a :class:`ValueError` and a :class:`TypeError`, so that ``except ValueError`` and
    ``except TypeError`` both catch it whatever went wrong (scikit-learn's
    ``InvalidParameterError`` has the same two bases). Raised by the one options validator in
    :mod:`commgov._options`, which every planner calls before it does any work.

    Attributes
    ----------
    name : str
        The option (``"time_limit_s"``).
    value : object
        The value given.
    """

    def __init__(self, name: str, value: object, constraint: str, where: str = "") -> None:
        self.name = name
        self.value = value
        prefix = f"{where}: " if where else ""
        super().__init__(f"{prefix}{name} must be {constraint}, got {shown(value)}")


class InfeasibleError(CommgovError):
    """Not everything could be served and the caller asked for ``strict=True``.

    Parameters
    ----------
    message : str
        What could not be served.
    unserved : sequence of str
        Ids of what was not served.
    """

    def __init__(self, message: str, unserved: Sequence[str] = ()) -> None:
        self.unserved = tuple(unserved)
        super().__init__(message)


class SolverError(CommgovError, RuntimeError):
    """The underlying solver failed (status it should never return for this model)."""


class MissingExtraError(CommgovError, ImportError):
    """An optional dependency is missing; the message names the ``pip install`` extra."""

    def __init__(self, module: str, extra: str) -> None:
        super().__init__(f"{module} is needed for this feature: pip install 'commgov[{extra}]'")


def expect_type(
    value: object, expected: type | tuple[type, ...], name: str, hint: str = ""
) -> None:
    """Raise a :class:`TypeError` naming the argument when ``value`` has the wrong type.

    Parameters
    ----------
    value : object
        The argument given.
    expected : type or tuple of type
        What it must be an instance of.
    name : str
        The argument's name, for the message.
    hint : str, optional
        How to make a value of the right type.

    Raises
    ------
    TypeError
        ``"<name> must be a <type>, not <actual type>"`` plus the hint.
    """
    if not isinstance(value, expected):
        kinds = expected if isinstance(expected, tuple) else (expected,)
        wanted = " or ".join(k.__name__ for k in kinds)
        extra = f" ({hint})" if hint else ""
        raise TypeError(f"{name} must be a {wanted}, not {type(value).__name__}{extra}")
