"""A seller's own data: the template, importers, calibration, backtests, state and export.

Data flows one way: files -> canonical tables (``tables``) -> a fitted scenario -> the
simulation and the optimisers. ``sim`` stays free of file formats and fitting.
"""
