"""Text helpers: decoding input bytes as UTF-8 (with an issue that says where and why when they
are not), the indefinite article of a word for messages, and the rows of a table source."""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Mapping
from typing import Any

from commgov.errors import InputIssue

_NUL = b"\x00"


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
        line = data.count(b"\n", 0, nul) + 1
        return InputIssue(
            f"{label}:line {line}",
            "encoding",
            data[nul : nul + 8],
            f"has a NUL byte at byte offset {nul} (line {line}): a binary file (a spreadsheet, "
            "an archive?) or UTF-16/32 text, not UTF-8 text",
        )
    try:
        return data[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = start + exc.start
        line = data.count(b"\n", 0, offset) + 1
        return InputIssue(
            f"{label}:line {line}",
            "encoding",
            data[offset : offset + 4],
            f"is not valid UTF-8 at byte offset {offset} (line {line}): expected UTF-8, with "
            f"or without a byte-order mark{_hint(data[start:])}",
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


def article(word: object) -> str:
    """``word`` with its indefinite article: ``a building``, ``an entrance``, ``an int``.

    By spelling: ``an`` before a vowel letter, except the ``u`` of ``unit``, ``user``.
    """
    text = str(word)
    lower = text.lower()
    vowel = lower[:1] in ("a", "e", "i", "o") or (
        lower[:1] == "u" and not lower.startswith(("uni", "use", "usu", "uti"))
    )
    return f"{'an' if vowel else 'a'} {text}"


def table_items(source: object, expected: str) -> list[Any]:
    """The items of ``source``, which is no path, as a list of would-be rows.

    Raises
    ------
    TypeError
        ``"{expected}, not …"`` for bytes, a single mapping, a data frame or a non-iterable,
        with what to do instead.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        why = (f"not {type(source).__name__}: decode a bytes path with os.fsdecode(), or "
               "write the content to a file first")
    elif isinstance(source, Mapping):
        why = "not a single mapping: wrap one row in a list, [row]"
    elif hasattr(source, "iterrows") and hasattr(source, "columns"):
        why = f"not {article(type(source).__name__)}: pass df.to_dict('records')"
    elif not isinstance(source, Iterable):
        why = f"not {type(source).__name__}"
    else:
        return list(source)
    raise TypeError(f"{expected}, {why}")
