"""The one conformance report of :func:`~commgov.testing.check_planner`,
:func:`~commgov.testing.check_matcher` and :func:`~commgov.testing.check_staffing`."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["ConformanceCheck", "ConformanceFailure", "ConformanceReport"]


class ConformanceCheck(StrEnum):
    """The checks of the conformance runners."""

    PLANNER_ERROR = "PLANNER_ERROR"
    """The planner raised where it should have returned a result."""
    MATCHER_ERROR = "PLANNER_ERROR"
    """Alias of :attr:`PLANNER_ERROR` (the name :func:`check_matcher` used first)."""
    RESULT_TYPE = "RESULT_TYPE"
    """The planner returned something other than the family's result type."""
    VALID = "VALID"
    """The verifier rejected the result (``code`` names the violation)."""
    DETERMINISTIC = "DETERMINISTIC"
    """The same problem and seed twice gave different JSON."""
    PERMUTATION_INVARIANT = "PERMUTATION_INVARIANT"
    """The problem with its records in another order gave different JSON."""
    TIME_LIMIT_CHECKED = "TIME_LIMIT_CHECKED"
    """A bad ``time_limit_s`` ("x", -1, nan, inf) did not raise ``InvalidParameterError``."""
    CANCEL = "CANCEL"
    """A pre-set ``cancel`` event did not give a valid result with status ``CANCELLED`` (or a
    finished status)."""
    PROGRESS = "PROGRESS"
    """The progress callback got no ``ProgressEvent``s, or the last was not ``"done"``."""
    STOPPED_BY = "STOPPED_BY"
    """An unhurried run reported ``info.stopped_by`` other than ``None``."""
    OPTIMAL = "OPTIMAL"
    """The objective tiers differ from the reference solver's (matching)."""
    FORMULA = "FORMULA"
    """A staffing formula disagrees with an independent computation or identity."""


@dataclass(frozen=True, slots=True)
class ConformanceFailure:
    """One failed check.

    Attributes
    ----------
    instance : str
        Name of the instance (problem) the check ran on.
    check : ConformanceCheck
        Which check failed.
    code : enum.StrEnum or None
        The verifier's violation code, for :attr:`ConformanceCheck.VALID`.
    detail : str
        What went wrong, in words.
    """

    instance: str
    check: ConformanceCheck
    code: StrEnum | None
    detail: str


@dataclass(frozen=True, slots=True)
class ConformanceReport:
    """Outcome of a conformance run; truthy exactly when every check passed.

    Attributes
    ----------
    family : str
        The family checked (``"matching"``, ``"sampling"`` …, ``"staffing"``).
    objective : str or None
        The objective a matcher was checked against (:func:`check_matcher`), else ``None``.
    instances : list of str
        Names of the instances run, in order.
    failures : list of ConformanceFailure
        Every failed check, in instance order.
    checks_run : list of ConformanceCheck
        The checks that ran.
    """

    family: str = "matching"
    objective: str | None = None
    instances: list[str] = field(default_factory=list)
    failures: list[ConformanceFailure] = field(default_factory=list)
    checks_run: list[ConformanceCheck] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return not self.failures

    @property
    def checks(self) -> set[ConformanceCheck]:
        """The distinct checks that failed."""
        return {f.check for f in self.failures}

    @property
    def codes(self) -> set[StrEnum]:
        """The distinct verifier codes among the failures."""
        return {f.code for f in self.failures if f.code is not None}

    def __bool__(self) -> bool:
        return self.ok

    def results(self) -> dict[ConformanceCheck, bool]:
        """Each check run → whether it passed everywhere."""
        failed = self.checks
        return {c: c not in failed for c in self.checks_run}

    def raise_for_failures(self) -> None:
        """Raise ``AssertionError`` listing the first failures, if any.

        Raises
        ------
        AssertionError
            If the report has failures.
        """
        if self.failures:
            lines = [
                f"{f.instance}: {f.check.value}"
                + (f"/{f.code.value}" if f.code else "")
                + f": {f.detail}"
                for f in self.failures[:20]
            ]
            more = len(self.failures) - 20
            raise AssertionError(
                f"{self.family}: {len(self.failures)} conformance failures:\n" + "\n".join(lines)
                + (f"\n... and {more} more" if more > 0 else "")
            )
