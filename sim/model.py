"""Wire the operation into one SimPy environment and run it.

The day is a fixed sequence of SimPy events (time in days; day t runs from t to t+1):

    t + 0.00..0.50  purchase orders and bulk shipments arrive whenever their journeys end
    t + 0.45        re-planning (review days only, when a policy object is given): the
                    policy sees the state and plans; its first period is executed
    t + 0.50        daily_operations: returns restocked, ad spend, demand cohort and
                    dispatch, storage fees, rating update
    t + 0.90        replenishment_review: a plan's shipments of the week leave (on its
                    first day), overseas warehouses pull stock from origin, origin
                    warehouses raise purchase orders
    t + 0.95        customer_service: today's tickets join the agents' queue
    t + 0.99        the day's state is recorded

Purchase orders and bulk shipments are processes of their own (``sim.suppliers``,
``sim.shipping``); the many orders are daily numpy cohorts (``sim.fulfilment``).
"""

from __future__ import annotations

import time

import simpy

from sim.operation import Operation
from sim.plan import Plan, PlanFileError, load_plan
from sim.policy import ReplanPolicy
from sim.results import RunResult, collect
from sim.scenario import Scenario


class MissingPolicy(ValueError):
    """The scenario asks for re-planning but no policy object was handed to the run."""


def daily_operations(env: simpy.Environment, op: Operation):
    for t in range(op.days):
        yield env.timeout(t + 0.5 - env.now)
        op.receive_returns(t)
        ad_cny = op.spend_on_ads(t)
        flows = op.serve_demand(t)
        op.charge_storage(t)
        op.update_rating(t)
        yield env.timeout(0.49)
        op.record_day(t, flows, ad_cny)


def replenishment_review(env: simpy.Environment, op: Operation):
    for t in range(op.days):
        yield env.timeout(t + 0.9 - env.now)
        op.send_planned(t)
        op.review_stock(t)


def replanning(env: simpy.Environment, op: Operation, policy: ReplanPolicy):
    for t in range(0, op.days, policy.review_days):
        yield env.timeout(t + 0.45 - env.now)
        op.replan(t, policy)


def customer_service(env: simpy.Environment, op: Operation):
    for t in range(op.days):
        yield env.timeout(t + 0.95 - env.now)
        op.serve_tickets(t)


def cut_horizon(scenario: Scenario, days: int) -> Scenario:
    """The same scenario over its first ``days`` days (for quick looks and tests)."""
    horizon = scenario.horizon.model_copy(
        update={"days": days, "warmup_days": min(scenario.horizon.warmup_days, days - 1)})
    return scenario.model_copy(update={"horizon": horizon})


def simulate(scenario: Scenario, seed: int = 0, days: int | None = None,
             plan: Plan | None = None, policy: ReplanPolicy | None = None) -> RunResult:
    """Play the scenario forward once; the same seed gives the same tables.

    ``plan`` (or the scenario's ``plan`` file) is executed as data; ``policy`` re-plans
    every ``policy.review_days`` (required when the scenario sets ``policies.replan``).
    """
    started = time.perf_counter()
    if days is not None:
        scenario = cut_horizon(scenario, days)
    plan_file = scenario.plan if plan is None else None
    if plan_file is not None:
        plan = load_plan(plan_file)
    if policy is None and scenario.policies.replan is not None:
        raise MissingPolicy("the scenario sets policies.replan: pass a re-planning policy "
                            "(experiments.policies.replan_policy builds one)")
    env = simpy.Environment()
    try:
        op = Operation(env, scenario, seed, plan, replanning=policy is not None)
    except PlanFileError as exc:
        if plan_file is None:
            raise
        raise PlanFileError(f"{plan_file}: {exc}") from None
    for process in (daily_operations, replenishment_review, customer_service):
        env.process(process(env, op))
    if policy is not None:
        env.process(replanning(env, op, policy))
    env.run(until=op.days)
    return collect(op, seed, started)
