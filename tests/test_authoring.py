"""Writing scenarios without traps: ``extends:`` merges lists of named entries instead of
silently replacing them, says what it drops, and ``validate`` lists every problem at once
with a suggestion for a misspelled key; ``diff`` shows what two files resolve to differently.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from experiments.cli.diff import diff_command
from experiments.cli.validate import validate_command
from sim.loader import ScenarioError, load_scenario, resolve_document

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
TINY = ROOT / "tests" / "data" / "tiny.yaml"
RESOLVED = ROOT / "tests" / "data" / "resolved_scenarios.json"
BASELINE_EVENTS = ["prime_day", "singles_day_11_11", "black_friday_cyber_monday",
                   "christmas_run_up"]


def child(tmp_path: Path, doc: dict[str, Any], parent: Path = BASELINE,
          name: str = "child.yaml") -> Path:
    file = tmp_path / name
    file.write_text(yaml.safe_dump({"extends": str(parent), **doc}, sort_keys=False),
                    encoding="utf-8")
    return file


def event_names(file: Path) -> list[str]:
    return [e.name for e in load_scenario(file).calendar.peak_events]


# ----------------------------------------------------------------------------- merging
def test_an_added_peak_event_keeps_the_others(tmp_path):
    spring = {"name": "spring_sale", "start": "2026-03-20", "days": 3, "demand_multiplier": 1.6}
    file = child(tmp_path, {"calendar": {"peak_events": [spring]}})
    assert event_names(file) == [*BASELINE_EVENTS, "spring_sale"]


def test_an_entry_with_a_known_name_changes_only_what_it_says(tmp_path):
    file = child(tmp_path, {"calendar": {"peak_events": [
        {"name": "black_friday_cyber_monday", "demand_multiplier": 3.5}]}})
    events = {e.name: e for e in load_scenario(file).calendar.peak_events}
    parent = {e.name: e for e in load_scenario(BASELINE).calendar.peak_events}
    assert list(events) == BASELINE_EVENTS
    assert events["black_friday_cyber_monday"].demand_multiplier == 3.5
    assert events["black_friday_cyber_monday"].start == parent["black_friday_cyber_monday"].start


def test_an_added_rule_keeps_the_others(tmp_path):
    rule = {"warehouse": "EU_WH", "categories": ["apparel"], "review_days": 7, "mode": "air",
            "policy": {"type": "sS", "unit": "days", "reorder_point": 20, "order_up_to": 40}}
    parent = load_scenario(BASELINE).policies.replenishment
    rules = load_scenario(child(tmp_path, {"policies": {"replenishment": [rule]}})
                          ).policies.replenishment
    assert rules[:-1] == parent
    assert rules[-1].categories == ["apparel"] and rules[-1].mode == "air"


def test_an_explicit_removal_removes(tmp_path):
    file = child(tmp_path, {
        "calendar": {"peak_events": [{"name": "prime_day", "remove": True}]},
        "policies": {"replenishment": [{"warehouse": "US_WH", "mode": "air", "remove": True,
                                        "skus": ["ELE_CHARGER_65W", "ELE_EARBUDS_TWS"]}]}})
    scenario = load_scenario(file)
    assert [e.name for e in scenario.calendar.peak_events] == BASELINE_EVENTS[1:]
    assert [r.mode for r in scenario.policies.replenishment] == [None, "sea_fcl", "rail"]


def test_an_explicit_replace_replaces(tmp_path):
    only = {"name": "flash", "start": "2026-05-05", "days": 1, "demand_multiplier": 2.0}
    file = child(tmp_path, {"calendar": {"peak_events": {"replace": [only]}}})
    assert event_names(file) == ["flash"]


def test_removing_what_the_parent_lacks_is_an_error_with_a_suggestion(tmp_path):
    file = child(tmp_path, {"calendar": {"peak_events": [{"name": "prime_dya",
                                                           "remove": True}]}})
    with pytest.raises(ScenarioError) as caught:
        load_scenario(file)
    assert caught.value.path == "calendar.peak_events"
    assert caught.value.reason == "no entry 'prime_dya' to remove (did you mean 'prime_day'?)"


def test_a_mapping_of_another_kind_replaces_the_parents(tmp_path):
    file = child(tmp_path, {"suppliers": {"YW_HOME": {
        "lead_time_days": {"dist": "constant", "value": 9}}}})
    assert load_scenario(file).suppliers["YW_HOME"].lead_time_days.mean() == 9.0


def test_a_list_replaced_whole_warns_for_each_parent_entry_it_drops(tmp_path):
    file = child(tmp_path, {"modes": {"postal": {"surcharges": [
        {"start": "2026-11-15", "days": 45, "rate": 0.25}]}}})
    notes: list[str] = []
    resolve_document(file, notes)
    assert notes == [f"{file}: modes.postal.surcharges: drops {{start: 2026-11-20, days: 35, "
                     f"rate: 0.15}} of {BASELINE} (this list replaces the parent's whole; "
                     "write it as {replace: [...]} to say so)"]
    marked = child(tmp_path, {"modes": {"postal": {"surcharges": {"replace": [
        {"start": "2026-11-15", "days": 45, "rate": 0.25}]}}}}, name="marked.yaml")
    notes.clear()
    resolve_document(marked, notes)
    assert notes == []


def test_every_shipped_scenario_resolves_as_before_list_merging():
    """The show output of each file (fields at their defaults left out, so a new schema
    field that leaves a file's meaning alone leaves its digest alone), hashed before lists
    of named entries merged: the shipped files were rewritten ({replace: ...}, remove) to
    keep their meaning. A change to a shipped file that means to change it refreshes the
    digests: ``python -m tests.test_authoring``."""
    expected = json.loads(RESOLVED.read_text(encoding="utf-8"))
    for name, digest in expected.items():
        assert resolved_digest(name) == digest, (
            f"{name} resolves to another scenario than before; compare with `xbsim show`")


def resolved_digest(name: str) -> str:
    """The digest of a shipped file's resolved scenario, defaults left out."""
    scenario = load_scenario(ROOT / name)
    text = yaml.safe_dump(scenario.model_dump(mode="json", by_alias=True,
                                              exclude_defaults=True), sort_keys=False)
    return hashlib.sha256(text.encode()).hexdigest()


# ----------------------------------------------------------------------------- commands
def test_validate_lists_every_problem_one_line_each(tmp_path, capsys):
    file = child(tmp_path, {"markets": {"US": {"duty_rat": 0.2, "vat_rate": 1.5}},
                            "horizon": {"days": "a year"}}, parent=TINY)
    code = validate_command(argparse.Namespace(scenario=file, overrides=[]))
    err = capsys.readouterr().err.splitlines()
    assert code == 2
    assert err == [f"error: {file}: horizon.days: Input should be a valid integer, unable to "
                   "parse string as an integer",
                   f"error: {file}: markets.US.vat_rate: Input should be less than or equal "
                   "to 1, not 1.5",
                   f"error: {file}: markets.US.duty_rat: unknown key (did you mean "
                   "duty_rate?)"]


def test_validate_lists_every_broken_reference(tmp_path, capsys):
    file = child(tmp_path, {"skus": {"TEE": {"supplier": "NOBODY"}},
                            "lanes": {"sz_de_parcel": {"modes": ["postal", "teleport"]}}},
                 parent=TINY)
    assert validate_command(argparse.Namespace(scenario=file, overrides=[])) == 2
    err = capsys.readouterr().err
    assert "skus.TEE.supplier: unknown supplier 'NOBODY'" in err
    assert "lanes.sz_de_parcel.modes: unknown mode 'teleport'" in err
    assert len(err.splitlines()) == 2


def test_validate_prints_warnings_and_ok(tmp_path, capsys):
    file = child(tmp_path, {"modes": {"postal": {"surcharges": []}}})
    assert validate_command(argparse.Namespace(scenario=file, overrides=[])) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"{file}: ok (baseline: 3 markets, 40 SKUs, 365 days)")
    assert err.startswith(f"warning: {file}: modes.postal.surcharges: drops ")


def test_a_misspelled_key_inside_a_kind_gets_a_suggestion(tmp_path):
    file = child(tmp_path, {"modes": {"sea_fcl": {"departures_per_wek": 3}}})
    with pytest.raises(ScenarioError) as caught:
        load_scenario(file)
    assert str(caught.value).endswith("modes.sea_fcl.departures_per_wek: unknown key for "
                                      "bulk entries (did you mean departures_per_week?)")


def test_diff_shows_a_changed_value_by_path(tmp_path, capsys):
    file = child(tmp_path, {"markets": {"US": {"duty_rate": 0.25}},
                            "calendar": {"peak_events": [{"name": "prime_day",
                                                          "remove": True}]}})
    assert diff_command(argparse.Namespace(first=BASELINE, second=file)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "markets.US.duty_rate: 0.1 -> 0.25" in lines
    assert any(line.startswith("calendar.peak_events[prime_day]: {") and
               line.endswith("} -> (absent)") for line in lines)
    assert len(lines) == 2


if __name__ == "__main__":
    digests = {name: resolved_digest(name)
               for name in json.loads(RESOLVED.read_text(encoding="utf-8"))}
    RESOLVED.write_text(json.dumps(digests, indent=2) + "\n", encoding="utf-8")
