"""Sending sources to Scripe and following their ingest, paced like generations.

A task takes a lease (`pipeline.generation.Lease`) on a batch of one workspace's due
sources and takes each one's next step:

- a file: `POST /v1/uploads`, the PUT of the file streamed from disk (progress written as it
  goes), then `POST /v1/sources` with `type: "file"` and the source's own Idempotency-Key; a
  PUT that breaks off is sent again to the same URL (backoff), an expired URL gets a new
  upload, and a lost answer to the source request is replayed by Scripe, not repeated;
- a text or a link: the text (a link's page read as text through the destination rule) goes
  to `POST /v1/sources` with `type: "text"`, which answers the source at once;
- a SOURCE_INGEST_FILE job: polled when Scripe's estimate and progress say (the generation
  pacing), several sources' jobs through one `GET /v1/jobs` listing; once DONE the source is
  read (`GET /v1/sources/{id}`): text preview, duration, topics and hooks; the move to
  ready tells the outgoing webhooks (source.ready).

Once Scripe has the file the app's copy is deleted. Nothing of a file's name or content is
logged: log lines name the source's id only. No worker waits for Scripe: each source records
when its next step is due (`next_poll_at`) and the dispatcher hands it on then.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_noop

from calendar_app.models import Source, SourceKind, SourceStatus
from calendar_app.outbound.events import source_ready_tell
from calendar_app.pipeline import dispatch
from calendar_app.pipeline.generation import Lease, next_poll, snapshot_take
from calendar_app.sources.services import local_copy_delete, upload_file
from scripe_integration import pacing
from scripe_integration.client import ScripeClient, collect_newest_first, fetch_text
from scripe_integration.contract import Job, ScripeError, ScripeInputError, Upload
from scripe_integration.destinations import local_hosts_allowed
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

# Stored in English and shown in the reader's language (scripe_integration/sentences.py).
FAILURE_ADVICE = {
    "transcription_failed": gettext_noop(
        "Check that the recording has speech (or the document has text) and upload it again."
    ),
    "unsupported_media": gettext_noop("Export it again as MP3 or MP4 and upload that."),
}
GENERIC_ADVICE = gettext_noop("Upload it again; if it fails again, try another format.")
URL_TEXT_MAX_BYTES = 1024 * 1024
# Progress of a PUT is written at most this often (seconds).
PROGRESS_EVERY = 1.0
POISONED_RETRY = timedelta(minutes=2)


def sources_advance(source_ids: list[int], *, budget: float | None = None) -> None:
    """Takes each of the sources' next step that is due, within the task's budget."""
    budget = settings.GENERATION_TASK_BUDGET if budget is None else budget
    lease = Lease(source_ids, model=Source)
    if not lease.ids:
        return
    try:
        now = timezone.now()
        rows = list(
            Source.objects.select_related("project", "workspace").filter(
                pk__in=lease.ids, finished=False
            )
        )
        due = [s for s in rows if s.next_poll_at is None or s.next_poll_at <= now + dispatch.EARLY]
        Source.objects.filter(pk__in=lease.ids).update(dispatched_at=None)
        by_workspace: dict[int, list[Source]] = {}
        for source in due:
            by_workspace.setdefault(source.workspace_id, []).append(source)
        deadline = time.monotonic() + budget
        for batch in by_workspace.values():
            try:
                _Batch(batch, lease=lease, deadline=deadline).run()
            except Exception:
                logger.exception("source batch %s failed", [s.pk for s in batch])
                Source.objects.filter(pk__in=[s.pk for s in batch], finished=False).update(
                    next_poll_at=timezone.now() + POISONED_RETRY,
                    retry_reason=gettext_noop(
                        "Something went wrong on our side; trying again in a few minutes."
                    ),
                    updated_at=timezone.now(),
                )
    finally:
        lease.release()


def source_advance(source_id: int) -> None:
    sources_advance([source_id])


class _Batch:
    def __init__(self, sources: list[Source], *, lease: Lease, deadline: float) -> None:
        self.sources = sources
        self.lease = lease
        self.deadline = deadline
        self.connection = connection_for(sources[0].workspace)
        self.stopped: ScripeError | None = None

    def run(self) -> None:
        if self.connection.blocks_generation:
            message = self.connection.key_problem or Said(KEY_ERRORS["invalid_token"])
            for source in self.sources:
                _fail(source, "key_invalid", message)
            return
        try:
            with scripe_session(self.connection) as scripe:
                self.scripe = scripe
                for source in [s for s in self.sources if not s.scripe_job_id]:
                    if source.kind == SourceKind.FILE:
                        self._send_file(source)
                    else:
                        self._send_text(source)
                self._poll([s for s in self.sources if s.scripe_job_id and not s.finished])
        except ScripeNotConfigured as error:
            for source in self.sources:
                if not source.finished:
                    _fail(source, "key_missing", error.said)

    def _call(self, sources: list[Source], make_call):
        if self.stopped is not None or time.monotonic() > self.deadline:
            return None
        self.lease.renew()
        sources = [s for s in sources if s.pk in self.lease.ids and not s.finished]
        if not sources:
            return None
        before = self.scripe.calls
        try:
            return make_call()
        except ScripeInputError as error:
            for source in sources:
                _fail(source, "invalid_input", error.message)
        except ScripeError as error:
            if _workspace_wide(error):
                self.stopped = error
                # The batch's other due sources wait as well, rather than be handed on again
                # at once into the same refusal.
                now = timezone.now()
                for other in self.sources:
                    due = other.next_poll_at is None or other.next_poll_at <= now
                    if other not in sources and not other.finished and due:
                        _handle_error(other, error, self.connection)
            for source in sources:
                _handle_error(source, error, self.connection)
        finally:
            spent = self.scripe.calls - before
            if spent:
                Source.objects.filter(pk__in=[s.pk for s in sources]).update(
                    scripe_calls=F("scripe_calls") + spent
                )
        return None

    # sending -----------------------------------------------------------------------------
    def _send_file(self, source: Source) -> None:
        source.submitted_at = source.submitted_at or timezone.now()
        if not source.upload_id or source.uploaded_bytes < source.size_bytes:
            if not source.local_path:
                _fail(
                    source,
                    "file_missing",
                    gettext_noop(
                        "The app no longer has this file, so it cannot be sent. Upload it again."
                    ),
                )
                return
            if source.status == SourceStatus.RECEIVED:
                source.move(SourceStatus.RECEIVED, SourceStatus.UPLOADING)
            uploaded = self._call([source], lambda: self._upload(source))
            if uploaded is None:
                return
        job = self._call(
            [source],
            lambda: self.scripe.create_file_source(
                source.project.scripe_id,
                source.upload_id,
                name=source.name,
                idempotency_key=source.idempotency_key,
            ),
        )
        if job is not None:
            _accepted(source, job)

    def _upload(self, source: Source) -> Upload:
        """The reusable upload step, with this source's bookkeeping around it."""
        earlier = None
        if source.upload_id and source.upload_url:
            expired = source.upload_expires_at and source.upload_expires_at <= timezone.now()
            if not expired:
                earlier = Upload(
                    id=source.upload_id,
                    upload_url=source.upload_url,
                    content_type=source.content_type,
                    max_size_bytes=source.size_bytes,
                    expires_at=source.upload_expires_at,
                )
        if earlier is None and source.upload_id:
            # The earlier URL expired before its PUT completed: a new upload, a new round.
            source.upload_round += 1
        last = {"at": time.monotonic()}

        def progress(sent: int) -> None:
            self.lease.renew()
            if time.monotonic() - last["at"] >= PROGRESS_EVERY:
                last["at"] = time.monotonic()
                Source.objects.filter(pk=source.pk).update(
                    uploaded_bytes=sent, updated_at=timezone.now()
                )

        if earlier is None:
            handle = self.scripe.create_upload(
                source.content_type, max_size_bytes=source.size_bytes
            )
            source.upload_id, source.upload_url = handle.id, handle.upload_url
            source.upload_expires_at = handle.expires_at
            source.uploaded_bytes = 0
            _save(source)
            earlier = handle
        try:
            upload_file(
                self.scripe,
                path=source.local_path,
                content_type=source.content_type,
                size=source.size_bytes,
                upload=earlier,
                on_progress=progress,
            )
        except ScripeError as error:
            if error.code == "upload_used":
                # An earlier PUT completed but its answer was lost: Scripe has the file.
                pass
            elif error.code == "upload_expired":
                source.upload_url = ""
                source.upload_expires_at = timezone.now()
                _save(source)
                raise
            else:
                raise
        source.uploaded_bytes = source.size_bytes
        source.retry_reason = ""
        source.error_streak = 0
        _save(source)
        return earlier

    def _send_text(self, source: Source) -> None:
        if source.kind == SourceKind.URL:
            text = self._call([source], lambda: _page_text(source))
        else:
            text = self._call([source], lambda: _local_text(source))
        if text is None:
            return
        answer = self._call(
            [source],
            lambda: self.scripe.create_text_source(
                source.project.scripe_id,
                text,
                name=source.name,
                idempotency_key=source.idempotency_key,
            ),
        )
        if answer is not None:
            local_copy_delete(source)
            _ready(source, answer)

    # polling -----------------------------------------------------------------------------
    def _poll(self, sources: list[Source]) -> None:
        now = timezone.now()
        sources = [s for s in sources if s.next_poll_at is None or s.next_poll_at <= now]
        if len(sources) > 1:
            found = (
                self._call(sources, lambda: _jobs_listed(self.scripe, sources, self.lease)) or {}
            )
            for source in sources:
                if source.scripe_job_id in found:
                    self._apply(source, found[source.scripe_job_id])
            sources = [s for s in sources if s.scripe_job_id not in found and not s.finished]
        for source in sources:
            job = self._call([source], lambda s=source: self.scripe.get_job(s.scripe_job_id))
            if job is not None:
                self._apply(source, job)

    def _apply(self, source: Source, job: Job) -> None:
        source.polls += 1
        _apply(source, job)
        if job.status == "DONE" and not source.finished:
            if not job.source_id:
                _fail(
                    source,
                    "no_source",
                    Said.both(gettext_noop("Scripe finished but named no source."), GENERIC_ADVICE),
                )
                return
            answer = self._call([source], lambda: self.scripe.get_source(job.source_id))
            if answer is not None:
                _ready(source, answer)


