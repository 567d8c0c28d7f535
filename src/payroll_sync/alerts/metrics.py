"""The alerts' Prometheus metrics, in the default registry (the scheduler process serves it at
`/metrics`). Label values are integration ids, condition names and a few fixed results: no
personal data."""

from __future__ import annotations

from typing import Final

from prometheus_client import Counter, Gauge

ALERT_OPEN: Final = Gauge(
    "payroll_sync_alert_open",
    "1 while an incident of this integration and condition is open, else 0.",
    ["integration", "condition"],
)
WEBHOOK_DELIVERIES: Final = Counter(
    "payroll_sync_alert_webhook_deliveries",
    "Webhook calls for incidents, by result: sent (2xx), failed (tried again next pass), "
    "no_webhook (none configured: dropped).",
    ["result"],
)
