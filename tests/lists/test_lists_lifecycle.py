"""Records, lifecycle, partial fulfilment, recurrence and summaries of the three lists."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from commgov.errors import CommgovError
from commgov.lists import (
    FINAL_STATUSES,
    TRANSITIONS,
    HistoryEntry,
    LifecycleError,
    Need,
    Project,
    Recurrence,
    Resource,
    Status,
    ThreeLists,
    record_progress,
    summarise,
    transition,
)
from commgov.org import Person
from commgov.types import TimeWindow

UTC8 = timezone(timedelta(hours=8))
T0 = datetime(2022, 4, 10, 8, 0, tzinfo=UTC8)


def need(nid="n1", **kw):
    base = dict(
        id=nid,
        title="groceries to the door",
        category="food_supplies",
        unit_id="C03",
        place_id="C03/B12",
        quantity=3,
        measure="parcels",
        raised_at=T0,
        recorded_by="w1",
        source="household_visit",
    )
    base.update(kw)
    return Need(**base)


def resource(rid="r1", **kw):
    base = dict(
        id=rid,
        title="gate-to-door carriers",
        category="food_supplies",
        unit_id="C03",
        quantity=20,
        raised_at=T0,
        recorded_by="w1",
        provider_id="team1",
        provider_kind="pioneer_team",
        resource_type="people",
        service_area=["C03/B12", "C03/B02"],
    )
    base.update(kw)
    return Resource(**base)


def project(pid="p1", **kw):
    base = dict(
        id=pid,
        title="relay",
        category="food_supplies",
        unit_id="C03",
        raised_at=T0,
        recorded_by="w1",
        lead_org_id="org1",
        formation="self_claimed",
        need_ids=["n1"],
        resource_ids=["r1"],
    )
    base.update(kw)
    return Project(**base)


def at(minutes):
    return T0 + timedelta(minutes=minutes)


def walk(item, *statuses):
    for i, s in enumerate(statuses):
        last = item.history[-1].at if item.history else item.raised_at
        item = transition(item, s, by="w2", at=last + timedelta(minutes=1), why=f"step {i}")
    return item


def test_main_path_with_partial_fulfilment_and_history():
    n = walk(need(), "matched", "claimed", "in_progress")
    n = record_progress(n, 2, by="v1", at=at(10), why="two parcels at the door")
    assert (n.status, n.fulfilled, n.outstanding) == (Status.IN_PROGRESS, 2, 1)
    with pytest.raises(LifecycleError, match="cannot be fulfilled with 2 of 3 parcels"):
        transition(n, "fulfilled", by="v1", at=at(11))
    n = record_progress(n, 1, by="v1", at=at(12))
    n = transition(n, Status.FULFILLED, by="v1", at=at(13))
    n = transition(n, "closed_out", by="w1", at=at(14), why="verified by phone")
    assert n.status is Status.CLOSED_OUT and n.is_final
    assert [(e.from_status, e.to_status) for e in n.history][-2:] == [
        (Status.IN_PROGRESS, Status.FULFILLED),
        (Status.FULFILLED, Status.CLOSED_OUT),
    ]
    assert n.history[-1].by == "w1" and n.history[-1].at.tzinfo is not None
    assert n.history[-1].why == "verified by phone"


def test_closed_out_cannot_be_matched_again():
    n = walk(need(quantity=1), "claimed", "in_progress")
    n = record_progress(n, 1, by="v1", at=at(5))
    n = walk(n, "fulfilled", "closed_out")
    with pytest.raises(LifecycleError) as info:
        transition(n, "matched", by="w1", at=at(20))
    err = info.value
    assert isinstance(err, CommgovError) and isinstance(err, ValueError)
    assert (err.item_id, err.from_status, err.to_status) == ("n1", "closed_out", "matched")
    assert "closed_out is final" in str(err) and "n1" in str(err)


def test_refusal_names_allowed_targets():
    with pytest.raises(LifecycleError, match="from raised only cancelled, claimed, escalated"):
        transition(need(), "in_progress", by="w1", at=at(1))


def test_unknown_status_and_naive_time_refused():
    with pytest.raises(ValueError):
        transition(need(), "done", by="w1", at=at(1))
    with pytest.raises(ValidationError):
        transition(need(), "matched", by="w1", at=datetime(2022, 4, 10, 9))


def test_history_is_in_time_order():
    n = transition(need(), "matched", by="w1", at=at(5))
    with pytest.raises(LifecycleError, match="append-only"):
        transition(n, "claimed", by="w1", at=at(4))
    with pytest.raises(LifecycleError, match="append-only"):
        transition(need(), "matched", by="w1", at=T0 - timedelta(seconds=1))


def test_progress_only_while_in_progress_and_within_quantity():
    with pytest.raises(LifecycleError, match="only while in_progress"):
        record_progress(need(), 1, by="v1", at=at(1))
    n = walk(need(), "claimed", "in_progress")
    for bad in (0, -1, True, 1.5):
        with pytest.raises(LifecycleError, match="positive whole number"):
            record_progress(n, bad, by="v1", at=at(5))
    with pytest.raises(LifecycleError, match="exceeds the 3 parcels outstanding"):
        record_progress(n, 4, by="v1", at=at(5))


def test_failed_verification_reopens():
    n = walk(need(quantity=1), "claimed", "in_progress")
    n = record_progress(n, 1, by="v1", at=at(5))
    n = walk(n, "fulfilled", "in_progress")
    assert n.status is Status.IN_PROGRESS and n.fulfilled == 1


def test_illegal_history_refused_on_load():
    good = walk(need(), "matched")
    data = good.model_dump()
    data["history"] += (
        {"at": at(9), "by": "w1", "from_status": "matched", "to_status": "fulfilled"},
    )
    with pytest.raises(ValidationError, match="cannot go from matched to fulfilled"):
        Need.model_validate(data)
    data = good.model_dump()
    data["history"][0]["from_status"] = "claimed"
    with pytest.raises(ValidationError, match="starts from claimed, but the item was raised"):
        Need.model_validate(data)
    with pytest.raises(ValidationError, match="initial_fulfilled 4 exceeds quantity 3"):
        need(initial_fulfilled=4)
    with pytest.raises(ValidationError, match="needs initial_fulfilled = quantity"):
        need(initial_status="closed_out", initial_fulfilled=1)


def test_table_shape():
    assert set(TRANSITIONS) == set(Status)
    assert {Status.CLOSED_OUT, Status.REJECTED, Status.CANCELLED} == FINAL_STATUSES
    for s in set(Status) - FINAL_STATUSES:
        assert Status.CANCELLED in TRANSITIONS[s] or s == Status.FULFILLED


def test_sensitive_fields_marked_like_person_name():
    mark = Person.model_fields["name"].json_schema_extra
    assert Need.model_fields["description"].json_schema_extra == mark
    assert Need.model_fields["vulnerability"].json_schema_extra == mark
    assert Resource.model_fields["contact"].json_schema_extra == mark
    assert HistoryEntry.model_fields["why"].json_schema_extra == mark
    assert not Need.model_fields["title"].json_schema_extra


def test_recurrence_daily_keeps_wall_clock_across_dst():
    ny = ZoneInfo("America/New_York")
    first = TimeWindow(
        start=datetime(2022, 3, 12, 9, tzinfo=ny), end=datetime(2022, 3, 12, 10, tzinfo=ny)
    )
    rule = Recurrence(freq="daily", count=3, time_zone="America/New_York")
    occ = need(window=first, recurrence=rule).occurrences()
    assert [w.start.astimezone(ny).hour for w in occ] == [9, 9, 9]
    assert all(w.minutes == 60 for w in occ)
    assert occ[2].start - occ[0].start == timedelta(hours=47)  # the night clocks went forward


def test_recurrence_weekly_until_and_bounds():
    first = TimeWindow(start=T0, end=T0 + timedelta(hours=1))
    rule = Recurrence(freq="weekly", interval=2, until=T0 + timedelta(days=28))
    occ = rule.occurrences(first)
    assert [w.start - T0 for w in occ] == [timedelta(days=d) for d in (0, 14, 28)]
    with pytest.raises(ValidationError, match="exactly one of count and until"):
        Recurrence(freq="daily")
    with pytest.raises(ValidationError, match="exactly one of count and until"):
        Recurrence(freq="daily", count=2, until=T0)
    with pytest.raises(ValidationError, match="needs a window"):
        need(recurrence=Recurrence(freq="daily", count=2))
    assert need().occurrences() == ()
    assert need(window=first).occurrences() == (first,)


def test_summaries():
    a = walk(need("n1", quantity=2), "claimed", "in_progress")
    a = record_progress(a, 1, by="v", at=at(9))
    b = need("n2", unit_id="C04", category="medical", quantity=5)
    c = walk(need("n3", quantity=1), "cancelled")
    rows = {r.key: r for r in summarise([a, b, c], "unit")}
    assert (rows["C03"].items, rows["C03"].quantity, rows["C03"].fulfilled, rows["C03"].open) == (
        2,
        3,
        1,
        1,
    )
    assert rows["C03"].outstanding == 2
    assert [r.key for r in summarise([a, b, c], "status")] == ["raised", "in_progress", "cancelled"]
    assert [r.key for r in summarise([a, b, c], "category")] == ["food_supplies", "medical"]
    lists = ThreeLists(needs=(c, b, a))
    assert lists.summary("category") == summarise([a, b, c], "category")
    with pytest.raises(ValueError, match="by must be"):
        summarise([a], "place")  # type: ignore[arg-type]


def test_container_sorted_canonical_and_checked():
    lists = ThreeLists(
        needs=(need("n2"), need("n1")), resources=(resource(),), projects=(project(),)
    )
    assert [n.id for n in lists.needs] == ["n1", "n2"]
    text = lists.to_json()
    assert ThreeLists.from_json(text).to_json() == text
    assert (
        ThreeLists(
            needs=(need("n1"), need("n2")), resources=(resource(),), projects=(project(),)
        ).to_json()
        == text
    )
    with pytest.raises(ValidationError, match=r"n1.id = 'n1': is used twice \(needs\)"):
        ThreeLists(needs=(need("n1"),), resources=(resource("n1"),))
    with pytest.raises(
        ValidationError, match=r"p1\.resource_ids = 'r9': is not on the resources list"
    ):
        ThreeLists(needs=(need(),), projects=(project(resource_ids=["r9"]),))
    assert lists.item("r1") == resource()
    with pytest.raises(KeyError, match="not in the model"):
        lists.item("zz")
    moved = lists.replace(transition(need("n1"), "matched", by="w", at=at(1)), need("n3"))
    assert moved.item("n1").status is Status.MATCHED and len(moved.needs) == 3
    with pytest.raises(TypeError):
        lists.replace("n1")  # type: ignore[arg-type]
