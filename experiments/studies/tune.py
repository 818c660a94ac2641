"""Tune scenario parameters: simulation optimisation on common random numbers.

The search is optuna's TPE sampler, seeded from the root seed. Every trial (one setting of the
parameters, given by the dotted paths of ``--set``) is simulated on the same ``R`` replication
seeds, ``replication_seeds(root, R)``: common random numbers, so two trials differ by their
settings and not by their luck. Its score is the replication mean of the objective KPI,
maximised or minimised by the KPI's registered direction (``experiments.kpis``).

Determinism: trials are asked in batches of ``batch`` (default 4, independent of the backend
and of the worker count), the batch's cells run on any backend through the runner, and the
trials are told back in trial order once the whole batch is in. The sampler so sees the same
history whichever worker finishes first, and the trials table is the same, byte for byte, on
the serial, local and Dask backends with any number of workers. A setting asked again (TPE
repeats itself on small integer ranges) reuses its earlier replications: same setting, same
seeds, same numbers.

Constraints (``KPI>=VALUE``, ``KPI<=VALUE``) are optuna constraints on the replication mean
(TPE's ``constraints_func``: a trial is feasible when every mean is on the right side), not a
penalty: the sampler models feasibility apart from the objective, and the best trial is the
best *feasible* one (when no trial is feasible, the one closest to feasibility, and the result
says so).

The best setting is then compared with the starting point (the scenario's own values) on
*fresh* common seeds, replications ``R .. 2R - 1`` of the same root: picking the best of many
noisy trials on the search's own seeds favours the luckiest, so its advantage measured on
those seeds would be biased upwards. The paired differences give the advantage with a 95 %
t-interval.
"""

from __future__ import annotations

import copy
import math
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from experiments.engine.backends import Backend
from experiments.engine.models import Model, ScenarioModel, override_text
from experiments.engine.progress import Progress
from experiments.engine.runner import Cell, RunStats, TaskResult, cell_rows, run_cells
from experiments.engine.seeds import replication_seeds
from experiments.errors import ExperimentError
from experiments.kpis import check_scenario_kpis, direction, fmt, kpi_order
from experiments.stats import CONFIDENCE, paired_differences, t_quantile
from experiments.storage.manifest import FILE, TuneManifest, write_manifest
from experiments.storage.runstore import write_parquet
from experiments.storage.swap import replace_directory
from sim.atomic import atomic_write
from sim.loader import ScenarioError, apply_override, load_scenario

DEFAULT_BATCH = 4
"""Trials asked together; part of the result's identity (not the backend's worker count)."""
TUNED_FILE = "tuned.yaml"
TUNE = "tune"
"""The kind of a tune result directory (its manifest's ``kind``)."""
_CONSTRAINT = re.compile(r"^\s*([^<>=\s]+)\s*(>=|<=)\s*(\S+)\s*$")


@dataclass(frozen=True)
class Parameter:
    """A tuned field: dotted path, range, integer or not, and the starting value."""

    path: str
    low: float
    high: float
    integer: bool
    start: float | None = None

    def describe(self) -> str:
        low, high = (int(self.low), int(self.high)) if self.integer else (self.low, self.high)
        return f"{self.path} in [{low}, {high}]{' (integer)' if self.integer else ''}"


@dataclass(frozen=True)
class Constraint:
    """``kpi >= bound`` or ``kpi <= bound`` on the replication mean."""

    kpi: str
    sense: str
    bound: float

    def violation(self, mean: float) -> float:
        """<= 0 when satisfied (optuna's convention), else by how much it is missed."""
        if not math.isfinite(mean):
            return math.inf
        return self.bound - mean if self.sense == ">=" else mean - self.bound

    def __str__(self) -> str:
        return f"{self.kpi}{self.sense}{self.bound:g}"


