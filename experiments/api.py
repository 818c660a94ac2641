"""The Python API for notebooks: ``run``, ``replicate``, ``compare``, ``evaluate``,
``sweep``, ``tune``, ``optimise``, ``calibrate`` and ``report``, and ``with_overrides``.

Each takes scenario files (or, for ``replicate``, ``sweep`` and ``tune``, any model function
``f(params, seed) -> {kpi: value}``) and returns a typed result whose tables are pandas frames
and whose repr is a few lines (what it is, the headline figures, the frames and their shapes)::

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

    plan = api.optimise("scenarios/baseline.yaml", "ads")
    plan.summary, plan.tables["marginal_roas"]

    api.kpis()          # every KPI a scenario run reports: label, unit, direction, headline

The backend is a local process pool unless ``backend="serial"`` (this process) or
``backend="dask"`` (a LocalCluster, or the scheduler at ``address``). Results do not depend
on the backend. The optimisers and the calibration fitters load only when called.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd

from experiments.data.state import read_state
from experiments.engine.backends import open_backend
from experiments.engine.models import Model, ScenarioModel
from experiments.engine.progress import Progress, for_stream
from experiments.engine.replanning import run_scenario
from experiments.errors import ExperimentError
from experiments.kpis import FAMILIES, KPIS, check_scenario_kpis, fmt
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
from sim.loader import apply_override, load_scenario, validate
from sim.results import RunResult
from sim.scenario import Scenario as ScenarioSpec

if TYPE_CHECKING:
    from experiments.data.calibrate.run import Calibration
    from optimize.channels import Method
    from optimize.outcome import Outcome
    from optimize.solve import SolveOptions
    from optimize.tradeoff import Metric
    from sim.state import OpeningState

Scenario = str | Path | Callable[[Mapping[str, Any], int], Mapping[str, float]]
T = TypeVar("T")
MODELS = ("channels", "ads", "frontier", "peak")
"""The optimisers ``optimise`` runs."""


def describe(title: str, figures: Iterable[str], frames: Mapping[str, pd.DataFrame | None]
             ) -> str:
    """The short repr of a result: a title, headline figures, and each frame's shape."""
    shapes = ", ".join(f"{name} {frame.shape[0]}x{frame.shape[1]}"
                       for name, frame in frames.items() if frame is not None)
    return "\n".join([title, *(f"  {line}" for line in figures), f"  frames: {shapes}"])


def _as(cls: type[T], result: Any) -> T:
    """``result`` as its subclass ``cls``: the same fields, a short repr."""
    typed = cls.__new__(cls)
    typed.__dict__.update(vars(result))
    return typed


def _interval(summary: pd.DataFrame, kpi: str) -> str:
    row = summary.loc[kpi]
    return f"{kpi} {fmt(kpi, row['mean'])} ± {fmt(kpi, row['half_width'], finer=True)}"


class Run(RunResult):
    """One simulation: ``.orders``, ``.daily``, ``.shipments``, ``.ledger``, ``.tickets``;
    ``.summary`` stays the run's dict of KPIs, ``.kpis`` is the same as a frame."""

    @property
    def kpis(self) -> pd.DataFrame:
        """One row per KPI (family members flattened to ``family.member``): value, label,
        unit."""
        rows = [(k, KPIS[k].label, KPIS[k].unit, float(v)) for k, v in self.summary.items()
                if k in KPIS]
        for name, family in FAMILIES.items():
            for member, value in self.summary.get(name, {}).items():
                kpi = family.member(member)
                rows.append((kpi.name, kpi.label, kpi.unit, float(value)))
        return pd.DataFrame(rows, columns=["kpi", "label", "unit", "value"]).set_index("kpi")

    def __repr__(self) -> str:
        s = self.summary
        return describe(
            f"Run of {self.scenario.name}: {len(self.daily)} days, seed {self.seed}",
            [f"orders {s['orders']:,}, contribution margin {s['contribution_margin_cny']:,.0f} "
             f"CNY, fill rate {s['fill_rate']:.1%}"],
            {"kpis": self.kpis, **self.tables()})


class ReplicationsResult(Replications):
    """Replications: ``.samples`` (one row each) and ``.summary`` (one row per KPI)."""

    def __repr__(self) -> str:
        shown = [k for k in self.watched if k in self.summary.index][:3]
        return describe(f"Replications: {len(self.samples)} from root seed {self.root_seed}",
                        [_interval(self.summary, k) for k in shown],
                        {"samples": self.samples, "summary": self.summary})


