"""Coordinate reference systems at the boundary: WGS84, GCJ-02 and BD-09.

commgov keeps every coordinate in WGS84 (longitude first, degrees). Positions copied from
Chinese map services are not WGS84: Amap/Gaode, Tencent and Google Maps in mainland China
publish GCJ-02, WGS84 shifted by a published, non-linear offset of 100-700 m; Baidu Maps
publishes BD-09, GCJ-02 shifted again by about 1 km. A position enters commgov once, with its
system named by one ``crs`` option (:data:`CRS`: ``"wgs84"``, ``"gcj02"``, ``"bd09"``), and
is converted to WGS84 there (:func:`to_wgs84`); outputs are WGS84, or GCJ-02/BD-09 on request
for Chinese map SDKs (:func:`from_wgs84`).

Where the option is taken: a :class:`~commgov.types.GeoPoint` given as a mapping with a
``crs`` key (``{"lon": …, "lat": …, "crs": "gcj02"}``); every problem (``crs=`` when built,
or a top-level ``"crs"`` key in its JSON) for all positions given as mappings inside it;
:func:`commgov.io.import_community`; the CLI's ``--crs``.

The forward transform (WGS84 → GCJ-02) is the public formula on the Krasovsky 1940 ellipsoid
(as in eviltransform, prcoords and coordtransform). It has no closed-form inverse: the inverse
is a fixed-point iteration ``w ← w − (f(w) − g)``, which converges to 1e-9 m within six steps
everywhere in China because the offset changes by less than 1e-3 m per metre. GCJ-02 →
BD-09 is Baidu's published rotation-and-shift (as in coordtransform and prcoords); its
inverse is the same fixed-point iteration.

Outside China there is no shift: GCJ-02 is defined for mainland China only, and map services
return WGS84 elsewhere. "China" is the rectangle lon 72.004–137.8347 °E, lat 0.8293–55.8271 °N
used by eviltransform and prcoords (:data:`CHINA_BOX`), not the border: points in the box but
outside the mainland (Seoul, Hong Kong, Taipei) are shifted as their map services would not.
At the boundary (:func:`to_wgs84`) a GCJ-02 or BD-09 position outside the box is refused as
impossible in its declared system.
"""

from __future__ import annotations

import math

__all__ = [
    "CHINA_BOX",
    "CRS",
    "bd09_to_gcj02",
    "check_crs",
    "from_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_china_box",
    "to_wgs84",
    "wgs84_to_gcj02",
]

#: The coordinate systems a position may be given in.
CRS: tuple[str, ...] = ("wgs84", "gcj02", "bd09")

#: (west, south, east, north) in degrees: the rectangle inside which GCJ-02 differs from WGS84.
CHINA_BOX = (72.004, 0.8293, 137.8347, 55.8271)

_A = 6378245.0  # Krasovsky 1940 semi-major axis, metres
_EE = 0.00669342162296594323  # its first eccentricity squared
_TOL_DEG = 1e-12  # iteration stops when the forward image is this close (≈ 1e-7 m)
_MAX_STEPS = 30


def in_china_box(lon: float, lat: float) -> bool:
    """Whether a point lies in :data:`CHINA_BOX`, where GCJ-02 is shifted from WGS84.

    Parameters
    ----------
    lon, lat : float
        Longitude and latitude in degrees.

    Returns
    -------
    bool
        True inside the rectangle (edges included).
    """
    west, south, east, north = CHINA_BOX
    return west <= lon <= east and south <= lat <= north


