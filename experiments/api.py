"""The Python API for notebooks: ``run``, ``replicate``, ``compare``, ``evaluate``, ``sweep``.

Each takes scenario files (or, for ``replicate`` and ``sweep``, any model function
``f(params, seed) -> {kpi: value}``) and returns pandas frames::

    from experiments import api

    reps = api.replicate("scenarios/baseline.yaml", replications=20, days=90)
    reps.summary.loc[["fill_rate", "contribution_margin_cny"]]       # mean, CI, ...

    cmp = api.compare("scenarios/baseline.yaml", replications=20, days=180,
                      variants={"tariff25": ["markets.US.duty_rate=0.25"]})
    cmp.differences[["kpi", "a", "b", "difference", "ci_low", "ci_high", "better"]]

    ev = api.evaluate("scenarios/baseline.yaml", "out/baseline/channels/plan.yaml")
    ev.verdict, ev.differences, ev.table                             # plan against the rules

    sw = api.sweep("scenarios/sweeps/baseline_smoke.yaml", out="out/smoke")
    sw.points, sw.sensitivity

    api.kpis()          # every KPI a scenario run reports: label, unit, direction, headline

The backend is a local process pool unless ``backend="serial"`` (this process) or
``backend="dask"`` (a LocalCluster, or the scheduler at ``address``). Results do not depend
on the backend.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.engine.backends import open_backend
from experiments.engine.models import Model, ScenarioModel
from experiments.engine.progress import Progress, for_stream
from experiments.engine.replanning import run_scenario
from experiments.errors import ExperimentError
from experiments.kpis import FAMILIES, KPIS, check_scenario_kpis
from experiments.stats import CONFIDENCE
from experiments.studies import evaluate as _evaluate
from experiments.studies import tune as _tune
from experiments.studies.comparison import Comparison
from experiments.studies.comparison import compare as _compare
from experiments.studies.evaluate import Evaluation
from experiments.studies.replications import DEFAULT_MAX_REPLICATIONS, Replications
from experiments.studies.replications import replicate as _replicate
from experiments.studies.sweep import SweepResult, run_sweep
from experiments.studies.sweepfile import build_sweep, load_sweep
from experiments.studies.tune import TuneResult
from sim.loader import load_scenario
from sim.results import RunResult

Scenario = str | Path | Callable[[Mapping[str, Any], int], Mapping[str, float]]


def run(scenario: str | Path, seed: int = 0, days: int | None = None,
        overrides: Iterable[str] = ()) -> RunResult:
    """One simulation; its tables (``.orders``, ``.daily``, ...) are frames, ``.summary`` KPIs."""
    return run_scenario(load_scenario(scenario, overrides), seed, days)


def kpis() -> pd.DataFrame:
    """The KPI registry as a table, one row per KPI (a family's name stands for its members:
    ``landed_cost_per_unit_cny.<market route mode>``, ``profit_and_loss_cny.<line>``)."""
    rows = [{"kpi": k.name, "label": k.label, "unit": k.unit, "direction": k.direction,
             "format": k.format, "headline": k.headline} for k in KPIS.values()]
    rows += [{"kpi": f"{f.name}.*", "label": f.label.format("*"), "unit": f.unit,
              "direction": f.direction, "format": f.format, "headline": False}
             for f in FAMILIES.values()]
    return pd.DataFrame(rows).set_index("kpi")


def replicate(scenario: Scenario, replications: int | None = None, seed: int = 0,
              days: int | None = None, overrides: Iterable[str] = (),
              precision: float | None = None, kpis: Sequence[str] | None = None,
              max_replications: int = DEFAULT_MAX_REPLICATIONS,
              confidence: float = CONFIDENCE, backend: str = "local",
              workers: int | None = None, address: str | None = None,
              progress: bool | Progress = False) -> Replications:
    """Replications from root ``seed``: ``.samples`` (one row each) and ``.summary`` (per KPI)."""
    model = _model(scenario, overrides, days)
    if isinstance(model, ScenarioModel):
        check_scenario_kpis(kpis or ())
    with open_backend(backend, workers, address) as pool:
        return _replicate(model, pool, replications, seed, precision, kpis, max_replications,
                          confidence, _progress(progress))


def compare(*scenarios: str | Path | ScenarioModel, replications: int = 10, seed: int = 0,
            days: int | None = None, variants: Mapping[str, Sequence[str]] | None = None,
            crn: bool = True, kpis: Sequence[str] | None = None,
            confidence: float = CONFIDENCE, backend: str = "local", workers: int | None = None,
            address: str | None = None, progress: bool | Progress = False) -> Comparison:
    """Scenarios on common random numbers: ``.summary``, ``.differences``, ``.ranking``.

    A scenario is a file or a ``ScenarioModel``; ``variants`` adds the first scenario with
    overrides under a name of its own (``{"tariff25": ["markets.US.duty_rate=0.25"]}``)."""
    models = with_variants(scenario_models(scenarios, days), variants or {})
    check_scenario_kpis(kpis or ())
    with open_backend(backend, workers, address) as pool:
        return _compare(models, pool, replications, seed, crn, kpis, confidence,
                        _progress(progress))


def evaluate(scenario_file: str | Path, plan_file: str | Path | None = None,
             replications: int = 10, seed: int = 0, days: int | None = None,
             overrides: Iterable[str] = (), out: str | Path | None = None,
             backend: str = "local", workers: int | None = None, address: str | None = None,
             progress: bool | Progress = False) -> Evaluation:
    """A plan judged against the scenario's rules on common random numbers.

    ``.verdict`` says it in words, ``.outcome`` is wins, loses or no difference,
    ``.differences`` holds plan - rules per KPI with 95 % intervals (rates in points),
    ``.table`` the plan's predictions beside its simulated intervals, ``.why`` the
    predictions that missed, ``.samples`` every replication of both arms. Without a plan
    file, the plan (or re-planning) the scenario names is judged. With ``out`` the tables
    (parquet and CSV) and the manifest are written there, as ``xbsim evaluate`` writes them.
    """
    model, plan = _evaluate.plan_model(Path(scenario_file),
                                       Path(plan_file) if plan_file is not None else None,
                                       list(overrides), days)
    with open_backend(backend, workers, address) as pool:
        result = _evaluate.evaluate(model, plan, pool, replications, seed, _progress(progress))
        where = pool.describe()
    if out is not None:
        horizon = model.scenario().horizon.days if days is None else days
        _evaluate.write(Path(out), result, _evaluate.manifest(
            result, model, scenario_file, plan_file, list(overrides), horizon, seed, where))
    return result


def sweep(sweep: str | Path | Mapping[str, Any], out: str | Path | None = None,
          model: Model | None = None, backend: str = "local", workers: int | None = None,
          address: str | None = None, force: bool = False, batch_seconds: float = 1.0,
          progress: bool | Progress = False) -> SweepResult:
    """A sweep file (or the same as a dict): ``.results``, ``.points``, ``.sensitivity``.

    With ``out`` the sweep is stored there and resumes when run again; ``model`` replaces the
    sweep's scenario by a function of the parameters and the seed.
    """
    loaded = (build_sweep(dict(sweep), model=model) if isinstance(sweep, Mapping)
              else load_sweep(sweep, model))
    with open_backend(backend, workers, address) as pool:
        return run_sweep(loaded, pool, Path(out) if out is not None else None, force,
                         _progress(progress), batch_seconds)


def tune(scenario: Scenario | ScenarioModel,
         parameters: Mapping[str, Sequence[float]] | Sequence[str], objective: str,
         budget: int, replications: int = 10, constraints: Sequence[str] = (), seed: int = 0,
         days: int | None = None, overrides: Iterable[str] = (), minimize: bool = False,
         maximize: bool = False, start: Mapping[str, Any] | None = None,
         batch_trials: int = _tune.DEFAULT_BATCH, out: str | Path | None = None,
         backend: str = "local", workers: int | None = None, address: str | None = None,
         batch_seconds: float = 1.0, progress: bool | Progress = False) -> TuneResult:
    """Search ``parameters`` (``{"path": (low, high)}`` or ``["path=LOW:HIGH"]``) for the best
    replication mean of ``objective``, every trial on the same seeds (common random numbers).

    ``.trials`` (one row per trial), ``.best`` (the setting), ``.validation`` (best - start on
    fresh common seeds, 95 % intervals), ``.samples``. ``constraints`` are ``"KPI>=VALUE"`` /
    ``"KPI<=VALUE"`` on the mean. A model function needs ``start`` (its starting values); a
    scenario starts from its own. With ``out`` the tables, ``tuned.yaml`` and the manifest
    are written there, as ``xbsim tune`` writes them.
    """
    overrides = list(overrides)
    model, params = _tune.build(scenario, parameters, overrides, days, start)
    sense, parsed = _tune.resolve_objective(model, objective, constraints, minimize, maximize)
    with open_backend(backend, workers, address) as pool:
        result = _tune.tune(model, params, objective, pool, budget, replications, seed, sense,
                            parsed, batch_trials, _progress(progress), batch_seconds)
        where = pool.describe()
    if out is not None:
        source = getattr(model, "source", getattr(model, "__name__", "model"))
        _tune.save(result, model, Path(out), _tune.manifest_for(
            result, str(source), model, overrides, days, budget, where))
    return result


def scenario_models(scenarios: Sequence[str | Path | ScenarioModel], days: int | None = None,
                    ) -> dict[str, ScenarioModel]:
    """Scenarios by label: the scenario's name, else the file's stem, else a numbered name."""
    models = [s if isinstance(s, ScenarioModel) else ScenarioModel.from_file(s, days=days)
              for s in scenarios]
    labels = [m.name for m in models]
    if len(set(labels)) < len(labels):
        labels = [Path(m.source).stem for m in models]
    if len(set(labels)) < len(labels):
        labels = [f"{label}#{i + 1}" for i, label in enumerate(labels)]
    return dict(zip(labels, models, strict=True))


def with_variants(models: dict[str, ScenarioModel], variants: Mapping[str, Sequence[str]],
                  ) -> dict[str, ScenarioModel]:
    """Add the first scenario with each variant's overrides, named by the variant."""
    first = next(iter(models.values()))
    for name, overrides in variants.items():
        if name in models or "=" in name:
            raise ExperimentError(f"--variant needs a new name before its overrides, got "
                                  f"'{name}'")
        models[name] = first.variant(overrides)
    return models


def _model(scenario: Scenario, overrides: Iterable[str], days: int | None) -> Model:
    if callable(scenario):
        return scenario
    return ScenarioModel.from_file(scenario, overrides, days)


def _progress(progress: bool | Progress) -> Progress:
    if isinstance(progress, Progress):
        return progress
    return for_stream() if progress else Progress()
