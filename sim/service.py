"""Customer service: tickets wait in one FIFO queue for agents who work in shifts.

Agents only work during the shift (e.g. 7 days x 8 h from 09:00). We run the queue on a
*working-time clock* that stops outside shifts: a ticket that arrives at night waits for the
morning, and a ticket being handled at the end of a shift is finished next shift. On that
clock the desk is an ordinary c-server FIFO queue, solved exactly by the recursion

    start_i = max(arrival_i, earliest time an agent is free),

with a heap of agent free times carried from day to day. Round-the-clock shifts make the
working clock the wall clock, which is how the Erlang-C validation test sees it. A roster
(``sim.staffing``) may change the agents from one day to the next: newcomers are free from
the day's first working hour, and leavers are the first free, who finish what they hold.

Each ticket belongs to a market and, unless it is a shopper's question, to an order: the
desk carries what the customer still pays for that order, which a dispute can claw back
(``sim.disputes``). Tickets are counted per type, market and day, not kept per order, so
each ticket of a cell carries the cell's mean: the total over its tickets is exact.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from sim.recorder import Recorder
from sim.scenario import Service, Shift

TICKET_TYPES = ("inquiry", "delay", "loss", "return")
TICKET_COLUMNS = {"arrival_hour": "float64", "type": "int8", "first_response_hours": "float64",
                  "resolution_hours": "float64", "market": "int16", "disputed": "bool",
                  "dispute_cost_cny": "float64"}


class WorkingClock:
    """Maps wall-clock hours (from day 0, 00:00) to cumulative working hours and back."""

    def __init__(self, shift: Shift, weekday: np.ndarray) -> None:
        self.start_hour = shift.start_hour
        self.hours_per_day = np.where(weekday < shift.days_per_week, shift.hours, 0.0)
        self.before_day = np.concatenate([[0.0], np.cumsum(self.hours_per_day)[:-1]])
        self.end_of_day = self.before_day + self.hours_per_day

    def to_work(self, wall_hours: np.ndarray) -> np.ndarray:
        day = np.minimum((wall_hours // 24).astype(int), len(self.hours_per_day) - 1)
        into_shift = np.clip(wall_hours - 24 * day - self.start_hour, 0.0,
                             self.hours_per_day[day])
        return self.before_day[day] + into_shift

    def to_wall(self, work_hours: np.ndarray) -> np.ndarray:
        # The first day whose shift ends after the working instant holds it, so an instant
        # at a shift boundary maps to the start of the next shift, never back in time.
        day = np.searchsorted(self.end_of_day, work_hours, side="right")
        day = np.minimum(day, len(self.hours_per_day) - 1)
        return 24.0 * day + self.start_hour + (work_hours - self.before_day[day])


class ServiceDesk:
    """c agents serving tickets first come, first served, on the working clock."""

    def __init__(self, agents: int) -> None:
        self._free_at = [0.0] * agents

    def staff(self, agents: int, now: float) -> None:
        """Grow or shrink the desk to ``agents``: newcomers are free from ``now`` (working
        hours), leavers are the first free."""
        free_at = self._free_at
        while len(free_at) > agents:
            heapq.heappop(free_at)
        while len(free_at) < agents:
            heapq.heappush(free_at, now)

    def serve(self, arrivals: np.ndarray, handling: np.ndarray) -> np.ndarray:
        """Start times (working hours) for tickets given in arrival order."""
        starts = []
        free_at, replace = self._free_at, heapq.heapreplace
        for arrival, work in zip(arrivals.tolist(), handling.tolist(), strict=True):
            start = max(arrival, free_at[0])
            replace(free_at, start + work)
            starts.append(start)
        return np.array(starts, dtype=float)


@dataclass
class Answered:
    """A day's tickets once the desk has worked them, in arrival order (hours from day 0)."""

    arrival: np.ndarray
    kind: np.ndarray
    market: np.ndarray
    open_value: np.ndarray
    """What the customer still pays for the ticket's order (market currency; 0 for a
    question)."""
    first_response: np.ndarray
    resolution: np.ndarray


class ServiceState:
    """Tickets raised per type, market and day, the desk that answers them, and its log."""

    def __init__(self, spec: Service, weekday: np.ndarray, n_markets: int = 1,
                 agents: np.ndarray | None = None, log: Recorder | None = None) -> None:
        self.spec = spec
        shape = (len(TICKET_TYPES), n_markets, len(weekday))
        self.raised = np.zeros(shape, dtype=np.int64)
        """Tickets due on each day [type, market, day], raised as orders are shipped."""
        self.open_value = np.zeros(shape)
        """What the customer still pays for the orders of those tickets [type, market, day],
        market currency."""
        self.agents = np.full(len(weekday), spec.agents) if agents is None else agents
        """Agents on each day's shift [day] (``sim.staffing``)."""
        self.clock = WorkingClock(spec.shift, weekday)
        self.desk = ServiceDesk(int(self.agents[0]))
        self.log = Recorder(TICKET_COLUMNS) if log is None else log
        """Every ticket answered (``TICKET_COLUMNS``); a run's streams (``sim.records``)."""

    def serve(self, t: int, rng: np.random.Generator) -> Answered | None:
        """Queue day ``t``'s tickets at the desk; None when there are none."""
        counts = self.raised[:, :, t]
        n = int(counts.sum())
        self.desk.staff(int(self.agents[t]), float(self.clock.before_day[t]))
        if n == 0:
            return None
        spec = self.spec
        n_types, n_markets = counts.shape
        kind = np.repeat(np.arange(n_types), counts.sum(axis=1))
        market = np.repeat(np.tile(np.arange(n_markets), n_types), counts.ravel())
        per_ticket = self.open_value[:, :, t] / np.maximum(counts, 1)
        open_value = np.repeat(per_ticket.ravel(), counts.ravel())
        arrival = 24.0 * t + rng.uniform(0.0, 24.0, n)
        order = np.argsort(arrival, kind="stable")
        arrival, kind, market = arrival[order], kind[order], market[order]
        handling = spec.handling_hours.sample(rng, n)
        start = self.desk.serve(self.clock.to_work(arrival), handling)
        first_response = self.clock.to_wall(start) - arrival
        finish = self.clock.to_wall(start + handling)
        followup = np.where(kind > 0, spec.followup_hours.sample(rng, n), 0.0)
        return Answered(arrival, kind, market, open_value[order], first_response,
                        finish + followup - arrival)

    def record(self, tickets: Answered, disputed: np.ndarray, cost_cny: np.ndarray) -> None:
        """Log the day's tickets with their disputes and what each cost (CNY)."""
        self.log.add(arrival_hour=tickets.arrival, type=tickets.kind,
                     first_response_hours=tickets.first_response,
                     resolution_hours=tickets.resolution, market=tickets.market,
                     disputed=disputed, dispute_cost_cny=cost_cny)


def satisfied(first_response_hours: np.ndarray, resolution_hours: np.ndarray,
              disputed: np.ndarray, first_response_sla_hours: float,
              resolution_sla_hours: float) -> np.ndarray:
    """Tickets answered and resolved within their SLAs and not disputed."""
    return ((first_response_hours <= first_response_sla_hours)
            & (resolution_hours <= resolution_sla_hours) & ~disputed)
