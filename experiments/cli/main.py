"""The ``xbsim`` command: validate, show, run, evaluate, optimize, compare, sweep and tune
scenarios, write the HTML report of a results directory, and bring a seller's own data in
(template, import, calibrate, backtest) and results out (export).

Library code raises typed exceptions; only this module turns them into one line on stderr
and an exit code (2 for bad input, 1 when the system fails: a read-only or full disk), so
users never see a traceback for a bad file. Every option's range and input path is checked
(``limits``) before a command starts its work.

Only the parser of the command given is built, and the module that runs it is imported only
then: ``xbsim --help``, a command's ``--help`` and a mistyped option answer without loading
the simulation, pandas, the solvers or matplotlib.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from experiments.cli.limits import check_options
from experiments.errors import CellError

EXIT_OS_FAILURE = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

DESCRIPTION = ("Simulate a cross-border e-commerce seller described by one scenario YAML "
               "file, replicate, compare, sweep and tune it on common random numbers, plan "
               "its channels, ads and peak season with optimisers and judge those plans in "
               "the simulation, and fit a scenario to the seller's own data. Every command "
               "that writes a results directory also writes its report.html.")
EPILOG = ("Run 'xbsim COMMAND --help' for a command's options. Bad input is one line on "
          "stderr and exit code 2.")

ARGUMENTS = "experiments.cli.arguments"
COMMANDS_MODULE = "experiments.cli.commands"


@dataclass(frozen=True)
class Command:
    """A subcommand: its help line, where its options are defined and where it runs, as
    ``module:function`` so that neither is imported before the command is chosen."""

    help: str
    arguments: str
    run: str


COMMANDS: dict[str, Command] = {
    "validate": Command("check a scenario file: every problem one line each, and a warning for "
                        "each parent entry an extends: file drops",
                        f"{ARGUMENTS}:scenario_arguments",
                        "experiments.cli.validate:validate_command"),
    "diff": Command("show how two scenarios differ once resolved, one line per dotted path",
                    "experiments.cli.diff:add_arguments", "experiments.cli.diff:diff_command"),
    "reference": Command("write docs/scenario-reference.md: every scenario key, generated "
                         "from the schema", "experiments.cli.reference:add_arguments",
                         "experiments.cli.reference:reference_command"),
    "show": Command("print the fully resolved scenario (extends and --set applied) as YAML",
                    f"{ARGUMENTS}:scenario_arguments", f"{COMMANDS_MODULE}:show_command"),
    "run": Command("simulate a scenario once, or replicated with 95 %% intervals, and write "
                   "its tables and report", f"{ARGUMENTS}:run_arguments",
                   "experiments.cli.run:run_command"),
    "evaluate": Command("judge a plan against the scenario's rules on common random numbers, "
                        "beside the plan's prediction", f"{ARGUMENTS}:evaluate_arguments",
                        f"{COMMANDS_MODULE}:evaluate"),
    "optimize": Command("find the best channel mix, ad plan, time-versus-cost frontier or "
                        "peak-season order plan", f"{ARGUMENTS}:optimize_arguments",
                        "experiments.cli.optimize:optimize_command"),
    "compare": Command("compare scenarios (files or --variant overrides) on common random "
                       "numbers: paired differences, ranking, best subset",
                       f"{ARGUMENTS}:compare_arguments", f"{COMMANDS_MODULE}:compare_command"),
    "sweep": Command("run (or resume) a sweep file: a design over scenario parameters and "
                     "its sensitivity indices", f"{ARGUMENTS}:sweep_arguments",
                     f"{COMMANDS_MODULE}:sweep_command"),
    "tune": Command("search scenario parameters for the best KPI on common random numbers "
                    "(optuna TPE)", f"{ARGUMENTS}:tune_arguments",
                    f"{COMMANDS_MODULE}:tune_command"),
    "report": Command("write DIR/report.html (and DIR/figures/) for the results of run, "
                      "evaluate, compare --out, sweep, tune or optimize",
                      f"{ARGUMENTS}:report_arguments", f"{COMMANDS_MODULE}:report_command"),
    "template": Command("write the empty data workbook (DIR/xbsim_data.xlsx, README and one "
                        "sheet per table) and DIR/csv/ headers a seller fills in",
                        "experiments.cli.data_template:add_arguments",
                        "experiments.cli.data_template:template_command"),
    "import": Command("read a seller's exports and filled-in template into canonical tables "
                      "(DIR/<table>.parquet), reporting every problem",
                      "experiments.cli.data_import:add_arguments",
                      "experiments.cli.data_import:import_command"),
    "calibrate": Command("fit a scenario to a seller's data directory (written by import), "
                         "with a fit report", "experiments.cli.calibrate:add_arguments",
                         "experiments.cli.calibrate:calibrate_command"),
    "backtest": Command("simulate the actuals' period N times and score the scenario against "
                        "them (WAPE, bias, 90 %% coverage)",
                        "experiments.cli.backtest:add_arguments",
                        "experiments.cli.backtest:backtest_command"),
    "generate": Command("write a scale scenario: the baseline grown to N SKUs and M markets "
                        "at a chosen order volume", "experiments.cli.generate:add_arguments",
                        "experiments.cli.generate:generate_command"),
    "export": Command("write every table, plan and summary of a results directory to one "
                      "Excel workbook (DIR/results.xlsx)", "experiments.cli.export:add_arguments",
                      "experiments.cli.export:export_command"),
}
"""Subcommands in the order ``xbsim --help`` lists them."""

BAD_INPUT = {"sim.loader": "ScenarioError", "sim.plan": "PlanFileError",
             "experiments.errors": "ExperimentError", "optimize.solve": "SolveError",
             "sim.integrity": "RunIntegrityError"}
"""The typed errors that mean bad input, by module (see ``_is_bad_input``)."""


def _parser(commands: Iterable[str] | None = None) -> argparse.ArgumentParser:
    """``xbsim``'s parser with the options of ``commands`` (default: every command)."""
    return _parsers(commands)[0]


