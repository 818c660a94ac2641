"""A scenario as a model: (parameter values, seed) -> KPIs, cheap to ship to any worker.

Everything the runner runs is a *model*: a picklable callable
``model(params, seed) -> {kpi: float}``. ``ScenarioModel`` is the one for xbsim scenarios. It
carries the scenario *document* (the file with its ``extends:`` chain already merged), not a
path, so a worker on another machine needs no copy of the scenario files; each call applies the
fixed overrides, then the design point's parameters, by the same ``dotted.path=value`` syntax as
``xbsim run --set``, validates, simulates and flattens the KPI summary. With a state file
(``--state``) it carries the file's rows too, and every call starts from them.

Any other function of that shape (a closed-form test function, a surrogate) runs through the
same runner, stores and statistics.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from experiments.data.state import StateTable
from experiments.engine.replanning import replan_policy
from experiments.errors import ExperimentError
from sim.loader import apply_override, resolve_document, scenario_hash, validate
from sim.model import simulate
from sim.scenario import Scenario

Model = Callable[[Mapping[str, Any], int], Mapping[str, float]]
"""``model(params, seed) -> {kpi: value}``; must be picklable for process and Dask backends."""


def flatten_summary(summary: Mapping[str, Any]) -> dict[str, float]:
    """Scalar KPIs as floats; nested KPI dicts as ``'outer.inner'`` keys (e.g. P&L lines)."""
    flat: dict[str, float] = {}
    for key, value in summary.items():
        if isinstance(value, Mapping):
            for inner, item in value.items():
                flat[f"{key}.{inner}"] = float(item)
        else:
            flat[key] = float(value)
    return flat


def override_text(path: str, value: Any) -> str:
    """``path=value`` with the value written so that the loader reads back the same value.

    YAML is the override syntax; ``yaml.safe_dump`` round-trips floats such as 1e-05 that a
    plain ``str()`` would turn into a string for PyYAML.
    """
    if isinstance(value, np.generic):
        value = value.item()
    text = yaml.safe_dump(value, default_flow_style=True, width=math.inf).strip()
    return f"{path}={text.removesuffix('...').strip()}"


@dataclass(frozen=True, eq=False)
class ScenarioModel:
    """Simulate a scenario document with parameter overrides, from the opening ``state``
    when one is given; KPIs flattened to floats."""

    document: dict[str, Any]
    source: str = "<scenario>"
    overrides: tuple[str, ...] = ()
    days: int | None = None
    state: StateTable | None = None

    @classmethod
    def from_file(cls, file: str | Path, overrides: Iterable[str] = (),
                  days: int | None = None, state: StateTable | None = None) -> ScenarioModel:
        """Read and merge the file now; raise ``ScenarioError`` (or ``StateFileError``) at
        once if it is bad."""
        file = Path(file)
        model = cls(resolve_document(file), str(file), tuple(overrides), days, state)
        scenario = model.scenario()
        horizon = scenario.horizon.days
        if days is not None and not 0 < days <= horizon:
            raise ExperimentError(f"--days must be between 1 and {horizon}")
        if state is not None:
            state.opening(scenario)
        return model

    def variant(self, overrides: Iterable[str]) -> ScenarioModel:
        """This scenario with more overrides; checked now (``ScenarioError`` if impossible)."""
        model = dataclasses.replace(self, overrides=(*self.overrides, *overrides))
        model.scenario()
        return model

    @property
    def name(self) -> str:
        return str(self.document.get("name", Path(self.source).stem))

    def scenario(self, params: Mapping[str, Any] | None = None) -> Scenario:
        """The validated scenario of one design point (``ScenarioError`` if it is impossible)."""
        data, origin = copy.deepcopy(self.document), Path(self.source)
        for assignment in self.overrides:
            apply_override(data, assignment, origin)
        for path, value in (params or {}).items():
            apply_override(data, override_text(path, value), origin)
        return validate(data, self.source)

    def fingerprint(self) -> str:
        """Hash of the resolved scenario with the fixed overrides (and ``days``, and the
        opening state's rows) applied."""
        state = f":state={self.state.fingerprint()}" if self.state is not None else ""
        return f"{scenario_hash(self.scenario())}:{self.days}{state}"

    def __call__(self, params: Mapping[str, Any], seed: int) -> dict[str, float]:
        scenario = self.scenario(params)
        state = self.state.opening(scenario) if self.state is not None else None
        result = simulate(scenario, seed=seed, days=self.days, policy=replan_policy(scenario),
                          state=state)
        return flatten_summary(result.summary)
