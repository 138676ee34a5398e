"""Reproducible benchmarks of the title registry (gas against TradeTrust, plots, results tables)."""
