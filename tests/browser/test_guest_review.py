"""A client reviews a draft through the link a manager shared (#17, #24): opens it with no
account, comments, approves, in Chromium; the manager and the post's editor are told, with
the client's name. The test client sends no Origin with a form, so it
could not see the browser's `Origin: null` under `Referrer-Policy: no-referrer`, which the
CSRF check refused (403) on every guest form."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from calendar_app.models import PlannedSlot, ReviewLink, SlotEvent
from calendar_app.pipeline.generation import generation_request
from tests.browser.test_journeys import plan
from tests.support import generation_finish

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.sandbox(generation_seconds=(0.3, 0.6))
def test_a_client_comments_on_and_approves_a_shared_draft(journey):
    team = journey.team
    slot = plan(team, timezone.now() + timedelta(days=2), text="Why we hire slowly.")
    generation_finish(generation_request(slot=slot).pk)
    slot = PlannedSlot.objects.get(pk=slot.pk)

    manager = journey.page_for(team.manager)
    manager.goto(f"{journey.url}/review/?slot={slot.public_id}")
    manager.get_by_role("button", name="Create review link").click()
    url = manager.locator(".share-url").input_value()
    assert url.startswith(f"{journey.url}/r/")

    guest = journey.page_for(None)
    guest.goto(url)
    assert slot.current_job.post_content[:40] in guest.inner_text(".li-preview")
    guest.fill("#guest-comment-name", "Anna Weber")
    guest.fill("#guest-comment", "Less jargon in the second paragraph, please.")
    guest.get_by_role("button", name="Send comment").click()
    guest.get_by_text("Thank you: your comment was sent to the team.").wait_for()
    comment = SlotEvent.objects.get(slot=slot, kind="comment")
    assert (comment.who, comment.text) == (
        "guest Anna Weber",
        "Less jargon in the second paragraph, please.",
    )
    # The manager, still on the review page, is told: the bell rings with the next heartbeat,
    # and its list names the client and quotes the comment.
    manager.locator("#bell[data-bell-count='2']").wait_for()  # the draft, and the comment
    manager.click("#bell")
    told = manager.locator(".notification", has_text="Client comment")
    assert "(by guest Anna Weber)" in told.inner_text()
    assert "Less jargon in the second paragraph, please." in told.inner_text()

    # The name given with the comment is offered again.
    assert guest.input_value("#guest-name") == "Anna Weber"
    guest.get_by_role("button", name="Approve this post").click()
    guest.get_by_text("This post is approved. Thank you.").wait_for()
    slot.refresh_from_db()
    assert slot.status == "scheduled"
    assert SlotEvent.objects.get(slot=slot, status="scheduled").who == "guest Anna Weber"
    with journey.sandbox.client() as scripe:
        assert scripe.get_post(slot.current_job.post_id).status == "scheduled"
    assert ReviewLink.objects.get(slot=slot).last_used_at is not None

    # The editor who planned it hears who approved it, and of the client's comment.
    editor = journey.page_for(team.editor)
    editor.goto(f"{journey.url}/notifications/")
    approved = editor.locator(".notification", has_text="Approved and scheduled")
    assert "(by guest Anna Weber)" in approved.inner_text()
    assert editor.locator(".notification", has_text="Client comment").count() == 1

    # A manager looking at what the client sees is still in the app: its header's form (Log
    # out) posts from the guest page too.
    manager.goto(url)
    manager.get_by_text("This post is approved. Thank you.").wait_for()
    manager.get_by_role("button", name="Log out").click()
    manager.wait_for_url(f"{journey.url}/accounts/login/")
