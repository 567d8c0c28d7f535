"""Prometheus metrics: what is counted (`definitions`), how answers are classed (`classes`),
how an aiohttp app shows them (`exposition`) and how the worker processes export theirs
(`worker`). Label values are ids, kinds, outcomes and classes only, never personal data."""
