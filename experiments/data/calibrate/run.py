"""Calibrate: a seller's data directory becomes a scenario file, its fit report and tables.

Each fitter reads the canonical tables and the base scenario and returns a ``Fit`` (values
by dotted path, a comment, tables, warnings); the catalogue comes first, so the later fits
land on the seller's own SKUs and suppliers, and each fitter sees the base with every
earlier fit applied: demand reads orders at the rating the fitted deliveries and returns
give, and the ads fit reads paid sessions on the fitted calendar. The scenario
file is the base with every fit's values (``scenario_file``), the report says what was
fitted and how well (``report``), and each fit's tables are also written as CSV.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pandas as pd

from experiments.data.backtest_measures import order_period, read_actuals
from experiments.data.calibrate.ads import fit_ads
from experiments.data.calibrate.catalog import fit_catalog
from experiments.data.calibrate.delivery import fit_deliveries
from experiments.data.calibrate.demand import fit_demand
from experiments.data.calibrate.fit import Fit
from experiments.data.calibrate.lead_times import fit_lead_times
from experiments.data.calibrate.report import FitFacts, table_name, write_fit_report
from experiments.data.calibrate.returns import fit_returns
from experiments.data.calibrate.scenario_file import assemble, header_lines, write_scenario
from sim.atomic import atomic_write
from sim.loader import resolve_document, validate
from sim.scenario import Scenario

Fitter = Callable[[dict[str, pd.DataFrame], Scenario], Fit]
FITTERS: tuple[Fitter, ...] = (fit_deliveries, fit_returns, fit_demand, fit_ads,
                               fit_lead_times)
"""After the catalogue, in the order they run and their values are applied: each on the
base with the catalogue and every earlier fit, a later fit's value at a path winning."""


@dataclass
class Calibration:
    """What ``calibrate`` wrote and found."""

    scenario_file: Path
    report: Path
    tables: list[Path]
    fits: list[Fit]
    extends: bool
    dropped: list[str]
    first: dt.date
    last: dt.date


def calibrate(data_dir: Path, out: Path, base_file: Path, report_dir: Path | None = None,
              extends: bool = False) -> Calibration:
    """Fit a scenario to ``data_dir`` on top of ``base_file`` and write it to ``out``.

    With ``extends`` the file extends the base where the loader can express the result;
    the report and the fit tables go to ``report_dir`` (default: beside the scenario).
    Bad input raises ``ExperimentError`` or ``ScenarioError``.
    """
    data_dir, out, base_file = Path(data_dir), Path(out), Path(base_file)
    tables = read_actuals(data_dir)
    base_document = resolve_document(base_file)
    base = validate(copy.deepcopy(base_document), base_file)
    fits = [fit_catalog(tables, base)]
    for fitter in FITTERS:
        fits.append(fitter(tables, assemble(base_document, fits, out.stem, "", out).scenario))
    first, last = order_period(tables["orders"])
    assembled = assemble(base_document, fits, out.stem,
                         f"Calibrated to {data_dir} ({first} to {last}) on top of "
                         f"{base_file.name}", out)
    extended = write_scenario(out, base_file, base_document, assembled, fits,
                              header_lines(data_dir, tables, first, last), extends)
    directory = Path(report_dir) if report_dir is not None else out.parent
    written = write_fit_tables(directory / "fit_tables", fits)
    facts = FitFacts(out, base_file, data_dir, f"{first} to {last}",
                     ", ".join(f"{name} {len(frame):,}" for name, frame in tables.items()),
                     extended, assembled.dropped)
    report = write_fit_report(directory, fits, facts)
    return Calibration(out, report, written, fits, extended, assembled.dropped, first, last)


def write_fit_tables(directory: Path, fits: Sequence[Fit]) -> list[Path]:
    """Every fit table as ``directory/<table>.csv``, the name led by its group."""
    paths = []
    for fit in fits:
        for name, table in fit.tables.items():
            path = directory / f"{table_name(fit, name)}.csv"
            atomic_write(path, partial(_csv, table))
            paths.append(path)
    return paths


def _csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False)
