"""The one rule for personal data in what commgov shows: errors, logs and default exports.

Two tests decide whether a value is shown:

* its **field** is marked sensitive — ``json_schema_extra={"sensitive": True}`` on a pydantic
  field of any commgov model (``Person.name``, ``Need.description``, ``Resource.contact``,
  ``Household.elderly_alone`` …); :func:`sensitive_field_names` collects them;
* its **text** looks like a phone or identity number, whatever field holds it: a mainland
  mobile number (``13800138000``, ``+86 138-0013-8000``), a resident identity card number
  (GB 11643-1999: 18 characters, or the old 15 digits) or a landline with its area code
  (``0512-65223456``). Such digit runs are replaced by :data:`MASK` inside the text
  (:func:`redact`).

Every value shown is also bounded and escaped (:func:`shown`): at most :data:`MAX_SHOWN_CHARS`
characters, control and format characters written as escapes, so no input can flood a
terminal or a log, or reorder what it shows (U+202E).

References
----------
GB 11643-1999, *Citizen identification number*. Standardization Administration of China.
Personal Information Protection Law of the People's Republic of China (2021), art. 28
(sensitive personal information).
"""

from __future__ import annotations

import logging
import re
import types
import typing
from collections.abc import Mapping
from typing import Any, Final

__all__ = [
    "MASK",
    "MAX_SHOWN_CHARS",
    "RedactingFilter",
    "escaped",
    "get_logger",
    "looks_personal",
    "redact",
    "sensitive_field_names",
    "shown",
]

#: What a masked value is shown as, in errors, logs and exports.
MASK: Final = "<masked>"

#: Longest excerpt of an input value an error shows, in characters.
MAX_SHOWN_CHARS: Final = 80

_SEP = r"[-._/ ]?"
#: Phone and identity numbers as whole digit runs (not part of a longer number), with the
#: separators people type: spaces, hyphens (any Unicode dash), dots, underscores, slashes, an
#: area code in parentheses, a trunk 0 before a mobile number.
_PERSONAL = re.compile(
    r"(?<![0-9])(?:"
    rf"(?:(?:\+?86|0){_SEP})?1[3-9][0-9]{_SEP}[0-9]{{4}}{_SEP}[0-9]{{4}}"  # mobile
    rf"|[1-9][0-9]{{5}}{_SEP}(?:19|20)[0-9]{{6}}{_SEP}[0-9]{{3}}[0-9Xx]"  # identity card, 18
    r"|[1-9][0-9]{16}[0-9Xx]"  # identity card, 18 characters in one run
    r"|[1-9][0-9]{14}"  # identity card, 15 digits (before 1999)
    r"|\(?0[1-9][0-9]{1,2}\)?[-. ]?[2-9][0-9]{6,7}"  # landline with area code
    r")(?![0-9])"
)

#: Full-width digits, letters X/x and separators (typed in a Chinese input method's full-width
#: mode) read as their ASCII forms, one character for one, so positions are kept.
_NARROW: dict[int, int] = {
    **{0xFF10 + i: ord("0") + i for i in range(10)},
    0xFF38: ord("X"),
    0xFF58: ord("x"),
    0xFF0B: ord("+"),
    0xFF0D: ord("-"),
    0xFF0E: ord("."),
    0xFF08: ord("("),
    0xFF09: ord(")"),
    0x3000: ord(" "),
    **{c: ord("-") for c in (0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2212, 0xFE63)},
}


def looks_personal(text: str) -> bool:
    """Whether ``text`` holds something that looks like a phone or identity number.

    Examples
    --------
    >>> looks_personal("13800138000"), looks_personal("320508017016/B12")
    (True, False)
    >>> looks_personal("id 32050819800101123X"), looks_personal("１３８１２３４５６７８")
    (True, True)
    >>> looks_personal("138.1234.5678"), looks_personal("(0512)65123456")
    (True, True)

    Notes
    -----
    O(len(text)), one regular-expression scan.
    """
    return _PERSONAL.search(text.translate(_NARROW)) is not None


def redact(text: str) -> str:
    """``text`` with every phone-like or identity-number-like digit run replaced by MASK.

    Examples
    --------
    >>> redact("people[1].id = 13800138000 repeats")
    'people[1].id = <masked> repeats'
    >>> redact("320508017016")
    '320508017016'
    """
    narrow = text.translate(_NARROW)
    if narrow == text:
        return _PERSONAL.sub(MASK, text)
    out, last = [], 0
    for match in _PERSONAL.finditer(narrow):  # the same positions in the original text
        out.append(text[last : match.start()])
        out.append(MASK)
        last = match.end()
    out.append(text[last:])
    return "".join(out)


