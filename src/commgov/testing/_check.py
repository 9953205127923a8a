"""The generic conformance runner, the staffing formula check and the pytest helper.

:func:`check_planner` runs a planner — a family's own or a third party's with the same
signature ``plan(problem, *, method=None, time_limit_s=…, seed=0, progress=None, cancel=None,
…)`` — on the family's fixture problems (or given ones) and checks the shared contract, as
scikit-learn's ``check_estimator`` does for estimators. :func:`parametrize_with_checks` turns
the (family, check) pairs into a ``pytest.mark.parametrize``, as scikit-learn's helper of that
name does.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from commgov import ProgressEvent
from commgov.errors import InvalidParameterError
from commgov.results import SolveStatus
from commgov.testing._families import FAMILIES, Family, _problems, family
from commgov.testing._report import ConformanceCheck, ConformanceFailure, ConformanceReport

__all__ = [
    "PLANNER_CHECKS",
    "STAFFING_CHECKS",
    "check_planner",
    "check_staffing",
    "parametrize_with_checks",
]

_C = ConformanceCheck

#: The checks :func:`check_planner` runs by default, in order.
PLANNER_CHECKS: tuple[ConformanceCheck, ...] = (
    _C.RESULT_TYPE, _C.VALID, _C.STOPPED_BY, _C.DETERMINISTIC, _C.PERMUTATION_INVARIANT,
    _C.TIME_LIMIT_CHECKED, _C.CANCEL, _C.PROGRESS,
)
#: The checks :func:`check_staffing` runs.
STAFFING_CHECKS: tuple[ConformanceCheck, ...] = (_C.FORMULA,)

_BAD_TIME_LIMITS: tuple[object, ...] = ("x", -1, math.nan, math.inf)
_FINISHED = (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)


def _seed_of(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big")


def check_planner(
    family_name: str,
    planner: Callable[..., Any] | None = None,
    *,
    problems: Mapping[str, Any] | Iterable[Any] | None = None,
    checks: Iterable[ConformanceCheck | str] | None = None,
) -> ConformanceReport:
    """Check a planner of a family against the shared planner contract.

    Per problem: the planner returns the family's result type (``RESULT_TYPE``), the
    family's verifier accepts it (``VALID``; each violation is a failure with its code),
    ``info.stopped_by`` is ``None`` on this unhurried run (``STOPPED_BY``), the same problem
    and seed give byte-identical ``to_json()`` (``DETERMINISTIC``), the problem with its
    records in a seeded random order gives the same JSON (``PERMUTATION_INVARIANT``), a
    cancel set at every point where the planner looks at it (the first, and up to
    :data:`MAX_CANCEL_POINTS` spread over the run) gives a result the verifier accepts with
    status ``CANCELLED`` — or ``OPTIMAL``/``FEASIBLE`` when nothing was left to cut short —
    and a planner that never looks at ``cancel`` fails (``CANCEL``); a progress callback
    receives :class:`commgov.ProgressEvent`\\ s, the last of phase ``"done"`` (``PROGRESS``).
    On the first problem only: ``time_limit_s`` of ``"x"``, -1, nan and inf each raise
    :class:`~commgov.errors.InvalidParameterError` (``TIME_LIMIT_CHECKED``).

    Parameters
    ----------
    family_name : str
        ``"sampling"``, ``"door_to_door"``, ``"notification"``, ``"roster"``,
        ``"matching"``, ``"relay"`` or ``"allocation"`` (for staffing see
        :func:`check_staffing`).
    planner : callable, optional
        The planner to check; the family's own by default. It is called as the family's
        planner is (for allocation: ``planner(lists, at=…, places=…, max_distance_m=…,
        **options)``).
    problems : mapping of str to problem, or iterable of problems, optional
        Problems to run instead of the family's fixtures (an iterable is named
        ``instance-0``, …). For allocation, problems are
        :class:`~commgov.testing.AllocationCase`.
    checks : iterable of ConformanceCheck, optional
        The checks to run (default :data:`PLANNER_CHECKS`); a check that needs a result runs
        the planner once more per problem.

    Returns
    -------
    ConformanceReport
        ``.ok``, ``.failures`` (instance, check, verifier code, detail), ``.results()``.

    Raises
    ------
    KeyError
        If the family is unknown.
    ValueError
        If a check is not a planner check.

    Notes
    -----
    Each problem costs up to six planner runs (first, again, permuted, cancelled, with
    progress) plus four refused calls on the first problem.
    """
    fam = family(family_name)
    planner = fam.planner if planner is None else planner
    wanted = PLANNER_CHECKS if checks is None else tuple(ConformanceCheck(c) for c in checks)
    unknown = [c for c in wanted if c not in PLANNER_CHECKS]
    if unknown:
        raise ValueError(f"not planner checks: {unknown}; choose from {list(PLANNER_CHECKS)}")
    if problems is None:
        named = dict(_problems(family_name))
    elif isinstance(problems, Mapping):
        named = dict(problems)
    else:
        named = {f"instance-{i}": p for i, p in enumerate(problems)}
    failures: list[ConformanceFailure] = []
    for k, (name, problem) in enumerate(named.items()):
        failures.extend(_check_problem(fam, planner, name, problem, wanted, first=k == 0))
    return ConformanceReport(family=family_name, instances=list(named), failures=failures,
                             checks_run=list(wanted))


def _check_problem(
    fam: Any, planner: Callable[..., Any], name: str, problem: Any,
    wanted: tuple[ConformanceCheck, ...], *, first: bool,
) -> list[ConformanceFailure]:
    out: list[ConformanceFailure] = []

    def fail(check: ConformanceCheck, detail: str, code: Any = None) -> None:
        out.append(ConformanceFailure(name, check, code, detail))

    def run(what: str, **kw: Any) -> Any:
        try:
            result = fam.call(planner, problem if "problem" not in kw else kw.pop("problem"),
                              **kw)
        except Exception as exc:  # any planner error is a conformance failure
            fail(_C.PLANNER_ERROR, f"{what}: {type(exc).__name__}: {exc}")
            return None
        if not isinstance(result, fam.result_type):
            fail(_C.RESULT_TYPE, f"{what}: returned {type(result).__name__}, not "
                 f"{fam.result_type.__name__}")
            return None
        return result

    needs_result = set(wanted) & {_C.RESULT_TYPE, _C.VALID, _C.STOPPED_BY, _C.DETERMINISTIC,
                                  _C.PERMUTATION_INVARIANT}
    base = run("first run") if needs_result else None
    if base is not None:
        if _C.VALID in wanted:
            for v in fam.verify(problem, base).violations:
                fail(_C.VALID, f"{v.record}: {v.detail}", v.code)
        if _C.STOPPED_BY in wanted and base.info.stopped_by is not None:
            fail(_C.STOPPED_BY, f"info.stopped_by = {base.info.stopped_by!r} on an "
                 "unhurried run")
        text = base.to_json()
        if _C.DETERMINISTIC in wanted:
            again = run("second run")
            if again is not None and again.to_json() != text:
                fail(_C.DETERMINISTIC, "the same problem and seed twice gave different JSON")
        if _C.PERMUTATION_INVARIANT in wanted:
            mixed = run("permuted input", problem=fam.permute(problem, _seed_of(name)))
            if mixed is not None and mixed.to_json() != text:
                fail(_C.PERMUTATION_INVARIANT,
                     "the problem with its records in another order gave different JSON")
    if _C.TIME_LIMIT_CHECKED in wanted and first:
        for bad in _BAD_TIME_LIMITS:
            try:
                fam.call(planner, problem, time_limit_s=bad)
            except InvalidParameterError:
                continue
            except Exception as exc:  # the wrong error is a failure of this check
                fail(_C.TIME_LIMIT_CHECKED, f"time_limit_s={bad!r} raised "
                     f"{type(exc).__name__}, not InvalidParameterError")
            else:
                fail(_C.TIME_LIMIT_CHECKED, f"time_limit_s={bad!r} was accepted")
    if _C.CANCEL in wanted:
        _check_cancel(fam, problem, run, fail)
    if _C.PROGRESS in wanted:
        events: list[Any] = []
        if run("with progress", progress=events.append) is not None:
            if not events or not all(isinstance(e, ProgressEvent) for e in events):
                fail(_C.PROGRESS, f"{len(events)} events, not all ProgressEvent")
            elif events[-1].phase != "done":
                fail(_C.PROGRESS, f"last event's phase is {events[-1].phase!r}, not 'done'")
    return out


#: At most this many cancel points are tried per problem (evenly spread over the run).
MAX_CANCEL_POINTS = 40


class _CancelAfter:
    """A cancel token that turns on at its ``(k+1)``-th ``is_set()`` call (``k=None``: never)."""

    def __init__(self, k: int | None) -> None:
        self.k = k
        self.calls = 0

    def is_set(self) -> bool:
        self.calls += 1
        return self.k is not None and self.calls > self.k


def _check_cancel(
    fam: Family, problem: Any, run: Callable[..., Any], fail: Callable[..., None]
) -> None:
    """Cancel at every point where the planner looks (up to :data:`MAX_CANCEL_POINTS`).

    A counting token first finds how often an uncancelled run looks at ``cancel``; a planner
    that never looks fails. Then the run is cancelled at the first look, and at looks spread
    over the whole run: each must return a result the verifier accepts, with status
    ``CANCELLED`` (or ``OPTIMAL``/``FEASIBLE`` when the cancel came after the last step that
    could still change the result) — never an exception, never a half-built result.
    """
    counter = _CancelAfter(None)
    if run("counting cancel looks", cancel=counter) is None:
        return
    looks = counter.calls
    if looks == 0:
        fail(_C.CANCEL, "the planner never looked at cancel")
        return
    step = max(1, looks // MAX_CANCEL_POINTS)
    for k in sorted({0, *range(0, looks, step)}):
        stopped = run(f"cancel at look {k + 1} of {looks}", cancel=_CancelAfter(k))
        if stopped is None:
            continue
        status = stopped.info.status
        if status is not SolveStatus.CANCELLED and status not in _FINISHED:
            fail(_C.CANCEL, f"status {status} after a cancel at look {k + 1} of {looks}")
        for v in fam.verify(problem, stopped).violations:
            fail(_C.CANCEL, f"result cancelled at look {k + 1} of {looks} invalid: {v}", v.code)


def _erlang_b_direct(c: int, a: float) -> float:
    terms = [a**k / math.factorial(k) for k in range(c + 1)]
    return terms[c] / sum(terms)


def _erlang_c_direct(c: int, a: float) -> float:
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def check_staffing() -> ConformanceReport:
    """Check the staffing formulas against independent computations and identities.

    Staffing has formulas, not a planner, so its conformance is a check of the formulas:
    Erlang B (computed by recursion) against the direct sum ``(aᶜ/c!) / Σₖ aᵏ/k!``; Erlang C
    against the direct formula ``(aᶜ/c!·c/(c−a)) / (Σ_{k<c} aᵏ/k! + aᶜ/c!·c/(c−a))``;
    Little's law ``L_q = λ·W_q``; the M/M/1 closed forms (``C = ρ``,
    ``W_q = ρ/(μ−λ)``, ``P(W > t) = ρ·e^{−(μ−λ)t}``) and ``service_level = 1 − P(W > t)``;
    and ``lanes_for_wait`` returning the fewest lanes that meet the target.

    Returns
    -------
    ConformanceReport
        ``family="staffing"``; each failure names the formula and the instance.

    References
    ----------
    Erlang, A. K. (1917). Solution of some problems in the theory of probabilities of
    significance in automatic telephone exchanges. *Elektroteknikeren* 13.
    Little, J. D. C. (1961). A proof for the queuing formula L = λW. *Operations Research*
    9(3), 383–387.
    """
    from commgov.scheduling import staffing as s

    failures: list[ConformanceFailure] = []
    names: list[str] = []

    def expect(instance: str, got: float, want: float, what: str) -> None:
        if instance not in names:
            names.append(instance)
        if not math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12):
            failures.append(ConformanceFailure(instance, _C.FORMULA, None,
                                               f"{what}: {got!r}, independently {want!r}"))

    for c, lam, mu in ((1, 30.0, 60.0), (2, 100.0, 60.0), (5, 200.0, 60.0), (12, 600.0, 60.0),
                       (30, 1500.0, 60.0)):
        a = lam / mu
        inst = f"c={c},λ={lam:g}/h,μ={mu:g}/h"
        expect(inst, s.erlang_b(c, a), _erlang_b_direct(c, a), "erlang_b")
        expect(inst, s.erlang_c(c, lam, mu), _erlang_c_direct(c, a), "erlang_c")
        expect(inst, s.mean_queue_length(c, lam, mu), lam * s.mean_wait_min(c, lam, mu) / 60,
               "Little's law L_q = λ·W_q")
        for t in (0.0, 1.5, 10.0):
            expect(inst, s.service_level(c, lam, mu, t),
                   1.0 - s.wait_exceeds_probability(c, lam, mu, t), "service level")
        if c == 1:
            rho = lam / mu
            expect(inst, s.erlang_c(1, lam, mu), rho, "M/M/1 C = ρ")
            expect(inst, s.mean_wait_min(1, lam, mu), 60 * rho / (mu - lam), "M/M/1 W_q")
            expect(inst, s.wait_exceeds_probability(1, lam, mu, 6.0),
                   rho * math.exp(-(mu - lam) * 0.1), "M/M/1 P(W > t)")
    for lam, minutes, target in ((300.0, 1.0, 5.0), (900.0, 0.6, 2.0), (570.0, 0.6, 0.5)):
        mu = 60.0 / minutes
        inst = f"lanes λ={lam:g}/h,{minutes:g}min/person,wait≤{target:g}min"
        names.append(inst)
        n = s.lanes_for_wait(lam, minutes, target)
        ok = s.mean_wait_min(n, lam, mu) <= target and (
            n == 1 or not s.is_stable(n - 1, lam, mu)
            or s.mean_wait_min(n - 1, lam, mu) > target)
        if not ok:
            failures.append(ConformanceFailure(inst, _C.FORMULA, None,
                                               f"lanes_for_wait gave {n}, not the fewest lanes "
                                               "meeting the mean-wait target"))
    return ConformanceReport(family="staffing", instances=names, failures=failures,
                             checks_run=list(STAFFING_CHECKS))


def parametrize_with_checks(families: Iterable[str] | None = None) -> Any:
    """A ``pytest.mark.parametrize`` over ``(family, check)`` pairs, as scikit-learn's.

    Use it on a test taking ``family`` and ``check``::

        from commgov.testing import check_planner, parametrize_with_checks

        @parametrize_with_checks()
        def test_conformance(family, check):
            check_planner(family, checks=[check]).raise_for_failures()

    For ``"staffing"`` the only check is ``FORMULA`` (run :func:`check_staffing`).

    Parameters
    ----------
    families : iterable of str, optional
        Families to include; every family (the seven with planners and ``"staffing"``) by
        default.

    Returns
    -------
    pytest.MarkDecorator
        With ids ``"<family>-<CHECK>"``.

    Raises
    ------
    KeyError
        If a family is unknown.
    commgov.errors.MissingExtraError
        If pytest is not installed.
    """
    try:
        import pytest
    except ImportError as exc:  # pragma: no cover - depends on the environment
        from commgov.errors import MissingExtraError

        raise MissingExtraError("pytest", "testing") from exc
    names = [*FAMILIES, "staffing"] if families is None else list(families)
    pairs: list[tuple[str, ConformanceCheck]] = []
    for name in names:
        if name == "staffing":
            pairs.extend((name, c) for c in STAFFING_CHECKS)
        else:
            family(name)
            pairs.extend((name, c) for c in PLANNER_CHECKS)
    return pytest.mark.parametrize(("family", "check"), pairs,
                                   ids=[f"{f}-{c.value}" for f, c in pairs])
