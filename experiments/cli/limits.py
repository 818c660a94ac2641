"""What every command's numbers and input paths may be, checked before any work starts.

argparse checks types; these are the ranges the commands can run within (a seed numpy and
optuna accept, replications a machine can hold, a time limit HiGHS can use) and the input
paths that can be read as files. A value outside is one ``error:`` line and exit code 2,
given before a scenario loads, a pool starts or a solver runs. The bounds are spelled out
here, light, so that checking them loads nothing.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from pathlib import Path

from experiments.errors import ExperimentError

MAX_SEED = 2**32 - 1
"""Root seeds also seed optuna's sampler, which takes 32-bit seeds."""
MAX_REPLICATIONS = 10_000
"""Replications of one command (per scenario, per trial, per evaluation): intervals thirty
times narrower than ten replications give; 10,000 baseline years are hours of a machine."""
MAX_TRIALS = 10_000
"""Tune trials (and trials asked together)."""
MAX_POINTS = 100
"""Frontier points: each is a solve (seconds on the tiny scenario, minutes on large ones)."""
MAX_TIME_LIMIT_S = 86_400
"""Seconds per solve: a day."""


@dataclass(frozen=True)
class Bound:
    """``flag`` must lie in ``low .. high``; an ``open`` end excludes its value."""

    flag: str
    low: int | float
    high: int | float
    open_low: bool = False
    open_high: bool = False

    def check(self, value: float) -> None:
        above = value > self.low if self.open_low else value >= self.low
        below = value < self.high if self.open_high else value <= self.high
        if not (math.isfinite(value) and above and below):
            raise ExperimentError(
                f"{self.flag} must be {'>' if self.open_low else '>='} {_text(self.low)} and "
                f"{'<' if self.open_high else '<='} {_text(self.high)} (got {_text(value)})")


BOUNDS = {
    "seed": Bound("--seed", 0, MAX_SEED),
    "replications": Bound("--replications", 1, MAX_REPLICATIONS),
    "max_replications": Bound("--max-replications", 1, MAX_REPLICATIONS),
    "evaluate": Bound("--evaluate", 1, MAX_REPLICATIONS),
    "precision": Bound("--precision", 1e-6, 1, open_high=True),
    "batch_seconds": Bound("--batch-seconds", 0, 3600, open_low=True),
    "budget": Bound("--budget", 1, MAX_TRIALS),
    "batch_trials": Bound("--batch-trials", 1, MAX_TRIALS),
    "time_limit": Bound("--time-limit", 0, MAX_TIME_LIMIT_S, open_low=True),
    "mip_gap": Bound("--mip-gap", 0, 1, open_high=True),
    "points": Bound("--points", 2, MAX_POINTS),
    "within_days": Bound("--within-days", 0, 3650, open_low=True),
}
"""By option destination; an option a command does not have, or left unset, is skipped.
``--workers`` and ``--address`` are checked by ``engine.backends.open_backend``, and
``--days`` against the scenario's horizon once it is loaded, before any cell runs."""
INPUT_FILES = ("scenario", "scenarios", "plan", "state", "sweep", "first", "second", "sources",
               "extends")
"""Options naming files to read: a directory or a device there is refused (a missing file
is left to the reader, which says what it expected)."""


def check_options(args: argparse.Namespace) -> None:
    """``ExperimentError`` (one line) for the first option out of its bounds or input path
    that is not a file."""
    for dest, bound in BOUNDS.items():
        value = getattr(args, dest, None)
        if value is not None:
            bound.check(value)
    for dest in INPUT_FILES:
        value = getattr(args, dest, None)
        for path in value if isinstance(value, list) else [value]:
            if isinstance(path, Path):
                check_input_file(path)


def allowed(dest: str) -> str:
    """The range of option ``dest`` for its help: ``1 to 10000``, ``> 0 and <= 86400``."""
    bound = BOUNDS[dest]
    if not (bound.open_low or bound.open_high):
        return f"{_text(bound.low)} to {_text(bound.high)}"
    return (f"{'>' if bound.open_low else '>='} {_text(bound.low)} and "
            f"{'<' if bound.open_high else '<='} {_text(bound.high)}")


def _text(number: float) -> str:
    return f"{number:g}" if isinstance(number, float) else str(number)


def check_input_file(path: Path) -> None:
    if path.exists() and not path.is_file():
        what = "a directory" if path.is_dir() else "not a regular file"
        raise ExperimentError(f"{path} is {what}; give a file")
