"""Returns that cannot go back on a shelf: the dispositions a scenario may leave out."""

from __future__ import annotations

import pytest

from sim.loader import ScenarioError, validate
from sim.model import simulate
from tests.conftest import load


def _with_dispositions(**dispositions: float):
    """The tiny scenario (US from a warehouse, DE by direct parcel), returns raised so
    many come back, and only the given dispositions with these shares."""
    data = load("tiny").model_dump(mode="json", exclude_none=True)
    for sku in data["skus"].values():
        sku["base_return_probability"] = 0.3
    data["returns"]["disposition"] = {
        name: {"share": share, "cost_per_unit_cny": 1.0, "recovery_fraction_of_cost": 0.0,
               "delay_days": {"dist": "constant", "value": 2}}
        for name, share in dispositions.items()}
    return validate(data)


def test_restock_without_liquidate_runs_and_direct_returns_take_the_next_disposition():
    """Once a KeyError: 'liquidate' mid-run. A direct parcel has no overseas shelf, so its
    'restock' returns are disposed of (the first of liquidate, dispose, return to origin
    the scenario has); warehouse returns are restocked or disposed as drawn."""
    result = simulate(_with_dispositions(restock=0.8, dispose=0.2), seed=3, days=150)
    orders = result.orders
    returned = orders[orders["returned"]]
    direct = returned[returned["route"] == "direct"]
    from_stock = returned[returned["route"] == "warehouse"]
    assert len(direct) > 20 and len(from_stock) > 20
    assert set(direct["disposition"]) == {"dispose"}
    assert set(from_stock["disposition"]) == {"restock", "dispose"}
    assert result.conservation["units_residual"] == 0
    assert abs(result.conservation["money_residual_cny"]) < 1e-6


def test_direct_returns_go_back_to_origin_when_that_is_the_only_other_way():
    result = simulate(_with_dispositions(restock=0.5, return_to_origin=0.5), seed=3,
                      days=150)
    direct = result.orders[result.orders["returned"] & (result.orders["route"] == "direct")]
    assert len(direct) > 20 and set(direct["disposition"]) == {"return_to_origin"}
    assert result.conservation["units_residual"] == 0


def test_restock_alone_is_refused_at_load_in_one_line():
    with pytest.raises(ScenarioError) as error:
        _with_dispositions(restock=1.0)
    message = str(error.value)
    assert "\n" not in message
    assert "returns" in message and "'restock' needs a 'liquidate'" in message
