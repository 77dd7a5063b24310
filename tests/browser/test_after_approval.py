"""After approval: what Scripe does shows on an open page, and a manager moves a scheduled
post by dragging its card, with Undo."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from calendar_app.models import PlannedSlot
from calendar_app.pipeline.generation import generation_request
from calendar_app.pipeline.sync import syncs_due
from calendar_app.review.services import slot_approve
from tests.browser.test_journeys import plan
from tests.support import generation_finish, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
BERLIN = ZoneInfo("Europe/Berlin")


def post_status(sandbox, slot) -> str:
    with sandbox.client() as scripe:
        return scripe.get_post(slot.current_job.post_id).status


def approved(team, when) -> PlannedSlot:
    slot = plan(team, when, text="Lessons from our first advisory board.")
    generation_finish(generation_request(slot=slot).pk)
    slot_approve(slot=PlannedSlot.objects.get(pk=slot.pk), user=team.manager)
    return PlannedSlot.objects.get(pk=slot.pk)


# Only written drafts are needed, not a generation to watch.
@pytest.mark.sandbox(generation_seconds=(0.3, 0.6))
def test_11_a_post_that_goes_out_turns_published_on_the_open_page(journey):
    when = (timezone.now() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    slot = approved(journey.team, when)
    page = journey.page_for(journey.team.editor)
    page.goto(f"{journey.url}/calendar/day/{timezone.localtime(when, BERLIN):%Y-%m-%d}/")
    navigations = []
    page.on("framenavigated", lambda f: f == page.main_frame and navigations.append(f.url))
    badge = page.locator(f"#slot-{slot.public_id} .badge")
    assert badge.inner_text() == "Scheduled"

    # Its time comes in Scripe, which publishes it; the sweep reads that back.
    went_out = timezone.now() - timedelta(seconds=1)
    journey.sandbox.dashboard_edit(
        slot.current_job.post_id, scheduledAt=went_out.isoformat().replace("+00:00", "Z")
    )
    # Until Scripe has published it, the sweep would read a post still scheduled and the
    # badge below would never change: fail here, saying why, and not 30 s later.
    wait_for(lambda: post_status(journey.sandbox, slot) == "published", 30, "Scripe to publish")
    assert syncs_due() >= 1  # what the every-minute sweep does
    page.locator(f"#slot-{slot.public_id} .badge:has-text('Published')").wait_for(timeout=30_000)
    assert "Went out" in page.inner_text(f"#slot-{slot.public_id}")
    assert navigations == []  # no reload


# Only written drafts are needed, not a generation to watch.
@pytest.mark.sandbox(generation_seconds=(0.3, 0.6))
def test_12_a_manager_drags_a_scheduled_post_to_another_day_and_undoes_it(journey):
    when = (timezone.now() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    slot = approved(journey.team, when)
    local = timezone.localtime(when, BERLIN)
    page = journey.page_for(journey.team.manager)
    # The month: a drop on a day keeps the time (on the week's hourly grid it sets the hour).
    page.goto(f"{journey.url}/calendar/{local.year}/{local.month}/")
    card = page.locator(f"#slot-{slot.public_id}")
    target = local.date() + timedelta(days=1)
    if not page.locator(f".day[data-date='{target}']").count():
        target = local.date() - timedelta(days=1)
    card.drag_to(page.locator(f".day[data-date='{target}']"))
    page.locator("#toasts >> text=Rescheduled to").wait_for()
    # The toast comes with the answer, the grid after it: until the card shows on its new day,
    # the old grid still holds it on the first, which the Undo below looks for.
    page.locator(f".day[data-date='{target}'] #slot-{slot.public_id}").wait_for()
    moved = PlannedSlot.objects.get(pk=slot.pk)
    assert timezone.localtime(moved.scheduled_for, BERLIN).date() == target
    assert timezone.localtime(moved.scheduled_for, BERLIN).time() == local.time()
    with journey.sandbox.client() as scripe:
        assert scripe.get_post(slot.current_job.post_id).scheduled_at == moved.scheduled_for

    page.click("#toasts button:has-text('Undo')")
    page.locator(f".day[data-date='{local.date()}'] #slot-{slot.public_id}").wait_for()
    assert PlannedSlot.objects.get(pk=slot.pk).scheduled_for == when
    with journey.sandbox.client() as scripe:
        assert scripe.get_post(slot.current_job.post_id).scheduled_at == when
