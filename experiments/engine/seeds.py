"""Per-replication seeds: one root seed, one child seed per replication.

Replication ``r`` of an experiment with root seed ``S`` runs the model with the seed drawn
from ``SeedSequence(S).spawn(n)[r]`` (the child with spawn key ``(r,)``). The child depends on
``(S, r)`` only, so:

* the same root gives the same per-replication seeds on any backend, worker count and
  batching, and results can be assembled in any order;
* asking for more replications (a precision target, a resumed sweep) appends seeds and never
  changes the earlier ones;
* every scenario or design point run with the same root gets the same seeds: common random
  numbers, since the model's named streams (``sim.rng``) keep each part's draws aligned.

``stream`` gives scenarios *independent* seeds instead (spawn key ``(r, stream)``), for
measuring how much variance common random numbers remove.
"""

from __future__ import annotations

import numpy as np

from experiments.errors import ExperimentError


def replication_seed(root: int, replication: int, stream: int | None = None) -> int:
    """The model seed of one replication: a 63-bit integer (fits int64 columns)."""
    if root < 0 or replication < 0:
        raise ExperimentError(f"seeds must be >= 0 (root {root}, replication {replication})")
    key = (replication,) if stream is None else (replication, stream)
    state = np.random.SeedSequence(root, spawn_key=key).generate_state(1, np.uint64)[0]
    return int(state >> np.uint64(1))


def replication_seeds(root: int, n: int, start: int = 0, stream: int | None = None) -> list[int]:
    """Seeds of replications ``start .. start + n - 1``."""
    return [replication_seed(root, r, stream) for r in range(start, start + n)]
