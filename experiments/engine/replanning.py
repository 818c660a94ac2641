"""Runs that re-plan: the one place where a simulation is handed a solver.

``sim`` never imports ``optimize`` (see sim.policy); a scenario that sets
``policies.replan`` gets its rolling planner built here, so every way of running a scenario
(``xbsim run``, replications, compare, sweeps, the Python API) re-plans the same way.
"""

from __future__ import annotations

from sim.model import simulate
from sim.policy import ReplanPolicy
from sim.results import RunResult
from sim.scenario import Scenario


def replan_policy(scenario: Scenario) -> ReplanPolicy | None:
    """The rolling planner the scenario asks for, or None."""
    settings = scenario.policies.replan
    if settings is None:
        return None
    from optimize.rolling import RollingPlanner  # solver stack only for runs that re-plan

    return RollingPlanner(scenario, settings)


def run_scenario(scenario: Scenario, seed: int = 0, days: int | None = None) -> RunResult:
    """``simulate`` with the scenario's own re-planning policy, if it has one."""
    return simulate(scenario, seed=seed, days=days, policy=replan_policy(scenario))
