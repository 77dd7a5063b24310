"""/metrics for Prometheus: django-prometheus's request and database metrics, the app's own
counters (calendar_app/core/metrics.py, scripe_integration/metrics.py) and the pipeline's
state read at scrape time (calendar_app/pipeline/metrics.py).

Served only to a scraper with the token: `Authorization: Bearer <METRICS_TOKEN>`. Without a
METRICS_TOKEN setting the address does not exist (404); a missing or wrong token gets 401.
With PROMETHEUS_MULTIPROC_DIR set, the counts of every process that writes there (gunicorn
workers, django-q2 workers) are summed, so any web process answers for all of them.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)

from calendar_app.pipeline.metrics import PipelineCollector


def token_accepted(header: str, token: str) -> bool:
    """Whether an Authorization header carries the token; constant time, so the answer's
    timing tells nothing about how much of a guess was right."""
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404
    if not token_accepted(request.headers.get("Authorization", ""), token):
        response = HttpResponse(
            gettext("A bearer token is needed.") + "\n", status=401, content_type="text/plain"
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    state = CollectorRegistry()
    state.register(PipelineCollector())
    if settings.PROMETHEUS_MULTIPROC_DIR:
        counts = CollectorRegistry()
        multiprocess.MultiProcessCollector(counts, path=settings.PROMETHEUS_MULTIPROC_DIR)
    else:
        counts = REGISTRY
    body = generate_latest(counts) + generate_latest(state)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
