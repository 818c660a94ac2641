"""What planning ads with the stock gains over planning ads and logistics separately.

    python -m experiments.studies.joint_ads scenarios/peak_season.yaml --replications 20 \\
        --out out/joint_ads

Four arms of one scenario, on common random numbers:

- ``rules``: the scenario's own replenishment, routing and ad schedule;
- ``peak``: the peak plan (``xbsim optimize peak``) on top of the rules, the scenario's ads;
- ``separate``: the peak plan with the ad plan made on its own (``xbsim optimize ads
  --set plan=peak.yaml``: every paid session valued as if it were delivered);
- ``joint``: the peak plan with the stock-aware ad plan (``... --stock-aware``: spend
  planned against the stock the peak plan and the rules deliver, simulated).

Writes the three plans, the comparison tables (samples, summary, pairwise differences with
Bonferroni joint intervals, ranking) under ``comparison/``, a figure and a Markdown table of
the pairs that answer the question (joint - separate, and each plan - rules).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from experiments.engine.backends import KINDS, Backend, open_backend
from experiments.engine.models import ScenarioModel, override_text
from experiments.engine.progress import for_stream
from experiments.kpis import fmt, label
from experiments.storage.manifest import CompareManifest
from experiments.storage.tablestore import write_tables
from experiments.studies.comparison import Comparison, compare
from experiments.studies.policy_comparison import figure
from optimize.ads import optimize_ads
from optimize.peak import optimize_peak
from sim.atomic import atomic_write
from sim.plan import save_plan

KPIS = ("contribution_margin_cny", "fill_rate", "lost_sales_units", "ad_spend_cny", "roas",
        "logistics_cost_per_unit_cny")
PAIRS = (("separate", "joint"), ("rules", "peak"), ("rules", "separate"), ("rules", "joint"))
"""(a, b) pairs reported as b - a."""


def plan_models(scenario_file: Path, out: Path) -> dict[str, ScenarioModel]:
    """The four arms; writes the peak, separate and joint plans into ``out``."""
    rules = ScenarioModel.from_file(scenario_file)
    peak_file = save_plan(optimize_peak(rules.scenario()).plan, out / "peak_plan.yaml")
    with_peak = rules.variant([override_text("plan", str(peak_file.resolve()))])
    files = {"peak": peak_file}
    for arm, overrides in (("separate", []), ("joint", ["planning.ads.stock_aware=true"])):
        scenario = with_peak.variant(overrides).scenario()
        files[arm] = save_plan(optimize_ads(scenario).plan, out / f"{arm}_plan.yaml")
    return {"rules": rules} | {arm: rules.variant([override_text("plan", str(path.resolve()))])
                               for arm, path in files.items()}


def pair_table(result: Comparison) -> pd.DataFrame:
    """The pairs of ``PAIRS``: b - a per KPI with its joint interval."""
    d = result.differences.set_index(["a", "b", "kpi"])
    rows = []
    for a, b in PAIRS:
        for kpi in result.kpis:
            row = d.loc[(a, b, kpi)]
            rows.append({"pair": f"{b} - {a}", "kpi": kpi, "difference": row["difference"],
                         "low": row["ci_low"], "high": row["ci_high"], "better": row["better"]})
    return pd.DataFrame(rows)


def markdown(pairs: pd.DataFrame, kpis: tuple[str, ...]) -> str:
    """Pairs as rows, KPIs as columns: difference [joint interval]."""
    header = "| pair | " + " | ".join(label(k) for k in kpis) + " |"
    lines = [header, "|" + "---|" * (len(kpis) + 1)]
    for pair, group in pairs.groupby("pair", sort=False):
        cells = {str(r.kpi): f"{_signed(str(r.kpi), float(r.difference))} "
                             f"[{_signed(str(r.kpi), float(r.low))}, "
                             f"{_signed(str(r.kpi), float(r.high))}]"
                 for r in group.itertuples()}
        lines.append(f"| {pair} | " + " | ".join(cells[k] for k in kpis) + " |")
    return "\n".join(lines)


def _signed(kpi: str, value: float) -> str:
    return ("+" if value > 0 else "") + fmt(kpi, value)


def run(scenario_file: Path, out: Path, replications: int, seed: int, backend: Backend) -> str:
    out.mkdir(parents=True, exist_ok=True)
    models = plan_models(scenario_file, out)
    result = compare(models, backend, replications, seed, kpis=KPIS, progress=for_stream())
    name = models["rules"].name
    pairs = pair_table(result)
    write_tables(out / "comparison", {
        "samples": result.samples, "summary": result.summary.reset_index(),
        "differences": result.differences, "ranking": result.ranking, "pairs": pairs,
    }, CompareManifest(
        scenario_files=[str(scenario_file)],
        variants={k: list(m.overrides) for k, m in models.items()},
        scenario_hashes={k: m.fingerprint() for k, m in models.items()}, root_seed=seed,
        common_random_numbers=True, replications=replications, backend=backend.describe()))
    figure(result, name, out / "joint_ads.png")
    table = markdown(pairs, result.kpis)
    atomic_write(out / "joint_ads.md", lambda tmp: tmp.write_text(table + "\n"))
    return f"### {name}: {replications} replications, 95 % joint intervals\n\n{table}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", type=Path)
    parser.add_argument("--replications", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("out/joint_ads"))
    parser.add_argument("--backend", choices=KINDS, default="local")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)
    with open_backend(args.backend, args.workers, None) as backend:
        print(run(args.scenario, args.out, args.replications, args.seed, backend))
    return 0


if __name__ == "__main__":
    sys.exit(main())
