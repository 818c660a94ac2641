"""Starting from today: an opening state's units are all accounted for, arrive when it says,
and move the plans made from it.

    opening stock (state on hand, days of cover elsewhere) + state in transit + purchased
        = on hand + in transit + shipped - restocked + written off
"""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from experiments.cli.main import main
from experiments.data.state import StateFileError, load_state, read_state
from experiments.engine.models import ScenarioModel, flatten_summary
from experiments.engine.replanning import replan_policy
from optimize.channel_data import channel_data
from optimize.peak import peak_data, solve_peak
from optimize.solve import SolveOptions
from sim.demand import hill
from sim.model import simulate
from sim.state import (
    Adstock,
    Backorder,
    InTransit,
    OnHand,
    OpeningState,
    OpenOrder,
    StateError,
)
from tests.conftest import DATA, load
from tests.test_peak import STRESSED

TINY = DATA / "tiny.yaml"
FULL = OpeningState(
    on_hand=(OnHand("US_WH", "TEE", 500), OnHand("US_WH", "CABLE", 80)),
    in_transit=(InTransit("SZ", "US_WH", "sea_fcl", "LAMP", 300, 10),
                InTransit("SZ", "US_WH", "sea_fcl", "TEE", 120, 10),
                InTransit("SZ", "US_WH", "air", "CABLE", 50, 200)),
    open_orders=(OpenOrder("ACME", "TEE", 1000, 5), OpenOrder("ACME", "LAMP", 400, 90)),
    backlog=(Backorder("DE", "LAMP", 40), Backorder("US", "TEE", 5)),
    adstock=(Adstock("ppc", 20000.0),))
STATE_CSV = """kind,location,sku,units,origin,mode,expected_date,reference
on_hand,US_WH,TEE,500,,,,
on_hand,US_WH,CABLE,80,,,,
in_transit,US_WH,LAMP,300,SZ,sea_fcl,2026-01-11,SH-1
in_transit,US_WH,TEE,120,SZ,sea_fcl,2026-01-11,SH-1
in_transit,US_WH,CABLE,50,SZ,air,2026-07-20,SH-2
open_po,ACME,TEE,1000,,,2026-01-06,PO-1
open_po,ACME,LAMP,400,,,2026-04-01,PO-2
backlog,DE,LAMP,40,,,,
backlog,US,TEE,5,,,,
adstock,ppc,,20000,,,,
"""


def run_cli(argv: list) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, err.getvalue()


@pytest.fixture(scope="module")
def from_state(tiny):
    return simulate(tiny, seed=3, state=FULL)


def test_an_empty_state_changes_nothing(tiny):
    plain, empty = simulate(tiny, seed=7, days=30), simulate(tiny, seed=7, days=30,
                                                             state=OpeningState())
    for name, table in plain.tables().items():
        assert_frame_equal(getattr(empty, name), table, check_exact=True, obj=name)
    assert empty.summary == plain.summary


def test_on_hand_replaces_the_opening_stock_of_the_warehouses_it_names(tiny, from_state):
    plain = simulate(tiny, seed=3, days=7)
    assert from_state.weekly is not None and plain.weekly is not None
    us, sz = 1, 0
    assert from_state.weekly.opening[us].tolist() == [500, 0, 80]  # TEE, LAMP, CABLE
    assert np.array_equal(from_state.weekly.opening[sz], plain.weekly.opening[sz])


def test_stock_in_transit_lands_on_its_day_at_its_warehouse(from_state):
    bulk = from_state.shipments[from_state.shipments["kind"] == "bulk"]
    landed = bulk[bulk["arrived_day"] == 10.0]
    assert set(landed["destination"]) == {"US_WH"}
    assert dict(zip(landed["sku"].astype(str), landed["units"], strict=True)) == {
        "LAMP": 300, "TEE": 120}
    # The air shipment lands after the horizon: still in transit at the end.
    late = bulk[(bulk["sku"] == "CABLE") & (bulk["ordered_units"] == 50)
                & bulk["arrived_day"].isna()]
    assert late["units"].tolist() == [0]
    assert from_state.daily["in_transit_units"].iloc[0] >= 300 + 120 + 50


def test_open_purchase_orders_are_received_on_their_ready_day_and_paid_on_terms(from_state):
    orders = from_state.shipments[from_state.shipments["kind"] == "purchase_order"]
    ready = orders[orders["arrived_day"] == 5.0]
    assert ready["sku"].astype(str).tolist() == ["TEE"]
    assert ready["units"].tolist() == [1000] and ready["damaged_units"].tolist() == [0]
    ledger = from_state.ledger
    paid = ledger[(ledger["category"] == "purchase") & (ledger["accrual_day"] == 5)
                  & np.isclose(ledger["amount_cny"], -25.0 * 1000)]
    assert paid["cash_day"].tolist() == [5 + 30]
    assert from_state.daily["on_order_units"].iloc[0] >= 1400  # both are on order on day 0


