"""Loading scenarios: every bad input is one ScenarioError, one line, never a traceback.

A planner edits YAML by hand; what they rely on is that a mistake is reported as
``file: dotted.path: reason`` (exit code 2 from the CLI) and that ``extends`` and ``--set``
change exactly what they name.
"""

from __future__ import annotations

import contextlib
import copy
import io
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pydantic
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from experiments.cli.main import main
from sim.loader import ScenarioError, load_scenario
from sim.scenario import Scenario

TINY = Path(__file__).parent / "data" / "tiny.yaml"
TINY_DOC: dict[str, Any] = yaml.safe_load(TINY.read_text(encoding="utf-8"))


def tiny() -> dict[str, Any]:
    return copy.deepcopy(TINY_DOC)


def write(path: Path, doc: Any) -> Path:
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """``xbsim argv`` in process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def assert_cli_rejects(argv: list[str], *fragments: str) -> None:
    """Exit 2 with the problem on the first line; ``validate`` lists every problem, one
    ``error:`` line each (a bad value can break what refers to it too), other commands
    print exactly one line."""
    code, out, err = run_cli(argv)
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1 or argv[0] == "validate", err
    assert all(line.startswith("error: ") for line in lines), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0]


def assert_one_line(error: ScenarioError, file: Path, path: str, reason: str) -> None:
    text = str(error)
    assert "\n" not in text
    assert error.file == str(file)
    assert error.path == path
    assert reason in error.reason
    assert file.name in text and path in text and reason in text


# ----------------------------------------------------------------------------- bad documents
def _set(doc: dict, dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    node = doc
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    node[last] = value


BAD_VALUES = {
    "unknown key": ("markets.US.colour", "red", "markets.US.colour", "unknown key"),
    "wrong type": ("markets.US.organic_sessions_per_day", "lots",
                   "markets.US.organic_sessions_per_day", "valid number"),
    "negative lead time": ("suppliers.ACME.lead_time_days", {"dist": "constant", "value": -3},
                           "suppliers.ACME.lead_time_days.value",
                           "greater than or equal to 0"),
    "probability above 1": ("markets.US.customs.inspection_probability", 1.5,
                            "markets.US.customs.inspection_probability",
                            "less than or equal to 1"),
    "lane with unknown mode": ("lanes.sz_us_wh.modes", ["sea_fcl", "teleport"],
                               "lanes.sz_us_wh.modes", "unknown mode 'teleport'"),
    "unknown distribution": ("suppliers.ACME.lead_time_days", {"dist": "weibull", "mean": 12},
                             "suppliers.ACME.lead_time_days", "'weibull'"),
}


@pytest.mark.parametrize(("field", "value", "path", "reason"), BAD_VALUES.values(),
                         ids=BAD_VALUES.keys())
def test_bad_value_is_one_error_naming_file_path_and_reason(tmp_path, field, value, path,
                                                            reason):
    doc = tiny()
    _set(doc, field, value)
    file = write(tmp_path / "bad.yaml", doc)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(file)
    assert_one_line(caught.value, file, path, reason)
    assert_cli_rejects(["validate", str(file)], "bad.yaml", path, reason)


def test_unknown_distribution_lists_the_known_ones(tmp_path):
    doc = tiny()
    doc["modes"]["air"]["transit_days"] = {"dist": "weibull", "mean": 6}
    file = write(tmp_path / "bad.yaml", doc)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(file)
    assert caught.value.path == "modes.air.transit_days"
    assert "lognormal" in caught.value.reason and "triangular" in caught.value.reason


def test_missing_extends_file(tmp_path):
    file = write(tmp_path / "child.yaml", {"extends": "nowhere.yaml", "name": "child"})
    with pytest.raises(ScenarioError) as caught:
        load_scenario(file)
    assert_one_line(caught.value, file, "extends", "no such file 'nowhere.yaml'")
    assert_cli_rejects(["run", str(file)], "child.yaml", "extends", "nowhere.yaml")


def test_cyclic_extends(tmp_path):
    write(tmp_path / "a.yaml", {"extends": "b.yaml", "name": "a"})
    write(tmp_path / "b.yaml", {"extends": "a.yaml", "name": "b"})
    with pytest.raises(ScenarioError) as caught:
        load_scenario(tmp_path / "a.yaml")
    error = caught.value
    assert error.path == "extends"
    assert error.reason == "cyclic extends: a.yaml -> b.yaml -> a.yaml"
    assert "\n" not in str(error)
    assert_cli_rejects(["validate", str(tmp_path / "a.yaml")], "cyclic extends")


def test_malformed_yaml_names_the_line(tmp_path):
    text = TINY.read_text(encoding="utf-8").replace(
        "modes: [sea_fcl, air]", "modes: [sea_fcl, air")
    file = tmp_path / "broken.yaml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(file)
    error = caught.value
    assert error.path.startswith("line ")
    assert error.reason.startswith("malformed YAML")
    assert "\n" not in str(error) and "broken.yaml" in str(error)
    assert_cli_rejects(["show", str(file)], "broken.yaml", "malformed YAML")


def test_missing_scenario_file(tmp_path):
    file = tmp_path / "absent.yaml"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(file)
    assert caught.value.reason == "no such file"
    assert_cli_rejects(["validate", str(file)], "absent.yaml", "no such file")


BAD_OVERRIDES = {
    "unknown leaf": ("markets.US.colour=red", "markets.US.colour", "unknown key"),
    "unknown section": ("nosuch.deep.key=1", "nosuch", "unknown key"),
    "list index out of range": ("calendar.peak_events.5.demand_multiplier=3",
                                "calendar.peak_events.5", "no list item 5 (the list has 1)"),
    "field inside a number": ("markets.US.duty_rate.low=1", "markets.US.duty_rate.low",
                              "cannot set a field inside a plain value"),
    "no equals sign": ("markets.US.duty_rate", "markets.US.duty_rate",
                       "an override must look like dotted.path=value"),
    "no path": ("=0.2", "=0.2", "an override must look like dotted.path=value"),
    "unparsable value": ("markets.US.duty_rate=[0.2", "markets.US.duty_rate",
                         "cannot parse value '[0.2'"),
}


@pytest.mark.parametrize(("assignment", "path", "reason"), BAD_OVERRIDES.values(),
                         ids=BAD_OVERRIDES.keys())
def test_bad_override_is_one_error(assignment, path, reason):
    with pytest.raises(ScenarioError) as caught:
        load_scenario(TINY, [assignment])
    assert_one_line(caught.value, TINY, path, reason)
    assert_cli_rejects(["validate", str(TINY), "--set", assignment], "tiny.yaml", path, reason)


def test_cli_entry_point_prints_no_traceback(tmp_path):
    """The installed command, not just ``main``: one stderr line and exit code 2."""
    doc = tiny()
    doc["markets"]["US"]["colour"] = "red"
    file = write(tmp_path / "bad.yaml", doc)
    done = subprocess.run([sys.executable, "-m", "experiments.cli.main", "validate", str(file)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"error: {file}: markets.US.colour: unknown key"]
    assert done.stdout == ""


def test_impossible_date_in_file_is_a_scenario_error(tmp_path):
    file = tmp_path / "bad_date.yaml"
    file.write_text(TINY.read_text(encoding="utf-8").replace(
        "start_date: 2026-01-01", "start_date: 2026-02-30"), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(file)
    assert "bad_date.yaml" in str(caught.value)
    assert_cli_rejects(["validate", str(file)], "bad_date.yaml")


def test_impossible_date_in_override_is_a_scenario_error():
    assert_cli_rejects(["validate", str(TINY), "--set", "horizon.start_date=2026-02-30"],
                       "horizon.start_date")


@pytest.mark.parametrize("assignment", ["returns.late_multiplier=.inf",
                                        "finance.initial_cash_cny=.nan",
                                        "finance.initial_cash_cny=.inf"])
def test_non_finite_numbers_are_rejected(assignment):
    with pytest.raises(ScenarioError):
        load_scenario(TINY, [assignment])


# ----------------------------------------------------------------------------- what works
def test_extends_merges_mappings_and_named_list_entries(tmp_path):
    shutil.copy(TINY, tmp_path / "tiny.yaml")
    variants = tmp_path / "variants"
    variants.mkdir()
    new_event = {"name": "spring_sale", "start": "2026-03-01", "days": 2,
                 "demand_multiplier": 1.5}
    write(variants / "peak.yaml", {
        "extends": "../tiny.yaml",
        "name": "peak",
        "markets": {"US": {"duty_rate": 0.25}},
        "calendar": {"peak_events": [new_event]},
    })
    write(variants / "peak_express.yaml", {
        "extends": "peak.yaml",
        "policies": {"fulfilment": {"DE": {"mode": "express"}}},
    })
    parent = load_scenario(TINY)
    child = load_scenario(variants / "peak_express.yaml")

    assert child.name == "peak"
    us, parent_us = child.markets["US"], parent.markets["US"]
    assert us.duty_rate == 0.25
    assert us.model_dump(exclude={"duty_rate"}) == parent_us.model_dump(exclude={"duty_rate"})
    assert child.markets["DE"] == parent.markets["DE"]
    assert [e.name for e in child.calendar.peak_events] == ["flash_sale", "spring_sale"]
    assert child.calendar.seasonality_by_month == parent.calendar.seasonality_by_month
    de = child.policies.fulfilment["DE"]
    assert de.mode == "express"
    assert de.promise_days == parent.policies.fulfilment["DE"].promise_days
    assert child.skus == parent.skus


def test_override_wins_over_extends(tmp_path):
    shutil.copy(TINY, tmp_path / "tiny.yaml")
    child = write(tmp_path / "child.yaml", {"extends": "tiny.yaml",
                                            "markets": {"US": {"duty_rate": 0.25}}})
    assert load_scenario(child, ["markets.US.duty_rate=0.3"]).markets["US"].duty_rate == 0.3


def test_set_changes_a_mapping_field():
    before = load_scenario(TINY)
    after = load_scenario(TINY, ["markets.US.duty_rate=0.2"])
    assert before.markets["US"].duty_rate == 0.10
    assert after.markets["US"].duty_rate == 0.2
    assert after.markets["DE"] == before.markets["DE"]


def test_set_changes_a_list_item_field():
    after = load_scenario(TINY, ["calendar.peak_events.0.demand_multiplier=3"])
    event = after.calendar.peak_events[0]
    assert event.demand_multiplier == 3.0
    assert event.name == "flash_sale" and event.days == 3


def test_set_parses_flow_yaml_values():
    after = load_scenario(TINY, ["lanes.sz_de_parcel.modes=[postal]",
                                 "suppliers.ACME.lead_time_days={dist: constant, value: 9}"])
    assert after.lanes["sz_de_parcel"].modes == ["postal"]
    assert after.suppliers["ACME"].lead_time_days.mean() == 9.0


def test_scenario_is_immutable():
    scenario = load_scenario(TINY)
    with pytest.raises(pydantic.ValidationError):
        scenario.name = "other"
    with pytest.raises(pydantic.ValidationError):
        scenario.markets["US"].duty_rate = 0.5
    with pytest.raises(pydantic.ValidationError):
        scenario.suppliers["ACME"].lead_time_days.cv = 0.9
    assert scenario.name == "tiny" and scenario.markets["US"].duty_rate == 0.10


# ----------------------------------------------------------------------------- property
def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path into the document: leaves and the mappings/lists above them."""
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _node(doc: Any, path: tuple) -> Any:
    for key in path:
        doc = doc[key]
    return doc


