"""The last lines every command that writes a results directory prints: where the report
is, or why the results or the report could not be written (exit code 1)."""

from __future__ import annotations

import sys
from pathlib import Path

from experiments.engine.progress import Stopwatch


def report_page(out: Path) -> int:
    """Write the HTML report of ``out`` and say where it is; the exit code. The report's
    figures load matplotlib, so it is imported here, not by every command that writes."""
    from experiments.report import write_report

    try:
        with Stopwatch().stage(f"writing {out / 'report.html'}"):
            path = write_report(out)
    except OSError as exc:
        print(f"error: cannot write the report to {out}: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    print(f"report: {path}")
    return 0


def cannot_write(out: Path, exc: OSError) -> int:
    """Say that the results could not be written; the exit code."""
    print(f"error: cannot write results to {out}: {exc.strerror or exc}", file=sys.stderr)
    return 1
