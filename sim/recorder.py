"""Column-wise recording: processes append arrays, the run ends with one table each."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd


class Recorder:
    """Collects columns as lists of arrays; ``frame()`` concatenates them once at the end.

    Scalars are kept as (value, length) and expanded only at the end: most calls record a
    few array columns beside constant ones, and expanding early dominated the run time.
    """

    def __init__(self, columns: dict[str, str]) -> None:
        self.dtypes = columns
        self._parts: dict[str, list] = defaultdict(list)

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

    def frame(self) -> pd.DataFrame:
        data = {}
        for name, dtype in self.dtypes.items():
            parts = self._parts.get(name, [])
            if parts and not any(isinstance(p, np.ndarray) for p in parts):
                values, sizes = zip(*parts, strict=True)
                data[name] = np.repeat(np.asarray(values, dtype=dtype), sizes)
                continue
            arrays = [p if isinstance(p, np.ndarray) else np.full(p[1], p[0], dtype=dtype)
                      for p in parts]
            data[name] = (np.concatenate(arrays) if arrays else np.array([])).astype(dtype)
        # copy=False keeps one block per column: consolidating a million rows costs more
        # than the whole simulation of them.
        return pd.DataFrame(data, copy=False)


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
        return pd.DataFrame({name: np.asarray(column, dtype=dtype)
                             for (name, dtype), column in zip(self.dtypes.items(), columns,
                                                              strict=True)})
