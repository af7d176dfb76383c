"""Thin adapters over `devolve.services`: the CLI, reports (and later the API and web app)."""
