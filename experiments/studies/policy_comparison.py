"""Which way of running logistics holds up under uncertainty? Five policies, one scenario,
common random numbers.

    python -m experiments.studies.policy_comparison scenarios/baseline.yaml \\
        scenarios/peak_season.yaml --replications 10 --out out/policies

For each scenario the policies are:

- ``rules``: the scenario's own replenishment rules and fulfilment routes;
- ``static_plan``: the channel optimiser's plan for the whole horizon (made here from the
  scenario's expected demand), executed as written;
- ``rolling``: the same optimiser re-planning every week from the simulated state (MPC);
- ``sS_surface``: the scenario's (s,S) rules with every air replenishment moved to the
  lane's slowest bulk mode (sea to the US, rail to the EU);
- ``express_direct``: every market served by express parcel straight from origin, no
  overseas stock (the origin's rules only).

All run the same seeds (paired differences), so a gap between two policies is the policy,
not the luck. Writes, per scenario, the comparison tables (samples, summary, differences,
ranking) under ``comparison/``, the static plan, a figure and a Markdown table for the docs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from experiments.engine.backends import KINDS, Backend, open_backend  # noqa: E402
from experiments.engine.models import ScenarioModel, override_text  # noqa: E402
from experiments.engine.progress import for_stream  # noqa: E402
from experiments.kpis import describe, fmt, label  # noqa: E402
from experiments.storage.manifest import CompareManifest  # noqa: E402
from experiments.storage.tablestore import write_tables  # noqa: E402
from experiments.studies.comparison import Comparison, compare  # noqa: E402
from optimize.channels import optimize_channels  # noqa: E402
from sim.atomic import atomic_write  # noqa: E402
from sim.plan import save_plan  # noqa: E402
from sim.scenario import Scenario  # noqa: E402

KPIS = ("fill_rate", "on_time_rate", "mean_delivery_days", "logistics_cost_per_unit_cny",
        "contribution_margin_cny", "peak_working_capital_cny")
"""What a planner and a finance analyst read off the comparison, in this order."""


def surface_overrides(scenario: Scenario) -> list[str]:
    """Every replenishment rule moved to its warehouse's slowest mode: the slowest one its
    other rules use (the same sailings), else its lane's slowest."""
    rules = scenario.policies.replenishment

    def transit(mode: str) -> float:
        return scenario.modes[mode].transit_days.mean()
    overrides = []
    for i, rule in enumerate(rules):
        if rule.mode is None:
            continue
        used = [r.mode for r in rules if r.warehouse == rule.warehouse and r.mode]
        lane = next(lane for lane in scenario.lanes.values()
                    if lane.destination == rule.warehouse and rule.mode in lane.modes)
        slowest = max(used, key=transit)
        if slowest == rule.mode and len(set(used)) == 1:
            slowest = max(lane.modes, key=transit)
        if slowest != rule.mode:
            overrides.append(f"policies.replenishment.{i}.mode={slowest}")
    return overrides


def express_overrides(scenario: Scenario) -> list[str]:
    """Every market a parcel lane reaches by its fastest mode from origin; overseas
    warehouses empty."""
    overrides = []
    for market, fulfilment in scenario.policies.fulfilment.items():
        lane = next((lane for lane in scenario.lanes.values() if lane.destination == market),
                    None)
        if lane is None:
            continue
        fastest = min(lane.modes, key=lambda k: scenario.modes[k].transit_days.mean())
        route = fulfilment.model_dump(mode="json") | {
            "route": "direct", "warehouse": lane.origin, "mode": fastest}
        overrides.append(override_text(f"policies.fulfilment.{market}", route))
    origin_rules = [rule.model_dump(mode="json", exclude_none=True)
                    for rule in scenario.policies.replenishment
                    if scenario.warehouses[rule.warehouse].kind == "origin"]
    overrides.append(override_text("policies.replenishment", origin_rules))
    overrides += [f"warehouses.{name}.initial_stock_days=0"
                  for name, spec in scenario.warehouses.items() if spec.kind == "overseas"]
    return overrides