def test_backlog_is_served_first_when_stock_arrives(tiny):
    """A lost-sales market's orders already taken wait: US_WH opens empty and the 30 TEE
    landing on day 10 go to the 30 waiting orders before any new one."""
    state = OpeningState(on_hand=(OnHand("US_WH", "TEE", 0),),
                         in_transit=(InTransit("SZ", "US_WH", "air", "TEE", 30, 10),),
                         backlog=(Backorder("US", "TEE", 30),))
    run = simulate(tiny, seed=1, days=20, state=state)
    orders = run.orders[(run.orders["market"] == "US") & (run.orders["sku"] == "TEE")]
    waiting = orders[orders["order_day"] == 0]
    assert waiting["units"].sum() == 30 and len(waiting) == 30
    assert (waiting["ship_day"] >= 10).all()
    assert orders[orders["order_day"] > 0].empty
    assert run.conservation["units_residual"] == 0


def test_adstock_raises_day0_paid_sessions_as_the_carry_over_formula_says(tiny):
    carried = 20000.0
    plain = simulate(tiny, seed=2, days=5)
    state = OpeningState(adstock=(Adstock("ppc", carried),))
    run = simulate(tiny, seed=2, days=5, state=state)
    ppc = tiny.ad_channels["ppc"]
    r, spend = ppc.daily_carryover, 400.0
    half, n = np.array([ppc.half_saturation_spend_per_day]), np.array([ppc.hill_exponent])
    a = (1 - r) * spend + r * carried / tiny.markets["US"].fx_to_cny
    for t in range(3):
        expected = hill(np.array([[a]]), half, n)[0, 0] / hill(np.array([[spend]]), half, n)[0, 0]
        got = run.daily["sessions_ppc"].iloc[t] / plain.daily["sessions_ppc"].iloc[t]
        assert got == pytest.approx(expected, rel=1e-12)
        a = (1 - r) * spend + r * a
    assert run.daily["sessions_ppc"].iloc[0] > plain.daily["sessions_ppc"].iloc[0]


@pytest.mark.parametrize("seed", [0, 5])
@pytest.mark.parametrize("stockout", ["lost_sales", "backorder"])
def test_every_unit_of_the_state_is_counted_exactly(seed, stockout):
    scenario = load("tiny", f"markets.US.stockout={stockout}")
    run = simulate(scenario, seed=seed, state=FULL)
    assert run.conservation["units_residual"] == 0
    scale = abs(run.summary["net_revenue_cny"])
    assert abs(run.conservation["money_residual_cny"]) < 1e-9 * scale
    assert run.weekly is not None
    purchased = run.shipments.loc[run.shipments["kind"] == "purchase_order", "units"].sum()
    in_transit = sum(line.units for line in FULL.in_transit)
    assert run.conservation["units_in"] == run.weekly.opening.sum() + in_transit + purchased


def test_the_replanning_policy_runs_from_a_state():
    """The re-planner sees the state's stock and shipments in the run's snapshots."""
    scenario = load("tiny", "policies.replan={window_weeks: 6}")
    run = simulate(scenario, seed=1, days=21, state=FULL, policy=replan_policy(scenario))
    assert run.conservation["units_residual"] == 0
    assert run.weekly is not None and run.weekly.opening[1].tolist() == [500, 0, 80]


@pytest.mark.parametrize(("state", "named"), [
    (OpeningState(on_hand=(OnHand("MARS", "TEE", 1),)), "on_hand MARS TEE: unknown warehouse"),
    (OpeningState(on_hand=(OnHand("US_WH", "TEE", -1),)), "units must be a non-negative"),
    (OpeningState(in_transit=(InTransit("SZ", "US_WH", "postal", "TEE", 1, 3),)),
     "no lane carries postal from SZ to US_WH"),
    (OpeningState(in_transit=(InTransit("SZ", "US_WH", "air", "TEE", 1, -2),)),
     "before the scenario's start"),
    (OpeningState(open_orders=(OpenOrder("NOBODY", "TEE", 1, 3),)), "unknown supplier"),
    (OpeningState(backlog=(Backorder("FR", "TEE", 1),)), "backlog FR TEE: unknown market"),
    (OpeningState(adstock=(Adstock("tv", 1.0),)), "unknown ad channel 'tv'"),
])
def test_a_state_the_scenario_cannot_hold_names_the_item(tiny, state, named):
    with pytest.raises(StateError, match=named):
        simulate(tiny, seed=0, days=3, state=state)


def test_a_state_file_reads_the_same_from_csv_xlsx_and_parquet(tmp_path, tiny):
    csv = tmp_path / "state.csv"
    csv.write_text(STATE_CSV)
    rows = pd.read_csv(csv)
    rows.to_excel(tmp_path / "state.xlsx", sheet_name="state", index=False)
    rows.to_parquet(tmp_path / "state.parquet")
    for name in ("state.csv", "state.xlsx", "state.parquet"):
        assert load_state(tmp_path / name, tiny) == FULL, name


