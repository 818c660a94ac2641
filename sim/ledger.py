"""Money: dated cash flows in their own currency and in CNY along a simulated FX path.

Every entry has an accrual day (when the business event happened) and a cash day (when money
moves: marketplace payouts on their cycle, supplier invoices on their terms). Margins are the
sum of entries by category; cash position is the running sum by cash day. Amounts are signed
from the seller's point of view (money in is positive).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.integrity import RunIntegrityError

CATEGORIES = (
    "sales", "vat", "commission", "payment_fee", "refund", "parcel_freight", "last_mile",
    "parcel_duty", "pick_pack", "storage", "inbound_fee", "ads", "return_shipping",
    "disposition", "liquidation", "purchase", "inbound_freight", "import_duty",
    "promotion", "owned_channel",
    "aged_surcharge", "clearance_fee", "clearance_proceeds",
    "dispute_fee", "agent_wages", "overheads",
    "import_vat", "export_rebate",
    "insurance", "undeliverable",
)
_CATEGORY_CODE = {name: code for code, name in enumerate(CATEGORIES)}
CAPITALISED = ("purchase", "inbound_freight", "import_duty")
"""Flows that become inventory value and reach the margin only as cost of goods sold."""
FIXED = ("agent_wages", "overheads")
"""Costs that follow no order: below the contribution margin, they lead to operating profit
(customer-service agents are paid for their shifts whatever the tickets, ``sim.staffing``)."""


def fx_path(rng: np.random.Generator, start_rates: np.ndarray, volatility: np.ndarray,
            n_days: int) -> np.ndarray:
    """CNY per unit of each currency per day [currency, day]: a driftless lognormal walk."""
    shocks = rng.normal(0.0, 1.0, (len(start_rates), n_days - 1)) * volatility[:, None]
    log_path = np.concatenate([np.zeros((len(start_rates), 1)), np.cumsum(shocks, axis=1)], 1)
    return start_rates[:, None] * np.exp(log_path - 0.5 * volatility[:, None] ** 2
                                         * np.arange(n_days)[None, :])


def _sum_by_key(key: np.ndarray, *values: np.ndarray) -> tuple[np.ndarray, ...]:
    """Sum values per distinct key in O(n): one call's keys cover a few days and markets,
    so after dropping their common factors they span a small range that bincount can use."""
    low = key.min()
    offset = key - low
    step = np.gcd.reduce(offset) if offset.any() else 1
    dense = offset // step
    span = int(dense.max()) + 1
    if span > 8 * key.size:
        return (key, *values)
    present = np.bincount(dense, minlength=span) > 0
    sums = [np.bincount(dense, v, minlength=span)[present] for v in values]
    return (low + step * np.flatnonzero(present), *sums)


class Ledger:
    """Entries are summed per (accrual day, cash day, market, category, currency) as they
    are booked, so the ledger grows with days and categories, not with orders.

    A day books a few dozen small batches, so small bookings are copied into preallocated
    column buffers and added to their keys' totals a buffer at a time (keying each call
    cost more than the booking); a large booking is keyed and summed per key at once. Rows
    are added in booking order, so every total is the same left-to-right sum whenever the
    buffer is emptied, and each row is touched once whatever the number of distinct keys.

    A row's key packs its five fields as digits of one int64, each digit's base at least
    the number of values it takes, so no two rows share a key whatever the number of
    markets or currencies; a horizon too long to pack is refused when the ledger is made.
    """

    DENSE_FROM_ROWS = 512
    BUFFER_ROWS = 8192

    def __init__(self, currencies: list[str], fx: np.ndarray, n_markets: int) -> None:
        self.currencies = currencies
        self.fx = fx
        self.n_days = fx.shape[1]
        # The smallest bases are the historical ones, so keys (and row order) are unchanged
        # where they were already distinct.
        self._base_currency = max(64, len(currencies))
        self._base_market = max(1024, n_markets + 1)
        self._base_category = max(32, len(CATEGORIES))
        self._per_cash_day = self._base_market * self._base_currency * self._base_category
        keys = self.n_days * self.n_days * self._per_cash_day
        if keys >= 2**63:
            raise RunIntegrityError(
                f"the ledger cannot key {self.n_days} days x {n_markets} markets x "
                f"{len(currencies)} currencies: {keys:.3g} keys exceed int64 ({2**63:.3g}); "
                "shorten the horizon or merge markets")
        self._slot: dict[int, int] = {}
        """Each key's place in the totals, in the order keys were first booked."""
        self._totals = np.zeros((2, 1024))
        """Amount and CNY amount per key [2, slot]."""
        # Rows booked but not yet added: accrual day, cash day, market, currency, category.
        self._fields = np.empty((5, self.BUFFER_ROWS), dtype=np.int64)
        self._values = np.empty((2, self.BUFFER_ROWS))
        self._used = 0

    def book(self, category: str, currency: int | np.ndarray, amount: np.ndarray | float,
             accrual_day: np.ndarray | int, cash_day: np.ndarray | int,
             market: np.ndarray | int = -1) -> np.ndarray:
        """Record flows; returns their CNY value so capitalised costs match the ledger."""
        cash_day = np.minimum(cash_day, self.n_days - 1)
        amount = np.asarray(amount, dtype=float)
        amount_cny = amount * self.fx[currency, cash_day]
        n = amount_cny.size
        if not (amount_cny.ndim <= 1 and amount.shape == amount_cny.shape
                and n <= self.DENSE_FROM_ROWS
                and np.size(accrual_day) in (1, n) and np.size(market) in (1, n)):
            return self._book_rows(category, currency, amount, amount_cny, accrual_day,
                                   cash_day, market)
        if self._used + n > self.BUFFER_ROWS:
            self._flush()
        rows = slice(self._used, self._used + n)
        fields, values = self._fields, self._values
        fields[0, rows] = accrual_day
        fields[1, rows] = cash_day
        fields[2, rows] = market
        fields[3, rows] = currency
        fields[4, rows] = _CATEGORY_CODE[category]
        values[0, rows] = amount
        values[1, rows] = amount_cny
        self._used += n
        return amount_cny

    def _book_rows(self, category: str, currency: int | np.ndarray, amount: np.ndarray,
                   amount_cny: np.ndarray, accrual_day: np.ndarray | int,
                   cash_day: np.ndarray | int, market: np.ndarray | int) -> np.ndarray:
        """Key a booking at once (a large one is summed per key first), after the buffered
        rows so the order holds."""
        self._flush()
        key = self._key(np.asarray(accrual_day, dtype=np.int64), cash_day, np.asarray(market),
                        currency, _CATEGORY_CODE[category])
        key, rows, rows_cny = (np.ravel(a) for a in
                               np.broadcast_arrays(key, amount, amount_cny))
        if key.size > self.DENSE_FROM_ROWS:
            key, rows, rows_cny = _sum_by_key(key, rows, rows_cny)
        self._add(key, rows, rows_cny)
        return amount_cny

    def _key(self, accrual_day: np.ndarray, cash_day: np.ndarray | int,
             market: np.ndarray | int, currency: np.ndarray | int,
             category: np.ndarray | int) -> np.ndarray:
        return ((((accrual_day * self.n_days + cash_day) * self._base_market + market + 1)
                 * self._base_currency + currency) * self._base_category + category)

    def _flush(self) -> None:
        """Add the buffered rows to their totals."""
        if not self._used:
            return
        used, self._used = self._used, 0
        f = self._fields[:, :used]
        self._add(self._key(f[0], f[1], f[2], f[3], f[4]), self._values[0, :used],
                  self._values[1, :used])

    def _add(self, key: np.ndarray, amount: np.ndarray, amount_cny: np.ndarray) -> None:
        """Add rows to their keys' totals one by one in the given order (``np.add.at``)."""
        if not key.size:
            return
        inverse, distinct = pd.factorize(key)  # hashing: no sort
        slot = self._slot
        place = np.fromiter((slot.setdefault(k, len(slot)) for k in distinct.tolist()),
                            dtype=np.int64, count=len(distinct))[inverse]
        if len(slot) > self._totals.shape[1]:
            grown = np.zeros((2, 2 * len(slot)))
            grown[:, : self._totals.shape[1]] = self._totals
            self._totals = grown
        np.add.at(self._totals[0], place, amount)
        np.add.at(self._totals[1], place, amount_cny)

    def frame(self, markets: list[str]) -> pd.DataFrame:
        """One row per (accrual day, cash day, market, category, currency), summed."""
        self._flush()
        keys = np.fromiter(self._slot, dtype=np.int64, count=len(self._slot))
        order = np.argsort(keys)
        key = keys[order]
        totals = self._totals[:, : len(keys)][:, order]
        category, key = key % self._base_category, key // self._base_category
        currency, key = key % self._base_currency, key // self._base_currency
        market, key = key % self._base_market, key // self._base_market
        table = pd.DataFrame({
            "accrual_day": (key // self.n_days).astype("int32"),
            "cash_day": (key % self.n_days).astype("int32"),
            "market": np.array([*markets, ""], dtype=object)[market - 1],
            "category": pd.Categorical.from_codes(category, list(CATEGORIES)),
            "currency": pd.Categorical.from_codes(currency, self.currencies),
            "amount": totals[0],
            "amount_cny": totals[1],
        })
        return table
