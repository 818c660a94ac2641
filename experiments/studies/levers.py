"""What each commerce lever is worth in a scenario: the scenario against itself with one lever
neutral, paired on the same seeds.

    python -m experiments.studies.levers [SCENARIO] [--replications N] [--days D]

prints, for each lever (prices and promotions, ranking, returning buyers, service rosters
and disputes, warehouse work, exceptions, taxes over time, ageing stock, fixed costs), the
mean difference (scenario - lever neutral) of the KPIs it moves, with a 95 % interval over
the paired replications. A lever neutral is the scenario's section left out, which the
schema's defaults make inert; ``without_levers`` leaves out all of them at once: the model
before the levers, which the speed benchmark times against.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.stats import summarize
from sim.loader import load_scenario, validate
from sim.model import simulate
from sim.scenario import Scenario

Document = dict[str, Any]
ROOT = Path(__file__).resolve().parents[2]


def _drop(document: Document, *path: str) -> None:
    """Leave out the field at ``path`` (a '*' walks every entry of a mapping or list)."""
    head, *rest = path
    if head == "*":
        children = document.values() if isinstance(document, dict) else document
        for child in children:
            _drop(child, *rest)
    elif not rest:
        document.pop(head, None)
    elif head in document:
        _drop(document[head], *rest)


LEVERS: dict[str, tuple[tuple[str, ...], ...]] = {
    "prices and promotions": (("pricing",),),
    "ranking": (("ranking",),),
    "returning buyers": (("customers",),),
    "service rosters and disputes": (("service", "staffing"), ("service", "disputes")),
    "warehouse work": (("warehouses", "*", "picking"),),
    "exceptions": (("exceptions",),),
    "taxes over time": (("markets", "*", "taxes"), ("finance", "export_rebate")),
    "ageing stock": (("ageing",), ("policies", "replenishment", "*", "seasonal")),
    "fixed costs": (("finance", "overheads"),),
}
"""Each lever and the fields that set it (left out, the lever is neutral)."""

KPIS = ("orders", "fill_rate", "repurchase_rate", "dispatched_within_24h", "cs_satisfaction",
        "disputes", "contribution_margin_cny", "operating_profit_cny")


def without(scenario: Scenario, levers: list[str]) -> Scenario:
    """The scenario with the named levers neutral."""
    document = scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    for lever in levers:
        for path in LEVERS[lever]:
            _drop(document, *path)
    return validate(document)


def without_levers(scenario: Scenario) -> Scenario:
    """The scenario with every lever neutral: the model before the levers."""
    return without(scenario, list(LEVERS))


def lever_effects(scenario: Scenario, seeds: list[int], days: int | None = None,
                  progress: Callable[[str], None] = print) -> dict[str, pd.DataFrame]:
    """{lever: one row per KPI of scenario - lever neutral, paired by seed: n, mean,
    interval (``experiments.stats.summarize``)}."""
    base = pd.DataFrame([simulate(scenario, seed=s, days=days).summary for s in seeds])[
        list(KPIS)].astype(float)
    effects = {}
    for lever in LEVERS:
        progress(f"{lever} ...")
        neutral = without(scenario, [lever])
        runs = pd.DataFrame([simulate(neutral, seed=s, days=days).summary for s in seeds])[
            list(KPIS)].astype(float)
        effects[lever] = summarize(base - runs, KPIS)
    return effects


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default=str(ROOT / "scenarios" / "baseline.yaml"))
    parser.add_argument("--replications", type=int, default=3, choices=range(2, 101),
                        metavar="N", help="paired seeds (2 to 100)")
    parser.add_argument("--days", type=int, default=None, help="cut the horizon")
    args = parser.parse_args(argv)
    scenario = load_scenario(args.scenario)
    effects = lever_effects(scenario, list(range(args.replications)), args.days)
    print(f"\n{scenario.name}: scenario - lever neutral, mean [95 % interval] over "
          f"{args.replications} paired seeds")
    for lever, table in effects.items():
        print(f"\n{lever}")
        for kpi, row in table.iterrows():
            print(f"  {kpi:26s} {row['mean']:>14,.3f}  [{row['ci_low']:,.3f}, "
                  f"{row['ci_high']:,.3f}]")


if __name__ == "__main__":
    main()
