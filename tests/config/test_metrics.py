"""/metrics (config/metrics.py): who may read it, what it counts while a generation runs
against the sandbox, the pipeline's state read at scrape time, and counts summed across
processes (prometheus_client's multiprocess mode)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from calendar_app.models import GenerationJob
from calendar_app.pipeline import dispatch
from calendar_app.pipeline.generation import generation_request
from tests.support import generation_finish

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "metrics-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.PROMETHEUS_MULTIPROC_DIR = ""


def samples(body: bytes) -> dict[tuple[str, tuple], float]:
    """Every sample of a /metrics answer: (name, sorted labels) → value."""
    found = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# who may read it -------------------------------------------------------------------------------


def test_without_a_token_setting_metrics_are_not_served(client, settings, db):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


@pytest.mark.parametrize(
    "header", ["", "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", TOKEN, "Bearer"]
)
def test_a_missing_or_wrong_token_is_refused(client, token, db, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"calendar_" not in response.content


def test_the_token_reads_the_metrics_in_prometheus_text_format(client, token, db):
    response = client.get("/metrics", headers=AUTH)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    body = response.content.decode()
    for name in (
        "django_http_requests_total_by_method_total",  # django-prometheus: requests
        "django_db_execute_total",  # and the database
        "calendar_generations_total",
        "calendar_generation_click_to_draft_seconds",
        "scripe_calls_total",
        "scripe_rate_limited_total",
        "scripe_held_seconds_total",
        "calendar_generation_attempts_due",
        "calendar_generation_oldest_due_seconds",
        "calendar_sync_lag_seconds",
        "calendar_scripe_webhooks_received_total",
        "calendar_webhook_deliveries_total",
        "calendar_emails_total",
    ):
        assert f"\n# TYPE {name.removesuffix('_total')} " in body or name in body, name


def test_only_get_is_allowed(client, token, db):
    assert client.post("/metrics", headers=AUTH).status_code == 405


# the pipeline's state, read at scrape time -----------------------------------------------------


def test_queue_depth_oldest_due_and_sync_lag_cost_two_queries(
    client, token, team, django_assert_num_queries
):
    now = timezone.now()
    for minutes in (0, 3, 7):
        slot = team.slot(now + timedelta(days=1))
        GenerationJob.objects.create(
            slot=slot, idempotency_key=f"k{minutes}", next_poll_at=now - timedelta(minutes=minutes)
        )
    waiting = team.slot(now + timedelta(days=1))
    GenerationJob.objects.create(
        slot=waiting, idempotency_key="later", next_poll_at=now + timedelta(minutes=5)
    )
    team.project.posts_synced_at = now - timedelta(minutes=4)
    team.project.save()
    team.foreign_project.posts_synced_at = now - timedelta(seconds=30)
    team.foreign_project.save()
    # 1: the generation queue in one aggregate; 2: each workspace's oldest sync.
    with django_assert_num_queries(2):
        response = client.get("/metrics", headers=AUTH)
    found = samples(response.content)
    assert found[("calendar_generation_attempts_in_flight", ())] == 4
    assert found[("calendar_generation_attempts_due", ())] == 3
    assert 7 * 60 <= found[("calendar_generation_oldest_due_seconds", ())] < 7 * 60 + 30
    lag = found[("calendar_sync_lag_seconds", (("workspace", str(team.workspace.public_id)),))]
    assert 4 * 60 <= lag < 4 * 60 + 30
    other = (("workspace", str(team.other_workspace.public_id)),)
    assert found[("calendar_sync_lag_seconds", other)] < 60


# what a generation against the sandbox counts --------------------------------------------------


def test_a_generation_moves_the_counters(team, sandbox_factory, monkeypatch, db):
    sandbox = sandbox_factory()
    sandbox.wire(team.workspace)
    monkeypatch.setattr(dispatch, "enqueue", lambda ids: None)
    sandbox.fault("GET /v1/jobs/{jobId}", count=1, status=429, retryAfter=1)
    before = {
        "ready": value("calendar_generations_total", outcome="ready"),
        "drafts": value("calendar_generation_click_to_draft_seconds_count"),
        "submits": value(
            "scripe_calls_total", method="POST", endpoint="posts/generations", status="202"
        ),
        "polls_429": value("scripe_calls_total", method="GET", endpoint="jobs/{id}", status="429"),
        "rate_limited": value("scripe_rate_limited_total", endpoint="jobs/{id}"),
        "held": value("scripe_held_calls_total"),
    }
    slot = team.slot(timezone.now() + timedelta(days=3))
    job = generation_request(slot=slot)
    generation_finish(job.pk)
    slot.refresh_from_db()
    assert slot.status == "in_review"
    assert value("calendar_generations_total", outcome="ready") == before["ready"] + 1
    assert value("calendar_generation_click_to_draft_seconds_count") == before["drafts"] + 1
    assert (
        value("scripe_calls_total", method="POST", endpoint="posts/generations", status="202")
        == before["submits"] + 1
    )
    assert (
        value("scripe_calls_total", method="GET", endpoint="jobs/{id}", status="429")
        == before["polls_429"] + 1
    )
    assert value("scripe_rate_limited_total", endpoint="jobs/{id}") == before["rate_limited"] + 1
    # No id of a job or post becomes a label: one series per endpoint, however many posts.
    endpoints = {
        sample.labels["endpoint"]
        for family in REGISTRY.collect()
        if family.name == "scripe_calls"
        for sample in family.samples
    }
    assert not any("job_" in e or "post_" in e or "proj_" in e for e in endpoints), endpoints
    assert value("scripe_held_calls_total") >= before["held"]


# across processes ------------------------------------------------------------------------------

COUNT_ONCE = textwrap.dedent(
    """
    import os, sys
    sys.path.insert(0, os.getcwd())
    from config.prometheus import multiprocess_setup
    multiprocess_setup(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    from calendar_app.core import metrics
    from scripe_integration import metrics as scripe_metrics
    metrics.GENERATIONS.labels("ready").inc()
    metrics.EMAILS.labels("notification", "sent").inc(int(sys.argv[1]))
    scripe_metrics.call_observe(method="GET", path="jobs/job_1", status=200, seconds=0.1)
    """
)


def test_counts_from_two_processes_are_summed(client, settings, tmp_path, db):
    folder = tmp_path / "prometheus"
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    for emails in (2, 3):  # two processes, as two gunicorn or django-q2 workers would be
        subprocess.run(
            [sys.executable, "-c", COUNT_ONCE, str(emails)], cwd=ROOT, env=env, check=True
        )
    assert len(list(folder.glob("counter_*.db"))) == 2
    settings.METRICS_TOKEN = TOKEN
    settings.PROMETHEUS_MULTIPROC_DIR = str(folder)
    found = samples(client.get("/metrics", headers=AUTH).content)
    assert found[("calendar_generations_total", (("outcome", "ready"),))] == 2
    assert found[("calendar_emails_total", (("kind", "notification"), ("result", "sent")))] == 5
    call = (("endpoint", "jobs/{id}"), ("method", "GET"), ("status", "200"))
    assert found[("scripe_calls_total", call)] == 2
    # The state read from the database is there too, once.
    assert found[("calendar_generation_attempts_due", ())] == 0
