"""Prefect flows over the corroborate library: ingest, check, and the served deployments."""