PATHS = _paths(TINY_DOC)
MAPPING_PATHS = [()] + [p for p in PATHS if isinstance(_node(TINY_DOC, p), dict)]

# Printable text without control characters: junk a person could plausibly type.
typed_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12)
scalars = st.one_of(
    st.none(), st.booleans(), typed_text,
    st.integers(min_value=-10**12, max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["constant", "lognormal", "sS", "origin", "US", "ACME", "sea_fcl"]),
)
junk = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.from_regex(r"[a-z_]{1,8}", fullmatch=True),
                                            inner, max_size=3)),
    max_leaves=6,
)
replace = st.tuples(st.just("replace"), st.sampled_from(PATHS), junk)
delete = st.tuples(st.just("delete"), st.sampled_from(PATHS), st.none())
insert = st.tuples(st.just("insert"), st.sampled_from(MAPPING_PATHS),
                   st.tuples(st.from_regex(r"[a-z_]{1,10}", fullmatch=True), junk))
mutations = st.lists(st.one_of(replace, delete, insert), min_size=1, max_size=3)


def _mutate(doc: dict, kind: str, path: tuple, arg: Any) -> None:
    """Apply one mutation; paths a previous mutation removed are skipped."""
    try:
        parent = _node(doc, path[:-1]) if path else None
        if kind == "insert":
            target = _node(doc, path)
            if isinstance(target, dict):
                key, value = arg
                target[key] = value
        elif kind == "replace":
            parent[path[-1]] = arg
        elif isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent.pop(path[-1])
    except (KeyError, IndexError, TypeError):
        pass


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations)
def test_broken_documents_fail_only_as_scenario_errors(tmp_path, changes):
    doc = tiny()
    for kind, path, arg in changes:
        _mutate(doc, kind, path, arg)
    file = write(tmp_path / "fuzzed.yaml", doc)

    try:
        scenario = load_scenario(file)
    except ScenarioError as error:
        assert "\n" not in str(error)
        assert str(error).startswith(f"{file}: ")
    else:
        assert isinstance(scenario, Scenario)

    code, out, err = run_cli(["validate", str(file)])
    assert code in (0, 2)
    assert "Traceback" not in out + err
    if code == 2:
        assert all(line.startswith("error: ") for line in err.splitlines()), err
    else:
        assert "ok" in out
