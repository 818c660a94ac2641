"""The scenario reference, docs/scenario-reference.md, written from the schema itself.

Every key a scenario file may hold is a field of a model in ``sim.scenario``; its type,
bounds, default, description and unit are read from there, and its example from the first
shipped scenario that sets it. The file is generated, never edited: a test fails when it
differs from what ``python -m experiments.docs.reference`` writes now, so the reference
cannot drift from the code.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import annotated_types as at
import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sim import limits, loader, scenario
from sim.calendar import EXTRA_DAYS
from sim.distributions import Distribution
from sim.loader import resolve_document
from sim.scenario import NAME_PATTERN, Scenario

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "scenario-reference.md"
EXAMPLES = ["baseline", "peak_season", "mix_sea_overseas_wh", "mix_all_express", "ads_budget"]
"""Shipped scenarios the examples come from, the first that sets a key winning."""

PLACEHOLDERS = {"markets": "MARKET", "skus": "SKU", "ad_channels": "CHANNEL",
                "suppliers": "SUPPLIER", "warehouses": "WAREHOUSE", "modes": "MODE",
                "lanes": "LANE", "fulfilment": "MARKET", "ad_spend": "CHANNEL",
                "price": "MARKET", "reference_price": "MARKET", "market_shares": "MARKET",
                "disposition": "DISPOSITION", "weekly_spend_per_day": "WEEK",
                "undeliverable": "MODE"}
"""What the keys of a mapping name, for the dotted path patterns (default CHANNEL: the
optimiser settings keyed by ad channel)."""

UNIT_SUFFIXES = {"_cny_per_day": "CNY per day", "_units_per_day": "units/day",
                 "_days": "days", "days": "days", "_hours": "hours", "_weeks": "weeks",
                 "_cny": "CNY", "_kg": "kg", "_m3": "m3", "_probability": "probability",
                 "_per_day": "per day", "_units": "units", "_rate": "fraction"}
"""Units the field names carry (sim/scenario.py: units live in the names)."""

DISTRIBUTION_NOTES = {
    "uniform": "Any value from low to high equally likely.",
    "triangular": "From low to high, most likely at mode.",
    "lognormal": "Right-skewed, by its mean and coefficient of variation (cv = st. dev. / "
                 "mean): transit and lead times with a long tail of delays.",
    "gamma": "Right-skewed like the lognormal, with a lighter tail; mean and cv.",
}
"""For the families whose class in sim/distributions.py has no docstring to show."""

INTRO = """\
# Scenario reference

Generated from the schema (`sim/scenario.py`) by `python -m experiments.docs.reference`;
do not edit by hand. What the parameters mean for the model is told in
[model.md](model.md).

A scenario is one YAML file. Keys are written as dotted paths: `markets.<MARKET>.duty_rate`
is the `duty_rate` of any market, `calendar.peak_events.<N>.name` the name of any peak
event. The same paths work with `--set PATH=VALUE` (lists by position: `.0.` is the first
entry) and in sweep files. Every key below is checked when the file loads: unknown keys,
wrong types and values outside the bounds are errors naming the file and the path.

Units live in the names (`_days`, `_hours`, `_cny`, `_kg`, `_m3`, `_rate` a fraction,
`_probability` in [0, 1]); money without `_cny` is in the currency of the enclosing entry (a
market's, a warehouse's, a mode's or an ad channel's `currency`). Dates are ISO dates
(`2026-11-27`). "x" marks a multiplier.
"""

LIMITS = """\
## Limits

Every number has bounds (the table below gives them) far beyond any real operation, so that
whatever loads also runs to the end within memory and time. Numbers are written as numbers:
`true`, `"100"` and YAML 1.1's base-60 `1:40` are refused. Names of markets, SKUs,
categories, warehouses, modes, lanes, channels, suppliers, events and the scenario itself
are letters, digits, `_` and `-` (at most 64, not starting with `-`). A scenario has at most
{markets} markets (so at most {currencies} currencies with CNY), {skus} SKUs and {entries}
entries in any other mapping or list; markets that share a currency give it the same
`fx_to_cny` and `fx_daily_volatility`, and a market trading in CNY gives 1 and 0. A
replenishment rule's `categories` must name categories of the catalogue.

