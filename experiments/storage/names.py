"""Default results paths: ``out/`` and a name made safe to be one directory inside it.

A scenario or sweep name is text from a file, not a path: ``name: ../x`` or ``name: /etc``
must not write outside ``out/`` nor land on another result directory. Every character
outside letters, digits, ``_``, ``-`` and ``.`` becomes ``_`` and leading dots are dropped,
so the name is one visible path component whatever the file says.
"""

from __future__ import annotations

import re
from pathlib import Path

OUT = Path("out")
MAX_LENGTH = 100
FALLBACK = "scenario"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def safe_name(name: str) -> str:
    """``name`` as one directory name: ``../x`` -> ``_x``, ``a/b`` -> ``a_b``, ``..`` ->
    ``scenario``."""
    text = _UNSAFE.sub("_", name).lstrip(".")[:MAX_LENGTH]
    return text or FALLBACK
