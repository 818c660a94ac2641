"""Experimental designs: which parameter values each design point gets.

A parameter is a dotted path into the scenario with either a list of ``values`` or a range
``low .. high`` (optionally ``log`` scaled, or rounded to ``integer``). Every design is drawn
in the unit hypercube and then mapped onto the parameters, so one mapping serves all of them:
a range maps u to low + u (high - low) (or geometrically), a list of values maps u to the
value whose equal-width slot of [0, 1) holds u.

* ``grid``: every combination of each parameter's values (a range needs ``levels``);
  the first parameter varies slowest.
* ``lhs``: Latin hypercube of ``samples`` points: each parameter's range is cut into
  ``samples`` equal strata and each stratum holds exactly one point (scipy's ``qmc``).
* ``sobol``: Saltelli's extension of a scrambled Sobol' sequence (SALib), ``samples`` = N base
  points, N (k + 2) model points for k parameters, N (2k + 2) with second-order indices.
* ``morris``: ``samples`` = r one-at-a-time trajectories over a ``levels``-level grid
  (SALib), r (k + 1) points.

Draws are seeded, so the same design file gives the same points on any machine. A design
of more than ``MAX_POINTS`` points is refused before it is drawn (its size follows from the
counts above), so a typo such as ``samples: 1099511627776`` is one line, not a full memory.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import qmc

from experiments.errors import DesignError

KINDS = ("grid", "lhs", "sobol", "morris")
MAX_POINTS = 1_000_000
"""The most design points a design may have (a million model calls per replication)."""


@dataclass(frozen=True)
class Parameter:
    """One swept scenario field: ``values``, or ``low``..``high`` (``levels`` for a grid)."""

    name: str
    values: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    levels: int | None = None
    integer: bool = False
    log: bool = False

    def __post_init__(self) -> None:
        if self.values is not None:
            if not self.values:
                raise DesignError("values must not be empty", self.name)
            if self.low is not None or self.high is not None or self.levels is not None:
                raise DesignError("give either values or low/high, not both", self.name)
            return
        if self.low is None or self.high is None:
            raise DesignError("give values, or both low and high", self.name)
        if not self.low < self.high:
            raise DesignError(f"low ({self.low}) must be below high ({self.high})", self.name)
        if self.log and self.low <= 0:
            raise DesignError(f"a log range needs low > 0 (got {self.low})", self.name)
        if self.levels is not None and self.levels < 2:
            raise DesignError(f"levels must be >= 2 (got {self.levels})", self.name)

    def grid_values(self) -> tuple[Any, ...]:
        if self.values is not None:
            return self.values
        if self.levels is None:
            raise DesignError("a grid over a range needs levels", self.name)
        return tuple(self.scale(np.linspace(0.0, 1.0, self.levels)))

    def scale(self, u: np.ndarray) -> list[Any]:
        """Map unit-interval draws onto this parameter's values."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        if self.values is not None:
            slots = np.minimum((u * len(self.values)).astype(int), len(self.values) - 1)
            return [self.values[i] for i in slots]
        low, high = self.low, self.high
        assert low is not None and high is not None  # checked when the parameter was made
        if self.log:
            x = np.exp(np.log(low) + u * (np.log(high) - np.log(low)))
        else:
            x = low + u * (high - low)
        if self.integer:
            return [int(v) for v in np.rint(x)]
        return [float(v) for v in x]

    def bounds(self) -> tuple[Any, ...]:
        """The extreme values, to check against the scenario schema before a sweep starts."""
        return self.values if self.values is not None else tuple(self.scale(np.array([0., 1.])))


@dataclass(frozen=True)
class Design:
    """The design points (one row each, one column per parameter) and the unit sample that
    produced them (what Sobol and Morris analyses need)."""

    kind: str
    parameters: tuple[Parameter, ...]
    points: pd.DataFrame
    unit: np.ndarray
    samples: int | None = None
    levels: int = 4
    second_order: bool = False

    def __len__(self) -> int:
        return len(self.points)

    def salib_problem(self) -> dict[str, Any]:
        """SALib's problem over the unit hypercube the design was drawn in."""
        k = len(self.parameters)
        return {"num_vars": k, "names": [p.name for p in self.parameters],
                "bounds": [[0.0, 1.0]] * k}

    def point_params(self) -> list[tuple[tuple[str, Any], ...]]:
        """Each point's ``(name, value)`` pairs with plain Python values, in design order."""
        return [tuple(row.items()) for row in self.points.to_dict(orient="records")]


