"""The ``xbsim`` command: validate, show, run, optimize, compare and sweep scenarios, and
write the HTML report of a results directory.

Library code raises typed exceptions; only this module turns them into one line on stderr
and an exit code (2 for bad input), so users never see a traceback for a bad file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from experiments.api import scenario_models, with_variants
from experiments.cli import backtest as backtest_cli
from experiments.cli import calibrate as calibrate_cli
from experiments.cli import data_import, data_template, export
from experiments.cli.evaluate import evaluate_command
from experiments.cli.optimize import (
    add_arguments,
    evaluate_written,
    optimise,
    summary_table,
    write_outcome,
)
from experiments.cli.output import cannot_write, report_page
from experiments.data.state import StateTable, read_state
from experiments.engine.backends import KINDS, open_backend
from experiments.engine.models import ScenarioModel
from experiments.engine.progress import for_stream
from experiments.engine.replanning import replan_policy
from experiments.errors import CellError, ExperimentError
from experiments.kpis import check_scenario_kpis
from experiments.report.sections_tune import tune_report
from experiments.report.tables import kpi_table
from experiments.report.text import (
    comparison_report,
    replications_report,
    sweep_report,
)
from experiments.storage.manifest import CompareManifest, ReplicationsManifest
from experiments.storage.runstore import OutputDirectoryError, write_run
from experiments.storage.tablestore import write_tables
from experiments.studies import tune as tuning
from experiments.studies.comparison import compare
from experiments.studies.replications import DEFAULT_MAX_REPLICATIONS, replicate
from experiments.studies.sweep import run_sweep
from experiments.studies.sweepfile import load_sweep
from optimize.solve import SolveError
from sim.loader import ScenarioError, load_scenario
from sim.model import simulate
from sim.plan import PlanFileError

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

DATA_COMMANDS = {
    "template": ("write the empty data workbook (DIR/xbsim_data.xlsx, README and one sheet per "
                 "table) and DIR/csv/ headers a seller fills in",
                 data_template.add_arguments, data_template.template_command),
    "import": ("read a seller's exports and filled-in template into canonical tables "
               "(DIR/<table>.parquet), reporting every problem",
               data_import.add_arguments, data_import.import_command),
    "calibrate": ("fit a scenario to a seller's data directory (written by import), with a "
                  "fit report", calibrate_cli.add_arguments, calibrate_cli.calibrate_command),
    "backtest": ("simulate the actuals' period N times and score the scenario against them",
                 backtest_cli.add_arguments, backtest_cli.backtest_command),
    "export": ("write every table, plan and summary of a results directory to one Excel "
               "workbook (DIR/results.xlsx)", export.add_arguments, export.export_command),
}
"""A seller's data in and results out: name -> (help, add_arguments, command)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xbsim", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def scenario_command(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.add_argument("scenario", type=Path, help="scenario YAML file")
        p.add_argument("--set", dest="overrides", action="append", default=[],
                       metavar="PATH=VALUE", help="override a field by dotted path")
        return p

    scenario_command("validate", "check a scenario file")
    scenario_command("show", "print the fully resolved scenario as YAML")
    run = scenario_command("run", "simulate a scenario (once, or replicated) and write results")
    run.add_argument("--seed", type=int, default=0,
                     help="the run's seed; with --replications, the root seed from which each "
                          "replication's seed is spawned (default 0)")
    run.add_argument("--days", type=int, default=None, help="simulate only the first D days")
    run.add_argument("--out", type=Path, default=None, help="output directory")
    run.add_argument("--replications", type=int, default=None, metavar="N",
                     help="run N replications and report each KPI's mean and 95 %% interval")
    run.add_argument("--precision", type=float, default=None, metavar="P",
                     help="add replications until every watched KPI's relative half-width "
                          "is below P (e.g. 0.02); starts from --replications (default 10)")
    run.add_argument("--max-replications", type=int, default=DEFAULT_MAX_REPLICATIONS,
                     metavar="M", help="cap for --precision (default %(default)s)")
    run.add_argument("--kpi", dest="kpis", action="append", default=None, metavar="KPI",
                     help="KPI watched by --precision (repeatable; default: headline KPIs)")
    _state_option(run)
    _backend_options(run)
    _report_option(run)

    ev = scenario_command("evaluate", "judge a plan against the scenario's rules on common "
                                      "random numbers, beside the plan's prediction")
    ev.add_argument("--plan", type=Path, default=None,
                    help="plan file written by xbsim optimize (default: the scenario's own "
                         "plan or policies)")
    ev.add_argument("--replications", type=int, default=10, metavar="N",
                    help="replications (default 10)")
    ev.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    ev.add_argument("--days", type=int, default=None, help="simulate only the first D days")
    ev.add_argument("--out", type=Path, default=None, help="output directory")
    _state_option(ev)
    _backend_options(ev)
    _report_option(ev)

    opt = sub.add_parser("optimize", help="find the best channel mix, ad plan, time-versus-"
                                          "cost frontier or peak-season order plan")
    add_arguments(opt)
    opt.add_argument("scenario", type=Path, help="scenario YAML file")
    opt.add_argument("--set", dest="overrides", action="append", default=[],
                     metavar="PATH=VALUE", help="override a field by dotted path")
    _state_option(opt)
    _report_option(opt)

    cmp = sub.add_parser("compare", help="compare scenarios on common random numbers")
    cmp.add_argument("scenarios", type=Path, nargs="+", metavar="scenario",
                     help="scenario files (two or more, counting --variant)")
    cmp.add_argument("--variant", dest="variants", nargs="+", action="append", default=[],
                     metavar=("NAME", "PATH=VALUE"),
                     help="also compare the first scenario with these overrides, as NAME "
                          "(repeatable)")
    cmp.add_argument("--replications", type=int, default=10, metavar="N",
                     help="replications per scenario (default 10)")
    cmp.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    cmp.add_argument("--days", type=int, default=None, help="simulate only the first D days")
    cmp.add_argument("--kpi", dest="kpis", action="append", default=None, metavar="KPI",
                     help="KPI to compare (repeatable; default: headline KPIs)")
    cmp.add_argument("--independent", action="store_true",
                     help="independent seeds per scenario instead of common random numbers")
    cmp.add_argument("--out", type=Path, default=None,
                     help="also write samples, summary, differences and ranking here")
    _backend_options(cmp)
    _report_option(cmp)

    swp = sub.add_parser("sweep", help="run (or resume) a sweep file")
    swp.add_argument("sweep", type=Path, help="sweep YAML file")
    swp.add_argument("--out", type=Path, default=None,
                     help="results directory (default out/sweeps/NAME); re-run to resume")
    swp.add_argument("--force", action="store_true",
                     help="discard results in --out made with another sweep file, scenario "
                          "or code version")
    _backend_options(swp)
    _report_option(swp)

    tun = scenario_command("tune", "search scenario parameters for the best KPI on common "
                                    "random numbers (optuna TPE)")
    tun.add_argument("--param", dest="params", action="append", default=[], required=True,
                     metavar="PATH=LOW:HIGH", help="a numeric field to tune, by dotted path "
                     "(repeatable); integers stay integers")
    tun.add_argument("--objective", required=True, metavar="KPI", help="KPI to optimise")
    tun.add_argument("--constraint", dest="constraints", action="append", default=[],
                     metavar="'KPI>=VALUE'", help="on the replication mean (repeatable; >= or <=)")
    sense = tun.add_mutually_exclusive_group()
    sense.add_argument("--minimize", action="store_true", help="minimise the objective "
                       "(default: the KPI's own direction)")
    sense.add_argument("--maximize", action="store_true", help="maximise the objective")
    tun.add_argument("--budget", type=int, required=True, metavar="N", help="trials to run")
    tun.add_argument("--replications", type=int, default=10, metavar="R",
                     help="replications per trial, the same seeds for every trial (default 10)")
    tun.add_argument("--batch-trials", type=int, default=tuning.DEFAULT_BATCH, metavar="B",
                     help="trials asked together (default %(default)s; the result depends on "
                          "it, not on the backend or --workers)")
    tun.add_argument("--seed", type=int, default=0, help="root seed and sampler seed (default 0)")
    tun.add_argument("--days", type=int, default=None, help="simulate only the first D days")
    tun.add_argument("--out", type=Path, default=None,
                     help="results directory (default out/NAME-tune)")
    _backend_options(tun)
    _report_option(tun)

    rep = sub.add_parser("report", help="write DIR/report.html (and DIR/figures/) for the "
                                        "results of run, compare --out, sweep or optimize")
    rep.add_argument("directory", type=Path, metavar="DIR", help="results directory")
    for name, (help_text, add, _) in DATA_COMMANDS.items():
        add(sub.add_parser(name, help=help_text))
    return parser


