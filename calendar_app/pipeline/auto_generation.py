"""Auto-generation: the every-minute sweep sends drafts to Scripe ahead of their time, for
workspaces that ask for it (`auto_generate_hours`), within the day's spend cap."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from calendar_app.core.refusals import Refusal
from calendar_app.models import (
    PlannedSlot,
    Project,
    SlotStatus,
    Workspace,
)
from calendar_app.pipeline.generation import generation_request
from calendar_app.pipeline.spend import spend_today
from calendar_app.planning.scheduling import MIN_LEAD
from scripe_integration.plans import GENERATION_CENTS

# Auto-generation sends at most this many drafts per workspace per sweep (every minute).
AUTO_BATCH = 50


def auto_generations_sweep(*, now: datetime | None = None) -> int:
    """For workspaces that ask for it (`auto_generate_hours`), sends drafts whose time is
    within that many hours (and more than the planning lead away) to Scripe, once a slot:
    the mark `auto_generated_at` is set by a conditional UPDATE in the same transaction as
    the request, so two sweeps never send one draft twice, and a refused request leaves it
    unmarked for a later minute. Never after Scripe's 402 for the day, and never beyond the
    estimated cap: manual generation may spend the rest, not this. Returns how many it sent."""
    now = now or timezone.now()
    workspaces = list(Workspace.objects.filter(auto_generate_hours__gt=0).select_related("scripe"))
    if not workspaces:
        return 0
    spends = spend_today(workspaces, now=now)
    sent = 0
    for workspace in workspaces:
        connection = getattr(workspace, "scripe", None)
        if connection is None or connection.blocks_generation:
            continue
        spend = spends[workspace.pk]
        if spend.reached_until is not None:
            continue
        room = None if spend.cap_cents is None else spend.left_cents // GENERATION_CENTS
        due = (
            PlannedSlot.objects.alive()
            .filter(
                workspace=workspace,
                status=SlotStatus.DRAFT,
                auto_generated_at__isnull=True,
                scheduled_for__gt=now + MIN_LEAD,
                scheduled_for__lte=now + timedelta(hours=workspace.auto_generate_hours),
                project__status=Project.Status.ACTIVE,
                project__missing_from_scripe=False,
            )
            .select_related("project", "workspace__scripe")
            .order_by("scheduled_for", "id")[:AUTO_BATCH]
        )
        for slot in due:
            if room is not None and room <= 0:
                break
            try:
                with transaction.atomic():
                    marked = PlannedSlot.objects.filter(
                        pk=slot.pk, status=SlotStatus.DRAFT, auto_generated_at__isnull=True
                    ).update(auto_generated_at=now)
                    if not marked:
                        continue
                    generation_request(slot=slot)
            except Refusal:
                # Nothing was sent and the mark rolled back. The cap or the key stops the
                # rest of this workspace; anything else stops this slot, this minute.
                connection.refresh_from_db(fields=["spend_cap_meta", "key_state"])
                if connection.spend_cap_reached_until or connection.blocks_generation:
                    break
                continue
            sent += 1
            if room is not None:
                room -= 1
    return sent
