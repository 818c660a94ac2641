"""The calibrated scenario file: the base scenario with every fit's values, checked and
written with its evidence in comments.

Fits give values by dotted path; a whole mapping or list replaces the base's at that path,
so the catalogue's ``skus`` replaces the base's SKUs and a later ``skus.X.popularity`` lands
inside it. Base entries that name what the calibration removed (a replenishment rule listing
base SKUs, the prices and ad shares of a dropped market, lanes of a dropped warehouse) are
dropped, and the result is validated like any scenario file.

The loader merges mappings key by key (``sim.loader.deep_merge``), so a file that
``extends:`` the base can change and add keys but never remove one. The file extends the
base when that expresses the result exactly (checked: the merged document must validate to
the same scenario); otherwise it is the full document, and its header says which base the
unfitted values came from and why it does not extend it.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from experiments.data.calibrate.fit import Fit
from sim.atomic import atomic_write
from sim.loader import ScenarioError, deep_merge, validate
from sim.scenario import Scenario


@dataclass
class Assembled:
    """The calibrated document, its validated scenario and what pruning dropped."""

    document: dict[str, Any]
    scenario: Scenario
    dropped: list[str]


def plain(value: Any) -> Any:
    """A fit's value as plain YAML data (numpy scalars, tuples, timestamps converted)."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [plain(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, np.generic):
        return value.item()
    return value


def set_path(document: dict[str, Any], path: str, value: Any) -> None:
    """Put ``value`` at a dotted path, creating mappings on the way; list items by index."""
    keys = path.split(".")
    node: Any = document
    for key in keys[:-1]:
        if isinstance(node, list):
            node = node[int(key)]
        else:
            node = node.setdefault(key, {})
    if isinstance(node, list):
        node[int(keys[-1])] = value
    else:
        node[keys[-1]] = value


def assemble(base_document: Mapping[str, Any], fits: Sequence[Fit], name: str,
             description: str, source: str | Path) -> Assembled:
    """The base with the fits' values (in fit order), pruned and validated."""
    document = copy.deepcopy(dict(base_document))
    document.update(name=name, description=description)
    for fit in fits:
        for path, value in fit.values.items():
            set_path(document, path, plain(value))
    dropped = prune(document, base_document)
    return Assembled(document, validate(document, source), dropped)


def prune(document: dict[str, Any], base: Mapping[str, Any]) -> list[str]:
    """Drop, in place, the entries that name SKUs, markets or warehouses the document no
    longer has; what was dropped, in words."""
    notes: list[str] = []
    markets = set(document.get("markets", {}))
    for sku in document.get("skus", {}).values():
        for field in ("price", "reference_price"):
            if isinstance(sku.get(field), dict):
                sku[field] = {m: p for m, p in sku[field].items() if m in markets}
    for spec in document.get("warehouses", {}).values():
        if spec.get("market") is not None and spec["market"] not in markets:
            notes.append(f"warehouse in dropped market {spec['market']}")
    document["warehouses"] = {n: w for n, w in document.get("warehouses", {}).items()
                              if w.get("market") is None or w["market"] in markets}
    _prune_events(document, markets, notes)
    _prune_channels(document, markets, notes)
    _prune_lanes(document, markets, notes)
    _prune_policies(document, markets, notes)
    _prune_pricing(document, base, notes)
    if "plan" in document and (set(document.get("skus", {})) != set(base.get("skus", {}))
                               or markets != set(base.get("markets", {}))):
        del document["plan"]
        notes.append("the base's plan file (made for its SKUs and markets): run xbsim optimize "
                     "on the calibrated scenario for a new one")
    return notes


def _prune_events(document: dict[str, Any], markets: set[str], notes: list[str]) -> None:
    calendar = document.get("calendar", {})
    kept = []
    for event in calendar.get("peak_events", []):
        if event.get("markets") is not None:
            event["markets"] = [m for m in event["markets"] if m in markets]
            if not event["markets"]:
                notes.append(f"peak event {event.get('name')} (its markets are gone)")
                continue
        kept.append(event)
    if "peak_events" in calendar:
        calendar["peak_events"] = kept


