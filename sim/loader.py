"""Load a scenario file: YAML, ``extends:`` chains, ``--set`` overrides, then validation.

A peak-season variant is a few lines on top of the baseline::

    extends: baseline.yaml
    calendar: {chinese_new_year: {start: 2026-02-10, days: 28}}

How a file merges with the one it extends (docs/scenario-reference.md tells users the same):

* mappings merge key by key; a mapping whose kind changes (``dist``, ``type``, ``kind``,
  ``family``) replaces the parent's, since the old kind's keys would not fit the new one;
* lists of named entries (peak events and disruptions by ``name``, replenishment rules by
  warehouse, SKUs, categories and mode) merge entry by entry: an entry with a known name
  merges into it, a new one is appended, ``{name: X, remove: true}`` deletes one;
* ``{replace: [...]}`` in place of a list replaces the parent's list whole;
* any other list, and any other value, replaces the parent's. Lists of entries replaced this
  way (surcharges, capacity cuts, shutdowns) note every parent entry they drop, which
  ``xbsim validate`` prints as warnings.

Every failure becomes a ``ScenarioError`` naming the file, the dotted path and the reason,
on one line (control characters such as a newline in a key are shown escaped); validation
keeps every problem it finds in ``ScenarioError.problems``.

What the loader refuses before validation, so that no input hangs it or exhausts memory:
a path that is not a regular file (a directory, ``/dev/zero``, a pipe), a file larger than
``MAX_FILE_BYTES``, a mapping that repeats a key (both lines are named), a document nested
deeper than ``MAX_DEPTH`` (an alias that contains itself) or holding more than ``MAX_NODES``
values once its aliases are expanded (an alias bomb), and an ``extends:`` chain longer than
``MAX_EXTENDS``. YAML is read as YAML 1.1 without base-60 numbers (``1:40`` is text, not
100); ``1e5`` is a number as in YAML 1.2. Plan and sweep files are read the same way
(``read_document``). After validation, ``sim.limits`` refuses a scenario whose run would
exceed its memory and time budgets.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import types
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Union

import yaml
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from sim.limits import run_size_problems
from sim.scenario import NAME_PATTERN, CrossReferenceError, Scenario

MAX_FILE_BYTES = 4 * 1024 * 1024
"""The largest scenario file read (a 50-year, 5,000-SKU scenario is well under 1 MiB)."""
MAX_DEPTH = 32
"""The deepest nesting of mappings and lists (the schema needs 7)."""
MAX_NODES = 200_000
"""The most values a document holds with its aliases expanded."""
MAX_EXTENDS = 16
"""The longest ``extends:`` chain."""

_ABSENT: Any = object()
"""The parent's value where the parent has none."""
_BASE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"


