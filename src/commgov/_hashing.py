"""Content hashes of records (private core): one rule for "is this the same content?".

A record's hash is the SHA-256 of its canonical JSON (:func:`canonical_json`: the record's
JSON data with every object's keys sorted, no whitespace, UTF-8; commgov's records sort their
items by id) — written ``"sha256:<64 hex digits>"``. Equal records give equal hashes even when
a mapping (a volunteer's ``skills``) was built in another order. The same content gives
the same hash in every process and on every machine; any change of content changes it. The
store (:mod:`commgov.store`) records the hashes of the model and the problem a result came
from, so a cache can tell when a result is stale.

References
----------
NIST FIPS 180-4, *Secure Hash Standard (SHS)*, 2015.
"""

from __future__ import annotations

import hashlib
import json
from typing import Final

from pydantic import BaseModel

__all__ = ["HASH_PREFIX", "canonical_json", "content_hash", "hash_bytes", "is_content_hash"]

#: How every content hash starts: the algorithm, then a colon.
HASH_PREFIX: Final = "sha256:"

_HEX = frozenset("0123456789abcdef")


def hash_bytes(data: bytes) -> str:
    """``"sha256:<hex>"`` of bytes that are already a canonical JSON form.

    Examples
    --------
    >>> hash_bytes(b"{}")
    'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a'
    """
    return HASH_PREFIX + hashlib.sha256(data).hexdigest()


def canonical_json(obj: BaseModel) -> bytes:
    """A record's canonical JSON: its JSON data, object keys sorted, no whitespace, UTF-8.

    Equal records (``==``) give equal bytes, whatever the order their mappings were built
    in; the record reads back from them (``type(obj).model_validate_json``).

    Notes
    -----
    O(size of the record); about 1 s for the 24 MB of ``commgov.datasets.gusu()``.
    """
    data = obj.model_dump(mode="json")
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def content_hash(obj: BaseModel | str | bytes) -> str:
    """The content hash of a record: ``"sha256:<hex>"`` of its canonical JSON.

    Parameters
    ----------
    obj : pydantic.BaseModel, str or bytes
        A record (an ``OrgModel``, ``ThreeLists``, a problem, a result, an event …), hashed
        through :func:`canonical_json`; or its canonical JSON already, as text (encoded
        UTF-8) or bytes.

    Returns
    -------
    str
        ``"sha256:"`` followed by 64 lower-case hex digits.

    Raises
    ------
    TypeError
        If ``obj`` is none of these.

    Notes
    -----
    O(size of the JSON form): one serialisation and one SHA-256 pass (about 1 s for the
    24 MB of ``commgov.datasets.gusu()``).

    References
    ----------
    NIST FIPS 180-4, *Secure Hash Standard (SHS)*, 2015.

    Examples
    --------
    >>> from commgov.types import GeoPoint
    >>> content_hash(GeoPoint(lon=120.6, lat=31.3)) == content_hash('{"lat":31.3,"lon":120.6}')
    True
    >>> content_hash(b"{}")[:15]
    'sha256:44136fa3'
    """
    if isinstance(obj, BaseModel):
        return hash_bytes(canonical_json(obj))
    if isinstance(obj, str):
        return hash_bytes(obj.encode("utf-8"))
    if isinstance(obj, bytes | bytearray | memoryview):
        return hash_bytes(bytes(obj))
    raise TypeError(
        f"content_hash needs a pydantic record or its JSON (str or bytes), not {type(obj).__name__}"
    )


def is_content_hash(value: object) -> bool:
    """Whether ``value`` is written like a content hash (``"sha256:"`` and 64 hex digits).

    Examples
    --------
    >>> is_content_hash(content_hash(b"{}")), is_content_hash("sha256:xyz")
    (True, False)
    """
    return (
        isinstance(value, str)
        and value.startswith(HASH_PREFIX)
        and len(value) == len(HASH_PREFIX) + 64
        and set(value[len(HASH_PREFIX) :]) <= _HEX
    )
