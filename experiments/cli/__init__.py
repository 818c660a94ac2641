"""The ``xbsim`` command (``main``; ``optimize`` for ``xbsim optimize``). Only here do typed
exceptions become one line on stderr and an exit code, and only here are results printed. The
CLI may import every other layer: the shared vocabulary and ``api``, ``engine``, ``storage``,
``studies`` and ``report``.
"""
