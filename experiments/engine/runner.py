"""Run many cells - (model, parameters, replication seed) - on a backend, in batches.

A *cell* is one model call. Cells are grouped into tasks sized from measured cell
times so that each task takes about ``batch_seconds`` (a Dask task costs ~1 ms of scheduler
time and a process-pool task a fraction of that, so second-long tasks keep the overhead near
0.1 %). The first tasks hold one cell each and measure; later ones grow to the target, and
the last ones shrink again so that every worker finishes at about the same time.

Only the grouping adapts, never the numbers: a cell's result depends on its model,
parameters and seed alone, so any backend, worker count and batching gives the same results.
At most ``2 x workers`` tasks are in flight, so a sweep of millions of cells holds little
memory and the caller can store each finished task at once (``on_task``).
"""

from __future__ import annotations

import concurrent.futures as cf
import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from experiments.engine.backends import Backend
from experiments.engine.models import Model
from experiments.errors import BackendError, CellError, ExperimentError
from sim.integrity import RunIntegrityError
from sim.loader import ScenarioError
from sim.plan import PlanFileError


@dataclass(frozen=True)
class Cell:
    """One model call: ``models[model](dict(params), seed)``."""

    point: int
    replication: int
    seed: int
    params: tuple[tuple[str, Any], ...] = ()
    model: int = 0


@dataclass
class TaskResult:
    """The outputs of one task's cells, in order, and the worker's busy seconds."""

    cells: list[Cell]
    outputs: list[dict[str, float]]
    seconds: float


@dataclass
class RunStats:
    """How a batch of cells went: for progress lines, manifests and the benchmark."""

    cells: int = 0
    tasks: int = 0
    busy_seconds: float = 0.0
    wall_seconds: float = 0.0

    @property
    def seconds_per_cell(self) -> float:
        return self.busy_seconds / self.cells if self.cells else math.nan

    def add(self, other: RunStats) -> None:
        """Fold in a later round (e.g. the replications a precision target added)."""
        self.cells += other.cells
        self.tasks += other.tasks
        self.busy_seconds += other.busy_seconds
        self.wall_seconds += other.wall_seconds


def run_task(models: Sequence[Model], cells: list[Cell]) -> TaskResult:
    """Run a task's cells in a worker; a failure names the cell that failed.

    Every cell runs even after one fails, so that the cell reported (the lowest point and
    replication) does not depend on how the cells were grouped into tasks.
    """
    started = time.perf_counter()
    outputs = []
    failures = []
    for cell in cells:
        try:
            output = models[cell.model](dict(cell.params), cell.seed)
        except Exception as exc:
            failures.append(_failure(cell, exc))
            continue
        outputs.append({k: float(v) for k, v in output.items()})
    if failures:
        first = lowest(failures)
        raise first from first.__cause__
    return TaskResult(cells, outputs, time.perf_counter() - started)


def _failure(cell: Cell, exc: Exception) -> CellError:
    """The cell's error, caused by the model's exception; bad input is an impossible
    combination of values, a plan that does not fit the scenario, or values whose run
    cannot stay finite and balanced."""
    bad_input = isinstance(exc, ScenarioError | PlanFileError | RunIntegrityError)
    reason = str(exc) if bad_input else f"{type(exc).__name__}: {exc}"
    error = CellError(cell.point, cell.replication, cell.seed, dict(cell.params), reason,
                      bad_input)
    error.__cause__ = exc
    return error


def lowest(failures: Sequence[CellError]) -> CellError:
    """The failure of the lowest (point, replication): the one a user is told about."""
    return min(failures, key=lambda e: (e.point, e.replication))


def run_cells(backend: Backend, models: Sequence[Model] | Model, cells: Sequence[Cell],
              on_task: Callable[[TaskResult], None], batch_seconds: float = 1.0) -> RunStats:
    """Evaluate every cell; ``on_task`` sees each finished task in the driver process.

    ``models`` is one model or a sequence indexed by ``Cell.model``. When a cell fails, no
    more tasks start; those already running finish (their results still reach ``on_task``)
    and the failure of the lowest (point, replication) among them is raised, whatever order
    the workers finished in. On any other exception (a dead worker, Ctrl-C) the tasks not yet
    started are cancelled before it propagates.
    """
    if batch_seconds <= 0:
        raise ExperimentError(f"--batch-seconds must be > 0 (got {batch_seconds})")
    if not isinstance(models, Sequence):
        models = (models,)
    started = time.perf_counter()
    stats = RunStats()
    pending = deque(cells)
    in_flight: set[Any] = set()
    failures: list[CellError] = []
    shared = backend.share(tuple(models)) if cells else None
    try:
        while in_flight or (pending and not failures):
            while pending and not failures and len(in_flight) < 2 * backend.workers:
                size = _task_size(stats, len(pending), backend.workers, batch_seconds)
                batch = [pending.popleft() for _ in range(size)]
                in_flight.add(backend.submit(run_task, shared, batch))
            for future in backend.wait_first(in_flight):
                in_flight.discard(future)
                try:
                    result: TaskResult = future.result()
                except CellError as exc:
                    failures.append(exc)
                    continue
                except cf.BrokenExecutor as exc:
                    raise BackendError(
                        "a worker process died (killed, out of memory, or a script that starts "
                        "a pool without `if __name__ == '__main__':`)") from exc
                stats.tasks += 1
                stats.cells += len(result.cells)
                stats.busy_seconds += result.seconds
                on_task(result)
        if failures:
            raise lowest(failures)
    finally:
        for future in in_flight:
            future.cancel()
        stats.wall_seconds = time.perf_counter() - started
    return stats


def _task_size(stats: RunStats, pending: int, workers: int, batch_seconds: float) -> int:
    """Cells for the next task: one while measuring, then ~batch_seconds, smaller at the end."""
    if stats.cells == 0:
        return 1
    target = max(1, round(batch_seconds / max(stats.seconds_per_cell, 1e-9)))
    tail = math.ceil(pending / workers)
    return max(1, min(target, tail))


def cell_rows(result: TaskResult) -> list[dict[str, Any]]:
    """A task's cells as result rows: point, replication, seed, parameters, KPIs."""
    return [{"point": c.point, "replication": c.replication, "seed": c.seed, **dict(c.params),
             **output} for c, output in zip(result.cells, result.outputs, strict=True)]
