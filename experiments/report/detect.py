"""What a results directory holds, read from the files the xbsim commands write there.

Simulation results carry a manifest whose ``kind`` names the result
(``experiments.storage.manifest``); ``xbsim optimize`` writes ``plan.yaml``, whose ``kind``
names the model. The report trusts these markers, never the directory's name, and refuses a
directory that has none of them or lacks a table its kind must have.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import ValidationError

from experiments.storage.manifest import FILE, Manifest, ManifestError, read_manifest
from sim.plan import Plan

Kind = Literal["run", "replications", "evaluation", "compare", "sweep", "tune", "frontier",
               "ads", "channels", "peak"]
PLAN_KINDS: dict[str, Kind] = {"frontier": "frontier", "ads": "ads", "channels": "channels",
                               "peak": "peak"}
"""The plans a report can be drawn of, by their ``kind``."""

REQUIRED: dict[str, tuple[str, ...]] = {
    "run": ("summary.json", "daily.parquet", "orders.parquet", "shipments.parquet",
            "ledger.parquet", "tickets.parquet"),
    "replications": ("replications.parquet", "summary.parquet"),
    "evaluation": ("evaluation.parquet", "replications.parquet", "summary.parquet"),
    "compare": ("samples.parquet", "summary.parquet", "differences.parquet",
                "ranking.parquet"),
    "sweep": ("results.parquet", "points.parquet"),
    "tune": ("trials.parquet", "best.parquet", "validation.parquet"),
    "frontier": ("frontier.parquet",),
    "ads": ("allocation.parquet", "channels.parquet", "curves.parquet"),
    "channels": ("flows.parquet", "costs.parquet", "mix.parquet"),
    "peak": ("commitments.parquet", "value.parquet"),
}
"""Tables each kind of result must hold before a report can be drawn from it."""


class ReportError(ManifestError):
    """A directory no report can be made of; ``str()`` is ``DIR: reason``."""


@dataclass(frozen=True)
class Result:
    """A results directory and what it holds: ``manifest`` for simulation results,
    ``plan`` for an optimiser's output."""

    kind: Kind
    directory: Path
    manifest: Manifest | None = None
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
    if (directory / FILE).is_file():
        try:
            manifest = read_manifest(directory)
        except ManifestError as exc:
            raise ReportError(directory, exc.reason) from None
        result = Result(manifest.kind, directory, manifest)
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


def _from_plan(directory: Path) -> Result:
    """The plan, read with libyaml (``sim.plan.load_plan``'s strict reader takes ~2 s on
    the 1 MB plan of a year's channel mix, libyaml ~0.5 s), or with json when it is JSON
    text, as plans of more than ``sim.plan.LARGE_PLAN_LINES`` lines are written."""
    try:
        text = (directory / "plan.yaml").read_text(encoding="utf-8")
        data = (json.loads(text) if text.lstrip().startswith("{")
                else yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
        plan = Plan.model_validate(data)
    except (OSError, ValueError, yaml.YAMLError, ValidationError) as exc:
        reason = str(exc).splitlines()[0]
        raise ReportError(directory, f"plan.yaml is not an xbsim plan ({reason})") from None
    kind = PLAN_KINDS.get(plan.kind)
    if kind is None:
        raise ReportError(directory, f"there is no report for a '{plan.kind}' plan")
    return Result(kind, directory, plan=plan)