def _workspace_wide(error: ScripeError) -> bool:
    return (
        error.code in (HELD, "rate_limited")
        or error.code in KEY_ERRORS
        or error.code in UNREACHABLE_CODES
    )


def _local_text(source: Source) -> str:
    if not source.local_path:
        raise ScripeInputError(
            "text", gettext_noop("The app no longer has this text. Add it again.")
        )
    with open(source.local_path, encoding="utf-8") as handle:
        return handle.read()


def _page_text(source: Source) -> str:
    try:
        text = fetch_text(
            source.url, max_bytes=URL_TEXT_MAX_BYTES, allow_local_hosts=local_hosts_allowed()
        )
    except ScripeError as error:
        if error.retryable:
            raise
        raise ScripeInputError("url", error.message) from None
    if not text.strip():
        raise ScripeInputError("url", gettext_noop("The page has no text to take ideas from."))
    return text[: URL_TEXT_MAX_BYTES // 4]


def _jobs_listed(scripe: ScripeClient, sources: list[Source], lease: Lease) -> dict[str, Job]:
    oldest = min(s.accepted_at or s.created_at for s in sources) - timedelta(minutes=10)
    listed = scripe.iter_jobs(type=["SOURCE_INGEST_FILE"], date_from=f"{oldest:%Y-%m-%d}")
    wanted = {s.scripe_job_id for s in sources}
    return collect_newest_first(listed, wanted, back_to=oldest, on_item=lease.renew)


# writing the outcome -----------------------------------------------------------------------------

SAVED_FIELDS = [
    f.name
    for f in Source._meta.concrete_fields
    if not f.primary_key
    and f.name
    not in ("lease_until", "dispatched_at", "created_at", "scripe_calls", "status", "public_id")
]


def _save(source: Source, *, status: str | None = None) -> bool:
    """Saves the source (and moves its status), unless it finished meanwhile."""
    with transaction.atomic():
        current = Source.objects.select_for_update().filter(pk=source.pk).values("finished")
        if not current or current[0]["finished"]:
            return False
        source.updated_at = timezone.now()
        source.save(update_fields=SAVED_FIELDS)
        if status is not None and status != source.status:
            source.move(source.status, status)
    return True


def _accepted(source: Source, job: Job) -> None:
    """Scripe took the file: the app's copy goes, and the job is followed."""
    source.accepted_at = source.accepted_at or job.created_at or timezone.now()
    source.submitted_at = source.submitted_at or timezone.now()
    source.scripe_job_id = job.id
    local_copy_delete(source)
    if job.replayed and not job.is_terminal:
        source.next_poll_at = timezone.now()
        source.error_streak, source.retry_reason = 0, ""
        _save(source, status=SourceStatus.INGESTING)
        return
    _apply(source, job)


def _apply(source: Source, job: Job) -> None:
    now = timezone.now()
    previous = snapshot_take(source, job)
    if job.status == "DONE":
        source.next_poll_at = now
        _save(source, status=SourceStatus.INGESTING)
    elif job.status in ("FAILED", "CANCELLED"):
        reason = job.error_message or job.error_code or "–"
        advice = FAILURE_ADVICE.get(job.error_code or "", GENERIC_ADVICE)
        failure = Said(gettext_noop("Scripe could not ingest it: %(reason)s"), reason=reason)
        _fail(source, job.error_code or "failed", Said.both(failure, advice))
    else:
        accepted = source.accepted_at or now
        if now - accepted > pacing.GIVE_UP_AFTER:
            _fail(
                source,
                "gave_up",
                Said.both(
                    Said(
                        gettext_noop(
                            "Scripe did not finish within %(minutes)s minutes; we stopped waiting."
                        ),
                        minutes=int(pacing.GIVE_UP_AFTER.total_seconds() // 60),
                    ),
                    GENERIC_ADVICE,
                ),
            )
            return
        _, source.next_poll_at = next_poll(
            source, accepted_at=accepted, now=now, previous_estimate_ms=previous
        )
        _save(source, status=SourceStatus.INGESTING)


def _ready(source: Source, answer) -> None:
    source.scripe_source_id = answer.id
    source.text_preview = answer.text_preview
    source.text_preview_truncated = answer.text_preview_truncated
    source.duration_seconds = answer.duration_seconds
    source.topics = [
        {
            "id": topic.id,
            "title": topic.title,
            "summary": topic.summary,
            "keyTakeaways": list(topic.key_takeaways),
            "fromSeconds": topic.from_seconds,
            "toSeconds": topic.to_seconds,
            "hooks": [
                {"id": hook.id, "content": hook.content, "postType": hook.post_type}
                for hook in topic.hooks
            ],
        }
        for topic in answer.topics
    ]
    source.progress = 1.0
    source.next_poll_at = None
    source.finished = True
    with transaction.atomic():
        current = Source.objects.select_for_update().filter(pk=source.pk).values("finished")
        if not current or current[0]["finished"]:
            return
        source.updated_at = timezone.now()
        source.save(update_fields=[*SAVED_FIELDS])
        source.move(source.status, SourceStatus.READY)
        # Once, here, where the conditional move to ready won: the webhook source.ready.
        source_ready_tell(source_id=source.pk, workspace_id=source.workspace_id)


def _handle_error(source: Source, error: ScripeError, connection) -> None:
    now = timezone.now()
    if error.code in (HELD, "rate_limited"):
        step = pacing.spacing(connection.rate_limit) or 0.5
        source.next_poll_at = now + timedelta(seconds=max(error.retry_after or 2.0, step))
        source.retry_reason = gettext_noop("Waiting for Scripe's rate limit to reset.")
        _save(source)
    elif error.code in KEY_ERRORS:
        _fail(source, error.code, credential_problem(connection, error))
    elif error.code == "upload_expired":
        source.next_poll_at = now
        source.retry_reason = gettext_noop(
            "The upload address expired; asking Scripe for a new one."
        )
        _save(source)
    elif error.retryable:
        waited = now - (source.submitted_at or source.created_at)
        if not source.scripe_job_id and waited > pacing.SUBMIT_GIVE_UP_AFTER:
            _fail(
                source,
                "scripe_unreachable",
                gettext_noop(
                    "The file could not be sent to Scripe for 15 minutes. Upload it again later."
                ),
            )
            return
        source.error_streak += 1
        source.next_poll_at = now + timedelta(
            seconds=pacing.backoff(source.error_streak, error.retry_after)
        )
        if error.code == "upload_interrupted":
            source.retry_reason = gettext_noop(
                "The upload to Scripe broke off; sending the file again."
            )
        elif error.code in UNREACHABLE_CODES:
            source.retry_reason = gettext_noop(
                "Scripe could not be reached; the calendar keeps trying."
            )
        else:
            source.retry_reason = gettext_noop(
                "Scripe had a temporary problem; the calendar keeps trying."
            )
        _save(source)
        logger.info("source %s waits after %s", source.public_id, error.code)
    elif error.code == "unprocessable" and source.upload_id and not source.scripe_job_id:
        # Scripe does not have the file after all (the PUT never completed): a new upload.
        source.upload_id, source.upload_url, source.uploaded_bytes = "", "", 0
        source.upload_round += 1
        source.error_streak += 1
        source.next_poll_at = now + timedelta(seconds=pacing.backoff(source.error_streak))
        _save(source)
    elif error.code == "not_found" and source.scripe_job_id:
        _fail(
            source,
            "job_lost",
            Said.both(gettext_noop("Scripe no longer knows this job."), GENERIC_ADVICE),
        )
    else:
        _fail(source, error.code, describe_error(error))


def _fail(source: Source, code: str, message: str) -> None:
    """`message`: a fixed sentence (`gettext_noop`), Scripe's words, or a `Said`."""
    source.error_code = code[:60]
    source.error_message, source.error_params = stored(message, 500)
    source.next_poll_at = None
    source.retry_reason = ""
    with transaction.atomic():
        current = Source.objects.select_for_update().filter(pk=source.pk).values("finished")
        if not current or current[0]["finished"]:
            return
        source.finished = True
        source.updated_at = timezone.now()
        source.save(update_fields=SAVED_FIELDS)
        source.move(source.status, SourceStatus.FAILED)
    logger.info("source %s failed: %s", source.public_id, code)
