"""django-q2 tasks. They take ids and call services; the services hold the logic."""

from __future__ import annotations

from calendar_app.api.events import post_event_body, source_ready_data
from calendar_app.api.idempotency import idempotency_forget
from calendar_app.bulk import services as bulk
from calendar_app.knowledge.ingest import knowledge_advance
from calendar_app.models import Workspace
from calendar_app.notifications.services import (
    notification_digest_send,
    notification_email_send,
    notification_emails_sweep,
    notifications_digest,
    webhook_disabled_notify,
)
from calendar_app.outbound.events import source_ready_emit
from calendar_app.outbound.services import deliveries_forget, deliveries_wake, delivery_send
from calendar_app.pipeline.auto_generation import auto_generations_sweep
from calendar_app.pipeline.dispatch import generations_sweep
from calendar_app.pipeline.generation import generation_advance, generations_advance
from calendar_app.pipeline.suggestions import suggestions_due
from calendar_app.pipeline.sync import missed_sweep, scripe_sync, syncs_due
from calendar_app.pipeline.webhooks import webhook_apply
from calendar_app.planning.series import series_materialise_all
from calendar_app.portability.services import exports_forget, workspace_export_build
from calendar_app.review.services import approvals_sweep
from calendar_app.sources.ingest import sources_advance
from scripe_integration.services import webhook_deliveries_forget, webhook_refusals_forget


def advance_generations(job_ids: list[int]) -> None:
    generations_advance(job_ids)


def advance_knowledge(document_ids: list[int]) -> None:
    """Knowledge-base ingests' due steps (#26), handed on by the same dispatcher."""
    knowledge_advance(document_ids)


def advance_sources(source_ids: list[int]) -> None:
    """Sources' next steps to Scripe (#26): upload, ingest, reading what Scripe found."""
    sources_advance(source_ids)


def advance_generation(job_id: int) -> None:
    """The task's earlier, one-attempt form: tasks queued before an upgrade still run."""
    generation_advance(job_id)


def sync_workspace(workspace_id: int) -> str:
    """Sync now, for a manager: reads back the workspace's followed posts from Scripe."""
    workspace = Workspace.objects.filter(pk=workspace_id).first()
    return scripe_sync(workspace=workspace).sentence() if workspace else "No such workspace."


def sweep() -> dict[str, int]:
    """Every minute: hands on due generations (in case no dispatcher runs), settles approvals
    interrupted mid-call, reads back from Scripe what happened to approved posts and its
    suggestions (#26), marks drafts whose time passed in review as missed, forgets old webhook
    deliveries, refusal counts and the API's expired Idempotency-Key answers, sends drafts to
    Scripe where a workspace generates them automatically ahead of their time, hands on
    notification emails a stopped worker left, and enqueues the outgoing webhook deliveries
    due again (and forgets month-old ones), and deletes export archives past their day."""
    return {
        "generations": generations_sweep(),
        "approvals": approvals_sweep(),
        "synced_projects": syncs_due(),
        "suggestions_read": suggestions_due(),
        "missed": missed_sweep(),
        "forgotten_deliveries": webhook_deliveries_forget(),
        "forgotten_refusal_counts": webhook_refusals_forget(),
        "auto_generated": auto_generations_sweep(),
        "emails_handed_on": notification_emails_sweep(),
        "forgotten_idempotency_keys": idempotency_forget(),
        "webhook_deliveries": deliveries_wake(),
        "forgotten_webhook_deliveries": deliveries_forget(),
        "expired_exports": exports_forget(),
    }


def apply_scripe_webhook(delivery_id: int) -> str:
    """Applies one stored Scripe webhook delivery (calendar_app/pipeline/webhooks.py)."""
    return webhook_apply(delivery_id=delivery_id)


# Notifications (#17) ---------------------------------------------------------------------------


def send_notification_email(notification_id: int) -> str:
    """Sends one notification's email; a failure schedules this task again, with backoff."""
    return notification_email_send(notification_id=notification_id)


def send_notification_digest(user_id: int) -> str:
    """One person's digest, again after a failed send."""
    return notification_digest_send(user_id=user_id)


def notification_digests() -> int:
    """Daily (a schedule made by migration 0010): each person's digest email."""
    return notifications_digest()


# Planning at volume (#15) ----------------------------------------------------------------------


def materialise_series() -> int:
    """Hourly (a schedule made by migration 0015): each live recurring series' occurrences,
    a rolling eight weeks ahead; running it twice plans nothing twice."""
    return series_materialise_all()


# Bulk actions (#16) ----------------------------------------------------------------------------


def bulk_run_advance(run_id: int) -> int:
    """Works through a bulk run's slots for a while; the rest goes to a new task."""
    return bulk.bulk_run_advance(run_id)


def send_webhook(delivery_id: int) -> str:
    """One attempt of an outgoing webhook delivery (calendar_app/outbound/services.py); the
    body is the API's representation, built here, above the API, at the first attempt. When
    this attempt turned its endpoint off, the workspace's admins are told."""
    sent = delivery_send(delivery_id=delivery_id, body_for=post_event_body)
    if sent.disabled is not None:
        webhook_disabled_notify(
            workspace_id=sent.disabled.workspace_id,
            url=sent.disabled.url,
            reason=sent.disabled.disabled_reason,
        )
    return sent.outcome


def announce_source_ready(source_id: int) -> int:
    """The webhook source.ready for a source that just became ready: its API representation,
    built here, above the API, and queued to every endpoint listening; returns how many."""
    found = source_ready_data(source_id)
    if found is None:
        return 0
    workspace, data = found
    return len(source_ready_emit(workspace=workspace, source=data))


def build_workspace_export(export_id: int) -> str:
    """Writes a workspace's export archive (asked for on the exports page)."""
    return workspace_export_build(export_id=export_id)