def _state_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--state", type=Path, default=None, metavar="FILE",
                   help="start from where the seller stands today: the canonical state table "
                        "(.csv, .xlsx sheet 'state' or .parquet) of stock on hand, in transit "
                        "and on order, backlog and ad carry-over")


def _report_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-report", action="store_true",
                   help="do not write report.html and figures/ into the results directory")


def _backend_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backend", choices=KINDS, default="local",
                   help="local process pool (default), dask, or serial (this process)")
    p.add_argument("--workers", type=int, default=None, metavar="K",
                   help="worker processes (default: one per core)")
    p.add_argument("--address", default=None, metavar="tcp://HOST:PORT",
                   help="Dask scheduler to use instead of a LocalCluster")
    p.add_argument("--batch-seconds", type=float, default=1.0, metavar="S",
                   help="group cells into tasks of about S seconds (default 1)")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except (ScenarioError, ExperimentError, SolveError, PlanFileError) as exc:
        return _bad_input(exc)
    except CellError as exc:
        if not exc.bad_input:
            raise
        return _bad_input(exc)
    except KeyboardInterrupt:
        where = (f"; finished cells are kept in {args.out}, run the same command to resume"
                 if args.command == "sweep" and args.out else "")
        print(f"interrupted{where}", file=sys.stderr)
        return EXIT_INTERRUPTED


