"""Text cells to values: numbers, local dates and market codes, a whole column at a time.

Exports hold text. A price may read ``29.99``, ``$29.99`` or ``29,99``; a timestamp
``2026-03-14T08:15:02+00:00`` (Amazon), ``2026-03-14 10:15:00 -0400`` (Shopify) or a bare
``2026-03-14`` (ad reports, the template). Each function takes a column of text and returns
the values with a mask of the cells that could not be read, so that the caller can name
every bad row without a Python loop over rows: the fast vectorised path reads clean
columns, and only the cells it leaves over go through the slower, more forgiving one.

Dates are *local* dates of the market: a timestamp with a UTC offset is converted to the
market's time zone before its date is taken; a date, or a timestamp without an offset, is
taken as already local. Time zones come from the markets table (``timezone``) or the default
per market below (Amazon's reporting day in North America ends at midnight Pacific time).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

DEFAULT_TIMEZONES: dict[str, str] = {
    "US": "America/Los_Angeles", "CA": "America/Toronto", "MX": "America/Mexico_City",
    "BR": "America/Sao_Paulo", "UK": "Europe/London", "IE": "Europe/Dublin",
    "DE": "Europe/Berlin", "FR": "Europe/Paris", "IT": "Europe/Rome", "ES": "Europe/Madrid",
    "NL": "Europe/Amsterdam", "BE": "Europe/Brussels", "SE": "Europe/Stockholm",
    "PL": "Europe/Warsaw", "TR": "Europe/Istanbul", "AE": "Asia/Dubai", "SA": "Asia/Riyadh",
    "EG": "Africa/Cairo", "IN": "Asia/Kolkata", "JP": "Asia/Tokyo", "SG": "Asia/Singapore",
    "AU": "Australia/Sydney", "CN": "Asia/Shanghai",
}
"""Time zone of each market's business day when the markets table gives none."""

DEFAULT_CURRENCIES: dict[str, str] = {
    "US": "USD", "CA": "CAD", "MX": "MXN", "BR": "BRL", "UK": "GBP", "IE": "EUR", "DE": "EUR",
    "FR": "EUR", "IT": "EUR", "ES": "EUR", "NL": "EUR", "BE": "EUR", "SE": "SEK", "PL": "PLN",
    "TR": "TRY", "AE": "AED", "SA": "SAR", "EG": "EGP", "IN": "INR", "JP": "JPY", "SG": "SGD",
    "AU": "AUD", "CN": "CNY",
}
"""Selling currency of each market when neither a markets table nor a scenario tells it."""

COUNTRY_ALIASES: dict[str, str] = {
    "GB": "UK", "UNITED KINGDOM": "UK", "GREAT BRITAIN": "UK", "UNITED STATES": "US",
    "USA": "US", "GERMANY": "DE", "DEUTSCHLAND": "DE", "FRANCE": "FR", "ITALY": "IT",
    "SPAIN": "ES", "CANADA": "CA", "MEXICO": "MX", "JAPAN": "JP", "AUSTRALIA": "AU",
    "NETHERLANDS": "NL", "SWEDEN": "SE", "POLAND": "PL", "BELGIUM": "BE", "IRELAND": "IE",
}
"""ISO country codes and country names that differ from the market codes used here."""

_OFFSET = r"\d:\d\d.*(?:Z|[+-]\d\d:?\d\d)$"


def clean_text(column: pd.Series) -> pd.Series:
    """Stripped text with empty cells as missing."""
    text = column.astype("str").str.strip()
    return text.mask(text == "")


