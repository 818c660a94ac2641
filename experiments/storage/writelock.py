"""One writer per results directory at a time.

``DIR`` is locked through ``.DIR.lock`` beside it (the directory itself is replaced whole, so
it cannot hold its own lock). The file holds the writer's pid, for the message a second
writer gets; the lock is an ``flock`` on it, which the kernel drops when its holder dies, so
the lock file of a killed writer is simply taken over. The lock is re-entrant within one
process: a command that claims its output before simulating can call library writers that
claim it again.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from experiments.errors import StoreError

ATTEMPTS = 3
_HELD: dict[Path, list[int]] = {}
"""Lock path -> [file descriptor, depth] of the locks this process holds."""


def lock_path(directory: Path) -> Path:
    directory = Path(directory)
    return directory.parent.resolve() / f".{directory.name}.lock"


@contextlib.contextmanager
def writer_lock(directory: Path) -> Iterator[None]:
    """Hold the lock of ``directory`` (creating its parent); ``StoreError`` naming the other
    writer's pid if it is held by a running process."""
    Path(directory).parent.mkdir(parents=True, exist_ok=True)
    path = lock_path(directory)
    if path in _HELD:
        _HELD[path][1] += 1
    else:
        _HELD[path] = [_acquire(path, directory), 1]
    try:
        yield
    finally:
        held = _HELD[path]
        held[1] -= 1
        if held[1] == 0:
            del _HELD[path]
            path.unlink(missing_ok=True)  # still locked: a waiter sees it gone and retries
            os.close(held[0])


def _acquire(path: Path, directory: Path) -> int:
    """A descriptor holding the lock on the file now at ``path``. A writer that releases
    unlinks the file first, so a lock won on a file no longer at ``path`` is tried again."""
    for _ in range(ATTEMPTS):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise StoreError(f"{directory} is being written by another xbsim (pid {pid}); "
                             "wait for it to finish or choose another --out") from None
        if _same_file(fd, path):
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            return fd
        os.close(fd)
    raise StoreError(f"{directory}: cannot lock {path.name} (other writers keep replacing it)")


def _same_file(fd: int, path: Path) -> bool:
    try:
        here = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino)