Products of fields are checked too, as expectations at a 5-star rating and every paid
channel's maximum: at most {orders_day:,.0f} orders on the busiest day and {orders:,.0f} over
the horizon, {tickets_day:,.0f} shopper inquiries a day and {tickets:,.0f} over the horizon,
{cells:,.0f} markets x SKUs x days (the horizon plus {extra} days), {departures:,.0f} bulk
departures over the horizon, and a calendar multiplier (seasonality x overlapping peaks) of
at most {calendar:,.0f}.

A file is at most {file_mib} MiB, nested at most {depth} levels and holds at most
{nodes:,} values once its YAML aliases are expanded; `extends:` chains are at most
{extends} files long; a key given twice in one mapping is an error naming both lines.
"""

EXTENDING = """\
## Extending a scenario

A file that starts with `extends: other.yaml` (a path relative to the file) holds only what
differs from that file; the parent may extend another in turn. The child is laid over the
parent:

- **Mappings merge key by key.** `markets: {US: {duty_rate: 0.25}}` changes the US duty and
  keeps everything else. A mapping whose kind changes (`dist`, `type`, `kind` or `family`)
  replaces the parent's whole, so `lead_time_days: {dist: constant, value: 9}` over a
  lognormal needs no other key.
- **Lists of named entries merge entry by entry** (the table below says what names an
  entry). An entry with a name the parent has merges into that entry, so
  `{name: black_friday_cyber_monday, demand_multiplier: 3.5}` changes one figure of one
  event; an entry with a new name is added after the parent's.
- **Remove an entry** by naming it with `remove: true`:
  `{name: prime_day, remove: true}`, or for a replenishment rule its warehouse, SKUs,
  categories and mode: `{warehouse: US_WH, skus: [ELE_EARBUDS_TWS], mode: air, remove: true}`.
  Removing an entry the parent does not have is an error.
- **Replace a whole list** by writing `{replace: [...]}` in its place:
  `replenishment: {replace: [{warehouse: SZ, ...}]}` keeps only the rules listed.
- **Any other list or value replaces the parent's**: seasonality, a lane's modes, and the
  lists of unnamed windows (surcharges, capacity cuts, supplier shutdowns). When such a list
  drops an entry of the parent's, `xbsim validate` prints a warning line for it; write the
  list as `{replace: [...]}` to say that is meant.

