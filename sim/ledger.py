"""Money: dated cash flows in their own currency and in CNY along a simulated FX path.

Every entry has an accrual day (when the business event happened) and a cash day (when money
moves: marketplace payouts on their cycle, supplier invoices on their terms). Margins are the
sum of entries by category; cash position is the running sum by cash day. Amounts are signed
from the seller's point of view (money in is positive).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.recorder import Recorder

CATEGORIES = (
    "sales", "vat", "commission", "payment_fee", "refund", "parcel_freight", "last_mile",
    "parcel_duty", "pick_pack", "storage", "inbound_fee", "ads", "return_shipping",
    "disposition", "liquidation", "purchase", "inbound_freight", "import_duty",
)
CAPITALISED = ("purchase", "inbound_freight", "import_duty")
"""Flows that become inventory value and reach the margin only as cost of goods sold."""


def fx_path(rng: np.random.Generator, start_rates: np.ndarray, volatility: np.ndarray,
            n_days: int) -> np.ndarray:
    """CNY per unit of each currency per day [currency, day]: a driftless lognormal walk."""
    shocks = rng.normal(0.0, 1.0, (len(start_rates), n_days - 1)) * volatility[:, None]
    log_path = np.concatenate([np.zeros((len(start_rates), 1)), np.cumsum(shocks, axis=1)], 1)
    return start_rates[:, None] * np.exp(log_path - 0.5 * volatility[:, None] ** 2
                                         * np.arange(n_days)[None, :])


class Ledger:
    def __init__(self, currencies: list[str], fx: np.ndarray) -> None:
        self.currencies = currencies
        self.fx = fx
        self._rows = Recorder({"accrual_day": "int32", "cash_day": "int32", "market": "int16",
                               "category": "int8", "currency": "int8", "amount": "float64",
                               "amount_cny": "float64"})

    def book(self, category: str, currency: int | np.ndarray, amount: np.ndarray | float,
             accrual_day: np.ndarray | int, cash_day: np.ndarray | int,
             market: np.ndarray | int = -1) -> np.ndarray:
        """Record flows; returns their CNY value so capitalised costs match the ledger."""
        cash_day = np.minimum(np.asarray(cash_day), self.fx.shape[1] - 1)
        amount_cny = np.asarray(amount, dtype=float) * self.fx[currency, cash_day]
        self._rows.add(accrual_day=accrual_day, cash_day=cash_day, market=market,
                       category=CATEGORIES.index(category), currency=currency, amount=amount,
                       amount_cny=amount_cny)
        return amount_cny

    def frame(self, markets: list[str]) -> pd.DataFrame:
        """One row per (accrual day, cash day, market, category, currency), summed."""
        raw = self._rows.frame()
        keys = ["accrual_day", "cash_day", "market", "category", "currency"]
        table = raw.groupby(keys, as_index=False, sort=True)[["amount", "amount_cny"]].sum()
        table["category"] = pd.Categorical.from_codes(table["category"], list(CATEGORIES))
        table["currency"] = pd.Categorical.from_codes(table["currency"], self.currencies)
        names = np.array([*markets, ""], dtype=object)
        table["market"] = names[table["market"].to_numpy()]
        return table
