"""The backtest's page: the verdict first, then how each measure tracked the history.

One figure per measure: per market, the actual month by month against the replications'
mean and 90 % band; then the scores per market and per SKU class, and the notes (where the
runs started from, what the actuals hold that the scenario does not).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from experiments.data.backtest import Backtest
from experiments.data.backtest_measures import LABELS, MEASURES
from experiments.data.backtest_scores import CELL_WORDS, GOOD_BIAS, GOOD_COVERAGE, pct
from experiments.report.html import Figure, Headline, Page, Section, Stat, render_page
from experiments.report.plots import panel_grid, save_figure
from experiments.report.text import Part
from sim.atomic import atomic_write

REPORT = "report.html"


def write_backtest_report(out: Path, result: Backtest) -> Path:
    """``out/report.html``; the figures are also in ``out/figures/``."""
    verdicts = result.verdicts()
    cells = result.cells[result.cells["breakdown"] == "market"]
    figures = [_measure_figure(cells, m, out / "figures" / f"backtest_{m}.png")
               for m in MEASURES if (cells["measure"] == m).any()]
    sections = [
        Section("verdict", "Verdict", "", [*verdicts[:1], *[f"- {v}" for v in verdicts[1:]]]),
        Section("measures", "Actual against simulated, per market and month",
                f"Points: the actuals. Line and band: the mean and the 5th-95th percentile of "
                f"{len(result.seeds)} replications (Weibull quantiles, so that a model that "
                "made the history covers 90 % of months).", list(figures)),
        Section("scores", "Scores", "WAPE and bias of the replications' mean against the "
                "actuals (positive bias: the model runs high); coverage: the share of cells "
                "whose actual lies in the simulated 90 % band.",
                [_scores_part(result.scores, "By market and month", "breakdown"),
                 _scores_part(result.class_scores, "By SKU class (A: 80 % of the actuals' "
                              "revenue, B: the next 15 %, C: the rest) and month", "group")]),
        Section("notes", "Notes", "", list(result.notes))]
    page = Page(f"Backtest: {Path(result.scenario_file).stem}",
                f"{result.first} to {result.last}: {len(result.seeds)} replications against "
                f"the actuals in {result.actuals_dir}",
                [("scenario file", result.scenario_file), ("actuals", result.actuals_dir),
                 ("period", f"{result.first} to {result.last}"),
                 ("root seed", str(result.root_seed)), ("backend", result.backend)],
                sections, headline=_headline(result, verdicts))
    path = out / REPORT
    text = render_page(page)
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return path


def _headline(result: Backtest, verdicts: list[str]) -> Headline:
    """Each measure's WAPE and bias against its coverage of the history, in words first."""
    rows = result.scores[result.scores["breakdown"] == "market"]
    stats = [Stat(LABELS.get(str(r.measure), str(r.measure)),
                  f"WAPE {pct(r.wape)}, bias {pct(r.bias, signed=True)}",
                  f"90 % coverage {pct(r.coverage, 0)} over {r.cells} market-months",
                  "good" if abs(r.bias) <= GOOD_BIAS and r.coverage >= GOOD_COVERAGE
                  else "bad")
             for r in rows.itertuples() if not math.isnan(r.bias)]
    return Headline(verdicts[0] if verdicts else "No measure to judge.", stats[:7])



def _measure_figure(cells: pd.DataFrame, measure: str, path: Path) -> Figure:
    rows = cells[cells["measure"] == measure].assign(
        when=lambda d: pd.to_datetime(d["month"]))
    groups = sorted(rows["group"].unique())
    fig, axes = panel_grid(len(groups), 3, 4.2, 2.8)
    for ax, group in zip(axes, groups, strict=False):
        part = rows[rows["group"] == group].sort_values("when")
        ax.fill_between(part["when"], part["p05"], part["p95"], color="#1f77b4", alpha=0.25,
                        label="simulated 90 % band")
        ax.plot(part["when"], part["mean"], "-", color="#1f77b4", label="simulated mean")
        ax.plot(part["when"], part["actual"], "o", color="#1d232a", markersize=4,
                label="actual")
        ax.set_title(str(group), fontsize=9)
        ax.set_ylabel(LABELS[measure], fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle(f"{LABELS[measure]}: actual against simulated, per month")
    return Figure(save_figure(fig, path),
                  f"{LABELS[measure]} per market and month: actual (points) against the "
                  "simulated mean (line) and 90 % band.")


def _scores_part(scores: pd.DataFrame, title: str, key: str) -> Part:
    rows = []
    for _, r in scores.iterrows():
        what = CELL_WORDS.get(str(r[key]), str(r[key]))
        rows.append([LABELS.get(str(r["measure"]), str(r["measure"])), what,
                     pct(r["wape"]), pct(r["bias"], signed=True), pct(r["coverage"]),
                     str(r["cells"]), f"{r['actual_total']:,.0f}",
                     f"{r['simulated_total']:,.0f}"])
    return Part(title, ["measure", "cells of", "WAPE", "bias", "90 % coverage", "cells",
                        "actual (sum of cells)", "simulated (sum of cells)"], rows,
                [False, False, True, True, True, True, True, True])

