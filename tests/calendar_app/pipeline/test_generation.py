"""The generation pipeline against the sandbox over HTTP: request, submit, poll, finish."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from calendar_app.core.refusals import Refusal
from calendar_app.models import GenerationJob, PlannedSlot
from calendar_app.pipeline import dispatch, generation
from calendar_app.pipeline.dispatch import generations_sweep
from calendar_app.pipeline.generation import (
    generation_advance,
    generation_cancel,
    generation_request,
)
from scripe_integration.services import connection_for
from tests.support import generation_finish


@pytest.fixture
def wired(team, sandbox):
    sandbox.wire(team.workspace)
    return sandbox


@pytest.fixture
def enqueued(monkeypatch):
    """Job ids the pipeline handed to django-q2 (run by hand in these tests)."""
    ids: list[int] = []
    monkeypatch.setattr(dispatch, "enqueue", ids.extend)
    return ids


@pytest.fixture
def slot(team):
    return team.slot(timezone.now() + timedelta(days=3), text="Hiring our first designer.")


def run(job_or_slot, *, steps: int | None = None) -> GenerationJob:
    """Runs the slot's current attempt, as the dispatcher and its tasks would, to the end or
    for a number of steps (each taken at once, due or not), and reloads it."""
    job = job_or_slot if isinstance(job_or_slot, GenerationJob) else job_or_slot.current_job
    if steps is None:
        generation_finish(job.pk)
    for _ in range(steps or 0):
        GenerationJob.objects.filter(pk=job.pk).update(next_poll_at=timezone.now())
        generation_advance(job.pk)
    job.refresh_from_db()
    job.slot.refresh_from_db()
    return job


# requesting ------------------------------------------------------------------------------------


def test_generate_queues_the_slot_and_stores_the_key_before_any_request(
    client, team, wired, slot, django_capture_on_commit_callbacks, enqueued
):
    client.force_login(team.editor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/slots/{slot.public_id}/generate/", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert json.loads(response["HX-Trigger"])["toast"]["message"] == "Sent to Scripe."
    slot.refresh_from_db()
    job = slot.current_job
    assert slot.status == "queued"
    assert len(job.idempotency_key) == 32
    assert enqueued == [job.pk]
    assert wired.stats()["requestsTotal"] == 0  # nothing sent before the task runs


def test_a_double_click_makes_one_attempt(client, team, wired, slot, enqueued):
    client.force_login(team.editor)
    with_htmx = {"HX-Request": "true"}
    first = client.post(f"/slots/{slot.public_id}/generate/", headers=with_htmx)
    second = client.post(f"/slots/{slot.public_id}/generate/", headers=with_htmx)
    assert (first.status_code, second.status_code) == (204, 204)
    assert GenerationJob.objects.filter(slot=slot).count() == 1


def test_a_generation_runs_to_review_in_few_calls(wired, slot, enqueued):
    generation_request(slot=slot)
    job = run(slot)
    assert job.slot.status == "in_review"
    assert job.finished and job.scripe_status == "DONE"
    assert "Hiring our first designer." in job.post_content
    assert job.post_title and job.post_id.startswith("post_")
    # submit, a poll when Scripe's estimate says it is done, and reading the post
    assert job.scripe_calls <= 3
    assert wired.stats()["requestsTotal"] == job.scripe_calls


def test_direct_scheduling_sends_the_time_and_ends_scheduled(team, wired, slot, enqueued):
    team.workspace.review_required = False
    team.workspace.save()
    generation_request(slot=slot)
    job = run(slot)
    assert job.slot.status == "scheduled"
    with wired.client() as scripe:
        post = scripe.get_post(job.post_id)
    assert post.status == "scheduled"
    assert abs((post.scheduled_at - slot.scheduled_for).total_seconds()) < 0.01


def test_a_failed_job_says_why_and_retry_makes_a_new_attempt(client, team, wired, slot, enqueued):
    slot.note.text = "A note [sandbox:fail=content_policy]"
    slot.note.save()
    generation_request(slot=slot)
    failed = run(slot)
    assert failed.slot.status == "failed"
    assert failed.error_code == "content_policy"
    assert failed.error_message.startswith("Scripe's content policy flagged the note")

    slot.note.text = "A note without the trouble."
    slot.note.save()
    client.force_login(team.editor)
    response = client.post(f"/slots/{slot.public_id}/generate/", headers={"HX-Request": "true"})
    assert json.loads(response["HX-Trigger"])["toast"]["message"] == "Sent to Scripe again."
    retried = run(slot)
    assert retried.attempt == 2
    assert retried.idempotency_key != failed.idempotency_key
    assert retried.slot.status == "in_review"
    history = list(GenerationJob.objects.filter(slot=slot).values_list("attempt", "is_current"))
    assert history == [(1, False), (2, True)]
    assert wired.stats()["jobsCreated"] == 2


# transient trouble -----------------------------------------------------------------------------


def test_503_on_submit_is_retried_with_the_same_key(wired, slot, enqueued):
    wired.fault("POST /v1/posts/generations", count=1, status=503, retryAfter=1)
    generation_request(slot=slot)
    generation_advance(slot.current_job.pk)
    job = slot.current_job
    assert job.retry_reason and not job.scripe_job_id
    assert (job.next_poll_at - timezone.now()).total_seconds() >= 0.9  # Retry-After honoured
    job = run(job)
    assert job.slot.status == "in_review"
    assert job.submit_tries == 2
    stats = wired.stats()
    assert stats["requests"]["POST /v1/posts/generations"] == 2
    assert stats["jobsCreated"] == 1


def test_429_while_polling_waits_for_retry_after(wired, team, slot, enqueued):
    wired.fault("GET /v1/jobs/{jobId}", count=1, status=429, retryAfter=2)
    generation_request(slot=slot)
    job = run(slot, steps=2)  # the submit, then a poll that is refused
    assert job.retry_reason == "Waiting for Scripe's rate limit to reset."
    assert job.error_streak == 0  # waiting its turn is not a failure
    assert (job.next_poll_at - timezone.now()).total_seconds() >= 1.9
    assert connection_for(team.workspace).hold_until > timezone.now()
    job = run(job)
    assert job.slot.status == "in_review"
    assert wired.stats()["jobsCreated"] == 1


def test_a_submit_timeout_is_retried_and_replays_the_same_job(
    settings, monkeypatch, wired, slot, enqueued
):
    settings.SCRIPE_READ_TIMEOUT = 0.3
    wired.fault("POST /v1/posts/generations", count=1, hangSeconds=1.0)
    generation_request(slot=slot)
    job = run(slot)
    assert job.slot.status == "in_review"
    stats = wired.stats()
    assert stats["jobsCreated"] == 1
    assert stats["idempotentReplays"] == 1


def test_a_retrying_card_says_when_it_tries_again(
    client, team, wired, slot, enqueued, time_machine
):
    wired.fault("POST /v1/posts/generations", count=1, status=503, retryAfter=40)
    generation_request(slot=slot)
    job = run(slot, steps=1)
    assert job.retry_reason and not job.finished
    time_machine.move_to(job.next_poll_at - timedelta(seconds=40), tick=False)
    client.force_login(team.editor)
    html = client.get(f"/calendar/{slot.scheduled_for:%Y/%-m}/").content.decode()
    assert "Retrying in 40 s." in html


@pytest.mark.parametrize(
    ("fault", "why"),
    [
        ({"status": 503, "retryAfter": 2}, "Scripe had a temporary problem"),
        ({"hangSeconds": 1.0}, "Scripe could not be reached"),
    ],
)
def test_a_retrying_posts_page_says_the_calendar_retries_on_its_own(
    client, settings, team, wired, slot, enqueued, time_machine, fault, why
):
    """While the calendar retries, the post's page says what it is doing, not "Try again
    in a minute" (#24)."""
    settings.SCRIPE_READ_TIMEOUT = 0.3
    wired.fault("POST /v1/posts/generations", count=1, **fault)
    generation_request(slot=slot)
    job = run(slot, steps=1)
    assert job.retry_reason and not job.finished
    time_machine.move_to(job.next_poll_at - timedelta(seconds=2), tick=False)
    client.force_login(team.editor)
    page = client.get(f"/slots/{slot.public_id}/").content.decode()
    status = page[page.index('<section class="slot-status"') :]
    status = " ".join(re.sub(r"<[^>]+>", " ", status[: status.index("</section>")]).split())
    assert "Retrying in 2 s." in status
    assert f"{why}; the calendar keeps trying on its own." in status
    assert "try again" not in page.lower()


