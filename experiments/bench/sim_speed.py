"""How fast is the simulation? Cohort model against its targets and a naive per-order model.

Run on demand (not part of the tests)::

    python -m experiments.bench.sim_speed

Prints, all measured in this one run on this machine:

(a) the baseline year: wall time of ``simulate()``, orders, orders/s, days/s, and the time of
    a fresh ``python -c`` process doing import + load + simulate (target < 5 s);
(b) a 10x-demand variant of the baseline (~1 M orders; sessions and the capacities that would
    starve them - suppliers, parcel carriers, air departures, warehouse m3 - all x10 through
    ``load_scenario`` overrides): wall time (target < 30 s);
(c) a deliberately naive first-draft model of the same demand, one SimPy process per order with
    scalar random draws and Python-list records, and the speed-up of the cohort model over it
    (target >= 20x);
(d) what the commerce levers cost (prices and promotions, ranking, returning buyers, service
    rosters and disputes, warehouse work, exceptions, taxes over time, ageing stock, fixed
    costs): the baseline year as a whole process with every lever as the baseline sets it,
    against the same scenario with every lever neutral (the model before them), alternated
    run by run (target < 2x).

The naive model replays the baseline run's own orders (day, market, SKU, units, warehouse,
mode) so both models see the same demand, and does the same per-order bookkeeping; it skips
demand generation, replenishment planning, inventory valuation and the service queue, so
the ratio still flatters it.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import simpy
import yaml

from experiments.bench.summary import print_summary, verdict
from experiments.studies.levers import without_levers
from sim import economics
from sim.loader import load_scenario
from sim.model import simulate
from sim.results import RunResult
from sim.scenario import BulkMode, Scenario, daily_units_capacity

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
FALLBACK = ROOT / "tests" / "data" / "tiny.yaml"
DAYS = 365
SCALE = 10
SEED = 0
BASELINE_REPEATS = 3
PROCESS_REPEATS = 2
NAIVE_BUDGET_S = 60.0
"""Seconds for all naive repeats: the whole year if a pilot says it fits, else fewer days."""
NAIVE_PILOT_DAYS = 14
NAIVE_REPEATS = 2
NAIVE_SCALED_DAYS = 30
"""Days of the 10x demand replayed by the naive model (a year of it would take minutes)."""

TARGET_PROCESS_S = 5.0
TARGET_SCALED_S = 30.0
TARGET_RATIO = 20.0
TARGET_LEVERS = 2.0


# ---------------------------------------------------------------------------- scenarios
def scenario_file() -> Path:
    """The baseline, or the tiny test scenario while the baseline is missing or broken."""
    try:
        load_scenario(BASELINE)
        return BASELINE
    except Exception as exc:  # noqa: BLE001 - any failure means: use the fallback
        print(f"!! {BASELINE} does not load ({exc}); using {FALLBACK} instead")
        return FALLBACK


def scaled_overrides(scenario: Scenario, factor: float) -> list[str]:
    """Dotted-path overrides multiplying demand and the capacities that would starve it."""
    out = [f"markets.{m}.organic_sessions_per_day={spec.organic_sessions_per_day * factor}"
           for m, spec in scenario.markets.items()]
    out += [f"ad_channels.{c}.max_sessions_per_day={spec.max_sessions_per_day * factor}"
            for c, spec in scenario.ad_channels.items()]
    out += [f"suppliers.{s}.capacity_units_per_day={spec.capacity_units_per_day * factor}"
            for s, spec in scenario.suppliers.items() if spec.capacity_units_per_day]
    for k, spec in scenario.modes.items():
        if (units := daily_units_capacity(spec)) is not None:
            out.append(f"modes.{k}.capacity_units_per_day={units * factor}")
        # Bulk departures with a volume cap (air) carry the 10x replenishment too.
        if isinstance(spec, BulkMode) and spec.capacity_per_departure_m3 is not None:
            out.append(f"modes.{k}.capacity_per_departure_m3="
                       f"{spec.capacity_per_departure_m3 * factor}")
    # Overseas warehouses cap transfers by their m3; 10x the flow needs 10x the room.
    out += [f"warehouses.{w}.capacity_m3={room * factor}"
            for w, spec in scenario.warehouses.items() if (room := spec.capacity_m3) is not None]
    # And their packing lines 10x the orders (else late parcels sink the rating, and demand).
    out += [f"warehouses.{w}.picking.units_per_day={spec.picking.units_per_day * factor}"
            for w, spec in scenario.warehouses.items() if spec.picking is not None]
    return out


# ---------------------------------------------------------------------------- timing helpers
def time_simulate(scenario: Scenario, repeats: int, days: int
                  ) -> tuple[list[float], RunResult]:
    """Seconds per call of ``simulate()`` (tables and KPIs included), and the last result."""
    walls = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = simulate(scenario, seed=SEED, days=days)
        walls.append(time.perf_counter() - started)
    return walls, result


def time_fresh_process(file: Path, days: int) -> float:
    """Seconds for a new interpreter to import the model, load the scenario and run it."""
    code = ("from sim.loader import load_scenario; from sim.model import simulate; "
            f"simulate(load_scenario({str(file)!r}), seed={SEED}, days={days})")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
    return time.perf_counter() - started


# ---------------------------------------------------------------------------- naive model
class NaiveModel:
    """A first-draft per-entity model: one SimPy process per order, scalar draws, list records.

    It does per order the bookkeeping the cohort model does per day, so the comparison is of
    architecture, not of features: carrier capacity per day, processing and transit (with
    customs inspections), loss and damage, the order's money (sales, VAT, commission,
    payment fee, freight, pick-and-pack, parcel duty above de minimis) converted to CNY on
    the day, refunds of lost parcels, returns with refund, return shipping and disposition
    (restocked units go back on the shelf), the market's rolling rating, and service tickets.
    Stock is a ``simpy.Container`` per (warehouse, SKU), opened with 30 days of the replayed
    demand and topped up weekly to 45 days by one process per key (replenishment is not what
    is being compared).
    """

    def __init__(self, scenario: Scenario, orders, seed: int) -> None:
        self.env = simpy.Environment()
        self.rng = np.random.default_rng(seed)
        sc = self.scenario = scenario
        self.day = orders["order_day"].to_numpy().tolist()
        self.market = orders["market"].astype(str).to_numpy().tolist()
        self.sku = orders["sku"].astype(str).to_numpy().tolist()
        self.units = orders["units"].to_numpy().tolist()
        self.warehouse = orders["warehouse"].astype(str).to_numpy().tolist()
        self.mode = orders["mode"].astype(str).to_numpy().tolist()
        self.direct = orders["direct"].to_numpy().tolist()
        self.fx = {m: spec.fx_to_cny for m, spec in sc.markets.items()}
        self.rating = {m: sc.conversion.initial_rating for m in sc.markets}
        self.carrier_load: dict[tuple[str, int], int] = {}

        days = max(self.day) + 1 if self.day else 1
        per_key: dict[tuple[str, str], int] = {}
        for w, s, u in zip(self.warehouse, self.sku, self.units, strict=True):
            per_key[(w, s)] = per_key.get((w, s), 0) + u
        self.daily_mean = {key: total / days for key, total in per_key.items()}
        self.stock = {key: simpy.Container(self.env, init=int(30 * rate) + 1)
                      for key, rate in self.daily_mean.items()}
        self.records: dict[str, list] = {name: [] for name in (
            "order", "ship_time", "delivery_time", "on_time", "lost", "damaged", "returned")}
        self.ledger: list[tuple] = []
        self.tickets: list[tuple] = []
        self.lost_sales = 0

    def run(self, days: int) -> int:
        env = self.env
        env.process(self.order_source(days))
        env.process(self.exchange_rates(days))
        for key in self.stock:
            env.process(self.replenish(key, days))
        env.run(until=days + 60)
        return sum(1 for d in self.day if d < days)

    def order_source(self, days: int):
        env, i, n = self.env, 0, len(self.day)
        for t in range(days):
            yield env.timeout(t - env.now)
            while i < n and self.day[i] == t:
                env.process(self.order(i))
                i += 1

    def exchange_rates(self, days: int):
        env, rng = self.env, self.rng
        while env.now < days + 60:
            yield env.timeout(1)
            for m, spec in self.scenario.markets.items():
                self.fx[m] *= float(np.exp(rng.normal(0.0, spec.fx_daily_volatility)))

    def replenish(self, key, days: int):
        env, rate = self.env, self.daily_mean[key]
        while env.now < days:
            yield env.timeout(7)
            level = self.stock[key].level
            target = int(45 * rate) + 1
            if level < target:
                yield self.stock[key].put(target - level)

    def book(self, category: str, market: str, amount: float, cash_day: float) -> None:
        day = int(self.env.now)
        self.ledger.append((day, int(cash_day), market, category, amount,
                            amount * self.fx[market]))

    def order(self, i: int):
        env, rng, sc = self.env, self.rng, self.scenario
        market, sku, units, mode = self.market[i], self.sku[i], self.units[i], self.mode[i]
        m_spec, s_spec, k_spec = sc.markets[market], sc.skus[sku], sc.modes[mode]
        fulfil = sc.policies.fulfilment[market]
        placed = env.now + rng.random()
        yield env.timeout(placed - env.now)
        yield env.timeout(float(fulfil.order_processing_days.sample(rng, 1)[0]))
        shelf = self.stock[(self.warehouse[i], sku)]
        if shelf.level < units:
            self.lost_sales += 1
            return
        yield shelf.get(units)
        capacity = daily_units_capacity(k_spec)
        if capacity:
            day = int(env.now)
            while self.carrier_load.get((mode, day), 0) + units > capacity:
                day += 1
            self.carrier_load[(mode, day)] = self.carrier_load.get((mode, day), 0) + units
            yield env.timeout(max(day - env.now, 0.0))
        ship_time = env.now
        price = s_spec.price[market] * units
        payout = (int(env.now) // sc.finance.payout_cycle_days + 1) * sc.finance.payout_cycle_days
        vat = float(economics.vat_in_price(price, m_spec.vat_rate))
        self.book("sales", market, price, payout)
        self.book("vat", market, -vat, payout)
        self.book("commission", market,
                  -float(economics.commission(price, sc.finance.commission_rate)), payout)
        self.book("payment_fee", market,
                  -float(economics.payment_fee(price, sc.finance.payment_fee_rate)), payout)
        freight = float(economics.freight_per_unit(
            k_spec.cost_per_unit, k_spec.cost_per_kg, k_spec.cost_per_m3,
            k_spec.chargeable_kg_per_m3, s_spec.weight_kg, s_spec.volume_m3)) * units
        self.book("freight", market, -freight, env.now)
        self.book("pick_pack", market, -1.0, env.now)
        transit = float(k_spec.transit_days.sample(rng, 1)[0])
        if self.direct[i] and rng.random() < m_spec.customs.inspection_probability:
            transit += float(m_spec.customs.inspection_delay_days.sample(rng, 1)[0])
        yield env.timeout(transit)
        duty = float(economics.parcel_duty(price - vat, m_spec.duty_rate,
                                           m_spec.de_minimis_value))
        if self.direct[i] and duty > 0:
            self.book("parcel_duty", market, -duty, env.now)
        lost = rng.random() < k_spec.loss_probability
        damaged = not lost and rng.random() < k_spec.damage_probability
        late = env.now - placed > fulfil.promise_days
        cv = sc.conversion
        score = 5.0 - (cv.lost_rating_penalty if lost else 0.0) \
            - (cv.late_rating_penalty if late else 0.0)
        self.rating[market] += (score - self.rating[market]) / cv.rating_memory_days
        p = s_spec.base_return_probability * (sc.returns.late_multiplier if late else 1.0)
        if damaged:
            p = max(p, sc.returns.damaged_return_probability)
        returned = not lost and rng.random() < p
        if late and rng.random() < sc.service.tickets.per_late_order:
            self.tickets.append((env.now, "delay"))
        rec = self.records
        rec["order"].append(i)
        rec["ship_time"].append(ship_time)
        rec["delivery_time"].append(env.now)
        rec["on_time"].append(not late and not lost)
        rec["lost"].append(lost)
        rec["damaged"].append(damaged)
        rec["returned"].append(returned)
        if lost:
            if rng.random() < sc.service.tickets.per_lost_order:
                self.tickets.append((env.now, "loss"))
            self.book("refund", market, -price, payout)
            return
        if returned:
            yield env.timeout(float(sc.returns.return_window_days.sample(rng, 1)[0]))
            if rng.random() < sc.service.tickets.per_return:
                self.tickets.append((env.now, "return"))
            yield env.timeout(float(sc.returns.return_transit_days.sample(rng, 1)[0]))
            self.book("refund", market, -sc.returns.refund_fraction * price, env.now)
            self.book("return_shipping", market, -1.0, env.now)
            names = list(sc.returns.disposition)
            shares = [sc.returns.disposition[n].share for n in names]
            choice = names[int(rng.choice(len(names), p=np.array(shares) / sum(shares)))]
            yield env.timeout(float(sc.returns.inspection_days.sample(rng, 1)[0]))
            self.book("disposition", market, -sc.returns.disposition[choice].cost_per_unit_cny,
                      env.now)
            if choice == "restock" and not self.direct[i]:
                yield shelf.put(units)


def time_naive(scenario: Scenario, orders, days: int) -> tuple[int, float, dict[str, float]]:
    """Orders replayed, wall seconds and outcome shares of the naive model over ``days``."""
    cut = orders[orders["order_day"] < days].sort_values("order_day", kind="stable")
    started = time.perf_counter()
    model = NaiveModel(scenario, cut, SEED)
    n = model.run(days)
    seconds = time.perf_counter() - started
    shares = {k: float(np.mean(model.records[k])) if model.records[k] else float("nan")
              for k in ("on_time", "lost", "returned")}
    return n, seconds, shares


# ---------------------------------------------------------------------------- summary
def main() -> None:
    began = time.perf_counter()
    print("== machine")
    print(f"cpu_count={os.cpu_count()} loadavg={tuple(round(x, 2) for x in os.getloadavg())} "
          f"python={platform.python_version()} numpy={np.__version__} simpy={simpy.__version__}"
          f" {platform.platform()}")

    file = scenario_file()
    base = load_scenario(file)
    days = DAYS

    print(f"\n== (a) baseline: {file.relative_to(ROOT)}, {days} days, seed {SEED}")
    simulate(base, seed=SEED, days=min(days, 5))  # warm caches and lazy imports
    walls, result = time_simulate(base, BASELINE_REPEATS, days)
    n_orders = len(result.orders)
    wall = statistics.median(walls)
    base_rate = n_orders / wall
    print(f"simulate() wall s: {', '.join(f'{w:.3f}' for w in walls)} (median {wall:.3f})")
    print(f"orders {n_orders:,}  orders/s {base_rate:,.0f}  days/s {days / wall:,.1f}")
    process = [time_fresh_process(file, days) for _ in range(PROCESS_REPEATS)]
    print(f"fresh process (python -c: import + load + simulate) s: "
          f"{', '.join(f'{p:.2f}' for p in process)}")

    print(f"\n== (b) {SCALE}x demand and capacities")
    overrides = scaled_overrides(base, SCALE)
    for o in overrides:
        print(f"  --set {o}")
    scaled = load_scenario(file, overrides=overrides)
    walls_b, result_b = time_simulate(scaled, 1, days)
    wall_b = walls_b[0]
    n_b = len(result_b.orders)
    print(f"simulate() wall s: {wall_b:.3f}  "
          f"orders {n_b:,}  orders/s {n_b / wall_b:,.0f}  "
          f"days/s {days / wall_b:,.1f}  "
          f"fill rate {result_b.summary.get('fill_rate', float('nan')):.3f} "
          f"(baseline {result.summary.get('fill_rate', float('nan')):.3f})")

    print("\n== (c) naive model: one SimPy process per order, same demand as (a)")
    pilot_n, pilot_s, _ = time_naive(base, result.orders, NAIVE_PILOT_DAYS)
    full_estimate = pilot_s / max(pilot_n, 1) * n_orders
    budget = NAIVE_BUDGET_S / NAIVE_REPEATS
    naive_days = days if full_estimate <= budget else max(
        NAIVE_PILOT_DAYS, int(days * budget / full_estimate))
    print(f"pilot {NAIVE_PILOT_DAYS} days: {pilot_n:,} orders in {pilot_s:.2f} s "
          f"(full year estimate {full_estimate:.1f} s) -> running {naive_days} days")
    runs = [time_naive(base, result.orders, naive_days) for _ in range(NAIVE_REPEATS)]
    print(f"naive wall s: {', '.join(f'{r[1]:.2f}' for r in runs)} (the fastest counts, "
          f"which favours the naive model)")
    naive_n, naive_s, shares = min(runs, key=lambda r: r[1])
    naive_rate = naive_n / naive_s
    scaled_note = "" if naive_days == days else \
        f" (scaled to the year: {n_orders / naive_rate:.1f} s)"
    print(f"naive: {naive_n:,} orders in {naive_s:.2f} s, orders/s {naive_rate:,.0f}"
          f"{scaled_note}")
    cohort = result.orders[result.orders["order_day"] < naive_days]
    print("sanity, naive vs cohort shares of orders: " + ", ".join(
        f"{k} {shares[k]:.3f}/{cohort[k].mean():.3f}" for k in shares))
    ratio = base_rate / naive_rate
    scaled_n, scaled_s, _ = time_naive(scaled, result_b.orders, NAIVE_SCALED_DAYS)
    naive_rate_b = scaled_n / scaled_s
    print(f"naive at {SCALE}x demand, first {NAIVE_SCALED_DAYS} days: {scaled_n:,} orders in "
          f"{scaled_s:.2f} s, orders/s {naive_rate_b:,.0f} "
          f"(the year would take ~{n_b / naive_rate_b:.0f} s)")
    ratio_b = (n_b / wall_b) / naive_rate_b
    # Cost of one more order in the cohort model: the slope between the two demand levels,
    # which leaves out its fixed cost per simulated day.
    marginal_s = (wall_b - wall) / max(n_b - n_orders, 1)
    ratio_marginal = (1.0 / naive_rate) / marginal_s if marginal_s > 0 else float("inf")
    print(f"cohort/naive orders/s: baseline {ratio:.1f}x, {SCALE}x variant {ratio_b:.1f}x; "
          f"per extra order: cohort {marginal_s * 1e6:.2f} us vs naive "
          f"{1e6 / naive_rate:.1f} us = {ratio_marginal:.0f}x; cohort fixed cost per day "
          f"~{(wall - marginal_s * n_orders) / days * 1e3:.2f} ms")

    print("\n== (d) the commerce levers: whole process, levers on against levers neutral")
    with tempfile.TemporaryDirectory() as tmp:
        neutral_file = Path(tmp) / "levers_off.yaml"
        neutral_file.write_text(yaml.safe_dump(without_levers(base).model_dump(
            mode="json", by_alias=True, exclude_none=True), sort_keys=False), encoding="utf-8")
        pairs = [(time_fresh_process(file, days), time_fresh_process(neutral_file, days))
                 for _ in range(PROCESS_REPEATS)]
    on = statistics.median(p[0] for p in pairs)
    off = statistics.median(p[1] for p in pairs)
    print(f"levers on s: {', '.join(f'{p[0]:.2f}' for p in pairs)} (median {on:.2f}); "
          f"levers neutral s: {', '.join(f'{p[1]:.2f}' for p in pairs)} (median {off:.2f})")

    rows = [
        ("(a) baseline simulate() wall s", f"{wall:.2f}", "-", "-"),
        ("(a) baseline orders/s", f"{base_rate:,.0f}", "-", "-"),
        ("(a) baseline days/s", f"{days / wall:,.0f}", "-", "-"),
        ("(a) baseline year, whole process s", f"{max(process):.2f}",
         f"< {TARGET_PROCESS_S:g}", verdict(max(process) < TARGET_PROCESS_S)),
        (f"(b) {SCALE}x demand simulate() wall s", f"{wall_b:.2f}",
         f"< {TARGET_SCALED_S:g}", verdict(wall_b < TARGET_SCALED_S)),
        (f"(b) {SCALE}x demand orders/s", f"{n_b / wall_b:,.0f}", "-", "-"),
        (f"(b) {SCALE}x demand days/s", f"{days / wall_b:,.0f}", "-", "-"),
        ("(c) naive orders/s", f"{naive_rate:,.0f}", "-", "-"),
        ("(c) cohort / naive orders/s, baseline", f"{ratio:.1f}x", f">= {TARGET_RATIO:g}x",
         verdict(ratio >= TARGET_RATIO)),
        (f"(c) cohort / naive orders/s, {SCALE}x demand", f"{ratio_b:.1f}x",
         f">= {TARGET_RATIO:g}x", verdict(ratio_b >= TARGET_RATIO)),
        ("(c) per extra order", f"{ratio_marginal:.0f}x", f">= {TARGET_RATIO:g}x",
         verdict(ratio_marginal >= TARGET_RATIO)),
        ("(d) whole process, levers on / neutral", f"{on / off:.2f}x",
         f"< {TARGET_LEVERS:g}x", verdict(on / off < TARGET_LEVERS)),
    ]
    print_summary(f"{file.name}, {days} days; whole process = slowest of "
                  f"{PROCESS_REPEATS} fresh runs", rows, began)


if __name__ == "__main__":
    main()
