"""Designs draw what they promise (sizes, strata, bounds, reproducibility) and sweep files
are checked against the scenario before anything runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from experiments.engine.models import ScenarioModel, override_text
from experiments.errors import DesignError, SweepFileError
from experiments.studies.designs import Parameter, make_design
from experiments.studies.sweepfile import build_sweep, load_sweep

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny.yaml"
SWEEPS = sorted((ROOT / "scenarios" / "sweeps").glob("*.yaml"))

A = Parameter("a", low=0.0, high=1.0)
B = Parameter("b", low=10.0, high=1000.0, log=True)
C = Parameter("c", low=2, high=6, integer=True)
MODES = Parameter("mode", values=("postal", "express"))


# ----------------------------------------------------------------------------- grid
def test_grid_has_every_combination_with_the_first_parameter_slowest():
    d = make_design("grid", [MODES, Parameter("x", low=0.0, high=1.0, levels=3)])
    assert len(d) == 2 * 3
    assert d.points["mode"].tolist() == ["postal"] * 3 + ["express"] * 3
    assert d.points["x"].tolist() == [0.0, 0.5, 1.0] * 2


def test_grid_size_is_the_product_of_the_levels():
    params = [Parameter(f"p{i}", low=0.0, high=1.0, levels=n) for i, n in enumerate((2, 3, 4))]
    assert len(make_design("grid", params)) == 24


def test_grid_over_a_range_needs_levels():
    with pytest.raises(DesignError, match="needs levels") as info:
        make_design("grid", [A])
    assert info.value.parameter == "a"


# ----------------------------------------------------------------------------- LHS
@pytest.mark.parametrize("n", [1, 7, 50])
def test_lhs_puts_exactly_one_point_in_each_stratum_of_each_parameter(n):
    d = make_design("lhs", [A, Parameter("z", low=-5.0, high=5.0)], samples=n, seed=3)
    assert len(d) == n
    for name, low, high in (("a", 0.0, 1.0), ("z", -5.0, 5.0)):
        values = d.points[name].to_numpy()
        assert ((values >= low) & (values <= high)).all()
        strata = np.floor((values - low) / (high - low) * n).astype(int)
        assert sorted(strata) == list(range(n))


def test_lhs_maps_log_integer_and_value_parameters_into_their_bounds():
    d = make_design("lhs", [B, C, MODES], samples=40, seed=1)
    assert d.points["b"].between(10.0, 1000.0).all()
    # log scale: about half the points below the geometric middle (100), not the arithmetic.
    assert 15 <= (d.points["b"] < 100.0).sum() <= 25
    assert d.points["c"].dtype == np.int64 and set(d.points["c"]) <= {2, 3, 4, 5, 6}
    assert set(d.points["mode"]) == {"postal", "express"}
    assert (d.points["mode"] == "postal").sum() == 20  # LHS strata split the list evenly


def test_designs_are_reproducible_from_their_seed():
    one = make_design("lhs", [A, B], samples=10, seed=5).points
    assert one.equals(make_design("lhs", [A, B], samples=10, seed=5).points)
    assert not one.equals(make_design("lhs", [A, B], samples=10, seed=6).points)


# ----------------------------------------------------------------------------- Sobol, Morris
@pytest.mark.parametrize("k, second_order", [(1, False), (2, False), (3, False), (5, False),
                                              (2, True), (3, True), (5, True)])
def test_sobol_sample_count_for_k_parameters(k, second_order):
    params = [Parameter(f"p{i}", low=0.0, high=1.0) for i in range(k)]
    d = make_design("sobol", params, samples=16, seed=0, second_order=second_order)
    expected = 16 * (2 * k + 2 if second_order else k + 2)
    assert len(d) == expected
    assert d.unit.shape == (expected, k)
    assert ((d.unit >= 0) & (d.unit <= 1)).all()


def test_second_order_needs_two_parameters():
    with pytest.raises(DesignError, match="at least two parameters"):
        make_design("sobol", [A], samples=8, second_order=True)


def test_sobol_needs_a_power_of_two():
    with pytest.raises(DesignError, match="power of two .*try 8"):
        make_design("sobol", [A, B], samples=7)


@pytest.mark.parametrize("k", [2, 4])
def test_morris_has_r_trajectories_of_k_plus_one_points_on_the_level_grid(k):
    params = [Parameter(f"p{i}", low=0.0, high=1.0) for i in range(k)]
    d = make_design("morris", params, samples=6, seed=2, levels=4)
    assert len(d) == 6 * (k + 1)
    assert set(np.round(d.unit.ravel(), 9)) <= {0.0, round(1 / 3, 9), round(2 / 3, 9), 1.0}
    # Along a trajectory consecutive points differ in exactly one parameter.
    for t in range(6):
        steps = np.diff(d.unit[t * (k + 1):(t + 1) * (k + 1)], axis=0)
        assert ((np.abs(steps) > 1e-12).sum(axis=1) == 1).all()


def test_morris_needs_an_even_number_of_levels():
    with pytest.raises(DesignError, match="even number of levels"):
        make_design("morris", [A, B], samples=4, levels=5)


@pytest.mark.parametrize("kwargs, message", [
    ({"low": 1.0, "high": 1.0}, "must be below"),
    ({"low": 0.0, "high": 1.0, "log": True}, "log range needs low > 0"),
    ({"values": ()}, "must not be empty"),
    ({"values": (1, "a")}, "all numbers, all strings"),
    ({"low": 0.0}, "both low and high"),
])
def test_bad_parameters_are_refused_with_their_name(kwargs, message):
    with pytest.raises(DesignError, match=message) as info:
        make_design("lhs", [Parameter("p", **kwargs)], samples=2)
    assert info.value.parameter == "p"


def test_override_text_round_trips_through_the_loader():
    model = ScenarioModel.from_file(TINY)
    for value in (1e-05, 0.1, 3, np.float64(0.25), np.int64(4)):
        assert override_text("x", value).startswith("x=")
    scenario = model.scenario({"markets.US.duty_rate": 1e-05, "service.agents": np.int64(3),
                               "policies.fulfilment.DE.mode": "express"})
    assert scenario.markets["US"].duty_rate == 1e-05
    assert scenario.service.agents == 3
    assert scenario.policies.fulfilment["DE"].mode == "express"


# ----------------------------------------------------------------------------- sweep files
def sweep(**changes):
    data = {"name": "t", "scenario": str(TINY), "days": 10, "replications": 2,
            "design": {"kind": "grid"},
            "parameters": {"markets.US.duty_rate": [0.1, 0.2], "service.agents": [1, 2, 3]},
            "kpis": ["contribution_margin_cny", "fill_rate"]}
    data.update(changes)
    return build_sweep(data, ROOT / "sweep.yaml")


def test_a_sweep_builds_its_design_from_the_file():
    s = sweep()
    assert len(s.design) == 6 and s.cells == 12
    assert s.design.points["service.agents"].dtype == np.int64
    assert s.model.days == 10


@pytest.mark.parametrize("changes, where, reason", [
    ({"replicationz": 2}, "replicationz", "unknown key"),
    ({"replications": 0}, "replications", "greater than or equal to 1"),
    ({"parameters": {"markets.US.dutyrate": [0.1]}}, "parameters.markets.US.dutyrate",
     "unknown key"),
    ({"parameters": {"markets.US.duty_rate": [0.1, 1.5]}}, "parameters.markets.US.duty_rate",
     "value 1.5 is refused by the scenario"),
    ({"parameters": {"markets.US.duty_rate": {"low": 0.1, "hi": 0.2}}},
     "parameters.markets.US.duty_rate.hi", "unknown key"),
    ({"design": {"kind": "sobol", "samples": 10},
      "parameters": {"markets.US.duty_rate": {"low": 0.1, "high": 0.2}}}, "design",
     "power of two"),
    ({"design": {"kind": "latin"}}, "design.kind", "Input should be"),
    ({"kpis": ["fill_rat"]}, "kpis.0", "did you mean fill_rate"),
    ({"days": 400}, "days", "must be between 1 and 60"),
    ({"scenario": "nowhere.yaml"}, "scenario", "no such file"),
])
def test_bad_sweeps_name_the_path_and_the_reason(changes, where, reason):
    with pytest.raises(SweepFileError, match=reason) as info:
        sweep(**changes)
    assert info.value.path == where
    assert "\n" not in str(info.value)


def test_malformed_sweep_file_is_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nparameters: {a: [1, 2\n", encoding="utf-8")
    with pytest.raises(SweepFileError, match="malformed YAML") as info:
        load_sweep(bad)
    assert str(info.value).startswith(f"{bad}: line ")


@pytest.mark.parametrize("file", SWEEPS, ids=[p.name for p in SWEEPS])
def test_shipped_sweep_files_load(file):
    s = load_sweep(file)
    assert s.cells == len(s.design) * s.spec.replications >= 1
    assert not np.isnan(s.design.unit).any()
