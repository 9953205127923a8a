"""A residents' committee backend on commgov alone: import → store → plan → events → re-plan.

The app scenario of the "embedding commgov in an app" work, written with no glue of its own
for ids, coordinates, storage, locks or jobs:

1. the app's tables (its own ids, positions from a Chinese map app in GCJ-02) become an
   organisation model (``import_community(..., crs="gcj02")``);
2. the model and a live state are saved in a store (SQLite file by default; a PostgreSQL URL
   in ``COMMGOV_EXAMPLE_DB`` works the same);
3. a sampling plan and a volunteer matching are made, verified and stored with the hashes of
   what they came from;
4. events arrive — a building is sealed, a volunteer drops out, a task is declined — and are
   appended to the store's history (optimistic concurrency: a stale writer is refused);
5. the plan and the matching are redone with the fewest changes, in background jobs;
6. everything is exported with the app's ids and the names residents know.

Run: ``python examples/app_backend.py`` (needs the ``store`` extra).
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from commgov import jobs
from commgov.datasets import gusu_divisions
from commgov.io import IdMap, import_community, sampling_csv_texts
from commgov.live import (
    BuildingSealed,
    CheckedIn,
    CommunityState,
    TaskDeclined,
    VolunteerUnavailable,
    hours_served,
    rematch,
    replan_after_events,
)
from commgov.matching import Task, is_valid_assignment
from commgov.scheduling import is_valid_sampling_plan, plan_sampling, sampling_problem_from_org
from commgov.store import ConflictError, Store

COMMUNITY = "320508017016"
TZ = timezone(timedelta(hours=8))

# -- 1. the app's tables: its ids, GCJ-02 positions (as a Chinese map SDK gives them) -------
TABLES = {
    "compounds": [{"id": "xq-1", "code": "01", "kind": "小区", "name": "春晖苑",
                   "lon": 120.578194, "lat": 31.332838}],
    "buildings": [
        {"id": "bd-1", "code": "01", "compound": "xq-1", "label": "1幢",
         "lon": 120.577795, "lat": 31.333138},
        {"id": "bd-2", "code": "02", "compound": "xq-1", "label": "2幢",
         "lon": 120.578594, "lat": 31.333238},
        {"id": "bd-3", "code": "03", "compound": "xq-1", "label": "3幢",
         "lon": 120.578993, "lat": 31.332437},
    ],
    "entrances": [
        {"id": "en-11", "code": "1", "building": "bd-1", "label": "1单元",
         "households": 12, "residents": 30, "mobility_limited": 1},
        {"id": "en-21", "code": "1", "building": "bd-2", "label": "1单元",
         "households": 18, "residents": 44, "mobility_limited": 2},
        {"id": "en-31", "code": "1", "building": "bd-3", "label": "1单元",
         "households": 22, "residents": 55, "mobility_limited": 1},
    ],
    "households": [
        {"id": "hh-7", "code": "101", "entrance": "en-11", "residents": 1,
         "mobility_limited": 1, "elderly_alone": True},
        {"id": "hh-9", "code": "302", "entrance": "en-21", "residents": 2,
         "mobility_limited": 1},
        {"id": "hh-4", "code": "501", "entrance": "en-31", "residents": 1,
         "mobility_limited": 1, "elderly_alone": True},
    ],
    "people": [
        {"id": f"vol-{i}", "code": f"00{i}", "roles": "volunteer", "enrolments": "海棠先锋",
         "skills": "delivery:2;elderly_care:2",
         "availability": "2022-04-12T08:00+08:00/2022-04-12T12:00+08:00",
         "home_building": home}
        for i, home in ((1, "bd-1"), (2, "bd-2"), (3, "bd-3"))
    ],
    "sites": [{"id": "pt-1", "code": "01", "compound": "xq-1", "name": "春晖苑门岗采样点",
               "lon": 120.578294, "lat": 31.332738, "emergency_functions": "sampling_point",
               "lanes": 2, "rate_per_lane_per_hour": 90,
               "opening": "2022-04-12T07:00+08:00/2022-04-12T11:00+08:00"}],
    "teams": [{"id": "tm-1", "code": "01", "kind": "volunteer", "name": "春晖苑海棠先锋队",
               "brand": "海棠先锋", "covers_compounds": "xq-1"}],
    "memberships": [
        {"id": f"ms-{i}", "code": str(i), "person": f"vol-{i}", "team": "tm-1"}
        for i in (1, 2, 3)
    ],
}  # fmt: skip


def app_tasks(ids: IdMap) -> list[Task]:
    """The app's delivery and care tasks (its ids, GCJ-02 positions) as commgov tasks."""
    out = []
    for n, (household, building, lon, lat, skill, hour) in enumerate(
        [
            ("hh-7", "bd-1", 120.577795, 31.333138, "delivery", 9),
            ("hh-9", "bd-2", 120.578594, 31.333238, "delivery", 9),
            ("hh-4", "bd-3", 120.578993, 31.332437, "delivery", 9),
            ("hh-7", "bd-1", 120.577795, 31.333138, "elderly_care", 10),
            ("hh-4", "bd-3", 120.578993, 31.332437, "elderly_care", 10),
        ],
        start=1,
    ):
        start = datetime(2022, 4, 12, hour, tzinfo=TZ)
        out.append(
            Task(
                id=f"tk-{n}",
                skill=skill,
                location={"lon": lon, "lat": lat, "crs": "gcj02"},
                window={"start": start, "end": start + timedelta(hours=1)},
                household_id=ids.to_commgov(household, "households"),
                building_id=ids.to_commgov(building, "buildings"),
                priority=3 if skill == "delivery" else 2,
            )
        )
    return out


