"""What the scenario commands do once parsed: validate, show, run (once or replicated),
evaluate, compare, sweep, tune and report. ``xbsim`` imports this module only when one of
them runs, so its help and its errors for a mistyped option never load the simulation.

Each returns the exit code; bad input raises the library's typed errors, which ``main``
turns into one line.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

import yaml

from experiments.api import check_variants, scenario_models, with_variants
from experiments.cli.evaluate import evaluate_command
from experiments.cli.output import cannot_write, report_page
from experiments.data.state import StateTable, read_state
from experiments.engine.backends import Backend, open_backend
from experiments.engine.models import Model, ScenarioModel
from experiments.engine.progress import Stopwatch, for_stream
from experiments.engine.replanning import replan_policy
from experiments.errors import ExperimentError
from experiments.kpis import check_scenario_kpis
from experiments.report.sections_tune import tune_report
from experiments.report.tables import kpi_table
from experiments.report.text import comparison_report, replications_report, sweep_report
from experiments.storage.integrity import check_readable
from experiments.storage.manifest import CompareManifest, ReplicationsManifest
from experiments.storage.names import OUT, safe_name
from experiments.storage.runstore import simulate_run
from experiments.storage.swap import claimed
from experiments.storage.tablestore import write_tables
from experiments.studies import tune as tuning
from experiments.studies.comparison import compare
from experiments.studies.replications import replicate
from experiments.studies.sweep import run_sweep
from experiments.studies.sweepfile import load_sweep
from sim.loader import load_scenario
from sim.model import simulate
from sim.results import RunResult
from sim.scenario import Scenario
from sim.tables import TableSink

EXIT_BAD_INPUT = 2


def show_command(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario, args.overrides)
    print(yaml.safe_dump(scenario.model_dump(mode="json", by_alias=True), sort_keys=False),
          end="")
    return 0


def run_command(args: argparse.Namespace) -> int:
    """One run, or replications when ``--replications`` or ``--precision`` is given."""
    if args.replications is not None or args.precision is not None:
        return _replicate(args)
    scenario = load_scenario(args.scenario, args.overrides)
    if args.days is not None and not 0 < args.days <= scenario.horizon.days:
        print(f"error: --days must be between 1 and {scenario.horizon.days}", file=sys.stderr)
        return EXIT_BAD_INPUT
    out = args.out or OUT / safe_name(scenario.name)
    state = _state(args)
    days = args.days or scenario.horizon.days
    def run(sink: TableSink) -> RunResult:
        with Stopwatch().stage(f"{scenario.name}: simulating {days} days"):
            return simulate(scenario, seed=args.seed, days=args.days,
                            policy=replan_policy(scenario),
                            state=state.opening(scenario) if state is not None else None,
                            sink=sink)

    with claimed(out, "run"):
        try:
            result, _ = simulate_run(out, run, str(args.scenario),
                                     state_file=state.file if state is not None else None,
                                     state_hash=state.fingerprint() if state is not None
                                     else None)
        except OSError as exc:
            return cannot_write(out, exc)
        _print_run(args, result, out)
        return 0 if args.no_report else report_page(out)


def _print_run(args: argparse.Namespace, result: RunResult, out: Path) -> None:
    print(f"{result.scenario.name}: {result.scenario.horizon.days} days, seed {args.seed}, "
          f"{result.summary['orders']:,} orders in {result.wall_seconds:.2f} s")
    print(kpi_table(result.summary))
    print(f"\nresults: {out}/ ({', '.join(result.tables())} .parquet; "
          "summary.json; manifest.json)")


def evaluate(args: argparse.Namespace) -> int:
    return evaluate_command(args.scenario, args.plan, args.overrides, args.replications,
                            args.seed, args.days, args.out, args.backend, args.workers,
                            args.address, args.batch_seconds, not args.no_report,
                            _state(args))


def report_command(args: argparse.Namespace) -> int:
    check_readable(args.directory)
    return report_page(args.directory)


def _state(args: argparse.Namespace) -> StateTable | None:
    """The rows of ``--state FILE``, if given (``StateFileError`` if it cannot be used)."""
    return read_state(args.state) if args.state is not None else None


def _replicate(args: argparse.Namespace) -> int:
    check_scenario_kpis(args.kpis or ())
    model = ScenarioModel.from_file(args.scenario, args.overrides, args.days, _state(args))
    out = args.out or OUT / f"{safe_name(model.name)}-replications"
    with claimed(out, "replications"):
        return _replicate_into(args, model, out)


def _replicate_into(args: argparse.Namespace, model: ScenarioModel, out: Path) -> int:
    with _backend(args) as backend:
        reps = replicate(model, backend, args.replications, args.seed, args.precision,
                         args.kpis, args.max_replications, progress=for_stream(),
                         batch_seconds=args.batch_seconds)
        where = backend.describe()
    days = _days(model.scenario(), args.days)
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


def compare_command(args: argparse.Namespace) -> int:
    variants = {name: overrides for name, *overrides in args.variants}
    if len(variants) < len(args.variants):
        raise ExperimentError("--variant names must differ")
    check_variants(variants)  # before the scenarios load: a mistake costs no wait
    check_scenario_kpis(args.kpis or ())
    models = with_variants(scenario_models(args.scenarios, args.days), variants)
    with claimed(args.out, "compare") if args.out else contextlib.nullcontext():
        return _compare(args, variants, models)


def _compare(args: argparse.Namespace, variants: dict[str, list[str]],
             models: dict[str, ScenarioModel]) -> int:
    with _backend(args) as backend:
        result = compare(models, backend, args.replications, args.seed, not args.independent,
                         args.kpis, progress=for_stream(), batch_seconds=args.batch_seconds)
        where = backend.describe()
    seeds = "independent seeds" if args.independent else "common random numbers"
    print(f"compare {', '.join(result.labels)}: {args.replications} replications each, {seeds} "
          f"(root seed {args.seed}), {result.stats.wall_seconds:.1f} s on {where}\n")
    print(comparison_report(result))
    if not args.out:
        return 0
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


def sweep_command(args: argparse.Namespace) -> int:
    sweep = load_sweep(args.sweep)
    out = args.out or OUT / "sweeps" / safe_name(sweep.spec.name)
    args.out = out  # named by the interruption message
    try:
        with _backend(args) as backend:
            result = run_sweep(sweep, backend, out, args.force, for_stream(),
                               args.batch_seconds)
            where = backend.describe()
    except OSError as exc:
        return cannot_write(out, exc)
    spec, stats = sweep.spec, result.stats
    rate = f", {stats.cells / stats.wall_seconds:.2f} cells/s" if stats.cells else ""
    print(f"sweep {spec.name}: {sweep.design.kind} design, {len(sweep.design)} points x "
          f"{spec.replications} replications = {sweep.cells} cells; {result.cells_before} "
          f"done earlier, {stats.cells} run now in {stats.wall_seconds:.1f} s on {where}{rate}")
    print(sweep_report(result))
    files = sorted(p.name for p in out.iterdir() if p.is_file() and not p.name.startswith("."))
    print(f"\nresults: {out}/ ({', '.join(files)})")
    return 0 if args.no_report else report_page(out)


def tune_command(args: argparse.Namespace) -> int:
    model, parameters = tuning.build(args.scenario, args.params, args.overrides, args.days)
    sense, constraints = tuning.resolve_objective(model, args.objective, args.constraints,
                                                  args.minimize, args.maximize)
    out = args.out or OUT / f"{safe_name(getattr(model, 'name', 'model'))}-tune"
    with claimed(out, tuning.TUNE):
        return _tune(args, model, parameters, sense, constraints, out)


def _tune(args: argparse.Namespace, model: Model, parameters: list[tuning.Parameter],
          sense: int, constraints: list[tuning.Constraint], out: Path) -> int:
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


def _days(scenario: Scenario, days: int | None) -> int:
    """The days a replication simulates: ``--days``, else the scenario's horizon."""
    return scenario.horizon.days if days is None else days


def _backend(args: argparse.Namespace) -> Backend:
    return open_backend(args.backend, args.workers, args.address)