def policy_models(scenario_file: Path, plan_file: Path) -> dict[str, ScenarioModel]:
    """The five policies as models of one scenario; writes the static plan to ``plan_file``."""
    rules = ScenarioModel.from_file(scenario_file)
    scenario = rules.scenario()
    save_plan(optimize_channels(scenario).plan, plan_file)
    return {"rules": rules,
            "static_plan": rules.variant([override_text("plan", str(plan_file.resolve()))]),
            "rolling": rules.variant(["policies.replan={}"]),
            "sS_surface": rules.variant(surface_overrides(scenario)),
            "express_direct": rules.variant(express_overrides(scenario))}


def markdown_table(result: Comparison) -> str:
    """Policies as rows, KPIs as columns: mean ± 95 % half-width."""
    means = result.summary["mean"].unstack("kpi")
    halves = result.summary["half_width"].unstack("kpi")
    header = "| policy | " + " | ".join(label(k) for k in result.kpis) + " |"
    rows = [header, "|" + "---|" * (len(result.kpis) + 1)]
    for policy in result.labels:
        cells = [f"{fmt(k, means.at[policy, k])} ± {fmt(k, halves.at[policy, k])}"
                 for k in result.kpis]
        rows.append(f"| {policy} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def figure(result: Comparison, title: str, path: Path) -> Path:
    """One panel per KPI: each policy's mean with its 95 % interval."""
    means = result.summary["mean"].unstack("kpi")
    halves = result.summary["half_width"].unstack("kpi")
    fig, axes = plt.subplots(2, 3, figsize=(14, 7.5))
    palette = plt.get_cmap("tab10")
    colours = [palette(i) for i in range(len(result.labels))]
    for ax, kpi in zip(axes.ravel(), result.kpis, strict=True):
        values = means.loc[result.labels, kpi]
        ax.barh(result.labels, values, xerr=halves.loc[result.labels, kpi],
                color=colours, capsize=3)
        ax.set_title(label(kpi), fontsize=10)
        ax.invert_yaxis()
        ax.grid(axis="x", alpha=0.3)
        if kpi.endswith("_cny") and float(values.abs().max()) >= 1e5:
            ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x / 1e6:,.1f} M"))
        if describe(kpi).percent:
            ax.set_xlim(max(0.0, float((values - halves.loc[result.labels, kpi]).min()) - 0.05),
                        1.0)
    fig.suptitle(f"{title}: policies on common random numbers "
                 f"({len(result.samples) // len(result.labels)} replications, 95 % intervals)")
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110))
    plt.close(fig)
    return path


def run(scenario_file: Path, out: Path, replications: int, seed: int, backend: Backend) -> str:
    out.mkdir(parents=True, exist_ok=True)
    models = policy_models(scenario_file, out / "static_plan.yaml")
    result = compare(models, backend, replications, seed, kpis=KPIS, progress=for_stream())
    name = models["rules"].name
    tables = {"samples": result.samples, "summary": result.summary.reset_index(),
              "differences": result.differences, "ranking": result.ranking}
    write_tables(out / "comparison", tables, CompareManifest(
        scenario_files=[str(scenario_file)],
        variants={k: list(m.overrides) for k, m in models.items()},
        scenario_hashes={k: m.fingerprint() for k, m in models.items()}, root_seed=seed,
        common_random_numbers=True, replications=replications, backend=backend.describe()))
    figure(result, name, out / "policies.png")
    table = markdown_table(result)
    atomic_write(out / "policies.md", lambda tmp: tmp.write_text(table + "\n"))
    return f"### {name}\n\n{table}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", type=Path, nargs="+")
    parser.add_argument("--replications", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("out/policies"))
    parser.add_argument("--backend", choices=KINDS, default="local")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)
    with open_backend(args.backend, args.workers, None) as backend:
        for file in args.scenarios:
            print(run(file, args.out / file.stem, args.replications, args.seed, backend))
    return 0


if __name__ == "__main__":
    sys.exit(main())
