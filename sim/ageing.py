"""Ageing stock: lots by receipt week, aged-stock surcharges and end-of-season clearances.

Stock is valued at average cost (``sim.inventory.Stock``); its ages are kept beside it, in
a compact form: units per (warehouse, SKU, lot), where lot 0 holds what was received this
week (weeks count from day 0), lot j what was received j weeks ago and the last lot
everything older than about a year. Units leave first in, first out, the oldest lot first,
whichever unit is picked (as Amazon counts age across its network), for orders and bulk
loads alike; a receipt, a restocked return among them, joins this week's lot.

Age. A lot's age on day t counts from the first day of its receipt week, so lot j is
t - 7 (week - j) days old: never younger than its units, at most 6 days older. A unit
received on day 0 is exactly t days old on day t. The last lot is at least ``CAP_DAYS``
old (the mean age KPI follows its exact mean receipt day).

Opening stock. Sold first in, first out at a steady run-rate, D days of cover hold units
whose ages spread evenly over 0 .. D; the opening stock of a warehouse (the scenario's or
an opening state's) is spread evenly over the weeks of its ``initial_stock_days``.

Surcharges. On the assessment day of each month (Amazon's snapshot is on the 15th) a
warehouse with age tiers charges every unit its volume times the fee of the last tier
whose start its age has reached, booked as ``aged_surcharge`` in the warehouse's currency:

    surcharge_w = sum_s sum_j lots[w, s, j] volume_s fee_w(age_j),
    fee_w(a)    = fee_per_m3_month of the last tier with from_days <= a (0 before the first)

Clearances. On its date a clearance takes the units more than ``older_than_days`` old off
its warehouses' shelves (these are the oldest lots, so an issue takes exactly them): a
liquidation brings back recovery_fraction_of_cost x unit cost in CNY
(``clearance_proceeds``), liquidation and disposal pay fee_per_unit in the warehouse's
currency (``clearance_fee``); hold leaves them. Their value at average cost is written off
and their units counted as cleared (``StockCounts``), so units and money still balance.

KPIs. Turnover = cost of goods sold x 365 / days / average value of the stock on hand and
in transit, against the scenario's target (the sources' 6-8 a year); the mean age of the
units on hand at overseas warehouses (weighted by units and days after the warm-up); the
units there more than ``AGED_DAYS`` old on an average day; the units cleared.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from sim import economics
from sim.inventory import Stock
from sim.ledger import Ledger
from sim.lots import Lots

if TYPE_CHECKING:
    from sim.network import Network


def open_lots(net: Network, stock: Stock, clock: Callable[[], float]) -> None:
    """Give the opening stock its ages (spread evenly over each warehouse's weeks of cover)
    and keep the ages of every unit from now on."""
    table = net.ageing
    lots = Lots(len(net.warehouses), net.n_skus, table.lots, clock)
    weeks = table.opening_weeks[:, None, None]
    lot = np.arange(table.lots)
    on_hand = stock.on_hand[:, :, None]
    lots.units = np.where(lot < weeks, on_hand // weeks + (lot < on_hand % weeks), 0)
    stock.lots = lots


def assess(t: int, net: Network, ledger: Ledger, stock: Stock) -> None:
    """Day ``t``'s clearances, the month's surcharges on its assessment day, and the ages
    the KPIs sum."""
    lots = stock.lots
    if lots is None:
        return
    table = net.ageing
    for i in table.clearances.get(t, []):
        clear(t, net, ledger, stock, i)
    if table.assessment[t]:
        charge_surcharges(t, net, ledger, stock)
    if t >= net.scenario.horizon.warmup_days:
        lots.observe(t, table.overseas)


def surcharge_per_unit(net: Network, w: int, ages: np.ndarray) -> np.ndarray:
    """The month's surcharge on one unit [sku, lot] of each lot's age at warehouse ``w``,
    warehouse currency."""
    starts, fees = net.ageing.tier_from[w], net.ageing.tier_fee[w]
    if not len(starts):
        return np.zeros((net.n_skus, len(ages)))
    tier = np.searchsorted(starts, ages, side="right") - 1
    fee = np.where(tier >= 0, fees[np.maximum(tier, 0)], 0.0)
    return net.catalog.volume[:, None] * fee[None, :]


def charge_surcharges(t: int, net: Network, ledger: Ledger, stock: Stock) -> None:
    lots = stock.lots
    assert lots is not None
    ages = lots.ages(t)
    for w, starts in enumerate(net.ageing.tier_from):
        if not len(starts):
            continue
        fee = float((lots.units[w] * surcharge_per_unit(net, w, ages)).sum())
        if fee > 0:
            ledger.book("aged_surcharge", int(net.warehouse.currency[w]), -fee, t, t)


def clear(t: int, net: Network, ledger: Ledger, stock: Stock, i: int) -> None:
    """Clearance ``i``: the units older than its age leave its warehouses."""
    spec = net.scenario.ageing.clearance[i]
    lots = stock.lots
    if spec.action == "hold" or lots is None:
        return
    old = lots.ages(t) > spec.older_than_days
    for w in net.ageing.clearance_warehouses[i]:
        units = lots.units[w][:, old].sum(axis=1)
        skus = np.flatnonzero(units > 0)
        if not len(skus):
            continue
        units = units[skus]
        value = stock.issue(int(w), skus, units)
        stock.counts.cleared += int(units.sum())
        stock.counts.write_off_cny += float(value.sum())
        if spec.fee_per_unit > 0:
            ledger.book("clearance_fee", int(net.warehouse.currency[w]),
                        -spec.fee_per_unit * float(units.sum()), t, t)
        if spec.recovery_fraction_of_cost > 0:
            recovery = economics.recovery(net.catalog.unit_cost[skus],
                                          spec.recovery_fraction_of_cost) @ units
            ledger.book("clearance_proceeds", 0, float(recovery), t, t)


def annual_turnover(cogs_cny: float, stock_value_cny: np.ndarray, days: int) -> float:
    """Cost of goods sold a year over the average stock value (turns a year); 0 without
    stock."""
    mean = float(np.mean(stock_value_cny)) if len(stock_value_cny) else 0.0
    return cogs_cny * 365.0 / days / mean if mean else 0.0


def kpis(net: Network, stock: Stock, turnover: float) -> dict[str, float]:
    """Turnover against its target and the stock-age KPIs (see the module docstring)."""
    lots = stock.lots
    age = aged = 0.0
    if lots is not None and lots.unit_days > 0:
        age, aged = lots.age_unit_days / lots.unit_days, lots.aged_unit_days / lots.days
    return {
        "inventory_turnover_vs_target": turnover / net.scenario.ageing.turnover_target_per_year,
        "mean_stock_age_days": age,
        "aged_stock_units": aged,
        "cleared_units": stock.counts.cleared,
    }