@dataclass
class TuneResult:
    """``trials``: one row per trial (parameters, objective mean and interval, constraint
    means, feasible); ``samples``: every replication of every trial; ``validation``: the
    best against the start on fresh common seeds (``difference`` = best - start)."""

    name: str
    objective: str
    sense: int
    constraints: list[Constraint]
    parameters: list[Parameter]
    trials: pd.DataFrame
    samples: pd.DataFrame
    best_trial: int
    best: dict[str, Any]
    start: dict[str, Any]
    feasible: bool
    validation: pd.DataFrame
    validation_samples: pd.DataFrame
    search_seeds: list[int]
    validation_seeds: list[int]
    root_seed: int
    replications: int
    batch: int
    stats: RunStats = field(default_factory=RunStats)
    directory: Path | None = None
    """Where ``save`` wrote the results, if anywhere."""

    def advantage(self, kpi: str | None = None) -> pd.Series:
        """The validation row of ``kpi`` (default the objective)."""
        table = self.validation.set_index("kpi")
        return table.loc[kpi or self.objective]


# ----------------------------------------------------------------------------- inputs
def parse_parameter(text: str) -> tuple[str, float, float, bool]:
    """``PATH=LOW:HIGH`` -> (path, low, high, both written as integers)."""
    path, sep, bounds = text.partition("=")
    low_text, colon, high_text = bounds.partition(":")
    if not sep or not colon or not path:
        raise ExperimentError(f"--param must look like PATH=LOW:HIGH (got '{text}')")
    try:
        low, high = float(low_text), float(high_text)
    except ValueError:
        raise ExperimentError(f"--param {path}: LOW and HIGH must be numbers (got "
                              f"'{bounds}')") from None
    integers = all(re.fullmatch(r"\s*[+-]?\d+\s*", t) for t in (low_text, high_text))
    return path.strip(), low, high, integers


def parse_constraint(text: str) -> Constraint:
    """``KPI>=VALUE`` or ``KPI<=VALUE``."""
    match = _CONSTRAINT.match(text)
    if not match:
        raise ExperimentError(f"--constraint must look like 'KPI>=VALUE' or 'KPI<=VALUE' "
                              f"(got '{text}')")
    kpi, sense, value = match.groups()
    try:
        bound = float(value)
    except ValueError:
        raise ExperimentError(f"--constraint {kpi}: '{value}' is not a number") from None
    return Constraint(kpi, sense, bound)


def objective_sense(objective: str, minimize: bool = False, maximize: bool = False) -> int:
    """+1 to maximise, -1 to minimise: the flag if given, else the KPI's direction."""
    if minimize and maximize:
        raise ExperimentError("give --minimize or --maximize, not both")
    if minimize or maximize:
        return 1 if maximize else -1
    sense = direction(objective)
    if sense == 0:
        raise ExperimentError(f"the KPI '{objective}' has no better direction; say "
                              "--minimize or --maximize")
    return sense


def scenario_parameters(model: ScenarioModel, specs: Sequence[tuple[str, float, float, bool]],
                        ) -> list[Parameter]:
    """Check each path against the scenario: a number there, and both bounds accepted."""
    document = model.scenario().model_dump(mode="json", by_alias=True)
    parameters = []
    for path, low, high, integers in specs:
        value = _value_at(document, path)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ExperimentError(f"--param {path}: the scenario holds {value!r} there, not a "
                                  "number")
        parameters.append(_parameter(path, low, high, integers or isinstance(value, int),
                                     value))
    for parameter in parameters:
        for bound in (parameter.low, parameter.high):
            value = int(bound) if parameter.integer else bound
            try:
                model.scenario({parameter.path: value})
            except ScenarioError as exc:
                raise ExperimentError(f"--param {parameter.path}: value {value!r} is refused "
                                      f"by the scenario: {exc.path}: {exc.reason}") from None
    return parameters


def function_parameters(specs: Sequence[tuple[str, float, float, bool]],
                        start: Mapping[str, Any]) -> list[Parameter]:
    """Parameters of a model function: integer when both bounds are integers."""
    missing = [path for path, *_ in specs if path not in start]
    if missing:
        raise ExperimentError(f"a model function needs a start value for {', '.join(missing)}")
    return [_parameter(path, low, high, integers, start[path])
            for path, low, high, integers in specs]


