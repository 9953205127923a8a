"""Text helpers: the indefinite article of a word for messages, and the rows of a table source.

Decoding input bytes lives in the one reader, :mod:`commgov._input`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


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
        why = (
            f"not {type(source).__name__}: decode a bytes path with os.fsdecode(), or "
            "write the content to a file first"
        )
    elif isinstance(source, Mapping):
        why = "not a single mapping: wrap one row in a list, [row]"
    elif hasattr(source, "iterrows") and hasattr(source, "columns"):
        why = f"not {article(type(source).__name__)}: pass df.to_dict('records')"
    elif not isinstance(source, Iterable):
        why = f"not {type(source).__name__}"
    else:
        return list(source)
    raise TypeError(f"{expected}, {why}")
