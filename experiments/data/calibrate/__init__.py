"""Fit a scenario to a seller's history: demand, ads, lead times, returns."""
