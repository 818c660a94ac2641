"""The reports of experiments: replications (``run --replications``), comparisons
(``compare --out``) and sweeps. Tables are the terminal's (``experiments.report.text``), read
back from the stored parquet files, so the page and the terminal never disagree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from experiments.report import figures_experiments, headlines, landed
from experiments.report.detect import Result
from experiments.report.html import Figure, Page, Section
from experiments.report.names import parameter_label
from experiments.report.text import (
    POINTS_SHOWN,
    Part,
    comparison_parts,
    differences_part,
    points_part,
    prediction_part,
    replications_part,
    sensitivity_part,
)
from experiments.stats import summarize
from experiments.storage.manifest import (
    CompareManifest,
    EvaluationManifest,
    Manifest,
    ReplicationsManifest,
    SweepManifest,
)


def _facts(manifest: Manifest, *keys: tuple[str, str]) -> list[tuple[str, str]]:
    """(label, value) for the manifest fields that are set, then the code version."""
    fields = manifest.model_dump()
    facts = [(text, _plain(fields[key])) for key, text in keys if fields[key] is not None]
    return facts + [("code version", manifest.code_version)]


def _plain(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "-"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_plain(v)}" for k, v in value.items()) or "-"
    return str(value)


def replications_page(result: Result, figures: Path) -> Page:
    """KPIs with intervals and the replications behind them."""
    manifest = result.manifest
    assert isinstance(manifest, ReplicationsManifest | EvaluationManifest)
    samples = pd.read_parquet(result.file("replications.parquet"))
    summary = pd.read_parquet(result.file("summary.parquet")).set_index("kpi")
    watched = manifest.watched_kpis
    kpis = [k for k in watched if k in summary.index and k in samples.columns]
    precision = manifest.precision if isinstance(manifest, ReplicationsManifest) else None
    table = replications_part(summary, watched if precision else ())
    sections = [Section(
        "kpis", "Key figures with 95 % confidence intervals",
        f"Mean over {len(samples)} replications, each a year's draw of the uncertainty "
        "(seeds spawned from the root seed), with the 95 % t-interval of the mean, its "
        "half-width relative to the mean and the spread between replications."
        + (f" Starred KPIs were watched until their relative half-width fell below "
           f"{precision:.1%} (or the replication cap was reached)." if precision else ""),
        [table])]
    if kpis:
        sections.append(Section(
            "replications", "Replication by replication",
            "One dot per replication: a wide spread with a narrow interval is a noisy KPI "
            "measured precisely; a wide interval asks for more replications.",
            [Figure(figures_experiments.replications_figure(
                samples, summary, kpis, figures / "replications.png"),
                "Per-replication values, their mean and its 95 % confidence interval.")]))
    facts = _facts(manifest, ("scenario_file", "scenario file"), ("overrides", "overrides"),
                   ("days", "days simulated"), ("root_seed", "root seed"),
                   ("backend", "backend"))
    facts.insert(1, ("replications", str(len(samples))))
    return Page(f"xbsim replications: {manifest.scenario_file}",
                "Replicated runs of one scenario: KPIs with confidence intervals", facts,
                sections, headlines.replications(summary, len(samples),
                                                 Path(manifest.scenario_file).stem))


def evaluation_page(result: Result, figures: Path) -> Page:
    """The verdict in words first, then prediction against simulation, the paired
    differences plan - rules, and the plan's replications."""
    page = replications_page(result, figures)
    manifest = result.manifest
    assert isinstance(manifest, EvaluationManifest)
    table = pd.read_parquet(result.file("evaluation.parquet"))
    compared = manifest.against_rules and result.file("differences.parquet").is_file()
    rules = None
    verdict: list[Part | Figure | str] = []
    if compared:
        samples = pd.read_parquet(result.file("samples.parquet"))
        arm = samples[samples["scenario"] == "rules"]
        kpis = [k for k in table["kpi"] if k in arm.columns]
        rules = summarize(arm, kpis, manifest.confidence)
        verdict = [manifest.headline or manifest.verdict or "", manifest.conclusion or ""]
        if manifest.why and manifest.outcome != "wins":
            verdict += ["Where the plan's own prediction missed:",
                        *(f"- {line}" for line in manifest.why)]
    else:
        verdict = [manifest.verdict or "This evaluation did not run the scenario's rules "
                   "beside the plan (made by an older xbsim, or nothing to compare)."]
    if compared:
        verdict.append(
            "The plan and the scenario's own rules (the same scenario without the plan) ran "
            "on the same replication seeds, so demand, transit and returns line up and the "
            "paired difference measures the plan, not the luck. A plan beats the rules when "
            "its contribution margin is significantly higher and it fills no more than "
            "0.5 points less.")
    sections = [Section("verdict", "Verdict: the plan against the rules", "",
                        [text for text in verdict if text])]
    sections.append(Section(
        "prediction", "The plan's prediction against the simulation",
        "Each KPI the plan predicted (on expected demand and percentile transit times) "
        "beside the plan's simulated mean and 95 % interval, and the rules' beside it; a "
        "prediction outside the interval is where planning on averages and the variability "
        "part.",
        [Figure(figures_experiments.evaluation_figure(table, figures / "evaluation.png", rules),
                "Simulated means with 95 % intervals (plan: blue, rules: grey) and the plan's "
                "prediction (diamond: green inside the plan's interval, red outside)."),
         prediction_part(table)]))
    if compared:
        differences = pd.read_parquet(result.file("differences.parquet"))
        page.headline = headlines.evaluation(differences, manifest.headline or
                                             manifest.verdict or "")
        sections.append(Section(
            "differences", "Paired differences: plan - rules",
            "Replication by replication on common random numbers, the plan's KPI minus the "
            "rules', with the 95 % t-interval of the mean difference. An interval clear of "
            "zero is a real difference; 'better' uses each KPI's direction (more margin is "
            "better, more lost sales worse).",
            [differences_part(differences, manifest.confidence)]))
    page.sections[:0] = sections
    page.title = f"xbsim evaluate: {manifest.scenario_file}"
    page.subtitle = ((f"Plan {manifest.plan_file}" if manifest.plan_file
                      else "The scenario's plan or policies")
                     + (" against the scenario's rules" if compared else " in replications"))
    if compared:
        page.facts.insert(1, ("rules", "the same scenario with "
                              + ", ".join(manifest.rules_overrides)))
    return page


