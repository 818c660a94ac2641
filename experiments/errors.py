"""What can go wrong in an experiment, as typed exceptions the CLI turns into one line.

``ExperimentError`` and its subclasses are bad input (exit code 2): a sweep file that does
not validate, a design that cannot be drawn, a results directory that holds something else,
a scheduler that cannot be reached. ``CellError`` says which design point, replication and
seed failed; its cause is the model's own exception.
"""

from __future__ import annotations

from pathlib import Path


class ExperimentError(Exception):
    """Bad experiment input; ``str()`` is the one line a user sees."""


class SweepFileError(ExperimentError):
    """A sweep file that cannot be used: names the file, the dotted path and the reason."""

    def __init__(self, file: str | Path, path: str, reason: str) -> None:
        self.file, self.path, self.reason = str(file), path, reason
        super().__init__(f"{self.file}: {path or '(top level)'}: {reason}")


class DesignError(ExperimentError):
    """A design that cannot be drawn; ``parameter`` names the culprit when there is one."""

    def __init__(self, reason: str, parameter: str | None = None) -> None:
        self.reason, self.parameter = reason, parameter
        super().__init__(f"{parameter}: {reason}" if parameter else reason)


class StoreError(ExperimentError):
    """A results directory that cannot be used (other content, another sweep, in use)."""


class BackendError(ExperimentError):
    """A backend that cannot be started or reached, or whose workers run other code."""


class CellError(Exception):
    """One model call failed; ``__cause__`` is the model's exception."""

    def __init__(self, point: int, replication: int, seed: int, params: dict, reason: str,
                 bad_input: bool) -> None:
        self.point, self.replication, self.seed = point, replication, seed
        self.params, self.reason, self.bad_input = params, reason, bad_input
        where = ", ".join(f"{k}={v!r}" for k, v in params.items())
        super().__init__(f"point {point}{f' ({where})' if where else ''}, replication "
                         f"{replication} (seed {seed}): {reason}")

    def __reduce__(self):
        return (CellError, (self.point, self.replication, self.seed, self.params, self.reason,
                            self.bad_input))
