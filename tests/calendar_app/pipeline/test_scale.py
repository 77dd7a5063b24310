"""Scale-out: two separate django-q2 clusters on the Redis broker and PostgreSQL write 200
posts, each exactly once, and a SIGKILLed cluster leaves no slot behind.

Runs when the test database is PostgreSQL and Redis answers (CI has both); otherwise it is
skipped with the reason.
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import timedelta

import pytest
import redis
from django.db import connection
from django.utils import timezone
from django_q.brokers.redis_broker import Redis as RedisBroker
from django_q.tasks import async_task

from calendar_app.models import PlannedSlot, Project, SourceNote
from calendar_app.pipeline import dispatch
from calendar_app.pipeline.generation import generation_request
from calendar_app.planning.services import projects_sync
from tests.support import Cluster

# SCALE_TEST_REDIS_URL first: exporting REDIS_URL would move the whole suite's cache and
# django-q2 broker to Redis (settings.py), while the other tests' clusters stay on the ORM.
REDIS_URL = (
    os.environ.get("SCALE_TEST_REDIS_URL")
    or os.environ.get("REDIS_URL")
    or "redis://127.0.0.1:6379/0"
)
SLOTS = 200
# Real django-q2 clusters: one such test at a time, on one worker of a parallel run.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("processes")]


@pytest.fixture
def scale(team, sandbox_factory, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip(
            "scale-out test needs PostgreSQL: run with DATABASE_URL=postgres://… (.ci/run does)"
        )
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as error:
        pytest.skip(f"scale-out test needs Redis at {REDIS_URL}: {error}")
    # A cluster name of its own (django-q2 reads Q_CLUSTER_NAME), so this test's queue on
    # Redis is not shared with anything else.
    name = f"scale-{uuid.uuid4().hex[:8]}"
    broker = RedisBroker(list_key=name)
    broker.connection = redis.Redis.from_url(REDIS_URL)
    # Enqueue on the clusters' Redis list, as the web process of such a deployment would.
    monkeypatch.setattr(
        dispatch,
        "enqueue",
        lambda job_id: async_task(dispatch.TASK, job_id, broker=broker, cluster=name),
    )
    sandbox = sandbox_factory(generation_seconds=(0.3, 0.8), rate_limit=100_000, spend_cap=1_000)
    sandbox.wire(team.workspace)
    team.project.delete()
    projects_sync(workspace=team.workspace)
    project = Project.objects.get(workspace=team.workspace, name="Lena Fischer")
    start = timezone.now() + timedelta(days=2)
    slots = []
    for i in range(SLOTS):
        note = SourceNote.objects.create(workspace=team.workspace, text=f"Idea number {i}.")
        slots.append(
            PlannedSlot.objects.create(
                workspace=team.workspace, project=project, note=note,
                scheduled_for=start + timedelta(minutes=i),
            )
        )  # fmt: skip
    env = {
        "REDIS_URL": REDIS_URL,
        "Q_CLUSTER_NAME": name,
        "Q_WORKERS": "4",
        "GENERATION_LEASE_SECONDS": "15",
    }
    clusters = [Cluster(**env), Cluster(**env)]
    yield sandbox, slots, clusters
    for cluster in clusters:
        cluster.stop()
    broker.connection.delete(f"django_q:{name}:q")


def unfinished(slots) -> int:
    return PlannedSlot.objects.filter(
        pk__in=[s.pk for s in slots], status__in=["queued", "generating"]
    ).count()


def wait_until_done(slots, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while unfinished(slots):
        assert time.monotonic() < deadline, f"{unfinished(slots)} slots still in flight"
        time.sleep(1)


def test_two_clusters_write_200_posts_each_exactly_once(scale):
    sandbox, slots, _ = scale
    for slot in slots:
        generation_request(slot=slot)
    wait_until_done(slots, 240)
    stats = sandbox.stats()
    assert stats["jobsCreated"] == SLOTS
    assert stats["requests"]["POST /v1/posts/generations"] == SLOTS
    assert stats["idempotentReplays"] == 0  # no attempt was ever submitted by two workers
    statuses = set(
        PlannedSlot.objects.filter(pk__in=[s.pk for s in slots]).values_list("status", flat=True)
    )
    assert statuses == {"in_review"}


def test_a_cluster_killed_halfway_leaves_no_slot_behind_and_no_second_job(scale):
    sandbox, slots, clusters = scale
    for slot in slots:
        generation_request(slot=slot)
    deadline = time.monotonic() + 120
    while unfinished(slots) > SLOTS // 2:
        assert time.monotonic() < deadline, (
            f"no progress: {unfinished(slots)} left, {sandbox.stats()}"
        )
        time.sleep(0.2)
    clusters[0].kill()
    # The dead cluster's tasks are gone from Redis and its leases lapse; the surviving
    # cluster's dispatcher hands those attempts on, with nobody running a sweep.
    wait_until_done(slots, 120)
    stats = sandbox.stats()
    assert stats["jobsCreated"] == SLOTS
    statuses = set(
        PlannedSlot.objects.filter(pk__in=[s.pk for s in slots]).values_list("status", flat=True)
    )
    assert statuses == {"in_review"}
