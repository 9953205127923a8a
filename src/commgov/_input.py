"""The one reader of input files and texts: JSON, TOML, CSV — the same rules everywhere.

Every file or text commgov reads (organisation models, problems, scenarios, the three lists,
division tables, imported tables, sweep stores, CLI inputs) goes through here, so the rules are
one:

* bytes are UTF-8 (a byte-order mark is dropped); anything else is an issue saying where and
  what it looks like instead (UTF-16, binary, GBK/GB18030);
* a file or text above :data:`MAX_INPUT_BYTES` and a table above :data:`MAX_TABLE_ROWS` rows
  are refused (:class:`~commgov.errors.SizeLimitError`) *before* they are parsed;
* JSON: a key twice in one object, ``NaN``/``Infinity`` and nesting deeper than the parser
  can follow are errors; a syntax error names line and column and shows no excerpt of the
  input (it may hold personal data);
* TOML (:mod:`tomllib`, TOML 1.0): ``nan`` and ``inf`` are errors, as in JSON;
* CSV (RFC 4180, :mod:`csv` in strict mode): one dialect for every table — comma, double
  quotes, spaces after a comma skipped (so ``310107, "普陀区"`` reads the name without its
  quote marks), a quote that closes a field must be followed by a comma or the line end.

Parsing never imports or runs anything named by the data.

References
----------
T. Bray (ed.), *The JavaScript Object Notation (JSON) Data Interchange Format*, RFC 8259
(2017), §4 ("The names within an object SHOULD be unique").
Y. Shafranovich, *Common Format and MIME Type for Comma-Separated Values (CSV) Files*,
RFC 4180 (2005).
T. Preston-Werner et al., *TOML v1.0.0* (2021).
"""

from __future__ import annotations

import codecs
import csv
import errno
import io
import json
import math
import os
import stat
import tomllib
from collections import Counter
from collections.abc import Iterator
from os import PathLike
from pathlib import Path
from typing import Any, Final

from commgov.errors import InputError, InputIssue, check_size

__all__ = [
    "MAX_INPUT_BYTES",
    "MAX_JSON_OBJECTS",
    "MAX_TABLE_ROWS",
    "check_rows",
    "csv_rows",
    "decode_utf8",
    "parse_json",
    "parse_toml",
    "read_text",
]

#: Largest input file or text read, in bytes (128 MiB: five times the whole of Gusu as an
#: organisation model, eight times a district matching problem).
MAX_INPUT_BYTES: Final = 128 * 2**20

#: Most JSON objects one input may hold (Gusu's whole organisation model holds about 200,000).
MAX_JSON_OBJECTS: Final = 4_000_000

#: Most rows one table (a CSV file or a JSON array of rows) may have.
MAX_TABLE_ROWS: Final = 200_000

_NUL = b"\x00"


def _check_bytes(size: int, label: str) -> None:
    check_size(
        f"{label}: input size in bytes",
        size,
        MAX_INPUT_BYTES,
        "split the input into smaller files (by community or by list)",
    )


def read_text(path: str | PathLike[str], *, label: str | None = None) -> str:
    """The text of a UTF-8 file, its size checked before it is read.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    label : str, optional
        What to call it in errors (default: the file name).

    Returns
    -------
    str
        The text, without a byte-order mark.

    Raises
    ------
    commgov.errors.SizeLimitError
        If the file is larger than :data:`MAX_INPUT_BYTES` (from its size on disk, before
        reading).
    commgov.errors.InputError
        If it is no UTF-8 text (an issue on field ``"encoding"`` naming the line).
    OSError
        If it cannot be read (``FileNotFoundError``, ``IsADirectoryError`` …); the message
        names the path.

    Notes
    -----
    O(size of the file).
    """
    file = Path(path)
    name = label or file.name or str(file)
    try:
        if file.is_dir():
            raise IsADirectoryError(21, "is a folder, not a file", str(file))
        # /dev/zero, a FIFO, a socket: no end, or no writer (opening a FIFO would block)
        if not stat.S_ISREG(os.stat(file).st_mode):
            raise OSError(errno.EINVAL, "is not a regular file", str(file))
        with open(file, "rb") as fh:
            _check_bytes(os.fstat(fh.fileno()).st_size, name)
            data = fh.read(MAX_INPUT_BYTES + 1)  # a file that grows while read is still bounded
        _check_bytes(len(data), name)
    except FileNotFoundError as exc:
        raise FileNotFoundError(exc.errno, "no such file", str(file)) from None
    except IsADirectoryError:
        raise
    except OSError as exc:
        raise type(exc)(exc.errno, exc.strerror or str(exc), str(file)) from None
    text = decode_utf8(data, name)
    if isinstance(text, InputIssue):
        raise InputError([text], what=f"{name} is not UTF-8 text")
    return text


