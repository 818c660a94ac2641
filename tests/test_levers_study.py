"""The lever study: a lever left out is neutral, so a scenario without levers is unmoved and
the baseline without them is the model before them."""

from __future__ import annotations

from experiments.studies.levers import LEVERS, lever_effects, without, without_levers
from sim.scenario import Customers, Pricing, Ranking
from tests.conftest import load


def test_a_scenario_without_levers_has_no_effect_to_show() -> None:
    effects = lever_effects(load("tiny"), seeds=[0, 1], days=20, progress=lambda _: None)
    assert set(effects) == set(LEVERS)
    for table in effects.values():
        assert (table["mean"] == 0).all()


def test_the_baseline_without_its_levers_sets_none_of_them() -> None:
    bare = without_levers(load("baseline"))
    assert (bare.pricing, bare.ranking, bare.customers) == (Pricing(), Ranking(), Customers())
    assert all(w.picking is None for w in bare.warehouses.values())
    assert bare.service.staffing is None and bare.finance.overheads == []
    assert not any(rule.seasonal for rule in bare.policies.replenishment)
    one = without(load("baseline"), ["ranking"])
    assert one.ranking == Ranking() and one.customers == load("baseline").customers