def _parameter(path: str, low: float, high: float, integer: bool, start: Any) -> Parameter:
    if integer:
        low, high = math.ceil(low), math.floor(high)
    if not low < high:
        raise ExperimentError(f"--param {path}: LOW must be below HIGH (got {low:g}:{high:g})")
    return Parameter(path, low, high, integer, start)


def _value_at(document: Any, path: str) -> Any:
    node = document
    for key in path.split("."):
        if isinstance(node, list) and key.isdecimal() and int(key) < len(node):
            node = node[int(key)]
        elif isinstance(node, dict) and key in node:
            node = node[key]
        else:
            raise ExperimentError(f"--param {path}: the scenario has no field {key!r} there")
    return node


def build(scenario: str | Path | Model, parameters: Mapping[str, Sequence[float]] | Sequence[str],
          overrides: Sequence[str] = (), days: int | None = None,
          start: Mapping[str, Any] | None = None) -> tuple[Model, list[Parameter]]:
    """The model (a scenario file's, or a function) and its checked parameters, from
    ``["PATH=LOW:HIGH", ...]`` or ``{PATH: (LOW, HIGH)}`` (integers when both are ints)."""
    if isinstance(parameters, Mapping):
        specs = [(path, float(low), float(high),
                  all(isinstance(b, int | np.integer) and not isinstance(b, bool)
                      for b in (low, high)))
                 for path, (low, high) in parameters.items()]
    else:
        specs = [parse_parameter(text) for text in parameters]
    if callable(scenario) and not isinstance(scenario, ScenarioModel):
        return scenario, function_parameters(specs, start or {})
    model = scenario if isinstance(scenario, ScenarioModel) else \
        ScenarioModel.from_file(scenario, overrides, days)
    return model, scenario_parameters(model, specs)


def resolve_objective(model: Model, objective: str, constraints: Sequence[str],
                      minimize: bool = False, maximize: bool = False,
                      ) -> tuple[int, list[Constraint]]:
    """The objective's sense and the parsed constraints; a scenario's KPI names are checked
    (an unknown one is refused with the closest name)."""
    parsed = [parse_constraint(text) for text in constraints]
    if isinstance(model, ScenarioModel):
        check_scenario_kpis([objective, *(c.kpi for c in parsed)])
    return objective_sense(objective, minimize, maximize), parsed


