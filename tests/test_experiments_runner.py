"""Failures are reported deterministically: the lowest (point, replication) that failed, not
whichever task a worker happened to finish first."""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pytest

from experiments.engine.backends import Backend
from experiments.engine.runner import Cell, TaskResult, run_cells, run_task
from experiments.errors import CellError


class LastFirst(Backend):
    """A serial backend whose tasks finish in the reverse of the order they were given."""

    workers = 2

    def __init__(self) -> None:
        self.order: list[cf.Future] = []

    def submit(self, fn: Callable, *args: Any) -> cf.Future:
        future = super().submit(fn, *args)
        self.order.append(future)
        return future

    def wait_first(self, futures: Iterable[Any]) -> list[Any]:
        waiting = set(futures)
        return [next(f for f in reversed(self.order) if f in waiting)]


def fails_above_one(params: Mapping[str, Any], seed: int) -> dict[str, float]:
    if params["x"] > 1:
        raise ValueError(f"x = {params['x']} is too large")
    return {"y": params["x"]}


def cells(*points: int) -> list[Cell]:
    return [Cell(p, 0, 100 + p, (("x", p),)) for p in points]


def test_the_lowest_failing_cell_is_reported_when_a_higher_one_finishes_first():
    finished: list[TaskResult] = []
    with pytest.raises(CellError, match=r"^point 2 \(x=2\), replication 0 \(seed 102\): "
                                        r"ValueError: x = 2 is too large$") as info:
        run_cells(LastFirst(), fails_above_one, cells(0, 2, 3), finished.append)
    assert not info.value.bad_input
    assert isinstance(info.value.__cause__, ValueError)
    # Point 3 failed first; point 0, already started, still reached the caller.
    assert [c.point for r in finished for c in r.cells] == [0]


def test_within_a_task_the_lowest_failing_cell_is_reported_whatever_its_place():
    task = [Cell(3, 0, 7, (("x", 3),)), Cell(2, 1, 8, (("x", 2),)), Cell(2, 0, 9, (("x", 2),))]
    with pytest.raises(CellError, match=r"^point 2 \(x=2\), replication 0 \(seed 9\)"):
        run_task([fails_above_one], task)


def test_no_task_starts_after_a_failure():
    started: list[int] = []

    def model(params: Mapping[str, Any], seed: int) -> dict[str, float]:
        started.append(params["x"])
        return fails_above_one(params, seed)

    with pytest.raises(CellError, match="point 2"):
        run_cells(Backend(), model, cells(2, 0, 1, 3, 4, 5), lambda result: None)
    assert started == [2, 0]  # the first two tasks (two per worker) were in flight
