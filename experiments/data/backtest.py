"""Backtest: does the scenario reproduce the history it claims to describe?

The scenario is simulated over the actuals' period (its horizon moved to the first order
date and stretched to the last), N replications with seeds from the project's scheme
(``experiments.engine.seeds``) on any backend, each written as a seller's history
(``experiments.data.history``) and aggregated exactly like the actuals
(``backtest_measures``). Per market and month, and per SKU class and month, the actual is
set against the replications' mean and 90 % interval (``backtest_scores``): WAPE, bias,
coverage, and a verdict in one line per measure.

A run starts from the ``state`` table of the actuals when there is one (stock on hand, on
its way and on order at the start of the period), else from the scenario's opening stock.
The actuals' ad spend replaces the scenario's ad spend policy (``backtest_replay``): the
model is judged on its response to the seller's decisions, not on its default ones.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.data.backtest_measures import (
    CELL,
    Frame,
    flatten,
    measure_cells,
    order_period,
    read_actuals,
    sku_classes,
    unflatten,
)
from experiments.data.backtest_replay import ad_spend_overrides
from experiments.data.backtest_scores import cell_table, scores, verdict
from experiments.data.history import history_tables
from experiments.data.state import read_state
from experiments.engine.backends import Backend
from experiments.engine.models import ScenarioModel
from experiments.engine.progress import Progress
from experiments.engine.replanning import replan_policy
from experiments.engine.runner import Cell, RunStats, TaskResult, run_cells
from experiments.engine.seeds import replication_seeds
from experiments.errors import ExperimentError
from sim.atomic import atomic_write
from sim.model import simulate
from sim.scenario import Scenario


@dataclass(frozen=True, eq=False)
class HistoryModel:
    """One replication as the backtest's cells: simulate, write as history, aggregate."""

    scenario: ScenarioModel
    frame: Frame

    def __call__(self, params: Mapping[str, Any], seed: int) -> dict[str, float]:
        sc = self.scenario.scenario(params)
        state = self.scenario.state.opening(sc) if self.scenario.state is not None else None
        run = simulate(sc, seed=seed, policy=replan_policy(sc), state=state)
        return flatten(measure_cells(history_tables(run), self.frame))


@dataclass
class Backtest:
    """Cells (actual against simulated per cell), scores, and how it was run."""

    scenario_file: str
    actuals_dir: str
    first: str
    last: str
    root_seed: int
    seeds: list[int]
    cells: pd.DataFrame
    scores: pd.DataFrame
    class_scores: pd.DataFrame
    samples: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    backend: str = ""
    stats: RunStats = field(default_factory=RunStats)

    def verdicts(self) -> list[str]:
        """One line per measure over market-months, orders first."""
        rows = self.scores[self.scores["breakdown"] == "market"]
        return [verdict(row) for _, row in rows.iterrows()]


def backtest(scenario_file: Path, actuals_dir: Path, replications: int, backend: Backend,
             root_seed: int = 0, overrides: Sequence[str] = (),
             progress: Progress | None = None, batch_seconds: float = 1.0) -> Backtest:
    """Simulate the actuals' period ``replications`` times and score it against them."""
    if replications < 2:
        raise ExperimentError(f"--replications must be >= 2 for an interval (got "
                              f"{replications})")
    tables = read_actuals(actuals_dir)
    first, last = order_period(tables["orders"])
    notes = []
    state = None
    if "state" in tables:
        state = read_state(Path(actuals_dir) / "state.parquet")
        notes.append(f"Each replication starts from the state table of {actuals_dir} (stock on "
                     "hand, on its way and on order at the start of the period).")
    else:
        notes.append("Each replication starts from the scenario's opening stock "
                     "(initial_stock_days of cover): the actuals hold no state table.")
    days = (last - first).days + 1
    horizon = [f"horizon.start_date={first.isoformat()}", f"horizon.days={days}",
               "horizon.warmup_days=0"]
    model = ScenarioModel.from_file(scenario_file, [*overrides, *horizon], state=state)
    replay = ad_spend_overrides(tables.get("ad_spend"), model.scenario(), first, days, notes)
    model = model.variant([*replay, *overrides])  # the caller's overrides still win
    scenario = model.scenario()
    frame = _frame(scenario, tables["orders"], first, last, notes)
    actual = measure_cells(tables, frame)
    seeds = replication_seeds(root_seed, replications)
    rows: list[pd.DataFrame] = []
    progress = progress or Progress()
    progress.start("replications", replications)

    def on_task(result: TaskResult) -> None:
        for cell, output in zip(result.cells, result.outputs, strict=True):
            rows.append(unflatten(output).assign(replication=cell.replication,
                                                 seed=cell.seed))
        progress.update(len(rows))

    finished = False
    try:
        stats = run_cells(backend, HistoryModel(model, frame),
                          [Cell(0, r, seed) for r, seed in enumerate(seeds)], on_task,
                          batch_seconds)
        finished = True
    finally:
        progress.close(final=finished)
    samples = (pd.concat(rows, ignore_index=True)
               .sort_values(["replication", *CELL], ignore_index=True)
               [["replication", "seed", *CELL, "value"]])
    cells = cell_table(actual, samples)
    return Backtest(str(scenario_file), str(actuals_dir), first.isoformat(), last.isoformat(),
                    root_seed, seeds, cells, scores(cells, ["breakdown", "measure"]),
                    scores(cells[cells["breakdown"] == "class"], ["measure", "group"]),
                    samples, notes, backend.describe(), stats)


def _frame(scenario: Scenario, orders: pd.DataFrame, first: Any, last: Any,
           notes: list[str]) -> Frame:
    """The scenario's FX, markets and lanes, and the actuals' SKU classes."""
    fx = {"CNY": 1.0} | {m.currency: m.fx_to_cny for m in scenario.markets.values()}
    unknown = sorted(set(orders["currency"].dropna().astype(str)) - set(fx))
    if unknown:
        notes.append(f"Orders in {', '.join(unknown)} have no FX in the scenario: their "
                     "revenue is left out.")
    missing = sorted(set(orders["market"].dropna().astype(str)) - set(scenario.markets))
    if missing:
        notes.append(f"Actual markets {', '.join(missing)} are not in the scenario: the model "
                     "cannot reproduce them.")
    market_of = {name: name for name in scenario.markets} | {
        name: w.market for name, w in scenario.warehouses.items() if w.market is not None}
    lanes = {name: f"{lane.origin}>{lane.destination}" for name, lane in scenario.lanes.items()}
    return Frame(first, last, fx, sku_classes(orders, fx), market_of, lanes)


def write_backtest(out: Path, result: Backtest) -> list[str]:
    """Tables as parquet and CSV and ``backtest.json`` (what ran); the file names."""
    tables = {"cells": result.cells, "scores": result.scores,
              "class_scores": result.class_scores, "replications": result.samples}
    names = []
    for name, frame in tables.items():
        atomic_write(out / f"{name}.parquet", partial(_parquet, frame))
        atomic_write(out / f"{name}.csv", partial(_csv, frame))
        names += [f"{name}.parquet", f"{name}.csv"]
    about = {"scenario_file": result.scenario_file, "actuals": result.actuals_dir,
             "period": [result.first, result.last], "root_seed": result.root_seed,
             "replication_seeds": result.seeds, "backend": result.backend,
             "verdicts": result.verdicts(), "notes": result.notes}
    text = json.dumps(about, indent=2)
    atomic_write(out / "backtest.json", lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return [*names, "backtest.json"]


def _parquet(frame: pd.DataFrame, path: Path) -> None:
    frame.to_parquet(path, index=False)


def _csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False)
