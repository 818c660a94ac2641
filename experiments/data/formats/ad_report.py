"""One ad platform's daily report to ``ad_spend``: Amazon Sponsored Products campaign or
advertised-product report (Date, Currency, Campaign Name, Impressions, Clicks, Spend,
7 Day Total Sales, ...; Sponsored Brands reports give 14 Day Total Sales).

Report rows (one per campaign, ad group or product and day) are summed per day, channel
and market. The mapping:

- ``channel`` is the name given with ``--ad-channel`` (default ``marketplace_ppc``): the
  report does not know the scenario's channel names.
- ``market``: the report's Currency when one market sells in it (USD -> US, GBP -> UK;
  the seller's markets table or scenario first, the default markets otherwise); for a
  currency several markets share (EUR), the market code written in the Campaign Name as a
  word (``DE - auto``, ``SP_FR_manual``). A row whose market cannot be told is rejected.
- ``date`` = Date, a local date; ``spend`` = Spend; ``currency`` = Currency.
- ``clicks`` = Clicks and ``sessions`` = Clicks (a click is a paid session);
  ``attributed_sales`` = 7 Day Total Sales (or 14 Day Total Sales).

Two rows identical in every cell are a line pasted twice: the second is rejected.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.data.formats import (
    Context,
    Format,
    Mapped,
    Problems,
    finish,
    missing_columns,
    share_present,
    with_names,
)
from experiments.data.formats.parsing import local_dates, numbers
from experiments.data.formats.sources import Sheet

NAME = "ad_report"
SALES = ("7 Day Total Sales", "14 Day Total Sales")
COLUMNS = ("Date", "Portfolio name", "Currency", "Campaign Name", "Ad Group Name",
           "Advertised SKU", "Advertised ASIN", "Impressions", "Clicks", "Spend", *SALES)
SIGNATURE = ("Date", "Currency", "Campaign Name", "Impressions", "Clicks", "Spend")
REQUIRED = ("Date", "Currency", "Campaign Name", "Clicks", "Spend")
SUMMED = ["spend", "clicks", "sessions", "attributed_sales"]
SOURCE = {"date": "Date", "currency": "Currency", "market": "Campaign Name", "spend": "Spend",
          "clicks": "Clicks", "sessions": "Clicks", "attributed_sales": SALES[0]}
"""The report's column each ad_spend column comes from (named in problems)."""


def score(sheet: Sheet) -> float:
    return share_present(sheet.header, SIGNATURE)


def read(sheet: Sheet, context: Context) -> Mapped:
    frame = with_names(sheet.frame, COLUMNS)
    problems = Problems(sheet)
    if missing_columns(frame, REQUIRED, problems):
        return finish(sheet, NAME, "ad_spend", pd.DataFrame(index=frame.index), problems,
                      context)
    problems.reject(sheet.frame.duplicated(keep="first"), "", "duplicate line",
                    detail="(identical to an earlier row)")
    out = pd.DataFrame(index=frame.index)
    out["date"], bad = local_dates(frame["Date"], None)
    problems.reject(bad, "Date", "bad date", frame["Date"])
    out["channel"] = context.ad_channel
    out["currency"] = frame["Currency"].str.upper()
    out["market"] = _markets(out["currency"], frame["Campaign Name"], context, problems)
    for source, target in (("Spend", "spend"), ("Clicks", "clicks")):
        values, bad = numbers(frame[source])
        problems.reject(bad, source, "not a number", frame[source])
        out[target] = values
    out["sessions"] = out["clicks"]
    sales = next((c for c in SALES if c in frame.columns), None)
    out["attributed_sales"] = np.nan
    if sales is not None:
        values, bad = numbers(frame[sales])
        problems.reject(bad, sales, "not a number", frame[sales])
        out["attributed_sales"] = values.fillna(0.0)
    return _daily(finish(sheet, NAME, "ad_spend", out, problems, context, SOURCE))


def _markets(currency: pd.Series, campaign: pd.Series, context: Context,
             problems: Problems) -> pd.Series:
    market = pd.Series(pd.NA, index=currency.index, dtype="str")
    names = campaign.fillna("").str.upper()
    for code in currency.dropna().unique():
        rows = currency == code
        candidates = context.markets_using(str(code))
        if len(candidates) == 1:
            market[rows] = candidates[0]
            continue
        for candidate in candidates:
            word = rf"(?:^|[^A-Z0-9]){candidate}(?:$|[^A-Z0-9])"
            market[rows & market.isna() & names.str.contains(word, regex=True)] = candidate
    problems.reject(problems.open(market.isna() & currency.notna()), "Campaign Name",
                    "no market: the currency is used by several markets (or none) and the "
                    "campaign name names none", campaign)
    return market


def _daily(mapped: Mapped) -> Mapped:
    """Report rows summed per day, channel and market (keeping the first row's number)."""
    frame = mapped.frame
    if frame.empty:
        return mapped
    key = ["date", "channel", "market", "currency"]
    daily = frame.groupby(key, sort=True, as_index=False).agg(
        **{c: (c, "sum") for c in SUMMED}, _row=("_row", "min"), _rows=("_rows", "sum"))
    if frame["attributed_sales"].isna().all():
        daily["attributed_sales"] = np.nan
    mapped.frame = daily
    return mapped


FORMAT = Format(NAME, score, read)