# ----------------------------------------------------------------------------- the search
def tune(model: Model, parameters: Sequence[Parameter], objective: str, backend: Backend,
         budget: int, replications: int = 10, seed: int = 0, sense: int | None = None,
         constraints: Sequence[Constraint] = (), batch: int = DEFAULT_BATCH,
         progress: Progress | None = None, batch_seconds: float = 1.0,
         confidence: float = CONFIDENCE, enqueue_start: bool = True) -> TuneResult:
    """Search ``budget`` trials of ``replications`` each; validate the best on fresh seeds."""
    import optuna
    from optuna.distributions import BaseDistribution, FloatDistribution, IntDistribution

    if budget < 1:
        raise ExperimentError(f"--budget must be >= 1 (got {budget})")
    if replications < 2:
        raise ExperimentError(f"--replications must be >= 2 (got {replications})")
    if batch < 1:
        raise ExperimentError(f"--batch-trials must be >= 1 (got {batch})")
    if not parameters:
        raise ExperimentError("give at least one --param PATH=LOW:HIGH")
    if len({p.path for p in parameters}) < len(parameters):
        raise ExperimentError("each --param path may be given once")
    if isinstance(model, ScenarioModel):
        check_scenario_kpis([objective, *(c.kpi for c in constraints)])
    sense = objective_sense(objective) if sense is None else sense
    constraints = list(constraints)
    kpis = list(dict.fromkeys([objective, *(c.kpi for c in constraints)]))
    distributions: dict[str, BaseDistribution] = {
        p.path: IntDistribution(int(p.low), int(p.high)) if p.integer
        else FloatDistribution(p.low, p.high) for p in parameters}
    start = {p.path: _typed(p, p.start) for p in parameters}
    seeds = replication_seeds(seed, replications)
    fresh = replication_seeds(seed, replications, start=replications)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(seed=seed)
    study = optuna.create_study(sampler=sampler,
                                direction="maximize" if sense > 0 else "minimize")
    if enqueue_start and all(p.start is not None and p.low <= p.start <= p.high
                             for p in parameters):
        study.enqueue_trial(start)

    progress = progress or Progress()
    name = getattr(model, "name", getattr(model, "__name__", "model"))
    progress.start(f"tune {name}", budget * replications + 2 * replications)
    stats = RunStats()
    outcomes: dict[tuple, pd.DataFrame] = {}  # setting -> its replications (sorted)
    records: list[dict[str, Any]] = []
    sample_frames: list[pd.DataFrame] = []
    done = 0
    best_note = ""

    def run(cells: list[Cell]) -> list[dict[str, Any]]:
        nonlocal done
        rows: list[dict[str, Any]] = []

        def on_task(result: TaskResult) -> None:
            nonlocal done
            rows.extend(cell_rows(result))
            done += len(result.cells)
            progress.update(done, note=best_note)

        stats.add(run_cells(backend, model, cells, on_task, batch_seconds))
        return rows

    try:
        for first in range(0, budget, batch):
            asked = [study.ask(distributions) for _ in range(min(batch, budget - first))]
            settings = [tuple((p.path, _typed(p, t.params[p.path])) for p in parameters)
                        for t in asked]
            new = list(dict.fromkeys(s for s in settings if s not in outcomes))
            cells = [Cell(i, r, seeds[r], setting)
                     for r in range(replications) for i, setting in enumerate(new)]
            rows = run(cells)
            frame = pd.DataFrame.from_records(rows)
            for i, setting in enumerate(new):
                own = frame[frame["point"] == i].sort_values("replication", ignore_index=True)
                outcomes[setting] = own.drop(columns=["point", *(p.path for p in parameters)])
            done += (len(settings) - len(new)) * replications  # repeats cost nothing
            for trial, setting in zip(asked, settings, strict=True):  # told in trial order
                own = outcomes[setting]
                missing = [k for k in kpis if k not in own.columns]
                if missing:
                    raise ExperimentError(f"the model reports no KPI named "
                                          f"{', '.join(missing)}")
                record = _record(trial.number, setting, own, objective, constraints,
                                 confidence)
                for c in constraints:  # TPE models feasibility from these (<= 0: met)
                    trial.set_constraint(str(c), min(c.violation(record[f"{c.kpi}_mean"]),
                                                     1e300))
                records.append(record)
                sample_frames.append(own.assign(trial=trial.number, **dict(setting)))
                value = record["objective_mean"]
                study.tell(trial, value if math.isfinite(value) else None,
                           state=None if math.isfinite(value) else
                           optuna.trial.TrialState.FAIL)
            best_record = _best(records, sense)
            best_note = f"best {fmt(objective, best_record['objective_mean'])} " \
                        f"(trial {best_record['trial']})"
            progress.update(done, note=best_note)

        trials = _trials_table(records, parameters, objective, constraints)
        chosen = _best(records, sense)
        best = {p.path: chosen[p.path] for p in parameters}
        validation_cells = [Cell(j, r, fresh[r], tuple(values.items()))
                            for r in range(replications)
                            for j, values in enumerate((start, best))]
        rows = run(validation_cells)
    finally:
        progress.close(final=done >= budget * replications + 2 * replications)

    samples = _samples_table(sample_frames, parameters)
    checked = pd.DataFrame.from_records(rows)
    checked.insert(0, "setting", np.where(checked.pop("point") == 0, "start", "best"))
    checked = checked.drop(columns=[p.path for p in parameters])
    checked = checked.sort_values(["replication", "setting"], ascending=[True, False],
                                  ignore_index=True)
    outputs = kpi_order(c for c in checked.columns if c not in ("setting", "replication", "seed"))
    checked = checked[["setting", "replication", "seed", *outputs]]
    validation = paired_differences(checked, kpis, ["start", "best"], by="setting",
                                    confidence=confidence)
    validation = validation.rename(columns={"mean_a": "mean_start", "mean_b": "mean_best"})
    first = validation["kpi"] == objective  # the objective's way, which a flag may have set
    difference = validation.loc[first, "difference"].iloc[0]
    validation.loc[first, "better"] = "" if not validation.loc[first, "significant"].iloc[0] \
        else "best" if (difference > 0) == (sense > 0) else "start"
    return TuneResult(
        name, objective, sense,
        constraints, list(parameters), trials, samples, int(chosen["trial"]), best, start,
        bool(chosen["feasible"]), validation, checked, seeds, fresh, seed, replications,
        batch, stats)