# permanent trouble -----------------------------------------------------------------------------


def test_a_revoked_key_fails_the_slot_and_flags_the_key(wired, slot, team, enqueued):
    generation_request(slot=slot)
    wired.revoke(wired.key)
    job = run(slot)
    assert job.slot.status == "failed"
    assert job.error_code == "key_revoked"
    assert "revoked" in job.error_message
    assert connection_for(team.workspace).key_state == "invalid"
    other = team.slot(timezone.now() + timedelta(days=4))
    with pytest.raises(Refusal, match="key is missing or invalid"):
        generation_request(slot=other)


def test_the_spend_cap_fails_the_slot_with_when_it_resets(sandbox_factory, team, slot, enqueued):
    sandbox = sandbox_factory(spend_cap=0)
    sandbox.wire(team.workspace)
    generation_request(slot=slot)
    job = run(slot)
    assert job.slot.status == "failed"
    assert job.error_code == "spend_cap_exceeded"
    assert "resets at 00:00 UTC" in job.error_message
    assert connection_for(team.workspace).spend_cap_meta["capCents"] == 0


def test_after_a_402_generation_is_refused_in_words_until_the_utc_day_ends(
    sandbox_factory, team, slot, enqueued, time_machine
):
    sandbox = sandbox_factory(spend_cap=0)
    sandbox.wire(team.workspace)
    queued_before = generation_request(slot=team.slot(timezone.now() + timedelta(days=4)))
    generation_request(slot=slot)
    run(slot)  # Scripe answers 402
    sent = sandbox.stats()["requestsTotal"]
    other = team.slot(timezone.now() + timedelta(days=5))
    with pytest.raises(Refusal, match=r"spend cap for this workspace is reached\. It resets at"):
        generation_request(slot=other)
    # An attempt queued before the 402 is not sent to meet one.
    queued_before = run(queued_before, steps=1)
    assert (queued_before.slot.status, queued_before.error_code) == ("failed", "spend_cap_exceeded")
    assert sandbox.stats()["requestsTotal"] == sent

    tomorrow = (timezone.now() + timedelta(days=1)).replace(hour=0, minute=1)
    time_machine.move_to(tomorrow, tick=False)
    assert generation_request(slot=other).slot_id == other.pk  # a new UTC day


