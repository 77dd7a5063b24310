"""Following a document's ingest in Scripe: submit, poll, indexed (or failed).

The same machinery as a generation (`pipeline/generation.py`), so the same guarantees: the
idempotency key is stored before the first request (a retry replays the job); a task acts
on a document only while it holds its lease (`generation.Lease`), and a killed worker's
documents are handed on once it lapses; nobody waits for Scripe in a worker: a task makes
the calls that are due and records when the next one is (`next_poll_at`), and the
dispatcher hands it on then; documents polled together share one `GET /v1/jobs` listing.
A document leaves `indexing` once, by a conditional UPDATE, whether the poll or the
`knowledge.indexed` webhook (`pipeline/webhooks.py`) gets there first.

A file goes to Scripe first through the sources' upload step (`sources.services.upload_file`:
`POST /v1/uploads`, then the PUT streamed from disk); the app deletes its own copy once
Scripe took the ingest.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_noop

from calendar_app.knowledge.services import ADD_AFTER_THAT
from calendar_app.models import KnowledgeDocument, KnowledgeKind, KnowledgeState
from calendar_app.notifications.services import spend_cap_notify
from calendar_app.pipeline import dispatch
from calendar_app.pipeline.generation import Lease, next_poll, snapshot_take, spend_cap_sentence
from calendar_app.sources.services import local_copy_delete, upload_file
from scripe_integration import pacing
from scripe_integration.client import ScripeClient, collect_newest_first
from scripe_integration.contract import KNOWLEDGE_JOB_TYPES, Job, ScripeError, ScripeInputError
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

# What a poll or a submit learns, written while the document is still indexing.
PROGRESS_FIELDS = [
    "upload_id",
    "scripe_job_id",
    "scripe_status",
    "progress",
    "progress_message",
    "estimated_completion_ms",
    "submitted_at",
    "accepted_at",
    "started_at",
    "completed_at",
    "next_poll_at",
    "submit_tries",
    "error_streak",
    "polls",
    "retry_reason",
]

# A document whose step raised something unexpected is tried again after this long.
POISONED_RETRY = timedelta(minutes=2)

LISTING_MARGIN = timedelta(minutes=10)


def knowledge_advance(document_ids: list[int], *, budget: float | None = None) -> None:
    """Takes each of the documents' next step that is due, sharing calls where it can,
    within the task's budget; the rest stay due for the next task."""
    budget = settings.GENERATION_TASK_BUDGET if budget is None else budget
    lease = Lease(document_ids, model=KnowledgeDocument)
    if not lease.ids:
        return  # other tasks have them, or they are finished
    try:
        now = timezone.now()
        documents = list(
            KnowledgeDocument.objects.select_related("workspace", "project").filter(
                pk__in=lease.ids, finished=False
            )
        )
        # The dispatcher's mark is spent: the next due time may be handed on again.
        KnowledgeDocument.objects.filter(pk__in=lease.ids).update(dispatched_at=None)
        due = [
            d for d in documents if d.next_poll_at is None or d.next_poll_at <= now + dispatch.EARLY
        ]
        by_workspace: dict[int, list[KnowledgeDocument]] = {}
        for document in due:
            by_workspace.setdefault(document.workspace_id, []).append(document)
        deadline = time.monotonic() + budget
        for batch in by_workspace.values():
            try:
                _Batch(batch, lease=lease, deadline=deadline).run()
            except Exception:
                # A bug must not take the workspace's other documents down with it at every
                # dispatch: these wait a while, and the log says why.
                logger.exception("knowledge batch %s failed", [d.pk for d in batch])
                KnowledgeDocument.objects.filter(
                    pk__in=[d.pk for d in batch], finished=False
                ).update(
                    next_poll_at=timezone.now() + POISONED_RETRY,
                    retry_reason=gettext_noop(
                        "Something went wrong on our side; trying again in a few minutes."
                    ),
                )
    finally:
        lease.release()


