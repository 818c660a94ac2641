"""Named random streams: one root seed, one independent generator per stochastic part.

Each stream's seed is spawned from the root ``SeedSequence`` by a key derived from the
stream's *name* (not its creation order), so adding a stream, or drawing more from one part
of the model, never reshuffles another part: changing the return model leaves the demand
draws untouched, which is what common random numbers between scenarios rely on.
"""

from __future__ import annotations

import zlib

import numpy as np

STREAMS = ("traffic", "demand", "fulfilment", "transit", "customs", "returns", "supply",
           "bulk", "service", "fx", "customers", "inquiries", "disputes", "exceptions")


class Streams:
    """``streams.demand`` is the generator of the demand part of run ``seed``."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)

    def __getattr__(self, name: str) -> np.random.Generator:
        """Make a stream on its first use; it is then an attribute, not looked up here."""
        if name.startswith("_") or name not in STREAMS:
            raise AttributeError(f"no random stream named {name!r}")
        key = zlib.crc32(name.encode())
        sequence = np.random.SeedSequence(self.seed, spawn_key=(key,))
        generator = np.random.Generator(np.random.PCG64(sequence))
        setattr(self, name, generator)
        return generator
