"""The ``xbsim`` command's manners: version, help, errors with the right usage, refusals in
one line, KPI suggestions, honest progress, and a parser that loads nothing heavy."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments import api
from experiments.cli.arguments import OPTIMISERS
from experiments.cli.main import COMMANDS, _parser, main
from experiments.engine.progress import LineProgress, Progress, Stopwatch
from experiments.report.tables import kpi_table
from experiments.studies.sweep import _Precision

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny.yaml"
HEAVY = ("pandas", "pyomo", "highspy", "matplotlib", "dask", "optuna", "statsmodels", "scipy",
         "simpy")


def cli(*argv: object) -> tuple[int, str, str]:
    """``xbsim argv`` in process, argparse's exits included: (code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exit_:
            code = int(exit_.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_version_is_the_installed_package_version():
    code, stdout, _ = cli("--version")
    assert code == 0 and stdout.strip() == f"xbsim {metadata.version('xbsim')}"


def test_top_level_help_lists_every_command_in_whole_sentences():
    code, stdout, _ = cli("--help")
    assert code == 0
    description = stdout.split("\n\n")[1]
    assert description.rstrip().endswith(".")
    assert all(f"    {name}" in stdout for name in COMMANDS)
    assert "xbsim COMMAND --help" in stdout


def test_a_wrong_option_shows_that_commands_usage():
    code, _, stderr = cli("run", TINY, "--bogus")
    assert code == 2
    assert stderr.startswith("usage: xbsim run ") and "unrecognized arguments: --bogus" in stderr
    code, _, stderr = cli("optimize", "channels", TINY, "--points", "3", "--nope")
    assert code == 2 and stderr.startswith("usage: xbsim optimize ")


def test_help_and_errors_load_none_of_the_heavy_packages():
    probe = ("import sys, contextlib, io\n"
             "from experiments.cli.main import main\n"
             "for argv in (['--help'], ['compare', '--help'], ['sweep', 'x.yaml', '--bad']):\n"
             "    with contextlib.redirect_stdout(io.StringIO()), "
             "contextlib.redirect_stderr(io.StringIO()):\n"
             "        try: main(argv)\n"
             "        except SystemExit: pass\n"
             f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_a_single_run_loads_no_statistics_solver_or_study_package(tmp_path):
    """``xbsim run`` is what a user waits for most: it needs the simulation and, for its
    report, matplotlib, never scipy, the solvers or the experiment studies' engines."""
    probe = ("import sys, contextlib, io\n"
             "from experiments.cli.main import main\n"
             "for extra in (['--no-report'], []):\n"
             "    with contextlib.redirect_stdout(io.StringIO()):\n"
             f"        code = main(['run', {str(TINY)!r}, '--days', '20', '--out', "
             f"{str(tmp_path / 'run')!r}, *extra])\n"
             f"    print(code, sorted(m for m in {HEAVY!r} if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    without, with_report = done.stdout.splitlines()
    assert without == "0 ['pandas', 'simpy']", done.stdout
    assert with_report == "0 ['matplotlib', 'pandas', 'simpy']", done.stdout
    assert (tmp_path / "run" / "report.html").is_file()


def test_every_command_parses_with_the_full_parser():
    parser = _parser()
    assert parser.parse_args(["validate", str(TINY)]).command == "validate"
    assert parser.parse_args(["optimize", "peak", str(TINY)]).model == "peak"


def test_the_optimize_choices_are_the_apis_models():
    assert OPTIMISERS == api.MODELS


def test_a_variant_without_overrides_is_refused_in_one_line():
    code, _, stderr = cli("compare", TINY, "--variant", "same", "--backend", "serial")
    assert code == 2
    assert stderr.count("\n") == 1
    assert stderr.startswith("error: --variant same needs at least one PATH=VALUE override")


def test_an_unknown_kpi_suggests_the_closest_and_lists_the_valid_ones():
    code, _, stderr = cli("run", TINY, "--replications", 2, "--days", 5, "--kpi", "margin",
                          "--backend", "serial")
    assert code == 2 and stderr.count("\n") == 1
    assert "unknown KPI 'margin' (did you mean contribution_margin_cny" in stderr
    assert "KPIs: orders, units_sold," in stderr and "fill_rate" in stderr


def test_percent_values_do_not_repeat_their_unit():
    table = kpi_table({"fill_rate": 0.989, "return_rate": 0.05, "orders": 10})
    rows = {line.split("  ")[0]: line for line in table.splitlines()[2:]}
    assert rows["Fill rate (units from stock)"].rstrip().endswith("98.9%")
    assert rows["Return rate"].rstrip().endswith("5.0%  of delivered")
    assert "% %" not in table


def test_no_eta_until_cells_after_the_warm_up_finish():
    progress = Progress()
    progress.start("sweep", 100)
    time.sleep(0.02)
    progress.update(1)  # the first task also paid for starting the pool
    assert progress.eta() is None
    progress.update(3)
    assert progress.eta() is None
    time.sleep(0.02)
    progress.update(4)
    eta = progress.eta()
    assert eta is not None
    assert eta < 96 / (4 / progress.elapsed)  # not the rate diluted by the warm-up


def test_a_first_update_of_many_cells_has_an_eta_at_once():
    stream = io.StringIO()
    progress = LineProgress(stream, interval=0.0)
    progress.start("sweep x", 100, done=20)
    time.sleep(0.01)
    progress.update(60)
    assert "ETA" in stream.getvalue()


def test_sweep_precision_is_relative_to_the_kpis_size_not_a_point_near_zero():
    watch = _Precision(points=3, kpis=["margin"], confidence=0.95)
    values = [1000.0, 1010.0, 2000.0, 2020.0, 1.0, -1.0]  # the last point's mean is 0
    watch.add(pd.DataFrame({"point": [0, 0, 1, 1, 2, 2], "margin": values}))
    note = watch.note()
    assert note.startswith("point means ±") and "widest margin" in note
    widths = [float(part.split("±")[1].split("%")[0]) for part in note.split(",")]
    assert all(np.isfinite(w) and w < 100 for w in widths), note


def test_a_quick_stage_leaves_no_line_and_a_slow_one_ticks():
    stream = io.StringIO()
    with Stopwatch(stream, interval=10).stage("quick"):
        pass
    assert stream.getvalue() == ""
    with Stopwatch(stream, interval=0.01).stage("slow"):
        time.sleep(0.05)
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("slow: ") and lines[0].endswith(" so far")
    assert lines[-1].startswith("slow: took ")


def test_a_failed_stage_ends_without_a_closing_line():
    stream = io.StringIO()
    with pytest.raises(ValueError), Stopwatch(stream, interval=0.01).stage("failing"):
        time.sleep(0.03)
        raise ValueError
    assert "took" not in stream.getvalue()
