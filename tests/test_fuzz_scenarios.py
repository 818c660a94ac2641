"""The fuzzer's fast profile: generated hostile scenario documents, ``--set`` overrides, raw
YAML, plan files, sweep files and command lines (``experiments.fuzz``) each end refused in
one line or in a clean run with finite KPIs and balanced units. ``python -m
experiments.fuzz`` runs 5,000 such cases with time and memory bounds."""

from __future__ import annotations

import pytest

from experiments.fuzz import KINDS, fuzz, table

SCENARIO_KINDS = ("document", "override", "yaml")
COMMAND_KINDS = tuple(kind for kind in KINDS if kind not in SCENARIO_KINDS)
FAST_CASES = {SCENARIO_KINDS: 100, COMMAND_KINDS: 30}
"""Cases per group: a scenario case costs a validation and a 20-day run (~0.1 s), a command
case a whole command (~0.5 s)."""


@pytest.mark.parametrize("kinds", list(FAST_CASES), ids=["scenarios", "commands"])
def test_every_generated_case_is_refused_in_one_line_or_runs_cleanly(kinds):
    counts, failures = fuzz(FAST_CASES[kinds], seed=14, bounded=False, kinds=kinds)
    assert not failures, table(counts) + "\n" + "\n".join(
        f"{outcome}: {case} {detail}" for case, outcome, detail in failures[:5])
    assert {kind for kind, _ in counts} == set(kinds)
    assert sum(n for (_, outcome), n in counts.items() if outcome == "ran") > 0
