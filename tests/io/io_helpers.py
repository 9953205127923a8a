"""Helpers for tests/io: tables made from a model, personal data planted in inputs, and the
scan of every error message, log line and export for it.

Each test module of tests/io imports :func:`no_personal_data_leaks` (an autouse fixture: it
applies to every test of a module that imports it); a test that asks for personal data in
clear requests :func:`allow_personal_data`. (A conftest.py would clash with the one of
tests/datasets under ``--doctest-modules``: both are imported as ``conftest``.)
"""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path
from typing import Any

import pytest

import commgov.errors
from commgov.io import _privacy, gcj02_to_wgs84, wgs84_to_gcj02
from commgov.org import NeighbourhoodKind, OrgModel

COMMUNITY = "320508017016"

#: Values planted in sensitive fields of test inputs: none may show in an error message, a log
#: line or a default export (tests/io/conftest.py scans them).
PLANTED = {
    "name": "欧阳秀英",
    "name_latin": "Ouyang Xiuying",
    "phone": "13912345678",
    "resident_id": "32050819580101123X",
}


def _segment(rid: str) -> str:
    return rid.rsplit("/", 1)[1][1:]


def _point(record: Any, crs: str) -> dict[str, str]:
    if record.location is None:
        return {}
    lon, lat = record.location.lon, record.location.lat
    if crs == "gcj02":
        lon, lat = wgs84_to_gcj02(lon, lat)
    return {"lon": repr(lon), "lat": repr(lat)}


def tables_from_model(model: OrgModel, *, crs: str = "wgs84") -> dict[str, list[dict[str, str]]]:
    """The model's community records as an app's tables: every cell text, ids the model's."""
    units = []
    for u in model.units:
        row = {"id": u.id, "code": _segment(u.id), "kind": u.kind.value, "name": u.name}
        row["property_management"] = u.property_management.value
        if u.kind is NeighbourhoodKind.COURTYARD and not u.parent_id.isdigit():
            row["parent"] = u.parent_id
        units.append({**row, **_point(u, crs)})
    buildings = []
    for b in model.buildings:
        row = {
            "id": b.id,
            "code": _segment(b.id),
            "compound": b.parent_id,
            "label": b.label,
            "floors": str(b.floors),
            "has_lift": "true" if b.has_lift else "false",
        }
        if b.counts is not None:
            row.update({k: str(v) for k, v in b.counts.model_dump().items()})
        buildings.append({**row, **_point(b, crs)})
    entrances = [
        {
            "id": e.id,
            "code": _segment(e.id),
            "building": e.parent_id,
            "label": e.label,
            **{k: str(v) for k, v in e.counts.model_dump().items()},
        }
        for e in model.entrances
    ]
    entrance_ids = {e.id for e in model.entrances}
    households = []
    for h in model.households:
        where = "entrance" if h.parent_id in entrance_ids else "building"
        households.append(
            {
                "id": h.id,
                "code": _segment(h.id),
                where: h.parent_id,
                "residents": str(h.residents),
                "mobility_limited": str(h.mobility_limited),
                "elderly_alone": "是" if h.elderly_alone else "否",
            }
        )
    building_ids = {b.id for b in model.buildings}
    people = []
    for p in model.people:
        row = {
            "id": p.id,
            "code": _segment(p.id),
            "roles": ";".join(r.value for r in p.roles),
            "enrolments": ";".join(p.enrolments),
            "skills": ";".join(f"{k}:{v}" for k, v in p.skills.items()),
            "availability": ";".join(
                f"{w.start.isoformat()}/{w.end.isoformat()}" for w in p.availability
            ),
        }
        if p.home_id is not None:
            kind = (
                "home_building"
                if p.home_id in building_ids
                else "home_entrance"
                if p.home_id in entrance_ids
                else "home_household"
            )
            row[kind] = p.home_id
        if p.name:
            row["name"] = p.name
        people.append({**row, **_point(p, crs)})
    sites = []
    for s in model.sites:
        row = {
            "id": s.id,
            "code": _segment(s.id),
            "name": s.name,
            "brand": s.brand or "",
            "normal_functions": ";".join(f.value for f in s.normal_functions),
            "emergency_functions": ";".join(f.value for f in s.emergency_functions),
            "lanes": str(s.lanes),
            "rate_per_lane_per_hour": repr(s.rate_per_lane_per_hour),
        }
        if not s.parent_id.isdigit():
            row["compound"] = s.parent_id
        if s.opening is not None:
            row["opening"] = f"{s.opening.start.isoformat()}/{s.opening.end.isoformat()}"
        sites.append({**row, **_point(s, crs)})
    unit_ids = {u.id for u in model.units}
    teams = []
    for t in model.teams:
        row = {"id": t.id, "code": _segment(t.id), "kind": t.kind.value, "name": t.name}
        row["covers"] = ";".join(c for c in t.covers if c in building_ids)
        row["covers_compounds"] = ";".join(c for c in t.covers if c in unit_ids)
        if t.brand:
            row["brand"] = t.brand
        if t.partner_ids:
            row["partner_ids"] = ";".join(t.partner_ids)
        teams.append(row)
    team_ids = {t.id for t in model.teams}
    memberships = []
    for m in model.memberships:
        row = {"id": m.id, "code": _segment(m.id), "person": m.person_id, "role": m.role.value}
        row["team" if m.organisation_id in team_ids else "organisation"] = m.organisation_id
        for name in ("title", "start", "end"):
            value = getattr(m, name)
            if value is not None:
                row[name] = str(value)
        memberships.append(row)
    return {
        "compounds": units,
        "buildings": buildings,
        "entrances": entrances,
        "households": households,
        "people": people,
        "sites": sites,
        "teams": teams,
        "memberships": memberships,
    }


