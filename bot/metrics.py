"""Prometheus metrics of the bot (served at ``GET /metrics``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

UPDATES = Counter(
    "minha_central_updates_total", "Updates handled, by kind.", ["kind"], registry=REGISTRY
)
UPDATE_SECONDS = Histogram(
    "minha_central_update_seconds",
    "Time to handle one update.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
BACKEND_CALLS = Counter(
    "minha_central_backend_calls_total",
    "Calls to the provider's system, by operation and outcome.",
    ["operation", "outcome"],
    registry=REGISTRY,
)
BACKEND_SECONDS = Histogram(
    "minha_central_backend_seconds",
    "Duration of calls to the provider's system, by operation.",
    ["operation"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
NOTIFICATIONS = Counter(
    "minha_central_notifications_total",
    "Notifications delivered, by outcome (sent, failed, blocked, deferred, uncertain).",
    ["outcome"],
    registry=REGISTRY,
)
BROADCAST_MESSAGES = Counter(
    "minha_central_broadcast_messages_total",
    "Broadcast messages, by outcome.",
    ["outcome"],
    registry=REGISTRY,
)


def backend_call(operation: str, seconds: float, error: Exception | None) -> None:
    """Hook for GuardedBackend: count and time every backend operation."""
    outcome = "ok" if error is None else type(error).__name__
    BACKEND_CALLS.labels(operation, outcome).inc()
    BACKEND_SECONDS.labels(operation).observe(seconds)


def exposition() -> bytes:
    return generate_latest(REGISTRY)
