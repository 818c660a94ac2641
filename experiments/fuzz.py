"""Hostile input, generated: every case must be refused in one line or run cleanly.

A case is valid input broken one way. Six kinds:

  document  the tiny scenario with every commerce lever on (``tests/data/tiny_levers.yaml``,
            resolved) with fields replaced, renamed or deleted (wrong types, signs, zero,
            tiny, huge, NaN and infinite numbers, booleans, text, empty values, unknown
            names, impossible dates);
  override  a ``--set`` override of one dotted path;
  yaml      raw YAML (aliases, duplicate keys, deep nesting, odd keys);
  plan      a small valid plan for the tiny scenario, mutated the same way (weeks out of
            range, negative or huge units and spend, unknown SKUs and channels), written as
            YAML or JSON and run by ``xbsim run --set plan=FILE`` or ``xbsim evaluate
            --plan FILE``;
  sweep     a small valid sweep file (four cells of seven days), mutated, run by
            ``xbsim sweep``;
  flags     a cheap command line of run, evaluate, compare, sweep, tune, optimize, show,
            validate or report with one or two flags changed (negative, zero, huge, NaN,
            text, a missing file, a directory or a device where a file is expected, a
            value dropped, an unknown flag added).

Each ends in one outcome:

  refused      exit 2 (exit 1 for a disk that cannot be written) and exactly one
               ``error:`` line on stderr, the last (progress lines before it are not the
               error; an option argparse rejects is its usage and then that line);
  ran          exit 0; a 20-day simulation (a run's ``summary.json``) with finite KPIs and
               balanced units and money (every run checks itself: ``sim.integrity``);
  multi-line   an error message that spans lines;
  traceback    any other exception;
  non-finite / unbalanced   the run's integrity check failed (a NaN KPI, a residual);
  hang / memory  (``fuzz`` profile only) past the time bound, or past the memory bound.

Counts that multiply work (replications, cells, frontier points, trials) are drawn small
when valid and at or beyond their bounds otherwise: a valid request for 5,000 replications is
long by intent, not a hang.

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
import json
import math
import os
import resource
import shutil
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
from sim.loader import ScenarioError, load_scenario, resolve_document
from sim.model import simulate

TINY = Path(__file__).resolve().parents[1] / "tests" / "data" / "tiny.yaml"
DOCUMENT: dict[str, Any] = resolve_document(TINY.with_name("tiny_levers.yaml"))
"""The document cases start from: tiny with every lever on, its ``extends`` resolved."""
KINDS = ("document", "override", "yaml", "plan", "sweep", "flags")
OUTCOMES = ("ran", "refused", "multi-line", "traceback", "non-finite", "unbalanced", "hang",
            "memory")
SIM_DAYS = 20
CLI_DAYS = "14"
"""Days a command-line case simulates (the tiny scenario has 60)."""
HANG_SECONDS = 60
"""A case slower than this is a hang (a 20-day run of the tiny scenario takes 0.1 s)."""
MEMORY_BYTES = 6 * 1024**3
"""The address space the fuzz profile allows its process."""


class Hang(BaseException):
    """The time bound passed. Not an ``Exception`` (nor the ``OSError`` that
    ``TimeoutError`` is), so that no command's error handling can mistake it for input."""


@dataclass(frozen=True)
class Case:
    """One hostile input: a document to write (``document``, ``yaml``, ``plan`` and ``sweep``
    kinds), overrides on the tiny scenario, or a command line; ``{DIR}``, ``{FILE}`` and the
    other fixtures' names in ``argv`` are filled in when the case runs."""

    kind: str
    text: str = ""
    overrides: tuple[str, ...] = ()
    argv: tuple[str, ...] = ()
    suffix: str = ".yaml"


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


PLAN: dict[str, Any] = {
    "kind": "channels", "takes_over": ["routing", "overseas_replenishment", "ad_spend"],
    "scenario": "tiny", "scenario_hash": "fuzz", "weeks": 2, "objective_cny": 1000.0,
    "costs_cny": {"total": 1000.0},
    "shipments": [{"week": 1, "sku": "TEE", "origin": "SZ", "destination": "US_WH",
                   "mode": "air", "units": 100.0}],
    "fulfilment": [{"week": 1, "sku": "TEE", "market": "US", "route": "warehouse",
                    "mode": "us_last_mile", "warehouse": "US_WH", "units": 50.0},
                   {"week": 2, "sku": "LAMP", "market": "DE", "route": "direct",
                    "mode": "express", "warehouse": "SZ", "units": 20.0, "scenario": 0}],
    "ad_spend": [{"week": 1, "channel": "ppc", "spend_cny_per_day": 500.0}],
    "containers": {"sz_us_wh sea_fcl 1": 1.0}, "metrics": {"fill_rate": 0.9},
    "solver": {"status": "optimal"}}
