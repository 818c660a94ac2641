"""Compare scenarios on common random numbers: paired differences and a ranking that holds.

Scenario j's replication r runs with the same seed as every other scenario's replication r
(common random numbers), so the demand, transit and return draws line up and the paired
difference measures the change, not the luck. Per KPI the result holds

* each scenario's mean with its t-interval (``summary``);
* every pair's mean difference with Bonferroni joint intervals and which one is better
  (``differences``), and the share of variance CRN removed against independent seeds;
* a ranking by mean with the subset that contains the best scenario with probability
  >= 1 - a (``ranking``; see ``experiments.stats``).

``crn=False`` gives each scenario independent seeds instead (the intervals stay valid, only
wider): the honest way to see what CRN buys on a given model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from experiments.engine.backends import Backend
from experiments.engine.models import Model
from experiments.engine.progress import Progress
from experiments.engine.runner import Cell, RunStats, TaskResult, cell_rows, run_cells
from experiments.engine.seeds import replication_seed
from experiments.errors import ExperimentError
from experiments.kpis import HEADLINE_KPIS, kpi_order
from experiments.stats import CONFIDENCE, paired_differences, rank, summarize


@dataclass
class Comparison:
    """Frames for a notebook; every one has a ``scenario`` (or ``a``/``b``) and ``kpi`` key."""

    labels: list[str]
    kpis: tuple[str, ...]
    samples: pd.DataFrame
    summary: pd.DataFrame
    differences: pd.DataFrame
    ranking: pd.DataFrame
    common_random_numbers: bool
    root_seed: int
    stats: RunStats


def compare(models: Mapping[str, Model], backend: Backend, replications: int = 10,
            root_seed: int = 0, crn: bool = True, kpis: Sequence[str] | None = None,
            confidence: float = CONFIDENCE, progress: Progress | None = None,
            batch_seconds: float = 1.0) -> Comparison:
    """Replicate every scenario on the same seeds and compare them pairwise."""
    labels = list(models)
    if len(labels) < 2:
        raise ExperimentError("compare needs at least two scenarios")
    if replications < 2:
        raise ExperimentError(f"--replications must be >= 2 to compare (got {replications})")
    cells = [Cell(j, r, replication_seed(root_seed, r, None if crn else j), model=j)
             for r in range(replications) for j in range(len(labels))]
    progress = progress or Progress()
    progress.start("compare", len(cells))
    rows: list[dict] = []

    def on_task(result: TaskResult) -> None:
        rows.extend(cell_rows(result))
        progress.update(len(rows))

    try:
        stats = run_cells(backend, [models[label] for label in labels], cells, on_task,
                          batch_seconds)
    finally:
        progress.close(final=len(rows) == len(cells))
    samples = pd.DataFrame.from_records(rows)
    samples.insert(0, "scenario", [labels[p] for p in samples.pop("point")])
    samples = samples.sort_values(["replication", "scenario"], key=_order(labels),
                                  ignore_index=True)
    outputs = kpi_order(c for c in samples.columns if c not in ("scenario", "replication", "seed"))
    samples = samples[["scenario", "replication", "seed", *outputs]]  # the same on any backend
    chosen = tuple(kpis) if kpis else tuple(k for k in HEADLINE_KPIS if k in outputs) or \
        tuple(outputs)
    missing = [k for k in chosen if k not in outputs]
    if missing:
        raise ExperimentError(f"the scenarios report no KPI named {', '.join(missing)}")
    summary = pd.concat({label: summarize(group, outputs, confidence)
                         for label, group in samples.groupby("scenario", sort=False)},
                        names=["scenario", "kpi"])
    differences = paired_differences(samples, chosen, labels, confidence=confidence)
    means = summary["mean"].unstack("kpi")
    return Comparison(labels, chosen, samples, summary, differences,
                      rank(differences, means, labels), crn, root_seed, stats)


def _order(labels: Sequence[str]):
    """Sort key: scenarios in the order given, not alphabetically."""
    position = {label: i for i, label in enumerate(labels)}
    return lambda column: column.map(position) if column.name == "scenario" else column
