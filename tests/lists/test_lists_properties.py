"""Property tests: random transition sequences against a brute-force model; JSON round trip."""

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from commgov.lists import LifecycleError, Need, Status, ThreeLists, record_progress, transition

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
T0 = datetime(2022, 4, 10, 8, 0, tzinfo=timezone(timedelta(hours=8)))

# The lifecycle written out independently, edge by edge, as issue 4 and domain.md §5.2 state it.
EDGES = {
    ("raised", "matched"),
    ("raised", "claimed"),
    ("raised", "rejected"),
    ("raised", "escalated"),
    ("raised", "cancelled"),
    ("matched", "raised"),
    ("matched", "claimed"),
    ("matched", "rejected"),
    ("matched", "escalated"),
    ("matched", "cancelled"),
    ("claimed", "matched"),
    ("claimed", "in_progress"),
    ("claimed", "escalated"),
    ("claimed", "cancelled"),
    ("in_progress", "fulfilled"),
    ("in_progress", "escalated"),
    ("in_progress", "cancelled"),
    ("fulfilled", "closed_out"),
    ("fulfilled", "in_progress"),
    ("escalated", "raised"),
    ("escalated", "matched"),
    ("escalated", "rejected"),
    ("escalated", "cancelled"),
}
STATUSES = [s.value for s in Status]

ops = st.lists(
    st.one_of(
        st.tuples(st.just("to"), st.sampled_from(STATUSES)),
        st.tuples(st.just("progress"), st.integers(-1, 6)),
    ),
    max_size=30,
)


def make_need(nid="n1", quantity=4, unit="C03", category="food_supplies"):
    return Need(
        id=nid,
        title="t",
        category=category,
        unit_id=unit,
        quantity=quantity,
        raised_at=T0,
        recorded_by="w1",
        source="rider",
    )


def run(item, steps):
    """Apply steps; check each against the model; return the item and the legal count."""
    status, done, legal = "raised", 0, 0
    for i, (op, arg) in enumerate(steps):
        when = T0 + timedelta(minutes=i)
        if op == "to":
            ok = (status, arg) in EDGES and (arg != "fulfilled" or done == item.quantity)
        else:
            ok = status == "in_progress" and 1 <= arg <= item.quantity - done
        try:
            if op == "to":
                new = transition(item, arg, by="w", at=when, why=str(i))
            else:
                new = record_progress(item, arg, by="w", at=when)
        except LifecycleError as exc:
            assert not ok, f"step {i} {op} {arg} from {status} refused: {exc}"
            assert new_is_unchanged(item, status, done)
            continue
        assert ok, f"step {i} {op} {arg} from {status} accepted"
        item, legal = new, legal + 1
        if op == "to":
            status = arg
        else:
            done += arg
        assert (item.status.value, item.fulfilled) == (status, done)
        assert len(item.history) == legal
    return item, legal


def new_is_unchanged(item, status, done):
    return item.status.value == status and item.fulfilled == done


@st.composite
def guided_steps(draw, quantity):
    """Steps that mostly follow the model (to reach deep statuses), with illegal ones mixed in."""
    status, done, steps = "raised", 0, []
    for _ in range(draw(st.integers(0, 40))):
        legal = sorted(
            b for a, b in EDGES if a == status and (b != "fulfilled" or done == quantity)
        )
        if status == "in_progress" and done < quantity:
            legal_progress = [("progress", k) for k in range(1, quantity - done + 1)]
        else:
            legal_progress = []
        options = [("to", b) for b in legal] + legal_progress
        onward = [o for o in options if o[1] not in ("cancelled", "rejected")]
        roll = draw(st.integers(0, 19))
        if onward and roll < 16:  # mostly keep the item alive, so deep statuses are reached
            step = draw(st.sampled_from(onward))
        elif options and roll < 18:
            step = draw(st.sampled_from(options))
        else:
            step = draw(ops.filter(bool))[0]
        steps.append(step)
        if step in options:
            status = step[1] if step[0] == "to" else status
            done += step[1] if step[0] == "progress" else 0
    return steps


@SETTINGS
@given(data=st.data(), quantity=st.integers(1, 5))
def test_transitions_match_brute_force_model(data, quantity):
    steps = data.draw(st.one_of(ops, guided_steps(quantity)))
    item, _ = run(make_need(quantity=quantity), steps)
    # the accepted history revalidates, and every entry records who, when and why
    again = Need.model_validate_json(item.model_dump_json())
    assert again == item
    assert all(e.at.tzinfo is not None and e.by == "w" for e in again.history)


@SETTINGS
@given(
    steps=st.lists(ops, min_size=1, max_size=6),
    order=st.randoms(use_true_random=False),
)
def test_round_trip_byte_identical_in_any_order(steps, order):
    needs = [
        run(make_need(f"n{i}", unit=f"C{i % 2}", quantity=1 + i % 3), s)[0]
        for i, s in enumerate(steps)
    ]
    text = ThreeLists(needs=tuple(needs)).to_json()
    assert ThreeLists.from_json(text).to_json() == text
    shuffled = list(needs)
    order.shuffle(shuffled)
    assert ThreeLists(needs=tuple(shuffled)).to_json() == text
    lists = ThreeLists.from_json(text)
    for by in ("unit", "category", "status"):
        rows = lists.summary(by)
        assert sum(r.items for r in rows) == len(needs)
        assert sum(r.fulfilled for r in rows) == sum(n.fulfilled for n in needs)


TEXT = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cc", "Cf", "Zl", "Zp", "Cs"), whitelist_characters="'=+-@,\"\n\t"
    ),
    max_size=12,
)
LINE = TEXT.map(lambda s: s.replace("\n", " ").replace("\t", " "))
IDS = st.from_regex(r"[a-z0-9/]{1,6}", fullmatch=True)


@st.composite
def three_lists(draw):
    needs = {}
    for nid in draw(st.lists(IDS, max_size=4, unique=True)):
        steps = draw(guided_steps(3))
        need = make_need(f"n{nid}", quantity=3).model_copy(
            update={"title": draw(LINE.filter(str.strip)).strip()}
        )
        need = Need.model_validate(
            {
                **need.model_dump(),
                "description": draw(TEXT).strip(),
                "vulnerability": draw(st.lists(st.sampled_from(["elderly", "disabled"]))),
            }
        )
        needs[need.id], _ = run(need, steps)
    return ThreeLists(needs=tuple(needs.values()))


@pytest.mark.slow
@SETTINGS
@given(lists=three_lists())
def test_csv_round_trip_with_awkward_text(lists, tmp_path_factory):
    from commgov.io import export_lists, import_lists, lists_csv_texts

    folder = tmp_path_factory.mktemp("csv")
    export_lists(lists, folder, personal_data=True)
    back = import_lists(folder / "needs.csv", folder / "resources.csv", folder / "projects.csv")
    assert lists_csv_texts(back, personal_data=True) == lists_csv_texts(lists, personal_data=True)
    for a, b in zip(lists.needs, back.needs, strict=True):
        assert (a.id, a.title, a.description, a.status, a.fulfilled) == (
            b.id,
            b.title,
            b.description,
            b.status,
            b.fulfilled,
        )
    for row in list(csv.reader(io.StringIO(lists_csv_texts(lists)["needs.csv"])))[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), row
