"""Base of the solver problem records (private): one way in, whatever the entry point."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

from pydantic import BaseModel, Field, ValidationError, field_validator

from commgov._input import parse_json
from commgov._perf import gc_paused
from commgov._records import NoBoolNumbers
from commgov._redact import shown
from commgov.crs import CRS
from commgov.errors import InputIssue, ProblemError, check_size
from commgov.results import LeftOut

__all__ = ["MAX_PROBLEM_RECORDS", "CheckedProblem"]

#: Most records (tasks, volunteers, buildings, batches …) one problem may hold by default.
MAX_PROBLEM_RECORDS = 1_000_000


class CheckedProblem(NoBoolNumbers):
    """A problem whose every entry point runs the same checks and raises :class:`ProblemError`.

    Pydantic's ``model_validate`` and ``model_validate_json`` bypass ``__init__``, where a
    problem translates field errors (naming the record) and applies its cross-record rules;
    here both go through ``__init__``, so a problem read from JSON is checked exactly like
    one built in code. Subclasses set :attr:`problem_what` and :attr:`problem_record` and put
    their cross-record rules in the hook :meth:`cross_issues`; field errors are translated to
    :class:`ProblemError` naming the record, field and value here, once for every family.

    Positions may be given in another coordinate system: ``crs="gcj02"`` (or ``"bd09"``) as
    a keyword, or a top-level ``"crs"`` key in the JSON, or ``context={"crs": …}`` to
    ``model_validate(_json)``, converts every position given as a mapping to WGS84 once, as
    it is read (:mod:`commgov.crs`); the problem keeps WGS84 only.

    Before any record is validated, the records given (the lengths of the list fields) are
    counted against :attr:`max_records`, so a huge problem is refused with a
    :class:`~commgov.errors.SizeLimitError` in O(number of fields), not after minutes of
    validation.
    """

    #: What the problem is, for the first line of error messages.
    problem_what: ClassVar[str] = "problem"
    #: Record named by errors about the problem as a whole.
    problem_record: ClassVar[str] = "problem"
    #: Most records (summed over the list fields) a problem may hold.
    max_records: ClassVar[int] = MAX_PROBLEM_RECORDS

    #: Records of the organisation model a builder (``*_problem_from_org``) left out, with
    #: the reason; empty for a problem built from its records (and then not serialised).
    left_out: tuple[LeftOut, ...] = Field(default=(), exclude_if=lambda v: not v)

    @field_validator("left_out")
    @classmethod
    def _each_record_once(cls, value: tuple[LeftOut, ...]) -> tuple[LeftOut, ...]:
        seen: set[tuple[str, str]] = set()
        for r in value:
            if (r.kind, r.record) in seen:
                raise ValueError(f"{r.kind} {r.record} is listed twice")
            seen.add((r.kind, r.record))
        return value

    def __init__(self, /, **data: Any) -> None:
        check_size(
            f"{self.problem_what}: records",
            sum(len(v) for v in data.values() if isinstance(v, list | tuple)),
            self.max_records,
            "split the problem by area (subdistrict or community) and solve the parts",
        )
        context = None
        if "crs" in data:  # the system of every position given as a mapping: to WGS84 here
            crs = data.pop("crs")
            if crs not in CRS:
                raise ProblemError.single(self.problem_record, "crs", crs,
                                          f"must be one of {', '.join(CRS)}", self.problem_what)
            if crs != "wgs84" and _holds_built_records(data):
                raise ProblemError.single(
                    self.problem_record, "crs", crs,
                    "applies to positions given as mappings (JSON); records already built "
                    "are WGS84: pass them as mappings, or convert with commgov.crs.to_wgs84",
                    self.problem_what)
            context = {"crs": crs}
        try:
            with gc_paused():  # many acyclic records: the collector's passes only cost time
                self.__pydantic_validator__.validate_python(
                    data, self_instance=self, context=context
                )
        except ValidationError as exc:
            raise ProblemError.from_validation(
                exc, data, record=self.problem_record, what=self.problem_what
            ) from None
        issues = self.cross_issues()
        if issues:
            raise ProblemError(issues, what=self.problem_what)

    def cross_issues(self) -> list[InputIssue]:
        """The cross-record rules the problem breaks (the hook subclasses fill); ``[]`` here."""
        return []

    @classmethod
    def model_validate(
        cls,
        obj: Any,
        *,
        strict: bool | None = None,
        extra: Any = None,
        from_attributes: bool | None = None,
        context: Any | None = None,
        by_alias: bool | None = None,
        by_name: bool | None = None,
    ) -> Self:
        """Validate a mapping into a problem; errors as :class:`ProblemError`."""
        if isinstance(obj, cls):
            return obj
        if isinstance(obj, Mapping):
            odd = [k for k in obj if not isinstance(k, str)]
            if odd:
                raise ProblemError.single(cls.problem_record, shown(odd[0]), "<key>",
                                          "field names must be text", cls.problem_what)
            data = dict(obj)
            crs = context.get("crs") if isinstance(context, Mapping) else None
            if crs is not None and data.setdefault("crs", crs) != crs:
                raise ProblemError.single(
                    cls.problem_record, "crs", data["crs"],
                    f"differs from the crs {crs!r} it is read with", cls.problem_what)
            return cls(**data)
        raise ProblemError.single(
            cls.problem_record, "", type(obj).__name__, "must be a mapping", cls.problem_what
        )

    @classmethod
    def model_validate_json(
        cls,
        json_data: str | bytes | bytearray,
        *,
        strict: bool | None = None,
        extra: Any = None,
        context: Any | None = None,
        by_alias: bool | None = None,
        by_name: bool | None = None,
    ) -> Self:
        """Parse JSON into a problem; errors as :class:`ProblemError`.

        The text is read by the one reader (:func:`commgov._input.parse_json`): a repeated
        key, ``NaN``, nesting too deep or a syntax error is a :class:`ProblemError` naming the
        line, with no excerpt of the input.
        """
        obj = parse_json(json_data, label=cls.problem_record, what=cls.problem_what,
                         error=ProblemError)
        return cls.model_validate(obj, context=context)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """Copy the problem; with ``update``, the copy is validated like a new problem.

        Pydantic's ``model_copy(update=...)`` sets fields without validation, which would let a
        changed problem skip the field and cross-record rules (and keep dicts where records
        belong); here an update rebuilds the problem through ``__init__``.

        Parameters
        ----------
        update : mapping, optional
            Field values to replace (records or plain dicts/lists, as for construction).
        deep : bool, default False
            Deep-copy the unchanged fields (only without ``update``; records are frozen).

        Raises
        ------
        commgov.errors.ProblemError
            If the updated problem breaks a rule.
        """
        if not update:
            return super().model_copy(deep=deep)
        fields = {name: getattr(self, name) for name in type(self).model_fields}
        fields.update(update)
        return type(self)(**fields)


def _holds_built_records(data: Mapping[str, Any]) -> bool:
    """Whether any record given to a problem is a built model (not a mapping)."""
    for value in data.values():
        items = value if isinstance(value, list | tuple) else [value]
        if any(isinstance(v, BaseModel) for v in items):
            return True
    return False


def coerce_window(window: object, record: str, what: str, *, optional: bool = False) -> Any:
    """The ``window`` argument of a ``*_problem_from_org`` builder, checked once for all.

    Parameters
    ----------
    window : TimeWindow, mapping or None
        A :class:`commgov.types.TimeWindow`, or a mapping that validates as one
        (``{"start": …, "end": …}``, tz-aware); ``None`` only when ``optional``.
    record : str
        The record the error names (the community id).
    what : str
        What is being built, for the error's first line.
    optional : bool, default False
        Whether ``None`` is allowed (then returned as is).

    Returns
    -------
    TimeWindow or None

    Raises
    ------
    commgov.errors.ProblemError
        Naming ``record``, the field ``window``, a bounded excerpt of the value and the rule.
    """
    from commgov.types import TimeWindow

    if window is None and optional:
        return None
    if isinstance(window, TimeWindow):
        return window
    if isinstance(window, Mapping):
        try:
            return TimeWindow.model_validate(dict(window))
        except ValidationError as exc:
            issues = [
                InputIssue(record, ".".join(["window", *map(str, e["loc"])]),
                           _excerpt(e.get("input")), e["msg"])
                for e in exc.errors()
            ]
            raise ProblemError(issues, what=what) from None
    raise ProblemError.single(record, "window", _excerpt(window), "must be a "
                              "commgov.types.TimeWindow (tz-aware start before end)", what=what)


def _excerpt(value: object, limit: int = 80) -> str:
    """A bounded ``repr`` of a value for an error message."""
    shown = repr(value)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."
