"""Having Scripe write a slot's post: request, submit, poll, finish (or fail, or cancel).

Safe under at-least-once delivery and several workers:
- a slot is claimed for generation with a conditional UPDATE, so double clicks, two tabs and
  two requests make one attempt;
- each attempt's Idempotency-Key is stored before the first request, so a retry after a
  timeout or a crash replays the same Scripe job;
- a task acts on an attempt only while it holds its lease (a conditional UPDATE on
  `lease_until`, renewed before every call); a killed worker's lease lapses within
  GENERATION_LEASE_SECONDS and a dispatcher hands the attempt on;
- every write re-reads the attempt under a row lock and drops its update if someone else
  (a cancel, another worker) finished the attempt first.

Nobody waits for Scripe in a worker. A task takes a batch of due attempts of one workspace,
makes the calls that are due (submits, polls, fetching written posts) and returns; each
attempt records when its next step is due (`next_poll_at`). A dispatcher, running in every
`qcluster` process, hands due attempts to tasks. Attempts due together share calls: one
`GET /v1/jobs` page answers many polls, one `GET /v1/posts` page brings many posts.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from calendar_app.core import metrics
from calendar_app.core.refusals import Refusal
from calendar_app.models import GenerationJob, HookPlan, IllegalTransition, PlannedSlot
from calendar_app.notifications.services import spend_cap_notify
from calendar_app.notifications.trail import Kind, record
from calendar_app.pipeline import dispatch
from calendar_app.planning import series as series_rules
from scripe_integration import pacing
from scripe_integration.client import ScripeClient, collect_newest_first
from scripe_integration.contract import Job, ScripeError, ScripeInputError
from scripe_integration.models import ScripeConnection
from scripe_integration.sentences import Said, stored
from scripe_integration.services import (
    HELD,
    KEY_ERRORS,
    UNREACHABLE_CODES,
    ScripeNotConfigured,
    connection_for,
    credential_problem,
    describe_error,
    scripe_session,
)

logger = logging.getLogger(__name__)


FAILURE_SENTENCES = {
    # Stored on the attempt in English and translated where shown (`error_shown`).
    "content_policy": gettext_noop(
        "Scripe's content policy flagged the note. Rephrase it and retry."
    ),
    "source_unusable": gettext_noop(
        "The note did not give Scripe enough to write about. Add detail and retry."
    ),
    "provider_error": gettext_noop(
        "Scripe's AI provider failed while writing. Retrying usually works."
    ),
}


SAVED_FIELDS = [
    f.name
    for f in GenerationJob._meta.concrete_fields
    if not f.primary_key
    and f.name not in ("lease_until", "dispatched_at", "created_at", "scripe_calls")
]


# requesting --------------------------------------------------------------------------------------


def spend_cap_sentence(
    connection: ScripeConnection,
    *,
    spent: int | None = None,
    cap: int | None = None,
    then: str = "",
    countdown: bool = True,
) -> Said:
    """Why nothing can be sent to Scripe until 00:00 UTC: `spent` and `cap` (cents) as Scripe
    said them; `then`, what the reader may do after the reset ("generate after that" unless
    said); `countdown`, how long until then (not in a sentence stored for later)."""
    detail = ""
    if spent is not None and cap:
        detail = Said(gettext_noop(" (%(spent)s of %(cap)s cents spent)"), spent=spent, cap=cap)
    left = ""
    until = connection.spend_cap_reached_until
    if countdown and until is not None:
        minutes = max(1, int((until - timezone.now()).total_seconds() // 60))
        if minutes >= 60:
            left = Said(
                gettext_noop(" (in %(hours)s h %(minutes)s min)"),
                hours=minutes // 60,
                minutes=f"{minutes % 60:02d}",
            )
        else:
            left = Said(gettext_noop(" (in %(minutes)s min)"), minutes=minutes)
    return Said(
        gettext_noop(
            "Scripe's daily spend cap for this workspace is reached%(detail)s. It resets at "
            "00:00 UTC%(left)s; %(then)s."
        ),
        detail=detail,
        left=left,
        then=then or Said(gettext_noop("generate after that")),
    )


def generation_request(*, slot: PlannedSlot, user=None, steering: str = "") -> GenerationJob:
    """Queues a new attempt for the slot and enqueues the task once the transaction commits.
    A second request for a slot already in flight returns the attempt under way."""
    connection = connection_for(slot.workspace)
    if connection.blocks_generation:
        raise Refusal(
            _(
                "This workspace's Scripe key is missing or invalid, so nothing can be "
                "generated until an admin fixes it."
            )
        )
    if not slot.project.is_active:
        raise Refusal(slot.project.inactive_reason)
    if connection.spend_cap_reached_until is not None:
        # Scripe would answer 402 until its UTC day ends: say so now, send nothing.
        raise Refusal(spend_cap_sentence(connection))
    with transaction.atomic():
        if not PlannedSlot.claim_for_generation(slot.pk):
            slot.refresh_from_db()
            if slot.is_in_flight and (job := slot.jobs.filter(is_current=True).first()):
                return job
            raise Refusal(slot.locked_reason or _("This post cannot be generated now."), stale=True)
        last = slot.jobs.aggregate(last=Max("attempt"))["last"] or 0
        slot.jobs.filter(is_current=True).update(is_current=False)
        job = GenerationJob.objects.create(
            slot=slot,
            attempt=last + 1,
            idempotency_key=uuid.uuid4().hex,
            steering=steering,
            requested_by=user,
            next_poll_at=timezone.now(),
            # Its task is enqueued below; no dispatcher needs to hand it on meanwhile.
            dispatched_at=timezone.now(),
        )
        slot.refresh_from_db()
        text = (
            Said(gettext_noop("Changes requested: %(steering)s"), steering=steering)
            if steering
            else gettext_noop("Sent to Scripe.")
        )
        record(slot, kind=Kind.STATUS, actor=user, text=text)
        transaction.on_commit(lambda: dispatch.enqueue([job.pk]))
    return job


# advancing ------------------------------------------------------------------------------------


def _lease() -> timedelta:
    return timedelta(seconds=settings.GENERATION_LEASE_SECONDS)


class Lease:
    """The lease a task holds on a batch of rows (generation attempts, or any model with
    `finished` and `lease_until`: sources share it). Its expiry doubles as the holder's
    token (with random microseconds, so two holders never share one); renewing before each
    Scripe call keeps a live task's rows while a dead one's lapse soon."""

    def __init__(self, job_ids: list[int], *, model=GenerationJob) -> None:
        self.model = model
        now = timezone.now()
        self.until = self._stamp(now)
        free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
        model.objects.filter(pk__in=job_ids, finished=False).filter(free).update(
            lease_until=self.until
        )
        self.ids = set(
            model.objects.filter(pk__in=job_ids, lease_until=self.until).values_list(
                "pk", flat=True
            )
        )
        self.renewed = time.monotonic()

    def _stamp(self, now) -> timezone.datetime:
        return now + _lease() + timedelta(microseconds=random.randrange(1, 999_999))

    def renew(self, *, every: float = 3) -> None:
        """Called before each Scripe call; writes at most every few seconds."""
        if not self.ids or time.monotonic() - self.renewed < every:
            return
        until = self._stamp(timezone.now())
        self.model.objects.filter(pk__in=self.ids, lease_until=self.until).update(lease_until=until)
        self.ids = set(
            self.model.objects.filter(pk__in=self.ids, lease_until=until).values_list(
                "pk", flat=True
            )
        )
        self.until, self.renewed = until, time.monotonic()

    def release(self) -> None:
        self.model.objects.filter(pk__in=self.ids, lease_until=self.until).update(lease_until=None)
        self.ids = set()


_Lease = Lease  # the name the generation code and its tests use


def generations_advance(job_ids: list[int], *, budget: float | None = None) -> None:
    """Takes each of the attempts' next step that is due, sharing calls where it can, within
    the task's budget; the rest stay due for the next task."""
    budget = settings.GENERATION_TASK_BUDGET if budget is None else budget
    lease = _Lease(job_ids)
    if not lease.ids:
        return  # other tasks have them, or they are finished
    try:
        now = timezone.now()
        jobs = list(
            GenerationJob.objects.select_related(
                "slot__project", "slot__note", "slot__workspace", "slot__hook_plan"
            ).filter(pk__in=lease.ids, finished=False)
        )
        due = [j for j in jobs if j.next_poll_at is None or j.next_poll_at <= now + dispatch.EARLY]
        for job in due:
            job.next_poll_at = now
            job.lease = lease
        # The dispatcher's mark is spent: the next due time may be handed on again.
        GenerationJob.objects.filter(pk__in=lease.ids).update(dispatched_at=None)
        by_workspace: dict[int, list[GenerationJob]] = {}
        for job in due:
            by_workspace.setdefault(job.slot.workspace_id, []).append(job)
        deadline = time.monotonic() + budget
        for batch in by_workspace.values():
            try:
                _Batch(batch, lease=lease, deadline=deadline).run()
            except Exception:
                # A bug must not take the workspace's other attempts down with it at every
                # dispatch: these wait a while, and the log says why.
                logger.exception("generation batch %s failed", [j.pk for j in batch])
                _back_off([j.pk for j in batch], POISONED_RETRY)
    finally:
        lease.release()