def compare_page(result: Result, figures: Path) -> Page:
    """Means, paired differences, ranking and, for scenarios, cost per unit sold."""
    manifest = result.manifest
    assert isinstance(manifest, CompareManifest)
    summary = pd.read_parquet(result.file("summary.parquet"))
    differences = pd.read_parquet(result.file("differences.parquet"))
    ranking = pd.read_parquet(result.file("ranking.parquet"))
    samples = pd.read_parquet(result.file("samples.parquet"))
    labels = list(dict.fromkeys(summary["scenario"]))
    kpis = list(dict.fromkeys(differences["kpi"]))
    crn = manifest.common_random_numbers
    means, paired, ranked = comparison_parts(summary.set_index(["scenario", "kpi"]),
                                             differences, ranking, labels, kpis, crn)
    sections = [
        Section("kpis", "Key figures by scenario",
                "Each scenario's mean over the replications ± the half-width of its 95 % "
                "confidence interval.", [means]),
        Section("differences", "Differences between scenarios",
                "Paired differences (b - a) per KPI with intervals that hold jointly over "
                "all pairs at 95 %. An interval clear of zero is a real difference; "
                "'better' uses each KPI's direction (more margin is better, more lost sales "
                "worse).",
                [Figure(figures_experiments.differences_figure(differences,
                                                               figures / "differences.png"),
                        "Differences with their joint 95 % intervals; red: significant."),
                 paired]),
        Section("ranking", "Ranking", "Scenarios from best to worst mean, and the subset "
                "that holds the best with 95 % confidence.", [ranked])]
    costs = landed.per_scenario(samples)
    if costs is not None:
        columns = [*landed.SCENARIO_STEPS, "total", landed.PRICE]
        rows = [[s, *(f"{costs.at[s, c]:,.2f}" for c in columns)] for s in costs.index]
        sections.append(Section(
            "costs", "Cost per unit sold by scenario",
            "Where each CNY of a unit sold goes, mean over replications: landed product "
            "(product, inbound freight and import duty, as cost of goods sold, with "
            "write-offs), then the ledger's outbound freight, duties and VAT, warehouse fees, "
            "returns, ads and the marketplace's commission and fees.",
            [Figure(landed.scenario_cost_figure(costs, figures / "costs.png"),
                    "Cost per unit sold by scenario (stacked) and the price customers paid "
                    "net of refunds (diamond)."),
             Part("CNY per unit sold", ["scenario", *columns], rows,
                  [False, *[True] * len(columns)])]))
    facts = _facts(manifest, ("scenario_files", "scenario files"), ("variants", "variants"),
                   ("replications", "replications per scenario"),
                   ("common_random_numbers", "common random numbers"),
                   ("root_seed", "root seed"), ("backend", "backend"))
    return Page(f"xbsim compare: {' vs '.join(labels)}",
                "Scenarios compared on the same replication seeds", facts, sections,
                headlines.comparison(summary, differences, labels, kpis))


