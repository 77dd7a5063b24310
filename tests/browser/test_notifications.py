"""The bell in a real browser: its count arrives after the page, goes up without a reload when
someone else's decision concerns you (the page's own live request brings it), and Mark read
brings it down."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from calendar_app.models import Notification, SlotStatus
from tests.browser.test_journeys import plan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_bell_counts_up_live_and_down_on_mark_read(journey):
    team = journey.team
    slot = plan(team, timezone.now() + timedelta(days=2), text="A post Max will turn down.")
    page = journey.page_for(team.editor)
    bell = page.locator("#bell")
    bell.locator("xpath=self::*[@data-bell-count='0']").wait_for()  # loaded after the page
    polls = []
    page.on("request", lambda r: "/slots/live/" in r.url and polls.append(r.url))

    # A manager rejects a draft the editor planned: the editor is told, live.
    Notification.objects.create(
        user=team.editor,
        workspace=team.workspace,
        slot=slot,
        kind="rejected",
        text="Rejected: Lena Fischer (by Max)",
        detail="Not our voice.",
    )
    page.locator("#bell .count").wait_for(timeout=30_000)  # one heartbeat
    assert page.inner_text("#bell .count") == "1"
    assert any("bell=0" in url for url in polls)
    assert slot.status == SlotStatus.DRAFT

    page.click("#bell")
    page.wait_for_url(f"{journey.url}/notifications/")
    item = page.locator(".notification-unread")
    assert "Rejected: Lena Fischer (by Max)" in item.inner_text()
    item.get_by_role("button", name="Mark read").click()
    page.locator(".notification-unread").wait_for(state="detached")
    page.locator("#bell[data-bell-count='0']").wait_for()
    assert page.locator("#bell .count").count() == 0
    page.get_by_role("link", name="Rejected: Lena Fischer (by Max)").click()
    page.wait_for_url(f"{journey.url}/slots/{slot.public_id}/")
    # The slot page's watch button arrives after the page; the creator hears anyway.
    page.get_by_text("You planned this post").wait_for()
