"""Hostile scenario input, generated: every case must be refused in one line or run cleanly.

A case is a valid scenario (``tests/data/tiny.yaml``) broken one way: a document whose fields
are replaced, renamed or deleted (with wrong types, signs, zero, tiny, huge, NaN and infinite
numbers, booleans, text, empty values, unknown names, impossible dates); a ``--set`` override
of one dotted path; or raw YAML (aliases, duplicate keys, deep nesting, odd keys). Each ends
in one outcome:

  refused      the loader's one-line error (``xbsim validate`` exits 2, one line a problem);
  ran          accepted, then a 20-day simulation finished with finite KPIs and balanced
               units and money;
  multi-line   an error message that spans lines;
  traceback    any other exception;
  non-finite / unbalanced   the run's integrity check failed (a NaN KPI, a residual);
  hang / memory  (``fuzz`` profile only) past the time bound, or past the memory bound.

``python -m experiments.fuzz [--cases N] [--seed S]`` runs the fuzz profile (5,000 cases by
default) and prints the counts by input kind and outcome; it exits 1 if any case ended in
anything but refused or ran. ``tests/test_fuzz_scenarios.py`` runs the same cases, fewer.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import datetime as dt
import io
import math
import resource
import signal
import sys
import tempfile
import traceback
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import seed as seeded
from hypothesis import strategies as st

from experiments.cli.main import main as xbsim
from sim.integrity import RunIntegrityError
from sim.loader import ScenarioError, load_scenario
from sim.model import simulate

TINY = Path(__file__).resolve().parents[1] / "tests" / "data" / "tiny.yaml"
DOCUMENT: dict[str, Any] = yaml.safe_load(TINY.read_text(encoding="utf-8"))
KINDS = ("document", "override", "yaml")
OUTCOMES = ("ran", "refused", "multi-line", "traceback", "non-finite", "unbalanced", "hang",
            "memory")
SIM_DAYS = 20
HANG_SECONDS = 60
"""A case slower than this is a hang (a 20-day run of the tiny scenario takes 0.1 s)."""
MEMORY_BYTES = 6 * 1024**3
"""The address space the fuzz profile allows its process."""


@dataclass(frozen=True)
class Case:
    """One hostile input: a document to write (``document`` and ``yaml`` kinds) or
    overrides on the tiny scenario."""

    kind: str
    text: str = ""
    overrides: tuple[str, ...] = ()


def _leaves(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every path of the document, inner nodes included (they can be broken too)."""
    if path:
        yield path
    items = node.items() if isinstance(node, dict) else enumerate(node) \
        if isinstance(node, list) else ()
    for key, child in items:
        yield from _leaves(child, (*path, str(key)))


PATHS = sorted(set(_leaves(DOCUMENT)))
FIXED: list[Any] = [
    True, False, None, "", "x", "1:40", "100", "1e5", 0, -1, -0.0, 1e-320, 1e-200, 1e-9,
    0.5, 3, 1e6, 1e9, 1e12, 1e200, 1.7e308, math.nan, math.inf, -math.inf, 2**31, 2**62,
    2**64, [], {}, ["apparell"], ["US"], {"a": 1}, dt.date(1, 1, 1), dt.date(9999, 12, 31),
    dt.date(2026, 1, 1), "2026-02-30", "a\nb", "../x", "/etc", "UNKNOWN",
    {"dist": "gamma", "mean": 5, "cv": 1e-200}, {"dist": "lognormal", "mean": 5, "cv": 1e200},
    {"dist": "triangular", "low": 0, "mode": 1, "high": 1.7e308},
    {"dist": "constant", "value": 1e300}, {"dist": "empirical", "values": [1e308, 1e308]},
]
values = st.one_of(st.sampled_from(FIXED), st.floats(), st.integers(-2**70, 2**70),
                   st.text(max_size=8))
names = st.one_of(st.sampled_from(["a/b", "a\nb", "", "-x", "x" * 70, "a.b", "US", "TEE"]),
                  st.text(max_size=6))
factors = st.sampled_from([0, 1e-6, 1e-3, 0.5, 2, 10, 1e3, 1e6, -1])
mutation = st.tuples(st.sampled_from(("replace", "delete", "rename", "scale", "scale")),
                     st.sampled_from(PATHS), st.one_of(values, factors), names)


def _apply(doc: dict[str, Any], kind: str, path: tuple[str, ...], value: Any,
           name: str) -> None:
    """One change at ``path``; a path an earlier change removed is left alone."""
    node: Any = doc
    with contextlib.suppress(KeyError, IndexError, TypeError, ValueError):
        for key in path[:-1]:
            node = node[int(key)] if isinstance(node, list) else node[key]
        last: Any = int(path[-1]) if isinstance(node, list) else path[-1]
        if kind == "replace":
            node[last] = value
        elif kind == "scale":
            number = node[last]
            if isinstance(number, int | float) and not isinstance(number, bool) \
                    and isinstance(value, int | float):
                product = number * value
                whole = isinstance(number, int) and math.isfinite(product)
                node[last] = int(product) if whole else product
        elif kind == "delete":
            del node[last]
        elif isinstance(node, dict):
            node[name] = node.pop(last)


@st.composite
def documents(draw: st.DrawFn) -> Case:
    doc = copy.deepcopy(DOCUMENT)
    for change in draw(st.lists(mutation, min_size=1, max_size=3)):
        _apply(doc, *change)
    return Case("document", yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))


