"""Which moments of a post are which webhook events: the trail's entries, through one table."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from calendar_app.models import WebhookDelivery, WebhookEvent
from calendar_app.outbound import events, services
from calendar_app.planning.services import slot_move
from calendar_app.review.services import slot_approve, slot_reject, slot_request_changes
from tests.support import written_draft


@pytest.fixture
def everything(team, monkeypatch, settings):
    """An endpoint of the team's workspace subscribed to every event; nothing is sent."""
    settings.OUTGOING_WEBHOOKS_ALLOW_LOCAL = True
    monkeypatch.setattr(events, "enqueue", lambda pks: None)
    services.endpoint_create(
        workspace=team.workspace,
        user=team.admin,
        url="http://127.0.0.1:9/hooks",
        events=list(WebhookEvent.values),
    )


def _told() -> list[str]:
    return list(WebhookDelivery.objects.order_by("id").values_list("event_type", flat=True))


def test_a_written_and_approved_post_is_ready_then_approved_and_scheduled(team, wired, everything):
    slot = written_draft(team)
    assert _told() == ["draft.ready"]
    slot_approve(slot=slot, user=team.manager)
    assert _told() == ["draft.ready", "post.approved", "post.scheduled"]
    # One event id per event, the same for every endpoint told of it.
    assert len(set(WebhookDelivery.objects.values_list("event_id", flat=True))) == 3


def test_a_rejected_draft_is_post_rejected(team, wired, everything):
    slot = written_draft(team)
    slot_reject(slot=slot, user=team.manager, reason="Off topic.")
    assert _told() == ["draft.ready", "post.rejected"]


def test_an_edit_is_post_changed(team, everything):
    from calendar_app.notifications.trail import Kind, record

    on_grid = (timezone.now() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    slot = team.slot(on_grid)
    record(slot, kind=Kind.STATUS, actor=team.editor, text="Planned.")
    zone = team.workspace.zone
    slot_move(
        slot=slot,
        day=(slot.scheduled_for + timedelta(days=1)).astimezone(zone).date(),
        zone=zone,
        user=team.editor,
    )
    assert _told() == ["post.planned", "post.changed"]


def test_a_request_for_changes_is_changes_requested(team, wired, everything):
    slot = written_draft(team)
    slot_request_changes(slot=slot, user=team.manager, comment="Shorter, please.")
    assert _told() == ["draft.ready", "changes.requested"]
