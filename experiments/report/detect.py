"""What a results directory holds, read from the files the xbsim commands write there.

``xbsim run`` writes a manifest with the resolved scenario next to its tables; ``run
--replications``, ``evaluate`` and ``compare --out`` write manifests naming their command; a sweep's
manifest says ``kind: xbsim sweep``; ``xbsim optimize`` writes ``plan.yaml``, whose ``kind``
names the model. The report trusts these markers, never the directory's name, and refuses a
directory that has none of them or lacks a table its kind must have.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from experiments.errors import ExperimentError
from experiments.sweepstore import KIND as SWEEP_KIND
from sim.plan import Plan

Kind = Literal["run", "replications", "evaluation", "compare", "sweep", "frontier", "ads",
               "channels", "peak"]

REQUIRED: dict[str, tuple[str, ...]] = {
    "run": ("summary.json", "daily.parquet", "orders.parquet", "shipments.parquet",
            "ledger.parquet", "tickets.parquet"),
    "replications": ("replications.parquet", "summary.parquet"),
    "evaluation": ("evaluation.parquet", "replications.parquet", "summary.parquet"),
    "compare": ("samples.parquet", "summary.parquet", "differences.parquet",
                "ranking.parquet"),
    "sweep": ("results.parquet", "points.parquet"),
    "frontier": ("frontier.parquet",),
    "ads": ("allocation.parquet", "channels.parquet", "curves.parquet"),
    "channels": ("flows.parquet", "costs.parquet", "mix.parquet"),
    "peak": ("commitments.parquet", "value.parquet"),
}
"""Tables each kind of result must hold before a report can be drawn from it."""


class ReportError(ExperimentError):
    """A directory no report can be made of; ``str()`` is ``DIR: reason``."""

    def __init__(self, directory: Path, reason: str) -> None:
        super().__init__(f"{directory}: {reason}")


@dataclass(frozen=True)
class Result:
    """A results directory and what it holds: ``manifest`` for simulation results,
    ``plan`` for an optimiser's output."""

    kind: Kind
    directory: Path
    manifest: dict[str, Any] = field(default_factory=dict)
    plan: Plan | None = None

    def file(self, name: str) -> Path:
        return self.directory / name


def detect(directory: Path) -> Result:
    """Classify ``directory``; raises ``ReportError`` when it holds no usable xbsim result."""
    directory = Path(directory)
    if not directory.exists():
        raise ReportError(directory, "no such directory")
    if not directory.is_dir():
        raise ReportError(directory, "not a directory")
    if (directory / "manifest.json").is_file():
        result = _from_manifest(directory)
    elif (directory / "plan.yaml").is_file():
        result = _from_plan(directory)
    else:
        raise ReportError(directory, "holds no xbsim result (no manifest.json or plan.yaml)")
    missing = [name for name in REQUIRED[result.kind] if not (directory / name).is_file()]
    if result.kind == "sweep" and missing:
        raise ReportError(directory, "the sweep has not finished (no results.parquet); run "
                                     "the same xbsim sweep command to finish it")
    if missing:
        raise ReportError(directory, f"holds an xbsim {result.kind} result without "
                                     f"{', '.join(missing)}")
    return result


def _from_manifest(directory: Path) -> Result:
    try:
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReportError(directory, f"manifest.json cannot be read ({exc})") from None
    if not isinstance(manifest, dict):
        raise ReportError(directory, "manifest.json is not an xbsim manifest")
    if manifest.get("kind") == SWEEP_KIND:
        return Result("sweep", directory, manifest)
    command = manifest.get("command")
    if command == "run":
        return Result("replications", directory, manifest)
    if command == "evaluate":
        return Result("evaluation", directory, manifest)
    if command == "compare":
        return Result("compare", directory, manifest)
    if command is None and isinstance(manifest.get("scenario"), dict) and "seed" in manifest:
        return Result("run", directory, manifest)
    if isinstance(command, str):
        raise ReportError(directory, f"there is no report for an xbsim {command} result")
    raise ReportError(directory, "manifest.json is not an xbsim manifest")


def _from_plan(directory: Path) -> Result:
    """The plan, read with libyaml: ``sim.plan.load_plan``'s pure-Python parser takes ~2 s
    on the 1 MB plan of a year's channel mix, libyaml ~0.5 s."""
    try:
        data = yaml.load((directory / "plan.yaml").read_text(encoding="utf-8"),
                         Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        plan = Plan.model_validate(data)
    except (OSError, ValueError, yaml.YAMLError, ValidationError) as exc:
        reason = str(exc).splitlines()[0]
        raise ReportError(directory, f"plan.yaml is not an xbsim plan ({reason})") from None
    if plan.kind not in REQUIRED:
        raise ReportError(directory, f"there is no report for a '{plan.kind}' plan")
    return Result(plan.kind, directory, plan=plan)
