"""The engine: how cells run. A scenario becomes a picklable model (``models``, with its
re-planning solver from ``replanning``), replications get their seeds (``seeds``), and the
runner sends (model, parameters, seed) cells in timed batches to a backend (``runner``,
``backends``) while ``progress`` shows how far it got. The engine may import the shared
vocabulary at the top of ``experiments`` (``errors``, ``kpis``, ``stats``) and ``storage``
(only ``storage.provenance``, to check that every worker runs the driver's code); never
``studies``, ``report`` or ``cli``.
"""
