"""The answer an optimiser's page opens with: one sentence and five to seven business
figures, each set against the current plan where the model reports it (the ads model does),
or else against what frames it (the lost-sale penalty in the cost, the value of planning for
uncertainty, the cheapest and the fastest plan on the frontier). Solver internals (timings,
gaps, piecewise-linear checks) stay out of it.
"""

from __future__ import annotations

import pandas as pd

from experiments.report.detect import Result
from experiments.report.html import Headline, Stat
from experiments.report.numbers import count, money, number, percent

INTERNAL = ("build_s", "handoff_s", "highs_s", "dual_pass_s", "gap", "refinements",
            "allocation_change_pct", "breakpoints_max", "mip_gap_reached", "budget_dual",
            "binaries", "objective", "epsilon")
"""Solver and approximation figures: shown in the collapsed appendix only."""


def internal(key: str) -> bool:
    return key in INTERNAL or key.startswith("pwl_") or key.endswith(("_hill", "_hill_cny"))


def headline(result: Result) -> Headline:
    plan = result.plan
    assert plan is not None
    build = {"channels": _channels, "frontier": _frontier, "ads": _ads, "peak": _peak}
    return build[result.kind](result)


def _service(metrics: dict[str, float]) -> list[Stat]:
    return [Stat("Fill rate (planned)", percent(metrics.get("fill_rate", float("nan"))),
                 "share of demand served from stock"),
            Stat("On time (planned)", percent(metrics.get("on_time_rate", float("nan"))),
                 "at the promise percentile"),
            Stat("Mean delivery time", f"{number(metrics.get('mean_delivery_days'), 1)} days")]


def _channels(result: Result) -> Headline:
    plan = result.plan
    assert plan is not None
    costs, metrics = plan.costs_cny, plan.metrics
    mix = pd.read_parquet(result.file("mix.parquet"))
    main = mix.sort_values("units", ascending=False).groupby("destination").head(1)
    routes = ", ".join(f"{r.destination} by {r.mode}" for r in main.itertuples())
    total = costs.get("total", plan.objective_cny)
    penalty = costs.get("lost_sales_penalty", 0.0)
    sentence = (f"Over {plan.weeks} weeks the cheapest mix serves {routes}, for "
                f"{money(total)} of logistics, holding and lost-sale cost "
                f"({number(costs.get('logistics_per_unit_served'), 2)} CNY per unit served).")
    return Headline(sentence, [
        Stat("Total planned cost", money(total),
             f"of which lost-sale penalty {money(penalty)}"),
        Stat("Logistics cost per unit", f"{number(metrics.get('logistics_cost_per_unit_cny'), 2)}"
             " CNY", "freight, duties and warehouse handling per unit sold"),
        Stat("Units lost", count(costs.get("lost_units", 0.0)), "demand the plan leaves unmet"),
        *_service(metrics)])


def _frontier(result: Result) -> Headline:
    plan = result.plan
    assert plan is not None
    front = pd.read_parquet(result.file("frontier.parquet"))
    days = "mean_delivery_days" if "mean_delivery_days" in front.columns else None
    cheap = front.loc[front["total_cost_cny"].idxmin()]
    fast = front.loc[front[days].idxmin()] if days else cheap
    extra = fast["total_cost_cny"] - cheap["total_cost_cny"]
    saved = (cheap[days] - fast[days]) if days else 0.0
    per_day = extra / saved if saved > 0 else float("nan")
    sentence = (f"{len(front)} plans trade time for cost: the fastest delivers in "
                f"{number(fast[days], 1) if days else '-'} days for "
                f"{money(extra)} more than the cheapest "
                f"({number(cheap[days], 1) if days else '-'} days); each day saved costs about "
                f"{money(per_day)}.")
    return Headline(sentence, [
        Stat("Recommended plan cost", money(plan.objective_cny), "closest to the ideal of both"),
        Stat("Cheapest plan", money(cheap["total_cost_cny"]),
             f"{number(cheap[days], 1)} days mean delivery" if days else ""),
        Stat("Fastest plan", money(fast["total_cost_cny"]),
             f"{number(fast[days], 1)} days mean delivery" if days else ""),
        Stat("Cost of a day faster", money(per_day), "from the cheapest to the fastest"),
        *_service(plan.metrics)[:2]])


def _ads(result: Result) -> Headline:
    plan = result.plan
    assert plan is not None
    m = plan.metrics
    contribution, current = m.get("contribution_cny", 0.0), m.get("current_contribution_cny")
    spend, current_spend = m.get("spend_cny", 0.0), m.get("current_spend_cny")
    gain = contribution - current if current is not None else float("nan")
    flag = (" The current spend LOSES money: its paid orders do not pay for it."
            if current is not None and current < 0 else "")
    sentence = (f"Spend {money(spend)} on ads over {plan.weeks} weeks (now {money(current_spend)}"
                f"): paid traffic then contributes {money(contribution)}, "
                f"{money(gain, signed_=True)} against the current spend.{flag}")
    return Headline(sentence, [
        Stat("Ad spend (plan)", money(spend),
             f"current {money(current_spend)}" if current_spend is not None else ""),
        Stat("Contribution of paid traffic", money(contribution),
             f"current {money(current)}" if current is not None else "",
             "bad" if contribution < 0 else ""),
        Stat("Contribution gained", money(gain, signed_=True), "plan against current spend",
             "good" if gain > 0 else "bad" if gain < 0 else ""),
        Stat("Paid orders", count(m.get("paid_orders", 0.0)),
             f"current {count(m['current_paid_orders'])}" if "current_paid_orders" in m else ""),
        Stat("ROAS", number(m.get("roas", float("nan")), 2),
             "paid revenue per CNY of spend"),
        Stat("Budget", money(m.get("budget_cny", float("nan"))), "the most the plan may spend")])


def _peak(result: Result) -> Headline:
    plan = result.plan
    assert plan is not None
    c = plan.costs_cny
    rp, eev, ws = (c.get("expected_cost_rp_cny"), c.get("ev_plan_expected_cost_eev_cny"),
                   c.get("wait_and_see_cost_ws_cny"))
    vss, evpi = c.get("vss_cny", 0.0), c.get("evpi_cny", 0.0)
    sentence = (f"Commit {count(c.get('committed_units', 0.0))} units before the peak; planning "
                f"for uncertainty saves {money(vss)} in expected cost against planning for the "
                f"mean demand, and knowing the future would save {money(evpi)} more.")
    return Headline(sentence, [
        Stat("Expected cost of the plan", money(rp), "two-stage plan over the demand scenarios"),
        Stat("Plan for the mean demand", money(eev), f"the plan saves {money(vss)} (VSS)"),
        Stat("Perfect foresight", money(ws), f"worth {money(evpi)} more (EVPI)"),
        Stat("Units committed now", count(c.get("committed_units", 0.0)),
             "booked on slow modes before demand is known"),
        Stat("Expected units lost", count(c.get("expected_lost_units", 0.0)),
             f"over {count(c.get('scenarios', 0.0))} demand scenarios")])