def per_distinct(column: pd.Series, transform: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``transform`` applied to each distinct value once: a status or channel column of a
    million rows holds a handful of values. Missing cells stay missing."""
    codes, uniques = pd.factorize(column)
    values = transform(pd.Series(uniques, dtype=column.dtype))
    if not len(uniques):
        return values.reindex(column.index)
    out = pd.Series(values.to_numpy()[codes], index=column.index, dtype=values.dtype)
    return out.where(codes >= 0)


def market_codes(column: pd.Series, known: frozenset[str] = frozenset()) -> pd.Series:
    """Upper-case market codes; ``GB`` and country names become the codes used here unless
    the seller's own markets use the raw code."""
    aliases = {k: v for k, v in COUNTRY_ALIASES.items() if k not in known}
    return per_distinct(column, lambda text: text.str.upper().replace(aliases))


def numbers(column: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(values, mask of cells that are not numbers) of a column of clean text.

    Clean columns are cast in one pass; the leftovers may carry currency signs, thousands
    separators, a decimal comma or accounting brackets: ``$1,234.50``, ``1.234,50``,
    ``(12.00)``.
    """
    try:
        values = pd.Series(pc.cast(pa.array(column, from_pandas=True), pa.float64()),
                           index=column.index, dtype="float64")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        values = pd.to_numeric(column, errors="coerce").astype("float64")
        left = values.isna() & column.notna()
        if left.any():
            values[left] = _forgiving_numbers(column[left])
    return values, values.isna() & column.notna()


def _forgiving_numbers(text: pd.Series) -> pd.Series:
    negative = text.str.startswith("(") & text.str.endswith(")")
    digits = text.str.replace(r"[^\d,.\-+]", "", regex=True)
    comma_decimal = (digits.str.rfind(",") > digits.str.rfind(".")) & ~digits.str.fullmatch(
        r"[-+]?\d{1,3}(,\d{3})+")
    digits = digits.where(~comma_decimal,
                          digits.str.replace(".", "", regex=False).str.replace(",", "."))
    digits = digits.where(comma_decimal, digits.str.replace(",", "", regex=False))
    values = pd.to_numeric(digits, errors="coerce").astype("float64")
    return values.where(~negative, -values)


def whole_numbers(values: pd.Series) -> pd.Series:
    """Mask of values that are not whole numbers (missing values are not flagged)."""
    return values.notna() & (values != values.round())


def local_dates(column: pd.Series, timezones: pd.Series | None) -> tuple[pd.Series, pd.Series]:
    """(midnight timestamps of each cell's local date, mask of cells that are not dates).

    ``timezones`` gives each row's IANA zone (missing: UTC); it only matters for cells with
    a UTC offset. Distinct cells are parsed once, so a column of dates costs its calendar.
    """
    codes, uniques = pd.factorize(column)
    if len(uniques) == 0:
        return pd.Series(pd.NaT, index=column.index, dtype="datetime64[ns]"), column.notna()
    distinct = pd.Series(uniques, dtype="str")
    stamps = pd.to_datetime(distinct, format="ISO8601", utc=True, errors="coerce")
    left = stamps.isna()
    if left.any():
        stamps[left] = _forgiving_dates(distinct[left])
    wall = stamps.dt.tz_localize(None).to_numpy()[codes]
    found = codes >= 0
    dates = pd.Series(wall, index=column.index).where(found).dt.normalize()
    aware = distinct.str.contains(_OFFSET, regex=True).to_numpy()[codes] & found
    if aware.any():
        utc = pd.Series(wall[aware], index=column.index[aware]).dt.tz_localize("UTC")
        zones = (timezones[aware] if timezones is not None
                 else pd.Series("UTC", index=utc.index)).fillna("UTC")
        for zone in zones.unique():
            rows = zones.index[zones == zone]
            dates[rows] = utc[rows].dt.tz_convert(zone).dt.tz_localize(None).dt.normalize()
    dates = dates.astype("datetime64[ns]")
    return dates, dates.isna() & column.notna()


def _forgiving_dates(text: pd.Series) -> pd.Series:
    """Dates such as ``Mar 14, 2026``, ``03/14/2026`` (month first) or ``14.03.2026``."""
    dotted = text.str.fullmatch(r"\d{1,2}\.\d{1,2}\.\d{4}.*")
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us, UTC]")
    for dayfirst, rows in ((True, dotted), (False, ~dotted)):
        if rows.any():
            out[rows] = pd.to_datetime(text[rows], format="mixed", dayfirst=dayfirst, utc=True,
                                       errors="coerce")
    return out
