"""Parquet tables written chunk by chunk: one row group per chunk.

A run hands the tables that grow with orders to a ``ParquetSink`` as it goes
(``sim.tables``), so its memory does not grow with the orders; a table held whole is
written by the same code, cut into the same chunks (``write_parquet``), so a streamed table
and the same table built whole give the same bytes. The sink writes into the run's staging
directory (``experiments.storage.swap``), each file under a hidden name until it is
complete, so nothing outside the staging directory is touched before the swap.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.recorder import CHUNK_ROWS


def chunks(frame: pd.DataFrame, rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """``frame`` in pieces of ``rows`` rows (an empty frame is one empty piece)."""
    if frame.empty:
        yield frame
        return
    for start in range(0, len(frame), rows):
        yield frame.iloc[start:start + rows]


class TableWriter:
    """One parquet file, a row group per chunk written."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: pq.ParquetWriter | None = None

    def write(self, chunk: pd.DataFrame) -> None:
        table = pa.Table.from_pandas(chunk, preserve_index=False)
        if self._writer is None:
            # Dictionary pages only where values repeat: trying them on the float columns
            # (prices, costs, hours) cost 40 % of the writing and saved no byte.
            coded = [field.name for field in table.schema
                     if not pa.types.is_floating(field.type)]
            self._writer = pq.ParquetWriter(self.path, table.schema, use_dictionary=coded)
        self._writer.write_table(table, row_group_size=max(len(table), 1))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


def write_frames(path: Path, frames: Iterable[pd.DataFrame]) -> None:
    """Write ``frames`` (same columns) to ``path`` as one table, a row group each."""
    writer = TableWriter(path)
    try:
        for frame in frames:
            writer.write(frame)
    finally:
        writer.close()


class ParquetSink:
    """A run's streamed tables as ``NAME.parquet`` files in ``directory`` (a ``TableSink``
    of ``sim.tables``); use it as a context manager: the files appear, complete, on a
    clean exit only.

    A thread encodes and writes the chunks while the run goes on (pyarrow lets go of the
    interpreter while it encodes), at most ``QUEUED`` chunks behind, so memory stays
    bounded; each table's chunks are written in the order given, so the bytes do not
    depend on the thread. A failure in the thread is raised by the next ``write`` or at
    the exit.
    """

    QUEUED = 2

    def __init__(self, directory: Path, chunk_rows: int = CHUNK_ROWS) -> None:
        self.directory = Path(directory)
        self.chunk_rows = chunk_rows
        self._writers: dict[str, TableWriter] = {}
        self._queue: queue.Queue[tuple[TableWriter, pd.DataFrame] | None] = queue.Queue(
            self.QUEUED)
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, name="parquet-sink", daemon=True)
        self._thread.start()

    def write(self, name: str, chunk: pd.DataFrame) -> None:
        if self._failure is not None:
            raise self._failure
        if name not in self._writers:
            self._writers[name] = TableWriter(self.directory / f".{name}.parquet.tmp")
        self._queue.put((self._writers[name], chunk))

    def held(self, name: str) -> pd.DataFrame | None:
        """Nothing is held: every table went to its file."""
        return None

    def _drain(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._failure is None:
                try:
                    item[0].write(item[1])
                except BaseException as exc:  # noqa: BLE001 - handed to the run's thread
                    self._failure = exc

    def __enter__(self) -> ParquetSink:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._queue.put(None)
        self._thread.join()
        for writer in self._writers.values():
            writer.close()
        done = kind is None and self._failure is None
        for name, writer in self._writers.items():
            if done:
                os.replace(writer.path, self.directory / f"{name}.parquet")
            else:
                writer.path.unlink(missing_ok=True)
        if kind is None and self._failure is not None:
            raise self._failure
