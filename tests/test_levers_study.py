"""The lever study: a lever left out is neutral, so a scenario without levers is unmoved and
the baseline without them is the model before them."""

from __future__ import annotations

import pytest

from experiments.studies.levers import LEVERS, lever_effects, without, without_levers
from sim.scenario import Customers, Pricing, Ranking
from tests.conftest import load


def test_a_scenario_without_levers_has_no_effect_to_show() -> None:
    effects = lever_effects(load("tiny"), seeds=[0, 1], days=20, progress=lambda _: None)
    assert set(effects) == set(LEVERS)
    for table in effects.values():
        assert (table["mean"] == 0).all()


def test_every_lever_of_the_tiny_levers_scenario_moves_operating_profit() -> None:
    """Each lever left out changes the money; two of them by a hand calculation: 40 days
    from 1 January pay the rent twice (1 Jan, 1 Feb: 2 x 1,000 CNY), and the roster pays
    (30 days x 2 agents + 10 days x 3) x 8 h x 50 CNY = 36,000 CNY of wages."""
    effects = lever_effects(load("tiny_levers"), seeds=[0, 1], days=40,
                            progress=lambda _: None)
    profit = {lever: table.loc["operating_profit_cny", "mean"]
              for lever, table in effects.items()}
    assert all(abs(value) > 1.0 for value in profit.values()), profit
    assert profit["fixed costs"] == pytest.approx(-2 * 1000.0)
    assert profit["service rosters and disputes"] == pytest.approx(-36_000.0)


def test_the_baseline_without_its_levers_sets_none_of_them() -> None:
    bare = without_levers(load("baseline"))
    assert (bare.pricing, bare.ranking, bare.customers) == (Pricing(), Ranking(), Customers())
    assert all(w.picking is None for w in bare.warehouses.values())
    assert bare.service.staffing is None and bare.finance.overheads == []
    assert not any(rule.seasonal for rule in bare.policies.replenishment)
    one = without(load("baseline"), ["ranking"])
    assert one.ranking == Ranking() and one.customers == load("baseline").customers
