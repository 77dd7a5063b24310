"""Scripe's webhooks, as an accelerator: polling (`sync.py`, the generation dispatcher) is the
floor and gives the same results, later; a webhook only makes them sooner.

Receiving answers fast and does nothing but verify and store: the library checks the
signature with the workspace's endpoint secret(s) and a timestamp tolerance, and stores each
event once per event id, so a replayed delivery is answered 2xx and changes nothing. A task
(enqueued on commit, taking the stored delivery's id) then applies it:

- `post.updated` / `post.scheduled` / `post.unscheduled`: the slot whose current attempt
  wrote that post follows Scripe's copy through `sync.post_follow`, the same function the
  sync uses (a copy older than the last one applied changes nothing);
- `job.completed` / `job.failed`: the unfinished attempt (or source or knowledge-base ingest,
  #26) with that Scripe job is made due now, so a dispatcher hands it to a task at once. The
  job in the payload is not applied here: the pipeline owns an attempt's transitions and reads
  the job itself.
- `knowledge.indexed`: the document is indexed, which is all the event can say; the
  document still indexing for that ingest job (or with that `kb_` id) is marked indexed at
  once, by the same conditional UPDATE the ingest's poll uses, so only one of them does.

A webhook for a post or job the calendar does not know changes nothing and is logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from calendar_app.core import metrics
from calendar_app.models import (
    GenerationJob,
    KnowledgeDocument,
    KnowledgeState,
    PlannedSlot,
    Source,
)
from calendar_app.pipeline.sync import post_follow
from scripe_integration.contract import ScripeError
from scripe_integration.models import WebhookDelivery
from scripe_integration.services import (
    JOB_EVENTS,
    KNOWLEDGE_EVENTS,
    POST_EVENTS,
    SUBSCRIBED_EVENTS,
    WebhookRefused,
    webhook_accept,
)
from scripe_integration.webhooks import WebhookEvent, parse_event

logger = logging.getLogger(__name__)

TASK = "calendar_app.tasks.apply_scripe_webhook"


@dataclass(frozen=True)
class Receipt:
    """What the receiver answers Scripe."""

    status: int
    answer: dict = field(default_factory=dict)


def webhook_receive(*, public_id, body: bytes, signature: str | None) -> Receipt:
    """Verifies and stores one delivery and enqueues its application once the transaction
    commits. Never applies anything itself, so Scripe gets its 2xx fast. A refusal (unknown
    endpoint, bad or old signature, not an event) stores nothing and is logged in one line."""
    try:
        delivery, created = webhook_accept(public_id=public_id, body=body, header=signature)
    except WebhookRefused as refusal:
        logger.warning(
            "Scripe webhook refused (%s): endpoint %s, %d bytes",
            refusal.reason,
            public_id,
            len(body),
        )
        metrics.SCRIPE_WEBHOOKS_IN.labels("refused").inc()
        return Receipt(refusal.status, {"error": refusal.reason})
    answer = {"event": delivery.event_id}
    metrics.SCRIPE_WEBHOOKS_IN.labels("accepted" if created else "duplicate").inc()
    if not created:
        logger.info(
            "Scripe webhook %s %s received again: ignored", delivery.type, delivery.event_id
        )
        return Receipt(200, {**answer, "duplicate": True})
    if delivery.type in SUBSCRIBED_EVENTS:
        transaction.on_commit(lambda: enqueue(delivery.pk))
    else:
        delivery.mark_processed("not an event the calendar follows")
    return Receipt(200, answer)


def enqueue(delivery_id: int) -> None:
    from django_q.tasks import async_task

    async_task(TASK, delivery_id, task_name=f"scripe-webhook-{delivery_id}", group="webhooks")


def webhook_apply(*, delivery_id: int) -> str:
    """Applies a stored delivery once (a retried task finds it processed and stops). Returns
    what it did, in words, also kept on the delivery."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .select_related("connection")
            .filter(pk=delivery_id, processed_at__isnull=True)
            .first()
        )
        if delivery is None:
            return ""
        workspace_id = delivery.connection.workspace_id
        try:
            event = parse_event(delivery.body.encode())
            if event.type in POST_EVENTS:
                outcome = _post_event(workspace_id, event)
            elif event.type in JOB_EVENTS:
                outcome = _job_event(workspace_id, event)
            elif event.type in KNOWLEDGE_EVENTS:
                outcome = _knowledge_event(workspace_id, event)
            else:
                outcome = "not an event the calendar follows"
        except (ValueError, ScripeError) as error:
            # Signed by Scripe but not readable as the contract's object: nothing to apply.
            outcome = f"unreadable ({error.__class__.__name__})"
            logger.warning("Scripe webhook %s could not be read: %s", delivery.event_id, outcome)
        delivery.mark_processed(outcome)
    return outcome