`--set` overrides apply after all files are merged and replace the value at their path.
`xbsim show FILE` prints the merged scenario; `xbsim diff A.yaml B.yaml` the differences of
two merged scenarios, by dotted path.
"""


@dataclass(frozen=True)
class Row:
    """One key of the reference."""

    path: str
    kind: str
    unit: str
    default: str
    description: str
    only: str = ""
    example: str = ""


def reference_markdown() -> str:
    """The whole reference as Markdown."""
    examples = _example_documents()
    rows = list(_rows(Scenario, ""))
    parts = [INTRO, _limits(), EXTENDING, _merge_table(rows), _distributions()]
    nested = {row.path.split(".")[0] for row in rows if "." in row.path}
    top = [row for row in rows if row.path not in nested and "." not in row.path]
    parts.append(_section("Top level", "Keys of the scenario itself.", top, examples))
    for name, field in Scenario.model_fields.items():
        if name in nested:
            model = _entry_model(field)
            doc = " ".join(d for d in (field.description and f"{field.description[0].upper()}"
                                       f"{field.description[1:]}.",
                                       model and _first_paragraph(model)) if d)
            section = [row for row in rows if row.path.split(".")[0] == name]
            parts.append(_section(f"`{name}`", doc, section, examples))
    return "\n".join(parts)


def _entry_model(field: FieldInfo) -> type | None:
    """The model of a section: the field's own or its entries' (none for a union)."""
    core = _unwrap(field.annotation)[0]
    while typing.get_origin(core) in (dict, list):
        core = _unwrap(typing.get_args(core)[-1])[0]
    return core if isinstance(core, type) else None


def write_reference(path: Path = REFERENCE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(reference_markdown(), encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- the walk
def _rows(model: type[BaseModel], prefix: str, only: str = "") -> Iterator[Row]:
    for name, field in model.model_fields.items():
        key = field.alias or name
        yield from _field_rows(f"{prefix}{key}", key, _annotation(field), field, only)


def _field_rows(path: str, key: str, shape: Any, field: FieldInfo | None,
                only: str) -> Iterator[Row]:
    core, tag, bounds = _unwrap(shape)
    description = (field.description if field is not None else None) or ""
    nested = _model_of(core)
    if nested is not None and tag is None:
        if field is not None and not field.is_required():
            yield _row(path, key, "mapping", field, description, only)
        yield from _rows(nested, f"{path}.", only)
        return
    if tag is not None and _is_distribution(core):
        yield _row(path, key, "[distribution](#distributions)", field, description, only)
        return
    if tag is not None:
        yield from _union_rows(path, core, tag, only)
        return
    origin = typing.get_origin(core)
    if origin is dict:
        value = typing.get_args(core)[1]
        inner = _unwrap(value)
        if _model_of(inner[0]) is not None or inner[1] is not None:
            placeholder = f"<{PLACEHOLDERS.get(key, 'CHANNEL')}>"
            yield _row(path, key, "mapping of entries", field, description, only)
            yield from _field_rows(f"{path}.{placeholder}", key, value, None, only)
            return
    if origin is list and _model_of(_unwrap(typing.get_args(core)[0])[0]) is not None:
        item = _model_of(_unwrap(typing.get_args(core)[0])[0])
        yield _row(path, key, f"list of entries{_length(bounds)}", field, description, only)
        if item is not None:
            yield from _rows(item, f"{path}.<N>.", only)
        return
    yield _row(path, key, _kind(core, bounds), field, description, only)


def _union_rows(path: str, core: Any, tag: str, only: str) -> Iterator[Row]:
    """A discriminated union: each key once, marked with the kinds that have it when not
    every kind does (or when kinds define it differently)."""
    options = [o for o in typing.get_args(core) if _model_of(o) is not None]
    seen: dict[str, list[tuple[Row, str]]] = {}
    for option in options:
        kind = typing.get_args(option.model_fields[tag].annotation)[0]
        for row in _rows(option, f"{path}.", only):
            seen.setdefault(row.path, []).append((row, kind))
    for key, rows in seen.items():
        if key == f"{path}.{tag}":
            first = rows[0][0]
            names = ", ".join(f"`{kind}`" for _, kind in rows)
            yield Row(first.path, f"one of {names}", "", first.default, first.description)
            continue
        groups: dict[Row, list[str]] = {}
        for row, kind in rows:
            groups.setdefault(row, []).append(kind)
        for row, kinds in groups.items():
            if len(kinds) == len(options):
                yield row
            else:
                yield Row(row.path, row.kind, row.unit, row.default, row.description,
                          f"{tag}: {', '.join(kinds)}", row.example)


def _row(path: str, key: str, kind: str, field: FieldInfo | None, description: str,
         only: str) -> Row:
    examples = field.examples if field is not None else None
    return Row(path, kind, _unit(key, field), _default(field), description, only,
               _flow(examples[0]) if examples else "")


# ----------------------------------------------------------------------------- types
def _annotation(field: FieldInfo) -> Any:
    """The field's type with its constraints and discriminator attached, as written."""
    extras = [*field.metadata] + ([field] if field.discriminator else [])
    return Annotated[(field.annotation, *extras)] if extras else field.annotation


def _unwrap(shape: Any) -> tuple[Any, str | None, list[Any]]:
    """(type under Annotated and Optional, discriminator, constraint objects)."""
    tag: str | None = None
    bounds: list[Any] = []
    while True:
        origin = typing.get_origin(shape)
        if origin is Annotated:
            shape, *extras = typing.get_args(shape)
            for extra in extras:
                if isinstance(extra, FieldInfo):
                    tag = extra.discriminator if isinstance(extra.discriminator, str) else tag
                    bounds += extra.metadata
                else:
                    bounds.append(extra)
        elif origin in (Union, types.UnionType):
            options = [a for a in typing.get_args(shape) if a is not type(None)]
            if len(options) > 1:
                return shape, tag, bounds
            shape = options[0]
        else:
            return shape, tag, bounds


