"""Base of the solver problem records (private): one way in, whatever the entry point."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar, Self

from pydantic import BaseModel

from commgov.errors import ProblemError

__all__ = ["CheckedProblem"]


class CheckedProblem(BaseModel):
    """A problem whose every entry point runs the same checks and raises :class:`ProblemError`.

    Pydantic's ``model_validate`` and ``model_validate_json`` bypass ``__init__``, where a
    problem translates field errors (naming the record) and applies its cross-record rules;
    here both go through ``__init__``, so a problem read from JSON is checked exactly like
    one built in code. Subclasses set :attr:`problem_what` and :attr:`problem_record`.
    """

    #: What the problem is, for the first line of error messages.
    problem_what: ClassVar[str] = "problem"
    #: Record named by errors about the problem as a whole.
    problem_record: ClassVar[str] = "problem"

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
            return cls(**dict(obj))
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
        """Parse JSON into a problem; errors as :class:`ProblemError`."""
        try:
            obj = json.loads(json_data)
        except (ValueError, TypeError) as exc:
            raise ProblemError.single(
                cls.problem_record, "", "<json>", f"invalid JSON: {exc}", cls.problem_what
            ) from None
        return cls.model_validate(obj)
