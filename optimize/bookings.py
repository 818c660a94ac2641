"""A booking list a planner can act on: what to book, by when, on which lane.

A plan's bulk lines become one row per SKU, lane and departure week: the date by which the
space must be booked (``planning.booking_lead_days`` before the departure week starts), the
week and first day of departure, whole units, the containers the lane takes that week (FCL;
shared by the week's SKU lines on the lane) and the expected arrival at the warehouse (the
departure day plus the lane's mean door-to-warehouse days, departure wait included).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd

COLUMNS = ["sku", "origin", "destination", "mode", "departure_week", "book_by", "departs",
           "units", "lane_containers", "expected_arrival"]


def booking_list(lines: pd.DataFrame, containers: Mapping[tuple[str, str, str, int], float],
                 start: dt.date, lead_days: int) -> pd.DataFrame:
    """Bookings from bulk ``lines`` (columns week, sku, origin, destination, mode, units,
    mean_days; week 1 starts on ``start``) and whole ``containers`` by (origin,
    destination, mode, week); lines that round to no unit are left out."""
    if lines.empty:
        return pd.DataFrame(columns=COLUMNS)
    units = np.floor(lines["units"].to_numpy(dtype=float) + 0.5).astype(np.int64)
    week = lines["week"].to_numpy(dtype=np.int64)
    departs = pd.Timestamp(start) + pd.to_timedelta(7 * (week - 1), unit="D")
    keys = zip(lines["origin"], lines["destination"], lines["mode"], week.tolist(), strict=True)
    table = pd.DataFrame({
        "sku": lines["sku"].to_numpy(), "origin": lines["origin"].to_numpy(),
        "destination": lines["destination"].to_numpy(), "mode": lines["mode"].to_numpy(),
        "departure_week": week,
        "book_by": (departs - pd.Timedelta(days=lead_days)).date,
        "departs": departs.date,
        "units": units,
        "lane_containers": [int(round(containers.get(key, 0.0))) for key in keys],
        "expected_arrival": (departs + pd.to_timedelta(
            np.round(lines["mean_days"].to_numpy(dtype=float)), unit="D")).date,
    })
    table = table[table["units"] > 0]
    return table.sort_values(["departure_week", "origin", "destination", "mode", "sku"],
                             kind="stable").reset_index(drop=True)[COLUMNS]