def _model_of(shape: Any) -> type[BaseModel] | None:
    core = _unwrap(shape)[0]
    return core if isinstance(core, type) and issubclass(core, BaseModel) else None


def _is_distribution(core: Any) -> bool:
    return core == _unwrap(Distribution)[0]


def _kind(core: Any, bounds: list[Any]) -> str:
    origin = typing.get_origin(core)
    if origin is Literal:
        return "one of " + ", ".join(f"`{v}`" for v in typing.get_args(core))
    if origin is list:
        inner, _, inner_bounds = _unwrap(typing.get_args(core)[0])
        return f"list of {_kind(inner, inner_bounds)}{_length(bounds)}"
    if origin is dict:
        inner, _, inner_bounds = _unwrap(typing.get_args(core)[1])
        return f"mapping to {_kind(inner, inner_bounds)}{_length(bounds)}"
    names = {float: "number", int: "integer", str: "text", bool: "true or false",
             dt.date: "date", type(None): "null"}
    text = names.get(core, getattr(core, "__name__", str(core)))
    return text + _range(bounds)


def _range(bounds: list[Any]) -> str:
    low = next((f"{_bound(b.ge)} <=" for b in bounds if isinstance(b, at.Ge)), None) \
        or next((f"{_bound(b.gt)} <" for b in bounds if isinstance(b, at.Gt)), None)
    high = next((f"<= {_bound(b.le)}" for b in bounds if isinstance(b, at.Le)), None) \
        or next((f"< {_bound(b.lt)}" for b in bounds if isinstance(b, at.Lt)), None)
    pattern = next((b.pattern for b in bounds if getattr(b, "pattern", None)), None)
    if pattern == r"^[A-Z]{3}$":
        return ", a currency code (3 capitals)"
    if pattern == NAME_PATTERN:
        return ", a name (letters, digits, _ and -; at most 64)"
    if low and high:
        return f", {low} x {high}"
    if high:
        return f", x {high}"
    return f", {low} x" if low else ""


def _bound(value: Any) -> str:
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def _length(bounds: list[Any]) -> str:
    least = next((b.min_length for b in bounds if isinstance(b, at.MinLen)), None)
    most = next((b.max_length for b in bounds if isinstance(b, at.MaxLen)), None)
    if least is not None and least == most:
        return f", exactly {least}"
    if least and most:
        return f", {least} to {most}"
    if most:
        return f", at most {most}"
    return f", at least {least}" if least else ""


def _unit(key: str, field: FieldInfo | None) -> str:
    extra = field.json_schema_extra if field is not None else None
    if isinstance(extra, dict) and isinstance(extra.get("unit"), str):
        return str(extra["unit"])
    return next((u for suffix, u in UNIT_SUFFIXES.items() if key.endswith(suffix)), "")


def _default(field: FieldInfo | None) -> str:
    if field is None or field.is_required():
        return "required"
    value = field.default
    if isinstance(value, BaseModel):
        return "see below"
    return f"`{_flow(value)}`"


# ----------------------------------------------------------------------------- rendering
def _section(title: str, doc: str, rows: list[Row], examples: list[dict[str, Any]]) -> str:
    lines = [f"## {title}", "", doc, "",
             "| Key | Type and bounds | Unit | Default | Example | Meaning |",
             "|---|---|---|---|---|---|"]
    for row in rows:
        meaning = row.description + (f" (only {row.only})" if row.only else "")
        example = "" if row.kind == "null" else _example(row.path, examples) or row.example
        lines.append(f"| `{row.path}` | {row.kind} | {row.unit} | {row.default} | "
                     f"{f'`{example}`' if example else ''} | {meaning} |")
    return "\n".join(lines) + "\n"


