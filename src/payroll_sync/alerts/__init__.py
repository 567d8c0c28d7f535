"""Alerts per integration: conditions (rules.py), incidents kept once in Redis (store.py), a
webhook call per opening and per recovery (webhook.py), a gauge (metrics.py), and the loop the
scheduler process runs (loop.py). docs/alerts.md says what an operator sees."""
