"""Replications of one scenario: KPI means with t-intervals, to a precision if asked.

``replicate(model, n)`` runs replications ``0 .. n-1`` (seeds from ``experiments.engine.seeds``).
With a ``precision`` target it then follows the classic sequential rule: while some watched
KPI's relative half-width h/|m| is above the target, estimate the replications it needs,
n * (h / (target |m|))^2, and run up to that many (at least one more per worker, at most
``max_replications`` in all). Stopping on an estimated variance makes the final intervals a
little optimistic; start with 10 or more replications so that the first estimate is sound.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from experiments.engine.backends import Backend
from experiments.engine.models import Model
from experiments.engine.progress import Progress
from experiments.engine.runner import Cell, RunStats, TaskResult, cell_rows, run_cells
from experiments.engine.seeds import replication_seeds
from experiments.errors import ExperimentError
from experiments.kpis import HEADLINE_KPIS, kpi_order
from experiments.stats import CONFIDENCE, summarize

DEFAULT_MAX_REPLICATIONS = 100
DEFAULT_PRECISION_START = 10


@dataclass
class Replications:
    """``samples``: one row per replication (replication, seed, KPIs); ``summary``: one row per
    KPI (n, mean, std, half_width, ci_low, ci_high, rel_half_width)."""

    root_seed: int
    samples: pd.DataFrame
    summary: pd.DataFrame
    watched: tuple[str, ...]
    precision: float | None = None
    stats: RunStats = field(default_factory=RunStats)

    @property
    def reached(self) -> bool | None:
        """Whether every watched KPI met the precision target (None without a target)."""
        if self.precision is None:
            return None
        return bool((self.summary.loc[list(self.watched), "rel_half_width"]
                     <= self.precision).all())

    def worst(self) -> tuple[str, float]:
        """The watched KPI with the widest relative half-width, and that width."""
        widths = self.summary.loc[list(self.watched), "rel_half_width"]
        return str(widths.idxmax()), float(widths.max())


def replicate(model: Model, backend: Backend, replications: int | None = None,
              root_seed: int = 0, precision: float | None = None,
              kpis: Sequence[str] | None = None,
              max_replications: int = DEFAULT_MAX_REPLICATIONS,
              confidence: float = CONFIDENCE, progress: Progress | None = None,
              batch_seconds: float = 1.0) -> Replications:
    """Run replications of ``model`` with no parameters; see the module docstring."""
    if replications is None:
        replications = DEFAULT_PRECISION_START if precision is not None else 10
    n = replications
    if n < 1:
        raise ExperimentError(f"--replications must be >= 1 (got {n})")
    if precision is not None:
        if not 0 < precision < 1:
            raise ExperimentError(f"--precision is a relative half-width in (0, 1), "
                                  f"e.g. 0.02 (got {precision})")
        if n < 2:
            raise ExperimentError("--precision needs at least 2 starting replications")
        if max_replications < n:
            raise ExperimentError(f"--max-replications ({max_replications}) is below "
                                  f"--replications ({n})")
    progress = progress or Progress()
    rows: list[dict] = []
    stats = RunStats()
    progress.start("replications", n)

    def on_task(result: TaskResult) -> None:
        rows.extend(cell_rows(result))
        if not progress.silent:
            progress.update(len(rows), note=_note(rows, kpis, precision, confidence))

    finished = False
    try:
        while True:
            seeds = replication_seeds(root_seed, n - len(rows), start=len(rows))
            cells = [Cell(0, len(rows) + i, seed) for i, seed in enumerate(seeds)]
            stats.add(run_cells(backend, model, cells, on_task, batch_seconds))
            result = _result(rows, root_seed, kpis, precision, confidence, stats)
            if precision is None or result.reached or n >= max_replications:
                break
            needed = estimate(n, result.worst()[1], precision, max_replications)
            n = min(max_replications, max(needed, n + backend.workers))
            progress.update(len(rows), total=n)
        finished = True
    finally:
        progress.close(final=finished)
    return result


def estimate(n: int, width: float, precision: float, cap: int) -> int:
    """n (h / target)^2, the classic estimate of the replications needed, at most ``cap``:
    a KPI whose mean is near zero has a huge relative half-width h/|m|, whose square
    overflows. Twice ``n`` when h/|m| is not a number (a mean of exactly zero)."""
    if not math.isfinite(width):
        return min(2 * n, cap)
    ratio = width / precision  # a float: infinite rather than an error when it overflows
    return math.ceil(min(n * ratio * ratio, cap))


def _note(rows: list[dict], kpis: Sequence[str] | None, precision: float | None,
          confidence: float) -> str:
    """``worst fill_rate ±2.1% (target 2.0%)``: the current precision, for the progress bar."""
    if len(rows) < 2:
        return ""
    samples = pd.DataFrame.from_records(rows)
    watched = [k for k in (kpis or HEADLINE_KPIS) if k in samples.columns]
    if not watched:
        return ""
    widths = summarize(samples, watched, confidence)["rel_half_width"]
    target = f" (target {precision:.1%})" if precision is not None else ""
    return f"worst {widths.idxmax()} ±{widths.max():.1%}{target}"


def _result(rows: list[dict], root_seed: int, kpis: Sequence[str] | None,
            precision: float | None, confidence: float, stats: RunStats) -> Replications:
    samples = (pd.DataFrame.from_records(rows).drop(columns="point")
               .sort_values("replication", ignore_index=True))
    outputs = kpi_order(c for c in samples.columns if c not in ("replication", "seed"))
    samples = samples[["replication", "seed", *outputs]]  # the same on any backend
    watched = tuple(kpis) if kpis else tuple(k for k in HEADLINE_KPIS if k in outputs) or \
        tuple(outputs)
    missing = [k for k in watched if k not in outputs]
    if missing:
        raise ExperimentError(f"the model reports no KPI named {', '.join(missing)}")
    return Replications(root_seed, samples, summarize(samples, outputs, confidence), watched,
                        precision, stats)

