"""A day of relay deliveries (接力配送) in 虎池苑社区: rider → gate → Haitang Pioneer → door.

Three waves (groceries in the morning, meals at noon and in the evening) for the community's
elderly and mobility-limited households, plus groceries for every household of the sealed
building. Riders leave parcels at the community's supply transit point; the 20 Haitang
Pioneers carry them to the doors. Each wave is planned, verified and summarised.

Run: python examples/relay_day.py
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from commgov.datasets import HUCHIYUAN, gusu
from commgov.matching import (
    GateVolunteer,
    Parcel,
    RelayBuilding,
    RelayProblem,
    is_valid_relay_plan,
    plan_relay,
)

TZ = ZoneInfo("Asia/Shanghai")
DAY = datetime(2022, 4, 12, tzinfo=TZ)
#: (name, first rider arrival, minutes over which riders arrive, who gets a parcel)
WAVES = (
    ("groceries", DAY.replace(hour=7, minute=30), 90, "all"),
    ("lunch", DAY.replace(hour=11, minute=0), 45, "vulnerable"),
    ("supper", DAY.replace(hour=16, minute=30), 45, "vulnerable"),
)


def main() -> None:
    model = gusu(seed=0, communities=[HUCHIYUAN])
    community = next(c for c in model.communities if c.id == HUCHIYUAN)
    mine = [b for b in model.buildings if b.id.startswith(HUCHIYUAN + "/")]
    buildings = [
        RelayBuilding(id=b.id, location=b.location, floors=b.floors, has_lift=b.has_lift)
        for b in mine
    ]
    building_of_entrance = {e.id: e.parent_id for e in model.entrances}
    households = [h for h in model.households if h.id.startswith(HUCHIYUAN + "/")]
    sealed = {t for z in model.zones if z.id.startswith(HUCHIYUAN) for t in z.targets}
    # counts sit on entrances, or on the building where it has none (lane houses)
    counted = [(e.id, e.parent_id, e.counts) for e in model.entrances if e.parent_id in sealed]
    counted += [(b.id, b.id, b.counts) for b in mine if b.id in sealed and b.counts]
    sealed_homes = [
        (f"{rid}/D{k}", building)
        for rid, building, counts in counted
        for k in range(1, counts.households + 1)
    ]
    volunteers = [
        GateVolunteer(id=p.id, availability=p.availability, max_parcels_per_trip=4)
        for p in model.people
        if p.id.startswith(HUCHIYUAN) and "海棠先锋" in p.enrolments
    ]
    rng = np.random.default_rng(20220412)
    print(
        f"虎池苑社区: {len(mine)} buildings, {len(households)} elderly / mobility-limited "
        f"households, {len(sealed_homes)} households sealed, {len(volunteers)} pioneers"
    )
    for name, first, spread, who in WAVES:
        parcels = []
        for h in households:
            building = building_of_entrance.get(h.parent_id, h.parent_id)
            minute = int(rng.integers(spread))
            parcels.append(
                Parcel(
                    id=f"{name}/{h.id}",
                    household_id=h.id,
                    building_id=building,
                    arrival=first + timedelta(minutes=minute),
                    priority=3 if h.elderly_alone else 2,
                )
            )
        if who == "all":
            for home, building in sealed_homes:
                minute = int(rng.integers(spread))
                parcels.append(
                    Parcel(
                        id=f"{name}/{home}",
                        household_id=home,
                        building_id=building,
                        arrival=first + timedelta(minutes=minute),
                    )
                )
        problem = RelayProblem(
            timezone="Asia/Shanghai",
            gate=community.location,
            parcels=parcels,
            buildings=buildings,
            volunteers=volunteers,
        )
        plan = plan_relay(problem, seed=0)
        report = is_valid_relay_plan(problem, plan)
        t = plan.totals
        last = t.last_door.astimezone(TZ).strftime("%H:%M") if t.last_door else "-"
        print(
            f"{name:9s} {t.parcels:3d} parcels, {t.trips:3d} trips, {t.delivered:3d} delivered "
            f"(last door {last}, {t.late_parcels} late), "
            f"{t.parcels_per_volunteer_hour:.1f} parcels/volunteer-hour, "
            f"{plan.info.status.value}"
            + (f" gap {plan.info.gap:.1%}" if plan.info.gap is not None else "")
            + f", verifier ok: {report.ok}"
        )
        for u in plan.undelivered[:3]:
            print(f"  {u.parcel_id}: {u.reasons[0].text('zh')}")


if __name__ == "__main__":
    main()
