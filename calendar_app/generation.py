"""Having Scripe write a slot's post: request, submit, poll, finish (or fail, or cancel).

Safe under at-least-once delivery and several workers:
- a slot is claimed for generation with a conditional UPDATE, so double clicks, two tabs and
  two requests make one attempt;
- each attempt's Idempotency-Key is stored before the first request, so a retry after a
  timeout or a crash replays the same Scripe job;
- a worker acts on an attempt only while it holds its lease (a conditional UPDATE on
  `lease_until`); a killed worker's lease lapses and the sweep hands the attempt on;
- every write re-reads the attempt under a row lock and drops its update if someone else
  (a cancel, another worker) finished the attempt first.

A task waits in-process for the next poll when it is due soon (the common case: a job done
in seconds); a longer wait (a long Retry-After, a stalled job) ends the task, and the sweep,
a django-q2 schedule, enqueues it again when it is due.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from calendar_app.activity import Kind, record
from calendar_app.models import GenerationJob, IllegalTransition, PlannedSlot
from calendar_app.refusals import Refusal
from scripe_integration import pacing
from scripe_integration.client import Job, ScripeClient, ScripeError, ScripeInputError
from scripe_integration.models import ScripeConnection
from scripe_integration.services import (
    KEY_ERRORS,
    ScripeNotConfigured,
    connection_for,
    describe_error,
    scripe_session,
)

logger = logging.getLogger(__name__)

HORIZON = 30.0  # a task waits in-process for a step due within this many seconds
TASK = "calendar_app.tasks.advance_generation"

FAILURE_SENTENCES = {
    "content_policy": "Scripe's content policy flagged the note. Rephrase it and retry.",
    "source_unusable": "The note did not give Scripe enough to write about. Add detail and retry.",
    "provider_error": "Scripe's AI provider failed while writing. Retrying usually works.",
}


SAVED_FIELDS = [
    f.name
    for f in GenerationJob._meta.concrete_fields
    if not f.primary_key and f.name not in ("lease_until", "created_at", "scripe_calls")
]


# requesting --------------------------------------------------------------------------------------


def generation_request(*, slot: PlannedSlot, user=None, steering: str = "") -> GenerationJob:
    """Queues a new attempt for the slot and enqueues the task once the transaction commits.
    A second request for a slot already in flight returns the attempt under way."""
    connection = connection_for(slot.workspace)
    if connection.blocks_generation:
        raise Refusal(
            "This workspace's Scripe key is missing or invalid, so nothing can be generated "
            "until an admin fixes it."
        )
    if not slot.project.is_active:
        raise Refusal(slot.project.inactive_reason)
    with transaction.atomic():
        if not PlannedSlot.claim_for_generation(slot.pk):
            slot.refresh_from_db()
            if slot.is_in_flight and (job := slot.jobs.filter(is_current=True).first()):
                return job
            raise Refusal(slot.locked_reason or "This slot cannot be generated now.", stale=True)
        last = slot.jobs.aggregate(last=Max("attempt"))["last"] or 0
        slot.jobs.filter(is_current=True).update(is_current=False)
        job = GenerationJob.objects.create(
            slot=slot,
            attempt=last + 1,
            idempotency_key=uuid.uuid4().hex,
            steering=steering,
            requested_by=user,
            next_poll_at=timezone.now(),
        )
        slot.refresh_from_db()
        text = f"Changes requested: {steering}" if steering else "Sent to Scripe."
        record(slot, kind=Kind.STATUS, actor=user, text=text)
        transaction.on_commit(lambda: enqueue(job.pk))
    return job


def enqueue(job_id: int) -> None:
    from django_q.tasks import async_task

    async_task(TASK, job_id, task_name=f"generation-{job_id}", group="generation")


# advancing -------------------------------------------------------------------------------------


def _lease() -> timedelta:
    return timedelta(seconds=settings.GENERATION_LEASE_SECONDS)


def _claim(job_id: int) -> timezone.datetime | None:
    now = timezone.now()
    until = now + _lease()
    claimed = (
        GenerationJob.objects.filter(pk=job_id, finished=False)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=until)
    )
    return until if claimed else None


def _renew(job_id: int, held: timezone.datetime) -> timezone.datetime | None:
    until = timezone.now() + _lease()
    renewed = GenerationJob.objects.filter(pk=job_id, lease_until=held).update(lease_until=until)
    return until if renewed else None


def _release(job_id: int, held: timezone.datetime) -> None:
    GenerationJob.objects.filter(pk=job_id, lease_until=held).update(lease_until=None)


def generation_advance(
    job_id: int,
    *,
    horizon: float = HORIZON,
    budget: float | None = None,
    sleep=time.sleep,
) -> None:
    """Moves one attempt forward as far as it can within the task's budget."""
    budget = settings.GENERATION_TASK_BUDGET if budget is None else budget
    held = _claim(job_id)
    if held is None:
        return  # another worker has it, or it is finished
    deadline = time.monotonic() + budget
    try:
        while True:
            job = GenerationJob.objects.select_related(
                "slot__project", "slot__note", "slot__workspace"
            ).get(pk=job_id)
            if job.finished:
                return
            wait = (job.next_poll_at - timezone.now()).total_seconds() if job.next_poll_at else 0
            if wait > horizon or time.monotonic() + max(wait, 0) > deadline:
                return  # the sweep enqueues it again when it is due
            if wait > 0:
                sleep(wait)
            held = _renew(job_id, held)
            if held is None:
                return
            _step(job)
    finally:
        if held is not None:
            _release(job_id, held)


