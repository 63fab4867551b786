"""Routing, fallbacks, cost estimates, bench runs and model versions."""
