"""Shared value types: ids, places, time windows, headcounts.

Units are fixed across commgov: distances in metres, coordinates WGS84 with longitude first
(as GeoJSON), instants as timezone-aware datetimes, intervals half-open ``[start, end)``.
"""

from __future__ import annotations

import functools
import math
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from commgov._records import FrozenModel
from commgov._redact import looks_personal

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = [
    "EARTH_RADIUS_M",
    "MAX_HEADCOUNT",
    "GeoPoint",
    "Headcount",
    "Id",
    "Line",
    "SkillLevel",
    "Text",
    "TimeWindow",
    "TimeZoneName",
    "haversine_array_m",
    "haversine_m",
    "to_seconds",
]

#: Mean Earth radius in metres (IUGG), used by :func:`haversine_m`.
EARTH_RADIUS_M = 6_371_008.8

def no_personal_number(value: str) -> str:
    """``value``, or ValueError when it looks like a phone or identity-card number."""
    if len(value) >= 7 and looks_personal(value):
        raise ValueError(
            "looks like a phone or identity-card number: keep personal numbers in fields "
            "marked sensitive (this one is shown in results, errors and exports)"
        )
    return value


def _check_id(value: str) -> str:
    if not value.isprintable() or " " in value or "," in value:
        bad = next(c for c in value if not c.isprintable() or c in " ,")
        raise ValueError(
            f"must not contain spaces, commas, control or invisible format characters (found "
            f"U+{ord(bad):04X}): ids that look alike must be one id"
        )
    if len(value) >= 11 and looks_personal(value):
        raise ValueError(
            "looks like a phone or identity-card number: use an opaque id (ids are shown in "
            "errors, logs and exports; keep personal numbers in fields marked sensitive)"
        )
    return value


def _printable(allowed: str) -> AfterValidator:
    def check(value: str) -> str:
        if value.isascii() and value.isprintable():
            return value  # printable ASCII holds no control, format or separator character
        for ch in value:
            if ch not in allowed and unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs"):
                raise ValueError(
                    f"must not contain control or format characters (U+{ord(ch):04X})"
                    + (": only newline and tab are allowed" if allowed else ": one line of text")
                )
        return value

    return AfterValidator(check)


#: One line of text: no control, format or line-separator characters (no newline, tab, NUL).
Line = Annotated[str, _printable("")]
#: Free text: newlines and tabs allowed, no other control or format characters (NUL, U+200B).
Text = Annotated[str, _printable("\n\t")]


Id = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_check_id)]
"""A stable, human-readable id (``320508017016/C03/B12/E2``), 1–200 characters.

Refused: whitespace (any Unicode space or line break), commas, control and format characters
(NUL, U+0085, U+200B, U+202E … — every character :meth:`str.isprintable` refuses), so that
two ids that look alike are one id and every id survives a CSV round trip; and text that looks
like a phone or identity-card number (:func:`commgov._redact.looks_personal`), which would
put personal data wherever ids are shown."""

#: Largest headcount accepted: above any real population, small enough that solver
#: objectives (people × metres) stay far inside 64-bit integers.
MAX_HEADCOUNT = 1_000_000_000

Headcount = Annotated[int, Field(ge=0, le=MAX_HEADCOUNT)]
"""A count of people or households (integer, 0 … :data:`MAX_HEADCOUNT`)."""

SkillLevel = Annotated[int, Field(ge=1, le=5)]
"""A skill level: 1 = basic … 5 = expert."""


def is_iana_zone(name: object) -> bool:
    """Whether ``name`` is a zone of the IANA tz database's list (``Asia/Shanghai``, ``UTC``).

    Files the tz database also holds that are not zones of its list are refused: the
    machine's ``localtime``, ``posixrules``, ``Factory`` and the ``posix/`` and ``right/``
    copies.
    """
    if not isinstance(name, str) or name in ("Factory", "localtime", "posixrules"):
        return False
    if name.startswith(("posix/", "right/")):
        return False
    return name in _zone_names()


