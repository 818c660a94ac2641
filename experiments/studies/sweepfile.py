"""The sweep file: which scenario, which parameters over which values, which design.

A sweep is one YAML file, validated like a scenario (unknown keys and impossible values are
one line naming the file, the dotted path and the reason)::

    name: duty_and_service
    scenario: ../baseline.yaml          # relative to this file
    set: [horizon.warmup_days=30]       # fixed overrides, the syntax of `xbsim run --set`
    days: 180                           # simulate the first 180 days (optional)
    seed: 2026                          # root seed of the replication seeds
    replications: 5                     # per design point, the same seeds at every point
    design: {kind: sobol, samples: 64}  # grid | lhs | sobol | morris (studies.designs)
    parameters:                         # dotted paths into the scenario
      markets.US.duty_rate: {low: 0.05, high: 0.30}
      service.agents: {low: 2, high: 6, integer: true}
      policies.fulfilment.UK.mode: [dedicated_line, postal]     # a list of values
    kpis: [contribution_margin_cny, fill_rate, on_time_rate]

Before anything runs, every parameter's extreme values are applied to the scenario one at a
time and validated, so a typo in a path or a value outside the schema fails at once rather
than hours into the sweep. A sweep is bounded (``MAX_REPLICATIONS`` per point, ``MAX_CELLS``
model calls in all, ``designs.MAX_POINTS`` points) so that a typo cannot ask for more than a
machine can hold.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
)

from experiments.engine.models import Model, ScenarioModel
from experiments.errors import DesignError, ExperimentError, SweepFileError
from experiments.kpis import HEADLINE_KPIS, check_scenario_kpis
from experiments.studies.designs import Design, Parameter, make_design
from sim.loader import ScenarioError, read_document

MAX_REPLICATIONS = 100_000
MAX_CELLS = 1_000_000
"""The most model calls one sweep may ask for: its list of cells stays within ~0.3 GB."""
MAX_SEED = 2**63 - 1
_UNION_TAGS = {"str", "bool", "int", "float"}
Scalar = StrictStr | StrictBool | StrictInt | StrictFloat


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParameterSpec(_Strict):
    """``values: [...]`` or ``low``/``high`` (with ``levels`` for a grid, ``integer``, ``log``)."""

    values: list[Scalar] | None = None
    low: float | None = None
    high: float | None = None
    levels: int | None = Field(None, ge=2)
    integer: bool = False
    log: bool = False


class DesignSpec(_Strict):
    kind: Literal["grid", "lhs", "sobol", "morris"] = "grid"
    samples: int | None = Field(None, ge=1, description="lhs points, sobol N, morris r")
    levels: int = Field(4, ge=2, description="morris grid levels (even)")
    second_order: bool = Field(False, description="sobol: also second-order indices")
    seed: int | None = Field(None, ge=0, le=MAX_SEED,
                             description="seed of the draw; default: the root seed")


class SweepSpec(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$", max_length=100)
    description: str = ""
    scenario: str | None = None
    set: list[str] = []
    days: int | None = Field(None, ge=1)
    seed: int = Field(0, ge=0, le=MAX_SEED)
    replications: int = Field(1, ge=1, le=MAX_REPLICATIONS)
    design: DesignSpec = DesignSpec()
    parameters: dict[str, ParameterSpec] = Field(min_length=1)
    kpis: list[str] = Field(default_factory=lambda: list(HEADLINE_KPIS), min_length=1)

    @field_validator("parameters", mode="before")
    @classmethod
    def _value_lists(cls, parameters: Any) -> Any:
        """``path: [a, b]`` is short for ``path: {values: [a, b]}``."""
        if isinstance(parameters, dict):
            return {k: {"values": v} if isinstance(v, list) else v for k, v in parameters.items()}
        return parameters

    def spec_hash(self) -> str:
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: its spec, where it came from, the scenario model and the design."""

    spec: SweepSpec
    source: str
    model: Model
    design: Design

    @property
    def cells(self) -> int:
        return len(self.design) * self.spec.replications


def load_sweep(file: str | Path, model: Model | None = None) -> Sweep:
    """Read and check a sweep file; ``model`` replaces the scenario (a notebook's function)."""
    file = Path(file)
    try:
        data = read_document(file)  # as strictly as a scenario: no base-60, no duplicate keys
    except ScenarioError as exc:
        raise SweepFileError(exc.file, exc.path, exc.reason) from None
    if not isinstance(data, dict):
        raise SweepFileError(file, "", "a sweep file must be a mapping of keys to values")
    return build_sweep(data, file, model)


def build_sweep(data: dict[str, Any], file: str | Path = "<sweep>",
                model: Model | None = None) -> Sweep:
    """Validate a sweep given as a mapping (a parsed file, or a dict in a notebook)."""
    file = Path(file)
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        path = ".".join(str(p) for p in error["loc"] if p not in _UNION_TAGS)
        reason = {"extra_forbidden": "unknown key",
                  "missing": "required key is missing"}.get(error["type"], error["msg"])
        raise SweepFileError(file, path, reason) from None
    if model is None:
        model = _scenario_model(spec, file)
        _check_kpis(spec, file)
    try:
        design = make_design(
            spec.design.kind,
            [Parameter(name, tuple(p.values) if p.values is not None else None, p.low, p.high,
                       p.levels, p.integer, p.log) for name, p in spec.parameters.items()],
            spec.design.samples, spec.seed if spec.design.seed is None else spec.design.seed,
            spec.design.levels, spec.design.second_order)
    except DesignError as exc:
        where = f"parameters.{exc.parameter}" if exc.parameter else "design"
        raise SweepFileError(file, where, exc.reason) from None
    cells = len(design) * spec.replications
    if cells > MAX_CELLS:
        raise SweepFileError(file, "replications", f"{len(design):,} points x "
                             f"{spec.replications:,} replications = {cells:,} model calls, "
                             f"more than the {MAX_CELLS:,} a sweep may run")
    if isinstance(model, ScenarioModel):
        _check_parameters(model, design, file)
    return Sweep(spec, str(file), model, design)


def _scenario_model(spec: SweepSpec, file: Path) -> ScenarioModel:
    if spec.scenario is None:
        raise SweepFileError(file, "scenario", "required key is missing (the base scenario)")
    try:
        return ScenarioModel.from_file(file.parent / spec.scenario, spec.set, spec.days)
    except ScenarioError as exc:
        raise SweepFileError(file, "scenario", str(exc)) from None
    except ExperimentError as exc:  # days beyond the horizon
        raise SweepFileError(file, "days", str(exc).removeprefix("--days ")) from None


def _check_kpis(spec: SweepSpec, file: Path) -> None:
    for i, kpi in enumerate(spec.kpis):
        try:
            check_scenario_kpis([kpi])
        except ExperimentError as exc:
            raise SweepFileError(file, f"kpis.{i}", str(exc)) from None


def _check_parameters(model: ScenarioModel, design: Design, file: Path) -> None:
    """Apply each parameter's extreme values alone to the scenario and validate."""
    for parameter in design.parameters:
        for value in parameter.bounds():
            try:
                model.scenario({parameter.name: value})
            except ScenarioError as exc:
                raise SweepFileError(file, f"parameters.{parameter.name}",
                                     f"value {value!r} is refused by the scenario: "
                                     f"{exc.path}: {exc.reason}") from None
