"""The peak window's data: demand scenarios, what the rules supply, routes and costs.

``optimize.peak`` plans the window (its docstring states the model); both of its builds,
the Pyomo reference (``optimize.peak.build_peak_model``) and the array build
(``optimize.peak_arrays.build_peak_arrays``), read the window from here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from optimize.channel_data import ChannelData, channel_data
from sim.calendar import day_of
from sim.demand import sample_units_by_day
from sim.model import simulate
from sim.scenario import Scenario
from sim.state import OpeningState


@dataclass
class PeakData:
    base: ChannelData
    first_week: int                 # plan week (1-based) the window starts in
    weeks: int
    demand: np.ndarray              # units [scenario, sku, market, week of window]
    commit: list[int]               # indices into base.routes: bulk commit routes
    expedite: list[int]             # bulk expedite routes (to warehouses)
    express: list[int]              # direct parcel expedite routes (to markets)
    deliver: list[int]              # last-mile routes
    markets: list[int]              # markets served from overseas warehouses
    leftover_weeks: float
    parcel_capacity: dict[str, np.ndarray]  # units per window week
    start: dt.date                  # the first day of plan week 1
    booking_lead_days: int          # space is booked this long before its week
    supply: np.ndarray | None = None
    """Units the rules make available [scenario, sku, warehouse, week of window]: week 1
    holds the stock on hand when the window opens, later weeks the rules' shipments then on
    their way, at their expected arrival; simulated with each demand scenario's seed (from
    the opening state, if any; a window opening on day 0 takes the state's stock on hand
    and on its way as it is). None: the horizon's opening stock in week 1 and nothing
    after."""

    def cost(self, route: int, week: int) -> np.ndarray:
        """Per-unit cost [sku] of a route used in window week ``week`` (1-based)."""
        w = min(max(self.first_week + week - 2, 0), self.base.weeks - 1)
        return self.base.routes[route].unit_cost[:, w]

    def costs(self, routes: list[int], weeks: np.ndarray | None = None) -> np.ndarray:
        """Per-unit costs [sku, route, week] of ``routes`` in window ``weeks`` (1-based;
        every week of the window by default): ``cost`` for all at once."""
        weeks = np.arange(1, self.weeks + 1) if weeks is None else np.asarray(weeks)
        w = np.clip(self.first_week + weeks - 2, 0, self.base.weeks - 1)
        out = np.zeros((len(self.base.skus), len(routes), w.size))
        for i, r in enumerate(routes):
            out[:, i] = self.base.routes[r].unit_cost[:, w]
        return out

    @property
    def boxes(self) -> list[int]:
        """Commit routes that move whole containers."""
        return [r for r in self.commit if self.base.routes[r].container_m3]

    @property
    def depart(self) -> int:
        """Window week (1-based, <= 1) the commitments leave: the slowest arrives in week 1."""
        return 1 - max((self.base.routes[r].lead_weeks for r in self.commit), default=0)

    def demand_rows(self) -> np.ndarray:
        """Demand of the served markets [sku, served market, week, scenario]."""
        return self.demand[:, :, self.markets, :].transpose(1, 2, 3, 0)

    def inflow_rows(self) -> np.ndarray:
        """Units arriving without a decision [sku, warehouse, week, scenario]: the rules'
        supply, or the opening stock in week 1."""
        if self.supply is not None:
            return self.supply.transpose(1, 2, 3, 0)
        out = np.zeros((len(self.base.skus), len(self.base.warehouses), self.weeks,
                        self.demand.shape[0]))
        out[:, :, 0, :] = self.base.opening[:, :, None]
        return out


def peak_data(scenario: Scenario, samples: np.ndarray | None = None,
              state: OpeningState | None = None) -> PeakData:
    """The window's data; ``samples`` [scenario, sku, market, week] replaces the draws;
    the seller starts from the opening ``state`` when one is given."""
    spec = scenario.planning.peak
    if spec is None:
        raise ValueError("the scenario has no planning.peak section")
    base = channel_data(scenario, enforce_promise=False, state=state)
    first_day = day_of(scenario, spec.start)
    first_week = first_day // 7 + 1
    routes = base.routes
    market_index = {m: i for i, m in enumerate(base.markets)}
    deliver = [r for r, route in enumerate(routes) if route.kind == "last_mile"]
    served = sorted({market_index[routes[r].destination] for r in deliver})
    express = [r for r, route in enumerate(routes) if route.kind == "direct"
               and route.mode in spec.expedite_modes and market_index[route.destination] in served]
    supply = None
    if samples is None:
        days = range(first_day, first_day + 7 * spec.weeks)
        seeds = list(range(spec.seed, spec.seed + spec.scenarios))
        daily = sample_units_by_day(scenario, seeds, days)  # [k, m, s, day]
        samples = daily.reshape(*daily.shape[:3], spec.weeks, 7).sum(axis=4).transpose(
            0, 2, 1, 3)
        if first_day > 0:
            supply = rules_supply(scenario, base, seeds, first_day, spec.weeks, state)
        elif state is not None:
            supply = state_supply(state, base, len(seeds), spec.weeks)
    weeks = samples.shape[3]
    window = slice(first_week - 1, first_week - 1 + weeks)
    return PeakData(
        base=base, first_week=first_week, weeks=weeks, demand=samples,
        commit=[r for r, route in enumerate(routes)
                if route.kind == "bulk" and route.mode in spec.commit_modes],
        expedite=[r for r, route in enumerate(routes)
                  if route.kind == "bulk" and route.mode in spec.expedite_modes],
        express=express, deliver=deliver, markets=served,
        leftover_weeks=spec.leftover_holding_weeks,
        parcel_capacity={k: v[window] for k, v in base.parcel_capacity.items()},
        start=scenario.horizon.start_date,
        booking_lead_days=scenario.planning.booking_lead_days, supply=supply)


def rules_supply(scenario: Scenario, base: ChannelData, seeds: list[int], first_day: int,
                 weeks: int, state: OpeningState | None = None) -> np.ndarray:
    """What the scenario's own rules will have for each overseas warehouse in the window,
    per seed [seed, sku, warehouse, week]: the stock on hand when it opens (week 1) and the
    bulk shipments then on their way, in the week of their expected arrival (week 1 if
    overdue). The plan's commitments go on top of the rules (``sim.replenishment``), so the
    model buys only what they lack. Orders the rules place inside the window are left out.
    The runs start from the opening ``state``, if any."""
    rules = scenario.model_copy(update={
        "plan": None, "policies": scenario.policies.model_copy(update={"replan": None})})
    names = list(scenario.warehouses)
    lead = {(r.origin, r.destination, r.mode): r.mean_days for r in base.routes
            if r.kind == "bulk"}
    out = np.zeros((len(seeds), len(base.skus), len(base.warehouses), weeks))
    for i, seed in enumerate(seeds):
        run = simulate(rules, seed, days=first_day, state=state)
        assert run.closing_stock is not None
        for h, name in enumerate(base.warehouses):
            out[i, :, h, 0] = run.closing_stock[names.index(name)]
        shipments = run.shipments
        moving = shipments[(shipments["kind"] == "bulk") & shipments["arrived_day"].isna()]
        for row in moving.itertuples(index=False):
            if str(row.destination) not in base.warehouses:
                continue
            arrival = row.created_day + lead[(str(row.origin), str(row.destination),
                                              str(row.mode))]
            week = max(int((arrival - first_day) // 7), 0)
            if week < weeks:
                out[i, base.skus.index(str(row.sku)),
                    base.warehouses.index(str(row.destination)), week] += row.ordered_units
    return out


def state_supply(state: OpeningState, base: ChannelData, samples: int,
                 weeks: int) -> np.ndarray:
    """A window opening on day 0 [sample, sku, warehouse, week]: the opening stock (the
    state's on hand where it names the warehouse) in week 1, and the state's shipments on
    their way in the week they land."""
    out = np.zeros((samples, len(base.skus), len(base.warehouses), weeks))
    out[:, :, :, 0] = base.opening
    for line in state.in_transit:
        week = line.arrival_day // 7
        if line.warehouse in base.warehouses and week < weeks:
            out[:, base.skus.index(line.sku), base.warehouses.index(line.warehouse),
                week] += line.units
    return out
