"""Executing a Plan: weekly routing quotas, planned bulk shipments and planned ad spend.

A plan says, per week, how many units of each SKU a market gets by each route and how many
units each bulk lane carries. The simulation executes it literally, the way an operations
team follows a weekly plan: a day's orders of a (market, SKU) take the warehouse routes'
quotas first (stock on hand ships fastest), then the direct routes'; demand beyond the
week's quotas follows the route with the largest quota; an order whose warehouse is out of
stock waits or is lost by the market's rule. Planned shipments leave on the first day of
their week, as far as origin stock allows. Adapting to what actually happens is the job of
re-planning (``sim.policy``), not of the executor.

A plan declares what it takes over (``Plan.takes_over``):
- ``routing``: the week's quotas route the orders;
- ``overseas_replenishment``: the overseas warehouses' rules are switched off (origin
  purchasing keeps its rules);
- ``ad_spend``: the ad spend of the plan's weeks and channels.
Shipment lines are sent on top of whatever rules still run (a peak plan's first-stage
commitments; the recourse lines of each demand scenario are not executed: they answer
demand the plan did not know).
"""

from __future__ import annotations

import numpy as np

from sim.allocation import units_up_to
from sim.network import Network
from sim.plan import FulfilmentLine, Plan, PlanFileError, ShipmentLine, validated
from sim.scenario import Scenario, lane_serves, route_problem


