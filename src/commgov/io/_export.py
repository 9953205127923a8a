"""Exports: JSON Schemas of the records, the model as shareable JSON, GeoJSON, Popolo JSON.

Every export masks personal data by default (fields marked ``"sensitive": true``); ids of
personal records (people, households, memberships, liaisons) can be replaced by keyed
pseudonyms (:func:`commgov.io.pseudonym`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from commgov._files import write_texts
from commgov.crs import check_crs, from_wgs84
from commgov.io import _privacy
from commgov.org import (
    JSON_SCHEMA_DIALECT,
    RECORD_TYPES,
    AdminArea,
    Community,
    Entrance,
    NeighbourhoodUnit,
    OrgModel,
    PartyOrg,
    Role,
    sensitive_fields,
)

__all__ = [
    "GEOJSON_PLACES",
    "PersonalData",
    "export_json",
    "record_schemas",
    "to_geojson",
    "to_popolo",
    "write_record_schemas",
]

PersonalData = Literal["mask", "include"]

#: Collections of places :func:`to_geojson` can export (households and people never).
GEOJSON_PLACES = ("communities", "units", "buildings", "entrances", "sites")

#: Personal records, whose ids a pseudonym key replaces, and the prefix of their pseudonyms.
_PERSONAL = {"people": "p-", "households": "h-", "memberships": "m-", "liaisons": "l-"}


def _check_personal(personal_data: object) -> None:
    if personal_data not in ("mask", "include"):
        raise ValueError(f"personal_data must be 'mask' or 'include', not {personal_data!r}")


# -- JSON Schema ----------------------------------------------------------------------------


def record_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schema (draft 2020-12) of every record type, and of the whole model.

    Returns
    -------
    dict of str to dict
        Record class name (``"Person"``, ``"Building"`` …, and ``"OrgModel"``) → a new schema
        document whose first key ``"$schema"`` names the 2020-12 dialect. A personal-data
        field carries ``"sensitive": true`` in its property schema (nested models in
        ``$defs``), and the document lists the record's sensitive fields, dotted for nested
        models, under ``"x-sensitive-fields"``.

    Examples
    --------
    >>> schemas = record_schemas()
    >>> schemas["Person"]["properties"]["name"]["sensitive"]
    True
    >>> "name" in schemas["Person"]["x-sensitive-fields"]
    True
    """
    marked = sensitive_fields()
    out: dict[str, dict[str, Any]] = {}
    for cls in RECORD_TYPES.values():
        out[cls.__name__] = {
            "$schema": JSON_SCHEMA_DIALECT,
            **cls.model_json_schema(),
            "x-sensitive-fields": list(marked[cls.__name__]),
        }
    out["OrgModel"] = {
        **OrgModel.json_schema(),
        "x-sensitive-fields": [
            f"{collection}.{path}"
            for collection, cls in RECORD_TYPES.items()
            for path in marked[cls.__name__]
        ],
    }
    return dict(sorted(out.items()))


def write_record_schemas(folder: str | Path) -> list[Path]:
    """Write :func:`record_schemas` as ``<Name>.schema.json`` files, all of them or none.

    Parameters
    ----------
    folder : str or Path
        Target folder; created if needed.

    Returns
    -------
    list of Path
        The written files, sorted by name.

    Raises
    ------
    OSError
        If a file cannot be written (none is then changed).
    """
    base = Path(folder)
    texts: dict[str | Path, str] = {
        base / f"{name}.schema.json": json.dumps(schema, ensure_ascii=False, indent=2) + "\n"
        for name, schema in record_schemas().items()
    }
    return write_texts(texts)


# -- pseudonyms -----------------------------------------------------------------------------


def _pseudonyms(model: OrgModel, key: bytes | None) -> dict[str, str]:
    """Id → pseudonym of every personal record; empty without a key."""
    if key is None:
        return {}
    key = _privacy.check_key(key)
    out: dict[str, str] = {}
    for collection, prefix in _PERSONAL.items():
        for record in getattr(model, collection, []):
            out[record.id] = _privacy.pseudonym(record.id, key, prefix=prefix)
    if len(set(out.values())) != len(out):  # pragma: no cover - 80-bit collision
        raise ValueError("two ids got the same pseudonym: use another key")
    return out


