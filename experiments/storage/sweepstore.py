"""A sweep's results directory: written in whole parts, resumable, never mixed up.

::

    DIR/manifest.json      what ran: sweep file and hash, scenario, code version and source
                           fingerprint (``experiments.storage.provenance``), package versions,
                           root seed and replication seeds, design size, one entry per session
                           (backend, workers, cells run, wall time; no end time if it was killed)
    DIR/parts/part-NNNNNN.parquet   the rows of finished tasks
    DIR/results.parquet    every row, sorted by point and replication, once all cells are done
    DIR/.lock              held (flock) while a sweep runs here

A part is written to a hidden temporary file and renamed into place, so it appears only when
complete; a sweep killed with ``kill -9`` leaves whole parts and at most a temporary file, which
the next run deletes and never reads. Re-running the same command skips the cells found in the
parts. A directory started by another sweep file, scenario or code version is refused, unless
``force`` discards its results first.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import shutil
from pathlib import Path

import pandas as pd

from experiments.errors import StoreError
from experiments.storage.manifest import (
    FILE,
    ManifestError,
    SweepManifest,
    SweepSession,
    read_manifest,
    write_manifest,
)
from experiments.storage.runstore import write_parquet

PARTS = "parts"
OUTPUTS = ("results.parquet", "points.parquet", "sensitivity.parquet", "sensitivity.png",
           FILE)
IDENTITY_WORDS = {"sweep_hash": "the sweep file", "scenario": "the base scenario",
                  "code": "the code (source files or numeric packages)"}


class SweepStore:
    """Open with ``with``: takes the directory's lock, checks or writes the manifest."""

    def __init__(self, directory: Path, manifest: SweepManifest, force: bool = False) -> None:
        self.directory, self.force = Path(directory), force
        self.manifest = manifest
        self._lock: int | None = None
        self._next_part = 0
        self._fresh = False

    # ------------------------------------------------------------------ opening
    def __enter__(self) -> SweepStore:
        self._check_directory()
        self.directory.mkdir(parents=True, exist_ok=True)
        self._take_lock()
        try:
            self._open()
        except BaseException:
            self._release_lock()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._release_lock()

    def _check_directory(self) -> None:
        d = self.directory
        if d.exists() and not d.is_dir():
            raise StoreError(f"{d} is a file; choose another --out")
        ours = {".lock", PARTS}
        if d.exists() and not (d / FILE).exists() and any(
                p.name not in ours for p in d.iterdir()):
            raise StoreError(f"{d} is not empty and holds no xbsim sweep; choose another --out")

    def _take_lock(self) -> None:
        fd = os.open(self.directory / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StoreError(f"another xbsim sweep is running in {self.directory}") from None
        self._lock = fd

    def _release_lock(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def _open(self) -> None:
        self._fresh = not (self.directory / FILE).exists()
        if not self._fresh:
            earlier = _read_manifest(self.directory)
            identity = self.manifest.identity
            changed = [word for key, word in IDENTITY_WORDS.items()
                       if earlier.identity.get(key) != identity.get(key)]
            if changed and not self.force:
                raise StoreError(
                    f"{self.directory} holds a sweep made with a different "
                    f"{' and '.join(w.removeprefix('the ') for w in changed)}; use another "
                    "--out, or --force to discard its results and start again")
            if changed:
                self._discard()
            else:
                self.manifest.sessions = earlier.sessions
        parts = self.directory / PARTS
        parts.mkdir(exist_ok=True)
        stale = [*parts.glob(".part-*.tmp"),
                 *(p for name in OUTPUTS for p in self.directory.glob(f".{name}.*.tmp"))]
        for temporary in stale:
            temporary.unlink()
        numbers = [int(p.stem.removeprefix("part-")) for p in parts.glob("part-*.parquet")]
        self._next_part = max(numbers, default=-1) + 1

    def _discard(self) -> None:
        shutil.rmtree(self.directory / PARTS, ignore_errors=True)
        for name in OUTPUTS:
            (self.directory / name).unlink(missing_ok=True)

    def forget(self) -> None:
        """Remove the manifest and parts directory of a sweep that this session started
        and that stored no cell, leaving the directory as it was found."""
        parts = self.directory / PARTS
        if self._fresh and not any(parts.glob("part-*.parquet")):
            (self.directory / FILE).unlink(missing_ok=True)
            shutil.rmtree(parts, ignore_errors=True)

    # ------------------------------------------------------------------ reading and writing
    def finished(self) -> pd.DataFrame:
        """Every row stored so far (whole parts only), in no particular order."""
        parts = sorted((self.directory / PARTS).glob("part-*.parquet"))
        if not parts:
            return pd.DataFrame()
        return pd.concat([_read_part(p) for p in parts], ignore_index=True)

    def add(self, rows: pd.DataFrame) -> None:
        """Store the rows of one finished task as a new part."""
        write_parquet(self.directory / PARTS / f"part-{self._next_part:06d}.parquet", rows)
        self._next_part += 1

    def start_session(self, backend: str, workers: int, cells_done: int) -> None:
        self.manifest.status = "running"
        self.manifest.sessions.append(SweepSession(
            started=_now(), backend=backend, workers=workers, cells_done_before=cells_done))
        self.write_manifest()

    def end_session(self, cells_run: int, wall_seconds: float, complete: bool) -> None:
        session = self.manifest.sessions[-1]
        session.ended, session.cells_run = _now(), cells_run
        session.wall_seconds = round(wall_seconds, 3)
        self.manifest.status = "complete" if complete else "incomplete"
        self.write_manifest()

    def write_manifest(self) -> None:
        write_manifest(self.directory, self.manifest)

    def write_table(self, name: str, frame: pd.DataFrame) -> Path:
        path = self.directory / f"{name}.parquet"
        write_parquet(path, frame)
        return path


def _read_manifest(directory: Path) -> SweepManifest:
    try:
        manifest = read_manifest(directory)
    except ManifestError as exc:
        raise StoreError(f"{exc}; choose another --out") from None
    if not isinstance(manifest, SweepManifest):
        raise StoreError(f"{directory} holds an xbsim {manifest.kind}, not a sweep; "
                         "choose another --out")
    return manifest


def _read_part(path: Path) -> pd.DataFrame:
    """A stored part; ``StoreError`` if it was damaged after it was written."""
    import pyarrow as pa

    try:
        return pd.read_parquet(path)
    except (ValueError, pa.ArrowException) as exc:
        raise StoreError(f"{path} is damaged ({str(exc).splitlines()[0]}); delete it to run "
                         "its cells again") from None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
