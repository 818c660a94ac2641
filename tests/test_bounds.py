"""Whatever validates can run: each input that once crashed, hung, overflowed or misled the
model is refused at load, in one line naming the file, the dotted path, the value and the
bound (issue 14's classes, each as its minimal reproducer)."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
import yaml

from experiments.cli.main import main
from sim.loader import MAX_FILE_BYTES, ScenarioError, load_scenario

TINY = Path(__file__).parent / "data" / "tiny.yaml"
TINY_TEXT = TINY.read_text(encoding="utf-8")

OVERRIDES = {
    "gamma cv tiny": ("modes.postal.transit_days={dist: gamma, mean: 18, cv: 1e-200}",
                      "modes.postal.transit_days.cv", "greater than or equal to 0.001"),
    "gamma cv huge": ("modes.postal.transit_days={dist: gamma, mean: 18, cv: 1e200}",
                      "modes.postal.transit_days.cv", "less than or equal to 10"),
    "lognormal cv huge": ("suppliers.ACME.lead_time_days={dist: lognormal, mean: 12, cv: 1e200}",
                          "suppliers.ACME.lead_time_days.cv", "less than or equal to 10"),
    "triangular high huge": ("modes.air.transit_days={dist: triangular, low: 4, mode: 6, "
                             "high: 1.7e308}", "modes.air.transit_days.high", "3650"),
    "daily noise cv": ("traffic.daily_noise_cv=1e200", "traffic.daily_noise_cv",
                       "less than or equal to 1, not 1e+200"),
    "price elasticity": ("conversion.price_elasticity=2000", "conversion.price_elasticity",
                         "less than or equal to 10"),
    "sessions a day": ("markets.US.organic_sessions_per_day=1e9",
                       "markets.US.organic_sessions_per_day", "10000000"),
    "sessions x conversion": ("markets.US.organic_sessions_per_day=1e7", "markets.US",
                              "expected orders on day"),
    "hill exponent": ("ad_channels.ppc.hill_exponent=1000", "ad_channels.ppc.hill_exponent",
                      "less than or equal to 10"),
    "conversion multiplier": ("ad_channels.ppc.conversion_multiplier=1e6",
                              "ad_channels.ppc.conversion_multiplier", "100"),
    "inquiry rate": ("service.tickets.inquiries_per_1000_sessions=1e12",
                     "service.tickets.inquiries_per_1000_sessions", "1000"),
    "payment terms beyond int64": ("suppliers.ACME.payment_terms_days=18446744073709551616",
                                   "suppliers.ACME.payment_terms_days", "3650"),
    "review days beyond int64": ("policies.replenishment.0.review_days=18446744073709551616",
                                 "policies.replenishment.0.review_days", "3650"),
    "payout cycle beyond int64": ("finance.payout_cycle_days=18446744073709551616",
                                  "finance.payout_cycle_days", "3650"),
    "MOQ 2^62": ("suppliers.ACME.moq_units=4611686018427387904", "suppliers.ACME.moq_units",
                 "1000000000"),
    "container volume subnormal": ("modes.sea_fcl.container_volume_m3=1e-320",
                                   "modes.sea_fcl.container_volume_m3", "0.01"),
    "departures subnormal": ("modes.air.departures_per_week=1e-320",
                             "modes.air.departures_per_week", "0.01"),
    "departures 1e7 a week": ("modes.air.departures_per_week=1e7",
                              "modes.air.departures_per_week", "less than or equal to 100"),
    "initial stock days": ("warehouses.SZ.initial_stock_days=1e200",
                           "warehouses.SZ.initial_stock_days", "3650"),
    "extra units per order": ("conversion.extra_units_per_order_mean=1e12",
                              "conversion.extra_units_per_order_mean", "100"),
    "weight": ("skus.TEE.weight_kg=1.7e308", "skus.TEE.weight_kg", "100000"),
    "FX volatility": ("markets.US.fx_daily_volatility=10", "markets.US.fx_daily_volatility",
                      "0.05"),
    "category typo": ("policies.replenishment.0.categories=[apparell]",
                      "policies.replenishment.0.categories",
                      "unknown category 'apparell' (did you mean apparel?)"),
    "agents true": ("service.agents=true", "service.agents", "not true"),
    "base-60 MOQ": ("suppliers.ACME.moq_units=1:40", "suppliers.ACME.moq_units",
                    "unable to parse string"),
    "number as text": ("suppliers.ACME.moq_units='100'", "suppliers.ACME.moq_units",
                       "not the text '100'"),
    "horizon 1e9 days": ("horizon.days=1000000000", "horizon.days", "18262"),
    "horizon 1e6 days": ("horizon.days=1000000", "horizon.days", "18262"),
    "agents 1e10": ("service.agents=10000000000", "service.agents", "10000"),
    "date out of range": ("horizon.start_date=9999-12-31", "horizon.start_date", "2199-12-31"),
    "market in another's currency": ("markets.DE.currency=USD", "markets.DE.fx_to_cny",
                                     "USD is also market US's currency"),
    "newline in a name": ('name="a\\nb"', "name", "not 'a\\nb'"),
    "path in a name": ("name=../x", "name", "a name is letters, digits"),
}


def run_cli(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, err.getvalue()


def assert_refused(file: Path, overrides: list[str], path: str, reason: str) -> None:
    """One ScenarioError of one line at ``path``, and exit 2 from ``xbsim validate``."""
    with pytest.raises(ScenarioError) as caught:
        load_scenario(file, overrides)
    error = caught.value
    assert "\n" not in str(error)
    assert error.path == path, str(error)
    assert reason in error.reason, str(error)
    code, err = run_cli(["validate", str(file), *(a for o in overrides for a in ("--set", o))])
    assert code == 2
    lines = err.splitlines()
    assert all(line.startswith("error: ") for line in lines), err
    assert str(file) in lines[0] and (path in lines[0] or not path), err


@pytest.mark.parametrize(("override", "path", "reason"), OVERRIDES.values(), ids=OVERRIDES)
def test_a_value_the_model_cannot_run_is_refused(override, path, reason):
    assert_refused(TINY, [override], path, reason)


def test_overlapping_peaks_that_compound_are_refused():
    events = ", ".join(f"{{name: e{i}, start: 2026-01-20, days: 3, demand_multiplier: 100}}"
                       for i in range(3))
    assert_refused(TINY, [f"calendar.peak_events=[{events}]"], "calendar.peak_events",
                   "reach x1e+06")


def test_seasonality_times_sessions_beyond_a_day_of_orders_is_refused():
    assert_refused(TINY, ["calendar.seasonality_by_month=[100, 100, 100, 100, 100, 100, 100, "
                          "100, 100, 100, 100, 100]", "markets.US.organic_sessions_per_day=1e5"],
                   "markets.US", "more than 300000 a day")


def test_inquiries_a_day_beyond_the_desk_are_refused():
    assert_refused(TINY, ["markets.US.organic_sessions_per_day=1e7",
                          "markets.US.base_conversion_rate=0",
                          "markets.DE.base_conversion_rate=0",
                          "service.tickets.inquiries_per_1000_sessions=1000"],
                   "service.tickets.inquiries_per_1000_sessions", "more than 100000 a day")


def test_more_markets_than_the_ledger_codes_are_refused(tmp_path):
    doc = yaml.safe_load(TINY_TEXT)
    for i in range(61):
        doc["markets"][f"M{i}"] = doc["markets"]["DE"]
    file = tmp_path / "many.yaml"
    file.write_text(yaml.safe_dump(doc), encoding="utf-8")
    assert_refused(file, [], "markets", "at most 60 items")


def write(tmp_path: Path, text: str) -> Path:
    file = tmp_path / "bad.yaml"
    file.write_text(text, encoding="utf-8")
    return file


def test_a_boolean_in_the_file_is_not_a_number(tmp_path):
    file = write(tmp_path, TINY_TEXT.replace("agents: 2", "agents: true"))
    assert_refused(file, [], "service.agents", "not true")


def test_base_60_in_the_file_is_not_a_number(tmp_path):
    file = write(tmp_path, TINY_TEXT.replace("moq_units: 100", "moq_units: 1:40"))
    assert_refused(file, [], "suppliers.ACME.moq_units", "unable to parse string")


def test_a_duplicate_key_names_both_lines(tmp_path):
    file = write(tmp_path, TINY_TEXT.replace("    moq_units: 100\n",
                                             "    moq_units: 100\n    moq_units: 200\n"))
    line = TINY_TEXT[:TINY_TEXT.index("    moq_units: 100")].count("\n") + 1
    assert_refused(file, [], f"line {line + 1}",
                   f"duplicate key 'moq_units' (lines {line} and {line + 1})")


def test_a_newline_in_a_key_stays_on_one_line(tmp_path):
    file = write(tmp_path, TINY_TEXT.replace("  TEE: {", '  "TE\\nE": {'))
    assert_refused(file, [], "skus.TE\\nE", "a name is letters, digits")


def test_a_self_referencing_alias_ends_in_one_line(tmp_path):
    file = write(tmp_path, TINY_TEXT + "x: &a [*a]\n")
    assert_refused(file, [], "", "nested deeper than 32 levels")


def test_an_alias_bomb_ends_in_one_line(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n"
        for i in range(9))
    assert len(bomb) < 1024
    assert_refused(write(tmp_path, bomb), [], "", "more than 200,000 values")


def test_an_alias_bomb_through_extends_ends_in_one_line(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n"
        for i in range(9))
    (tmp_path / "parent.yaml").write_text(TINY_TEXT + bomb.replace("a:", "aa:", 1)
                                          .replace("*a", "*a"), encoding="utf-8")
    child = tmp_path / "child.yaml"
    child.write_text("extends: parent.yaml\nname: child\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(child)
    assert "parent.yaml" in caught.value.file
    assert "more than 200,000 values" in caught.value.reason


def test_an_alias_is_copied_so_an_override_changes_one_place(tmp_path):
    text = TINY_TEXT.replace("  US:\n    currency: USD", "  US: &us\n    currency: USD")
    file = write(tmp_path, text + "x_unused: *us\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(file, ["markets.US.vat_rate=0.2"])
    assert caught.value.path == "x_unused"


def test_a_device_is_not_read(tmp_path):
    assert_refused(Path("/dev/zero"), [], "", "not a regular file")


def test_a_directory_is_not_read(tmp_path):
    assert_refused(tmp_path, [], "", "not a regular file")


def test_a_file_beyond_the_size_limit_is_not_read(tmp_path):
    file = write(tmp_path, TINY_TEXT + "#" * MAX_FILE_BYTES)
    assert_refused(file, [], "", "larger than 4 MiB")


def test_existing_bounds_keep_real_values_valid():
    """A few values at the edge of what a real seller writes still load."""
    load_scenario(TINY, ["horizon.days=18262", "conversion.price_elasticity=4",
                         "modes.air.departures_per_week=21", "markets.US.fx_daily_volatility=0.02",
                         "warehouses.SZ.initial_stock_days=365", "suppliers.ACME.moq_units=1e5"])
