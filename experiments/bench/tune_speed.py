"""How fast does ``xbsim tune`` run on two workers, against the same search in one process?

Run on demand (not part of the tests)::

    python -m experiments.bench.tune_speed [--trials 50] [--replications 10] [--days 365]

Both measurements run the same tune, in this one run on this machine: the baseline scenario
over its first ``--days`` days, two parameters (the US reorder point and the marketplace ad
budget), ``--trials`` trials of ``--replications`` replications each, then the best and the
starting point on fresh seeds:

(a) the serial loop: the serial backend, every cell one after another in this process (the
    sampler's own time included, no pool, no pickling);
(b) a local pool of 2 workers, started and warmed before the clock starts.

Efficiency = serial time / (2 x parallel time), target >= 85 %. The trials tables of both
must be identical, byte for byte: the search asks and tells in a fixed order.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from experiments.bench.summary import print_summary, verdict
from experiments.engine.backends import open_backend
from experiments.engine.runner import Cell, run_cells
from experiments.storage.runstore import write_parquet
from experiments.studies import tune as tuning

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
PARAMETERS = ["policies.replenishment.1.policy.reorder_point=50:95",
              "policies.ad_spend.marketplace_ppc.spend_per_day=100:600"]
OBJECTIVE = "contribution_margin_cny"
TARGET_EFFICIENCY = 0.85
WORKERS = 2


def noop(params, seed) -> dict[str, float]:
    return {"y": 0.0}


def main() -> None:
    began = time.perf_counter()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=50, help="trials (evaluations) per tune")
    parser.add_argument("--replications", type=int, default=10, help="replications per trial")
    parser.add_argument("--days", type=int, default=365, help="simulated days per cell")
    parser.add_argument("--seed", type=int, default=0, help="root seed")
    args = parser.parse_args()
    print("== machine")
    print(f"cpu_count={os.cpu_count()} loadavg={tuple(round(x, 2) for x in os.getloadavg())} "
          f"python={platform.python_version()} numpy={np.__version__} {platform.platform()}")
    model, parameters = tuning.build(BASELINE, PARAMETERS, days=args.days)
    model({}, 0)  # warm caches and lazy imports
    cells = args.trials * args.replications + 2 * args.replications
    what = (f"{args.trials} trials x {args.replications} replications of the baseline over "
            f"{args.days} days (+ {2 * args.replications} validation cells)")

    def run(backend) -> tuple[float, tuning.TuneResult]:
        started = time.perf_counter()
        result = tuning.tune(model, parameters, OBJECTIVE, backend, args.trials,
                             args.replications, args.seed)
        return time.perf_counter() - started, result

    print(f"\n== (a) serial loop: {what}, serial backend in this process")
    with open_backend("serial") as backend:
        serial, serial_result = run(backend)
    print(f"wall {serial:.1f} s, {cells / serial:.3f} cells/s, best {serial_result.best} "
          f"(trial {serial_result.best_trial})")

    print(f"\n== (b) local pool of {WORKERS} workers: the same tune")
    started = time.perf_counter()
    with open_backend("local", WORKERS) as backend:
        run_cells(backend, noop, [Cell(i, 0, i) for i in range(2 * WORKERS)],
                  lambda result: None)  # start and warm every worker
        startup = time.perf_counter() - started
        parallel, parallel_result = run(backend)
    stats = parallel_result.stats
    efficiency = serial / (WORKERS * parallel)
    utilisation = stats.busy_seconds / (WORKERS * stats.wall_seconds)
    print(f"wall {parallel:.1f} s, {cells / parallel:.3f} cells/s, speed-up "
          f"{serial / parallel:.2f}x, efficiency {efficiency:.1%} (worker utilisation "
          f"{utilisation:.1%}); start-up {startup:.2f} s not counted")

    with tempfile.TemporaryDirectory(prefix="xbsim-bench-") as tmp:
        tables = []
        for name, result in (("serial", serial_result), ("local", parallel_result)):
            path = Path(tmp) / f"{name}.parquet"
            write_parquet(path, result.trials)
            tables.append(path.read_bytes())
    identical = tables[0] == tables[1]
    print(f"trials table identical on both: {'yes' if identical else 'NO'}")
    rows = [("serial loop wall [s]", f"{serial:.1f}", "", ""),
            (f"local pool, {WORKERS} workers, wall [s]", f"{parallel:.1f}", "", ""),
            (f"efficiency at {WORKERS} workers", f"{efficiency:.1%}",
             f">= {TARGET_EFFICIENCY:.0%}", verdict(efficiency >= TARGET_EFFICIENCY)),
            ("trials table byte-identical", "yes" if identical else "no", "yes",
             verdict(identical))]
    print_summary(f"tune speed: {what}", rows, began)


if __name__ == "__main__":
    main()