def make_design(kind: str, parameters: Sequence[Parameter], samples: int | None = None,
                seed: int = 0, levels: int = 4, second_order: bool = False) -> Design:
    """Draw the design; ``samples`` is the point count (lhs), base N (sobol) or r (morris)."""
    parameters = tuple(parameters)
    if kind not in KINDS:
        raise DesignError(f"unknown design {kind!r}; choose one of {', '.join(KINDS)}")
    if not parameters:
        raise DesignError("a design needs at least one parameter")
    names = [p.name for p in parameters]
    if len(set(names)) != len(names):
        raise DesignError(f"parameter named twice: {', '.join(sorted(_twice(names)))}")
    if kind != "grid" and (samples is None or samples < 1):
        raise DesignError(f"a {kind} design needs samples >= 1")
    size = design_size(kind, parameters, samples, second_order)
    if size > MAX_POINTS:
        raise DesignError(f"the design has {size:,} points, more than the {MAX_POINTS:,} "
                          "a sweep may run")
    if kind == "grid":
        unit = _grid_unit(parameters)
    else:
        assert samples is not None  # checked above
        unit = _DRAW[kind](len(parameters), samples, seed, levels, second_order)
    points = pd.DataFrame({p.name: pd.Series(p.scale(unit[:, j]), dtype=_dtype(p))
                           for j, p in enumerate(parameters)})
    return Design(kind, parameters, points, unit, samples, levels, second_order)


def design_size(kind: str, parameters: Sequence[Parameter], samples: int | None,
                second_order: bool = False) -> int:
    """The number of points a design will have, counted without drawing it."""
    k = len(parameters)
    if kind == "grid":
        return math.prod(len(p.values) if p.values is not None else _levels(p)
                         for p in parameters)
    n = samples or 0
    if kind == "sobol":
        return n * (2 * k + 2 if second_order else k + 2)
    return n * (k + 1) if kind == "morris" else n


def _levels(p: Parameter) -> int:
    if p.levels is None:
        raise DesignError("a grid over a range needs levels", p.name)
    return p.levels


def _grid_unit(parameters: Sequence[Parameter]) -> np.ndarray:
    """The grid in unit coordinates: slot centres of value lists, evenly spaced range levels."""
    axes = []
    for p in parameters:
        n = len(p.grid_values())
        axes.append((np.arange(n) + 0.5) / n if p.values is not None else np.linspace(0, 1, n))
    return np.array(list(itertools.product(*axes)), dtype=float)


def _lhs(k: int, n: int, seed: int, levels: int, second_order: bool) -> np.ndarray:
    return qmc.LatinHypercube(d=k, seed=np.random.default_rng(seed)).random(n)


def _sobol(k: int, n: int, seed: int, levels: int, second_order: bool) -> np.ndarray:
    from SALib.sample import sobol

    if second_order and k < 2:
        raise DesignError("second-order indices need at least two parameters")
    if n & (n - 1):
        raise DesignError(f"a sobol design needs samples = a power of two (got {n}; "
                          f"try {2 ** round(math.log2(n))})")
    problem = {"num_vars": k, "names": [f"x{j}" for j in range(k)], "bounds": [[0., 1.]] * k}
    return sobol.sample(problem, n, calc_second_order=second_order, seed=seed)


def _morris(k: int, n: int, seed: int, levels: int, second_order: bool) -> np.ndarray:
    from SALib.sample import morris

    if levels < 2 or levels % 2:
        raise DesignError(f"a morris design needs an even number of levels >= 2 (got {levels})")
    problem = {"num_vars": k, "names": [f"x{j}" for j in range(k)], "bounds": [[0., 1.]] * k}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return morris.sample(problem, n, num_levels=levels, seed=seed)


_DRAW = {"lhs": _lhs, "sobol": _sobol, "morris": _morris}


def _dtype(p: Parameter) -> str:
    """The column type of a parameter, fixed by the design so that results never vary in it."""
    if p.values is None:
        return "int64" if p.integer else "float64"
    if all(isinstance(v, bool) for v in p.values):
        return "bool"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in p.values):
        return "int64"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in p.values):
        return "float64"
    if all(isinstance(v, str) for v in p.values):
        return "object"
    raise DesignError("values must be all numbers, all strings or all booleans", p.name)


def _twice(names: Sequence[str]) -> set[str]:
    return {n for n in names if names.count(n) > 1}
