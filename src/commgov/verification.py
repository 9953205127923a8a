"""The one verification report every family's verifier returns.

Each planning family has an independent verifier ``is_valid_<family>(problem, result)`` that
imports no solver code and returns a :class:`VerificationReport`: the broken rules as
:class:`Violation` records, each with a code from the family's own violation-code enum (a
:class:`enum.StrEnum`, so a code compares equal to its string). ``bool(report)`` is
``report.ok``. Where a verifier recomputes the objective tiers, they are in
:attr:`VerificationReport.objective`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from commgov.results import CommonReasonCode, Reason, SolveInfo, SolveStatus

__all__ = [
    "CLAIM_CODES",
    "VerificationReport",
    "Violation",
    "add_claim_faults",
    "add_figure_faults",
    "claim_faults",
    "stop_reason_fault",
]

#: The violation codes of :func:`claim_faults`; a family whose verifier applies it has a
#: member of each name in its violation-code enum.
CLAIM_CODES: tuple[str, ...] = ("BOUND_PAST_OBJECTIVE", "GAP_WRONG", "OPTIMAL_UNPROVEN")
_CLAIM_TOL = 1e-6


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
            raise TypeError(
                f"violation code must be a member of the family's code enum, "
                f"not {type(code).__name__} {code!r}"
            )
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


def claim_faults(
    info: SolveInfo, objective_value: float, *, minimise: bool = True
) -> list[tuple[str, str]]:
    """Check what a result claims about optimality: its bound, its gap and its status.

    The one rule every verifier applies to ``info.bound``, ``info.gap`` and ``OPTIMAL``
    against the main tier's value recomputed from the result (``objective_value``):

    * ``BOUND_PAST_OBJECTIVE``: the bound is on the wrong side of the value (above it when
      the tier is minimised, below it when maximised), beyond a relative 1e-6;
    * ``GAP_WRONG``: a gap without a bound, a negative gap, or a gap other than
      ``|objective − bound| / bound`` (relative and absolute 1e-6), a missing one included;
      with a bound of 0 the gap is 0 for a value of 0 and absent otherwise (not checked
      when the bound is past the value);
    * ``OPTIMAL_UNPROVEN``: status ``OPTIMAL`` with a bound that does not meet the value.

    A result without a bound claims nothing here. O(1).

    Parameters
    ----------
    info : commgov.results.SolveInfo
        The result's ``info``.
    objective_value : float
        The main tier (the one ``bound`` and ``gap`` are on), recomputed by the verifier.
    minimise : bool, default True
        Whether the main tier is minimised.

    Returns
    -------
    list of (str, str)
        ``(code, detail)`` pairs, codes from :data:`CLAIM_CODES`; empty when every claim
        holds.

    Examples
    --------
    >>> from commgov.results import SolveInfo, SolveStatus
    >>> info = SolveInfo(status=SolveStatus.OPTIMAL, solver="x", bound=100.0, gap=0.0)
    >>> [code for code, _ in claim_faults(info, 2.0)]
    ['BOUND_PAST_OBJECTIVE']
    >>> info = SolveInfo(status=SolveStatus.OPTIMAL, solver="x", bound=40.0, gap=0.0)
    >>> [code for code, _ in claim_faults(info, 48.0)]
    ['GAP_WRONG', 'OPTIMAL_UNPROVEN']
    """
    out: list[tuple[str, str]] = []
    bound, gap, value = info.bound, info.gap, float(objective_value)
    if bound is None:
        if gap is not None:
            out.append(("GAP_WRONG", f"gap {gap} without a bound"))
        return out
    slack = _CLAIM_TOL * max(1.0, abs(value))
    past = bound > value + slack if minimise else bound < value - slack
    if past:
        side = "above" if minimise else "below"
        out.append(("BOUND_PAST_OBJECTIVE", f"bound {bound} {side} the value {value}"))
    if bound > 0:
        expected: float | None = (value - bound) / bound if minimise else (bound - value) / bound
    else:
        expected = 0.0 if value == 0 else None
    if past:
        pass  # the gap of a bound past the value means nothing: the bound is the fault
    elif gap is None:
        if expected is not None:
            out.append(("GAP_WRONG", f"no gap with the bound {bound}; expected {expected}"))
    elif gap < -_CLAIM_TOL:
        out.append(("GAP_WRONG", f"gap {gap} is negative"))
    elif expected is None or not math.isclose(gap, expected, rel_tol=1e-6, abs_tol=1e-6):
        out.append(("GAP_WRONG", f"gap {gap}, the bound and value give {expected}"))
    if info.status == SolveStatus.OPTIMAL and not past and abs(value - bound) > slack:
        out.append(("OPTIMAL_UNPROVEN", f"OPTIMAL with the bound {bound} and the value {value}"))
    return out


def add_claim_faults(
    report: VerificationReport,
    codes: type[StrEnum],
    info: SolveInfo,
    objective_value: float,
    *,
    minimise: bool = True,
) -> None:
    """Add :func:`claim_faults` to ``report``, as members of the family's ``codes`` enum.

    Each fault is recorded on ``"info"``; ``codes`` must have a member named after each of
    :data:`CLAIM_CODES`. O(1).

    Raises
    ------
    ValueError
        If ``codes`` lacks a member the claims need.
    """
    for code, detail in claim_faults(info, objective_value, minimise=minimise):
        report.add(codes(code), "info", detail)


def add_figure_faults(
    report: VerificationReport,
    codes: type[StrEnum],
    totals: Any,
    recomputed_totals: Mapping[str, float],
    info: SolveInfo,
    recomputed_objective: Any,
    main: str,
    close: Any,
) -> None:
    """Check a result's figures against the verifier's own, then its claims.

    Each of ``recomputed_totals`` (``TOTALS_MISMATCH`` on ``"totals"``), the objective tiers
    (``OBJECTIVE_MISMATCH`` on ``"info"``: the same keys, each ``close``), then the claims on
    the ``main`` tier (:func:`add_claim_faults`); sets ``report.objective``. O(number of
    figures).

    ``recomputed_objective`` is the verifier's named tuple of tiers; ``close(a, b)`` the
    family's tolerance; ``codes`` needs ``TOTALS_MISMATCH``, ``OBJECTIVE_MISMATCH`` and the
    claim codes.
    """
    for key, value in recomputed_totals.items():
        if not close(float(getattr(totals, key)), float(value)):
            report.add(
                codes("TOTALS_MISMATCH"),
                "totals",
                f"{key} {getattr(totals, key)}, recomputed {value}",
            )
    obj = recomputed_objective
    got = info.objective
    if set(got) != set(obj._fields) or any(
        not close(got[k], float(getattr(obj, k))) for k in obj._fields
    ):
        report.add(
            codes("OBJECTIVE_MISMATCH"), "info", f"objective {got}, recomputed {obj._asdict()}"
        )
    add_claim_faults(report, codes, info, float(getattr(obj, main)))
    report.objective = obj
