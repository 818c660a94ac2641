"""The reports of the optimisers (``xbsim optimize channels|ads|frontier|peak``): the answer
first (a sentence and five to seven business figures, each against the current plan where
the model knows it), the plan's key figures in words and units, each model's tables and one
figure; the solver's own numbers last, collapsed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from experiments.report import figures_optimize, plan_headlines
from experiments.report.detect import ReportError, Result
from experiments.report.html import Details, Figure, Page, Section
from experiments.report.names import key_label
from experiments.report.numbers import number
from experiments.report.plots import pareto_figure, time_column
from experiments.report.text import Part

TITLES = {"channels": "Logistics channel mix", "ads": "Ad budget allocation",
          "frontier": "Time versus cost frontier", "peak": "Peak-season order plan"}


def page(result: Result, figures: Path) -> Page:
    """The answer, the plan's key figures, the model's own section, the solver's numbers."""
    plan = result.plan
    assert plan is not None
    objective = ("objective [CNY]" if result.kind in ("channels", "frontier", "peak")
                 else "objective (the model's own measure)")
    rows = [[objective, _number(plan.objective_cny)]]
    rows += [[_cost_label(k), _number(v)] for k, v in plan.costs_cny.items()]
    rows += [[key_label(k), _number(v)] for k, v in plan.metrics.items()
             if not plan_headlines.internal(k)]
    internals = [[key_label(k), _number(v)] for k, v in plan.metrics.items()
                 if plan_headlines.internal(k)]
    internals += [[f"solver: {key_label(k)}", _number(v) if isinstance(v, float) else str(v)]
                  for k, v in plan.solver.items()]
    sections = [Section("plan", "The plan's key figures",
                        "What the optimiser chose and what it costs; the plan itself is "
                        "plan.yaml, runnable by the simulation.",
                        [Part("", ["figure", "value"], rows, [False, True])])]
    build = {"frontier": _frontier, "ads": _ads, "channels": _channels, "peak": _peak}
    sections.append(build[result.kind](result, figures, plan.weeks))
    sections.append(Section("solver", "Appendix: the solver's own numbers", "", [Details(
        "Model sizes, timings, gaps and approximation checks",
        [Part("", ["figure", "value"], internals, [False, True])])]))
    facts = [("model", result.kind), ("scenario", plan.scenario),
             ("scenario hash", plan.scenario_hash[:16]), ("weeks planned", str(plan.weeks))]
    return Page(f"xbsim optimize {result.kind}: {plan.scenario}", TITLES[result.kind], facts,
                sections, plan_headlines.headline(result))


def _cost_label(key: str) -> str:
    """Plans keep counts beside costs in ``costs_cny``; only costs get [CNY]."""
    if key.endswith(("_cny", "_units")) or key == "scenarios":
        return key_label(key)
    if key == "logistics_per_unit_served":
        return "logistics cost per unit served [CNY/unit]"
    return f"cost: {key_label(key)} [CNY]"


def _number(value: float) -> str:
    """A plan's figure without solver noise: whole numbers above 100, two decimals below."""
    return number(value, 0 if not np.isfinite(value) or abs(value) >= 100
                  or value == round(value) else 2)


def _pairs(title: str, headers: list[str], names: pd.Series, values: pd.Series) -> Part:
    """A two-column table of names and numbers."""
    return Part(title, headers, [[str(n), _number(v)] for n, v in zip(names, values,
                                                                      strict=True)],
                [False, True])


def _rows(frame: pd.DataFrame) -> Part:
    """A small table as it is, numbers formatted; numeric columns right-aligned."""
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(
        frame[c]) for c in frame.columns]
    rows = [[_number(v) if n else str(v) for v, n in zip(row, numeric, strict=True)]
            for row in frame.itertuples(index=False)]
    return Part("", [key_label(str(c)) for c in frame.columns], rows, numeric)


def _frontier(result: Result, figures: Path, weeks: int) -> Section:
    front = pd.read_parquet(result.file("frontier.parquet"))
    chosen = result.file("plan.yaml").read_bytes()
    recommended = next((i for i in range(len(front))
                        if (p := result.file(f"plans/point_{i:02d}.yaml")).is_file()
                        and p.read_bytes() == chosen), None)
    table = front.copy()
    table.insert(0, "point", [f"P{i}" + (" (recommended)" if i == recommended else "")
                              for i in range(len(front))])
    return Section(
        "frontier", "Time versus cost",
        "Each point is a plan no other plan beats on both delivery speed and cost; the "
        "recommended one is closest to the ideal of both. Every point's plan is in plans/.",
        [Figure(pareto_figure(front, time_column(front), figures / "frontier.png",
                              recommended), "The Pareto frontier, each plan labelled."),
         _rows(table)])