def sweep_page(result: Result, figures: Path) -> Page:
    """The design, each KPI's response to each parameter and, for Sobol' and Morris designs,
    the sensitivity indices."""
    manifest = result.manifest
    assert isinstance(manifest, SweepManifest)
    spec, design = manifest.sweep, manifest.design
    results = pd.read_parquet(result.file("results.parquet"))
    points = pd.read_parquet(result.file("points.parquet"))
    parameters, kpis = design.parameters, list(spec["kpis"])
    ranges = [[parameter_label(name), name, _range(p)]
              for name, p in spec["parameters"].items()]
    sections = [Section(
        "design", "Design",
        f"A {design.kind} design of {design.points} points x {design.replications} "
        f"replications = {design.cells} simulations of {spec.get('days') or 'all'} days; "
        f"every point runs on the same replication seeds. KPIs analysed: {', '.join(kpis)}.",
        [Part("Parameters", ["parameter", "scenario path", "values"], ranges,
              [False, False, False])])]
    shown = points_part(points, parameters, kpis)
    more = (f"The first {POINTS_SHOWN} of {len(points)} design points; all are in "
            "points.parquet." if len(points) > POINTS_SHOWN else "")
    sections.append(Section(
        "response", "KPI response to each parameter",
        "How each KPI moves as each parameter moves over its range, all other parameters "
        "varying as the design has them.",
        [*(Figure(path, "Every replication (light), each design point's mean (dark) and the "
                        "mean over parameter bins (line).")
           for path in figures_experiments.response_figures(results, points, parameters, kpis,
                                                            figures / "response")),
         shown, *([more] if more else [])]))
    table = None
    if result.file("sensitivity.parquet").is_file():
        table = pd.read_parquet(result.file("sensitivity.parquet"))
        chart = figures_experiments.sensitivity_figure(table, design.kind,
                                                       figures / "sensitivity.png")
        sections.append(Section(
            "sensitivity", "Which parameters drive each KPI",
            "Sobol' S1 is the share of a KPI's variance a parameter explains alone, ST its "
            "share with every interaction; Morris mu* is the mean absolute effect over a "
            "parameter's range. A noise share above ~0.1 means replication noise still "
            "blurs the indices: add replications.",
            [Figure(chart, "Sensitivity indices per KPI with 95 % bootstrap intervals."),
             sensitivity_part(table, design.kind)]))
    facts = _facts(manifest, ("sweep_file", "sweep file"), ("root_seed", "root seed"),
                   ("status", "status"))
    facts.insert(1, ("base scenario", str(spec.get("scenario", "-"))))
    return Page(f"xbsim sweep: {spec['name']}", spec.get("description") or "a sweep",
                facts, sections, headlines.sweep(table, points, design.kind, parameters, kpis,
                                                 design.cells))


def _range(parameter: dict[str, Any]) -> str:
    if parameter.get("values") is not None:
        return ", ".join(map(str, parameter["values"]))
    flags = [f for f in ("integer", "log") if parameter.get(f)]
    levels = f", {parameter['levels']} levels" if parameter.get("levels") else ""
    return (f"{parameter['low']:g} to {parameter['high']:g}{levels}"
            + (f" ({', '.join(flags)})" if flags else ""))
