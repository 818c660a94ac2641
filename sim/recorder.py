"""Column-wise recording: processes append arrays, the run ends with one table each."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd


class Recorder:
    """Collects columns as lists of arrays; ``frame()`` concatenates them once at the end."""

    def __init__(self, columns: dict[str, str]) -> None:
        self.dtypes = columns
        self._parts: dict[str, list[np.ndarray]] = defaultdict(list)

    def add(self, **columns: np.ndarray | float | int | str) -> None:
        size = max((np.size(v) for v in columns.values() if np.ndim(v) > 0), default=1)
        if set(columns) != set(self.dtypes):
            raise KeyError(f"expected columns {sorted(self.dtypes)}, got {sorted(columns)}")
        for name, value in columns.items():
            self._parts[name].append(np.broadcast_to(np.asarray(value), (size,)))

    def frame(self) -> pd.DataFrame:
        data = {}
        for name, dtype in self.dtypes.items():
            parts = self._parts.get(name)
            data[name] = (np.concatenate(parts) if parts else np.array([])).astype(dtype)
        return pd.DataFrame(data)
