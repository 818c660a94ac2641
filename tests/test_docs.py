"""The scenario reference is generated from the schema; the file in docs/ must be what the
generator writes now, or a field's description, unit or bound has drifted from the docs."""

from __future__ import annotations

from experiments.docs.reference import REFERENCE, reference_markdown
from sim.scenario import Scenario


def test_the_reference_is_up_to_date():
    assert REFERENCE.read_text(encoding="utf-8") == reference_markdown(), (
        "docs/scenario-reference.md is stale: regenerate it with "
        "`python -m experiments.docs.reference` (or `xbsim reference`)")


def test_every_top_level_key_has_a_section_or_a_row():
    text = reference_markdown()
    for name in Scenario.model_fields:
        assert f"| `{name}` |" in text or f"## `{name}`" in text, name


def test_units_and_bounds_reach_the_reference():
    text = reference_markdown()
    assert ("| `markets.<MARKET>.duty_rate` | number, 0 <= x <= 1 | fraction | required | "
            "`0.1` |") in text
    assert "| `calendar.peak_events` | `name` |" in text
    assert "| `policies.replenishment` | `warehouse`, `skus`, `categories`, `mode` |" in text