def write_tables(
    tables: dict[str, list[dict[str, Any]]], folder: Path, fmt: str
) -> dict[str, Path]:
    """Write each table as ``folder/<table>.csv`` (or ``.json``); return the paths."""
    out = {}
    for name, rows in tables.items():
        if not rows:
            continue
        path = folder / f"{name}.{fmt}"
        if fmt == "json":
            path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
        else:
            columns: list[str] = []
            for row in rows:
                columns.extend(k for k in row if k not in columns)
            with path.open("w", encoding="utf-8", newline="") as fh:
                writer = csv.DictWriter(fh, columns)
                writer.writeheader()
                writer.writerows(rows)
        out[name] = path
    return out


def without_provenance(model: OrgModel) -> dict[str, Any]:
    data = model.model_dump(mode="json")
    for value in data.values():
        if isinstance(value, list):
            for record in value:
                record.pop("provenance", None)
    return data


__all__ = [
    "COMMUNITY",
    "PLANTED",
    "allow_personal_data",
    "find_planted",
    "gcj02_to_wgs84",
    "no_personal_data_leaks",
    "tables_from_model",
    "without_provenance",
    "write_tables",
]


def find_planted(outputs: list[tuple[str, str]]) -> list[str]:
    """Each (kind, text) output that shows a planted value, described."""
    return [
        f"{kind} shows planted {what} {value!r}: {text[:200]!r}"
        for kind, text in outputs
        for what, value in PLANTED.items()
        if value in text
    ]


