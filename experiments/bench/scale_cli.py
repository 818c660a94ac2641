"""What a user waits for: ``xbsim run scenarios/baseline.yaml`` as a whole process, report
included, against its target of 2 s (issue 15).

Run on demand (not part of the tests)::

    python -m experiments.bench.scale_cli [--runs N]

Times N fresh processes of the whole command (median wall seconds, peak RSS of the
children), the floor no run can go under (the interpreter with numpy, pandas and simpy
imported) and, in one more fresh process timed with ``perf_counter``, where the time goes:
imports of the run path, load and validate, simulate, write the tables, the KPI table, the
report. The stages run the same functions ``xbsim run`` calls, in the same order.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from experiments.bench.summary import print_summary, verdict

TARGET_S = 2.0
SCENARIO = "scenarios/baseline.yaml"
ROOT = Path(__file__).resolve().parents[2]
FLOOR = "import numpy, pandas, simpy"
STAGES = """
import json, sys, time
began = time.perf_counter()
from experiments.cli.run import run_command  # what `xbsim run` imports before it works
imported = time.perf_counter()
from pathlib import Path
from experiments.engine.replanning import replan_policy
from experiments.report import write_report
from experiments.report.tables import kpi_table
from experiments.storage.runstore import simulate_run
from sim.loader import load_scenario
from sim.model import simulate
scenario = load_scenario(sys.argv[1], [])
loaded = time.perf_counter()
result, _ = simulate_run(Path(sys.argv[2]), lambda sink: simulate(
    scenario, seed=0, policy=replan_policy(scenario), sink=sink), sys.argv[1])
written = time.perf_counter()
kpi_table(result.summary)
printed = time.perf_counter()
write_report(sys.argv[2])
reported = time.perf_counter()
print(json.dumps({"imports": imported - began, "load and validate": loaded - imported,
                  "simulate, tables streamed as it goes": written - loaded,
                  "KPI table": printed - written, "report": reported - printed,
                  "orders": result.summary["orders"]}))
"""
"""The run's steps in one process, each timed (imports of the report's figures included in
"report", as in ``xbsim run``)."""


def _wall(arguments: list[str]) -> float:
    """Wall seconds of one fresh interpreter running ``arguments`` from the checkout."""
    started = time.perf_counter()
    subprocess.run([sys.executable, *arguments], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def _stages(out: Path) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", STAGES, SCENARIO, str(out)], cwd=ROOT,
                          check=True, capture_output=True, text=True)
    stages: dict[str, float] = json.loads(done.stdout.splitlines()[-1])
    return stages


def measure(runs: int = 5) -> list[tuple[str, str, str, str]]:
    """Rows of (figure, value, target, verdict): the whole command's median wall time over
    ``runs`` fresh processes and its peak memory, the import floor, and the split."""
    with tempfile.TemporaryDirectory(prefix="scale_cli-") as tmp:
        out = Path(tmp) / "run"
        command = ["-m", "experiments.cli.main", "run", SCENARIO, "--out", str(out)]
        _wall(command)  # warm the file cache
        walls = [_wall(command) for _ in range(runs)]
        peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
        start = statistics.median(_wall(["-c", "pass"]) for _ in range(runs))
        floor = statistics.median(_wall(["-c", FLOOR]) for _ in range(runs))
        stages = _stages(Path(tmp) / "stages")
    wall = statistics.median(walls)
    orders = int(stages.pop("orders"))
    rows = [
        (f"xbsim run baseline, whole process, report included ({orders:,} orders; "
         f"median of {runs}) s", f"{wall:.2f}", f"< {TARGET_S:g}", verdict(wall < TARGET_S)),
        (f"  fastest / slowest of {runs} s", f"{min(walls):.2f} / {max(walls):.2f}", "-", "-"),
        ("  peak RSS of any run GB", f"{peak_gb:.2f}", "-", "-"),
        ("  floor: python -c pass s", f"{start:.2f}", "-", "-"),
        (f"  floor: python -c '{FLOOR}' s", f"{floor:.2f}", "-", "-"),
    ]
    rows += [(f"  split (one process): {name} s", f"{seconds:.2f}", "-", "-")
             for name, seconds in stages.items()]
    rows.append(("  split: sum of the steps s", f"{sum(stages.values()):.2f}", "-", "-"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="processes timed (default 5)")
    began = time.perf_counter()
    print_summary("xbsim run, whole process", measure(parser.parse_args().runs), began)


if __name__ == "__main__":
    main()