def _merge_table(rows: list[Row]) -> str:
    lines = ["### Lists of named entries", "",
             "| List | An entry is named by |", "|---|---|"]
    for row in rows:
        if row.kind.startswith("list of entries"):
            item = _list_item(row.path)
            key = getattr(item, "merge_key", ())
            how = ", ".join(f"`{k}`" for k in key) if key else "(unnamed: replaced whole)"
            lines.append(f"| `{row.path}` | {how} |")
    return "\n".join(lines) + "\n"


def _list_item(path: str) -> type[BaseModel] | None:
    """The entry model of the list at a reference path."""
    shape: Any = Scenario
    for part in path.split("."):
        core, tag, _ = _unwrap(shape)
        if part.startswith("<"):
            shape = typing.get_args(core)[1]
            continue
        model = _model_of(core)
        options = typing.get_args(core) if tag else (model,)
        fields = [o.model_fields[part] for o in options if o and part in o.model_fields]
        shape = _annotation(fields[0])
    return _model_of(typing.get_args(_unwrap(shape)[0])[0])


def _limits() -> str:
    return LIMITS.format(
        markets=scenario.MAX_MARKETS, currencies=scenario.MAX_MARKETS + 1,
        skus=f"{scenario.MAX_SKUS:,}", entries=f"{scenario.MAX_ENTRIES:,}",
        orders_day=limits.MAX_ORDERS_PER_DAY, orders=limits.MAX_ORDERS,
        tickets_day=limits.MAX_TICKETS_PER_DAY, tickets=limits.MAX_TICKETS,
        cells=limits.MAX_CELLS, extra=EXTRA_DAYS, departures=limits.MAX_DEPARTURES,
        calendar=limits.MAX_CALENDAR, file_mib=loader.MAX_FILE_BYTES // 1024**2,
        depth=loader.MAX_DEPTH, nodes=loader.MAX_NODES, extends=loader.MAX_EXTENDS)


def _distributions() -> str:
    lines = ["## Distributions", "",
             "Uncertain times are written as a distribution: a mapping whose `dist` names "
             "the family, in the unit of the key that holds it (days for `*_days`, hours "
             "for `*_hours`). Every family draws non-negative values.", "",
             "| `dist` | Keys | Meaning |", "|---|---|---|"]
    for option in typing.get_args(_unwrap(Distribution)[0]):
        name = typing.get_args(option.model_fields["dist"].annotation)[0]
        keys = ", ".join(
            f"`{f.alias or k}` ({_kind(*_unwrap(_annotation(f))[::2])}"
            f"{'' if f.is_required() else ', optional'})"
            for k, f in option.model_fields.items() if k != "dist")
        meaning = _first_paragraph(option) or DISTRIBUTION_NOTES.get(name, "")
        lines.append(f"| `{name}` | {keys} | {meaning} |")
    return "\n".join(lines) + "\n"


def _first_paragraph(model: type) -> str:
    doc = (model.__doc__ or "").strip().split("\n\n")[0]
    return " ".join(doc.split())


# ----------------------------------------------------------------------------- examples
def _example_documents() -> list[dict[str, Any]]:
    return [resolve_document(ROOT / "scenarios" / f"{name}.yaml") for name in EXAMPLES]


def _example(path: str, documents: list[dict[str, Any]]) -> str:
    """The first value at ``path`` in the documents, if short enough for a table cell."""
    for document in documents:
        for value in _values(document, path.split(".")):
            if value is None or value == [] or value == {}:
                continue
            text = _flow(value)
            return text if len(text) <= 80 else ""
    return ""


def _values(node: Any, parts: list[str]) -> Iterator[Any]:
    if not parts:
        yield node
        return
    head, rest = parts[0], parts[1:]
    if head.startswith("<") and isinstance(node, dict):
        for child in node.values():
            yield from _values(child, rest)
    elif head.startswith("<") and isinstance(node, list):
        for child in node:
            yield from _values(child, rest)
    elif isinstance(node, dict) and head in node:
        yield from _values(node[head], rest)


def _flow(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10**6, sort_keys=False)
    return text.strip().removesuffix("...").strip()


if __name__ == "__main__":
    print(f"wrote {write_reference().relative_to(ROOT)}")