"""A plan for the tiny scenario with a line of every kind."""
PLAN_PATHS = sorted(set(_leaves(PLAN)))
PLAN_VALUES = [5218, 5219, 0, -1, 1e12, 1.1e12, 1e15, 1.1e15, -1e15, "TEE", "NOPE", "US_WH",
               "warehouse", "direct", "ads", "ad_spend", "routing", ["bogus"], 10**6 + 1]


@st.composite
def plans(draw: st.DrawFn) -> Case:
    doc = copy.deepcopy(PLAN)
    change = st.tuples(st.sampled_from(("replace", "replace", "delete", "rename", "scale")),
                       st.sampled_from(PLAN_PATHS),
                       st.one_of(values, st.sampled_from(PLAN_VALUES), factors), names)
    for one in draw(st.lists(change, min_size=1, max_size=3)):
        _apply(doc, *one)
    if draw(st.booleans()):
        return Case("plan", yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    text = json.dumps(doc, default=str)  # NaN and Infinity are JSON tokens Python writes
    return Case("plan", text, suffix=".json")


SWEEP: dict[str, Any] = {
    "name": "fuzz", "scenario": str(TINY), "set": ["horizon.warmup_days=0"], "days": 7,
    "seed": 0, "replications": 1, "design": {"kind": "grid"},
    "parameters": {"markets.US.duty_rate": {"low": 0.05, "high": 0.2, "levels": 2},
                   "policies.fulfilment.DE.mode": ["postal", "express"]},
    "kpis": ["fill_rate", "contribution_margin_cny"]}
"""A sweep of the tiny scenario: a 2 x 2 grid, one replication of seven days a point."""
SWEEP_PATHS = sorted(set(_leaves(SWEEP)))
SWEEP_VALUES: list[Any] = [
    v for v in FIXED if not (isinstance(v, int | float) and 3 < abs(v) < 10**7)] + [
    "lhs", "sobol", "morris", "grid", 2, 3, 61, 10**7, 100_001, 2**40, "horizon.days=1",
    ["horizon.days=1e9"], ["nosuch.path=1"], "../nowhere.yaml", {"low": 1, "high": 0},
    {"values": []}, {"low": 0.1, "high": 0.2, "log": True}, ["fill_rat"], [], "a/b"]
"""Hostile values; valid counts above three are left out, since a valid sweep of thousands
of cells is long by intent (see the module docstring)."""
sweep_factors = st.sampled_from([0, 1e-6, 0.5, 2, 1e7, 1e30, -1])


@st.composite
def sweeps(draw: st.DrawFn) -> Case:
    doc = copy.deepcopy(SWEEP)
    change = st.tuples(st.sampled_from(("replace", "replace", "delete", "rename", "scale")),
                       st.sampled_from(SWEEP_PATHS),
                       st.one_of(st.sampled_from(SWEEP_VALUES), st.floats(), sweep_factors,
                                 st.text(max_size=6)), names)
    for one in draw(st.lists(change, min_size=1, max_size=2)):
        _apply(doc, *one)
    return Case("sweep", yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))


OUT_FLAGS = ("--out", "{OUT}", "--no-report")
SERIAL = ("--backend", "serial")
SHORT = ("--days", CLI_DAYS)
COMMANDS: list[tuple[str, ...]] = [
    ("run", "{TINY}", *SHORT, "--seed", "1", *OUT_FLAGS),
    ("run", "{TINY}", *SHORT, "--replications", "2", *SERIAL, *OUT_FLAGS),
    ("run", "{TINY}", *SHORT, "--replications", "2", "--precision", "0.9",
     "--max-replications", "3", "--kpi", "fill_rate", *SERIAL, *OUT_FLAGS),
    ("evaluate", "{TINY}", "--plan", "{PLAN}", "--replications", "2", *SHORT, *SERIAL,
     *OUT_FLAGS),
    ("compare", "{TINY}", "{TINY}", "--replications", "2", *SHORT, "--kpi", "fill_rate",
     *SERIAL, *OUT_FLAGS),
    ("compare", "{TINY}", "--variant", "dear", "markets.US.duty_rate=0.3", "--replications",
     "2", *SHORT, *SERIAL),
    ("sweep", "{SWEEP}", *SERIAL, "--batch-seconds", "1", *OUT_FLAGS),
    ("tune", "{TINY}", "--param", "markets.US.duty_rate=0.05:0.2", "--objective", "fill_rate",
     "--budget", "2", "--replications", "2", "--batch-trials", "2", *SHORT, *SERIAL,
     *OUT_FLAGS),
    ("optimize", "channels", "{TINY}", "--time-limit", "30", "--mip-gap", "0.01", *OUT_FLAGS),
    ("optimize", "frontier", "{TINY}", "--points", "2", "--metric", "share_within",
     "--within-days", "5", "--time-limit", "30", *OUT_FLAGS),
    ("show", "{TINY}", "--set", "horizon.days=7"),
    ("validate", "{TINY}", "--set", "service.agents=3"),
    ("report", "{RESULT}"),
]
"""Cheap valid command lines; ``{NAME}`` is a fixture filled in by ``run_case``."""
EXTRA_FLAGS = ["--seed", "--days", "--replications", "--workers", "--batch-seconds",
               "--backend", "--address", "--state", "--plan", "--kpi", "--precision",
               "--max-replications", "--set", "--bogus", "--out", "--evaluate", "--points"]
