"""The closing table every benchmark prints: figure, measured value, target, PASS/MISS."""

from __future__ import annotations

import os
import time


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def print_summary(title: str, rows: list[tuple[str, str, str, str]], began: float) -> None:
    """Print ``rows`` of (figure, value, target, verdict) and the benchmark's wall time."""
    print(f"\n== summary ({title})")
    width = max(len(r[0]) for r in rows)
    value_width = max(10, *(len(r[1]) for r in rows))
    print(f"{'figure':<{width}}  {'value':>{value_width}}  {'target':>8}  result")
    for name, value, target, result_text in rows:
        print(f"{name:<{width}}  {value:>{value_width}}  {target:>8}  {result_text}")
    print(f"loadavg now {tuple(round(x, 2) for x in os.getloadavg())}; "
          f"benchmark took {time.perf_counter() - began:.0f} s")
