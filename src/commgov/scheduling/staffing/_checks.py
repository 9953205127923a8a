"""The one argument check of the staffing formulas (private).

Every formula checks its arguments here, against an :class:`commgov._options.Interval`, and a
bad one raises :class:`~commgov.errors.InvalidParameterError` (both ``ValueError`` and
``TypeError``) naming the function, the argument, the rule and the value.
"""

from __future__ import annotations

from numbers import Integral, Real

from commgov._options import Interval
from commgov.errors import InvalidParameterError

__all__ = ["MAX_COUNT", "MAX_FIGURE", "MAX_SERVERS", "check_arg", "count", "rate"]

#: Largest whole-number argument (residents, lanes searched …): far above any real figure,
#: low enough that no formula loops for long or overflows.
MAX_COUNT = 10**9
#: Most servers (lanes) a formula takes: its recursion is O(servers).
MAX_SERVERS = 1_000_000
#: Largest rate, load or duration argument (per hour, minutes …): keeps products and
#: exponentials of the formulas finite.
MAX_FIGURE = 1.0e9
#: A whole number in [0, MAX_COUNT] (servers, residents …).
COUNT = Interval(Integral, 0, MAX_COUNT)
#: A finite number in [0, MAX_FIGURE].
NON_NEGATIVE = Interval(Real, 0.0, MAX_FIGURE)
#: A finite number in (0, MAX_FIGURE].
POSITIVE = Interval(Real, 0.0, MAX_FIGURE, closed="right")


def check_arg(where: str, name: str, value: object, rule: Interval) -> float:
    """Check one argument of ``where`` against ``rule``; return it as a float.

    Raises
    ------
    commgov.errors.InvalidParameterError
        If ``value`` is not of the rule's kind or outside its bounds (``nan`` and infinities
        are refused).

    Examples
    --------
    >>> check_arg("erlang_c", "arrival_rate", 2, NON_NEGATIVE)
    2.0
    >>> check_arg("erlang_c", "arrival_rate", -1.0, NON_NEGATIVE)
    Traceback (most recent call last):
    ...
    commgov.errors.InvalidParameterError: erlang_c: arrival_rate must be a finite number ≥ 0 \
and ≤ 1e+09, got -1.0
    """
    if not rule.accepts(value):
        raise InvalidParameterError(name, value, rule.describe(), where)
    assert isinstance(value, Real)
    return float(value)


def count(where: str, name: str, value: object, low: int = 0, high: int = MAX_COUNT) -> int:
    """A whole-number argument in [``low``, ``high``] (``bool`` refused)."""
    rule = COUNT if (low, high) == (0, MAX_COUNT) else Interval(Integral, low, high)
    check_arg(where, name, value, rule)
    assert isinstance(value, Integral)
    return int(value)


def rate(where: str, name: str, value: object, *, positive: bool = False) -> float:
    """A finite argument ≥ 0 (``> 0`` when ``positive``)."""
    return check_arg(where, name, value, POSITIVE if positive else NON_NEGATIVE)