def _renamed(value: Any, ids: Mapping[str, str]) -> Any:
    if not ids:
        return value
    if isinstance(value, str):
        return ids.get(value, value)
    if isinstance(value, list):
        return [_renamed(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _renamed(v, ids) for k, v in value.items()}
    return value


def _dump(record: BaseModel, personal_data: PersonalData) -> dict[str, Any]:
    if personal_data == "include":
        return record.model_dump(mode="json")
    return _privacy.mask_dump(record)


# -- the model as JSON ----------------------------------------------------------------------


def export_json(
    model: OrgModel,
    *,
    personal_data: PersonalData = "mask",
    pseudonym_key: bytes | None = None,
    indent: int | None = 2,
) -> str:
    """The model as JSON to share: personal data masked, personal ids optionally pseudonymous.

    Unlike :meth:`OrgModel.to_json` (the full form commgov saves and reads back), this is
    meant to leave the system: every sensitive value that is set is replaced by ``"<masked>"``
    (:data:`commgov.io.MASK`) unless ``personal_data="include"``. Party membership is masked
    too where the records do not mark it: memberships of party organisations are left out,
    the role ``party_member`` is dropped from people's roles, and the holders of committee
    seats and the community an in-service member reports to (双报到) are masked.

    Parameters
    ----------
    model : OrgModel
        The model; not changed.
    personal_data : {"mask", "include"}, default "mask"
        Mask sensitive fields (names, phone numbers, health flags, party membership), or
        include them in clear (only where the recipient may see them).
    pseudonym_key : bytes, optional
        Secret key of at least 16 bytes. When given, the ids of people, households,
        memberships and liaisons, and every reference to them, are replaced by stable keyed
        pseudonyms (``p-…``, ``h-…``, ``m-…``, ``l-…``: HMAC-SHA256, see
        :func:`commgov.io.pseudonym`); the same key gives the same pseudonyms in every
        export.
    indent : int or None, default 2
        Indentation of the JSON text.

    Returns
    -------
    str
        JSON text (UTF-8, records sorted by the original ids, ending in a newline). It keeps
        the shape of :meth:`OrgModel.to_json`, but masked values make it no longer an
        :class:`OrgModel` that validates.

    Raises
    ------
    TypeError
        If ``model`` is not an OrgModel or the key is not bytes.
    ValueError
        If ``personal_data`` is not ``"mask"`` or ``"include"``, or the key is too short.
    """
    if not isinstance(model, OrgModel):
        raise TypeError(f"export_json needs an OrgModel, not {type(model).__name__}")
    _check_personal(personal_data)
    ids = _pseudonyms(model, pseudonym_key)
    party_ids = {p.id for p in model.party_orgs}
    data: dict[str, Any] = {}
    for name in OrgModel.model_fields:
        value = getattr(model, name)
        if not isinstance(value, list):
            data[name] = value
            continue
        records = []
        for record in value:
            dumped = _dump(record, personal_data)
            if personal_data == "mask":
                if name == "memberships" and record.organisation_id in party_ids:
                    continue  # party membership
                _mask_party(name, dumped)
            records.append(_renamed(dumped, ids))
        data[name] = records
    text = json.dumps(data, ensure_ascii=False, indent=indent) + "\n"
    return str(_privacy.released(text))


def _mask_party(collection: str, data: dict[str, Any]) -> None:
    """Party membership beyond the marked fields: the role, and who holds a committee seat."""
    if collection == "people":
        data["roles"] = [r for r in data.get("roles", []) if r != Role.PARTY_MEMBER.value]
        if data.get("reports_to_community_id") is not None:  # 双报到: an in-service member
            data["reports_to_community_id"] = _privacy.MASK
    elif collection == "party_orgs":
        for seat in data.get("seats", []):
            seat["person_id"] = _privacy.MASK


# -- GeoJSON --------------------------------------------------------------------------------


def _place_kind(record: BaseModel) -> str:
    if isinstance(record, NeighbourhoodUnit):
        return record.kind.value
    if isinstance(record, Community):
        return "village" if record.kind.value == "village" else "community"
    return type(record).__name__.lower()


def to_geojson(
    model: OrgModel,
    *,
    places: Iterable[str] = ("units", "buildings", "entrances", "sites"),
    precision: int = 7,
    crs: str = "wgs84",
) -> dict[str, Any]:
    """Places of the model as a GeoJSON FeatureCollection (RFC 7946).

    Every place with a location becomes a Point feature: coordinates ``[lon, lat]`` in WGS84
    degrees (RFC 7946 §4; no ``crs`` member), the record's id as feature ``id``, and its
    other fields as ``properties`` with ``kind`` (compound, lane, courtyard, building,
    entrance, site, community, village). An entrance has no location of its own: it is drawn
    at its building's. Places without a location are left out. Households and people are
    never exported (personal data).

    Parameters
    ----------
    model : OrgModel
        The model; not changed.
    places : iterable of str, default ("units", "buildings", "entrances", "sites")
        Which collections to export, from :data:`GEOJSON_PLACES`.
    precision : int, default 7
        Decimal places kept of each coordinate (7 ≈ 1 cm; RFC 7946 §11.2 advises not to
        keep more than is meaningful).
    crs : {"wgs84", "gcj02", "bd09"}, default "wgs84"
        ``"gcj02"`` or ``"bd09"`` writes coordinates for a Chinese map SDK (Amap, Tencent,
        Baidu), which draws WGS84 points 100-700 m off (:func:`commgov.crs.from_wgs84`);
        such a file is no longer RFC 7946 GeoJSON, whose coordinates are WGS84.

    Returns
    -------
    dict
        A JSON-ready FeatureCollection, features sorted by id, with a ``bbox``
        ``[west, south, east, north]`` when there is any feature.

    Raises
    ------
    TypeError
        If ``model`` is not an OrgModel.
    ValueError
        If ``places`` names a collection that is not in :data:`GEOJSON_PLACES`, or
        ``precision`` is not 0-15.
    commgov.errors.InvalidParameterError
        If ``crs`` is not one of :data:`commgov.crs.CRS`.

    Examples
    --------
    >>> from commgov.datasets import synthetic_community
    >>> fc = to_geojson(synthetic_community("320508017016", seed=1))
    >>> fc["type"], fc["features"][0]["geometry"]["type"]
    ('FeatureCollection', 'Point')
    """
    if not isinstance(model, OrgModel):
        raise TypeError(f"to_geojson needs an OrgModel, not {type(model).__name__}")
    chosen = [places] if isinstance(places, str) else list(places)
    unknown = [p for p in chosen if p not in GEOJSON_PLACES]
    if unknown:
        raise ValueError(f"unknown places {unknown}: choose from {', '.join(GEOJSON_PLACES)}")
    if isinstance(precision, bool) or not isinstance(precision, int) or not 0 <= precision <= 15:
        raise ValueError(f"precision must be an int in 0-15, not {precision!r}")
    check_crs(crs, "to_geojson")
    building_at = {b.id: b.location for b in model.buildings}
    features = []
    for collection in GEOJSON_PLACES:
        if collection not in chosen:
            continue
        for record in getattr(model, collection):
            location = getattr(record, "location", None)
            if isinstance(record, Entrance):
                location = building_at.get(record.parent_id)
            if location is None:
                continue
            lon, lat = from_wgs84(location.lon, location.lat, crs)
            properties = _privacy.mask_dump(record)
            for drop in ("id", "location", "provenance"):
                properties.pop(drop, None)
            features.append(
                {
                    "type": "Feature",
                    "id": record.id,
                    "geometry": {
                        "type": "Point",
                        "coordinates": [round(lon, precision), round(lat, precision)],
                    },
                    "properties": {"kind": _place_kind(record), **properties},
                }
            )
    features.sort(key=lambda f: f["id"])
    collection_out: dict[str, Any] = {"type": "FeatureCollection"}
    if features:
        lons = [f["geometry"]["coordinates"][0] for f in features]
        lats = [f["geometry"]["coordinates"][1] for f in features]
        collection_out["bbox"] = [min(lons), min(lats), max(lons), max(lats)]
    collection_out["features"] = features
    released: dict[str, Any] = _privacy.released(collection_out)
    return released


# -- Popolo ---------------------------------------------------------------------------------


def _day(instant: datetime | None, zone: ZoneInfo) -> str | None:
    return None if instant is None else instant.astimezone(zone).date().isoformat()


def _area(record: AdminArea | Community | NeighbourhoodUnit) -> dict[str, Any]:
    area: dict[str, Any] = {"id": record.id, "name": record.name}
    if isinstance(record, AdminArea | Community):
        area["identifier"] = record.id  # the official statistical division code
        area["classification"] = (
            record.level.value if isinstance(record, AdminArea) else _place_kind(record)
        )
    else:
        area["classification"] = record.kind.value
    if record.parent_id is not None:
        area["parent_id"] = record.parent_id
    return area


def _clean(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if v is not None}


def to_popolo(
    model: OrgModel,
    *,
    personal_data: PersonalData = "mask",
    pseudonym_key: bytes | None = None,
) -> dict[str, Any]:
    """Organisations, people, posts and memberships as Popolo JSON.

    Mapping (Popolo: organization, person, membership, post, area):

    * party organisations → organizations, ``classification`` ``"party_org.<level>"``
      (``party_org.committee`` …), ``parent_id`` the organisation they are subordinate to,
      ``area_id`` the first place they lead, founding and dissolution dates from a temporary
      branch's window (local dates in the model's time zone);
    * bodies → organizations ``"body.<kind>"`` (residents' committee, property company …),
      teams → ``"team.<kind>"``; ``area_id`` their community;
    * committee seats of a party organisation → posts (``<org id>/seat<n>``, label and role
      the seat's title); duty posts → posts with role ``"duty_post"``, ``area_id`` the place
      of their site;
    * people → persons, with ``name`` and a ``voice`` contact detail only when
      ``personal_data="include"``;
    * memberships → memberships (role, label = local title, start and end dates); seat
      holders → memberships with their ``post_id``;
    * districts, sub-districts, communities and neighbourhood units → areas, with the
      official code as ``identifier``.

    Party membership is personal data: memberships of party organisations and seat holders
    are exported only with ``personal_data="include"``.

    Parameters
    ----------
    model : OrgModel
        The model; not changed.
    personal_data : {"mask", "include"}, default "mask"
        Leave personal data out (names, phones, party memberships), or include it.
    pseudonym_key : bytes, optional
        Replace the ids of people and memberships by keyed pseudonyms, as in
        :func:`export_json`.

    Returns
    -------
    dict
        ``{"organizations": [...], "persons": [...], "posts": [...], "memberships": [...],
        "areas": [...]}``, each list sorted by (original) id.

    Raises
    ------
    TypeError, ValueError
        For a bad ``model``, ``personal_data`` or key, as :func:`export_json`.
    """
    if not isinstance(model, OrgModel):
        raise TypeError(f"to_popolo needs an OrgModel, not {type(model).__name__}")
    _check_personal(personal_data)
    include = personal_data == "include"
    ids = _pseudonyms(model, pseudonym_key)
    zone = ZoneInfo(model.timezone)
    party_ids = {p.id for p in model.party_orgs}
    organizations: list[dict[str, Any]] = []
    posts: list[dict[str, Any]] = []
    memberships: list[dict[str, Any]] = []
    for org in model.party_orgs:
        organizations.append(_party_org(org, zone))
        for n, seat in enumerate(org.seats, start=1):
            post_id = f"{org.id}/seat{n}"
            posts.append(
                {"id": post_id, "label": seat.title, "role": seat.title, "organization_id": org.id}
            )
            if include:
                memberships.append(
                    _clean(
                        {
                            "id": f"{post_id}/holder",
                            "person_id": seat.person_id,
                            "organization_id": org.id,
                            "post_id": post_id,
                            "role": seat.title,
                            "start_date": _day(seat.term.start, zone) if seat.term else None,
                            "end_date": _day(seat.term.end, zone) if seat.term else None,
                        }
                    )
                )
    for body in model.bodies:
        organizations.append(
            {
                "id": body.id,
                "name": body.name,
                "classification": f"body.{body.kind.value}",
                "area_id": body.community_id,
            }
        )
    for team in model.teams:
        organizations.append(
            _clean(
                {
                    "id": team.id,
                    "name": team.name,
                    "classification": f"team.{team.kind.value}",
                    "area_id": team.community_id,
                }
            )
        )
    site_place = {s.id: s.parent_id for s in model.sites}
    for duty in model.duty_posts:
        posts.append(
            _clean(
                {
                    "id": duty.id,
                    "label": duty.title,
                    "role": "duty_post",
                    "area_id": site_place.get(duty.site_id),
                }
            )
        )
    for m in model.memberships:
        if m.organisation_id in party_ids and not include:
            continue
        memberships.append(
            _clean(
                {
                    "id": m.id,
                    "person_id": m.person_id,
                    "organization_id": m.organisation_id,
                    "role": m.role.value,
                    "label": m.title,
                    "start_date": m.start.isoformat() if m.start else None,
                    "end_date": m.end.isoformat() if m.end else None,
                }
            )
        )
    persons = []
    for person in model.people:
        item: dict[str, Any] = {"id": person.id}
        if include and person.name:
            item["name"] = person.name
        if include and person.phone:
            item["contact_details"] = [{"type": "voice", "value": person.phone}]
        persons.append(item)
    areas = [
        *(_area(r) for r in model.areas),
        *(_area(r) for r in model.communities),
        *(_area(r) for r in model.units),
    ]
    out = {
        "organizations": sorted(organizations, key=lambda o: o["id"]),
        "persons": persons,
        "posts": sorted(posts, key=lambda p: p["id"]),
        "memberships": sorted(memberships, key=lambda m: m["id"]),
        "areas": sorted(areas, key=lambda a: a["id"]),
    }
    released: dict[str, Any] = _privacy.released(_renamed(out, ids))
    return released


def _party_org(org: PartyOrg, zone: ZoneInfo) -> dict[str, Any]:
    return _clean(
        {
            "id": org.id,
            "name": org.name,
            "classification": f"party_org.{org.level.value}",
            "parent_id": org.parent_id,
            "area_id": org.leads[0] if org.leads else None,
            "founding_date": _day(org.valid.start, zone) if org.valid else None,
            "dissolution_date": _day(org.valid.end, zone) if org.valid else None,
        }
    )
