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
