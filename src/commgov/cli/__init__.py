"""The ``commgov`` command.

``commgov demo`` runs the main job on the embedded Gusu data: the district's real structure
from the official division codes, then for one community an exact sampling plan and the day's
volunteer assignment, written as JSON and CSV. ``commgov communities`` lists the codes.
``commgov lists import`` / ``commgov lists export`` convert the three lists between tables
(CSV or JSON rows) and their canonical JSON; ``commgov match`` solves a volunteer matching
problem given as JSON; ``commgov plan-sampling`` plans a sampling round given as JSON and
exports it (CSV, iCalendar, building notices); ``commgov plan-sites`` chooses and staffs
sampling sites for a problem given as JSON; ``commgov plan-supply-stations`` chooses supply
transit stations and the station of each compound; ``commgov simulate`` runs a scenario file,
optionally swept over varied fields, and writes its KPIs. Bad input exits with status 2
and writes nothing. The CLI is the only place that prints; errors are one line on stderr
with a non-zero exit; an error about a file names the file. Runs that last over two seconds
show a progress bar on stderr when it is a terminal, and none otherwise.

A command that writes a folder (``demo``, ``lists export``, ``match``, ``plan-sampling``,
``plan-sites``, ``plan-supply-stations``, ``simulate``) locks it while it runs (a second run
into it is refused at once), records what it wrote in ``.commgov-manifest.json`` and, when
it succeeds, removes the files its earlier run there wrote that it did not write again; a
non-empty folder it did not write is refused (exit 2) unless ``--force``. SIGINT, SIGTERM
and SIGHUP stop a command cleanly: no temporary file is left, one line is printed, and the
exit status is 128 + the signal number (130, 143, 129).

One module per command (``_demo``, ``_communities``, ``_lists``, ``_match``,
``_plan_sampling``, ``_plan_sites``, ``_plan_supply``, ``_simulate``) over the parser
(``_parser``), the shared output helpers (``_output``) and the progress bar (``_progress``).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Sequence

from commgov._files import OutputFolderNotOursError
from commgov.cli._communities import run_communities
from commgov.cli._demo import run_demo
from commgov.cli._lists import run_lists_export, run_lists_import
from commgov.cli._match import run_match
from commgov.cli._output import (
    EXIT_ERROR,
    EXIT_USAGE,
    _interrupted_line,
    _os_error_text,
    _release_claims,
    _shown_line,
    _signals_raise,
    _usage_error,
)
from commgov.cli._parser import build_parser
from commgov.cli._plan_sampling import run_plan_sampling
from commgov.cli._plan_sites import run_plan_sites
from commgov.cli._plan_supply import run_plan_supply
from commgov.cli._sensitivity import run_sensitivity_command
from commgov.cli._simulate import run_simulate
from commgov.errors import CommgovError, InputError, SizeLimitError

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``commgov`` command; returns the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 1 on an error in the data, the solve or a file, 2 on bad arguments or
        input, 128 + the signal number when SIGINT (130), SIGTERM (143) or SIGHUP (129)
        stopped it.

    Notes
    -----
    Every error is one line on stderr that names the file it concerns; an interruption is
    one line too, never a traceback. Output folders are locked while a command writes them
    and record what it wrote (see ``commgov._files.OutputFolder``).
    """
    for stream in (sys.stdout, sys.stderr):  # Chinese names on a non-UTF-8 console
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    args = build_parser().parse_args(argv)
    args.command_line = ["commgov", *(sys.argv[1:] if argv is None else argv)]
    logging.basicConfig(level=logging.WARNING, format="commgov: %(message)s")
    try:
        return _main(args)
    except KeyboardInterrupt as exc:  # a stop signal while the handlers were set or undone
        line, code = _interrupted_line(exc)
        print(line, file=sys.stderr)
        return code


def _main(args: argparse.Namespace) -> int:
    """:func:`main` once the arguments are parsed: the command under the stop signals."""
    with _signals_raise():
        try:
            code = _run(args)
            _release_claims(ok=True)
            return code
        except KeyboardInterrupt as exc:  # also Interrupted: SIGTERM, SIGHUP
            with contextlib.suppress(OSError):
                _release_claims(ok=False)
            line, code = _interrupted_line(exc)
            print(line, file=sys.stderr)
            return code
        except (InputError, SizeLimitError) as exc:  # bad or too large input: as bad arguments
            with contextlib.suppress(OSError):
                _release_claims(ok=False)
            return _usage_error(str(exc))
        except CommgovError as exc:
            first = str(exc).splitlines()
            detail = f" ({first[1].strip()})" if len(first) > 1 else ""
            print(f"commgov: error: {_shown_line(first[0] + detail)}", file=sys.stderr)
            return EXIT_ERROR
        except BrokenPipeError:
            # the reader went away (commgov communities | head): stop quietly, as the Python
            # docs advise, pointing stdout at devnull so the interpreter's final flush cannot
            # fail
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            with contextlib.suppress(OSError):
                _release_claims(ok=True)  # the files were written before the report
            return EXIT_ERROR
        except OutputFolderNotOursError as exc:
            return _usage_error(_os_error_text(exc))
        except OSError as exc:
            print(f"commgov: error: {_shown_line(_os_error_text(exc))}", file=sys.stderr)
            return EXIT_ERROR
        finally:
            with contextlib.suppress(OSError):
                _release_claims(ok=False)  # after an error; nothing left after success


def _run(args: argparse.Namespace) -> int:
    """Dispatch to the command's module; returns its exit status."""
    if args.command == "demo":
        return run_demo(args)
    if args.command == "communities":
        return run_communities()
    if args.command == "lists":
        if args.lists_command == "import":
            return run_lists_import(args)
        if args.lists_command == "export":
            return run_lists_export(args)
        return _usage_error("lists needs an action: import or export (commgov lists -h)")
    if args.command == "match":
        return run_match(args)
    if args.command == "simulate":
        return run_simulate(args)
    if args.command == "sensitivity":
        return run_sensitivity_command(args)
    if args.command == "plan-sampling":
        return run_plan_sampling(args)
    if args.command == "plan-sites":
        return run_plan_sites(args)
    if args.command == "plan-supply-stations":
        return run_plan_supply(args)
    build_parser().print_help()
    return EXIT_USAGE
