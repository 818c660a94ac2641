"""A Plan: what an optimiser decided, as plain data the simulation can execute.

Plans are written to YAML or JSON (by file suffix) and read back without loss, so a plan
made today can be evaluated tomorrow, attached to a ticket, or edited by hand. Quantities
are in units per week of the plan (week 1 starts on the scenario's start date); money in
CNY.

A plan edited by hand is validated like a scenario: every number is typed (no text, no
true/false), finite and within bounds the simulation can execute, and an error names the
line's dotted path, the value and the bound in one line:

    plan.yaml: not a plan: ad_spend.3.spend_cny_per_day: must be >= 0 (got -1000000.0)
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from sim.atomic import atomic_write
from sim.loader import ScenarioError, read_document

# libyaml where installed: a year's channel plan is a megabyte of lines.
_YAML_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


MAX_PLAN_WEEKS = 5_218
"""The last week a plan can name: a hundred years of weeks."""
MAX_UNITS = 1e12
"""Units of one plan line: far beyond any seller, and sums of them stay exact in int64."""
MAX_PLAN_BYTES = 256 * 1024**2
"""The largest plan file read: eight times a year's channel plan of a 1,000-SKU catalogue
(29 MiB; the baseline's: 1.2 MiB)."""
MAX_PLAN_VALUES = 25_000_000
"""The most values a plan file holds (the baseline's year: 83,000; 1,000 SKUs: 1.7 million)."""
LARGE_PLAN_LINES = 20_000
"""A plan with more lines is written as JSON text, even to a .yaml file (JSON is YAML):
PyYAML takes about half a minute to write a 1,000-SKU channel plan (209,000 lines) and a
minute to read it; json a second each way. Smaller plans stay block-style YAML to read."""
MAX_CNY = 1e15
"""Money of one plan figure (CNY): finite sums of them stay far from float overflow."""


def _a_number(value: Any) -> Any:
    """Refuse what lax parsing would turn into a number: text and true/false."""
    if isinstance(value, bool | str | bytes):
        raise ValueError(f"must be a number, not {type(value).__name__}")
    return value


Week = Annotated[int, BeforeValidator(_a_number), Field(ge=1, le=MAX_PLAN_WEEKS)]
Units = Annotated[float, BeforeValidator(_a_number),
                  Field(ge=0.0, le=MAX_UNITS, allow_inf_nan=False)]
Money = Annotated[float, BeforeValidator(_a_number),
                  Field(ge=-MAX_CNY, le=MAX_CNY, allow_inf_nan=False)]
SpendPerDay = Annotated[float, BeforeValidator(_a_number),
                        Field(ge=0.0, le=MAX_CNY, allow_inf_nan=False)]
Sample = Annotated[int, BeforeValidator(_a_number), Field(ge=0, le=1_000_000)]


class _Plain(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ShipmentLine(_Plain):
    """Units of a SKU sent from an origin warehouse to an overseas warehouse by a bulk mode,
    departing in a week (and, for sample-average plans, in one demand scenario)."""

    week: Week = Field(description="plan week, 1 = the first")
    sku: str
    origin: str
    destination: str
    mode: str
    units: Units
    scenario: Sample | None = None


class FulfilmentLine(_Plain):
    """Units of a SKU delivered to a market in a week by a route: a parcel mode from origin
    (``warehouse`` is the origin) or the last mile from an overseas warehouse."""

    week: Week = Field(description="plan week, 1 = the first")
    sku: str
    market: str
    route: Literal["direct", "warehouse"]
    mode: str
    warehouse: str
    units: Units
    scenario: Sample | None = None


class AdSpendLine(_Plain):
    week: Week = Field(description="plan week, 1 = the first")
    channel: str
    spend_cny_per_day: SpendPerDay


TakeOver = Literal["routing", "overseas_replenishment", "ad_spend"]
"""What a plan can run in place of the scenario's rules: order routing (weekly quotas per
market, SKU and route), the overseas warehouses' replenishment rules, and the ad spend of
the weeks and channels it names. Bulk shipment lines always leave on top of the rules."""

ROUTING_KINDS = ("channels", "frontier", "rolling")
"""Plan kinds that route orders and replenish overseas warehouses, when a plan file does
not say what it takes over (files written before ``takes_over`` existed)."""


class Plan(_Plain):
    kind: Literal["channels", "ads", "peak", "frontier", "rolling"]
    takes_over: list[TakeOver] = Field(
        description="what the plan runs in place of the scenario's rules; when absent, "
                    "routing plans (channels, frontier, rolling) take over routing and "
                    "overseas replenishment, and a plan with ad lines the ad spend")
    scenario: str
    scenario_hash: str
    weeks: Week = Field(description="weeks the plan covers: the horizon, or a rolling window")
    objective_cny: Money = Field(description="the optimiser's objective value")
    costs_cny: dict[str, Money] = {}
    shipments: list[ShipmentLine] = []
    fulfilment: list[FulfilmentLine] = []
    ad_spend: list[AdSpendLine] = []
    containers: dict[str, Units] = Field({}, description="'lane mode week' -> containers")
    metrics: dict[str, Money] = {}
    solver: dict[str, Any] = {}

    @model_validator(mode="before")
    @classmethod
    def _declared_or_by_kind(cls, data: Any) -> Any:
        if isinstance(data, dict) and "takes_over" not in data:
            routing = ["routing", "overseas_replenishment"] \
                if data.get("kind") in ROUTING_KINDS else []
            ads = ["ad_spend"] if data.get("ad_spend") else []
            data = {**data, "takes_over": routing + ads}
        return data

    def takes(self, what: TakeOver) -> bool:
        """Whether the plan runs ``what`` in place of the scenario's rules."""
        return what in self.takes_over


def with_ads(logistics: Plan, ads: Plan) -> Plan:
    """One plan the simulation runs: the logistics plan's lines (shipments, routing) with
    the ad plan's spend in place of any it had; the ad plan's figures and solver."""
    return logistics.model_copy(update={
        "kind": ads.kind, "ad_spend": ads.ad_spend,
        "takes_over": [t for t in logistics.takes_over if t != "ad_spend"] + ["ad_spend"],
        "scenario": ads.scenario, "scenario_hash": ads.scenario_hash,
        "objective_cny": ads.objective_cny, "costs_cny": logistics.costs_cny | ads.costs_cny,
        "metrics": ads.metrics, "solver": ads.solver})


class PlanFileError(Exception):
    """A plan file that cannot be read; the message names the file and the reason."""


def save_plan(plan: Plan, path: str | Path) -> Path:
    """Write the plan as YAML (.yaml/.yml) or JSON (.json, or any plan of more than
    ``LARGE_PLAN_LINES`` lines), atomically."""
    path = Path(path)
    data = plan.model_dump(mode="json")
    lines = len(plan.shipments) + len(plan.fulfilment) + len(plan.ad_spend)
    if path.suffix == ".json" or lines > LARGE_PLAN_LINES:
        text = json.dumps(data, indent=1) + "\n"
    else:
        text = yaml.dump(data, Dumper=_YAML_DUMPER, sort_keys=False)
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return path


def load_plan(path: str | Path) -> Plan:
    """Read a plan file. YAML is read as strictly as a scenario (``sim.loader``: no base-60
    numbers, no duplicate keys, bounded size and aliases); JSON (a .json file, or a .yaml
    file whose text is JSON, as large plans are written) as JSON without duplicate keys."""
    path = Path(path)
    if not path.is_file():
        raise PlanFileError(f"{path}: no such file" if not path.exists()
                            else f"{path}: cannot read: not a regular file")
    try:
        data = _json_plan(path)
        if data is None:
            data = read_document(path, MAX_PLAN_BYTES, MAX_PLAN_VALUES)
        return Plan.model_validate(data)
    except ScenarioError as exc:  # its parts are one line each already
        where = f"{exc.path}: " if exc.path else ""
        raise PlanFileError(f"{exc.file}: not a plan: {where}{exc.reason}") from None
    except OSError as exc:
        raise PlanFileError(f"{path}: cannot read: {exc.strerror}") from None
    except ValidationError as exc:
        raise PlanFileError(f"{path}: not a plan: {problems(exc)}") from None
    except (ValueError, RecursionError) as exc:  # JSON, or text that is not UTF-8
        reason = " ".join(str(exc).split())
        raise PlanFileError(f"{path}: not a plan: {reason}") from None


def _json_plan(path: Path) -> Any:
    """A .json plan's data; a .yaml plan's if its text is JSON (None if it is not, to be read
    as YAML); within the size bound of a YAML plan, a key given twice refused."""
    with path.open("rb") as stream:
        raw = stream.read(MAX_PLAN_BYTES + 1)
    if len(raw) > MAX_PLAN_BYTES:
        raise PlanFileError(f"{path}: not a plan: larger than {MAX_PLAN_BYTES // 1024**2} MiB")
    text = raw.decode("utf-8")
    if path.suffix == ".json":
        return json.loads(text, object_pairs_hook=_unique_keys)
    if not text.lstrip().startswith("{"):
        return None
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError:
        return None  # a YAML flow mapping, not JSON


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) < len(keys):
        twice = sorted({key for key in keys if keys.count(key) > 1})
        raise ValueError(f"key {twice[0]!r} given twice")
    return dict(pairs)


def validated(plan: Plan) -> Plan:
    """The plan checked field by field, as if read from a file: plans built in code
    without validation (``model_construct``) get the same bounds as plan files."""
    try:
        return Plan.model_validate(plan.model_dump())
    except ValidationError as exc:
        raise PlanFileError(f"not a plan: {problems(exc)}") from None


SHOWN_PROBLEMS = 3
_BOUNDS = {"greater_than_equal": (">=", "ge"), "less_than_equal": ("<=", "le"),
           "greater_than": (">", "gt"), "less_than": ("<", "lt")}


def problems(exc: ValidationError) -> str:
    """A validation error's problems on one line, each as ``dotted.path: reason (got
    value)``; the first few, then how many more."""
    errors = exc.errors(include_url=False)
    shown = [_problem(error) for error in errors[:SHOWN_PROBLEMS]]
    more = len(errors) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def _problem(error: Any) -> str:
    path = ".".join(str(part) for part in error["loc"]) or "(top level)"
    if error["type"] in ("missing", "extra_forbidden"):
        known = "required" if error["type"] == "missing" else "unknown field"
        return " ".join(f"{path}: {known}".split())
    reason = error["msg"].removeprefix("Value error, ")
    given = error.get("input")
    if isinstance(given, float) and not math.isfinite(given):
        reason = "must be a finite number"
    elif error["type"] in _BOUNDS:
        symbol, bound = _BOUNDS[error["type"]]
        reason = f"must be {symbol} {error['ctx'][bound]:g}"
    value = repr(given)
    value = value if len(value) <= 40 else value[:37] + "..."
    return " ".join(f"{path}: {reason} (got {value})".split())
