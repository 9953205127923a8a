"""What every command shares: exit statuses, error lines, signals, the ``--out`` folder.

The CLI is the only part of commgov that prints; errors are one line on stderr (a few more,
indented, when a file has several problems) with a non-zero exit status.

Signals: while a command runs, SIGTERM and SIGHUP raise :class:`Interrupted` (as SIGINT
raises ``KeyboardInterrupt``), so the one writer's clean-up (:func:`commgov.io.write_texts`
removes its temporary files and restores the targets) and the output folder's release run;
:func:`commgov.cli.main` then prints one line and returns 128 + the signal number (130 for
SIGINT, 143 for SIGTERM, 129 for SIGHUP). A signal ignored when the command starts (``nohup``)
stays ignored.

Output folders: every command that writes a folder claims it with :func:`_claim_out` (an
:class:`commgov._files.OutputFolder`: locked, checked, its earlier run's stale files removed
at the end); ``main`` releases the claims.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

from commgov._files import OutputFolder
from commgov._redact import escaped

#: Exit status of bad arguments or bad input (nothing is written).
EXIT_USAGE = 2

#: Exit status of an error in the data or the solve.
EXIT_ERROR = 1


#: Most lines and characters per line of one error the command line prints.
MAX_ERROR_LINES = 25
MAX_ERROR_LINE_CHARS = 400


def _shown_line(text: str) -> str:
    """One line of an error as the terminal gets it: phone and identity numbers masked,
    control characters escaped, bounded (the one rule of :mod:`commgov._redact`)."""
    return escaped(text, MAX_ERROR_LINE_CHARS)


def _scenario_args_error(out: Path, scenario: Path) -> str | None:
    """The usage error of a command that reads a scenario file into a folder (``simulate``,
    ``sensitivity``): ``--out`` not a folder, a file that is not ``.toml``/``.json``, or no
    such file; ``None`` when both are fine."""
    if out.exists() and not out.is_dir():
        return f"--out {str(out)!r} exists and is not a folder"
    if scenario.suffix.lower() not in (".toml", ".json"):
        return f"{scenario}: a scenario file ends in .toml or .json"
    if not scenario.is_file():
        return f"{scenario}: no such file"
    return None


def _usage_error(message: str) -> int:
    """Print a (possibly multi-line) error on stderr; exit status 2 (bad input).

    Every error of the command line is printed here or through :func:`_shown_line`: masked,
    escaped, at most :data:`MAX_ERROR_LINES` lines.
    """
    lines = message.splitlines() or [""]
    print(f"commgov: error: {_shown_line(lines[0])}", file=sys.stderr)
    for line in lines[1:MAX_ERROR_LINES]:
        print(f"  {_shown_line(line.strip())}", file=sys.stderr)
    if len(lines) > MAX_ERROR_LINES:
        print(f"  ... and {len(lines) - MAX_ERROR_LINES} more lines", file=sys.stderr)
    return EXIT_USAGE


class Interrupted(KeyboardInterrupt):
    """A signal (SIGTERM, SIGHUP, or SIGINT) stopped the command; ``signum`` says which.

    A ``KeyboardInterrupt``, so ``except Exception`` never swallows it and everything that
    cleans up after Ctrl+C cleans up after it too.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


#: Signals turned into :class:`Interrupted` while a command runs (SIGHUP where it exists).
_STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