def test_an_archived_project_is_unprocessable(wired, slot, enqueued):
    generation_request(slot=slot)
    wired.patch_project(slot.project.scripe_id, status="ARCHIVED")
    job = run(slot)
    assert (job.slot.status, job.error_code) == ("failed", "unprocessable")


def test_a_job_scripe_forgot_fails_with_a_reason(wired, slot, enqueued, monkeypatch):
    wired.fault("GET /v1/jobs/{jobId}", count=1, status=404, code="not_found")
    generation_request(slot=slot)
    job = run(slot)
    assert (job.slot.status, job.error_code) == ("failed", "job_lost")


# long jobs -------------------------------------------------------------------------------------


def test_a_job_far_past_its_estimate_is_stalled_and_polled_slowly(
    sandbox_factory, team, slot, enqueued, monkeypatch
):
    sandbox = sandbox_factory(generation_seconds=(300, 300), queue_seconds=0)
    sandbox.wire(team.workspace)
    generation_request(slot=slot)
    job = run(slot, steps=1)  # submit only
    GenerationJob.objects.filter(pk=job.pk).update(
        # three times Scripe's 300 s estimate has passed
        accepted_at=timezone.now() - timedelta(minutes=16),
        next_poll_at=timezone.now(),
    )
    job = run(job, steps=1)
    assert job.stalled and job.slot.status == "generating"
    assert (job.next_poll_at - timezone.now()).total_seconds() > 50

    GenerationJob.objects.filter(pk=job.pk).update(
        accepted_at=timezone.now() - timedelta(minutes=31), next_poll_at=timezone.now()
    )
    job = run(job, steps=1)
    assert (job.slot.status, job.error_code) == ("failed", "gave_up")