class _Loader(_BASE_LOADER):
    """Safe YAML 1.1 without base-60 numbers, with YAML 1.2 exponents (``1e5``), refusing a
    key given twice in one mapping."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_INT, _FLOAT)]
        for first, resolvers in _BASE_LOADER.yaml_implicit_resolvers.items()}

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> Any:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                first = seen.get(key)
            except TypeError:
                continue  # an unhashable key: the constructor refuses it below
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {_shown(key)} (lines {first} and {line})",
                    key_node.start_mark)
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


_Loader.add_implicit_resolver(_INT, re.compile(r"""^(?:[-+]?0b[0-1_]+
    |[-+]?0[0-7_]+
    |[-+]?(?:0|[1-9][0-9_]*)
    |[-+]?0x[0-9a-fA-F_]+)$""", re.X), list("-+0123456789"))
_Loader.add_implicit_resolver(_FLOAT, re.compile(r"""^(?:
    [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+
    |[-+]?\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""", re.X), list("-+0123456789."))


def _one_line(text: str) -> str:
    """``text`` with control characters escaped, so that it prints as one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _shown(value: Any) -> str:
    return _one_line(repr(value)[:80])


class ScenarioError(Exception):
    """Bad scenario input; ``str()`` is the one line a user sees. ``problems`` lists every
    problem validation found, this one first, for commands that report them all."""

    def __init__(self, file: str | Path, path: str, reason: str) -> None:
        self.file, self.path, self.reason = (_one_line(str(file)), _one_line(path),
                                             _one_line(reason))
        super().__init__(f"{self.file}: {self.path or '(top level)'}: {self.reason}")
        self.problems: tuple[ScenarioError, ...] = (self,)


def load_scenario(file: str | Path, overrides: Iterable[str] = ()) -> Scenario:
    """Read, merge, override and validate; the Scenario is immutable from here on."""
    file = Path(file)
    data = resolve_document(file)
    for assignment in overrides:
        apply_override(data, assignment, file)
    return validate(data, file)


def resolve_document(file: Path, notes: list[str] | None = None) -> dict[str, Any]:
    """The merged mapping of ``file`` and everything it extends (parents first); the
    parent entries an extension drops are appended to ``notes`` as one line each."""
    return _resolve(Path(file), (), [] if notes is None else notes)


def _resolve(file: Path, chain: tuple[Path, ...], notes: list[str]) -> dict[str, Any]:
    real = file.resolve()
    if real in chain:
        cycle = " -> ".join(p.name for p in (*chain, real))
        raise ScenarioError(chain[-1], "extends", f"cyclic extends: {cycle}")
    if len(chain) >= MAX_EXTENDS:
        raise ScenarioError(chain[-1], "extends", f"more than {MAX_EXTENDS} files extend "
                                                  "one another")
    data = _read_yaml(file)
    if isinstance(data.get("plan"), str):
        plan = file.parent / data["plan"]
        if not plan.is_file():
            raise ScenarioError(file, "plan", f"no such file '{data['plan']}'")
        data["plan"] = str(plan)
    parent = data.pop("extends", None)
    if parent is None:
        return _Merge(file, notes).mapping(_ABSENT, data, Scenario, ())
    if not isinstance(parent, str):
        raise ScenarioError(file, "extends", "must be a file name")
    parent_file = file.parent / parent
    if not parent_file.is_file():
        raise ScenarioError(file, "extends", f"no such file '{parent}'")
    base = _resolve(parent_file, (*chain, real), notes)
    return _Merge(file, notes, parent).mapping(base, data, Scenario, ())


def _read_yaml(file: Path) -> dict[str, Any]:
    data = read_document(file)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ScenarioError(file, "", "a scenario must be a mapping of keys to values")
    return data


def read_document(file: str | Path, max_bytes: int = MAX_FILE_BYTES,
                  max_nodes: int = MAX_NODES) -> Any:
    """A YAML file read as strictly as a scenario (no base-60, no duplicate keys, bounded
    size, depth and aliases; see the module docstring), for every input file a user writes:
    scenarios, plans and sweeps. ``ScenarioError`` naming the file otherwise."""
    file = Path(file)
    return _expanded(_parse(_read_text(file, max_bytes), file, ""), file, "", 0, [0],
                     max_nodes)


def _read_text(file: Path, max_bytes: int) -> str:
    """The file's text, if it is a regular file of at most ``max_bytes``."""
    try:
        if not file.is_file():
            raise ScenarioError(file, "", "no such file" if not file.exists()
                                else "not a regular file")
        with file.open("rb") as stream:
            raw = stream.read(max_bytes + 1)
        if len(raw) > max_bytes:
            raise ScenarioError(file, "", f"larger than {max_bytes / 1024 ** 2:g} MiB")
        return raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(file, "", f"cannot read: {exc}") from None


def _parse(text: str, file: Path, path: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)
    except ValueError as exc:  # PyYAML raises it for impossible dates such as 2026-02-30
        raise ScenarioError(file, path, f"malformed YAML: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = path or (f"line {mark.line + 1}" if mark is not None else "")
        problem = getattr(exc, "problem", None) or "malformed YAML"
        raise ScenarioError(file, where, f"malformed YAML: {problem}") from None
    except RecursionError:
        raise ScenarioError(file, path, f"malformed YAML: nested deeper than {MAX_DEPTH} "
                                        "levels") from None


def _expanded(node: Any, file: Path, path: str, depth: int, count: list[int],
              max_nodes: int = MAX_NODES) -> Any:
    """A copy of the document as a tree: each alias becomes its own copy, so that merging
    and ``--set`` change one place only. Bounded: an alias that contains itself exceeds
    MAX_DEPTH, an alias bomb ``max_nodes``, long before either costs time or memory."""
    count[0] += 1
    if count[0] > max_nodes:
        raise ScenarioError(file, path, f"more than {max_nodes:,} values once aliases are "
                                        "expanded")
    if isinstance(node, dict | list) and depth >= MAX_DEPTH:
        raise ScenarioError(file, path, f"nested deeper than {MAX_DEPTH} levels (an alias "
                                        "that contains itself?)")
    if isinstance(node, dict):
        return {key: _expanded(value, file, path, depth + 1, count, max_nodes)
                for key, value in node.items()}
    if isinstance(node, list):
        return [_expanded(value, file, path, depth + 1, count, max_nodes) for value in node]
    return node


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` laid over ``base`` by the rules of ``extends:`` (module docstring)."""
    return _Merge("<scenario>", []).mapping(base, override, Scenario, ())


# ----------------------------------------------------------------------------- merging
class _Merge:
    """One child document laid over its parent's, walking the schema beside the data to
    know which lists hold named entries and which keys name a mapping's kind."""

    def __init__(self, file: str | Path, notes: list[str], parent: str | None = None) -> None:
        self.file, self.notes, self.parent = file, notes, parent

    def value(self, base: Any, over: Any, shape: Any, path: tuple[str, ...]) -> Any:
        core, tag = _core(shape)
        if _is_list(core):
            return self.sequence(base, over, typing.get_args(core)[0], path)
        if not isinstance(over, dict):
            return over
        if tag in over and isinstance(base, dict) and over[tag] != base.get(tag):
            base = _ABSENT  # the kind changed: the parent's keys belong to the old kind
        return self.mapping(base, over, shape, path)

    def mapping(self, base: Any, over: dict[str, Any], shape: Any,
                path: tuple[str, ...]) -> dict[str, Any]:
        merged = dict(base) if isinstance(base, dict) else {}
        tag = _core(shape)[1]
        kind = over.get(tag, merged.get(tag)) if tag else None
        for key, value in over.items():
            child = _child_shape(shape, key, kind)
            merged[key] = self.value(merged.get(key, _ABSENT), value, child, (*path, str(key)))
        return merged

    def sequence(self, base: Any, over: Any, item: Any, path: tuple[str, ...]) -> Any:
        if isinstance(over, dict) and "replace" in over:
            if set(over) != {"replace"} or not isinstance(over["replace"], list):
                raise self.error(path, "write {replace: [...]} alone to replace a whole list")
            return self.sequence(_ABSENT, over["replace"], item, path)
        if not isinstance(over, list):
            return over
        key = _merge_key(item)
        if key:
            return self.entries(base if isinstance(base, list) else [], over, item, key, path)
        if isinstance(base, list):
            self.note_dropped(base, over, path)
        return over

    def entries(self, base: list[Any], over: list[Any], item: Any, key: tuple[str, ...],
                path: tuple[str, ...]) -> list[Any]:
        """The parent's entries, each merged with the child's entry of the same name or
        removed by it, then the child's new entries in its order. Entries of one file never
        merge with each other."""
        slots: list[Any] = list(base)
        where = {_identity(e, key): i for i, e in enumerate(base) if isinstance(e, dict)}
        for entry in over:
            ident = _identity(entry, key) if isinstance(entry, dict) else None
            i = where.get(ident) if ident is not None else None
            if isinstance(entry, dict) and "remove" in entry:
                self.check_removal(entry, key, path)
                if i is None or slots[i] is _ABSENT:
                    names = [_label(e, key) for e in base if isinstance(e, dict)]
                    raise self.error(path, f"no entry {_label(entry, key)} to remove"
                                     + _suggestion(_label(entry, key), names))
                slots[i] = _ABSENT
            elif i is not None and slots[i] is not _ABSENT:
                slots[i] = self.value(slots[i], entry, item, (*path, str(i)))
            else:
                slots.append(self.value(_ABSENT, entry, item, (*path, str(len(slots)))))
        return [e for e in slots if e is not _ABSENT]

    def check_removal(self, entry: dict[str, Any], key: tuple[str, ...],
                      path: tuple[str, ...]) -> None:
        if entry["remove"] is not True:
            raise self.error(path, "remove must be true")
        extra = sorted(set(entry) - set(key) - {"remove"})
        if extra:
            raise self.error(path, f"a removal names its entry by {', '.join(key)} only, "
                                   f"not {', '.join(map(str, extra))}")

    def note_dropped(self, base: list[Any], over: list[Any], path: tuple[str, ...]) -> None:
        for entry in base:
            if isinstance(entry, dict) and entry not in over:
                self.notes.append(
                    f"{self.file}: {'.'.join(path)}: drops {_flow(entry)} of {self.parent} "
                    "(this list replaces the parent's whole; write it as {replace: [...]} "
                    "to say so)")

    def error(self, path: tuple[str, ...], reason: str) -> ScenarioError:
        return ScenarioError(self.file, ".".join(path), reason)


def _core(shape: Any) -> tuple[Any, str | None]:
    """The type under ``Annotated`` and ``Optional``, and the key naming its kind if it is a
    union of models told apart by one (a discriminated union)."""
    tag = None
    while True:
        origin = typing.get_origin(shape)
        if origin is Annotated:
            shape, *extras = typing.get_args(shape)
            tag = next((e.discriminator for e in extras
                        if isinstance(e, FieldInfo) and isinstance(e.discriminator, str)), tag)
        elif origin in (Union, types.UnionType):
            options = [a for a in typing.get_args(shape) if a is not type(None)]
            if len(options) > 1:
                return shape, tag
            shape = options[0]
        else:
            return shape, tag


def _is_list(core: Any) -> bool:
    return typing.get_origin(core) is list


def _child_shape(shape: Any, key: Any, tag_value: Any) -> Any:
    """The schema of ``key`` inside a value of ``shape`` (None where the schema has none)."""
    core, tag = _core(shape)
    if typing.get_origin(core) is dict:
        return typing.get_args(core)[1]
    model = _variant(core, tag, tag_value)
    if model is None:
        return None
    for name, field in model.model_fields.items():
        if key in (name, field.alias):
            return Annotated[field.annotation, field] if field.discriminator else field.annotation
    return None


def _variant(core: Any, tag: str | None, tag_value: Any) -> type[BaseModel] | None:
    """The model a value of ``core`` is: the model itself, or the union member its tag names."""
    if isinstance(core, type) and issubclass(core, BaseModel):
        return core
    if tag is None:
        return None
    for option in typing.get_args(core):
        if tag_value in typing.get_args(option.model_fields[tag].annotation):
            return option
    return None


def _merge_key(item: Any) -> tuple[str, ...]:
    model = _variant(*_core(item), None)
    return tuple(getattr(model, "merge_key", ())) if model is not None else ()


def _identity(entry: dict[str, Any], key: tuple[str, ...]) -> str:
    """What names an entry: its key fields, lists compared as sets."""
    parts = [sorted(map(str, v)) if isinstance(v, list) else v for v in map(entry.get, key)]
    return json.dumps(parts, default=str)


def _label(entry: dict[str, Any], key: tuple[str, ...]) -> str:
    if key == ("name",):
        return f"'{entry.get('name')}'"
    return _flow({k: entry[k] for k in key if entry.get(k) is not None})


def _flow(value: Any) -> str:
    """A value as one line of YAML flow style."""
    return yaml.safe_dump(value, default_flow_style=True, width=10**6, sort_keys=False).strip()


def _suggestion(word: str, candidates: Iterable[str]) -> str:
    """' (did you mean X?)' for a near miss among ``candidates``, else ''."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.8)
    return f" (did you mean {close[0]}?)" if close else ""


# ----------------------------------------------------------------------------- overrides
def apply_override(data: dict[str, Any], assignment: str, file: Path) -> None:
    """Apply ``dotted.path=value`` in place; the value is parsed as a YAML scalar or flow."""
    path, sep, raw = assignment.partition("=")
    if not sep or not path:
        raise ScenarioError(file, assignment, "an override must look like dotted.path=value")
    try:
        value = yaml.load(raw, Loader=_Loader)
    except (yaml.YAMLError, ValueError, RecursionError):
        raise ScenarioError(file, path, f"cannot parse value '{raw}'") from None
    value = _expanded(value, file, path, path.count(".") + 1, [0])
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
    """The Scenario of a resolved document, or the ScenarioError of its first problem with
    every problem in ``problems`` (cross-references are checked once every value is well
    typed, so a file with type errors lists those first)."""
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = _problems(exc, data, file)
        problems[0].problems = tuple(problems)
        raise problems[0] from None
    too_big = [ScenarioError(file, path, reason) for path, reason in run_size_problems(scenario)]
    if too_big:
        too_big[0].problems = tuple(too_big)
        raise too_big[0]
    return scenario


def _problems(exc: ValidationError, data: Any, file: str | Path) -> list[ScenarioError]:
    """One ScenarioError per dotted path pydantic complains about, in its order."""
    found: dict[str, ScenarioError] = {}
    for error in exc.errors():
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, CrossReferenceError):
            for path, reason in cause.problems:
                found.setdefault(path, ScenarioError(file, path, reason))
            continue
        parts, tag = _document_path(data, error["loc"])
        path = ".".join(parts)
        found.setdefault(path, ScenarioError(file, path, _reason(error, tag)))
    return list(found.values())


def _reason(error: Any, tag: str | None) -> str:
    if error["type"] == "extra_forbidden":
        *where, key = error["loc"]
        return ((f"unknown key for {tag} entries" if tag else "unknown key")
                + _suggestion(str(key), _keys_at(tuple(where))))
    if error["type"] == "missing":
        return "required key is missing"
    if error["type"] == "none_required":
        return f"not allowed for {tag or 'this'} entries"
    if error["type"] == "string_pattern_mismatch" and \
            (error.get("ctx") or {}).get("pattern") == NAME_PATTERN:
        return ("a name is letters, digits, '_' and '-' (at most 64, not starting with '-'), "
                f"not {_shown(error['input'])}")
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] in _BOUND_ERRORS:
        return f"{message}, not {_shown(error['input'])}"
    return message


_BOUND_ERRORS = ("greater_than", "greater_than_equal", "less_than", "less_than_equal",
                 "finite_number", "date_too_early", "date_too_late")


def _keys_at(loc: tuple[int | str, ...]) -> list[str]:
    """The keys the schema allows at pydantic's location ``loc``, whose parts include the
    tag that picked a member of a discriminated union."""
    shape: Any = Scenario
    for part in loc:
        core, tag = _core(shape)
        if tag is not None and _variant(core, tag, part) is not None:
            shape = _variant(core, tag, part)
        elif _is_list(core):
            shape = typing.get_args(core)[0]
        else:
            shape = _child_shape(shape, part, None)
    model = _variant(*_core(shape), None)
    if model is None:
        return []
    return [field.alias or name for name, field in model.model_fields.items()]


def _document_path(data: Any, loc: tuple[int | str, ...]) -> tuple[list[str], str | None]:
    """The error's location as keys of the document, and the union tag met on the way.

    A discriminated union adds the chosen tag ('lognormal', 'sS', 'overseas') to
    pydantic's path; the document has no key for it, only a value (``dist: lognormal``),
    so such parts are dropped."""
    path: list[str] = []
    tag = None
    for part in loc:
        if part == "[key]":  # pydantic's mark of a mapping key that failed, not a key
            continue
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
