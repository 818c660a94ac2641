"""The options of the scenario commands (validate, show, run, evaluate, compare, sweep, tune,
report), apart from the code that runs them.

``xbsim`` builds only the parser of the command it is given, so ``xbsim --help`` and a
command's ``--help`` read these definitions without loading the simulation, pandas or the
solvers. A default whose one home is a heavy module is read from it inside the function that
defines that command's options, so only that command pays for it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from experiments.cli.limits import allowed
from experiments.engine.backends import KINDS

OPTIMISERS = ("channels", "ads", "frontier", "peak")
"""``api.MODELS``, spelled out so that the options load without the API (a test holds them
equal)."""


def scenario_arguments(p: argparse.ArgumentParser) -> None:
    """A scenario file and ``--set`` overrides: what validate and show take."""
    p.add_argument("scenario", type=Path, help="scenario YAML file")
    p.add_argument("--set", dest="overrides", action="append", default=[],
                   metavar="PATH=VALUE",
                   help="override a field by dotted path, e.g. markets.US.duty_rate=0.25 "
                        "(repeatable)")


def run_arguments(p: argparse.ArgumentParser) -> None:
    from experiments.studies.replications import DEFAULT_MAX_REPLICATIONS

    scenario_arguments(p)
    p.add_argument("--seed", type=int, default=0,
                   help="the run's seed; with --replications, the root seed from which each "
                        f"replication's seed is spawned (default 0; {allowed('seed')})")
    p.add_argument("--days", type=int, default=None, help="simulate only the first D days")
    p.add_argument("--out", type=Path, default=None,
                   help="output directory (default out/NAME, or out/NAME-replications)")
    p.add_argument("--replications", type=int, default=None, metavar="N",
                   help="run N replications and report each KPI's mean and 95 %% interval "
                        f"({allowed('replications')})")
    p.add_argument("--precision", type=float, default=None, metavar="P",
                   help="add replications until every watched KPI's relative half-width "
                        "is below P (e.g. 0.02); starts from --replications (default 10; P "
                        f"{allowed('precision')})")
    p.add_argument("--max-replications", type=int, default=DEFAULT_MAX_REPLICATIONS,
                   metavar="M", help="cap for --precision (default %(default)s; "
                                     f"{allowed('max_replications')})")
    p.add_argument("--kpi", dest="kpis", action="append", default=None, metavar="KPI",
                   help="KPI watched by --precision (repeatable; default: headline KPIs)")
    state_option(p)
    backend_options(p)
    report_option(p)


def evaluate_arguments(p: argparse.ArgumentParser) -> None:
    scenario_arguments(p)
    p.add_argument("--plan", type=Path, default=None,
                   help="plan file written by xbsim optimize (default: the scenario's own "
                        "plan or policies)")
    p.add_argument("--replications", type=int, default=10, metavar="N",
                   help=f"replications (default 10; {allowed('replications')})")
    p.add_argument("--seed", type=int, default=0, help=f"root seed (default 0; {allowed('seed')})")
    p.add_argument("--days", type=int, default=None, help="simulate only the first D days")
    p.add_argument("--out", type=Path, default=None,
                   help="output directory (default out/NAME/evaluation)")
    state_option(p)
    backend_options(p)
    report_option(p)


def optimize_arguments(p: argparse.ArgumentParser) -> None:
    from optimize import ads, channels, peak
    from optimize.solve import SolveOptions

    p.add_argument("model", choices=OPTIMISERS, help="which decision to optimise")
    p.add_argument("--out", type=Path, default=None,
                   help="output directory (default out/NAME/MODEL)")
    p.add_argument("--time-limit", type=float, default=None,
                   help=f"seconds per solve (default {SolveOptions.time_limit_s:g}; "
                        f"{allowed('time_limit')})")
    p.add_argument("--mip-gap", type=float, default=None,
                   help="relative MIP gap at which to stop (default: the model's: channels "
                        f"and frontier {channels.DEFAULT_OPTIONS.mip_gap:g}, ads "
                        f"{ads.DEFAULT_OPTIONS.mip_gap:g}, peak {peak.DEFAULT_OPTIONS.mip_gap:g})")
    p.add_argument("--method", choices=("auto", "monolithic", "decomposed"), default="auto",
                   help="channels: one MILP, or SKU families then SKUs with a proven gap "
                        f"(default auto: families above {channels.DECOMPOSE_FROM_SKUS} SKUs)")
    p.add_argument("--points", type=int, default=10,
                   help=f"frontier points (default 10; {allowed('points')})")
    p.add_argument("--metric", choices=("mean_days", "share_within"), default="mean_days",
                   help="frontier time measure: mean delivery days, or the share delivered "
                        "within --within-days")
    p.add_argument("--within-days", type=float, default=5.0,
                   help=f"N for --metric share_within (default 5; {allowed('within_days')})")
    p.add_argument("--stock-aware", action="store_true",
                   help="ads: plan spend against the stock the scenario's logistics (its rules "
                        "and the plan it names, e.g. --set plan=out/peak/plan.yaml) deliver, "
                        "simulated (planning.ads.stock_aware)")
    p.add_argument("--evaluate", type=int, default=None, metavar="N",
                   help="then judge the plan against the scenario's rules in N replications "
                        "on common random numbers (results in OUT/evaluation; "
                        f"{allowed('evaluate')})")
    scenario_arguments(p)
    state_option(p)
    report_option(p)


def compare_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenarios", type=Path, nargs="+", metavar="scenario",
                   help="scenario files (two or more, counting --variant)")
    p.add_argument("--variant", dest="variants", nargs="+", action="append", default=[],
                   metavar=("NAME", "PATH=VALUE"),
                   help="also compare the first scenario with these overrides, as NAME "
                        "(repeatable; at least one override each)")
    p.add_argument("--replications", type=int, default=10, metavar="N",
                   help=f"replications per scenario (default 10; {allowed('replications')})")
    p.add_argument("--seed", type=int, default=0, help=f"root seed (default 0; {allowed('seed')})")
    p.add_argument("--days", type=int, default=None, help="simulate only the first D days")
    p.add_argument("--kpi", dest="kpis", action="append", default=None, metavar="KPI",
                   help="KPI to compare (repeatable; default: headline KPIs)")
    p.add_argument("--independent", action="store_true",
                   help="independent seeds per scenario instead of common random numbers")
    p.add_argument("--out", type=Path, default=None,
                   help="also write samples, summary, differences and ranking here")
    backend_options(p)
    report_option(p)


def sweep_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("sweep", type=Path, help="sweep YAML file")
    p.add_argument("--out", type=Path, default=None,
                   help="results directory (default out/sweeps/NAME); re-run to resume")
    p.add_argument("--force", action="store_true",
                   help="discard results in --out made with another sweep file, scenario "
                        "or code version")
    backend_options(p)
    report_option(p)


def tune_arguments(p: argparse.ArgumentParser) -> None:
    from experiments.studies.tune import DEFAULT_BATCH

    scenario_arguments(p)
    p.add_argument("--param", dest="params", action="append", default=[], required=True,
                   metavar="PATH=LOW:HIGH", help="a numeric field to tune, by dotted path "
                   "(repeatable); integers stay integers")
    p.add_argument("--objective", required=True, metavar="KPI", help="KPI to optimise")
    p.add_argument("--constraint", dest="constraints", action="append", default=[],
                   metavar="'KPI>=VALUE'", help="on the replication mean (repeatable; >= or <=)")
    sense = p.add_mutually_exclusive_group()
    sense.add_argument("--minimize", action="store_true", help="minimise the objective "
                       "(default: the KPI's own direction)")
    sense.add_argument("--maximize", action="store_true", help="maximise the objective")
    p.add_argument("--budget", type=int, required=True, metavar="N",
                   help=f"trials to run ({allowed('budget')})")
    p.add_argument("--replications", type=int, default=10, metavar="R",
                   help="replications per trial, the same seeds for every trial (default 10; "
                        f"{allowed('replications')})")
    p.add_argument("--batch-trials", type=int, default=DEFAULT_BATCH, metavar="B",
                   help="trials asked together (default %(default)s; the result depends on "
                        f"it, not on the backend or --workers; {allowed('batch_trials')})")
    p.add_argument("--seed", type=int, default=0, help="root seed and sampler seed (default 0; "
                                        f"{allowed('seed')})")
    p.add_argument("--days", type=int, default=None, help="simulate only the first D days")
    p.add_argument("--out", type=Path, default=None,
                   help="results directory (default out/NAME-tune)")
    backend_options(p)
    report_option(p)


def report_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("directory", type=Path, metavar="DIR",
                   help="results directory of run, evaluate, compare --out, sweep, tune or "
                        "optimize")


def state_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--state", type=Path, default=None, metavar="FILE",
                   help="start from where the seller stands today: the canonical state table "
                        "(.csv, .xlsx sheet 'state' or .parquet) of stock on hand, in transit "
                        "and on order, backlog and ad carry-over")


def report_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-report", action="store_true",
                   help="do not write report.html and figures/ into the results directory")


def backend_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backend", choices=KINDS, default="local",
                   help="local process pool (default), dask, or serial (this process)")
    p.add_argument("--workers", type=int, default=None, metavar="K",
                   help="worker processes (default: one per core)")
    p.add_argument("--address", default=None, metavar="tcp://HOST:PORT",
                   help="Dask scheduler to use instead of a LocalCluster")
    p.add_argument("--batch-seconds", type=float, default=1.0, metavar="S",
                   help=f"group cells into tasks of about S seconds (default 1; "
                        f"{allowed('batch_seconds')})")
