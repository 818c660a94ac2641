"""The scenario library: every shipped file loads, runs, and says what it is for.

Each scenario runs a 30-day cut; each sweep file loads (its parameter extremes are checked
against the schema) and its base scenario runs a 30-day cut. Every file opens with a comment
that states the question it answers and the ``xbsim`` command that answers it, and those
commands parse and name files that exist. The three logistics mixes differ the way freight
economics says they must.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from experiments.cli.main import _parser
from experiments.studies.sweepfile import load_sweep
from sim.loader import load_scenario
from sim.model import simulate

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
SWEEPS = sorted((ROOT / "scenarios" / "sweeps").glob("*.yaml"))
COMMAND = re.compile(r"\bxbsim\s+([^\n#()]+)")


def header(path: Path) -> str:
    """The comment block the file starts with."""
    lines = path.read_text(encoding="utf-8").splitlines()
    block = []
    for line in lines:
        if not line.startswith("#"):
            break
        block.append(line.lstrip("#").strip())
    return "\n".join(block)


def test_the_library_holds_the_files_its_users_need():
    names = {p.name for p in SCENARIOS} | {f"sweeps/{p.name}" for p in SWEEPS}
    assert {"baseline.yaml", "peak_season.yaml", "mix_all_express.yaml",
            "mix_sea_overseas_wh.yaml", "mix_balanced.yaml", "ads_budget.yaml",
            "sweeps/peak_sensitivity.yaml"} <= names


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_scenario_validates_and_runs_a_30_day_cut(path):
    result = simulate(load_scenario(path), seed=0, days=30)
    assert len(result.daily) == 30
    assert result.summary["orders"] > 0 and result.summary["units_sold"] > 0
    assert result.conservation["units_residual"] == 0
    assert abs(result.conservation["money_residual_cny"]) < 1e-3


@pytest.mark.parametrize("path", SWEEPS, ids=[p.name for p in SWEEPS])
def test_sweep_file_loads_and_its_base_scenario_runs(path):
    sweep = load_sweep(path)
    assert sweep.cells > 0 and sweep.spec.kpis
    result = simulate(sweep.model.scenario(), seed=0, days=30)
    assert result.summary["orders"] > 0


@pytest.mark.parametrize("path", [*SCENARIOS, *SWEEPS],
                         ids=[p.name for p in [*SCENARIOS, *SWEEPS]])
def test_file_starts_with_its_question_and_the_command_that_answers_it(path):
    text = header(path)
    assert text, f"{path.name} does not start with a comment"
    assert re.search(r"question it answers", text, re.IGNORECASE), text
    commands = [shlex.split(m.group(1)) for m in COMMAND.finditer(text)]
    assert commands, f"{path.name} names no xbsim command"
    own = str(path.relative_to(ROOT))
    assert any(own in words for words in commands), f"no command runs {own}"
    for words in commands:
        try:
            _parser().parse_args(words)
        except SystemExit:
            pytest.fail(f"{path.name}: xbsim cannot parse: xbsim {shlex.join(words)}")
        for word in words:
            if word.startswith("scenarios/"):
                assert (ROOT / word).is_file(), f"{path.name}: {word} does not exist"


def test_the_logistics_mixes_differ_in_cost_and_speed_as_freight_economics_says():
    runs = {name: simulate(load_scenario(ROOT / "scenarios" / f"{name}.yaml"), seed=0,
                           days=60).summary
            for name in ("mix_all_express", "mix_sea_overseas_wh", "mix_balanced")}
    landed = {name: max(s["landed_cost_per_unit_cny"].values()) for name, s in runs.items()}
    assert landed["mix_all_express"] > 1.5 * landed["mix_balanced"]
    assert landed["mix_all_express"] > 1.5 * landed["mix_sea_overseas_wh"]
    days = {name: s["mean_delivery_days"] for name, s in runs.items()}
    assert days["mix_sea_overseas_wh"] < days["mix_balanced"] < days["mix_all_express"]
    assert (runs["mix_all_express"]["contribution_margin_cny"]
            < runs["mix_balanced"]["contribution_margin_cny"])
    routes = {name: {k.split()[1] for k in s["landed_cost_per_unit_cny"]}
              for name, s in runs.items()}
    assert routes == {"mix_all_express": {"direct"}, "mix_sea_overseas_wh": {"warehouse"},
                      "mix_balanced": {"direct", "warehouse"}}
