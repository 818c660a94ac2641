"""Progress of a long experiment: a bar on a terminal, plain periodic lines in a log.

On an interactive terminal a rich progress bar shows cells done, elapsed time, ETA and a
short note (the current precision); when the stream is not a terminal (a batch job, ``nohup``,
CI) a plain line is written at most every ``interval`` seconds and once at the end, so logs
stay readable. The library never reports on its own: callers pass a reporter in.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.progress import TaskID

LINE_INTERVAL_S = 10.0


class Progress:
    """Keeps the phase's state without showing it: the silent reporter, and the state the
    bar and the lines show."""

    silent = True
    """Callers skip computing notes nobody will see."""

    def __init__(self) -> None:
        self.label, self.total, self.done, self.first, self.note = "", 0, 0, 0, ""
        self.started = self.ended = time.monotonic()

    def start(self, label: str, total: int, done: int = 0) -> None:
        """Begin a phase of ``total`` cells of which ``done`` were finished earlier."""
        self.label, self.total, self.done, self.first, self.note = label, total, done, done, ""
        self.started = time.monotonic()

    def update(self, done: int, total: int | None = None, note: str = "") -> None:
        """``done`` cells finished so far (``total`` may grow, e.g. under a precision target)."""
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


class LineProgress(Progress):
    """``sweep: 120/400 cells (30 %), 3.2 cells/s, ETA 1m27s, median +-2.3 %``."""

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
        if 0 < self.done < self.total and rate > 0:
            parts.append(f"ETA {format_seconds((self.total - self.done) / rate)}")
        elif self.done >= self.total:
            parts.append(f"took {format_seconds(elapsed)}")
        if self.note:
            parts.append(self.note)
        self.stream.write(", ".join(parts) + "\n")
        self.stream.flush()


class BarProgress(Progress):
    """A rich progress bar with ETA and a note column."""

    silent = False

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._bar = Progress(TextColumn("{task.description}"), BarColumn(bar_width=24),
                             MofNCompleteColumn(),
                             TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                             TextColumn("{task.fields[note]}"),
                             console=Console(file=stream), transient=False)
        self._task: TaskID | None = None
        super().__init__()

    def start(self, label: str, total: int, done: int = 0) -> None:
        super().start(label, total, done)
        if self._task is None:
            self._bar.start()
        self._task = self._bar.add_task(label, total=total, completed=done, note="")

    def update(self, done: int, total: int | None = None, note: str = "") -> None:
        super().update(done, total, note)
        if self._task is not None:
            self._bar.update(self._task, completed=done, total=total, note=note)

    def close(self, final: bool = True) -> None:
        super().close(final)
        self._bar.stop()
        self._task = None


def for_stream(stream: TextIO | None = None) -> Progress:
    """A bar if ``stream`` (default stderr) is an interactive terminal, else plain lines."""
    stream = stream or sys.stderr
    return BarProgress(stream) if stream.isatty() else LineProgress(stream)


def format_seconds(seconds: float) -> str:
    """``42s``, ``3m07s``, ``2h05m``."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