# cancelling ------------------------------------------------------------------------------------


def test_cancel_while_queued_in_scripe(client, team, sandbox_factory, slot, enqueued, monkeypatch):
    sandbox = sandbox_factory(queue_seconds=60)
    sandbox.wire(team.workspace)
    generation_request(slot=slot)
    run(slot, steps=1)
    client.force_login(team.editor)
    response = client.post(f"/slots/{slot.public_id}/cancel/", follow=True)
    assert "Generation cancelled." in response.content.decode()
    slot.refresh_from_db()
    assert slot.status == "cancelled"
    assert sandbox.stats()["jobs"]["CANCELLED"] == 1


def test_cancel_after_scripe_started_explains_and_keeps_going(
    team, sandbox_factory, slot, enqueued, monkeypatch
):
    sandbox = sandbox_factory(queue_seconds=0, generation_seconds=(20, 20))
    sandbox.wire(team.workspace)
    generation_request(slot=slot)
    run(slot, steps=1)
    with pytest.raises(Refusal, match="already started writing"):
        generation_cancel(slot=PlannedSlot.objects.get(pk=slot.pk))
    job = GenerationJob.objects.get(slot=slot)
    assert job.scripe_status == "RUNNING" and not job.finished
    assert PlannedSlot.objects.get(pk=slot.pk).status == "generating"


def test_cancel_before_submission_never_reaches_scripe(wired, slot, enqueued):
    job = generation_request(slot=slot)
    assert generation_cancel(slot=slot) == "Cancelled before it reached Scripe."
    job = run(job)
    assert job.slot.status == "cancelled"
    assert wired.stats()["requestsTotal"] == 0


# workers ---------------------------------------------------------------------------------------


def test_a_second_worker_leaves_a_held_attempt_alone(wired, slot, enqueued):
    job = generation_request(slot=slot)
    assert generation._Lease([job.pk]).ids == {job.pk}  # the first worker holds it
    job = run(job, steps=1)
    assert wired.stats()["requestsTotal"] == 0
    assert job.slot.status == "queued"


def test_a_worker_killed_after_scripe_accepted_the_job_makes_no_second_job(
    wired, slot, enqueued, monkeypatch
):
    class WorkerKilled(BaseException):
        pass

    real_apply = generation._apply

    def die(*args, **kwargs):
        raise WorkerKilled

    job = generation_request(slot=slot)
    monkeypatch.setattr(generation, "_apply", die)
    with pytest.raises(WorkerKilled):
        generation_advance(job.pk)
    # A SIGKILL runs no cleanup: the lease stays until it lapses.
    GenerationJob.objects.filter(pk=job.pk).update(
        lease_until=timezone.now() - timedelta(seconds=1)
    )
    monkeypatch.setattr(generation, "_apply", real_apply)
    enqueued.clear()
    assert generations_sweep() == 1
    assert enqueued == [job.pk]
    job = run(job)
    assert job.slot.status == "in_review"
    stats = wired.stats()
    assert stats["jobsCreated"] == 1
    assert stats["idempotentReplays"] == 1


def test_the_sweep_skips_held_and_future_attempts(wired, slot, team, enqueued):
    held = generation_request(slot=slot)
    generation._Lease([held.pk])
    later = generation_request(slot=team.slot(timezone.now() + timedelta(days=5)))
    GenerationJob.objects.filter(pk=later.pk).update(
        next_poll_at=timezone.now() + timedelta(minutes=5)
    )
    enqueued.clear()
    assert generations_sweep() == 0
