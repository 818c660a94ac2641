"""Plans are validated like scenarios: every number typed, finite and bounded, and every
error one line with the dotted path of the line, the value and the bound."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
import yaml

from experiments.cli.main import main
from sim.execution import check_plan
from sim.plan import (
    LARGE_PLAN_LINES,
    AdSpendLine,
    FulfilmentLine,
    Plan,
    PlanFileError,
    ShipmentLine,
    load_plan,
    save_plan,
)

TINY = Path(__file__).parent / "data" / "tiny.yaml"
AD_LINE = {"week": 1, "channel": "ppc", "spend_cny_per_day": 500.0}
FULFILMENT_LINE = {"week": 1, "sku": "TEE", "market": "US", "route": "warehouse",
                   "mode": "us_last_mile", "warehouse": "US_WH", "units": 70.0}
SHIPMENT_LINE = {"week": 2, "sku": "TEE", "origin": "SZ", "destination": "US_WH",
                 "mode": "sea_fcl", "units": 300.0}


def plan_document(**changes) -> dict:
    """A small valid plan for tests/data/tiny.yaml, as a plan file holds it."""
    return {"kind": "channels", "scenario": "tiny", "scenario_hash": "0", "weeks": 8,
            "objective_cny": 1000.0, "ad_spend": [dict(AD_LINE) for _ in range(4)],
            "fulfilment": [dict(FULFILMENT_LINE)], "shipments": [dict(SHIPMENT_LINE)],
            **changes}


def write(tmp_path, document, suffix=".yaml"):
    path = tmp_path / f"plan{suffix}"
    text = json.dumps(document) if suffix == ".json" else yaml.safe_dump(document)
    path.write_text(text, encoding="utf-8")
    return path


def refusal(tmp_path, document, suffix=".yaml") -> str:
    with pytest.raises(PlanFileError) as caught:
        load_plan(write(tmp_path, document, suffix))
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_a_valid_plan_loads_and_round_trips(tmp_path):
    plan = load_plan(write(tmp_path, plan_document()))
    assert plan.ad_spend[3].spend_cny_per_day == 500.0
    assert load_plan(save_plan(plan, tmp_path / "again.json")) == plan


def test_negative_ad_spend_is_refused_with_its_path(tmp_path):
    document = plan_document()
    document["ad_spend"][3]["spend_cny_per_day"] = -1e6
    assert refusal(tmp_path, document).endswith(
        "not a plan: ad_spend.3.spend_cny_per_day: must be >= 0 (got -1000000.0)")


@pytest.mark.parametrize(("lines", "field", "value", "reason"), [
    ("fulfilment", "units", -5.0, "must be >= 0 (got -5.0)"),
    ("fulfilment", "units", float("nan"), "must be a finite number (got nan)"),
    ("shipments", "units", float("inf"), "must be a finite number (got inf)"),
    ("shipments", "units", 1e30, "must be <= 1e+12 (got 1e+30)"),
    ("shipments", "week", -1, "must be >= 1 (got -1)"),
    ("fulfilment", "week", 0, "must be >= 1 (got 0)"),
    ("ad_spend", "week", 10**30, "must be <= 5218 (got 1000000000000000000000000000000)"),
    ("ad_spend", "week", True, "must be a number, not bool (got True)"),
    ("fulfilment", "units", "70", "must be a number, not str (got '70')"),
    ("ad_spend", "spend_cny_per_day", float("inf"), "must be a finite number (got inf)"),
    ("shipments", "scenario", -2, "must be >= 0 (got -2)"),
])
def test_bad_numbers_are_refused_with_path_value_and_bound(tmp_path, lines, field, value,
                                                           reason):
    document = plan_document()
    document[lines][0][field] = value
    # JSON, because YAML has no NaN or infinity that a hand-edited plan would write.
    message = refusal(tmp_path, document, ".json")
    assert message.endswith(f"not a plan: {lines}.0.{field}: {reason}"), message


def test_plan_level_numbers_are_bounded_too(tmp_path):
    message = refusal(tmp_path, plan_document(weeks=0, objective_cny=float("nan"),
                                              containers={"lane": -1.0}), ".json")
    assert "weeks: must be >= 1 (got 0)" in message
    assert "objective_cny: must be a finite number (got nan)" in message
    assert "containers.lane: must be >= 0 (got -1.0)" in message


def test_many_problems_fit_one_line(tmp_path):
    document = plan_document()
    for line in document["ad_spend"]:
        line["spend_cny_per_day"] = -1.0
    message = refusal(tmp_path, document)
    assert message.count("spend_cny_per_day") == 3
    assert message.endswith("; and 1 more")


def test_unknown_and_missing_fields_are_named(tmp_path):
    document = plan_document(extra_field=1)
    del document["weeks"]
    message = refusal(tmp_path, document)
    assert "weeks: required" in message
    assert "extra_field: unknown field" in message


def test_a_directory_is_not_a_plan(tmp_path):
    message = str(pytest.raises(PlanFileError, load_plan, tmp_path).value)
    assert message.startswith(f"{tmp_path}: cannot read")


def test_check_plan_bounds_plans_built_without_validation(tiny):
    """Optimisers build their lines with ``model_construct``: the check before a run gives
    them the bounds a plan file gets."""
    plan = Plan.model_validate(plan_document()).model_copy(update={
        "fulfilment": [FulfilmentLine.model_construct(**{**FULFILMENT_LINE, "units": -3.0,
                                                         "scenario": None})],
        "shipments": [ShipmentLine.model_construct(**{**SHIPMENT_LINE, "scenario": None})],
        "ad_spend": [AdSpendLine.model_construct(**AD_LINE)]})
    with pytest.raises(PlanFileError, match=r"fulfilment\.0\.units: must be >= 0 "
                                            r"\(got -3\.0\)"):
        check_plan(plan, tiny)


def test_check_plan_accepts_the_valid_plan(tiny):
    check_plan(Plan.model_validate(plan_document()), tiny)


def test_the_cli_refuses_a_negative_spend_plan_in_one_line(tmp_path):
    document = plan_document()
    document["ad_spend"][3]["spend_cny_per_day"] = -1e6
    plan = write(tmp_path, document)
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(["run", str(TINY), "--set", f"plan={plan}", "--days", "14",
                     "--out", str(tmp_path / "out"), "--no-report"])
    assert code == 2
    lines = err.getvalue().strip().splitlines()
    assert len(lines) == 1
    assert "ad_spend.3.spend_cny_per_day: must be >= 0 (got -1000000.0)" in lines[0]


def test_a_large_plan_is_json_text_read_back_equal(tmp_path):
    """A plan past LARGE_PLAN_LINES is written as JSON (fast both ways) even to plan.yaml,
    and reads back equal; a small one stays block-style YAML."""
    lines = [dict(FULFILMENT_LINE, week=1 + i % 8, units=float(i % 97) + 0.125)
             for i in range(LARGE_PLAN_LINES + 1)]
    large = load_plan(write(tmp_path, plan_document(fulfilment=lines)))
    path = save_plan(large, tmp_path / "large.yaml")
    assert path.read_text(encoding="utf-8").startswith("{")
    assert load_plan(path) == large
    small = load_plan(write(tmp_path, plan_document()))
    text = save_plan(small, tmp_path / "small.yaml").read_text(encoding="utf-8")
    assert text.startswith("kind: channels") and load_plan(tmp_path / "small.yaml") == small


def test_json_text_is_read_as_strictly_as_yaml(tmp_path):
    path = tmp_path / "plan.yaml"
    text = json.dumps(plan_document())
    path.write_text(text.replace('"weeks": 8', '"weeks": 8, "weeks": 9'), encoding="utf-8")
    with pytest.raises(PlanFileError, match="'weeks' given twice"):
        load_plan(path)
    # a YAML flow mapping that is not JSON is still read as YAML
    path.write_text(yaml.safe_dump(plan_document(), default_flow_style=True), encoding="utf-8")
    assert not path.read_text(encoding="utf-8").startswith('{"')
    assert load_plan(path).weeks == 8
