"""Streamed results: the tables that grow with orders are written in row groups as the run
goes, byte for byte what the same tables built whole give, with the same KPIs, and a run
that fails part-way leaves the results already there untouched."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from experiments.storage.runstore import simulate_run, write_parquet
from sim.model import simulate
from sim.recorder import Recorder
from sim.tables import STREAMED, MemorySink

ROWS = 400
"""Rows per chunk: the tiny scenario's 30 days make several row groups of orders."""


def test_a_recorder_hands_over_chunks_by_rows_whatever_the_calls() -> None:
    chunks: list[pd.DataFrame] = []
    recorder = Recorder({"day": "int32", "units": "int64"})
    recorder.stream(chunks.append, chunk_rows=3)
    recorder.add(day=0, units=np.array([1, 2]))
    recorder.add(day=1, units=np.array([3, 4]))
    assert [len(c) for c in chunks] == [3]
    recorder.add(day=2, units=np.array([5, 6, 7, 8, 9]))
    recorder.close()
    assert [len(c) for c in chunks] == [3, 3, 3]
    whole = pd.concat(chunks, ignore_index=True)
    assert whole["units"].tolist() == list(range(1, 10))
    assert whole["day"].tolist() == [0, 0, 1, 1, 2, 2, 2, 2, 2]
    assert whole["day"].dtype == np.int32


def test_streamed_tables_are_byte_identical_to_the_tables_built_whole(tiny, tmp_path) -> None:
    whole = simulate(tiny, seed=3, days=30, sink=MemorySink(ROWS))
    built = tmp_path / "built"
    for name in STREAMED:
        write_parquet(built / f"{name}.parquet", whole.tables()[name], chunk_rows=ROWS)
    streamed, _ = simulate_run(tmp_path / "streamed",
                               lambda sink: simulate(tiny, seed=3, days=30, sink=sink),
                               "tiny.yaml", chunk_rows=ROWS)

    assert streamed.streamed == STREAMED
    assert streamed.orders.empty and list(streamed.orders.columns) == list(whole.orders.columns)
    for name in STREAMED:
        written = (tmp_path / "streamed" / f"{name}.parquet").read_bytes()
        assert written == (built / f"{name}.parquet").read_bytes(), name
    groups = pq.ParquetFile(tmp_path / "streamed" / "orders.parquet").num_row_groups
    assert groups == -(-len(whole.orders) // ROWS) >= 3
    assert streamed.summary == whole.summary


def test_chunking_changes_neither_the_tables_nor_the_kpis(tiny, tmp_path) -> None:
    """The default in-memory run (one chunk) and a run streamed in many row groups hold the
    same rows; the KPIs agree to float rounding (sums are added chunk by chunk)."""
    held = simulate(tiny, seed=5, days=30)
    simulate_run(tmp_path / "out", lambda sink: simulate(tiny, seed=5, days=30, sink=sink),
                 "tiny.yaml", chunk_rows=ROWS)
    for name in STREAMED:
        read = pd.read_parquet(tmp_path / "out" / f"{name}.parquet")
        pd.testing.assert_frame_equal(read, held.tables()[name], check_dtype=False,
                                      check_categorical=False)
    streamed = pd.read_json(tmp_path / "out" / "summary.json", typ="series")
    for kpi, value in held.summary.items():
        if isinstance(value, int | float):
            assert streamed[kpi] == pytest.approx(value, rel=1e-12, abs=1e-12), kpi
    assert held.summary["orders"] == len(held.orders) > 3 * ROWS


def test_a_run_that_fails_part_way_leaves_the_earlier_results_whole(tiny, tmp_path) -> None:
    out = tmp_path / "out"
    simulate_run(out, lambda sink: simulate(tiny, seed=1, days=20, sink=sink), "tiny.yaml",
                 chunk_rows=ROWS)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    class Broken:
        """Passes two chunks of orders on, then the run dies (a full disk, a kill)."""

        def __init__(self, inner) -> None:
            self.inner, self.chunk_rows, self.orders = inner, inner.chunk_rows, 0

        def write(self, name: str, chunk: pd.DataFrame) -> None:
            self.inner.write(name, chunk)
            self.orders += name == "orders"
            if self.orders == 2:
                raise OSError(28, "No space left on device")

        def held(self, name: str) -> pd.DataFrame | None:
            return self.inner.held(name)

    with pytest.raises(OSError, match="No space left"):
        simulate_run(out, lambda sink: simulate(tiny, seed=2, days=30, sink=Broken(sink)),
                     "tiny.yaml", chunk_rows=ROWS)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_written_tables_name_what_the_codes_meant(tiny, tmp_path) -> None:
    result, paths = simulate_run(tmp_path / "out",
                                 lambda sink: simulate(tiny, seed=0, days=10, sink=sink),
                                 "tiny.yaml", chunk_rows=ROWS)
    assert sorted(p.name for p in paths) == sorted(
        [f"{n}.parquet" for n in result.tables()] + ["summary.json", "manifest.json"])
    orders = pd.read_parquet(tmp_path / "out" / "orders.parquet")
    assert set(orders["market"].astype(str)) <= set(tiny.markets)
    assert set(orders["route"].astype(str)) <= {"direct", "warehouse"}
    listings = pd.read_parquet(tmp_path / "out" / "listings.parquet")
    assert len(listings) == len(tiny.markets) * len(tiny.skus) * 10
    assert listings.groupby(["market", "sku"], observed=True).size().eq(10).all()
    assert Path(tmp_path / "out" / "summary.json").is_file()