def escaped(text: str, limit: int = MAX_SHOWN_CHARS) -> str:
    r"""``text`` with personal numbers masked, unprintable characters escaped, cut to ``limit``.

    For names and places an error quotes (record ids, field names), where :func:`shown`'s
    quotes would be noise. Chinese and other printable text stays as it is.

    Examples
    --------
    >>> escaped("B1\u202eevil")
    'B1\\u202eevil'
    """
    out = "".join(c if c.isprintable() else repr(c)[1:-1] for c in redact(text[: 2 * limit]))
    if len(out) > limit or len(text) > 2 * limit:
        return f"{out[:limit]}… ({len(text)} characters)"
    return out


def shown(value: object) -> str:
    """How an error shows an input value: masked where personal, bounded, escaped.

    Text and bytes are shown with :func:`repr` (control and format characters such as NUL,
    U+0085, U+200B or U+202E become escapes), phone and identity numbers in them masked, and
    cut to :data:`MAX_SHOWN_CHARS` characters with the length said. Collections are shown by
    type and length, never by content; other objects by a bounded ``repr``.

    Parameters
    ----------
    value : object
        The offending value (already :data:`MASK` when its field is sensitive).

    Returns
    -------
    str
        At most about ``MAX_SHOWN_CHARS + 30`` characters.

    Examples
    --------
    >>> shown("N1\\u200b")
    "'N1\\\\u200b'"
    >>> shown("x" * 500)[-18:]
    '… (500 characters)'
    >>> shown("tel 13800138000")
    "'tel <masked>'"
    >>> shown(MASK)
    '<masked>'
    """
    if value == MASK:
        return MASK
    if isinstance(value, str):
        text = repr(redact(value)) if len(value) <= 10 * MAX_SHOWN_CHARS else None
        if text is None or len(text) > MAX_SHOWN_CHARS:
            head = repr(redact(value[: 2 * MAX_SHOWN_CHARS]))[:MAX_SHOWN_CHARS]
            return f"{head}… ({len(value)} characters)"
        return text
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value[: MAX_SHOWN_CHARS // 4])
        more = f"… ({len(value)} bytes)" if len(value) > len(data) else ""
        return repr(data) + more
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        if value.bit_length() > 128:
            return f"<integer of {value.bit_length()} bits>"
        return redact(repr(value))
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Mapping | list | tuple | set | frozenset):
        return f"<{type(value).__name__} of {len(value)}>"
    try:
        text = redact(repr(value))
    except Exception:  # a repr that fails must not hide the error being reported
        return f"<{type(value).__name__}>"
    if len(text) > MAX_SHOWN_CHARS:
        return text[:MAX_SHOWN_CHARS] + f"… ({len(text)} characters)"
    return text


def _is_sensitive(info: Any) -> bool:
    extra = getattr(info, "json_schema_extra", None)
    return isinstance(extra, Mapping) and extra.get("sensitive") is True


def sensitive_field_names() -> frozenset[str]:
    """Names of the fields marked sensitive on any commgov pydantic model loaded so far.

    An error about a field of one of these names masks the value, whichever model it comes
    from (masking a harmless value now and then is the price of never showing a personal
    one).

    Notes
    -----
    O(number of commgov model classes); called on error paths only.
    """
    from pydantic import BaseModel

    names: set[str] = set()
    stack: list[type[BaseModel]] = [BaseModel]
    seen: set[type[BaseModel]] = set()
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            if sub in seen:
                continue
            seen.add(sub)
            stack.append(sub)
            if not sub.__module__.startswith("commgov"):
                continue
            fields = getattr(sub, "__pydantic_fields__", None) or {}
            names.update(name for name, info in fields.items() if _is_sensitive(info))
    return frozenset(names)


def models_in(annotation: object) -> list[type]:
    """The pydantic model classes inside an annotation (``X | None``, ``list[X]``, …)."""
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out: list[type] = []
    origin = typing.get_origin(annotation)
    if origin is not None or isinstance(annotation, types.UnionType):
        for arg in typing.get_args(annotation):
            out.extend(models_in(arg))
    return out



class RedactingFilter(logging.Filter):
    """A logging filter that masks phone and identity numbers in every record it passes.

    The message is formatted with its arguments, masked by :func:`redact`, and stored back
    with no arguments, so no handler (commgov's or the application's) sees the numbers.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message or record.args:
            record.msg, record.args = masked, ()
        return True


_FILTER = RedactingFilter()


def get_logger(name: str) -> logging.Logger:
    """The logger ``name`` (a ``commgov.…`` name) with :class:`RedactingFilter` attached.

    Every module of commgov that logs gets its logger here: the one rule for personal data
    applies to log lines as to errors. (A filter on a parent logger does not see the records
    its children pass up, so each logger carries it.)
    """
    logger = logging.getLogger(name)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger
