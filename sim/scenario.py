"""The scenario schema: the single source of truth for every parameter of the model.

A scenario file describes one cross-border operation: its calendar, markets, SKUs, traffic and
ad channels, suppliers, warehouses, transport modes and lanes, returns, customer service,
finance and the policies that run it. Every model here is immutable and forbids unknown keys,
so a typo in a YAML file is an error with its dotted path, never a silently ignored setting.

Units live in the names: ``*_days``, ``*_hours``, ``*_cny``, ``*_m3``, ``*_kg``, ``*_rate``
(a fraction per event), ``*_probability`` (in [0, 1]). Money without ``_cny`` in its name is in
the currency the enclosing object names (a market's, a warehouse's or a mode's ``currency``).
Dates are ISO dates; windows are ``{start: DATE, days: N}``.

Every number is bounded so that whatever validates runs within memory and time: the bounds
(module constants below) are far beyond any real operation (fifty years, ten million
sessions a day, ten million CNY a unit) and stop only values that would overflow a draw, a
cast or the memory of a run. Numbers must be written as numbers: ``true`` or text is refused.
Names (markets, SKUs, warehouses, modes, channels, categories, events, the scenario) are
letters, digits, ``_`` and ``-`` (``NAME_PATTERN``): they become dotted paths, file names
and report headings, so a dot, a slash, a space or a newline in one is refused.
"""

from __future__ import annotations

import datetime as dt
import difflib
from itertools import pairwise
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import JsonDict

from sim.distributions import Distribution, NumberOnly

MAX_HORIZON_DAYS = 18_262
"""Fifty years: the longest run."""
MAX_WINDOW_DAYS = 36_525
"""A hundred years: the longest window (event, shutdown, disruption)."""
FIRST_DATE, LAST_DATE = dt.date(1970, 1, 1), dt.date(2199, 12, 31)
"""The dates a scenario may name (a window may run past the last by its length)."""
MAX_DAYS = 3650
"""Ten years: the longest delay, cover, term or cycle in days."""
MAX_PROMISE_DAYS = 365
"""The longest delivery promise (its effect on conversion is exponential)."""
MAX_WEEKS = 104
"""Two years: the longest window an optimiser plans in weeks."""
MAX_UNIT_MONEY = 1e7
"""The largest price, fee or rate per unit, kg, m3 or container (any currency)."""
MAX_AMOUNT = 1e12
"""The largest lump sum (cash, budget, contract) in CNY."""
MAX_SESSIONS_PER_DAY = 1e7
MAX_MULTIPLIER = 100.0
"""The largest factor on traffic (seasonality, a peak, a paid channel's conversion)."""
MAX_UNITS = 1e9
"""The largest quantity in units (stock levels, MOQ, capacities a day)."""
MIN_SIZE = 1e-6
"""The smallest weight (kg) or volume (m3) of a unit, capacity or container."""
MAX_AGENTS = 10_000
MAX_MARKETS = 60
"""With CNY, at most 61 currencies: the ledger codes 64."""
MAX_SKUS = 15_000
"""A catalogue of real size (issue 15 runs 10,000 SKUs); tables code SKUs as int16."""
MAX_ENTRIES = 1_000
"""The most entries of any other mapping or list (warehouses, modes, events, rules)."""
MAX_SEED = 2**63 - 1
NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$"
"""Letters, digits, '_' and '-', not starting with '-', at most 64 characters."""




def _finite(*, ge: float | None = None, gt: float | None = None, le: float | None = None,
            lt: float | None = None) -> Any:
    """Field bounds of a finite number (the reference renders them)."""
    return Field(ge=ge, gt=gt, le=le, lt=lt, allow_inf_nan=False)