class ComparisonResult(Comparison):
    """Scenarios on common random numbers: ``.summary``, ``.differences``, ``.ranking``."""

    def __repr__(self) -> str:
        significant = int(self.differences["significant"].sum())
        n = int(self.samples.groupby("scenario").size().max()) if len(self.samples) else 0
        seeds = "common random numbers" if self.common_random_numbers else "independent seeds"
        return describe(f"Comparison of {', '.join(self.labels)}: {n} replications each, "
                        f"{seeds}",
                        [f"{significant} of {len(self.differences)} differences significant "
                         f"over {len(self.kpis)} KPIs"],
                        {"samples": self.samples, "summary": self.summary,
                         "differences": self.differences, "ranking": self.ranking})


class EvaluationResult(Evaluation):
    """A plan against the rules: ``.verdict``, ``.outcome``, ``.why``, ``.differences``,
    ``.table``, ``.samples``."""

    def __repr__(self) -> str:
        return describe(f"Evaluation: the plan {self.outcome}",
                        [self.headline or self.verdict.splitlines()[0]],
                        {"differences": self.differences, "table": self.table,
                         "samples": self.samples, "summary": self.replications.summary})


class Sweep(SweepResult):
    """A sweep: ``.results``, ``.points``, ``.sensitivity`` (Sobol and Morris only)."""

    def __repr__(self) -> str:
        spec = self.sweep.spec
        return describe(f"Sweep {spec.name}: {self.sweep.design.kind} design, "
                        f"{len(self.sweep.design)} points x {spec.replications} replications",
                        [f"{self.cells_before} cells done earlier, {self.stats.cells} run now"],
                        {"results": self.results, "points": self.points,
                         "sensitivity": self.sensitivity})


class Tuning(TuneResult):
    """A tune: ``.trials``, ``.best`` (the setting), ``.validation``, ``.samples``."""

    def __repr__(self) -> str:
        best = self.trials.loc[self.trials["trial"] == self.best_trial]
        mean = best["objective_mean"].iloc[0] if len(best) else float("nan")
        setting = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                            for k, v in self.best.items())
        return describe(f"Tune {self.name}: {len(self.trials)} trials of {self.objective}",
                        [f"best trial {self.best_trial}: {fmt(self.objective, mean)} "
                         f"({'feasible' if self.feasible else 'infeasible'}); {setting}"],
                        {"trials": self.trials, "validation": self.validation,
                         "samples": self.samples})


@dataclass
class Optimisation:
    """An optimiser's plan (``.plan``, the plan file's content), its key figures as the
    ``.summary`` frame (figure, value), its tables and how the solve went."""

    model: str
    scenario: str
    outcome: Outcome = field(repr=False)

    @property
    def plan(self) -> Any:
        return self.outcome.plan

    @property
    def summary(self) -> pd.DataFrame:
        figures = {k: v for k, v in self.outcome.summary.items() if isinstance(v, int | float)}
        return pd.Series(figures, name="value", dtype=float).rename_axis("figure").to_frame()

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        return self.outcome.tables

    @property
    def status(self) -> str:
        report = self.outcome.report
        return report.status if report is not None else "solved"

    def __repr__(self) -> str:
        head = [f"{k} {v:,.4g}" for k, v in list(self.outcome.summary.items())[:3]
                if isinstance(v, int | float)]
        return describe(f"Optimisation {self.model} of {self.scenario}: {self.status}",
                        [", ".join(head)], {"summary": self.summary, **self.tables})


@dataclass
class CalibrationResult:
    """A calibration: the scenario file and report written, ``.summary`` (one row per fitted
    group: values fitted, warnings, the comment above it in the file) and each group's
    tables as ``.tables["group.name"]``."""

    calibration: Calibration = field(repr=False)

    @property
    def scenario_file(self) -> Path:
        return self.calibration.scenario_file

    @property
    def report(self) -> Path:
        return self.calibration.report

    @property
    def warnings(self) -> list[str]:
        return [f"{fit.group}: {w}" for fit in self.calibration.fits for w in fit.warnings]

    @property
    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([(f.group, len(f.values), len(f.warnings), f.comment)
                             for f in self.calibration.fits],
                            columns=["group", "values", "warnings", "comment"]
                            ).set_index("group")

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        return {f"{fit.group}.{name}": table for fit in self.calibration.fits
                for name, table in fit.tables.items()}

    def __repr__(self) -> str:
        c = self.calibration
        return describe(f"Calibration: {c.scenario_file} ({c.first} to {c.last})",
                        [f"{len(c.fits)} groups fitted, {len(self.warnings)} warnings, "
                         f"{len(self.tables)} fit tables in .tables", f"report {c.report}"],
                        {"summary": self.summary})


