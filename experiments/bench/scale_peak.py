"""Peak SAA at a real catalogue's size: 200 SKUs, K = 200 demand scenarios, under a minute?

Run on demand (not part of the tests)::

    python -m experiments.bench.scale_peak

Prints, measured in this one run (issue 15, "Speed and memory"):

(1) ``optimize_peak`` on the baseline's peak window with 200 SKUs and K = 200 scenarios, as
    a whole and split: the window's data (``peak_data``: the channel data, the demand
    draws, and one run of the scenario's own rules per scenario up to the window, for the
    supply they leave), the recourse model's array build, its hand-off to HiGHS, HiGHS,
    and the rest of ``solve_peak`` (the mean-demand plan, its evaluation with stage one
    fixed, the wait-and-see solves, reading the plan); target < 60 s, for the whole call
    and for ``solve_peak`` alone (what the optimisation itself costs);
(2) at K = 10 (the first 10 of those scenarios: the same draws ``peak_data`` makes for 10)
    the Pyomo build + APPSI hand-off of the same model against the array build +
    ``passModel``, both times and their ratio, with both optima.

The 200 SKUs are the baseline's 40 replicated with divided popularity
(``experiments.bench.optimize_speed.replicate_skus``), so total demand stays the
baseline's. ``optimize.peak`` documents which backend is used when.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace

from experiments.bench.optimize_speed import instance
from experiments.bench.summary import print_summary, verdict
from optimize.channel_data import channel_data
from optimize.matrix import ArraySolver
from optimize.peak import DEFAULT_OPTIONS, build_peak_model, solve_peak
from optimize.peak_arrays import build_peak_arrays
from optimize.peak_data import PeakData, peak_data
from optimize.solve import Solver
from sim.calendar import day_of
from sim.demand import sample_units_by_day
from sim.scenario import Scenario

SKUS = 200
SCENARIOS = 200
RATIO_SCENARIOS = 10
TARGET_S = 60.0


def window(n_skus: int, scenarios: int) -> Scenario:
    """The baseline with ``n_skus`` SKUs and ``scenarios`` demand scenarios in its peak."""
    scenario = instance(n_skus)
    peak = scenario.planning.peak
    assert peak is not None
    planning = scenario.planning.model_copy(
        update={"peak": peak.model_copy(update={"scenarios": scenarios})})
    return scenario.model_copy(update={"planning": planning})


def first_scenarios(data: PeakData, k: int) -> PeakData:
    supply = None if data.supply is None else data.supply[:k]
    return replace(data, demand=data.demand[:k], supply=supply)


def time_whole(scenario: Scenario) -> tuple[dict[str, float], PeakData]:
    """``optimize_peak`` in its two calls, ``peak_data`` and ``solve_peak``, timed apart;
    the channel data and the demand draws are timed once more on their own, so the rest
    of ``peak_data`` is the rules' runs."""
    started = time.perf_counter()
    channel_data(scenario, enforce_promise=False)
    spec = scenario.planning.peak
    assert spec is not None
    first_day = day_of(scenario, spec.start)
    sample_units_by_day(scenario, list(range(spec.seed, spec.seed + spec.scenarios)),
                        range(first_day, first_day + 7 * spec.weeks))
    inputs_s = time.perf_counter() - started
    started = time.perf_counter()
    data = peak_data(scenario)
    data_s = time.perf_counter() - started
    started = time.perf_counter()
    outcome = solve_peak(data)
    solve_s = time.perf_counter() - started
    report = outcome.report
    assert report is not None
    rp_s = report.build_s + report.handoff_s + report.solve_s
    figures = {"data_s": data_s, "inputs_s": inputs_s, "solve_s": solve_s,
               "build_s": report.build_s, "handoff_s": report.handoff_s,
               "highs_s": report.highs_s, "rest_s": solve_s - rp_s,
               "rp": report.objective, "vss": outcome.summary["vss_cny"],
               "evpi": outcome.summary["evpi_cny"], "gap": report.gap or 0.0}
    print(f"\n== (1) optimize_peak, {SKUS} SKUs, K = {SCENARIOS}, "
          f"{data.weeks} weeks, {len(data.base.warehouses)} warehouses")
    print(f"peak_data s {data_s:.2f} (channel data + demand draws {inputs_s:.2f}, the rules' "
          f"{SCENARIOS} runs to day {first_day} the rest)")
    print(f"solve_peak s {solve_s:.2f}: RP build {report.build_s:.2f}, hand-off "
          f"{report.handoff_s:.2f}, HiGHS {report.highs_s:.2f} (status {report.status}); "
          f"EV plan, EEV, wait-and-see and reading the plan {solve_s - rp_s:.2f}")
    print(f"RP {report.objective:,.0f} CNY  VSS {figures['vss']:,.0f}  "
          f"EVPI {figures['evpi']:,.0f}")
    return figures, data


