"""Who works the service desk when, and what the agents cost.

The desk has ``service.agents`` agents on every shift unless ``service.staffing`` says
otherwise: ``agents_by_month`` sets the agents of each calendar month, then each dated
roster window sets those of its days (a later window wins where windows overlap), so a
seller can staff up for the peak and down after it. Agents are paid for the hours they are
on duty, booked on each day of the horizon under ``agent_wages`` in CNY:

    wages_cny(t) = agents(t) x shift_hours(t) x cost_per_agent_hour_cny

with shift_hours(t) the shift's length on working days and 0 on days off. Wages follow the
roster, not the tickets, so they are a fixed cost: below the contribution margin, on the way
to operating profit (``sim.ledger.FIXED``).
"""

from __future__ import annotations

import numpy as np

from sim.calendar import month_of_days, window_mask
from sim.ledger import Ledger
from sim.scenario import Scenario


def agents_by_day(scenario: Scenario, n_days: int) -> np.ndarray:
    """Agents on the shift of each day [day]."""
    service = scenario.service
    agents = np.full(n_days, service.agents, dtype=np.int64)
    staffing = service.staffing
    if staffing is None:
        return agents
    if staffing.agents_by_month is not None:
        months = month_of_days(scenario.horizon.start_date, n_days)
        agents = np.asarray(staffing.agents_by_month, dtype=np.int64)[months]
    for roster in staffing.rosters:
        agents[window_mask(scenario, roster, n_days)] = roster.agents
    return agents


def pay_agents(scenario: Scenario, ledger: Ledger, agents: np.ndarray,
               shift_hours: np.ndarray) -> None:
    """Book the agents' wages of every day of the horizon (``agents`` and ``shift_hours``
    per day); nothing when the scenario prices no agent time."""
    staffing = scenario.service.staffing
    if staffing is None or staffing.cost_per_agent_hour_cny == 0:
        return
    days = np.arange(scenario.horizon.days)
    wages = agents[days] * shift_hours[days] * staffing.cost_per_agent_hour_cny
    ledger.book("agent_wages", 0, -wages, days, days)
