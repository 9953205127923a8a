"""The one reader on large inputs: Gusu's organisation model and a district matching problem.

Printed, in one run, as CPU seconds and as ratios against references measured on the same
text:

* ``OrgModel.from_json(gusu().to_json())`` against generating ``gusu()`` (the issue's
  baseline: reading took 1.2-1.3x generating), against the standard library's ``json.loads``
  of the same text (the floor of any reader), and against the same read with the garbage
  collector left running (what the reader did before it paused it);
* ``parse_json`` (duplicate keys, NaN, nesting refused) against bare ``json.loads``: the cost
  of the rules;
* a hostile 10⁵-deep text and a text of the reader's byte limit plus one: seconds to the error.

Usage::

    python benchmarks/bench_readers.py
"""

from __future__ import annotations

import contextlib
import gc
import json
import time
from collections.abc import Callable

from commgov import _input
from commgov.datasets import gusu
from commgov.errors import InputError, SizeLimitError
from commgov.org import OrgModel


def cpu(call: Callable[[], object], repeat: int = 3) -> float:
    """Least CPU seconds of ``repeat`` calls (CPU time: less noisy than wall time)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        call()
        best = min(best, time.process_time() - start)
    return best


def _validate_with_gc(data: object) -> None:
    OrgModel.model_validate(data)


def main() -> None:
    generate = cpu(gusu, repeat=1)
    text = gusu().to_json()
    print(f"gusu(): {len(text) / 1e6:.1f} MB of JSON, generated in {generate:.2f} s CPU")
    loads = cpu(lambda: json.loads(text))
    rules = cpu(lambda: _input.parse_json(text))
    read = cpu(lambda: OrgModel.from_json(text))

    def old_read() -> None:  # the reader before: no pause of the collector
        data = _input.parse_json(text)
        assert gc.isenabled()
        _validate_with_gc(data)

    before = cpu(old_read)
    print(f"{'measure':44s} {'s CPU':>7s} {'ratio':>7s}")
    print(f"{'parse_json / json.loads (cost of the rules)':44s} {rules:7.2f} {rules / loads:7.2f}")
    print(f"{'from_json / gusu() (issue: 1.2-1.3)':44s} {read:7.2f} {read / generate:7.2f}")
    print(f"{'from_json / json.loads':44s} {read:7.2f} {read / loads:7.2f}")
    print(f"{'from_json / from_json with the collector on':44s} {read:7.2f} {read / before:7.2f}")
    for label, bad, error in (
        ("10^5-deep text", "[" * 100_000, InputError),
        ("text of the byte limit + 1", " " * (_input.MAX_INPUT_BYTES + 1), SizeLimitError),
    ):
        start = time.perf_counter()
        with contextlib.suppress(error):
            OrgModel.from_json(bad)
        print(f"{label:44s} {time.perf_counter() - start:7.3f} s to the error")


if __name__ == "__main__":
    main()