def _ads(result: Result, figures: Path, weeks: int) -> Section:
    channels = pd.read_parquet(result.file("channels.parquet"))
    curves = pd.read_parquet(result.file("curves.parquet"))
    if "channel" not in channels.columns:
        raise ReportError(result.directory, "channels.parquet names no channel (written by "
                                            "an older xbsim); run xbsim optimize ads again")
    columns = ["channel", "shape", "spend_cny", "spend_cny_per_day", "current_spend_cny",
               "sessions", "orders", "revenue_cny", "roas", "marginal_roas"]
    return Section(
        "ads", "Ad spend by channel",
        f"Spend per channel over {weeks} weeks against each channel's response curve. "
        "Budget flows to a channel while one more CNY there brings more margin than "
        "elsewhere, so at the optimum the marginal ROAS of the channels in use is equal "
        "(or a limit binds).",
        [Figure(figures_optimize.ads_figure(curves, channels, weeks, figures / "ads.png"),
                "Response curves; red: chosen spend, grey: current spend."),
         _rows(channels[[c for c in columns if c in channels.columns]])])


def _channels(result: Result, figures: Path, weeks: int) -> Section:
    costs = pd.read_parquet(result.file("costs.parquet"))
    mix = pd.read_parquet(result.file("mix.parquet"))
    return Section(
        "channels", "Channel mix",
        "Which mode serves each destination and what the plan costs by component; the "
        "week-by-week flows are in flows.csv.",
        [Figure(figures_optimize.channels_figure(costs, mix, figures / "channels.png"),
                "Cost by component and units by destination and mode."),
         *_bulk_modes(result),
         _pairs("Costs", ["component", "CNY"], costs["component"].map(key_label),
                costs["cny"]),
         _rows(mix), *_bookings(result)])


def _bulk_modes(result: Result) -> list[Part]:
    """Which bulk mode (sea FCL, sea LCL, rail, air) each overseas warehouse is filled by:
    units, shipments and containers per lane and mode."""
    flows = pd.read_parquet(result.file("flows.parquet"))
    bulk = flows[flows["kind"].astype(str) == "bulk"]
    if bulk.empty:
        return []
    table = bulk.groupby(["origin", "destination", "mode"], as_index=False, sort=True).agg(
        units=("units", "sum"), weeks=("week", "nunique"), cost_cny=("cost_cny", "sum"),
        mean_days=("mean_days", "mean"))
    table["cost_per_unit_cny"] = table["cost_cny"] / table["units"].where(table["units"] > 0)
    share = table["units"] / table.groupby("destination")["units"].transform("sum")
    rows = [[r.origin, r.destination, str(r.mode), _number(r.units), f"{100 * sh:.0f} %",
             str(r.weeks), _number(r.cost_cny), number(r.cost_per_unit_cny, 2),
             number(r.mean_days, 1)] for r, sh in zip(table.itertuples(), share, strict=True)]
    return [Part("Bulk mode chosen per lane (sea FCL, sea LCL, rail or air)",
                 ["origin", "warehouse", "mode", "units", "share of the warehouse's units",
                  "weeks shipping", "freight [CNY]", "freight [CNY/unit]",
                  "transit [days]"], rows,
                 [False, False, False, True, True, True, True, True, True])]


def _peak(result: Result, figures: Path, weeks: int) -> Section:
    commitments = pd.read_parquet(result.file("commitments.parquet"))
    value = pd.read_parquet(result.file("value.parquet"))
    by_route = commitments.groupby("route", sort=False, as_index=False)["units"].sum()
    return Section(
        "peak", "Peak commitments and the value of planning for uncertainty",
        "Units booked on slow modes before demand is known, and the plan's expected cost "
        "against planning for the mean demand (EEV) and against perfect foresight (WS). "
        "Per-SKU commitments are in commitments.csv.",
        [Figure(figures_optimize.peak_figure(commitments, value, figures / "peak.png"),
                "Committed units by route and expected costs."),
         _pairs("Measures", ["measure", "value"], value["measure"].map(key_label),
                value["value"]),
         _rows(by_route), *_bookings(result)])


def _bookings(result: Result) -> list[Part]:
    """What to book, per lane and departure week (the per-SKU lines are bookings.csv);
    nothing for a result written before plans had booking lists."""
    path = result.file("bookings.parquet")
    if not path.is_file():
        return []
    bookings = pd.read_parquet(path)
    lanes = (bookings.groupby(["book_by", "departs", "departure_week", "origin", "destination",
                               "mode", "expected_arrival"], sort=True, as_index=False)
             .agg(skus=("sku", "size"), units=("units", "sum"),
                  containers=("lane_containers", "first")))
    part = _rows(lanes)
    return [Part("What to book (per SKU in bookings.csv)", part.headers, part.rows, part.right)]