FLAG_VALUES = [
    "-1", "0", "1", "2", "3", "7", "0.5", "1e-300", "1e-6", "1e6", "1000000", "10001",
    "4294967296", "99999999999999999999", "nan", "inf", "-inf", "abc", "", " ", "1:40",
    "true", "a\nb", "0x10", "serial", "local", "dask", "fill_rat", "fill_rate", "notaurl",
    "tcp://127.0.0.1:1", "horizon.days=1e9", "x=1", "=", "{DIR}", "{MISSING}", "/dev/zero",
    "/dev/null", "{EMPTY}", "{BINARY}", "{TINY}", "{PLAN}", "{SWEEP}", "{RESULT}",
    "{OUT}/../../x", "/proc/xbsim"]
"""Values for any flag or positional argument; valid counts are small (module docstring)."""


@st.composite
def command_lines(draw: st.DrawFn) -> Case:
    argv = list(draw(st.sampled_from(COMMANDS)))
    for _ in range(draw(st.integers(1, 2))):
        how = draw(st.sampled_from(("value", "value", "value", "drop", "add")))
        spot = draw(st.integers(1, len(argv) - 1)) if len(argv) > 1 else 0
        if how == "value":
            argv[spot] = draw(st.sampled_from(FLAG_VALUES))
        elif how == "drop":
            del argv[spot]
        else:
            argv[spot:spot] = [draw(st.sampled_from(EXTRA_FLAGS)),
                               draw(st.sampled_from(FLAG_VALUES))]
    return Case("flags", argv=tuple(argv))


STRATEGIES = dict(zip(KINDS, (documents(), overrides(), raw_yaml(), plans(), sweeps(),
                             command_lines()), strict=True))


def run_case(case: Case, workdir: Path) -> tuple[str, str]:
    """The outcome of one case (see the module docstring) and what went wrong, if anything."""
    if case.kind in ("document", "override", "yaml"):
        return _scenario_case(case, workdir)
    fixtures = _fixtures(workdir)
    here = workdir / "case"
    shutil.rmtree(here, ignore_errors=True)
    here.mkdir()
    fill = {**fixtures, "OUT": str(here / "out")}
    if case.kind == "flags":
        argv = [_filled(word, fill) for word in case.argv]
    else:
        file = here / f"case{case.suffix}"
        file.write_text(case.text, encoding="utf-8", errors="surrogatepass")
        argv = _document_command(case, str(file), fill)
    return _cli_case(argv, here / "out")


def _document_command(case: Case, file: str, fill: dict[str, str]) -> list[str]:
    """How a plan or sweep file is used: a plan by ``run --set plan=`` (YAML) or
    ``evaluate --plan`` (JSON), a sweep by ``sweep``."""
    out = [*SHORT, "--out", fill["OUT"], "--no-report"]
    if case.kind == "sweep":
        return ["sweep", file, *SERIAL, "--out", fill["OUT"], "--no-report"]
    if case.suffix == ".json":
        return ["evaluate", fill["TINY"], "--plan", file, "--replications", "2", *SERIAL, *out]
    return ["run", fill["TINY"], "--set", f"plan={file}", *out]


def _filled(word: str, fill: dict[str, str]) -> str:
    for name, value in fill.items():
        word = word.replace(f"{{{name}}}", value)
    return word


def _fixtures(workdir: Path) -> dict[str, str]:
    """Files the command lines name, made once per work directory: the tiny scenario, a
    plan, a sweep, a run's results, an empty and a binary file, a directory, a missing path."""
    made = workdir / "fixtures"
    names = {"TINY": str(TINY), "PLAN": str(made / "plan.yaml"),
             "SWEEP": str(made / "sweep.yaml"), "RESULT": str(made / "result"),
             "EMPTY": str(made / "empty.yaml"), "BINARY": str(made / "binary.yaml"),
             "DIR": str(made), "MISSING": str(made / "missing.yaml")}
    if not made.is_dir():
        made.mkdir()
        Path(names["PLAN"]).write_text(yaml.safe_dump(PLAN), encoding="utf-8")
        Path(names["SWEEP"]).write_text(yaml.safe_dump(SWEEP), encoding="utf-8")
        Path(names["EMPTY"]).write_text("", encoding="utf-8")
        Path(names["BINARY"]).write_bytes(bytes(range(256)) * 4)
        code, err = _call(["run", str(TINY), *SHORT, "--out", names["RESULT"], "--no-report"])
        if code != 0:
            raise RuntimeError(f"the fuzzer's fixture run failed: {err}")
    return names