Probability = Annotated[float, NumberOnly, _finite(ge=0, le=1)]
Multiplier = Annotated[float, NumberOnly, _finite(gt=0, le=MAX_MULTIPLIER)]
Days = Annotated[float, NumberOnly, _finite(ge=0, le=MAX_DAYS)]
PromiseDays = Annotated[float, NumberOnly, _finite(gt=0, le=MAX_PROMISE_DAYS)]
DaysCount = Annotated[int, NumberOnly, Field(ge=0, le=MAX_DAYS)]
PositiveDaysCount = Annotated[int, NumberOnly, Field(ge=1, le=MAX_DAYS)]
WindowDays = Annotated[int, NumberOnly, Field(ge=1, le=MAX_WINDOW_DAYS)]
Weeks = Annotated[int, NumberOnly, Field(ge=1, le=MAX_WEEKS)]
Date = Annotated[dt.date, Field(ge=FIRST_DATE, le=LAST_DATE)]
UnitMoney = Annotated[float, NumberOnly, _finite(ge=0, le=MAX_UNIT_MONEY)]
Price = Annotated[float, NumberOnly, _finite(ge=0.01, le=MAX_UNIT_MONEY)]
Amount = Annotated[float, NumberOnly, _finite(ge=0, le=MAX_AMOUNT)]
SpendPerDay = Annotated[float, NumberOnly, _finite(ge=0, le=1e8)]
Sessions = Annotated[float, NumberOnly, _finite(ge=0, le=MAX_SESSIONS_PER_DAY)]
Units = Annotated[float, NumberOnly, _finite(ge=0, le=MAX_UNITS)]
UnitsCount = Annotated[int, NumberOnly, Field(ge=0, le=int(MAX_UNITS))]
UnitsPerDay = Annotated[float, NumberOnly, _finite(ge=1e-3, le=MAX_UNITS)]
Size = Annotated[float, NumberOnly, _finite(ge=MIN_SIZE, le=MAX_UNITS)]
Stars = Annotated[float, NumberOnly, _finite(ge=0, le=5)]
Seed = Annotated[int, NumberOnly, Field(ge=0, le=MAX_SEED)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
Name = Annotated[str, Field(pattern=NAME_PATTERN)]
HorizonDays = Annotated[int, NumberOnly, Field(ge=1, le=MAX_HORIZON_DAYS)]
Hours = Annotated[float, NumberOnly, _finite(gt=0, le=24 * MAX_DAYS)]
Rate = Annotated[float, NumberOnly, _finite(ge=0, le=10)]
Carryover = Annotated[float, NumberOnly, _finite(ge=0, lt=1)]
SpendPerWeek = Annotated[float, NumberOnly, _finite(ge=1e-6, le=MAX_AMOUNT)]
WeekNumber = Annotated[int, Field(ge=1, le=MAX_HORIZON_DAYS // 7 + 1)]
"""A horizon week, 1 first (a mapping key: JSON writes it as text, so text is read)."""
"""A fraction or exponent that may exceed 1 (a surcharge rate, an elasticity)."""

T = TypeVar("T")
Entries = Annotated[list[T], Field(max_length=MAX_ENTRIES)]
ByName = Annotated[dict[Name, T], Field(max_length=MAX_ENTRIES)]
SomeByName = Annotated[dict[Name, T], Field(min_length=1, max_length=MAX_ENTRIES)]
Names = Annotated[list[Name], Field(min_length=1, max_length=MAX_ENTRIES)]

BASE_CURRENCY = "CNY"


def measured_in(symbol: str) -> JsonDict:
    """A field's unit where its name does not say it all, shown in the scenario reference."""
    return {"unit": symbol}


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CrossReferenceError(ValueError):
    """Values that are well typed but name something the scenario does not define:
    ``problems`` holds every one as (dotted path, reason), ``path`` and ``reason`` the first."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        self.path, self.reason = problems[0]
        super().__init__(f"{self.path}: {self.reason}")


# ----------------------------------------------------------------------------- calendar
class Window(Frozen):
    """A span of calendar days, e.g. a factory shutdown or a port-congestion episode."""

    start: Date = Field(description="first day of the window")
    days: WindowDays = Field(description="length of the window")


class PeakEvent(Window):
    """A sales event (Prime Day, Black Friday) that multiplies organic traffic; paid traffic
    follows the ad spend schedule (raise it for the event's weeks).

    Retail events come back every year; ``recurs_yearly`` says how ``start`` moves:
      ``date``     the same day of the year (11.11, the Christmas run-up);
      ``weekday``  the same n-th weekday of the same month (Prime Day on the 2nd Tuesday of
                   July). Black Friday, the day after the 4th Thursday of November, is the
                   4th Friday except when November begins on a Friday (2030, 2041), when this
                   rule puts it a week early: an approximation, kept for a rule one date gives.
    Null (the default) means this one window only.
    """

    merge_key: ClassVar[tuple[str, ...]] = ("name",)
    """What names an entry when a file that ``extends:`` another merges its list."""

    name: Name = Field(description="the event's name, which identifies it when a file extends "
                                    "another")
    demand_multiplier: Multiplier = Field(
        description="factor on the organic sessions (and the paid channels' reach) of every "
                    "day of the event", json_schema_extra=measured_in("x"))
    markets: Annotated[list[Name], Field(max_length=MAX_MARKETS)] | None = Field(
        None, description="markets affected; null means all")
    recurs_yearly: Literal["date", "weekday"] | None = Field(
        None, description="repeat every year on the same date or the same n-th weekday",
        examples=["weekday"])

    @model_validator(mode="after")
    def _recurs_every_year(self) -> PeakEvent:
        if self.recurs_yearly is None:
            return self
        if self.days >= 365:
            raise ValueError("a yearly event must last less than a year")
        if self.recurs_yearly == "date" and (self.start.month, self.start.day) == (2, 29):
            raise ValueError("a yearly event cannot start on 29 February (not every year has "
                             "one)")
        if self.recurs_yearly == "weekday" and self.start.day > 28:
            raise ValueError("a weekday recurrence needs the n-th weekday of every month: start "
                             "on or before the 28th")
        return self


class Horizon(Frozen):
    """The simulated period."""

    start_date: Date = Field(description="first simulated day")
    days: HorizonDays = Field(description="length of the run")
    warmup_days: Annotated[int, NumberOnly, Field(ge=0, le=MAX_HORIZON_DAYS)] = Field(
        0, description="days excluded from KPIs (steady-state studies)")

    @model_validator(mode="after")
    def _warmup_inside(self) -> Horizon:
        if self.warmup_days >= self.days:
            raise ValueError("warmup_days must be shorter than the horizon")
        return self


class Calendar(Frozen):
    """Seasons, sales events and the Chinese New Year factory shutdown."""

    seasonality_by_month: Annotated[list[Multiplier], Field(min_length=12, max_length=12)] = Field(
        description="factor on sessions in each month, January first; average 1 keeps the "
                    "yearly volume", json_schema_extra=measured_in("x"))
    peak_events: Entries[PeakEvent] = Field([], description="sales events; they merge by name "
                                                            "under extends")
    chinese_new_year: Window | None = Field(
        None, description="factory shutdown for suppliers that observe it")


# ----------------------------------------------------------------------------- markets, SKUs
class Customs(Frozen):
    """Import clearance of a market, for bulk loads and direct parcels alike."""

    clearance_days: Distribution = Field(description="time to clear an arrival",
                                         json_schema_extra=measured_in("days"))
    inspection_probability: Probability = Field(
        description="chance an arrival is inspected", json_schema_extra=measured_in("probability"))
    inspection_delay_days: Distribution = Field(description="extra time an inspection takes",
                                                json_schema_extra=measured_in("days"))


class TaxChange(Frozen):
    """Rates a market applies from a date on, until a later change: a new tariff, a VAT
    change, the end of a duty exemption. Fields left out keep their earlier value."""

    start: Date = Field(description="first day the new rates apply")
    duty_rate: Probability | None = Field(
        None, description="import duty on the customs value (bulk) or value ex VAT (parcels)",
        json_schema_extra=measured_in("fraction"))
    vat_rate: Probability | None = Field(
        None, description="VAT in prices, on sales and on bulk imports",
        json_schema_extra=measured_in("fraction"))
    de_minimis_value: UnitMoney | None = Field(
        None, description="direct parcels whose value (ex VAT) is at most this pay no "
                          "ad valorem duty", json_schema_extra=measured_in("market currency"))
    low_value_duty_per_parcel: UnitMoney | None = Field(
        None, description="flat duty a direct parcel at or below the de minimis value pays "
                          "(EU: EUR 3 per tariff item from 1 July 2026; an order is one SKU)",
        json_schema_extra=measured_in("market currency"))
    source: str = Field("", description="the law or announcement the change follows")

    @model_validator(mode="after")
    def _changes_something(self) -> TaxChange:
        if all(getattr(self, f) is None for f in TAX_RATES):
            raise ValueError(f"a tax change sets at least one of {', '.join(TAX_RATES)}")
        return self


TAX_RATES = ("duty_rate", "vat_rate", "de_minimis_value", "low_value_duty_per_parcel")
"""The rates a ``TaxChange`` may set, each a [market, day] array of ``sim.taxes``."""


class ImportVat(Frozen):
    """Import VAT on bulk loads: paid at clearance, recovered as input VAT on the VAT return
    of the period the clearance falls in (a cash-timing cost, not a margin cost)."""

    return_period_months: Literal[1, 3, 12] = Field(
        description="months a VAT return covers: 1 monthly, 3 quarterly, 12 yearly "
                    "(calendar periods)")
    recovered_days_after_period: DaysCount = Field(
        description="days from the period's end to the return that recovers the VAT (its "
                    "filing deadline, offset against VAT due or refunded)")


class MarketTaxes(Frozen):
    """A market's taxes over time: dated rate changes and import VAT's cash timing."""

    changes: Entries[TaxChange] = Field(
        [], description="dated changes, in date order; rates before the first are the "
                        "market's own")
    import_vat: ImportVat | None = Field(
        None, description="import VAT paid on bulk loads at clearance and recovered later; "
                          "null: not modelled (deferred or postponed accounting)")

    @model_validator(mode="after")
    def _in_date_order(self) -> MarketTaxes:
        starts = [c.start for c in self.changes]
        if any(b <= a for a, b in zip(starts, starts[1:], strict=False)):
            raise ValueError("tax changes must be in date order, one per date")
        return self


class Market(Frozen):
    """A selling country: its currency, taxes, customs and the traffic it brings."""

    currency: Currency = Field(description="ISO 4217 code of the currency prices are set in")
    fx_to_cny: Annotated[float, NumberOnly, _finite(ge=1e-6, le=1e6)] = Field(
        description="CNY per unit of the market currency on day 0",
        json_schema_extra=measured_in("CNY per market currency unit"))
    fx_daily_volatility: Annotated[float, NumberOnly, _finite(ge=0, le=0.05)] = Field(
        description="st. dev. of daily log FX change",
        json_schema_extra=measured_in("per day"))
    duty_rate: Probability = Field(description="import duty on the customs value",
                                   json_schema_extra=measured_in("fraction"))
    vat_rate: Probability = Field(description="prices are quoted including this VAT",
                                  json_schema_extra=measured_in("fraction"))
    de_minimis_value: UnitMoney = Field(
        description="direct parcels whose value (ex VAT) is at most this pay no duty",
        json_schema_extra=measured_in("market currency"))
    customs: Customs = Field(description="import clearance")
    organic_sessions_per_day: Sessions = Field(
        description="unpaid visits at seasonality 1, shared among SKUs by popularity",
        json_schema_extra=measured_in("sessions/day"))
    base_conversion_rate: Probability = Field(
        description="orders per session at the reference price, promise and initial rating",
        json_schema_extra=measured_in("orders/session"))
    stockout: Literal["lost_sales", "backorder"] = Field(
        description="what an order finds when nothing can ship it: lost, or waiting for stock")
    taxes: MarketTaxes | None = Field(
        None, description="dated tax changes and import VAT timing; null: the rates above "
                          "all run long, import VAT not modelled")


class Sku(Frozen):
    """A product the seller buys from one supplier and sells in every market."""

    category: Name = Field(description="product group; replenishment rules can select by it")
    supplier: Name = Field(description="the supplier that makes it")
    unit_cost_cny: Price = Field(description="ex-works purchase price per unit",
                                 json_schema_extra=measured_in("CNY"))
    price: dict[Name, Price] = Field(description="selling price per market, incl. VAT",
                                     json_schema_extra=measured_in("market currency"))
    reference_price: dict[Name, Price] | None = Field(
        None, description="market reference price for the price effect; null means price",
        json_schema_extra=measured_in("market currency"), examples=[{"US": 19.99}])
    weight_kg: Annotated[float, NumberOnly, _finite(ge=MIN_SIZE, le=1e5)] = Field(
        description="shipping weight of one unit")
    volume_m3: Annotated[float, NumberOnly, _finite(ge=MIN_SIZE, le=1e3)] = Field(
        description="packed volume of one unit")
    popularity: Annotated[float, NumberOnly, _finite(ge=0, le=1e6)] = Field(
        description="relative share of a market's sessions",
        json_schema_extra=measured_in("weight"))
    base_return_probability: Probability = Field(
        description="chance a unit delivered on time and intact comes back")


# ----------------------------------------------------------------------------- traffic, ads
class Traffic(Frozen):
    """Randomness of the organic traffic."""

    daily_noise_cv: Annotated[float, NumberOnly, _finite(ge=0, le=1)] = Field(
        description="day-to-day lognormal noise on sessions",
        json_schema_extra=measured_in("coefficient of variation"))


class AdChannel(Frozen):
    """A paid traffic source whose response saturates (Hill) and carries over (geometric).

    Paid sessions per day in market m on day t =
        max_sessions_per_day * share_m * season_m(t) * a_t^n / (a_t^n + K^n),
    where a_t is the adstock a_t = (1 - r) * spend_t + r * a_{t-1} (steady spend gives
    a = spend; r the daily carry-over) and season_m(t) = seasonality(month of t) x the product
    of the peak multipliers of market m on day t when ``follows_calendar`` (else 1): the
    market's appetite, the most a channel can buy, rises in a peak, while the spend that buys
    half of it (K) does not, so a peak day's spend buys more sessions.

    Carry-over, exactly one of:
      ``carryover``         r, the share of today's adstock left tomorrow (daily);
      ``weekly_carryover``  the share left a week later, the geometric adstock rate of a
                            weekly marketing-mix model (Robyn ``theta``, Meridian and
                            PyMC-Marketing geometric ``alpha``): r = weekly_carryover^(1/7).
    Saturation, exactly one of:
      ``cost_per_click``    K = cost_per_click * max_sessions_per_day: at low spend an n = 1
                            channel buys sessions at its cost per click; at spend K the
                            average cost of a session has doubled;
      ``half_saturation_spend_per_week``  K = this / 7: the steady spend per WEEK (channel
                            currency) that buys half the maximum (a Hill ``ec`` / half-
                            saturation read in spend per week). The adstock here is
                            normalised (weights sum to 1, as Meridian's and PyMC-Marketing's
                            ``normalize=True``); an unnormalised geometric adstock (Robyn's
                            x + theta x_prev) inflates steady spend by 1 / (1 - theta), so
                            its inflexion point is first multiplied by (1 - theta).
    Paid visitors convert at ``conversion_multiplier`` times the market's rate (shoppers who
    clicked a marketplace ad were already searching to buy).
    """

    currency: Currency = Field(description="currency the channel bills in")
    cost_per_click: Annotated[float, NumberOnly, _finite(ge=1e-6, le=1e4)] | None = Field(
        None, description="price of a session at low spend; sets K = this x "
                          "max_sessions_per_day (or give half_saturation_spend_per_week)",
        json_schema_extra=measured_in("channel currency per session"))
    half_saturation_spend_per_week: SpendPerWeek | None = Field(
        None, description="steady weekly spend buying half the maximum sessions (instead of "
                          "cost_per_click): K = this / 7 per day",
        json_schema_extra=measured_in("channel currency per week"), examples=[6300])
    conversion_multiplier: Multiplier = Field(
        description="paid visitors convert at this times the market's rate",
        json_schema_extra=measured_in("x"))
    max_sessions_per_day: Sessions = Field(
        description="sessions the channel brings at unlimited spend (season 1)",
        json_schema_extra=measured_in("sessions/day"))
    hill_exponent: Annotated[float, NumberOnly, _finite(ge=0.01, le=10)] = Field(
        description="shape of the response: 1 concave, above 1 S-shaped")
    carryover: Carryover | None = Field(
        None, description="daily adstock carry-over r",
        json_schema_extra=measured_in("fraction/day"))
    weekly_carryover: Carryover | None = Field(
        None, description="weekly geometric adstock rate (Robyn theta, Meridian alpha) "
                          "instead of carryover: r = this^(1/7)",
        json_schema_extra=measured_in("fraction/week"), examples=[0.3])
    follows_calendar: bool = Field(
        True, description="the maximum sessions follow the markets' seasonality and peaks")
    market_shares: dict[Name, Probability] = Field(
        description="share of the channel's sessions going to each market; sums to 1",
        json_schema_extra=measured_in("fraction"))

    @property
    def daily_carryover(self) -> float:
        """r, the daily carry-over rate, whichever convention the scenario gave."""
        if self.carryover is not None:
            return float(self.carryover)
        return float(self.weekly_carryover or 0.0) ** (1.0 / 7.0)

    @property
    def half_saturation_spend_per_day(self) -> float:
        """K, the steady spend per day that buys half the maximum sessions."""
        if self.cost_per_click is not None:
            return self.cost_per_click * self.max_sessions_per_day
        return float(self.half_saturation_spend_per_week or 0.0) / 7.0

    @model_validator(mode="after")
    def _one_of_each_convention(self) -> AdChannel:
        if (self.carryover is None) == (self.weekly_carryover is None):
            raise ValueError("give exactly one of carryover (daily) and weekly_carryover")
        if (self.cost_per_click is None) == (self.half_saturation_spend_per_week is None):
            raise ValueError("give exactly one of cost_per_click and "
                             "half_saturation_spend_per_week")
        return self

    @model_validator(mode="after")
    def _shares_sum_to_one(self) -> AdChannel:
        if abs(sum(self.market_shares.values()) - 1.0) > 1e-6:
            raise ValueError("market_shares must sum to 1")
        return self


class Conversion(Frozen):
    """Orders = Poisson(sessions x conversion); conversion responds to price, promise, rating.

    conversion = base_conversion_rate * (price / reference_price)^(-price_elasticity)
                 * exp(-promise_sensitivity_per_day * (promise_days - reference_promise_days))
                 * (rating / initial_rating)^rating_elasticity
    """

    price_elasticity: Rate = Field(
        description="conversion falls as (price / reference price) to the minus this")
    reference_promise_days: PromiseDays = Field(
        description="delivery promise at which the base conversion rate holds")
    promise_sensitivity_per_day: Annotated[float, NumberOnly, _finite(ge=0, le=1)] = Field(
        description="share of conversion lost per day of promise beyond the reference "
                    "(exponential)", json_schema_extra=measured_in("1/day"))
    rating_elasticity: Rate = Field(
        description="conversion moves as (rating / initial rating) to this power")
    initial_rating: Annotated[float, NumberOnly, Field(ge=1, le=5, allow_inf_nan=False)] = Field(
        description="star rating on day 0", json_schema_extra=measured_in("stars"))
    rating_memory_days: Annotated[float, NumberOnly, _finite(ge=0.01, le=MAX_DAYS)] = Field(
        description="time constant of the rolling rating")
    late_rating_penalty: Stars = Field(description="stars a late delivery costs",
                                       json_schema_extra=measured_in("stars"))
    lost_rating_penalty: Stars = Field(description="stars a lost parcel costs",
                                       json_schema_extra=measured_in("stars"))
    return_rating_penalty: Stars = Field(description="stars a return costs",
                                         json_schema_extra=measured_in("stars"))
    extra_units_per_order_mean: Annotated[float, NumberOnly, _finite(ge=0, le=100)] = Field(
        description="units per order = 1 + Poisson(this)", json_schema_extra=measured_in("units"))
    order_counts: Literal["poisson", "expected"] = Field(
        "poisson", description="'expected' replaces the Poisson draw by the expected units "
                               "as single-unit orders, rounded with carry-over: demand "
                               "without noise, to check a plan against its prediction")


# ----------------------------------------------------------------------------- commerce
class _Selection(Frozen):
    """Which SKUs and markets an entry applies to: named SKUs, SKUs of named categories, or
    (both null) every SKU; null markets mean every market."""

    skus: Annotated[list[Name], Field(max_length=MAX_SKUS)] | None = Field(
        None, description="SKUs it applies to; null (with null categories) means all")
    categories: Annotated[list[Name], Field(max_length=MAX_SKUS)] | None = Field(
        None, description="SKU categories it applies to (in addition to skus)")
    markets: Annotated[list[Name], Field(max_length=MAX_MARKETS)] | None = Field(
        None, description="markets it applies to; null means all")


class PriceChange(Window, _Selection):
    """A dated change of the selling price: the list price times ``price_factor`` on every
    day of the window (a price rise, a holiday cut, a permanent re-price with a long
    window). Overlapping changes multiply."""

    merge_key: ClassVar[tuple[str, ...]] = ("name",)
    name: Name = Field(description="identifies the change when a file extends another")
    price_factor: Annotated[float, NumberOnly, _finite(ge=0.05, le=20)] = Field(
        description="selling price / list price while it lasts", json_schema_extra=measured_in("x"))


class Promotion(Window, _Selection):
    """A deal or coupon event: a discount off the list price, a visibility lift (deal badge,
    event page), what the seller pays for it, and the purchases it borrows from the days
    after it.

    On the promoted SKUs, expected orders are multiplied by
        E = traffic_lift x (1 - discount)^(-price_elasticity)       during the event,
    and, over the ``dip_days`` after it, by
        D = max(0, 1 - pull_forward_share x (E - 1) x days / dip_days),
    so that a ``pull_forward_share`` of the event's extra orders are buyers who would have
    bought in the dip anyway (the post-event dip of deal analyses).
    """

    merge_key: ClassVar[tuple[str, ...]] = ("name",)
    name: Name = Field(description="identifies the promotion when a file extends another")
    discount: Annotated[float, NumberOnly, _finite(ge=0, le=0.95)] = Field(
        0.0, description="share off the list price", json_schema_extra=measured_in("fraction"))
    traffic_lift: Multiplier = Field(
        1.0, description="factor on the promoted SKUs' orders beyond the price effect "
                         "(deal badge, event placement)", json_schema_extra=measured_in("x"))
    coupon_cost_per_order: UnitMoney = Field(
        0.0, description="the marketplace's fee per redeemed coupon or deal order",
        json_schema_extra=measured_in("market currency"))
    deal_fee: UnitMoney = Field(
        0.0, description="the marketplace's fee for running the event, per market, paid on "
                         "its first day", json_schema_extra=measured_in("market currency"))
    pull_forward_share: Probability = Field(
        0.0, description="share of the extra orders that are purchases moved forward from "
                         "the days after the event", json_schema_extra=measured_in("fraction"))
    dip_days: DaysCount = Field(0, description="days after the event that lose those "
                                               "purchases")

    @model_validator(mode="after")
    def _dip_has_days(self) -> Promotion:
        if self.pull_forward_share > 0 and self.dip_days == 0:
            raise ValueError("a pull_forward_share needs dip_days > 0")
        return self


class Pricing(Frozen):
    """Selling prices over time: the list price (``skus.*.price``) with dated changes and
    promotions, and the floor a price should not go under."""

    changes: Entries[PriceChange] = Field(
        [], description="dated price changes; they merge by name under extends")
    promotions: Entries[Promotion] = Field(
        [], description="deals and coupons; they merge by name under extends")
    min_margin_on_cost: Annotated[float, NumberOnly, _finite(ge=0, le=10)] = Field(
        0.2, description="cost-plus floor: net revenue per unit should exceed the unit cost "
                         "by this share; validate and the report flag prices under it",
        json_schema_extra=measured_in("fraction of unit cost"))


class Ranking(Frozen):
    """The marketplace's ranking of each listing, as a factor on its organic sessions:

        rank_ms(t) = clip(v^velocity_elasticity x (1 - stockout_penalty x h)
                          x (rating_m / initial_rating)^rating_elasticity
                          x ((1 + reviews_ms) / (1 + initial_reviews))^review_elasticity,
                          min_factor, max_factor)

    v is the listing's sales velocity (units sold, smoothed over ``velocity_memory_days``)
    over its planning run-rate; h in [0, 1] is its stock-out memory: each day the listing
    cannot sell, h moves toward 1 with time constant ``stockout_onset_days``; each day it
    sells again, h decays with time constant ``stockout_recovery_days``, so the lost
    sessions come back as exp(-days / recovery). All zero elasticities and a zero penalty
    (the defaults) leave organic traffic as the calendar gives it.
    """

    velocity_elasticity: Annotated[float, NumberOnly, _finite(ge=0, le=2)] = Field(
        0.0, description="sessions follow (recent sales / run-rate) to this power")
    velocity_memory_days: Annotated[float, NumberOnly, _finite(ge=1, le=MAX_DAYS)] = Field(
        14.0, description="time constant of the smoothed sales velocity")
    stockout_penalty: Probability = Field(
        0.0, description="share of organic sessions a listing loses once its stock-out "
                         "memory is full", json_schema_extra=measured_in("fraction"))
    stockout_onset_days: Annotated[float, NumberOnly, _finite(ge=0.1, le=MAX_DAYS)] = Field(
        3.0, description="time constant with which a stock-out costs ranking")
    stockout_recovery_days: Annotated[float, NumberOnly, _finite(ge=0.1, le=MAX_DAYS)] = Field(
        21.0, description="time constant with which ranking comes back once in stock")
    rating_elasticity: Rate = Field(
        0.0, description="organic sessions follow (rating / initial rating) to this power")
    review_elasticity: Annotated[float, NumberOnly, _finite(ge=0, le=2)] = Field(
        0.0, description="organic sessions follow ((1 + reviews) / (1 + initial reviews)) to "
                         "this power")
    initial_reviews: UnitsCount = Field(100, description="reviews per listing on day 0")
    review_probability: Probability = Field(
        0.02, description="chance a delivered order leaves a review")
    min_factor: Annotated[float, NumberOnly, _finite(ge=0, le=1)] = Field(
        0.2, description="the lowest rank factor", json_schema_extra=measured_in("x"))
    max_factor: Annotated[float, NumberOnly, _finite(ge=1, le=MAX_MULTIPLIER)] = Field(
        3.0, description="the highest rank factor", json_schema_extra=measured_in("x"))


class OwnedChannel(Frozen):
    """Email and private groups (私域): past buyers reached at a cost per buyer and month,
    who then come back more often."""

    cost_per_buyer_month_cny: UnitMoney = Field(
        description="cost of keeping one past buyer reached for a month")
    repurchase_uplift: Multiplier = Field(
        description="factor on a reached buyer's repurchase probability",
        json_schema_extra=measured_in("x"))


class Customers(Frozen):
    """Buyers who come back. A delivered order's buyer buys again with probability

        q = clip(repurchase_probability + on_time_bonus [on time]
                 - late_penalty [late] - lost_penalty [lost] - return_penalty [returned], 0, 1)
            (x the owned channel's uplift, capped at 1),

    after an exponentially distributed delay of mean ``mean_days_to_repurchase``; returning
    buyers pick SKUs by popularity and pay the day's price. Zero repurchase probability (the
    default) leaves every order a first purchase.
    """

    repurchase_probability: Probability = Field(
        0.0, description="chance a buyer whose order arrived buys again")
    on_time_bonus: Probability = Field(0.0, description="added when it arrived on time")
    late_penalty: Probability = Field(0.0, description="taken off when it arrived late")
    lost_penalty: Probability = Field(0.0, description="taken off when the parcel was lost")
    return_penalty: Probability = Field(0.0, description="taken off when it came back")
    dispute_penalty: Probability = Field(
        0.0, description="taken off when the buyer's complaint was answered so late that it "
                         "became a dispute (``service.disputes``)")
    mean_days_to_repurchase: Annotated[float, NumberOnly, _finite(ge=1, le=MAX_DAYS)] = Field(
        90.0, description="mean delay from delivery to the next purchase")
    owned_channel: OwnedChannel | None = Field(None, description="email or private groups")


# ----------------------------------------------------------------------------- supply
class Supplier(Frozen):
    """A factory: purchase orders wait for production, then arrive late, short or defective
    with the probabilities below."""

    warehouse: Name = Field(description="origin warehouse the supplier delivers to")
    lead_time_days: Distribution = Field(description="production time of a purchase order")
    moq_units: UnitsCount = Field(description="minimum order quantity per SKU and order")
    capacity_units_per_day: UnitsPerDay = Field(
        description="units produced a day; a big order queues behind earlier ones")
    on_time_probability: Probability = Field(description="chance an order is not late")
    late_delay_days: Distribution = Field(description="how late a late order is")
    partial_delivery_probability: Probability = Field(
        description="chance an order arrives short")
    partial_fill_min: Probability = Field(
        description="a partial delivery ships a uniform fraction in [this, 1]",
        json_schema_extra=measured_in("fraction"))
    defect_rate: Probability = Field(
        description="share of delivered units rejected as defective",
        json_schema_extra=measured_in("fraction"))
    observes_chinese_new_year: bool = Field(
        description="the factory closes for calendar.chinese_new_year")
    shutdowns: Entries[Window] = Field([], description="other closures (holidays, audits)")
    payment_terms_days: DaysCount = Field(description="days from delivery to payment")


class Picking(Frozen):
    """Pick/pack throughput: orders wait their turn (first in, first out) when a day's
    units exceed what the warehouse can pick and pack.

    capacity on day t = units_per_day x (1 + peak_flex x (peak_t - 1)), where peak_t is the
    largest peak-event multiplier of the warehouse's markets that day (every market for an
    origin): 0 keeps the capacity flat, 1 staffs up in step with every sales event.
    """

    units_per_day: UnitsPerDay = Field(
        description="units picked and packed on a normal day", json_schema_extra=measured_in(
            "units/day"))
    peak_flex: Probability = Field(
        0.0, description="share of a peak event's traffic lift the capacity follows "
                         "(temporary staff, overtime)", json_schema_extra=measured_in("fraction"))
    labour_cost_per_unit: UnitMoney = Field(
        0.0, description="handling labour per unit on top of pick_pack_fee_per_order (an own "
                         "warehouse; a 3PL's fee covers its labour: 0)",
        json_schema_extra=measured_in("warehouse currency"))


class _Stockpoint(Frozen):
    """A stock point; fees in its currency."""

    currency: Currency = Field(description="currency the warehouse bills in")
    inbound_fee_per_unit: UnitMoney = Field(description="fee to receive a unit",
                                            json_schema_extra=measured_in("warehouse currency"))
    storage_fee_per_m3_day: UnitMoney = Field(
        description="storage fee on the volume held", json_schema_extra=measured_in(
            "warehouse currency per m3 per day"))
    pick_pack_fee_per_order: UnitMoney = Field(
        description="fee to ship an order", json_schema_extra=measured_in("warehouse currency"))
    capacity_m3: Size | None = Field(
        None, description="volume the warehouse holds; null: unlimited")
    initial_stock_days: Days = Field(description="opening stock in days of demand")
    picking: Picking | None = Field(
        None, description="pick/pack throughput and labour; null: unlimited, no labour cost")


class OriginWarehouse(_Stockpoint):
    """Where suppliers deliver (e.g. Shenzhen): it ships direct parcels and bulk loads."""

    kind: Literal["origin"] = Field(description="origin or overseas")
    market: None = Field(None, description="an origin warehouse sits in no market")


class OverseasWarehouse(_Stockpoint):
    """A 3PL or marketplace warehouse (FBA) in a market, filled by bulk lanes."""

    kind: Literal["overseas"] = Field(description="origin or overseas")
    market: Name = Field(description="market it sits in")


Warehouse = Annotated[OriginWarehouse | OverseasWarehouse, Field(discriminator="kind")]


# ----------------------------------------------------------------------------- logistics
class Surcharge(Window):
    """A peak surcharge on a mode's rate card; overlapping surcharges add up."""

    rate: Annotated[float, NumberOnly, _finite(ge=0, le=MAX_MULTIPLIER)] = Field(
        description="fractional peak surcharge on the mode's cost",
        json_schema_extra=measured_in("fraction"))


class CapacityCut(Window):
    """A carrier's rationed capacity; overlapping cuts multiply."""

    capacity_factor: Probability = Field(description="fraction of normal capacity left",
                                         json_schema_extra=measured_in("fraction"))


class _ModeBase(Frozen):
    """A transport mode's rate card (in ``currency``), transit time and risks."""

    currency: Currency = Field(description="currency of the rate card")
    transit_days: Distribution = Field(
        description="main leg (bulk: port to port) or door to door (parcels, last mile)")
    cost_per_kg: UnitMoney = Field(0.0, description="rate per chargeable kg",
                                   json_schema_extra=measured_in("mode currency per kg"))
    cost_per_m3: UnitMoney = Field(0.0, description="rate per m3 shipped",
                                   json_schema_extra=measured_in("mode currency per m3"))
    cost_per_unit: UnitMoney = Field(0.0, description="rate per unit or parcel",
                                     json_schema_extra=measured_in("mode currency per unit"))
    chargeable_kg_per_m3: Annotated[float, NumberOnly, _finite(ge=0, le=1e4)] = Field(
        0.0, description="volumetric weight factor: kg charged >= m3 x this (air: 167)",
        json_schema_extra=measured_in("kg per m3"))
    loss_probability: Probability = Field(description="chance a unit is lost on the way")
    damage_probability: Probability = Field(description="chance a unit arrives damaged")
    surcharges: Entries[Surcharge] = Field([], description="peak surcharges; replaced whole "
                                                           "under extends")
    capacity_cuts: Entries[CapacityCut] = Field([], description="rationed capacity; replaced "
                                                                "whole under extends")
    contract_fixed_cost_cny: Amount = Field(
        0.0, description="cost of using the mode on a lane at all over the plan horizon",
        examples=[50000])
    contract_min_units: Annotated[float, NumberOnly, _finite(ge=0, le=MAX_AMOUNT)] = Field(
        0.0, description="units a contract commits to over the horizon if the mode is used",
        json_schema_extra=measured_in("units"))


class BulkMode(_ModeBase):
    """Sea FCL/LCL, rail or air freight from an origin to an overseas warehouse: loads wait
    for a departure with room and may travel in whole containers."""

    family: Literal["bulk"] = Field(description="bulk, parcel or last_mile")
    departures_per_week: Annotated[float, NumberOnly, _finite(ge=0.01, le=100)] = Field(
        description="sailings, trains or flights a week",
        json_schema_extra=measured_in("departures/week"))
    capacity_per_departure_m3: Size | None = Field(
        None, description="the seller's allocation on one departure; null: unlimited")
    cost_per_container: UnitMoney = Field(
        0.0, description="rate per whole container (full container load)",
        json_schema_extra=measured_in("mode currency per container"))
    container_volume_m3: Annotated[float, NumberOnly, _finite(ge=0.01, le=1e4)] | None = Field(
        None, description="usable volume of one container; needed with cost_per_container")

    @model_validator(mode="after")
    def _containers_have_a_size(self) -> BulkMode:
        if self.cost_per_container > 0 and self.container_volume_m3 is None:
            raise ValueError("cost_per_container needs container_volume_m3")
        return self


class ParcelMode(_ModeBase):
    """Postal, dedicated line or express parcels from origin straight to the buyer."""

    family: Literal["parcel"] = Field(description="bulk, parcel or last_mile")
    capacity_units_per_day: UnitsPerDay | None = Field(
        None, description="units the carrier takes a day; null: unlimited")


class LastMileMode(_ModeBase):
    """Local delivery from an overseas warehouse to the buyer."""

    family: Literal["last_mile"] = Field(description="bulk, parcel or last_mile")
    capacity_units_per_day: UnitsPerDay | None = Field(
        None, description="units the carrier takes a day; null: unlimited")


Mode = Annotated[BulkMode | ParcelMode | LastMileMode, Field(discriminator="family")]


def daily_units_capacity(mode: BulkMode | ParcelMode | LastMileMode) -> float | None:
    """Units a day a parcel or last-mile carrier takes (None: unlimited, or a bulk mode)."""
    return None if isinstance(mode, BulkMode) else mode.capacity_units_per_day


class Lane(Frozen):
    """Which modes connect an origin warehouse to an overseas warehouse (bulk) or to a
    market (direct parcels). Bulk journeys: first mile, main leg, customs, final delivery."""

    origin: Name = Field(description="origin warehouse the lane leaves from")
    destination: Name = Field(description="overseas warehouse (bulk) or market (parcels)")
    modes: Names = Field(
        description="modes that run on the lane")
    first_mile_days: Distribution = Field(description="trucking from the warehouse to the "
                                                      "port or terminal")
    first_mile_cost_per_m3_cny: UnitMoney = Field(description="first-mile cost",
                                                  json_schema_extra=measured_in("CNY per m3"))
    final_delivery_days: Distribution = Field(
        description="drayage from the port of arrival into the warehouse")
    final_delivery_cost_per_m3_cny: UnitMoney = Field(description="final-delivery cost",
                                                      json_schema_extra=measured_in("CNY per m3"))


class Disruption(Window):
    """Port congestion or a lane closure: extra transit days and a capacity cut."""

    merge_key: ClassVar[tuple[str, ...]] = ("name",)

    name: Name = Field(description="the disruption's name, which identifies it when a file "
                                   "extends another")
    modes: Names = Field(description="modes it hits")
    extra_transit_days: Distribution = Field(description="delay added to every shipment of "
                                                         "those modes leaving in the window")
    capacity_factor: Probability = Field(description="fraction of normal capacity left",
                                         json_schema_extra=measured_in("fraction"))


# ----------------------------------------------------------------------------- after-sales
class Disposition(Frozen):
    """What happens to a returned unit after inspection, for a share of them."""

    share: Probability = Field(
        description="share of returned units that go this way; the shares sum to 1",
        json_schema_extra=measured_in("fraction"))
    cost_per_unit_cny: UnitMoney = Field(description="handling cost per unit")
    recovery_fraction_of_cost: Probability = Field(
        description="cash recovered per unit, as a fraction of its unit cost",
        json_schema_extra=measured_in("fraction"))
    delay_days: Distribution = Field(description="time from inspection to done (back on the "
                                                 "shelf, sold off, destroyed)")


DispositionName = Literal["restock", "liquidate", "dispose", "return_to_origin"]


class Returns(Frozen):
    """Each delivered order returns with its SKU's base probability, raised when late."""

    late_multiplier: Annotated[float, NumberOnly, _finite(ge=1, le=MAX_MULTIPLIER)] = Field(
        description="factor on the return probability of a late delivery",
        json_schema_extra=measured_in("x"))
    damaged_return_probability: Probability = Field(
        description="chance a damaged unit comes back")
    return_window_days: Distribution = Field(description="delivery to customer dispatch")
    return_transit_days: Distribution = Field(description="customer to the returns address")
    inspection_days: Distribution = Field(description="time to inspect a returned unit")
    refund_fraction: Probability = Field(description="share of the price refunded",
                                         json_schema_extra=measured_in("fraction"))
    return_shipping_cost_per_unit_cny: UnitMoney = Field(
        description="return label paid by the seller")
    disposition: dict[DispositionName, Disposition] = Field(
        description="restock, liquidate, dispose or return_to_origin, with their shares")

    @model_validator(mode="after")
    def _shares_sum_to_one(self) -> Returns:
        if abs(sum(d.share for d in self.disposition.values()) - 1.0) > 1e-6:
            raise ValueError("disposition shares must sum to 1")
        if "restock" in self.disposition and set(self.disposition) == {"restock"}:
            raise ValueError("'restock' needs a 'liquidate', 'dispose' or 'return_to_origin' "
                             "entry: returns of direct parcels have no overseas shelf")
        return self


LostParcelPolicy = Literal["refund", "reship"]


class Insurance(Frozen):
    """Shipping insurance: each insured parcel pays a premium on its order value; a lost
    insured parcel's claim pays that value back ``claim_days`` after the loss."""

    premium_rate: Probability = Field(description="premium on the order value (price incl. VAT)",
                                      json_schema_extra=measured_in("fraction"))
    modes: Annotated[list[Name], Field(max_length=MAX_ENTRIES)] | None = Field(
        None, description="parcel and last-mile modes insured; null: every one")
    claim_days: DaysCount = Field(30, description="from the loss to the insurer's payment")


class Undeliverable(Frozen):
    """Parcels a carrier cannot deliver (address, refusal, unclaimed): the customer is
    refunded; the goods come back to the warehouse that sent them, or are disposed of abroad,
    for a fee per parcel."""

    probability: Probability = Field(description="chance a parcel of the mode is undeliverable")
    action: Literal["return", "dispose"] = Field(
        description="back on the sending warehouse's shelf, or destroyed where it failed")
    fee_per_parcel_cny: UnitMoney = Field(description="return freight or disposal fee")
    return_days: Distribution | None = Field(
        None, description="failed delivery to back on the shelf (action return)",
        json_schema_extra=measured_in("days"))

    @model_validator(mode="after")
    def _return_takes_time(self) -> Undeliverable:
        if self.action == "return" and self.return_days is None:
            raise ValueError("action 'return' needs return_days")
        return self


class Defects(Frozen):
    """Chance an exception becomes an order defect (an A-to-z claim, a chargeback or
    negative feedback), dated on the day the customer learns of it."""

    lost: Probability = Field(description="per lost parcel")
    undeliverable: Probability = Field(description="per undeliverable parcel")
    late: Probability = Field(description="per parcel delivered after the promise")


class AccountHealth(Frozen):
    """The marketplace's account-health targets per market: a late-shipment rate over a
    rolling window and an order defect rate over another; while either is above its limit
    the market's conversion is multiplied by ``breach_factor``."""

    handling_days: PromiseDays = Field(
        1.0, description="an order shipped later than this after it was placed ships late")
    late_shipment_window_days: PositiveDaysCount = Field(
        30, description="days the late-shipment rate looks back over")
    late_shipment_limit: Probability = Field(
        0.04, description="the highest late-shipment rate in good standing",
        json_schema_extra=measured_in("fraction"))
    defect_window_days: PositiveDaysCount = Field(
        60, description="days the order defect rate looks back over")
    defect_rate_limit: Probability = Field(
        0.01, description="the highest order defect rate in good standing",
        json_schema_extra=measured_in("fraction"))
    defects: Defects = Field(description="which exceptions become order defects")
    breach_factor: Probability = Field(
        description="factor on conversion while a limit is breached (0: suspended)",
        json_schema_extra=measured_in("x"))


class Exceptions(Frozen):
    """Lost and undeliverable parcels, shipping insurance and the account health they
    feed."""

    lost_parcels: LostParcelPolicy = Field(
        "refund", description="a lost parcel is refunded, or reshipped from stock")
    lost_parcels_by_market: dict[Name, LostParcelPolicy] = Field(
        {}, description="the policy of a market that differs from lost_parcels")
    insurance: Insurance | None = Field(None, description="shipping insurance; null: none")
    undeliverable: ByName[Undeliverable] = Field(
        {}, description="undeliverable parcels per parcel or last-mile mode")
    account_health: AccountHealth | None = Field(
        None, description="late-shipment and defect limits; null: never breached")


class Shift(Frozen):
    """When the agents work (every agent the same shift)."""

    days_per_week: Annotated[int, NumberOnly, Field(ge=1, le=7)] = Field(
        description="working days, from Monday", json_schema_extra=measured_in("days"))
    start_hour: Annotated[float, NumberOnly, Field(ge=0, lt=24, allow_inf_nan=False)] = Field(
        description="hour of day the shift starts", json_schema_extra=measured_in("hour of day"))
    hours: Annotated[float, NumberOnly, Field(gt=0, le=24, allow_inf_nan=False)] = Field(
        description="length of the shift", json_schema_extra=measured_in("hours"))

    @model_validator(mode="after")
    def _inside_day(self) -> Shift:
        if self.start_hour + self.hours > 24:
            raise ValueError("a shift must end by midnight (start_hour + hours <= 24)")
        return self


class TicketRates(Frozen):
    """Where tickets come from."""

    inquiries_per_1000_sessions: Annotated[float, NumberOnly, _finite(ge=0, le=1000)] = Field(
        description="questions from shoppers", json_schema_extra=measured_in("tickets per 1000 "
                                                                      "sessions"))
    per_late_order: Probability = Field(description="chance a late order raises a ticket")
    per_lost_order: Probability = Field(description="chance a lost parcel raises a ticket")
    per_return: Probability = Field(description="chance a return raises a ticket")


class Roster(Window):
    """A dated staffing window (a peak-season roster): this many agents on every shift of
    its days."""

    agents: Annotated[int, NumberOnly, Field(ge=1, le=MAX_AGENTS)] = Field(
        description="agents on every shift of the window")


class Staffing(Frozen):
    """What the agents cost and how many work when (``sim.staffing``). Rosters replace
    ``service.agents``: by month where ``agents_by_month`` is given, then by dated window
    (a later window wins where windows overlap)."""

    cost_per_agent_hour_cny: UnitMoney = Field(
        description="wage and on-costs of an agent per hour on duty",
        json_schema_extra=measured_in("CNY per agent-hour"))
    agents_by_month: Annotated[list[Annotated[int, NumberOnly, Field(ge=1, le=MAX_AGENTS)]],
                               Field(min_length=12, max_length=12)] | None = Field(
        None, description="agents on every shift, January to December; null: service.agents")
    rosters: Entries[Roster] = Field([], description="dated windows with their own agents; "
                                                     "replaced whole under extends")


class Disputes(Frozen):
    """Tickets about an order whose first response comes after the SLA may become a claim
    against the seller (an A-to-z claim, a chargeback) (``sim.disputes``)."""

    probability: Probability = Field(
        description="chance a late-answered order ticket becomes a dispute")
    cost_per_dispute_cny: UnitMoney = Field(
        description="claim or chargeback fee and handling per dispute",
        json_schema_extra=measured_in("CNY per dispute"))
    refund_share: Probability = Field(
        description="share of what the customer still pays for the order (not yet refunded) "
                    "that a dispute refunds", json_schema_extra=measured_in("fraction"))
    rating_penalty: Stars = Field(description="stars a dispute costs the market's rating, "
                                              "counted like a late delivery's")


class Service(Frozen):
    """Customer service: a queue of tickets worked by agents during their shift."""

    agents: Annotated[int, NumberOnly, Field(ge=1, le=MAX_AGENTS)] = Field(
        description="agents on every shift")
    shift: Shift = Field(description="working days and hours")
    handling_hours: Distribution = Field(description="agent time per ticket")
    followup_hours: Distribution = Field(
        description="wait for carrier/refund before a non-inquiry ticket is resolved")
    first_response_sla_hours: Hours = Field(description="target time to a first answer")
    resolution_sla_hours: Hours = Field(description="target time to resolve a ticket")
    tickets: TicketRates = Field(description="ticket rates")
    staffing: Staffing | None = Field(
        None, description="agent cost and seasonal rosters; null: service.agents, unpaid")
    disputes: Disputes | None = Field(
        None, description="late answers that become claims; null: none do")


class Overhead(Frozen):
    """A fixed monthly cost (staff, tools, rent), paid on the same day every month."""

    merge_key: ClassVar[tuple[str, ...]] = ("name",)
    """What names an entry when a file that ``extends:`` another merges its list."""

    name: Name = Field(description="what the cost is, e.g. office_rent")
    amount_per_month: Annotated[float, NumberOnly, _finite(ge=0, le=MAX_AMOUNT)] = Field(
        description="paid each month in ``currency``")
    currency: Currency = Field(BASE_CURRENCY, description="currency it is paid in")
    day_of_month: Annotated[int, NumberOnly, Field(ge=1, le=28)] = Field(
        1, description="day of the month it is booked and paid")


class ExportRebate(Frozen):
    """China's export VAT rebate (出口退税): goods bought with VAT and exported earn back part
    of it, the purchase value ex VAT times the rebate rate of their tax code, paid by the tax
    office some months after the export is declared."""

    purchase_vat_rate: Probability = Field(
        description="VAT in the suppliers' prices (China: 13 %)",
        json_schema_extra=measured_in("fraction"))
    rate_by_category: dict[Name, Probability] = Field(
        description="rebate rate of each SKU category; a category left out earns none",
        json_schema_extra=measured_in("fraction"))
    delay_days: DaysCount = Field(description="days from export to the rebate's payment")
    parcels: bool = Field(
        description="direct parcels are declared for the rebate too (9610 with VAT "
                    "invoices); false: bulk exports only (9810, to overseas warehouses)")


class Finance(Frozen):
    """Marketplace fees, payouts and the cost of money."""

    commission_rate: Probability = Field(description="marketplace commission on the price",
                                         json_schema_extra=measured_in("fraction"))
    payment_fee_rate: Probability = Field(
        description="payment and collection fees on the price",
        json_schema_extra=measured_in("fraction"))
    payout_cycle_days: PositiveDaysCount = Field(description="the marketplace pays sales out "
                                                             "every this many days")
    annual_capital_cost_rate: Rate = Field(
        description="cost of the cash tied up in stock and in transit",
        json_schema_extra=measured_in("fraction per year"))
    initial_cash_cny: Annotated[float, NumberOnly, _finite(ge=-MAX_AMOUNT, le=MAX_AMOUNT)] = Field(
        description="cash on day 0")
    overheads: Entries[Overhead] = Field(
        [], description="fixed monthly costs below the contribution margin (``sim.overheads``); "
                        "they merge by name under extends")
    export_rebate: ExportRebate | None = Field(
        None, description="China's export VAT rebate on goods shipped abroad; null: none")


# ----------------------------------------------------------------------------- ageing stock
class AgeTier(Frozen):
    """A band of an aged-stock surcharge: from this age on, until the next tier starts."""

    from_days: Annotated[int, NumberOnly, Field(ge=1, le=MAX_DAYS)] = Field(
        description="age at which the tier starts (181: stock 181 days old or more)",
        json_schema_extra=measured_in("days"))
    fee_per_m3_month: UnitMoney = Field(
        description="surcharge on the volume of the units in the tier, on each monthly "
                    "assessment", json_schema_extra=measured_in(
                        "warehouse currency per m3 per month"))


class Clearance(Frozen):
    """An end-of-season decision about aged stock: on ``date`` (every year if it recurs) the
    units older than ``older_than_days`` at the warehouses are held, liquidated (a share of
    their unit cost comes back) or disposed of, paying a fee per unit either way."""

    date: Date = Field(description="day the decision is carried out")
    recurs_yearly: bool = Field(True, description="again on the same date every year")
    older_than_days: Annotated[int, NumberOnly, Field(ge=0, le=MAX_DAYS)] = Field(
        description="units more than this many days old are taken",
        json_schema_extra=measured_in("days"))
    action: Literal["hold", "liquidate", "dispose"] = Field(
        description="hold: keep them; liquidate: sell them off; dispose: remove and destroy")
    recovery_fraction_of_cost: Probability = Field(
        0.0, description="cash a liquidated unit brings, as a fraction of its unit cost",
        json_schema_extra=measured_in("fraction"))
    fee_per_unit: UnitMoney = Field(
        0.0, description="the warehouse's removal, disposal or liquidation fee",
        json_schema_extra=measured_in("warehouse currency"))
    warehouses: Annotated[list[Name], Field(max_length=MAX_ENTRIES)] | None = Field(
        None, description="warehouses it applies to; null means every overseas warehouse")

    @model_validator(mode="after")
    def _recovery_needs_a_sale(self) -> Clearance:
        if self.recovery_fraction_of_cost > 0 and self.action != "liquidate":
            raise ValueError("only a liquidation recovers money: recovery_fraction_of_cost "
                             "needs action: liquidate")
        if self.recurs_yearly and (self.date.month, self.date.day) == (2, 29):
            raise ValueError("a yearly clearance cannot fall on 29 February")
        return self


class Ageing(Frozen):
    """Stock ages by receipt week (first in, first out); aged stock pays surcharges by age
    tier each month, end-of-season clearances take what is too old, and the year's turnover
    is held against a target (``sim.ageing``). Without tiers or clearances nothing is charged
    or taken."""

    surcharges: ByName[Annotated[list[AgeTier], Field(max_length=MAX_ENTRIES)]] = Field(
        {}, description="age tiers of a warehouse's aged-stock surcharge, by warehouse")
    assessment_day_of_month: Annotated[int, NumberOnly, Field(ge=1, le=28)] = Field(
        15, description="day of the month on which the ages are assessed and charged")
    clearance: Entries[Clearance] = Field([], description="end-of-season decisions")
    turnover_target_per_year: Annotated[float, NumberOnly, _finite(gt=0, le=365)] = Field(
        6.0, description="inventory turnover (COGS / average stock value) a year the run is "
                         "measured against", json_schema_extra=measured_in("per year"))

    @model_validator(mode="after")
    def _tiers_in_order(self) -> Ageing:
        for name, tiers in self.surcharges.items():
            starts = [tier.from_days for tier in tiers]
            if any(b <= a for a, b in pairwise(starts)):
                raise ValueError(f"the age tiers of {name} must start at increasing ages")
        return self


# ----------------------------------------------------------------------------- policies
def _cover_fits(unit: str, **levels: float) -> None:
    """Levels in days of demand stop at MAX_DAYS: more converts to units no stock holds."""
    for key, value in levels.items():
        if unit == "days" and value > MAX_DAYS:
            raise ValueError(f"{key} {value:g} is more than {MAX_DAYS} days of demand")


class SSPolicy(Frozen):
    """(s,S): when inventory position <= s, order up to S."""

    type: Literal["sS"] = Field(description="sS, RQ or base_stock")
    unit: Literal["units", "days"] = Field(
        description="the levels below count units, or days of expected demand")
    reorder_point: Units = Field(
        description="s: order when the inventory position is at or below this",
        json_schema_extra=measured_in("units or days"))
    order_up_to: Units = Field(description="S: the inventory position an order restores",
                               json_schema_extra=measured_in("units or days"))

    @model_validator(mode="after")
    def _ordered(self) -> SSPolicy:
        if self.order_up_to < self.reorder_point:
            raise ValueError("order_up_to must be >= reorder_point")
        _cover_fits(self.unit, reorder_point=self.reorder_point, order_up_to=self.order_up_to)
        return self


class RQPolicy(Frozen):
    """(R,Q): when inventory position <= R, order multiples of Q until it is above R."""

    type: Literal["RQ"] = Field(description="sS, RQ or base_stock")
    unit: Literal["units", "days"] = Field(
        description="the levels below count units, or days of expected demand")
    reorder_point: Units = Field(
        description="R: order when the inventory position is at or below this",
        json_schema_extra=measured_in("units or days"))
    order_quantity: Annotated[float, NumberOnly, _finite(ge=0.01, le=MAX_UNITS)] = Field(
        description="Q: the batch ordered",
        json_schema_extra=measured_in("units or days"),
        examples=[30])

    @model_validator(mode="after")
    def _fits(self) -> RQPolicy:
        _cover_fits(self.unit, reorder_point=self.reorder_point,
                    order_quantity=self.order_quantity)
        return self


class BaseStockPolicy(Frozen):
    """Base stock: every review, order what brings the inventory position back to level."""

    type: Literal["base_stock"] = Field(description="sS, RQ or base_stock")
    unit: Literal["units", "days"] = Field(
        description="the level below counts units, or days of expected demand")
    level: Units = Field(description="the inventory position every review restores",
                   json_schema_extra=measured_in("units or days"), examples=[60])

    @model_validator(mode="after")
    def _fits(self) -> BaseStockPolicy:
        _cover_fits(self.unit, level=self.level)
        return self


ReplenishmentPolicy = Annotated[SSPolicy | RQPolicy | BaseStockPolicy,
                                Field(discriminator="type")]


class ReplenishmentRule(Frozen):
    """A policy for the SKUs it selects at one warehouse; later rules override earlier."""

    merge_key: ClassVar[tuple[str, ...]] = ("warehouse", "skus", "categories", "mode")

    warehouse: Name = Field(description="warehouse the rule restocks")
    skus: Annotated[list[Name], Field(max_length=MAX_SKUS)] | None = Field(
        None, description="null means every SKU")
    categories: Annotated[list[Name], Field(max_length=MAX_SKUS)] | None = Field(
        None, description="select SKUs by category; null "
        "means every category",
        examples=[["apparel"]])
    policy: ReplenishmentPolicy = Field(description="the inventory policy")
    review_days: PositiveDaysCount = Field(description="days between reviews of the stock")
    mode: Name | None = Field(None, description="bulk mode for overseas warehouses")
    seasonal: bool = Field(
        False, description="levels in days of cover follow the calendar: each review converts "
                           "them at the seasonality of the days they cover, not the average "
                           "season (sim.cover)")

    @model_validator(mode="after")
    def _seasonal_counts_days(self) -> ReplenishmentRule:
        if self.seasonal and self.policy.unit != "days":
            raise ValueError("seasonal levels are days of cover: give the policy unit: days")
        return self


class Fallback(Frozen):
    """Where a warehouse-route order goes when its warehouse is out of stock."""

    warehouse: Name = Field(description="origin warehouse that ships the parcel",
                            examples=["SZ"])
    mode: Name = Field(description="parcel mode, e.g. express", examples=["express"])


class Fulfilment(Frozen):
    """How a market's orders ship."""

    route: Literal["direct", "warehouse"] = Field(
        description="parcels from an origin, or last mile from an overseas warehouse")
    mode: Name = Field(description="parcel mode (direct) or last-mile mode (warehouse)")
    warehouse: Name = Field(description="warehouse the orders ship from")
    promise_days: PromiseDays = Field(description="delivery time the listing promises; later "
                                                  "deliveries count as late")
    order_processing_days: Distribution = Field(description="order to handover to the carrier")
    fallback: Fallback | None = Field(
        None, description="ship from origin by parcel when the warehouse is out of stock "
                          "(warehouse routes only); without it the order waits or is lost")


class AdSpend(Frozen):
    """A channel's spend schedule (in the channel's currency)."""

    spend_per_day: SpendPerDay = Field(description="spend on a normal day",
                                       json_schema_extra=measured_in("channel currency per day"))
    weekly_spend_per_day: dict[WeekNumber, SpendPerDay] = Field(
        {}, description="overrides by horizon week (1 = first week)",
        json_schema_extra=measured_in("channel currency per day"))


class Replan(Frozen):
    """Re-plan order routing and overseas replenishment on a rolling horizon: every
    ``review_days`` the channel optimiser plans ``window_weeks`` ahead from the simulated
    state and a forecast scaled to the last ``forecast_weeks`` of observed demand; the
    first period is executed (model predictive control)."""

    review_days: Annotated[int, NumberOnly, Field(ge=1, le=365)] = Field(
        7, description="days between re-plans")
    window_weeks: Weeks = Field(8, description="weeks each re-plan looks ahead")
    forecast_weeks: Weeks = Field(4, description="recent weeks of demand the forecast "
                                                 "is scaled to")

    @model_validator(mode="after")
    def _window_covers_the_executed_weeks(self) -> Replan:
        weeks = executed_weeks(self.review_days)
        if self.window_weeks < weeks:
            raise ValueError(f"window_weeks must cover the {weeks} weeks executed between "
                             f"reviews {self.review_days} days apart")
        return self


def executed_weeks(review_days: int) -> int:
    """Plan weeks one review executes in the worst case: a review that falls mid-week runs
    every week it touches before the next review."""
    return (review_days + (6 if review_days % 7 else 0) - 1) // 7 + 1


class Policies(Frozen):
    """The rules the operation runs by."""

    replenishment: Annotated[list[ReplenishmentRule],
                             Field(min_length=1, max_length=MAX_ENTRIES)] = Field(
        description="inventory rules; they merge by (warehouse, skus, categories, mode) under "
                    "extends")
    fulfilment: Annotated[dict[Name, Fulfilment], Field(max_length=MAX_MARKETS)] = Field(
        description="one route per market")
    ad_spend: ByName[AdSpend] = Field({}, description="spend schedule per ad channel")
    replan: Replan | None = Field(
        None, description="rolling re-planning; replaces the overseas replenishment rules "
                          "and the fulfilment routes while it runs")


# ----------------------------------------------------------------------------- planning
class ChannelPlanning(Frozen):
    """Settings of the logistics channel optimiser (optimize/channels)."""

    promise_percentile: Annotated[float, NumberOnly, _finite(gt=0, lt=1)] = Field(
        0.9, description="a route meets a promise if this share of its deliveries do")
    lost_sale_penalty_factor: Annotated[float, NumberOnly, _finite(ge=0, le=1000)] = Field(
        1.0, description="a lost unit costs this times its net revenue (ex VAT and fees)")
    allow_lost_sales: bool = Field(True, description="the plan may leave demand unmet (at "
                                                    "the penalty) rather than be infeasible")
    keep_closing_stock: bool = Field(
        True, description="end the horizon with at least the opening overseas stock")
    cycle_service_level: Annotated[float, NumberOnly, _finite(ge=0, lt=1)] = Field(
        0.95, description="overseas stock is planned not to fall below the safety stock "
                          "z * sigma of demand and lead time over a replenishment cycle, "
                          "z the normal quantile of this level (0: no safety stock)")


class AdPlanning(Frozen):
    """Settings of the ad budget optimiser (optimize/ads); money in CNY.

    Budgets are CNY over the horizon or a week; per-channel limits are CNY per day (a
    week's average). Objectives: 'contribution' (margin less spend), 'orders' (most paid
    orders with average ROAS >= target_roas) or 'marginal_roas' (spend until one more CNY
    brings target_roas of revenue; no total budget unless one is set).
    """

    objective: Literal["contribution", "orders", "marginal_roas"] = Field(
        "contribution", description="'contribution': margin less spend; 'orders': most paid "
                                    "orders at an average ROAS of at least target_roas; "
                                    "'marginal_roas': spend while one more CNY brings "
                                    "target_roas of revenue")
    total_budget_cny: Amount | None = Field(
        None, description="spend over the horizon; null means the current schedule's total")
    weekly_budget_cny: Amount | None = Field(None, description="spend in any one week")
    target_roas: Annotated[float, NumberOnly, _finite(ge=1e-3, le=1000)] = Field(
        3.0, description="revenue per unit of spend",
        json_schema_extra=measured_in("CNY per CNY"))
    min_spend_cny_per_day: dict[Name, SpendPerDay] = Field(
        {}, description="floor of a channel's spend")
    max_spend_cny_per_day: dict[Name, SpendPerDay] = Field(
        {}, description="ceiling of a channel's spend")
    min_spend_if_active_cny_per_day: dict[Name, SpendPerDay] = Field(
        {}, description="a channel spends at least this in a week, or nothing")
    fixed_spend_cny_per_day: dict[Name, SpendPerDay] = Field(
        {}, description="a channel's spend, not optimised")
    breakpoints: Annotated[int, NumberOnly, Field(ge=4, le=200)] = Field(
        24, description="pieces of the piecewise-linear response curves")
    tail_weeks: Annotated[int, NumberOnly, Field(ge=0, le=MAX_WEEKS)] = Field(
        8, description="weeks after the horizon whose carry-over counts")
    stock_aware: bool = Field(
        False, description="plan spend against the stock the scenario's logistics (its rules "
                           "and the plan it names) deliver, simulated: no spend that drives "
                           "demand into a stock-out (objective 'contribution' only)")
    stock_scenarios: Annotated[int, NumberOnly, Field(ge=1, le=50)] = Field(
        4, description="simulated demand scenarios the stock-aware model plans over")
    stock_seed: Seed = Field(0, description="seed of the first of them")


class PeakPlanning(Frozen):
    """Settings of the two-stage peak-season planner (optimize/peak)."""

    start: Date = Field(description="first day of the peak window")
    weeks: Weeks = Field(description="length of the peak window")
    commit_modes: Names = Field(
        description="bulk modes committed before demand is known (sea, rail)")
    expedite_modes: Names = Field(
        description="bulk air or parcel express modes used once demand is seen")
    scenarios: Annotated[int, NumberOnly, Field(ge=1, le=10_000)] = Field(
        50, description="demand scenarios sampled from the "
        "simulation")
    seed: Seed = Field(0, description="seed of the first of them")
    leftover_holding_weeks: Annotated[float, NumberOnly, _finite(ge=0, le=10 * 52)] = Field(
        13.0, description="stock left after the window is held this long before it sells")


class Planning(Frozen):
    """Settings of the optimisers; the simulation does not read them."""

    channels: ChannelPlanning = Field(ChannelPlanning(), description="channel optimiser")
    ads: AdPlanning = Field(AdPlanning(), description="ad budget optimiser")
    peak: PeakPlanning | None = Field(None, description="peak-season planner; null: not used")
    booking_lead_days: Annotated[int, NumberOnly, Field(ge=0, le=MAX_PROMISE_DAYS)] = Field(
        14, description="days before a shipment's week that its space must be booked "
                        "(carriers' booking cut-off; the plans' booking lists)")


# ----------------------------------------------------------------------------- scenario
class Scenario(Frozen):
    """One cross-border operation and the rules it runs by."""

    name: Name = Field(description="names the results (out/NAME) and the report")
    description: str = Field("", description="one paragraph for the report")
    horizon: Horizon
    calendar: Calendar
    markets: Annotated[dict[Name, Market], Field(min_length=1, max_length=MAX_MARKETS)] = Field(
        description="selling countries by name (US, DE, ...)")
    skus: Annotated[dict[Name, Sku], Field(min_length=1, max_length=MAX_SKUS)] = Field(
        description="the catalogue")
    traffic: Traffic
    ad_channels: ByName[AdChannel] = Field({}, description="paid traffic sources")
    conversion: Conversion
    pricing: Pricing = Field(Pricing(), description="price changes and promotions")
    ranking: Ranking = Field(Ranking(), description="organic sessions per listing")
    customers: Customers = Field(Customers(), description="repeat purchases")
    suppliers: SomeByName[Supplier] = Field(
        description="factories by name")
    warehouses: SomeByName[Warehouse] = Field(
        description="origin and overseas stock points by name")
    modes: SomeByName[Mode] = Field(
        description="transport modes by name")
    lanes: ByName[Lane] = Field(description="which modes connect which places")
    disruptions: Entries[Disruption] = Field(
        [], description="port congestion, closures; they merge by name under extends")
    returns: Returns
    exceptions: Exceptions = Field(Exceptions(), description="lost and undeliverable parcels, "
                                   "insurance, account health")
    service: Service
    finance: Finance
    policies: Policies
    ageing: Ageing = Field(Ageing(), description="stock ages, aged-stock surcharges, "
                                                 "clearances and the turnover target")
    planning: Planning = Field(Planning(), description="optimiser settings")
    plan: str | None = Field(
        None, description="plan file (YAML/JSON, relative to this file) the simulation "
                          "executes: routing, bulk shipments, ad spend")

    @model_validator(mode="after")
    def _references_resolve(self) -> Scenario:
        problems = list(reference_problems(self))
        if problems:
            raise CrossReferenceError(problems)
        return self


def reference_problems(sc: Scenario):
    """Yield (dotted path, reason) for every name that points at nothing or the wrong kind."""
    currencies = {m.currency for m in sc.markets.values()} | {BASE_CURRENCY}
    yield from _currency_problems(sc)
    for name, sku in sc.skus.items():
        if sku.supplier not in sc.suppliers:
            yield f"skus.{name}.supplier", f"unknown supplier '{sku.supplier}'"
        for market in sc.markets:
            if market not in sku.price:
                yield f"skus.{name}.price", f"no price for market '{market}'"
        for field in ("price", "reference_price"):
            for market in getattr(sku, field) or {}:
                if market not in sc.markets:
                    yield f"skus.{name}.{field}.{market}", "unknown market"
    for i, event in enumerate(sc.calendar.peak_events):
        for market in event.markets or []:
            if market not in sc.markets:
                yield f"calendar.peak_events.{i}.markets", f"unknown market '{market}'"
    for name, channel in sc.ad_channels.items():
        if channel.currency not in currencies:
            yield f"ad_channels.{name}.currency", f"no market trades in {channel.currency}"
        for market in channel.market_shares:
            if market not in sc.markets:
                yield f"ad_channels.{name}.market_shares.{market}", "unknown market"
    for name, supplier in sc.suppliers.items():
        wh = sc.warehouses.get(supplier.warehouse)
        if wh is None or wh.kind != "origin":
            yield f"suppliers.{name}.warehouse", (
                f"'{supplier.warehouse}' is not an origin warehouse")
    for name, wh in sc.warehouses.items():
        if wh.currency not in currencies:
            yield f"warehouses.{name}.currency", f"no market trades in {wh.currency}"
        if wh.market is not None and wh.market not in sc.markets:
            yield f"warehouses.{name}.market", f"unknown market '{wh.market}'"
    for name, spec in sc.modes.items():
        if spec.currency not in currencies:
            yield f"modes.{name}.currency", f"no market trades in {spec.currency}"
    for i, overhead in enumerate(sc.finance.overheads):
        if overhead.currency not in currencies:
            yield f"finance.overheads.{i}.currency", f"no market trades in {overhead.currency}"
    yield from _lane_problems(sc)
    rebate = sc.finance.export_rebate
    for category in rebate.rate_by_category if rebate is not None else ():
        if category not in {sku.category for sku in sc.skus.values()}:
            yield f"finance.export_rebate.rate_by_category.{category}", "unknown category"
    for i, disruption in enumerate(sc.disruptions):
        for mode in disruption.modes:
            if mode not in sc.modes:
                yield f"disruptions.{i}.modes", f"unknown mode '{mode}'"
    yield from _policy_problems(sc)
    yield from _ageing_problems(sc)
    yield from _exception_problems(sc)
    for kind in ("changes", "promotions"):
        for i, entry in enumerate(getattr(sc.pricing, kind)):
            yield from _selection_problems(sc, f"pricing.{kind}.{i}", entry)


def _selection_problems(sc: Scenario, path: str, entry: _Selection):
    """Every SKU, category and market an entry selects exists."""
    categories = sorted({sku.category for sku in sc.skus.values()})
    for field, noun, known in (("skus", "SKU", list(sc.skus)),
                               ("categories", "category", categories),
                               ("markets", "market", list(sc.markets))):
        for name in getattr(entry, field) or []:
            if name not in known:
                yield f"{path}.{field}", (f"unknown {noun} '{name}'"
                                          + _did_you_mean(name, known))


def _ageing_problems(sc: Scenario):
    for name in sc.ageing.surcharges:
        if name not in sc.warehouses:
            yield f"ageing.surcharges.{name}", "unknown warehouse"
    for i, clearance in enumerate(sc.ageing.clearance):
        for name in clearance.warehouses or []:
            if name not in sc.warehouses:
                yield f"ageing.clearance.{i}.warehouses", f"unknown warehouse '{name}'"


def _exception_problems(sc: Scenario):
    ex = sc.exceptions
    for market in ex.lost_parcels_by_market:
        if market not in sc.markets:
            yield f"exceptions.lost_parcels_by_market.{market}", "unknown market"
    insured = ex.insurance.modes or [] if ex.insurance is not None else []
    for path, modes in (("exceptions.insurance.modes", insured),
                        ("exceptions.undeliverable", list(ex.undeliverable))):
        for mode in modes:
            spec = sc.modes.get(mode)
            if spec is None or spec.family == "bulk":
                yield path, f"'{mode}' is not a parcel or last-mile mode"


def _currency_problems(sc: Scenario):
    """A currency has one rate: markets that share one must quote it alike (the model books
    every flow of a currency at one rate), and CNY is the base at rate 1."""
    first: dict[str, tuple[str, Market]] = {}
    for name, market in sc.markets.items():
        quote = (market.fx_to_cny, market.fx_daily_volatility)
        if market.currency == BASE_CURRENCY and quote != (1.0, 0.0):
            yield (f"markets.{name}.fx_to_cny", f"{BASE_CURRENCY} is the base currency: "
                   "give fx_to_cny 1 and fx_daily_volatility 0")
            continue
        other, spec = first.setdefault(market.currency, (name, market))
        if other != name and quote != (spec.fx_to_cny, spec.fx_daily_volatility):
            yield (f"markets.{name}.fx_to_cny", f"{market.currency} is also market {other}'s "
                   "currency: markets sharing a currency give it the same fx_to_cny and "
                   "fx_daily_volatility")


def _lane_problems(sc: Scenario):
    for name, lane in sc.lanes.items():
        origin = sc.warehouses.get(lane.origin)
        if origin is None or origin.kind != "origin":
            yield f"lanes.{name}.origin", f"'{lane.origin}' is not an origin warehouse"
        to_warehouse = lane.destination in sc.warehouses
        if not to_warehouse and lane.destination not in sc.markets:
            yield f"lanes.{name}.destination", (
                f"'{lane.destination}' is neither a warehouse nor a market")
        for mode in lane.modes:
            if mode not in sc.modes:
                yield f"lanes.{name}.modes", f"unknown mode '{mode}'"
                continue
            wanted = "bulk" if to_warehouse else "parcel"
            if sc.modes[mode].family != wanted:
                yield f"lanes.{name}.modes", f"mode '{mode}' is not a {wanted} mode"


def lane_serves(sc: Scenario, origin: str, destination: str, mode: str) -> bool:
    return any(lane.origin == origin and lane.destination == destination and mode in lane.modes
               for lane in sc.lanes.values())


def route_problem(sc: Scenario, market: str, route: str, warehouse: str,
                  mode: str) -> tuple[str, str] | None:
    """Why a delivery route cannot run, as (field, reason), or None: direct parcels leave an
    origin on a lane that carries the mode; warehouse orders take a last mile from an
    overseas warehouse. Scenario routes and plan lines are held to the same rules."""
    wh, spec = sc.warehouses.get(warehouse), sc.modes.get(mode)
    if wh is None:
        return "warehouse", f"unknown warehouse '{warehouse}'"
    if spec is None:
        return "mode", f"unknown mode '{mode}'"
    if route == "direct":
        if wh.kind != "origin":
            return "warehouse", "direct parcels ship from an origin warehouse"
        if spec.family != "parcel" or not lane_serves(sc, warehouse, market, mode):
            return "mode", f"no lane carries '{mode}' parcels to {market}"
    elif wh.kind != "overseas":
        return "warehouse", "warehouse route needs an overseas warehouse"
    elif spec.family != "last_mile":
        return "mode", f"'{mode}' is not a last_mile mode"
    return None


def _policy_problems(sc: Scenario):
    origins = [n for n, w in sc.warehouses.items() if w.kind == "origin"]
    categories = sorted({sku.category for sku in sc.skus.values()})
    for market in sc.markets:
        if market not in sc.policies.fulfilment:
            yield "policies.fulfilment", f"no fulfilment for market '{market}'"
    for market, f in sc.policies.fulfilment.items():
        path = f"policies.fulfilment.{market}"
        if market not in sc.markets:
            yield path, "unknown market"
            continue
        problem = route_problem(sc, market, f.route, f.warehouse, f.mode)
        if problem is not None:
            yield f"{path}.{problem[0]}", problem[1]
        if f.fallback is not None:
            fb, fb_wh = f.fallback, sc.warehouses.get(f.fallback.warehouse)
            if f.route == "direct":
                yield f"{path}.fallback", "a fallback backs up a warehouse route only"
            elif fb_wh is None or fb_wh.kind != "origin":
                yield f"{path}.fallback.warehouse", f"'{fb.warehouse}' is not an origin"
            elif not lane_serves(sc, fb.warehouse, market, fb.mode) \
                    or getattr(sc.modes.get(fb.mode), "family", None) != "parcel":
                yield f"{path}.fallback.mode", f"no lane carries '{fb.mode}' parcels to {market}"
    for i, rule in enumerate(sc.policies.replenishment):
        path = f"policies.replenishment.{i}"
        wh = sc.warehouses.get(rule.warehouse)
        if wh is None:
            yield f"{path}.warehouse", f"unknown warehouse '{rule.warehouse}'"
            continue
        for sku in rule.skus or []:
            if sku not in sc.skus:
                yield f"{path}.skus", f"unknown SKU '{sku}'"
        for category in rule.categories or []:
            if category not in categories:
                yield f"{path}.categories", (f"unknown category '{category}'"
                                             + _did_you_mean(category, categories))
        if wh.kind == "overseas":
            if rule.mode is None:
                yield f"{path}.mode", "an overseas warehouse is replenished by a bulk mode"
            elif not any(lane_serves(sc, o, rule.warehouse, rule.mode) for o in origins):
                yield f"{path}.mode", f"no lane carries '{rule.mode}' to {rule.warehouse}"
        elif rule.mode is not None:
            yield f"{path}.mode", "origin warehouses are replenished by suppliers, not a mode"
    for channel in sc.policies.ad_spend:
        if channel not in sc.ad_channels:
            yield f"policies.ad_spend.{channel}", "unknown ad channel"
    yield from _planning_problems(sc)


def _did_you_mean(word: str, names: list[str]) -> str:
    close = difflib.get_close_matches(word, names, n=1, cutoff=0.8)
    return f" (did you mean {close[0]}?)" if close else f" (known: {', '.join(names[:10])})"


def _planning_problems(sc: Scenario):
    ads = sc.planning.ads
    for field in ("min_spend_cny_per_day", "max_spend_cny_per_day",
                  "min_spend_if_active_cny_per_day", "fixed_spend_cny_per_day"):
        for channel in getattr(ads, field):
            if channel not in sc.ad_channels:
                yield f"planning.ads.{field}.{channel}", "unknown ad channel"
    for channel, least in ads.min_spend_cny_per_day.items():
        most = ads.max_spend_cny_per_day.get(channel)
        if most is not None and least > most:
            yield (f"planning.ads.min_spend_cny_per_day.{channel}",
                   f"minimum {least:g} is above the maximum {most:g}")
    for channel, fixed in ads.fixed_spend_cny_per_day.items():
        least = max(ads.min_spend_cny_per_day.get(channel, 0.0),
                    ads.min_spend_if_active_cny_per_day.get(channel, 0.0) if fixed > 0 else 0.0)
        most = ads.max_spend_cny_per_day.get(channel, float("inf"))
        if not least <= fixed <= most:
            yield (f"planning.ads.fixed_spend_cny_per_day.{channel}",
                   f"{fixed:g} is outside the channel's minimum {least:g} and maximum {most:g}")
    if ads.stock_aware and ads.objective != "contribution":
        yield ("planning.ads.stock_aware", "stock-aware planning values sales at their margin: "
               "it needs objective 'contribution'")
    if ads.stock_aware and sc.policies.replan is not None:
        yield ("planning.ads.stock_aware", "stock-aware planning simulates the scenario's rules "
               "or plan file, not a re-planning policy (policies.replan)")
    peak = sc.planning.peak
    if peak is None:
        return
    for field in ("commit_modes", "expedite_modes"):
        for mode in getattr(peak, field):
            if mode not in sc.modes:
                yield f"planning.peak.{field}", f"unknown mode '{mode}'"
    if any(sc.modes[k].family != "bulk" for k in peak.commit_modes if k in sc.modes):
        yield "planning.peak.commit_modes", "committed modes must be bulk modes"
