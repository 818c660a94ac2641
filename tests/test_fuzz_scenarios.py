"""The fuzzer's fast profile: generated hostile scenario documents, ``--set`` overrides and
raw YAML (``experiments.fuzz``) each end refused in one line or in a clean 20-day run with
finite KPIs and balanced units. ``python -m experiments.fuzz`` runs 5,000 such cases with
time and memory bounds."""

from __future__ import annotations

from experiments.fuzz import KINDS, fuzz, table

FAST_CASES = 150


def test_every_generated_case_is_refused_in_one_line_or_runs_cleanly():
    counts, failures = fuzz(FAST_CASES, seed=14, bounded=False)
    assert not failures, table(counts) + "\n" + "\n".join(
        f"{outcome}: {case} {detail}" for case, outcome, detail in failures[:5])
    assert {kind for kind, _ in counts} == set(KINDS)
    assert sum(n for (_, outcome), n in counts.items() if outcome == "ran") > 0
