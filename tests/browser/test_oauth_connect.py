"""Connecting a workspace with Scripe by OAuth, in Chromium: the admin presses "Connect with
Scripe", approves on the sandbox's consent page, comes back connected, and a post generated
afterwards is written through the OAuth token (the workspace's key is gone, and revoked in
Scripe too)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from calendar_app.models import PlannedSlot, Project, SourceNote
from scripe_integration.models import ScripeConnection
from tests.calendar_app.test_admin import grant
from tests.scripe_integration.oauth_support import oauth_stats

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.sandbox(generation_seconds=(0.3, 0.6))
def test_an_admin_connects_with_scripe_and_a_post_is_generated_through_the_token(journey):
    team = journey.team
    grant(team.admin, "view", "change", "add", "delete")  # staff, admin of Acme only
    page = journey.page_for(team.admin)
    page.goto(f"{journey.url}/admin/calendar_app/workspace/{team.workspace.pk}/change/")
    page.locator("#scripe-0 >> text=No: the API key below is used.").wait_for()

    page.click("button:has-text('Connect with Scripe')")
    page.wait_for_url(f"{journey.sandbox.root_url}/oauth/authorize?**")
    page.get_by_role("heading", name="Authorize access to Scripe").wait_for()
    assert "posts:write" in page.inner_text("body")
    page.get_by_role("button", name="Approve").click()

    page.wait_for_url(f"{journey.url}/admin/calendar_app/workspace/{team.workspace.pk}/change/")
    page.locator(
        ".messagelist >> text=Connected with Scripe: workspace Sandbox Workspace"
    ).wait_for()
    page.locator("#scripe-0 >> text=Yes (OAuth), to Scripe workspace Sandbox Workspace").wait_for()
    page.locator("button:has-text('Disconnect from Scripe')").wait_for()
    connection = ScripeConnection.objects.get(workspace=team.workspace)
    assert connection.uses_oauth and not connection.has_key
    assert "scripe_oat_" not in page.content() and "scripe_ort_" not in page.content()
    journey.sandbox.revoke(journey.sandbox.key)  # nothing can be written with the old key

    # An editor generates a post: Scripe is reached with the OAuth token.
    when = timezone.now() + timedelta(days=2)
    project = Project.objects.get(workspace=team.workspace, name="Lena Fischer")
    note = SourceNote.objects.create(
        workspace=team.workspace, text="One question at checkout.", author=team.editor
    )
    slot = PlannedSlot.objects.create(
        workspace=team.workspace,
        project=project,
        note=note,
        scheduled_for=when,
        created_by=team.editor,
    )
    editor = journey.page_for(team.editor)
    editor.goto(f"{journey.url}/calendar/day/{timezone.localtime(when, BERLIN):%Y-%m-%d}/")
    card = editor.locator(f"#slot-{slot.public_id}")
    card.locator(".slot-open").click()
    editor.click("dialog button:has-text('Generate')")
    card.locator(".badge:has-text('Ready for review')").wait_for(timeout=30_000)
    card.locator(".slot-open").click()
    editor.locator("dialog[open] .draft-text").wait_for()
    assert "One question at checkout." in editor.inner_text("dialog .draft-text")
    assert not any(grant["revoked"] for grant in oauth_stats(journey.sandbox)["grants"])
