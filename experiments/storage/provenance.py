"""What code produced a result: a hash of the source files and the numeric packages' versions.

``git describe --dirty`` (``code_version``) names a commit for people but
stays the same while uncommitted edits pile up, so it cannot tell whether a half-finished
sweep may be resumed with the code now on disk. The fingerprint here can: it hashes the code
that computes a cell's numbers - every Python file of ``sim`` and ``optimize``, and the
``experiments`` modules that turn parameters and seeds into a model call - and adds the
versions of the packages whose arithmetic or random streams shape the numbers. Resuming a
sweep and using remote workers both require it to match. Statistics, reports and the CLI are
left out on purpose: they are recomputed from the stored results, so editing them never
blocks a resume. Every manifest records both, and the versions of all the packages a result
went through (``package_versions``).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path

SOURCES = {"sim": ("*.py",), "optimize": ("*.py",),
           "experiments": ("engine/models.py", "engine/seeds.py", "engine/runner.py",
                           "engine/replanning.py",
                           "studies/designs.py")}
NUMERIC_PACKAGES = ("numpy", "scipy", "pandas", "simpy", "pydantic", "pyarrow")
PACKAGES = ("xbsim", "simpy", "numpy", "pandas", "pyarrow", "pydantic", "scipy", "pyomo",
            "highspy")


def code_version() -> str:
    """The git commit of the source tree when there is one, else the package version."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=here,
                             capture_output=True, text=True, timeout=5, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return package_versions().get("xbsim", "unknown")


def package_versions() -> dict[str, str]:
    """Python's version and each installed package's of ``PACKAGES``."""
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


@functools.cache
def source_hash() -> str:
    """SHA-256 over the relative path and bytes of each source file in ``SOURCES``."""
    digest = hashlib.sha256()
    for package, patterns in SOURCES.items():
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        root = Path(next(iter(spec.submodule_search_locations)))
        for file in sorted({f for pattern in patterns for f in root.rglob(pattern)}):
            digest.update(f"{package}/{file.relative_to(root).as_posix()}\0".encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def code_fingerprint() -> dict[str, str]:
    """Source hash, Python and numeric package versions: equal means the same numbers."""
    versions = {"source": source_hash(), "python": platform.python_version()}
    for name in NUMERIC_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "missing"
    return versions


def code_identity() -> str:
    """One short hash of ``code_fingerprint()``."""
    canonical = json.dumps(code_fingerprint(), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