class Router:
    """Chooses each order's route (warehouse, mode, direct) from the week's quotas."""

    def __init__(self, warehouse: np.ndarray, mode: np.ndarray, direct: np.ndarray,
                 n_markets: int, n_skus: int) -> None:
        self.warehouse, self.mode, self.direct = (np.array(warehouse, dtype=np.int64),
                                                  np.array(mode, dtype=np.int64),
                                                  np.array(direct, dtype=bool))
        self.default = np.arange(n_markets)
        """The option of each market's scenario route: options 0 .. markets - 1."""
        self.n_markets, self.n_skus = n_markets, n_skus
        self.quota: dict[int, np.ndarray] = {}
        """Remaining units [market, sku, option] of each planned week."""
        self.largest: dict[int, np.ndarray] = {}
        """Each week's option with the largest planned units [market, sku]; -1 where the
        week plans nothing for the pair (its demand takes the scenario's route)."""

    @classmethod
    def of(cls, network: Network) -> Router:
        """A router with the network's starting routes (markets' own, then fallbacks)."""
        routes = network.routes
        return cls(routes.warehouse, routes.mode, routes.direct, len(network.markets),
                   network.n_skus)

    def option(self, warehouse: int, mode: int, direct: bool) -> int:
        """The index of a route, added if new."""
        same = np.flatnonzero((self.warehouse == warehouse) & (self.mode == mode)
                              & (self.direct == direct))
        if len(same):
            return int(same[0])
        self.warehouse = np.append(self.warehouse, warehouse)
        self.mode = np.append(self.mode, mode)
        self.direct = np.append(self.direct, direct)
        for week, quota in self.quota.items():
            self.quota[week] = np.concatenate(
                [quota, np.zeros((self.n_markets, self.n_skus, 1))], axis=2)
        return len(self.warehouse) - 1

    def set_week(self, week: int, lines: list[tuple[int, int, int, float]]) -> None:
        """Replace a week's quotas by (market, sku, option, units) lines."""
        quota = np.zeros((self.n_markets, self.n_skus, len(self.warehouse)))
        for market, sku, option, units in lines:
            quota[market, sku, option] += units
        self.quota[week] = quota
        self.largest[week] = np.where(quota.sum(axis=2) > 0, quota.argmax(axis=2), -1)

    def assign(self, t: int, market: np.ndarray, sku: np.ndarray, units: np.ndarray,
               priority: np.ndarray) -> np.ndarray:
        """The option of each of today's orders; uses up the week's quotas."""
        quota = self.quota.get(t // 7 + 1)
        if quota is None or len(market) == 0:
            return self.default[market]
        n_options = quota.shape[2]
        # Warehouse routes before direct ones; stable within each group.
        ranked = np.argsort(self.direct[:n_options], kind="stable")
        within = units_up_to(market * self.n_skus + sku, units, priority)
        rows = quota[market, sku][:, ranked]
        reach = np.cumsum(rows, axis=1)
        position = (reach < within[:, None] - 1e-9).sum(axis=1)
        chosen = ranked[np.minimum(position, n_options - 1)]
        largest = self.largest[t // 7 + 1][market, sku]
        overflow = np.where(largest >= 0, largest, self.default[market])
        chosen = np.where(position >= n_options, overflow, chosen)
        np.subtract.at(quota, (market, sku, chosen), units)
        np.maximum(quota, 0.0, out=quota)
        return chosen


class PlanBook:
    """A plan compiled against one operation's indices: quotas, shipments, ad spend."""

    def __init__(self, scenario: Scenario, markets: list[str], skus: list[str],
                 warehouses: list[str], modes: list[str], channels: list[str]) -> None:
        self.scenario = scenario
        self.index = {"market": markets, "sku": skus, "warehouse": warehouses, "mode": modes,
                      "channel": channels}
        self.shipments: dict[int, list[tuple[int, int, int, int, int]]] = {}
        """(origin, destination, mode, sku, units) lines by week."""
        self.expected: dict[int, list[tuple[int, int, int, int, int]]] = {}
        """Lines a re-plan expects to send in later weeks (``expect``)."""

    def find(self, kind: str, name: str, where: str) -> int:
        try:
            return self.index[kind].index(name)
        except ValueError:
            raise PlanFileError(f"{where}: unknown {kind} '{name}' in scenario "
                                f"'{self.scenario.name}'") from None

    def routing_lines(self, router: Router, lines: list[FulfilmentLine]
                      ) -> dict[int, list[tuple[int, int, int, float]]]:
        """Fulfilment lines as router quota lines by week."""
        by_week: dict[int, list[tuple[int, int, int, float]]] = {}
        for i, line in enumerate(lines):
            where = f"fulfilment.{i}"
            market, sku = (self.find("market", line.market, where),
                           self.find("sku", line.sku, where))
            warehouse, mode = (self.find("warehouse", line.warehouse, where),
                               self.find("mode", line.mode, where))
            self._check_route(line, where)
            option = router.option(warehouse, mode, line.route == "direct")
            by_week.setdefault(line.week, []).append((market, sku, option, line.units))
        return by_week

    def set_shipments(self, lines: list[ShipmentLine], weeks: set[int] | None = None) -> None:
        """Register shipment lines (whole units) by week; ``weeks`` given are replaced."""
        for week in weeks or ():
            self.shipments.pop(week, None)
        for week, coded in self._by_week(lines).items():
            self.shipments.setdefault(week, []).extend(coded)

    def expect(self, lines: list[ShipmentLine]) -> None:
        """A re-plan's shipments of the weeks after those it executes now: not sent unless
        a later re-plan keeps them, but the origins buy for them (``committed``)."""
        self.expected = self._by_week(lines)

    def _by_week(self, lines: list[ShipmentLine]
                 ) -> dict[int, list[tuple[int, int, int, int, int]]]:
        by_week: dict[int, list[tuple[int, int, int, int, int]]] = {}
        for i, line in enumerate(lines):
            where = f"shipments.{i}"
            names = (self.find("warehouse", line.origin, where),
                     self.find("warehouse", line.destination, where),
                     self.find("mode", line.mode, where), self.find("sku", line.sku, where))
            self._check_lane(line, where)
            units = int(round(line.units))
            if units > 0 and line.scenario is None:
                by_week.setdefault(line.week, []).append((*names, units))
        return by_week

    def _check_route(self, line: FulfilmentLine, where: str) -> None:
        """A delivery route the simulation can run (the scenario's own rules)."""
        problem = route_problem(self.scenario, line.market, line.route, line.warehouse,
                                line.mode)
        if problem is not None:
            raise PlanFileError(f"{where}: {line.route} route from {line.warehouse}: "
                                f"{problem[1]}")

    def _check_lane(self, line: ShipmentLine, where: str) -> None:
        """A bulk shipment on a lane from an origin to an overseas warehouse."""
        sc = self.scenario
        origin, destination = sc.warehouses[line.origin], sc.warehouses[line.destination]
        if not (origin.kind == "origin" and destination.kind == "overseas"
                and sc.modes[line.mode].family == "bulk"
                and lane_serves(sc, line.origin, line.destination, line.mode)):
            raise PlanFileError(f"{where}: no lane carries '{line.mode}' bulk freight from "
                                f"{line.origin} to {line.destination}")

    def committed(self, t: int, cover_days: np.ndarray) -> np.ndarray:
        """Units the plan's shipments (sent or expected by a re-plan) will take from each
        origin [warehouse, sku] in the weeks that start after day ``t`` and within the
        origin's ``cover_days``: demand on the origin already known, which its purchasing
        counts as it counts backorders."""
        out = np.zeros((len(self.index["warehouse"]), len(self.index["sku"])), dtype=np.int64)
        # Only the weeks that start within the longest cover: a year's plan holds thousands
        # of lines and this runs every day.
        for week in range(t // 7 + 2, int(t + cover_days.max()) // 7 + 2):
            start = 7 * (week - 1)
            lines = self.shipments.get(week, self.expected.get(week, []))
            for origin, _, _, sku, units in lines:
                if t < start <= t + cover_days[origin]:
                    out[origin, sku] += units
        return out

    def ad_spend(self, plan: Plan, schedule: np.ndarray, fx_to_cny: np.ndarray) -> np.ndarray:
        """The schedule [channel, day] in channel currency with the plan's weeks replaced;
        a channel's last planned week holds for the horizon's days after it (a horizon of
        whole weeks plus a few days)."""
        spend = schedule.copy()
        horizon = self.scenario.horizon.days
        last_week: dict[str, int] = {}
        for line in plan.ad_spend:
            last_week[line.channel] = max(line.week, last_week.get(line.channel, 0))
        for i, line in enumerate(plan.ad_spend):
            c = self.find("channel", line.channel, f"ad_spend.{i}")
            end = horizon if line.week == last_week[line.channel] else 7 * line.week
            spend[c, 7 * (line.week - 1): min(end, horizon)] = (line.spend_cny_per_day
                                                                 / fx_to_cny[c])
        return spend


def execute(plan: Plan, book: PlanBook, router: Router) -> None:
    """Load a whole plan: every week's quotas (if it routes) and shipments."""
    if plan.takes("routing"):
        for week, lines in book.routing_lines(router, plan.fulfilment).items():
            router.set_week(week, lines)
    book.set_shipments(plan.shipments)


def execute_first_period(plan: Plan, book: PlanBook, router: Router,
                         weeks: range) -> None:
    """Load only the given weeks of a re-plan, replacing what earlier plans said of them."""
    fulfilment = [line for line in plan.fulfilment if line.week in weeks]
    by_week = book.routing_lines(router, fulfilment)
    for week in weeks:
        router.set_week(week, by_week.get(week, []))
    book.set_shipments([line for line in plan.shipments if line.week in weeks], set(weeks))
    book.expect([line for line in plan.shipments if line.week > weeks.stop - 1])


def check_plan(plan: Plan, scenario: Scenario) -> None:
    """Raise ``PlanFileError`` for the first line the scenario cannot run, before any run:
    a number out of bounds (plans built in code skip validation), an unknown name, a route
    or lane the scenario does not have."""
    plan = validated(plan)
    markets, skus, channels = list(scenario.markets), list(scenario.skus), \
        list(scenario.ad_channels)
    book = PlanBook(scenario, markets, skus, list(scenario.warehouses), list(scenario.modes),
                    channels)
    none = np.zeros(len(markets), dtype=np.int64)
    book.routing_lines(Router(none, none, none.astype(bool), len(markets), len(skus)),
                      plan.fulfilment)
    book.set_shipments(plan.shipments)
    book.ad_spend(plan, np.zeros((len(channels), scenario.horizon.days)),
                  np.ones(len(channels)))