def _parsers(commands: Iterable[str] | None = None
             ) -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """``xbsim``'s parser and each command's, with the options of ``commands`` only."""
    defined = set(COMMANDS if commands is None else commands)
    parser = argparse.ArgumentParser(prog="xbsim", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, title="commands",
                                metavar="COMMAND")
    parsers = {}
    for name, command in COMMANDS.items():
        parsers[name] = sub.add_parser(name, help=command.help,
                                       description=_sentence(command.help))
        if name in defined:
            _resolve(command.arguments)(parsers[name])
    return parser, parsers


def _version() -> str:
    """The installed package's version (the checkout's, for an editable install)."""
    try:
        return metadata.version("xbsim")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def _sentence(help_text: str) -> str:
    """A help line as a command's description (descriptions are not %-formatted)."""
    return f"{help_text[0].upper()}{help_text[1:]}.".replace("%%", "%")


def _resolve(target: str) -> Callable[..., Any]:
    module, _, function = target.partition(":")
    return getattr(importlib.import_module(module), function)


def _command_word(argv: list[str]) -> str | None:
    """The subcommand named on the command line (``xbsim`` has no option taking a value)."""
    return next((word for word in argv if not word.startswith("-")), None)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    word = _command_word(argv)
    parser, commands = _parsers([word] if word in COMMANDS else [])
    args, extra = parser.parse_known_args(argv)
    if extra:  # argparse would show xbsim's usage for a command's unknown option
        commands[args.command].error(f"unrecognized arguments: {one_line(' '.join(extra))}")
    try:
        check_options(args)
        return _resolve(COMMANDS[args.command].run)(args)
    except KeyboardInterrupt:
        out = getattr(args, "out", None)
        where = (f"; finished cells are kept in {out}, run the same command to resume"
                 if args.command == "sweep" and out else "")
        print(f"interrupted{where}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:  # a read-only or full disk, a file that vanished
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_OS_FAILURE
    except Exception as exc:
        if not _is_bad_input(exc):
            raise
        print(f"error: {one_line(str(exc))}", file=sys.stderr)
        return EXIT_BAD_INPUT


def one_line(text: str) -> str:
    """``text`` on one line, whatever it quotes: a newline becomes a space, any other
    character that would break the line (a vertical tab, a record separator, ``\\u2028``)
    is shown escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1]
                   for c in " ".join(text.split("\n")))


def _is_bad_input(exc: Exception) -> bool:
    """Whether ``exc`` is bad input rather than a bug. The error classes are looked up among
    the modules already imported: one never imported cannot have been raised, and importing
    ``optimize.solve`` only to recognise its error would load the solver stack."""
    if isinstance(exc, CellError):
        return exc.bad_input
    kinds = tuple(getattr(sys.modules[module], name) for module, name in BAD_INPUT.items()
                  if module in sys.modules)
    return isinstance(exc, kinds)


if __name__ == "__main__":
    sys.exit(main())