class _Batch:
    """One workspace's due documents, advanced through one client."""

    def __init__(
        self, documents: list[KnowledgeDocument], *, lease: Lease, deadline: float
    ) -> None:
        self.documents = documents
        self.lease = lease
        self.deadline = deadline
        self.connection = connection_for(documents[0].workspace)
        self.stopped: ScripeError | None = None  # a workspace-wide error: stop calling

    def run(self) -> None:
        if self.connection.blocks_generation:
            message = self.connection.key_problem or Said(KEY_ERRORS["invalid_token"])
            for document in self.documents:
                self._fail(document, "key_invalid", message)
            return
        try:
            with scripe_session(self.connection) as scripe:
                self.scripe = scripe
                self._submit([d for d in self.documents if not d.scripe_job_id])
                self._poll([d for d in self._open() if d.scripe_job_id])
        except ScripeNotConfigured as error:
            for document in self._open():
                self._fail(document, "key_missing", error.said)

    def _open(self) -> list[KnowledgeDocument]:
        now = timezone.now()
        return [
            d
            for d in self.documents
            if not d.finished and (d.next_poll_at is None or d.next_poll_at <= now)
        ]

    def _call(self, documents: list[KnowledgeDocument], make_call, *, shared: bool = False):
        """Makes one Scripe call for `documents` (`shared`: a listing that answers for all of
        them). Returns its answer, or None after a failure, dealt with here: a failure of the
        whole workspace (a hold, a 429, a refused key, no answer) also defers the rest."""
        if self.stopped is not None or time.monotonic() > self.deadline:
            return None
        self.lease.renew()
        documents = [d for d in documents if d.pk in self.lease.ids]
        if not documents:
            return None
        try:
            return make_call()
        except ScripeInputError as error:
            for document in documents:
                self._fail(document, "invalid_input", error.message)
        except ScripeError as error:
            if _workspace_wide(error):
                self.stopped = error
                rest = [d for d in self._open() if d not in documents]
                for place, document in enumerate(rest, start=len(documents)):
                    self._handle_error(document, error, place=place)
            elif shared:
                logger.warning("a shared listing failed (%s); asking one by one", error.code)
                return None
            for document in documents:
                self._handle_error(document, error)
        return None

    # submitting ------------------------------------------------------------------------------
    def _submit(self, documents: list[KnowledgeDocument]) -> None:
        if self.connection.spend_cap_reached_until is not None:
            for document in documents:
                self._fail(
                    document,
                    "spend_cap_exceeded",
                    spend_cap_sentence(
                        self.connection,
                        then=ADD_AFTER_THAT,
                        countdown=False,
                    ),
                )
            return
        for document in documents:
            needs_upload = document.kind == KnowledgeKind.FILE and not document.upload_id
            if needs_upload and not self._upload(document):
                continue
            snapshot = self._call([document], lambda d=document: _send(d, self.scripe))
            if snapshot is None:
                continue
            if document.local_path:
                local_copy_delete(document)  # Scripe has it now
            document.accepted_at = document.accepted_at or snapshot.created_at or timezone.now()
            if snapshot.replayed and not snapshot.is_terminal:
                # A replay repeats the first answer, not the job's state now: ask at once.
                document.scripe_job_id = snapshot.id
                document.next_poll_at = timezone.now()
                document.error_streak = 0
                document.retry_reason = ""
                self._save(document)
            else:
                self._apply(document, snapshot)

    def _upload(self, document: KnowledgeDocument) -> bool:
        """Sends the document's file to Scripe through the sources' upload step (`POST
        /v1/uploads`, the PUT streamed from disk) and keeps the upload id, so a retry of the
        ingest reuses it. A PUT that broke off is sent again, to a new upload, next time:
        nothing refers to the first, which Scripe deletes within a day."""
        if not document.local_path or not os.path.exists(document.local_path):
            self._fail(
                document,
                "file_gone",
                gettext_noop("The app's copy of the file is gone; add it again."),
            )
            return False
        upload = self._call(
            [document],
            lambda: upload_file(
                self.scripe,
                path=document.local_path,
                content_type=document.content_type,
                size=document.size_bytes or os.path.getsize(document.local_path),
                on_progress=lambda sent: self.lease.renew(),
            ),
        )
        if upload is None:
            return False
        document.upload_id = upload.id
        self._save(document)
        return not document.finished

    # polling ---------------------------------------------------------------------------------
    def _poll(self, documents: list[KnowledgeDocument]) -> None:
        if len(documents) > 1:
            found = self._call(documents, lambda: self._listed(documents), shared=True) or {}
            for document in documents:
                if document.scripe_job_id in found:
                    document.polls += 1
                    self._apply(document, found[document.scripe_job_id])
            documents = [d for d in documents if d.scripe_job_id not in found and not d.finished]
        for document in documents:
            snapshot = self._call(
                [document], lambda d=document: self.scripe.get_job(d.scripe_job_id)
            )
            if snapshot is not None:
                document.polls += 1
                self._apply(document, snapshot)

    def _listed(self, documents: list[KnowledgeDocument]) -> dict[str, Job]:
        """The documents' ingest jobs, from `GET /v1/jobs` pages (newest first), read only as
        far back as the oldest of them."""
        oldest = min(d.accepted_at or d.submitted_at or timezone.now() for d in documents)
        oldest -= LISTING_MARGIN
        types = sorted({KNOWLEDGE_JOB_TYPES[d.kind] for d in documents})
        listed = self.scripe.iter_jobs(type=types, date_from=f"{oldest:%Y-%m-%d}")
        wanted = {d.scripe_job_id for d in documents}
        return collect_newest_first(listed, wanted, back_to=oldest, on_item=self.lease.renew)

    # what Scripe said ------------------------------------------------------------------------
    def _apply(self, document: KnowledgeDocument, snapshot: Job) -> None:
        now = timezone.now()
        previous_estimate = snapshot_take(document, snapshot)
        document.completed_at = snapshot.completed_at or document.completed_at
        if snapshot.status == "DONE":
            if not snapshot.document_id:
                self._fail(
                    document, "no_document", gettext_noop("Scripe finished but named no document.")
                )
                return
            document.progress = 1.0
            self._finish(document, KnowledgeState.INDEXED, document_id=snapshot.document_id)
        elif snapshot.status == "FAILED":
            code = snapshot.error_code or "failed"
            reason = snapshot.error_message or code
            self._fail(
                document,
                code,
                Said(gettext_noop("Scripe could not index it: %(reason)s"), reason=reason),
            )
        elif snapshot.status == "CANCELLED":
            self._fail(document, "cancelled", gettext_noop("The ingest was cancelled in Scripe."))
        else:
            accepted = document.accepted_at or now
            if now - accepted > pacing.GIVE_UP_AFTER:
                minutes = int(pacing.GIVE_UP_AFTER.total_seconds() // 60)
                self._fail(
                    document,
                    "gave_up",
                    Said(
                        gettext_noop(
                            "Scripe did not finish within %(minutes)s minutes; we stopped "
                            "waiting. Add it again to start over."
                        ),
                        minutes=minutes,
                    ),
                )
                return
            _, document.next_poll_at = next_poll(
                document, accepted_at=accepted, now=now, previous_estimate_ms=previous_estimate
            )
            self._save(document)

    def _handle_error(self, document: KnowledgeDocument, error: ScripeError, *, place=0) -> None:
        """`place`: the document's place among those a rate-limit hold sent waiting."""
        now = timezone.now()
        connection: ScripeConnection = self.connection
        if error.code in (HELD, "rate_limited"):
            step = pacing.spacing(connection.rate_limit) or 0.5
            wait = max(error.retry_after or pacing.BACKOFF_BASE, step) + place * step
            document.next_poll_at = now + timedelta(seconds=wait)
            document.retry_reason = gettext_noop("Waiting for Scripe's rate limit to reset.")
            self._save(document)
        elif error.code in KEY_ERRORS:
            self._fail(document, error.code, credential_problem(connection, error))
        elif error.code == "spend_cap_exceeded":
            connection.note_spend_cap(error.meta)
            spent, cap = error.meta.get("spentCents"), error.meta.get("capCents")
            spend_cap_notify(workspace_id=connection.workspace_id, spent=spent, cap=cap)
            self._fail(
                document,
                error.code,
                spend_cap_sentence(
                    connection,
                    spent=spent,
                    cap=cap,
                    then=ADD_AFTER_THAT,
                    countdown=False,
                ),
            )
        elif error.retryable:
            waited = now - (document.submitted_at or now)
            if not document.scripe_job_id and waited > pacing.SUBMIT_GIVE_UP_AFTER:
                self._fail(
                    document,
                    "scripe_unreachable",
                    gettext_noop(
                        "Scripe could not be reached for 15 minutes, so nothing was indexed. "
                        "Add it again later."
                    ),
                )
                return
            document.error_streak += 1
            delay = pacing.backoff(document.error_streak, error.retry_after)
            document.next_poll_at = now + timedelta(seconds=delay)
            document.retry_reason = (
                gettext_noop("Scripe could not be reached; the calendar keeps trying on its own.")
                if error.code in UNREACHABLE_CODES
                else gettext_noop(
                    "Scripe had a temporary problem; the calendar keeps trying on its own."
                )
            )
            self._save(document)
        elif error.code == "not_found" and document.scripe_job_id:
            self._fail(
                document,
                "job_lost",
                gettext_noop("Scripe no longer knows this ingest. Add it again."),
            )
        else:
            self._fail(document, error.code, describe_error(error))

    # writing ---------------------------------------------------------------------------------
    def _save(self, document: KnowledgeDocument) -> None:
        if not document.save_progress(PROGRESS_FIELDS, lease_until=self.lease.until):
            document.finished = True  # finished elsewhere (the webhook), or no longer ours

    def _finish(self, document: KnowledgeDocument, state: str, **values) -> None:
        values.update({name: getattr(document, name) for name in PROGRESS_FIELDS})
        values.pop("next_poll_at", None)
        values.pop("retry_reason", None)
        if not document.finish(state, lease_until=self.lease.until, **values):
            document.finished = True

    def _fail(self, document: KnowledgeDocument, code: str, message: str) -> None:
        """`message`: a fixed sentence (`gettext_noop`), Scripe's words, or a `Said`."""
        text, params = stored(message, 500)
        self._finish(
            document,
            KnowledgeState.FAILED,
            error_code=code[:60],
            error_message=text,
            error_params=params,
        )


def _workspace_wide(error: ScripeError) -> bool:
    return (
        error.code in (HELD, "rate_limited")
        or error.code in KEY_ERRORS
        or error.code in UNREACHABLE_CODES
    )


def _send(document: KnowledgeDocument, scripe: ScripeClient) -> Job:
    document.submitted_at = document.submitted_at or timezone.now()
    document.submit_tries += 1
    content = {"text": document.text, "file": document.upload_id}.get(document.kind, document.url)
    return scripe.add_knowledge(
        document.kind,
        content,
        idempotency_key=document.idempotency_key,
        project_id=document.project.scripe_id if document.project_id else None,
        name=document.name,
    )
