"""Generation steps handed out when due: batches per workspace, shared calls, shared pacing,
and attempts of a dead worker resumed. Against the sandbox over HTTP."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection as db_connection
from django.utils import timezone

from calendar_app.models import GenerationJob
from calendar_app.pipeline import dispatch, generation
from calendar_app.pipeline.dispatch import REDISPATCH_AFTER, generations_dispatch
from calendar_app.pipeline.generation import generation_request, generations_advance
from scripe_integration.models import ScripeConnection
from scripe_integration.services import connection_for
from tests.support import generation_finish, wait_for


@pytest.fixture
def wired(team, sandbox):
    return sandbox.wire(team.workspace)


@pytest.fixture
def enqueued(monkeypatch):
    """Each batch the pipeline handed to django-q2 (run by hand in these tests)."""
    batches: list[list[int]] = []
    monkeypatch.setattr(dispatch, "enqueue", batches.append)
    return batches


def requested(team, count: int) -> list[int]:
    return [
        generation_request(
            slot=team.slot(timezone.now() + timedelta(days=3 + i), text=f"Idea {i}.")
        ).pk
        for i in range(count)
    ]


def due_now(ids: list[int]) -> None:
    GenerationJob.objects.filter(pk__in=ids).update(next_poll_at=timezone.now())


def test_attempts_due_together_share_one_poll_and_one_read_of_their_posts(team, wired, enqueued):
    ids = requested(team, 6)
    generations_advance(ids)  # six submits
    assert wired.stats()["requests"]["POST /v1/posts/generations"] == 6
    wait_for(lambda: wired.stats()["jobs"]["DONE"] == 6, 10, "Scripe to write all six")
    due_now(ids)
    generations_advance(ids)
    requests = wired.stats()["requests"]
    assert requests["GET /v1/jobs"] == 1  # one page answers all six polls...
    assert requests["GET /v1/posts"] == 1  # ...and one page brings all six posts
    assert "GET /v1/jobs/{jobId}" not in requests and "GET /v1/posts/{postId}" not in requests
    jobs = GenerationJob.objects.filter(pk__in=ids).select_related("slot")
    assert {(j.slot.status, bool(j.post_content)) for j in jobs} == {("in_review", True)}


def test_the_dispatcher_hands_each_due_attempt_on_once(team, wired, enqueued):
    ids = requested(team, 3)
    enqueued.clear()  # each request enqueued its own task on commit
    assert generations_dispatch() == 0  # ...so no dispatcher hands them on meanwhile
    GenerationJob.objects.filter(pk__in=ids).update(dispatched_at=None)
    assert generations_dispatch() == 3
    assert [sorted(batch) for batch in enqueued] == [sorted(ids)]  # one task: one workspace
    assert generations_dispatch() == 0  # a second dispatcher finds them taken


def test_an_attempt_whose_task_was_lost_is_handed_on_again(team, wired, enqueued):
    [job_id] = requested(team, 1)
    enqueued.clear()
    GenerationJob.objects.filter(pk=job_id).update(
        dispatched_at=timezone.now() - REDISPATCH_AFTER - timedelta(seconds=1)
    )
    assert generations_dispatch() == 1
    assert enqueued == [[job_id]]


def test_a_dead_workers_attempts_resume_once_its_lease_lapses(team, wired, enqueued, settings):
    [job_id] = requested(team, 1)
    generations_advance([job_id])  # submitted
    # The worker that took the next step was killed: it holds a lease nobody renews.
    GenerationJob.objects.filter(pk=job_id).update(
        lease_until=timezone.now() + timedelta(seconds=settings.GENERATION_LEASE_SECONDS),
        next_poll_at=timezone.now(),
        dispatched_at=None,
    )
    enqueued.clear()
    assert generations_dispatch() == 0
    GenerationJob.objects.filter(pk=job_id).update(lease_until=timezone.now())
    assert generations_dispatch() == 1
    generation_finish(job_id)
    job = GenerationJob.objects.select_related("slot").get(pk=job_id)
    assert job.slot.status == "in_review"
    assert wired.stats()["jobsCreated"] == 1


@pytest.mark.django_db(transaction=True)
def test_a_429_holds_both_workers_for_its_retry_after(team, wired, enqueued):
    """Two workers, each with its own attempts; one of them is refused with Retry-After: 5.
    Neither sends anything to the workspace's Scripe until the five seconds are over."""
    sent: list[tuple[float, str]] = []
    state = wired.sandbox.state

    class Recorded(Counter):
        def __setitem__(self, key, value):
            sent.append((time.monotonic(), key))
            super().__setitem__(key, value)

    state.requests = Recorded(state.requests)
    first, second = requested(team, 2), requested(team, 2)
    wired.fault("GET /v1/jobs", count=1, status=429, retryAfter=5)
    stop = threading.Event()

    def worker(ids: list[int]) -> None:
        try:
            while not stop.is_set():
                generations_advance(ids)  # only what is due, as a dispatched task would
                time.sleep(0.05)
        finally:
            db_connection.close()

    workers = [threading.Thread(target=worker, args=(ids,)) for ids in (first, second)]
    for thread in workers:
        thread.start()
    try:
        wait_for(
            lambda: GenerationJob.objects.filter(slot__status="in_review").count() == 4,
            30,
            "all four drafts",
        )
    finally:
        stop.set()
        for thread in workers:
            thread.join(timeout=30)
    refused_at = next(at for at, route in sent if route == "GET /v1/jobs")
    # A request already on its way when the 429 was answered cannot be called back; anything
    # sent after it is inside the window.
    on_its_way = 0.25
    inside = [
        (round(at - refused_at, 2), route) for at, route in sent if on_its_way < at - refused_at < 5
    ]
    assert inside == []
    assert [route for _, route in sent].count("POST /v1/posts/generations") == 4


