"""Seeds to random streams: the one helper every random draw in commgov goes through.

A draw for entity ``id`` in stream ``name`` of replicate ``r`` under root seed ``s`` comes from
``SeedSequence(s, spawn_key=(r, STREAMS[name], entity_key(id)))``. Streams are independent, and
adding or removing one entity never changes another entity's draws. Global random state is
never touched.
"""

from __future__ import annotations

import hashlib
from types import MappingProxyType

import numpy as np

__all__ = ["STREAMS", "entity_key", "rng", "seed_sequence"]

#: Frozen registry of stream names → stream numbers. Append only: never renumber.
STREAMS: MappingProxyType[str, int] = MappingProxyType(
    {
        "layout": 1,
        "units": 2,
        "buildings": 3,
        "entrances": 4,
        "households": 5,
        "people": 6,
        "skills": 7,
        "sites": 8,
        "tasks": 9,
        "availability": 10,
        "zones": 11,
        "sim": 12,
        "notify_household": 13,
        "notify_volunteer": 14,
        "notify_tree": 15,
        "sim_queue_arrivals": 16,
        "sim_queue_service": 17,
        "sim_relay_riders": 18,
        "sim_relay_trips": 19,
        "sim_shifts": 20,
        "sim_d2d_service": 21,
        "sim_needs_arrivals": 22,
        "sim_needs_service": 23,
        "stats_bootstrap": 24,
        "sim_queue_patience": 25,
    }
)


def entity_key(entity_id: str) -> int:
    """Stable 64-bit key of an id (BLAKE2b), independent of ``PYTHONHASHSEED``."""
    digest = hashlib.blake2b(entity_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def seed_sequence(
    seed: int, stream: str, entity: str | None = None, replicate: int = 0
) -> np.random.SeedSequence:
    """The :class:`numpy.random.SeedSequence` of one stream, entity and replicate."""
    if stream not in STREAMS:
        raise KeyError(f"unknown random stream {stream!r}; known: {sorted(STREAMS)}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    key = (replicate, STREAMS[stream], 0 if entity is None else entity_key(entity))
    return np.random.SeedSequence(seed, spawn_key=key)


def rng(
    seed: int, stream: str, entity: str | None = None, replicate: int = 0
) -> np.random.Generator:
    """A fresh PCG64 generator for one stream, entity and replicate."""
    return np.random.Generator(np.random.PCG64(seed_sequence(seed, stream, entity, replicate)))