def _as_text(text: str | bytes | bytearray | memoryview, label: str, what: str) -> str:
    if isinstance(text, bytes | bytearray | memoryview):
        _check_bytes(len(text), label)
        decoded = decode_utf8(bytes(text), label)
        if isinstance(decoded, InputIssue):
            raise InputError([decoded], what=what)
        return decoded
    if not isinstance(text, str):
        raise TypeError(f"{what}: expected text (str or bytes), not {type(text).__name__}")
    _check_bytes(len(text), label)
    return text.removeprefix("\ufeff")


def parse_json(
    text: str | bytes | bytearray | memoryview,
    *,
    label: str = "json",
    what: str = "JSON input",
    error: type[InputError] = InputError,
    max_objects: int | None = None,
) -> Any:
    """Parse JSON text by the rules of this module.

    Parameters
    ----------
    text : str or bytes
        The JSON text (bytes as UTF-8).
    label : str, default "json"
        What the text is (a file name), for the issue's record (``"{label}:line N"``).
    what : str, default "JSON input"
        What was being read, for the first line of the message.
    error : type of InputError, default InputError
        The error class to raise (``ProblemError`` for problems …).
    max_objects : int, optional
        Most JSON objects the text may hold (default :data:`MAX_JSON_OBJECTS`), counted as
        opening braces before parsing: a text of millions of small records is refused in a
        fraction of a second instead of being built (each object costs a few hundred bytes
        once parsed).

    Returns
    -------
    object
        The parsed value (dicts, lists, str, int, float, bool, None).

    Raises
    ------
    commgov.errors.InputError
        Of class ``error``: empty text, a syntax error (line and column, no excerpt), a key
        that appears twice in one object (the key and how often, never the values), ``NaN``
        or ``Infinity``, an integer of more than 4,300 digits, or nesting too deep to read.
    commgov.errors.SizeLimitError
        If the text is longer than :data:`MAX_INPUT_BYTES` or holds more than
        ``max_objects`` objects.
    TypeError
        If ``text`` is not str or bytes.

    Notes
    -----
    O(len(text)): the standard library's C parser, with one hook per object for the
    duplicate-key check.

    Examples
    --------
    >>> parse_json('{"a": 1}')
    {'a': 1}
    >>> parse_json('{"a": 1, "a": 2}')
    Traceback (most recent call last):
    ...
    commgov.errors.InputError: JSON input: 1 problem
      - json.a = '<2 values>': appears more than once in one object (2 times): keys must be unique
    """
    max_objects = MAX_JSON_OBJECTS if max_objects is None else max_objects
    body = _as_text(text, label, what)
    if not body.strip():
        raise error.single(label, "", "", "is empty: expected a JSON value", what=what)
    check_size(
        f"{label}: JSON objects in one input",
        body.count("{"),  # an upper bound, counted at C speed before anything is built
        max_objects,
        "split the input (by community or by list), or pass fewer records at once",
    )
    try:
        return json.loads(body, parse_constant=_no_constant, object_pairs_hook=_unique_keys)
    except _DuplicateKeyError as exc:
        rid = exc.data.get("id")
        where = f"{label} object with id {rid}" if isinstance(rid, str) else label
        issues = [
            InputIssue(where, key, f"<{n} values>",
                       f"appears more than once in one object ({n} times): keys must be unique")
            for key, n in exc.repeated
        ]
        raise error(issues, what=what) from None
    except json.JSONDecodeError as exc:
        raise error.single(
            f"{label}:line {exc.lineno}",
            "",
            f"<text at line {exc.lineno}, column {exc.colno}>",
            f"is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
            what=what,
        ) from None
    except RecursionError:
        raise error.single(
            label, "", f"<{len(body)} characters>",
            "is nested too deeply to read (JSON arrays and objects nested hundreds deep)",
            what=what,
        ) from None
    except ValueError as exc:  # NaN/Infinity, or an integer too long to convert
        raise error.single(
            label, "", f"<{len(body)} characters>",
            f"is not valid JSON: {str(exc).split(';')[0][:100]}", what=what,
        ) from None