def _prune_channels(document: dict[str, Any], markets: set[str], notes: list[str]) -> None:
    """Ad shares of dropped markets; the rest renormalised to sum to one."""
    channels = document.get("ad_channels", {})
    for name in list(channels):
        shares = {m: s for m, s in channels[name].get("market_shares", {}).items()
                  if m in markets}
        total = sum(shares.values())
        if total <= 0:
            del channels[name]
            notes.append(f"ad channel {name} (it served only dropped markets)")
            for spend in (document.get("policies", {}).get("ad_spend", {}),
                          *document.get("planning", {}).get("ads", {}).values()):
                if isinstance(spend, dict):
                    spend.pop(name, None)
        elif set(shares) != set(channels[name]["market_shares"]):
            channels[name]["market_shares"] = {m: s / total for m, s in shares.items()}


def _prune_lanes(document: dict[str, Any], markets: set[str], notes: list[str]) -> None:
    warehouses = document.get("warehouses", {})
    lanes = document.get("lanes", {})
    for name in list(lanes):
        lane = lanes[name]
        if lane["origin"] not in warehouses or (lane["destination"] not in warehouses
                                                and lane["destination"] not in markets):
            del lanes[name]
            notes.append(f"lane {name} (its origin or destination is gone)")


def _prune_policies(document: dict[str, Any], markets: set[str], notes: list[str]) -> None:
    policies = document.get("policies", {})
    skus, warehouses = set(document.get("skus", {})), set(document.get("warehouses", {}))
    fulfilment = policies.get("fulfilment", {})
    for market in [m for m in fulfilment if m not in markets]:
        del fulfilment[market]
        notes.append(f"fulfilment of dropped market {market}")
    kept = []
    for i, rule in enumerate(policies.get("replenishment", [])):
        if rule["warehouse"] not in warehouses:
            notes.append(f"replenishment rule {i} ({rule['warehouse']} is gone)")
            continue
        if rule.get("skus") is not None:
            listed = [s for s in rule["skus"] if s in skus]
            if not listed:
                notes.append(f"replenishment rule {i} at {rule['warehouse']} (its SKUs "
                             f"{', '.join(rule['skus'])} are not in the catalogue)")
                continue
            rule["skus"] = listed
        kept.append(rule)
    if "replenishment" in policies:
        policies["replenishment"] = kept


def _prune_pricing(document: dict[str, Any], base: Mapping[str, Any],
                   notes: list[str]) -> None:
    """The base's price changes and promotions are its own business's dated decisions: a
    calibrated catalogue that is not the base's starts without them (its history's price
    moves are read as the elasticity)."""
    if set(document.get("skus", {})) == set(base.get("skus", {})):
        return
    pricing = document.get("pricing", {})
    for kind in ("changes", "promotions"):
        for entry in pricing.get(kind, []):
            notes.append(f"the base's {kind.removesuffix('s')} {entry.get('name')} (made "
                         "for its catalogue): add your own under pricing")
        if kind in pricing:
            pricing[kind] = []


# ----------------------------------------------------------------------------- writing
def extension(base_document: Mapping[str, Any], document: Mapping[str, Any],
              source: str | Path) -> tuple[dict[str, Any] | None, list[str]]:
    """The keys a file extending the base needs, or None, with the base keys the result
    lacks (a file that extends the base cannot remove them)."""
    child = _difference(base_document, document)
    removed = list(_removed(base_document, document, ""))
    try:
        same = validate(deep_merge(dict(base_document), child), source) == validate(
            dict(document), source)
    except ScenarioError:  # a replaced mapping merged with the keys it dropped
        same = False
    return (child if same else None), removed


