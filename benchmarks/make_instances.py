"""Write the seeded matching benchmark instances as JSON files.

Usage::

    PYTHONPATH=src python benchmarks/make_instances.py [--scales community subdistrict district]
                                                       [--seeds 0 1 2 3 4] [--out DIR] [--force]

Instances come from :func:`commgov.datasets.matching_instance` and are written as
``DIR/<scale>-<seed>.json`` (``MatchingProblem.model_dump_json()``, byte-identical per seed).
The default folder ``benchmarks/instances/`` is a gitignored cache: district files are ~12 MB,
so they are generated on demand and never committed. Existing files are kept unless --force.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from commgov.datasets import matching_instance

SCALES = ("community", "subdistrict", "district")
DEFAULT_OUT = Path(__file__).resolve().parent / "instances"


def instance_path(scale: str, seed: int, out: Path = DEFAULT_OUT) -> Path:
    return out / f"{scale}-{seed}.json"


def ensure_instance(scale: str, seed: int, out: Path = DEFAULT_OUT, force: bool = False) -> Path:
    """Write one instance file if missing (or if ``force``); return its path."""
    path = instance_path(scale, seed, out)
    if force or not path.exists():
        out.mkdir(parents=True, exist_ok=True)
        text = matching_instance(scale, seed).model_dump_json()  # type: ignore[arg-type]
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scales", nargs="+", default=list(SCALES), choices=SCALES)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args()
    for scale in args.scales:
        for seed in args.seeds:
            path = ensure_instance(scale, seed, args.out, args.force)
            print(f"{path}  {path.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