# An attempt whose step raised something unexpected is tried again after this long.
POISONED_RETRY = timedelta(minutes=2)


def _back_off(job_ids: list[int], wait: timedelta) -> None:
    GenerationJob.objects.filter(pk__in=job_ids, finished=False).update(
        next_poll_at=timezone.now() + wait,
        retry_reason=gettext_noop(
            "Something went wrong on our side; trying again in a few minutes."
        ),
    )


def generation_advance(job_id: int) -> None:
    """One attempt's next step, if due."""
    generations_advance([job_id])


class _Batch:
    """One workspace's due attempts, advanced through one client."""

    def __init__(self, jobs: list[GenerationJob], *, lease: _Lease, deadline: float) -> None:
        self.jobs = jobs
        self.lease = lease
        self.deadline = deadline
        self.connection = connection_for(jobs[0].slot.workspace)
        self.stopped: ScripeError | None = None  # a workspace-wide error: stop calling

    def run(self) -> None:
        if self.connection.blocks_generation:
            message = self.connection.key_problem or Said(KEY_ERRORS["invalid_token"])
            for job in self.jobs:
                _fail(job, "key_invalid", message)
            return
        try:
            with scripe_session(self.connection) as scripe:
                self.scripe = scripe
                self._submit([j for j in self.jobs if not j.scripe_job_id and not j.finished])
                self._poll([j for j in self._open() if j.scripe_status != "DONE"])
                self._fetch_posts([j for j in self._open() if j.scripe_status == "DONE"])
        except ScripeNotConfigured as error:
            for job in self._open():
                _fail(job, "key_missing", error.said)

    def _open(self) -> list[GenerationJob]:
        """Attempts with a step due now: a submit or a poll may have made the next one due
        at once (a post to fetch), or later, for another task."""
        now = timezone.now()
        return [
            j
            for j in self.jobs
            if not j.finished and (j.next_poll_at is None or j.next_poll_at <= now)
        ]

    # each call ---------------------------------------------------------------------------
    def _call(self, jobs: list[GenerationJob], make_call, *, shared: bool = False):
        """Makes one Scripe call on behalf of `jobs` (`shared`: a listing that answers for
        all of them), counting it for each. Returns its answer, or None after a failure,
        which is dealt with here: a failure of the whole workspace (a hold, a 429, a refused
        key, no answer) also defers every attempt the batch has not reached yet."""
        if self.stopped is not None or time.monotonic() > self.deadline:
            return None
        self.lease.renew()
        jobs = [j for j in jobs if j.pk in self.lease.ids]
        if not jobs:
            return None
        before = self.scripe.calls
        try:
            return make_call()
        except ScripeInputError as error:
            for job in jobs:
                _fail(job, "invalid_input", error.message)
        except ScripeError as error:
            if _workspace_wide(error):
                self.stopped = error
                self._defer([j for j in self._open() if j not in jobs], error, start=len(jobs))
            elif shared:
                # A listing that failed says nothing about any one attempt: each is asked
                # about on its own next.
                logger.warning("a shared listing failed (%s); asking one by one", error.code)
                return None
            for job in jobs:
                _handle_error(job, error, self.connection)
        finally:
            spent = self.scripe.calls - before
            if spent:
                GenerationJob.objects.filter(pk__in=[j.pk for j in jobs]).update(
                    scripe_calls=F("scripe_calls") + spent
                )
        return None

    def _defer(self, jobs: list[GenerationJob], error: ScripeError, start: int) -> None:
        for i, job in enumerate(jobs, start=start):
            _handle_error(job, error, self.connection, place=i)

    # submitting --------------------------------------------------------------------------
    def _submit(self, jobs: list[GenerationJob]) -> None:
        if self.connection.spend_cap_reached_until is not None:
            # Attempts queued before the 402 would each get one too: none is sent.
            for job in jobs:
                _fail(
                    job,
                    "spend_cap_exceeded",
                    spend_cap_sentence(self.connection, countdown=False),
                )
            return
        for job in jobs:
            if job.finished:
                continue
            snapshot = self._call([job], lambda job=job: _send_generation(job, self.scripe))
            if snapshot is not None:
                logger.info(
                    "Generation attempt %s of slot %s sent to Scripe as %s",
                    job.pk,
                    job.slot_id,
                    snapshot.id,
                    extra={"attempt": job.pk, "slot": job.slot_id, "scripe_job": snapshot.id},
                )
                _accepted(job, snapshot)

    # polling -----------------------------------------------------------------------------
    def _poll(self, jobs: list[GenerationJob]) -> None:
        if len(jobs) > 1:
            listed = lambda: _jobs_listed(self.scripe, jobs, self.lease.renew)  # noqa: E731
            found = self._call(jobs, listed, shared=True) or {}
            for job in jobs:
                if job.scripe_job_id in found:
                    job.polls += 1
                    _apply(job, found[job.scripe_job_id])
            jobs = [j for j in jobs if j.scripe_job_id not in found and not j.finished]
        for job in jobs:
            snapshot = self._call([job], lambda job=job: self.scripe.get_job(job.scripe_job_id))
            if snapshot is not None:
                job.polls += 1
                _apply(job, snapshot)

    # fetching written posts --------------------------------------------------------------
    def _fetch_posts(self, jobs: list[GenerationJob]) -> None:
        for job in [j for j in jobs if not j.post_id]:
            _fail(
                job,
                "no_post",
                gettext_noop("Scripe finished but returned no post. Retry to generate again."),
            )
        jobs = [j for j in jobs if j.post_id and not j.finished]
        by_project: dict[str, list[GenerationJob]] = {}
        for job in jobs:
            by_project.setdefault(job.slot.project.scripe_id, []).append(job)
        for project_id, group in by_project.items():
            found = {}
            if len(group) > 1:
                listed = lambda p=project_id, g=group: _posts_listed(  # noqa: E731
                    self.scripe, p, g, self.lease.renew
                )
                found = self._call(group, listed, shared=True) or {}
            for job in group:
                post = found.get(job.post_id) or self._call(
                    [job], lambda job=job: self.scripe.get_post(job.post_id)
                )
                if post is not None:
                    _written(job, post)