class _DuplicateKeyError(ValueError):
    def __init__(self, data: dict[str, Any], repeated: list[tuple[str, int]]) -> None:
        super().__init__("duplicate key")
        self.data = data
        self.repeated = repeated


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON value (write a number or null)")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(pairs)
    if len(data) != len(pairs):
        counts = Counter(key for key, _ in pairs)
        raise _DuplicateKeyError(data, [(k, n) for k, n in counts.items() if n > 1])
    return data


def parse_toml(
    text: str | bytes | bytearray | memoryview,
    *,
    label: str = "toml",
    what: str = "TOML input",
    error: type[InputError] = InputError,
) -> dict[str, Any]:
    r"""Parse TOML text (TOML 1.0, :mod:`tomllib`) by the rules of this module.

    Parameters and errors are as in :func:`parse_json`: a key defined twice and a syntax error
    give the line and column (TOML itself refuses duplicate keys), ``nan`` and ``inf`` are
    refused with the dotted key that holds them, and the text is bounded by
    :data:`MAX_INPUT_BYTES`.

    Returns
    -------
    dict
        The parsed table.

    Notes
    -----
    O(len(text)).

    Examples
    --------
    >>> parse_toml("a = 1")
    {'a': 1}
    >>> parse_toml("[t]\na = [1.0, nan]")
    Traceback (most recent call last):
    ...
    commgov.errors.InputError: TOML input: 1 problem
      - toml.t.a[1] = nan: is not a finite number: nan and inf are not accepted
    """
    body = _as_text(text, label, what)
    try:
        data = tomllib.loads(body, parse_float=_float_or_marker)
    except tomllib.TOMLDecodeError as exc:
        raise error.single(
            label, "", "<text>", f"is not valid TOML: {str(exc)[:160]}", what=what
        ) from None
    except RecursionError:
        raise error.single(
            label, "", f"<{len(body)} characters>", "is nested too deeply to read", what=what
        ) from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise error.single(
            label, "", f"<{len(body)} characters>",
            f"is not valid TOML: {str(exc).split(';')[0][:100]}", what=what,
        ) from None
    issues = [
        InputIssue(label, path, value, "is not a finite number: nan and inf are not accepted")
        for path, value in _non_finite(data, "")
    ]
    if issues:
        raise error(issues, what=what)
    return data


class _NonFinite(float):
    """A TOML ``nan``/``inf``, marked so that the error can name its key."""


def _float_or_marker(text: str) -> float:
    value = float(text)
    return value if math.isfinite(value) else _NonFinite(value)


