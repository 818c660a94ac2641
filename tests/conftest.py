"""Shared fixtures: small scenario files and a helper to load them with overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.loader import load_scenario
from sim.scenario import Scenario

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent


def load(name: str, *overrides: str) -> Scenario:
    """A test scenario from tests/data (or scenarios/ for 'baseline' etc.) with overrides."""
    path = DATA / f"{name}.yaml"
    if not path.exists():
        path = ROOT / "scenarios" / f"{name}.yaml"
    return load_scenario(path, overrides)


@pytest.fixture(scope="session")
def tiny() -> Scenario:
    return load("tiny")


def without_noise(scenario: Scenario) -> Scenario:
    """The scenario with every distribution held at its mean and every chance event (loss,
    damage, returns, inspections, late suppliers, rating feedback) switched off: a world in
    which a plan made on expected values should come true."""
    from pydantic import TypeAdapter

    from sim.distributions import Distribution
    from sim.loader import validate

    to_dist = TypeAdapter(Distribution)

    def held(node):
        if isinstance(node, dict):
            if "dist" in node:
                return {"dist": "constant", "value": float(to_dist.validate_python(node).mean())}
            return {k: held(v) for k, v in node.items()}
        if isinstance(node, list):
            return [held(v) for v in node]
        return node

    data = held(scenario.model_dump(mode="json", by_alias=True, exclude_none=True))
    data["traffic"]["daily_noise_cv"] = 0.0
    data["conversion"].update(order_counts="expected", extra_units_per_order_mean=0.0,
                              rating_elasticity=0.0)
    for market in data["markets"].values():
        market["fx_daily_volatility"] = 0.0
        market["customs"]["inspection_probability"] = 0.0
    for mode in data["modes"].values():
        mode.update(loss_probability=0.0, damage_probability=0.0)
    for sku in data["skus"].values():
        sku["base_return_probability"] = 0.0
    data["returns"]["damaged_return_probability"] = 0.0
    for supplier in data["suppliers"].values():
        supplier.update(on_time_probability=1.0, partial_delivery_probability=0.0,
                        defect_rate=0.0)
    data["disruptions"] = []
    return validate(data)