def time_ratio(data: PeakData) -> dict[str, float]:
    """Pyomo build + APPSI hand-off against array build + passModel, same model, same
    solve options; both are solved so the optima can be compared."""
    started = time.perf_counter()
    model = build_peak_model(data).model
    pyomo_build = time.perf_counter() - started
    pyomo = Solver(DEFAULT_OPTIONS).solve(model)
    started = time.perf_counter()
    built = build_peak_arrays(data)
    array_build = time.perf_counter() - started
    arrays = ArraySolver(built.matrix, DEFAULT_OPTIONS).solve()
    figures = {"pyomo_s": pyomo_build + pyomo.handoff_s,
               "array_s": array_build + arrays.handoff_s}
    print(f"\n== (2) K = {data.demand.shape[0]}, {len(data.base.skus)} SKUs: "
          f"{built.matrix.n_cols:,} columns, {built.matrix.n_rows:,} rows")
    print(f"Pyomo build {pyomo_build:.2f} s + APPSI hand-off {pyomo.handoff_s:.2f} s = "
          f"{figures['pyomo_s']:.2f} s;  arrays build {array_build:.3f} s + passModel "
          f"{arrays.handoff_s:.3f} s = {figures['array_s']:.3f} s")
    print(f"optimum via Pyomo {pyomo.objective:,.2f} CNY, via arrays {arrays.objective:,.2f} "
          f"CNY (HiGHS {pyomo.highs_s:.2f} / {arrays.highs_s:.2f} s)")
    return figures


def measure() -> list[tuple[str, str, str, str]]:
    whole, data = time_whole(window(SKUS, SCENARIOS))
    ratio = time_ratio(first_scenarios(data, RATIO_SCENARIOS))
    total = whole["data_s"] + whole["solve_s"]
    size = f"{SKUS} SKUs, K = {SCENARIOS}"
    return [
        (f"Peak SAA {size}: optimize_peak s (data + solve)", f"{total:.1f}",
         f"< {TARGET_S:g} s", verdict(total < TARGET_S)),
        (f"Peak SAA {size}: solve_peak s (build, hand-off, HiGHS, EEV, WS)",
         f"{whole['solve_s']:.1f}", f"< {TARGET_S:g} s", verdict(whole["solve_s"] < TARGET_S)),
        ("  peak_data s (of which the rules' runs)",
         f"{whole['data_s']:.1f} ({whole['data_s'] - whole['inputs_s']:.1f})", "report", "-"),
        ("  RP build / hand-off / HiGHS s",
         f"{whole['build_s']:.2f} / {whole['handoff_s']:.2f} / {whole['highs_s']:.1f}",
         "report", "-"),
        ("  EV plan, EEV, wait-and-see, plan tables s", f"{whole['rest_s']:.1f}", "report", "-"),
        (f"Peak K = {RATIO_SCENARIOS}, {SKUS} SKUs: Pyomo / array build + hand-off s",
         f"{ratio['pyomo_s']:.2f} / {ratio['array_s']:.3f}", "report", "-"),
        (f"Peak K = {RATIO_SCENARIOS}: Pyomo / array ratio",
         f"{ratio['pyomo_s'] / ratio['array_s']:,.0f}x", "report", "-"),
    ]


def main() -> None:
    began = time.perf_counter()
    print(f"loadavg at start {tuple(round(x, 2) for x in os.getloadavg())}")
    print_summary(f"peak SAA at {SKUS} SKUs", measure(), began)


if __name__ == "__main__":
    main()
