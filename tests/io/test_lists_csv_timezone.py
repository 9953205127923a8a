"""Issue 13 item 8: list exports write times in local time with their offset, and they read
back as the same instants."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from commgov.errors import InvalidParameterError
from commgov.io import import_lists, lists_csv_texts
from commgov.lists import Need, ThreeLists

SH = ZoneInfo("Asia/Shanghai")


def _lists(tz: object) -> ThreeLists:
    t = datetime(2022, 4, 10, 9, tzinfo=tz)  # type: ignore[arg-type]
    need = Need(id="n1", title="rice", category="food_supplies", unit_id="c1", quantity=3,
                raised_at=t, recorded_by="w1", source="household_visit",
                window={"start": t, "end": t + timedelta(hours=2)})
    return ThreeLists(needs=(need,))


@pytest.mark.parametrize("given", [SH, UTC, ZoneInfo("Europe/Berlin")])
def test_a_nine_oclock_delivery_is_written_as_nine_local(given):
    lists = _lists(given)
    row = next(csv.DictReader(io.StringIO(lists_csv_texts(lists)["needs.csv"])))
    start = datetime.fromisoformat(row["window_start"])
    assert start == lists.needs[0].window.start  # the same instant …
    assert start.utcoffset() == timedelta(hours=8)  # … written in Shanghai time
    assert row["window_start"].endswith("+08:00") and row["raised_at"].endswith("+08:00")
    berlin = lists_csv_texts(lists, timezone="Europe/Berlin")["needs.csv"]
    assert "+02:00" in berlin and "+08:00" not in berlin


def test_written_times_read_back_as_the_same_instants(tmp_path):
    lists = _lists(SH)
    for name, text in lists_csv_texts(lists, personal_data=True).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    back = import_lists(tmp_path / "needs.csv")
    assert back.needs[0].window == lists.needs[0].window
    assert back.needs[0].raised_at == lists.needs[0].raised_at


@pytest.mark.parametrize("bad", ["Mars/Olympus", "", 8, None, "../etc"])
def test_an_unknown_zone_is_a_parameter_error(bad):
    with pytest.raises(InvalidParameterError, match="timezone"):
        lists_csv_texts(_lists(SH), timezone=bad)