@functools.cache
def _zone_names() -> frozenset[str]:
    from zoneinfo import available_timezones

    return frozenset(available_timezones())


def _known_timezone(name: str) -> str:
    if not is_iana_zone(name):
        raise ValueError(f"unknown IANA time zone {name!r}")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {name!r}") from exc
    return name


TimeZoneName = Annotated[str, AfterValidator(_known_timezone)]
"""An IANA time-zone name (``Asia/Shanghai``), checked against the tz database."""


def _converted(data: dict[str, Any], crs: object) -> dict[str, Any]:
    """``data`` with ``lon``/``lat`` converted from ``crs`` to WGS84.

    Values the fields would refuse are left as they are, for the fields' own error.
    """
    from commgov.crs import check_crs, to_wgs84

    check_crs(crs, "GeoPoint")
    lon, lat = data.get("lon"), data.get("lat")
    if crs == "wgs84":
        return data
    try:
        x, y = float(lon), float(lat)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return data  # the fields' own error
    if not (math.isfinite(x) and math.isfinite(y) and abs(x) <= 180.0 and abs(y) <= 90.0):
        return data
    x, y = to_wgs84(x, y, str(crs))
    return {**data, "lon": x, "lat": y}


class GeoPoint(FrozenModel):
    """A WGS84 point, longitude first (as in GeoJSON, RFC 7946).

    A position copied from a Chinese map is given with its system, converted once here:
    ``GeoPoint(lon=…, lat=…, crs="gcj02")`` (or ``"bd09"``; :mod:`commgov.crs`), or in a
    problem given ``crs``. The point keeps WGS84 only.

    Parameters
    ----------
    lon : float
        Longitude in degrees, in [-180, 180].
    lat : float
        Latitude in degrees, in [-90, 90].

    Raises
    ------
    pydantic.ValidationError
        Out of range, not finite, an unknown ``crs``, or a GCJ-02/BD-09 position outside
        China.

    Examples
    --------
    >>> a = GeoPoint(lon=120.622, lat=31.311)
    >>> b = GeoPoint(lon=120.632, lat=31.311)
    >>> round(a.distance_m(b))
    950
    >>> p = GeoPoint(lon=120.626117, lat=31.316208, crs="bd09")  # copied from Baidu Maps
    >>> round(p.lon, 4), round(p.lat, 4)
    (120.6155, 31.3122)
    """

    lon: float = Field(ge=-180.0, le=180.0, allow_inf_nan=False)
    lat: float = Field(ge=-90.0, le=90.0, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _in_wgs84(cls, data: Any, info: ValidationInfo) -> Any:
        """Convert a position given in another system to WGS84, once, here.

        The system is a ``crs`` key of the mapping, else the validation context's ``crs``
        (:func:`commgov.crs.to_wgs84`).
        """
        if type(data) is not dict:
            return data
        if isinstance(data.get("lon"), bool) or isinstance(data.get("lat"), bool):
            raise ValueError("lon and lat are numbers of degrees, not true or false")
        if "crs" in data:
            data = dict(data)
            crs = data.pop("crs")
        else:
            context = info.context
            crs = context.get("crs") if isinstance(context, dict) else None
            if crs is None:
                return data
        return _converted(data, crs)

    def distance_m(self, other: GeoPoint) -> float:
        """Great-circle distance to ``other`` in metres (haversine)."""
        return haversine_m(self.lon, self.lat, other.lon, other.lat)


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two WGS84 points given in degrees.

    Uses the haversine formula on a sphere of radius :data:`EARTH_RADIUS_M`; the error against
    the ellipsoid is below 0.5 %, far under the detour factor applied to walking distances.
    """
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def haversine_array_m(lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike) -> Any:
    """:func:`haversine_m` of many pairs at once, in metres (numpy, broadcasting).

    The same formula and operation order as :func:`haversine_m`, on numpy's transcendental
    functions, which may differ from libm's in the last bit: a rule that rounds a distance
    rechecks values within a hair of a half with :func:`haversine_m`. O(broadcast size).

    Parameters
    ----------
    lon1, lat1, lon2, lat2 : array_like
        Degrees, WGS84; broadcast against each other (``a[:, None]`` and ``b[None, :]`` give
        the all-pairs matrix).

    Returns
    -------
    numpy.ndarray
        Great-circle metres, float64, of the broadcast shape.

    References
    ----------
    R. W. Sinnott, "Virtues of the haversine", Sky and Telescope 68(2):159, 1984.
    """
    import numpy as np

    p1 = np.radians(lat1)
    p2 = np.radians(lat2)
    dl = np.radians(np.subtract(lon2, lon1))
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h)))


class TimeWindow(FrozenModel):
    """A half-open interval ``[start, end)`` of timezone-aware instants.

    Back-to-back windows do not overlap. Naive datetimes are refused. Both bounds are stored
    in UTC (the instant is kept, the zone is not), so lengths, comparisons, hashing and slot
    arithmetic are in elapsed time even across daylight-saving changes — Python subtracts and
    compares two datetimes that share a ``tzinfo`` by wall clock, which is wrong across a DST
    transition. Display in local time with ``w.start.astimezone(zone)``; problems and
    territories carry their IANA zone for that.

    Parameters
    ----------
    start, end : datetime
        Timezone-aware; ``start < end``. Converted to UTC.

    Raises
    ------
    pydantic.ValidationError
        If either bound is naive or ``end <= start``.

    Examples
    --------
    >>> from datetime import datetime
    >>> from zoneinfo import ZoneInfo
    >>> tz = ZoneInfo("Asia/Shanghai")
    >>> w = TimeWindow(start=datetime(2022, 4, 10, 6, 30, tzinfo=tz),
    ...                end=datetime(2022, 4, 10, 7, 0, tzinfo=tz))
    >>> w.minutes
    30.0
    >>> w.start.isoformat(), w.start.astimezone(tz).strftime("%H:%M")
    ('2022-04-09T22:30:00+00:00', '06:30')

    Across the spring-forward gap in New York, 01:30 to 03:30 wall clock is one hour:

    >>> ny = ZoneInfo("America/New_York")
    >>> TimeWindow(start=datetime(2022, 3, 13, 1, 30, tzinfo=ny),
    ...            end=datetime(2022, 3, 13, 3, 30, tzinfo=ny)).minutes
    60.0
    """

    start: AwareDatetime
    end: AwareDatetime

    @field_validator("start", "end", mode="after")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end <= self.start:
            raise ValueError(
                f"end {self.end.isoformat()} must be after start {self.start.isoformat()}"
            )
        return self

    @property
    def duration(self) -> timedelta:
        """Length of the window."""
        return self.end - self.start

    @property
    def minutes(self) -> float:
        """Length of the window in minutes."""
        return self.duration.total_seconds() / 60.0

    def contains(self, other: TimeWindow | datetime) -> bool:
        """Whether ``other`` (an instant or a window) lies inside this window."""
        if isinstance(other, TimeWindow):
            return self.start <= other.start and other.end <= self.end
        return self.start <= other < self.end

    def overlaps(self, other: TimeWindow) -> bool:
        """Whether the two half-open windows share any instant."""
        return self.start < other.end and other.start < self.end


def to_seconds(minutes: float) -> int:
    """A duration in minutes as whole seconds, rounded up after rounding to the microsecond.

    The one conversion the planners with second-resolution schedules share (relay, door-to-door
    rounds, notification plans), so 0.1 min is 6 s, not 7, whatever the float error.

    Parameters
    ----------
    minutes : float
        A duration in minutes (≥ 0).

    Returns
    -------
    int
        Seconds.

    Examples
    --------
    >>> to_seconds(2.5), to_seconds(0.1), to_seconds(1 / 3), to_seconds(25 / 80)
    (150, 6, 20, 19)
    """
    return math.ceil(round(minutes * 60.0, 6))
