"""Every catalogue-scale figure with its target, PASS or MISS, in one table.

Run on demand (not part of the tests; about 15 minutes on the 2-core machine)::

    python -m experiments.bench.scale          # or: make bench-scale

Each group runs in a fresh process, one after the other, so its peak memory is its own and
the groups do not compete for the cores:

- ``scale_optimize``: channel plans and rolling re-plans at 1,000 SKUs;
- ``scale_peak``: the two-stage peak plan at 200 SKUs and 200 demand scenarios;
- ``scale_sim``: ten million orders a year, and 10,000 SKUs x 3 markets, as whole processes;
- ``scale_daily``: the cohort model against a naive one-process-per-order model;
- ``scale_cli``: ``xbsim run`` of the baseline as a whole process, report included.

Each module also runs alone (``python -m experiments.bench.scale_optimize``) and says in its
docstring how it measures.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time

from experiments.bench.summary import print_summary

GROUPS = ("scale_optimize", "scale_peak", "scale_sim", "scale_daily", "scale_cli")
MARK = "ROWS "


def run_group(name: str) -> list[tuple[str, str, str, str]]:
    """The group's rows, measured in a child process; a group that fails is one MISS row."""
    code = (f"import json; from experiments.bench.{name} import measure; "
            f"print({MARK!r} + json.dumps(measure()))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(MARK):
            return [tuple(row) for row in json.loads(line[len(MARK):])]
    reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
    return [(f"{name}: did not finish", reason[:60], "-", "MISS")]


def main() -> None:
    began = time.perf_counter()
    print(f"== machine: {os.cpu_count()} cpus, python {platform.python_version()}, "
          f"loadavg {tuple(round(x, 2) for x in os.getloadavg())}")
    rows: list[tuple[str, str, str, str]] = []
    for name in GROUPS:
        started = time.perf_counter()
        print(f"-- {name} ...", flush=True)
        group = run_group(name)
        rows.extend(group)
        for row in group:
            print("   " + "  ".join(row), flush=True)
        print(f"   ({time.perf_counter() - started:.0f} s)", flush=True)
    print_summary("catalogue scale, issue 15", rows, began)


if __name__ == "__main__":
    main()