def _typed(parameter: Parameter, value: Any) -> Any:
    if value is None:
        return None
    return int(round(value)) if parameter.integer else float(value)


def _record(trial: int, setting: tuple, own: pd.DataFrame, objective: str,
            constraints: Sequence[Constraint], confidence: float) -> dict[str, Any]:
    values = own[objective].to_numpy(float)
    n = len(values)
    mean = float(values.mean())
    half = float(t_quantile(n, confidence) * values.std(ddof=1) / math.sqrt(n))
    record: dict[str, Any] = {"trial": trial, **dict(setting), "n": n, "objective_mean": mean,
                              "objective_half_width": half, "objective_ci_low": mean - half,
                              "objective_ci_high": mean + half}
    violation = 0.0
    for c in constraints:
        value = float(own[c.kpi].to_numpy(float).mean())
        record[f"{c.kpi}_mean"] = value
        violation = max(violation, c.violation(value))
    record["violation"] = violation
    record["feasible"] = violation <= 0
    return record


def _best(records: list[dict[str, Any]], sense: int) -> dict[str, Any]:
    """The best feasible trial (first on ties); if none is, the least infeasible."""
    feasible = [r for r in records if r["feasible"] and math.isfinite(r["objective_mean"])]
    if feasible:
        return max(feasible, key=lambda r: (sense * r["objective_mean"], -r["trial"]))
    return min(records, key=lambda r: (r["violation"], -sense * r["objective_mean"],
                                       r["trial"]))


def _trials_table(records: list[dict[str, Any]], parameters: Sequence[Parameter],
                  objective: str, constraints: Sequence[Constraint]) -> pd.DataFrame:
    table = pd.DataFrame.from_records(records)
    table["trial"] = table["trial"].astype("int64")
    table["n"] = table["n"].astype("int64")
    for p in parameters:
        table[p.path] = table[p.path].astype("int64" if p.integer else "float64")
    table["feasible"] = table["feasible"].astype(bool)
    table.attrs = {}
    return table


def _samples_table(frames: list[pd.DataFrame], parameters: Sequence[Parameter]) -> pd.DataFrame:
    table = pd.concat(frames, ignore_index=True)
    names = [p.path for p in parameters]
    outputs = kpi_order(c for c in table.columns if c not in ("trial", "replication", "seed",
                                                                *names))
    table = table[["trial", "replication", "seed", *names, *outputs]]
    return table.sort_values(["trial", "replication"], ignore_index=True)


# ----------------------------------------------------------------------------- outputs
def tuned_document(model: ScenarioModel, best: Mapping[str, Any], out: Path) -> dict[str, Any]:
    """A scenario that ``extends:`` the original file with the fixed overrides and the best
    values. ``extends`` merges mappings key by key but replaces lists, so a path through a
    list carries that whole list (as the original holds it, with the change)."""
    data, origin = copy.deepcopy(model.document), Path(model.source)
    assignments = [*model.overrides, *(override_text(k, v) for k, v in best.items())]
    for assignment in assignments:
        apply_override(data, assignment, origin)
    overlay: dict[str, Any] = {}
    for assignment in assignments:
        keys = assignment.partition("=")[0].split(".")
        node, depth = data, 0
        while depth < len(keys) - 1 and not isinstance(node, list):
            node = node[keys[depth]]
            depth += 1
        prefix = keys[:depth] if isinstance(node, list) else keys
        target = overlay
        for key in prefix[:-1]:
            target = target.setdefault(key, {})
        value: Any = data
        for key in prefix:
            value = value[int(key)] if isinstance(value, list) else value[key]
        target[prefix[-1]] = copy.deepcopy(value)
    parent = os.path.relpath(Path(model.source).resolve(), out.resolve())
    return {"extends": parent, "name": f"{model.name}_tuned", **{k: v for k, v in
                                                                  overlay.items()
                                                                  if k != "name"}}