def _workspace_wide(error: ScripeError) -> bool:
    return (
        error.code in (HELD, "rate_limited")
        or error.code in KEY_ERRORS
        or error.code in UNREACHABLE_CODES
    )


# How far back a listing looks past the oldest thing it answers for: clocks differ.
LISTING_MARGIN = timedelta(minutes=10)


def _oldest(jobs: list[GenerationJob]) -> timezone.datetime:
    return min(j.accepted_at or j.submitted_at or timezone.now() for j in jobs) - LISTING_MARGIN


def _jobs_listed(scripe: ScripeClient, jobs: list[GenerationJob], renew) -> dict[str, Job]:
    """The attempts' Scripe jobs, from `GET /v1/jobs` pages (newest first), read only as far
    back as the oldest of them; the lease is renewed while pages arrive."""
    oldest = _oldest(jobs)
    listed = scripe.iter_jobs(type=["POST_GENERATION"], date_from=f"{oldest:%Y-%m-%d}")
    wanted = {j.scripe_job_id for j in jobs}
    return collect_newest_first(listed, wanted, back_to=oldest, on_item=renew)


def _posts_listed(scripe: ScripeClient, project_id: str, jobs: list[GenerationJob], renew):
    """The attempts' written posts, from the project's `GET /v1/posts` pages (newest first),
    read only as far back as the oldest attempt."""
    oldest = _oldest(jobs)
    listed = scripe.iter_posts(project_id, date_from=f"{oldest:%Y-%m-%d}")
    return collect_newest_first(listed, {j.post_id for j in jobs}, back_to=oldest, on_item=renew)


