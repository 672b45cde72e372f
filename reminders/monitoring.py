"""What an operator watches of the outbox: how much is due, how late it is, how it ends.

One query reads the figures; ``/health/`` shows them with a "degraded" mark when the oldest due,
unsent reminder has waited longer than ``REMINDER_LAG_DEGRADED_SECONDS``, and ``/metrics/``
exports them for Prometheus. docs/deploy.md says what each one means and when to be alarmed.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Min, Q, Sum
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector

from reminders.models import Reminder

Status = Reminder.Status


@dataclass(frozen=True)
class OutboxFigures:
    due: int  # due now and not sent: pending past their time, or claimed (being sent)
    lag_seconds: float  # how long the oldest of them has waited (0 when none)
    claimed: int
    lease_expired: int  # claimed rows whose lease ran out: their worker or broker message was lost
    sent: int
    failed: int
    reclaims: int  # leases that ran out and were claimed again, ever


def outbox_figures(now: dt.datetime | None = None) -> OutboxFigures:
    now = now or timezone.now()
    leased = Q(status__in=Reminder.LEASED_STATUSES)
    waiting = Q(status=Status.PENDING, due_at__lte=now) | leased
    row = Reminder.objects.aggregate(
        due=Count("id", filter=waiting),
        oldest=Min("due_at", filter=waiting),
        claimed=Count("id", filter=leased),
        lease_expired=Count("id", filter=leased & Q(lease_until__lt=now)),
        sent=Count("id", filter=Q(status=Status.SENT)),
        failed=Count("id", filter=Q(status=Status.FAILED)),
        reclaims=Sum("lease_expiries"),
    )
    oldest = row["oldest"]
    return OutboxFigures(
        due=row["due"],
        lag_seconds=max((now - oldest).total_seconds(), 0.0) if oldest else 0.0,
        claimed=row["claimed"],
        lease_expired=row["lease_expired"],
        sent=row["sent"],
        failed=row["failed"],
        reclaims=row["reclaims"] or 0,
    )


def outbox_health() -> dict[str, object]:
    """The outbox's part of /health/."""
    figures = outbox_figures()
    return {
        "ok": True,
        "degraded": figures.lag_seconds > settings.REMINDER_LAG_DEGRADED_SECONDS,
        "due": figures.due,
        "lag_seconds": round(figures.lag_seconds, 1),
        "lease_expired": figures.lease_expired,
        "threshold_seconds": settings.REMINDER_LAG_DEGRADED_SECONDS,
    }


# name, kind, help, the figure it reads
_METRICS = (
    ("ketaminecare_reminders_due", "gauge", "Reminders due now and not yet sent.", "due"),
    (
        "ketaminecare_reminder_outbox_lag_seconds",
        "gauge",
        "How long the oldest due, unsent reminder has waited.",
        "lag_seconds",
    ),
    ("ketaminecare_reminders_claimed", "gauge", "Reminders claimed by a batch and being sent.", "claimed"),
    (
        "ketaminecare_reminders_lease_expired",
        "gauge",
        "Claimed reminders whose lease ran out (their worker or broker message was lost).",
        "lease_expired",
    ),
    ("ketaminecare_reminders_sent", "counter", "Reminders sent.", "sent"),
    ("ketaminecare_reminders_failed", "counter", "Reminders that failed for good.", "failed"),
    (
        "ketaminecare_reminder_reclaims",
        "counter",
        "Times a claimed reminder's lease ran out and the sweep claimed it again.",
        "reclaims",
    ),
)


class OutboxCollector(Collector):
    """The outbox's figures, read from the database at each scrape (every process sees the same)."""

    def describe(self) -> Iterator[Metric]:
        """The metrics' names without reading them (the registry asks when it is registered)."""
        return self._families(None)

    def collect(self) -> Iterator[Metric]:
        return self._families(outbox_figures())

    def _families(self, figures: OutboxFigures | None) -> Iterator[Metric]:
        for name, kind, documentation, attribute in _METRICS:
            family = GaugeMetricFamily if kind == "gauge" else CounterMetricFamily
            if figures is None:
                yield family(name, documentation)
            else:
                yield family(name, documentation, value=getattr(figures, attribute))


@functools.cache
def register_collector() -> None:
    """Register the collector with the process's registry, once (ready() may run again in tests)."""
    REGISTRY.register(OutboxCollector())
