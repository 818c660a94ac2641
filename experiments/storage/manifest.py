"""``manifest.json``: what a results directory holds and how it was made, one model per kind.

Every simulation result (a run, replications, a plan's evaluation, a comparison, a sweep)
writes a manifest whose ``kind`` says which it is, so the report dispatches on that field
instead of guessing from the files present. Manifests are written and read only here:
written whole (a temporary file renamed into place), read back through the same models, so
a field a report needs cannot go missing unnoticed. Optimiser outputs carry no manifest;
their ``plan.yaml`` names its model in its own ``kind``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from experiments.errors import ExperimentError
from experiments.storage.provenance import code_version, package_versions
from sim.atomic import atomic_write

FILE = "manifest.json"


class ManifestError(ExperimentError):
    """A directory whose manifest is missing or unusable; ``str()`` is ``DIR: reason``."""

    def __init__(self, directory: Path, reason: str) -> None:
        self.directory, self.reason = directory, reason
        super().__init__(f"{directory}: {reason}")


class _Manifest(BaseModel):
    """What every manifest records: its kind, the code and the packages that made it."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    code_version: str = Field(default_factory=code_version)
    packages: dict[str, str] = Field(default_factory=package_versions)


class RunManifest(_Manifest):
    """``xbsim run``: one seed; the resolved scenario is kept so the report shows what ran,
    and the opening state file (``--state``) with a hash of its rows, if there was one."""

    kind: Literal["run"] = "run"
    scenario_file: str
    scenario_hash: str
    seed: int
    days: int
    wall_seconds: float
    scenario: dict[str, Any]
    state_file: str | None = None
    state_hash: str | None = None


class _Replicated(_Manifest):
    """Replications of one scenario from a root seed (and an opening state file, if any:
    every replication starts from it)."""

    scenario_file: str
    scenario_hash: str
    overrides: list[str]
    days: int
    root_seed: int
    replication_seeds: list[int]
    watched_kpis: list[str]
    backend: str
    state_file: str | None = None
    state_hash: str | None = None


class ReplicationsManifest(_Replicated):
    """``xbsim run --replications``; ``precision`` is the target the watched KPIs met, if any."""

    kind: Literal["replications"] = "replications"
    precision: float | None = None


class EvaluationManifest(_Replicated):
    """``xbsim evaluate``: a plan file (or the plan or re-planning the scenario names) in
    replications, judged against the scenario's own rules on the same seeds.

    ``replication_seeds`` serve both arms (common random numbers); ``rules_overrides`` turn
    the plan's scenario into the rules' (``plan=null``, ``policies.replan=null``). The
    ``verdict`` is the sentence the page leads with; ``why`` the predictions that missed.
    Directories written before the rules were compared have ``against_rules`` false.
    """

    kind: Literal["evaluation"] = "evaluation"
    plan_file: str | None
    replications: int | None = None
    against_rules: bool = False
    rules_overrides: list[str] = Field(default_factory=list)
    rules_scenario_hash: str | None = None
    common_random_numbers: bool = True
    confidence: float = 0.95
    outcome: Literal["wins", "loses", "no difference", "no rules"] | None = None
    verdict: str | None = None
    headline: str | None = None
    conclusion: str | None = None
    why: list[str] = Field(default_factory=list)


class CompareManifest(_Manifest):
    """``xbsim compare`` (and the policy comparison): scenarios by label, with the overrides
    that made each variant."""

    kind: Literal["compare"] = "compare"
    scenario_files: list[str]
    variants: dict[str, list[str]]
    scenario_hashes: dict[str, str]
    root_seed: int
    common_random_numbers: bool
    replications: int
    backend: str


class SweepDesign(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str
    points: int
    replications: int
    cells: int
    parameters: list[str]


class SweepSession(BaseModel):
    """One invocation of a sweep; no end time if it was killed."""

    model_config = ConfigDict(extra="forbid")

    started: str
    ended: str | None = None
    backend: str
    workers: int
    cells_done_before: int
    cells_run: int = 0
    wall_seconds: float | None = None


class SweepManifest(_Manifest):
    """``xbsim sweep``; ``identity`` (sweep file, scenario and code hashes) decides whether a
    directory may be resumed."""

    kind: Literal["sweep"] = "sweep"
    identity: dict[str, str]
    name: str
    sweep_file: str
    sweep: dict[str, Any]
    code_fingerprint: dict[str, str]
    root_seed: int
    replication_seeds: list[int]
    design: SweepDesign
    status: Literal["running", "complete", "incomplete"] = "running"
    sessions: list[SweepSession] = Field(default_factory=list)


class TuneManifest(_Manifest):
    """``xbsim tune``: the search (objective, constraints, ranges, budget, sampler and seeds)
    and its outcome; ``validation_seeds`` are the fresh seeds the best was checked on."""

    kind: Literal["tune"] = "tune"
    scenario_file: str
    scenario_hash: str
    overrides: list[str]
    days: int | None
    objective: str
    sense: Literal["maximize", "minimize"]
    constraints: list[str]
    parameters: dict[str, dict[str, Any]]
    budget: int
    replications: int
    batch_trials: int
    sampler: str
    root_seed: int
    search_seeds: list[int]
    validation_seeds: list[int]
    best_trial: int
    best: dict[str, float]
    feasible: bool
    backend: str


Manifest = Annotated[RunManifest | ReplicationsManifest | EvaluationManifest | CompareManifest
                     | SweepManifest | TuneManifest, Field(discriminator="kind")]
KINDS = ("run", "replications", "evaluation", "compare", "sweep", "tune")
_MANIFEST: TypeAdapter[Manifest] = TypeAdapter(Manifest)


def write_manifest(directory: Path, manifest: _Manifest) -> Path:
    """Write ``directory/manifest.json`` whole, replacing any earlier one."""
    path = Path(directory) / FILE
    text = manifest.model_dump_json(indent=2) + "\n"
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return path


def read_manifest(directory: Path) -> Manifest:
    """The manifest of ``directory``; ``ManifestError`` (one line) if it is missing, not
    JSON, not an xbsim manifest or lacks what its kind records."""
    directory = Path(directory)
    try:
        data = json.loads((directory / FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(directory, f"holds no {FILE}") from None
    except (OSError, ValueError) as exc:
        raise ManifestError(directory, f"{FILE} cannot be read ({exc})") from None
    if not isinstance(data, dict) or data.get("kind") not in KINDS:
        raise ManifestError(directory, f"{FILE} is not an xbsim manifest (no known 'kind'; "
                                       "made by an older xbsim?)")
    try:
        return _MANIFEST.validate_python(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"][1:])
        raise ManifestError(directory, f"{FILE} is damaged ({where}: {error['msg']})") from None