def main(target: str | Path) -> dict[str, object]:
    """Run the scenario on a store at ``target``; return what an app would check."""
    imported = import_community(TABLES, base=gusu_divisions(), community_id=COMMUNITY, crs="gcj02")
    ids = imported.id_map
    tasks = app_tasks(ids)

    with Store(target) as store:
        # -- 2. the system of record ---------------------------------------------------------
        store.save_model(COMMUNITY, imported.model, expected_version=None,
                         actor="import-job", why="community tables imported")  # fmt: skip
        state = CommunityState.start(imported.model, COMMUNITY, tasks=tasks)
        live = store.save_state(COMMUNITY, state, expected_version=None,
                                actor="import-job", why="round of 12 April opened")  # fmt: skip

        # -- 3. plan and match, verified, stored with what they came from --------------------
        problem = sampling_problem_from_org(imported.model, COMMUNITY)
        plan = jobs.submit(plan_sampling, problem, time_limit_s=10).result()
        assert is_valid_sampling_plan(problem, plan).ok
        plan = plan.stamped(problem=problem, model=imported.model)  # what it came from
        store.save_problem(COMMUNITY, "sampling", problem, expected_version=None,
                           actor="planner", why="first plan")  # fmt: skip
        store.save_result(COMMUNITY, "sampling", plan, problem=problem,
                          expected_version=None, actor="planner", why="first plan")  # fmt: skip
        first = rematch(state)
        assert is_valid_assignment(first.problem, first.assignment).ok
        store.save_result(COMMUNITY, "matching", first.assignment, problem=first.problem,
                          expected_version=None, actor="planner", why="first match")  # fmt: skip

        # -- 4. events, appended atomically; a stale writer is refused -----------------------
        at = datetime(2022, 4, 12, 7, 15, tzinfo=TZ)
        sealed = ids.to_commgov("bd-3", "buildings")
        dropped = first.assignment.matches[0].volunteer_id
        declined = next(m for m in first.assignment.matches if m.volunteer_id != dropped)
        live = store.append_events(
            COMMUNITY,
            [
                BuildingSealed(at=at, building_id=sealed, event_id="app-ev-1"),
                VolunteerUnavailable(at=at, volunteer_id=dropped, event_id="app-ev-2"),
                TaskDeclined(at=at, task_id=declined.task_id,
                             volunteer_id=declined.volunteer_id, event_id="app-ev-3"),
            ],
            expected_version=live, actor="duty-officer", why="morning reports",
        )  # fmt: skip
        refused = False
        try:
            late = CheckedIn(at=at, volunteer_id=declined.volunteer_id)
            store.append_events(COMMUNITY, [late], expected_version=live - 1, actor="tablet-2")
        except ConflictError as err:
            refused = True
            print("refused:", err)

        # -- 5. re-plan and re-match with the fewest changes ---------------------------------
        state = store.state(COMMUNITY, reveal=True).value
        replanned = replan_after_events(state, problem, plan, at=at)
        again = jobs.submit(rematch, state, previous=first.assignment, at=at).result()
        assert is_valid_assignment(again.problem, again.assignment).ok
        print(f"re-plan: {len(replanned.changed_buildings)} building(s) changed notices")
        store.save_result(
            COMMUNITY, "sampling", replanned.plan, problem=problem, model=imported.model,
            expected_version=1, actor="planner", why="building 3 sealed",
        )  # fmt: skip
        print(f"re-match: {len(again.changes)} task(s) changed volunteer")
        store.save_result(
            COMMUNITY, "matching", again.assignment, problem=again.problem,
            expected_version=1, actor="planner", why="after morning reports",
        )  # fmt: skip

        # -- 6. exports in the app's ids and the names residents know ------------------------
        texts = sampling_csv_texts(problem, replanned.plan)
        stored_ids = IdMap.from_model(store.get(COMMUNITY, "model", reveal=True).value)
        print(stored_ids.app_csv(texts["buildings.csv"]).splitlines()[0])
        rows = stored_ids.app_rows(again.assignment.rows())
        for row in rows:
            print(row["task_id"], "→", row["app_volunteer_id"] or f"unserved: {row['reason']}")
        for change in store.history(COMMUNITY):
            print(f"v{change.version} {change.kind:8} {change.actor:13} {change.why}")
        print("hours served rows:", len(hours_served(state).rows()))
        return {
            "refused": refused,
            "sealed": sealed,
            "replanned": replanned,
            "again": again,
            "declined": (declined.task_id, declined.volunteer_id),
            "dropped": dropped,
            "stale": [s.name for s in store.stale_results(COMMUNITY)],
            "buildings_csv": stored_ids.app_csv(texts["buildings.csv"]),
            "history": [(c.kind, c.actor) for c in store.history(COMMUNITY)],
        }


if __name__ == "__main__":
    target = os.environ.get("COMMGOV_EXAMPLE_DB")
    if target:
        main(target)
    else:
        with tempfile.TemporaryDirectory() as folder:
            main(Path(folder) / "community.db")
