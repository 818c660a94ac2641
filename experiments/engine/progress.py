"""Progress of a long experiment: a bar on a terminal, plain periodic lines in a log.

On an interactive terminal a rich progress bar shows cells done, elapsed time, ETA and a
short note (the current precision); when the stream is not a terminal (a batch job, ``nohup``,
CI) a plain line is written at most every ``interval`` seconds and once at the end, so logs
stay readable. The library never reports on its own: callers pass a reporter in.

The ETA leaves the warm-up out: the first finished task also paid for starting the worker
pool and shipping the model, so a rate measured from the start would put the first ETA
several times too far. The rate is measured from the first finished task instead, and no
ETA is shown until ``MIN_CELLS_FOR_ETA`` more cells have finished after it.

Work that reports no progress of its own (an optimiser's build and solve, a single run)
gets a ``Stopwatch``: the stage it is in and the time ticking, never a made-up ETA.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.progress import TaskID

LINE_INTERVAL_S = 10.0
MIN_CELLS_FOR_ETA = 3
QUIET_S = 2.0
"""A stage shorter than this leaves no line behind: only slow work is worth a word."""


class Progress:
    """Keeps the phase's state without showing it: the silent reporter, and the state the
    bar and the lines show."""

    silent = True
    """Callers skip computing notes nobody will see."""

    def __init__(self) -> None:
        self.label, self.total, self.done, self.first, self.note = "", 0, 0, 0, ""
        self.started = self.ended = self.updated = time.monotonic()
        self.warm: tuple[float, int] | None = None

    def start(self, label: str, total: int, done: int = 0) -> None:
        """Begin a phase of ``total`` cells of which ``done`` were finished earlier."""
        self.label, self.total, self.done, self.first, self.note = label, total, done, done, ""
        self.started = self.updated = time.monotonic()
        self.warm = None

    def update(self, done: int, total: int | None = None, note: str = "") -> None:
        """``done`` cells finished so far (``total`` may grow, e.g. under a precision target)."""
        self.updated = time.monotonic()
        if self.warm is None and done > self.first:
            self.warm = (self.updated, done)
        self.done, self.note = done, note
        self.total = total if total is not None else self.total

    def close(self, final: bool = True) -> None:
        """End the phase: the bar stays on screen; a last line is written if ``final`` (not
        when the phase failed, so that the error is the last word)."""
        self.ended = time.monotonic()

    @property
    def elapsed(self) -> float:
        """Seconds the phase has run, or ran once closed."""
        running = self.ended < self.started
        return (time.monotonic() if running else self.ended) - self.started

    def eta(self) -> float | None:
        """Seconds still to go at the last update, or None while the rate is unknown."""
        if self.warm is None or not self.done < self.total:
            return None
        since, at = self.warm
        if self.done - at >= MIN_CELLS_FOR_ETA and self.updated > since:
            rate = (self.done - at) / (self.updated - since)
        elif at - self.first >= MIN_CELLS_FOR_ETA and self.updated > self.started:
            rate = (self.done - self.first) / (self.updated - self.started)
        else:
            return None
        return (self.total - self.done) / rate


class LineProgress(Progress):
    """``sweep: 120/400 cells (30 %), 3.2 cells/s, ETA 1m27s, point means ±2.3 %``."""

    silent = False

    def __init__(self, stream: TextIO, interval: float = LINE_INTERVAL_S) -> None:
        super().__init__()
        self.stream, self.interval = stream, interval

    def start(self, label: str, total: int, done: int = 0) -> None:
        super().start(label, total, done)
        self.last = self.started

    def update(self, done: int, total: int | None = None, note: str = "") -> None:
        super().update(done, total, note)
        if time.monotonic() - self.last >= self.interval:
            self._write()

    def close(self, final: bool = True) -> None:
        super().close(final)
        if final:
            self._write()

    def _write(self) -> None:
        self.last = time.monotonic()
        elapsed = self.elapsed
        rate = (self.done - self.first) / elapsed if elapsed > 0 else 0.0
        share = self.done / self.total if self.total else 1.0
        parts = [f"{self.label}: {self.done}/{self.total} cells ({share:.0%})"]
        if self.done > self.first:
            parts.append(f"{rate:.2f} cells/s")
        eta = self.eta()
        if eta is not None:
            parts.append(f"ETA {format_seconds(eta)}")
        elif self.done >= self.total:
            parts.append(f"took {format_seconds(elapsed)}")
        if self.note:
            parts.append(self.note)
        self.stream.write(", ".join(parts) + "\n")
        self.stream.flush()


class BarProgress(Progress):
    """A rich progress bar with our ETA (rich's own trusts the first two tasks' spacing) and
    a note column."""

    silent = False

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._bar = Progress(TextColumn("{task.description}"), BarColumn(bar_width=24),
                             MofNCompleteColumn(), TimeElapsedColumn(),
                             TextColumn("ETA {task.fields[eta]}"),
                             TextColumn("{task.fields[note]}"),
                             console=Console(file=stream), transient=False)
        self._task: TaskID | None = None
        super().__init__()

    def start(self, label: str, total: int, done: int = 0) -> None:
        super().start(label, total, done)
        if self._task is None:
            self._bar.start()
        self._task = self._bar.add_task(label, total=total, completed=done, note="", eta="-")

    def update(self, done: int, total: int | None = None, note: str = "") -> None:
        super().update(done, total, note)
        if self._task is not None:
            eta = self.eta()
            shown = format_seconds(eta) if eta is not None else "-" if done < self.total else "0s"
            self._bar.update(self._task, completed=done, total=total, note=note, eta=shown)

    def close(self, final: bool = True) -> None:
        super().close(final)
        self._bar.stop()
        self._task = None


def for_stream(stream: TextIO | None = None) -> Progress:
    """A bar if ``stream`` (default stderr) is an interactive terminal, else plain lines."""
    stream = stream or sys.stderr
    return BarProgress(stream) if stream.isatty() else LineProgress(stream)


class Stopwatch:
    """The stage a long step is in and its elapsed time, for work that cannot count its own
    progress (HiGHS gives no useful ETA for a MIP; a single run has no cells).

    On a terminal the stage and the clock tick on one line that is replaced by
    ``stage: 42s`` once the stage ends, if it took at least ``QUIET_S``; in a log a line
    every ``interval`` seconds and one at the end, if any was written before. Quick stages
    leave nothing, so a command that errors out still has its error as the only line.
    """

    def __init__(self, stream: TextIO | None = None, interval: float = LINE_INTERVAL_S) -> None:
        self.stream = stream or sys.stderr
        self.interval = interval

    @contextmanager
    def stage(self, label: str) -> Iterator[None]:
        """Show ``label`` and the time ticking while the block runs."""
        started = time.monotonic()
        with self._terminal(label) if self.stream.isatty() else self._log(label, started):
            yield

    @contextmanager
    def _terminal(self, label: str) -> Iterator[None]:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        bar = Progress(SpinnerColumn(), TextColumn(label), TimeElapsedColumn(),
                       console=Console(file=self.stream), transient=True)
        with bar:
            task = bar.add_task(label, total=None)
            try:
                yield
            finally:
                took = bar.tasks[task].elapsed or 0.0
        if took >= QUIET_S:
            self._line(f"{label}: {format_seconds(took)}")

    @contextmanager
    def _log(self, label: str, started: float) -> Iterator[None]:
        stop = threading.Event()
        written = threading.Event()

        def tick() -> None:
            while not stop.wait(self.interval):
                self._line(f"{label}: {format_seconds(time.monotonic() - started)} so far")
                written.set()

        ticker = threading.Thread(target=tick, daemon=True)
        ticker.start()
        try:
            yield
        finally:
            stop.set()
            ticker.join()
        if written.is_set():
            self._line(f"{label}: took {format_seconds(time.monotonic() - started)}")

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


def format_seconds(seconds: float) -> str:
    """``42s``, ``3m07s``, ``2h05m``."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