def _difference(base: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in new.items():
        old = base.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            inner = _difference(old, value)
            if inner:
                out[key] = inner
        elif key not in base or old != value:
            out[key] = value
    return out


def _removed(base: Mapping[str, Any], new: Mapping[str, Any], prefix: str) -> Iterator[str]:
    for key, value in base.items():
        path = f"{prefix}{key}"
        if key not in new:
            yield path
        elif isinstance(value, dict) and isinstance(new[key], dict):
            yield from _removed(value, new[key], f"{path}.")


def write_scenario(out: Path, base_file: Path, base_document: Mapping[str, Any],
                   assembled: Assembled, fits: Sequence[Fit], header: Sequence[str],
                   extends: bool) -> bool:
    """Write the scenario file atomically; whether it extends the base.

    ``header`` are the lines about the source data; each fit's comment is the line above the
    first top-level key it sets.
    """
    document = assembled.document
    child, removed = (extension(base_document, document, out) if extends else (None, []))
    base_name = os.path.relpath(base_file.resolve(), out.resolve().parent)
    lines = [f"# {line}" for line in header]
    if child is not None:
        lines += [f"# Unfitted values come from {base_name}, which this file extends.", "",
                  f"extends: {base_name}"]
        body = child
    else:
        body = dict(document)
        if "plan" in body:
            body["plan"] = os.path.relpath(Path(body["plan"]).resolve(), out.resolve().parent)
        why = ""
        if extends:
            shown = ", ".join(removed[:6]) + (f" and {len(removed) - 6} more"
                                              if len(removed) > 6 else "")
            why = (f" This is the whole document, not a file extending it: extends can change "
                   f"and add keys but not remove the base's {shown}.")
        lines += _wrap(f"Unfitted values come from {base_name}.{why}")
    lines += _body(body, fits)
    text = "\n".join(lines) + "\n"
    atomic_write(out, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return child is not None


def _wrap(text: str, width: int = 96) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(f"# {line}")
            line = word
        else:
            line = f"{line} {word}" if line else word
    return [*lines, f"# {line}"]


def _body(body: Mapping[str, Any], fits: Sequence[Fit]) -> list[str]:
    """Top-level keys as YAML blocks, each fit's comment above the first key it sets."""
    placed: dict[str, list[Fit]] = {}
    unplaced = []
    for fit in fits:
        tops = [path.split(".")[0] for path in fit.values]
        first = next((key for key in body if key in tops), None)
        if first is None:
            unplaced.append(fit)
        else:
            placed.setdefault(first, []).append(fit)
    lines = [f"# {group_comment(fit)} (no value differs from the base)" for fit in unplaced]
    for key, value in body.items():
        lines.append("")
        lines += [f"# {group_comment(fit)}" for fit in placed.get(key, [])]
        text = yaml.dump({key: _flow_leaves(value, top=True)}, Dumper=_Dumper, sort_keys=False,
                         allow_unicode=True, width=100, default_flow_style=False)
        lines += text.rstrip("\n").split("\n")
    return lines


class _Flow(dict):
    """A mapping of scalars written on one line (``{dist: uniform, low: 1, high: 3}``)."""


class _FlowList(list):
    """A list of scalars or one-line mappings, written on one line."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Flow, lambda d, v: d.represent_mapping(
    "tag:yaml.org,2002:map", v.items(), flow_style=True))
_Dumper.add_representer(_FlowList, lambda d, v: d.represent_sequence(
    "tag:yaml.org,2002:seq", v, flow_style=True))


def _flow_leaves(value: Any, top: bool = False) -> Any:
    """Collections of scalars one line each (below the top level), like the hand-written
    scenario files: blocks for structure, one line per leaf."""
    if isinstance(value, dict):
        inner = {k: _flow_leaves(v) for k, v in value.items()}
        flat = all(not isinstance(v, dict | list) for v in value.values())
        return _Flow(inner) if flat and not top else inner
    if isinstance(value, list):
        items = [_flow_leaves(v) for v in value]
        flat = all(not isinstance(v, dict | list) or isinstance(v, _Flow) for v in items)
        return _FlowList(items) if flat else items
    return value


def group_comment(fit: Fit) -> str:
    """The fit's comment on one line, led by its group's name."""
    comment = " ".join(fit.comment.split()) or "(no comment)"
    return comment if comment.startswith(f"{fit.group}:") else f"{fit.group}: {comment}"


def header_lines(data_dir: Path, tables: Mapping[str, pd.DataFrame], first: dt.date,
                 last: dt.date) -> list[str]:
    """What the file was fitted to: the data, its period and rows, and when."""
    rows = ", ".join(f"{name} {len(frame):,}" for name, frame in tables.items())
    return [f"Calibrated scenario, fitted by xbsim calibrate on {dt.date.today().isoformat()}.",
            f"Source data: {data_dir} (rows: {rows}).",
            f"Period: {first.isoformat()} to {last.isoformat()} "
            f"({(last - first).days + 1} days of orders)."]
