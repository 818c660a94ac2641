"""Run a sweep: every design point times every replication, stored, summarised, analysed.

Cells run replication by replication (all points' replication 0 first, then 1, ...), so a
sweep stopped early still covers the whole design. Each point's replication r uses the same
seed (common random numbers across the design, which sharpens differences between points).
With a results directory the sweep is resumable (``experiments.storage.sweepstore``); without one
(notebooks, tests) it runs in memory.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.engine.backends import Backend
from experiments.engine.models import ScenarioModel
from experiments.engine.progress import Progress
from experiments.engine.runner import Cell, RunStats, TaskResult, cell_rows, run_cells
from experiments.engine.seeds import replication_seeds
from experiments.errors import ExperimentError, StoreError
from experiments.kpis import kpi_order
from experiments.stats import CONFIDENCE, group_summary, relative, t_quantile
from experiments.storage.manifest import SweepDesign, SweepManifest
from experiments.storage.provenance import code_fingerprint, code_identity
from experiments.storage.sweepstore import SweepStore
from experiments.studies.sensitivity import ANALYSED, analyse, bar_chart
from experiments.studies.sweepfile import Sweep

KEYS = ("point", "replication", "seed")


class MissingKpiError(ExperimentError):
    """The sweep asks for a KPI its model does not report."""


@dataclass
class SweepResult:
    """``results``: one row per point and replication (parameters, KPIs); ``points``: one row
    per point (parameters, n, KPI mean / std / half-width); ``sensitivity``: indices per KPI
    and parameter (Sobol and Morris designs only)."""

    sweep: Sweep
    directory: Path | None
    results: pd.DataFrame
    points: pd.DataFrame
    sensitivity: pd.DataFrame | None
    cells_before: int
    stats: RunStats


def run_sweep(sweep: Sweep, backend: Backend, out: Path | None = None, force: bool = False,
              progress: Progress | None = None, batch_seconds: float = 1.0,
              confidence: float = CONFIDENCE) -> SweepResult:
    """Run (or finish) the sweep; with ``out``, resume from and write to that directory."""
    spec, design = sweep.spec, sweep.design
    seeds = replication_seeds(spec.seed, spec.replications)
    params = design.point_params()
    cells = [Cell(p, r, seeds[r], params[p])
             for r in range(spec.replications) for p in range(len(design))]
    store = SweepStore(out, _manifest(sweep, seeds), force) if out else None
    progress = progress or Progress()
    with store or contextlib.nullcontext():
        frames = [_checked(store.finished(), design, seeds)] if store else []
        done = {(p, r) for f in frames for p, r in zip(f["point"], f["replication"],
                                                         strict=True)}
        todo = [c for c in cells if (c.point, c.replication) not in done]
        watch = _Precision(len(design), spec.kpis, confidence)
        for frame in frames:
            watch.add(frame)
        if store:
            store.start_session(backend.describe(), backend.workers, len(done))
        progress.start(f"sweep {spec.name}", len(cells), len(done))
        finished = len(done)

        def on_task(result: TaskResult) -> None:
            nonlocal finished
            _check_kpis(result, spec.kpis)
            frame = pd.DataFrame.from_records(cell_rows(result))
            if store:
                store.add(frame)
            frames.append(frame)
            watch.add(frame)
            finished += len(frame)
            progress.update(finished, note=watch.note())

        started = time.perf_counter()
        try:
            try:
                stats = run_cells(backend, sweep.model, todo, on_task, batch_seconds)
            finally:
                progress.close(final=finished == len(cells))
                if store:
                    store.end_session(finished - len(done), time.perf_counter() - started,
                                      finished == len(cells))
        except MissingKpiError:
            if store:
                store.forget()  # so that the corrected sweep file may use the directory
            raise
        results = assemble(frames, sweep, seeds)
        points = _points(results, sweep, confidence)
        sensitivity = None
        if design.kind in ANALYSED:
            sensitivity = analyse(design, points, spec.kpis, spec.replications, confidence,
                                  seed=spec.seed)
        if store:
            store.write_table("results", results)
            store.write_table("points", points)
            if sensitivity is not None:
                store.write_table("sensitivity", sensitivity)
                bar_chart(sensitivity, design.kind, store.directory / "sensitivity.png")
    return SweepResult(sweep, out, results, points, sensitivity, len(done), stats)


def _check_kpis(result: TaskResult, kpis: list[str]) -> None:
    """Stop at the first finished task, not after every cell, if the model does not report a
    KPI the sweep asks for (``profit_and_loss_cny.typo`` passes the name check: the members
    of a family are known only from the model's output)."""
    reported = set(result.outputs[0]) if result.outputs else set()
    missing = [k for k in kpis if k not in reported]
    if missing:
        family = sorted(k for k in reported if "." in k and k.split(".")[0] in
                        {m.split(".")[0] for m in missing})
        hint = f"; it reports {', '.join(family)}" if family else ""
        raise MissingKpiError(f"kpis: the model reports no KPI named {', '.join(missing)}"
                              f"{hint}")


def assemble(frames: list[pd.DataFrame], sweep: Sweep, seeds: list[int]) -> pd.DataFrame:
    """All rows sorted by point and replication, with types fixed by the design.

    Parameter values come from the design itself and KPI columns in a fixed order, so the
    table is the same, byte for byte, however the cells were batched, ordered or resumed.
    """
    rows = pd.concat(frames, ignore_index=True).sort_values(["point", "replication"],
                                                            ignore_index=True)
    expected = len(sweep.design) * sweep.spec.replications
    if len(rows) != expected:
        raise ExperimentError(f"{len(rows)} results for {expected} cells")
    names = [p.name for p in sweep.design.parameters]
    kpis = kpi_order(c for c in rows.columns if c not in (*KEYS, *names))
    missing = [k for k in sweep.spec.kpis if k not in kpis]
    if missing:
        raise ExperimentError(f"the model reports no KPI named {', '.join(missing)}")
    keys = rows[list(KEYS)].astype("int64")
    values = sweep.design.points.iloc[rows["point"].to_numpy()].reset_index(drop=True)
    return pd.concat([keys, values, rows[kpis].astype("float64")], axis=1)


def _points(results: pd.DataFrame, sweep: Sweep, confidence: float) -> pd.DataFrame:
    summary = group_summary(results, ["point"], sweep.spec.kpis, confidence)
    return pd.concat([summary[["point"]], sweep.design.points,
                      summary.drop(columns="point")], axis=1)


def _checked(rows: pd.DataFrame, design, seeds: list[int]) -> pd.DataFrame:
    """Stored rows must be cells of this design with their seeds, each once."""
    if rows.empty:
        return pd.DataFrame(columns=list(KEYS))
    point, rep = rows["point"].to_numpy(), rows["replication"].to_numpy()
    bad = (point < 0) | (point >= len(design)) | (rep < 0) | (rep >= len(seeds))
    if not bad.any():
        bad = rows["seed"].to_numpy() != np.asarray(seeds, dtype=np.int64)[rep]
    if bad.any() or rows.duplicated(["point", "replication"]).any():
        raise StoreError("the stored parts do not match this sweep (cells outside the design, "
                         "other seeds or repeated cells); use another --out or --force")
    return rows


def _identity(sweep: Sweep) -> dict[str, str]:
    model = sweep.model
    if isinstance(model, ScenarioModel):
        scenario = model.fingerprint()
    else:  # a function: its name is all that can be checked
        scenario = f"{model.__module__}.{getattr(model, '__qualname__', type(model).__name__)}"
    return {"sweep_hash": sweep.spec.spec_hash(), "scenario": scenario, "code": code_identity()}


def _manifest(sweep: Sweep, seeds: list[int]) -> SweepManifest:
    spec, design = sweep.spec, sweep.design
    return SweepManifest(
        identity=_identity(sweep), name=spec.name, sweep_file=sweep.source,
        sweep=spec.model_dump(mode="json"), code_fingerprint=code_fingerprint(),
        root_seed=spec.seed, replication_seeds=seeds,
        design=SweepDesign(kind=design.kind, points=len(design), replications=spec.replications,
                           cells=sweep.cells, parameters=[p.name for p in design.parameters]))


class _Precision:
    """Running sums per design point, for the progress note: how tight the point means are."""

    def __init__(self, points: int, kpis: list[str], confidence: float) -> None:
        self.kpis, self.confidence = kpis, confidence
        self.n = np.zeros(points)
        self.s1 = np.zeros((points, len(kpis)))
        self.s2 = np.zeros((points, len(kpis)))

    def add(self, frame: pd.DataFrame) -> None:
        if frame.empty or not set(self.kpis) <= set(frame.columns):
            return
        point = frame["point"].to_numpy(int)
        values = frame[self.kpis].to_numpy(float)
        np.add.at(self.n, point, 1)
        np.add.at(self.s1, point, values)
        np.add.at(self.s2, point, values ** 2)

    def note(self) -> str:
        """``point means ±1.4% median, widest lost_sales_units ±3.2%``.

        Each half-width is relative to the KPI's typical size over the points (the mean of
        the point means' magnitudes), not to its own point's mean: a point whose margin sits
        near zero would otherwise read ±1000 % however tight its interval is."""
        ok = self.n >= 2
        if not ok.any():
            return ""
        n = self.n[ok, None]
        mean = self.s1[ok] / n
        var = np.maximum(self.s2[ok] / n - mean ** 2, 0.0) * n / (n - 1)
        half = t_quantile(n, self.confidence) * np.sqrt(var / n)
        width = relative(half, np.abs(mean).mean(axis=0))
        per_kpi = np.array([np.median(c[np.isfinite(c)]) if np.isfinite(c).any() else np.nan
                            for c in width.T])
        if not np.isfinite(per_kpi).any():
            return ""
        widest = int(np.nanargmax(per_kpi))
        finite = width[np.isfinite(width)]
        return (f"point means ±{np.median(finite):.1%} median, widest {self.kpis[widest]} "
                f"±{per_kpi[widest]:.1%}")