def source_text(note_text: str, steering: str = "", series: str = "", origin: str = "") -> str:
    """What Scripe is asked to write from: the note, where it comes from (a hook of a
    recording or document), and the reviewer's words for a rewrite."""
    if origin:  # A hook picked from a source (#26): the source steers the post.
        note_text = f"{note_text}\n\n{origin}"
    if series:  # An occurrence of a recurring series (#15): which one, so posts differ.
        note_text = f"{note_text}\n\n{series}"
    if steering:
        return f"{note_text}\n\nReviewer's feedback for this version: {steering}"
    return note_text


def _origin_of(slot: PlannedSlot) -> str:
    """The steering of the source hook the post was planned from, if it was."""
    try:
        return slot.hook_plan.steering
    except HookPlan.DoesNotExist:
        return ""


def _send_generation(job: GenerationJob, scripe: ScripeClient) -> Job:
    slot = job.slot
    job.submitted_at = job.submitted_at or timezone.now()
    job.submit_tries += 1
    # Direct scheduling: Scripe schedules the post itself as soon as it is written.
    direct = not slot.workspace.review_required
    return scripe.generate_post(
        slot.project.scripe_id,
        source_text(
            slot.note.text, job.steering, series_rules.steering_for(slot), _origin_of(slot)
        ),
        idempotency_key=job.idempotency_key,
        language=slot.note.language,
        scheduled_for=slot.scheduled_for if direct else None,
    )