def overlay_model() -> OrgModel:
    """A synthetic community with the overlay: party organisations (with seats and an action
    branch), a residents' committee, a team, named people with phones and health flags
    (planted values), memberships, a liaison and a duty post."""
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from commgov.datasets import synthetic_community
    from commgov.org import (
        Body,
        BodyKind,
        DutyPost,
        DutyTask,
        HealthFlag,
        Liaison,
        MemberCategory,
        Membership,
        MembershipRole,
        PartyOrg,
        PartyOrgKind,
        PartyOrgLevel,
        Seat,
        Team,
        TeamKind,
    )
    from commgov.types import TimeWindow

    tz = ZoneInfo("Asia/Shanghai")
    base = synthetic_community(COMMUNITY, seed=2)
    people = list(base.people)
    first, second = people[0], people[1]
    people[0] = first.model_copy(
        update={
            "name": PLANTED["name"],
            "phone": PLANTED["phone"],
            "health_flags": [HealthFlag.CHRONIC_CONDITION],
            "roles": sorted({*first.roles, "party_member"}),
            "party_category": MemberCategory.RESIDENT,
        }
    )
    people[1] = second.model_copy(update={"name": PLANTED["name_latin"]})
    zone = base.zones[0]
    unit = base.units[0]
    committee = PartyOrg(
        id=f"{COMMUNITY}/PO",
        level=PartyOrgLevel.COMMITTEE,
        name="虎池苑社区党委",
        leads=[COMMUNITY],
        seats=[Seat(person_id=people[0].id, title="secretary")],
    )
    branch = PartyOrg(
        id=f"{COMMUNITY}/PO/B1",
        level=PartyOrgLevel.BRANCH,
        kind=PartyOrgKind.CO_GOVERNANCE,
        name=f"{unit.name}共治党支部",
        parent_id=committee.id,
        leads=[unit.id],
    )
    action = PartyOrg(
        id=f"{COMMUNITY}/PO/A1",
        level=PartyOrgLevel.BRANCH,
        kind=PartyOrgKind.ACTION_BRANCH,
        name="临时党支部",
        parent_id=committee.id,
        leads=list(zone.targets[:1]),
        zone_designation_id=zone.id,
        valid=zone.valid,
    )
    body = Body(
        id=f"{COMMUNITY}/RC",
        kind=BodyKind.RESIDENTS_COMMITTEE,
        name="虎池苑社区居民委员会",
        community_id=COMMUNITY,
    )
    team = Team(
        id=f"{COMMUNITY}/T01",
        kind=TeamKind.VOLUNTEER,
        name="海棠先锋1队",
        community_id=COMMUNITY,
        brand="海棠先锋",
    )
    memberships = [
        Membership(
            id=f"{COMMUNITY}/M001",
            person_id=people[0].id,
            organisation_id=committee.id,
            start=date(2020, 7, 1),
        ),
        Membership(
            id=f"{COMMUNITY}/M002",
            person_id=people[0].id,
            organisation_id=team.id,
            role=MembershipRole.LEADER,
            title="队长",
            start=date(2022, 3, 1),
        ),
        Membership(id=f"{COMMUNITY}/M003", person_id=people[1].id, organisation_id=team.id),
    ]
    liaison = Liaison(
        id=f"{COMMUNITY}/LI01",
        person_id=people[0].id,
        household_ids=[h.id for h in base.households[:3]],
        services=["政策宣传"],
    )
    duty = DutyPost(
        id=f"{COMMUNITY}/DP01",
        site_id=base.sites[0].id,
        title="1号门岗",
        tasks=[DutyTask.HEALTH_CODE_CHECK],
        shifts=[
            TimeWindow(
                start=datetime(2022, 4, 12, 7, tzinfo=tz), end=datetime(2022, 4, 12, 12, tzinfo=tz)
            )
        ],
    )
    overlay = base.model_copy(
        update={
            "people": people,
            "party_orgs": [committee, branch, action],
            "bodies": [body],
            "teams": [team],
            "memberships": memberships,
            "liaisons": [liaison],
            "duty_posts": [duty],
        }
    )
    return OrgModel.model_validate(overlay.model_dump())


class _Lines(logging.Handler):
    def __init__(self, out: list[tuple[str, str]]) -> None:
        super().__init__(logging.DEBUG)
        self.out = out

    def emit(self, record: logging.LogRecord) -> None:
        self.out.append(("log line", self.format(record)))


@pytest.fixture
def allow_personal_data(request):
    """The test asks for personal data in clear: its outputs are not scanned."""
    request.node.personal_data_allowed = True


@pytest.fixture(autouse=True)
def no_personal_data_leaks(request, monkeypatch):
    """Collect every commgov error message, log line and export of the test; fail the test
    when one shows a planted value (unless it requested ``allow_personal_data``)."""
    outputs: list[tuple[str, str]] = []
    logger = logging.getLogger("commgov")
    handler = _Lines(outputs)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    base_init = commgov.errors.CommgovError.__init__

    def init(self, *args, **kwargs):
        base_init(self, *args, **kwargs)
        outputs.append(("error message", f"{self}\n{getattr(self, 'issues', '')!r}"))

    monkeypatch.setattr(commgov.errors.CommgovError, "__init__", init)
    release = _privacy.released

    def released(data):
        text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
        outputs.append(("export", text))
        return release(data)

    monkeypatch.setattr(_privacy, "released", released)
    request.node.scanned_outputs = outputs
    try:
        yield outputs
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    if not getattr(request.node, "personal_data_allowed", False):
        leaks = find_planted(outputs)
        if leaks:
            pytest.fail("personal data leaked:\n" + "\n".join(leaks), pytrace=False)
