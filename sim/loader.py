"""Load a scenario file: YAML, ``extends:`` chains, ``--set`` overrides, then validation.

A peak-season variant is a few lines on top of the baseline::

    extends: baseline.yaml
    calendar: {chinese_new_year: {start: 2026-02-10, days: 28}}

Mappings merge key by key; any other value (lists included) replaces the parent's. Every
failure becomes one ``ScenarioError`` naming the file, the dotted path and the reason.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim.scenario import CrossReferenceError, Scenario

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ScenarioError(Exception):
    """Bad scenario input; ``str()`` is the one line a user sees."""

    def __init__(self, file: str | Path, path: str, reason: str) -> None:
        self.file, self.path, self.reason = str(file), path, reason
        super().__init__(f"{self.file}: {path or '(top level)'}: {reason}")


def load_scenario(file: str | Path, overrides: Iterable[str] = ()) -> Scenario:
    """Read, merge, override and validate; the Scenario is immutable from here on."""
    file = Path(file)
    data = resolve_document(file)
    for assignment in overrides:
        apply_override(data, assignment, file)
    return validate(data, file)


def resolve_document(file: Path, _chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The merged mapping of ``file`` and everything it extends (parents first)."""
    real = file.resolve()
    if real in _chain:
        cycle = " -> ".join(p.name for p in (*_chain, real))
        raise ScenarioError(_chain[-1], "extends", f"cyclic extends: {cycle}")
    data = _read_yaml(file)
    if isinstance(data.get("plan"), str):
        plan = file.parent / data["plan"]
        if not plan.is_file():
            raise ScenarioError(file, "plan", f"no such file '{data['plan']}'")
        data["plan"] = str(plan)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ScenarioError(file, "extends", "must be a file name")
    parent_file = file.parent / parent
    if not parent_file.is_file():
        raise ScenarioError(file, "extends", f"no such file '{parent}'")
    return deep_merge(resolve_document(parent_file, (*_chain, real)), data)


def _read_yaml(file: Path) -> dict[str, Any]:
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(file, "", "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(file, "", f"cannot read: {exc}") from None
    try:
        data = yaml.load(text, Loader=_YAML_LOADER)
    except ValueError as exc:  # PyYAML raises it for impossible dates such as 2026-02-30
        raise ScenarioError(file, "", f"malformed YAML: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "malformed YAML"
        raise ScenarioError(file, where, f"malformed YAML: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ScenarioError(file, "", "a scenario must be a mapping of keys to values")
    return data


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def apply_override(data: dict[str, Any], assignment: str, file: Path) -> None:
    """Apply ``dotted.path=value`` in place; the value is parsed as a YAML scalar or flow."""
    path, sep, raw = assignment.partition("=")
    if not sep or not path:
        raise ScenarioError(file, assignment, "an override must look like dotted.path=value")
    try:
        value = yaml.load(raw, Loader=_YAML_LOADER)
    except (yaml.YAMLError, ValueError):
        raise ScenarioError(file, path, f"cannot parse value '{raw}'") from None
    keys = path.split(".")
    node: Any = data
    for depth, key in enumerate(keys[:-1]):
        node = _child(node, key, file, ".".join(keys[: depth + 1]), create=True)
    last = keys[-1]
    if isinstance(node, list):
        node[_index(node, last, file, path)] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise ScenarioError(file, path, "cannot set a field inside a plain value")


def _child(node: Any, key: str, file: Path, path: str, create: bool) -> Any:
    if isinstance(node, list):
        return node[_index(node, key, file, path)]
    if isinstance(node, dict):
        if key not in node and create:
            node[key] = {}
        return node[key]
    raise ScenarioError(file, path, "cannot set a field inside a plain value")


def _index(node: list, key: str, file: Path, path: str) -> int:
    if not key.isdecimal() or not key.isascii() or int(key) >= len(node):
        raise ScenarioError(file, path, f"no list item {key} (the list has {len(node)})")
    return int(key)


def validate(data: dict[str, Any], file: str | Path = "<scenario>") -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise _first_error(exc, data, file) from None


def _first_error(exc: ValidationError, data: Any, file: str | Path) -> ScenarioError:
    error = exc.errors()[0]
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, CrossReferenceError):
        return ScenarioError(file, cause.path, cause.reason)
    path, tag = _document_path(data, error["loc"])
    reason = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        reason = f"unknown key for {tag} entries" if tag else "unknown key"
    elif error["type"] == "missing":
        reason = "required key is missing"
    elif error["type"] == "none_required":
        reason = f"not allowed for {tag or 'this'} entries"
    return ScenarioError(file, ".".join(path), reason)


def _document_path(data: Any, loc: tuple[int | str, ...]) -> tuple[list[str], str | None]:
    """The error's location as keys of the document, and the union tag met on the way.

    A discriminated union adds the chosen tag ('lognormal', 'sS', 'overseas') to
    pydantic's path; the document has no key for it, only a value (``dist: lognormal``),
    so such parts are dropped."""
    path: list[str] = []
    tag = None
    for part in loc:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        elif isinstance(data, dict) and part in [v for v in data.values() if isinstance(v, str)]:
            tag = str(part)
            continue
        else:
            data = None
        path.append(str(part))
    return path, tag


def scenario_hash(scenario: Scenario) -> str:
    """A stable fingerprint of the resolved scenario, recorded in every run manifest; a
    scenario that executes a plan file is fingerprinted with the file's contents, so a
    rewritten plan is a different scenario (a resumed sweep will not mix the two)."""
    document = scenario.model_dump(mode="json", by_alias=True)
    if scenario.plan is not None and Path(scenario.plan).is_file():
        document["plan_sha256"] = hashlib.sha256(Path(scenario.plan).read_bytes()).hexdigest()
    canonical = json.dumps(document, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()