def _accepted(job: GenerationJob, snapshot: Job) -> None:
    # Scripe's own clock for the job's start, so the pacing does not count our wait twice.
    job.accepted_at = job.accepted_at or snapshot.created_at or timezone.now()
    if snapshot.replayed and not snapshot.is_terminal:
        # A replay repeats the first answer (say QUEUED, from minutes ago), not the job's
        # state now: ask for that at once rather than judge the job by an old snapshot.
        job.scripe_job_id = snapshot.id
        job.next_poll_at = timezone.now()
        job.error_streak = 0
        job.retry_reason = ""
        _commit(job, transition="generating")
        return
    _apply(job, snapshot)


def snapshot_take(row, snapshot: Job) -> int | None:
    """Copies what a job's snapshot says onto the row that follows it (a generation, a
    source's or a knowledge document's ingest) and clears its retry state; returns the
    estimate it had before, which `next_poll` weighs against the new one."""
    previous_estimate = row.estimated_completion_ms
    row.scripe_job_id = snapshot.id
    row.scripe_status = snapshot.status
    row.progress = snapshot.progress
    row.progress_message = (snapshot.progress_message or "")[:200]
    row.estimated_completion_ms = snapshot.estimated_completion_ms
    row.started_at = snapshot.started_at or row.started_at
    row.retry_reason = ""
    row.error_streak = 0
    return previous_estimate


def _apply(job: GenerationJob, snapshot: Job) -> None:
    now = timezone.now()
    previous_estimate = snapshot_take(job, snapshot)
    job.attempt_count = snapshot.attempt_count
    job.completed_at = snapshot.completed_at or job.completed_at
    if snapshot.status == "DONE":
        # The post is fetched next, in this batch or, if that fails, the next one.
        job.post_id = snapshot.post_id or ""
        job.next_poll_at = now
        _commit(job, transition="generating")
    elif snapshot.status == "FAILED":
        code = snapshot.error_code or "failed"
        sentence = FAILURE_SENTENCES.get(code)
        message = sentence or Said(
            gettext_noop("Scripe could not write the post: %(reason)s"),
            reason=snapshot.error_message or code,
        )
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
                Said(
                    gettext_noop(
                        "Scripe did not finish within %(minutes)s minutes; we stopped waiting. "
                        "Retry to start again."
                    ),
                    minutes=minutes,
                ),
            )
            return
        job.stalled, job.next_poll_at = next_poll(
            job, accepted_at=accepted, now=now, previous_estimate_ms=previous_estimate
        )
        _commit(job, transition="generating")


