"""The report of a tune (``xbsim tune``): the best setting, its advantage over the starting
point on fresh common seeds, and every trial. The terminal prints the same parts
(``tune_report``), read from the result's frames; the page reads them back from the parquet
files.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from experiments.kpis import describe, fmt, label
from experiments.report.detect import Result
from experiments.report.html import Headline, Page, Section, Stat
from experiments.report.names import parameter_label
from experiments.report.numbers import kpi_value
from experiments.report.text import Part, difference
from experiments.storage.manifest import TuneManifest
from experiments.studies.tune import TuneResult, best_table

TRIALS_SHOWN = 15


def _value(value: float, integer: bool) -> str:
    return f"{int(value)}" if integer else f"{value:.6g}"


def best_part(best: pd.DataFrame) -> Part:
    rows = [[parameter_label(r.parameter), _value(r.start, r.integer), _value(r.best, r.integer),
             f"[{_value(r.low, r.integer)}, {_value(r.high, r.integer)}]"]
            for r in best.itertuples()]
    return Part("Best setting", ["parameter", "start (scenario)", "best", "range"], rows,
                [False, True, True, True])


def validation_part(validation: pd.DataFrame, replications: int) -> Part:
    rows = [[label(r.kpi), fmt(r.kpi, r.mean_start), fmt(r.kpi, r.mean_best),
             difference(r.kpi, r.difference),
             f"[{difference(r.kpi, r.ci_low)}, {difference(r.kpi, r.ci_high)}]",
             r.better or "no difference"] for r in validation.itertuples()]
    return Part(f"Best against start on {replications} fresh common seeds (paired, 95 % "
                "interval of best - start)",
                ["KPI", "start", "best", "best - start", "interval", "better"], rows,
                [False, True, True, True, True, False])


def trials_part(trials: pd.DataFrame, parameters: list[str], objective: str, sense: int,
                constraints: list[str], shown: int | None = TRIALS_SHOWN) -> Part:
    """Trials ranked by the objective (feasible first); the first ``shown`` of them."""
    ranked = trials.assign(_key=-sense * trials["objective_mean"]).sort_values(
        ["feasible", "_key", "trial"], ascending=[False, True, True])
    if shown is not None:
        ranked = ranked.head(shown)
    kpis = [c for c in trials.columns if c.endswith("_mean") and c != "objective_mean"]
    rows = []
    for _, r in ranked.iterrows():
        rows.append([str(int(r["trial"])),
                     *(_value(r[p], trials[p].dtype.kind == "i") for p in parameters),
                     fmt(objective, r["objective_mean"]),
                     f"± {fmt(objective, r['objective_half_width'])}",
                     *(fmt(k.removesuffix("_mean"), r[k]) for k in kpis),
                     "yes" if r["feasible"] else "no"])
    more = f" (best {len(ranked)} of {len(trials)})" if len(ranked) < len(trials) else ""
    title = f"Trials by {label(objective)}{more}" + (
        f"; constraints {', '.join(constraints)}" if constraints else "")
    return Part(title, ["trial", *parameters, "mean", "95% CI", *kpis, "feasible"], rows,
                [True, *([True] * len(parameters)), True, True, *([True] * len(kpis)), False])


def tune_report(result: TuneResult) -> str:
    """The terminal's account of a tune."""
    names = [p.path for p in result.parameters]
    constraints = [str(c) for c in result.constraints]
    parts = [trials_part(result.trials, names, result.objective, result.sense, constraints),
             best_part(best_table(result)),
             validation_part(result.validation, result.replications)]
    text = "\n\n".join(p.text() for p in parts)
    if not result.feasible:
        text += "\n\nwarning: no trial met every constraint; the best is the least infeasible"
    return text


def headline(validation: pd.DataFrame, best: pd.DataFrame, trials: pd.DataFrame,
             objective: str, feasible: bool) -> Headline:
    """The best setting against the start on fresh seeds: the objective and each
    constraint KPI, the search, then the parameters."""
    stats = []
    for r in validation.itertuples():
        verdict = f"{r.better} better" if r.better else "no difference"
        stats.append(Stat(f"{describe(r.kpi).label} (best)", kpi_value(r.kpi, r.mean_best),
                          f"vs start {kpi_value(r.kpi, r.mean_start)}: "
                          f"{kpi_value(r.kpi, r.difference, difference=True)} ({verdict})",
                          "good" if r.better == "best" else "bad" if r.better == "start"
                          else ""))
    spread = trials["objective_mean"]
    stats.append(Stat("Trials", str(len(trials)),
                      f"objective from {kpi_value(objective, spread.min())} to "
                      f"{kpi_value(objective, spread.max())}"))
    stats.append(Stat("Feasible trials", str(int(trials["feasible"].sum())),
                      "meeting every constraint" if feasible else "none met every constraint",
                      "" if feasible else "bad"))
    for r in best.head(7 - len(stats)).itertuples():
        stats.append(Stat(parameter_label(r.parameter), _value(r.best, r.integer),
                          f"start {_value(r.start, r.integer)}; searched "
                          f"{_value(r.low, r.integer)} to {_value(r.high, r.integer)}"))
    main = validation[validation["kpi"] == objective]
    if main.empty:
        sentence = "The best setting found is below."
    else:
        r = main.iloc[0]
        words = {"best": "beats the starting point", "start": "does WORSE than the starting "
                 "point"}.get(r["better"] or "", "is no different from the starting point")
        sentence = (f"On fresh seeds the best setting {words} on {describe(objective).label} "
                    f"({kpi_value(objective, r['mean_best'])} against "
                    f"{kpi_value(objective, r['mean_start'])}).")
    if not feasible:
        sentence += " No trial met every constraint."
    return Headline(sentence, stats[:7])


def page(result: Result, figures: Path) -> Page:
    manifest = result.manifest
    assert isinstance(manifest, TuneManifest)
    trials = pd.read_parquet(result.file("trials.parquet"))
    best = pd.read_parquet(result.file("best.parquet"))
    validation = pd.read_parquet(result.file("validation.parquet"))
    sense = 1 if manifest.sense == "maximize" else -1
    verdict = "" if manifest.feasible else \
        " No trial met every constraint: the best shown is the least infeasible."
    sections = [
        Section("best", "Best setting",
                f"Trial {manifest.best_trial} of {len(trials)}, the best "
                f"{'feasible ' if manifest.constraints else ''}replication mean of "
                f"{label(manifest.objective)} ({manifest.sense}). tuned.yaml applies it to "
                f"the scenario." + verdict,
                [best_part(best), validation_part(validation, manifest.replications)]),
        Section("trials", "Trials",
                f"Every trial on the same {manifest.replications} replication seeds (common "
                "random numbers), ranked by the objective's mean, feasible trials first.",
                [trials_part(trials, list(manifest.parameters), manifest.objective, sense,
                             manifest.constraints, shown=None)])]
    facts = [("scenario file", manifest.scenario_file),
             ("objective", f"{manifest.objective} ({manifest.sense})"),
             ("constraints", ", ".join(manifest.constraints) or "-"),
             ("budget", f"{manifest.budget} trials x {manifest.replications} replications, "
                        f"asked {manifest.batch_trials} at a time"),
             ("sampler", manifest.sampler), ("root seed", str(manifest.root_seed)),
             ("backend", manifest.backend), ("code version", manifest.code_version)]
    return Page(f"Tune: {Path(manifest.scenario_file).stem}",
                f"{len(manifest.parameters)} parameter(s) tuned for {label(manifest.objective)}",
                facts, sections, headline(validation, best, trials, manifest.objective,
                                          manifest.feasible))
