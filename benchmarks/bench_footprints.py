"""Buildings from a map: ``import_footprints`` on the 8,242 OpenStreetMap footprints of Gusu's
old city, against references measured in the same run.

Printed as wall seconds (best of 3) and ratios:

* the whole import (read, checks, areas, centroids, nearest unit among the 5,399 units of
  ``gusu()``, records, merge) against the standard library's ``json.loads`` of the same file
  (the floor of any reader) and against a bare shoelace pass over the parsed polygons (the
  floor of any area computation in Python);
* figures against the file's README: total footprint area (≈ 2.53 km²) and median (≈ 145 m²).

The file is not in the repository (ODbL data in the shared folder); pass its path, or set
``COMMGOV_OSM_FOOTPRINTS``.

Usage::

    python benchmarks/bench_footprints.py [PATH]
"""

from __future__ import annotations

import itertools
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from commgov.datasets import gusu, gusu_divisions
from commgov.io import import_footprints
from commgov.org import OrgModel

DEFAULT = "../shared/data/osm/gusu_old_city_buildings.geojson"


def best(fn: Callable[[], Any], n: int = 3) -> tuple[float, Any]:
    out, t_best = None, math.inf
    for _ in range(n):
        t = time.perf_counter()
        out = fn()
        t_best = min(t_best, time.perf_counter() - t)
    return t_best, out


def shoelace(features: list[dict[str, Any]]) -> float:
    total = 0.0
    for f in features:
        ring = f["geometry"]["coordinates"][0]
        k = math.cos(math.radians(ring[0][1])) * 111_195.0
        a = 0.0
        for (x0, y0), (x1, y1) in itertools.pairwise(ring):
            a += x0 * k * y1 * 111_195.0 - x1 * k * y0 * 111_195.0
        total += abs(a) / 2
    return total


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("COMMGOV_OSM_FOOTPRINTS", DEFAULT)
    if not os.path.isfile(path):
        print(f"no footprint file at {path}: pass its path")
        return
    base = gusu_divisions().merge(OrgModel(units=gusu().units))
    t_parse, data = best(lambda: json.loads(Path(path).read_text(encoding="utf-8")))
    t_shoe, _ = best(lambda: shoelace(data["features"]))
    t_imp, r = best(lambda: import_footprints(path, base))
    areas = [float(b.provenance.reference.split("(")[1].split(" m²")[0]) for b in r.buildings]
    print(f"features {len(data['features']):,}: buildings {len(r.buildings):,}, "
          f"left out {len(r.left_out):,}")
    print(f"import_footprints      {t_imp:6.2f} s")
    print(f"json.loads             {t_parse:6.2f} s   import / parse    = {t_imp / t_parse:5.1f}x")
    print(f"bare shoelace          {t_shoe:6.2f} s   import / shoelace = {t_imp / t_shoe:5.1f}x")
    print(f"households (estimated) {sum(b.counts.households for b in r.buildings):,}, "
          f"residents {sum(b.counts.residents for b in r.buildings):,}")
    median = statistics.median(areas)
    print(f"placed footprint area  {sum(areas) / 1e6:.3f} km², median {median:.0f} m² "
          "(README, all 8,242: ≈ 2.53 km², median ≈ 145 m²)")


if __name__ == "__main__":
    main()