def next_poll(
    row, *, accepted_at: datetime, now: datetime, previous_estimate_ms: int | None
) -> tuple[bool, datetime]:
    """Whether a job Scripe still runs looks stalled, and when to ask about it again: the
    pacing rule read from the row's last snapshot (`estimated_completion_ms`, `started_at`,
    `progress`). Generations, source ingests and knowledge ingests are followed alike."""
    stalled = pacing.is_stalled(
        accepted_at=accepted_at, now=now, estimate_ms=row.estimated_completion_ms
    )
    delay = pacing.next_poll_delay(
        accepted_at=accepted_at,
        started_at=row.started_at,
        now=now,
        estimate_ms=row.estimated_completion_ms,
        previous_estimate_ms=previous_estimate_ms,
        progress=row.progress,
        stalled=stalled,
    )
    return stalled, now + timedelta(seconds=delay)


def _written(job: GenerationJob, post) -> None:
    job.post_title = post.title[:500]
    job.post_content = post.content
    job.finished = True
    job.next_poll_at = None
    job.progress = 1.0
    _commit(job, transition="scheduled" if post.status == "scheduled" else "ready")


def _handle_error(
    job: GenerationJob, error: ScripeError, connection: ScripeConnection, *, place: int = 0
) -> None:
    """`place`: the attempt's place among those a rate-limit hold sent waiting."""
    now = timezone.now()
    if error.code in (HELD, "rate_limited"):
        # Nothing went wrong with this attempt: it waits its turn without counting a failure.
        # The waiters are spread over the limit's pace, and none sooner than one share of
        # it, so a hold ends with one call at a time, not a crowd retrying every instant.
        step = pacing.spacing(connection.rate_limit) or 0.5
        wait = max(error.retry_after or pacing.BACKOFF_BASE, step) + place * step
        job.next_poll_at = now + timedelta(seconds=wait)
        job.retry_reason = gettext_noop("Waiting for Scripe's rate limit to reset.")
        _commit(job)
    elif error.code in KEY_ERRORS:  # scripe_session has already marked the key invalid
        _fail(job, error.code, credential_problem(connection, error))
    elif error.code == "spend_cap_exceeded":
        connection.note_spend_cap(error.meta)
        spent, cap = error.meta.get("spentCents"), error.meta.get("capCents")
        spend_cap_notify(workspace_id=connection.workspace_id, spent=spent, cap=cap)
        _fail(
            job, error.code, spend_cap_sentence(connection, spent=spent, cap=cap, countdown=False)
        )
    elif error.retryable:
        waited = now - (job.submitted_at or now)
        if not job.scripe_job_id and waited > pacing.SUBMIT_GIVE_UP_AFTER:
            _fail(
                job,
                "scripe_unreachable",
                gettext_noop(
                    "Scripe could not be reached for 15 minutes, so the post was not written. "
                    "Retry later."
                ),
            )
            return
        job.error_streak += 1
        delay = pacing.backoff(job.error_streak, error.retry_after)
        job.next_poll_at = now + timedelta(seconds=delay)
        job.retry_reason = _retry_reason(error)
        _commit(job)
    elif error.code == "not_found" and job.scripe_job_id:
        _fail(
            job,
            "job_lost",
            gettext_noop("Scripe no longer knows this job. Retry to generate again."),
        )
    else:
        _fail(job, error.code, describe_error(error))


def _retry_reason(error: ScripeError) -> str:
    """Why an attempt waits, beside its "Retrying in 5 s.": what went wrong and that the
    calendar is on it. Not `describe_error`, whose "Try again in a minute" is for a person
    whose own request failed (#24)."""
    if error.code in UNREACHABLE_CODES:
        return gettext_noop("Scripe could not be reached; the calendar keeps trying on its own.")
    return gettext_noop("Scripe had a temporary problem; the calendar keeps trying on its own.")


