"""Solver options, declared once and validated once (private; the planners call it).

Every planner (``plan_sampling``, ``plan_door_to_door``, ``plan_notification``,
``plan_roster``, ``plan_relay``, ``match_volunteers``, ``allocate`` …) takes the same keywords
— ``method``, ``time_limit_s``, ``seed``, ``progress``, ``cancel`` and, where they apply,
``gap_limit``, ``deterministic_time``, ``effort``, ``strict`` — and checks them here, before any
work, against the one table :data:`OPTION_SPECS`. A bad value raises
:class:`~commgov.errors.InvalidParameterError` (both ``ValueError`` and ``TypeError``) naming
the planner, the option, the value and the rule. The layout follows scikit-learn's
``utils/_param_validation.py`` (``validate_params`` over declared ``Interval`` constraints).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from commgov.errors import InvalidParameterError

__all__ = [
    "MAX_TIME_LIMIT_S",
    "OPTION_SPECS",
    "Interval",
    "check_choice",
    "check_options",
    "check_options_interval",
    "check_timezone",
]

#: The longest time limit any planner accepts, in seconds (one hour). An app that embeds
#: commgov in a request handler should pass far less; a longer run is a research job for
#: :mod:`commgov.sim` sweeps, not one solve.
MAX_TIME_LIMIT_S: Final = 3600.0

#: Largest seed: CP-SAT's ``random_seed`` is a signed 32-bit integer.
MAX_SEED: Final = 2**31 - 1


@dataclass(frozen=True, slots=True)
class Interval:
    """A number of one kind within bounds, as scikit-learn's ``Interval`` constraint.

    Parameters
    ----------
    kind : type
        :class:`numbers.Integral` (``bool`` excluded) or :class:`numbers.Real` (``bool``
        excluded; ``nan`` and infinities refused).
    low, high : float or None
        Bounds, ``None`` for none.
    closed : {"both", "left", "right", "neither"}
        Which bounds are included.
    none_ok : bool
        Whether ``None`` is allowed (meaning "derive it").
    """

    kind: type
    low: float | None
    high: float | None
    closed: str = "both"
    none_ok: bool = False

    def describe(self) -> str:
        """The rule in words, for error messages."""
        what = "an integer" if self.kind is Integral else "a finite number"
        lo = "" if self.low is None else (
            f"{'≥' if self.closed in ('both', 'left') else '>'} {self.low:g}")
        hi = "" if self.high is None else (
            f"{'≤' if self.closed in ('both', 'right') else '<'} {self.high:g}")
        bounds = " and ".join(b for b in (lo, hi) if b)
        text = f"{what} {bounds}".strip()
        return f"{text} (or None)" if self.none_ok else text

    def accepts(self, value: object) -> bool:
        """Whether ``value`` is of the kind and within the bounds."""
        if value is None:
            return self.none_ok
        if isinstance(value, bool) or not isinstance(value, self.kind):
            return False
        x = float(value)  # type: ignore[arg-type]
        if not math.isfinite(x):
            return False
        low_open = self.closed in ("right", "neither")
        high_open = self.closed in ("left", "neither")
        if self.low is not None and (x < self.low or (x == self.low and low_open)):
            return False
        return not (self.high is not None and (x > self.high or (x == self.high and high_open)))


def _is_flag(value: object) -> bool:
    return isinstance(value, bool)


def _is_progress(value: object) -> bool:
    return value is None or callable(value)


def _is_cancel(value: object) -> bool:
    return value is None or callable(getattr(value, "is_set", None))


#: Every shared solver option: its rule (an :class:`Interval`, or a predicate and its words).
OPTION_SPECS: Final[dict[str, Interval | tuple[Callable[[object], bool], str]]] = {
    "time_limit_s": Interval(Real, 0.0, MAX_TIME_LIMIT_S, closed="right"),
    "seed": Interval(Integral, 0, MAX_SEED),
    "gap_limit": Interval(Real, 0.0, 1.0),
    "deterministic_time": Interval(Real, 0.0, MAX_TIME_LIMIT_S, closed="right", none_ok=True),
    "effort": Interval(Integral, 1, 1000),
    "strict": (_is_flag, "True or False"),
    "progress": (_is_progress, "a callable progress(event) or None"),
    "cancel": (_is_cancel, "an object with is_set() (a threading.Event) or None"),
}


def check_options(where: str, **values: Any) -> None:
    """Check solver options against :data:`OPTION_SPECS`.

    Parameters
    ----------
    where : str
        The planner's name, for the message (``"plan_sampling"``).
    **values
        Option name → value given. Every name must be declared in :data:`OPTION_SPECS`.

    Raises
    ------
    commgov.errors.InvalidParameterError
        For the first option (in the order given) of the wrong type or out of range.
    KeyError
        If a name is not declared (a programming error inside commgov).

    Notes
    -----
    O(number of options).

    Examples
    --------
    >>> check_options("plan_x", time_limit_s=10, seed=0)
    >>> check_options("plan_x", time_limit_s=float("nan"))
    Traceback (most recent call last):
    ...
    commgov.errors.InvalidParameterError: plan_x: time_limit_s must be a finite number > 0 \
and ≤ 3600, got nan
    """
    for name, value in values.items():
        spec = OPTION_SPECS[name]
        if isinstance(spec, Interval):
            if not spec.accepts(value):
                raise InvalidParameterError(name, value, spec.describe(), where)
        else:
            test, words = spec
            if not test(value):
                raise InvalidParameterError(name, value, words, where)


def check_options_interval(where: str, name: str, value: object, rule: Interval) -> None:
    """Check one family-specific number against its :class:`Interval` (same error, same words).

    Raises
    ------
    commgov.errors.InvalidParameterError
        If ``value`` is of the wrong kind or out of range.
    """
    if not rule.accepts(value):
        raise InvalidParameterError(name, value, rule.describe(), where)


def check_choice(where: str, name: str, value: object, choices: Iterable[str]) -> str:
    """Check that a string option (``method``, ``objective`` …) is one of ``choices``.

    Parameters
    ----------
    where : str
        The planner's name, for the message.
    name : str
        The option's name.
    value : object
        The value given.
    choices : iterable of str
        The allowed values.

    Returns
    -------
    str
        ``value``.

    Raises
    ------
    commgov.errors.InvalidParameterError
        If ``value`` is not one of ``choices``.
    """
    options = tuple(choices)
    if not isinstance(value, str) or value not in options:
        raise InvalidParameterError(name, value, f"one of {', '.join(map(repr, options))}",
                                    where)
    return value


def check_timezone(where: str, name: str, value: object) -> ZoneInfo:
    """Check that a time-zone option is a known IANA zone name (``"Asia/Shanghai"``).

    Returns
    -------
    zoneinfo.ZoneInfo
        The zone.

    Raises
    ------
    commgov.errors.InvalidParameterError
        If ``value`` is not a string naming a zone of the tz database.
    """
    from commgov.types import is_iana_zone

    if is_iana_zone(value):
        try:
            return ZoneInfo(str(value))
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    raise InvalidParameterError(name, value, "an IANA time-zone name (Asia/Shanghai)", where)