def test_a_failed_shared_listing_charges_no_attempt_and_each_is_asked_alone(team, wired, enqueued):
    ids = requested(team, 3)
    generations_advance(ids)
    wait_for(lambda: wired.stats()["jobs"]["DONE"] == 3, 10, "Scripe to write all three")
    wired.fault("GET /v1/jobs", count=1, status=400, code="invalid_request")
    due_now(ids)
    generations_advance(ids)
    jobs = GenerationJob.objects.filter(pk__in=ids).select_related("slot")
    assert {(j.slot.status, j.error_code) for j in jobs} == {("in_review", "")}
    assert wired.stats()["requests"]["GET /v1/jobs/{jobId}"] == 3


def test_a_workspace_held_by_its_rate_limit_is_not_dispatched_until_the_hold_ends(
    team, wired, enqueued
):
    [job_id] = requested(team, 1)
    enqueued.clear()
    GenerationJob.objects.filter(pk=job_id).update(dispatched_at=None)
    connection_for(team.workspace).hold(seconds=30)
    assert generations_dispatch() == 0  # no task that could only be held again
    ScripeConnection.objects.filter(workspace=team.workspace).update(
        hold_until=timezone.now() - timedelta(seconds=1)
    )
    assert generations_dispatch() == 1


def test_a_batch_that_raises_backs_off_without_touching_other_workspaces(
    team, wired, enqueued, monkeypatch
):
    [job_id] = requested(team, 1)

    def broken(self):
        raise RuntimeError("a bug")

    monkeypatch.setattr(generation._Batch, "run", broken)
    generations_advance([job_id])
    job = GenerationJob.objects.get(pk=job_id)
    assert not job.finished and job.lease_until is None
    assert (job.next_poll_at - timezone.now()) > timedelta(minutes=1)
    assert "on our side" in job.retry_reason


def test_the_dispatcher_loop_outlives_a_failure(db, monkeypatch):
    from calendar_app.management.commands import qcluster

    calls = []

    def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("the broker is away")
        return 0

    monkeypatch.setattr(qcluster, "generations_dispatch", flaky)
    monkeypatch.setattr(qcluster, "seconds_until_due", lambda: None)
    monkeypatch.setattr(qcluster.time, "sleep", lambda seconds: None)
    rounds = iter([True, True, False])
    qcluster.dispatch_while(lambda: next(rounds))
    assert len(calls) == 2  # it went on after the failure
