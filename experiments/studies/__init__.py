"""Studies: the questions users ask of the simulation. ``replications`` of one scenario,
``comparison`` of scenarios on common random numbers, ``evaluate`` (a plan against the
simulation), ``sweep`` over a design (``sweepfile``, ``designs``) with its ``sensitivity``,
and ``policy_comparison`` (ways of running logistics, head to head). Studies may import the
shared vocabulary at the top of ``experiments``, ``engine`` and ``storage``; never ``report``
or ``cli``, which read what studies return.
"""
