"""The ``xbsim`` command: ``main`` (the parser and the errors), ``arguments`` (the options,
light to import), ``commands`` and one module per data or optimiser command (what runs). Only
here do typed exceptions become one line on stderr and an exit code, and only here are
results printed. The CLI may import every other layer: the shared vocabulary and ``api``,
``engine``, ``storage``, ``studies`` and ``report``.
"""
