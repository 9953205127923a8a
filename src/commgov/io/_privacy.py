"""Personal data (PIPL): which fields are sensitive, masking, and keyed pseudonyms.

A field is sensitive when its pydantic ``Field`` carries ``json_schema_extra={"sensitive":
True}`` (as ``Person.name`` does; :func:`commgov.org.sensitive_fields` lists them); the marker
also shows in the JSON Schema. Errors, logs and
exports show :data:`MASK` in place of a sensitive value, unless the caller asks otherwise.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from commgov._redact import MASK, models_in, redact

__all__ = [
    "MASK",
    "MIN_KEY_BYTES",
    "is_sensitive",
    "mask_data",
    "mask_dump",
    "pseudonym",
    "released",
]


#: Shortest key :func:`pseudonym` accepts, in bytes (128 bits).
MIN_KEY_BYTES = 16

#: Hex digits of the keyed hash kept in a pseudonym (80 bits).
_PSEUDONYM_HEX = 20


def is_sensitive(info: FieldInfo) -> bool:
    """Whether a pydantic field is marked as personal data (``{"sensitive": True}``)."""
    extra = info.json_schema_extra
    return isinstance(extra, Mapping) and extra.get("sensitive") is True


def mask_dump(record: BaseModel) -> dict[str, Any]:
    """The record as JSON-ready data with every sensitive value that is set replaced by MASK,
    and phone and identity numbers masked in every other text (:func:`redact_texts`).

    Values that are unset (``None``, empty text or list, ``False``) stay as they are: they tell
    nothing about the person, and keep the shape of the data.
    """
    return mask_data(type(record), record.model_dump(mode="json"))


def mask_data(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    """:func:`mask_dump` of a record given as its JSON data (``model_dump(mode="json")`` or the
    parsed ``model_dump_json()``) and its class, without building the record; ``data`` is
    changed in place."""
    _mask_in(model, data)
    masked: dict[str, Any] = redact_texts(data)
    return masked


def redact_texts(data: Any) -> Any:
    """``data`` with phone and identity numbers masked in every text, however the field is
    marked (:func:`commgov._redact.redact`: a free-text title or a name can hold one too)."""
    if isinstance(data, str):
        return redact(data)
    if isinstance(data, dict):
        return {key: redact_texts(value) for key, value in data.items()}
    if isinstance(data, list):
        return [redact_texts(value) for value in data]
    return data


def _mask_in(model: type[BaseModel], data: Any) -> None:
    if not isinstance(data, dict):
        return
    for name, info in model.model_fields.items():
        if name not in data:
            continue
        if is_sensitive(info):
            if data[name] not in (None, "", [], {}, False):
                data[name] = MASK
            continue
        for inner in models_in(info.annotation):
            value = data[name]
            for item in value if isinstance(value, list) else [value]:
                _mask_in(inner, item)


def check_key(key: object) -> bytes:
    """The key as bytes; TypeError or ValueError when it cannot serve as a pseudonym key."""
    if not isinstance(key, bytes | bytearray):
        raise TypeError(
            f"a pseudonym key must be bytes (e.g. secrets.token_bytes(32)), not "
            f"{type(key).__name__}"
        )
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(
            f"a pseudonym key must be at least {MIN_KEY_BYTES} bytes long, not {len(key)}: "
            "use secrets.token_bytes(32)"
        )
    return bytes(key)


def pseudonym(value: str, key: bytes, *, prefix: str = "") -> str:
    """A stable pseudonym of ``value``: a keyed hash (HMAC-SHA256) with a caller-supplied key.

    The same value and key give the same pseudonym in every export, so exports made with one
    key can be joined with each other; without the key, the value cannot be recovered from the
    pseudonym nor be checked against a guess. Keep the key secret and apart from the exports;
    use a new key to make pseudonyms that cannot be linked to earlier ones.

    Parameters
    ----------
    value : str
        What to pseudonymise (an id).
    key : bytes
        Secret key, at least :data:`MIN_KEY_BYTES` (16) bytes: ``secrets.token_bytes(32)``.
    prefix : str, default ""
        Put before the hash (``"p-"`` for people).

    Returns
    -------
    str
        ``prefix`` followed by the first 20 hex digits (80 bits) of
        ``HMAC-SHA256(key, value.encode("utf-8"))``.

    Raises
    ------
    TypeError
        If ``key`` is not bytes or ``value`` is not a str.
    ValueError
        If ``key`` is shorter than 16 bytes.

    Examples
    --------
    >>> key = bytes(range(32))
    >>> pseudonym("320508017016/P001", key, prefix="p-") == pseudonym("320508017016/P001", key,
    ...                                                                prefix="p-")
    True
    >>> len(pseudonym("320508017016/P001", key))
    20
    """
    raw = check_key(key)
    if not isinstance(value, str):
        raise TypeError(f"pseudonym needs a str value, not {type(value).__name__}")
    digest = hmac.new(raw, value.encode("utf-8"), hashlib.sha256).hexdigest()
    return prefix + digest[:_PSEUDONYM_HEX]


def released(data: Any) -> Any:
    """Every export of :mod:`commgov.io` passes through here on its way out, unchanged.

    One place where an audit (such as the test suite's scan for planted personal data) can
    see everything commgov exports.
    """
    return data