def _fail(job: GenerationJob, code: str, message: str) -> None:
    """`message`: a fixed sentence (`gettext_noop`), Scripe's words, or a `Said`."""
    job.error_code = code[:60]
    job.error_message, job.error_params = stored(message, 500)
    job.finished = True
    job.next_poll_at = None
    job.retry_reason = ""
    _commit(job, transition="failed")


def _commit(job: GenerationJob, transition: str | None = None) -> bool:
    """Saves the attempt and moves its slot, unless someone else finished the attempt first."""
    with transaction.atomic():
        current = (
            GenerationJob.objects.select_for_update()
            .filter(pk=job.pk)
            .values("finished", "lease_until")
        )
        if not current or current[0]["finished"]:
            return False
        lease = getattr(job, "lease", None)
        if lease is not None and current[0]["lease_until"] != lease.until:
            # The lease lapsed while this task worked and another task holds the attempt
            # now: its word counts, not this stale copy's.
            return False
        # Never the lease: the worker renews it in the database behind this object's back.
        job.save(update_fields=SAVED_FIELDS)
        # The card shows the attempt (progress, a retry reason), so it changed too: open
        # pages ask for slots changed since they last looked.
        PlannedSlot.objects.filter(pk=job.slot_id).update(updated_at=timezone.now())
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
            # A failure says why, as the attempt stored it.
            text = _EVENT_TEXT.get(slot.status) or Said.restored(
                job.error_message, job.error_params
            )
            record(slot, kind=Kind.STATUS, text=text)
        job.slot = slot
    if transition in _OUTCOMES:
        _count(job, transition)
    return True


_OUTCOMES = ("ready", "scheduled", "failed", "cancelled")


def _count(job: GenerationJob, outcome: str) -> None:
    """An attempt that ended: one log line (with the id of the request that asked for it),
    and for /metrics, its outcome and, for a draft, how long since the click."""
    metrics.GENERATIONS.labels(outcome).inc()
    waited = (timezone.now() - job.created_at).total_seconds() if job.created_at else None
    if outcome in ("ready", "scheduled") and waited is not None:
        metrics.CLICK_TO_DRAFT.observe(max(waited, 0.0))
    logger.info(
        "Generation attempt %s of slot %s ended %s after %.1f s",
        job.pk,
        job.slot_id,
        outcome,
        waited or 0.0,
        extra={"attempt": job.pk, "slot": job.slot_id, "outcome": outcome},
    )


_EVENT_TEXT = {
    # The trail stores English and translates where shown.
    "generating": gettext_noop("Scripe started writing."),
    "in_review": gettext_noop("Draft ready for review."),
    "scheduled": gettext_noop("Written and scheduled in Scripe."),
    "cancelled": gettext_noop("Generation cancelled."),
}


# cancelling ------------------------------------------------------------------------------------


def generation_cancel(*, slot: PlannedSlot) -> str:
    """Cancels the slot's attempt while Scripe has not started it. Returns what happened."""
    job = slot.jobs.filter(is_current=True).first()
    if not slot.is_in_flight or job is None or job.finished:
        raise Refusal(_("Only a generation that is under way can be cancelled."), stale=True)
    if not job.scripe_job_id:
        lease = _Lease([job.pk])
        if not lease.ids:
            raise Refusal(_("The request is reaching Scripe right now; try again in a moment."))
        try:
            job.refresh_from_db()
            if not job.scripe_job_id:
                job.finished = True
                job.next_poll_at = None
                _commit(job, transition="cancelled")
                return _("Cancelled before it reached Scripe.")
        finally:
            lease.release()
    connection = connection_for(slot.workspace)
    try:
        with scripe_session(connection) as scripe:
            try:
                snapshot = scripe.cancel_job(job.scripe_job_id)
            except ScripeError as error:
                if error.code != "not_cancellable":
                    raise
                snapshot = scripe.get_job(job.scripe_job_id)
                _apply(job, snapshot)
                raise Refusal(
                    _(
                        "Scripe has already started writing this post, so it can no longer be "
                        "cancelled. It will be ready for review shortly."
                    )
                ) from None
            _apply(job, snapshot)
    except ScripeError as error:
        raise Refusal(
            _("Could not cancel: %(reason)s") % {"reason": describe_error(error).shown()}
        ) from None
    return _("Generation cancelled.")