def with_overrides(scenario: ScenarioSpec | str | Path, overrides: Iterable[str]
                   ) -> ScenarioSpec:
    """The scenario with ``["dotted.path=value", ...]`` applied and validated again, as the
    loader validates a file (``ScenarioError`` with its one-line reason if a value is bad).

    >>> base = load_scenario("tests/data/tiny.yaml")
    >>> with_overrides(base, ["markets.US.duty_rate=0.25"]).markets["US"].duty_rate
    0.25
    >>> with_overrides(base, ["markets.US.duty_rate=-1"])
    Traceback (most recent call last):
    ...
    sim.loader.ScenarioError: tiny: markets.US.duty_rate: Input should be greater than or equal to 0
    """
    if not isinstance(scenario, ScenarioSpec):
        return load_scenario(scenario, overrides)
    document = scenario.model_dump(mode="json", by_alias=True)
    origin = Path(scenario.name)
    for assignment in overrides:
        apply_override(document, assignment, origin)
    return validate(document, origin)


def run(scenario: str | Path, seed: int = 0, days: int | None = None,
        overrides: Iterable[str] = ()) -> Run:
    """One simulation; its tables (``.orders``, ``.daily``, ...) are frames, ``.kpis`` the
    KPIs as a frame (``.summary`` the same as a dict)."""
    return _as(Run, run_scenario(load_scenario(scenario, overrides), seed, days))


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
              progress: bool | Progress = False) -> ReplicationsResult:
    """Replications from root ``seed``: ``.samples`` (one row each) and ``.summary`` (per KPI)."""
    model = _model(scenario, overrides, days)
    if isinstance(model, ScenarioModel):
        check_scenario_kpis(kpis or ())
    with open_backend(backend, workers, address) as pool:
        return _as(ReplicationsResult, _replicate(
            model, pool, replications, seed, precision, kpis, max_replications, confidence,
            _progress(progress)))


def compare(*scenarios: str | Path | ScenarioModel, replications: int = 10, seed: int = 0,
            days: int | None = None, variants: Mapping[str, Sequence[str]] | None = None,
            crn: bool = True, kpis: Sequence[str] | None = None,
            confidence: float = CONFIDENCE, backend: str = "local", workers: int | None = None,
            address: str | None = None, progress: bool | Progress = False
            ) -> ComparisonResult:
    """Scenarios on common random numbers: ``.summary``, ``.differences``, ``.ranking``.

    A scenario is a file or a ``ScenarioModel``; ``variants`` adds the first scenario with
    overrides under a name of its own (``{"tariff25": ["markets.US.duty_rate=0.25"]}``)."""
    models = with_variants(scenario_models(scenarios, days), variants or {})
    check_scenario_kpis(kpis or ())
    with open_backend(backend, workers, address) as pool:
        return _as(ComparisonResult, _compare(models, pool, replications, seed, crn, kpis,
                                              confidence, _progress(progress)))


def evaluate(scenario_file: str | Path, plan_file: str | Path | None = None,
             replications: int = 10, seed: int = 0, days: int | None = None,
             overrides: Iterable[str] = (), out: str | Path | None = None,
             backend: str = "local", workers: int | None = None, address: str | None = None,
             progress: bool | Progress = False) -> EvaluationResult:
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
    return _as(EvaluationResult, result)


def sweep(sweep: str | Path | Mapping[str, Any], out: str | Path | None = None,
          model: Model | None = None, backend: str = "local", workers: int | None = None,
          address: str | None = None, force: bool = False, batch_seconds: float = 1.0,
          progress: bool | Progress = False) -> Sweep:
    """A sweep file (or the same as a dict): ``.results``, ``.points``, ``.sensitivity``.

    With ``out`` the sweep is stored there and resumes when run again; ``model`` replaces the
    sweep's scenario by a function of the parameters and the seed.
    """
    loaded = (build_sweep(dict(sweep), model=model) if isinstance(sweep, Mapping)
              else load_sweep(sweep, model))
    with open_backend(backend, workers, address) as pool:
        return _as(Sweep, run_sweep(loaded, pool, Path(out) if out is not None else None,
                                    force, _progress(progress), batch_seconds))


def tune(scenario: Scenario | ScenarioModel,
         parameters: Mapping[str, Sequence[float]] | Sequence[str], objective: str,
         budget: int, replications: int = 10, constraints: Sequence[str] = (), seed: int = 0,
         days: int | None = None, overrides: Iterable[str] = (), minimize: bool = False,
         maximize: bool = False, start: Mapping[str, Any] | None = None,
         batch_trials: int = _tune.DEFAULT_BATCH, out: str | Path | None = None,
         backend: str = "local", workers: int | None = None, address: str | None = None,
         batch_seconds: float = 1.0, progress: bool | Progress = False) -> Tuning:
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
    return _as(Tuning, result)


