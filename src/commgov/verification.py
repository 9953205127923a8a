"""The one verification report every family's verifier returns.

Each planning family has an independent verifier ``is_valid_<family>(problem, result)`` that
imports no solver code and returns a :class:`VerificationReport`: the broken rules as
:class:`Violation` records, each with a code from the family's own violation-code enum (a
:class:`enum.StrEnum`, so a code compares equal to its string). ``bool(report)`` is
``report.ok``. Where a verifier recomputes the objective tiers, they are in
:attr:`VerificationReport.objective`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from commgov.results import CommonReasonCode, Reason, SolveStatus

__all__ = ["VerificationReport", "Violation", "stop_reason_fault"]


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule.

    Attributes
    ----------
    code : enum.StrEnum
        The kind of fault, a member of the family's violation-code enum.
    record : str
        The record at fault (an id, ``"point@slot"``, ``"totals"``, ``"info"`` …).
    detail : str
        What was found and what was expected, in words (personal data masked).
    """

    code: StrEnum
    record: str
    detail: str

    def __str__(self) -> str:
        return f"{self.code}: {self.record}: {self.detail}"


@dataclass
class VerificationReport:
    """Outcome of a family's ``is_valid_*`` verifier; truthy exactly when nothing is broken.

    Attributes
    ----------
    family : str
        The family verified (``"sampling"``, ``"matching"`` …).
    violations : list of Violation
        Every fault found, in a deterministic order.
    objective : object or None
        The objective tiers recomputed from the result, where the family's verifier computes
        them (a named tuple); ``None`` otherwise.

    Examples
    --------
    >>> from enum import StrEnum
    >>> class Code(StrEnum):
    ...     DROPPED = "DROPPED"
    >>> report = VerificationReport("demo")
    >>> bool(report), report.ok
    (True, True)
    >>> report.add(Code.DROPPED, "b1", "batch b1 is neither assigned nor unserved")
    >>> bool(report), report.codes == {"DROPPED"}
    (False, True)
    """

    family: str
    violations: list[Violation] = field(default_factory=list)
    objective: Any = None

    @property
    def ok(self) -> bool:
        """Whether no rule is broken."""
        return not self.violations

    @property
    def codes(self) -> set[StrEnum]:
        """The distinct violation codes found."""
        return {v.code for v in self.violations}

    def __bool__(self) -> bool:
        return self.ok

    def add(self, code: StrEnum, record: str, detail: str) -> None:
        """Record a violation.

        Raises
        ------
        TypeError
            If ``code`` is not a member of a :class:`enum.StrEnum` (a family's code enum).
        """
        if not isinstance(code, StrEnum):
            raise TypeError(f"violation code must be a member of the family's code enum, "
                            f"not {type(code).__name__} {code!r}")
        self.violations.append(Violation(code, record, detail))

    def summary(self, limit: int = 10) -> str:
        """The first ``limit`` violations, one per line (``"ok"`` when there are none)."""
        if self.ok:
            return "ok"
        lines = [str(v) for v in self.violations[:limit]]
        if len(self.violations) > limit:
            lines.append(f"… and {len(self.violations) - limit} more")
        return "\n".join(lines)


def stop_reason_fault(
    reason: Reason,
    status: SolveStatus | str,
    options: Mapping[str, Any],
    *,
    limit_statuses: tuple[SolveStatus, ...] = (SolveStatus.LIMIT,),
) -> str | None:
    """Check a record's stop reason (``CANCELLED``, ``TIME_LIMIT_REACHED``) against its result.

    The one rule every verifier applies to the common reasons: ``CANCELLED`` only in a
    result with status ``CANCELLED``; ``TIME_LIMIT_REACHED`` only with a status in
    ``limit_statuses`` and naming the ``time_limit_s`` the result ran with (its
    ``info.options``). O(1).

    Parameters
    ----------
    reason : commgov.results.Reason
        The reason a record carries.
    status : SolveStatus or str
        The result's ``info.status``.
    options : mapping
        The result's ``info.options``.
    limit_statuses : tuple of SolveStatus, default ``(LIMIT,)``
        Statuses that may carry ``TIME_LIMIT_REACHED`` (matching's deterministic greedy
        fallback also reports ``FEASIBLE``).

    Returns
    -------
    str or None
        ``None`` when the reason is not a stop reason (the family checks it); ``""`` when it
        holds; otherwise what is wrong, in words.
    """
    if reason.code == CommonReasonCode.CANCELLED:
        return "" if status == SolveStatus.CANCELLED else f"CANCELLED but the status is {status}"
    if reason.code != CommonReasonCode.TIME_LIMIT_REACHED:
        return None
    if status not in limit_statuses:
        return f"TIME_LIMIT_REACHED but the status is {status}"
    got, ran = reason.params.get("time_limit_s"), options.get("time_limit_s")
    if got != ran:
        return f"TIME_LIMIT_REACHED with time_limit_s {got}, the result ran with {ran}"
    return ""
