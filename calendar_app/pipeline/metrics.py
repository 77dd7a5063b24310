"""The pipeline's state for /metrics, read from the database at scrape time: the generation
queue (attempts in flight, due, the oldest due one's wait) and each workspace's sync lag.

A state is read, not counted, so it is the same whichever process serves the scrape and
needs no gauge files shared between processes. Two queries per scrape, however many
attempts and workspaces there are.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, Min, Q
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from calendar_app.models import GenerationJob, Project


class PipelineCollector(Collector):
    """A prometheus_client collector; register it on the registry a scrape renders."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = timezone.now()
        queue = GenerationJob.objects.filter(finished=False).aggregate(
            in_flight=Count("pk"),
            due=Count("pk", filter=Q(next_poll_at__lte=now)),
            oldest_due=Min("next_poll_at", filter=Q(next_poll_at__lte=now)),
        )
        yield GaugeMetricFamily(
            "calendar_generation_attempts_in_flight",
            "Generation attempts not finished yet (waiting, with Scripe, or due).",
            value=queue["in_flight"],
        )
        yield GaugeMetricFamily(
            "calendar_generation_attempts_due",
            "Generation attempts whose next step is due now: the queue a worker should take.",
            value=queue["due"],
        )
        oldest = queue["oldest_due"]
        yield GaugeMetricFamily(
            "calendar_generation_oldest_due_seconds",
            "How long the longest-waiting due attempt has waited past its due time (0: none).",
            value=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        )
        lag = GaugeMetricFamily(
            "calendar_sync_lag_seconds",
            "Per workspace: seconds since its least recently synced project's posts were read "
            "back from Scripe.",
            labels=["workspace"],
        )
        rows = (
            Project.objects.filter(missing_from_scripe=False, posts_synced_at__isnull=False)
            .values("workspace__public_id")
            .annotate(oldest=Min("posts_synced_at"))
            .order_by()
        )
        for row in rows:
            seconds = max(0.0, (now - row["oldest"]).total_seconds())
            lag.add_metric([str(row["workspace__public_id"])], seconds)
        yield lag