def _bad_input(exc: Exception) -> int:
    print(f"error: {exc}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _dispatch(args: argparse.Namespace) -> int:
    if args.command in DATA_COMMANDS:
        return DATA_COMMANDS[args.command][2](args)
    if args.command == "report":
        return report_page(args.directory)
    if args.command == "compare":
        return _compare(args)
    if args.command == "sweep":
        return _sweep(args)
    if args.command == "tune":
        return _tune(args)
    if getattr(args, "stock_aware", False):
        args.overrides = [*args.overrides, "planning.ads.stock_aware=true"]
    scenario = load_scenario(args.scenario, args.overrides)
    if args.command == "validate":
        print(f"{args.scenario}: ok ({scenario.name}: {len(scenario.markets)} markets, "
              f"{len(scenario.skus)} SKUs, {scenario.horizon.days} days)")
        return 0
    if args.command == "optimize":
        return _optimize(args, scenario)
    if args.command == "evaluate":
        return _evaluate(args)
    if args.command == "show":
        print(yaml.safe_dump(scenario.model_dump(mode="json", by_alias=True), sort_keys=False),
              end="")
        return 0
    if args.replications is not None or args.precision is not None:
        return _replicate(args)
    return _run(args, scenario)


def _state(args: argparse.Namespace) -> StateTable | None:
    """The rows of ``--state FILE``, if given (``StateFileError`` if it cannot be used)."""
    return read_state(args.state) if args.state is not None else None


def _run(args: argparse.Namespace, scenario) -> int:
    if args.days is not None and not 0 < args.days <= scenario.horizon.days:
        print(f"error: --days must be between 1 and {scenario.horizon.days}", file=sys.stderr)
        return EXIT_BAD_INPUT
    out = args.out or Path("out") / scenario.name
    state = _state(args)
    result = simulate(scenario, seed=args.seed, days=args.days,
                      policy=replan_policy(scenario),
                      state=state.opening(scenario) if state is not None else None)
    try:
        write_run(result, out, str(args.scenario),
                  state_file=state.file if state is not None else None,
                  state_hash=state.fingerprint() if state is not None else None)
    except OutputDirectoryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        return cannot_write(out, exc)
    days = result.scenario.horizon.days
    print(f"{scenario.name}: {days} days, seed {args.seed}, "
          f"{result.summary['orders']:,} orders in {result.wall_seconds:.2f} s")
    print(kpi_table(result.summary))
    print(f"\nresults: {out}/ (orders, daily, shipments, ledger, tickets .parquet; "
          "summary.json; manifest.json)")
    return 0 if args.no_report else report_page(out)


def _optimize(args: argparse.Namespace, scenario) -> int:
    out = args.out or Path("out") / scenario.name / args.model
    state = _state(args)
    outcome = optimise(args, scenario, state.opening(scenario) if state is not None else None)
    try:
        written = write_outcome(outcome, out, args.model)
    except OSError as exc:
        return cannot_write(out, exc)
    print(f"{scenario.name}: {args.model} plan")
    print(summary_table(outcome))
    names = sorted({p.name if p.parent == out else f"{p.parent.name}/" for p in written})
    print(f"\nresults: {out}/ ({', '.join(names)})")
    return (0 if args.no_report else report_page(out)) or evaluate_written(args, out, state)


def _evaluate(args: argparse.Namespace) -> int:
    return evaluate_command(args.scenario, args.plan, args.overrides, args.replications,
                            args.seed, args.days, args.out, args.backend, args.workers,
                            args.address, args.batch_seconds, not args.no_report,
                            _state(args))


def _replicate(args: argparse.Namespace) -> int:
    model = ScenarioModel.from_file(args.scenario, args.overrides, args.days, _state(args))
    check_scenario_kpis(args.kpis or ())
    out = args.out or Path("out") / f"{model.name}-replications"
    with _backend(args) as backend:
        reps = replicate(model, backend, args.replications, args.seed, args.precision,
                         args.kpis, args.max_replications, progress=for_stream(),
                         batch_seconds=args.batch_seconds)
        where = backend.describe()
    days = _days(model, args.days)
    manifest = ReplicationsManifest(
        scenario_file=str(args.scenario), scenario_hash=model.fingerprint(),
        overrides=list(args.overrides), days=days, root_seed=args.seed,
        replication_seeds=reps.samples["seed"].tolist(), watched_kpis=list(reps.watched),
        precision=args.precision, backend=where,
        state_file=model.state.file if model.state is not None else None,
        state_hash=model.state.fingerprint() if model.state is not None else None)
    try:
        written = write_tables(out, {"replications": reps.samples,
                                     "summary": reps.summary.reset_index()}, manifest)
    except OSError as exc:
        return cannot_write(out, exc)
    print(f"{model.name}: {len(reps.samples)} replications of {days} days, root seed "
          f"{args.seed}, {reps.stats.wall_seconds:.1f} s on {where}")
    print(replications_report(reps))
    print(f"\nresults: {out}/ ({', '.join(written)})")
    return 0 if args.no_report else report_page(out)


def _compare(args: argparse.Namespace) -> int:
    variants = {name: overrides for name, *overrides in args.variants}
    if len(variants) < len(args.variants):
        raise ExperimentError("--variant names must differ")
    models = with_variants(scenario_models(args.scenarios, args.days), variants)
    check_scenario_kpis(args.kpis or ())
    with _backend(args) as backend:
        result = compare(models, backend, args.replications, args.seed, not args.independent,
                         args.kpis, progress=for_stream(), batch_seconds=args.batch_seconds)
        where = backend.describe()
    seeds = "independent seeds" if args.independent else "common random numbers"
    print(f"compare {', '.join(result.labels)}: {args.replications} replications each, {seeds} "
          f"(root seed {args.seed}), {result.stats.wall_seconds:.1f} s on {where}\n")
    print(comparison_report(result))
    if args.out:
        manifest = CompareManifest(
            scenario_files=[str(s) for s in args.scenarios], variants=variants,
            scenario_hashes={k: m.fingerprint() for k, m in models.items()},
            root_seed=args.seed, common_random_numbers=not args.independent,
            replications=args.replications, backend=where)
        try:
            written = write_tables(args.out, {
                "samples": result.samples, "summary": result.summary.reset_index(),
                "differences": result.differences, "ranking": result.ranking}, manifest)
        except OSError as exc:
            return cannot_write(args.out, exc)
        print(f"\nresults: {args.out}/ ({', '.join(written)})")
        return 0 if args.no_report else report_page(args.out)
    return 0


def _sweep(args: argparse.Namespace) -> int:
    sweep = load_sweep(args.sweep)
    out = args.out or Path("out") / "sweeps" / sweep.spec.name
    args.out = out
    with _backend(args) as backend:
        result = run_sweep(sweep, backend, out, args.force, for_stream(), args.batch_seconds)
        where = backend.describe()
    spec, stats = sweep.spec, result.stats
    rate = f", {stats.cells / stats.wall_seconds:.2f} cells/s" if stats.cells else ""
    print(f"sweep {spec.name}: {sweep.design.kind} design, {len(sweep.design)} points x "
          f"{spec.replications} replications = {sweep.cells} cells; {result.cells_before} "
          f"done earlier, {stats.cells} run now in {stats.wall_seconds:.1f} s on {where}{rate}")
    print(sweep_report(result))
    files = sorted(p.name for p in out.iterdir() if p.is_file() and not p.name.startswith("."))
    print(f"\nresults: {out}/ ({', '.join(files)})")
    return 0 if args.no_report else report_page(out)


def _tune(args: argparse.Namespace) -> int:
    model, parameters = tuning.build(args.scenario, args.params, args.overrides, args.days)
    sense, constraints = tuning.resolve_objective(model, args.objective, args.constraints,
                                                  args.minimize, args.maximize)
    out = args.out or Path("out") / f"{getattr(model, 'name', 'model')}-tune"
    with _backend(args) as backend:
        result = tuning.tune(model, parameters, args.objective, backend, args.budget,
                             args.replications, args.seed, sense, constraints,
                             args.batch_trials, for_stream(), args.batch_seconds)
        where = backend.describe()
    print(f"tune {result.name}: {args.budget} trials x {args.replications} replications "
          f"(root seed {args.seed}, {args.batch_trials} trials at a time), "
          f"{result.stats.wall_seconds:.1f} s on {where}\n")
    print(tune_report(result))
    manifest = tuning.manifest_for(result, str(args.scenario), model, args.overrides,
                                   args.days, args.budget, where)
    try:
        written = tuning.save(result, model, out, manifest)
    except OSError as exc:
        return cannot_write(out, exc)
    print(f"\nresults: {out}/ ({', '.join(written)})")
    return 0 if args.no_report else report_page(out)


def _days(model: ScenarioModel, days: int | None) -> int:
    """The days a replication simulates: ``--days``, else the scenario's horizon."""
    return model.scenario().horizon.days if days is None else days


def _backend(args: argparse.Namespace):
    return open_backend(args.backend, args.workers, args.address)


if __name__ == "__main__":
    sys.exit(main())