TEXTS = ["true", "no", "1:40", "0x10", "1e400", "-1e400", ".nan", ".inf", "-.inf", "1e-320",
         "-1", "0", "", "~", "[]", "{}", "[apparell]", "{dist: gamma, mean: 1, cv: 1e-200}",
         "2026-02-30", "9999-12-31", "0001-01-01", "18446744073709551616", "'100'", "a\nb",
         "0.5", "2", "7", "30", "1000", "1e6", "1e7", "2026-06-01",
         "&a [*a]", "{a: 1, a: 2}", "[" * 40 + "1" + "]" * 40]
override_values = st.one_of(st.sampled_from(TEXTS), st.floats().map(repr),
                            st.integers(-2**70, 2**70).map(str), st.text(max_size=8))
override_paths = st.one_of(st.sampled_from(PATHS).map(".".join),
                           st.sampled_from(PATHS).map(lambda p: ".".join((*p, "extra"))))


@st.composite
def overrides(draw: st.DrawFn) -> Case:
    pairs = draw(st.lists(st.tuples(override_paths, override_values), min_size=1, max_size=2))
    return Case("override", overrides=tuple(f"{path}={value}" for path, value in pairs))


BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(9))
RAW = [BOMB, "a: &a [*a]\n", "a: &a {b: *a}\n", "name: x\nname: y\n", "? [a]\n: 1\n",
       "[" * 200 + "]" * 200, "{" * 5000, "\"a\\nb\": 1\n", "- 1\n- 2\n", "!!python/object:x {}\n",
       "name: tiny\nhorizon: {start_date: 2026-01-01, days: 1:40}\n", "\x00", "\ufeffa: 1\n"]


@st.composite
def raw_yaml(draw: st.DrawFn) -> Case:
    base = TINY.read_text(encoding="utf-8")
    head = draw(st.sampled_from(RAW))
    text = draw(st.sampled_from([head, base + "\n" + head if head[0].isalpha() else head,
                                 base.replace("tiny", "ti\\nny", 1)]))
    return Case("yaml", text)


cases = st.one_of(documents(), overrides(), raw_yaml())


def run_case(case: Case, workdir: Path) -> tuple[str, str]:
    """The outcome of one case (see the module docstring) and what went wrong, if anything."""
    file = TINY
    if case.kind != "override":
        file = workdir / "case.yaml"
        file.write_text(case.text, encoding="utf-8", errors="surrogatepass")
    argv = ["validate", str(file), *(a for o in case.overrides for a in ("--set", o))]
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = xbsim(argv)
        if code != 0:
            lines = err.getvalue().splitlines()
            one_each = code == 2 and all(line.startswith(("error: ", "warning: "))
                                         for line in lines)
            return ("refused", "") if one_each and lines else ("multi-line", err.getvalue())
        scenario = load_scenario(file, case.overrides)
        result = simulate(scenario, seed=0, days=SIM_DAYS)
    except ScenarioError as error:
        return ("multi-line", str(error)) if "\n" in str(error) else ("refused", "")
    except RunIntegrityError as error:
        return "unbalanced" if "balance" in str(error) else "non-finite", str(error)
    except MemoryError:
        return "memory", ""
    except TimeoutError:
        return "hang", ""
    except Exception as error:  # noqa: BLE001 - any other exception is what the fuzzer seeks
        return "traceback", "".join(traceback.format_exception(error)[-3:])
    bad = {k: v for k, v in result.summary.items()
           if isinstance(v, int | float) and not math.isfinite(v)}
    if bad:
        return "non-finite", str(bad)
    residual = result.conservation["units_residual"]
    return ("unbalanced", f"units_residual {residual}") if residual != 0 else ("ran", "")


def fuzz(n_cases: int, seed: int, bounded: bool
         ) -> tuple[Counter[tuple[str, str]], list[tuple[Case, str, str]]]:
    """Run ``n_cases`` generated cases; returns counts by (kind, outcome) and the failures.
    ``bounded`` adds the time bound (SIGALRM) and the memory bound (RLIMIT_AS)."""
    counts: Counter[tuple[str, str]] = Counter()
    failures: list[tuple[Case, str, str]] = []

    def on_alarm(signum: int, frame: Any) -> None:
        raise TimeoutError

    if bounded:
        signal.signal(signal.SIGALRM, on_alarm)
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    with tempfile.TemporaryDirectory() as tmp:
        @seeded(seed)
        @settings(max_examples=n_cases, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck))
        @given(cases)
        def one(case: Case) -> None:
            if bounded:
                signal.alarm(HANG_SECONDS)
            try:
                outcome, detail = run_case(case, Path(tmp))
            finally:
                if bounded:
                    signal.alarm(0)
            counts[case.kind, outcome] += 1
            if outcome not in ("ran", "refused"):
                failures.append((case, outcome, detail))

        one()
    return counts, failures


def table(counts: Counter[tuple[str, str]]) -> str:
    """Counts as a small text table: a row per input kind, a column per outcome."""
    rows = [f"{'kind':<10}" + "".join(f"{o:>12}" for o in OUTCOMES) + f"{'total':>8}"]
    for kind in (*KINDS, "all"):
        cells = [sum(n for (k, o), n in counts.items() if o == outcome and kind in (k, "all"))
                 for outcome in OUTCOMES]
        rows.append(f"{kind:<10}" + "".join(f"{c:>12}" for c in cells) + f"{sum(cells):>8}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.fuzz", description=__doc__
                                     .split("\n")[0])
    parser.add_argument("--cases", type=int, default=5000, help="cases to run (5000)")
    parser.add_argument("--seed", type=int, default=0, help="generation seed (0)")
    args = parser.parse_args(argv)
    counts, failures = fuzz(args.cases, args.seed, bounded=True)
    print(table(counts))
    for case, outcome, detail in failures[:20]:
        print(f"{outcome}: {case.kind} {case.overrides or case.text!r}\n  {detail!r}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
