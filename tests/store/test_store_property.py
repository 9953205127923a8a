"""Property: the store's versions follow the optimistic-lock rule for any sequence of writes."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings, strategies as st

from commgov.lists import ThreeLists
from commgov.store import ConflictError, Store

KEYS = ("320508017016", "320508017017")

writes = st.lists(
    st.tuples(st.sampled_from(KEYS), st.one_of(st.none(), st.integers(1, 4))),
    min_size=1,
    max_size=12,
)


@settings(max_examples=25)
@given(writes)
def test_a_write_succeeds_exactly_when_it_expects_the_current_version(ops):
    current: dict[str, int | None] = dict.fromkeys(KEYS)
    accepted: list[tuple[str, int]] = []
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "s.db") as store:
        for key, expected in ops:
            if expected == current[key]:
                new = store.save_lists(key, ThreeLists(), expected_version=expected, actor="a")
                assert new == (expected or 0) + 1
                current[key] = new
                accepted.append((key, new))
            else:
                try:
                    store.save_lists(key, ThreeLists(), expected_version=expected, actor="a")
                except ConflictError as exc:
                    assert (exc.expected, exc.actual) == (expected, current[key])
                else:
                    raise AssertionError("a stale write was accepted")
        for key in KEYS:
            assert store.version(key, "lists") == current[key]
            assert [(c.key, c.version) for c in store.history(key)] == [
                a for a in accepted if a[0] == key
            ]
