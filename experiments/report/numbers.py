"""Numbers for people: money in CNY with separators or in millions, counts without float
noise, rates in percent clipped to [0, 100 %], differences of rates in points.

A solver returns 208.99999999999778 units and 2.676e-13 CNY; a reader wants "209 units" and
"0 CNY". Every figure on a page goes through one of these functions, so none prints in
scientific notation and none carries more digits than it means.

>>> money(3_255_431.58), money(-27_842.7), money(2.676e-13)
('3.26 M CNY', '-27,843 CNY', '0 CNY')
>>> count(208.99999999999778), percent(0.9827), points(-0.042441)
('209', '98.3 %', '-4.2 pts')
>>> rate_interval(0.986, 0.106)
'98.6 % (88.0 to 100.0 %)'
"""

from __future__ import annotations

import math

from experiments.kpis import describe

NOISE = 1e-6
"""Relative size below which a value is rounding noise of the solver or the sums."""


def finite(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def clean(value: float) -> float:
    """``value`` with float noise removed: near-integers become integers, tiny values 0."""
    if abs(value) < 1e-9:
        return 0.0
    nearest = round(value)
    if nearest and abs(value - nearest) <= NOISE * max(1.0, abs(value)):
        return float(nearest)
    return value


def number(value: float | None, digits: int = 0) -> str:
    """``12,345`` or ``0.23``: separators, no exponent; small values keep two significant
    digits so a per-unit figure of 0.004 does not print as 0."""
    if value is None or not finite(value):
        return "-"
    value = clean(float(value))
    if value and abs(value) < 1 and digits == 0:
        digits = min(6, 1 - math.floor(math.log10(abs(value))))
    text = f"{value:,.{digits}f}"
    return text.lstrip("-") if not text.strip("-0.,") else text


def signed(text: str, value: float) -> str:
    return "+" + text if finite(value) and clean(value) > 0 and not text.startswith("+") \
        else text


def count(value: float, signed_: bool = False) -> str:
    """Whole units: ``209``, ``+1,365``."""
    if not finite(value):
        return "-"
    text = f"{round(clean(value)):,}"
    return signed(text, value) if signed_ else text


def money(value: float | None, signed_: bool = False, unit: str = "CNY") -> str:
    """Whole CNY below a million, ``3.26 M CNY`` above."""
    if value is None or not finite(value):
        return "-"
    value = clean(float(value))
    text = (f"{value / 1e6:,.2f} M" if abs(value) >= 1e6 else number(value, 0 if
                                                                      abs(value) >= 100
                                                                      else 2))
    if text in ("0.00", "-0.00"):
        text = "0"
    text = f"{text} {unit}".replace("  ", " ")
    return signed(text, value) if signed_ else text


def per_unit(value: float) -> str:
    """CNY per unit, two decimals."""
    return "-" if not finite(value) else f"{clean(float(value)):,.2f} CNY/unit"


def percent(fraction: float, digits: int = 1) -> str:
    """A fraction as a percentage, clipped to [0, 100 %]."""
    if not finite(fraction):
        return "-"
    return f"{100 * min(1.0, max(0.0, fraction)):.{digits}f} %"


def points(fraction_difference: float, digits: int = 1) -> str:
    """A difference of two rates (fractions) in percentage points: ``+1.2 pts``."""
    if not finite(fraction_difference):
        return "-"
    text = number(100 * fraction_difference, digits)
    return signed(text, fraction_difference) + " pts"


def rate_interval(mean: float, half_width: float) -> str:
    """``98.6 % (88.0 to 100.0 %)``: a rate's interval, clipped to its range."""
    if not finite(mean):
        return "-"
    if not finite(half_width):
        return percent(mean)
    low, high = max(0.0, mean - half_width), min(1.0, mean + half_width)
    return f"{percent(mean)} ({100 * low:.1f} to {100 * high:.1f} %)"


def kpi_value(kpi: str, value: float, difference: bool = False) -> str:
    """A KPI's value (or a difference of two values) for a headline: money, counts, rates
    in percent and their differences in points, days and ratios with one decimal."""
    described = describe(kpi)
    if described.percent:
        return points(value) if difference else percent(value)
    if described.unit == "CNY":
        return money(value, signed_=difference)
    if described.unit == "% of revenue":
        return (number(value, 1) + (" pts" if difference else " %")) if finite(value) else "-"
    if described.format in ("{:,.0f}", "{:.0f}"):
        text = count(value, signed_=difference)
    else:
        text = number(value, 1 if described.format.endswith(".1f}") else 2)
        text = signed(text, value) if difference else text
    unit = described.unit
    return f"{text} {unit}".strip() if unit and unit not in ("x", "") else text


def kpi_interval(kpi: str, mean: float, half_width: float) -> str:
    """Mean and 95 % interval for a headline; rates clipped to [0, 100 %]."""
    if describe(kpi).percent:
        return rate_interval(mean, half_width)
    if not finite(half_width):
        return kpi_value(kpi, mean)
    return f"{kpi_value(kpi, mean)} ± {kpi_value(kpi, half_width).lstrip('+')}"


def kpi_range(kpi: str, mean: float, half_width: float) -> str:
    """The interval alone: ``831,700 to 938,042 CNY``; rates clipped to [0, 100 %]."""
    if not finite(half_width):
        return "-"
    low, high = mean - half_width, mean + half_width
    if describe(kpi).percent:
        low, high = max(0.0, low), min(1.0, high)
    return f"{kpi_value(kpi, low).split(' ')[0]} to {kpi_value(kpi, high)}"