def _non_finite(node: object, path: str) -> Iterator[tuple[str, float]]:
    if isinstance(node, _NonFinite):
        yield path, float(node)
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _non_finite(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _non_finite(value, f"{path}[{i}]")


def csv_rows(text: str, *, label: str) -> Iterator[tuple[int, list[str]]]:
    """The rows of CSV text, numbered as a spreadsheet shows them (the first row is 1).

    One dialect for every table commgov reads (RFC 4180, strict): comma-separated, fields
    quoted with ``"`` (``""`` inside a quoted field), spaces after a comma skipped, so that
    ``a, "b"`` and ``a,"b"`` read alike; a quote that ends a field must be followed by a
    comma or the line end.

    Parameters
    ----------
    text : str
        The CSV text.
    label : str
        What the text is (a file name), for errors.

    Yields
    ------
    tuple of (int, list of str)
        Row number (a record whose quoted cell spans lines is one row) and its cells.

    Raises
    ------
    commgov.errors.SizeLimitError
        Before the first row, when the text has more than :data:`MAX_TABLE_ROWS` lines.
    commgov.errors.InputError
        Where the text is not valid CSV (the line named).

    Notes
    -----
    O(len(text)).
    """
    check_size(
        f"{label}: rows in one table",
        text.count("\n") - 1,
        MAX_TABLE_ROWS,
        "split the table into several files (by community or by date)",
    )
    reader = csv.reader(io.StringIO(text, newline=""), strict=True, skipinitialspace=True)
    row = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError.single(
                f"{label}:line {reader.line_num}", "", "<text>", f"is not valid CSV: {exc}",
                what=f"{label} is not valid CSV",
            ) from None
        row += 1
        yield row, cells


def check_rows(count: int, label: str) -> None:
    """Refuse a table of more than :data:`MAX_TABLE_ROWS` rows (JSON arrays of rows …)."""
    check_size(
        f"{label}: rows in one table",
        count,
        MAX_TABLE_ROWS,
        "split the table into several files (by community or by date)",
    )


def decode_utf8(data: bytes, label: str) -> str | InputIssue:
    """The text of ``data`` (UTF-8, a leading byte-order mark dropped), or why it is not text.

    Parameters
    ----------
    data : bytes
        The raw input.
    label : str
        What the bytes are (a file name); the issue's record is ``"{label}:line N"``.

    Returns
    -------
    str or InputIssue
        The text; or an issue with field ``"encoding"``, the offending bytes as value, and a
        constraint naming the byte offset and line, the encoding expected (UTF-8), and what
        the bytes look like instead (UTF-16, binary, GBK/GB18030) when that can be told.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return InputIssue(
            f"{label}:line 1",
            "encoding",
            data[:2],
            "is UTF-16 (byte-order mark at byte offset 0), not UTF-8: save it as UTF-8",
        )
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    nul = data.find(_NUL, start)
    if nul >= 0:
        why = "a binary file (a spreadsheet, an archive?) or UTF-16/32 text, not UTF-8 text"
        return _issue_at(data, label, nul, 8, "has a NUL byte", why)
    try:
        return data[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        why = f"expected UTF-8, with or without a byte-order mark{_hint(data[start:])}"
        return _issue_at(data, label, start + exc.start, 4, "is not valid UTF-8", why)


def _issue_at(data: bytes, label: str, offset: int, width: int, what: str, why: str) -> InputIssue:
    """The encoding issue of the ``width`` bytes at ``offset``: ``"{what} at byte offset N
    (line L): {why}"``, on record ``"{label}:line L"``."""
    line = data.count(b"\n", 0, offset) + 1
    return InputIssue(
        f"{label}:line {line}",
        "encoding",
        data[offset : offset + width],
        f"{what} at byte offset {offset} (line {line}): {why}",
    )


def _hint(data: bytes) -> str:
    try:
        data.decode("gb18030")
    except UnicodeDecodeError:
        return "; save the file as UTF-8"
    return (
        "; the bytes read as GBK/GB18030 (the usual encoding of files saved on Chinese-locale "
        "Windows, such as Excel's plain CSV): save the file as UTF-8 (Excel: CSV UTF-8), or "
        "convert it with iconv -f GB18030 -t UTF-8"
    )
