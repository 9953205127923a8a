"""The one progress display of the CLI: a tqdm bar on stderr, for runs that take a while.

:class:`ProgressBar` is a context manager and a callback at once. Called with a
:class:`commgov.ProgressEvent` it is the ``progress=`` keyword of a planner; its
:meth:`~ProgressBar.count` is the ``progress(done, total)`` callback of
:func:`commgov.sim.run_sweep`. It draws only when stderr is a terminal, and only once the run
has lasted :data:`DELAY_S` seconds, so quick runs and output sent to a pipe or a file stay
exactly as they were; otherwise every call is a no-op. Drawing never changes a result.
"""

from __future__ import annotations

import os
import sys
import time
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from commgov import ProgressEvent

__all__ = ["DELAY_S", "ProgressBar"]

#: Seconds a run lasts before its bar appears (the bar is for runs that may take longer).
DELAY_S = 2.0

#: Least seconds between two redraws within a phase (planners already throttle their events
#: and a new phase is always drawn; sweeps report every batch).
REDRAW_S = 0.1

_PLANNER_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {elapsed}{postfix}"
_PHASE_FORMAT = "{desc}: {elapsed}{postfix}"  # a phase that tells no share done
_COUNT_FORMAT = (
    "{desc}: {n_fmt}/{total_fmt} {unit} |{bar}| {percentage:3.0f}% [{elapsed}<{remaining}]"
)


def _is_terminal(stream: IO[str] | Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False


def _sized(stream: IO[str] | Any) -> bool:
    """Whether the terminal reports its size (some pseudo-terminals say 0 × 0)."""
    try:
        size = os.get_terminal_size(stream.fileno())
    except (AttributeError, ValueError, OSError):
        return False
    return size.columns > 0 and size.lines > 0


def _number(value: float) -> str:
    value = float(value)
    return f"{value:,.0f}" if value.is_integer() or abs(value) >= 1000 else f"{value:.4g}"


class ProgressBar:
    """A progress bar on stderr that appears after :data:`DELAY_S` seconds on a terminal.

    Parameters
    ----------
    label : str
        What runs (``"sampling plan"``); the bar's prefix.
    unit : str, optional
        Counted units (``"replicates"``) when fed by :meth:`count`; planner events show a
        percentage instead.
    delay_s : float, optional
        Seconds before the bar appears (default :data:`DELAY_S`).

    Notes
    -----
    Whether to draw is decided on entering the ``with`` block, from ``sys.stderr.isatty()``
    at that moment. Each call costs O(1); within a phase, redraws are at most one per
    :data:`REDRAW_S` seconds, except the last.

    Examples
    --------
    >>> with ProgressBar("sampling plan") as progress:  # doctest: +SKIP
    ...     plan = plan_sampling(problem, progress=progress)
    """

    def __init__(self, label: str, *, unit: str | None = None, delay_s: float = DELAY_S) -> None:
        self.label = label
        self.unit = unit
        self.delay_s = delay_s
        self._stream: IO[str] | None = None
        self._start = 0.0
        self._last = -float("inf")
        self._bar: Any = None
        self._phase: str | None = None
        self._fraction: float | None = None

    def __enter__(self) -> ProgressBar:
        self._stream = sys.stderr if _is_terminal(sys.stderr) else None
        self._start = time.monotonic()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def active(self) -> bool:
        """Whether this bar may draw (stderr was a terminal on entering)."""
        return self._stream is not None

    # ---- the two callbacks ------------------------------------------------------------------

    def __call__(self, event: ProgressEvent) -> None:
        """A planner's ``progress`` callback: phase, share done, incumbent and bound."""
        if self._stream is None:
            return
        new_phase = event.phase != self._phase
        if new_phase:
            self._phase = event.phase
            self._fraction = None
        if event.fraction is not None:
            self._fraction = min(max(float(event.fraction), 0.0), 1.0)
        final = event.phase == "done"
        parts = [event.phase]
        if event.incumbent is not None:
            parts.append(f"best {_number(event.incumbent)}")
        if event.bound is not None:
            parts.append(f"bound {_number(event.bound)}")
        fraction = 1.0 if final else self._fraction
        self._draw(
            fraction or 0.0,
            1.0,
            ", ".join(parts),
            final,
            force=new_phase,
            bar_format=_PHASE_FORMAT if fraction is None else _PLANNER_FORMAT,
        )

    def count(self, done: int, total: int) -> None:
        """A sweep's ``progress(done, total)`` callback."""
        if self._stream is None:
            return
        self._draw(done, max(total, 1), "", done >= total)

    # ---- drawing ----------------------------------------------------------------------------

    def _draw(
        self,
        n: float,
        total: float,
        postfix: str,
        final: bool,
        *,
        force: bool = False,
        bar_format: str = _COUNT_FORMAT,
    ) -> None:
        now = time.monotonic()
        if self._bar is None and now - self._start < self.delay_s:
            return  # a quick run: never drawn
        if not (final or force) and now - self._last < REDRAW_S:
            return
        self._last = now
        bar = self._bar or self._open(n, total, postfix, bar_format)
        bar.bar_format = bar_format
        bar.total = total
        bar.n = n
        bar.set_postfix_str(postfix, refresh=False)
        bar.refresh()
        if final:
            self.close()

    def _open(self, n: float, total: float, postfix: str, bar_format: str) -> Any:
        from tqdm import tqdm  # type: ignore[import-untyped,unused-ignore]

        self._bar = tqdm(
            total=total,
            initial=n,  # tqdm draws on opening: draw the current state
            postfix=postfix or None,
            desc=self.label,
            unit=self.unit or "",
            file=self._stream,
            bar_format=bar_format,
            # follow the terminal's width; 80 columns where it reports no size (tqdm would
            # hide the bar in a terminal of 0 rows)
            **({"dynamic_ncols": True} if _sized(self._stream) else {"ncols": 80, "nrows": 20}),
            leave=True,
            mininterval=0,  # this class throttles its redraws
        )
        self._bar.start_t -= time.monotonic() - self._start  # elapsed counts from the run's start
        return self._bar

    def close(self) -> None:
        """Draw the bar one last time and end its line (if it was ever drawn)."""
        bar, self._bar = self._bar, None
        self._stream = None
        if bar is not None:
            bar.close()
