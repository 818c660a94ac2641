"""``xbsim diff A.yaml B.yaml``: what differs between two scenarios once each is resolved
(``extends:`` merged, defaults filled in), one line per dotted path.

A variant written as a few lines on top of a baseline can change more than it seems (a list
merged or replaced, a default it relied on); the diff of the resolved scenarios shows what
the simulation will actually see differently. Entries of lists whose entries all have
distinct names are matched by name (``calendar.peak_events[prime_day]``), other list
entries by position.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from sim.loader import load_scenario

ABSENT = "(absent)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("first", type=Path, metavar="A", help="scenario YAML file")
    p.add_argument("second", type=Path, metavar="B", help="scenario YAML file to compare it to")


def diff_command(args: argparse.Namespace) -> int:
    first, second = (load_scenario(f).model_dump(mode="json", by_alias=True)
                     for f in (args.first, args.second))
    lines = [f"{path}: {_text(a)} -> {_text(b)}" for path, a, b in differences(first, second)]
    print("\n".join(lines) if lines else f"{args.first} and {args.second}: no differences")
    return 0


def differences(a: Any, b: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """(dotted path, value in a, value in b) for every leaf or entry that differs; a value
    missing on one side is ``ABSENT``."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            yield from differences(a.get(key, ABSENT), b.get(key, ABSENT), _join(path, key))
    elif isinstance(a, list) and isinstance(b, list) and _named(a) and _named(b):
        yield from differences(_by_name(a), _by_name(b), path)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from differences(x, y, _join(path, i))
    elif a != b:
        yield path, a, b


def _named(entries: list[Any]) -> bool:
    names = [e.get("name") for e in entries if isinstance(e, dict)]
    return len(names) == len(entries) and None not in names and len(set(names)) == len(names)


def _by_name(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {f"[{e['name']}]": e for e in entries}


def _join(path: str, key: Any) -> str:
    if isinstance(key, str) and key.startswith("["):
        return f"{path}{key}"
    return f"{path}.{key}" if path else str(key)


def _text(value: Any) -> str:
    if value is ABSENT:
        return ABSENT
    return yaml.safe_dump(value, default_flow_style=True, width=10**6,
                          sort_keys=False).strip().removesuffix("...").strip()