@contextlib.contextmanager
def _signals_raise() -> Iterator[None]:
    """While the block runs, SIGINT/SIGTERM/SIGHUP raise :class:`Interrupted`, once.

    The first signal raises and puts the previous handlers back, so the clean-up it starts
    runs, and a second signal (Ctrl+C pressed again, a second ``kill``) has its usual effect
    at once — it forces the end, and the next run into the folder clears any temporary file
    that forced end leaves. Signals that are ignored (``nohup``) or handled by the caller stay
    as they are; nothing is installed outside the main thread.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Any] = {}

    def handler(signum: int, frame: object) -> None:
        for number, old in previous.items():
            signal.signal(number, old)
        raise Interrupted(signum)

    wanted = [
        signum
        for signum in _STOP_SIGNALS
        if signal.getsignal(signum) in (signal.SIG_DFL, signal.default_int_handler)
    ]
    STOP.clear()
    # the watcher first: a signal while its thread starts has its default effect, not a
    # handler's exception in the middle of the set-up
    watcher = _watch_wakeup() if wanted else None
    for signum in wanted:
        previous[signum] = signal.signal(signum, handler)
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
        if watcher is not None:
            watcher()


#: Set as soon as a stop signal arrives, even while the main thread is inside a solver's C
#: code (where Python's own handler cannot run until the solver returns): the commands pass it
#: to the planners as ``cancel``, so a CP-SAT or routing search stops within about a second.
STOP = threading.Event()


def _watch_wakeup() -> Any:
    """Have the C-level signal handler wake a thread that sets :data:`STOP`.

    :func:`signal.set_wakeup_fd` makes the interpreter write a byte to a socket the moment a
    signal arrives, before the Python-level handler gets to run; a daemon thread waiting on the
    other end sets :data:`STOP`. Returns the function that undoes it.
    """
    import socket

    reader, writer = socket.socketpair()
    writer.setblocking(False)
    try:
        old = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    except ValueError:  # not the main thread after all
        reader.close()
        writer.close()
        return None

    def wait() -> None:
        with contextlib.suppress(OSError):
            if reader.recv(1):
                STOP.set()

    threading.Thread(target=wait, name="commgov-stop-signal", daemon=True).start()

    def undo() -> None:
        signal.set_wakeup_fd(old)
        writer.close()  # the thread's recv returns b"" (or fails) and it ends
        with contextlib.suppress(OSError):
            reader.shutdown(socket.SHUT_RDWR)
        reader.close()

    return undo


def _interrupted_line(exc: KeyboardInterrupt) -> tuple[str, int]:
    """The one stderr line and the exit status (128 + signal number) of an interruption."""
    signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
    name = signal.Signals(signum).name
    why = "Ctrl+C" if signum == signal.SIGINT else name
    return (
        f"commgov: interrupted ({why}); files already written are whole, temporary files removed",
        128 + signum,
    )


def _os_error_text(exc: OSError) -> str:
    """An OSError as one line that always names its file(s) when it has any."""
    text = exc.strerror or str(exc)
    names = [os.fsdecode(n) for n in (exc.filename, exc.filename2) if n is not None]
    missing = [n for n in names if n not in text]
    return f"{' → '.join(missing)}: {text}" if missing else text


#: Output folders claimed by the running command; :func:`_release_claims` closes them.
_CLAIMED: list[OutputFolder] = []


def _command_name(args: argparse.Namespace) -> str:
    name = str(args.command)
    sub = getattr(args, "lists_command", None)
    return f"{name} {sub}" if sub else name


def _claim_out(args: argparse.Namespace) -> OutputFolder:
    """Claim ``args.out`` for this command (before the solve, so a bad --out fails first).

    Creates the folder, locks it against a second writer, refuses a non-empty folder that
    the same command did not write (unless ``--force``); write into it with
    ``folder.write(...)``. ``main`` closes it when the command ends.

    Raises
    ------
    commgov._files.OutputFolderBusyError, commgov._files.OutputFolderNotOursError
        Another run holds the folder; the folder is not this command's.
    OSError
        If the folder cannot be created or written; the message names it.
    """
    from commgov._files import OutputFolderBusyError, OutputFolderNotOursError

    out: Path = args.out
    try:
        folder = OutputFolder(out, _command_name(args), force=getattr(args, "force", False))
    except (OutputFolderBusyError, OutputFolderNotOursError):
        raise
    except OSError as exc:
        raise OSError(
            exc.errno, f"cannot write to --out folder {str(out)!r}: {_os_error_text(exc)}", str(out)
        ) from exc
    _CLAIMED.append(folder)
    return folder


def _release_claims(*, ok: bool) -> None:
    """Close every claimed output folder (see :meth:`OutputFolder.close`)."""
    failed: list[OSError] = []
    while _CLAIMED:
        try:
            _CLAIMED.pop().close(ok=ok)
        except OSError as exc:
            failed.append(exc)
    if failed:
        raise failed[0]


def _read_input(path: Path, out: Path) -> str | int:
    """The input file's text, or the exit status of a usage error.

    Shared by the commands that read one file and write a folder: ``--out`` must not be an
    existing non-folder, and the file must be readable UTF-8 text within the reader's size
    limit (the one reader, :func:`commgov._input.read_text`).
    """
    from commgov._input import read_text

    if out.exists() and not out.is_dir():
        return _usage_error(f"--out {str(out)!r} exists and is not a folder")
    try:
        return read_text(path)
    except OSError as exc:
        return _usage_error(f"cannot read {path}: {exc.strerror or exc}")
    except ValueError as exc:  # not UTF-8, or larger than the reader's limit
        return _usage_error(f"cannot read {path}: {exc}")


def _n(count: int, noun: str) -> str:
    """``1 building``, ``2 buildings``, ``1,765 households``, ``2 batches``, ``3 people``."""
    if count == 1:
        return f"1 {noun}"
    plural = {"person": "people", "batch": "batches"}.get(noun, noun + "s")
    return f"{count:,} {plural}"


def _first_code(item: Any) -> str:
    """The code of an item's first reason (``"UNKNOWN"`` when it has none)."""
    return str(item.reasons[0].code) if item.reasons else "UNKNOWN"


def _report_left_out(problem: Any) -> None:
    """Say what the problem's builder left out (``problem.left_out``), by reason, on stderr."""
    left = getattr(problem, "left_out", ())
    if not left:
        return
    by_code: dict[str, list[str]] = {}
    for r in left:
        by_code.setdefault(str(r.code), []).append(r.record)
    parts = [f"{len(ids)} × {code} (e.g. {_shown_line(ids[0])})"
             for code, ids in sorted(by_code.items())]
    print(f"note: the problem's builder left out {_n(len(left), 'record')}: "
          + "; ".join(parts) + " — see the problem's left_out", file=sys.stderr)


P = TypeVar("P")


def _load_problem(args: argparse.Namespace, problem_type: type[P]) -> P | int:
    """The problem file ``args.problem`` read with ``--crs``, its ``left_out`` reported; or
    the exit status of a usage error (unreadable, too large, invalid: masked, bounded)."""
    from commgov.errors import ProblemError

    text = _read_input(args.problem, args.out)
    if isinstance(text, int):
        return text
    try:
        problem = problem_type.model_validate_json(  # type: ignore[attr-defined]
            text, context=None if args.crs is None else {"crs": args.crs}
        )
    except ProblemError as exc:
        return _usage_error(f"{args.problem}: {exc}")
    _report_left_out(problem)
    return problem  # type: ignore[no-any-return]


def _require_verified(report: Any) -> None:
    """Refuse to write a plan its verifier rejects (a :class:`~commgov.errors.SolverError`
    naming the count and the first violation; the command then writes nothing)."""
    from commgov.errors import SolverError

    if not report:
        first = report.violations[0] if report.violations else "?"
        raise SolverError(
            f"the plan failed verification ({len(report.violations)} violation(s); first: "
            f"{first}); nothing written"
        )
