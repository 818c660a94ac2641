"""Taxes over time: dated rate changes, import VAT's cash timing and China's export rebate.

Tariffs and tax rules change while goods are on their way. The US ended its USD 800 de
minimis exemption for all countries on 29 August 2025, so every parcel pays duty from that
day; the EU levies a flat EUR 3 per item on parcels under its EUR 150 duty exemption from
1 July 2026, until the exemption is abolished; the US-China tariff truce suspends 24 points
of reciprocal tariff until 10 November 2026. A market's ``taxes.changes`` give such dated
rates; ``compile_taxes`` turns them into [market, day] arrays, so a parcel pays the duty and
VAT in force on its day and a bulk load the duty in force on its clearance day, and landed
cost moves from the change's date on.

Import VAT on bulk loads is paid at clearance and recovered as input VAT on the VAT return
of the period the clearance falls in: two ledger entries of one category and one accrual
day, the payment in cash at clearance and the recovery in cash on the return's day, so they
net to nothing in the margin (up to the exchange rate between the two days) and tie up cash
in between.

Goods a Chinese seller exports earn back part of the VAT paid to their suppliers
(出口退税): the purchase value ex VAT times the rebate rate of the goods' tax code, booked as
income on the export day and paid some months later. Bulk loads are exports when their main
leg departs; direct parcels when they ship, if the scenario declares parcels for the rebate.
A returned unit re-exported from origin earns its rebate again (its repayment on re-import
is not modelled).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from sim import economics
from sim.calendar import EXTRA_DAYS, day_of
from sim.ledger import Ledger
from sim.scenario import Scenario


@dataclass(frozen=True)
class TaxTable:
    """Rates in force per market and day [market, day], and the export rebate per SKU."""

    duty_rate: np.ndarray
    vat_rate: np.ndarray
    de_minimis: np.ndarray
    """Market currency per parcel."""
    low_value_duty: np.ndarray
    """Flat duty of a parcel at or below the de minimis value, market currency."""
    vat_recovery_day: np.ndarray
    """The day import VAT paid on a day comes back; -1 where import VAT is not modelled."""
    rebate_per_unit: np.ndarray
    """CNY per unit exported [sku]."""
    rebate_delay_days: int
    rebate_parcels: bool


def compile_taxes(sc: Scenario, markets: list[str], skus: list[str]) -> TaxTable:
    """The scenario's rates as day-indexed arrays over the timeline's days."""
    n = sc.horizon.days + EXTRA_DAYS
    spec = [sc.markets[m] for m in markets]
    rates = {name: np.repeat(np.array(base, dtype=float)[:, None], n, axis=1) for name, base in (
        ("duty_rate", [m.duty_rate for m in spec]), ("vat_rate", [m.vat_rate for m in spec]),
        ("de_minimis_value", [m.de_minimis_value for m in spec]),
        ("low_value_duty_per_parcel", [0.0] * len(spec)))}
    recovery = np.full((len(spec), n), -1, dtype=np.int64)
    for i, market in enumerate(spec):
        if market.taxes is None:
            continue
        for change in market.taxes.changes:
            start = min(max(day_of(sc, change.start), 0), n)
            for name, row in rates.items():
                value = getattr(change, name)
                if value is not None:
                    row[i, start:] = value
        if market.taxes.import_vat is not None:
            recovery[i] = vat_return_days(sc, market.taxes.import_vat.return_period_months,
                                          market.taxes.import_vat.recovered_days_after_period,
                                          n)
    rebate = sc.finance.export_rebate
    per_unit = np.zeros(len(skus))
    if rebate is not None:
        per_unit = economics.export_rebate(
            np.array([sc.skus[s].unit_cost_cny for s in skus]), rebate.purchase_vat_rate,
            np.array([rebate.rate_by_category.get(sc.skus[s].category, 0.0) for s in skus]))
    return TaxTable(
        duty_rate=rates["duty_rate"], vat_rate=rates["vat_rate"],
        de_minimis=rates["de_minimis_value"], low_value_duty=rates["low_value_duty_per_parcel"],
        vat_recovery_day=recovery, rebate_per_unit=per_unit,
        rebate_delay_days=rebate.delay_days if rebate is not None else 0,
        rebate_parcels=rebate is not None and rebate.parcels)


def vat_return_days(sc: Scenario, period_months: int, days_after: int, n: int) -> np.ndarray:
    """For each day, the day the VAT return of its calendar period (monthly, quarterly or
    yearly) recovers input VAT: the period's last day plus ``days_after``."""
    start = np.datetime64(sc.horizon.start_date, "D")
    months = (start + np.arange(n)).astype("datetime64[M]").astype(np.int64)  # since 1970-01
    next_period = ((months // period_months + 1) * period_months).astype("datetime64[M]")
    last_day = (next_period.astype("datetime64[D]") - start).astype(np.int64) - 1
    return last_day + days_after


def pay_import_vat(taxes: TaxTable, ledger: Ledger, m: int, currency: int,
                   customs_value: np.ndarray, duty: np.ndarray, day: int) -> None:
    """Import VAT of a bulk load cleared in market ``m`` on ``day`` (values in the market's
    currency): paid today, recovered on the VAT return's day."""
    recovered = int(taxes.vat_recovery_day[m, day])
    if recovered < 0:
        return
    vat = float(economics.import_vat(customs_value, duty, taxes.vat_rate[m, day]).sum())
    if vat > 0:
        ledger.book("import_vat", currency, -vat, day, day, m)
        ledger.book("import_vat", currency, vat, day, recovered, m)


def rebate_exports(taxes: TaxTable, ledger: Ledger, kind: Literal["bulk", "parcel"],
                   sku: np.ndarray, units: np.ndarray, day: np.ndarray | int,
                   market: np.ndarray | int) -> None:
    """The export VAT rebate of goods leaving China on ``day``, income paid after the
    rebate's delay (parcels only where the scenario declares them)."""
    if kind == "parcel" and not taxes.rebate_parcels:
        return
    rebate = taxes.rebate_per_unit[sku] * units
    if rebate.any():
        ledger.book("export_rebate", 0, rebate, day, np.asarray(day) + taxes.rebate_delay_days,
                    market)