def _step(job: GenerationJob) -> None:
    slot = job.slot
    connection = connection_for(slot.workspace)
    now = timezone.now()
    hold = pacing.seconds_until_allowed(
        remaining=connection.rate_limit_remaining, reset_at=connection.rate_limit_reset_at, now=now
    )
    if hold > 0:
        job.next_poll_at = now + timedelta(seconds=hold)
        job.retry_reason = "Waiting for Scripe's rate limit to reset."
        _commit(job)
        return
    if connection.blocks_generation:
        _fail(job, "key_invalid", connection.key_error_message or KEY_ERRORS["invalid_token"])
        return
    try:
        with scripe_session(connection) as scripe:
            try:
                if not job.scripe_job_id:
                    _submit(job, scripe)
                elif job.scripe_status == "DONE" and job.post_id:
                    _finish_done(job, scripe)
                else:
                    snapshot = scripe.get_job(job.scripe_job_id)
                    job.polls += 1
                    _apply(job, snapshot, scripe)
            finally:
                GenerationJob.objects.filter(pk=job.pk).update(
                    scripe_calls=F("scripe_calls") + scripe.calls
                )
    except ScripeNotConfigured as error:
        _fail(job, "key_missing", str(error))
    except ScripeInputError as error:
        _fail(job, "invalid_input", error.message)
    except ScripeError as error:
        _handle_error(job, error, connection)


def source_text(note_text: str, steering: str = "") -> str:
    """What Scripe is asked to write from: the note, and the reviewer's words for a rewrite."""
    if steering:
        return f"{note_text}\n\nReviewer's feedback for this version: {steering}"
    return note_text


def _submit(job: GenerationJob, scripe: ScripeClient) -> None:
    slot = job.slot
    now = timezone.now()
    job.submitted_at = job.submitted_at or now
    job.submit_tries += 1
    # Direct scheduling: Scripe schedules the post itself as soon as it is written.
    direct = not slot.workspace.review_required
    snapshot = scripe.generate_post(
        slot.project.scripe_id,
        source_text(slot.note.text, job.steering),
        idempotency_key=job.idempotency_key,
        language=slot.note.language,
        scheduled_for=slot.scheduled_for if direct else None,
        wait_for_completion_ms=pacing.SUBMIT_WAIT_MS,
    )
    # Scripe's own clock for the job's start, so the pacing does not count our wait twice.
    job.accepted_at = job.accepted_at or snapshot.created_at or timezone.now()
    _apply(job, snapshot, scripe)


