"""``xbsim evaluate SCENARIO --plan PLAN`` and ``xbsim optimize ... --evaluate N``: the plan
and the scenario's rules on the same replication seeds, the verdict in words, the paired
differences and the plan's predictions; tables (parquet and CSV), manifest and report page.

A plan that loses to the rules is a finding: the command still exits 0.
"""

from __future__ import annotations

from pathlib import Path

from experiments.cli.output import cannot_write, report_page
from experiments.data.state import StateTable
from experiments.engine.backends import open_backend
from experiments.engine.progress import for_stream
from experiments.report.text import evaluation_report
from experiments.storage.names import OUT, safe_name
from experiments.storage.swap import claimed
from experiments.studies import evaluate as study


def evaluate_command(scenario_file: Path, plan_file: Path | None, overrides: list[str],
                     replications: int, seed: int = 0, days: int | None = None,
                     out: Path | None = None, backend: str = "local",
                     workers: int | None = None, address: str | None = None,
                     batch_seconds: float = 1.0, report: bool = True,
                     state: StateTable | None = None) -> int:
    """Run, print and write one evaluation (both arms from the opening ``state``, if any);
    the exit code (0 unless results cannot be written). Bad input raises the typed errors
    ``xbsim`` turns into one line."""
    model, plan = study.plan_model(scenario_file, plan_file, overrides, days, state)
    out = out or OUT / safe_name(model.name) / "evaluation"
    with claimed(out, "evaluation"):
        with open_backend(backend, workers, address) as pool:
            result = study.evaluate(model, plan, pool, replications, seed, for_stream(),
                                    batch_seconds)
            where = pool.describe()
        what = f"plan {plan_file}" if plan_file else (
            "its plan" if model.scenario().plan is not None else
            "its re-planning" if result.comparison is not None else "its own policies")
        against = (" against the rules, common random numbers" if result.comparison is not None
                   else "")
        start = f", from the state in {state.file}" if state is not None else ""
        print(f"{model.name}: {what}{against}{start}, {replications} replications (root seed "
              f"{seed}), {result.replications.stats.wall_seconds:.1f} s on {where}")
        if plan is not None and plan.scenario != model.name:
            print(f"note: the plan was made for scenario '{plan.scenario}'; its predictions are "
                  f"that scenario's")
        print(evaluation_report(result))
        manifest = study.manifest(result, model, scenario_file, plan_file, overrides,
                                  model.scenario().horizon.days if days is None else days, seed,
                                  where)
        try:
            written = study.write(out, result, manifest)
        except OSError as exc:
            return cannot_write(out, exc)
        print(f"\nresults: {out}/ ({', '.join(written)})")
        return report_page(out) if report else 0
