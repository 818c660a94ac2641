"""Reports: what people read. The terminal's text (``text``, ``tables``) and one
self-contained HTML page for any xbsim result directory: ``write_report(DIR)``, built from the
same text tables, so the page and the terminal never disagree. The report may import the
shared vocabulary at the top of ``experiments``, ``storage`` (manifests) and ``studies`` (the
results it prints); never ``engine`` or ``cli``.

The page (``DIR/report.html``) embeds its figures as base64 PNG and its CSS inline, so it
can be mailed or archived alone; the same figures are also written to ``DIR/figures/``.
What the page shows depends on what the directory holds (``detect``): a run, replications,
a plan's evaluation, a comparison, a sweep, or an optimiser's plan. Each section appears only
where its data exists.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from experiments.report.detect import ReportError, detect
from experiments.report.html import Figure, render_page
from sim.atomic import atomic_write

__all__ = ["ReportError", "write_report"]

PAGES = {"run": "sections_run:page", "replications": "sections_experiments:replications_page",
         "evaluation": "sections_experiments:evaluation_page",
         "compare": "sections_experiments:compare_page",
         "sweep": "sections_experiments:sweep_page", "tune": "sections_tune:page",
         "frontier": "sections_optimize:page", "ads": "sections_optimize:page",
         "channels": "sections_optimize:page", "peak": "sections_optimize:page"}
"""The function that builds each kind of page, as ``module:function`` in this package: only
the kind written is imported, so a run's page never loads the optimisers' or the studies'
figures, and importing ``experiments.report.tables`` for the terminal loads no page."""


def write_report(directory: str | Path) -> Path:
    """Write ``report.html`` and ``figures/*.png`` into ``directory``; returns the page's path.

    Raises ``ReportError`` ("DIR: reason") when the directory holds no xbsim result.
    """
    result = detect(Path(directory))
    figures = result.directory / "figures"
    module, _, function = PAGES[result.kind].partition(":")
    page = getattr(importlib.import_module(f"{__name__}.{module}"), function)(result, figures)
    text = render_page(page)
    path = result.directory / "report.html"
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    drawn = {item.path.name for section in page.sections for item in section.content
             if isinstance(item, Figure)}
    for stale in figures.glob("*.png"):
        if stale.name not in drawn:
            stale.unlink()
    return path
