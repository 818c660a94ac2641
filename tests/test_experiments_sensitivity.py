"""Sensitivity wiring against closed forms: Sobol' indices of the Ishigami function and Morris
effects of a linear function, computed through the whole sweep pipeline."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from experiments import api

A, B = 7.0, 0.1
PI = math.pi


def ishigami(params, seed):
    x1, x2, x3 = params["x1"], params["x2"], params["x3"]
    return {"y": math.sin(x1) + A * math.sin(x2) ** 2 + B * x3 ** 4 * math.sin(x1)}


def noisy_ishigami(params, seed):
    """Ishigami plus unit-variance noise that differs from point to point."""
    point_key = [int(abs(params[f"x{i}"]) * 1e9) for i in (1, 2, 3)]
    return {"y": ishigami(params, seed)["y"] + np.random.default_rng([seed, *point_key]).normal()}


def linear(params, seed):
    return {"y": 2.0 * params["a"] + 0.5 * params["b"] + 0.0 * params["c"]}


def ishigami_indices() -> tuple[list[float], list[float]]:
    """Closed-form first-order and total indices of Ishigami(a=7, b=0.1) on [-pi, pi]^3."""
    v1 = 0.5 * (1 + B * PI ** 4 / 5) ** 2
    v2 = A ** 2 / 8
    v13 = B ** 2 * PI ** 8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return [v1 / v, v2 / v, 0.0], [(v1 + v13) / v, v2 / v, v13 / v]


def ishigami_sweep(samples: int, replications: int = 1) -> dict:
    return {"name": "ishigami", "seed": 11, "replications": replications,
            "design": {"kind": "sobol", "samples": samples},
            "parameters": {f"x{i}": {"low": -PI, "high": PI} for i in (1, 2, 3)},
            "kpis": ["y"]}


def test_closed_form_ishigami_indices_are_the_published_ones():
    s1, st = ishigami_indices()
    assert s1 == pytest.approx([0.314, 0.442, 0.0], abs=1e-3)
    assert st == pytest.approx([0.558, 0.442, 0.244], abs=1e-3)


def test_sobol_indices_of_ishigami_match_the_closed_form(tmp_path):
    result = api.sweep(ishigami_sweep(2048), out=tmp_path / "ish", model=ishigami,
                       backend="serial")
    table = result.sensitivity.set_index("parameter")
    s1, st = ishigami_indices()
    assert table["S1"].to_numpy() == pytest.approx(s1, abs=0.03)
    assert table["ST"].to_numpy() == pytest.approx(st, abs=0.03)
    # The reported 95 % intervals hold the truth.
    assert (np.abs(table["S1"] - s1) <= table["S1_conf"]).all()
    assert (np.abs(table["ST"] - st) <= table["ST_conf"]).all()
    assert len(result.results) == 2048 * 5
    stored = pd.read_parquet(tmp_path / "ish" / "sensitivity.parquet")
    pd.testing.assert_frame_equal(stored, result.sensitivity)
    assert (tmp_path / "ish" / "sensitivity.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_noise_share_measures_what_replications_leave():
    result = api.sweep(ishigami_sweep(512, replications=4), model=noisy_ishigami,
                       backend="serial")
    s1, _ = ishigami_indices()
    # Unit-variance noise averaged over 4 replications against the function's variance ~13.8.
    assert result.sensitivity["noise_share"].iloc[0] == pytest.approx(0.25 / 13.84, rel=0.3)
    assert result.sensitivity["S1"].to_numpy() == pytest.approx(s1, abs=0.08)


@pytest.mark.parametrize("high_a, expected", [(1.0, [2.0, 0.5, 0.0]), (4.0, [8.0, 0.5, 0.0])])
def test_morris_effects_of_a_linear_function_are_its_slopes_times_the_range(high_a, expected):
    spec = {"name": "lin", "seed": 3, "design": {"kind": "morris", "samples": 10, "levels": 4},
            "parameters": {"a": {"low": 0.0, "high": high_a}, "b": {"low": 0.0, "high": 1.0},
                           "c": {"low": 0.0, "high": 1.0}}, "kpis": ["y"]}
    table = api.sweep(spec, model=linear, backend="serial").sensitivity.set_index("parameter")
    assert table["mu_star"].to_numpy() == pytest.approx(expected, abs=1e-9)
    assert table["mu"].to_numpy() == pytest.approx(expected, abs=1e-9)
    assert table["sigma"].to_numpy() == pytest.approx([0.0] * 3, abs=1e-9)


def test_second_order_indices_find_the_x1_x3_interaction():
    spec = {**ishigami_sweep(1024), "design": {"kind": "sobol", "samples": 1024,
                                               "second_order": True}}
    table = api.sweep(spec, model=ishigami, backend="serial").sensitivity.set_index("parameter")
    _, st = ishigami_indices()
    assert table.at["x1:x3", "S2"] == pytest.approx(st[2], abs=0.06)
    assert table.at["x1:x2", "S2"] == pytest.approx(0.0, abs=0.06)