def _post_event(workspace_id: int, event: WebhookEvent) -> str:
    post = event.post
    slot = (
        PlannedSlot.objects.alive()
        .filter(workspace_id=workspace_id, jobs__is_current=True, jobs__post_id=post.id)
        .for_cards()
        .select_related("workspace")
        .first()
    )
    if slot is None:
        logger.info(
            "Scripe webhook %s %s: post %s is not one the calendar follows; nothing changed",
            event.type,
            event.id,
            post.id,
        )
        return f"unknown post {post.id}: nothing changed"
    said = post_follow(slot, post)
    return f"post {slot.public_id}: {said or 'nothing changed'}"


def _job_event(workspace_id: int, event: WebhookEvent) -> str:
    job = event.job
    due = GenerationJob.objects.filter(
        slot__workspace_id=workspace_id, scripe_job_id=job.id, finished=False
    )
    # The dispatcher hands attempts whose next step is due; this one's is now.
    if due.update(next_poll_at=timezone.now(), dispatched_at=None):
        return f"attempt for {job.id} due now"
    ingest = Source.objects.filter(workspace_id=workspace_id, scripe_job_id=job.id, finished=False)
    if ingest.update(next_poll_at=timezone.now(), dispatched_at=None):
        return f"source ingest {job.id} due now"
    ingest = KnowledgeDocument.objects.filter(
        workspace_id=workspace_id, scripe_job_id=job.id, finished=False
    )
    if ingest.update(next_poll_at=timezone.now(), dispatched_at=None):
        return f"knowledge ingest {job.id} due now"
    known = GenerationJob.objects.filter(slot__workspace_id=workspace_id, scripe_job_id=job.id)
    if known.exists():
        return f"attempt for {job.id} already finished"
    logger.info(
        "Scripe webhook %s %s: job %s is not one the calendar follows; nothing changed",
        event.type,
        event.id,
        job.id,
    )
    return f"unknown job {job.id}: nothing changed"


def _knowledge_event(workspace_id: int, event: WebhookEvent) -> str:
    indexed = event.document
    documents = KnowledgeDocument.objects.filter(
        workspace_id=workspace_id, state=KnowledgeState.INDEXING
    )
    if indexed.job_id:
        documents = documents.filter(scripe_job_id=indexed.job_id)
    else:
        documents = documents.filter(document_id=indexed.id)
    document = documents.first()
    if document is None:
        logger.info(
            "Scripe webhook %s %s: document %s is not one the calendar follows or is done",
            event.type,
            event.id,
            indexed.id,
        )
        return f"document {indexed.id}: nothing changed"
    if not document.finish(
        KnowledgeState.INDEXED,
        document_id=indexed.id,
        scripe_status="DONE",
        progress=1.0,
        completed_at=event.created_at or timezone.now(),
    ):
        return f"document {indexed.id}: already finished"
    return f"document {document.public_id}: indexed"


def signature_header() -> str:
    return settings.SCRIPE_WEBHOOK_SIGNATURE_HEADER
