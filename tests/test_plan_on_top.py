"""A plan's shipments are commitments on top of the scenario's rules: the rules do not net
them out while they travel, and the origin buys for what the plan will take from it."""

from __future__ import annotations

import pandas as pd

from sim.model import simulate
from sim.plan import Plan, ShipmentLine
from tests.conftest import load

EXTRA = 900
WEEK = 4
"""The plan sends EXTRA units of LAMP to US_WH by sea in week 4 (day 21)."""


def _scenario():
    # Base stock at origin with a level above any position and no MOQ: every review orders
    # up to the level, so a position lower by the plan's units orders exactly that much more.
    return load("tiny", "policies.replenishment.0={warehouse: SZ, policy: {type: base_stock, "
                        "unit: days, level: 200}, review_days: 7}", "suppliers.ACME.moq_units=0")


def _plan() -> Plan:
    return Plan(kind="peak", scenario="tiny", scenario_hash="-", weeks=6, objective_cny=0,
                shipments=[ShipmentLine(week=WEEK, sku="LAMP", origin="SZ",
                                        destination="US_WH", mode="sea_fcl", units=EXTRA)])


def _bulk_to_us(shipments: pd.DataFrame) -> pd.DataFrame:
    bulk = shipments[(shipments["kind"] == "bulk") & (shipments["destination"] == "US_WH")]
    return bulk[["created_day", "sku", "mode", "ordered_units"]].reset_index(drop=True)


def test_the_rules_keep_ordering_while_the_plan_travels():
    sc = _scenario()
    rules, plan = simulate(sc, seed=4, days=42), simulate(sc, seed=4, days=42, plan=_plan())
    planned = plan.shipments[(plan.shipments["kind"] == "bulk")
                             & (plan.shipments["created_day"] == 21.9)
                             & (plan.shipments["ordered_units"] == EXTRA)]
    assert len(planned) == 1
    arrival = planned["arrived_day"].iloc[0] if planned["arrived_day"].notna().all() else 42.0
    # Until the plan's units reach the shelf, both runs see the same stock, and the rules
    # send exactly what they send without the plan.
    def before(shipments: pd.DataFrame) -> pd.DataFrame:
        bulk = _bulk_to_us(shipments)
        return bulk[bulk["created_day"] < arrival]

    with_plan = before(plan.shipments)
    with_plan = with_plan.drop(with_plan[(with_plan["created_day"] == 21.9)
                                         & (with_plan["ordered_units"] == EXTRA)].index)
    pd.testing.assert_frame_equal(with_plan.reset_index(drop=True),
                                  before(rules.shipments).reset_index(drop=True))
    assert plan.conservation["units_residual"] == 0


def test_the_origin_buys_for_what_the_plan_will_take():
    sc = _scenario()
    rules, plan = simulate(sc, seed=4, days=45), simulate(sc, seed=4, days=45, plan=_plan())

    def bought(result, day: float) -> pd.Series:
        po = result.shipments[(result.shipments["kind"] == "purchase_order")
                              & (result.shipments["created_day"] == day)]
        return po.groupby("sku", observed=True)["ordered_units"].sum()

    # The review of day 7 is the first to see the week-4 shipment (day 21) within the
    # supplier's mean lead time plus a week (12 + 7 days): it buys that much more.
    assert bought(plan, 0.9).equals(bought(rules, 0.9))
    extra = bought(plan, 7.9).sub(bought(rules, 7.9), fill_value=0)
    assert extra.get("LAMP") == EXTRA
    assert (extra.drop("LAMP") == 0).all()
