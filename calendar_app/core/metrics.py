"""The calendar's own Prometheus metrics: what the pipeline, the outgoing webhooks, Scripe's
incoming webhooks and notification email count as they happen.

Counters and histograms only: in prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR,
set by `make run` and the image) each gunicorn worker and django-q2 process writes its own
file and /metrics sums them, so a count stays right across processes and survives a recycled
worker. What is a state rather than an event (queue depth, sync lag) is read from the database
at scrape time instead (calendar_app/pipeline/metrics.py), so no process owns a gauge.

Scripe calls and rate-limit holds are counted in scripe_integration/metrics.py, which never
imports the calendar.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

GENERATIONS = Counter(
    "calendar_generations",
    "Generation attempts that ended, by outcome (ready, scheduled, failed, cancelled).",
    ["outcome"],
)
# From the click that asked for a draft (the attempt's creation) to the draft arriving.
CLICK_TO_DRAFT = Histogram(
    "calendar_generation_click_to_draft_seconds",
    "Seconds from a generate request to its draft arriving in the calendar.",
    buckets=(5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200, 3600),
)
SCRIPE_WEBHOOKS_IN = Counter(
    "calendar_scripe_webhooks_received",
    "Webhook deliveries received from Scripe, by result (accepted, duplicate, refused).",
    ["result"],
)
WEBHOOKS_OUT = Counter(
    "calendar_webhook_deliveries",
    "Outgoing webhook delivery attempts, by outcome (delivered, failed, gone, ...).",
    ["outcome"],
)
EMAILS = Counter(
    "calendar_emails",
    "Notification emails (single and digest), by result (sent, failed).",
    ["kind", "result"],
)
