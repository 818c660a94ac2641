"""Replace a results directory whole, safely against a kill at any moment.

A command writes its results into ``.DIR.xbsim-new`` beside ``DIR`` and then swaps it in:

1. where the system can (Linux ``renameat2(RENAME_EXCHANGE)``), ``DIR`` and the new
   directory are exchanged in one step, so ``DIR`` always holds the old or the new result;
   the old one, now at ``.DIR.xbsim-new``, is removed;
2. elsewhere ``DIR`` is renamed to ``.DIR.xbsim-old``, the new directory to ``DIR``, and the
   old one is removed; a kill between the two renames leaves the old result whole at
   ``.DIR.xbsim-old``.

The next writer of ``DIR`` (under its lock, ``writelock``) first puts things right:
an old result with no ``DIR`` is renamed back, every other leftover (a half-written or
retired directory, also those of older xbsim versions: ``.DIR.<pid>.old``,
``.DIR.<random>.tmp``) is removed. Only results of the same kind replace each other, and
results of other commands nested in ``DIR`` (``DIR/evaluation``, ``DIR/channels``) are kept.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from experiments.errors import StoreError
from experiments.storage.manifest import FILE
from experiments.storage.writelock import writer_lock

T = TypeVar("T")
PLAN = "plan.yaml"
OPTIMIZE = "optimize"
BACKTEST = "backtest"
MARKERS = {PLAN: OPTIMIZE, "backtest.json": BACKTEST}
"""Results with no manifest, known by the file that says what they are."""
OWN_SUBDIRECTORIES = {OPTIMIZE: ("evaluation",)}
"""Nested results a kind writes itself, and so replaces (a new plan's old evaluation would lie)."""
_LEGACY_OLD = re.compile(r"\d+\.old")
_LEGACY_TMP = re.compile(r"[a-z0-9_]{8}\.tmp")
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def staging_path(out: Path) -> Path:
    return out.parent / f".{out.name}.xbsim-new"


def retired_path(out: Path) -> Path:
    return out.parent / f".{out.name}.xbsim-old"


@contextlib.contextmanager
def claimed(out: Path, kind: str) -> Iterator[Path]:
    """Hold ``out`` for a command that will write results of ``kind`` there: locked,
    leftovers of a killed writer put right, and checked to be replaceable (``StoreError``
    otherwise), before any expensive work."""
    out = Path(out)
    with writer_lock(out):
        recover(out)
        check_replaceable(out, kind)
        yield out


def replace_directory(out: Path, kind: str, write: Callable[[Path], T]) -> T:
    """Call ``write(staging)`` to write a whole result, then swap it in for ``out``;
    ``write``'s return value."""
    out = Path(out)
    with claimed(out, kind):
        staging = staging_path(out)
        staging.mkdir()
        try:
            result = write(staging)
            _keep_nested(out, staging, kind)
            os.chmod(staging, 0o755)
            _swap(staging, out)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return result


def recover(out: Path) -> None:
    """Restore the result a killed writer retired without replacing, remove the rest."""
    out = Path(out)
    if not out.parent.is_dir():
        return
    retired, staged = [retired_path(out)], [staging_path(out)]
    prefix = f".{out.name}."
    for entry in out.parent.iterdir():
        rest = entry.name.removeprefix(prefix)
        if entry.name.startswith(prefix) and entry.is_dir():
            if _LEGACY_OLD.fullmatch(rest):
                retired.append(entry)
            elif _LEGACY_TMP.fullmatch(rest):
                staged.append(entry)
    for old in retired:
        if old.is_dir() and not out.exists():
            os.replace(old, out)
        elif old.exists():
            shutil.rmtree(old)
    for new in staged:
        if new.exists():
            shutil.rmtree(new)


def kind_of(directory: Path) -> str | None:
    """The kind of result ``directory`` holds (``""`` if its manifest is unreadable), or
    None when it holds no xbsim result."""
    manifest = directory / FILE
    if manifest.is_file():
        try:
            kind = json.loads(manifest.read_text(encoding="utf-8")).get("kind")
        except (OSError, ValueError, AttributeError):
            return ""
        return kind if isinstance(kind, str) else ""
    return next((kind for name, kind in MARKERS.items() if (directory / name).is_file()), None)


def check_replaceable(out: Path, kind: str) -> None:
    """``out`` may receive results of ``kind``: absent, empty, or holding results of the
    same kind (or damaged ones); never a file or someone else's directory."""
    if not out.exists() and not out.is_symlink():
        return
    if not out.is_dir() or out.is_symlink():
        raise StoreError(f"{out} is not a directory; choose another --out")
    if not any(out.iterdir()):
        return
    held = kind_of(out)
    if held is None:
        raise StoreError(f"{out} is not empty and holds no xbsim results; choose another --out")
    if held and held != kind:
        raise StoreError(f"{out} holds an xbsim {held} result, not a {kind}; choose another "
                         "--out")


def _keep_nested(out: Path, staging: Path, kind: str) -> None:
    """Copy (hard links where possible) the results of other commands nested in ``out``
    into the new directory, so that replacing a run does not delete its optimisations."""
    if not out.is_dir():
        return
    own = OWN_SUBDIRECTORIES.get(kind, ())
    for sub in out.iterdir():
        if (sub.is_dir() and not sub.is_symlink() and sub.name not in own
                and not (staging / sub.name).exists() and kind_of(sub) is not None):
            shutil.copytree(sub, staging / sub.name, symlinks=True, copy_function=_link)


def _link(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _swap(staging: Path, out: Path) -> None:
    """Put ``staging`` at ``out``; the old result is removed last."""
    if not out.exists():
        os.replace(staging, out)
    elif exchange(staging, out):
        shutil.rmtree(staging, ignore_errors=True)  # a leftover is removed by the next writer
    else:
        retired = retired_path(out)
        os.replace(out, retired)
        try:
            os.replace(staging, out)
        except BaseException:
            os.replace(retired, out)
            raise
        shutil.rmtree(retired, ignore_errors=True)


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically; False where the system or file system cannot."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))
