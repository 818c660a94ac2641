"""Column-wise recording: processes append arrays; a table comes out whole at the end, or
in chunks of a fixed number of rows as the run goes (``Recorder.stream``), so that a table
that grows with every order need not be held whole."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import numpy as np
import pandas as pd

from sim.integrity import RunIntegrityError

CHUNK_ROWS = 1 << 17
"""Rows of a streamed chunk (one parquet row group): ~30 MB of order rows."""


class Recorder:
    """Collects columns as lists of arrays; ``frame()`` concatenates them once at the end.

    Scalars are kept as (value, length) and expanded only at the end: most calls record a
    few array columns beside constant ones, and expanding early dominated the run time.
    A streaming recorder hands every full chunk of ``chunk_rows`` rows to its consumer as
    soon as it has one, and the rest at ``close()``: chunk boundaries depend on the rows
    alone, never on how the calls fell.
    """

    def __init__(self, columns: dict[str, str]) -> None:
        self.dtypes = columns
        self._parts: dict[str, list] = defaultdict(list)
        self._rows = 0
        self._consumer: Callable[[pd.DataFrame], None] | None = None
        self._chunk_rows = CHUNK_ROWS

    def stream(self, consumer: Callable[[pd.DataFrame], None],
               chunk_rows: int = CHUNK_ROWS) -> None:
        """Hand chunks of ``chunk_rows`` rows (the last one shorter) to ``consumer``."""
        if chunk_rows < 1:
            raise ValueError('"chunk_rows" must be >= 1.')
        self._consumer, self._chunk_rows = consumer, chunk_rows

    def add(self, **columns) -> None:
        if columns.keys() != self.dtypes.keys():
            raise KeyError(f"expected columns {sorted(self.dtypes)}, got {sorted(columns)}")
        size = 1
        for value in columns.values():
            if isinstance(value, np.ndarray) and value.ndim:
                size = len(value)
                break
        for name, value in columns.items():
            if isinstance(value, np.ndarray) and value.ndim:
                self._parts[name].append(value)
            else:
                self._parts[name].append((value, size))
        self._rows += size
        if self._consumer is not None and self._rows >= self._chunk_rows:
            self._hand_over(final=False)

    def close(self) -> None:
        """Hand the rows left to the consumer (a streaming recorder at the run's end)."""
        if self._consumer is not None and self._rows:
            self._hand_over(final=True)

    def _hand_over(self, final: bool) -> None:
        assert self._consumer is not None
        frame = self.frame()
        size = self._chunk_rows
        whole = len(frame) if final else len(frame) // size * size
        for start in range(0, whole, size):
            self._consumer(frame.iloc[start:min(start + size, whole)].reset_index(drop=True))
        self._parts.clear()
        self._rows = len(frame) - whole
        if self._rows:
            for name in self.dtypes:
                self._parts[name].append(frame[name].to_numpy()[whole:])

    def frame(self) -> pd.DataFrame:
        data = {}
        for name, dtype in self.dtypes.items():
            parts = self._parts.get(name, [])
            if parts and not any(isinstance(p, np.ndarray) for p in parts):
                values, sizes = zip(*parts, strict=True)
                data[name] = np.repeat(fitted(name, np.asarray(values), dtype), sizes)
                continue
            arrays = [p if isinstance(p, np.ndarray) else np.full(p[1], p[0])
                      for p in parts]
            data[name] = fitted(name, np.concatenate(arrays) if arrays else np.array([]), dtype)
        # copy=False keeps one block per column: consolidating a million rows costs more
        # than the whole simulation of them.
        return pd.DataFrame(data, copy=False)


def fitted(name: str, values: np.ndarray, dtype: str) -> np.ndarray:
    """``values`` as ``dtype``; an integer that does not fit stops the run rather than wrap
    around into a plausible wrong number."""
    kind = np.dtype(dtype).kind
    if kind in "iu" and values.size and values.dtype.kind in "iufO":
        limits = np.iinfo(dtype)
        low, high = values.min(), values.max()
        if not limits.min <= low <= high <= limits.max:
            raise RunIntegrityError(f"column {name}: {high if high > limits.max else low} "
                                    f"does not fit {dtype}")
    return values.astype(dtype)


class RowRecorder:
    """One row of scalars per call (a day's state): cheaper than columns for few rows."""

    def __init__(self, columns: dict[str, str]) -> None:
        self.dtypes = columns
        self._rows: list[tuple] = []

    def add(self, **values) -> None:
        if values.keys() != self.dtypes.keys():
            raise KeyError(f"expected columns {sorted(self.dtypes)}, got {sorted(values)}")
        self._rows.append(tuple(values[name] for name in self.dtypes))

    def frame(self) -> pd.DataFrame:
        columns = list(zip(*self._rows, strict=True)) if self._rows else [()] * len(self.dtypes)
        return pd.DataFrame({name: fitted(name, np.asarray(column), dtype)
                             for (name, dtype), column in zip(self.dtypes.items(), columns,
                                                              strict=True)})