def optimise(scenario: str | Path, model: str = "channels", overrides: Iterable[str] = (),
             time_limit_s: float | None = None, mip_gap: float | None = None,
             points: int = 10, metric: Metric = "mean_days", within_days: float = 5.0,
             state: str | Path | None = None, method: Method = "auto") -> Optimisation:
    """Plan with one of ``MODELS`` (``SolveError`` with the reason if there is no plan).

    ``time_limit_s`` and ``mip_gap`` default to the model's own; ``points``, ``metric`` and
    ``within_days`` shape the frontier; ``state`` is a state table to plan from; ``method``
    plans channels by one MILP or by SKU families (``optimize.decompose``). ``xbsim
    optimize`` writes the same plan and tables to a directory."""
    spec = load_scenario(scenario, overrides)
    opening = read_state(Path(state)).opening(spec) if state is not None else None
    options = solve_options(model, time_limit_s, mip_gap)
    return Optimisation(model, spec.name, solve_plan(spec, model, options, opening, points,
                                                     metric, within_days, method))


def solve_options(model: str, time_limit_s: float | None = None,
                  mip_gap: float | None = None) -> SolveOptions:
    """The model's own solver options, with the time limit and the gap where given."""
    from dataclasses import replace

    from optimize import ads, channels, peak

    if model not in MODELS:
        raise ExperimentError(f"unknown model '{model}' (one of {', '.join(MODELS)})")
    defaults = {"channels": channels.DEFAULT_OPTIONS, "frontier": channels.DEFAULT_OPTIONS,
                "ads": ads.DEFAULT_OPTIONS, "peak": peak.DEFAULT_OPTIONS}[model]
    if time_limit_s is not None:
        defaults = replace(defaults, time_limit_s=time_limit_s)
    return defaults if mip_gap is None else replace(defaults, mip_gap=mip_gap)


def solve_plan(scenario: ScenarioSpec, model: str, options: SolveOptions,
               state: OpeningState | None = None, points: int = 10,
               metric: Metric = "mean_days", within_days: float = 5.0,
               method: Method = "auto") -> Outcome:
    """The chosen optimiser's outcome, planned from the opening ``state`` when one is given
    (channels by ``method``). The solver stack loads here, on the first plan, not with
    this module."""
    from optimize.ads import optimize_ads
    from optimize.channels import optimize_channels
    from optimize.peak import optimize_peak
    from optimize.tradeoff import optimize_frontier

    if model == "channels":
        return optimize_channels(scenario, options, state, method=method)
    if model == "ads":
        return optimize_ads(scenario, options, state)
    if model == "frontier":
        return optimize_frontier(scenario, points, metric, within_days, options, state)
    if model == "peak":
        return optimize_peak(scenario, options, state)
    raise ExperimentError(f"unknown model '{model}' (one of {', '.join(MODELS)})")


def calibrate(data: str | Path, out: str | Path, extends: str | Path | None = None,
              report_dir: str | Path | None = None) -> CalibrationResult:
    """Fit a scenario to a data directory written by ``xbsim import`` and write it to
    ``out`` (extending ``extends`` where the loader can express it, else the whole document
    on top of the baseline), with the fit report beside it (or in ``report_dir``)."""
    from experiments.data.calibrate.run import calibrate as _calibrate

    base = Path(extends) if extends is not None else Path("scenarios") / "baseline.yaml"
    return CalibrationResult(_calibrate(Path(data), Path(out), base,
                                        Path(report_dir) if report_dir is not None else None,
                                        extends=extends is not None))


def report(directory: str | Path) -> Path:
    """Write ``directory/report.html`` (and ``figures/``) for any results directory; the
    page's path (``ExperimentError`` if the directory holds no results)."""
    from experiments.report import write_report

    return write_report(Path(directory))


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


def check_variants(variants: Mapping[str, Sequence[str]]) -> None:
    """Refuse a variant without a name or without overrides (it would compare a scenario
    with itself)."""
    for name, overrides in variants.items():
        if "=" in name:
            raise ExperimentError(f"--variant needs a new name before its overrides, got "
                                  f"'{name}'")
        if not overrides:
            raise ExperimentError(f"--variant {name} needs at least one PATH=VALUE override "
                                  "(without one it compares the scenario with itself)")


def with_variants(models: dict[str, ScenarioModel], variants: Mapping[str, Sequence[str]],
                  ) -> dict[str, ScenarioModel]:
    """Add the first scenario with each variant's overrides, named by the variant."""
    check_variants(variants)
    first = next(iter(models.values()))
    for name, overrides in variants.items():
        if name in models:
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
