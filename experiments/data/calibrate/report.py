"""The fit report: one self-contained page that says what was fitted and how well.

The answer comes first (the groups fitted, each in its one line, and how many warnings),
then observed against fitted per market and month, one figure per market, drawn from every
fit table that has the columns ``market``, ``month``, ``observed`` and ``fitted`` (and
optionally ``measure``, the panel's label); then the parameter tables (``parameter``,
``estimate``, ``low``, ``high``), any other table the fits returned, and the warnings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from experiments.data.calibrate.fit import Fit
from experiments.data.calibrate.scenario_file import group_comment
from experiments.report.html import Figure, Headline, Page, Section, Stat, render_page
from experiments.report.plots import panel_grid, save_figure
from experiments.report.text import Part
from sim.atomic import atomic_write

COMPARISON = {"market", "month", "observed", "fitted"}
PARAMETERS = {"parameter", "estimate", "low", "high"}
ROWS_SHOWN = 200


@dataclass(frozen=True)
class FitFacts:
    """What the page says about the calibration as a whole."""

    scenario: Path
    base: Path
    data_dir: Path
    period: str
    rows: str
    extends: bool
    dropped: Sequence[str]


def write_fit_report(directory: Path, fits: Sequence[Fit], facts: FitFacts) -> Path:
    """``directory/report.html`` (figures also in ``directory/figures/``)."""
    figures = _comparison_figures(fits, directory / "figures")
    sections = [_answer(fits, facts),
                Section("observed", "Observed against fitted",
                        "Per market and month: what the data shows (points) and what the "
                        "fitted scenario implies (line), one panel per measure.",
                        list(figures) or ["No fit returned an observed-against-fitted table."]),
                Section("parameters", "Fitted parameters",
                        "Estimates with their intervals (low, high) as each fit computed them; "
                        "every table is also in fit_tables/ as CSV.",
                        _tables(fits, PARAMETERS) or ["No fit returned a parameter table."])]
    others = _tables(fits, None)
    if others:
        sections.append(Section("evidence", "Other fit tables", "", others))
    sections.append(_warnings(fits, facts))
    page = Page(f"Calibration: {facts.scenario.stem}",
                f"{len(fits)} groups fitted to {facts.data_dir} ({facts.period})",
                [("scenario file", str(facts.scenario)),
                 ("written as", "a file extending the base" if facts.extends
                  else "the full scenario"),
                 ("base scenario", str(facts.base)), ("data", str(facts.data_dir)),
                 ("period", facts.period), ("rows", facts.rows)],
                sections, headline=_headline(fits, facts))
    path = directory / "report.html"
    text = render_page(page)
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return path


def _warning_count(fits: Sequence[Fit], facts: FitFacts) -> int:
    """The fits' warnings and the base entries the scenario had to drop."""
    return sum(len(f.warnings) for f in fits) + len(facts.dropped)


def _headline(fits: Sequence[Fit], facts: FitFacts) -> Headline:
    """Per fitted group: how many scenario values it wrote and how many warnings it has."""
    warnings = _warning_count(fits, facts)
    sentence = (f"{len(fits)} groups fitted to {facts.period} of history; "
                f"{warnings} warning{'s' if warnings != 1 else ''} to read below"
                if warnings else f"{len(fits)} groups fitted to {facts.period} of history, "
                "with no warning")
    stats = [Stat(fit.group.replace("_", " "), f"{len(fit.values):,} values",
                  f"{len(fit.warnings)} warning{'s' if len(fit.warnings) != 1 else ''}",
                  "bad" if fit.warnings else "good") for fit in fits]
    return Headline(sentence + ".", stats[:7])


def _answer(fits: Sequence[Fit], facts: FitFacts) -> Section:
    warnings = _warning_count(fits, facts)
    lead = (f"{facts.scenario.name}: {', '.join(f.group for f in fits)} fitted to "
            f"{facts.period}; " + (f"{warnings} warning(s), listed at the end."
                                   if warnings else "no warnings."))
    rows = [[f.group, str(len(f.values)), str(len(f.warnings)), group_comment(f)] for f in fits]
    return Section("verdict", "The answer", "",
                   [lead, Part("Groups fitted", ["group", "values", "warnings", "what and how "
                                                 "well"], rows, [False, True, True, False])])


def _comparison_figures(fits: Sequence[Fit], directory: Path) -> list[Figure]:
    """One figure per market: a panel per comparison table and measure."""
    frames = []
    for fit in fits:
        for name, table in fit.tables.items():
            if COMPARISON <= set(table.columns) and not table.empty:
                measure = table["measure"] if "measure" in table.columns else name
                frames.append(table.assign(panel=f"{fit.group}: " + pd.Series(
                    measure, index=table.index).astype(str)))
    if not frames:
        return []
    data = pd.concat(frames, ignore_index=True)
    data["when"] = pd.to_datetime(data["month"].astype(str))
    out = []
    for market, rows in data.groupby("market", sort=True):
        panels = list(dict.fromkeys(rows["panel"]))
        fig, axes = panel_grid(len(panels), 3, 4.2, 2.8)
        for ax, panel in zip(axes, panels, strict=False):
            part = rows[rows["panel"] == panel].sort_values("when")
            ax.plot(part["when"], part["observed"], "o", color="#1d232a", label="observed")
            ax.plot(part["when"], part["fitted"], "-", color="#1f77b4", label="fitted")
            ax.set_title(str(panel), fontsize=9)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
        axes[0].legend(fontsize=7)
        fig.suptitle(f"{market}: observed against fitted, per month")
        path = save_figure(fig, directory / f"calibration_{market}.png")
        out.append(Figure(path, f"{market}: each panel one measure per month; points what "
                                "the data shows, the line what the calibrated scenario gives."))
    return out


def _tables(fits: Sequence[Fit], columns: set[str] | None) -> list[Part | Figure | str]:
    """Parameter tables (``columns`` given), or every table that is neither kind."""
    parts: list[Part | Figure | str] = []
    for fit in fits:
        for name, table in fit.tables.items():
            kind = set(table.columns)
            wanted = (columns <= kind if columns is not None
                      else not PARAMETERS <= kind and not COMPARISON <= kind)
            if wanted:
                parts.append(_part(f"{fit.group}: {name}", table))
                if len(table) > ROWS_SHOWN:
                    parts.append(f"The first {ROWS_SHOWN} of {len(table)} rows; all are in "
                                 f"fit_tables/{table_name(fit, name)}.csv.")
    return parts


def table_name(fit: Fit, name: str) -> str:
    """A fit table's file name: its name, led by the group unless it already is."""
    return name if name.startswith(fit.group) else f"{fit.group}_{name}"


def _part(title: str, table: pd.DataFrame) -> Part:
    shown = table.head(ROWS_SHOWN)
    numeric = [pd.api.types.is_numeric_dtype(shown[c]) for c in shown.columns]
    rows = [[_cell(v) for v in row] for row in shown.itertuples(index=False)]
    return Part(title, [str(c) for c in shown.columns], rows, numeric)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:,.4g}"
    return str(value)


def _warnings(fits: Sequence[Fit], facts: FitFacts) -> Section:
    rows = [[f.group, w] for f in fits for w in f.warnings]
    rows += [["scenario", f"dropped {note}"] for note in facts.dropped]
    content: list[Part | Figure | str] = (
        [Part("", ["group", "warning"], rows, [False, False])] if rows
        else ["The data answered every question the fits asked."])
    return Section("warnings", "Warnings", "What the data could not tell, and what was "
                   "assumed or dropped instead.", content)