def _call(argv: list[str]) -> tuple[int, str]:
    """``xbsim argv`` in this process: the exit code and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = xbsim(argv)
        except SystemExit as exit_:  # argparse
            code = exit_.code if isinstance(exit_.code, int) else 2
    return code, err.getvalue()


INTEGRITY = {"do not balance": "unbalanced", "does not balance": "unbalanced",
             "is not finite (": "non-finite", "cannot be counted": "non-finite",
             "a count overflowed": "non-finite"}
"""Phrases of ``sim.integrity``'s messages: a run that failed its own check."""


def _cli_case(argv: list[str], out: Path) -> tuple[str, str]:
    try:
        code, err = _call(argv)
    except MemoryError:
        return "memory", ""
    except Exception as error:  # noqa: BLE001 - any other exception is what the fuzzer seeks
        return "traceback", "".join(traceback.format_exception(error)[-3:])
    lines = err.splitlines()
    errors = [line for line in lines if "error: " in line]
    if code == 0:
        return _run_summary(out, argv) if argv[:1] == ["run"] else ("ran", "")
    if "Traceback" in err:
        return "traceback", err[-600:]
    if argv[:1] == ["validate"] and code == 2 and lines and all(
            line.startswith(("error: ", "warning: ")) for line in lines):
        return "refused", ""  # validate lists every problem, one line each
    if code not in (1, 2) or len(errors) != 1 or lines[-1] != errors[0]:
        return "multi-line", err[-600:]
    found = next((outcome for phrase, outcome in INTEGRITY.items() if phrase in errors[0]),
                 None)
    return (found, errors[0]) if found else ("refused", "")


def _run_summary(out: Path, argv: list[str]) -> tuple[str, str]:
    """A single run's ``summary.json``: finite KPIs, balanced units (replications and the
    other commands check every run they make the same way, before exit 0)."""
    file = out / "summary.json"
    if "--replications" in argv or "--precision" in argv or not file.is_file():
        return "ran", ""
    summary = json.loads(file.read_text(encoding="utf-8"), parse_constant=float)
    return _judged(summary, summary["conservation"])


def _judged(summary: dict[str, Any], conservation: dict[str, Any]) -> tuple[str, str]:
    """A finished run's outcome: its KPIs finite and its units balanced, or what is not."""
    bad = {k: v for k, v in summary.items()
           if isinstance(v, int | float) and not math.isfinite(v)}
    if bad:
        return "non-finite", str(bad)
    residual = conservation["units_residual"]
    return ("unbalanced", f"units_residual {residual}") if residual != 0 else ("ran", "")


def _scenario_case(case: Case, workdir: Path) -> tuple[str, str]:
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
    except Exception as error:  # noqa: BLE001 - any other exception is what the fuzzer seeks
        return "traceback", "".join(traceback.format_exception(error)[-3:])
    return _judged(result.summary, result.conservation)


def fuzz(n_cases: int, seed: int, bounded: bool, kinds: tuple[str, ...] = KINDS
         ) -> tuple[Counter[tuple[str, str]], list[tuple[Case, str, str]]]:
    """Run ``n_cases`` generated cases of ``kinds``; returns counts by (kind, outcome) and
    the failures. ``bounded`` adds the time bound (SIGALRM) and the memory bound (RLIMIT_AS).
    Commands run inside a temporary directory, so their default ``out/`` lands there."""
    counts: Counter[tuple[str, str]] = Counter()
    failures: list[tuple[Case, str, str]] = []
    strategy = st.one_of([STRATEGIES[kind] for kind in kinds])

    def on_alarm(signum: int, frame: Any) -> None:
        raise Hang

    if bounded:
        signal.signal(signal.SIGALRM, on_alarm)
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    home = Path.cwd()
    with tempfile.TemporaryDirectory() as tmp:
        @seeded(seed)
        @settings(max_examples=n_cases, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck))
        @given(strategy)
        def one(case: Case) -> None:
            if bounded:
                signal.alarm(HANG_SECONDS)
            try:
                outcome, detail = run_case(case, Path(tmp))
            except Hang:
                outcome, detail = "hang", ""
            finally:
                if bounded:
                    signal.alarm(0)
            counts[case.kind, outcome] += 1
            if outcome not in ("ran", "refused"):
                failures.append((case, outcome, detail))

        os.chdir(tmp)
        try:
            one()
        finally:
            os.chdir(home)
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
        print(f"{outcome}: {case.kind} {case.argv or case.overrides or case.text!r}\n"
              f"  {detail!r}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