def _offset(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 minus WGS84 in degrees (dlon, dlat) at a WGS84 point, no box check."""
    x, y = lon - 105.0, lat - 35.0
    sx = math.sqrt(abs(x))
    wave = (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlat_m = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sx + wave
    dlat_m += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    dlat_m += (
        (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y / 30.0 * math.pi)) * 2.0 / 3.0
    )
    dlon_m = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sx + wave
    dlon_m += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    dlon_m += (
        (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    )
    rad = math.radians(lat)
    magic = 1.0 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = dlat_m * 180.0 / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = dlon_m * 180.0 / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return dlon, dlat


def _check(lon: float, lat: float) -> None:
    for name, value, bound in (("lon", lon, 180.0), ("lat", lat, 90.0)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"{name} must be a number of degrees, not {type(value).__name__}")
        if not math.isfinite(value) or abs(value) > bound:
            raise ValueError(
                f"{name} = {value!r} must be a finite number in [-{bound:g}, {bound:g}]"
            )


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """Convert a WGS84 point to GCJ-02 (the forward, published transform).

    Parameters
    ----------
    lon, lat : float
        WGS84 longitude and latitude in degrees.

    Returns
    -------
    tuple of float
        ``(lon, lat)`` in GCJ-02, degrees; the point unchanged outside :data:`CHINA_BOX`.

    Raises
    ------
    TypeError
        If ``lon`` or ``lat`` is not a number.
    ValueError
        If either is not finite or out of range (lon in [-180, 180], lat in [-90, 90]).

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(121.5272106, 31.1774276)  # Shanghai
    >>> round(lon, 9), round(lat, 9)
    (121.531541859, 31.175303984)
    >>> wgs84_to_gcj02(2.35, 48.86)  # Paris: no shift outside China
    (2.35, 48.86)
    """
    _check(lon, lat)
    if not in_china_box(lon, lat):
        return float(lon), float(lat)
    dlon, dlat = _offset(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """Convert a GCJ-02 point (Amap, Tencent, Google Maps China) to WGS84.

    The inverse of :func:`wgs84_to_gcj02`, by fixed-point iteration until the forward image of
    the result is within 1e-12° of the input: the error is below 1e-8 m in China (measured
    max 3e-9 m over 20,000 random points; 5 iterations on average). A point outside
    :data:`CHINA_BOX` is returned unchanged (GCJ-02 is WGS84 there); one near the box's edge
    whose WGS84 original lies outside the box is returned unchanged too.

    Parameters
    ----------
    lon, lat : float
        GCJ-02 longitude and latitude in degrees.

    Returns
    -------
    tuple of float
        ``(lon, lat)`` in WGS84, degrees.

    Raises
    ------
    TypeError, ValueError
        For a point that is not two numbers in range, as :func:`wgs84_to_gcj02`.

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(121.531541859215, 31.17530398364597)  # Shanghai
    >>> round(lon, 7), round(lat, 7)
    (121.5272106, 31.1774276)
    >>> gcj02_to_wgs84(139.69, 35.69)  # Tokyo: no shift outside China
    (139.69, 35.69)
    """
    _check(lon, lat)
    wlon, wlat = float(lon), float(lat)
    for _ in range(_MAX_STEPS):
        if not in_china_box(wlon, wlat):
            # the point itself (first step) or its original is outside the box: unshifted
            return float(lon), float(lat)
        dlon, dlat = _offset(wlon, wlat)
        elon, elat = wlon + dlon - lon, wlat + dlat - lat
        wlon, wlat = wlon - elon, wlat - elat
        if abs(elon) < _TOL_DEG and abs(elat) < _TOL_DEG:
            break
    return wlon, wlat


_X_PI = math.pi * 3000.0 / 180.0
_NAMES = {"wgs84": "WGS84", "gcj02": "GCJ-02", "bd09": "BD-09"}


def gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    """Convert a GCJ-02 point to BD-09 (Baidu Maps), Baidu's published transform.

    Parameters
    ----------
    lon, lat : float
        GCJ-02 longitude and latitude in degrees.

    Returns
    -------
    tuple of float
        ``(lon, lat)`` in BD-09, degrees.

    Raises
    ------
    TypeError, ValueError
        For a point that is not two numbers in range, as :func:`wgs84_to_gcj02`.

    Examples
    --------
    >>> gcj02_to_bd09(128.543, 37.065)  # the value coordtransform documents
    (128.54944656269413, 37.07113427883019)
    """
    _check(lon, lat)
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def bd09_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """Convert a BD-09 point (Baidu Maps) to GCJ-02.

    The inverse of :func:`gcj02_to_bd09` by fixed-point iteration from Baidu's approximate
    inverse, until the forward image is within 1e-12° of the input (≈ 1e-7 m).

    Parameters
    ----------
    lon, lat : float
        BD-09 longitude and latitude in degrees.

    Returns
    -------
    tuple of float
        ``(lon, lat)`` in GCJ-02, degrees.

    Raises
    ------
    TypeError, ValueError
        For a point that is not two numbers in range, as :func:`wgs84_to_gcj02`.
    """
    _check(lon, lat)
    x, y = lon - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    glon, glat = z * math.cos(theta), z * math.sin(theta)
    for _ in range(_MAX_STEPS):
        flon, flat = gcj02_to_bd09(glon, glat)
        elon, elat = flon - lon, flat - lat
        glon, glat = glon - elon, glat - elat
        if abs(elon) < _TOL_DEG and abs(elat) < _TOL_DEG:
            break
    return glon, glat


#: Degrees a GCJ-02 or BD-09 position may lie beyond :data:`CHINA_BOX` (their offsets from
#: WGS84 stay under 0.02°), so that a point just inside the box written out by
#: :func:`from_wgs84` is read back by :func:`to_wgs84`.
_MARGIN_DEG = 0.03


def _in_china(lon: float, lat: float, crs: str, margin: float) -> None:
    """Refuse a GCJ-02/BD-09 position outside China.

    The message gives no coordinates: a position may be someone's home.
    """
    west, south, east, north = CHINA_BOX
    if not (west - margin <= lon <= east + margin and south - margin <= lat <= north + margin):
        raise ValueError(
            f"the position is outside China ({west}–{east} °E, {south}–{north} °N), where "
            f"{_NAMES[crs]} positions exist; a position from a map of another country is "
            "WGS84 (crs='wgs84')"
        )


def check_crs(crs: object, where: str = "crs") -> str:
    """Check a ``crs`` option: one of :data:`CRS`.

    Raises
    ------
    commgov.errors.InvalidParameterError
        For any other value (a ``ValueError`` and a ``TypeError``).
    """
    from commgov._options import check_choice

    return check_choice(where, "crs", crs, CRS)


def to_wgs84(lon: float, lat: float, crs: str) -> tuple[float, float]:
    """A position given in ``crs``, in WGS84: the one conversion at the boundary.

    Parameters
    ----------
    lon, lat : float
        Degrees in the declared system.
    crs : {"wgs84", "gcj02", "bd09"}
        The system the position was given in.

    Returns
    -------
    tuple of float
        ``(lon, lat)`` in WGS84, degrees.

    Raises
    ------
    commgov.errors.InvalidParameterError
        If ``crs`` is not one of :data:`CRS`.
    TypeError
        If ``lon`` or ``lat`` is not a number.
    ValueError
        If a coordinate is not finite or out of range, or a GCJ-02/BD-09 position lies
        outside :data:`CHINA_BOX`, where neither system exists.

    Examples
    --------
    >>> lon, lat = to_wgs84(120.626117, 31.316208, "bd09")  # Baidu Maps, Suzhou old city
    >>> round(lon, 4), round(lat, 4)
    (120.6155, 31.3122)
    """
    check_crs(crs)
    _check(lon, lat)
    if crs == "wgs84":
        return float(lon), float(lat)
    _in_china(lon, lat, crs, _MARGIN_DEG)
    if crs == "bd09":
        lon, lat = bd09_to_gcj02(lon, lat)
    return gcj02_to_wgs84(lon, lat)


def from_wgs84(lon: float, lat: float, crs: str) -> tuple[float, float]:
    """A WGS84 position in ``crs`` (for a Chinese map SDK), the inverse of :func:`to_wgs84`.

    Raises
    ------
    commgov.errors.InvalidParameterError
        If ``crs`` is not one of :data:`CRS`.
    TypeError, ValueError
        For a point that is not two numbers in range, or (GCJ-02, BD-09) outside
        :data:`CHINA_BOX`, where neither system exists.
    """
    check_crs(crs)
    _check(lon, lat)
    if crs == "wgs84":
        return float(lon), float(lat)
    _in_china(lon, lat, crs, 0.0)
    glon, glat = wgs84_to_gcj02(lon, lat)
    return (glon, glat) if crs == "gcj02" else gcj02_to_bd09(glon, glat)