def _apply(job: GenerationJob, snapshot: Job, scripe: ScripeClient) -> None:
    now = timezone.now()
    job.scripe_job_id = snapshot.id
    job.scripe_status = snapshot.status
    job.progress = snapshot.progress
    job.progress_message = (snapshot.progress_message or "")[:200]
    job.attempt_count = snapshot.attempt_count
    job.estimated_completion_ms = snapshot.estimated_completion_ms
    job.started_at = snapshot.started_at or job.started_at
    job.completed_at = snapshot.completed_at or job.completed_at
    job.retry_reason = ""
    job.error_streak = 0
    if snapshot.status == "DONE":
        job.post_id = snapshot.post_id or ""
        _finish_done(job, scripe)
    elif snapshot.status == "FAILED":
        code = snapshot.error_code or "failed"
        sentence = FAILURE_SENTENCES.get(code)
        message = sentence or f"Scripe could not write the post: {snapshot.error_message or code}"
        _fail(job, code, message)
    elif snapshot.status == "CANCELLED":
        job.finished = True
        job.next_poll_at = None
        _commit(job, transition="cancelled")
    else:
        accepted = job.accepted_at or now
        if now - accepted > pacing.GIVE_UP_AFTER:
            minutes = int(pacing.GIVE_UP_AFTER.total_seconds() // 60)
            _fail(
                job,
                "gave_up",
                f"Scripe did not finish within {minutes} minutes; we stopped waiting. "
                "Retry to start again.",
            )
            return
        job.stalled = pacing.is_stalled(
            accepted_at=accepted, now=now, estimate_ms=job.estimated_completion_ms
        )
        delay = pacing.next_poll_delay(
            accepted_at=accepted,
            started_at=job.started_at,
            now=now,
            estimate_ms=job.estimated_completion_ms,
            progress=job.progress,
            stalled=job.stalled,
        )
        job.next_poll_at = now + timedelta(seconds=delay)
        _commit(job, transition="generating")


def _finish_done(job: GenerationJob, scripe: ScripeClient) -> None:
    if not job.post_id:
        _fail(job, "no_post", "Scripe finished but returned no post. Retry to generate again.")
        return
    post = scripe.get_post(job.post_id)
    job.post_title = post.title[:500]
    job.post_content = post.content
    job.finished = True
    job.next_poll_at = None
    job.progress = 1.0
    _commit(job, transition="scheduled" if post.status == "scheduled" else "ready")


def _handle_error(job: GenerationJob, error: ScripeError, connection: ScripeConnection) -> None:
    now = timezone.now()
    if error.code in KEY_ERRORS:  # scripe_session has already marked the key invalid
        _fail(job, error.code, KEY_ERRORS[error.code])
    elif error.code == "spend_cap_exceeded":
        connection.spend_cap_meta = error.meta
        connection.save(update_fields=["spend_cap_meta"])
        spent, cap = error.meta.get("spentCents"), error.meta.get("capCents")
        detail = f" ({spent} of {cap} cents spent)" if spent is not None and cap else ""
        _fail(
            job,
            error.code,
            f"Scripe's daily spend cap for this workspace is reached{detail}. "
            "It resets at 00:00 UTC; retry after that.",
        )
    elif error.retryable:
        waited = now - (job.submitted_at or now)
        if not job.scripe_job_id and waited > pacing.SUBMIT_GIVE_UP_AFTER:
            _fail(
                job,
                "scripe_unreachable",
                "Scripe could not be reached for 15 minutes, so the post was not written. "
                "Retry later.",
            )
            return
        job.error_streak += 1
        delay = pacing.backoff(job.error_streak, error.retry_after)
        job.next_poll_at = now + timedelta(seconds=delay)
        job.retry_reason = describe_error(error)
        _commit(job)
    elif error.code == "not_found" and job.scripe_job_id:
        _fail(job, "job_lost", "Scripe no longer knows this job. Retry to generate again.")
    else:
        _fail(job, error.code, describe_error(error))


def _fail(job: GenerationJob, code: str, message: str) -> None:
    job.error_code = code[:60]
    job.error_message = message[:500]
    job.finished = True
    job.next_poll_at = None
    job.retry_reason = ""
    _commit(job, transition="failed")


def _commit(job: GenerationJob, transition: str | None = None) -> bool:
    """Saves the attempt and moves its slot, unless someone else finished the attempt first."""
    with transaction.atomic():
        current = GenerationJob.objects.select_for_update().filter(pk=job.pk).values("finished")
        if not current or current[0]["finished"]:
            return False
        # Never the lease: the worker renews it in the database behind this object's back.
        job.save(update_fields=SAVED_FIELDS)
        slot = PlannedSlot.objects.select_for_update().get(pk=job.slot_id)
        before = slot.status
        try:
            if transition == "generating":
                slot.mark_generating()
            elif transition in ("ready", "scheduled"):
                slot.mark_ready(scheduled=transition == "scheduled")
            elif transition == "failed":
                slot.mark_failed()
            elif transition == "cancelled":
                slot.mark_cancelled()
        except IllegalTransition:
            logger.warning(
                "slot %s is %s; attempt %s ends as %s", slot.pk, slot.status, job.pk, transition
            )
        if slot.status != before:
            record(slot, kind=Kind.STATUS, text=_EVENT_TEXT.get(slot.status, job.error_message))
        job.slot = slot
    return True


_EVENT_TEXT = {
    "generating": "Scripe started writing.",
    "in_review": "Draft ready for review.",
    "scheduled": "Written and scheduled in Scripe.",
    "cancelled": "Generation cancelled.",
}


# cancelling ------------------------------------------------------------------------------------


def generation_cancel(*, slot: PlannedSlot) -> str:
    """Cancels the slot's attempt while Scripe has not started it. Returns what happened."""
    job = slot.jobs.filter(is_current=True).first()
    if not slot.is_in_flight or job is None or job.finished:
        raise Refusal("Only a generation that is under way can be cancelled.", stale=True)
    if not job.scripe_job_id:
        held = _claim(job.pk)
        if held is None:
            raise Refusal("The request is reaching Scripe right now; try again in a moment.")
        try:
            job.refresh_from_db()
            if not job.scripe_job_id:
                job.finished = True
                job.next_poll_at = None
                _commit(job, transition="cancelled")
                return "Cancelled before it reached Scripe."
        finally:
            _release(job.pk, held)
    connection = connection_for(slot.workspace)
    try:
        with scripe_session(connection) as scripe:
            try:
                snapshot = scripe.cancel_job(job.scripe_job_id)
            except ScripeError as error:
                if error.code != "not_cancellable":
                    raise
                snapshot = scripe.get_job(job.scripe_job_id)
                _apply(job, snapshot, scripe)
                raise Refusal(
                    "Scripe has already started writing this post, so it can no longer be "
                    "cancelled. It will be ready for review shortly."
                ) from None
            _apply(job, snapshot, scripe)
    except ScripeError as error:
        raise Refusal(f"Could not cancel: {describe_error(error)}") from None
    return "Generation cancelled."


# the sweep ---------------------------------------------------------------------------------------


def generations_sweep() -> int:
    """Enqueues every unfinished attempt that is due and that no live worker holds: long
    waits, interrupted submissions, attempts whose worker died. Returns how many."""
    now = timezone.now()
    due = list(
        GenerationJob.objects.filter(finished=False, next_poll_at__lte=now + timedelta(seconds=5))
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .values_list("pk", flat=True)
    )
    for pk in due:
        enqueue(pk)
    return len(due)