def save(result: TuneResult, model: Model, out: Path, manifest: TuneManifest) -> list[str]:
    """Write the tables (parquet, and the trials also as CSV), ``tuned.yaml`` (scenarios
    only; checked to load into the best setting) and the manifest as one directory swapped
    in whole for ``out``, under its writer lock (``storage.swap``): a kill leaves the old
    result or the new one, and a second writer is refused."""
    out = Path(out)
    written = replace_directory(out, TUNE, lambda staging: _write(result, model, staging, out,
                                                                  manifest))
    result.directory = out
    return written


def _write(result: TuneResult, model: Model, staging: Path, out: Path,
           manifest: TuneManifest) -> list[str]:
    """The files of ``save``, into ``staging`` (a sibling of ``out``, so ``tuned.yaml``'s
    relative ``extends:`` path holds in both)."""
    tables = {"trials": result.trials, "samples": result.samples,
              "best": best_table(result), "validation": result.validation,
              "validation_samples": result.validation_samples}
    written = []
    for name, frame in tables.items():
        write_parquet(staging / f"{name}.parquet", frame)
        written.append(f"{name}.parquet")
    csv = result.trials.to_csv(index=False, lineterminator="\n")
    atomic_write(staging / "trials.csv", lambda tmp: tmp.write_text(csv, encoding="utf-8"))
    written.append("trials.csv")
    if isinstance(model, ScenarioModel):
        document = tuned_document(model, result.best, out)
        text = ("# written by xbsim tune: the best setting found, applied to the original\n"
                + yaml.safe_dump(document, sort_keys=False))
        atomic_write(staging / TUNED_FILE, lambda tmp: tmp.write_text(text, encoding="utf-8"))
        tuned = load_scenario(staging / TUNED_FILE)
        ignore = {"name", "plan"}  # the plan path is the same file, spelt from elsewhere
        if tuned.model_dump(mode="json", exclude=ignore) != \
                model.scenario(result.best).model_dump(mode="json", exclude=ignore):
            raise ExperimentError(f"{out / TUNED_FILE} does not reproduce the best setting")
        written.append(TUNED_FILE)
    write_manifest(staging, manifest)
    return [*written, FILE]


def best_table(result: TuneResult) -> pd.DataFrame:
    """One row per parameter: its range, the starting value and the best value."""
    return pd.DataFrame({
        "parameter": [p.path for p in result.parameters],
        "low": [float(p.low) for p in result.parameters],
        "high": [float(p.high) for p in result.parameters],
        "integer": [p.integer for p in result.parameters],
        "start": [float(result.start[p.path]) if result.start[p.path] is not None
                  else math.nan for p in result.parameters],
        "best": [float(result.best[p.path]) for p in result.parameters]})


def manifest_for(result: TuneResult, scenario_file: str, model: Model, overrides: Sequence[str],
                 days: int | None, budget: int, backend: str) -> TuneManifest:
    import optuna

    return TuneManifest(
        scenario_file=scenario_file,
        scenario_hash=model.fingerprint() if isinstance(model, ScenarioModel) else "",
        overrides=list(overrides), days=days, objective=result.objective,
        sense="maximize" if result.sense > 0 else "minimize",
        constraints=[str(c) for c in result.constraints],
        parameters={p.path: {"low": p.low, "high": p.high, "integer": p.integer,
                             "start": p.start} for p in result.parameters},
        budget=budget, replications=result.replications, batch_trials=result.batch,
        sampler=f"optuna {optuna.__version__} TPESampler(seed={result.root_seed})",
        root_seed=result.root_seed, search_seeds=result.search_seeds,
        validation_seeds=result.validation_seeds, best_trial=result.best_trial,
        best={k: float(v) for k, v in result.best.items()}, feasible=result.feasible,
        backend=backend)
