"""How fast do sweeps run, and how well do they scale across workers?

Run on demand (not part of the tests)::

    python -m experiments.bench.sweep_speed [--cells 16] [--horizon-days 730]

Prints, all measured in this one run on this machine:

(a) the serial baseline: the same cells - the baseline scenario over a two-year horizon
    (about 1 s each), a grid over the US duty rate - called in a plain loop in this process,
    with no runner, no pickling and no results store;
(b) the same cells as a stored sweep (``run_sweep``: parts and results written) on a local
    pool of 1 and of 2 workers and on a Dask LocalCluster of 2 single-threaded workers:
    wall time, throughput and efficiency = serial time / (workers x wall), target >= 85 % at
    2 workers on an idle machine. Efficiency is split into its two causes: *utilisation*
    (worker busy time / (workers x wall): what the runner and backend lose to scheduling and
    idle workers) and *cell slowdown* (a cell's time in a worker / in the serial loop: what
    the cores lose to sharing - other processes, memory bandwidth, clock);
(c) the per-task overhead of each backend: no-op cells, one per task, through the runner
    (worker seconds per task = workers x wall / tasks);
(d) the competition: cores used by other processes during each measurement (machine CPU
    time from psutil less this benchmark's own processes), the hypervisor's steal time, and
    the 1-minute load average (``os.getloadavg()``, which also counts this benchmark).

Pools are started and warmed before they are timed; start-up times are printed apart.
``psutil`` comes with ``distributed``.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np
import psutil

from experiments.engine.backends import Backend, open_backend
from experiments.engine.runner import Cell, run_cells
from experiments.studies.sweep import run_sweep
from experiments.studies.sweepfile import build_sweep

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
TARGET_EFFICIENCY = 0.85
NOOP_TASKS = 400
COMPETITION_CORES = 0.1
"""Other processes using more than this many cores on average spoil a measurement."""


class Competition(NamedTuple):
    others: float
    steal: float
    load: float


class Measure(NamedTuple):
    label: str
    workers: int
    wall: float
    efficiency: float
    utilisation: float
    slowdown: float
    per_task: float
    startup: float
    competition: Competition


class CpuWatch:
    """Average cores used by *other* processes (and stolen by the hypervisor) over a block."""

    def __enter__(self) -> CpuWatch:
        self._load = os.getloadavg()[0]
        self._wall = time.perf_counter()
        self._machine = psutil.cpu_times()
        self._ours = _our_cpu()
        return self

    def __exit__(self, *exc: object) -> None:
        wall = time.perf_counter() - self._wall
        machine = psutil.cpu_times()
        busy = _busy(machine) - _busy(self._machine)
        ours_end = _our_cpu()
        ours = sum(ours_end[pid] - self._ours.get(pid, 0.0) for pid in ours_end)
        self.result = Competition(max(0.0, busy - ours) / wall,
                                  (machine.steal - self._machine.steal) / wall, self._load)


def _busy(times) -> float:
    return times.user + times.nice + times.system + times.irq + times.softirq


def _our_cpu() -> dict[int, float]:
    """CPU seconds of this process and every descendant (pool workers, Dask nannies)."""
    me = psutil.Process()
    out = {}
    for process in (me, *me.children(recursive=True)):
        try:
            times = process.cpu_times()
            out[process.pid] = times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return out


def noop(params, seed) -> dict[str, float]:
    """A model that does nothing: what is left of a task's time is the backend's overhead."""
    return {"y": 0.0}


def sweep_spec(cells: int, horizon_days: int) -> dict:
    return {"name": "bench", "scenario": str(BASELINE), "set": [f"horizon.days={horizon_days}"],
            "seed": 0, "replications": 1, "design": {"kind": "grid"},
            "parameters": {"markets.US.duty_rate": {"low": 0.05, "high": 0.30, "levels": cells}},
            "kpis": ["contribution_margin_cny"]}


def serial_baseline(sweep) -> tuple[float, list[float]]:
    """Wall seconds of a plain loop over the sweep's cells, and each cell's seconds."""
    model, seed = sweep.model, int(sweep.spec.seed)
    cells = []
    started = time.perf_counter()
    for point in sweep.design.point_params():
        t = time.perf_counter()
        model(dict(point), seed)
        cells.append(time.perf_counter() - t)
    return time.perf_counter() - started, cells


def overhead(backend: Backend) -> tuple[float, int]:
    """Worker seconds per no-op task, and the tasks run."""
    cells = [Cell(i, 0, i) for i in range(NOOP_TASKS)]
    stats = run_cells(backend, noop, cells, lambda result: None, batch_seconds=1e-9)
    return backend.workers * stats.wall_seconds / stats.tasks, stats.tasks


def describe(c: Competition) -> str:
    return f"other processes {c.others:.2f} cores, steal {c.steal:.2f}, load before {c.load:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=16, help="cells per measurement")
    parser.add_argument("--horizon-days", type=int, default=730,
                        help="simulated days per cell (730: about 1 s on this machine)")
    args = parser.parse_args()
    print("== machine")
    print(f"cpu_count={os.cpu_count()} loadavg={tuple(round(x, 2) for x in os.getloadavg())} "
          f"python={platform.python_version()} numpy={np.__version__} {platform.platform()}")
    sweep = build_sweep(sweep_spec(args.cells, args.horizon_days), ROOT / "bench.yaml")
    sweep.model({}, 0)  # warm caches and lazy imports

    print(f"\n== (a) serial baseline: {args.cells} cells of the baseline over "
          f"{args.horizon_days} days, plain loop in this process")
    with CpuWatch() as watch:
        serial, per_cell = serial_baseline(sweep)
    serial_cell = float(np.mean(per_cell))
    print(f"wall {serial:.2f} s, {args.cells / serial:.3f} cells/s, cell mean {serial_cell:.3f} s "
          f"(min {min(per_cell):.3f}, max {max(per_cell):.3f}); {describe(watch.result)}")
    competition = [watch.result]

    print("\n== (b) stored sweep on each backend; (c) per-task overhead (no-op cells)")
    rows, results = [], {}
    with tempfile.TemporaryDirectory(prefix="xbsim-bench-") as tmp:
        for label, kind, workers in (("local pool, 1 worker", "local", 1),
                                     ("local pool, 2 workers", "local", 2),
                                     ("Dask LocalCluster, 2 workers", "dask", 2)):
            started = time.perf_counter()
            with open_backend(kind, workers) as backend:
                run_cells(backend, noop, [Cell(i, 0, i) for i in range(2 * workers)],
                          lambda result: None)  # start and warm every worker
                startup = time.perf_counter() - started
                per_task, tasks = overhead(backend)
                out = Path(tmp) / kind / str(workers)
                with CpuWatch() as watch:
                    stats = run_sweep(sweep, backend, out).stats
            results[label] = (out / "results.parquet").read_bytes()
            m = Measure(label, workers, stats.wall_seconds,
                        serial / (workers * stats.wall_seconds),
                        stats.busy_seconds / (workers * stats.wall_seconds),
                        stats.seconds_per_cell / serial_cell, per_task, startup, watch.result)
            rows.append(m)
            competition.append(watch.result)
            print(f"{label}: wall {m.wall:.2f} s, {args.cells / m.wall:.3f} cells/s, speed-up "
                  f"{serial / m.wall:.2f}x, efficiency {m.efficiency:.1%} (utilisation "
                  f"{m.utilisation:.1%}, cell slowdown {m.slowdown:.2f}x); overhead "
                  f"{per_task * 1e3:.2f} ms/task over {tasks} no-op tasks; start-up "
                  f"{startup:.2f} s; {describe(watch.result)}")

    print("\n== summary")
    print(f"{'backend':<29} {'wrk':>3} {'wall s':>7} {'cells/s':>7} {'speed-up':>8} "
          f"{'effic.':>7} {'util.':>6} {'slowdn':>6} {'ms/task':>7} {'others':>6}")
    print(f"{'serial loop (baseline)':<29} {1:>3} {serial:>7.2f} {args.cells / serial:>7.3f} "
          f"{1.0:>7.2f}x {1.0:>7.1%} {'':>6} {1.0:>5.2f}x {'-':>7} {competition[0].others:>6.2f}")
    for m in rows:
        print(f"{m.label:<29} {m.workers:>3} {m.wall:>7.2f} {args.cells / m.wall:>7.3f} "
              f"{serial / m.wall:>7.2f}x {m.efficiency:>7.1%} {m.utilisation:>6.1%} "
              f"{m.slowdown:>5.2f}x {m.per_task * 1e3:>7.2f} {m.competition.others:>6.2f}")
    identical = len(set(results.values())) == 1
    print(f"results.parquet identical on every backend: {'yes' if identical else 'NO'}")
    two = [m.efficiency for m in rows if m.workers == 2]
    verdict = "met" if min(two) >= TARGET_EFFICIENCY else "MISSED"
    print(f"efficiency at 2 workers: {', '.join(f'{e:.1%}' for e in two)} -> target "
          f">= {TARGET_EFFICIENCY:.0%} {verdict}")
    busiest = max(c.others + c.steal for c in competition)
    if busiest > COMPETITION_CORES:
        print(f"note: other processes (or the hypervisor) took up to {busiest:.2f} of the "
              f"{os.cpu_count()} cores during a measurement, so these efficiencies understate "
              "an idle machine's; the cell slowdown column shows how much")
    else:
        print("the machine was idle during every measurement (others < "
              f"{COMPETITION_CORES} cores)")
    print(f"load average at the end: {tuple(round(x, 2) for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
