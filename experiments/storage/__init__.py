"""Storage: what is written to disk. ``manifest`` says what a results directory holds and how
it was made (``provenance``: which code and packages); ``runstore`` writes a run,
``tablestore`` the tables of replications, an evaluation or a comparison, and ``sweepstore``
a sweep, resumably. Every directory appears whole or not at all (``swap``: crash-safe
replacement, ``writelock``: one writer at a time, ``names``: default paths inside ``out/``),
and ``integrity`` finds damage before a report reads it. Storage may import only the
shared vocabulary at the top of ``experiments`` (``errors``, ``kpis``, ``stats``); never
``engine``, ``studies``, ``report`` or ``cli``.
"""