BAD = [
    ("on_hand,MARS,TEE,5,,,,", "row 3, column location: unknown warehouse 'MARS'"),
    ("on_hand,US_WH,TEE,-5,,,,", "row 3, column units: units must be a non-negative"),
    ("on_hand,US_WH,TEE,2.5,,,,", "row 3, column units: 2.5 is not a whole number"),
    ("on_hand,US_WH,TEE,lots,,,,", "row 3, column units: 'lots' is not a number"),
    ("in_transit,US_WH,TEE,5,SZ,air,2025-12-01,", "row 3, column expected_date: "
                                                   "arrival_day -31 is before"),
    ("in_transit,US_WH,TEE,5,SZ,postal,2026-02-01,", "row 3, column mode: no lane carries"),
    ("in_transit,US_WH,TEE,5,,air,2026-02-01,", "row 3, column origin: is empty"),
    ("open_po,ACME,TEE,5,,,soon,", "row 3, column expected_date: 'soon' is not a date"),
    ("restock,US_WH,TEE,5,,,,", "row 3, column kind: 'restock' is not one of"),
]


@pytest.mark.parametrize(("row", "message"), BAD)
def test_a_bad_state_file_is_one_line_naming_file_row_and_column(tmp_path, row, message):
    bad = tmp_path / "bad.csv"
    bad.write_text(STATE_CSV.splitlines()[0] + "\non_hand,US_WH,TEE,5,,,,\n" + row + "\n")
    code, err = run_cli(["run", TINY, "--days", 5, "--state", bad, "--out",
                         tmp_path / "out", "--no-report"])
    assert code == 2
    assert err.count("\n") == 1 and err.startswith(f"error: {bad}: ")
    assert message in err


def test_a_state_file_without_its_columns_or_sheet_is_rejected(tmp_path):
    no_units = tmp_path / "no_units.csv"
    no_units.write_text("kind,location,sku\non_hand,US_WH,TEE\n")
    with pytest.raises(StateFileError, match="column units: is missing"):
        read_state(no_units)
    book = tmp_path / "book.xlsx"
    pd.DataFrame({"kind": ["on_hand"]}).to_excel(book, sheet_name="stock", index=False)
    code, err = run_cli(["run", TINY, "--state", book, "--out", tmp_path / "out"])
    assert code == 2 and "state" in err and err.count("\n") == 1


def test_run_and_replications_start_from_the_state_and_record_it(tmp_path, tiny):
    state_file = tmp_path / "state.csv"
    state_file.write_text(STATE_CSV)
    out = tmp_path / "run"
    assert run_cli(["run", TINY, "--seed", 3, "--state", state_file, "--out", out,
                    "--no-report"])[0] == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["state_file"] == str(state_file) and manifest["state_hash"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["orders"] == simulate(tiny, seed=3, state=FULL).summary["orders"]

    model = ScenarioModel.from_file(TINY, days=20, state=read_state(state_file))
    assert model({}, 11) == flatten_summary(simulate(tiny, 11, days=20, state=FULL).summary)
    assert model.variant(["plan=null"]).state is model.state  # both arms of evaluate
    assert model.fingerprint() != ScenarioModel.from_file(TINY, days=20).fingerprint()
    reps = tmp_path / "reps"
    assert run_cli(["run", TINY, "--days", 10, "--replications", 2, "--backend", "serial",
                    "--state", state_file, "--out", reps, "--no-report"])[0] == 0
    assert json.loads((reps / "manifest.json").read_text())["state_file"] == str(state_file)


def test_the_channel_model_opens_with_the_states_stock(tiny):
    data = channel_data(tiny, state=FULL)
    us = data.warehouses.index("US_WH")
    assert data.opening[:, us].tolist() == [500, 0, 80]
    assert channel_data(tiny).opening[:, us].sum() > 0


def test_a_peak_plan_made_from_a_large_stock_on_hand_commits_less():
    scenario = load("tiny", *STRESSED)
    exact = SolveOptions(mip_gap=1e-6)
    stocked = OpeningState(on_hand=tuple(OnHand("US_WH", sku, 20_000)
                                         for sku in scenario.skus))
    without = solve_peak(peak_data(scenario), exact).summary
    with_state = solve_peak(peak_data(scenario, state=stocked), exact).summary
    assert without["committed_units"] > 0
    assert with_state["committed_units"] < without["committed_units"]


def test_the_ad_plan_starts_from_the_states_carry_over(tmp_path, tiny):
    from optimize.ads import ad_data
    state = OpeningState(adstock=(Adstock("ppc", 20000.0),))
    assert ad_data(tiny).carry_in[0] != 20000.0
    assert ad_data(tiny, state).carry_in[0] == 20000.0
    state_file = tmp_path / "state.csv"
    state_file.write_text(STATE_CSV)
    code, err = run_cli(["optimize", "ads", TINY, "--state", state_file, "--out",
                         tmp_path / "ads", "--no-report"])
    assert code == 0, err
